-- ---------------------------------------------------------------------------
-- The OpenLineage event stream (issue 12): a table of events in commit order
-- and its sequence (functions in 75_lineage.sql).
-- ---------------------------------------------------------------------------

-- The OpenLineage event stream (src/lineage_stream.c): every run that moved
-- data as its START and COMPLETE (or FAIL) events, in commit order; the
-- sequence is also the stream's order lock
CREATE SEQUENCE pubdata.openlineage_event_id_seq;
CREATE TABLE pubdata.openlineage_event (
	id			bigint PRIMARY KEY,
	event_type	text NOT NULL CHECK (event_type IN ('START', 'COMPLETE', 'FAIL', 'ABORT')),
	event_time	timestamptz NOT NULL,
	run_id		uuid NOT NULL,
	event		jsonb NOT NULL
);
COMMENT ON TABLE pubdata.openlineage_event IS
	'OpenLineage run events, one stream in commit order: read them with pubdata.openlineage_events(after, max_events); NOTIFY pubdata_lineage says new ones exist';
COMMENT ON COLUMN pubdata.openlineage_event.id IS 'position in the stream (commit order; a consumer resumes after the last id it processed)';
COMMENT ON COLUMN pubdata.openlineage_event.event_type IS 'START, then COMPLETE or FAIL, of one run';
COMMENT ON COLUMN pubdata.openlineage_event.event_time IS 'the event''s time (START: the run''s first write; COMPLETE, FAIL: its end)';
COMMENT ON COLUMN pubdata.openlineage_event.run_id IS 'the run (UUIDv7), the same in its START and its end';
COMMENT ON COLUMN pubdata.openlineage_event.event IS 'the OpenLineage 2-0-2 RunEvent, as written when the run committed';
SELECT pg_catalog.pg_extension_config_dump('pubdata.openlineage_event', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.openlineage_event_id_seq', '');
