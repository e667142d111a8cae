#!/bin/bash
# Benchmark: pubdata.measure_quality (8 rules, one scan) against SELECT count(*)
# over the same table, and against the SQL a tool like Soda sends for the same
# checks: one aggregate query for the simple rules, a GROUP BY for uniqueness and
# a failing-rows query (LIMIT 10) per rule; the validity checks use pubdata's C
# validators, which makes that baseline faster than a real tool's regexes.
# Two baselines for the scan: SELECT count(*) (the issue's baseline; it never
# deforms a tuple) and SELECT count(region), which deforms every row up to its
# last column and so reads all eight checked columns: the floor of any check
# of those columns in one scan.  Targets: <= 1.6x count(*), >= 3x faster than
# the Soda-style SQL.  Timings are
# the best of 3 (Soda-style: 2) in one session; work_mem 64MB for both; parallel
# query is off for all (measure_quality is one process).
# Env: PGHOST PGPORT PGUSER; QUALITY_BENCH_ROWS (default 2000000).
set -euo pipefail
ROWS=${QUALITY_BENCH_ROWS:-2000000}
DB=pubdata_bench_quality
psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -qX -v ON_ERROR_STOP=1 -d $DB <<SQL >/dev/null
CREATE EXTENSION pubdata CASCADE;
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_qual_dept') THEN
		CREATE ROLE bench_qual_dept NOLOGIN IN ROLE pubdata_department;
	END IF;
END \$\$;
INSERT INTO pubdata.department (code, name, region, kind, role_name)
VALUES ('bench_qual', 'Bench department', '331100', 'administrative', 'bench_qual_dept');
-- a pool of valid identity numbers (17 digits + MOD 11-2 check character)
CREATE TABLE cards AS
SELECT n, d17 || substr('10X98765432', (SELECT sum(substr(d17, i, 1)::int * (2 ^ (18 - i))::int % 11) FROM generate_series(1, 17) i)::int % 11 + 1, 1) AS card
  FROM (SELECT n, '3311' || lpad((n % 100)::text, 2, '0') || (1950 + n % 60)::text || lpad((1 + n % 12)::text, 2, '0')
				  || lpad((1 + n % 28)::text, 2, '0') || lpad((n % 1000)::text, 3, '0') AS d17
		  FROM generate_series(0, 9999) n) s;
CREATE TABLE people (
	id		bigint,
	id_no	text,
	name	text,
	phone	text,
	age		integer,
	sex		text,
	born	date,
	region	text
);
-- about 1% defects per rule, 1000 duplicated ids
INSERT INTO people
SELECT CASE WHEN g % 2000 = 0 THEN g - 1 ELSE g END,
	   CASE WHEN g % 97 = 0 THEN '33110219800101001' || (g % 10)::text ELSE c.card[1 + g % 10000] END,
	   CASE WHEN g % 101 = 0 THEN NULL ELSE 'name' || g END,
	   CASE WHEN g % 103 = 0 THEN '1234' ELSE '13' || lpad((g % 1000000000)::text, 9, '0') END,
	   CASE WHEN g % 107 = 0 THEN 200 ELSE g % 100 END,
	   CASE WHEN g % 109 = 0 THEN 'X' WHEN g % 2 = 0 THEN 'M' ELSE 'F' END,
	   CASE WHEN g % 113 = 0 THEN date '2999-01-01' ELSE date '1950-01-01' + (g % 20000) END,
	   CASE WHEN g % 127 = 0 THEN 'x' ELSE '3311' || lpad((g % 100)::text, 2, '0') END
  FROM generate_series(1, $ROWS) g, (SELECT array_agg(card ORDER BY n) AS card FROM cards) c;
ALTER TABLE people OWNER TO bench_qual_dept;
VACUUM ANALYZE people;
INSERT INTO pubdata.resource (code, name, relation, relation_name, provider_id, responsible_id,
	share_class, open_class, update_frequency, security_level, region)
SELECT 'bench_people', 'People', 'people', 'public.people', id, id, 'unconditional', 'open', 'daily', 2, '331100'
  FROM pubdata.department WHERE code = 'bench_qual';
INSERT INTO pubdata.resource_item (resource_id, column_name, title, data_type, is_key)
SELECT id, 'id', 'id', 'bigint', true FROM pubdata.resource WHERE code = 'bench_people';
SET ROLE bench_qual_dept;
SELECT pubdata.add_quality_rule('bench_people', 'id', 'unique');
SELECT pubdata.add_quality_rule('bench_people', 'id_no', 'id_card');
SELECT pubdata.add_quality_rule('bench_people', 'name', 'not_null');
SELECT pubdata.add_quality_rule('bench_people', 'phone', 'mobile');
SELECT pubdata.add_quality_rule('bench_people', 'age', 'range', '{"min": 0, "max": 150}');
SELECT pubdata.add_quality_rule('bench_people', 'sex', 'allowed_values', '{"values": ["M", "F"]}');
SELECT pubdata.add_quality_rule('bench_people', 'born', 'date_not_future');
SELECT pubdata.add_quality_rule('bench_people', 'region', 'pattern', '{"regex": "^[0-9]{6}\$"}');
SQL

