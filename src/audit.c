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
 * durable.  The launcher anchors the durable head outside the directory
 * (audit_anchor.c); the last anchor is also the file "pg_pubdata/anchor",
 * written here at a clean shutdown.
 *
 * No silent restart (issue 19): recovery compares the log with the state
 * file, the anchor file and itself (each segment begins right after the
 * record ending the one before, or with a gap record).  What is missing or
 * inconsistent is a WARNING, a report the launcher turns into an alert, and
 * a gap record; when the state file or the anchor proves records beyond the
 * files' end, the chain continues after them, so that no seq is used twice
 * and the gap stays visible in the chain for good.
 *
 * Records that are not reads ("events": no resource, an outcome of its own)
 * are written here too: gaps, changes of pubdata.audit / pubdata.guard
 * (audit_settings.c), and the count of reads made while either was off
 * (kept in shared memory, handed to the next record).
 *
 * Verification is in audit_verify.c; filtered reads (audit_query.c) rely on
 * times being monotone along the chain, which verification checks too.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_anchor.h"
#include "audit_settings.h"
#include "audit_ship.h"
#include "audit_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_control.h"
#include "common/controldata_utils.h"
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
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#define AUDIT_PARENT_DIR	"pg_pubdata"
#define AUDIT_STATE_FILE	"pg_pubdata/audit/head"
#define AUDIT_SEG_SUFFIX	".log"
#define AUDIT_NFIELDS_V1	13	/* fields of a 0.1 record line, hash included */
#define AUDIT_NFIELDS		17	/* fields of a record line, hash included */
#define AUDIT_STATE_SIZE	512
#define AUDIT_STATE_MAGIC	0x50444144	/* "PDAD" */
#define AUDIT_STATE_VERSION 1
#define AUDIT_ANCHOR_FILE	"pg_pubdata/anchor"	/* outside the audit directory */

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

	/* what recovery found missing, for the launcher's alert (under lock) */
	AuditLossReport loss;
	uint32		loss_alerted;	/* generation of the last report alerted */
	uint64		recovered_seq;	/* the head when shared memory was set up */
	uint8		file_settings;	/* pubdata.audit/guard as the configuration
								 * file has them, last recorded (bits) */

	/* audited reads not recorded because pubdata.audit or .guard was off */
	pg_atomic_uint64 unrecorded;

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

/* the cluster's system identifier (pg_control), for the final anchor's log line */
static uint64 audit_system_identifier = 0;

/* this process's descriptor for the current segment */
static int	audit_fd = -1;
static uint64 audit_fd_seg = 0;

PGDLLEXPORT void pubdata_audit_sync_main(Datum arg);

static void audit_shmem_request(void);
static void audit_shmem_startup(void);
static void audit_shmem_shutdown(int code, Datum arg);
static uint64 audit_append(const PubdataAccess *a, TimestampTz given_at, const AuditAnchor *jump);
static void audit_check_recovered(bool had_segments);


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
	audit_seg_path_in(AUDIT_DIR, path, size, seq);
}

/*
 * audit_seg_path_in
 *		The same in another chain's directory (a shipped chain's).
 */
