-- 0.2: catalog_as_of() shows a department only what it may see whole (issue 19).
CREATE OR REPLACE FUNCTION pubdata.catalog_as_of(at timestamptz)
	RETURNS TABLE (code text, name text, provider text, status pubdata.resource_status,
				   share_class pubdata.share_class, open_class pubdata.open_class, version integer, entry jsonb)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT h.entry OPERATOR(pg_catalog.->>) 'code', h.entry OPERATOR(pg_catalog.->>) 'name',
		   h.entry OPERATOR(pg_catalog.->>) 'provider',
		   (h.entry OPERATOR(pg_catalog.->>) 'status')::pubdata.resource_status,
		   (h.entry OPERATOR(pg_catalog.->>) 'share_class')::pubdata.share_class,
		   (h.entry OPERATOR(pg_catalog.->>) 'open_class')::pubdata.open_class,
		   h.version, h.entry
	  FROM pubdata.resource_history h
	 WHERE h.valid_from OPERATOR(pg_catalog.<=) $1
	   AND (h.valid_to IS NULL OR h.valid_to OPERATOR(pg_catalog.>) $1)
	   -- what the caller may see whole: the bureau and the auditor everything,
	   -- a department its own entries and others' entries then published and shared
	   AND (pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
			OR h.entry OPERATOR(pg_catalog.->>) 'provider' OPERATOR(pg_catalog.=)
			   (SELECT d.code FROM pubdata.department d
				 WHERE d.id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()))
			OR (h.entry OPERATOR(pg_catalog.->>) 'status' OPERATOR(pg_catalog.=) 'published'
				AND h.entry OPERATOR(pg_catalog.->>) 'share_class' OPERATOR(pg_catalog.<>) 'non_shared'))
	 ORDER BY 1
$$;
COMMENT ON FUNCTION pubdata.catalog_as_of(timestamptz) IS 'The catalog as it stood at a moment: one row per entry then in force, with its items (a department: its own entries and the others'' entries then published and shared)';
