/*-------------------------------------------------------------------------
 *
 * audit_settings.h
 *	  Changes of pubdata.audit and pubdata.guard leave audit records (see
 *	  audit_settings.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_AUDIT_SETTINGS_H
#define PUBDATA_AUDIT_SETTINGS_H

#include "postgres.h"

#include "nodes/plannodes.h"
#include "utils/guc.h"

/* true while changes wait for their record (hooks.c tests it first) */
extern bool pubdata_audit_settings_pending;

/* Called from pubdata_audit_init */
extern void pubdata_audit_settings_init(void);

/* The hooks of the two settings (check: remembers the source; assign: notes the change) */
extern bool pubdata_audit_setting_check(bool *newval, void **extra, GucSource source);
extern void pubdata_audit_setting_assign_audit(bool newval, void *extra);
extern void pubdata_audit_setting_assign_guard(bool newval, void *extra);

/* Write the records of the changes noted so far (a statement starts or ends) */
extern void pubdata_audit_settings_flush_pending(void);

static inline void
pubdata_audit_settings_flush(void)
{
	if (unlikely(pubdata_audit_settings_pending))
		pubdata_audit_settings_flush_pending();
}

/* After a utility statement succeeded: ALTER ROLE/DATABASE/SYSTEM ... SET of them */
extern void pubdata_audit_settings_utility(PlannedStmt *pstmt, const char *query_string);

/*
 * A process that reads only the configuration file (the audit sync worker),
 * at its start and after each reload: record what the configuration sets.
 */
extern void pubdata_audit_settings_configuration(bool at_start);

#endif							/* PUBDATA_AUDIT_SETTINGS_H */
