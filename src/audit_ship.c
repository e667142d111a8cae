/*-------------------------------------------------------------------------
 *
 * audit_ship.c
 *	  One access audit across the primary and its standbys (issue 13): every
 *	  server's identity, a standby's shipper, the primary's store of the
 *	  chains it received, their reading and verification.
 *
 * A hot standby records its governed reads in its own segment files
 * (audit.c): a standby cannot write tables, and a read stays a read.  Its
 * data directory began as a copy of the primary's (pg_basebackup), log
 * included, so its chain is the primary's up to the moment of the copy (the
 * fork) and its own after it, numbered on from there.
 *
 * Identity.  pg_pubdata/server names this server: a random id, the data
 * directory's device and inode, the fork (seq and hash of the last record
 * the server inherited, 0 for a server that began empty) and the id of the
 * server it was copied from.  The postmaster checks it at startup, right
 * after audit.c has recovered the chain head: a file written for another
 * directory (a base backup, a rebuilt standby) means a new server, whose
 * fork is the head it inherited.  A server without the file is new too: a
 * standby (standby.signal) forks at its head, a primary at 0.
 *
 * Shipping.  On a standby a background worker ("pubdata audit shipper")
 * connects with libpq to the primary (primary_conninfo, the database
 * pubdata.database; or pubdata.audit_ship_conninfo) and calls
 * pubdata._audit_receive(): first with no records, which answers how far
 * the primary holds this server's chain, then with the lines after that,
 * byte for byte as they are in the standby's segments, a batch at a time.
 * The position is the primary's, so a batch that was stored but whose
 * answer was lost is not sent again, and records wait in the standby's
 * files while the primary is down: none lost, none twice.  A promoted
 * standby stops shipping (its records are the new primary's own log);
 * another standby pointed at it asks it the same question and ships what
 * it does not hold.
 *
 * The primary's store.  pg_pubdata/shipped/<id>/ holds, per server, an
 * info file (name, fork, origin), segments named like the own log's and a
 * head file (last seq, hash, time, where it ends; CRC), under a file lock.
 * A receive checks every line: the next seq, its link (SHA-256 of the
 * previous hash and the line, as audit.c computes it), time not going back;
 * appends, fsyncs, then rewrites the head.  Bytes after the head (a receive
 * cut short by a crash) are cut off before the next append, and sent again.
 * Each chain stays verifiable on its own: _verify_shipped_chains() relinks
 * it from its fork (from its pruned prefix once audit_prune() removed its
 * archived segments, audit_archive.c), checks it reaches the head file, and
 * checks the fork against the origin's record when the origin's log is
 * here (once the origin pruned it, against the hash kept in the info file
 * when it did).
 *
 * The files are cluster-wide like the own log; access_log and the other
 * readers filter by database as they do for the own log.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_store.h"
#include "audit_ship.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpq-fe.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#define SERVER_FILE			"pg_pubdata/server"
#define SHIPPED_DIR			"pg_pubdata/shipped"
#define SHIP_ID_LEN			32	/* hex digits of a server id */
#define SHIPPED_HEAD_MAGIC	0x50445348	/* "PDSH" */
#define SHIP_BATCH_RECORDS	5000
#define SHIP_BATCH_BYTES	(1024 * 1024)

/* A server: this one (pg_pubdata/server) or one whose chain is kept here. */
typedef struct AuditServer
{
	char		id[SHIP_ID_LEN + 1];
	char		origin[SHIP_ID_LEN + 1];	/* "" when none */
	uint64		fork_seq;		/* its own records come after this one */
	uint8		fork_hash[AUDIT_HASH_LEN];
	uint64		dev;			/* this server: its data directory */
	uint64		ino;
	TimestampTz created;
	char		name[NAMEDATALEN];	/* its name (this server's as of its
									 * last start) */
	char		origin_name[NAMEDATALEN];	/* this server: its origin's name */
	bool		origin_fork_kept;	/* a shipped chain: its origin's record
									 * at the fork was pruned, its hash kept */
	uint8		origin_fork_hash[AUDIT_HASH_LEN];
} AuditServer;

/* The head of a shipped chain (pg_pubdata/shipped/<id>/head). */
typedef struct ShippedHead
{
	uint32		magic;
	uint32		version;
	uint64		seq;			/* last record held (the fork before any) */
	uint8		hash[AUDIT_HASH_LEN];
	TimestampTz at;				/* its time; 0 before any */
	uint64		segment;		/* the segment it ends; 0 before any */
	uint64		offset;			/* that segment's size up to it */
	TimestampTz received_at;	/* last receive */
	pg_crc32c	crc;			/* of the bytes before it */
} ShippedHead;

/* What the shipper knows between rounds. */
typedef struct ShipState
{
	PGconn	   *conn;
	bool		known;			/* shipped is the primary's answer */
	uint64		shipped;		/* the primary holds our records up to here */
	uint64		cache_seg;		/* where the line after cache_seq starts */
	uint64		cache_off;
	uint64		cache_seq;
	char		problem[512];	/* the last problem reported, to say it once */
	TimestampTz down_since;		/* 0: the last round reached the primary */
	uint64		waiting_at_down;
	int			refusals;		/* calls the primary refused in a row */
	TimestampTz next_try;		/* after a refusal: not before then */
} ShipState;

/* GUCs */
static char *server_name_setting = NULL;
static bool audit_ship_enabled = true;
static int	audit_ship_interval = 1000;
static char *audit_ship_conninfo = NULL;

static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PGDLLEXPORT void pubdata_audit_ship_main(Datum arg);


/* ------------------------------------------------------------------------
 * Small files: identities and heads
 * ------------------------------------------------------------------------
 */

/*
 * is_hex_id
 *		A server id: SHIP_ID_LEN lower-case hex digits.
 */
static bool
is_hex_id(const char *s)
{
	int			i;

	if (s == NULL || strlen(s) != SHIP_ID_LEN)
		return false;
	for (i = 0; i < SHIP_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * server_read
 *		Read an identity (key=value lines); false if missing or unreadable.
 */
static bool
server_read(const char *path, AuditServer *s)
{
	char	   *buf;
	char	   *line;
	char	   *save = NULL;
	size_t		len;
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st) != 0)
		return false;
	buf = audit_read_file(path, &len, LOG);
	if (buf == NULL)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char	   *eq = strchr(line, '=');
		char	   *v;

		if (eq == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "id") == 0)
			strlcpy(s->id, v, sizeof(s->id));
		else if (strcmp(line, "origin") == 0)
			strlcpy(s->origin, v, sizeof(s->origin));
		else if (strcmp(line, "fork_seq") == 0)
			s->fork_seq = strtoull(v, NULL, 10);
		else if (strcmp(line, "fork_hash") == 0)
			(void) audit_hex_decode(v, s->fork_hash);
		else if (strcmp(line, "dev") == 0)
			s->dev = strtoull(v, NULL, 10);
		else if (strcmp(line, "ino") == 0)
			s->ino = strtoull(v, NULL, 10);
		else if (strcmp(line, "created") == 0)
			s->created = (TimestampTz) strtoll(v, NULL, 10);
		else if (strcmp(line, "name") == 0)
			strlcpy(s->name, v, sizeof(s->name));
		else if (strcmp(line, "origin_name") == 0)
			strlcpy(s->origin_name, v, sizeof(s->origin_name));
		else if (strcmp(line, "origin_fork_hash") == 0)
			s->origin_fork_kept = audit_hex_decode(v, s->origin_fork_hash);
	}
	pfree(buf);
	return is_hex_id(s->id);
}

/*
 * write_durably
 *		Replace path with data: a temporary file, fsynced, renamed over it
 *		(durable_rename fsyncs the directory).  Reports at elevel.
 */
