-- ---------------------------------------------------------------------------
-- Sharing: the grant decision moves into the executor hook (src/guard.c).
-- _grant_ok() reads the hook's choice (C, no query); unconditional items get a
-- policy of their own (_shared_ok) instead of USING (true); the grant cache is
-- invalidated by statement triggers; _note_grant and _has_copy_grant are gone.
-- ---------------------------------------------------------------------------

DROP FUNCTION pubdata._note_grant(bigint, bigint, text);
DROP FUNCTION pubdata._has_copy_grant(bigint, integer);

-- _grant_ok(id) / _shared_ok(resource): the checks in the policies, run once
-- per query (InitPlan).  They read the executor hook's choice for the running
-- statement: the live grants that each cover every item the statement reads
-- (src/guard.c); they decide nothing themselves.
CREATE OR REPLACE FUNCTION pubdata._grant_ok(grant_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_grant_ok'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION pubdata._grant_ok(bigint) IS 'Policy check of a grant: chosen by the executor hook for the running statement (in force, matching the declared purpose, covering every item read); evaluated once per query';
CREATE FUNCTION pubdata._shared_ok(resource_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_shared_ok'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION pubdata._shared_ok(bigint) IS 'Policy check of an unconditional resource''s open items: the running statement reads only items open to every department; evaluated once per query';

-- the executor hook's grant cache follows every change of what it is built from
CREATE TRIGGER share_request_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.share_request
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE TRIGGER scenario_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.scenario
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE TRIGGER scenario_resource_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.scenario_resource
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE TRIGGER resource_item_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.resource_item
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();

-- _refresh_sharing: rebuild a resource's policies and privileges from the catalog and its grants
CREATE OR REPLACE FUNCTION pubdata._refresh_sharing(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	pol name;
	rol name;
	cols text;
	g record;
	has_rls boolean;
	nsp name;
BEGIN
	SELECT x.id, x.relation, x.status, x.share_class, c.relkind, d.role_name AS provider_role INTO r
	  FROM pubdata.resource x JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.relation::oid
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
	 WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	has_rls := r.relkind IN ('r', 'p');
	SELECT n.nspname INTO nsp FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'on', true);

	IF has_rls THEN
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.relation);
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid OPERATOR(pg_catalog.=) r.relation::oid
						AND p.polname OPERATOR(pg_catalog.=) 'pubdata_provider') THEN
			EXECUTE pg_catalog.format('CREATE POLICY pubdata_provider ON %s FOR ALL TO %I USING (true) WITH CHECK (true)',
									  r.relation, r.provider_role);
		END IF;
		-- pubdata's own, and any permissive policy (made before registration)
		-- that would give rows to PUBLIC or to another department
		FOR pol IN SELECT p.polname FROM pg_catalog.pg_policy p
					WHERE p.polrelid OPERATOR(pg_catalog.=) r.relation::oid
					  AND (p.polname OPERATOR(pg_catalog.=) 'pubdata_shared' OR p.polname::text LIKE 'pubdata\_grant\_%'
						   OR (p.polpermissive AND p.polname OPERATOR(pg_catalog.<>) 'pubdata_provider'
							   AND EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) pr(role)
										   WHERE pr.role OPERATOR(pg_catalog.=) 0
											  OR (pg_catalog.pg_has_role(pr.role, 'pubdata_department', 'MEMBER')
												  AND NOT pg_catalog.pg_has_role(pr.role, r.provider_role, 'MEMBER')))))
		LOOP
			EXECUTE pg_catalog.format('DROP POLICY %I ON %s', pol, r.relation);
		END LOOP;
	END IF;
	-- no department but the provider keeps any privilege pubdata did not just
	-- decide: nor PUBLIC, nor a login of another department (a grant made
	-- before registration, or by ALTER DEFAULT PRIVILEGES)
	EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', r.relation);
	FOR rol IN SELECT d.role_name FROM pubdata.department d
				WHERE d.role_name OPERATOR(pg_catalog.<>) r.provider_role
				  AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) d.role_name)
			   UNION SELECT 'pubdata_department'::name
			   UNION SELECT x.rolname FROM pg_catalog.pg_roles x
					  WHERE pg_catalog.pg_has_role(x.oid, 'pubdata_department', 'MEMBER')
						AND NOT pg_catalog.pg_has_role(x.oid, r.provider_role, 'MEMBER')
						AND x.oid OPERATOR(pg_catalog.=) ANY (
							SELECT a.grantee FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
							 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid
							UNION SELECT a.grantee FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) a
							 WHERE t.attrelid OPERATOR(pg_catalog.=) r.relation::oid)
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %I', r.relation, rol);
	END LOOP;

	IF r.status OPERATOR(pg_catalog.=) 'published' AND r.share_class OPERATOR(pg_catalog.<>) 'non_shared' THEN
		IF r.share_class OPERATOR(pg_catalog.=) 'unconditional' THEN
			SELECT pg_catalog.string_agg(pg_catalog.quote_ident(i.column_name), ', ' ORDER BY i.attnum) INTO cols
			  FROM pubdata.resource_item i
			 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped'
			   AND i.attnum IS NOT NULL AND i.personal OPERATOR(pg_catalog.=) 'none'
			   AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional';
			IF cols IS NOT NULL THEN
				EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO pubdata_department', cols, r.relation);
				-- an approved share is enough to read: the schema is looked into too
				EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO pubdata_department', nsp);
				IF has_rls THEN
					EXECUTE pg_catalog.format('CREATE POLICY pubdata_shared ON %s FOR SELECT TO pubdata_department USING ((SELECT pubdata._shared_ok(%s)))',
											  r.relation, r.id);
				END IF;
			END IF;
		END IF;
		FOR g IN SELECT s.*, d.role_name FROM pubdata.share_request s
				   JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) s.requester_id
				  WHERE s.resource_id OPERATOR(pg_catalog.=) r.id AND s.status OPERATOR(pg_catalog.=) 'approved'
					AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
					AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) d.role_name)
				  ORDER BY s.id
		LOOP
			cols := pubdata._grant_columns(r.id, g.items);
			CONTINUE WHEN cols IS NULL;
			-- a table's items go to the departments' group, not to the grantee:
			-- the access guard gives each department exactly the items of its
			-- own grants (a grant is items x rows) and the policy below its rows
			-- (which let nothing through without the guard), so the column ACL a
			-- lookup checks stays one entry long however many departments hold
			-- grants (200 entries are compressed and were decompressed at every
			-- statement); items no grant gives stay closed.  A view has no
			-- policies: its items go to the grantee itself
			EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO %I', cols, r.relation,
									  CASE WHEN has_rls THEN 'pubdata_department'::name ELSE g.role_name END);
			EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO %I', nsp, g.role_name);
			IF has_rls THEN
				EXECUTE pg_catalog.format('CREATE POLICY %I ON %s FOR SELECT TO %I USING ((SELECT pubdata._grant_ok(%s)) AND (%s))',
										  'pubdata_grant_' || g.id, r.relation, g.role_name, g.id,
										  pubdata._scope_predicate(r.id, g.row_scope));
			END IF;
		END LOOP;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'off', true);
