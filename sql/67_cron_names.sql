-- Cron expressions name months (JAN-DEC) and days of the week (SUN-SAT), in
-- any case, alone, in ranges, lists and with steps, as Vixie cron does; the
-- numbers mean the same
\set SHOW_CONTEXT never
SELECT e.named, e.numbered,
	   pubdata.cron_next(e.named, t) = pubdata.cron_next(e.numbered, t) AS same
  FROM (VALUES ('0 9 * * MON-FRI', '0 9 * * 1-5'),
			   ('0 9 * * mon-fri', '0 9 * * 1-5'),
			   ('30 5 1 jan,jul *', '30 5 1 1,7 *'),
			   ('0 0 * * SUN', '0 0 * * 0'),
			   ('0 0 * * sun', '0 0 * * 7'),
			   ('0 0 * * Sat,Sun', '0 0 * * 6,0'),
			   ('0 0 1 JAN-DEC/3 *', '0 0 1 1-12/3 *'),
			   ('0 0 1 FEB/5 *', '0 0 1 2/5 *'),
			   ('15 10 * DEC FRI', '15 10 * 12 5'),
			   ('0 0 * * MON/2', '0 0 * * 1/2')) AS e(named, numbered),
	   (VALUES (timestamptz '2026-01-01 00:00+08'), ('2026-06-15 12:34+08'), ('2027-02-27 23:59+08')) AS x(t)
 GROUP BY 1, 2, 3 ORDER BY 1, 2;
-- a schedule with names is a cron schedule (the function is internal)
SELECT pubdata._schedule_kind('0 9 * * MON-FRI'::text) AS kind;
-- names belong to their fields only, whole, and ranges run forward
SELECT pubdata.cron_next('0 0 * MON *', now());
SELECT pubdata.cron_next('0 0 JAN * *', now());
SELECT pubdata.cron_next('0 0 * * MONDAY', now());
SELECT pubdata.cron_next('0 0 * * MON-XYZ', now());
SELECT pubdata.cron_next('0 0 * DEC-JAN *', now());
SELECT pubdata.cron_next('0 0 * * FRI-MON', now());
SELECT pubdata.cron_next('0 0 * JAN- *', now());
-- an interval that reads like words is still an interval, not cron
SELECT pubdata._schedule_kind('1 day 2 hours'::text) AS kind;
SELECT pubdata._schedule_kind('0 9 * * WEEKDAYS'::text) AS kind;
