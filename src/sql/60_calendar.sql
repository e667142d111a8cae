-- ---------------------------------------------------------------------------
-- Working-day calendar (Art 18, 22): the shipped years' protection, working
-- days and deadlines, loading a year (tables: once/60_calendar.sql).
-- ---------------------------------------------------------------------------

-- The shipped rows are part of the extension: refuse to change them (an
-- upgrade script that corrects them disables this trigger around its work).
CREATE OR REPLACE FUNCTION pubdata._calendar_protect() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	RAISE EXCEPTION 'the shipped calendar of % cannot be changed',
			pg_catalog.to_jsonb(OLD) OPERATOR(pg_catalog.->>) CASE TG_TABLE_NAME WHEN 'calendar' THEN 'day' ELSE 'year' END
		USING ERRCODE = 'insufficient_privilege',
			  DETAIL = 'Rows with builtin = true are the official arrangements shipped with pubdata.',
			  HINT = 'Corrections to shipped years come with ALTER EXTENSION pubdata UPDATE; load other years with pubdata.load_calendar_year().';
END
$$;
COMMENT ON FUNCTION pubdata._calendar_protect() IS 'Trigger: the shipped (builtin) calendar rows are read-only';
CREATE OR REPLACE TRIGGER calendar_protect BEFORE UPDATE OR DELETE ON pubdata.calendar
	FOR EACH ROW WHEN (OLD.builtin) EXECUTE FUNCTION pubdata._calendar_protect();
CREATE OR REPLACE TRIGGER calendar_year_protect BEFORE UPDATE OR DELETE ON pubdata.calendar_year
	FOR EACH ROW WHEN (OLD.builtin) EXECUTE FUNCTION pubdata._calendar_protect();

-- Every change invalidates the per-backend calendar caches
CREATE OR REPLACE FUNCTION pubdata._calendar_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_calendar_changed'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._calendar_changed() IS 'Trigger: tell every backend that the working-day calendar changed';
CREATE OR REPLACE TRIGGER calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.calendar
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._calendar_changed();
CREATE OR REPLACE TRIGGER calendar_year_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.calendar_year
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._calendar_changed();
CREATE OR REPLACE TRIGGER statutory_holiday_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.statutory_holiday
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._calendar_changed();

