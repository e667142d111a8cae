-- ---------------------------------------------------------------------------
-- Open data (Art 21): open views, masks, named readers (tables and the
-- schema pubdata_open: once/80_open.sql).
-- ---------------------------------------------------------------------------

REVOKE ALL ON SCHEMA pubdata_open FROM PUBLIC;
GRANT USAGE ON SCHEMA pubdata_open TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;

-- Restoring a dump: CREATE EXTENSION has just generated a key, and the dumped
-- key arrives by COPY; the dumped one replaces it, so pseudonyms stay stable.
CREATE OR REPLACE FUNCTION pubdata._open_key_replace() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	DELETE FROM pubdata.open_pseudonym_key;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION pubdata._open_key_replace() IS 'A key inserted (by a restore) replaces the one generated at install (internal)';
CREATE OR REPLACE TRIGGER open_key_replace BEFORE INSERT ON pubdata.open_pseudonym_key
	FOR EACH ROW EXECUTE FUNCTION pubdata._open_key_replace();
-- the executor's pseudonym keys follow the key (masked grants, src/mask.c)
CREATE OR REPLACE TRIGGER open_key_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.open_pseudonym_key
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();

-- _pgcrypto_schema(): where pgcrypto lives (it is relocatable)
CREATE OR REPLACE FUNCTION pubdata._pgcrypto_schema() RETURNS name
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT n.nspname FROM pg_catalog.pg_extension e
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
	 WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto'
$$;
COMMENT ON FUNCTION pubdata._pgcrypto_schema() IS 'The schema pgcrypto is installed in';

-- rotate_pseudonym_key(): a new key; every pseudonym in every view changes
CREATE OR REPLACE FUNCTION pubdata.rotate_pseudonym_key() RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pubdata._require_admin('rotate the pseudonymization key');
	EXECUTE pg_catalog.format('UPDATE pubdata.open_pseudonym_key SET key = %I.gen_random_bytes(32), created_at = pg_catalog.now()',
							  pubdata._pgcrypto_schema());
END
$$;
COMMENT ON FUNCTION pubdata.rotate_pseudonym_key() IS
	'Replace the pseudonymization key (pubdata_admin): all pseudonyms in open views change, links to old ones are lost';

-- mask_value(value, rule): what an open view shows for a value under a mask
-- rule; the same C code as the views (src/mask.c)
CREATE OR REPLACE FUNCTION pubdata.mask_value(value text, rule text) RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_mask_value'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION pubdata.mask_value(text, text) IS
	'The value as an open view shows it under a mask rule (none, id_card, name, phone, email, pseudonym, redact, year, month); pseudonym needs the key (pubdata_admin)';

