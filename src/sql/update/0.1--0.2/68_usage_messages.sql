-- ---------------------------------------------------------------------------
-- An approved grant is enough to read; messages that point the right way;
-- departments schedule their own quality measurements; cron month and day
-- names; a new column of a published entry waits for the bureau's review.
-- ---------------------------------------------------------------------------

-- the schema USAGE pubdata gave so that grants can be read, taken back when
-- no grant needs it (pubdata._sync_schema_usage)
CREATE TABLE pubdata.schema_usage (
	schema_name	name NOT NULL,
	role_name	name NOT NULL,
	granted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (schema_name, role_name)
);
COMMENT ON TABLE pubdata.schema_usage IS 'The USAGE on a table''s schema that pubdata gave a department (or pubdata_department) so that its grants can be read; taken back when no grant needs it';
SELECT pg_catalog.pg_extension_config_dump('pubdata.schema_usage', '');
GRANT SELECT ON pubdata.schema_usage TO pubdata_admin, pubdata_auditor;

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
	-- an approved grant is enough to read: the schema's usage comes with it
	PERFORM pubdata._sync_schema_usage((SELECT c.relnamespace FROM pg_catalog.pg_class c
										 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid));
END
$$;
COMMENT ON FUNCTION pubdata._refresh_sharing(bigint) IS 'Rebuild the policies and column privileges of one resource from its class, status and live grants';

CREATE OR REPLACE FUNCTION pubdata.decide_share(request bigint, approve boolean, reason text DEFAULT NULL,
									 row_scope jsonb DEFAULT NULL, expires_at timestamptz DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
	r pubdata.resource;
	who name;
	sch record;
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
		-- the grant gives the schema's usage where the schema is the
		-- provider's (_sync_schema_usage); elsewhere only its owner can
		SELECT d.role_name INTO who FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) g.requester_id;
		SELECT n.oid, n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) AS owner INTO sch
		  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid;
		IF FOUND AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) who)
		   AND NOT pg_catalog.has_schema_privilege(who, sch.oid, 'USAGE') THEN
			RAISE WARNING 'department "%" cannot use schema "%", which holds resource "%"',
				(SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) g.requester_id), sch.nspname, r.code
				USING DETAIL = pg_catalog.format('Schema "%s" is owned by role "%s", not by the providing department: pubdata gives the usage of the provider''s own schemas only.',
												 sch.nspname, sch.owner),
					  HINT = pg_catalog.format('The schema''s owner grants it: GRANT USAGE ON SCHEMA %I TO %I;', sch.nspname, who);
		END IF;
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.decide_share(bigint, boolean, text, jsonb, timestamptz) IS
	'The provider approves (optionally with a row scope and an expiry) or refuses with a reason a share request';

REVOKE ALL ON FUNCTION pubdata._sync_schema_usage(oid) FROM PUBLIC;
