-- ---------------------------------------------------------------------------
-- Sharing (2): from the catalog and the grants to PostgreSQL's policies and
-- privileges on a registered table (_refresh_sharing), at registration and
-- at every change of status, class or items
-- ---------------------------------------------------------------------------

-- _plain_type(relation, column): the column's type with its domains stripped,
-- for converting a value given as text inside a SECURITY DEFINER function.
-- A domain's CHECK, or the input function of an element of an array,
-- composite or range type, may be a department's function, which would run
-- there with the extension owner's privileges; base types (made only by
-- superusers) and enums convert with built-in code.
CREATE OR REPLACE FUNCTION pubdata._plain_type(relation regclass, column_name text) RETURNS regtype
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
CREATE OR REPLACE FUNCTION pubdata._scope_predicate(resource_id bigint, scope jsonb) RETURNS text
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
CREATE OR REPLACE FUNCTION pubdata._grant_columns(resource_id bigint, items name[]) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(i.column_name), ', ' ORDER BY i.attnum)
	  FROM pubdata.resource_item i JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) i.resource_id
	 WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.state OPERATOR(pg_catalog.=) 'current' AND i.attnum IS NOT NULL
	   AND coalesce(i.share_class, r.share_class) OPERATOR(pg_catalog.<>) 'non_shared'
	   AND ($2 IS NULL OR i.column_name OPERATOR(pg_catalog.=) ANY ($2))
$$;

-- _sync_schema_usage(schema): an approved grant is enough to read, so the
-- grantee gets the USAGE of the table's schema with it, and pubdata takes back
-- the USAGE it gave (pubdata.schema_usage) when no grant on a table of that
-- schema needs it any more: at a revocation, a retirement, or the grant sweep
-- after an expiry (an expired grant reads nothing from its expiry on; USAGE
-- alone shows names, not rows).  A role that already has USAGE (from PUBLIC,
-- from the owner) is given nothing and loses nothing.  Only a schema of the
-- provider is opened (owned by the provider's role or one of its members,
-- not by a superuser): USAGE of another owner's schema would open that
-- owner's other objects, so its owner grants it (decide_share warns).  The
-- extension owner is a superuser, so the GRANT is recorded as the schema
-- owner's, as PostgreSQL does for a superuser's GRANT.
CREATE OR REPLACE FUNCTION pubdata._sync_schema_usage(nsp oid) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	sname name;
	needed name[];
	rol name;
BEGIN
	SELECT n.nspname INTO sname FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'on', true);
	-- who needs it: every department with a live grant on a published table
	-- of the schema, and all departments for an unconditional resource's
	-- open items; only where the schema is the provider's
	SELECT coalesce(pg_catalog.array_agg(DISTINCT x.role_name), '{}') INTO needed
	  FROM (SELECT 'pubdata_department'::name AS role_name, r.id AS resource_id
			  FROM pubdata.resource r
			 WHERE r.share_class OPERATOR(pg_catalog.=) 'unconditional'
			   AND EXISTS (SELECT 1 FROM pubdata.resource_item i
							WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.=) 'current'
							  AND i.attnum IS NOT NULL AND i.personal OPERATOR(pg_catalog.=) 'none'
							  AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional')
			UNION ALL
			SELECT d.role_name, s.resource_id
			  FROM pubdata.share_request s
			  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) s.requester_id
			 WHERE s.status OPERATOR(pg_catalog.=) 'approved'
			   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
			   AND pubdata._grant_columns(s.resource_id, s.items) IS NOT NULL) x
	  JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) x.resource_id
	  JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) r.provider_id
	  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.relation::oid
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	  JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) n.nspowner
	 WHERE n.oid OPERATOR(pg_catalog.=) $1
	   AND r.status OPERATOR(pg_catalog.=) 'published' AND r.share_class OPERATOR(pg_catalog.<>) 'non_shared'
	   AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) x.role_name)
	   AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) p.role_name)
	   AND NOT o.rolsuper AND pg_catalog.pg_has_role(o.oid, p.role_name, 'MEMBER');
	-- what pubdata gave and no grant needs any more (first, so that a role
	-- that had it through pubdata_department is given its own below)
	FOR rol IN SELECT u.role_name FROM pubdata.schema_usage u
				WHERE u.schema_name OPERATOR(pg_catalog.=) sname AND NOT u.role_name OPERATOR(pg_catalog.=) ANY (needed)
	LOOP
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) rol) THEN
			EXECUTE pg_catalog.format('REVOKE USAGE ON SCHEMA %I FROM %I', sname, rol);
		END IF;
		DELETE FROM pubdata.schema_usage u
		 WHERE u.schema_name OPERATOR(pg_catalog.=) sname AND u.role_name OPERATOR(pg_catalog.=) rol;
	END LOOP;
	-- what a grant needs and the role does not have yet
	FOREACH rol IN ARRAY needed LOOP
		IF NOT pg_catalog.has_schema_privilege(rol, $1, 'USAGE') THEN
			EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO %I', sname, rol);
			INSERT INTO pubdata.schema_usage (schema_name, role_name) VALUES (sname, rol)
			ON CONFLICT DO NOTHING;
		END IF;
	END LOOP;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'off', true);
