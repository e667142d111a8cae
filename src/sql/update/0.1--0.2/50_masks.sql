-- ---------------------------------------------------------------------------
-- Masked grants (Art 18(2), 27): a request, a grant and a scenario may give
-- items masked; the executor rewrites the relation for the department
-- (src/mask.c).  Date truncation masks join the mask rules.
-- ---------------------------------------------------------------------------

ALTER TYPE pubdata.mask_rule ADD VALUE 'year';
ALTER TYPE pubdata.mask_rule ADD VALUE 'month';
ALTER TABLE pubdata.share_request ADD COLUMN masks jsonb;
ALTER TABLE pubdata.scenario_resource ADD COLUMN masks jsonb;
COMMENT ON COLUMN pubdata.share_request.masks IS 'items given masked: {"item": "mask rule"} (id_card, name, phone, email, pseudonym, redact, year, month); NULL = all in clear';
COMMENT ON COLUMN pubdata.scenario_resource.masks IS 'items the scenario gives masked: {"item": "mask rule"}; a request under the scenario carries them';

-- _check_masks(resource, items, masks): the masks a request or a scenario asks
-- for are a JSON object of items (requested ones) and mask rules that apply
-- to the items' types
CREATE FUNCTION pubdata._check_masks(resource_id bigint, items text[], masks jsonb) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	k text;
	v jsonb;
	a record;
	why text;
