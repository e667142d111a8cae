-- ---------------------------------------------------------------------------
-- The access audit at volume (issue 18): reads that skip what they do not
-- need (src/audit_query.c), per-day usage summaries kept by the launcher,
-- and a benchmark helper.
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata._audit_records_where(
	since timestamptz, before timestamptz, after_seq bigint, upto_seq bigint,
	of_resource text, of_department text, of_role text, of_grant bigint,
	OUT seq bigint, OUT at timestamptz, OUT database oid, OUT role_name text,
	OUT department_id integer, OUT department_code text, OUT resources text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT hash text, OUT grants text, OUT outcome text, OUT statement text, OUT masked text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_records_where';
COMMENT ON FUNCTION pubdata._audit_records_where(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint) IS
	'The audit records of this database that can give an access_log row matching every filter given (NULL: none), reading only the segments that can hold them (internal: use pubdata.audit_records)';

-- _access_rows: access_log's rows of the records _audit_records_where picks,
-- with the row filters applied exactly as a WHERE on access_log would
CREATE OR REPLACE FUNCTION pubdata._access_rows(
	since timestamptz, before timestamptz, after_seq bigint, upto_seq bigint,
	resource text, department text, role_name text, grant_id bigint)
	RETURNS SETOF pubdata.access_log
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.at, r.role_name, r.department_code, res.resource,
		   CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END,
		   r.purpose, r.command, r.query_id, r.rows, r.seq, r.hash,
		   g.ids, r.outcome, r.statement, NULLIF(res.masked, ''), pubdata._audit_server_of(r.seq)
	  FROM pubdata._audit_records_where($1, $2, $3, $4, $5, $6, $7, $8) r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.grants, ';')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS res(resource, grant_group, masked) ON true
	  LEFT JOIN LATERAL (SELECT pg_catalog.string_to_array(NULLIF(res.grant_group, ''), ',')::bigint[] AS ids) g ON true
	 WHERE ($5 IS NULL OR res.resource OPERATOR(pg_catalog.=) $5)
	   AND ($8 IS NULL OR $8 OPERATOR(pg_catalog.=) (CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END)
			OR $8 OPERATOR(pg_catalog.=) ANY (g.ids))
$$;
COMMENT ON FUNCTION pubdata._access_rows(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint) IS
	'access_log rows from the records after after_seq up to upto_seq, in a time range, by resource, department, role or grant (internal)';

-- _shipped_access_rows: access_log's rows of the records standbys shipped
-- here, in a time range, by resource, department, role or grant (a scan of
-- the shipped chains: they hold the standbys' reads only)
CREATE OR REPLACE FUNCTION pubdata._shipped_access_rows(
	since timestamptz, before timestamptz, resource text, department text, role_name text, grant_id bigint)
	RETURNS SETOF pubdata.access_log
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.at, r.role_name, r.department_code, res.resource,
		   CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END,
		   r.purpose, r.command, r.query_id, r.rows, r.seq, r.hash,
		   g.ids, r.outcome, r.statement, NULLIF(res.masked, ''), r.server
	  FROM pubdata._audit_shipped_records() r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.grants, ';')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS res(resource, grant_group, masked) ON true
	  LEFT JOIN LATERAL (SELECT pg_catalog.string_to_array(NULLIF(res.grant_group, ''), ',')::bigint[] AS ids) g ON true
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
											  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	   AND ($1 IS NULL OR r.at OPERATOR(pg_catalog.>=) $1)
	   AND ($2 IS NULL OR r.at OPERATOR(pg_catalog.<) $2)
	   AND ($3 IS NULL OR res.resource OPERATOR(pg_catalog.=) $3)
	   AND ($4 IS NULL OR r.department_code OPERATOR(pg_catalog.=) $4)
	   AND ($5 IS NULL OR r.role_name OPERATOR(pg_catalog.=) $5)
	   AND ($6 IS NULL OR $6 OPERATOR(pg_catalog.=) (CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END)
			OR $6 OPERATOR(pg_catalog.=) ANY (g.ids))
