-- ---------------------------------------------------------------------------
-- The federated catalog (Art 4, 5, 9, 20): a city publishes its catalog to
-- the province by logical replication; the province holds every city's.
-- Tables: once/44_federation.sql (why they are copies keyed by city).
--
-- On a city: pubdata.publish_catalog_to_province() names the city, fills
-- pubdata_federation from the catalog and creates the publication
-- pubdata_catalog; from then on AFTER triggers on the catalog tables keep
-- the copy in step, in the same transaction.  The publication's row filters
-- send published and retired entries (and the city's divisions, approved
-- scenarios); its column lists leave out what stays in the city.
-- At the province: the DBA registers each city's subscription
-- (pubdata.add_federated_city) and subscribes (CREATE SUBSCRIPTION, README);
-- a guard on pubdata_federation lets a subscription write its city's rows
-- only.  dcat_catalog(), catalog_as_of(), pubdata_federation.catalog and
-- pubdata.province_evaluation() read every city.
-- ---------------------------------------------------------------------------

REVOKE ALL ON SCHEMA pubdata_federation FROM PUBLIC;
GRANT USAGE ON SCHEMA pubdata_federation TO pubdata_admin, pubdata_auditor, pubdata_department, pubdata_province;

-- _federation_city(): this server's city in the federation, NULL before
-- publish_catalog_to_province()
CREATE OR REPLACE FUNCTION pubdata._federation_city() RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT f.city FROM pubdata.federation f $$;
COMMENT ON FUNCTION pubdata._federation_city() IS
	'This server''s city code in the federated catalog, NULL while it publishes none (internal)';

-- _federation_base_url(): what this server's DCAT export starts its IRIs with
-- (as pubdata_dcat_catalog computes it)
CREATE OR REPLACE FUNCTION pubdata._federation_base_url() RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(NULLIF(pg_catalog.current_setting('pubdata.open_base_url', true), ''),
					'postgresql:///' OPERATOR(pg_catalog.||) pg_catalog.current_database())
$$;
COMMENT ON FUNCTION pubdata._federation_base_url() IS
	'The base IRI of this server''s open catalog: pubdata.open_base_url, or postgresql:///<database> (internal)';

-- ---------------------------------------------------------------------------
-- The copy: one function per table puts the catalog's rows (all, or one by
-- its key) under city c; rows that did not change are not rewritten, so
-- that nothing is sent for them.
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata._federation_put_city(c text) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.city AS f (city, name, base_url, license, catalog_title, publisher,
											  pubdata_version, format, updated_at)
	SELECT c, coalesce((SELECT g.name FROM pubdata.region g WHERE g.code OPERATOR(pg_catalog.=) c), c),
		   pubdata._federation_base_url(),
		   NULLIF(pg_catalog.current_setting('pubdata.open_license', true), ''),
		   NULLIF(pg_catalog.current_setting('pubdata.open_catalog_title', true), ''),
		   NULLIF(pg_catalog.current_setting('pubdata.open_publisher', true), ''),
		   (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pubdata'),
		   1, pg_catalog.now()
	ON CONFLICT (city) DO UPDATE
	   SET name = excluded.name, base_url = excluded.base_url, license = excluded.license,
		   catalog_title = excluded.catalog_title, publisher = excluded.publisher,
		   pubdata_version = excluded.pubdata_version, format = excluded.format, updated_at = excluded.updated_at
	 WHERE (f.name, f.base_url, f.license, f.catalog_title, f.publisher, f.pubdata_version, f.format)
		   IS DISTINCT FROM (excluded.name, excluded.base_url, excluded.license, excluded.catalog_title,
							 excluded.publisher, excluded.pubdata_version, excluded.format)
$$;

-- regions: all at once (a handful), each marked whether it lies in the city
CREATE OR REPLACE FUNCTION pubdata._federation_put_regions(c text) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH RECURSIVE inside(code) AS (
		SELECT g.code FROM pubdata.region g WHERE g.code OPERATOR(pg_catalog.=) c
		UNION
		SELECT g.code FROM pubdata.region g JOIN inside i ON g.parent OPERATOR(pg_catalog.=) i.code
	), src AS (
		SELECT g.code, g.name, g.level::text AS level, g.parent,
			   g.code IN (SELECT i.code FROM inside i) AS in_city
		  FROM pubdata.region g
	), gone AS (
		DELETE FROM pubdata_federation.region f
		 WHERE f.city OPERATOR(pg_catalog.=) c AND f.code NOT IN (SELECT s.code FROM src s)
	)
	INSERT INTO pubdata_federation.region AS f (city, code, name, level, parent, in_city)
	SELECT c, s.code, s.name, s.level, s.parent, s.in_city FROM src s
	ON CONFLICT (city, code) DO UPDATE
	   SET name = excluded.name, level = excluded.level, parent = excluded.parent, in_city = excluded.in_city
	 WHERE (f.name, f.level, f.parent, f.in_city) IS DISTINCT FROM
		   (excluded.name, excluded.level, excluded.parent, excluded.in_city)
$$;

CREATE OR REPLACE FUNCTION pubdata._federation_put_department(c text, dept integer) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.department AS f (city, id, code, name, region, kind, role_name,
													data_commissioner, responsible_leader, contact, created_at)
	SELECT c, d.id, d.code, d.name, d.region, d.kind::text, d.role_name, d.data_commissioner,
		   d.responsible_leader, d.contact, d.created_at
	  FROM pubdata.department d
	 WHERE dept IS NULL OR d.id OPERATOR(pg_catalog.=) dept
	ON CONFLICT (city, id) DO UPDATE
	   SET code = excluded.code, name = excluded.name, region = excluded.region, kind = excluded.kind,
		   role_name = excluded.role_name, data_commissioner = excluded.data_commissioner,
		   responsible_leader = excluded.responsible_leader, contact = excluded.contact, created_at = excluded.created_at
	 WHERE (f.code, f.name, f.region, f.kind, f.role_name, f.data_commissioner, f.responsible_leader, f.contact, f.created_at)
		   IS DISTINCT FROM (excluded.code, excluded.name, excluded.region, excluded.kind, excluded.role_name,
							 excluded.data_commissioner, excluded.responsible_leader, excluded.contact, excluded.created_at)
$$;

-- an entry, and the status its items and scenario links are filtered by
CREATE OR REPLACE FUNCTION pubdata._federation_put_resource(c text, rid bigint) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.resource AS f (city, id, code, name, summary, relation_name, provider_id,
		responsible_id, system_code, share_class, open_class, update_frequency, security_level, category,
		keywords, catalog_level, region, high_value, legal_basis, status, review_comment, version, created_at,
		updated_at, submitted_at, reviewed_at, published_at, retired_at)
	SELECT c, r.id, r.code, r.name, r.summary, r.relation_name, r.provider_id, r.responsible_id, r.system_code,
		   r.share_class::text, r.open_class::text, r.update_frequency::text, r.security_level, r.category,
		   r.keywords, r.catalog_level::text, r.region, r.high_value, r.legal_basis, r.status::text,
		   r.review_comment, r.version, r.created_at, r.updated_at, r.submitted_at, r.reviewed_at,
		   r.published_at, r.retired_at
	  FROM pubdata.resource r
	 WHERE rid IS NULL OR r.id OPERATOR(pg_catalog.=) rid
	ON CONFLICT (city, id) DO UPDATE
	   SET code = excluded.code, name = excluded.name, summary = excluded.summary,
		   relation_name = excluded.relation_name, provider_id = excluded.provider_id,
		   responsible_id = excluded.responsible_id, system_code = excluded.system_code,
		   share_class = excluded.share_class, open_class = excluded.open_class,
		   update_frequency = excluded.update_frequency, security_level = excluded.security_level,
		   category = excluded.category, keywords = excluded.keywords, catalog_level = excluded.catalog_level,
		   region = excluded.region, high_value = excluded.high_value, legal_basis = excluded.legal_basis,
		   status = excluded.status, review_comment = excluded.review_comment, version = excluded.version,
		   created_at = excluded.created_at, updated_at = excluded.updated_at,
		   submitted_at = excluded.submitted_at, reviewed_at = excluded.reviewed_at,
		   published_at = excluded.published_at, retired_at = excluded.retired_at
	 WHERE ROW(f.*) IS DISTINCT FROM ROW(excluded.*);
	UPDATE pubdata_federation.resource_item f SET entry_status = r.status
	  FROM pubdata_federation.resource r
	 WHERE f.city OPERATOR(pg_catalog.=) c AND r.city OPERATOR(pg_catalog.=) c
	   AND r.id OPERATOR(pg_catalog.=) f.resource_id
	   AND (rid IS NULL OR r.id OPERATOR(pg_catalog.=) rid)
	   AND f.entry_status OPERATOR(pg_catalog.<>) r.status;
	SELECT pubdata._federation_put_scenario_resource(c, NULL, rid);
$$;

CREATE OR REPLACE FUNCTION pubdata._federation_put_item(c text, rid bigint, col name) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.resource_item AS f (city, resource_id, column_name, attnum, title, description,
		data_type, personal, share_class, mask, is_key, state, entry_status)
	SELECT c, i.resource_id, i.column_name, i.attnum, i.title, i.description, i.data_type, i.personal::text,
		   i.share_class::text, i.mask::text, i.is_key, i.state::text,
		   coalesce((SELECT r.status::text FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) i.resource_id), 'draft')
	  FROM pubdata.resource_item i
	 WHERE (rid IS NULL OR i.resource_id OPERATOR(pg_catalog.=) rid)
	   AND (col IS NULL OR i.column_name OPERATOR(pg_catalog.=) col)
	ON CONFLICT (city, resource_id, column_name) DO UPDATE
	   SET attnum = excluded.attnum, title = excluded.title, description = excluded.description,
		   data_type = excluded.data_type, personal = excluded.personal, share_class = excluded.share_class,
		   mask = excluded.mask, is_key = excluded.is_key, state = excluded.state, entry_status = excluded.entry_status
	 WHERE ROW(f.*) IS DISTINCT FROM ROW(excluded.*)
