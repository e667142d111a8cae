/*-------------------------------------------------------------------------
 *
 * quality_scan.c
 *	  The one pass of a measurement over a resource's rows, and its results.
 *
 * The source is read once, every rule evaluated on every row
 * (quality_row.c):
 *
 *	- a table or materialized view: its heap, through the table access
 *	  method, with the bulk-read buffer ring and no synchronized scan (the
 *	  samples are then the first failing rows); by several processes when
 *	  it is large enough (quality_parallel.c);
 *	- a partitioned table: each leaf partition in partition order, its rows
 *	  converted to the table's row type when its columns are laid out
 *	  differently; one unique table for all of them, so a key is unique
 *	  across partitions; every rule's failures also counted per leaf;
 *	- a view: a query of its columns (those no rule reads are replaced by
 *	  NULL), planned and run as the view's owner in a security-restricted
 *	  operation, its rows delivered to a receiver that evaluates the rules
 *	  (the planner may run the query in parallel).
 *
 * A row's place is a QualityLocator: leaf, block, offset packed in 48 bits
 * (the bits each needs are decided from the leaves' sizes), or a view row's
 * number.  Samples are the first pubdata.quality_sample_rows failing rows of
 * each rule, read back by their place after the scan (a view's are kept as
 * JSON while its rows are read).
 *
 * A long measurement shows its progress in pubdata.progress and stops at a
 * cancel request; measure_quality stores nothing of a measurement that did
 * not finish (its one transaction is rolled back).
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "identity.h"
#include "progress.h"
#include "quality.h"
#include "quality_int.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "partitioning/partdesc.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

/* a view's rows arrive here */
typedef struct QualityReceiver
{
	DestReceiver pub;
	QualityState *qs;
} QualityReceiver;

/*
 * resource_relid
 *		The relation of a resource, or a clear error.
 */
static Oid
resource_relid(int64 resource_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	Oid			relid = InvalidOid;
	bool		isnull = true;
	PubdataIdentity as;

	args[0] = Int64GetDatum(resource_id);
	pubdata_become(&as, pubdata_extension_owner(), 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT r.relation::oid FROM pubdata.resource r WHERE r.id = $1",
							  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			relid = DatumGetObjectId(d);
	}
	SPI_finish();
	pubdata_restore(&as);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("resource %lld has no table", (long long) resource_id),
				 errhint("Quality rules check a registered table or view.")));
	return relid;
}

/*
 * qualified_name
 *		schema.name of a relation, quoted as needed.
 */
static char *
qualified_name(Relation rel)
{
	return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
}

/*
 * collect_leaves
 *		The leaf partitions under a partitioned table, in partition order,
 *		opened with an ACCESS SHARE lock.  A foreign partition is refused
 *		(its rows are not here to read).
 */
static void
collect_leaves(QualityState *qs, Relation rel, List **leaves)
{
	PartitionDesc pd = RelationGetPartitionDesc(rel, true);
	int			i;

	for (i = 0; i < pd->nparts; i++)
	{
		Relation	child = table_open(pd->oids[i], AccessShareLock);
		char		kind = child->rd_rel->relkind;

		if (kind == RELKIND_PARTITIONED_TABLE)
		{
			collect_leaves(qs, child, leaves);
			table_close(child, NoLock);
		}
		else if (kind == RELKIND_RELATION)
			*leaves = lappend(*leaves, child);
		else
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("partition \"%s\" of resource \"%s\" is a foreign table: its quality cannot be measured here",
							RelationGetRelationName(child), qs->resource_code),
					 errhint("Measure it on the server that holds its rows, or detach it.")));
	}
}

/*
 * bits_for
 *		Bits needed to hold the numbers 0 .. n.
 */
static int
bits_for(uint64 n)
{
	int			b = 1;

	while (b < 64 && (n >> b) != 0)
		b++;
	return b;
}

/*
 * setup_leaves
 *		The relations the scan reads, their sizes, the planner's estimate of
 *		the rows, and how a row's place is packed in a locator.
 */
