-- An approved grant is enough to read: the schema's usage comes with it and
-- goes when no grant needs it; refusals that point the right way.  Run as the
-- departments' logins (SET SESSION AUTHORIZATION), the bureau and the auditor.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_um_admin LOGIN IN ROLE pubdata_admin;
CREATE ROLE regress_um_auditor LOGIN IN ROLE pubdata_auditor;
CREATE ROLE regress_um_police LOGIN;
CREATE ROLE regress_um_civil LOGIN;
CREATE ROLE regress_um_health LOGIN;
CREATE ROLE regress_um_tax LOGIN;
-- the police's own schema: nobody else may use it
CREATE SCHEMA um_police AUTHORIZATION regress_um_police;
-- a schema of the health commission, where the police may create tables
CREATE SCHEMA um_health AUTHORIZATION regress_um_health;
GRANT USAGE, CREATE ON SCHEMA um_health TO regress_um_police;
-- a schema of the DBA (a superuser), where the police may create tables
CREATE SCHEMA um_common;
GRANT USAGE, CREATE ON SCHEMA um_common TO regress_um_police;
RESET client_min_messages;
SET SESSION AUTHORIZATION regress_um_admin;
SELECT pubdata.add_department('um_police', '市公安局', '331100', 'administrative', 'regress_um_police') > 0 AS ok;
SELECT pubdata.add_department('um_civil', '市民政局', '331100', 'administrative', 'regress_um_civil') > 0 AS ok;
SELECT pubdata.add_department('um_health', '市卫生健康委', '331100', 'administrative', 'regress_um_health') > 0 AS ok;
SELECT pubdata.add_department('um_tax', '市税务局', '331100', 'administrative', 'regress_um_tax') > 0 AS ok;
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_um_police;
CREATE TABLE um_police.household (id int PRIMARY KEY, name text, region text, phone text, address text);
INSERT INTO um_police.household VALUES (1, '张三', '331102', '13800000001', '人民街1号'),
	(2, '李四', '331121', '13800000002', '鹤城路3号');
SELECT pubdata.register_resource('um_police.household', 'UM-HH', '户籍人口', 'um_police', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.set_item('UM-HH', 'phone', '电话', personal => 'personal');
SELECT pubdata.submit_resource('UM-HH');
CREATE TABLE um_police.station (code text PRIMARY KEY, name text, chief text);
INSERT INTO um_police.station VALUES ('LD01', '莲都派出所', '赵六');
SELECT pubdata.register_resource('um_police.station', 'UM-ST', '派出所', 'um_police', 'unconditional', 'not_open', 'monthly', 1) > 0 AS ok;
SELECT pubdata.set_item('UM-ST', 'chief', '所长', personal => 'personal');
SELECT pubdata.submit_resource('UM-ST');
-- tables of the police in schemas that are not the police's
CREATE TABLE um_health.clinic_check (id int PRIMARY KEY, result text);
INSERT INTO um_health.clinic_check VALUES (1, '合格');
SELECT pubdata.register_resource('um_health.clinic_check', 'UM-CC', '诊所检查', 'um_police', 'restricted', 'not_open', 'daily', 2) > 0 AS ok;
SELECT pubdata.submit_resource('UM-CC');
CREATE TABLE um_common.permit (id int PRIMARY KEY, holder text);
INSERT INTO um_common.permit VALUES (1, '甲');
SELECT pubdata.register_resource('um_common.permit', 'UM-PERMIT', '许可证', 'um_police', 'restricted', 'not_open', 'daily', 2) > 0 AS ok;
SELECT pubdata.submit_resource('UM-PERMIT');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_admin;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['UM-HH', 'UM-ST', 'UM-CC', 'UM-PERMIT']) c;
-- the unconditional resource opens the schema to every department
SELECT schema_name, role_name FROM pubdata.schema_usage WHERE schema_name LIKE 'um\_%' ORDER BY 1, 2;
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- schema usage comes with a grant, and goes with the last one
-- ---------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.retire_resource('UM-ST', '并入 UM-HH');
RESET SESSION AUTHORIZATION;
SELECT count(*) AS usage_rows FROM pubdata.schema_usage WHERE schema_name LIKE 'um\_%';
SELECT has_schema_privilege('regress_um_civil', 'um_police', 'USAGE') AS civil_usage;
SET SESSION AUTHORIZATION regress_um_civil;
SELECT id, name FROM um_police.household;
SELECT pubdata.request_share('UM-HH', '低保核查', ARRAY['id', 'name', 'region']) AS g1 \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.decide_share(:g1, true, row_scope => '{"region": "331102"}');
RESET SESSION AUTHORIZATION;
-- the Getting started case: an approved grant is enough to read
SET SESSION AUTHORIZATION regress_um_civil;
SELECT id, name FROM um_police.household;
RESET SESSION AUTHORIZATION;
SELECT schema_name, role_name FROM pubdata.schema_usage WHERE schema_name LIKE 'um\_%' ORDER BY 1, 2;
-- a second grant of the same department: still one usage
SET SESSION AUTHORIZATION regress_um_civil;
SELECT pubdata.request_share('UM-HH', '住址核查', ARRAY['id', 'address']) AS g2 \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.decide_share(:g2, true);
SELECT pubdata.revoke_share(:g1, '核查结束');
RESET SESSION AUTHORIZATION;
SELECT has_schema_privilege('regress_um_civil', 'um_police', 'USAGE') AS civil_usage_one_grant_left;
SET SESSION AUTHORIZATION regress_um_civil;
SELECT pubdata.revoke_share(:g2, '不再需要');
RESET SESSION AUTHORIZATION;
SELECT has_schema_privilege('regress_um_civil', 'um_police', 'USAGE') AS civil_usage_no_grant_left,
	   count(*) AS usage_rows FROM pubdata.schema_usage WHERE schema_name LIKE 'um\_%';
