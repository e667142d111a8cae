/*-------------------------------------------------------------------------
 *
 * audit_query.c
 *	  Reading the access audit at volume (issue 18): the records of a time
 *	  range, a seq range, a resource, a department, a role or a grant,
 *	  without reading and parsing the whole log.
 *
 * A year of a city's reads is hundreds of millions of records in thousands
 * of segment files.  Two facts of the store (audit.c) make a filtered read
 * cheap:
 *
 * - Segment files are named after their first record's seq and records are
 *	 in seq order, so a seq range picks its segments by name.
 * - A record's time is taken under the chain's lock and never goes back
 *	 (a clock stepping back is clamped to the previous record's time), so the
 *	 times are monotone along the chain: every record of a segment lies
 *	 between the segment's first record's time and the next segment's first
 *	 record's time.  The first line of each segment is all the index a time
 *	 range needs (a few hundred bytes per 16 MB segment), it is read from the
 *	 files themselves, so there is nothing to keep in step, and the
 *	 monotonicity it relies on is checked by verify_audit_chain().
 *
 * Inside a segment each line is first cut into fields where it lies; time,
 * database, role, department, resources and grants are compared on the
 * escaped text (escaping never produces the ',' and ';' that separate
 * resources and grants, so a token matches escaped exactly when it matches
 * unescaped); only a line that passes is copied, unescaped and made a row.
 * The SQL functions above this (src/sql/70_audit_volume.sql) apply the same
 * conditions again to the rows, one per resource read: the filters here only
 * drop records that cannot give a matching row, so the result is the same as
 * filtering the full scan.
 *
 * Also here: pubdata._audit_records() (the full scan behind access_log) and
 * the benchmark helper that writes a synthetic log through the real path.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_store.h"

#include <fcntl.h>
#include <unistd.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#define AUDIT_MAX_FIELDS	17

/* The filters of one read; a NULL string or a false has_ flag: no filter. */
typedef struct AuditFilter
{
	bool		this_database;	/* only records of MyDatabaseId */
	bool		reads_only;		/* no event records (no resource: issue 19) */
	bool		has_from;
	TimestampTz from;			/* at >= from */
	bool		has_to;
	TimestampTz to;				/* at < to */
	uint64		after_seq;		/* seq > after_seq */
	uint64		upto_seq;		/* seq <= upto_seq; 0: no limit */
	char	   *resource;		/* escaped; one of the record's resources */
	char	   *department;		/* escaped; the record's department code */
	char	   *role_name;		/* escaped; the record's role */
	char	   *grant_id;		/* decimal; the record's grant or one of its grants */
	char		database[16];	/* MyDatabaseId in decimal */
} AuditFilter;

/* A field of a line where it lies, not NUL-terminated. */
typedef struct RawField
{
	const char *p;
	size_t		len;
} RawField;

/*
 * raw_split
 *		Cut a line into its tab-separated fields; returns their number (more
 *		than AUDIT_MAX_FIELDS: not a record).
 */
static int
raw_split(const char *line, size_t len, RawField *f)
{
	const char *p = line;
	const char *end = line + len;
	int			n = 0;

	for (;;)
	{
		const char *tab = memchr(p, '\t', end - p);

		if (n == AUDIT_MAX_FIELDS)
			return n + 1;
		f[n].p = p;
		f[n].len = (tab ? tab : end) - p;
		n++;
		if (tab == NULL)
			return n;
		p = tab + 1;
	}
}

/*
 * raw_eq
 *		Whether a field is exactly the NUL-terminated string s.
 */
static inline bool
raw_eq(const RawField *f, const char *s)
{
	return strlen(s) == f->len && memcmp(f->p, s, f->len) == 0;
}

/*
 * raw_has_token
 *		Whether s is one of the field's tokens separated by any of seps.
 */
