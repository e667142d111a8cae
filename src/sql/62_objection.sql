-- ---------------------------------------------------------------------------
-- Objections (Art 22): tickets, keys, deadlines and their views (tables:
-- once/62_objection.sql).
-- ---------------------------------------------------------------------------

-- Departments see the tickets they raised or must verify; the bureau and the
-- audit office see all.  Everything else goes through the functions below.
ALTER TABLE pubdata.objection ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.objection_event ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS objection_parties ON pubdata.objection;
CREATE POLICY objection_parties ON pubdata.objection FOR SELECT TO pubdata_department
	USING (raised_by_department OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(current_user))
		   OR provider_id OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(current_user)));
DROP POLICY IF EXISTS objection_oversight ON pubdata.objection;
CREATE POLICY objection_oversight ON pubdata.objection FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
DROP POLICY IF EXISTS objection_event_parties ON pubdata.objection_event;
CREATE POLICY objection_event_parties ON pubdata.objection_event FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.objection o WHERE o.id OPERATOR(pg_catalog.=) objection_id));
DROP POLICY IF EXISTS objection_event_oversight ON pubdata.objection_event;
CREATE POLICY objection_event_oversight ON pubdata.objection_event FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);

-- _objection_key: check that a record key names columns of the resource, with
-- scalar values of the columns' types, and return it in canonical form (each
-- value as the column's JSON value, e.g. {"id": "42"} becomes {"id": 42} for an
-- integer column), so that keys compare equal however they were typed
CREATE OR REPLACE FUNCTION pubdata._objection_key(resource_id bigint, key jsonb, what text)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	k text;
	v jsonb;
	rowj jsonb;
BEGIN
	SELECT x.code, x.relation INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF $2 IS NULL OR pg_catalog.jsonb_typeof($2) OPERATOR(pg_catalog.<>) 'object' OR $2 OPERATOR(pg_catalog.=) '{}'::jsonb THEN
		RAISE EXCEPTION 'invalid %: %', $3, coalesce($2::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give the record''s key columns and values as a JSON object, e.g. ''{"id": 42}''.';
	END IF;
	FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each($2) e LOOP
		IF NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
						WHERE i.resource_id OPERATOR(pg_catalog.=) $1
						  AND i.column_name OPERATOR(pg_catalog.=) k
						  AND i.state OPERATOR(pg_catalog.<>) 'dropped') THEN
			RAISE EXCEPTION 'resource "%" has no item "%"', r.code, k
				USING ERRCODE = 'undefined_column',
					  HINT = 'The ' || $3 || ' names columns of the resource''s table: '
						  || (SELECT pg_catalog.string_agg(i.column_name::text, ', ' ORDER BY i.attnum)
								FROM pubdata.resource_item i
							   WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.state OPERATOR(pg_catalog.<>) 'dropped') || '.';
		END IF;
		IF pg_catalog.jsonb_typeof(v) NOT IN ('string', 'number', 'boolean') THEN
			RAISE EXCEPTION 'invalid value for key "%" in %: %', k, $3, v::text
				USING ERRCODE = 'invalid_parameter_value', HINT = 'Key values are strings, numbers or booleans.';
		END IF;
	END LOOP;
	IF r.relation IS NULL THEN
		RETURN $2;
	END IF;
	-- each value converted to its column's plain type (never through a
	-- domain's CHECK or other code a department may have written)
	rowj := '{}';
	FOR k IN SELECT e.key FROM pg_catalog.jsonb_each($2) e LOOP
		BEGIN
			EXECUTE pg_catalog.format('SELECT pg_catalog.jsonb_build_object(%L, ($1 OPERATOR(pg_catalog.->>) %L)::%s)',
									  k, k, pubdata._plain_type(r.relation, k))
			   INTO v USING $2;
		EXCEPTION WHEN data_exception THEN
			RAISE EXCEPTION 'invalid % for resource "%": %', $3, r.code, SQLERRM
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Each value must be valid for its column''s type.';
		END;
		rowj := rowj OPERATOR(pg_catalog.||) v;
	END LOOP;
	RETURN rowj;
END
$$;
COMMENT ON FUNCTION pubdata._objection_key(bigint, jsonb, text) IS
	'Internal: check a record key against the resource''s columns and types; returns it in canonical form';

