-- ---------------------------------------------------------------------------
-- DCAT-AP 3 export of the open catalog (Art 21): JSON-LD built with libjson-c,
-- Turtle written by src/dcat_turtle.c (the same graph)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata.dcat_catalog() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'pubdata_dcat_catalog'
	LANGUAGE C STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pubdata.dcat_catalog() IS
	'The open catalog as a DCAT-AP 3 JSON-LD document (Catalog, Dataset, Distribution, Agent; frequency, modified, contact point, keywords, theme)';

-- The same document for the open-data role, which has no right on schema pubdata
CREATE OR REPLACE VIEW pubdata_open.dcat AS
	SELECT pubdata.dcat_catalog() AS document;
COMMENT ON VIEW pubdata_open.dcat IS '开放目录的 DCAT-AP 3 JSON-LD 文档. The open catalog as a DCAT-AP 3 JSON-LD document';
COMMENT ON COLUMN pubdata_open.dcat.document IS 'DCAT-AP 3 JSON-LD 文档 document';

GRANT SELECT ON pubdata_open.dcat TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;
-- a view calls its functions with its reader's rights
GRANT EXECUTE ON FUNCTION pubdata.dcat_catalog() TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;

-- dcat_catalog(format): the same catalog as text, 'turtle' or 'jsonld'
CREATE OR REPLACE FUNCTION pubdata.dcat_catalog(format text) RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_dcat_catalog_as'
	LANGUAGE C STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pubdata.dcat_catalog(text) IS
	'The open catalog as a DCAT-AP 3 document in a serialisation: format => ''turtle'' (text/turtle, what catalogue harvesters read) or ''jsonld'' (application/ld+json); the same graph as dcat_catalog()';

-- The Turtle document for the open-data role
CREATE OR REPLACE VIEW pubdata_open.dcat_turtle AS
	SELECT pubdata.dcat_catalog('turtle') AS document;
COMMENT ON VIEW pubdata_open.dcat_turtle IS '开放目录的 DCAT-AP 3 Turtle 文档（text/turtle）. The open catalog as a DCAT-AP 3 Turtle document';
COMMENT ON COLUMN pubdata_open.dcat_turtle.document IS 'DCAT-AP 3 Turtle 文档 document';
GRANT SELECT ON pubdata_open.dcat_turtle TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.dcat_catalog(text) TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;