static bool
write_durably(const char *path, const char *data, size_t len, int elevel)
{
	char		tmp[MAXPGPATH];
	int			fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = BasicOpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not create \"%s\": %m", tmp)));
		return false;
	}
	errno = 0;
	if (write(fd, data, len) != (ssize_t) len || pg_fsync(fd) != 0)
	{
		int			save_errno = errno ? errno : ENOSPC;

		close(fd);
		errno = save_errno;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", tmp)));
		return false;
	}
	close(fd);
	return durable_rename(tmp, path, elevel) == 0;
}

/*
 * server_write
 *		Write an identity.
 */
static bool
server_write(const char *path, const AuditServer *s, int elevel)
{
	char		hex[AUDIT_HASH_LEN * 2 + 1];
	char	   *text;

	audit_hex_encode(s->fork_hash, hex);
	text = psprintf("id=%s\norigin=%s\nfork_seq=" UINT64_FORMAT "\nfork_hash=%s\n"
					"dev=" UINT64_FORMAT "\nino=" UINT64_FORMAT "\ncreated=" INT64_FORMAT "\nname=%s\norigin_name=%s\n",
					s->id, s->origin, s->fork_seq, hex, s->dev, s->ino, (int64) s->created, s->name,
					s->origin_name);
	if (s->origin_fork_kept)
	{
		audit_hex_encode(s->origin_fork_hash, hex);
		text = psprintf("%sorigin_fork_hash=%s\n", text, hex);
	}
	return write_durably(path, text, strlen(text), elevel);
}

/*
 * head_read
 *		A shipped chain's head; false if missing or damaged.
 */
static bool
head_read(const char *dir, ShippedHead *h)
{
	char		path[MAXPGPATH];
	int			fd;
	pg_crc32c	crc;

	snprintf(path, sizeof(path), "%s/head", dir);
	fd = BasicOpenFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return false;
	if (read(fd, h, sizeof(*h)) != sizeof(*h))
	{
		close(fd);
		return false;
	}
	close(fd);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, h, offsetof(ShippedHead, crc));
	FIN_CRC32C(crc);
	return h->magic == SHIPPED_HEAD_MAGIC && h->version == 1 && EQ_CRC32C(crc, h->crc);
}

/*
 * head_write
 *		Replace a shipped chain's head.
 */
static void
head_write(const char *dir, ShippedHead *h)
{
	char		path[MAXPGPATH];

	h->magic = SHIPPED_HEAD_MAGIC;
	h->version = 1;
	INIT_CRC32C(h->crc);
	COMP_CRC32C(h->crc, h, offsetof(ShippedHead, crc));
	FIN_CRC32C(h->crc);
	snprintf(path, sizeof(path), "%s/head", dir);
	(void) write_durably(path, (const char *) h, sizeof(*h), ERROR);
}

/*
 * self_server
 *		This server's identity (read once per process), or NULL if it has
 *		none (the library not preloaded: nothing was ever written).
 */
static const AuditServer *
self_server(void)
{
	static AuditServer self;
	static bool loaded = false;

	if (!loaded)
	{
		if (!server_read(SERVER_FILE, &self))
			return NULL;
		loaded = true;
	}
	return &self;
}

/*
 * audit_self_id
 *		See audit_ship.h.
 */
const char *
audit_self_id(uint64 *fork_seq)
{
	const AuditServer *s = self_server();

	if (s == NULL)
		return NULL;
	*fork_seq = s->fork_seq;
	return s->id;
}

/*
 * self_name
 *		The name this server's records show: pubdata.server_name, else
 *		cluster_name, else "server-" and the start of its id.
 */
static const char *
name_for(const char *id)
{
	if (server_name_setting != NULL && server_name_setting[0] != '\0')
		return server_name_setting;
	if (cluster_name != NULL && cluster_name[0] != '\0')
		return cluster_name;
	if (id != NULL)
		return psprintf("server-%.8s", id);
	return "this server";
}

static const char *
self_name(void)
{
	const AuditServer *s = self_server();

	return name_for(s ? s->id : NULL);
}

/*
 * inherited_head
 *		The head a copy inherited, given the head after recovery: when the
 *		start itself wrote a gap record (audit.c found the copy's state file
 *		missing, or ahead of its segments), that record is this server's own
 *		and the fork is the record before it (in the files, or the state
 *		file's or anchor's head the chain jumped to).
 */
static void
inherited_head(AuditAnchor *head)
{
	AuditLossReport rep;
	AuditAnchor before;

	if (head->seq == 0 || !audit_pending_loss(&rep) || rep.gap_seq != head->seq)
		return;
	memset(&before, 0, sizeof(before));
	before.seq = head->seq - 1;
	if (before.seq == 0 ||
		audit_find_record(before.seq, before.hash) == 1 ||
		(audit_read_state_head(&before) && before.seq == head->seq - 1) ||
		(audit_read_anchor_file(&before) && before.seq == head->seq - 1))
		*head = before;
	else
		ereport(LOG,
				(errmsg("pubdata: the record before the gap record " UINT64_FORMAT " is not found: this server's own records start after it",
						head->seq)));
}

/*
 * audit_dir_is_copy
 *		See audit_ship.h.  Only meaningful in the postmaster before
 *		ship_shmem_startup has renewed the identity.
 */
bool
audit_dir_is_copy(void)
{
	AuditServer old;
	struct stat st;

	if (stat("backup_label", &st) == 0)
		return true;
	if (stat(".", &st) != 0 || !server_read(SERVER_FILE, &old))
		return false;
	return old.dev != (uint64) st.st_dev || old.ino != (uint64) st.st_ino;
}

/*
 * ship_shmem_startup
 *		In the postmaster, after audit.c has recovered the chain head: keep
 *		this server's identity, or make a new one when the data directory is
 *		not the one it was written for.  Never raises an error.
 */
static void
ship_shmem_startup(void)
{
	AuditServer old;
	AuditServer s;
	struct stat dirst;
	struct stat sig;
	bool		have;
	AuditAnchor head;
	uint64		synced;
	uint8		rnd[SHIP_ID_LEN / 2];
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	if (IsUnderPostmaster)
		return;
	if (stat(".", &dirst) != 0)
		return;
	have = server_read(SERVER_FILE, &old);
	if (have && old.dev == (uint64) dirst.st_dev && old.ino == (uint64) dirst.st_ino)
	{
		/* the same server as before; its name as set now, for its copies */
		if (strcmp(old.name, name_for(old.id)) != 0)
		{
			strlcpy(old.name, name_for(old.id), sizeof(old.name));
			(void) server_write(SERVER_FILE, &old, LOG);
		}
		return;
	}
	if (stat("pg_pubdata", &sig) != 0)
		return;					/* the audit store is not set up */

	memset(&head, 0, sizeof(head));
	(void) audit_current_head(&head, &synced);
	inherited_head(&head);
	memset(&s, 0, sizeof(s));
	if (!pg_strong_random(rnd, sizeof(rnd)))
		return;
	for (i = 0; i < (int) sizeof(rnd); i++)
		snprintf(s.id + 2 * i, 3, "%02x", rnd[i]);
	s.dev = dirst.st_dev;
	s.ino = dirst.st_ino;
	s.created = GetCurrentTimestamp();
	if (have || stat(STANDBY_SIGNAL_FILE, &sig) == 0)
	{
		/* a copy: what it inherited is its origin's */
		s.fork_seq = head.seq;
		memcpy(s.fork_hash, head.hash, AUDIT_HASH_LEN);
		if (have)
		{
			strlcpy(s.origin, old.id, sizeof(s.origin));
			strlcpy(s.origin_name, old.name[0] ? old.name : psprintf("server-%.8s", old.id),
					sizeof(s.origin_name));
		}
		else
			strlcpy(s.origin_name, "origin", sizeof(s.origin_name));
	}
	strlcpy(s.name, name_for(s.id), sizeof(s.name));
	if (!server_write(SERVER_FILE, &s, LOG))
		return;
	ereport(LOG,
			(errmsg("pubdata: this server's access audit identity is %s", s.id),
			 s.fork_seq > 0 ?
			 errdetail("Its data directory is a copy%s%s: its own audit records start after record " UINT64_FORMAT ".",
					   s.origin[0] ? " of server " : "", s.origin, s.fork_seq) : 0));
}


