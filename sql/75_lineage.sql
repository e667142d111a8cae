-- Lineage captured by the executor hook, walks, OpenLineage export
\set SHOW_CONTEXT never
SET client_min_messages = warning;
-- fold observations only where this file says so (the default folds at random commits)
SET pubdata.lineage_compact_every = 0;
CREATE ROLE regress_lineage_admin IN ROLE pubdata_admin;
CREATE ROLE regress_lineage_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_lineage_health;		-- collects the source data
CREATE ROLE regress_lineage_stats;		-- derives tables from it
CREATE ROLE regress_lineage_outsider;	-- acts for no department
CREATE SCHEMA regress_lineage;
GRANT USAGE, CREATE ON SCHEMA regress_lineage
	TO regress_lineage_health, regress_lineage_stats, regress_lineage_outsider;
GRANT USAGE ON SCHEMA regress_lineage TO regress_lineage_admin, regress_lineage_auditor;
RESET client_min_messages;

-- a view of the edges this file makes
CREATE VIEW regress_lineage.edges AS
	SELECT coalesce(source_name, '?') AS source, target_name AS target, kind, role_name, count
	  FROM pubdata.lineage_edge
	 WHERE target_name LIKE 'regress_lineage.%'
	 ORDER BY 2, 1, 3, 4;

SET ROLE regress_lineage_admin;
SELECT pubdata.add_department('reglin-health', '市卫健委', '331100', 'administrative', 'regress_lineage_health') > 0 AS added;
SELECT pubdata.add_department('reglin-stats', '市统计局', '331100', 'administrative', 'regress_lineage_stats') > 0 AS added;
RESET ROLE;

-- the health department's source tables
SET ROLE regress_lineage_health;
CREATE TABLE regress_lineage.people (id int PRIMARY KEY, name text, district text);
CREATE TABLE regress_lineage.districts (code text PRIMARY KEY, title text);
INSERT INTO regress_lineage.people SELECT g, 'p' || g, '33110' || (g % 3) FROM generate_series(1, 30) g;
INSERT INTO regress_lineage.districts VALUES ('331100', 'a'), ('331101', 'b'), ('331102', 'c');
GRANT SELECT ON regress_lineage.people, regress_lineage.districts TO regress_lineage_stats;
RESET ROLE;
-- plain INSERT ... VALUES and generate_series read no table: no edge
SELECT count(*) AS edges_so_far FROM regress_lineage.edges;

-- the statistics department derives tables: one edge per statement kind
SET ROLE regress_lineage_stats;
CREATE TABLE regress_lineage.residents (id int PRIMARY KEY, name text, district_title text);
INSERT INTO regress_lineage.residents
	SELECT p.id, p.name, d.title FROM regress_lineage.people p JOIN regress_lineage.districts d ON d.code = p.district
	 WHERE p.id <= 20;
UPDATE regress_lineage.residents r SET district_title = upper(d.title)
  FROM regress_lineage.districts d WHERE d.title = r.district_title;
DELETE FROM regress_lineage.residents r USING regress_lineage.people p WHERE p.id = r.id AND p.id > 18;
MERGE INTO regress_lineage.residents r USING regress_lineage.people p ON p.id = r.id
	WHEN NOT MATCHED THEN INSERT VALUES (p.id, p.name, NULL);
CREATE TABLE regress_lineage.snapshot AS SELECT * FROM regress_lineage.residents;
SELECT id, name INTO regress_lineage.copy FROM regress_lineage.people WHERE id < 5;
CREATE MATERIALIZED VIEW regress_lineage.by_district AS
	SELECT district_title, count(*) AS n FROM regress_lineage.residents GROUP BY 1;
REFRESH MATERIALIZED VIEW regress_lineage.by_district;
-- WITH NO DATA reads nothing: no edge to empty_copy
CREATE TABLE regress_lineage.empty_copy AS SELECT * FROM regress_lineage.people WITH NO DATA;
-- data-modifying WITH: the INSERT's source counts
WITH moved AS (INSERT INTO regress_lineage.copy SELECT id, name FROM regress_lineage.residents WHERE id = 1 RETURNING 1)
SELECT count(*) FROM moved;
RESET ROLE;
SELECT * FROM regress_lineage.edges;

