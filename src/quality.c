/*-------------------------------------------------------------------------
 *
 * quality.c
 *	  Quality rules evaluated where the data lives (Art 15; GB/T 36344).
 *
 * pubdata._quality_scan(resource) evaluates every row rule of a resource
 * in ONE sequential scan of its table, read through the table access method
 * (so row-level security does not hide rows from the measurement):
 *
 *	- not_null, pattern, range, allowed_values, id_card, uscc, mobile,
 *	  date_not_future: checked on each tuple;
 *	- custom: a boolean expression over the row, parsed and planned like a
 *	  CHECK constraint (no sub-queries, aggregates or set-returning
 *	  functions) and evaluated by the executor on the scanned tuple, as the
 *	  table's owner in a security-restricted context;
 *	- reference: the referenced column is read once into a hash set of
 *	  64-bit hashes of its values; each value is looked up;
 *	- unique: a 64-bit hash of the key goes into an in-memory hash table
 *	  bounded by hash_mem (work_mem * hash_mem_multiplier); keys that arrive
 *	  when it is full go to a tuplesort of (hash, tid) bounded by work_mem,
 *	  which spills to disk.  Keys in the table and spilled keys are disjoint,
 *	  so duplicates are counted exactly (up to 64-bit hash collisions);
 *	- freshness: the newest value of its column.
 *
 * The first pubdata.quality_sample_rows failing rows of each rule are kept
 * by tid and read back after the scan to report their key items.
 *
 * pubdata.quality_check_trigger() applies the same row rules to a row being
 * inserted or updated, with the rule's action: reject, flag or warn.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "calendar.h"
#include "quality.h"
#include "identity.h"
#include "local_time.h"
#include "validate.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "regex/regex.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"

#include <sys/mman.h>

/*
 * A pattern rule remembers the outcome of recent values in a direct-mapped
 * cache of this many slots (68 kB), tagged by the value itself when it is
 * shorter than 16 bytes, else by its 64-bit hash: most pattern-checked
 * columns (codes, categories) have few distinct values, and a value that
 * misses costs one regular expression match, as without the cache.
 */
#define PATTERN_MEMO_SIZE 4096

/*
 * Unique keys reach the hash table this many keys after their bucket was
 * prefetched, so that the cache misses of a table larger than the CPU caches
 * overlap with the work on the next rows instead of stalling the scan.
 */
#define UNIQUE_RING 16

/* a unique table slot's value: first tid (48 bits) << 16 | count (16 bits) */
#define UT_COUNT_MAX 0xFFFF

/* GUC: failing rows kept per rule and run */
static int	quality_sample_rows = 10;

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

static const char *const kind_names[] = {
	"not_null", "unique", "pattern", "range", "allowed_values", "id_card",
	"uscc", "mobile", "date_not_future", "reference", "freshness", "custom", NULL
};

typedef enum QualityAction
{
	QA_REJECT,
	QA_FLAG,
	QA_WARN
} QualityAction;

/* hash set of 64-bit key hashes, with a count and the first tid per key */
typedef struct U64Entry
{
	uint64		key;
	uint64		first;
	uint32		count;
	char		status;
} U64Entry;

#define SH_PREFIX u64set
#define SH_ELEMENT_TYPE U64Entry
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, k) ((uint32) ((k) ^ ((k) >> 32)))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* how an item of a unique or reference key is hashed */
#define HK_FMGR		0			/* the type's extended hash function */
#define HK_INT2		1			/* a bijective mix of the integer value */
#define HK_INT4		2
#define HK_INT8		3
#define HK_BYTES	4			/* text types, deterministic collation: the bytes */
#define HK_BPCHAR	5			/* the same without trailing blanks */

/*
 * UniqueTable
 *		Open addressing (linear probing) over 16-byte slots, any number of
 *		them (a key's slot is its hash scaled to the size): a key's 64-bit
 *		hash (0: empty slot; the key hash 0 is kept aside) and its first tid
 *		and count.  Counts beyond UT_COUNT_MAX go to a small overflow set.
 *		The slots are mapped memory (see ut_alloc), unmapped by a callback
 *		of the owning memory context, on error as well.
 */
typedef struct UniqueTable
{
	uint64	   *slots;			/* 2 * size words: key, tid << 16 | count */
	void	   *base;			/* the mapping that holds them */
	size_t		len;
	uint64		size;			/* slots */
	uint64		members;
	uint64		grow_at;		/* members at which to double (or stop) */
	uint64		max_size;		/* largest size within the memory budget */
	bool		full;			/* at max_size and grow_at: new keys spill */
	bool		has_zero;		/* the key hash 0 */
	uint64		zero_val;
	u64set_hash *overflow;		/* key -> count beyond UT_COUNT_MAX (in "first") */
	uint64	   *dups;			/* keys seen twice, so that the end need not */
	uint64		ndups;			/* visit every slot; NULL when there are more */
	uint64		maxdups;		/* than maxdups of them */
	MemoryContext cxt;
	MemoryContextCallback cb;
} UniqueTable;

typedef struct QualityRule
{
	int64		id;
	QualityKind kind;
	QualityAction action;
	bool		skip;			/* trigger: a checked column was dropped */
	int			nitems;
	AttrNumber *attnums;
	char	  **itemnames;
	Oid			typid;			/* type of the first item */
	Oid			collation;		/* collation of the first item */

	/* reading a value as text (format rules, pattern) */
	bool		varlena_text;	/* text, varchar, bpchar: read the bytes */
	bool		is_bpchar;
	FmgrInfo	outfn;

	/* pattern */
	char	   *regex_src;
	text	   *regex;

	/* range, allowed_values, freshness */
	char	   *min_src;
	char	   *max_src;
	int			nvalues;
	char	  **value_srcs;
	FmgrInfo	cmpfn;
	FmgrInfo	eqfn;			/* allowed_values: the type's equality */
	bool		has_eq;
	bool		has_min;
	bool		has_max;
	Datum		min;
	Datum		max;
	Datum	   *values;

	/* fast paths decided at compile time */
	int			intlen;			/* 2, 4, 8: an integer, date or timestamp (0: other) */
	int64		min_int;		/* range: min and max as integers */
	int64		max_int;
	int64	   *values_int;		/* allowed_values as integers */
	bool		bytes_eq;		/* allowed_values: equality is equality of bytes */
	const char **value_bytes;	/* allowed_values as bytes (char(n): unpadded) */
	int		   *value_lens;

	/* pattern: memo of outcomes, two tag words and a state byte a slot */
	uint64	   *memo_tag;
	uint8	   *memo_state;		/* 0x80 used, 0x40 passes, 0x3F length code */

	/* unique and reference: hashing of keys */
	FmgrInfo   *hashfns;
	Oid		   *hashcolls;
	char	   *hashkinds;		/* per item: HK_* */
	u64set_hash *set;			/* reference: the referenced values */
	UniqueTable *ut;			/* unique: the keys that fit in memory */
	MemoryContext cxt;			/* where the spill sort lives */
	int			nring;			/* keys whose buckets were prefetched */
	int			ringpos;
	uint64		ring_hash[UNIQUE_RING];
	uint64		ring_tid[UNIQUE_RING];
	Tuplesortstate *spill;
	TupleTableSlot *spillslot;
	Oid			ref_relid;
	char	   *ref_colname;
	bool		ref_allowed;	/* the provider may read the whole column */
	AttrNumber	ref_attnum;

	/* custom */
	char	   *expression;
	ExprState  *exprstate;

	/* freshness */
	bool		has_newest;
	Datum		newest;

	/* outcome */
	int64		failed;
	int			nsamples;
	uint64	   *sample_tids;
	uint32	   *sample_counts;
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
	Relation	rel;
	int			nrules;
	QualityRule *rules;
	int			nkeys;			/* key items, shown in samples */
	AttrNumber *keyattnums;
	AttrNumber	maxattr;
	EState	   *estate;
	ExprContext *econtext;
	TimestampTz now;
	Timestamp	localnow;
	DateADT		today;
	int			sample_limit;
	MemoryContext cxt;
	bool		for_trigger;
} QualityState;


/*
 * pubdata_quality_init
 *		Define the quality module's GUCs.
 */
