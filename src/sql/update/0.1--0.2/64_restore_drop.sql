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

-- Items take their columns' numbers as they are loaded, a restore's load of
-- the catalog needs these triggers to fire, registration records the table
-- as it was, and DROP EXTENSION gives it back (as in 88_restore_drop.sql)

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

-- ---------------------------------------------------------------------------
-- What registration changed, and how DROP EXTENSION gives it back
-- ---------------------------------------------------------------------------

CREATE TABLE pubdata.resource_origin (
	resource_id	bigint PRIMARY KEY REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	exact		boolean NOT NULL,
	row_security boolean NOT NULL,
	force_row_security boolean NOT NULL,
	table_acl	jsonb NOT NULL DEFAULT '[]',
	column_acl	jsonb NOT NULL DEFAULT '{}',
	policies	jsonb NOT NULL DEFAULT '[]',
	recorded_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.resource_origin IS
	'Each registered table as it was before registration changed it: what DROP EXTENSION pubdata gives back';
COMMENT ON COLUMN pubdata.resource_origin.exact IS
	'recorded at registration; false: guessed later (a table registered under version 0.1) from what pubdata did not make';
COMMENT ON COLUMN pubdata.resource_origin.row_security IS 'row-level security was on (ALTER TABLE ... ENABLE ROW LEVEL SECURITY)';
COMMENT ON COLUMN pubdata.resource_origin.force_row_security IS 'row-level security applied to the owner too (FORCE ROW LEVEL SECURITY)';
COMMENT ON COLUMN pubdata.resource_origin.table_acl IS 'the table''s privileges: [{grantee (null: PUBLIC), privilege, grantable}]';
COMMENT ON COLUMN pubdata.resource_origin.column_acl IS 'column privileges: {column: [{grantee, privilege, grantable}]}';
COMMENT ON COLUMN pubdata.resource_origin.policies IS
	'the table''s policies (registration drops those that would give rows to PUBLIC or other departments): [{name, permissive, command, roles, using, check}]';
SELECT pg_catalog.pg_extension_config_dump('pubdata.resource_origin', '');
GRANT SELECT ON pubdata.resource_origin TO pubdata_admin, pubdata_auditor;

-- _managed_roles(): the roles whose privileges on a registered table are
-- pubdata's to decide: its own, the departments' and their members
CREATE FUNCTION pubdata._managed_roles() RETURNS oid[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(pg_catalog.array_agg(x.oid ORDER BY x.oid), '{}') FROM pg_catalog.pg_roles x
	 WHERE x.rolname IN ('pubdata_admin', 'pubdata_department', 'pubdata_auditor', 'pubdata_open_reader',
						 'pubdata_open_conditional')
		OR x.rolname IN (SELECT d.role_name FROM pubdata.department d)
		OR (NOT x.rolsuper AND pg_catalog.pg_has_role(x.oid, 'pubdata_department', 'MEMBER'))
$$;
COMMENT ON FUNCTION pubdata._managed_roles() IS
	'Internal: pubdata''s roles, the departments'' roles and the members of pubdata_department';

-- _acl_json(acl, skip): privileges as JSON by role name (a dump restored into
-- another cluster has other role oids), leaving out the roles in skip
CREATE FUNCTION pubdata._acl_json(acl aclitem[], skip oid[]) RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'grantee', CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
				'privilege', a.privilege_type, 'grantable', a.is_grantable)
			ORDER BY a.grantee, a.privilege_type), '[]')
	  FROM pg_catalog.aclexplode($1) a
	 WHERE a.grantee OPERATOR(pg_catalog.<>) ALL ($2)
$$;
COMMENT ON FUNCTION pubdata._acl_json(aclitem[], oid[]) IS 'Internal: privileges as [{grantee, privilege, grantable}], grantees by name';