void
audit_seg_path_in(const char *dir, char *path, size_t size, uint64 seq)
{
	snprintf(path, size, "%s/%020llu" AUDIT_SEG_SUFFIX, dir,
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
 * audit_field_str / audit_field_int / audit_field_uint
 *		One field of a record and the tab after it.
 */
static inline void
audit_field_str(StringInfo s, const char *v)
{
	audit_append_escaped(s, v);
	appendStringInfoCharMacro(s, '\t');
}

static inline void
audit_field_int(StringInfo s, int64 v)
{
	audit_append_int(s, v);
	appendStringInfoCharMacro(s, '\t');
}

static inline void
audit_field_uint(StringInfo s, uint64 v)
{
	audit_append_uint(s, v);
	appendStringInfoCharMacro(s, '\t');
}

/*
 * audit_sha256
 *		out = SHA-256(prev || data).  The digest is fetched from OpenSSL once
 *		per backend and its context reused: pg_cryptohash initialises through
 *		EVP_sha256(), which makes OpenSSL look the algorithm up again (a
 *		locked property query) at every record, and that cost more than the
 *		hashing itself.
 */
void
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
	return audit_list_segments_in(AUDIT_DIR, count, elevel);
}

/*
 * audit_list_segments_in
 *		The same for the chain in directory path (a shipped chain's).
 */
uint64 *
audit_list_segments_in(const char *path, int *count, int elevel)
{
	DIR		   *dir;
	struct dirent *de;
	uint64	   *segs;
	int			n = 0,
				cap = 16;

	segs = palloc(cap * sizeof(uint64));
	dir = AllocateDir(path);
	if (dir == NULL && errno == ENOENT)
	{
		/* never preloaded: nothing was ever recorded */
		*count = 0;
		return segs;
	}
	while ((de = ReadDirExtended(dir, path, elevel)) != NULL)
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
bool
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
 * audit_note_problem
 *		Add one finding to the text recovery reports, and the records it
 *		proves lost (first..last, 0: none) to the range.
 */
static void
audit_note_problem(StringInfo problems, uint64 *first_lost, uint64 *last_lost,
				   uint64 first, uint64 last, const char *fmt,...)
pg_attribute_printf(6, 7);

static void
audit_note_problem(StringInfo problems, uint64 *first_lost, uint64 *last_lost,
				   uint64 first, uint64 last, const char *fmt,...)
{
	va_list		ap;

	if (problems->len > 0)
		appendStringInfoString(problems, "; ");
	for (;;)
	{
		int			needed;

		va_start(ap, fmt);
		needed = appendStringInfoVA(problems, fmt, ap);
		va_end(ap);
		if (needed == 0)
			break;
		enlargeStringInfo(problems, needed);
	}
	if (first > 0 && last >= first)
	{
		if (*first_lost == 0 || first < *first_lost)
			*first_lost = first;
		if (last > *last_lost)
			*last_lost = last;
	}
}

/*
 * audit_check_head
 *		A head kept apart from the segments (the state file's, the anchor
 *		file's) at or before the log's last record: that record must be in
 *		the log with that hash.
 */
static void
audit_check_head(StringInfo problems, uint64 *first_lost, uint64 *last_lost,
				 uint64 seq, const uint8 *hash, const char *what)
{
	uint8		found[AUDIT_HASH_LEN];
	int			r = audit_find_record(seq, found);

	if (r == 0)
		audit_note_problem(problems, first_lost, last_lost, seq, seq,
						   "record " UINT64_FORMAT " (%s) is missing from the log", seq, what);
	else if (r == 1 && memcmp(found, hash, AUDIT_HASH_LEN) != 0)
		audit_note_problem(problems, first_lost, last_lost, 0, 0,
						   "record " UINT64_FORMAT " differs from %s: the log was rewritten", seq, what);
}

/*
 * audit_check_segments
 *		Segments follow each other: each begins right after the record that
 *		ends the one before (record 1 for the first), or with a gap record
 *		stating why not.  Reads a chunk at both ends of each segment.
 */
static void
audit_check_segments(StringInfo problems, uint64 *first_lost, uint64 *last_lost)
{
	uint64	   *segs;
	int			nsegs;
	int			i;
	uint64		prev_last = 0;
	uint64		prev_seg = 0;
	AuditAnchor pruned;
	int			pr = audit_read_pruned(AUDIT_DIR, &pruned);

	/* archived and pruned: the live log begins after the pruned prefix */
	if (pr > 0)
		prev_last = pruned.seq;
	else if (pr < 0)
		audit_note_problem(problems, first_lost, last_lost, 0, 0,
						   "the pruned prefix file \"pg_pubdata/audit/pruned\" is damaged");
	segs = audit_list_segments(&nsegs, LOG);
	for (i = 0; i < nsegs; i++)
	{
		AuditEdge	first,
					last;

		if (!audit_segment_edges(segs[i], &first, &last))
		{
			audit_note_problem(problems, first_lost, last_lost, 0, 0,
							   "segment %020llu cannot be read", (unsigned long long) segs[i]);
			continue;
		}
		/* left by a prune cut short: archived, removed by the next one */
		if (pr > 0 && last.seq != 0 && last.seq <= pruned.seq && i < nsegs - 1)
			continue;
		if (first.seq == 0)
		{
			/* only the current segment may be empty (created, not yet written) */
			if (i < nsegs - 1)
				audit_note_problem(problems, first_lost, last_lost, 0, 0,
								   "segment %020llu holds no record", (unsigned long long) segs[i]);
			continue;
		}
		if (!first.gap && first.seq > prev_last + 1)
		{
			if (prev_seg == 0)
				audit_note_problem(problems, first_lost, last_lost, prev_last + 1, first.seq - 1,
								   "records " UINT64_FORMAT " to " UINT64_FORMAT " are missing: the first segment is %020llu",
								   prev_last + 1, first.seq - 1, (unsigned long long) segs[i]);
			else
				audit_note_problem(problems, first_lost, last_lost, prev_last + 1, first.seq - 1,
								   "records " UINT64_FORMAT " to " UINT64_FORMAT " are missing between segments %020llu and %020llu",
								   prev_last + 1, first.seq - 1,
								   (unsigned long long) prev_seg, (unsigned long long) segs[i]);
		}
		prev_last = last.seq;
		prev_seg = segs[i];
	}
	pfree(segs);
}

/*
 * audit_check_recovered
 *		Called by audit_recover once the head was found at the tail of the
 *		files: compare the log with what is kept apart from the segments
 *		(the state file, the anchor file) and with itself (segments that
 *		follow each other).  Whatever is missing or inconsistent is a
 *		WARNING, a loss report for the launcher's alert and a gap record;
 *		when an anchor or the state file proves records beyond the files'
 *		end, the chain continues after them, so that no seq is used twice.
 *		Runs in the postmaster: never raises an error.
 */
static void
audit_check_recovered(bool had_segments)
{
	AuditStateFile st;
	bool		have_state;
	bool		state_exists;
	struct stat sb;
	AuditAnchor an;
	AuditAnchor jump;
	bool		jumping = false;
	uint64		files_seq = audit->head_seq;
	uint64		first_lost = 0,
				last_lost = 0;
	StringInfoData problems;
	uint64		gap_seq;
	bool		copy;

	initStringInfo(&problems);
	memset(&jump, 0, sizeof(jump));
	state_exists = (stat(AUDIT_STATE_FILE, &sb) == 0);
	have_state = audit_read_state(&st);
	copy = audit_dir_is_copy();

	/*
	 * A copy of another server's data directory (pg_basebackup, or any copy
	 * the identity file shows): the state file and the segments were copied
	 * at different moments, so the state file may be missing, torn, or
	 * ahead of the copied segments by the records the source wrote in
	 * between.  Those records are the source's, not lost: this server's
	 * chain goes on from the last record of its segments (its fork, see
	 * audit_ship.c), and its state file is made to say so.  A state file
	 * behind the segments is still checked, and so are the segments.
	 */
	if (copy && files_seq > 0 && (!have_state || st.seq > files_seq))
	{
		ereport(LOG,
				(errmsg("pubdata: starting from a copy of another server: the audit state file %s; the chain continues from record " UINT64_FORMAT ", the last one copied",
						!state_exists ? "was not copied" : !have_state ? "was copied in the middle of a write" :
						psprintf("was copied after the segments (it records " UINT64_FORMAT ")", st.seq),
						files_seq),
				 errdetail("A base backup copies the audit files at different moments; the records after " UINT64_FORMAT " are the source server's.",
						   files_seq)));
		if (audit_write_state(files_seq, audit->head_hash, audit->head_at, audit->seg_first, LOG))
		{
			have_state = audit_read_state(&st);
			state_exists = true;
		}
	}

	/* the state file: the durable head, rewritten after every sync */
	if (!have_state && state_exists)
		audit_note_problem(&problems, &first_lost, &last_lost, 0, 0,
						   "the state file \"%s\" is damaged", AUDIT_STATE_FILE);
	else if (!have_state && had_segments)
		audit_note_problem(&problems, &first_lost, &last_lost, 0, 0,
						   "the state file \"%s\" is missing", AUDIT_STATE_FILE);
	else if (have_state && st.seq > files_seq)
	{
		audit_note_problem(&problems, &first_lost, &last_lost, files_seq + 1, st.seq,
						   "the log ends at record " UINT64_FORMAT " but its state file records " UINT64_FORMAT,
						   files_seq, st.seq);
		jumping = true;
		jump.seq = st.seq;
		memcpy(jump.hash, st.hash, AUDIT_HASH_LEN);
		jump.at = st.at;
	}
	else if (have_state && st.seq > 0)
		audit_check_head(&problems, &first_lost, &last_lost, st.seq, st.hash,
						 "the durable head in the state file");

	/*
	 * The anchor file.  A server started from a base backup (backup_label is
	 * there until the startup process reads it) has the source server's,
	 * which may be ahead of the copy of the directory taken before it: set
	 * it aside, this server anchors its own chain.
	 */
	if (stat("backup_label", &sb) == 0 && stat(AUDIT_ANCHOR_FILE, &sb) == 0)
	{
		if (unlink(AUDIT_ANCHOR_FILE) == 0)
			ereport(LOG,
					(errmsg("pubdata: starting from a base backup: the audit anchor file of the source server was removed"),
					 errdetail("This server anchors its own access audit chain from now on.")));
	}
	else if (audit_read_anchor_file(&an))
	{
		if (an.seq > files_seq && (!jumping || an.seq > jump.seq))
		{
			audit_note_problem(&problems, &first_lost, &last_lost, files_seq + 1, an.seq,
							   "the log ends at record " UINT64_FORMAT " but the anchor \"%s\" proves record " UINT64_FORMAT,
							   files_seq, AUDIT_ANCHOR_FILE, an.seq);
			jumping = true;
			jump = an;
		}
		else if (an.seq <= files_seq)
			audit_check_head(&problems, &first_lost, &last_lost, an.seq, an.hash,
							 "the anchor in " AUDIT_ANCHOR_FILE);
	}
	else if (stat(AUDIT_ANCHOR_FILE, &sb) == 0)
		audit_note_problem(&problems, &first_lost, &last_lost, 0, 0,
						   "the anchor file \"%s\" is damaged", AUDIT_ANCHOR_FILE);

	/* the segments themselves */
	audit_check_segments(&problems, &first_lost, &last_lost);

	audit->synced_seq = have_state ? Min(st.seq, files_seq) : 0;
	audit->state_seq = have_state ? st.seq : 0;
	audit->last_sync_at = GetCurrentTimestamp();
	if (problems.len == 0)
	{
		pfree(problems.data);
		return;
	}

	if (first_lost > 0)
		appendStringInfo(&problems, " (records " UINT64_FORMAT " to " UINT64_FORMAT " are gone)",
						 first_lost, last_lost);
	ereport(WARNING,
			(errmsg("pubdata: the access audit log is incomplete or inconsistent: %s", problems.data),
			 errdetail("Files under \"%s\" were removed, truncated, replaced or restored from an older copy, or a crash cut the log short.",
					   AUDIT_DIR),
			 errhint("%s pubdata.verify_audit_chain() reports it for good; see pubdata.audit_alerts.",
					 jumping ? "The chain continues after the last record known to have existed (no seq is used twice), with a gap record stating what was lost." :
					 "A gap record states it in the chain.")));
	gap_seq = audit_write_gap(jumping ? &jump : NULL, first_lost, last_lost, "STARTUP", problems.data);
	audit_report_loss(first_lost, last_lost, gap_seq, problems.data);
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

	/* every record archived and pruned: the chain goes on from the prefix */
	if (!found)
	{
		AuditAnchor pruned;

		if (audit_read_pruned(AUDIT_DIR, &pruned) > 0)
		{
			audit->head_seq = pruned.seq;
			memcpy(audit->head_hash, pruned.hash, AUDIT_HASH_LEN);
			audit->head_at = pruned.at;
		}
	}

	audit->recovered_seq = audit->head_seq;
	audit_check_recovered(nsegs > 0);
	audit->recovered_seq = audit->head_seq;
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
		pg_atomic_init_u64(&audit->unrecorded, 0);
		audit->file_settings = 3;	/* both on, as they are by default */
		if (audit_system_identifier == 0 && !IsUnderPostmaster)
		{
			bool		crc_ok;
			ControlFileData *cf = get_controlfile(DataDir, &crc_ok);

			audit_system_identifier = cf->system_identifier;
			pfree(cf);
		}
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
 *		in the state file; *durable (when given) gets that head.  Used by the
 *		sync worker, by a writer when the worker is late, by the launcher
 *		before it takes an anchor, and at the postmaster's clean exit (locked
 *		= false: nobody else is left).  False after reporting at elevel.
 */
static bool
audit_sync(bool locked, int elevel, AuditAnchor *durable)
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
		return false;
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
			return false;
		if (pg_fsync(fd) != 0)
		{
			ereport(elevel,
					(errcode_for_file_access(),
					 errmsg("could not fsync audit segment: %m")));
			return false;
		}
	}
	if (seq != state_seq && seq > 0)
	{
		if (!audit_write_state(seq, hash, at, seg, elevel))
			return false;
	}

	SpinLockAcquire(&audit->mutex);
	if (seq > audit->synced_seq)
		audit->synced_seq = seq;
	audit->state_seq = seq;
	audit->last_sync_at = GetCurrentTimestamp();
	SpinLockRelease(&audit->mutex);
	if (durable != NULL)
	{
		durable->seq = seq;
		memcpy(durable->hash, hash, AUDIT_HASH_LEN);
		durable->at = at;
		durable->taken_at = GetCurrentTimestamp();
	}
	return true;
}

