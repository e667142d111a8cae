-- The working-day calendar: official holidays, adjusted working days (调休),
-- deadlines in Asia/Shanghai, the provisional calendar of a year without an
-- official arrangement, strictness, loading years, warnings
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

-- the statutory holidays (2024 revision of 全国年节及纪念日放假办法), 2025-2035:
-- 13 a year; 中秋 falls on 国庆 in 2028 and 2031 (12 days)
SELECT year, count(*) AS holidays, count(DISTINCT day) AS days,
	   min(day) FILTER (WHERE name = '春节(除夕)') AS chuxi,
	   min(day) FILTER (WHERE name = '清明节') AS qingming,
	   min(day) FILTER (WHERE name = '端午节') AS duanwu,
	   min(day) FILTER (WHERE name = '中秋节') AS zhongqiu
  FROM pubdata.statutory_holiday GROUP BY year ORDER BY year;
-- in 2025 and 2026 every statutory day is a holiday of the State Council's arrangement
SELECT count(*) AS statutory_days_worked FROM pubdata.statutory_holiday
 WHERE year IN (2025, 2026) AND pubdata.is_workday(day);

-- a year without an official arrangement (2027 here) is counted on the
-- provisional calendar: the week less the statutory holidays; 1 January 2027
-- is a Friday, 2-3 January a weekend
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due,
	   pubdata.provisional_between('2026-12-30 10:00+08', pubdata.add_working_days('2026-12-30 10:00+08', 2)) AS provisional,
	   pubdata.is_workday('2027-01-01') AS new_year_2027,
	   pubdata.working_days_between('2026-12-01'::date, '2027-01-10') AS days;
-- a deadline inside the official years is not provisional, one received
-- there and ending in 2027 is; the same day (n = 0) and backwards never are
SELECT pubdata.provisional_between('2026-12-01 10:00+08', pubdata.add_working_days('2026-12-01 10:00+08', 2)) AS in_2026,
	   pubdata.provisional_between('2026-12-31 10:00+08', '2027-01-04 12:00+08') AS into_2027,
	   pubdata.provisional_between('2027-01-04 10:00+08', '2027-01-04 23:00+08') AS same_day,
	   pubdata.provisional_between('2027-01-04 10:00+08', '2026-12-31 10:00+08') AS backwards,
	   pubdata.provisional_between('2024-12-31 10:00+08', '2025-01-02 10:00+08') AS from_2024_into_2025;
-- deadlines over the lunar holidays of the provisional years
SELECT received, pubdata.add_working_days(received::timestamptz, 2) AT TIME ZONE 'Asia/Shanghai' AS due,
	   pubdata.provisional_between(received::timestamptz, pubdata.add_working_days(received::timestamptz, 2)) AS provisional
  FROM unnest(ARRAY[
	'2027-02-04 10:00+08',		-- 除夕 Friday 5 Feb 2027, 初一-初二 the weekend, 初三 Monday 8 Feb
	'2027-04-02 10:00+08',		-- 清明 Monday 5 April 2027
	'2028-09-29 10:00+08',		-- 国庆 2028: 1-3 October, 3 October also 中秋
	'2031-09-30 10:00+08',		-- 2031: 中秋 on 1 October
	'2035-12-31 10:00+08'		-- into 2036: no statutory days listed, the plain week
  ]) AS received;
-- every day of 2027-2035 agrees with the obvious SQL: the week less the
-- statutory days; and each year's working days
SELECT count(*) AS disagreements
  FROM generate_series('2027-01-01'::date, '2035-12-31', '1 day') g
 WHERE pubdata.is_workday(g::date)
	   <> (EXTRACT(ISODOW FROM g) < 6 AND NOT EXISTS (SELECT 1 FROM pubdata.statutory_holiday s WHERE s.day = g::date));
SELECT y AS year, pubdata.working_days_between(make_date(y - 1, 12, 31), make_date(y, 12, 31)) AS provisional_workdays,
	   (SELECT count(*) FROM generate_series(make_date(y, 1, 1), make_date(y, 12, 31), '1 day') g
		 WHERE EXTRACT(ISODOW FROM g) < 6
		   AND NOT EXISTS (SELECT 1 FROM pubdata.statutory_holiday s WHERE s.day = g::date)) AS by_counting
  FROM generate_series(2027, 2035) y;
