-- ---------------------------------------------------------------------------
-- Scheduled jobs, the departments' side (the launcher's side and the
-- tables are 65_scheduler.sql): scheduling, changing, dropping and running a
-- job, who may manage and who sees which jobs.
-- ---------------------------------------------------------------------------

-- _warn_job_database(job): the launcher runs scheduled jobs in the database
-- named by pubdata.database only; an enabled job scheduled elsewhere would
-- silently never fire
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

-- _may_manage_job(job): admin, or the provider department of the job's
-- resource for aggregation and quality jobs
CREATE OR REPLACE FUNCTION pubdata._may_manage_job(j pubdata.job) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata.is_admin()
		OR (j.kind OPERATOR(pg_catalog.=) ANY ('{aggregation,quality}'::pubdata.job_kind[])
			AND (SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) j.resource_id)
				OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()))
$$;

-- _job(id): a job by id for its manager, or a clear error
CREATE OR REPLACE FUNCTION pubdata._job(job bigint) RETURNS pubdata.job
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

CREATE OR REPLACE FUNCTION pubdata.alter_job(
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

CREATE OR REPLACE FUNCTION pubdata.drop_job(job bigint) RETURNS void
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
	SELECT r.status, r.error || coalesce(' (' || d.detail || ')', '') AS error, r.attempt INTO outcome
	  FROM pubdata.job_run r LEFT JOIN pubdata.job_run_detail d ON d.run_id OPERATOR(pg_catalog.=) r.id
	 WHERE r.id OPERATOR(pg_catalog.=) run;
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

-- ---------------------------------------------------------------------------
-- Who sees which jobs: admin and auditor all, a department those of its resources
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pubdata._may_see_job(resource_id bigint) RETURNS boolean
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
DROP POLICY IF EXISTS job_visible ON pubdata.job;
CREATE POLICY job_visible ON pubdata.job FOR SELECT USING (pubdata._may_see_job(resource_id));
DROP POLICY IF EXISTS job_run_visible ON pubdata.job_run;
CREATE POLICY job_run_visible ON pubdata.job_run FOR SELECT
	USING (EXISTS (SELECT 1 FROM pubdata.job j WHERE j.id OPERATOR(pg_catalog.=) job_id));
ALTER TABLE pubdata.job_run_detail ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS job_run_detail_bureau ON pubdata.job_run_detail;
CREATE POLICY job_run_detail_bureau ON pubdata.job_run_detail FOR SELECT TO pubdata_admin
	USING (true);
DROP POLICY IF EXISTS job_run_detail_department ON pubdata.job_run_detail;
CREATE POLICY job_run_detail_department ON pubdata.job_run_detail FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.job_run r WHERE r.id OPERATOR(pg_catalog.=) run_id));

GRANT SELECT ON pubdata.job, pubdata.job_run, pubdata.aggregation_status, pubdata.overdue
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT SELECT ON pubdata.aggregation_alert TO pubdata_admin, pubdata_auditor;
GRANT SELECT ON pubdata.job_run_detail TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.schedule_aggregation(text, text, text, text[], text, name, interval, integer, interval, boolean),
	pubdata.alter_job(bigint, boolean, text, interval, integer, interval, boolean),
	pubdata.drop_job(bigint), pubdata.run_job_now(bigint),
	pubdata.cron_next(text, timestamptz), pubdata.frequency_interval(pubdata.update_frequency),
	pubdata.launcher_pid()
	TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.schedule_job(text, text, text, text, name, interval, integer, interval, boolean, text)
	TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.check_overdue() TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.cron_next(text, timestamptz), pubdata.frequency_interval(pubdata.update_frequency),
	pubdata.launcher_pid()
	TO pubdata_auditor;
-- the row-level security policies call this as the querying role
GRANT EXECUTE ON FUNCTION pubdata._may_see_job(bigint)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
