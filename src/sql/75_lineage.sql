-- ---------------------------------------------------------------------------
-- Lineage (Art 19(2), 24): edges, observation, walks and OpenLineage
-- (tables: once/75_lineage.sql).
-- ---------------------------------------------------------------------------

-- _lineage_columns_union(parts): the distinct column mappings of several edges' columns
CREATE OR REPLACE FUNCTION pubdata._lineage_columns_union(VARIADIC parts jsonb[]) RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.jsonb_agg(DISTINCT e ORDER BY e)
	  FROM pg_catalog.unnest($1) p, pg_catalog.jsonb_array_elements(p) e
$$;
COMMENT ON FUNCTION pubdata._lineage_columns_union(jsonb[]) IS
	'Internal: the union of lineage column arrays ([target column, source column, transform] each), NULL when all are';

-- the edges as users read them: folded rows plus observations not yet folded,
-- then the ended edges (history)
CREATE OR REPLACE VIEW pubdata.lineage_edge AS
	WITH obs AS (
		SELECT CASE WHEN o.source IS NULL THEN 'external:' || o.source_name ELSE (o.source::oid)::text END AS source_key,
			   o.target, o.kind, o.role_name,
			   pg_catalog.min(o.source::oid) AS source_oid,
			   (pg_catalog.array_agg(o.source_name ORDER BY o.last_seen DESC))[1] AS source_name,
			   (pg_catalog.array_agg(o.target_name ORDER BY o.last_seen DESC))[1] AS target_name,
			   pg_catalog.min(o.first_seen) AS first_seen, pg_catalog.max(o.last_seen) AS last_seen,
			   pg_catalog.sum(o.count)::bigint AS count,
			   (pg_catalog.array_agg(o.run_id ORDER BY o.last_seen DESC) FILTER (WHERE o.run_id IS NOT NULL))[1] AS run_id,
			   pubdata._lineage_columns_union(VARIADIC pg_catalog.array_agg(o.columns)) AS columns
		  FROM pubdata.lineage_observation o
		 GROUP BY 1, 2, 3, 4
	), live AS (
		SELECT * FROM pubdata.lineage_edge_data WHERE ended_at IS NULL
	)
	SELECT d.id,
		   coalesce(d.source, o.source_oid::regclass) AS source,
		   coalesce(o.source_name, d.source_name) AS source_name,
		   coalesce(d.target, o.target) AS target,
		   coalesce(o.target_name, d.target_name) AS target_name,
		   coalesce(d.kind, o.kind) AS kind,
		   coalesce(d.role_name, o.role_name) AS role_name,
		   LEAST(d.first_seen, o.first_seen) AS first_seen,
		   GREATEST(d.last_seen, o.last_seen) AS last_seen,
		   (coalesce(d.count, 0) + coalesce(o.count, 0))::bigint AS count,
		   coalesce(o.run_id, d.last_run_id) AS last_run_id,
		   coalesce(d.source_key, o.source_key) AS source_key,
		   pubdata._lineage_columns_union(d.columns, o.columns) AS columns,
		   NULL::timestamptz AS ended_at
	  FROM live d
	  FULL JOIN obs o ON o.source_key = d.source_key AND o.target::oid = d.target::oid
					 AND o.kind = d.kind AND o.role_name = d.role_name
	UNION ALL
	SELECT e.id, e.source, e.source_name, e.target, e.target_name, e.kind, e.role_name, e.first_seen, e.last_seen,
		   e.count, e.last_run_id, e.source_key, e.columns, e.ended_at
	  FROM pubdata.lineage_edge_data e
	 WHERE e.ended_at IS NOT NULL;
COMMENT ON VIEW pubdata.lineage_edge IS
	'Lineage: one row per (source, target, kind, role); written in the transaction that moved the data, so a rolled-back write leaves none';
COMMENT ON COLUMN pubdata.lineage_edge.id IS 'id of the folded edge (NULL until lineage_compact() folds a new edge)';
COMMENT ON COLUMN pubdata.lineage_edge.source IS 'the relation read; NULL for an external source (a county database, a file) named by source_name';
COMMENT ON COLUMN pubdata.lineage_edge.source_name IS 'schema-qualified name of the source when last seen (kept when the relation is dropped)';
COMMENT ON COLUMN pubdata.lineage_edge.target IS 'the relation written';
COMMENT ON COLUMN pubdata.lineage_edge.target_name IS 'schema-qualified name of the target when last seen';
COMMENT ON COLUMN pubdata.lineage_edge.kind IS 'how the data flowed (statement kind, view definition or aggregation run)';
COMMENT ON COLUMN pubdata.lineage_edge.role_name IS 'the role that made the edge (the session''s role, also inside SECURITY DEFINER functions)';
COMMENT ON COLUMN pubdata.lineage_edge.first_seen IS 'start of the first statement that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.last_seen IS 'start of the latest statement that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.count IS 'number of committed statements (or runs) that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.last_run_id IS 'the latest aggregation job run (pubdata.job_run) that made the edge';
COMMENT ON COLUMN pubdata.lineage_edge.source_key IS 'identity of the source: its oid, or external:<name>';
COMMENT ON COLUMN pubdata.lineage_edge.columns IS
	'column lineage: a JSON array of ["target column", "source column", "identity" | "transformation" | "aggregation"], NULL when not known (external sources, edges recorded by 0.1)';
COMMENT ON COLUMN pubdata.lineage_edge.ended_at IS
	'when the edge ended (a view no longer reading the source, a dropped view); NULL for a live edge';

-- _lineage_relname(oid): schema-qualified, quoted name of a relation, or NULL
CREATE OR REPLACE FUNCTION pubdata._lineage_relname(rel oid) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	 WHERE c.oid OPERATOR(pg_catalog.=) $1
$$;
COMMENT ON FUNCTION pubdata._lineage_relname(oid) IS 'Internal: schema-qualified quoted name of a relation, NULL if it does not exist';

-- _lineage_store(...): append one observation (runs as the extension owner)
CREATE OR REPLACE FUNCTION pubdata._lineage_store(source regclass, source_name text, target regclass, target_name text,
		kind pubdata.lineage_kind, role_name name, first_seen timestamptz, last_seen timestamptz,
		n bigint, run_id bigint) RETURNS void
	LANGUAGE sql
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata.lineage_observation
		(source, source_name, target, target_name, kind, role_name, first_seen, last_seen, count, run_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
$$;
COMMENT ON FUNCTION pubdata._lineage_store(regclass, text, regclass, text, pubdata.lineage_kind, name, timestamptz, timestamptz, bigint, bigint) IS
	'Internal: append one lineage observation (record_lineage, view definitions; the executor hook appends the same way from C)';

-- lineage_compact(): fold the observations into lineage_edge_data
CREATE OR REPLACE FUNCTION pubdata.lineage_compact() RETURNS bigint
	AS 'MODULE_PATHNAME', 'pubdata_lineage_compact'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pubdata.lineage_compact() IS
	'Fold lineage observations into one row per edge; returns the observations folded (0 when another session is folding). Also done now and then at commit (pubdata.lineage_compact_every); pubdata_admin and the scheduler';

-- _lineage_check_relation(rel, what): a relation lineage may name, or a clear error
CREATE OR REPLACE FUNCTION pubdata._lineage_check_relation(rel regclass, what text) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
BEGIN
	SELECT cl.relkind, cl.relpersistence, n.nspname INTO c
	  FROM pg_catalog.pg_class cl JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) cl.relnamespace
	 WHERE cl.oid OPERATOR(pg_catalog.=) rel;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
			USING ERRCODE = 'undefined_table';
	END IF;
	IF c.relkind::text NOT IN ('r', 'p', 'f', 'v', 'm') OR c.relpersistence OPERATOR(pg_catalog.=) 't'
	   OR c.nspname IN ('pubdata', 'pg_catalog', 'information_schema', 'pg_toast') THEN
		RAISE EXCEPTION 'relation "%" cannot be a lineage %', rel, what
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = 'Lineage records tables, partitioned and foreign tables, views and materialized views, not temporary relations, system catalogs or pubdata''s own tables.',
				  HINT = 'Name the table that holds the data.';
	END IF;
