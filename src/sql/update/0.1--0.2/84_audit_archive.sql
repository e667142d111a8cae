-- 0.2: the usage summaries cover the chains standbys ship to the primary
-- (issue 13): how far each chain is counted, and its per-day figures
-- (src/sql/once/52_audit_volume.sql; the functions in 52_audit_volume.sql).

-- The same for the chains standbys shipped here (issue 13): per server (its
-- audit id), how far its chain is counted, and its per-day figures.
CREATE TABLE pubdata.audit_usage_shipped (
	server_id		text PRIMARY KEY,
	summarised_seq	bigint NOT NULL,
	summarised_at	timestamptz
);
COMMENT ON TABLE pubdata.audit_usage_shipped IS
	'How far pubdata.audit_usage_day_shipped goes: every record of the standby''s chain shipped here (server_id, see audit_servers()) up to summarised_seq (of this database) is counted there';

CREATE TABLE pubdata.audit_usage_day_shipped (
	server_id	text NOT NULL,
	day			date NOT NULL,
	department	text,
	resource	text,
	role_name	text,
	grant_id	bigint,
	statements	bigint NOT NULL,
	rows		numeric NOT NULL,
	first_at	timestamptz NOT NULL,
	last_at		timestamptz NOT NULL,
	CONSTRAINT audit_usage_day_shipped_key UNIQUE NULLS NOT DISTINCT (server_id, day, department, resource, role_name, grant_id)
);
COMMENT ON TABLE pubdata.audit_usage_day_shipped IS
	'Per-day usage summaries (Asia/Shanghai days) of the reads standbys shipped here, per server, for the records up to audit_usage_shipped.summarised_seq, kept by the launcher with audit_usage_day';
COMMENT ON COLUMN pubdata.audit_usage_day_shipped.statements IS 'access_log rows (audited statements reading the resource) that day on that server';
COMMENT ON COLUMN pubdata.audit_usage_day_shipped.rows IS 'rows those statements returned';
