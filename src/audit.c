/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  The access-audit store (Art 15, 16(4), 27): an append-only, SHA-256
 *	  hash-chained log kept in segment files under $PGDATA/pg_pubdata/audit/.
 *
 * Why files and not a table: a heap insert would need an XID (every audited
 * read would become a write transaction), would be undone by the reading
 * transaction's rollback, and is impossible on a hot standby.  Why not only
 * shared memory: a backend crash makes the postmaster reinitialise shared
 * memory, so anything not yet handed to the kernel would be lost.
 *
 * So each record is built and hashed by the reading backend and, under an
 * exclusive LWLock, copied into a buffer in shared memory before the
 * statement returns (pubdata.audit_buffer; without it, appended with one
 * write()).  The buffer goes to the current segment with one write() per
 * batch: by the sync worker, by readers of the log, by a writer that finds
 * it full, at rotation, and by the postmaster at shutdown and when it
 * resets shared memory after a crash (an on_shmem_exit callback, run before
 * the memory goes away).  From then on a record survives the process
 * (rollback, kill -9 of any backend or worker, clean shutdown);
 * only a power failure can lose what the kernel has not yet written to disk,
 * and that window is bounded by pubdata.audit_sync_interval: a background
 * worker ("pubdata audit sync") fsyncs the current segment that often, and
 * if it is not running the next writer after twice the interval does it.
 * With the interval 0 every writer fsyncs its own record.
 *
 * File format: one record per line, tab-separated fields, text escaped like
 * COPY's text format (\\ \t \n \r, \N for NULL):
 *
 *	 seq at database_oid role dept_id dept_code resources grant_id purpose
 *	 command query_id rows grants outcome statement masked hash
 *
 * grants lists the grants each resource was read under, in the order of
 * resources: groups separated by ';', ids within a group by ','.  outcome
 * is ok, error (the statement failed after it started reading) or denied
 * (pubdata refused it).  statement is the statement's text, normalized
 * (constants replaced by $n) unless pubdata.audit_statement says otherwise.
 * masked lists the items read masked per resource, like grants
 * ("id_number=id_card,name=name;").  Records written by 0.1 lack these four
 * fields (13 fields in all); both forms are read and verified.
 *
 * "at" is the TimestampTz (microseconds since 2000-01-01 UTC) taken under
 * the lock, so it is monotone with seq.  hash is the hex SHA-256 of the
 * previous record's 32 raw hash bytes (zeros before seq 1) followed by the
 * line's bytes up to and including the tab before the hash.  Segment files
 * are named after their first record's seq (20 decimal digits, ".log") and are
 * rotated at pubdata.audit_segment_size; a rotated segment is fsynced.
 *
 * The chain head (seq and hash of the last record) lives in shared memory
 * and is recovered from the tail of the last segment when shared memory is
 * (re)initialised; an incomplete last line (a write cut short by a crash)
 * is truncated then.  A small state file ("head", 512 bytes with a CRC) is
 * rewritten and fsynced after each sync with the head that is known to be
 * durable.  verify_audit_chain() checks every link, the segment names, and
 * that the log reaches both the head in shared memory and the state file's
 * head, so that a truncated tail is detected too.  If at startup the state
 * file is ahead of the files (records were removed while the server was
 * down), the chain continues from the state file's head: the gap stays in
 * the chain and verify_audit_chain() reports it.
 *
 * A verification that finds the chain intact remembers its verified prefix
 * (the last fsynced record's seq, hash, the hash before it and position) in
 * "verified"; verify_audit_chain_incremental() starts after it.  Filtered
 * reads (audit_query.c) rely on times being monotone along the chain, which
 * verification checks too.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "common/sha2.h"
#include "commands/dbcommands.h"
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
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#define AUDIT_PARENT_DIR	"pg_pubdata"
#define AUDIT_DIR			"pg_pubdata/audit"
#define AUDIT_STATE_FILE	"pg_pubdata/audit/head"
#define AUDIT_SEG_SUFFIX	".log"
#define AUDIT_NFIELDS_V1	13	/* fields of a 0.1 record line, hash included */
#define AUDIT_NFIELDS		17	/* fields of a record line, hash included */
#define AUDIT_STATE_SIZE	512
#define AUDIT_STATE_MAGIC	0x50444144	/* "PDAD" */
#define AUDIT_STATE_VERSION 1

/* Shared state: the chain head and the current segment. */
typedef struct AuditShared
{
	LWLock	   *lock;			/* protects the fields up to seg_size */
	bool		available;		/* false: the store could not be set up */
	char		problem[256];	/* why it is unavailable */
	uint64		head_seq;		/* seq of the last record written, 0: none */
	uint8		head_hash[AUDIT_HASH_LEN];
	TimestampTz head_at;
	uint64		seg_first;		/* name (first seq) of the current segment,
								 * 0: none yet */
	uint64		seg_size;		/* bytes of the current segment, in the
								 * buffer or written */
	uint64		seg_written;	/* of those, bytes written to its file */
	uint64		buf_head;		/* bytes ever put in the buffer */
	uint64		buf_tail;		/* bytes ever written out of it */
	Latch	   *sync_latch;		/* the sync worker's, to wake it early */

	slock_t		mutex;			/* protects the fields below */
	uint64		synced_seq;		/* records up to this one were fsynced */
	TimestampTz last_sync_at;	/* last time someone checked and synced */
	uint64		state_seq;		/* head recorded in the state file */

	/* the record buffer (pubdata.audit_buffer bytes) follows */
	char		buf[FLEXIBLE_ARRAY_MEMBER];
} AuditShared;

/* The state file's contents (padded to AUDIT_STATE_SIZE on disk). */
typedef struct AuditStateFile
{
	uint32		magic;
	uint32		version;
	uint64		seq;
	uint8		hash[AUDIT_HASH_LEN];
	TimestampTz at;
	uint64		segment;
	pg_crc32c	crc;			/* of the bytes before it */
} AuditStateFile;

/* GUCs */
bool		pubdata_audit_enabled = true;
static int	audit_sync_interval = 1000; /* ms; 0: fsync every record */
static int	audit_buffer_kb = 1024;	/* shared record buffer; 0: none */
static uint64 audit_buf_size = 0;	/* its bytes, as allocated */
static int	audit_segment_size = 16384; /* kB */

static AuditShared *audit = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* this process's descriptor for the current segment */
static int	audit_fd = -1;
static uint64 audit_fd_seg = 0;

/* resource owner for hashing outside any transaction */

PGDLLEXPORT void pubdata_audit_sync_main(Datum arg);

static void audit_shmem_request(void);
static void audit_shmem_startup(void);
static void audit_shmem_shutdown(int code, Datum arg);


/* ------------------------------------------------------------------------
 * Small helpers: names, escaping, parsing, hashing
 * ------------------------------------------------------------------------
 */

/*
 * audit_seg_path
 *		Path of the segment whose first record is seq.
 */
void
audit_seg_path(char *path, size_t size, uint64 seq)
{
	snprintf(path, size, AUDIT_DIR "/%020llu" AUDIT_SEG_SUFFIX,
			 (unsigned long long) seq);
}

/*
 * audit_seg_name_parse
 *		The first seq encoded in a segment file name, or 0 if the name is
 *		not a segment's.
 */
static uint64
audit_seg_name_parse(const char *name)
{
	uint64		v = 0;
	int			i;

	if (strlen(name) != 20 + strlen(AUDIT_SEG_SUFFIX) ||
		strcmp(name + 20, AUDIT_SEG_SUFFIX) != 0)
		return 0;
	for (i = 0; i < 20; i++)
	{
		if (name[i] < '0' || name[i] > '9' ||
			v > (PG_UINT64_MAX - (name[i] - '0')) / 10)
			return 0;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

/*
 * audit_append_escaped
 *		Append s to buf escaped for a record field; NULL becomes \N.  The
 *		escaping keeps every record on one line whatever a role name or a
 *		purpose contains, so nobody can forge a record through them.
 */
void
audit_append_escaped(StringInfo buf, const char *s)
{
	if (s == NULL)
	{
		appendBinaryStringInfo(buf, "\\N", 2);
		return;
	}
	while (*s)
	{
		/* the longest run that needs no escape goes in at once */
		size_t		run = strcspn(s, "\\\t\n\r");

		if (run > 0)
		{
			appendBinaryStringInfo(buf, s, run);
			s += run;
			continue;
		}
		switch (*s)
		{
			case '\\':
				appendBinaryStringInfo(buf, "\\\\", 2);
				break;
			case '\t':
				appendBinaryStringInfo(buf, "\\t", 2);
				break;
			case '\n':
				appendBinaryStringInfo(buf, "\\n", 2);
				break;
			default:			/* '\r' */
				appendBinaryStringInfo(buf, "\\r", 2);
				break;
		}
		s++;
	}
}

/*
 * audit_unescape
 *		Undo audit_append_escaped in place; returns NULL for \N.
 */
static char *
audit_unescape(char *s)
{
	char	   *r,
			   *w;

	if (strcmp(s, "\\N") == 0)
		return NULL;
	for (r = w = s; *r; r++)
	{
		if (*r == '\\' && r[1] != '\0')
		{
			r++;
			switch (*r)
			{
				case 't':
					*w++ = '\t';
					break;
				case 'n':
					*w++ = '\n';
					break;
				case 'r':
					*w++ = '\r';
					break;
				default:
					*w++ = *r;
			}
		}
		else
			*w++ = *r;
	}
	*w = '\0';
	return s;
}

/*
 * audit_parse_u64 / audit_parse_i64
 *		Strict decimal parsing without ereport (also used in the postmaster).
 */
static bool
audit_parse_u64(const char *s, uint64 *out)
{
	uint64		v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
		if (v > (PG_UINT64_MAX - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

static bool
audit_parse_i64(const char *s, int64 *out)
{
	uint64		v;
	bool		neg = (*s == '-');

	if (!audit_parse_u64(neg ? s + 1 : s, &v) || v > (uint64) PG_INT64_MAX)
		return false;
	*out = neg ? -(int64) v : (int64) v;
	return true;
}

/*
 * audit_hex_decode / audit_hex_encode
 *		The 32-byte hash as 64 lower-case hex digits and back.
 */
bool
audit_hex_decode(const char *s, uint8 *out)
{
	int			i;

	if (strlen(s) != AUDIT_HASH_LEN * 2)
		return false;
	for (i = 0; i < AUDIT_HASH_LEN * 2; i++)
	{
		char		c = s[i];
		int			v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return false;
		if (i % 2 == 0)
			out[i / 2] = v << 4;
		else
			out[i / 2] |= v;
	}
	return true;
}

void
audit_hex_encode(const uint8 *h, char *out)
{
	static const char digits[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < AUDIT_HASH_LEN; i++)
	{
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 0xf];
	}
	out[AUDIT_HASH_LEN * 2] = '\0';
}

/*
 * audit_parse_line
 *		Parse one record line (without its newline, NUL-terminated, modified
 *		in place).  Returns false if it is not a well-formed record.  Never
 *		raises an error: the postmaster uses it during recovery.
 */
bool
audit_parse_line(char *line, size_t len, AuditRecord *rec)
{
	char	   *fields[AUDIT_NFIELDS];
	char	   *p;
	char	   *last_tab;
	int			n = 0;
	int64		i64;
	uint64		u64;

	last_tab = strrchr(line, '\t');
	if (last_tab == NULL || strlen(line) != len)
		return false;
	rec->hashed_len = last_tab - line + 1;

	fields[n++] = line;
	for (p = line; *p; p++)
	{
		if (*p == '\t')
		{
			if (n >= AUDIT_NFIELDS)
				return false;
			*p = '\0';
			fields[n++] = p + 1;
		}
	}
	if (n != AUDIT_NFIELDS && n != AUDIT_NFIELDS_V1)
		return false;

	if (!audit_parse_u64(fields[0], &rec->seq) || rec->seq == 0)
		return false;
	if (!audit_parse_i64(fields[1], &i64))
		return false;
	rec->at = (TimestampTz) i64;
	if (!audit_parse_u64(fields[2], &u64) || u64 > PG_UINT32_MAX)
		return false;
	rec->database = (Oid) u64;
	rec->role_name = audit_unescape(fields[3]);
	if (!audit_parse_i64(fields[4], &i64) || i64 < PG_INT32_MIN || i64 > PG_INT32_MAX)
		return false;
	rec->department_id = (int32) i64;
	rec->department_code = audit_unescape(fields[5]);
	rec->resources = audit_unescape(fields[6]);
	if (!audit_parse_i64(fields[7], &rec->grant_id))
		return false;
	rec->purpose = audit_unescape(fields[8]);
	rec->command = audit_unescape(fields[9]);
	if (!audit_parse_u64(fields[10], &rec->query_id) ||
		!audit_parse_u64(fields[11], &rec->rows))
		return false;
	rec->grants = rec->outcome = rec->statement = rec->masked = NULL;
	if (n == AUDIT_NFIELDS)
	{
		rec->grants = audit_unescape(fields[12]);
		rec->outcome = audit_unescape(fields[13]);
		rec->statement = audit_unescape(fields[14]);
		rec->masked = audit_unescape(fields[15]);
	}
	if (!audit_hex_decode(fields[n - 1], rec->hash))
		return false;
	rec->hash_hex = fields[n - 1];
	if (rec->role_name == NULL ||
		rec->resources == NULL || rec->command == NULL)
		return false;
	return true;
}

/*
 * audit_append_int / audit_append_uint
 *		A number in decimal, without the cost of a printf format: a record
 *		holds six of them and every audited statement writes one.
 */
static inline void
audit_append_int(StringInfo s, int64 v)
{
	char		buf[MAXINT8LEN + 1];

	appendBinaryStringInfo(s, buf, pg_lltoa(v, buf));
}

static inline void
audit_append_uint(StringInfo s, uint64 v)
{
	char		buf[MAXINT8LEN + 1];

	appendBinaryStringInfo(s, buf, pg_ulltoa_n(v, buf));
}

/*
 * audit_sha256
 *		out = SHA-256(prev || data).  The digest is fetched from OpenSSL once
 *		per backend and its context reused: pg_cryptohash initialises through
 *		EVP_sha256(), which makes OpenSSL look the algorithm up again (a
 *		locked property query) at every record, and that cost more than the
 *		hashing itself.
 */
static void
audit_sha256(const uint8 *prev, const char *data, size_t len, uint8 *out)
{
	static EVP_MD *md = NULL;
	static EVP_MD_CTX *ctx = NULL;
	unsigned int outlen = 0;

	if (md == NULL)
	{
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (md == NULL)
			elog(ERROR, "could not fetch SHA-256 from OpenSSL for the audit chain");
	}
	if (ctx == NULL)
	{
		ctx = EVP_MD_CTX_new();
		if (ctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
	}
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
		EVP_DigestUpdate(ctx, prev, AUDIT_HASH_LEN) != 1 ||
		EVP_DigestUpdate(ctx, data, len) != 1 ||
		EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != AUDIT_HASH_LEN)
		elog(ERROR, "could not compute SHA-256 for the audit chain");
}

/*
 * audit_read_file
 *		Read a whole file into a palloc'd, NUL-terminated buffer.  On failure
 *		reports at elevel and returns NULL (when elevel < ERROR).
 */
char *
audit_read_file(const char *path, size_t *len, int elevel)
{
	int			fd;
	struct stat st;
	char	   *buf;
	size_t		done = 0;

	fd = BasicOpenFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not open audit file \"%s\": %m", path)));
		return NULL;
	}
	if (fstat(fd, &st) < 0)
	{
		int			save_errno = errno;

		close(fd);
		errno = save_errno;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not stat audit file \"%s\": %m", path)));
		return NULL;
	}
	buf = MemoryContextAllocHuge(CurrentMemoryContext, st.st_size + 1);
	while (done < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, buf + done, st.st_size - done);

		if (n < 0)
		{
			int			save_errno = errno;

			close(fd);
			pfree(buf);
			errno = save_errno;
			ereport(elevel,
					(errcode_for_file_access(),
					 errmsg("could not read audit file \"%s\": %m", path)));
			return NULL;
		}
		if (n == 0)
			break;				/* shrank meanwhile */
		done += n;
	}
	close(fd);
	buf[done] = '\0';
	*len = done;
	return buf;
}