-- The statutory holidays pubdata ships (see once/60_calendar.sql): made
-- exactly these by every install and every update, so that a correction or a
-- further year is one edit here
WITH shipped (day, name) AS (VALUES
	('2025-01-01', '元旦'),
	('2025-01-28', '春节(除夕)'),
	('2025-01-29', '春节'),
	('2025-01-30', '春节'),
	('2025-01-31', '春节'),
	('2025-04-04', '清明节'),
	('2025-05-01', '劳动节'),
	('2025-05-02', '劳动节'),
	('2025-05-31', '端午节'),
	('2025-10-01', '国庆节'),
	('2025-10-02', '国庆节'),
	('2025-10-03', '国庆节'),
	('2025-10-06', '中秋节'),
	('2026-01-01', '元旦'),
	('2026-02-16', '春节(除夕)'),
	('2026-02-17', '春节'),
	('2026-02-18', '春节'),
	('2026-02-19', '春节'),
	('2026-04-05', '清明节'),
	('2026-05-01', '劳动节'),
	('2026-05-02', '劳动节'),
	('2026-06-19', '端午节'),
	('2026-09-25', '中秋节'),
	('2026-10-01', '国庆节'),
	('2026-10-02', '国庆节'),
	('2026-10-03', '国庆节'),
	('2027-01-01', '元旦'),
	('2027-02-05', '春节(除夕)'),
	('2027-02-06', '春节'),
	('2027-02-07', '春节'),
	('2027-02-08', '春节'),
	('2027-04-05', '清明节'),
	('2027-05-01', '劳动节'),
	('2027-05-02', '劳动节'),
	('2027-06-09', '端午节'),
	('2027-09-15', '中秋节'),
	('2027-10-01', '国庆节'),
	('2027-10-02', '国庆节'),
	('2027-10-03', '国庆节'),
	('2028-01-01', '元旦'),
	('2028-01-25', '春节(除夕)'),
	('2028-01-26', '春节'),
	('2028-01-27', '春节'),
	('2028-01-28', '春节'),
	('2028-04-04', '清明节'),
	('2028-05-01', '劳动节'),
	('2028-05-02', '劳动节'),
	('2028-05-28', '端午节'),
	('2028-10-01', '国庆节'),
	('2028-10-02', '国庆节'),
	('2028-10-03', '中秋节'),
	('2028-10-03', '国庆节'),
	('2029-01-01', '元旦'),
	('2029-02-12', '春节(除夕)'),
	('2029-02-13', '春节'),
	('2029-02-14', '春节'),
	('2029-02-15', '春节'),
	('2029-04-04', '清明节'),
	('2029-05-01', '劳动节'),
	('2029-05-02', '劳动节'),
	('2029-06-16', '端午节'),
	('2029-09-22', '中秋节'),
	('2029-10-01', '国庆节'),
	('2029-10-02', '国庆节'),
	('2029-10-03', '国庆节'),
	('2030-01-01', '元旦'),
	('2030-02-02', '春节(除夕)'),
	('2030-02-03', '春节'),
	('2030-02-04', '春节'),
	('2030-02-05', '春节'),
	('2030-04-05', '清明节'),
	('2030-05-01', '劳动节'),
	('2030-05-02', '劳动节'),
	('2030-06-05', '端午节'),
	('2030-09-12', '中秋节'),
	('2030-10-01', '国庆节'),
	('2030-10-02', '国庆节'),
	('2030-10-03', '国庆节'),
	('2031-01-01', '元旦'),
	('2031-01-22', '春节(除夕)'),
	('2031-01-23', '春节'),
	('2031-01-24', '春节'),
	('2031-01-25', '春节'),
	('2031-04-05', '清明节'),
	('2031-05-01', '劳动节'),
	('2031-05-02', '劳动节'),
	('2031-06-24', '端午节'),
	('2031-10-01', '中秋节'),
	('2031-10-01', '国庆节'),
	('2031-10-02', '国庆节'),
	('2031-10-03', '国庆节'),
	('2032-01-01', '元旦'),
	('2032-02-10', '春节(除夕)'),
	('2032-02-11', '春节'),
	('2032-02-12', '春节'),
	('2032-02-13', '春节'),
	('2032-04-04', '清明节'),
	('2032-05-01', '劳动节'),
	('2032-05-02', '劳动节'),
	('2032-06-12', '端午节'),
	('2032-09-19', '中秋节'),
	('2032-10-01', '国庆节'),
	('2032-10-02', '国庆节'),
	('2032-10-03', '国庆节'),
	('2033-01-01', '元旦'),
	('2033-01-30', '春节(除夕)'),
	('2033-01-31', '春节'),
	('2033-02-01', '春节'),
	('2033-02-02', '春节'),
	('2033-04-04', '清明节'),
	('2033-05-01', '劳动节'),
	('2033-05-02', '劳动节'),
	('2033-06-01', '端午节'),
	('2033-09-08', '中秋节'),
	('2033-10-01', '国庆节'),
	('2033-10-02', '国庆节'),
	('2033-10-03', '国庆节'),
	('2034-01-01', '元旦'),
	('2034-02-18', '春节(除夕)'),
	('2034-02-19', '春节'),
	('2034-02-20', '春节'),
	('2034-02-21', '春节'),
	('2034-04-05', '清明节'),
	('2034-05-01', '劳动节'),
	('2034-05-02', '劳动节'),
	('2034-06-20', '端午节'),
	('2034-09-27', '中秋节'),
	('2034-10-01', '国庆节'),
	('2034-10-02', '国庆节'),
	('2034-10-03', '国庆节'),
	('2035-01-01', '元旦'),
	('2035-02-07', '春节(除夕)'),
	('2035-02-08', '春节'),
	('2035-02-09', '春节'),
	('2035-02-10', '春节'),
	('2035-04-05', '清明节'),
	('2035-05-01', '劳动节'),
	('2035-05-02', '劳动节'),
	('2035-06-10', '端午节'),
	('2035-09-16', '中秋节'),
	('2035-10-01', '国庆节'),
	('2035-10-02', '国庆节'),
	('2035-10-03', '国庆节')
), gone AS (
	DELETE FROM pubdata.statutory_holiday h
	 WHERE NOT EXISTS (SELECT 1 FROM shipped s
						WHERE s.day::date OPERATOR(pg_catalog.=) h.day AND s.name OPERATOR(pg_catalog.=) h.name)
)
INSERT INTO pubdata.statutory_holiday (day, name)
SELECT s.day::date, s.name FROM shipped s
ON CONFLICT (day, name) DO NOTHING;

