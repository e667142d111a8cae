/*-------------------------------------------------------------------------
 *
 * audit_archive.c
 *	  Archiving of the access audit (issue 13): closed segments exported to
 *	  an auditor's archive directory with a manifest, pruned from the live
 *	  log once their copies are checked, and an archive verified on its own
 *	  and against the live chain.
 *
 * pubdata.audit_archive(before, directory) copies every closed segment
 * (never the current one) whose records are all dated before the cut into
 * the directory, after relinking each record (a segment whose chain is
 * broken is not archived), fsyncs each copy and writes a manifest:
 * "audit-<first seq>-<last seq>.manifest" names each segment with its first
 * and last seq and time, size, SHA-256 of the file and the hash of its last
 * record, plus the hash of the record before the first one archived.  An
 * archived event record in the chain states what was archived.  A directory
 * grows by later runs: segments already in its manifests are skipped, and a
 * run continues where the newest manifest ends.
 *
 * pubdata.audit_prune(directory, upto_seq) removes, from the oldest on, the
 * archived segments whose copy in the directory still has the SHA-256 of
 * the manifest and whose live file still has it too (so the copy is the
 * live file, byte for byte), relinked from the pruned prefix, and that the
 * usage summaries of this database already counted.  Before anything is
 * removed a prune record is written into the chain and made durable; it
 * states the new pruned prefix (the seq and hash of the last record
 * removed), which then goes to pg_pubdata/audit/pruned (audit_files.c).
 * The live chain starts after that prefix: its first record links to the
 * prefix's hash, the checks at startup expect the first segment right after
 * it (no loss is reported), and verify_audit_chain() starts there and
 * checks that the newest prune record states the prefix.
 *
 * On a standby, audit_prune removes its own records (after its fork) only
 * up to what its primary holds and counted: the primary's
 * audit_usage_shipped row for this standby's audit id, replicated here (it
 * may lag, never lead).  The records up to the fork are the primary's own.
 *
 * pubdata.verify_audit_archive(directory) checks the manifests follow each
 * other, each file against its SHA-256, every link of the archived chain,
 * and the archive's link to the live chain (the pruned prefix, or the live
 * record at the archive's end).
 *
 * The chain.  All three take a last argument server: NULL (or this server's
 * audit id) is the own log, another id a chain a standby shipped here
 * (pg_pubdata/shipped/<id>/, audit_ship.c: audit_chain_open).  The code is
 * the same for both, on the chain's directory: its segments, its pruned
 * prefix (dir/pruned), its record lookup (audit_find_record_in).  What
 * differs: a shipped chain's head segment (the one the receiver appends to)
 * is its current one, its first record links to its fork, its records are
 * counted in audit_usage_shipped, and its manifests say server=<id>, so an
 * archive of one chain is never continued, pruned or verified as another's.
 * Before a prune removes a record at which a chain kept here forks, that
 * chain keeps the record's hash (audit_keep_origin_forks), so that its fork
 * stays checked.
 *
 * The server writes and removes the files, so these functions are for
 * superusers and members of pg_write_server_files (archive, prune) or
 * pg_read_server_files (verify), like COPY to or from a file; EXECUTE is
 * granted to the bureau (all three) and the auditor (archive, verify).
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit_store.h"
#include "audit_ship.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#define MANIFEST_HEADER		"pubdata audit archive manifest 1"

/* One archived segment, as its manifest line states it. */
typedef struct ArchSeg
{
	char		name[32];		/* 20 digits and ".log" */
	uint64		first;
	uint64		last;
	TimestampTz first_at;
	TimestampTz last_at;
	uint64		bytes;
	uint8		sha[AUDIT_HASH_LEN];
	uint8		last_hash[AUDIT_HASH_LEN];
} ArchSeg;

/* One manifest of an archive directory. */
typedef struct ArchManifest
{
	char		file[MAXPGPATH];
	uint64		system_identifier;
	char		server[33];		/* the audit id of the chain; "" not stated */
	uint64		prev_seq;
	uint8		prev_hash[AUDIT_HASH_LEN];
	uint64		last_seq;
	uint8		last_hash[AUDIT_HASH_LEN];
	int			nsegs;
	ArchSeg    *segs;
} ArchManifest;

/*
 * require_file_role
 *		Superusers and members of pg_write_server_files (or
 *		pg_read_server_files for reading only), as for COPY with a file.
 */
static void
require_file_role(const char *what, bool write)
{
	if (superuser() ||
		has_privs_of_role(GetUserId(), write ? ROLE_PG_WRITE_SERVER_FILES : ROLE_PG_READ_SERVER_FILES))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for %s", what),
			 errdetail("It makes the server %s files, as COPY with a file name does.",
					   write ? "write and remove" : "read"),
			 errhint("Run it as a superuser or as a member of %s.",
					 write ? "pg_write_server_files" : "pg_read_server_files")));
}

/*
 * check_directory
 *		The archive directory: an absolute path to an existing directory
 *		outside the data directory.  Returns it, without trailing slashes.
 */
static char *
check_directory(text *arg)
{
	char	   *dir;
	struct stat st;
	size_t		len;

	if (arg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the archive directory must be given"),
				 errhint("Pass the absolute path of a directory the server can write, e.g. '/srv/audit-archive'.")));
	dir = text_to_cstring(arg);
	canonicalize_path(dir);
	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the archive directory \"%s\" is a relative path", dir),
				 errhint("Give an absolute path: a relative one would be taken from the data directory.")));
	if (path_is_prefix_of_path(DataDir, dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the archive directory \"%s\" is inside the data directory", dir),
				 errhint("Archive to a directory outside \"%s\" (a base backup would copy it, a restore replace it).", DataDir)));
	if (stat(dir, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not find the archive directory \"%s\": %m", dir),
				 errhint("Create it first, writable by the server's operating-system user.")));
	if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a directory", dir),
				 errhint("Give the path of a directory for the archived segments and their manifests.")));
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	return dir;
}

