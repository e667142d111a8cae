/*-------------------------------------------------------------------------
 *
 * audit_files.c
 *	  Files of the access audit that the store reads outside its write path
 *	  (issue 19): the edges of a segment and one record by seq, for the
 *	  checks made when shared memory is set up and by the launcher; the
 *	  anchor file pg_pubdata/anchor beside the audit directory, the
 *	  anchor's line in the server log, and the pruned prefix (the last record
 *	  archived and removed, audit_archive.c).
 *
 * Nothing here touches shared memory, and nothing raises an error: the
 * postmaster uses it during recovery.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#define AUDIT_ANCHOR_FILE	"pg_pubdata/anchor"	/* outside the audit directory */
#define AUDIT_ANCHOR_MAGIC	0x5044414e	/* "PDAN" */
#define AUDIT_TAIL_CHUNK	16384	/* bytes read at a segment's either end */
#define AUDIT_PRUNED_MAGIC	0x50445052	/* "PDPR" */

/*
 * audit_edge_of
 *		Parse one line of buf[start, end) (end excludes its newline) and keep
 *		what recovery needs of it.  Never raises an error.
 */
static bool
audit_edge_of(const char *buf, size_t start, size_t end, AuditEdge *e)
{
	AuditRecord rec;
	char	   *line = pnstrdup(buf + start, end - start);
	bool		ok = audit_parse_line(line, end - start, &rec);

	if (ok)
	{
		e->seq = rec.seq;
		memcpy(e->hash, rec.hash, AUDIT_HASH_LEN);
		e->gap = rec.outcome != NULL && strcmp(rec.outcome, AUDIT_EVENT_GAP) == 0;
	}
	pfree(line);
	return ok;
}

/*
 * audit_read_at
 *		Up to len bytes of a file from offset off, palloc'd; NULL (with errno)
 *		if the file cannot be read.  *got gets the bytes read.
 */
static char *
audit_read_at(int fd, off_t off, size_t len, size_t *got)
{
	char	   *buf = palloc(len + 1);
	size_t		done = 0;

	while (done < len)
	{
		ssize_t		n = pg_pread(fd, buf + done, len - done, off + done);

		if (n < 0)
		{
			pfree(buf);
			return NULL;
		}
		if (n == 0)
			break;
		done += n;
	}
	buf[done] = '\0';
	*got = done;
	return buf;
}

/*
 * audit_segment_edges
 *		The first and the last complete record of segment seg, read from the
 *		file's two ends (a chunk each, the whole file if a line is longer).
 *		Returns false if the file cannot be read; first->seq / last->seq stay
 *		0 when there is no such record.  Used at startup on every segment, so
 *		it reads two small chunks rather than the segment.
 */
bool
audit_segment_edges(uint64 seg, AuditEdge *first, AuditEdge *last)
{
	char		path[MAXPGPATH];
	int			fd;
	struct stat st;
	char	   *buf;
	size_t		got;
	size_t		size;
	char	   *nl;

	memset(first, 0, sizeof(*first));
	memset(last, 0, sizeof(*last));
	audit_seg_path(path, sizeof(path), seg);
	fd = BasicOpenFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0)
	{
		close(fd);
		return false;
	}
	size = st.st_size;

	/* the first line */
	buf = audit_read_at(fd, 0, Min(size, AUDIT_TAIL_CHUNK), &got);
	if (buf == NULL)
	{
		close(fd);
		return false;
	}
	nl = memchr(buf, '\n', got);
	if (nl == NULL && got < size)
	{
		/* a line longer than the chunk: read the file */
		pfree(buf);
		buf = audit_read_at(fd, 0, size, &got);
		if (buf == NULL)
		{
			close(fd);
			return false;
		}
		nl = memchr(buf, '\n', got);
	}
	if (nl != NULL)
		(void) audit_edge_of(buf, 0, nl - buf, first);
	pfree(buf);

	/* the last complete line */
	if (size > 0)
	{
		off_t		from = size > AUDIT_TAIL_CHUNK ? size - AUDIT_TAIL_CHUNK : 0;
		AuditRecord rec;
		size_t		complete;
		bool		found;

		buf = audit_read_at(fd, from, size - from, &got);
		if (buf == NULL)
		{
			close(fd);
			return false;
		}
		complete = got;
		while (complete > 0 && buf[complete - 1] != '\n')
			complete--;
		found = audit_last_record_of(buf, complete, &rec);
		if (!found && from > 0)
		{
			/* a line longer than the chunk: read the file */
			pfree(buf);
			buf = audit_read_at(fd, 0, size, &got);
			if (buf == NULL)
			{
				close(fd);
				return false;
			}
			complete = got;
			while (complete > 0 && buf[complete - 1] != '\n')
				complete--;
			found = audit_last_record_of(buf, complete, &rec);
		}
		if (found)
		{
			last->seq = rec.seq;
			memcpy(last->hash, rec.hash, AUDIT_HASH_LEN);
		}
		pfree(buf);
	}
	close(fd);
	return true;
}

