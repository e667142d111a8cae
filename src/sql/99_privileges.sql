-- ---------------------------------------------------------------------------
-- Privileges: nothing in pubdata is open to PUBLIC.  Each module grants what
-- each role needs next to its own objects; this last part takes away the rest.
-- ---------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pubdata FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA pubdata FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pubdata FROM PUBLIC;
REVOKE ALL ON SCHEMA pubdata FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata.caller(), pubdata.is_admin(), pubdata.current_department(),
	pubdata.department_of(name), pubdata.department_id(text), pubdata.resource_id(text)
	TO pubdata_admin, pubdata_department, pubdata_auditor;