/*
 * sha256_of
 *		SHA-256 of a buffer.
 */
static void
sha256_of(const char *buf, size_t len, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) buf, len) < 0 ||
		pg_cryptohash_final(ctx, out, AUDIT_HASH_LEN) < 0)
		elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
}

static char *
hex_of(const uint8 *h)
{
	char	   *s = palloc(AUDIT_HASH_LEN * 2 + 1);

	audit_hex_encode(h, s);
	return s;
}

/*
 * relink_segment
 *		Check a segment's contents: complete lines, each record the next seq
 *		after *prev_seq, linked to *prev (then moved on), times never going
 *		back.  Fills out (first, last, times, last hash).  Returns NULL or
 *		what is wrong, with *broken the seq where.
 */
static char *
relink_segment(const char *buf, size_t len, uint64 *prev_seq, uint8 *prev,
			   TimestampTz *prev_at, ArchSeg *out, uint64 *broken)
{
	size_t		pos = 0;

	out->first = 0;
	out->last = 0;
	out->bytes = len;
	while (pos < len)
	{
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t		llen;
		char	   *line;
		AuditRecord rec;
		uint8		computed[AUDIT_HASH_LEN];

		*broken = *prev_seq + 1;
		if (nl == NULL)
			return psprintf("an incomplete line after record " UINT64_FORMAT, *prev_seq);
		llen = nl - (buf + pos);
		line = pnstrdup(buf + pos, llen);
		if (!audit_parse_line(line, llen, &rec))
			return psprintf("a malformed line after record " UINT64_FORMAT, *prev_seq);
		if (rec.seq != *prev_seq + 1)
			return psprintf("record " UINT64_FORMAT " follows record " UINT64_FORMAT, rec.seq, *prev_seq);
		audit_sha256(prev, buf + pos, rec.hashed_len, computed);
		if (memcmp(computed, rec.hash, AUDIT_HASH_LEN) != 0)
			return psprintf("record " UINT64_FORMAT " does not match its hash", rec.seq);
		if (rec.at < *prev_at)
			return psprintf("record " UINT64_FORMAT " is dated before the record preceding it", rec.seq);
		if (out->first == 0)
		{
			out->first = rec.seq;
			out->first_at = rec.at;
		}
		out->last = rec.seq;
		out->last_at = rec.at;
		memcpy(out->last_hash, rec.hash, AUDIT_HASH_LEN);
		memcpy(prev, rec.hash, AUDIT_HASH_LEN);
		*prev_seq = rec.seq;
		*prev_at = rec.at;
		pfree(line);
		pos += llen + 1;
	}
	if (out->first == 0)
	{
		*broken = *prev_seq + 1;
		return pstrdup("no record");
	}
	return NULL;
}

/*
 * manifest_parse
 *		Read one manifest; NULL and *problem set when it is not well formed.
 */
static ArchManifest *
manifest_parse(const char *path, char **problem)
{
	char	   *buf;
	size_t		len;
	char	   *line;
	char	   *save = NULL;
	ArchManifest *m;
	int			cap = 16;
	bool		header = false;
	int			got = 0;

	buf = audit_read_file(path, &len, WARNING);
	if (buf == NULL)
	{
		*problem = psprintf("manifest \"%s\" cannot be read", path);
		return NULL;
	}
	m = palloc0(sizeof(ArchManifest));
	strlcpy(m->file, path, sizeof(m->file));
	m->segs = palloc(cap * sizeof(ArchSeg));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char	   *eq;
		char	   *v;

		if (!header)
		{
			if (strcmp(line, MANIFEST_HEADER) != 0)
				break;
			header = true;
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "system_identifier") == 0)
			m->system_identifier = strtoull(v, NULL, 10);
		else if (strcmp(line, "server") == 0)
			strlcpy(m->server, v, sizeof(m->server));
		else if (strcmp(line, "prev_seq") == 0)
			m->prev_seq = strtoull(v, NULL, 10), got |= 1;
		else if (strcmp(line, "prev_hash") == 0 && audit_hex_decode(v, m->prev_hash))
			got |= 2;
		else if (strcmp(line, "last_seq") == 0)
			m->last_seq = strtoull(v, NULL, 10), got |= 4;
		else if (strcmp(line, "last_hash") == 0 && audit_hex_decode(v, m->last_hash))
			got |= 8;
		else if (strcmp(line, "segment") == 0)
		{
			ArchSeg    *s;
			char		name[64],
						sha[65],
						lh[65];
			unsigned long long first,
						last,
						bytes;
			long long	fa,
						la;

			if (sscanf(v, "%63s %llu %llu %lld %lld %llu %64s %64s",
					   name, &first, &last, &fa, &la, &bytes, sha, lh) != 8)
			{
				*problem = psprintf("manifest \"%s\" has a malformed segment line", path);
				return NULL;
			}
			if (m->nsegs == cap)
			{
				cap *= 2;
				m->segs = repalloc(m->segs, cap * sizeof(ArchSeg));
			}
			s = &m->segs[m->nsegs++];
			strlcpy(s->name, name, sizeof(s->name));
			s->first = first;
			s->last = last;
			s->first_at = fa;
			s->last_at = la;
			s->bytes = bytes;
			if (!audit_hex_decode(sha, s->sha) || !audit_hex_decode(lh, s->last_hash) ||
				strspn(name, "0123456789") != 20 || strcmp(name + 20, ".log") != 0)
			{
				*problem = psprintf("manifest \"%s\" has a malformed segment line", path);
				return NULL;
			}
		}
	}
	pfree(buf);
	if (!header || got != 15 || m->nsegs == 0 || m->last_seq <= m->prev_seq)
	{
		*problem = psprintf("\"%s\" is not a complete pubdata audit archive manifest", path);
		return NULL;
	}
	return m;
}

