/*-------------------------------------------------------------------------
 *
 * quality.h
 *	  Quality rules, one-scan measurement and the rule trigger (quality.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_QUALITY_H
#define PUBDATA_QUALITY_H

#include "postgres.h"
#include "nodes/nodes.h"

extern void pubdata_quality_init(void);

/* one SQL expression from a user's text, or an error naming what it is for */
extern Node *pubdata_parse_expression(const char *src, const char *what);

#endif							/* PUBDATA_QUALITY_H */