$$;

-- a version, without what names the city's own table
CREATE OR REPLACE FUNCTION pubdata._federation_put_history(c text, rid bigint, ver integer) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.resource_history AS f (city, resource_id, version, valid_from, valid_to,
														  changed_by, entry, entry_status)
	SELECT c, h.resource_id, h.version, h.valid_from, h.valid_to, h.changed_by,
		   h.entry OPERATOR(pg_catalog.-) 'relation' OPERATOR(pg_catalog.-) 'relation_name',
		   coalesce(h.entry OPERATOR(pg_catalog.->>) 'status', 'draft')
	  FROM pubdata.resource_history h
	 WHERE (rid IS NULL OR h.resource_id OPERATOR(pg_catalog.=) rid)
	   AND (ver IS NULL OR h.version OPERATOR(pg_catalog.=) ver)
	ON CONFLICT (city, resource_id, version) DO UPDATE
	   SET valid_from = excluded.valid_from, valid_to = excluded.valid_to, changed_by = excluded.changed_by,
		   entry = excluded.entry, entry_status = excluded.entry_status
	 WHERE ROW(f.*) IS DISTINCT FROM ROW(excluded.*)
$$;

CREATE OR REPLACE FUNCTION pubdata._federation_put_scenario_resource(c text, sid integer, rid bigint) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.scenario_resource AS f (city, scenario_id, resource_id, items, masks, public)
	SELECT c, x.scenario_id, x.resource_id, x.items::text[], x.masks,
		   s.approved_at IS NOT NULL AND r.status IN ('published', 'retired')
	  FROM pubdata.scenario_resource x
	  JOIN pubdata.scenario s ON s.id OPERATOR(pg_catalog.=) x.scenario_id
	  JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) x.resource_id
	 WHERE (sid IS NULL OR x.scenario_id OPERATOR(pg_catalog.=) sid)
	   AND (rid IS NULL OR x.resource_id OPERATOR(pg_catalog.=) rid)
	ON CONFLICT (city, scenario_id, resource_id) DO UPDATE
	   SET items = excluded.items, masks = excluded.masks, public = excluded.public
	 WHERE ROW(f.*) IS DISTINCT FROM ROW(excluded.*)
$$;

