/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *	  The pubdata scheduler (Art 8(5), 14, 15): a supervisor, a launcher
 *	  background worker and a pool of job workers.
 *
 * The launcher lives in the database named by pubdata.database.  A
 * supervisor, registered when the library is preloaded and connected to no
 * database, waits on its latch until that database exists, starts the
 * launcher in it as a dynamic background worker and starts it again two
 * seconds after it stops (SIGTERM, an error), so that nobody exits with an
 * error code only to be restarted: start, stop and waiting leave nothing
 * but LOG lines.  The launcher sleeps on its latch until the next job in
 * pubdata.job is due, the job table changes (a statement trigger sets the
 * launcher's latch when the changing transaction commits), a job worker
 * exits, or housekeeping is due.  It hands each due run to a pool of
 * long-lived job workers ("pubdata job worker", at most
 * pubdata.max_job_workers; see "The pool of job workers" below), and moves
 * the job's next_run_at to its next occurrence after now:
 * a server that was down for a while therefore runs each job at most once to
 * catch up.  A scheduled run of a built-in job (the sweeps every minute,
 * lineage compaction) that found nothing to do leaves no row in job_run.
 *
 * A job worker takes a session advisory lock on its job (so that one job
 * never runs twice at once, whoever started it), records the run as
 * 'running' in its own transaction, then runs the job as the job's role
 * with the job's statement timeout in a second transaction that also records
 * the success: the data and the record of the run commit together, so a run
 * killed half way leaves nothing written.  On error the transaction is rolled
 * back and the failure (and the retry with back-off) recorded in a third.
 * A run left 'running' by a worker that died is marked failed by the
 * launcher's housekeeping.  SIGTERM (a server shutdown, pg_terminate_backend)
 * cancels a running job like a statement cancel: the job's transaction is
 * rolled back, the run recorded as failed, and the worker exits with code 0;
 * a second SIGTERM ends it at once.  Once a day (in pubdata.timezone) the
 * housekeeping also calls pubdata.check_calendar(today), which warns while
 * this year, or from 1 November next year, has no official working-day
 * arrangement.  The launcher also watches the access audit (audit_anchor.c):
 * in its first iteration it raises the alert of what recovery found missing
 * and checks the log against the newest anchor, and every
 * pubdata.audit_anchor_interval it anchors the chain head; at its clean
 * stop, a last anchor.
 *
 * The job runs what a department wrote (its query, its functions, the
 * triggers and defaults of its tables), and the worker is a superuser.  So
 * the job runs through pubdata_become() as its role in a security-restricted
 * operation (no SET ROLE, no temporary objects, no WITH HOLD cursor, no
 * deferred trigger left for commit: constraints are made immediate, so that
 * deferrable triggers fire as the job's role when their statement ends),
 * with a fresh GUC nest level: every setting the job makes, set_config(...,
 * true) included, is gone when it returns.  Only then is the run recorded,
 * as the extension owner with search_path pinned, in SQL whose every
 * operator and function is schema-qualified.  Both workers also pin their
 * session's search_path at start.
 *
 * The SQL side (tables, scheduling rules, overdue detection) is in
 * src/sql/65_scheduler.sql; this file holds what must be in C: the workers,
 * the latch wake-up, the cron parser and the check that a job's source is
 * a single SELECT.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit_anchor.h"
#include "calendar.h"
#include "identity.h"
#include "local_time.h"
#include "progress.h"
#include "scheduler.h"

#include <signal.h>
#include <unistd.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "catalog/pg_database.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "commands/dbcommands.h"
#include "commands/prepare.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/regproc.h"

/* GUCs */
char	   *pubdata_database = NULL;
int			pubdata_max_job_workers = 4;
int			pubdata_job_run_retention = 30 * 24 * 60;	/* minutes */
int			pubdata_overdue_grace = 5;	/* minutes */

/* how often the launcher does housekeeping (orphans, retention, overdue) */
#define HOUSEKEEPING_INTERVAL_MS	60000L

/* the OpenLineage stream: publish at most this often after commits that
 * appended runs, and at least this often (COMMIT PREPARED) */
#define STREAM_PUBLISH_MS	100
#define STREAM_SWEEP_MS		1000
/* and after a failed publication, not before this */
#define STREAM_RETRY_MS		10000
/* how often the supervisor looks for pubdata.database while it is missing */
#define WAIT_FOR_SETUP_MS			5000L
/* locktag_field4 of the per-job advisory lock (user advisory locks use 1 and 2) */
#define JOB_LOCK_FIELD4				80
/* supervisor restart delay after a crash; launcher restart delay after it stops */
#define LAUNCHER_RESTART_SECONDS	2

/* the most job workers in the pool (pubdata.max_job_workers is capped by it) */
#define POOL_SLOTS					64
/* a pool worker with nothing to do for this long exits */
#define POOL_IDLE_MS				60000L

/*
 * One place of the pool of job workers.  The launcher hands a run to the
 * worker of a place (assigned, with the run's ids) and sets its latch; the
 * worker runs it and clears assigned.  Only the launcher sets assigned and
 * starts a place's worker; only the worker sets pid and latch.
 */
typedef struct PoolSlot
{
	pid_t		pid;			/* the worker in this place, 0 if none */
	Latch	   *latch;
	pid_t		launcher_pid;	/* the launcher that started it */
	bool		assigned;		/* a run is handed over and not finished */
	int64		job_id;
	int64		run_id;
	TimestampTz scheduled_at;
} PoolSlot;

/* state shared between the launcher and every backend */
typedef struct SchedShmem
{
	slock_t		mutex;
	pid_t		launcher_pid;	/* 0 when no launcher is running */
	Latch	   *launcher_latch;
	Oid			launcher_dboid; /* its database */
	pg_atomic_uint32 stream_pending;	/* runs committed since the last
										 * publication (lineage_stream.c) */
	PoolSlot	pool[POOL_SLOTS];
} SchedShmem;

static SchedShmem *sched = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* set by the job table's trigger; the launcher is woken at commit */
static bool wake_at_commit = false;
static bool xact_callback_registered = false;

/* not preloaded: the transaction that was told jobs do not run */
static LocalTransactionId warned_lxid = InvalidLocalTransactionId;

static volatile sig_atomic_t got_sigterm = false;

/* a job worker: true while the job itself runs (SIGTERM cancels it) */
static volatile sig_atomic_t job_running = false;

/* the launcher's last look at the access audit chain, and whether it has
 * made its first (the check against the newest anchor) */
static TimestampTz audit_watched_at = 0;
static bool audit_watch_started = false;

/* the launcher's last day (in pubdata.timezone) of pubdata.check_calendar() */
static DateADT calendar_checked_on = DATEVAL_NOBEGIN;

/* what a job worker is told to do, in bgw_extra */
typedef struct JobWorkerArgs
{
	int64		job_id;
	int64		run_id;
	TimestampTz scheduled_at;	/* 0 for a run started by run_job_now() */
	Oid			dboid;
} JobWorkerArgs;

/* a run the launcher handed to the pool and waits for */
typedef struct LaunchedJob
{
	int64		job_id;
	int64		run_id;
	int			slot;			/* its place in the pool */
} LaunchedJob;

/* what a pool worker is told at start, in bgw_extra */
typedef struct PoolWorkerArgs
{
	int			slot;
	Oid			dboid;
} PoolWorkerArgs;

/* the launcher's handles of the pool's workers, by place */
static BackgroundWorkerHandle *pool_handles[POOL_SLOTS];

/* a job's definition, as the job worker reads it */
typedef struct JobDef
{
	char	   *kind;
	char	   *source;
	bool		source_is_query;
	char	   *mode;
	List	   *key_columns;	/* of char * */
	char	   *run_id_column;
	Oid			run_as;
	int64		timeout_ms;
	Oid			target;
	char	   *resource_code;
	bool		builtin;		/* created by the extension */
} JobDef;

static void sched_shmem_request(void);
static void sched_shmem_startup(void);
static void sched_xact_callback(XactEvent event, void *arg);
static void launcher_sigterm(SIGNAL_ARGS);
static void job_worker_sigterm(SIGNAL_ARGS);
static void launcher_detach(int code, Datum arg);
static bool start_launcher(Oid dboid, BackgroundWorkerHandle **handle);
static long launcher_iteration(List **launched, TimestampTz *last_housekeeping);
static void launcher_check_calendar(DateADT today);
static bool launcher_audit_watch(bool starting, bool shutdown);
static void launcher_audit_shutdown(void);
static bool start_job_worker(int64 job_id, int64 run_id, TimestampTz scheduled_at,
							 pid_t notify_pid, BackgroundWorkerHandle **handle);
static void run_job(JobDef *jd, int64 run_id, int64 *nread, int64 *nwritten);
static void run_one(const JobWorkerArgs *args);
static bool pool_worker_gone(int slot);
static void pool_reap(void);
static int	pool_dispatch(int64 job_id, int64 run_id, TimestampTz scheduled_at);
static bool start_pool_worker(int slot, BackgroundWorkerHandle **handle);
static void pool_detach(int code, Datum arg);
static void pool_reset_session(void);
static int64 run_sweep(const char *sql);
static void run_aggregation(JobDef *jd, int64 run_id, int64 *nread, int64 *nwritten);
static void check_single_select(const char *query);
static bool extension_present(void);
static void launcher_publish_stream(void);
static void pin_search_path(void);
static void constraints_immediate(void);

/*
 * pubdata_scheduler_init
 *		Define the scheduler's GUCs; when preloaded, reserve shared memory and
 *		register the supervisor (which starts the launcher).
 */
void
pubdata_scheduler_init(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("pubdata.database",
							   "Database in which the pubdata launcher runs scheduled jobs.",
							   "The pubdata extension must be installed there; the launcher waits until it is.",
							   &pubdata_database,
							   "postgres",
							   pubdata_startup_context(),
							   0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.max_job_workers",
							"Maximum number of pubdata job workers running at once.",
							"The job workers are a pool of background workers (at most 64); they count against max_worker_processes.",
							&pubdata_max_job_workers,
							4, 1, 1024,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.job_run_retention",
							"How long the history of finished job runs is kept.",
							"Older rows of pubdata.job_run are deleted by the launcher; 0 keeps them forever.",
							&pubdata_job_run_retention,
							30 * 24 * 60, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pubdata.overdue_grace",
							"Grace added to a resource's update frequency before it counts as overdue.",
							"A daily resource is overdue when its last successful aggregation is older than one day plus this.",
							&pubdata_overdue_grace,
							5, 0, 7 * 24 * 60,
							PGC_SIGHUP,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	if (!pubdata_preloaded)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = sched_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = sched_shmem_startup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = LAUNCHER_RESTART_SECONDS;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pubdata");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pubdata_supervisor_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pubdata supervisor");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pubdata supervisor");
	RegisterBackgroundWorker(&worker);
}

/*
 * sched_shmem_request
 *		Ask for the scheduler's small piece of shared memory.
 */
static void
sched_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SchedShmem)));
}