-- reads never write: a transaction of plain reads gets no transaction id
SET ROLE regress_lineage_stats;
BEGIN;
SELECT count(*) FROM regress_lineage.residents r JOIN regress_lineage.people p USING (id);
SELECT pg_current_xact_id_if_assigned() IS NULL AS still_read_only;
COMMIT;
-- a read inside a read-only transaction is fine too
BEGIN READ ONLY;
SELECT count(*) FROM regress_lineage.snapshot;
COMMIT;
-- EXPLAIN without ANALYZE runs nothing: no edge to summary
CREATE TABLE regress_lineage.summary (district_title text, n bigint);
EXPLAIN (COSTS OFF) INSERT INTO regress_lineage.summary SELECT * FROM regress_lineage.by_district;
RESET ROLE;
SELECT count(*) AS summary_edges FROM regress_lineage.edges WHERE target = 'regress_lineage.summary';

-- dedup: three statements in one transaction make one row with count 3
SET ROLE regress_lineage_stats;
BEGIN;
INSERT INTO regress_lineage.summary SELECT * FROM regress_lineage.by_district;
INSERT INTO regress_lineage.summary SELECT * FROM regress_lineage.by_district;
INSERT INTO regress_lineage.summary SELECT * FROM regress_lineage.by_district;
COMMIT;
-- and one more transaction adds one
INSERT INTO regress_lineage.summary SELECT * FROM regress_lineage.by_district;
RESET ROLE;
SELECT * FROM regress_lineage.edges WHERE target = 'regress_lineage.summary';
SELECT first_seen <= last_seen AS ordered FROM pubdata.lineage_edge WHERE target_name = 'regress_lineage.summary';

-- rollback leaves no edge: whole transaction, savepoint, PL/pgSQL exception block
SET ROLE regress_lineage_stats;
CREATE TABLE regress_lineage.archive (id int, name text);
BEGIN;
INSERT INTO regress_lineage.archive SELECT id, name FROM regress_lineage.residents;
ROLLBACK;
BEGIN;
INSERT INTO regress_lineage.archive SELECT id, name FROM regress_lineage.copy;
SAVEPOINT s1;
INSERT INTO regress_lineage.archive SELECT id, name FROM regress_lineage.snapshot;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
INSERT INTO regress_lineage.archive SELECT id, name FROM regress_lineage.people;
RELEASE SAVEPOINT s2;
COMMIT;
DO $$
BEGIN
	BEGIN
		INSERT INTO regress_lineage.archive SELECT id, district_title FROM regress_lineage.residents;
		RAISE EXCEPTION 'undo';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
END
$$;
-- a failing statement leaves nothing either
INSERT INTO regress_lineage.archive SELECT id, name::int FROM regress_lineage.residents;
-- the transaction wrote, then became read only: its commit keeps the edge
BEGIN;
INSERT INTO regress_lineage.archive SELECT id, name FROM regress_lineage.districts d JOIN regress_lineage.copy c ON true LIMIT 1;
SET TRANSACTION READ ONLY;
COMMIT;
RESET ROLE;
SELECT * FROM regress_lineage.edges WHERE target = 'regress_lineage.archive';

-- temporary tables and pubdata's own tables are not lineage
SET ROLE regress_lineage_stats;
CREATE TEMP TABLE scratch AS SELECT * FROM regress_lineage.people;
INSERT INTO regress_lineage.archive SELECT id, name FROM scratch;
RESET ROLE;
SELECT count(*) AS temp_edges FROM pubdata.lineage_edge WHERE source_name LIKE 'pg_temp%' OR target_name LIKE 'pg_temp%';

-- pubdata.lineage is for superusers to switch; off records nothing
SET ROLE regress_lineage_stats;
SET pubdata.lineage = off;
RESET ROLE;
SET pubdata.lineage = off;
INSERT INTO regress_lineage.archive SELECT id, name FROM regress_lineage.snapshot;
RESET pubdata.lineage;
SELECT count(*) AS snapshot_to_archive FROM regress_lineage.edges
 WHERE source = 'regress_lineage.snapshot' AND target = 'regress_lineage.archive';

-- a cycle: summary feeds residents back
SET ROLE regress_lineage_stats;
INSERT INTO regress_lineage.residents SELECT 1000 + n, district_title, district_title FROM regress_lineage.summary LIMIT 1;
RESET ROLE;

