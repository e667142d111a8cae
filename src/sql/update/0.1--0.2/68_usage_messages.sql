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

COMMENT ON TYPE pubdata.item_state IS 'current; added (a new column the bureau has not reviewed yet: neither shared nor opened); dropped (the column left the table)';

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

CREATE OR REPLACE FUNCTION pubdata._schedule_kind(schedule text) RETURNS pubdata.schedule_kind
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	iv interval;
BEGIN
	IF schedule IS NULL THEN
		RETURN 'frequency';
	END IF;
	-- cron: five fields; only month and day of week may hold names (JAN, MON)
	IF pg_catalog.btrim(schedule) ~ '^[0-9*,/-]+\s+[0-9*,/-]+\s+[0-9*,/-]+\s+[0-9A-Za-z*,/-]+\s+[0-9A-Za-z*,/-]+$' THEN
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
				  HINT = 'E.g. ''15 minutes'', ''0 2 * * *'' (02:00 every day), ''0 9 * * MON-FRI'', or NULL for the resource''s update frequency.';
	END IF;
	RETURN 'interval';
END
$$;

CREATE OR REPLACE FUNCTION pubdata._warn_job_database(job bigint) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	db text := pg_catalog.current_setting('pubdata.database', true);
BEGIN
	IF db IS NOT NULL AND db OPERATOR(pg_catalog.<>) pg_catalog.current_database()
	   AND EXISTS (SELECT 1 FROM pubdata.job j
				   WHERE j.id OPERATOR(pg_catalog.=) job AND j.enabled AND j.next_run_at IS NOT NULL) THEN
		RAISE WARNING 'job % is scheduled in database "%", but the pubdata launcher runs jobs in database "%"',
			job, pg_catalog.current_database(), db
			USING DETAIL = 'Its schedule never fires in this database; pubdata.run_job_now() still runs it at once.',
				  HINT = pg_catalog.format('Schedule jobs in database "%s", or set pubdata.database = ''%s'' in postgresql.conf and restart the server.',
										   db, pg_catalog.current_database());
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._warn_job_database(bigint) IS 'Warn when a job is scheduled in another database than pubdata.database, where no launcher runs it (internal)';

CREATE OR REPLACE FUNCTION pubdata.schedule_aggregation(
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
	PERFORM pubdata._warn_job_database(jid);
	RETURN jid;
END
$$;
COMMENT ON FUNCTION pubdata.schedule_aggregation(text, text, text, text[], text, name, interval, integer, interval, boolean) IS
	'Schedule the aggregation of a source (one SELECT, or a schema-qualified table or postgres_fdw foreign table) into a resource''s table: full, incremental (upsert by key_columns) or append; schedule NULL follows the catalog''s update frequency; runs as the provider''s role; returns the job id';

CREATE OR REPLACE FUNCTION pubdata.schedule_job(
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
	admin boolean := pubdata.is_admin();
	me integer := pubdata.department_of(pubdata.caller());
	prov integer;
BEGIN
	PERFORM pubdata._check_enum(kind, 'pubdata.job_kind', 'job kind');
	-- a department schedules the quality measurement of its own resources;
	-- every other job (custom SQL, the sweeps) is the bureau's
	IF NOT admin AND (me IS NULL OR kind IS DISTINCT FROM 'quality') THEN
		RAISE EXCEPTION 'permission denied to schedule a % job', coalesce(kind, 'NULL')
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'A department schedules the quality measurements (kind quality) and the aggregation (schedule_aggregation) of its own resources; other jobs are scheduled by pubdata_admin.',
				  HINT = 'SELECT pubdata.schedule_job(''quality'', ''1 day'', resource => ''...'');';
	END IF;
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
		SELECT r.update_frequency, r.provider_id INTO f, prov FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
		IF NOT admin AND prov IS DISTINCT FROM me THEN
			RAISE EXCEPTION 'permission denied to schedule a quality job on resource "%"', resource
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = pg_catalog.format('The resource is provided by department "%s".',
								(SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) prov)),
					  HINT = 'A department measures the quality of its own resources (Art 15: who collects is responsible).';
		END IF;
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
	-- a department's job runs as the department, never as another role its
	-- login may belong to
	IF NOT admin AND pubdata.department_of(run_as) IS DISTINCT FROM me THEN
		RAISE EXCEPTION 'cannot schedule a job to run as role "%"', run_as
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" does not act for department "%s".', run_as,
							(SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) me)),
				  HINT = 'Leave run_as out: the job runs as the department''s role that schedules it.';
	END IF;
	INSERT INTO pubdata.job (name, kind, resource_id, source, schedule, schedule_kind, enabled, timeout,
							 max_attempts, retry_backoff, next_run_at, run_as, created_by)
	VALUES (coalesce(name, pg_catalog.format('%s%s', kind, ' ' OPERATOR(pg_catalog.||) resource)),
			kind::pubdata.job_kind, rid, command, schedule, sk, coalesce(enabled, true), timeout,
			max_attempts, retry_backoff, pubdata._first_run(sk, schedule, f), run_as, pubdata.caller())
	RETURNING id INTO jid;
	PERFORM pubdata._warn_job_database(jid);
	RETURN jid;
