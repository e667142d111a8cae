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
 *-------------------------------------------------------------------------
 */
#include "identity.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
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
