-- 4. Objections (Art 13) and the working-day calendar: a user of shared data objects to a
-- record, the provider verifies it within 2 working days (holidays and 调休 counted by the
-- State Council calendar), a missed deadline raises an alert
\set SHOW_CONTEXT never
\set QUIET on
SET client_min_messages = warning;

\echo
\echo '== Working days: the State Council calendar, with the weekend days made working days (调休) in 2026'
SET ROLE lishui_civil;
SELECT day, to_char(day, 'Dy') AS weekday, is_workday AS workday, note
  FROM pubdata.calendar WHERE day >= date '2026-01-01' AND day < date '2027-01-01' AND is_workday ORDER BY day;

\echo '== Deadlines across a holiday: 2 working days after the day an objection is received'
\echo '-- received on 30 September (before 国庆) and on 13 February (before 春节):'
SELECT raised::date AS received, to_char(raised, 'Dy') AS weekday,
	   to_char(pubdata.add_working_days(raised, 2), 'YYYY-MM-DD HH24:MI') AS deadline,
	   pubdata.add_working_days(raised, 2)::date - raised::date AS calendar_days
  FROM (VALUES (timestamptz '2026-09-30 10:00+08'), (timestamptz '2026-02-13 10:00+08')) v(raised);
\echo '-- day by day (the day of receipt does not count):'
SELECT d::date AS day, to_char(d, 'Dy') AS weekday, pubdata.is_workday(d::date) AS workday,
	   CASE WHEN d = r THEN 'received'
			WHEN pubdata.is_workday(d::date) THEN 'working day ' || pubdata.working_days_between(r::date, d::date) END AS counts,
	   c.note
  FROM (VALUES (date '2026-09-30'), (date '2026-02-13')) v(r),
	   LATERAL generate_series(r, pubdata.add_working_days(r, 2)::date, interval '1 day') d
  LEFT JOIN pubdata.calendar c ON c.day = d::date
 ORDER BY r DESC, d;
RESET ROLE;

\o /dev/null
-- the records used below, by position in the register (the 53rd carries a wrong check character)
SELECT max(uscc) FILTER (WHERE rn = 53) AS u_bad, max(uscc) FILTER (WHERE rn = 54) AS u_ok,
	   max(uscc) FILTER (WHERE rn = 55) AS u_region,
	   max(left(uscc, 17) || pg_catalog.substr('0123456789ABCDEFGHJKLMNPQRTUWXY', 1 + (31 - (
			SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(uscc, i, 1)) - 1)
					   * (ARRAY[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28])[i]) FROM generate_series(1, 17) i) % 31)::int % 31, 1))
		   FILTER (WHERE rn = 53) AS u_fix
  FROM (SELECT uscc, row_number() OVER (ORDER BY established) AS rn FROM market.enterprise) x \gset
\o
\echo
\echo '== The civil affairs bureau, checking a subsistence applicant''s business, objects to an enterprise record'
\echo '-- (LS-SJ-QYDJ is shared unconditionally; the licence shows a different credit code)'
SET ROLE lishui_civil;
SELECT pubdata.raise_objection('LS-SJ-QYDJ', jsonb_build_object('uscc', :'u_bad'), 'uscc',
	'统一社会信用代码与营业执照不一致：执照为 ' || :'u_fix') AS ticket \gset
SELECT id, item, description, status, to_char(raised_at, 'YYYY-MM-DD Dy HH24:MI') AS raised,
	   to_char(due_at, 'YYYY-MM-DD Dy HH24:MI') AS due, current_setting('pubdata.objection_due_days') AS working_days
  FROM pubdata.objection WHERE id = :ticket;
\echo '-- business goes on: the record is still read, shown as under verification'
SELECT e.uscc, e.name, e.status, o.id IS NOT NULL AS under_verification, o.due_at::date AS answer_due
  FROM market.enterprise e
  LEFT JOIN pubdata.open_objection o ON o.resource = 'LS-SJ-QYDJ' AND o.record_key = jsonb_build_object('uscc', e.uscc)
 WHERE e.uscc IN (:'u_bad', :'u_ok') ORDER BY e.uscc;
RESET ROLE;

SET ROLE lishui_police;
SELECT pubdata.raise_objection('LS-SJ-QYDJ', jsonb_build_object('uscc', :'u_region'), 'region',
	'企业住所已迁至莲都区，行政区划应为 331102') AS late \gset