-- Working-day arithmetic (C, cached per backend)
CREATE OR REPLACE FUNCTION pubdata.is_workday(day date) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_workday_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_workday(date) IS
	'true when the day is a working day: Monday to Friday unless pubdata.calendar says otherwise (holidays, 调休); in a year without an official arrangement, unless it is a statutory holiday (provisional)';

CREATE OR REPLACE FUNCTION pubdata.add_working_days(t timestamptz, n integer) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'pubdata_add_working_days_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.add_working_days(timestamptz, integer) IS
	'Deadline: the end (23:59:59.999999 in pubdata.timezone) of the n-th working day after the day of t; the day of receipt does not count; n = 0 is the end of that day';

CREATE OR REPLACE FUNCTION pubdata.working_days_between(from_day date, to_day date) RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_working_days_between_date'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.working_days_between(date, date) IS
	'Working days after from_day up to and including to_day; negative when to_day is earlier';

CREATE OR REPLACE FUNCTION pubdata.working_days_between(from_time timestamptz, to_time timestamptz) RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_working_days_between_tstz'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.working_days_between(timestamptz, timestamptz) IS
	'Working days between the days (in pubdata.timezone) of two instants: after the first day, up to and including the second';

-- _timezone(): the zone of pubdata's days and schedules (pubdata.timezone)
CREATE OR REPLACE FUNCTION pubdata._timezone() RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_timezone_sql'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._timezone() IS 'Internal: the value of pubdata.timezone, the time zone of calendars, deadlines, evaluation periods and cron schedules';

CREATE OR REPLACE FUNCTION pubdata.provisional_between(from_time timestamptz, to_time timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_provisional_between_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.provisional_between(timestamptz, timestamptz) IS
	'true when a day after the day of from_time, up to and including the day of to_time (days of pubdata.timezone), lies in a year without an official arrangement: a deadline add_working_days(from_time, n) counted over it is provisional';

CREATE OR REPLACE FUNCTION pubdata._calendar_date(t timestamptz) RETURNS date
	AS 'MODULE_PATHNAME', 'pubdata_calendar_date_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._calendar_date(timestamptz) IS 'Internal: the calendar''s day (in pubdata.timezone) of an instant';

-- load_calendar_year: the bureau loads a year's official arrangements
CREATE OR REPLACE FUNCTION pubdata.load_calendar_year(year integer, holidays date[], workdays date[] DEFAULT '{}',
										   source text DEFAULT NULL, replace boolean DEFAULT false)
	RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	y integer := $1;
	bad date;
	old pubdata.calendar_year;
BEGIN
	PERFORM pubdata._require_admin('load a working-day calendar');
	IF y IS NULL OR y NOT BETWEEN 1990 AND 2200 THEN
		RAISE EXCEPTION 'invalid calendar year %', coalesce(y::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Years 1990 to 2200 can be loaded.';
	END IF;
	SELECT d INTO bad FROM pg_catalog.unnest(coalesce($2, '{}') OPERATOR(pg_catalog.||) coalesce($3, '{}')) AS d
	 WHERE d IS NULL OR EXTRACT(YEAR FROM d) OPERATOR(pg_catalog.<>) y LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'day % is not in year %', coalesce(pg_catalog.to_char(bad, 'YYYY-MM-DD'), 'NULL'), y
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Load one year at a time; every day must belong to it.';
	END IF;
	SELECT h INTO bad FROM pg_catalog.unnest(coalesce($2, '{}')) AS h
	 WHERE h OPERATOR(pg_catalog.=) ANY (coalesce($3, '{}')) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'day % is listed both as a holiday and as a working day', pg_catalog.to_char(bad, 'YYYY-MM-DD')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO old FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) y;
	IF FOUND THEN
		IF old.builtin THEN
			RAISE EXCEPTION 'the calendar of % is shipped with pubdata and cannot be replaced', y
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'Corrections to shipped years come with ALTER EXTENSION pubdata UPDATE.';
		ELSIF NOT coalesce($5, false) THEN
			RAISE EXCEPTION 'the calendar of % is already loaded', y
				USING ERRCODE = 'duplicate_object',
					  HINT = 'Pass replace => true to load it again.';
		END IF;
		DELETE FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) y;
	END IF;
	INSERT INTO pubdata.calendar_year (year, source) VALUES (y, $4);
	INSERT INTO pubdata.calendar (day, is_workday, note)
	SELECT DISTINCT h, false, 'holiday' FROM pg_catalog.unnest(coalesce($2, '{}')) AS h
	UNION
	SELECT DISTINCT w, true, 'adjusted working day' FROM pg_catalog.unnest(coalesce($3, '{}')) AS w;
	-- open deadlines counted over the year follow the official arrangement
	PERFORM pubdata.recompute_deadlines(y);
	RETURN pubdata.working_days_between(pg_catalog.make_date(y - 1, 12, 31), pg_catalog.make_date(y, 12, 31));
