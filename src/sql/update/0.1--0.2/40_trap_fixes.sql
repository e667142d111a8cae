-- ---------------------------------------------------------------------------
-- The trap kit's fixes (sql/97_trap_kit.sql): nothing a department planted
-- runs with more rights than the department's.
--
-- Open data: a view in pubdata_open no longer reads the registered table with
-- its reader's rights (the reader planned the department's index expressions
-- and ran its views, functions and casts, and so did the bureau and any
-- superuser reading the view).  Its rows come from pubdata.open_dataset_rows,
-- which reads the table as its owner in a security-restricted operation.
-- The functions below are those of 80_open.sql; the existing views are
-- rebuilt at the end, keeping their privileges and comments.
-- ---------------------------------------------------------------------------

-- the role a named reader of a conditional dataset joins (10_roles.sql)
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pubdata_open_conditional') THEN
		CREATE ROLE pubdata_open_conditional NOLOGIN;
	END IF;
END
$roles$;
COMMENT ON ROLE pubdata_open_conditional IS 'pubdata: roles named as readers of a conditional open dataset (pubdata.allow_open_reader); joined automatically';

-- _open_plain_type(type): the plain type _open_plain converts a column of this type to
CREATE OR REPLACE FUNCTION pubdata._open_plain_type(typ oid) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
		WHEN b IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype,
				   'float4'::regtype, 'float8'::regtype, 'money'::regtype) THEN 'pg_catalog.numeric'
		WHEN b OPERATOR(pg_catalog.=) 'date'::regtype THEN 'pg_catalog.date'
		WHEN b IN ('timestamp'::regtype, 'timestamptz'::regtype) THEN 'pg_catalog.timestamp'
		ELSE 'pg_catalog.text'
	END
	FROM (SELECT CASE WHEN t.typtype OPERATOR(pg_catalog.=) 'd' THEN t.typbasetype ELSE t.oid END AS b
			FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) typ) s
$$;
COMMENT ON FUNCTION pubdata._open_plain_type(oid) IS
	'The type pubdata._open_plain() converts a column of this type to: numeric, date, timestamp or text (internal)';

-- _open_columns(resource): the columns of a resource's open view, in table
-- order.  source_expr is what is read from the table (as its owner, see
-- pubdata._open_source); open_expr is what the view shows of it (the mask,
-- evaluated by pubdata over that plain value); col_type the column's type.
CREATE OR REPLACE FUNCTION pubdata._open_columns(rid bigint)
	RETURNS TABLE (column_name name, col_type text, source_expr text, open_expr text, comment text)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	i record;
BEGIN
	FOR i IN
		SELECT it.column_name, it.title, it.description, it.personal, it.mask, a.atttypid
		  FROM pubdata.resource res
		  JOIN pubdata.resource_item it ON it.resource_id OPERATOR(pg_catalog.=) res.id
		  JOIN pg_catalog.pg_attribute a
			ON a.attrelid OPERATOR(pg_catalog.=) res.relation
		   AND a.attname OPERATOR(pg_catalog.=) it.column_name
		   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		 WHERE res.id OPERATOR(pg_catalog.=) rid
		   AND it.state OPERATOR(pg_catalog.=) 'current'
		   AND pubdata._open_item_exposed(it.personal, it.share_class, it.mask)
		 ORDER BY a.attnum
	LOOP
		column_name := i.column_name;
		IF i.mask OPERATOR(pg_catalog.=) 'none' THEN
			col_type := pubdata._open_plain_type(i.atttypid);
			source_expr := pubdata._open_plain(i.atttypid, pg_catalog.format('t.%I', i.column_name));
			open_expr := pg_catalog.format('s.%I', i.column_name);
			comment := i.title || coalesce('：' || nullif(i.description, ''), '');
		ELSE
			col_type := 'pg_catalog.text';
			source_expr := pg_catalog.format('(t.%I)::pg_catalog.text', i.column_name);
			open_expr := pubdata._open_mask_expr(i.mask, pg_catalog.format('s.%I', i.column_name));
			comment := i.title || coalesce('：' || nullif(i.description, ''), '')
				|| CASE i.mask WHEN 'pseudonym' THEN '（化名：HMAC-SHA256 密钥化名，可关联，不可还原）'
							   ELSE '（已脱敏：部分遮盖）' END;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._open_columns(bigint) IS
	'The columns of a resource''s open view: what is read from its table, what the view shows, the type and the comment (internal)';

