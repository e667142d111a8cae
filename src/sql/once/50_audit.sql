-- ---------------------------------------------------------------------------
-- Anchors of the access audit chain (issue 19): the head (seq, hash, time)
-- the launcher takes every pubdata.audit_anchor_interval, kept apart from
-- the audit directory.  WAL-logged, so base backups, archives and standbys
-- carry it; written only by pubdata's launcher (src/audit_anchor.c).
-- ---------------------------------------------------------------------------

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