/* ------------------------------------------------------------------------
 * Initialisation
 * ------------------------------------------------------------------------
 */

/*
 * pubdata_audit_ship_init
 *		See audit_ship.h.
 */
void
pubdata_audit_ship_init(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("pubdata.server_name",
							   "Name of this server in the access audit (the column server of access_log).",
							   "Empty: cluster_name, or \"server-\" and the start of the server's audit id.",
							   &server_name_setting, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pubdata.audit_ship",
							 "A standby ships its access audit records to the primary.",
							 NULL,
							 &audit_ship_enabled, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.audit_ship_interval",
							"How often a standby looks for audit records to ship.",
							NULL,
							&audit_ship_interval, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.audit_ship_conninfo",
							   "Connection string a standby ships its audit records with.",
							   "Empty: primary_conninfo, to the database pubdata.database.",
							   &audit_ship_conninfo, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	if (!pubdata_preloaded)
		return;

	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ship_shmem_startup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "pubdata", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "pubdata_audit_ship_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "pubdata audit shipper", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "pubdata audit shipper", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}


/* ------------------------------------------------------------------------
 * The shipper (a standby's background worker)
 * ------------------------------------------------------------------------
 */

/*
 * ship_problem
 *		Report a problem once (until it changes or shipping works again).
 */
static void
ship_problem(ShipState *st, const char *what, const char *detail)
{
	char		msg[sizeof(st->problem)];

	snprintf(msg, sizeof(msg), "%s: %s", what, detail ? detail : "");
	if (strcmp(msg, st->problem) == 0)
		return;
	strlcpy(st->problem, msg, sizeof(st->problem));
	ereport(WARNING,
			(errmsg("pubdata audit shipper: %s", what),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("The records wait in this standby's audit log and are shipped when the primary takes them.")));
}

/*
 * ship_disconnect
 *		Forget the connection; the next round asks the primary again.
 */
static void
ship_disconnect(ShipState *st)
{
	if (st->conn != NULL)
		PQfinish(st->conn);
	st->conn = NULL;
	st->known = false;
}

/*
 * ship_connect
 *		Connect to the primary: pubdata.audit_ship_conninfo, or
 *		primary_conninfo with the database pubdata.database.  Libpq's error
 *		names the host, never the password; the connection string is not
 *		logged.
 */
static bool
ship_connect(ShipState *st)
{
	const char *keys[8];
	const char *vals[8];
	int			n = 0;
	const char *database = GetConfigOption("pubdata.database", true, false);

	keys[n] = "application_name";
	vals[n++] = "pubdata audit shipper";
	keys[n] = "connect_timeout";
	vals[n++] = "10";
	keys[n] = "target_session_attrs";
	vals[n++] = "read-write";
	if (audit_ship_conninfo != NULL && audit_ship_conninfo[0] != '\0')
	{
		keys[n] = "dbname";
		vals[n++] = audit_ship_conninfo;
	}
	else
	{
		if (PrimaryConnInfo == NULL || PrimaryConnInfo[0] == '\0')
		{
			ship_problem(st, "no primary to ship to: primary_conninfo is empty", NULL);
			return false;
		}
		keys[n] = "dbname";
		vals[n++] = PrimaryConnInfo;
		keys[n] = "dbname";
		vals[n++] = database != NULL ? database : "postgres";
	}
	keys[n] = NULL;
	vals[n] = NULL;
	st->conn = PQconnectdbParams(keys, vals, 1);
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK)
	{
		char	   *err = st->conn ? pchomp(PQerrorMessage(st->conn)) : pstrdup("out of memory");

		ship_problem(st, "cannot reach the primary", err);
		ship_disconnect(st);
		return false;
	}
	return true;
}

/*
 * ship_call
 *		pubdata._audit_receive() on the primary with these record lines
 *		("" asks how far it holds this server's chain); false on failure
 *		(reported, disconnected).
 */
static bool
ship_call(ShipState *st, const AuditServer *self, const char *records, uint64 *head)
{
	const char *values[6];
	char		fork_seq[32];
	char		fork_hash[AUDIT_HASH_LEN * 2 + 1];
	PGresult   *res;

	snprintf(fork_seq, sizeof(fork_seq), UINT64_FORMAT, self->fork_seq);
	audit_hex_encode(self->fork_hash, fork_hash);
	values[0] = self->id;
	values[1] = self_name();
	values[2] = fork_seq;
	values[3] = fork_hash;
	values[4] = self->origin[0] ? self->origin : NULL;
	values[5] = records;
	res = PQexecParams(st->conn,
					   "SELECT pubdata._audit_receive($1, $2, $3::pg_catalog.int8, $4, $5, $6)",
					   6, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
	{
		char	   *err = pchomp(PQresultErrorMessage(res));

		PQclear(res);
		ship_problem(st, "the primary did not take the audit records", err);
		ship_disconnect(st);
		/* it will refuse again: try less and less often, up to a minute */
		st->refusals = Min(st->refusals + 1, 7);
		st->next_try = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   Min(60000, 1000 << (st->refusals - 1)));
		return false;
	}
	*head = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	st->refusals = 0;
	return true;
}

/*
 * ship_collect
 *		This server's record lines after seq after, in order, up to a batch,
 *		appended to out (each with its newline); returns how many.  Where the
 *		last one ended is remembered, so the next batch reads on from there.
 */
static int
ship_collect(ShipState *st, uint64 after, StringInfo out)
{
	uint64	   *segs;
	int			nsegs;
	int			i = 0;
	int			count = 0;
	uint64		start;

	segs = audit_list_segments(&nsegs, ERROR);
	while (i + 1 < nsegs && segs[i + 1] <= after + 1)
		i++;
	start = (nsegs > 0 && st->cache_seg == segs[i] && st->cache_seq == after) ? st->cache_off : 0;
	for (; i < nsegs && count < SHIP_BATCH_RECORDS && out->len < SHIP_BATCH_BYTES; i++, start = 0)
	{
		char		path[MAXPGPATH];
		char	   *buf;
		size_t		len;
		size_t		pos;

		audit_seg_path(path, sizeof(path), segs[i]);
		buf = audit_read_file(path, &len, ERROR);
		pos = Min(start, len);
		while (pos < len && count < SHIP_BATCH_RECORDS && out->len < SHIP_BATCH_BYTES)
		{
			char	   *nl = memchr(buf + pos, '\n', len - pos);
			uint64		seq;

			if (nl == NULL)
				break;			/* an incomplete tail: not a record yet */
			seq = strtoull(buf + pos, NULL, 10);
			if (seq > after)
			{
				appendBinaryStringInfo(out, buf + pos, nl - (buf + pos) + 1);
				count++;
				after = seq;
				st->cache_seg = segs[i];
				st->cache_off = nl - buf + 1;
				st->cache_seq = seq;
			}
			pos = nl - buf + 1;
		}
		pfree(buf);
	}
	pfree(segs);
	return count;
}

/*
 * ship_round
 *		One round: on a standby, ship what the primary does not hold yet.
 *		Returns true when more records wait (go on at once).
 */
static bool
ship_round(ShipState *st)
{
	const AuditServer *self;
	uint64		head;
	uint64		after;
	uint64		got;
	StringInfoData out;
	int			n;

	if (!RecoveryInProgress() || !audit_ship_enabled)
	{
		/* a primary (or promoted) keeps its records: nothing to ship */
		ship_disconnect(st);
		return false;
	}
	self = self_server();
	if (self == NULL)
		return false;
	if (st->refusals > 0 && GetCurrentTimestamp() < st->next_try)
		return false;
	head = audit_flush_for_reader();
	if (st->known && head <= st->shipped)
		return false;
	if (st->conn == NULL && !ship_connect(st))
	{
		if (st->down_since == 0)
		{
			st->down_since = GetCurrentTimestamp();
			st->waiting_at_down = st->shipped;
		}
		return false;
	}
	if (!st->known)
	{
		if (!ship_call(st, self, "", &st->shipped))
			return false;
		st->known = true;
		if (st->shipped > head)
		{
			ship_problem(st, "the primary holds more of this server's audit chain than this server has",
						 psprintf("The primary holds records up to " UINT64_FORMAT ", this server's log ends at " UINT64_FORMAT ".",
								  st->shipped, head));
			ship_disconnect(st);
			return false;
		}
		if (st->down_since != 0 || st->problem[0] != '\0')
			ereport(LOG,
					(errmsg("pubdata audit shipper: shipping to the primary again from record " UINT64_FORMAT " (server %s)",
							st->shipped + 1, self->id)));
		st->down_since = 0;
		st->problem[0] = '\0';
	}
	after = Max(st->shipped, self->fork_seq);
	if (head <= after)
		return false;
	initStringInfo(&out);
	n = ship_collect(st, after, &out);
	if (n == 0)
	{
		pfree(out.data);
		return false;
	}
	if (!ship_call(st, self, out.data, &got))
	{
		pfree(out.data);
		return false;
	}
	pfree(out.data);
	st->shipped = got;
	return got < head;
}

/*
 * pubdata_audit_ship_main
 *		The shipper: a round every pubdata.audit_ship_interval, at once again
 *		while records wait.  An error in a round is reported and the round
 *		tried again later; the worker stays up.
 */
void
pubdata_audit_ship_main(Datum arg)
{
	ShipState	st;
	MemoryContext round_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	pgstat_report_appname("pubdata audit shipper");
	memset(&st, 0, sizeof(st));
	round_cxt = AllocSetContextCreate(TopMemoryContext, "pubdata audit shipper",
									  ALLOCSET_DEFAULT_SIZES);

	while (!ShutdownRequestPending)
	{
		bool		more = false;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			ship_disconnect(&st);	/* the connection settings may have changed */
		}
		MemoryContextSwitchTo(round_cxt);
		PG_TRY();
		{
			more = ship_round(&st);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(round_cxt);
			EmitErrorReport();
			FlushErrorState();
			AtEOXact_Files(false);
			ship_disconnect(&st);
			more = false;
		}
		PG_END_TRY();
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(round_cxt);
		if (!more)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 audit_ship_interval, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
	ship_disconnect(&st);
	proc_exit(0);
}


/* ------------------------------------------------------------------------
 * The primary's store of shipped chains
 * ------------------------------------------------------------------------
 */

/*
 * shipped_dir
 *		The directory of server id's chain.
 */
static void
shipped_dir(char *dir, size_t size, const char *id)
{
	snprintf(dir, size, SHIPPED_DIR "/%s", id);
}

/* list_sort comparator of C strings */
static int
id_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/*
 * list_shipped
 *		The ids of the chains kept here, sorted (this server's own excluded).
 */
static List *
list_shipped(void)
{
	DIR		   *d;
	struct dirent *de;
	List	   *ids = NIL;
	const AuditServer *self = self_server();
	struct stat st;

	if (stat(SHIPPED_DIR, &st) != 0)
		return NIL;
	d = AllocateDir(SHIPPED_DIR);
	while ((de = ReadDir(d, SHIPPED_DIR)) != NULL)
	{
		if (!is_hex_id(de->d_name))
			continue;
		if (self != NULL && strcmp(self->id, de->d_name) == 0)
			continue;
		ids = lappend(ids, pstrdup(de->d_name));
	}
	FreeDir(d);
	list_sort(ids, id_cmp);
	return ids;
}

/*
 * audit_chain_open
 *		See audit_ship.h.
 */
void
audit_chain_open(const char *server, AuditChain *c)
{
	const AuditServer *self = self_server();
	char		path[MAXPGPATH];
	AuditServer info;
	ShippedHead head;

	memset(c, 0, sizeof(*c));
	if (server == NULL || (self != NULL && strcmp(server, self->id) == 0))
	{
		strlcpy(c->dir, AUDIT_DIR, sizeof(c->dir));
		c->own = true;
		if (self != NULL)
			strlcpy(c->id, self->id, sizeof(c->id));
		return;
	}
	if (!is_hex_id(server))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit server id \"%s\"", server),
				 errhint("Give the id that pubdata.audit_servers() lists (%d hexadecimal digits), or NULL for this server's own log.", SHIP_ID_LEN)));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server is a standby: it keeps no shipped audit chain of server %s", server),
				 errhint("Archive, prune and verify a standby's shipped chain on the primary it ships to.")));
	strlcpy(c->id, server, sizeof(c->id));
	shipped_dir(c->dir, sizeof(c->dir), server);
	snprintf(path, sizeof(path), "%s/info", c->dir);
	if (!server_read(path, &info))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no audit chain of server %s is kept here", server),
				 errhint("SELECT server_id, name, kind FROM pubdata.audit_servers() lists the chains this server keeps.")));
	if (!head_read(c->dir, &head))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the shipped audit chain of server %s has no valid head file", server),
				 errhint("Check it with pubdata.verify_audit_chains().")));
	strlcpy(c->name, info.name, sizeof(c->name));
	c->current = head.segment;
	c->fork_seq = info.fork_seq;
	memcpy(c->fork_hash, info.fork_hash, AUDIT_HASH_LEN);
}

