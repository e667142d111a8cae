-- Archiving the access audit (issue 13): the SQL errors of audit_archive,
-- audit_prune and verify_audit_archive, as the roles that call them.  The
-- archive, the prune and the verification across the cut are in
-- test/shell/54_audit_archive.sh (they need a private cluster).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_ar_admin IN ROLE pubdata_admin;
CREATE ROLE regress_ar_files IN ROLE pubdata_admin, pg_write_server_files;
CREATE ROLE regress_ar_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_ar_reader IN ROLE pubdata_auditor, pg_read_server_files;
CREATE ROLE regress_ar_dept IN ROLE pubdata_department;
-- errors with the data directory's path shown as $PGDATA
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || replace(SQLERRM, current_setting('data_directory'), '$PGDATA');
END $$;
RESET client_min_messages;

-- who may: a department never; the bureau only with pg_write_server_files
SET ROLE regress_ar_dept;
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', '/tmp');
SELECT * FROM pubdata.audit_prune('/tmp');
SELECT * FROM pubdata.verify_audit_archive('/tmp');
SET ROLE regress_ar_admin;
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', '/tmp');
SELECT * FROM pubdata.audit_prune('/tmp');
SET ROLE regress_ar_auditor;
SELECT * FROM pubdata.audit_prune('/tmp');
SELECT * FROM pubdata.verify_audit_archive('/tmp');
RESET ROLE;

-- the directory: absolute, existing, a directory, outside the data directory
SET ROLE regress_ar_files;
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', 'audit-archive');
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', '/dev/null');
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', '/nonexistent/pubdata-archive');
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', NULL);
SELECT * FROM pubdata.audit_prune('relative/dir');
SELECT * FROM pubdata.audit_prune('/dev/null');
RESET ROLE;
SELECT pg_temp.err($$SELECT * FROM pubdata.audit_archive(now() - interval '1 day', '$$ || current_setting('data_directory') || $$/pg_pubdata')$$);

-- the cut: given, not in the future; before every record: nothing to archive
SET ROLE regress_ar_files;
SELECT * FROM pubdata.audit_archive(NULL, '/tmp');
SELECT count(*) FROM pubdata.audit_archive(now() + interval '1 day', '/tmp');
SELECT count(*) FROM pubdata.audit_archive('2000-01-01 00:00+08', '/tmp');
-- prune: upto_seq positive; nothing archived in the directory: nothing pruned
SELECT * FROM pubdata.audit_prune('/tmp', 0);
SELECT * FROM pubdata.audit_prune('/', NULL);
RESET ROLE;
-- server: the audit id of a chain kept here (audit_servers()); NULL or this
-- server's own id is its own log.  Refused before anything is written.
SET ROLE regress_ar_files;
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', '/tmp', 'standby-1');
SELECT * FROM pubdata.audit_archive(now() - interval '1 day', '/tmp', '0123456789abcdef0123456789abcdef');
SELECT * FROM pubdata.audit_prune('/tmp', NULL, '0123456789abcdef0123456789abcdef');
SELECT count(*) FROM pubdata.audit_archive('2000-01-01 00:00+08', '/tmp',
	(SELECT server_id FROM pubdata.audit_servers() WHERE this_server));
RESET ROLE;
SET ROLE regress_ar_reader;
SELECT * FROM pubdata.verify_audit_archive('/tmp', '0123456789abcdef0123456789abcdef');
-- with a server too: the roles that may not, may not
SET ROLE regress_ar_dept;
SELECT * FROM pubdata.verify_audit_archive('/tmp', '0123456789abcdef0123456789abcdef');
SET ROLE regress_ar_auditor;
SELECT * FROM pubdata.audit_prune('/tmp', NULL, '0123456789abcdef0123456789abcdef');
SELECT * FROM pubdata.verify_audit_archive('/tmp', '0123456789abcdef0123456789abcdef');
RESET ROLE;
-- verify: a directory without a manifest is no archive
SELECT ok, segments, records, first_seq, last_seq, first_broken_seq, detail FROM pubdata.verify_audit_archive('/');
SELECT count(*) FROM pubdata.audit_events WHERE kind IN ('archived', 'pruned');

DROP ROLE regress_ar_admin, regress_ar_files, regress_ar_auditor, regress_ar_reader, regress_ar_dept;
