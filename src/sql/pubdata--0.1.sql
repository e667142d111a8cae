-- pubdata: the Lishui Public Data Resources Management Measures, enforced inside PostgreSQL.
-- Released install script of version 0.1 (frozen: never edit; changes go into an upgrade script).

\echo Use "CREATE EXTENSION pubdata CASCADE" to load this file. \quit
-- ---------------------------------------------------------------------------
-- Roles (created if missing; roles are cluster-wide and outlive the extension)
-- ---------------------------------------------------------------------------
DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['pubdata_admin', 'pubdata_department', 'pubdata_auditor', 'pubdata_open_reader']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$roles$;

COMMENT ON ROLE pubdata_admin IS 'pubdata: the Big Data Bureau and DBAs: review the catalog, approve scenarios and copies, calendars, evaluation';
COMMENT ON ROLE pubdata_department IS 'pubdata: group role of every department login role';
COMMENT ON ROLE pubdata_auditor IS 'pubdata: audit office: reads the catalog, the access log and the evaluation';
COMMENT ON ROLE pubdata_open_reader IS 'pubdata: BI tools and the public: the pubdata_open schema only';

GRANT USAGE ON SCHEMA pubdata TO pubdata_admin, pubdata_department, pubdata_auditor;
-- ---------------------------------------------------------------------------
-- Enumerations
-- ---------------------------------------------------------------------------
CREATE TYPE pubdata.region_level AS ENUM ('province', 'city', 'county');
CREATE TYPE pubdata.department_kind AS ENUM ('administrative', 'public_institution', 'public_utility', 'other');
CREATE TYPE pubdata.share_class AS ENUM ('unconditional', 'restricted', 'non_shared');
CREATE TYPE pubdata.open_class AS ENUM ('open', 'conditional', 'not_open');
CREATE TYPE pubdata.update_frequency AS ENUM
	('realtime', 'hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'semiannual', 'annual', 'on_demand');
CREATE TYPE pubdata.catalog_level AS ENUM ('city', 'county');
CREATE TYPE pubdata.resource_status AS ENUM ('draft', 'submitted', 'returned', 'approved', 'published', 'retired');
CREATE TYPE pubdata.personal_kind AS ENUM ('none', 'personal', 'sensitive');
CREATE TYPE pubdata.mask_rule AS ENUM ('none', 'id_card', 'name', 'phone', 'email', 'pseudonym', 'redact');
CREATE TYPE pubdata.item_state AS ENUM ('current', 'added', 'dropped');
CREATE TYPE pubdata.project_status AS ENUM ('registered', 'approved', 'accepted');

COMMENT ON TYPE pubdata.share_class IS 'Art 18: unconditional, restricted or non-shared (non-shared needs a legal basis); ordered from least to most strict';
COMMENT ON TYPE pubdata.open_class IS 'Art 20: open, conditional (to named roles) or not open';
COMMENT ON TYPE pubdata.update_frequency IS 'Art 8(5): how often the responsible department aggregates the resource';
COMMENT ON TYPE pubdata.resource_status IS 'Catalog workflow: draft -> submitted -> approved (or returned) -> published -> retired';
COMMENT ON TYPE pubdata.personal_kind IS 'Art 25: whether a data item holds personal or sensitive personal information';
COMMENT ON TYPE pubdata.mask_rule IS 'How an item is masked where it is shown outside its provider';
COMMENT ON TYPE pubdata.item_state IS 'current; added (a new column not yet described); dropped (the column left the table)';
COMMENT ON TYPE pubdata.department_kind IS 'administrative organ, public institution, public utility (Art 35) or other';
COMMENT ON TYPE pubdata.project_status IS 'Art 29: IT project register states';
-- ---------------------------------------------------------------------------
-- Internal helpers: who is calling, checked enum input, uniform errors
-- ---------------------------------------------------------------------------

CREATE FUNCTION pubdata.caller() RETURNS name
	AS 'MODULE_PATHNAME', 'pubdata_caller'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.caller() IS
	'The role acting in this session (current_user after SET ROLE), also inside pubdata''s SECURITY DEFINER functions';

-- is_admin(): the caller is a member of pubdata_admin (or a superuser)
CREATE FUNCTION pubdata.is_admin() RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_admin', 'MEMBER') $$;
COMMENT ON FUNCTION pubdata.is_admin() IS 'true when the calling role is pubdata_admin (directly, by membership or as superuser)';

-- _require_admin(action): error unless the caller is pubdata_admin
CREATE FUNCTION pubdata._require_admin(action text) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT pubdata.is_admin() THEN
		RAISE EXCEPTION 'permission denied to %', action
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" is not a member of pubdata_admin.', pubdata.caller()),
				  HINT = 'Only the Big Data Bureau (pubdata_admin) may do this.';
	END IF;
END
$$;

-- _check_enum(value, type, what): the value, or a clear error listing the allowed ones
CREATE FUNCTION pubdata._check_enum(val text, typ regtype, what text) RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF val IS NULL THEN
		RETURN NULL;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
				   WHERE e.enumtypid OPERATOR(pg_catalog.=) typ AND e.enumlabel OPERATOR(pg_catalog.=) val) THEN
		RAISE EXCEPTION 'invalid % "%"', what, val
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use one of: ' || (SELECT pg_catalog.string_agg(e.enumlabel::text, ', ' ORDER BY e.enumsortorder)
										   FROM pg_catalog.pg_enum e WHERE e.enumtypid OPERATOR(pg_catalog.=) typ) || '.';
	END IF;
	RETURN val;
END
$$;
-- ---------------------------------------------------------------------------
-- Catalog tables (Art 4, 8, 9, 10, 21, 29, 31, 35)
-- ---------------------------------------------------------------------------

CREATE TABLE pubdata.region (
	code		text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
	name		text NOT NULL,
	level		pubdata.region_level NOT NULL,
	parent		text REFERENCES pubdata.region (code),
	builtin		boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE pubdata.region IS 'Administrative divisions (national 6-digit codes): Lishui city and its county-level divisions, and any the bureau adds';
COMMENT ON COLUMN pubdata.region.code IS 'administrative division code (GB/T 2260), six digits';
COMMENT ON COLUMN pubdata.region.builtin IS 'shipped with the extension (not dumped by pg_dump: CREATE EXTENSION restores it)';

-- Shipped copy of data/lishui_regions.csv (national statistical division codes, 2023)
INSERT INTO pubdata.region (code, name, level, parent, builtin) VALUES
	('331100', '丽水市', 'city', NULL, true),
	('331102', '莲都区', 'county', '331100', true),
	('331121', '青田县', 'county', '331100', true),
	('331122', '缙云县', 'county', '331100', true),
	('331123', '遂昌县', 'county', '331100', true),
	('331124', '松阳县', 'county', '331100', true),
	('331125', '云和县', 'county', '331100', true),
	('331126', '庆元县', 'county', '331100', true),
	('331127', '景宁畲族自治县', 'county', '331100', true),
	('331181', '龙泉市', 'county', '331100', true);

CREATE TABLE pubdata.department (
	id			integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	code		text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
	name		text NOT NULL CHECK (name <> ''),
	region		text NOT NULL REFERENCES pubdata.region (code),
	kind		pubdata.department_kind NOT NULL,
	role_name	name NOT NULL UNIQUE,
	data_commissioner text,
	responsible_leader text,
	contact		text,
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.department IS 'Departments (Art 3, 35), each mapped to a PostgreSQL login or group role';
COMMENT ON COLUMN pubdata.department.role_name IS 'the role whose members act for this department';
COMMENT ON COLUMN pubdata.department.data_commissioner IS 'data commissioner (数据专员, Art 31)';
COMMENT ON COLUMN pubdata.department.responsible_leader IS 'responsible leader (分管领导, Art 31)';

CREATE TABLE pubdata.system (
	code		text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
	name		text NOT NULL,
	department_id integer NOT NULL REFERENCES pubdata.department (id),
	description	text
);
COMMENT ON TABLE pubdata.system IS 'Systems (e.g. public security, civil affairs) and their city-level responsible department (Art 8)';

CREATE TABLE pubdata.resource (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	code		text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
	name		text NOT NULL CHECK (name <> ''),
	summary		text,
	relation	regclass,
	relation_name text NOT NULL,
	provider_id	integer NOT NULL REFERENCES pubdata.department (id),
	responsible_id integer NOT NULL REFERENCES pubdata.department (id),
	system_code	text REFERENCES pubdata.system (code),
	share_class	pubdata.share_class NOT NULL,
	open_class	pubdata.open_class NOT NULL,
	update_frequency pubdata.update_frequency NOT NULL,
	security_level smallint NOT NULL CHECK (security_level BETWEEN 1 AND 4),
	category	text,
	keywords	text[] NOT NULL DEFAULT '{}',
	catalog_level pubdata.catalog_level NOT NULL DEFAULT 'city',
	region		text NOT NULL REFERENCES pubdata.region (code),
	high_value	boolean NOT NULL DEFAULT false,
	legal_basis	text,
	status		pubdata.resource_status NOT NULL DEFAULT 'draft',
	review_comment text,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	submitted_at timestamptz,
	reviewed_at	timestamptz,
	published_at timestamptz,
	retired_at	timestamptz,
	CONSTRAINT non_shared_needs_legal_basis
		CHECK (share_class <> 'non_shared' OR coalesce(btrim(legal_basis), '') <> '')
);
CREATE UNIQUE INDEX resource_relation_key ON pubdata.resource ((relation::oid)) WHERE relation IS NOT NULL;
COMMENT ON TABLE pubdata.resource IS 'The public-data resource catalog (Art 9): one row per registered table';
COMMENT ON COLUMN pubdata.resource.relation IS 'the table holding the data (NULL once a retired resource''s table is dropped)';
COMMENT ON COLUMN pubdata.resource.relation_name IS 'schema-qualified name of the table as registered';
COMMENT ON COLUMN pubdata.resource.provider_id IS 'the department that collects and provides the data (Art 8)';
COMMENT ON COLUMN pubdata.resource.responsible_id IS 'the city-level responsible department (Art 8); the provider unless named';
COMMENT ON COLUMN pubdata.resource.share_class IS 'Art 18 sharing class';
COMMENT ON COLUMN pubdata.resource.open_class IS 'Art 20 open class';
COMMENT ON COLUMN pubdata.resource.security_level IS 'security grade 1 (lowest) to 4 (Art 22)';
COMMENT ON COLUMN pubdata.resource.catalog_level IS 'city catalog or county supplementary catalog (Art 9)';
COMMENT ON COLUMN pubdata.resource.high_value IS 'high-value data, opened first (Art 21)';
COMMENT ON COLUMN pubdata.resource.legal_basis IS 'law or regulation that restricts or forbids sharing (required for non_shared, Art 18(3))';
COMMENT ON COLUMN pubdata.resource.version IS 'catalog version of this entry; every change adds one (see resource_history)';

CREATE TABLE pubdata.resource_item (
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	column_name	name NOT NULL,
	attnum		smallint,
	title		text NOT NULL,
	description	text,
	data_type	text NOT NULL,
	personal	pubdata.personal_kind NOT NULL DEFAULT 'none',
	share_class	pubdata.share_class,
	mask		pubdata.mask_rule NOT NULL DEFAULT 'none',
	is_key		boolean NOT NULL DEFAULT false,
	state		pubdata.item_state NOT NULL DEFAULT 'current',
	PRIMARY KEY (resource_id, column_name)
);
COMMENT ON TABLE pubdata.resource_item IS 'Data items (信息项) of each resource: one per column of its table';
COMMENT ON COLUMN pubdata.resource_item.title IS 'the item''s title as people read it (Chinese)';
COMMENT ON COLUMN pubdata.resource_item.share_class IS 'item-level class, only stricter than the resource''s; NULL means as the resource';
COMMENT ON COLUMN pubdata.resource_item.state IS 'added: new column not yet reviewed; dropped: the column left the table';

CREATE TABLE pubdata.resource_history (
	resource_id	bigint NOT NULL,
	version		integer NOT NULL,
	valid_from	timestamptz NOT NULL,
	valid_to	timestamptz,
	changed_by	name NOT NULL,
	entry		jsonb NOT NULL,
	PRIMARY KEY (resource_id, version)
);
COMMENT ON TABLE pubdata.resource_history IS 'Every version of every catalog entry, with its items, as JSON; see catalog_as_of()';

CREATE TABLE pubdata.data_element (
	id			integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	code		text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
	name		text NOT NULL,
	description	text
);
COMMENT ON TABLE pubdata.data_element IS 'Data elements (e.g. resident identity number): one data, one source (Art 10)';

CREATE TABLE pubdata.resource_element (
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	element_id	integer NOT NULL REFERENCES pubdata.data_element (id),
	item		name,
	authoritative boolean NOT NULL DEFAULT false,
	legal_basis	text,
	declared_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (resource_id, element_id)
);
CREATE UNIQUE INDEX resource_element_one_source ON pubdata.resource_element (element_id) WHERE authoritative;
COMMENT ON TABLE pubdata.resource_element IS 'Which resources carry which data element; at most one authoritative source per element';

CREATE TABLE pubdata.project (
	id			integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	code		text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
	name		text NOT NULL,
	department_id integer NOT NULL REFERENCES pubdata.department (id),
	status		pubdata.project_status NOT NULL DEFAULT 'registered',
	registered_at timestamptz NOT NULL DEFAULT now(),
	approved_at	timestamptz,
	accepted_at	timestamptz
);
COMMENT ON TABLE pubdata.project IS 'IT projects (Art 29): approval needs their catalog entries, acceptance needs them published';

CREATE TABLE pubdata.project_resource (
	project_id	integer NOT NULL REFERENCES pubdata.project (id) ON DELETE CASCADE,
	resource_code text NOT NULL,
	PRIMARY KEY (project_id, resource_code)
);
COMMENT ON TABLE pubdata.project_resource IS 'The catalog entries (by resource code) each IT project must produce';

-- pg_dump keeps the configuration (built-in rows are restored by CREATE EXTENSION)
SELECT pg_catalog.pg_extension_config_dump('pubdata.region', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('pubdata.department', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.department_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.system', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.resource', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.resource_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.resource_item', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.resource_history', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.data_element', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.data_element_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.resource_element', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.project', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.project_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.project_resource', '');

REVOKE ALL ON ALL TABLES IN SCHEMA pubdata FROM PUBLIC;
GRANT SELECT ON pubdata.region, pubdata.department, pubdata.system, pubdata.resource,
	pubdata.resource_item, pubdata.resource_history, pubdata.data_element,
	pubdata.resource_element, pubdata.project, pubdata.project_resource
	TO pubdata_admin, pubdata_department, pubdata_auditor;
-- ---------------------------------------------------------------------------
-- Lookups every module uses: the calling department, a resource by code
-- ---------------------------------------------------------------------------

-- department_of(role): the department a role acts for: its own, or the single
-- department role it is a member of (SET ROLE picks one when there are several)
CREATE FUNCTION pubdata.department_of(role_name name) RETURNS integer
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(
		(SELECT d.id FROM pubdata.department d WHERE d.role_name OPERATOR(pg_catalog.=) $1),
		(SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 1 THEN pg_catalog.min(d.id) END
		   FROM pubdata.department d
		   JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) d.role_name
		  WHERE NOT (SELECT s.rolsuper FROM pg_catalog.pg_roles s WHERE s.rolname OPERATOR(pg_catalog.=) $1)
			AND pg_catalog.pg_has_role($1, r.oid, 'MEMBER')))
$$;
COMMENT ON FUNCTION pubdata.department_of(name) IS
	'The department id a role acts for (its own mapping, or its only department membership); NULL if none';

-- current_department(): the caller's department id, or a clear error
CREATE FUNCTION pubdata.current_department() RETURNS integer
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d integer := pubdata.department_of(pubdata.caller());
BEGIN
	IF d IS NULL THEN
		RAISE EXCEPTION 'role "%" does not act for a pubdata department', pubdata.caller()
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The role is not mapped to a department, or is a member of several department roles.',
				  HINT = 'SET ROLE to your department''s role, or ask pubdata_admin to map it with pubdata.add_department().';
	END IF;
	RETURN d;
END
$$;
COMMENT ON FUNCTION pubdata.current_department() IS 'The calling role''s department id; an error if it acts for none';

-- department_id(code): a department by code, or a clear error
CREATE FUNCTION pubdata.department_id(code text) RETURNS integer
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d integer;
BEGIN
	SELECT id INTO d FROM pubdata.department WHERE department.code OPERATOR(pg_catalog.=) $1;
	IF d IS NULL THEN
		RAISE EXCEPTION 'department "%" does not exist', $1
			USING ERRCODE = 'undefined_object',
				  HINT = 'See SELECT code, name FROM pubdata.department.';
	END IF;
	RETURN d;
END
$$;
COMMENT ON FUNCTION pubdata.department_id(text) IS 'A department''s id from its code; an error naming it if unknown';

-- resource_id(code): a resource by code, or a clear error
CREATE FUNCTION pubdata.resource_id(code text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r bigint;
BEGIN
	SELECT id INTO r FROM pubdata.resource WHERE resource.code OPERATOR(pg_catalog.=) $1;
	IF r IS NULL THEN
		RAISE EXCEPTION 'resource "%" does not exist', $1
			USING ERRCODE = 'undefined_object',
				  HINT = 'See SELECT code, name FROM pubdata.resource.';
	END IF;
	RETURN r;
END
$$;
COMMENT ON FUNCTION pubdata.resource_id(text) IS 'A resource''s id from its code; an error naming it if unknown';
-- ---------------------------------------------------------------------------
-- Catalog API: regions, departments, systems, resources and their workflow
-- ---------------------------------------------------------------------------

-- add_region: the bureau adds a division (e.g. a township) to the region table
CREATE FUNCTION pubdata.add_region(code text, name text, level text, parent text DEFAULT NULL)
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
CREATE FUNCTION pubdata.add_department(code text, name text, region text, kind text, role_name name,
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
CREATE FUNCTION pubdata.add_system(code text, name text, department text, description text DEFAULT NULL)
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
CREATE FUNCTION pubdata._resource_for_edit(code text, action text)
	RETURNS pubdata.resource
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.code OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
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
CREATE FUNCTION pubdata._sync_items(resource_id bigint, quiet boolean DEFAULT false)
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
					  pg_catalog.col_description(rel, a.attnum) AS descr
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
CREATE FUNCTION pubdata.register_resource(relation regclass, code text, name text, provider text,
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
CREATE FUNCTION pubdata.set_item(resource text, column_name name, title text DEFAULT NULL, personal text DEFAULT NULL,
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
	IF r.status NOT IN ('draft', 'returned') AND ($4 IS NOT NULL OR $5 IS NOT NULL OR $6 IS NOT NULL OR $8 IS NOT NULL) THEN
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
		   state = CASE WHEN i.state OPERATOR(pg_catalog.=) 'added' THEN 'current'::pubdata.item_state ELSE i.state END
	 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.column_name OPERATOR(pg_catalog.=) $2;
	PERFORM pubdata._record_version(r.id);
END
$$;
COMMENT ON FUNCTION pubdata.set_item(text, name, text, text, text, text, text, boolean) IS
	'Describe a data item: title, personal-data kind, stricter share class, mask, description, key flag';

-- update_resource: change a catalog entry's description (any field while draft/returned)
CREATE FUNCTION pubdata.update_resource(resource text, name text DEFAULT NULL, summary text DEFAULT NULL,
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
CREATE FUNCTION pubdata.submit_resource(resource text) RETURNS void
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
CREATE FUNCTION pubdata.review_resource(resource text, approve boolean, comment text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource;
BEGIN
	PERFORM pubdata._require_admin('review catalog entries');
	r := pubdata._resource_for_edit($1, 'review');
	IF r.status OPERATOR(pg_catalog.<>) 'submitted' THEN
		RAISE EXCEPTION 'resource "%" is %, not submitted', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'The department submits it with pubdata.submit_resource().';
	END IF;
	IF $2 IS NULL THEN
		RAISE EXCEPTION 'approve must be true or false' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT $2 AND coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'returning resource "%" needs a comment', $1
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say what the department must change.';
	END IF;
	UPDATE pubdata.resource x
	   SET status = CASE WHEN $2 THEN 'approved'::pubdata.resource_status ELSE 'returned'::pubdata.resource_status END,
		   review_comment = $3, reviewed_at = pg_catalog.now()
	 WHERE x.id OPERATOR(pg_catalog.=) r.id;
	PERFORM pubdata._record_version(r.id);
END
$$;
COMMENT ON FUNCTION pubdata.review_resource(text, boolean, text) IS 'Approve, or return with a comment, a submitted catalog entry (pubdata_admin)';

-- publish_resource: the bureau publishes an approved entry
CREATE FUNCTION pubdata.publish_resource(resource text) RETURNS void
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
CREATE FUNCTION pubdata.retire_resource(resource text, reason text) RETURNS void
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

-- _record_version(id): the entry changed; keep the new version in resource_history.
-- Called by every catalog function that changes an entry or its items (one call, one
-- version).  Not a trigger, so that pg_dump's restore of the catalog tables does not
-- invent versions.
CREATE FUNCTION pubdata._record_version(resource_id bigint) RETURNS integer
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
-- ---------------------------------------------------------------------------
-- One data, one source (Art 10, 16(3)); IT projects (Art 29); DDL follow-up
-- ---------------------------------------------------------------------------

-- add_data_element: the bureau names a data element
CREATE FUNCTION pubdata.add_data_element(code text, name text, description text DEFAULT NULL) RETURNS integer
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
CREATE FUNCTION pubdata.declare_element(resource text, element text, item name DEFAULT NULL,
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
		SELECT x.code, d.code AS dept INTO src
		  FROM pubdata.resource_element re JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) re.resource_id
		  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
		 WHERE re.element_id OPERATOR(pg_catalog.=) e.id AND re.authoritative AND x.id OPERATOR(pg_catalog.<>) r.id;
		IF FOUND THEN
			RAISE EXCEPTION 'data element "%" already has an authoritative source: resource "%" of department "%"', $2, src.code, src.dept
				USING ERRCODE = 'unique_violation',
					  DETAIL = 'Article 10: one data, one source.',
					  HINT = 'Declare this resource as a collection with a legal basis, or obtain the data by sharing from the source.';
		END IF;
	ELSE
		-- a collection of an element that is already shared elsewhere needs a legal basis (Art 16(3))
		SELECT x.code, d.code AS dept INTO src
		  FROM pubdata.resource_element re JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) re.resource_id
		  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
		 WHERE re.element_id OPERATOR(pg_catalog.=) e.id AND x.id OPERATOR(pg_catalog.<>) r.id
		   AND x.share_class OPERATOR(pg_catalog.<>) 'non_shared' AND x.status OPERATOR(pg_catalog.<>) 'retired'
		 ORDER BY re.authoritative DESC, x.id LIMIT 1;
		IF FOUND AND coalesce(pg_catalog.btrim($5), '') OPERATOR(pg_catalog.=) '' THEN
			RAISE EXCEPTION 'data element "%" is already shared by resource "%" of department "%"', $2, src.code, src.dept
				USING ERRCODE = 'unique_violation',
					  DETAIL = 'Article 16(3): data obtainable by sharing is not collected again.',
					  HINT = pg_catalog.format('Request it with pubdata.request_share(%L, ...), or pass legal_basis if a law requires your own collection.', src.code);
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
CREATE VIEW pubdata.element_source AS
	SELECT e.code AS element, e.name, r.code AS source_resource, d.code AS source_department, re.item
	  FROM pubdata.data_element e
	  LEFT JOIN pubdata.resource_element re ON re.element_id = e.id AND re.authoritative
	  LEFT JOIN pubdata.resource r ON r.id = re.resource_id
	  LEFT JOIN pubdata.department d ON d.id = r.provider_id;
COMMENT ON VIEW pubdata.element_source IS 'Each data element and its single authoritative source resource (one data, one source)';

-- register_project: a department registers an IT project and the catalog entries it will produce
CREATE FUNCTION pubdata.register_project(code text, name text, resources text[]) RETURNS integer
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
CREATE FUNCTION pubdata._project_gate(code text, target pubdata.project_status) RETURNS void
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

CREATE FUNCTION pubdata.approve_project(code text) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata._project_gate($1, 'approved') $$;
COMMENT ON FUNCTION pubdata.approve_project(text) IS 'Approve an IT project; its catalog entries must be submitted or further (pubdata_admin)';
CREATE FUNCTION pubdata.accept_project(code text) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata._project_gate($1, 'accepted') $$;
COMMENT ON FUNCTION pubdata.accept_project(text) IS 'Accept an IT project; its catalog entries must be published (pubdata_admin)';

-- DDL follow-up: items follow ALTER TABLE; a registered table is not dropped silently
CREATE FUNCTION pubdata._on_ddl_end() RETURNS event_trigger
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
	LOOP
		PERFORM pubdata._sync_items(rid);
	END LOOP;
END
$$;
CREATE EVENT TRIGGER pubdata_ddl_end ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'CREATE VIEW')
	EXECUTE FUNCTION pubdata._on_ddl_end();

CREATE FUNCTION pubdata._on_sql_drop() RETURNS event_trigger
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
CREATE EVENT TRIGGER pubdata_sql_drop ON sql_drop
	EXECUTE FUNCTION pubdata._on_sql_drop();

GRANT SELECT ON pubdata.element_source TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.declare_element(text, text, name, boolean, text),
	pubdata.register_project(text, text, text[]) TO pubdata_department, pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.add_data_element(text, text, text), pubdata.approve_project(text),
	pubdata.accept_project(text) TO pubdata_admin;
-- ---------------------------------------------------------------------------
-- Access audit (Art 15, 16(4), 27): a SHA-256 hash chain of records kept in
-- segment files under $PGDATA/pg_pubdata/audit/ (see src/audit.c).  Records
-- are written by the executor hook; here is how they are read and verified.
-- ---------------------------------------------------------------------------

CREATE FUNCTION pubdata._audit_records(
	OUT seq bigint, OUT at timestamptz, OUT database oid, OUT role_name text,
	OUT department_id integer, OUT department_code text, OUT resources text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT hash text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_records';
COMMENT ON FUNCTION pubdata._audit_records() IS
	'Every access audit record of the cluster, read from the segment files in chain order (internal: use pubdata.access_log)';

CREATE VIEW pubdata.access_log AS
	SELECT r.at, r.role_name, r.department_code AS department, res.resource,
		   r.grant_id, r.purpose, r.command, r.query_id, r.rows, r.seq, r.hash
	  FROM pubdata._audit_records() r
	  LEFT JOIN LATERAL pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ','))
			 AS res(resource) ON true
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
										  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database());
COMMENT ON VIEW pubdata.access_log IS
	'Access audit (Art 15, 27): one row per audited statement and resource read, in chain order, for this database';
COMMENT ON COLUMN pubdata.access_log.at IS 'when the reading statement finished (the record was written)';
COMMENT ON COLUMN pubdata.access_log.role_name IS 'the role that read';
COMMENT ON COLUMN pubdata.access_log.department IS 'code of the department the role acted for';
COMMENT ON COLUMN pubdata.access_log.resource IS 'code of a resource the statement read (a statement reading several has one row each)';
COMMENT ON COLUMN pubdata.access_log.grant_id IS 'the grant the read relied on; NULL if none';
COMMENT ON COLUMN pubdata.access_log.purpose IS 'the purpose in force (SET pubdata.purpose, or the grant''s)';
COMMENT ON COLUMN pubdata.access_log.command IS 'statement kind: SELECT, COPY, INSERT, ...';
COMMENT ON COLUMN pubdata.access_log.query_id IS 'query identifier (as in pg_stat_statements and pg_stat_activity)';
COMMENT ON COLUMN pubdata.access_log.rows IS 'rows the statement returned or processed';
COMMENT ON COLUMN pubdata.access_log.seq IS 'position in the hash chain (1, 2, ... across the whole cluster)';
COMMENT ON COLUMN pubdata.access_log.hash IS 'SHA-256 (hex) of the previous record''s hash and this record';

-- A department sees the records of its own reads, and of reads of resources
-- it provides (who used its data, for what purpose); nothing else.
CREATE FUNCTION pubdata._my_access_log(
	OUT at timestamptz, OUT role_name text, OUT department text, OUT resource text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT seq bigint, OUT as_provider boolean)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH me AS (SELECT pubdata.current_department() AS id)
	SELECT r.at, r.role_name, r.department_code, x.resource, r.grant_id, r.purpose,
		   r.command, r.query_id, r.rows, r.seq,
		   coalesce(res.provider_id OPERATOR(pg_catalog.=) me.id, false)
	  FROM me
	 CROSS JOIN pubdata._audit_records() r
	  LEFT JOIN LATERAL pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ','))
			 AS x(resource) ON true
	  LEFT JOIN pubdata.resource res ON res.code OPERATOR(pg_catalog.=) x.resource
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
											  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	   AND (r.department_id OPERATOR(pg_catalog.=) me.id
			OR res.provider_id OPERATOR(pg_catalog.=) me.id)
	 ORDER BY r.seq
$$;
COMMENT ON FUNCTION pubdata._my_access_log() IS
	'The calling department''s reads, and reads of the resources it provides (internal: use pubdata.my_access_log)';

CREATE VIEW pubdata.my_access_log AS
	SELECT * FROM pubdata._my_access_log();
COMMENT ON VIEW pubdata.my_access_log IS
	'For departments: the access audit records of your own reads, and of other departments'' reads of the resources you provide';
COMMENT ON COLUMN pubdata.my_access_log.as_provider IS 'true when the row is there because your department provides the resource';

CREATE VIEW pubdata.usage_stats AS
	SELECT l.department, l.resource, p.code AS provider,
		   pg_catalog.count(*) AS statements,
		   pg_catalog.sum(l.rows) AS rows,
		   pg_catalog.count(DISTINCT l.role_name) AS roles,
		   pg_catalog.count(DISTINCT l.grant_id) AS grants,
		   pg_catalog.min(l.at) AS first_at,
		   pg_catalog.max(l.at) AS last_at
	  FROM pubdata.access_log l
	  LEFT JOIN pubdata.resource r ON r.code OPERATOR(pg_catalog.=) l.resource
	  LEFT JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) r.provider_id
	 GROUP BY l.department, l.resource, p.code;
COMMENT ON VIEW pubdata.usage_stats IS
	'Use of shared data (Art 15, 27) per reading department and resource, from the access audit';
COMMENT ON COLUMN pubdata.usage_stats.provider IS 'code of the department that provides the resource';
COMMENT ON COLUMN pubdata.usage_stats.statements IS 'audited statements that read the resource';
COMMENT ON COLUMN pubdata.usage_stats.rows IS 'rows those statements returned (a statement reading several resources counts for each)';
COMMENT ON COLUMN pubdata.usage_stats.roles IS 'distinct roles that read';
COMMENT ON COLUMN pubdata.usage_stats.grants IS 'distinct grants relied on';

CREATE FUNCTION pubdata.verify_audit_chain(
	anchor_seq bigint DEFAULT NULL, anchor_hash text DEFAULT NULL,
	OUT ok boolean, OUT records bigint, OUT first_broken_seq bigint, OUT detail text)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_verify_audit_chain';
COMMENT ON FUNCTION pubdata.verify_audit_chain(bigint, text) IS
	'Recompute the access audit hash chain; report the first broken link (edit, deletion, insertion, reordering, truncated tail), optionally against an anchor from audit_chain_head()';

CREATE FUNCTION pubdata.audit_chain_head(
	OUT seq bigint, OUT hash text, OUT at timestamptz, OUT synced_seq bigint, OUT segment text)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_chain_head';
COMMENT ON FUNCTION pubdata.audit_chain_head() IS
	'The head of the access audit chain (last seq and hash), to keep outside the server as an anchor; synced_seq: last record known fsynced';

GRANT EXECUTE ON FUNCTION pubdata._audit_records(), pubdata.verify_audit_chain(bigint, text),
	pubdata.audit_chain_head() TO pubdata_admin, pubdata_auditor;
GRANT SELECT ON pubdata.access_log, pubdata.usage_stats TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata._my_access_log() TO pubdata_department;
GRANT SELECT ON pubdata.my_access_log TO pubdata_department;
-- ---------------------------------------------------------------------------
-- Sharing enforcement (Art 16-19, 34): classes, scenarios, requests and
-- grants, enforced by row-level security, column privileges and the guard
-- ---------------------------------------------------------------------------

CREATE TYPE pubdata.share_mode AS ENUM ('api', 'copy');
CREATE TYPE pubdata.request_status AS ENUM ('pending', 'approved', 'refused', 'revoked', 'expired');
COMMENT ON TYPE pubdata.share_mode IS 'api: request and response through the governed table; copy: rows may be copied out (needs the bureau, Art 17)';
COMMENT ON TYPE pubdata.request_status IS 'Share request states; an approved request is a grant';

CREATE FUNCTION pubdata._catalog_invalidate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_catalog_invalidate' LANGUAGE C;
CREATE TRIGGER resource_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.resource
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();
CREATE TRIGGER department_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.department
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();

CREATE FUNCTION pubdata._note_grant(resource_id bigint, grant_id bigint, purpose text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_note_grant' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
CREATE FUNCTION pubdata._internal_ddl() RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_internal_ddl_active' LANGUAGE C STABLE;

CREATE TABLE pubdata.scenario (
	id			integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	code		text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
	name		text NOT NULL,
	purpose		text NOT NULL CHECK (btrim(purpose) <> ''),
	proposed_by	integer REFERENCES pubdata.department (id),
	approved_at	timestamptz,
	approved_by	name,
	valid_until	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.scenario IS 'Application scenarios (Art 19(3)): once the bureau approves one, its departments get its resources without a request each';

CREATE TABLE pubdata.scenario_department (
	scenario_id	integer NOT NULL REFERENCES pubdata.scenario (id) ON DELETE CASCADE,
	department_id integer NOT NULL REFERENCES pubdata.department (id),
	PRIMARY KEY (scenario_id, department_id)
);
COMMENT ON TABLE pubdata.scenario_department IS 'Departments taking part in a scenario';

CREATE TABLE pubdata.scenario_resource (
	scenario_id	integer NOT NULL REFERENCES pubdata.scenario (id) ON DELETE CASCADE,
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	items		name[],
	PRIMARY KEY (scenario_id, resource_id)
);
COMMENT ON TABLE pubdata.scenario_resource IS 'Resources (and items; NULL = all shareable items) a scenario covers';

CREATE TABLE pubdata.share_request (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	requester_id integer NOT NULL REFERENCES pubdata.department (id),
	requested_by name NOT NULL,
	purpose		text NOT NULL CHECK (btrim(purpose) <> ''),
	items		name[],
	scenario_id	integer REFERENCES pubdata.scenario (id),
	mode		pubdata.share_mode NOT NULL DEFAULT 'api',
	row_scope	jsonb,
	status		pubdata.request_status NOT NULL DEFAULT 'pending',
	requested_at timestamptz NOT NULL DEFAULT now(),
	due_at		timestamptz NOT NULL,
	decided_at	timestamptz,
	decided_by	name,
	reason		text,
	expires_at	timestamptz,
	copy_approved_at timestamptz,
	copy_approved_by name,
	revoked_at	timestamptz,
	CONSTRAINT refusal_has_reason CHECK (status <> 'refused' OR coalesce(btrim(reason), '') <> '')
);
CREATE INDEX share_request_resource ON pubdata.share_request (resource_id, requester_id) WHERE status = 'approved';
COMMENT ON TABLE pubdata.share_request IS 'Share requests (Art 19): purpose, items, scenario, mode; an approved one is a grant, until it expires or is revoked';
COMMENT ON COLUMN pubdata.share_request.due_at IS 'the provider answers by then (pubdata.response_days working days)';
COMMENT ON COLUMN pubdata.share_request.row_scope IS 'rows the grant covers: {"column": value or [values]}, ANDed; NULL = all rows';
COMMENT ON COLUMN pubdata.share_request.reason IS 'the provider''s reason; required for a refusal (Art 34)';
COMMENT ON COLUMN pubdata.share_request.copy_approved_at IS 'when the bureau consented to copying (mode copy, Art 17)';

SELECT pg_catalog.pg_extension_config_dump('pubdata.scenario', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.scenario_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.scenario_department', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.scenario_resource', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.share_request', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.share_request_id_seq', '');

-- _grant_live(g): a grant in force now
CREATE FUNCTION pubdata._grant_live(g pubdata.share_request) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT $1.status OPERATOR(pg_catalog.=) 'approved'
	   AND ($1.expires_at IS NULL OR $1.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
	   AND EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1.resource_id
				   AND r.status OPERATOR(pg_catalog.=) 'published')
$$;

-- _purpose_matches(g): the session's declared purpose (if any) names this grant
CREATE FUNCTION pubdata._purpose_matches(g pubdata.share_request) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(pg_catalog.current_setting('pubdata.purpose', true), '') OPERATOR(pg_catalog.=) ''
		OR pg_catalog.current_setting('pubdata.purpose', true) OPERATOR(pg_catalog.=) $1.id::text
		OR pg_catalog.current_setting('pubdata.purpose', true) OPERATOR(pg_catalog.=)
		   (SELECT s.code FROM pubdata.scenario s WHERE s.id OPERATOR(pg_catalog.=) $1.scenario_id)
$$;

-- _grant_ok(id): the check in each grant's policy, run once per query (InitPlan)
CREATE FUNCTION pubdata._grant_ok(grant_id bigint) RETURNS boolean
	LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
	rcode text;
BEGIN
	SELECT * INTO g FROM pubdata.share_request s WHERE s.id OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF pubdata._grant_live(g) AND pubdata._purpose_matches(g) THEN
		PERFORM pubdata._note_grant(g.resource_id, g.id, g.purpose);
		RETURN true;
	END IF;
	-- another grant of the same department serves this query: stay silent
	IF EXISTS (SELECT 1 FROM pubdata.share_request o
				WHERE o.resource_id OPERATOR(pg_catalog.=) g.resource_id
				  AND o.requester_id OPERATOR(pg_catalog.=) g.requester_id
				  AND o.id OPERATOR(pg_catalog.<>) g.id
				  AND pubdata._grant_live(o) AND pubdata._purpose_matches(o)) THEN
		RETURN false;
	END IF;
	SELECT r.code INTO rcode FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) g.resource_id;
	IF pubdata._grant_live(g) THEN
		RAISE EXCEPTION 'no grant of resource "%" for purpose "%"', rcode, pg_catalog.current_setting('pubdata.purpose', true)
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'pubdata.purpose names neither a grant (request id) nor a scenario of this department for this resource.',
				  HINT = 'SET pubdata.purpose to the request id or scenario code of a live grant, or RESET pubdata.purpose.';
	END IF;
	IF g.expires_at IS NOT NULL AND g.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
		RAISE EXCEPTION 'grant % of resource "%" has expired', g.id, rcode
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('It expired at %s.', g.expires_at),
				  HINT = pg_catalog.format('Request it again: SELECT pubdata.request_share(%L, purpose => ''...'');', rcode);
	END IF;
	RAISE EXCEPTION 'grant % of resource "%" is no longer in force', g.id, rcode
		USING ERRCODE = 'insufficient_privilege',
			  HINT = pg_catalog.format('Request it again: SELECT pubdata.request_share(%L, purpose => ''...'');', rcode);
END
$$;
COMMENT ON FUNCTION pubdata._grant_ok(bigint) IS 'Policy check of a grant: in force and matching the declared purpose; evaluated once per query';

-- _has_copy_grant: may this department copy rows out of this resource (Art 17)?
CREATE FUNCTION pubdata._has_copy_grant(resource_id bigint, department_id integer) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pubdata.share_request g
					WHERE g.resource_id OPERATOR(pg_catalog.=) $1 AND g.requester_id OPERATOR(pg_catalog.=) $2
					  AND g.mode OPERATOR(pg_catalog.=) 'copy' AND g.copy_approved_at IS NOT NULL
					  AND pubdata._grant_live(g) AND pubdata._purpose_matches(g))
$$;

-- _plain_type(relation, column): the column's type with its domains stripped,
-- for converting a value given as text inside a SECURITY DEFINER function.
-- A domain's CHECK, or the input function of an element of an array,
-- composite or range type, may be a department's function, which would run
-- there with the extension owner's privileges; base types (made only by
-- superusers) and enums convert with built-in code.
CREATE FUNCTION pubdata._plain_type(relation regclass, column_name text) RETURNS regtype
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t oid;
	ty record;