static int
manifest_cmp(const void *a, const void *b)
{
	const ArchManifest *x = *(ArchManifest *const *) a;
	const ArchManifest *y = *(ArchManifest *const *) b;

	return (x->prev_seq > y->prev_seq) - (x->prev_seq < y->prev_seq);
}

/*
 * manifests_load
 *		The manifests of an archive directory, by their first record.  A
 *		malformed one is an ERROR (elevel ERROR) or a problem appended.
 */
static ArchManifest **
manifests_load(const char *dir, int *count, StringInfo problems)
{
	DIR		   *d;
	struct dirent *de;
	ArchManifest **ms;
	int			n = 0,
				cap = 8;

	ms = palloc(cap * sizeof(ArchManifest *));
	d = AllocateDir(dir);
	while ((de = ReadDir(d, dir)) != NULL)
	{
		size_t		l = strlen(de->d_name);
		char		path[MAXPGPATH];
		char	   *problem = NULL;
		ArchManifest *m;

		if (strncmp(de->d_name, "audit-", 6) != 0 || l < 15 ||
			strcmp(de->d_name + l - 9, ".manifest") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		m = manifest_parse(path, &problem);
		if (m == NULL)
		{
			if (problems == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("%s", problem),
						 errhint("Check the archive with pubdata.verify_audit_archive('%s').", dir)));
			appendStringInfo(problems, "%s%s", problems->len ? "; " : "", problem);
			continue;
		}
		if (n == cap)
		{
			cap *= 2;
			ms = repalloc(ms, cap * sizeof(ArchManifest *));
		}
		ms[n++] = m;
	}
	FreeDir(d);
	qsort(ms, n, sizeof(ArchManifest *), manifest_cmp);
	*count = n;
	return ms;
}

/*
 * write_file_durably
 *		Write path (aside, fsynced, renamed into place).
 */
static void
write_file_durably(const char *path, const char *data, size_t len)
{
	char		tmp[MAXPGPATH];
	int			fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = OpenTransientFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create \"%s\": %m", tmp)));
	errno = 0;
	if (write(fd, data, len) != (ssize_t) len)
	{
		if (errno == 0)
			errno = ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", tmp)));
	}
	if (pg_fsync(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync \"%s\": %m", tmp)));
	CloseTransientFile(fd);
	(void) durable_rename(tmp, path, ERROR);
}

/*
 * lock_archiving
 *		One archive or prune at a time in the cluster (a lock held to the
 *		end of the transaction).
 */
static void
lock_archiving(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, InvalidOid, 0x50444152, 0, 3);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* The hash of record seq of chain c: the record before a segment. */
static void
hash_before(const AuditChain *c, uint64 seq, const AuditAnchor *pruned, bool have_pruned, uint8 *out)
{
	if (seq == 0)
	{
		memset(out, 0, AUDIT_HASH_LEN);
		return;
	}
	if (have_pruned && seq == pruned->seq)
	{
		memcpy(out, pruned->hash, AUDIT_HASH_LEN);
		return;
	}
	if (!c->own && seq == c->fork_seq)
	{
		memcpy(out, c->fork_hash, AUDIT_HASH_LEN);	/* a shipped chain's fork */
		return;
	}
	if (audit_find_record_in(c->dir, seq, out) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("access audit record " UINT64_FORMAT " is not in the log", seq),
				 errdetail("The segments to archive must link to the record before them."),
				 errhint("Run pubdata.verify_audit_chain() to see what is wrong.")));
}

/*
 * manifest_of_chain
 *		Whether manifest m is of chain c: its server line names c, or it has
 *		none and c is this server's own log.
 */
static bool
manifest_of_chain(const ArchManifest *m, const AuditChain *c)
{
	if (m->server[0] == '\0')
		return c->own;
	return strcmp(m->server, c->id) == 0;
}

/*
 * require_chain_archive
 *		ERROR unless every manifest of the directory is of this cluster and
 *		of chain c: an archive of one chain is never continued or pruned
 *		against another.
 */
static void
require_chain_archive(ArchManifest **ms, int nms, const AuditChain *c, const char *dir)
{
	int			i;

	for (i = 0; i < nms; i++)
	{
		if (ms[i]->system_identifier != GetSystemIdentifier())
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the archive directory \"%s\" holds another cluster's access audit", dir),
					 errdetail("Manifest \"%s\" is of the cluster with system identifier " UINT64_FORMAT ".",
							   ms[i]->file, ms[i]->system_identifier),
					 errhint("Archive each cluster to a directory of its own.")));
		if (!manifest_of_chain(ms[i], c))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the archive directory \"%s\" holds the access audit chain of another server", dir),
					 errdetail("Manifest \"%s\" is of server %s; this call is for %s.",
							   ms[i]->file, ms[i]->server[0] ? ms[i]->server : "(this server's own log)",
							   c->own ? "this server's own log" : psprintf("server %s", c->id)),
					 errhint("Archive each server's chain to a directory of its own, and give the server its manifests name.")));
	}
}

