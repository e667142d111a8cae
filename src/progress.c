/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Progress of long pubdata commands, shown in pubdata.progress the way
 *	  pg_stat_progress_* shows PostgreSQL's own.
 *
 * PostgreSQL's progress reporting (pgstat_progress_start_command) takes
 * only its built-in commands; pretending to be one (VACUUM, say) would show
 * a quality measurement in pg_stat_progress_vacuum with VACUUM's column
 * names.  So pubdata keeps its own small array in shared memory, one slot
 * per backend (indexed by its BackendId, as PostgreSQL's backend status
 * array is), written only by its backend and read by anyone with the same
 * protocol as that array: the writer makes a change counter odd, writes,
 * and makes it even again; a reader copies a slot and retries until it has
 * seen an even counter that did not change.  No lock on either side.
 *
 * A command's slot is cleared when its transaction (or the subtransaction
 * it started in) ends, committed or not, so an error or a cancel
 * (pg_cancel_backend) never leaves a command shown that no longer runs.
 * Without shared_preload_libraries there is no array: nothing is shown,
 * and the commands run as before.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "progress.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

typedef struct ProgressSlot
{
	pg_atomic_uint32 changecount;	/* odd while the backend writes */
	int			pid;			/* 0: nothing shown */
	Oid			dbid;
	Oid			userid;
	int			command;
	int64		resource_id;
	int64		job_id;
	int64		run_id;
	TimestampTz started_at;
	int64		counters[PUBDATA_PROGRESS_NCOUNTERS];
} ProgressSlot;

static ProgressSlot *progress_slots = NULL;
static int	progress_nslots = 0;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* this backend's command: shown, and the (sub)transaction it started in */
static bool progress_active = false;
static int	progress_nestlevel = 0;
static int64 progress_job_id = 0;
static int64 progress_run_id = 0;

static const char *const command_names[] = {NULL, "quality", "aggregation"};
static const char *const phase_names[] = {
	"initializing", "reading referenced values", "scanning", "counting duplicate keys",
	"reading failing rows", "storing results", "running the aggregation"
};

/*
 * progress_shmem_request / progress_shmem_startup
 *		One slot per backend.
 */
static void
progress_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(mul_size(MaxBackends, sizeof(ProgressSlot)));
}

static void
progress_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	progress_slots = ShmemInitStruct("pubdata progress", mul_size(MaxBackends, sizeof(ProgressSlot)), &found);
	progress_nslots = MaxBackends;
	if (!found)
	{
		int			i;

		memset(progress_slots, 0, mul_size(MaxBackends, sizeof(ProgressSlot)));
		for (i = 0; i < MaxBackends; i++)
			pg_atomic_init_u32(&progress_slots[i].changecount, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * my_slot
 *		This backend's slot, or NULL (not preloaded, no backend id, a
 *		parallel worker: its leader shows the command).
 */
static ProgressSlot *
my_slot(void)
{
	if (progress_slots == NULL || MyBackendId == InvalidBackendId ||
		MyBackendId > progress_nslots || IsParallelWorker())
		return NULL;
	return &progress_slots[MyBackendId - 1];
}

static inline void
begin_write(ProgressSlot *s)
{
	pg_atomic_fetch_add_u32(&s->changecount, 1);
	pg_write_barrier();
}

static inline void
end_write(ProgressSlot *s)
{
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&s->changecount, 1);
}

/*
 * progress_xact_callback / progress_subxact_callback
 *		A command ends with its transaction, or with the subtransaction it
 *		started in when that is rolled back.
 */
static void
progress_xact_callback(XactEvent event, void *arg)
{
	if (progress_active &&
		(event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PREPARE))
		pubdata_progress_end();
}

static void
progress_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (progress_active && event == SUBXACT_EVENT_ABORT_SUB &&
		GetCurrentTransactionNestLevel() <= progress_nestlevel)
		pubdata_progress_end();
}

/*
 * pubdata_progress_init
 *		Shared memory, when preloaded; the transaction callbacks.
 */
void
pubdata_progress_init(void)
{
	RegisterXactCallback(progress_xact_callback, NULL);
	RegisterSubXactCallback(progress_subxact_callback, NULL);
	if (!pubdata_preloaded)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = progress_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = progress_shmem_startup;
}

/*
 * pubdata_progress_start
 *		Show a command of this backend from now on.
 */
void
pubdata_progress_start(int command, int64 resource_id)
{
	ProgressSlot *s = my_slot();

	progress_active = true;
	progress_nestlevel = GetCurrentTransactionNestLevel();
	if (s == NULL)
		return;
	begin_write(s);
	s->pid = MyProcPid;
	s->dbid = MyDatabaseId;
	s->userid = GetOuterUserId();
	s->command = command;
	s->resource_id = resource_id;
	s->job_id = progress_job_id;
	s->run_id = progress_run_id;
	s->started_at = GetCurrentTimestamp();
	memset(s->counters, 0, sizeof(s->counters));
	end_write(s);
}

