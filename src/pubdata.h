/*-------------------------------------------------------------------------
 *
 * pubdata.h
 *	  Declarations shared by pubdata's modules.
 *
 * Each module owns one concern and exposes an init function that _PG_init
 * calls.  The helpers every module needs are in the leaf common.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_H
#define PUBDATA_H

#include "postgres.h"
#include "common.h"

#endif							/* PUBDATA_H */
