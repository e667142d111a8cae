-- ---------------------------------------------------------------------------
-- Roles (created if missing; roles are cluster-wide and outlive the extension)
-- ---------------------------------------------------------------------------
DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['pubdata_admin', 'pubdata_department', 'pubdata_auditor', 'pubdata_open_reader',
						'pubdata_open_conditional', 'pubdata_province', 'pubdata_standby']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$roles$;

COMMENT ON ROLE pubdata_admin IS 'pubdata: the Big Data Bureau and DBAs: review the catalog, approve scenarios and copies, calendars, evaluation';
COMMENT ON ROLE pubdata_department IS 'pubdata: group role of every department login role';
COMMENT ON ROLE pubdata_auditor IS 'pubdata: audit office: reads the catalog, the access log and the evaluation';
COMMENT ON ROLE pubdata_open_reader IS 'pubdata: BI tools and the public: the pubdata_open schema only';
COMMENT ON ROLE pubdata_province IS 'pubdata: the province''s replication login on a city (member, with REPLICATION): reads what the city''s publication sends';
COMMENT ON ROLE pubdata_standby IS 'pubdata: a standby''s login on its primary (the primary_conninfo user, member): ships the standby''s audit records';
COMMENT ON ROLE pubdata_open_conditional IS 'pubdata: roles named as readers of a conditional open dataset (pubdata.allow_open_reader); joined automatically';

GRANT USAGE ON SCHEMA pubdata TO pubdata_admin, pubdata_department, pubdata_auditor;