void
pubdata_quality_init(void)
{
	DefineCustomIntVariable("pubdata.quality_sample_rows",
							"Failing rows whose keys a quality measurement keeps per rule.",
							NULL,
							&quality_sample_rows,
							10, 0, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/*
 * kind_from_name
 *		The QualityKind of an enum label.
 */
static QualityKind
kind_from_name(const char *name)
{
	int			i;

	for (i = 0; kind_names[i]; i++)
		if (strcmp(kind_names[i], name) == 0)
			return (QualityKind) i;
	elog(ERROR, "unknown quality rule kind \"%s\"", name);
	return QK_CUSTOM;			/* keep the compiler quiet */
}

/*
 * spi_text
 *		A text column of the current SPI row, copied into cxt; NULL if null.
 */
static char *
spi_text(MemoryContext cxt, int row, int col)
{
	char	   *s = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return s ? MemoryContextStrdup(cxt, s) : NULL;
}

/*
 * spi_array
 *		Deconstruct an array column of the current SPI row.
 */
static void
spi_array(int row, int col, Oid elemtype, Datum **elems, bool **nulls, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	int16		typlen;
	bool		typbyval;
	char		typalign;

	*n = 0;
	*elems = NULL;
	*nulls = NULL;
	if (isnull)
		return;
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(DatumGetArrayTypeP(d), elemtype, typlen, typbyval, typalign,
					  elems, nulls, n);
}

/*
 * load_rules
 *		Read the enabled rules of a resource and its key items through SPI
 *		into qs (allocated in qs->cxt).  Called as the extension owner.
 */
static void
load_rules(QualityState *qs)
{
	Oid			argtypes[2] = {INT8OID, OIDOID};
	Datum		args[2];
	int			ret;
	uint64		i;

	args[0] = Int64GetDatum(qs->resource_id);
	args[1] = ObjectIdGetDatum(qs->relid);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	ret = SPI_execute_with_args(
								"SELECT r.code, r.share_class::text, r.provider_id, c.dept, "
								"       (SELECT d.code FROM pubdata.department d WHERE d.id = c.dept) "
								"FROM pubdata.resource r, (SELECT pubdata.department_of(pubdata.caller()) AS dept) c "
								"WHERE r.id = $1 AND $2 IS NOT NULL",
								2, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("resource %lld does not exist", (long long) qs->resource_id)));
	qs->resource_code = spi_text(qs->cxt, 0, 1);
	qs->share_class = spi_text(qs->cxt, 0, 2);
	{
		bool		isnull;
		Datum		d;

		qs->provider_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
		qs->caller_dept_id = isnull ? 0 : DatumGetInt32(d);
		qs->caller_dept_code = spi_text(qs->cxt, 0, 5);
	}

	ret = SPI_execute_with_args(
								"SELECT q.id, q.kind::text, q.action::text, "
								" ARRAY(SELECT coalesce(a.attnum, 0) FROM pg_catalog.unnest(q.items) WITH ORDINALITY AS u(c, o) "
								"        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = $2 AND a.attname = u.c "
								"             AND a.attnum > 0 AND NOT a.attisdropped ORDER BY u.o)::int2[], "
								" q.items::text[], q.params->>'regex', q.params->>'min', q.params->>'max', "
								" ARRAY(SELECT pg_catalog.jsonb_array_elements_text(CASE WHEN pg_catalog.jsonb_typeof(q.params->'values') = 'array' "
								"        THEN q.params->'values' ELSE '[]' END)), "
								" q.params->>'expression', "
								" (SELECT r.relation::oid FROM pubdata.resource r WHERE r.code = q.params->>'resource'), "
								" q.params->>'item', "
								" q.kind <> 'reference' OR pubdata._quality_may_reference("
								"    (SELECT x.provider_id FROM pubdata.resource x WHERE x.id = q.resource_id), "
								"    (SELECT r.id FROM pubdata.resource r WHERE r.code = q.params->>'resource'), "
								"    q.params->>'item', q.created_by) "
								"FROM pubdata.quality_rule q WHERE q.resource_id = $1 AND q.enabled ORDER BY q.id",
								2, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the quality rules");

	qs->nrules = SPI_processed;
	qs->rules = MemoryContextAllocZero(qs->cxt, sizeof(QualityRule) * Max(qs->nrules, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		QualityRule *r = &qs->rules[i];
		bool		isnull;
		Datum	   *elems;
		bool	   *nulls;
		int			n,
					j;
		char	   *kind = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		char	   *action = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		Datum		ref;

		r->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		r->kind = kind_from_name(kind);
		r->action = strcmp(action, "reject") == 0 ? QA_REJECT :
			strcmp(action, "flag") == 0 ? QA_FLAG : QA_WARN;

		spi_array(i, 4, INT2OID, &elems, &nulls, &n);
		r->nitems = n;
		r->attnums = MemoryContextAlloc(qs->cxt, sizeof(AttrNumber) * Max(n, 1));
		for (j = 0; j < n; j++)
			r->attnums[j] = DatumGetInt16(elems[j]);
		spi_array(i, 5, TEXTOID, &elems, &nulls, &n);
		r->itemnames = MemoryContextAlloc(qs->cxt, sizeof(char *) * Max(n, 1));
		for (j = 0; j < n; j++)
			r->itemnames[j] = MemoryContextStrdup(qs->cxt, TextDatumGetCString(elems[j]));

		r->regex_src = spi_text(qs->cxt, i, 6);
		r->min_src = spi_text(qs->cxt, i, 7);
		r->max_src = spi_text(qs->cxt, i, 8);
		spi_array(i, 9, TEXTOID, &elems, &nulls, &n);
		r->nvalues = n;
		r->value_srcs = MemoryContextAlloc(qs->cxt, sizeof(char *) * Max(n, 1));
		for (j = 0; j < n; j++)
			r->value_srcs[j] = nulls[j] ? NULL :
				MemoryContextStrdup(qs->cxt, TextDatumGetCString(elems[j]));
		r->expression = spi_text(qs->cxt, i, 10);
		ref = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 11, &isnull);
		r->ref_relid = isnull ? InvalidOid : DatumGetObjectId(ref);
		r->ref_colname = spi_text(qs->cxt, i, 12);
		r->ref_allowed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 13, &isnull));
	}

	ret = SPI_execute_with_args(
								"SELECT a.attnum FROM pubdata.resource_item i "
								"JOIN pg_catalog.pg_attribute a ON a.attrelid = $2 AND a.attname = i.column_name "
								"     AND a.attnum > 0 AND NOT a.attisdropped "
								"WHERE i.resource_id = $1 AND i.is_key ORDER BY a.attnum",
								2, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the key items");
	qs->nkeys = SPI_processed;
	qs->keyattnums = MemoryContextAlloc(qs->cxt, sizeof(AttrNumber) * Max(qs->nkeys, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		qs->keyattnums[i] = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
}

/*
 * pubdata_parse_expression
 *		Parse a custom rule's (or mask's) text as exactly one SQL expression.
 *		The text is parsed as "SELECT (<text>\n)" and the result must be a
 *		bare one-column SELECT, so that nothing can close the parenthesis and
 *		add a FROM, a second statement or anything else.  what names the
 *		expression's owner in the error ("quality rule 12").
 */
Node *
pubdata_parse_expression(const char *src, const char *what)
{
	List	   *raw;
	RawStmt    *rs;
	SelectStmt *sel;
	ResTarget  *rt;

	raw = raw_parser(psprintf("SELECT (%s\n)", src), RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		goto bad;
	rs = linitial_node(RawStmt, raw);
	if (!IsA(rs->stmt, SelectStmt))
		goto bad;
	sel = (SelectStmt *) rs->stmt;
	if (list_length(sel->targetList) != 1 || sel->distinctClause || sel->intoClause ||
		sel->fromClause || sel->whereClause || sel->groupClause || sel->havingClause ||
		sel->windowClause || sel->valuesLists || sel->sortClause || sel->limitOffset ||
		sel->limitCount || sel->lockingClause || sel->withClause || sel->op != SETOP_NONE)
		goto bad;
	rt = linitial_node(ResTarget, sel->targetList);
	if (rt->name != NULL || rt->indirection != NIL)
		goto bad;
	return rt->val;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("expression of %s is not a single SQL expression", what),
			 errdetail("Expression: %s", src),
			 errhint("Write one expression over the row's columns, like a CHECK constraint.")));
	return NULL;				/* keep the compiler quiet */
}

/*
 * compile_custom
 *		Turn a custom rule's expression into an ExprState over the table's
 *		row, as CHECK constraints are: transformed with the table as the only
 *		range table entry under EXPR_KIND_CHECK_CONSTRAINT (which forbids
 *		sub-queries, aggregates, window and set-returning functions), coerced
 *		to boolean and planned.  Var nodes then read the scan tuple.
 */
static ExprState *
compile_custom(QualityState *qs, QualityRule *r)
{
	Node	   *raw = pubdata_parse_expression(r->expression,
												  psprintf("quality rule %lld", (long long) r->id));
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	Node	   *expr;

	pstate->p_sourcetext = r->expression;
	nsitem = addRangeTableEntryForRelation(pstate, qs->rel, AccessShareLock, NULL, false, true);
	addNSItemToQuery(pstate, nsitem, true, true, true);
	expr = transformExpr(pstate, raw, EXPR_KIND_CHECK_CONSTRAINT);
	expr = coerce_to_boolean(pstate, expr, "quality rule");
	assign_expr_collations(pstate, expr);
	free_parsestate(pstate);
	return ExecPrepareExpr((Expr *) expr, qs->estate);
}

/*
 * input_value
 *		A rule parameter read with the input function of the item's type.
 */
static Datum
input_value(Oid typid, int32 typmod, const char *src)
{
	Oid			infn,
				ioparam;

	getTypeInputInfo(typid, &infn, &ioparam);
	return OidInputFunctionCall(infn, (char *) src, ioparam, typmod);
}

/*
 * int_len_of
 *		2, 4 or 8 for a type whose values order and equal as the integers of
 *		that size (integers, date, timestamp and timestamptz: their btree
 *		comparison is that of the integer); 0 for any other type.
 */
static int
int_len_of(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return 2;
		case INT4OID:
		case DATEOID:
			return 4;
		case INT8OID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return 8;
		default:
			return 0;
	}
}

/*
 * datum_int
 *		The value of an integer-like datum (see int_len_of).
 */
static inline int64
datum_int(int intlen, Datum d)
{
	if (intlen == 8)
		return DatumGetInt64(d);
	if (intlen == 4)
		return (int64) DatumGetInt32(d);
	return (int64) DatumGetInt16(d);
}

/*
 * datum_bytes
 *		The bytes of a text, varchar or char(n) value without a copy when it
 *		is neither compressed nor out of line (then detoasted into the
 *		current, per-tuple, context); char(n) without its trailing blanks.
 */
static inline const char *
datum_bytes(Datum d, bool is_bpchar, int *len)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	const char *s;
	int			n;

	if (unlikely(VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v)))
		v = pg_detoast_datum_packed(v);
	s = VARDATA_ANY(v);
	n = VARSIZE_ANY_EXHDR(v);
	if (is_bpchar)
		while (n > 0 && s[n - 1] == ' ')
			n--;
	*len = n;
	return s;
}

