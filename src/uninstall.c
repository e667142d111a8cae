/*-------------------------------------------------------------------------
 *
 * uninstall.c
 *	  DROP EXTENSION pubdata gives the registered tables back as they were.
 *
 * Registering a table changes the table, not only pubdata's catalog: it
 * turns row-level security on, adds pubdata's policies, takes privileges
 * from PUBLIC and from other departments and gives column privileges and
 * schema usage as grants decide.  None of that belongs to the extension, so
 * DROP EXTENSION alone would leave the tables locked (RLS on, no policy) or
 * open (column grants to pubdata_department, whose members stay members).
 *
 * The event trigger pubdata_uninstall (ddl_command_start, enabled ALWAYS)
 * runs this file's function before DROP EXTENSION, DROP SCHEMA and DROP
 * OWNED.  Only C sees the statement (an event trigger in PL/pgSQL gets its
 * tag only): the statement's kind, names and CASCADE go to
 * pubdata._drops_pubdata(), which says whether pubdata goes with it (named,
 * or through pgcrypto, or its schema, or its owner); if so,
 * pubdata._uninstall() undoes registration on every registered table while
 * pubdata's catalog is still there to say what registration did.  It all
 * happens in the statement's transaction: if the DROP fails, the tables keep
 * their sharing.
 *
 * The schema pubdata is made by CREATE EXTENSION (the control file names
 * it), so it is not a member of the extension and DROP EXTENSION leaves it
 * behind, empty.  Nothing can depend on the extension from inside it, so the
 * drop is finished at the transaction's commit: if pubdata is then gone and
 * its schema holds nothing, the schema goes too.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "uninstall.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

/* the schema pubdata left behind by a DROP in this transaction */
static Oid	schema_to_drop = InvalidOid;
static bool xact_callback_registered = false;

/*
 * SchemaLeftEmpty
 *		nsp still exists, is called pubdata, and no object is in it (every
 *		object in a schema depends on it).
 */
static bool
SchemaLeftEmpty(Oid nsp)
{
	char	   *name = get_namespace_name(nsp);
	Relation	depend;
	ScanKeyData key[2];
	SysScanDesc scan;
	bool		empty;

	if (name == NULL || strcmp(name, "pubdata") != 0)
		return false;
	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(NamespaceRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(nsp));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
	empty = !HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return empty;
}

/*
 * DropSchemaAtCommit
 *		Transaction callback: before commit, drop the schema pubdata left
 *		behind when the extension is gone and the schema is empty; forget it
 *		at the end of the transaction however it ends.
 */
static void
DropSchemaAtCommit(XactEvent event, void *arg)
{
	Oid			nsp = schema_to_drop;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			schema_to_drop = InvalidOid;
			if (OidIsValid(nsp) && !OidIsValid(get_extension_oid("pubdata", true)) &&
				SchemaLeftEmpty(nsp))
			{
				ObjectAddress addr;

				ObjectAddressSet(addr, NamespaceRelationId, nsp);
				performDeletion(&addr, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			schema_to_drop = InvalidOid;
			break;
		default:
			break;
	}
}

/*
 * CallBoolean
 *		Run "SELECT fn($1, ...)" (one of pubdata's own functions, named in
 *		full) through SPI and return its boolean result.
 */
static bool
CallBoolean(const char *query, int nargs, Oid *argtypes, Datum *values)
{
	bool		result = false;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(query, nargs, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", query);
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		result = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(pubdata_drop_start);

/*
 * pubdata._drop_start() event trigger (ddl_command_start of DROP EXTENSION,
 * DROP SCHEMA, DROP OWNED)
 *		When the statement drops pubdata, undo registration on every
 *		registered table first, and have the empty schema dropped at commit.
 */
Datum
pubdata_drop_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	const char *kind;
	List	   *names = NIL;
	bool		cascade;
	ListCell   *lc;
	Datum	   *elems;
	int			n = 0;
	Oid			argtypes[3] = {TEXTOID, TEXTARRAYOID, BOOLOID};
	Datum		values[3];
	Oid			nsp;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pubdata._drop_start() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	if (IsA(trigdata->parsetree, DropStmt))
	{
		DropStmt   *stmt = (DropStmt *) trigdata->parsetree;

		if (stmt->removeType == OBJECT_EXTENSION)
			kind = "extension";
		else if (stmt->removeType == OBJECT_SCHEMA)
			kind = "schema";
		else
			PG_RETURN_VOID();
		foreach(lc, stmt->objects)
			names = lappend(names, strVal(lfirst(lc)));
		cascade = stmt->behavior == DROP_CASCADE;
	}
	else if (IsA(trigdata->parsetree, DropOwnedStmt))
	{
		DropOwnedStmt *stmt = (DropOwnedStmt *) trigdata->parsetree;

		kind = "owned";
		foreach(lc, stmt->roles)
		{
			Oid			role = get_rolespec_oid(lfirst(lc), true);

			if (OidIsValid(role))
				names = lappend(names, GetUserNameFromId(role, false));
		}
		cascade = stmt->behavior == DROP_CASCADE;
	}
	else
		PG_RETURN_VOID();

	elems = palloc(sizeof(Datum) * Max(list_length(names), 1));
	foreach(lc, names)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	values[0] = CStringGetTextDatum(kind);
	values[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = BoolGetDatum(cascade);

	if (!CallBoolean("SELECT pubdata._drops_pubdata($1, $2, $3)", 3, argtypes, values))
		PG_RETURN_VOID();

	nsp = pubdata_schema_oid();
	CallBoolean("SELECT pubdata._uninstall($1)", 1, &argtypes[2], &values[2]);

	if (!xact_callback_registered)
	{
		RegisterXactCallback(DropSchemaAtCommit, NULL);
		xact_callback_registered = true;
	}
	schema_to_drop = nsp;
	PG_RETURN_VOID();
}
