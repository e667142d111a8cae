-- ---------------------------------------------------------------------------
-- Provisional deadlines (Art 13, 19): a deadline counted over a year without
-- the State Council's arrangement is provisional (marked on share requests
-- and objections); the open ones are recomputed when the bureau loads the
-- year, and from 1 November the launcher warns once a day while next year
-- has no arrangement.  Business never stops for a missing calendar.
-- ---------------------------------------------------------------------------

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