END
$$;
COMMENT ON FUNCTION pubdata.load_calendar_year(integer, date[], date[], text, boolean) IS
	'pubdata_admin: load a year''s official holidays and adjusted working days (replace => true to reload) and recompute the open deadlines counted over it; returns the year''s number of working days';

-- unload_calendar_year: the bureau removes a year it loaded
CREATE OR REPLACE FUNCTION pubdata.unload_calendar_year(year integer) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('unload a working-day calendar');
	DELETE FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'the calendar of % is not loaded', $1
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT * FROM pubdata.calendar_years.';
	END IF;
	-- open deadlines counted over the year are provisional again
	PERFORM pubdata.recompute_deadlines($1);
END
$$;
COMMENT ON FUNCTION pubdata.unload_calendar_year(integer) IS
	'pubdata_admin: remove a loaded year (not a shipped one) and its days; open deadlines counted over it become provisional again';

-- calendar_years: what is loaded, with each year's working days
CREATE OR REPLACE VIEW pubdata.calendar_years AS
SELECT y.year, y.source, y.builtin, y.loaded_at, y.loaded_by,
	   (SELECT pg_catalog.count(*) FROM pubdata.calendar c
		 WHERE c.year OPERATOR(pg_catalog.=) y.year AND NOT c.is_workday
		   AND EXTRACT(ISODOW FROM c.day) OPERATOR(pg_catalog.<) 6) AS weekday_holidays,
	   (SELECT pg_catalog.count(*) FROM pubdata.calendar c
		 WHERE c.year OPERATOR(pg_catalog.=) y.year AND c.is_workday
		   AND EXTRACT(ISODOW FROM c.day) OPERATOR(pg_catalog.>=) 6) AS adjusted_workdays,
	   pubdata.working_days_between(pg_catalog.make_date(y.year - 1, 12, 31), pg_catalog.make_date(y.year, 12, 31)) AS workdays
  FROM pubdata.calendar_year y;
COMMENT ON VIEW pubdata.calendar_years IS
	'Loaded calendar years: holidays falling on weekdays, weekend days made working days (调休), and the year''s working days';

GRANT SELECT ON pubdata.calendar, pubdata.calendar_year, pubdata.calendar_years, pubdata.statutory_holiday
	TO pubdata_admin, pubdata_department, pubdata_auditor;
-- the bureau may also maintain non-shipped rows by hand (builtin cannot be set)
GRANT INSERT (day, is_workday, note), UPDATE (is_workday, note), DELETE ON pubdata.calendar TO pubdata_admin;
GRANT INSERT (year, source), UPDATE (source), DELETE ON pubdata.calendar_year TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.is_workday(date), pubdata.add_working_days(timestamptz, integer),
	pubdata.working_days_between(date, date), pubdata.working_days_between(timestamptz, timestamptz),
	pubdata.provisional_between(timestamptz, timestamptz)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.load_calendar_year(integer, date[], date[], text, boolean),
	pubdata.unload_calendar_year(integer) TO pubdata_admin;