-- _open_item_exposed(): does an item appear in the open view?
CREATE OR REPLACE FUNCTION pubdata._open_item_exposed(personal pubdata.personal_kind, item_class pubdata.share_class, rule pubdata.mask_rule)
	RETURNS boolean
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(item_class::text, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional'
	   AND rule OPERATOR(pg_catalog.<>) 'redact'
	   AND (personal OPERATOR(pg_catalog.=) 'none' OR rule OPERATOR(pg_catalog.<>) 'none')
$$;
COMMENT ON FUNCTION pubdata._open_item_exposed(pubdata.personal_kind, pubdata.share_class, pubdata.mask_rule) IS
	'An item is opened unless it is restricted or non-shared at item level, redacted, or personal/sensitive without a mask';

-- _open_base_type(type, typmod): the type an open view shows a column of
-- this type as, spelled for a column definition: the type itself, or the
-- base type of a domain (with the domain's typmod), when it is built in;
-- NULL for a type created in the database (a department's enum, composite,
-- or a domain over one), which the view shows as text, converted by the
-- table owner's read, so that the reader never runs the department's code.
CREATE OR REPLACE FUNCTION pubdata._open_base_type(typ oid, typmod integer) RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t record;
BEGIN
	LOOP
		SELECT y.typtype, y.typbasetype, y.typtypmod INTO t FROM pg_catalog.pg_type y WHERE y.oid OPERATOR(pg_catalog.=) typ;
		EXIT WHEN NOT FOUND OR t.typtype OPERATOR(pg_catalog.<>) 'd';
		IF t.typtypmod OPERATOR(pg_catalog.>=) 0 THEN
			typmod := t.typtypmod;
		END IF;
		typ := t.typbasetype;
	END LOOP;
	-- built in: made by initdb (FirstNormalObjectId), not a pseudo-type
	IF t IS NULL OR typ OPERATOR(pg_catalog.>=) 16384 OR t.typtype OPERATOR(pg_catalog.=) 'p' THEN
		RETURN NULL;
	END IF;
	RETURN pg_catalog.format_type(typ, typmod);
END
$$;
COMMENT ON FUNCTION pubdata._open_base_type(oid, integer) IS
	'The built-in type (a domain''s base type) an open view shows a column as, NULL when the column is shown as text (internal)';

-- _open_view_name(resource): a readable, stable name for the resource's view
CREATE OR REPLACE FUNCTION pubdata._open_view_name(rid bigint) RETURNS name
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	code text;
	v text;
BEGIN
	SELECT o.view_name INTO v FROM pubdata.open_dataset o WHERE o.resource_id OPERATOR(pg_catalog.=) rid;
	IF v IS NOT NULL THEN
		RETURN v;
	END IF;
	SELECT r.code INTO code FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	v := pg_catalog.lower(pg_catalog.regexp_replace(code, '[^A-Za-z0-9_]', '_', 'g'));
	IF v !~ '^[a-z_]' THEN
		v := 'ds_' || v;
	END IF;
	v := pg_catalog.left(v, 50);
	-- taken by another resource's view, or by anything else in the schema
	IF v OPERATOR(pg_catalog.=) 'catalog'
	   OR EXISTS (SELECT 1 FROM pubdata.open_dataset o WHERE o.view_name OPERATOR(pg_catalog.=) v)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c
				   WHERE c.relnamespace OPERATOR(pg_catalog.=) 'pubdata_open'::regnamespace
					 AND c.relname OPERATOR(pg_catalog.=) v) THEN
		v := v || '_' || rid;
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION pubdata._open_view_name(bigint) IS
	'View name for a resource: its code in lower case with other characters as underscores; kept once given (internal)';

-- _open_frequency(frequency): the Chinese name of an update frequency
CREATE OR REPLACE FUNCTION pubdata._open_frequency(f pubdata.update_frequency) RETURNS text
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE f::text
		WHEN 'realtime' THEN '实时' WHEN 'hourly' THEN '每小时' WHEN 'daily' THEN '每日'
		WHEN 'weekly' THEN '每周' WHEN 'monthly' THEN '每月' WHEN 'quarterly' THEN '每季度'
		WHEN 'semiannual' THEN '每半年' WHEN 'annual' THEN '每年' WHEN 'on_demand' THEN '按需'
		ELSE f::text END
$$;
COMMENT ON FUNCTION pubdata._open_frequency(pubdata.update_frequency) IS
	'The Chinese name of an update frequency, for the comments of open views (internal)';

-- _open_columns(resource): the columns of a resource's open view, in table
-- order.  source_expr is what the table owner's read takes from the table
-- (see pubdata.open_dataset_rows); mask the rule pubdata applies to it (none:
-- shown as read); col_type the view column's type: the column's own when it
-- is built in and not masked, else text; comment the item's title and
-- description, and how it is masked.
CREATE OR REPLACE FUNCTION pubdata._open_columns(rid bigint)
	RETURNS TABLE (column_name name, col_type text, source_expr text, mask text, comment text)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	i record;
	base text;
BEGIN
	FOR i IN
		SELECT it.column_name, it.title, it.description, it.personal, it.mask, a.atttypid, a.atttypmod
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
		mask := i.mask::text;
		base := pubdata._open_base_type(i.atttypid, i.atttypmod);
		-- the title, and the description when it says more than the title
		comment := i.title || CASE WHEN nullif(pg_catalog.btrim(i.description), '') IS NULL
									 OR pg_catalog.btrim(i.description) OPERATOR(pg_catalog.=) pg_catalog.btrim(i.title)
								   THEN '' ELSE '：' || pg_catalog.btrim(i.description) END;
		IF i.mask OPERATOR(pg_catalog.=) 'none' THEN
			col_type := coalesce(base, 'pg_catalog.text');
			source_expr := CASE WHEN base IS NULL THEN pg_catalog.format('(t.%I)::pg_catalog.text', i.column_name)
								WHEN i.atttypid OPERATOR(pg_catalog.=) pg_catalog.to_regtype(base)
									THEN pg_catalog.format('t.%I', i.column_name)
								ELSE pg_catalog.format('(t.%I)::%s', i.column_name, base) END;
		ELSE
			col_type := 'pg_catalog.text';
			-- year and month take the fields of a date or timestamp, else the text
			source_expr := CASE WHEN mask IN ('year', 'month')
									 AND pg_catalog.to_regtype(base) IN ('pg_catalog.date'::pg_catalog.regtype,
										'pg_catalog.timestamp'::pg_catalog.regtype, 'pg_catalog.timestamptz'::pg_catalog.regtype)
								THEN pg_catalog.format('(t.%I)::%s', i.column_name, base)
								ELSE pg_catalog.format('(t.%I)::pg_catalog.text', i.column_name) END;
			comment := comment || CASE mask
				WHEN 'pseudonym' THEN '（化名：HMAC-SHA256 密钥化名，可关联，不可还原；文本）'
				WHEN 'year' THEN '（已脱敏：仅保留年份；文本）'
				WHEN 'month' THEN '（已脱敏：仅保留年月；文本）'
				ELSE '（已脱敏：部分遮盖；文本）' END;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._open_columns(bigint) IS
	'The columns of a resource''s open view: what is read from its table, the mask applied, the type and the comment (internal)';

-- _open_queries(resource): what an open view is made of.  source_sql reads
-- the exposed columns of the table, run by pubdata.open_dataset_rows as the
-- table's owner in a security-restricted operation: whatever the department
-- planted in its table or view (index expressions, functions, casts) runs
-- with the department's rights, never with the reader's or the bureau's.
-- masks holds each column's rule, applied in C to what that read gives;
-- column_defs the view's column definitions.
CREATE OR REPLACE FUNCTION pubdata._open_queries(rid bigint,
	OUT code text, OUT relation oid, OUT source_sql text, OUT column_defs text, OUT masks text[])
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	src text[] := '{}';
	defs text[] := '{}';
	c record;
BEGIN
	SELECT r.code, r.relation::oid INTO code, relation FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid;
	IF relation IS NULL THEN
		RETURN;
	END IF;
	masks := '{}';
	FOR c IN SELECT * FROM pubdata._open_columns(rid) LOOP
		src := src || pg_catalog.format('%s AS %I', c.source_expr, c.column_name);
		defs := defs || pg_catalog.format('%I %s', c.column_name, c.col_type);
		masks := masks || c.mask;
	END LOOP;
	-- a view without open columns still has its rows
	IF pg_catalog.cardinality(defs) OPERATOR(pg_catalog.=) 0 THEN
		src := ARRAY['NULL::pg_catalog.bool AS pubdata_row'];
		defs := ARRAY['pubdata_row pg_catalog.bool'];
		masks := ARRAY['none'];
	END IF;
	source_sql := pg_catalog.format('SELECT %s FROM %I.%I t', pg_catalog.array_to_string(src, ', '),
		(SELECT n.nspname FROM pg_catalog.pg_class k JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) k.relnamespace
		  WHERE k.oid OPERATOR(pg_catalog.=) relation),
		(SELECT k.relname FROM pg_catalog.pg_class k WHERE k.oid OPERATOR(pg_catalog.=) relation));
	column_defs := pg_catalog.array_to_string(defs, ', ');