END
$$;
COMMENT ON FUNCTION pubdata._refresh_sharing(bigint) IS 'Rebuild the policies and column privileges of one resource from its class, status and live grants';

REVOKE ALL ON FUNCTION pubdata._shared_ok(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata._grant_ok(bigint), pubdata._shared_ok(bigint) TO pubdata_department, pubdata_admin;

-- ---------------------------------------------------------------------------
-- Access audit: records carry the grants used per resource, the outcome (ok,
-- error, denied) and the statement text.
-- ---------------------------------------------------------------------------

DROP VIEW pubdata.usage_stats;
DROP VIEW pubdata.access_log;
DROP VIEW pubdata.my_access_log;
DROP FUNCTION pubdata._my_access_log();
DROP FUNCTION pubdata._audit_records();

CREATE FUNCTION pubdata._audit_records(
	OUT seq bigint, OUT at timestamptz, OUT database oid, OUT role_name text,
	OUT department_id integer, OUT department_code text, OUT resources text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT hash text, OUT grants text, OUT outcome text, OUT statement text, OUT masked text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_records';
COMMENT ON FUNCTION pubdata._audit_records() IS
	'Every access audit record of the cluster, read from the segment files in chain order (internal: use pubdata.access_log)';

CREATE VIEW pubdata.access_log AS
	SELECT r.at, r.role_name, r.department_code AS department, res.resource,
		   CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END AS grant_id,
		   r.purpose, r.command, r.query_id, r.rows, r.seq, r.hash,
		   g.ids AS grant_ids, r.outcome, r.statement, NULLIF(res.masked, '') AS masked
	  FROM pubdata._audit_records() r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.grants, ';')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS res(resource, grant_group, masked) ON true
	  LEFT JOIN LATERAL (SELECT pg_catalog.string_to_array(NULLIF(res.grant_group, ''), ',')::bigint[] AS ids) g ON true
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
										  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database());
COMMENT ON VIEW pubdata.access_log IS
	'Access audit (Art 15, 27): one row per audited statement and resource read, in chain order, for this database; refusals and failed statements included';