/*
 * audit_shmem_shutdown
 *		on_shmem_exit callback of the postmaster: on a clean exit write out
 *		the buffer, fsync the log and the state file (all backends are gone
 *		by then) and anchor the final head (the anchor file and the server
 *		log); at the reset after a child crashed, write out the buffer, which
 *		recovery then reads back from the files.
 */
static void
audit_shmem_shutdown(int code, Datum arg)
{
	AuditAnchor durable;

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
	if (audit_sync(false, LOG, &durable) && durable.seq > 0)
	{
		/* the final head, anchored outside the audit directory */
		(void) audit_write_anchor_file(&durable, LOG);
		audit_log_anchor(&durable, audit_system_identifier, "shutdown");
	}
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
	if (audit != NULL && audit->available)
		pubdata_audit_settings_configuration(true);

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
			if (audit != NULL && audit->available)
				pubdata_audit_settings_configuration(false);
		}
		if (audit != NULL && audit->available)
			(void) audit_sync(true, data_sync_elevel(ShutdownRequestPending ? LOG : ERROR), NULL);
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
 *		With pubdata.audit off the read is only counted; reads counted so
 *		far are stated by an event record just before this one.
 */
void
audit_record_at(const PubdataAccess *a, TimestampTz given_at)
{
	if (!pubdata_audit_enabled)
	{
		audit_note_unrecorded();
		return;
	}
	if (audit == NULL)
		pubdata_require_preload("the access audit");
	if (pg_atomic_read_u64(&audit->unrecorded) != 0)
		audit_write_event(a->role_name, "UNRECORDED", AUDIT_EVENT_UNRECORDED, 0,
						  "audited reads made while pubdata.audit or pubdata.guard was off");
	(void) audit_append(a, given_at, NULL);
}

