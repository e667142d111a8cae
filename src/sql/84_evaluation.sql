-- ---------------------------------------------------------------------------
-- Department evaluation (Art 30): weights and reports (the weights table:
-- once/84_evaluation.sql).
-- ---------------------------------------------------------------------------

-- Restoring a dump: the dumped weights replace the defaults CREATE EXTENSION inserted
CREATE OR REPLACE FUNCTION pubdata._evaluation_weight_replace() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	DELETE FROM pubdata.evaluation_weight w WHERE w.indicator OPERATOR(pg_catalog.=) NEW.indicator;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION pubdata._evaluation_weight_replace() IS 'A weight inserted (by a restore) replaces the default (internal)';
CREATE OR REPLACE TRIGGER evaluation_weight_replace BEFORE INSERT ON pubdata.evaluation_weight
	FOR EACH ROW EXECUTE FUNCTION pubdata._evaluation_weight_replace();

-- _eval_col(relation, candidates): the first of the candidate columns the relation has
CREATE OR REPLACE FUNCTION pubdata._eval_col(rel text, candidates text[]) RETURNS name
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
CREATE OR REPLACE FUNCTION pubdata._eval_map(q text, t0 timestamptz, t1 timestamptz) RETURNS jsonb
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
CREATE OR REPLACE FUNCTION pubdata._require_evaluation_reader() RETURNS void
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
CREATE OR REPLACE FUNCTION pubdata.evaluation_report(period_start date, period_end date) RETURNS jsonb
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