-- _pubdata_policy(name): one of the policies pubdata makes on a registered table
CREATE FUNCTION pubdata._pubdata_policy(policy name) RETURNS boolean
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT $1 IN ('pubdata_provider', 'pubdata_shared') OR $1::text LIKE 'pubdata\_grant\_%'
$$;
COMMENT ON FUNCTION pubdata._pubdata_policy(name) IS 'Internal: the policy is one pubdata makes (pubdata_provider, pubdata_shared, pubdata_grant_<id>)';

-- _origin_state(relation, exact): a table as it is (exact), or as it was
-- before registration as far as can be told from what pubdata did not make
-- (row-level security on only for the table's own policies; privileges of
-- roles pubdata does not manage).  Schema usage needs no record here:
-- pubdata.schema_usage holds what pubdata gave.
CREATE FUNCTION pubdata._origin_state(relation oid, exact boolean) RETURNS pubdata.resource_origin
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o pubdata.resource_origin;
	skip oid[] := CASE WHEN exact THEN '{}'::oid[] ELSE pubdata._managed_roles() END;
BEGIN
	SELECT NULL, exact,
		   CASE WHEN exact THEN c.relrowsecurity
				ELSE EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
							  WHERE p.polrelid OPERATOR(pg_catalog.=) c.oid AND NOT pubdata._pubdata_policy(p.polname)) END,
		   c.relforcerowsecurity,
		   pubdata._acl_json(c.relacl, skip),
		   coalesce((SELECT pg_catalog.jsonb_object_agg(a.attname, pubdata._acl_json(a.attacl, skip))
					   FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0
						AND NOT a.attisdropped AND a.attacl IS NOT NULL), '{}'),
		   coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
							'name', p.polname, 'permissive', p.polpermissive, 'command', p.polcmd::text,
							'roles', (SELECT pg_catalog.jsonb_agg(CASE WHEN x.r OPERATOR(pg_catalog.=) 0 THEN NULL
																  ELSE pg_catalog.pg_get_userbyid(x.r) END)
									   FROM pg_catalog.unnest(p.polroles) x(r)),
							'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),
							'check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)) ORDER BY p.polname)
					   FROM pg_catalog.pg_policy p
					  WHERE p.polrelid OPERATOR(pg_catalog.=) c.oid AND NOT pubdata._pubdata_policy(p.polname)), '[]'),
		   pg_catalog.now()
	  INTO o
	  FROM pg_catalog.pg_class c
	 WHERE c.oid OPERATOR(pg_catalog.=) $1;
	RETURN o;
END
$$;
COMMENT ON FUNCTION pubdata._origin_state(oid, boolean) IS
	'Internal: a table''s row-level security, privileges and policies, as they are (exact) or as they were before registration';