/*
 * audit_note_unrecorded
 *		See audit_store.h: one atomic add, counted in the next record.
 */
void
audit_note_unrecorded(void)
{
	if (audit != NULL)
		pg_atomic_fetch_add_u64(&audit->unrecorded, 1);
}

/*
 * pubdata_audit_note_unrecorded
 *		See audit.h.
 */
void
pubdata_audit_note_unrecorded(void)
{
	audit_note_unrecorded();
}

/*
 * audit_write_event
 *		See audit_store.h.  A setting or unrecorded event takes the count of
 *		unrecorded reads into its own count; any other record is preceded by
 *		an unrecorded event when reads were counted.
 */
void
audit_write_event(const char *role_name, const char *command, const char *kind,
				  uint64 count, const char *detail)
{
	PubdataAccess ev;
	uint64		taken = 0;
	bool		merge = strcmp(kind, AUDIT_EVENT_GAP) != 0;

	if (audit == NULL)
		return;
	if (!merge && pg_atomic_read_u64(&audit->unrecorded) != 0)
		audit_write_event(role_name, "UNRECORDED", AUDIT_EVENT_UNRECORDED, 0,
						  "audited reads made while pubdata.audit or pubdata.guard was off");
	if (merge)
		taken = pg_atomic_exchange_u64(&audit->unrecorded, 0);
	memset(&ev, 0, sizeof(ev));
	ev.role_name = role_name ? role_name : "";
	ev.resources = "";
	ev.command = command;
	ev.rows = count + taken;
	ev.outcome = kind;
	ev.statement = detail;
	if (audit_append(&ev, 0, NULL) == 0 && taken > 0)
		pg_atomic_fetch_add_u64(&audit->unrecorded, taken);	/* for the next one */
}

