-- ---------------------------------------------------------------------------
-- The provisional calendar (tables: once/66_provisional_calendar.sql):
-- deadlines recomputed when a year is loaded, the launcher's warnings.
-- ---------------------------------------------------------------------------

-- recompute_deadlines(year): count the open deadlines again on the calendar
-- as it is now: pending share requests and unresolved objections whose
-- deadline is counted over that year (NULL: every open deadline).  Their
-- provisional mark follows; an objection's history records the change, and
-- an overdue flag goes when the new deadline is still ahead.  Called by
-- load_calendar_year and unload_calendar_year; the bureau calls it after
-- changing pubdata.calendar by hand.  Strictness is off inside: business
-- never stops because another year is missing.
CREATE OR REPLACE FUNCTION pubdata.recompute_deadlines(year integer DEFAULT NULL) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET pubdata.calendar_strict = off
	AS $$
DECLARE
	y integer := $1;
	first_day date;
	last_day date;
	n integer;
	t record;
BEGIN
	PERFORM pubdata._require_admin('recompute deadlines');
	IF y IS NOT NULL AND y NOT BETWEEN 1990 AND 2200 THEN
		RAISE EXCEPTION 'invalid calendar year %', y
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Years 1990 to 2200 have calendars; NULL recomputes every open deadline.';
	END IF;
	first_day := pg_catalog.make_date(y, 1, 1);
	last_day := pg_catalog.make_date(y, 12, 31);

	WITH c AS (
		SELECT s.id, d.due, pubdata.provisional_between(s.requested_at, d.due) AS provisional
		  FROM pubdata.share_request s,
			   LATERAL (SELECT pubdata.add_working_days(s.requested_at, s.working_days) AS due) d
		 WHERE s.status OPERATOR(pg_catalog.=) 'pending'
		   AND (y IS NULL OR (pubdata._calendar_date(s.due_at) OPERATOR(pg_catalog.>=) first_day
							  AND pubdata._calendar_date(s.requested_at) OPERATOR(pg_catalog.<=) last_day)))
	UPDATE pubdata.share_request s SET due_at = c.due, due_provisional = c.provisional
	  FROM c
	 WHERE s.id OPERATOR(pg_catalog.=) c.id AND s.status OPERATOR(pg_catalog.=) 'pending'
	   AND (s.due_at IS DISTINCT FROM c.due OR s.due_provisional IS DISTINCT FROM c.provisional);
	GET DIAGNOSTICS n = ROW_COUNT;

	FOR t IN
		WITH c AS (
			SELECT o.id, o.due_at AS previous, d.due, pubdata.provisional_between(o.raised_at, d.due) AS provisional
			  FROM pubdata.objection o,
				   LATERAL (SELECT pubdata.add_working_days(o.raised_at, o.working_days) AS due) d
			 WHERE o.status OPERATOR(pg_catalog.<>) 'resolved'
			   AND (y IS NULL OR (pubdata._calendar_date(o.due_at) OPERATOR(pg_catalog.>=) first_day
								  AND pubdata._calendar_date(o.raised_at) OPERATOR(pg_catalog.<=) last_day)))
		UPDATE pubdata.objection o
		   SET due_at = c.due, due_provisional = c.provisional,
			   overdue = o.overdue AND c.due OPERATOR(pg_catalog.<) pg_catalog.now(),
			   overdue_at = CASE WHEN o.overdue AND c.due OPERATOR(pg_catalog.<) pg_catalog.now() THEN o.overdue_at END
		  FROM c
		 WHERE o.id OPERATOR(pg_catalog.=) c.id AND o.status OPERATOR(pg_catalog.<>) 'resolved'
		   AND (o.due_at IS DISTINCT FROM c.due OR o.due_provisional IS DISTINCT FROM c.provisional)
		RETURNING o.id, c.previous, c.due, c.provisional, o.overdue
	LOOP
		PERFORM pubdata._objection_event(t.id, 'rescheduled',
			pg_catalog.jsonb_build_object('due_at', t.due, 'previous_due_at', t.previous,
										  'provisional', t.provisional, 'overdue', t.overdue));
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	IF n OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'recomputed % open deadline(s)%', n, coalesce(' counted over ' || y, '');
	END IF;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.recompute_deadlines(integer) IS
	'pubdata_admin: count the deadlines of pending share requests and unresolved objections over a year (NULL: all) again on the calendar as it is, with their provisional mark (load_calendar_year and unload_calendar_year call it); returns how many changed';

