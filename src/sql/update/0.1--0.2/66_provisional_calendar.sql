-- ---------------------------------------------------------------------------
-- 0.2: a missing official arrangement never stops business.  A year without
-- the State Council's arrangement is counted on the provisional calendar
-- (the week less the statutory holidays, pubdata.statutory_holiday); the
-- deadlines counted over it are marked provisional on share requests and
-- objections and recomputed when the bureau loads the year;
-- pubdata.calendar_strict is off by default (on: refuse, as in 0.1); the
-- launcher warns once a day from 1 November while next year is missing.
-- Every statement here matches the install script's parts exactly.
-- ---------------------------------------------------------------------------

COMMENT ON TABLE pubdata.calendar_year IS
	'Years whose official holiday arrangements are loaded; any other year is counted on the provisional calendar (pubdata.statutory_holiday), or refused while pubdata.calendar_strict is on';

-- The provisional calendar: the 13 statutory holiday days of each year under
-- 全国年节及纪念日放假办法 (2024 revision, in force from 2025), lunar dates
-- and the 清明 solar term from astronomical tables (copy of
-- data/cn_statutory_holidays_2025_2035.csv; 中秋 falls on 国庆 in 2028 and 2031,
-- so those years have 12 days).  A year without an official arrangement is
-- counted on the week less these days, and the deadlines computed from it are
-- marked provisional.  Shipped, read-only: corrections and further years come
-- with an extension update.
CREATE TABLE pubdata.statutory_holiday (
	day			date NOT NULL CHECK (pg_catalog.isfinite(day)),
	name		text NOT NULL,
	year		integer NOT NULL GENERATED ALWAYS AS (EXTRACT(YEAR FROM day)::integer) STORED,
	PRIMARY KEY (day, name)
);
COMMENT ON TABLE pubdata.statutory_holiday IS
	'Statutory holidays (全国年节及纪念日放假办法, 2024 revision), 2025 to 2035: the provisional calendar of a year without an official arrangement is the week less these days';
COMMENT ON COLUMN pubdata.statutory_holiday.day IS 'the day (in pubdata.timezone)';
COMMENT ON COLUMN pubdata.statutory_holiday.name IS 'the holiday, e.g. 春节(除夕), 清明节; a day may carry two (中秋节 and 国庆节)';
COMMENT ON COLUMN pubdata.statutory_holiday.year IS 'the day''s year';

-- deadlines remember their working days and whether they are provisional;
-- an objection's history records a recomputed deadline
ALTER TYPE pubdata.objection_event_kind ADD VALUE 'rescheduled';
COMMENT ON TYPE pubdata.objection_event_kind IS 'What happened to an objection ticket (rescheduled: its deadline was recomputed on a newly loaded calendar)';
ALTER TABLE pubdata.share_request ADD COLUMN working_days integer;
ALTER TABLE pubdata.share_request ADD COLUMN due_provisional boolean NOT NULL DEFAULT false;
ALTER TABLE pubdata.objection ADD COLUMN working_days integer;
ALTER TABLE pubdata.objection ADD COLUMN due_provisional boolean NOT NULL DEFAULT false;
-- deadlines set under 0.1: the working days they were counted with (0.1
-- counted a year not loaded as the plain week), and whether such a year was
-- among them (then they are recomputed when it is loaded)
UPDATE pubdata.share_request s
   SET working_days = (SELECT count(*) FROM generate_series(a + 1, b, interval '1 day') g
						 LEFT JOIN pubdata.calendar c ON c.day = g::date
						WHERE coalesce(c.is_workday, EXTRACT(ISODOW FROM g) < 6)),
	   due_provisional = b > a AND EXISTS (SELECT 1 FROM generate_series(EXTRACT(YEAR FROM a + 1)::integer, EXTRACT(YEAR FROM b)::integer) y
											WHERE NOT EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year = y))
  FROM (SELECT x.id, (x.requested_at AT TIME ZONE 'Asia/Shanghai')::date AS a, (x.due_at AT TIME ZONE 'Asia/Shanghai')::date AS b
		  FROM pubdata.share_request x) d
 WHERE s.id = d.id;
UPDATE pubdata.objection o
   SET working_days = (SELECT count(*) FROM generate_series(a + 1, b, interval '1 day') g
						 LEFT JOIN pubdata.calendar c ON c.day = g::date
						WHERE coalesce(c.is_workday, EXTRACT(ISODOW FROM g) < 6)),
	   due_provisional = b > a AND EXISTS (SELECT 1 FROM generate_series(EXTRACT(YEAR FROM a + 1)::integer, EXTRACT(YEAR FROM b)::integer) y
											WHERE NOT EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year = y))
  FROM (SELECT x.id, (x.raised_at AT TIME ZONE 'Asia/Shanghai')::date AS a, (x.due_at AT TIME ZONE 'Asia/Shanghai')::date AS b
		  FROM pubdata.objection x) d
 WHERE o.id = d.id;
ALTER TABLE pubdata.share_request ALTER COLUMN working_days SET NOT NULL;
ALTER TABLE pubdata.objection ALTER COLUMN working_days SET NOT NULL;
COMMENT ON COLUMN pubdata.share_request.working_days IS 'working days the provider has: due_at is the end of that working day after the day of requested_at';
COMMENT ON COLUMN pubdata.share_request.due_provisional IS 'due_at was counted over a year without an official arrangement (the provisional calendar); recomputed while pending when the year is loaded';
COMMENT ON COLUMN pubdata.objection.working_days IS 'working days the provider has (pubdata.objection_due_days when raised): due_at is the end of that working day after the day of raised_at';
COMMENT ON COLUMN pubdata.objection.due_provisional IS 'due_at was counted over a year without an official arrangement (the provisional calendar); recomputed while unresolved when the year is loaded';
COMMENT ON COLUMN pubdata.objection_event.detail IS 'event data: due time (and whether provisional), outcome, note, correction link, the deadline before and after a recomputation';

-- request_share and raise_objection store the deadline's working days and
-- provisional mark
DROP FUNCTION pubdata._response_due(timestamptz);

-- recomputation and warnings (as in the install part 66_provisional_calendar.sql)
CREATE TABLE pubdata.calendar_alert (
	year		integer PRIMARY KEY,
	first_alerted_on date NOT NULL,
	last_alerted_on date NOT NULL,
	alerts		integer NOT NULL DEFAULT 1
);
COMMENT ON TABLE pubdata.calendar_alert IS
	'Warnings about years without an official arrangement: one a day per year (WARNING in the log, NOTIFY pubdata_alert); the row goes when the year is loaded';
COMMENT ON COLUMN pubdata.calendar_alert.first_alerted_on IS 'the day (in pubdata.timezone) of the first warning';
COMMENT ON COLUMN pubdata.calendar_alert.last_alerted_on IS 'the day of the latest warning: no other warning that day';
COMMENT ON COLUMN pubdata.calendar_alert.alerts IS 'warnings given, one a day';
