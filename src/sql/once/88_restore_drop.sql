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