static void
setup_leaves(QualityState *qs)
{
	MemoryContext old = MemoryContextSwitchTo(qs->cxt);
	List	   *rels = NIL;
	ListCell   *lc;
	bool		all_heap = true;
	BlockNumber maxblocks = 0;
	int			i;

	if (qs->source == QS_PARTITIONED)
		collect_leaves(qs, qs->rel, &rels);
	else
		rels = list_make1(qs->rel);
	qs->nleaves = list_length(rels);
	qs->leaves = palloc0(sizeof(QualityLeaf) * Max(qs->nleaves, 1));
	qs->expected_rows = 0;
	i = 0;
	foreach(lc, rels)
	{
		Relation	leaf = (Relation) lfirst(lc);
		QualityLeaf *l = &qs->leaves[i++];

		l->rel = leaf;
		l->relid = RelationGetRelid(leaf);
		l->name = qualified_name(leaf);
		if (qs->source == QS_VIEW)
			continue;
		l->nblocks = RelationGetNumberOfBlocks(leaf);
		maxblocks = Max(maxblocks, l->nblocks);
		qs->expected_rows += leaf->rd_rel->reltuples >= 0 ?
			leaf->rd_rel->reltuples : (double) l->nblocks * 60;
		if (leaf->rd_tableam != GetHeapamTableAmRoutine())
			all_heap = false;
		if (leaf != qs->rel)
			l->map = convert_tuples_by_name(RelationGetDescr(leaf), RelationGetDescr(qs->rel));
	}
	if (qs->source == QS_VIEW)
	{
		qs->offbits = 0;
		qs->blockbits = LOCATOR_BITS;
		qs->expected_rows = 1024;
	}
	else if (qs->source == QS_TABLE)
	{
		qs->offbits = 16;
		qs->blockbits = 32;
	}
	else
	{
		qs->offbits = all_heap ? bits_for(MaxHeapTuplesPerPage) : 16;
		qs->blockbits = bits_for(maxblocks);
		if (qs->offbits + qs->blockbits + bits_for(Max(qs->nleaves - 1, 1)) > LOCATOR_BITS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("resource \"%s\" has too many partitions of this size for one quality measurement",
							qs->resource_code),
					 errdetail("%d partitions, the largest of %u blocks.", qs->nleaves, maxblocks),
					 errhint("Register and measure groups of its partitions as resources of their own.")));
	}
	for (i = 0; i < qs->nrules; i++)
		qs->rules[i].leaf_failed = palloc0(sizeof(int64) * Max(qs->nleaves, 1));
	MemoryContextSwitchTo(old);
}

/*
 * quality_locator_overflow
 *		A row's place does not fit its locator (quality_locator, inline).
 */
void
quality_locator_overflow(QualityState *qs, int leaf, ItemPointer tid)
{
	elog(ERROR, "row (%u,%u) of \"%s\" is beyond the measurement's locators",
		 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid), qs->leaves[leaf].name);
}

/*
 * quality_batch_begin
 *		How leaf leafno's scan is read: in batches of heap tuples when the
 *		leaf is a heap scanned page at a time in the resource's layout, else
 *		through the access method's slot.  A heap's batch deforms its rows
 *		itself (quality_eval_batch) unless a column up to the last checked
 *		one is of a kind it does not read (a cstring); each rule's first
 *		column has an array.
 */