$$;
COMMENT ON FUNCTION pubdata._shipped_access_rows(timestamptz, timestamptz, text, text, text, bigint) IS
	'access_log rows of the audit records standbys shipped here, in a time range, by resource, department, role or grant (internal)';

CREATE OR REPLACE FUNCTION pubdata.audit_records(
	since timestamptz, before timestamptz,
	resource text DEFAULT NULL, department text DEFAULT NULL,
	role_name text DEFAULT NULL, grant_id bigint DEFAULT NULL)
	RETURNS SETOF pubdata.access_log
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT * FROM pubdata._access_rows($1, $2, NULL, NULL, $3, $4, $5, $6)
	UNION ALL
	SELECT * FROM pubdata._shipped_access_rows($1, $2, $3, $4, $5, $6)
$$;
COMMENT ON FUNCTION pubdata.audit_records(timestamptz, timestamptz, text, text, text, bigint) IS
	'The rows of access_log with since <= at < before (NULL: unbounded) and the resource, department, role and grant given (NULL: any; a grant matches grant_id or any of grant_ids), reading only the audit segments of that time';

-- my_audit_records: my_access_log's rows in a time range, filtered the same way
CREATE OR REPLACE FUNCTION pubdata.my_audit_records(
	since timestamptz, before timestamptz,
	resource text DEFAULT NULL, department text DEFAULT NULL,
	role_name text DEFAULT NULL, grant_id bigint DEFAULT NULL)
	RETURNS SETOF pubdata.my_access_log
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH me AS (SELECT pubdata.current_department() AS id)
	SELECT r.at, r.role_name, r.department_code, x.resource, r.grant_id, r.purpose,
		   r.command, r.query_id, r.rows, r.seq,
		   coalesce(res.provider_id OPERATOR(pg_catalog.=) me.id, false), r.outcome, NULLIF(x.masked, ''), r.server
	  FROM me
	 CROSS JOIN (SELECT w.*, pubdata._audit_server_of(w.seq) AS server
				   FROM pubdata._audit_records_where($1, $2, NULL, NULL, $3, $4, $5, $6) w
				 UNION ALL
				 SELECT s.* FROM pubdata._audit_shipped_records() s
				  WHERE s.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
															WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
					AND ($1 IS NULL OR s.at OPERATOR(pg_catalog.>=) $1) AND ($2 IS NULL OR s.at OPERATOR(pg_catalog.<) $2)
					AND ($4 IS NULL OR s.department_code OPERATOR(pg_catalog.=) $4)
					AND ($5 IS NULL OR s.role_name OPERATOR(pg_catalog.=) $5)) r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS x(resource, masked) ON true
	  LEFT JOIN pubdata.resource res ON res.code OPERATOR(pg_catalog.=) x.resource
	 WHERE (r.department_id OPERATOR(pg_catalog.=) me.id
			OR res.provider_id OPERATOR(pg_catalog.=) me.id)
	   AND ($3 IS NULL OR x.resource OPERATOR(pg_catalog.=) $3)
	   AND ($6 IS NULL OR r.grant_id OPERATOR(pg_catalog.=) $6)
	 ORDER BY r.seq
$$;
COMMENT ON FUNCTION pubdata.my_audit_records(timestamptz, timestamptz, text, text, text, bigint) IS
	'For departments: the rows of my_access_log with since <= at < before (NULL: unbounded) and the resource, department, role and grant given (NULL: any), reading only the audit segments of that time';

-- _shipped_usage_rows: what the usage summaries count of the chains standbys
-- shipped here (access_log's rows: one per record and resource), by server,
-- in a time range, after and up to a seq per server (_audit_shipped_records_by)
CREATE OR REPLACE FUNCTION pubdata._shipped_usage_rows(
	since timestamptz, before timestamptz, server_ids text[], after_seqs bigint[], upto_seqs bigint[],
	only_listed boolean,
	OUT server_id text, OUT seq bigint, OUT at timestamptz, OUT department text, OUT resource text,
	OUT role_name text, OUT grant_id bigint, OUT rows bigint)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.server_id, r.seq, r.at, r.department_code, res.resource, r.role_name,
		   CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END, r.rows
	  FROM pubdata._audit_shipped_records_by($1, $2, $3, $4, $5, $6) r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.grants, ';')))
			 AS res(resource, grant_group) ON true
	  LEFT JOIN LATERAL (SELECT pg_catalog.string_to_array(NULLIF(res.grant_group, ''), ',')::bigint[] AS ids) g ON true
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
											  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