/*
 * audit_find_record
 *		See audit_store.h: record seq of this server's own log.
 */
int
audit_find_record(uint64 seq, uint8 *hash)
{
	return audit_find_record_in(AUDIT_DIR, seq, hash);
}

/*
 * audit_find_record_in
 *		See audit_store.h: record seq of the chain in dir (the own log's
 *		directory or a shipped chain's).  Reads the segment that would hold
 *		it (the last one named at or before it).
 */
int
audit_find_record_in(const char *dir, uint64 seq, uint8 *hash)
{
	uint64	   *segs;
	int			nsegs;
	int			i;
	uint64		seg = 0;
	char		path[MAXPGPATH];
	char	   *buf;
	size_t		len;
	size_t		pos = 0;
	int			result = 0;

	/* archived and pruned: only the last one's hash is kept here */
	{
		AuditAnchor pr;

		if (audit_read_pruned(dir, &pr) > 0 && seq <= pr.seq)
		{
			if (seq < pr.seq)
				return AUDIT_RECORD_PRUNED;
			memcpy(hash, pr.hash, AUDIT_HASH_LEN);
			return 1;
		}
	}
	segs = audit_list_segments_in(dir, &nsegs, LOG);
	for (i = 0; i < nsegs; i++)
		if (segs[i] <= seq)
			seg = segs[i];
	pfree(segs);
	if (seg == 0)
		return 0;
	audit_seg_path_in(dir, path, sizeof(path), seg);
	buf = audit_read_file(path, &len, LOG);
	if (buf == NULL)
		return -1;
	while (pos < len)
	{
		char	   *nl = memchr(buf + pos, '\n', len - pos);
		uint64		s = 0;
		size_t		k;
		AuditEdge	e;

		if (nl == NULL)
			break;
		/* the seq leads the line: parse the rest only for the one wanted */
		for (k = pos; k < (size_t) (nl - buf) && buf[k] >= '0' && buf[k] <= '9'; k++)
			s = s * 10 + (buf[k] - '0');
		if (s == seq && audit_edge_of(buf, pos, nl - buf, &e) && e.seq == seq)
		{
			memcpy(hash, e.hash, AUDIT_HASH_LEN);
			result = 1;
			break;
		}
		if (s > seq)
			break;
		pos = (nl - buf) + 1;
	}
	pfree(buf);
	return result;
}

/*
 * Two small files keep one record of the chain (seq, hash, times) each,
 * with a magic number and a CRC:
 *
 * The anchor file pg_pubdata/anchor: the last anchor taken (by the launcher,
 * and by the postmaster at a clean shutdown), beside the audit directory
 * rather than in it.  It lets the postmaster, which cannot read tables, see
 * at startup that records an anchor proves are gone, and continue the chain
 * after them.  pubdata.audit_anchor is the stronger copy.
 *
 * The pruned prefix (pg_pubdata/audit/pruned, and pruned in a shipped
 * chain's directory): the last record that pubdata.audit_prune() removed
 * after it was archived (seq, hash, time; taken_at is when it was pruned).  The live chain begins after it: its
 * first record links to that hash, the checks at startup expect the first
 * segment right after it, and verification starts there.  It is
 * tamper-evident: the first live record must link to its hash, and the
 * prune record written into the chain before the segments were removed
 * states the same seq and hash (a file moved forward over more deleted
 * segments is reported by verify_audit_chain()).  A shipped chain's prune
 * record is in the primary's own chain; its prefix file is checked by the
 * link of its first live record (verify_audit_chains()).
 */
typedef struct AuditRecordFile
{
	uint32		magic;
	uint32		version;
	uint64		seq;
	uint8		hash[AUDIT_HASH_LEN];
	TimestampTz at;
	TimestampTz taken_at;
	pg_crc32c	crc;			/* of the bytes before it */
} AuditRecordFile;

/*
 * read_record_file
 *		1 read into *an, 0 the file does not exist, -1 unreadable or damaged.
 */
