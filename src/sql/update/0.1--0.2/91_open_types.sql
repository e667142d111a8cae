-- ---------------------------------------------------------------------------
-- Open views with honest types (issue 12), after the re-runnable parts: the
-- views made before the update get their columns' types.
-- ---------------------------------------------------------------------------

-- The open views made before the update: rebuilt with the new column types
-- (a view's column cannot change type in place), owned by the extension
-- owner, with the privileges and the named readers they had.  Each is an
-- extension member only while it is rebuilt: dropping it from the extension
-- also drops the initial privileges its GRANTs recorded, so pg_dump dumps it
-- with its privileges.  A view that another view depends on cannot be
-- rebuilt: the update stops and says which.
DO $rebuild$
DECLARE
	o record;
	g record;
	owner name := (SELECT pg_catalog.pg_get_userbyid(x.extowner) FROM pg_catalog.pg_extension x
					WHERE x.extname OPERATOR(pg_catalog.=) 'pubdata');
BEGIN
	FOR o IN SELECT d.resource_id, d.view_name, c.relacl
			   FROM pubdata.open_dataset d
			   JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', d.view_name))
			  WHERE d.dropped_at IS NULL
			  ORDER BY d.resource_id
	LOOP
		BEGIN
			EXECUTE pg_catalog.format('DROP VIEW pubdata_open.%I', o.view_name);
		EXCEPTION WHEN dependent_objects_still_exist THEN
			RAISE EXCEPTION 'open view pubdata_open.% cannot be rebuilt: other objects depend on it', o.view_name
				USING ERRCODE = 'dependent_objects_still_exist',
					  DETAIL = 'Version 0.2 gives open views the types of their columns; a view''s column types change only by rebuilding it.',
					  HINT = 'Drop the objects that depend on it (see DROP VIEW pubdata_open.' || pg_catalog.quote_ident(o.view_name)
						  || '), update, then create them again.';
		END;
		EXECUTE pg_catalog.format('CREATE VIEW pubdata_open.%I WITH (security_barrier) AS %s',
								  o.view_name, pubdata._open_view_sql(o.resource_id));
		EXECUTE pg_catalog.format('ALTER VIEW pubdata_open.%I OWNER TO %I', o.view_name, owner);
		PERFORM pubdata._open_comments(o.resource_id, o.view_name);
		FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable
				   FROM pg_catalog.aclexplode(o.relacl) a
				  WHERE a.grantee OPERATOR(pg_catalog.<>) (SELECT x.extowner FROM pg_catalog.pg_extension x
															 WHERE x.extname OPERATOR(pg_catalog.=) 'pubdata')
		LOOP
			EXECUTE pg_catalog.format('GRANT %s ON pubdata_open.%I TO %s%s', g.privilege_type, o.view_name,
				CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
				CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		END LOOP;
		EXECUTE pg_catalog.format('ALTER EXTENSION pubdata DROP VIEW pubdata_open.%I', o.view_name);
		UPDATE pubdata.open_dataset SET columns = (SELECT pg_catalog.count(*) FROM pubdata._open_columns(o.resource_id)),
			   refreshed_at = pg_catalog.now()
		 WHERE resource_id OPERATOR(pg_catalog.=) o.resource_id;
	END LOOP;
END
$rebuild$;
