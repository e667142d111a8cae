-- ---------------------------------------------------------------------------
-- What each role sees of the catalog (Art 9, 18(3)): the bureau and the audit
-- office every entry; a department its own entries whole, the published
-- entries of other departments, and of another department's non-shared
-- entry only that it exists and its legal basis (pubdata.resource_directory;
-- an Art 18(3) refusal cites it).  Drafts, submitted, approved and retired
-- entries are the provider's and the bureau's.  Row-level security on the
-- catalog tables; pubdata's own functions and views run as the extension
-- owner, who owns the tables, and filter with _catalog_sight().
-- ---------------------------------------------------------------------------

-- _catalog_sight(resource): how much of a catalog entry the calling role
-- sees: 'whole', 'exists' (another department's published non-shared entry)
-- or NULL (nothing)
CREATE OR REPLACE FUNCTION pubdata._catalog_sight(resource_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE
			WHEN pubdata.is_admin() OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER') THEN 'whole'
			WHEN r.provider_id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller()) THEN 'whole'
			WHEN r.status OPERATOR(pg_catalog.<>) 'published' THEN NULL
			WHEN r.share_class OPERATOR(pg_catalog.=) 'non_shared' THEN 'exists'
			ELSE 'whole' END
	  FROM pubdata.resource r
	 WHERE r.id OPERATOR(pg_catalog.=) $1
$$;
COMMENT ON FUNCTION pubdata._catalog_sight(bigint) IS
	'Internal: how much of a catalog entry the calling role sees: whole, exists (another department''s published non-shared entry: its code, provider and legal basis) or NULL';
REVOKE ALL ON FUNCTION pubdata._catalog_sight(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata._catalog_sight(bigint) TO pubdata_admin, pubdata_department, pubdata_auditor;

ALTER TABLE pubdata.resource ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.resource_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.resource_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata.resource_element ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS resource_oversight ON pubdata.resource;
CREATE POLICY resource_oversight ON pubdata.resource FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
DROP POLICY IF EXISTS resource_departments ON pubdata.resource;
CREATE POLICY resource_departments ON pubdata.resource FOR SELECT TO pubdata_department
	USING (provider_id OPERATOR(pg_catalog.=) (SELECT pubdata.department_of(pubdata.caller()))
		   OR (status OPERATOR(pg_catalog.=) 'published' AND share_class OPERATOR(pg_catalog.<>) 'non_shared'));
DROP POLICY IF EXISTS resource_item_oversight ON pubdata.resource_item;
CREATE POLICY resource_item_oversight ON pubdata.resource_item FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
DROP POLICY IF EXISTS resource_item_departments ON pubdata.resource_item;
CREATE POLICY resource_item_departments ON pubdata.resource_item FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) resource_id));
DROP POLICY IF EXISTS resource_history_oversight ON pubdata.resource_history;
CREATE POLICY resource_history_oversight ON pubdata.resource_history FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
DROP POLICY IF EXISTS resource_history_departments ON pubdata.resource_history;
CREATE POLICY resource_history_departments ON pubdata.resource_history FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) resource_id));
DROP POLICY IF EXISTS resource_element_oversight ON pubdata.resource_element;
CREATE POLICY resource_element_oversight ON pubdata.resource_element FOR SELECT TO pubdata_admin, pubdata_auditor
	USING (true);
DROP POLICY IF EXISTS resource_element_departments ON pubdata.resource_element;
CREATE POLICY resource_element_departments ON pubdata.resource_element FOR SELECT TO pubdata_department
	USING (EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id OPERATOR(pg_catalog.=) resource_id));

-- resource_directory: every entry the calling role may know exists
CREATE OR REPLACE VIEW pubdata.resource_directory AS
SELECT r.id, r.code,
	   CASE WHEN s.sight OPERATOR(pg_catalog.=) 'whole' THEN r.name END AS name,
	   p.code AS provider, r.share_class, r.status, r.legal_basis,
	   s.sight OPERATOR(pg_catalog.=) 'whole' AS whole
  FROM pubdata.resource r
  JOIN pubdata.department p ON p.id OPERATOR(pg_catalog.=) r.provider_id
 CROSS JOIN LATERAL (SELECT pubdata._catalog_sight(r.id) AS sight) s
 WHERE s.sight IS NOT NULL;
COMMENT ON VIEW pubdata.resource_directory IS
	'Every catalog entry the querying role may know of: a department''s own, other departments'' published entries (of a non-shared one only its code, provider, class and legal basis), all for the bureau and the auditor';
COMMENT ON COLUMN pubdata.resource_directory.name IS 'NULL for another department''s non-shared entry';
COMMENT ON COLUMN pubdata.resource_directory.legal_basis IS 'the law that restricts or forbids sharing (Art 18(3)): cited by refusals';
COMMENT ON COLUMN pubdata.resource_directory.whole IS 'the entry is readable whole in pubdata.resource (false: only its existence and legal basis)';
GRANT SELECT ON pubdata.resource_directory TO pubdata_admin, pubdata_department, pubdata_auditor;
