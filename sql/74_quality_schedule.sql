-- Quality measurements scheduled through the background worker
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_qs_admin IN ROLE pubdata_admin;
CREATE ROLE regress_qs_prov;
CREATE SCHEMA regress_qs AUTHORIZATION regress_qs_prov;
RESET client_min_messages;
SET ROLE regress_qs_admin;
SELECT pubdata.add_department('qs-prov', '市统计局', '331100', 'administrative', 'regress_qs_prov') > 0 AS ok;
RESET ROLE;
SET ROLE regress_qs_prov;
CREATE TABLE regress_qs.firm (uscc text PRIMARY KEY, name text);
INSERT INTO regress_qs.firm VALUES ('91331100MA2A000001', 'a'), ('not-a-code', 'b'), ('91331100MA2A000002', NULL);
SELECT pubdata.register_resource('regress_qs.firm', 'QS-FIRM', '企业名录', 'qs-prov', 'unconditional', 'not_open', 'monthly', 1) > 0 AS ok;
SELECT pubdata.add_quality_rule('QS-FIRM', 'uscc', 'uscc') > 0 AS rule;
SELECT pubdata.add_quality_rule('QS-FIRM', 'name', 'not_null') > 0 AS rule;
-- a department does not schedule jobs of other kinds than its aggregations
SELECT pubdata.schedule_job('quality', '1 day', resource => 'QS-FIRM');
RESET ROLE;
-- the bureau schedules a daily measurement and runs it once now
SET ROLE regress_qs_admin;
SELECT pubdata.schedule_job('quality', '1 day', resource => 'QS-FIRM') AS job \gset
SELECT pubdata.schedule_job('quality', '1 day');
SELECT pubdata.run_job_now(:job) > 0 AS ran;
SELECT status, attempt FROM pubdata.job_run WHERE job_id = :job;
-- the run measured every rule in one pass and stored it
SELECT q.kind, r.rows_checked, r.rows_failed
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 WHERE q.resource_id = pubdata.resource_id('QS-FIRM') ORDER BY q.kind;
SELECT count(*) AS runs FROM pubdata.quality_run WHERE resource_id = pubdata.resource_id('QS-FIRM');
SELECT pubdata.drop_job(:job);
RESET ROLE;

-- clean up
SET client_min_messages = warning;
SELECT pubdata.retire_resource('QS-FIRM', 'end of test');
DROP SCHEMA regress_qs CASCADE;