END
$$;
COMMENT ON FUNCTION pubdata._open_queries(bigint) IS
	'What a resource''s open view is made of: the read of its table (run as the table''s owner), each column''s mask and the column definitions (internal)';

-- _open_source(resource): the exposed columns of a resource's table, read as
-- the table's owner in a security-restricted operation, masks not applied
-- (C, src/open_rows.c).
-- Executable by nobody: pubdata.open_dataset_rows calls it as the extension owner.
CREATE OR REPLACE FUNCTION pubdata._open_source(resource bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pubdata_open_source'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._open_source(bigint) IS
	'Internal: the plain values of the open items of a resource''s table, read as its owner in a security-restricted operation';

-- open_dataset_rows(resource): what a resource's open view shows: one read of
-- the table as its owner, masked in C (src/open_rows.c)
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

-- _open_comments(resource, view): the comments BI tools show, one language,
-- no repetition: on the view, the dataset (high-value mark, name, summary,
-- provider, code, frequency, open class); on each column, the item's title
-- and description and how it is masked
CREATE OR REPLACE FUNCTION pubdata._open_comments(rid bigint, vname name) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	c record;
BEGIN
	SELECT res.*, d.name AS provider_name INTO r
	  FROM pubdata.resource res
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) res.provider_id
	 WHERE res.id OPERATOR(pg_catalog.=) rid;
	EXECUTE pg_catalog.format('COMMENT ON VIEW pubdata_open.%I IS %L', vname,
		CASE WHEN r.high_value THEN '【高价值数据】' ELSE '' END || r.name
		|| CASE WHEN nullif(pg_catalog.btrim(r.summary), '') IS NULL
				  OR pg_catalog.btrim(r.summary) OPERATOR(pg_catalog.=) pg_catalog.btrim(r.name)
				THEN '' ELSE '：' || pg_catalog.btrim(r.summary) END
		|| '（提供部门：' || r.provider_name || '；资源代码：' || r.code || '；更新频率：' || pubdata._open_frequency(r.update_frequency)
		|| CASE WHEN r.open_class OPERATOR(pg_catalog.=) 'conditional' THEN '；有条件开放' ELSE '；无条件开放' END || '）');
	FOR c IN SELECT * FROM pubdata._open_columns(rid) LOOP
		EXECUTE pg_catalog.format('COMMENT ON COLUMN pubdata_open.%I.%I IS %L', vname, c.column_name, c.comment);
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._open_comments(bigint, name) IS
	'Comment a resource''s open view and its columns from the catalog (internal)';

