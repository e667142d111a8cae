-- ---------------------------------------------------------------------------
-- Sharing (4): scenario resources, requests, decisions, copy consent,
-- revocation and expiry (Art 17-19, 34), and who may call what
-- ---------------------------------------------------------------------------

-- add_scenario_resource: the resources and items a scenario needs.  The
-- scenario's row is locked until commit: an approval waits for the change (and
-- approves the scenario with it), or the change waits for the approval and is
-- refused; a resource never joins an approved scenario unseen.
CREATE OR REPLACE FUNCTION pubdata.add_scenario_resource(scenario text, resource text, items text[] DEFAULT NULL,
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

-- request_share: a department asks for a resource, stating its purpose (Art 19)
CREATE OR REPLACE FUNCTION pubdata.request_share(resource text, purpose text, items text[] DEFAULT NULL,
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
	days integer := pubdata._response_days();
	due timestamptz;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.code OPERATOR(pg_catalog.=) $1;
	-- another department's unpublished entry is not there for the caller
	IF NOT FOUND OR pubdata._catalog_sight(r.id) IS NULL THEN
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

	-- a deadline counted over a year without an official arrangement is
	-- provisional (recomputed while pending when the year is loaded)
	due := pubdata.add_working_days(pg_catalog.now(), days);
	INSERT INTO pubdata.share_request (resource_id, requester_id, requested_by, purpose, items, scenario_id, mode, masks,
									   status, due_at, working_days, due_provisional, decided_at, decided_by, reason)
	VALUES (r.id, me, pubdata.caller(), $2, $3::name[], sc.id, m, $6,
			CASE WHEN auto THEN 'approved'::pubdata.request_status ELSE 'pending'::pubdata.request_status END,
			due, days, pubdata.provisional_between(pg_catalog.now(), due),
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

-- decide_share: the provider answers a request; a refusal needs a reason (Art 34)
CREATE OR REPLACE FUNCTION pubdata.decide_share(request bigint, approve boolean, reason text DEFAULT NULL,
									 row_scope jsonb DEFAULT NULL, expires_at timestamptz DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
	r pubdata.resource;
	who name;
	sch record;
BEGIN
	SELECT * INTO g FROM pubdata.share_request s WHERE s.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'share request % does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	SELECT * INTO r FROM pubdata.resource x WHERE x.id OPERATOR(pg_catalog.=) g.resource_id;
	IF pubdata.department_of(pubdata.caller()) IS DISTINCT FROM r.provider_id THEN
		RAISE EXCEPTION 'permission denied to decide share request %', $1
			USING ERRCODE = 'insufficient_privilege',
				  HINT = pg_catalog.format('The provider of resource "%s" decides.', r.code);
	END IF;
	IF g.status OPERATOR(pg_catalog.<>) 'pending' THEN
		RAISE EXCEPTION 'share request % is %, not pending', $1, g.status USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF $2 IS NULL THEN
		RAISE EXCEPTION 'approve must be true or false' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT $2 AND coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'refusing share request % needs a reason', $1
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Article 34: refusing to share without a reason is a violation.',
				  HINT = 'Give the legal or factual reason for the refusal.';
	END IF;
	IF $5 IS NOT NULL AND $5 OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
		RAISE EXCEPTION 'expiry % is not in the future', $5 USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pubdata._scope_predicate(r.id, $4);
	UPDATE pubdata.share_request s
	   SET status = CASE WHEN $2 THEN 'approved'::pubdata.request_status ELSE 'refused'::pubdata.request_status END,
		   reason = $3, row_scope = $4, expires_at = $5, decided_at = pg_catalog.now(), decided_by = pubdata.caller()
	 WHERE s.id OPERATOR(pg_catalog.=) $1;
	IF $2 THEN
		PERFORM pubdata._refresh_sharing(r.id);
		-- the grant gives the schema's usage where the schema is the
		-- provider's (_sync_schema_usage); elsewhere only its owner can
		SELECT d.role_name INTO who FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) g.requester_id;
		SELECT n.oid, n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) AS owner INTO sch
		  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		 WHERE c.oid OPERATOR(pg_catalog.=) r.relation::oid;
		IF FOUND AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) who)
		   AND NOT pg_catalog.has_schema_privilege(who, sch.oid, 'USAGE') THEN
			RAISE WARNING 'department "%" cannot use schema "%", which holds resource "%"',
				(SELECT d.code FROM pubdata.department d WHERE d.id OPERATOR(pg_catalog.=) g.requester_id), sch.nspname, r.code
				USING DETAIL = pg_catalog.format('Schema "%s" is owned by role "%s", not by the providing department: pubdata gives the usage of the provider''s own schemas only.',
												 sch.nspname, sch.owner),
					  HINT = pg_catalog.format('The schema''s owner grants it: GRANT USAGE ON SCHEMA %I TO %I;', sch.nspname, who);
		END IF;
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.decide_share(bigint, boolean, text, jsonb, timestamptz) IS
	'The provider approves (optionally with a row scope and an expiry) or refuses with a reason a share request';

