-- Scheduler: aggregation jobs, runs, retries, timeouts, overdue detection, permissions.
-- The launcher runs in another database (pubdata.database); here every run is
-- started with run_job_now(), which uses the same job worker.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET timezone = 'Asia/Shanghai';
CREATE ROLE regress_sched_admin IN ROLE pubdata_admin;
CREATE ROLE regress_sched_stats;
CREATE ROLE regress_sched_civil;
CREATE ROLE regress_sched_auditor IN ROLE pubdata_auditor;
CREATE SCHEMA regress_sched_stats AUTHORIZATION regress_sched_stats;
CREATE SCHEMA regress_sched_civil AUTHORIZATION regress_sched_civil;
RESET client_min_messages;

SET ROLE regress_sched_admin;
SELECT pubdata.add_department('regress_sched_stats', '市统计局', '331100', 'administrative', 'regress_sched_stats') > 0 AS added;
SELECT pubdata.add_department('regress_sched_civil', '市民政局', '331100', 'administrative', 'regress_sched_civil') > 0 AS added;
RESET ROLE;

-- cron expressions (session time zone)
SELECT pubdata.cron_next('*/15 * * * *', '2026-01-01 10:07:30+08') AS every_quarter_hour;
SELECT pubdata.cron_next('0 2 * * *', '2026-01-01 10:07+08') AS nightly;
SELECT pubdata.cron_next('30 9 * * 1-5', '2026-01-02 10:00+08') AS next_weekday_morning;
SELECT pubdata.cron_next('0 0 * * 7', '2026-01-01 00:00+08') AS sunday_as_7;
SELECT pubdata.cron_next('0 0 29 2 *', '2026-03-01 00:00+08') AS leap_day;
SELECT pubdata.cron_next('0 12 13 * 5', '2026-02-01 00:00+08') AS dom_or_dow;
SELECT pubdata.cron_next('5,35 8-10/2 1 1,7 *', '2026-06-30 00:00+08') AS lists_ranges_steps;
SELECT pubdata.cron_next('0 0 31 2 *', '2026-01-01 00:00+08');
SELECT pubdata.cron_next('61 * * * *', '2026-01-01 00:00+08');
SELECT pubdata.cron_next('* * *', '2026-01-01 00:00+08');
SELECT pubdata.cron_next('*/0 * * * *', '2026-01-01 00:00+08');
SELECT f, pubdata.frequency_interval(f) FROM unnest(enum_range(NULL::pubdata.update_frequency)) f;

-- the statistics bureau registers its resources
SET ROLE regress_sched_stats;
CREATE TABLE regress_sched_stats.population (region text PRIMARY KEY, people integer, run_id bigint);
CREATE TABLE regress_sched_stats.census (region text, people integer, extra text);
INSERT INTO regress_sched_stats.census VALUES ('莲都区', 100, 'x'), ('青田县', 200, 'y');
CREATE TABLE regress_sched_stats.events (id integer, note text, run_id bigint, loaded_by text);
SELECT pubdata.register_resource('regress_sched_stats.population', 'REG-SCHED-POP', '人口统计', 'regress_sched_stats',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.register_resource('regress_sched_stats.events', 'REG-SCHED-EV', '统计事件', 'regress_sched_stats',
	'unconditional', 'open', 'on_demand', 1) > 0 AS registered;

-- full refresh from a table, at 03:00 every day
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', run_id_column => 'run_id',
	schedule => '0 3 * * *') AS full_job \gset
SELECT name, kind, source, source_is_query, mode, schedule, schedule_kind, run_as, enabled,
	   next_run_at = pubdata.cron_next('0 3 * * *', created_at) AS next_at_3am
  FROM pubdata.job WHERE id = :full_job;
SELECT pubdata.run_job_now(:full_job) AS run1 \gset
SELECT status, rows_read, rows_written, attempt, error, scheduled_at IS NULL AS manual, pid IS NOT NULL AS has_pid
  FROM pubdata.job_run WHERE id = :run1;
SELECT region, people, run_id = :run1 AS carries_run_id FROM regress_sched_stats.population ORDER BY region;
-- a second full refresh replaces, it does not add
SELECT pubdata.run_job_now(:full_job) AS run2 \gset
SELECT count(*) AS rows, count(*) FILTER (WHERE run_id = :run2) AS from_run2 FROM regress_sched_stats.population;

