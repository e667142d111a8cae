-- ---------------------------------------------------------------------------
-- Alerts (Art 13, 15): who reads them, and how pubdata raises one (the
-- table: once/63_alerts.sql).
-- ---------------------------------------------------------------------------

-- The bureau and the audit office read every alert; a department the alerts
-- about the resources it provides and the objections it raised.  Nobody but
-- the extension owner writes (no INSERT, UPDATE or DELETE is granted).
ALTER TABLE pubdata.alert ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS alert_oversight ON pubdata.alert;
CREATE POLICY alert_oversight ON pubdata.alert FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
DROP POLICY IF EXISTS alert_parties ON pubdata.alert;
CREATE POLICY alert_parties ON pubdata.alert FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r
					WHERE r.id OPERATOR(pg_catalog.=) resource_id
					  AND r.provider_id OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(pubdata.caller())))
		   OR EXISTS (SELECT 1 FROM pubdata.objection o
					   WHERE o.id OPERATOR(pg_catalog.=) objection_id
						 AND o.raised_by_department OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(pubdata.caller()))));
GRANT SELECT ON pubdata.alert TO pubdata_admin, pubdata_department, pubdata_auditor;

-- _raise_alert(kind, resource, objection, details): record an alert and
-- NOTIFY pubdata_alert with its id and kind only.  Executable by nobody:
-- pubdata's own SECURITY DEFINER functions call it as the extension owner.
CREATE OR REPLACE FUNCTION pubdata._raise_alert(kind pubdata.alert_kind, resource_id bigint, objection_id bigint, details jsonb)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	a bigint;
BEGIN
	INSERT INTO pubdata.alert (kind, resource_id, objection_id, details)
	VALUES ($1, $2, $3, coalesce($4, '{}'::jsonb))
	RETURNING id INTO a;
	PERFORM pg_catalog.pg_notify('pubdata_alert', pg_catalog.jsonb_build_object('id', a, 'kind', $1)::text);
	RETURN a;
END
$$;
COMMENT ON FUNCTION pubdata._raise_alert(pubdata.alert_kind, bigint, bigint, jsonb) IS
	'Internal: record an alert in pubdata.alert and NOTIFY pubdata_alert with {"id", "kind"} only; called by pubdata''s sweeps and checks';
REVOKE ALL ON FUNCTION pubdata._raise_alert(pubdata.alert_kind, bigint, bigint, jsonb) FROM PUBLIC;

-- audit_alerts: the alerts about the access audit itself (records found
-- missing, a state or anchor file removed or damaged), for the bureau and
-- the audit office
CREATE OR REPLACE VIEW pubdata.audit_alerts AS
	SELECT a.id, a.raised_at, a.details OPERATOR(pg_catalog.->>) 'problem' AS problem,
		   (a.details OPERATOR(pg_catalog.->>) 'first_lost_seq')::bigint AS first_lost_seq,
		   (a.details OPERATOR(pg_catalog.->>) 'last_lost_seq')::bigint AS last_lost_seq,
		   (a.details OPERATOR(pg_catalog.->>) 'gap_seq')::bigint AS gap_seq,
		   a.details OPERATOR(pg_catalog.->>) 'found_by' AS found_by
	  FROM pubdata.alert a
	 WHERE a.kind::text OPERATOR(pg_catalog.=) 'audit_loss';
COMMENT ON VIEW pubdata.audit_alerts IS
	'Alerts about the access audit itself (kind audit_loss): records an anchor or the state file proves are gone, a missing segment, a state or anchor file removed or damaged; each also a WARNING in the server log and a gap record in the chain';
COMMENT ON COLUMN pubdata.audit_alerts.problem IS 'what was found';
COMMENT ON COLUMN pubdata.audit_alerts.first_lost_seq IS 'the first record proven gone (NULL: an inconsistency, nothing proven gone)';
COMMENT ON COLUMN pubdata.audit_alerts.last_lost_seq IS 'the last record proven gone';
COMMENT ON COLUMN pubdata.audit_alerts.gap_seq IS 'the gap record that states it in the chain (see pubdata.audit_events)';
COMMENT ON COLUMN pubdata.audit_alerts.found_by IS 'startup: the server''s start (or crash restart) found it; launcher: the launcher''s check against pubdata.audit_anchor';
GRANT SELECT ON pubdata.audit_alerts TO pubdata_admin, pubdata_auditor;