END
$$;

-- record_lineage(source, target, kind, run_id): an edge made outside the executor hook
CREATE OR REPLACE FUNCTION pubdata.record_lineage(source regclass, target regclass, kind text, run_id bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('record lineage');
	IF source IS NULL OR target IS NULL OR kind IS NULL THEN
		RAISE EXCEPTION 'source, target and kind of a lineage edge must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM pubdata._check_enum(kind, 'pubdata.lineage_kind', 'lineage kind');
	PERFORM pubdata._lineage_check_relation(source, 'source');
	PERFORM pubdata._lineage_check_relation(target, 'target');
	IF source OPERATOR(pg_catalog.=) target THEN
		RAISE EXCEPTION 'relation "%" cannot be its own lineage source', source
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Lineage records data moving between tables; a table rewritten from itself is not an edge.';
	END IF;
	PERFORM pubdata._lineage_store(source, pubdata._lineage_relname(source), target, pubdata._lineage_relname(target),
		kind::pubdata.lineage_kind, pubdata.caller(), pg_catalog.statement_timestamp(),
		pg_catalog.statement_timestamp(), 1, run_id);
END
$$;
COMMENT ON FUNCTION pubdata.record_lineage(regclass, regclass, text, bigint) IS
	'Record (or count again) an edge source -> target of the given kind, with the aggregation run that made it; pubdata_admin and the scheduler only';

-- record_lineage(source text, ...): an external source (a county database, a file),
-- or a relation when the text names one that exists
CREATE OR REPLACE FUNCTION pubdata.record_lineage(source text, target regclass, kind text, run_id bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel regclass;
BEGIN
	PERFORM pubdata._require_admin('record lineage');
	IF source IS NULL OR target IS NULL OR kind IS NULL THEN
		RAISE EXCEPTION 'source, target and kind of a lineage edge must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF pg_catalog.btrim(source) OPERATOR(pg_catalog.=) '' OR pg_catalog.length(source) OPERATOR(pg_catalog.>) 1000 THEN
		RAISE EXCEPTION 'invalid lineage source name "%"', pg_catalog.left(source, 60)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the external source in 1 to 1000 characters, e.g. county:331121/public.population.';
	END IF;
	BEGIN
		rel := pg_catalog.to_regclass(source);
	EXCEPTION WHEN OTHERS THEN
		rel := NULL;			-- not a relation name (e.g. cross-database): external
	END;
	IF rel IS NOT NULL THEN
		PERFORM pubdata.record_lineage(rel, target, kind, run_id);
		RETURN;
	END IF;
	PERFORM pubdata._check_enum(kind, 'pubdata.lineage_kind', 'lineage kind');
	PERFORM pubdata._lineage_check_relation(target, 'target');
	PERFORM pubdata._lineage_store(NULL, source, target, pubdata._lineage_relname(target),
		kind::pubdata.lineage_kind, pubdata.caller(), pg_catalog.statement_timestamp(),
		pg_catalog.statement_timestamp(), 1, run_id);
END
$$;
COMMENT ON FUNCTION pubdata.record_lineage(text, regclass, text, bigint) IS
	'Record an edge from an external source (any name; one that names an existing relation is recorded as that relation); pubdata_admin and the scheduler only';

-- _lineage_view_analysis(view): what a view's stored definition reads, column
-- by column (src/lineage_query.c; reads the definition, runs none of it)
CREATE OR REPLACE FUNCTION pubdata._lineage_view_analysis(relation regclass)
	RETURNS TABLE (source oid, target_column name, source_column name, transform text)
	AS 'MODULE_PATHNAME', 'pubdata_lineage_view_analysis'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION pubdata._lineage_view_analysis(regclass) IS
	'Internal: the relations a view''s or materialized view''s definition names (views as themselves) and, for each of its columns, the source columns and whether it copies, transforms or aggregates them';

-- _lineage_view_define(view): the view_definition edges of one view as its
-- definition stands now: live edges it no longer has end (kept as history),
-- current ones are recorded or counted again
CREATE OR REPLACE FUNCTION pubdata._lineage_view_define(rel oid) RETURNS integer
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	at timestamptz := pg_catalog.statement_timestamp();
	def jsonb;
	n integer;
BEGIN
	-- the definition now: one element per source, with its columns
	SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('source', x.source, 'columns', x.columns) ORDER BY x.source)
	  INTO def
	  FROM (SELECT a.source,
				   pubdata._lineage_columns_union(pg_catalog.jsonb_agg(
						pg_catalog.jsonb_build_array(a.target_column, a.source_column, a.transform))
						FILTER (WHERE a.target_column IS NOT NULL)) AS columns
			  FROM pubdata._lineage_view_analysis(rel::pg_catalog.regclass) a
			  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.source
			  JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
			 WHERE c.relkind::text IN ('r', 'p', 'f', 'v', 'm') AND c.relpersistence OPERATOR(pg_catalog.<>) 't'
			   AND ns.nspname NOT IN ('pubdata', 'pg_catalog', 'information_schema')
			 GROUP BY a.source) x;

	UPDATE pubdata.lineage_edge_data e SET ended_at = at
	 WHERE e.target OPERATOR(pg_catalog.=) rel::pg_catalog.regclass AND e.kind OPERATOR(pg_catalog.=) 'view_definition'
	   AND e.ended_at IS NULL
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_to_recordset(coalesce(def, '[]')) AS d(source oid, columns jsonb)
					   WHERE d.source OPERATOR(pg_catalog.=) e.source::pg_catalog.oid
						 AND d.columns IS NOT DISTINCT FROM e.columns);

	INSERT INTO pubdata.lineage_edge_data AS e
		(source, source_name, target, target_name, kind, role_name, first_seen, last_seen, count, columns)
	SELECT d.source::pg_catalog.regclass, pubdata._lineage_relname(d.source), rel::pg_catalog.regclass,
		   pubdata._lineage_relname(rel), 'view_definition', pubdata.caller(), at, at, 1, d.columns
	  FROM pg_catalog.jsonb_to_recordset(coalesce(def, '[]')) AS d(source oid, columns jsonb)
	ON CONFLICT (source_key, target, kind, role_name) WHERE ended_at IS NULL DO UPDATE
	   SET source_name = excluded.source_name, target_name = excluded.target_name,
		   last_seen = GREATEST(e.last_seen, excluded.last_seen),
		   count = e.count OPERATOR(pg_catalog.+) 1, columns = excluded.columns;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_view_define(oid) IS
	'Internal: record the view_definition edges (with column lineage) of a view or materialized view as defined now, ending those it no longer has';

-- _lineage_view_edges(view): the same for a view and every view it reads
-- (a view registered as a resource may predate pubdata)
CREATE OR REPLACE FUNCTION pubdata._lineage_view_edges(rel oid) RETURNS integer
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v oid;
	n integer := 0;
BEGIN
	FOR v IN
		WITH RECURSIVE views(view_oid) AS (
			SELECT rel
			UNION
			SELECT d.refobjid
			  FROM views w
			  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class OPERATOR(pg_catalog.=) w.view_oid
				AND rw.rulename OPERATOR(pg_catalog.=) '_RETURN'
			  JOIN pg_catalog.pg_depend d
				ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
			   AND d.objid OPERATOR(pg_catalog.=) rw.oid
			   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
			   AND d.deptype OPERATOR(pg_catalog.=) 'n'
			  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.refobjid
			 WHERE d.refobjid OPERATOR(pg_catalog.<>) rw.ev_class AND c.relkind::text IN ('v', 'm')
		)
		SELECT w.view_oid FROM views w
		  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) w.view_oid
		  JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
		 WHERE c.relkind::text IN ('v', 'm') AND c.relpersistence OPERATOR(pg_catalog.<>) 't'
		   AND ns.nspname NOT IN ('pubdata', 'pg_catalog', 'information_schema')
		 ORDER BY 1
	LOOP
		n := n OPERATOR(pg_catalog.+) pubdata._lineage_view_define(v);
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_view_edges(oid) IS
	'Internal: record the view_definition edges of a view or materialized view and of the views it reads';

