-- ---------------------------------------------------------------------------
-- One data, one source (Art 10, 16(3)); IT projects (Art 29); DDL follow-up
-- ---------------------------------------------------------------------------

-- add_data_element: the bureau names a data element
CREATE OR REPLACE FUNCTION pubdata.add_data_element(code text, name text, description text DEFAULT NULL) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	e integer;
BEGIN
	PERFORM pubdata._require_admin('add a data element');
	INSERT INTO pubdata.data_element (code, name, description) VALUES ($1, $2, $3) RETURNING id INTO e;
	RETURN e;
EXCEPTION
	WHEN unique_violation THEN
		RAISE EXCEPTION 'data element "%" already exists', $1 USING ERRCODE = 'duplicate_object';
	WHEN check_violation THEN
		RAISE EXCEPTION 'invalid data element code "%"', $1 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use letters, digits, "_", "." and "-".';
END
$$;
COMMENT ON FUNCTION pubdata.add_data_element(text, text, text) IS 'Name a data element such as the resident identity number (pubdata_admin)';

-- declare_element: a resource carries a data element, as its source or as a collection
CREATE OR REPLACE FUNCTION pubdata.declare_element(resource text, element text, item name DEFAULT NULL,
										authoritative boolean DEFAULT false, legal_basis text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource := pubdata._resource_for_edit($1, 'declare elements of');
	e pubdata.data_element;
	src record;
BEGIN
	SELECT * INTO e FROM pubdata.data_element x WHERE x.code OPERATOR(pg_catalog.=) $2;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'data element "%" does not exist', $2
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT code, name FROM pubdata.data_element; the bureau adds new ones.';
	END IF;
	IF $3 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
									   WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.column_name OPERATOR(pg_catalog.=) $3) THEN
		RAISE EXCEPTION 'resource "%" has no item "%"', $1, $3 USING ERRCODE = 'undefined_column';
	END IF;
	IF $4 THEN
		SELECT x.code, d.code AS dept, pubdata._catalog_sight(x.id) IS NOT NULL AS seen INTO src
		  FROM pubdata.resource_element re JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) re.resource_id
		  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
		 WHERE re.element_id OPERATOR(pg_catalog.=) e.id AND re.authoritative AND x.id OPERATOR(pg_catalog.<>) r.id;
		IF FOUND AND src.seen THEN
			RAISE EXCEPTION 'data element "%" already has an authoritative source: resource "%" of department "%"', $2, src.code, src.dept
				USING ERRCODE = 'unique_violation',
					  DETAIL = 'Article 10: one data, one source.',
					  HINT = 'Declare this resource as a collection with a legal basis, or obtain the data by sharing from the source.';
		ELSIF FOUND THEN
			-- another department's unpublished entry: its code stays the provider's
			RAISE EXCEPTION 'data element "%" already has an authoritative source in an unpublished catalog entry of department "%"', $2, src.dept
				USING ERRCODE = 'unique_violation',
					  DETAIL = 'Article 10: one data, one source.',
					  HINT = 'Declare this resource as a collection with a legal basis, or obtain the data by sharing once the source is published.';
		END IF;
	ELSE
		-- a collection of an element that is already shared elsewhere needs a legal basis (Art 16(3))
		SELECT x.code, d.code AS dept, pubdata._catalog_sight(x.id) IS NOT NULL AS seen INTO src
		  FROM pubdata.resource_element re JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) re.resource_id
		  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
		 WHERE re.element_id OPERATOR(pg_catalog.=) e.id AND x.id OPERATOR(pg_catalog.<>) r.id
		   AND x.share_class OPERATOR(pg_catalog.<>) 'non_shared' AND x.status OPERATOR(pg_catalog.<>) 'retired'
		 ORDER BY re.authoritative DESC, x.id LIMIT 1;
		IF FOUND AND src.seen AND coalesce(pg_catalog.btrim($5), '') OPERATOR(pg_catalog.=) '' THEN
			RAISE EXCEPTION 'data element "%" is already shared by resource "%" of department "%"', $2, src.code, src.dept
				USING ERRCODE = 'unique_violation',
					  DETAIL = 'Article 16(3): data obtainable by sharing is not collected again.',
					  HINT = pg_catalog.format('Request it with pubdata.request_share(%L, ...), or pass legal_basis if a law requires your own collection.', src.code);
		ELSIF FOUND AND coalesce(pg_catalog.btrim($5), '') OPERATOR(pg_catalog.=) '' THEN
			-- another department's unpublished entry: its code stays the provider's
			RAISE EXCEPTION 'data element "%" is catalogued by department "%" in an entry not yet published', $2, src.dept
				USING ERRCODE = 'unique_violation',
					  DETAIL = 'Article 16(3): data obtainable by sharing is not collected again.',
					  HINT = 'Request it once the entry is published, or pass legal_basis if a law requires your own collection.';
		END IF;
	END IF;
	INSERT INTO pubdata.resource_element (resource_id, element_id, item, authoritative, legal_basis)
	VALUES (r.id, e.id, $3, coalesce($4, false), NULLIF(pg_catalog.btrim($5), ''))
	ON CONFLICT (resource_id, element_id) DO UPDATE
		SET item = EXCLUDED.item, authoritative = EXCLUDED.authoritative, legal_basis = EXCLUDED.legal_basis;
