-- ---------------------------------------------------------------------------
-- Access audit (Art 15, 16(4), 27): a SHA-256 hash chain of records kept in
-- segment files under $PGDATA/pg_pubdata/audit/ (see src/audit.c).  Records
-- are written by the executor hook; here is how they are read and verified.
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata._audit_records(
	OUT seq bigint, OUT at timestamptz, OUT database oid, OUT role_name text,
	OUT department_id integer, OUT department_code text, OUT resources text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT hash text, OUT grants text, OUT outcome text, OUT statement text, OUT masked text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_records';
COMMENT ON FUNCTION pubdata._audit_records() IS
	'Every access audit record of the cluster, read from the segment files in chain order (internal: use pubdata.access_log)';

CREATE OR REPLACE VIEW pubdata.access_log AS
	SELECT r.at, r.role_name, r.department_code AS department, res.resource,
		   CASE WHEN r.grants IS NULL THEN r.grant_id ELSE g.ids[1] END AS grant_id,
		   r.purpose, r.command, r.query_id, r.rows, r.seq, r.hash,
		   g.ids AS grant_ids, r.outcome, r.statement, NULLIF(res.masked, '') AS masked, r.server
	  FROM (SELECT o.*, pubdata._audit_server_of(o.seq) AS server FROM pubdata._audit_records() o
			UNION ALL
			SELECT s.* FROM pubdata._audit_shipped_records() s) r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.grants, ';')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS res(resource, grant_group, masked) ON true
	  LEFT JOIN LATERAL (SELECT pg_catalog.string_to_array(NULLIF(res.grant_group, ''), ',')::bigint[] AS ids) g ON true
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
										  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	   AND r.resources OPERATOR(pg_catalog.<>) '';	-- reads only: the events are in audit_events
COMMENT ON VIEW pubdata.access_log IS
	'Access audit (Art 15, 27): one row per audited statement and resource read, in chain order, for this database; refusals and failed statements included; on a primary also the reads its standbys shipped';
COMMENT ON COLUMN pubdata.access_log.at IS 'when the reading statement finished (the record was written)';
COMMENT ON COLUMN pubdata.access_log.role_name IS 'the role that read';
COMMENT ON COLUMN pubdata.access_log.department IS 'code of the department the role acted for';
COMMENT ON COLUMN pubdata.access_log.resource IS 'code of a resource the statement read (a statement reading several has one row each)';
COMMENT ON COLUMN pubdata.access_log.grant_id IS 'the (first) grant the read of this resource relied on; NULL if none';
COMMENT ON COLUMN pubdata.access_log.purpose IS 'the stated purposes of the grants used; for a refusal, the purpose the session declared (SET pubdata.purpose)';
COMMENT ON COLUMN pubdata.access_log.command IS 'statement kind: SELECT, COPY, INSERT, ...';
COMMENT ON COLUMN pubdata.access_log.query_id IS 'query identifier (as in pg_stat_statements and pg_stat_activity)';
COMMENT ON COLUMN pubdata.access_log.rows IS 'rows the statement returned or processed (a cursor: all its fetches)';
COMMENT ON COLUMN pubdata.access_log.seq IS 'position in the hash chain of its server (1, 2, ... across the whole cluster)';
COMMENT ON COLUMN pubdata.access_log.hash IS 'SHA-256 (hex) of the previous record''s hash and this record';
COMMENT ON COLUMN pubdata.access_log.grant_ids IS 'every grant the executor chose for this resource: each covers all the items the statement read (the rows seen are the union of their row scopes)';
COMMENT ON COLUMN pubdata.access_log.outcome IS 'ok; error: the statement failed (or its subtransaction or cursor was abandoned) after it started reading; denied: pubdata refused it';
COMMENT ON COLUMN pubdata.access_log.statement IS 'the statement text, constants replaced by $n (pubdata.audit_statement)';
COMMENT ON COLUMN pubdata.access_log.masked IS 'items of this resource the statement read masked, with their rules (item=rule,...)';
COMMENT ON COLUMN pubdata.access_log.server IS 'the server the read happened on: this one (pubdata.server_name) or a standby that shipped it (see pubdata.audit_servers()); seq and hash belong to that server''s chain';