QualityBatch *
quality_batch_begin(QualityState *qs, int leafno, TableScanDesc scan)
{
	QualityLeaf *l = &qs->leaves[leafno];
	QualityBatch *b = palloc0(sizeof(QualityBatch));
	int			i;

	b->heap = l->rel->rd_tableam == GetHeapamTableAmRoutine() && l->map == NULL &&
		(scan->rs_flags & SO_ALLOW_PAGEMODE) != 0;
	if (b->heap)
	{
		TupleDesc	desc = RelationGetDescr(l->rel);

		for (i = 0; i < QUALITY_BATCH; i++)
			b->slots[i] = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
		b->natts = Min(qs->maxattr, desc->natts);
		b->atts = palloc(sizeof(QualityAtt) * Max(b->natts, 1));
		b->own_deform = true;
		for (i = 0; i < b->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			QualityAtt *qa = &b->atts[i];

			qa->len = att->attlen;
			qa->byval = att->attbyval;
			qa->col = -1;
			qa->alignmask = att->attalign == TYPALIGN_DOUBLE ? ALIGNOF_DOUBLE - 1 :
				att->attalign == TYPALIGN_INT ? ALIGNOF_INT - 1 :
				att->attalign == TYPALIGN_SHORT ? ALIGNOF_SHORT - 1 : 0;
			if (!(att->attlen > 0 || att->attlen == -1) ||
				(att->attbyval && att->attlen != 1 && att->attlen != 2 &&
				 att->attlen != 4 && att->attlen != 8))
				b->own_deform = false;
		}
		for (i = 0; i < qs->nrules; i++)
		{
			QualityRule *r = &qs->rules[i];
			AttrNumber	a = r->nitems > 0 ? r->attnums[0] - 1 : -1;

			if (a >= 0 && a < b->natts && b->atts[a].col < 0)
				b->atts[a].col = b->ncols++;
		}
		b->values = palloc(sizeof(Datum) * QUALITY_BATCH * Max(b->ncols, 1));
		b->nulls = palloc(sizeof(bool) * QUALITY_BATCH * Max(b->ncols, 1));
	}
	else
	{
		b->slot = table_slot_create(l->rel, NULL);
		if (l->map)
			b->pslot = MakeSingleTupleTableSlot(RelationGetDescr(qs->rel), &TTSOpsVirtual);
	}
	return b;
}

/*
 * quality_batch_end
 *		The scan is over (a batch is never left: its last row was its
 *		page's last); drop the slots.
 */
void
quality_batch_end(QualityState *qs, QualityBatch *b)
{
	int			i;

	Assert(b->n == 0);
	if (b->heap)
	{
		for (i = 0; i < QUALITY_BATCH; i++)
			ExecDropSingleTupleTableSlot(b->slots[i]);
		pfree(b->atts);
		pfree(b->values);
		pfree(b->nulls);
	}
	else
	{
		ExecDropSingleTupleTableSlot(b->slot);
		if (b->pslot)
			ExecDropSingleTupleTableSlot(b->pslot);
	}
	pfree(b);
}

/*
 * quality_scan_page
 *		heap_getnext() has read a page and returned the first of its rows
 *		the snapshot sees (first, at rs_cindex in the scan's list of them):
 *		that row and the rest of the list, evaluated in batches, and the
 *		scan left at the list's end, so that its next heap_getnext() reads
 *		the next page.  The rows are counted in the scan's statistics as
 *		heap_getnext() counts them.  Returns first's tid.
 */
ItemPointer
quality_scan_page(QualityState *qs, QualityBatch *b, HeapScanDesc hs, HeapTuple first, int leafno)
{
	QualityLeaf *l = &qs->leaves[leafno];
	Relation	rel = hs->rs_base.rs_rd;
	Page		page = BufferGetPage(hs->rs_cbuf);
	BlockNumber blk = hs->rs_cblock;
	int			i = hs->rs_cindex;
	int			ntuples = hs->rs_ntuples;
	int			nrows = ntuples - i;

	Assert(b->n == 0 && nrows > 0);
	Assert(ItemPointerGetBlockNumber(&first->t_self) == blk);
	b->tuples[0] = *first;
	b->locs[0] = quality_locator(qs, leafno, &first->t_self);
	b->n = 1;
	for (i++; i < ntuples; i++)
	{
		OffsetNumber lineoff = hs->rs_vistuples[i];
		ItemId		lpp = PageGetItemId(page, lineoff);
		HeapTuple	t;

		if (b->n == QUALITY_BATCH)
		{
			quality_eval_batch(qs, b);
			b->n = 0;
		}
		t = &b->tuples[b->n];
		t->t_data = (HeapTupleHeader) PageGetItem(page, lpp);
		t->t_len = ItemIdGetLength(lpp);
		ItemPointerSet(&t->t_self, blk, lineoff);
		t->t_tableOid = RelationGetRelid(rel);
		b->locs[b->n++] = quality_locator(qs, leafno, &t->t_self);
	}
	quality_eval_batch(qs, b);
	b->n = 0;
	hs->rs_cindex = ntuples - 1;
	qs->nrows += nrows;
	l->rows += nrows;
	/* heap_getnext() counted the first */
	if (nrows > 1 && pgstat_should_count_relation(rel))
		rel->pgstat_info->t_counts.t_tuples_returned += nrows - 1;
	return &first->t_self;
}