-- aggregation runs record their edge with the run (bureau / scheduler only)
SET ROLE regress_lineage_admin;
SELECT pubdata.record_lineage('county:331121/public.population', 'regress_lineage.people', 'aggregation', 41);
SELECT pubdata.record_lineage('county:331121/public.population', 'regress_lineage.people', 'aggregation', 42);
SELECT pubdata.record_lineage('regress_lineage.districts'::regclass, 'regress_lineage.people', 'aggregation', 42);
-- a text naming an existing relation is that relation
SELECT pubdata.record_lineage('regress_lineage.districts', 'regress_lineage.people', 'aggregation');
-- failure paths
SELECT pubdata.record_lineage('x', 'regress_lineage.people', 'copy', 1);
SELECT pubdata.record_lineage('regress_lineage.people'::regclass, 'regress_lineage.people', 'aggregation', 1);
SELECT pubdata.record_lineage('regress_lineage.people'::regclass, 'pubdata.resource', 'aggregation', 1);
SELECT pubdata.record_lineage('', 'regress_lineage.people', 'aggregation', 1);
SELECT pubdata.record_lineage(NULL::text, 'regress_lineage.people', 'aggregation', 1);
SELECT pubdata.record_lineage('x', 'regress_lineage.no_such_table', 'aggregation', 1);
RESET ROLE;
SELECT source_name, kind, count, last_run_id FROM pubdata.lineage_edge
 WHERE target_name = 'regress_lineage.people' ORDER BY 1;
-- observations are folded into one row per edge; the view shows the same before and after
SELECT count(*) AS observations FROM pubdata.lineage_observation WHERE target_name LIKE 'regress_lineage.%';
CREATE TEMP TABLE before_fold AS SELECT * FROM regress_lineage.edges;
SET ROLE regress_lineage_admin;
SELECT pubdata.lineage_compact() > 0 AS folded;
RESET ROLE;
SELECT count(*) AS observations FROM pubdata.lineage_observation WHERE target_name LIKE 'regress_lineage.%';
SELECT (SELECT count(*) FROM regress_lineage.edges) AS edges,
	   (SELECT count(*) FROM (SELECT * FROM regress_lineage.edges EXCEPT SELECT * FROM before_fold) x) AS changed;
-- the runs that made the external edge
SELECT r.run_id FROM pubdata.lineage_edge_run r JOIN pubdata.lineage_edge_data e ON e.id = r.edge_id
 WHERE e.target_name = 'regress_lineage.people' AND e.source IS NULL ORDER BY 1;
-- new observations add to the folded edge
SET ROLE regress_lineage_stats;
INSERT INTO regress_lineage.summary SELECT * FROM regress_lineage.by_district;
RESET ROLE;
SELECT * FROM regress_lineage.edges WHERE target = 'regress_lineage.summary';
-- folding also happens at commit, about once in pubdata.lineage_compact_every commits
SET pubdata.lineage_compact_every = 1;
SET ROLE regress_lineage_stats;
INSERT INTO regress_lineage.summary SELECT * FROM regress_lineage.by_district;
RESET ROLE;
SET pubdata.lineage_compact_every = 0;
SELECT count(*) AS observations FROM pubdata.lineage_observation WHERE target_name LIKE 'regress_lineage.%';
SELECT source_name, count FROM pubdata.lineage_edge_data WHERE target_name = 'regress_lineage.summary';
-- a department may not record edges
SET ROLE regress_lineage_stats;
SELECT pubdata.record_lineage('fake', 'regress_lineage.residents', 'aggregation', 1);
-- nor write or read the edge tables directly, nor fold them
INSERT INTO pubdata.lineage_observation (source_name, target, target_name, kind, role_name, first_seen, last_seen, count)
VALUES ('fake', 'regress_lineage.residents', 'x', 'aggregation', 'x', now(), now(), 1);
SELECT count(*) FROM pubdata.lineage_edge;
SELECT pubdata.lineage_compact();
SET pubdata.lineage_compact_every = 1;
RESET ROLE;

-- registering a view records its sources from the catalog (view_definition)
SET ROLE regress_lineage_health;
CREATE VIEW regress_lineage.people_view AS
	SELECT p.id, p.name, d.title FROM regress_lineage.people p JOIN regress_lineage.districts d ON d.code = p.district;
SELECT pubdata.register_resource('regress_lineage.people_view', 'REGLIN-PEOPLE-V', '人口视图', 'reglin-health',
								 'unconditional', 'not_open', 'daily', 2) > 0 AS registered;
RESET ROLE;
SELECT * FROM regress_lineage.edges WHERE kind = 'view_definition';
-- the view's owner or the bureau may record them again; others may not
SET ROLE regress_lineage_stats;
SELECT pubdata._record_view_lineage('regress_lineage.people_view');
SELECT pubdata._record_view_lineage('regress_lineage.residents');
RESET ROLE;
SET ROLE regress_lineage_health;
SELECT pubdata._record_view_lineage('regress_lineage.people_view') AS edges;
RESET ROLE;
SELECT * FROM regress_lineage.edges WHERE kind = 'view_definition';