-- incremental by key: only changed and new rows are written
SELECT pubdata.schedule_aggregation('REG-SCHED-POP',
	'SELECT region, sum(people)::integer AS people FROM regress_sched_stats.census GROUP BY region',
	mode => 'incremental', key_columns => ARRAY['region'], run_id_column => 'run_id') AS inc_job \gset
SELECT source_is_query, schedule_kind, next_run_at IS NOT NULL AS scheduled_by_frequency FROM pubdata.job WHERE id = :inc_job;
UPDATE regress_sched_stats.census SET people = 150 WHERE region = '莲都区';
INSERT INTO regress_sched_stats.census VALUES ('缙云县', 300, 'z');
SELECT pubdata.run_job_now(:inc_job) AS run3 \gset
SELECT status, rows_read, rows_written FROM pubdata.job_run WHERE id = :run3;
SELECT region, people, run_id = :run3 AS written_by_run3 FROM regress_sched_stats.population ORDER BY region;

-- append from a query; the job runs as the provider even when the bureau starts it
SELECT pubdata.schedule_aggregation('REG-SCHED-EV',
	'SELECT g AS id, ''event '' || g AS note, current_user::text AS loaded_by FROM generate_series(1, 3) g',
	mode => 'append', run_id_column => 'run_id') AS app_job \gset
SELECT next_run_at IS NULL AS on_demand_not_scheduled FROM pubdata.job WHERE id = :app_job;
SELECT pubdata.run_job_now(:app_job) > 0 AS ran;
RESET ROLE;
SET ROLE regress_sched_admin;
SELECT pubdata.run_job_now(:app_job) > 0 AS ran_by_bureau;
RESET ROLE;
SET ROLE regress_sched_stats;
SELECT count(*) AS rows, count(DISTINCT run_id) AS runs, min(loaded_by) AS loaded_by, max(loaded_by) AS loaded_by_too
  FROM regress_sched_stats.events;

-- a failing job: nothing written, retried with exponential back-off up to max_attempts
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'SELECT region, people / 0 AS people FROM regress_sched_stats.census',
	schedule => '0 3 * * *', max_attempts => 3, retry_backoff => '10 minutes') AS bad_job \gset
SELECT pubdata.run_job_now(:bad_job);
SELECT max(id) AS bad1 FROM pubdata.job_run WHERE job_id = :bad_job \gset
SELECT status, attempt, error, rows_written FROM pubdata.job_run WHERE id = :bad1;
SELECT failures, next_run_at BETWEEN now() + interval '9 minutes' AND now() + interval '11 minutes' AS retry_in_10_min
  FROM pubdata.job WHERE id = :bad_job;
SELECT count(*) AS population_rows_kept FROM regress_sched_stats.population;
SELECT pubdata.run_job_now(:bad_job);
SELECT max(id) AS bad2 FROM pubdata.job_run WHERE job_id = :bad_job \gset
SELECT status, attempt FROM pubdata.job_run WHERE id = :bad2;
SELECT failures, next_run_at BETWEEN now() + interval '19 minutes' AND now() + interval '21 minutes' AS retry_in_20_min
  FROM pubdata.job WHERE id = :bad_job;
SELECT pubdata.run_job_now(:bad_job);
SELECT max(id) AS bad3 FROM pubdata.job_run WHERE job_id = :bad_job \gset
SELECT status, attempt FROM pubdata.job_run WHERE id = :bad3;
-- the third failure gives up: the job waits for its next occurrence
SELECT failures, next_run_at > now() AND next_run_at <= now() + interval '1 day'
	   AND to_char(next_run_at, 'HH24:MI') = '03:00' AS back_to_schedule
  FROM pubdata.job WHERE id = :bad_job;

-- the statement timeout of a job
SELECT pubdata.schedule_aggregation('REG-SCHED-POP',
	'SELECT region, people FROM regress_sched_stats.census WHERE pg_sleep(1) IS NOT NULL',
	timeout => '300 ms', max_attempts => 1) AS slow_job \gset
SELECT pubdata.run_job_now(:slow_job);
SELECT max(id) AS slow1 FROM pubdata.job_run WHERE job_id = :slow_job \gset
SELECT status, error FROM pubdata.job_run WHERE id = :slow1;