$$;
COMMENT ON FUNCTION pubdata._shipped_usage_rows(timestamptz, timestamptz, text[], bigint[], bigint[], boolean) IS
	'access_log''s rows of the records standbys shipped here, with their server''s audit id, by time and by seq per server (internal: the usage summaries)';

-- _shipped_unsummarised: the shipped records the summaries do not count yet,
-- in a time range (after audit_usage_shipped.summarised_seq of each server)
CREATE OR REPLACE FUNCTION pubdata._shipped_unsummarised(since timestamptz, before timestamptz,
	OUT server_id text, OUT seq bigint, OUT at timestamptz, OUT department text, OUT resource text,
	OUT role_name text, OUT grant_id bigint, OUT rows bigint)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT u.* FROM (SELECT pg_catalog.array_agg(s.server_id ORDER BY s.server_id) AS ids,
							pg_catalog.array_agg(s.summarised_seq ORDER BY s.server_id) AS seqs
					   FROM pubdata.audit_usage_shipped s) st,
		   pubdata._shipped_usage_rows($1, $2, st.ids, st.seqs, NULL, false) u
$$;
COMMENT ON FUNCTION pubdata._shipped_unsummarised(timestamptz, timestamptz) IS
	'The rows of _shipped_usage_rows not yet counted in audit_usage_day_shipped, in a time range (internal)';

-- _shipped_summarised: the shipped records the summaries count, in a time
-- range (up to audit_usage_shipped.summarised_seq of each server)
CREATE OR REPLACE FUNCTION pubdata._shipped_summarised(since timestamptz, before timestamptz,
	OUT server_id text, OUT seq bigint, OUT at timestamptz, OUT department text, OUT resource text,
	OUT role_name text, OUT grant_id bigint, OUT rows bigint)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT u.* FROM (SELECT pg_catalog.array_agg(s.server_id ORDER BY s.server_id) AS ids,
							pg_catalog.array_agg(s.summarised_seq ORDER BY s.server_id) AS seqs
					   FROM pubdata.audit_usage_shipped s) st,
		   pubdata._shipped_usage_rows($1, $2, st.ids, NULL, st.seqs, true) u
$$;
COMMENT ON FUNCTION pubdata._shipped_summarised(timestamptz, timestamptz) IS
	'The rows of _shipped_usage_rows already counted in audit_usage_day_shipped, in a time range (internal: the parts of a day at a period''s ends)';

