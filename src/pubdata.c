/*-------------------------------------------------------------------------
 *
 * pubdata.c
 *	  Entry point of the pubdata extension: module initialisation and the
 *	  few helpers every module needs.
 *
 * _PG_init only delegates.  Following pg_stat_statements' loading policy,
 * hooks, shared memory and background workers are installed only when the
 * library is preloaded; SQL entry points that need them say so clearly.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "catalog.h"
#include "guard.h"
#include "lineage.h"
#include "calendar.h"
#include "open.h"
#include "quality.h"
#include "scheduler.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

bool		pubdata_preloaded = false;

void		_PG_init(void);

/*
 * _PG_init
 *		Define GUCs; when preloaded, install hooks, shared memory and workers.
 *
 * Never raises an error: that would break LOAD and pg_upgrade.
 */
void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	pubdata_preloaded = process_shared_preload_libraries_in_progress;

	pubdata_catalog_init();
	pubdata_guard_init();
	pubdata_calendar_init();
	pubdata_open_init();
	pubdata_audit_init();
	pubdata_scheduler_init();
	pubdata_quality_init();
	pubdata_lineage_init();

	MarkGUCPrefixReserved("pubdata");
}

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
 * pubdata_caller_id
 *		The role acting in this session, as seen outside any SECURITY DEFINER
 *		function: current_user after SET ROLE, not the function's owner.
 */
Oid
pubdata_caller_id(void)
{
	return GetOuterUserId();
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