-- _record_origin(resource): registration records its table before changing it
CREATE FUNCTION pubdata._record_origin(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o pubdata.resource_origin;
BEGIN
	o := pubdata._origin_state((SELECT r.relation::oid FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1), true);
	IF o.row_security IS NOT NULL THEN
		o.resource_id := $1;
		INSERT INTO pubdata.resource_origin VALUES (o.*) ON CONFLICT DO NOTHING;
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._record_origin(bigint) IS 'Internal: record a table as it is, before registration changes it';

-- _grant_back(target, column, entries, managed, owner_id, to_public): give
-- back the privileges of entries on target (a table, or SCHEMA name) to the
-- roles in managed (and to PUBLIC when to_public), never to the owner.
-- Privilege words are checked against the list PostgreSQL prints, names are
-- quoted.
CREATE FUNCTION pubdata._grant_back(target text, col name, entries jsonb, managed oid[], owner_id oid, to_public boolean)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	e record;
	who text;
	gid oid;
BEGIN
	FOR e IN SELECT * FROM pg_catalog.jsonb_to_recordset(coalesce(entries, '[]')) AS x(grantee name, privilege text, grantable boolean)
	LOOP
		CONTINUE WHEN e.privilege NOT IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER',
										  'USAGE', 'CREATE');
		IF e.grantee IS NULL THEN
			CONTINUE WHEN NOT to_public;
			who := 'PUBLIC';
		ELSE
			gid := (SELECT x.oid FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) e.grantee);
			CONTINUE WHEN gid IS NULL OR gid OPERATOR(pg_catalog.=) owner_id OR gid OPERATOR(pg_catalog.<>) ALL (managed);
			who := pg_catalog.quote_ident(e.grantee);
		END IF;
		EXECUTE pg_catalog.format('GRANT %s%s ON %s TO %s%s', e.privilege,
								  CASE WHEN col IS NULL THEN '' ELSE pg_catalog.format(' (%I)', col) END, target, who,
								  CASE WHEN e.grantable AND e.grantee IS NOT NULL THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._grant_back(text, name, jsonb, oid[], oid, boolean) IS
	'Internal: give back recorded privileges to the roles pubdata manages (and PUBLIC), never the owner''s';

-- _uninstall(cascade): before DROP EXTENSION pubdata, every registered table
-- gets back what registration changed: pubdata's policies and quality
-- trigger go, the policies registration dropped come back, row-level
-- security is as it was, the privileges of the roles pubdata manages on the
-- table are as they were before registration, and the schema usage pubdata
-- gave (pubdata.schema_usage) is taken back.
-- pubdata's open-data views go too (with the DROP's RESTRICT or CASCADE).
-- Roles are cluster-wide and other databases may use pubdata: they stay,
-- and so do their memberships.  pubdata's own triggers stand aside
-- (session_replication_role = replica) while it undoes its work.
CREATE FUNCTION pubdata._uninstall(cascade boolean) RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET session_replication_role = replica
	AS $$
DECLARE
	managed oid[] := pubdata._managed_roles();
	r record;
	o pubdata.resource_origin;
	p record;
	g oid;
	s record;
	col record;
	who text;
