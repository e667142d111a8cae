-- pubdata.timezone: one setting (default Asia/Shanghai) for the days of the
-- calendar and the clock of cron schedules, whatever the server's or the
-- session's TimeZone (the suite runs on a server whose TimeZone is UTC).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_tz_admin IN ROLE pubdata_admin;
CREATE ROLE regress_tz_dept;
CREATE SCHEMA regress_tz AUTHORIZATION regress_tz_dept;
RESET client_min_messages;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
SET pubdata.calendar_strict = off;
SHOW pubdata.timezone;

-- cron runs on Lishui's clock: the same instant in every session time zone
SELECT pubdata.cron_next('0 2 * * *', '2026-01-01 10:07+08') AT TIME ZONE 'Asia/Shanghai' AS nightly_in_utc_session;
SET TimeZone = 'America/New_York';
SELECT pubdata.cron_next('0 2 * * *', '2026-01-01 10:07+08') AT TIME ZONE 'Asia/Shanghai' AS nightly_new_york_session;
-- Monday to Friday in Lishui: 09:30 Friday 2 January there is Thursday evening in New York
SELECT pubdata.cron_next('30 9 * * 1-5', '2026-01-01 12:00+08') AT TIME ZONE 'Asia/Shanghai' AS weekday_morning;
-- and deadlines end at midnight in Lishui
SELECT pubdata.add_working_days('2026-01-05 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due;
SELECT pubdata.working_days_between('2026-01-05 10:00+08'::timestamptz, '2026-01-07 20:00-05'::timestamptz) AS days;
SET TimeZone = 'UTC';

-- a job scheduled by cron: its next run is 02:00 Beijing time
SET ROLE regress_tz_admin;
SELECT pubdata.schedule_job('custom', '0 2 * * *', 'SELECT 1', enabled => false) AS cron_job \gset
SELECT schedule_kind, to_char(next_run_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI') AS beijing_time
  FROM pubdata.job WHERE id = :cron_job;
SELECT pubdata.drop_job(:cron_job);
RESET ROLE;

-- the setting moves all of them (a superuser sets it, or ALTER DATABASE)
SET pubdata.timezone = 'UTC';
SELECT pubdata.cron_next('0 2 * * *', '2026-01-01 10:07+08') AS nightly_on_utc_clock;
SELECT pubdata.add_working_days('2026-01-05 10:00+08', 2) AS due_utc_days;
-- 23:30 UTC on Sunday 4 January is Monday 5 January in Lishui: counted from Monday there, Sunday here
SELECT pubdata.add_working_days('2026-01-04 23:30+00', 1) AS due_from_sunday;
SET pubdata.timezone = 'Asia/Shanghai';
SELECT pubdata.add_working_days('2026-01-04 23:30+00', 1) AT TIME ZONE 'Asia/Shanghai' AS due_from_monday;
RESET pubdata.timezone;

-- bad values, and a department may not move its own deadlines
SET pubdata.timezone = 'Mars/Olympus_Mons';
SET pubdata.timezone = '';
SET ROLE regress_tz_dept;
SET pubdata.timezone = 'UTC';
RESET ROLE;

-- "not in the future" is Lishui's today too: a date that is already today at
-- UTC+14 is in the future for a zone at UTC-11, and never for the zone itself
SET ROLE regress_tz_admin;
SELECT pubdata.add_department('regress_tz_dept', '市测试局', '331100', 'administrative', 'regress_tz_dept') > 0 AS added;
RESET ROLE;
SET ROLE regress_tz_dept;
CREATE TABLE regress_tz.event (id integer PRIMARY KEY, happened date);
INSERT INTO regress_tz.event VALUES (1, (now() AT TIME ZONE 'Pacific/Kiritimati')::date), (2, '2020-01-01');
SELECT pubdata.register_resource('regress_tz.event', 'REG-TZ-EV', '事件', 'regress_tz_dept',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('REG-TZ-EV', 'happened', 'date_not_future') AS rule \gset
RESET ROLE;
SET pubdata.timezone = 'Pacific/Kiritimati';
SET ROLE regress_tz_dept;
SELECT pubdata.measure_quality('REG-TZ-EV') AS run_kiritimati \gset
RESET ROLE;
SET pubdata.timezone = 'Pacific/Pago_Pago';
SET ROLE regress_tz_dept;
SELECT pubdata.measure_quality('REG-TZ-EV') AS run_pago_pago \gset
SELECT r.run_id = :run_kiritimati AS kiritimati, r.rows_checked, r.rows_failed
  FROM pubdata.quality_result r WHERE r.rule_id = :rule ORDER BY r.run_id;
RESET ROLE;
RESET pubdata.timezone;
RESET TimeZone;