CREATE OR REPLACE FUNCTION pubdata._federation_put_scenario(c text, sid integer) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.scenario AS f (city, id, code, name, purpose, proposed_by, approved,
												  approved_at, approved_by, valid_until, created_at)
	SELECT c, s.id, s.code, s.name, s.purpose, s.proposed_by, s.approved_at IS NOT NULL, s.approved_at,
		   s.approved_by, s.valid_until, s.created_at
	  FROM pubdata.scenario s
	 WHERE sid IS NULL OR s.id OPERATOR(pg_catalog.=) sid
	ON CONFLICT (city, id) DO UPDATE
	   SET code = excluded.code, name = excluded.name, purpose = excluded.purpose,
		   proposed_by = excluded.proposed_by, approved = excluded.approved, approved_at = excluded.approved_at,
		   approved_by = excluded.approved_by, valid_until = excluded.valid_until, created_at = excluded.created_at
	 WHERE ROW(f.*) IS DISTINCT FROM ROW(excluded.*);
	SELECT pubdata._federation_put_scenario_resource(c, sid, NULL);
$$;

CREATE OR REPLACE FUNCTION pubdata._federation_put_open_dataset(c text, rid bigint) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata_federation.open_dataset AS f (city, resource_id, view_name, columns, created_at,
													  refreshed_at, dropped_at)
	SELECT c, o.resource_id, o.view_name, o.columns, o.created_at, o.refreshed_at, o.dropped_at
	  FROM pubdata.open_dataset o
	 WHERE rid IS NULL OR o.resource_id OPERATOR(pg_catalog.=) rid
	ON CONFLICT (city, resource_id) DO UPDATE
	   SET view_name = excluded.view_name, columns = excluded.columns, created_at = excluded.created_at,
		   refreshed_at = excluded.refreshed_at, dropped_at = excluded.dropped_at
	 WHERE ROW(f.*) IS DISTINCT FROM ROW(excluded.*)
$$;

COMMENT ON FUNCTION pubdata._federation_put_city(text) IS 'Federated copy: this city''s row (internal)';
COMMENT ON FUNCTION pubdata._federation_put_regions(text) IS 'Federated copy: the divisions, marked in the city or not (internal)';
COMMENT ON FUNCTION pubdata._federation_put_department(text, integer) IS 'Federated copy: a department, or all (NULL) (internal)';
COMMENT ON FUNCTION pubdata._federation_put_resource(text, bigint) IS 'Federated copy: an entry, or all (NULL), with the status its items and scenario links follow (internal)';
COMMENT ON FUNCTION pubdata._federation_put_item(text, bigint, name) IS 'Federated copy: an item, an entry''s items or all (internal)';
COMMENT ON FUNCTION pubdata._federation_put_history(text, bigint, integer) IS 'Federated copy: a version of an entry without its table''s name and oid, or all (internal)';
COMMENT ON FUNCTION pubdata._federation_put_scenario(text, integer) IS 'Federated copy: a scenario, or all (internal)';
COMMENT ON FUNCTION pubdata._federation_put_scenario_resource(text, integer, bigint) IS 'Federated copy: the entries scenarios cover, marked public when both are (internal)';
COMMENT ON FUNCTION pubdata._federation_put_open_dataset(text, bigint) IS 'Federated copy: an entry''s open-data view, or all (internal)';

-- _federation_resync(c): the whole copy again, and what left the catalog
-- removed (publish_catalog_to_province; after a restore)
CREATE OR REPLACE FUNCTION pubdata._federation_resync(c text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._federation_put_city(c);
	PERFORM pubdata._federation_put_regions(c);
	DELETE FROM pubdata_federation.department f WHERE f.city OPERATOR(pg_catalog.=) c
	   AND NOT EXISTS (SELECT 1 FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) f.id);
	PERFORM pubdata._federation_put_department(c, NULL);
	DELETE FROM pubdata_federation.resource f WHERE f.city OPERATOR(pg_catalog.=) c
	   AND NOT EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) f.id);
	DELETE FROM pubdata_federation.resource_item f WHERE f.city OPERATOR(pg_catalog.=) c
	   AND NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
					   WHERE i.resource_id OPERATOR(pg_catalog.=) f.resource_id
						 AND i.column_name OPERATOR(pg_catalog.=) f.column_name);
	DELETE FROM pubdata_federation.resource_history f WHERE f.city OPERATOR(pg_catalog.=) c
	   AND NOT EXISTS (SELECT 1 FROM pubdata.resource_history h
					   WHERE h.resource_id OPERATOR(pg_catalog.=) f.resource_id
						 AND h.version OPERATOR(pg_catalog.=) f.version);
	DELETE FROM pubdata_federation.scenario f WHERE f.city OPERATOR(pg_catalog.=) c
	   AND NOT EXISTS (SELECT 1 FROM pubdata.scenario s WHERE s.id OPERATOR(pg_catalog.=) f.id);
	DELETE FROM pubdata_federation.scenario_resource f WHERE f.city OPERATOR(pg_catalog.=) c
	   AND NOT EXISTS (SELECT 1 FROM pubdata.scenario_resource x
					   WHERE x.scenario_id OPERATOR(pg_catalog.=) f.scenario_id
						 AND x.resource_id OPERATOR(pg_catalog.=) f.resource_id);
	DELETE FROM pubdata_federation.open_dataset f WHERE f.city OPERATOR(pg_catalog.=) c
	   AND NOT EXISTS (SELECT 1 FROM pubdata.open_dataset o WHERE o.resource_id OPERATOR(pg_catalog.=) f.resource_id);
	PERFORM pubdata._federation_put_item(c, NULL, NULL);
	PERFORM pubdata._federation_put_resource(c, NULL);
	PERFORM pubdata._federation_put_history(c, NULL, NULL);
	PERFORM pubdata._federation_put_scenario(c, NULL);
	PERFORM pubdata._federation_put_open_dataset(c, NULL);
END
$$;
COMMENT ON FUNCTION pubdata._federation_resync(text) IS
	'Federated copy: everything again under city c, and rows that left the catalog removed (internal)';

