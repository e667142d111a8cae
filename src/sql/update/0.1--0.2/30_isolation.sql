-- ---------------------------------------------------------------------------
-- 0.2: pubdata never plans, reads or runs what a department controls with
-- more rights than that department has.
--  * _owner_count: the one way SQL functions look into a department's table,
--    as its owner in a security-restricted operation (objections)
--  * objection keys are the resource's key items, each readable by the
--    caller; _objection_in_scope is no longer callable by departments (the
--    view open_objection asks _objection_visible about existing tickets)
--  * scenario changes lock the scenario row (no resource joins an approved
--    scenario unseen)
-- Every statement here matches the install script's parts exactly.
-- ---------------------------------------------------------------------------

-- _owner_count(relation, query, args): the one way pubdata's SQL functions
-- look into a department's relation.  The query (a SELECT of one bigint, with
-- args as $1) is parsed, planned and run as the relation's owner in a
-- security-restricted operation with search_path pinned, so that the
-- relation's views, policies, index predicates, operators and functions run
-- with that department's rights, never the extension owner's.  Granted to
-- no role: only pubdata's SECURITY DEFINER functions call it.
CREATE OR REPLACE FUNCTION pubdata._owner_count(relation regclass, query text, args jsonb) RETURNS bigint
	AS 'MODULE_PATHNAME', 'pubdata_owner_count'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pubdata._owner_count(regclass, text, jsonb) IS
	'Internal: run a counting query over a department''s relation as its owner (security-restricted, search_path pinned); callable only by pubdata''s own functions';

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
CREATE FUNCTION pubdata._reads(resource_id bigint, item text) RETURNS boolean
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

	due := pubdata.add_working_days(pg_catalog.now(), pubdata._objection_due_days());
	INSERT INTO pubdata.objection (resource_id, record_key, item, description, raised_by_department,
								   raised_by_role, provider_id, due_at)
	VALUES (r.id, key, $3, $4, dept, pubdata.caller(), r.provider_id, due)
	RETURNING id INTO oid_;
	PERFORM pubdata._objection_event(oid_, 'raised',
		pg_catalog.jsonb_build_object('due_at', due, 'working_days', pubdata._objection_due_days()));
	RETURN oid_;
END
$$;
COMMENT ON FUNCTION pubdata.raise_objection(text, jsonb, text, text) IS
	'A department that reads a shared resource objects to a record (item NULL: the whole record); routed to the provider, due in pubdata.objection_due_days working days; returns the ticket id';

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

-- open_objection: unresolved tickets, for readers to join to the records they read
CREATE OR REPLACE VIEW pubdata.open_objection WITH (security_barrier) AS
SELECT o.id, x.code AS resource, o.resource_id, o.record_key, o.item, o.status, o.raised_at, o.due_at, o.overdue
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

-- add_scenario_resource: replaced in 50_masks.sql (scenario row locked there too)

-- approve_scenario: the bureau approves a scenario (Art 19(3)), its row locked
-- first: a change of its resources in progress commits before the approval
CREATE OR REPLACE FUNCTION pubdata.approve_scenario(scenario text, valid_until timestamptz DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	sid integer;
BEGIN
	PERFORM pubdata._require_admin('approve scenarios');
	SELECT x.id INTO sid FROM pubdata.scenario x
	 WHERE x.code OPERATOR(pg_catalog.=) $1 AND x.approved_at IS NULL FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'scenario "%" does not exist or is already approved', $1 USING ERRCODE = 'undefined_object';
	END IF;
	UPDATE pubdata.scenario x SET approved_at = pg_catalog.now(), approved_by = pubdata.caller(), valid_until = $2
	 WHERE x.id OPERATOR(pg_catalog.=) sid;
END
$$;
COMMENT ON FUNCTION pubdata.approve_scenario(text, timestamptz) IS 'Approve a scenario: its departments get its resources at once (pubdata_admin)';

-- request_share: replaced in 50_masks.sql (scenario read FOR SHARE there too)

-- internal: executable by no department (99_privileges in the install script)
REVOKE ALL ON FUNCTION pubdata._owner_count(regclass, text, jsonb), pubdata._objection_key_items(bigint),
	pubdata._objection_item_open(bigint, text), pubdata._objection_grant_covers(bigint, name[], text),
	pubdata._objection_check_key(bigint, jsonb, text), pubdata._objection_visible(bigint)
	FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pubdata._objection_in_scope(bigint, jsonb)
	FROM pubdata_department, pubdata_admin, pubdata_auditor;
