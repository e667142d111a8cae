-- ---------------------------------------------------------------------------
-- One access audit across the primary and its standbys: every chain kept
-- here verified (the functions: 43_audit_servers.sql, src/audit_ship.c).
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata.verify_audit_chains(
	OUT server text, OUT this_server boolean, OUT ok boolean, OUT records bigint,
	OUT first_broken_seq bigint, OUT detail text)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT (SELECT a.name FROM pubdata.audit_servers() a WHERE a.this_server), true, v.ok, v.records, v.first_broken_seq, v.detail
	  FROM pubdata.verify_audit_chain() v
	UNION ALL
	SELECT s.server, false, s.ok, s.records, s.first_broken_seq, s.detail
	  FROM pubdata._verify_shipped_chains() s
$$;
COMMENT ON FUNCTION pubdata.verify_audit_chains() IS
	'Verify every access audit chain kept on this server: its own (verify_audit_chain()) and each standby''s shipped here, relinked from its fork, to its head, its fork checked against its origin''s record';

GRANT EXECUTE ON FUNCTION pubdata.verify_audit_chains() TO pubdata_admin, pubdata_auditor;