-- _federation_mirror(): the trigger that keeps the copy, on every catalog
-- table the province receives; nothing to do before the city is named
CREATE OR REPLACE FUNCTION pubdata._federation_mirror() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c text := pubdata._federation_city();
BEGIN
	IF c IS NULL THEN
		RETURN NULL;
	END IF;
	CASE TG_TABLE_NAME
	WHEN 'region' THEN
		PERFORM pubdata._federation_put_regions(c);
		PERFORM pubdata._federation_put_city(c);
	WHEN 'department' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			DELETE FROM pubdata_federation.department f
			 WHERE f.city OPERATOR(pg_catalog.=) c AND f.id OPERATOR(pg_catalog.=) OLD.id;
		ELSE
			PERFORM pubdata._federation_put_department(c, NEW.id);
		END IF;
	WHEN 'resource' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			DELETE FROM pubdata_federation.resource f
			 WHERE f.city OPERATOR(pg_catalog.=) c AND f.id OPERATOR(pg_catalog.=) OLD.id;
		ELSE
			PERFORM pubdata._federation_put_resource(c, NEW.id);
			PERFORM pubdata._federation_put_city(c);
		END IF;
	WHEN 'resource_item' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			DELETE FROM pubdata_federation.resource_item f
			 WHERE f.city OPERATOR(pg_catalog.=) c AND f.resource_id OPERATOR(pg_catalog.=) OLD.resource_id
			   AND f.column_name OPERATOR(pg_catalog.=) OLD.column_name;
		ELSE
			IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN	-- a renamed column: its old key goes
				DELETE FROM pubdata_federation.resource_item f
				 WHERE f.city OPERATOR(pg_catalog.=) c AND f.resource_id OPERATOR(pg_catalog.=) OLD.resource_id
				   AND f.column_name OPERATOR(pg_catalog.=) OLD.column_name
				   AND (OLD.resource_id, OLD.column_name) IS DISTINCT FROM (NEW.resource_id, NEW.column_name);
			END IF;
			PERFORM pubdata._federation_put_item(c, NEW.resource_id, NEW.column_name);
		END IF;
	WHEN 'resource_history' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			DELETE FROM pubdata_federation.resource_history f
			 WHERE f.city OPERATOR(pg_catalog.=) c AND f.resource_id OPERATOR(pg_catalog.=) OLD.resource_id
			   AND f.version OPERATOR(pg_catalog.=) OLD.version;
		ELSE
			PERFORM pubdata._federation_put_history(c, NEW.resource_id, NEW.version);
		END IF;
	WHEN 'scenario' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			DELETE FROM pubdata_federation.scenario f
			 WHERE f.city OPERATOR(pg_catalog.=) c AND f.id OPERATOR(pg_catalog.=) OLD.id;
		ELSE
			PERFORM pubdata._federation_put_scenario(c, NEW.id);
		END IF;
	WHEN 'scenario_resource' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			DELETE FROM pubdata_federation.scenario_resource f
			 WHERE f.city OPERATOR(pg_catalog.=) c AND f.scenario_id OPERATOR(pg_catalog.=) OLD.scenario_id
			   AND f.resource_id OPERATOR(pg_catalog.=) OLD.resource_id;
		ELSE
			PERFORM pubdata._federation_put_scenario_resource(c, NEW.scenario_id, NEW.resource_id);
		END IF;
	WHEN 'open_dataset' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			DELETE FROM pubdata_federation.open_dataset f
			 WHERE f.city OPERATOR(pg_catalog.=) c AND f.resource_id OPERATOR(pg_catalog.=) OLD.resource_id;
		ELSE
			PERFORM pubdata._federation_put_open_dataset(c, NEW.resource_id);
		END IF;
	END CASE;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._federation_mirror() IS
	'Trigger: keeps pubdata_federation in step with the catalog once the city is named (internal)';

CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.region
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._federation_mirror();
CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.department
	FOR EACH ROW EXECUTE FUNCTION pubdata._federation_mirror();
CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._federation_mirror();
CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._federation_mirror();
CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.resource_history
	FOR EACH ROW EXECUTE FUNCTION pubdata._federation_mirror();
CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.scenario
	FOR EACH ROW EXECUTE FUNCTION pubdata._federation_mirror();
CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.scenario_resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._federation_mirror();
CREATE OR REPLACE TRIGGER federation_mirror AFTER INSERT OR UPDATE OR DELETE ON pubdata.open_dataset
	FOR EACH ROW EXECUTE FUNCTION pubdata._federation_mirror();

-- ---------------------------------------------------------------------------
-- The guard (mostly at the province): a logical replication worker writes
-- only the rows of the city its subscription was registered for, never
-- truncates; any other writer only this server's own city's rows (pubdata's
-- copy) or, in pubdata.remove_federated_city(), a city no longer registered.
-- ENABLE ALWAYS: triggers are otherwise skipped by replication workers.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pubdata._federation_guard() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	sub name;
	allowed text;
	row_city text;
BEGIN
	SELECT s.subname INTO sub
	  FROM pg_catalog.pg_stat_subscription st
	  JOIN pg_catalog.pg_subscription s ON s.oid OPERATOR(pg_catalog.=) st.subid
	 WHERE st.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
	 LIMIT 1;
	IF TG_LEVEL OPERATOR(pg_catalog.=) 'STATEMENT' THEN
		IF sub IS NOT NULL THEN
			RAISE EXCEPTION 'subscription "%" may not truncate %', sub, TG_TABLE_NAME
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'A city''s publication sends no TRUNCATE: every city''s rows are in this table.',
					  HINT = 'Have the city publish with pubdata.publish_catalog_to_province() (publish = ''insert, update, delete'').';
		END IF;
		RETURN NULL;
	END IF;
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		row_city := OLD.city;
	ELSE
		row_city := NEW.city;
	END IF;
	IF sub IS NOT NULL THEN
		SELECT fc.city INTO allowed FROM pubdata.federated_city fc WHERE fc.subscription OPERATOR(pg_catalog.=) sub;
		IF allowed IS NULL THEN
			RAISE EXCEPTION 'subscription "%" carries no registered city', sub
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = pg_catalog.format('It sent a row of city %s for %s.', row_city, TG_TABLE_NAME),
					  HINT = 'Register the city first: SELECT pubdata.add_federated_city(code, name, subscription).';
		END IF;
	ELSE
		allowed := pubdata._federation_city();
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' AND allowed IS DISTINCT FROM row_city
		   AND NOT EXISTS (SELECT 1 FROM pubdata.federated_city fc WHERE fc.city OPERATOR(pg_catalog.=) row_city) THEN
			RETURN OLD;			-- a city no longer registered is removed
		END IF;
	END IF;
	IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' AND OLD.city IS DISTINCT FROM NEW.city THEN
		row_city := OLD.city OPERATOR(pg_catalog.||) ' -> ' OPERATOR(pg_catalog.||) NEW.city;
	END IF;
	IF row_city IS DISTINCT FROM allowed THEN
		RAISE EXCEPTION 'row of city % refused in %', coalesce(row_city, 'NULL'), TG_TABLE_NAME
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = CASE WHEN sub IS NOT NULL
								THEN pg_catalog.format('Subscription "%s" is registered for city %s only.', sub, allowed)
								ELSE pg_catalog.format('This server writes only its own city''s rows (%s).', coalesce(allowed, 'none named')) END,
				  HINT = 'Each city''s rows come from its own subscription; see pubdata.federated_city.';
	END IF;
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION pubdata._federation_guard() IS
	'Trigger on pubdata_federation: a subscription writes only its registered city''s rows and never truncates; local writers only this server''s city (internal)';

