/*-------------------------------------------------------------------------
 *
 * audit_store.h
 *	  What the access audit's readers (audit_query.c), its verification
 *	  (audit_verify.c), its anchors (audit_anchor.c) and the record of its
 *	  settings (audit_settings.c) share with the store (audit.c): the parsed
 *	  form of a record line, the segment files, the chain head, anchors,
 *	  event records and what recovery found missing.
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

/*
 * An anchor: a head of the chain (seq, hash, time) kept apart from the audit
 * directory, in pubdata.audit_anchor, in the server log and in the file
 * pg_pubdata/anchor, so that records proven to have existed cannot silently
 * disappear with the directory.
 */
typedef struct AuditAnchor
{
	uint64		seq;
	uint8		hash[AUDIT_HASH_LEN];
	TimestampTz at;				/* the head record's time */
	TimestampTz taken_at;		/* when the anchor was taken */
} AuditAnchor;

/*
 * What the store found missing or inconsistent when shared memory was set up
 * (or the launcher found against pubdata.audit_anchor): a WARNING has been
 * given and a gap record written; the launcher raises the alert.
 */
typedef struct AuditLossReport
{
	uint32		generation;		/* 0: nothing found since start */
	uint64		first_lost;		/* records proven gone: first..last; 0: none */
	uint64		last_lost;
	uint64		gap_seq;		/* the gap record that states it */
	char		text[1024];		/* what was found */
} AuditLossReport;

/* Outcomes of the event records (records that are not reads). */
#define AUDIT_EVENT_SETTING		"setting"	/* pubdata.audit or .guard changed */
#define AUDIT_EVENT_UNRECORDED	"unrecorded"	/* reads made while it was off */
#define AUDIT_EVENT_GAP			"gap"	/* records found missing */
#define AUDIT_EVENT_ARCHIVED	"archived"	/* segments copied to an archive */
#define AUDIT_EVENT_PRUNED		"pruned"	/* archived segments removed */

/*
 * The directory of this server's own log.  A chain a standby shipped here
 * is kept the same way in pg_pubdata/shipped/<id>/ (audit_ship.c): segments
 * named by their first record, and a pruned prefix once archived segments
 * were removed; the functions taking a dir serve both.
 */
#define AUDIT_DIR			"pg_pubdata/audit"

/* Path of the segment whose first record is seq (own log, or in dir). */
extern void audit_seg_path(char *path, size_t size, uint64 seq);
extern void audit_seg_path_in(const char *dir, char *path, size_t size, uint64 seq);

/* The segment numbers present, sorted (own log, or in dir). */
extern uint64 *audit_list_segments(int *count, int elevel);
extern uint64 *audit_list_segments_in(const char *dir, int *count, int elevel);

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

/* out = SHA-256(prev || data): one link of the chain */
extern void audit_sha256(const uint8 *prev, const char *data, size_t len, uint8 *out);

/*
 * The head in shared memory and the last record known fsynced; false (and
 * nothing set) when the store is not in shared memory.
 */
extern bool audit_current_head(AuditAnchor *head, uint64 *synced_seq);

/* The durable head kept in the state file "head"; false if missing or damaged. */
extern bool audit_read_state_head(AuditAnchor *st);

/*
 * Make every record written so far durable and return the durable head
 * (zeros for an empty log); false when the store is unavailable.
 */
extern bool audit_durable_head(AuditAnchor *out);

/* What the checks at startup keep of a record at a segment's edge. */
typedef struct AuditEdge
{
	uint64		seq;			/* 0: no record */
	uint8		hash[AUDIT_HASH_LEN];
	bool		gap;			/* a gap record */
} AuditEdge;

/*
 * The first and the last complete record of segment seg, from a chunk at
 * either end of the file; false if it cannot be read (audit_files.c).
 */
extern bool audit_segment_edges(uint64 seg, AuditEdge *first, AuditEdge *last);

/* The last well-formed record of a segment's contents; false if none. */
extern bool audit_last_record_of(char *buf, size_t len, AuditRecord *rec);

/*
 * Whether record seq is in the log: 1 (hash copied out), 0 missing, -1
 * unreadable, AUDIT_RECORD_PRUNED archived and pruned before the last
 * pruned record (whose hash is copied out, 1).
 */
#define AUDIT_RECORD_PRUNED 2
extern int	audit_find_record(uint64 seq, uint8 *hash);
extern int	audit_find_record_in(const char *dir, uint64 seq, uint8 *hash);

/*
 * The pruned prefix of the chain in dir (AUDIT_DIR: the own log): the last
 * record archived and removed from it (dir/pruned).  read: 1, 0 none, -1
 * damaged.
 */
extern int	audit_read_pruned(const char *dir, AuditAnchor *p);
extern bool audit_write_pruned(const char *dir, const AuditAnchor *p, int elevel);

/*
 * Write a gap record stating what was lost (records first_lost..last_lost,
 * 0: none proven).  With jump, the chain first continues from that anchor
 * when the head is behind it, so that no seq is used twice.  Returns the
 * gap record's seq (0 if it could not be written).
 */
extern uint64 audit_write_gap(const AuditAnchor *jump, uint64 first_lost, uint64 last_lost,
							  const char *command, const char *text);

/*
 * Write an event record (not a read): kind is one of AUDIT_EVENT_*; count
 * is the reads not recorded (setting, unrecorded) or the records lost (gap).
 * It is written whatever pubdata.audit says.
 */
extern void audit_write_event(const char *role_name, const char *command, const char *kind,
							  uint64 count, const char *detail);

/* The report recovery left for the launcher's alert; false if none is due. */
extern bool audit_pending_loss(AuditLossReport *out);
extern bool audit_last_loss(AuditLossReport *out);	/* alerted or not */
extern void audit_loss_alerted(uint32 generation);
extern void audit_report_loss(uint64 first_lost, uint64 last_lost, uint64 gap_seq, const char *text);

/* The head right after shared memory was set up (recovery, gap record included). */
extern uint64 audit_recovered_seq(void);

/* The anchor file pg_pubdata/anchor (outside the audit directory). */
extern bool audit_read_anchor_file(AuditAnchor *an);
extern bool audit_write_anchor_file(const AuditAnchor *an, int elevel);

/* The anchor's line in the server log: "pubdata: audit anchor seq=... hash=... at=..." */
extern void audit_log_anchor(const AuditAnchor *an, uint64 system_identifier, const char *reason);

/*
 * A setting (bit 0: pubdata.audit, bit 1: pubdata.guard) as the server's
 * configuration now has it: true when it differs from what was last
 * recorded, which it then becomes (one record per change of the
 * configuration, whoever notices it first).
 */
extern bool audit_swap_file_setting(int bit, bool value);

/* A read was not recorded: pubdata.audit or pubdata.guard is off. */
extern void audit_note_unrecorded(void);

/*
 * Append a record dated at (0: now), as pubdata_audit_record does; for the
 * benchmark helper, which writes a synthetic log through the real path.
 * The time is still kept monotone with seq.
 */
extern void audit_record_at(const PubdataAccess *a, TimestampTz at);

#endif							/* PUBDATA_AUDIT_STORE_H */
