/*-------------------------------------------------------------------------
 *
 * calendar.c
 *	  Working-day arithmetic for deadlines (Art 13: a provider verifies an
 *	  objection within 2 working days).
 *
 * The default week is Monday to Friday.  pubdata.calendar overrides single
 * days (official holidays, and the weekend days made working days, 调休),
 * and pubdata.calendar_year registers the years whose official arrangements
 * (the State Council's) are loaded.
 *
 * A year without an official arrangement is counted on the provisional
 * calendar: the week, less the statutory holidays of 全国年节及纪念日放假办法
 * (2024 revision) listed for that year in pubdata.statutory_holiday (shipped
 * for 2025 to 2035; a year not listed there is the plain week).  The State
 * Council adds bridging days and adjusted working days to the statutory
 * ones, so a count that touches such a year is provisional:
 * pubdata.provisional_between() says so, the deadlines stored on share
 * requests and objections carry the mark, and recompute_deadlines() counts
 * them again once the year is loaded.  A missing arrangement never stops
 * business: only with pubdata.calendar_strict on (off by default) is a
 * computation that needs such a year refused.
 *
 * Every backend keeps the calendar in a cache: for the span of loaded and
 * listed years, one entry per day holding the number of working days before
 * it (a prefix sum), official and provisional days alike.  Counting working days between two dates is then two
 * array reads, and finding the n-th working day a binary search, so a
 * deadline costs about as much as a time-zone conversion.  A statement
 * trigger on the three tables sends a relcache invalidation for the table it
 * fired on; our relcache callback marks the cache stale, in this backend at
 * the next command and in every other backend when the change commits.
 *
 * All dates are taken in pubdata.timezone (Asia/Shanghai unless set
 * otherwise; see local_time.c) whatever the session's TimeZone: the
 * regulation's days are Lishui's days.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "calendar.h"
#include "local_time.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

bool		pubdata_calendar_strict = false;
int			pubdata_objection_due_days = 2;

/*
 * The per-backend cache.  Days are DateADT (days since 2000-01-01).  It
 * covers whole years first_year .. last_year (those of calendar_year and of
 * statutory_holiday); days outside follow the default week and belong to
 * years that are not loaded (provisional).
 */
typedef struct CalendarCache
{
	bool		valid;
	LocalTransactionId only_lxid;	/* valid in this transaction only, or
									 * InvalidLocalTransactionId */
	Oid			calendar_relid;
	Oid			year_relid;
	Oid			statutory_relid;	/* InvalidOid before the update to 0.2 */
	int			first_year;
	int			last_year;		/* first_year > last_year: nothing loaded */
	int64		base;			/* DateADT of 1 January first_year */
	int64		ndays;			/* days covered */
	bool	   *loaded;			/* per year, from first_year: official */
	int32	   *cum;			/* cum[i]: working days in [base, base + i) */
} CalendarCache;

static CalendarCache cache = {false, InvalidLocalTransactionId, InvalidOid, InvalidOid, InvalidOid, 1, 0, 0, 0, NULL, NULL};
static MemoryContext CalendarContext = NULL;
static bool callback_registered = false;
static bool inval_during_build = false;

PG_FUNCTION_INFO_V1(pubdata_is_workday_sql);
PG_FUNCTION_INFO_V1(pubdata_add_working_days_sql);
PG_FUNCTION_INFO_V1(pubdata_working_days_between_date);
PG_FUNCTION_INFO_V1(pubdata_working_days_between_tstz);
PG_FUNCTION_INFO_V1(pubdata_provisional_between_sql);
PG_FUNCTION_INFO_V1(pubdata_calendar_date_sql);
PG_FUNCTION_INFO_V1(pubdata_calendar_changed);
PG_FUNCTION_INFO_V1(pubdata_objection_due_days_sql);

/*
 * pubdata_calendar_init
 *		Define the calendar's and objections' GUCs.  Called from _PG_init.
 */