-- _objection_key_items: the items that name a record of the resource: those
-- the catalog flags as keys (set_item(..., is_key => true)), or, where it
-- flags none, the columns of the table's primary key
CREATE OR REPLACE FUNCTION pubdata._objection_key_items(resource_id bigint) RETURNS name[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(
		(SELECT pg_catalog.array_agg(i.column_name ORDER BY i.attnum, i.column_name) FROM pubdata.resource_item i
		  WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.is_key AND i.state OPERATOR(pg_catalog.<>) 'dropped'),
		(SELECT pg_catalog.array_agg(i.column_name ORDER BY i.attnum)
		   FROM pubdata.resource r
		   JOIN pg_catalog.pg_index x ON x.indrelid OPERATOR(pg_catalog.=) r.relation::oid AND x.indisprimary
		   JOIN pubdata.resource_item i ON i.resource_id OPERATOR(pg_catalog.=) r.id
			AND i.attnum OPERATOR(pg_catalog.=) ANY (x.indkey::smallint[]) AND i.state OPERATOR(pg_catalog.<>) 'dropped'
		  WHERE r.id OPERATOR(pg_catalog.=) $1),
		'{}')
$$;
COMMENT ON FUNCTION pubdata._objection_key_items(bigint) IS
	'Internal: the key items of a resource (flagged is_key, else its table''s primary key), which name a record in an objection';

-- _objection_item_open: is this item shared with every department without a
-- grant (an unconditional, non-personal item of an unconditional resource)?
CREATE OR REPLACE FUNCTION pubdata._objection_item_open(resource_id bigint, item text) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pubdata.resource r JOIN pubdata.resource_item i ON i.resource_id OPERATOR(pg_catalog.=) r.id
					WHERE r.id OPERATOR(pg_catalog.=) $1
					  AND r.share_class OPERATOR(pg_catalog.=) 'unconditional'
					  AND i.column_name OPERATOR(pg_catalog.=) $2 AND i.state OPERATOR(pg_catalog.<>) 'dropped'
					  AND i.attnum IS NOT NULL AND i.personal OPERATOR(pg_catalog.=) 'none'
					  AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional')
$$;
COMMENT ON FUNCTION pubdata._objection_item_open(bigint, text) IS
	'Internal: whether an item is read by every department without a grant (unconditional sharing)';

-- _objection_grant_covers: does a grant of these items give this item (as
-- _grant_columns decides: never a non-shared item)?
CREATE OR REPLACE FUNCTION pubdata._objection_grant_covers(resource_id bigint, items name[], item text) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pubdata.resource r JOIN pubdata.resource_item i ON i.resource_id OPERATOR(pg_catalog.=) r.id
					WHERE r.id OPERATOR(pg_catalog.=) $1 AND i.column_name OPERATOR(pg_catalog.=) $3
					  AND i.state OPERATOR(pg_catalog.<>) 'dropped' AND i.attnum IS NOT NULL
					  AND coalesce(i.share_class, r.share_class) OPERATOR(pg_catalog.<>) 'non_shared'
					  AND ($2 IS NULL OR i.column_name OPERATOR(pg_catalog.=) ANY ($2)))
$$;
COMMENT ON FUNCTION pubdata._objection_grant_covers(bigint, name[], text) IS
	'Internal: whether a grant of the given items (NULL: all shareable items) gives an item';

-- _reads(resource, item): does the calling role read this item (NULL: any
-- item) of the resource: its table's owner or a role with the table's own
-- SELECT privilege, its provider department, an item every department reads,
-- or the items of a live grant of its department?  Column privileges cannot
-- tell: the items of the departments' grants are given to pubdata_department
-- as a group, and the access guard gives each department its own.
CREATE OR REPLACE FUNCTION pubdata._reads(resource_id bigint, item text) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pubdata.resource r
					WHERE r.id OPERATOR(pg_catalog.=) $1
					  AND (pg_catalog.has_table_privilege(pubdata.caller(), r.relation::oid, 'SELECT')
						   OR r.provider_id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller())))
		OR EXISTS (SELECT 1 FROM pubdata.resource r JOIN pubdata.resource_item i ON i.resource_id OPERATOR(pg_catalog.=) r.id
					WHERE r.id OPERATOR(pg_catalog.=) $1 AND r.status OPERATOR(pg_catalog.=) 'published'
					  AND ($2 IS NULL OR i.column_name::text OPERATOR(pg_catalog.=) $2)
					  AND pubdata._objection_item_open(r.id, i.column_name))
		OR EXISTS (SELECT 1 FROM pubdata.share_request s
					WHERE s.resource_id OPERATOR(pg_catalog.=) $1
					  AND s.requester_id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller())
					  AND pubdata._grant_live(s)
					  AND ($2 IS NULL OR pubdata._objection_grant_covers($1, s.items, $2)))