/*
 * locator_tid
 *		The tid of a locator (its leaf: locator_leaf).
 */
static void
locator_tid(QualityState *qs, QualityLocator loc, ItemPointer tid)
{
	uint64		rest = loc & ((UINT64CONST(1) << (qs->offbits + qs->blockbits)) - 1);

	ItemPointerSet(tid, (BlockNumber) (rest >> qs->offbits),
				   (OffsetNumber) (rest & ((UINT64CONST(1) << qs->offbits) - 1)));
}

/*
 * quality_add_sample
 *		Keep a failing row's place among the smallest sample_limit ones (the
 *		first rows in scan order).
 */
void
quality_add_sample(QualityState *qs, QualityRule *r, QualityLocator loc, uint32 count)
{
	int			i;

	if (qs->sample_limit == 0)
		return;
	if (r->nsamples == qs->sample_limit && loc > r->sample_locs[r->nsamples - 1])
		return;
	i = (r->nsamples < qs->sample_limit) ? r->nsamples++ : r->nsamples - 1;
	while (i > 0 && r->sample_locs[i - 1] > loc)
	{
		r->sample_locs[i] = r->sample_locs[i - 1];
		r->sample_counts[i] = r->sample_counts[i - 1];
		i--;
	}
	r->sample_locs[i] = loc;
	r->sample_counts[i] = count;
}

/*
 * quality_note_failure
 *		A failing row while the rule still wants samples: its place (read
 *		back after the scan), or for a view the row itself, as JSON.
 */
void
quality_note_failure(QualityState *qs, QualityRule *r, TupleTableSlot *slot, QualityLocator loc)
{
	if (qs->source == QS_VIEW)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		quality_row_json(qs, r, slot, &buf, 0);
		r->sample_json[r->nsamples] = MemoryContextStrdup(qs->cxt, buf.data);
	}
	r->sample_locs[r->nsamples++] = loc;
}

/*
 * append_json_value
 *		"name": value of an attribute, as a JSON string (or null).
 */
static void
append_json_value(StringInfo buf, TupleDesc td, TupleTableSlot *slot, AttrNumber attnum, bool *first)
{
	Form_pg_attribute att = TupleDescAttr(td, attnum - 1);

	if (att->attisdropped)
		return;
	if (!*first)
		appendStringInfoChar(buf, ',');
	*first = false;
	escape_json(buf, NameStr(att->attname));
	appendStringInfoChar(buf, ':');
	if (slot->tts_isnull[attnum - 1])
		appendStringInfoString(buf, "null");
	else
	{
		Oid			outfn;
		bool		isvarlena;

		getTypeOutputInfo(att->atttypid, &outfn, &isvarlena);
		escape_json(buf, OidOutputFunctionCall(outfn, slot->tts_values[attnum - 1]));
	}
}

/*
 * quality_row_json
 *		A row as the samples show it: its partition (of a partitioned
 *		resource), its key items (or its ctid when the resource has none and
 *		the row has one; a view's row without key items: all its columns),
 *		then the rule's items, and a duplicated key's row count.  slot is in
 *		the resource relation's row type.
 */
void
quality_row_json(QualityState *qs, QualityRule *r, TupleTableSlot *slot, StringInfo buf, uint32 dupcount)
{
	TupleDesc	td = RelationGetDescr(qs->rel);
	bool		first = true;
	int			i,
				j;

	slot_getallattrs(slot);
	appendStringInfoChar(buf, '{');
	if (qs->source == QS_PARTITIONED)
	{
		escape_json(buf, "partition");
		appendStringInfoChar(buf, ':');
		escape_json(buf, qs->leaves[qs->curleaf].name);
		first = false;
	}
	if (qs->nkeys == 0 && qs->source != QS_VIEW && ItemPointerIsValid(&slot->tts_tid))
	{
		appendStringInfo(buf, "%s\"ctid\":\"(%u,%u)\"", first ? "" : ",",
						 ItemPointerGetBlockNumber(&slot->tts_tid),
						 ItemPointerGetOffsetNumber(&slot->tts_tid));
		first = false;
	}
	if (qs->nkeys == 0 && qs->source == QS_VIEW && r->nitems == 0)
	{
		for (j = 1; j <= td->natts; j++)
			append_json_value(buf, td, slot, j, &first);
	}
	for (i = 0; i < qs->nkeys; i++)
		append_json_value(buf, td, slot, qs->keyattnums[i], &first);
	for (j = 0; j < r->nitems; j++)
	{
		bool		iskey = false;

		for (i = 0; i < qs->nkeys; i++)
			if (qs->keyattnums[i] == r->attnums[j])
				iskey = true;
		if (!iskey)
			append_json_value(buf, td, slot, r->attnums[j], &first);
	}
	if (dupcount > 0)
		appendStringInfo(buf, "%s\"rows\":%u", first ? "" : ",", dupcount);
	appendStringInfoChar(buf, '}');
}

