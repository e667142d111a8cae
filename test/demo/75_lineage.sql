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

\echo
\echo '== Column lineage through a view: which shared items ended up in this table? (Art 19(2), 24)'
\echo '-- the civil affairs bureau asks for a copy of three household items, personal ones among them (Art 17)'
SET ROLE lishui_civil;
SELECT pubdata.request_share('LS-GA-HJRK', '低保对象名册归档', ARRAY['id_number', 'name', 'region'], mode => 'copy') AS copy_req \gset
RESET ROLE;
\o /dev/null
SET ROLE lishui_police;
SELECT pubdata.decide_share(:copy_req, true, '同意归档', row_scope => '{"region": "331102"}');
RESET ROLE;
SET ROLE lishui_bureau;
SELECT pubdata.approve_copy(:copy_req, true, '低保档案依法归档');
RESET ROLE;
\o
\echo '-- it stages the rows in a view, then builds its roll from the view'
SET ROLE lishui_civil;
SET pubdata.purpose = :'copy_req';
CREATE VIEW civil.subsidy_candidates AS
	SELECT h.id_number AS citizen_id, h.name, h.region FROM police.household h;
CREATE TABLE civil.subsidy_roll AS
	SELECT citizen_id, name AS holder, region, 'pending'::text AS status FROM civil.subsidy_candidates;
RESET pubdata.purpose;
\echo '-- the view is a node: police.household -> civil.subsidy_candidates -> civil.subsidy_roll'
SELECT depth, source_name, target_name, kinds FROM pubdata.lineage_upstream('civil.subsidy_roll');
\echo '-- where did the police''s id_number (a sensitive personal item) go, column by column?'
SELECT depth, source_name, source_column, source_resource, source_personal, target_name, target_column, transforms
  FROM pubdata.lineage_columns('police.household', 'id_number', upstream => false);
\echo '-- which shared items ended up in the roll: each column traced back to its source item'
SELECT c.attname AS roll_column, l.source_resource, l.source_column, l.source_personal, l.transforms
  FROM pg_attribute c, pubdata.lineage_columns('civil.subsidy_roll', c.attname) l
 WHERE c.attrelid = 'civil.subsidy_roll'::regclass AND c.attnum > 0 AND l.source_resource IS NOT NULL
 ORDER BY c.attnum;
\echo '-- the same as OpenLineage''s column lineage facet of the roll'
SELECT f.key AS output_column, i->>'name' AS input, i->>'field' AS input_field,
	   i->'transformations'->0->>'subtype' AS subtype
  FROM pubdata.lineage_openlineage('civil.subsidy_roll') AS doc,
	   jsonb_each(doc->'outputs'->0->'facets'->'columnLineage'->'fields') f,
	   jsonb_array_elements(f.value->'inputFields') i
 ORDER BY 1;
RESET ROLE;
\echo '-- the police see that the item went to the civil affairs bureau, not the names of tables they may not read'
SET ROLE lishui_police;
SELECT depth, source_column, target_name, target_column, responsible_department, transforms
  FROM pubdata.lineage_columns('police.household', 'id_number', upstream => false);
RESET ROLE;