-- CREATE [OR REPLACE] VIEW and CREATE MATERIALIZED VIEW record the view's
-- edges; a restore (a superuser with check_function_bodies off, as pg_dump's
-- output and pg_restore set it) records none: it loads the dumped ones
CREATE OR REPLACE FUNCTION pubdata._lineage_on_ddl_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v oid;
BEGIN
	IF NOT coalesce(pg_catalog.current_setting('pubdata.lineage', true), 'on')::boolean
	   OR (NOT pg_catalog.current_setting('check_function_bodies')::boolean
		   AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
					   WHERE r.rolname OPERATOR(pg_catalog.=) pubdata.caller() AND r.rolsuper)) THEN
		RETURN;
	END IF;
	FOR v IN
		SELECT DISTINCT c.objid FROM pg_catalog.pg_event_trigger_ddl_commands() c
		 WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
		   AND c.objsubid OPERATOR(pg_catalog.=) 0
		 ORDER BY 1
	LOOP
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_class cl
					 JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) cl.relnamespace
					WHERE cl.oid OPERATOR(pg_catalog.=) v AND cl.relkind::text IN ('v', 'm')
					  AND cl.relpersistence OPERATOR(pg_catalog.<>) 't'
					  AND ns.nspname NOT IN ('pubdata', 'pg_catalog', 'information_schema')) THEN
			PERFORM pubdata._lineage_view_define(v);
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_on_ddl_end() IS
	'Internal event trigger: a created or replaced view or materialized view records its view_definition edges';
DROP EVENT TRIGGER IF EXISTS pubdata_lineage_views;
CREATE EVENT TRIGGER pubdata_lineage_views ON ddl_command_end
	WHEN TAG IN ('CREATE VIEW', 'CREATE MATERIALIZED VIEW')
	EXECUTE FUNCTION pubdata._lineage_on_ddl_end();

-- DROP VIEW (and DROP MATERIALIZED VIEW, and what CASCADE takes) ends the
-- view's edges; they stay in lineage_edge as history
CREATE OR REPLACE FUNCTION pubdata._lineage_on_sql_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	UPDATE pubdata.lineage_edge_data e SET ended_at = pg_catalog.statement_timestamp()
	 WHERE e.ended_at IS NULL AND e.kind OPERATOR(pg_catalog.=) 'view_definition'
	   AND e.target::pg_catalog.oid IN (
			SELECT o.objid FROM pg_catalog.pg_event_trigger_dropped_objects() o
			 WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
			   AND o.objsubid OPERATOR(pg_catalog.=) 0
			   AND o.object_type IN ('view', 'materialized view'));
END
$$;
COMMENT ON FUNCTION pubdata._lineage_on_sql_drop() IS
	'Internal event trigger: a dropped view or materialized view ends its view_definition edges';
DROP EVENT TRIGGER IF EXISTS pubdata_lineage_drop;
CREATE EVENT TRIGGER pubdata_lineage_drop ON sql_drop
	WHEN TAG IN ('DROP VIEW', 'DROP MATERIALIZED VIEW', 'DROP TABLE', 'DROP SCHEMA', 'DROP OWNED',
				 'DROP FUNCTION', 'DROP TYPE', 'DROP DOMAIN', 'ALTER TABLE', 'DROP FOREIGN TABLE')
	EXECUTE FUNCTION pubdata._lineage_on_sql_drop();

-- _record_view_lineage(relation): the same, for the bureau or the view's owner
CREATE OR REPLACE FUNCTION pubdata._record_view_lineage(relation regclass) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
BEGIN
	SELECT cl.relkind, cl.relowner INTO c FROM pg_catalog.pg_class cl WHERE cl.oid OPERATOR(pg_catalog.=) relation;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'relation with OID % does not exist', relation::oid USING ERRCODE = 'undefined_table';
	END IF;
	IF NOT pubdata.is_admin() AND NOT pg_catalog.pg_has_role(pubdata.caller(), c.relowner, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to record the lineage of "%"', relation
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Role "%s" neither owns the view nor is a member of pubdata_admin.', pubdata.caller()),
				  HINT = 'Ask the view''s owner or pubdata_admin.';
	END IF;
	IF c.relkind::text NOT IN ('v', 'm') THEN
		RAISE EXCEPTION '"%" is not a view or materialized view', relation
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Edges of tables are recorded by the executor hook when data is written.';
	END IF;
	RETURN pubdata._lineage_view_edges(relation);
END
$$;
COMMENT ON FUNCTION pubdata._record_view_lineage(regclass) IS
	'Record the sources of a view or materialized view (view_definition edges) from pg_rewrite/pg_depend; called when one is registered as a resource; pubdata_admin or the view''s owner';

-- registering a view or materialized view as a resource records its sources
-- (called by pubdata._on_register, not by a trigger: a restore loads the
-- catalog and the dumped edges without recording anything again)
CREATE OR REPLACE FUNCTION pubdata._lineage_registered(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel regclass := (SELECT r.relation FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) $1);
BEGIN
	IF rel IS NOT NULL
	   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
				   WHERE c.oid OPERATOR(pg_catalog.=) rel AND c.relkind::text IN ('v', 'm'))
	   AND NOT EXISTS (SELECT 1 FROM pubdata.lineage_edge e
					   WHERE e.target OPERATOR(pg_catalog.=) rel AND e.kind OPERATOR(pg_catalog.=) 'view_definition'
						 AND e.ended_at IS NULL) THEN
		PERFORM pubdata._lineage_view_edges(rel);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_registered(bigint) IS 'Internal: a view or materialized view registered as a resource gets its view_definition edges';

-- every successful aggregation run records its edges with the run: the
-- relations its INSERT read (noted by the executor hook in the same
-- transaction), or the job's source table when the hook is off
CREATE OR REPLACE FUNCTION pubdata._lineage_pending_sources(target regclass) RETURNS oid[]
	AS 'MODULE_PATHNAME', 'pubdata_lineage_pending_sources'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION pubdata._lineage_pending_sources(regclass) IS
	'Internal: sources of the edges into a table noted by this transaction so far (written at commit)';

CREATE OR REPLACE FUNCTION pubdata._lineage_job_run_succeeded() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	j record;
	src oid;
	rel regclass;
	n integer := 0;
	srcs oid[] := '{}';
	names text[] := '{}';