$$;
COMMENT ON FUNCTION pubdata._reads(bigint, text) IS
	'Internal: whether the calling role reads an item (NULL: any item) of a resource, as its provider, as an item open to every department, or under a live grant of its department';
REVOKE ALL ON FUNCTION pubdata._reads(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata._reads(bigint, text) TO pubdata_department, pubdata_admin, pubdata_auditor;

-- _objection_check_key: a record key (in canonical form) names exactly the
-- resource's key items, and the caller may read each of them: the provider,
-- the bureau and the audit office any key item; a department those items
-- every department reads, or those of a live grant of its own.  Otherwise a
-- key would answer questions about columns the caller cannot read.
CREATE OR REPLACE FUNCTION pubdata._objection_check_key(resource_id bigint, key jsonb, what text) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	dept integer := pubdata.department_of(pubdata.caller());
	keys name[] := pubdata._objection_key_items($1);
	k text;
BEGIN
	SELECT x.code, x.provider_id INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF pg_catalog.cardinality(keys) OPERATOR(pg_catalog.=) 0 THEN
		RAISE EXCEPTION 'resource "%" has no key items', r.code
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = pg_catalog.format('A %s names a record by the resource''s key items.', $3),
				  HINT = 'The provider marks them with pubdata.set_item(resource, item, is_key => true), or gives its table a primary key.';
	END IF;
	FOR k IN SELECT e.key FROM pg_catalog.jsonb_object_keys($2) AS e(key) LOOP
		IF NOT k OPERATOR(pg_catalog.=) ANY (keys) THEN
			RAISE EXCEPTION 'item "%" of resource "%" is not a key item', k, r.code
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = pg_catalog.format('A %s names a record by the resource''s key items: %s.', $3,
												  pg_catalog.array_to_string(keys, ', ')),
					  HINT = 'Give the record''s key items and their values, e.g. ''{"' || keys[1] || '": ...}''.';
		END IF;
	END LOOP;
	SELECT pg_catalog.string_agg(x.k, ', ') INTO k FROM pg_catalog.unnest(keys) AS x(k)
	 WHERE NOT $2 OPERATOR(pg_catalog.?) x.k;
	IF k IS NOT NULL THEN
		RAISE EXCEPTION '% of resource "%" lacks key items %', $3, r.code, k
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('The key items are: %s.', pg_catalog.array_to_string(keys, ', ')),
				  HINT = 'Give every key item of the record.';
	END IF;
	IF pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
	   OR r.provider_id OPERATOR(pg_catalog.=) dept THEN
		RETURN;
	END IF;
	FOR k IN SELECT e.key FROM pg_catalog.jsonb_object_keys($2) AS e(key) LOOP
		IF NOT (pubdata._objection_item_open($1, k)
				OR EXISTS (SELECT 1 FROM pubdata.share_request s
							WHERE s.resource_id OPERATOR(pg_catalog.=) $1 AND s.requester_id OPERATOR(pg_catalog.=) dept
							  AND pubdata._grant_live(s) AND pubdata._objection_grant_covers($1, s.items, k))) THEN
			RAISE EXCEPTION 'key item "%" of resource "%" is not shared with your department', k, r.code
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = pg_catalog.format('A %s names a record by items the department reads.', $3),
					  HINT = 'Request the key items with the others: pubdata.request_share(resource, purpose, items => ARRAY[...]).';
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._objection_check_key(bigint, jsonb, text) IS
	'Internal: error unless a record key names exactly the resource''s key items, each readable by the caller''s department';

-- _objection_in_scope: is the record among the rows shared with the caller's
-- department?  A department with a row-scoped grant neither raises objections
-- against, nor asks about, records outside its rows (the same answer whether
-- the record exists or not); a key of items the department cannot read is
-- never in scope.  The table is read only through _owner_count, as its owner.
-- Internal: called by raise_objection, under_verification and, through
-- _objection_visible, the view open_objection; departments do not call it.
CREATE OR REPLACE FUNCTION pubdata._objection_in_scope(resource_id bigint, key jsonb) RETURNS boolean
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	g record;
	dept integer := pubdata.department_of(pubdata.caller());
	keys name[] := pubdata._objection_key_items($1);
	needs_grant text[];
	cond text;
BEGIN
	IF pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER') THEN
		RETURN true;
	END IF;
	SELECT x.relation, x.provider_id, c.relkind INTO r
	  FROM pubdata.resource x LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.relation::oid
	 WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF r.relation IS NULL OR r.provider_id OPERATOR(pg_catalog.=) dept THEN
		RETURN true;
	END IF;
	-- a record is named by the key items, each read by the department
	IF dept IS NULL OR $2 IS NULL OR pg_catalog.jsonb_typeof($2) OPERATOR(pg_catalog.<>) 'object'
	   OR $2 OPERATOR(pg_catalog.=) '{}'::jsonb
	   OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys($2) AS e(k) WHERE NOT e.k OPERATOR(pg_catalog.=) ANY (keys)) THEN
		RETURN false;
	END IF;
	-- key items every department reads: every row is shared
	SELECT pg_catalog.array_agg(e.k) INTO needs_grant FROM pg_catalog.jsonb_object_keys($2) AS e(k)
	 WHERE NOT pubdata._objection_item_open($1, e.k);
	IF needs_grant IS NULL THEN
		RETURN true;
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.format('t.%I::%s IS NOT DISTINCT FROM ($1 OPERATOR(pg_catalog.->>) %L)::%s',
					k, pubdata._plain_type(r.relation, k), k, pubdata._plain_type(r.relation, k)), ' AND ')
	  INTO cond FROM pg_catalog.jsonb_object_keys($2) AS k;
	-- the rows of the grants that give the other key items
	FOR g IN SELECT s.row_scope FROM pubdata.share_request s
			  WHERE s.resource_id OPERATOR(pg_catalog.=) $1 AND s.requester_id OPERATOR(pg_catalog.=) dept
				AND pubdata._grant_live(s)
				AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(needs_grant) AS u(k)
								 WHERE NOT pubdata._objection_grant_covers($1, s.items, u.k))
			  ORDER BY coalesce(s.row_scope, '{}') OPERATOR(pg_catalog.=) '{}' DESC, s.id
	LOOP
		IF coalesce(g.row_scope, '{}') OPERATOR(pg_catalog.=) '{}' THEN
			RETURN true;
		END IF;
		-- rows are looked up in tables only (as in 0.1)
		CONTINUE WHEN r.relkind OPERATOR(pg_catalog.<>) ALL ('{r,p,m}'::"char"[]);
		IF pubdata._owner_count(r.relation,
				pg_catalog.format('SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s t WHERE %s AND (%s) LIMIT 1) s',
								  r.relation, cond, pubdata._scope_predicate($1, g.row_scope)),
				$2) OPERATOR(pg_catalog.>) 0 THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END
