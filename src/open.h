/*-------------------------------------------------------------------------
 *
 * open.h
 *	  Open data (Art 20, 21) and evaluation (Art 28, 34): GUCs and the DCAT
 *	  catalog export.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_OPEN_H
#define PUBDATA_OPEN_H

extern void pubdata_open_init(void);

#endif							/* PUBDATA_OPEN_H */
