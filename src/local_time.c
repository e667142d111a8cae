/*-------------------------------------------------------------------------
 *
 * local_time.c
 *	  pubdata's time zone: the setting pubdata.timezone (default
 *	  Asia/Shanghai).
 *
 * The regulation's days are Lishui's days, whatever the server's or the
 * session's TimeZone: the calendar (is a day a working day, the day of an
 * instant, "today", the end of a deadline's last day), the evaluation's
 * periods, "not in the future" of the quality rules, and the clock of cron
 * schedules all take their days and hours in this one zone.  The launcher
 * and job workers of a server whose TimeZone is UTC therefore run
 * '0 2 * * *' at 02:00 Beijing time, and a session in New York sees the
 * same deadlines as one in Lishui.
 *
 * Only superusers change it (a department must not move its own
 * deadlines); set it in postgresql.conf, or per database with ALTER
 * DATABASE, so that the launcher and every session agree.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "local_time.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#define PUBDATA_DEFAULT_TIMEZONE "Asia/Shanghai"

char	   *pubdata_timezone = NULL;
static pg_tz *local_tz = NULL;

static bool check_timezone(char **newval, void **extra, GucSource source);
static void assign_timezone(const char *newval, void *extra);

/*
 * pubdata_local_time_init
 *		Define pubdata.timezone.
 */
void
pubdata_local_time_init(void)
{
	DefineCustomStringVariable("pubdata.timezone",
							   "Time zone of pubdata's days and schedules: working-day calendar, deadlines, cron.",
							   "A time zone name such as Asia/Shanghai; the server's and the session's TimeZone do not matter.",
							   &pubdata_timezone,
							   PUBDATA_DEFAULT_TIMEZONE,
							   PGC_SUSET,
							   0,
							   check_timezone, assign_timezone, NULL);
}

/*
 * check_timezone
 *		pubdata.timezone names a zone of the time zone database (as TimeZone
 *		does; no numeric offsets, no zones with leap seconds).  The zone goes
 *		to the assign hook in *extra.
 */
static bool
check_timezone(char **newval, void **extra, GucSource source)
{
	pg_tz	   *tz;

	if (*newval == NULL || **newval == '\0')
	{
		GUC_check_errmsg("pubdata.timezone must not be empty");
		GUC_check_errhint("Set it to a time zone name such as Asia/Shanghai.");
		return false;
	}
	tz = pg_tzset(*newval);
	if (tz == NULL)
	{
		GUC_check_errmsg("time zone \"%s\" is not recognized", *newval);
		GUC_check_errhint("Use a name from pg_timezone_names, such as Asia/Shanghai.");
		return false;
	}
	if (!pg_tz_acceptable(tz))
	{
		GUC_check_errmsg("time zone \"%s\" appears to use leap seconds", *newval);
		GUC_check_errdetail("PostgreSQL does not support leap seconds.");
		return false;
	}
	*extra = malloc(sizeof(pg_tz *));
	if (*extra == NULL)
		return false;
	*((pg_tz **) *extra) = tz;
	return true;
}

/*
 * assign_timezone
 *		Make the checked zone the current one.
 */
static void
assign_timezone(const char *newval, void *extra)
{
	local_tz = *((pg_tz **) extra);
}

/*
 * pubdata_tz
 *		The zone of pubdata.timezone.
 */
pg_tz *
pubdata_tz(void)
{
	if (local_tz == NULL)		/* cannot happen once _PG_init has run */
		elog(ERROR, "pubdata.timezone is not defined");
	return local_tz;
}

/*
 * pubdata_local_timestamp
 *		The wall-clock time of t in pubdata.timezone, as a timestamp without
 *		time zone (what t AT TIME ZONE pubdata.timezone gives); infinite
 *		stays infinite.
 */
Timestamp
pubdata_local_timestamp(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	Timestamp	result;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (timestamp2tm(t, &tz, &tm, &fsec, NULL, pubdata_tz()) != 0 ||
		tm2timestamp(&tm, fsec, NULL, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return result;
}

PG_FUNCTION_INFO_V1(pubdata_timezone_sql);

/*
 * pubdata._timezone() returns text
 *		The value of pubdata.timezone, read through the library so that the
 *		setting is defined even in a session that has not loaded it yet.
 */
Datum
pubdata_timezone_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(pubdata_timezone));
}