/*
 * pubdata_progress_set_job
 *		The job run this backend is in (a job worker), shown with the
 *		commands it starts; 0 when none.
 */
void
pubdata_progress_set_job(int64 job_id, int64 run_id)
{
	progress_job_id = job_id;
	progress_run_id = run_id;
}

/*
 * pubdata_progress_set / pubdata_progress_add
 *		A counter of the command shown.
 */
void
pubdata_progress_set(int counter, int64 value)
{
	ProgressSlot *s = my_slot();

	if (s == NULL || !progress_active)
		return;
	begin_write(s);
	s->counters[counter] = value;
	end_write(s);
}

void
pubdata_progress_add(int counter, int64 value)
{
	ProgressSlot *s = my_slot();

	if (s == NULL || !progress_active)
		return;
	begin_write(s);
	s->counters[counter] += value;
	end_write(s);
}

/*
 * pubdata_progress_end
 *		Stop showing this backend's command.
 */
void
pubdata_progress_end(void)
{
	ProgressSlot *s = my_slot();

	progress_active = false;
	if (s == NULL)
		return;
	begin_write(s);
	s->pid = 0;
	end_write(s);
}

/*
 * read_slot
 *		A consistent copy of a slot.
 */
static void
read_slot(ProgressSlot *s, ProgressSlot *copy)
{
	for (;;)
	{
		uint32		before = pg_atomic_read_u32(&s->changecount);
		uint32		after;

		pg_read_barrier();
		memcpy((char *) copy + sizeof(pg_atomic_uint32), (char *) s + sizeof(pg_atomic_uint32),
			   sizeof(ProgressSlot) - sizeof(pg_atomic_uint32));
		pg_read_barrier();
		after = pg_atomic_read_u32(&s->changecount);
		if (before == after && (before & 1) == 0)
			return;
		CHECK_FOR_INTERRUPTS();
	}
}

PG_FUNCTION_INFO_V1(pubdata_progress);

/*
 * pubdata._progress() returns setof record
 *		Every command shown in this database: pid, role, command, resource,
 *		job and run, phase, the relation being read, partitions, blocks and
 *		rows done and in all, workers, memory, start.  The view
 *		pubdata.progress decides who sees which.
 */
Datum
pubdata_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; progress_slots != NULL && i < progress_nslots; i++)
	{
		ProgressSlot c;
		Datum		values[16];
		bool		nulls[16];
		int64	   *k = c.counters;
		int			phase;

		read_slot(&progress_slots[i], &c);
		if (c.pid == 0 || c.dbid != MyDatabaseId)
			continue;
		memset(nulls, false, sizeof(nulls));
		phase = (int) k[PUBDATA_PROGRESS_PHASE];
		values[0] = Int32GetDatum(c.pid);
		values[1] = ObjectIdGetDatum(c.userid);
		values[2] = CStringGetTextDatum(command_names[c.command == PUBDATA_PROGRESS_AGGREGATION ? 2 : 1]);
		values[3] = Int64GetDatum(c.resource_id);
		nulls[3] = c.resource_id == 0;
		values[4] = Int64GetDatum(c.job_id);
		nulls[4] = c.job_id == 0;
		values[5] = Int64GetDatum(c.run_id);
		nulls[5] = c.run_id == 0;
		values[6] = CStringGetTextDatum(phase >= 0 && phase < lengthof(phase_names) ? phase_names[phase] : "unknown");
		values[7] = ObjectIdGetDatum((Oid) k[PUBDATA_PROGRESS_RELID]);
		nulls[7] = k[PUBDATA_PROGRESS_RELID] == 0;
		values[8] = Int64GetDatum(k[PUBDATA_PROGRESS_PARTITIONS_TOTAL]);
		values[9] = Int64GetDatum(k[PUBDATA_PROGRESS_PARTITIONS_DONE]);
		values[10] = Int64GetDatum(k[PUBDATA_PROGRESS_BLOCKS_TOTAL]);
		values[11] = Int64GetDatum(k[PUBDATA_PROGRESS_BLOCKS_DONE]);
		values[12] = Int64GetDatum(k[PUBDATA_PROGRESS_ROWS_DONE]);
		values[13] = Int32GetDatum((int32) k[PUBDATA_PROGRESS_WORKERS]);
		values[14] = Int64GetDatum(k[PUBDATA_PROGRESS_MEMORY]);
		values[15] = TimestampTzGetDatum(c.started_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pubdata_progress_end_sql);

/*
 * pubdata._progress_end() returns void
 *		The calling backend's command is over (measure_quality, once its
 *		results are stored: its transaction may go on).
 */
Datum
pubdata_progress_end_sql(PG_FUNCTION_ARGS)
{
	pubdata_progress_end();
	PG_RETURN_VOID();
}