-- A department sees the records of its own reads, and of reads of resources
-- it provides (who used its data, for what purpose); nothing else.
CREATE OR REPLACE FUNCTION pubdata._my_access_log(
	OUT at timestamptz, OUT role_name text, OUT department text, OUT resource text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT seq bigint, OUT as_provider boolean, OUT outcome text, OUT masked text, OUT server text)
	RETURNS SETOF record
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH me AS (SELECT pubdata.current_department() AS id)
	SELECT r.at, r.role_name, r.department_code, x.resource, r.grant_id, r.purpose,
		   r.command, r.query_id, r.rows, r.seq,
		   coalesce(res.provider_id OPERATOR(pg_catalog.=) me.id, false), r.outcome, NULLIF(x.masked, ''), r.server
	  FROM me
	 CROSS JOIN (SELECT o.*, pubdata._audit_server_of(o.seq) AS server FROM pubdata._audit_records() o
				 UNION ALL
				 SELECT s.* FROM pubdata._audit_shipped_records() s) r
	  LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(pg_catalog.string_to_array(r.resources, ',')),
								   pg_catalog.unnest(pg_catalog.string_to_array(r.masked, ';')))
			 AS x(resource, masked) ON true
	  LEFT JOIN pubdata.resource res ON res.code OPERATOR(pg_catalog.=) x.resource
	 WHERE r.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
											  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	   AND r.resources OPERATOR(pg_catalog.<>) ''
	   AND (r.department_id OPERATOR(pg_catalog.=) me.id
			OR res.provider_id OPERATOR(pg_catalog.=) me.id)
	 ORDER BY r.seq
$$;
COMMENT ON FUNCTION pubdata._my_access_log() IS
	'The calling department''s reads, and reads of the resources it provides (internal: use pubdata.my_access_log)';

CREATE OR REPLACE VIEW pubdata.my_access_log AS
	SELECT * FROM pubdata._my_access_log();
COMMENT ON VIEW pubdata.my_access_log IS
	'For departments: the access audit records of your own reads, and of other departments'' reads of the resources you provide';
COMMENT ON COLUMN pubdata.my_access_log.as_provider IS 'true when the row is there because your department provides the resource';
COMMENT ON COLUMN pubdata.my_access_log.outcome IS 'ok; error: the statement failed after it started reading; denied: pubdata refused it';
COMMENT ON COLUMN pubdata.my_access_log.masked IS 'items of this resource the statement read masked, with their rules (item=rule,...)';
COMMENT ON COLUMN pubdata.my_access_log.server IS 'the server the read happened on (this one, or a standby that shipped it)';

CREATE OR REPLACE FUNCTION pubdata.verify_audit_chain(
	anchor_seq bigint DEFAULT NULL, anchor_hash text DEFAULT NULL,
	OUT ok boolean, OUT records bigint, OUT first_broken_seq bigint, OUT detail text)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_verify_audit_chain';
COMMENT ON FUNCTION pubdata.verify_audit_chain(bigint, text) IS
	'Recompute the access audit hash chain; report the first broken link (edit, deletion, insertion, reordering, truncated tail) and every record an anchor proves that is gone: the newest of pubdata.audit_anchor, pg_pubdata/anchor, and one given (from audit_chain_head() or the server log)';

CREATE OR REPLACE FUNCTION pubdata.audit_chain_head(
	OUT seq bigint, OUT hash text, OUT at timestamptz, OUT synced_seq bigint, OUT segment text)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_chain_head';
COMMENT ON FUNCTION pubdata.audit_chain_head() IS
	'The head of the access audit chain (last seq and hash), to keep outside the server as an anchor; synced_seq: last record known fsynced';

-- ---------------------------------------------------------------------------
-- Events of the chain (issue 19): records that are not reads.  A change of
-- pubdata.audit or pubdata.guard (with the reads made while either was off),
-- a count of such reads, and a gap: records found missing at startup or by
-- the launcher against an anchor.  Cluster-wide: every database's events.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW pubdata.audit_events AS
	SELECT r.seq, r.at, d.datname AS database, NULLIF(r.role_name, '') AS role_name,
		   r.outcome AS kind, r.command,
		   CASE WHEN r.outcome OPERATOR(pg_catalog.<>) 'gap' THEN r.rows END AS reads_unrecorded,
		   CASE WHEN r.outcome OPERATOR(pg_catalog.=) 'gap' THEN r.rows END AS records_lost,
		   r.statement AS detail
	  FROM pubdata._audit_records() r
	  LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) r.database
	 WHERE r.resources OPERATOR(pg_catalog.=) '';
COMMENT ON VIEW pubdata.audit_events IS
	'The access audit''s records that are not reads, in chain order, for the whole cluster: changes of pubdata.audit and pubdata.guard, reads made while either was off, records found missing';
