-- 0.2: every view of pubdata is a security barrier (as at the end of the install script).

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
