/*-------------------------------------------------------------------------
 *
 * audit_verify.c
 *	  Verification of the access audit chain: pubdata.verify_audit_chain()
 *	  and pubdata.verify_audit_chain_incremental().
 *
 * Every link is recomputed (SHA-256 of the previous hash and the line), and
 * the log is compared with every head kept apart from the segments: the
 * head in shared memory, the durable head in the state file, the verified
 * prefix of the last full check, and the anchors (issue 19): the one given
 * as arguments, the newest of this chain in pubdata.audit_anchor (written by
 * the launcher, WAL-logged: backups and standbys carry it), and the anchor
 * file pg_pubdata/anchor.  An anchor proves that the log reached its record
 * with its hash: a record it proves that is missing (a truncated tail, a
 * deleted segment, an emptied or older directory) or that differs is
 * reported, never "ok".  The chain's own links find what was removed or
 * changed before the last record that is still there.
 *
 * The incremental check starts after the verified prefix a full check that
 * found the chain intact remembered ("verified", beside the state file).
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_anchor.h"
#include "audit_store.h"

#include <fcntl.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#define AUDIT_VERIFIED_FILE	"pg_pubdata/audit/verified"
#define AUDIT_VERIFIED_MAGIC 0x50445646	/* "PDVF" */
#define VERIFY_MAX_ANCHORS	3

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
	(void) audit_flush_for_reader();
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

