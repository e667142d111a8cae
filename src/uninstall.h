/*-------------------------------------------------------------------------
 *
 * uninstall.h
 *	  DROP EXTENSION pubdata: the registered tables are given back as they
 *	  were before registration, and the schema pubdata left empty goes too.
 *
 * The module has no init and no state outside a transaction: its entry
 * point is the event trigger function pubdata._drop_start() (SQL in
 * src/sql/88_restore_drop.sql).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_UNINSTALL_H
#define PUBDATA_UNINSTALL_H

#include "fmgr.h"

extern Datum pubdata_drop_start(PG_FUNCTION_ARGS);

#endif							/* PUBDATA_UNINSTALL_H */