-- _open_queries(resource): the two queries behind an open view.  source_sql
-- reads the exposed columns of the table, run by pubdata._open_source as the
-- table's owner in a security-restricted operation: whatever the department
-- planted in its table or view (index expressions, functions, casts) runs
-- with the department's rights, never with the reader's or the bureau's.
-- open_sql applies the masks to those plain values (pubdata's code only);
-- masked is false when there is none to apply.
CREATE OR REPLACE FUNCTION pubdata._open_queries(rid bigint,
	OUT code text, OUT relation oid, OUT source_sql text, OUT open_sql text, OUT column_defs text, OUT masked boolean)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	src text[] := '{}';
	opn text[] := '{}';
	defs text[] := '{}';
	c record;
BEGIN
	SELECT r.code, r.relation::oid INTO code, relation FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF relation IS NULL THEN
		RETURN;
	END IF;
	masked := false;
	FOR c IN SELECT * FROM pubdata._open_columns(rid) LOOP
		masked := masked OR c.open_expr OPERATOR(pg_catalog.<>) pg_catalog.format('s.%I', c.column_name);
		src := src || pg_catalog.format('%s AS %I', c.source_expr, c.column_name);
		opn := opn || pg_catalog.format('%s AS %I', c.open_expr, c.column_name);
		defs := defs || pg_catalog.format('%I %s', c.column_name, c.col_type);
	END LOOP;
	-- a view without open columns still has its rows
	IF pg_catalog.cardinality(defs) OPERATOR(pg_catalog.=) 0 THEN
		src := ARRAY['NULL::pg_catalog.bool AS pubdata_row'];
		opn := ARRAY['s.pubdata_row'];
		defs := ARRAY['pubdata_row pg_catalog.bool'];
	END IF;
	source_sql := pg_catalog.format('SELECT %s FROM %I.%I t', pg_catalog.array_to_string(src, ', '),
		(SELECT n.nspname FROM pg_catalog.pg_class k JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) k.relnamespace
		  WHERE k.oid OPERATOR(pg_catalog.=) relation),
		(SELECT k.relname FROM pg_catalog.pg_class k WHERE k.oid OPERATOR(pg_catalog.=) relation));
	column_defs := pg_catalog.array_to_string(defs, ', ');
	open_sql := pg_catalog.format('SELECT %s FROM pubdata._open_source($1) AS s(%s)',
		pg_catalog.array_to_string(opn, ', '), column_defs);
END
$$;
COMMENT ON FUNCTION pubdata._open_queries(bigint) IS
	'The queries behind a resource''s open view: the read of its table (run as the table''s owner) and the masks over it (internal)';

-- _open_source(resource): the exposed columns of a resource's table, read as
-- the table's owner in a security-restricted operation (C, src/open.c).
-- Executable by nobody: pubdata.open_dataset_rows calls it as the extension owner.
CREATE OR REPLACE FUNCTION pubdata._open_source(resource bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pubdata_open_source'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._open_source(bigint) IS
	'Internal: the plain values of the open items of a resource''s table, read as its owner in a security-restricted operation';

-- open_dataset_rows(resource): what a resource's open view shows (C, src/open.c)
CREATE OR REPLACE FUNCTION pubdata.open_dataset_rows(resource bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pubdata_open_dataset_rows'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata.open_dataset_rows(bigint) IS
	'The rows of a resource''s open-data view, masked as the view shows them, for the roles that may read that view; the views in pubdata_open read their data through it, so that nothing of the department''s runs with the reader''s rights';

-- _open_view_sql(resource): the definition of a resource's open view.  The
-- rows come from pubdata.open_dataset_rows (the table read as its owner); the
-- WITH clause, which nothing references and the planner therefore never plans,
-- keeps the view dependent on the opened columns, as a view over them would be
-- (dropping one needs CASCADE and rebuilds the view without it).
CREATE OR REPLACE FUNCTION pubdata._open_view_sql(rid bigint) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.format('WITH pubdata_depends AS (SELECT %s FROM %I.%I t) SELECT %s FROM pubdata.open_dataset_rows(%s) AS r(%s)',
		coalesce((SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c.column_name), ', ') FROM pubdata._open_columns($1) c), 'NULL'),
		n.nspname, k.relname,
		coalesce((SELECT pg_catalog.string_agg(pg_catalog.format('r.%I', c.column_name), ', ') FROM pubdata._open_columns($1) c), ''),
		$1, q.column_defs)
	  FROM pubdata._open_queries($1) q
	  JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) q.relation
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) k.relnamespace
$$;
COMMENT ON FUNCTION pubdata._open_view_sql(bigint) IS
	'The query of a resource''s open view: its rows through pubdata.open_dataset_rows, its dependency on the opened columns (internal)';

