-- ---------------------------------------------------------------------------
-- Version history: every change to an entry or its items is kept
-- ---------------------------------------------------------------------------

-- _resource_snapshot(id): the entry with its items, as JSON
CREATE FUNCTION pubdata._resource_snapshot(resource_id bigint) RETURNS jsonb
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
		'provider', (SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) r.provider_id),
		'items', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(i) OPERATOR(pg_catalog.-) 'resource_id' ORDER BY i.attnum, i.column_name)
							 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id), '[]'))
	  FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1
$$;

-- trigger: bump the version of a changed entry
CREATE FUNCTION pubdata._resource_bump() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NEW IS DISTINCT FROM OLD THEN
		NEW.version := OLD.version + 1;
		NEW.updated_at := pg_catalog.now();
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER resource_bump BEFORE UPDATE ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._resource_bump();

-- trigger: record the new version of an entry in resource_history
CREATE FUNCTION pubdata._resource_record() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' AND NEW.version OPERATOR(pg_catalog.=) OLD.version THEN
		RETURN NULL;
	END IF;
	UPDATE pubdata.resource_history h SET valid_to = pg_catalog.now()
	 WHERE h.resource_id OPERATOR(pg_catalog.=) NEW.id AND h.valid_to IS NULL;
	INSERT INTO pubdata.resource_history (resource_id, version, valid_from, changed_by, entry)
	VALUES (NEW.id, NEW.version, pg_catalog.now(), pubdata.caller(), pubdata._resource_snapshot(NEW.id))
	ON CONFLICT (resource_id, version) DO UPDATE SET entry = EXCLUDED.entry;
	RETURN NULL;
END
$$;
CREATE TRIGGER resource_record AFTER INSERT OR UPDATE ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._resource_record();

-- trigger: an item change is a change of its entry (a new version)
CREATE FUNCTION pubdata._item_touch() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN OLD.resource_id ELSE NEW.resource_id END;
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
		RETURN NULL;
	END IF;
	-- the entry itself is being deleted (its items go with it)
	IF NOT EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid) THEN
		RETURN NULL;
	END IF;
	UPDATE pubdata.resource r SET version = r.version OPERATOR(pg_catalog.+) 1, updated_at = pg_catalog.now()
	 WHERE r.id OPERATOR(pg_catalog.=) rid AND r.created_at OPERATOR(pg_catalog.<) pg_catalog.now();
	-- within the registering transaction: refresh the first version's snapshot
	UPDATE pubdata.resource_history h SET entry = pubdata._resource_snapshot(rid)
	 WHERE h.resource_id OPERATOR(pg_catalog.=) rid AND h.valid_to IS NULL;
	RETURN NULL;
END
$$;
CREATE TRIGGER resource_item_touch AFTER INSERT OR UPDATE OR DELETE ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._item_touch();

-- catalog_as_of: what the catalog said at a moment
CREATE FUNCTION pubdata.catalog_as_of(at timestamptz)
	RETURNS TABLE (code text, name text, provider text, status pubdata.resource_status,
				   share_class pubdata.share_class, open_class pubdata.open_class, version integer, entry jsonb)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT h.entry OPERATOR(pg_catalog.->>) 'code', h.entry OPERATOR(pg_catalog.->>) 'name',
		   h.entry OPERATOR(pg_catalog.->>) 'provider',
		   (h.entry OPERATOR(pg_catalog.->>) 'status')::pubdata.resource_status,
		   (h.entry OPERATOR(pg_catalog.->>) 'share_class')::pubdata.share_class,
		   (h.entry OPERATOR(pg_catalog.->>) 'open_class')::pubdata.open_class,
		   h.version, h.entry
	  FROM pubdata.resource_history h
	 WHERE h.valid_from OPERATOR(pg_catalog.<=) $1
	   AND (h.valid_to IS NULL OR h.valid_to OPERATOR(pg_catalog.>) $1)
	 ORDER BY 1
$$;
COMMENT ON FUNCTION pubdata.catalog_as_of(timestamptz) IS 'The catalog as it stood at a moment: one row per entry then in force, with its items';

-- resource_catalog: the catalog as people read it
CREATE VIEW pubdata.resource_catalog AS
	SELECT r.code, r.name, p.code AS provider, p.name AS provider_name, r.share_class, r.open_class,
		   r.update_frequency, r.security_level, r.catalog_level, r.region, r.high_value, r.status, r.version,
		   r.relation_name AS relation,
		   (SELECT pg_catalog.count(*) FROM pubdata.resource_item i
			 WHERE i.resource_id = r.id AND i.state <> 'dropped') AS items,
		   r.updated_at
	  FROM pubdata.resource r JOIN pubdata.department p ON p.id = r.provider_id;
COMMENT ON VIEW pubdata.resource_catalog IS 'The resource catalog: one row per entry with its provider, classes, status and item count';

GRANT SELECT ON pubdata.resource_catalog TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.catalog_as_of(timestamptz) TO pubdata_admin, pubdata_department, pubdata_auditor;