-- tables registered as resources: the walks speak in resource terms
SET ROLE regress_lineage_health;
SELECT pubdata.register_resource('regress_lineage.people', 'REGLIN-PEOPLE', '人口', 'reglin-health',
								 'unconditional', 'not_open', 'daily', 2) > 0 AS registered;
RESET ROLE;
SET ROLE regress_lineage_stats;
SELECT pubdata.register_resource('regress_lineage.residents', 'REGLIN-RES', '居民', 'reglin-stats',
								 'restricted', 'not_open', 'daily', 2) > 0 AS registered;
SELECT pubdata.register_resource('regress_lineage.summary', 'REGLIN-SUM', '汇总', 'reglin-stats',
								 'unconditional', 'open', 'monthly', 1) > 0 AS registered;
RESET ROLE;

-- upstream of summary, as the bureau: every edge, the cycle marked
SET ROLE regress_lineage_admin;
SELECT depth, source, source_resource, source_department, target, target_resource, responsible_department,
	   kinds, roles, count, in_cycle
  FROM pubdata.lineage_upstream('regress_lineage.summary');
-- limited depth
SELECT depth, source_name, target_name FROM pubdata.lineage_upstream('regress_lineage.summary', 1);
-- downstream of people
SELECT depth, source_name, target_name, target_resource, responsible_department, kinds, in_cycle
  FROM pubdata.lineage_downstream('regress_lineage.people');
SELECT pubdata.lineage_upstream('regress_lineage.summary', 0);
RESET ROLE;

-- the auditor walks too
SET ROLE regress_lineage_auditor;
SELECT count(*) AS upstream_edges FROM pubdata.lineage_upstream('regress_lineage.summary');
RESET ROLE;

-- the health department sees downstream of its table: unregistered tables of
-- the statistics department it cannot read are shown by department only
SET ROLE regress_lineage_health;
SELECT depth, source_name, target_name, target_resource, responsible_department, kinds, roles
  FROM pubdata.lineage_downstream('regress_lineage.people')
 WHERE depth <= 2;
-- but may not start from a table it cannot read that is not a resource
SELECT * FROM pubdata.lineage_upstream('regress_lineage.snapshot');
RESET ROLE;
SET ROLE regress_lineage_outsider;
SELECT * FROM pubdata.lineage_upstream('regress_lineage.people');
SELECT pubdata.lineage_openlineage('regress_lineage.people');
RESET ROLE;

-- OpenLineage: a run event for the edges producing residents
SET ROLE regress_lineage_stats;
SELECT doc->>'eventType' AS event_type,
	   doc->>'schemaURL' AS schema_url,
	   doc->>'producer' AS producer,
	   doc->'inputs'->0->'facets'->'pubdata_lineage'->>'_schemaURL' AS facet_schema,
	   doc->'job'->>'namespace' LIKE 'pubdata://%' AS job_ns,
	   doc->'job'->>'name' AS job_name,
	   doc->'job'->'facets'->'jobType'->>'jobType' AS job_type,
	   (doc->'run'->>'runId')::uuid IS NOT NULL AS run_id_is_uuid,
	   (doc->>'eventTime')::timestamptz IS NOT NULL AS event_time_ok,
	   jsonb_array_length(doc->'inputs') AS inputs,
	   jsonb_array_length(doc->'outputs') AS outputs
  FROM pubdata.lineage_openlineage('regress_lineage.residents') AS doc;
SELECT split_part(i->>'name', '.', 2) || '.' || split_part(i->>'name', '.', 3) AS input,
	   i->>'namespace' LIKE 'postgres://%' AS ns_ok,
	   i->'facets'->'pubdata_lineage'->'kinds' AS kinds,
	   i->'facets'->'pubdata_lineage'->>'count' AS count,
	   i->'facets'->'pubdata_resource'->>'resource' AS resource,
	   i->'facets'->'pubdata_resource'->>'department' AS department
  FROM pubdata.lineage_openlineage('regress_lineage.residents') AS doc, jsonb_array_elements(doc->'inputs') i
 ORDER BY 1;
SELECT o->>'name' LIKE '%.regress_lineage.residents' AS output_name,
	   o->'facets'->'ownership'->'owners' AS owners,
	   o->'facets'->'pubdata_resource'->>'resource' AS resource
  FROM pubdata.lineage_openlineage('regress_lineage.residents') AS doc, jsonb_array_elements(doc->'outputs') o;