BEGIN
	SELECT a.atttypid INTO t FROM pg_catalog.pg_attribute a
	 WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) $2
	   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
	IF t IS NULL THEN
		RAISE EXCEPTION 'column "%" of % does not exist', $2, $1 USING ERRCODE = 'undefined_column';
	END IF;
	LOOP
		SELECT y.typtype, y.typbasetype, y.typcategory INTO ty FROM pg_catalog.pg_type y WHERE y.oid OPERATOR(pg_catalog.=) t;
		EXIT WHEN ty.typtype OPERATOR(pg_catalog.<>) 'd';
		t := ty.typbasetype;
	END LOOP;
	IF NOT (ty.typtype OPERATOR(pg_catalog.=) 'e'
			OR (ty.typtype OPERATOR(pg_catalog.=) 'b' AND ty.typcategory OPERATOR(pg_catalog.<>) 'A')) THEN
		RAISE EXCEPTION 'column "%" of % is of type %, which cannot serve as a key or a row scope', $2, $1, t::regtype
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Key and scope columns are of a scalar type (text, a number, a date, an enum) or a domain over one.';
	END IF;
	RETURN t::regtype;
END
$$;
COMMENT ON FUNCTION pubdata._plain_type(regclass, text) IS
	'Internal: a key or scope column''s type without its domains; refuses types whose input could run a department''s code';

-- _scope_predicate: a grant's row scope as SQL, every name and value quoted
CREATE FUNCTION pubdata._scope_predicate(resource_id bigint, scope jsonb) RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	k text;
	v jsonb;
	typ regtype;
	parts text[] := '{}';
BEGIN
	IF $2 IS NULL OR $2 OPERATOR(pg_catalog.=) '{}'::jsonb THEN
		RETURN 'true';
	END IF;
	IF pg_catalog.jsonb_typeof($2) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'row scope must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'For example {"region": "331102"} or {"region": ["331102", "331121"]}.';
	END IF;
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each($2) LOOP
		IF NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) $1
						AND i.column_name OPERATOR(pg_catalog.=) k AND i.state OPERATOR(pg_catalog.<>) 'dropped') THEN
			RAISE EXCEPTION 'row scope names "%", which is not an item of the resource', k
				USING ERRCODE = 'undefined_column', HINT = 'Scope rows by one of the resource''s items.';
		END IF;
		IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'array' THEN
			IF pg_catalog.jsonb_array_length(v) OPERATOR(pg_catalog.=) 0 THEN
				RAISE EXCEPTION 'row scope for "%" lists no values', k USING ERRCODE = 'invalid_parameter_value';
			END IF;
			-- compared as the column's plain type: the literals are converted
			-- when the policy is created, by this function's owner
			typ := pubdata._plain_type((SELECT r.relation FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1), k);
			parts := parts || pg_catalog.format('%I::%s IN (%s)', k, typ,
				(SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e) OPERATOR(pg_catalog.||) '::' OPERATOR(pg_catalog.||) typ::text, ', ')
				   FROM pg_catalog.jsonb_array_elements_text(v) e));
		ELSIF pg_catalog.jsonb_typeof(v) IN ('string', 'number', 'boolean') THEN
			typ := pubdata._plain_type((SELECT r.relation FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1), k);
			parts := parts || pg_catalog.format('%I::%s = %L::%s', k, typ, v OPERATOR(pg_catalog.#>>) '{}', typ);
		ELSE
			RAISE EXCEPTION 'row scope for "%" must be a value or a list of values', k USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	RETURN pg_catalog.array_to_string(parts, ' AND ');
END
$$;

-- _grant_columns: the columns a grant gives (never a non-shared item)
CREATE FUNCTION pubdata._grant_columns(resource_id bigint, items name[]) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(i.column_name), ', ' ORDER BY i.attnum)
	  FROM pubdata.resource_item i JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) i.resource_id
	 WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.state OPERATOR(pg_catalog.<>) 'dropped' AND i.attnum IS NOT NULL
	   AND coalesce(i.share_class, r.share_class) OPERATOR(pg_catalog.<>) 'non_shared'
	   AND ($2 IS NULL OR i.column_name OPERATOR(pg_catalog.=) ANY ($2))
$$;

-- _refresh_sharing: rebuild a resource's policies and privileges from the catalog and its grants
CREATE FUNCTION pubdata._refresh_sharing(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	pol name;
	rol name;
	cols text;
	g record;
	has_rls boolean;
BEGIN
	SELECT x.id, x.relation, x.status, x.share_class, c.relkind, d.role_name AS provider_role INTO r
	  FROM pubdata.resource x JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.relation::oid
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
	 WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	has_rls := r.relkind IN ('r', 'p');
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'on', true);

	IF has_rls THEN
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.relation);
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid OPERATOR(pg_catalog.=) r.relation::oid
						AND p.polname OPERATOR(pg_catalog.=) 'pubdata_provider') THEN
			EXECUTE pg_catalog.format('CREATE POLICY pubdata_provider ON %s FOR ALL TO %I USING (true) WITH CHECK (true)',
									  r.relation, r.provider_role);
		END IF;
		-- pubdata's own, and any permissive policy (made before registration)
		-- that would give rows to PUBLIC or to another department
		FOR pol IN SELECT p.polname FROM pg_catalog.pg_policy p
					WHERE p.polrelid OPERATOR(pg_catalog.=) r.relation::oid
					  AND (p.polname OPERATOR(pg_catalog.=) 'pubdata_shared' OR p.polname::text LIKE 'pubdata\_grant\_%'
						   OR (p.polpermissive AND p.polname OPERATOR(pg_catalog.<>) 'pubdata_provider'
							   AND EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) pr(role)
										   WHERE pr.role OPERATOR(pg_catalog.=) 0
											  OR (pg_catalog.pg_has_role(pr.role, 'pubdata_department', 'MEMBER')
												  AND NOT pg_catalog.pg_has_role(pr.role, r.provider_role, 'MEMBER')))))
		LOOP
			EXECUTE pg_catalog.format('DROP POLICY %I ON %s', pol, r.relation);
		END LOOP;
	END IF;
	-- no department but the provider keeps any privilege pubdata did not just
	-- decide: nor PUBLIC, nor a login of another department (a grant made
	-- before registration, or by ALTER DEFAULT PRIVILEGES)
	EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', r.relation);
	FOR rol IN SELECT d.role_name FROM pubdata.department d
				WHERE d.role_name OPERATOR(pg_catalog.<>) r.provider_role
				  AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) d.role_name)
			   UNION SELECT 'pubdata_department'::name
			   UNION SELECT x.rolname FROM pg_catalog.pg_roles x
					  WHERE pg_catalog.pg_has_role(x.oid, 'pubdata_department', 'MEMBER')
						AND NOT pg_catalog.pg_has_role(x.oid, r.provider_role, 'MEMBER')
						AND x.oid OPERATOR(pg_catalog.=) ANY (
							SELECT a.grantee FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
							 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid
							UNION SELECT a.grantee FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) a
							 WHERE t.attrelid OPERATOR(pg_catalog.=) r.relation::oid)
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %I', r.relation, rol);
	END LOOP;

	IF r.status OPERATOR(pg_catalog.=) 'published' AND r.share_class OPERATOR(pg_catalog.<>) 'non_shared' THEN
		IF r.share_class OPERATOR(pg_catalog.=) 'unconditional' THEN
			SELECT pg_catalog.string_agg(pg_catalog.quote_ident(i.column_name), ', ' ORDER BY i.attnum) INTO cols
			  FROM pubdata.resource_item i
			 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped'
			   AND i.attnum IS NOT NULL AND i.personal OPERATOR(pg_catalog.=) 'none'
			   AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional';
			IF cols IS NOT NULL THEN
				EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO pubdata_department', cols, r.relation);
				IF has_rls THEN
					EXECUTE pg_catalog.format('CREATE POLICY pubdata_shared ON %s FOR SELECT TO pubdata_department USING (true)', r.relation);
				END IF;
			END IF;
		END IF;
		FOR g IN SELECT s.*, d.role_name FROM pubdata.share_request s
				   JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) s.requester_id
				  WHERE s.resource_id OPERATOR(pg_catalog.=) r.id AND s.status OPERATOR(pg_catalog.=) 'approved'
					AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
					AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) d.role_name)
				  ORDER BY s.id
		LOOP
			cols := pubdata._grant_columns(r.id, g.items);
			CONTINUE WHEN cols IS NULL;
			EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO %I', cols, r.relation, g.role_name);
			IF has_rls THEN
				EXECUTE pg_catalog.format('CREATE POLICY %I ON %s FOR SELECT TO %I USING ((SELECT pubdata._grant_ok(%s)) AND (%s))',
										  'pubdata_grant_' || g.id, r.relation, g.role_name, g.id,
										  pubdata._scope_predicate(r.id, g.row_scope));
			END IF;
		END LOOP;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'off', true);
END
$$;
COMMENT ON FUNCTION pubdata._refresh_sharing(bigint) IS 'Rebuild the policies and column privileges of one resource from its class, status and live grants';

-- _on_register / _on_retire: called by the catalog functions
CREATE OR REPLACE FUNCTION pubdata._on_register(resource_id bigint) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata._refresh_sharing($1) $$;
CREATE OR REPLACE FUNCTION pubdata._on_retire(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	UPDATE pubdata.share_request s SET status = 'revoked', revoked_at = pg_catalog.now(), reason = coalesce(s.reason, 'resource retired')
	 WHERE s.resource_id OPERATOR(pg_catalog.=) $1 AND s.status IN ('pending', 'approved');
	PERFORM pubdata._refresh_sharing($1);
END
$$;

-- a change of status, class or items re-derives the privileges
CREATE FUNCTION pubdata._resource_sharing_changed() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'resource' THEN
		IF NEW.status IS DISTINCT FROM OLD.status OR NEW.share_class IS DISTINCT FROM OLD.share_class THEN
			PERFORM pubdata._refresh_sharing(NEW.id);
		END IF;
	ELSIF NEW.personal IS DISTINCT FROM OLD.personal OR NEW.share_class IS DISTINCT FROM OLD.share_class
		  OR NEW.state IS DISTINCT FROM OLD.state OR NEW.attnum IS DISTINCT FROM OLD.attnum THEN
		PERFORM pubdata._refresh_sharing(NEW.resource_id);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER resource_sharing AFTER UPDATE ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._resource_sharing_changed();
CREATE TRIGGER resource_item_sharing AFTER UPDATE ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._resource_sharing_changed();

-- _response_due: the provider's answer deadline
CREATE FUNCTION pubdata._response_due(at timestamptz) RETURNS timestamptz
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata.add_working_days($1, coalesce(NULLIF(pg_catalog.current_setting('pubdata.response_days', true), '')::integer, 5)) $$;

-- add_scenario: a department (or the bureau) proposes an application scenario
CREATE FUNCTION pubdata.add_scenario(code text, name text, purpose text, departments text[]) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s integer;
	d text;
BEGIN
	IF coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'scenario "%" needs a purpose', $1 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Say what the scenario is for (Art 19).';
	END IF;
	INSERT INTO pubdata.scenario (code, name, purpose, proposed_by)
	VALUES ($1, $2, $3, CASE WHEN pubdata.is_admin() THEN pubdata.department_of(pubdata.caller()) ELSE pubdata.current_department() END)
	RETURNING id INTO s;
	FOREACH d IN ARRAY coalesce($4, '{}') LOOP
		INSERT INTO pubdata.scenario_department VALUES (s, pubdata.department_id(d)) ON CONFLICT DO NOTHING;
	END LOOP;
	RETURN s;
EXCEPTION
	WHEN unique_violation THEN
		RAISE EXCEPTION 'scenario "%" already exists', $1 USING ERRCODE = 'duplicate_object';
	WHEN check_violation THEN
		RAISE EXCEPTION 'invalid scenario code "%"', $1 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use letters, digits, "_", "." and "-".';
END
$$;
COMMENT ON FUNCTION pubdata.add_scenario(text, text, text, text[]) IS 'Propose an application scenario with its departments (Art 19(3))';

-- add_scenario_resource: the resources and items a scenario needs
CREATE FUNCTION pubdata.add_scenario_resource(scenario text, resource text, items text[] DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s pubdata.scenario;
	rid bigint := pubdata.resource_id($2);
	bad text;
BEGIN
	SELECT * INTO s FROM pubdata.scenario x WHERE x.code OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'scenario "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pubdata.is_admin() AND s.proposed_by IS DISTINCT FROM pubdata.current_department() THEN
		RAISE EXCEPTION 'permission denied to change scenario "%"', $1 USING ERRCODE = 'insufficient_privilege',
			HINT = 'The proposing department or pubdata_admin changes a scenario.';
	END IF;
	IF s.approved_at IS NOT NULL THEN
		RAISE EXCEPTION 'scenario "%" is already approved', $1 USING ERRCODE = 'object_not_in_prerequisite_state',
			HINT = 'Propose a new scenario for new resources.';
	END IF;
	SELECT pg_catalog.string_agg(x, ', ') INTO bad FROM pg_catalog.unnest($3) x
	 WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) rid
						AND i.column_name OPERATOR(pg_catalog.=) x AND i.state OPERATOR(pg_catalog.<>) 'dropped');
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'resource "%" has no items %', $2, bad USING ERRCODE = 'undefined_column';
	END IF;
	INSERT INTO pubdata.scenario_resource VALUES (s.id, rid, $3::name[])
	ON CONFLICT (scenario_id, resource_id) DO UPDATE SET items = EXCLUDED.items;
END
$$;
COMMENT ON FUNCTION pubdata.add_scenario_resource(text, text, text[]) IS 'Add a resource (and its items) to a proposed scenario';

-- approve_scenario: the bureau approves a scenario (Art 19(3))
CREATE FUNCTION pubdata.approve_scenario(scenario text, valid_until timestamptz DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('approve scenarios');
	UPDATE pubdata.scenario x SET approved_at = pg_catalog.now(), approved_by = pubdata.caller(), valid_until = $2
	 WHERE x.code OPERATOR(pg_catalog.=) $1 AND x.approved_at IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'scenario "%" does not exist or is already approved', $1 USING ERRCODE = 'undefined_object';
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.approve_scenario(text, timestamptz) IS 'Approve a scenario: its departments get its resources at once (pubdata_admin)';

-- request_share: a department asks for a resource, stating its purpose (Art 19)
CREATE FUNCTION pubdata.request_share(resource text, purpose text, items text[] DEFAULT NULL,
									  scenario text DEFAULT NULL, mode text DEFAULT 'api')
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me integer := pubdata.current_department();
	r pubdata.resource;
	m pubdata.share_mode := pubdata._check_enum($5, 'pubdata.share_mode', 'share mode')::pubdata.share_mode;
	sc pubdata.scenario;
	bad text;
	auto boolean := false;
	id bigint;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.code OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'resource "%" does not exist', $1
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT code, name FROM pubdata.resource_catalog.';
	END IF;
	IF r.provider_id OPERATOR(pg_catalog.=) me THEN
		RAISE EXCEPTION 'department provides resource "%" itself', $1
			USING ERRCODE = 'invalid_parameter_value', HINT = 'A provider reads its own table directly.';
	END IF;
	IF r.status OPERATOR(pg_catalog.<>) 'published' THEN
		RAISE EXCEPTION 'resource "%" is %, not published', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Only published catalog entries are shared (Art 16).';
	END IF;
	IF r.share_class OPERATOR(pg_catalog.=) 'non_shared' THEN
		RAISE EXCEPTION 'resource "%" is not shared', $1
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Legal basis: %s', r.legal_basis),
				  HINT = 'Non-shared data is not provided to other departments (Art 18(3)).';
	END IF;
	IF coalesce(pg_catalog.btrim($2), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'a share request needs a purpose'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'State what the data is for (Art 19): purpose => ''...''.';
	END IF;
	SELECT pg_catalog.string_agg(x, ', ') INTO bad FROM pg_catalog.unnest($3) x
	 WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id
						AND i.column_name OPERATOR(pg_catalog.=) x AND i.state OPERATOR(pg_catalog.<>) 'dropped');
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'resource "%" has no items %', $1, bad
			USING ERRCODE = 'undefined_column', HINT = 'See SELECT column_name, title FROM pubdata.resource_item.';
	END IF;
	SELECT pg_catalog.string_agg(i.column_name::text, ', ') INTO bad FROM pubdata.resource_item i
	 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.column_name OPERATOR(pg_catalog.=) ANY ($3)
	   AND i.share_class OPERATOR(pg_catalog.=) 'non_shared';
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'items % of resource "%" are not shared', bad, $1
			USING ERRCODE = 'insufficient_privilege', HINT = 'Leave them out of the request.';
	END IF;

	IF $4 IS NOT NULL THEN
		SELECT * INTO sc FROM pubdata.scenario x WHERE x.code OPERATOR(pg_catalog.=) $4;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'scenario "%" does not exist', $4 USING ERRCODE = 'undefined_object';
		END IF;
		IF sc.approved_at IS NULL OR (sc.valid_until IS NOT NULL AND sc.valid_until OPERATOR(pg_catalog.<=) pg_catalog.now()) THEN
			RAISE EXCEPTION 'scenario "%" is not approved or no longer valid', $4
				USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'pubdata_admin approves scenarios with pubdata.approve_scenario().';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM pubdata.scenario_department x WHERE x.scenario_id OPERATOR(pg_catalog.=) sc.id
						AND x.department_id OPERATOR(pg_catalog.=) me) THEN
			RAISE EXCEPTION 'department is not part of scenario "%"', $4 USING ERRCODE = 'insufficient_privilege';
		END IF;
		-- the scenario covers the resource and every requested item
		auto := EXISTS (SELECT 1 FROM pubdata.scenario_resource x
						 WHERE x.scenario_id OPERATOR(pg_catalog.=) sc.id AND x.resource_id OPERATOR(pg_catalog.=) r.id
						   AND (x.items IS NULL OR ($3 IS NOT NULL AND $3::name[] OPERATOR(pg_catalog.<@) x.items)));
		IF NOT auto THEN
			RAISE EXCEPTION 'scenario "%" does not cover resource "%" with these items', $4, $1
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'Request only the items the scenario names, or request without the scenario.';
		END IF;
	ELSIF r.share_class OPERATOR(pg_catalog.=) 'unconditional' THEN
		-- unconditional: granted at once unless personal or restricted items are asked for
		-- (no items named means every item, personal ones included)
		auto := NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
							 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped'
							   AND ($3 IS NULL OR i.column_name OPERATOR(pg_catalog.=) ANY ($3))
							   AND (i.personal OPERATOR(pg_catalog.<>) 'none'
									OR coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.<>) 'unconditional'));
	END IF;

	INSERT INTO pubdata.share_request (resource_id, requester_id, requested_by, purpose, items, scenario_id, mode,
									   status, due_at, decided_at, decided_by, reason)
	VALUES (r.id, me, pubdata.caller(), $2, $3::name[], sc.id, m,
			CASE WHEN auto THEN 'approved'::pubdata.request_status ELSE 'pending'::pubdata.request_status END,
			pubdata._response_due(pg_catalog.now()),
			CASE WHEN auto THEN pg_catalog.now() END,
			CASE WHEN auto THEN 'pubdata'::name END,
			CASE WHEN auto AND sc.id IS NOT NULL THEN 'approved scenario ' || sc.code
				 WHEN auto THEN 'unconditional sharing' END)
	RETURNING share_request.id INTO id;
	IF auto THEN
		PERFORM pubdata._refresh_sharing(r.id);
	END IF;
	RETURN id;
END
$$;
COMMENT ON FUNCTION pubdata.request_share(text, text, text[], text, text) IS
	'Request a resource for a stated purpose; granted at once for unconditional data or an approved scenario, otherwise the provider decides';