END
$$;
COMMENT ON FUNCTION pubdata.declare_element(text, text, name, boolean, text) IS
	'Declare that a resource carries a data element: as its one authoritative source, or as a collection (needs a legal basis when the element is already shared)';

-- element_source: the authoritative source of each element
-- (as pubdata.resource_directory: an entry the caller may not see gives no
-- source; of another department's non-shared entry, no item)
CREATE OR REPLACE VIEW pubdata.element_source WITH (security_barrier) AS
	SELECT e.code AS element, e.name,
		   CASE WHEN s.sight IS NOT NULL THEN r.code END AS source_resource,
		   CASE WHEN s.sight IS NOT NULL THEN d.code END AS source_department,
		   CASE WHEN s.sight OPERATOR(pg_catalog.=) 'whole' THEN re.item END AS item
	  FROM pubdata.data_element e
	  LEFT JOIN pubdata.resource_element re ON re.element_id OPERATOR(pg_catalog.=) e.id AND re.authoritative
	  LEFT JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) re.resource_id
	  LEFT JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
	  LEFT JOIN LATERAL (SELECT pubdata._catalog_sight(r.id) AS sight) s ON true;
COMMENT ON VIEW pubdata.element_source IS
	'Each data element and its single authoritative source resource (one data, one source); a source the querying role may not see (another department''s unpublished entry) shows as NULL';

-- register_project: a department registers an IT project and the catalog entries it will produce
CREATE OR REPLACE FUNCTION pubdata.register_project(code text, name text, resources text[]) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	p integer;
BEGIN
	IF $3 IS NULL OR pg_catalog.cardinality($3) OPERATOR(pg_catalog.=) 0 THEN
		RAISE EXCEPTION 'project "%" names no catalog entries', $1
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Article 29: a project''s data catalog is a prerequisite of its approval.',
				  HINT = 'List the resource codes the project will produce.';
	END IF;
	INSERT INTO pubdata.project (code, name, department_id) VALUES ($1, $2, pubdata.current_department())
	RETURNING id INTO p;
	INSERT INTO pubdata.project_resource (project_id, resource_code) SELECT DISTINCT p, c FROM pg_catalog.unnest($3) c;
	RETURN p;
EXCEPTION
	WHEN unique_violation THEN
		RAISE EXCEPTION 'project "%" already exists', $1 USING ERRCODE = 'duplicate_object';
	WHEN check_violation THEN
		RAISE EXCEPTION 'invalid project code "%"', $1 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use letters, digits, "_", "." and "-".';
