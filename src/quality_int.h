/*-------------------------------------------------------------------------
 *
 * quality_int.h
 *	  What the quality files share among themselves (not the rest of
 *	  pubdata: that is quality.h).
 *
 * A measurement is a QualityState: the resource, its source (a table, the
 * leaves of a partitioned table, or a view read by query), its compiled
 * rules (QualityRule) and their outcome.  The files, in the order a
 * measurement uses them:
 *
 *	quality.c			settings (sample rows, the memory budget), kind names
 *	quality_rules.c		loading a resource's rules and compiling them, one
 *						small function per kind
 *	quality_reference.c	the referenced values of reference rules
 *	quality_row.c		evaluating every rule on one row, or on a batch of
 *						rows rule by rule
 *	quality_unique.c	counting duplicated keys within the memory budget
 *	quality_scan.c		the scan of the source (one process) and its results
 *	quality_parallel.c	the same scan by several processes
 *	quality_trigger.c	the rule trigger
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_QUALITY_INT_H
#define PUBDATA_QUALITY_INT_H

#include "postgres.h"

#include "access/attmap.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "utils/date.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

typedef enum QualityKind
{
	QK_NOT_NULL,
	QK_UNIQUE,
	QK_PATTERN,
	QK_RANGE,
	QK_ALLOWED_VALUES,
	QK_ID_CARD,
	QK_USCC,
	QK_MOBILE,
	QK_DATE_NOT_FUTURE,
	QK_REFERENCE,
	QK_FRESHNESS,
	QK_CUSTOM
} QualityKind;

#define QK_COUNT (QK_CUSTOM + 1)

/* the enum labels of pubdata.quality_kind, by QualityKind */
extern const char *const quality_kind_names[];

typedef enum QualityAction
{
	QA_REJECT,
	QA_FLAG,
	QA_WARN
} QualityAction;

/* what a measurement reads */
typedef enum QualitySource
{
	QS_TABLE,					/* a table or materialized view: its heap */
	QS_PARTITIONED,				/* the leaves of a partitioned table */
	QS_VIEW						/* a view, by query as its owner */
} QualitySource;

/*
 * A pattern rule remembers the outcome of recent values in a direct-mapped
 * cache of this many slots (68 kB), tagged by the value itself when it is
 * shorter than 16 bytes, else by its 64-bit hash: most pattern-checked
 * columns (codes, categories) have few distinct values.
 */
#define PATTERN_MEMO_SIZE 4096

/* how an item of a unique or reference key is hashed */
#define HK_FMGR		0			/* the type's extended hash function */
#define HK_INT2		1			/* a bijective mix of the integer value */
#define HK_INT4		2
#define HK_INT8		3
#define HK_BYTES	4			/* text types, deterministic collation: the bytes */
#define HK_BPCHAR	5			/* the same without trailing blanks */

/*
 * A row's place, in 48 bits that order as the scan reads: the leaf (the
 * partition, 0 for a table), then its tid (block, offset); for a view the
 * row's number.  48 bits, because a unique table slot keeps a row's place
 * and a 16-bit count in one word.
 */
typedef uint64 QualityLocator;

#define LOCATOR_BITS 48

/* one relation the scan reads: the table, or one leaf partition */
typedef struct QualityLeaf
{
	Relation	rel;
	TupleConversionMap *map;	/* to the resource's row type, if needed */
	Oid			relid;
	char	   *name;			/* schema-qualified, quoted as needed */
	BlockNumber nblocks;		/* at the start of the measurement */
	int64		rows;			/* rows scanned */
} QualityLeaf;

/* the unique rules' state (quality_unique.c) */
typedef struct QualityUnique QualityUnique;

/* a reference rule's set of referenced values (quality_reference.c) */
typedef struct RefSet RefSet;

