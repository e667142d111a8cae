-- 6. The clock (Art 8(5), 14, 15): aggregation on schedule, the county feed, overdue alerts
\set SHOW_CONTEXT never
SET client_min_messages = warning;
\echo
\echo '== Scheduler: the launcher and its jobs'
-- (the launcher connects a few seconds after its database is created)
DO $$
DECLARE i integer := 0;
BEGIN
	WHILE NOT EXISTS (SELECT 1 FROM pg_stat_activity
					   WHERE backend_type = 'pubdata launcher' AND datname = current_database()) AND i < 40 LOOP
		PERFORM pg_sleep(0.5);
		i := i + 1;
	END LOOP;
END $$;
SELECT backend_type, application_name, datname FROM pg_stat_activity WHERE backend_type LIKE 'pubdata%';

-- The Liandu district civil affairs bureau (LD-MZ) pre-aggregates its population by
-- township in its own database; the city pulls it through postgres_fdw (Art 14).
SET ROLE liandu_civil;
CREATE TABLE liandu.population_by_town (
	town_code	text PRIMARY KEY,
	town_name	text NOT NULL,
	region_code	text NOT NULL,
	households	integer NOT NULL,
	people		integer NOT NULL,
	run_id		bigint
);
COMMENT ON COLUMN liandu.population_by_town.town_code IS '乡镇（街道）代码';
COMMENT ON COLUMN liandu.population_by_town.people IS '户籍人口数';
\o /dev/null
SELECT pubdata.register_resource('liandu.population_by_town', 'LD-MZ-RKTJ', '莲都区分乡镇人口统计', 'LD-MZ',
	'unconditional', 'open', 'monthly', 1, catalog_level => 'county', category => '人口');
\o
\echo '-- LD-MZ schedules the county feed: incremental by township, every 5 seconds for the demo'
\echo '-- (with schedule NULL it would follow the catalog''s update frequency, monthly)'
SELECT pubdata.schedule_aggregation('LD-MZ-RKTJ', 'liandu_county.population', mode => 'incremental',
	key_columns => ARRAY['town_code'], run_id_column => 'run_id', schedule => '5 seconds') AS county_job \gset
RESET ROLE;

\echo '-- waiting for the launcher to run it twice on schedule ...'
DO $$
DECLARE i integer := 0;
BEGIN
	WHILE (SELECT count(*) FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id
			WHERE j.name = 'aggregate into LD-MZ-RKTJ' AND r.status = 'succeeded' AND r.scheduled_at IS NOT NULL) < 2
		  AND i < 60 LOOP
		PERFORM pg_sleep(0.5);
		i := i + 1;
	END LOOP;
END $$;
SET ROLE liandu_civil;
SELECT id AS run, status, attempt, rows_read, rows_written,
	   round(extract(epoch FROM started_at - scheduled_at) * 1000) AS late_ms,
	   to_char(started_at, 'HH24:MI:SS') AS started
  FROM pubdata.job_run WHERE job_id = :county_job ORDER BY id;
SELECT town_code, town_name, households, people, run_id FROM liandu.population_by_town ORDER BY town_code;
RESET ROLE;

\echo '-- the county corrects a figure at the source; the next run writes only that row'
\! psql -X -q -h "$PGHOST" -p $((PGPORT + 5)) -d county -c "UPDATE population SET people = 12300 WHERE town_code = '331102101'"
SELECT max(id) AS last_run FROM pubdata.job_run WHERE job_id = :county_job \gset
SET demo.job = :county_job;
SET demo.last = :last_run;
DO $$
DECLARE i integer := 0;
BEGIN
	WHILE NOT EXISTS (SELECT 1 FROM pubdata.job_run WHERE job_id = current_setting('demo.job')::bigint
					   AND id > current_setting('demo.last')::bigint AND status = 'succeeded') AND i < 40 LOOP
		PERFORM pg_sleep(0.5);
		i := i + 1;
	END LOOP;
END $$ ;
SELECT id AS run, status, rows_read, rows_written FROM pubdata.job_run
 WHERE job_id = :county_job AND id > :last_run ORDER BY id LIMIT 1;
SELECT town_code, town_name, people, run_id FROM liandu.population_by_town WHERE town_code = '331102101';
SELECT pubdata.alter_job(:county_job, schedule => '0 2 1 * *');
SELECT name, schedule, schedule_kind, to_char(next_run_at, 'YYYY-MM-DD HH24:MI') AS next_run FROM pubdata.job WHERE id = :county_job;

\echo
\echo '-- Timeliness (Art 15): the city civil affairs bureau aggregates marriages daily from its own system'
SET ROLE lishui_civil;
CREATE TABLE civil.marriage_daily (day date PRIMARY KEY, registrations integer NOT NULL, run_id bigint);
CREATE TABLE civil.marriage_register (registered_on date NOT NULL, couple_id text NOT NULL);
INSERT INTO civil.marriage_register
SELECT current_date - (g % 30), 'C' || g FROM generate_series(1, 900) g;
\o /dev/null
SELECT pubdata.register_resource('civil.marriage_daily', 'LS-MZ-HYDJ', '婚姻登记日统计', 'LS-MZ',
	'unconditional', 'open', 'daily', 1, category => '民政');
\o
SELECT pubdata.schedule_aggregation('LS-MZ-HYDJ',
	'SELECT registered_on AS day, count(*)::integer AS registrations FROM civil.marriage_register GROUP BY 1',
	run_id_column => 'run_id', schedule => '0 1 * * *') AS marriage_job \gset
SELECT pubdata.run_job_now(:marriage_job) AS run \gset
SELECT status, rows_read, rows_written FROM pubdata.job_run WHERE id = :run;
RESET ROLE;
\echo '-- suppose its last successful run was three days ago (the source system was down)'
UPDATE pubdata.job SET last_success_at = now() - interval '3 days' WHERE id = :marriage_job;
SET ROLE lishui_bureau;
SELECT resource, provider, update_frequency, to_char(last_success, 'MM-DD HH24:MI') AS last_success,
	   date_trunc('minute', overdue_by) AS overdue_by FROM pubdata.overdue;
\echo '-- the launcher checks every minute and raises NOTIFY pubdata_alert once per episode:'
LISTEN pubdata_alert;
SELECT pubdata.check_overdue() AS new_alerts;
SELECT pubdata.check_overdue() AS alerts_again;
UNLISTEN pubdata_alert;
RESET ROLE;