/*
 * uint64_cmp
 *		qsort comparator for segment numbers.
 */
static int
uint64_cmp(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/*
 * audit_list_segments
 *		The segment numbers present, sorted; *count gets their number.
 */
uint64 *
audit_list_segments(int *count, int elevel)
{
	DIR		   *dir;
	struct dirent *de;
	uint64	   *segs;
	int			n = 0,
				cap = 16;

	segs = palloc(cap * sizeof(uint64));
	dir = AllocateDir(AUDIT_DIR);
	if (dir == NULL && errno == ENOENT)
	{
		/* never preloaded: nothing was ever recorded */
		*count = 0;
		return segs;
	}
	while ((de = ReadDirExtended(dir, AUDIT_DIR, elevel)) != NULL)
	{
		uint64		s = audit_seg_name_parse(de->d_name);

		if (s == 0)
			continue;
		if (n == cap)
		{
			cap *= 2;
			segs = repalloc(segs, cap * sizeof(uint64));
		}
		segs[n++] = s;
	}
	FreeDir(dir);
	qsort(segs, n, sizeof(uint64), uint64_cmp);
	*count = n;
	return segs;
}

/*
 * audit_read_state
 *		Read the state file; false if missing or invalid.
 */
static bool
audit_read_state(AuditStateFile *st)
{
	char		buf[AUDIT_STATE_SIZE];
	int			fd;
	ssize_t		n;
	pg_crc32c	crc;

	fd = BasicOpenFile(AUDIT_STATE_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < (ssize_t) sizeof(AuditStateFile))
		return false;
	memcpy(st, buf, sizeof(AuditStateFile));
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, st, offsetof(AuditStateFile, crc));
	FIN_CRC32C(crc);
	return st->magic == AUDIT_STATE_MAGIC &&
		st->version == AUDIT_STATE_VERSION &&
		EQ_CRC32C(crc, st->crc);
}

