-- 7. Lineage (Art 15, 24): where data comes from and where it goes, recorded by the engine
\set SHOW_CONTEXT never
SET client_min_messages = warning;
\echo
\echo '== Lineage: recorded as the data moves, nobody declares it'
\echo '-- the scheduler''s runs above already left their edges, with their run ids'
SET ROLE lishui_bureau;
SELECT source_name, target_name, kind, role_name, count, last_run_id
  FROM pubdata.lineage_edge
 WHERE target_name IN ('liandu.population_by_town', 'civil.marriage_daily')
 ORDER BY target_name, kind, source_name;
RESET ROLE;

\echo '-- LD-MZ derives a district summary and a view of the large townships from the county feed'
SET ROLE liandu_civil;
CREATE TABLE liandu.population_by_region AS
	SELECT region_code, sum(households) AS households, sum(people) AS people
	  FROM liandu.population_by_town GROUP BY region_code;
CREATE VIEW liandu.large_towns AS
	SELECT town_code, town_name, people FROM liandu.population_by_town WHERE people >= 10000;
\o /dev/null
SELECT pubdata.register_resource('liandu.population_by_region', 'LD-MZ-RKHZ', '莲都区人口汇总', 'LD-MZ',
	'unconditional', 'open', 'monthly', 1, catalog_level => 'county', category => '人口');
SELECT pubdata.register_resource('liandu.large_towns', 'LD-MZ-DZ', '莲都区万人以上乡镇', 'LD-MZ',
	'unconditional', 'open', 'monthly', 1, catalog_level => 'county', category => '人口');
\o
\echo '-- next month''s reload counts the same edge again; a mistaken load rolled back leaves none'
BEGIN;
DELETE FROM liandu.population_by_region;
INSERT INTO liandu.population_by_region
	SELECT region_code, sum(households), sum(people) FROM liandu.population_by_town GROUP BY region_code;
COMMIT;
BEGIN;
INSERT INTO liandu.population_by_region SELECT village, 0, count(*) FROM liandu.subsistence GROUP BY village;
ROLLBACK;

\echo '-- upstream of the summary, in catalog terms, with the department responsible for each table (Art 24)'
SELECT depth, coalesce(source_resource, source_name) AS source, source_department AS from_department,
	   coalesce(target_resource, target_name) AS target, responsible_department, kinds, count
  FROM pubdata.lineage_upstream('liandu.population_by_region');
\echo '-- downstream of the county''s table: what the city made of it'
SELECT depth, source_name, target_name, target_resource, kinds
  FROM pubdata.lineage_downstream('liandu_county.population');
\echo '-- the same as an OpenLineage run event, for lineage tools (job, run, datasets)'
SELECT doc->>'eventType' AS event, doc->'job'->>'name' AS job,
	   doc->'run'->'facets'->'pubdata_aggregation'->>'jobRunId' AS job_run,
	   jsonb_path_query_array(doc, '$.inputs[*].name') AS inputs,
	   doc->'outputs'->0->'facets'->'ownership'->'owners'->0->>'name' AS owner
  FROM pubdata.lineage_openlineage('liandu.population_by_town') AS doc;
RESET ROLE;