static bool
raw_has_token(const RawField *f, const char *s, const char *seps)
{
	size_t		slen = strlen(s);
	const char *p = f->p;
	const char *end = f->p + f->len;

	while (p <= end)
	{
		const char *q = p;

		while (q < end && strchr(seps, *q) == NULL)
			q++;
		if ((size_t) (q - p) == slen && memcmp(p, s, slen) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

/*
 * raw_int64
 *		A decimal field as an int64; false if it is not one.
 */
static bool
raw_int64(const RawField *f, int64 *out)
{
	char		buf[32];
	char	   *endp;

	if (f->len == 0 || f->len >= sizeof(buf))
		return false;
	memcpy(buf, f->p, f->len);
	buf[f->len] = '\0';
	errno = 0;
	*out = strtoll(buf, &endp, 10);
	return errno == 0 && *endp == '\0';
}

/*
 * segment_first_at
 *		The time of a segment's first record, read from its first line;
 *		false if the segment has no complete well-formed first line.
 */
static bool
segment_first_at(uint64 seg, TimestampTz *at)
{
	char		path[MAXPGPATH];
	int			fd;
	size_t		cap = 4096;
	char	   *buf = NULL;
	bool		ok = false;

	audit_seg_path(path, sizeof(path), seg);
	fd = BasicOpenFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return false;
	for (;;)
	{
		ssize_t		n;
		char	   *nl;

		buf = buf ? repalloc(buf, cap) : palloc(cap);
		n = pread(fd, buf, cap, 0);
		if (n <= 0)
			break;
		nl = memchr(buf, '\n', n);
		if (nl != NULL)
		{
			RawField	f[AUDIT_MAX_FIELDS + 1];
			int64		v;
			int			nf = raw_split(buf, nl - buf, f);

			ok = nf >= 2 && raw_int64(&f[1], &v);
			*at = (TimestampTz) v;
			break;
		}
		if ((size_t) n < cap)
			break;				/* no complete line yet */
		cap *= 4;
	}
	close(fd);
	if (buf)
		pfree(buf);
	return ok;
}

/*
 * audit_filter_line
 *		Whether a raw line can give a row the filter wants.  *past_end is set
 *		when the line is at or after the end of the time range or the seq
 *		range: no later line can match.
 */
static bool
audit_filter_line(const AuditFilter *flt, const char *line, size_t len,
				  bool *past_end)
{
	RawField	f[AUDIT_MAX_FIELDS + 1];
	int			nf = raw_split(line, len, f);
	int64		seq,
				at;

	if (nf < 13 || nf > AUDIT_MAX_FIELDS ||
		!raw_int64(&f[0], &seq) || !raw_int64(&f[1], &at))
		return false;			/* not a record: the parser skips it too */
	if ((uint64) seq <= flt->after_seq)
		return false;
	if (flt->upto_seq != 0 && (uint64) seq > flt->upto_seq)
	{
		*past_end = true;
		return false;
	}
	if (flt->has_to && at >= flt->to)
	{
		*past_end = true;
		return false;
	}
	if (flt->has_from && at < flt->from)
		return false;
	if (flt->this_database && !raw_eq(&f[2], flt->database))
		return false;
	if (flt->reads_only && f[6].len == 0)
		return false;
	if (flt->role_name && !raw_eq(&f[3], flt->role_name))
		return false;
	if (flt->department && !raw_eq(&f[5], flt->department))
		return false;
	if (flt->resource && !raw_has_token(&f[6], flt->resource, ","))
		return false;
	if (flt->grant_id && !raw_eq(&f[7], flt->grant_id) &&
		!(nf == AUDIT_MAX_FIELDS && raw_has_token(&f[12], flt->grant_id, ",;")))
		return false;
	return true;
}

/*
 * audit_record_row
 *		Put one parsed record in the result, as the 17 columns of
 *		pubdata._audit_records().
 */
static void
audit_record_row(ReturnSetInfo *rsinfo, AuditRecord *rec)
{
	Datum		values[17];
	bool		nulls[17];

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum((int64) rec->seq);
	values[1] = TimestampTzGetDatum(rec->at);
	values[2] = ObjectIdGetDatum(rec->database);
	values[3] = CStringGetTextDatum(rec->role_name);
	values[4] = Int32GetDatum(rec->department_id);
	nulls[4] = (rec->department_id == 0);
	if (rec->department_code)
		values[5] = CStringGetTextDatum(rec->department_code);
	else
		nulls[5] = true;
	values[6] = CStringGetTextDatum(rec->resources);
	values[7] = Int64GetDatum(rec->grant_id);
	nulls[7] = (rec->grant_id == 0);
	if (rec->purpose)
		values[8] = CStringGetTextDatum(rec->purpose);
	else
		nulls[8] = true;
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
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * audit_read_filtered
 *		Emit the records the filter wants, in chain order, reading only the
 *		segments that can hold them.
 */
static void
audit_read_filtered(ReturnSetInfo *rsinfo, const AuditFilter *flt)
{
	uint64	   *segs;
	int			nsegs;
	int			first = 0;
	int			i;
	bool		past_end = false;
	MemoryContext tmp,
				old;

	(void) audit_flush_for_reader();
	segs = audit_list_segments(&nsegs, ERROR);
	tmp = AllocSetContextCreate(CurrentMemoryContext, "pubdata audit read",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);

	/* by seq: segment i holds seqs from segs[i] to segs[i + 1] - 1 */
	while (first + 1 < nsegs && segs[first + 1] <= flt->after_seq + 1)
		first++;
	/* by time: segment i holds times from its first to the next one's first */
	if (flt->has_from)
	{
		while (first + 1 < nsegs)
		{
			TimestampTz next_at;

			if (!segment_first_at(segs[first + 1], &next_at) || next_at >= flt->from)
				break;
			first++;
		}
	}

	for (i = first; i < nsegs && !past_end; i++)
	{
		char		path[MAXPGPATH];
		char	   *buf;
		size_t		len,
					pos = 0;

		CHECK_FOR_INTERRUPTS();
		if (flt->upto_seq != 0 && segs[i] > flt->upto_seq)
			break;
		audit_seg_path(path, sizeof(path), segs[i]);
		buf = audit_read_file(path, &len, ERROR);
		while (pos < len)
		{
			char	   *nl = memchr(buf + pos, '\n', len - pos);
			size_t		llen;

			if (nl == NULL)
				break;			/* an incomplete tail: not a record */
			llen = nl - (buf + pos);
			if (audit_filter_line(flt, buf + pos, llen, &past_end))
			{
				char	   *copy = pnstrdup(buf + pos, llen);
				AuditRecord rec;

				memset(&rec, 0, sizeof(rec));
				if (audit_parse_line(copy, llen, &rec))
				{
					MemoryContextSwitchTo(old);
					audit_record_row(rsinfo, &rec);
					MemoryContextSwitchTo(tmp);
				}
				pfree(copy);
			}
			if (past_end)
				break;
			pos += llen + 1;
		}
		MemoryContextReset(tmp);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	pfree(segs);
}

/*
 * escaped_arg
 *		A text argument escaped as the log stores it, or NULL.
 */
static char *
escaped_arg(FunctionCallInfo fcinfo, int n)
{
	StringInfoData s;

	if (PG_ARGISNULL(n))
		return NULL;
	initStringInfo(&s);
	audit_append_escaped(&s, text_to_cstring(PG_GETARG_TEXT_PP(n)));
	return s.data;
}

PG_FUNCTION_INFO_V1(pubdata_audit_records);

/*
 * pubdata._audit_records() returns setof record
 *		Every record in the segment files, in chain order.  Works without
 *		shared memory and on a hot standby.  Access is through the views
 *		pubdata.access_log and pubdata.my_access_log.
 */
Datum
pubdata_audit_records(PG_FUNCTION_ARGS)
{
	AuditFilter flt;

	memset(&flt, 0, sizeof(flt));
	InitMaterializedSRF(fcinfo, 0);
	audit_read_filtered((ReturnSetInfo *) fcinfo->resultinfo, &flt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pubdata_audit_records_where);

/*
 * pubdata._audit_records_where(from, to, after_seq, upto_seq, resource,
 *								department, role_name, grant_id)
 *		The read records of this database (not the events of
 *		pubdata.audit_events) that can give a row matching every
 *		filter given (NULL: no filter), in chain order; the columns of
 *		pubdata._audit_records().  Time: from <= at < to.  Seq: after_seq <
 *		seq <= upto_seq.  resource: one of the resources read; grant_id: the
 *		record's grant or one of the grants it used.
 */
Datum
pubdata_audit_records_where(PG_FUNCTION_ARGS)
{
	AuditFilter flt;

	memset(&flt, 0, sizeof(flt));
	flt.this_database = true;
	flt.reads_only = true;
	snprintf(flt.database, sizeof(flt.database), "%u", MyDatabaseId);
	if (!PG_ARGISNULL(0))
	{
		flt.has_from = true;
		flt.from = PG_GETARG_TIMESTAMPTZ(0);
	}
	if (!PG_ARGISNULL(1))
	{
		flt.has_to = true;
		flt.to = PG_GETARG_TIMESTAMPTZ(1);
	}
	if (!PG_ARGISNULL(2) && PG_GETARG_INT64(2) > 0)
		flt.after_seq = (uint64) PG_GETARG_INT64(2);
	if (!PG_ARGISNULL(3))
	{
		if (PG_GETARG_INT64(3) <= 0)
		{
			InitMaterializedSRF(fcinfo, 0);
			return (Datum) 0;	/* no record has a seq below 1 */
		}
		flt.upto_seq = (uint64) PG_GETARG_INT64(3);
	}
	flt.resource = escaped_arg(fcinfo, 4);
	flt.department = escaped_arg(fcinfo, 5);
	flt.role_name = escaped_arg(fcinfo, 6);
	if (!PG_ARGISNULL(7))
		flt.grant_id = psprintf(INT64_FORMAT, PG_GETARG_INT64(7));

	InitMaterializedSRF(fcinfo, 0);
	if ((flt.has_from && flt.has_to && flt.from >= flt.to) ||
		(flt.upto_seq != 0 && flt.upto_seq <= flt.after_seq))
		return (Datum) 0;
	audit_read_filtered((ReturnSetInfo *) fcinfo->resultinfo, &flt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pubdata_audit_bench_fill);

/*
 * pubdata._audit_bench_fill(n, days, resources, departments) returns bigint
 *		For benchmarks only: append n synthetic records through the real
 *		write path (buffer, segments, rotation, hash chain), dated evenly over
 *		the last days days up to now, reading resource BENCH-R<i> as
 *		department BENCH-D<j> (role bench_d<j>, grant j * 1000 + i).  Times
 *		stay monotone with the chain, so on a log that already holds recent
 *		records the synthetic ones are dated at its head.  Superusers only:
 *		it writes records nobody read.  Returns the last record's seq.
 */
Datum
pubdata_audit_bench_fill(PG_FUNCTION_ARGS)
{
	int64		n = PG_GETARG_INT64(0);
	int32		days = PG_GETARG_INT32(1);
	int32		nres = PG_GETARG_INT32(2);
	int32		ndept = PG_GETARG_INT32(3);
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz start;
	double		step;
	MemoryContext tmp,
				old;
	int64		i;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function pubdata._audit_bench_fill"),
				 errdetail("It writes synthetic access audit records, for benchmarks only."),
				 errhint("Run it as a superuser on a benchmark cluster, never on a production log.")));
	if (n < 0 || days < 1 || nres < 1 || ndept < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid benchmark log size (n " INT64_FORMAT ", days %d, resources %d, departments %d)",
						n, days, nres, ndept),
				 errhint("Give n >= 0 and days, resources and departments >= 1.")));
	pubdata_require_preload("pubdata._audit_bench_fill()");
	if (!pubdata_audit_enabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the access audit is off (pubdata.audit = off)"),
				 errhint("SET pubdata.audit = on first.")));

	start = now - (TimestampTz) days * USECS_PER_DAY;
	step = n > 0 ? (double) (now - start) / (double) n : 0;
	tmp = AllocSetContextCreate(CurrentMemoryContext, "pubdata audit bench",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);
	for (i = 0; i < n; i++)
	{
		PubdataAccess a;
		int32		d = (int32) (i % ndept) + 1;	/* every pair equally often */
		int32		r = (int32) ((i / ndept) % nres) + 1;
		char		role[32],
					dept[32],
					res[32],
					grants[32];

		CHECK_FOR_INTERRUPTS();
		snprintf(role, sizeof(role), "bench_d%d", d);
		snprintf(dept, sizeof(dept), "BENCH-D%d", d);
		snprintf(res, sizeof(res), "BENCH-R%d", r);
		snprintf(grants, sizeof(grants), "%d", d * 1000 + r);
		memset(&a, 0, sizeof(a));
		a.role_name = role;
		a.department_id = d;
		a.department_code = dept;
		a.resources = res;
		a.grant_id = d * 1000 + r;
		a.purpose = "benchmark";
		a.command = "SELECT";
		a.query_id = 42;
		a.rows = 1;
		a.grants = grants;
		a.outcome = "ok";
		a.statement = "SELECT v FROM bench.t WHERE id = $1";
		audit_record_at(&a, start + (TimestampTz) (step * (double) (i + 1)));
		if ((i & 1023) == 0)
			MemoryContextReset(tmp);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	PG_RETURN_INT64((int64) audit_flush_for_reader());
}