void
pubdata_calendar_init(void)
{
	DefineCustomBoolVariable("pubdata.calendar_strict",
							 "Refuse working-day computations that need a year whose official arrangement is not loaded.",
							 "When off (the default), a year missing from pubdata.calendar_year is counted on the provisional calendar (weekends and statutory holidays) and the deadlines computed from it are marked provisional.",
							 &pubdata_calendar_strict,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pubdata.objection_due_days",
							"Working days a provider has to verify an objection (Art 13).",
							"The deadline is the end of that working day after the day the objection is raised, in pubdata.timezone.",
							&pubdata_objection_due_days,
							2,
							1, 60,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
}

/*
 * CalendarRelcacheCallback
 *		Mark the cache stale when either calendar table changes (the
 *		statement trigger sends the invalidation) or on a full reset.
 */
static void
CalendarRelcacheCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid ||
		relid == cache.calendar_relid ||
		relid == cache.year_relid ||
		relid == cache.statutory_relid)
	{
		cache.valid = false;
		inval_during_build = true;
	}
}

/* day of week of a DateADT: 0 = Sunday .. 6 = Saturday */
static inline int
DayOfWeek(int64 day)
{
	int			d = (int) ((day + 6) % 7);	/* 2000-01-01 was a Saturday */

	return d < 0 ? d + 7 : d;
}

/* year of a DateADT */
static int
YearOf(int64 day)
{
	int			y,
				m,
				d;

	j2date((int) (day + POSTGRES_EPOCH_JDATE), &y, &m, &d);
	return y;
}

/* DateADT of 1 January of a year */
static int64
FirstDayOf(int year)
{
	return (int64) date2j(year, 1, 1) - POSTGRES_EPOCH_JDATE;
}

/*
 * WeekdayCount
 *		Number of Monday-to-Friday days in [a, b).
 */
static int64
WeekdayCount(int64 a, int64 b)
{
	int64		weeks,
				count,
				x;

	if (b <= a)
		return 0;
	weeks = (b - a) / 7;
	count = weeks * 5;
	for (x = a + weeks * 7; x < b; x++)
	{
		int			dow = DayOfWeek(x);

		if (dow >= 1 && dow <= 5)
			count++;
	}
	return count;
}

/*
 * NthWeekday
 *		The day x >= start such that [start, x] holds n Monday-to-Friday
 *		days and x is one of them (n >= 1).
 */
static int64
NthWeekday(int64 start, int64 n)
{
	int64		x = start;
	int			dow = DayOfWeek(x);
	int64		r;

	Assert(n >= 1);
	if (dow == 6)
		x += 2;
	else if (dow == 0)
		x += 1;
	n -= 1;
	x += (n / 5) * 7;
	r = n % 5;
	dow = DayOfWeek(x);
	if (dow + r > 5)
		x += r + 2;
	else
		x += r;
	return x;
}

/*
 * CalendarRelid
 *		The OID of pubdata.<name>, or a clear error when the extension's
 *		tables are missing (InvalidOid when missing_ok).
 */
static Oid
CalendarRelid(const char *name, bool missing_ok)
{
	Oid			nsp = get_namespace_oid("pubdata", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;

	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"pubdata.%s\" does not exist", name),
				 errhint("Run CREATE EXTENSION pubdata in this database.")));
	return relid;
}

/*
 * CalendarScan
 *		Call fn for each row of rel (columns col1, col2) under snapshot.
 */
typedef void (*CalendarRowFn) (Datum v1, bool n1, Datum v2, bool n2, void *arg);

static void
CalendarScan(Relation rel, Snapshot snapshot, const char *col1,
			 const char *col2, CalendarRowFn fn, void *arg)
{
	AttrNumber	a1 = get_attnum(RelationGetRelid(rel), col1);
	AttrNumber	a2 = col2 ? get_attnum(RelationGetRelid(rel), col2) : InvalidAttrNumber;
	TupleTableSlot *slot;
	TableScanDesc scan;

	if (a1 == InvalidAttrNumber || (col2 && a2 == InvalidAttrNumber))
		elog(ERROR, "pubdata: calendar table \"%s\" lacks its columns",
			 RelationGetRelationName(rel));

	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		n1,
					n2 = true;
		Datum		v1 = slot_getattr(slot, a1, &n1);
		Datum		v2 = col2 ? slot_getattr(slot, a2, &n2) : (Datum) 0;

		fn(v1, n1, v2, n2, arg);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
}