/*
 * audit_write_gap
 *		See audit_store.h.
 */
uint64
audit_write_gap(const AuditAnchor *jump, uint64 first_lost, uint64 last_lost,
				const char *command, const char *text)
{
	PubdataAccess ev;

	if (audit == NULL || !audit->available)
		return 0;
	if (pg_atomic_read_u64(&audit->unrecorded) != 0)
		audit_write_event(NULL, "UNRECORDED", AUDIT_EVENT_UNRECORDED, 0,
						  "audited reads made while pubdata.audit or pubdata.guard was off");
	memset(&ev, 0, sizeof(ev));
	ev.role_name = "";
	ev.resources = "";
	ev.command = command;
	ev.rows = (first_lost > 0 && last_lost >= first_lost) ? last_lost - first_lost + 1 : 0;
	ev.outcome = AUDIT_EVENT_GAP;
	ev.statement = text;
	return audit_append(&ev, 0, jump);
}

/*
 * The record buffer: a backend builds its records in one buffer, kept from
 * record to record (a point lookup writes one per statement), after room
 * for the fields decided under the lock.
 */
#define AUDIT_PREFIX_ROOM	48	/* "seq<TAB>time<TAB>": 20 + 1 + 20 + 1 */
#define AUDIT_BUFFER_KEEP	(64 * 1024)	/* a larger buffer is not kept */