typedef struct QualityRule
{
	/* as stored in pubdata.quality_rule (load_rules) */
	int64		id;
	QualityKind kind;
	QualityAction action;
	int			nitems;
	AttrNumber *attnums;		/* in the resource's relation; 0: dropped */
	char	  **itemnames;
	char	   *regex_src;
	char	   *min_src;
	char	   *max_src;
	int			nvalues;
	char	  **value_srcs;
	char	   *expression;
	Oid			ref_relid;
	char	   *ref_colname;
	bool		ref_allowed;	/* the provider may read the whole column */

	/* compiled (quality_rules.c) */
	bool		skip;			/* trigger: a checked column was dropped */
	Oid			typid;			/* type of the first item */
	Oid			collation;		/* collation of the first item */

	/* reading a value as text (format rules, pattern) */
	bool		varlena_text;	/* text, varchar, bpchar: read the bytes */
	bool		is_bpchar;
	FmgrInfo	outfn;

	/* pattern */
	text	   *regex;
	uint64	   *memo_tag;		/* memo of outcomes: two tag words a slot */
	uint8	   *memo_state;		/* 0x80 used, 0x40 passes, 0x3F length code */

	/* range, allowed_values, freshness */
	FmgrInfo	cmpfn;
	FmgrInfo	eqfn;			/* allowed_values: the type's equality */
	bool		has_eq;
	bool		has_min;
	bool		has_max;
	Datum		min;
	Datum		max;
	Datum	   *values;
	int			intlen;			/* 2, 4, 8: an integer, date or timestamp (0: other) */
	int64		min_int;
	int64		max_int;
	int64	   *values_int;
	bool		bytes_eq;		/* allowed_values: equality is equality of bytes */
	const char **value_bytes;
	int		   *value_lens;
	uint64	   *values_key;		/* bytes_eq, all under 8 bytes: their text keys */

	/* unique and reference: hashing of keys */
	FmgrInfo   *hashfns;
	Oid		   *hashcolls;
	char	   *hashkinds;		/* per item: HK_* */
	QualityUnique *uq;
	RefSet	   *set;
	AttrNumber	ref_attnum;
	/*
	 * unique on one integer, date or timestamp column: keys from win_lo on,
	 * win_n of them, are counted by direct address (quality_unique.c)
	 */
	bool		has_window;
	int64		win_lo;
	uint64		win_n;
	bool		win_split;		/* parallel: split (private slots, shared bitmaps) */

	/* custom */
	Expr	   *expr;			/* as planned (checked for parallel safety) */
	ExprState  *exprstate;

	/* outcome */
	bool		has_newest;		/* freshness: the newest value */
	Datum		newest;
	int64		failed;
	int64	   *leaf_failed;	/* per leaf */
	int			nsamples;
	QualityLocator *sample_locs;	/* the first failing rows */
	uint32	   *sample_counts;	/* unique: the key's rows */
	char	  **sample_json;	/* a view's samples, kept as the row is read */
} QualityRule;

typedef struct QualityState
{
	int64		resource_id;
	char	   *resource_code;
	char	   *share_class;
	int32		provider_id;
	int32		caller_dept_id; /* 0: the caller acts for no department */
	char	   *caller_dept_code;
	Oid			relid;
	Relation	rel;			/* the resource's relation */
	QualitySource source;
	int			nrules;
	QualityRule *rules;
	int			nunique;
	bool		leafwise;		/* unique keys counted partition by partition */
	bool		has_custom;
	int			nkeys;			/* key items, shown in samples */
	AttrNumber *keyattnums;
	AttrNumber	maxattr;		/* the last column a rule reads */
	EState	   *estate;
	ExprContext *econtext;
	TimestampTz now;
	Timestamp	localnow;
	DateADT		today;
	int			sample_limit;
	MemoryContext cxt;
	bool		for_trigger;

	/* the relations read */
	int			nleaves;
	QualityLeaf *leaves;
	int			curleaf;
	int			offbits;		/* locator: bits of the offset, of the block */
	int			blockbits;
	int64		nrows;
	double		expected_rows;	/* the planner's estimate, for sizing */

	/* memory: the budget, and what the measurement's structures hold */
	Size		budget;
	Size		unique_share;	/* of it, for each unique rule */
	Size		mem_used;
	Size		mem_peak;
	int			workers;		/* parallel workers that took part */
} QualityState;

/*
 * mix64
 *		The 64-bit finaliser of MurmurHash3: a bijection of 64-bit integers,
 *		the hash of an integer, date or timestamp key.
 */
