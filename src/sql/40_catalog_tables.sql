-- ---------------------------------------------------------------------------
-- The catalog's tables (once/40_catalog_tables.sql): the region trigger and
-- what each role may read of them.
-- ---------------------------------------------------------------------------

-- A region's parent is a region.  A trigger checks it, not a foreign key:
-- pg_dump orders the rows of a configuration table by its foreign keys, and
-- one that refers to its own table is a loop it warns about at every dump.
-- Like a foreign key's, the check runs at the end of the statement, so one
-- INSERT or COPY may bring a region and its parent in any order.
CREATE OR REPLACE FUNCTION pubdata._region_parent_check() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF TG_OP OPERATOR(pg_catalog.<>) 'DELETE' AND NEW.parent IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM pubdata.region g WHERE g.code OPERATOR(pg_catalog.=) NEW.parent) THEN
		RAISE EXCEPTION 'parent region "%" of region "%" does not exist', NEW.parent, NEW.code
			USING ERRCODE = 'foreign_key_violation', HINT = 'Add the parent region first: pubdata.add_region().';
	END IF;
	IF TG_OP OPERATOR(pg_catalog.<>) 'INSERT' AND (TG_OP OPERATOR(pg_catalog.=) 'DELETE' OR NEW.code IS DISTINCT FROM OLD.code)
	   AND EXISTS (SELECT 1 FROM pubdata.region g WHERE g.parent OPERATOR(pg_catalog.=) OLD.code) THEN
		RAISE EXCEPTION 'region "%" is the parent of other regions', OLD.code
			USING ERRCODE = 'foreign_key_violation', HINT = 'Change or remove the regions under it first.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._region_parent_check() IS 'Internal trigger: a region''s parent is a region, and a parent is not removed from under its regions';
CREATE OR REPLACE TRIGGER region_parent AFTER INSERT OR UPDATE OF code, parent OR DELETE ON pubdata.region
	FOR EACH ROW EXECUTE FUNCTION pubdata._region_parent_check();

REVOKE ALL ON ALL TABLES IN SCHEMA pubdata FROM PUBLIC;
GRANT SELECT ON pubdata.region, pubdata.department, pubdata.system, pubdata.resource,
	pubdata.resource_item, pubdata.resource_history, pubdata.data_element,
	pubdata.resource_element, pubdata.project, pubdata.project_resource
	TO pubdata_admin, pubdata_department, pubdata_auditor;