/* first pass: the span of years (of calendar_year.year, statutory_holiday.year) */
typedef struct YearSpan
{
	int			lo;
	int			hi;
}			YearSpan;

static void
SpanYear(Datum v1, bool n1, Datum v2, bool n2, void *arg)
{
	YearSpan   *s = (YearSpan *) arg;
	int			y;

	if (n1)
		return;
	y = DatumGetInt32(v1);
	if (y < s->lo)
		s->lo = y;
	if (y > s->hi)
		s->hi = y;
}

static void
MarkYear(Datum v1, bool n1, Datum v2, bool n2, void *arg)
{
	int			y;

	if (n1)
		return;
	y = DatumGetInt32(v1);
	if (y >= cache.first_year && y <= cache.last_year)
		cache.loaded[y - cache.first_year] = true;
}

/*
 * second pass: a statutory holiday is a day of rest in a year without an
 * official arrangement (the provisional calendar); in an official year only
 * the arrangement counts
 */
static void
MarkStatutory(Datum v1, bool n1, Datum v2, bool n2, void *arg)
{
	uint8	   *work = (uint8 *) arg;
	int64		i;
	int			y;

	if (n1)
		return;
	i = (int64) DatumGetDateADT(v1) - cache.base;
	if (i < 0 || i >= cache.ndays)
		return;
	y = YearOf(cache.base + i);
	if (!cache.loaded[y - cache.first_year])
		work[i] = 0;
}

/* third pass: the official arrangements' days into a 0/1 array */
static void
MarkDay(Datum v1, bool n1, Datum v2, bool n2, void *arg)
{
	uint8	   *work = (uint8 *) arg;
	int64		i;

	if (n1 || n2)
		return;
	i = (int64) DatumGetDateADT(v1) - cache.base;
	if (i >= 0 && i < cache.ndays)
		work[i] = DatumGetBool(v2) ? 1 : 0;
}

/*
 * CalendarLoad
 *		Rebuild the cache from pubdata.calendar_year, pubdata.calendar and
 *		pubdata.statutory_holiday when it is stale.
 *
 * The tables are read with a fresh snapshot: the calendar is reference data
 * shared by all transactions, and a change committed after that snapshot
 * sends an invalidation we process later, so the cache is never left stale.
 * In parallel mode (a parallel worker, or a leader running a parallel plan)
 * no new snapshot may be taken: the query's snapshot is used and the cache
 * kept for the current transaction only.
 * The scans need no privilege on the tables (the calendar is public
 * knowledge); only pubdata_admin may change them, and nobody the statutory
 * days (they come with the extension).
 */
