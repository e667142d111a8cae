-- DCAT-AP 3 export of the open catalog: JSON-LD (built with libjson-c) and Turtle
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_dcat_admin IN ROLE pubdata_admin;
CREATE ROLE regress_dcat_dept;
CREATE ROLE regress_dcat_bi IN ROLE pubdata_open_reader;
CREATE SCHEMA regress_dcat AUTHORIZATION regress_dcat_dept;
RESET client_min_messages;

SET ROLE regress_dcat_admin;
SELECT pubdata.add_department('regress_dcat_dept', '市"交通"运输局\路政', '331100', 'administrative', 'regress_dcat_dept',
							  data_commissioner => '钱专员') > 0 AS added;
RESET ROLE;
-- a contact with a line break and markup characters
UPDATE pubdata.department SET contact = E'0578-2000000\n交通<信息>科' WHERE code = 'regress_dcat_dept';

-- titles, summaries and keywords with quotes, backslashes and control characters
SET ROLE regress_dcat_dept;
CREATE TABLE regress_dcat.bus_line (line text PRIMARY KEY, stops integer);
INSERT INTO regress_dcat.bus_line VALUES ('1路', 23);
SELECT pubdata.register_resource('regress_dcat.bus_line', 'JT-BUS-1', E'公交"线路"\\信息', 'regress_dcat_dept',
	'unconditional', 'open', 'daily', 1, summary => E'线路\t站点\n换行\u0001控制字符 "quoted" \\ back / slash',
	category => '交通出行', keywords => ARRAY[E'公交', E'"站点"', E'a\\b']) > 0 AS registered;
CREATE TABLE regress_dcat.parking (lot text PRIMARY KEY, spaces integer);
SELECT pubdata.register_resource('regress_dcat.parking', 'JT-PARK-2', '停车场', 'regress_dcat_dept',
	'unconditional', 'open', 'realtime', 1, high_value => true) > 0 AS registered;
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['JT-BUS-1', 'JT-PARK-2']) c;
RESET ROLE;
SET ROLE regress_dcat_admin;
SELECT pubdata.review_resource(c, true) FROM unnest(ARRAY['JT-BUS-1', 'JT-PARK-2']) c;
SELECT pubdata.publish_resource(c) FROM unnest(ARRAY['JT-BUS-1', 'JT-PARK-2']) c;
RESET ROLE;

-- the open-data role reads the document through pubdata_open.dcat
SET ROLE regress_dcat_bi;
CREATE TEMP TABLE regress_dcat_doc AS SELECT document AS d FROM pubdata_open.dcat;
SELECT pubdata.dcat_catalog();
RESET ROLE;

-- Catalog: @context, type, title, description, publisher (Agent with a name), datasets
SELECT jsonb_typeof(d -> '@context') AS context,
	   d ->> '@type' AS type,
	   d -> 'dct:title' ->> '@value' AS title,
	   length(d -> 'dct:description' ->> '@value') > 0 AS has_description,
	   d -> 'dct:publisher' ->> '@type' AS publisher_type,
	   d -> 'dct:publisher' -> 'foaf:name' ->> '@value' AS publisher,
	   jsonb_typeof(d -> 'dcat:dataset') AS datasets,
	   d -> '@context' ->> 'dcat' AS dcat_ns,
	   d -> 'dct:language' ->> '@id' AS language
  FROM regress_dcat_doc;

