-- 0.2: what each role reads (issue 19): alerts in a table written only by
-- pubdata (NOTIFY pubdata_alert carries an id and a kind); the catalog by
-- row-level security (a department its own entries, other departments'
-- published ones, of a non-shared entry its existence and legal basis); job
-- errors' details and objections' record keys hidden from the audit office.

-- ---------------------------------------------------------------------------
-- What each role sees of the catalog (Art 9, 18(3)): the bureau and the audit
-- office every entry; a department its own entries whole, the published
-- entries of other departments, and of another department's non-shared
-- entry only that it exists and its legal basis (pubdata.resource_directory;
-- an Art 18(3) refusal cites it).  Drafts, submitted, approved and retired
-- entries are the provider's and the bureau's.  Row-level security on the
-- catalog tables; pubdata's own functions and views run as the extension
-- owner, who owns the tables, and filter with _catalog_sight().
-- ---------------------------------------------------------------------------

-- _catalog_sight(resource): how much of a catalog entry the calling role
-- sees: 'whole', 'exists' (another department's published non-shared entry)
-- or NULL (nothing)
CREATE FUNCTION pubdata._catalog_sight(resource_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
			WHEN pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER') THEN 'whole'
			WHEN r.provider_id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()) THEN 'whole'
			WHEN r.status OPERATOR(pg_catalog.<>) 'published' THEN NULL
			WHEN r.share_class OPERATOR(pg_catalog.=) 'non_shared' THEN 'exists'
			ELSE 'whole' END
	  FROM pubdata.resource r
	 WHERE r.id OPERATOR(pg_catalog.=) $1
$$;
COMMENT ON FUNCTION pubdata._catalog_sight(bigint) IS
	'Internal: how much of a catalog entry the calling role sees: whole, exists (another department''s published non-shared entry: its code, provider and legal basis) or NULL';
REVOKE ALL ON FUNCTION pubdata._catalog_sight(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata._catalog_sight(bigint) TO pubdata_admin, pubdata_department, pubdata_auditor;

ALTER TABLE pubdata.resource ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.resource_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.resource_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.resource_element ENABLE ROW LEVEL SECURITY;
CREATE POLICY resource_oversight ON pubdata.resource FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
CREATE POLICY resource_departments ON pubdata.resource FOR SELECT TO pubdata_department
	USING (provider_id OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(pubdata.caller()))
		   OR (status OPERATOR(pg_catalog.=) 'published' AND share_class OPERATOR(pg_catalog.<>) 'non_shared'));
CREATE POLICY resource_item_oversight ON pubdata.resource_item FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
CREATE POLICY resource_item_departments ON pubdata.resource_item FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) resource_id));
CREATE POLICY resource_history_oversight ON pubdata.resource_history FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
CREATE POLICY resource_history_departments ON pubdata.resource_history FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) resource_id));
CREATE POLICY resource_element_oversight ON pubdata.resource_element FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
CREATE POLICY resource_element_departments ON pubdata.resource_element FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) resource_id));

-- resource_directory: every entry the calling role may know exists
CREATE VIEW pubdata.resource_directory AS
SELECT r.id, r.code,
	   CASE WHEN s.sight OPERATOR(pg_catalog.=) 'whole' THEN r.name END AS name,
	   p.code AS provider, r.share_class, r.status, r.legal_basis,
	   s.sight OPERATOR(pg_catalog.=) 'whole' AS whole
  FROM pubdata.resource r
  JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) r.provider_id
 CROSS JOIN LATERAL (SELECT pubdata._catalog_sight(r.id) AS sight) s
 WHERE s.sight IS NOT NULL;
COMMENT ON VIEW pubdata.resource_directory IS
	'Every catalog entry the querying role may know of: a department''s own, other departments'' published entries (of a non-shared one only its code, provider, class and legal basis), all for the bureau and the auditor';
COMMENT ON COLUMN pubdata.resource_directory.name IS 'NULL for another department''s non-shared entry';
COMMENT ON COLUMN pubdata.resource_directory.legal_basis IS 'the law that restricts or forbids sharing (Art 18(3)): cited by refusals';
COMMENT ON COLUMN pubdata.resource_directory.whole IS 'the entry is readable whole in pubdata.resource (false: only its existence and legal basis)';
GRANT SELECT ON pubdata.resource_directory TO pubdata_admin, pubdata_department, pubdata_auditor;

