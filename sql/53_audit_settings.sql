-- Turning the audit off is audited (issue 19): each change of pubdata.audit
-- or pubdata.guard, however it is made (SET, a function's SET clause,
-- set_config, ALTER ROLE ... SET and the session it starts), leaves a
-- record, and the reads made meanwhile are counted in the next one.  A
-- superuser's reads of restricted and non-shared data are audited like
-- anyone's.  Read as the audit office; the department sees none of it.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SELECT current_user AS superuser \gset
CREATE ROLE regress_as_admin IN ROLE pubdata_admin;
CREATE ROLE regress_as_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_as_prov;
CREATE ROLE regress_as_user LOGIN;
CREATE SCHEMA regress_as AUTHORIZATION regress_as_prov;
GRANT USAGE ON SCHEMA regress_as TO PUBLIC;
RESET client_min_messages;
SET ROLE regress_as_admin;
SELECT pubdata.add_department('as_prov', '市公安局', '331100', 'administrative', 'regress_as_prov') > 0 AS ok;
SELECT pubdata.add_department('as_user', '市民政局', '331100', 'administrative', 'regress_as_user') > 0 AS ok;
RESET ROLE;
SET ROLE regress_as_prov;
CREATE TABLE regress_as.person (id int PRIMARY KEY, name text, id_number text);
INSERT INTO regress_as.person VALUES (1, '张三', '330102199001011234'), (2, '李四', '330102199202021234');
CREATE TABLE regress_as.case_file (id int PRIMARY KEY, note text);
INSERT INTO regress_as.case_file VALUES (1, 'x');
CREATE TABLE regress_as.office (id int PRIMARY KEY, name text, keeper_phone text);
INSERT INTO regress_as.office VALUES (1, '莲都窗口', '13812345678');
SELECT pubdata.register_resource('regress_as.person', 'AS-PERSON', '人口', 'as_prov', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.register_resource('regress_as.case_file', 'AS-CASE', '案件', 'as_prov', 'non_shared', 'not_open', 'daily', 4,
	legal_basis => '《中华人民共和国刑事诉讼法》第152条') > 0 AS ok;
SELECT pubdata.register_resource('regress_as.office', 'AS-OFFICE', '窗口', 'as_prov', 'unconditional', 'not_open', 'daily', 1) > 0 AS ok;
SELECT pubdata.set_item('AS-OFFICE', 'keeper_phone', '联系电话', personal => 'personal');
CREATE TABLE regress_as.visit (id int, region text) PARTITION BY LIST (region);
CREATE TABLE regress_as.visit_a PARTITION OF regress_as.visit FOR VALUES IN ('a');
INSERT INTO regress_as.visit VALUES (1, 'a'), (2, 'a');
SELECT pubdata.register_resource('regress_as.visit', 'AS-VISIT', '走访', 'as_prov', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT count(pubdata.submit_resource(c)) FROM unnest(ARRAY['AS-PERSON', 'AS-CASE', 'AS-OFFICE', 'AS-VISIT']) c;
RESET ROLE;
SET ROLE regress_as_admin;
SELECT count(*) FROM (SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c)
						FROM unnest(ARRAY['AS-PERSON', 'AS-CASE', 'AS-OFFICE', 'AS-VISIT']) c) x;
RESET ROLE;
SET ROLE regress_as_user;
SELECT pubdata.request_share('AS-PERSON', '低保核查', ARRAY['id', 'name']) AS req \gset
RESET ROLE;
SET ROLE regress_as_prov;
SELECT pubdata.decide_share(:req, true);
RESET ROLE;
SELECT seq AS mark FROM pubdata.audit_chain_head() \gset

-- 1. a superuser's reads: restricted, non-shared and a personal item are
-- recorded (as the superuser, no department); the shared items are not
SELECT count(*) FROM regress_as.person;
SELECT count(*) FROM regress_as.case_file;
SELECT name FROM regress_as.office;
SELECT keeper_phone IS NOT NULL AS read_phone FROM regress_as.office;
-- a partition of a restricted table, named directly: recorded under the resource
SELECT count(*) FROM regress_as.visit_a;
-- the provider's own read is not recorded
SET ROLE regress_as_prov;
SELECT count(*) FROM regress_as.case_file;
RESET ROLE;
SET ROLE regress_as_auditor;
SELECT role_name = :'superuser' AS by_superuser, department, resource, command, outcome, rows, grant_id
  FROM pubdata.access_log WHERE seq > :mark ORDER BY seq;
RESET ROLE;
-- a superuser copying a restricted table is recorded too, and not refused
COPY (SELECT id FROM regress_as.person ORDER BY id) TO STDOUT;
SET ROLE regress_as_auditor;
SELECT resource, command, rows FROM pubdata.access_log WHERE seq > :mark ORDER BY seq DESC LIMIT 1;
RESET ROLE;

-- 2. SET pubdata.audit = off: the change is recorded; the department's read
-- while it is off is not, but counted in the record of the change back
SELECT seq AS mark FROM pubdata.audit_chain_head() \gset
SET pubdata.audit = off;
SET ROLE regress_as_user;
SELECT count(*) FROM regress_as.person;
SELECT count(*) FROM regress_as.person WHERE id = 1;
RESET ROLE;
SET pubdata.audit = on;
-- pubdata.guard off: the same
SET pubdata.guard = off;
SET ROLE regress_as_user;
SELECT count(*) FROM regress_as.person;
RESET ROLE;
RESET pubdata.guard;
-- a superuser's function with a SET clause, run by the department (CREATE
-- FUNCTION itself applies the clause while it validates the body: recorded)
CREATE FUNCTION regress_as.quiet_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER
	SET pubdata.audit = off AS $$ SELECT count(*) FROM regress_as.person $$;
