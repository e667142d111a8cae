/*-------------------------------------------------------------------------
 *
 * quality_rules.c
 *	  A resource's quality rules: read from pubdata.quality_rule and
 *	  compiled against its relation, one small function per rule kind.
 *
 * Rules are read as the extension owner; they are compiled (regular
 * expressions, bounds read with the type's input function, custom
 * expressions transformed and planned) as the relation's owner in a
 * security-restricted operation: a department's types, functions and
 * operators never run with more rights than the department has.  Every
 * error names the rule, so that add_quality_rule reports a bad rule at once
 * and a measurement says which stored rule no longer fits the table.
 *
 * A parallel measurement's workers get the rules as they were read
 * (quality_rules_serialize) and compile them themselves.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "calendar.h"
#include "identity.h"
#include "local_time.h"
#include "quality.h"
#include "quality_int.h"

#include "catalog/pg_class.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "regex/regex.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

/* what a rule's compiler needs besides the rule: its first item */
typedef void (*CompileKindFn) (QualityState *qs, QualityRule *r, Form_pg_attribute att);

/*
 * kind_from_name
 *		The QualityKind of an enum label.
 */
static QualityKind
kind_from_name(const char *name)
{
	int			i;

	for (i = 0; quality_kind_names[i]; i++)
		if (strcmp(quality_kind_names[i], name) == 0)
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
 * load_resource
 *		The resource's code, share class and provider, and the caller's
 *		department, into qs.
 */
static void
load_resource(QualityState *qs, Oid *argtypes, Datum *args)
{
	bool		isnull;
	Datum		d;
	int			ret;

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
	qs->provider_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
	qs->caller_dept_id = isnull ? 0 : DatumGetInt32(d);
	qs->caller_dept_code = spi_text(qs->cxt, 0, 5);
}

/*
 * load_rule_row
 *		One row of the rules query into r.
 */
static void
load_rule_row(QualityState *qs, QualityRule *r, int i)
{
	bool		isnull;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				j;
	char	   *action = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
	Datum		ref;

	r->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	r->kind = kind_from_name(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
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

/*
 * load_rules
 *		Read the resource, its enabled rules and its key items through SPI
 *		into qs (allocated in qs->cxt).  Called as the extension owner.
 *		Items are matched to the relation's columns by name (a partition's
 *		column numbers may differ from its table's).
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
	load_resource(qs, argtypes, args);

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
		load_rule_row(qs, &qs->rules[i], i);

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
 * custom_error_context
 *		"quality rule 12, expression: ..." under any error raised while a
 *		custom expression is parsed or transformed (as COPY says "COPY t,
 *		line 3"), its position moved from the caller's statement, which does
 *		not contain it, to the expression.
 */
static void
custom_error_context(void *arg)
{
	QualityRule *r = (QualityRule *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		/* positions are in "SELECT (<expression>\n)" (pubdata_parse_expression) */
		errposition(0);
		internalerrposition(Max(pos - (int) strlen("SELECT ("), 1));
		internalerrquery(r->expression);
	}
	errcontext("quality rule %lld, expression: %s", (long long) r->id, r->expression);
}

/*
 * compile_custom
 *		Turn a custom rule's expression into an ExprState over the row, as
 *		CHECK constraints are: transformed with the relation as the only
 *		range table entry under EXPR_KIND_CHECK_CONSTRAINT (which forbids
 *		sub-queries, aggregates, window and set-returning functions), coerced
 *		to boolean and planned.  Var nodes then read the scanned row.
 */
static void
compile_custom(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	ErrorContextCallback errcb;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Node	   *raw;
	Node	   *expr;

	if (r->expression == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("custom quality rule %lld has no expression", (long long) r->id)));
	errcb.callback = custom_error_context;
	errcb.arg = r;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	raw = pubdata_parse_expression(r->expression, psprintf("quality rule %lld", (long long) r->id));
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = r->expression;
	nsitem = addRangeTableEntryForRelation(pstate, qs->rel, AccessShareLock, NULL, false, true);
	addNSItemToQuery(pstate, nsitem, true, true, true);
	expr = transformExpr(pstate, raw, EXPR_KIND_CHECK_CONSTRAINT);
	expr = coerce_to_boolean(pstate, expr, "quality rule");
	assign_expr_collations(pstate, expr);
	free_parsestate(pstate);
	r->expr = expression_planner((Expr *) expr);
	r->exprstate = ExecInitExpr(r->expr, NULL);

	error_context_stack = errcb.previous;
	qs->has_custom = true;
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
static int64
datum_int(int intlen, Datum d)
{
	if (intlen == 8)
		return DatumGetInt64(d);
	if (intlen == 4)
		return (int64) DatumGetInt32(d);
	return (int64) DatumGetInt16(d);
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
 * date_rule_is_stale
 *		A freshness or date_not_future rule whose column is no longer a date
 *		or timestamp (its type changed after the rule was added): the rule
 *		trigger skips it (returns true); a measurement fails naming it.
 */
static bool
date_rule_is_stale(QualityState *qs, QualityRule *r)
{
	if (r->typid == DATEOID || r->typid == TIMESTAMPOID || r->typid == TIMESTAMPTZOID)
		return false;
	if (qs->for_trigger)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" checked by %s quality rule %lld is of type %s, not a date or timestamp",
					r->itemnames[0], quality_kind_names[r->kind], (long long) r->id,
					format_type_be(r->typid)),
			 errdetail("The column's type changed after the rule was added."),
			 errhint("Drop the rule with pubdata.drop_quality_rule(%lld), or change the column back to date, timestamp or timestamptz.",
					 (long long) r->id)));
	return false;				/* keep the compiler quiet */
}

/*
 * order_of
 *		The comparison function of the first item's type into r->cmpfn, or
 *		an error naming the rule.
 */
static void
order_of(QualityState *qs, QualityRule *r)
{
	TypeCacheEntry *tce = lookup_type_cache(r->typid, TYPECACHE_CMP_PROC_FINFO);

	if (!OidIsValid(tce->cmp_proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s of column \"%s\" has no ordering for quality rule %lld",
						format_type_be(r->typid), r->itemnames[0], (long long) r->id),
				 errhint("Use a pattern or custom rule for this column.")));
	fmgr_info_copy(&r->cmpfn, &tce->cmp_proc_finfo, qs->cxt);
	/* integers, dates and timestamps order (and equal) as integers */
	r->intlen = int_len_of(r->typid);
}

