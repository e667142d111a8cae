/*-------------------------------------------------------------------------
 *
 * mask.h
 *	  Masked grants (Art 18(2), 27): a department reads granted items in a
 *	  reduced form.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_MASK_H
#define PUBDATA_MASK_H

#include "postgres.h"

#include "nodes/parsenodes.h"

/* mask rules, in the order of the labels of pubdata.mask_rule */
typedef enum PubdataMask
{
	PUBDATA_MASK_NONE = 0,
	PUBDATA_MASK_ID_CARD,
	PUBDATA_MASK_NAME,
	PUBDATA_MASK_PHONE,
	PUBDATA_MASK_EMAIL,
	PUBDATA_MASK_PSEUDONYM,
	PUBDATA_MASK_REDACT,
	PUBDATA_MASK_YEAR,
	PUBDATA_MASK_MONTH,
	PUBDATA_MASK_COUNT
} PubdataMask;

/* a provider's own mask (pubdata.custom_mask) is this plus its id */
#define PUBDATA_MASK_CUSTOM_BASE 1000

extern const char *const pubdata_mask_names[PUBDATA_MASK_COUNT];

/* the rule of a label ("custom:<name>#<id>" for a provider's mask), or -1 */
extern int	pubdata_mask_from_name(const char *name);

/*
 * Before planning: every relation a department reads and holds a masked
 * grant on becomes a security-barrier subquery whose columns pass through
 * pubdata._grant_mask(), so that whatever the query does (filters, joins,
 * sorts, grouping) sees what the executor's grant choice delivers.
 */
extern void pubdata_mask_rewrite(Query *parse);

/*
 * Open-data views (open_rows.c) and pubdata.mask_value(): what a view shows of
 * a value under a rule.  Text: id_card, name, phone and email mask characters,
 * pseudonym is the hex HMAC-SHA256 under the pseudonymization key, year and
 * month keep the first 4 or 7 characters.  A date, timestamp or timestamptz
 * under year or month: "1990" or "1990-01" from its fields.
 * pubdata_mask_open_prepare() loads the key (as the extension owner): call it
 * before acting as anyone else when a pseudonym will be needed.
 */
extern void pubdata_mask_open_prepare(void);
extern text *pubdata_mask_open_text(text *value, PubdataMask rule);
extern text *pubdata_mask_open_date(Datum value, Oid type, PubdataMask rule);

/* A relation range table entry made by pubdata_mask_rewrite (the inner one). */
#define PubdataRteIsMasked(rte) \
	((rte)->rtekind == RTE_RELATION && (rte)->security_barrier)

#endif							/* PUBDATA_MASK_H */