BEGIN
	FOR r IN SELECT c.oid::pg_catalog.regclass AS view
			   FROM pubdata.open_dataset d
			   JOIN pg_catalog.pg_class c ON c.relname OPERATOR(pg_catalog.=) d.view_name
				AND c.relnamespace OPERATOR(pg_catalog.=) 'pubdata_open'::pg_catalog.regnamespace
			  WHERE c.relkind OPERATOR(pg_catalog.=) 'v'
			  ORDER BY d.resource_id
	LOOP
		EXECUTE pg_catalog.format('DROP VIEW IF EXISTS %s %s', r.view, CASE WHEN $1 THEN 'CASCADE' ELSE 'RESTRICT' END);
	END LOOP;

	FOR r IN SELECT x.id, x.relation, c.oid AS relid, c.relkind, c.relowner, c.relrowsecurity, c.relforcerowsecurity
			   FROM pubdata.resource x JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.relation::oid
			  ORDER BY x.id
	LOOP
		SELECT * INTO o FROM pubdata.resource_origin y WHERE y.resource_id OPERATOR(pg_catalog.=) r.id;
		IF NOT FOUND THEN
			o := pubdata._origin_state(r.relid, false);
		END IF;

		FOR p IN SELECT y.polname FROM pg_catalog.pg_policy y
				  WHERE y.polrelid OPERATOR(pg_catalog.=) r.relid AND pubdata._pubdata_policy(y.polname)
		LOOP
			EXECUTE pg_catalog.format('DROP POLICY %I ON %s', p.polname, r.relation);
		END LOOP;
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
					WHERE t.tgrelid OPERATOR(pg_catalog.=) r.relid AND t.tgname OPERATOR(pg_catalog.=) 'pubdata_quality_check'
					  AND t.tgfoid OPERATOR(pg_catalog.=) 'pubdata.quality_check_trigger()'::pg_catalog.regprocedure) THEN
			EXECUTE pg_catalog.format('DROP TRIGGER pubdata_quality_check ON %s', r.relation);
		END IF;
		-- the policies registration dropped (they would have given rows away)
		FOR p IN SELECT * FROM pg_catalog.jsonb_to_recordset(o.policies)
					 AS y(name name, permissive boolean, command text, roles jsonb, "using" text, "check" text)
		LOOP
			CONTINUE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_policy y
								   WHERE y.polrelid OPERATOR(pg_catalog.=) r.relid AND y.polname OPERATOR(pg_catalog.=) p.name);
			SELECT pg_catalog.string_agg(CASE WHEN x.name IS NULL THEN 'PUBLIC' ELSE pg_catalog.quote_ident(x.name) END, ', ')
			  INTO who
			  FROM pg_catalog.jsonb_array_elements_text(p.roles) x(name)
			 WHERE x.name IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles y WHERE y.rolname OPERATOR(pg_catalog.=) x.name);
			BEGIN
				IF who IS NULL THEN
					RAISE EXCEPTION 'none of its roles exists any more';
				END IF;
				EXECUTE pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', p.name, r.relation,
					CASE WHEN p.permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
					CASE p.command WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
								   WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
					who,
					CASE WHEN p."using" IS NULL THEN '' ELSE ' USING (' OPERATOR(pg_catalog.||) p."using" OPERATOR(pg_catalog.||) ')' END,
					CASE WHEN p."check" IS NULL THEN '' ELSE ' WITH CHECK (' OPERATOR(pg_catalog.||) p."check" OPERATOR(pg_catalog.||) ')' END);
			EXCEPTION WHEN OTHERS THEN
				RAISE WARNING 'pubdata: policy "%" of % made before registration cannot be restored: %', p.name, r.relation, SQLERRM
					USING HINT = 'Create it again by hand if it is still wanted.';
			END;
		END LOOP;
		IF r.relkind IN ('r', 'p') THEN
			IF r.relrowsecurity AND NOT o.row_security THEN
				EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', r.relation);
			ELSIF NOT r.relrowsecurity AND o.row_security THEN
				EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.relation);
			END IF;
			IF r.relforcerowsecurity AND NOT o.force_row_security THEN
				EXECUTE pg_catalog.format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', r.relation);
			ELSIF NOT r.relforcerowsecurity AND o.force_row_security THEN
				EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', r.relation);
			END IF;
		END IF;

		-- privileges: what pubdata's roles hold now goes, what they and
		-- PUBLIC held before registration comes back
		FOR g IN SELECT DISTINCT a.grantee
				   FROM (SELECT (pg_catalog.aclexplode(c.relacl)).grantee FROM pg_catalog.pg_class c
						  WHERE c.oid OPERATOR(pg_catalog.=) r.relid
						 UNION ALL
						 SELECT (pg_catalog.aclexplode(t.attacl)).grantee FROM pg_catalog.pg_attribute t
						  WHERE t.attrelid OPERATOR(pg_catalog.=) r.relid) a
				  WHERE a.grantee OPERATOR(pg_catalog.=) ANY (managed) AND a.grantee OPERATOR(pg_catalog.<>) r.relowner
		LOOP
			EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %I', r.relation, pg_catalog.pg_get_userbyid(g));
		END LOOP;
		PERFORM pubdata._grant_back(r.relation::text, NULL, o.table_acl, managed, r.relowner, true);
		FOR col IN SELECT j.key, j.value FROM pg_catalog.jsonb_each(o.column_acl) j
					WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
								   WHERE a.attrelid OPERATOR(pg_catalog.=) r.relid AND a.attname OPERATOR(pg_catalog.=) j.key
									 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
		LOOP
			PERFORM pubdata._grant_back(r.relation::text, col.key, col.value, managed, r.relowner, true);
		END LOOP;
	END LOOP;

	-- schema usage: what pubdata gave so that grants could be read
	FOR s IN SELECT u.schema_name, u.role_name FROM pubdata.schema_usage u
			  WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) u.schema_name)
				AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) u.role_name)
			  ORDER BY 1, 2
	LOOP
		EXECUTE pg_catalog.format('REVOKE USAGE ON SCHEMA %I FROM %I', s.schema_name, s.role_name);
	END LOOP;
	RETURN true;
