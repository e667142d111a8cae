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

#endif							/* PUBDATA_AUDIT_SHIP_H */
