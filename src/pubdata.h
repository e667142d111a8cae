/*-------------------------------------------------------------------------
 *
 * pubdata.h
 *	  Declarations shared by pubdata's modules.
 *
 * Each module owns one concern and exposes an init function that _PG_init
 * calls.  Only this header is included by every module.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_H
#define PUBDATA_H

#include "postgres.h"

/* true when the library was loaded through shared_preload_libraries */
extern bool pubdata_preloaded;

/* pubdata.c */
extern void pubdata_require_preload(const char *what);
extern Oid	pubdata_caller_id(void);

#endif							/* PUBDATA_H */