-- calendar_warnings(today): the years a warning is due about on that day (the
-- calendar's "today" by default): the year of today and, from 1 November,
-- the next one, while they have no official arrangement
CREATE OR REPLACE FUNCTION pubdata.calendar_warnings(today date DEFAULT NULL)
	RETURNS TABLE (year integer, warn_from date, provisional_deadlines bigint, message text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH d AS (SELECT coalesce($1, pubdata._calendar_date(pg_catalog.now())) AS today),
	y AS (
		SELECT EXTRACT(YEAR FROM d.today)::integer OPERATOR(pg_catalog.+) k AS year,
			   pg_catalog.make_date(EXTRACT(YEAR FROM d.today)::integer OPERATOR(pg_catalog.+) k OPERATOR(pg_catalog.-) 1, 11, 1) AS warn_from,
			   d.today
		  FROM d, (VALUES (0), (1)) AS x(k))
	SELECT y.year, y.warn_from,
		   (SELECT pg_catalog.count(*) FROM pubdata.share_request s
			 WHERE s.status OPERATOR(pg_catalog.=) 'pending' AND s.due_provisional
			   AND pubdata._calendar_date(s.due_at) OPERATOR(pg_catalog.>=) pg_catalog.make_date(y.year, 1, 1)
			   AND pubdata._calendar_date(s.requested_at) OPERATOR(pg_catalog.<=) pg_catalog.make_date(y.year, 12, 31))
		   OPERATOR(pg_catalog.+)
		   (SELECT pg_catalog.count(*) FROM pubdata.objection o
			 WHERE o.status OPERATOR(pg_catalog.<>) 'resolved' AND o.due_provisional
			   AND pubdata._calendar_date(o.due_at) OPERATOR(pg_catalog.>=) pg_catalog.make_date(y.year, 1, 1)
			   AND pubdata._calendar_date(o.raised_at) OPERATOR(pg_catalog.<=) pg_catalog.make_date(y.year, 12, 31)),
		   pg_catalog.format('working-day calendar for %s is not loaded: deadlines running into it are provisional', y.year)
	  FROM y
	 WHERE y.warn_from OPERATOR(pg_catalog.<=) y.today
	   AND y.year BETWEEN 1990 AND 2200
	   AND NOT EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) y.year)
	 ORDER BY y.year
$$;
COMMENT ON FUNCTION pubdata.calendar_warnings(date) IS
	'The years without an official arrangement that a warning is due about on a day (default: today in pubdata.timezone): that day''s year, and from 1 November the next one; with the open deadlines counted on their provisional calendar';

CREATE OR REPLACE VIEW pubdata.calendar_warning AS
SELECT w.year, w.warn_from, w.provisional_deadlines, w.message, a.first_alerted_on, a.last_alerted_on
  FROM pubdata.calendar_warnings() w
  LEFT JOIN pubdata.calendar_alert a ON a.year OPERATOR(pg_catalog.=) w.year;
COMMENT ON VIEW pubdata.calendar_warning IS
	'Today''s warnings: this year, and from 1 November next year, while the State Council''s arrangement is not loaded (deadlines running into it are provisional); when the launcher warned';
COMMENT ON COLUMN pubdata.calendar_warning.warn_from IS '1 November of the year before: warnings start then';
COMMENT ON COLUMN pubdata.calendar_warning.provisional_deadlines IS 'open deadlines (pending share requests, unresolved objections) counted on the year''s provisional calendar';
COMMENT ON COLUMN pubdata.calendar_warning.first_alerted_on IS 'the first day the launcher (or check_calendar) warned about the year';
COMMENT ON COLUMN pubdata.calendar_warning.last_alerted_on IS 'the last day the launcher (or check_calendar) warned';

-- check_calendar(today): warn once a day per year due a warning: a WARNING
-- (the launcher's goes to the server log) and an alert (pubdata.alert,
-- NOTIFY pubdata_alert).  The
-- launcher calls it every day with the calendar's today; returns the number
-- of warnings given.
CREATE OR REPLACE FUNCTION pubdata.check_calendar(today date DEFAULT NULL) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d date := coalesce($1, pubdata._calendar_date(pg_catalog.now()));
	strict_on boolean := coalesce(pg_catalog.current_setting('pubdata.calendar_strict', true), 'off') OPERATOR(pg_catalog.=) 'on';
	w record;
	n integer := 0;
BEGIN
	PERFORM pubdata._require_admin('check the working-day calendar');
	-- a warning ends when its year is loaded
	DELETE FROM pubdata.calendar_alert a
	 WHERE EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) a.year);
	FOR w IN SELECT * FROM pubdata.calendar_warnings(d) LOOP
		-- once a day per year, whoever checks (concurrent checks wait here)
		INSERT INTO pubdata.calendar_alert AS a (year, first_alerted_on, last_alerted_on)
		VALUES (w.year, d, d)
		ON CONFLICT (year) DO UPDATE SET last_alerted_on = EXCLUDED.last_alerted_on, alerts = a.alerts OPERATOR(pg_catalog.+) 1
		 WHERE a.last_alerted_on OPERATOR(pg_catalog.<) EXCLUDED.last_alerted_on;
		CONTINUE WHEN NOT FOUND;
		RAISE WARNING '%', w.message
			USING DETAIL = pg_catalog.format('Deadlines that run into %s are counted on the provisional calendar (weekends and the statutory holidays of 全国年节及纪念日放假办法) and marked provisional; %s open deadline(s) are provisional now.', w.year, w.provisional_deadlines)
						   || CASE WHEN strict_on THEN pg_catalog.format(' pubdata.calendar_strict is on: requests and objections whose deadlines run into %s are refused until it is loaded.', w.year) ELSE '' END,
				  HINT = pg_catalog.format('Load the State Council''s arrangement for %s with pubdata.load_calendar_year(%s, holidays, workdays, source): open deadlines are recomputed.', w.year, w.year);
		PERFORM pubdata._raise_alert('calendar_not_loaded', NULL, NULL, pg_catalog.jsonb_build_object(
			'year', w.year, 'today', d,
			'provisional_deadlines', w.provisional_deadlines, 'strict', strict_on));
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.check_calendar(date) IS
	'pubdata_admin and the launcher (daily): warn (WARNING, pubdata.alert, NOTIFY pubdata_alert) once a day about each year of calendar_warnings(today) without an official arrangement; returns the number of warnings given';

GRANT SELECT ON pubdata.calendar_warning TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT SELECT ON pubdata.calendar_alert TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.calendar_warnings(date) TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.recompute_deadlines(integer), pubdata.check_calendar(date) TO pubdata_admin;