BEGIN
	SELECT jb.kind, jb.name, jb.source, jb.source_is_query, r.relation INTO j
	  FROM pubdata.job jb JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) jb.resource_id
	 WHERE jb.id OPERATOR(pg_catalog.=) NEW.job_id;
	IF NOT FOUND OR j.kind::text OPERATOR(pg_catalog.<>) 'aggregation' OR j.relation IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		FOREACH src IN ARRAY pubdata._lineage_pending_sources(j.relation) LOOP
			PERFORM pubdata._lineage_store(src::pg_catalog.regclass, pubdata._lineage_relname(src), j.relation,
				pubdata._lineage_relname(j.relation), 'aggregation', pubdata.caller(),
				pg_catalog.statement_timestamp(), pg_catalog.statement_timestamp(), 1, NEW.id);
			n := n OPERATOR(pg_catalog.+) 1;
			srcs := srcs || src;
			names := names || pubdata._lineage_relname(src);
		END LOOP;
		IF n OPERATOR(pg_catalog.=) 0 AND NOT j.source_is_query THEN
			BEGIN
				rel := pg_catalog.to_regclass(j.source);
			EXCEPTION WHEN OTHERS THEN
				rel := NULL;
			END;
			IF rel IS DISTINCT FROM j.relation THEN
				PERFORM pubdata._lineage_store(rel, coalesce(pubdata._lineage_relname(rel), j.source), j.relation,
					pubdata._lineage_relname(j.relation), 'aggregation', pubdata.caller(),
					pg_catalog.statement_timestamp(), pg_catalog.statement_timestamp(), 1, NEW.id);
				srcs := srcs || coalesce(rel::pg_catalog.oid, 0::pg_catalog.oid);
				names := names || coalesce(pubdata._lineage_relname(rel), j.source);
			END IF;
		END IF;
		-- the run in the OpenLineage stream, in place of its statements' run
		IF pg_catalog.current_setting('pubdata.openlineage_stream', true) IS DISTINCT FROM 'off' THEN
			PERFORM pubdata._lineage_stream_claim(j.relation);
			PERFORM pubdata._openlineage_emit(j.relation::pg_catalog.oid, pubdata._lineage_relname(j.relation),
				srcs, names, pg_catalog.array_fill('aggregation'::text, ARRAY[pg_catalog.cardinality(srcs)]),
				pg_catalog.array_fill(1::bigint, ARRAY[pg_catalog.cardinality(srcs)]),
				NEW.started_at, 'aggregation:' || j.name, NEW.id, 'COMPLETE', true);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		-- lineage never fails an aggregation run
		RAISE WARNING 'could not record the lineage of job run %: %', NEW.id, SQLERRM;
	END;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_job_run_succeeded() IS
	'Internal trigger: a successful aggregation run records aggregation edges, with its run id, in its own transaction';
CREATE OR REPLACE TRIGGER lineage_aggregation_run AFTER UPDATE OF status ON pubdata.job_run
	FOR EACH ROW WHEN (NEW.status = 'succeeded' AND OLD.status IS DISTINCT FROM 'succeeded')
	EXECUTE FUNCTION pubdata._lineage_job_run_succeeded();

-- a failed or timed-out aggregation run: its START and FAIL in the stream
-- (nothing was written, so no edge), in the scheduler's bookkeeping
-- transaction; the error's text stays in pubdata.job_run
CREATE OR REPLACE FUNCTION pubdata._lineage_job_run_failed() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	j record;
	rel regclass;
BEGIN
	IF pg_catalog.current_setting('pubdata.openlineage_stream', true) IS NOT DISTINCT FROM 'off' THEN
		RETURN NULL;
	END IF;
	SELECT jb.kind, jb.name, jb.source, jb.source_is_query, r.relation INTO j
	  FROM pubdata.job jb JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) jb.resource_id
	 WHERE jb.id OPERATOR(pg_catalog.=) NEW.job_id;
	IF NOT FOUND OR j.kind::text OPERATOR(pg_catalog.<>) 'aggregation' OR j.relation IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		IF NOT j.source_is_query THEN
			BEGIN
				rel := pg_catalog.to_regclass(j.source);
			EXCEPTION WHEN OTHERS THEN
				rel := NULL;
			END;
		END IF;
		PERFORM pubdata._openlineage_emit(j.relation::pg_catalog.oid, pubdata._lineage_relname(j.relation),
			CASE WHEN j.source_is_query THEN '{}'::oid[] ELSE ARRAY[coalesce(rel::pg_catalog.oid, 0::pg_catalog.oid)] END,
			CASE WHEN j.source_is_query THEN '{}'::text[] ELSE ARRAY[coalesce(pubdata._lineage_relname(rel), j.source)] END,
			CASE WHEN j.source_is_query THEN '{}'::text[] ELSE ARRAY['aggregation'] END,
			CASE WHEN j.source_is_query THEN '{}'::bigint[] ELSE ARRAY[1::bigint] END,
			NEW.started_at, 'aggregation:' || j.name, NEW.id, 'FAIL', true);
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'could not record the failed job run % in the OpenLineage stream: %', NEW.id, SQLERRM;
	END;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._lineage_job_run_failed() IS
	'Internal trigger: a failed or timed-out aggregation run is a START and a FAIL event in the OpenLineage stream';
CREATE OR REPLACE TRIGGER lineage_aggregation_failed AFTER UPDATE OF status ON pubdata.job_run
	FOR EACH ROW WHEN (NEW.status IN ('failed', 'timed_out') AND OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION pubdata._lineage_job_run_failed();

-- _lineage_department(rel): the department responsible for a relation's data
-- (Art 24): the provider of its resource, else the department of its owner
CREATE OR REPLACE FUNCTION pubdata._lineage_department(rel oid) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(
		(SELECT d.code FROM pubdata.resource r JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
		  WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) $1),
		(SELECT d.code FROM pg_catalog.pg_class c
		   JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) pubdata.department_of(pg_catalog.pg_get_userbyid(c.relowner))
		  WHERE c.oid OPERATOR(pg_catalog.=) $1))
$$;
COMMENT ON FUNCTION pubdata._lineage_department(oid) IS
	'Internal: code of the department responsible for a relation (its resource''s provider, else the department of the owning role)';

-- _lineage_visible(rel, privileged): may the caller see this node's name?
CREATE OR REPLACE FUNCTION pubdata._lineage_visible(rel oid, privileged boolean) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT $1 IS NULL OR $2
		OR EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.relation::pg_catalog.oid OPERATOR(pg_catalog.=) $1)
		OR (EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1)
			AND pg_catalog.has_table_privilege(pubdata.caller(), $1, 'SELECT'))
$$;
COMMENT ON FUNCTION pubdata._lineage_visible(oid, boolean) IS
	'Internal: external sources, registered resources and relations the caller may read are named; others are shown by department only';

-- _lineage_privileged(): the bureau and the auditors see every name
CREATE OR REPLACE FUNCTION pubdata._lineage_privileged() RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER') $$;

-- _lineage_check_start(rel, max_depth): the caller may walk from this relation
CREATE OR REPLACE FUNCTION pubdata._lineage_check_start(rel regclass, max_depth integer) RETURNS boolean
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	privileged boolean := pubdata._lineage_privileged();
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF max_depth IS NULL OR max_depth OPERATOR(pg_catalog.<) 1 OR max_depth OPERATOR(pg_catalog.>) 1000 THEN
		RAISE EXCEPTION 'invalid lineage depth %', coalesce(max_depth::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a depth from 1 to 1000.';
	END IF;
	IF NOT privileged THEN
		PERFORM pubdata.current_department();
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel)
		   OR NOT pubdata._lineage_visible(rel, false) THEN
			RAISE EXCEPTION 'permission denied to walk the lineage of "%"', rel
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'The relation is not a registered resource and the role may not read it.',
					  HINT = 'Start from a registered resource or a table your department may read.';
		END IF;
	END IF;
	RETURN privileged;
END
$$;