/*
 * samples_json
 *		The sampled failing rows of a rule: read back by their place (a
 *		row gone since, by a concurrent update, is left out), or a view's
 *		rows as they were kept.
 */
static Datum
samples_json(QualityState *qs, QualityRule *r)
{
	StringInfoData buf;
	bool		first = true;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < r->nsamples; i++)
	{
		QualityLeaf *l;
		TupleTableSlot *slot;
		TupleTableSlot *out;
		ItemPointerData tid;
		int			leaf = locator_leaf(qs, r->sample_locs[i]);

		if (qs->source == QS_VIEW)
		{
			const char *s = r->sample_json[i];

			if (r->kind == QK_UNIQUE)
			{
				/* the key's row count goes in before the closing brace */
				int			len = strlen(s);

				if (!first)
					appendStringInfoChar(&buf, ',');
				appendBinaryStringInfo(&buf, s, len - 1);
				appendStringInfo(&buf, "%s\"rows\":%u}", len > 2 ? "," : "", r->sample_counts[i]);
			}
			else
			{
				if (!first)
					appendStringInfoChar(&buf, ',');
				appendStringInfoString(&buf, s);
			}
			first = false;
			continue;
		}
		l = &qs->leaves[leaf];
		slot = table_slot_create(l->rel, NULL);
		locator_tid(qs, r->sample_locs[i], &tid);
		if (table_tuple_fetch_row_version(l->rel, &tid, GetActiveSnapshot(), slot))
		{
			out = slot;
			if (l->map)
			{
				out = MakeSingleTupleTableSlot(RelationGetDescr(qs->rel), &TTSOpsVirtual);
				execute_attr_map_slot(l->map->attrMap, slot, out);
				out->tts_tid = slot->tts_tid;
			}
			if (!first)
				appendStringInfoChar(&buf, ',');
			first = false;
			qs->curleaf = leaf;
			quality_row_json(qs, r, out, &buf, r->kind == QK_UNIQUE ? r->sample_counts[i] : 0);
			if (out != slot)
				ExecDropSingleTupleTableSlot(out);
		}
		ExecDropSingleTupleTableSlot(slot);
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * progress_blocks
 *		Blocks of the current leaf read so far by this process's scan.
 */
static BlockNumber
progress_blocks(TableScanDesc scan, QualityLeaf *l, BlockNumber seen)
{
	if (l->rel->rd_tableam == GetHeapamTableAmRoutine())
	{
		HeapScanDesc hs = (HeapScanDesc) scan;

		return hs->rs_inited ? hs->rs_cblock + 1 : 0;
	}
	return seen;
}

/*
 * scan_leaf
 *		Every row of one leaf (or the table) through the table access
 *		method, converted to the resource's row type when needed.
 */
static void
scan_leaf(QualityState *qs, int leafno, int64 blocks_before)
{
	QualityLeaf *l = &qs->leaves[leafno];
	TableScanDesc scan;
	QualityBatch *b;
	ItemPointer tid;
	BlockNumber lastblock = InvalidBlockNumber;
	BlockNumber seen = 0;

	qs->curleaf = leafno;
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
			/* a new block: a few stores in shared memory, once a block */
			lastblock = blk;
			pubdata_progress_set(PUBDATA_PROGRESS_BLOCKS_DONE,
								 blocks_before + progress_blocks(scan, l, ++seen));
			pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, qs->nrows);
		}
	}
	quality_batch_end(qs, b);
	table_endscan(scan);
	pubdata_progress_set(PUBDATA_PROGRESS_BLOCKS_DONE, blocks_before + l->nblocks);
	pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, qs->nrows);
	pubdata_progress_set(PUBDATA_PROGRESS_PARTITIONS_DONE, leafno + 1);
}