-- approve_copy: the bureau consents (or not) to a copy grant (Art 17)
CREATE OR REPLACE FUNCTION pubdata.approve_copy(request bigint, approve boolean, reason text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
BEGIN
	PERFORM pubdata._require_admin('approve data copies');
	SELECT * INTO g FROM pubdata.share_request s WHERE s.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'share request % does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF g.mode OPERATOR(pg_catalog.<>) 'copy' OR g.status OPERATOR(pg_catalog.<>) 'approved' OR g.copy_approved_at IS NOT NULL THEN
		RAISE EXCEPTION 'share request % is not a copy grant awaiting the bureau', $1
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'The provider approves a request with mode => ''copy'' first.';
	END IF;
	IF $2 THEN
		UPDATE pubdata.share_request s SET copy_approved_at = pg_catalog.now(), copy_approved_by = pubdata.caller()
		 WHERE s.id OPERATOR(pg_catalog.=) $1;
	ELSE
		IF coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
			RAISE EXCEPTION 'refusing a copy needs a reason' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		-- the grant stays for request-response use; only copying is refused
		UPDATE pubdata.share_request s SET mode = 'api', reason = coalesce(s.reason || '; ', '') || 'copy refused: ' || $3
		 WHERE s.id OPERATOR(pg_catalog.=) $1;
	END IF;
END
$$;
COMMENT ON FUNCTION pubdata.approve_copy(bigint, boolean, text) IS 'The bureau consents to, or refuses with a reason, copying under a grant (pubdata_admin, Art 17)';

-- revoke_share: the provider, the requester or the bureau ends a grant
CREATE OR REPLACE FUNCTION pubdata.revoke_share(request bigint, reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	g pubdata.share_request;
	me integer := pubdata.department_of(pubdata.caller());
BEGIN
	SELECT * INTO g FROM pubdata.share_request s WHERE s.id OPERATOR(pg_catalog.=) $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'share request % does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pubdata.is_admin() AND me IS DISTINCT FROM g.requester_id
	   AND me IS DISTINCT FROM (SELECT r.provider_id FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) g.resource_id) THEN
		RAISE EXCEPTION 'permission denied to revoke share request %', $1 USING ERRCODE = 'insufficient_privilege',
			HINT = 'The provider, the requester or pubdata_admin revokes a grant.';
	END IF;
	IF g.status NOT IN ('pending', 'approved') THEN
		RAISE EXCEPTION 'share request % is already %', $1, g.status USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF coalesce(pg_catalog.btrim($2), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'revoking share request % needs a reason', $1 USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE pubdata.share_request s SET status = 'revoked', revoked_at = pg_catalog.now(),
		   reason = coalesce(s.reason || '; ', '') || 'revoked: ' || $2
	 WHERE s.id OPERATOR(pg_catalog.=) $1;
	PERFORM pubdata._refresh_sharing(g.resource_id);
END
$$;
COMMENT ON FUNCTION pubdata.revoke_share(bigint, text) IS 'End a grant (provider, requester or pubdata_admin); effective at the next query';

-- sweep_grants: mark expired grants and drop their privileges (run by the scheduler)
CREATE OR REPLACE FUNCTION pubdata.sweep_grants() RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rid bigint;
	n integer := 0;
BEGIN
	FOR rid IN
		WITH x AS (UPDATE pubdata.share_request s SET status = 'expired'
					WHERE s.status OPERATOR(pg_catalog.=) 'approved' AND s.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()
					RETURNING s.resource_id)
		SELECT DISTINCT x.resource_id FROM x
	LOOP
		PERFORM pubdata._refresh_sharing(rid);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION pubdata.sweep_grants() IS 'Mark expired grants and remove their privileges; returns the number of resources touched (expired grants already stop working at their expiry)';

-- share_request_status: requests with their deadlines, as people read them
CREATE OR REPLACE VIEW pubdata.share_request_status AS
	SELECT s.id, r.code AS resource, p.code AS provider, q.code AS requester, s.purpose, s.items, sc.code AS scenario,
		   s.mode, s.status, s.requested_at, s.due_at, s.decided_at, s.reason, s.row_scope, s.expires_at,
		   s.copy_approved_at IS NOT NULL AS copy_approved,
		   coalesce(s.decided_at, now()) > s.due_at AS overdue,
		   s.status = 'approved' AND (s.expires_at IS NULL OR s.expires_at > now()) AS in_force,
		   s.masks, s.due_provisional
	  FROM pubdata.share_request s
	  JOIN pubdata.resource r ON r.id = s.resource_id
	  JOIN pubdata.department p ON p.id = r.provider_id
	  JOIN pubdata.department q ON q.id = s.requester_id
	  LEFT JOIN pubdata.scenario sc ON sc.id = s.scenario_id;
COMMENT ON VIEW pubdata.share_request_status IS 'Share requests with provider, requester, deadline, overdue flag (answer later than pubdata.response_days working days) and whether the grant is in force';
COMMENT ON COLUMN pubdata.share_request_status.masks IS 'items the grant gives masked, and their mask rules';
COMMENT ON COLUMN pubdata.share_request_status.due_provisional IS 'the deadline was counted on the provisional calendar of a year not yet loaded';

GRANT SELECT ON pubdata.scenario, pubdata.scenario_department, pubdata.scenario_resource, pubdata.share_request,
	pubdata.share_request_status TO pubdata_admin, pubdata_department, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.request_share(text, text, text[], text, text, jsonb),
	pubdata.decide_share(bigint, boolean, text, jsonb, timestamptz),
	pubdata.revoke_share(bigint, text), pubdata.add_scenario(text, text, text, text[]),
	pubdata.add_scenario_resource(text, text, text[], jsonb)
	TO pubdata_department, pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.approve_scenario(text, timestamptz), pubdata.approve_copy(bigint, boolean, text),
	pubdata.sweep_grants() TO pubdata_admin;
-- the policy check runs as the reading role
GRANT EXECUTE ON FUNCTION pubdata._grant_ok(bigint), pubdata._shared_ok(bigint),
	pubdata._grant_mask(anyelement, oid, smallint, oid), pubdata._grant_rule(oid, smallint, oid)
	TO pubdata_department, pubdata_admin;
GRANT EXECUTE ON FUNCTION pubdata.define_mask(text, text, text, text) TO pubdata_department, pubdata_admin;
GRANT SELECT ON pubdata.custom_mask TO pubdata_admin, pubdata_department, pubdata_auditor;
