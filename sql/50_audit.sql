-- Access audit: real reads through the executor hook leave hash-chained
-- records that survive rollback, assign no XID, and only the bureau and the
-- auditor can read; departments see their own reads and reads of their data.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_audit_admin IN ROLE pubdata_admin;
CREATE ROLE regress_audit_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_audit_prov;
CREATE ROLE regress_audit_user;
CREATE ROLE regress_audit_other;
-- a login of the using department whose name tries to forge a record line
CREATE ROLE "regress_audit_evil
99	0	0	x	y	0	\N	SELECT	0	0	00" IN ROLE regress_audit_user;
CREATE SCHEMA regress_audit AUTHORIZATION regress_audit_prov;
GRANT USAGE ON SCHEMA regress_audit TO PUBLIC;
RESET client_min_messages;
SET ROLE regress_audit_admin;
SELECT pubdata.add_department('audit_prov', '市人社局', '331100', 'administrative', 'regress_audit_prov') > 0 AS ok;
SELECT pubdata.add_department('audit_user', '市医保局', '331100', 'administrative', 'regress_audit_user') > 0 AS ok;
SELECT pubdata.add_department('audit_other', '市交通局', '331100', 'administrative', 'regress_audit_other') > 0 AS ok;
RESET ROLE;

-- the provider registers a restricted and an unconditional resource
SET ROLE regress_audit_prov;
CREATE TABLE regress_audit.insured (id int PRIMARY KEY, name text, salary numeric);
INSERT INTO regress_audit.insured SELECT i, 'person ' || i, 1000 * i FROM generate_series(1, 5) i;
CREATE TABLE regress_audit.office (code text PRIMARY KEY, name text);
INSERT INTO regress_audit.office VALUES ('A', '莲都窗口'), ('B', '青田窗口');
SELECT pubdata.register_resource('regress_audit.insured', 'AUD-INS', '参保人员', 'audit_prov',
	'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.register_resource('regress_audit.office', 'AUD-OFF', '经办窗口', 'audit_prov',
	'unconditional', 'open', 'monthly', 1) > 0 AS ok;
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['AUD-INS', 'AUD-OFF']) c;
RESET ROLE;
SET ROLE regress_audit_admin;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['AUD-INS', 'AUD-OFF']) c;
RESET ROLE;
SET ROLE regress_audit_user;
SELECT pubdata.request_share('AUD-INS', '医保待遇核查', ARRAY['id', 'name']) AS req \gset
RESET ROLE;
SET ROLE regress_audit_prov;
SELECT pubdata.decide_share(:req, true);
RESET ROLE;

-- where the chain stood before this test's reads
CREATE TEMP TABLE audit_before AS SELECT seq FROM pubdata.audit_chain_head();
GRANT SELECT ON audit_before TO PUBLIC;

-- reads that are not audited: the provider's own, an unconditional resource
SET ROLE regress_audit_prov;
SELECT count(*) FROM regress_audit.insured;
RESET ROLE;
SET ROLE regress_audit_user;
SELECT count(*) FROM regress_audit.office;
-- an audited read in a transaction that rolls back: no XID was assigned,
-- and the record stays
BEGIN;
SELECT set_config('pubdata.purpose', :'req', true) IS NOT NULL AS purpose_set;
SELECT id, name FROM regress_audit.insured ORDER BY id;
SELECT txid_current_if_assigned() IS NULL AS no_xid;
ROLLBACK;
-- a read that fails half-way is recorded too
SELECT id / (id - 3) FROM regress_audit.insured ORDER BY id;
-- a join reading the restricted and the unconditional resource: one record
SELECT count(*) FROM regress_audit.insured i, regress_audit.office o WHERE o.code = 'A';
RESET ROLE;
-- the login with the forging name reads through its department's grant
SET ROLE "regress_audit_evil
99	0	0	x	y	0	\N	SELECT	0	0	00";
SELECT count(*) FROM regress_audit.insured WHERE id <= 2;
RESET ROLE;

-- the auditor sees the records, in order, the rolled-back read included
SET ROLE regress_audit_auditor;
SELECT seq - (SELECT seq FROM audit_before) AS n, translate(role_name, E'\n\t', '/|') AS role_name, department, resource,
	   grant_id = :req AS by_grant, purpose AS grant_purpose, command, outcome, rows, length(hash) AS hash_len, statement
  FROM pubdata.access_log WHERE seq > (SELECT seq FROM audit_before) ORDER BY seq, resource;