/*
 * chain_segments
 *		The segments of chain c, sorted; *nclosed gets how many of them,
 *		from the first, are closed: never the one still written (the own
 *		log's last, a shipped chain's head segment and any after it).
 */
static uint64 *
chain_segments(const AuditChain *c, int *nsegs, int *nclosed)
{
	uint64	   *segs;

	if (c->own)
		(void) audit_flush_for_reader();	/* what waits is part of the log */
	segs = audit_list_segments_in(c->dir, nsegs, ERROR);
	*nclosed = Max(*nsegs - 1, 0);
	if (!c->own)
		while (*nclosed > 0 && (c->current == 0 || segs[*nclosed - 1] >= c->current))
			(*nclosed)--;
	return segs;
}

/*
 * chain_words
 *		" of server NAME (ID)" for a shipped chain, "" for the own log: for
 *		messages and the event records.
 */
static const char *
chain_words(const AuditChain *c)
{
	return c->own ? "" : psprintf(" of server %s (%s)", c->name, c->id);
}

/* A row of a materialised set-returning function. */
static ReturnSetInfo *
srf_start(FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, 0);
	return (ReturnSetInfo *) fcinfo->resultinfo;
}

PG_FUNCTION_INFO_V1(pubdata_audit_archive);

/*
 * pubdata.audit_archive(before timestamptz, directory text, server text)
 *		returns setof (segment, first_seq, last_seq, first_at, last_at,
 *		bytes, sha256): the segments of the chain of server (NULL: this
 *		server's own log) archived by this call.
 */
