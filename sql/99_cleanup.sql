-- Clean up after the suite, so that it can run again on the same server
-- (make installcheck on a DBA's cluster): roles are cluster-wide.
SET client_min_messages = warning;
SELECT count(pubdata.retire_resource(code, 'end of the test suite')) >= 0 AS retired
  FROM pubdata.resource WHERE status <> 'retired';
DO $$
DECLARE
	r text;
BEGIN
	FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'regress\_%' ORDER BY rolname DESC LOOP
		EXECUTE format('DROP OWNED BY %I CASCADE', r);
	END LOOP;
	FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'regress\_%' ORDER BY rolname DESC LOOP
		EXECUTE format('DROP ROLE %I', r);
	END LOOP;
END
$$;
SELECT count(*) AS regress_roles_left FROM pg_roles WHERE rolname LIKE 'regress\_%';
