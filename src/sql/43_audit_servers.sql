-- ---------------------------------------------------------------------------
-- One access audit across the primary and its standbys (src/audit_ship.c):
-- this server's name, the chains standbys shipped here, their verification.
-- Before 50_audit.sql, whose views read them.
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pubdata._audit_server_of(seq bigint) RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_audit_server_of'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION pubdata._audit_server_of(bigint) IS
	'The server a record of this server''s own audit log happened on: this one (pubdata.server_name, cluster_name, or server- and its audit id), or for the records inherited with the data directory, the server it was copied from (internal)';

CREATE OR REPLACE FUNCTION pubdata._audit_shipped_records(
	OUT seq bigint, OUT at timestamptz, OUT database oid, OUT role_name text,
	OUT department_id integer, OUT department_code text, OUT resources text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT hash text, OUT grants text, OUT outcome text, OUT statement text, OUT masked text,
	OUT server text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_shipped_records';
COMMENT ON FUNCTION pubdata._audit_shipped_records() IS
	'Every audit record standbys shipped to this server, server by server in chain order, with the server''s name (internal: use pubdata.access_log)';

CREATE OR REPLACE FUNCTION pubdata._audit_shipped_records_by(
	since timestamptz, before timestamptz, server_ids text[], after_seqs bigint[], upto_seqs bigint[],
	only_listed boolean,
	OUT seq bigint, OUT at timestamptz, OUT database oid, OUT role_name text,
	OUT department_id integer, OUT department_code text, OUT resources text,
	OUT grant_id bigint, OUT purpose text, OUT command text, OUT query_id bigint,
	OUT rows bigint, OUT hash text, OUT grants text, OUT outcome text, OUT statement text, OUT masked text,
	OUT server text, OUT server_id text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_shipped_records';
COMMENT ON FUNCTION pubdata._audit_shipped_records_by(timestamptz, timestamptz, text[], bigint[], bigint[], boolean) IS
	'The audit records standbys shipped here with since <= at < before (NULL: unbounded); of the servers listed (audit ids) those after after_seqs and up to upto_seqs (NULL: no bound), of the others all or, with only_listed, none; segments before after_seqs are not read (internal: the usage summaries)';

-- _audit_receive: a standby's shipper calls it on the primary
CREATE OR REPLACE FUNCTION pubdata._audit_receive(server_id text, server_name text, fork_seq bigint,
												  fork_hash text, origin text, records text)
	RETURNS bigint
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_receive';
COMMENT ON FUNCTION pubdata._audit_receive(text, text, bigint, text, text, text) IS
	'On the primary: keep a standby''s audit record lines after checking each one links to the last held; returns the last seq held of its chain (the standbys'' login, pubdata_standby)';

CREATE OR REPLACE FUNCTION pubdata.audit_servers(
	OUT server_id text, OUT name text, OUT this_server boolean, OUT kind text, OUT fork_seq bigint,
	OUT fork_hash text, OUT origin text, OUT last_seq bigint, OUT last_hash text,
	OUT last_at timestamptz, OUT received_at timestamptz, OUT records bigint)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_audit_servers';
COMMENT ON FUNCTION pubdata.audit_servers() IS
	'This server (kind primary or standby) and every standby whose audit chain is shipped here (kind shipped): its id, name, fork (the last record it inherited), origin, how far its chain goes, when it last shipped';

CREATE OR REPLACE FUNCTION pubdata._verify_shipped_chains(
	OUT server text, OUT ok boolean, OUT records bigint, OUT first_broken_seq bigint, OUT detail text)
	RETURNS SETOF record
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'pubdata_verify_shipped_chains';
COMMENT ON FUNCTION pubdata._verify_shipped_chains() IS
	'Relink every audit chain shipped here from its fork to its head, and check the fork against its origin''s record (internal: use pubdata.verify_audit_chains)';

GRANT EXECUTE ON FUNCTION pubdata._audit_server_of(bigint), pubdata._audit_shipped_records(),
	pubdata._audit_shipped_records_by(timestamptz, timestamptz, text[], bigint[], bigint[], boolean),
	pubdata.audit_servers(), pubdata._verify_shipped_chains() TO pubdata_admin, pubdata_auditor;
-- the standbys' login calls _audit_receive and nothing else of pubdata
GRANT USAGE ON SCHEMA pubdata TO pubdata_standby;
GRANT EXECUTE ON FUNCTION pubdata._audit_receive(text, text, bigint, text, text, text) TO pubdata_standby;
