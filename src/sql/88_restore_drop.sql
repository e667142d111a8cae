-- ---------------------------------------------------------------------------
-- Dump and restore
--
-- A restore (pg_restore, or psql with a plain dump) runs CREATE EXTENSION,
-- creates the departments' tables, loads pubdata's configuration tables by
-- COPY (pg_extension_config_dump) and then replays the tables' constraints,
-- row-level security, policies and privileges exactly as they were dumped.
-- So loading the catalog must not re-create any of those: no trigger of a
-- configuration table makes DDL on INSERT, and the DDL event triggers find
-- nothing to change on a restored table.  Two things would make them act:
-- an item's column number (a dropped column leaves a gap that the restored
-- table does not have), fixed as the item or its resource is loaded; and,
-- in a parallel restore (pg_restore -j), a resource whose items are not
-- loaded yet, which _on_ddl_end passes by.
--
-- pg_restore -j loads the configuration tables in parallel and in any order
-- (a TABLE DATA entry depends on its table only).  With pubdata preloaded,
-- such a COPY runs with session_replication_role = replica (src/restore.c):
-- the foreign keys between pubdata's tables are not checked against tables
-- not loaded yet, and the triggers that react to a change stand aside.  The
-- triggers a load needs are enabled ALWAYS: cache invalidation, the
-- launcher's wake-up, an item's column number, and the replacement of what
-- CREATE EXTENSION generated (the pseudonym key, the default weights).
-- ---------------------------------------------------------------------------

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