-- Dataset: mandatory title and description, publisher, frequency, modified, contact point, keywords, theme
SELECT ds ->> 'dct:identifier' AS id,
	   ds ->> '@type' AS type,
	   ds -> 'dct:title' ->> '@value' AS title,
	   ds -> 'dct:description' ->> '@value' AS description,
	   ds -> 'dct:publisher' -> 'foaf:name' ->> '@value' AS publisher,
	   ds -> 'dct:accrualPeriodicity' ->> '@id' AS frequency,
	   ds -> 'dct:modified' ->> '@type' AS modified_type,
	   ds -> 'dct:modified' ->> '@value' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$' AS modified_ok,
	   ds -> 'dcat:contactPoint' -> 'vcard:fn' ->> '@value' AS contact,
	   ds -> 'dcat:contactPoint' -> 'vcard:note' ->> '@value' AS contact_note,
	   jsonb_path_query_array(ds, '$."dcat:keyword"[*]."@value"') AS keywords,
	   ds ? 'dcat:keyword' AS has_keywords,
	   jsonb_path_query_array(ds, '$."dcat:theme"[*]."@id"') AS themes,
	   ds -> 'dct:accrualPeriodicity' ->> '@type' AS frequency_type,
	   ds -> 'dct:spatial' ->> '@id' AS spatial,
	   ds -> 'pubdata:highValue' AS high_value
  FROM regress_dcat_doc, jsonb_array_elements(d -> 'dcat:dataset') WITH ORDINALITY AS x(ds, n)
 WHERE ds ->> 'dct:identifier' LIKE 'JT-%' ORDER BY n;
-- the text survived intact, control characters included
SELECT ds -> 'dct:description' ->> '@value' = E'线路\t站点\n换行\u0001控制字符 "quoted" \\ back / slash' AS description_intact,
	   ds -> 'dct:title' ->> '@value' = E'公交"线路"\\信息' AS title_intact
  FROM regress_dcat_doc, jsonb_array_elements(d -> 'dcat:dataset') ds WHERE ds ->> 'dct:identifier' = 'JT-BUS-1';
-- high-value datasets come first
SELECT (SELECT min(n) FROM jsonb_array_elements(d -> 'dcat:dataset') WITH ORDINALITY x(ds, n) WHERE (ds ->> 'pubdata:highValue')::boolean)
	 < (SELECT min(n) FROM jsonb_array_elements(d -> 'dcat:dataset') WITH ORDINALITY x(ds, n) WHERE NOT (ds ->> 'pubdata:highValue')::boolean)
	   AS high_value_first
  FROM regress_dcat_doc;

-- the category is a concept of pubdata's own scheme with its label, in the catalog's taxonomies
SELECT t -> 'skos:prefLabel' ->> '@value' AS label, t -> 'skos:inScheme' ->> '@id' AS scheme
  FROM regress_dcat_doc, jsonb_array_elements(d -> 'dcat:dataset') ds, jsonb_array_elements(ds -> 'dcat:theme') t
 WHERE ds ->> 'dct:identifier' = 'JT-BUS-1';
SELECT jsonb_path_query_array(d, '$."dcat:themeTaxonomy"[*]."@id"') AS taxonomies,
	   d -> 'dct:language' ->> '@type' AS language_type,
	   d -> 'dct:spatial' ->> '@id' AS spatial,
	   d -> 'dct:publisher' -> 'dct:type' ->> '@id' AS publisher_type,
	   d ? 'dct:license' AS has_license, d ? 'foaf:homepage' AS has_homepage
  FROM regress_dcat_doc;

-- Distribution: accessURL, and the view to query
SELECT ds ->> 'dct:identifier' AS id, dist ->> '@type' AS type, dist -> 'dcat:accessURL' ->> '@id' AS access_url,
	   dist ->> 'pubdata:view' AS view, dist -> 'dct:format' ->> '@id' AS format,
	   dist -> 'dcatap:availability' ->> '@id' AS availability
  FROM regress_dcat_doc, jsonb_array_elements(d -> 'dcat:dataset') ds, jsonb_array_elements(ds -> 'dcat:distribution') dist
 WHERE ds ->> 'dct:identifier' LIKE 'JT-%' ORDER BY 1;
-- every dataset of the document has every mandatory property
SELECT count(*) AS datasets_missing_mandatory
  FROM regress_dcat_doc, jsonb_array_elements(d -> 'dcat:dataset') ds
 WHERE NOT (ds ? 'dct:title' AND ds ? 'dct:description' AND ds -> 'dct:publisher' ? 'foaf:name'
			AND jsonb_path_exists(ds, '$."dcat:distribution"[*]."dcat:accessURL"."@id"'));