static void
CalendarLoad(void)
{
	Relation	yrel,
				crel,
				srel = NULL;
	Snapshot	snapshot;
	YearSpan	span = {INT_MAX, INT_MIN};
	uint8	   *work;
	int64		i;

	if (cache.valid &&
		(cache.only_lxid == InvalidLocalTransactionId || cache.only_lxid == MyProc->lxid))
		return;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(CalendarRelcacheCallback, (Datum) 0);
		callback_registered = true;
	}
	if (CalendarContext == NULL)
		CalendarContext = AllocSetContextCreate(CacheMemoryContext,
												"pubdata calendar",
												ALLOCSET_SMALL_SIZES);

	cache.year_relid = CalendarRelid("calendar_year", false);
	cache.calendar_relid = CalendarRelid("calendar", false);
	/* missing in a database still at 0.1 (before ALTER EXTENSION UPDATE) */
	cache.statutory_relid = CalendarRelid("statutory_holiday", true);
	/* taking the locks processes pending invalidations */
	yrel = table_open(cache.year_relid, AccessShareLock);
	crel = table_open(cache.calendar_relid, AccessShareLock);
	if (OidIsValid(cache.statutory_relid))
		srel = table_open(cache.statutory_relid, AccessShareLock);
	inval_during_build = false;

	MemoryContextReset(CalendarContext);
	cache.loaded = NULL;
	cache.cum = NULL;
	cache.first_year = 1;
	cache.last_year = 0;
	cache.base = cache.ndays = 0;

	/*
	 * A parallel query cannot take a new snapshot: read the query's own and
	 * keep the result for this transaction only.
	 */
	if (IsInParallelMode())
	{
		snapshot = RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot()
									: GetTransactionSnapshot());
		cache.only_lxid = MyProc->lxid;
	}
	else
	{
		snapshot = RegisterSnapshot(GetLatestSnapshot());
		cache.only_lxid = InvalidLocalTransactionId;
	}

	CalendarScan(yrel, snapshot, "year", NULL, SpanYear, &span);
	if (srel)
		CalendarScan(srel, snapshot, "year", NULL, SpanYear, &span);
	if (span.lo <= span.hi)
	{
		MemoryContext old = MemoryContextSwitchTo(CalendarContext);

		cache.first_year = span.lo;
		cache.last_year = span.hi;
		cache.base = FirstDayOf(span.lo);
		cache.ndays = FirstDayOf(span.hi + 1) - cache.base;
		cache.loaded = palloc0(sizeof(bool) * (span.hi - span.lo + 1));
		cache.cum = palloc(sizeof(int32) * (cache.ndays + 1));
		MemoryContextSwitchTo(old);

		work = palloc(cache.ndays);
		for (i = 0; i < cache.ndays; i++)
		{
			int			dow = DayOfWeek(cache.base + i);

			work[i] = (dow >= 1 && dow <= 5) ? 1 : 0;
		}
		CalendarScan(yrel, snapshot, "year", NULL, MarkYear, NULL);
		if (srel)
			CalendarScan(srel, snapshot, "day", NULL, MarkStatutory, work);
		CalendarScan(crel, snapshot, "day", "is_workday", MarkDay, work);

		cache.cum[0] = 0;
		for (i = 0; i < cache.ndays; i++)
			cache.cum[i + 1] = cache.cum[i] + work[i];
		pfree(work);
	}

	UnregisterSnapshot(snapshot);
	if (srel)
		table_close(srel, AccessShareLock);
	table_close(crel, AccessShareLock);
	table_close(yrel, AccessShareLock);

	/* an invalidation that arrived meanwhile makes the next call rebuild */
	cache.valid = !inval_during_build;
}

/* is a year's official arrangement loaded? */
static bool
YearLoaded(int year)
{
	if (year < cache.first_year || year > cache.last_year)
		return false;
	return cache.loaded[year - cache.first_year];
}

/*
 * SpanProvisional
 *		Does a day of [a, b] belong to a year without an official
 *		arrangement, i.e. is a count over these days provisional?
 */
static bool
SpanProvisional(int64 a, int64 b)
{
	int			y,
				ylast;

	if (b < a)
		return false;
	y = YearOf(a);
	ylast = YearOf(b);
	if (y < cache.first_year || ylast > cache.last_year)
		return true;
	for (; y <= ylast; y++)
	{
		if (!cache.loaded[y - cache.first_year])
			return true;
	}
	return false;
}

/*
 * RequireYears
 *		With pubdata.calendar_strict on, error unless every year holding a
 *		day of [a, b] is loaded.
 */
static void
RequireYears(int64 a, int64 b)
{
	int			y,
				ylast;

	if (!pubdata_calendar_strict || b < a)
		return;
	ylast = YearOf(b);
	for (y = YearOf(a); y <= ylast; y++)
	{
		if (!YearLoaded(y))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("working-day calendar for year %d is not loaded", y),
					 errdetail("The computation needs days of %d, pubdata.calendar_year has no official arrangement for it, and pubdata.calendar_strict is on.", y),
					 errhint("Ask pubdata_admin to load the official arrangement with pubdata.load_calendar_year(%d, holidays, workdays), or SET pubdata.calendar_strict = off to count the year on the provisional calendar (weekends and statutory holidays).", y)));
	}
}

