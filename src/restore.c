/*-------------------------------------------------------------------------
 *
 * restore.c
 *	  A restore of pg_dump's output loads pubdata's tables in any order.
 *
 * pg_dump keeps the rows of pubdata's configuration tables
 * (pg_extension_config_dump) and puts them in the archive in the order of
 * their foreign keys, but a TABLE DATA entry depends on its table only: a
 * parallel restore (pg_restore -j) loads them side by side and in any order,
 * and a child's COPY fails on a parent not loaded yet.  This is PostgreSQL's
 * limit for every extension whose tables refer to each other (TimescaleDB
 * documents "do not use -j").
 *
 * A restore says what it is before anything else: pg_dump's output and each
 * of pg_restore's connections set check_function_bodies off.  A top-level
 * COPY FROM into a table of schema pubdata, by a superuser, with
 * check_function_bodies off, is taken for a restore's load and runs with
 * session_replication_role = replica, for that statement only: the foreign
 * keys between pubdata's tables are not checked row by row (the dump was
 * taken from one snapshot), and pubdata's triggers that react to a change
 * (sharing, open views) stand aside.  The triggers a load needs are enabled
 * ALWAYS (src/sql/88_restore_drop.sql).  Nobody but a superuser can do this,
 * and a superuser could disable the triggers anyway.
 *
 * One pair of tables is loaded in turn, not side by side: the resources and
 * their items.  An item's column number must be its column's in the
 * restored table (a dropped column leaves a gap in the source that the new
 * table does not have); the item's trigger looks it up through its
 * resource, and the resource's trigger fixes the items loaded before it.
 * Two loads running at once see neither the other's rows, and the numbers
 * would stay the source's: the grants' column privileges would be decided on
 * the wrong columns, and the next ALTER TABLE of the restore would make
 * pubdata re-derive the table's policies in the middle of the restore (whose
 * own CREATE POLICY then fails).  So each of the two loads first takes
 * pubdata.resource_item in SHARE ROW EXCLUSIVE mode, which conflicts with
 * itself: the second load waits for the first to commit and then sees its
 * rows.
 *
 * Only with pubdata preloaded (the hook is in hooks.c): without it a
 * restore in one job still works, since the archive's order follows the
 * foreign keys.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "restore.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

/*
 * pubdata_restore_begin
 *		When the statement is a restore's COPY into one of pubdata's tables,
 *		set session_replication_role = replica at a new GUC nest level and
 *		return that level; else return 0.
 */
int
pubdata_restore_begin(PlannedStmt *pstmt, ProcessUtilityContext context)
{
	CopyStmt   *stmt;
	Oid			nsp;
	Oid			relid;
	Oid			items;
	int			level;

	if (!IsA(pstmt->utilityStmt, CopyStmt) || context != PROCESS_UTILITY_TOPLEVEL)
		return 0;
	stmt = (CopyStmt *) pstmt->utilityStmt;
	if (!stmt->is_from || stmt->relation == NULL || check_function_bodies || !superuser())
		return 0;
	nsp = pubdata_schema_oid();
	if (!OidIsValid(nsp))
		return 0;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || get_rel_namespace(relid) != nsp)
		return 0;

	/* resources and items: one load after the other (see above) */
	items = get_relname_relid("resource_item", nsp);
	if (OidIsValid(items) &&
		(relid == items || relid == get_relname_relid("resource", nsp)))
		LockRelationOid(items, ShareRowExclusiveLock);

	level = NewGUCNestLevel();
	(void) set_config_option("session_replication_role", "replica", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/*
 * pubdata_restore_end
 *		The load succeeded: the session's own settings come back.  (After an
 *		error, the transaction's or subtransaction's abort pops the level.)
 */
void
pubdata_restore_end(int level)
{
	if (level > 0)
		AtEOXact_GUC(true, level);
}