/*
 * audit_write_state
 *		Rewrite and fsync the state file with a head known to be durable.
 *		Returns false after reporting at elevel.
 */
static bool
audit_write_state(uint64 seq, const uint8 *hash, TimestampTz at,
				  uint64 segment, int elevel)
{
	char		buf[AUDIT_STATE_SIZE];
	AuditStateFile st;
	int			fd;
	bool		existed;
	struct stat sb;

	memset(&st, 0, sizeof(st));
	st.magic = AUDIT_STATE_MAGIC;
	st.version = AUDIT_STATE_VERSION;
	st.seq = seq;
	memcpy(st.hash, hash, AUDIT_HASH_LEN);
	st.at = at;
	st.segment = segment;
	INIT_CRC32C(st.crc);
	COMP_CRC32C(st.crc, &st, offsetof(AuditStateFile, crc));
	FIN_CRC32C(st.crc);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &st, sizeof(st));

	existed = (stat(AUDIT_STATE_FILE, &sb) == 0);
	fd = BasicOpenFile(AUDIT_STATE_FILE, O_WRONLY | O_CREAT | PG_BINARY);
	if (fd < 0)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not open audit state file \"%s\": %m", AUDIT_STATE_FILE)));
		return false;
	}
	if (pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf))
	{
		int			save_errno = errno ? errno : ENOSPC;

		close(fd);
		errno = save_errno;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not write audit state file \"%s\": %m", AUDIT_STATE_FILE)));
		return false;
	}
	if (pg_fsync(fd) != 0)
	{
		int			save_errno = errno;

		close(fd);
		errno = save_errno;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not fsync audit state file \"%s\": %m", AUDIT_STATE_FILE)));
		return false;
	}
	close(fd);
	if (!existed)
		fsync_fname_ext(AUDIT_DIR, true, false, elevel);
	return true;
}


/* ------------------------------------------------------------------------
 * Shared memory and recovery of the chain head
 * ------------------------------------------------------------------------
 */

/*
 * audit_shmem_request
 *		Ask for the shared state and its LWLock.
 */
static void
audit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(offsetof(AuditShared, buf) + (Size) audit_buffer_kb * 1024));
	RequestNamedLWLockTranche("pubdata_audit", 1);
}

/*
 * audit_set_unavailable
 *		Mark the store unusable; audited statements will then fail with the
 *		reason (the audit is fail-closed).
 */
static void
audit_set_unavailable(const char *fmt, const char *arg)
{
	audit->available = false;
	snprintf(audit->problem, sizeof(audit->problem), fmt, arg, strerror(errno));
	ereport(LOG, (errmsg("pubdata: access audit unavailable: %s", audit->problem)));
}

/*
 * audit_last_record_of
 *		Find the last well-formed record of a segment's contents; returns
 *		false if there is none.
 */
static bool
audit_last_record_of(char *buf, size_t len, AuditRecord *rec)
{
	size_t		end = len;

	while (end > 0)
	{
		size_t		start = end - 1;	/* end points after a '\n' */
		char	   *line;
		bool		ok;

		while (start > 0 && buf[start - 1] != '\n')
			start--;
		line = pnstrdup(buf + start, end - 1 - start);
		ok = audit_parse_line(line, end - 1 - start, rec);
		pfree(line);			/* only seq, at and hash are used */
		if (ok)
			return true;
		end = start;
	}
	return false;
}

/*
 * audit_recover
 *		Called in the postmaster when shared memory is (re)initialised: find
 *		the chain head at the tail of the log, truncate an incomplete last
 *		line, compare with the state file.  Never raises an error.
 */
static void
audit_recover(void)
{
	uint64	   *segs;
	int			nsegs;
	int			i;
	AuditStateFile st;
	bool		have_state;
	bool		found = false;
	char		path[MAXPGPATH];

	audit->available = true;
	if ((MakePGDirectory(AUDIT_PARENT_DIR) < 0 && errno != EEXIST))
	{
		audit_set_unavailable("could not create directory \"%s\": %s", AUDIT_PARENT_DIR);
		return;
	}
	if ((MakePGDirectory(AUDIT_DIR) < 0 && errno != EEXIST))
	{
		audit_set_unavailable("could not create directory \"%s\": %s", AUDIT_DIR);
		return;
	}

	segs = audit_list_segments(&nsegs, LOG);
	for (i = nsegs - 1; i >= 0 && !found; i--)
	{
		char	   *buf;
		size_t		len;
		size_t		complete;
		AuditRecord rec;

		audit_seg_path(path, sizeof(path), segs[i]);
		buf = audit_read_file(path, &len, LOG);
		if (buf == NULL)
		{
			audit_set_unavailable("could not read audit segment \"%s\": %s", path);
			return;
		}
		complete = len;
		while (complete > 0 && buf[complete - 1] != '\n')
			complete--;
		if (i == nsegs - 1)
		{
			audit->seg_first = segs[i];
			audit->seg_size = complete;
			audit->seg_written = complete;
			if (complete < len)
			{
				/* a write cut short by a crash: remove the fragment */
				if (truncate(path, complete) < 0)
				{
					audit_set_unavailable("could not truncate audit segment \"%s\": %s", path);
					return;
				}
				ereport(WARNING,
						(errmsg("pubdata: removed an incomplete audit record (%zu bytes) at the end of \"%s\"",
								len - complete, path),
						 errdetail("A write was cut short by a crash; the statement that made it did not complete.")));
			}
		}
		if (audit_last_record_of(buf, complete, &rec))
		{
			audit->head_seq = rec.seq;
			memcpy(audit->head_hash, rec.hash, AUDIT_HASH_LEN);
			audit->head_at = rec.at;
			found = true;
		}
		pfree(buf);
	}
	pfree(segs);

	have_state = audit_read_state(&st);
	if (have_state && st.seq > audit->head_seq)
	{
		ereport(WARNING,
				(errmsg("pubdata: the access audit log ends at record " UINT64_FORMAT " but its state file records " UINT64_FORMAT,
						audit->head_seq, st.seq),
				 errdetail("Audit records were removed while the server was down."),
				 errhint("The chain continues from the state file's head, so pubdata.verify_audit_chain() reports the gap.")));
		audit->head_seq = st.seq;
		memcpy(audit->head_hash, st.hash, AUDIT_HASH_LEN);
		audit->head_at = st.at;
	}
	audit->synced_seq = have_state ? Min(st.seq, audit->head_seq) : 0;
	audit->state_seq = have_state ? st.seq : 0;
	audit->last_sync_at = GetCurrentTimestamp();
	if (audit->head_seq > 0)
		ereport(LOG,
				(errmsg("pubdata: access audit chain head at record " UINT64_FORMAT,
						audit->head_seq)));
}

/*
 * audit_shmem_startup
 *		Attach to (or create and recover) the shared state.
 */
