/*-------------------------------------------------------------------------
 *
 * quality_trigger.c
 *	  pubdata.quality_check_trigger(): a resource's row rules applied to a
 *	  row being written, with each rule's action (reject, flag or warn).
 *
 * The rules are compiled once per statement (the trigger's FmgrInfo lives
 * as long as the statement) against the table written, which may be a
 * partition of the resource's table (PostgreSQL clones a partitioned
 * table's row trigger to every partition; items are matched by name).
 * Expressions run as the table's owner in a security-restricted operation,
 * whoever writes; reference rules look the value up in the referenced
 * column as that column's owner; flagged rows are recorded as the extension
 * owner.  Unique and freshness are not row rules.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "catalog.h"
#include "calendar.h"
#include "identity.h"
#include "local_time.h"
#include "quality_int.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

typedef struct TriggerCache
{
	QualityState *qs;			/* NULL when the table is no resource */
	TupleTableSlot *slot;
	char	   *rolname;
} TriggerCache;

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
		if (!found)
		{
			/* a partition of the resource's table: the trigger was cloned to it */
			PubdataResource *res = pubdata_catalog_lookup_partition(RelationGetRelid(td->tg_relation));

			if (res)
			{
				resource_id = res->id;
				found = true;
			}
		}
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
			failed[i] = !reference_lookup_one(r, tc->slot->tts_values[a]);
	}
	/* the other row rules, as the table's owner */
	pubdata_become(&as, td->tg_relation->rd_rel->relowner, PUBDATA_AS_RESTRICTED);
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->kind == QK_REFERENCE || r->kind == QK_UNIQUE || r->kind == QK_FRESHNESS || r->skip)
			continue;
		failed[i] = !quality_row_ok(qs, r, tc->slot);
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
						qs->resource_code, (long long) r->id, quality_kind_names[r->kind]),
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
							qs->resource_code, (long long) r->id, quality_kind_names[r->kind]),
					 r->kind == QK_CUSTOM ?
					 errdetail("Expression (%s) is false for the row.", r->expression) :
					 errdetail("Column \"%s\" has value \"%s\".", r->itemnames[0], val)));
		else if (r->action == QA_FLAG)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			ItemPointerSetInvalid(&tc->slot->tts_tid);
			quality_row_json(qs, r, tc->slot, &buf, 0);
			record_flag(qs, r, op, tc->rolname, buf.data);
		}
	}
	pfree(failed);
	return PointerGetDatum(newtup);
}