-- _open_sync(resource): create, rebuild or drop the resource's open view
CREATE OR REPLACE FUNCTION pubdata._open_sync(rid bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	vname name;
	ncols integer := 0;
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
	SELECT pg_catalog.count(*) INTO ncols FROM pubdata._open_columns(rid);

	-- rebuilt from scratch: a changed item may change a column's type or position
	IF pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', vname)) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP VIEW pubdata_open.%I', vname);
	END IF;
	EXECUTE pg_catalog.format('CREATE VIEW pubdata_open.%I WITH (security_barrier) AS %s', vname, pubdata._open_view_sql(rid));
	PERFORM pubdata._open_comments(rid, vname);

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

-- Triggers: the catalog drives the views, whatever function changed it.
-- Only UPDATE and DELETE: a resource is registered (INSERT) as a draft and
-- published by an UPDATE, and new items arrive as 'added', not yet opened;
-- so restoring a dump (COPY = INSERT) leaves the dumped views, their grants
-- and pubdata.open_dataset exactly as they were.
CREATE OR REPLACE FUNCTION pubdata._open_resource_trigger() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		PERFORM pubdata._open_sync(OLD.id);
	ELSIF (NEW.status, NEW.open_class, NEW.code, NEW.name, NEW.summary, NEW.high_value, NEW.relation::oid,
		   NEW.provider_id, NEW.update_frequency)
		  IS NOT DISTINCT FROM
		  (OLD.status, OLD.open_class, OLD.code, OLD.name, OLD.summary, OLD.high_value, OLD.relation::oid,
		   OLD.provider_id, OLD.update_frequency) THEN
		-- nothing the view shows changed (e.g. only the version, bumped by an item change)
		RETURN NULL;
	ELSIF NEW.status OPERATOR(pg_catalog.=) 'published'
		  OR EXISTS (SELECT 1 FROM pubdata.open_dataset o
					  WHERE o.resource_id OPERATOR(pg_catalog.=) NEW.id AND o.dropped_at IS NULL) THEN
		PERFORM pubdata._open_sync(NEW.id);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._open_resource_trigger() IS 'Keeps open-data views in step with pubdata.resource (internal)';

CREATE OR REPLACE FUNCTION pubdata._open_item_trigger() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint;
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		rid := OLD.resource_id;
	ELSE
		rid := NEW.resource_id;
	END IF;
	IF EXISTS (SELECT 1 FROM pubdata.resource r
				WHERE r.id OPERATOR(pg_catalog.=) rid AND r.status OPERATOR(pg_catalog.=) 'published')
	   OR EXISTS (SELECT 1 FROM pubdata.open_dataset o
				   WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.dropped_at IS NULL) THEN
		PERFORM pubdata._open_sync(rid);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pubdata._open_item_trigger() IS 'Rebuilds an open-data view when one of its items changes (internal)';

CREATE OR REPLACE TRIGGER open_view_sync AFTER UPDATE OR DELETE ON pubdata.resource
	FOR EACH ROW EXECUTE FUNCTION pubdata._open_resource_trigger();
CREATE OR REPLACE TRIGGER open_view_sync AFTER UPDATE OR DELETE ON pubdata.resource_item
	FOR EACH ROW EXECUTE FUNCTION pubdata._open_item_trigger();

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

-- disallow_open_reader(resource, role): take it back
CREATE OR REPLACE FUNCTION pubdata.disallow_open_reader(resource text, role_name name) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint := pubdata.resource_id(resource);
	vname name;