RESET ROLE;
-- an aggregation run shows in the run facets; external inputs have their own namespace
SET ROLE regress_lineage_admin;
SELECT doc->'run'->'facets'->'pubdata_aggregation'->>'jobRunId' AS job_run,
	   doc->'job'->'facets'->'jobType'->>'jobType' AS job_type,
	   (SELECT array_agg(regexp_replace(i->>'namespace', ':[0-9]+$', ':<port>') ORDER BY i->>'namespace')
		  FROM jsonb_array_elements(doc->'inputs') i) AS namespaces
  FROM pubdata.lineage_openlineage('regress_lineage.people') AS doc;
-- a table nothing produced: no inputs
SELECT jsonb_array_length(doc->'inputs') AS inputs, doc->>'eventType' AS event_type
  FROM pubdata.lineage_openlineage('regress_lineage.districts') AS doc;
RESET ROLE;
-- health may not read residents (not granted): its inputs are counted, not named
SET ROLE regress_lineage_health;
SELECT jsonb_array_length(doc->'inputs') AS inputs,
	   doc->'run'->'facets'->'pubdata_visibility'->>'hiddenInputs' AS hidden
  FROM pubdata.lineage_openlineage('regress_lineage.summary') AS doc;
RESET ROLE;

-- an aggregation job run by the scheduler records its edge with the run id,
-- in the run's own transaction (plus the insert_select its INSERT made)
SET ROLE regress_lineage_stats;
SELECT pubdata.schedule_aggregation('REGLIN-SUM', 'regress_lineage.by_district', schedule => '0 3 * * *') AS agg_job \gset
SELECT pubdata.run_job_now(:agg_job) AS agg_run \gset
SELECT status FROM pubdata.job_run WHERE id = :agg_run;
RESET ROLE;
SELECT source_name, kind, count, last_run_id = :agg_run AS with_this_run
  FROM pubdata.lineage_edge WHERE target_name = 'regress_lineage.summary' ORDER BY kind, role_name;
SET ROLE regress_lineage_admin;
SELECT pubdata.lineage_compact() > 0 AS folded;
RESET ROLE;
SELECT count(*) AS runs_recorded FROM pubdata.lineage_edge_run r JOIN pubdata.lineage_edge_data e ON e.id = r.edge_id
 WHERE e.target_name = 'regress_lineage.summary' AND r.run_id = :agg_run;
SET ROLE regress_lineage_stats;
SELECT doc->'run'->'facets'->'pubdata_aggregation'->>'jobRunId' = :'agg_run' AS openlineage_run,
	   doc->'job'->'facets'->'jobType'->>'jobType' AS job_type
  FROM pubdata.lineage_openlineage('regress_lineage.summary') AS doc;
RESET ROLE;

-- attack: object names with quotes and semicolons are data, never SQL
SET ROLE regress_lineage_stats;
CREATE TABLE regress_lineage."evil""; DROP TABLE regress_lineage.people; --" (id int, name text);
INSERT INTO regress_lineage."evil""; DROP TABLE regress_lineage.people; --" SELECT id, name FROM regress_lineage.copy;
-- a hostile search_path with a look-alike operator does not reach the edge writer
CREATE FUNCTION regress_lineage.evil_plus(bigint, bigint) RETURNS bigint
	LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked'; END $$;
CREATE OPERATOR regress_lineage.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = regress_lineage.evil_plus);
SET search_path = regress_lineage, pg_catalog;
INSERT INTO "evil""; DROP TABLE regress_lineage.people; --" SELECT id, name FROM copy;
RESET search_path;
RESET ROLE;
SELECT * FROM regress_lineage.edges WHERE target LIKE '%evil%';
SELECT to_regclass('regress_lineage.people') IS NOT NULL AS people_still_there;
SET ROLE regress_lineage_admin;
SELECT pubdata.record_lineage('x''); DROP TABLE regress_lineage.people; --', 'regress_lineage.districts', 'aggregation');
SELECT source_name FROM pubdata.lineage_edge WHERE target_name = 'regress_lineage.districts';
SELECT depth, source_name, target_name FROM pubdata.lineage_upstream('regress_lineage."evil""; DROP TABLE regress_lineage.people; --"');
SELECT (SELECT i->>'name' FROM jsonb_array_elements(doc->'inputs') i) AS input,
	   doc->'outputs'->0->>'name' LIKE '%.regress_lineage.evil"; DROP TABLE regress_lineage.people; --' AS output_name_ok
  FROM pubdata.lineage_openlineage('regress_lineage."evil""; DROP TABLE regress_lineage.people; --"') AS doc;
RESET ROLE;
SELECT to_regclass('regress_lineage.people') IS NOT NULL AS people_still_there;