$$;
COMMENT ON FUNCTION pubdata._objection_in_scope(bigint, jsonb) IS
	'Internal: whether a record key names a row within the caller''s grants (key items it reads, row scopes); read as the table''s owner';

-- _objection_visible: whether the querying department sees an objection in
-- the view open_objection (its record within its grants); the view calls it
-- as the reading role, about tickets that exist, never about any key
CREATE OR REPLACE FUNCTION pubdata._objection_visible(objection_id bigint) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce((SELECT pubdata._objection_in_scope(o.resource_id, o.record_key)
					   FROM pubdata.objection o WHERE o.id OPERATOR(pg_catalog.=) $1), false)
$$;
COMMENT ON FUNCTION pubdata._objection_visible(bigint) IS
	'Internal: whether an objection''s record is within the querying department''s grants (the view open_objection)';
GRANT EXECUTE ON FUNCTION pubdata._objection_visible(bigint) TO pubdata_department, pubdata_admin, pubdata_auditor;

-- _objection_event: append to a ticket's history
CREATE OR REPLACE FUNCTION pubdata._objection_event(objection_id bigint, kind pubdata.objection_event_kind, detail jsonb)
	RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	INSERT INTO pubdata.objection_event (objection_id, kind, actor, detail)
	VALUES ($1, $2, pubdata.caller(), coalesce($3, '{}'));
