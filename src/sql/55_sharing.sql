-- ---------------------------------------------------------------------------
-- Sharing enforcement (Art 16-19): row-level security and column privileges
-- ---------------------------------------------------------------------------

-- _on_register: a registered table gets row-level security; its provider keeps full access
CREATE FUNCTION pubdata._on_register(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
BEGIN
	SELECT x.relation, c.relkind, d.role_name INTO r
	  FROM pubdata.resource x JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.relation::oid
	  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) x.provider_id
	 WHERE x.id OPERATOR(pg_catalog.=) $1;
	IF r.relkind IN ('r', 'p') THEN
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.relation);
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
						WHERE p.polrelid OPERATOR(pg_catalog.=) r.relation::oid AND p.polname OPERATOR(pg_catalog.=) 'pubdata_provider') THEN
			EXECUTE pg_catalog.format('CREATE POLICY pubdata_provider ON %s FOR ALL TO %I USING (true) WITH CHECK (true)',
									  r.relation, r.role_name);
		END IF;
	END IF;
END
$$;

-- _on_retire: sharing of a retired resource ends
CREATE FUNCTION pubdata._on_retire(resource_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	RETURN;
END
$$;
