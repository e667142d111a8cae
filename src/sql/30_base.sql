-- ---------------------------------------------------------------------------
-- Internal helpers: who is calling, checked enum input, uniform errors
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata.caller() RETURNS name
	AS 'MODULE_PATHNAME', 'pubdata_caller'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.caller() IS
	'The role acting in this session (current_user after SET ROLE), also inside pubdata''s SECURITY DEFINER functions';

-- is_admin(): the caller is a member of pubdata_admin (or a superuser)
CREATE OR REPLACE FUNCTION pubdata.is_admin() RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_admin', 'MEMBER') $$;
COMMENT ON FUNCTION pubdata.is_admin() IS 'true when the calling role is pubdata_admin (directly, by membership or as superuser)';

-- _require_admin(action): error unless the caller is pubdata_admin
CREATE OR REPLACE FUNCTION pubdata._require_admin(action text) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT pubdata.is_admin() THEN
		RAISE EXCEPTION 'permission denied to %', action
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" is not a member of pubdata_admin.', pubdata.caller()),
				  HINT = 'Only the Big Data Bureau (pubdata_admin) may do this.';
	END IF;
END
$$;

-- _check_enum(value, type, what): the value, or a clear error listing the allowed ones
CREATE OR REPLACE FUNCTION pubdata._check_enum(val text, typ regtype, what text) RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF val IS NULL THEN
		RETURN NULL;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
				   WHERE e.enumtypid OPERATOR(pg_catalog.=) typ AND e.enumlabel OPERATOR(pg_catalog.=) val) THEN
		RAISE EXCEPTION 'invalid % "%"', what, val
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use one of: ' || (SELECT pg_catalog.string_agg(e.enumlabel::text, ', ' ORDER BY e.enumsortorder)
										   FROM pg_catalog.pg_enum e WHERE e.enumtypid OPERATOR(pg_catalog.=) typ) || '.';
	END IF;
	RETURN val;
END
$$;

-- _owner_count(relation, query, args): the one way pubdata's SQL functions
-- look into a department's relation.  The query (a SELECT of one bigint, with
-- args as $1) is parsed, planned and run as the relation's owner in a
-- security-restricted operation with search_path pinned, so that the
-- relation's views, policies, index predicates, operators and functions run
-- with that department's rights, never the extension owner's.  Granted to
-- no role: only pubdata's SECURITY DEFINER functions call it.
CREATE OR REPLACE FUNCTION pubdata._owner_count(relation regclass, query text, args jsonb) RETURNS bigint
	AS 'MODULE_PATHNAME', 'pubdata_owner_count'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pubdata._owner_count(regclass, text, jsonb) IS
	'Internal: run a counting query over a department''s relation as its owner (security-restricted, search_path pinned); callable only by pubdata''s own functions';

-- _internal_ddl(): pubdata's own functions are changing policies and
-- privileges (pubdata.internal_ddl, set by them only); the DDL follow-up and
-- guards stand aside.  Here, before any table: the follow-up fires as soon
-- as CREATE EXTENSION makes one.
CREATE OR REPLACE FUNCTION pubdata._internal_ddl() RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_internal_ddl_active' LANGUAGE C STABLE;