$$;
COMMENT ON FUNCTION pubdata._objection_event(bigint, pubdata.objection_event_kind, jsonb) IS
	'Internal: record an event in an objection''s history';

-- raise_objection: a using department objects to a record of a shared resource
CREATE OR REPLACE FUNCTION pubdata.raise_objection(resource text, record_key jsonb, item text, description text)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	dept integer := pubdata.current_department();
	r record;
	due timestamptz;
	provisional boolean;
	uses boolean;
	key jsonb;
	oid_ bigint;
BEGIN
	SELECT x.id, x.code, x.relation, x.provider_id, x.status, x.share_class, d.code AS provider_code
	  INTO r
	  FROM pubdata.resource x JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
	 WHERE x.id OPERATOR(pg_catalog.=) pubdata.resource_id($1);
	IF r.provider_id OPERATOR(pg_catalog.=) dept THEN
		RAISE EXCEPTION 'department "%" provides resource "%" and cannot raise an objection against it', r.provider_code, r.code
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Objections (Art 13) are raised by the departments that use shared data.',
				  HINT = 'Correct your own data directly.';
	END IF;
	IF r.status OPERATOR(pg_catalog.=) 'retired' OR r.relation IS NULL THEN
		RAISE EXCEPTION 'resource "%" is retired', r.code
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Objections are raised against resources in service.';
	END IF;
	IF $3 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
									   WHERE i.resource_id OPERATOR(pg_catalog.=) r.id
										 AND i.column_name OPERATOR(pg_catalog.=) $3
										 AND i.state OPERATOR(pg_catalog.<>) 'dropped') THEN
		RAISE EXCEPTION 'resource "%" has no item "%"', r.code, $3
			USING ERRCODE = 'undefined_column',
				  HINT = 'Items: ' || (SELECT pg_catalog.string_agg(i.column_name::text, ', ' ORDER BY i.attnum)
										FROM pubdata.resource_item i
									   WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped') || '.';
	END IF;
	-- a department objects to data it uses: it must be able to read the item
	-- (or, for the record as a whole, some item) of the resource's table
	uses := pubdata._reads(r.id, $3);
	IF NOT coalesce(uses, false) THEN
		RAISE EXCEPTION 'department of role "%" does not use %resource "%"', pubdata.caller(),
				CASE WHEN $3 IS NULL THEN '' ELSE pg_catalog.format('item "%s" of ', $3) END, r.code
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'An objection is raised by a department that reads the data (through an interface or by hand).',
				  HINT = 'Request access to the resource first (it must be shared with your department).';
	END IF;
	key := pubdata._objection_key(r.id, $2, 'record key');
	PERFORM pubdata._objection_check_key(r.id, key, 'record key');
	IF NOT pubdata._objection_in_scope(r.id, key) THEN
		RAISE EXCEPTION 'record % is not among the rows of resource "%" shared with your department', key::text, r.code
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Objections are raised against records the department reads.';
	END IF;
	IF coalesce(pg_catalog.btrim($4), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'an objection needs a description'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Say what is wrong with the record.';
	END IF;

	-- a deadline counted over a year without an official arrangement is
	-- provisional (recomputed while unresolved when the year is loaded)
	due := pubdata.add_working_days(pg_catalog.now(), pubdata._objection_due_days());
	provisional := pubdata.provisional_between(pg_catalog.now(), due);
	INSERT INTO pubdata.objection (resource_id, record_key, item, description, raised_by_department,
								   raised_by_role, provider_id, due_at, working_days, due_provisional)
	VALUES (r.id, key, $3, $4, dept, pubdata.caller(), r.provider_id, due, pubdata._objection_due_days(), provisional)
	RETURNING id INTO oid_;
	PERFORM pubdata._objection_event(oid_, 'raised',
		pg_catalog.jsonb_build_object('due_at', due, 'working_days', pubdata._objection_due_days(),
									  'provisional', provisional));
	RETURN oid_;
END
$$;
COMMENT ON FUNCTION pubdata.raise_objection(text, jsonb, text, text) IS
	'A department that reads a shared resource objects to a record (item NULL: the whole record); routed to the provider, due in pubdata.objection_due_days working days; returns the ticket id';

-- _objection_for_provider: lock a ticket the calling department must verify
CREATE OR REPLACE FUNCTION pubdata._objection_for_provider(id bigint, action text)
	RETURNS pubdata.objection
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o pubdata.objection;
	dept integer := pubdata.current_department();
BEGIN
	SELECT * INTO o FROM pubdata.objection x WHERE x.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'objection % does not exist', coalesce($1::text, 'NULL')
			USING ERRCODE = 'undefined_object',
				  HINT = 'See SELECT id, status FROM pubdata.objection (a department sees the tickets it raised or must verify).';
	END IF;
	IF o.provider_id OPERATOR(pg_catalog.<>) dept THEN
		RAISE EXCEPTION 'only the providing department "%" may % objection %',
				(SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) o.provider_id), $2, o.id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Art 13: the provider verifies objections to its data.',
				  HINT = 'SET ROLE to the providing department''s role.';
	END IF;
	IF o.status OPERATOR(pg_catalog.=) 'resolved' THEN
		RAISE EXCEPTION 'objection % is already resolved (%)', o.id, o.outcome
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'A resolved ticket is closed; a new problem needs a new objection.';
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION pubdata._objection_for_provider(bigint, text) IS
	'Internal: lock an unresolved objection ticket that the calling department provides, or a clear error';

-- acknowledge_objection: the provider has seen the ticket and is verifying
CREATE OR REPLACE FUNCTION pubdata.acknowledge_objection(id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o pubdata.objection := pubdata._objection_for_provider($1, 'acknowledge');
BEGIN
	IF o.status OPERATOR(pg_catalog.<>) 'open' THEN
		RAISE EXCEPTION 'objection % is already acknowledged', o.id
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Resolve it with pubdata.resolve_objection().';
	END IF;
	UPDATE pubdata.objection x SET status = 'acknowledged', acknowledged_at = pg_catalog.now(),
		   acknowledged_by = pubdata.caller()
	 WHERE x.id OPERATOR(pg_catalog.=) o.id;
	PERFORM pubdata._objection_event(o.id, 'acknowledged', '{}');
END
$$;
COMMENT ON FUNCTION pubdata.acknowledge_objection(bigint) IS
	'The providing department acknowledges an objection (the deadline still runs until it is resolved)';

-- resolve_objection: the provider's verdict
CREATE OR REPLACE FUNCTION pubdata.resolve_objection(id bigint, outcome text, note text, corrected_key jsonb DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	oc pubdata.objection_outcome := pubdata._check_enum($2, 'pubdata.objection_outcome', 'objection outcome')::pubdata.objection_outcome;
	o pubdata.objection;
	r record;
	link jsonb;
	cond text;
	matches bigint;
	late boolean;
BEGIN
	IF oc IS NULL THEN
		RAISE EXCEPTION 'an objection''s outcome is required'
			USING ERRCODE = 'null_value_not_allowed', HINT = 'Use one of: corrected, confirmed_correct, rejected.';
	END IF;
	o := pubdata._objection_for_provider($1, 'resolve');
	IF coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'resolving objection % needs a note', o.id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Say what was corrected, or why the data is correct or the objection unfounded.';
	END IF;
	IF $4 IS NOT NULL AND oc OPERATOR(pg_catalog.<>) 'corrected' THEN
		RAISE EXCEPTION 'a corrected key is given only with outcome corrected'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT x.id, x.code, x.relation INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) o.resource_id;
	IF oc OPERATOR(pg_catalog.=) 'corrected' THEN
		-- link the correction to the record as it now is; it must exist once
		IF r.relation IS NULL THEN
			RAISE EXCEPTION 'the table of resource "%" no longer exists', r.code
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Resolve with outcome confirmed_correct or rejected.';
		END IF;
		link := pubdata._objection_key(r.id, coalesce($4, o.record_key), 'corrected key');
		PERFORM pubdata._objection_check_key(r.id, link, 'corrected key');
		SELECT pg_catalog.string_agg(pg_catalog.format('t.%I::%s IS NOT DISTINCT FROM ($1 OPERATOR(pg_catalog.->>) %L)::%s',
						k, pubdata._plain_type(r.relation, k), k, pubdata._plain_type(r.relation, k)), ' AND ')
		  INTO cond FROM pg_catalog.jsonb_object_keys(link) AS k;
		-- the table is read as its owner (_owner_count); rows are looked up
		-- in tables only, the key of a view or foreign table is linked as
		-- given (as in 0.1)
		IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid)
		   OPERATOR(pg_catalog.=) ANY ('{r,p,m}'::"char"[]) THEN
			matches := pubdata._owner_count(r.relation,
				pg_catalog.format('SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s t WHERE %s LIMIT 2) s',
								  r.relation, cond),
				link);
		ELSE
			matches := 1;
		END IF;
		IF matches OPERATOR(pg_catalog.<>) 1 THEN
			RAISE EXCEPTION 'corrected key % matches % records of resource "%"', link::text,
					CASE WHEN matches OPERATOR(pg_catalog.=) 0 THEN 'no' ELSE 'several' END, r.code
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A correction is linked to exactly one record.',
					  HINT = 'Correct the record first, then pass corrected_key => the key of the record as corrected.';
		END IF;
	END IF;
	late := pg_catalog.now() OPERATOR(pg_catalog.>) o.due_at;
	UPDATE pubdata.objection x
	   SET status = 'resolved', resolved_at = pg_catalog.now(), resolved_by = pubdata.caller(),
		   outcome = oc, resolution_note = $3, corrected_key = link,
		   overdue = x.overdue OR late
	 WHERE x.id OPERATOR(pg_catalog.=) o.id;
	PERFORM pubdata._objection_event(o.id, 'resolved',
		pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('outcome', oc, 'note', $3, 'corrected_key', link, 'on_time', NOT late)));
