/*-------------------------------------------------------------------------
 *
 * quality_reference.c
 *	  The values a reference rule checks against.
 *
 * A measurement reads the referenced column once into a RefSet, an open
 * addressing set of the 64-bit hashes of its values (hashed with the
 * referencing column's hash function: the types are the same), and looks
 * each checked value up.  A table's column is read through the table
 * access method (the referenced table's row-level security does not hide
 * values from the check); a view's, partitioned or foreign table's column
 * is read by a query as the relation's owner.  The set is a flat array, so
 * that a parallel measurement hands it to its workers as it is.
 *
 * The rule trigger looks one value up with an indexable query instead.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "identity.h"
#include "quality_int.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

struct RefSet
{
	uint64	   *slots;			/* 0: empty */
	uint64		mask;			/* slots - 1, a power of 2 minus 1 */
	uint64		members;
	bool		has_zero;		/* the hash 0 is a member */
	bool		shared;			/* slots in a parallel measurement's segment */
};

/*
 * ref_home
 *		A hash's first slot.
 */
static inline uint64
ref_home(RefSet *s, uint64 h)
{
	return (h ^ (h >> 31)) & s->mask;
}

/*
 * ref_create / ref_insert
 *		An empty set, and adding a hash to it (doubling at half full).
 */
static RefSet *
ref_create(QualityState *qs)
{
	RefSet	   *s = MemoryContextAllocZero(qs->cxt, sizeof(RefSet));

	s->mask = 1023;
	s->slots = MemoryContextAllocZero(qs->cxt, sizeof(uint64) * (s->mask + 1));
	quality_mem_add(qs, sizeof(uint64) * (s->mask + 1));
	return s;
}

static void
ref_insert(QualityState *qs, RefSet *s, uint64 h)
{
	uint64		p;

	if (h == 0)
	{
		s->has_zero = true;
		return;
	}
	for (p = ref_home(s, h); s->slots[p] != 0; p = (p + 1) & s->mask)
		if (s->slots[p] == h)
			return;
	s->slots[p] = h;
	if (++s->members * 2 > s->mask)
	{
		uint64	   *old = s->slots;
		uint64		oldsize = s->mask + 1;
		uint64		i;

		s->mask = s->mask * 2 + 1;
		s->slots = MemoryContextAllocHuge(qs->cxt, sizeof(uint64) * (s->mask + 1));
		memset(s->slots, 0, sizeof(uint64) * (s->mask + 1));
		for (i = 0; i < oldsize; i++)
		{
			if (old[i] == 0)
				continue;
			for (p = ref_home(s, old[i]); s->slots[p] != 0; p = (p + 1) & s->mask)
				;
			s->slots[p] = old[i];
		}
		pfree(old);
		quality_mem_add(qs, sizeof(uint64) * oldsize);
	}
}

/*
 * reference_contains
 *		Whether a hash is in the set.
 */
bool
reference_contains(RefSet *s, uint64 h)
{
	uint64		p;

	if (h == 0)
		return s->has_zero;
	for (p = ref_home(s, h); s->slots[p] != 0; p = (p + 1) & s->mask)
		if (s->slots[p] == h)
			return true;
	return false;
}

/*
 * reference_set_bytes / reference_set_copy / reference_set_attach
 *		A set's size as a flat copy, the copy (into a parallel measurement's
 *		segment), and a set that reads such a copy.
 */
Size
reference_set_bytes(RefSet *s)
{
	return sizeof(RefSet) + sizeof(uint64) * (s->mask + 1);
}

void
reference_set_copy(RefSet *s, void *dst)
{
	memcpy(dst, s, sizeof(RefSet));
	memcpy((char *) dst + sizeof(RefSet), s->slots, sizeof(uint64) * (s->mask + 1));
}

RefSet *
reference_set_attach(QualityState *qs, void *src)
{
	RefSet	   *s = MemoryContextAlloc(qs->cxt, sizeof(RefSet));

	memcpy(s, src, sizeof(RefSet));
	s->slots = (uint64 *) ((char *) src + sizeof(RefSet));
	s->shared = true;
	return s;
}

/*
 * load_by_query
 *		Read a referenced column that has no heap of its own (a view, a
 *		partitioned or a foreign table) by a query, in batches through a
 *		cursor, as the relation's owner (so row-level security does not hide
 *		values, and nothing in a view runs with more than its owner's
 *		privileges).  Names are quoted; there are no values in the query.
 */
static void
load_by_query(QualityState *qs, QualityRule *r, Relation ref)
{
	PubdataIdentity as;
	StringInfoData sql;
	SPIPlanPtr	plan;
	Portal		portal;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s FROM %s.%s WHERE %s IS NOT NULL",
					 quote_identifier(r->ref_colname),
					 quote_identifier(get_namespace_name(RelationGetNamespace(ref))),
					 quote_identifier(RelationGetRelationName(ref)),
					 quote_identifier(r->ref_colname));

	/*
	 * As the relation's owner in a security-restricted context, never as the
	 * extension owner: a view's functions run as the current user, and a
	 * department owns the views it registers.
	 */
	pubdata_become(&as, ref->rd_rel->relowner, PUBDATA_AS_RESTRICTED);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare the reference query: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		uint64		i;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				ref_insert(qs, r->set, quality_item_hash(r, 0, d));
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	pubdata_restore(&as);
}

/*
 * reference_load
 *		Read the referenced column of a reference rule into its set.
 */
void
reference_load(QualityState *qs, QualityRule *r)
{
	Relation	ref = table_open(r->ref_relid, AccessShareLock);
	TableScanDesc scan;
	TupleTableSlot *slot;
	ExprContext *econtext = qs->econtext;

	r->set = ref_create(qs);
	if (ref->rd_rel->relkind != RELKIND_RELATION && ref->rd_rel->relkind != RELKIND_MATVIEW)
	{
		load_by_query(qs, r, ref);
		table_close(ref, AccessShareLock);
		return;
	}
	slot = table_slot_create(ref, NULL);
	scan = table_beginscan_strat(ref, GetActiveSnapshot(), 0, NULL, true, false);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		d = slot_getattr(slot, r->ref_attnum, &isnull);
		if (isnull)
			continue;
		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		ref_insert(qs, r->set, quality_item_hash(r, 0, d));
		MemoryContextSwitchTo(old);
		ResetExprContext(econtext);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(ref, AccessShareLock);
}

/*
 * reference_lookup_one
 *		Whether a value is present in the referenced column (the trigger):
 *		one indexable lookup, as the referenced relation's owner (row-level
 *		security does not apply to it), restricted.
 */
bool
reference_lookup_one(QualityRule *r, Datum value)
{
	StringInfoData sql;
	Oid			argtypes[1];
	Datum		args[1];
	bool		found;
	PubdataIdentity as;

	initStringInfo(&sql);
	/* a partitioned table's values are in its partitions */
	appendStringInfo(&sql, "SELECT 1 FROM %s%s.%s WHERE %s OPERATOR(pg_catalog.=) $1 LIMIT 1",
					 get_rel_relkind(r->ref_relid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
					 quote_identifier(get_namespace_name(get_rel_namespace(r->ref_relid))),
					 quote_identifier(get_rel_name(r->ref_relid)),
					 quote_identifier(r->ref_colname));
	argtypes[0] = r->typid;
	args[0] = value;
	pubdata_become(&as, pubdata_relation_owner(r->ref_relid), PUBDATA_AS_RESTRICTED);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check the referenced column");
	found = SPI_processed > 0;
	SPI_finish();
	pubdata_restore(&as);
	return found;
}
