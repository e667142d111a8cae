-- ---------------------------------------------------------------------------
-- Catalog API: regions, departments, systems, resources and their workflow
-- ---------------------------------------------------------------------------

-- add_region: the bureau adds a division (e.g. a township) to the region table
CREATE OR REPLACE FUNCTION pubdata.add_region(code text, name text, level text, parent text DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('add a region');
	IF $1 IS NULL OR $1 !~ '^[0-9]{6}$' THEN
		RAISE EXCEPTION 'invalid region code "%"', $1
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A region code is the six-digit administrative division code, e.g. 331102.';
	END IF;
	IF $4 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pubdata.region r WHERE r.code OPERATOR(pg_catalog.=) $4) THEN
		RAISE EXCEPTION 'parent region "%" does not exist', $4
			USING ERRCODE = 'undefined_object', HINT = 'Add the parent region first.';
	END IF;
	INSERT INTO pubdata.region (code, name, level, parent)
	VALUES ($1, $2, pubdata._check_enum($3, 'pubdata.region_level', 'region level')::pubdata.region_level, $4);
	RETURN $1;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'region "%" already exists', $1
		USING ERRCODE = 'duplicate_object', HINT = 'See SELECT * FROM pubdata.region.';
END
$$;
COMMENT ON FUNCTION pubdata.add_region(text, text, text, text) IS 'Add an administrative division (pubdata_admin)';

-- add_department: the bureau maps a department to its role
CREATE OR REPLACE FUNCTION pubdata.add_department(code text, name text, region text, kind text, role_name name,
									   data_commissioner text DEFAULT NULL, responsible_leader text DEFAULT NULL)
	RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d integer;
BEGIN
	PERFORM pubdata._require_admin('add a department');
	IF NOT EXISTS (SELECT 1 FROM pubdata.region r WHERE r.code OPERATOR(pg_catalog.=) $3) THEN
		RAISE EXCEPTION 'region "%" does not exist', $3
			USING ERRCODE = 'undefined_object',
				  HINT = 'Use a code from SELECT code, name FROM pubdata.region, or add it with pubdata.add_region().';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) $5) THEN
		RAISE EXCEPTION 'role "%" does not exist', $5
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create the department''s role first: CREATE ROLE ... LOGIN IN ROLE pubdata_department.';
	END IF;
	IF EXISTS (SELECT 1 FROM pubdata.department x WHERE x.code OPERATOR(pg_catalog.=) $1) THEN
		RAISE EXCEPTION 'department "%" already exists', $1
			USING ERRCODE = 'duplicate_object', HINT = 'Department codes are unique; see pubdata.department.';
	END IF;
	IF EXISTS (SELECT 1 FROM pubdata.department x WHERE x.role_name OPERATOR(pg_catalog.=) $5) THEN
		RAISE EXCEPTION 'role "%" already acts for department "%"', $5,
			(SELECT x.code FROM pubdata.department x WHERE x.role_name OPERATOR(pg_catalog.=) $5)
			USING ERRCODE = 'duplicate_object', HINT = 'Each department has its own role.';
	END IF;
	INSERT INTO pubdata.department (code, name, region, kind, role_name, data_commissioner, responsible_leader)
	VALUES ($1, $2, $3, pubdata._check_enum($4, 'pubdata.department_kind', 'department kind')::pubdata.department_kind,
			$5, $6, $7)
	RETURNING id INTO d;
	-- the role acts as a department: it joins the group role
	IF NOT pg_catalog.pg_has_role($5, 'pubdata_department', 'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT pubdata_department TO %I', $5);
	END IF;
	RETURN d;
END
$$;
COMMENT ON FUNCTION pubdata.add_department(text, text, text, text, name, text, text) IS
	'Register a department and map it to its role, which joins pubdata_department (pubdata_admin)';

