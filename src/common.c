/*-------------------------------------------------------------------------
 *
 * common.c
 *	  Helpers every module uses: loading state, the caller's identity,
 *	  pubdata's schema and owner.
 *
 * This file includes no module header (a leaf), so every module may call it.
 *
 *-------------------------------------------------------------------------
 */
#include "common.h"

#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "catalog/pg_namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

bool		pubdata_preloaded = false;

/*
 * pubdata_require_preload
 *		Raise a clear error when a feature needs shared_preload_libraries.
 */
void
pubdata_require_preload(const char *what)
{
	if (!pubdata_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pubdata must be loaded via shared_preload_libraries to use %s", what),
				 errhint("Add pubdata to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * pubdata_startup_context
 *		The context of a setting that only the postmaster reads (shared
 *		memory sizes, the scheduler's database): PGC_POSTMASTER when the
 *		library is being preloaded.  A library loaded later, in a session,
 *		may not define such a setting (PostgreSQL ends the session with a
 *		FATAL error), so there the setting is defined as PGC_SIGHUP: it
 *		shows the configured value and, as nothing of the preloaded
 *		machinery runs, changes nothing.
 */
GucContext
pubdata_startup_context(void)
{
	return pubdata_preloaded ? PGC_POSTMASTER : PGC_SIGHUP;
}

/*
 * pubdata_caller_id
 *		The role acting in this session, as seen outside any SECURITY DEFINER
 *		function: current_user after SET ROLE, not the function's owner.
 */
Oid
pubdata_caller_id(void)
{
	return GetOuterUserId();
}

/*
 * pubdata_schema_oid
 *		The schema "pubdata", or InvalidOid when the extension is not
 *		installed in this database.
 */
Oid
pubdata_schema_oid(void)
{
	return get_namespace_oid("pubdata", true);
}

/*
 * pubdata_relation_oid
 *		A relation of pubdata's schema, InvalidOid when it does not exist.
 */
Oid
pubdata_relation_oid(const char *relname)
{
	Oid			nsp = pubdata_schema_oid();

	return OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
}

/*
 * pubdata_extension_owner
 *		The owner of schema pubdata: the role pubdata's own bookkeeping runs
 *		as, so that no caller's privileges reach it.
 */
Oid
pubdata_extension_owner(void)
{
	Oid			nsp = get_namespace_oid("pubdata", false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

PG_FUNCTION_INFO_V1(pubdata_caller);

/*
 * pubdata.caller() returns name
 *		SQL face of pubdata_caller_id(); the catalog functions, which are
 *		SECURITY DEFINER, use it to know which department is calling.
 */
Datum
pubdata_caller(PG_FUNCTION_ARGS)
{
	char	   *rolname = GetUserNameFromId(pubdata_caller_id(), false);

	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(rolname)));
}

/*
 * pubdata_blob_hash
 *		A hash table keyed by the bytes of its key, in memory context cxt.
 */
HTAB *
pubdata_blob_hash(const char *name, Size keysize, Size entrysize, long nelem, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, nelem, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * pubdata_fresh_context
 *		*cxt made under parent the first time, emptied the next ones: the
 *		home of a cache that is rebuilt whole.
 */
void
pubdata_fresh_context(MemoryContext *cxt, MemoryContext parent, const char *name)
{
	if (*cxt == NULL)
		*cxt = AllocSetContextCreateInternal(parent, name, ALLOCSET_DEFAULT_SIZES);	/* name: a literal */
	else
		MemoryContextReset(*cxt);
}

/*
 * pubdata_rte_user
 *		The role a relation of a plan is read as: the view's owner for a
 *		relation read through a view (checkAsUser), else the current user.
 */
Oid
pubdata_rte_user(const RangeTblEntry *rte)
{
	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
}
