-- Lineage with the shape the user wrote (issue 16): views are nodes, edges
-- carry column lineage, lineage_columns() walks it, OpenLineage carries it
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET pubdata.lineage_compact_every = 0;
CREATE ROLE regress_lv_admin IN ROLE pubdata_admin;
CREATE ROLE regress_lv_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_lv_health;		-- holds the people, a personal item among them
CREATE ROLE regress_lv_stats;		-- stages views and builds marts from them
CREATE ROLE regress_lv_civil;		-- another department, granted nothing
CREATE ROLE regress_lv_outsider;	-- acts for no department
CREATE SCHEMA regress_lv;
GRANT USAGE, CREATE ON SCHEMA regress_lv TO regress_lv_health, regress_lv_stats, regress_lv_civil, regress_lv_outsider;
GRANT USAGE ON SCHEMA regress_lv TO regress_lv_admin, regress_lv_auditor;
RESET client_min_messages;

-- the edges this file makes, and their column lineage one row per mapping
CREATE VIEW regress_lv.edges AS
	SELECT source_name AS source, target_name AS target, kind, count, ended_at IS NOT NULL AS ended
	  FROM pubdata.lineage_edge
	 WHERE target_name LIKE 'regress_lv.%'
	 ORDER BY 2, 1, 3, 5;
CREATE VIEW regress_lv.columns AS
	SELECT target_name AS target, c->>0 AS target_column, source_name AS source, c->>1 AS source_column,
		   c->>2 AS transform, kind, ended_at IS NOT NULL AS ended
	  FROM pubdata.lineage_edge, jsonb_array_elements(columns) c
	 WHERE target_name LIKE 'regress_lv.%'
	 ORDER BY 1, 2, 3, 4, 6, 7;

SET ROLE regress_lv_admin;
SELECT pubdata.add_department('reglv-health', '市卫健委', '331100', 'administrative', 'regress_lv_health') > 0 AS added;
SELECT pubdata.add_department('reglv-stats', '市统计局', '331100', 'administrative', 'regress_lv_stats') > 0 AS added;
SELECT pubdata.add_department('reglv-civil', '市民政局', '331100', 'administrative', 'regress_lv_civil') > 0 AS added;
RESET ROLE;

-- the health department's tables (people is registered below, once the
-- statistics department has built on it)
SET ROLE regress_lv_health;
CREATE TABLE regress_lv.people (id_number text PRIMARY KEY, name text, district text, born date);
INSERT INTO regress_lv.people VALUES
	('331102199001011234', '张三', '331102', '1990-01-01'), ('331121198502023456', '李四', '331121', '1985-02-02'),
	('331102200003035678', '王五', '331102', '2000-03-03');
CREATE TABLE regress_lv.districts (code text PRIMARY KEY, title text);
INSERT INTO regress_lv.districts VALUES ('331102', '莲都区'), ('331121', '青田县');
GRANT SELECT ON regress_lv.people, regress_lv.districts TO regress_lv_stats;
RESET ROLE;

-- views over views: staging view, mart view over it; each is a node
SET ROLE regress_lv_stats;
CREATE VIEW regress_lv.stg_people AS
	SELECT p.id_number AS person_id, p.name, p.district, d.title AS district_title,
		   date_part('year', p.born)::int AS birth_year
	  FROM regress_lv.people p JOIN regress_lv.districts d ON d.code = p.district;
CREATE VIEW regress_lv.by_district AS
	SELECT district_title, count(*) AS n, min(birth_year) AS oldest
	  FROM regress_lv.stg_people GROUP BY district_title;
RESET ROLE;
SELECT * FROM regress_lv.edges;
SELECT * FROM regress_lv.columns;

-- statements that read through views record the view, not its base tables
SET ROLE regress_lv_stats;
CREATE TABLE regress_lv.mart AS SELECT person_id, name, district_title FROM regress_lv.stg_people WHERE birth_year < 2000;
CREATE TABLE regress_lv.summary (district_title text, n bigint, label text);
INSERT INTO regress_lv.summary SELECT district_title, n, 'y' || oldest FROM regress_lv.by_district;
UPDATE regress_lv.mart m SET name = upper(s.name) FROM regress_lv.stg_people s WHERE s.person_id = m.person_id;
MERGE INTO regress_lv.summary t USING regress_lv.by_district b ON b.district_title = t.district_title
	WHEN MATCHED THEN UPDATE SET n = b.n + 1
	WHEN NOT MATCHED THEN INSERT VALUES (b.district_title, b.n, NULL);