-- _lineage_walk(start, max_depth, upstream, privileged): the graph around a relation
CREATE OR REPLACE FUNCTION pubdata._lineage_walk(start oid, max_depth integer, upstream boolean, privileged boolean)
	RETURNS TABLE (depth integer, source regclass, source_name text, source_resource text, source_department text,
		target regclass, target_name text, target_resource text, responsible_department text,
		kinds pubdata.lineage_kind[], roles name[], count bigint, first_seen timestamptz, last_seen timestamptz,
		in_cycle boolean)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH RECURSIVE
	edge AS (
		SELECT e.source_key AS s, (e.target::pg_catalog.oid)::text AS t, e.source::pg_catalog.oid AS source_oid,
			   e.target::pg_catalog.oid AS target_oid, e.source_name, e.target_name, e.kind, e.role_name,
			   e.count, e.first_seen, e.last_seen
		  FROM pubdata.lineage_edge e
	),
	-- nodes (oid text, or external:<name>) reached, with the length of a path
	reach(node, depth) AS (
		SELECT $1::text, 0
		UNION
		SELECT CASE WHEN $3 THEN e.s ELSE e.t END, r.depth OPERATOR(pg_catalog.+) 1
		  FROM reach r JOIN edge e ON r.node OPERATOR(pg_catalog.=) (CASE WHEN $3 THEN e.t ELSE e.s END)
		 WHERE r.depth OPERATOR(pg_catalog.<) $2
	),
	node AS (SELECT r.node, pg_catalog.min(r.depth) AS depth FROM reach r GROUP BY r.node),
	-- the edges of the walked subgraph, one row per (source, target)
	pair AS (
		SELECT e.s, e.t, pg_catalog.min(n.depth) OPERATOR(pg_catalog.+) 1 AS depth,
			   pg_catalog.min(e.source_oid) AS source_oid, pg_catalog.min(e.target_oid) AS target_oid,
			   pg_catalog.max(e.source_name) AS source_name, pg_catalog.max(e.target_name) AS target_name,
			   pg_catalog.array_agg(DISTINCT e.kind ORDER BY e.kind) AS kinds,
			   pg_catalog.array_agg(DISTINCT e.role_name ORDER BY e.role_name) AS roles,
			   pg_catalog.sum(e.count)::bigint AS count,
			   pg_catalog.min(e.first_seen) AS first_seen, pg_catalog.max(e.last_seen) AS last_seen
		  FROM edge e
		  JOIN node n ON n.node OPERATOR(pg_catalog.=) (CASE WHEN $3 THEN e.t ELSE e.s END)
		 WHERE n.depth OPERATOR(pg_catalog.<) $2
		 GROUP BY e.s, e.t
	),
	-- reachability inside the subgraph: an edge s -> t is on a cycle when t reaches s
	closure(a, b) AS (
		SELECT p.s, p.t FROM pair p
		UNION
		SELECT c.a, p.t FROM closure c JOIN pair p ON p.s OPERATOR(pg_catalog.=) c.b
	)
	SELECT p.depth,
		   CASE WHEN sv.ok THEN p.source_oid::pg_catalog.regclass END,
		   CASE WHEN sv.ok THEN coalesce(pubdata._lineage_relname(p.source_oid), p.source_name) END,
		   sr.code, pubdata._lineage_department(p.source_oid),
		   CASE WHEN tv.ok THEN p.target_oid::pg_catalog.regclass END,
		   CASE WHEN tv.ok THEN coalesce(pubdata._lineage_relname(p.target_oid), p.target_name) END,
		   tr.code, pubdata._lineage_department(p.target_oid),
		   p.kinds,
		   CASE WHEN sv.ok AND tv.ok THEN p.roles END,
		   p.count, p.first_seen, p.last_seen,
		   EXISTS (SELECT 1 FROM closure c WHERE c.a OPERATOR(pg_catalog.=) p.t AND c.b OPERATOR(pg_catalog.=) p.s)
	  FROM pair p
	  LEFT JOIN pubdata.resource sr ON sr.relation::pg_catalog.oid OPERATOR(pg_catalog.=) p.source_oid
	  LEFT JOIN pubdata.resource tr ON tr.relation::pg_catalog.oid OPERATOR(pg_catalog.=) p.target_oid
	  CROSS JOIN LATERAL (SELECT pubdata._lineage_visible(p.source_oid, $4) AS ok) sv
	  CROSS JOIN LATERAL (SELECT pubdata._lineage_visible(p.target_oid, $4) AS ok) tv
	 ORDER BY 1, 3, 7, 10, p.s, p.t
$$;
COMMENT ON FUNCTION pubdata._lineage_walk(oid, integer, boolean, boolean) IS 'Internal: the lineage graph upstream or downstream of a relation';

CREATE OR REPLACE FUNCTION pubdata.lineage_upstream(relation regclass, max_depth integer DEFAULT 32)
	RETURNS TABLE (depth integer, source regclass, source_name text, source_resource text, source_department text,
		target regclass, target_name text, target_resource text, responsible_department text,
		kinds pubdata.lineage_kind[], roles name[], count bigint, first_seen timestamptz, last_seen timestamptz,
		in_cycle boolean)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT * FROM pubdata._lineage_walk($1::pg_catalog.oid, $2, true, pubdata._lineage_check_start($1, $2)) $$;
COMMENT ON FUNCTION pubdata.lineage_upstream(regclass, integer) IS
	'Where a table''s data comes from: every edge upstream of it, with depth, resources, the department responsible for each derived table (Art 24), and whether the edge is on a cycle';

CREATE OR REPLACE FUNCTION pubdata.lineage_downstream(relation regclass, max_depth integer DEFAULT 32)
	RETURNS TABLE (depth integer, source regclass, source_name text, source_resource text, source_department text,
		target regclass, target_name text, target_resource text, responsible_department text,
		kinds pubdata.lineage_kind[], roles name[], count bigint, first_seen timestamptz, last_seen timestamptz,
		in_cycle boolean)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT * FROM pubdata._lineage_walk($1::pg_catalog.oid, $2, false, pubdata._lineage_check_start($1, $2)) $$;
COMMENT ON FUNCTION pubdata.lineage_downstream(regclass, integer) IS
	'Where a table''s data goes: every edge downstream of it, with depth, resources, the department responsible for each derived table (Art 24), and whether the edge is on a cycle';

-- lineage_columns(relation, column, upstream, max_depth): column lineage walk
CREATE OR REPLACE FUNCTION pubdata.lineage_columns(relation regclass, column_name name, upstream boolean DEFAULT true,
		max_depth integer DEFAULT 32)
	RETURNS TABLE (depth integer, source regclass, source_name text, source_column name, source_resource text,
		source_department text, source_personal pubdata.personal_kind,
		target regclass, target_name text, target_column name, target_resource text, responsible_department text,
		transforms text[], kinds pubdata.lineage_kind[], ended boolean)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	privileged boolean := pubdata._lineage_check_start(lineage_columns.relation, lineage_columns.max_depth);