/*
 * receive_row / the receiver's other callbacks
 *		A view's row: every rule on it; its number is its place.
 */
static bool
receive_row(TupleTableSlot *slot, DestReceiver *self)
{
	QualityState *qs = ((QualityReceiver *) self)->qs;

	CHECK_FOR_INTERRUPTS();
	qs->nrows++;
	if (qs->maxattr > 0)
		slot_getsomeattrs(slot, qs->maxattr);
	quality_eval_row(qs, slot, (QualityLocator) qs->nrows);
	if ((qs->nrows & 4095) == 0)
		pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, qs->nrows);
	return true;
}

static void
receive_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receive_shutdown(DestReceiver *self)
{
}

static void
receive_destroy(DestReceiver *self)
{
}

/*
 * view_query
 *		SELECT of a view's columns in their order, each one no rule reads
 *		(nor a sample shows) replaced by a typed NULL, so that the planner
 *		need not compute it.
 */
static char *
view_query(QualityState *qs)
{
	TupleDesc	td = RelationGetDescr(qs->rel);
	bool	   *needed = palloc0(sizeof(bool) * (td->natts + 1));
	StringInfoData sql;
	int			i,
				j;

	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		for (j = 0; j < r->nitems; j++)
			needed[r->attnums[j]] = true;
		if (r->kind == QK_CUSTOM)
			for (j = 1; j <= td->natts; j++)
				needed[j] = true;	/* an expression reads any column */
	}
	for (i = 0; i < qs->nkeys; i++)
		needed[qs->keyattnums[i]] = true;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (j = 1; j <= td->natts; j++)
	{
		Form_pg_attribute att = TupleDescAttr(td, j - 1);

		if (j > 1)
			appendStringInfoString(&sql, ", ");
		if (needed[j])
			appendStringInfoString(&sql, quote_identifier(NameStr(att->attname)));
		else
			appendStringInfo(&sql, "CAST(NULL AS %s)",
							 format_type_extended(att->atttypid, att->atttypmod,
												  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
	}
	appendStringInfo(&sql, " FROM %s", qs->leaves[0].name);
	return sql.data;
}

/*
 * scan_view
 *		A view's rows, by a query run as the view's owner in a
 *		security-restricted operation (the caller is already that).
 */
static void
scan_view(QualityState *qs)
{
	QualityReceiver rcv;
	SPIExecuteOptions opts;
	int			ret;
	char	   *sql = view_query(qs);

	memset(&rcv, 0, sizeof(rcv));
	rcv.pub.receiveSlot = receive_row;
	rcv.pub.rStartup = receive_startup;
	rcv.pub.rShutdown = receive_shutdown;
	rcv.pub.rDestroy = receive_destroy;
	rcv.pub.mydest = DestNone;
	rcv.qs = qs;
	memset(&opts, 0, sizeof(opts));
	opts.read_only = true;
	opts.dest = (DestReceiver *) &rcv;

	pubdata_progress_set(PUBDATA_PROGRESS_RELID, qs->relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_extended(sql, &opts);
	/* a SELECT into a receiver of its own is "utility" to SPI */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "could not read view \"%s\": %s", qs->leaves[0].name, SPI_result_code_string(ret));
	SPI_finish();
	qs->leaves[0].rows = qs->nrows;
	pubdata_progress_set(PUBDATA_PROGRESS_ROWS_DONE, qs->nrows);
}

/*
 * prepare_rules
 *		Before the scan: the referenced values of reference rules, then each
 *		unique rule's share of what is left of the budget.
 */
static void
prepare_rules(QualityState *qs)
{
	Size		share;
	int			i;

	pubdata_progress_set(PUBDATA_PROGRESS_PHASE, PUBDATA_PHASE_REFERENCES);
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->kind == QK_REFERENCE)
			reference_load(qs, r);
		if (qs->source == QS_VIEW)
			r->sample_json = MemoryContextAllocZero(qs->cxt, sizeof(char *) * Max(qs->sample_limit, 1));
	}
	/* what the referenced values take is not the unique rules' */
	share = qs->budget > qs->mem_used ? qs->budget - qs->mem_used : 0;
	share = Max(share / Max(qs->nunique, 1), 64 * 1024);
	qs->unique_share = share;
}