static inline uint64
mix64(uint64 k)
{
	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

/* quality.c */
extern int	quality_sample_rows;
extern Size quality_memory_budget(void);
extern void quality_mem_add(QualityState *qs, Size bytes);
extern void quality_mem_sub(QualityState *qs, Size bytes);

/* quality_rules.c */
extern QualityState *quality_prepare(int64 resource_id, Relation rel, bool for_trigger,
									 MemoryContext cxt);
extern void quality_compile_rule(QualityState *qs, QualityRule *r);
extern void quality_rules_serialize(QualityState *qs, StringInfo buf);
extern void quality_rules_deserialize(QualityState *qs, const char *data);

/* quality_row.c */
extern void quality_eval_row(QualityState *qs, TupleTableSlot *slot, QualityLocator loc);
struct QualityBatch;
extern void quality_eval_batch(QualityState *qs, struct QualityBatch *b);
extern bool quality_row_ok(QualityState *qs, QualityRule *r, TupleTableSlot *slot);
extern uint64 quality_item_hash(QualityRule *r, int j, Datum d);
extern const char *quality_datum_bytes(Datum d, bool is_bpchar, int *len);
extern uint64 quality_text_key(const char *s, int len);

/* quality_unique.c */
struct SharedFileSet;
extern void unique_setup(QualityState *qs, QualityRule *r, Size share);
extern void unique_setup_shared(QualityState *qs, QualityRule *r, Size share, int nparts,
								struct SharedFileSet *fileset, int participant, void *window);
extern Size unique_window_plan(QualityState *qs, QualityRule *r, Size limit);
extern bool unique_leafwise(QualityState *qs);
extern void unique_leaf_begin(QualityState *qs, QualityRule *r, int leafno);
extern void unique_leaf_end(QualityState *qs, QualityRule *r);
extern void unique_window_release(QualityState *qs, QualityRule *r);
extern Size unique_window_shared_size(QualityRule *r, int nparticipants, Size limit, Size *total);
extern Size unique_window_dsm_size(QualityRule *r);
extern Size unique_window_shared_init(QualityState *qs, QualityRule *r, void *area, BlockNumber maxblocks);
extern void unique_window_add(QualityState *qs, QualityRule *r, uint64 off, QualityLocator loc);
extern bool unique_window_merge(QualityState *qs, QualityRule *r);
extern void unique_window_settle(QualityState *qs, QualityRule *r);
extern int	unique_shared_parts(Size share, double nkeys);
extern void unique_push(QualityState *qs, QualityRule *r, uint64 h, QualityLocator loc);
extern bool unique_add_now(QualityState *qs, QualityRule *r, uint64 h, QualityLocator loc);
extern void unique_finish(QualityState *qs, QualityRule *r);
extern void unique_release(QualityState *qs, QualityRule *r);
extern void unique_spill_close(QualityState *qs, QualityRule *r, int64 *nrecs);
extern void unique_count_shared_batch(QualityState *qs, QualityRule *r,
									  struct SharedFileSet *fileset, int nparticipants,
									  int p, int nparts, int64 nrecs);

/* quality_reference.c */
extern void reference_load(QualityState *qs, QualityRule *r);
extern bool reference_contains(RefSet *set, uint64 h);
extern bool reference_lookup_one(QualityRule *r, Datum value);
extern Size reference_set_bytes(RefSet *s);
extern void reference_set_copy(RefSet *s, void *dst);
extern RefSet *reference_set_attach(QualityState *qs, void *src);

/* quality_scan.c */
extern void quality_locator_overflow(QualityState *qs, int leaf, ItemPointer tid) pg_attribute_noreturn();

/*
 * quality_locator
 *		The place of row tid of leaf.
 */
static inline QualityLocator
quality_locator(QualityState *qs, int leaf, ItemPointer tid)
{
	BlockNumber blk = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);

	if (unlikely((qs->blockbits < 32 && (blk >> qs->blockbits) != 0) ||
				 (qs->offbits < 16 && (off >> qs->offbits) != 0)))
		quality_locator_overflow(qs, leaf, tid);
	return ((uint64) leaf << (qs->offbits + qs->blockbits)) |
		((uint64) blk << qs->offbits) | off;
}
extern void quality_add_sample(QualityState *qs, QualityRule *r, QualityLocator loc, uint32 count);
extern void quality_note_failure(QualityState *qs, QualityRule *r, TupleTableSlot *slot,
								 QualityLocator loc);
extern void quality_row_json(QualityState *qs, QualityRule *r, TupleTableSlot *slot,
							 StringInfo buf, uint32 dupcount);

