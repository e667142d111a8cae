-- ---------------------------------------------------------------------------
-- The trap kit's fixes (sql/97_trap_kit.sql): nothing a department planted
-- runs with more rights than the department's.
--
-- Open data: a view in pubdata_open no longer reads the registered table with
-- its reader's rights (the reader planned the department's index expressions
-- and ran its views, functions and casts, and so did the bureau and any
-- superuser reading the view).  Its rows come from pubdata.open_dataset_rows,
-- which reads the table as its owner in a security-restricted operation.
-- The functions are those of 80_open.sql (run before this part); the
-- existing views are rebuilt here, keeping their privileges and comments.
-- ---------------------------------------------------------------------------

-- The views made by 0.1: the same columns, read through open_dataset_rows.
-- Replaced in place (privileges, comments and dependent objects stay); each
-- is an extension member only while it is replaced, so that it stays out of
-- the extension (pg_dump dumps it) and no privilege is recorded as initial.
-- The named readers of conditional datasets join pubdata_open_conditional.
DO $rebuild$
DECLARE
	o record;
BEGIN
	FOR o IN SELECT d.resource_id, d.view_name FROM pubdata.open_dataset d
			  WHERE d.dropped_at IS NULL
				AND pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', d.view_name)) IS NOT NULL
			  ORDER BY d.resource_id
	LOOP
		EXECUTE pg_catalog.format('ALTER EXTENSION pubdata ADD VIEW pubdata_open.%I', o.view_name);
		EXECUTE pg_catalog.format('CREATE OR REPLACE VIEW pubdata_open.%I WITH (security_barrier) AS %s',
								  o.view_name, pubdata._open_view_sql(o.resource_id));
		EXECUTE pg_catalog.format('ALTER EXTENSION pubdata DROP VIEW pubdata_open.%I', o.view_name);
	END LOOP;
	FOR o IN SELECT DISTINCT r.role_name FROM pubdata.open_reader r
			   JOIN pg_catalog.pg_roles ro ON ro.rolname OPERATOR(pg_catalog.=) r.role_name
			  ORDER BY 1
	LOOP
		IF NOT pg_catalog.has_function_privilege(o.role_name, 'pubdata.open_dataset_rows(bigint)', 'EXECUTE') THEN
			EXECUTE pg_catalog.format('GRANT pubdata_open_conditional TO %I', o.role_name);
		END IF;
	END LOOP;
END
$rebuild$;
