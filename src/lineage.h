/*-------------------------------------------------------------------------
 *
 * lineage.h
 *	  Table-level lineage captured by the executor: declarations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_LINEAGE_H
#define PUBDATA_LINEAGE_H

/* pubdata.lineage: capture edges (PGC_SUSET, default on) */
extern bool pubdata_lineage_enabled;

extern void pubdata_lineage_init(void);

#endif							/* PUBDATA_LINEAGE_H */
