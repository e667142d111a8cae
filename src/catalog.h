/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Backend-local cache of the resource catalog: relid -> resource.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_CATALOG_H
#define PUBDATA_CATALOG_H

#include "postgres.h"
#include "nodes/nodes.h"

#define PUBDATA_CODE_LEN 64

typedef enum PubdataShareClass
{
	PUBDATA_UNCONDITIONAL,
	PUBDATA_RESTRICTED,
	PUBDATA_NON_SHARED
} PubdataShareClass;

typedef struct PubdataResource
{
	Oid			relid;			/* hash key */
	int64		id;
	char		code[PUBDATA_CODE_LEN];
	PubdataShareClass share_class;
	bool		published;
	Oid			provider_role;	/* InvalidOid if the role is gone */
	int32		provider_dept;
} PubdataResource;

extern void pubdata_catalog_init(void);
extern PubdataResource *pubdata_catalog_lookup(Oid relid);
extern PubdataResource *pubdata_catalog_lookup_partition(Oid relid);
extern char *pubdata_catalog_detaching(Node *stmt, char **partition);
extern int32 pubdata_catalog_department(Oid roleid, char *code_out);
extern bool pubdata_catalog_loading(void);

#endif							/* PUBDATA_CATALOG_H */
