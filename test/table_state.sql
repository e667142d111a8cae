-- What pubdata changes on the relations of the departments' schemas, one line
-- per thing in a stable order: the schemas' privileges; each relation's
-- row-level security, privileges (the default ones spelled out, so that a
-- NULL ACL equals the owner's explicit one), column privileges, column
-- comments, policies, triggers and view definition.  Members of an extension are left out.
-- Used by the dump/restore and DROP EXTENSION shell tests:
--	psql -At -v schemas='^(police|health)$' -f test/table_state.sql
SELECT line FROM (
	SELECT 'schema ' || n.nspname || ' owner=' || pg_get_userbyid(n.nspowner) || ' acl=' ||
		   (SELECT coalesce(string_agg(x, ',' ORDER BY x), '')
			  FROM (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '=' ||
						   a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END || '/' || pg_get_userbyid(a.grantor) AS x
					  FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a) acl) AS line
	  FROM pg_namespace n WHERE n.nspname ~ :'schemas'
	UNION ALL
	SELECT c.oid::regclass::text || ' kind=' || c.relkind::text || ' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity ||
		   ' owner=' || pg_get_userbyid(c.relowner) || ' acl=' ||
		   (SELECT coalesce(string_agg(x, ',' ORDER BY x), '')
			  FROM (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '=' ||
						   a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END || '/' || pg_get_userbyid(a.grantor) AS x
					  FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a) acl)
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname ~ :'schemas' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
	UNION ALL
	SELECT c.oid::regclass::text || '.' || t.attname || ' acl=' ||
		   (SELECT string_agg(x, ',' ORDER BY x)
			  FROM (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '=' ||
						   a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END || '/' || pg_get_userbyid(a.grantor) AS x
					  FROM aclexplode(t.attacl) a) acl)
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  JOIN pg_attribute t ON t.attrelid = c.oid AND t.attnum > 0 AND NOT t.attisdropped AND t.attacl IS NOT NULL
	 WHERE n.nspname ~ :'schemas'
	UNION ALL
	SELECT c.oid::regclass::text || ' policy ' || p.polname || ' ' || p.polcmd::text ||
		   CASE WHEN p.polpermissive THEN ' permissive' ELSE ' restrictive' END || ' to ' ||
		   (SELECT string_agg(x, ',' ORDER BY x)
			  FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END AS x FROM unnest(p.polroles) r) q) ||
		   ' using ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-') ||
		   ' check ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-')
	  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname ~ :'schemas'
	UNION ALL
	SELECT c.oid::regclass::text || '.' || t.attname || ' comment=' || replace(d.description, E'\n', ' / ')
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  JOIN pg_attribute t ON t.attrelid = c.oid AND t.attnum > 0 AND NOT t.attisdropped
	  JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = t.attnum
	 WHERE n.nspname ~ :'schemas'
	UNION ALL
	SELECT c.oid::regclass::text || ' trigger ' || pg_get_triggerdef(t.oid)
	  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname ~ :'schemas' AND NOT t.tgisinternal
	UNION ALL
	SELECT c.oid::regclass::text || ' view ' || pg_get_viewdef(c.oid)
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname ~ :'schemas' AND c.relkind IN ('v', 'm')
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
) s ORDER BY line;