/* An anchor the log is checked against: it proves record seq with hash. */
typedef struct VerifyAnchor
{
	uint64		seq;
	uint8		hash[AUDIT_HASH_LEN];
	const char *what;			/* "the anchor given", ... */
	bool		found;
} VerifyAnchor;

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
	AuditAnchor state;
	bool		state_found;
	int			nanchors;		/* anchors to check the log against */
	VerifyAnchor anchors[VERIFY_MAX_ANCHORS];
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
	uint64		pruned_seq;		/* the pruned prefix, 0: none */
	uint8		pruned_hash[AUDIT_HASH_LEN];
	uint64		prune_stated;	/* the newest prune record: what it states */
	uint8		prune_stated_hash[AUDIT_HASH_LEN];
	uint64		prune_record;	/* and its own seq */
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
	int			i;
	bool		first_in_segment = (segment != v->cur_segment);

	v->cur_segment = segment;
	/* left by a prune cut short: archived, only the prefix's end is compared */
	if (parsed && v->pruned_seq != 0 && rec->seq <= v->pruned_seq)
	{
		if (rec->seq == v->pruned_seq && memcmp(rec->hash, v->pruned_hash, AUDIT_HASH_LEN) != 0)
			verify_problem(v, rec->seq,
						   "record " UINT64_FORMAT " differs from the pruned prefix: the log was rewritten",
						   rec->seq);
		return;
	}
	if (!parsed)
	{
		verify_problem(v, v->expected,
					   "malformed record in segment %020llu at byte %zu (after record " UINT64_FORMAT ")",
					   (unsigned long long) segment, offset, v->expected - 1);
		return;
	}
	v->records++;
	audit_sha256(v->prev, raw, rec->hashed_len, computed);

	/* a prune record states the prefix it removed (audit_archive.c) */
	if (rec->outcome != NULL && strcmp(rec->outcome, AUDIT_EVENT_PRUNED) == 0 &&
		rec->statement != NULL)
	{
		unsigned long long from,
					upto;
		char		hex[AUDIT_HASH_LEN * 2 + 1];

		if (sscanf(rec->statement, "pruned records %llu to %llu (hash %64[0-9a-f])", &from, &upto, hex) == 3 &&
			audit_hex_decode(hex, v->prune_stated_hash))
		{
			v->prune_stated = (uint64) upto;
			v->prune_record = rec->seq;
		}
	}

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
	for (i = 0; i < v->nanchors; i++)
	{
		VerifyAnchor *an = &v->anchors[i];

		if (rec->seq != an->seq)
			continue;
		an->found = true;
		if (memcmp(rec->hash, an->hash, AUDIT_HASH_LEN) != 0)
			verify_problem(v, rec->seq,
						   "record " UINT64_FORMAT " does not match %s: the log was rewritten since the anchor was taken",
						   rec->seq, an->what);
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
	int			pr_status;
	AuditAnchor pruned;
	bool		from_prefix = false;
	uint64		start_seg = 0;
	size_t		start_off = 0;
	StringInfoData note;
	StringInfoData anchors_matched;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&v, 0, sizeof(v));
	memset(&pruned, 0, sizeof(pruned));
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
		if (PG_GETARG_INT64(0) <= 0 || !audit_hex_decode(h, v.anchors[0].hash))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid audit chain anchor (" INT64_FORMAT ", \"%s\")",
							PG_GETARG_INT64(0), h),
					 errdetail("The seq must be positive and the hash 64 lower-case hex digits."),
					 errhint("Use the seq and hash returned by pubdata.audit_chain_head().")));
		v.anchors[0].seq = (uint64) PG_GETARG_INT64(0);
		v.anchors[0].what = "the anchor given";
		v.nanchors = 1;
	}

	v.durable_seq = PG_UINT64_MAX;
	{
		AuditAnchor head;
		uint64		synced;

		if (audit_current_head(&head, &synced))
		{
			v.head_known = true;
			v.head_seq = head.seq;
			memcpy(v.head_hash, head.hash, AUDIT_HASH_LEN);
			v.durable_seq = synced;
		}
	}
	v.state_valid = audit_read_state_head(&v.state);

	/* the anchors kept apart from the audit directory */
	{
		AuditAnchor an;
		const char *why_not = NULL;

		if (pubdata_audit_newest_anchor(&an, &why_not))
		{
			VerifyAnchor *va = &v.anchors[v.nanchors++];

			va->seq = an.seq;
			memcpy(va->hash, an.hash, AUDIT_HASH_LEN);
			va->what = psprintf("the anchor taken at %s (pubdata.audit_anchor)",
								timestamptz_to_str(an.taken_at));
		}
		else if (why_not != NULL)
			appendStringInfo(&note, "; %s", why_not);
		if (audit_read_anchor_file(&an))
		{
			VerifyAnchor *va = &v.anchors[v.nanchors++];

			va->seq = an.seq;
			memcpy(va->hash, an.hash, AUDIT_HASH_LEN);
			va->what = "the anchor in pg_pubdata/anchor";
		}
	}
	/* archived and pruned: the live chain starts after the pruned prefix */
	pr_status = audit_read_pruned(AUDIT_DIR, &pruned);
	if (pr_status < 0)
		verify_problem(&v, 0, "the pruned prefix file \"pg_pubdata/audit/pruned\" is damaged: the live log cannot be linked to what was archived");
	else if (pr_status > 0)
	{
		v.pruned_seq = pruned.seq;
		memcpy(v.pruned_hash, pruned.hash, AUDIT_HASH_LEN);
		v.expected = pruned.seq + 1;
		memcpy(v.prev, pruned.hash, AUDIT_HASH_LEN);
		memcpy(v.cp_prev, pruned.hash, AUDIT_HASH_LEN);
		v.last_seq = pruned.seq;
		memcpy(v.last_hash, pruned.hash, AUDIT_HASH_LEN);
		v.last_at = pruned.at;
		/* heads and anchors inside the pruned prefix: its end is compared */
		if (v.head_known && v.head_seq <= pruned.seq)
		{
			v.head_found = true;
			stop = true;
			if (v.head_seq == pruned.seq && memcmp(v.head_hash, pruned.hash, AUDIT_HASH_LEN) != 0)
				verify_problem(&v, v.head_seq,
							   "record " UINT64_FORMAT " differs from the chain head held in shared memory: the log was rewritten",
							   v.head_seq);
		}
		if (v.state_valid && v.state.seq <= pruned.seq)
			v.state_found = true;
		for (i = 0; i < v.nanchors; i++)
		{
			VerifyAnchor *an = &v.anchors[i];

			if (an->seq > pruned.seq)
				continue;
			an->found = true;
			if (an->seq == pruned.seq && memcmp(an->hash, pruned.hash, AUDIT_HASH_LEN) != 0)
				verify_problem(&v, an->seq,
							   "record " UINT64_FORMAT " (the pruned prefix) does not match %s: the log was rewritten since the anchor was taken",
							   an->seq, an->what);
		}
	}
	cp_status = audit_read_checkpoint(&v.checkpoint);
	v.checkpoint_valid = (cp_status == 1);
	/* a verified prefix that was pruned since: verify from the pruned one */
	if (v.checkpoint_valid && v.pruned_seq != 0 && v.checkpoint.seq <= v.pruned_seq)
	{
		v.checkpoint_valid = false;
		if (v.checkpoint.seq == v.pruned_seq &&
			memcmp(v.checkpoint.hash, v.pruned_hash, AUDIT_HASH_LEN) != 0)
			verify_problem(&v, v.pruned_seq,
						   "record " UINT64_FORMAT " differs from the verified prefix remembered: the pruned prefix was replaced",
						   v.pruned_seq);
	}
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
			/* anchors inside the prefix: its last record is compared */
			for (i = 0; i < v.nanchors; i++)
			{
				VerifyAnchor *an = &v.anchors[i];

				if (an->seq > v.checkpoint.seq)
					continue;
				an->found = true;
				if (an->seq == v.checkpoint.seq &&
					memcmp(an->hash, v.checkpoint.hash, AUDIT_HASH_LEN) != 0)
					verify_problem(&v, an->seq,
								   "record " UINT64_FORMAT " does not match %s: the log was rewritten since the anchor was taken",
								   an->seq, an->what);
			}
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
	for (i = 0; i < v.nanchors; i++)
	{
		VerifyAnchor *an = &v.anchors[i];

		if (an->found)
			continue;
		if (v.last_seq == 0)
			verify_problem(&v, 1,
						   "the access audit log is empty but %s proves that it held records 1 to " UINT64_FORMAT ": they are gone",
						   an->what, an->seq);
		else if (v.last_seq < an->seq)
			verify_problem(&v, v.last_seq + 1,
						   "the log ends at record " UINT64_FORMAT " but %s proves record " UINT64_FORMAT ": records " UINT64_FORMAT " to " UINT64_FORMAT " are gone",
						   v.last_seq, an->what, an->seq, v.last_seq + 1, an->seq);
		else
			verify_problem(&v, an->seq,
						   "record " UINT64_FORMAT " (proven by %s) is missing from the log: it is gone",
						   an->seq, an->what);
	}
	/*
	 * The pruned prefix must be the one the newest prune record in the chain
	 * states (checked when the scan went through the records after it).
	 */
	if (v.pruned_seq != 0 && !from_prefix &&
		(v.prune_stated != v.pruned_seq ||
		 memcmp(v.prune_stated_hash, v.pruned_hash, AUDIT_HASH_LEN) != 0))
		verify_problem(&v, v.pruned_seq,
					   v.prune_stated == 0 ?
					   "the live log begins after record " UINT64_FORMAT " (the pruned prefix) but no prune record in the chain states it: segments were deleted and the prefix file forged" :
					   "the live log begins after record " UINT64_FORMAT " (the pruned prefix) but the newest prune record in the chain states another: segments were deleted and the prefix file forged",
					   v.pruned_seq);
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
		initStringInfo(&anchors_matched);
		for (i = 0; i < v.nanchors; i++)
			appendStringInfo(&anchors_matched, "; %s matches", v.anchors[i].what);
		if (v.pruned_seq != 0 && !from_prefix)
			appendStringInfo(&note, "; records 1 to " UINT64_FORMAT " were archived and pruned: the live log links to the pruned prefix, which prune record " UINT64_FORMAT " states",
							 v.pruned_seq, v.prune_record);
		if (v.last_seq == 0)
			appendStringInfoString(&v.detail, "the access audit log is empty");
		else
			appendStringInfo(&v.detail,
							 INT64_FORMAT " records in %d segment(s), chain intact from record " UINT64_FORMAT " to " UINT64_FORMAT "%s%s%s%s",
							 v.records, nsegs, from_prefix ? v.checkpoint.seq + 1 : v.pruned_seq + 1, v.last_seq,
							 v.head_known ? "; it ends at the head held in shared memory" : "",
							 v.state_valid ? "; the durable head in the state file matches" : "",
							 v.nanchors > 0 ? anchors_matched.data : "", note.data);
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