SET SESSION AUTHORIZATION regress_um_civil;
SELECT id FROM um_police.household;
RESET SESSION AUTHORIZATION;

-- a usage the owner gave is not pubdata's: it is neither recorded nor taken
SET SESSION AUTHORIZATION regress_um_police;
GRANT USAGE ON SCHEMA um_police TO regress_um_health;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_health;
SELECT pubdata.request_share('UM-HH', '传染病追踪', ARRAY['id', 'region']) AS g3 \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.decide_share(:g3, true);
RESET SESSION AUTHORIZATION;
SELECT count(*) AS usage_rows FROM pubdata.schema_usage WHERE schema_name LIKE 'um\_%';
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.revoke_share(:g3, '追踪结束');
RESET SESSION AUTHORIZATION;
SELECT has_schema_privilege('regress_um_health', 'um_police', 'USAGE') AS health_keeps_the_owners_usage;

-- expiry: the grant stops at once; its usage goes at the next grant sweep
SET SESSION AUTHORIZATION regress_um_civil;
SELECT pubdata.request_share('UM-HH', '临时核查', ARRAY['id', 'name']) AS g4 \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.decide_share(:g4, true, expires_at => clock_timestamp() + interval '3 seconds');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_civil;
SELECT count(*) AS rows_before_expiry FROM um_police.household WHERE name IS NOT NULL;
SELECT pg_sleep(extract(epoch FROM (SELECT expires_at FROM pubdata.share_request_status WHERE id = :g4) - clock_timestamp())::float8 + 0.1);
DO $$
BEGIN
	PERFORM count(*) FROM um_police.household WHERE name IS NOT NULL;
	RAISE NOTICE 'read after the expiry';
EXCEPTION WHEN insufficient_privilege THEN
	RAISE NOTICE 'refused after the expiry: %', SQLERRM ~ '^grant [0-9]+ of resource "UM-HH" has expired$';
END
$$;
RESET SESSION AUTHORIZATION;
SELECT has_schema_privilege('regress_um_civil', 'um_police', 'USAGE') AS usage_until_the_sweep;
SET SESSION AUTHORIZATION regress_um_admin;
SELECT pubdata.sweep_grants() > 0 AS swept;
RESET SESSION AUTHORIZATION;
SELECT has_schema_privilege('regress_um_civil', 'um_police', 'USAGE') AS usage_after_the_sweep;

-- a schema that is not the provider's is not opened: its owner decides
SET SESSION AUTHORIZATION regress_um_civil;
SELECT pubdata.request_share('UM-CC', '诊所核查', ARRAY['id', 'result']) AS g5 \gset
SELECT pubdata.request_share('UM-PERMIT', '许可核查', ARRAY['id', 'holder']) AS g6 \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.decide_share(:g5, true);
SELECT pubdata.decide_share(:g6, true);
RESET SESSION AUTHORIZATION;
SELECT has_schema_privilege('regress_um_civil', 'um_health', 'USAGE') AS civil_in_health_schema,
	   has_schema_privilege('regress_um_civil', 'um_common', 'USAGE') AS civil_in_dba_schema;
