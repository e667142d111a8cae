/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  The access-audit store: append-only, hash-chained segment files in
 *	  $PGDATA/pg_pubdata/audit/.
 *
 * guard.c decides what to audit and calls pubdata_audit_record(); this
 * module decides where and how the record is kept.  A record reaches the
 * kernel (write()) before pubdata_audit_record() returns, so it survives a
 * rollback, a backend crash and a clean shutdown; it assigns no XID and
 * writes no WAL, so it works on a hot standby.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_AUDIT_H
#define PUBDATA_AUDIT_H

#include "postgres.h"

/* One audited statement, as the executor hook saw it. */
typedef struct PubdataAccess
{
	const char *role_name;		/* acting role */
	int32		department_id;	/* 0 when the role acts for no department */
	const char *department_code;	/* may be NULL */
	const char *resources;		/* resource codes read, comma-separated */
	int64		grant_id;		/* 0 when none */
	const char *purpose;		/* may be NULL */
	const char *command;		/* "SELECT", "COPY", "INSERT", ... */
	uint64		query_id;
	uint64		rows;
	const char *grants;			/* grants used per resource: "1,2;3"; may be NULL */
	const char *outcome;		/* "ok", "error" or "denied"; NULL = "ok" */
	const char *statement;		/* statement text; may be NULL */
	const char *masked;			/* items read masked per resource: "a=id_card;"; may be NULL */
} PubdataAccess;

/* GUC pubdata.audit: false turns recording off (superuser only; the change is recorded) */
extern bool pubdata_audit_enabled;

/*
 * Append one record to the chain.  Returns after the record was written to
 * the kernel; raises an ERROR if it could not be (the audited statement then
 * fails: the audit is fail-closed).  With pubdata.audit off the read is
 * only counted, and the count goes into the next record.
 */
extern void pubdata_audit_record(const PubdataAccess *a);

/*
 * A read that would have been recorded was not: pubdata.guard is off.  It is
 * counted in the next record (pubdata.audit off is counted the same way).
 */
extern void pubdata_audit_note_unrecorded(void);

/* Called from _PG_init: GUCs; shared memory and the sync worker when preloaded */
extern void pubdata_audit_init(void);

#endif							/* PUBDATA_AUDIT_H */
