-- 0.2: the access audit at volume (issue 18): filtered reads that skip the
-- segments outside their time range, per-day usage summaries kept by the
-- launcher (usage_stats and the evaluation read them), incremental
-- verification, a benchmark helper.  As src/sql/52_audit_volume.sql.

DROP VIEW pubdata.usage_stats;

-- ---------------------------------------------------------------------------
-- The access audit at volume (issue 18): reads that skip what they do not
-- need (src/audit_query.c), per-day usage summaries kept by the launcher,
-- and a benchmark helper.
-- ---------------------------------------------------------------------------

CREATE FUNCTION pubdata._audit_records_where(
	since timestamptz, before timestamptz, after_seq bigint, upto_seq bigint,
	of_resource text, of_department text, of_role text, of_grant bigint,
	OUT seq bigint, OUT at timestamptz, OUT database oid, OUT role_name text,
	OUT department_id integer, OUT department_code text, OUT resources text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT hash text, OUT grants text, OUT outcome text, OUT statement text, OUT masked text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_records_where';
COMMENT ON FUNCTION pubdata._audit_records_where(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint) IS
	'The audit records of this database that can give an access_log row matching every filter given (NULL: none), reading only the segments that can hold them (internal: use pubdata.audit_records)';

-- _access_rows: access_log's rows of the records _audit_records_where picks,
-- with the row filters applied exactly as a WHERE on access_log would
CREATE FUNCTION pubdata._access_rows(
	since timestamptz, before timestamptz, after_seq bigint, upto_seq bigint,
	resource text, department text, role_name text, grant_id bigint)
	RETURNS SETOF pubdata.access_log
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT r.at, r.role_name, r.department_code, res.resource,
		   CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END,
		   r.purpose, r.command, r.query_id, r.rows, r.seq, r.hash,
		   g.ids, r.outcome, r.statement, NULLIF(res.masked, '')
	  FROM pubdata._audit_records_where($1, $2, $3, $4, $5, $6, $7, $8) r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.grants, ';')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS res(resource, grant_group, masked) ON true
	  LEFT JOIN LATERAL (SELECT pg_catalog.string_to_array(NULLIF(res.grant_group, ''), ',')::bigint[] AS ids) g ON true
	 WHERE ($5 IS NULL OR res.resource OPERATOR(pg_catalog.=) $5)
	   AND ($8 IS NULL OR $8 OPERATOR(pg_catalog.=) (CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END)
			OR $8 OPERATOR(pg_catalog.=) ANY (g.ids))
$$;
COMMENT ON FUNCTION pubdata._access_rows(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint) IS
	'access_log rows from the records after after_seq up to upto_seq, in a time range, by resource, department, role or grant (internal)';

CREATE FUNCTION pubdata.audit_records(
	since timestamptz, before timestamptz,
	resource text DEFAULT NULL, department text DEFAULT NULL,
	role_name text DEFAULT NULL, grant_id bigint DEFAULT NULL)
	RETURNS SETOF pubdata.access_log
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT * FROM pubdata._access_rows($1, $2, NULL, NULL, $3, $4, $5, $6)
$$;
COMMENT ON FUNCTION pubdata.audit_records(timestamptz, timestamptz, text, text, text, bigint) IS
	'The rows of access_log with since <= at < before (NULL: unbounded) and the resource, department, role and grant given (NULL: any; a grant matches grant_id or any of grant_ids), reading only the audit segments of that time';

-- my_audit_records: my_access_log's rows in a time range, filtered the same way
CREATE FUNCTION pubdata.my_audit_records(
	since timestamptz, before timestamptz,
	resource text DEFAULT NULL, department text DEFAULT NULL,
	role_name text DEFAULT NULL, grant_id bigint DEFAULT NULL)
	RETURNS SETOF pubdata.my_access_log
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH me AS (SELECT pubdata.current_department() AS id)
	SELECT r.at, r.role_name, r.department_code, x.resource, r.grant_id, r.purpose,
		   r.command, r.query_id, r.rows, r.seq,
		   coalesce(res.provider_id OPERATOR(pg_catalog.=) me.id, false), r.outcome, NULLIF(x.masked, '')
	  FROM me
	 CROSS JOIN pubdata._audit_records_where($1, $2, NULL, NULL, $3, $4, $5, $6) r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS x(resource, masked) ON true
	  LEFT JOIN pubdata.resource res ON res.code OPERATOR(pg_catalog.=) x.resource
	 WHERE (r.department_id OPERATOR(pg_catalog.=) me.id
			OR res.provider_id OPERATOR(pg_catalog.=) me.id)
	   AND ($3 IS NULL OR x.resource OPERATOR(pg_catalog.=) $3)
	   AND ($6 IS NULL OR r.grant_id OPERATOR(pg_catalog.=) $6)
	 ORDER BY r.seq