-- failure paths for the department
SELECT pubdata.schedule_aggregation('REG-SCHED-NOPE', 'regress_sched_stats.census');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', mode => 'merge');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'census');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.nosuch');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', '');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'DELETE FROM regress_sched_stats.census');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'SELECT 1 INTO regress_sched_stats.x');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', mode => 'incremental');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', key_columns => ARRAY['region']);
SELECT pubdata.schedule_aggregation('REG-SCHED-EV', 'regress_sched_stats.census', mode => 'incremental', key_columns => ARRAY['id']);
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', run_id_column => 'people');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', schedule => 'sometimes');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', schedule => '0 25 * * *');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', schedule => '0 seconds');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census', max_attempts => 0);
SELECT pubdata.schedule_job('custom', '1 hour', 'SELECT 1');
SELECT pubdata.run_job_now(-1);

-- injection attempts: identifiers and sources cannot smuggle in statements
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census',
	mode => 'incremental', key_columns => ARRAY['region"; DROP TABLE regress_sched_stats.population; --']);
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census',
	run_id_column => 'run_id"; DROP TABLE regress_sched_stats.population; --');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'regress_sched_stats.census; DROP TABLE regress_sched_stats.population');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP',
	'SELECT region, people FROM regress_sched_stats.census) s; DROP TABLE regress_sched_stats.population; SELECT (1');
SELECT pubdata.schedule_aggregation('REG-SCHED-POP',
	'SELECT region, people FROM regress_sched_stats.census; DROP TABLE regress_sched_stats.population');
-- a hostile row in the job table (only a superuser could write one) is re-checked by the worker
RESET ROLE;
UPDATE pubdata.job SET source = 'SELECT region, people FROM regress_sched_stats.census) s; DELETE FROM regress_sched_stats.population; SELECT (1'
 WHERE id = :inc_job;
SET ROLE regress_sched_stats;
SELECT pubdata.run_job_now(:inc_job);
SELECT max(id) AS evil FROM pubdata.job_run WHERE job_id = :inc_job \gset
SELECT status, error FROM pubdata.job_run WHERE id = :evil;
SELECT count(*) AS population_rows_intact FROM regress_sched_stats.population;
RESET ROLE;
UPDATE pubdata.job SET source = 'SELECT region, sum(people)::integer AS people FROM regress_sched_stats.census GROUP BY region'
 WHERE id = :inc_job;

-- another department: no scheduling, no running, no seeing
SET ROLE regress_sched_civil;
SELECT pubdata.schedule_aggregation('REG-SCHED-POP', 'SELECT ''x'' AS region, 1 AS people');
SELECT pubdata.run_job_now(:full_job);
SELECT pubdata.alter_job(:full_job, enabled => false);
SELECT pubdata.drop_job(:full_job);
SELECT count(*) AS jobs_seen, (SELECT count(*) FROM pubdata.job_run) AS runs_seen FROM pubdata.job;
SELECT resource, provider, update_frequency, jobs FROM pubdata.aggregation_status WHERE resource LIKE 'REG-SCHED%';
RESET ROLE;

-- the auditor reads every job and run, changes none
SET ROLE regress_sched_auditor;
SELECT count(*) AS jobs_seen FROM pubdata.job WHERE name LIKE '%REG-SCHED%';
SELECT status, count(*) FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id
 WHERE j.name LIKE '%REG-SCHED%' GROUP BY status ORDER BY status;
SELECT pubdata.run_job_now(:full_job);
RESET ROLE;