CREATE MATERIALIZED VIEW regress_lv.mv AS SELECT district, count(*) AS n FROM regress_lv.stg_people GROUP BY district;
REFRESH MATERIALIZED VIEW regress_lv.mv;
RESET ROLE;
SELECT * FROM regress_lv.edges WHERE kind <> 'view_definition';
-- no base table of a view leaked in as a direct source of a statement
SELECT count(*) AS leaked FROM regress_lv.edges
 WHERE kind <> 'view_definition' AND source IN ('regress_lv.people', 'regress_lv.districts');
SELECT * FROM regress_lv.columns WHERE target IN ('regress_lv.mart', 'regress_lv.summary', 'regress_lv.mv');

-- column lineage through expressions, aggregates, CASE, joins, set
-- operations, CTEs, subqueries, VALUES, scalar subqueries
SET ROLE regress_lv_stats;
CREATE TABLE regress_lv.shapes (a text, b text, c bigint, d text);
INSERT INTO regress_lv.shapes (a, b, c, d)
	SELECT CASE WHEN s.birth_year < 1990 THEN 'old' ELSE s.name END,
		   s.name || '@' || s.district,
		   length(s.person_id),
		   (SELECT d.title FROM regress_lv.districts d WHERE d.code = s.district)
	  FROM regress_lv.stg_people s;
INSERT INTO regress_lv.shapes (a, b)
	SELECT person_id, name FROM regress_lv.mart
	UNION ALL
	SELECT code, title FROM regress_lv.districts;
INSERT INTO regress_lv.shapes (a, c)
	WITH t AS (SELECT district, count(*) AS n FROM regress_lv.mart JOIN regress_lv.stg_people USING (person_id) GROUP BY district)
	SELECT x.district, x.n FROM (SELECT * FROM t) x;
INSERT INTO regress_lv.shapes (a, d)
	SELECT coalesce(m.person_id, s.district_title), v.label
	  FROM regress_lv.mart m FULL JOIN regress_lv.summary s USING (district_title)
	 CROSS JOIN (VALUES ('fixed')) v(label);
INSERT INTO regress_lv.shapes (a, c)
	SELECT district_title, sum(n) OVER (PARTITION BY label) FROM regress_lv.summary;
RESET ROLE;
SELECT target_column, source, source_column, transform, kind FROM regress_lv.columns WHERE target = 'regress_lv.shapes';
-- a whole row is every column, transformed; a write into an auto-updatable
-- view lands in its base table, and the view is no source of it
SET ROLE regress_lv_stats;
INSERT INTO regress_lv.shapes (d) SELECT dd::text FROM regress_lv.districts dd;
CREATE VIEW regress_lv.shapes_ab AS SELECT a, b FROM regress_lv.shapes;
INSERT INTO regress_lv.shapes_ab SELECT code, title FROM regress_lv.districts;
RESET ROLE;
SELECT target_column, source_column, transform FROM regress_lv.columns
 WHERE target = 'regress_lv.shapes' AND source = 'regress_lv.districts';
SELECT * FROM regress_lv.edges WHERE 'regress_lv.shapes_ab' IN (source, target);

-- a prepared statement (a plan cached and run again, generic after five)
-- still records the view and its columns
SET ROLE regress_lv_stats;
CREATE TABLE regress_lv.prepared_sink (person text);
PREPARE sink(int) AS INSERT INTO regress_lv.prepared_sink SELECT person_id FROM regress_lv.stg_people WHERE birth_year > $1;
EXECUTE sink(1900); EXECUTE sink(1900); EXECUTE sink(1900); EXECUTE sink(1900); EXECUTE sink(1900); EXECUTE sink(1900);
EXECUTE sink(1900);
DEALLOCATE sink;
RESET ROLE;
SELECT * FROM regress_lv.edges WHERE target = 'regress_lv.prepared_sink';
SELECT target_column, source, source_column, transform FROM regress_lv.columns WHERE target = 'regress_lv.prepared_sink';

-- the people become a registered resource, their id_number a personal item
SET ROLE regress_lv_health;
SELECT pubdata.register_resource('regress_lv.people', 'REGLV-PEOPLE', '人口信息', 'reglv-health',
								 'restricted', 'not_open', 'daily', 3) > 0 AS registered;
SELECT pubdata.set_item('REGLV-PEOPLE', 'id_number', personal => 'personal');
SELECT pubdata.submit_resource('REGLV-PEOPLE');
RESET ROLE;
SET ROLE regress_lv_admin;
SELECT pubdata.review_resource('REGLV-PEOPLE', true), pubdata.publish_resource('REGLV-PEOPLE');
RESET ROLE;