/*
 * hash_kind_of
 *		How an item of a unique or reference key is hashed: integers by a
 *		bijective mix of their value (no two values collide), text types
 *		under a deterministic collation by their bytes (as hashtext does),
 *		anything else by the type's extended hash function.
 */
static char
hash_kind_of(Oid typid, Oid collation)
{
	switch (typid)
	{
		case INT2OID:
			return HK_INT2;
		case INT4OID:
		case DATEOID:
			return HK_INT4;
		case INT8OID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return HK_INT8;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			if (!OidIsValid(collation) || !get_collation_isdeterministic(collation))
				return HK_FMGR;
			return typid == BPCHAROID ? HK_BPCHAR : HK_BYTES;
		default:
			return HK_FMGR;
	}
}

/*
 * mix64
 *		The 64-bit finaliser of MurmurHash3: a bijection of 64-bit integers.
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

/*
 * item_hash
 *		64-bit hash of a non-null key item, as hash_kind_of decided.
 */
static inline uint64
item_hash(QualityRule *r, int j, Datum d)
{
	const char *s;
	int			len;

	switch (r->hashkinds[j])
	{
		case HK_INT2:
			return mix64((uint64) (int64) DatumGetInt16(d));
		case HK_INT4:
			return mix64((uint64) (int64) DatumGetInt32(d));
		case HK_INT8:
			return mix64((uint64) DatumGetInt64(d));
		case HK_BYTES:
		case HK_BPCHAR:
			s = datum_bytes(d, r->hashkinds[j] == HK_BPCHAR, &len);
			return hash_bytes_extended((const unsigned char *) s, len, 0);
		default:
			return DatumGetUInt64(FunctionCall2Coll(&r->hashfns[j], r->hashcolls[j],
													d, UInt64GetDatum(0)));
	}
}

/*
 * is_date_or_timestamp
 *		Whether a column type is one a date rule reads: date, timestamp or
 *		timestamptz (what add_quality_rule accepts for date_not_future and
 *		freshness).
 */
static bool
is_date_or_timestamp(Oid typid)
{
	return typid == DATEOID || typid == TIMESTAMPOID || typid == TIMESTAMPTZOID;
}


/*
 * date_rule_is_stale
 *		A freshness or date_not_future rule whose column is no longer a date
 *		or timestamp (its type changed after the rule was added): the rule
 *		trigger skips it (returns true); a measurement fails naming it.
 */
static bool
date_rule_is_stale(QualityState *qs, QualityRule *r, const char *kind)
{
	if (is_date_or_timestamp(r->typid))
		return false;
	if (qs->for_trigger)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" checked by %s quality rule %lld is of type %s, not a date or timestamp",
					r->itemnames[0], kind, (long long) r->id, format_type_be(r->typid)),
			 errdetail("The column's type changed after the rule was added."),
			 errhint("Drop the rule with pubdata.drop_quality_rule(%lld), or change the column back to date, timestamp or timestamptz.",
					 (long long) r->id)));
	return false;				/* keep the compiler quiet */
}
/*
 * compile_rule
 *		Check a rule against the table and prepare it for evaluation.  Every
 *		error here names the rule, so add_quality_rule reports it clearly.
 */
