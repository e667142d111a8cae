/*-------------------------------------------------------------------------
 *
 * audit_store.h
 *	  What the access audit's readers (audit_query.c) share with the store
 *	  (audit.c): the parsed form of a record line and the segment files.
 *
 * Not for other modules: they write records through audit.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_AUDIT_STORE_H
#define PUBDATA_AUDIT_STORE_H

#include "postgres.h"

#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "audit.h"
#include "utils/timestamp.h"

#define AUDIT_HASH_LEN		PG_SHA256_DIGEST_LENGTH

/* One parsed record line; strings point into the (modified) line buffer. */
typedef struct AuditRecord
{
	uint64		seq;
	TimestampTz at;
	Oid			database;
	char	   *role_name;
	int32		department_id;
	char	   *department_code;
	char	   *resources;
	int64		grant_id;
	char	   *purpose;
	char	   *command;
	uint64		query_id;
	uint64		rows;
	char	   *grants;			/* NULL in 0.1 records */
	char	   *outcome;		/* NULL in 0.1 records */
	char	   *statement;		/* NULL in 0.1 records or when not kept */
	char	   *masked;			/* NULL in 0.1 records or when nothing was masked */
	uint8		hash[AUDIT_HASH_LEN];
	char	   *hash_hex;
	size_t		hashed_len;		/* bytes of the line the hash covers */
} AuditRecord;

/* Path of the segment whose first record is seq. */
extern void audit_seg_path(char *path, size_t size, uint64 seq);

/* The segment numbers present, sorted. */
extern uint64 *audit_list_segments(int *count, int elevel);

/* A whole file, palloc'd and NUL-terminated; NULL (reported) below ERROR. */
extern char *audit_read_file(const char *path, size_t *len, int elevel);

/* Parse one record line in place; false if it is not a well-formed record. */
extern bool audit_parse_line(char *line, size_t len, AuditRecord *rec);

/* Append s escaped as a record field (NULL: \N). */
extern void audit_append_escaped(StringInfo buf, const char *s);

/* The 32-byte hash as 64 hex digits and back. */
extern bool audit_hex_decode(const char *s, uint8 *out);
extern void audit_hex_encode(const uint8 *h, char *out);

/*
 * Write what waits in the shared buffer to the segment files, so that a
 * reader sees every record written so far; the chain head's seq then, or 0
 * when shared memory is not there (not preloaded: the files are all there is).
 */
extern uint64 audit_flush_for_reader(void);

/*
 * Append a record dated at (0: now), as pubdata_audit_record does; for the
 * benchmark helper, which writes a synthetic log through the real path.
 * The time is still kept monotone with seq.
 */
extern void audit_record_at(const PubdataAccess *a, TimestampTz at);

#endif							/* PUBDATA_AUDIT_STORE_H */