RESET ROLE;
\echo '-- the police object to another record''s region: ticket' :late

\echo '== The market regulator''s inbox: the tickets it must verify'
SET ROLE lishui_market;
SELECT o.id, d.code AS raised_by, o.record_key->>'uscc' AS uscc, o.item, o.description, o.status, o.due_at::date AS due
  FROM pubdata.objection o JOIN pubdata.department d ON d.id = o.raised_by_department
 WHERE o.provider_id = pubdata.current_department() ORDER BY o.id;
\echo '-- it acknowledges the first ticket and corrects the register (' :u_bad '->' :u_fix ')'
\o /dev/null
SELECT pubdata.acknowledge_objection(:ticket);
UPDATE market.enterprise SET uscc = :'u_fix' WHERE uscc = :'u_bad';
\o
\echo '-- a correction must be linked to the record as it now is; the old key no longer exists:'
\set ON_ERROR_STOP off
SELECT pubdata.resolve_objection(:ticket, 'corrected', '已按营业执照更正统一社会信用代码');
\set ON_ERROR_STOP on
\o /dev/null
SELECT pubdata.resolve_objection(:ticket, 'corrected', '已按营业执照更正统一社会信用代码',
	corrected_key => jsonb_build_object('uscc', :'u_fix'));
\o
SELECT id, status, outcome, resolution_note, record_key, corrected_key, resolved_at <= due_at AS on_time
  FROM pubdata.objection WHERE id = :ticket;
RESET ROLE;

\echo
\echo '== A deadline is missed'
-- SIMULATING TIME: the demo cannot wait for days to pass, so as superuser we move the police's
-- ticket back to 30 September 2026 10:00, before 国庆; its deadline, recomputed by the calendar,
-- becomes the end of 9 October.  Nothing else is touched; the market regulator never answered it.
\o /dev/null
UPDATE pubdata.objection
   SET raised_at = timestamptz '2026-09-30 10:00+08',
	   due_at = pubdata.add_working_days(timestamptz '2026-09-30 10:00+08', pubdata._objection_due_days())
 WHERE id = :late;
UPDATE pubdata.objection_event
   SET at = timestamptz '2026-09-30 10:00+08',
	   detail = jsonb_set(detail, '{due_at}', to_jsonb(pubdata.add_working_days(timestamptz '2026-09-30 10:00+08', 2)))
 WHERE objection_id = :late AND kind = 'raised';
\o
SELECT id, item, status, to_char(raised_at, 'YYYY-MM-DD Dy HH24:MI') AS raised,
	   to_char(due_at, 'YYYY-MM-DD Dy HH24:MI') AS due, overdue
  FROM pubdata.objection WHERE id = :late;
\echo '-- the Big Data Bureau''s monitor listens on pubdata_alert; the scheduled sweep flags the ticket'
\echo '-- and sends one alert (psql prints it after the statement):'
LISTEN pubdata_alert;
SET ROLE lishui_bureau;
SELECT pubdata.sweep_objections() AS flagged;
\echo '-- a second sweep does not alert again:'
SELECT pubdata.sweep_objections() AS flagged;
RESET ROLE;
UNLISTEN pubdata_alert;

\echo
\echo '== Every ticket and its history, as the bureau sees them'
SET ROLE lishui_bureau;
SELECT o.id, r.code AS resource, d.code AS raised_by, o.item, o.status, o.outcome,
	   o.raised_at::date AS raised, o.due_at::date AS due, o.resolved_at::date AS resolved, o.overdue
  FROM pubdata.objection o
  JOIN pubdata.resource r ON r.id = o.resource_id
  JOIN pubdata.department d ON d.id = o.raised_by_department
 ORDER BY o.id;
SELECT objection_id AS ticket, kind, actor, at::date AS on, detail - 'due_at' AS "detail (deadline omitted)"
  FROM pubdata.objection_event ORDER BY objection_id, id;
\echo '== Objection statistics per provider (pubdata.objection_stats)'
SELECT provider, provider_name, tickets, unresolved, resolved, resolved_on_time, missed_deadline,
	   on_time_rate, median_resolution_working_days AS median_days, corrected
  FROM pubdata.objection_stats ORDER BY provider;
RESET ROLE;