/*
 * sched_shmem_startup
 *		Create or attach the scheduler's shared state.
 */
static void
sched_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sched = ShmemInitStruct("pubdata scheduler", sizeof(SchedShmem), &found);
	if (!found)
	{
		SpinLockInit(&sched->mutex);
		sched->launcher_pid = 0;
		sched->launcher_latch = NULL;
		sched->launcher_dboid = InvalidOid;
		pg_atomic_init_u32(&sched->stream_pending, 0);
		memset(sched->pool, 0, sizeof(sched->pool));
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * pubdata_wake_launcher
 *		Set the launcher's latch so that it looks at the job table again.
 */
void
pubdata_wake_launcher(void)
{
	Latch	   *latch = NULL;

	if (sched == NULL)
		return;
	SpinLockAcquire(&sched->mutex);
	if (sched->launcher_pid != 0 && sched->launcher_pid != MyProcPid)
		latch = sched->launcher_latch;
	SpinLockRelease(&sched->mutex);
	if (latch)
		SetLatch(latch);
}

/*
 * pubdata_stream_committed
 *		A committed transaction appended OpenLineage runs to be published:
 *		set the flag, and the launcher's latch only when the flag was clear
 *		(one wake-up per publication, however many commits), and only in the
 *		launcher's database.
 */
void
pubdata_stream_committed(void)
{
	if (sched == NULL || sched->launcher_dboid != MyDatabaseId)
		return;
	if (pg_atomic_exchange_u32(&sched->stream_pending, 1) != 0)
		return;
	pubdata_wake_launcher();
}

/*
 * launcher_publish_stream
 *		Publish the committed OpenLineage runs (pubdata.openlineage_publish(),
 *		which notifies pubdata_lineage) in a transaction of its own.
 */
static void
launcher_publish_stream(void)
{
	if (RecoveryInProgress())
		return;					/* the primary publishes; a standby replays it */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "publishing the OpenLineage stream");
	if (extension_present() && OidIsValid(pubdata_relation_oid("openlineage_pending")))
	{
		int			rc = SPI_execute("SELECT pubdata.openlineage_publish()", false, 0);

		if (rc != SPI_OK_SELECT)
			elog(ERROR, "publishing the OpenLineage stream failed: %s", SPI_result_code_string(rc));
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * sched_xact_callback
 *		Wake the launcher once a transaction that changed pubdata.job commits
 *		(waking it earlier would let it read the table before the change).
 */
static void
sched_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_at_commit)
				pubdata_wake_launcher();
			wake_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_at_commit = false;
			break;
		default:
			break;
	}
}

PG_FUNCTION_INFO_V1(pubdata_job_changed);

/*
 * pubdata._job_changed() trigger
 *		Statement trigger on pubdata.job: wake the launcher at commit.  When
 *		jobs are added and there is no launcher (the library is not
 *		preloaded), say that they will not run on their schedule.
 */
Datum
pubdata_job_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pubdata._job_changed() must be called as a trigger")));
	if (!pubdata_preloaded && warned_lxid != MyProc->lxid &&
		TRIGGER_FIRED_BY_INSERT(((TriggerData *) fcinfo->context)->tg_event))
	{
		warned_lxid = MyProc->lxid; /* once per transaction */
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pubdata's scheduler is not running: jobs do not run on their schedule"),
				 errdetail("The pubdata library is not loaded via shared_preload_libraries; a job runs only when started with pubdata.run_job_now()."),
				 errhint("Add pubdata to shared_preload_libraries in postgresql.conf and restart the server.")));
	}
	if (!xact_callback_registered)
	{
		RegisterXactCallback(sched_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_at_commit = true;
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(pubdata_wake_launcher_sql);

/*
 * pubdata._wake_launcher() returns boolean
 *		Wake the launcher now (used after CREATE EXTENSION); true if a
 *		launcher is running.
 */
Datum
pubdata_wake_launcher_sql(PG_FUNCTION_ARGS)
{
	bool		running = false;

	if (sched != NULL)
	{
		SpinLockAcquire(&sched->mutex);
		running = sched->launcher_pid != 0;
		SpinLockRelease(&sched->mutex);
	}
	pubdata_wake_launcher();
	PG_RETURN_BOOL(running);
}

PG_FUNCTION_INFO_V1(pubdata_launcher_pid);

/*
 * pubdata.launcher_pid() returns integer
 *		The launcher's process id, or NULL when none runs.
 */
Datum
pubdata_launcher_pid(PG_FUNCTION_ARGS)
{
	pid_t		pid = 0;

	if (sched != NULL)
	{
		SpinLockAcquire(&sched->mutex);
		pid = sched->launcher_pid;
		SpinLockRelease(&sched->mutex);
	}
	if (pid == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32((int32) pid);
}

/* ------------------------------------------------------------------------
 * The launcher
 * ------------------------------------------------------------------------
 */

/*
 * launcher_sigterm
 *		SIGTERM: finish the current iteration and exit cleanly.
 */
static void
launcher_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * job_worker_sigterm
 *		SIGTERM of a job worker: while the job runs, cancel it as a
 *		statement cancel would (the worker records the run as failed and
 *		exits with code 0); a second SIGTERM during the job ends the worker
 *		at once (die).  Between transactions only the flag is set.
 */
static void
job_worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	if (job_running && got_sigterm)
		die(postgres_signal_arg);
	else if (job_running)
	{
		QueryCancelPending = true;
		InterruptPending = true;
	}
	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * launcher_detach
 *		On exit, stop advertising the launcher's latch.
 */
static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&sched->mutex);
	if (sched->launcher_pid == MyProcPid)
	{
		sched->launcher_pid = 0;
		sched->launcher_latch = NULL;
		sched->launcher_dboid = InvalidOid;
	}
	SpinLockRelease(&sched->mutex);
}

/*
 * find_database
 *		The OID of a database by name, read from the shared catalog
 *		pg_database with a plain scan (as the autovacuum launcher does: there
 *		is no database selected, so the syscaches cannot be used).
 */
static Oid
find_database(const char *name)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid			result = InvalidOid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), name) == 0 && db->datallowconn)
		{
			result = db->oid;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/* ------------------------------------------------------------------------
 * The supervisor
 * ------------------------------------------------------------------------
 */

/*
 * start_launcher
 *		Register the launcher as a dynamic worker in database dboid, telling
 *		this process when it starts and stops; false when no slot is free.
 */
static bool
start_launcher(Oid dboid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;	/* the supervisor restarts it */
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pubdata");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pubdata_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pubdata launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pubdata launcher");
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	worker.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/*
 * pubdata_supervisor_main
 *		Entry point of the supervisor background worker.  Connected to no
 *		database, it waits (on its latch, looking every few seconds) until
 *		pubdata.database exists, then starts the launcher there; when the
 *		launcher stops it starts it again two seconds later.  On SIGTERM it
 *		exits with code 0 (the postmaster then forgets it until the next
 *		start, and leaves no message); the launcher stops on its own SIGTERM.
 */
void
pubdata_supervisor_main(Datum main_arg)
{
	BackgroundWorkerHandle *handle = NULL;
	TimestampTz stopped_at = 0;
	bool		logged_wait = false;
	bool		logged_slot = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("pubdata supervisor");

	while (!ShutdownRequestPending)
	{
		long		timeout = -1;	/* none: the launcher's exit sets our latch */
		pid_t		pid;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		if (handle != NULL && GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED)
		{
			pfree(handle);
			handle = NULL;
			stopped_at = GetCurrentTimestamp();
		}
		if (handle == NULL)
		{
			long		secs;
			int			usecs;

			TimestampDifference(stopped_at, GetCurrentTimestamp(), &secs, &usecs);
			if (stopped_at != 0 && secs < LAUNCHER_RESTART_SECONDS)
				timeout = LAUNCHER_RESTART_SECONDS * 1000L - (secs * 1000L + usecs / 1000);
			else
			{
				Oid			dboid = find_database(pubdata_database);

				if (!OidIsValid(dboid))
				{
					if (!logged_wait)
						ereport(LOG,
								(errmsg("pubdata supervisor: waiting for database \"%s\" (pubdata.database) to be created",
										pubdata_database)));
					logged_wait = true;
					timeout = WAIT_FOR_SETUP_MS;
				}
				else if (!start_launcher(dboid, &handle))
				{
					if (!logged_slot)
						ereport(WARNING,
								(errmsg("pubdata supervisor: no background worker slot free for the launcher"),
								 errdetail("The launcher starts when a slot frees up."),
								 errhint("Raise max_worker_processes.")));
					logged_slot = true;
					handle = NULL;
					timeout = WAIT_FOR_SETUP_MS;
				}
				else
					logged_wait = logged_slot = false;
			}
		}
		pgstat_report_activity(STATE_IDLE, handle ? NULL : "waiting for pubdata.database");
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (timeout >= 0 ? WL_TIMEOUT : 0),
						 Max(timeout, 0), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}

/* ------------------------------------------------------------------------
 * The launcher
 * ------------------------------------------------------------------------
 */

/*
 * pubdata_launcher_main
 *		Entry point of the launcher background worker, started by the
 *		supervisor in the database whose OID is main_arg.
 */
void
pubdata_launcher_main(Datum main_arg)
{
	MemoryContext loopcxt;
	List	   *launched = NIL;
	TimestampTz last_housekeeping = 0;
	TimestampTz next_iteration_at = 0;
	TimestampTz last_publish = 0;
	bool		woken = true;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, launcher_sigterm);
	BackgroundWorkerUnblockSignals();

	if (sched == NULL)
		proc_exit(0);			/* cannot happen when preloaded */

	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg), InvalidOid, 0);
	pin_search_path();

	SpinLockAcquire(&sched->mutex);
	sched->launcher_pid = MyProcPid;
	sched->launcher_latch = MyLatch;
	sched->launcher_dboid = MyDatabaseId;
	SpinLockRelease(&sched->mutex);
	before_shmem_exit(launcher_detach, (Datum) 0);

	pgstat_report_appname("pubdata launcher");
	ereport(LOG,
			(errmsg("pubdata launcher started in database \"%s\"", pubdata_database)));

	loopcxt = AllocSetContextCreate(TopMemoryContext, "pubdata launcher loop",
									ALLOCSET_DEFAULT_SIZES);

	while (!got_sigterm)
	{
		long		sleep_ms;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(loopcxt);
		MemoryContextReset(loopcxt);

		/*
		 * The job table is looked at when the latch woke the launcher (as
		 * always) or its time came; the OpenLineage stream's own timer does
		 * not cost a look.
		 */
		now = GetCurrentTimestamp();
		if (woken || now >= next_iteration_at)
		{
			/* One bad iteration (a broken job row, a lock) must not stop the launcher. */
			PG_TRY();
			{
				sleep_ms = launcher_iteration(&launched, &last_housekeeping);
			}
			PG_CATCH();
			{
				MemoryContextSwitchTo(loopcxt);
				EmitErrorReport();
				FlushErrorState();
				AbortCurrentTransaction();
				sleep_ms = 10000L;
			}
			PG_END_TRY();
			MemoryContextSwitchTo(loopcxt);
			now = GetCurrentTimestamp();
			next_iteration_at = TimestampTzPlusMilliseconds(now, sleep_ms);
		}

		/*
		 * The OpenLineage stream: publish at most every STREAM_PUBLISH_MS
		 * after commits that appended runs, and every STREAM_SWEEP_MS anyway
		 * (COMMIT PREPARED tells nobody).
		 */
		if ((pg_atomic_read_u32(&sched->stream_pending) != 0 &&
			 TimestampDifferenceExceeds(last_publish, now, STREAM_PUBLISH_MS)) ||
			TimestampDifferenceExceeds(last_publish, now, STREAM_SWEEP_MS))
		{
			pg_atomic_write_u32(&sched->stream_pending, 0);
			pg_memory_barrier();
			last_publish = now;
			PG_TRY();
			{
				launcher_publish_stream();
			}
			PG_CATCH();
			{
				/* reported once per STREAM_RETRY_MS, the runs stay pending */
				MemoryContextSwitchTo(loopcxt);
				EmitErrorReport();
				FlushErrorState();
				AbortCurrentTransaction();
				last_publish = TimestampTzPlusMilliseconds(now, STREAM_RETRY_MS - STREAM_SWEEP_MS);
			}
			PG_END_TRY();
			MemoryContextSwitchTo(loopcxt);
			now = GetCurrentTimestamp();
		}
		sleep_ms = Max(0, (next_iteration_at - now) / 1000);
		{
			TimestampTz publish_at = TimestampTzPlusMilliseconds(last_publish,
																 pg_atomic_read_u32(&sched->stream_pending) != 0 ?
																 STREAM_PUBLISH_MS : STREAM_SWEEP_MS);

			sleep_ms = Min(sleep_ms, Max(0, (publish_at - now) / 1000) + 1);
		}

		pgstat_report_activity(STATE_IDLE, NULL);
		if (got_sigterm)
			break;
		woken = (WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   sleep_ms, PG_WAIT_EXTENSION) & WL_LATCH_SET) != 0;
		ResetLatch(MyLatch);
	}

	launcher_audit_shutdown();
	ereport(LOG, (errmsg("pubdata launcher shutting down")));
	proc_exit(0);				/* the supervisor starts it again unless the server stops */
}