CREATE OR REPLACE VIEW pubdata.resource_catalog AS
	SELECT r.code, r.name, p.code AS provider, p.name AS provider_name, r.share_class, r.open_class,
		   r.update_frequency, r.security_level, r.catalog_level, r.region, r.high_value, r.status, r.version,
		   r.relation_name AS relation,
		   (SELECT pg_catalog.count(*) FROM pubdata.resource_item i
			 WHERE i.resource_id = r.id AND i.state <> 'dropped') AS items,
		   r.updated_at
	  FROM pubdata.resource r JOIN pubdata.department p ON p.id = r.provider_id
	 WHERE pubdata._catalog_sight(r.id) = 'whole';
COMMENT ON VIEW pubdata.resource_catalog IS 'The resource catalog: one row per entry the querying role reads whole (a department: its own and other departments'' published shared entries), with its provider, classes, status and item count';

CREATE OR REPLACE VIEW pubdata.quality_score AS
SELECT r.code AS resource,
	   CASE WHEN pubdata._catalog_sight(r.id) OPERATOR(pg_catalog.=) 'whole' THEN r.name END AS resource_name,
	   d.code AS department,
	   q.id AS run_id, q.finished_at AS measured_at,
	   CASE WHEN pubdata._catalog_sight(r.id) OPERATOR(pg_catalog.=) 'whole' THEN q.rows_checked END AS rows_checked,
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
 WHERE q.rn OPERATOR(pg_catalog.=) 1
   AND pubdata._catalog_sight(r.id) IS NOT NULL;
COMMENT ON VIEW pubdata.quality_score IS
	'Latest quality measurement of each resource the querying role may know of: GB/T 36344 dimension scores, score, the previous run''s score and the trend (up, down, same, new)';
COMMENT ON COLUMN pubdata.quality_score.resource_name IS 'NULL for another department''s non-shared resource';
COMMENT ON COLUMN pubdata.quality_score.rows_checked IS 'rows measured; NULL for another department''s non-shared resource';

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

-- ---------------------------------------------------------------------------
-- Alerts (Art 13, 15): what pubdata raises (an overdue objection, an overdue
-- aggregation, a year without a calendar) is a row of pubdata.alert, written
-- only by pubdata, and a NOTIFY pubdata_alert whose payload is only the row's
-- id and kind.  Any login may LISTEN and NOTIFY on any channel (PostgreSQL
-- has no privilege for it): the payload says nothing a listener may not
-- know, and a consumer verifies an alert by reading its row.
-- ---------------------------------------------------------------------------

CREATE TYPE pubdata.alert_kind AS ENUM ('objection_overdue', 'aggregation_overdue', 'calendar_not_loaded');
COMMENT ON TYPE pubdata.alert_kind IS
	'What an alert is about: an objection past its deadline, a resource whose aggregation is overdue, a year without an official calendar';

CREATE TABLE pubdata.alert (
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	raised_at	timestamptz NOT NULL DEFAULT now(),
	kind		pubdata.alert_kind NOT NULL,
	resource_id	bigint REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	objection_id bigint REFERENCES pubdata.objection (id) ON DELETE CASCADE,
	details		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_resource_idx ON pubdata.alert (resource_id);
CREATE INDEX alert_objection_idx ON pubdata.alert (objection_id);
COMMENT ON TABLE pubdata.alert IS
	'Every alert pubdata raised, written only by pubdata; NOTIFY pubdata_alert carries {"id": N, "kind": "..."} of a row here, and a consumer reads the row to verify it';
COMMENT ON COLUMN pubdata.alert.kind IS 'objection_overdue, aggregation_overdue or calendar_not_loaded';
COMMENT ON COLUMN pubdata.alert.resource_id IS 'the resource the alert is about (its provider reads the alert)';
COMMENT ON COLUMN pubdata.alert.objection_id IS 'the objection the alert is about (the department that raised it reads the alert)';
COMMENT ON COLUMN pubdata.alert.details IS 'what the notification used to carry: codes, times, counts (never a record''s values)';

SELECT pg_catalog.pg_extension_config_dump('pubdata.alert', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.alert_id_seq', '');
REVOKE ALL ON SEQUENCE pubdata.alert_id_seq FROM PUBLIC;

-- The bureau and the audit office read every alert; a department the alerts
-- about the resources it provides and the objections it raised.  Nobody but
-- the extension owner writes (no INSERT, UPDATE or DELETE is granted).
ALTER TABLE pubdata.alert ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_oversight ON pubdata.alert FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
CREATE POLICY alert_parties ON pubdata.alert FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r
					WHERE r.id OPERATOR(pg_catalog.=) resource_id
					  AND r.provider_id OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(pubdata.caller())))
		   OR EXISTS (SELECT 1 FROM pubdata.objection o
					   WHERE o.id OPERATOR(pg_catalog.=) objection_id
						 AND o.raised_by_department OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(pubdata.caller()))));
