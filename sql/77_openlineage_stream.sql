-- The OpenLineage event stream: every run that moved data, as START and
-- COMPLETE (or FAIL) events, read after a cursor by the bureau and the
-- auditors.  A commit appends its runs to openlineage_pending; a publication
-- (the launcher's, or openlineage_publish(): this database has no launcher)
-- gives them ids above every visible id; NOTIFY pubdata_lineage carries only
-- an id
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET pubdata.lineage_compact_every = 0;
CREATE ROLE regress_ols_admin IN ROLE pubdata_admin;
CREATE ROLE regress_ols_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_ols_stats;
CREATE ROLE regress_ols_bi IN ROLE pubdata_open_reader;
CREATE SCHEMA regress_ols;
GRANT USAGE, CREATE ON SCHEMA regress_ols TO regress_ols_stats;
RESET client_min_messages;
SET ROLE regress_ols_admin;
SELECT pubdata.add_department('regols-stats', '市统计局', '331100', 'administrative', 'regress_ols_stats') > 0 AS added;
RESET ROLE;
-- where the stream stands before this file (other files wrote to it; what
-- they left to publish is published first)
SELECT pubdata.openlineage_publish() >= 0 AS published_earlier_runs;
SELECT coalesce(max(id), 0) AS start FROM pubdata.openlineage_event \gset

SET ROLE regress_ols_stats;
CREATE TABLE regress_ols.people (id int PRIMARY KEY, district text);
CREATE TABLE regress_ols.districts (code text PRIMARY KEY, title text);
CREATE TABLE regress_ols.summary (district text, people int);
CREATE TABLE regress_ols.archive (district text, people int);
INSERT INTO regress_ols.people SELECT g, '33110' || (g % 3) FROM generate_series(1, 30) g;
INSERT INTO regress_ols.districts VALUES ('331100', 'a'), ('331101', 'b'), ('331102', 'c');
-- a read-only statement and a write that reads nothing else make no run
SELECT count(*) FROM regress_ols.people;
-- one transaction writing two tables: two runs, each a START and a COMPLETE
BEGIN;
INSERT INTO regress_ols.summary SELECT p.district, count(*) FROM regress_ols.people p
  JOIN regress_ols.districts d ON d.code = p.district GROUP BY 1;
INSERT INTO regress_ols.archive SELECT * FROM regress_ols.summary;
INSERT INTO regress_ols.archive SELECT * FROM regress_ols.summary;
COMMIT;
-- a rolled-back write: no run
BEGIN;
INSERT INTO regress_ols.archive SELECT * FROM regress_ols.summary;
ROLLBACK;
-- a savepoint rolled back drops its part only
BEGIN;
INSERT INTO regress_ols.archive SELECT district, 0 FROM regress_ols.people;
SAVEPOINT s;
INSERT INTO regress_ols.summary SELECT * FROM regress_ols.archive;
ROLLBACK TO SAVEPOINT s;
COMMIT;
-- a department cannot read the stream (it names every table that moved data),
-- nor what waits to be published, nor publish
SELECT * FROM pubdata.openlineage_events(0, 10);
SELECT count(*) FROM pubdata.openlineage_event;
SELECT count(*) FROM pubdata.openlineage_pending;
SELECT pubdata.openlineage_publish();
-- its own tables' lineage stays available through the per-table export
SELECT e ->> 'eventType' AS event FROM pubdata.lineage_openlineage_events('regress_ols.summary') e;
RESET ROLE;
SET ROLE regress_ols_bi;
SELECT * FROM pubdata.openlineage_events(0, 10);
RESET ROLE;

-- committed runs wait in openlineage_pending (the rolled-back ones are not
-- there) and are not in the stream until they are published
SET ROLE regress_ols_auditor;
SELECT n, target_name, source_names, kinds, counts, outcome, job_name, started <= ended AS started_first
  FROM pubdata.openlineage_pending ORDER BY xid, n;
SELECT count(*) AS before_publication FROM pubdata.openlineage_events(:start, 100);
-- the auditor cannot publish
SELECT pubdata.openlineage_publish();
RESET ROLE;
SET ROLE regress_ols_admin;
SELECT pubdata.openlineage_publish() AS published;
SELECT pubdata.openlineage_publish() AS published_again;
SELECT count(*) AS still_pending FROM pubdata.openlineage_pending;
RESET ROLE;

-- the auditor reads the stream: ids in publication order, a START then its
-- end per run, one runId per run (UUIDv7), the inputs each run read
SET ROLE regress_ols_auditor;
SELECT id - :start AS n, event ->> 'eventType' AS type, event -> 'job' ->> 'name' AS job,
	   (SELECT string_agg(i ->> 'name', ', ' ORDER BY i ->> 'name') FROM jsonb_array_elements(event -> 'inputs') i) AS inputs,
	   event -> 'outputs' -> 0 ->> 'name' AS output,
	   (SELECT string_agg(k, ',') FROM jsonb_array_elements(event -> 'inputs') i,
			   jsonb_array_elements_text(i -> 'facets' -> 'pubdata_lineage' -> 'kinds') k) AS kinds
  FROM pubdata.openlineage_events(:start, 100) ORDER BY id;
SELECT count(DISTINCT event -> 'run' ->> 'runId') AS runs, count(*) AS events,
	   bool_and(event -> 'run' ->> 'runId' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$') AS uuid_v7,
	   bool_and(event ->> 'eventTime' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$') AS utc_times
  FROM pubdata.openlineage_events(:start, 100);
SELECT bool_and(s.event -> 'run' ->> 'runId' = c.event -> 'run' ->> 'runId'
				AND (s.event ->> 'eventTime')::timestamptz <= (c.event ->> 'eventTime')::timestamptz) AS start_before_end
  FROM pubdata.openlineage_events(:start, 100) s
  JOIN pubdata.openlineage_events(:start, 100) c ON c.id = s.id + 1
 WHERE s.event ->> 'eventType' = 'START';
-- resuming after a cursor: pages of 3 give each event once, in order
CREATE TEMP TABLE got (id bigint, page int);
DO $$
DECLARE
	cursor_id bigint := (SELECT coalesce(max(id), 0) FROM pubdata.openlineage_events(0, 10000)) - 8;
	page int := 0;
	n int;
BEGIN
	LOOP
		page := page + 1;
		INSERT INTO got SELECT e.id, page FROM pubdata.openlineage_events(cursor_id, 3) e;
		GET DIAGNOSTICS n = ROW_COUNT;
		EXIT WHEN n = 0;
		cursor_id := (SELECT max(id) FROM got);
	END LOOP;
END
$$;
SELECT count(*) AS events, count(DISTINCT id) AS distinct_events, max(page) AS pages,
	   (SELECT array_agg(id ORDER BY id) FROM got) = (SELECT array_agg(id ORDER BY id) FROM pubdata.openlineage_events(
			(SELECT min(id) - 1 FROM got), 10000)) AS same_as_one_read
  FROM got;
-- bad cursors and sizes
SELECT * FROM pubdata.openlineage_events(NULL, 10);
SELECT * FROM pubdata.openlineage_events(0, 0);
SELECT * FROM pubdata.openlineage_events(0, 10001);
-- a cursor beyond the end: nothing yet
SELECT count(*) AS beyond FROM pubdata.openlineage_events(:start + 1000000, 10);
-- the auditor cannot prune, nor write the stream
SELECT pubdata.openlineage_events_prune(1);
INSERT INTO pubdata.openlineage_event VALUES (0, 'START', now(), gen_random_uuid(), '{}');
RESET ROLE;

-- aggregation runs: one run per job run (not also its INSERT's), with the
-- job run id; a failed run is a START and a FAIL
SET ROLE regress_ols_stats;
SELECT pubdata.register_resource('regress_ols.summary', 'REGOLS-SUM', '人口汇总', 'regols-stats',
	'unconditional', 'not_open', 'daily', 1) > 0 AS registered;
SELECT pubdata.submit_resource('REGOLS-SUM');
RESET ROLE;
SET ROLE regress_ols_admin;
SELECT pubdata.review_resource('REGOLS-SUM', true), pubdata.publish_resource('REGOLS-SUM');
RESET ROLE;
SET client_min_messages = error;
SET ROLE regress_ols_stats;
SELECT pubdata.schedule_aggregation('REGOLS-SUM', 'regress_ols.archive', schedule => '0 3 * * *') AS agg_job \gset
SELECT pubdata.schedule_aggregation('REGOLS-SUM', 'SELECT district, people / 0 AS people FROM regress_ols.archive',
	schedule => '0 3 * * *', max_attempts => 1) > 0 AS scheduled;
RESET ROLE;
RESET client_min_messages;
SELECT coalesce(max(id), 0) AS mark FROM pubdata.openlineage_event \gset
SET ROLE regress_ols_stats;
SELECT pubdata.run_job_now(:agg_job) > 0 AS ran;
DO $$
BEGIN
	PERFORM pubdata.run_job_now((SELECT max(id) FROM pubdata.job WHERE source LIKE '%people / 0%'));
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'the job failed: %', SQLERRM ~ 'division by zero';
END
$$;
RESET ROLE;
SELECT pubdata.openlineage_publish() AS published;
SET ROLE regress_ols_auditor;
SELECT event ->> 'eventType' AS type, event -> 'job' ->> 'name' AS job,
	   event -> 'run' -> 'facets' -> 'pubdata_aggregation' ->> 'jobRunId' IS NOT NULL AS has_job_run,
	   (SELECT string_agg(i ->> 'name', ', ') FROM jsonb_array_elements(event -> 'inputs') i) AS inputs,
	   event -> 'outputs' -> 0 ->> 'name' AS output
  FROM pubdata.openlineage_events(:mark, 100) ORDER BY id;
RESET ROLE;

-- pubdata.openlineage_stream = off: edges are still recorded, no event
SET pubdata.openlineage_stream = off;
SET ROLE regress_ols_stats;
INSERT INTO regress_ols.archive SELECT * FROM regress_ols.summary;
RESET ROLE;
RESET pubdata.openlineage_stream;
SELECT pubdata.openlineage_publish() AS published_while_off;
SELECT count(*) AS events_while_off FROM pubdata.openlineage_event WHERE id > :mark + 4;
-- a department cannot turn it off
SET ROLE regress_ols_stats;
SET pubdata.openlineage_stream = off;
RESET ROLE;

-- the bureau prunes what every consumer has read
SET ROLE regress_ols_admin;
SELECT pubdata.openlineage_events_prune(:start) >= 0 AS pruned;
SELECT count(*) AS left_before_start FROM pubdata.openlineage_events(0, 10000) WHERE id <= :start;
SELECT pubdata.openlineage_events_prune(NULL);
RESET ROLE;
SET ROLE regress_ols_stats;
SELECT pubdata.openlineage_events_prune(1);
RESET ROLE;