-- decide_share: the provider answers a request; a refusal needs a reason (Art 34)
CREATE FUNCTION pubdata.decide_share(request bigint, approve boolean, reason text DEFAULT NULL,
									 row_scope jsonb DEFAULT NULL, expires_at timestamptz DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
	r pubdata.resource;
BEGIN
	SELECT * INTO g FROM pubdata.share_request s WHERE s.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'share request % does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	SELECT * INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) g.resource_id;
	IF pubdata.department_of(pubdata.caller()) IS DISTINCT FROM r.provider_id THEN
		RAISE EXCEPTION 'permission denied to decide share request %', $1
			USING ERRCODE = 'insufficient_privilege',
				  HINT = pg_catalog.format('The provider of resource "%s" decides.', r.code);
	END IF;
	IF g.status OPERATOR(pg_catalog.<>) 'pending' THEN
		RAISE EXCEPTION 'share request % is %, not pending', $1, g.status USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF $2 IS NULL THEN
		RAISE EXCEPTION 'approve must be true or false' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT $2 AND coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'refusing share request % needs a reason', $1
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Article 34: refusing to share without a reason is a violation.',
				  HINT = 'Give the legal or factual reason for the refusal.';
	END IF;
	IF $5 IS NOT NULL AND $5 OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
		RAISE EXCEPTION 'expiry % is not in the future', $5 USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pubdata._scope_predicate(r.id, $4);
	UPDATE pubdata.share_request s
	   SET status = CASE WHEN $2 THEN 'approved'::pubdata.request_status ELSE 'refused'::pubdata.request_status END,
		   reason = $3, row_scope = $4, expires_at = $5, decided_at = pg_catalog.now(), decided_by = pubdata.caller()
	 WHERE s.id OPERATOR(pg_catalog.=) $1;
	IF $2 THEN
		PERFORM pubdata._refresh_sharing(r.id);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.decide_share(bigint, boolean, text, jsonb, timestamptz) IS
	'The provider approves (optionally with a row scope and an expiry) or refuses with a reason a share request';

-- approve_copy: the bureau consents (or not) to a copy grant (Art 17)
CREATE FUNCTION pubdata.approve_copy(request bigint, approve boolean, reason text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
BEGIN
	PERFORM pubdata._require_admin('approve data copies');
	SELECT * INTO g FROM pubdata.share_request s WHERE s.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'share request % does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF g.mode OPERATOR(pg_catalog.<>) 'copy' OR g.status OPERATOR(pg_catalog.<>) 'approved' OR g.copy_approved_at IS NOT NULL THEN
		RAISE EXCEPTION 'share request % is not a copy grant awaiting the bureau', $1
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'The provider approves a request with mode => ''copy'' first.';
	END IF;
	IF $2 THEN
		UPDATE pubdata.share_request s SET copy_approved_at = pg_catalog.now(), copy_approved_by = pubdata.caller()
		 WHERE s.id OPERATOR(pg_catalog.=) $1;
	ELSE
		IF coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
			RAISE EXCEPTION 'refusing a copy needs a reason' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		-- the grant stays for request-response use; only copying is refused
		UPDATE pubdata.share_request s SET mode = 'api', reason = coalesce(s.reason || '; ', '') || 'copy refused: ' || $3
		 WHERE s.id OPERATOR(pg_catalog.=) $1;
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.approve_copy(bigint, boolean, text) IS 'The bureau consents to, or refuses with a reason, copying under a grant (pubdata_admin, Art 17)';

-- revoke_share: the provider, the requester or the bureau ends a grant
CREATE FUNCTION pubdata.revoke_share(request bigint, reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
	me integer := pubdata.department_of(pubdata.caller());
BEGIN
	SELECT * INTO g FROM pubdata.share_request s WHERE s.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'share request % does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pubdata.is_admin() AND me IS DISTINCT FROM g.requester_id
	   AND me IS DISTINCT FROM (SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) g.resource_id) THEN
		RAISE EXCEPTION 'permission denied to revoke share request %', $1 USING ERRCODE = 'insufficient_privilege',
			HINT = 'The provider, the requester or pubdata_admin revokes a grant.';
	END IF;
	IF g.status NOT IN ('pending', 'approved') THEN
		RAISE EXCEPTION 'share request % is already %', $1, g.status USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF coalesce(pg_catalog.btrim($2), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'revoking share request % needs a reason', $1 USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE pubdata.share_request s SET status = 'revoked', revoked_at = pg_catalog.now(),
		   reason = coalesce(s.reason || '; ', '') || 'revoked: ' || $2
	 WHERE s.id OPERATOR(pg_catalog.=) $1;
	PERFORM pubdata._refresh_sharing(g.resource_id);
END
$$;
COMMENT ON FUNCTION pubdata.revoke_share(bigint, text) IS 'End a grant (provider, requester or pubdata_admin); effective at the next query';

-- sweep_grants: mark expired grants and drop their privileges (run by the scheduler)
CREATE FUNCTION pubdata.sweep_grants() RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint;
	n integer := 0;
BEGIN
	FOR rid IN
		WITH x AS (UPDATE pubdata.share_request s SET status = 'expired'
					WHERE s.status OPERATOR(pg_catalog.=) 'approved' AND s.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()
					RETURNING s.resource_id)
		SELECT DISTINCT x.resource_id FROM x
	LOOP
		PERFORM pubdata._refresh_sharing(rid);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.sweep_grants() IS 'Mark expired grants and remove their privileges; returns the number of resources touched (expired grants already stop working at their expiry)';

-- share_request_status: requests with their deadlines, as people read them
CREATE VIEW pubdata.share_request_status AS
	SELECT s.id, r.code AS resource, p.code AS provider, q.code AS requester, s.purpose, s.items, sc.code AS scenario,
		   s.mode, s.status, s.requested_at, s.due_at, s.decided_at, s.reason, s.row_scope, s.expires_at,
		   s.copy_approved_at IS NOT NULL AS copy_approved,
		   coalesce(s.decided_at, now()) > s.due_at AS overdue,
		   s.status = 'approved' AND (s.expires_at IS NULL OR s.expires_at > now()) AS in_force
	  FROM pubdata.share_request s
	  JOIN pubdata.resource r ON r.id = s.resource_id
	  JOIN pubdata.department p ON p.id = r.provider_id
	  JOIN pubdata.department q ON q.id = s.requester_id
	  LEFT JOIN pubdata.scenario sc ON sc.id = s.scenario_id;
COMMENT ON VIEW pubdata.share_request_status IS 'Share requests with provider, requester, deadline, overdue flag (answer later than pubdata.response_days working days) and whether the grant is in force';

GRANT SELECT ON pubdata.scenario, pubdata.scenario_department, pubdata.scenario_resource, pubdata.share_request,
	pubdata.share_request_status TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.request_share(text, text, text[], text, text),
	pubdata.decide_share(bigint, boolean, text, jsonb, timestamptz),
	pubdata.revoke_share(bigint, text), pubdata.add_scenario(text, text, text, text[]),
	pubdata.add_scenario_resource(text, text, text[])
	TO pubdata_department, pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.approve_scenario(text, timestamptz), pubdata.approve_copy(bigint, boolean, text),
	pubdata.sweep_grants() TO pubdata_admin;
-- the policy check runs as the reading role
GRANT EXECUTE ON FUNCTION pubdata._grant_ok(bigint) TO pubdata_department, pubdata_admin;

-- Nobody changes pubdata's policies or turns row-level security off behind its back

-- _ddl_exempt(): the DDL guards stand aside for pubdata's own changes and for
-- superusers (a restore of pg_dump's output, say)
CREATE FUNCTION pubdata._ddl_exempt() RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata._internal_ddl()
		OR coalesce((SELECT a.rolsuper FROM pg_catalog.pg_roles a
					  WHERE a.rolname OPERATOR(pg_catalog.=) pubdata.caller()), false)
$$;
CREATE FUNCTION pubdata._guard_ddl_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	bad text;
BEGIN
	IF pubdata._ddl_exempt() THEN
		RETURN;
	END IF;
	SELECT r.code INTO bad FROM pg_catalog.pg_event_trigger_ddl_commands() c
	  JOIN pg_catalog.pg_policy p ON p.oid OPERATOR(pg_catalog.=) c.objid
	  JOIN pubdata.resource r ON r.relation::oid OPERATOR(pg_catalog.=) p.polrelid
	 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::regclass LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'policies of resource "%" are managed by pubdata', bad
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Share through pubdata.request_share() and pubdata.decide_share(); only pubdata changes these policies.';
	END IF;
	SELECT r.code INTO bad FROM pg_catalog.pg_event_trigger_ddl_commands() d
	  JOIN pubdata.resource r ON r.relation::oid OPERATOR(pg_catalog.=) d.objid
	  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.relation::oid
	 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
	   AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'row-level security of resource "%" cannot be disabled', bad
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Registered tables keep row-level security; retire the resource and drop the table if it is no longer provided.';
	END IF;
END
$$;
CREATE EVENT TRIGGER pubdata_guard_ddl ON ddl_command_end
	WHEN TAG IN ('CREATE POLICY', 'ALTER POLICY', 'ALTER TABLE')
	EXECUTE FUNCTION pubdata._guard_ddl_end();

CREATE FUNCTION pubdata._guard_policy_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	bad text;
BEGIN
	IF pubdata._ddl_exempt() THEN
		RETURN;
	END IF;
	SELECT r.code INTO bad FROM pg_catalog.pg_event_trigger_dropped_objects() o
	  JOIN pubdata.resource r ON r.relation_name OPERATOR(pg_catalog.=)
			pg_catalog.format('%I.%I', o.address_names[1], o.address_names[2])
	 WHERE o.object_type OPERATOR(pg_catalog.=) 'policy'
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger_dropped_objects() t
					   WHERE t.object_type OPERATOR(pg_catalog.=) 'table'
						 AND t.address_names OPERATOR(pg_catalog.=) o.address_names[1:2])
	 LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'policies of resource "%" are managed by pubdata', bad
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Revoke a grant with pubdata.revoke_share(); only pubdata drops these policies.';
	END IF;
END
$$;
CREATE EVENT TRIGGER pubdata_guard_policy_drop ON sql_drop
	WHEN TAG IN ('DROP POLICY')
	EXECUTE FUNCTION pubdata._guard_policy_drop();

-- Nobody grants privileges on a registered table behind pubdata's back: a
-- GRANT by its owner would give columns or rows no share request decided
-- (Art 16-18).  The privileges of the registered tables are fingerprinted
-- before a GRANT and compared after it.
CREATE FUNCTION pubdata._guard_acl_state() RETURNS jsonb
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(pg_catalog.jsonb_object_agg(r.code,
			pg_catalog.md5(coalesce(c.relacl::text, '') OPERATOR(pg_catalog.||)
				coalesce((SELECT pg_catalog.string_agg(a.attnum::text OPERATOR(pg_catalog.||) a.attacl::text, ';' ORDER BY a.attnum)
						   FROM pg_catalog.pg_attribute a
						  WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attacl IS NOT NULL), ''))), '{}')
	  FROM pubdata.resource r JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.relation::oid
$$;
COMMENT ON FUNCTION pubdata._guard_acl_state() IS 'Fingerprints of the privileges of every registered table, by resource code (internal)';

CREATE FUNCTION pubdata._guard_grant_start() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF pubdata._ddl_exempt() THEN
		PERFORM pg_catalog.set_config('pubdata.acl_snapshot', '', true);
		RETURN;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.acl_snapshot', pubdata._guard_acl_state()::text, true);
END
$$;
COMMENT ON FUNCTION pubdata._guard_grant_start() IS 'Before a GRANT: fingerprint the privileges of the registered tables (internal)';

CREATE FUNCTION pubdata._guard_grant_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	before text := pg_catalog.current_setting('pubdata.acl_snapshot', true);
	bad text;
BEGIN
	IF coalesce(before, '') OPERATOR(pg_catalog.=) '' THEN
		RETURN;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.acl_snapshot', '', true);
	SELECT n.key INTO bad FROM pg_catalog.jsonb_each_text(pubdata._guard_acl_state()) n
	 WHERE n.value IS DISTINCT FROM (before::jsonb OPERATOR(pg_catalog.->>) n.key)
	 ORDER BY n.key LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'privileges on the table of resource "%" are managed by pubdata', bad
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'A GRANT outside pubdata would give columns or rows no share request decided.',
				  HINT = 'Share through pubdata.request_share() and pubdata.decide_share(); open data through pubdata_open.';
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._guard_grant_end() IS 'After a GRANT: refuse it if it changed the privileges of a registered table (internal)';

CREATE EVENT TRIGGER pubdata_guard_grant_start ON ddl_command_start
	WHEN TAG IN ('GRANT')
	EXECUTE FUNCTION pubdata._guard_grant_start();
CREATE EVENT TRIGGER pubdata_guard_grant ON ddl_command_end
	WHEN TAG IN ('GRANT')
	EXECUTE FUNCTION pubdata._guard_grant_end();
-- ---------------------------------------------------------------------------
-- Working-day calendar (Art 13 deadlines): official holidays and adjusted
-- working days (调休) over the Monday-to-Friday week, Asia/Shanghai days
-- ---------------------------------------------------------------------------

CREATE TABLE pubdata.calendar_year (
	year		integer PRIMARY KEY CHECK (year BETWEEN 1990 AND 2200),
	source		text,
	builtin		boolean NOT NULL DEFAULT false,
	loaded_at	timestamptz NOT NULL DEFAULT now(),
	loaded_by	name NOT NULL DEFAULT pubdata.caller()
);
COMMENT ON TABLE pubdata.calendar_year IS
	'Years whose official holiday arrangements are loaded; a deadline needing any other year is an error while pubdata.calendar_strict is on';
COMMENT ON COLUMN pubdata.calendar_year.year IS 'calendar year (1990 to 2200)';
COMMENT ON COLUMN pubdata.calendar_year.source IS 'the notice the arrangements come from (e.g. the State Council General Office notice)';
COMMENT ON COLUMN pubdata.calendar_year.builtin IS 'shipped with the extension (not dumped by pg_dump: CREATE EXTENSION restores it; read-only)';
COMMENT ON COLUMN pubdata.calendar_year.loaded_at IS 'when the year was loaded';
COMMENT ON COLUMN pubdata.calendar_year.loaded_by IS 'the role that loaded it';

CREATE TABLE pubdata.calendar (
	day			date PRIMARY KEY CHECK (pg_catalog.isfinite(day)),
	is_workday	boolean NOT NULL,
	note		text,
	builtin		boolean NOT NULL DEFAULT false,
	year		integer NOT NULL GENERATED ALWAYS AS (EXTRACT(YEAR FROM day)::integer) STORED
				REFERENCES pubdata.calendar_year (year) ON DELETE CASCADE
);
CREATE INDEX calendar_year_idx ON pubdata.calendar (year);
COMMENT ON TABLE pubdata.calendar IS
	'Days that differ from, or are named in, the default Monday-to-Friday week: official holidays and adjusted working days (调休)';
COMMENT ON COLUMN pubdata.calendar.day IS 'the day (Asia/Shanghai)';
COMMENT ON COLUMN pubdata.calendar.is_workday IS 'true: a working day (e.g. a Saturday made a working day); false: a day of rest';
COMMENT ON COLUMN pubdata.calendar.note IS 'the holiday or adjustment, e.g. 春节 or 春节调休';
COMMENT ON COLUMN pubdata.calendar.builtin IS 'shipped with the extension (not dumped by pg_dump: CREATE EXTENSION restores it; read-only)';
COMMENT ON COLUMN pubdata.calendar.year IS 'the day''s year; it must be registered in pubdata.calendar_year';

-- The official arrangements, from the State Council General Office notices
-- (copy of data/cn_public_holidays_2025_2026.csv)
INSERT INTO pubdata.calendar_year (year, source, builtin) VALUES
	(2025, '国务院办公厅关于2025年部分节假日安排的通知', true),
	(2026, '国务院办公厅关于2026年部分节假日安排的通知', true);
INSERT INTO pubdata.calendar (day, is_workday, note, builtin) VALUES
	('2025-01-01', false, '元旦', true),
	('2025-01-26', true, '春节调休', true),
	('2025-01-28', false, '春节', true),
	('2025-01-29', false, '春节', true),
	('2025-01-30', false, '春节', true),
	('2025-01-31', false, '春节', true),
	('2025-02-01', false, '春节', true),
	('2025-02-02', false, '春节', true),
	('2025-02-03', false, '春节', true),
	('2025-02-04', false, '春节', true),
	('2025-02-08', true, '春节调休', true),
	('2025-04-04', false, '清明节', true),
	('2025-04-05', false, '清明节', true),
	('2025-04-06', false, '清明节', true),
	('2025-04-27', true, '劳动节调休', true),
	('2025-05-01', false, '劳动节', true),
	('2025-05-02', false, '劳动节', true),
	('2025-05-03', false, '劳动节', true),
	('2025-05-04', false, '劳动节', true),
	('2025-05-05', false, '劳动节', true),
	('2025-05-31', false, '端午节', true),
	('2025-06-01', false, '端午节', true),
	('2025-06-02', false, '端午节', true),
	('2025-09-28', true, '国庆节调休', true),
	('2025-10-01', false, '国庆节、中秋节', true),
	('2025-10-02', false, '国庆节、中秋节', true),
	('2025-10-03', false, '国庆节、中秋节', true),
	('2025-10-04', false, '国庆节、中秋节', true),
	('2025-10-05', false, '国庆节、中秋节', true),
	('2025-10-06', false, '国庆节、中秋节', true),
	('2025-10-07', false, '国庆节、中秋节', true),
	('2025-10-08', false, '国庆节、中秋节', true),
	('2025-10-11', true, '国庆节调休', true),
	('2026-01-01', false, '元旦', true),
	('2026-01-02', false, '元旦', true),
	('2026-01-03', false, '元旦', true),
	('2026-01-04', true, '元旦调休', true),
	('2026-02-14', true, '春节调休', true),
	('2026-02-15', false, '春节', true),
	('2026-02-16', false, '春节', true),
	('2026-02-17', false, '春节', true),
	('2026-02-18', false, '春节', true),
	('2026-02-19', false, '春节', true),
	('2026-02-20', false, '春节', true),
	('2026-02-21', false, '春节', true),
	('2026-02-22', false, '春节', true),
	('2026-02-23', false, '春节', true),
	('2026-02-28', true, '春节调休', true),
	('2026-04-04', false, '清明节', true),
	('2026-04-05', false, '清明节', true),
	('2026-04-06', false, '清明节', true),
	('2026-05-01', false, '劳动节', true),
	('2026-05-02', false, '劳动节', true),
	('2026-05-03', false, '劳动节', true),
	('2026-05-04', false, '劳动节', true),
	('2026-05-05', false, '劳动节', true),
	('2026-05-09', true, '劳动节调休', true),
	('2026-06-19', false, '端午节', true),
	('2026-06-20', false, '端午节', true),
	('2026-06-21', false, '端午节', true),
	('2026-09-20', true, '国庆节调休', true),
	('2026-09-25', false, '中秋节', true),
	('2026-09-26', false, '中秋节', true),
	('2026-09-27', false, '中秋节', true),
	('2026-10-01', false, '国庆节', true),
	('2026-10-02', false, '国庆节', true),
	('2026-10-03', false, '国庆节', true),
	('2026-10-04', false, '国庆节', true),
	('2026-10-05', false, '国庆节', true),
	('2026-10-06', false, '国庆节', true),
	('2026-10-07', false, '国庆节', true),
	('2026-10-10', true, '国庆节调休', true);

-- The shipped rows are part of the extension: refuse to change them (an
-- upgrade script that corrects them disables this trigger around its work).
CREATE FUNCTION pubdata._calendar_protect() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	RAISE EXCEPTION 'the shipped calendar of % cannot be changed',
			pg_catalog.to_jsonb(OLD) OPERATOR(pg_catalog.->>) CASE TG_TABLE_NAME WHEN 'calendar' THEN 'day' ELSE 'year' END
		USING ERRCODE = 'insufficient_privilege',
			  DETAIL = 'Rows with builtin = true are the official arrangements shipped with pubdata.',
			  HINT = 'Corrections to shipped years come with ALTER EXTENSION pubdata UPDATE; load other years with pubdata.load_calendar_year().';
END
$$;
COMMENT ON FUNCTION pubdata._calendar_protect() IS 'Trigger: the shipped (builtin) calendar rows are read-only';
CREATE TRIGGER calendar_protect BEFORE UPDATE OR DELETE ON pubdata.calendar
	FOR EACH ROW WHEN (OLD.builtin) EXECUTE FUNCTION pubdata._calendar_protect();
CREATE TRIGGER calendar_year_protect BEFORE UPDATE OR DELETE ON pubdata.calendar_year
	FOR EACH ROW WHEN (OLD.builtin) EXECUTE FUNCTION pubdata._calendar_protect();

-- Every change invalidates the per-backend calendar caches
CREATE FUNCTION pubdata._calendar_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_calendar_changed'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._calendar_changed() IS 'Trigger: tell every backend that the working-day calendar changed';
CREATE TRIGGER calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.calendar
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._calendar_changed();
CREATE TRIGGER calendar_year_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.calendar_year
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._calendar_changed();

SELECT pg_catalog.pg_extension_config_dump('pubdata.calendar_year', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('pubdata.calendar', 'WHERE NOT builtin');

-- Working-day arithmetic (C, cached per backend)
CREATE FUNCTION pubdata.is_workday(day date) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_workday_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_workday(date) IS
	'true when the day is a working day: Monday to Friday unless pubdata.calendar says otherwise (holidays, 调休)';

CREATE FUNCTION pubdata.add_working_days(t timestamptz, n integer) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'pubdata_add_working_days_sql'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.add_working_days(timestamptz, integer) IS
	'Deadline: the end (23:59:59.999999 Asia/Shanghai) of the n-th working day after the day of t; the day of receipt does not count; n = 0 is the end of that day';

CREATE FUNCTION pubdata.working_days_between(from_day date, to_day date) RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_working_days_between_date'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.working_days_between(date, date) IS
	'Working days after from_day up to and including to_day; negative when to_day is earlier';

CREATE FUNCTION pubdata.working_days_between(from_time timestamptz, to_time timestamptz) RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_working_days_between_tstz'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.working_days_between(timestamptz, timestamptz) IS
	'Working days between the Asia/Shanghai days of two instants: after the first day, up to and including the second';

-- load_calendar_year: the bureau loads a year's official arrangements
CREATE FUNCTION pubdata.load_calendar_year(year integer, holidays date[], workdays date[] DEFAULT '{}',
										   source text DEFAULT NULL, replace boolean DEFAULT false)
	RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	y integer := $1;
	bad date;
	old pubdata.calendar_year;
BEGIN
	PERFORM pubdata._require_admin('load a working-day calendar');
	IF y IS NULL OR y NOT BETWEEN 1990 AND 2200 THEN
		RAISE EXCEPTION 'invalid calendar year %', coalesce(y::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Years 1990 to 2200 can be loaded.';
	END IF;
	SELECT d INTO bad FROM pg_catalog.unnest(coalesce($2, '{}') OPERATOR(pg_catalog.||) coalesce($3, '{}')) AS d
	 WHERE d IS NULL OR EXTRACT(YEAR FROM d) OPERATOR(pg_catalog.<>) y LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'day % is not in year %', coalesce(pg_catalog.to_char(bad, 'YYYY-MM-DD'), 'NULL'), y
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Load one year at a time; every day must belong to it.';
	END IF;
	SELECT h INTO bad FROM pg_catalog.unnest(coalesce($2, '{}')) AS h
	 WHERE h OPERATOR(pg_catalog.=) ANY (coalesce($3, '{}')) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'day % is listed both as a holiday and as a working day', pg_catalog.to_char(bad, 'YYYY-MM-DD')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO old FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) y;
	IF FOUND THEN
		IF old.builtin THEN
			RAISE EXCEPTION 'the calendar of % is shipped with pubdata and cannot be replaced', y
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'Corrections to shipped years come with ALTER EXTENSION pubdata UPDATE.';
		ELSIF NOT coalesce($5, false) THEN
			RAISE EXCEPTION 'the calendar of % is already loaded', y
				USING ERRCODE = 'duplicate_object',
					  HINT = 'Pass replace => true to load it again.';
		END IF;
		DELETE FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) y;
	END IF;
	INSERT INTO pubdata.calendar_year (year, source) VALUES (y, $4);
	INSERT INTO pubdata.calendar (day, is_workday, note)
	SELECT DISTINCT h, false, 'holiday' FROM pg_catalog.unnest(coalesce($2, '{}')) AS h
	UNION
	SELECT DISTINCT w, true, 'adjusted working day' FROM pg_catalog.unnest(coalesce($3, '{}')) AS w;
	RETURN pubdata.working_days_between(pg_catalog.make_date(y - 1, 12, 31), pg_catalog.make_date(y, 12, 31));
END
$$;
COMMENT ON FUNCTION pubdata.load_calendar_year(integer, date[], date[], text, boolean) IS
	'pubdata_admin: load a year''s official holidays and adjusted working days (replace => true to reload); returns the year''s number of working days';

-- unload_calendar_year: the bureau removes a year it loaded
CREATE FUNCTION pubdata.unload_calendar_year(year integer) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('unload a working-day calendar');
	DELETE FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'the calendar of % is not loaded', $1
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT * FROM pubdata.calendar_years.';
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.unload_calendar_year(integer) IS
	'pubdata_admin: remove a loaded year (not a shipped one) and its days';

-- calendar_years: what is loaded, with each year's working days
CREATE VIEW pubdata.calendar_years AS
SELECT y.year, y.source, y.builtin, y.loaded_at, y.loaded_by,
	   (SELECT pg_catalog.count(*) FROM pubdata.calendar c
		 WHERE c.year OPERATOR(pg_catalog.=) y.year AND NOT c.is_workday
		   AND EXTRACT(ISODOW FROM c.day) OPERATOR(pg_catalog.<) 6) AS weekday_holidays,
	   (SELECT pg_catalog.count(*) FROM pubdata.calendar c
		 WHERE c.year OPERATOR(pg_catalog.=) y.year AND c.is_workday
		   AND EXTRACT(ISODOW FROM c.day) OPERATOR(pg_catalog.>=) 6) AS adjusted_workdays,
	   pubdata.working_days_between(pg_catalog.make_date(y.year - 1, 12, 31), pg_catalog.make_date(y.year, 12, 31)) AS workdays
  FROM pubdata.calendar_year y;
COMMENT ON VIEW pubdata.calendar_years IS
	'Loaded calendar years: holidays falling on weekdays, weekend days made working days (调休), and the year''s working days';

GRANT SELECT ON pubdata.calendar, pubdata.calendar_year, pubdata.calendar_years
	TO pubdata_admin, pubdata_department, pubdata_auditor;
-- the bureau may also maintain non-shipped rows by hand (builtin cannot be set)
GRANT INSERT (day, is_workday, note), UPDATE (is_workday, note), DELETE ON pubdata.calendar TO pubdata_admin;
GRANT INSERT (year, source), UPDATE (source), DELETE ON pubdata.calendar_year TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.is_workday(date), pubdata.add_working_days(timestamptz, integer),
	pubdata.working_days_between(date, date), pubdata.working_days_between(timestamptz, timestamptz)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.load_calendar_year(integer, date[], date[], text, boolean),
	pubdata.unload_calendar_year(integer) TO pubdata_admin;
-- ---------------------------------------------------------------------------
-- Objections to shared data (Art 13): a using department raises a ticket
-- against a record, the provider verifies it within 2 working days; business
-- goes on meanwhile (the record shows as under verification, reads are never
-- blocked)
-- ---------------------------------------------------------------------------

CREATE TYPE pubdata.objection_status AS ENUM ('open', 'acknowledged', 'resolved');
CREATE TYPE pubdata.objection_outcome AS ENUM ('corrected', 'confirmed_correct', 'rejected');
CREATE TYPE pubdata.objection_event_kind AS ENUM ('raised', 'acknowledged', 'resolved', 'overdue');
COMMENT ON TYPE pubdata.objection_status IS 'Art 13 ticket: open -> acknowledged (optional) -> resolved; lateness is the separate overdue flag';
COMMENT ON TYPE pubdata.objection_outcome IS 'corrected (the record was changed), confirmed_correct (the data was right), rejected (the objection is unfounded)';
COMMENT ON TYPE pubdata.objection_event_kind IS 'What happened to an objection ticket';

CREATE TABLE pubdata.objection (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id),
	record_key	jsonb NOT NULL CHECK (pg_catalog.jsonb_typeof(record_key) OPERATOR(pg_catalog.=) 'object'),
	item		name,
	description	text NOT NULL CHECK (pg_catalog.btrim(description) OPERATOR(pg_catalog.<>) ''),
	raised_by_department integer NOT NULL REFERENCES pubdata.department (id),
	raised_by_role name NOT NULL,
	provider_id	integer NOT NULL REFERENCES pubdata.department (id),
	raised_at	timestamptz NOT NULL DEFAULT now(),
	due_at		timestamptz NOT NULL,
	status		pubdata.objection_status NOT NULL DEFAULT 'open',
	acknowledged_at timestamptz,
	acknowledged_by name,
	resolved_at	timestamptz,
	resolved_by	name,
	outcome		pubdata.objection_outcome,
	resolution_note text,
	corrected_key jsonb,
	overdue		boolean NOT NULL DEFAULT false,
	overdue_at	timestamptz,
	CONSTRAINT objection_resolved_has_outcome
		CHECK ((status OPERATOR(pg_catalog.=) 'resolved') OPERATOR(pg_catalog.=) (outcome IS NOT NULL AND resolved_at IS NOT NULL)),
	CONSTRAINT objection_correction_link
		CHECK (corrected_key IS NULL OR outcome OPERATOR(pg_catalog.=) 'corrected')
);
CREATE INDEX objection_open_idx ON pubdata.objection (resource_id, record_key)
	WHERE status OPERATOR(pg_catalog.<>) 'resolved';
CREATE INDEX objection_due_idx ON pubdata.objection (due_at)
	WHERE status OPERATOR(pg_catalog.<>) 'resolved' AND NOT overdue;
CREATE INDEX objection_provider_idx ON pubdata.objection (provider_id);
COMMENT ON TABLE pubdata.objection IS
	'Objections to shared data (Art 13): raised by a using department, routed to the provider, due in pubdata.objection_due_days working days';
COMMENT ON COLUMN pubdata.objection.record_key IS 'the record objected to: its key columns and values, e.g. {"id_number": "3311..."}';
COMMENT ON COLUMN pubdata.objection.item IS 'the data item (column) objected to; NULL for the record as a whole';
COMMENT ON COLUMN pubdata.objection.raised_by_department IS 'the using department that raised it';
COMMENT ON COLUMN pubdata.objection.raised_by_role IS 'the role that raised it';
COMMENT ON COLUMN pubdata.objection.provider_id IS 'the providing department, which must verify it';
COMMENT ON COLUMN pubdata.objection.due_at IS 'end of the last working day allowed (Asia/Shanghai), from pubdata.add_working_days';
COMMENT ON COLUMN pubdata.objection.status IS 'open, acknowledged or resolved';
COMMENT ON COLUMN pubdata.objection.outcome IS 'corrected, confirmed_correct or rejected; set on resolution';
COMMENT ON COLUMN pubdata.objection.resolution_note IS 'the provider''s reason or description of the correction';
COMMENT ON COLUMN pubdata.objection.corrected_key IS 'for outcome corrected: the key of the record as corrected (the link to the changed record)';
COMMENT ON COLUMN pubdata.objection.overdue IS 'the deadline was missed (set by sweep_objections, or by a late resolution)';
COMMENT ON COLUMN pubdata.objection.overdue_at IS 'when sweep_objections found it overdue and raised the alert';

CREATE TABLE pubdata.objection_event (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	objection_id bigint NOT NULL REFERENCES pubdata.objection (id),
	at			timestamptz NOT NULL DEFAULT now(),
	kind		pubdata.objection_event_kind NOT NULL,
	actor		name NOT NULL,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX objection_event_ticket_idx ON pubdata.objection_event (objection_id, id);
COMMENT ON TABLE pubdata.objection_event IS 'The history of every objection ticket, one row per event';
COMMENT ON COLUMN pubdata.objection_event.actor IS 'the role that acted (the sweeping role for overdue events)';
COMMENT ON COLUMN pubdata.objection_event.detail IS 'event data: due time, outcome, note, correction link';

SELECT pg_catalog.pg_extension_config_dump('pubdata.objection', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.objection_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.objection_event', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.objection_event_id_seq', '');

-- Departments see the tickets they raised or must verify; the bureau and the
-- audit office see all.  Everything else goes through the functions below.
ALTER TABLE pubdata.objection ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.objection_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY objection_parties ON pubdata.objection FOR SELECT TO pubdata_department
	USING (raised_by_department OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(current_user))
		   OR provider_id OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(current_user)));
CREATE POLICY objection_oversight ON pubdata.objection FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
CREATE POLICY objection_event_parties ON pubdata.objection_event FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.objection o WHERE o.id OPERATOR(pg_catalog.=) objection_id));
CREATE POLICY objection_event_oversight ON pubdata.objection_event FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);

-- _objection_key: check that a record key names columns of the resource, with
-- scalar values of the columns' types, and return it in canonical form (each
-- value as the column's JSON value, e.g. {"id": "42"} becomes {"id": 42} for an
-- integer column), so that keys compare equal however they were typed
CREATE FUNCTION pubdata._objection_key(resource_id bigint, key jsonb, what text)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	k text;
	v jsonb;
	rowj jsonb;
BEGIN
	SELECT x.code, x.relation INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF $2 IS NULL OR pg_catalog.jsonb_typeof($2) OPERATOR(pg_catalog.<>) 'object' OR $2 OPERATOR(pg_catalog.=) '{}'::jsonb THEN
		RAISE EXCEPTION 'invalid %: %', $3, coalesce($2::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give the record''s key columns and values as a JSON object, e.g. ''{"id": 42}''.';
	END IF;
	FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each($2) e LOOP
		IF NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
						WHERE i.resource_id OPERATOR(pg_catalog.=) $1
						  AND i.column_name OPERATOR(pg_catalog.=) k
						  AND i.state OPERATOR(pg_catalog.<>) 'dropped') THEN
			RAISE EXCEPTION 'resource "%" has no item "%"', r.code, k
				USING ERRCODE = 'undefined_column',
					  HINT = 'The ' || $3 || ' names columns of the resource''s table: '
						  || (SELECT pg_catalog.string_agg(i.column_name::text, ', ' ORDER BY i.attnum)
								FROM pubdata.resource_item i
							   WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.state OPERATOR(pg_catalog.<>) 'dropped') || '.';
		END IF;
		IF pg_catalog.jsonb_typeof(v) NOT IN ('string', 'number', 'boolean') THEN
			RAISE EXCEPTION 'invalid value for key "%" in %: %', k, $3, v::text
				USING ERRCODE = 'invalid_parameter_value', HINT = 'Key values are strings, numbers or booleans.';
		END IF;
	END LOOP;
	IF r.relation IS NULL THEN
		RETURN $2;
	END IF;
	-- each value converted to its column's plain type (never through a
	-- domain's CHECK or other code a department may have written)
	rowj := '{}';
	FOR k IN SELECT e.key FROM pg_catalog.jsonb_each($2) e LOOP
		BEGIN
			EXECUTE pg_catalog.format('SELECT pg_catalog.jsonb_build_object(%L, ($1 OPERATOR(pg_catalog.->>) %L)::%s)',
									  k, k, pubdata._plain_type(r.relation, k))
			   INTO v USING $2;
		EXCEPTION WHEN data_exception THEN
			RAISE EXCEPTION 'invalid % for resource "%": %', $3, r.code, SQLERRM
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Each value must be valid for its column''s type.';
		END;
		rowj := rowj OPERATOR(pg_catalog.||) v;
	END LOOP;
	RETURN rowj;
END
$$;
COMMENT ON FUNCTION pubdata._objection_key(bigint, jsonb, text) IS
	'Internal: check a record key against the resource''s columns and types; returns it in canonical form';

-- _objection_in_scope: is the record among the rows shared with the caller's
-- department?  A department with a row-scoped grant neither raises objections
-- against, nor asks about, records outside its rows (the same error whether
-- the record exists or not)
CREATE FUNCTION pubdata._objection_in_scope(resource_id bigint, key jsonb) RETURNS boolean
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	g record;
	dept integer := pubdata.department_of(pubdata.caller());
	cond text;
	ok boolean;
BEGIN
	IF pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER') THEN
		RETURN true;
	END IF;
	SELECT x.relation, x.share_class, x.provider_id, c.relkind INTO r
	  FROM pubdata.resource x LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.relation::oid
	 WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF r.relation IS NULL OR r.provider_id OPERATOR(pg_catalog.=) dept
	   OR r.share_class OPERATOR(pg_catalog.=) 'unconditional'
	   OR EXISTS (SELECT 1 FROM pubdata.share_request s
				   WHERE s.resource_id OPERATOR(pg_catalog.=) $1 AND s.requester_id OPERATOR(pg_catalog.=) dept
					 AND pubdata._grant_live(s) AND coalesce(s.row_scope, '{}') OPERATOR(pg_catalog.=) '{}') THEN
		RETURN true;
	END IF;
	-- only tables are read here (a view would run as the extension owner)
	IF r.relkind OPERATOR(pg_catalog.<>) ALL ('{r,p,m}'::"char"[]) THEN
		RETURN false;
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.format('t.%I::%s IS NOT DISTINCT FROM ($1 OPERATOR(pg_catalog.->>) %L)::%s',
					k, pubdata._plain_type(r.relation, k), k, pubdata._plain_type(r.relation, k)), ' AND ')
	  INTO cond FROM pg_catalog.jsonb_object_keys($2) AS k;
	FOR g IN SELECT s.row_scope FROM pubdata.share_request s
			  WHERE s.resource_id OPERATOR(pg_catalog.=) $1 AND s.requester_id OPERATOR(pg_catalog.=) dept
				AND pubdata._grant_live(s)
	LOOP
		EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s t WHERE %s AND (%s))',
								  r.relation, cond, pubdata._scope_predicate($1, g.row_scope))
		   INTO ok USING $2;
		IF ok THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END
$$;
COMMENT ON FUNCTION pubdata._objection_in_scope(bigint, jsonb) IS
	'Internal: whether a record key names a row within the caller''s grants (row scopes)';
-- the view open_objection evaluates it as the reading role
GRANT EXECUTE ON FUNCTION pubdata._objection_in_scope(bigint, jsonb) TO pubdata_department, pubdata_admin, pubdata_auditor;

-- _objection_event: append to a ticket's history
CREATE FUNCTION pubdata._objection_event(objection_id bigint, kind pubdata.objection_event_kind, detail jsonb)
	RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata.objection_event (objection_id, kind, actor, detail)
	VALUES ($1, $2, pubdata.caller(), coalesce($3, '{}'));
$$;
COMMENT ON FUNCTION pubdata._objection_event(bigint, pubdata.objection_event_kind, jsonb) IS
	'Internal: record an event in an objection''s history';

-- raise_objection: a using department objects to a record of a shared resource
CREATE FUNCTION pubdata.raise_objection(resource text, record_key jsonb, item text, description text)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	dept integer := pubdata.current_department();
	r record;
	due timestamptz;
	uses boolean;
	key jsonb;
	oid_ bigint;