static StringInfoData audit_rec = {NULL, 0, 0, 0};

/*
 * audit_record_buffer
 *		The record buffer, emptied, with its room in front.
 */
static StringInfo
audit_record_buffer(void)
{
	if (audit_rec.data == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&audit_rec);
		MemoryContextSwitchTo(old);
	}
	audit_rec.len = AUDIT_PREFIX_ROOM;
	audit_rec.data[AUDIT_PREFIX_ROOM] = '\0';
	return &audit_rec;
}

/*
 * audit_record_buffer_done
 *		After a record: a buffer that a long statement made large goes.
 */
static void
audit_record_buffer_done(StringInfo buf)
{
	if (buf->maxlen > AUDIT_BUFFER_KEEP)
	{
		pfree(buf->data);
		buf->data = NULL;
		buf->len = buf->maxlen = 0;
	}
}

/*
 * audit_record_prefix
 *		Put seq and time in front of the body built in buf; returns the
 *		line's start, its length in *len.
 */
static char *
audit_record_prefix(StringInfo buf, uint64 seq, TimestampTz at, int *len)
{
	char		prefix[AUDIT_PREFIX_ROOM];
	int			n;
	char	   *start;

	n = pg_ulltoa_n(seq, prefix);
	prefix[n++] = '\t';
	n += pg_lltoa((int64) at, prefix + n);
	prefix[n++] = '\t';
	Assert(n <= AUDIT_PREFIX_ROOM);
	start = buf->data + AUDIT_PREFIX_ROOM - n;
	memcpy(start, prefix, n);
	*len = buf->len - (AUDIT_PREFIX_ROOM - n);
	return start;
}

/*
 * audit_append
 *		Append one record (a read or an event) dated at given_at (0: now):
 *		build, hash and hand it to the buffer or the file under the lock.
 *		With jump, the chain first continues from that anchor if the head is
 *		behind it (the gap record of records proven lost).  Returns the
 *		record's seq, or 0 after a problem reported as a WARNING (outside a
 *		transaction; inside one it is an ERROR: the audit is fail-closed).
 *		In the postmaster (recovery) the record goes straight to the file
 *		and is fsynced.
 */