DO $guard$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['city', 'region', 'department', 'resource', 'resource_item', 'resource_history',
							 'scenario', 'scenario_resource', 'open_dataset']
	LOOP
		EXECUTE pg_catalog.format('CREATE OR REPLACE TRIGGER federation_guard BEFORE INSERT OR UPDATE OR DELETE ON pubdata_federation.%I'
								  ' FOR EACH ROW EXECUTE FUNCTION pubdata._federation_guard()', t);
		EXECUTE pg_catalog.format('CREATE OR REPLACE TRIGGER federation_guard_truncate BEFORE TRUNCATE ON pubdata_federation.%I'
								  ' FOR EACH STATEMENT EXECUTE FUNCTION pubdata._federation_guard()', t);
		EXECUTE pg_catalog.format('ALTER TABLE pubdata_federation.%I ENABLE ALWAYS TRIGGER federation_guard', t);
		EXECUTE pg_catalog.format('ALTER TABLE pubdata_federation.%I ENABLE ALWAYS TRIGGER federation_guard_truncate', t);
	END LOOP;
END
$guard$;

-- ---------------------------------------------------------------------------
-- The publication: which tables, columns and rows go to the province.
-- ---------------------------------------------------------------------------

-- _federation_publication(c): one row per published table, with its column
-- list and row filter; the one description of what a city sends
CREATE OR REPLACE FUNCTION pubdata._federation_publication()
	RETURNS TABLE (table_name name, columns name[], row_filter text)
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT t.n::name, t.cols::name[], t.f
	  FROM (VALUES
		(1, 'city', '{city,name,base_url,license,catalog_title,publisher,pubdata_version,format,updated_at}', NULL),
		(2, 'region', '{city,code,name,level,parent,in_city}', 'in_city'),
		(3, 'department', '{city,id,code,name,region,kind,data_commissioner,responsible_leader,contact,created_at}', NULL),
		(4, 'resource', '{city,id,code,name,summary,provider_id,responsible_id,system_code,share_class,open_class,'
			'update_frequency,security_level,category,keywords,catalog_level,region,high_value,legal_basis,status,'
			'review_comment,version,created_at,updated_at,submitted_at,reviewed_at,published_at,retired_at}',
			'status IN (''published'', ''retired'')'),
		(5, 'resource_item', '{city,resource_id,column_name,title,description,data_type,personal,share_class,mask,'
			'is_key,state,entry_status}',
			'entry_status IN (''published'', ''retired'') AND state OPERATOR(pg_catalog.<>) ''added'''),
		(6, 'resource_history', '{city,resource_id,version,valid_from,valid_to,entry,entry_status}',
			'entry_status IN (''published'', ''retired'')'),
		(7, 'scenario', '{city,id,code,name,purpose,proposed_by,approved,approved_at,valid_until,created_at}', 'approved'),
		(8, 'scenario_resource', '{city,scenario_id,resource_id,items,public}', 'public'),
		(9, 'open_dataset', '{city,resource_id,view_name,columns,created_at,refreshed_at,dropped_at}', NULL)
	  ) AS t(o, n, cols, f)
	 ORDER BY t.o
$$;
COMMENT ON FUNCTION pubdata._federation_publication() IS
	'What a city publishes to the province: each table of pubdata_federation with its column list and row filter (besides its own city code) (internal)';

-- Who reads the copies: the bureau and the auditor; the province's
-- replication login on a city (a member of pubdata_province) only the rows
-- the publication sends (its initial copy is a SELECT as that login)
DO $policies$
DECLARE
	p record;
BEGIN
	FOR p IN SELECT * FROM pubdata._federation_publication() LOOP
		EXECUTE pg_catalog.format('DROP POLICY IF EXISTS federation_oversight ON pubdata_federation.%I', p.table_name);
		EXECUTE pg_catalog.format('CREATE POLICY federation_oversight ON pubdata_federation.%I FOR SELECT'
								  ' TO pubdata_admin, pubdata_auditor USING (true)', p.table_name);
		EXECUTE pg_catalog.format('DROP POLICY IF EXISTS federation_province ON pubdata_federation.%I', p.table_name);
		EXECUTE pg_catalog.format('CREATE POLICY federation_province ON pubdata_federation.%I FOR SELECT'
								  ' TO pubdata_province USING (city OPERATOR(pg_catalog.=) (SELECT pubdata._federation_city()) AND (%s))',
								  p.table_name, coalesce(p.row_filter, 'true'));
	END LOOP;
END
$policies$;

-- publish_catalog_to_province(city): name the city, fill the copy, and
-- create (or bring up to date) the publication pubdata_catalog
CREATE OR REPLACE FUNCTION pubdata.publish_catalog_to_province(city text DEFAULT NULL) RETURNS name
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c text := $1;
	known text := pubdata._federation_city();
	tables text;
	pub_name CONSTANT name := 'pubdata_catalog';