GRANT SELECT ON pubdata.alert TO pubdata_admin, pubdata_department, pubdata_auditor;

-- _raise_alert(kind, resource, objection, details): record an alert and
-- NOTIFY pubdata_alert with its id and kind only.  Executable by nobody:
-- pubdata's own SECURITY DEFINER functions call it as the extension owner.
CREATE FUNCTION pubdata._raise_alert(kind pubdata.alert_kind, resource_id bigint, objection_id bigint, details jsonb)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	a bigint;
BEGIN
	INSERT INTO pubdata.alert (kind, resource_id, objection_id, details)
	VALUES ($1, $2, $3, coalesce($4, '{}'::jsonb))
	RETURNING id INTO a;
	PERFORM pg_catalog.pg_notify('pubdata_alert', pg_catalog.jsonb_build_object('id', a, 'kind', $1)::text);
	RETURN a;
END
$$;
COMMENT ON FUNCTION pubdata._raise_alert(pubdata.alert_kind, bigint, bigint, jsonb) IS
	'Internal: record an alert in pubdata.alert and NOTIFY pubdata_alert with {"id", "kind"} only; called by pubdata''s sweeps and checks';
REVOKE ALL ON FUNCTION pubdata._raise_alert(pubdata.alert_kind, bigint, bigint, jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pubdata.sweep_objections() RETURNS integer
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
		PERFORM pubdata._raise_alert('objection_overdue', t.resource_id, t.id, pg_catalog.jsonb_build_object(
			'objection', t.id,
			'resource', (SELECT x.code FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) t.resource_id),
			'provider', (SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) t.provider_id),
			'raised_by', (SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) t.raised_by_department),
			'status', t.status,
			'raised_at', t.raised_at,
			'due_at', t.due_at));
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.sweep_objections() IS
	'pubdata_admin and the scheduler: mark unresolved objections past their deadline overdue, record the event and raise an alert (pubdata.alert, NOTIFY pubdata_alert) once per ticket; returns how many';

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

CREATE OR REPLACE FUNCTION pubdata.check_calendar(today date DEFAULT NULL) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d date := coalesce($1, pubdata._calendar_date(pg_catalog.now()));
	strict_on boolean := coalesce(pg_catalog.current_setting('pubdata.calendar_strict', true), 'off') OPERATOR(pg_catalog.=) 'on';
	w record;
	n integer := 0;