static uint64
audit_append(const PubdataAccess *a, TimestampTz given_at, const AuditAnchor *jump)
{
	StringInfo	body;
	char	   *line;
	int			line_len;
	uint8		hash[AUDIT_HASH_LEN];
	uint64		seq;
	TimestampTz at;
	int			fd = -1;
	ssize_t		n;
	bool		need_sync = false;
	bool		wake = false;
	int			elevel;

	/*
	 * guard.c also records statements that failed, from its abort callback:
	 * there an error would recurse, so problems are reported as warnings.
	 */
	elevel = IsTransactionState() ? ERROR : WARNING;
	if (audit == NULL)
		pubdata_require_preload("the access audit");
	if (!audit->available)
		ereport(elevel,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the pubdata access audit is unavailable"),
				 errdetail("%s", audit->problem),
				 errhint("Fix the problem in the server log and restart the server; audited reads fail until then.")));
	if (!audit->available)
		return 0;

	/*
	 * Everything but seq, time and hash is built outside the lock, in this
	 * backend's record buffer, after room for "seq<TAB>time<TAB>": under the
	 * lock those go in front of it, so that the line is contiguous and
	 * nothing is copied but into the shared buffer.
	 */
	body = audit_record_buffer();
	audit_field_uint(body, MyDatabaseId);
	audit_field_str(body, a->role_name ? a->role_name : "");
	audit_field_int(body, a->department_id);
	audit_field_str(body, a->department_code);
	audit_field_str(body, a->resources ? a->resources : "");
	audit_field_int(body, a->grant_id);
	audit_field_str(body, a->purpose);
	audit_field_str(body, a->command ? a->command : "");
	audit_field_uint(body, a->query_id);
	audit_field_uint(body, a->rows);
	audit_field_str(body, a->grants);
	audit_field_str(body, a->outcome ? a->outcome : "ok");
	audit_field_str(body, a->statement);
	audit_field_str(body, a->masked);
	/* room for the hash and the newline */
	enlargeStringInfo(body, 2 * AUDIT_HASH_LEN + 1);

	at = given_at != 0 ? given_at : GetCurrentTimestamp();

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	if (jump != NULL && jump->seq > audit->head_seq)
	{
		/* continue after records proven lost: no seq is used twice */
		audit->head_seq = jump->seq;
		memcpy(audit->head_hash, jump->hash, AUDIT_HASH_LEN);
		if (jump->at > audit->head_at)
			audit->head_at = jump->at;
	}
	seq = audit->head_seq + 1;
	if (at < audit->head_at)
		at = audit->head_at;	/* keep time monotone (the clock read before the lock) */
	line = audit_record_prefix(body, seq, at, &line_len);
	audit_sha256(audit->head_hash, line, line_len, hash);
	audit_hex_encode(hash, line + line_len);
	line_len += 2 * AUDIT_HASH_LEN;
	line[line_len++] = '\n';

	if ((audit->seg_first == 0 ||
		 (audit->seg_size > 0 &&
		  audit->seg_size + line_len > (uint64) audit_segment_size * 1024)) &&
		!audit_new_segment(seq, elevel))
	{
		LWLockRelease(audit->lock);
		return 0;
	}
	if (audit_buf_size > 0 && (uint64) line_len <= audit_buf_size && audit_sync_interval > 0 &&
		IsUnderPostmaster)
	{
		uint64		off;
		size_t		first;

		/*
		 * Into the shared buffer: a copy, no system call.  From there the
		 * sync worker, any reader of the log, a writer that finds the buffer
		 * full, or the postmaster (at shutdown, and at the reset after any
		 * process crashed) writes it to the segment, in order.
		 */
		if (audit->buf_head - audit->buf_tail + line_len > audit_buf_size &&
			!audit_drain(elevel))
		{
			LWLockRelease(audit->lock);
			return 0;
		}
		off = audit->buf_head % audit_buf_size;
		first = Min((uint64) line_len, audit_buf_size - off);
		memcpy(audit->buf + off, line, first);
		if (first < (size_t) line_len)
			memcpy(audit->buf, line + first, line_len - first);
		audit->buf_head += line_len;
		wake = audit->sync_latch != NULL &&
			audit->buf_head - audit->buf_tail > audit_buf_size / 2;
	}
	else
	{
		/* straight to the file (after what waits in the buffer) */
		if (!audit_drain(elevel))
		{
			LWLockRelease(audit->lock);
			return 0;
		}
		fd = audit_open_segment(audit->seg_first, elevel);
		if (fd < 0)
		{
			LWLockRelease(audit->lock);
			return 0;
		}
		errno = 0;
		n = write(fd, line, line_len);
		if (n != line_len)
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
			return 0;
		}
		audit->seg_written += line_len;
	}
	audit->head_seq = seq;
	memcpy(audit->head_hash, hash, AUDIT_HASH_LEN);
	audit->head_at = at;
	audit->seg_size += line_len;
	LWLockRelease(audit->lock);
	if (wake)
		SetLatch(audit->sync_latch);

	audit_record_buffer_done(body);

	/* durability policy */
	if (audit_sync_interval == 0 || !IsUnderPostmaster)
	{
		/* written straight to the file above */
		if (pg_fsync(fd) != 0)
		{
			ereport(data_sync_elevel(elevel),
					(errcode_for_file_access(),
					 errmsg("could not fsync access audit segment: %m")));
			return seq;
		}
		SpinLockAcquire(&audit->mutex);
		if (seq > audit->synced_seq)
			audit->synced_seq = seq;
		SpinLockRelease(&audit->mutex);
	}
	else
	{
		volatile AuditShared *v = audit;

		/*
		 * Is the sync worker late?  Looked at without the spinlock first,
		 * and again under it only when it seems so: otherwise every record
		 * of every backend would take the same spinlock.  A stale value
		 * only moves the check to the next record.
		 */
		if (v->synced_seq >= seq ||
			!TimestampDifferenceExceeds(v->last_sync_at, at, 2 * audit_sync_interval))
			return seq;
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
			(void) audit_sync(true, data_sync_elevel(elevel), NULL);
	}
	return seq;
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
							 "Only superusers can change it; off is meant for benchmarks. Every change is recorded, and the reads made while it is off are counted.",
							 &pubdata_audit_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 pubdata_audit_setting_check, pubdata_audit_setting_assign_audit, NULL);
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

	pubdata_audit_anchor_init();
	pubdata_audit_settings_init();

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
 * audit_current_head
 *		See audit_store.h.
 */