static void
audit_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	audit = NULL;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	audit_buf_size = (uint64) audit_buffer_kb * 1024;
	audit = ShmemInitStruct("pubdata audit", offsetof(AuditShared, buf) + audit_buf_size, &found);
	if (!found)
	{
		memset(audit, 0, offsetof(AuditShared, buf));
		audit->lock = &(GetNamedLWLockTranche("pubdata_audit"))->lock;
		SpinLockInit(&audit->mutex);
		audit_recover();
	}
	LWLockRelease(AddinShmemInitLock);

	/* the postmaster makes everything durable when it exits cleanly */
	if (!IsUnderPostmaster)
		on_shmem_exit(audit_shmem_shutdown, (Datum) 0);
}


/* ------------------------------------------------------------------------
 * Durability: fsync of the current segment and the state file
 * ------------------------------------------------------------------------
 */

/*
 * audit_open_segment
 *		This process's append descriptor for segment seg (cached).
 */
static int
audit_open_segment(uint64 seg, int elevel)
{
	char		path[MAXPGPATH];

	if (audit_fd >= 0 && audit_fd_seg == seg)
		return audit_fd;
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
	audit_seg_path(path, sizeof(path), seg);
	audit_fd = BasicOpenFile(path, O_WRONLY | O_APPEND | PG_BINARY);
	if (audit_fd < 0)
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not open audit segment \"%s\": %m", path)));
	else
		audit_fd_seg = seg;
	return audit_fd;
}

/*
 * audit_drain
 *		Write the records waiting in the shared buffer to the current
 *		segment, in order.  The caller holds the lock exclusively, or is the
 *		postmaster with every child gone (shutdown, crash reset).  Bytes a
 *		process wrote but died before accounting for are recognised by the
 *		file's size and not written twice.  Returns false (reported at
 *		elevel) if the records could not all be written; they stay in the
 *		buffer.
 */
static bool
audit_drain(int elevel)
{
	int			fd;
	struct stat st;

	if (audit->buf_tail == audit->buf_head || audit->seg_first == 0)
		return true;
	fd = audit_open_segment(audit->seg_first, elevel);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && (uint64) st.st_size != audit->seg_written)
	{
		if ((uint64) st.st_size > audit->seg_written)
			audit->buf_tail = Min(audit->buf_head,
								  audit->buf_tail + ((uint64) st.st_size - audit->seg_written));
		audit->seg_written = st.st_size;
	}
	while (audit->buf_tail < audit->buf_head)
	{
		uint64		off = audit->buf_tail % audit_buf_size;
		size_t		n = Min(audit->buf_head - audit->buf_tail, audit_buf_size - off);
		ssize_t		w;

		errno = 0;
		w = write(fd, audit->buf + off, n);
		if (w != (ssize_t) n)
		{
			int			save_errno = errno ? errno : ENOSPC;

			/* take back a partial write so that the chain stays well formed */
			if (w > 0 && ftruncate(fd, audit->seg_written) < 0)
				ereport(LOG,
						(errcode_for_file_access(),
						 errmsg("could not truncate a partial audit write: %m")));
			errno = save_errno;
			ereport(elevel,
					(errcode_for_file_access(),
					 errmsg("could not write access audit records: %m"),
					 errdetail("The records wait in shared memory; audited statements fail when it is full."),
					 errhint("Free disk space in the data directory.")));
			return false;
		}
		audit->buf_tail += n;
		audit->seg_written += n;
	}
	return true;
}

/*
 * audit_sync
 *		Make every record written so far durable and record the durable head
 *		in the state file.  Used by the sync worker, by a writer when the
 *		worker is late, and at the postmaster's clean exit (locked = false:
 *		nobody else is left).
 */
static void
audit_sync(bool locked, int elevel)
{
	uint64		seq,
				seg,
				synced,
				state_seq;
	uint8		hash[AUDIT_HASH_LEN];
	TimestampTz at;

	if (locked)
		LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	/* what waits in the buffer goes to the kernel first */
	if (!audit_drain(elevel))
	{
		if (locked)
			LWLockRelease(audit->lock);
		return;
	}
	seq = audit->head_seq;
	memcpy(hash, audit->head_hash, AUDIT_HASH_LEN);
	at = audit->head_at;
	seg = audit->seg_first;
	if (locked)
		LWLockRelease(audit->lock);

	SpinLockAcquire(&audit->mutex);
	synced = audit->synced_seq;
	state_seq = audit->state_seq;
	SpinLockRelease(&audit->mutex);

	if (seq > synced && seg != 0)
	{
		int			fd = audit_open_segment(seg, elevel);

		if (fd < 0)
			return;
		if (pg_fsync(fd) != 0)
		{
			ereport(elevel,
					(errcode_for_file_access(),
					 errmsg("could not fsync audit segment: %m")));
			return;
		}
	}
	if (seq != state_seq && seq > 0)
	{
		if (!audit_write_state(seq, hash, at, seg, elevel))
			return;
	}

	SpinLockAcquire(&audit->mutex);
	if (seq > audit->synced_seq)
		audit->synced_seq = seq;
	audit->state_seq = seq;
	audit->last_sync_at = GetCurrentTimestamp();
	SpinLockRelease(&audit->mutex);
}

/*
 * audit_shmem_shutdown
 *		on_shmem_exit callback of the postmaster: on a clean exit write out
 *		the buffer and fsync the log and the state file (all backends are
 *		gone by then); at the reset after a child crashed, write out the
 *		buffer, which recovery then reads back from the files.
 */
static void
audit_shmem_shutdown(int code, Datum arg)
{
	if (audit == NULL || !audit->available)
		return;
	if (code != 0)
	{
		/*
		 * A child crashed and shared memory is about to be reinitialised:
		 * the records still in the buffer go to the kernel now (every child
		 * is gone, nobody else touches them).
		 */
		(void) audit_drain(LOG);
		return;
	}
	/* the postmaster never held the lock; force a full sync */
	audit->synced_seq = 0;
	audit_sync(false, LOG);
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
}

/*
 * pubdata_audit_sync_main
 *		The "pubdata audit sync" background worker: every
 *		pubdata.audit_sync_interval, fsync the records written since the last
 *		time.  Needs no database, so it runs on a hot standby too.
 *
 * On SIGTERM (a server shutdown) it syncs once more and exits with code 0:
 * the postmaster writes out what is left in the buffer after every backend
 * has gone (audit_shmem_shutdown).  Stopped alone, it is not restarted
 * before the next server start; writers then fsync the segment themselves
 * when it is older than twice the interval.
 */
void
pubdata_audit_sync_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	pgstat_report_appname("pubdata audit sync");
	if (audit != NULL)
		audit->sync_latch = MyLatch;	/* writers wake it when the buffer fills */

	while (!ShutdownRequestPending)
	{
		long		timeout = audit_sync_interval > 0 ? audit_sync_interval : 1000;

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (audit != NULL && audit->available)
			audit_sync(true, data_sync_elevel(ShutdownRequestPending ? LOG : ERROR));
	}
	proc_exit(0);
}


/* ------------------------------------------------------------------------
 * Writing a record
 * ------------------------------------------------------------------------
 */

/*
 * audit_new_segment
 *		Start a new segment named seq (caller holds the lock exclusively):
 *		fsync the one it replaces, create the file, fsync the directory.
 *		Returns false after reporting at elevel.
 */
static bool
audit_new_segment(uint64 seq, int elevel)
{
	char		path[MAXPGPATH];
	int			fd;

	if (audit->seg_first != 0)
	{
		/* the buffer's records belong to the segment that ends */
		if (!audit_drain(elevel))
			return false;
		fd = audit_open_segment(audit->seg_first, elevel);
		if (fd < 0)
			return false;
		if (pg_fsync(fd) != 0)
		{
			ereport(data_sync_elevel(elevel),
					(errcode_for_file_access(),
					 errmsg("could not fsync audit segment: %m")));
			return false;
		}
	}
	audit_seg_path(path, sizeof(path), seq);
	fd = BasicOpenFile(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | PG_BINARY);
	if (fd < 0)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not create audit segment \"%s\": %m", path),
				 errhint("Audited statements fail until the access audit can write again.")));
		return false;
	}
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = fd;
	audit_fd_seg = seq;
	if (fsync_fname_ext(AUDIT_DIR, true, false, data_sync_elevel(elevel)) != 0)
		return false;
	audit->seg_first = seq;
	audit->seg_size = 0;
	audit->seg_written = 0;
	return true;
}

