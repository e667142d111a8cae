/*-------------------------------------------------------------------------
 *
 * restore.h
 *	  A restore's load of pubdata's tables (see restore.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_RESTORE_H
#define PUBDATA_RESTORE_H

#include "nodes/plannodes.h"
#include "tcop/utility.h"

/* a GUC nest level when the statement is a restore's load, else 0 */
extern int	pubdata_restore_begin(PlannedStmt *pstmt, ProcessUtilityContext context);

/* after the statement succeeded: back to the session's settings */
extern void pubdata_restore_end(int level);

#endif							/* PUBDATA_RESTORE_H */