static void
compile_rule(QualityState *qs, QualityRule *r)
{
	TupleDesc	tupdesc = RelationGetDescr(qs->rel);
	Form_pg_attribute att = NULL;
	int			j;
	MemoryContext old = MemoryContextSwitchTo(qs->cxt);

	for (j = 0; j < r->nitems; j++)
	{
		if (r->attnums[j] <= 0 && qs->for_trigger)
		{
			/* a stale rule must not block every write: the measurement reports it */
			r->skip = true;
			MemoryContextSwitchTo(old);
			return;
		}
		if (r->attnums[j] <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" checked by quality rule %lld no longer exists",
							r->itemnames[j], (long long) r->id),
					 errhint("Drop the rule with pubdata.drop_quality_rule(%lld).", (long long) r->id)));
		qs->maxattr = Max(qs->maxattr, r->attnums[j]);
	}
	if (r->nitems > 0)
	{
		att = TupleDescAttr(tupdesc, r->attnums[0] - 1);
		r->typid = att->atttypid;
		r->collation = OidIsValid(att->attcollation) ? att->attcollation : DEFAULT_COLLATION_OID;
	}

	switch (r->kind)
	{
		case QK_NOT_NULL:
			break;

		case QK_PATTERN:
		case QK_ID_CARD:
		case QK_USCC:
		case QK_MOBILE:
			r->is_bpchar = (r->typid == BPCHAROID);
			r->varlena_text = (r->typid == TEXTOID || r->typid == VARCHAROID || r->is_bpchar);
			if (!r->varlena_text)
			{
				Oid			outfn;
				bool		isvarlena;

				getTypeOutputInfo(r->typid, &outfn, &isvarlena);
				fmgr_info_cxt(outfn, &r->outfn, qs->cxt);
			}
			if (r->kind == QK_PATTERN)
			{
				if (r->regex_src == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("pattern quality rule %lld has no regex", (long long) r->id)));
				r->regex = cstring_to_text(r->regex_src);
				/* raises "invalid regular expression" now rather than mid-scan */
				(void) RE_compile_and_cache(r->regex, REG_ADVANCED, r->collation);
				r->memo_tag = palloc0(sizeof(uint64) * 2 * PATTERN_MEMO_SIZE);
				r->memo_state = palloc0(sizeof(uint8) * PATTERN_MEMO_SIZE);
			}
			break;

		case QK_RANGE:
		case QK_ALLOWED_VALUES:
		case QK_FRESHNESS:
			if (r->nitems == 0)
				break;			/* table freshness: nothing to compare */

			/*
			 * add_quality_rule accepts a freshness rule only on a date or
			 * timestamp column; the column's type may have changed since
			 * (ALTER COLUMN ... TYPE), and the newest value is reported as a
			 * timestamp.
			 */
			if (r->kind == QK_FRESHNESS && date_rule_is_stale(qs, r, "freshness"))
			{
				r->skip = true;	/* not a row rule: never blocks a write */
				MemoryContextSwitchTo(old);
				return;
			}
			{
				TypeCacheEntry *tce = lookup_type_cache(r->typid, TYPECACHE_CMP_PROC_FINFO);

				if (!OidIsValid(tce->cmp_proc))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_FUNCTION),
							 errmsg("type %s of column \"%s\" has no ordering for quality rule %lld",
									format_type_be(r->typid), r->itemnames[0], (long long) r->id),
							 errhint("Use a pattern or custom rule for this column.")));
				fmgr_info_copy(&r->cmpfn, &tce->cmp_proc_finfo, qs->cxt);
			}
			/* integers, dates and timestamps order (and equal) as integers */
			r->intlen = int_len_of(r->typid);
			if (r->kind == QK_RANGE)
			{
				if (r->min_src)
				{
					r->has_min = true;
					r->min = input_value(r->typid, att->atttypmod, r->min_src);
					if (r->intlen)
						r->min_int = datum_int(r->intlen, r->min);
				}
				if (r->max_src)
				{
					r->has_max = true;
					r->max = input_value(r->typid, att->atttypmod, r->max_src);
					if (r->intlen)
						r->max_int = datum_int(r->intlen, r->max);
				}
			}
			else if (r->kind == QK_ALLOWED_VALUES)
			{
				/* equality, not ordering: for text a memcmp, not a strcoll */
				TypeCacheEntry *tce = lookup_type_cache(r->typid, TYPECACHE_EQ_OPR_FINFO);

				if (OidIsValid(tce->eq_opr_finfo.fn_oid))
				{
					fmgr_info_copy(&r->eqfn, &tce->eq_opr_finfo, qs->cxt);
					r->has_eq = true;
				}
				r->values = palloc(sizeof(Datum) * Max(r->nvalues, 1));
				for (j = 0; j < r->nvalues; j++)
				{
					if (r->value_srcs[j] == NULL)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("allowed values of quality rule %lld include null", (long long) r->id),
								 errhint("Nulls are never checked by allowed_values; use not_null for them.")));
					r->values[j] = input_value(r->typid, att->atttypmod, r->value_srcs[j]);
				}
				/* texteq and bpchareq under a deterministic collation compare bytes */
				r->is_bpchar = (r->typid == BPCHAROID);
				r->bytes_eq = r->has_eq &&
					(r->typid == TEXTOID || r->typid == VARCHAROID || r->is_bpchar) &&
					get_collation_isdeterministic(r->collation);
				if (r->intlen)
				{
					r->values_int = palloc(sizeof(int64) * Max(r->nvalues, 1));
					for (j = 0; j < r->nvalues; j++)
						r->values_int[j] = datum_int(r->intlen, r->values[j]);
				}
				else if (r->bytes_eq)
				{
					r->value_bytes = palloc(sizeof(char *) * Max(r->nvalues, 1));
					r->value_lens = palloc(sizeof(int) * Max(r->nvalues, 1));
					for (j = 0; j < r->nvalues; j++)
						r->value_bytes[j] = datum_bytes(r->values[j], r->is_bpchar, &r->value_lens[j]);
				}
			}
			break;

		case QK_DATE_NOT_FUTURE:
			if (date_rule_is_stale(qs, r, "date_not_future"))
			{
				r->skip = true;	/* a stale rule must not block every write */
				MemoryContextSwitchTo(old);
				return;
			}
			break;

		case QK_UNIQUE:
		case QK_REFERENCE:
			r->hashfns = palloc(sizeof(FmgrInfo) * r->nitems);
			r->hashcolls = palloc(sizeof(Oid) * r->nitems);
			r->hashkinds = palloc(sizeof(char) * r->nitems);
			for (j = 0; j < r->nitems; j++)
			{
				Form_pg_attribute a = TupleDescAttr(tupdesc, r->attnums[j] - 1);
				TypeCacheEntry *tce = lookup_type_cache(a->atttypid, TYPECACHE_HASH_EXTENDED_PROC_FINFO);

				r->hashkinds[j] = hash_kind_of(a->atttypid, a->attcollation);
				if (!OidIsValid(tce->hash_extended_proc))
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_FUNCTION),
							 errmsg("type %s of column \"%s\" cannot be hashed for quality rule %lld",
									format_type_be(a->atttypid), r->itemnames[j], (long long) r->id),
							 errhint("Use a custom rule for this column.")));
				fmgr_info_copy(&r->hashfns[j], &tce->hash_extended_proc_finfo, qs->cxt);
				r->hashcolls[j] = OidIsValid(a->attcollation) ? a->attcollation : InvalidOid;
			}
			if (r->kind == QK_REFERENCE)
			{
				if (!OidIsValid(r->ref_relid) || r->ref_colname == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_OBJECT),
							 errmsg("the resource referenced by quality rule %lld does not exist or has no table",
									(long long) r->id)));
				if (!r->ref_allowed)
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("permission denied to reference column \"%s\" in quality rule %lld",
									r->ref_colname, (long long) r->id),
							 errdetail("The provider of this resource may no longer read that whole column: the grant ended or is scoped to some rows."),
							 errhint("Drop or disable the rule (pubdata.drop_quality_rule), or obtain a grant of the column without a row scope.")));
				r->ref_attnum = get_attnum(r->ref_relid, r->ref_colname);
				if (r->ref_attnum <= 0)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_COLUMN),
							 errmsg("column \"%s\" referenced by quality rule %lld does not exist",
									r->ref_colname, (long long) r->id)));
				if (get_atttype(r->ref_relid, r->ref_attnum) != r->typid)
					ereport(ERROR,
							(errcode(ERRCODE_DATATYPE_MISMATCH),
							 errmsg("column \"%s\" and the column it references in quality rule %lld differ in type",
									r->itemnames[0], (long long) r->id)));
			}
			break;

		case QK_CUSTOM:
			if (r->expression == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("custom quality rule %lld has no expression", (long long) r->id)));
			/* report parse errors against the expression, not the caller's query */
			PG_TRY();
			{
				r->exprstate = compile_custom(qs, r);
			}
			PG_CATCH();
			{
				ErrorData  *edata;

				MemoryContextSwitchTo(qs->cxt);
				edata = CopyErrorData();
				if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
					PG_RE_THROW();
				FlushErrorState();
				ereport(ERROR,
						(errcode(edata->sqlerrcode),
						 errmsg("invalid expression in quality rule %lld: %s", (long long) r->id, edata->message),
						 errdetail("Expression: %s", r->expression),
						 errhint("Write one boolean expression over the row's columns, like a CHECK constraint (no sub-queries or aggregates).")));
			}
			PG_END_TRY();
			break;
	}
	r->cxt = qs->cxt;
	r->sample_tids = palloc(sizeof(uint64) * Max(qs->sample_limit, 1));
	r->sample_counts = palloc0(sizeof(uint32) * Max(qs->sample_limit, 1));
	MemoryContextSwitchTo(old);
}

/*
 * quality_prepare
 *		Load and compile a resource's rules against its open table.  Rules
 *		are read as the extension owner; compilation (custom expressions
 *		resolve functions and check EXECUTE) runs as the table's owner in a
 *		security-restricted context.  for_trigger: the trigger's rules (a
 *		rule on a dropped column is skipped there, not an error).
 */
static QualityState *
quality_prepare(int64 resource_id, Relation rel, bool for_trigger, MemoryContext cxt)
{
	QualityState *qs = MemoryContextAllocZero(cxt, sizeof(QualityState));
	MemoryContext old;
	PubdataIdentity as;
	int			i;
	TimestampTz now = GetCurrentTimestamp();

	qs->cxt = cxt;
	qs->resource_id = resource_id;
	qs->rel = rel;
	qs->relid = RelationGetRelid(rel);
	qs->for_trigger = for_trigger;
	qs->sample_limit = quality_sample_rows;
	qs->now = now;
	qs->localnow = pubdata_local_timestamp(now);
	qs->today = pubdata_local_date(now);

	if (!for_trigger && rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("quality of \"%s\" cannot be measured: it is not a table or materialized view",
						RelationGetRelationName(rel)),
				 errdetail("Quality rules are measured by one scan of the table's own storage."),
				 errhint("Set the rules on the resources of the tables it reads (for a partitioned table, its partitions).")));

	pubdata_become(&as, pubdata_extension_owner(), 0);
	load_rules(qs);
	pubdata_restore(&as);

	old = MemoryContextSwitchTo(cxt);
	qs->estate = CreateExecutorState();
	qs->econtext = GetPerTupleExprContext(qs->estate);
	MemoryContextSwitchTo(old);

	pubdata_become(&as, rel->rd_rel->relowner, PUBDATA_AS_RESTRICTED);
	for (i = 0; i < qs->nrules; i++)
		compile_rule(qs, &qs->rules[i]);
	pubdata_restore(&as);
	return qs;
}

/*
 * value_text
 *		The bytes of a value as text: directly for text types (trailing
 *		blanks of char(n) ignored), through the output function otherwise.
 *		Allocates in the current (per-tuple) context.
 */
static inline const char *
value_text(QualityRule *r, Datum d, int *len)
{
	if (likely(r->varlena_text))
		return datum_bytes(d, r->is_bpchar, len);
	else
	{
		char	   *s = OutputFunctionCall(&r->outfn, d);

		*len = strlen(s);
		return s;
	}
}

/*
 * key_hash
 *		64-bit hash of a rule's key columns; false when any of them is null
 *		(a null key is not a duplicate and references nothing, as in SQL).
 */
static inline bool
key_hash(QualityRule *r, Datum *values, bool *nulls, uint64 *hash)
{
	uint64		h = 0;
	int			j;

	for (j = 0; j < r->nitems; j++)
	{
		AttrNumber	a = r->attnums[j] - 1;
		uint64		hj;

		if (nulls[a])
			return false;
		hj = item_hash(r, j, values[a]);
		h = (j == 0) ? hj : hash_combine64(h, hj);
	}
	*hash = h;
	return true;
}

/*
 * pattern_memo_key
 *		The memo tag of a value: for fewer than 16 bytes the value itself in
 *		two words, exactly (8-15 bytes: its first and last 8 bytes; 4-7: its
 *		first and last 4; 1-3: its first, middle and last byte; with the
 *		length these determine the value), read by word loads and no byte
 *		stores; for longer values their 64-bit hash.  tag: 0x80 | length
 *		code (0-15, or 0x20 for a hash).
 */
