/*-------------------------------------------------------------------------
 *
 * grants.h
 *	  Backend-local cache of live grants: (resource, department) -> grants.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_GRANTS_H
#define PUBDATA_GRANTS_H

#include "postgres.h"

#include "nodes/bitmapset.h"
#include "utils/timestamp.h"

#define PUBDATA_PURPOSE_MAX 200

/* One approved share request, as the executor hook needs it. */
typedef struct PubdataGrant
{
	int64		id;
	TimestampTz expires_at;		/* DT_NOEND when it never expires */
	bool		scoped;			/* has a row scope */
	bool		copy_ok;		/* mode copy, consented to by the bureau */
	char	   *purpose;		/* the request's stated purpose */
	char	   *purpose_audit;	/* the same, cut for the audit record after
								 * PUBDATA_PURPOSE_MAX characters */
	char	   *scenario;		/* code of its scenario, or NULL */
	Bitmapset  *cols;			/* columns it gives, plus the resource's
								 * unconditional items (attnum -
								 * FirstLowInvalidHeapAttributeNumber) */
	Bitmapset  *clear;			/* those of cols it gives in clear */
	int			nmasks;			/* items it gives masked: */
	int16	   *mask_att;		/* their attnums */
	int16	   *mask_rule;		/* their rules (PubdataMask, or custom) */
	char	  **mask_label;		/* their rules as the request named them */
} PubdataGrant;

/* The grants of one department on one resource. */
typedef struct PubdataGrantSet
{
	int			ngrants;
	PubdataGrant *grants;
	Bitmapset  *shared;			/* unconditional items open to every
								 * department and every row, or NULL */
} PubdataGrantSet;

extern void pubdata_grants_init(void);

/*
 * The grants department dept holds on resource resource_id (expired ones
 * included: the caller compares expires_at with the time it reads), with the
 * resource's shared items.  Never NULL; valid until the next cache lookup.
 */
extern const PubdataGrantSet *pubdata_grants_lookup(int64 resource_id, int32 dept);

/* Does the grant match the purpose the session declared ("" = any)? */
extern bool pubdata_grant_matches_purpose(const PubdataGrant *g, const char *purpose);

#endif							/* PUBDATA_GRANTS_H */
