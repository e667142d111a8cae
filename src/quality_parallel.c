/*-------------------------------------------------------------------------
 *
 * quality_parallel.c
 *	  A measurement's scan by several processes, with PostgreSQL's own
 *	  parallel infrastructure (as parallel CREATE INDEX builds a btree).
 *
 * When the table (all its leaves) is large enough, the measuring backend
 * (the leader) enters parallel mode, creates a ParallelContext and launches
 * workers: as many as PostgreSQL would give a parallel scan of that many
 * blocks (min_parallel_table_scan_size, the table's parallel_workers
 * option), at most max_parallel_maintenance_workers (measuring is
 * maintenance work: its memory is maintenance_work_mem's).  Through the
 * dynamic shared memory segment's table of contents they share:
 *
 *	- the rules as they were read (each participant compiles them itself, as
 *	  the table's owner in a security-restricted operation: the leader's
 *	  identity, search_path and snapshot go to the workers with the
 *	  context), the measurement's clock, the locator layout;
 *	- one ParallelTableScanDesc per leaf (without synchronized scan), read
 *	  leaf after leaf by every participant, the leader included; or, when
 *	  the unique rules count partition by partition (unique_leafwise) and
 *	  there are at least two partitions a participant, a counter from
 *	  which each participant claims whole partitions;
 *	- the referenced values of reference rules (flat sets, as loaded by the
 *	  leader);
 *	- the unique rules' windows (keys counted by direct address,
 *	  quality_unique.c): split when every participant's own slots fit the
 *	  budget (each keeps the first row of its keys in private memory and
 *	  marks them in a private bitmap, merged after the scan into two shared
 *	  bitmaps: keys seen, keys seen by more than one), else shared (the
 *	  first row of each key, set by compare-and-swap); the rows of keys
 *	  seen again go to the batches;
 *	- a SharedFileSet: every participant writes each other unique key, with its
 *	  row's place, to one of the batches of its rule, chosen by hash;
 *	- one result area per participant.
 *
 * The leader takes part at once, as parallel CREATE INDEX's does: the blocks
 * go to whoever asks first while the workers start.  Two phases: the scan
 * (every rule on every row; failures, samples, newest values and per-leaf
 * counts kept per participant), with split windows a step after it (each
 * participant merges its bitmap; once all have, each sends its first row
 * of the keys others have seen too); then, once every participant has
 * finished scanning (a condition variable), the unique
 * batches, claimed one at a time by any participant (an atomic counter),
 * each counted in a table within one participant's share of the memory
 * budget (quality_unique.c).  The leader then adds the participants'
 * results up; samples are the smallest places, so the first failing rows,
 * as in a scan by one process.
 *
 * Parallel mode is used only where it cannot change what runs: custom
 * expressions and the types' functions the rules call must be parallel
 * safe, the table must not be temporary, and the backend must not be in
 * parallel mode already.  Without a worker launched, the scan runs in the
 * leader alone, as without parallelism.  A worker's error reaches the
 * leader, which aborts the measurement; a cancel stops all of them.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "progress.h"
#include "quality_int.h"

#include "access/heapam.h"
#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/paths.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/condition_variable.h"
#include "storage/sharedfileset.h"
#include "storage/spin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

/* keys of the table of contents */
#define PQ_KEY_SHARED		UINT64CONST(0xB0D0A7A000000001)
#define PQ_KEY_RULES		UINT64CONST(0xB0D0A7A000000002)
#define PQ_KEY_SCANS		UINT64CONST(0xB0D0A7A000000003)
#define PQ_KEY_REFSETS		UINT64CONST(0xB0D0A7A000000004)
#define PQ_KEY_RESULTS		UINT64CONST(0xB0D0A7A000000005)
#define PQ_KEY_WINDOWS		UINT64CONST(0xB0D0A7A000000006)

