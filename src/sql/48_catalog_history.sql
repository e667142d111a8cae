-- ---------------------------------------------------------------------------
-- Version history: every change to an entry or its items is kept
-- ---------------------------------------------------------------------------

-- _resource_snapshot(id): the entry with its items, as JSON
CREATE OR REPLACE FUNCTION pubdata._resource_snapshot(resource_id bigint) RETURNS jsonb
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
		'provider', (SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) r.provider_id),
		'items', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(i) OPERATOR(pg_catalog.-) 'resource_id' ORDER BY i.attnum, i.column_name)
							 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id), '[]'))
	  FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1
$$;

-- _record_version(id): the entry changed; keep the new version in resource_history.
-- Called by every catalog function that changes an entry or its items (one call, one
-- version).  Not a trigger, so that pg_dump's restore of the catalog tables does not
-- invent versions.
CREATE OR REPLACE FUNCTION pubdata._record_version(resource_id bigint) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v integer;
	snap jsonb;
BEGIN
	IF EXISTS (SELECT 1 FROM pubdata.resource_history h WHERE h.resource_id OPERATOR(pg_catalog.=) $1) THEN
		UPDATE pubdata.resource r SET version = r.version OPERATOR(pg_catalog.+) 1, updated_at = pg_catalog.now()
		 WHERE r.id OPERATOR(pg_catalog.=) $1 RETURNING r.version INTO v;
	ELSE
		SELECT r.version INTO v FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1;
	END IF;
	snap := pubdata._resource_snapshot($1);
	IF snap IS NULL THEN
		RETURN NULL;
	END IF;
	UPDATE pubdata.resource_history h SET valid_to = pg_catalog.now()
	 WHERE h.resource_id OPERATOR(pg_catalog.=) $1 AND h.valid_to IS NULL;
	INSERT INTO pubdata.resource_history (resource_id, version, valid_from, changed_by, entry)
	VALUES ($1, v, pg_catalog.now(), pubdata.caller(), snap);
	RETURN v;
END
$$;

-- catalog_as_of: what the catalog said at a moment; with the federated
-- catalog (86_federation.sql) every other city's entries too, by city
CREATE OR REPLACE FUNCTION pubdata.catalog_as_of(at timestamptz)
	RETURNS TABLE (code text, name text, provider text, status pubdata.resource_status,
				   share_class pubdata.share_class, open_class pubdata.open_class, version integer, entry jsonb,
				   city text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT h.entry OPERATOR(pg_catalog.->>) 'code', h.entry OPERATOR(pg_catalog.->>) 'name',
		   h.entry OPERATOR(pg_catalog.->>) 'provider',
		   (h.entry OPERATOR(pg_catalog.->>) 'status')::pubdata.resource_status,
		   (h.entry OPERATOR(pg_catalog.->>) 'share_class')::pubdata.share_class,
		   (h.entry OPERATOR(pg_catalog.->>) 'open_class')::pubdata.open_class,
		   h.version, h.entry, (SELECT f.city FROM pubdata.federation f)
	  FROM pubdata.resource_history h
	 WHERE h.valid_from OPERATOR(pg_catalog.<=) $1
	   AND (h.valid_to IS NULL OR h.valid_to OPERATOR(pg_catalog.>) $1)
	   -- what the caller may see whole: the bureau and the auditor everything,
	   -- a department its own entries and others' entries then published and shared
	   AND (pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
			OR h.entry OPERATOR(pg_catalog.->>) 'provider' OPERATOR(pg_catalog.=)
			   (SELECT d.code FROM pubdata.department d
				 WHERE d.id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()))
			OR (h.entry OPERATOR(pg_catalog.->>) 'status' OPERATOR(pg_catalog.=) 'published'
				AND h.entry OPERATOR(pg_catalog.->>) 'share_class' OPERATOR(pg_catalog.<>) 'non_shared'))
	UNION ALL
	-- other cities' published and retired versions (a newer city's label
	-- this version does not know reads as NULL, the entry keeps the text)
	SELECT h.entry OPERATOR(pg_catalog.->>) 'code', h.entry OPERATOR(pg_catalog.->>) 'name',
		   h.entry OPERATOR(pg_catalog.->>) 'provider',
		   (SELECT e.enumlabel::pubdata.resource_status FROM pg_catalog.pg_enum e
			 WHERE e.enumtypid OPERATOR(pg_catalog.=) 'pubdata.resource_status'::regtype
			   AND e.enumlabel OPERATOR(pg_catalog.=) (h.entry OPERATOR(pg_catalog.->>) 'status')),
		   (SELECT e.enumlabel::pubdata.share_class FROM pg_catalog.pg_enum e
			 WHERE e.enumtypid OPERATOR(pg_catalog.=) 'pubdata.share_class'::regtype
			   AND e.enumlabel OPERATOR(pg_catalog.=) (h.entry OPERATOR(pg_catalog.->>) 'share_class')),
		   (SELECT e.enumlabel::pubdata.open_class FROM pg_catalog.pg_enum e
			 WHERE e.enumtypid OPERATOR(pg_catalog.=) 'pubdata.open_class'::regtype
			   AND e.enumlabel OPERATOR(pg_catalog.=) (h.entry OPERATOR(pg_catalog.->>) 'open_class')),
		   h.version, h.entry, h.city
	  FROM pubdata_federation.resource_history h
	 WHERE h.city IS DISTINCT FROM (SELECT f.city FROM pubdata.federation f)
	   AND h.entry_status IN ('published', 'retired')
	   AND h.valid_from OPERATOR(pg_catalog.<=) $1
	   AND (h.valid_to IS NULL OR h.valid_to OPERATOR(pg_catalog.>) $1)
	   AND (pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
			OR (h.entry OPERATOR(pg_catalog.->>) 'status' OPERATOR(pg_catalog.=) 'published'
				AND h.entry OPERATOR(pg_catalog.->>) 'share_class' OPERATOR(pg_catalog.<>) 'non_shared'))
	 ORDER BY 1, 9
$$;
COMMENT ON FUNCTION pubdata.catalog_as_of(timestamptz) IS 'The catalog as it stood at a moment: one row per entry then in force, with its items (a department: its own entries and the others'' entries then published and shared); at the province also every city''s published and retired entries, by city';

-- resource_catalog: the catalog as people read it
CREATE OR REPLACE VIEW pubdata.resource_catalog AS
	SELECT r.code, r.name, p.code AS provider, p.name AS provider_name, r.share_class, r.open_class,
		   r.update_frequency, r.security_level, r.catalog_level, r.region, r.high_value, r.status, r.version,
		   r.relation_name AS relation,
		   (SELECT pg_catalog.count(*) FROM pubdata.resource_item i
			 WHERE i.resource_id = r.id AND i.state <> 'dropped') AS items,
		   r.updated_at
	  FROM pubdata.resource r JOIN pubdata.department p ON p.id = r.provider_id
	 WHERE pubdata._catalog_sight(r.id) = 'whole';
COMMENT ON VIEW pubdata.resource_catalog IS 'The resource catalog: one row per entry the querying role reads whole (a department: its own and other departments'' published shared entries), with its provider, classes, status and item count';

GRANT SELECT ON pubdata.resource_catalog TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.catalog_as_of(timestamptz) TO pubdata_admin, pubdata_department, pubdata_auditor;