END
$$;
COMMENT ON FUNCTION pubdata.register_project(text, text, text[]) IS 'Register an IT project of the calling department with the resource codes it will catalog (Art 29)';

-- _project_gate: approve or accept a project when its catalog entries are ready
CREATE OR REPLACE FUNCTION pubdata._project_gate(code text, target pubdata.project_status) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	pr pubdata.project;
	missing text;
	need pubdata.resource_status[];
BEGIN
	PERFORM pubdata._require_admin(pg_catalog.format('%s projects', CASE WHEN $2 OPERATOR(pg_catalog.=) 'approved' THEN 'approve' ELSE 'accept' END));
	SELECT * INTO pr FROM pubdata.project x WHERE x.code OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'project "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF ($2 OPERATOR(pg_catalog.=) 'approved' AND pr.status OPERATOR(pg_catalog.<>) 'registered')
	   OR ($2 OPERATOR(pg_catalog.=) 'accepted' AND pr.status OPERATOR(pg_catalog.<>) 'approved') THEN
		RAISE EXCEPTION 'project "%" is %', $1, pr.status USING ERRCODE = 'object_not_in_prerequisite_state',
			HINT = 'A project is approved once registered, and accepted once approved.';
	END IF;
	need := CASE WHEN $2 OPERATOR(pg_catalog.=) 'approved' THEN ARRAY['submitted', 'approved', 'published']::pubdata.resource_status[]
				 ELSE ARRAY['published']::pubdata.resource_status[] END;
	SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s)', pr2.resource_code, coalesce(r.status::text, 'not registered')), ', ' ORDER BY pr2.resource_code)
	  INTO missing
	  FROM pubdata.project_resource pr2
	  LEFT JOIN pubdata.resource r ON r.code OPERATOR(pg_catalog.=) pr2.resource_code
	 WHERE pr2.project_id OPERATOR(pg_catalog.=) pr.id AND (r.id IS NULL OR NOT r.status OPERATOR(pg_catalog.=) ANY (need));
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'project "%" cannot be %: catalog entries not ready: %', $1, $2, missing
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = CASE WHEN $2 OPERATOR(pg_catalog.=) 'approved'
							THEN 'Article 29: approval needs the project''s catalog entries compiled and submitted.'
							ELSE 'Article 29: acceptance needs the project''s catalog entries published.' END,
				  HINT = 'Register, submit and have the entries reviewed first.';
	END IF;
	UPDATE pubdata.project x SET status = $2,
		approved_at = CASE WHEN $2 OPERATOR(pg_catalog.=) 'approved' THEN pg_catalog.now() ELSE x.approved_at END,
		accepted_at = CASE WHEN $2 OPERATOR(pg_catalog.=) 'accepted' THEN pg_catalog.now() ELSE x.accepted_at END
	 WHERE x.id OPERATOR(pg_catalog.=) pr.id;
END
$$;

CREATE OR REPLACE FUNCTION pubdata.approve_project(code text) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata._project_gate($1, 'approved') $$;
COMMENT ON FUNCTION pubdata.approve_project(text) IS 'Approve an IT project; its catalog entries must be submitted or further (pubdata_admin)';
CREATE OR REPLACE FUNCTION pubdata.accept_project(code text) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata._project_gate($1, 'accepted') $$;
COMMENT ON FUNCTION pubdata.accept_project(text) IS 'Accept an IT project; its catalog entries must be published (pubdata_admin)';

-- DDL follow-up: items follow ALTER TABLE; new partitions of a registered
-- table are governed at once; a registered table is not dropped silently.  A resource without items is one whose items a parallel restore
-- (pg_restore -j) has not loaded yet: registration gives every resource at
-- least one, and items are never deleted.
CREATE OR REPLACE FUNCTION pubdata._on_ddl_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint;
	bad text;