/*
 * extension_present
 *		Whether pubdata is installed in this database (inside a transaction).
 */
static bool
extension_present(void)
{
	Oid			nsp = get_namespace_oid("pubdata", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("job", nsp)) &&
		OidIsValid(get_relname_relid("job_run", nsp));
}

/*
 * pin_search_path
 *		Fix the session's search_path of a launcher or job worker to
 *		pg_catalog, pg_temp, whatever the database's or role's settings say:
 *		the workers are superusers, and nothing they run by name may resolve
 *		to an object in a schema a department can create in.
 */
static void
pin_search_path(void)
{
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
}

/*
 * launcher_audit_summarise
 *		Bring the access audit's per-day usage summaries up to the head of
 *		the log (pubdata.audit_summarise(), issue 18), in a subtransaction:
 *		a failure is a warning and the next housekeeping tries again, since
 *		usage_stats reads the unsummarised tail from the log meanwhile.
 */
static void
launcher_audit_summarise(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	pgstat_report_activity(STATE_RUNNING, "pubdata launcher: audit usage summaries");
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		SPI_execute("SELECT pubdata.audit_summarise()", false, 0);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ereport(WARNING,
				(errmsg("pubdata launcher: could not update the audit usage summaries: %s", edata->message),
				 errhint("usage_stats reads the records not yet summarised from the log; the next housekeeping tries again.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
}

/*
 * launcher_audit_watch
 *		The access audit's anchors and watch (audit_anchor.c, issue 19), in
 *		a subtransaction: a failure is a warning, and the next interval tries
 *		again (the check made at the launcher's start included).
 */
static bool
launcher_audit_watch(bool starting, bool shutdown)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	pgstat_report_activity(STATE_RUNNING, "pubdata launcher: audit anchors");
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		pubdata_audit_launcher_watch(starting, shutdown);
		ReleaseCurrentSubTransaction();
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ereport(WARNING,
				(errmsg("pubdata launcher: could not anchor the access audit chain: %s", edata->message),
				 errhint("The launcher tries again after pubdata.audit_anchor_interval.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return ok;
}

/*
 * launcher_audit_shutdown
 *		The launcher stops (a server shutdown, pg_terminate_backend): a last
 *		anchor in pubdata.audit_anchor.  The postmaster anchors the final
 *		head in the server log and the anchor file once every backend is
 *		gone.  Nothing here may stop the launcher from exiting cleanly.
 */
static void
launcher_audit_shutdown(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (extension_present())
			(void) launcher_audit_watch(!audit_watch_started, true);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
}

/*
 * launcher_iteration
 *		Reap finished workers, do housekeeping when due, start due jobs;
 *		return how long to sleep (ms) before the next look.
 */
static long
launcher_iteration(List **launched, TimestampTz *last_housekeeping)
{
	List	   *still_running = NIL;
	List	   *finished_runs = NIL;
	List	   *done_runs = NIL;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	long		sleep_ms = HOUSEKEEPING_INTERVAL_MS;
	long		hk_left;
	int			free_slots;
	Datum	   *running_ids;
	int			nrunning = 0;
	ArrayType  *exclude;
	MemoryContext oldcxt;
	bool		no_slot = false;

	/*
	 * Reap the runs that are over: recorded by their worker (which cleared
	 * its place), or lost with a worker that exited in the middle of one.
	 */
	foreach(lc, *launched)
	{
		LaunchedJob *lj = (LaunchedJob *) lfirst(lc);
		PoolSlot   *ps = &sched->pool[lj->slot];
		bool		over;

		SpinLockAcquire(&sched->mutex);
		over = !(ps->assigned && ps->run_id == lj->run_id);
		SpinLockRelease(&sched->mutex);
		if (over)
			done_runs = lappend(done_runs, lj);
		else if (pool_worker_gone(lj->slot))
		{
			SpinLockAcquire(&sched->mutex);
			ps->assigned = false;
			SpinLockRelease(&sched->mutex);
			finished_runs = lappend(finished_runs, lj);
		}
		else
			still_running = lappend(still_running, lj);
	}
	pool_reap();

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	if (!extension_present())
	{
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, "waiting for CREATE EXTENSION pubdata");
		/* CREATE EXTENSION wakes us (its job rows fire the trigger) */
		return HOUSEKEEPING_INTERVAL_MS;
	}
	pgstat_report_activity(STATE_RUNNING, "pubdata launcher: scheduling");

	/* a worker that exited without recording its result (killed) failed */
	foreach(lc, finished_runs)
	{
		LaunchedJob *lj = (LaunchedJob *) lfirst(lc);
		Oid			argtypes[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(lj->run_id)};

		SPI_execute_with_args("SELECT pubdata._finish_run($1, 'failed', "
							  "'the job worker exited without recording a result (killed or crashed)', NULL, NULL)",
							  1, argtypes, args, NULL, false, 0);
	}

	/*
	 * The access audit: first (at the launcher's start, after every server
	 * start and crash restart) the check against the newest anchor and the
	 * alert of what recovery found; then an anchor every interval.
	 */
	if (!audit_watch_started ||
		TimestampDifferenceExceeds(audit_watched_at, now, pubdata_audit_anchor_interval * 1000L))
	{
		if (launcher_audit_watch(!audit_watch_started, false))
			audit_watch_started = true;
		audit_watched_at = now;
	}

	/* housekeeping: orphaned runs, history retention, overdue alerts */
	if (*last_housekeeping == 0 ||
		TimestampDifferenceExceeds(*last_housekeeping, now, HOUSEKEEPING_INTERVAL_MS))
	{
		Oid			argtypes[1] = {INT4OID};
		Datum		args[1] = {Int32GetDatum(pubdata_job_run_retention)};

		pgstat_report_activity(STATE_RUNNING, "pubdata launcher: housekeeping");
		if (SPI_execute_with_args("SELECT pubdata._housekeeping($1)", 1, argtypes, args,
								  NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "pubdata launcher: housekeeping failed");
		launcher_audit_summarise();
		*last_housekeeping = now;

		/* once a day: years without an official working-day calendar */
		{
			DateADT		today = pubdata_local_date(now);

			if (today != calendar_checked_on)
			{
				calendar_checked_on = today;
				launcher_check_calendar(today);
			}
		}
	}
	hk_left = HOUSEKEEPING_INTERVAL_MS -
		(long) ((now - *last_housekeeping) / 1000);
	if (hk_left < 1000)
		hk_left = 1000;
	sleep_ms = hk_left;
	{
		long		anchor_left = pubdata_audit_anchor_interval * 1000L -
			(long) ((now - audit_watched_at) / 1000);

		sleep_ms = Min(sleep_ms, Max(anchor_left, 1000));
	}

	/* jobs whose worker still runs are not due again */
	running_ids = palloc(sizeof(Datum) * (list_length(still_running) + 1));
	foreach(lc, still_running)
		running_ids[nrunning++] = Int64GetDatum(((LaunchedJob *) lfirst(lc))->job_id);
	exclude = construct_array(running_ids, nrunning, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);

	free_slots = Min(pubdata_max_job_workers, POOL_SLOTS) - list_length(still_running);
	if (free_slots > 0)
	{
		Oid			argtypes[2] = {INT4OID, INT8ARRAYOID};
		Datum		args[2] = {Int32GetDatum(free_slots), PointerGetDatum(exclude)};
		uint64		i,
					ndue;
		int64	   *due_ids;
		TimestampTz *due_at;

		if (SPI_execute_with_args("SELECT job_id, scheduled_at FROM pubdata._due_jobs($1, $2)",
								  2, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "pubdata launcher: could not read due jobs");
		ndue = SPI_processed;
		due_ids = palloc(sizeof(int64) * (ndue + 1));
		due_at = palloc(sizeof(TimestampTz) * (ndue + 1));
		for (i = 0; i < ndue; i++)
		{
			bool		isnull;

			due_ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			due_at[i] = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		}

		for (i = 0; i < ndue; i++)
		{
			Oid			a1[1] = {INT8OID};
			Datum		v1[1] = {Int64GetDatum(due_ids[i])};
			int64		run_id;
			bool		isnull;
			int			slot;
			LaunchedJob *lj;

			if (SPI_execute_with_args("SELECT pg_catalog.nextval('pubdata.job_run_id_seq')",
									  0, NULL, NULL, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "pubdata launcher: could not allocate a run id");
			run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

			oldcxt = MemoryContextSwitchTo(TopMemoryContext);
			slot = pool_dispatch(due_ids[i], run_id, due_at[i]);
			if (slot == -1)
			{
				/* every worker busy (or starting): the run waits */
				MemoryContextSwitchTo(oldcxt);
				break;
			}
			if (slot < 0)
			{
				static TimestampTz last_warning = 0;

				MemoryContextSwitchTo(oldcxt);
				if (TimestampDifferenceExceeds(last_warning, now, 60000))
				{
					ereport(WARNING,
							(errmsg("pubdata launcher: no background worker slot free for job %lld",
									(long long) due_ids[i]),
							 errdetail("Due jobs wait until a slot frees up."),
							 errhint("Raise max_worker_processes or lower pubdata.max_job_workers.")));
					last_warning = now;
				}
				no_slot = true;
				break;
			}
			lj = palloc(sizeof(LaunchedJob));
			lj->job_id = due_ids[i];
			lj->run_id = run_id;
			lj->slot = slot;
			still_running = lappend(still_running, lj);
			MemoryContextSwitchTo(oldcxt);

			/* the next occurrence after now: at most one catch-up run */
			SPI_execute_with_args("SELECT pubdata._job_launched($1)", 1, a1, v1, NULL, false, 0);
		}
	}

	/* sleep until the next job is due (a worker's exit also sets our latch) */
	if (list_length(still_running) < Min(pubdata_max_job_workers, POOL_SLOTS))
	{
		Datum	   *ids = palloc(sizeof(Datum) * (list_length(still_running) + 1));
		int			n = 0;
		Oid			argtypes[1] = {INT8ARRAYOID};
		Datum		args[1];
		bool		isnull;

		foreach(lc, still_running)
			ids[n++] = Int64GetDatum(((LaunchedJob *) lfirst(lc))->job_id);
		args[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		if (SPI_execute_with_args("SELECT pubdata._next_due($1)", 1, argtypes, args,
								  NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "pubdata launcher: could not read the next due time");
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
			{
				TimestampTz next = DatumGetTimestampTz(d);
				TimestampTz cur = GetCurrentTimestamp();
				long		ms = 0;

				if (next > cur)
					ms = (long) ((next - cur + 999) / 1000);
				if (ms < sleep_ms)
					sleep_ms = ms;
			}
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();

	/* all worker slots of the server taken by others: look again in a second */
	if (no_slot && sleep_ms < 1000)
		sleep_ms = 1000;

	/* keep the list of launched workers in long-lived memory */
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	list_free(*launched);
	*launched = list_copy(still_running);
	MemoryContextSwitchTo(oldcxt);
	foreach(lc, finished_runs)
		pfree(lfirst(lc));
	foreach(lc, done_runs)
		pfree(lfirst(lc));

	return sleep_ms;
}

/*
 * launcher_check_calendar
 *		The day's pubdata.check_calendar(today): a WARNING in the log and a
 *		NOTIFY pubdata_alert per year without an official arrangement (this
 *		year; from 1 November the next), given once a day whoever checks.
 *		Run in a subtransaction: a failure is logged as a warning (and the
 *		check tried again the next day), never stopping the scheduling.
 */
static void
launcher_check_calendar(DateADT today)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			argtypes[1] = {DATEOID};
	Datum		args[1] = {DateADTGetDatum(today)};

	pgstat_report_activity(STATE_RUNNING, "pubdata launcher: checking the working-day calendar");
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		if (SPI_execute_with_args("SELECT pubdata.check_calendar($1)", 1, argtypes, args,
								  NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "pubdata launcher: could not check the working-day calendar");
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
				(errmsg("pubdata launcher: the daily check of the working-day calendar failed: %s",
						edata->message),
				 errhint("SELECT pubdata.check_calendar() as pubdata_admin shows the error; the launcher tries again tomorrow.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * start_job_worker
 *		Register a dynamic job worker for one run; false when no slot is free.
 */
static bool
start_job_worker(int64 job_id, int64 run_id, TimestampTz scheduled_at,
				 pid_t notify_pid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	JobWorkerArgs args;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pubdata");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pubdata_job_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pubdata job worker: job %lld run %lld",
			 (long long) job_id, (long long) run_id);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pubdata job worker");
	worker.bgw_notify_pid = notify_pid;

	args.job_id = job_id;
	args.run_id = run_id;
	args.scheduled_at = scheduled_at;
	args.dboid = MyDatabaseId;
	StaticAssertStmt(sizeof(JobWorkerArgs) <= BGW_EXTRALEN, "JobWorkerArgs too large");
	memcpy(worker.bgw_extra, &args, sizeof(args));

	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/* ------------------------------------------------------------------------
 * The pool of job workers
 *
 * A scheduled run is handed to a long-lived job worker instead of a worker
 * started for it: starting a background worker (a process, its connection,
 * its caches) costs more than most runs.  The launcher keeps up to
 * pubdata.max_job_workers of them, each in a place of shared memory; it
 * hands a run to an idle one (or starts one, the run handed over before it
 * starts) and sets its latch.  Between runs a worker keeps nothing of the
 * last job: the job ran as its role in a security-restricted operation with
 * its own GUC nest level (no SET ROLE, no temporary object, no WITH HOLD
 * cursor; every setting undone), its advisory lock is released, prepared
 * statements, cached plans and LISTENs are dropped.  A worker that crashes
 * costs its own run; one idle for a minute, or whose launcher is gone,
 * exits.  run_job_now() still starts a worker of its own for its run.
 * ------------------------------------------------------------------------
 */

/*
 * pool_worker_gone
 *		The launcher's worker of a place has exited (or was never started).
 */
static bool
pool_worker_gone(int slot)
{
	pid_t		pid;

	return pool_handles[slot] == NULL ||
		GetBackgroundWorkerPid(pool_handles[slot], &pid) == BGWH_STOPPED;
}

/*
 * pool_reap
 *		Forget the handles of the launcher's workers that have exited (a run
 *		one of them left unfinished is failed by the next reaping of runs).
 */
static void
pool_reap(void)
{
	int			i;

	for (i = 0; i < POOL_SLOTS; i++)
	{
		if (pool_handles[i] == NULL || !pool_worker_gone(i))
			continue;
		pfree(pool_handles[i]);
		pool_handles[i] = NULL;
	}
}

/*
 * pool_dispatch
 *		Hand a run to an idle worker of the pool, or to a new one; returns
 *		its place, -1 when every worker the pool may have is busy, -2 when
 *		no background worker could be started.
 */
static int
pool_dispatch(int64 job_id, int64 run_id, TimestampTz scheduled_at)
{
	int			limit = Min(pubdata_max_job_workers, POOL_SLOTS);
	int			live = 0;
	int			free_place = -1;
	int			i;
	PoolSlot   *ps;
	BackgroundWorkerHandle *handle;

	for (i = 0; i < POOL_SLOTS; i++)
	{
		Latch	   *latch = NULL;

		ps = &sched->pool[i];
		SpinLockAcquire(&sched->mutex);
		if (pool_handles[i] != NULL)
		{
			live++;
			if (ps->pid != 0 && ps->latch != NULL && !ps->assigned)
			{
				ps->assigned = true;
				ps->job_id = job_id;
				ps->run_id = run_id;
				ps->scheduled_at = scheduled_at;
				latch = ps->latch;
			}
		}
		else if (free_place < 0 && ps->pid == 0)
			free_place = i;
		SpinLockRelease(&sched->mutex);
		if (latch != NULL)
		{
			SetLatch(latch);
			return i;
		}
	}
	if (live >= limit || free_place < 0)
		return -1;

	ps = &sched->pool[free_place];
	SpinLockAcquire(&sched->mutex);
	ps->assigned = true;
	ps->job_id = job_id;
	ps->run_id = run_id;
	ps->scheduled_at = scheduled_at;
	ps->launcher_pid = MyProcPid;
	SpinLockRelease(&sched->mutex);
	if (!start_pool_worker(free_place, &handle))
	{
		SpinLockAcquire(&sched->mutex);
		ps->assigned = false;
		SpinLockRelease(&sched->mutex);
		return -2;
	}
	pool_handles[free_place] = handle;
	return free_place;
}

/*
 * start_pool_worker
 *		Register a job worker for a place of the pool.
 */
static bool
start_pool_worker(int slot, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	PoolWorkerArgs args;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pubdata");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pubdata_pool_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pubdata job worker %d", slot);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pubdata job worker");
	worker.bgw_notify_pid = MyProcPid;

	args.slot = slot;
	args.dboid = MyDatabaseId;
	StaticAssertStmt(sizeof(PoolWorkerArgs) <= BGW_EXTRALEN, "PoolWorkerArgs too large");
	memcpy(worker.bgw_extra, &args, sizeof(args));

	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/*
 * pool_detach
 *		A pool worker exits: its place has no worker any more.  A run it was
 *		given and did not finish stays assigned: the launcher marks it failed.
 */
static void
pool_detach(int code, Datum arg)
{
	PoolSlot   *ps = &sched->pool[DatumGetInt32(arg)];

	SpinLockAcquire(&sched->mutex);
	if (ps->pid == MyProcPid)
	{
		ps->pid = 0;
		ps->latch = NULL;
	}
	SpinLockRelease(&sched->mutex);
}

/*
 * pool_reset_session
 *		What a job could leave in the session, gone before the next run.
 */
static void
pool_reset_session(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	DropAllPreparedStatements();
	ResetPlanCache();
	Async_UnlistenAll();
	CommitTransactionCommand();
	pgstat_report_appname("pubdata job worker");
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * pubdata_pool_worker_main
 *		Entry point of a job worker of the pool: the runs the launcher hands
 *		to its place, one after the other.
 */
void
pubdata_pool_worker_main(Datum main_arg)
{
	PoolWorkerArgs pa;
	PoolSlot   *ps;
	pid_t		launcher = MyBgworkerEntry->bgw_notify_pid;
	TimestampTz idle_since;
	bool		attached = false;

	memcpy(&pa, MyBgworkerEntry->bgw_extra, sizeof(pa));

	pqsignal(SIGTERM, job_worker_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	if (sched == NULL || pa.slot < 0 || pa.slot >= POOL_SLOTS)
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(pa.dboid, InvalidOid, 0);
	pin_search_path();

	/* the place is ours if the launcher that started us still holds it for us */
	ps = &sched->pool[pa.slot];
	SpinLockAcquire(&sched->mutex);
	if (ps->pid == 0 && ps->launcher_pid == launcher && sched->launcher_pid == launcher)
	{
		ps->pid = MyProcPid;
		ps->latch = MyLatch;
		attached = true;
	}
	SpinLockRelease(&sched->mutex);
	if (!attached)
		proc_exit(0);
	before_shmem_exit(pool_detach, Int32GetDatum(pa.slot));
	pgstat_report_appname("pubdata job worker");
	idle_since = GetCurrentTimestamp();

	for (;;)
	{
		JobWorkerArgs args;
		bool		have = false;
		bool		leave = false;
		Latch	   *launcher_latch = NULL;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		SpinLockAcquire(&sched->mutex);
		if (ps->assigned)
		{
			have = true;
			args.job_id = ps->job_id;
			args.run_id = ps->run_id;
			args.scheduled_at = ps->scheduled_at;
			args.dboid = MyDatabaseId;
		}
		else if (got_sigterm || sched->launcher_pid != launcher ||
				 TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(), POOL_IDLE_MS))
		{
			/* nothing handed over: leave the place before anything can be */
			ps->pid = 0;
			ps->latch = NULL;
			leave = true;
		}
		SpinLockRelease(&sched->mutex);
		if (leave)
			break;

		if (have)
		{
			run_one(&args);
			pool_reset_session();
			SpinLockAcquire(&sched->mutex);
			ps->assigned = false;
			if (sched->launcher_pid == launcher)
				launcher_latch = sched->launcher_latch;
			SpinLockRelease(&sched->mutex);
			if (launcher_latch != NULL)
				SetLatch(launcher_latch);
			idle_since = GetCurrentTimestamp();
			continue;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}

PG_FUNCTION_INFO_V1(pubdata_launch_job);

/*
 * pubdata._launch_job(job bigint, run bigint) returns integer
 *		Start a job worker for one run now and wait until it has finished;
 *		returns the worker's pid.  Used by run_job_now(), which checks the
 *		caller's rights first; not granted to anyone.
 */
Datum
pubdata_launch_job(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	int64		run_id = PG_GETARG_INT64(1);
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid = 0;

	if (!start_job_worker(job_id, run_id, 0, MyProcPid, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a worker for job %lld", (long long) job_id),
				 errdetail("All background worker slots are in use."),
				 errhint("Try again later, or raise max_worker_processes.")));

	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster died while starting a worker for job %lld", (long long) job_id)));
	status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster died while job %lld was running", (long long) job_id)));
	PG_RETURN_INT32((int32) pid);
}

/* ------------------------------------------------------------------------
 * The job worker
 * ------------------------------------------------------------------------
 */

/*
 * spi_text
 *		Column of the current SPI result row as a palloc'd C string, or NULL.
 */
static char *
spi_text(int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);

	return v;
}

/*
 * pubdata_job_worker_main
 *		Entry point of a one-run job worker (run_job_now()): one run of one
 *		job, then exit.
 */
void
pubdata_job_worker_main(Datum main_arg)
{
	JobWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));

	pqsignal(SIGTERM, job_worker_sigterm);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.dboid, InvalidOid, 0);
	pin_search_path();
	run_one(&args);
	proc_exit(0);
}

/*
 * run_one
 *		One run of one job, in this worker: the run recorded as running, the
 *		job as its role, the result recorded (see the file's header).  The
 *		job's advisory lock is released before returning.
 */
static void
run_one(const JobWorkerArgs *argp)
{
	JobWorkerArgs args = *argp;
	JobDef	   *jd;
	LOCKTAG		tag;
	volatile int64 nread = 0;
	volatile int64 nwritten = 0;
	TimestampTz started;
	MemoryContext workcxt;
	MemoryContext callercxt = CurrentMemoryContext;
	PubdataIdentity book;

	{
		char		appname[64];

		snprintf(appname, sizeof(appname), "pubdata job %lld", (long long) args.job_id);
		pgstat_report_appname(appname);
	}
	workcxt = AllocSetContextCreate(TopMemoryContext, "pubdata job run",
									ALLOCSET_DEFAULT_SIZES);

	/* one job never runs twice at once: a session lock held until exit */
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (((uint64) args.job_id) >> 32),
						 (uint32) args.job_id, JOB_LOCK_FIELD4);

	/* first transaction: take the lock, record the run as running */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		CommitTransactionCommand();
		ereport(LOG,
				(errmsg("pubdata job %lld is already running; run %lld not started",
						(long long) args.job_id, (long long) args.run_id)));
		MemoryContextSwitchTo(callercxt);
		MemoryContextDelete(workcxt);
		return;
	}
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pubdata_become(&book, pubdata_extension_owner(), 0);
	{
		Oid			argtypes[4] = {INT8OID, INT8OID, TIMESTAMPTZOID, INT4OID};
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};
		MemoryContext old;
		char	   *v;

		values[0] = Int64GetDatum(args.run_id);
		values[1] = Int64GetDatum(args.job_id);
		values[2] = TimestampTzGetDatum(args.scheduled_at);
		if (args.scheduled_at == 0)
			nulls[2] = 'n';
		values[3] = Int32GetDatum(MyProcPid);
		/* the same as pubdata._start_run(), without a function call per run */
		if (SPI_execute_with_args("INSERT INTO pubdata.job_run (id, job_id, status, scheduled_at, started_at, attempt, pid) "
								  "SELECT $1, j.id, 'running', $3, pg_catalog.clock_timestamp(), "
								  "j.failures OPERATOR(pg_catalog.+) 1, $4 "
								  "FROM pubdata.job j WHERE j.id OPERATOR(pg_catalog.=) $2",
								  4, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "pubdata job worker: could not record the run");
		if (SPI_execute_with_args("SELECT j.kind::pg_catalog.text, j.source, j.source_is_query, j.mode::pg_catalog.text, "
								  "j.key_columns::pg_catalog.text[], j.run_id_column::pg_catalog.text, "
								  "(SELECT a.oid FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) j.run_as), "
								  "(pg_catalog.date_part('epoch', j.timeout) OPERATOR(pg_catalog.*) "
								  "1000::pg_catalog.float8)::pg_catalog.int8, "
								  "r.relation::pg_catalog.oid, r.code, j.builtin "
								  "FROM pubdata.job j LEFT JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) j.resource_id "
								  "WHERE j.id OPERATOR(pg_catalog.=) $2",
								  4, argtypes, values, nulls, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "pubdata job worker: could not read the job");
		if (SPI_processed == 0)
		{
			/* the job was dropped meanwhile */
			pubdata_restore(&book);
			SPI_finish();
			PopActiveSnapshot();
			CommitTransactionCommand();
			LockRelease(&tag, ExclusiveLock, true);
			MemoryContextSwitchTo(callercxt);
			MemoryContextDelete(workcxt);
			return;
		}
		old = MemoryContextSwitchTo(workcxt);
		jd = palloc0(sizeof(JobDef));
		jd->kind = spi_text(1);
		jd->source = spi_text(2);
		v = spi_text(3);
		jd->source_is_query = (v != NULL && v[0] == 't');
		jd->mode = spi_text(4);
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);

			if (!isnull)
			{
				Datum	   *elems;
				bool	   *enulls;
				int			n,
							i;

				deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
								  &elems, &enulls, &n);
				for (i = 0; i < n; i++)
					if (!enulls[i])
						jd->key_columns = lappend(jd->key_columns, TextDatumGetCString(elems[i]));
			}
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7, &isnull);
			jd->run_as = isnull ? InvalidOid : DatumGetObjectId(d);
			jd->timeout_ms = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8, &isnull));
			if (isnull)
				jd->timeout_ms = 0;
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9, &isnull);
			jd->target = isnull ? InvalidOid : DatumGetObjectId(d);
		}
		jd->run_id_column = spi_text(6);
		jd->resource_code = spi_text(10);
		v = spi_text(11);
		jd->builtin = (v != NULL && v[0] == 't');
		MemoryContextSwitchTo(old);
	}
	pubdata_restore(&book);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();

	/* second transaction: the job itself, and its success record */
	started = GetCurrentTimestamp();
	pgstat_report_activity(STATE_RUNNING, "pubdata job run");
	PG_TRY();
	{
		PubdataIdentity as;
		int64		r = 0,
					w = 0;
		int			ret;
		Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
		Datum		values[3];

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());

		/* from here SIGTERM cancels the job; one that came already does now */
		job_running = true;
		if (got_sigterm)
		{
			QueryCancelPending = true;
			InterruptPending = true;
		}
		CHECK_FOR_INTERRUPTS();

		if (!OidIsValid(jd->run_as))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("the role this job runs as no longer exists"),
					 errhint("Map the provider department to an existing role, or drop the job.")));

		/*
		 * The job, as its role in a security-restricted operation with its
		 * own GUC nest level.  Deferrable constraints are made immediate: a
		 * deferred trigger (a constraint trigger of the target table, say)
		 * then fires when its statement ends, as the job's role, instead of
		 * at commit as this worker's superuser; a job that defers one again
		 * (SET CONSTRAINTS ... DEFERRED) fails.
		 */
		pubdata_become(&as, jd->run_as, PUBDATA_AS_RESTRICTED);
		constraints_immediate();
		if (jd->timeout_ms > 0)
			enable_timeout_after(STATEMENT_TIMEOUT,
								 (int) Min(jd->timeout_ms, (int64) INT_MAX));
		pubdata_progress_set_job(args.job_id, args.run_id);
		run_job(jd, args.run_id, &r, &w);
		AfterTriggerFireDeferred();
		if (jd->timeout_ms > 0)
			disable_timeout(STATEMENT_TIMEOUT, false);
		pubdata_restore(&as);

		/*
		 * The job's role, settings and search_path are gone; the success is
		 * recorded as the extension owner, search_path pinned, operators
		 * qualified (the success path of pubdata._finish_run(), inline).  A
		 * scheduled run of a built-in job (the sweeps every minute, lineage
		 * compaction) that found nothing to do leaves no row in job_run: it
		 * would be noise; its job's last_success_at still moves.
		 */
		nread = r;
		nwritten = w;
		values[0] = Int64GetDatum(args.run_id);
		values[1] = Int64GetDatum(r);
		values[2] = Int64GetDatum(w);
		pubdata_become(&book, pubdata_extension_owner(), 0);
		if (args.scheduled_at != 0 && jd->builtin && w == 0)
			ret = SPI_execute_with_args("WITH run AS (DELETE FROM pubdata.job_run x "
										"WHERE x.id OPERATOR(pg_catalog.=) $1 "
										"AND x.status OPERATOR(pg_catalog.=) 'running'::pubdata.job_status "
										"RETURNING x.job_id) "
										"UPDATE pubdata.job j SET failures = 0, last_success_at = pg_catalog.clock_timestamp() "
										"FROM run WHERE j.id OPERATOR(pg_catalog.=) run.job_id",
										1, argtypes, values, NULL, false, 0);
		else
			ret = SPI_execute_with_args("WITH run AS (UPDATE pubdata.job_run x SET status = 'succeeded', "
										"finished_at = pg_catalog.clock_timestamp(), rows_read = $2, rows_written = $3 "
										"WHERE x.id OPERATOR(pg_catalog.=) $1 "
										"AND x.status OPERATOR(pg_catalog.=) 'running'::pubdata.job_status "
										"RETURNING x.job_id) "
										"UPDATE pubdata.job j SET failures = 0, last_success_at = pg_catalog.clock_timestamp() "
										"FROM run WHERE j.id OPERATOR(pg_catalog.=) run.job_id",
										3, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "pubdata job worker: could not record the run");
		pubdata_restore(&book);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		job_running = false;
		QueryCancelPending = false; /* the run is recorded: nothing to cancel */
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		const char *status = "failed";
		StringInfoData msg;

		job_running = false;
		QueryCancelPending = false;	/* a cancel that came too late to act */
		disable_all_timeouts(false);
		MemoryContextSwitchTo(workcxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* also undoes pubdata_become(): user id, security context, GUCs */
		AbortCurrentTransaction();
		/* what was current at the error went with the transaction */
		MemoryContextSwitchTo(workcxt);

		initStringInfo(&msg);
		if (got_sigterm && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			appendStringInfoString(&msg, "the job worker was stopped by SIGTERM (server shutdown or pg_terminate_backend) before the run finished");
		else
		{
			if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && jd->timeout_ms > 0 &&
				TimestampDifferenceExceeds(started, GetCurrentTimestamp(), (int) Min(jd->timeout_ms, (int64) INT_MAX) - 10))
				status = "timed_out";
			appendStringInfoString(&msg, edata->message ? edata->message : "unknown error");
		}
		/* the server log is the DBA's: it keeps the detail */
		ereport(LOG,
				(errmsg("pubdata job %lld run %lld %s: %s%s%s%s", (long long) args.job_id,
						(long long) args.run_id, status, msg.data,
						edata->detail ? " (" : "", edata->detail ? edata->detail : "",
						edata->detail ? ")" : "")));

		/* third transaction: record the failure and schedule the retry */
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pubdata_become(&book, pubdata_extension_owner(), 0);
		{
			Oid			argtypes[3] = {INT8OID, TEXTOID, TEXTOID};
			Datum		values[3];

			values[0] = Int64GetDatum(args.run_id);
			values[1] = CStringGetTextDatum(status);
			values[2] = CStringGetTextDatum(msg.data);
			SPI_execute_with_args("SELECT pubdata._finish_run($1, $2::pubdata.job_status, $3, NULL, NULL)",
								  3, argtypes, values, NULL, false, 0);

			/*
			 * The SQLSTATE goes on the run; the detail, which may quote a
			 * record's values (a key that already exists), goes where only
			 * the bureau and the job's department read it.
			 */
			values[1] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
			values[2] = edata->detail ? CStringGetTextDatum(edata->detail) : (Datum) 0;
			SPI_execute_with_args("SELECT pubdata._run_error($1, $2, $3)",
								  3, argtypes, values, edata->detail ? NULL : "  n", false, 0);
		}
		pubdata_restore(&book);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_END_TRY();

	(void) nread;
	(void) nwritten;
	pgstat_report_activity(STATE_IDLE, NULL);
	LockRelease(&tag, ExclusiveLock, true);
	MemoryContextSwitchTo(callercxt);
	MemoryContextDelete(workcxt);
}

/*
 * constraints_immediate
 *		SET CONSTRAINTS ALL IMMEDIATE for the rest of the transaction: a
 *		security-restricted operation may not leave a deferred trigger behind.
 */
static void
constraints_immediate(void)
{
	ConstraintsSetStmt *stmt = makeNode(ConstraintsSetStmt);

	stmt->constraints = NIL;
	stmt->deferred = false;
	AfterTriggerSetState(stmt);
}

/*
 * run_sweep
 *		Run a sweep function; what it returns (tickets flagged, resources
 *		whose expired grants were removed) is the run's rows written.
 */
static int64
run_sweep(const char *sql)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pubdata job: sweep returned no result");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : (int64) DatumGetInt32(d);
}

/*
 * run_job
 *		Run one job (already as its role, inside its transaction).
 */
static void
run_job(JobDef *jd, int64 run_id, int64 *nread, int64 *nwritten)
{
	if (strcmp(jd->kind, "aggregation") == 0)
	{
		/* shown in pubdata.progress (the job names the resource) until commit */
		pubdata_progress_start(PUBDATA_PROGRESS_AGGREGATION, 0);
		pubdata_progress_set(PUBDATA_PROGRESS_PHASE, PUBDATA_PHASE_AGGREGATING);
		pubdata_progress_set(PUBDATA_PROGRESS_RELID, jd->target);
		run_aggregation(jd, run_id, nread, nwritten);
		pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, *nwritten);
	}
	else if (strcmp(jd->kind, "custom") == 0)
	{
		if (jd->source == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("custom job has no command")));
		if (SPI_execute(jd->source, false, 0) < 0)
			elog(ERROR, "pubdata job: command failed");
		*nwritten = (int64) SPI_processed;
		/* a built-in job's command returns what it did (lineage_compact) */
		if (jd->builtin && SPI_tuptable != NULL && SPI_processed == 1 &&
			SPI_tuptable->tupdesc->natts == 1 &&
			(SPI_gettypeid(SPI_tuptable->tupdesc, 1) == INT8OID ||
			 SPI_gettypeid(SPI_tuptable->tupdesc, 1) == INT4OID))
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			*nwritten = isnull ? 0 :
				SPI_gettypeid(SPI_tuptable->tupdesc, 1) == INT8OID ? DatumGetInt64(d) : DatumGetInt32(d);
		}
	}
	else if (strcmp(jd->kind, "objection_sweep") == 0)
		*nwritten = run_sweep("SELECT pubdata.sweep_objections()");
	else if (strcmp(jd->kind, "grant_sweep") == 0)
		*nwritten = run_sweep("SELECT pubdata.sweep_grants()");
	else if (strcmp(jd->kind, "quality") == 0)
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		values[1];

		if (jd->resource_code == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("quality job has no resource")));
		values[0] = CStringGetTextDatum(jd->resource_code);
		SPI_execute_with_args("SELECT pubdata.measure_quality($1)", 1, argtypes, values,
							  NULL, false, 0);
		*nread = 0;
		*nwritten = (int64) SPI_processed;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("unknown job kind \"%s\"", jd->kind)));
}