bool
audit_current_head(AuditAnchor *head, uint64 *synced_seq)
{
	if (audit == NULL || !audit->available)
		return false;
	memset(head, 0, sizeof(*head));
	LWLockAcquire(audit->lock, LW_SHARED);
	head->seq = audit->head_seq;
	memcpy(head->hash, audit->head_hash, AUDIT_HASH_LEN);
	head->at = audit->head_at;
	LWLockRelease(audit->lock);
	SpinLockAcquire(&audit->mutex);
	*synced_seq = audit->synced_seq;
	SpinLockRelease(&audit->mutex);
	return true;
}

/*
 * audit_read_state_head
 *		See audit_store.h.
 */
bool
audit_read_state_head(AuditAnchor *out)
{
	AuditStateFile st;

	if (!audit_read_state(&st))
		return false;
	memset(out, 0, sizeof(*out));
	out->seq = st.seq;
	memcpy(out->hash, st.hash, AUDIT_HASH_LEN);
	out->at = st.at;
	return true;
}

/*
 * audit_durable_head
 *		See audit_store.h.
 */
bool
audit_durable_head(AuditAnchor *out)
{
	memset(out, 0, sizeof(*out));
	if (audit == NULL || !audit->available)
		return false;
	return audit_sync(true, WARNING, out);
}

/*
 * audit_pending_loss / audit_last_loss / audit_loss_alerted / audit_report_loss
 *		See audit_store.h.  The report lives in shared memory until the
 *		launcher has raised its alert (a launcher that dies first leaves it
 *		for the next one).
 */
bool
audit_pending_loss(AuditLossReport *out)
{
	bool		due;

	if (audit == NULL)
		return false;
	LWLockAcquire(audit->lock, LW_SHARED);
	due = audit->loss.generation != 0 && audit->loss.generation != audit->loss_alerted;
	if (due)
		memcpy(out, &audit->loss, sizeof(*out));
	LWLockRelease(audit->lock);
	return due;
}

bool
audit_last_loss(AuditLossReport *out)
{
	bool		any;

	if (audit == NULL)
		return false;
	LWLockAcquire(audit->lock, LW_SHARED);
	any = audit->loss.generation != 0;
	if (any)
		memcpy(out, &audit->loss, sizeof(*out));
	LWLockRelease(audit->lock);
	return any;
}

void
audit_loss_alerted(uint32 generation)
{
	if (audit == NULL)
		return;
	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	audit->loss_alerted = generation;
	LWLockRelease(audit->lock);
}

void
audit_report_loss(uint64 first_lost, uint64 last_lost, uint64 gap_seq, const char *text)
{
	if (audit == NULL)
		return;
	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	audit->loss.generation++;
	if (audit->loss.generation == 0)
		audit->loss.generation = 1;
	audit->loss.first_lost = first_lost;
	audit->loss.last_lost = last_lost;
	audit->loss.gap_seq = gap_seq;
	strlcpy(audit->loss.text, text, sizeof(audit->loss.text));
	LWLockRelease(audit->lock);
}

/*
 * audit_recovered_seq
 *		See audit_store.h.
 */
uint64
audit_recovered_seq(void)
{
	return audit != NULL ? audit->recovered_seq : 0;
}

/*
 * audit_swap_file_setting
 *		See audit_store.h.
 */
bool
audit_swap_file_setting(int bit, bool value)
{
	bool		changed;
	uint8		mask = (uint8) (1 << bit);

	if (audit == NULL)
		return false;
	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	changed = ((audit->file_settings & mask) != 0) != value;
	if (value)
		audit->file_settings |= mask;
	else
		audit->file_settings &= ~mask;
	LWLockRelease(audit->lock);
	return changed;
}

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