/* what every participant reads and writes */
typedef struct QualityShared
{
	Oid			relid;			/* the resource's relation */
	int64		resource_id;
	int			nleaves;
	int			nrules;
	int			sample_limit;
	int			offbits;
	int			blockbits;
	int			nparts;			/* batches of each unique rule */
	Size		share;			/* bytes of one participant's unique table */
	int			nplanned;		/* result areas: workers planned + the leader */
	Size		result_size;	/* of one participant's area */

	slock_t		mutex;
	int			nparticipants;	/* the workers launched and the leader; 0 before */
	int			nmerged;		/* participants done merging split windows */
	int			nscanned;		/* participants done scanning */
	ConditionVariable cv;
	pg_atomic_uint32 next_batch;	/* the next unique batch to count */
	pg_atomic_uint64 rows;		/* rows scanned so far (for progress) */
	bool		leafwise;		/* partitions claimed whole, one at a time */
	pg_atomic_uint32 next_leaf; /* then: the next partition to claim */
	pg_atomic_uint32 leaves_done;
	pg_atomic_uint64 blocks_done;

	SharedFileSet fileset;
	Size		scan_off[FLEXIBLE_ARRAY_MEMBER];	/* per leaf, in PQ_KEY_SCANS;
													 * then per rule, in
													 * PQ_KEY_REFSETS (0: none);
													 * then per rule, + 1, in
													 * PQ_KEY_WINDOWS (0: none) */
} QualityShared;

/* one rule's result of one participant (then its arrays) */
typedef struct RuleResult
{
	int64		failed;
	int			nsamples;
	bool		has_newest;
	Datum		newest;
} RuleResult;

/*
 * Layout of a participant's area: int64 mem_peak; int64 rows[nleaves]; per
 * rule: RuleResult, int64 leaf_failed[nleaves], QualityLocator
 * locs[sample_limit], uint32 counts[sample_limit]; per rule: int64
 * nrecs[nparts] (the keys it wrote to each batch).
 */
static Size
rule_result_size(int nleaves, int limit)
{
	return MAXALIGN(sizeof(RuleResult)) + MAXALIGN(sizeof(int64) * nleaves) +
		MAXALIGN(sizeof(QualityLocator) * Max(limit, 1)) + MAXALIGN(sizeof(uint32) * Max(limit, 1));
}

static Size
participant_size(int nleaves, int nrules, int limit, int nparts)
{
	return MAXALIGN(sizeof(int64)) + MAXALIGN(sizeof(int64) * nleaves) +
		nrules * rule_result_size(nleaves, limit) +
		nrules * MAXALIGN(sizeof(int64) * nparts);
}

static char *
area_of(QualityShared *sh, char *results, int participant)
{
	return results + sh->result_size * participant;
}

static int64 *
area_rows(QualityShared *sh, char *area)
{
	return (int64 *) (area + MAXALIGN(sizeof(int64)));
}

static char *
area_rule(QualityShared *sh, char *area, int i)
{
	return area + MAXALIGN(sizeof(int64)) + MAXALIGN(sizeof(int64) * sh->nleaves) +
		i * rule_result_size(sh->nleaves, sh->sample_limit);
}

static int64 *
area_nrecs(QualityShared *sh, char *area, int i)
{
	return (int64 *) (area_rule(sh, area, sh->nrules) + i * MAXALIGN(sizeof(int64) * sh->nparts));
}

/*
 * save_results / add_results
 *		A participant's outcome into its area; an area's outcome added to
 *		the leader's (samples: the smallest places of all).
 */
static void
save_results(QualityState *qs, QualityShared *sh, char *area)
{
	int			i;

	*(int64 *) area = (int64) qs->mem_peak;
	for (i = 0; i < qs->nleaves; i++)
		area_rows(sh, area)[i] = qs->leaves[i].rows;
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];
		char	   *p = area_rule(sh, area, i);
		RuleResult *rr = (RuleResult *) p;

		rr->failed = r->failed;
		rr->nsamples = r->nsamples;
		rr->has_newest = r->has_newest;
		rr->newest = r->newest;
		p += MAXALIGN(sizeof(RuleResult));
		memcpy(p, r->leaf_failed, sizeof(int64) * qs->nleaves);
		p += MAXALIGN(sizeof(int64) * qs->nleaves);
		memcpy(p, r->sample_locs, sizeof(QualityLocator) * r->nsamples);
		p += MAXALIGN(sizeof(QualityLocator) * Max(sh->sample_limit, 1));
		memcpy(p, r->sample_counts, sizeof(uint32) * r->nsamples);
	}
}