$$;
COMMENT ON FUNCTION pubdata.my_audit_records(timestamptz, timestamptz, text, text, text, bigint) IS
	'For departments: the rows of my_access_log with since <= at < before (NULL: unbounded) and the resource, department, role and grant given (NULL: any), reading only the audit segments of that time';

-- ---------------------------------------------------------------------------
-- Usage summaries: access_log's rows counted per local day (Asia/Shanghai, as
-- the evaluation's periods), reading department, resource, role and grant,
-- for the records up to summarised_seq.  A cache of the log, not evidence:
-- it is rebuilt by emptying it and setting summarised_seq to 0.
-- ---------------------------------------------------------------------------
CREATE TABLE pubdata.audit_usage_day (
	day			date NOT NULL,
	department	text,
	resource	text,
	role_name	text,
	grant_id	bigint,
	statements	bigint NOT NULL,
	rows		numeric NOT NULL,
	first_at	timestamptz NOT NULL,
	last_at		timestamptz NOT NULL,
	CONSTRAINT audit_usage_day_key UNIQUE NULLS NOT DISTINCT (day, department, resource, role_name, grant_id)
);
COMMENT ON TABLE pubdata.audit_usage_day IS
	'Per-day usage summaries of the access audit (Asia/Shanghai days) for the records up to audit_usage_state.summarised_seq, kept by the launcher; usage_stats adds the unsummarised tail';
COMMENT ON COLUMN pubdata.audit_usage_day.statements IS 'access_log rows (audited statements reading the resource) that day';
COMMENT ON COLUMN pubdata.audit_usage_day.rows IS 'rows those statements returned';

CREATE TABLE pubdata.audit_usage_state (
	one				boolean PRIMARY KEY DEFAULT true CHECK (one),
	summarised_seq	bigint NOT NULL,
	summarised_at	timestamptz
);
COMMENT ON TABLE pubdata.audit_usage_state IS
	'How far pubdata.audit_usage_day goes: every audit record up to summarised_seq (of this database) is counted there';
INSERT INTO pubdata.audit_usage_state VALUES (true, 0, NULL);

-- audit_summarise(): count the records written since the last summary into
-- audit_usage_day; returns how many records it went through
CREATE FUNCTION pubdata.audit_summarise() RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s bigint;
	h bigint;
BEGIN
	SELECT st.summarised_seq INTO s FROM pubdata.audit_usage_state st FOR UPDATE;
	SELECT c.seq INTO h FROM pubdata.audit_chain_head() c;
	IF h IS NULL OR h OPERATOR(pg_catalog.<=) s THEN
		RETURN 0;
	END IF;
	INSERT INTO pubdata.audit_usage_day AS u
		(day, department, resource, role_name, grant_id, statements, rows, first_at, last_at)
	SELECT pg_catalog.timezone('Asia/Shanghai', l.at)::date, l.department, l.resource, l.role_name, l.grant_id,
		   pg_catalog.count(*), pg_catalog.sum(l.rows), pg_catalog.min(l.at), pg_catalog.max(l.at)
	  FROM pubdata._access_rows(NULL, NULL, s, h, NULL, NULL, NULL, NULL) l
	 GROUP BY 1, 2, 3, 4, 5
	ON CONFLICT ON CONSTRAINT audit_usage_day_key DO UPDATE
	   SET statements = u.statements OPERATOR(pg_catalog.+) excluded.statements,
		   rows = u.rows OPERATOR(pg_catalog.+) excluded.rows,
		   first_at = LEAST(u.first_at, excluded.first_at),
		   last_at = GREATEST(u.last_at, excluded.last_at);
	UPDATE pubdata.audit_usage_state SET summarised_seq = h, summarised_at = pg_catalog.now();
	RETURN h OPERATOR(pg_catalog.-) s;