BEGIN
	IF lineage_columns.column_name IS NULL OR lineage_columns.upstream IS NULL THEN
		RAISE EXCEPTION 'column and direction of a column lineage walk must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
				   WHERE a.attrelid OPERATOR(pg_catalog.=) lineage_columns.relation
					 AND a.attname OPERATOR(pg_catalog.=) lineage_columns.column_name
					 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', lineage_columns.column_name, lineage_columns.relation
			USING ERRCODE = 'undefined_column',
				  HINT = 'Name a column of the relation as it is now (column lineage follows the names it recorded).';
	END IF;
	RETURN QUERY
	WITH RECURSIVE
	col AS (
		SELECT e.source::pg_catalog.oid AS s, e.target::pg_catalog.oid AS t, e.source_name AS sname,
			   e.target_name AS tname, c.value ->> 0 AS tcol, c.value ->> 1 AS scol, c.value ->> 2 AS transform,
			   e.kind, e.ended_at
		  FROM pubdata.lineage_edge e CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(e.columns) c
		 WHERE e.source IS NOT NULL AND e.columns IS NOT NULL
	),
	-- (relation, column) reached, with the length of a path
	reach(node, colname, d) AS (
		SELECT lineage_columns.relation::pg_catalog.oid, lineage_columns.column_name::text, 0
		UNION
		SELECT CASE WHEN lineage_columns.upstream THEN c.s ELSE c.t END,
			   CASE WHEN lineage_columns.upstream THEN c.scol ELSE c.tcol END, r.d OPERATOR(pg_catalog.+) 1
		  FROM reach r JOIN col c
			ON (CASE WHEN lineage_columns.upstream THEN c.t ELSE c.s END) OPERATOR(pg_catalog.=) r.node
		   AND (CASE WHEN lineage_columns.upstream THEN c.tcol ELSE c.scol END) OPERATOR(pg_catalog.=) r.colname
		 WHERE r.d OPERATOR(pg_catalog.<) lineage_columns.max_depth
	),
	node AS (SELECT r.node, r.colname, pg_catalog.min(r.d) AS d FROM reach r GROUP BY r.node, r.colname),
	pair AS (
		SELECT c.s, c.scol, c.t, c.tcol, pg_catalog.min(n.d) OPERATOR(pg_catalog.+) 1 AS d,
			   pg_catalog.max(c.sname) AS sname, pg_catalog.max(c.tname) AS tname,
			   pg_catalog.array_agg(DISTINCT c.transform ORDER BY c.transform) AS transforms,
			   pg_catalog.array_agg(DISTINCT c.kind ORDER BY c.kind) AS kinds,
			   pg_catalog.bool_and(c.ended_at IS NOT NULL) AS ended
		  FROM col c
		  JOIN node n ON n.node OPERATOR(pg_catalog.=) (CASE WHEN lineage_columns.upstream THEN c.t ELSE c.s END)
		   AND n.colname OPERATOR(pg_catalog.=) (CASE WHEN lineage_columns.upstream THEN c.tcol ELSE c.scol END)
		 WHERE n.d OPERATOR(pg_catalog.<) lineage_columns.max_depth
		 GROUP BY c.s, c.scol, c.t, c.tcol
	)
	SELECT p.d,
		   CASE WHEN sv.ok THEN p.s::pg_catalog.regclass END,
		   CASE WHEN sv.ok THEN coalesce(pubdata._lineage_relname(p.s), p.sname) END,
		   CASE WHEN sv.ok THEN p.scol::pg_catalog.name END,
		   sr.code, pubdata._lineage_department(p.s),
		   CASE WHEN sv.ok THEN (SELECT i.personal FROM pubdata.resource_item i
								 WHERE i.resource_id OPERATOR(pg_catalog.=) sr.id
								   AND i.column_name OPERATOR(pg_catalog.=) p.scol::pg_catalog.name) END,
		   CASE WHEN tv.ok THEN p.t::pg_catalog.regclass END,
		   CASE WHEN tv.ok THEN coalesce(pubdata._lineage_relname(p.t), p.tname) END,
		   CASE WHEN tv.ok THEN p.tcol::pg_catalog.name END,
		   tr.code, pubdata._lineage_department(p.t),
		   p.transforms, p.kinds, p.ended
	  FROM pair p
	  LEFT JOIN pubdata.resource sr ON sr.relation::pg_catalog.oid OPERATOR(pg_catalog.=) p.s
	  LEFT JOIN pubdata.resource tr ON tr.relation::pg_catalog.oid OPERATOR(pg_catalog.=) p.t
	  CROSS JOIN LATERAL (SELECT pubdata._lineage_visible(p.s, privileged) AS ok) sv
	  CROSS JOIN LATERAL (SELECT pubdata._lineage_visible(p.t, privileged) AS ok) tv
	 ORDER BY 1, 3, 4, 9, 10, 13, p.s, p.t;
END
$$;
COMMENT ON FUNCTION pubdata.lineage_columns(regclass, name, boolean, integer) IS
	'Column lineage: where a column''s values come from (upstream) or go to (downstream), edge by edge through views and tables, with each step''s transform (identity, transformation, aggregation), the resources, whether a source item is personal, and whether the edge ended; names of relations the caller may not read are left out';

-- RFC 9562 (was 4122) UUID version 7: the 48-bit Unix time in milliseconds,
-- then the version and variant, the rest from an md5 of the seed, so that
-- the same run always gets the same id and ids sort by time
CREATE OR REPLACE FUNCTION pubdata._uuid_v7(at timestamptz, seed text) RETURNS uuid
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

CREATE OR REPLACE FUNCTION pubdata._openlineage_build(event_time text, run_id text, producer text, job_namespace text,
		job_name text, aggregation_run bigint, hidden_inputs integer, output text[], inputs text[])
	RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_openlineage_build'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._openlineage_build(text, text, text, text, text, bigint, integer, text[], text[]) IS
	'Internal: shape an OpenLineage run event with libjson-c';

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
	col_fields jsonb;
	doc jsonb;
