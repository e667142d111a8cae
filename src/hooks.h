/*-------------------------------------------------------------------------
 *
 * hooks.h
 *	  pubdata's only executor and utility hooks (see hooks.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_HOOKS_H
#define PUBDATA_HOOKS_H

extern void pubdata_hooks_init(void);

#endif							/* PUBDATA_HOOKS_H */