static inline void
pattern_memo_key(const char *s, int len, uint64 *w0, uint64 *w1, uint8 *tag)
{
	uint32		a,
				b;

	if (len >= 16)
	{
		*w0 = hash_bytes_extended((const unsigned char *) s, len, 0);
		*w1 = 0;
		*tag = 0x80 | 0x20;
		return;
	}
	*tag = 0x80 | len;
	if (len >= 8)
	{
		memcpy(w0, s, 8);
		memcpy(w1, s + len - 8, 8);
	}
	else if (len >= 4)
	{
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		*w0 = ((uint64) a << 32) | b;
		*w1 = 0;
	}
	else if (len > 0)
	{
		*w0 = ((uint64) (unsigned char) s[0] << 16) |
			((uint64) (unsigned char) s[len >> 1] << 8) |
			(unsigned char) s[len - 1];
		*w1 = 0;
	}
	else
	{
		*w0 = 0;
		*w1 = 0;
	}
}

/*
 * row_ok
 *		Whether a row passes a row rule.  Nulls pass every rule but not_null.
 *		Unique is not a row rule and passes here; reference must have its
 *		set loaded (the trigger checks references itself).
 */
static pg_attribute_always_inline bool
row_ok(QualityState *qs, QualityRule *r, TupleTableSlot *slot)
{
	Datum	   *values = slot->tts_values;
	bool	   *nulls = slot->tts_isnull;
	AttrNumber	a = r->nitems > 0 ? r->attnums[0] - 1 : 0;
	const char *s;
	int			len;
	int			j;

	switch (r->kind)
	{
		case QK_NOT_NULL:
			for (j = 0; j < r->nitems; j++)
				if (nulls[r->attnums[j] - 1])
					return false;
			return true;

		case QK_PATTERN:
			if (nulls[a])
				return true;
			{
				uint64		w0,
							w1;
				uint8		tag;
				uint32		slotno;
				bool		ok;

				s = value_text(r, values[a], &len);
				pattern_memo_key(s, len, &w0, &w1, &tag);
				slotno = (uint32) ((w0 * UINT64CONST(0x9E3779B97F4A7C15) ^
									(w1 + tag) * UINT64CONST(0xC2B2AE3D27D4EB4F)) >> 52) &
					(PATTERN_MEMO_SIZE - 1);
				if (likely(r->memo_tag[2 * slotno] == w0 && r->memo_tag[2 * slotno + 1] == w1 &&
						   (r->memo_state[slotno] & 0xBF) == tag))
					return (r->memo_state[slotno] & 0x40) != 0;
				ok = RE_compile_and_execute(r->regex, (char *) s, len, REG_ADVANCED,
											r->collation, 0, NULL);
				r->memo_tag[2 * slotno] = w0;
				r->memo_tag[2 * slotno + 1] = w1;
				r->memo_state[slotno] = tag | (ok ? 0x40 : 0);
				return ok;
			}

		case QK_ID_CARD:
			if (nulls[a])
				return true;
			s = value_text(r, values[a], &len);
			return pubdata_id_card_ok(s, len, qs->today);

		case QK_USCC:
			if (nulls[a])
				return true;
			s = value_text(r, values[a], &len);
			return pubdata_uscc_ok(s, len);

		case QK_MOBILE:
			if (nulls[a])
				return true;
			s = value_text(r, values[a], &len);
			return pubdata_mobile_ok(s, len);

		case QK_RANGE:
			if (nulls[a])
				return true;
			if (r->intlen)
			{
				int64		v = datum_int(r->intlen, values[a]);

				return !((r->has_min && v < r->min_int) || (r->has_max && v > r->max_int));
			}
			if (r->has_min &&
				DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, values[a], r->min)) < 0)
				return false;
			if (r->has_max &&
				DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, values[a], r->max)) > 0)
				return false;
			return true;

		case QK_ALLOWED_VALUES:
			if (nulls[a])
				return true;
			if (r->intlen)
			{
				int64		v = datum_int(r->intlen, values[a]);

				for (j = 0; j < r->nvalues; j++)
					if (v == r->values_int[j])
						return true;
				return false;
			}
			if (r->bytes_eq)
			{
				s = datum_bytes(values[a], r->is_bpchar, &len);
				for (j = 0; j < r->nvalues; j++)
					if (len == r->value_lens[j] &&
						(len == 0 || (s[0] == r->value_bytes[j][0] &&
									  (len == 1 ||
									   memcmp(s + 1, r->value_bytes[j] + 1, len - 1) == 0))))
						return true;
				return false;
			}
			for (j = 0; j < r->nvalues; j++)
			{
				if (r->has_eq ?
					DatumGetBool(FunctionCall2Coll(&r->eqfn, r->collation, values[a], r->values[j])) :
					DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, values[a], r->values[j])) == 0)
					return true;
			}
			return false;

		case QK_DATE_NOT_FUTURE:
			if (nulls[a])
				return true;
			if (r->typid == DATEOID)
				return DatumGetDateADT(values[a]) <= qs->today;
			if (r->typid == TIMESTAMPOID)
				return DatumGetTimestamp(values[a]) <= qs->localnow;
			return DatumGetTimestampTz(values[a]) <= qs->now;

		case QK_REFERENCE:
			{
				uint64		h;

				if (!key_hash(r, values, nulls, &h))
					return true;
				return u64set_lookup(r->set, h) != NULL;
			}

		case QK_CUSTOM:
			{
				bool		isnull;
				Datum		d;

				qs->econtext->ecxt_scantuple = slot;
				d = ExecEvalExprSwitchContext(r->exprstate, qs->econtext, &isnull);
				return isnull || DatumGetBool(d);
			}

		case QK_UNIQUE:
		case QK_FRESHNESS:
			return true;
	}
	return true;
}

/*
 * pack_tid / unpack_tid
 *		A tid as one 64-bit integer that sorts in physical order.
 */
static inline uint64
pack_tid(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumber(tid) << 16) | ItemPointerGetOffsetNumber(tid);
}

static inline void
unpack_tid(uint64 v, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (v >> 16), (OffsetNumber) (v & 0xFFFF));
}

/*
 * add_sample
 *		Keep a failing row's tid: the first ones seen in scan order, or, when
 *		ordered is false (duplicates found after the scan), the smallest.
 */
static void
add_sample(QualityState *qs, QualityRule *r, uint64 tid, uint32 count)
{
	int			i;

	if (qs->sample_limit == 0)
		return;
	if (r->nsamples == qs->sample_limit && tid > r->sample_tids[r->nsamples - 1])
		return;
	i = (r->nsamples < qs->sample_limit) ? r->nsamples++ : r->nsamples - 1;
	while (i > 0 && r->sample_tids[i - 1] > tid)
	{
		r->sample_tids[i] = r->sample_tids[i - 1];
		r->sample_counts[i] = r->sample_counts[i - 1];
		i--;
	}
	r->sample_tids[i] = tid;
	r->sample_counts[i] = count;
}

/*
 * ut_home
 *		The first slot to probe for a key hash: its high bits scaled to the
 *		table's size (no power of 2 needed, so the table is sized closer to
 *		the keys it holds).
 */
static inline uint64
ut_home(uint64 h, uint64 size)
{
#ifdef HAVE_INT128
	return (uint64) (((uint128) h * size) >> 64);
#else
	return h % size;
#endif
}

/*
 * ut_alloc
 *		Zeroed slots for a unique table of a given size:
 *		fresh anonymous memory (zero pages, no memset), on huge pages where
 *		the system allows it (a table larger than the CPU caches is read at
 *		random: with 4 kB pages nearly every key would also miss the TLB).
 */