/*
 * A scan of a leaf reads its rows through a QualityBatch.  A heap scanned
 * page at a time is read a page at a time: the first visible row of the
 * page by heap_getnext() (which reads the page, decides which of its rows
 * the snapshot sees and counts the scan's pages), the others straight from
 * the scan's list of them (rs_vistuples), as heap_getnext() would return
 * them.  The rows are evaluated QUALITY_BATCH at a time, rule by rule
 * (quality_eval_batch): the batch's rows are first deformed, up to the
 * last checked column, into one array a checked column (the values of 64
 * rows side by side), and each rule's loop reads its column's array; a
 * row goes into a slot (PostgreSQL's own deforming) only for what needs
 * the row itself: a failure's sample, a custom or reference rule, a key of
 * several columns.  A batch never outlives its page: it is evaluated
 * before the scan moves to the next one.  Any other table access method,
 * and a partition whose layout differs from the resource's, is read
 * through its slot and evaluated row by row.
 */
#define QUALITY_BATCH 64

/*
 * A column of a heap leaf as the batch reads it: its length (> 0: fixed;
 * -1: varlena), alignment mask, whether its values are passed by value,
 * and its array in the batch (-1: none, it is only stepped over).
 */
typedef struct QualityAtt
{
	int16		len;
	uint8		alignmask;
	bool		byval;
	int16		col;
} QualityAtt;

typedef struct QualityBatch
{
	bool		heap;			/* rows in batches, a page at a time */
	int			n;				/* rows in the batch */
	TupleTableSlot *slot;		/* otherwise: the access method's slot */
	TupleTableSlot *pslot;		/* and the resource's layout, if it differs */

	/* heap */
	int			natts;			/* columns deformed: up to the last checked */
	bool		own_deform;		/* read by quality_eval_batch's deformer */
	QualityAtt *atts;			/* natts of them */
	int			ncols;			/* checked columns with an array */
	Datum	   *values;			/* [col * QUALITY_BATCH + row] */
	bool	   *nulls;
	uint64		stored;			/* rows whose slot holds them (bit per row) */
	TupleTableSlot *slots[QUALITY_BATCH];
	HeapTupleData tuples[QUALITY_BATCH];
	QualityLocator locs[QUALITY_BATCH];
} QualityBatch;

extern QualityBatch *quality_batch_begin(QualityState *qs, int leafno, TableScanDesc scan);
extern void quality_batch_end(QualityState *qs, QualityBatch *b);
extern ItemPointer quality_scan_page(QualityState *qs, QualityBatch *b, HeapScanDesc hs,
									 HeapTuple first, int leafno);

/*
 * quality_scan_next
 *		The next rows of leaf leafno's scan, counted and evaluated: for a
 *		heap, the rest of a page (quality_scan_page); else one row, read
 *		through its slot and evaluated at once.  Returns the tid of a row
 *		read (the page's first), or NULL at the end of the scan.  Inline:
 *		the scans' step (the one-process scan and the parallel
 *		participants).
 */
static inline ItemPointer
quality_scan_next(QualityState *qs, QualityBatch *b, TableScanDesc scan, int leafno)
{
	QualityLeaf *l = &qs->leaves[leafno];
	TupleTableSlot *s;

	if (likely(b->heap))
	{
		HeapTuple	tuple = heap_getnext(scan, ForwardScanDirection);

		if (tuple == NULL)
			return NULL;
		return quality_scan_page(qs, b, (HeapScanDesc) scan, tuple, leafno);
	}
	if (!table_scan_getnextslot(scan, ForwardScanDirection, b->slot))
		return NULL;
	qs->nrows++;
	l->rows++;
	s = b->slot;
	if (b->pslot)
	{
		s = execute_attr_map_slot(l->map->attrMap, b->slot, b->pslot);
		s->tts_tid = b->slot->tts_tid;
	}
	else if (qs->maxattr > 0)
		slot_getsomeattrs(s, qs->maxattr);
	quality_eval_row(qs, s, quality_locator(qs, leafno, &b->slot->tts_tid));
	return &b->slot->tts_tid;
}

/* quality_parallel.c */
extern bool quality_scan_parallel(QualityState *qs);

/* leaf of a locator */
static inline int
locator_leaf(QualityState *qs, QualityLocator loc)
{
	return qs->nleaves > 1 ? (int) (loc >> (qs->offbits + qs->blockbits)) : 0;
}

#endif							/* PUBDATA_QUALITY_INT_H */
