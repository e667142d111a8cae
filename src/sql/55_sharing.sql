-- ---------------------------------------------------------------------------
-- Sharing (1): the grant cache's invalidation and the grant checks the
-- policies call (tables and types: once/55_sharing.sql).
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata._catalog_invalidate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_catalog_invalidate' LANGUAGE C;
CREATE OR REPLACE TRIGGER resource_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.resource
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE OR REPLACE TRIGGER department_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.department
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();

GRANT SELECT ON pubdata.schema_usage TO pubdata_admin, pubdata_auditor;

-- _grant_live(g): a grant in force now
CREATE OR REPLACE FUNCTION pubdata._grant_live(g pubdata.share_request) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT $1.status OPERATOR(pg_catalog.=) 'approved'
	   AND ($1.expires_at IS NULL OR $1.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
	   AND EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1.resource_id
				   AND r.status OPERATOR(pg_catalog.=) 'published')
$$;

-- _purpose_matches(g): the session's declared purpose (if any) names this grant
CREATE OR REPLACE FUNCTION pubdata._purpose_matches(g pubdata.share_request) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(pg_catalog.current_setting('pubdata.purpose', true), '') OPERATOR(pg_catalog.=) ''
		OR pg_catalog.current_setting('pubdata.purpose', true) OPERATOR(pg_catalog.=) $1.id::text
		OR pg_catalog.current_setting('pubdata.purpose', true) OPERATOR(pg_catalog.=)
		   (SELECT s.code FROM pubdata.scenario s WHERE s.id OPERATOR(pg_catalog.=) $1.scenario_id)
$$;

-- _grant_ok(id) / _shared_ok(resource): the checks in the policies, run once
-- per query (InitPlan).  They read the executor hook's choice for the running
-- statement: the live grants that each cover every item the statement reads
-- (src/guard.c); they decide nothing themselves.
CREATE OR REPLACE FUNCTION pubdata._grant_ok(grant_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_grant_ok'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION pubdata._grant_ok(bigint) IS 'Policy check of a grant: chosen by the executor hook for the running statement (in force, matching the declared purpose, covering every item read); evaluated once per query';
CREATE OR REPLACE FUNCTION pubdata._shared_ok(resource_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_shared_ok'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION pubdata._shared_ok(bigint) IS 'Policy check of an unconditional resource''s open items: the running statement reads only items open to every department; evaluated once per query';

-- the executor hook's grant cache follows every change of what it is built from
CREATE OR REPLACE TRIGGER share_request_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.share_request
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE OR REPLACE TRIGGER scenario_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.scenario
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE OR REPLACE TRIGGER scenario_resource_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.scenario_resource
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE OR REPLACE TRIGGER resource_item_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.resource_item
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