Datum
pubdata_audit_archive(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	TimestampTz before;
	char	   *dir;
	ArchManifest **ms;
	int			nms;
	uint64		archived_upto = 0;
	uint8		archived_hash[AUDIT_HASH_LEN];
	AuditAnchor pruned;
	bool		have_pruned;
	uint64	   *segs;
	int			nsegs;
	int			i;
	List	   *done = NIL;
	ListCell   *lc;
	uint64		prev_seq = 0;
	uint8		prev[AUDIT_HASH_LEN];
	uint8		run_prev[AUDIT_HASH_LEN];
	uint64		run_prev_seq = 0;
	TimestampTz prev_at = 0;
	StringInfoData man;
	char		mpath[MAXPGPATH];
	uint8		msha[AUDIT_HASH_LEN];
	ArchSeg    *lastseg;
	int			nclosed;
	AuditChain	chain;

	pubdata_require_preload("pubdata.audit_archive()");
	require_file_role("pubdata.audit_archive()", true);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the cut of pubdata.audit_archive() must be given"),
				 errhint("Pass the time before which segments are archived, e.g. now() - interval '90 days'.")));
	before = PG_GETARG_TIMESTAMPTZ(0);
	dir = check_directory(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	if (before > GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the cut of pubdata.audit_archive() is in the future"),
				 errdetail("Only closed segments whose records are all dated before the cut are archived; the current segment never is."),
				 errhint("Give a time in the past, e.g. now() - interval '90 days'.")));
	audit_chain_open(PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)), &chain);
	rsinfo = srf_start(fcinfo);
	lock_archiving();

	ms = manifests_load(dir, &nms, NULL);
	require_chain_archive(ms, nms, &chain, dir);
	for (i = 0; i < nms; i++)
	{
		if (ms[i]->last_seq > archived_upto)
		{
			archived_upto = ms[i]->last_seq;
			memcpy(archived_hash, ms[i]->last_hash, AUDIT_HASH_LEN);
		}
	}
	have_pruned = (audit_read_pruned(chain.dir, &pruned) > 0);
	/* the archive's end must be this chain's record (when still known here) */
	if (archived_upto > 0)
	{
		uint8		h[AUDIT_HASH_LEN];
		int			r = audit_find_record_in(chain.dir, archived_upto, h);

		if (r == 1 && memcmp(h, archived_hash, AUDIT_HASH_LEN) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the archive in \"%s\" ends at a record " UINT64_FORMAT " that differs from this chain's", dir, archived_upto),
					 errhint("Check both with pubdata.verify_audit_archive('%s') and pubdata.verify_audit_chain().", dir)));
	}

	segs = chain_segments(&chain, &nsegs, &nclosed);
	/* the current segment is never archived */
	for (i = 0; i < nclosed; i++)
	{
		char		path[MAXPGPATH];
		char		dest[MAXPGPATH];
		char	   *buf;
		size_t		len;
		ArchSeg    *s;
		char	   *problem;
		uint64		broken;

		if (segs[i] <= archived_upto)
			continue;			/* in the archive already */
		if (have_pruned && segs[i] <= pruned.seq)
			continue;			/* left by a prune cut short */
		if (prev_seq == 0 && done == NIL)
		{
			if (archived_upto > 0 && segs[i] != archived_upto + 1)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the archive in \"%s\" ends at record " UINT64_FORMAT " but the next segment to archive begins at record " UINT64_FORMAT,
								dir, archived_upto, segs[i]),
						 errdetail("An archive directory holds one stretch of the chain without holes."),
						 errhint("Archive to a new directory.")));
			prev_seq = segs[i] - 1;
			if (archived_upto > 0)
				memcpy(prev, archived_hash, AUDIT_HASH_LEN);
			else
				hash_before(&chain, prev_seq, &pruned, have_pruned, prev);
			run_prev_seq = prev_seq;
			memcpy(run_prev, prev, AUDIT_HASH_LEN);
		}
		audit_seg_path_in(chain.dir, path, sizeof(path), segs[i]);
		buf = audit_read_file(path, &len, ERROR);
		s = palloc0(sizeof(ArchSeg));
		snprintf(s->name, sizeof(s->name), "%020llu.log", (unsigned long long) segs[i]);
		{
			uint64		ps = prev_seq;
			uint8		ph[AUDIT_HASH_LEN];
			TimestampTz pa = prev_at;

			memcpy(ph, prev, AUDIT_HASH_LEN);
			problem = relink_segment(buf, len, &ps, ph, &pa, s, &broken);
			if (problem != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("access audit segment \"%s\" does not verify: %s", s->name, problem),
						 errdetail("A segment whose chain is broken is not archived."),
						 errhint("Run pubdata.verify_audit_chain() to see what is wrong.")));
			if (s->last_at >= before)
			{
				pfree(buf);
				break;			/* this one, and every later, reaches the cut */
			}
			prev_seq = ps;
			memcpy(prev, ph, AUDIT_HASH_LEN);
			prev_at = pa;
		}
		sha256_of(buf, len, s->sha);
		snprintf(dest, sizeof(dest), "%s/%s", dir, s->name);
		write_file_durably(dest, buf, len);
		pfree(buf);
		done = lappend(done, s);
	}
	if (done == NIL)
	{
		ereport(NOTICE,
				(errmsg("no closed access audit segment%s to archive before %s", chain_words(&chain), timestamptz_to_str(before)),
				 errdetail("Segments already in \"%s\" are skipped; the current segment is never archived.", dir)));
		PG_RETURN_VOID();
	}

	/* the manifest, then the directory itself */
	lastseg = (ArchSeg *) llast(done);
	initStringInfo(&man);
	appendStringInfo(&man, "%s\nsystem_identifier=" UINT64_FORMAT "\n", MANIFEST_HEADER, GetSystemIdentifier());
	if (chain.id[0] != '\0')
		appendStringInfo(&man, "server=%s\n", chain.id);
	appendStringInfo(&man, "created=%s\n"
					 "prev_seq=" UINT64_FORMAT "\nprev_hash=%s\nlast_seq=" UINT64_FORMAT "\nlast_hash=%s\n",
					 timestamptz_to_str(GetCurrentTimestamp()),
					 run_prev_seq, hex_of(run_prev), lastseg->last, hex_of(lastseg->last_hash));
	foreach(lc, done)
	{
		ArchSeg    *s = (ArchSeg *) lfirst(lc);

		appendStringInfo(&man, "segment=%s " UINT64_FORMAT " " UINT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT " " UINT64_FORMAT " %s %s\n",
						 s->name, s->first, s->last, (int64) s->first_at, (int64) s->last_at,
						 s->bytes, hex_of(s->sha), hex_of(s->last_hash));
	}
	snprintf(mpath, sizeof(mpath), "%s/audit-%020llu-%020llu.manifest", dir,
			 (unsigned long long) (run_prev_seq + 1), (unsigned long long) lastseg->last);
	write_file_durably(mpath, man.data, man.len);
	fsync_fname(dir, true);
	sha256_of(man.data, man.len, msha);

	audit_write_event(GetUserNameFromId(GetUserId(), false), "ARCHIVE", AUDIT_EVENT_ARCHIVED, 0,
					  psprintf("archived records " UINT64_FORMAT " to " UINT64_FORMAT "%s (hash %s), %d segment(s), in %s (manifest sha256 %s)",
							   run_prev_seq + 1, lastseg->last, chain_words(&chain), hex_of(lastseg->last_hash),
							   list_length(done), mpath, hex_of(msha)));

	foreach(lc, done)
	{
		ArchSeg    *s = (ArchSeg *) lfirst(lc);
		Datum		values[7];
		bool		nulls[7] = {0};

		values[0] = CStringGetTextDatum(s->name);
		values[1] = Int64GetDatum((int64) s->first);
		values[2] = Int64GetDatum((int64) s->last);
		values[3] = TimestampTzGetDatum(s->first_at);
		values[4] = TimestampTzGetDatum(s->last_at);
		values[5] = Int64GetDatum((int64) s->bytes);
		values[6] = CStringGetTextDatum(hex_of(s->sha));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

/* An archived segment found in a directory's manifests, or NULL. */
static ArchSeg *
find_archived(ArchManifest **ms, int nms, const char *name)
{
	int			i,
				j;

	for (i = 0; i < nms; i++)
		for (j = 0; j < ms[i]->nsegs; j++)
			if (strcmp(ms[i]->segs[j].name, name) == 0)
				return &ms[i]->segs[j];
	return NULL;
}

/*
 * summarised_seq
 *		How far this database's usage summaries counted the log; -1 when
 *		the table is not there.  With standby_id (on a standby): how far
 *		its primary counted this standby's shipped chain (the primary's
 *		pubdata.audit_usage_shipped, replicated here), -1 when not at all.
 */
static int64
summarised_seq(const char *standby_id)
{
	int64		result = -1;
	const char *q = standby_id == NULL
		? "SELECT summarised_seq FROM pubdata.audit_usage_state"
		: psprintf("SELECT summarised_seq FROM pubdata.audit_usage_shipped WHERE server_id = %s",
				   quote_literal_cstr(standby_id));

	SPI_connect();
	if (SPI_execute(q, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = DatumGetInt64(d);
	}
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(pubdata_audit_prune);

/*
 * pubdata.audit_prune(directory text, upto_seq bigint DEFAULT NULL,
 *					  server text DEFAULT NULL)
 *		returns (segments, first_seq, last_seq): the archived segments
 *		removed from the live chain of server (NULL: this server's own log).
 */
Datum
pubdata_audit_prune(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	char	   *dir;
	int64		upto = -1;
	ArchManifest **ms;
	int			nms;
	AuditAnchor pruned;
	bool		have_pruned;
	uint64	   *segs;
	int			nsegs;
	int			i;
	int			n = 0;
	uint64		prev_seq;
	uint8		prev[AUDIT_HASH_LEN];
	TimestampTz prev_at = 0;
	ArchSeg		last;
	uint64		first_seq;
	AuditAnchor np;
	AuditAnchor durable;
	int64		summ;
	Datum		values[3];
	bool		nulls[3] = {0};
	int			nclosed;
	int			nleft = 0;
	AuditChain	chain;

	pubdata_require_preload("pubdata.audit_prune()");
	require_file_role("pubdata.audit_prune()", true);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	dir = check_directory(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
	{
		upto = PG_GETARG_INT64(1);
		if (upto <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("upto_seq must be positive, not " INT64_FORMAT, upto),
					 errhint("Give the last record to prune, or NULL for every archived segment.")));
	}
	audit_chain_open(PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)), &chain);
	lock_archiving();
	ms = manifests_load(dir, &nms, NULL);
	require_chain_archive(ms, nms, &chain, dir);
	have_pruned = (audit_read_pruned(chain.dir, &pruned) > 0);
	segs = chain_segments(&chain, &nsegs, &nclosed);
	if (have_pruned)			/* left by a prune cut short: removed below */
		while (nleft < nclosed && nleft + 1 < nsegs && segs[nleft + 1] <= pruned.seq + 1)
			nleft++;
	segs += nleft;
	nsegs -= nleft;
	nclosed -= nleft;
	prev_seq = nsegs > 0 ? segs[0] - 1 : 0;
	if (prev_seq == 0)
		memset(prev, 0, AUDIT_HASH_LEN);
	else if (have_pruned && pruned.seq == prev_seq)
		memcpy(prev, pruned.hash, AUDIT_HASH_LEN);
	else if (!chain.own && !have_pruned)
		hash_before(&chain, prev_seq, &pruned, false, prev);	/* its fork */
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the live access audit log%s begins at record " UINT64_FORMAT " but no pruned prefix ends at record " UINT64_FORMAT,
						chain_words(&chain), segs[0], prev_seq),
				 errhint("Run pubdata.verify_audit_chains() to see what is wrong.")));
	first_seq = prev_seq + 1;
	memset(&last, 0, sizeof(last));

	/* from the oldest on: archived, identical copies, up to upto_seq */
	for (i = 0; i < nclosed; i++)
	{
		char		name[32];
		char		path[MAXPGPATH];
		ArchSeg    *a;
		char	   *buf;
		size_t		len;
		uint8		sha[AUDIT_HASH_LEN];
		ArchSeg		live;
		uint64		broken;
		char	   *problem;

		snprintf(name, sizeof(name), "%020llu.log", (unsigned long long) segs[i]);
		a = find_archived(ms, nms, name);
		if (a == NULL || (upto > 0 && a->last > (uint64) upto))
			break;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		buf = audit_read_file(path, &len, ERROR);
		sha256_of(buf, len, sha);
		pfree(buf);
		if (memcmp(sha, a->sha, AUDIT_HASH_LEN) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the archived copy \"%s\" differs from its manifest", path),
					 errdetail("Its SHA-256 is %s, the manifest says %s; nothing was pruned.", hex_of(sha), hex_of(a->sha)),
					 errhint("Archive the segment again to a new directory: pubdata.audit_archive(before, directory).")));
		audit_seg_path_in(chain.dir, path, sizeof(path), segs[i]);
		buf = audit_read_file(path, &len, ERROR);
		sha256_of(buf, len, sha);
		if (memcmp(sha, a->sha, AUDIT_HASH_LEN) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the live access audit segment \"%s\" differs from its archived copy", name),
					 errdetail("Nothing was pruned."),
					 errhint("Run pubdata.verify_audit_chain() and pubdata.verify_audit_archive('%s').", dir)));
		problem = relink_segment(buf, len, &prev_seq, prev, &prev_at, &live, &broken);
		pfree(buf);
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("access audit segment \"%s\" does not verify: %s", name, problem),
					 errdetail("Nothing was pruned."),
					 errhint("Run pubdata.verify_audit_chain() to see what is wrong.")));
		last = live;
		n++;
	}
	if (n == 0)
	{
		ereport(NOTICE,
				(errmsg("no archived access audit segment to prune"),
				 errdetail("Only closed segments archived in \"%s\"%s are pruned, from the oldest live one on.",
						   dir, upto > 0 ? " and ending at or before upto_seq" : "")));
		nulls[1] = nulls[2] = true;
		values[0] = Int32GetDatum(0);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}

	/*
	 * On a standby: its own records (after its fork) go only once its
	 * primary holds them and counted them.  The primary's summaries of this
	 * standby's shipped chain say so (they are replicated here, so they may
	 * lag, never lead); the records up to the fork are the primary's own.
	 */
	if (!chain.own)
	{
		/* a shipped chain: what this database's summaries counted of it */
		summ = summarised_seq(chain.id);
		if (summ < 0)
			summ = 0;
	}
	else if (RecoveryInProgress())
	{
		uint64		fork = 0;
		const char *self_id = audit_self_id(&fork);
		int64		held;
		uint64		allowed;

		if (self_id == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("this standby has no access audit identity"),
					 errdetail("Without pg_pubdata/server its records cannot have been shipped to the primary."),
					 errhint("Preload pubdata (shared_preload_libraries) and restart the standby.")));
		held = summarised_seq(self_id);
		allowed = Max(fork, held > 0 ? (uint64) held : 0);
		if (last.last > allowed)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("access audit records " UINT64_FORMAT " to " UINT64_FORMAT " of this standby are not confirmed by its primary yet",
							Max(allowed + 1, first_seq), last.last),
					 errdetail("The primary holds and has counted this standby's records up to record " UINT64_FORMAT " (its pubdata.audit_usage_shipped for server %s, replicated here); pruning further could lose records not shipped. Nothing was pruned.",
							   allowed, self_id),
					 errhint("Wait until the shipper has sent them and the primary's pubdata.audit_summarise() (every minute) has counted them, or prune up to that record: pubdata.audit_prune('%s', " UINT64_FORMAT ").",
							 dir, allowed)));
		summ = -1;				/* checked: the standby's own summaries are the primary's */
	}
	else
		summ = summarised_seq(NULL);

	/* the usage summaries must have counted them (they read by seq) */
	if (summ >= 0 && (uint64) summ < last.last)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("access audit records " UINT64_FORMAT " to " UINT64_FORMAT "%s are not in the usage summaries yet",
						Max((uint64) summ + 1, first_seq), last.last, chain_words(&chain)),
				 errdetail("usage_stats and the evaluation count pruned records from the summaries only."),
				 errhint("Run SELECT pubdata.audit_summarise(); then prune again.")));

	/* the chain states the prune, durably, before any file goes */
	audit_write_event(GetUserNameFromId(GetUserId(), false), "PRUNE", AUDIT_EVENT_PRUNED, 0,
					  psprintf("pruned records " UINT64_FORMAT " to " UINT64_FORMAT "%s (hash %s) after archiving them in %s",
							   first_seq, last.last, chain_words(&chain), hex_of(last.last_hash), dir));
	if (!audit_durable_head(&durable))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not make the access audit log durable before pruning")));
	memset(&np, 0, sizeof(np));
	np.seq = last.last;
	memcpy(np.hash, last.last_hash, AUDIT_HASH_LEN);
	np.at = last.last_at;
	np.taken_at = GetCurrentTimestamp();
	/* the chains that fork from a record going keep its hash */
	audit_keep_origin_forks(&chain, last.last);
	(void) audit_write_pruned(chain.dir, &np, ERROR);
	for (i = -nleft; i < n; i++)
	{
		char		path[MAXPGPATH];

		audit_seg_path_in(chain.dir, path, sizeof(path), segs[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not remove access audit segment \"%s\": %m", path),
					 errhint("The pruned prefix is recorded; prune again to remove what is left.")));
	}
	fsync_fname(chain.dir, true);

	values[0] = Int32GetDatum(n);
	values[1] = Int64GetDatum((int64) first_seq);
	values[2] = Int64GetDatum((int64) last.last);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pubdata_verify_audit_archive);

