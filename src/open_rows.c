/*-------------------------------------------------------------------------
 *
 * open_rows.c
 *	  The rows of the open-data views (Art 20): one pass over the table, read
 *	  as its owner, masked in C.
 *
 * A view in pubdata_open reads nothing itself: it calls
 * pubdata.open_dataset_rows(resource), which checks that the caller may
 * SELECT from the view, then runs the read of the resource's table
 * (pubdata._open_queries' source_sql) as the table's owner in a
 * security-restricted operation, so that whatever the department planted in
 * its table (index expressions, views, functions, casts) runs with the
 * department's rights, never with the reader's, the bureau's or a
 * superuser's.  The rows of that read go straight to a DestReceiver that
 * masks the columns that need it (mask.c: partial masks and the keyed
 * pseudonym, the key loaded before acting as the owner) and stores them in
 * the function's result: one scan, no second query, no SQL per value.
 *
 * Types are honest: a column that is not masked keeps its type (the base
 * type of a domain) when that type is built in; a column of a type a
 * department defined is converted to text by the owner's read, so that the
 * reader never runs the department's output function.  Masked columns are
 * text.  The view declares its columns; before reading, the read's columns
 * are checked against them.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/tuplestore.h"

#include "identity.h"
#include "mask.h"

/* The masking receiver: rows of the owner's read into the result */
typedef struct OpenReceiver
{
	DestReceiver pub;
	Tuplestorestate *store;
	TupleDesc	desc;			/* the view's columns */
	int			natts;
	const int  *rules;			/* per column, PUBDATA_MASK_NONE to copy */
	const Oid  *types;			/* per column, the type the read gives */
	Datum	   *values;
	bool	   *nulls;
	MemoryContext rowcxt;		/* reset after each row */
} OpenReceiver;

/*
 * OpenReceiveSlot
 *		Mask one row and append it to the result.
 */
static bool
OpenReceiveSlot(TupleTableSlot *slot, DestReceiver *self)
{
	OpenReceiver *r = (OpenReceiver *) self;
	MemoryContext old;
	int			i;

	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(r->rowcxt);
	for (i = 0; i < r->natts; i++)
	{
		Datum		v = slot->tts_values[i];

		r->nulls[i] = slot->tts_isnull[i];
		if (r->nulls[i] || r->rules[i] == PUBDATA_MASK_NONE)
			r->values[i] = v;
		else if (r->types[i] == TEXTOID)
			r->values[i] = PointerGetDatum(pubdata_mask_open_text(DatumGetTextPP(v),
																  (PubdataMask) r->rules[i]));
		else
			r->values[i] = PointerGetDatum(pubdata_mask_open_date(v, r->types[i],
																  (PubdataMask) r->rules[i]));
	}
	tuplestore_putvalues(r->store, r->desc, r->values, r->nulls);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->rowcxt);
	return true;
}

static void
OpenStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
OpenShutdown(DestReceiver *self)
{
}

static void
OpenDestroy(DestReceiver *self)
{
	OpenReceiver *r = (OpenReceiver *) self;

	MemoryContextDelete(r->rowcxt);
}

/*
 * CheckColumns
 *		The read's columns against the view's: a column the view copies has
 *		the view's type; a masked one is text in the view and text, or a
 *		date or timestamp under year and month, in the read.  A mismatch
 *		means the view and the catalog disagree (a direct call with other
 *		columns, or a view not rebuilt).
 */
static void
CheckColumns(TupleDesc got, TupleDesc expected, const int *rules, const char *code)
{
	bool		same = got != NULL && got->natts == expected->natts;
	int			a;

	for (a = 0; same && a < got->natts; a++)
	{
		Oid			g = TupleDescAttr(got, a)->atttypid;
		Oid			e = TupleDescAttr(expected, a)->atttypid;

		if (rules == NULL || rules[a] == PUBDATA_MASK_NONE)
			same = g == e;
		else if (rules[a] == PUBDATA_MASK_YEAR || rules[a] == PUBDATA_MASK_MONTH)
			same = e == TEXTOID && (g == TEXTOID || g == DATEOID || g == TIMESTAMPOID ||
									g == TIMESTAMPTZOID);
		else
			same = e == TEXTOID && g == TEXTOID;
	}
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the open-data view of resource \"%s\" does not match its catalog entry", code),
				 errdetail("The columns the view declares differ from the items the catalog opens."),
				 errhint("The view is rebuilt when the entry or its items change; "
						 "a direct call must declare the view's columns.")));
}

