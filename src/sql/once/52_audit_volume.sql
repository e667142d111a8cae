-- ---------------------------------------------------------------------------
-- Usage summaries: access_log's rows counted per local day (Asia/Shanghai, as
-- the evaluation's periods), reading department, resource, role and grant,
-- for the records up to summarised_seq.  A cache of the log, not evidence:
-- it is rebuilt by emptying it and setting summarised_seq to 0.
-- ---------------------------------------------------------------------------
CREATE TABLE pubdata.audit_usage_day (
	day			date NOT NULL,
	department	text,
	resource	text,
	role_name	text,
	grant_id	bigint,
	statements	bigint NOT NULL,
	rows		numeric NOT NULL,
	first_at	timestamptz NOT NULL,
	last_at		timestamptz NOT NULL,
	CONSTRAINT audit_usage_day_key UNIQUE NULLS NOT DISTINCT (day, department, resource, role_name, grant_id)
);
COMMENT ON TABLE pubdata.audit_usage_day IS
	'Per-day usage summaries of the access audit (Asia/Shanghai days) for the records up to audit_usage_state.summarised_seq, kept by the launcher; usage_stats adds the unsummarised tail';
COMMENT ON COLUMN pubdata.audit_usage_day.statements IS 'access_log rows (audited statements reading the resource) that day';
COMMENT ON COLUMN pubdata.audit_usage_day.rows IS 'rows those statements returned';

CREATE TABLE pubdata.audit_usage_state (
	one				boolean PRIMARY KEY DEFAULT true CHECK (one),
	summarised_seq	bigint NOT NULL,
	summarised_at	timestamptz
);
COMMENT ON TABLE pubdata.audit_usage_state IS
	'How far pubdata.audit_usage_day goes: every audit record up to summarised_seq (of this database) is counted there';
INSERT INTO pubdata.audit_usage_state VALUES (true, 0, NULL);

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