/* not_null: nothing to prepare */
static void
compile_not_null(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
}

/*
 * compile_text_format
 *		id_card, uscc, mobile (and pattern): read the value's bytes in place
 *		for text types, else through the type's output function.
 */
static void
compile_text_format(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	r->is_bpchar = (r->typid == BPCHAROID);
	r->varlena_text = (r->typid == TEXTOID || r->typid == VARCHAROID || r->is_bpchar);
	if (!r->varlena_text)
	{
		Oid			outfn;
		bool		isvarlena;

		getTypeOutputInfo(r->typid, &outfn, &isvarlena);
		fmgr_info_cxt(outfn, &r->outfn, qs->cxt);
	}
}

/*
 * compile_pattern
 *		The regular expression, compiled now (an invalid one fails here, not
 *		mid-scan), and the memo of recent outcomes.
 */
static void
compile_pattern(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	compile_text_format(qs, r, att);
	if (r->regex_src == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pattern quality rule %lld has no regex", (long long) r->id)));
	r->regex = cstring_to_text(r->regex_src);
	(void) RE_compile_and_cache(r->regex, REG_ADVANCED, r->collation);
	r->memo_tag = palloc0(sizeof(uint64) * 2 * PATTERN_MEMO_SIZE);
	r->memo_state = palloc0(sizeof(uint8) * PATTERN_MEMO_SIZE);
}

/*
 * compile_range
 *		The bounds in the column's type (and as integers for integer-like
 *		types).
 */
static void
compile_range(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	order_of(qs, r);
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

/*
 * compile_allowed_values
 *		The values in the column's type; compared as integers, as bytes
 *		(text types under a deterministic collation: texteq and bpchareq
 *		compare bytes) or with the type's equality.
 */
static void
compile_allowed_values(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	TypeCacheEntry *tce;
	int			j;

	order_of(qs, r);
	tce = lookup_type_cache(r->typid, TYPECACHE_EQ_OPR_FINFO);
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
	r->is_bpchar = (r->typid == BPCHAROID);
	r->bytes_eq = r->has_eq &&
		(r->typid == TEXTOID || r->typid == VARCHAROID || r->is_bpchar) &&
		get_collation_isdeterministic(r->collation);
	r->values_key = NULL;
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
			r->value_bytes[j] = quality_datum_bytes(r->values[j], r->is_bpchar, &r->value_lens[j]);
		/* all shorter than 8 bytes: compared as one integer each */
		for (j = 0; j < r->nvalues; j++)
			if (r->value_lens[j] > 7)
				break;
		if (j == r->nvalues)
		{
			r->values_key = palloc(sizeof(uint64) * Max(r->nvalues, 1));
			for (j = 0; j < r->nvalues; j++)
				r->values_key[j] = quality_text_key(r->value_bytes[j], r->value_lens[j]);
		}
	}
}

/*
 * compile_freshness
 *		The newest value of a date or timestamp column (none: the table's
 *		freshness, from job history); reported as a timestamp.
 */
static void
compile_freshness(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	if (r->nitems == 0)
		return;
	if (date_rule_is_stale(qs, r))
	{
		r->skip = true;			/* not a row rule: never blocks a write */
		return;
	}
	order_of(qs, r);
}

/* date_not_future: the column must still be a date or timestamp */
static void
compile_date_not_future(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	if (date_rule_is_stale(qs, r))
		r->skip = true;			/* a stale rule must not block every write */
}

/*
 * compile_key
 *		unique (and reference): how each item of the key is hashed.
 */
static void
compile_key(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	TupleDesc	tupdesc = RelationGetDescr(qs->rel);
	int			j;

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
	if (r->kind == QK_UNIQUE)
		qs->nunique++;
}

/*
 * compile_reference
 *		The key's hashing, and the referenced column: it must exist, be of
 *		the same type, and the provider must still be allowed to read it all.
 */
static void
compile_reference(QualityState *qs, QualityRule *r, Form_pg_attribute att)
{
	compile_key(qs, r, att);
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

/* the compiler of each kind */
static const CompileKindFn compile_kind[QK_COUNT] = {
	[QK_NOT_NULL] = compile_not_null,
	[QK_UNIQUE] = compile_key,
	[QK_PATTERN] = compile_pattern,
	[QK_RANGE] = compile_range,
	[QK_ALLOWED_VALUES] = compile_allowed_values,
	[QK_ID_CARD] = compile_text_format,
	[QK_USCC] = compile_text_format,
	[QK_MOBILE] = compile_text_format,
	[QK_DATE_NOT_FUTURE] = compile_date_not_future,
	[QK_REFERENCE] = compile_reference,
	[QK_FRESHNESS] = compile_freshness,
	[QK_CUSTOM] = compile_custom,
};

/*
 * quality_compile_rule
 *		Check a rule against the relation and prepare it for evaluation: the
 *		items must still exist (the trigger skips a rule whose column was
 *		dropped: the measurement reports it), then the kind's compiler.
 */
void
quality_compile_rule(QualityState *qs, QualityRule *r)
{
	TupleDesc	tupdesc = RelationGetDescr(qs->rel);
	Form_pg_attribute att = NULL;
	int			j;
	MemoryContext old = MemoryContextSwitchTo(qs->cxt);

	for (j = 0; j < r->nitems; j++)
	{
		if (r->attnums[j] <= 0 && qs->for_trigger)
		{
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
	compile_kind[r->kind] (qs, r, att);
	r->sample_locs = palloc(sizeof(QualityLocator) * Max(qs->sample_limit, 1));
	r->sample_counts = palloc0(sizeof(uint32) * Max(qs->sample_limit, 1));
	MemoryContextSwitchTo(old);
}

/*
 * quality_prepare
 *		Load and compile a resource's rules against its open relation.
 *		Rules are read as the extension owner; compilation runs as the
 *		relation's owner in a security-restricted operation.  for_trigger:
 *		the trigger's rules (rel is then the table written, perhaps a
 *		partition of the resource's table; a rule on a dropped column is
 *		skipped there, not an error).
 */
QualityState *
quality_prepare(int64 resource_id, Relation rel, bool for_trigger, MemoryContext cxt)
{
	QualityState *qs = MemoryContextAllocZero(cxt, sizeof(QualityState));
	MemoryContext old;
	PubdataIdentity as;
	int			i;
	TimestampTz now = GetCurrentTimestamp();
	char		relkind = rel->rd_rel->relkind;

	qs->cxt = cxt;
	qs->resource_id = resource_id;
	qs->rel = rel;
	qs->relid = RelationGetRelid(rel);
	qs->for_trigger = for_trigger;
	qs->sample_limit = quality_sample_rows;
	qs->now = now;
	qs->localnow = pubdata_local_timestamp(now);
	qs->today = pubdata_local_date(now);
	qs->budget = quality_memory_budget();

	if (relkind == RELKIND_PARTITIONED_TABLE)
		qs->source = QS_PARTITIONED;
	else if (relkind == RELKIND_VIEW)
		qs->source = QS_VIEW;
	else if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW || for_trigger)
		qs->source = QS_TABLE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("quality of \"%s\" cannot be measured: it is a foreign table",
						RelationGetRelationName(rel)),
				 errdetail("Quality rules are measured on tables, partitioned tables, materialized views and views."),
				 errhint("Measure the resource on the server that holds its rows, or aggregate it into a table here (pubdata.schedule_aggregation).")));

	pubdata_become(&as, pubdata_extension_owner(), 0);
	load_rules(qs);
	pubdata_restore(&as);

	old = MemoryContextSwitchTo(cxt);
	qs->estate = CreateExecutorState();
	qs->econtext = GetPerTupleExprContext(qs->estate);
	MemoryContextSwitchTo(old);

	pubdata_become(&as, rel->rd_rel->relowner, PUBDATA_AS_RESTRICTED);
	for (i = 0; i < qs->nrules; i++)
		quality_compile_rule(qs, &qs->rules[i]);
	pubdata_restore(&as);
	return qs;
}

/*
 * put_int / put_str, get_int / get_str
 *		The wire format of quality_rules_serialize: 64-bit integers and
 *		strings with their length (-1: NULL).
 */
static void
put_int(StringInfo buf, int64 v)
{
	appendBinaryStringInfo(buf, (char *) &v, sizeof(v));
}

static void
put_str(StringInfo buf, const char *s)
{
	put_int(buf, s ? (int64) strlen(s) : -1);
	if (s)
		appendBinaryStringInfo(buf, s, strlen(s));
}

static int64
get_int(const char **p)
{
	int64		v;

	memcpy(&v, *p, sizeof(v));
	*p += sizeof(v);
	return v;
}

static char *
get_str(const char **p)
{
	int64		len = get_int(p);
	char	   *s;

	if (len < 0)
		return NULL;
	s = palloc(len + 1);
	memcpy(s, *p, len);
	s[len] = '\0';
	*p += len;
	return s;
}

/*
 * quality_rules_serialize
 *		The rules as load_rules read them (and the measurement's clock), for
 *		a parallel worker to compile them the same way.
 */
void
quality_rules_serialize(QualityState *qs, StringInfo buf)
{
	int			i,
				j;

	put_int(buf, qs->now);
	put_int(buf, qs->localnow);
	put_int(buf, qs->today);
	put_int(buf, qs->nrules);
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		put_int(buf, r->id);
		put_int(buf, r->kind);
		put_int(buf, r->action);
		put_int(buf, r->nitems);
		for (j = 0; j < r->nitems; j++)
		{
			put_int(buf, r->attnums[j]);
			put_str(buf, r->itemnames[j]);
		}
		put_str(buf, r->regex_src);
		put_str(buf, r->min_src);
		put_str(buf, r->max_src);
		put_int(buf, r->nvalues);
		for (j = 0; j < r->nvalues; j++)
			put_str(buf, r->value_srcs[j]);
		put_str(buf, r->expression);
		put_int(buf, r->ref_relid);
		put_str(buf, r->ref_colname);
		put_int(buf, r->ref_allowed);
	}
}