static void
add_results(QualityState *qs, QualityShared *sh, char *area)
{
	int			i,
				j;

	qs->mem_peak += (Size) *(int64 *) area;
	for (i = 0; i < qs->nleaves; i++)
	{
		qs->leaves[i].rows += area_rows(sh, area)[i];
		qs->nrows += area_rows(sh, area)[i];
	}
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];
		char	   *p = area_rule(sh, area, i);
		RuleResult *rr = (RuleResult *) p;
		int64	   *leaf_failed;
		QualityLocator *locs;
		uint32	   *counts;

		p += MAXALIGN(sizeof(RuleResult));
		leaf_failed = (int64 *) p;
		p += MAXALIGN(sizeof(int64) * qs->nleaves);
		locs = (QualityLocator *) p;
		p += MAXALIGN(sizeof(QualityLocator) * Max(sh->sample_limit, 1));
		counts = (uint32 *) p;

		r->failed += rr->failed;
		for (j = 0; j < qs->nleaves; j++)
			r->leaf_failed[j] += leaf_failed[j];
		for (j = 0; j < rr->nsamples; j++)
			quality_add_sample(qs, r, locs[j], counts[j]);
		if (rr->has_newest &&
			(!r->has_newest ||
			 DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, rr->newest, r->newest)) > 0))
		{
			r->newest = rr->newest;
			r->has_newest = true;
		}
	}
}

/*
 * reset_outcome
 *		Forget the leader's own outcome (it was saved in its area), before
 *		every area is added up.
 */
static void
reset_outcome(QualityState *qs)
{
	int			i;

	qs->nrows = 0;
	qs->mem_peak = 0;
	for (i = 0; i < qs->nleaves; i++)
		qs->leaves[i].rows = 0;
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		r->failed = 0;
		r->nsamples = 0;
		r->has_newest = false;
		memset(r->leaf_failed, 0, sizeof(int64) * qs->nleaves);
	}
}

/*
 * unsafe_function
 *		check_functions_in_node's callback: a function not marked PARALLEL
 *		SAFE.
 */
static bool
unsafe_function(Oid funcid, void *context)
{
	return func_parallel(funcid) != PROPARALLEL_SAFE;
}

static bool
unsafe_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, unsafe_function, context))
		return true;
	return expression_tree_walker(node, unsafe_walker, context);
}

/*
 * fn_unsafe
 *		A function a rule calls (a type's output, comparison, equality or
 *		hash function) that is not PARALLEL SAFE.
 */
static bool
fn_unsafe(FmgrInfo *f)
{
	return OidIsValid(f->fn_oid) && func_parallel(f->fn_oid) != PROPARALLEL_SAFE;
}

/*
 * rules_parallel_safe
 *		Whether every rule can be evaluated in a parallel worker.
 */
static bool
rules_parallel_safe(QualityState *qs)
{
	int			i,
				j;

	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->expr && unsafe_walker((Node *) r->expr, NULL))
			return false;
		if (fn_unsafe(&r->outfn) || fn_unsafe(&r->cmpfn) || fn_unsafe(&r->eqfn))
			return false;
		for (j = 0; r->hashfns && j < r->nitems; j++)
			if (r->hashkinds[j] == HK_FMGR && fn_unsafe(&r->hashfns[j]))
				return false;
	}
	return true;
}

/*
 * plan_workers
 *		How many workers a parallel scan of this many blocks gets, the way
 *		the planner decides it for a table (compute_parallel_worker), capped
 *		by max_parallel_maintenance_workers; 0 when parallel mode is not for
 *		this measurement.
 */
static int
plan_workers(QualityState *qs)
{
	double		blocks = 0;
	int			workers;
	int			i;

	if (!IsUnderPostmaster || IsInParallelMode() || max_parallel_maintenance_workers <= 0 ||
		qs->nleaves == 0)
		return 0;
	for (i = 0; i < qs->nleaves; i++)
	{
		if (RelationUsesLocalBuffers(qs->leaves[i].rel))
			return 0;
		blocks += qs->leaves[i].nblocks;
	}
	if (!rules_parallel_safe(qs))
		return 0;
	workers = qs->rel->rd_rel->relkind != RELKIND_VIEW ? RelationGetParallelWorkers(qs->rel, -1) : -1;
	if (workers < 0)
	{
		double		threshold = Max(min_parallel_table_scan_size, 1);

		if (blocks < threshold)
			return 0;
		workers = 1;
		while (blocks >= threshold * 3)
		{
			workers++;
			threshold *= 3;
			if (threshold > INT_MAX / 3)
				break;
		}
	}
	return Min(workers, max_parallel_maintenance_workers);
}

/*
 * progress_of_scans
 *		Blocks handed out so far by the leaves' parallel scans (heap's block
 *		scans count them), and rows read, for pubdata.progress.
 */