BEGIN
	PERFORM pubdata._require_admin('publish the catalog to the province');
	IF c IS NULL THEN
		c := known;
	END IF;
	IF c IS NULL THEN
		SELECT pg_catalog.min(g.code) INTO c FROM pubdata.region g
		 WHERE g.level OPERATOR(pg_catalog.=) 'city' HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) 1;
		IF c IS NULL THEN
			RAISE EXCEPTION 'which city publishes this catalog?'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'pubdata.region has no single division of level city.',
					  HINT = 'Name it: SELECT pubdata.publish_catalog_to_province(''331100'').';
		END IF;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pubdata.region g WHERE g.code OPERATOR(pg_catalog.=) c) THEN
		RAISE EXCEPTION 'region "%" does not exist', c
			USING ERRCODE = 'undefined_object',
				  HINT = 'The city''s six-digit division code must be in pubdata.region; add it with pubdata.add_region().';
	END IF;
	IF known IS NOT NULL AND known OPERATOR(pg_catalog.<>) c THEN
		RAISE EXCEPTION 'this catalog is published as city %, not %', known, c
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'The province keys every entry of this server by that code.',
				  HINT = 'Publish under the same code; a new code needs the province to drop this city first.';
	END IF;
	IF EXISTS (SELECT 1 FROM pubdata.federated_city fc WHERE fc.city OPERATOR(pg_catalog.=) c) THEN
		RAISE EXCEPTION 'city % is subscribed to here', c
			USING ERRCODE = 'duplicate_object',
				  HINT = 'This server receives that city''s catalog (pubdata.federated_city); publish under this server''s own code.';
	END IF;
	IF pg_catalog.current_setting('wal_level') OPERATOR(pg_catalog.<>) 'logical' THEN
		RAISE WARNING 'wal_level is %, the province cannot subscribe yet', pg_catalog.current_setting('wal_level')
			USING HINT = 'Set wal_level = logical in postgresql.conf and restart the server.';
	END IF;
	INSERT INTO pubdata.federation (city, publication, published_by) VALUES (c, pub_name, pubdata.caller())
	ON CONFLICT (singleton) DO UPDATE SET publication = excluded.publication,
		published_by = excluded.published_by, published_at = pg_catalog.now();
	PERFORM pubdata._federation_resync(c);

	SELECT pg_catalog.string_agg(pg_catalog.format('pubdata_federation.%I (%s) WHERE (city OPERATOR(pg_catalog.=) %L%s)',
				p.table_name,
				(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(x), ', ') FROM pg_catalog.unnest(p.columns) x),
				c, coalesce(' AND ' OPERATOR(pg_catalog.||) p.row_filter, '')), ', ')
	  INTO tables FROM pubdata._federation_publication() p;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_publication p WHERE p.pubname OPERATOR(pg_catalog.=) pub_name) THEN
		EXECUTE pg_catalog.format('ALTER PUBLICATION %I SET TABLE %s', pub_name, tables);
		EXECUTE pg_catalog.format('ALTER PUBLICATION %I SET (publish = %L)', pub_name, 'insert, update, delete');
	ELSE
		EXECUTE pg_catalog.format('CREATE PUBLICATION %I FOR TABLE %s WITH (publish = %L)',
								  pub_name, tables, 'insert, update, delete');
	END IF;
	RETURN pub_name;
END
$$;
COMMENT ON FUNCTION pubdata.publish_catalog_to_province(text) IS
	'Publish this city''s catalog to the province (pubdata_admin): name the city, fill pubdata_federation, create or update the publication pubdata_catalog (row filters: published and retired entries; column lists: nothing local)';

