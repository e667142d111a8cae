-- Evaluation of departments (Art 28, 34): known counts on data set up here
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_eval_admin IN ROLE pubdata_admin;
CREATE ROLE regress_eval_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_eval_a;
CREATE ROLE regress_eval_b;
CREATE SCHEMA regress_eval AUTHORIZATION regress_eval_a;
GRANT USAGE, CREATE ON SCHEMA regress_eval TO regress_eval_b;
RESET client_min_messages;

SET ROLE regress_eval_admin;
SELECT pubdata.add_department('regress_eval_a', '市市场监管局', '331100', 'administrative', 'regress_eval_a') > 0 AS added;
SELECT pubdata.add_department('regress_eval_b', '市自然资源局', '331100', 'administrative', 'regress_eval_b') > 0 AS added;
RESET ROLE;

-- department A: three entries, two published, one of them open
SET ROLE regress_eval_a;
CREATE TABLE regress_eval.a1 (id integer PRIMARY KEY, v text);
INSERT INTO regress_eval.a1 VALUES (1, 'x'), (2, 'y');
CREATE TABLE regress_eval.a2 (id integer PRIMARY KEY);
CREATE TABLE regress_eval.a3 (id integer PRIMARY KEY);
SELECT pubdata.register_resource('regress_eval.a1', 'EV-A1', '市场主体', 'regress_eval_a', 'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.register_resource('regress_eval.a2', 'EV-A2', '抽检结果', 'regress_eval_a', 'restricted', 'not_open', 'daily', 1) > 0 AS registered;
SELECT pubdata.register_resource('regress_eval.a3', 'EV-A3', '草稿', 'regress_eval_a', 'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['EV-A1', 'EV-A2']) c;
RESET ROLE;
-- department B: two entries, one published (conditional)
SET ROLE regress_eval_b;
CREATE TABLE regress_eval.b1 (id integer PRIMARY KEY);
INSERT INTO regress_eval.b1 VALUES (7);
CREATE TABLE regress_eval.b2 (id integer PRIMARY KEY);
SELECT pubdata.register_resource('regress_eval.b1', 'EV-B1', '地块', 'regress_eval_b', 'unconditional', 'conditional', 'monthly', 1) > 0 AS registered;
SELECT pubdata.register_resource('regress_eval.b2', 'EV-B2', '规划', 'regress_eval_b', 'unconditional', 'open', 'monthly', 1) > 0 AS registered;
SELECT pubdata.submit_resource('EV-B1');
RESET ROLE;
SET ROLE regress_eval_admin;
SELECT pubdata.review_resource(c, true) FROM unnest(ARRAY['EV-A1', 'EV-A2', 'EV-B1']) c;
SELECT pubdata.publish_resource(c) FROM unnest(ARRAY['EV-A1', 'EV-A2', 'EV-B1']) c;
RESET ROLE;

-- the period: yesterday to tomorrow in the city's time
SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date - 1 AS p0, (now() AT TIME ZONE 'Asia/Shanghai')::date + 1 AS p1 \gset

-- catalog indicators
SET ROLE regress_eval_auditor;
SELECT department, department_name, resources_catalogued, resources_published, resources_open
  FROM pubdata.evaluation(:'p0', :'p1') WHERE department LIKE 'regress_eval_%' ORDER BY department;
-- an indicator whose source table is not installed is NULL, not zero
SELECT bool_and((requests_received IS NULL) = (to_regclass('pubdata.share_request') IS NULL)
			AND (objections_received IS NULL) = (to_regclass('pubdata.objection') IS NULL)
			AND (aggregation_runs IS NULL) = (to_regclass('pubdata.job_run') IS NULL)
			AND (shared_reads IS NULL) = (to_regclass('pubdata.access_log') IS NULL)) AS null_when_unavailable
  FROM pubdata.evaluation(:'p0', :'p1') WHERE department LIKE 'regress_eval_%';
-- before the period nothing was catalogued
SELECT department, resources_catalogued, resources_published
  FROM pubdata.evaluation('2020-01-01', '2020-12-31') WHERE department LIKE 'regress_eval_%' ORDER BY department;
RESET ROLE;

-- share requests (Art 16, 19, 34): B asks A five times, A asks B once
SET ROLE regress_eval_b;
SELECT pubdata.request_share('EV-A1', '市场监管协同') AS r1 \gset
SELECT pubdata.request_share('EV-A2', '抽检复核') AS r2 \gset
SELECT pubdata.request_share('EV-A2', '抽检统计') AS r3 \gset
SELECT pubdata.request_share('EV-A2', '抽检分析') AS r4 \gset
SELECT pubdata.request_share('EV-A2', '历史需求') AS r5 \gset
SELECT pubdata.request_share('EV-A2', '尚未答复') AS r6 \gset
RESET ROLE;
SET ROLE regress_eval_a;
SELECT pubdata.request_share('EV-B1', '地块核查') AS r7 \gset
SELECT pubdata.decide_share(:r2, true);
SELECT pubdata.decide_share(:r3, false, '涉及企业商业秘密');
RESET ROLE;
-- time passes (as superuser): r4 is answered after its deadline, r5 was made years ago
UPDATE pubdata.share_request SET requested_at = now() - interval '5 hours', due_at = now() - interval '1 hour' WHERE id = :r4;
UPDATE pubdata.share_request SET requested_at = '2020-06-01', due_at = '2020-06-08' WHERE id = :r5;
SET ROLE regress_eval_a;
SELECT pubdata.decide_share(:r4, true);
SELECT pubdata.decide_share(:r5, true);
RESET ROLE;

-- objections (Art 13): B objects three times to A's data, A once to B's
SET ROLE regress_eval_b;
SELECT pubdata.raise_objection('EV-A1', '{"id": 1}', 'v', '值有误') AS o1 \gset
SELECT pubdata.raise_objection('EV-A1', '{"id": 2}', 'v', '值有误') AS o2 \gset
SELECT pubdata.raise_objection('EV-A1', '{"id": 2}', NULL, '记录重复') AS o3 \gset
RESET ROLE;
SET ROLE regress_eval_a;
SELECT pubdata.raise_objection('EV-B1', '{"id": 7}', NULL, '地块编号有误') AS o4 \gset
RESET ROLE;
SET ROLE regress_eval_a;
SELECT pubdata.resolve_objection(:o1, 'confirmed_correct', '核实无误');
RESET ROLE;
-- o2 is resolved after its two working days
UPDATE pubdata.objection SET raised_at = now() - interval '5 hours', due_at = now() - interval '1 hour' WHERE id = :o2;
SET ROLE regress_eval_a;
SELECT pubdata.resolve_objection(:o2, 'rejected', '非本部门数据');
RESET ROLE;
SET ROLE regress_eval_b;
SELECT pubdata.resolve_objection(:o4, 'confirmed_correct', '核实无误');
RESET ROLE;

SET ROLE regress_eval_auditor;
SELECT department, requests_received, requests_answered_on_time, refusals, refusal_reasons,
	   objections_received, objections_resolved_on_time
  FROM pubdata.evaluation(:'p0', :'p1') WHERE department LIKE 'regress_eval_%' ORDER BY department;
RESET ROLE;

-- The other indicators read the scheduler's, the quality module's and the
-- audit's tables.  Where a table is not installed, a stand-in with the
-- documented columns is created inside this transaction (and rolled back)
-- so that the indicator is checked on known counts; where the module is
-- installed, the check is that the indicator reads it.
BEGIN;
SELECT to_regclass('pubdata.job_run') IS NULL AS stand_in_runs,
	   to_regclass('pubdata.quality_run') IS NULL AS stand_in_quality,
	   to_regclass('pubdata.access_log') IS NULL AS stand_in_audit \gset
SELECT now() AS t \gset
\if :stand_in_runs
CREATE TABLE pubdata.job (id bigint PRIMARY KEY, resource_id bigint, kind text);
CREATE TABLE pubdata.job_run (job_id bigint, status text, started_at timestamptz, finished_at timestamptz);
INSERT INTO pubdata.job VALUES (1, pubdata.resource_id('EV-A1'), 'aggregation'), (2, pubdata.resource_id('EV-A1'), 'quality');
INSERT INTO pubdata.job_run VALUES (1, 'succeeded', :'t', :'t'), (1, 'succeeded', :'t', :'t'), (1, 'succeeded', :'t', :'t'),
	(1, 'failed', :'t', :'t'), (1, 'running', :'t', NULL), (2, 'failed', :'t', :'t');
\set check_runs 'aggregation_runs = CASE department WHEN ''regress_eval_a'' THEN 4 ELSE 0 END AND aggregation_runs_succeeded = CASE department WHEN ''regress_eval_a'' THEN 3 ELSE 0 END'
\else
\set check_runs 'aggregation_runs IS NOT NULL'
\endif
\if :stand_in_quality
CREATE TABLE pubdata.quality_run (id bigint PRIMARY KEY, resource_id bigint, finished_at timestamptz, score numeric);
INSERT INTO pubdata.quality_run VALUES (1, pubdata.resource_id('EV-A1'), :'t', 60), (2, pubdata.resource_id('EV-A1'), :'t'::timestamptz + interval '1 minute', 80),
	(3, pubdata.resource_id('EV-A2'), :'t', 90), (4, pubdata.resource_id('EV-B1'), :'t', 70);
\set check_quality 'quality_score = CASE department WHEN ''regress_eval_a'' THEN 85 ELSE 70 END'
\else
\set check_quality 'true'
\endif
\if :stand_in_audit
CREATE TABLE pubdata.access_log (at timestamptz, role_name name, department text, resource text);
INSERT INTO pubdata.access_log VALUES (:'t', 'regress_eval_a', 'regress_eval_a', 'EV-B1'),
	(:'t', 'regress_eval_b', 'regress_eval_b', 'EV-A1'), (:'t', 'regress_eval_b', 'regress_eval_b', 'EV-A1'),
	(:'t', 'regress_eval_b', 'regress_eval_b', 'EV-A1'), (:'t', 'regress_eval_b', 'regress_eval_b', 'EV-A1'),
	('2020-01-01', 'regress_eval_a', 'regress_eval_a', 'EV-B1');
\set check_audit 'shared_reads = CASE department WHEN ''regress_eval_a'' THEN 1 ELSE 4 END'
\else
\set check_audit 'shared_reads IS NOT NULL'
\endif
\if :stand_in_runs
\if :stand_in_quality
\if :stand_in_audit
-- A: (66.7*15 + 50*10 + 60*20 + 33.3*15 + 75*15 + 85*15 + 25*10) / 100
-- B: (50*15 + 100*10 + 100*20 + 100*15 + 70*15 + 100*10) / 85 (no aggregation runs: not counted)
\set check_total 'total_score = CASE department WHEN ''regress_eval_a'' THEN 58.5 ELSE 85.9 END'
\else
\set check_total 'total_score IS NOT NULL'
\endif
\else
\set check_total 'total_score IS NOT NULL'
\endif
\else
\set check_total 'total_score IS NOT NULL'
\endif
SET ROLE regress_eval_auditor;
SELECT department, (:check_runs) AS runs,
	   (:check_quality) AS quality, (:check_audit) AS audit, (:check_total) AS total
  FROM pubdata.evaluation(:'p0', :'p1') WHERE department LIKE 'regress_eval_%' ORDER BY department;
-- the report for publication
SELECT r -> 'period' = jsonb_build_object('start', :'p0'::date, 'end', :'p1'::date) AS period, r -> 'weights' AS weights, jsonb_typeof(r -> 'departments') AS departments,
	   (SELECT count(*) FROM jsonb_array_elements(r -> 'departments') d WHERE d ->> 'department' LIKE 'regress_eval_%') AS mine,
	   (SELECT d -> 'resources_catalogued' FROM jsonb_array_elements(r -> 'departments') d WHERE d ->> 'department' = 'regress_eval_a') AS a_catalogued
  FROM pubdata.evaluation_report(:'p0', :'p1') r;
RESET ROLE;
-- the bureau edits the weights: with every weight but the catalog's at zero, the total is the catalog score
SET ROLE regress_eval_admin;
UPDATE pubdata.evaluation_weight SET weight = 0 WHERE indicator <> 'catalog';
SELECT department, total_score FROM pubdata.evaluation(:'p0', :'p1') WHERE department LIKE 'regress_eval_%' ORDER BY department;
RESET ROLE;
ROLLBACK;

-- weights are non-negative, indicators a fixed set
SET ROLE regress_eval_admin;
UPDATE pubdata.evaluation_weight SET weight = -1 WHERE indicator = 'usage';
INSERT INTO pubdata.evaluation_weight VALUES ('speed', 1, 'x');
RESET ROLE;

-- who may read it
SET ROLE regress_eval_a;
SELECT * FROM pubdata.evaluation('2026-01-01', '2026-03-31');
SELECT * FROM pubdata.evaluation_weight;
UPDATE pubdata.evaluation_weight SET weight = 100 WHERE indicator = 'usage';
RESET ROLE;
SET ROLE regress_eval_auditor;
UPDATE pubdata.evaluation_weight SET weight = 100 WHERE indicator = 'usage';
SELECT * FROM pubdata.evaluation('2026-03-31', '2026-01-01');
SELECT indicator, weight FROM pubdata.evaluation_weight ORDER BY indicator;
RESET ROLE;
SELECT has_function_privilege('pubdata_open_reader', 'pubdata.evaluation(date, date)', 'EXECUTE') AS open_reader,
	   has_function_privilege('pubdata_department', 'pubdata.evaluation(date, date)', 'EXECUTE') AS department;