static void
progress_of_scans(QualityState *qs, QualityShared *sh, char *scans)
{
	int64		done = 0;
	int			i;

	if (sh->leafwise)
	{
		pubdata_progress_set(PUBDATA_PROGRESS_BLOCKS_DONE, (int64) pg_atomic_read_u64(&sh->blocks_done));
		pubdata_progress_set(PUBDATA_PROGRESS_PARTITIONS_DONE, pg_atomic_read_u32(&sh->leaves_done));
		pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, (int64) pg_atomic_read_u64(&sh->rows));
		pubdata_progress_set(PUBDATA_PROGRESS_MEMORY, (int64) qs->mem_used);
		return;
	}
	for (i = 0; i < qs->nleaves; i++)
	{
		ParallelBlockTableScanDesc pb = (ParallelBlockTableScanDesc) (scans + sh->scan_off[i]);

		if (qs->leaves[i].rel->rd_tableam != GetHeapamTableAmRoutine())
			continue;			/* not a block scan: its blocks are not counted */
		done += Min((int64) pg_atomic_read_u64(&pb->phs_nallocated), (int64) qs->leaves[i].nblocks);
	}
	pubdata_progress_set(PUBDATA_PROGRESS_BLOCKS_DONE, done);
	pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, (int64) pg_atomic_read_u64(&sh->rows));
	pubdata_progress_set(PUBDATA_PROGRESS_MEMORY, (int64) qs->mem_used);
}

/*
 * scan_leaves
 *		This participant's part of every leaf's parallel scan.
 */
static void
scan_leaves_whole(QualityState *qs, QualityShared *sh, char *scans, bool leader);

static void
scan_leaves(QualityState *qs, QualityShared *sh, char *scans, bool leader)
{
	int			leafno;
	int64		reported = 0;

	if (sh->leafwise)
	{
		scan_leaves_whole(qs, sh, scans, leader);
		return;
	}
	for (leafno = 0; leafno < qs->nleaves; leafno++)
	{
		QualityLeaf *l = &qs->leaves[leafno];
		TableScanDesc scan = table_beginscan_parallel(l->rel, (ParallelTableScanDesc) (scans + sh->scan_off[leafno]));
		QualityBatch *b = quality_batch_begin(qs, leafno, scan);
		ItemPointer tid;
		BlockNumber lastblock = InvalidBlockNumber;

		qs->curleaf = leafno;
		if (leader)
			pubdata_progress_set(PUBDATA_PROGRESS_RELID, l->relid);
		while ((tid = quality_scan_next(qs, b, scan, leafno)) != NULL)
		{
			BlockNumber blk = ItemPointerGetBlockNumber(tid);

			CHECK_FOR_INTERRUPTS();
			if (blk != lastblock)
			{
				/* a new block: the rows so far to the leader's progress */
				lastblock = blk;
				pg_atomic_fetch_add_u64(&sh->rows, qs->nrows - reported);
				reported = qs->nrows;
				if (leader)
					progress_of_scans(qs, sh, scans);
			}
		}
		quality_batch_end(qs, b);
		table_endscan(scan);
		if (leader)
			pubdata_progress_set(PUBDATA_PROGRESS_PARTITIONS_DONE, leafno + 1);
	}
	pg_atomic_fetch_add_u64(&sh->rows, qs->nrows - reported);
}

/*
 * scan_leaves_whole
 *		This participant's partitions, when the unique rules count their
 *		keys partition by partition (unique_leafwise): each partition is
 *		claimed whole and read by one participant alone, with a window of
 *		its own in private memory, counted when the partition is done.
 */