-- add_system: a system and its city-level responsible department (Art 8)
CREATE OR REPLACE FUNCTION pubdata.add_system(code text, name text, department text, description text DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('add a system');
	INSERT INTO pubdata.system (code, name, department_id, description)
	VALUES ($1, $2, pubdata.department_id($3), $4);
	RETURN $1;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'system "%" already exists', $1 USING ERRCODE = 'duplicate_object';
END
$$;
COMMENT ON FUNCTION pubdata.add_system(text, text, text, text) IS 'Register a system and its city-level responsible department (pubdata_admin)';

-- _resource_for_edit: lock a resource the caller may edit, or raise
CREATE OR REPLACE FUNCTION pubdata._resource_for_edit(code text, action text)
	RETURNS pubdata.resource
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.code OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	-- another department's unpublished entry is not there for the caller
	IF NOT FOUND OR pubdata._catalog_sight(r.id) IS NULL THEN
		RAISE EXCEPTION 'resource "%" does not exist', $1
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT code, name FROM pubdata.resource.';
	END IF;
	IF NOT pubdata.is_admin()
	   AND pubdata.department_of(pubdata.caller()) IS DISTINCT FROM r.provider_id THEN
		RAISE EXCEPTION 'permission denied to % resource "%"', $2, $1
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('The resource is provided by department "%s".',
							(SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) r.provider_id)),
				  HINT = 'Only the providing department (or pubdata_admin) may do this.';
	END IF;
	RETURN r;
END
$$;

-- _sync_items: make the items of a resource match its relation's columns
CREATE OR REPLACE FUNCTION pubdata._sync_items(resource_id bigint, quiet boolean DEFAULT false)
	RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel oid;
	rcode text;
	it record;
	att record;
	changes integer := 0;
BEGIN
	SELECT r.relation::oid, r.code INTO rel, rcode FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1;
	IF rel IS NULL THEN
		RETURN 0;
	END IF;
	-- items whose column is gone: renamed (same attnum, new name) or dropped
	FOR it IN SELECT i.* FROM pubdata.resource_item i
			   WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.state OPERATOR(pg_catalog.<>) 'dropped'
				 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
								  WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attname OPERATOR(pg_catalog.=) i.column_name
									AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
	LOOP
		SELECT a.attname INTO att FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.=) it.attnum AND NOT a.attisdropped
		   AND NOT EXISTS (SELECT 1 FROM pubdata.resource_item j
							WHERE j.resource_id OPERATOR(pg_catalog.=) $1 AND j.column_name OPERATOR(pg_catalog.=) a.attname);
		IF FOUND THEN
			UPDATE pubdata.resource_item i SET column_name = att.attname
			 WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.column_name OPERATOR(pg_catalog.=) it.column_name;
			IF NOT quiet THEN
				RAISE NOTICE 'pubdata: item "%" of resource "%" follows its column, renamed to "%"', it.column_name, rcode, att.attname;
			END IF;
		ELSE
			UPDATE pubdata.resource_item i SET state = 'dropped', attnum = NULL
			 WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.column_name OPERATOR(pg_catalog.=) it.column_name;
			RAISE WARNING 'pubdata: column "%" of resource "%" was dropped; its catalog item is marked dropped', it.column_name, rcode
				USING HINT = 'Review the resource''s items; a published resource''s users may depend on the item.';
		END IF;
		changes := changes + 1;
	END LOOP;
	-- columns without an item: new items to be described
	FOR att IN SELECT a.attname, a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod) AS typ,
					  pubdata._mask_comment_own(pg_catalog.col_description(rel, a.attnum)) AS descr
				 FROM pg_catalog.pg_attribute a
				WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
				ORDER BY a.attnum
	LOOP
		UPDATE pubdata.resource_item i
		   SET attnum = att.attnum, data_type = att.typ,
			   state = CASE WHEN i.state OPERATOR(pg_catalog.=) 'dropped' THEN 'added'::pubdata.item_state ELSE i.state END
		 WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.column_name OPERATOR(pg_catalog.=) att.attname
		   AND (i.attnum IS DISTINCT FROM att.attnum OR i.data_type OPERATOR(pg_catalog.<>) att.typ
				OR i.state OPERATOR(pg_catalog.=) 'dropped');
		IF NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
						WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.column_name OPERATOR(pg_catalog.=) att.attname) THEN
			INSERT INTO pubdata.resource_item (resource_id, column_name, attnum, title, description, data_type, state)
			VALUES ($1, att.attname, att.attnum, coalesce(att.descr, att.attname::text), att.descr, att.typ,
					CASE WHEN quiet THEN 'current'::pubdata.item_state ELSE 'added'::pubdata.item_state END);
			IF NOT quiet THEN
				RAISE NOTICE 'pubdata: new column "%" of resource "%" is catalogued as an item to be described', att.attname, rcode
					USING HINT = 'Describe it with pubdata.set_item().';
			END IF;
			changes := changes + 1;
		END IF;
	END LOOP;
	IF changes OPERATOR(pg_catalog.>) 0 AND NOT quiet THEN
		PERFORM pubdata._record_version($1);
	END IF;
	RETURN changes;