END
$$;
COMMENT ON FUNCTION pubdata.resolve_objection(bigint, text, text, jsonb) IS
	'The providing department resolves an objection: corrected (linked to the record as corrected, by corrected_key or the original key), confirmed_correct or rejected, with a note';

-- sweep_objections: flag tickets past their deadline, once each, and alert
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

-- under_verification: is a record the subject of an unresolved objection?
CREATE OR REPLACE FUNCTION pubdata.under_verification(resource text, record_key jsonb) RETURNS boolean
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
	key jsonb;
BEGIN
	SELECT x.id, x.code, x.relation INTO r FROM pubdata.resource x
	 WHERE x.id OPERATOR(pg_catalog.=) pubdata.resource_id($1);
	IF NOT (pubdata.is_admin()
			OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
			OR pubdata._reads(r.id, NULL)) THEN
		RAISE EXCEPTION 'permission denied for resource "%"', r.code
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Only readers of the resource see its verification state.';
	END IF;
	key := pubdata._objection_key(r.id, $2, 'record key');
	PERFORM pubdata._objection_check_key(r.id, key, 'record key');
	IF NOT pubdata._objection_in_scope(r.id, key) THEN
		RAISE EXCEPTION 'record % is not among the rows of resource "%" shared with your department',
				key::text, r.code
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Only readers of a record see its verification state.';
	END IF;
	RETURN EXISTS (SELECT 1 FROM pubdata.objection o
					WHERE o.resource_id OPERATOR(pg_catalog.=) r.id
					  AND o.record_key OPERATOR(pg_catalog.=) key
					  AND o.status OPERATOR(pg_catalog.<>) 'resolved');