static void
scan_leaves_whole(QualityState *qs, QualityShared *sh, char *scans, bool leader)
{
	int64		reported = 0;

	for (;;)
	{
		uint32		leafno = pg_atomic_fetch_add_u32(&sh->next_leaf, 1);
		QualityLeaf *l;
		TableScanDesc scan;
		QualityBatch *b;
		ItemPointer tid;
		BlockNumber lastblock = InvalidBlockNumber;
		int			i;

		if (leafno >= (uint32) qs->nleaves)
			break;
		l = &qs->leaves[leafno];
		qs->curleaf = leafno;
		for (i = 0; i < qs->nrules; i++)
			if (qs->rules[i].kind == QK_UNIQUE)
				unique_leaf_begin(qs, &qs->rules[i], leafno);
		if (leader)
			pubdata_progress_set(PUBDATA_PROGRESS_RELID, l->relid);
		/* no synchronized scan: samples are then the first failing rows */
		scan = table_beginscan_strat(l->rel, GetActiveSnapshot(), 0, NULL, true, false);
		b = quality_batch_begin(qs, leafno, scan);
		while ((tid = quality_scan_next(qs, b, scan, leafno)) != NULL)
		{
			BlockNumber blk = ItemPointerGetBlockNumber(tid);

			CHECK_FOR_INTERRUPTS();
			if (blk != lastblock)
			{
				lastblock = blk;
				pg_atomic_fetch_add_u64(&sh->blocks_done, 1);
				pg_atomic_fetch_add_u64(&sh->rows, qs->nrows - reported);
				reported = qs->nrows;
				if (leader)
					progress_of_scans(qs, sh, scans);
			}
		}
		quality_batch_end(qs, b);
		table_endscan(scan);
		for (i = 0; i < qs->nrules; i++)
			if (qs->rules[i].kind == QK_UNIQUE)
				unique_leaf_end(qs, &qs->rules[i]);
		pg_atomic_fetch_add_u32(&sh->leaves_done, 1);
	}
	for (int i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			unique_window_release(qs, &qs->rules[i]);
	pg_atomic_fetch_add_u64(&sh->rows, qs->nrows - reported);
}

/*
 * wait_for_all
 *		This participant has done a step (counted in *done): wait until
 *		every participant has.  The leader, which began scanning without
 *		waiting for the workers to start (pcxt given the first time), first
 *		makes sure that every worker launched has started (an error if one
 *		could not), or the wait would never end; while it waits, the
 *		workers' rows go on counting in its progress.
 */
static void
wait_for_all(QualityState *qs, QualityShared *sh, char *scans, int *done, ParallelContext *pcxt)
{
	bool		leader = !IsParallelWorker();

	if (pcxt)
		WaitForParallelWorkersToAttach(pcxt);
	SpinLockAcquire(&sh->mutex);
	(*done)++;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->cv);
	ConditionVariablePrepareToSleep(&sh->cv);
	for (;;)
	{
		bool		all;

		SpinLockAcquire(&sh->mutex);
		all = sh->nparticipants > 0 && *done >= sh->nparticipants;
		SpinLockRelease(&sh->mutex);
		if (all)
			break;
		if (leader)
		{
			progress_of_scans(qs, sh, scans);
			(void) ConditionVariableTimedSleep(&sh->cv, 100, PG_WAIT_EXTENSION);
		}
		else
			ConditionVariableSleep(&sh->cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
}

/*
 * participate
 *		A participant's part, leader or worker: scan, write its unique keys'
 *		batch sizes, wait until all have scanned, count unique batches until
 *		none is left, save its outcome in its area.
 */
static void
participate(QualityState *qs, QualityShared *sh, char *scans, char *windows, char *results,
			int participant, ParallelContext *pcxt)
{
	char	   *area = area_of(sh, results, participant);
	bool		leader = participant == 0;
	bool		split = false;
	int			nbatches;
	int			i;

	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
		{
			Size		woff = sh->scan_off[qs->nleaves + qs->nrules + i];

			unique_setup_shared(qs, &qs->rules[i], sh->share, sh->nparts, &sh->fileset, participant,
								woff ? windows + woff - 1 : NULL);
		}

	scan_leaves(qs, sh, scans, leader);

	/*
	 * The split windows: every participant's keys into the shared bitmaps,
	 * then each sends its first row of the keys others have seen too.
	 */
	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			split |= unique_window_merge(qs, &qs->rules[i]);
	if (split)
	{
		wait_for_all(qs, sh, scans, &sh->nmerged, pcxt);
		pcxt = NULL;
		for (i = 0; i < qs->nrules; i++)
			if (qs->rules[i].kind == QK_UNIQUE)
				unique_window_settle(qs, &qs->rules[i]);
	}

	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			unique_spill_close(qs, &qs->rules[i], area_nrecs(sh, area, i));

	/* every participant's batches must be complete before any is counted */
	if (leader)
		pubdata_progress_set(PUBDATA_PROGRESS_PHASE, PUBDATA_PHASE_UNIQUE);
	wait_for_all(qs, sh, scans, &sh->nscanned, pcxt);

	/* the unique batches: rule by rule, batch by batch, whoever is free */
	nbatches = qs->nrules * sh->nparts;
	for (;;)
	{
		uint32		b = pg_atomic_fetch_add_u32(&sh->next_batch, 1);
		int			rule,
					p,
					k;
		int64		nrecs = 0;

		if (b >= (uint32) nbatches)
			break;
		rule = b / sh->nparts;
		p = b % sh->nparts;
		if (qs->rules[rule].kind != QK_UNIQUE)
			continue;
		for (k = 0; k < sh->nparticipants; k++)
			nrecs += area_nrecs(sh, area_of(sh, results, k), rule)[p];
		if (nrecs > 0)
			unique_count_shared_batch(qs, &qs->rules[rule], &sh->fileset, sh->nparticipants,
									  p, sh->nparts, nrecs);
	}
	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			unique_release(qs, &qs->rules[i]);
	save_results(qs, sh, area);
}

/*
 * quality_scan_parallel
 *		Scan with workers when the table is large enough and the rules allow
 *		it; false (nothing done) when the scan is for one process.  Called
 *		as the table's owner, after the referenced values are loaded.
 */
bool
quality_scan_parallel(QualityState *qs)
{
	int			nworkers = plan_workers(qs);
	ParallelContext *pcxt;
	QualityShared *sh;
	StringInfoData rules;
	Snapshot	snapshot = GetActiveSnapshot();
	Size		shared_size,
				scans_size = 0,
				refs_size = 0,
				windows_size = 0,
				wmax = 0,
				wmem = 0,
				results_size;
	BlockNumber maxblocks = 0;
	double		outside;
	bool		heap_only = true;
	char	   *windows;
	Size	   *leaf_scan_size;
	char	   *scans;
	char	   *refs = NULL;
	char	   *results;
	char	   *rules_copy;
	int			nplanned;
	int			nparts;
	Size		share;
	int			i;

	if (nworkers <= 0)
		return false;

	/*
	 * The unique rules' windows (in the DSM, shared), when every leaf is a
	 * heap (a row's place is compacted to 30 bits with a heap's offsets).
	 * The rest of the budget is shared by the participants, as CREATE
	 * INDEX shares it.
	 */
	for (i = 0; i < qs->nleaves; i++)
	{
		if (qs->leaves[i].rel->rd_tableam != GetHeapamTableAmRoutine())
			heap_only = false;
	}
	/*
	 * Or, when the unique rules count partition by partition and there are
	 * partitions enough, each participant claims whole partitions, each
	 * with a window of its own (private; 3/4 of its share at most).
	 */
	qs->leafwise = heap_only && qs->nleaves >= 2 * (nworkers + 1) && unique_leafwise(qs);
	outside = 1024;
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->kind != QK_UNIQUE)
			continue;
		if (!qs->leafwise && heap_only && unique_window_plan(qs, r, qs->unique_share / 2) > 0)
		{
			Size		total;

			windows_size += MAXALIGN(unique_window_shared_size(r, nworkers + 1, qs->unique_share / 2, &total));
			wmax = Max(wmax, total);
		}
		else
		{
			r->has_window = false;
			outside = qs->expected_rows;
		}
	}
	nplanned = nworkers + 1;
	share = Max((qs->unique_share - Min(wmax, qs->unique_share)) / nplanned, 64 * 1024);
	nparts = unique_shared_parts(share, outside);

	initStringInfo(&rules);
	quality_rules_serialize(qs, &rules);
	leaf_scan_size = palloc(sizeof(Size) * qs->nleaves);
	for (i = 0; i < qs->nleaves; i++)
	{
		leaf_scan_size[i] = MAXALIGN(table_parallelscan_estimate(qs->leaves[i].rel, snapshot));
		scans_size += leaf_scan_size[i];
	}
	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].set)
			refs_size += MAXALIGN(reference_set_bytes(qs->rules[i].set));
	shared_size = MAXALIGN(offsetof(QualityShared, scan_off) + sizeof(Size) * (qs->nleaves + 2 * qs->nrules));
	results_size = participant_size(qs->nleaves, qs->nrules, qs->sample_limit, nparts) * nplanned;

	EnterParallelMode();
	pcxt = CreateParallelContext("pubdata", "pubdata_quality_worker_main", nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, shared_size);
	shm_toc_estimate_chunk(&pcxt->estimator, rules.len + 1);
	shm_toc_estimate_chunk(&pcxt->estimator, scans_size);
	shm_toc_estimate_chunk(&pcxt->estimator, Max(refs_size, 1));
	shm_toc_estimate_chunk(&pcxt->estimator, results_size);
	shm_toc_estimate_chunk(&pcxt->estimator, Max(windows_size, 1));
	shm_toc_estimate_keys(&pcxt->estimator, 6);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		/* no dynamic shared memory to be had: one process */
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	sh = shm_toc_allocate(pcxt->toc, shared_size);
	memset(sh, 0, shared_size);
	sh->relid = qs->relid;
	sh->resource_id = qs->resource_id;
	sh->nleaves = qs->nleaves;
	sh->nrules = qs->nrules;
	sh->sample_limit = qs->sample_limit;
	sh->offbits = qs->offbits;
	sh->blockbits = qs->blockbits;
	sh->nparts = nparts;
	sh->share = share;
	sh->nplanned = nplanned;
	sh->result_size = participant_size(qs->nleaves, qs->nrules, qs->sample_limit, nparts);
	SpinLockInit(&sh->mutex);
	ConditionVariableInit(&sh->cv);
	pg_atomic_init_u32(&sh->next_batch, 0);
	pg_atomic_init_u64(&sh->rows, 0);
	sh->leafwise = qs->leafwise;
	pg_atomic_init_u32(&sh->next_leaf, 0);
	pg_atomic_init_u32(&sh->leaves_done, 0);
	pg_atomic_init_u64(&sh->blocks_done, 0);
	SharedFileSetInit(&sh->fileset, pcxt->seg);
	shm_toc_insert(pcxt->toc, PQ_KEY_SHARED, sh);

	rules_copy = shm_toc_allocate(pcxt->toc, rules.len + 1);
	memcpy(rules_copy, rules.data, rules.len + 1);
	shm_toc_insert(pcxt->toc, PQ_KEY_RULES, rules_copy);

	scans = shm_toc_allocate(pcxt->toc, scans_size);
	for (i = 0; i < qs->nleaves; i++)
	{
		ParallelTableScanDesc pscan;

		sh->scan_off[i] = i == 0 ? 0 : sh->scan_off[i - 1] + leaf_scan_size[i - 1];
		pscan = (ParallelTableScanDesc) (scans + sh->scan_off[i]);
		table_parallelscan_initialize(qs->leaves[i].rel, pscan, snapshot);
		/* no synchronized scan: samples are then the first failing rows */
		pscan->phs_syncscan = false;
	}
	shm_toc_insert(pcxt->toc, PQ_KEY_SCANS, scans);

	refs = shm_toc_allocate(pcxt->toc, Max(refs_size, 1));
	refs_size = 0;
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		sh->scan_off[qs->nleaves + i] = 0;
		if (r->set == NULL)
			continue;
		sh->scan_off[qs->nleaves + i] = refs_size + 1;	/* 0: no set */
		reference_set_copy(r->set, refs + refs_size);
		refs_size += MAXALIGN(reference_set_bytes(r->set));
	}
	shm_toc_insert(pcxt->toc, PQ_KEY_REFSETS, refs);

	results = shm_toc_allocate(pcxt->toc, results_size);
	memset(results, 0, results_size);
	shm_toc_insert(pcxt->toc, PQ_KEY_RESULTS, results);

	for (i = 0; i < qs->nleaves && windows_size > 0; i++)
		maxblocks = Max(maxblocks, ((ParallelBlockTableScanDesc) (scans + sh->scan_off[i]))->phs_nblocks);
	windows = shm_toc_allocate(pcxt->toc, Max(windows_size, 1));
	windows_size = 0;
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		sh->scan_off[qs->nleaves + qs->nrules + i] = 0;
		if (r->kind != QK_UNIQUE || !r->has_window)
			continue;
		sh->scan_off[qs->nleaves + qs->nrules + i] = windows_size + 1;	/* 0: none */
		wmem += unique_window_shared_init(qs, r, windows + windows_size, maxblocks);
		windows_size += MAXALIGN(unique_window_dsm_size(r));
	}
	shm_toc_insert(pcxt->toc, PQ_KEY_WINDOWS, windows);

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		/* no worker to be had: one process, the usual way */
		quality_mem_sub(qs, wmem);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}
	/*
	 * The leader takes part at once, as parallel CREATE INDEX's does: the
	 * workers take some milliseconds to start, and the scan's blocks go to
	 * whoever asks first.
	 */
	SpinLockAcquire(&sh->mutex);
	sh->nparticipants = pcxt->nworkers_launched + 1;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->cv);
	qs->workers = pcxt->nworkers_launched;
	pubdata_progress_set(PUBDATA_PROGRESS_WORKERS, qs->workers);

	participate(qs, sh, scans, windows, results, 0, pcxt);
	WaitForParallelWorkersToFinish(pcxt);

	reset_outcome(qs);
	for (i = 0; i < sh->nparticipants; i++)
		add_results(qs, sh, area_of(sh, results, i));
	for (i = 0; i < qs->nrules; i++)
		if (qs->nleaves <= 1 && qs->rules[i].kind == QK_UNIQUE)
			qs->rules[i].leaf_failed[0] = qs->rules[i].failed;

	quality_mem_sub(qs, wmem);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	pubdata_progress_set(PUBDATA_PROGRESS_BLOCKS_DONE, 0);
	for (i = 0; i < qs->nleaves; i++)
		pubdata_progress_add(PUBDATA_PROGRESS_BLOCKS_DONE, qs->leaves[i].nblocks);
	pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, qs->nrows);
	return true;
}