END
$$;
COMMENT ON FUNCTION pubdata._sync_schema_usage(oid) IS 'Give the schema USAGE that live grants need and take back what pubdata gave when none needs it (internal)';

-- _gives_rows_away(roles, provider): a permissive policy TO these roles
-- would give a table's rows to PUBLIC or to a department other than its
-- provider (such a policy, made before registration, goes at registration)
CREATE OR REPLACE FUNCTION pubdata._gives_rows_away(roles oid[], provider name) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.unnest($1) pr(role)
					WHERE pr.role OPERATOR(pg_catalog.=) 0
					   OR (pg_catalog.pg_has_role(pr.role, 'pubdata_department', 'MEMBER')
						   AND NOT pg_catalog.pg_has_role(pr.role, $2, 'MEMBER')))
$$;
COMMENT ON FUNCTION pubdata._gives_rows_away(oid[], name) IS 'Internal: whether a permissive policy to these roles gives rows to PUBLIC or to a department other than the provider';

-- _other_roles(relation, provider): the roles that must hold no privilege on a
-- registered table (or a partition of one) but what pubdata decides: every
-- department but the provider, pubdata_department, and any member of a
-- department (not of the provider) that holds a privilege on it now
CREATE OR REPLACE FUNCTION pubdata._other_roles(relation regclass, provider name) RETURNS SETOF name
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT d.role_name FROM pubdata.department d
	 WHERE d.role_name OPERATOR(pg_catalog.<>) $2
	   AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) d.role_name)
	UNION SELECT 'pubdata_department'::name
	UNION SELECT x.rolname FROM pg_catalog.pg_roles x
	 WHERE pg_catalog.pg_has_role(x.oid, 'pubdata_department', 'MEMBER')
	   AND NOT pg_catalog.pg_has_role(x.oid, $2, 'MEMBER')
	   AND x.oid OPERATOR(pg_catalog.=) ANY (
			SELECT a.grantee FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
			 WHERE c.oid OPERATOR(pg_catalog.=) $1::oid
			UNION SELECT a.grantee FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) a
			 WHERE t.attrelid OPERATOR(pg_catalog.=) $1::oid)
$$;
COMMENT ON FUNCTION pubdata._other_roles(regclass, name) IS 'Internal: the roles that hold no privilege on a registered table or its partitions but what pubdata decides';

