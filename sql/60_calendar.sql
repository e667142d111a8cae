-- The working-day calendar: official holidays, adjusted working days (调休),
-- deadlines in Asia/Shanghai, strictness about years not loaded, loading years
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_cal_bureau IN ROLE pubdata_admin;
CREATE ROLE regress_cal_reader IN ROLE pubdata_department;
RESET client_min_messages;
SET DateStyle = 'ISO, YMD';
-- whatever the session's time zone, days are Asia/Shanghai days
SET TimeZone = 'America/New_York';

SET ROLE regress_cal_reader;
-- the shipped years: 248 working days each
SELECT year, builtin, weekday_holidays, adjusted_workdays, workdays FROM pubdata.calendar_years ORDER BY year;
-- the same count by the obvious SQL over generate_series, independent of the C code
SELECT EXTRACT(YEAR FROM g)::int AS year,
	   count(*) FILTER (WHERE coalesce(c.is_workday, EXTRACT(ISODOW FROM g) < 6)) AS workdays
  FROM generate_series('2025-01-01'::date, '2026-12-31', '1 day') g
  LEFT JOIN pubdata.calendar c ON c.day = g::date
 GROUP BY 1 ORDER BY 1;

-- single days: holidays, adjusted working days, ordinary days
SELECT d, to_char(d, 'Dy') AS dow, pubdata.is_workday(d) AS workday,
	   (SELECT note FROM pubdata.calendar c WHERE c.day = d) AS note
  FROM unnest(ARRAY['2025-01-01', '2025-01-26', '2025-01-28', '2025-02-08', '2025-03-04', '2025-03-08',
					'2025-09-28', '2025-10-08', '2025-10-11', '2026-01-02', '2026-01-04', '2026-02-14',
					'2026-02-23', '2026-02-28', '2026-05-09', '2026-09-25', '2026-10-10']::date[]) AS d;

-- every day of 2025 and 2026 agrees with the calendar table
SELECT count(*) AS disagreements
  FROM generate_series('2025-01-01'::date, '2026-12-31', '1 day') g
  LEFT JOIN pubdata.calendar c ON c.day = g::date
 WHERE pubdata.is_workday(g::date) <> coalesce(c.is_workday, EXTRACT(ISODOW FROM g) < 6);

-- every deadline of 1 to 5 working days from every day of 2025-2026 agrees
-- with the obvious SQL (n-th working day after the day of receipt)
WITH days AS (
	SELECT g::date AS day, coalesce(c.is_workday, EXTRACT(ISODOW FROM g) < 6) AS w
	  FROM generate_series('2025-01-01'::date, '2026-12-31', '1 day') g
	  LEFT JOIN pubdata.calendar c ON c.day = g::date),
numbered AS (
	SELECT day, w, count(*) FILTER (WHERE w) OVER (ORDER BY day) AS k FROM days)
SELECT count(*) AS checked,
	   count(*) FILTER (WHERE (pubdata.add_working_days((r.day + time '09:30') AT TIME ZONE 'Asia/Shanghai', n)
							  AT TIME ZONE 'Asia/Shanghai')::date
							 <> (SELECT x.day FROM numbered x WHERE x.w AND x.k = r.k + n)) AS disagreements
  FROM numbered r, generate_series(1, 5) n
 WHERE r.day <= '2026-12-20';

-- and working_days_between agrees with counting
SELECT count(*) FILTER (WHERE pubdata.working_days_between(a, b)
						<> (SELECT count(*) FROM generate_series(a + 1, b, '1 day') g
							  LEFT JOIN pubdata.calendar c ON c.day = g::date
							 WHERE coalesce(c.is_workday, EXTRACT(ISODOW FROM g) < 6))) AS disagreements
  FROM generate_series('2025-01-01'::date, '2026-10-31', '17 days') ga, generate_series(0, 60, 7) k,
	   LATERAL (SELECT ga::date AS a, ga::date + k AS b) s;

-- in parallel workers too
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SELECT count(*) FILTER (WHERE pubdata.is_workday(g::date) <> coalesce(c.is_workday, EXTRACT(ISODOW FROM g) < 6)) AS disagreements,
	   max(pubdata.add_working_days(g, 2)) = '2026-12-30 23:59:59.999999+08' AS last_deadline_ok
  FROM generate_series('2025-01-01'::date, '2026-12-28', '1 day') g
  LEFT JOIN pubdata.calendar c ON c.day = g::date;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;

-- deadlines (2 working days, the Art 13 default) across the long holidays
SELECT received, pubdata.add_working_days(received::timestamptz, 2) AT TIME ZONE 'Asia/Shanghai' AS due
  FROM unnest(ARRAY[
	'2025-01-27 10:00+08',		-- eve of 春节 2025: 28 Jan - 4 Feb off
	'2025-02-07 16:00+08',		-- Friday; Saturday 8 Feb is a working day
	'2025-04-30 09:00+08',		-- 劳动节 2025
	'2025-09-26 11:00+08',		-- Friday; Sunday 28 Sep is a working day
	'2025-09-30 10:00+08',		-- 国庆 2025: 1-8 Oct off
	'2025-12-31 10:00+08',		-- into 2026: 1-3 Jan off, Sunday 4 Jan a working day
	'2026-02-13 10:00+08',		-- Friday before 春节 2026: Saturday 14 Feb works, 15-23 Feb off
	'2026-09-24 10:00+08',		-- 中秋 2026: 25-27 Sep off
	'2026-09-30 10:00+08'		-- 国庆 2026: 1-7 Oct off, Saturday 10 Oct works
  ]) AS received;