/*
 * pubdata_quality_worker_main
 *		A parallel worker of a measurement: the leader's transaction,
 *		snapshot, identity (the table's owner, security-restricted) and
 *		settings are already restored; open the relations, compile the
 *		rules, attach to the referenced values and the batches, take part.
 */
PGDLLEXPORT void pubdata_quality_worker_main(dsm_segment *seg, shm_toc *toc);

void
pubdata_quality_worker_main(dsm_segment *seg, shm_toc *toc)
{
	QualityShared *sh = shm_toc_lookup(toc, PQ_KEY_SHARED, false);
	char	   *rules = shm_toc_lookup(toc, PQ_KEY_RULES, false);
	char	   *scans = shm_toc_lookup(toc, PQ_KEY_SCANS, false);
	char	   *refs = shm_toc_lookup(toc, PQ_KEY_REFSETS, false);
	char	   *results = shm_toc_lookup(toc, PQ_KEY_RESULTS, false);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pubdata quality worker",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	QualityState *qs = palloc0(sizeof(QualityState));
	int			i;

	pgstat_report_activity(STATE_RUNNING, "pubdata quality measurement (parallel worker)");
	SharedFileSetAttach(&sh->fileset, seg);

	qs->cxt = cxt;
	qs->resource_id = sh->resource_id;
	qs->relid = sh->relid;
	qs->rel = relation_open(sh->relid, AccessShareLock);
	qs->source = qs->rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ? QS_PARTITIONED : QS_TABLE;
	qs->sample_limit = sh->sample_limit;
	qs->offbits = sh->offbits;
	qs->blockbits = sh->blockbits;
	qs->budget = sh->share;
	qs->estate = CreateExecutorState();
	qs->econtext = GetPerTupleExprContext(qs->estate);
	quality_rules_deserialize(qs, rules);
	for (i = 0; i < qs->nrules; i++)
		quality_compile_rule(qs, &qs->rules[i]);

	qs->nleaves = sh->nleaves;
	qs->leaves = palloc0(sizeof(QualityLeaf) * Max(qs->nleaves, 1));
	for (i = 0; i < qs->nleaves; i++)
	{
		ParallelTableScanDesc pscan = (ParallelTableScanDesc) (scans + sh->scan_off[i]);
		QualityLeaf *l = &qs->leaves[i];

		l->relid = pscan->phs_relid;
		l->rel = l->relid == qs->relid ? qs->rel : table_open(l->relid, AccessShareLock);
		if (l->rel != qs->rel)
			l->map = convert_tuples_by_name(RelationGetDescr(l->rel), RelationGetDescr(qs->rel));
	}
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		r->leaf_failed = palloc0(sizeof(int64) * Max(qs->nleaves, 1));
		if (sh->scan_off[qs->nleaves + i] != 0)
			r->set = reference_set_attach(qs, refs + sh->scan_off[qs->nleaves + i] - 1);
	}

	participate(qs, sh, scans, shm_toc_lookup(toc, PQ_KEY_WINDOWS, false), results,
				ParallelWorkerNumber + 1, NULL);

	for (i = 0; i < qs->nleaves; i++)
		if (qs->leaves[i].rel != qs->rel)
			table_close(qs->leaves[i].rel, NoLock);
	relation_close(qs->rel, NoLock);
	FreeExecutorState(qs->estate);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}