/*
 * string_in_list
 *		Whether a C string is in a List of C strings.
 */
static bool
string_in_list(const char *s, List *l)
{
	ListCell   *lc;

	foreach(lc, l)
		if (strcmp(s, (char *) lfirst(lc)) == 0)
			return true;
	return false;
}

/*
 * run_aggregation
 *		Copy the job's source into the resource's table: full refresh
 *		(delete + insert in this one transaction), incremental (upsert by the
 *		key columns, rows that did not change are left alone) or append.
 *		Columns are matched by name; the run id goes into run_id_column.
 *		Every identifier is quoted; the source query was checked to be a
 *		single SELECT.
 */
static void
run_aggregation(JobDef *jd, int64 run_id, int64 *nread, int64 *nwritten)
{
	Relation	rel;
	char	   *target;
	char	   *src;
	List	   *target_cols = NIL;
	List	   *source_cols = NIL;
	List	   *cols = NIL;
	ListCell   *lc;
	StringInfoData collist,
				sql;
	TupleDesc	desc;
	int			i;
	bool		isnull;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};
	bool		has_runcol = jd->run_id_column != NULL;
	const char *mode = jd->mode ? jd->mode : "full";

	if (!OidIsValid(jd->target))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the resource of this aggregation job has no table"),
				 errhint("Re-register the resource's table, or drop the job.")));

	/* the target table and its writable columns */
	rel = table_open(jd->target, AccessShareLock);
	target = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										RelationGetRelationName(rel));
	desc = RelationGetDescr(rel);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		target_cols = lappend(target_cols, pstrdup(NameStr(att->attname)));
	}
	table_close(rel, AccessShareLock);

	if (has_runcol && !string_in_list(jd->run_id_column, target_cols))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("run id column \"%s\" is not a column of %s", jd->run_id_column, target)));

	/* the source: a single SELECT, or a table (local or foreign) resolved now */
	if (jd->source_is_query)
	{
		check_single_select(jd->source);
		src = psprintf("(%s\n) AS s", jd->source);
	}
	else
	{
		List	   *names = stringToQualifiedNameList(jd->source);
		Oid			srcid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, false);

		src = psprintf("%s AS s",
					   quote_qualified_identifier(get_namespace_name(get_rel_namespace(srcid)),
												  get_rel_name(srcid)));
	}

	/* the source's columns, from its result description */
	if (SPI_execute(psprintf("SELECT * FROM %s LIMIT 0", src), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pubdata job: could not describe the source");
	desc = SPI_tuptable->tupdesc;
	for (i = 0; i < desc->natts; i++)
		source_cols = lappend(source_cols, pstrdup(NameStr(TupleDescAttr(desc, i)->attname)));

	foreach(lc, target_cols)
	{
		char	   *c = (char *) lfirst(lc);

		if (has_runcol && strcmp(c, jd->run_id_column) == 0)
			continue;
		if (string_in_list(c, source_cols))
			cols = lappend(cols, c);
	}
	if (cols == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the source of the aggregation has no column in common with %s", target),
				 errhint("Name the source's columns like the resource table's columns.")));
	foreach(lc, jd->key_columns)
		if (!string_in_list((char *) lfirst(lc), cols))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" is not in both the source and %s",
							(char *) lfirst(lc), target)));

	initStringInfo(&collist);
	foreach(lc, cols)
	{
		if (collist.len > 0)
			appendStringInfoString(&collist, ", ");
		appendStringInfoString(&collist, quote_identifier((char *) lfirst(lc)));
	}

	if (strcmp(mode, "full") == 0)
	{
		if (SPI_execute(psprintf("DELETE FROM %s", target), false, 0) != SPI_OK_DELETE)
			elog(ERROR, "pubdata job: could not empty %s", target);
	}

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH pubdata_src AS MATERIALIZED (SELECT %s FROM %s), "
					 "pubdata_ins AS (INSERT INTO %s AS t (%s%s%s) SELECT %s%s FROM pubdata_src",
					 collist.data, src, target, collist.data,
					 has_runcol ? ", " : "",
					 has_runcol ? quote_identifier(jd->run_id_column) : "",
					 collist.data, has_runcol ? ", $1" : "");
	if (strcmp(mode, "incremental") == 0)
	{
		StringInfoData keys,
					sets,
					oldv,
					newv;
		bool		first = true;

		initStringInfo(&keys);
		initStringInfo(&sets);
		initStringInfo(&oldv);
		initStringInfo(&newv);
		foreach(lc, jd->key_columns)
		{
			if (keys.len > 0)
				appendStringInfoString(&keys, ", ");
			appendStringInfoString(&keys, quote_identifier((char *) lfirst(lc)));
		}
		foreach(lc, cols)
		{
			const char *q = quote_identifier((char *) lfirst(lc));

			if (string_in_list((char *) lfirst(lc), jd->key_columns))
				continue;
			appendStringInfo(&sets, "%s%s = EXCLUDED.%s", first ? "" : ", ", q, q);
			appendStringInfo(&oldv, "%st.%s", first ? "" : ", ", q);
			appendStringInfo(&newv, "%sEXCLUDED.%s", first ? "" : ", ", q);
			first = false;
		}
		if (first)
			appendStringInfo(&sql, " ON CONFLICT (%s) DO NOTHING", keys.data);
		else
		{
			if (has_runcol)
				appendStringInfo(&sets, ", %s = EXCLUDED.%s",
								 quote_identifier(jd->run_id_column),
								 quote_identifier(jd->run_id_column));
			appendStringInfo(&sql, " ON CONFLICT (%s) DO UPDATE SET %s"
							 " WHERE ROW(%s) IS DISTINCT FROM ROW(%s)",
							 keys.data, sets.data, oldv.data, newv.data);
		}
	}
	appendStringInfoString(&sql,
						   " RETURNING 1) SELECT (SELECT pg_catalog.count(*) FROM pubdata_src), "
						   "(SELECT pg_catalog.count(*) FROM pubdata_ins)");

	if (SPI_execute_with_args(sql.data, has_runcol ? 1 : 0, argtypes, values, NULL, false, 1)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pubdata job: aggregation statement returned no result");
	*nread = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*nwritten = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

/*
 * check_single_select
 *		Error unless the text is exactly one SELECT statement (no INTO), so
 *		that it cannot close the parenthesis it is put in and run more.
 */
static void
check_single_select(const char *query)
{
	List	   *stmts = raw_parser(query, RAW_PARSE_DEFAULT);
	Node	   *stmt;

	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source of an aggregation must be a single SELECT statement"),
				 errdetail("The text holds %d statements.", list_length(stmts)),
				 errhint("Give one query, or a table name.")));
	stmt = ((RawStmt *) linitial(stmts))->stmt;
	if (!IsA(stmt, SelectStmt) || ((SelectStmt *) stmt)->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source of an aggregation must be a SELECT statement"),
				 errhint("Give a SELECT, VALUES or TABLE query, or a table name.")));
	/* WITH x AS (DELETE ... RETURNING ...) SELECT: only at the top level */
	if (((SelectStmt *) stmt)->withClause != NULL)
	{
		ListCell   *lc;

		foreach(lc, ((SelectStmt *) stmt)->withClause->ctes)
		{
			CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

			if (!IsA(cte->ctequery, SelectStmt))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the source of an aggregation must not change data"),
						 errdetail("WITH query \"%s\" is an INSERT, UPDATE, DELETE or MERGE.", cte->ctename),
						 errhint("Give a query that only reads.")));
		}
	}
}