/*
 * chain_lock
 *		Open and lock (flock, exclusive) a shipped chain's lock file: one
 *		receive, or one change of its info file, at a time.  A transient
 *		file: an error closes it, which releases the lock.
 */
static int
chain_lock(const char *dir)
{
	char		path[MAXPGPATH];
	int			fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = OpenTransientFile(path, O_RDWR | O_CREAT | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open \"%s\": %m", path)));
	while (flock(fd, LOCK_EX) != 0)
	{
		if (errno != EINTR)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not lock \"%s\": %m", path)));
		CHECK_FOR_INTERRUPTS();
	}
	return fd;
}

/*
 * audit_keep_origin_forks
 *		See audit_ship.h.  Under each chain's lock, as _audit_receive
 *		rewrites the info file under it too.
 */
void
audit_keep_origin_forks(const AuditChain *c, uint64 upto)
{
	List	   *ids;
	ListCell   *lc;

	if (c->id[0] == '\0')
		return;
	ids = list_shipped();
	foreach(lc, ids)
	{
		const char *id = lfirst(lc);
		char		dir[MAXPGPATH];
		char		path[MAXPGPATH];
		AuditServer info;
		uint8		h[AUDIT_HASH_LEN];
		int			fd;

		shipped_dir(dir, sizeof(dir), id);
		fd = chain_lock(dir);
		snprintf(path, sizeof(path), "%s/info", dir);
		if (server_read(path, &info) && strcmp(info.origin, c->id) == 0 &&
			info.fork_seq > 0 && info.fork_seq <= upto && !info.origin_fork_kept &&
			audit_find_record_in(c->dir, info.fork_seq, h) == 1)
		{
			info.origin_fork_kept = true;
			memcpy(info.origin_fork_hash, h, AUDIT_HASH_LEN);
			(void) server_write(path, &info, ERROR);
		}
		CloseTransientFile(fd);
	}
}