-- _audit_summarise_shipped(): count the records standbys shipped here since
-- the last summary of each chain into audit_usage_day_shipped (called by
-- audit_summarise, which holds the summaries' lock); returns how many
CREATE OR REPLACE FUNCTION pubdata._audit_summarise_shipped() RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n bigint;
BEGIN
	WITH h AS MATERIALIZED (
		SELECT a.server_id AS id, COALESCE(s.summarised_seq, 0) AS s, a.last_seq AS h
		  FROM pubdata.audit_servers() a
		  LEFT JOIN pubdata.audit_usage_shipped s ON s.server_id OPERATOR(pg_catalog.=) a.server_id
		 WHERE a.kind OPERATOR(pg_catalog.=) 'shipped'
		   AND a.last_seq OPERATOR(pg_catalog.>) COALESCE(s.summarised_seq, 0)),
	r AS MATERIALIZED (
		SELECT u.* FROM (SELECT pg_catalog.array_agg(h.id ORDER BY h.id) AS ids,
								pg_catalog.array_agg(h.s ORDER BY h.id) AS a,
								pg_catalog.array_agg(h.h ORDER BY h.id) AS b FROM h) x,
			   pubdata._shipped_usage_rows(NULL, NULL, x.ids, x.a, x.b, true) u),
	ins AS (
		INSERT INTO pubdata.audit_usage_day_shipped AS d
			(server_id, day, department, resource, role_name, grant_id, statements, rows, first_at, last_at)
		SELECT r.server_id, pg_catalog.timezone('Asia/Shanghai', r.at)::date, r.department, r.resource, r.role_name,
			   r.grant_id, pg_catalog.count(*), pg_catalog.sum(r.rows), pg_catalog.min(r.at), pg_catalog.max(r.at)
		  FROM r
		 GROUP BY 1, 2, 3, 4, 5, 6
		ON CONFLICT ON CONSTRAINT audit_usage_day_shipped_key DO UPDATE
		   SET statements = d.statements OPERATOR(pg_catalog.+) excluded.statements,
			   rows = d.rows OPERATOR(pg_catalog.+) excluded.rows,
			   first_at = LEAST(d.first_at, excluded.first_at),
			   last_at = GREATEST(d.last_at, excluded.last_at)),
	st AS (
		INSERT INTO pubdata.audit_usage_shipped AS t (server_id, summarised_seq, summarised_at)
		SELECT h.id, h.h, pg_catalog.now() FROM h
		ON CONFLICT (server_id) DO UPDATE
		   SET summarised_seq = excluded.summarised_seq, summarised_at = excluded.summarised_at)
	SELECT COALESCE(pg_catalog.sum(h.h OPERATOR(pg_catalog.-) h.s), 0) INTO n FROM h;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata._audit_summarise_shipped() IS
	'Count the records standbys shipped here since the last summary of each chain into audit_usage_day_shipped (internal: audit_summarise calls it under the summaries'' lock); returns the records gone through';

-- audit_summarise(): count the records written since the last summary into
-- audit_usage_day, and those standbys shipped here into
-- audit_usage_day_shipped; returns how many records it went through
CREATE OR REPLACE FUNCTION pubdata.audit_summarise() RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s bigint;
	h bigint;
	shipped bigint;
BEGIN
	SELECT st.summarised_seq INTO s FROM pubdata.audit_usage_state st FOR UPDATE;
	SELECT c.seq INTO h FROM pubdata.audit_chain_head() c;
	shipped := pubdata._audit_summarise_shipped();
	IF h IS NULL OR h OPERATOR(pg_catalog.<=) s THEN
		RETURN shipped;
	END IF;
	INSERT INTO pubdata.audit_usage_day AS u
		(day, department, resource, role_name, grant_id, statements, rows, first_at, last_at)
	SELECT pg_catalog.timezone('Asia/Shanghai', l.at)::date, l.department, l.resource, l.role_name, l.grant_id,
		   pg_catalog.count(*), pg_catalog.sum(l.rows), pg_catalog.min(l.at), pg_catalog.max(l.at)
	  FROM pubdata._access_rows(NULL, NULL, s, h, NULL, NULL, NULL, NULL) l
	 GROUP BY 1, 2, 3, 4, 5
	ON CONFLICT ON CONSTRAINT audit_usage_day_key DO UPDATE
	   SET statements = u.statements OPERATOR(pg_catalog.+) excluded.statements,
		   rows = u.rows OPERATOR(pg_catalog.+) excluded.rows,
		   first_at = LEAST(u.first_at, excluded.first_at),
		   last_at = GREATEST(u.last_at, excluded.last_at);
	UPDATE pubdata.audit_usage_state SET summarised_seq = h, summarised_at = pg_catalog.now();
	RETURN h OPERATOR(pg_catalog.-) s OPERATOR(pg_catalog.+) shipped;
END
$$;
COMMENT ON FUNCTION pubdata.audit_summarise() IS
	'Count the access audit records written since the last summary, and those standbys shipped here, into the per-day usage summaries (the launcher calls it every minute); returns the records gone through';

-- _usage_reads(t0, t1): access_log rows per reading department with
-- t0 <= at < t1: whole local days from the summaries, the rest (the
-- unsummarised tail, and parts of a day at either end) from the log
CREATE OR REPLACE FUNCTION pubdata._usage_reads(t0 timestamptz, t1 timestamptz,
	OUT department text, OUT statements bigint)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH st AS MATERIALIZED (SELECT s.summarised_seq AS s FROM pubdata.audit_usage_state s LIMIT 1),
	lt AS (SELECT pg_catalog.timezone('Asia/Shanghai', $1) AS l0, pg_catalog.timezone('Asia/Shanghai', $2) AS l1),
	days AS (SELECT CASE WHEN lt.l0 OPERATOR(pg_catalog.=) pg_catalog.date_trunc('day', lt.l0)
						 THEN lt.l0::date ELSE lt.l0::date OPERATOR(pg_catalog.+) 1 END AS d0,
					lt.l1::date AS d1 FROM lt),
	b AS (SELECT days.d0, pg_catalog.max(x) AS d1,
				 pg_catalog.timezone('Asia/Shanghai', days.d0::timestamp) AS b0,
				 pg_catalog.timezone('Asia/Shanghai', pg_catalog.max(x)::timestamp) AS b1
			FROM days, LATERAL (VALUES (days.d0), (days.d1)) v(x) GROUP BY days.d0)
	SELECT u.department, pg_catalog.sum(u.n)::bigint FROM (
		SELECT d.department, d.statements AS n
		  FROM pubdata.audit_usage_day d, b
		 WHERE d.day OPERATOR(pg_catalog.>=) b.d0 AND d.day OPERATOR(pg_catalog.<) b.d1
		UNION ALL
		SELECT l.department, 1 FROM st, pubdata._access_rows($1, $2, st.s, NULL, NULL, NULL, NULL, NULL) l
		UNION ALL
		SELECT l.department, 1 FROM st, b, pubdata._access_rows($1, LEAST(b.b0, $2), NULL, st.s, NULL, NULL, NULL, NULL) l
		UNION ALL
		SELECT l.department, 1 FROM st, b, pubdata._access_rows(GREATEST(b.b1, $1), $2, NULL, st.s, NULL, NULL, NULL, NULL) l
		 WHERE b.b1 OPERATOR(pg_catalog.<) $2
		UNION ALL
		SELECT d.department, d.statements
		  FROM pubdata.audit_usage_day_shipped d, b
		 WHERE d.day OPERATOR(pg_catalog.>=) b.d0 AND d.day OPERATOR(pg_catalog.<) b.d1
		UNION ALL
		SELECT l.department, 1 FROM pubdata._shipped_unsummarised($1, $2) l
		UNION ALL
		SELECT l.department, 1 FROM b, pubdata._shipped_summarised($1, LEAST(b.b0, $2)) l
		UNION ALL
		SELECT l.department, 1 FROM b, pubdata._shipped_summarised(GREATEST(b.b1, $1), $2) l
		 WHERE b.b1 OPERATOR(pg_catalog.<) $2) u
	 GROUP BY u.department
$$;
COMMENT ON FUNCTION pubdata._usage_reads(timestamptz, timestamptz) IS
	'access_log rows per reading department in a time range, from the usage summaries and the log (internal: the evaluation''s shared data used)';

CREATE OR REPLACE VIEW pubdata.usage_stats AS
	WITH u AS (
		SELECT d.department, d.resource, d.role_name, d.grant_id, d.statements, d.rows, d.first_at, d.last_at
		  FROM pubdata.audit_usage_day d
		UNION ALL
		SELECT l.department, l.resource, l.role_name, l.grant_id, 1, l.rows, l.at, l.at
		  FROM pubdata._access_rows(NULL, NULL, (SELECT s.summarised_seq FROM pubdata.audit_usage_state s),
									NULL, NULL, NULL, NULL, NULL) l
		UNION ALL
		SELECT d.department, d.resource, d.role_name, d.grant_id, d.statements, d.rows, d.first_at, d.last_at
		  FROM pubdata.audit_usage_day_shipped d
		UNION ALL
		SELECT l.department, l.resource, l.role_name, l.grant_id, 1, l.rows, l.at, l.at
		  FROM pubdata._shipped_unsummarised(NULL, NULL) l)
	SELECT u.department, u.resource, p.code AS provider,
		   pg_catalog.sum(u.statements)::bigint AS statements,
		   pg_catalog.sum(u.rows) AS rows,
		   pg_catalog.count(DISTINCT u.role_name) AS roles,
		   pg_catalog.count(DISTINCT u.grant_id) AS grants,
		   pg_catalog.min(u.first_at) AS first_at,
		   pg_catalog.max(u.last_at) AS last_at
	  FROM u
	  LEFT JOIN pubdata.resource r ON r.code OPERATOR(pg_catalog.=) u.resource
	  LEFT JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) r.provider_id
	 GROUP BY u.department, u.resource, p.code;