END
$$;
COMMENT ON FUNCTION pubdata.schedule_job(text, text, text, text, name, interval, integer, interval, boolean, text) IS
	'Schedule a quality, objection_sweep, grant_sweep or custom SQL job (pubdata_admin), or the quality measurement of a department''s own resource (the department); runs as run_as, a role the caller is a member of; returns the job id';

CREATE OR REPLACE FUNCTION pubdata.run_job_now(job bigint) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
#variable_conflict use_variable
DECLARE
	j pubdata.job := pubdata._job(job);
	running bigint;
	run bigint;
	outcome record;
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
	-- a run that did not succeed is an error for the caller, as for any
	-- statement; the run stays recorded (the worker committed it)
	SELECT r.status, r.error, r.attempt INTO outcome FROM pubdata.job_run r WHERE r.id OPERATOR(pg_catalog.=) run;
	IF outcome.status OPERATOR(pg_catalog.=) 'timed_out' THEN
		RAISE EXCEPTION 'job % timed out (run %): %', job, run, outcome.error
			USING ERRCODE = 'query_canceled',
				  DETAIL = pg_catalog.format('Run %s of job "%s" (attempt %s) ran longer than its timeout of %s and wrote nothing.',
											 run, j.name, outcome.attempt, j.timeout),
				  HINT = pg_catalog.format('Raise it with pubdata.alter_job(%s, timeout => ...); see SELECT * FROM pubdata.job_run WHERE id = %s.', job, run);
	ELSIF outcome.status OPERATOR(pg_catalog.<>) 'succeeded' THEN
		RAISE EXCEPTION 'job % failed (run %): %', job, run, coalesce(outcome.error, 'no result recorded')
			USING ERRCODE = 'external_routine_exception',
				  DETAIL = pg_catalog.format('Run %s of job "%s" (attempt %s) failed and wrote nothing.', run, j.name, outcome.attempt),
				  HINT = pg_catalog.format('Correct the cause and run it again; see SELECT * FROM pubdata.job_run WHERE id = %s.', run);
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION pubdata.run_job_now(bigint) IS
	'Run a job at once in a job worker and wait for it; returns the run id when it succeeded, raises an error naming the failure (the run stays in pubdata.job_run) when it failed or timed out';

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

REVOKE ALL ON FUNCTION pubdata._sync_schema_usage(oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION pubdata._warn_job_database(bigint) FROM PUBLIC;
-- a department schedules the quality measurement of its own resources
GRANT EXECUTE ON FUNCTION pubdata.schedule_job(text, text, text, text, name, interval, integer, interval, boolean, text)
	TO pubdata_department;