END
$$;
COMMENT ON FUNCTION pubdata._uninstall(boolean) IS
	'Internal: before DROP EXTENSION pubdata, give every registered table back its row-level security, policies and privileges as they were before registration';

-- _drops_pubdata(kind, names, cascade): the DROP statement about to run
-- takes pubdata with it: DROP EXTENSION pubdata, or (CASCADE) an extension
-- pubdata requires; DROP SCHEMA ... CASCADE of pubdata's schema or of one
-- holding an extension it requires; DROP OWNED BY its owner
CREATE FUNCTION pubdata._drops_pubdata(kind text, names text[], cascade boolean) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE $1
		WHEN 'extension' THEN 'pubdata' OPERATOR(pg_catalog.=) ANY ($2)
			OR ($3 AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
								 JOIN pg_catalog.pg_extension x ON x.oid OPERATOR(pg_catalog.=) d.refobjid
								WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
								  AND d.objid OPERATOR(pg_catalog.=) e.oid
								  AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
								  AND x.extname::text OPERATOR(pg_catalog.=) ANY ($2)))
		WHEN 'schema' THEN $3 AND EXISTS (
			SELECT 1 FROM pg_catalog.pg_namespace n
			 WHERE n.nspname::text OPERATOR(pg_catalog.=) ANY ($2)
			   AND (n.oid OPERATOR(pg_catalog.=) e.extnamespace
					OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
								 JOIN pg_catalog.pg_extension x ON x.oid OPERATOR(pg_catalog.=) d.refobjid
								WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
								  AND d.objid OPERATOR(pg_catalog.=) e.oid
								  AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
								  AND x.extnamespace OPERATOR(pg_catalog.=) n.oid)))
		WHEN 'owned' THEN pg_catalog.pg_get_userbyid(e.extowner)::text OPERATOR(pg_catalog.=) ANY ($2)
		ELSE false END
	  FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pubdata'
$$;
COMMENT ON FUNCTION pubdata._drops_pubdata(text, text[], boolean) IS
	'Internal: the DROP EXTENSION, DROP SCHEMA or DROP OWNED about to run takes pubdata with it';

CREATE FUNCTION pubdata._drop_start() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'pubdata_drop_start'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._drop_start() IS
	'Internal event trigger: before a DROP that takes pubdata with it, undo registration on every registered table (pubdata._uninstall)';
CREATE EVENT TRIGGER pubdata_uninstall ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
	EXECUTE FUNCTION pubdata._drop_start();
-- also when session_replication_role is replica
ALTER EVENT TRIGGER pubdata_uninstall ENABLE ALWAYS;

-- A table registered under 0.1 was not recorded before registration: what
-- can be told from what pubdata did not make is recorded now (exact: false),
-- before the last part gives schema usage to the grants.
DO $origin$
DECLARE
	o pubdata.resource_origin;
	r record;
BEGIN
	FOR r IN SELECT x.id, x.relation FROM pubdata.resource x WHERE x.relation IS NOT NULL ORDER BY x.id LOOP
		o := pubdata._origin_state(r.relation::oid, false);
		o.resource_id := r.id;
		INSERT INTO pubdata.resource_origin VALUES (o.*);
	END LOOP;
END
$origin$;

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

-- Registration records the table first, refuses a table without columns, and
-- records a view's lineage
-- _on_register / _on_retire: called by the catalog functions.  Registration
-- first records the table as it is (what DROP EXTENSION gives back, see
-- 88_restore_drop.sql), then enforces sharing on it, then records the
-- sources of a view (lineage).
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
	PERFORM pubdata._record_origin($1);
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
	pubdata._lineage_registered(bigint), pubdata._managed_roles(), pubdata._acl_json(aclitem[], oid[]),
	pubdata._pubdata_policy(name), pubdata._origin_state(oid, boolean), pubdata._record_origin(bigint),
	pubdata._grant_back(text, name, jsonb, oid[], oid, boolean), pubdata._uninstall(boolean),
	pubdata._drops_pubdata(text, text[], boolean), pubdata._drop_start()
	FROM PUBLIC;