/*
 * text_arg
 *		A text argument as a C string, or NULL.
 */
static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

PG_FUNCTION_INFO_V1(pubdata_audit_receive);

/*
 * pubdata._audit_receive(server_id, server_name, fork_seq, fork_hash,
 *						  origin, records) returns bigint
 *		On the primary: keep a standby's record lines (each ending in a
 *		newline, in chain order), checking each one; return the last seq
 *		held of that server's chain.  With no records, just that.
 *		EXECUTE is granted to pubdata_standby (the standbys' login).
 */
Datum
pubdata_audit_receive(PG_FUNCTION_ARGS)
{
	char	   *id = text_arg(fcinfo, 0);
	char	   *name = text_arg(fcinfo, 1);
	int64		fork_seq = PG_ARGISNULL(2) ? -1 : PG_GETARG_INT64(2);
	char	   *fork_hex = text_arg(fcinfo, 3);
	char	   *origin = text_arg(fcinfo, 4);
	text	   *records_t = PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5);
	uint8		fork_hash[AUDIT_HASH_LEN];
	const AuditServer *self = self_server();
	char		dir[MAXPGPATH];
	char		path[MAXPGPATH];
	int			lockfd;
	ShippedHead head;
	AuditServer info;
	volatile uint64 result = 0;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server is a standby: it does not keep other servers' audit records"),
				 errhint("A standby ships to its primary (primary_conninfo, or pubdata.audit_ship_conninfo).")));
	if (!is_hex_id(id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit server id \"%s\"", id ? id : "NULL"),
				 errhint("A server id is %d hexadecimal digits, from the standby's pg_pubdata/server.", SHIP_ID_LEN)));
	if (name == NULL || name[0] == '\0' || strlen(name) >= NAMEDATALEN || strpbrk(name, "\n\r\t") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit server name for server %s", id),
				 errhint("pubdata.server_name is one line of at most %d bytes.", NAMEDATALEN - 1)));
	if (fork_seq < 0 || fork_hex == NULL || !audit_hex_decode(fork_hex, fork_hash))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid fork of audit server %s", id),
				 errhint("The fork is the seq and 64-digit hash of the last record the server inherited.")));
	if (origin != NULL && !is_hex_id(origin))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid origin \"%s\" of audit server %s", origin, id)));
	if (self != NULL && strcmp(self->id, id) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit server %s is this server", id),
				 errhint("A server keeps its own records in its own log; only standbys ship.")));

	if (MakePGDirectory(SHIPPED_DIR) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", SHIPPED_DIR)));
	shipped_dir(dir, sizeof(dir), id);
	if (MakePGDirectory(dir) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
	lockfd = chain_lock(dir);

	PG_TRY();
	{
		char		info_path[MAXPGPATH];
		bool		known;
		char	   *records;
		size_t		len;
		size_t		pos = 0;
		StringInfoData pending;
		uint64		seg_limit;
		const char *segkb = GetConfigOption("pubdata.audit_segment_size", true, false);

		seg_limit = (segkb ? strtoull(segkb, NULL, 10) : 16384) * 1024;

		snprintf(info_path, sizeof(info_path), "%s/info", dir);
		known = server_read(info_path, &info);
		if (!known)
		{
			memset(&info, 0, sizeof(info));
			strlcpy(info.id, id, sizeof(info.id));
			strlcpy(info.origin, origin ? origin : "", sizeof(info.origin));
			info.fork_seq = fork_seq;
			memcpy(info.fork_hash, fork_hash, AUDIT_HASH_LEN);
			info.created = GetCurrentTimestamp();
			strlcpy(info.name, name, sizeof(info.name));
			(void) server_write(info_path, &info, ERROR);
			memset(&head, 0, sizeof(head));
			head.seq = fork_seq;
			memcpy(head.hash, fork_hash, AUDIT_HASH_LEN);
			head.received_at = info.created;
			head_write(dir, &head);
		}
		else
		{
			if (info.fork_seq != (uint64) fork_seq || memcmp(info.fork_hash, fork_hash, AUDIT_HASH_LEN) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("audit server %s forks at record " INT64_FORMAT ", but its chain kept here forks at record " UINT64_FORMAT,
								id, fork_seq, info.fork_seq),
						 errdetail("Two data directories claim the same server id, or pg_pubdata/server was edited."),
						 errhint("Remove the standby's pg_pubdata/server and restart it: it gets a new id and ships its later records under it.")));
			if (strcmp(info.name, name) != 0)
			{
				strlcpy(info.name, name, sizeof(info.name));
				(void) server_write(info_path, &info, ERROR);
			}
			if (!head_read(dir, &head))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("the shipped audit chain of server %s has no valid head file", id),
						 errhint("Check it with pubdata.verify_audit_chains().")));
		}

		/* bytes after the head: a receive cut short; they come again */
		if (head.segment != 0)
		{
			struct stat st;

			audit_seg_path_in(dir, path, sizeof(path), head.segment);
			if (stat(path, &st) != 0 || (uint64) st.st_size < head.offset)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("the shipped audit chain of server %s was cut: \"%s\" is shorter than its head says", id, path),
						 errhint("Check it with pubdata.verify_audit_chains().")));
			if ((uint64) st.st_size > head.offset && truncate(path, head.offset) != 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not truncate \"%s\": %m", path)));
		}

		records = records_t ? text_to_cstring(records_t) : pstrdup("");
		len = strlen(records);
		initStringInfo(&pending);
		while (pos < len)
		{
			char	   *nl = memchr(records + pos, '\n', len - pos);
			size_t		llen;
			char	   *copy;
			AuditRecord rec;
			uint8		link[AUDIT_HASH_LEN];

			if (nl == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("audit records of server %s end in an incomplete line", id)));
			llen = nl - (records + pos);
			copy = pnstrdup(records + pos, llen);
			memset(&rec, 0, sizeof(rec));
			if (!audit_parse_line(copy, llen, &rec))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("malformed audit record after record " UINT64_FORMAT " of server %s", head.seq, id)));
			if (rec.seq <= head.seq)
			{
				/* held already (a batch sent twice): skip it */
				pos += llen + 1;
				pfree(copy);
				continue;
			}
			if (rec.seq != head.seq + 1)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("audit record " UINT64_FORMAT " of server %s does not follow record " UINT64_FORMAT,
								rec.seq, id, head.seq),
						 errdetail("Records " UINT64_FORMAT " to " UINT64_FORMAT " are missing.", head.seq + 1, rec.seq - 1)));
			audit_sha256(head.hash, records + pos, rec.hashed_len, link);
			if (memcmp(link, rec.hash, AUDIT_HASH_LEN) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("audit record " UINT64_FORMAT " of server %s does not link to record " UINT64_FORMAT,
								rec.seq, id, head.seq),
						 errdetail("Its hash is not SHA-256 of the previous record's hash and its line: it was altered, or the chain was.")));
			if (rec.at < head.at)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("audit record " UINT64_FORMAT " of server %s is dated before record " UINT64_FORMAT,
								rec.seq, id, head.seq)));
			/* a new segment when there is none or this one is full */
			if (head.segment == 0 || head.offset + pending.len + llen + 1 > seg_limit)
			{
				if (head.segment != 0 && pending.len > 0)
				{
					int			fd;

					audit_seg_path_in(dir, path, sizeof(path), head.segment);
					fd = BasicOpenFile(path, O_WRONLY | O_APPEND | PG_BINARY);
					if (fd < 0 || write(fd, pending.data, pending.len) != (ssize_t) pending.len || pg_fsync(fd) != 0)
						ereport(ERROR,
								(errcode_for_file_access(),
								 errmsg("could not write \"%s\": %m", path)));
					close(fd);
					head.offset += pending.len;
					resetStringInfo(&pending);
				}
				if (head.segment == 0 || head.offset > 0)
				{
					int			fd;

					audit_seg_path_in(dir, path, sizeof(path), rec.seq);
					fd = BasicOpenFile(path, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
					if (fd < 0)
						ereport(ERROR,
								(errcode_for_file_access(),
								 errmsg("could not create \"%s\": %m", path)));
					close(fd);
					fsync_fname_ext(dir, true, false, ERROR);
					/* the head moves to the new, empty segment */
					head.segment = rec.seq;
					head.offset = 0;
					head_write(dir, &head);
				}
			}
			appendBinaryStringInfo(&pending, records + pos, llen + 1);
			head.seq = rec.seq;
			memcpy(head.hash, rec.hash, AUDIT_HASH_LEN);
			head.at = rec.at;
			pos += llen + 1;
			pfree(copy);
		}
		if (pending.len > 0)
		{
			int			fd;

			audit_seg_path_in(dir, path, sizeof(path), head.segment);
			fd = BasicOpenFile(path, O_WRONLY | O_APPEND | PG_BINARY);
			if (fd < 0 || write(fd, pending.data, pending.len) != (ssize_t) pending.len || pg_fsync(fd) != 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not write \"%s\": %m", path)));
			close(fd);
			head.offset += pending.len;
		}
		if (len > 0)
		{
			head.received_at = GetCurrentTimestamp();
			head_write(dir, &head);
		}
		result = head.seq;
	}
	PG_FINALLY();
	{
		CloseTransientFile(lockfd);
	}
	PG_END_TRY();

	PG_RETURN_INT64((int64) result);
}