COMMENT ON COLUMN pubdata.audit_events.database IS 'the database of the session that made the change; NULL for the server (configuration, startup, the launcher''s check)';
COMMENT ON COLUMN pubdata.audit_events.role_name IS 'the role acting in that session (its oid in parentheses when the session ended before it could be looked up)';
COMMENT ON COLUMN pubdata.audit_events.kind IS 'setting: pubdata.audit or pubdata.guard changed; unrecorded: reads made while either was off; gap: records found missing; archived, pruned: segments copied to an archive directory, archived segments removed from the live log';
COMMENT ON COLUMN pubdata.audit_events.command IS 'how: SET, RESET, CONNECT, SESSION START, RELOAD, STARTUP, ALTER ROLE, ALTER DATABASE, ALTER SYSTEM; UNRECORDED; STARTUP or ANCHOR CHECK for a gap; ARCHIVE; PRUNE';
COMMENT ON COLUMN pubdata.audit_events.reads_unrecorded IS 'audited reads (statements) not recorded because pubdata.audit or pubdata.guard was off, since the previous record that counted them';
COMMENT ON COLUMN pubdata.audit_events.records_lost IS 'a gap: how many records are proven gone';
COMMENT ON COLUMN pubdata.audit_events.detail IS 'what changed, or what was found missing';

GRANT EXECUTE ON FUNCTION pubdata._audit_records(), pubdata.verify_audit_chain(bigint, text),
	pubdata.audit_chain_head() TO pubdata_admin, pubdata_auditor;
GRANT SELECT ON pubdata.access_log, pubdata.audit_events, pubdata.audit_anchor TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata._my_access_log() TO pubdata_department;
GRANT SELECT ON pubdata.my_access_log TO pubdata_department;

-- ---------------------------------------------------------------------------
-- Archiving (issue 13): closed segments exported with a manifest, pruned once
-- their copies are checked, an archive verified on its own and against the
-- live chain (src/audit_archive.c).  The server writes, reads and removes the
-- files: superusers and members of pg_write_server_files (archive, prune) or
-- pg_read_server_files (verify) only, checked in C like COPY with a file.
-- server: the audit id (audit_servers()) of a chain a standby shipped here;
-- NULL, the default, is this server's own log.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pubdata.audit_archive(before timestamptz, directory text, server text DEFAULT NULL,
	OUT segment text, OUT first_seq bigint, OUT last_seq bigint, OUT first_at timestamptz,
	OUT last_at timestamptz, OUT bytes bigint, OUT sha256 text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_archive';
COMMENT ON FUNCTION pubdata.audit_archive(timestamptz, text, text) IS
	'Copy every closed access audit segment of the chain of server (an audit id from audit_servers(), a standby''s chain shipped here; NULL: this server''s own log) whose records are all dated before the cut (never the current one) into an archive directory (absolute, outside the data directory), each relinked and fsynced, with a manifest (the server, segments, first and last seq and time, SHA-256 of each file, the hash before the first record and of the last); segments already archived there are skipped; an archived record in the chain states it. Superusers and pg_write_server_files only';

CREATE OR REPLACE FUNCTION pubdata.audit_prune(directory text, upto_seq bigint DEFAULT NULL, server text DEFAULT NULL,
	OUT segments integer, OUT first_seq bigint, OUT last_seq bigint)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_prune';
COMMENT ON FUNCTION pubdata.audit_prune(text, bigint, text) IS
	'Remove from the live access audit chain of server (NULL: this server''s own log; an audit id: a standby''s chain shipped here), oldest first, the closed segments archived in the directory (up to upto_seq), after checking that each archived copy and the live file match the manifest''s SHA-256 and relink, and that the usage summaries counted them (a shipped chain: audit_usage_shipped; on a standby: its own records only as far as its primary holds and counted them, audit_usage_shipped replicated here); a prune record in this server''s chain and the chain''s pruned file then state the pruned prefix, from which the live chain verifies. Superusers and pg_write_server_files only';

CREATE OR REPLACE FUNCTION pubdata.verify_audit_archive(directory text, server text DEFAULT NULL,
	OUT ok boolean, OUT segments integer, OUT records bigint, OUT first_seq bigint, OUT last_seq bigint,
	OUT first_broken_seq bigint, OUT detail text)
	RETURNS record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_verify_audit_archive';
COMMENT ON FUNCTION pubdata.verify_audit_archive(text, text) IS
	'Verify an access audit archive directory of the chain of server (NULL: this server''s own log) on its own (manifests of that chain that follow each other, every file against its SHA-256, every link of the archived chain) and its link to the live chain (the pruned prefix, or the live record at its end). Superusers and pg_read_server_files only';

REVOKE ALL ON FUNCTION pubdata.audit_archive(timestamptz, text, text), pubdata.audit_prune(text, bigint, text),
	pubdata.verify_audit_archive(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pubdata.audit_archive(timestamptz, text, text), pubdata.verify_audit_archive(text, text)
	TO pubdata_admin, pubdata_auditor;
GRANT EXECUTE ON FUNCTION pubdata.audit_prune(text, bigint, text) TO pubdata_admin;