/*
 * pubdata_audit_record
 *		Append one record to the chain; see audit.h.
 */
void
pubdata_audit_record(const PubdataAccess *a)
{
	audit_record_at(a, 0);
}

/*
 * audit_record_at
 *		Append one record dated at, or now when at is 0 (see audit_store.h).
 */
void
audit_record_at(const PubdataAccess *a, TimestampTz given_at)
{
	StringInfoData body;
	StringInfoData line;
	uint8		hash[AUDIT_HASH_LEN];
	char		hex[AUDIT_HASH_LEN * 2 + 1];
	uint64		seq;
	TimestampTz at;
	int			fd = -1;
	ssize_t		n;
	bool		need_sync = false;
	bool		wake = false;
	int			elevel;

	if (!pubdata_audit_enabled)
		return;

	/*
	 * guard.c also records statements that failed, from its abort callback:
	 * there an error would recurse, so problems are reported as warnings.
	 */
	elevel = IsTransactionState() ? ERROR : WARNING;
	if (audit == NULL)
		pubdata_require_preload("the access audit");
	if (!audit->available)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the pubdata access audit is unavailable"),
				 errdetail("%s", audit->problem),
				 errhint("Fix the problem in the server log and restart the server; audited reads fail until then.")));

	/* everything but seq, time and hash is built outside the lock */
	initStringInfo(&body);
	audit_append_uint(&body, MyDatabaseId);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->role_name ? a->role_name : "");
	appendStringInfoChar(&body, '\t');
	audit_append_int(&body, a->department_id);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->department_code);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->resources ? a->resources : "");
	appendStringInfoChar(&body, '\t');
	audit_append_int(&body, a->grant_id);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->purpose);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->command ? a->command : "");
	appendStringInfoChar(&body, '\t');
	audit_append_uint(&body, a->query_id);
	appendStringInfoChar(&body, '\t');
	audit_append_uint(&body, a->rows);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->grants);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->outcome ? a->outcome : "ok");
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->statement);
	appendStringInfoChar(&body, '\t');
	audit_append_escaped(&body, a->masked);
	appendStringInfoChar(&body, '\t');
	initStringInfo(&line);
	enlargeStringInfo(&line, body.len + 2 * AUDIT_HASH_LEN + 64);

	at = given_at != 0 ? given_at : GetCurrentTimestamp();

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	seq = audit->head_seq + 1;
	if (at < audit->head_at)
		at = audit->head_at;	/* keep time monotone (the clock read before the lock) */
	audit_append_uint(&line, seq);
	appendStringInfoChar(&line, '\t');
	audit_append_int(&line, (int64) at);
	appendStringInfoChar(&line, '\t');
	appendBinaryStringInfo(&line, body.data, body.len);
	audit_sha256(audit->head_hash, line.data, line.len, hash);
	audit_hex_encode(hash, hex);
	appendBinaryStringInfo(&line, hex, AUDIT_HASH_LEN * 2);
	appendStringInfoChar(&line, '\n');

	if ((audit->seg_first == 0 ||
		 (audit->seg_size > 0 &&
		  audit->seg_size + line.len > (uint64) audit_segment_size * 1024)) &&
		!audit_new_segment(seq, elevel))
	{
		LWLockRelease(audit->lock);
		return;
	}
	if (audit_buf_size > 0 && (uint64) line.len <= audit_buf_size && audit_sync_interval > 0)
	{
		uint64		off;
		size_t		first;

		/*
		 * Into the shared buffer: a copy, no system call.  From there the
		 * sync worker, any reader of the log, a writer that finds the buffer
		 * full, or the postmaster (at shutdown, and at the reset after any
		 * process crashed) writes it to the segment, in order.
		 */
		if (audit->buf_head - audit->buf_tail + line.len > audit_buf_size &&
			!audit_drain(elevel))
		{
			LWLockRelease(audit->lock);
			return;
		}
		off = audit->buf_head % audit_buf_size;
		first = Min((uint64) line.len, audit_buf_size - off);
		memcpy(audit->buf + off, line.data, first);
		if (first < (size_t) line.len)
			memcpy(audit->buf, line.data + first, line.len - first);
		audit->buf_head += line.len;
		wake = audit->sync_latch != NULL &&
			audit->buf_head - audit->buf_tail > audit_buf_size / 2;
	}
	else
	{
		/* straight to the file (after what waits in the buffer) */
		if (!audit_drain(elevel))
		{
			LWLockRelease(audit->lock);
			return;
		}
		fd = audit_open_segment(audit->seg_first, elevel);
		if (fd < 0)
		{
			LWLockRelease(audit->lock);
			return;
		}
		errno = 0;
		n = write(fd, line.data, line.len);
		if (n != line.len)
		{
			int			save_errno = errno ? errno : ENOSPC;

			/* take back a partial line so that the chain stays well formed */
			if (n > 0 && ftruncate(fd, audit->seg_written) < 0)
				ereport(LOG,
						(errcode_for_file_access(),
						 errmsg("could not truncate a partial audit record: %m")));
			LWLockRelease(audit->lock);
			errno = save_errno;
			ereport(elevel,
					(errcode_for_file_access(),
					 errmsg("could not write access audit record: %m"),
					 errdetail("The statement read audited data and cannot complete without its audit record."),
					 errhint("Free disk space in the data directory.")));
			return;
		}
		audit->seg_written += line.len;
	}
	audit->head_seq = seq;
	memcpy(audit->head_hash, hash, AUDIT_HASH_LEN);
	audit->head_at = at;
	audit->seg_size += line.len;
	LWLockRelease(audit->lock);
	if (wake)
		SetLatch(audit->sync_latch);

	pfree(body.data);
	pfree(line.data);

	/* durability policy */
	if (audit_sync_interval == 0)
	{
		/* written straight to the file above */
		if (pg_fsync(fd) != 0)
		{
			ereport(data_sync_elevel(elevel),
					(errcode_for_file_access(),
					 errmsg("could not fsync access audit segment: %m")));
			return;
		}
		SpinLockAcquire(&audit->mutex);
		if (seq > audit->synced_seq)
			audit->synced_seq = seq;
		SpinLockRelease(&audit->mutex);
	}
	else
	{
		SpinLockAcquire(&audit->mutex);
		if (audit->synced_seq < seq &&
			TimestampDifferenceExceeds(audit->last_sync_at, at, 2 * audit_sync_interval))
		{
			/* the sync worker is late or gone: do its job once */
			audit->last_sync_at = at;
			need_sync = true;
		}
		SpinLockRelease(&audit->mutex);
		if (need_sync)
			audit_sync(true, data_sync_elevel(elevel));
	}
}


/* ------------------------------------------------------------------------
 * Initialisation
 * ------------------------------------------------------------------------
 */

/*
 * pubdata_audit_init
 *		GUCs always; shared memory and the sync worker when preloaded.
 */