-- years the table does not list (before 2025, after 2035) follow the plain week
SELECT pubdata.is_workday('2024-05-01') AS may_day_2024, pubdata.is_workday('2036-10-01') AS national_day_2036;

-- strictness refuses instead (for those who want it; off by default)
SHOW pubdata.calendar_strict;
SET pubdata.calendar_strict = on;
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2);
SELECT pubdata.is_workday('2024-05-01');
SELECT pubdata.working_days_between('2026-12-01'::date, '2027-01-10');
-- what is provisional can still be asked
SELECT pubdata.provisional_between('2026-12-30 10:00+08', '2027-01-04 10:00+08') AS provisional;
-- a deadline inside a loaded year is fine even when received in a year not loaded
SELECT pubdata.add_working_days('2024-12-31 10:00+08', 1) AT TIME ZONE 'Asia/Shanghai' AS due;
RESET pubdata.calendar_strict;

-- warnings: the year of the day and, from 1 November, the next one, while
-- they have no official arrangement (checked for given days: the launcher
-- passes its today)
SELECT d, w.year, w.warn_from, w.message
  FROM unnest(ARRAY['2026-10-31', '2026-11-01', '2027-03-01', '2027-11-15']::date[]) AS d
  LEFT JOIN LATERAL pubdata.calendar_warnings(d) w ON true ORDER BY d, w.year;
-- today's warnings are a view for everyone
SELECT count(*) = (SELECT count(*) FROM pubdata.calendar_warnings()) AS view_is_today FROM pubdata.calendar_warning;
-- only the bureau (and its launcher) warns, and recomputes deadlines
SELECT pubdata.check_calendar('2026-11-01');
SELECT pubdata.recompute_deadlines(2027);

-- a department may not load or change calendars
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01']::date[]);
INSERT INTO pubdata.calendar (day, is_workday, note) VALUES ('2026-12-31', false, 'x');
RESET ROLE;

-- the launcher's daily check: a WARNING (in the log) and NOTIFY
-- pubdata_alert once a day per year (the count of open provisional
-- deadlines in its detail depends on the suite's other tickets)
SET ROLE regress_cal_bureau;
\set VERBOSITY terse
SELECT pubdata.check_calendar('2026-10-31') AS before_november;
SELECT pubdata.check_calendar('2026-11-01') AS first_of_november;
SELECT pubdata.check_calendar('2026-11-01') AS again_that_day;
SELECT pubdata.check_calendar('2026-11-02') AS next_day;
\set VERBOSITY default
SELECT year, first_alerted_on, last_alerted_on, alerts FROM pubdata.calendar_alert;
SELECT pubdata.recompute_deadlines(1900);

-- the bureau loads a year (here a test arrangement for 2027, not the
-- official one); open deadlines are recomputed (their number depends on
-- the suite's other requests: notices are left out)
SET client_min_messages = warning;
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01', '2027-02-05', '2027-02-08']::date[],
								  ARRAY['2027-02-06']::date[], source => 'regression test data') AS workdays_2027;
SELECT year, builtin, source, loaded_by, weekday_holidays, adjusted_workdays, workdays
  FROM pubdata.calendar_years ORDER BY year;
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due,
	   pubdata.provisional_between('2026-12-30 10:00+08', '2027-01-05 10:00+08') AS provisional;
-- the warning about 2027 ends
SELECT pubdata.check_calendar('2026-11-03') AS warnings;
SELECT count(*) AS alerts_left FROM pubdata.calendar_alert;
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
-- unloading makes the deadline provisional again
SELECT pubdata.unload_calendar_year(2027);
SELECT pubdata.unload_calendar_year(2027);
SELECT pubdata.unload_calendar_year(2026);
SELECT pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai' AS due,
	   pubdata.provisional_between('2026-12-30 10:00+08', '2027-01-04 10:00+08') AS provisional;
RESET client_min_messages;
RESET ROLE;
SELECT count(*) AS days_2027 FROM pubdata.calendar WHERE day >= '2027-01-01';

-- nobody changes the statutory days (they come with the extension)
SET ROLE regress_cal_bureau;
DELETE FROM pubdata.statutory_holiday WHERE year = 2027;
RESET ROLE;

-- the shipped rows are excluded from pg_dump (CREATE EXTENSION restores them)
SELECT c.relname, x.cond
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(oid, cond)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'pubdata' AND c.relname LIKE 'calendar%' ORDER BY 1;
RESET TimeZone;
RESET DateStyle;