static uint64 *
ut_alloc(UniqueTable *t, uint64 size)
{
	size_t		bytes = size * 2 * sizeof(uint64);
	size_t		huge = 2 * 1024 * 1024;
	size_t		len = bytes >= huge ? bytes + huge : bytes;
	char	   *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char	   *p;

	if (base == MAP_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on a request of size %zu for a uniqueness check.", bytes)));
	p = base;
	if (bytes >= huge)
	{
		p = (char *) TYPEALIGN(huge, base);
#ifdef MADV_HUGEPAGE
		(void) madvise(p, bytes, MADV_HUGEPAGE);
#endif
	}
	t->base = base;
	t->len = len;
	return (uint64 *) p;
}

/*
 * ut_free
 *		Release a unique table's slots; also its memory context's callback,
 *		so that they are released on error as well.
 */
static void
ut_free(void *arg)
{
	UniqueTable *t = (UniqueTable *) arg;

	if (t->base)
		munmap(t->base, t->len);
	t->base = NULL;
	t->slots = NULL;
}

/*
 * ut_resize
 *		Set a unique table to a size and its growth point: 3/4 full (linear
 *		probing stays short), where it grows, or, at the largest size the
 *		memory budget allows, from where new keys spill.
 */
static void
ut_resize(UniqueTable *t, uint64 size)
{
	uint64	   *old = t->slots;
	uint64		oldsize = old ? t->size : 0;
	void	   *oldbase = t->base;
	size_t		oldlen = t->len;
	uint64	   *slots = ut_alloc(t, size);
	uint64		i;

	for (i = 0; i < oldsize; i++)
	{
		uint64		k = old[2 * i];
		uint64		p;

		if (k == 0)
			continue;
		for (p = ut_home(k, size); slots[2 * p] != 0; p = (p + 1 == size) ? 0 : p + 1)
			;
		slots[2 * p] = k;
		slots[2 * p + 1] = old[2 * i + 1];
	}
	t->slots = slots;
	t->size = size;
	t->grow_at = size / 4 * 3;
	t->full = false;
	if (oldbase)
		munmap(oldbase, oldlen);
}

/*
 * unique_setup
 *		Size a unique rule's in-memory table: its share of hash_mem, at 16
 *		bytes a slot (and 1 for the list of duplicated keys), never grown
 *		past it; first sized for the planner's estimate of the rows.
 */
static void
unique_setup(QualityState *qs, QualityRule *r, int nunique)
{
	size_t		budget = get_hash_memory_limit() / Max(nunique, 1);
	/* 16 bytes a slot, and at most 1 for the list of duplicated keys */
	uint64		max_size = Max(budget / (2 * sizeof(uint64) + 1), 1024);
	double		expected = qs->rel->rd_rel->reltuples;
	uint64		size;
	UniqueTable *t = MemoryContextAllocZero(qs->cxt, sizeof(UniqueTable));

	/* room for the expected keys at 3/4 full, and 1/8 more for growth */
	if (expected < 1024)
		expected = 1024;
	size = (uint64) Min(expected * 1.5, (double) max_size);
	t->max_size = max_size;
	t->cb.func = ut_free;
	t->cb.arg = t;
	MemoryContextRegisterResetCallback(qs->cxt, &t->cb);
	ut_resize(t, size);
	t->overflow = u64set_create(qs->cxt, 16, NULL);
	t->cxt = qs->cxt;
	t->maxdups = Max(max_size / 8, 1024);
	t->dups = MemoryContextAllocHuge(qs->cxt, sizeof(uint64) * 1024);
	r->ut = t;
}

/*
 * unique_spill
 *		A key that does not fit in memory: to the tuplesort of (hash, tid).
 */
static void
unique_spill(QualityRule *r, uint64 h, uint64 tid)
{
	if (r->spill == NULL)
	{
		/* in the rule's context: the scan loop runs in the per-tuple one */
		MemoryContext old = MemoryContextSwitchTo(r->cxt);
		TupleDesc	td = CreateTemplateTupleDesc(2);
		AttrNumber	cols[2] = {1, 2};
		Oid			ops[2] = {Int8LessOperator, Int8LessOperator};
		Oid			colls[2] = {InvalidOid, InvalidOid};
		bool		nf[2] = {false, false};

		TupleDescInitEntry(td, 1, "hash", INT8OID, -1, 0);
		TupleDescInitEntry(td, 2, "tid", INT8OID, -1, 0);
		r->spill = tuplesort_begin_heap(td, 2, cols, ops, colls, nf, work_mem, NULL, TUPLESORT_NONE);
		r->spillslot = MakeSingleTupleTableSlot(td, &TTSOpsMinimalTuple);
		MemoryContextSwitchTo(old);
	}
	ExecClearTuple(r->spillslot);
	r->spillslot->tts_values[0] = Int64GetDatum((int64) h);
	r->spillslot->tts_values[1] = Int64GetDatum((int64) tid);
	r->spillslot->tts_isnull[0] = false;
	r->spillslot->tts_isnull[1] = false;
	ExecStoreVirtualTuple(r->spillslot);
	tuplesort_puttupleslot(r->spill, r->spillslot);
}

/*
 * ut_note_dup
 *		Remember a key that has just been seen a second time; past maxdups
 *		such keys, forget them all (the end then visits every slot).
 */
static void
ut_note_dup(UniqueTable *t, uint64 h)
{
	if (t->dups == NULL)
		return;
	if (t->ndups == t->maxdups)
	{
		pfree(t->dups);
		t->dups = NULL;
		return;
	}
	if (t->ndups > 0 && (t->ndups & (t->ndups - 1)) == 0 && t->ndups >= 1024)
		t->dups = repalloc_huge(t->dups, sizeof(uint64) * Min(t->ndups * 2, t->maxdups));
	t->dups[t->ndups++] = h;
}

/*
 * ut_find
 *		The value of a key in the table (which holds it).
 */
static uint64
ut_find(UniqueTable *t, uint64 h)
{
	uint64		p;

	for (p = ut_home(h, t->size); t->slots[2 * p] != h; p = (p + 1 == t->size) ? 0 : p + 1)
		Assert(t->slots[2 * p] != 0);
	return t->slots[2 * p + 1];
}

/*
 * unique_add
 *		Count one key: in memory when it is there or fits, else spilled.
 */
static inline void
unique_add(QualityRule *r, uint64 h, uint64 tid)
{
	UniqueTable *t = r->ut;
	uint64		p;

	if (unlikely(h == 0))
	{
		/* the empty-slot marker: kept aside */
		if (!t->has_zero)
		{
			t->has_zero = true;
			t->zero_val = (tid << 16) | 1;
		}
		else if ((t->zero_val & UT_COUNT_MAX) < UT_COUNT_MAX)
			t->zero_val++;
		else
		{
			bool		found;
			U64Entry   *e = u64set_insert(t->overflow, h, &found);

			e->first = found ? e->first + 1 : 1;
		}
		return;
	}
	for (;;)
	{
		for (p = ut_home(h, t->size);; p = (p + 1 == t->size) ? 0 : p + 1)
		{
			uint64	   *slot = &t->slots[2 * p];

			if (slot[0] == h)
			{
				if ((slot[1] & UT_COUNT_MAX) == 1)
					ut_note_dup(t, h);
				if ((slot[1] & UT_COUNT_MAX) < UT_COUNT_MAX)
					slot[1]++;
				else
				{
					bool		found;
					U64Entry   *e = u64set_insert(t->overflow, h, &found);

					e->first = found ? e->first + 1 : 1;
				}
				return;
			}
			if (slot[0] == 0)
			{
				if (likely(t->members < t->grow_at))
				{
					slot[0] = h;
					slot[1] = (tid << 16) | 1;
					t->members++;
					return;
				}
				break;
			}
		}
		/* the key is new and the table at its growth point */
		if (t->size < t->max_size)
		{
			ut_resize(t, Min(t->size * 2, t->max_size));
			continue;
		}
		t->full = true;
		unique_spill(r, h, tid);
		return;
	}
}

/*
 * unique_push
 *		Queue a key for unique_add, its bucket prefetched now; add the key
 *		queued UNIQUE_RING keys ago.
 */
static inline void
unique_push(QualityRule *r, uint64 h, uint64 tid)
{
	int			pos = r->ringpos;

	if (r->nring == UNIQUE_RING)
		unique_add(r, r->ring_hash[pos], r->ring_tid[pos]);
	else
		r->nring++;
	r->ring_hash[pos] = h;
	r->ring_tid[pos] = tid;
	r->ringpos = (pos + 1) & (UNIQUE_RING - 1);
	__builtin_prefetch(&r->ut->slots[2 * ut_home(h, r->ut->size)], 1);
}

/*
 * unique_flush
 *		Add the queued keys, oldest first.
 */
static void
unique_flush(QualityRule *r)
{
	int			pos = (r->ringpos - r->nring + UNIQUE_RING) & (UNIQUE_RING - 1);

	while (r->nring > 0)
	{
		unique_add(r, r->ring_hash[pos], r->ring_tid[pos]);
		pos = (pos + 1) & (UNIQUE_RING - 1);
		r->nring--;
	}
	r->ringpos = 0;
}

/*
 * unique_count
 *		Count and sample one key of the in-memory table.
 */
static void
unique_count(QualityState *qs, QualityRule *r, uint64 h, uint64 val)
{
	uint64		count = val & UT_COUNT_MAX;

	if (count == UT_COUNT_MAX)
	{
		U64Entry   *e = u64set_lookup(r->ut->overflow, h);

		if (e)
			count += e->first;
	}
	if (count > 1)
	{
		r->failed += count;
		add_sample(qs, r, val >> 16, (uint32) Min(count, PG_UINT32_MAX));
	}
}

/*
 * unique_finish
 *		Count the rows whose key occurs more than once, in memory and in the
 *		sorted spill, and keep the first row of each duplicated key.
 */
static void
unique_finish(QualityState *qs, QualityRule *r)
{
	UniqueTable *t = r->ut;
	uint64		i;

	unique_flush(r);
	if (t->has_zero)
		unique_count(qs, r, 0, t->zero_val);
	if (t->dups)
	{
		/* only the keys seen more than once */
		for (i = 0; i < t->ndups; i++)
			unique_count(qs, r, t->dups[i], ut_find(t, t->dups[i]));
	}
	else
	{
		for (i = 0; i < t->size; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			if (t->slots[2 * i] != 0)
				unique_count(qs, r, t->slots[2 * i], t->slots[2 * i + 1]);
		}
	}
	ut_free(t);
	if (r->spill)
	{
		uint64		cur = 0,
					first = 0;
		uint32		count = 0;

		tuplesort_performsort(r->spill);
		while (tuplesort_gettupleslot(r->spill, true, false, r->spillslot, NULL))
		{
			bool		isnull;
			uint64		h = (uint64) DatumGetInt64(slot_getattr(r->spillslot, 1, &isnull));
			uint64		tid = (uint64) DatumGetInt64(slot_getattr(r->spillslot, 2, &isnull));

			CHECK_FOR_INTERRUPTS();
			if (count > 0 && h == cur)
			{
				count++;
				continue;
			}
			if (count > 1)
			{
				r->failed += count;
				add_sample(qs, r, first, count);
			}
			cur = h;
			first = tid;
			count = 1;
		}
		if (count > 1)
		{
			r->failed += count;
			add_sample(qs, r, first, count);
		}
		tuplesort_end(r->spill);
		r->spill = NULL;
	}
}

/*
 * reference_load_by_query
 *		Read a referenced column that has no heap of its own (a view, a
 *		partitioned or a foreign table) by a query, in batches through a
 *		cursor, as the relation's owner (so row-level security does not hide
 *		values, and nothing in a view runs with more than its owner's
 *		privileges).  Names are quoted; there are no values in the query.
 */
static void
reference_load_by_query(QualityState *qs, QualityRule *r, Relation ref)
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
			bool		found;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				(void) u64set_insert(r->set, item_hash(r, 0, d), &found);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	pubdata_restore(&as);
}