/*
 * quality_rules_deserialize
 *		The rules of quality_rules_serialize into qs (in qs->cxt), to be
 *		compiled by the caller.
 */
void
quality_rules_deserialize(QualityState *qs, const char *data)
{
	const char *p = data;
	MemoryContext old = MemoryContextSwitchTo(qs->cxt);
	int			i,
				j;

	qs->now = get_int(&p);
	qs->localnow = get_int(&p);
	qs->today = (DateADT) get_int(&p);
	qs->nrules = (int) get_int(&p);
	qs->rules = palloc0(sizeof(QualityRule) * Max(qs->nrules, 1));
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		r->id = get_int(&p);
		r->kind = (QualityKind) get_int(&p);
		r->action = (QualityAction) get_int(&p);
		r->nitems = (int) get_int(&p);
		r->attnums = palloc(sizeof(AttrNumber) * Max(r->nitems, 1));
		r->itemnames = palloc(sizeof(char *) * Max(r->nitems, 1));
		for (j = 0; j < r->nitems; j++)
		{
			r->attnums[j] = (AttrNumber) get_int(&p);
			r->itemnames[j] = get_str(&p);
		}
		r->regex_src = get_str(&p);
		r->min_src = get_str(&p);
		r->max_src = get_str(&p);
		r->nvalues = (int) get_int(&p);
		r->value_srcs = palloc(sizeof(char *) * Max(r->nvalues, 1));
		for (j = 0; j < r->nvalues; j++)
			r->value_srcs[j] = get_str(&p);
		r->expression = get_str(&p);
		r->ref_relid = (Oid) get_int(&p);
		r->ref_colname = get_str(&p);
		r->ref_allowed = get_int(&p) != 0;
	}
	MemoryContextSwitchTo(old);
}
