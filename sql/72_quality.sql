-- Quality rules and one-scan measurement: each rule kind on data with known
-- defects (exact counts), samples, scores and trend, the rule trigger, and the
-- failure paths, run as the bureau and as the departments
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_qual_admin IN ROLE pubdata_admin;
CREATE ROLE regress_qual_market;
CREATE ROLE regress_qual_other;
CREATE ROLE regress_qual_auditor IN ROLE pubdata_auditor;
CREATE SCHEMA regress_qual_m AUTHORIZATION regress_qual_market;
CREATE SCHEMA regress_qual_o AUTHORIZATION regress_qual_other;
RESET client_min_messages;

SET ROLE regress_qual_admin;
SELECT pubdata.add_department('regress_qual_market', '市市场监管局', '331100', 'administrative', 'regress_qual_market') > 0 AS added;
SELECT pubdata.add_department('regress_qual_other', '市卫健委', '331100', 'administrative', 'regress_qual_other') > 0 AS added;

-- the market regulator's tables, with known defects
SET ROLE regress_qual_market;
CREATE TABLE regress_qual_m.county (code text PRIMARY KEY, name text);
INSERT INTO regress_qual_m.county VALUES ('331102', '莲都区'), ('331121', '青田县'), ('331122', '缙云县');
CREATE TABLE regress_qual_m.firm (
	id			integer,
	branch		integer,
	uscc		text,
	legal_id	text,
	phone		text,
	staff		integer,
	kind		text,
	founded		date,
	county		text,
	licence		text,
	opened		date,
	closed		date,
	updated_at	timestamptz
);
INSERT INTO regress_qual_m.firm VALUES
	(1, 1, '91350100M000100Y43', '11010519491231002X', '13800138000',   10, 'ltd',     '2001-05-01', '331102', 'ZJ-0001', '2001-05-01', NULL,         now()),
	(2, 1, '91350100M000100Y44', '11010519491231002x', '+8613800138000', 0, 'ltd',     '2010-01-01', '331121', 'ZJ-0002', '2010-01-01', '2009-01-01', now()),
	(3, 1, NULL,                 '110105194912310021', '1380013800',    -5, 'sole',    '2999-01-01', '331199', 'zj-3',    '2015-01-01', NULL,         now()),
	(3, 2, '91350100m000100y43', NULL,                 NULL,          NULL, 'coop',    NULL,         NULL,     NULL,      NULL,         NULL,         now()),
	(4, 1, '91350100M000100Y43', '331102198002300018', '12800138000', 5000, 'ltd',     '2020-02-29', '331122', 'ZJ-0004', '2020-02-29', NULL,         now()),
	(4, 1, '91350100M000100Y43', '331102198001010019', '19912345678',   20, 'partner', '1999-12-31', '000000', 'ZJ-0005', '2000-01-01', '2001-01-01', now()),
	(5, 1, 'not a code',         '331102200002290016', '008613800138000', 3, 'LTD',    '2021-01-01', '331102', 'ZJ-0006', '2021-01-01', '2020-12-31', now());
SELECT pubdata.register_resource('regress_qual_m.county', 'RQ-COUNTY', '县区', 'regress_qual_market',
	'unconditional', 'open', 'annual', 1) > 0 AS registered;
SELECT pubdata.register_resource('regress_qual_m.firm', 'RQ-FIRM', '市场主体', 'regress_qual_market',
	'unconditional', 'open', 'daily', 2) > 0 AS registered;
SELECT pubdata.set_item('RQ-FIRM', 'id', is_key => true);
SELECT pubdata.set_item('RQ-FIRM', 'branch', is_key => true);