/*
 * pubdata.verify_audit_archive(directory text, server text DEFAULT NULL)
 *		returns (ok, segments, records, first_seq, last_seq,
 *		first_broken_seq, detail): the archive of the chain of server (NULL:
 *		this server's own log), linked to that live chain.
 */
Datum
pubdata_verify_audit_archive(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	char	   *dir;
	ArchManifest **ms;
	int			nms;
	StringInfoData problems;
	StringInfoData notes;
	int			i,
				j;
	int			nsegs = 0;
	int64		records = 0;
	uint64		first = 0,
				lastseq = 0;
	uint8		lasthash[AUDIT_HASH_LEN];
	uint64		broken_at = 0;
	AuditAnchor pruned;
	bool		have_pruned;
	Datum		values[7];
	bool		nulls[7] = {0};
	AuditChain	chain;
	bool		foreign = false;

	require_file_role("pubdata.verify_audit_archive()", false);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	dir = check_directory(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));
	audit_chain_open(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), &chain);
	initStringInfo(&problems);
	initStringInfo(&notes);
	ms = manifests_load(dir, &nms, &problems);
	if (nms == 0 && problems.len == 0)
		appendStringInfo(&problems, "no archive manifest in \"%s\"", dir);
#define PROBLEM(seq, ...) \
	do { if (broken_at == 0) broken_at = (seq); \
		 appendStringInfo(&problems, "%s", problems.len ? "; " : ""); \
		 appendStringInfo(&problems, __VA_ARGS__); } while (0)

	for (i = 0; i < nms; i++)
	{
		ArchManifest *m = ms[i];
		uint64		pseq = m->prev_seq;
		uint8		ph[AUDIT_HASH_LEN];
		TimestampTz pa = 0;

		if (i == 0)
			first = m->prev_seq + 1;
		else if (m->prev_seq != lastseq || memcmp(m->prev_hash, lasthash, AUDIT_HASH_LEN) != 0)
			PROBLEM(lastseq + 1, "manifest \"%s\" does not continue the one before it (record " UINT64_FORMAT ")",
					m->file, lastseq);
		memcpy(ph, m->prev_hash, AUDIT_HASH_LEN);
		for (j = 0; j < m->nsegs; j++)
		{
			ArchSeg    *s = &m->segs[j];
			ArchSeg		got;
			char		path[MAXPGPATH];
			char	   *buf;
			size_t		len;
			uint8		sha[AUDIT_HASH_LEN];
			char	   *problem;
			uint64		broken;
			struct stat st;

			nsegs++;
			snprintf(path, sizeof(path), "%s/%s", dir, s->name);
			if (stat(path, &st) != 0)
			{
				PROBLEM(s->first, "the archived segment \"%s\" is missing", s->name);
				pseq = s->last;
				memcpy(ph, s->last_hash, AUDIT_HASH_LEN);
				continue;
			}
			buf = audit_read_file(path, &len, ERROR);
			sha256_of(buf, len, sha);
			if (memcmp(sha, s->sha, AUDIT_HASH_LEN) != 0)
				PROBLEM(s->first, "the archived segment \"%s\" differs from its manifest (SHA-256 %s, the manifest says %s): it was altered",
						s->name, hex_of(sha), hex_of(s->sha));
			problem = relink_segment(buf, len, &pseq, ph, &pa, &got, &broken);
			pfree(buf);
			if (problem != NULL)
			{
				PROBLEM(broken, "archived segment \"%s\": %s", s->name, problem);
				pseq = s->last;
				memcpy(ph, s->last_hash, AUDIT_HASH_LEN);
				continue;
			}
			records += got.last - got.first + 1;
			if (got.first != s->first || got.last != s->last ||
				memcmp(got.last_hash, s->last_hash, AUDIT_HASH_LEN) != 0)
				PROBLEM(s->first, "the archived segment \"%s\" does not hold the records its manifest states", s->name);
		}
		if (pseq != m->last_seq || memcmp(ph, m->last_hash, AUDIT_HASH_LEN) != 0)
			PROBLEM(m->last_seq, "manifest \"%s\" ends at record " UINT64_FORMAT " with another hash than its last segment", m->file, m->last_seq);
		lastseq = m->last_seq;
		memcpy(lasthash, m->last_hash, AUDIT_HASH_LEN);
		if (m->system_identifier != GetSystemIdentifier())
			appendStringInfo(&notes, "; manifest \"%s\" is of another cluster (system " UINT64_FORMAT ")",
							 m->file, m->system_identifier);
		else if (!manifest_of_chain(m, &chain))
		{
			foreign = true;
			PROBLEM(m->prev_seq + 1, "manifest \"%s\" is of %s, not of %s",
					m->file, m->server[0] ? psprintf("server %s", m->server) : "the own log of the server that wrote it",
					chain.own ? "this server's own log" : psprintf("server %s (%s)", chain.name, chain.id));
		}
	}

	/* the link to the live chain */
	have_pruned = (audit_read_pruned(chain.dir, &pruned) > 0);
	if (nms > 0 && notes.len == 0 && !foreign)
	{
		uint8		h[AUDIT_HASH_LEN];
		bool		matched = false;

		if (have_pruned && pruned.seq >= first - 1 && pruned.seq <= lastseq)
		{
			for (i = 0; i < nms && !matched; i++)
			{
				if (ms[i]->prev_seq == pruned.seq)
				{
					matched = true;
					if (memcmp(ms[i]->prev_hash, pruned.hash, AUDIT_HASH_LEN) != 0)
						PROBLEM(pruned.seq, "record " UINT64_FORMAT " differs from the live chain's pruned prefix", pruned.seq);
				}
				for (j = 0; j < ms[i]->nsegs && !matched; j++)
					if (ms[i]->segs[j].last == pruned.seq)
					{
						matched = true;
						if (memcmp(ms[i]->segs[j].last_hash, pruned.hash, AUDIT_HASH_LEN) != 0)
							PROBLEM(pruned.seq, "record " UINT64_FORMAT " of the archive differs from the live chain's pruned prefix", pruned.seq);
					}
			}
			if (!matched)
				PROBLEM(pruned.seq, "the live chain's pruned prefix (record " UINT64_FORMAT ") does not end an archived segment", pruned.seq);
			else
				appendStringInfo(&notes, "; linked to the live chain: the live log begins after record " UINT64_FORMAT " of this archive", pruned.seq);
		}
		else if (have_pruned && pruned.seq > lastseq)
			appendStringInfo(&notes, "; the live chain was pruned up to record " UINT64_FORMAT ", after this archive's end (another archive holds records " UINT64_FORMAT " on)",
							 pruned.seq, lastseq + 1);
		else
		{
			int			r = audit_find_record_in(chain.dir, lastseq, h);

			if (r == 1 && memcmp(h, lasthash, AUDIT_HASH_LEN) == 0)
				appendStringInfo(&notes, "; linked to the live chain: the live log still holds record " UINT64_FORMAT ", the same", lastseq);
			else if (r == 1)
				PROBLEM(lastseq, "record " UINT64_FORMAT " of the archive differs from the live log's", lastseq);
			else
				appendStringInfo(&notes, "; not linked to the live chain (record " UINT64_FORMAT " is not in the live log)", lastseq);
		}
	}

	values[0] = BoolGetDatum(problems.len == 0);
	values[1] = Int32GetDatum(nsegs);
	values[2] = Int64GetDatum(records);
	values[3] = Int64GetDatum((int64) first);
	nulls[3] = (nms == 0);
	values[4] = Int64GetDatum((int64) lastseq);
	nulls[4] = (nms == 0);
	values[5] = Int64GetDatum((int64) broken_at);
	nulls[5] = (problems.len == 0 || broken_at == 0);
	if (problems.len == 0)
		values[6] = CStringGetTextDatum(psprintf(INT64_FORMAT " records in %d segment(s) of %d manifest(s), chain intact from record " UINT64_FORMAT " to " UINT64_FORMAT ", every file matches its SHA-256%s",
												 records, nsegs, nms, first, lastseq, notes.data));
	else
		values[6] = CStringGetTextDatum(problems.data);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