void
pubdata_audit_init(void)
{
	BackgroundWorker worker;

	DefineCustomBoolVariable("pubdata.audit",
							 "Records reads of restricted and non-shared resources in the access audit.",
							 "Only superusers can change it; off is meant for benchmarks.",
							 &pubdata_audit_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.audit_sync_interval",
							"Longest time an access audit record stays in the kernel before it is fsynced.",
							"This bounds what a power failure can lose; 0 fsyncs every record before the statement returns.",
							&audit_sync_interval,
							1000, 0, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.audit_buffer",
							"Shared memory for access audit records on their way to the segment files.",
							"A record is copied here before its statement returns and written out by the sync worker, "
							"a reader of the log, or the postmaster (at shutdown and after a crash); 0 writes each record itself.",
							&audit_buffer_kb,
							1024, 0, 1024 * 1024,
							pubdata_startup_context(),
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.audit_segment_size",
							"Size at which the access audit starts a new segment file.",
							NULL,
							&audit_segment_size,
							16384, 1, 256 * 1024,
							PGC_SIGHUP,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	if (!pubdata_preloaded)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = audit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = audit_shmem_startup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_PostmasterStart;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "pubdata", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "pubdata_audit_sync_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "pubdata audit sync", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "pubdata audit sync", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}


/* ------------------------------------------------------------------------
 * SQL interface
 * ------------------------------------------------------------------------
 */

/*
 * audit_flush_for_reader
 *		See audit_store.h.
 */
uint64
audit_flush_for_reader(void)
{
	uint64		head = 0;

	if (audit != NULL && audit->available && IsUnderPostmaster)
	{
		LWLockAcquire(audit->lock, LW_EXCLUSIVE);
		(void) audit_drain(WARNING);
		head = audit->head_seq;
		LWLockRelease(audit->lock);
	}
	return head;
}

/* Callback type for audit_scan: one record, its raw line and position. */
typedef void (*AuditRecordCallback) (void *arg, uint64 segment, size_t offset,
									 const char *raw, AuditRecord *rec, bool parsed);

/*
 * audit_scan
 *		Read all segments in order and call cb for every complete line.
 *		Returns the segments' number.  Stops early when cb sets *stop.
 */
static int
audit_scan(AuditRecordCallback cb, void *arg, bool *stop, bool *partial_tail,
		   uint64 start_seg, size_t start_off)
{
	uint64	   *segs;
	int			nsegs;
	int			i;
	MemoryContext tmp,
				old;

	/* what waits in the buffer is part of the log */
	if (audit != NULL && audit->available && IsUnderPostmaster)
	{
		LWLockAcquire(audit->lock, LW_EXCLUSIVE);
		(void) audit_drain(WARNING);
		LWLockRelease(audit->lock);
	}
	tmp = AllocSetContextCreate(CurrentMemoryContext, "pubdata audit scan",
								ALLOCSET_DEFAULT_SIZES);
	segs = audit_list_segments(&nsegs, ERROR);
	*partial_tail = false;
	for (i = 0; i < nsegs && !*stop; i++)
	{
		char		path[MAXPGPATH];
		char	   *buf;
		size_t		len,
					pos = 0;

		if (segs[i] < start_seg)
			continue;			/* before the verified prefix's end */
		old = MemoryContextSwitchTo(tmp);
		audit_seg_path(path, sizeof(path), segs[i]);
		buf = audit_read_file(path, &len, ERROR);
		if (segs[i] == start_seg)
			pos = Min(start_off, len);
		while (pos < len && !*stop)
		{
			char	   *nl = memchr(buf + pos, '\n', len - pos);
			size_t		llen;
			char	   *raw;
			char	   *copy;
			AuditRecord rec;
			bool		parsed;

			if (nl == NULL)
			{
				*partial_tail = true;
				break;
			}
			llen = nl - (buf + pos);
			raw = buf + pos;
			*nl = '\0';
			copy = pnstrdup(raw, llen);
			memset(&rec, 0, sizeof(rec));
			parsed = audit_parse_line(copy, llen, &rec);
			cb(arg, segs[i], pos, raw, &rec, parsed);
			pfree(copy);
			pos += llen + 1;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(tmp);
	}
	MemoryContextDelete(tmp);
	pfree(segs);
	return nsegs;
}

/*
 * The verified prefix ("verified", beside the state file): the last record a
 * verification found intact, where it lies, and a CRC.  An incremental
 * verification starts after it; it is tamper-evident in that it names a
 * record of the chain by seq and hash: every verification checks that the
 * log still holds that record with that hash (a full one also that the
 * prefix up to it links), and a damaged file makes the incremental check
 * verify the whole chain and say so.
 */
#define AUDIT_VERIFIED_FILE	"pg_pubdata/audit/verified"
#define AUDIT_VERIFIED_MAGIC 0x50445646	/* "PDVF" */

typedef struct AuditCheckpoint
{
	uint32		magic;
	uint32		version;
	uint64		seq;
	uint8		hash[AUDIT_HASH_LEN];
	uint8		prev[AUDIT_HASH_LEN];	/* the hash before it: its link is
										 * checked again */
	TimestampTz at;
	uint64		segment;		/* the segment holding record seq */
	uint64		offset;			/* byte after record seq's line in it */
	TimestampTz verified_at;
	pg_crc32c	crc;			/* of the bytes before it */
} AuditCheckpoint;

/*
 * audit_read_checkpoint
 *		0: no verified prefix; 1: read; -1: the file is damaged.
 */
static int
audit_read_checkpoint(AuditCheckpoint *cp)
{
	int			fd;
	ssize_t		n;
	pg_crc32c	crc;

	fd = BasicOpenFile(AUDIT_VERIFIED_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return 0;
	n = read(fd, cp, sizeof(AuditCheckpoint));
	close(fd);
	if (n != sizeof(AuditCheckpoint))
		return -1;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, cp, offsetof(AuditCheckpoint, crc));
	FIN_CRC32C(crc);
	if (cp->magic != AUDIT_VERIFIED_MAGIC || cp->version != 1 ||
		!EQ_CRC32C(crc, cp->crc) || cp->seq == 0)
		return -1;
	return 1;
}

/*
 * audit_write_checkpoint
 *		Remember the verified prefix (written aside, fsynced, renamed into
 *		place); a failure is a warning: the next check just does more work.
 */
static void
audit_write_checkpoint(uint64 seq, const uint8 *hash, const uint8 *prev,
					   TimestampTz at, uint64 segment, uint64 offset)
{
	AuditCheckpoint cp;
	int			fd;
	const char *tmp = AUDIT_VERIFIED_FILE ".tmp";

	memset(&cp, 0, sizeof(cp));
	cp.magic = AUDIT_VERIFIED_MAGIC;
	cp.version = 1;
	cp.seq = seq;
	memcpy(cp.hash, hash, AUDIT_HASH_LEN);
	memcpy(cp.prev, prev, AUDIT_HASH_LEN);
	cp.at = at;
	cp.segment = segment;
	cp.offset = offset;
	cp.verified_at = GetCurrentTimestamp();
	INIT_CRC32C(cp.crc);
	COMP_CRC32C(cp.crc, &cp, offsetof(AuditCheckpoint, crc));
	FIN_CRC32C(cp.crc);

	fd = BasicOpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0 || write(fd, &cp, sizeof(cp)) != sizeof(cp) || pg_fsync(fd) != 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write the verified audit prefix \"%s\": %m", tmp),
				 errdetail("The next incremental verification starts from the previous one.")));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	(void) durable_rename(tmp, AUDIT_VERIFIED_FILE, WARNING);
}

/* state for pubdata_verify_audit_chain */
typedef struct VerifyScan
{
	uint64		expected;		/* next seq expected */
	uint8		prev[AUDIT_HASH_LEN];
	int64		records;
	int64		problems;
	uint64		first_broken;
	StringInfoData detail;
	uint64		last_seq;
	uint8		last_hash[AUDIT_HASH_LEN];
	TimestampTz last_at;		/* time of the previous record */
	uint64		last_segment;	/* where the last record lies */
	size_t		last_end;		/* byte after its line */
	uint64		cur_segment;	/* segment of the previous line */
	bool		head_known;
	uint64		head_seq;
	uint8		head_hash[AUDIT_HASH_LEN];
	bool		head_found;
	bool		state_valid;
	AuditStateFile state;
	bool		state_found;
	bool		anchor;
	uint64		anchor_seq;
	uint8		anchor_hash[AUDIT_HASH_LEN];
	bool		anchor_found;
	bool		checkpoint_valid;	/* a verified prefix to check against */
	AuditCheckpoint checkpoint;
	bool		checkpoint_found;
	uint64		durable_seq;	/* records up to here were fsynced */
	uint64		cp_seq;			/* the last durable record verified */
	uint8		cp_hash[AUDIT_HASH_LEN];
	uint8		cp_prev[AUDIT_HASH_LEN];
	TimestampTz cp_at;
	uint64		cp_segment;
	size_t		cp_end;
	bool	   *stop;
} VerifyScan;

static void verify_problem(VerifyScan *v, uint64 seq, const char *fmt,...) pg_attribute_printf(3, 4);

/*
 * verify_problem
 *		Note a broken link; the first one is described in detail.
 */
static void
verify_problem(VerifyScan *v, uint64 seq, const char *fmt,...)
{
	v->problems++;
	if (v->problems == 1)
	{
		va_list		ap;

		v->first_broken = seq;
		for (;;)
		{
			int			needed;

			va_start(ap, fmt);
			needed = appendStringInfoVA(&v->detail, fmt, ap);
			va_end(ap);
			if (needed == 0)
				break;
			enlargeStringInfo(&v->detail, needed);
		}
	}
}

/*
 * verify_cb
 *		Check one line against the chain so far.
 */