-- the bureau: custom jobs as a role it is a member of, not as anyone else
SET ROLE regress_sched_admin;
SELECT pubdata.schedule_job('custom', '*/5 * * * *', 'SELECT count(*) FROM pubdata.resource', name => 'regress_sched count') AS custom_job \gset
SELECT kind, schedule_kind, run_as FROM pubdata.job WHERE id = :custom_job;
SELECT pubdata.run_job_now(:custom_job) AS crun \gset
SELECT status, rows_written FROM pubdata.job_run WHERE id = :crun;
SELECT pubdata.schedule_job('custom', '1 hour', 'SELECT 1', run_as => 'postgres');
SELECT pubdata.schedule_job('custom', '1 hour', 'SELECT 1', run_as => 'regress_sched_stats');
SELECT pubdata.schedule_job('aggregation', '1 hour');
SELECT pubdata.schedule_job('custom', NULL, 'SELECT 1');
SELECT pubdata.schedule_job('custom', '1 hour');
SELECT pubdata.schedule_job('backup', '1 hour');
SELECT pubdata.alter_job(:custom_job, enabled => false);
SELECT enabled FROM pubdata.job WHERE id = :custom_job;
SELECT pubdata.alter_job(:full_job, schedule => '15 minutes');
SELECT schedule, schedule_kind FROM pubdata.job WHERE id = :full_job;
SELECT pubdata.alter_job(:full_job, follow_frequency => true);
SELECT schedule, schedule_kind FROM pubdata.job WHERE id = :full_job;
SELECT pubdata.drop_job(:custom_job);
RESET ROLE;
-- a job whose role has gone fails clearly
CREATE ROLE regress_sched_temp;
GRANT regress_sched_temp TO regress_sched_admin;
SET ROLE regress_sched_admin;
SELECT pubdata.schedule_job('custom', '1 hour', 'SELECT 1', run_as => 'regress_sched_temp') AS orphan_job \gset
RESET ROLE;
DROP ROLE regress_sched_temp;
SET ROLE regress_sched_admin;
SELECT pubdata.run_job_now(:orphan_job);
SELECT max(id) AS orun FROM pubdata.job_run WHERE job_id = :orphan_job \gset
SELECT status, error FROM pubdata.job_run WHERE id = :orun;
SELECT pubdata.drop_job(:orphan_job);
SELECT pubdata.drop_job(id) FROM pubdata.job WHERE builtin AND kind = 'objection_sweep';
RESET ROLE;

-- one job never runs twice at once
INSERT INTO pubdata.job_run (job_id, status, started_at, pid) VALUES (:full_job, 'running', now(), pg_backend_pid());
SET ROLE regress_sched_stats;
\set VERBOSITY terse
SELECT pubdata.run_job_now(:full_job);
\set VERBOSITY default
RESET ROLE;
-- a run whose worker is gone (killed, server crash) is marked failed by housekeeping
UPDATE pubdata.job_run SET pid = 0 WHERE job_id = :full_job AND status = 'running';
SELECT pubdata._housekeeping(0);
SELECT status, error FROM pubdata.job_run WHERE job_id = :full_job ORDER BY id DESC LIMIT 1;
-- history retention
UPDATE pubdata.job_run SET finished_at = now() - interval '2 hours' WHERE id = :run1;
SELECT pubdata._housekeeping(60);
SELECT count(*) AS run1_trimmed FROM pubdata.job_run WHERE id = :run1;

-- overdue: a daily resource whose last success is two days old; one alert per episode
UPDATE pubdata.job SET last_success_at = now() - interval '2 days', created_at = now() - interval '3 days'
 WHERE resource_id = pubdata.resource_id('REG-SCHED-POP');
SET ROLE regress_sched_stats;
SELECT resource, update_frequency, allowed_age, overdue FROM pubdata.aggregation_status WHERE resource LIKE 'REG-SCHED%' ORDER BY 1;
SELECT resource, overdue_by > interval '23 hours' AS more_than_a_day_late FROM pubdata.overdue WHERE resource LIKE 'REG-SCHED%';
SELECT pubdata.check_overdue();
RESET ROLE;
SET ROLE regress_sched_admin;
SELECT pubdata.check_overdue() AS new_alerts;
SELECT pubdata.check_overdue() AS alerts_again;
SELECT r.code FROM pubdata.aggregation_alert a JOIN pubdata.resource r ON r.id = a.resource_id;
RESET ROLE;
-- a successful run ends the episode
SET ROLE regress_sched_stats;
SELECT pubdata.run_job_now(:full_job) > 0 AS ran;
SELECT resource, overdue FROM pubdata.aggregation_status WHERE resource = 'REG-SCHED-POP';
RESET ROLE;
SET ROLE regress_sched_admin;
SELECT pubdata.check_overdue() AS new_alerts;
SELECT count(*) AS open_episodes FROM pubdata.aggregation_alert;
RESET ROLE;

-- jobs follow their resource: dropping a job drops its history
SET ROLE regress_sched_stats;
SELECT pubdata.drop_job(:slow_job);
SELECT count(*) AS slow_runs_left FROM pubdata.job_run WHERE job_id = :slow_job;
RESET ROLE;