-- one rule of each kind (the expected failures are in the comments)
SELECT pubdata.add_quality_rule('RQ-FIRM', 'uscc', 'not_null') AS r_not_null \gset
-- id 3 and 4 appear twice: 4 rows fail
SELECT pubdata.add_quality_rule('RQ-FIRM', 'id', 'unique') AS r_unique \gset
-- (id, branch): only (4, 1) is duplicated: 2 rows
SELECT pubdata.add_quality_rule('RQ-FIRM', ARRAY['id', 'branch'], 'unique') AS r_unique2 \gset
-- zj-3 is lower case: 1 (null passes)
SELECT pubdata.add_quality_rule('RQ-FIRM', 'licence', 'pattern', '{"regex": "^ZJ-[0-9]{4}$"}') AS r_pattern \gset
-- -5 and 5000: 2
SELECT pubdata.add_quality_rule('RQ-FIRM', 'staff', 'range', '{"min": 0, "max": 1000}') AS r_range \gset
-- sole? allowed; LTD is not ltd: 1
SELECT pubdata.add_quality_rule('RQ-FIRM', 'kind', 'allowed_values', '{"values": ["ltd", "sole", "coop", "partner"]}') AS r_allowed \gset
-- wrong check digit and 30 February: 2
SELECT pubdata.add_quality_rule('RQ-FIRM', 'legal_id', 'id_card', '{}', 'reject') AS r_id_card \gset
-- check character, lower case, not a code: 3
SELECT pubdata.add_quality_rule('RQ-FIRM', 'uscc', 'uscc') AS r_uscc \gset
-- 10 digits and 128 prefix: 2
SELECT pubdata.add_quality_rule('RQ-FIRM', 'phone', 'mobile', '{}', 'flag') AS r_mobile \gset
-- 2999: 1
SELECT pubdata.add_quality_rule('RQ-FIRM', 'founded', 'date_not_future') AS r_future \gset
-- 331199 and 000000 are no county of the county resource: 2
SELECT pubdata.add_quality_rule('RQ-FIRM', 'county', 'reference', '{"resource": "RQ-COUNTY", "item": "code"}') AS r_reference \gset
-- updated today, daily frequency: fresh
SELECT pubdata.add_quality_rule('RQ-FIRM', 'updated_at', 'freshness') AS r_fresh \gset
-- closed before opened: ids 2 and 5
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "closed IS NULL OR closed >= opened", "dimension": "consistency"}', 'warn') AS r_custom \gset
SELECT kind, items, dimension, action, created_by FROM pubdata.quality_rule ORDER BY id;

-- the measurement, as the department
SELECT pubdata.measure_quality('RQ-FIRM') > 0 AS measured;
SELECT q.kind, q.items, r.dimension, r.rows_checked, r.rows_failed
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 ORDER BY q.id;
-- samples: the key items of the first failing rows, and the checked values
SELECT q.kind, r.samples
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 WHERE q.kind <> 'freshness' ORDER BY q.id;
SELECT (r.samples->0->>'allowed_age') AS allowed_age, r.samples->0->'newest' IS NOT NULL AS has_newest
  FROM pubdata.quality_result r WHERE r.rule_id = :r_fresh;
-- dimension scores: mean pass rate of the dimension's rules
SELECT rows_checked, normativeness, completeness, accuracy, consistency, timeliness, accessibility, score
  FROM pubdata.quality_run;
SELECT resource, department, rows_checked, score, previous_score, trend, direction FROM pubdata.quality_score;

-- the sample size is a setting
SET pubdata.quality_sample_rows = 1;
SELECT pubdata.measure_quality('RQ-FIRM') > 0 AS measured;
SELECT jsonb_array_length(samples) AS samples, rows_failed FROM pubdata.quality_result
 WHERE rule_id = :r_uscc ORDER BY run_id;
RESET pubdata.quality_sample_rows;

-- fix some data and measure again: the trend goes up
UPDATE regress_qual_m.firm SET kind = 'ltd' WHERE kind = 'LTD';
UPDATE regress_qual_m.firm SET staff = 0 WHERE staff < 0;
SELECT pubdata.measure_quality('RQ-FIRM') > 0 AS measured;
SELECT resource, score > previous_score AS better, direction FROM pubdata.quality_score;
SELECT department, resources_measured, score = (SELECT score FROM pubdata.quality_score) AS same_score, direction_ok
  FROM (SELECT *, trend > 0 AS direction_ok FROM pubdata.quality_score_department) d;