/*
 * ReadAsOwner
 *		Run the read of a resource's table (source_sql) as the table's owner
 *		in a security-restricted operation with search_path pinned, into the
 *		result of the set-returning function: masked by an OpenReceiver when
 *		rules says so, else stored as read.  Runs inside the caller's SPI
 *		connection.
 */
static void
ReadAsOwner(Oid relid, const char *source_sql, const int *rules, ReturnSetInfo *rsinfo,
			const char *code)
{
	PubdataIdentity as;
	SPIPlanPtr	plan;
	CachedPlanSource *source;
	TupleDesc	got;
	DestReceiver *dest;
	SPIExecuteOptions options;
	int			natts = rsinfo->setDesc->natts;
	bool		masked = false;
	int			a;

	for (a = 0; rules != NULL && a < natts; a++)
		masked |= rules[a] != PUBDATA_MASK_NONE;

	pubdata_become_owner(&as, relid);
	plan = SPI_prepare(source_sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare the open-data query: %s", SPI_result_code_string(SPI_result));
	source = (CachedPlanSource *) linitial(SPI_plan_get_plan_sources(plan));
	got = source->resultDesc;
	CheckColumns(got, rsinfo->setDesc, rules, code);

	if (masked)
	{
		OpenReceiver *r = palloc0(sizeof(OpenReceiver));
		Oid		   *types = palloc(sizeof(Oid) * natts);

		for (a = 0; a < natts; a++)
			types[a] = TupleDescAttr(got, a)->atttypid;
		r->pub.receiveSlot = OpenReceiveSlot;
		r->pub.rStartup = OpenStartup;
		r->pub.rShutdown = OpenShutdown;
		r->pub.rDestroy = OpenDestroy;
		r->pub.mydest = DestTuplestore;	/* not DestNone: SPI would discard */
		r->store = rsinfo->setResult;
		r->desc = rsinfo->setDesc;
		r->natts = natts;
		r->rules = rules;
		r->types = types;
		r->values = palloc(sizeof(Datum) * natts);
		r->nulls = palloc(sizeof(bool) * natts);
		r->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "pubdata open row",
										  ALLOCSET_SMALL_SIZES);
		dest = (DestReceiver *) r;
	}
	else
	{
		dest = CreateTuplestoreDestReceiver();
		SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
										rsinfo->econtext->ecxt_per_query_memory,
										false, NULL, NULL);
	}
	memset(&options, 0, sizeof(options));
	options.read_only = true;
	options.dest = dest;
	if (SPI_execute_plan_extended(plan, &options) != SPI_OK_SELECT)
		elog(ERROR, "the open-data query of resource \"%s\" failed", code);
	dest->rDestroy(dest);
	SPI_freeplan(plan);
	pubdata_restore(&as);
}

PG_FUNCTION_INFO_V1(pubdata_open_source);

/*
 * pubdata._open_source(resource bigint) returns setof record
 *		The plain values of the open items of a resource's table (the read
 *		built by pubdata._open_queries, masks not applied), read as the
 *		table's owner in a security-restricted operation.  Internal: only
 *		the extension owner may call it.
 */
Datum
pubdata_open_source(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	Oid			relid = InvalidOid;
	char	   *source_sql = NULL;
	char	   *code = NULL;

	if (!has_privs_of_role(GetUserId(), pubdata_extension_owner()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function _open_source"),
				 errhint("Read the open data through its view in schema pubdata_open.")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	args[0] = Int64GetDatum(resource_id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT q.relation, q.source_sql, q.code FROM pubdata._open_queries($1) q",
							  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			relid = DatumGetObjectId(d);
			source_sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		}
	}
	if (!OidIsValid(relid) || source_sql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("resource %lld has no table", (long long) resource_id)));

	ReadAsOwner(relid, source_sql, NULL, rsinfo, code);
	SPI_finish();
	return (Datum) 0;
}