END
$$;
COMMENT ON FUNCTION pubdata.audit_summarise() IS
	'Count the access audit records written since the last summary into the per-day usage summaries (the launcher calls it every minute); returns the records gone through';

-- _usage_reads(t0, t1): access_log rows per reading department with
-- t0 <= at < t1: whole local days from the summaries, the rest (the
-- unsummarised tail, and parts of a day at either end) from the log
CREATE FUNCTION pubdata._usage_reads(t0 timestamptz, t1 timestamptz,
	OUT department text, OUT statements bigint)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH st AS MATERIALIZED (SELECT s.summarised_seq AS s FROM pubdata.audit_usage_state s LIMIT 1),
	lt AS (SELECT pg_catalog.timezone('Asia/Shanghai', $1) AS l0, pg_catalog.timezone('Asia/Shanghai', $2) AS l1),
	days AS (SELECT CASE WHEN lt.l0 OPERATOR(pg_catalog.=) pg_catalog.date_trunc('day', lt.l0)
						 THEN lt.l0::date ELSE lt.l0::date OPERATOR(pg_catalog.+) 1 END AS d0,
					lt.l1::date AS d1 FROM lt),
	b AS (SELECT days.d0, pg_catalog.max(x) AS d1,
				 pg_catalog.timezone('Asia/Shanghai', days.d0::timestamp) AS b0,
				 pg_catalog.timezone('Asia/Shanghai', pg_catalog.max(x)::timestamp) AS b1
			FROM days, LATERAL (VALUES (days.d0), (days.d1)) v(x) GROUP BY days.d0)
	SELECT u.department, pg_catalog.sum(u.n)::bigint FROM (
		SELECT d.department, d.statements AS n
		  FROM pubdata.audit_usage_day d, b
		 WHERE d.day OPERATOR(pg_catalog.>=) b.d0 AND d.day OPERATOR(pg_catalog.<) b.d1
		UNION ALL
		SELECT l.department, 1 FROM st, pubdata._access_rows($1, $2, st.s, NULL, NULL, NULL, NULL, NULL) l
		UNION ALL
		SELECT l.department, 1 FROM st, b, pubdata._access_rows($1, LEAST(b.b0, $2), NULL, st.s, NULL, NULL, NULL, NULL) l
		UNION ALL
		SELECT l.department, 1 FROM st, b, pubdata._access_rows(GREATEST(b.b1, $1), $2, NULL, st.s, NULL, NULL, NULL, NULL) l
		 WHERE b.b1 OPERATOR(pg_catalog.<) $2) u
	 GROUP BY u.department
$$;
COMMENT ON FUNCTION pubdata._usage_reads(timestamptz, timestamptz) IS
	'access_log rows per reading department in a time range, from the usage summaries and the log (internal: the evaluation''s shared data used)';

CREATE VIEW pubdata.usage_stats AS
	WITH u AS (
		SELECT d.department, d.resource, d.role_name, d.grant_id, d.statements, d.rows, d.first_at, d.last_at
		  FROM pubdata.audit_usage_day d
		UNION ALL
		SELECT l.department, l.resource, l.role_name, l.grant_id, 1, l.rows, l.at, l.at
		  FROM pubdata._access_rows(NULL, NULL, (SELECT s.summarised_seq FROM pubdata.audit_usage_state s),
									NULL, NULL, NULL, NULL, NULL) l)
	SELECT u.department, u.resource, p.code AS provider,
		   pg_catalog.sum(u.statements)::bigint AS statements,
		   pg_catalog.sum(u.rows) AS rows,
		   pg_catalog.count(DISTINCT u.role_name) AS roles,
		   pg_catalog.count(DISTINCT u.grant_id) AS grants,
		   pg_catalog.min(u.first_at) AS first_at,
		   pg_catalog.max(u.last_at) AS last_at
	  FROM u
	  LEFT JOIN pubdata.resource r ON r.code OPERATOR(pg_catalog.=) u.resource
	  LEFT JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) r.provider_id
	 GROUP BY u.department, u.resource, p.code;
