-- ---------------------------------------------------------------------------
-- Dump, restore and uninstall (src/sql/88_restore_drop.sql and the parts it
-- names): pg_dump no longer warns about pubdata.region, a restore re-creates
-- nothing the dump holds, and DROP EXTENSION leaves the registered tables as
-- they were before registration.
-- ---------------------------------------------------------------------------

-- A region's parent: a trigger instead of a foreign key to its own table
ALTER TABLE pubdata.region DROP CONSTRAINT region_parent_fkey;
COMMENT ON COLUMN pubdata.region.parent IS 'the division this one belongs to (a region''s code; checked by trigger region_parent)';

-- ---------------------------------------------------------------------------
-- What registration changed, and how DROP EXTENSION gives it back
-- ---------------------------------------------------------------------------

CREATE TABLE pubdata.resource_origin (
	resource_id	bigint PRIMARY KEY REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	exact		boolean NOT NULL,
	row_security boolean NOT NULL,
	force_row_security boolean NOT NULL,
	table_acl	jsonb NOT NULL DEFAULT '[]',
	column_acl	jsonb NOT NULL DEFAULT '{}',
	policies	jsonb NOT NULL DEFAULT '[]',
	recorded_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.resource_origin IS
	'Each registered table as it was before registration changed it: what DROP EXTENSION pubdata gives back';
COMMENT ON COLUMN pubdata.resource_origin.exact IS
	'recorded at registration; false: guessed later (a table registered under version 0.1) from what pubdata did not make';
COMMENT ON COLUMN pubdata.resource_origin.row_security IS 'row-level security was on (ALTER TABLE ... ENABLE ROW LEVEL SECURITY)';
COMMENT ON COLUMN pubdata.resource_origin.force_row_security IS 'row-level security applied to the owner too (FORCE ROW LEVEL SECURITY)';
COMMENT ON COLUMN pubdata.resource_origin.table_acl IS 'the table''s privileges: [{grantee (null: PUBLIC), privilege, grantable}]';
COMMENT ON COLUMN pubdata.resource_origin.column_acl IS 'column privileges: {column: [{grantee, privilege, grantable}]}';
COMMENT ON COLUMN pubdata.resource_origin.policies IS
	'the table''s policies (registration drops those that would give rows to PUBLIC or other departments): [{name, permissive, command, roles, using, check}]';
SELECT pg_catalog.pg_extension_config_dump('pubdata.resource_origin', '');

-- A registered view's lineage is recorded by registration, not by a trigger
-- on pubdata.resource (a restore's load would record it again)
DROP TRIGGER lineage_view_sources ON pubdata.resource;
DROP FUNCTION pubdata._lineage_resource_registered();
