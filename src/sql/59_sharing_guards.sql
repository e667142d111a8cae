-- ---------------------------------------------------------------------------
-- Sharing (5): the DDL and GRANT guards around registered tables
-- ---------------------------------------------------------------------------

-- Nobody changes pubdata's policies or turns row-level security off behind its back

-- _ddl_exempt(): the DDL guards stand aside for pubdata's own changes and for
-- superusers (a restore of pg_dump's output, say)
CREATE OR REPLACE FUNCTION pubdata._ddl_exempt() RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata._internal_ddl()
		OR coalesce((SELECT a.rolsuper FROM pg_catalog.pg_roles a
					  WHERE a.rolname OPERATOR(pg_catalog.=) pubdata.caller()), false)
$$;
CREATE OR REPLACE FUNCTION pubdata._guard_ddl_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	bad text;
BEGIN
	IF pubdata._ddl_exempt() THEN
		RETURN;
	END IF;
	-- on the registered table or one of its partitions
	SELECT r.code INTO bad FROM pg_catalog.pg_event_trigger_ddl_commands() c
	  JOIN pg_catalog.pg_policy p ON p.oid OPERATOR(pg_catalog.=) c.objid
	  JOIN pubdata.resource r ON r.id IN (SELECT pubdata._resources_of(p.polrelid))
	 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::regclass LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'policies of resource "%" are managed by pubdata', bad
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Share through pubdata.request_share() and pubdata.decide_share(); only pubdata changes these policies.';
	END IF;
	-- the registered table or one of its partitions
	SELECT r.code INTO bad FROM pg_catalog.pg_event_trigger_ddl_commands() d
	  JOIN pubdata.resource r ON r.id IN (SELECT pubdata._resources_of(d.objid))
	  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.objid
	 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
	   AND d.object_type OPERATOR(pg_catalog.=) 'table'
	   AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'row-level security of resource "%" cannot be disabled', bad
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Registered tables keep row-level security; retire the resource and drop the table if it is no longer provided.';
	END IF;
END
$$;
DROP EVENT TRIGGER IF EXISTS pubdata_guard_ddl;
CREATE EVENT TRIGGER pubdata_guard_ddl ON ddl_command_end
	WHEN TAG IN ('CREATE POLICY', 'ALTER POLICY', 'ALTER TABLE')
	EXECUTE FUNCTION pubdata._guard_ddl_end();

CREATE OR REPLACE FUNCTION pubdata._guard_policy_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	bad text;
BEGIN
	IF pubdata._ddl_exempt() THEN
		RETURN;
	END IF;
	-- of the registered table or one of its partitions
	SELECT r.code INTO bad FROM pg_catalog.pg_event_trigger_dropped_objects() o
	 CROSS JOIN LATERAL (SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', o.address_names[1], o.address_names[2]))::pg_catalog.oid AS relid) t
	  JOIN pubdata.resource r ON r.id IN (SELECT pubdata._resources_of(t.relid))
	 WHERE o.object_type OPERATOR(pg_catalog.=) 'policy'
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger_dropped_objects() t
					   WHERE t.object_type OPERATOR(pg_catalog.=) 'table'
						 AND t.address_names OPERATOR(pg_catalog.=) o.address_names[1:2])
	 LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'policies of resource "%" are managed by pubdata', bad
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Revoke a grant with pubdata.revoke_share(); only pubdata drops these policies.';
	END IF;
END
$$;
DROP EVENT TRIGGER IF EXISTS pubdata_guard_policy_drop;
CREATE EVENT TRIGGER pubdata_guard_policy_drop ON sql_drop
	WHEN TAG IN ('DROP POLICY')
	EXECUTE FUNCTION pubdata._guard_policy_drop();

-- Nobody grants privileges on a registered table or one of its partitions
-- behind pubdata's back: a GRANT by its owner would give columns or rows no
-- share request decided (Art 16-18).  The privileges of the registered tables are fingerprinted
-- before a GRANT and compared after it.
CREATE OR REPLACE FUNCTION pubdata._guard_acl_state() RETURNS jsonb
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(pg_catalog.jsonb_object_agg(r.code, (
			SELECT pg_catalog.md5(pg_catalog.string_agg(c.oid::text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||)
						coalesce(c.relacl::text, '') OPERATOR(pg_catalog.||)
						coalesce((SELECT pg_catalog.string_agg(a.attnum::text OPERATOR(pg_catalog.||) a.attacl::text, ';' ORDER BY a.attnum)
								   FROM pg_catalog.pg_attribute a
								  WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attacl IS NOT NULL), ''),
						'|' ORDER BY c.oid))
			  FROM pg_catalog.pg_class c
			 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid
				OR c.oid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(r.relation) t))), '{}')
	  FROM pubdata.resource r
	 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid)
$$;
COMMENT ON FUNCTION pubdata._guard_acl_state() IS 'Fingerprints of the privileges of every registered table and its partitions, by resource code (internal)';

CREATE OR REPLACE FUNCTION pubdata._guard_grant_start() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF pubdata._ddl_exempt() THEN
		PERFORM pg_catalog.set_config('pubdata.acl_snapshot', '', true);
		RETURN;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.acl_snapshot', pubdata._guard_acl_state()::text, true);
END
$$;
COMMENT ON FUNCTION pubdata._guard_grant_start() IS 'Before a GRANT: fingerprint the privileges of the registered tables (internal)';

CREATE OR REPLACE FUNCTION pubdata._guard_grant_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	before text := pg_catalog.current_setting('pubdata.acl_snapshot', true);
	bad text;
BEGIN
	IF coalesce(before, '') OPERATOR(pg_catalog.=) '' THEN
		RETURN;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.acl_snapshot', '', true);
	SELECT n.key INTO bad FROM pg_catalog.jsonb_each_text(pubdata._guard_acl_state()) n
	 WHERE n.value IS DISTINCT FROM (before::jsonb OPERATOR(pg_catalog.->>) n.key)
	 ORDER BY n.key LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'privileges on the table of resource "%" are managed by pubdata', bad
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'A GRANT outside pubdata would give columns or rows no share request decided.',
				  HINT = 'Share through pubdata.request_share() and pubdata.decide_share(); open data through pubdata_open.';
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._guard_grant_end() IS 'After a GRANT: refuse it if it changed the privileges of a registered table (internal)';

DROP EVENT TRIGGER IF EXISTS pubdata_guard_grant_start;
CREATE EVENT TRIGGER pubdata_guard_grant_start ON ddl_command_start
	WHEN TAG IN ('GRANT')
	EXECUTE FUNCTION pubdata._guard_grant_start();
DROP EVENT TRIGGER IF EXISTS pubdata_guard_grant;
CREATE EVENT TRIGGER pubdata_guard_grant ON ddl_command_end
	WHEN TAG IN ('GRANT')
	EXECUTE FUNCTION pubdata._guard_grant_end();
