/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  Access audit: one hash-chained record per governed read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_AUDIT_H
#define PUBDATA_AUDIT_H

#include "postgres.h"

typedef struct PubdataAccess
{
	const char *role_name;
	int32		department_id;
	const char *department_code;
	const char *resources;		/* resource codes read, comma-separated */
	int64		grant_id;		/* 0 when none */
	const char *purpose;		/* may be NULL */
	const char *command;		/* "SELECT", "COPY", "INSERT", ... */
	uint64		query_id;
	uint64		rows;
} PubdataAccess;

extern void pubdata_audit_record(const PubdataAccess *a);
extern void pubdata_audit_init(void);

#endif							/* PUBDATA_AUDIT_H */