BEGIN
	SELECT x.id, x.code, x.relation, x.provider_id, x.status, x.share_class, d.code AS provider_code
	  INTO r
	  FROM pubdata.resource x JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
	 WHERE x.id OPERATOR(pg_catalog.=) pubdata.resource_id($1);
	IF r.provider_id OPERATOR(pg_catalog.=) dept THEN
		RAISE EXCEPTION 'department "%" provides resource "%" and cannot raise an objection against it', r.provider_code, r.code
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Objections (Art 13) are raised by the departments that use shared data.',
				  HINT = 'Correct your own data directly.';
	END IF;
	IF r.status OPERATOR(pg_catalog.=) 'retired' OR r.relation IS NULL THEN
		RAISE EXCEPTION 'resource "%" is retired', r.code
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Objections are raised against resources in service.';
	END IF;
	IF $3 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
									   WHERE i.resource_id OPERATOR(pg_catalog.=) r.id
										 AND i.column_name OPERATOR(pg_catalog.=) $3
										 AND i.state OPERATOR(pg_catalog.<>) 'dropped') THEN
		RAISE EXCEPTION 'resource "%" has no item "%"', r.code, $3
			USING ERRCODE = 'undefined_column',
				  HINT = 'Items: ' || (SELECT pg_catalog.string_agg(i.column_name::text, ', ' ORDER BY i.attnum)
										FROM pubdata.resource_item i
									   WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped') || '.';
	END IF;
	-- a department objects to data it uses: it must be able to read the item
	-- (or, for the record as a whole, some item) of the resource's table
	IF $3 IS NULL THEN
		uses := pg_catalog.has_any_column_privilege(pubdata.caller(), r.relation::oid, 'SELECT');
	ELSE
		uses := pg_catalog.has_column_privilege(pubdata.caller(), r.relation::oid, $3, 'SELECT');
	END IF;
	IF NOT coalesce(uses, false) THEN
		RAISE EXCEPTION 'department of role "%" does not use %resource "%"', pubdata.caller(),
				CASE WHEN $3 IS NULL THEN '' ELSE pg_catalog.format('item "%s" of ', $3) END, r.code
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'An objection is raised by a department that reads the data (through an interface or by hand).',
				  HINT = 'Request access to the resource first (it must be shared with your department).';
	END IF;
	key := pubdata._objection_key(r.id, $2, 'record key');
	IF NOT pubdata._objection_in_scope(r.id, key) THEN
		RAISE EXCEPTION 'record % is not among the rows of resource "%" shared with your department', key::text, r.code
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Objections are raised against records the department reads.';
	END IF;
	IF coalesce(pg_catalog.btrim($4), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'an objection needs a description'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say what is wrong with the record.';
	END IF;

	due := pubdata.add_working_days(pg_catalog.now(), pubdata._objection_due_days());
	INSERT INTO pubdata.objection (resource_id, record_key, item, description, raised_by_department,
								   raised_by_role, provider_id, due_at)
	VALUES (r.id, key, $3, $4, dept, pubdata.caller(), r.provider_id, due)
	RETURNING id INTO oid_;
	PERFORM pubdata._objection_event(oid_, 'raised',
		pg_catalog.jsonb_build_object('due_at', due, 'working_days', pubdata._objection_due_days()));
	RETURN oid_;
END
$$;
COMMENT ON FUNCTION pubdata.raise_objection(text, jsonb, text, text) IS
	'A department that reads a shared resource objects to a record (item NULL: the whole record); routed to the provider, due in pubdata.objection_due_days working days; returns the ticket id';

-- _objection_for_provider: lock a ticket the calling department must verify
CREATE FUNCTION pubdata._objection_for_provider(id bigint, action text)
	RETURNS pubdata.objection
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o pubdata.objection;
	dept integer := pubdata.current_department();
BEGIN
	SELECT * INTO o FROM pubdata.objection x WHERE x.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'objection % does not exist', coalesce($1::text, 'NULL')
			USING ERRCODE = 'undefined_object',
				  HINT = 'See SELECT id, status FROM pubdata.objection (a department sees the tickets it raised or must verify).';
	END IF;
	IF o.provider_id OPERATOR(pg_catalog.<>) dept THEN
		RAISE EXCEPTION 'only the providing department "%" may % objection %',
				(SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) o.provider_id), $2, o.id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Art 13: the provider verifies objections to its data.',
				  HINT = 'SET ROLE to the providing department''s role.';
	END IF;
	IF o.status OPERATOR(pg_catalog.=) 'resolved' THEN
		RAISE EXCEPTION 'objection % is already resolved (%)', o.id, o.outcome
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'A resolved ticket is closed; a new problem needs a new objection.';
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION pubdata._objection_for_provider(bigint, text) IS
	'Internal: lock an unresolved objection ticket that the calling department provides, or a clear error';

-- acknowledge_objection: the provider has seen the ticket and is verifying
CREATE FUNCTION pubdata.acknowledge_objection(id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o pubdata.objection := pubdata._objection_for_provider($1, 'acknowledge');
BEGIN
	IF o.status OPERATOR(pg_catalog.<>) 'open' THEN
		RAISE EXCEPTION 'objection % is already acknowledged', o.id
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Resolve it with pubdata.resolve_objection().';
	END IF;
	UPDATE pubdata.objection x SET status = 'acknowledged', acknowledged_at = pg_catalog.now(),
		   acknowledged_by = pubdata.caller()
	 WHERE x.id OPERATOR(pg_catalog.=) o.id;
	PERFORM pubdata._objection_event(o.id, 'acknowledged', '{}');
END
$$;
COMMENT ON FUNCTION pubdata.acknowledge_objection(bigint) IS
	'The providing department acknowledges an objection (the deadline still runs until it is resolved)';

-- resolve_objection: the provider's verdict
CREATE FUNCTION pubdata.resolve_objection(id bigint, outcome text, note text, corrected_key jsonb DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	oc pubdata.objection_outcome := pubdata._check_enum($2, 'pubdata.objection_outcome', 'objection outcome')::pubdata.objection_outcome;
	o pubdata.objection;
	r record;
	link jsonb;
	cond text;
	matches bigint;
	late boolean;
BEGIN
	IF oc IS NULL THEN
		RAISE EXCEPTION 'an objection''s outcome is required'
			USING ERRCODE = 'null_value_not_allowed', HINT = 'Use one of: corrected, confirmed_correct, rejected.';
	END IF;
	o := pubdata._objection_for_provider($1, 'resolve');
	IF coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'resolving objection % needs a note', o.id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Say what was corrected, or why the data is correct or the objection unfounded.';
	END IF;
	IF $4 IS NOT NULL AND oc OPERATOR(pg_catalog.<>) 'corrected' THEN
		RAISE EXCEPTION 'a corrected key is given only with outcome corrected'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT x.id, x.code, x.relation INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) o.resource_id;
	IF oc OPERATOR(pg_catalog.=) 'corrected' THEN
		-- link the correction to the record as it now is; it must exist once
		IF r.relation IS NULL THEN
			RAISE EXCEPTION 'the table of resource "%" no longer exists', r.code
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Resolve with outcome confirmed_correct or rejected.';
		END IF;
		link := pubdata._objection_key(r.id, coalesce($4, o.record_key), 'corrected key');
		SELECT pg_catalog.string_agg(pg_catalog.format('t.%I::%s IS NOT DISTINCT FROM ($1 OPERATOR(pg_catalog.->>) %L)::%s',
						k, pubdata._plain_type(r.relation, k), k, pubdata._plain_type(r.relation, k)), ' AND ')
		  INTO cond FROM pg_catalog.jsonb_object_keys(link) AS k;
		-- only a table is read here: a view's or foreign table's definition
		-- would run with this function's (the extension owner's) privileges,
		-- so the key of such a resource is linked as given
		IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid)
		   OPERATOR(pg_catalog.=) ANY ('{r,p,m}'::"char"[]) THEN
			EXECUTE pg_catalog.format(
				'SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s t WHERE %s LIMIT 2) s',
				r.relation, cond)
			   INTO matches USING link;
		ELSE
			matches := 1;
		END IF;
		IF matches OPERATOR(pg_catalog.<>) 1 THEN
			RAISE EXCEPTION 'corrected key % matches % records of resource "%"', link::text,
					CASE WHEN matches OPERATOR(pg_catalog.=) 0 THEN 'no' ELSE 'several' END, r.code
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A correction is linked to exactly one record.',
					  HINT = 'Correct the record first, then pass corrected_key => the key of the record as corrected.';
		END IF;
	END IF;
	late := pg_catalog.now() OPERATOR(pg_catalog.>) o.due_at;
	UPDATE pubdata.objection x
	   SET status = 'resolved', resolved_at = pg_catalog.now(), resolved_by = pubdata.caller(),
		   outcome = oc, resolution_note = $3, corrected_key = link,
		   overdue = x.overdue OR late
	 WHERE x.id OPERATOR(pg_catalog.=) o.id;
	PERFORM pubdata._objection_event(o.id, 'resolved',
		pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('outcome', oc, 'note', $3, 'corrected_key', link, 'on_time', NOT late)));
END
$$;
COMMENT ON FUNCTION pubdata.resolve_objection(bigint, text, text, jsonb) IS
	'The providing department resolves an objection: corrected (linked to the record as corrected, by corrected_key or the original key), confirmed_correct or rejected, with a note';

-- sweep_objections: flag tickets past their deadline, once each, and alert
CREATE FUNCTION pubdata.sweep_objections() RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t record;
	n integer := 0;
BEGIN
	PERFORM pubdata._require_admin('sweep objections');
	FOR t IN
		UPDATE pubdata.objection o SET overdue = true, overdue_at = pg_catalog.now()
		 WHERE o.status OPERATOR(pg_catalog.<>) 'resolved' AND NOT o.overdue
		   AND o.due_at OPERATOR(pg_catalog.<) pg_catalog.now()
		RETURNING o.id, o.resource_id, o.provider_id, o.raised_by_department, o.raised_at, o.due_at, o.status
	LOOP
		PERFORM pubdata._objection_event(t.id, 'overdue', pg_catalog.jsonb_build_object('due_at', t.due_at));
		PERFORM pg_catalog.pg_notify('pubdata_alert', pg_catalog.jsonb_build_object(
			'kind', 'objection_overdue',
			'objection', t.id,
			'resource', (SELECT x.code FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) t.resource_id),
			'provider', (SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) t.provider_id),
			'raised_by', (SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) t.raised_by_department),
			'status', t.status,
			'raised_at', t.raised_at,
			'due_at', t.due_at)::text);
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.sweep_objections() IS
	'pubdata_admin and the scheduler: mark unresolved objections past their deadline overdue, record the event and NOTIFY pubdata_alert once per ticket; returns how many';

-- under_verification: is a record the subject of an unresolved objection?
CREATE FUNCTION pubdata.under_verification(resource text, record_key jsonb) RETURNS boolean
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
BEGIN
	SELECT x.id, x.code, x.relation INTO r FROM pubdata.resource x
	 WHERE x.id OPERATOR(pg_catalog.=) pubdata.resource_id($1);
	IF NOT (pubdata.is_admin()
			OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
			OR coalesce(pg_catalog.has_any_column_privilege(pubdata.caller(), r.relation::oid, 'SELECT'), false)) THEN
		RAISE EXCEPTION 'permission denied for resource "%"', r.code
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Only readers of the resource see its verification state.';
	END IF;
	IF NOT pubdata._objection_in_scope(r.id, pubdata._objection_key(r.id, $2, 'record key')) THEN
		RAISE EXCEPTION 'record % is not among the rows of resource "%" shared with your department',
				pubdata._objection_key(r.id, $2, 'record key')::text, r.code
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Only readers of a record see its verification state.';
	END IF;
	RETURN EXISTS (SELECT 1 FROM pubdata.objection o
					WHERE o.resource_id OPERATOR(pg_catalog.=) r.id
					  AND o.record_key OPERATOR(pg_catalog.=) pubdata._objection_key(r.id, $2, 'record key')
					  AND o.status OPERATOR(pg_catalog.<>) 'resolved');
END
$$;
COMMENT ON FUNCTION pubdata.under_verification(text, jsonb) IS
	'true while the record (by its key) has an unresolved objection (Art 13: shown as under verification; reads are never blocked)';

-- open_objection: unresolved tickets, for readers to join to the records they read
CREATE VIEW pubdata.open_objection WITH (security_barrier) AS
SELECT o.id, x.code AS resource, o.resource_id, o.record_key, o.item, o.status, o.raised_at, o.due_at, o.overdue
  FROM pubdata.objection o
  JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) o.resource_id
 WHERE o.status OPERATOR(pg_catalog.<>) 'resolved'
   AND (coalesce(pg_catalog.has_any_column_privilege(x.relation::oid, 'SELECT'), false)
		OR pg_catalog.pg_has_role('pubdata_admin', 'MEMBER')
		OR pg_catalog.pg_has_role('pubdata_auditor', 'MEMBER'))
   AND pubdata._objection_in_scope(o.resource_id, o.record_key);
COMMENT ON VIEW pubdata.open_objection IS
	'Records under verification: unresolved objections on the resources the querying role can read; join on resource and record_key';
COMMENT ON COLUMN pubdata.open_objection.resource IS 'resource code';
COMMENT ON COLUMN pubdata.open_objection.record_key IS 'the record''s key as a JSON object; compare with jsonb_build_object(''key'', t.key)';

-- objection_stats: per-provider figures (Art 13, 28)
CREATE VIEW pubdata.objection_stats AS
SELECT d.code AS provider, d.name AS provider_name,
	   pg_catalog.count(*) AS tickets,
	   pg_catalog.count(*) FILTER (WHERE o.status OPERATOR(pg_catalog.<>) 'resolved') AS unresolved,
	   pg_catalog.count(*) FILTER (WHERE o.status OPERATOR(pg_catalog.=) 'resolved') AS resolved,
	   pg_catalog.count(*) FILTER (WHERE o.resolved_at OPERATOR(pg_catalog.<=) o.due_at) AS resolved_on_time,
	   pg_catalog.count(*) FILTER (WHERE o.overdue OR (o.status OPERATOR(pg_catalog.<>) 'resolved'
													   AND o.due_at OPERATOR(pg_catalog.<) pg_catalog.now())) AS missed_deadline,
	   pg_catalog.round(pg_catalog.count(*) FILTER (WHERE o.resolved_at OPERATOR(pg_catalog.<=) o.due_at)::numeric
			OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE o.status OPERATOR(pg_catalog.=) 'resolved'
														   OR o.due_at OPERATOR(pg_catalog.<) pg_catalog.now()), 0), 3) AS on_time_rate,
	   pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY pubdata.working_days_between(o.raised_at, o.resolved_at))
			FILTER (WHERE o.status OPERATOR(pg_catalog.=) 'resolved') AS median_resolution_working_days,
	   pg_catalog.count(*) FILTER (WHERE o.outcome OPERATOR(pg_catalog.=) 'corrected') AS corrected,
	   pg_catalog.count(*) FILTER (WHERE o.outcome OPERATOR(pg_catalog.=) 'confirmed_correct') AS confirmed_correct,
	   pg_catalog.count(*) FILTER (WHERE o.outcome OPERATOR(pg_catalog.=) 'rejected') AS rejected
  FROM pubdata.objection o
  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) o.provider_id
 GROUP BY d.id, d.code, d.name;
COMMENT ON VIEW pubdata.objection_stats IS
	'Per providing department: tickets, resolved on time, missed deadlines, on-time rate (on time / resolved or past due), median resolution time in working days, outcomes';
COMMENT ON COLUMN pubdata.objection_stats.on_time_rate IS 'tickets resolved by their deadline / tickets resolved or past their deadline';
COMMENT ON COLUMN pubdata.objection_stats.median_resolution_working_days IS 'median of working_days_between(raised_at, resolved_at) over resolved tickets (0: resolved the day it was raised)';

CREATE FUNCTION pubdata._objection_due_days() RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_objection_due_days_sql'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._objection_due_days() IS 'Internal: the value of pubdata.objection_due_days';

GRANT SELECT ON pubdata.objection, pubdata.objection_event, pubdata.open_objection, pubdata.objection_stats
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.raise_objection(text, jsonb, text, text),
	pubdata.acknowledge_objection(bigint), pubdata.resolve_objection(bigint, text, text, jsonb)
	TO pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.under_verification(text, jsonb)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.sweep_objections() TO pubdata_admin;
-- ---------------------------------------------------------------------------
-- Scheduler (Art 8(5), 14, 15): jobs, runs, aggregation, overdue detection.
-- The launcher and job workers are in src/scheduler.c.
-- ---------------------------------------------------------------------------

CREATE TYPE pubdata.job_kind AS ENUM ('aggregation', 'quality', 'objection_sweep', 'grant_sweep', 'custom');
CREATE TYPE pubdata.job_mode AS ENUM ('full', 'incremental', 'append');
CREATE TYPE pubdata.job_status AS ENUM ('running', 'succeeded', 'failed', 'timed_out');
CREATE TYPE pubdata.schedule_kind AS ENUM ('frequency', 'interval', 'cron');
COMMENT ON TYPE pubdata.job_kind IS 'What a scheduled job does: aggregation into a resource, quality measurement, objection or grant-expiry sweep, custom SQL';
COMMENT ON TYPE pubdata.job_mode IS 'Aggregation mode: full refresh (delete + insert in one transaction), incremental (upsert by key) or append';
COMMENT ON TYPE pubdata.job_status IS 'State of one run of a job';
COMMENT ON TYPE pubdata.schedule_kind IS 'frequency: the resource''s catalog update_frequency; interval; cron (5 fields, server time zone)';

CREATE TABLE pubdata.job (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	name		text NOT NULL,
	kind		pubdata.job_kind NOT NULL,
	resource_id	bigint REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	source		text,
	source_is_query boolean NOT NULL DEFAULT false,
	mode		pubdata.job_mode,
	key_columns	name[],
	run_id_column name,
	schedule	text,
	schedule_kind pubdata.schedule_kind NOT NULL,
	enabled		boolean NOT NULL DEFAULT true,
	timeout		interval NOT NULL DEFAULT '1 hour' CHECK (timeout >= '0'),
	max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
	retry_backoff interval NOT NULL DEFAULT '1 minute' CHECK (retry_backoff >= '0'),
	next_run_at	timestamptz,
	failures	integer NOT NULL DEFAULT 0,
	last_success_at timestamptz,
	run_as		name NOT NULL,
	builtin		boolean NOT NULL DEFAULT false,
	created_by	name NOT NULL DEFAULT current_user,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT aggregation_has_source
		CHECK (kind <> 'aggregation' OR (resource_id IS NOT NULL AND source IS NOT NULL AND mode IS NOT NULL)),
	CONSTRAINT incremental_has_keys
		CHECK (mode IS DISTINCT FROM 'incremental' OR coalesce(cardinality(key_columns), 0) > 0)
);
CREATE INDEX job_due ON pubdata.job (next_run_at) WHERE enabled;
CREATE INDEX job_resource ON pubdata.job (resource_id);
COMMENT ON TABLE pubdata.job IS 'Scheduled jobs run by the pubdata launcher: aggregation at the catalog frequency (Art 8(5), 14), sweeps, quality runs';
COMMENT ON COLUMN pubdata.job.source IS 'aggregation: a single SELECT or a schema-qualified table (local or postgres_fdw foreign table); custom: the SQL to run';
COMMENT ON COLUMN pubdata.job.key_columns IS 'incremental mode: the columns of a unique index of the resource table used to upsert';
COMMENT ON COLUMN pubdata.job.run_id_column IS 'bigint column of the resource table that receives the id of the run that wrote each row';
COMMENT ON COLUMN pubdata.job.schedule IS 'NULL: the resource''s update_frequency; an interval (''15 minutes''); or a 5-field cron expression';
COMMENT ON COLUMN pubdata.job.timeout IS 'statement timeout of each run (0: none)';
COMMENT ON COLUMN pubdata.job.max_attempts IS 'attempts per scheduled occurrence: a failed run is retried after retry_backoff * 2^(failures-1) until this many have failed';
COMMENT ON COLUMN pubdata.job.next_run_at IS 'when the launcher starts the job next (NULL: only run_job_now)';
COMMENT ON COLUMN pubdata.job.failures IS 'consecutive failed attempts of the current occurrence';
COMMENT ON COLUMN pubdata.job.run_as IS 'role the job runs as (an aggregation runs as its provider department''s role)';
COMMENT ON COLUMN pubdata.job.builtin IS 'created by the extension (not dumped by pg_dump)';

CREATE TABLE pubdata.job_run (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	job_id		bigint NOT NULL REFERENCES pubdata.job (id) ON DELETE CASCADE,
	status		pubdata.job_status NOT NULL,
	scheduled_at timestamptz,
	started_at	timestamptz NOT NULL,
	finished_at	timestamptz,
	rows_read	bigint,
	rows_written bigint,
	error		text,
	attempt		integer NOT NULL DEFAULT 1,
	pid			integer
);
CREATE INDEX job_run_job ON pubdata.job_run (job_id, started_at);
CREATE INDEX job_run_running ON pubdata.job_run (job_id) WHERE status = 'running';
CREATE INDEX job_run_finished ON pubdata.job_run (finished_at);
COMMENT ON TABLE pubdata.job_run IS 'Every run of every job; trimmed after pubdata.job_run_retention';
COMMENT ON COLUMN pubdata.job_run.scheduled_at IS 'when the run was due (NULL for run_job_now); started_at - scheduled_at is the lateness';
COMMENT ON COLUMN pubdata.job_run.attempt IS '1 for the first attempt of an occurrence, 2.. for retries';
COMMENT ON COLUMN pubdata.job_run.pid IS 'process id of the job worker';

CREATE TABLE pubdata.aggregation_alert (
	resource_id	bigint PRIMARY KEY REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	overdue_since timestamptz NOT NULL,
	alerted_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.aggregation_alert IS 'Open overdue episodes: one NOTIFY pubdata_alert per episode; the row goes when the resource is on time again';

SELECT pg_catalog.pg_extension_config_dump('pubdata.job', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('pubdata.job_id_seq', '');

-- ---------------------------------------------------------------------------
-- C entry points
-- ---------------------------------------------------------------------------
CREATE FUNCTION pubdata.cron_next(expr text, after timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'pubdata_cron_next'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.cron_next(text, timestamptz) IS
	'The first minute after "after" matching a 5-field cron expression (minute hour day-of-month month day-of-week), in the session time zone';

CREATE FUNCTION pubdata._check_select(query text) RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_check_select'
	LANGUAGE C STRICT;
COMMENT ON FUNCTION pubdata._check_select(text) IS 'Error unless the text is exactly one SELECT statement (internal)';

CREATE FUNCTION pubdata._launch_job(job bigint, run bigint) RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_launch_job'
	LANGUAGE C STRICT;
COMMENT ON FUNCTION pubdata._launch_job(bigint, bigint) IS 'Start a job worker for one run and wait for it (internal; see run_job_now)';

CREATE FUNCTION pubdata._wake_launcher() RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_wake_launcher_sql'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._wake_launcher() IS 'Set the launcher''s latch; true when a launcher runs (internal)';

CREATE FUNCTION pubdata.launcher_pid() RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_launcher_pid'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata.launcher_pid() IS 'Process id of the pubdata launcher, NULL when none runs (not preloaded, or waiting for its database)';

CREATE FUNCTION pubdata._job_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_job_changed'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._job_changed() IS 'Trigger: wake the launcher when a transaction that changed pubdata.job commits';

CREATE TRIGGER job_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.job
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._job_changed();

-- ---------------------------------------------------------------------------
-- Schedules
-- ---------------------------------------------------------------------------

-- frequency_interval(f): how old the last aggregation of a resource may be
CREATE FUNCTION pubdata.frequency_interval(f pubdata.update_frequency) RETURNS interval
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE f
		WHEN 'realtime' THEN interval '15 minutes'
		WHEN 'hourly' THEN interval '1 hour'
		WHEN 'daily' THEN interval '1 day'
		WHEN 'weekly' THEN interval '7 days'
		WHEN 'monthly' THEN interval '1 month'
		WHEN 'quarterly' THEN interval '3 months'
		WHEN 'semiannual' THEN interval '6 months'
		WHEN 'annual' THEN interval '1 year'
		ELSE NULL END				-- on_demand: no schedule, never overdue
$$;
COMMENT ON FUNCTION pubdata.frequency_interval(pubdata.update_frequency) IS
	'Period of a catalog update frequency: realtime 15 min, hourly, daily, weekly 7 days, monthly, quarterly, semiannual, annual; on_demand NULL';

-- _schedule_kind(schedule): validate a schedule and say which kind it is
CREATE FUNCTION pubdata._schedule_kind(schedule text) RETURNS pubdata.schedule_kind
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	iv interval;
BEGIN
	IF schedule IS NULL THEN
		RETURN 'frequency';
	END IF;
	IF pg_catalog.btrim(schedule) ~ '^\S+\s+\S+\s+\S+\s+\S+\s+\S+$' AND schedule !~ '[A-Za-z]' THEN
		PERFORM pubdata.cron_next(schedule, pg_catalog.now());
		RETURN 'cron';
	END IF;
	BEGIN
		iv := schedule::interval;
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
		iv := NULL;
	END;
	IF iv IS NULL OR iv < interval '1 second' THEN
		RAISE EXCEPTION 'invalid schedule "%"', schedule
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A schedule is an interval of at least one second, a 5-field cron expression, or NULL.',
				  HINT = 'E.g. ''15 minutes'', ''0 2 * * *'' (02:00 every day), or NULL for the resource''s update frequency.';
	END IF;
	RETURN 'interval';
END
$$;

-- _next_run(job, after): the job's next occurrence after a time (NULL: none)
CREATE FUNCTION pubdata._next_run(job_id bigint, after timestamptz) RETURNS timestamptz
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE j.schedule_kind
		WHEN 'cron' THEN pubdata.cron_next(j.schedule, after)
		WHEN 'interval' THEN after OPERATOR(pg_catalog.+) j.schedule::interval
		ELSE after OPERATOR(pg_catalog.+) pubdata.frequency_interval(r.update_frequency) END
	  FROM pubdata.job j LEFT JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) j.resource_id
	 WHERE j.id OPERATOR(pg_catalog.=) job_id
$$;

-- _first_run(kind, schedule, frequency): when a new job runs first: at once,
-- except cron (its next match) and on_demand (only by run_job_now)
CREATE FUNCTION pubdata._first_run(sk pubdata.schedule_kind, schedule text, f pubdata.update_frequency)
	RETURNS timestamptz
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE sk
		WHEN 'cron' THEN pubdata.cron_next(schedule, pg_catalog.now())
		WHEN 'interval' THEN pg_catalog.now()
		ELSE CASE WHEN pubdata.frequency_interval(f) IS NULL THEN NULL ELSE pg_catalog.now() END END
$$;

-- ---------------------------------------------------------------------------
-- What the launcher and the job workers call (internal, superuser only)
-- ---------------------------------------------------------------------------

-- _runnable(job): the job may be started now (enabled, not running, and its
-- sweep function is installed: the sweeps come from other parts of pubdata)
CREATE FUNCTION pubdata._runnable(j pubdata.job, exclude bigint[]) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT j.enabled
	   AND NOT j.id OPERATOR(pg_catalog.=) ANY (exclude)
	   AND NOT EXISTS (SELECT 1 FROM pubdata.job_run r
					   WHERE r.job_id OPERATOR(pg_catalog.=) j.id AND r.status OPERATOR(pg_catalog.=) 'running')
	   AND (j.kind OPERATOR(pg_catalog.<>) 'objection_sweep'
			OR pg_catalog.to_regprocedure('pubdata.sweep_objections()') IS NOT NULL)
	   AND (j.kind OPERATOR(pg_catalog.<>) 'grant_sweep'
			OR pg_catalog.to_regprocedure('pubdata.sweep_grants()') IS NOT NULL)
$$;

CREATE FUNCTION pubdata._due_jobs(lim integer, exclude bigint[])
	RETURNS TABLE (job_id bigint, scheduled_at timestamptz)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT j.id, j.next_run_at FROM pubdata.job j
	 WHERE j.enabled AND j.next_run_at OPERATOR(pg_catalog.<=) pg_catalog.now()
	   AND pubdata._runnable(j, exclude)
	 ORDER BY j.next_run_at
	 LIMIT lim
$$;

CREATE FUNCTION pubdata._next_due(exclude bigint[]) RETURNS timestamptz
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT j.next_run_at FROM pubdata.job j
	 WHERE j.enabled AND j.next_run_at IS NOT NULL AND pubdata._runnable(j, exclude)
	 ORDER BY j.next_run_at
	 LIMIT 1
$$;

-- _job_launched(job): move next_run_at to the next occurrence; when the
-- server was down, that is after now, so each job catches up at most once
CREATE FUNCTION pubdata._job_launched(job_id bigint) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	prev timestamptz;
	nxt timestamptz;
BEGIN
	SELECT j.next_run_at INTO prev FROM pubdata.job j WHERE j.id OPERATOR(pg_catalog.=) job_id;
	nxt := pubdata._next_run(job_id, coalesce(prev, pg_catalog.now()));
	IF nxt IS NOT NULL AND nxt OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
		nxt := pubdata._next_run(job_id, pg_catalog.now());
	END IF;
	UPDATE pubdata.job j SET next_run_at = nxt WHERE j.id OPERATOR(pg_catalog.=) job_id;
END
$$;

-- _start_run(run, job, scheduled_at, pid): record a run as running and
-- return what the worker needs to run it
CREATE FUNCTION pubdata._start_run(run bigint, job bigint, scheduled timestamptz, worker_pid integer)
	RETURNS TABLE (kind text, source text, source_is_query boolean, mode text, key_columns text[],
				   run_id_column text, run_as oid, timeout_ms bigint, target oid, resource_code text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	INSERT INTO pubdata.job_run (id, job_id, status, scheduled_at, started_at, attempt, pid)
	SELECT run, j.id, 'running', scheduled, pg_catalog.clock_timestamp(), j.failures OPERATOR(pg_catalog.+) 1, worker_pid
	  FROM pubdata.job j WHERE j.id OPERATOR(pg_catalog.=) job;
	RETURN QUERY
	SELECT j.kind::text, j.source, j.source_is_query, j.mode::text, j.key_columns::text[],
		   j.run_id_column::text,
		   (SELECT a.oid FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) j.run_as),
		   (pg_catalog.date_part('epoch', j.timeout) OPERATOR(pg_catalog.*) 1000)::bigint,
		   r.relation::oid, r.code
	  FROM pubdata.job j LEFT JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) j.resource_id
	 WHERE j.id OPERATOR(pg_catalog.=) job;
END
$$;

-- _finish_run(run, status, error, rows read, rows written): record the end of
-- a run; a failure schedules a retry with exponential back-off (never later
-- than the next regular occurrence) until the job's max_attempts have
-- failed, then the job waits for its next regular occurrence
CREATE FUNCTION pubdata._finish_run(run bigint, st pubdata.job_status, err text, nread bigint, nwritten bigint)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	jid bigint;
BEGIN
	UPDATE pubdata.job_run r
	   SET status = st, finished_at = pg_catalog.clock_timestamp(), error = err,
		   rows_read = nread, rows_written = nwritten
	 WHERE r.id OPERATOR(pg_catalog.=) run AND r.status OPERATOR(pg_catalog.=) 'running'
	RETURNING r.job_id INTO jid;
	IF jid IS NULL THEN
		RETURN;
	END IF;
	IF st OPERATOR(pg_catalog.=) 'succeeded' THEN
		UPDATE pubdata.job j SET failures = 0, last_success_at = pg_catalog.clock_timestamp()
		 WHERE j.id OPERATOR(pg_catalog.=) jid;
	ELSE
		UPDATE pubdata.job j
		   SET failures = CASE WHEN j.failures OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) j.max_attempts
							   THEN 0 ELSE j.failures OPERATOR(pg_catalog.+) 1 END,
			   next_run_at = CASE WHEN j.failures OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.<) j.max_attempts
								  THEN LEAST(coalesce(pubdata._next_run(j.id, pg_catalog.clock_timestamp()), 'infinity'),
											 pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+)
											 (j.retry_backoff OPERATOR(pg_catalog.*) pg_catalog.power(2, j.failures)))
								  ELSE pubdata._next_run(j.id, pg_catalog.clock_timestamp()) END
		 WHERE j.id OPERATOR(pg_catalog.=) jid;
	END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Timeliness (Art 15): overdue resources and alerts
-- ---------------------------------------------------------------------------
CREATE VIEW pubdata.aggregation_status AS
SELECT s.*,
	   coalesce(s.due_by OPERATOR(pg_catalog.<) pg_catalog.now(), false) AS overdue
  FROM (SELECT r.id AS resource_id, r.code AS resource, r.name, d.code AS provider,
			   r.update_frequency, pubdata.frequency_interval(r.update_frequency) AS allowed_age,
			   pg_catalog.count(j.id) AS jobs,
			   pg_catalog.max(j.last_success_at) AS last_success,
			   (SELECT x.status FROM pubdata.job_run x JOIN pubdata.job y ON y.id OPERATOR(pg_catalog.=) x.job_id
				 WHERE y.resource_id OPERATOR(pg_catalog.=) r.id AND y.kind OPERATOR(pg_catalog.=) 'aggregation'
				 ORDER BY x.started_at DESC LIMIT 1) AS last_status,
			   coalesce(pg_catalog.max(j.last_success_at), pg_catalog.min(j.created_at))
				 OPERATOR(pg_catalog.+) pubdata.frequency_interval(r.update_frequency)
				 OPERATOR(pg_catalog.+) coalesce(pg_catalog.current_setting('pubdata.overdue_grace', true), '5min')::interval AS due_by
		  FROM pubdata.resource r
		  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
		  JOIN pubdata.job j ON j.resource_id OPERATOR(pg_catalog.=) r.id
						   AND j.kind OPERATOR(pg_catalog.=) 'aggregation' AND j.enabled
		 WHERE r.status OPERATOR(pg_catalog.<>) 'retired'
		 GROUP BY r.id, d.code) s;
COMMENT ON VIEW pubdata.aggregation_status IS
	'Per resource with enabled aggregation jobs: last successful aggregation, when it falls due by its catalog update frequency, whether it is overdue (Art 8(5), 15)';
COMMENT ON COLUMN pubdata.aggregation_status.due_by IS
	'last success (or the job''s creation) + the frequency''s period + pubdata.overdue_grace; NULL for on_demand';

CREATE VIEW pubdata.overdue AS
SELECT resource_id, resource, name, provider, update_frequency, last_success, due_by,
	   pg_catalog.now() OPERATOR(pg_catalog.-) due_by AS overdue_by
  FROM pubdata.aggregation_status WHERE overdue;
COMMENT ON VIEW pubdata.overdue IS 'Resources whose last successful aggregation is older than their update frequency allows';

-- check_overdue(): open an alert episode (one NOTIFY pubdata_alert) for each
-- newly overdue resource, close the episodes of resources on time again;
-- returns the number of new alerts.  The launcher calls it every minute.
CREATE FUNCTION pubdata.check_overdue() RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o record;
	n integer := 0;
BEGIN
	PERFORM pubdata._require_admin('check overdue aggregations');
	DELETE FROM pubdata.aggregation_alert a
	 WHERE NOT EXISTS (SELECT 1 FROM pubdata.overdue v WHERE v.resource_id OPERATOR(pg_catalog.=) a.resource_id);
	FOR o IN SELECT v.* FROM pubdata.overdue v
			  WHERE NOT EXISTS (SELECT 1 FROM pubdata.aggregation_alert a
								 WHERE a.resource_id OPERATOR(pg_catalog.=) v.resource_id)
			  ORDER BY v.resource
	LOOP
		INSERT INTO pubdata.aggregation_alert (resource_id, overdue_since) VALUES (o.resource_id, o.due_by);
		PERFORM pg_catalog.pg_notify('pubdata_alert', pg_catalog.json_build_object(
			'alert', 'aggregation_overdue', 'resource', o.resource, 'provider', o.provider,
			'update_frequency', o.update_frequency, 'last_success', o.last_success,
			'overdue_since', o.due_by)::text);
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.check_overdue() IS
	'Raise NOTIFY pubdata_alert once per overdue episode of a resource; returns the number of new alerts (the launcher runs it every minute)';