COMMENT ON COLUMN pubdata.access_log.at IS 'when the reading statement finished (the record was written)';
COMMENT ON COLUMN pubdata.access_log.role_name IS 'the role that read';
COMMENT ON COLUMN pubdata.access_log.department IS 'code of the department the role acted for';
COMMENT ON COLUMN pubdata.access_log.resource IS 'code of a resource the statement read (a statement reading several has one row each)';
COMMENT ON COLUMN pubdata.access_log.grant_id IS 'the (first) grant the read of this resource relied on; NULL if none';
COMMENT ON COLUMN pubdata.access_log.purpose IS 'the stated purposes of the grants used; for a refusal, the purpose the session declared (SET pubdata.purpose)';
COMMENT ON COLUMN pubdata.access_log.command IS 'statement kind: SELECT, COPY, INSERT, ...';
COMMENT ON COLUMN pubdata.access_log.query_id IS 'query identifier (as in pg_stat_statements and pg_stat_activity)';
COMMENT ON COLUMN pubdata.access_log.rows IS 'rows the statement returned or processed (a cursor: all its fetches)';
COMMENT ON COLUMN pubdata.access_log.seq IS 'position in the hash chain (1, 2, ... across the whole cluster)';
COMMENT ON COLUMN pubdata.access_log.hash IS 'SHA-256 (hex) of the previous record''s hash and this record';
COMMENT ON COLUMN pubdata.access_log.grant_ids IS 'every grant the executor chose for this resource: each covers all the items the statement read (the rows seen are the union of their row scopes)';
COMMENT ON COLUMN pubdata.access_log.outcome IS 'ok; error: the statement failed (or its subtransaction or cursor was abandoned) after it started reading; denied: pubdata refused it';
COMMENT ON COLUMN pubdata.access_log.statement IS 'the statement text, constants replaced by $n (pubdata.audit_statement)';
COMMENT ON COLUMN pubdata.access_log.masked IS 'items of this resource the statement read masked, with their rules (item=rule,...)';

-- A department sees the records of its own reads, and of reads of resources
-- it provides (who used its data, for what purpose); nothing else.
CREATE FUNCTION pubdata._my_access_log(
	OUT at timestamptz, OUT role_name text, OUT department text, OUT resource text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT seq bigint, OUT as_provider boolean, OUT outcome text, OUT masked text)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH me AS (SELECT pubdata.current_department() AS id)
	SELECT r.at, r.role_name, r.department_code, x.resource, r.grant_id, r.purpose,
		   r.command, r.query_id, r.rows, r.seq,
		   coalesce(res.provider_id OPERATOR(pg_catalog.=) me.id, false), r.outcome, NULLIF(x.masked, '')
	  FROM me
	 CROSS JOIN pubdata._audit_records() r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS x(resource, masked) ON true
	  LEFT JOIN pubdata.resource res ON res.code OPERATOR(pg_catalog.=) x.resource
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
											  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	   AND (r.department_id OPERATOR(pg_catalog.=) me.id
			OR res.provider_id OPERATOR(pg_catalog.=) me.id)
	 ORDER BY r.seq
$$;
COMMENT ON FUNCTION pubdata._my_access_log() IS
	'The calling department''s reads, and reads of the resources it provides (internal: use pubdata.my_access_log)';

CREATE VIEW pubdata.my_access_log AS
	SELECT * FROM pubdata._my_access_log();
COMMENT ON VIEW pubdata.my_access_log IS
	'For departments: the access audit records of your own reads, and of other departments'' reads of the resources you provide';
COMMENT ON COLUMN pubdata.my_access_log.as_provider IS 'true when the row is there because your department provides the resource';
COMMENT ON COLUMN pubdata.my_access_log.outcome IS 'ok; error: the statement failed after it started reading; denied: pubdata refused it';
COMMENT ON COLUMN pubdata.my_access_log.masked IS 'items of this resource the statement read masked, with their rules (item=rule,...)';

CREATE VIEW pubdata.usage_stats AS
	SELECT l.department, l.resource, p.code AS provider,
		   pg_catalog.count(*) AS statements,
		   pg_catalog.sum(l.rows) AS rows,
		   pg_catalog.count(DISTINCT l.role_name) AS roles,
		   pg_catalog.count(DISTINCT l.grant_id) AS grants,
		   pg_catalog.min(l.at) AS first_at,
		   pg_catalog.max(l.at) AS last_at
	  FROM pubdata.access_log l
	  LEFT JOIN pubdata.resource r ON r.code OPERATOR(pg_catalog.=) l.resource
	  LEFT JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) r.provider_id
	 GROUP BY l.department, l.resource, p.code;
COMMENT ON VIEW pubdata.usage_stats IS
	'Use of shared data (Art 15, 27) per reading department and resource, from the access audit';
COMMENT ON COLUMN pubdata.usage_stats.provider IS 'code of the department that provides the resource';
COMMENT ON COLUMN pubdata.usage_stats.statements IS 'audited statements that read the resource';
COMMENT ON COLUMN pubdata.usage_stats.rows IS 'rows those statements returned (a statement reading several resources counts for each)';
COMMENT ON COLUMN pubdata.usage_stats.roles IS 'distinct roles that read';
COMMENT ON COLUMN pubdata.usage_stats.grants IS 'distinct grants relied on';

REVOKE ALL ON FUNCTION pubdata._audit_records(), pubdata._my_access_log() FROM PUBLIC;
REVOKE ALL ON pubdata.access_log, pubdata.usage_stats, pubdata.my_access_log FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata._my_access_log() TO pubdata_department;
GRANT SELECT ON pubdata.my_access_log TO pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata._audit_records() TO pubdata_admin, pubdata_auditor;
GRANT SELECT ON pubdata.access_log, pubdata.usage_stats TO pubdata_admin, pubdata_auditor;