SET SESSION AUTHORIZATION regress_um_civil;
SELECT id, result FROM um_health.clinic_check;
RESET SESSION AUTHORIZATION;
-- once the owner gives it, the grant reads
GRANT USAGE ON SCHEMA um_common TO regress_um_civil;
SET SESSION AUTHORIZATION regress_um_civil;
SELECT id, holder FROM um_common.permit;
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- messages that point the right way
-- ---------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_um_civil;
SELECT pubdata.request_share('UM-HH', '低保核查', ARRAY['id', 'name', 'region']) AS g7 \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_police;
SELECT pubdata.decide_share(:g7, true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_civil;
-- SELECT * with a partial grant: the items not granted are named
SELECT * FROM um_police.household;
SELECT id, phone FROM um_police.household;
SELECT id, name, region FROM um_police.household ORDER BY id;
-- without any grant the schema itself stays closed
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_tax;
SELECT * FROM um_police.household;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_civil;
-- writing another department's data: only the provider writes it
UPDATE um_police.household SET name = '王五' WHERE id = 1;
UPDATE um_police.household SET address = '';
DELETE FROM um_police.household WHERE id = 2;
INSERT INTO um_police.household (id, name) VALUES (3, '赵六');
-- locking rows is not a write: the executor's own error
SELECT id FROM um_police.household FOR UPDATE;
-- the bureau's views: what a department reads instead
SELECT count(*) FROM pubdata.access_log;
SELECT count(*) FROM pubdata.usage_stats;
SELECT count(*) FROM pubdata.lineage_edge;
SELECT count(*) FROM pubdata.lineage_edge_data;
SELECT count(*) FROM (SELECT 1 FROM pubdata.access_log WHERE false) s;
WITH e AS (SELECT * FROM pubdata.lineage_edge) SELECT count(*) FROM e;
SELECT EXISTS (SELECT 1 FROM pubdata.lineage_edge) AS any_edge;
PREPARE bureau_log AS SELECT count(*) FROM pubdata.access_log;
-- and what it reads: its own log, the walks
SELECT count(*) > 0 AS has_own_reads FROM pubdata.my_access_log;
SELECT count(*) FROM pubdata.lineage_upstream('um_police.household');
RESET SESSION AUTHORIZATION;
-- the provider's writes are its own; the bureau and the auditor read the log
SET SESSION AUTHORIZATION regress_um_police;
UPDATE um_police.household SET name = '张三' WHERE id = 1;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_um_auditor;
SELECT count(*) > 0 AS auditor_reads_log FROM pubdata.access_log;
SELECT count(*) >= 0 AS auditor_reads_lineage FROM pubdata.lineage_edge;
-- the write attempts are in the audit, refused
SELECT command, outcome, count(*) FROM pubdata.access_log
 WHERE role_name = 'regress_um_civil' AND command IN ('UPDATE', 'DELETE', 'INSERT')
 GROUP BY 1, 2 ORDER BY 1, 2;
RESET SESSION AUTHORIZATION;

-- clean up
SET client_min_messages = warning;
SET SESSION AUTHORIZATION regress_um_admin;
SELECT count(pubdata.retire_resource(code, 'end of test')) AS retired FROM pubdata.resource
 WHERE code LIKE 'UM-%' AND status <> 'retired';
RESET SESSION AUTHORIZATION;
SELECT count(*) AS usage_rows_left FROM pubdata.schema_usage WHERE schema_name LIKE 'um\_%';
DROP SCHEMA um_police, um_health, um_common CASCADE;
DELETE FROM pubdata.schema_usage WHERE schema_name LIKE 'um\_%';
DELETE FROM pubdata.share_request WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'UM-%');
DELETE FROM pubdata.resource WHERE code LIKE 'UM-%';
DELETE FROM pubdata.resource_history WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id = resource_id);
DELETE FROM pubdata.department WHERE code LIKE 'um\_%';
DROP OWNED BY regress_um_police, regress_um_civil, regress_um_health, regress_um_tax CASCADE;
DROP ROLE regress_um_admin, regress_um_auditor, regress_um_police, regress_um_civil, regress_um_health, regress_um_tax;