BEGIN
	SELECT db || '.' || n.nspname || '.' || c.relname INTO out_name
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	 WHERE c.oid OPERATOR(pg_catalog.=) rel;
	-- a dropped relation (a view) is named as its edges last saw it
	IF out_name IS NULL THEN
		SELECT db || '.' || pg_catalog.max(e.target_name) INTO out_name
		  FROM pubdata.lineage_edge e WHERE e.target::pg_catalog.oid OPERATOR(pg_catalog.=) rel;
	END IF;
	IF out_name IS NULL THEN
		RAISE EXCEPTION 'relation with OID % does not exist', rel
			USING ERRCODE = 'undefined_table', HINT = 'Name a relation that exists or that lineage edges lead to.';
	END IF;

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

	-- column lineage of the visible inputs: OpenLineage's ColumnLineageDatasetFacet
	SELECT pg_catalog.jsonb_object_agg(f.tcol, pg_catalog.jsonb_build_object('inputFields', f.fields))
	  INTO col_fields
	  FROM (SELECT x.tcol,
				   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('namespace', ns, 'name', x.input_name,
						'field', x.scol, 'transformations', x.transformations) ORDER BY x.input_name, x.scol) AS fields
			  FROM (SELECT c.value ->> 0 AS tcol, c.value ->> 1 AS scol, nm.input_name,
						   pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object('type', 'DIRECT',
								'subtype', pg_catalog.upper(c.value ->> 2), 'description', '', 'masking', false)) AS transformations
					  FROM pubdata.lineage_edge e
					 CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(e.columns) c
					 CROSS JOIN LATERAL (SELECT coalesce(
							(SELECT db || '.' || n.nspname || '.' || cl.relname
							   FROM pg_catalog.pg_class cl
							   JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) cl.relnamespace
							  WHERE cl.oid OPERATOR(pg_catalog.=) e.source::pg_catalog.oid),
							db || '.' || e.source_name) AS input_name) nm
					 WHERE e.target::pg_catalog.oid OPERATOR(pg_catalog.=) rel AND e.source IS NOT NULL
					   AND e.columns IS NOT NULL AND pubdata._lineage_visible(e.source::pg_catalog.oid, privileged)
					 GROUP BY 1, 2, 3) x
			 GROUP BY x.tcol) f;

	event_at := coalesce(event_at, pg_catalog.statement_timestamp());
	doc := pubdata._openlineage_build(
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
	IF col_fields IS NOT NULL THEN
		doc := pg_catalog.jsonb_set(doc, '{outputs,0,facets,columnLineage}',
			pg_catalog.jsonb_build_object('_producer', producer,
				'_schemaURL', 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
				'fields', col_fields));
	END IF;
	RETURN doc;
END
$$;
COMMENT ON FUNCTION pubdata.lineage_openlineage(regclass) IS
	'The OpenLineage COMPLETE RunEvent (JSON) of the edges that produce a table: job, run (UUIDv7), input datasets with pubdata facets, the output with its owning department and its column lineage (ColumnLineageDatasetFacet)';

-- the run's two events, START (at the first write seen) and COMPLETE; an
-- invoker's function, so that lineage_openlineage checks the caller's rights
CREATE OR REPLACE FUNCTION pubdata.lineage_openlineage_events(relation regclass) RETURNS SETOF jsonb
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

-- ---------------------------------------------------------------------------
-- The OpenLineage event stream (src/lineage_stream.c): each run that moved
-- data is appended at commit to openlineage_pending and published once, as
-- its START and COMPLETE (or FAIL) events, ids in publication order;
-- consumers read after a cursor and LISTEN pubdata_lineage
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata._openlineage_event(event_type text, event_time text, run_id text, producer text,
		job_namespace text, job_name text, aggregation_run bigint, hidden_inputs integer, output text[], inputs text[])
	RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_openlineage_build'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._openlineage_event(text, text, text, text, text, text, bigint, integer, text[], text[]) IS
	'Internal: shape an OpenLineage run event of the given type (START, COMPLETE, FAIL, ABORT) with libjson-c';

CREATE OR REPLACE FUNCTION pubdata._openlineage_lock() RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_openlineage_lock'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pubdata._openlineage_lock() IS
	'Internal: the stream''s order lock (exclusive on its sequence, to the end of the transaction), taken by openlineage_publish(): publications one at a time, each one''s ids above every visible id';

-- the stream's tables, as 0.2 describes them (once/75_lineage.sql made them)
COMMENT ON TABLE pubdata.openlineage_event IS
	'OpenLineage run events, one stream in publication order: read them with pubdata.openlineage_events(after, max_events); NOTIFY pubdata_lineage says new ones exist';
COMMENT ON COLUMN pubdata.openlineage_event.id IS 'position in the stream (publication order: each event''s id is above every id visible before it; a consumer resumes after the last id it processed)';
COMMENT ON COLUMN pubdata.openlineage_event.event IS 'the OpenLineage 2-0-2 RunEvent, as published after the run committed';
COMMENT ON TABLE pubdata.openlineage_pending IS
	'Runs committed and not yet published to pubdata.openlineage_event: appended at commit without a lock, turned into events by pubdata.openlineage_publish() (the launcher, about every 100 ms)';
COMMENT ON COLUMN pubdata.openlineage_pending.xid IS 'the writing transaction (top level): publication order';
COMMENT ON COLUMN pubdata.openlineage_pending.n IS 'the run''s number in its transaction: publication order';
COMMENT ON COLUMN pubdata.openlineage_pending.target IS 'the table written (oid)';
COMMENT ON COLUMN pubdata.openlineage_pending.target_name IS 'its name when the run committed';
COMMENT ON COLUMN pubdata.openlineage_pending.sources IS 'the relations read (oid; 0: an external source named in source_names), one per source and kind';
COMMENT ON COLUMN pubdata.openlineage_pending.source_names IS 'their names when the run committed';
COMMENT ON COLUMN pubdata.openlineage_pending.kinds IS 'how each source was read (pubdata.lineage_kind labels)';
COMMENT ON COLUMN pubdata.openlineage_pending.counts IS 'how many statements read each source';
COMMENT ON COLUMN pubdata.openlineage_pending.started IS 'the START event''s time: the run''s first write';
COMMENT ON COLUMN pubdata.openlineage_pending.ended IS 'the end event''s time: the commit (PRE_COMMIT)';
COMMENT ON COLUMN pubdata.openlineage_pending.namespace IS 'the writer''s pubdata.lineage_namespace (NULL: postgres://localhost:<port>)';
COMMENT ON COLUMN pubdata.openlineage_pending.job_name IS 'the job (aggregation:<job>; NULL: produce:<table>)';
COMMENT ON COLUMN pubdata.openlineage_pending.job_run IS 'the aggregation run (pubdata.job_run), if any';
COMMENT ON COLUMN pubdata.openlineage_pending.outcome IS 'the end event: COMPLETE, FAIL or ABORT';

CREATE OR REPLACE FUNCTION pubdata._lineage_stream_claim(target regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_lineage_stream_claim'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION pubdata._lineage_stream_claim(regclass) IS
	'Internal: an aggregation run sent the events of its table; the statements of its transaction send none';

-- _openlineage_emit(...): one run of this transaction, appended to
-- openlineage_pending (no lock: the publisher gives it its ids once the
-- transaction has committed); an aggregation run's trigger calls it, the
-- executor hook's runs are appended in C (src/lineage_stream.c).  Returns
-- NULL (the ids are not known before publication); notify is ignored (the
-- publisher notifies).
CREATE OR REPLACE FUNCTION pubdata._openlineage_emit(target oid, target_name text, sources oid[], source_names text[],
		kinds text[], counts bigint[], started timestamptz, job_name text, job_run bigint, outcome text, notify boolean)
	RETURNS bigint
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	ended timestamptz := pg_catalog.clock_timestamp();
BEGIN
	INSERT INTO pubdata.openlineage_pending (xid, n, target, target_name, sources, source_names, kinds, counts,
			started, ended, namespace, job_name, job_run, outcome)
	VALUES (pg_catalog.pg_current_xact_id(), pubdata._openlineage_pending_n(), target, target_name, sources, source_names,
			kinds, counts, LEAST(started, ended), ended,
			NULLIF(pg_catalog.current_setting('pubdata.lineage_namespace', true), ''), job_name, job_run, outcome);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._openlineage_emit(oid, text, oid[], text[], text[], bigint[], timestamptz, text, bigint, text, boolean) IS
	'Internal: append one run of this transaction to pubdata.openlineage_pending, published as its events after the commit';

CREATE OR REPLACE FUNCTION pubdata._openlineage_pending_n() RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_openlineage_pending_n'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pubdata._openlineage_pending_n() IS
	'Internal: the next run number of this transaction in openlineage_pending; the launcher is told at its commit';

-- openlineage_publish(): the committed runs of openlineage_pending become
-- events; the launcher calls it about every 100 ms after commits that wrote
-- runs (and every second for COMMIT PREPARED), the bureau may call it too
-- (a database that is not pubdata.database has no launcher)
CREATE OR REPLACE FUNCTION pubdata.openlineage_publish() RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	-- the batch's estimates reach jit_above_cost, and compiling costs seconds;
	-- planned once per session (the launcher's), not at every publication
	SET jit = off
	SET plan_cache_mode = force_generic_plan
	AS $$
DECLARE
	db text := pg_catalog.current_database();
	default_ns text := 'postgres://localhost:' || pg_catalog.current_setting('port');
	producer text := 'urn:pubdata:'
		|| (SELECT x.extversion FROM pg_catalog.pg_extension x WHERE x.extname OPERATOR(pg_catalog.=) 'pubdata');
	n bigint;
BEGIN
	PERFORM pubdata._require_admin('publish the OpenLineage event stream');
	-- publishers one at a time, each to its commit: every id of a publication
	-- is above every id of the publications visible before it
	PERFORM pubdata._openlineage_lock();
	-- the statements after the lock see every run committed before it; runs
	-- of transactions still open (or prepared) stay for a later publication

	-- every run at once: run k (in transaction, then run number, order) gets
	-- ids k (START) and k + 1 (its end); each dataset's
	-- name, resource and responsible department (as _lineage_department
	-- says: the resource's provider, else the department the owning role
	-- acts for) from the catalog as it is now
	WITH d AS (
		DELETE FROM pubdata.openlineage_pending p RETURNING p.*
	), r AS (
		-- ids in (transaction, run number) order, two per run (k: the START's);
		-- nextval, not row_number(), which was slower than the rest together
		SELECT o.*, pg_catalog.nextval('pubdata.openlineage_event_id_seq') AS k,
			   pg_catalog.nextval('pubdata.openlineage_event_id_seq') AS k_end,
			   coalesce(NULLIF(o.namespace, ''), default_ns) AS ns, LEAST(o.started, o.ended) AS st
		  FROM (SELECT d.* FROM d ORDER BY d.xid, d.n) o
	), ds AS (
		SELECT r.k, r.ns, u.ord, u.oid, u.name, u.kind, u.count
		  FROM r, ROWS FROM (pg_catalog.unnest(r.target || r.sources), pg_catalog.unnest(r.target_name || r.source_names),
							 pg_catalog.unnest(NULL::text || r.kinds), pg_catalog.unnest(NULL::bigint || r.counts))
			   WITH ORDINALITY AS u(oid, name, kind, count, ord)
	), meta AS (
		SELECT ds.k, ds.ord, ds.kind, ds.count,
			   CASE WHEN ds.oid OPERATOR(pg_catalog.=) 0 THEN ds.name
					ELSE db || '.' || coalesce(nm.nspname || '.' || c.relname, ds.name) END AS name,
			   CASE WHEN ds.oid OPERATOR(pg_catalog.=) 0 THEN 'pubdata-external' ELSE ds.ns END AS namespace,
			   rs.code AS resource,
			   coalesce(dp.code,
				   (SELECT dd.code FROM pubdata.department dd WHERE dd.role_name OPERATOR(pg_catalog.=) ow.rolname),
				   (SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 1 THEN pg_catalog.min(dd.code) END
					  FROM pubdata.department dd
					  JOIN pg_catalog.pg_roles dr ON dr.rolname OPERATOR(pg_catalog.=) dd.role_name
					 WHERE NOT ow.rolsuper AND pg_catalog.pg_has_role(ow.oid, dr.oid, 'MEMBER'))) AS department
		  FROM ds
		  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) ds.oid
		  LEFT JOIN pg_catalog.pg_namespace nm ON nm.oid OPERATOR(pg_catalog.=) c.relnamespace
		  LEFT JOIN pg_catalog.pg_roles ow ON ow.oid OPERATOR(pg_catalog.=) c.relowner
		  LEFT JOIN pubdata.resource rs ON rs.relation::pg_catalog.oid OPERATOR(pg_catalog.=) ds.oid
		  LEFT JOIN pubdata.department dp ON dp.id OPERATOR(pg_catalog.=) rs.provider_id
	), inp AS (
		SELECT s.k, pg_catalog.array_agg(ARRAY[s.namespace, s.name, s.resource, s.department, s.kinds, s.count::text,
					pg_catalog.to_char(r.st AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
					pg_catalog.to_char(r.ended AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')] ORDER BY s.name) AS inputs
		  FROM (SELECT m.k, m.namespace, m.name, pg_catalog.min(m.resource) AS resource, pg_catalog.min(m.department) AS department,
					   pg_catalog.string_agg(DISTINCT m.kind, ',') AS kinds, pg_catalog.sum(m.count)::bigint AS count
				  FROM meta m WHERE m.ord OPERATOR(pg_catalog.>) 1
				 GROUP BY m.k, m.namespace, m.name) s
		  JOIN r ON r.k OPERATOR(pg_catalog.=) s.k
		 GROUP BY s.k
	), runs AS (
		SELECT r.k, r.st, r.ended, r.job_run, r.outcome, o.output, i.inputs,
			   r.k AS first_id, r.k_end AS last_id,
			   coalesce(r.job_name, 'produce:' || pg_catalog.substr(o.output[2], pg_catalog.length(db) OPERATOR(pg_catalog.+) 2)) AS job
		  FROM r
		  JOIN (SELECT m.k, ARRAY[m.namespace, m.name, m.resource, m.department] AS output
				  FROM meta m WHERE m.ord OPERATOR(pg_catalog.=) 1) o ON o.k OPERATOR(pg_catalog.=) r.k
		  LEFT JOIN inp i ON i.k OPERATOR(pg_catalog.=) r.k
	), x AS (
		-- a UUIDv7 (as pubdata._uuid_v7): the start in milliseconds, the
		-- version and variant, the rest from the md5 of the database and the
		-- first id
		SELECT runs.*, (pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.floor(pg_catalog.date_part('epoch', runs.st) * 1000)::bigint), 12, '0')
				|| '7' || pg_catalog.substr(h.h, 1, 3)
				|| pg_catalog.substr('89ab', pg_catalog.get_byte(pg_catalog.decode(h.h, 'hex'), 15) % 4 + 1, 1)
				|| pg_catalog.substr(h.h, 4, 15))::pg_catalog.uuid AS run
		  FROM runs, LATERAL (SELECT pg_catalog.md5(db || ':openlineage:' || runs.first_id::text) AS h) h
	)
	INSERT INTO pubdata.openlineage_event (id, event_type, event_time, run_id, event)
	SELECT e.id, e.event_type, e.at, x.run,
		   pubdata._openlineage_event(e.event_type,
				pg_catalog.to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
				x.run::text, producer, 'pubdata://' || db, x.job, x.job_run, 0, x.output, x.inputs)::jsonb
	  FROM x, LATERAL (VALUES (x.first_id, 'START', x.st), (x.last_id, x.outcome, x.ended))
			  AS e(id, event_type, at)
	 ORDER BY e.id;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n OPERATOR(pg_catalog.>) 0 THEN
		PERFORM pg_catalog.pg_notify('pubdata_lineage', pg_catalog.currval('pubdata.openlineage_event_id_seq')::text);
	END IF;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.openlineage_publish() IS
	'Turn the committed runs waiting in pubdata.openlineage_pending into OpenLineage events (ids above every visible id) and NOTIFY pubdata_lineage with the newest id; returns how many events. The launcher does it about every 100 ms (pubdata_admin)';


-- openlineage_events(after, max_events): the stream after a cursor
CREATE OR REPLACE FUNCTION pubdata.openlineage_events(after bigint DEFAULT 0, max_events integer DEFAULT 1000)
	RETURNS TABLE (id bigint, event jsonb)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF after IS NULL THEN
		RAISE EXCEPTION 'the cursor "after" of pubdata.openlineage_events must not be null'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass 0 to read the stream from its start, then the id of the last event you processed.';
	END IF;
	IF max_events IS NULL OR max_events OPERATOR(pg_catalog.<) 1 OR max_events OPERATOR(pg_catalog.>) 10000 THEN
		RAISE EXCEPTION 'invalid max_events % for pubdata.openlineage_events', coalesce(max_events::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Read from 1 to 10000 events at a time; call again after the last id to read on.';
	END IF;
	RETURN QUERY
		SELECT e.id, e.event FROM pubdata.openlineage_event e
		 WHERE e.id OPERATOR(pg_catalog.>) after
		 ORDER BY e.id
		 LIMIT max_events;
END
$$;
COMMENT ON FUNCTION pubdata.openlineage_events(bigint, integer) IS
	'The OpenLineage events after the cursor (an event id; 0: from the start), in id (publication) order, at most max_events: a consumer resumes after the last id it processed, without loss or duplicates; events appear about 0.1 s after their commit (openlineage_publish); NOTIFY pubdata_lineage (payload: the newest id) tells it there are more. pubdata_admin and pubdata_auditor';

-- openlineage_events_prune(through): drop the events a consumer no longer needs
CREATE OR REPLACE FUNCTION pubdata.openlineage_events_prune(through bigint) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM pubdata._require_admin('prune the OpenLineage event stream');
	IF through IS NULL THEN
		RAISE EXCEPTION 'the last event id to prune must not be null'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass the id up to which every consumer has read the stream.';
	END IF;
	DELETE FROM pubdata.openlineage_event e WHERE e.id OPERATOR(pg_catalog.<=) through;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.openlineage_events_prune(bigint) IS
	'Delete the OpenLineage events up to an id (inclusive), once every consumer has read them; returns how many (pubdata_admin)';

REVOKE ALL ON pubdata.lineage_edge, pubdata.lineage_edge_data, pubdata.lineage_observation, pubdata.lineage_edge_run FROM PUBLIC;
GRANT SELECT ON pubdata.lineage_edge, pubdata.lineage_edge_data, pubdata.lineage_observation, pubdata.lineage_edge_run
	TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.lineage_compact() TO pubdata_admin;
-- lineage_edge calls it: whoever may read the view may run it
GRANT EXECUTE ON FUNCTION pubdata._lineage_columns_union(jsonb[]) TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.lineage_upstream(regclass, integer), pubdata.lineage_downstream(regclass, integer),
	pubdata.lineage_openlineage(regclass), pubdata.lineage_openlineage_events(regclass),
	pubdata.lineage_columns(regclass, name, boolean, integer)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.record_lineage(regclass, regclass, text, bigint),
	pubdata.record_lineage(text, regclass, text, bigint), pubdata._record_view_lineage(regclass)
	TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata._record_view_lineage(regclass) TO pubdata_department;
-- the stream names every table that moved data: the bureau and the auditors
REVOKE ALL ON pubdata.openlineage_event FROM PUBLIC;
GRANT SELECT ON pubdata.openlineage_event TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.openlineage_events(bigint, integer) TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.openlineage_events_prune(bigint), pubdata.openlineage_publish() TO pubdata_admin;
REVOKE ALL ON pubdata.openlineage_pending FROM PUBLIC;
GRANT SELECT ON pubdata.openlineage_pending TO pubdata_admin, pubdata_auditor;
