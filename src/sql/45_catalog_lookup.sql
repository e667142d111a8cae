-- ---------------------------------------------------------------------------
-- Lookups every module uses: the calling department, a resource by code
-- ---------------------------------------------------------------------------

-- department_of(role): the department a role acts for: its own, or the single
-- department role it is a member of (SET ROLE picks one when there are several)
CREATE OR REPLACE FUNCTION pubdata.department_of(role_name name) RETURNS integer
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(
		(SELECT d.id FROM pubdata.department d WHERE d.role_name OPERATOR(pg_catalog.=) $1),
		(SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 1 THEN pg_catalog.min(d.id) END
		   FROM pubdata.department d
		   JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) d.role_name
		  WHERE NOT (SELECT s.rolsuper FROM pg_catalog.pg_roles s WHERE s.rolname OPERATOR(pg_catalog.=) $1)
			AND pg_catalog.pg_has_role($1, r.oid, 'MEMBER')))
$$;
COMMENT ON FUNCTION pubdata.department_of(name) IS
	'The department id a role acts for (its own mapping, or its only department membership); NULL if none';

-- current_department(): the caller's department id, or a clear error
CREATE OR REPLACE FUNCTION pubdata.current_department() RETURNS integer
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d integer := pubdata.department_of(pubdata.caller());
BEGIN
	IF d IS NULL THEN
		RAISE EXCEPTION 'role "%" does not act for a pubdata department', pubdata.caller()
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The role is not mapped to a department, or is a member of several department roles.',
				  HINT = 'SET ROLE to your department''s role, or ask pubdata_admin to map it with pubdata.add_department().';
	END IF;
	RETURN d;
END
$$;
COMMENT ON FUNCTION pubdata.current_department() IS 'The calling role''s department id; an error if it acts for none';

-- department_id(code): a department by code, or a clear error
CREATE OR REPLACE FUNCTION pubdata.department_id(code text) RETURNS integer
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d integer;
BEGIN
	SELECT id INTO d FROM pubdata.department WHERE department.code OPERATOR(pg_catalog.=) $1;
	IF d IS NULL THEN
		RAISE EXCEPTION 'department "%" does not exist', $1
			USING ERRCODE = 'undefined_object',
				  HINT = 'See SELECT code, name FROM pubdata.department.';
	END IF;
	RETURN d;
END
$$;
COMMENT ON FUNCTION pubdata.department_id(text) IS 'A department''s id from its code; an error naming it if unknown';

-- resource_id(code): a resource by code, or a clear error
CREATE OR REPLACE FUNCTION pubdata.resource_id(code text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r bigint;
BEGIN
	SELECT id INTO r FROM pubdata.resource WHERE resource.code OPERATOR(pg_catalog.=) $1;
	-- an entry the caller may not see (another department's draft) is not
	-- there for it: the same answer as an unknown code
	IF r IS NULL OR pubdata._catalog_sight(r) IS NULL THEN
		RAISE EXCEPTION 'resource "%" does not exist', $1
			USING ERRCODE = 'undefined_object',
				  HINT = 'See SELECT code, name FROM pubdata.resource.';
	END IF;
	RETURN r;
END
$$;
COMMENT ON FUNCTION pubdata.resource_id(text) IS 'A resource''s id from its code; an error naming it if unknown or not visible to the caller (another department''s unpublished entry)';

-- _resources_of(rel): the resources whose table is this relation or a
-- partitioned table above it (a partition is part of its table's resource);
-- what the DDL and policy guards ask of every relation a command touched
CREATE OR REPLACE FUNCTION pubdata._resources_of(rel oid) RETURNS SETOF bigint
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.id FROM pubdata.resource r
	 WHERE r.relation::oid OPERATOR(pg_catalog.=) ANY (
			SELECT $1 UNION SELECT x.relid::pg_catalog.oid FROM pg_catalog.pg_partition_ancestors($1) x)
$$;
COMMENT ON FUNCTION pubdata._resources_of(oid) IS 'Internal: the resources of a relation, as their table or as a partition of it';