-- _open_sync(resource): create, rebuild or drop the resource's open view
CREATE OR REPLACE FUNCTION pubdata._open_sync(rid bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	c record;
	vname name;
	ncols integer := 0;
	comments text[] := '{}';
	expr text;
	readers name[];
	reader name;
	want boolean;
BEGIN
	SELECT res.*, d.name AS provider_name
	  INTO r
	  FROM pubdata.resource res
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) res.provider_id
	 WHERE res.id OPERATOR(pg_catalog.=) rid;
	want := FOUND AND r.status OPERATOR(pg_catalog.=) 'published'
		AND r.open_class OPERATOR(pg_catalog.<>) 'not_open' AND r.relation IS NOT NULL;

	IF NOT want THEN
		SELECT o.view_name INTO vname FROM pubdata.open_dataset o
		 WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.dropped_at IS NULL;
		IF vname IS NOT NULL THEN
			IF pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', vname)) IS NOT NULL THEN
				EXECUTE pg_catalog.format('DROP VIEW pubdata_open.%I', vname);
			END IF;
			UPDATE pubdata.open_dataset SET dropped_at = pg_catalog.now()
			 WHERE resource_id OPERATOR(pg_catalog.=) rid;
		END IF;
		RETURN;
	END IF;

	vname := pubdata._open_view_name(rid);
	FOR c IN SELECT * FROM pubdata._open_columns(rid) LOOP
		ncols := ncols OPERATOR(pg_catalog.+) 1;
		comments := comments || pg_catalog.format('COMMENT ON COLUMN pubdata_open.%I.%I IS %L', vname, c.column_name, c.comment);
	END LOOP;

	-- rebuilt from scratch: a changed item may change a column's type or position
	IF pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', vname)) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP VIEW pubdata_open.%I', vname);
	END IF;
	EXECUTE pg_catalog.format('CREATE VIEW pubdata_open.%I WITH (security_barrier) AS %s', vname, pubdata._open_view_sql(rid));
	EXECUTE pg_catalog.format('COMMENT ON VIEW pubdata_open.%I IS %L', vname,
		CASE WHEN r.high_value THEN '【高价值数据】' ELSE '' END || r.name
		|| coalesce('：' || nullif(r.summary, ''), '')
		|| '（提供部门：' || r.provider_name || '；资源代码：' || r.code || '；更新频率：' || r.update_frequency::text
		|| CASE WHEN r.open_class OPERATOR(pg_catalog.=) 'conditional' THEN '；有条件开放' ELSE '；无条件开放' END || '）');
	FOREACH expr IN ARRAY comments LOOP
		EXECUTE expr;
	END LOOP;

	-- who reads it: everyone with pubdata_open_reader, or the named roles
	IF r.open_class OPERATOR(pg_catalog.=) 'open' THEN
		readers := ARRAY['pubdata_open_reader']::name[];
	ELSE
		SELECT coalesce(pg_catalog.array_agg(o.role_name ORDER BY o.role_name), '{}') INTO readers
		  FROM pubdata.open_reader o
		  JOIN pg_catalog.pg_roles ro ON ro.rolname OPERATOR(pg_catalog.=) o.role_name
		 WHERE o.resource_id OPERATOR(pg_catalog.=) rid;
	END IF;
	-- the bureau oversees every open view
	EXECUTE pg_catalog.format('GRANT SELECT ON pubdata_open.%I TO pubdata_admin', vname);
	FOREACH reader IN ARRAY readers LOOP
		EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA pubdata_open TO %I', reader);
		EXECUTE pg_catalog.format('GRANT SELECT ON pubdata_open.%I TO %I', vname, reader);
		-- a view calls functions with its reader's rights: a named reader joins
		-- the role that may call pubdata.open_dataset_rows (which checks SELECT
		-- on the view; pubdata_open_reader has that right already).  Masks,
		-- pseudonyms included, are computed by pubdata, not by the reader.
		IF NOT pg_catalog.has_function_privilege(reader, 'pubdata.open_dataset_rows(bigint)', 'EXECUTE') THEN
			EXECUTE pg_catalog.format('GRANT pubdata_open_conditional TO %I', reader);
		END IF;
	END LOOP;

	INSERT INTO pubdata.open_dataset AS o (resource_id, view_name, columns)
	VALUES (rid, vname, ncols)
	ON CONFLICT (resource_id) DO UPDATE
		SET columns = excluded.columns, refreshed_at = pg_catalog.now(), dropped_at = NULL;
END
$$;
COMMENT ON FUNCTION pubdata._open_sync(bigint) IS
	'Create, rebuild or drop the open-data view of a resource from its catalog entry (internal; called by triggers)';

