-- ---------------------------------------------------------------------------
-- Exports other tools accept (issue 12): OpenLineage run ids as UUIDv7, a
-- START and a COMPLETE per run, a dataset namespace that does not depend on
-- the connection (pubdata.lineage_namespace).  The DCAT-AP changes are in C.
-- ---------------------------------------------------------------------------

-- RFC 9562 (was 4122) UUID version 7: the 48-bit Unix time in milliseconds,
-- then the version and variant, the rest from an md5 of the seed, so that
-- the same run always gets the same id and ids sort by time
CREATE FUNCTION pubdata._uuid_v7(at timestamptz, seed text) RETURNS uuid
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT (pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.floor(pg_catalog.date_part('epoch', $1) * 1000)::bigint), 12, '0')
			|| '7' || pg_catalog.substr(h, 1, 3)
			|| pg_catalog.substr('89ab', pg_catalog.get_byte(pg_catalog.decode(h, 'hex'), 15) % 4 + 1, 1)
			|| pg_catalog.substr(h, 4, 15))::pg_catalog.uuid
	  FROM pg_catalog.md5($2) h
$$;
COMMENT ON FUNCTION pubdata._uuid_v7(timestamptz, text) IS
	'Internal: the UUIDv7 of a time, its other bits from the md5 of seed (stable: one id per run)';

CREATE OR REPLACE FUNCTION pubdata.lineage_openlineage(relation regclass) RETURNS jsonb
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel pg_catalog.oid := lineage_openlineage.relation;
	privileged boolean := pubdata._lineage_check_start(lineage_openlineage.relation, 1);
	-- the same whatever address the client connected to
	ns text := coalesce(NULLIF(pg_catalog.current_setting('pubdata.lineage_namespace', true), ''),
		'postgres://localhost:' || pg_catalog.current_setting('port'));
	db text := pg_catalog.current_database();
	-- a URN: pubdata has no public home page to name
	producer text := 'urn:pubdata:'
		|| (SELECT x.extversion FROM pg_catalog.pg_extension x WHERE x.extname OPERATOR(pg_catalog.=) 'pubdata');
	out_name text;
	event_at timestamptz;
	agg_run bigint;
	hidden integer;
	inputs text[];
BEGIN
	SELECT db || '.' || n.nspname || '.' || c.relname INTO out_name
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	 WHERE c.oid OPERATOR(pg_catalog.=) rel;

	WITH src AS (
		SELECT e.source_key, pg_catalog.min(e.source::pg_catalog.oid) AS source_oid,
			   pg_catalog.max(e.source_name) AS source_name,
			   pg_catalog.string_agg(DISTINCT e.kind::text, ',') AS kinds,
			   pg_catalog.sum(e.count)::bigint AS count,
			   pg_catalog.min(e.first_seen) AS first_seen, pg_catalog.max(e.last_seen) AS last_seen,
			   pg_catalog.max(e.last_run_id) FILTER (WHERE e.kind OPERATOR(pg_catalog.=) 'aggregation') AS run
		  FROM pubdata.lineage_edge e
		 WHERE e.target::pg_catalog.oid OPERATOR(pg_catalog.=) rel
		 GROUP BY e.source_key
	), shown AS (
		SELECT s.*, pubdata._lineage_visible(s.source_oid, privileged) AS ok FROM src s
	)
	SELECT pg_catalog.max(s.last_seen), pg_catalog.max(s.run),
		   pg_catalog.count(*) FILTER (WHERE NOT s.ok),
		   pg_catalog.array_agg(ARRAY[
				CASE WHEN s.source_oid IS NULL THEN 'pubdata-external' ELSE ns END,
				CASE WHEN s.source_oid IS NULL THEN s.source_name
					 ELSE coalesce((SELECT db || '.' || n.nspname || '.' || c.relname
									  FROM pg_catalog.pg_class c
									  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
									 WHERE c.oid OPERATOR(pg_catalog.=) s.source_oid),
								   db || '.' || s.source_name) END,
				(SELECT r.code FROM pubdata.resource r WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) s.source_oid),
				pubdata._lineage_department(s.source_oid),
				s.kinds, s.count::text,
				pg_catalog.to_char(s.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
				pg_catalog.to_char(s.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')]
				ORDER BY s.source_name) FILTER (WHERE s.ok)
	  INTO event_at, agg_run, hidden, inputs
	  FROM shown s;

	event_at := coalesce(event_at, pg_catalog.statement_timestamp());
	RETURN pubdata._openlineage_build(
		pg_catalog.to_char(event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		pubdata._uuid_v7(event_at, db || ':' || rel::text || ':' || event_at::text)::text,
		producer,
		'pubdata://' || db,
		'produce:' || pg_catalog.substr(out_name, pg_catalog.length(db) OPERATOR(pg_catalog.+) 2),
		agg_run, hidden,
		ARRAY[ns, out_name,
			  (SELECT r.code FROM pubdata.resource r WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) rel),
			  pubdata._lineage_department(rel)],
		inputs)::jsonb;
END
$$;
COMMENT ON FUNCTION pubdata.lineage_openlineage(regclass) IS
	'The OpenLineage COMPLETE RunEvent (JSON) of the edges that produce a table: job, run (UUIDv7), input datasets with pubdata facets, the output with its owning department';

-- the run's two events, START (at the first write seen) and COMPLETE; an
-- invoker's function, so that lineage_openlineage checks the caller's rights
CREATE FUNCTION pubdata.lineage_openlineage_events(relation regclass) RETURNS SETOF jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH complete AS (SELECT pubdata.lineage_openlineage($1) AS e)
	SELECT pg_catalog.jsonb_set(pg_catalog.jsonb_set(c.e, '{eventType}', '"START"'), '{eventTime}',
			pg_catalog.to_jsonb(coalesce(
				(SELECT pg_catalog.min(i.value -> 'facets' -> 'pubdata_lineage' ->> 'firstSeen')
				   FROM pg_catalog.jsonb_array_elements(c.e -> 'inputs') i),
				c.e ->> 'eventTime')))
	  FROM complete c
	UNION ALL
	SELECT c.e FROM complete c
$$;
COMMENT ON FUNCTION pubdata.lineage_openlineage_events(regclass) IS
	'The OpenLineage run of the edges that produce a table as its two RunEvents, START (first write seen) then COMPLETE, with one runId';

REVOKE ALL ON FUNCTION pubdata._uuid_v7(timestamptz, text), pubdata.lineage_openlineage_events(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata.lineage_openlineage_events(regclass) TO pubdata_admin, pubdata_department, pubdata_auditor;

