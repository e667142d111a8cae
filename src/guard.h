/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  Executor and utility hooks: permission errors that say what to do,
 *	  the copy guard (Art 17) and the access audit (Art 15, 27).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_GUARD_H
#define PUBDATA_GUARD_H

extern char *pubdata_purpose;
extern void pubdata_guard_init(void);

#endif							/* PUBDATA_GUARD_H */