/*
 * MaskRules
 *		The rule of each view column from _open_queries' masks (text[] of
 *		pubdata.mask_rule labels); NULL when the array does not match the
 *		view's columns (CheckColumns then reports the mismatch).
 */
static int *
MaskRules(Datum masks, int natts)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int		   *rules;

	deconstruct_array(DatumGetArrayTypeP(masks), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n != natts)
		return NULL;
	rules = palloc(sizeof(int) * natts);
	for (i = 0; i < n; i++)
	{
		rules[i] = nulls[i] ? -1 : pubdata_mask_from_name(TextDatumGetCString(elems[i]));
		if (rules[i] < 0 || rules[i] == PUBDATA_MASK_REDACT || rules[i] >= PUBDATA_MASK_COUNT)
			elog(ERROR, "open-data column %d has no usable mask rule", i + 1);
	}
	return rules;
}

PG_FUNCTION_INFO_V1(pubdata_open_dataset_rows);

/*
 * pubdata.open_dataset_rows(resource bigint) returns setof record
 *		What the open view of a resource shows: its open items read as the
 *		table's owner, masked by pubdata (the pseudonym key never reaches the
 *		department or the reader).  The views in pubdata_open call it with
 *		their reader's rights; it answers only a role that may SELECT from
 *		the resource's view, so calling it directly shows nothing more than
 *		the view.
 */
Datum
pubdata_open_dataset_rows(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			reader = GetUserId();
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	Oid			viewid = InvalidOid;
	char	   *view_name = NULL;
	char	   *source_sql = NULL;
	char	   *code = NULL;
	Oid			relid = InvalidOid;
	int		   *rules = NULL;
	bool		pseudonym = false;
	PubdataIdentity as;
	int			a;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	args[0] = Int64GetDatum(resource_id);

	/* pubdata's own bookkeeping, as the extension owner */
	pubdata_become(&as, pubdata_extension_owner(), 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', o.view_name))::pg_catalog.oid,"
							  "       o.view_name, q.code, q.relation, q.source_sql, q.masks"
							  "  FROM pubdata.open_dataset o, pubdata._open_queries(o.resource_id) q"
							  " WHERE o.resource_id OPERATOR(pg_catalog.=) $1 AND o.dropped_at IS NULL",
							  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d = SPI_getbinval(tup, desc, 1, &isnull);

		if (!isnull)
			viewid = DatumGetObjectId(d);
		view_name = SPI_getvalue(tup, desc, 2);
		code = SPI_getvalue(tup, desc, 3);
		d = SPI_getbinval(tup, desc, 4, &isnull);
		if (!isnull)
			relid = DatumGetObjectId(d);
		source_sql = SPI_getvalue(tup, desc, 5);
		d = SPI_getbinval(tup, desc, 6, &isnull);
		if (!isnull)
			rules = MaskRules(d, rsinfo->setDesc->natts);
	}
	if (!OidIsValid(viewid) || !OidIsValid(relid) || source_sql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("resource %lld has no open-data view", (long long) resource_id),
				 errhint("See SELECT dataset_code, access_view FROM pubdata_open.catalog.")));
	if (pg_class_aclcheck(viewid, reader, ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for view %s", quote_identifier(view_name)),
				 errdetail("Only the roles that may read pubdata_open.%s read its rows.", quote_identifier(view_name)),
				 errhint("A conditional dataset is read by the roles its provider names with pubdata.allow_open_reader().")));
	if (rules == NULL)
		CheckColumns(NULL, rsinfo->setDesc, NULL, code);

	/* the key, once per query, as pubdata: the owner's read never sees it */
	for (a = 0; a < rsinfo->setDesc->natts; a++)
		pseudonym |= rules[a] == PUBDATA_MASK_PSEUDONYM;
	if (pseudonym)
		pubdata_mask_open_prepare();

	ReadAsOwner(relid, source_sql, rules, rsinfo, code);
	SPI_finish();
	pubdata_restore(&as);
	return (Datum) 0;
}
