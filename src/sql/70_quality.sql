-- ---------------------------------------------------------------------------
-- Quality (Art 15; GB/T 36344): validators, rules, one-scan measurement,
-- runs and results as a time series, scores, the optional rule trigger
-- ---------------------------------------------------------------------------

-- Validators (src/validate.c)
CREATE OR REPLACE FUNCTION pubdata.is_valid_id_card(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_id_card'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_id_card(text) IS
	'GB 11643 citizen identity number: 18 characters, province prefix, a birth date that exists and is not in the future, ISO 7064 MOD 11-2 check character (X in either case); STABLE because "not in the future" depends on today';

CREATE OR REPLACE FUNCTION pubdata.is_valid_uscc(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_uscc'
	LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_uscc(text) IS
	'GB 32100 unified social credit code: 18 characters from 0-9 and A-Y without I, O, S, V, Z (capitals only), MOD 31 check character';

CREATE OR REPLACE FUNCTION pubdata.is_valid_mobile(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_mobile'
	LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_mobile(text) IS
	'Mainland China mobile number: 11 digits 1[3-9]xxxxxxxxx, optionally prefixed +86, 0086 or 86; no spaces or dashes';

CREATE OR REPLACE FUNCTION pubdata.is_valid_admin_code(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pubdata_is_valid_admin_code'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata.is_valid_admin_code(text) IS
	'GB/T 2260 division code: 6 digits with a province prefix; where pubdata.region holds the code''s parent division (province of a city, city of a county), one of its codes';

GRANT EXECUTE ON FUNCTION pubdata.is_valid_id_card(text), pubdata.is_valid_uscc(text),
	pubdata.is_valid_mobile(text), pubdata.is_valid_admin_code(text)
	TO pubdata_admin, pubdata_department, pubdata_auditor;

-- _quality_may_see(resource, with_samples): admin, the provider, and (without samples) the auditor
CREATE OR REPLACE FUNCTION pubdata._quality_may_see(resource bigint, with_samples boolean) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pubdata.is_admin()
		OR (NOT $2 AND pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER'))
		OR EXISTS (SELECT 1 FROM pubdata.resource r
					WHERE r.id OPERATOR(pg_catalog.=) $1
					  AND r.provider_id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()))
$$;
COMMENT ON FUNCTION pubdata._quality_may_see(bigint, boolean) IS
	'Row-level security of the quality tables: the bureau, the providing department, and the auditor where no failing-row samples are shown';

ALTER TABLE pubdata.quality_rule ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.quality_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.quality_result ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.quality_flag ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS quality_rule_read ON pubdata.quality_rule;
CREATE POLICY quality_rule_read ON pubdata.quality_rule FOR SELECT
	USING (pubdata._quality_may_see(resource_id, false));
DROP POLICY IF EXISTS quality_run_read ON pubdata.quality_run;
CREATE POLICY quality_run_read ON pubdata.quality_run FOR SELECT
	USING (pubdata._quality_may_see(resource_id, false));
DROP POLICY IF EXISTS quality_result_read ON pubdata.quality_result;
CREATE POLICY quality_result_read ON pubdata.quality_result FOR SELECT
	USING (pubdata._quality_may_see((SELECT q.resource_id FROM pubdata.quality_run q WHERE q.id OPERATOR(pg_catalog.=) run_id), true));
ALTER TABLE pubdata.quality_result_partition ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS quality_result_partition_read ON pubdata.quality_result_partition;
CREATE POLICY quality_result_partition_read ON pubdata.quality_result_partition FOR SELECT
	USING (pubdata._quality_may_see((SELECT q.resource_id FROM pubdata.quality_run q WHERE q.id OPERATOR(pg_catalog.=) run_id), false));
DROP POLICY IF EXISTS quality_flag_read ON pubdata.quality_flag;
CREATE POLICY quality_flag_read ON pubdata.quality_flag FOR SELECT
	USING (pubdata._quality_may_see(resource_id, true));
GRANT SELECT ON pubdata.quality_rule, pubdata.quality_run, pubdata.quality_result,
	pubdata.quality_result_partition, pubdata.quality_flag
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata._quality_may_see(bigint, boolean) TO pubdata_admin, pubdata_department, pubdata_auditor;

-- C internals: compile a resource's rules (raises the rule's error), scan a resource
CREATE OR REPLACE FUNCTION pubdata._quality_compile(resource bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_quality_compile'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._quality_compile(bigint) IS
	'Internal: compiles every enabled rule of a resource against its table (regular expressions, bounds, custom expressions, reference types); raises the first error';

CREATE OR REPLACE FUNCTION pubdata._quality_scan(resource bigint,
	OUT rule_id bigint, OUT partition text, OUT rows_checked bigint, OUT rows_failed bigint,
	OUT samples jsonb, OUT newest timestamptz, OUT memory_used bigint, OUT workers integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pubdata_quality_scan'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._quality_scan(bigint) IS
	'Internal: evaluates every rule of a resource in one pass over its rows (a table, a partitioned table''s partitions, a view); one row per rule, per rule and partition, per partition, and a last one with rule_id and partition NULL giving the rows scanned, the peak memory and the parallel workers';

-- _quality_default_dimension(kind): GB/T 36344 dimension of each rule kind
CREATE OR REPLACE FUNCTION pubdata._quality_default_dimension(kind pubdata.quality_kind) RETURNS pubdata.quality_dimension
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT (CASE $1::text
		WHEN 'not_null' THEN 'completeness'
		WHEN 'unique' THEN 'accuracy'
		WHEN 'pattern' THEN 'normativeness'
		WHEN 'range' THEN 'accuracy'
		WHEN 'allowed_values' THEN 'normativeness'
		WHEN 'id_card' THEN 'normativeness'
		WHEN 'uscc' THEN 'normativeness'
		WHEN 'mobile' THEN 'normativeness'
		WHEN 'date_not_future' THEN 'accuracy'
		WHEN 'reference' THEN 'consistency'
		WHEN 'freshness' THEN 'timeliness'
		ELSE 'accuracy' END)::pubdata.quality_dimension
$$;
COMMENT ON FUNCTION pubdata._quality_default_dimension(pubdata.quality_kind) IS
	'GB/T 36344 dimension of a rule kind: formats and code lists are normativeness, nulls completeness, uniqueness/ranges/dates accuracy, references consistency, freshness timeliness';

-- _quality_require_provider(resource): the resource id when the caller provides it or is the bureau
CREATE OR REPLACE FUNCTION pubdata._quality_require_provider(resource text, action text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata.resource_id(resource);
	prov integer;
BEGIN
	IF pubdata.is_admin() THEN
		RETURN rid;
	END IF;
	SELECT r.provider_id INTO prov FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF prov IS DISTINCT FROM pubdata.current_department() THEN
		RAISE EXCEPTION 'permission denied to % of resource "%"', action, resource
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" does not act for the department that provides the resource.', pubdata.caller()),
				  HINT = 'Who collects is responsible (Art 15): the providing department or pubdata_admin sets and measures quality rules.';
	END IF;
	RETURN rid;
END
$$;
COMMENT ON FUNCTION pubdata._quality_require_provider(text, text) IS
	'Internal: a resource id when the caller is its provider or the bureau; an error otherwise';

-- _quality_may_reference(department, resource, item, created_by): may a reference
-- rule of this department's table test values against that column?  The check
-- reads the whole column whatever its row-level security, so the department
-- must see the whole column: it provides the resource, or the column is shared
-- unconditionally, or it holds a live grant of the column without a row scope.
-- A rule the bureau set is the bureau's decision.
CREATE OR REPLACE FUNCTION pubdata._quality_may_reference(department integer, ref_resource bigint, item text, created_by name)
	RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) $4
					AND pg_catalog.pg_has_role(a.oid, 'pubdata_admin', 'MEMBER'))
		OR EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $2
					AND r.provider_id OPERATOR(pg_catalog.=) $1)
		OR EXISTS (SELECT 1 FROM pubdata.resource r JOIN pubdata.resource_item i ON i.resource_id OPERATOR(pg_catalog.=) r.id
					WHERE r.id OPERATOR(pg_catalog.=) $2 AND r.status OPERATOR(pg_catalog.=) 'published'
					  AND r.share_class OPERATOR(pg_catalog.=) 'unconditional'
					  AND i.column_name::text OPERATOR(pg_catalog.=) $3 AND i.state OPERATOR(pg_catalog.=) 'current'
					  AND i.personal OPERATOR(pg_catalog.=) 'none'
					  AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional')
		OR EXISTS (SELECT 1 FROM pubdata.share_request g
					WHERE g.resource_id OPERATOR(pg_catalog.=) $2 AND g.requester_id OPERATOR(pg_catalog.=) $1
					  AND pubdata._grant_live(g)
					  AND (g.items IS NULL OR $3 OPERATOR(pg_catalog.=) ANY (g.items::text[]))
					  AND coalesce(g.row_scope, '{}'::jsonb) OPERATOR(pg_catalog.=) '{}'::jsonb)
$$;
COMMENT ON FUNCTION pubdata._quality_may_reference(integer, bigint, text, name) IS
	'Internal: whether a department may test values against a whole column of another resource (reference rules read it whatever its row-level security)';

-- add_quality_rule(resource, items[], kind, params, action): a new rule, checked against the table
CREATE OR REPLACE FUNCTION pubdata.add_quality_rule(resource text, items text[], kind text,
	params jsonb DEFAULT '{}', action text DEFAULT 'warn') RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'add quality rules');
	rel regclass;
	k pubdata.quality_kind := pubdata._check_enum(kind, 'pubdata.quality_kind', 'quality rule kind')::pubdata.quality_kind;
	act pubdata.quality_action := pubdata._check_enum(action, 'pubdata.quality_action', 'quality rule action')::pubdata.quality_action;
	dim pubdata.quality_dimension;
	allowed text[];
	bad text;
	it text;
	typ oid;
	n int := coalesce(pg_catalog.cardinality(items), 0);
	ref_rel regclass;
	ref_typ oid;
	new_id bigint;
BEGIN
	SELECT r.relation INTO rel FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF rel IS NULL THEN
		RAISE EXCEPTION 'resource "%" has no table', resource
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Quality rules check a registered table; this resource''s table was dropped.';
	END IF;
	IF params IS NULL OR pg_catalog.jsonb_typeof(params) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'quality rule parameters must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"regex": "^[0-9]{6}$"}''.';
	END IF;

	-- parameters each kind accepts
	allowed := CASE k::text
		WHEN 'pattern' THEN '{regex}'
		WHEN 'range' THEN '{min,max}'
		WHEN 'allowed_values' THEN '{values}'
		WHEN 'reference' THEN '{resource,item}'
		WHEN 'freshness' THEN '{grace}'
		WHEN 'custom' THEN '{expression}'
		ELSE '{}' END::text[] OPERATOR(pg_catalog.||) '{dimension}'::text[];
	SELECT pg_catalog.string_agg(key, ', ') INTO bad
	  FROM pg_catalog.jsonb_object_keys(params) key WHERE NOT key OPERATOR(pg_catalog.=) ANY (allowed);
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown parameter % for quality rule kind "%"', bad, k
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Kind ' || k::text || ' takes: ' || pg_catalog.array_to_string(allowed, ', ') || '.';
	END IF;
	dim := coalesce(pubdata._check_enum(params->>'dimension', 'pubdata.quality_dimension', 'quality dimension')::pubdata.quality_dimension,
					pubdata._quality_default_dimension(k));

	-- the items: columns of the table
	IF k::text IN ('custom') AND n OPERATOR(pg_catalog.>) 0 THEN
		RAISE EXCEPTION 'a custom quality rule takes no item'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass NULL as the item and name the columns in the expression.';
	ELSIF k::text NOT IN ('custom', 'freshness', 'not_null', 'unique') AND n OPERATOR(pg_catalog.<>) 1 THEN
		RAISE EXCEPTION 'a % quality rule checks exactly one item', k
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Add one rule per column.';
	ELSIF k::text IN ('not_null', 'unique') AND n OPERATOR(pg_catalog.=) 0 THEN
		RAISE EXCEPTION 'a % quality rule needs at least one item', k
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the column(s) to check.';
	ELSIF k::text = 'freshness' AND n OPERATOR(pg_catalog.>) 1 THEN
		RAISE EXCEPTION 'a freshness quality rule takes at most one item'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the column holding when each row was updated, or none.';
	END IF;
	FOREACH it IN ARRAY coalesce(items, '{}') LOOP
		SELECT a.atttypid INTO typ FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attname OPERATOR(pg_catalog.=) it
		   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'column "%" of resource "%" does not exist', it, resource
				USING ERRCODE = 'undefined_column',
					  HINT = 'Columns: ' || (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
											  FROM pg_catalog.pg_attribute a
											 WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) || '.';
		END IF;
		IF k::text IN ('date_not_future', 'freshness') AND typ NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
			RAISE EXCEPTION 'column "%" is of type %, not a date or timestamp', it, pg_catalog.format_type(typ, NULL)
				USING ERRCODE = 'datatype_mismatch', HINT = 'Kind ' || k::text || ' checks date, timestamp or timestamptz columns.';
		END IF;
	END LOOP;

	-- kind parameters
	IF k::text = 'pattern' AND pg_catalog.jsonb_typeof(params->'regex') IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION 'a pattern quality rule needs a "regex" string'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"regex": "^[0-9]{6}$"}'' (POSIX regular expression, unanchored unless you anchor it).';
	ELSIF k::text = 'range' AND params->'min' IS NULL AND params->'max' IS NULL THEN
		RAISE EXCEPTION 'a range quality rule needs "min", "max" or both'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"min": 0, "max": 150}'' (bounds included, in the column''s type).';
	ELSIF k::text = 'allowed_values' AND (pg_catalog.jsonb_typeof(params->'values') IS DISTINCT FROM 'array'
										 OR pg_catalog.jsonb_array_length(params->'values') OPERATOR(pg_catalog.=) 0) THEN
		RAISE EXCEPTION 'an allowed_values quality rule needs a non-empty "values" array'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"values": ["M", "F"]}''.';
	ELSIF k::text = 'custom' AND coalesce(btrim(params->>'expression'), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'a custom quality rule needs an "expression"'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'A boolean SQL expression over the row''s columns, e.g. ''{"expression": "end_date >= start_date"}''; a row fails when it is false.';
	ELSIF k::text = 'freshness' AND params ? 'grace' THEN
		PERFORM (params->>'grace')::interval;
	ELSIF k::text = 'reference' THEN
		SELECT r.relation INTO ref_rel FROM pubdata.resource r
		 WHERE r.code OPERATOR(pg_catalog.=) (params->>'resource') AND r.relation IS NOT NULL;
		IF ref_rel IS NULL THEN
			RAISE EXCEPTION 'referenced resource "%" does not exist or has no table', params->>'resource'
				USING ERRCODE = 'undefined_object', HINT = 'Name a registered resource: ''{"resource": "<code>", "item": "<column>"}''.';
		END IF;
		SELECT a.atttypid INTO ref_typ FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid OPERATOR(pg_catalog.=) ref_rel AND a.attname OPERATOR(pg_catalog.=) (params->>'item')
		   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
		IF ref_typ IS NULL THEN
			RAISE EXCEPTION 'column "%" of resource "%" does not exist', params->>'item', params->>'resource'
				USING ERRCODE = 'undefined_column', HINT = 'Name the referenced column in "item".';
		END IF;
		-- the check reads the referenced column whatever its row-level security:
		-- only a department that may read that column may test values against it
		IF NOT pubdata.is_admin()
		   AND (NOT pg_catalog.has_column_privilege(pubdata.caller(), ref_rel, (params->>'item')::name, 'SELECT')
				OR NOT pubdata._quality_may_reference(pubdata.current_department(),
						(SELECT r.id FROM pubdata.resource r WHERE r.code OPERATOR(pg_catalog.=) (params->>'resource')),
						params->>'item', pubdata.caller())) THEN
			RAISE EXCEPTION 'permission denied to reference column "%" of resource "%"', params->>'item', params->>'resource'
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = pg_catalog.format('Role "%s" may not read every row of that column (a reference rule reads the whole column, whatever a grant''s row scope).', pubdata.caller()),
					  HINT = 'Request access to the referenced resource first (pubdata.request_share), without a row scope.';
		END IF;
		IF ref_typ OPERATOR(pg_catalog.<>) typ THEN
			RAISE EXCEPTION 'column "%" is of type % but the referenced column is of type %', items[1],
				pg_catalog.format_type(typ, NULL), pg_catalog.format_type(ref_typ, NULL)
				USING ERRCODE = 'datatype_mismatch', HINT = 'Reference a column of the same type.';
		END IF;
	END IF;

	INSERT INTO pubdata.quality_rule (resource_id, items, kind, params, dimension, action, created_by)
	VALUES (rid, coalesce(items, '{}')::name[], k, params, dim, act, pubdata.caller())
	RETURNING id INTO new_id;
	-- compile every rule of the resource in C: bad regex, bounds, expressions fail here
	PERFORM pubdata._quality_compile(rid);
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION pubdata.add_quality_rule(text, text[], text, jsonb, text) IS
	'Adds a quality rule to a resource (its providing department or pubdata_admin); items are columns (several for a composite unique key); returns the rule id';

CREATE OR REPLACE FUNCTION pubdata.add_quality_rule(resource text, item text, kind text,
	params jsonb DEFAULT '{}', action text DEFAULT 'warn') RETURNS bigint
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata.add_quality_rule($1, CASE WHEN $2 IS NULL THEN '{}'::text[] ELSE ARRAY[$2] END, $3, $4, $5) $$;
COMMENT ON FUNCTION pubdata.add_quality_rule(text, text, text, jsonb, text) IS
	'Adds a quality rule on one item (NULL for custom and table freshness rules); returns the rule id';

-- drop_quality_rule(rule): remove a rule (its results go with it)
CREATE OR REPLACE FUNCTION pubdata.drop_quality_rule(rule bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	code text;
BEGIN
	SELECT r.code INTO code FROM pubdata.quality_rule q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.resource_id
	 WHERE q.id OPERATOR(pg_catalog.=) rule;
	IF code IS NULL THEN
		RAISE EXCEPTION 'quality rule % does not exist', rule
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT id, kind, items FROM pubdata.quality_rule.';
	END IF;
	PERFORM pubdata._quality_require_provider(code, 'drop quality rules');
	DELETE FROM pubdata.quality_rule WHERE id OPERATOR(pg_catalog.=) rule;
END
$$;
COMMENT ON FUNCTION pubdata.drop_quality_rule(bigint) IS 'Removes a quality rule and its results (providing department or pubdata_admin)';

-- set_quality_rule(rule, action, enabled): change what the trigger does, or switch a rule off
CREATE OR REPLACE FUNCTION pubdata.set_quality_rule(rule bigint, action text DEFAULT NULL, enabled boolean DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	code text;
	act pubdata.quality_action := pubdata._check_enum(action, 'pubdata.quality_action', 'quality rule action')::pubdata.quality_action;
BEGIN
	SELECT r.code INTO code FROM pubdata.quality_rule q JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) q.resource_id
	 WHERE q.id OPERATOR(pg_catalog.=) rule;
	IF code IS NULL THEN
		RAISE EXCEPTION 'quality rule % does not exist', rule
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT id, kind, items FROM pubdata.quality_rule.';
	END IF;
	PERFORM pubdata._quality_require_provider(code, 'change quality rules');
	UPDATE pubdata.quality_rule q
	   SET action = coalesce(act, q.action), enabled = coalesce(set_quality_rule.enabled, q.enabled)
	 WHERE q.id OPERATOR(pg_catalog.=) rule;
END
$$;
COMMENT ON FUNCTION pubdata.set_quality_rule(bigint, text, boolean) IS
	'Sets a quality rule''s trigger action (reject, flag, warn) and/or switches it on or off (providing department or pubdata_admin)';

-- _frequency_interval(frequency): how old a resource may be
CREATE OR REPLACE FUNCTION pubdata._frequency_interval(f pubdata.update_frequency) RETURNS interval
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE $1::text
		WHEN 'realtime' THEN interval '1 hour'
		WHEN 'hourly' THEN interval '1 hour'
		WHEN 'daily' THEN interval '1 day'
		WHEN 'weekly' THEN interval '7 days'
		WHEN 'monthly' THEN interval '1 month'
		WHEN 'quarterly' THEN interval '3 months'
		WHEN 'semiannual' THEN interval '6 months'
		WHEN 'annual' THEN interval '1 year'
		ELSE NULL END
$$;
COMMENT ON FUNCTION pubdata._frequency_interval(pubdata.update_frequency) IS
	'The age a resource may reach under its update frequency (realtime counts as hourly); NULL for on_demand';

-- measure_quality(resource): one scan, one run
CREATE OR REPLACE FUNCTION pubdata.measure_quality(resource text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = 'postgres'
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'measure the quality');
	res record;
	run bigint;
	total bigint := 0;
	rec record;
	fr record;
	newest timestamptz;
	last_job timestamptz;
	allowed interval;
	upheld integer;
	nruns integer;
	nfailed integer;
	has_jobs boolean;
	scan jsonb;
	mem bigint;
	nworkers integer;
	d_norm numeric;
	d_comp numeric;
	d_acc numeric;
	d_cons numeric;
	d_time numeric;
	d_access numeric;
BEGIN
	SELECT r.* INTO res FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF res.relation IS NULL THEN
		RAISE EXCEPTION 'resource "%" has no table', resource
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'The resource''s table was dropped.';
	END IF;
	INSERT INTO pubdata.quality_run (resource_id, started_at, measured_by)
	VALUES (rid, pg_catalog.clock_timestamp(), pubdata.caller()) RETURNING id INTO run;

	-- the scan's rows as JSON (no temporary table: a caller could have planted one)
	SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(s)) INTO scan FROM pubdata._quality_scan(rid) s;
	SELECT s.rows_checked, s.memory_used, s.workers INTO total, mem, nworkers
	  FROM pg_catalog.jsonb_to_recordset(scan) AS s(rule_id bigint, "partition" text, rows_checked bigint, memory_used bigint, workers integer)
	 WHERE s.rule_id IS NULL AND s."partition" IS NULL;

	-- row rules, for the resource and each of its partitions
	INSERT INTO pubdata.quality_result (run_id, rule_id, dimension, rows_checked, rows_failed, samples)
	SELECT run, s.rule_id, q.dimension, s.rows_checked, s.rows_failed, s.samples
	  FROM pg_catalog.jsonb_to_recordset(scan) AS s(rule_id bigint, "partition" text, rows_checked bigint, rows_failed bigint, samples jsonb)
	  JOIN pubdata.quality_rule q ON q.id OPERATOR(pg_catalog.=) s.rule_id
	 WHERE q.kind OPERATOR(pg_catalog.<>) 'freshness' AND s."partition" IS NULL;
	INSERT INTO pubdata.quality_result_partition (run_id, rule_id, "partition", rows_checked, rows_failed)
	SELECT run, s.rule_id, s."partition", s.rows_checked, s.rows_failed
	  FROM pg_catalog.jsonb_to_recordset(scan) AS s(rule_id bigint, "partition" text, rows_checked bigint, rows_failed bigint)
	 WHERE s.rule_id IS NOT NULL AND s."partition" IS NOT NULL;

	-- aggregation history, where the scheduler's tables exist
	has_jobs := pg_catalog.to_regclass('pubdata.job_run') IS NOT NULL AND pg_catalog.to_regclass('pubdata.job') IS NOT NULL
		AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a
			  WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('pubdata.job')
				AND a.attname IN ('resource_id', 'kind') AND NOT a.attisdropped) OPERATOR(pg_catalog.=) 2;
	IF has_jobs THEN
		EXECUTE 'SELECT pg_catalog.max(jr.finished_at) FILTER (WHERE jr.status::text OPERATOR(pg_catalog.=) ''succeeded''),
						pg_catalog.count(*) FILTER (WHERE jr.started_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval ''30 days'')),
						pg_catalog.count(*) FILTER (WHERE jr.started_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval ''30 days'')
												   AND jr.status::text OPERATOR(pg_catalog.<>) ''succeeded'' AND jr.status::text OPERATOR(pg_catalog.<>) ''running'')
				   FROM pubdata.job_run jr JOIN pubdata.job j ON j.id OPERATOR(pg_catalog.=) jr.job_id
				  WHERE j.resource_id OPERATOR(pg_catalog.=) $1 AND j.kind::text OPERATOR(pg_catalog.=) ''aggregation'''
		   INTO last_job, nruns, nfailed USING rid;
	END IF;

	-- freshness rules: newest row (from the scan) or last successful aggregation against the frequency
	allowed := pubdata._frequency_interval(res.update_frequency);
	FOR fr IN SELECT q.id, q.dimension, q.params, s.newest, q.items
				FROM pubdata.quality_rule q
				LEFT JOIN pg_catalog.jsonb_to_recordset(scan) AS s(rule_id bigint, "partition" text, newest timestamptz)
				  ON s.rule_id OPERATOR(pg_catalog.=) q.id AND s."partition" IS NULL
			   WHERE q.resource_id OPERATOR(pg_catalog.=) rid AND q.enabled AND q.kind OPERATOR(pg_catalog.=) 'freshness'
	LOOP
		newest := CASE WHEN fr.newest IS NULL THEN last_job WHEN last_job IS NULL THEN fr.newest
					   ELSE GREATEST(fr.newest, last_job) END;
		IF newest IS NULL AND pg_catalog.cardinality(fr.items) OPERATOR(pg_catalog.=) 0 THEN
			newest := res.updated_at;
		END IF;
		INSERT INTO pubdata.quality_result (run_id, rule_id, dimension, rows_checked, rows_failed, samples)
		VALUES (run, fr.id, fr.dimension, 1,
				CASE WHEN allowed IS NULL THEN 0
					 WHEN newest IS NULL THEN 1
					 WHEN (pg_catalog.now() OPERATOR(pg_catalog.-) newest)
						  OPERATOR(pg_catalog.>) (allowed OPERATOR(pg_catalog.+) coalesce((fr.params->>'grace')::interval, interval '0')) THEN 1
					 ELSE 0 END,
				pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
					'newest', newest, 'last_aggregation', last_job, 'allowed_age', allowed::text)));
	END LOOP;

	-- upheld objections, where the objection table exists
	IF pg_catalog.to_regclass('pubdata.objection') IS NOT NULL
	   AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a
			 WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('pubdata.objection')
			   AND a.attname IN ('resource_id', 'outcome', 'raised_at') AND NOT a.attisdropped) OPERATOR(pg_catalog.=) 3 THEN
		EXECUTE 'SELECT pg_catalog.count(*)::int FROM pubdata.objection o
				  WHERE o.resource_id OPERATOR(pg_catalog.=) $1 AND o.outcome::text OPERATOR(pg_catalog.=) ''corrected''
					AND o.raised_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval ''90 days'')'
		   INTO upheld USING rid;
	END IF;

	-- dimension scores: mean pass rate of the dimension's rules (x100); upheld
	-- objections scale accuracy down, failed aggregation runs timeliness, so
	-- that neither can ever raise a score
	SELECT pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'normativeness'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'completeness'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'accuracy'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'consistency'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'timeliness'),
		   pg_catalog.avg(c.pass) FILTER (WHERE c.dim OPERATOR(pg_catalog.=) 'accessibility')
	  INTO d_norm, d_comp, d_acc, d_cons, d_time, d_access
	  FROM (SELECT r.dimension::text AS dim,
				   100.0 OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) (r.rows_failed::numeric OPERATOR(pg_catalog./) r.rows_checked)) AS pass
			  FROM pubdata.quality_result r
			 WHERE r.run_id OPERATOR(pg_catalog.=) run AND r.rows_checked OPERATOR(pg_catalog.>) 0) c;
	IF upheld OPERATOR(pg_catalog.>) 0 THEN
		d_acc := coalesce(d_acc, 100) OPERATOR(pg_catalog.*)
			GREATEST(0, 1 OPERATOR(pg_catalog.-) (upheld::numeric OPERATOR(pg_catalog./) GREATEST(total, 1)));
	END IF;
	IF nruns OPERATOR(pg_catalog.>) 0 THEN
		d_time := coalesce(d_time, 100) OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) (nfailed::numeric OPERATOR(pg_catalog./) nruns));
	END IF;
	UPDATE pubdata.quality_run q SET
		finished_at = pg_catalog.clock_timestamp(),
		rows_checked = total,
		normativeness = pg_catalog.round(d_norm, 2),
		completeness = pg_catalog.round(d_comp, 2),
		accuracy = pg_catalog.round(d_acc, 2),
		consistency = pg_catalog.round(d_cons, 2),
		timeliness = pg_catalog.round(d_time, 2),
		accessibility = pg_catalog.round(d_access, 2),
		score = (SELECT pg_catalog.round(pg_catalog.avg(x), 2)
				   FROM pg_catalog.unnest(ARRAY[d_norm, d_comp, d_acc, d_cons, d_time, d_access]) x),
		objections_upheld = upheld,
		job_runs = nruns,
		job_runs_failed = nfailed,
		workers = nworkers,
		memory_used = mem
	 WHERE q.id OPERATOR(pg_catalog.=) run;
	PERFORM pubdata._progress_end();
	RETURN run;
END
$$;
COMMENT ON FUNCTION pubdata.measure_quality(text) IS
	'Measures a resource''s quality: every row rule in one pass over its rows (a table or materialized view as its owner, regardless of row-level security; a partitioned table''s partitions, with results per partition; a view by query as its owner), freshness, upheld objections and aggregation history; stores and returns a quality_run id';

-- Scores: the latest run per resource with the trend against the run before
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

CREATE OR REPLACE VIEW pubdata.quality_score_department AS
SELECT s.department, dp.name AS department_name,
	   pg_catalog.count(*) AS resources_measured,
	   pg_catalog.round(pg_catalog.avg(s.score), 2) AS score,
	   pg_catalog.round(pg_catalog.avg(s.previous_score), 2) AS previous_score,
	   pg_catalog.round(pg_catalog.avg(s.trend), 2) AS trend,
	   pg_catalog.min(s.score) AS worst_score,
	   pg_catalog.max(s.measured_at) AS last_measured_at
  FROM pubdata.quality_score s
  JOIN pubdata.department dp ON dp.code OPERATOR(pg_catalog.=) s.department
 GROUP BY s.department, dp.name;
COMMENT ON VIEW pubdata.quality_score_department IS
	'Quality per department (who collects is responsible, Art 15): mean of its resources'' latest scores, mean trend, worst resource';
GRANT SELECT ON pubdata.quality_score, pubdata.quality_score_department
	TO pubdata_admin, pubdata_department, pubdata_auditor;

-- The optional rule trigger
CREATE OR REPLACE FUNCTION pubdata.quality_check_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'pubdata_quality_check_trigger'
	LANGUAGE C;
COMMENT ON FUNCTION pubdata.quality_check_trigger() IS
	'BEFORE INSERT OR UPDATE row trigger enforcing a resource''s row rules by their action: reject, flag or warn (unique and freshness are not row rules)';

CREATE OR REPLACE FUNCTION pubdata.enable_quality_trigger(resource text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'enable the quality trigger');
	rel regclass;
BEGIN
	SELECT r.relation INTO rel FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF rel IS NULL THEN
		RAISE EXCEPTION 'resource "%" has no table', resource
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'The resource''s table was dropped.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) rel
				AND t.tgname OPERATOR(pg_catalog.=) 'pubdata_quality_check') THEN
		RETURN;
	END IF;
	EXECUTE pg_catalog.format('CREATE TRIGGER pubdata_quality_check BEFORE INSERT OR UPDATE ON %s '
							  'FOR EACH ROW EXECUTE FUNCTION pubdata.quality_check_trigger()', rel);
END
$$;
COMMENT ON FUNCTION pubdata.enable_quality_trigger(text) IS
	'Installs pubdata.quality_check_trigger() on a resource''s table (providing department or pubdata_admin)';

CREATE OR REPLACE FUNCTION pubdata.disable_quality_trigger(resource text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata._quality_require_provider(resource, 'disable the quality trigger');
	rel regclass;
BEGIN
	SELECT r.relation INTO rel FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF rel IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS pubdata_quality_check ON %s', rel);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.disable_quality_trigger(text) IS 'Removes the quality trigger from a resource''s table';

GRANT EXECUTE ON FUNCTION pubdata.add_quality_rule(text, text[], text, jsonb, text),
	pubdata.add_quality_rule(text, text, text, jsonb, text), pubdata.drop_quality_rule(bigint),
	pubdata.set_quality_rule(bigint, text, boolean),
	pubdata.measure_quality(text), pubdata.enable_quality_trigger(text), pubdata.disable_quality_trigger(text)
	TO pubdata_admin, pubdata_department;
