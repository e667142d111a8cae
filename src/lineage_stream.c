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
 * Its two events are rows of pubdata.openlineage_event, built once by
 * pubdata._openlineage_emit() and never changed, so a consumer that reads
 * them again gets the same documents.
 *
 * Ids are the stream's order and must be commit order, or a consumer that
 * read up to id 12 could later miss an id 11 committed after it: the emit
 * takes an exclusive lock on the stream's sequence before taking its ids
 * and keeps it to the end of the transaction, so the next writer gets its
 * ids only after this one is committed and visible (locks are released after
 * the commit record is written and the transaction left the proc array; a
 * standby replays commits in that order too).  A SQL role cannot take that
 * lock (LOCK does not apply to sequences), and readers only read the table,
 * so they never wait for it.  What it costs: the commits of transactions
 * that make lineage queue one after the other for the time of their commit
 * record, which is also what their NOTIFY costs them.
 *
 * NOTIFY pubdata_lineage carries the id of the transaction's last event and
 * nothing else (any role may LISTEN on any channel).  A prepared transaction
 * cannot notify: its events are written, the lock is held until COMMIT
 * PREPARED, and no notification is sent.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"

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

#include "identity.h"
#include "lineage.h"

/* pubdata.openlineage_stream: write the stream (PGC_SUSET, default on) */
bool		pubdata_openlineage_stream = true;

/* targets an aggregation run of this transaction has sent already */
static List *claimed = NIL;

static SPIPlanPtr emit_plan = NULL;

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
 * EmitRun
 *		One target's run: pubdata._openlineage_emit() with its sources, in
 *		the caller's SPI connection.
 */
static void
EmitRun(const PubdataStreamEdge *edges, int n, bool notify)
{
	Datum		values[11];
	char		nulls[11];
	Datum	   *sources = palloc(sizeof(Datum) * n);
	Datum	   *names = palloc(sizeof(Datum) * n);
	Datum	   *kinds = palloc(sizeof(Datum) * n);
	Datum	   *counts = palloc(sizeof(Datum) * n);
	TimestampTz started = edges[0].first_seen;
	int			i;
	int			rc;

	for (i = 0; i < n; i++)
	{
		sources[i] = ObjectIdGetDatum(edges[i].source);
		names[i] = CStringGetTextDatum(edges[i].source_name);
		kinds[i] = CStringGetTextDatum(edges[i].kind);
		counts[i] = Int64GetDatum(edges[i].count);
		started = Min(started, edges[i].first_seen);
	}
	memset(nulls, ' ', sizeof(nulls));
	values[0] = ObjectIdGetDatum(edges[0].target);
	values[1] = CStringGetTextDatum(edges[0].target_name);
	values[2] = PointerGetDatum(construct_array(sources, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[4] = PointerGetDatum(construct_array(kinds, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[5] = PointerGetDatum(construct_array(counts, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[6] = TimestampTzGetDatum(started);
	nulls[7] = 'n';				/* job name: produce:<table> */
	nulls[8] = 'n';				/* no aggregation run */
	values[9] = CStringGetTextDatum("COMPLETE");
	values[10] = BoolGetDatum(notify);

	if (emit_plan == NULL)
	{
		Oid			argtypes[11] = {OIDOID, TEXTOID, OIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		INT8ARRAYOID, TIMESTAMPTZOID, TEXTOID, INT8OID, TEXTOID, BOOLOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT pubdata._openlineage_emit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
						   11, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		emit_plan = plan;
	}
	rc = SPI_execute_plan(emit_plan, values, nulls, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "writing OpenLineage events failed: %s", SPI_result_code_string(rc));
}

/*
 * pubdata_lineage_stream_emit
 *		See lineage.h.  Runs at PRE_COMMIT (or PRE_PREPARE) in a
 *		subtransaction, as the owner of the stream's table with search_path
 *		pinned: a failure is a warning (the edges are kept), never a failed
 *		commit.
 */
void
pubdata_lineage_stream_emit(PubdataStreamEdge *edges, int n, bool prepare)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			event_rel;
	int			start;
	int			i;

	if (!pubdata_openlineage_stream || n == 0)
		return;
	event_rel = pubdata_relation_oid("openlineage_event");
	if (!OidIsValid(event_rel))
		return;					/* an extension not updated yet */
	qsort(edges, n, sizeof(PubdataStreamEdge), TargetCmp);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		PubdataIdentity id;
		bool		save_read_only = XactReadOnly;

		pubdata_become(&id, pubdata_relation_owner(event_rel), PUBDATA_AS_RESTRICTED);
		/* the transaction has written the data these events describe */
		XactReadOnly = false;
		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		for (start = 0; start < n; start = i)
		{
			for (i = start; i < n && edges[i].target == edges[start].target; i++)
				;
			if (!list_member_oid(claimed, edges[start].target))
				EmitRun(edges + start, i - start, !prepare);
		}
		SPI_finish();
		PopActiveSnapshot();
		XactReadOnly = save_read_only;
		pubdata_restore(&id);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
				(errmsg("could not write OpenLineage events: %s", edata->message),
				 errdetail("The lineage edges are recorded; this transaction's runs are missing from pubdata.openlineage_event."),
				 errhint("See the server log; pubdata.openlineage_stream = off stops the stream.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(pubdata_openlineage_lock);

/*
 * pubdata._openlineage_lock() returns void
 *		Take the stream's order lock (exclusive, on its sequence) to the end
 *		of the transaction; pubdata._openlineage_emit() calls it before it
 *		takes ids.
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
