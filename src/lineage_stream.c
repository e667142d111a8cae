/*-------------------------------------------------------------------------
 *
 * lineage_stream.c
 *	  The OpenLineage event stream (issue 12): every run that moved data,
 *	  as START and COMPLETE (or FAIL) events a consumer reads after a cursor.
 *
 * A run is what one committing transaction did to one table: the edges
 * lineage.c noted for that target (every source, its kinds and count), or
 * one aggregation job run (recorded by its trigger on pubdata.job_run,
 * which then claims the table so that the same INSERT is not sent twice).
 *
 * Commits are never serialised for the stream.  Before 0.2's issue 12 fix,
 * every writer took an exclusive lock on the stream's sequence and held it to
 * its commit so that ids followed commit order, and built its two events
 * (catalog lookups, JSON) in the commit; with NOTIFY, which queues notifying
 * commits too, INSERT ... SELECT per transaction ran at 0.13 of its speed
 * with the stream off.  Now the commit only appends one row per run to
 * pubdata.openlineage_pending, in C with heap_insert (no lock beyond the
 * table's RowExclusiveLock, no index, no SPI, no subtransaction): the
 * transaction's top xid, its run number, the target and sources as the hook
 * saw them, the times and the writer's pubdata.lineage_namespace.
 *
 * The publisher, pubdata.openlineage_publish(), turns committed pending runs
 * into events: it takes the order lock (the sequence, exclusively, held to
 * its commit, so publishers run one at a time), deletes every pending row its
 * snapshot sees and writes each run's START and COMPLETE (or FAIL) with new
 * ids, in (xid, run number) order, then sends one NOTIFY pubdata_lineage with
 * the newest id.  Ids therefore follow publication order, and every id of a
 * publication is above every id visible before it, which is what the cursor
 * protocol needs (a consumer that read up to id 12 never later finds an id
 * 11).  A pending row is deleted by exactly one publication, and a run
 * committed while a publication runs stays for the next one, so no run is
 * lost or published twice; a transaction still open, or prepared, holds back
 * only its own runs.  This is the outbox/relay shape; PgQ (Skytools) instead
 * keeps writers' ids and lets readers take batches between snapshot "ticks",
 * which keeps the commit as cheap but makes the consumer's cursor a tick and
 * every reader compute visibility; here the cursor stays a plain event id and
 * the events are built once, so reading again gives the same documents.
 *
 * Committing transactions that appended runs tell the launcher (an atomic
 * flag in the scheduler's shared memory; its latch is set only when the flag
 * was clear), which publishes at most every 100 ms (and every second anyway,
 * for COMMIT PREPARED, which runs no callback of the prepared transaction).
 * A database other than pubdata.database has no launcher: the bureau calls
 * openlineage_publish() there.  The delay a consumer sees is the time to the
 * next publication; the cost of building the events is the launcher's.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "identity.h"
#include "lineage.h"
#include "scheduler.h"

/* pubdata.openlineage_stream: write the stream (PGC_SUSET, default on) */
bool		pubdata_openlineage_stream = true;

/* targets an aggregation run of this transaction has sent already */
static List *claimed = NIL;

/* this transaction's next run number in openlineage_pending */
static int32 pending_n = 0;

/* this transaction appended runs: the launcher is told at its commit */
static bool pending_written = false;

static void stream_xact_callback(XactEvent event, void *arg);

/* the columns of pubdata.openlineage_pending */
#define PENDING_NATTS 14

/*
 * pubdata_lineage_stream_init
 *		Define pubdata.openlineage_stream (called by pubdata_lineage_init).
 */
void
pubdata_lineage_stream_init(void)
{
	DefineCustomBoolVariable("pubdata.openlineage_stream",
							 "Writes every lineage run as OpenLineage events to pubdata.openlineage_event.",
							 "Consumers read them with pubdata.openlineage_events(after, max_events) "
							 "and LISTEN pubdata_lineage; off writes no events (edges are still recorded).",
							 &pubdata_openlineage_stream,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	RegisterXactCallback(stream_xact_callback, NULL);
}

/*
 * stream_xact_callback
 *		At commit (after it is visible), tell the launcher that runs wait to
 *		be published; forget the run numbers at every end.
 */
static void
stream_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (pending_written)
				pubdata_stream_committed();
			pending_written = false;
			pending_n = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			pending_written = false;
			pending_n = 0;
			break;
		default:
			break;
	}
}

/*
 * pubdata_lineage_stream_reset
 *		Forget the claims at the end of a transaction.
 */
void
pubdata_lineage_stream_reset(void)
{
	claimed = NIL;				/* it lived in TopTransactionContext */
}

/*
 * TargetCmp
 *		qsort order of edges: by target, then source.
 */
static int
TargetCmp(const void *a, const void *b)
{
	const PubdataStreamEdge *ea = (const PubdataStreamEdge *) a;
	const PubdataStreamEdge *eb = (const PubdataStreamEdge *) b;

	if (ea->target != eb->target)
		return ea->target < eb->target ? -1 : 1;
	if (ea->source != eb->source)
		return ea->source < eb->source ? -1 : 1;
	return strcmp(ea->kind, eb->kind);
}

/*
 * AppendRun
 *		One target's run as a row of openlineage_pending (open as rel).
 */