/*
 * reference_load
 *		Read the referenced column once into a hash set of its values' hashes
 *		(hashed with the referencing column's hash function: the types are
 *		the same).  Read through the table access method: row-level security
 *		of the referenced table does not hide values from the check.
 */
static void
reference_load(QualityState *qs, QualityRule *r)
{
	Relation	ref = table_open(r->ref_relid, AccessShareLock);
	TableScanDesc scan;
	TupleTableSlot *slot;
	ExprContext *econtext = qs->econtext;

	r->set = u64set_create(qs->cxt, 1024, NULL);
	if (ref->rd_rel->relkind != RELKIND_RELATION && ref->rd_rel->relkind != RELKIND_MATVIEW)
	{
		/* a view, partitioned or foreign table: read it by query */
		reference_load_by_query(qs, r, ref);
		table_close(ref, AccessShareLock);
		return;
	}
	slot = table_slot_create(ref, NULL);
	scan = table_beginscan_strat(ref, GetActiveSnapshot(), 0, NULL, true, false);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d;
		bool		found;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		d = slot_getattr(slot, r->ref_attnum, &isnull);
		if (isnull)
			continue;
		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		(void) u64set_insert(r->set, item_hash(r, 0, d), &found);
		MemoryContextSwitchTo(old);
		ResetExprContext(econtext);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(ref, AccessShareLock);
}

/*
 * quality_scan
 *		The one scan: every rule on every row.  Returns the rows scanned.
 *		Runs as the table's owner in a security-restricted context.
 */
static int64
quality_scan(QualityState *qs)
{
	TableScanDesc scan;
	TupleTableSlot *slot = table_slot_create(qs->rel, NULL);
	ExprContext *econtext = qs->econtext;
	int64		nrows = 0;
	int			nunique = 0;
	int			i;

	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			nunique++;
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->kind == QK_UNIQUE)
			unique_setup(qs, r, nunique);
		else if (r->kind == QK_REFERENCE)
			reference_load(qs, r);
	}

	/* no synchronized scan: samples are then the first failing rows */
	scan = table_beginscan_strat(qs->rel, GetActiveSnapshot(), 0, NULL, true, false);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;
		uint64		tid;

		CHECK_FOR_INTERRUPTS();
		nrows++;
		if (qs->maxattr > 0)
			slot_getsomeattrs(slot, qs->maxattr);
		tid = pack_tid(&slot->tts_tid);
		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		for (i = 0; i < qs->nrules; i++)
		{
			QualityRule *r = &qs->rules[i];

			if (r->kind == QK_UNIQUE)
			{
				uint64		h;

				if (key_hash(r, slot->tts_values, slot->tts_isnull, &h))
					unique_push(r, h, tid);
			}
			else if (r->kind == QK_FRESHNESS)
			{
				AttrNumber	a;

				if (r->nitems == 0)
					continue;
				a = r->attnums[0] - 1;
				if (slot->tts_isnull[a])
					continue;
				if (!r->has_newest ||
					DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation,
													slot->tts_values[a], r->newest)) > 0)
				{
					r->newest = slot->tts_values[a];	/* date or timestamp: by value */
					r->has_newest = true;
				}
			}
			else if (!row_ok(qs, r, slot))
			{
				r->failed++;
				if (r->nsamples < qs->sample_limit)
					r->sample_tids[r->nsamples++] = tid;
			}
		}
		MemoryContextSwitchTo(old);
		/* most rules allocate nothing: reset only when something was */
		if (!econtext->ecxt_per_tuple_memory->isReset)
			ResetExprContext(econtext);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);

	for (i = 0; i < qs->nrules; i++)
		if (qs->rules[i].kind == QK_UNIQUE)
			unique_finish(qs, &qs->rules[i]);
	return nrows;
}

/*
 * append_json_value
 *		"name": value of an attribute, as a JSON string (or null).
 */
static void
append_json_value(StringInfo buf, TupleDesc td, TupleTableSlot *slot, AttrNumber attnum, bool *first)
{
	Form_pg_attribute att = TupleDescAttr(td, attnum - 1);

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
 * row_json
 *		A row as the samples show it: its key items (or its ctid when the
 *		resource has none and the row has one), then the rule's items.
 */
static void
row_json(QualityState *qs, QualityRule *r, TupleTableSlot *slot, StringInfo buf, uint32 dupcount)
{
	TupleDesc	td = RelationGetDescr(qs->rel);
	bool		first = true;
	int			i,
				j;

	slot_getallattrs(slot);
	appendStringInfoChar(buf, '{');
	if (qs->nkeys == 0 && ItemPointerIsValid(&slot->tts_tid))
	{
		escape_json(buf, "ctid");
		appendStringInfo(buf, ":\"(%u,%u)\"",
						 ItemPointerGetBlockNumber(&slot->tts_tid),
						 ItemPointerGetOffsetNumber(&slot->tts_tid));
		first = false;
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
 *		The sampled failing rows of a rule, read back by tid.
 */
static Datum
samples_json(QualityState *qs, QualityRule *r)
{
	StringInfoData buf;
	TupleTableSlot *slot = table_slot_create(qs->rel, NULL);
	bool		first = true;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < r->nsamples; i++)
	{
		ItemPointerData tid;

		unpack_tid(r->sample_tids[i], &tid);
		if (!table_tuple_fetch_row_version(qs->rel, &tid, GetActiveSnapshot(), slot))
			continue;
		if (!first)
			appendStringInfoChar(&buf, ',');
		first = false;
		row_json(qs, r, slot, &buf, r->kind == QK_UNIQUE ? r->sample_counts[i] : 0);
	}
	appendStringInfoChar(&buf, ']');
	ExecDropSingleTupleTableSlot(slot);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * resource_relid
 *		The table of a resource, or a clear error.
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
				 errhint("Quality rules check a registered table.")));
	return relid;
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
	int64		resource_id = PG_GETARG_INT64(0);
	Relation	rel = table_open(resource_relid(resource_id), AccessShareLock);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pubdata quality", ALLOCSET_DEFAULT_SIZES);

	(void) quality_prepare(resource_id, rel, false, cxt);
	table_close(rel, AccessShareLock);
	MemoryContextDelete(cxt);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pubdata_quality_scan);

/*
 * pubdata._quality_scan(resource bigint) returns setof (rule_id, rows_checked,
 *		rows_failed, samples, newest)
 *		Evaluate every rule in one scan; one row per rule and a last row with
 *		rule_id NULL giving the rows scanned.  Called by measure_quality.
 */