/* ------------------------------------------------------------------------
 * Reading the shipped chains
 * ------------------------------------------------------------------------
 */

/*
 * record_row
 *		One record as the 17 columns of pubdata._audit_records() and the
 *		name of its server.
 */
static void
record_row(ReturnSetInfo *rsinfo, AuditRecord *rec, const char *server, const char *id)
{
	Datum		values[19];
	bool		nulls[19];

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum((int64) rec->seq);
	values[1] = TimestampTzGetDatum(rec->at);
	values[2] = ObjectIdGetDatum(rec->database);
	values[3] = CStringGetTextDatum(rec->role_name);
	values[4] = Int32GetDatum(rec->department_id);
	nulls[4] = (rec->department_id == 0);
	values[5] = rec->department_code ? CStringGetTextDatum(rec->department_code) : (Datum) 0;
	nulls[5] = (rec->department_code == NULL);
	values[6] = CStringGetTextDatum(rec->resources);
	values[7] = Int64GetDatum(rec->grant_id);
	nulls[7] = (rec->grant_id == 0);
	values[8] = rec->purpose ? CStringGetTextDatum(rec->purpose) : (Datum) 0;
	nulls[8] = (rec->purpose == NULL);
	values[9] = CStringGetTextDatum(rec->command);
	values[10] = Int64GetDatum((int64) rec->query_id);
	values[11] = Int64GetDatum((int64) rec->rows);
	values[12] = CStringGetTextDatum(rec->hash_hex);
	values[13] = rec->grants ? CStringGetTextDatum(rec->grants) : (Datum) 0;
	nulls[13] = (rec->grants == NULL);
	values[14] = CStringGetTextDatum(rec->outcome ? rec->outcome : "ok");
	values[15] = rec->statement ? CStringGetTextDatum(rec->statement) : (Datum) 0;
	nulls[15] = (rec->statement == NULL);
	values[16] = rec->masked ? CStringGetTextDatum(rec->masked) : (Datum) 0;
	nulls[16] = (rec->masked == NULL);
	values[17] = CStringGetTextDatum(server);
	if (rsinfo->setDesc->natts > 18)
		values[18] = CStringGetTextDatum(id);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(pubdata_audit_shipped_records);

/*
 * The part of a shipped chain wanted (pubdata._audit_shipped_records_by):
 * records after after_seq, up to upto_seq (0: no bound).
 */
typedef struct ShippedRange
{
	const char *id;
	uint64		after;
	uint64		upto;
} ShippedRange;

/*
 * shipped_ranges
 *		The ranges given as server_ids, after_seqs, upto_seqs (arguments
 *		2..4, NULLs allowed in the last two); NULL when no ids are given.
 */
static ShippedRange *
shipped_ranges(FunctionCallInfo fcinfo, int *n)
{
	Datum	   *ids,
			   *afters = NULL,
			   *uptos = NULL;
	bool	   *idn,
			   *aftern = NULL,
			   *upton = NULL;
	int			nids,
				na = 0,
				nu = 0;
	ShippedRange *r;
	int			i;

	*n = 0;
	if (PG_ARGISNULL(2))
		return NULL;
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT, &ids, &idn, &nids);
	if (!PG_ARGISNULL(3))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &afters, &aftern, &na);
	if (!PG_ARGISNULL(4))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(4), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &uptos, &upton, &nu);
	r = palloc0(sizeof(ShippedRange) * (nids + 1));
	for (i = 0; i < nids; i++)
	{
		if (idn[i])
			continue;
		r[*n].id = TextDatumGetCString(ids[i]);
		if (i < na && !aftern[i] && DatumGetInt64(afters[i]) > 0)
			r[*n].after = (uint64) DatumGetInt64(afters[i]);
		if (i < nu && !upton[i] && DatumGetInt64(uptos[i]) > 0)
			r[*n].upto = (uint64) DatumGetInt64(uptos[i]);
		(*n)++;
	}
	return r;
}

/*
 * pubdata._audit_shipped_records() returns setof record
 *		Every record of the chains shipped here, server by server in chain
 *		order, up to each head: the columns of _audit_records() and server.
 *
 * pubdata._audit_shipped_records_by(since, before, server_ids, after_seqs,
 * upto_seqs, only_listed) returns the same and server_id: records with
 * since <= at < before (NULL: unbounded), of a listed server only those
 * after its after_seq and up to its upto_seq (NULL: no bound), of the others
 * all or, with only_listed, none.  Segments wholly before after_seq are not
 * read: the usage summaries (audit_summarise) read the new records only.
 */
