-- ---------------------------------------------------------------------------
-- Sharing (6): the column comment says which masks are in force (issue 14)
--
-- A BI tool shows a column's comment beside its values (JDBC's
-- DatabaseMetaData.getColumns REMARKS, ODBC's SQLColumns, psql's \d+), and a
-- department reading an item masked should be told there that the values are
-- masked, and how.  A column has one comment for every reader, so the comment
-- cannot say "masked for you": pubdata keeps, after the provider's own text,
-- one generated last line naming the masks that live grants give the item
-- under, and nothing else (no department, no grant, no count):
--
--     公民身份号码
--     [pubdata] masked in grants: id_card, pseudonym
--
-- The department's own grant (pubdata.share_request_status.masks) says which
-- of them is its own.  The line is rebuilt wherever the grants of a resource
-- change (pubdata._refresh_sharing: approval, revocation, the expiry sweep,
-- registration, retirement, a change of class) and after the provider's own
-- COMMENT ON COLUMN (event trigger pubdata_mask_comment), which keeps the
-- provider's text and puts the line back; a trailing line of that form that
-- pubdata did not write (the provider's own, or one copied back by a tool
-- that edits the whole comment) is replaced, never kept beside the true one.
-- A restore of pg_dump's output restores the comment as it was, line
-- included, and the next rebuild finds it there and replaces it (it is never
-- doubled); DROP EXTENSION removes it (pubdata._uninstall).
-- ---------------------------------------------------------------------------

-- _mask_comment_own(comment): a column comment without pubdata's line(s)
CREATE OR REPLACE FUNCTION pubdata._mask_comment_own(comment text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	own text := $1;
	was text;
BEGIN
	LOOP
		was := own;
		own := pg_catalog.regexp_replace(own, '(^|\n)\[pubdata\] masked in grants:[^\n]*$', '');
		EXIT WHEN own IS NOT DISTINCT FROM was;
	END LOOP;
	RETURN NULLIF(own, '');
END
$$;
COMMENT ON FUNCTION pubdata._mask_comment_own(text) IS
	'Internal: a column comment without the trailing "[pubdata] masked in grants: ..." line(s) pubdata generates';

-- _mask_comments(resource): rebuild the generated line of every column of a
-- resource's relation from its live grants; a comment already right is not
-- written again
CREATE OR REPLACE FUNCTION pubdata._mask_comments(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	c record;
	want text;
	was text := pg_catalog.current_setting('pubdata.internal_ddl', true);
BEGIN
	SELECT x.id, k.oid AS relid, n.nspname, k.relname INTO r
	  FROM pubdata.resource x JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) x.relation::oid
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) k.relnamespace
	 WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	FOR c IN
		WITH g AS (
			SELECT m.item, pg_catalog.string_agg(DISTINCT m.rule, ', ' ORDER BY m.rule) AS masks
			  FROM pubdata.share_request s
			 CROSS JOIN LATERAL pg_catalog.jsonb_each_text(s.masks) m(item, rule)
			 WHERE s.resource_id OPERATOR(pg_catalog.=) r.id AND s.masks IS NOT NULL AND pubdata._grant_live(s)
			 GROUP BY m.item)
		SELECT a.attname, d.description AS comment, g.masks
		  FROM pg_catalog.pg_attribute a
		  LEFT JOIN g ON g.item OPERATOR(pg_catalog.=) a.attname::text
		  LEFT JOIN pg_catalog.pg_description d
			ON d.objoid OPERATOR(pg_catalog.=) a.attrelid AND d.objsubid OPERATOR(pg_catalog.=) a.attnum
		   AND d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
		 WHERE a.attrelid OPERATOR(pg_catalog.=) r.relid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		 ORDER BY a.attnum
	LOOP
		want := pubdata._mask_comment_own(c.comment);
		IF c.masks IS NOT NULL THEN
			want := coalesce(want OPERATOR(pg_catalog.||) E'\n', '') OPERATOR(pg_catalog.||) '[pubdata] masked in grants: '
					OPERATOR(pg_catalog.||) c.masks;
		END IF;
		CONTINUE WHEN want IS NOT DISTINCT FROM c.comment;
		-- pubdata's own change: its event trigger stands aside
		PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'on', true);
		EXECUTE pg_catalog.format('COMMENT ON COLUMN %I.%I.%I IS %L', r.nspname, r.relname, c.attname, want);
		PERFORM pg_catalog.set_config('pubdata.internal_ddl', coalesce(NULLIF(was, ''), 'off'), true);
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._mask_comments(bigint) IS
	'Internal: rebuild the "[pubdata] masked in grants: ..." last line of the column comments of a resource from its live grants, keeping the provider''s own text';

-- after the provider's COMMENT ON COLUMN of a registered relation: its text
-- stays, the generated line comes back
CREATE OR REPLACE FUNCTION pubdata._on_comment_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint;
BEGIN
	IF pubdata._internal_ddl() THEN
		RETURN;
	END IF;
	FOR rid IN
		SELECT DISTINCT r.id FROM pg_catalog.pg_event_trigger_ddl_commands() c
		  JOIN pubdata.resource r ON r.relation::oid OPERATOR(pg_catalog.=) c.objid
		 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
		   AND c.objsubid OPERATOR(pg_catalog.>) 0
		 ORDER BY r.id
	LOOP
		PERFORM pubdata._mask_comments(rid);
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._on_comment_end() IS
	'Internal: after COMMENT ON COLUMN of a registered relation, keep the new text and put back the generated mask line';
DROP EVENT TRIGGER IF EXISTS pubdata_mask_comment;
CREATE EVENT TRIGGER pubdata_mask_comment ON ddl_command_end
	WHEN TAG IN ('COMMENT')
	EXECUTE FUNCTION pubdata._on_comment_end();
