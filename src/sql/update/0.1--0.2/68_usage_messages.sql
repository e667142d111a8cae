-- ---------------------------------------------------------------------------
-- An approved grant is enough to read; messages that point the right way;
-- departments schedule their own quality measurements; cron month and day
-- names; a new column of a published entry waits for the bureau's review.
-- ---------------------------------------------------------------------------

-- the schema USAGE pubdata gave so that grants can be read, taken back when
-- no grant needs it (pubdata._sync_schema_usage)
CREATE TABLE pubdata.schema_usage (
	schema_name	name NOT NULL,
	role_name	name NOT NULL,
	granted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (schema_name, role_name)
);
COMMENT ON TABLE pubdata.schema_usage IS 'The USAGE on a table''s schema that pubdata gave a department (or pubdata_department) so that its grants can be read; taken back when no grant needs it';
SELECT pg_catalog.pg_extension_config_dump('pubdata.schema_usage', '');

COMMENT ON TYPE pubdata.item_state IS 'current; added (a new column the bureau has not reviewed yet: neither shared nor opened); dropped (the column left the table)';