Datum
pubdata_audit_shipped_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *ids;
	ListCell   *lc;
	MemoryContext tmp,
				old;
	bool		by = (PG_NARGS() >= 6);
	TimestampTz since = 0,
				before = 0;
	bool		has_since = false,
				has_before = false;
	bool		only_listed = false;
	ShippedRange *ranges = NULL;
	int			nranges = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (by)
	{
		has_since = !PG_ARGISNULL(0);
		has_before = !PG_ARGISNULL(1);
		if (has_since)
			since = PG_GETARG_TIMESTAMPTZ(0);
		if (has_before)
			before = PG_GETARG_TIMESTAMPTZ(1);
		if (has_since && has_before && since >= before)
			return (Datum) 0;	/* an empty range: nothing to read */
		ranges = shipped_ranges(fcinfo, &nranges);
		only_listed = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
		if (only_listed && nranges == 0)
			return (Datum) 0;
	}
	ids = list_shipped();
	tmp = AllocSetContextCreate(CurrentMemoryContext, "pubdata shipped audit read",
								ALLOCSET_DEFAULT_SIZES);
	foreach(lc, ids)
	{
		const char *id = lfirst(lc);
		char		dir[MAXPGPATH];
		char		path[MAXPGPATH];
		AuditServer info;
		ShippedHead head;
		uint64	   *segs;
		int			nsegs;
		int			i;

		uint64		after = 0,
					upto = 0;
		int			k;
		bool		listed = false;

		for (k = 0; k < nranges; k++)
			if (strcmp(ranges[k].id, id) == 0)
			{
				listed = true;
				after = ranges[k].after;
				upto = ranges[k].upto;
			}
		if (only_listed && !listed)
			continue;
		shipped_dir(dir, sizeof(dir), id);
		snprintf(path, sizeof(path), "%s/info", dir);
		if (!server_read(path, &info) || !head_read(dir, &head))
			continue;			/* reported by verify_audit_chains() */
		if (upto == 0 || upto > head.seq)
			upto = head.seq;
		if (after >= upto)
			continue;
		segs = audit_list_segments_in(dir, &nsegs, ERROR);
		for (i = 0; i < nsegs; i++)
		{
			char	   *buf;
			size_t		len,
						pos = 0;
			bool		done = false;

			CHECK_FOR_INTERRUPTS();
			/* wholly before what is wanted: the next one starts after it */
			if (i + 1 < nsegs && segs[i + 1] <= after + 1)
				continue;
			old = MemoryContextSwitchTo(tmp);
			audit_seg_path_in(dir, path, sizeof(path), segs[i]);
			buf = audit_read_file(path, &len, ERROR);
			while (pos < len && !done)
			{
				char	   *nl = memchr(buf + pos, '\n', len - pos);
				size_t		llen;
				AuditRecord rec;

				if (nl == NULL)
					break;
				llen = nl - (buf + pos);
				*nl = '\0';
				memset(&rec, 0, sizeof(rec));
				if (audit_parse_line(buf + pos, llen, &rec))
				{
					if (rec.seq > upto)
						done = true;	/* after the head (not held yet) or the bound */
					else if (rec.seq > after &&
							 (!has_since || rec.at >= since) &&
							 (!has_before || rec.at < before))
					{
						MemoryContextSwitchTo(old);
						record_row(rsinfo, &rec, info.name, id);
						MemoryContextSwitchTo(tmp);
					}
				}
				pos += llen + 1;
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(tmp);
			if (done)
				break;
		}
	}
	MemoryContextDelete(tmp);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pubdata_audit_server_of);

/*
 * pubdata._audit_server_of(seq) returns text
 *		The server a record of this server's own log happened on: this one,
 *		or for the records it inherited with its data directory (up to its
 *		fork), the server it was copied from.
 */
Datum
pubdata_audit_server_of(PG_FUNCTION_ARGS)
{
	const AuditServer *s = self_server();

	if (s != NULL && !PG_ARGISNULL(0) && (uint64) PG_GETARG_INT64(0) <= s->fork_seq)
		PG_RETURN_TEXT_P(cstring_to_text(s->origin_name[0] ? s->origin_name : "origin"));
	PG_RETURN_TEXT_P(cstring_to_text(self_name()));
}

PG_FUNCTION_INFO_V1(pubdata_audit_servers);

/*
 * pubdata.audit_servers() returns setof record
 *		This server and every server whose chain is kept here: id, name,
 *		fork, origin, how far its chain goes here, when it last shipped.
 */