GRANT EXECUTE ON FUNCTION regress_as.quiet_count() TO regress_as_user;
SET ROLE regress_as_user;
SELECT regress_as.quiet_count();
RESET ROLE;
-- set_config in a transaction: off, and back on at its end
BEGIN;
SELECT set_config('pubdata.audit', 'off', true);
SET LOCAL ROLE regress_as_user;
SELECT count(*) FROM regress_as.person;
COMMIT;
-- the next audited read comes after the records of the changes
SET ROLE regress_as_user;
SELECT count(*) FROM regress_as.person WHERE id = 2;
RESET ROLE;
-- ALTER ROLE ... SET: recorded when it is run, and when a session starts with it
ALTER ROLE regress_as_user SET pubdata.audit = off;
\c - regress_as_user
SELECT count(*) FROM regress_as.person;
\c - :superuser
ALTER ROLE regress_as_user RESET pubdata.audit;

-- what the audit office reads: the events, in order, with the reads counted
SET ROLE regress_as_auditor;
SELECT kind, command, coalesce(database, '-') = current_database() AS this_database,
	   role_name, reads_unrecorded,
	   regexp_replace(detail, '\(process [0-9]+\)', '(process N)') AS detail
  FROM pubdata.audit_events WHERE seq > :mark ORDER BY seq;
-- and the reads that were recorded: the department's last, not the quiet ones
SELECT role_name, department, resource, rows FROM pubdata.access_log
 WHERE seq > :mark ORDER BY seq;
SELECT ok FROM pubdata.verify_audit_chain();
RESET ROLE;

-- the department reads none of it, and cannot switch anything off
SET ROLE regress_as_user;
SELECT count(*) FROM pubdata.audit_events;
SELECT count(*) FROM pubdata.audit_alerts;
SELECT count(*) FROM pubdata.audit_anchor;
SET pubdata.guard = off;
SELECT set_config('pubdata.audit', 'off', false);
SELECT count(*) AS my_rows_without_events FROM pubdata.my_access_log WHERE seq > :mark;
RESET ROLE;

-- clean up (the audit log itself is append-only and stays)
SET client_min_messages = warning;
SELECT count(pubdata.retire_resource(c, 'end of test')) FROM unnest(ARRAY['AS-PERSON', 'AS-CASE', 'AS-OFFICE', 'AS-VISIT']) c;
DROP SCHEMA regress_as CASCADE;
DELETE FROM pubdata.share_request WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'AS-%');
DELETE FROM pubdata.resource WHERE code LIKE 'AS-%';
DELETE FROM pubdata.resource_history WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id = resource_id);
DELETE FROM pubdata.department WHERE code IN ('as_prov', 'as_user');
DROP ROLE regress_as_admin, regress_as_auditor, regress_as_prov, regress_as_user;