static int
read_record_file(const char *path, uint32 magic, AuditAnchor *an)
{
	AuditRecordFile f;
	int			fd;
	ssize_t		n;
	pg_crc32c	crc;

	fd = BasicOpenFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, &f, sizeof(f));
	close(fd);
	if (n != sizeof(f))
		return -1;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &f, offsetof(AuditRecordFile, crc));
	FIN_CRC32C(crc);
	if (f.magic != magic || f.version != 1 || !EQ_CRC32C(crc, f.crc) || f.seq == 0)
		return -1;
	an->seq = f.seq;
	memcpy(an->hash, f.hash, AUDIT_HASH_LEN);
	an->at = f.at;
	an->taken_at = f.taken_at;
	return 1;
}

/*
 * write_record_file
 *		Written aside, fsynced, renamed into place; false after reporting at
 *		elevel that the file "what" could not be written (with detail, if any).
 */
static bool
write_record_file(const char *path, uint32 magic, const AuditAnchor *an, int elevel,
				  const char *what, const char *detail)
{
	AuditRecordFile f;
	int			fd;
	char		tmp[MAXPGPATH];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	memset(&f, 0, sizeof(f));
	f.magic = magic;
	f.version = 1;
	f.seq = an->seq;
	memcpy(f.hash, an->hash, AUDIT_HASH_LEN);
	f.at = an->at;
	f.taken_at = an->taken_at;
	INIT_CRC32C(f.crc);
	COMP_CRC32C(f.crc, &f, offsetof(AuditRecordFile, crc));
	FIN_CRC32C(f.crc);

	fd = BasicOpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0 || write(fd, &f, sizeof(f)) != sizeof(f) || pg_fsync(fd) != 0)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not write the %s \"%s\": %m", what, tmp),
				 detail ? errdetail("%s", detail) : 0));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return durable_rename(tmp, path, elevel) == 0;
}

/*
 * audit_read_anchor_file
 *		See audit_store.h; false if missing or damaged.
 */
bool
audit_read_anchor_file(AuditAnchor *an)
{
	return read_record_file(AUDIT_ANCHOR_FILE, AUDIT_ANCHOR_MAGIC, an) > 0;
}

/*
 * audit_write_anchor_file
 *		See audit_store.h: written aside, fsynced, renamed into place.
 */
bool
audit_write_anchor_file(const AuditAnchor *an, int elevel)
{
	return write_record_file(AUDIT_ANCHOR_FILE, AUDIT_ANCHOR_MAGIC, an, elevel,
							 "audit anchor file",
							 "pubdata.audit_anchor and the server log keep the anchor.");
}

/*
 * audit_read_pruned
 *		See audit_store.h: the prefix of the chain in dir; 1 read, 0 none
 *		(nothing was ever pruned), -1 damaged.
 */
int
audit_read_pruned(const char *dir, AuditAnchor *p)
{
	char		path[MAXPGPATH];

	snprintf(path, sizeof(path), "%s/pruned", dir);
	return read_record_file(path, AUDIT_PRUNED_MAGIC, p);
}

/*
 * audit_write_pruned
 *		See audit_store.h: written aside, fsynced, renamed into place.
 */
bool
audit_write_pruned(const char *dir, const AuditAnchor *p, int elevel)
{
	char		path[MAXPGPATH];

	snprintf(path, sizeof(path), "%s/pruned", dir);
	return write_record_file(path, AUDIT_PRUNED_MAGIC, p, elevel,
							 "pruned audit prefix", NULL);
}

/*
 * audit_log_anchor
 *		See audit_store.h.  One line, the same words every time, for a log
 *		collector to keep and an auditor to grep:
 *		pubdata: audit anchor seq=N hash=H at=YYYY-MM-DDTHH:MM:SS.ffffffZ system=S reason=R
 *		(seq and hash are the arguments of pubdata.verify_audit_chain()).
 */
void
audit_log_anchor(const AuditAnchor *an, uint64 system_identifier, const char *reason)
{
	char		hex[AUDIT_HASH_LEN * 2 + 1];
	char		when[64];
	struct pg_tm tm;
	fsec_t		fsec;

	audit_hex_encode(an->hash, hex);
	if (timestamp2tm(an->at, NULL, &tm, &fsec, NULL, NULL) == 0)
		snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
				 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
	else
		strlcpy(when, "unknown", sizeof(when));
	ereport(LOG,
			(errmsg("pubdata: audit anchor seq=" UINT64_FORMAT " hash=%s at=%s system=" UINT64_FORMAT " reason=%s",
					an->seq, hex, when, system_identifier, reason),
			 errhidestmt(true)));
}
