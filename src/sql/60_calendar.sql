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