BEGIN
	IF $3 IS NULL THEN
		RETURN;
	END IF;
	IF pg_catalog.jsonb_typeof($3) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'masks must be a JSON object of items and mask rules' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'For example {"id_number": "id_card", "name": "name", "birth_date": "year"}.';
	END IF;
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each($3) LOOP
		SELECT t.atttypid, t.atttypmod INTO a
		  FROM pubdata.resource_item i JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) i.resource_id
		  JOIN pg_catalog.pg_attribute t ON t.attrelid OPERATOR(pg_catalog.=) r.relation::pg_catalog.oid
									   AND t.attname OPERATOR(pg_catalog.=) i.column_name
		 WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.column_name OPERATOR(pg_catalog.=) k
		   AND i.state OPERATOR(pg_catalog.<>) 'dropped' AND NOT t.attisdropped;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'masks name "%", which is not an item of the resource', k USING ERRCODE = 'undefined_column',
				HINT = 'See SELECT column_name, title FROM pubdata.resource_item.';
		END IF;
		IF $2 IS NOT NULL AND NOT k OPERATOR(pg_catalog.=) ANY ($2) THEN
			RAISE EXCEPTION 'masked item "%" is not among the items requested', k USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Name the item in items => ARRAY[...] too.';
		END IF;
		IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string'
		   OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
						   WHERE e.enumtypid OPERATOR(pg_catalog.=) 'pubdata.mask_rule'::pg_catalog.regtype
							 AND e.enumlabel OPERATOR(pg_catalog.=) (v OPERATOR(pg_catalog.#>>) '{}')
							 AND e.enumlabel OPERATOR(pg_catalog.<>) 'none') THEN
			RAISE EXCEPTION 'invalid mask % for item "%"', v, k USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Use one of id_card, name, phone, email, pseudonym, redact, year, month.';
		END IF;
		why := pubdata._mask_applies(v OPERATOR(pg_catalog.#>>) '{}', a.atttypid, a.atttypmod);
		IF why IS NOT NULL THEN
			RAISE EXCEPTION 'mask "%" does not apply to item "%" (type %): %', v OPERATOR(pg_catalog.#>>) '{}', k,
				pg_catalog.format_type(a.atttypid, a.atttypmod), why USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._check_masks(bigint, text[], jsonb) IS 'Internal: validate the masked items of a request or scenario';

CREATE FUNCTION pubdata._mask_applies(rule text, type oid, typmod integer) RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_mask_applies' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION pubdata._mask_applies(text, oid, integer) IS 'Internal: NULL if a grant may give an item of this type under this mask rule, else why not';

-- _grant_mask(value, relation, attnum, reader): a column of a relation a
-- department reads with masked grants, as the executor's grant choice
-- delivers it (src/mask.c); runs as the reader, in every such query
CREATE FUNCTION pubdata._grant_mask(value anyelement, relation oid, attnum smallint, reader oid) RETURNS anyelement
	AS 'MODULE_PATHNAME', 'pubdata_grant_mask' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION pubdata._grant_mask(anyelement, oid, smallint, oid) IS 'A column read under masked grants, clear or masked as the executor''s grant choice for the running statement says; evaluated per row';

DROP FUNCTION pubdata.add_scenario_resource(text, text, text[]);
-- add_scenario_resource: the resources and items a scenario needs.  The
-- scenario's row is locked until commit: an approval waits for the change (and
-- approves the scenario with it), or the change waits for the approval and is
-- refused; a resource never joins an approved scenario unseen.
CREATE FUNCTION pubdata.add_scenario_resource(scenario text, resource text, items text[] DEFAULT NULL,
											  masks jsonb DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s pubdata.scenario;
	rid bigint := pubdata.resource_id($2);
	bad text;
BEGIN
	SELECT * INTO s FROM pubdata.scenario x WHERE x.code OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'scenario "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pubdata.is_admin() AND s.proposed_by IS DISTINCT FROM pubdata.current_department() THEN
		RAISE EXCEPTION 'permission denied to change scenario "%"', $1 USING ERRCODE = 'insufficient_privilege',
			HINT = 'The proposing department or pubdata_admin changes a scenario.';
	END IF;
	IF s.approved_at IS NOT NULL THEN
		RAISE EXCEPTION 'scenario "%" is already approved', $1 USING ERRCODE = 'object_not_in_prerequisite_state',
			HINT = 'Propose a new scenario for new resources.';
	END IF;
	SELECT pg_catalog.string_agg(x, ', ') INTO bad FROM pg_catalog.unnest($3) x
	 WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) rid
						AND i.column_name OPERATOR(pg_catalog.=) x AND i.state OPERATOR(pg_catalog.<>) 'dropped');
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'resource "%" has no items %', $2, bad USING ERRCODE = 'undefined_column';
	END IF;
	PERFORM pubdata._check_masks(rid, $3, $4);
	INSERT INTO pubdata.scenario_resource (scenario_id, resource_id, items, masks) VALUES (s.id, rid, $3::name[], $4)
	ON CONFLICT (scenario_id, resource_id) DO UPDATE SET items = EXCLUDED.items, masks = EXCLUDED.masks;
END
$$;
COMMENT ON FUNCTION pubdata.add_scenario_resource(text, text, text[], jsonb) IS 'Add a resource (its items, and the items it gives masked) to a proposed scenario';

DROP FUNCTION pubdata.request_share(text, text, text[], text, text);
-- request_share: a department asks for a resource, stating its purpose (Art 19)
CREATE FUNCTION pubdata.request_share(resource text, purpose text, items text[] DEFAULT NULL,
									  scenario text DEFAULT NULL, mode text DEFAULT 'api', masks jsonb DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me integer := pubdata.current_department();
	r pubdata.resource;
	m pubdata.share_mode := pubdata._check_enum($5, 'pubdata.share_mode', 'share mode')::pubdata.share_mode;
	sc pubdata.scenario;
	bad text;
	auto boolean := false;
	id bigint;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.code OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'resource "%" does not exist', $1
			USING ERRCODE = 'undefined_object', HINT = 'See SELECT code, name FROM pubdata.resource_catalog.';
	END IF;
	IF r.provider_id OPERATOR(pg_catalog.=) me THEN
		RAISE EXCEPTION 'department provides resource "%" itself', $1
			USING ERRCODE = 'invalid_parameter_value', HINT = 'A provider reads its own table directly.';
	END IF;
	IF r.status OPERATOR(pg_catalog.<>) 'published' THEN
		RAISE EXCEPTION 'resource "%" is %, not published', $1, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Only published catalog entries are shared (Art 16).';
	END IF;
	IF r.share_class OPERATOR(pg_catalog.=) 'non_shared' THEN
		RAISE EXCEPTION 'resource "%" is not shared', $1
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('Legal basis: %s', r.legal_basis),
				  HINT = 'Non-shared data is not provided to other departments (Art 18(3)).';
	END IF;
	IF coalesce(pg_catalog.btrim($2), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'a share request needs a purpose'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'State what the data is for (Art 19): purpose => ''...''.';
	END IF;
	SELECT pg_catalog.string_agg(x, ', ') INTO bad FROM pg_catalog.unnest($3) x
	 WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id
						AND i.column_name OPERATOR(pg_catalog.=) x AND i.state OPERATOR(pg_catalog.<>) 'dropped');
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'resource "%" has no items %', $1, bad
			USING ERRCODE = 'undefined_column', HINT = 'See SELECT column_name, title FROM pubdata.resource_item.';
	END IF;
	SELECT pg_catalog.string_agg(i.column_name::text, ', ') INTO bad FROM pubdata.resource_item i
	 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.column_name OPERATOR(pg_catalog.=) ANY ($3)
	   AND i.share_class OPERATOR(pg_catalog.=) 'non_shared';
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'items % of resource "%" are not shared', bad, $1
			USING ERRCODE = 'insufficient_privilege', HINT = 'Leave them out of the request.';
	END IF;
	PERFORM pubdata._check_masks(r.id, $3, $6);

	IF $4 IS NOT NULL THEN
		-- the scenario's approval and resources hold until this grant commits
		SELECT * INTO sc FROM pubdata.scenario x WHERE x.code OPERATOR(pg_catalog.=) $4 FOR SHARE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'scenario "%" does not exist', $4 USING ERRCODE = 'undefined_object';
		END IF;
		IF sc.approved_at IS NULL OR (sc.valid_until IS NOT NULL AND sc.valid_until OPERATOR(pg_catalog.<=) pg_catalog.now()) THEN
			RAISE EXCEPTION 'scenario "%" is not approved or no longer valid', $4
				USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'pubdata_admin approves scenarios with pubdata.approve_scenario().';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM pubdata.scenario_department x WHERE x.scenario_id OPERATOR(pg_catalog.=) sc.id
						AND x.department_id OPERATOR(pg_catalog.=) me) THEN
			RAISE EXCEPTION 'department is not part of scenario "%"', $4 USING ERRCODE = 'insufficient_privilege';
		END IF;
		-- the scenario covers the resource and every requested item
		auto := EXISTS (SELECT 1 FROM pubdata.scenario_resource x
						 WHERE x.scenario_id OPERATOR(pg_catalog.=) sc.id AND x.resource_id OPERATOR(pg_catalog.=) r.id
						   AND (x.items IS NULL OR ($3 IS NOT NULL AND $3::name[] OPERATOR(pg_catalog.<@) x.items))
						   -- and the request carries the masks the scenario gives its items under
						   AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_each_text(coalesce(x.masks, '{}'::jsonb)) m
										   WHERE ($3 IS NULL OR m.key OPERATOR(pg_catalog.=) ANY ($3))
											 AND (coalesce($6, '{}'::jsonb) OPERATOR(pg_catalog.->>) m.key) IS DISTINCT FROM m.value));
		IF NOT auto THEN
			RAISE EXCEPTION 'scenario "%" does not cover resource "%" with these items', $4, $1
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'Request only the items the scenario names, or request without the scenario.';
		END IF;
	ELSIF r.share_class OPERATOR(pg_catalog.=) 'unconditional' THEN
		-- unconditional: granted at once unless personal or restricted items are asked for
		-- (no items named means every item, personal ones included)
		auto := NOT EXISTS (SELECT 1 FROM pubdata.resource_item i
							 WHERE i.resource_id OPERATOR(pg_catalog.=) r.id AND i.state OPERATOR(pg_catalog.<>) 'dropped'
							   AND ($3 IS NULL OR i.column_name OPERATOR(pg_catalog.=) ANY ($3))
							   AND (i.personal OPERATOR(pg_catalog.<>) 'none'
									OR coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.<>) 'unconditional'));
	END IF;

	INSERT INTO pubdata.share_request (resource_id, requester_id, requested_by, purpose, items, scenario_id, mode, masks,
									   status, due_at, decided_at, decided_by, reason)
	VALUES (r.id, me, pubdata.caller(), $2, $3::name[], sc.id, m, $6,
			CASE WHEN auto THEN 'approved'::pubdata.request_status ELSE 'pending'::pubdata.request_status END,
			pubdata._response_due(pg_catalog.now()),
			CASE WHEN auto THEN pg_catalog.now() END,
			CASE WHEN auto THEN 'pubdata'::name END,
			CASE WHEN auto AND sc.id IS NOT NULL THEN 'approved scenario ' || sc.code
				 WHEN auto THEN 'unconditional sharing' END)
	RETURNING share_request.id INTO id;
	IF auto THEN
		PERFORM pubdata._refresh_sharing(r.id);
	END IF;
	RETURN id;