-- the day of receipt does not count, whenever in the day the objection came
SELECT pubdata.add_working_days('2025-03-04 00:00:01+08', 1) AT TIME ZONE 'Asia/Shanghai' AS early,
	   pubdata.add_working_days('2025-03-04 23:59:59+08', 1) AT TIME ZONE 'Asia/Shanghai' AS late,
	   pubdata.add_working_days('2025-03-08 12:00+08', 1) AT TIME ZONE 'Asia/Shanghai' AS on_saturday;
-- the day is taken in Asia/Shanghai: 17:30 UTC on 4 March is 01:30 on 5 March there
SELECT pubdata.add_working_days('2025-03-04 17:30+00', 1) AT TIME ZONE 'Asia/Shanghai' AS due;
SET TimeZone = 'UTC';
SELECT pubdata.add_working_days('2025-03-04 17:30+00', 1) AT TIME ZONE 'Asia/Shanghai' AS due_in_utc_session;
SET TimeZone = 'America/New_York';
-- the deadline is the last instant of the day
SELECT pubdata.add_working_days('2025-03-04 10:00+08', 1) = '2025-03-05 23:59:59.999999+08' AS last_instant,
	   pubdata.add_working_days('2025-03-04 10:00+08', 1) + interval '1 microsecond' = '2025-03-06 00:00+08' AS next_day_starts;
-- n = 0: the end of the day of receipt; negative and infinite are refused
SELECT pubdata.add_working_days('2025-10-01 10:00+08', 0) AT TIME ZONE 'Asia/Shanghai' AS same_day;
SELECT pubdata.add_working_days('2025-10-01 10:00+08', -1);
SELECT pubdata.add_working_days('infinity', 2);
SELECT pubdata.is_workday('-infinity');

-- working days between: after the first day, up to and including the second
SELECT pubdata.working_days_between('2025-09-30'::date, '2025-10-10') AS national_day,
	   pubdata.working_days_between('2025-10-10'::date, '2025-09-30') AS backwards,
	   pubdata.working_days_between('2025-10-03'::date, '2025-10-03') AS same_day,
	   pubdata.working_days_between('2025-09-30 10:00+08'::timestamptz, '2025-10-09 09:00+08') AS resolved_next_working_day,
	   pubdata.working_days_between('2025-03-04 23:00+08'::timestamptz, '2025-03-05 01:00+08') AS across_midnight;

-- a deadline running into 2027, whose calendar is not loaded, is an error ...
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2);
SELECT pubdata.is_workday('2024-05-01');
SELECT pubdata.working_days_between('2026-12-01'::date, '2027-01-10');
-- ... unless strictness is off: then Monday to Friday
SET pubdata.calendar_strict = off;
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due_plain_week,
	   pubdata.is_workday('2024-05-01') AS may_day_2024_plain,
	   pubdata.working_days_between('2026-12-01'::date, '2027-01-10') AS days;
RESET pubdata.calendar_strict;
-- a deadline inside a loaded year is fine even when received in a year not loaded
SELECT pubdata.add_working_days('2024-12-31 10:00+08', 1) AT TIME ZONE 'Asia/Shanghai' AS due;

-- a department may not load or change calendars
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01']::date[]);
INSERT INTO pubdata.calendar (day, is_workday, note) VALUES ('2026-12-31', false, 'x');
RESET ROLE;

-- the bureau loads a year (here a test arrangement for 2027, not the official one)
SET ROLE regress_cal_bureau;
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01', '2027-02-05', '2027-02-08']::date[],
								  ARRAY['2027-02-06']::date[], source => 'regression test data') AS workdays_2027;
SELECT year, builtin, source, loaded_by, weekday_holidays, adjusted_workdays, workdays
  FROM pubdata.calendar_years ORDER BY year;
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due;
-- a plain INSERT of a day is seen at once (the cache is invalidated)
INSERT INTO pubdata.calendar (day, is_workday, note) VALUES ('2027-01-02', true, '调休 (test)');
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due_after_insert;
DELETE FROM pubdata.calendar WHERE day = '2027-01-02';
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due_after_delete;
-- failure paths for the bureau
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-10-01']::date[]);
SELECT pubdata.load_calendar_year(2025, ARRAY['2025-10-01']::date[], replace => true);
SELECT pubdata.load_calendar_year(2028, ARRAY['2028-10-01', '2029-01-01']::date[]);
SELECT pubdata.load_calendar_year(2028, ARRAY['2028-10-01']::date[], ARRAY['2028-10-01']::date[]);
SELECT pubdata.load_calendar_year(1900, '{}');
INSERT INTO pubdata.calendar (day, is_workday, note) VALUES ('2028-05-01', false, 'no year registered');
UPDATE pubdata.calendar SET is_workday = true WHERE day = '2025-10-01';
DELETE FROM pubdata.calendar_year WHERE year = 2026;
INSERT INTO pubdata.calendar (day, is_workday, note, builtin) VALUES ('2027-05-01', false, 'sneak', true);
-- reload with replace
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01']::date[], replace => true) AS workdays_2027;
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due;
-- unloading makes the deadline an error again
SELECT pubdata.unload_calendar_year(2027);
SELECT pubdata.unload_calendar_year(2027);
SELECT pubdata.unload_calendar_year(2026);
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2);
RESET ROLE;
SELECT count(*) AS days_2027 FROM pubdata.calendar WHERE day >= '2027-01-01';

-- the shipped rows are excluded from pg_dump (CREATE EXTENSION restores them)
SELECT c.relname, x.cond
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(oid, cond)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'pubdata' AND c.relname LIKE 'calendar%' ORDER BY 1;
RESET TimeZone;
RESET DateStyle;