-- a copy of governed rows, granted and consented (Art 17), made through a
-- view: the edge names the view and its columns, though the guard plans
-- queries of its own while the copy's query is planned
SET ROLE regress_lv_stats;
SELECT pubdata.request_share('REGLV-PEOPLE', '统计建档', ARRAY['id_number', 'name', 'district', 'born'],
							 mode => 'copy') AS copy_req \gset
RESET ROLE;
SET ROLE regress_lv_health;
SELECT pubdata.decide_share(:copy_req, true, '同意');
RESET ROLE;
SET ROLE regress_lv_admin;
SELECT pubdata.approve_copy(:copy_req, true, '依法归档');
RESET ROLE;
SET ROLE regress_lv_stats;
SET pubdata.purpose = :'copy_req';
CREATE TABLE regress_lv.governed_copy AS SELECT person_id, birth_year FROM regress_lv.stg_people;
RESET pubdata.purpose;
RESET ROLE;
SELECT target_column, source, source_column, transform, kind FROM regress_lv.columns
 WHERE target = 'regress_lv.governed_copy';

-- CREATE OR REPLACE VIEW changing its sources: the edge it no longer has ends
-- (kept as history), the new one is live; a rollback leaves the old state
SET ROLE regress_lv_stats;
CREATE TABLE regress_lv.people_extra (person_id text, name text, district text, title text, birth_year int);
BEGIN;
CREATE OR REPLACE VIEW regress_lv.stg_people AS
	SELECT person_id, name, district, title AS district_title, birth_year FROM regress_lv.people_extra;
ROLLBACK;
RESET ROLE;
SELECT source, ended FROM regress_lv.edges WHERE target = 'regress_lv.stg_people';
SET ROLE regress_lv_stats;
CREATE OR REPLACE VIEW regress_lv.stg_people AS
	SELECT person_id, name, district, title AS district_title, birth_year FROM regress_lv.people_extra;
RESET ROLE;
SELECT * FROM regress_lv.edges WHERE target = 'regress_lv.stg_people';
-- the walk still knows where the mart's person_id came from, through the ended edge
SET ROLE regress_lv_admin;
SELECT depth, source_name, source_column, source_personal, target_name, target_column, transforms, kinds, ended
  FROM pubdata.lineage_columns('regress_lv.mart', 'person_id');
RESET ROLE;

-- the bureau's question (Art 19(2), 24): where did the personal item go?
SET ROLE regress_lv_admin;
SELECT depth, source_name, source_column, source_resource, source_personal, target_name, target_column, transforms
  FROM pubdata.lineage_columns('regress_lv.people', 'id_number', upstream => false);
RESET ROLE;
-- the provider walks downstream of its own table; tables of the statistics
-- department it may not read are shown by department only
SET ROLE regress_lv_health;
SELECT depth, source_name, source_column, target_name, target_column, responsible_department, transforms
  FROM pubdata.lineage_columns('regress_lv.people', 'id_number', false, 2);
RESET ROLE;
-- the auditor walks too
SET ROLE regress_lv_auditor;
SELECT count(*) > 0 AS walks FROM pubdata.lineage_columns('regress_lv.mart', 'person_id');
RESET ROLE;
-- another department may start from a registered resource, but learns no
-- name of a relation it may not read
SET ROLE regress_lv_civil;
SELECT depth, source_name, source_column, target_name, target_column, responsible_department
  FROM pubdata.lineage_columns('regress_lv.people', 'id_number', false);
-- nor start from a table it may not read
SELECT * FROM pubdata.lineage_columns('regress_lv.mart', 'person_id');
RESET ROLE;
-- the summary becomes a resource: civil may start from it, but its input (a
-- view civil may not read) is counted, not named, and no column of it shows
SET ROLE regress_lv_stats;
SELECT pubdata.register_resource('regress_lv.summary', 'REGLV-SUM', '分区汇总', 'reglv-stats',
								 'unconditional', 'not_open', 'monthly', 1) > 0 AS registered;
RESET ROLE;
SET ROLE regress_lv_civil;
SELECT doc->'outputs'->0->'facets' ? 'columnLineage' AS has_columns,
	   doc->'run'->'facets'->'pubdata_visibility'->>'hiddenInputs' AS hidden
  FROM pubdata.lineage_openlineage('regress_lv.summary') AS doc;