END
$$;

-- register_resource: a department turns a table it owns into a catalog entry
CREATE OR REPLACE FUNCTION pubdata.register_resource(relation regclass, code text, name text, provider text,
										  share_class text, open_class text, update_frequency text,
										  security_level integer, legal_basis text DEFAULT NULL,
										  summary text DEFAULT NULL, category text DEFAULT NULL,
										  catalog_level text DEFAULT 'city', high_value boolean DEFAULT false,
										  keywords text[] DEFAULT '{}', responsible text DEFAULT NULL,
										  system text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	prov pubdata.department;
	caller_dept integer := pubdata.department_of(pubdata.caller());
	cls pg_catalog.pg_class;
	existing text;
	rid bigint;
	lvl pubdata.catalog_level;
	reg text;
BEGIN
	IF $1 IS NULL OR $2 IS NULL OR $3 IS NULL OR $4 IS NULL THEN
		RAISE EXCEPTION 'relation, code, name and provider are required'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO prov FROM pubdata.department d WHERE d.code OPERATOR(pg_catalog.=) $4;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'department "%" does not exist', $4
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT code, name FROM pubdata.department.';
	END IF;
	IF caller_dept IS DISTINCT FROM prov.id AND NOT pubdata.is_admin() THEN
		RAISE EXCEPTION 'permission denied to register a resource for department "%"', $4
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" does not act for that department.', pubdata.caller()),
				  HINT = 'A department registers its own tables: SET ROLE to the department''s role.';
	END IF;
	SELECT * INTO cls FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1::oid;
	IF cls.relkind NOT IN ('r', 'p', 'v', 'm') THEN
		RAISE EXCEPTION '"%" is not a table, view or materialized view', $1
			USING ERRCODE = 'wrong_object_type', HINT = 'Register the table that holds the data.';
	END IF;
	IF cls.relpersistence OPERATOR(pg_catalog.=) 't' THEN
		RAISE EXCEPTION '"%" is a temporary table', $1
			USING ERRCODE = 'wrong_object_type', HINT = 'Register a permanent table.';
	END IF;
	IF cls.relnamespace IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pubdata'::regnamespace) THEN
		RAISE EXCEPTION '"%" is a system or pubdata relation', $1
			USING ERRCODE = 'wrong_object_type', HINT = 'Register a table of the department''s own schema.';
	END IF;
	IF NOT pg_catalog.pg_has_role(prov.role_name, cls.relowner, 'USAGE')
	   OR NOT pg_catalog.pg_has_role(pubdata.caller(), cls.relowner, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to register "%": it is owned by role "%"', $1, pg_catalog.pg_get_userbyid(cls.relowner)
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('The providing department''s role "%s" must own the table.', prov.role_name),
				  HINT = 'A department registers the tables it owns; ask the owner to register it.';
	END IF;
	SELECT r.code INTO existing FROM pubdata.resource r WHERE r.relation OPERATOR(pg_catalog.=) $1;
	IF FOUND THEN
		RAISE EXCEPTION '"%" is already registered as resource "%"', $1, existing
			USING ERRCODE = 'duplicate_object', HINT = 'Edit that resource, or retire it first.';
	END IF;
	IF EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.code OPERATOR(pg_catalog.=) $2) THEN
		RAISE EXCEPTION 'resource code "%" is already in use', $2
			USING ERRCODE = 'duplicate_object', HINT = 'Resource codes are unique across the catalog; choose another.';
	END IF;
	IF $2 !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid resource code "%"', $2
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use letters, digits, "_", "." and "-", starting with a letter or digit, at most 63 characters.';
	END IF;
	IF $5 OPERATOR(pg_catalog.=) 'non_shared' AND coalesce(pg_catalog.btrim($9), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'a non-shared resource needs a legal basis'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Article 18(3): data is non-shared only where a law or regulation says so.',
				  HINT = 'Pass legal_basis => ''the law and article'' or choose share_class restricted.';
	END IF;
	IF $8 IS NULL OR $8 NOT BETWEEN 1 AND 4 THEN
		RAISE EXCEPTION 'invalid security level %', coalesce($8::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Security levels are 1 (lowest) to 4 (highest).';
	END IF;
	lvl := pubdata._check_enum(coalesce($12, 'city'), 'pubdata.catalog_level', 'catalog level')::pubdata.catalog_level;
	reg := prov.region;
	IF lvl OPERATOR(pg_catalog.=) 'city' AND (SELECT g.level FROM pubdata.region g WHERE g.code OPERATOR(pg_catalog.=) reg) OPERATOR(pg_catalog.=) 'county' THEN
		lvl := 'county';
	END IF;
	IF $16 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pubdata.system s WHERE s.code OPERATOR(pg_catalog.=) $16) THEN
		RAISE EXCEPTION 'system "%" does not exist', $16
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT code, name FROM pubdata.system.';
	END IF;

	INSERT INTO pubdata.resource (code, name, summary, relation, relation_name, provider_id, responsible_id,
								  system_code, share_class, open_class, update_frequency, security_level,
								  category, keywords, catalog_level, region, high_value, legal_basis)
	VALUES ($2, $3, $10, $1, pg_catalog.format('%I.%I', cls.relnamespace::regnamespace::text, cls.relname), prov.id,
			CASE WHEN $15 IS NULL THEN prov.id ELSE pubdata.department_id($15) END, $16,
			pubdata._check_enum($5, 'pubdata.share_class', 'share class')::pubdata.share_class,
			pubdata._check_enum($6, 'pubdata.open_class', 'open class')::pubdata.open_class,
			pubdata._check_enum($7, 'pubdata.update_frequency', 'update frequency')::pubdata.update_frequency,
			$8, $11, coalesce($14, '{}'), lvl, reg, coalesce($13, false), NULLIF(pg_catalog.btrim($9), ''))
	RETURNING id INTO rid;

	PERFORM pubdata._sync_items(rid, true);
	PERFORM pubdata._record_version(rid);
	-- sharing enforcement hooks in here (see the sharing part)
	PERFORM pubdata._on_register(rid);
	RETURN rid;
END
$$;
COMMENT ON FUNCTION pubdata.register_resource(regclass, text, text, text, text, text, text, integer, text, text, text, text, boolean, text[], text, text) IS
	'Register a table the department owns as a catalog entry (draft); its columns become data items';

-- set_item: describe a data item
CREATE OR REPLACE FUNCTION pubdata.set_item(resource text, column_name name, title text DEFAULT NULL, personal text DEFAULT NULL,
								 share_class text DEFAULT NULL, mask text DEFAULT NULL, description text DEFAULT NULL,
								 is_key boolean DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource := pubdata._resource_for_edit($1, 'edit');
	it pubdata.resource_item;
	cls pubdata.share_class;
BEGIN
	SELECT * INTO it FROM pubdata.resource_item i
	 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.column_name OPERATOR(pg_catalog.=) $2;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'resource "%" has no item "%"', $1, $2
			USING ERRCODE = 'undefined_column',
				  HINT = pg_catalog.format('Items: %s.', (SELECT pg_catalog.string_agg(i.column_name::text, ', ' ORDER BY i.attnum)
							FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id));
	END IF;
	-- an item the bureau has reviewed keeps its classes; a new column (added)
	-- has not been reviewed yet, so it is described in full whatever the
	-- entry's status
	IF r.status NOT IN ('draft', 'returned') AND it.state OPERATOR(pg_catalog.<>) 'added'
	   AND ($4 IS NOT NULL OR $5 IS NOT NULL OR $6 IS NOT NULL OR $8 IS NOT NULL) THEN
		RAISE EXCEPTION 'resource "%" is %: only titles and descriptions of its items can change', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Classes, personal-data kinds and masks change on a draft or returned entry; a published entry is retired and registered anew.';
	END IF;
	cls := pubdata._check_enum($5, 'pubdata.share_class', 'share class')::pubdata.share_class;
	IF cls IS NOT NULL AND cls OPERATOR(pg_catalog.<) r.share_class THEN
		RAISE EXCEPTION 'item "%" cannot be % when resource "%" is %', $2, cls, $1, r.share_class
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'An item''s share class can only be stricter than its resource''s.';
	END IF;
	UPDATE pubdata.resource_item i
	   SET title = coalesce($3, i.title),
		   personal = coalesce(pubdata._check_enum($4, 'pubdata.personal_kind', 'personal-data kind')::pubdata.personal_kind, i.personal),
		   share_class = coalesce(cls, i.share_class),
		   mask = coalesce(pubdata._check_enum($6, 'pubdata.mask_rule', 'mask rule')::pubdata.mask_rule, i.mask),
		   description = coalesce($7, i.description),
		   is_key = coalesce($8, i.is_key),
		   state = CASE WHEN i.state OPERATOR(pg_catalog.=) 'added' AND r.status IN ('draft', 'returned')
						THEN 'current'::pubdata.item_state ELSE i.state END
	 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.column_name OPERATOR(pg_catalog.=) $2;
	PERFORM pubdata._record_version(r.id);
	-- a new column of an entry under review or in use waits for the bureau:
	-- neither shared nor opened until review_resource approves it
	IF it.state OPERATOR(pg_catalog.=) 'added' AND r.status NOT IN ('draft', 'returned') THEN
		RAISE NOTICE 'pubdata: new item "%" of % resource "%" is described; it is shared and opened once the bureau approves it', $2, r.status, $1
			USING HINT = pg_catalog.format('pubdata_admin reviews it: SELECT pubdata.review_resource(%L, true);', $1);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.set_item(text, name, text, text, text, text, text, boolean) IS
	'Describe a data item: title, personal-data kind, stricter share class, mask, description, key flag';

-- update_resource: change a catalog entry's description (any field while draft/returned)
CREATE OR REPLACE FUNCTION pubdata.update_resource(resource text, name text DEFAULT NULL, summary text DEFAULT NULL,
										share_class text DEFAULT NULL, open_class text DEFAULT NULL,
										update_frequency text DEFAULT NULL, security_level integer DEFAULT NULL,
										category text DEFAULT NULL, keywords text[] DEFAULT NULL,
										high_value boolean DEFAULT NULL, legal_basis text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource := pubdata._resource_for_edit($1, 'edit');
BEGIN
	IF r.status OPERATOR(pg_catalog.=) 'retired' THEN
		RAISE EXCEPTION 'resource "%" is retired', $1 USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF r.status NOT IN ('draft', 'returned')
	   AND ($4 IS NOT NULL OR $5 IS NOT NULL OR $6 IS NOT NULL OR $7 IS NOT NULL OR $10 IS NOT NULL OR $11 IS NOT NULL) THEN
		RAISE EXCEPTION 'resource "%" is %: only its name, summary, category and keywords can change', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Classes, frequency, security level and legal basis change on a draft or returned entry.';
	END IF;
	IF $7 IS NOT NULL AND $7 NOT BETWEEN 1 AND 4 THEN
		RAISE EXCEPTION 'invalid security level %', $7
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Security levels are 1 (lowest) to 4 (highest).';
	END IF;
	UPDATE pubdata.resource x
	   SET name = coalesce($2, x.name), summary = coalesce($3, x.summary),
		   share_class = coalesce(pubdata._check_enum($4, 'pubdata.share_class', 'share class')::pubdata.share_class, x.share_class),
		   open_class = coalesce(pubdata._check_enum($5, 'pubdata.open_class', 'open class')::pubdata.open_class, x.open_class),
		   update_frequency = coalesce(pubdata._check_enum($6, 'pubdata.update_frequency', 'update frequency')::pubdata.update_frequency, x.update_frequency),
		   security_level = coalesce($7, x.security_level), category = coalesce($8, x.category),
		   keywords = coalesce($9, x.keywords), high_value = coalesce($10, x.high_value),
		   legal_basis = coalesce($11, x.legal_basis)
	 WHERE x.id OPERATOR(pg_catalog.=) r.id;
	PERFORM pubdata._record_version(r.id);
EXCEPTION WHEN check_violation THEN
	RAISE EXCEPTION 'a non-shared resource needs a legal basis'
		USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass legal_basis as well.';
END
$$;
COMMENT ON FUNCTION pubdata.update_resource(text, text, text, text, text, text, integer, text, text[], boolean, text) IS
	'Edit a catalog entry: every field while draft or returned, descriptive fields afterwards';

-- submit_resource: the department sends its entry for review
CREATE OR REPLACE FUNCTION pubdata.submit_resource(resource text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource := pubdata._resource_for_edit($1, 'submit');
	undescribed text;
BEGIN
	IF r.status NOT IN ('draft', 'returned') THEN
		RAISE EXCEPTION 'resource "%" is %, not draft or returned', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Only a draft or returned entry can be submitted.';
	END IF;
	SELECT pg_catalog.string_agg(i.column_name::text, ', ') INTO undescribed FROM pubdata.resource_item i
	 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.=) 'added';
	IF undescribed IS NOT NULL THEN
		RAISE EXCEPTION 'resource "%" has items not yet described: %', $1, undescribed
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Describe them with pubdata.set_item() first.';
	END IF;
	UPDATE pubdata.resource x SET status = 'submitted', submitted_at = pg_catalog.now()
	 WHERE x.id OPERATOR(pg_catalog.=) r.id;
	PERFORM pubdata._record_version(r.id);
END
$$;
COMMENT ON FUNCTION pubdata.submit_resource(text) IS 'Submit a draft or returned catalog entry for the bureau''s review';

-- review_resource: the bureau approves or returns a submitted entry
CREATE OR REPLACE FUNCTION pubdata.review_resource(resource text, approve boolean, comment text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource;
	new_items boolean;
BEGIN
	PERFORM pubdata._require_admin('review catalog entries');
	r := pubdata._resource_for_edit($1, 'review');
	-- an approved or published entry is reviewed again for its new items
	-- (columns added to its table): until then they are neither shared nor
	-- opened
	new_items := EXISTS (SELECT 1 FROM pubdata.resource_item i
						  WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.=) 'added');
	IF r.status OPERATOR(pg_catalog.<>) 'submitted' AND NOT (r.status IN ('approved', 'published') AND new_items) THEN
		RAISE EXCEPTION 'resource "%" is %, not submitted', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'The department submits it with pubdata.submit_resource(); an approved or published entry is reviewed again when its table has new columns.';
	END IF;
	IF $2 IS NULL THEN
		RAISE EXCEPTION 'approve must be true or false' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT $2 AND coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'returning resource "%" needs a comment', $1
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say what the department must change.';
	END IF;
	IF r.status OPERATOR(pg_catalog.=) 'submitted' THEN
		UPDATE pubdata.resource x
		   SET status = CASE WHEN $2 THEN 'approved'::pubdata.resource_status ELSE 'returned'::pubdata.resource_status END,
			   review_comment = $3, reviewed_at = pg_catalog.now()
		 WHERE x.id OPERATOR(pg_catalog.=) r.id;
	ELSE
		-- the entry stays as it is; returned new items stay out until reviewed again
		UPDATE pubdata.resource x SET review_comment = $3, reviewed_at = pg_catalog.now()
		 WHERE x.id OPERATOR(pg_catalog.=) r.id;
	END IF;
	-- approved: the new items are reviewed with the entry (sharing and the
	-- open view follow through the triggers on resource_item)
	IF $2 AND new_items THEN
		UPDATE pubdata.resource_item i SET state = 'current'
		 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.=) 'added';
	END IF;
	PERFORM pubdata._record_version(r.id);
END
$$;
COMMENT ON FUNCTION pubdata.review_resource(text, boolean, text) IS 'Approve, or return with a comment, a submitted catalog entry, or the new items of an approved or published one (pubdata_admin)';

-- publish_resource: the bureau publishes an approved entry
CREATE OR REPLACE FUNCTION pubdata.publish_resource(resource text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource;
BEGIN
	PERFORM pubdata._require_admin('publish catalog entries');
	r := pubdata._resource_for_edit($1, 'publish');
	IF r.status OPERATOR(pg_catalog.<>) 'approved' THEN
		RAISE EXCEPTION 'resource "%" is %, not approved', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Approve it first with pubdata.review_resource().';
	END IF;
	UPDATE pubdata.resource x SET status = 'published', published_at = pg_catalog.now()
	 WHERE x.id OPERATOR(pg_catalog.=) r.id;
	PERFORM pubdata._record_version(r.id);
END
$$;
COMMENT ON FUNCTION pubdata.publish_resource(text) IS 'Publish an approved catalog entry (pubdata_admin)';

-- retire_resource: the provider or the bureau retires an entry
CREATE OR REPLACE FUNCTION pubdata.retire_resource(resource text, reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource := pubdata._resource_for_edit($1, 'retire');
BEGIN
	IF r.status OPERATOR(pg_catalog.=) 'retired' THEN
		RAISE EXCEPTION 'resource "%" is already retired', $1 USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF coalesce(pg_catalog.btrim($2), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'retiring resource "%" needs a reason', $1 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Say why the data is no longer provided.';
	END IF;
	UPDATE pubdata.resource x SET status = 'retired', retired_at = pg_catalog.now(), review_comment = $2
	 WHERE x.id OPERATOR(pg_catalog.=) r.id;
	PERFORM pubdata._record_version(r.id);
	PERFORM pubdata._on_retire(r.id);
END
$$;
COMMENT ON FUNCTION pubdata.retire_resource(text, text) IS 'Retire a catalog entry (its provider or pubdata_admin); sharing ends';

GRANT EXECUTE ON FUNCTION pubdata.register_resource(regclass, text, text, text, text, text, text, integer, text, text, text, text, boolean, text[], text, text),
	pubdata.set_item(text, name, text, text, text, text, text, boolean),
	pubdata.update_resource(text, text, text, text, text, text, integer, text, text[], boolean, text),
	pubdata.submit_resource(text), pubdata.retire_resource(text, text)
	TO pubdata_department, pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.add_region(text, text, text, text),
	pubdata.add_department(text, text, text, text, name, text, text),
	pubdata.add_system(text, text, text, text),
	pubdata.review_resource(text, boolean, text), pubdata.publish_resource(text)
	TO pubdata_admin;
