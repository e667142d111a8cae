/*-------------------------------------------------------------------------
 *
 * pubdata.c
 *	  Entry point of the pubdata extension: PG_MODULE_MAGIC and _PG_init.
 *
 * _PG_init only delegates.  Following pg_stat_statements' loading policy,
 * hooks, shared memory and background workers are installed only when the
 * library is preloaded; SQL entry points that need them say so clearly.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_ship.h"
#include "catalog.h"
#include "grants.h"
#include "guard.h"
#include "hooks.h"
#include "lineage.h"
#include "local_time.h"
#include "calendar.h"
#include "open.h"
#include "progress.h"
#include "quality.h"
#include "scheduler.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

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
	pubdata_grants_init();
	pubdata_guard_init();
	pubdata_hooks_init();
	pubdata_local_time_init();
	pubdata_calendar_init();
	pubdata_open_init();
	pubdata_audit_init();
	pubdata_audit_ship_init();
	pubdata_scheduler_init();
	pubdata_progress_init();
	pubdata_quality_init();
	pubdata_lineage_init();

	MarkGUCPrefixReserved("pubdata");
}
