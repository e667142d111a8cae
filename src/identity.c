/*-------------------------------------------------------------------------
 *
 * identity.c
 *	  The one way pubdata acts as someone else: PostgreSQL's answer to
 *	  CVE-2022-1552, as VACUUM, ANALYZE, CREATE INDEX and REFRESH use it.
 *
 *		GetUserIdAndSecContext(&save_userid, &save_sec_context);
 *		SetUserIdAndSecContext(owner, save_sec_context |
 *							   SECURITY_RESTRICTED_OPERATION);
 *		save_nestlevel = NewGUCNestLevel();
 *		... work ...
 *		AtEOXact_GUC(false, save_nestlevel);
 *		SetUserIdAndSecContext(save_userid, save_sec_context);
 *
 * The rule it serves: pubdata never plans, reads or runs anything a
 * department controls (tables, views, index expressions and predicates,
 * defaults, domains, operators, casts, triggers, functions, search_path) with
 * more rights than that department has.  To look into a department's
 * relation pubdata becomes the relation's owner in a security-restricted
 * operation; for its own bookkeeping it becomes the extension owner.  In
 * both cases search_path is pinned to pg_catalog, pg_temp, and every GUC the
 * work sets (set_config(..., true) included) is rolled back on return, so
 * that nothing a department planted outlives the switch either way.
 *
 * pubdata._owner_count() is the SQL face of it: pubdata's SECURITY DEFINER
 * functions (which run as the extension owner) look into a department's
 * relation only through it, so that the relation's views, policies, index
 * predicates, operators and functions are planned and run with its owner's
 * rights, never the extension owner's.
 *
 *-------------------------------------------------------------------------
 */
#include "identity.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

/*
 * pubdata_relation_owner
 *		The owner of relation relid.
 */
Oid
pubdata_relation_owner(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	return owner;
}

/*
 * pubdata_become
 *		Act as role until pubdata_restore(), with search_path pinned.
 */
void
pubdata_become(PubdataIdentity *id, Oid role, int flags)
{
	GetUserIdAndSecContext(&id->save_userid, &id->save_sec_context);
	SetUserIdAndSecContext(role, id->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   ((flags & PUBDATA_AS_RESTRICTED) ? SECURITY_RESTRICTED_OPERATION : 0));
	id->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	id->active = true;
}

/*
 * pubdata_become_owner
 *		Act as the owner of relation relid in a security-restricted
 *		operation: what the owner's objects run, they run with the owner's
 *		rights and no more.
 */
void
pubdata_become_owner(PubdataIdentity *id, Oid relid)
{
	pubdata_become(id, pubdata_relation_owner(relid), PUBDATA_AS_RESTRICTED);
}

/*
 * pubdata_restore
 *		Undo pubdata_become(): GUCs set since then are rolled back, the user
 *		id and security context restored.
 */
void
pubdata_restore(PubdataIdentity *id)
{
	if (!id->active)
		return;
	AtEOXact_GUC(false, id->save_nestlevel);
	SetUserIdAndSecContext(id->save_userid, id->save_sec_context);
	id->active = false;
}

PG_FUNCTION_INFO_V1(pubdata_owner_count);

/*
 * pubdata._owner_count(relation regclass, query text, args jsonb) returns bigint
 *		Run query, a read-only statement returning one bigint, with args as
 *		$1, as the owner of relation in a security-restricted operation
 *		(parse, plan and execution alike), and return its value (0 for no
 *		row or NULL).  pubdata's SECURITY DEFINER functions build the query
 *		over that relation, every name and value quoted or passed in args;
 *		nobody else may call it (it is not granted to any role).
 */
Datum
pubdata_owner_count(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *query;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1];
	char		nulls[1] = {' '};
	PubdataIdentity id;
	int64		result = 0;
	int			ret;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pubdata._owner_count() needs a relation and a query")));
	relid = PG_GETARG_OID(0);
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (PG_ARGISNULL(2))
	{
		args[0] = (Datum) 0;
		nulls[0] = 'n';
	}
	else
		args[0] = PG_GETARG_DATUM(2);

	pubdata_become_owner(&id, relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* read-only: anything but a plain read is refused by SPI */
	ret = SPI_execute_with_args(query, 1, argtypes, args, nulls, true, 1);
	if (ret != SPI_OK_SELECT || SPI_tuptable == NULL || SPI_tuptable->tupdesc->natts != 1 ||
		SPI_gettypeid(SPI_tuptable->tupdesc, 1) != INT8OID)
		elog(ERROR, "pubdata._owner_count: the query must be a SELECT of one bigint");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = DatumGetInt64(d);
	}
	SPI_finish();
	pubdata_restore(&id);
	PG_RETURN_INT64(result);
}
