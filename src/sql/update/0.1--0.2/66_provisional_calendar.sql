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
INSERT INTO pubdata.statutory_holiday (day, name) VALUES
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
	('2035-10-03', '国庆节');

CREATE TRIGGER statutory_holiday_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.statutory_holiday
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._calendar_changed();

COMMENT ON FUNCTION pubdata.is_workday(date) IS
	'true when the day is a working day: Monday to Friday unless pubdata.calendar says otherwise (holidays, 调休); in a year without an official arrangement, unless it is a statutory holiday (provisional)';

CREATE FUNCTION pubdata.provisional_between(from_time timestamptz, to_time timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_provisional_between_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.provisional_between(timestamptz, timestamptz) IS
	'true when a day after the day of from_time, up to and including the day of to_time (days of pubdata.timezone), lies in a year without an official arrangement: a deadline add_working_days(from_time, n) counted over it is provisional';

CREATE FUNCTION pubdata._calendar_date(t timestamptz) RETURNS date
	AS 'MODULE_PATHNAME', 'pubdata_calendar_date_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._calendar_date(timestamptz) IS 'Internal: the calendar''s day (in pubdata.timezone) of an instant';

-- load_calendar_year and unload_calendar_year recompute the open deadlines
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
-- _response_days: the working days a provider has to answer (pubdata.response_days)
CREATE FUNCTION pubdata._response_days() RETURNS integer
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT coalesce(NULLIF(pg_catalog.current_setting('pubdata.response_days', true), '')::integer, 5) $$;

CREATE OR REPLACE FUNCTION pubdata.request_share(resource text, purpose text, items text[] DEFAULT NULL,
									  scenario text DEFAULT NULL, mode text DEFAULT 'api', masks jsonb DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me integer := pubdata.current_department();
	r pubdata.resource;
	m pubdata.share_mode := pubdata._check_enum($5, 'pubdata.share_mode', 'share mode')::pubdata.share_mode;
	sc pubdata.scenario;
	bad text;
	auto boolean := false;
	id bigint;
	days integer := pubdata._response_days();
	due timestamptz;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.code OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'resource "%" does not exist', $1
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT code, name FROM pubdata.resource_catalog.';
	END IF;
	IF r.provider_id OPERATOR(pg_catalog.=) me THEN
		RAISE EXCEPTION 'department provides resource "%" itself', $1
			USING ERRCODE = 'invalid_parameter_value', HINT = 'A provider reads its own table directly.';
	END IF;
	IF r.status OPERATOR(pg_catalog.<>) 'published' THEN
		RAISE EXCEPTION 'resource "%" is %, not published', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Only published catalog entries are shared (Art 16).';
	END IF;
	IF r.share_class OPERATOR(pg_catalog.=) 'non_shared' THEN
		RAISE EXCEPTION 'resource "%" is not shared', $1
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Legal basis: %s', r.legal_basis),
				  HINT = 'Non-shared data is not provided to other departments (Art 18(3)).';
	END IF;
	IF coalesce(pg_catalog.btrim($2), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'a share request needs a purpose'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'State what the data is for (Art 19): purpose => ''...''.';
	END IF;
	SELECT pg_catalog.string_agg(x, ', ') INTO bad FROM pg_catalog.unnest($3) x
	 WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id
						AND i.column_name OPERATOR(pg_catalog.=) x AND i.state OPERATOR(pg_catalog.<>) 'dropped');
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'resource "%" has no items %', $1, bad
			USING ERRCODE = 'undefined_column', HINT = 'See SELECT column_name, title FROM pubdata.resource_item.';
	END IF;
	SELECT pg_catalog.string_agg(i.column_name::text, ', ') INTO bad FROM pubdata.resource_item i
	 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.column_name OPERATOR(pg_catalog.=) ANY ($3)
	   AND i.share_class OPERATOR(pg_catalog.=) 'non_shared';
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'items % of resource "%" are not shared', bad, $1
			USING ERRCODE = 'insufficient_privilege', HINT = 'Leave them out of the request.';
	END IF;
	PERFORM pubdata._check_masks(r.id, $3, $6);

	IF $4 IS NOT NULL THEN
		-- the scenario's approval and resources hold until this grant commits
		SELECT * INTO sc FROM pubdata.scenario x WHERE x.code OPERATOR(pg_catalog.=) $4 FOR SHARE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'scenario "%" does not exist', $4 USING ERRCODE = 'undefined_object';
		END IF;
		IF sc.approved_at IS NULL OR (sc.valid_until IS NOT NULL AND sc.valid_until OPERATOR(pg_catalog.<=) pg_catalog.now()) THEN
			RAISE EXCEPTION 'scenario "%" is not approved or no longer valid', $4
				USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'pubdata_admin approves scenarios with pubdata.approve_scenario().';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM pubdata.scenario_department x WHERE x.scenario_id OPERATOR(pg_catalog.=) sc.id
						AND x.department_id OPERATOR(pg_catalog.=) me) THEN
			RAISE EXCEPTION 'department is not part of scenario "%"', $4 USING ERRCODE = 'insufficient_privilege';
		END IF;
		-- the scenario covers the resource and every requested item
		auto := EXISTS (SELECT 1 FROM pubdata.scenario_resource x
						 WHERE x.scenario_id OPERATOR(pg_catalog.=) sc.id AND x.resource_id OPERATOR(pg_catalog.=) r.id
						   AND (x.items IS NULL OR ($3 IS NOT NULL AND $3::name[] OPERATOR(pg_catalog.<@) x.items))
						   -- and the request carries the masks the scenario gives its items under
						   AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_each_text(coalesce(x.masks, '{}'::jsonb)) m
										   WHERE ($3 IS NULL OR m.key OPERATOR(pg_catalog.=) ANY ($3))
											 AND (coalesce($6, '{}'::jsonb) OPERATOR(pg_catalog.->>) m.key) IS DISTINCT FROM m.value));
		IF NOT auto THEN
			RAISE EXCEPTION 'scenario "%" does not cover resource "%" with these items', $4, $1
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'Request only the items the scenario names, or request without the scenario.';
		END IF;
	ELSIF r.share_class OPERATOR(pg_catalog.=) 'unconditional' THEN
		-- unconditional: granted at once unless personal or restricted items are asked for
		-- (no items named means every item, personal ones included)
		auto := NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
							 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped'
							   AND ($3 IS NULL OR i.column_name OPERATOR(pg_catalog.=) ANY ($3))
							   AND (i.personal OPERATOR(pg_catalog.<>) 'none'
									OR coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.<>) 'unconditional'));
	END IF;

	-- a deadline counted over a year without an official arrangement is
	-- provisional (recomputed while pending when the year is loaded)
	due := pubdata.add_working_days(pg_catalog.now(), days);
	INSERT INTO pubdata.share_request (resource_id, requester_id, requested_by, purpose, items, scenario_id, mode, masks,
									   status, due_at, working_days, due_provisional, decided_at, decided_by, reason)
	VALUES (r.id, me, pubdata.caller(), $2, $3::name[], sc.id, m, $6,
			CASE WHEN auto THEN 'approved'::pubdata.request_status ELSE 'pending'::pubdata.request_status END,
			due, days, pubdata.provisional_between(pg_catalog.now(), due),
			CASE WHEN auto THEN pg_catalog.now() END,
			CASE WHEN auto THEN 'pubdata'::name END,
			CASE WHEN auto AND sc.id IS NOT NULL THEN 'approved scenario ' || sc.code
				 WHEN auto THEN 'unconditional sharing' END)
	RETURNING share_request.id INTO id;
	IF auto THEN
		PERFORM pubdata._refresh_sharing(r.id);
	END IF;
	RETURN id;