COMMENT ON VIEW pubdata.usage_stats IS
	'Use of shared data (Art 15, 27) per reading department and resource, from the access audit: the per-day summaries plus the records written since, and the reads standbys shipped here';
COMMENT ON COLUMN pubdata.usage_stats.provider IS 'code of the department that provides the resource';
COMMENT ON COLUMN pubdata.usage_stats.statements IS 'audited statements that read the resource';
COMMENT ON COLUMN pubdata.usage_stats.rows IS 'rows those statements returned (a statement reading several resources counts for each)';
COMMENT ON COLUMN pubdata.usage_stats.roles IS 'distinct roles that read';
COMMENT ON COLUMN pubdata.usage_stats.grants IS 'distinct grants relied on';


GRANT EXECUTE ON FUNCTION pubdata._audit_records_where(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint),
	pubdata._access_rows(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint),
	pubdata._shipped_access_rows(timestamptz, timestamptz, text, text, text, bigint),
	pubdata.audit_records(timestamptz, timestamptz, text, text, text, bigint),
	pubdata._usage_reads(timestamptz, timestamptz),
	pubdata._shipped_usage_rows(timestamptz, timestamptz, text[], bigint[], bigint[], boolean),
	pubdata._shipped_unsummarised(timestamptz, timestamptz),
	pubdata._shipped_summarised(timestamptz, timestamptz) TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.audit_summarise() TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.my_audit_records(timestamptz, timestamptz, text, text, text, bigint) TO pubdata_department;