END
$$;
COMMENT ON FUNCTION pubdata.under_verification(text, jsonb) IS
	'true while the record (by its key) has an unresolved objection (Art 13: shown as under verification; reads are never blocked)';

-- _objection_key_for(resource, raised by, key): a record key as the calling
-- role may read it: whole for the bureau, the provider, the department that
-- raised the objection and the readers of the resource; otherwise (the audit
-- office) with the values of the resource's personal items redacted
CREATE OR REPLACE FUNCTION pubdata._objection_key_for(resource_id bigint, raised_by integer, key jsonb) RETURNS jsonb
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
CREATE OR REPLACE VIEW pubdata.objection_overview AS
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

-- open_objection: unresolved tickets, for readers to join to the records they read
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

-- objection_stats: per-provider figures (Art 13, 28)
CREATE OR REPLACE VIEW pubdata.objection_stats AS
SELECT d.code AS provider, d.name AS provider_name,
	   pg_catalog.count(*) AS tickets,
	   pg_catalog.count(*) FILTER (WHERE o.status OPERATOR(pg_catalog.<>) 'resolved') AS unresolved,
	   pg_catalog.count(*) FILTER (WHERE o.status OPERATOR(pg_catalog.=) 'resolved') AS resolved,
	   pg_catalog.count(*) FILTER (WHERE o.resolved_at OPERATOR(pg_catalog.<=) o.due_at) AS resolved_on_time,
	   pg_catalog.count(*) FILTER (WHERE o.overdue OR (o.status OPERATOR(pg_catalog.<>) 'resolved'
													   AND o.due_at OPERATOR(pg_catalog.<) pg_catalog.now())) AS missed_deadline,
	   pg_catalog.round(pg_catalog.count(*) FILTER (WHERE o.resolved_at OPERATOR(pg_catalog.<=) o.due_at)::numeric
			OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE o.status OPERATOR(pg_catalog.=) 'resolved'
														   OR o.due_at OPERATOR(pg_catalog.<) pg_catalog.now()), 0), 3) AS on_time_rate,
	   pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY pubdata.working_days_between(o.raised_at, o.resolved_at))
			FILTER (WHERE o.status OPERATOR(pg_catalog.=) 'resolved') AS median_resolution_working_days,
	   pg_catalog.count(*) FILTER (WHERE o.outcome OPERATOR(pg_catalog.=) 'corrected') AS corrected,
	   pg_catalog.count(*) FILTER (WHERE o.outcome OPERATOR(pg_catalog.=) 'confirmed_correct') AS confirmed_correct,
	   pg_catalog.count(*) FILTER (WHERE o.outcome OPERATOR(pg_catalog.=) 'rejected') AS rejected
  FROM pubdata.objection o
  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) o.provider_id
 GROUP BY d.id, d.code, d.name;