/*
 * quality_scan
 *		The one pass: every rule on every row, then the keys counted.  Runs
 *		as the resource relation's owner in a security-restricted operation.
 */
static void
quality_scan(QualityState *qs)
{
	int64		blocks_before = 0;
	int64		blocks_total = 0;
	int			i;

	for (i = 0; i < qs->nleaves; i++)
		blocks_total += qs->leaves[i].nblocks;
	pubdata_progress_set(PUBDATA_PROGRESS_PARTITIONS_TOTAL, qs->source == QS_PARTITIONED ? qs->nleaves : 0);
	pubdata_progress_set(PUBDATA_PROGRESS_BLOCKS_TOTAL, blocks_total);
	prepare_rules(qs);

	pubdata_progress_set(PUBDATA_PROGRESS_PHASE, PUBDATA_PHASE_SCANNING);
	if (qs->source != QS_VIEW && quality_scan_parallel(qs))
		return;

	qs->leafwise = unique_leafwise(qs);
	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			unique_setup(qs, &qs->rules[i], qs->unique_share);
	if (qs->source == QS_VIEW)
		scan_view(qs);
	else
		for (i = 0; i < qs->nleaves; i++)
		{
			int			j;

			for (j = 0; qs->leafwise && j < qs->nrules; j++)
				if (qs->rules[j].kind == QK_UNIQUE)
					unique_leaf_begin(qs, &qs->rules[j], i);
			scan_leaf(qs, i, blocks_before);
			for (j = 0; qs->leafwise && j < qs->nrules; j++)
				if (qs->rules[j].kind == QK_UNIQUE)
					unique_leaf_end(qs, &qs->rules[j]);
			blocks_before += qs->leaves[i].nblocks;
		}

	pubdata_progress_set(PUBDATA_PROGRESS_PHASE, PUBDATA_PHASE_UNIQUE);
	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			unique_finish(qs, &qs->rules[i]);
}

/*
 * open_resource
 *		The resource's relation, its rules compiled.
 */
static QualityState *
open_resource(int64 resource_id, MemoryContext cxt)
{
	Relation	rel = relation_open(resource_relid(resource_id), AccessShareLock);

	return quality_prepare(resource_id, rel, false, cxt);
}

PG_FUNCTION_INFO_V1(pubdata_quality_compile);

/*
 * pubdata._quality_compile(resource bigint) returns void
 *		Compile every enabled rule of a resource; the first problem raises.
 *		add_quality_rule calls it so that a bad rule is refused at once.
 */
Datum
pubdata_quality_compile(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pubdata quality", ALLOCSET_DEFAULT_SIZES);
	QualityState *qs = open_resource(PG_GETARG_INT64(0), cxt);

	FreeExecutorState(qs->estate);
	relation_close(qs->rel, AccessShareLock);
	MemoryContextDelete(cxt);
	PG_RETURN_VOID();
}

/*
 * audit_measurement
 *		A measurement reads every row and keeps samples: when someone other
 *		than the provider (the bureau) measures a restricted or non-shared
 *		resource, the access audit records it like any other read.
 */
static void
audit_measurement(QualityState *qs)
{
	PubdataAccess a;

	memset(&a, 0, sizeof(a));
	a.role_name = GetUserNameFromId(pubdata_caller_id(), true);
	a.department_id = qs->caller_dept_id;
	a.department_code = qs->caller_dept_code;
	a.resources = qs->resource_code;
	a.purpose = "quality measurement";
	a.command = "QUALITY";
	a.rows = qs->nrows;
	pubdata_audit_record(&a);
}

/*
 * put_result
 *		One row of _quality_scan's result.
 */