COMMENT ON VIEW pubdata.usage_stats IS
	'Use of shared data (Art 15, 27) per reading department and resource, from the access audit: the per-day summaries plus the records written since';
COMMENT ON COLUMN pubdata.usage_stats.provider IS 'code of the department that provides the resource';
COMMENT ON COLUMN pubdata.usage_stats.statements IS 'audited statements that read the resource';
COMMENT ON COLUMN pubdata.usage_stats.rows IS 'rows those statements returned (a statement reading several resources counts for each)';
COMMENT ON COLUMN pubdata.usage_stats.roles IS 'distinct roles that read';
COMMENT ON COLUMN pubdata.usage_stats.grants IS 'distinct grants relied on';


GRANT EXECUTE ON FUNCTION pubdata._audit_records_where(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint),
	pubdata._access_rows(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint),
	pubdata.audit_records(timestamptz, timestamptz, text, text, text, bigint),
	pubdata._usage_reads(timestamptz, timestamptz) TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.audit_summarise() TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.my_audit_records(timestamptz, timestamptz, text, text, text, bigint) TO pubdata_department;
GRANT SELECT ON pubdata.audit_usage_day, pubdata.audit_usage_state, pubdata.usage_stats TO pubdata_admin, pubdata_auditor;

CREATE FUNCTION pubdata.verify_audit_chain_incremental(
	OUT ok boolean, OUT records bigint, OUT first_broken_seq bigint, OUT detail text)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_verify_audit_chain_incremental';
COMMENT ON FUNCTION pubdata.verify_audit_chain_incremental() IS
	'Verify only the access audit records written since the last verification that found the chain intact (the verified prefix it remembered, checked to be still in the log unchanged), up to the heads in shared memory and the state file; the whole chain when no prefix is remembered';
GRANT EXECUTE ON FUNCTION pubdata.verify_audit_chain_incremental() TO pubdata_admin, pubdata_auditor;

-- for benchmarks only (superusers): a synthetic log through the real write path
CREATE FUNCTION pubdata._audit_bench_fill(n bigint, days integer DEFAULT 30,
	resources integer DEFAULT 50, departments integer DEFAULT 20) RETURNS bigint
	LANGUAGE C VOLATILE STRICT
	AS 'MODULE_PATHNAME', 'pubdata_audit_bench_fill';
COMMENT ON FUNCTION pubdata._audit_bench_fill(bigint, integer, integer, integer) IS
	'Benchmarks only, superusers only: append n synthetic access audit records dated over the last days days (never on a production log)';

REVOKE ALL ON FUNCTION pubdata._audit_records_where(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint),
	pubdata._access_rows(timestamptz, timestamptz, bigint, bigint, text, text, text, bigint),
	pubdata.audit_records(timestamptz, timestamptz, text, text, text, bigint),
	pubdata.my_audit_records(timestamptz, timestamptz, text, text, text, bigint),
	pubdata._usage_reads(timestamptz, timestamptz), pubdata.audit_summarise(),
	pubdata._audit_bench_fill(bigint, integer, integer, integer),
	pubdata.verify_audit_chain_incremental() FROM PUBLIC;
REVOKE ALL ON pubdata.audit_usage_day, pubdata.audit_usage_state, pubdata.usage_stats FROM PUBLIC;

-- the evaluation's shared data used comes from the summaries (84_evaluation.sql)
-- evaluation(period_start, period_end): one row per department
CREATE OR REPLACE FUNCTION pubdata.evaluation(period_start date, period_end date)
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
	-- the period in the city's local time (pubdata.timezone), both days included
	t0 := pg_catalog.timezone(pubdata._timezone(), period_start::timestamp);
	t1 := pg_catalog.timezone(pubdata._timezone(), (period_end OPERATOR(pg_catalog.+) 1)::timestamp);

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

	-- shared data used (Art 19, 28): reads recorded by the access audit, from
	-- the per-day usage summaries and the log's unsummarised tail
	m_reads := pubdata._eval_map(
		'SELECT d.id, pg_catalog.sum(u.statements) FROM pubdata._usage_reads($1, $2) u JOIN pubdata.department d
			 ON u.department IN (d.code, d.id::text) GROUP BY d.id', t0, t1);

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