BEGIN
	PERFORM pubdata._require_admin('check the working-day calendar');
	-- a warning ends when its year is loaded
	DELETE FROM pubdata.calendar_alert a
	 WHERE EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year OPERATOR(pg_catalog.=) a.year);
	FOR w IN SELECT * FROM pubdata.calendar_warnings(d) LOOP
		-- once a day per year, whoever checks (concurrent checks wait here)
		INSERT INTO pubdata.calendar_alert AS a (year, first_alerted_on, last_alerted_on)
		VALUES (w.year, d, d)
		ON CONFLICT (year) DO UPDATE SET last_alerted_on = EXCLUDED.last_alerted_on, alerts = a.alerts OPERATOR(pg_catalog.+) 1
		 WHERE a.last_alerted_on OPERATOR(pg_catalog.<) EXCLUDED.last_alerted_on;
		CONTINUE WHEN NOT FOUND;
		RAISE WARNING '%', w.message
			USING DETAIL = pg_catalog.format('Deadlines that run into %s are counted on the provisional calendar (weekends and the statutory holidays of 全国年节及纪念日放假办法) and marked provisional; %s open deadline(s) are provisional now.', w.year, w.provisional_deadlines)
						   || CASE WHEN strict_on THEN pg_catalog.format(' pubdata.calendar_strict is on: requests and objections whose deadlines run into %s are refused until it is loaded.', w.year) ELSE '' END,
				  HINT = pg_catalog.format('Load the State Council''s arrangement for %s with pubdata.load_calendar_year(%s, holidays, workdays, source): open deadlines are recomputed.', w.year, w.year);
		PERFORM pubdata._raise_alert('calendar_not_loaded', NULL, NULL, pg_catalog.jsonb_build_object(
			'year', w.year, 'today', d,
			'provisional_deadlines', w.provisional_deadlines, 'strict', strict_on));
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.check_calendar(date) IS
	'pubdata_admin and the launcher (daily): warn (WARNING, pubdata.alert, NOTIFY pubdata_alert) once a day about each year of calendar_warnings(today) without an official arrangement; returns the number of warnings given';

-- job runs: the SQLSTATE on the run, the detail apart
ALTER TABLE pubdata.job_run ADD COLUMN sqlstate text;
COMMENT ON COLUMN pubdata.job_run.error IS 'the error''s message (its detail, which may quote a record''s values, is in pubdata.job_run_detail)';
COMMENT ON COLUMN pubdata.job_run.sqlstate IS 'the error''s SQLSTATE (NULL for a run that succeeded or was not run)';

-- The detail of a failed run's error (e.g. "Key (id_number)=(3301...) already
-- exists") quotes the values of records: only the bureau and the department
-- whose job it is read it, not the audit office.
CREATE TABLE pubdata.job_run_detail (
	run_id		bigint PRIMARY KEY REFERENCES pubdata.job_run (id) ON DELETE CASCADE,
	detail		text NOT NULL
);
COMMENT ON TABLE pubdata.job_run_detail IS
	'The DETAIL of a failed run''s error, which may quote personal values: read by the bureau and the job''s own department only';

ALTER TABLE pubdata.job_run_detail ENABLE ROW LEVEL SECURITY;
CREATE POLICY job_run_detail_bureau ON pubdata.job_run_detail FOR SELECT TO pubdata_admin
	USING (true);
CREATE POLICY job_run_detail_department ON pubdata.job_run_detail FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.job_run r WHERE r.id OPERATOR(pg_catalog.=) run_id));
GRANT SELECT ON pubdata.job_run_detail TO pubdata_admin, pubdata_department;

CREATE FUNCTION pubdata._run_error(run bigint, state text, detail text)
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

REVOKE ALL ON FUNCTION pubdata._run_error(bigint, text, text) FROM PUBLIC;

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

-- objections: record keys as each role may read them
-- _objection_key_for(resource, raised by, key): a record key as the calling
-- role may read it: whole for the bureau, the provider, the department that
-- raised the objection and the readers of the resource; otherwise (the audit
-- office) with the values of the resource's personal items redacted
CREATE FUNCTION pubdata._objection_key_for(resource_id bigint, raised_by integer, key jsonb) RETURNS jsonb
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
			WHEN $3 IS NULL THEN NULL
			WHEN pubdata.is_admin()
				 OR pubdata.department_of(pubdata.caller()) OPERATOR(pg_catalog.=) $2
				 OR pubdata.department_of(pubdata.caller()) OPERATOR(pg_catalog.=)
					(SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1)
				 OR (pubdata.department_of(pubdata.caller()) IS NOT NULL AND pubdata._reads($1, NULL)) THEN $3
			ELSE (SELECT pg_catalog.jsonb_object_agg(k.key,
							CASE WHEN EXISTS (SELECT 1 FROM pubdata.resource_item i
											   WHERE i.resource_id OPERATOR(pg_catalog.=) $1
												 AND i.column_name::text OPERATOR(pg_catalog.=) k.key
												 AND i.personal OPERATOR(pg_catalog.<>) 'none')
								 THEN '"[redacted]"'::jsonb ELSE k.value END)
					FROM pg_catalog.jsonb_each($3) k) END
