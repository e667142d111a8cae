-- 7. Quality (Art 15, GB/T 36344): who collects is responsible.  Each department sets
-- rules on its own resource; one scan of each table measures them all; the bureau reads
-- the scores per resource and per department, with the trend
\set SHOW_CONTEXT never
\set QUIET on
SET client_min_messages = warning;

\echo
\echo '== The police set rules on the household register: identity numbers (GB 11643), mobile'
\echo '   numbers, gender codes, division codes, birth dates, uniqueness, addresses present'
\o /dev/null
SET ROLE lishui_police;
SELECT pubdata.add_quality_rule('LS-GA-HJRK', 'id_number', 'id_card');
SELECT pubdata.add_quality_rule('LS-GA-HJRK', 'id_number', 'unique');
SELECT pubdata.add_quality_rule('LS-GA-HJRK', 'phone', 'mobile');
SELECT pubdata.add_quality_rule('LS-GA-HJRK', 'gender', 'allowed_values', '{"values": ["男", "女"]}');
SELECT pubdata.add_quality_rule('LS-GA-HJRK', 'birth_date', 'date_not_future');
SELECT pubdata.add_quality_rule('LS-GA-HJRK', 'address', 'not_null');
SELECT pubdata.add_quality_rule('LS-GA-HJRK', NULL, 'custom',
	'{"expression": "pubdata.is_valid_admin_code(region)", "dimension": "normativeness"}');
SELECT pubdata.add_quality_rule('LS-GA-HJRK', NULL, 'custom',
	'{"expression": "substr(id_number, 7, 8) = to_char(birth_date, ''YYYYMMDD'')", "dimension": "consistency"}');
\o
SELECT pubdata.measure_quality('LS-GA-HJRK') > 0 AS measured;
SELECT q.kind, q.items, r.dimension, r.rows_checked, r.rows_failed, r.samples -> 0 AS first_failing_row
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 WHERE r.run_id = (SELECT max(id) FROM pubdata.quality_run)
 ORDER BY q.id;
RESET ROLE;

\echo '== The market regulator: credit codes (GB 32100), legal representatives, capital, status'
\o /dev/null
SET ROLE lishui_market;
SELECT pubdata.add_quality_rule('LS-SJ-QYDJ', 'uscc', 'uscc');
SELECT pubdata.add_quality_rule('LS-SJ-QYDJ', 'legal_rep', 'not_null');
SELECT pubdata.add_quality_rule('LS-SJ-QYDJ', 'registered_capital', 'range', '{"min": 0}');
SELECT pubdata.add_quality_rule('LS-SJ-QYDJ', 'status', 'allowed_values', '{"values": ["存续", "注销", "吊销"]}');
SELECT pubdata.add_quality_rule('LS-SJ-QYDJ', 'established', 'date_not_future');
\o
SELECT pubdata.measure_quality('LS-SJ-QYDJ') > 0 AS measured;
SELECT q.kind, q.items, r.rows_checked, r.rows_failed
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 WHERE r.run_id = (SELECT max(id) FROM pubdata.quality_run)
 ORDER BY q.id;
RESET ROLE;

\echo '== The water utility: plausible readings and monthly freshness; a reading that is far off'
\echo '   is rejected on insert by the rule trigger'
\o /dev/null
SET ROLE lishui_water;
SELECT pubdata.add_quality_rule('LS-SW-YSL', 'cubic_metres', 'range', '{"min": 0, "max": 500}', 'reject');
SELECT pubdata.add_quality_rule('LS-SW-YSL', 'month', 'freshness', '{"grace": "15 days"}');
SELECT pubdata.enable_quality_trigger('LS-SW-YSL');
\o
\set ON_ERROR_STOP off
INSERT INTO water.meter_reading VALUES ('M00001', '331102', date '2026-11-01', 98000);
\set ON_ERROR_STOP on
SELECT pubdata.measure_quality('LS-SW-YSL') > 0 AS measured;
RESET ROLE;

\echo '== The police correct part of their data and measure again: the trend goes up'
SET ROLE lishui_police;
\o /dev/null
UPDATE police.household
   SET id_number = left(id_number, 17) || substr('10X98765432', (
			(SELECT sum(substr(id_number, i, 1)::int * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i]) FROM generate_series(1, 17) i) % 11)::int + 1, 1)
 WHERE region <> '331181' AND NOT pubdata.is_valid_id_card(id_number);
\o
SELECT pubdata.measure_quality('LS-GA-HJRK') > 0 AS measured;
RESET ROLE;

\echo '== The bureau reads the scores (GB/T 36344 dimensions, 0-100), per resource and per department'
SET ROLE lishui_bureau;
SELECT resource, resource_name, department, rows_checked, normativeness, completeness, accuracy,
	   consistency, timeliness, score, previous_score, trend, direction
  FROM pubdata.quality_score ORDER BY resource;
SELECT department, department_name, resources_measured, score, trend, worst_score
  FROM pubdata.quality_score_department ORDER BY department;
RESET ROLE;