SELECT count(*) AS named FROM pubdata.lineage_columns('regress_lv.summary', 'n') WHERE source_name IS NOT NULL;
RESET ROLE;
SET ROLE regress_lv_admin;
SELECT doc->'outputs'->0->'facets' ? 'columnLineage' AS has_columns
  FROM pubdata.lineage_openlineage('regress_lv.summary') AS doc;
RESET ROLE;
SET ROLE regress_lv_outsider;
SELECT * FROM pubdata.lineage_columns('regress_lv.people', 'id_number');
RESET ROLE;
-- bad input
SET ROLE regress_lv_admin;
SELECT * FROM pubdata.lineage_columns('regress_lv.people', 'no_such_column');
SELECT * FROM pubdata.lineage_columns('regress_lv.people', NULL);
SELECT * FROM pubdata.lineage_columns('regress_lv.people', 'name', true, 0);
SELECT * FROM pubdata.lineage_columns(NULL, 'name');
RESET ROLE;
-- the analysis is internal: nobody calls it directly
SET ROLE regress_lv_stats;
SELECT * FROM pubdata._lineage_view_analysis('regress_lv.by_district');
RESET ROLE;

-- OpenLineage: the output carries the column facet, inputs named as the datasets
SET ROLE regress_lv_stats;
SELECT f->>'_schemaURL' AS schema_url,
	   jsonb_object_keys(f->'fields') AS field
  FROM pubdata.lineage_openlineage('regress_lv.mart') AS doc, LATERAL (SELECT doc->'outputs'->0->'facets'->'columnLineage') x(f)
 ORDER BY 2;
SELECT k AS field, split_part(i->>'name', '.', 2) || '.' || split_part(i->>'name', '.', 3) AS input, i->>'field' AS input_field,
	   i->'transformations'->0->>'type' AS type, i->'transformations'->0->>'subtype' AS subtype,
	   (SELECT bool_or(x->>'name' = i->>'name') FROM jsonb_array_elements(doc->'inputs') x) AS is_an_input
  FROM pubdata.lineage_openlineage('regress_lv.summary') AS doc,
	   jsonb_each(doc->'outputs'->0->'facets'->'columnLineage'->'fields') f(k, v),
	   jsonb_array_elements(v->'inputFields') i
 ORDER BY 1, 2, 3, 5;
RESET ROLE;

-- DROP VIEW ends the view's edges, kept as history; CASCADE ends its dependents'
SET ROLE regress_lv_stats;
DROP MATERIALIZED VIEW regress_lv.mv;
DROP VIEW regress_lv.stg_people CASCADE;
RESET ROLE;
SELECT * FROM regress_lv.edges WHERE kind = 'view_definition';
-- the same name again is a new node with its own live edges
SET ROLE regress_lv_stats;
CREATE VIEW regress_lv.stg_people AS SELECT id_number AS person_id FROM regress_lv.people;
RESET ROLE;
SELECT * FROM regress_lv.edges WHERE target = 'regress_lv.stg_people';

-- with pubdata.lineage off (superusers only) a view records nothing; a
-- temporary view is not a node
SET pubdata.lineage = off;
CREATE VIEW regress_lv.unrecorded AS SELECT * FROM regress_lv.districts;
RESET pubdata.lineage;
SET ROLE regress_lv_stats;
CREATE TEMP VIEW temp_people AS SELECT * FROM regress_lv.districts;
RESET ROLE;
SELECT count(*) AS unrecorded FROM pubdata.lineage_edge
 WHERE target_name IN ('regress_lv.unrecorded') OR target_name LIKE 'pg_temp%';

-- folding keeps the column lineage
SET ROLE regress_lv_admin;
SELECT pubdata.lineage_compact() > 0 AS folded;
RESET ROLE;
SELECT count(*) AS observations_left FROM pubdata.lineage_observation WHERE target_name LIKE 'regress_lv.%';
SELECT target_column, source, source_column, transform FROM regress_lv.columns WHERE target = 'regress_lv.prepared_sink';

-- attack: quotes in column and view names are data in the JSON and the walk
SET ROLE regress_lv_stats;
CREATE VIEW regress_lv."v""; DROP TABLE regress_lv.people; --" AS SELECT title AS "col""umn" FROM regress_lv.districts;
CREATE TABLE regress_lv.evil_sink AS SELECT "col""umn" FROM regress_lv."v""; DROP TABLE regress_lv.people; --";
SELECT depth, source_name, source_column, target_name, target_column
  FROM pubdata.lineage_columns('regress_lv.evil_sink', 'col"umn');
RESET ROLE;
SELECT to_regclass('regress_lv.people') IS NOT NULL AS people_still_there;