PG_FUNCTION_INFO_V1(pubdata_check_select);

/*
 * pubdata._check_select(query text) returns void
 *		SQL face of check_single_select(), used when a job is scheduled.
 */
Datum
pubdata_check_select(PG_FUNCTION_ARGS)
{
	check_single_select(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * Cron expressions: minute hour day-of-month month day-of-week; months
 * may be named JAN-DEC and days SUN-SAT (any case), as in Vixie cron
 * ------------------------------------------------------------------------
 */

typedef struct CronSpec
{
	uint64		minute;			/* bit n: minute n matches */
	uint32		hour;
	uint32		dom;			/* bits 1..31 */
	uint32		month;			/* bits 1..12 */
	uint32		dow;			/* bits 0..6, Sunday = 0 */
	bool		dom_star;
	bool		dow_star;
} CronSpec;

/*
 * cron_error
 *		Report a malformed cron expression.
 */
static void
cron_error(const char *expr, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid cron expression \"%s\"", expr),
			 errdetail("%s", why),
			 errhint("Use five fields: minute hour day-of-month month day-of-week, "
					 "each *, a number, a range a-b, a step */n or a-b/n, or a comma list; "
					 "months may be JAN-DEC and days SUN-SAT; e.g. \"30 2 * * 1-5\" or \"0 9 1 JAN,JUL MON-FRI\".")));
}

