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

-- ---------------------------------------------------------------------------
-- Every view of pubdata is a security barrier: a reader's own function in
-- WHERE (one in pg_temp, which any login can create) runs only on the rows
-- the view gives that reader, never before the view's own filter.  Set here,
-- after every part, so that a CREATE OR REPLACE VIEW above cannot drop it.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
	v regclass;
BEGIN
	FOR v IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
			   JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
					AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
			   JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'pubdata'
			  WHERE c.relkind OPERATOR(pg_catalog.=) 'v'
			  ORDER BY c.oid
	LOOP
		EXECUTE pg_catalog.format('ALTER VIEW %s SET (security_barrier = true)', v);
	END LOOP;
END
$$;