Datum
pubdata_audit_servers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const AuditServer *self = self_server();
	List	   *ids;
	ListCell   *lc;
	Datum		values[12];
	bool		nulls[12];
	char		hex[AUDIT_HASH_LEN * 2 + 1];

	InitMaterializedSRF(fcinfo, 0);
	if (self != NULL)
	{
		AuditAnchor h;
		uint64		synced;

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(self->id);
		values[1] = CStringGetTextDatum(self_name());
		values[2] = BoolGetDatum(true);
		values[3] = CStringGetTextDatum(RecoveryInProgress() ? "standby" : "primary");
		values[4] = Int64GetDatum((int64) self->fork_seq);
		audit_hex_encode(self->fork_hash, hex);
		values[5] = CStringGetTextDatum(hex);
		values[6] = self->origin[0] ? CStringGetTextDatum(self->origin) : (Datum) 0;
		nulls[6] = self->origin[0] == '\0';
		(void) audit_flush_for_reader();
		if (audit_current_head(&h, &synced))
		{
			values[7] = Int64GetDatum((int64) h.seq);
			audit_hex_encode(h.hash, hex);
			values[8] = CStringGetTextDatum(hex);
			values[9] = TimestampTzGetDatum(h.at);
			nulls[9] = h.at == 0;
			values[11] = Int64GetDatum((int64) (h.seq > self->fork_seq ? h.seq - self->fork_seq : 0));
		}
		else
			nulls[7] = nulls[8] = nulls[9] = nulls[11] = true;
		nulls[10] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	ids = list_shipped();
	foreach(lc, ids)
	{
		const char *id = lfirst(lc);
		char		dir[MAXPGPATH];
		char		path[MAXPGPATH];
		AuditServer info;
		ShippedHead head;

		shipped_dir(dir, sizeof(dir), id);
		snprintf(path, sizeof(path), "%s/info", dir);
		if (!server_read(path, &info))
			continue;
		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(info.id);
		values[1] = CStringGetTextDatum(info.name);
		values[2] = BoolGetDatum(false);
		values[3] = CStringGetTextDatum("shipped");
		values[4] = Int64GetDatum((int64) info.fork_seq);
		audit_hex_encode(info.fork_hash, hex);
		values[5] = CStringGetTextDatum(hex);
		values[6] = info.origin[0] ? CStringGetTextDatum(info.origin) : (Datum) 0;
		nulls[6] = info.origin[0] == '\0';
		if (head_read(dir, &head))
		{
			values[7] = Int64GetDatum((int64) head.seq);
			audit_hex_encode(head.hash, hex);
			values[8] = CStringGetTextDatum(hex);
			values[9] = TimestampTzGetDatum(head.at);
			nulls[9] = head.at == 0;
			values[10] = TimestampTzGetDatum(head.received_at);
			values[11] = Int64GetDatum((int64) (head.seq - info.fork_seq));
		}
		else
			nulls[7] = nulls[8] = nulls[9] = nulls[10] = nulls[11] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}


/* ------------------------------------------------------------------------
 * Verifying the shipped chains
 * ------------------------------------------------------------------------
 */

/*
 * verify_one
 *		Relink one shipped chain from its fork up to its head file; fill ok,
 *		records, first broken seq (0: none) and a detail.
 */
static void
verify_one(const char *id, bool *ok, uint64 *records, uint64 *broken, StringInfo detail, char **name)
{
	char		dir[MAXPGPATH];
	char		path[MAXPGPATH];
	AuditServer info;
	ShippedHead head;
	uint64	   *segs;
	int			nsegs;
	int			i;
	uint64		prev_seq;
	uint8		prev_hash[AUDIT_HASH_LEN];
	TimestampTz prev_at = 0;
	uint64		n = 0;
	const AuditServer *self = self_server();
	AuditAnchor pruned;
	int			pr;

	*ok = false;
	*records = 0;
	*broken = 0;
	*name = pstrdup(id);
	shipped_dir(dir, sizeof(dir), id);
	snprintf(path, sizeof(path), "%s/info", dir);
	if (!server_read(path, &info))
	{
		appendStringInfo(detail, "server %s: its info file is missing or damaged", id);
		return;
	}
	*name = pstrdup(info.name);
	if (!head_read(dir, &head))
	{
		appendStringInfo(detail, "server %s (%s): its head file is missing or damaged", info.name, id);
		return;
	}
	prev_seq = info.fork_seq;
	memcpy(prev_hash, info.fork_hash, AUDIT_HASH_LEN);
	/* archived and pruned: the live chain links to the pruned prefix */
	pr = audit_read_pruned(dir, &pruned);
	if (pr < 0)
	{
		*broken = info.fork_seq + 1;
		appendStringInfo(detail, "server %s (%s): its pruned prefix file is damaged: the live chain cannot be linked to what was archived",
						 info.name, id);
		return;
	}
	if (pr > 0)
	{
		prev_seq = pruned.seq;
		memcpy(prev_hash, pruned.hash, AUDIT_HASH_LEN);
		prev_at = pruned.at;
	}
	segs = audit_list_segments_in(dir, &nsegs, ERROR);
	for (i = 0; i < nsegs && *broken == 0 && prev_seq < head.seq; i++)
	{
		char	   *buf;
		size_t		len,
					pos = 0;
		bool		first = true;

		CHECK_FOR_INTERRUPTS();
		/* left by a prune cut short: wholly in the pruned prefix */
		if (pr > 0 && i + 1 < nsegs && segs[i + 1] <= pruned.seq + 1)
			continue;
		audit_seg_path_in(dir, path, sizeof(path), segs[i]);
		buf = audit_read_file(path, &len, ERROR);
		while (pos < len && *broken == 0 && prev_seq < head.seq)
		{
			char	   *nl = memchr(buf + pos, '\n', len - pos);
			size_t		llen;
			AuditRecord rec;
			uint8		link[AUDIT_HASH_LEN];
			char	   *copy;

			if (nl == NULL)
			{
				*broken = prev_seq + 1;
				appendStringInfo(detail, "an incomplete line after record " UINT64_FORMAT, prev_seq);
				break;
			}
			llen = nl - (buf + pos);
			copy = pnstrdup(buf + pos, llen);
			memset(&rec, 0, sizeof(rec));
			if (!audit_parse_line(copy, llen, &rec))
			{
				*broken = prev_seq + 1;
				appendStringInfo(detail, "a malformed line after record " UINT64_FORMAT, prev_seq);
			}
			else if (first && rec.seq != segs[i])
			{
				*broken = Min(rec.seq, segs[i]);
				appendStringInfo(detail, "segment " UINT64_FORMAT " begins with record " UINT64_FORMAT, segs[i], rec.seq);
			}
			else if (rec.seq != prev_seq + 1)
			{
				*broken = prev_seq + 1;
				appendStringInfo(detail, "record " UINT64_FORMAT " follows record " UINT64_FORMAT " (deleted, inserted or reordered)",
								 rec.seq, prev_seq);
			}
			else
			{
				audit_sha256(prev_hash, buf + pos, rec.hashed_len, link);
				if (memcmp(link, rec.hash, AUDIT_HASH_LEN) != 0)
				{
					*broken = rec.seq;
					appendStringInfo(detail, "record " UINT64_FORMAT " does not link to the one before it (edited)", rec.seq);
				}
				else if (rec.at < prev_at)
				{
					*broken = rec.seq;
					appendStringInfo(detail, "record " UINT64_FORMAT " is dated before the one before it", rec.seq);
				}
				else
				{
					prev_seq = rec.seq;
					memcpy(prev_hash, rec.hash, AUDIT_HASH_LEN);
					prev_at = rec.at;
					n++;
				}
			}
			pfree(copy);
			first = false;
			pos += llen + 1;
		}
		pfree(buf);
	}
	*records = n;
	if (*broken == 0 && (prev_seq != head.seq || memcmp(prev_hash, head.hash, AUDIT_HASH_LEN) != 0))
	{
		*broken = Min(prev_seq, head.seq) + 1;
		appendStringInfo(detail, "the chain ends at record " UINT64_FORMAT " but its head file records " UINT64_FORMAT " (a truncated or replaced tail)",
						 prev_seq, head.seq);
	}
	if (*broken != 0)
	{
		char	   *d = pstrdup(detail->data);

		resetStringInfo(detail);
		appendStringInfo(detail, "server %s (%s): %s", info.name, id, d);
		return;
	}
	if (pr > 0)
		appendStringInfo(detail, "server %s (%s): " UINT64_FORMAT " records in %d segment(s), chain intact from record " UINT64_FORMAT " to record " UINT64_FORMAT "; records " UINT64_FORMAT " to " UINT64_FORMAT " (after its fork) were archived and pruned: the live chain links to the pruned prefix",
						 info.name, id, n, nsegs, pruned.seq + 1, prev_seq, info.fork_seq + 1, pruned.seq);
	else
		appendStringInfo(detail, "server %s (%s): " UINT64_FORMAT " records in %d segment(s), chain intact from its fork at record " UINT64_FORMAT " to record " UINT64_FORMAT,
						 info.name, id, n, nsegs, info.fork_seq, prev_seq);

	/*
	 * The fork against the origin's record, when its log is here.  Once the
	 * origin pruned that record, against the hash audit_prune() kept in this
	 * chain's info file when it removed it (audit_keep_origin_forks).
	 */
	if (info.fork_seq > 0 && info.origin[0] != '\0')
	{
		uint8		theirs[AUDIT_HASH_LEN];
		bool		own = self != NULL && strcmp(self->id, info.origin) == 0;
		char		odir[MAXPGPATH];
		struct stat st;
		int			r = 0;
		bool		kept = false;

		shipped_dir(odir, sizeof(odir), info.origin);
		if (own || stat(odir, &st) == 0)
			r = audit_find_record_in(own ? AUDIT_DIR : odir, info.fork_seq, theirs);
		if (r == AUDIT_RECORD_PRUNED && info.origin_fork_kept)
		{
			memcpy(theirs, info.origin_fork_hash, AUDIT_HASH_LEN);
			r = 1;
			kept = true;
		}
		if (!own && stat(odir, &st) != 0)
			appendStringInfo(detail, "; its origin %s is not kept here", info.origin);
		else if (r == AUDIT_RECORD_PRUNED)
			appendStringInfo(detail, "; its origin's record " UINT64_FORMAT " was archived and pruned here before the fork was checked against it", info.fork_seq);
		else if (r != 1)
			appendStringInfo(detail, "; its origin's record " UINT64_FORMAT " is not here", info.fork_seq);
		else if (memcmp(theirs, info.fork_hash, AUDIT_HASH_LEN) != 0)
		{
			*broken = info.fork_seq;
			appendStringInfo(detail, "; but it forks from a record " UINT64_FORMAT " its origin %s does not have",
							 info.fork_seq, own ? "(this server)" : info.origin);
			return;
		}
		else
			appendStringInfo(detail, "; it forks from record " UINT64_FORMAT " of %s%s", info.fork_seq,
							 own ? "this server's chain" : "its origin's chain",
							 kept ? " (archived and pruned there since: checked against its hash kept when it was pruned)" : "");
	}
	*ok = true;
}

PG_FUNCTION_INFO_V1(pubdata_verify_shipped_chains);

/*
 * pubdata._verify_shipped_chains() returns setof record
 *		One row per chain shipped here: server, ok, records, first broken
 *		seq, detail.
 */
Datum
pubdata_verify_shipped_chains(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *ids;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	ids = list_shipped();
	foreach(lc, ids)
	{
		Datum		values[5];
		bool		nulls[5];
		bool		ok;
		uint64		records;
		uint64		broken;
		char	   *name;
		StringInfoData detail;

		initStringInfo(&detail);
		verify_one(lfirst(lc), &ok, &records, &broken, &detail, &name);
		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(name);
		values[1] = BoolGetDatum(ok);
		values[2] = Int64GetDatum((int64) records);
		values[3] = Int64GetDatum((int64) broken);
		nulls[3] = broken == 0;
		values[4] = CStringGetTextDatum(detail.data);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
