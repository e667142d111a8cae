-- ---------------------------------------------------------------------------
-- Dump, restore and uninstall
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
--
-- DROP EXTENSION pubdata undoes what registration did to each registered
-- table (pubdata._uninstall, run by the event trigger pubdata_uninstall):
-- registration records the table's row-level security, policies and
-- privileges as they were (pubdata.resource_origin) before it changes them.
-- ---------------------------------------------------------------------------

-- _item_attnum: an item's column number is its column's.  A dump restored
-- into new tables brings the numbers of the old ones, and the executor's
-- grants and masks find items by number (src/grants.c).
CREATE OR REPLACE FUNCTION pubdata._item_attnum() RETURNS trigger
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
CREATE OR REPLACE TRIGGER resource_item_attnum BEFORE INSERT ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._item_attnum();

-- _resource_attnums: the same when a parallel restore loads the items first
CREATE OR REPLACE FUNCTION pubdata._resource_attnums() RETURNS trigger
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
CREATE OR REPLACE TRIGGER resource_attnums AFTER INSERT ON pubdata.resource
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
GRANT SELECT ON pubdata.resource_origin TO pubdata_admin, pubdata_auditor;

-- _managed_roles(): the roles whose privileges on a registered table are
-- pubdata's to decide: its own, the departments' and their members
CREATE OR REPLACE FUNCTION pubdata._managed_roles() RETURNS oid[]
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
CREATE OR REPLACE FUNCTION pubdata._acl_json(acl aclitem[], skip oid[]) RETURNS jsonb
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
CREATE OR REPLACE FUNCTION pubdata._pubdata_policy(policy name) RETURNS boolean
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
CREATE OR REPLACE FUNCTION pubdata._origin_state(relation oid, exact boolean) RETURNS pubdata.resource_origin
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
CREATE OR REPLACE FUNCTION pubdata._record_origin(resource_id bigint) RETURNS void
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
CREATE OR REPLACE FUNCTION pubdata._grant_back(target text, col name, entries jsonb, managed oid[], owner_id oid, to_public boolean)
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
CREATE OR REPLACE FUNCTION pubdata._uninstall(cascade boolean) RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET session_replication_role = replica
	AS $$
DECLARE
	managed oid[] := pubdata._managed_roles();
	r record;
	o pubdata.resource_origin;
	p record;
	q record;
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

	-- the publication of the federated catalog (its tables go with the extension)
	FOR r IN SELECT f.publication FROM pubdata.federation f
			  WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_publication x WHERE x.pubname OPERATOR(pg_catalog.=) f.publication)
	LOOP
		EXECUTE pg_catalog.format('DROP PUBLICATION %I', r.publication);
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
		-- its partitions (pubdata._govern_partitions): pubdata's policy goes,
		-- row-level security is as the table's was; the privileges pubdata
		-- took from other departments on a partition do not come back
		IF r.relkind OPERATOR(pg_catalog.=) 'p' THEN
			FOR q IN SELECT t.relid::pg_catalog.regclass AS part, c.relrowsecurity
					   FROM pg_catalog.pg_partition_tree(r.relation) t
					   JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
					  WHERE t.relid::pg_catalog.oid OPERATOR(pg_catalog.<>) r.relid AND c.relkind IN ('r', 'p')
			LOOP
				FOR p IN SELECT y.polname FROM pg_catalog.pg_policy y
						  WHERE y.polrelid OPERATOR(pg_catalog.=) q.part::pg_catalog.oid AND pubdata._pubdata_policy(y.polname)
				LOOP
					EXECUTE pg_catalog.format('DROP POLICY %I ON %s', p.polname, q.part);
				END LOOP;
				IF q.relrowsecurity AND NOT o.row_security THEN
					EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', q.part);
				END IF;
			END LOOP;
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
		-- the column comments lose the line pubdata generated (the masks in
		-- force), the provider's own text stays
		FOR col IN SELECT a.attname AS key, pubdata._mask_comment_own(d.description) AS value
					 FROM pg_catalog.pg_description d
					 JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) d.objoid
					  AND a.attnum OPERATOR(pg_catalog.=) d.objsubid
					WHERE d.objoid OPERATOR(pg_catalog.=) r.relid
					  AND d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
					  AND d.objsubid OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
					  AND pubdata._mask_comment_own(d.description) IS DISTINCT FROM d.description
		LOOP
			EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', r.relation, col.key, col.value);
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
CREATE OR REPLACE FUNCTION pubdata._drops_pubdata(kind text, names text[], cascade boolean) RETURNS boolean
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

CREATE OR REPLACE FUNCTION pubdata._drop_start() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'pubdata_drop_start'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._drop_start() IS
	'Internal event trigger: before a DROP that takes pubdata with it, undo registration on every registered table (pubdata._uninstall)';
DROP EVENT TRIGGER IF EXISTS pubdata_uninstall;
CREATE EVENT TRIGGER pubdata_uninstall ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
	EXECUTE FUNCTION pubdata._drop_start();
-- also when session_replication_role is replica
ALTER EVENT TRIGGER pubdata_uninstall ENABLE ALWAYS;
