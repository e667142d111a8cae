/*-------------------------------------------------------------------------
 *
 * common.h
 *	  What every module of pubdata needs: whether the library was preloaded,
 *	  the caller's identity, pubdata's schema and owner.
 *
 * A leaf: common.c includes no other module's header, so that any module
 * can use it without making a circle.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_COMMON_H
#define PUBDATA_COMMON_H

#include "postgres.h"

#include "utils/guc.h"

/* true when the library was loaded through shared_preload_libraries */
extern bool pubdata_preloaded;

/* raise a clear error when a feature needs shared_preload_libraries */
extern void pubdata_require_preload(const char *what);

/* the context of a setting read at server start (see common.c) */
extern GucContext pubdata_startup_context(void);

/* the role acting in this session, outside any SECURITY DEFINER function */
extern Oid	pubdata_caller_id(void);

/* pubdata's schema, InvalidOid when the extension is not installed here */
extern Oid	pubdata_schema_oid(void);

/* the owner of pubdata's schema (the extension owner); ERROR if not installed */
extern Oid	pubdata_extension_owner(void);

/* a relation of pubdata's schema by name, InvalidOid when absent */
extern Oid	pubdata_relation_oid(const char *relname);

/* a hash table keyed by plain bytes, in memory context cxt */
struct HTAB;
extern struct HTAB *pubdata_blob_hash(const char *name, Size keysize, Size entrysize,
									  long nelem, MemoryContext cxt);

/* the role whose privileges a range-table entry is checked as */
struct RangeTblEntry;
extern Oid	pubdata_rte_user(const struct RangeTblEntry *rte);

/* a memory context of its own under parent, made once and reset after */
extern void pubdata_fresh_context(MemoryContext *cxt, MemoryContext parent, const char *name);

#endif							/* PUBDATA_COMMON_H */