Datum
pubdata_quality_scan(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	MemoryContext cxt;
	QualityState *qs;
	PubdataIdentity as;
	int64		nrows;
	bool		audited;
	int			i;
	Datum		values[5];
	bool		nulls[5];

	InitMaterializedSRF(fcinfo, 0);
	rel = table_open(resource_relid(resource_id), AccessShareLock);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "pubdata quality", ALLOCSET_DEFAULT_SIZES);
	qs = quality_prepare(resource_id, rel, false, cxt);

	/*
	 * A measurement reads every row and keeps samples: when someone other
	 * than the provider (the bureau) measures a restricted or non-shared
	 * resource, the access audit records it like any other read, and
	 * without the audit (not preloaded) it is not made at all.
	 */
	audited = strcmp(qs->share_class, "unconditional") != 0 &&
		qs->caller_dept_id != qs->provider_id;
	if (audited)
		pubdata_require_preload("a quality measurement of a restricted or non-shared resource by another department than its provider (it is audited)");

	pubdata_become(&as, rel->rd_rel->relowner, PUBDATA_AS_RESTRICTED);
	nrows = quality_scan(qs);
	pubdata_restore(&as);

	if (audited)
	{
		PubdataAccess a;

		memset(&a, 0, sizeof(a));
		a.role_name = GetUserNameFromId(pubdata_caller_id(), true);
		a.department_id = qs->caller_dept_id;
		a.department_code = qs->caller_dept_code;
		a.resources = qs->resource_code;
		a.purpose = "quality measurement";
		a.command = "QUALITY";
		a.rows = nrows;
		pubdata_audit_record(&a);
	}

	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		memset(nulls, false, sizeof(nulls));
		values[0] = Int64GetDatum(r->id);
		values[1] = Int64GetDatum(r->kind == QK_FRESHNESS ? 0 : nrows);
		values[2] = Int64GetDatum(r->failed);
		values[3] = samples_json(qs, r);
		if (r->kind == QK_FRESHNESS && r->has_newest)
			values[4] = r->typid == DATEOID ? DirectFunctionCall1(date_timestamptz, r->newest) :
				r->typid == TIMESTAMPOID ? DirectFunctionCall1(timestamp_timestamptz, r->newest) :
				r->newest;
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	memset(nulls, true, sizeof(nulls));
	nulls[1] = false;
	values[1] = Int64GetDatum(nrows);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	FreeExecutorState(qs->estate);
	table_close(rel, AccessShareLock);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/*
 * Trigger: rules compiled once per statement (the trigger's FmgrInfo lives
 * as long as the statement) and applied to each new row.
 */
typedef struct TriggerCache
{
	QualityState *qs;			/* NULL when the table is no resource */
	TupleTableSlot *slot;
	char	   *rolname;
} TriggerCache;

/*
 * trigger_reference_ok
 *		Whether a value is present in the referenced column: one indexed
 *		lookup, as the referenced relation's owner (row-level security does
 *		not apply to it).
 */
static bool
trigger_reference_ok(QualityRule *r, Datum value)
{
	StringInfoData sql;
	Oid			argtypes[1];
	Datum		args[1];
	bool		found;
	PubdataIdentity as;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT 1 FROM ONLY %s.%s WHERE %s OPERATOR(pg_catalog.=) $1 LIMIT 1",
					 quote_identifier(get_namespace_name(get_rel_namespace(r->ref_relid))),
					 quote_identifier(get_rel_name(r->ref_relid)),
					 quote_identifier(r->ref_colname));
	argtypes[0] = r->typid;
	args[0] = value;
	/* as the referenced relation's owner, restricted (see reference_load_by_query) */
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

/*
 * record_flag
 *		Record a failing row in pubdata.quality_flag, as the extension owner.
 */
static void
record_flag(QualityState *qs, QualityRule *r, const char *op, const char *rolname, const char *row)
{
	Oid			argtypes[5] = {INT8OID, INT8OID, TEXTOID, NAMEOID, TEXTOID};
	Datum		args[5];
	PubdataIdentity as;

	args[0] = Int64GetDatum(qs->resource_id);
	args[1] = Int64GetDatum(r->id);
	args[2] = CStringGetTextDatum(op);
	args[3] = DirectFunctionCall1(namein, CStringGetDatum(rolname));
	args[4] = CStringGetTextDatum(row);
	pubdata_become(&as, pubdata_extension_owner(), 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("INSERT INTO pubdata.quality_flag (resource_id, rule_id, operation, role_name, row_data) "
							  "VALUES ($1, $2, $3, $4, $5::jsonb)",
							  5, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record the flagged row");
	SPI_finish();
	pubdata_restore(&as);
}

/*
 * failing_value
 *		The first item's value of a failing row, for messages.
 */
static const char *
failing_value(QualityRule *r, TupleTableSlot *slot)
{
	AttrNumber	a;
	Oid			outfn;
	bool		isvarlena;

	if (r->nitems == 0)
		return NULL;
	a = r->attnums[0];
	if (slot->tts_isnull[a - 1])
		return "NULL";
	getTypeOutputInfo(TupleDescAttr(slot->tts_tupleDescriptor, a - 1)->atttypid, &outfn, &isvarlena);
	return OidOutputFunctionCall(outfn, slot->tts_values[a - 1]);
}

PG_FUNCTION_INFO_V1(pubdata_quality_check_trigger);

/*
 * pubdata.quality_check_trigger()
 *		BEFORE INSERT OR UPDATE FOR EACH ROW: apply the resource's row rules
 *		to the new row.  reject raises ERRCODE_CHECK_VIOLATION naming the
 *		rule and the value; flag records the row in pubdata.quality_flag;
 *		warn raises a WARNING.  Unique and freshness are not row rules (use a
 *		unique index for the first).  Expressions run as the table's owner in
 *		a security-restricted context, whoever inserts.
 */
Datum
pubdata_quality_check_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TriggerCache *tc;
	HeapTuple	newtup;
	QualityState *qs;
	PubdataIdentity as;
	int			i;
	bool	   *failed;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pubdata.quality_check_trigger() must be called as a trigger")));
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pubdata.quality_check_trigger() must be a BEFORE INSERT OR UPDATE row trigger"),
				 errhint("Install it with pubdata.enable_quality_trigger(resource).")));
	newtup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	op = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" : "INSERT";

	tc = (TriggerCache *) fcinfo->flinfo->fn_extra;
	if (tc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		Oid			argtypes[1] = {OIDOID};
		Datum		args[1];
		int64		resource_id = 0;
		bool		found = false;

		tc = palloc0(sizeof(TriggerCache));
		tc->rolname = pstrdup(GetUserNameFromId(GetUserId(), false));
		args[0] = ObjectIdGetDatum(RelationGetRelid(td->tg_relation));
		pubdata_become(&as, pubdata_extension_owner(), 0);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args("SELECT r.id FROM pubdata.resource r WHERE r.relation::oid = $1",
								  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			bool		isnull;

			resource_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			found = true;
		}
		SPI_finish();
		pubdata_restore(&as);
		MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		if (found)
		{
			tc->qs = quality_prepare(resource_id, td->tg_relation, true, fcinfo->flinfo->fn_mcxt);
			/* a copy of the descriptor: the cache outlives no pin */
			tc->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(td->tg_relation)),
												&TTSOpsHeapTuple);
		}
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tc;
	}
	qs = tc->qs;
	if (qs == NULL || qs->nrules == 0)
		return PointerGetDatum(newtup);

	ExecStoreHeapTuple(newtup, tc->slot, false);
	slot_getallattrs(tc->slot);
	qs->now = GetCurrentTimestamp();
	qs->localnow = pubdata_local_timestamp(qs->now);
	qs->today = pubdata_local_date(qs->now);
	failed = palloc0(sizeof(bool) * qs->nrules);

	/* references: one lookup each, as the extension owner */
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];
		AttrNumber	a;

		if (r->kind != QK_REFERENCE || r->skip)
			continue;
		a = r->attnums[0] - 1;
		if (!tc->slot->tts_isnull[a])
			failed[i] = !trigger_reference_ok(r, tc->slot->tts_values[a]);
	}
	/* the other row rules, as the table's owner */
	pubdata_become(&as, td->tg_relation->rd_rel->relowner, PUBDATA_AS_RESTRICTED);
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->kind == QK_REFERENCE || r->kind == QK_UNIQUE || r->kind == QK_FRESHNESS || r->skip)
			continue;
		failed[i] = !row_ok(qs, r, tc->slot);
		ResetExprContext(qs->econtext);
	}
	pubdata_restore(&as);

	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];
		const char *val;

		if (!failed[i] || r->action != QA_REJECT)
			continue;
		val = failing_value(r, tc->slot);
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("new row for resource \"%s\" violates quality rule %lld (%s)",
						qs->resource_code, (long long) r->id, kind_names[r->kind]),
				 r->kind == QK_CUSTOM ?
				 errdetail("Expression (%s) is false for the row.", r->expression) :
				 errdetail("Column \"%s\" has value \"%s\".", r->itemnames[0], val),
				 errhint("Correct the value; the rule's action is reject.")));
	}
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];
		const char *val;

		if (!failed[i])
			continue;
		val = failing_value(r, tc->slot);
		if (r->action == QA_WARN)
			ereport(WARNING,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("new row for resource \"%s\" violates quality rule %lld (%s)",
							qs->resource_code, (long long) r->id, kind_names[r->kind]),
					 r->kind == QK_CUSTOM ?
					 errdetail("Expression (%s) is false for the row.", r->expression) :
					 errdetail("Column \"%s\" has value \"%s\".", r->itemnames[0], val)));
		else if (r->action == QA_FLAG)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			ItemPointerSetInvalid(&tc->slot->tts_tid);
			row_json(qs, r, tc->slot, &buf, 0);
			record_flag(qs, r, op, tc->rolname, buf.data);
		}
	}
	pfree(failed);
	return PointerGetDatum(newtup);
}