-- _refresh_sharing: rebuild a resource's policies and privileges from the catalog and its grants
CREATE OR REPLACE FUNCTION pubdata._refresh_sharing(resource_id bigint) RETURNS void
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
		-- a policy of that name that is not pubdata's own (the table's owner
		-- made it before registration, say TO PUBLIC USING (true)) goes: kept,
		-- it would be OR'ed with every grant's policy and void the row scopes
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
					WHERE p.polrelid OPERATOR(pg_catalog.=) r.relation::oid
					  AND p.polname OPERATOR(pg_catalog.=) 'pubdata_provider'
					  AND NOT (p.polcmd OPERATOR(pg_catalog.=) '*' AND p.polpermissive
							   AND p.polroles OPERATOR(pg_catalog.=)
								   ARRAY[(SELECT o.oid FROM pg_catalog.pg_roles o
										   WHERE o.rolname OPERATOR(pg_catalog.=) r.provider_role)]::pg_catalog.oid[]
							   AND pg_catalog.pg_get_expr(p.polqual, p.polrelid) OPERATOR(pg_catalog.=) 'true'
							   AND pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) OPERATOR(pg_catalog.=) 'true')) THEN
			EXECUTE pg_catalog.format('DROP POLICY pubdata_provider ON %s', r.relation);
		END IF;
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
							   AND pubdata._gives_rows_away(p.polroles, r.provider_role)))
		LOOP
			EXECUTE pg_catalog.format('DROP POLICY %I ON %s', pol, r.relation);
		END LOOP;
	END IF;
	-- no department but the provider keeps any privilege pubdata did not just
	-- decide: nor PUBLIC, nor a login of another department (a grant made
	-- before registration, or by ALTER DEFAULT PRIVILEGES)
	EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', r.relation);
	FOR rol IN SELECT pubdata._other_roles(r.relation, r.provider_role)
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %I', r.relation, rol);
	END LOOP;

	IF r.status OPERATOR(pg_catalog.=) 'published' AND r.share_class OPERATOR(pg_catalog.<>) 'non_shared' THEN
		IF r.share_class OPERATOR(pg_catalog.=) 'unconditional' THEN
			SELECT pg_catalog.string_agg(pg_catalog.quote_ident(i.column_name), ', ' ORDER BY i.attnum) INTO cols
			  FROM pubdata.resource_item i
			 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.=) 'current'
			   AND i.attnum IS NOT NULL AND i.personal OPERATOR(pg_catalog.=) 'none'
			   AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional';
			IF cols IS NOT NULL THEN
				EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO pubdata_department', cols, r.relation);
				IF has_rls THEN
					EXECUTE pg_catalog.format('CREATE POLICY pubdata_shared ON %s FOR SELECT TO pubdata_department USING ((SELECT pubdata._shared_ok(%s)))',
											  r.relation, r.id);
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
			-- a table's items go to the departments' group, not to the grantee:
			-- the access guard gives each department exactly the items of its
			-- own grants (a grant is items x rows) and the policy below its rows
			-- (which let nothing through without the guard), so the column ACL a
			-- lookup checks stays one entry long however many departments hold
			-- grants (200 entries are compressed and were decompressed at every
			-- statement); items no grant gives stay closed.  A view has no
			-- policies: its items go to the grantee itself
			EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO %I', cols, r.relation,
									  CASE WHEN has_rls THEN 'pubdata_department'::name ELSE g.role_name END);
			IF has_rls THEN
				EXECUTE pg_catalog.format('CREATE POLICY %I ON %s FOR SELECT TO %I USING ((SELECT pubdata._grant_ok(%s)) AND (%s))',
										  'pubdata_grant_' || g.id, r.relation, g.role_name, g.id,
										  pubdata._scope_predicate(r.id, g.row_scope));
			END IF;
		END LOOP;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'off', true);
	IF r.relkind OPERATOR(pg_catalog.=) 'p' THEN
		PERFORM pubdata._govern_partitions(r.id);
	END IF;
	-- an approved grant is enough to read: the schema's usage comes with it
	PERFORM pubdata._sync_schema_usage((SELECT c.relnamespace FROM pg_catalog.pg_class c
										 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid));
	-- the column comments name the masks the live grants give the items under
	PERFORM pubdata._mask_comments(r.id);
