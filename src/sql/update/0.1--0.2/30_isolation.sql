-- ---------------------------------------------------------------------------
-- 0.2: pubdata never plans, reads or runs what a department controls with
-- more rights than that department has.  _objection_in_scope is no longer
-- callable by departments (the view open_objection asks _objection_visible
-- about existing tickets); 0.1 granted it to them.
-- ---------------------------------------------------------------------------
REVOKE EXECUTE ON FUNCTION pubdata._objection_in_scope(bigint, jsonb)
	FROM pubdata_department, pubdata_admin, pubdata_auditor;
