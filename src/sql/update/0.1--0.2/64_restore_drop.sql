-- ---------------------------------------------------------------------------
-- Dump, restore and uninstall (src/sql/88_restore_drop.sql and the parts it
-- names): pg_dump no longer warns about pubdata.region, a restore re-creates
-- nothing the dump holds, and DROP EXTENSION leaves the registered tables as
-- they were before registration.
-- ---------------------------------------------------------------------------

-- A region's parent: a trigger instead of a foreign key to its own table
ALTER TABLE pubdata.region DROP CONSTRAINT region_parent_fkey;
COMMENT ON COLUMN pubdata.region.parent IS 'the division this one belongs to (a region''s code; checked by trigger region_parent)';
-- A region's parent is a region.  A trigger checks it, not a foreign key:
-- pg_dump orders the rows of a configuration table by its foreign keys, and
-- one that refers to its own table is a loop it warns about at every dump.
-- Like a foreign key's, the check runs at the end of the statement, so one
-- INSERT or COPY may bring a region and its parent in any order.
CREATE FUNCTION pubdata._region_parent_check() RETURNS trigger
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
CREATE TRIGGER region_parent AFTER INSERT OR UPDATE OF code, parent OR DELETE ON pubdata.region
	FOR EACH ROW EXECUTE FUNCTION pubdata._region_parent_check();


-- Items take their columns' numbers as they are loaded, and a restore's load
-- of the catalog needs these triggers to fire (as in 88_restore_drop.sql)
-- _item_attnum: an item's column number is its column's.  A dump restored
-- into new tables brings the numbers of the old ones, and the executor's
-- grants and masks find items by number (src/grants.c).
CREATE FUNCTION pubdata._item_attnum() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NEW.state OPERATOR(pg_catalog.<>) 'dropped' THEN
		NEW.attnum := coalesce((SELECT a.attnum FROM pubdata.resource r
								  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) r.relation::oid
								 WHERE r.id OPERATOR(pg_catalog.=) NEW.resource_id
								   AND a.attname OPERATOR(pg_catalog.=) NEW.column_name
								   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped), NEW.attnum);
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION pubdata._item_attnum() IS
	'Internal trigger: an item inserted (by registration or by a restore) takes its column''s number in the table as it is';
CREATE TRIGGER resource_item_attnum BEFORE INSERT ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._item_attnum();

-- _resource_attnums: the same when a parallel restore loads the items first
CREATE FUNCTION pubdata._resource_attnums() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	UPDATE pubdata.resource_item i SET attnum = a.attnum
	  FROM pg_catalog.pg_attribute a
	 WHERE i.resource_id OPERATOR(pg_catalog.=) NEW.id AND i.state OPERATOR(pg_catalog.<>) 'dropped'
	   AND a.attrelid OPERATOR(pg_catalog.=) NEW.relation::oid AND a.attname OPERATOR(pg_catalog.=) i.column_name
	   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	   AND i.attnum IS DISTINCT FROM a.attnum;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._resource_attnums() IS
	'Internal trigger: the items loaded before their resource (pg_restore -j) take their columns'' numbers';
CREATE TRIGGER resource_attnums AFTER INSERT ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._resource_attnums();

-- what a restore's load needs fires in it (see above)
ALTER TABLE pubdata.resource_item ENABLE ALWAYS TRIGGER resource_item_attnum;
ALTER TABLE pubdata.resource ENABLE ALWAYS TRIGGER resource_attnums;
ALTER TABLE pubdata.open_pseudonym_key ENABLE ALWAYS TRIGGER open_key_replace;
ALTER TABLE pubdata.evaluation_weight ENABLE ALWAYS TRIGGER evaluation_weight_replace;
ALTER TABLE pubdata.department ENABLE ALWAYS TRIGGER department_invalidate;
ALTER TABLE pubdata.resource ENABLE ALWAYS TRIGGER resource_invalidate;
ALTER TABLE pubdata.resource_item ENABLE ALWAYS TRIGGER resource_item_invalidate;
ALTER TABLE pubdata.share_request ENABLE ALWAYS TRIGGER share_request_invalidate;
ALTER TABLE pubdata.scenario ENABLE ALWAYS TRIGGER scenario_invalidate;
ALTER TABLE pubdata.scenario_resource ENABLE ALWAYS TRIGGER scenario_resource_invalidate;
ALTER TABLE pubdata.custom_mask ENABLE ALWAYS TRIGGER custom_mask_invalidate;
ALTER TABLE pubdata.open_pseudonym_key ENABLE ALWAYS TRIGGER open_key_invalidate;
ALTER TABLE pubdata.calendar ENABLE ALWAYS TRIGGER calendar_changed;
ALTER TABLE pubdata.calendar_year ENABLE ALWAYS TRIGGER calendar_year_changed;
ALTER TABLE pubdata.job ENABLE ALWAYS TRIGGER job_changed;

-- The DDL event trigger passes by a resource whose items are not loaded yet
-- DDL follow-up: items follow ALTER TABLE; a registered table is not dropped
-- silently.  A resource without items is one whose items a parallel restore
-- (pg_restore -j) has not loaded yet: registration gives every resource at
-- least one, and items are never deleted.
CREATE OR REPLACE FUNCTION pubdata._on_ddl_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint;
BEGIN
	FOR rid IN
		SELECT DISTINCT r.id FROM pg_catalog.pg_event_trigger_ddl_commands() c
		  JOIN pubdata.resource r ON r.relation::oid OPERATOR(pg_catalog.=) c.objid
		 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
		   AND EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id)
	LOOP
		PERFORM pubdata._sync_items(rid);
	END LOOP;
END
$$;

-- Registration refuses a table without columns, and records a view's lineage
-- _on_register / _on_retire: called by the catalog functions.  Registration
-- enforces sharing on the table, then records the sources of a view
-- (lineage).
CREATE OR REPLACE FUNCTION pubdata._on_register(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) $1) THEN
		RAISE EXCEPTION 'relation "%" has no columns',
			(SELECT r.relation_name FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1)
			USING ERRCODE = 'invalid_table_definition',
				  DETAIL = 'A resource''s data items are its table''s columns.',
				  HINT = 'Add the columns first, then register the table.';
	END IF;
	PERFORM pubdata._refresh_sharing($1);
	PERFORM pubdata._lineage_registered($1);
END
$$;

-- A registered view's lineage is recorded by registration, not by a trigger
-- on pubdata.resource (a restore's load would record it again)
DROP TRIGGER lineage_view_sources ON pubdata.resource;
DROP FUNCTION pubdata._lineage_resource_registered();
-- registering a view or materialized view as a resource records its sources
-- (called by pubdata._on_register, not by a trigger: a restore loads the
-- catalog and the dumped edges without recording anything again)
CREATE FUNCTION pubdata._lineage_registered(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel regclass := (SELECT r.relation FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1);
BEGIN
	IF rel IS NOT NULL
	   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
				   WHERE c.oid OPERATOR(pg_catalog.=) rel AND c.relkind::text IN ('v', 'm'))
	   AND NOT EXISTS (SELECT 1 FROM pubdata.lineage_edge e
					   WHERE e.target OPERATOR(pg_catalog.=) rel AND e.kind OPERATOR(pg_catalog.=) 'view_definition') THEN
		PERFORM pubdata._lineage_view_edges(rel);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_registered(bigint) IS 'Internal: a view or materialized view registered as a resource gets its view_definition edges';

REVOKE ALL ON FUNCTION pubdata._region_parent_check(), pubdata._item_attnum(), pubdata._resource_attnums(),
	pubdata._lineage_registered(bigint)
	FROM PUBLIC;