static void
put_result(ReturnSetInfo *rsinfo, int64 rule_id, const char *partition, int64 checked,
		   int64 failed, Datum samples, bool has_newest, Datum newest)
{
	Datum		values[8];
	bool		nulls[8];

	memset(nulls, true, sizeof(nulls));
	if (rule_id)
	{
		values[0] = Int64GetDatum(rule_id);
		nulls[0] = false;
	}
	if (partition)
	{
		values[1] = CStringGetTextDatum(partition);
		nulls[1] = false;
	}
	values[2] = Int64GetDatum(checked);
	nulls[2] = false;
	if (rule_id)
	{
		values[3] = Int64GetDatum(failed);
		nulls[3] = false;
	}
	if (samples)
	{
		values[4] = samples;
		nulls[4] = false;
	}
	if (has_newest)
	{
		values[5] = newest;
		nulls[5] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * emit_results
 *		Per rule: the resource's row (with samples and newest value), and
 *		for a partitioned resource one row per leaf; per leaf, its rows; last
 *		the rows scanned, the peak memory and the workers.
 */
static void
emit_results(QualityState *qs, ReturnSetInfo *rsinfo)
{
	Datum		values[8];
	bool		nulls[8];
	int			i,
				j;

	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];
		Datum		newest = (Datum) 0;

		if (r->kind == QK_FRESHNESS && r->has_newest)
			newest = r->typid == DATEOID ? DirectFunctionCall1(date_timestamptz, r->newest) :
				r->typid == TIMESTAMPOID ? DirectFunctionCall1(timestamp_timestamptz, r->newest) :
				r->newest;
		put_result(rsinfo, r->id, NULL, r->kind == QK_FRESHNESS ? 0 : qs->nrows, r->failed,
				   samples_json(qs, r), r->kind == QK_FRESHNESS && r->has_newest, newest);
		if (qs->source != QS_PARTITIONED || r->kind == QK_FRESHNESS)
			continue;
		for (j = 0; j < qs->nleaves; j++)
			put_result(rsinfo, r->id, qs->leaves[j].name, qs->leaves[j].rows, r->leaf_failed[j],
					   (Datum) 0, false, 0);
	}
	if (qs->source == QS_PARTITIONED)
		for (j = 0; j < qs->nleaves; j++)
			put_result(rsinfo, 0, qs->leaves[j].name, qs->leaves[j].rows, 0, (Datum) 0, false, 0);

	memset(nulls, true, sizeof(nulls));
	values[2] = Int64GetDatum(qs->nrows);
	nulls[2] = false;
	values[6] = Int64GetDatum((int64) qs->mem_peak);
	nulls[6] = false;
	values[7] = Int32GetDatum(qs->workers);
	nulls[7] = false;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(pubdata_quality_scan);

/*
 * pubdata._quality_scan(resource bigint) returns setof (rule_id, partition,
 *		rows_checked, rows_failed, samples, newest, memory_used, workers)
 *		Evaluate every rule in one pass; one row per rule (and per rule and
 *		partition, per partition), and a last row with rule_id and partition
 *		NULL giving the rows scanned, the peak memory and the parallel
 *		workers.  Called by measure_quality.
 */
Datum
pubdata_quality_scan(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt;
	QualityState *qs;
	PubdataIdentity as;
	bool		audited;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	pubdata_progress_start(PUBDATA_PROGRESS_QUALITY, resource_id);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "pubdata quality", ALLOCSET_DEFAULT_SIZES);
	qs = open_resource(resource_id, cxt);

	audited = strcmp(qs->share_class, "unconditional") != 0 &&
		qs->caller_dept_id != qs->provider_id;
	if (audited)
		pubdata_require_preload("a quality measurement of a restricted or non-shared resource by another department than its provider (it is audited)");

	pubdata_become(&as, qs->rel->rd_rel->relowner, PUBDATA_AS_RESTRICTED);
	setup_leaves(qs);
	quality_scan(qs);
	pubdata_progress_set(PUBDATA_PROGRESS_PHASE, PUBDATA_PHASE_SAMPLES);
	emit_results(qs, rsinfo);
	pubdata_restore(&as);

	if (audited)
		audit_measurement(qs);
	pubdata_progress_set(PUBDATA_PROGRESS_PHASE, PUBDATA_PHASE_STORING);

	FreeExecutorState(qs->estate);
	for (i = 0; i < qs->nleaves; i++)
		if (qs->leaves[i].rel != qs->rel)
			table_close(qs->leaves[i].rel, NoLock);
	relation_close(qs->rel, NoLock);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