static const char *const cron_months[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const cron_days[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/*
 * cron_value
 *		A number, or a three-letter name (JAN-DEC, SUN-SAT, any case) when
 *		the field has names (names[0] is the value first), at *p; advances
 *		*p.  Returns -1 when there is neither.
 */
static int
cron_value(char **p, const char *const *names, int first)
{
	char	   *end;
	int			i;

	if (isdigit((unsigned char) **p))
	{
		long		v = strtol(*p, &end, 10);

		*p = end;
		return v > 1000 ? 1000 : (int) v;
	}
	for (i = 0; names && names[i]; i++)
		if (pg_strncasecmp(*p, names[i], 3) == 0 && !isalpha((unsigned char) (*p)[3]))
		{
			*p += 3;
			return first + i;
		}
	return -1;
}

/*
 * cron_field
 *		Parse one field into a bit mask of values lo..hi; names, if any, are
 *		the field's value names from first on.
 */
static uint64
cron_field(const char *expr, const char *field, int lo, int hi, bool *star,
		   const char *const *names, int first)
{
	uint64		mask = 0;
	char	   *copy = pstrdup(field);
	char	   *save = NULL;
	char	   *part;

	*star = (strcmp(field, "*") == 0);
	for (part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save))
	{
		int			a,
					b,
					step = 1,
					v;
		char	   *p = part;
		char	   *end;

		if (*p == '*')
		{
			a = lo;
			b = hi;
			p++;
		}
		else
		{
			a = cron_value(&p, names, first);
			if (a < 0)
				cron_error(expr, psprintf(names ? "\"%s\" is not a number, a name, a range or *." :
										  "\"%s\" is not a number, range or *.", part));
			b = a;
			if (*p == '-')
			{
				p++;
				b = cron_value(&p, names, first);
				if (b < 0)
					cron_error(expr, psprintf("bad range \"%s\".", part));
			}
		}
		if (*p == '/')
		{
			p++;
			if (!isdigit((unsigned char) *p))
				cron_error(expr, psprintf("bad step \"%s\".", part));
			step = (int) strtol(p, &end, 10);
			p = end;
			if (step < 1)
				cron_error(expr, psprintf("bad step \"%s\".", part));
			if (a == b && part[0] != '*')
				b = hi;			/* "5/15" means 5-hi/15 */
		}
		if (*p != '\0')
			cron_error(expr, psprintf("unexpected text in \"%s\".", part));
		if (a < lo || b > hi || a > b)
			cron_error(expr, psprintf("\"%s\" is outside %d-%d.", part, lo, hi));
		for (v = a; v <= b; v += step)
			mask |= (UINT64CONST(1) << v);
	}
	pfree(copy);
	if (mask == 0)
		cron_error(expr, psprintf("empty field \"%s\".", field));
	return mask;
}

/*
 * cron_parse
 *		Parse a five-field cron expression.
 */
static void
cron_parse(const char *expr, CronSpec *spec)
{
	char	   *copy = pstrdup(expr);
	char	   *fields[6];
	int			n = 0;
	char	   *save = NULL;
	char	   *tok;
	bool		star;

	for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
	{
		if (n == 5)
			cron_error(expr, "More than five fields.");
		fields[n++] = tok;
	}
	if (n != 5)
		cron_error(expr, "Fewer than five fields.");
	spec->minute = cron_field(expr, fields[0], 0, 59, &star, NULL, 0);
	spec->hour = (uint32) cron_field(expr, fields[1], 0, 23, &star, NULL, 0);
	spec->dom = (uint32) cron_field(expr, fields[2], 1, 31, &spec->dom_star, NULL, 0);
	spec->month = (uint32) cron_field(expr, fields[3], 1, 12, &star, cron_months, 1);
	{
		/* day of week: 0 and 7 are both Sunday */
		uint64		m = cron_field(expr, fields[4], 0, 7, &spec->dow_star, cron_days, 0);

		if (m & (UINT64CONST(1) << 7))
			m |= 1;
		spec->dow = (uint32) (m & 0x7F);
	}
}

/*
 * cron_next
 *		The first minute strictly after t matching the spec, on the clock of
 *		pubdata.timezone (not the session's or the server's TimeZone: the
 *		launcher and the session that schedules a job must agree, and
 *		'0 2 * * *' is 02:00 in Lishui).  Day-of-month and day-of-week
 *		combine as in Vixie cron: when both are restricted, either may match.
 */
static TimestampTz
cron_next(const char *expr, CronSpec *spec, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	int			start_year;
	TimestampTz result;

	if (timestamp2tm(t, &tz, &tm, &fsec, NULL, pubdata_tz()) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tm.tm_sec = 0;
	tm.tm_min += 1;
	start_year = tm.tm_year;

	for (;;)
	{
		int			mdays;
		bool		dom_ok,
					dow_ok,
					day_ok;

		/* normalise carries */
		if (tm.tm_min > 59)
		{
			tm.tm_min = 0;
			tm.tm_hour++;
		}
		if (tm.tm_hour > 23)
		{
			tm.tm_hour = 0;
			tm.tm_mday++;
		}
		mdays = day_tab[isleap(tm.tm_year)][tm.tm_mon - 1];
		if (tm.tm_mday > mdays)
		{
			tm.tm_mday = 1;
			tm.tm_mon++;
		}
		if (tm.tm_mon > 12)
		{
			tm.tm_mon = 1;
			tm.tm_year++;
		}
		if (tm.tm_year > start_year + 8)
			cron_error(expr, "It never matches a real date.");

		if (!(spec->month & (1U << tm.tm_mon)))
		{
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = 0;
			tm.tm_min = 0;
			if (tm.tm_mon > 12)
			{
				tm.tm_mon = 1;
				tm.tm_year++;
			}
			continue;
		}
		dom_ok = (spec->dom & (1U << tm.tm_mday)) != 0;
		dow_ok = (spec->dow & (1U << j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday)))) != 0;
		if (spec->dom_star || spec->dow_star)
			day_ok = dom_ok && dow_ok;
		else
			day_ok = dom_ok || dow_ok;
		if (!day_ok)
		{
			tm.tm_mday++;
			tm.tm_hour = 0;
			tm.tm_min = 0;
			/* carry handled at the top; tm_mday may exceed mdays by one */
			if (tm.tm_mday > mdays)
			{
				tm.tm_mday = 1;
				tm.tm_mon++;
			}
			continue;
		}
		if (!(spec->hour & (1U << tm.tm_hour)))
		{
			tm.tm_hour++;
			tm.tm_min = 0;
			continue;
		}
		if (!(spec->minute & (UINT64CONST(1) << tm.tm_min)))
		{
			tm.tm_min++;
			continue;
		}
		break;
	}

	tz = DetermineTimeZoneOffset(&tm, pubdata_tz());
	if (tm2timestamp(&tm, 0, &tz, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	/* a DST gap can map a local time before t: look one minute later */
	if (result <= t)
		return cron_next(expr, spec, t + USECS_PER_MINUTE);
	return result;
}

PG_FUNCTION_INFO_V1(pubdata_cron_next);

/*
 * pubdata.cron_next(expr text, after timestamptz) returns timestamptz
 *		The next time after "after" that a cron expression matches.
 */
Datum
pubdata_cron_next(PG_FUNCTION_ARGS)
{
	char	   *expr = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	CronSpec	spec;

	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cron_next needs a finite timestamp")));
	cron_parse(expr, &spec);
	PG_RETURN_TIMESTAMPTZ(cron_next(expr, &spec, after));
}