COMMENT ON VIEW pubdata.objection_stats IS
	'Per providing department: tickets, resolved on time, missed deadlines, on-time rate (on time / resolved or past due), median resolution time in working days, outcomes';
COMMENT ON COLUMN pubdata.objection_stats.on_time_rate IS 'tickets resolved by their deadline / tickets resolved or past their deadline';
COMMENT ON COLUMN pubdata.objection_stats.median_resolution_working_days IS 'median of working_days_between(raised_at, resolved_at) over resolved tickets (0: resolved the day it was raised)';

CREATE OR REPLACE FUNCTION pubdata._objection_due_days() RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_objection_due_days_sql'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pubdata._objection_due_days() IS 'Internal: the value of pubdata.objection_due_days';

GRANT SELECT ON pubdata.objection, pubdata.objection_event, pubdata.open_objection, pubdata.objection_stats,
	pubdata.objection_overview
	TO pubdata_admin, pubdata_department, pubdata_auditor;
-- the audit office reads no record's values: not the keys of the tickets, not
-- the details of their events (a correction's key); objection_overview
-- gives it the keys with personal values redacted
REVOKE SELECT ON pubdata.objection, pubdata.objection_event FROM pubdata_auditor;
GRANT SELECT (id, resource_id, item, description, raised_by_department, raised_by_role, provider_id,
	raised_at, due_at, working_days, due_provisional, status, acknowledged_at, acknowledged_by,
	resolved_at, resolved_by, outcome, resolution_note, overdue, overdue_at)
	ON pubdata.objection TO pubdata_auditor;
GRANT SELECT (id, objection_id, at, kind, actor) ON pubdata.objection_event TO pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.raise_objection(text, jsonb, text, text),
	pubdata.acknowledge_objection(bigint), pubdata.resolve_objection(bigint, text, text, jsonb)
	TO pubdata_department;
GRANT EXECUTE ON FUNCTION pubdata.under_verification(text, jsonb)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.sweep_objections() TO pubdata_admin;
