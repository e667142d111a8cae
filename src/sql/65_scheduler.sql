-- ---------------------------------------------------------------------------
-- Scheduled jobs, the launcher's side (tables: once/65_scheduler.sql; the
-- departments' side: 67_scheduler_api.sql): C entry points, schedules, what
-- the launcher and the job workers call, timeliness.
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- C entry points
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pubdata.cron_next(expr text, after timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'pubdata_cron_next'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.cron_next(text, timestamptz) IS
	'The first minute after "after" matching a 5-field cron expression (minute hour day-of-month month day-of-week), on the clock of pubdata.timezone (not the session''s TimeZone)';

CREATE OR REPLACE FUNCTION pubdata._check_select(query text) RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_check_select'
	LANGUAGE C STRICT;
COMMENT ON FUNCTION pubdata._check_select(text) IS 'Error unless the text is exactly one SELECT statement (internal)';

CREATE OR REPLACE FUNCTION pubdata._launch_job(job bigint, run bigint) RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_launch_job'
	LANGUAGE C STRICT;
COMMENT ON FUNCTION pubdata._launch_job(bigint, bigint) IS 'Start a job worker for one run and wait for it (internal; see run_job_now)';

CREATE OR REPLACE FUNCTION pubdata._wake_launcher() RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_wake_launcher_sql'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._wake_launcher() IS 'Set the launcher''s latch; true when a launcher runs (internal)';

CREATE OR REPLACE FUNCTION pubdata.launcher_pid() RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_launcher_pid'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata.launcher_pid() IS 'Process id of the pubdata launcher, NULL when none runs (not preloaded, or waiting for its database)';

CREATE OR REPLACE FUNCTION pubdata._job_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_job_changed'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata._job_changed() IS 'Trigger: wake the launcher when a transaction that changed pubdata.job commits';

CREATE OR REPLACE TRIGGER job_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.job
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._job_changed();

-- ---------------------------------------------------------------------------
-- Schedules
-- ---------------------------------------------------------------------------

-- frequency_interval(f): how old the last aggregation of a resource may be
CREATE OR REPLACE FUNCTION pubdata.frequency_interval(f pubdata.update_frequency) RETURNS interval
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

-- _next_run(job, after): the job's next occurrence after a time (NULL: none)
CREATE OR REPLACE FUNCTION pubdata._next_run(job_id bigint, after timestamptz) RETURNS timestamptz
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
CREATE OR REPLACE FUNCTION pubdata._first_run(sk pubdata.schedule_kind, schedule text, f pubdata.update_frequency)
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
CREATE OR REPLACE FUNCTION pubdata._runnable(j pubdata.job, exclude bigint[]) RETURNS boolean
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

CREATE OR REPLACE FUNCTION pubdata._due_jobs(lim integer, exclude bigint[])
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

CREATE OR REPLACE FUNCTION pubdata._next_due(exclude bigint[]) RETURNS timestamptz
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
CREATE OR REPLACE FUNCTION pubdata._job_launched(job_id bigint) RETURNS void
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
CREATE OR REPLACE FUNCTION pubdata._start_run(run bigint, job bigint, scheduled timestamptz, worker_pid integer)
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
CREATE OR REPLACE FUNCTION pubdata._finish_run(run bigint, st pubdata.job_status, err text, nread bigint, nwritten bigint)
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

-- _run_error(run, sqlstate, detail): the rest of a failed run's error: its
-- SQLSTATE on the run, its detail (which may quote a record's values) in
-- job_run_detail.  The job worker calls it as the extension owner.
CREATE OR REPLACE FUNCTION pubdata._run_error(run bigint, state text, detail text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	UPDATE pubdata.job_run r SET sqlstate = state WHERE r.id OPERATOR(pg_catalog.=) run;
	IF detail IS NOT NULL THEN
		INSERT INTO pubdata.job_run_detail AS d (run_id, detail) VALUES (run, detail)
		ON CONFLICT (run_id) DO UPDATE SET detail = EXCLUDED.detail;
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._run_error(bigint, text, text) IS
	'Internal: record the SQLSTATE of a failed run and its error''s detail (read only by the bureau and the job''s department)';

-- ---------------------------------------------------------------------------
-- Timeliness (Art 15): overdue resources and alerts
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW pubdata.aggregation_status AS
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
		   AND pubdata._catalog_sight(r.id) IS NOT NULL
		 GROUP BY r.id, d.code) s;
COMMENT ON VIEW pubdata.aggregation_status IS
	'Per resource with enabled aggregation jobs: last successful aggregation, when it falls due by its catalog update frequency, whether it is overdue (Art 8(5), 15)';
COMMENT ON COLUMN pubdata.aggregation_status.due_by IS
	'last success (or the job''s creation) + the frequency''s period + pubdata.overdue_grace; NULL for on_demand';

CREATE OR REPLACE VIEW pubdata.overdue AS
SELECT resource_id, resource, name, provider, update_frequency, last_success, due_by,
	   pg_catalog.now() OPERATOR(pg_catalog.-) due_by AS overdue_by
  FROM pubdata.aggregation_status WHERE overdue;
COMMENT ON VIEW pubdata.overdue IS 'Resources whose last successful aggregation is older than their update frequency allows';

-- check_overdue(): open an alert episode (one pubdata.alert) for each
-- newly overdue resource, close the episodes of resources on time again;
-- returns the number of new alerts.  The launcher calls it every minute.
CREATE OR REPLACE FUNCTION pubdata.check_overdue() RETURNS integer
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
		PERFORM pubdata._raise_alert('aggregation_overdue', o.resource_id, NULL, pg_catalog.jsonb_build_object(
			'resource', o.resource, 'provider', o.provider,
			'update_frequency', o.update_frequency, 'last_success', o.last_success,
			'overdue_since', o.due_by));
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.check_overdue() IS
	'Raise an alert (pubdata.alert, NOTIFY pubdata_alert) once per overdue episode of a resource; returns the number of new alerts (the launcher runs it every minute)';

-- _housekeeping(retention_minutes): orphaned runs, history retention, alerts
CREATE OR REPLACE FUNCTION pubdata._housekeeping(retention_minutes integer) RETURNS void
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