GRANT SELECT ON pubdata.audit_usage_day, pubdata.audit_usage_state, pubdata.audit_usage_day_shipped,
	pubdata.audit_usage_shipped, pubdata.usage_stats TO pubdata_admin, pubdata_auditor;

CREATE OR REPLACE FUNCTION pubdata.verify_audit_chain_incremental(
	OUT ok boolean, OUT records bigint, OUT first_broken_seq bigint, OUT detail text)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_verify_audit_chain_incremental';
COMMENT ON FUNCTION pubdata.verify_audit_chain_incremental() IS
	'Verify only the access audit records written since the last verification that found the chain intact (the verified prefix it remembered, checked to be still in the log unchanged), up to the heads in shared memory and the state file; the whole chain when no prefix is remembered';
GRANT EXECUTE ON FUNCTION pubdata.verify_audit_chain_incremental() TO pubdata_admin, pubdata_auditor;

-- for benchmarks only (superusers): a synthetic log through the real write path
CREATE OR REPLACE FUNCTION pubdata._audit_bench_fill(n bigint, days integer DEFAULT 30,
	resources integer DEFAULT 50, departments integer DEFAULT 20) RETURNS bigint
	LANGUAGE C VOLATILE STRICT
	AS 'MODULE_PATHNAME', 'pubdata_audit_bench_fill';
COMMENT ON FUNCTION pubdata._audit_bench_fill(bigint, integer, integer, integer) IS
	'Benchmarks only, superusers only: append n synthetic access audit records dated over the last days days (never on a production log)';
