-- Access audit: records, hash chain, rollback, no XID, who may read the log
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_audit_admin IN ROLE pubdata_admin;
CREATE ROLE regress_audit_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_audit_health;
CREATE ROLE regress_audit_tax;
RESET client_min_messages;
SET ROLE regress_audit_admin;
SELECT pubdata.add_department('audit_health', '市卫健委', '331100', 'administrative', 'regress_audit_health') > 0 AS added;
SELECT pubdata.add_department('audit_tax', '市税务局', '331100', 'administrative', 'regress_audit_tax') > 0 AS added;
RESET ROLE;

-- where the chain stood before this test (other tests may have written records)
CREATE TEMP TABLE audit_before AS SELECT seq FROM pubdata.audit_chain_head();
GRANT SELECT ON audit_before TO PUBLIC;

-- TEMPORARY until guard.c records real reads: write records directly.
-- A record written inside a transaction that rolls back stays, and the
-- transaction got no XID (the read did not become a write transaction).
BEGIN;
SELECT pubdata._audit_test_record('regress_audit_health', pubdata.department_id('audit_health'),
	'audit_health', 'AUD-R1,AUD-R2', 11, E'epidemic\tcontrol\nfake line', 'SELECT', 42, 3);
SELECT txid_current_if_assigned() IS NULL AS no_xid;
ROLLBACK;
SELECT pubdata._audit_test_record('regress_audit_tax', pubdata.department_id('audit_tax'),
	'audit_tax', 'AUD-R1', 0, NULL, 'COPY', 43, 5);

-- the auditor sees both records, the rolled-back one included, purpose intact
SET ROLE regress_audit_auditor;
SELECT seq - (SELECT seq FROM audit_before) AS n, role_name, department, resource, grant_id,
	   purpose, purpose = E'epidemic\tcontrol\nfake line' AS purpose_intact, command, query_id, rows,
	   length(hash) AS hash_len
  FROM pubdata.access_log WHERE seq > (SELECT seq FROM audit_before) ORDER BY seq, resource;
SELECT department, resource, statements, rows, roles, grants
  FROM pubdata.usage_stats WHERE department LIKE 'audit\_%' ORDER BY 1, 2;
SELECT ok, first_broken_seq, records >= 2 AS has_records FROM pubdata.verify_audit_chain();
-- the head is the last record and can be used as an anchor
SELECT h.seq = (SELECT max(seq) FROM pubdata.access_log) AS head_is_last FROM pubdata.audit_chain_head() h;
SELECT v.ok FROM pubdata.audit_chain_head() h, pubdata.verify_audit_chain(h.seq, h.hash) v;
-- a wrong anchor is detected, a half anchor refused
SELECT v.ok, v.first_broken_seq = h.seq AS broken_at_anchor
  FROM pubdata.audit_chain_head() h, pubdata.verify_audit_chain(h.seq, repeat('0', 64)) v;
SELECT * FROM pubdata.verify_audit_chain(1, NULL);
SELECT * FROM pubdata.verify_audit_chain(1, 'not a hash');
-- the auditor cannot change the log or switch the audit off
SET pubdata.audit = off;
DELETE FROM pubdata.access_log;
RESET ROLE;

-- a department sees its own reads only, and cannot reach the log otherwise
SET ROLE regress_audit_tax;
SELECT role_name, department, resource, command, rows, as_provider FROM pubdata.my_access_log;
SELECT count(*) FROM pubdata.access_log;
SELECT count(*) FROM pubdata.usage_stats;
SELECT count(*) FROM pubdata._audit_records();
SELECT * FROM pubdata.verify_audit_chain();
SELECT * FROM pubdata.audit_chain_head();
SELECT pubdata._audit_test_record('regress_audit_tax', 0, NULL, 'AUD-R1', 0, NULL, 'SELECT', 0, 0);
SELECT pg_catalog.pg_read_file('pg_pubdata/audit/head');
SELECT pg_catalog.pg_ls_dir('pg_pubdata/audit');
COPY (SELECT 1) TO '/tmp/regress_audit_forge';
SET pubdata.audit = off;
SET pubdata.audit_sync_interval = 0;
RESET ROLE;
-- a role with no department cannot use my_access_log
SET ROLE regress_audit_admin;
SELECT count(*) FROM pubdata.my_access_log;
RESET ROLE;
SHOW pubdata.audit;

-- with pubdata.audit off (superuser), nothing is recorded
SET pubdata.audit = off;
SELECT pubdata._audit_test_record('regress_audit_tax', 0, NULL, 'AUD-R1', 0, NULL, 'SELECT', 0, 0);
RESET pubdata.audit;
SELECT count(*) AS new_records FROM pubdata.access_log WHERE seq > (SELECT seq FROM audit_before);
SELECT ok FROM pubdata.verify_audit_chain();