static void
AppendRun(Relation rel, const PubdataStreamEdge *edges, int n, TimestampTz ended, const char *ns)
{
	Datum		values[PENDING_NATTS];
	bool		nulls[PENDING_NATTS];
	Datum	   *sources = palloc(sizeof(Datum) * n);
	Datum	   *names = palloc(sizeof(Datum) * n);
	Datum	   *kinds = palloc(sizeof(Datum) * n);
	Datum	   *counts = palloc(sizeof(Datum) * n);
	TimestampTz started = ended;
	HeapTuple	tup;
	int			i;

	for (i = 0; i < n; i++)
	{
		sources[i] = ObjectIdGetDatum(edges[i].source);
		names[i] = CStringGetTextDatum(edges[i].source_name);
		kinds[i] = CStringGetTextDatum(edges[i].kind);
		counts[i] = Int64GetDatum(edges[i].count);
		started = Min(started, edges[i].first_seen);
	}
	memset(nulls, false, sizeof(nulls));
	values[0] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[1] = Int32GetDatum(++pending_n);
	values[2] = ObjectIdGetDatum(edges[0].target);
	values[3] = CStringGetTextDatum(edges[0].target_name);
	values[4] = PointerGetDatum(construct_array(sources, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	values[5] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[6] = PointerGetDatum(construct_array(kinds, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[7] = PointerGetDatum(construct_array(counts, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[8] = TimestampTzGetDatum(started);
	values[9] = TimestampTzGetDatum(ended);
	if (ns != NULL && ns[0] != '\0')
		values[10] = CStringGetTextDatum(ns);
	else
		nulls[10] = true;
	nulls[11] = true;			/* job name: produce:<table> */
	nulls[12] = true;			/* no aggregation run */
	values[13] = CStringGetTextDatum("COMPLETE");

	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	simple_heap_insert(rel, tup);
	heap_freetuple(tup);
	pending_written = true;
}

/*
 * pubdata_lineage_stream_emit
 *		See lineage.h.  Runs at PRE_COMMIT (or PRE_PREPARE): appends the
 *		transaction's runs to openlineage_pending.  No SQL runs and no lock
 *		is taken but the table's RowExclusiveLock; the table has no index,
 *		trigger or rule (checked), so nothing but the row is written.
 */
void
pubdata_lineage_stream_emit(PubdataStreamEdge *edges, int n, bool prepare)
{
	Oid			pending_rel;
	Relation	rel;
	TimestampTz ended;
	const char *ns;
	int			start;
	int			i;

	if (!pubdata_openlineage_stream || n == 0)
		return;
	pending_rel = pubdata_relation_oid("openlineage_pending");
	if (!OidIsValid(pending_rel))
		return;					/* an extension not updated yet */
	qsort(edges, n, sizeof(PubdataStreamEdge), TargetCmp);

	rel = table_open(pending_rel, RowExclusiveLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relhasindex ||
		rel->rd_rel->relhastriggers || rel->rd_rel->relhasrules ||
		RelationGetDescr(rel)->natts != PENDING_NATTS)
	{
		table_close(rel, RowExclusiveLock);
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not write OpenLineage runs: table pubdata.openlineage_pending has been altered"),
				 errdetail("The lineage edges are recorded; this transaction's runs are missing from the stream."),
				 errhint("ALTER EXTENSION pubdata UPDATE, or recreate the table as the extension makes it; pubdata.openlineage_stream = off stops the stream.")));
		return;
	}
	ns = GetConfigOption("pubdata.lineage_namespace", true, false);
	ended = GetCurrentTimestamp();
	for (start = 0; start < n; start = i)
	{
		for (i = start; i < n && edges[i].target == edges[start].target; i++)
			;
		if (!list_member_oid(claimed, edges[start].target))
			AppendRun(rel, edges + start, i - start, ended, ns);
	}
	table_close(rel, RowExclusiveLock);
}

PG_FUNCTION_INFO_V1(pubdata_openlineage_pending_n);

/*
 * pubdata._openlineage_pending_n() returns integer
 *		The next run number of this transaction in openlineage_pending (for
 *		runs appended in SQL, by the aggregation triggers); the launcher is
 *		told at the commit.
 */
Datum
pubdata_openlineage_pending_n(PG_FUNCTION_ARGS)
{
	pending_written = true;
	PG_RETURN_INT32(++pending_n);
}

PG_FUNCTION_INFO_V1(pubdata_openlineage_lock);

/*
 * pubdata._openlineage_lock() returns void
 *		Take the stream's order lock (exclusive, on its sequence) to the end
 *		of the transaction; pubdata.openlineage_publish() calls it before it
 *		takes ids (writers never take it).
 */
Datum
pubdata_openlineage_lock(PG_FUNCTION_ARGS)
{
	Oid			seq = pubdata_relation_oid("openlineage_event_id_seq");

	if (!OidIsValid(seq))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sequence pubdata.openlineage_event_id_seq does not exist"),
				 errhint("ALTER EXTENSION pubdata UPDATE installs the OpenLineage stream.")));
	LockRelationOid(seq, ExclusiveLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pubdata_lineage_stream_claim);

/*
 * pubdata._lineage_stream_claim(target regclass) returns void
 *		An aggregation run sent its own events for target: the statements of
 *		this transaction that wrote target send none.
 */
Datum
pubdata_lineage_stream_claim(PG_FUNCTION_ARGS)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

	claimed = list_append_unique_oid(claimed, PG_GETARG_OID(0));
	MemoryContextSwitchTo(old);
	PG_RETURN_VOID();
}