END
$$;
COMMENT ON FUNCTION pubdata.request_share(text, text, text[], text, text, jsonb) IS
	'Request a resource for a stated purpose; granted at once for unconditional data or an approved scenario, otherwise the provider decides';

-- share_request_status: requests with their deadlines, as people read them
CREATE OR REPLACE VIEW pubdata.share_request_status AS
	SELECT s.id, r.code AS resource, p.code AS provider, q.code AS requester, s.purpose, s.items, sc.code AS scenario,
		   s.mode, s.status, s.requested_at, s.due_at, s.decided_at, s.reason, s.row_scope, s.expires_at,
		   s.copy_approved_at IS NOT NULL AS copy_approved,
		   coalesce(s.decided_at, now()) > s.due_at AS overdue,
		   s.status = 'approved' AND (s.expires_at IS NULL OR s.expires_at > now()) AS in_force,
		   s.masks
	  FROM pubdata.share_request s
	  JOIN pubdata.resource r ON r.id = s.resource_id
	  JOIN pubdata.department p ON p.id = r.provider_id
	  JOIN pubdata.department q ON q.id = s.requester_id
	  LEFT JOIN pubdata.scenario sc ON sc.id = s.scenario_id;
COMMENT ON VIEW pubdata.share_request_status IS 'Share requests with provider, requester, deadline, overdue flag (answer later than pubdata.response_days working days) and whether the grant is in force';
COMMENT ON COLUMN pubdata.share_request_status.masks IS 'items the grant gives masked, and their mask rules';