-- _housekeeping(retention_minutes): orphaned runs, history retention, alerts
CREATE FUNCTION pubdata._housekeeping(retention_minutes integer) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._finish_run(r.id, 'failed',
			'the job worker ended without recording a result (server crash, or the worker was killed)', NULL, NULL)
	   FROM pubdata.job_run r
	  WHERE r.status OPERATOR(pg_catalog.=) 'running'
		AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
						 WHERE a.pid OPERATOR(pg_catalog.=) r.pid
						   AND a.backend_type OPERATOR(pg_catalog.=) 'pubdata job worker');
	IF retention_minutes OPERATOR(pg_catalog.>) 0 THEN
		DELETE FROM pubdata.job_run r
		 WHERE r.finished_at OPERATOR(pg_catalog.<)
			   (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(mins => retention_minutes));
	END IF;
	PERFORM pubdata.check_overdue();
END
$$;

-- ---------------------------------------------------------------------------
-- Public API
-- ---------------------------------------------------------------------------

-- _may_manage_job(job): admin, or the provider department of the job's
-- resource for aggregation and quality jobs
CREATE FUNCTION pubdata._may_manage_job(j pubdata.job) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata.is_admin()
		OR (j.kind OPERATOR(pg_catalog.=) ANY ('{aggregation,quality}'::pubdata.job_kind[])
			AND (SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) j.resource_id)
				OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()))
$$;

-- _job(id): a job by id for its manager, or a clear error
CREATE FUNCTION pubdata._job(job bigint) RETURNS pubdata.job
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	j pubdata.job;
BEGIN
	SELECT * INTO j FROM pubdata.job x WHERE x.id OPERATOR(pg_catalog.=) job;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'job % does not exist', job
			USING ERRCODE = 'undefined_object',
				  HINT = 'See SELECT id, name FROM pubdata.job.';
	END IF;
	IF NOT pubdata._may_manage_job(j) THEN
		RAISE EXCEPTION 'permission denied for job % ("%")', job, j.name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" is neither pubdata_admin nor the provider of the job''s resource.', pubdata.caller()),
				  HINT = 'Only the provider department of the resource, or pubdata_admin, manages its jobs.';
	END IF;
	RETURN j;
END
$$;

CREATE FUNCTION pubdata.schedule_aggregation(
	resource text,
	source text,
	mode text DEFAULT 'full',
	key_columns text[] DEFAULT NULL,
	schedule text DEFAULT NULL,
	run_id_column name DEFAULT NULL,
	timeout interval DEFAULT '1 hour',
	max_attempts integer DEFAULT 3,
	retry_backoff interval DEFAULT '1 minute',
	enabled boolean DEFAULT true) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
#variable_conflict use_variable
DECLARE
	r pubdata.resource;
	role_name name;
	is_query boolean;
	src text;
	parts text[];
	rel regclass;
	keys name[];
	sk pubdata.schedule_kind;
	jid bigint;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) pubdata.resource_id(resource);
	IF NOT pubdata.is_admin() AND r.provider_id OPERATOR(pg_catalog.<>) pubdata.current_department() THEN
		RAISE EXCEPTION 'permission denied to schedule aggregation into resource "%"', resource
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" does not act for the resource''s provider department.', pubdata.caller()),
				  HINT = 'The provider department of a resource (Art 8) or pubdata_admin schedules its aggregation.';
	END IF;
	IF r.status OPERATOR(pg_catalog.=) 'retired' OR r.relation IS NULL THEN
		RAISE EXCEPTION 'resource "%" has no table to aggregate into', resource
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = pg_catalog.format('Its status is %s.', r.status),
				  HINT = 'Aggregate into a registered, not retired resource.';
	END IF;
	PERFORM pubdata._check_enum(mode, 'pubdata.job_mode', 'aggregation mode');
	IF mode IS NULL THEN
		mode := 'full';
	END IF;

	-- the source: one SELECT, or a schema-qualified table or foreign table
	IF coalesce(pg_catalog.btrim(source), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'the source of an aggregation must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give a SELECT query or a schema-qualified table name.';
	END IF;
	is_query := source ~* '^\s*(select|with|values|table)\M' OR source ~ '^\s*\(';
	IF is_query THEN
		PERFORM pubdata._check_select(source);
		src := source;
	ELSE
		BEGIN
			parts := pg_catalog.parse_ident(source);
		EXCEPTION WHEN invalid_parameter_value THEN
			RAISE EXCEPTION 'invalid aggregation source "%"', source
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Give a SELECT query or a schema-qualified table name such as county.population.';
		END;
		IF pg_catalog.cardinality(parts) OPERATOR(pg_catalog.<>) 2 THEN
			RAISE EXCEPTION 'aggregation source table "%" must be schema-qualified', source
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Write schema.table, e.g. public.census or county_fdw.population.';
		END IF;
		rel := pg_catalog.to_regclass(pg_catalog.format('%I.%I', parts[1], parts[2]));
		IF rel IS NULL OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel)
						  OPERATOR(pg_catalog.<>) ALL ('{r,v,m,f,p}'::"char"[]) THEN
			RAISE EXCEPTION 'aggregation source table "%" does not exist', source
				USING ERRCODE = 'undefined_table',
					  HINT = 'Give an existing table, view or foreign table (postgres_fdw for a county database).';
		END IF;
		src := pg_catalog.format('%I.%I', parts[1], parts[2]);
	END IF;

	-- key columns: incremental only, and backed by a unique index
	IF key_columns IS NOT NULL AND mode OPERATOR(pg_catalog.<>) 'incremental' THEN
		RAISE EXCEPTION 'key columns are only used by incremental aggregation'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Leave key_columns NULL, or use mode => ''incremental''.';
	END IF;
	IF mode OPERATOR(pg_catalog.=) 'incremental' THEN
		IF coalesce(pg_catalog.cardinality(key_columns), 0) OPERATOR(pg_catalog.=) 0 THEN
			RAISE EXCEPTION 'incremental aggregation needs key columns'
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Pass key_columns => ARRAY[...] naming a unique key of the resource table.';
		END IF;
		SELECT pg_catalog.array_agg(k.k ORDER BY k.k) INTO keys FROM pg_catalog.unnest(key_columns::name[]) AS k(k);
		IF EXISTS (SELECT 1 FROM pg_catalog.unnest(keys) AS k(k)
					WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
									   WHERE a.attrelid OPERATOR(pg_catalog.=) r.relation
										 AND a.attname OPERATOR(pg_catalog.=) k.k
										 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)) THEN
			RAISE EXCEPTION 'key columns % are not all columns of %', key_columns, r.relation_name
				USING ERRCODE = 'undefined_column',
					  HINT = 'Name columns of the resource table.';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
						WHERE i.indrelid OPERATOR(pg_catalog.=) r.relation AND i.indisunique
						  AND i.indpred IS NULL AND i.indexprs IS NULL
						  AND (SELECT pg_catalog.array_agg(a.attname ORDER BY a.attname)
								 FROM pg_catalog.pg_attribute a
								WHERE a.attrelid OPERATOR(pg_catalog.=) r.relation
								  AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::smallint[]))
							  OPERATOR(pg_catalog.=) keys) THEN
			RAISE EXCEPTION 'no unique index of % is on exactly the key columns %', r.relation_name, key_columns
				USING ERRCODE = 'invalid_object_definition',
					  HINT = 'Create a unique index or primary key on these columns; incremental aggregation upserts by it.';
		END IF;
	END IF;

	IF run_id_column IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM pg_catalog.pg_attribute a
			 WHERE a.attrelid OPERATOR(pg_catalog.=) r.relation AND a.attname OPERATOR(pg_catalog.=) run_id_column
			   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
			   AND a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.int8'::pg_catalog.regtype) THEN
		RAISE EXCEPTION 'run id column "%" is not a bigint column of %', run_id_column, r.relation_name
			USING ERRCODE = 'undefined_column',
				  HINT = 'Add a bigint column to the resource table to carry the id of the run that wrote each row.';
	END IF;

	sk := pubdata._schedule_kind(schedule);
	IF timeout IS NULL OR timeout OPERATOR(pg_catalog.<) interval '0' OR max_attempts IS NULL
	   OR max_attempts NOT BETWEEN 1 AND 100 OR retry_backoff IS NULL OR retry_backoff OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'invalid timeout, max_attempts or retry_backoff'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'timeout and retry_backoff are intervals >= 0; max_attempts is 1 to 100.';
	END IF;

	SELECT d.role_name INTO role_name FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) r.provider_id;
	-- the job runs as the provider's role: only who may act as that role
	-- writes the query it runs (the bureau names a table to read)
	IF is_query AND NOT pg_catalog.pg_has_role(pubdata.caller(), role_name, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to schedule a query that runs as role "%"', role_name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" is not a member of the provider''s role; the query would run with its privileges.', pubdata.caller()),
				  HINT = 'Give a schema-qualified table as the source, or let the provider department schedule the query.';
	END IF;
	INSERT INTO pubdata.job (name, kind, resource_id, source, source_is_query, mode, key_columns, run_id_column,
							 schedule, schedule_kind, enabled, timeout, max_attempts, retry_backoff,
							 next_run_at, run_as, created_by)
	VALUES (pg_catalog.format('aggregate into %s', r.code), 'aggregation', r.id, src, is_query,
			mode::pubdata.job_mode, key_columns::name[], run_id_column, schedule, sk, coalesce(enabled, true),
			timeout, max_attempts, retry_backoff,
			pubdata._first_run(sk, schedule, r.update_frequency), role_name, pubdata.caller())
	RETURNING id INTO jid;
	RETURN jid;
END
$$;
COMMENT ON FUNCTION pubdata.schedule_aggregation(text, text, text, text[], text, name, interval, integer, interval, boolean) IS
	'Schedule the aggregation of a source (one SELECT, or a schema-qualified table or postgres_fdw foreign table) into a resource''s table: full, incremental (upsert by key_columns) or append; schedule NULL follows the catalog''s update frequency; runs as the provider''s role; returns the job id';

CREATE FUNCTION pubdata.schedule_job(
	kind text,
	schedule text,
	command text DEFAULT NULL,
	resource text DEFAULT NULL,
	run_as name DEFAULT NULL,
	timeout interval DEFAULT '1 hour',
	max_attempts integer DEFAULT 3,
	retry_backoff interval DEFAULT '1 minute',
	enabled boolean DEFAULT true,
	name text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
#variable_conflict use_variable
DECLARE
	rid bigint;
	f pubdata.update_frequency;
	sk pubdata.schedule_kind;
	jid bigint;
BEGIN
	PERFORM pubdata._require_admin('schedule jobs');
	PERFORM pubdata._check_enum(kind, 'pubdata.job_kind', 'job kind');
	IF kind IS NULL OR kind OPERATOR(pg_catalog.=) 'aggregation' THEN
		RAISE EXCEPTION 'use schedule_aggregation() for aggregation jobs'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'schedule_job() schedules quality, objection_sweep, grant_sweep and custom jobs.';
	END IF;
	IF kind OPERATOR(pg_catalog.=) 'custom' AND coalesce(pg_catalog.btrim(command), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'a custom job needs a command'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass command => ''SQL to run''.';
	END IF;
	IF kind OPERATOR(pg_catalog.<>) 'custom' AND command IS NOT NULL THEN
		RAISE EXCEPTION 'only custom jobs take a command'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF resource IS NOT NULL THEN
		rid := pubdata.resource_id(resource);
		SELECT r.update_frequency INTO f FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	ELSIF kind OPERATOR(pg_catalog.=) 'quality' THEN
		RAISE EXCEPTION 'a quality job needs a resource'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass resource => ''code''.';
	END IF;
	IF schedule IS NULL AND rid IS NULL THEN
		RAISE EXCEPTION 'a job without a resource needs a schedule'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give an interval such as ''1 minute'' or a cron expression such as ''*/5 * * * *''.';
	END IF;
	sk := pubdata._schedule_kind(schedule);
	run_as := coalesce(run_as, pubdata.caller());
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) run_as)
	   OR NOT pg_catalog.pg_has_role(pubdata.caller(), run_as, 'MEMBER') THEN
		RAISE EXCEPTION 'cannot schedule a job to run as role "%"', run_as
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" is not a member of it (or it does not exist).', pubdata.caller()),
				  HINT = 'A job runs as its creator or as a role the creator is a member of.';
	END IF;
	INSERT INTO pubdata.job (name, kind, resource_id, source, schedule, schedule_kind, enabled, timeout,
							 max_attempts, retry_backoff, next_run_at, run_as, created_by)
	VALUES (coalesce(name, pg_catalog.format('%s%s', kind, ' ' OPERATOR(pg_catalog.||) resource)),
			kind::pubdata.job_kind, rid, command, schedule, sk, coalesce(enabled, true), timeout,
			max_attempts, retry_backoff, pubdata._first_run(sk, schedule, f), run_as, pubdata.caller())
	RETURNING id INTO jid;
	RETURN jid;
END
$$;
COMMENT ON FUNCTION pubdata.schedule_job(text, text, text, text, name, interval, integer, interval, boolean, text) IS
	'pubdata_admin: schedule a quality, objection_sweep, grant_sweep or custom SQL job (runs as run_as, a role the caller is a member of); returns the job id';

CREATE FUNCTION pubdata.alter_job(
	job bigint,
	enabled boolean DEFAULT NULL,
	schedule text DEFAULT NULL,
	timeout interval DEFAULT NULL,
	max_attempts integer DEFAULT NULL,
	retry_backoff interval DEFAULT NULL,
	follow_frequency boolean DEFAULT false) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
#variable_conflict use_variable
DECLARE
	j pubdata.job := pubdata._job(job);
	sk pubdata.schedule_kind;
	f pubdata.update_frequency;
BEGIN
	IF schedule IS NOT NULL OR follow_frequency THEN
		IF follow_frequency AND j.resource_id IS NULL THEN
			RAISE EXCEPTION 'job % has no resource whose frequency it could follow', job
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		sk := pubdata._schedule_kind(CASE WHEN follow_frequency THEN NULL ELSE schedule END);
		SELECT r.update_frequency INTO f FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) j.resource_id;
		UPDATE pubdata.job x
		   SET schedule = CASE WHEN follow_frequency THEN NULL ELSE schedule END, schedule_kind = sk,
			   next_run_at = pubdata._first_run(sk, CASE WHEN follow_frequency THEN NULL ELSE schedule END, f)
		 WHERE x.id OPERATOR(pg_catalog.=) job;
	END IF;
	IF max_attempts IS NOT NULL AND max_attempts NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'max_attempts must be between 1 and 100' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE pubdata.job x
	   SET enabled = coalesce(enabled, x.enabled),
		   timeout = coalesce(timeout, x.timeout),
		   max_attempts = coalesce(max_attempts, x.max_attempts),
		   retry_backoff = coalesce(retry_backoff, x.retry_backoff),
		   failures = CASE WHEN enabled THEN 0 ELSE x.failures END
	 WHERE x.id OPERATOR(pg_catalog.=) job;
END
$$;
COMMENT ON FUNCTION pubdata.alter_job(bigint, boolean, text, interval, integer, interval, boolean) IS
	'Enable/disable a job, change its schedule (or follow_frequency => true to go back to the catalog frequency), timeout or retries';

CREATE FUNCTION pubdata.drop_job(job bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
#variable_conflict use_variable
DECLARE
	j pubdata.job := pubdata._job(job);
BEGIN
	IF j.builtin THEN
		RAISE EXCEPTION 'job % is built in', job
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Disable it with pubdata.alter_job(job, enabled => false).';
	END IF;
	DELETE FROM pubdata.job x WHERE x.id OPERATOR(pg_catalog.=) job;
END
$$;
COMMENT ON FUNCTION pubdata.drop_job(bigint) IS 'Remove a job and its run history';

CREATE FUNCTION pubdata.run_job_now(job bigint) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
#variable_conflict use_variable
DECLARE
	j pubdata.job := pubdata._job(job);
	running bigint;
	run bigint;
BEGIN
	SELECT r.id INTO running FROM pubdata.job_run r
	 WHERE r.job_id OPERATOR(pg_catalog.=) job AND r.status OPERATOR(pg_catalog.=) 'running'
	   AND EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) r.pid)
	 LIMIT 1;
	IF running IS NOT NULL THEN
		RAISE EXCEPTION 'job % is already running', job
			USING ERRCODE = 'object_in_use',
				  DETAIL = pg_catalog.format('Run %s has not finished.', running),
				  HINT = 'A job never runs twice at once; wait for the run to finish.';
	END IF;
	run := pg_catalog.nextval('pubdata.job_run_id_seq');
	PERFORM pubdata._launch_job(job, run);
	IF NOT EXISTS (SELECT 1 FROM pubdata.job_run r WHERE r.id OPERATOR(pg_catalog.=) run) THEN
		RAISE EXCEPTION 'job % did not run', job
			USING ERRCODE = 'object_in_use',
				  DETAIL = 'Either it was already running, or it was created or changed in this transaction, which the job worker cannot see.',
				  HINT = 'Commit first, or wait for the running run to finish.';
	END IF;
	-- a worker killed before it could record its result
	PERFORM pubdata._finish_run(run, 'failed', 'the job worker exited without recording a result', NULL, NULL);
	RETURN run;
END
$$;
COMMENT ON FUNCTION pubdata.run_job_now(bigint) IS
	'Run a job at once in a job worker and wait for it; returns the run id (see pubdata.job_run for its outcome)';

-- ---------------------------------------------------------------------------
-- Who sees which jobs: admin and auditor all, a department those of its resources
-- ---------------------------------------------------------------------------
CREATE FUNCTION pubdata._may_see_job(resource_id bigint) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata.is_admin()
		OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
		OR (SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) resource_id)
		   OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller())
$$;
ALTER TABLE pubdata.job ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.job_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY job_visible ON pubdata.job FOR SELECT USING (pubdata._may_see_job(resource_id));
CREATE POLICY job_run_visible ON pubdata.job_run FOR SELECT
	USING (EXISTS (SELECT 1 FROM pubdata.job j WHERE j.id OPERATOR(pg_catalog.=) job_id));

-- the built-in sweeps (each runs only while its function is installed):
-- objections past their 2-working-day deadline (Art 13), expired grants (Art 19)
INSERT INTO pubdata.job (name, kind, schedule, schedule_kind, next_run_at, run_as, builtin)
VALUES ('objection sweep', 'objection_sweep', '1 minute', 'interval', now(), current_user, true),
	   ('grant sweep', 'grant_sweep', '1 minute', 'interval', now(), current_user, true);

GRANT SELECT ON pubdata.job, pubdata.job_run, pubdata.aggregation_status, pubdata.overdue
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT SELECT ON pubdata.aggregation_alert TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.schedule_aggregation(text, text, text, text[], text, name, interval, integer, interval, boolean),
	pubdata.alter_job(bigint, boolean, text, interval, integer, interval, boolean),
	pubdata.drop_job(bigint), pubdata.run_job_now(bigint),
	pubdata.cron_next(text, timestamptz), pubdata.frequency_interval(pubdata.update_frequency),
	pubdata.launcher_pid()
	TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.schedule_job(text, text, text, text, name, interval, integer, interval, boolean, text),
	pubdata.check_overdue()
	TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.cron_next(text, timestamptz), pubdata.frequency_interval(pubdata.update_frequency),
	pubdata.launcher_pid()
	TO pubdata_auditor;
-- the row-level security policies call this as the querying role
GRANT EXECUTE ON FUNCTION pubdata._may_see_job(bigint)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
-- ---------------------------------------------------------------------------
-- Quality (Art 15; GB/T 36344): validators, rules, one-scan measurement,
-- runs and results as a time series, scores, the optional rule trigger
-- ---------------------------------------------------------------------------