-- measurement reads the table whatever its row-level security says
SELECT relrowsecurity FROM pg_class WHERE oid = 'regress_qual_m.firm'::regclass;
-- (a superuser forces a policy that hides every row, even from the owner)
RESET ROLE;
ALTER TABLE regress_qual_m.firm FORCE ROW LEVEL SECURITY;
CREATE POLICY regress_qual_hide ON regress_qual_m.firm AS RESTRICTIVE USING (false);
SET ROLE regress_qual_market;
SELECT count(*) AS visible_to_owner FROM regress_qual_m.firm;
SELECT pubdata.measure_quality('RQ-FIRM') > 0 AS measured;
SELECT rows_checked FROM pubdata.quality_run ORDER BY id DESC LIMIT 1;
RESET ROLE;
DROP POLICY regress_qual_hide ON regress_qual_m.firm;
ALTER TABLE regress_qual_m.firm NO FORCE ROW LEVEL SECURITY;
SET ROLE regress_qual_market;

-- uniqueness spilling to disk gives the same counts (tiny work_mem)
CREATE TABLE regress_qual_m.big (k integer, v text);
INSERT INTO regress_qual_m.big SELECT g % 15000, 'v' FROM generate_series(1, 20000) g;
SELECT pubdata.register_resource('regress_qual_m.big', 'RQ-BIG', '大表', 'regress_qual_market',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('RQ-BIG', 'k', 'unique') AS r_big \gset
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SELECT pubdata.measure_quality('RQ-BIG') > 0 AS measured;
RESET work_mem;
RESET hash_mem_multiplier;
SELECT pubdata.measure_quality('RQ-BIG') > 0 AS measured;
-- 5000 keys appear twice: 10000 rows, in both runs; samples are the first keys
SELECT rows_checked, rows_failed, samples->0 AS first_sample FROM pubdata.quality_result WHERE rule_id = :r_big ORDER BY run_id;

-- a long measurement can be cancelled
SELECT pubdata.add_quality_rule('RQ-BIG', NULL, 'custom', '{"expression": "pg_catalog.pg_sleep(0.001) IS NOT NULL"}') AS r_slow \gset
SET statement_timeout = '300ms';
SELECT pubdata.measure_quality('RQ-BIG');
RESET statement_timeout;
SELECT pubdata.drop_quality_rule(:r_slow);

-- failure paths
SELECT pubdata.add_quality_rule('RQ-NOSUCH', 'id', 'not_null');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'nosuch', 'not_null');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'id', 'unique_ish');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'id', 'not_null', '{}', 'explode');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'id', 'not_null', '{"regex": "x"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'id', 'not_null', '[1]');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'licence', 'pattern', '{"regex": "(unclosed"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'licence', 'pattern', '{}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'staff', 'range', '{"min": "many"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'staff', 'range', '{}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'kind', 'allowed_values', '{"values": []}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'kind', 'date_not_future');
SELECT pubdata.add_quality_rule('RQ-FIRM', ARRAY['uscc', 'phone'], 'uscc');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'staff', 'reference', '{"resource": "RQ-COUNTY", "item": "code"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'county', 'reference', '{"resource": "RQ-NOSUCH", "item": "code"}');
-- (an expression's error says where in the expression, and which rule)
\set SHOW_CONTEXT errors
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "nosuch > 0"}');
\set SHOW_CONTEXT never
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "staff"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'freshness', '{"grace": "soon"}');
-- injection attempts: through the expression, the pattern, identifiers
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "true) FROM pg_catalog.pg_authid --"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "true; DROP TABLE regress_qual_m.county; SELECT (true"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "EXISTS (SELECT 1 FROM pg_catalog.pg_authid)"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "count(*) > 0"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', NULL, 'custom', '{"expression": "true AS x, false"}');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'licence', 'pattern', '{"regex": "''; DROP TABLE regress_qual_m.county; --"}') > 0 AS pattern_is_only_a_regex;
SELECT pubdata.add_quality_rule('RQ-FIRM', 'id"; DROP TABLE regress_qual_m.county; --', 'not_null');
SELECT pubdata.add_quality_rule('RQ-FIRM', 'county', 'reference', '{"resource": "RQ-COUNTY", "item": "code\"; DROP TABLE regress_qual_m.county; --"}');
SELECT pubdata.add_quality_rule('RQ-FIRM'' OR true --', 'id', 'not_null');
SELECT count(*) AS county_still_there FROM regress_qual_m.county;
-- a department may not test its values against a column it may not read
SET ROLE regress_qual_other;
CREATE TABLE regress_qual_o.probe (id_no text);
SELECT pubdata.register_resource('regress_qual_o.probe', 'RQ-PROBE', '探测', 'regress_qual_other',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('RQ-PROBE', 'id_no', 'reference', '{"resource": "RQ-FIRM", "item": "legal_id"}');
SELECT pubdata.retire_resource('RQ-PROBE', 'test over');
SET ROLE regress_qual_market;
-- a rule whose column was dropped stops the measurement with a clear message
ALTER TABLE regress_qual_m.big ADD COLUMN gone integer;
SELECT pubdata.add_quality_rule('RQ-BIG', 'gone', 'not_null') AS r_gone \gset
ALTER TABLE regress_qual_m.big DROP COLUMN gone;
SELECT pubdata.measure_quality('RQ-BIG');
SELECT pubdata.drop_quality_rule(:r_gone);

-- another department may neither add rules, nor measure, nor see the rules or results
SET ROLE regress_qual_other;
SELECT pubdata.add_quality_rule('RQ-FIRM', 'id', 'not_null');
SELECT pubdata.measure_quality('RQ-FIRM');
SELECT pubdata.set_quality_rule(:r_uscc, 'reject');
SELECT pubdata.drop_quality_rule(:r_uscc);
SELECT pubdata.enable_quality_trigger('RQ-FIRM');
SELECT count(*) AS rules_seen FROM pubdata.quality_rule;
SELECT count(*) AS results_seen FROM pubdata.quality_result;
SELECT count(*) AS scores_seen FROM pubdata.quality_score;
-- the auditor sees rules and runs, not the failing rows
SET ROLE regress_qual_auditor;
SELECT count(*) > 0 AS rules_seen FROM pubdata.quality_rule;
SELECT count(*) AS results_seen FROM pubdata.quality_result;
SELECT pubdata.measure_quality('RQ-FIRM');
-- the bureau may measure any resource; measuring a restricted one is audited as a read
SET ROLE regress_qual_market;
CREATE TABLE regress_qual_m.inspection (id integer, result text);
INSERT INTO regress_qual_m.inspection VALUES (1, 'pass'), (2, 'fail'), (3, NULL);
SELECT pubdata.register_resource('regress_qual_m.inspection', 'RQ-INSPECT', '检查记录', 'regress_qual_market',
	'restricted', 'not_open', 'daily', 2) > 0 AS registered;
SELECT pubdata.add_quality_rule('RQ-INSPECT', 'result', 'not_null') > 0 AS added;
SELECT pubdata.measure_quality('RQ-INSPECT') > 0 AS measured_by_provider;
SET ROLE regress_qual_admin;
SELECT pubdata.measure_quality('RQ-COUNTY') > 0 AS measured;
SELECT resource, rows_checked, score FROM pubdata.quality_score WHERE resource = 'RQ-COUNTY';
SELECT pubdata.measure_quality('RQ-INSPECT') > 0 AS measured;
SELECT role_name, department, resource, purpose, command, rows FROM pubdata.access_log WHERE resource LIKE 'RQ-%';

-- accuracy counts objections upheld (corrected) against the resource
-- (the other department reads the items it objects to, under a grant: a
-- column privilege given by hand is not a grant, and does not make it a reader)
RESET ROLE;
GRANT USAGE ON SCHEMA regress_qual_m TO regress_qual_other;
GRANT SELECT (id, branch, staff) ON regress_qual_m.firm TO regress_qual_other;
SET ROLE regress_qual_other;
SELECT pubdata.raise_objection('RQ-FIRM', '{"id": 1, "branch": 1}', 'staff', '从业人数有误');
SET ROLE regress_qual_market;
SELECT pubdata.submit_resource('RQ-FIRM');
SET ROLE regress_qual_admin;
SELECT pubdata.review_resource('RQ-FIRM', true), pubdata.publish_resource('RQ-FIRM');
SET ROLE regress_qual_other;
SELECT pubdata.request_share('RQ-FIRM', '从业人数核查', ARRAY['id', 'branch', 'staff']) AS firm_request \gset
SELECT status FROM pubdata.share_request WHERE id = :firm_request;
SELECT pubdata.raise_objection('RQ-FIRM', '{"id": 1, "branch": 1}', 'staff', '从业人数有误') AS objection \gset
SET ROLE regress_qual_market;
SELECT pubdata.measure_quality('RQ-FIRM') > 0 AS measured;
SELECT objections_upheld, accuracy AS accuracy_before FROM pubdata.quality_run ORDER BY id DESC LIMIT 1;
SELECT pubdata.resolve_objection(:objection, 'corrected', '已更正从业人数', '{"id": 1, "branch": 1}');
SELECT pubdata.measure_quality('RQ-FIRM') > 0 AS measured;
SELECT objections_upheld, accuracy AS accuracy_after FROM pubdata.quality_run ORDER BY id DESC LIMIT 1;

-- the rule trigger: reject (id_card), flag (mobile), warn (the others)
SET ROLE regress_qual_market;
SELECT pubdata.enable_quality_trigger('RQ-FIRM');
INSERT INTO regress_qual_m.firm (id, branch, uscc, legal_id) VALUES (9, 1, '91350100M000100Y43', '110105194912310021');
INSERT INTO regress_qual_m.firm (id, branch, uscc, legal_id, phone, county, kind)
	VALUES (9, 1, '91350100M000100Y43', '11010519491231002X', '123', '331102', 'ltd');
INSERT INTO regress_qual_m.firm (id, branch, uscc, legal_id, county, opened, closed)
	VALUES (10, 1, '91350100M000100Y43', '11010519491231002X', '999999', '2020-01-01', '2019-01-01');
UPDATE regress_qual_m.firm SET legal_id = '331102198002300018' WHERE id = 1;
SELECT id FROM regress_qual_m.firm WHERE id >= 9 ORDER BY id;
SELECT q.kind, f.operation, f.role_name, f.row_data
  FROM pubdata.quality_flag f JOIN pubdata.quality_rule q ON q.id = f.rule_id ORDER BY f.id;
-- a rule switched off is not enforced
SELECT pubdata.set_quality_rule(:r_id_card, enabled => false);
UPDATE regress_qual_m.firm SET legal_id = '331102198002300018' WHERE id = 1 AND branch = 1;
SELECT pubdata.set_quality_rule(:r_id_card, 'bogus');
SELECT pubdata.disable_quality_trigger('RQ-FIRM');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'regress_qual_m.firm'::regclass AND tgname = 'pubdata_quality_check';
-- the trigger function cannot be attached by hand
CREATE TABLE regress_qual_m.t (x int);
CREATE TRIGGER t BEFORE INSERT ON regress_qual_m.t FOR EACH ROW EXECUTE FUNCTION pubdata.quality_check_trigger();
-- the internals are not callable
SELECT * FROM pubdata._quality_scan(1);

-- a reference may name a view's column (read by query); a view is measured
-- too (sql/73_quality_scale.sql)
CREATE VIEW regress_qual_m.county_v AS SELECT code, name FROM regress_qual_m.county WHERE code <> '331122';
CREATE TABLE regress_qual_m.visit (id integer, county text, gone integer);
INSERT INTO regress_qual_m.visit VALUES (1, '331102'), (2, '331122'), (3, NULL), (4, '331121');
SELECT pubdata.register_resource('regress_qual_m.county_v', 'RQ-COUNTY-V', '县区视图', 'regress_qual_market',
	'unconditional', 'open', 'annual', 1) > 0 AS registered;
SELECT pubdata.register_resource('regress_qual_m.visit', 'RQ-VISIT', '走访', 'regress_qual_market',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('RQ-VISIT', 'county', 'reference', '{"resource": "RQ-COUNTY-V", "item": "code"}') AS r_view_ref \gset
SELECT pubdata.measure_quality('RQ-VISIT') > 0 AS measured;
SELECT rows_checked, rows_failed, samples FROM pubdata.quality_result WHERE rule_id = :r_view_ref;
SELECT pubdata.add_quality_rule('RQ-COUNTY-V', 'code', 'not_null') > 0 AS view_rule_added;
-- a rule whose column was dropped does not block writes through the trigger
SELECT pubdata.add_quality_rule('RQ-VISIT', 'gone', 'not_null', '{}', 'reject') > 0 AS added;
ALTER TABLE regress_qual_m.visit DROP COLUMN gone;
SELECT pubdata.enable_quality_trigger('RQ-VISIT');
INSERT INTO regress_qual_m.visit VALUES (5, '331102');
SELECT count(*) AS visits FROM regress_qual_m.visit;

-- bigint keys are compared whole (5 and 5 * 2^32 are different keys), a key
-- may repeat more than 65535 times, and the key 0 counts like any other
CREATE TABLE regress_qual_m.heavy (k bigint);
INSERT INTO regress_qual_m.heavy SELECT g % 2 FROM generate_series(1, 140000) g;
INSERT INTO regress_qual_m.heavy VALUES (5), (21474836480), (NULL), (NULL);
SELECT pubdata.register_resource('regress_qual_m.heavy', 'RQ-HEAVY', '重复表', 'regress_qual_market',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('RQ-HEAVY', 'k', 'unique') AS r_heavy \gset
SELECT pubdata.measure_quality('RQ-HEAVY') > 0 AS measured;
-- 70000 rows of 0 and 70000 of 1; the two samples are keys 1 and 0
SELECT rows_checked, rows_failed, samples FROM pubdata.quality_result WHERE rule_id = :r_heavy;

-- allowed_values on text types: values under 8 bytes are compared as one
-- integer each (length and bytes), a list with a longer value byte by byte;
-- char(n) without its padding, as bpchareq
CREATE TABLE regress_qual_m.codes (t text, c char(6), v varchar(12));
INSERT INTO regress_qual_m.codes VALUES
	('M', 'M', 'M'), ('F', 'F     ', 'F'), ('', '', ''), ('MM', 'MF', 'M '), (' M', ' M', 'm'),
	('1234567', '1234', '12345678'), ('123456', '12345', '1234567'), ('1234568', '123456', '12345679'),
	('男', '男', '男性'), ('M' || chr(1), 'Mx', 'FF'), (NULL, NULL, NULL);
SELECT pubdata.register_resource('regress_qual_m.codes', 'RQ-CODES', '代码表', 'regress_qual_market',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
-- t: M, F, '', 1234567 and 男 pass (5); MM, ' M', 123456, 1234568 and M\x01 fail (5)
SELECT pubdata.add_quality_rule('RQ-CODES', 't', 'allowed_values', '{"values": ["M", "F", "", "1234567", "男"]}') AS r_codes_t \gset
-- c: M, F (padded), '', 1234, 男 pass; MF, ' M', 12345, 123456, Mx fail (5)
SELECT pubdata.add_quality_rule('RQ-CODES', 'c', 'allowed_values', '{"values": ["M", "F ", "", "1234", "男"]}') AS r_codes_c \gset
-- v, a list with an 8-byte value: M, F, '', 12345678, 男性 pass; 'M ', m, 1234567, 12345679, FF fail (5)
SELECT pubdata.add_quality_rule('RQ-CODES', 'v', 'allowed_values', '{"values": ["M", "F", "", "12345678", "男性"]}') AS r_codes_v \gset
SELECT pubdata.measure_quality('RQ-CODES') > 0 AS measured;
SELECT rule_id = :r_codes_t AS t, rule_id = :r_codes_c AS c, rows_checked, rows_failed
  FROM pubdata.quality_result WHERE rule_id IN (:r_codes_t, :r_codes_c, :r_codes_v) ORDER BY rule_id;


SELECT pubdata.retire_resource(code, 'regression test over') FROM pubdata.resource WHERE code LIKE 'RQ-%' AND code <> 'RQ-PROBE' ORDER BY code;
RESET ROLE;
SET client_min_messages = warning;
DROP SCHEMA regress_qual_m CASCADE;
DROP SCHEMA regress_qual_o CASCADE;