-- _open_mask_expr(rule, expr): SQL text of a masked expression.  One source for
-- the views and for pubdata.mask_value().  Only built-in functions that PUBLIC
-- may execute are used (a view calls functions with its reader's rights).
CREATE OR REPLACE FUNCTION pubdata._open_mask_expr(rule pubdata.mask_rule, expr text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v text := '(' || expr || ')::pg_catalog.text';
	n text;
BEGIN
	n := 'pg_catalog.length(' || v || ')';
	CASE rule
	WHEN 'none' THEN
		RETURN v;
	WHEN 'id_card' THEN		-- 3301**********1234
		RETURN pg_catalog.format('CASE WHEN %2$s >= 8 THEN pg_catalog.left(%1$s, 4) || pg_catalog.repeat(''*'', %2$s - 8) || pg_catalog.right(%1$s, 4) ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'name' THEN		-- 张* / 张*三 / 欧**锋
		RETURN pg_catalog.format('CASE WHEN %2$s >= 3 THEN pg_catalog.left(%1$s, 1) || pg_catalog.repeat(''*'', %2$s - 2) || pg_catalog.right(%1$s, 1) WHEN %2$s = 2 THEN pg_catalog.left(%1$s, 1) || ''*'' ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'phone' THEN		-- 138****5678
		RETURN pg_catalog.format('CASE WHEN %2$s >= 7 THEN pg_catalog.left(%1$s, 3) || pg_catalog.repeat(''*'', %2$s - 7) || pg_catalog.right(%1$s, 4) ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'email' THEN		-- z***@example.cn
		RETURN pg_catalog.format('CASE WHEN pg_catalog.strpos(%1$s, ''@'') > 1 THEN pg_catalog.left(%1$s, 1) || ''***'' || pg_catalog.substr(%1$s, pg_catalog.strpos(%1$s, ''@'')) ELSE pg_catalog.repeat(''*'', %2$s) END', v, n);
	WHEN 'pseudonym' THEN	-- hex HMAC-SHA256 under the secret key: stable, joinable, not reversible
		RETURN pg_catalog.format('pg_catalog.encode(%I.hmac(pg_catalog.convert_to(%s, ''UTF8''), (SELECT k.key FROM pubdata.open_pseudonym_key k), ''sha256''), ''hex'')',
								 pubdata._pgcrypto_schema(), v);
	WHEN 'redact' THEN
		RETURN 'NULL::pg_catalog.text';
	WHEN 'year' THEN		-- 1990 of 1990-01-01 (dates and timestamps, ISO)
		RETURN pg_catalog.format('pg_catalog.left(%s, 4)', v);
	WHEN 'month' THEN		-- 1990-01
		RETURN pg_catalog.format('pg_catalog.left(%s, 7)', v);
	END CASE;
END
$$;
COMMENT ON FUNCTION pubdata._open_mask_expr(pubdata.mask_rule, text) IS 'SQL expression applying a mask rule to an expression (internal)';

-- the executor's pseudonym keys follow the key (masked grants, src/mask.c)
CREATE TRIGGER open_key_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.open_pseudonym_key
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();

REVOKE ALL ON FUNCTION pubdata._check_masks(bigint, text[], jsonb), pubdata._mask_applies(text, oid, integer),
	pubdata._grant_mask(anyelement, oid, smallint, oid), pubdata.add_scenario_resource(text, text, text[], jsonb),
	pubdata.request_share(text, text, text[], text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata.request_share(text, text, text[], text, text, jsonb),
	pubdata.add_scenario_resource(text, text, text[], jsonb) TO pubdata_department, pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata._grant_mask(anyelement, oid, smallint, oid) TO pubdata_department, pubdata_admin;