BEGIN
	FOR rid IN
		SELECT DISTINCT r.id FROM pg_catalog.pg_event_trigger_ddl_commands() c
		  JOIN pubdata.resource r ON r.relation::oid OPERATOR(pg_catalog.=) c.objid
		 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
		   AND EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id)
	LOOP
		PERFORM pubdata._sync_items(rid);
	END LOOP;
	-- a partition created in (CREATE TABLE ... PARTITION OF) or attached to a
	-- registered table, or changed, is governed as the table's from now on;
	-- its row-level security is not turned off (the guard below would not
	-- see it: this trigger fires first and would turn it on again)
	IF NOT pubdata._internal_ddl() THEN
		SELECT r.code INTO bad FROM pg_catalog.pg_event_trigger_ddl_commands() c
		  JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) c.objid
		  JOIN pubdata.resource r ON r.id IN (SELECT pubdata._resources_of(c.objid))
		 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
		   AND c.command_tag OPERATOR(pg_catalog.=) 'ALTER TABLE' AND k.relispartition
		   AND k.relkind IN ('r', 'p') AND NOT k.relrowsecurity
		 LIMIT 1;
		IF bad IS NOT NULL THEN
			IF NOT pubdata._ddl_exempt() THEN
				RAISE EXCEPTION 'row-level security of resource "%" cannot be disabled', bad
					USING ERRCODE = 'insufficient_privilege',
						  DETAIL = 'The table is a partition of the resource''s table; its row-level security keeps it the provider''s alone.',
						  HINT = 'Read and share the partition''s rows through the resource''s table.';
			END IF;
		END IF;
		FOR rid IN
			SELECT DISTINCT r.id FROM pg_catalog.pg_event_trigger_ddl_commands() c
			  JOIN pubdata.resource r ON r.id IN (SELECT pubdata._resources_of(c.objid))
			  JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) r.relation::oid
			 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
			   AND c.object_type IN ('table', 'foreign table') AND k.relkind OPERATOR(pg_catalog.=) 'p'
			 ORDER BY r.id
		LOOP
			PERFORM pubdata._govern_partitions(rid);
		END LOOP;
	END IF;
END
$$;
DROP EVENT TRIGGER IF EXISTS pubdata_ddl_end;
CREATE EVENT TRIGGER pubdata_ddl_end ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'CREATE VIEW', 'CREATE TABLE',
				 'CREATE FOREIGN TABLE')
	EXECUTE FUNCTION pubdata._on_ddl_end();

CREATE OR REPLACE FUNCTION pubdata._on_sql_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT x.id, x.code, x.status, o.object_identity FROM pg_catalog.pg_event_trigger_dropped_objects() o
		  JOIN pubdata.resource x ON x.relation::oid OPERATOR(pg_catalog.=) o.objid
		 WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass AND o.objsubid OPERATOR(pg_catalog.=) 0
	LOOP
		IF r.status OPERATOR(pg_catalog.<>) 'retired' THEN
			RAISE EXCEPTION 'cannot drop % because it is registered as public-data resource "%"', r.object_identity, r.code
				USING ERRCODE = 'dependent_objects_still_exist',
					  HINT = pg_catalog.format('Retire it first: SELECT pubdata.retire_resource(%L, ''reason'');', r.code);
		END IF;
		UPDATE pubdata.resource x SET relation = NULL WHERE x.id OPERATOR(pg_catalog.=) r.id;
	END LOOP;
END
$$;
DROP EVENT TRIGGER IF EXISTS pubdata_sql_drop;
CREATE EVENT TRIGGER pubdata_sql_drop ON sql_drop
	EXECUTE FUNCTION pubdata._on_sql_drop();

GRANT SELECT ON pubdata.element_source TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.declare_element(text, text, name, boolean, text),
	pubdata.register_project(text, text, text[]) TO pubdata_department, pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.add_data_element(text, text, text), pubdata.approve_project(text),
	pubdata.accept_project(text) TO pubdata_admin;
