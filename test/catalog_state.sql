-- The rows pg_dump keeps of pubdata's configuration tables, one line per
-- table (its dumped rows: count and digest) and per sequence (its position),
-- for comparing a database with its restored copy.  An item's column number
-- is shown as the column it names (a restored table has no gap where a
-- column was dropped); generated columns (oids) are left out.
--	psql -At -f test/catalog_state.sql
-- Timestamps are shown in UTC, whatever the server's time zone.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT CASE WHEN k.relkind = 'S'
		THEN format('SELECT %L || '' '' || last_value || '' '' || is_called FROM %s', x.rel::text, x.rel)
		ELSE format($q$SELECT %L || ' ' || count(*) || ' ' || coalesce(md5(string_agg(r, E'\n' ORDER BY r)), '-')
					  FROM (SELECT ROW(%s)::text AS r FROM %s t %s) s$q$,
				   x.rel::text,
				   (SELECT string_agg(CASE WHEN x.rel::text = 'pubdata.resource_item' AND a.attname = 'attnum'
										   THEN '(SELECT y.attname FROM pg_attribute y WHERE y.attrelid = (SELECT r.relation FROM pubdata.resource r WHERE r.id = t.resource_id) AND y.attnum = t.attnum)'
										   ELSE 't.' || quote_ident(a.attname) END, ', ' ORDER BY a.attnum)
					  FROM pg_attribute a WHERE a.attrelid = x.rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
				   x.rel, coalesce(x.cond, ''))
	   END
  FROM pg_extension e, unnest(e.extconfig::regclass[], e.extcondition) AS x(rel, cond)
  JOIN pg_class k ON k.oid = x.rel
 WHERE e.extname = 'pubdata'
 ORDER BY x.rel::text
\gexec
