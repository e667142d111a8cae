-- ---------------------------------------------------------------------------
-- Working-day calendar (Art 13 deadlines): official holidays and adjusted
-- working days (调休) over the Monday-to-Friday week, days of pubdata.timezone; a
-- year without the official arrangement is counted on the provisional
-- calendar (the week less the statutory holidays)
-- ---------------------------------------------------------------------------

CREATE TABLE pubdata.calendar_year (
	year		integer PRIMARY KEY CHECK (year BETWEEN 1990 AND 2200),
	source		text,
	builtin		boolean NOT NULL DEFAULT false,
	loaded_at	timestamptz NOT NULL DEFAULT now(),
	loaded_by	name NOT NULL DEFAULT pubdata.caller()
);
COMMENT ON TABLE pubdata.calendar_year IS
	'Years whose official holiday arrangements are loaded; any other year is counted on the provisional calendar (pubdata.statutory_holiday), or refused while pubdata.calendar_strict is on';
COMMENT ON COLUMN pubdata.calendar_year.year IS 'calendar year (1990 to 2200)';
COMMENT ON COLUMN pubdata.calendar_year.source IS 'the notice the arrangements come from (e.g. the State Council General Office notice)';
COMMENT ON COLUMN pubdata.calendar_year.builtin IS 'shipped with the extension (not dumped by pg_dump: CREATE EXTENSION restores it; read-only)';
COMMENT ON COLUMN pubdata.calendar_year.loaded_at IS 'when the year was loaded';
COMMENT ON COLUMN pubdata.calendar_year.loaded_by IS 'the role that loaded it';

CREATE TABLE pubdata.calendar (
	day			date PRIMARY KEY CHECK (pg_catalog.isfinite(day)),
	is_workday	boolean NOT NULL,
	note		text,
	builtin		boolean NOT NULL DEFAULT false,
	year		integer NOT NULL GENERATED ALWAYS AS (EXTRACT(YEAR FROM day)::integer) STORED
				REFERENCES pubdata.calendar_year (year) ON DELETE CASCADE
);
CREATE INDEX calendar_year_idx ON pubdata.calendar (year);
COMMENT ON TABLE pubdata.calendar IS
	'Days that differ from, or are named in, the default Monday-to-Friday week: official holidays and adjusted working days (调休)';
COMMENT ON COLUMN pubdata.calendar.day IS 'the day (in pubdata.timezone, Asia/Shanghai by default)';
COMMENT ON COLUMN pubdata.calendar.is_workday IS 'true: a working day (e.g. a Saturday made a working day); false: a day of rest';
COMMENT ON COLUMN pubdata.calendar.note IS 'the holiday or adjustment, e.g. 春节 or 春节调休';
COMMENT ON COLUMN pubdata.calendar.builtin IS 'shipped with the extension (not dumped by pg_dump: CREATE EXTENSION restores it; read-only)';
COMMENT ON COLUMN pubdata.calendar.year IS 'the day''s year; it must be registered in pubdata.calendar_year';

-- The official arrangements, from the State Council General Office notices
-- (copy of data/cn_public_holidays_2025_2026.csv)
INSERT INTO pubdata.calendar_year (year, source, builtin) VALUES
	(2025, '国务院办公厅关于2025年部分节假日安排的通知', true),
	(2026, '国务院办公厅关于2026年部分节假日安排的通知', true);
INSERT INTO pubdata.calendar (day, is_workday, note, builtin) VALUES
	('2025-01-01', false, '元旦', true),
	('2025-01-26', true, '春节调休', true),
	('2025-01-28', false, '春节', true),
	('2025-01-29', false, '春节', true),
	('2025-01-30', false, '春节', true),
	('2025-01-31', false, '春节', true),
	('2025-02-01', false, '春节', true),
	('2025-02-02', false, '春节', true),
	('2025-02-03', false, '春节', true),
	('2025-02-04', false, '春节', true),
	('2025-02-08', true, '春节调休', true),
	('2025-04-04', false, '清明节', true),
	('2025-04-05', false, '清明节', true),
	('2025-04-06', false, '清明节', true),
	('2025-04-27', true, '劳动节调休', true),
	('2025-05-01', false, '劳动节', true),
	('2025-05-02', false, '劳动节', true),
	('2025-05-03', false, '劳动节', true),
	('2025-05-04', false, '劳动节', true),
	('2025-05-05', false, '劳动节', true),
	('2025-05-31', false, '端午节', true),
	('2025-06-01', false, '端午节', true),
	('2025-06-02', false, '端午节', true),
	('2025-09-28', true, '国庆节调休', true),
	('2025-10-01', false, '国庆节、中秋节', true),
	('2025-10-02', false, '国庆节、中秋节', true),
	('2025-10-03', false, '国庆节、中秋节', true),
	('2025-10-04', false, '国庆节、中秋节', true),
	('2025-10-05', false, '国庆节、中秋节', true),
	('2025-10-06', false, '国庆节、中秋节', true),
	('2025-10-07', false, '国庆节、中秋节', true),
	('2025-10-08', false, '国庆节、中秋节', true),
	('2025-10-11', true, '国庆节调休', true),
	('2026-01-01', false, '元旦', true),
	('2026-01-02', false, '元旦', true),
	('2026-01-03', false, '元旦', true),
	('2026-01-04', true, '元旦调休', true),
	('2026-02-14', true, '春节调休', true),
	('2026-02-15', false, '春节', true),
	('2026-02-16', false, '春节', true),
	('2026-02-17', false, '春节', true),
	('2026-02-18', false, '春节', true),
	('2026-02-19', false, '春节', true),
	('2026-02-20', false, '春节', true),
	('2026-02-21', false, '春节', true),
	('2026-02-22', false, '春节', true),
	('2026-02-23', false, '春节', true),
	('2026-02-28', true, '春节调休', true),
	('2026-04-04', false, '清明节', true),
	('2026-04-05', false, '清明节', true),
	('2026-04-06', false, '清明节', true),
	('2026-05-01', false, '劳动节', true),
	('2026-05-02', false, '劳动节', true),
	('2026-05-03', false, '劳动节', true),
	('2026-05-04', false, '劳动节', true),
	('2026-05-05', false, '劳动节', true),
	('2026-05-09', true, '劳动节调休', true),
	('2026-06-19', false, '端午节', true),
	('2026-06-20', false, '端午节', true),
	('2026-06-21', false, '端午节', true),
	('2026-09-20', true, '国庆节调休', true),
	('2026-09-25', false, '中秋节', true),
	('2026-09-26', false, '中秋节', true),
	('2026-09-27', false, '中秋节', true),
	('2026-10-01', false, '国庆节', true),
	('2026-10-02', false, '国庆节', true),
	('2026-10-03', false, '国庆节', true),
	('2026-10-04', false, '国庆节', true),
	('2026-10-05', false, '国庆节', true),
	('2026-10-06', false, '国庆节', true),
	('2026-10-07', false, '国庆节', true),
	('2026-10-10', true, '国庆节调休', true);

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

SELECT pg_catalog.pg_extension_config_dump('pubdata.calendar_year', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('pubdata.calendar', 'WHERE NOT builtin');