static void
verify_cb(void *arg, uint64 segment, size_t offset, const char *raw,
		  AuditRecord *rec, bool parsed)
{
	VerifyScan *v = (VerifyScan *) arg;
	uint8		computed[AUDIT_HASH_LEN];
	bool		first_in_segment = (segment != v->cur_segment);

	v->cur_segment = segment;
	if (!parsed)
	{
		verify_problem(v, v->expected,
					   "malformed record in segment %020llu at byte %zu (after record " UINT64_FORMAT ")",
					   (unsigned long long) segment, offset, v->expected - 1);
		return;
	}
	v->records++;
	audit_sha256(v->prev, raw, rec->hashed_len, computed);

	if (rec->seq != v->expected)
	{
		if (rec->seq == v->expected + 1)
			verify_problem(v, v->expected,
						   "record " UINT64_FORMAT " is missing: record " UINT64_FORMAT " follows record " UINT64_FORMAT " (segment %020llu, byte %zu)",
						   v->expected, rec->seq, v->expected - 1,
						   (unsigned long long) segment, offset);
		else if (rec->seq > v->expected)
			verify_problem(v, v->expected,
						   "records " UINT64_FORMAT " to " UINT64_FORMAT " are missing: record " UINT64_FORMAT " follows record " UINT64_FORMAT " (segment %020llu, byte %zu)",
						   v->expected, rec->seq - 1, rec->seq, v->expected - 1,
						   (unsigned long long) segment, offset);
		else
			verify_problem(v, v->expected,
						   "record " UINT64_FORMAT " appears after record " UINT64_FORMAT ": records were inserted, duplicated or reordered (segment %020llu, byte %zu)",
						   rec->seq, v->expected - 1, (unsigned long long) segment, offset);
	}
	else if (memcmp(computed, rec->hash, AUDIT_HASH_LEN) != 0)
		verify_problem(v, rec->seq,
					   "record " UINT64_FORMAT " does not match its hash: it was altered, or the record before it was (segment %020llu, byte %zu)",
					   rec->seq, (unsigned long long) segment, offset);
	else if (first_in_segment && rec->seq != segment)
		verify_problem(v, rec->seq,
					   "segment %020llu begins with record " UINT64_FORMAT ": segment files were renamed",
					   (unsigned long long) segment, rec->seq);

	if (v->state_valid && rec->seq == v->state.seq)
	{
		v->state_found = true;
		if (memcmp(rec->hash, v->state.hash, AUDIT_HASH_LEN) != 0)
			verify_problem(v, rec->seq,
						   "record " UINT64_FORMAT " differs from the durable head kept in the state file: the log was rewritten",
						   rec->seq);
	}
	if (v->anchor && rec->seq == v->anchor_seq)
	{
		v->anchor_found = true;
		if (memcmp(rec->hash, v->anchor_hash, AUDIT_HASH_LEN) != 0)
			verify_problem(v, rec->seq,
						   "record " UINT64_FORMAT " does not match the anchor hash given: the log was rewritten since the anchor was taken",
						   rec->seq);
	}

	if (v->checkpoint_valid && rec->seq == v->checkpoint.seq)
	{
		v->checkpoint_found = true;
		if (memcmp(rec->hash, v->checkpoint.hash, AUDIT_HASH_LEN) != 0)
			verify_problem(v, rec->seq,
						   "record " UINT64_FORMAT " differs from the verified prefix remembered: the log was rewritten after it was verified, or the remembered prefix was replaced",
						   rec->seq);
	}
	/* the time index of filtered reads relies on monotone times */
	if (v->last_seq != 0 && rec->at < v->last_at)
		verify_problem(v, rec->seq,
					   "record " UINT64_FORMAT " is dated before the record preceding it (segment %020llu, byte %zu)",
					   rec->seq, (unsigned long long) segment, offset);

	/* resynchronise on this record to find further problems */
	if (rec->seq <= v->durable_seq)
		memcpy(v->cp_prev, v->prev, AUDIT_HASH_LEN);
	memcpy(v->prev, rec->hash, AUDIT_HASH_LEN);
	v->expected = rec->seq + 1;
	v->last_seq = rec->seq;
	memcpy(v->last_hash, rec->hash, AUDIT_HASH_LEN);
	v->last_at = rec->at;
	v->last_segment = segment;
	v->last_end = offset + strlen(raw) + 1;
	if (rec->seq <= v->durable_seq)
	{
		/* a prefix may end only where a power failure cannot cut */
		v->cp_seq = rec->seq;
		memcpy(v->cp_hash, rec->hash, AUDIT_HASH_LEN);
		v->cp_at = rec->at;
		v->cp_segment = segment;
		v->cp_end = v->last_end;
	}

	if (v->head_known && rec->seq == v->head_seq)
	{
		v->head_found = true;
		if (memcmp(rec->hash, v->head_hash, AUDIT_HASH_LEN) != 0)
			verify_problem(v, rec->seq,
						   "record " UINT64_FORMAT " differs from the chain head held in shared memory: the log was rewritten",
						   rec->seq);
		*v->stop = true;		/* later records are being written now */
	}
}

static Datum audit_verify(FunctionCallInfo fcinfo, bool incremental);

PG_FUNCTION_INFO_V1(pubdata_verify_audit_chain);

/*
 * pubdata.verify_audit_chain(anchor_seq bigint, anchor_hash text)
 *		returns (ok, records, first_broken_seq, detail)
 *
 * Recomputes every link of the chain, and checks that the log reaches the
 * head held in shared memory, the durable head in the state file and, when
 * given, an externally kept anchor (from pubdata.audit_chain_head()).
 */
Datum
pubdata_verify_audit_chain(PG_FUNCTION_ARGS)
{
	return audit_verify(fcinfo, false);
}

PG_FUNCTION_INFO_V1(pubdata_verify_audit_chain_incremental);

/*
 * pubdata.verify_audit_chain_incremental()
 *		returns (ok, records, first_broken_seq, detail)
 *
 * Verifies the records after the verified prefix remembered by the last
 * verification that found the chain intact: that they link to it, that it
 * is still in the log with the hash remembered, and that the log reaches the
 * heads in shared memory and in the state file.  Without a prefix (or with
 * a damaged one) it verifies the whole chain.
 */
Datum
pubdata_verify_audit_chain_incremental(PG_FUNCTION_ARGS)
{
	return audit_verify(fcinfo, true);
}

/*
 * audit_verify
 *		The verification behind both SQL functions; see them.
 */