$$;
COMMENT ON FUNCTION pubdata._objection_key_for(bigint, integer, jsonb) IS
	'Internal: a record key as the calling role reads it: the values of personal items redacted for all but the bureau, the provider, the raising department and the resource''s readers';
REVOKE ALL ON FUNCTION pubdata._objection_key_for(bigint, integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata._objection_key_for(bigint, integer, jsonb) TO pubdata_admin, pubdata_department, pubdata_auditor;

-- objection_overview: every ticket the calling role may see, record keys as
-- it may read them (the audit office reads tickets here: the table's
-- record_key and corrected_key columns are not granted to it)
CREATE VIEW pubdata.objection_overview AS
SELECT o.id, x.code AS resource, o.resource_id,
	   pubdata._objection_key_for(o.resource_id, o.raised_by_department, o.record_key) AS record_key,
	   o.item, o.description, rd.code AS raised_by, o.raised_by_role, p.code AS provider,
	   o.raised_at, o.due_at, o.working_days, o.due_provisional, o.status, o.acknowledged_at,
	   o.resolved_at, o.outcome, o.resolution_note,
	   pubdata._objection_key_for(o.resource_id, o.raised_by_department, o.corrected_key) AS corrected_key,
	   o.overdue, o.overdue_at
  FROM pubdata.objection o
  JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) o.resource_id
  JOIN pubdata.department rd ON rd.id OPERATOR(pg_catalog.=) o.raised_by_department
  JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) o.provider_id
 WHERE pubdata.is_admin()
	OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
	OR pubdata.department_of(pubdata.caller()) OPERATOR(pg_catalog.=) ANY (ARRAY[o.raised_by_department, o.provider_id]);
COMMENT ON VIEW pubdata.objection_overview IS
	'Objection tickets the querying role may see (the bureau and the auditor all, a department those it raised or must verify); the values of personal items in record keys are redacted for the auditor';
COMMENT ON COLUMN pubdata.objection_overview.record_key IS 'the record objected to; personal items'' values read "[redacted]" for all but the bureau, the provider, the raising department and the resource''s readers';

CREATE OR REPLACE VIEW pubdata.open_objection WITH (security_barrier) AS
SELECT o.id, x.code AS resource, o.resource_id,
	   pubdata._objection_key_for(o.resource_id, o.raised_by_department, o.record_key) AS record_key,
	   o.item, o.status, o.raised_at, o.due_at, o.overdue,
	   o.due_provisional
  FROM pubdata.objection o
  JOIN pubdata.resource x ON x.id OPERATOR(pg_catalog.=) o.resource_id
 WHERE o.status OPERATOR(pg_catalog.<>) 'resolved'
   AND (pubdata._reads(x.id, NULL)
		OR pg_catalog.pg_has_role('pubdata_admin', 'MEMBER')
		OR pg_catalog.pg_has_role('pubdata_auditor', 'MEMBER'))
   AND pubdata._objection_visible(o.id);
COMMENT ON VIEW pubdata.open_objection IS
	'Records under verification: unresolved objections on the resources the querying role can read; join on resource and record_key';
COMMENT ON COLUMN pubdata.open_objection.resource IS 'resource code';
COMMENT ON COLUMN pubdata.open_objection.record_key IS 'the record''s key as a JSON object; compare with jsonb_build_object(''key'', t.key)';
COMMENT ON COLUMN pubdata.open_objection.due_provisional IS 'the deadline was counted on the provisional calendar of a year not yet loaded';

GRANT SELECT ON pubdata.objection_overview TO pubdata_admin, pubdata_department, pubdata_auditor;
-- the audit office reads no record's values: not the keys of the tickets, not
-- the details of their events (a correction's key); objection_overview
-- gives it the keys with personal values redacted
REVOKE SELECT ON pubdata.objection, pubdata.objection_event FROM pubdata_auditor;
GRANT SELECT (id, resource_id, item, description, raised_by_department, raised_by_role, provider_id,
	raised_at, due_at, working_days, due_provisional, status, acknowledged_at, acknowledged_by,
	resolved_at, resolved_by, outcome, resolution_note, overdue, overdue_at)
	ON pubdata.objection TO pubdata_auditor;
GRANT SELECT (id, objection_id, at, kind, actor) ON pubdata.objection_event TO pubdata_auditor;
