/*-------------------------------------------------------------------------
 *
 * scheduler.h
 *	  The pubdata scheduler: a supervisor that keeps a launcher running in
 *	  pubdata.database, and the launcher, which starts one dynamic "job
 *	  worker" per due run of pubdata.job (aggregation at the catalog's
 *	  frequency, sweeps, custom jobs).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_SCHEDULER_H
#define PUBDATA_SCHEDULER_H

#include "postgres.h"

#include "fmgr.h"

/* GUCs */
extern char *pubdata_database;
extern int	pubdata_max_job_workers;
extern int	pubdata_job_run_retention;
extern int	pubdata_overdue_grace;

extern void pubdata_scheduler_init(void);

/* background worker entry points (looked up by name by the postmaster) */
extern PGDLLEXPORT void pubdata_supervisor_main(Datum main_arg);
extern PGDLLEXPORT void pubdata_launcher_main(Datum main_arg);
extern PGDLLEXPORT void pubdata_job_worker_main(Datum main_arg);
extern PGDLLEXPORT void pubdata_pool_worker_main(Datum main_arg);

/* wake the launcher (no-op when it is not running or not preloaded) */
extern void pubdata_wake_launcher(void);
/* a commit appended OpenLineage runs: the launcher publishes them soon */
extern void pubdata_stream_committed(void);

#endif							/* PUBDATA_SCHEDULER_H */
