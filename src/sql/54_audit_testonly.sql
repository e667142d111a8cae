-- ---------------------------------------------------------------------------
-- TEMPORARY (branch audit only, removed once guard.c's hook records reads):
-- a superuser-only way to write an audit record for the tests.
-- ---------------------------------------------------------------------------
CREATE FUNCTION pubdata._audit_test_record(role_name text, department_id integer,
	department_code text, resources text, grant_id bigint, purpose text,
	command text, query_id bigint, rows bigint)
	RETURNS void
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_test_record';
COMMENT ON FUNCTION pubdata._audit_test_record(text, integer, text, text, bigint, text, text, bigint, bigint) IS
	'TEMPORARY test helper: write one access audit record (superuser only)';