static Datum
audit_verify(FunctionCallInfo fcinfo, bool incremental)
{
	VerifyScan	v;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4];
	bool		stop = false;
	bool		partial;
	int			nsegs;
	int			cp_status;
	bool		from_prefix = false;
	uint64		start_seg = 0;
	size_t		start_off = 0;
	StringInfoData note;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&v, 0, sizeof(v));
	v.expected = 1;
	v.cur_segment = 0;
	v.stop = &stop;
	initStringInfo(&v.detail);

	initStringInfo(&note);
	if (!incremental && (!PG_ARGISNULL(0) || !PG_ARGISNULL(1)))
	{
		char	   *h;

		if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("anchor_seq and anchor_hash must be given together"),
					 errhint("Pass both values returned by pubdata.audit_chain_head(), or neither.")));
		h = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (PG_GETARG_INT64(0) <= 0 || !audit_hex_decode(h, v.anchor_hash))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid audit chain anchor (" INT64_FORMAT ", \"%s\")",
							PG_GETARG_INT64(0), h),
					 errdetail("The seq must be positive and the hash 64 lower-case hex digits."),
					 errhint("Use the seq and hash returned by pubdata.audit_chain_head().")));
		v.anchor = true;
		v.anchor_seq = (uint64) PG_GETARG_INT64(0);
	}

	if (audit != NULL)
	{
		LWLockAcquire(audit->lock, LW_SHARED);
		v.head_known = audit->available;
		v.head_seq = audit->head_seq;
		memcpy(v.head_hash, audit->head_hash, AUDIT_HASH_LEN);
		LWLockRelease(audit->lock);
	}
	v.state_valid = audit_read_state(&v.state);
	v.durable_seq = PG_UINT64_MAX;
	if (audit != NULL)
	{
		SpinLockAcquire(&audit->mutex);
		v.durable_seq = audit->synced_seq;
		SpinLockRelease(&audit->mutex);
	}
	cp_status = audit_read_checkpoint(&v.checkpoint);
	v.checkpoint_valid = (cp_status == 1);
	if (cp_status < 0 && incremental)
		verify_problem(&v, 0, "the verified prefix remembered in \"%s\" is damaged: the whole chain was verified (a full verification that finds it intact remembers a new one)",
					   AUDIT_VERIFIED_FILE);
	else if (cp_status < 0)
		appendStringInfo(&note, "; the damaged verified prefix in \"%s\" was replaced", AUDIT_VERIFIED_FILE);
	if (incremental && v.checkpoint_valid)
	{
		char		path[MAXPGPATH];
		char	   *buf;
		size_t		len;
		size_t		start;
		AuditRecord rec;

		/* the record that ends the prefix must still be there, unchanged */
		audit_seg_path(path, sizeof(path), v.checkpoint.segment);
		buf = audit_read_file(path, &len, WARNING);
		start = v.checkpoint.offset;
		if (buf != NULL && start > 0 && start <= len && buf[start - 1] == '\n')
		{
			char	   *line;
			uint8		computed[AUDIT_HASH_LEN];

			start--;
			while (start > 0 && buf[start - 1] != '\n')
				start--;
			line = pnstrdup(buf + start, v.checkpoint.offset - 1 - start);
			/* its link to the record before it is recomputed too */
			if (audit_parse_line(line, v.checkpoint.offset - 1 - start, &rec) &&
				rec.seq == v.checkpoint.seq &&
				memcmp(rec.hash, v.checkpoint.hash, AUDIT_HASH_LEN) == 0)
			{
				audit_sha256(v.checkpoint.prev, buf + start, rec.hashed_len, computed);
				from_prefix = (memcmp(computed, rec.hash, AUDIT_HASH_LEN) == 0);
			}
			pfree(line);
		}
		if (buf != NULL)
			pfree(buf);
		if (from_prefix)
		{
			v.expected = v.checkpoint.seq + 1;
			memcpy(v.prev, v.checkpoint.hash, AUDIT_HASH_LEN);
			v.last_seq = v.checkpoint.seq;
			memcpy(v.last_hash, v.checkpoint.hash, AUDIT_HASH_LEN);
			v.last_at = v.checkpoint.at;
			v.last_segment = v.checkpoint.segment;
			v.last_end = v.checkpoint.offset;
			v.cp_seq = v.checkpoint.seq;
			memcpy(v.cp_hash, v.checkpoint.hash, AUDIT_HASH_LEN);
			memcpy(v.cp_prev, v.checkpoint.prev, AUDIT_HASH_LEN);
			v.cp_at = v.checkpoint.at;
			v.cp_segment = v.checkpoint.segment;
			v.cp_end = v.checkpoint.offset;
			v.cur_segment = v.checkpoint.segment;
			v.checkpoint_found = true;
			start_seg = v.checkpoint.segment;
			start_off = v.checkpoint.offset;
			/* heads at or before the prefix's end: compared with it */
			if (v.head_known && v.head_seq <= v.checkpoint.seq)
			{
				v.head_found = true;
				if (v.head_seq == v.checkpoint.seq &&
					memcmp(v.head_hash, v.checkpoint.hash, AUDIT_HASH_LEN) != 0)
					verify_problem(&v, v.head_seq,
								   "record " UINT64_FORMAT " differs from the chain head held in shared memory: the log was rewritten",
								   v.head_seq);
			}
			if (v.state_valid && v.state.seq <= v.checkpoint.seq)
				v.state_found = true;
			if (v.head_found)
				stop = true;
			appendStringInfo(&note, "; verified from the remembered prefix ending at record " UINT64_FORMAT,
							 v.checkpoint.seq);
		}
		else
			verify_problem(&v, v.checkpoint.seq,
						   "record " UINT64_FORMAT " (the end of the verified prefix remembered) is missing from the log or differs from it: the log was rewritten",
						   v.checkpoint.seq);
	}

	nsegs = audit_scan(verify_cb, &v, &stop, &partial, start_seg, start_off);

	if (partial && !v.head_found)
		verify_problem(&v, v.expected,
					   "the last segment ends with an incomplete record after record " UINT64_FORMAT,
					   v.last_seq);
	if (v.head_known && v.head_seq > 0 && !v.head_found)
	{
		if (v.last_seq < v.head_seq)
			verify_problem(&v, v.last_seq + 1,
						   "the log ends at record " UINT64_FORMAT " but the chain head held in shared memory is record " UINT64_FORMAT ": the tail was truncated or segments were deleted",
						   v.last_seq, v.head_seq);
		else
			verify_problem(&v, v.head_seq,
						   "record " UINT64_FORMAT " (the chain head held in shared memory) is missing from the log",
						   v.head_seq);
	}
	if (v.state_valid && !v.state_found && v.state.seq > 0)
	{
		if (v.last_seq < v.state.seq)
			verify_problem(&v, v.last_seq + 1,
						   "the log ends at record " UINT64_FORMAT " but the state file records a durable head at record " UINT64_FORMAT ": the tail was truncated",
						   v.last_seq, v.state.seq);
		else
			verify_problem(&v, v.state.seq,
						   "record " UINT64_FORMAT " (the durable head in the state file) is missing from the log",
						   v.state.seq);
	}
	if (v.anchor && !v.anchor_found)
		verify_problem(&v, v.anchor_seq,
					   "record " UINT64_FORMAT " (the anchor given) is missing from the log",
					   v.anchor_seq);
	if (v.checkpoint_valid && !v.checkpoint_found)
		verify_problem(&v, v.checkpoint.seq,
					   "record " UINT64_FORMAT " (the end of the verified prefix remembered) is missing from the log",
					   v.checkpoint.seq);

	memset(nulls, 0, sizeof(nulls));
	values[0] = BoolGetDatum(v.problems == 0);
	values[1] = Int64GetDatum(v.records);
	if (v.problems == 0)
	{
		nulls[2] = true;
		resetStringInfo(&v.detail);
		if (v.last_seq == 0)
			appendStringInfoString(&v.detail, "the access audit log is empty");
		else
			appendStringInfo(&v.detail,
							 INT64_FORMAT " records in %d segment(s), chain intact from record " UINT64_FORMAT " to " UINT64_FORMAT "%s%s%s%s",
							 v.records, nsegs, from_prefix ? v.checkpoint.seq + 1 : 1, v.last_seq,
							 v.head_known ? "; it ends at the head held in shared memory" : "",
							 v.state_valid ? "; the durable head in the state file matches" : "",
							 v.anchor ? "; the anchor matches" : "", note.data);
		/* remember the verified prefix for the next incremental check */
		if (v.cp_seq > 0 && v.cp_segment != 0 &&
			(!v.checkpoint_valid || v.cp_seq != v.checkpoint.seq))
			audit_write_checkpoint(v.cp_seq, v.cp_hash, v.cp_prev, v.cp_at,
								   v.cp_segment, v.cp_end);
	}
	else
	{
		values[2] = Int64GetDatum((int64) v.first_broken);
		if (v.problems > 1)
			appendStringInfo(&v.detail, " (" INT64_FORMAT " problems in all)", v.problems);
	}
	values[3] = CStringGetTextDatum(v.detail.data);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pubdata_audit_chain_head);

/*
 * pubdata.audit_chain_head() returns (seq, hash, at, synced_seq, segment)
 *		The current head of the chain, to be kept outside the server (the
 *		province, a notary, paper) as an anchor for verify_audit_chain().
 */
Datum
pubdata_audit_chain_head(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5];
	uint64		seq,
				seg,
				synced;
	uint8		hash[AUDIT_HASH_LEN];
	char		hex[AUDIT_HASH_LEN * 2 + 1];
	char		segname[32];
	TimestampTz at;

	pubdata_require_preload("pubdata.audit_chain_head()");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	LWLockAcquire(audit->lock, LW_SHARED);
	seq = audit->head_seq;
	memcpy(hash, audit->head_hash, AUDIT_HASH_LEN);
	at = audit->head_at;
	seg = audit->seg_first;
	LWLockRelease(audit->lock);
	SpinLockAcquire(&audit->mutex);
	synced = audit->synced_seq;
	SpinLockRelease(&audit->mutex);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum((int64) seq);
	audit_hex_encode(hash, hex);
	values[1] = CStringGetTextDatum(hex);
	values[2] = TimestampTzGetDatum(at);
	nulls[2] = (seq == 0);
	values[3] = Int64GetDatum((int64) Min(synced, seq));
	snprintf(segname, sizeof(segname), "%020llu" AUDIT_SEG_SUFFIX, (unsigned long long) seg);
	values[4] = CStringGetTextDatum(segname);
	nulls[4] = (seg == 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
