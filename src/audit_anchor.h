/*-------------------------------------------------------------------------
 *
 * audit_anchor.h
 *	  Anchors of the access audit chain outside the audit directory, and the
 *	  launcher's watch over the chain (see audit_anchor.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_AUDIT_ANCHOR_H
#define PUBDATA_AUDIT_ANCHOR_H

#include "postgres.h"

struct AuditAnchor;

/* GUC pubdata.audit_anchor_interval: seconds between anchors */
extern int	pubdata_audit_anchor_interval;

/* Called from pubdata_audit_init: the GUC */
extern void pubdata_audit_anchor_init(void);

/*
 * The newest anchor of this server's chain in pubdata.audit_anchor (in a
 * transaction).  False when there is none; *why_not then says why none can
 * be used here (a hot standby, an extension without the table), or NULL.
 */
extern bool pubdata_audit_newest_anchor(struct AuditAnchor *an, const char **why_not);

/*
 * The launcher's watch, in its transaction with SPI connected: raise the
 * alert of what recovery found missing; check the chain against the newest
 * anchor of pubdata.audit_anchor (always when starting, else when the head
 * is behind it); take a new anchor when the head moved.  shutdown: the
 * launcher is stopping (the anchor's reason).
 */
extern void pubdata_audit_launcher_watch(bool starting, bool shutdown);

#endif							/* PUBDATA_AUDIT_ANCHOR_H */
