/*-------------------------------------------------------------------------
 *
 * audit_ship.h
 *	  One audit across a primary and its standbys: each server's identity,
 *	  a standby's shipper, the primary's store of shipped chains.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_AUDIT_SHIP_H
#define PUBDATA_AUDIT_SHIP_H

#include "postgres.h"

/*
 * Called from _PG_init after pubdata_audit_init(): GUCs always; when
 * preloaded, the identity check at startup and the shipper worker.
 */
extern void pubdata_audit_ship_init(void);

/*
 * Whether this data directory is a copy of another server's, as seen when
 * shared memory is first set up: a base backup (backup_label) or an
 * identity file written for another directory.  For audit.c's checks at
 * startup, which run before the identity is renewed.
 */
extern bool audit_dir_is_copy(void);

/*
 * This server's audit id (32 hex digits, static storage) and fork (the last
 * record it inherited with its data directory); NULL without an identity.
 */
extern const char *audit_self_id(uint64 *fork_seq);

/*
 * One audit chain kept on this server, as audit_archive(), audit_prune()
 * and verify_audit_archive() take it: this server's own log (dir AUDIT_DIR)
 * or a chain a standby shipped here (pg_pubdata/shipped/<id>).
 */
typedef struct AuditChain
{
	char		dir[MAXPGPATH];
	char		id[33];			/* its audit id; "" when this server has none */
	char		name[NAMEDATALEN];	/* a shipped chain's server name */
	bool		own;
	uint64		current;		/* a shipped chain: the segment its head is in
								 * (still written, never archived); 0: none */
	uint64		fork_seq;		/* a shipped chain: its records follow this */
	uint8		fork_hash[32];
} AuditChain;

/*
 * The chain of the server with audit id server (NULL or this server's id:
 * the own log).  ERROR for an id that is not well formed or not kept here,
 * and for a shipped chain on a standby (the primary keeps those).
 */
extern void audit_chain_open(const char *server, AuditChain *c);

/*
 * Before chain c prunes its records up to upto: every chain shipped here
 * that forks from c at or before upto keeps c's record at its fork (its
 * hash, in its info file), so that its fork stays checked once that record
 * is gone.
 */
extern void audit_keep_origin_forks(const AuditChain *c, uint64 upto);

#endif							/* PUBDATA_AUDIT_SHIP_H */