/*
 * WorkdayCount
 *		Number of working days in [a, b).
 */
static int64
WorkdayCount(int64 a, int64 b)
{
	int64		end = cache.base + cache.ndays;
	int64		count = 0;

	if (b <= a)
		return 0;
	if (cache.ndays == 0)
		return WeekdayCount(a, b);
	if (a < cache.base)
		count += WeekdayCount(a, Min(b, cache.base));
	if (Max(a, cache.base) < Min(b, end))
		count += cache.cum[Min(b, end) - cache.base] - cache.cum[Max(a, cache.base) - cache.base];
	if (Max(a, end) < b)
		count += WeekdayCount(Max(a, end), b);
	return count;
}

/*
 * NthWorkday
 *		The working day x >= start such that [start, x] holds n working
 *		days (n >= 1).
 */
static int64
NthWorkday(int64 start, int64 n)
{
	int64		end = cache.base + cache.ndays;

	if (cache.ndays > 0 && start < cache.base)
	{
		int64		c = WeekdayCount(start, cache.base);

		if (c >= n)
			return NthWeekday(start, n);
		n -= c;
		start = cache.base;
	}
	if (cache.ndays > 0 && start < end)
	{
		int64		i0 = start - cache.base;
		int64		target = cache.cum[i0] + n;

		if (target <= cache.cum[cache.ndays])
		{
			/* smallest j with cum[j] >= target; the day is j - 1 */
			int64		lo = i0 + 1,
						hi = cache.ndays;

			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (cache.cum[mid] >= target)
					hi = mid;
				else
					lo = mid + 1;
			}
			return cache.base + lo - 1;
		}
		n -= cache.cum[cache.ndays] - cache.cum[i0];
		start = end;
	}
	return NthWeekday(start, n);
}

/*
 * CheckDate
 *		Refuse infinite dates.
 */
static void
CheckDate(DateADT d)
{
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("working days cannot be computed for an infinite date")));
}

/*
 * pubdata_local_date
 *		The date of t in pubdata.timezone.
 */
DateADT
pubdata_local_date(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("working days cannot be computed for an infinite timestamp")));
	if (timestamp2tm(t, &tz, &tm, &fsec, NULL, pubdata_tz()) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

/*
 * EndOfDay
 *		The last instant (…23:59:59.999999) of a day in pubdata.timezone: the
 *		start of the next local day minus one microsecond, so that a deadline
 *		compares correctly with "<=" and falls on the right day.
 */
static TimestampTz
EndOfDay(int64 day)
{
	struct pg_tm tm;
	int			tz;
	TimestampTz result;

	if (day + 1 + POSTGRES_EPOCH_JDATE >= TIMESTAMP_END_JULIAN)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("deadline out of range")));
	memset(&tm, 0, sizeof(tm));
	j2date((int) (day + 1 + POSTGRES_EPOCH_JDATE), &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tz = DetermineTimeZoneOffset(&tm, pubdata_tz());
	if (tm2timestamp(&tm, 0, &tz, &result) != 0 || !IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("deadline out of range")));
	return result - 1;
}

/*
 * pubdata_is_workday
 *		Is the day a working day?
 */
bool
pubdata_is_workday(DateADT day)
{
	CheckDate(day);
	CalendarLoad();
	RequireYears(day, day);
	return WorkdayCount(day, (int64) day + 1) == 1;
}

/*
 * pubdata_add_working_days
 *		The end of the n-th working day after the day of t (pubdata.timezone).
 *
 * The day of receipt never counts, whatever kind of day it is.  n = 0 is
 * the end of the day of receipt itself (due the same day), so that
 * working_days_between(t, add_working_days(t, n)) = n for every n >= 0.
 * Negative n is refused: counting backwards has no use in the regulation
 * and two plausible meanings.
 */
TimestampTz
pubdata_add_working_days(TimestampTz t, int n)
{
	int64		d = pubdata_local_date(t);
	int64		e;

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of working days must not be negative: %d", n),
				 errhint("A deadline is a number of working days after the day of receipt; use 0 for the same day.")));
	if (n == 0)
		return EndOfDay(d);

	CalendarLoad();
	e = NthWorkday(d + 1, n);
	if (e + 1 + POSTGRES_EPOCH_JDATE >= TIMESTAMP_END_JULIAN)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("deadline out of range")));
	RequireYears(d + 1, e);
	return EndOfDay(e);
}