END
$$;
COMMENT ON FUNCTION pubdata.request_share(text, text, text[], text, text, jsonb) IS
	'Request a resource for a stated purpose; granted at once for unconditional data or an approved scenario, otherwise the provider decides';

CREATE OR REPLACE FUNCTION pubdata.raise_objection(resource text, record_key jsonb, item text, description text)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	dept integer := pubdata.current_department();
	r record;
	due timestamptz;
	provisional boolean;
	uses boolean;
	key jsonb;
	oid_ bigint;
BEGIN
	SELECT x.id, x.code, x.relation, x.provider_id, x.status, x.share_class, d.code AS provider_code
	  INTO r
	  FROM pubdata.resource x JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
	 WHERE x.id OPERATOR(pg_catalog.=) pubdata.resource_id($1);
	IF r.provider_id OPERATOR(pg_catalog.=) dept THEN
		RAISE EXCEPTION 'department "%" provides resource "%" and cannot raise an objection against it', r.provider_code, r.code
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Objections (Art 13) are raised by the departments that use shared data.',
				  HINT = 'Correct your own data directly.';
	END IF;
	IF r.status OPERATOR(pg_catalog.=) 'retired' OR r.relation IS NULL THEN
		RAISE EXCEPTION 'resource "%" is retired', r.code
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Objections are raised against resources in service.';
	END IF;
	IF $3 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
									   WHERE i.resource_id OPERATOR(pg_catalog.=) r.id
										 AND i.column_name OPERATOR(pg_catalog.=) $3
										 AND i.state OPERATOR(pg_catalog.<>) 'dropped') THEN
		RAISE EXCEPTION 'resource "%" has no item "%"', r.code, $3
			USING ERRCODE = 'undefined_column',
				  HINT = 'Items: ' || (SELECT pg_catalog.string_agg(i.column_name::text, ', ' ORDER BY i.attnum)
										FROM pubdata.resource_item i
									   WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped') || '.';
	END IF;
	-- a department objects to data it uses: it must be able to read the item
	-- (or, for the record as a whole, some item) of the resource's table
	uses := pubdata._reads(r.id, $3);
	IF NOT coalesce(uses, false) THEN
		RAISE EXCEPTION 'department of role "%" does not use %resource "%"', pubdata.caller(),
				CASE WHEN $3 IS NULL THEN '' ELSE pg_catalog.format('item "%s" of ', $3) END, r.code
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'An objection is raised by a department that reads the data (through an interface or by hand).',
				  HINT = 'Request access to the resource first (it must be shared with your department).';
	END IF;
	key := pubdata._objection_key(r.id, $2, 'record key');
	PERFORM pubdata._objection_check_key(r.id, key, 'record key');
	IF NOT pubdata._objection_in_scope(r.id, key) THEN
		RAISE EXCEPTION 'record % is not among the rows of resource "%" shared with your department', key::text, r.code
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Objections are raised against records the department reads.';
	END IF;
	IF coalesce(pg_catalog.btrim($4), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'an objection needs a description'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say what is wrong with the record.';
	END IF;

	-- a deadline counted over a year without an official arrangement is
	-- provisional (recomputed while unresolved when the year is loaded)
	due := pubdata.add_working_days(pg_catalog.now(), pubdata._objection_due_days());
	provisional := pubdata.provisional_between(pg_catalog.now(), due);
	INSERT INTO pubdata.objection (resource_id, record_key, item, description, raised_by_department,
								   raised_by_role, provider_id, due_at, working_days, due_provisional)
	VALUES (r.id, key, $3, $4, dept, pubdata.caller(), r.provider_id, due, pubdata._objection_due_days(), provisional)
	RETURNING id INTO oid_;
	PERFORM pubdata._objection_event(oid_, 'raised',
		pg_catalog.jsonb_build_object('due_at', due, 'working_days', pubdata._objection_due_days(),
									  'provisional', provisional));
	RETURN oid_;
END
$$;
COMMENT ON FUNCTION pubdata.raise_objection(text, jsonb, text, text) IS
	'A department that reads a shared resource objects to a record (item NULL: the whole record); routed to the provider, due in pubdata.objection_due_days working days; returns the ticket id';

CREATE OR REPLACE VIEW pubdata.share_request_status AS
	SELECT s.id, r.code AS resource, p.code AS provider, q.code AS requester, s.purpose, s.items, sc.code AS scenario,
		   s.mode, s.status, s.requested_at, s.due_at, s.decided_at, s.reason, s.row_scope, s.expires_at,
		   s.copy_approved_at IS NOT NULL AS copy_approved,
		   coalesce(s.decided_at, now()) > s.due_at AS overdue,
		   s.status = 'approved' AND (s.expires_at IS NULL OR s.expires_at > now()) AS in_force,
		   s.masks, s.due_provisional
	  FROM pubdata.share_request s
	  JOIN pubdata.resource r ON r.id = s.resource_id
	  JOIN pubdata.department p ON p.id = r.provider_id
	  JOIN pubdata.department q ON q.id = s.requester_id
	  LEFT JOIN pubdata.scenario sc ON sc.id = s.scenario_id;
COMMENT ON VIEW pubdata.share_request_status IS 'Share requests with provider, requester, deadline, overdue flag (answer later than pubdata.response_days working days) and whether the grant is in force';
COMMENT ON COLUMN pubdata.share_request_status.masks IS 'items the grant gives masked, and their mask rules';
COMMENT ON COLUMN pubdata.share_request_status.due_provisional IS 'the deadline was counted on the provisional calendar of a year not yet loaded';

CREATE OR REPLACE VIEW pubdata.open_objection WITH (security_barrier) AS
SELECT o.id, x.code AS resource, o.resource_id, o.record_key, o.item, o.status, o.raised_at, o.due_at, o.overdue,
	   o.due_provisional
  FROM pubdata.objection o
  JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) o.resource_id
 WHERE o.status OPERATOR(pg_catalog.<>) 'resolved'
   AND (pubdata._reads(x.id, NULL)
		OR pg_catalog.pg_has_role('pubdata_admin', 'MEMBER')
		OR pg_catalog.pg_has_role('pubdata_auditor', 'MEMBER'))
   AND pubdata._objection_visible(o.id);
COMMENT ON VIEW pubdata.open_objection IS
	'Records under verification: unresolved objections on the resources the querying role can read; join on resource and record_key';
COMMENT ON COLUMN pubdata.open_objection.resource IS 'resource code';
COMMENT ON COLUMN pubdata.open_objection.record_key IS 'the record''s key as a JSON object; compare with jsonb_build_object(''key'', t.key)';
COMMENT ON COLUMN pubdata.open_objection.due_provisional IS 'the deadline was counted on the provisional calendar of a year not yet loaded';

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

-- recompute_deadlines(year): count the open deadlines again on the calendar
-- as it is now: pending share requests and unresolved objections whose
-- deadline is counted over that year (NULL: every open deadline).  Their
-- provisional mark follows; an objection's history records the change, and
-- an overdue flag goes when the new deadline is still ahead.  Called by
-- load_calendar_year and unload_calendar_year; the bureau calls it after
-- changing pubdata.calendar by hand.  Strictness is off inside: business
-- never stops because another year is missing.
CREATE FUNCTION pubdata.recompute_deadlines(year integer DEFAULT NULL) RETURNS integer
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
CREATE FUNCTION pubdata.calendar_warnings(today date DEFAULT NULL)
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

CREATE VIEW pubdata.calendar_warning AS
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
-- (the launcher's goes to the server log) and NOTIFY pubdata_alert.  The
-- launcher calls it every day with the calendar's today; returns the number
-- of warnings given.
CREATE FUNCTION pubdata.check_calendar(today date DEFAULT NULL) RETURNS integer
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
		PERFORM pg_catalog.pg_notify('pubdata_alert', pg_catalog.jsonb_build_object(
			'alert', 'calendar_not_loaded', 'year', w.year, 'today', d,
			'provisional_deadlines', w.provisional_deadlines, 'strict', strict_on)::text);
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.check_calendar(date) IS
	'pubdata_admin and the launcher (daily): warn (WARNING, NOTIFY pubdata_alert) once a day about each year of calendar_warnings(today) without an official arrangement; returns the number of warnings given';

GRANT SELECT ON pubdata.calendar_warning TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT SELECT ON pubdata.calendar_alert TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.calendar_warnings(date) TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.recompute_deadlines(integer), pubdata.check_calendar(date) TO pubdata_admin;
GRANT SELECT ON pubdata.statutory_holiday TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.provisional_between(timestamptz, timestamptz)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
REVOKE ALL ON FUNCTION pubdata.provisional_between(timestamptz, timestamptz), pubdata._calendar_date(timestamptz),
	pubdata._response_days(), pubdata.recompute_deadlines(integer), pubdata.calendar_warnings(date),
	pubdata.check_calendar(date) FROM PUBLIC;
REVOKE ALL ON pubdata.statutory_holiday, pubdata.calendar_alert, pubdata.calendar_warning FROM PUBLIC;