psql -qX -v ON_ERROR_STOP=1 -d $DB <<'SQL'
SET max_parallel_workers_per_gather = 0;
SET work_mem = '64MB';
CREATE TEMP TABLE timing (what text, ms float8);
GRANT ALL ON timing TO PUBLIC;
CREATE FUNCTION pg_temp.best(what text, sqls text[], runs int DEFAULT 3) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	best float8;
	ms float8;
	q text;
BEGIN
	FOR i IN 1..runs LOOP
		t0 := clock_timestamp();
		FOREACH q IN ARRAY sqls LOOP
			EXECUTE q;
		END LOOP;
		ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
		best := least(best, ms);
		IF best IS NULL THEN best := ms; END IF;
	END LOOP;
	INSERT INTO timing VALUES (what, best);
END
$$;
SELECT pg_temp.best('count(*)', ARRAY['SELECT count(*) FROM people']);
-- the floor of reading every checked value: deform each tuple to its last column
SELECT pg_temp.best('count(region): reads all checked columns', ARRAY['SELECT count(region) FROM people']);
SET ROLE bench_qual_dept;
SELECT pg_temp.best('measure_quality', ARRAY['SELECT pubdata.measure_quality(''bench_people'')']);
RESET ROLE;
SELECT pg_temp.best('soda', ARRAY[
	$q$SELECT count(*),
			  count(*) FILTER (WHERE NOT pubdata.is_valid_id_card(id_no)),
			  count(*) FILTER (WHERE name IS NULL),
			  count(*) FILTER (WHERE NOT pubdata.is_valid_mobile(phone)),
			  count(*) FILTER (WHERE age < 0 OR age > 150),
			  count(*) FILTER (WHERE sex NOT IN ('M', 'F')),
			  count(*) FILTER (WHERE born > current_date),
			  count(*) FILTER (WHERE region !~ '^[0-9]{6}$')
		 FROM people$q$,
	$q$SELECT count(*), sum(n) FROM (SELECT id, count(*) AS n FROM people GROUP BY id HAVING count(*) > 1) d$q$,
	$q$SELECT * FROM people WHERE id IN (SELECT id FROM people GROUP BY id HAVING count(*) > 1) LIMIT 10$q$,
	$q$SELECT * FROM people WHERE NOT pubdata.is_valid_id_card(id_no) LIMIT 10$q$,
	$q$SELECT * FROM people WHERE name IS NULL LIMIT 10$q$,
	$q$SELECT * FROM people WHERE NOT pubdata.is_valid_mobile(phone) LIMIT 10$q$,
	$q$SELECT * FROM people WHERE age < 0 OR age > 150 LIMIT 10$q$,
	$q$SELECT * FROM people WHERE sex NOT IN ('M', 'F') LIMIT 10$q$,
	$q$SELECT * FROM people WHERE born > current_date LIMIT 10$q$,
	$q$SELECT * FROM people WHERE region !~ '^[0-9]{6}$' LIMIT 10$q$], 2);
\pset footer off
SELECT r.rule_id, q.kind, r.rows_checked, r.rows_failed
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 WHERE r.run_id = (SELECT max(id) FROM pubdata.quality_run) ORDER BY 1;
SELECT what, round(ms::numeric, 1) AS best_ms FROM timing;
SELECT format('measure_quality / SELECT count(*)       = %s  (issue''s baseline, target <= 1.6)',
			  round(((SELECT ms FROM timing WHERE what = 'measure_quality') / (SELECT ms FROM timing WHERE what = 'count(*)'))::numeric, 2)) AS ratio
UNION ALL
SELECT format('measure_quality / SELECT count(region)  = %s  (floor: reads every checked column)',
			  round(((SELECT ms FROM timing WHERE what = 'measure_quality') / (SELECT ms FROM timing WHERE what LIKE 'count(region)%'))::numeric, 2))
UNION ALL
SELECT format('Soda-style SQL / measure_quality        = %s  (target >= 3)',
			  round(((SELECT ms FROM timing WHERE what = 'soda') / (SELECT ms FROM timing WHERE what = 'measure_quality'))::numeric, 2));
SQL
[ -n "${QUALITY_BENCH_KEEP:-}" ] || psql -qX -d postgres -c "DROP DATABASE $DB"
