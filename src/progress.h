/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  Progress of long pubdata commands (quality measurements, aggregation
 *	  runs), the way pg_stat_progress_* shows PostgreSQL's own (progress.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_PROGRESS_H
#define PUBDATA_PROGRESS_H

#include "postgres.h"

/* the commands */
#define PUBDATA_PROGRESS_QUALITY		1
#define PUBDATA_PROGRESS_AGGREGATION	2

/* the phases */
#define PUBDATA_PHASE_INITIALIZING		0
#define PUBDATA_PHASE_REFERENCES		1	/* reading referenced values */
#define PUBDATA_PHASE_SCANNING			2	/* scanning the table or view */
#define PUBDATA_PHASE_UNIQUE			3	/* counting spilled keys */
#define PUBDATA_PHASE_SAMPLES			4	/* reading failing rows */
#define PUBDATA_PHASE_STORING			5	/* storing the results */
#define PUBDATA_PHASE_AGGREGATING		6	/* an aggregation run's statement */

/* the counters */
#define PUBDATA_PROGRESS_PHASE				0
#define PUBDATA_PROGRESS_RELID				1	/* the relation being read */
#define PUBDATA_PROGRESS_PARTITIONS_TOTAL	2
#define PUBDATA_PROGRESS_PARTITIONS_DONE	3
#define PUBDATA_PROGRESS_BLOCKS_TOTAL		4
#define PUBDATA_PROGRESS_BLOCKS_DONE		5
#define PUBDATA_PROGRESS_ROWS_DONE			6
#define PUBDATA_PROGRESS_WORKERS			7
#define PUBDATA_PROGRESS_MEMORY				8
#define PUBDATA_PROGRESS_NCOUNTERS			9

extern void pubdata_progress_init(void);

/* start showing a command of this backend (ends any shown before) */
extern void pubdata_progress_start(int command, int64 resource_id);

/* the job whose run this backend is (0: none); shown with its commands */
extern void pubdata_progress_set_job(int64 job_id, int64 run_id);

/* set one counter, or add to it */
extern void pubdata_progress_set(int counter, int64 value);
extern void pubdata_progress_add(int counter, int64 value);

/* stop showing this backend's command */
extern void pubdata_progress_end(void);

#endif							/* PUBDATA_PROGRESS_H */
