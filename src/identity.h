/*-------------------------------------------------------------------------
 *
 * identity.h
 *	  The one way pubdata acts as someone else, and comes back.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_IDENTITY_H
#define PUBDATA_IDENTITY_H

#include "postgres.h"

/* What pubdata_become() saved, for pubdata_restore(). */
typedef struct PubdataIdentity
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	bool		active;
} PubdataIdentity;

/*
 * How to act: PUBDATA_AS_RESTRICTED makes it a security-restricted
 * operation (no SET ROLE, no temporary objects, no deferred triggers left
 * behind), for looking into a department's relation; without it, only the
 * user id changes and search_path is pinned (pubdata's own bookkeeping).
 */
#define PUBDATA_AS_RESTRICTED	0x01

/*
 * Become role: user id and security context, a fresh GUC nest level, and
 * search_path = pg_catalog, pg_temp.  Every GUC set until pubdata_restore()
 * (set_config(..., true) included) is undone by it.
 */
extern void pubdata_become(PubdataIdentity *id, Oid role, int flags);

/* Become the owner of relation relid in a security-restricted operation. */
extern void pubdata_become_owner(PubdataIdentity *id, Oid relid);

/* Undo pubdata_become() (an error's abort undoes it too). */
extern void pubdata_restore(PubdataIdentity *id);

/* The owner of a relation; ERROR if it does not exist. */
extern Oid	pubdata_relation_owner(Oid relid);

#endif							/* PUBDATA_IDENTITY_H */
