/*-------------------------------------------------------------------------
 *
 * calendar.h
 *	  Working-day calendar: official holidays and adjusted working days.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_CALENDAR_H
#define PUBDATA_CALENDAR_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/date.h"

/* GUCs */
extern bool pubdata_calendar_strict;
extern int	pubdata_objection_due_days;

extern void pubdata_calendar_init(void);

/* C entry points for other modules (the scheduler's sweeps) */
extern bool pubdata_is_workday(DateADT day);
extern TimestampTz pubdata_add_working_days(TimestampTz t, int n);
extern int	pubdata_working_days_between(DateADT from, DateADT to);
extern DateADT pubdata_local_date(TimestampTz t);

#endif							/* PUBDATA_CALENDAR_H */