-- Validators (src/validate.c)
CREATE FUNCTION pubdata.is_valid_id_card(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_id_card'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_id_card(text) IS
	'GB 11643 citizen identity number: 18 characters, province prefix, a birth date that exists and is not in the future, ISO 7064 MOD 11-2 check character (X in either case); STABLE because "not in the future" depends on today';

CREATE FUNCTION pubdata.is_valid_uscc(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_uscc'
	LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_uscc(text) IS
	'GB 32100 unified social credit code: 18 characters from 0-9 and A-Y without I, O, S, V, Z (capitals only), MOD 31 check character';

CREATE FUNCTION pubdata.is_valid_mobile(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_mobile'
	LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_mobile(text) IS
	'Mainland China mobile number: 11 digits 1[3-9]xxxxxxxxx, optionally prefixed +86, 0086 or 86; no spaces or dashes';

CREATE FUNCTION pubdata.is_valid_admin_code(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_admin_code'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_admin_code(text) IS
	'GB/T 2260 division code: 6 digits with a province prefix; where pubdata.region holds the code''s parent division (province of a city, city of a county), one of its codes';

GRANT EXECUTE ON FUNCTION pubdata.is_valid_id_card(text), pubdata.is_valid_uscc(text),
	pubdata.is_valid_mobile(text), pubdata.is_valid_admin_code(text)
	TO pubdata_admin, pubdata_department, pubdata_auditor;

-- Rule kinds, trigger actions and the GB/T 36344 dimensions
CREATE TYPE pubdata.quality_kind AS ENUM
	('not_null', 'unique', 'pattern', 'range', 'allowed_values', 'id_card', 'uscc', 'mobile',
	 'date_not_future', 'reference', 'freshness', 'custom');
CREATE TYPE pubdata.quality_action AS ENUM ('reject', 'flag', 'warn');
CREATE TYPE pubdata.quality_dimension AS ENUM
	('normativeness', 'completeness', 'accuracy', 'consistency', 'timeliness', 'accessibility');
COMMENT ON TYPE pubdata.quality_kind IS 'What a quality rule checks';
COMMENT ON TYPE pubdata.quality_action IS 'What the quality trigger does with a row that breaks a rule: reject (error), flag (record it), warn (WARNING)';
COMMENT ON TYPE pubdata.quality_dimension IS 'GB/T 36344-2018 data quality dimensions';

CREATE TABLE pubdata.quality_rule (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	items		name[] NOT NULL DEFAULT '{}',
	kind		pubdata.quality_kind NOT NULL,
	params		jsonb NOT NULL DEFAULT '{}',
	dimension	pubdata.quality_dimension NOT NULL,
	action		pubdata.quality_action NOT NULL DEFAULT 'warn',
	enabled		boolean NOT NULL DEFAULT true,
	created_by	name NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_rule_resource ON pubdata.quality_rule (resource_id);
COMMENT ON TABLE pubdata.quality_rule IS 'Quality rules of each resource (Art 15), set by the providing department or the bureau';
COMMENT ON COLUMN pubdata.quality_rule.items IS 'the columns the rule checks (several for a composite unique key; none for custom and table freshness)';
COMMENT ON COLUMN pubdata.quality_rule.params IS 'kind parameters: pattern {regex}, range {min, max}, allowed_values {values}, reference {resource, item}, freshness {grace}, custom {expression}; any kind {dimension}';
COMMENT ON COLUMN pubdata.quality_rule.dimension IS 'GB/T 36344 dimension the rule counts towards';
COMMENT ON COLUMN pubdata.quality_rule.action IS 'what pubdata.quality_check_trigger() does on a failing row, where enabled';

CREATE TABLE pubdata.quality_run (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	started_at	timestamptz NOT NULL,
	finished_at	timestamptz,
	rows_checked bigint,
	normativeness numeric(5,2),
	completeness numeric(5,2),
	accuracy	numeric(5,2),
	consistency	numeric(5,2),
	timeliness	numeric(5,2),
	accessibility numeric(5,2),
	score		numeric(5,2),
	objections_upheld integer,
	job_runs	integer,
	job_runs_failed integer,
	measured_by	name NOT NULL
);
CREATE INDEX quality_run_resource ON pubdata.quality_run (resource_id, id);
COMMENT ON TABLE pubdata.quality_run IS 'One quality measurement of a resource: rows checked, GB/T 36344 dimension scores (0-100, NULL when nothing measured it) and the resource score (mean of the measured dimensions)';
COMMENT ON COLUMN pubdata.quality_run.objections_upheld IS 'objections upheld (outcome corrected) raised in the 90 days before the run (counted in accuracy; NULL when pubdata.objection does not exist)';
COMMENT ON COLUMN pubdata.quality_run.job_runs IS 'aggregation runs of the resource in the 30 days before the run (counted in timeliness; NULL without pubdata.job_run)';

CREATE TABLE pubdata.quality_result (
	run_id		bigint NOT NULL REFERENCES pubdata.quality_run (id) ON DELETE CASCADE,
	rule_id		bigint NOT NULL REFERENCES pubdata.quality_rule (id) ON DELETE CASCADE,
	dimension	pubdata.quality_dimension NOT NULL,
	rows_checked bigint NOT NULL,
	rows_failed	bigint NOT NULL,
	samples		jsonb NOT NULL DEFAULT '[]',
	PRIMARY KEY (run_id, rule_id)
);
COMMENT ON TABLE pubdata.quality_result IS 'Per-rule outcome of a run: rows checked, rows failed and the keys of the first failing rows (pubdata.quality_sample_rows)';
COMMENT ON COLUMN pubdata.quality_result.samples IS 'failing rows: key items (or ctid when the resource has no key item) and the checked values; for unique, one per duplicated key with its row count';

CREATE TABLE pubdata.quality_flag (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	rule_id		bigint NOT NULL REFERENCES pubdata.quality_rule (id) ON DELETE CASCADE,
	flagged_at	timestamptz NOT NULL DEFAULT now(),
	operation	text NOT NULL,
	role_name	name NOT NULL,
	row_data	jsonb NOT NULL
);
CREATE INDEX quality_flag_resource ON pubdata.quality_flag (resource_id, flagged_at);
COMMENT ON TABLE pubdata.quality_flag IS 'Rows written that broke a rule whose action is flag (recorded by pubdata.quality_check_trigger)';

SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_rule', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_run', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_result', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_flag', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_flag_id_seq', '');

-- _quality_may_see(resource, with_samples): admin, the provider, and (without samples) the auditor
CREATE FUNCTION pubdata._quality_may_see(resource bigint, with_samples boolean) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata.is_admin()
		OR (NOT $2 AND pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER'))
		OR EXISTS (SELECT 1 FROM pubdata.resource r
					WHERE r.id OPERATOR(pg_catalog.=) $1
					  AND r.provider_id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()))
$$;
COMMENT ON FUNCTION pubdata._quality_may_see(bigint, boolean) IS
	'Row-level security of the quality tables: the bureau, the providing department, and the auditor where no failing-row samples are shown';

ALTER TABLE pubdata.quality_rule ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.quality_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.quality_result ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.quality_flag ENABLE ROW LEVEL SECURITY;
CREATE POLICY quality_rule_read ON pubdata.quality_rule FOR SELECT
	USING (pubdata._quality_may_see(resource_id, false));
CREATE POLICY quality_run_read ON pubdata.quality_run FOR SELECT
	USING (pubdata._quality_may_see(resource_id, false));
CREATE POLICY quality_result_read ON pubdata.quality_result FOR SELECT
	USING (pubdata._quality_may_see((SELECT q.resource_id FROM pubdata.quality_run q WHERE q.id OPERATOR(pg_catalog.=) run_id), true));
CREATE POLICY quality_flag_read ON pubdata.quality_flag FOR SELECT
	USING (pubdata._quality_may_see(resource_id, true));
GRANT SELECT ON pubdata.quality_rule, pubdata.quality_run, pubdata.quality_result, pubdata.quality_flag
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata._quality_may_see(bigint, boolean) TO pubdata_admin, pubdata_department, pubdata_auditor;

-- C internals: compile a resource's rules (raises the rule's error), scan a resource
CREATE FUNCTION pubdata._quality_compile(resource bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_quality_compile'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._quality_compile(bigint) IS
	'Internal: compiles every enabled rule of a resource against its table (regular expressions, bounds, custom expressions, reference types); raises the first error';

CREATE FUNCTION pubdata._quality_scan(resource bigint,
	OUT rule_id bigint, OUT rows_checked bigint, OUT rows_failed bigint, OUT samples jsonb, OUT newest timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pubdata_quality_scan'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._quality_scan(bigint) IS
	'Internal: evaluates every row rule of a resource in one scan of its table; one row per rule, and one with rule_id NULL giving the rows scanned';

-- _quality_default_dimension(kind): GB/T 36344 dimension of each rule kind
CREATE FUNCTION pubdata._quality_default_dimension(kind pubdata.quality_kind) RETURNS pubdata.quality_dimension
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT (CASE $1::text
		WHEN 'not_null' THEN 'completeness'
		WHEN 'unique' THEN 'accuracy'
		WHEN 'pattern' THEN 'normativeness'
		WHEN 'range' THEN 'accuracy'
		WHEN 'allowed_values' THEN 'normativeness'
		WHEN 'id_card' THEN 'normativeness'
		WHEN 'uscc' THEN 'normativeness'
		WHEN 'mobile' THEN 'normativeness'
		WHEN 'date_not_future' THEN 'accuracy'
		WHEN 'reference' THEN 'consistency'
		WHEN 'freshness' THEN 'timeliness'
		ELSE 'accuracy' END)::pubdata.quality_dimension
$$;
COMMENT ON FUNCTION pubdata._quality_default_dimension(pubdata.quality_kind) IS
	'GB/T 36344 dimension of a rule kind: formats and code lists are normativeness, nulls completeness, uniqueness/ranges/dates accuracy, references consistency, freshness timeliness';

-- _quality_require_provider(resource): the resource id when the caller provides it or is the bureau
CREATE FUNCTION pubdata._quality_require_provider(resource text, action text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata.resource_id(resource);
	prov integer;
BEGIN
	IF pubdata.is_admin() THEN
		RETURN rid;
	END IF;
	SELECT r.provider_id INTO prov FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF prov IS DISTINCT FROM pubdata.current_department() THEN
		RAISE EXCEPTION 'permission denied to % of resource "%"', action, resource
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" does not act for the department that provides the resource.', pubdata.caller()),
				  HINT = 'Who collects is responsible (Art 15): the providing department or pubdata_admin sets and measures quality rules.';
	END IF;
	RETURN rid;
END
$$;
COMMENT ON FUNCTION pubdata._quality_require_provider(text, text) IS
	'Internal: a resource id when the caller is its provider or the bureau; an error otherwise';

-- _quality_may_reference(department, resource, item, created_by): may a reference
-- rule of this department's table test values against that column?  The check
-- reads the whole column whatever its row-level security, so the department
-- must see the whole column: it provides the resource, or the column is shared
-- unconditionally, or it holds a live grant of the column without a row scope.
-- A rule the bureau set is the bureau's decision.
CREATE FUNCTION pubdata._quality_may_reference(department integer, ref_resource bigint, item text, created_by name)
	RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) $4
					AND pg_catalog.pg_has_role(a.oid, 'pubdata_admin', 'MEMBER'))
		OR EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $2
					AND r.provider_id OPERATOR(pg_catalog.=) $1)
		OR EXISTS (SELECT 1 FROM pubdata.resource r JOIN pubdata.resource_item i ON i.resource_id OPERATOR(pg_catalog.=) r.id
					WHERE r.id OPERATOR(pg_catalog.=) $2 AND r.status OPERATOR(pg_catalog.=) 'published'
					  AND r.share_class OPERATOR(pg_catalog.=) 'unconditional'
					  AND i.column_name::text OPERATOR(pg_catalog.=) $3 AND i.state OPERATOR(pg_catalog.=) 'current'
					  AND i.personal OPERATOR(pg_catalog.=) 'none'
					  AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional')
		OR EXISTS (SELECT 1 FROM pubdata.share_request g
					WHERE g.resource_id OPERATOR(pg_catalog.=) $2 AND g.requester_id OPERATOR(pg_catalog.=) $1
					  AND pubdata._grant_live(g)
					  AND (g.items IS NULL OR $3 OPERATOR(pg_catalog.=) ANY (g.items::text[]))
					  AND coalesce(g.row_scope, '{}'::jsonb) OPERATOR(pg_catalog.=) '{}'::jsonb)
$$;
COMMENT ON FUNCTION pubdata._quality_may_reference(integer, bigint, text, name) IS
	'Internal: whether a department may test values against a whole column of another resource (reference rules read it whatever its row-level security)';

-- add_quality_rule(resource, items[], kind, params, action): a new rule, checked against the table
CREATE FUNCTION pubdata.add_quality_rule(resource text, items text[], kind text,
	params jsonb DEFAULT '{}', action text DEFAULT 'warn') RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'add quality rules');
	rel regclass;
	k pubdata.quality_kind := pubdata._check_enum(kind, 'pubdata.quality_kind', 'quality rule kind')::pubdata.quality_kind;
	act pubdata.quality_action := pubdata._check_enum(action, 'pubdata.quality_action', 'quality rule action')::pubdata.quality_action;
	dim pubdata.quality_dimension;
	allowed text[];
	bad text;
	it text;
	typ oid;
	n int := coalesce(pg_catalog.cardinality(items), 0);
	ref_rel regclass;
	ref_typ oid;
	new_id bigint;
BEGIN
	SELECT r.relation INTO rel FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF rel IS NULL THEN
		RAISE EXCEPTION 'resource "%" has no table', resource
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Quality rules check a registered table; this resource''s table was dropped.';
	END IF;
	IF params IS NULL OR pg_catalog.jsonb_typeof(params) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'quality rule parameters must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"regex": "^[0-9]{6}$"}''.';
	END IF;

	-- parameters each kind accepts
	allowed := CASE k::text
		WHEN 'pattern' THEN '{regex}'
		WHEN 'range' THEN '{min,max}'
		WHEN 'allowed_values' THEN '{values}'
		WHEN 'reference' THEN '{resource,item}'
		WHEN 'freshness' THEN '{grace}'
		WHEN 'custom' THEN '{expression}'
		ELSE '{}' END::text[] OPERATOR(pg_catalog.||) '{dimension}'::text[];
	SELECT pg_catalog.string_agg(key, ', ') INTO bad
	  FROM pg_catalog.jsonb_object_keys(params) key WHERE NOT key OPERATOR(pg_catalog.=) ANY (allowed);
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown parameter % for quality rule kind "%"', bad, k
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Kind ' || k::text || ' takes: ' || pg_catalog.array_to_string(allowed, ', ') || '.';
	END IF;
	dim := coalesce(pubdata._check_enum(params->>'dimension', 'pubdata.quality_dimension', 'quality dimension')::pubdata.quality_dimension,
					pubdata._quality_default_dimension(k));

	-- the items: columns of the table
	IF k::text IN ('custom') AND n OPERATOR(pg_catalog.>) 0 THEN
		RAISE EXCEPTION 'a custom quality rule takes no item'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass NULL as the item and name the columns in the expression.';
	ELSIF k::text NOT IN ('custom', 'freshness', 'not_null', 'unique') AND n OPERATOR(pg_catalog.<>) 1 THEN
		RAISE EXCEPTION 'a % quality rule checks exactly one item', k
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Add one rule per column.';
	ELSIF k::text IN ('not_null', 'unique') AND n OPERATOR(pg_catalog.=) 0 THEN
		RAISE EXCEPTION 'a % quality rule needs at least one item', k
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the column(s) to check.';
	ELSIF k::text = 'freshness' AND n OPERATOR(pg_catalog.>) 1 THEN
		RAISE EXCEPTION 'a freshness quality rule takes at most one item'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the column holding when each row was updated, or none.';
	END IF;
	FOREACH it IN ARRAY coalesce(items, '{}') LOOP
		SELECT a.atttypid INTO typ FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attname OPERATOR(pg_catalog.=) it
		   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'column "%" of resource "%" does not exist', it, resource
				USING ERRCODE = 'undefined_column',
					  HINT = 'Columns: ' || (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
											  FROM pg_catalog.pg_attribute a
											 WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) || '.';
		END IF;
		IF k::text IN ('date_not_future', 'freshness') AND typ NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
			RAISE EXCEPTION 'column "%" is of type %, not a date or timestamp', it, pg_catalog.format_type(typ, NULL)
				USING ERRCODE = 'datatype_mismatch', HINT = 'Kind ' || k::text || ' checks date, timestamp or timestamptz columns.';
		END IF;
	END LOOP;

	-- kind parameters
	IF k::text = 'pattern' AND pg_catalog.jsonb_typeof(params->'regex') IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION 'a pattern quality rule needs a "regex" string'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"regex": "^[0-9]{6}$"}'' (POSIX regular expression, unanchored unless you anchor it).';
	ELSIF k::text = 'range' AND params->'min' IS NULL AND params->'max' IS NULL THEN
		RAISE EXCEPTION 'a range quality rule needs "min", "max" or both'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"min": 0, "max": 150}'' (bounds included, in the column''s type).';
	ELSIF k::text = 'allowed_values' AND (pg_catalog.jsonb_typeof(params->'values') IS DISTINCT FROM 'array'
										 OR pg_catalog.jsonb_array_length(params->'values') OPERATOR(pg_catalog.=) 0) THEN
		RAISE EXCEPTION 'an allowed_values quality rule needs a non-empty "values" array'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"values": ["M", "F"]}''.';
	ELSIF k::text = 'custom' AND coalesce(btrim(params->>'expression'), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'a custom quality rule needs an "expression"'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'A boolean SQL expression over the row''s columns, e.g. ''{"expression": "end_date >= start_date"}''; a row fails when it is false.';
	ELSIF k::text = 'freshness' AND params ? 'grace' THEN
		PERFORM (params->>'grace')::interval;
	ELSIF k::text = 'reference' THEN
		SELECT r.relation INTO ref_rel FROM pubdata.resource r
		 WHERE r.code OPERATOR(pg_catalog.=) (params->>'resource') AND r.relation IS NOT NULL;
		IF ref_rel IS NULL THEN
			RAISE EXCEPTION 'referenced resource "%" does not exist or has no table', params->>'resource'
				USING ERRCODE = 'undefined_object', HINT = 'Name a registered resource: ''{"resource": "<code>", "item": "<column>"}''.';
		END IF;
		SELECT a.atttypid INTO ref_typ FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid OPERATOR(pg_catalog.=) ref_rel AND a.attname OPERATOR(pg_catalog.=) (params->>'item')
		   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
		IF ref_typ IS NULL THEN
			RAISE EXCEPTION 'column "%" of resource "%" does not exist', params->>'item', params->>'resource'
				USING ERRCODE = 'undefined_column', HINT = 'Name the referenced column in "item".';
		END IF;
		-- the check reads the referenced column whatever its row-level security:
		-- only a department that may read that column may test values against it
		IF NOT pubdata.is_admin()
		   AND (NOT pg_catalog.has_column_privilege(pubdata.caller(), ref_rel, (params->>'item')::name, 'SELECT')
				OR NOT pubdata._quality_may_reference(pubdata.current_department(),
						(SELECT r.id FROM pubdata.resource r WHERE r.code OPERATOR(pg_catalog.=) (params->>'resource')),
						params->>'item', pubdata.caller())) THEN
			RAISE EXCEPTION 'permission denied to reference column "%" of resource "%"', params->>'item', params->>'resource'
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = pg_catalog.format('Role "%s" may not read every row of that column (a reference rule reads the whole column, whatever a grant''s row scope).', pubdata.caller()),
					  HINT = 'Request access to the referenced resource first (pubdata.request_share), without a row scope.';
		END IF;
		IF ref_typ OPERATOR(pg_catalog.<>) typ THEN
			RAISE EXCEPTION 'column "%" is of type % but the referenced column is of type %', items[1],
				pg_catalog.format_type(typ, NULL), pg_catalog.format_type(ref_typ, NULL)
				USING ERRCODE = 'datatype_mismatch', HINT = 'Reference a column of the same type.';
		END IF;
	END IF;

	INSERT INTO pubdata.quality_rule (resource_id, items, kind, params, dimension, action, created_by)
	VALUES (rid, coalesce(items, '{}')::name[], k, params, dim, act, pubdata.caller())
	RETURNING id INTO new_id;
	-- compile every rule of the resource in C: bad regex, bounds, expressions fail here
	PERFORM pubdata._quality_compile(rid);
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION pubdata.add_quality_rule(text, text[], text, jsonb, text) IS
	'Adds a quality rule to a resource (its providing department or pubdata_admin); items are columns (several for a composite unique key); returns the rule id';

CREATE FUNCTION pubdata.add_quality_rule(resource text, item text, kind text,
	params jsonb DEFAULT '{}', action text DEFAULT 'warn') RETURNS bigint
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata.add_quality_rule($1, CASE WHEN $2 IS NULL THEN '{}'::text[] ELSE ARRAY[$2] END, $3, $4, $5) $$;
COMMENT ON FUNCTION pubdata.add_quality_rule(text, text, text, jsonb, text) IS
	'Adds a quality rule on one item (NULL for custom and table freshness rules); returns the rule id';

-- drop_quality_rule(rule): remove a rule (its results go with it)
CREATE FUNCTION pubdata.drop_quality_rule(rule bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	code text;
BEGIN
	SELECT r.code INTO code FROM pubdata.quality_rule q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.resource_id
	 WHERE q.id OPERATOR(pg_catalog.=) rule;
	IF code IS NULL THEN
		RAISE EXCEPTION 'quality rule % does not exist', rule
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT id, kind, items FROM pubdata.quality_rule.';
	END IF;
	PERFORM pubdata._quality_require_provider(code, 'drop quality rules');
	DELETE FROM pubdata.quality_rule WHERE id OPERATOR(pg_catalog.=) rule;
END
$$;
COMMENT ON FUNCTION pubdata.drop_quality_rule(bigint) IS 'Removes a quality rule and its results (providing department or pubdata_admin)';

-- set_quality_rule(rule, action, enabled): change what the trigger does, or switch a rule off
CREATE FUNCTION pubdata.set_quality_rule(rule bigint, action text DEFAULT NULL, enabled boolean DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	code text;
	act pubdata.quality_action := pubdata._check_enum(action, 'pubdata.quality_action', 'quality rule action')::pubdata.quality_action;
BEGIN
	SELECT r.code INTO code FROM pubdata.quality_rule q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.resource_id
	 WHERE q.id OPERATOR(pg_catalog.=) rule;
	IF code IS NULL THEN
		RAISE EXCEPTION 'quality rule % does not exist', rule
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT id, kind, items FROM pubdata.quality_rule.';
	END IF;
	PERFORM pubdata._quality_require_provider(code, 'change quality rules');
	UPDATE pubdata.quality_rule q
	   SET action = coalesce(act, q.action), enabled = coalesce(set_quality_rule.enabled, q.enabled)
	 WHERE q.id OPERATOR(pg_catalog.=) rule;
END
$$;
COMMENT ON FUNCTION pubdata.set_quality_rule(bigint, text, boolean) IS
	'Sets a quality rule''s trigger action (reject, flag, warn) and/or switches it on or off (providing department or pubdata_admin)';

-- _frequency_interval(frequency): how old a resource may be
CREATE FUNCTION pubdata._frequency_interval(f pubdata.update_frequency) RETURNS interval
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE $1::text
		WHEN 'realtime' THEN interval '1 hour'
		WHEN 'hourly' THEN interval '1 hour'
		WHEN 'daily' THEN interval '1 day'
		WHEN 'weekly' THEN interval '7 days'
		WHEN 'monthly' THEN interval '1 month'
		WHEN 'quarterly' THEN interval '3 months'
		WHEN 'semiannual' THEN interval '6 months'
		WHEN 'annual' THEN interval '1 year'
		ELSE NULL END
$$;
COMMENT ON FUNCTION pubdata._frequency_interval(pubdata.update_frequency) IS
	'The age a resource may reach under its update frequency (realtime counts as hourly); NULL for on_demand';

-- measure_quality(resource): one scan, one run
CREATE FUNCTION pubdata.measure_quality(resource text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = 'postgres'
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'measure the quality');
	res record;
	run bigint;
	total bigint := 0;
	rec record;
	fr record;
	newest timestamptz;
	last_job timestamptz;
	allowed interval;
	upheld integer;
	nruns integer;
	nfailed integer;
	has_jobs boolean;
	scan jsonb;
	d_norm numeric;
	d_comp numeric;
	d_acc numeric;
	d_cons numeric;
	d_time numeric;
	d_access numeric;
BEGIN
	SELECT r.* INTO res FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF res.relation IS NULL THEN
		RAISE EXCEPTION 'resource "%" has no table', resource
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'The resource''s table was dropped.';
	END IF;
	INSERT INTO pubdata.quality_run (resource_id, started_at, measured_by)
	VALUES (rid, pg_catalog.clock_timestamp(), pubdata.caller()) RETURNING id INTO run;

	-- the scan's rows as JSON (no temporary table: a caller could have planted one)
	SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(s)) INTO scan FROM pubdata._quality_scan(rid) s;
	SELECT s.rows_checked INTO total
	  FROM pg_catalog.jsonb_to_recordset(scan) AS s(rule_id bigint, rows_checked bigint) WHERE s.rule_id IS NULL;

	-- row rules
	INSERT INTO pubdata.quality_result (run_id, rule_id, dimension, rows_checked, rows_failed, samples)
	SELECT run, s.rule_id, q.dimension, s.rows_checked, s.rows_failed, s.samples
	  FROM pg_catalog.jsonb_to_recordset(scan) AS s(rule_id bigint, rows_checked bigint, rows_failed bigint, samples jsonb)
	  JOIN pubdata.quality_rule q ON q.id OPERATOR(pg_catalog.=) s.rule_id
	 WHERE q.kind OPERATOR(pg_catalog.<>) 'freshness';

	-- aggregation history, where the scheduler's tables exist
	has_jobs := pg_catalog.to_regclass('pubdata.job_run') IS NOT NULL AND pg_catalog.to_regclass('pubdata.job') IS NOT NULL
		AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a
			  WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('pubdata.job')
				AND a.attname IN ('resource_id', 'kind') AND NOT a.attisdropped) OPERATOR(pg_catalog.=) 2;
	IF has_jobs THEN
		EXECUTE 'SELECT pg_catalog.max(jr.finished_at) FILTER (WHERE jr.status::text OPERATOR(pg_catalog.=) ''succeeded''),
						pg_catalog.count(*) FILTER (WHERE jr.started_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval ''30 days'')),
						pg_catalog.count(*) FILTER (WHERE jr.started_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval ''30 days'')
												   AND jr.status::text OPERATOR(pg_catalog.<>) ''succeeded'' AND jr.status::text OPERATOR(pg_catalog.<>) ''running'')
				   FROM pubdata.job_run jr JOIN pubdata.job j ON j.id OPERATOR(pg_catalog.=) jr.job_id
				  WHERE j.resource_id OPERATOR(pg_catalog.=) $1 AND j.kind::text OPERATOR(pg_catalog.=) ''aggregation'''
		   INTO last_job, nruns, nfailed USING rid;
	END IF;

	-- freshness rules: newest row (from the scan) or last successful aggregation against the frequency
	allowed := pubdata._frequency_interval(res.update_frequency);
	FOR fr IN SELECT q.id, q.dimension, q.params, s.newest, q.items
				FROM pubdata.quality_rule q
				LEFT JOIN pg_catalog.jsonb_to_recordset(scan) AS s(rule_id bigint, newest timestamptz)
				  ON s.rule_id OPERATOR(pg_catalog.=) q.id
			   WHERE q.resource_id OPERATOR(pg_catalog.=) rid AND q.enabled AND q.kind OPERATOR(pg_catalog.=) 'freshness'
	LOOP
		newest := CASE WHEN fr.newest IS NULL THEN last_job WHEN last_job IS NULL THEN fr.newest
					   ELSE GREATEST(fr.newest, last_job) END;
		IF newest IS NULL AND pg_catalog.cardinality(fr.items) OPERATOR(pg_catalog.=) 0 THEN
			newest := res.updated_at;
		END IF;
		INSERT INTO pubdata.quality_result (run_id, rule_id, dimension, rows_checked, rows_failed, samples)
		VALUES (run, fr.id, fr.dimension, 1,
				CASE WHEN allowed IS NULL THEN 0
					 WHEN newest IS NULL THEN 1
					 WHEN (pg_catalog.now() OPERATOR(pg_catalog.-) newest)
						  OPERATOR(pg_catalog.>) (allowed OPERATOR(pg_catalog.+) coalesce((fr.params->>'grace')::interval, interval '0')) THEN 1
					 ELSE 0 END,
				pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
					'newest', newest, 'last_aggregation', last_job, 'allowed_age', allowed::text)));
	END LOOP;

	-- upheld objections, where the objection table exists
	IF pg_catalog.to_regclass('pubdata.objection') IS NOT NULL
	   AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a
			 WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('pubdata.objection')
			   AND a.attname IN ('resource_id', 'outcome', 'raised_at') AND NOT a.attisdropped) OPERATOR(pg_catalog.=) 3 THEN
		EXECUTE 'SELECT pg_catalog.count(*)::int FROM pubdata.objection o
				  WHERE o.resource_id OPERATOR(pg_catalog.=) $1 AND o.outcome::text OPERATOR(pg_catalog.=) ''corrected''
					AND o.raised_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval ''90 days'')'
		   INTO upheld USING rid;
	END IF;

	-- dimension scores: mean pass rate of the dimension's rules (x100); upheld
	-- objections scale accuracy down, failed aggregation runs timeliness, so
	-- that neither can ever raise a score
	SELECT pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'normativeness'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'completeness'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'accuracy'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'consistency'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'timeliness'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'accessibility')
	  INTO d_norm, d_comp, d_acc, d_cons, d_time, d_access
	  FROM (SELECT r.dimension::text AS dim,
				   100.0 OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) (r.rows_failed::numeric OPERATOR(pg_catalog./) r.rows_checked)) AS pass
			  FROM pubdata.quality_result r
			 WHERE r.run_id OPERATOR(pg_catalog.=) run AND r.rows_checked OPERATOR(pg_catalog.>) 0) c;
	IF upheld OPERATOR(pg_catalog.>) 0 THEN
		d_acc := coalesce(d_acc, 100) OPERATOR(pg_catalog.*)
			GREATEST(0, 1 OPERATOR(pg_catalog.-) (upheld::numeric OPERATOR(pg_catalog./) GREATEST(total, 1)));
	END IF;
	IF nruns OPERATOR(pg_catalog.>) 0 THEN
		d_time := coalesce(d_time, 100) OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) (nfailed::numeric OPERATOR(pg_catalog./) nruns));
	END IF;
	UPDATE pubdata.quality_run q SET
		finished_at = pg_catalog.clock_timestamp(),
		rows_checked = total,
		normativeness = pg_catalog.round(d_norm, 2),
		completeness = pg_catalog.round(d_comp, 2),
		accuracy = pg_catalog.round(d_acc, 2),
		consistency = pg_catalog.round(d_cons, 2),
		timeliness = pg_catalog.round(d_time, 2),
		accessibility = pg_catalog.round(d_access, 2),
		score = (SELECT pg_catalog.round(pg_catalog.avg(x), 2)
				   FROM pg_catalog.unnest(ARRAY[d_norm, d_comp, d_acc, d_cons, d_time, d_access]) x),
		objections_upheld = upheld,
		job_runs = nruns,
		job_runs_failed = nfailed
	 WHERE q.id OPERATOR(pg_catalog.=) run;
	RETURN run;
END
$$;
COMMENT ON FUNCTION pubdata.measure_quality(text) IS
	'Measures a resource''s quality: every row rule in one scan of its table (as its owner, regardless of row-level security), freshness, upheld objections and aggregation history; stores and returns a quality_run id';

-- Scores: the latest run per resource with the trend against the run before
CREATE VIEW pubdata.quality_score AS
SELECT r.code AS resource, r.name AS resource_name, d.code AS department,
	   q.id AS run_id, q.finished_at AS measured_at, q.rows_checked,
	   q.normativeness, q.completeness, q.accuracy, q.consistency, q.timeliness, q.accessibility,
	   q.score, q.previous_score,
	   q.score OPERATOR(pg_catalog.-) q.previous_score AS trend,
	   CASE WHEN q.previous_score IS NULL THEN 'new'
			WHEN q.score OPERATOR(pg_catalog.>) q.previous_score THEN 'up'
			WHEN q.score OPERATOR(pg_catalog.<) q.previous_score THEN 'down'
			ELSE 'same' END AS direction
  FROM (SELECT x.*, pg_catalog.lag(x.score) OVER w AS previous_score,
			   pg_catalog.row_number() OVER (PARTITION BY x.resource_id ORDER BY x.id DESC) AS rn
		  FROM pubdata.quality_run x
		 WHERE x.finished_at IS NOT NULL
		WINDOW w AS (PARTITION BY x.resource_id ORDER BY x.id)) q
  JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.resource_id
  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
 WHERE q.rn OPERATOR(pg_catalog.=) 1;
COMMENT ON VIEW pubdata.quality_score IS
	'Latest quality measurement of each resource: GB/T 36344 dimension scores, score, the previous run''s score and the trend (up, down, same, new)';

CREATE VIEW pubdata.quality_score_department AS
SELECT s.department, dp.name AS department_name,
	   pg_catalog.count(*) AS resources_measured,
	   pg_catalog.round(pg_catalog.avg(s.score), 2) AS score,
	   pg_catalog.round(pg_catalog.avg(s.previous_score), 2) AS previous_score,
	   pg_catalog.round(pg_catalog.avg(s.trend), 2) AS trend,
	   pg_catalog.min(s.score) AS worst_score,
	   pg_catalog.max(s.measured_at) AS last_measured_at
  FROM pubdata.quality_score s
  JOIN pubdata.department dp ON dp.code OPERATOR(pg_catalog.=) s.department
 GROUP BY s.department, dp.name;
COMMENT ON VIEW pubdata.quality_score_department IS
	'Quality per department (who collects is responsible, Art 15): mean of its resources'' latest scores, mean trend, worst resource';
GRANT SELECT ON pubdata.quality_score, pubdata.quality_score_department
	TO pubdata_admin, pubdata_department, pubdata_auditor;

-- The optional rule trigger
CREATE FUNCTION pubdata.quality_check_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_quality_check_trigger'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata.quality_check_trigger() IS
	'BEFORE INSERT OR UPDATE row trigger enforcing a resource''s row rules by their action: reject, flag or warn (unique and freshness are not row rules)';

CREATE FUNCTION pubdata.enable_quality_trigger(resource text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'enable the quality trigger');
	rel regclass;
BEGIN
	SELECT r.relation INTO rel FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF rel IS NULL THEN
		RAISE EXCEPTION 'resource "%" has no table', resource
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'The resource''s table was dropped.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) rel
				AND t.tgname OPERATOR(pg_catalog.=) 'pubdata_quality_check') THEN
		RETURN;
	END IF;
	EXECUTE pg_catalog.format('CREATE TRIGGER pubdata_quality_check BEFORE INSERT OR UPDATE ON %s '
							  'FOR EACH ROW EXECUTE FUNCTION pubdata.quality_check_trigger()', rel);
END
$$;
COMMENT ON FUNCTION pubdata.enable_quality_trigger(text) IS
	'Installs pubdata.quality_check_trigger() on a resource''s table (providing department or pubdata_admin)';

CREATE FUNCTION pubdata.disable_quality_trigger(resource text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'disable the quality trigger');
	rel regclass;
BEGIN
	SELECT r.relation INTO rel FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF rel IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS pubdata_quality_check ON %s', rel);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.disable_quality_trigger(text) IS 'Removes the quality trigger from a resource''s table';

GRANT EXECUTE ON FUNCTION pubdata.add_quality_rule(text, text[], text, jsonb, text),
	pubdata.add_quality_rule(text, text, text, jsonb, text), pubdata.drop_quality_rule(bigint),
	pubdata.set_quality_rule(bigint, text, boolean),
	pubdata.measure_quality(text), pubdata.enable_quality_trigger(text), pubdata.disable_quality_trigger(text)
	TO pubdata_admin, pubdata_department;
-- ---------------------------------------------------------------------------
-- Lineage (Art 15, 24): table-level edges source -> target, captured by the
-- executor hook (src/lineage.c), from view definitions at registration, and
-- from aggregation runs; walks in resource terms; OpenLineage export
-- ---------------------------------------------------------------------------

CREATE TYPE pubdata.lineage_kind AS ENUM (
	'insert_select', 'update_from', 'delete_using', 'merge',
	'create_table_as', 'select_into', 'refresh_matview',
	'view_definition', 'aggregation');
COMMENT ON TYPE pubdata.lineage_kind IS
	'How data flowed: INSERT ... SELECT, UPDATE ... FROM, DELETE ... USING, MERGE, CREATE TABLE AS (and CREATE MATERIALIZED VIEW), SELECT INTO, REFRESH MATERIALIZED VIEW, a view''s definition, an aggregation job run';

-- Edges are stored in two parts.  Every committing transaction only appends
-- its observations to lineage_observation (no index, no row lock, no
-- conflict: concurrent writers of the same edge never wait for each other and
-- a REPEATABLE READ commit never fails on it).  lineage_compact() folds them
-- into lineage_edge_data, one row per edge; the view lineage_edge shows both.
CREATE TABLE pubdata.lineage_edge_data (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	source		regclass,
	source_name	text NOT NULL CHECK (source_name <> ''),
	target		regclass NOT NULL,
	target_name	text NOT NULL,
	kind		pubdata.lineage_kind NOT NULL,
	role_name	name NOT NULL,
	first_seen	timestamptz NOT NULL,
	last_seen	timestamptz NOT NULL,
	count		bigint NOT NULL CHECK (count > 0),
	last_run_id	bigint,
	source_key	text NOT NULL GENERATED ALWAYS AS
		(CASE WHEN source IS NULL THEN 'external:' || source_name ELSE (source::oid)::text END) STORED,
	CONSTRAINT lineage_edge_key UNIQUE (source_key, target, kind, role_name),
	CONSTRAINT lineage_edge_seen CHECK (last_seen >= first_seen)
);
CREATE INDEX lineage_edge_data_target ON pubdata.lineage_edge_data (target);
COMMENT ON TABLE pubdata.lineage_edge_data IS
	'Lineage edges folded by lineage_compact(): one row per (source, target, kind, role); read pubdata.lineage_edge, which adds the observations not folded yet';

CREATE TABLE pubdata.lineage_observation (
	source		regclass,
	source_name	text NOT NULL CHECK (source_name <> ''),
	target		regclass NOT NULL,
	target_name	text NOT NULL,
	kind		pubdata.lineage_kind NOT NULL,
	role_name	name NOT NULL,
	first_seen	timestamptz NOT NULL,
	last_seen	timestamptz NOT NULL,
	count		bigint NOT NULL CHECK (count > 0),
	run_id		bigint
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
COMMENT ON TABLE pubdata.lineage_observation IS
	'Lineage observations appended by committing transactions (one row per edge per transaction), folded into lineage_edge_data by lineage_compact()';

CREATE TABLE pubdata.lineage_edge_run (
	edge_id		bigint NOT NULL,	-- lineage_edge_data.id (no foreign key: folding at commit fires no triggers)
	run_id		bigint NOT NULL,
	recorded_at	timestamptz NOT NULL,
	PRIMARY KEY (edge_id, run_id)
);
COMMENT ON TABLE pubdata.lineage_edge_run IS
	'Every aggregation run that made an edge (filled when observations are folded by lineage_compact())';

-- the edges as users read them: folded rows plus observations not yet folded
CREATE VIEW pubdata.lineage_edge AS
	WITH obs AS (
		SELECT CASE WHEN o.source IS NULL THEN 'external:' || o.source_name ELSE (o.source::oid)::text END AS source_key,
			   o.target, o.kind, o.role_name,
			   pg_catalog.min(o.source::oid) AS source_oid,
			   (pg_catalog.array_agg(o.source_name ORDER BY o.last_seen DESC))[1] AS source_name,
			   (pg_catalog.array_agg(o.target_name ORDER BY o.last_seen DESC))[1] AS target_name,
			   pg_catalog.min(o.first_seen) AS first_seen, pg_catalog.max(o.last_seen) AS last_seen,
			   pg_catalog.sum(o.count)::bigint AS count,
			   (pg_catalog.array_agg(o.run_id ORDER BY o.last_seen DESC) FILTER (WHERE o.run_id IS NOT NULL))[1] AS run_id
		  FROM pubdata.lineage_observation o
		 GROUP BY 1, 2, 3, 4
	)
	SELECT d.id,
		   coalesce(d.source, o.source_oid::regclass) AS source,
		   coalesce(o.source_name, d.source_name) AS source_name,
		   coalesce(d.target, o.target) AS target,
		   coalesce(o.target_name, d.target_name) AS target_name,
		   coalesce(d.kind, o.kind) AS kind,
		   coalesce(d.role_name, o.role_name) AS role_name,
		   LEAST(d.first_seen, o.first_seen) AS first_seen,
		   GREATEST(d.last_seen, o.last_seen) AS last_seen,
		   (coalesce(d.count, 0) + coalesce(o.count, 0))::bigint AS count,
		   coalesce(o.run_id, d.last_run_id) AS last_run_id,
		   coalesce(d.source_key, o.source_key) AS source_key
	  FROM pubdata.lineage_edge_data d
	  FULL JOIN obs o ON o.source_key = d.source_key AND o.target::oid = d.target::oid
					 AND o.kind = d.kind AND o.role_name = d.role_name;
COMMENT ON VIEW pubdata.lineage_edge IS
	'Lineage: one row per (source, target, kind, role); written in the transaction that moved the data, so a rolled-back write leaves none';
COMMENT ON COLUMN pubdata.lineage_edge.id IS 'id of the folded edge (NULL until lineage_compact() folds a new edge)';
COMMENT ON COLUMN pubdata.lineage_edge.source IS 'the relation read; NULL for an external source (a county database, a file) named by source_name';
COMMENT ON COLUMN pubdata.lineage_edge.source_name IS 'schema-qualified name of the source when last seen (kept when the relation is dropped)';
COMMENT ON COLUMN pubdata.lineage_edge.target IS 'the relation written';
COMMENT ON COLUMN pubdata.lineage_edge.target_name IS 'schema-qualified name of the target when last seen';
COMMENT ON COLUMN pubdata.lineage_edge.kind IS 'how the data flowed (statement kind, view definition or aggregation run)';
COMMENT ON COLUMN pubdata.lineage_edge.role_name IS 'the role that made the edge (the session''s role, also inside SECURITY DEFINER functions)';
COMMENT ON COLUMN pubdata.lineage_edge.first_seen IS 'start of the first statement that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.last_seen IS 'start of the latest statement that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.count IS 'number of committed statements (or runs) that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.last_run_id IS 'the latest aggregation job run (pubdata.job_run) that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.source_key IS 'identity of the source: its oid, or external:<name>';

-- Lineage is history: pg_dump keeps it
SELECT pg_catalog.pg_extension_config_dump('pubdata.lineage_edge_data', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.lineage_edge_data_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.lineage_observation', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.lineage_edge_run', '');

-- _lineage_relname(oid): schema-qualified, quoted name of a relation, or NULL
CREATE FUNCTION pubdata._lineage_relname(rel oid) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	 WHERE c.oid OPERATOR(pg_catalog.=) $1
$$;
COMMENT ON FUNCTION pubdata._lineage_relname(oid) IS 'Internal: schema-qualified quoted name of a relation, NULL if it does not exist';

-- _lineage_store(...): append one observation (runs as the extension owner)
CREATE FUNCTION pubdata._lineage_store(source regclass, source_name text, target regclass, target_name text,
		kind pubdata.lineage_kind, role_name name, first_seen timestamptz, last_seen timestamptz,
		n bigint, run_id bigint) RETURNS void
	LANGUAGE sql
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata.lineage_observation
		(source, source_name, target, target_name, kind, role_name, first_seen, last_seen, count, run_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
$$;
COMMENT ON FUNCTION pubdata._lineage_store(regclass, text, regclass, text, pubdata.lineage_kind, name, timestamptz, timestamptz, bigint, bigint) IS
	'Internal: append one lineage observation (record_lineage, view definitions; the executor hook appends the same way from C)';

-- lineage_compact(): fold the observations into lineage_edge_data
CREATE FUNCTION pubdata.lineage_compact() RETURNS bigint
	AS 'MODULE_PATHNAME', 'pubdata_lineage_compact'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pubdata.lineage_compact() IS
	'Fold lineage observations into one row per edge; returns the observations folded (0 when another session is folding). Also done now and then at commit (pubdata.lineage_compact_every); pubdata_admin and the scheduler';

-- _lineage_check_relation(rel, what): a relation lineage may name, or a clear error
CREATE FUNCTION pubdata._lineage_check_relation(rel regclass, what text) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
BEGIN
	SELECT cl.relkind, cl.relpersistence, n.nspname INTO c
	  FROM pg_catalog.pg_class cl JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) cl.relnamespace
	 WHERE cl.oid OPERATOR(pg_catalog.=) rel;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
			USING ERRCODE = 'undefined_table';
	END IF;
	IF c.relkind::text NOT IN ('r', 'p', 'f', 'v', 'm') OR c.relpersistence OPERATOR(pg_catalog.=) 't'
	   OR c.nspname IN ('pubdata', 'pg_catalog', 'information_schema', 'pg_toast') THEN
		RAISE EXCEPTION 'relation "%" cannot be a lineage %', rel, what
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = 'Lineage records tables, partitioned and foreign tables, views and materialized views, not temporary relations, system catalogs or pubdata''s own tables.',
				  HINT = 'Name the table that holds the data.';
	END IF;
END
$$;

-- record_lineage(source, target, kind, run_id): an edge made outside the executor hook
CREATE FUNCTION pubdata.record_lineage(source regclass, target regclass, kind text, run_id bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('record lineage');
	IF source IS NULL OR target IS NULL OR kind IS NULL THEN
		RAISE EXCEPTION 'source, target and kind of a lineage edge must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM pubdata._check_enum(kind, 'pubdata.lineage_kind', 'lineage kind');
	PERFORM pubdata._lineage_check_relation(source, 'source');
	PERFORM pubdata._lineage_check_relation(target, 'target');
	IF source OPERATOR(pg_catalog.=) target THEN
		RAISE EXCEPTION 'relation "%" cannot be its own lineage source', source
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Lineage records data moving between tables; a table rewritten from itself is not an edge.';
	END IF;
	PERFORM pubdata._lineage_store(source, pubdata._lineage_relname(source), target, pubdata._lineage_relname(target),
		kind::pubdata.lineage_kind, pubdata.caller(), pg_catalog.statement_timestamp(),
		pg_catalog.statement_timestamp(), 1, run_id);
END
$$;
COMMENT ON FUNCTION pubdata.record_lineage(regclass, regclass, text, bigint) IS
	'Record (or count again) an edge source -> target of the given kind, with the aggregation run that made it; pubdata_admin and the scheduler only';

-- record_lineage(source text, ...): an external source (a county database, a file),
-- or a relation when the text names one that exists
CREATE FUNCTION pubdata.record_lineage(source text, target regclass, kind text, run_id bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel regclass;
BEGIN
	PERFORM pubdata._require_admin('record lineage');
	IF source IS NULL OR target IS NULL OR kind IS NULL THEN
		RAISE EXCEPTION 'source, target and kind of a lineage edge must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF pg_catalog.btrim(source) OPERATOR(pg_catalog.=) '' OR pg_catalog.length(source) OPERATOR(pg_catalog.>) 1000 THEN
		RAISE EXCEPTION 'invalid lineage source name "%"', pg_catalog.left(source, 60)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the external source in 1 to 1000 characters, e.g. county:331121/public.population.';
	END IF;
	BEGIN
		rel := pg_catalog.to_regclass(source);
	EXCEPTION WHEN OTHERS THEN
		rel := NULL;			-- not a relation name (e.g. cross-database): external
	END;
	IF rel IS NOT NULL THEN
		PERFORM pubdata.record_lineage(rel, target, kind, run_id);
		RETURN;
	END IF;
	PERFORM pubdata._check_enum(kind, 'pubdata.lineage_kind', 'lineage kind');
	PERFORM pubdata._lineage_check_relation(target, 'target');
	PERFORM pubdata._lineage_store(NULL, source, target, pubdata._lineage_relname(target),
		kind::pubdata.lineage_kind, pubdata.caller(), pg_catalog.statement_timestamp(),
		pg_catalog.statement_timestamp(), 1, run_id);
END
$$;
COMMENT ON FUNCTION pubdata.record_lineage(text, regclass, text, bigint) IS
	'Record an edge from an external source (any name; one that names an existing relation is recorded as that relation); pubdata_admin and the scheduler only';

-- _lineage_view_edges(view): view_definition edges of a view or materialized
-- view, and of the views it reads, from pg_rewrite / pg_depend
CREATE FUNCTION pubdata._lineage_view_edges(rel oid) RETURNS integer
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	n integer := 0;
BEGIN
	FOR r IN
		WITH RECURSIVE view_deps(view_oid, source_oid) AS (
			SELECT DISTINCT rw.ev_class, d.refobjid
			  FROM pg_catalog.pg_rewrite rw
			  JOIN pg_catalog.pg_depend d
				ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
			   AND d.objid OPERATOR(pg_catalog.=) rw.oid
			   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
			   AND d.deptype OPERATOR(pg_catalog.=) 'n'
			 WHERE rw.ev_class OPERATOR(pg_catalog.=) rel AND rw.rulename OPERATOR(pg_catalog.=) '_RETURN'
			   AND d.refobjid OPERATOR(pg_catalog.<>) rw.ev_class
			UNION
			SELECT rw.ev_class, d.refobjid
			  FROM view_deps v
			  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class OPERATOR(pg_catalog.=) v.source_oid
				AND rw.rulename OPERATOR(pg_catalog.=) '_RETURN'
			  JOIN pg_catalog.pg_depend d
				ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
			   AND d.objid OPERATOR(pg_catalog.=) rw.oid
			   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
			   AND d.deptype OPERATOR(pg_catalog.=) 'n'
			 WHERE d.refobjid OPERATOR(pg_catalog.<>) rw.ev_class
		)
		SELECT DISTINCT v.source_oid, v.view_oid
		  FROM view_deps v
		  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) v.source_oid
		  JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
		 WHERE c.relkind::text IN ('r', 'p', 'f', 'v', 'm') AND c.relpersistence OPERATOR(pg_catalog.<>) 't'
		   AND ns.nspname NOT IN ('pubdata', 'pg_catalog', 'information_schema')
		 ORDER BY 1, 2
	LOOP
		PERFORM pubdata._lineage_store(r.source_oid::pg_catalog.regclass, pubdata._lineage_relname(r.source_oid),
			r.view_oid::pg_catalog.regclass, pubdata._lineage_relname(r.view_oid), 'view_definition',
			pubdata.caller(), pg_catalog.statement_timestamp(), pg_catalog.statement_timestamp(), 1, NULL);
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_view_edges(oid) IS
	'Internal: record view_definition edges of a view or materialized view (and of the views it reads) from the catalog''s dependencies';

-- _record_view_lineage(relation): the same, for the bureau or the view's owner
CREATE FUNCTION pubdata._record_view_lineage(relation regclass) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
BEGIN
	SELECT cl.relkind, cl.relowner INTO c FROM pg_catalog.pg_class cl WHERE cl.oid OPERATOR(pg_catalog.=) relation;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'relation with OID % does not exist', relation::oid USING ERRCODE = 'undefined_table';
	END IF;
	IF NOT pubdata.is_admin() AND NOT pg_catalog.pg_has_role(pubdata.caller(), c.relowner, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to record the lineage of "%"', relation
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" neither owns the view nor is a member of pubdata_admin.', pubdata.caller()),
				  HINT = 'Ask the view''s owner or pubdata_admin.';
	END IF;
	IF c.relkind::text NOT IN ('v', 'm') THEN
		RAISE EXCEPTION '"%" is not a view or materialized view', relation
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Edges of tables are recorded by the executor hook when data is written.';
	END IF;
	RETURN pubdata._lineage_view_edges(relation);
END
$$;
COMMENT ON FUNCTION pubdata._record_view_lineage(regclass) IS
	'Record the sources of a view or materialized view (view_definition edges) from pg_rewrite/pg_depend; called when one is registered as a resource; pubdata_admin or the view''s owner';

-- registering a view or materialized view as a resource records its sources
-- (once: a restore of the catalog by pg_dump finds them already there)
CREATE FUNCTION pubdata._lineage_resource_registered() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NEW.relation IS NOT NULL
	   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
				   WHERE c.oid OPERATOR(pg_catalog.=) NEW.relation AND c.relkind::text IN ('v', 'm'))
	   AND NOT EXISTS (SELECT 1 FROM pubdata.lineage_edge e
					   WHERE e.target OPERATOR(pg_catalog.=) NEW.relation AND e.kind OPERATOR(pg_catalog.=) 'view_definition') THEN
		PERFORM pubdata._lineage_view_edges(NEW.relation);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_resource_registered() IS 'Internal trigger: a view or materialized view registered as a resource gets its view_definition edges';
CREATE TRIGGER lineage_view_sources AFTER INSERT ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._lineage_resource_registered();

-- every successful aggregation run records its edges with the run: the
-- relations its INSERT read (noted by the executor hook in the same
-- transaction), or the job's source table when the hook is off
CREATE FUNCTION pubdata._lineage_pending_sources(target regclass) RETURNS oid[]
	AS 'MODULE_PATHNAME', 'pubdata_lineage_pending_sources'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION pubdata._lineage_pending_sources(regclass) IS
	'Internal: sources of the edges into a table noted by this transaction so far (written at commit)';

CREATE FUNCTION pubdata._lineage_job_run_succeeded() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	j record;
	src oid;
	rel regclass;
	n integer := 0;
BEGIN
	SELECT jb.kind, jb.source, jb.source_is_query, r.relation INTO j
	  FROM pubdata.job jb JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) jb.resource_id
	 WHERE jb.id OPERATOR(pg_catalog.=) NEW.job_id;
	IF NOT FOUND OR j.kind::text OPERATOR(pg_catalog.<>) 'aggregation' OR j.relation IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		FOREACH src IN ARRAY pubdata._lineage_pending_sources(j.relation) LOOP
			PERFORM pubdata._lineage_store(src::pg_catalog.regclass, pubdata._lineage_relname(src), j.relation,
				pubdata._lineage_relname(j.relation), 'aggregation', pubdata.caller(),
				pg_catalog.statement_timestamp(), pg_catalog.statement_timestamp(), 1, NEW.id);
			n := n OPERATOR(pg_catalog.+) 1;
		END LOOP;
		IF n OPERATOR(pg_catalog.=) 0 AND NOT j.source_is_query THEN
			BEGIN
				rel := pg_catalog.to_regclass(j.source);
			EXCEPTION WHEN OTHERS THEN
				rel := NULL;
			END;
			PERFORM pubdata._lineage_store(rel, coalesce(pubdata._lineage_relname(rel), j.source), j.relation,
				pubdata._lineage_relname(j.relation), 'aggregation', pubdata.caller(),
				pg_catalog.statement_timestamp(), pg_catalog.statement_timestamp(), 1, NEW.id)
			 WHERE rel IS DISTINCT FROM j.relation;
		END IF;
	EXCEPTION WHEN OTHERS THEN
		-- lineage never fails an aggregation run
		RAISE WARNING 'could not record the lineage of job run %: %', NEW.id, SQLERRM;
	END;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_job_run_succeeded() IS
	'Internal trigger: a successful aggregation run records aggregation edges, with its run id, in its own transaction';
CREATE TRIGGER lineage_aggregation_run AFTER UPDATE OF status ON pubdata.job_run
	FOR EACH ROW WHEN (NEW.status = 'succeeded' AND OLD.status IS DISTINCT FROM 'succeeded')
	EXECUTE FUNCTION pubdata._lineage_job_run_succeeded();

-- _lineage_department(rel): the department responsible for a relation's data
-- (Art 24): the provider of its resource, else the department of its owner
CREATE FUNCTION pubdata._lineage_department(rel oid) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(
		(SELECT d.code FROM pubdata.resource r JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
		  WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) $1),
		(SELECT d.code FROM pg_catalog.pg_class c
		   JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) pubdata.department_of(pg_catalog.pg_get_userbyid(c.relowner))
		  WHERE c.oid OPERATOR(pg_catalog.=) $1))
$$;
COMMENT ON FUNCTION pubdata._lineage_department(oid) IS
	'Internal: code of the department responsible for a relation (its resource''s provider, else the department of the owning role)';

-- _lineage_visible(rel, privileged): may the caller see this node's name?
CREATE FUNCTION pubdata._lineage_visible(rel oid, privileged boolean) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT $1 IS NULL OR $2
		OR EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) $1)
		OR (EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1)
			AND pg_catalog.has_table_privilege(pubdata.caller(), $1, 'SELECT'))
$$;
COMMENT ON FUNCTION pubdata._lineage_visible(oid, boolean) IS
	'Internal: external sources, registered resources and relations the caller may read are named; others are shown by department only';

-- _lineage_privileged(): the bureau and the auditors see every name
CREATE FUNCTION pubdata._lineage_privileged() RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER') $$;

-- _lineage_check_start(rel, max_depth): the caller may walk from this relation
CREATE FUNCTION pubdata._lineage_check_start(rel regclass, max_depth integer) RETURNS boolean
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	privileged boolean := pubdata._lineage_privileged();
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF max_depth IS NULL OR max_depth OPERATOR(pg_catalog.<) 1 OR max_depth OPERATOR(pg_catalog.>) 1000 THEN
		RAISE EXCEPTION 'invalid lineage depth %', coalesce(max_depth::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a depth from 1 to 1000.';
	END IF;
	IF NOT privileged THEN
		PERFORM pubdata.current_department();
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel)
		   OR NOT pubdata._lineage_visible(rel, false) THEN
			RAISE EXCEPTION 'permission denied to walk the lineage of "%"', rel
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'The relation is not a registered resource and the role may not read it.',
					  HINT = 'Start from a registered resource or a table your department may read.';
		END IF;
	END IF;
	RETURN privileged;
END
$$;

-- _lineage_walk(start, max_depth, upstream, privileged): the graph around a relation
CREATE FUNCTION pubdata._lineage_walk(start oid, max_depth integer, upstream boolean, privileged boolean)
	RETURNS TABLE (depth integer, source regclass, source_name text, source_resource text, source_department text,
		target regclass, target_name text, target_resource text, responsible_department text,
		kinds pubdata.lineage_kind[], roles name[], count bigint, first_seen timestamptz, last_seen timestamptz,
		in_cycle boolean)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH RECURSIVE
	edge AS (
		SELECT e.source_key AS s, (e.target::pg_catalog.oid)::text AS t, e.source::pg_catalog.oid AS source_oid,
			   e.target::pg_catalog.oid AS target_oid, e.source_name, e.target_name, e.kind, e.role_name,
			   e.count, e.first_seen, e.last_seen
		  FROM pubdata.lineage_edge e
	),
	-- nodes (oid text, or external:<name>) reached, with the length of a path
	reach(node, depth) AS (
		SELECT $1::text, 0
		UNION
		SELECT CASE WHEN $3 THEN e.s ELSE e.t END, r.depth OPERATOR(pg_catalog.+) 1
		  FROM reach r JOIN edge e ON r.node OPERATOR(pg_catalog.=) (CASE WHEN $3 THEN e.t ELSE e.s END)
		 WHERE r.depth OPERATOR(pg_catalog.<) $2
	),
	node AS (SELECT r.node, pg_catalog.min(r.depth) AS depth FROM reach r GROUP BY r.node),
	-- the edges of the walked subgraph, one row per (source, target)
	pair AS (
		SELECT e.s, e.t, pg_catalog.min(n.depth) OPERATOR(pg_catalog.+) 1 AS depth,
			   pg_catalog.min(e.source_oid) AS source_oid, pg_catalog.min(e.target_oid) AS target_oid,
			   pg_catalog.max(e.source_name) AS source_name, pg_catalog.max(e.target_name) AS target_name,
			   pg_catalog.array_agg(DISTINCT e.kind ORDER BY e.kind) AS kinds,
			   pg_catalog.array_agg(DISTINCT e.role_name ORDER BY e.role_name) AS roles,
			   pg_catalog.sum(e.count)::bigint AS count,
			   pg_catalog.min(e.first_seen) AS first_seen, pg_catalog.max(e.last_seen) AS last_seen
		  FROM edge e
		  JOIN node n ON n.node OPERATOR(pg_catalog.=) (CASE WHEN $3 THEN e.t ELSE e.s END)
		 WHERE n.depth OPERATOR(pg_catalog.<) $2
		 GROUP BY e.s, e.t
	),
	-- reachability inside the subgraph: an edge s -> t is on a cycle when t reaches s
	closure(a, b) AS (
		SELECT p.s, p.t FROM pair p
		UNION
		SELECT c.a, p.t FROM closure c JOIN pair p ON p.s OPERATOR(pg_catalog.=) c.b
	)
	SELECT p.depth,
		   CASE WHEN sv.ok THEN p.source_oid::pg_catalog.regclass END,
		   CASE WHEN sv.ok THEN coalesce(pubdata._lineage_relname(p.source_oid), p.source_name) END,
		   sr.code, pubdata._lineage_department(p.source_oid),
		   CASE WHEN tv.ok THEN p.target_oid::pg_catalog.regclass END,
		   CASE WHEN tv.ok THEN coalesce(pubdata._lineage_relname(p.target_oid), p.target_name) END,
		   tr.code, pubdata._lineage_department(p.target_oid),
		   p.kinds,
		   CASE WHEN sv.ok AND tv.ok THEN p.roles END,
		   p.count, p.first_seen, p.last_seen,
		   EXISTS (SELECT 1 FROM closure c WHERE c.a OPERATOR(pg_catalog.=) p.t AND c.b OPERATOR(pg_catalog.=) p.s)
	  FROM pair p
	  LEFT JOIN pubdata.resource sr ON sr.relation::pg_catalog.oid OPERATOR(pg_catalog.=) p.source_oid
	  LEFT JOIN pubdata.resource tr ON tr.relation::pg_catalog.oid OPERATOR(pg_catalog.=) p.target_oid
	  CROSS JOIN LATERAL (SELECT pubdata._lineage_visible(p.source_oid, $4) AS ok) sv
	  CROSS JOIN LATERAL (SELECT pubdata._lineage_visible(p.target_oid, $4) AS ok) tv
	 ORDER BY 1, 3, 7, 10, p.s, p.t
$$;
COMMENT ON FUNCTION pubdata._lineage_walk(oid, integer, boolean, boolean) IS 'Internal: the lineage graph upstream or downstream of a relation';

CREATE FUNCTION pubdata.lineage_upstream(relation regclass, max_depth integer DEFAULT 32)
	RETURNS TABLE (depth integer, source regclass, source_name text, source_resource text, source_department text,
		target regclass, target_name text, target_resource text, responsible_department text,
		kinds pubdata.lineage_kind[], roles name[], count bigint, first_seen timestamptz, last_seen timestamptz,
		in_cycle boolean)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT * FROM pubdata._lineage_walk($1::pg_catalog.oid, $2, true, pubdata._lineage_check_start($1, $2)) $$;
COMMENT ON FUNCTION pubdata.lineage_upstream(regclass, integer) IS
	'Where a table''s data comes from: every edge upstream of it, with depth, resources, the department responsible for each derived table (Art 24), and whether the edge is on a cycle';

CREATE FUNCTION pubdata.lineage_downstream(relation regclass, max_depth integer DEFAULT 32)
	RETURNS TABLE (depth integer, source regclass, source_name text, source_resource text, source_department text,
		target regclass, target_name text, target_resource text, responsible_department text,
		kinds pubdata.lineage_kind[], roles name[], count bigint, first_seen timestamptz, last_seen timestamptz,
		in_cycle boolean)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT * FROM pubdata._lineage_walk($1::pg_catalog.oid, $2, false, pubdata._lineage_check_start($1, $2)) $$;
COMMENT ON FUNCTION pubdata.lineage_downstream(regclass, integer) IS
	'Where a table''s data goes: every edge downstream of it, with depth, resources, the department responsible for each derived table (Art 24), and whether the edge is on a cycle';

CREATE FUNCTION pubdata._openlineage_build(event_time text, run_id text, producer text, job_namespace text,
		job_name text, aggregation_run bigint, hidden_inputs integer, output text[], inputs text[])
	RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_openlineage_build'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._openlineage_build(text, text, text, text, text, bigint, integer, text[], text[]) IS
	'Internal: shape an OpenLineage run event with libjson-c';

CREATE FUNCTION pubdata.lineage_openlineage(relation regclass) RETURNS jsonb
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel pg_catalog.oid := lineage_openlineage.relation;
	privileged boolean := pubdata._lineage_check_start(lineage_openlineage.relation, 1);
	ns text := 'postgres://' || coalesce(pg_catalog.host(pg_catalog.inet_server_addr()), 'localhost')
		|| ':' || pg_catalog.current_setting('port');
	db text := pg_catalog.current_database();
	-- a URN: pubdata has no public home page to name
	producer text := 'urn:pubdata:'
		|| (SELECT x.extversion FROM pg_catalog.pg_extension x WHERE x.extname OPERATOR(pg_catalog.=) 'pubdata');
	out_name text;
	event_at timestamptz;
	agg_run bigint;
	hidden integer;
	inputs text[];
BEGIN
	SELECT db || '.' || n.nspname || '.' || c.relname INTO out_name
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	 WHERE c.oid OPERATOR(pg_catalog.=) rel;

	WITH src AS (
		SELECT e.source_key, pg_catalog.min(e.source::pg_catalog.oid) AS source_oid,
			   pg_catalog.max(e.source_name) AS source_name,
			   pg_catalog.string_agg(DISTINCT e.kind::text, ',') AS kinds,
			   pg_catalog.sum(e.count)::bigint AS count,
			   pg_catalog.min(e.first_seen) AS first_seen, pg_catalog.max(e.last_seen) AS last_seen,
			   pg_catalog.max(e.last_run_id) FILTER (WHERE e.kind OPERATOR(pg_catalog.=) 'aggregation') AS run
		  FROM pubdata.lineage_edge e
		 WHERE e.target::pg_catalog.oid OPERATOR(pg_catalog.=) rel
		 GROUP BY e.source_key
	), shown AS (
		SELECT s.*, pubdata._lineage_visible(s.source_oid, privileged) AS ok FROM src s
	)
	SELECT pg_catalog.max(s.last_seen), pg_catalog.max(s.run),
		   pg_catalog.count(*) FILTER (WHERE NOT s.ok),
		   pg_catalog.array_agg(ARRAY[
				CASE WHEN s.source_oid IS NULL THEN 'pubdata-external' ELSE ns END,
				CASE WHEN s.source_oid IS NULL THEN s.source_name
					 ELSE coalesce((SELECT db || '.' || n.nspname || '.' || c.relname
									  FROM pg_catalog.pg_class c
									  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
									 WHERE c.oid OPERATOR(pg_catalog.=) s.source_oid),
								   db || '.' || s.source_name) END,
				(SELECT r.code FROM pubdata.resource r WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) s.source_oid),
				pubdata._lineage_department(s.source_oid),
				s.kinds, s.count::text,
				pg_catalog.to_char(s.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
				pg_catalog.to_char(s.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')]
				ORDER BY s.source_name) FILTER (WHERE s.ok)
	  INTO event_at, agg_run, hidden, inputs
	  FROM shown s;

	event_at := coalesce(event_at, pg_catalog.statement_timestamp());
	RETURN pubdata._openlineage_build(
		pg_catalog.to_char(event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		pg_catalog.md5(db || ':' || rel::text || ':' || event_at::text)::pg_catalog.uuid::text,
		producer,
		'pubdata://' || db,
		'produce:' || pg_catalog.substr(out_name, pg_catalog.length(db) OPERATOR(pg_catalog.+) 2),
		agg_run, hidden,
		ARRAY[ns, out_name,
			  (SELECT r.code FROM pubdata.resource r WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) rel),
			  pubdata._lineage_department(rel)],
		inputs)::jsonb;
END
$$;
COMMENT ON FUNCTION pubdata.lineage_openlineage(regclass) IS
	'An OpenLineage RunEvent (JSON) of the edges that produce a table: job, run, input datasets with pubdata facets, the output with its owning department';

REVOKE ALL ON pubdata.lineage_edge, pubdata.lineage_edge_data, pubdata.lineage_observation, pubdata.lineage_edge_run FROM PUBLIC;
GRANT SELECT ON pubdata.lineage_edge, pubdata.lineage_edge_data, pubdata.lineage_observation, pubdata.lineage_edge_run
	TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.lineage_compact() TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.lineage_upstream(regclass, integer), pubdata.lineage_downstream(regclass, integer),
	pubdata.lineage_openlineage(regclass)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.record_lineage(regclass, regclass, text, bigint),
	pubdata.record_lineage(text, regclass, text, bigint), pubdata._record_view_lineage(regclass)
	TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata._record_view_lineage(regclass) TO pubdata_department;

-- the scheduler folds what sessions that ended early left behind
INSERT INTO pubdata.job (name, kind, source, schedule, schedule_kind, next_run_at, run_as, builtin)
VALUES ('lineage compaction', 'custom', 'SELECT pubdata.lineage_compact()', '10 minutes', 'interval', now(), current_user, true);
-- ---------------------------------------------------------------------------
-- Open data (Art 20, 21): masked views in schema pubdata_open for BI tools
--
-- A published resource whose open class is 'open' (or 'conditional') gets a
-- view pubdata_open.<name from its code>.  AFTER triggers on pubdata.resource
-- and pubdata.resource_item keep the views in step with the catalog: publish
-- creates, an item change rebuilds, retiring drops.  The views are owned by
-- the extension owner (a superuser, see pubdata.control), so they read the
-- registered table whatever its row-level security says; what they expose is
-- decided here, item by item: restricted, non-shared, redacted and unmasked
-- personal items are left out, masked items are shown masked.
-- ---------------------------------------------------------------------------

CREATE SCHEMA pubdata_open;
COMMENT ON SCHEMA pubdata_open IS
	'开放数据：公共数据开放视图与开放目录（第二十、二十一条）. Open-data views and the open catalog, for BI tools';
REVOKE ALL ON SCHEMA pubdata_open FROM PUBLIC;
GRANT USAGE ON SCHEMA pubdata_open TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;

-- The view of each open resource; the row stays after retirement so that the
-- name is stable if the resource is published again.
CREATE TABLE pubdata.open_dataset (
	resource_id	bigint PRIMARY KEY,
	view_name	name NOT NULL UNIQUE,
	columns		integer NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now(),
	refreshed_at timestamptz NOT NULL DEFAULT now(),
	dropped_at	timestamptz
);
COMMENT ON TABLE pubdata.open_dataset IS 'The open-data view of each resource ever opened (Art 20); maintained by triggers, the name is kept when a view is dropped';
COMMENT ON COLUMN pubdata.open_dataset.view_name IS 'name of the view in schema pubdata_open (stable for the resource)';
COMMENT ON COLUMN pubdata.open_dataset.columns IS 'number of items the view exposes';
COMMENT ON COLUMN pubdata.open_dataset.refreshed_at IS 'when the view was last (re)built';
COMMENT ON COLUMN pubdata.open_dataset.dropped_at IS 'when the view was dropped (resource retired or no longer open); NULL while it exists';

-- Roles that may read a conditional resource's view, named by its provider
CREATE TABLE pubdata.open_reader (
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	role_name	name NOT NULL,
	granted_by	name NOT NULL,
	granted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (resource_id, role_name)
);
COMMENT ON TABLE pubdata.open_reader IS 'Roles allowed to read a conditional open resource (Art 20), named by its provider with pubdata.allow_open_reader()';

-- The pseudonymization key: readable by pubdata_admin only
CREATE TABLE pubdata.open_pseudonym_key (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	key			bytea NOT NULL CHECK (pg_catalog.length(key) >= 32),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.open_pseudonym_key IS 'Secret key of the keyed pseudonyms (HMAC-SHA256) in open views; generated at install, readable by pubdata_admin only';
INSERT INTO pubdata.open_pseudonym_key (key) VALUES (gen_random_bytes(32));

-- Restoring a dump: CREATE EXTENSION has just generated a key, and the dumped
-- key arrives by COPY; the dumped one replaces it, so pseudonyms stay stable.
CREATE FUNCTION pubdata._open_key_replace() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	DELETE FROM pubdata.open_pseudonym_key;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION pubdata._open_key_replace() IS 'A key inserted (by a restore) replaces the one generated at install (internal)';
CREATE TRIGGER open_key_replace BEFORE INSERT ON pubdata.open_pseudonym_key
	FOR EACH ROW EXECUTE FUNCTION pubdata._open_key_replace();

SELECT pg_catalog.pg_extension_config_dump('pubdata.open_dataset', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.open_reader', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.open_pseudonym_key', '');

-- _pgcrypto_schema(): where pgcrypto lives (it is relocatable)
CREATE FUNCTION pubdata._pgcrypto_schema() RETURNS name
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT n.nspname FROM pg_catalog.pg_extension e
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
	 WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto'
$$;
COMMENT ON FUNCTION pubdata._pgcrypto_schema() IS 'The schema pgcrypto is installed in';

-- rotate_pseudonym_key(): a new key; every pseudonym in every view changes
CREATE FUNCTION pubdata.rotate_pseudonym_key() RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('rotate the pseudonymization key');
	EXECUTE pg_catalog.format('UPDATE pubdata.open_pseudonym_key SET key = %I.gen_random_bytes(32), created_at = pg_catalog.now()',
							  pubdata._pgcrypto_schema());
END
$$;
COMMENT ON FUNCTION pubdata.rotate_pseudonym_key() IS
	'Replace the pseudonymization key (pubdata_admin): all pseudonyms in open views change, links to old ones are lost';

-- _open_mask_expr(rule, expr): SQL text of a masked expression.  One source for
-- the views and for pubdata.mask_value().  Only built-in functions that PUBLIC
-- may execute are used (a view calls functions with its reader's rights).
CREATE FUNCTION pubdata._open_mask_expr(rule pubdata.mask_rule, expr text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v text := '(' || expr || ')::pg_catalog.text';
	n text;
BEGIN
	n := 'pg_catalog.length(' || v || ')';
	CASE rule
	WHEN 'none' THEN
		RETURN v;
	WHEN 'id_card' THEN		-- 3301**********1234
		RETURN pg_catalog.format('CASE WHEN %2$s >= 8 THEN pg_catalog.left(%1$s, 4) || pg_catalog.repeat(''*'', %2$s - 8) || pg_catalog.right(%1$s, 4) ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'name' THEN		-- 张* / 张*三 / 欧**锋
		RETURN pg_catalog.format('CASE WHEN %2$s >= 3 THEN pg_catalog.left(%1$s, 1) || pg_catalog.repeat(''*'', %2$s - 2) || pg_catalog.right(%1$s, 1) WHEN %2$s = 2 THEN pg_catalog.left(%1$s, 1) || ''*'' ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'phone' THEN		-- 138****5678
		RETURN pg_catalog.format('CASE WHEN %2$s >= 7 THEN pg_catalog.left(%1$s, 3) || pg_catalog.repeat(''*'', %2$s - 7) || pg_catalog.right(%1$s, 4) ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'email' THEN		-- z***@example.cn
		RETURN pg_catalog.format('CASE WHEN pg_catalog.strpos(%1$s, ''@'') > 1 THEN pg_catalog.left(%1$s, 1) || ''***'' || pg_catalog.substr(%1$s, pg_catalog.strpos(%1$s, ''@'')) ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'pseudonym' THEN	-- hex HMAC-SHA256 under the secret key: stable, joinable, not reversible
		RETURN pg_catalog.format('pg_catalog.encode(%I.hmac(pg_catalog.convert_to(%s, ''UTF8''), (SELECT k.key FROM pubdata.open_pseudonym_key k), ''sha256''), ''hex'')',
								 pubdata._pgcrypto_schema(), v);
	WHEN 'redact' THEN
		RETURN 'NULL::pg_catalog.text';
	END CASE;
END
$$;
COMMENT ON FUNCTION pubdata._open_mask_expr(pubdata.mask_rule, text) IS 'SQL expression applying a mask rule to an expression (internal)';

-- mask_value(value, rule): what an open view shows for a value under a mask rule
CREATE FUNCTION pubdata.mask_value(value text, rule text) RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	result text;
BEGIN
	EXECUTE 'SELECT ' || pubdata._open_mask_expr(pubdata._check_enum(rule, 'pubdata.mask_rule', 'mask rule')::pubdata.mask_rule, '$1')
		INTO result USING value;
	RETURN result;
END
$$;
COMMENT ON FUNCTION pubdata.mask_value(text, text) IS
	'The value as an open view shows it under a mask rule (none, id_card, name, phone, email, pseudonym, redact); pseudonym needs the key (pubdata_admin)';

-- _open_item_exposed(): does an item appear in the open view?
CREATE FUNCTION pubdata._open_item_exposed(personal pubdata.personal_kind, item_class pubdata.share_class, rule pubdata.mask_rule)
	RETURNS boolean
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(item_class::text, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional'
	   AND rule OPERATOR(pg_catalog.<>) 'redact'
	   AND (personal OPERATOR(pg_catalog.=) 'none' OR rule OPERATOR(pg_catalog.<>) 'none')
$$;
COMMENT ON FUNCTION pubdata._open_item_exposed(pubdata.personal_kind, pubdata.share_class, pubdata.mask_rule) IS
	'An item is opened unless it is restricted or non-shared at item level, redacted, or personal/sensitive without a mask';

-- _open_plain(type, expr): expr cast to a plain type a BI tool maps cleanly
CREATE FUNCTION pubdata._open_plain(typ oid, expr text) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
		WHEN b IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype,
				   'float4'::regtype, 'float8'::regtype, 'money'::regtype)
			THEN '(' || expr || ')::pg_catalog.numeric'
		WHEN b OPERATOR(pg_catalog.=) 'date'::regtype THEN '(' || expr || ')::pg_catalog.date'
		WHEN b OPERATOR(pg_catalog.=) 'timestamp'::regtype THEN '(' || expr || ')::pg_catalog.timestamp'
		WHEN b OPERATOR(pg_catalog.=) 'timestamptz'::regtype
			THEN 'pg_catalog.timezone(''Asia/Shanghai''::pg_catalog.text, ' || expr || ')'
		ELSE '(' || expr || ')::pg_catalog.text'
	END
	FROM (SELECT CASE WHEN t.typtype OPERATOR(pg_catalog.=) 'd' THEN t.typbasetype ELSE t.oid END AS b
			FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) typ) s
$$;
COMMENT ON FUNCTION pubdata._open_plain(oid, text) IS
	'Cast to text, numeric, date or timestamp (timestamptz shown in Asia/Shanghai local time) (internal)';

-- _open_view_name(resource): a readable, stable name for the resource's view
CREATE FUNCTION pubdata._open_view_name(rid bigint) RETURNS name
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	code text;
	v text;
BEGIN
	SELECT o.view_name INTO v FROM pubdata.open_dataset o WHERE o.resource_id OPERATOR(pg_catalog.=) rid;
	IF v IS NOT NULL THEN
		RETURN v;
	END IF;
	SELECT r.code INTO code FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	v := pg_catalog.lower(pg_catalog.regexp_replace(code, '[^A-Za-z0-9_]', '_', 'g'));
	IF v !~ '^[a-z_]' THEN
		v := 'ds_' || v;
	END IF;
	v := pg_catalog.left(v, 50);
	-- taken by another resource's view, or by anything else in the schema
	IF v OPERATOR(pg_catalog.=) 'catalog'
	   OR EXISTS (SELECT 1 FROM pubdata.open_dataset o WHERE o.view_name OPERATOR(pg_catalog.=) v)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c
				   WHERE c.relnamespace OPERATOR(pg_catalog.=) 'pubdata_open'::regnamespace
					 AND c.relname OPERATOR(pg_catalog.=) v) THEN
		v := v || '_' || rid;
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION pubdata._open_view_name(bigint) IS
	'View name for a resource: its code in lower case with other characters as underscores; kept once given (internal)';

-- _open_sync(resource): create, rebuild or drop the resource's open view
CREATE FUNCTION pubdata._open_sync(rid bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	i record;
	vname name;
	cols text[] := '{}';
	comments text[] := '{}';
	expr text;
	note text;
	readers name[];
	reader name;
	hmac_fn regprocedure;
	has_pseudonym boolean := false;
	want boolean;
BEGIN
	SELECT res.*, d.name AS provider_name
	  INTO r
	  FROM pubdata.resource res
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) res.provider_id
	 WHERE res.id OPERATOR(pg_catalog.=) rid;
	want := FOUND AND r.status OPERATOR(pg_catalog.=) 'published'
		AND r.open_class OPERATOR(pg_catalog.<>) 'not_open' AND r.relation IS NOT NULL;

	IF NOT want THEN
		SELECT o.view_name INTO vname FROM pubdata.open_dataset o
		 WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.dropped_at IS NULL;
		IF vname IS NOT NULL THEN
			IF pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', vname)) IS NOT NULL THEN
				EXECUTE pg_catalog.format('DROP VIEW pubdata_open.%I', vname);
			END IF;
			UPDATE pubdata.open_dataset SET dropped_at = pg_catalog.now()
			 WHERE resource_id OPERATOR(pg_catalog.=) rid;
		END IF;
		RETURN;
	END IF;

	vname := pubdata._open_view_name(rid);

	FOR i IN
		SELECT it.column_name, it.title, it.description, it.personal, it.mask, a.atttypid
		  FROM pubdata.resource_item it
		  JOIN pg_catalog.pg_attribute a
			ON a.attrelid OPERATOR(pg_catalog.=) r.relation
		   AND a.attname OPERATOR(pg_catalog.=) it.column_name
		   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		 WHERE it.resource_id OPERATOR(pg_catalog.=) rid
		   AND it.state OPERATOR(pg_catalog.=) 'current'
		   AND pubdata._open_item_exposed(it.personal, it.share_class, it.mask)
		 ORDER BY a.attnum
	LOOP
		IF i.mask OPERATOR(pg_catalog.=) 'none' THEN
			expr := pubdata._open_plain(i.atttypid, pg_catalog.format('t.%I', i.column_name));
			note := '';
		ELSE
			expr := pubdata._open_mask_expr(i.mask, pg_catalog.format('t.%I', i.column_name));
			note := CASE i.mask
				WHEN 'pseudonym' THEN '（化名：HMAC-SHA256 密钥化名，可关联，不可还原）'
				ELSE '（已脱敏：部分遮盖）' END;
			has_pseudonym := has_pseudonym OR i.mask OPERATOR(pg_catalog.=) 'pseudonym';
		END IF;
		cols := cols || pg_catalog.format('%s AS %I', expr, i.column_name);
		comments := comments || pg_catalog.format('COMMENT ON COLUMN pubdata_open.%I.%I IS %L', vname, i.column_name,
			i.title || coalesce('：' || nullif(i.description, ''), '') || note);
	END LOOP;

	-- rebuilt from scratch: a changed item may change a column's type or position
	IF pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', vname)) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP VIEW pubdata_open.%I', vname);
	END IF;
	EXECUTE pg_catalog.format('CREATE VIEW pubdata_open.%I WITH (security_barrier) AS SELECT %s FROM %I.%I t',
		vname, pg_catalog.array_to_string(cols, ', '),
		(SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		  WHERE c.oid OPERATOR(pg_catalog.=) r.relation),
		(SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) r.relation));
	EXECUTE pg_catalog.format('COMMENT ON VIEW pubdata_open.%I IS %L', vname,
		CASE WHEN r.high_value THEN '【高价值数据】' ELSE '' END || r.name
		|| coalesce('：' || nullif(r.summary, ''), '')
		|| '（提供部门：' || r.provider_name || '；资源代码：' || r.code || '；更新频率：' || r.update_frequency::text
		|| CASE WHEN r.open_class OPERATOR(pg_catalog.=) 'conditional' THEN '；有条件开放' ELSE '；无条件开放' END || '）');
	FOREACH expr IN ARRAY comments LOOP
		EXECUTE expr;
	END LOOP;

	-- who reads it: everyone with pubdata_open_reader, or the named roles
	IF r.open_class OPERATOR(pg_catalog.=) 'open' THEN
		readers := ARRAY['pubdata_open_reader']::name[];
	ELSE
		SELECT coalesce(pg_catalog.array_agg(o.role_name ORDER BY o.role_name), '{}') INTO readers
		  FROM pubdata.open_reader o
		  JOIN pg_catalog.pg_roles ro ON ro.rolname OPERATOR(pg_catalog.=) o.role_name
		 WHERE o.resource_id OPERATOR(pg_catalog.=) rid;
	END IF;
	-- the bureau oversees every open view
	EXECUTE pg_catalog.format('GRANT SELECT ON pubdata_open.%I TO pubdata_admin', vname);
	hmac_fn := pg_catalog.to_regprocedure(pg_catalog.format('%I.hmac(bytea, bytea, text)', pubdata._pgcrypto_schema()));
	FOREACH reader IN ARRAY readers LOOP
		EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA pubdata_open TO %I', reader);
		EXECUTE pg_catalog.format('GRANT SELECT ON pubdata_open.%I TO %I', vname, reader);
		-- a view calls functions with its reader's rights
		IF has_pseudonym AND NOT pg_catalog.has_function_privilege(reader, hmac_fn, 'EXECUTE') THEN
			EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', hmac_fn, reader);
		END IF;
	END LOOP;

	INSERT INTO pubdata.open_dataset AS o (resource_id, view_name, columns)
	VALUES (rid, vname, pg_catalog.cardinality(cols))
	ON CONFLICT (resource_id) DO UPDATE
		SET columns = excluded.columns, refreshed_at = pg_catalog.now(), dropped_at = NULL;
END
$$;
COMMENT ON FUNCTION pubdata._open_sync(bigint) IS
	'Create, rebuild or drop the open-data view of a resource from its catalog entry (internal; called by triggers)';

-- Triggers: the catalog drives the views, whatever function changed it.
-- Only UPDATE and DELETE: a resource is registered (INSERT) as a draft and
-- published by an UPDATE, and new items arrive as 'added', not yet opened;
-- so restoring a dump (COPY = INSERT) leaves the dumped views, their grants
-- and pubdata.open_dataset exactly as they were.
CREATE FUNCTION pubdata._open_resource_trigger() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		PERFORM pubdata._open_sync(OLD.id);
	ELSIF (NEW.status, NEW.open_class, NEW.code, NEW.name, NEW.summary, NEW.high_value, NEW.relation::oid,
		   NEW.provider_id, NEW.update_frequency)
		  IS NOT DISTINCT FROM
		  (OLD.status, OLD.open_class, OLD.code, OLD.name, OLD.summary, OLD.high_value, OLD.relation::oid,
		   OLD.provider_id, OLD.update_frequency) THEN
		-- nothing the view shows changed (e.g. only the version, bumped by an item change)
		RETURN NULL;
	ELSIF NEW.status OPERATOR(pg_catalog.=) 'published'
		  OR EXISTS (SELECT 1 FROM pubdata.open_dataset o
					  WHERE o.resource_id OPERATOR(pg_catalog.=) NEW.id AND o.dropped_at IS NULL) THEN
		PERFORM pubdata._open_sync(NEW.id);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._open_resource_trigger() IS 'Keeps open-data views in step with pubdata.resource (internal)';

CREATE FUNCTION pubdata._open_item_trigger() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint;
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		rid := OLD.resource_id;
	ELSE
		rid := NEW.resource_id;
	END IF;
	IF EXISTS (SELECT 1 FROM pubdata.resource r
				WHERE r.id OPERATOR(pg_catalog.=) rid AND r.status OPERATOR(pg_catalog.=) 'published')
	   OR EXISTS (SELECT 1 FROM pubdata.open_dataset o
				   WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.dropped_at IS NULL) THEN
		PERFORM pubdata._open_sync(rid);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._open_item_trigger() IS 'Rebuilds an open-data view when one of its items changes (internal)';

CREATE TRIGGER open_view_sync AFTER UPDATE OR DELETE ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._open_resource_trigger();
CREATE TRIGGER open_view_sync AFTER UPDATE OR DELETE ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._open_item_trigger();

-- allow_open_reader(resource, role): the provider names a role that may read
-- its conditional dataset
CREATE FUNCTION pubdata.allow_open_reader(resource text, role_name name) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata.resource_id(resource);
	r pubdata.resource;
BEGIN
	SELECT * INTO r FROM pubdata.resource WHERE id OPERATOR(pg_catalog.=) rid;
	IF NOT pubdata.is_admin() AND pubdata.current_department() OPERATOR(pg_catalog.<>) r.provider_id THEN
		RAISE EXCEPTION 'permission denied to name readers of resource "%"', resource
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only the resource''s provider department or pubdata_admin names who reads a conditional dataset.',
				  HINT = 'Ask the provider department.';
	END IF;
	IF r.open_class OPERATOR(pg_catalog.<>) 'conditional' THEN
		RAISE EXCEPTION 'resource "%" is not conditionally open', resource
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = pg_catalog.format('Its open class is %s.', r.open_class),
				  HINT = 'Readers are named only for resources with open_class ''conditional''; ''open'' ones are read by pubdata_open_reader.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles ro WHERE ro.rolname OPERATOR(pg_catalog.=) role_name)
	   OR role_name IN ('pubdata_admin', 'pubdata_department', 'pubdata_auditor', 'pubdata_open_reader') THEN
		RAISE EXCEPTION 'role "%" cannot be named as a reader', role_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Name an existing role other than pubdata''s own group roles, e.g. the login role of the BI tool that may read the dataset; a dataset for everyone is registered with open_class ''open''.';
	END IF;
	IF (SELECT ro.rolsuper FROM pg_catalog.pg_roles ro WHERE ro.rolname OPERATOR(pg_catalog.=) role_name) THEN
		RAISE EXCEPTION 'role "%" is a superuser', role_name
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Name an ordinary role.';
	END IF;
	INSERT INTO pubdata.open_reader (resource_id, role_name, granted_by)
	VALUES (rid, role_name, pubdata.caller())
	ON CONFLICT DO NOTHING;
	PERFORM pubdata._open_sync(rid);
END
$$;
COMMENT ON FUNCTION pubdata.allow_open_reader(text, name) IS
	'The provider (or pubdata_admin) lets a role read a conditional open dataset''s view (Art 20)';

-- disallow_open_reader(resource, role): take it back
CREATE FUNCTION pubdata.disallow_open_reader(resource text, role_name name) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata.resource_id(resource);
	vname name;
BEGIN
	IF NOT pubdata.is_admin() AND pubdata.current_department() OPERATOR(pg_catalog.<>)
		(SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid) THEN
		RAISE EXCEPTION 'permission denied to name readers of resource "%"', resource
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Only the resource''s provider department or pubdata_admin does this.';
	END IF;
	DELETE FROM pubdata.open_reader o
	 WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.role_name OPERATOR(pg_catalog.=) disallow_open_reader.role_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role "%" is not a named reader of resource "%"', role_name, resource
			USING ERRCODE = 'undefined_object', HINT = 'See pubdata.open_reader.';
	END IF;
	SELECT o.view_name INTO vname FROM pubdata.open_dataset o
	 WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.dropped_at IS NULL;
	IF vname IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles ro WHERE ro.rolname OPERATOR(pg_catalog.=) role_name) THEN
		EXECUTE pg_catalog.format('REVOKE ALL ON pubdata_open.%I FROM %I', vname, role_name);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.disallow_open_reader(text, name) IS
	'The provider (or pubdata_admin) withdraws a role''s right to read a conditional open dataset';

-- ---------------------------------------------------------------------------
-- The open catalog (Art 21): high-value datasets first
-- ---------------------------------------------------------------------------
CREATE VIEW pubdata_open.catalog AS
	SELECT r.code::text AS dataset_code,
		   r.name::text AS title,
		   r.summary::text AS description,
		   d.name::text AS publisher,
		   r.category::text AS theme,
		   pg_catalog.array_to_string(r.keywords, '，') AS keywords,
		   r.update_frequency::text AS update_frequency,
		   pg_catalog.timezone('Asia/Shanghai', GREATEST(r.updated_at, r.published_at, o.refreshed_at)) AS last_modified,
		   pg_catalog.format('pubdata_open.%I', o.view_name) AS access_view,
		   r.high_value,
		   r.open_class::text AS open_class,
		   o.columns::numeric AS items,
		   r.id AS resource_id
	  FROM pubdata.resource r
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
	  JOIN pubdata.open_dataset o ON o.resource_id OPERATOR(pg_catalog.=) r.id
	 WHERE r.status OPERATOR(pg_catalog.=) 'published'
	   AND r.open_class OPERATOR(pg_catalog.<>) 'not_open'
	   AND o.dropped_at IS NULL
	 ORDER BY r.high_value DESC, r.code;
COMMENT ON VIEW pubdata_open.catalog IS '公共数据开放目录：每个开放数据集一行，高价值数据在前（第二十一条）. The open catalog, high-value datasets first';
COMMENT ON COLUMN pubdata_open.catalog.dataset_code IS '资源代码 resource code';
COMMENT ON COLUMN pubdata_open.catalog.title IS '数据集名称 title';
COMMENT ON COLUMN pubdata_open.catalog.description IS '摘要 description';
COMMENT ON COLUMN pubdata_open.catalog.publisher IS '提供部门 publisher (the providing department)';
COMMENT ON COLUMN pubdata_open.catalog.theme IS '主题分类 theme / category';
COMMENT ON COLUMN pubdata_open.catalog.keywords IS '关键词 keywords';
COMMENT ON COLUMN pubdata_open.catalog.update_frequency IS '更新频率 update frequency';
COMMENT ON COLUMN pubdata_open.catalog.last_modified IS '最后更新时间（北京时间） last modified (Asia/Shanghai)';
COMMENT ON COLUMN pubdata_open.catalog.access_view IS '访问视图 the view to query';
COMMENT ON COLUMN pubdata_open.catalog.high_value IS '高价值数据 high-value data (Art 21)';
COMMENT ON COLUMN pubdata_open.catalog.open_class IS '开放类型：open 无条件开放，conditional 有条件开放（仅限指定角色）';
COMMENT ON COLUMN pubdata_open.catalog.items IS '开放数据项数 number of open items';
COMMENT ON COLUMN pubdata_open.catalog.resource_id IS '资源编号 resource id';

GRANT SELECT ON pubdata_open.catalog TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;
GRANT SELECT ON pubdata.open_dataset, pubdata.open_reader TO pubdata_admin, pubdata_auditor, pubdata_department;
GRANT SELECT ON pubdata.open_pseudonym_key TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.allow_open_reader(text, name), pubdata.disallow_open_reader(text, name),
	pubdata.mask_value(text, text) TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata._check_enum(text, regtype, text), pubdata._open_mask_expr(pubdata.mask_rule, text),
	pubdata._pgcrypto_schema() TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.rotate_pseudonym_key() TO pubdata_admin;
-- ---------------------------------------------------------------------------
-- DCAT-AP 3 export of the open catalog (Art 21), built with libjson-c
-- ---------------------------------------------------------------------------

CREATE FUNCTION pubdata.dcat_catalog() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'pubdata_dcat_catalog'
	LANGUAGE C STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pubdata.dcat_catalog() IS
	'The open catalog as a DCAT-AP 3 JSON-LD document (Catalog, Dataset, Distribution, Agent; frequency, modified, contact point, keywords, theme)';

-- The same document for the open-data role, which has no right on schema pubdata
CREATE VIEW pubdata_open.dcat AS
	SELECT pubdata.dcat_catalog() AS document;
COMMENT ON VIEW pubdata_open.dcat IS '开放目录的 DCAT-AP 3 JSON-LD 文档. The open catalog as a DCAT-AP 3 JSON-LD document';
COMMENT ON COLUMN pubdata_open.dcat.document IS 'DCAT-AP 3 JSON-LD 文档 document';

GRANT SELECT ON pubdata_open.dcat TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;
-- a view calls its functions with its reader's rights
GRANT EXECUTE ON FUNCTION pubdata.dcat_catalog() TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;
-- ---------------------------------------------------------------------------
-- Evaluation of each department's providing and using of shared data
-- (Art 16(4), 28, 34)
--
-- Indicators come from the catalog and from the tables of the sharing,
-- objection, scheduler, quality and audit modules.  Each of those is read
-- only if it is there (to_regclass and the columns it needs): an indicator
-- whose source is missing is NULL, not zero, and does not count in the total.
-- ---------------------------------------------------------------------------

CREATE TABLE pubdata.evaluation_weight (
	indicator	text PRIMARY KEY CHECK (indicator IN ('catalog', 'open', 'response', 'objection', 'timeliness', 'quality', 'usage')),
	weight		numeric NOT NULL CHECK (weight >= 0),
	description	text NOT NULL
);
COMMENT ON TABLE pubdata.evaluation_weight IS
	'Weights of the evaluation indicators (Art 28), edited by the Big Data Bureau; the total is the weighted mean of the available indicator scores';
COMMENT ON COLUMN pubdata.evaluation_weight.indicator IS 'indicator name (fixed set)';
COMMENT ON COLUMN pubdata.evaluation_weight.weight IS 'non-negative weight; only ratios matter';
INSERT INTO pubdata.evaluation_weight (indicator, weight, description) VALUES
	('catalog', 15, '目录发布率：已发布资源 / 已编目资源 (published / catalogued)'),
	('open', 10, '开放率：开放资源 / 已发布资源 (open or conditional / published)'),
	('response', 20, '共享申请按时答复率 (share requests answered within the deadline / received)'),
	('objection', 15, '疑义2个工作日内校核率 (objections resolved within 2 working days / received)'),
	('timeliness', 15, '归集及时率：成功的归集运行 / 全部归集运行 (successful aggregation runs / runs)'),
	('quality', 15, '数据质量得分 0-100 (mean of the latest quality score of each resource)'),
	('usage', 10, '共享数据使用：读取他部门共享数据次数，相对最多者 (shared reads, relative to the most active department)');
SELECT pg_catalog.pg_extension_config_dump('pubdata.evaluation_weight', '');

-- Restoring a dump: the dumped weights replace the defaults CREATE EXTENSION inserted
CREATE FUNCTION pubdata._evaluation_weight_replace() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	DELETE FROM pubdata.evaluation_weight w WHERE w.indicator OPERATOR(pg_catalog.=) NEW.indicator;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION pubdata._evaluation_weight_replace() IS 'A weight inserted (by a restore) replaces the default (internal)';
CREATE TRIGGER evaluation_weight_replace BEFORE INSERT ON pubdata.evaluation_weight
	FOR EACH ROW EXECUTE FUNCTION pubdata._evaluation_weight_replace();

-- _eval_col(relation, candidates): the first of the candidate columns the relation has
CREATE FUNCTION pubdata._eval_col(rel text, candidates text[]) RETURNS name
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT a.attname FROM pg_catalog.pg_attribute a
	  JOIN pg_catalog.unnest(candidates) WITH ORDINALITY c(name, ord) ON c.name OPERATOR(pg_catalog.=) a.attname::text
	 WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(rel)
	   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	 ORDER BY c.ord LIMIT 1
$$;
COMMENT ON FUNCTION pubdata._eval_col(text, text[]) IS 'First existing column among candidates, NULL if the relation or all columns are missing (internal)';

-- _eval_map(sql, from, to): run an indicator query returning (department id, value)
-- rows as a JSON object {"<department id>": value}
CREATE FUNCTION pubdata._eval_map(q text, t0 timestamptz, t1 timestamptz) RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	m jsonb;
BEGIN
	EXECUTE 'SELECT coalesce(pg_catalog.jsonb_object_agg(s.dept::text, s.val), ''{}'') FROM (' || q || ') s(dept, val)'
		INTO m USING t0, t1;
	RETURN m;
EXCEPTION
	-- a source that needs what is not there (e.g. the audit without
	-- shared_preload_libraries) is not available: NULL, not an error
	WHEN object_not_in_prerequisite_state THEN
		RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._eval_map(text, timestamptz, timestamptz) IS 'Indicator values per department id as a JSON object (internal)';

-- evaluation(period_start, period_end): one row per department
CREATE FUNCTION pubdata.evaluation(period_start date, period_end date)
	RETURNS TABLE (
		department text,
		department_name text,
		resources_catalogued integer,
		resources_published integer,
		resources_open integer,
		requests_received integer,
		requests_answered_on_time integer,
		refusals integer,
		refusal_reasons jsonb,
		objections_received integer,
		objections_resolved_on_time integer,
		aggregation_runs integer,
		aggregation_runs_succeeded integer,
		quality_score numeric,
		shared_reads bigint,
		total_score numeric)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t0 timestamptz;
	t1 timestamptz;
	c_req text; c_at text; c_dec text; c_due text; c_status text; c_reason text;
	c_res text; c_job text; c_start text; c_score text; c_dept text; c_kind text;
	deadline text;
	m_req jsonb; m_req_ok jsonb; m_ref jsonb; m_ref_reasons jsonb;
	m_obj jsonb; m_obj_ok jsonb; m_runs jsonb; m_runs_ok jsonb; m_quality jsonb; m_reads jsonb;
	job_src text;
	w jsonb;
BEGIN
	PERFORM pubdata._require_evaluation_reader();
	IF period_start IS NULL OR period_end IS NULL OR period_end OPERATOR(pg_catalog.<) period_start THEN
		RAISE EXCEPTION 'invalid evaluation period % to %', period_start, period_end
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give a start date and an end date on or after it, e.g. evaluation(''2026-01-01'', ''2026-03-31'').';
	END IF;
	-- the period in the city's local time, both days included
	t0 := pg_catalog.timezone('Asia/Shanghai', period_start::timestamp);
	t1 := pg_catalog.timezone('Asia/Shanghai', (period_end OPERATOR(pg_catalog.+) 1)::timestamp);

	-- share requests (Art 16, 19, 34), counted for the provider of the requested resource
	c_res := pubdata._eval_col('pubdata.share_request', ARRAY['resource_id']);
	c_at := pubdata._eval_col('pubdata.share_request', ARRAY['requested_at', 'created_at', 'submitted_at']);
	IF c_res IS NOT NULL AND c_at IS NOT NULL THEN
		m_req := pubdata._eval_map(pg_catalog.format(
			'SELECT r.provider_id, pg_catalog.count(*) FROM pubdata.share_request q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.%I
			  WHERE q.%I >= $1 AND q.%I < $2 GROUP BY r.provider_id', c_res, c_at, c_at), t0, t1);
		c_dec := pubdata._eval_col('pubdata.share_request', ARRAY['decided_at', 'answered_at', 'responded_at']);
		c_due := pubdata._eval_col('pubdata.share_request', ARRAY['due_at', 'deadline']);
		IF c_due IS NOT NULL THEN
			deadline := pg_catalog.format('q.%I', c_due);
		END IF;
		IF c_dec IS NOT NULL AND deadline IS NOT NULL THEN
			m_req_ok := pubdata._eval_map(pg_catalog.format(
				'SELECT r.provider_id, pg_catalog.count(*) FROM pubdata.share_request q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.%I
				  WHERE q.%I >= $1 AND q.%I < $2 AND q.%I IS NOT NULL AND q.%I <= %s GROUP BY r.provider_id',
				c_res, c_at, c_at, c_dec, c_dec, deadline), t0, t1);
		END IF;
		c_status := pubdata._eval_col('pubdata.share_request', ARRAY['status', 'state']);
		c_reason := pubdata._eval_col('pubdata.share_request', ARRAY['reason', 'decision_reason', 'refusal_reason']);
		IF c_status IS NOT NULL AND c_reason IS NOT NULL AND c_dec IS NOT NULL THEN
			m_ref := pubdata._eval_map(pg_catalog.format(
				'SELECT r.provider_id, pg_catalog.count(*) FROM pubdata.share_request q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.%I
				  WHERE q.%I >= $1 AND q.%I < $2 AND q.%I::text IN (''refused'', ''rejected'', ''denied'') GROUP BY r.provider_id',
				c_res, c_dec, c_dec, c_status), t0, t1);
			m_ref_reasons := pubdata._eval_map(pg_catalog.format(
				'SELECT r.provider_id, pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(''resource'', r.code, ''reason'', q.%I) ORDER BY q.%I)
				   FROM pubdata.share_request q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.%I
				  WHERE q.%I >= $1 AND q.%I < $2 AND q.%I::text IN (''refused'', ''rejected'', ''denied'') GROUP BY r.provider_id',
				c_reason, c_dec, c_res, c_dec, c_dec, c_status), t0, t1);
		END IF;
	END IF;

	-- objections (Art 13): verified within 2 working days, for the provider
	c_res := pubdata._eval_col('pubdata.objection', ARRAY['resource_id']);
	c_at := pubdata._eval_col('pubdata.objection', ARRAY['raised_at', 'created_at']);
	IF c_res IS NOT NULL AND c_at IS NOT NULL THEN
		m_obj := pubdata._eval_map(pg_catalog.format(
			'SELECT r.provider_id, pg_catalog.count(*) FROM pubdata.objection o JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) o.%I
			  WHERE o.%I >= $1 AND o.%I < $2 GROUP BY r.provider_id', c_res, c_at, c_at), t0, t1);
		c_dec := pubdata._eval_col('pubdata.objection', ARRAY['resolved_at', 'closed_at', 'verified_at']);
		c_due := pubdata._eval_col('pubdata.objection', ARRAY['due_at', 'deadline']);
		IF c_dec IS NOT NULL AND c_due IS NOT NULL THEN
			m_obj_ok := pubdata._eval_map(pg_catalog.format(
				'SELECT r.provider_id, pg_catalog.count(*) FROM pubdata.objection o JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) o.%I
				  WHERE o.%I >= $1 AND o.%I < $2 AND o.%I IS NOT NULL AND o.%I <= o.%I GROUP BY r.provider_id',
				c_res, c_at, c_at, c_dec, c_dec, c_due), t0, t1);
		END IF;
	END IF;

	-- aggregation runs (Art 8(5), 14): runs of jobs of the department's resources
	c_start := pubdata._eval_col('pubdata.job_run', ARRAY['started_at']);
	c_status := pubdata._eval_col('pubdata.job_run', ARRAY['status']);
	IF c_start IS NOT NULL AND c_status IS NOT NULL THEN
		c_res := pubdata._eval_col('pubdata.job_run', ARRAY['resource_id']);
		IF c_res IS NOT NULL THEN
			job_src := pg_catalog.format('pubdata.job_run j JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) j.%I', c_res);
		ELSE
			c_job := pubdata._eval_col('pubdata.job_run', ARRAY['job_id']);
			c_res := pubdata._eval_col('pubdata.job', ARRAY['resource_id']);
			IF c_job IS NOT NULL AND c_res IS NOT NULL AND pubdata._eval_col('pubdata.job', ARRAY['id']) IS NOT NULL THEN
				c_kind := pubdata._eval_col('pubdata.job', ARRAY['kind']);
				job_src := pg_catalog.format('pubdata.job_run j JOIN pubdata.job jb ON jb.id OPERATOR(pg_catalog.=) j.%I
											  JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) jb.%I%s',
					c_job, c_res, CASE WHEN c_kind IS NOT NULL THEN pg_catalog.format(' AND jb.%I::text = ''aggregation''', c_kind) ELSE '' END);
			END IF;
		END IF;
		IF job_src IS NOT NULL THEN
			m_runs := pubdata._eval_map(pg_catalog.format(
				'SELECT r.provider_id, pg_catalog.count(*) FROM %s WHERE j.%I >= $1 AND j.%I < $2 AND j.%I::text <> ''running'' GROUP BY r.provider_id',
				job_src, c_start, c_start, c_status), t0, t1);
			m_runs_ok := pubdata._eval_map(pg_catalog.format(
				'SELECT r.provider_id, pg_catalog.count(*) FROM %s WHERE j.%I >= $1 AND j.%I < $2 AND j.%I::text = ''succeeded'' GROUP BY r.provider_id',
				job_src, c_start, c_start, c_status), t0, t1);
		END IF;
	END IF;

	-- quality (Art 15): mean of each resource's latest score in the period
	c_res := pubdata._eval_col('pubdata.quality_run', ARRAY['resource_id']);
	c_at := pubdata._eval_col('pubdata.quality_run', ARRAY['finished_at', 'measured_at', 'run_at', 'started_at']);
	c_score := pubdata._eval_col('pubdata.quality_run', ARRAY['score']);
	IF c_res IS NOT NULL AND c_at IS NOT NULL AND c_score IS NOT NULL THEN
		m_quality := pubdata._eval_map(pg_catalog.format(
			'SELECT s.provider_id, pg_catalog.round(pg_catalog.avg(s.score)::numeric, 1) FROM (
			   SELECT DISTINCT ON (q.%1$I) r.provider_id, q.%3$I AS score
				 FROM pubdata.quality_run q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.%1$I
				WHERE q.%2$I >= $1 AND q.%2$I < $2 AND q.%3$I IS NOT NULL
				ORDER BY q.%1$I, q.%2$I DESC) s GROUP BY s.provider_id', c_res, c_at, c_score), t0, t1);
	END IF;

	-- shared data used (Art 19, 28): reads recorded by the access audit
	c_at := pubdata._eval_col('pubdata.access_log', ARRAY['at', 'logged_at', 'ts']);
	c_dept := pubdata._eval_col('pubdata.access_log', ARRAY['department', 'department_id', 'department_code']);
	IF c_at IS NOT NULL AND c_dept IS NOT NULL THEN
		m_reads := pubdata._eval_map(pg_catalog.format(
			'SELECT d.id, pg_catalog.count(*) FROM pubdata.access_log a JOIN pubdata.department d
				 ON a.%1$I::text IN (d.code, d.id::text)
			  WHERE a.%2$I >= $1 AND a.%2$I < $2 GROUP BY d.id', c_dept, c_at), t0, t1);
	END IF;

	SELECT pg_catalog.jsonb_object_agg(ew.indicator, ew.weight) INTO w FROM pubdata.evaluation_weight ew;

	RETURN QUERY
	WITH cat AS (
		SELECT d.id, d.code, d.name,
			   pg_catalog.count(r.id) FILTER (WHERE r.created_at < t1 AND (r.retired_at IS NULL OR r.retired_at >= t0))::integer AS catalogued,
			   pg_catalog.count(r.id) FILTER (WHERE r.published_at < t1 AND (r.retired_at IS NULL OR r.retired_at >= t0))::integer AS published,
			   pg_catalog.count(r.id) FILTER (WHERE r.published_at < t1 AND (r.retired_at IS NULL OR r.retired_at >= t0)
												AND r.open_class OPERATOR(pg_catalog.<>) 'not_open')::integer AS opened
		  FROM pubdata.department d
		  LEFT JOIN pubdata.resource r ON r.provider_id OPERATOR(pg_catalog.=) d.id
		 GROUP BY d.id, d.code, d.name
	), ind AS (
		SELECT c.*,
			   CASE WHEN m_req IS NOT NULL THEN coalesce((m_req ->> c.id::text)::integer, 0) END AS req,
			   CASE WHEN m_req_ok IS NOT NULL THEN coalesce((m_req_ok ->> c.id::text)::integer, 0) END AS req_ok,
			   CASE WHEN m_ref IS NOT NULL THEN coalesce((m_ref ->> c.id::text)::integer, 0) END AS ref,
			   CASE WHEN m_ref_reasons IS NOT NULL THEN coalesce(m_ref_reasons -> c.id::text, '[]') END AS ref_reasons,
			   CASE WHEN m_obj IS NOT NULL THEN coalesce((m_obj ->> c.id::text)::integer, 0) END AS obj,
			   CASE WHEN m_obj_ok IS NOT NULL THEN coalesce((m_obj_ok ->> c.id::text)::integer, 0) END AS obj_ok,
			   CASE WHEN m_runs IS NOT NULL THEN coalesce((m_runs ->> c.id::text)::integer, 0) END AS runs,
			   CASE WHEN m_runs_ok IS NOT NULL THEN coalesce((m_runs_ok ->> c.id::text)::integer, 0) END AS runs_ok,
			   (m_quality ->> c.id::text)::numeric AS quality,
			   CASE WHEN m_reads IS NOT NULL THEN coalesce((m_reads ->> c.id::text)::bigint, 0) END AS reads
		  FROM cat c
	), scored AS (
		SELECT i.*,
			   -- each score in 0..100; NULL when not applicable or not available
			   ARRAY[
				 ['catalog', (100.0 * i.published / NULLIF(i.catalogued, 0))::text],
				 ['open', (100.0 * i.opened / NULLIF(i.published, 0))::text],
				 ['response', (100.0 * i.req_ok / NULLIF(i.req, 0))::text],
				 ['objection', (100.0 * i.obj_ok / NULLIF(i.obj, 0))::text],
				 ['timeliness', (100.0 * i.runs_ok / NULLIF(i.runs, 0))::text],
				 ['quality', i.quality::text],
				 ['usage', (100.0 * i.reads / NULLIF(pg_catalog.max(i.reads) OVER (), 0))::text]
			   ] AS scores
		  FROM ind i
	)
	SELECT s.code, s.name, s.catalogued, s.published, s.opened, s.req, s.req_ok, s.ref, s.ref_reasons,
		   s.obj, s.obj_ok, s.runs, s.runs_ok, s.quality, s.reads,
		   (SELECT pg_catalog.round(pg_catalog.sum((w ->> x[1])::numeric * x[2]::numeric)
									/ NULLIF(pg_catalog.sum((w ->> x[1])::numeric), 0), 1)
			  FROM (SELECT ARRAY[s.scores[k][1], s.scores[k][2]] AS x
					  FROM pg_catalog.generate_subscripts(s.scores, 1) k) e
			 WHERE e.x[2] IS NOT NULL AND (w ->> e.x[1]) IS NOT NULL)
	  FROM scored s
	 ORDER BY 16 DESC NULLS LAST, s.code;
END
$$;
COMMENT ON FUNCTION pubdata.evaluation(date, date) IS
	'Evaluation per department for a period (Art 28, 34): catalog, open data, share requests and refusals, objections, aggregation, quality, shared data used, weighted total (pubdata_auditor, pubdata_admin)';

-- _require_evaluation_reader(): the evaluation is for the bureau and the audit office
CREATE FUNCTION pubdata._require_evaluation_reader() RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT pubdata.is_admin() AND NOT pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to read the evaluation'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" is neither pubdata_admin nor pubdata_auditor.', pubdata.caller()),
				  HINT = 'The evaluation is read by the Big Data Bureau and the audit office.';
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._require_evaluation_reader() IS 'Error unless the caller is pubdata_admin or pubdata_auditor (internal)';

-- evaluation_report(period_start, period_end): the evaluation as a JSON document for publication
CREATE FUNCTION pubdata.evaluation_report(period_start date, period_end date) RETURNS jsonb
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	RETURN pg_catalog.jsonb_build_object(
		'title', '公共数据共享工作评价 (Art 28)',
		'period', pg_catalog.jsonb_build_object('start', period_start, 'end', period_end),
		'generated_at', pg_catalog.now(),
		'weights', (SELECT pg_catalog.jsonb_object_agg(w.indicator, w.weight) FROM pubdata.evaluation_weight w),
		'departments', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(e)) FROM pubdata.evaluation(period_start, period_end) e), '[]'));
END
$$;
COMMENT ON FUNCTION pubdata.evaluation_report(date, date) IS
	'The evaluation of a period as a JSON document for publication: period, weights, one object per department (pubdata_auditor, pubdata_admin)';

GRANT SELECT ON pubdata.evaluation_weight TO pubdata_admin, pubdata_auditor;
GRANT UPDATE (weight, description) ON pubdata.evaluation_weight TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.evaluation(date, date), pubdata.evaluation_report(date, date)
	TO pubdata_admin, pubdata_auditor;
-- ---------------------------------------------------------------------------
-- Privileges: nothing in pubdata is open to PUBLIC.  Each module grants what
-- each role needs next to its own objects; this last part takes away the rest.
-- ---------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pubdata FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA pubdata FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pubdata FROM PUBLIC;
REVOKE ALL ON SCHEMA pubdata FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata.caller(), pubdata.is_admin(), pubdata.current_department(),
	pubdata.department_of(name), pubdata.department_id(text), pubdata.resource_id(text)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
