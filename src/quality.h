/*-------------------------------------------------------------------------
 *
 * quality.h
 *	  Quality rules, one-scan measurement and the rule trigger (quality.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_QUALITY_H
#define PUBDATA_QUALITY_H

extern void pubdata_quality_init(void);

#endif							/* PUBDATA_QUALITY_H */