/*
 * pubdata_working_days_between
 *		Working days after the day from up to and including the day to:
 *		the count in (from, to]; negative when to is before from.
 */
int
pubdata_working_days_between(DateADT from, DateADT to)
{
	int64		c;

	CheckDate(from);
	CheckDate(to);
	if (from == to)
		return 0;
	CalendarLoad();
	if (from < to)
	{
		RequireYears((int64) from + 1, to);
		c = WorkdayCount((int64) from + 1, (int64) to + 1);
		return (int) c;
	}
	RequireYears((int64) to + 1, from);
	c = WorkdayCount((int64) to + 1, (int64) from + 1);
	return (int) -c;
}

/*
 * pubdata.is_workday(date) returns boolean
 */
Datum
pubdata_is_workday_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pubdata_is_workday(PG_GETARG_DATEADT(0)));
}

/*
 * pubdata.add_working_days(timestamptz, integer) returns timestamptz
 */
Datum
pubdata_add_working_days_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(pubdata_add_working_days(PG_GETARG_TIMESTAMPTZ(0),
												   PG_GETARG_INT32(1)));
}

/*
 * pubdata.working_days_between(date, date) returns integer
 */
Datum
pubdata_working_days_between_date(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(pubdata_working_days_between(PG_GETARG_DATEADT(0),
												 PG_GETARG_DATEADT(1)));
}

/*
 * pubdata.working_days_between(timestamptz, timestamptz) returns integer
 *		The same on the days of both instants in pubdata.timezone.
 */
Datum
pubdata_working_days_between_tstz(PG_FUNCTION_ARGS)
{
	DateADT		from = pubdata_local_date(PG_GETARG_TIMESTAMPTZ(0));
	DateADT		to = pubdata_local_date(PG_GETARG_TIMESTAMPTZ(1));

	PG_RETURN_INT32(pubdata_working_days_between(from, to));
}

/*
 * pubdata.provisional_between(timestamptz, timestamptz) returns boolean
 *		Is a day after the day of the first instant, up to and including the
 *		day of the second (Asia/Shanghai), counted on the provisional
 *		calendar?  For a deadline d = add_working_days(t, n):
 *		provisional_between(t, d) says whether d may move when the official
 *		arrangement of its years is loaded.  Never an error for a year not
 *		loaded, whatever pubdata.calendar_strict says: it is the question.
 */
Datum
pubdata_provisional_between_sql(PG_FUNCTION_ARGS)
{
	int64		from = pubdata_local_date(PG_GETARG_TIMESTAMPTZ(0));
	int64		to = pubdata_local_date(PG_GETARG_TIMESTAMPTZ(1));

	if (to <= from)
		PG_RETURN_BOOL(false);
	CalendarLoad();
	PG_RETURN_BOOL(SpanProvisional(from + 1, to));
}

/*
 * pubdata._calendar_date(timestamptz) returns date
 *		The calendar's day of an instant (Asia/Shanghai): "today" for the
 *		views that warn about years not loaded.
 */
Datum
pubdata_calendar_date_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(pubdata_local_date(PG_GETARG_TIMESTAMPTZ(0)));
}

/*
 * pubdata._calendar_changed() trigger
 *		Statement trigger on pubdata.calendar, pubdata.calendar_year and
 *		pubdata.statutory_holiday:
 *		invalidate the table's relcache entry, which every backend's
 *		calendar cache listens to.
 */
Datum
pubdata_calendar_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pubdata._calendar_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	PG_RETURN_POINTER(NULL);
}

/*
 * pubdata._objection_due_days() returns integer
 *		The value of pubdata.objection_due_days, read through the library so
 *		that the GUC is defined even in a session that has not loaded it.
 */
Datum
pubdata_objection_due_days_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(pubdata_objection_due_days);
}