END
$$;
COMMENT ON FUNCTION pubdata._refresh_sharing(bigint) IS 'Rebuild the policies and column privileges of one resource from its class, status and live grants';

-- _govern_partitions(resource): a partition of a registered table is part of
-- its resource.  Read through the table, it is covered by the table's
-- row-level security, grants and audit; named directly, it has none of them
-- (PostgreSQL applies a table's policies and privileges to the table named
-- in the query only).  So each partition, at registration and from the
-- moment it is created or attached (pubdata._on_ddl_end), is the provider's
-- alone: no privilege for PUBLIC or another department, row-level security
-- on with the provider's policy only (a privilege given later, by anyone,
-- reads nothing), and the access guard refuses everyone else who names it
-- (src/guard.c).  Returns the number of partitions.
CREATE OR REPLACE FUNCTION pubdata._govern_partitions(resource_id bigint) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	p record;
	pol name;
	rol name;
	n integer := 0;
	was text := pg_catalog.current_setting('pubdata.internal_ddl', true);
BEGIN
	SELECT x.relation, d.role_name AS provider_role INTO r
	  FROM pubdata.resource x JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
	  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.relation::oid
	 WHERE x.id OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) 'p';
	IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles o WHERE o.rolname OPERATOR(pg_catalog.=) r.provider_role) THEN
		RETURN 0;
	END IF;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', 'on', true);
	FOR p IN SELECT t.relid AS part, c.relkind, c.relrowsecurity
			   FROM pg_catalog.pg_partition_tree(r.relation) t
			   JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
			  WHERE t.relid OPERATOR(pg_catalog.<>) r.relation AND c.relkind IN ('r', 'p', 'f')
			  ORDER BY t.level, t.relid::oid
	LOOP
		IF p.relkind IN ('r', 'p') THEN
			IF NOT p.relrowsecurity THEN
				EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p.part);
			END IF;
			-- a permissive policy that would give rows to PUBLIC or another department goes
			FOR pol IN SELECT y.polname FROM pg_catalog.pg_policy y
						WHERE y.polrelid OPERATOR(pg_catalog.=) p.part::oid AND y.polpermissive
						  AND y.polname OPERATOR(pg_catalog.<>) 'pubdata_provider'
						  AND pubdata._gives_rows_away(y.polroles, r.provider_role)
			LOOP
				EXECUTE pg_catalog.format('DROP POLICY %I ON %s', pol, p.part);
			END LOOP;
			IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy y WHERE y.polrelid OPERATOR(pg_catalog.=) p.part::oid
							AND y.polname OPERATOR(pg_catalog.=) 'pubdata_provider') THEN
				EXECUTE pg_catalog.format('CREATE POLICY pubdata_provider ON %s FOR ALL TO %I USING (true) WITH CHECK (true)',
										  p.part, r.provider_role);
			END IF;
		END IF;
		EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', p.part);
		FOR rol IN SELECT pubdata._other_roles(p.part, r.provider_role) LOOP
			EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %I', p.part, rol);
		END LOOP;
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	PERFORM pg_catalog.set_config('pubdata.internal_ddl', coalesce(nullif(was, ''), 'off'), true);
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata._govern_partitions(bigint) IS
	'Internal: every partition of a registered partitioned table is its provider''s alone (no privilege for others, row-level security with the provider''s policy)';

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
CREATE OR REPLACE FUNCTION pubdata._resource_sharing_changed() RETURNS trigger
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
CREATE OR REPLACE TRIGGER resource_sharing AFTER UPDATE ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._resource_sharing_changed();
CREATE OR REPLACE TRIGGER resource_item_sharing AFTER UPDATE ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._resource_sharing_changed();