-- allow_open_reader(resource, role): the provider names a role that may read
-- its conditional dataset
CREATE OR REPLACE FUNCTION pubdata.allow_open_reader(resource text, role_name name) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata.resource_id(resource);
	r pubdata.resource;
BEGIN
	SELECT * INTO r FROM pubdata.resource WHERE id OPERATOR(pg_catalog.=) rid;
	IF NOT pubdata.is_admin() AND pubdata.current_department() OPERATOR(pg_catalog.<>) r.provider_id THEN
		RAISE EXCEPTION 'permission denied to name readers of resource "%"', resource
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only the resource''s provider department or pubdata_admin names who reads a conditional dataset.',
				  HINT = 'Ask the provider department.';
	END IF;
	IF r.open_class OPERATOR(pg_catalog.<>) 'conditional' THEN
		RAISE EXCEPTION 'resource "%" is not conditionally open', resource
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = pg_catalog.format('Its open class is %s.', r.open_class),
				  HINT = 'Readers are named only for resources with open_class ''conditional''; ''open'' ones are read by pubdata_open_reader.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles ro WHERE ro.rolname OPERATOR(pg_catalog.=) role_name)
	   OR role_name IN ('pubdata_admin', 'pubdata_department', 'pubdata_auditor', 'pubdata_open_reader',
						'pubdata_open_conditional') THEN
		RAISE EXCEPTION 'role "%" cannot be named as a reader', role_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Name an existing role other than pubdata''s own group roles, e.g. the login role of the BI tool that may read the dataset; a dataset for everyone is registered with open_class ''open''.';
	END IF;
	IF (SELECT ro.rolsuper FROM pg_catalog.pg_roles ro WHERE ro.rolname OPERATOR(pg_catalog.=) role_name) THEN
		RAISE EXCEPTION 'role "%" is a superuser', role_name
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Name an ordinary role.';
	END IF;
	INSERT INTO pubdata.open_reader (resource_id, role_name, granted_by)
	VALUES (rid, role_name, pubdata.caller())
	ON CONFLICT DO NOTHING;
	PERFORM pubdata._open_sync(rid);
END
$$;
COMMENT ON FUNCTION pubdata.allow_open_reader(text, name) IS
	'The provider (or pubdata_admin) lets a role read a conditional open dataset''s view (Art 20)';

REVOKE ALL ON FUNCTION pubdata._open_plain_type(oid), pubdata._open_columns(bigint), pubdata._open_queries(bigint),
	pubdata._open_source(bigint), pubdata.open_dataset_rows(bigint), pubdata._open_view_sql(bigint) FROM PUBLIC;
-- the views call it with their reader's rights; it checks SELECT on the view
GRANT EXECUTE ON FUNCTION pubdata.open_dataset_rows(bigint) TO pubdata_open_reader, pubdata_admin, pubdata_open_conditional;

-- The views made by 0.1: the same columns, read through open_dataset_rows.
-- Replaced in place (privileges, comments and dependent objects stay); each
-- is an extension member only while it is replaced, so that it stays out of
-- the extension (pg_dump dumps it) and no privilege is recorded as initial.
-- The named readers of conditional datasets join pubdata_open_conditional.
DO $rebuild$
DECLARE
	o record;
BEGIN
	FOR o IN SELECT d.resource_id, d.view_name FROM pubdata.open_dataset d
			  WHERE d.dropped_at IS NULL
				AND pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', d.view_name)) IS NOT NULL
			  ORDER BY d.resource_id
	LOOP
		EXECUTE pg_catalog.format('ALTER EXTENSION pubdata ADD VIEW pubdata_open.%I', o.view_name);
		EXECUTE pg_catalog.format('CREATE OR REPLACE VIEW pubdata_open.%I WITH (security_barrier) AS %s',
								  o.view_name, pubdata._open_view_sql(o.resource_id));
		EXECUTE pg_catalog.format('ALTER EXTENSION pubdata DROP VIEW pubdata_open.%I', o.view_name);
	END LOOP;
	FOR o IN SELECT DISTINCT r.role_name FROM pubdata.open_reader r
			   JOIN pg_catalog.pg_roles ro ON ro.rolname OPERATOR(pg_catalog.=) r.role_name
			  ORDER BY 1
	LOOP
		IF NOT pg_catalog.has_function_privilege(o.role_name, 'pubdata.open_dataset_rows(bigint)', 'EXECUTE') THEN
			EXECUTE pg_catalog.format('GRANT pubdata_open_conditional TO %I', o.role_name);
		END IF;
	END LOOP;
END
$rebuild$;
