-- 0.2: anchors of the access audit outside the audit directory, audit
-- losses raised as alerts (issue 19, src/sql/once/50_audit.sql and
-- src/sql/50_audit.sql).  The views and functions over them are in the
-- re-runnable parts that follow.

CREATE TABLE pubdata.audit_anchor (
	id					bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	seq					bigint NOT NULL CHECK (seq > 0),
	hash				text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
	head_at				timestamptz NOT NULL,
	taken_at			timestamptz NOT NULL DEFAULT now(),
	reason				text NOT NULL CHECK (reason IN ('start', 'interval', 'shutdown')),
	system_identifier	bigint NOT NULL,
	timeline			integer NOT NULL
);
CREATE INDEX audit_anchor_chain_idx ON pubdata.audit_anchor (system_identifier, timeline, seq);
COMMENT ON TABLE pubdata.audit_anchor IS
	'Anchors of the access audit chain, taken by the launcher: each proves that the log reached record seq with this hash; verify_audit_chain() checks the newest of this server''s chain';
COMMENT ON COLUMN pubdata.audit_anchor.seq IS 'the chain head''s seq (a durable record)';
COMMENT ON COLUMN pubdata.audit_anchor.hash IS 'its hash (hex): pass seq and hash to pubdata.verify_audit_chain() to check a copy kept elsewhere';
COMMENT ON COLUMN pubdata.audit_anchor.head_at IS 'the time of that record';
COMMENT ON COLUMN pubdata.audit_anchor.taken_at IS 'when the anchor was taken';
COMMENT ON COLUMN pubdata.audit_anchor.reason IS 'start (the launcher started), interval (pubdata.audit_anchor_interval) or shutdown (the launcher stopped)';
COMMENT ON COLUMN pubdata.audit_anchor.system_identifier IS 'the cluster whose chain it anchors (pg_control_system().system_identifier)';
COMMENT ON COLUMN pubdata.audit_anchor.timeline IS 'the timeline it was taken on: a promoted standby keeps its own chain';

-- a kind of alert for records found missing (the type is new in 0.2: part 72)
ALTER TYPE pubdata.alert_kind ADD VALUE 'audit_loss';
COMMENT ON TYPE pubdata.alert_kind IS
	'What an alert is about: an objection past its deadline, a resource whose aggregation is overdue, a year without an official calendar, access audit records found missing';
COMMENT ON COLUMN pubdata.alert.kind IS 'objection_overdue, aggregation_overdue, calendar_not_loaded or audit_loss';
