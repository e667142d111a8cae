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
-- marked provisional.  Shipped, read-only: the rows are in 60_calendar.sql
-- (made anew by every install and update); corrections and further years come
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

SELECT pg_catalog.pg_extension_config_dump('pubdata.calendar_year', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('pubdata.calendar', 'WHERE NOT builtin');
