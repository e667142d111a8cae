/*-------------------------------------------------------------------------
 *
 * local_time.h
 *	  pubdata's time zone (pubdata.timezone): the zone whose days the
 *	  working-day calendar counts and whose clock cron schedules follow.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_LOCAL_TIME_H
#define PUBDATA_LOCAL_TIME_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"

/* the value of pubdata.timezone, as set */
extern char *pubdata_timezone;

/* Called from _PG_init: defines pubdata.timezone */
extern void pubdata_local_time_init(void);

/* the zone pubdata.timezone names (never NULL once the GUC is defined) */
extern pg_tz *pubdata_tz(void);

/* the local time (timestamp without time zone) of t in pubdata.timezone */
extern Timestamp pubdata_local_timestamp(TimestampTz t);

#endif							/* PUBDATA_LOCAL_TIME_H */