BEGIN
	IF NOT pubdata.is_admin() AND pubdata.current_department() OPERATOR(pg_catalog.<>)
		(SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) rid) THEN
		RAISE EXCEPTION 'permission denied to name readers of resource "%"', resource
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Only the resource''s provider department or pubdata_admin does this.';
	END IF;
	DELETE FROM pubdata.open_reader o
	 WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.role_name OPERATOR(pg_catalog.=) disallow_open_reader.role_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role "%" is not a named reader of resource "%"', role_name, resource
			USING ERRCODE = 'undefined_object', HINT = 'See pubdata.open_reader.';
	END IF;
	SELECT o.view_name INTO vname FROM pubdata.open_dataset o
	 WHERE o.resource_id OPERATOR(pg_catalog.=) rid AND o.dropped_at IS NULL;
	IF vname IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles ro WHERE ro.rolname OPERATOR(pg_catalog.=) role_name) THEN
		EXECUTE pg_catalog.format('REVOKE ALL ON pubdata_open.%I FROM %I', vname, role_name);
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.disallow_open_reader(text, name) IS
	'The provider (or pubdata_admin) withdraws a role''s right to read a conditional open dataset';

-- ---------------------------------------------------------------------------
-- The open catalog (Art 21): high-value datasets first
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW pubdata_open.catalog AS
	SELECT r.code::text AS dataset_code,
		   r.name::text AS title,
		   r.summary::text AS description,
		   d.name::text AS publisher,
		   r.category::text AS theme,
		   pg_catalog.array_to_string(r.keywords, '，') AS keywords,
		   r.update_frequency::text AS update_frequency,
		   pg_catalog.timezone('Asia/Shanghai', GREATEST(r.updated_at, r.published_at, o.refreshed_at)) AS last_modified,
		   pg_catalog.format('pubdata_open.%I', o.view_name) AS access_view,
		   r.high_value,
		   r.open_class::text AS open_class,
		   o.columns::numeric AS items,
		   r.id AS resource_id
	  FROM pubdata.resource r
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id
	  JOIN pubdata.open_dataset o ON o.resource_id OPERATOR(pg_catalog.=) r.id
	 WHERE r.status OPERATOR(pg_catalog.=) 'published'
	   AND r.open_class OPERATOR(pg_catalog.<>) 'not_open'
	   AND o.dropped_at IS NULL
	 ORDER BY r.high_value DESC, r.code;
COMMENT ON VIEW pubdata_open.catalog IS '公共数据开放目录：每个开放数据集一行，高价值数据在前（第二十一条）. The open catalog, high-value datasets first';
COMMENT ON COLUMN pubdata_open.catalog.dataset_code IS '资源代码 resource code';
COMMENT ON COLUMN pubdata_open.catalog.title IS '数据集名称 title';
COMMENT ON COLUMN pubdata_open.catalog.description IS '摘要 description';
COMMENT ON COLUMN pubdata_open.catalog.publisher IS '提供部门 publisher (the providing department)';
COMMENT ON COLUMN pubdata_open.catalog.theme IS '主题分类 theme / category';
COMMENT ON COLUMN pubdata_open.catalog.keywords IS '关键词 keywords';
COMMENT ON COLUMN pubdata_open.catalog.update_frequency IS '更新频率 update frequency';
COMMENT ON COLUMN pubdata_open.catalog.last_modified IS '最后更新时间（北京时间） last modified (Asia/Shanghai)';
COMMENT ON COLUMN pubdata_open.catalog.access_view IS '访问视图 the view to query';
COMMENT ON COLUMN pubdata_open.catalog.high_value IS '高价值数据 high-value data (Art 21)';
COMMENT ON COLUMN pubdata_open.catalog.open_class IS '开放类型：open 无条件开放，conditional 有条件开放（仅限指定角色）';
COMMENT ON COLUMN pubdata_open.catalog.items IS '开放数据项数 number of open items';
COMMENT ON COLUMN pubdata_open.catalog.resource_id IS '资源编号 resource id';

GRANT SELECT ON pubdata_open.catalog TO pubdata_open_reader, pubdata_admin, pubdata_auditor, pubdata_department;
GRANT SELECT ON pubdata.open_dataset, pubdata.open_reader TO pubdata_admin, pubdata_auditor, pubdata_department;
GRANT SELECT ON pubdata.open_pseudonym_key TO pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.allow_open_reader(text, name), pubdata.disallow_open_reader(text, name),
	pubdata.mask_value(text, text) TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata._check_enum(text, regtype, text), pubdata._pgcrypto_schema()
	TO pubdata_admin, pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.rotate_pseudonym_key() TO pubdata_admin;
-- the views call it with their reader's rights; it checks SELECT on the view
GRANT EXECUTE ON FUNCTION pubdata.open_dataset_rows(bigint) TO pubdata_open_reader, pubdata_admin, pubdata_open_conditional;