-- as many datasets as the open catalog lists
SELECT jsonb_array_length(d -> 'dcat:dataset') = (SELECT count(*) FROM pubdata_open.catalog) AS one_per_catalog_row
  FROM regress_dcat_doc;

-- the access URL follows pubdata.open_base_url; catalog title and publisher are settings too
SET pubdata.open_base_url = 'postgresql://opendata.lishui.example:5432/lishui?sslmode=require';
SET pubdata.open_publisher = '丽水市"大数据"局';
SET pubdata.open_license = 'http://publications.europa.eu/resource/authority/licence/CC_BY_4_0';
SET pubdata.open_homepage = 'https://data.lishui.example/';
SELECT DISTINCT dist -> 'dcat:accessURL' ->> '@id' AS access_url, d -> 'dct:publisher' -> 'foaf:name' ->> '@value' AS publisher,
	   d -> 'dct:license' ->> '@id' AS license, dist -> 'dct:license' ->> '@type' AS license_type,
	   d -> 'foaf:homepage' ->> '@id' AS homepage
  FROM (SELECT pubdata.dcat_catalog() AS d) s, jsonb_array_elements(d -> 'dcat:dataset') ds, jsonb_array_elements(ds -> 'dcat:distribution') dist;
RESET pubdata.open_base_url;
RESET pubdata.open_publisher;
RESET pubdata.open_license;
RESET pubdata.open_homepage;
-- only a superuser sets them
SET ROLE regress_dcat_dept;
SET pubdata.open_base_url = 'http://evil.example/';
SET pubdata.open_license = 'http://evil.example/';
RESET ROLE;

-- the same catalog in Turtle (text/turtle), as harvesters read it; the
-- open-data role reads it through pubdata_open.dcat_turtle
SET ROLE regress_dcat_bi;
SELECT count(*) AS documents, bool_and(document LIKE E'@prefix dcat: <http://www.w3.org/ns/dcat#> .\n%') AS prefixed,
	   bool_and(document LIKE '%<postgresql:///contrib_regression#catalog> a dcat:Catalog ;%') AS has_catalog
  FROM pubdata_open.dcat_turtle;
SELECT pubdata.dcat_catalog(format => 'turtle');
RESET ROLE;
-- one dataset per JSON-LD dataset; the same document as JSON-LD text
SELECT (SELECT count(*) FROM regexp_matches(pubdata.dcat_catalog('turtle'), ' a dcat:Dataset', 'g'))
		 = jsonb_array_length(pubdata.dcat_catalog() -> 'dcat:dataset') AS same_datasets,
	   pubdata.dcat_catalog(format => 'jsonld')::jsonb = pubdata.dcat_catalog() AS same_jsonld;
-- quotes, backslashes, tabs, line breaks and control characters escaped as
-- Turtle strings; keywords one triple each; the distribution a blank node
SELECT regexp_replace((regexp_match(pubdata.dcat_catalog('turtle'), '<[^>]*?#dataset-JT-BUS-1> a dcat:Dataset.*? \] \.\n'))[1],
					  '"[0-9T:+-]+"\^\^xsd:dateTime', '"(time)"^^xsd:dateTime', 'g') AS bus_dataset;
-- bad formats
SELECT pubdata.dcat_catalog(format => 'rdf/xml');
SELECT pubdata.dcat_catalog(NULL::text);

-- retiring a dataset takes it out of the document
SET ROLE regress_dcat_dept;
SELECT pubdata.retire_resource('JT-PARK-2', '停车场改建');
RESET ROLE;
SELECT jsonb_path_query_array(pubdata.dcat_catalog(), '$."dcat:dataset"[*]."dct:identifier" ? (@ like_regex "^JT-")') AS jt_datasets;