-- add_federated_city(city, name, subscription): at the province, the one
-- subscription allowed to write a city's rows
CREATE OR REPLACE FUNCTION pubdata.add_federated_city(city text, name text, subscription name) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('register a city''s subscription');
	IF $1 IS NULL OR $1 !~ '^[0-9]{6}$' THEN
		RAISE EXCEPTION 'invalid city code "%"', $1
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A city is named by its six-digit division code, e.g. 330300.';
	END IF;
	IF coalesce(pg_catalog.btrim($2), '') OPERATOR(pg_catalog.=) '' OR coalesce($3, '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'city % needs a name and a subscription', $1
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'SELECT pubdata.add_federated_city(''330300'', ''温州市'', ''city_330300'').';
	END IF;
	IF $1 OPERATOR(pg_catalog.=) pubdata._federation_city() THEN
		RAISE EXCEPTION 'city % is this server''s own code', $1
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'This server publishes its own catalog under that code; a subscription may not write it.';
	END IF;
	INSERT INTO pubdata.federated_city (city, name, subscription, added_by) VALUES ($1, $2, $3, pubdata.caller());
	RETURN $1;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'city % or subscription "%" is already registered', $1, $3
		USING ERRCODE = 'duplicate_object', HINT = 'See SELECT * FROM pubdata.federated_city.';
END
$$;
COMMENT ON FUNCTION pubdata.add_federated_city(text, text, name) IS
	'At the province (pubdata_admin): register a city and the subscription that carries its catalog; only that subscription may write its rows';

-- remove_federated_city(city): the province drops a city and all its rows
CREATE OR REPLACE FUNCTION pubdata.remove_federated_city(city text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	sub name;
	n bigint := 0;
	k bigint;
BEGIN
	PERFORM pubdata._require_admin('remove a city from the federated catalog');
	SELECT fc.subscription INTO sub FROM pubdata.federated_city fc WHERE fc.city OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'city "%" is not registered', $1
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT * FROM pubdata.federated_city.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s WHERE s.subname OPERATOR(pg_catalog.=) sub) THEN
		RAISE EXCEPTION 'subscription "%" of city % still exists', sub, $1
			USING ERRCODE = 'object_in_use', HINT = 'The DBA drops it first: DROP SUBSCRIPTION ' || pg_catalog.quote_ident(sub) || ';';
	END IF;
	DELETE FROM pubdata.federated_city fc WHERE fc.city OPERATOR(pg_catalog.=) $1;
	DELETE FROM pubdata_federation.resource_item f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.resource_history f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.resource f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.scenario_resource f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.scenario f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.open_dataset f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.department f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.region f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM pubdata_federation.city f WHERE f.city OPERATOR(pg_catalog.=) $1;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.remove_federated_city(text) IS
	'At the province (pubdata_admin): forget a city whose subscription was dropped, with all its rows; returns the rows removed';

-- ---------------------------------------------------------------------------
-- What the province reads: every city's catalog and open catalog
-- ---------------------------------------------------------------------------

-- _federation_sight(status, share_class): may the caller see a federated
-- entry whole?  The bureau and the auditor all; departments published,
-- shared entries (as they see other departments' entries at home)
CREATE OR REPLACE FUNCTION pubdata._federation_sight(status text, share_class text) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
		OR ($1 OPERATOR(pg_catalog.=) 'published' AND $2 OPERATOR(pg_catalog.<>) 'non_shared')
$$;
COMMENT ON FUNCTION pubdata._federation_sight(text, text) IS
	'Whether the caller sees a federated catalog entry: the bureau and the auditor all, departments published shared entries (internal)';

CREATE OR REPLACE VIEW pubdata_federation.catalog AS
	SELECT r.city, c.name AS city_name, r.code, r.name, r.summary, p.code AS provider, p.name AS provider_name,
		   r.share_class, r.open_class, r.update_frequency, r.security_level, r.catalog_level, r.region,
		   r.high_value, r.status, r.version,
		   (SELECT pg_catalog.count(*) FROM pubdata_federation.resource_item i
			 WHERE i.city = r.city AND i.resource_id = r.id AND i.state NOT IN ('dropped', 'added')) AS items,
		   r.published_at, r.retired_at, r.updated_at, r.id AS resource_id
	  FROM pubdata_federation.resource r
	  LEFT JOIN pubdata_federation.city c ON c.city = r.city
	  LEFT JOIN pubdata_federation.department p ON p.city = r.city AND p.id = r.provider_id
	 WHERE r.status IN ('published', 'retired')
	   AND pubdata._federation_sight(r.status, r.share_class);
COMMENT ON VIEW pubdata_federation.catalog IS
	'The federated catalog: every city''s published and retired entries, keyed by (city, code) (a department: published shared entries)';
COMMENT ON COLUMN pubdata_federation.catalog.city IS 'six-digit division code of the city whose catalog holds the entry';
COMMENT ON COLUMN pubdata_federation.catalog.items IS 'reviewed items of the entry (not dropped)';
COMMENT ON COLUMN pubdata_federation.catalog.resource_id IS 'the entry''s id in its city';

CREATE OR REPLACE VIEW pubdata_federation.open_catalog AS
	SELECT r.city, c.name AS city_name, r.code AS dataset_code, r.name AS title, r.summary AS description,
		   d.name AS publisher, r.category AS theme, pg_catalog.array_to_string(r.keywords, '，') AS keywords,
		   r.update_frequency,
		   pg_catalog.timezone('Asia/Shanghai', GREATEST(r.updated_at, r.published_at, o.refreshed_at)) AS last_modified,
		   pg_catalog.format('pubdata_open.%I', o.view_name) AS access_view, c.base_url AS access_url,
		   r.high_value, r.open_class, o.columns::numeric AS items, r.id AS resource_id
	  FROM pubdata_federation.resource r
	  JOIN pubdata_federation.city c ON c.city = r.city
	  JOIN pubdata_federation.department d ON d.city = r.city AND d.id = r.provider_id
	  JOIN pubdata_federation.open_dataset o ON o.city = r.city AND o.resource_id = r.id
	 WHERE r.status = 'published' AND r.open_class <> 'not_open' AND o.dropped_at IS NULL
	 ORDER BY r.high_value DESC, r.city, r.code;
COMMENT ON VIEW pubdata_federation.open_catalog IS
	'The open catalog of every city in the federated catalog (Art 20, 21), high-value datasets first; the data is read at the city';
COMMENT ON COLUMN pubdata_federation.open_catalog.access_view IS 'the view to query at the city';
COMMENT ON COLUMN pubdata_federation.open_catalog.access_url IS 'the city''s open-data base IRI';

-- _dcat_datasets(base, license): the rows of dcat_catalog(): this server's
-- open catalog (with its own base IRI and licence) and every other city's
-- (with the city's), so that a dataset keeps the IRI its city gives it
CREATE OR REPLACE FUNCTION pubdata._dcat_datasets(base text, license text)
	RETURNS TABLE (dataset_code text, title text, description text, publisher text, theme text, keywords text[],
				   update_frequency text, modified text, access_view text, high_value boolean, open_class text,
				   contact_name text, contact text, department_code text, catalog_modified text, department_kind text,
				   region_code text, region_name text, issued text, catalog_issued text, base_url text, license_url text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH ds AS (
		SELECT 0 AS o, NULL::text AS city, c.dataset_code, c.title, c.description, c.publisher, c.theme, r.keywords,
			   c.update_frequency, c.last_modified, c.access_view, c.high_value, c.open_class,
			   d.name AS dname, d.data_commissioner, d.contact, d.code AS dcode, d.kind::text AS dkind,
			   g.code AS gcode, g.name AS gname, r.published_at, $1 AS base_url, $2 AS license_url
		  FROM pubdata_open.catalog c
		  JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) c.resource_id
		  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
		  LEFT JOIN pubdata.region g ON g.code OPERATOR(pg_catalog.=) r.region
		UNION ALL
		SELECT 1, f.city, f.dataset_code, f.title, f.description, f.publisher, f.theme, r.keywords,
			   f.update_frequency, f.last_modified, f.access_view, f.high_value, f.open_class,
			   d.name, d.data_commissioner, d.contact, d.code, d.kind,
			   g.code, g.name, r.published_at, f.access_url, c.license
		  FROM pubdata_federation.open_catalog f
		  JOIN pubdata_federation.city c ON c.city OPERATOR(pg_catalog.=) f.city
		  JOIN pubdata_federation.resource r ON r.city OPERATOR(pg_catalog.=) f.city AND r.id OPERATOR(pg_catalog.=) f.resource_id
		  JOIN pubdata_federation.department d ON d.city OPERATOR(pg_catalog.=) f.city AND d.id OPERATOR(pg_catalog.=) r.provider_id
		  LEFT JOIN pubdata_federation.region g ON g.city OPERATOR(pg_catalog.=) f.city AND g.code OPERATOR(pg_catalog.=) r.region
		 WHERE f.city IS DISTINCT FROM pubdata._federation_city()
	)
	SELECT ds.dataset_code, ds.title, ds.description, ds.publisher, ds.theme, ds.keywords, ds.update_frequency,
		   pg_catalog.to_char(ds.last_modified, 'YYYY-MM-DD"T"HH24:MI:SS') OPERATOR(pg_catalog.||) '+08:00',
		   ds.access_view, ds.high_value, ds.open_class,
		   ds.dname OPERATOR(pg_catalog.||) coalesce('（数据专员：' OPERATOR(pg_catalog.||) ds.data_commissioner OPERATOR(pg_catalog.||) '）', ''),
		   ds.contact, ds.dcode,
		   pg_catalog.to_char(pg_catalog.max(ds.last_modified) OVER (), 'YYYY-MM-DD"T"HH24:MI:SS') OPERATOR(pg_catalog.||) '+08:00',
		   ds.dkind, ds.gcode, ds.gname,
		   pg_catalog.to_char(pg_catalog.timezone('Asia/Shanghai', ds.published_at), 'YYYY-MM-DD"T"HH24:MI:SS') OPERATOR(pg_catalog.||) '+08:00',
		   pg_catalog.to_char(pg_catalog.timezone('Asia/Shanghai', pg_catalog.min(ds.published_at) OVER ()),
							  'YYYY-MM-DD"T"HH24:MI:SS') OPERATOR(pg_catalog.||) '+08:00',
		   ds.base_url, ds.license_url
	  FROM ds
	 ORDER BY ds.high_value DESC, ds.o, ds.city, ds.dataset_code
$$;
COMMENT ON FUNCTION pubdata._dcat_datasets(text, text) IS
	'The datasets of dcat_catalog(): this server''s open catalog and every other federated city''s, each with its own base IRI and licence (internal)';

-- province_evaluation(period_start, period_end): the cities compared on
-- what their catalogs show (Art 28 at the province)
CREATE OR REPLACE FUNCTION pubdata.province_evaluation(period_start date, period_end date)
	RETURNS TABLE (city text, city_name text, departments integer, resources_published integer,
				   resources_retired integer, published_in_period integer, updated_in_period integer,
				   resources_open integer, high_value_open integer, items_published integer,
				   open_share numeric, scenarios_approved integer, catalog_version text, rank integer)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t0 timestamptz;
	t1 timestamptz;
BEGIN
	IF period_start IS NULL OR period_end IS NULL OR period_end OPERATOR(pg_catalog.<) period_start THEN
		RAISE EXCEPTION 'invalid period % to %', period_start, period_end
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Give a start date and an end date on or after it.';
	END IF;
	t0 := pg_catalog.timezone(pubdata._timezone(), period_start::timestamp);
	t1 := pg_catalog.timezone(pubdata._timezone(), (period_end OPERATOR(pg_catalog.+) 1)::timestamp);
	RETURN QUERY
	WITH per AS (
		SELECT c.city, c.name,
			   (SELECT pg_catalog.count(*)::integer FROM pubdata_federation.department d WHERE d.city OPERATOR(pg_catalog.=) c.city) AS departments,
			   pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(pg_catalog.=) 'published')::integer AS published,
			   pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(pg_catalog.=) 'retired')::integer AS retired,
			   pg_catalog.count(*) FILTER (WHERE r.published_at OPERATOR(pg_catalog.>=) t0 AND r.published_at OPERATOR(pg_catalog.<) t1)::integer AS pub_in,
			   pg_catalog.count(*) FILTER (WHERE r.updated_at OPERATOR(pg_catalog.>=) t0 AND r.updated_at OPERATOR(pg_catalog.<) t1)::integer AS upd_in,
			   (SELECT pg_catalog.count(*)::integer FROM pubdata_federation.open_catalog o WHERE o.city OPERATOR(pg_catalog.=) c.city) AS open_n,
			   (SELECT pg_catalog.count(*)::integer FROM pubdata_federation.open_catalog o
				 WHERE o.city OPERATOR(pg_catalog.=) c.city AND o.high_value) AS hv,
			   (SELECT pg_catalog.count(*)::integer FROM pubdata_federation.resource_item i
				  JOIN pubdata_federation.resource x ON x.city OPERATOR(pg_catalog.=) i.city AND x.id OPERATOR(pg_catalog.=) i.resource_id
				 WHERE i.city OPERATOR(pg_catalog.=) c.city AND x.status OPERATOR(pg_catalog.=) 'published'
				   AND i.state NOT IN ('dropped', 'added')) AS items,
			   (SELECT pg_catalog.count(*)::integer FROM pubdata_federation.scenario s
				 WHERE s.city OPERATOR(pg_catalog.=) c.city AND s.approved) AS scen,
			   c.pubdata_version
		  FROM pubdata_federation.city c
		  LEFT JOIN pubdata_federation.resource r ON r.city OPERATOR(pg_catalog.=) c.city AND r.status IN ('published', 'retired')
		 GROUP BY c.city, c.name, c.pubdata_version
	)
	SELECT per.city, per.name, per.departments, per.published, per.retired, per.pub_in, per.upd_in, per.open_n, per.hv,
		   per.items,
		   CASE WHEN per.published OPERATOR(pg_catalog.>) 0
				THEN pg_catalog.round(per.open_n::numeric OPERATOR(pg_catalog./) per.published, 3) END,
		   per.scen, per.pubdata_version,
		   (pg_catalog.rank() OVER (ORDER BY per.published DESC, per.open_n DESC, per.hv DESC))::integer
	  FROM per
	 ORDER BY 14, 1;
END
$$;
COMMENT ON FUNCTION pubdata.province_evaluation(date, date) IS
	'At the province (pubdata_admin, pubdata_auditor): the cities compared on their federated catalogs: departments, entries published and retired, published and updated in the period, open and high-value datasets, items, approved scenarios, ranked by published then open entries';

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA pubdata_federation FROM PUBLIC;
GRANT SELECT ON pubdata_federation.city, pubdata_federation.region, pubdata_federation.department,
	pubdata_federation.resource, pubdata_federation.resource_item, pubdata_federation.resource_history,
	pubdata_federation.scenario, pubdata_federation.scenario_resource, pubdata_federation.open_dataset
	TO pubdata_admin, pubdata_auditor, pubdata_province;
GRANT SELECT ON pubdata_federation.catalog TO pubdata_admin, pubdata_auditor, pubdata_department;
GRANT SELECT ON pubdata_federation.open_catalog TO pubdata_admin, pubdata_auditor, pubdata_department;
GRANT SELECT ON pubdata.federation, pubdata.federated_city TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata._federation_sight(text, text) TO pubdata_admin, pubdata_auditor, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata._federation_city() TO pubdata_province;
GRANT EXECUTE ON FUNCTION pubdata.publish_catalog_to_province(text), pubdata.add_federated_city(text, text, name),
	pubdata.remove_federated_city(text) TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.province_evaluation(date, date) TO pubdata_admin, pubdata_auditor;
