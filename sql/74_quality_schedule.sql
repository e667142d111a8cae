-- Quality measurements scheduled through the background worker
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_qs_admin IN ROLE pubdata_admin;
CREATE ROLE regress_qs_prov;
CREATE ROLE regress_qs_other;
CREATE SCHEMA regress_qs AUTHORIZATION regress_qs_prov;
CREATE SCHEMA regress_qs_other AUTHORIZATION regress_qs_other;
RESET client_min_messages;
SET ROLE regress_qs_admin;
SELECT pubdata.add_department('qs-prov', '市统计局', '331100', 'administrative', 'regress_qs_prov') > 0 AS ok;
SELECT pubdata.add_department('qs-other', '市市场监管局', '331100', 'administrative', 'regress_qs_other') > 0 AS ok;
RESET ROLE;
SET ROLE regress_qs_other;
CREATE TABLE regress_qs_other.shop (id int PRIMARY KEY, name text);
SELECT pubdata.register_resource('regress_qs_other.shop', 'QS-SHOP', '商户', 'qs-other', 'unconditional', 'not_open', 'monthly', 1) > 0 AS ok;
RESET ROLE;
SET ROLE regress_qs_prov;
CREATE TABLE regress_qs.firm (uscc text PRIMARY KEY, name text);
INSERT INTO regress_qs.firm VALUES ('91331100MA2A000001', 'a'), ('not-a-code', 'b'), ('91331100MA2A000002', NULL);
SELECT pubdata.register_resource('regress_qs.firm', 'QS-FIRM', '企业名录', 'qs-prov', 'unconditional', 'not_open', 'monthly', 1) > 0 AS ok;
SELECT pubdata.add_quality_rule('QS-FIRM', 'uscc', 'uscc') > 0 AS rule;
SELECT pubdata.add_quality_rule('QS-FIRM', 'name', 'not_null') > 0 AS rule;
-- a department schedules the measurement of its own resource: the job runs
-- as the department (the regression database is not pubdata.database: the
-- schedule would never fire here, which it is told)
SELECT pubdata.schedule_job('quality', '0 6 * * MON-FRI', resource => 'QS-FIRM') AS dept_job \gset
SELECT kind, schedule_kind, run_as, created_by, next_run_at IS NOT NULL AS scheduled FROM pubdata.job WHERE id = :dept_job;
SELECT pubdata.run_job_now(:dept_job) > 0 AS ran;
SELECT status, error FROM pubdata.job_run WHERE job_id = :dept_job;
SELECT count(*) AS runs FROM pubdata.quality_run WHERE resource_id = pubdata.resource_id('QS-FIRM');
SELECT pubdata.alter_job(:dept_job, schedule => '30 5 1 jan,jul *');
SELECT schedule, next_run_at = pubdata.cron_next('30 5 1 1,7 *', now()) AS next_1_jan_or_jul
  FROM pubdata.job WHERE id = :dept_job;
-- but not other kinds, nor another department's resource, nor as another role
SELECT pubdata.schedule_job('custom', '1 hour', 'DELETE FROM regress_qs_other.shop');
SELECT pubdata.schedule_job('grant_sweep', '1 minute');
SELECT pubdata.schedule_job('quality', '1 day', resource => 'QS-SHOP');
SELECT pubdata.schedule_job('quality', '1 day', resource => 'QS-FIRM', run_as => 'regress_qs_admin');
SELECT pubdata.schedule_job('quality', '1 day', resource => 'QS-FIRM', run_as => 'pubdata_department');
SELECT pubdata.schedule_job('quality', '1 day', resource => 'QS-FIRM', run_as => 'regress_qs_other');
RESET ROLE;
-- another department neither runs, changes nor drops it
SET ROLE regress_qs_other;
SELECT pubdata.run_job_now(:dept_job);
SELECT pubdata.alter_job(:dept_job, enabled => false);
SELECT pubdata.drop_job(:dept_job);
SELECT count(*) AS sees_the_job FROM pubdata.job WHERE id = :dept_job;
RESET ROLE;
SET ROLE regress_qs_prov;
SELECT pubdata.drop_job(:dept_job);
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
SELECT pubdata.retire_resource('QS-SHOP', 'end of test');
DROP SCHEMA regress_qs, regress_qs_other CASCADE;