SELECT department, resource, provider, statements, rows, roles, grants
  FROM pubdata.usage_stats WHERE resource LIKE 'AUD-%' ORDER BY 1, 2;
SELECT ok, first_broken_seq, records > 0 AS has_records FROM pubdata.verify_audit_chain();
-- the head is the last record, and serves as an anchor
SELECT h.seq = (SELECT max(seq) FROM pubdata.access_log) AS head_is_last FROM pubdata.audit_chain_head() h;
SELECT v.ok FROM pubdata.audit_chain_head() h, pubdata.verify_audit_chain(h.seq, h.hash) v;
SELECT v.ok, v.first_broken_seq = h.seq AS broken_at_anchor
  FROM pubdata.audit_chain_head() h, pubdata.verify_audit_chain(h.seq, repeat('0', 64)) v;
SELECT * FROM pubdata.verify_audit_chain(1, NULL);
SELECT * FROM pubdata.verify_audit_chain(1, 'not a hash');
-- the auditor can neither change the log nor switch the audit off
SET pubdata.audit = off;
DELETE FROM pubdata.access_log;
RESET ROLE;

-- the using department sees its own reads; the provider sees reads of its data
SET ROLE regress_audit_user;
SELECT translate(role_name, E'\n\t', '/|') AS role_name, department, resource, command, outcome, rows, as_provider
  FROM pubdata.my_access_log WHERE seq > (SELECT seq FROM audit_before) ORDER BY seq, resource;
RESET ROLE;
SET ROLE regress_audit_prov;
SELECT translate(role_name, E'\n\t', '/|') AS role_name, department, resource, command, outcome, rows, as_provider
  FROM pubdata.my_access_log WHERE seq > (SELECT seq FROM audit_before) ORDER BY seq, resource;
RESET ROLE;
-- another department sees none of it
SET ROLE regress_audit_other;
SELECT count(*) FROM pubdata.my_access_log WHERE resource LIKE 'AUD-%';

-- a department cannot reach the log, its files, or the switches
SELECT count(*) FROM pubdata.access_log;
SELECT count(*) FROM pubdata.usage_stats;
SELECT count(*) FROM pubdata._audit_records();
SELECT * FROM pubdata.verify_audit_chain();
SELECT * FROM pubdata.audit_chain_head();
SELECT pg_catalog.pg_read_file('pg_pubdata/audit/head');
SELECT pg_catalog.pg_ls_dir('pg_pubdata/audit');
COPY (SELECT 1) TO '/tmp/regress_audit_forge';
CREATE FUNCTION pubdata.verify_audit_chain() RETURNS boolean LANGUAGE sql AS 'SELECT true';
DROP VIEW pubdata.access_log;
ALTER FUNCTION pubdata._audit_records() OWNER TO regress_audit_other;
SET pubdata.audit = off;
SET pubdata.audit_sync_interval = 0;
RESET ROLE;
-- a role with no department cannot use my_access_log
SET ROLE regress_audit_admin;
SELECT count(*) FROM pubdata.my_access_log;
RESET ROLE;

-- with pubdata.audit off (superuser only) reads are not recorded
SET pubdata.audit = off;
SET ROLE regress_audit_user;
SELECT count(*) FROM regress_audit.insured;
RESET ROLE;
RESET pubdata.audit;
SELECT count(*) AS records_in_test FROM pubdata.access_log WHERE seq > (SELECT seq FROM audit_before);
SELECT ok FROM pubdata.verify_audit_chain();

-- clean up (the audit log itself is append-only and stays)
SET client_min_messages = warning;
SELECT pubdata.retire_resource(code, 'end of test') FROM pubdata.resource WHERE code IN ('AUD-INS', 'AUD-OFF');
DROP SCHEMA regress_audit CASCADE;
DELETE FROM pubdata.share_request;
DELETE FROM pubdata.resource WHERE code IN ('AUD-INS', 'AUD-OFF');
DELETE FROM pubdata.resource_history WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id = resource_id);
DELETE FROM pubdata.department WHERE code IN ('audit_prov', 'audit_user', 'audit_other');
DROP OWNED BY regress_audit_other;
DROP ROLE regress_audit_admin, regress_audit_auditor, regress_audit_prov, regress_audit_user, regress_audit_other,
	"regress_audit_evil
99	0	0	x	y	0	\N	SELECT	0	0	00";
