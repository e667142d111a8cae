/*-------------------------------------------------------------------------
 *
 * mask.c
 *	  Masked grants (Art 18(2) "in part", Art 27): a department reads granted
 *	  items in a reduced form, whatever query it writes.
 *
 * A grant may give items masked: the birth year of a date, a surname, the
 * last four digits of a phone, a stable pseudonym.  Like Apache Ranger's
 * column masking, the relation is rewritten for the reading department:
 * before planning, every range table entry of a governed table that the
 * department reads and holds a masked grant on becomes a security-barrier
 * subquery
 *
 *	 SELECT pubdata._grant_mask(x.c1, ...), pubdata._grant_mask(x.c2, ...), ...
 *	   FROM table x
 *
 * with one output column per column of the table (NULL for those the query
 * does not read, so no privilege is needed on them and nothing is fetched),
 * so every Var of the query keeps its meaning and filters, joins, sorts,
 * grouping, window functions and error messages see only what the subquery
 * delivers.  The table's own range table entry moves inside, with its
 * privileges and row-level security quals, marked (security_barrier on a
 * relation entry, which SQL cannot set) so that the executor hook knows
 * that its columns reach the query only through _grant_mask().
 *
 * What _grant_mask() delivers is decided per query by the executor hook's
 * grant choice (guard.c): a column read under a grant that gives it in
 * clear is returned as it is; one read under a masked grant is masked by
 * that grant's rule.  Plans stay valid when grants change: the wrapping only
 * depends on the department holding some masked grant (a change of grants
 * re-plans, since it changes the table's policies), the delivery is looked
 * up at run time.
 *
 * Pseudonyms are SipHash-2-4 (128 bits, hex) under a key derived for each
 * department from pubdata's pseudonymization key: stable for a department
 * and a key, so it joins two resources it was granted pseudonymously, and
 * unlike another department's.
 *
 * The open-data views (open_rows.c) and pubdata.mask_value() use the same
 * masks through pubdata_mask_open_text(); their pseudonym is the public one,
 * HMAC-SHA256 under the key itself (as pgcrypto's hmac() computed it in
 * version 0.1), with the server's OpenSSL: the key's inner and outer states
 * are computed once when the key is loaded, so a value costs two SHA-256
 * blocks.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "catalog.h"
#include "grants.h"
#include "guard.h"
#include "identity.h"
#include "mask.h"
#include "quality.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "catalog/pg_namespace.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include <openssl/evp.h>

/* true while WrapRelation analyzes the subquery it builds */
static bool building = false;

const char *const pubdata_mask_names[PUBDATA_MASK_COUNT] = {
	"none", "id_card", "name", "phone", "email", "pseudonym", "redact", "year", "month"
};

/*
 * pubdata_mask_from_name
 *		The rule of a pubdata.mask_rule label, or -1.
 */
int
pubdata_mask_from_name(const char *name)
{
	int			i;

	if (strncmp(name, "custom:", 7) == 0)
	{
		const char *hash = strrchr(name, '#');
		int			id = hash ? atoi(hash + 1) : 0;

		return id > 0 && id < PG_INT16_MAX - PUBDATA_MASK_CUSTOM_BASE ? PUBDATA_MASK_CUSTOM_BASE + id : -1;
	}
	for (i = 0; i < PUBDATA_MASK_COUNT; i++)
		if (strcmp(name, pubdata_mask_names[i]) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------------
 * The rewrite, before planning
 * ------------------------------------------------------------------------
 */

/*
 * HoldsMaskedGrant
 *		Does the department hold a grant on the resource with masked items?
 */
static bool
HoldsMaskedGrant(const PubdataGrantSet *set)
{
	int			i;

	for (i = 0; i < set->ngrants; i++)
		if (set->grants[i].nmasks > 0)
			return true;
	return false;
}

/* a provider's mask of one item */
typedef struct CustomMask
{
	int			id;
	char	   *expression;
} CustomMask;

/*
 * CustomMasks
 *		The providers' masks the department's grants give item attnum under,
 *		with their expressions (read as the extension owner).
 */
static List *
CustomMasks(const PubdataGrantSet *set, int attnum)
{
	List	   *result = NIL;
	int			i,
				k;

	for (i = 0; i < set->ngrants; i++)
	{
		const PubdataGrant *g = &set->grants[i];

		for (k = 0; k < g->nmasks; k++)
		{
			CustomMask *cm;
			PubdataIdentity id;
			Oid			argtypes[1] = {INT4OID};
			Datum		values[1];
			ListCell   *lc;
			bool		seen = false;
			MemoryContext caller;

			if (g->mask_att[k] != attnum || g->mask_rule[k] < PUBDATA_MASK_CUSTOM_BASE)
				continue;
			foreach(lc, result)
				seen |= ((CustomMask *) lfirst(lc))->id == g->mask_rule[k] - PUBDATA_MASK_CUSTOM_BASE;
			if (seen)
				continue;
			cm = palloc(sizeof(CustomMask));
			cm->id = g->mask_rule[k] - PUBDATA_MASK_CUSTOM_BASE;
			cm->expression = NULL;
			values[0] = Int32GetDatum(cm->id);
			caller = CurrentMemoryContext;
			pubdata_become(&id, pubdata_extension_owner(), 0);
			PG_TRY();
			{
				if (SPI_connect() != SPI_OK_CONNECT)
					elog(ERROR, "SPI_connect failed");
				if (SPI_execute_with_args("SELECT c.expression FROM pubdata.custom_mask c WHERE c.id OPERATOR(pg_catalog.=) $1",
										  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
				{
					char	   *e = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

					if (e)
						cm->expression = MemoryContextStrdup(caller, e);
				}
				SPI_finish();
			}
			PG_FINALLY();
			{
				pubdata_restore(&id);
			}
			PG_END_TRY();
			if (cm->expression)
				result = lappend(result, cm);
		}
	}
	return result;
}

/*
 * WrapRelation
 *		Turn range table entry rti of q into the masking subquery.
 */
static void
WrapRelation(Query *q, Index rti, RangeTblEntry *rte, Oid reader, const PubdataGrantSet *set)
{
	Relation	rel = relation_open(rte->relid, NoLock);
	TupleDesc	td = RelationGetDescr(rel);
	bool		whole = bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber,
									  rte->selectedCols);
	StringInfoData sql;
	List	   *raw;
	Query	   *volatile sub = NULL;
	RangeTblEntry *inner;
	int			a;
	ListCell   *lc;

	if (rte->tablesample)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("TABLESAMPLE is not supported on table \"%s\", read with masked items",
						RelationGetRelationName(rel))));
	foreach(lc, q->rowMarks)
		if (((RowMarkClause *) lfirst(lc))->rti == rti)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("rows of table \"%s\" cannot be locked by a department that reads it with masked items",
							RelationGetRelationName(rel)),
					 errhint("Leave out FOR UPDATE / FOR SHARE.")));

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);
		char	   *type;

		if (a > 0)
			appendStringInfoString(&sql, ", ");
		if (att->attisdropped)
		{
			appendStringInfoString(&sql, "NULL::pg_catalog.int4");
			continue;
		}
		type = format_type_extended(att->atttypid, att->atttypmod,
									FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
		if (whole || bms_is_member(a + 1 - FirstLowInvalidHeapAttributeNumber, rte->selectedCols))
		{
			List	   *custom = CustomMasks(set, a + 1);
			ListCell   *c;

			if (custom != NIL)
				appendStringInfo(&sql, "CASE pubdata._grant_rule(%u::pg_catalog.oid, %d::pg_catalog.int2, %u::pg_catalog.oid)",
								 rte->relid, a + 1, reader);
			foreach(c, custom)
			{
				CustomMask *cm = (CustomMask *) lfirst(c);

				/* validated as one expression over this item (define_mask) */
				appendStringInfo(&sql, " WHEN %d THEN (%s\n)::%s", PUBDATA_MASK_CUSTOM_BASE + cm->id,
								 cm->expression, type);
			}
			if (custom != NIL)
				appendStringInfoString(&sql, " ELSE ");
			appendStringInfo(&sql, "pubdata._grant_mask(x.%s, %u::pg_catalog.oid, %d::pg_catalog.int2, %u::pg_catalog.oid)::%s",
							 quote_identifier(NameStr(att->attname)), rte->relid, a + 1, reader, type);
			if (custom != NIL)
				appendStringInfoString(&sql, " END");
		}
		else
			appendStringInfo(&sql, "NULL::%s", type);
	}
	appendStringInfo(&sql, " FROM %s%s.%s x",
					 rte->inh ? "" : "ONLY ",
					 quote_identifier(get_namespace_name(RelationGetNamespace(rel))),
					 quote_identifier(RelationGetRelationName(rel)));
	relation_close(rel, NoLock);

	raw = pg_parse_query(sql.data);
	building = true;			/* the hooks leave this query alone */
	PG_TRY();
	{
		sub = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql.data, NULL, 0, NULL);
	}
	PG_FINALLY();
	{
		building = false;
	}
	PG_END_TRY();

	/* the table's own entry moves inside: its privileges, its policies */
	inner = copyObject(rte);
	inner->security_barrier = true; /* marks it as read through the masks */
	if (inner->securityQuals != NIL)
		ChangeVarNodes((Node *) inner->securityQuals, rti, 1, 0);
	linitial(sub->rtable) = inner;
	sub->hasRowSecurity = true;
	sub->hasSubLinks = sub->hasSubLinks || inner->securityQuals != NIL;

	/*
	 * Not a security barrier itself: the planner may pull the subquery up,
	 * and every reference to a column then becomes its _grant_mask()
	 * expression, so quals still see only what is delivered, while the
	 * table's row-level security quals stay first on the inner entry.
	 */
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = sub;
	rte->security_barrier = false;
	rte->relid = InvalidOid;
	rte->relkind = 0;
	rte->rellockmode = 0;
	rte->inh = false;
	rte->requiredPerms = 0;
	rte->checkAsUser = InvalidOid;
	rte->selectedCols = NULL;
	rte->insertedCols = NULL;
	rte->updatedCols = NULL;
	rte->extraUpdatedCols = NULL;
	rte->securityQuals = NIL;
}

/*
 * MaskQuery
 *		Wrap the relations of one query level (its subqueries first).
 */
static bool
MaskWalker(Node *node, void *context)
{
	Query	   *q;
	ListCell   *lc;
	Index		rti = 0;

	if (node == NULL)
		return false;
	if (!IsA(node, Query))
		return expression_tree_walker(node, MaskWalker, context);

	q = (Query *) node;
	(void) query_tree_walker(q, MaskWalker, context, 0);

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		PubdataResource *res;
		Oid			reader;
		int32		dept;
		const PubdataGrantSet *set;

		rti++;
		if (rte->rtekind != RTE_RELATION || !(rte->requiredPerms & ACL_SELECT) ||
			rte->security_barrier || (int) rti == q->resultRelation)
			continue;
		res = pubdata_catalog_lookup(rte->relid);
		if (res == NULL)
			continue;
		reader = pubdata_rte_user(rte);
		if (superuser_arg(reader) ||
			(OidIsValid(res->provider_role) && has_privs_of_role(reader, res->provider_role)))
			continue;
		dept = pubdata_catalog_department(reader, NULL);
		if (dept == 0)
			continue;
		set = pubdata_grants_lookup(res->id, dept);
		if (!HoldsMaskedGrant(set))
			continue;
		WrapRelation(q, rti, rte, reader, set);
	}
	return false;
}

/*
 * pubdata_mask_rewrite
 *		See mask.h.
 */
void
pubdata_mask_rewrite(Query *parse)
{
	if (building || pubdata_catalog_loading() || !IsTransactionState())
		return;
	(void) MaskWalker((Node *) parse, NULL);
}

/* ------------------------------------------------------------------------
 * Pseudonyms: SipHash-2-4-128 under a key per department
 * ------------------------------------------------------------------------
 */

#define ROTL64(x, b) (uint64) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND \
	do { \
		v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32); \
		v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32); \
	} while (0)

static uint64
Le64(const uint8 *p)
{
	return (uint64) p[0] | ((uint64) p[1] << 8) | ((uint64) p[2] << 16) |
		((uint64) p[3] << 24) | ((uint64) p[4] << 32) | ((uint64) p[5] << 40) |
		((uint64) p[6] << 48) | ((uint64) p[7] << 56);
}

/*
 * SipHash128
 *		SipHash-2-4 with a 128-bit output (Aumasson and Bernstein).
 */
static void
SipHash128(const uint8 key[16], const uint8 *in, size_t len, uint64 out[2])
{
	uint64		k0 = Le64(key);
	uint64		k1 = Le64(key + 8);
	uint64		v0 = UINT64CONST(0x736f6d6570736575) ^ k0;
	uint64		v1 = UINT64CONST(0x646f72616e646f6d) ^ k1;
	uint64		v2 = UINT64CONST(0x6c7967656e657261) ^ k0;
	uint64		v3 = UINT64CONST(0x7465646279746573) ^ k1;
	uint64		b = ((uint64) len) << 56;
	const uint8 *end = in + len - (len % 8);
	int			left = len & 7;
	uint64		m;

	v1 ^= 0xee;
	for (; in != end; in += 8)
	{
		m = Le64(in);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	switch (left)
	{
		case 7:
			b |= ((uint64) in[6]) << 48;
			/* FALLTHROUGH */
		case 6:
			b |= ((uint64) in[5]) << 40;
			/* FALLTHROUGH */
		case 5:
			b |= ((uint64) in[4]) << 32;
			/* FALLTHROUGH */
		case 4:
			b |= ((uint64) in[3]) << 24;
			/* FALLTHROUGH */
		case 3:
			b |= ((uint64) in[2]) << 16;
			/* FALLTHROUGH */
		case 2:
			b |= ((uint64) in[1]) << 8;
			/* FALLTHROUGH */
		case 1:
			b |= ((uint64) in[0]);
			break;
		case 0:
			break;
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xee;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xdd;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

/* the pseudonymization key and the keys derived from it, per department */
typedef struct DeptKey
{
	int32		dept;
	uint8		key[16];
} DeptKey;

static HTAB *dept_keys = NULL;
static uint8 master_key[32];
static bool master_valid = false;
/* the last department's key: a masked scan asks for it at every row */
static int32 last_dept = 0;
static const uint8 *last_key = NULL;
static bool key_callback = false;
static Oid	key_relid = InvalidOid;

/* HMAC-SHA256 under the key itself: the states after the padded key */
static EVP_MD_CTX *hmac_inner = NULL;
static EVP_MD_CTX *hmac_outer = NULL;
static EVP_MD_CTX *hmac_work = NULL;
static bool hmac_valid = false;

static void
KeyInvalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == key_relid)
	{
		master_valid = false;
		hmac_valid = false;
		last_key = NULL;
		if (dept_keys)
		{
			hash_destroy(dept_keys);
			dept_keys = NULL;
		}
	}
}

/*
 * HmacPrepare
 *		The HMAC-SHA256 states of a key (RFC 2104): SHA-256 over the key
 *		padded to the block and XORed with 0x36 (inner) and 0x5c (outer), so
 *		that each value hashes only itself and the inner digest.  A key longer
 *		than the block is first hashed, as HMAC requires.
 */
static void
HmacPrepare(const uint8 *key, size_t len)
{
	uint8		block[64];
	uint8		pad[64];
	int			i;

	hmac_valid = false;
	memset(block, 0, sizeof(block));
	if (hmac_inner == NULL)
		hmac_inner = EVP_MD_CTX_new();
	if (hmac_outer == NULL)
		hmac_outer = EVP_MD_CTX_new();
	if (hmac_work == NULL)
		hmac_work = EVP_MD_CTX_new();
	if (hmac_inner == NULL || hmac_outer == NULL || hmac_work == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory preparing the pseudonymization key")));
	if (len > sizeof(block))
	{
		if (EVP_DigestInit_ex(hmac_work, EVP_sha256(), NULL) != 1 ||
			EVP_DigestUpdate(hmac_work, key, len) != 1 ||
			EVP_DigestFinal_ex(hmac_work, block, NULL) != 1)
			elog(ERROR, "could not hash the pseudonymization key");
	}
	else
		memcpy(block, key, len);
	for (i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	if (EVP_DigestInit_ex(hmac_inner, EVP_sha256(), NULL) != 1 ||
		EVP_DigestUpdate(hmac_inner, pad, sizeof(pad)) != 1)
		elog(ERROR, "could not prepare the pseudonymization key");
	for (i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	if (EVP_DigestInit_ex(hmac_outer, EVP_sha256(), NULL) != 1 ||
		EVP_DigestUpdate(hmac_outer, pad, sizeof(pad)) != 1)
		elog(ERROR, "could not prepare the pseudonymization key");
	explicit_bzero(block, sizeof(block));
	explicit_bzero(pad, sizeof(pad));
	hmac_valid = true;
}

/*
 * LoadMasterKey
 *		Read pubdata's pseudonymization key, as the extension owner.
 */
static void
LoadMasterKey(void)
{
	PubdataIdentity id;
	bool		found = false;

	if (!key_callback)
	{
		CacheRegisterRelcacheCallback(KeyInvalidate, (Datum) 0);
		key_callback = true;
	}
	key_relid = pubdata_relation_oid("open_pseudonym_key");
	pubdata_become(&id, pubdata_extension_owner(), 0);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT k.key FROM pubdata.open_pseudonym_key k LIMIT 1", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
			{
				bytea	   *b = DatumGetByteaPP(d);
				pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

				/* whatever its length, the master key is its SHA-256 */
				if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
					pg_cryptohash_update(ctx, (uint8 *) VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)) < 0 ||
					pg_cryptohash_final(ctx, master_key, sizeof(master_key)) < 0)
					elog(ERROR, "could not hash the pseudonymization key");
				pg_cryptohash_free(ctx);
				HmacPrepare((const uint8 *) VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
				found = true;
			}
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		pubdata_restore(&id);
	}
	PG_END_TRY();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pubdata's pseudonymization key is missing"),
				 errhint("pubdata_admin creates one with SELECT pubdata.rotate_pseudonym_key();")));
	master_valid = true;
}

/*
 * DepartmentKey
 *		SHA-256(master key || "pubdata grant pseudonym" || department), cut to
 *		the 16 bytes SipHash takes.
 */
static const uint8 *
DepartmentKey(int32 dept)
{
	DeptKey    *k;
	bool		found;

	if (master_valid && last_key != NULL && dept == last_dept)
		return last_key;
	if (!master_valid)
		LoadMasterKey();
	if (dept_keys == NULL)
		dept_keys = pubdata_blob_hash("pubdata pseudonym keys", sizeof(int32), sizeof(DeptKey),
									  16, TopMemoryContext);
	k = hash_search(dept_keys, &dept, HASH_ENTER, &found);
	if (!found)
	{
		pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
		uint8		digest[PG_SHA256_DIGEST_LENGTH];
		static const char label[] = "pubdata grant pseudonym";
		uint8		d[4];

		d[0] = dept & 0xff;
		d[1] = (dept >> 8) & 0xff;
		d[2] = (dept >> 16) & 0xff;
		d[3] = (dept >> 24) & 0xff;
		if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
			pg_cryptohash_update(ctx, master_key, sizeof(master_key)) < 0 ||
			pg_cryptohash_update(ctx, (const uint8 *) label, sizeof(label) - 1) < 0 ||
			pg_cryptohash_update(ctx, d, sizeof(d)) < 0 ||
			pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		{
			hash_search(dept_keys, &dept, HASH_REMOVE, NULL);
			elog(ERROR, "could not derive a pseudonym key");
		}
		pg_cryptohash_free(ctx);
		memcpy(k->key, digest, sizeof(k->key));
	}
	last_dept = dept;
	last_key = k->key;
	return k->key;
}

/* ------------------------------------------------------------------------
 * The masks
 * ------------------------------------------------------------------------
 */

static bool pg_is_ascii_len(const char *s, int len);

/*
 * MaskChars
 *		keep_head characters, stars, keep_tail characters (of at least min
 *		characters; shorter values become all stars).
 */
static text *
MaskChars(const char *s, int len, int keep_head, int keep_tail, int min)
{
	bool		ascii = pg_is_ascii_len(s, len);
	int			nchars = ascii ? len : pg_mbstrlen_with_len(s, len);
	text	   *out;
	char	   *w;
	int			head_bytes = 0;
	int			tail_start = len;
	int			stars;

	/* stars are one byte each: the result is never longer than the value */
	out = (text *) palloc(VARHDRSZ + len);
	w = VARDATA(out);
	if (nchars < min)
		stars = nchars;
	else
	{
		head_bytes = ascii ? keep_head : pg_mbcharcliplen(s, len, keep_head);
		if (keep_tail > 0)
			tail_start = ascii ? nchars - keep_tail : pg_mbcharcliplen(s, len, nchars - keep_tail);
		stars = nchars - keep_head - keep_tail;
	}
	memcpy(w, s, head_bytes);
	w += head_bytes;
	memset(w, '*', stars);
	w += stars;
	if (nchars >= min && tail_start < len)
	{
		memcpy(w, s + tail_start, len - tail_start);
		w += len - tail_start;
	}
	SET_VARSIZE(out, w - (char *) out);
	return out;
}

/*
 * pg_is_ascii_len
 *		Only ASCII bytes (one character each).
 */
static bool
pg_is_ascii_len(const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] & 0x80)
			return false;
	return true;
}

/*
 * MaskText
 *		A text-like value under a rule.
 */
static Datum
MaskText(text *t, PubdataMask rule, int32 dept)
{
	char	   *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	switch (rule)
	{
		case PUBDATA_MASK_ID_CARD:	/* 3301**********1234 */
			/* at least four hidden: shorter values are all stars */
			return PointerGetDatum(MaskChars(s, len, 4, 4, 12));
		case PUBDATA_MASK_NAME:	/* 张*三, 张* */
			{
				int			n = pg_is_ascii_len(s, len) ? len : pg_mbstrlen_with_len(s, len);

				if (n == 2)
					return PointerGetDatum(MaskChars(s, len, 1, 0, 2));
				return PointerGetDatum(MaskChars(s, len, 1, 1, 3));
			}
		case PUBDATA_MASK_PHONE:	/* 138****5678 */
			/* at least four hidden: shorter values are all stars */
			return PointerGetDatum(MaskChars(s, len, 3, 4, 11));
		case PUBDATA_MASK_EMAIL:	/* z***@example.cn */
			{
				char	   *at = memchr(s, '@', len);

				if (at == NULL || at == s)
					return PointerGetDatum(MaskChars(s, len, 0, 0, INT_MAX));
				else
				{
					int			first = pg_mblen(s);
					StringInfoData out;

					initStringInfo(&out);
					appendBinaryStringInfo(&out, s, first);
					appendStringInfoString(&out, "***");
					appendBinaryStringInfo(&out, at, len - (at - s));
					return PointerGetDatum(cstring_to_text_with_len(out.data, out.len));
				}
			}
		case PUBDATA_MASK_PSEUDONYM:
			{
				static const char digits[] = "0123456789abcdef";
				static char pairs[256][2];	/* each byte's two hex digits */
				static bool pairs_ready = false;
				uint64		h[2];
				text	   *out = (text *) palloc(VARHDRSZ + 32);
				char	   *w = VARDATA(out);
				int			i,
							j;

				if (!pairs_ready)
				{
					for (i = 0; i < 256; i++)
					{
						pairs[i][0] = digits[i >> 4];
						pairs[i][1] = digits[i & 0xf];
					}
					pairs_ready = true;
				}
				SipHash128(DepartmentKey(dept), (const uint8 *) s, len, h);
				for (i = 0; i < 2; i++)
				{
					uint64		v = h[i];

					for (j = 7; j >= 0; j--, v >>= 8)
						memcpy(w + i * 16 + j * 2, pairs[v & 0xff], 2);
				}
				SET_VARSIZE(out, VARHDRSZ + 32);
				return PointerGetDatum(out);
			}
		default:
			elog(ERROR, "mask %d does not apply to text", (int) rule);
	}
	return (Datum) 0;
}

/*
 * MaskDate
 *		A date or timestamp truncated to its year or month.
 */
static Datum
MaskDate(Datum value, Oid type, PubdataMask rule)
{
	const char *field = rule == PUBDATA_MASK_YEAR ? "year" : "month";

	switch (type)
	{
		case DATEOID:
			{
				Timestamp	ts = DatumGetTimestamp(DirectFunctionCall1(date_timestamp, value));

				ts = DatumGetTimestamp(DirectFunctionCall2(timestamp_trunc, CStringGetTextDatum(field),
														   TimestampGetDatum(ts)));
				return DirectFunctionCall1(timestamp_date, TimestampGetDatum(ts));
			}
		case TIMESTAMPOID:
			return DirectFunctionCall2(timestamp_trunc, CStringGetTextDatum(field), value);
		case TIMESTAMPTZOID:
			return DirectFunctionCall2(timestamptz_trunc, CStringGetTextDatum(field), value);
		default:
			elog(ERROR, "mask %s does not apply to type %u", field, type);
	}
	return (Datum) 0;
}

/*
 * pubdata_mask_open_prepare
 *		See mask.h.  Loads the key as the extension owner, before the caller
 *		becomes anyone else.
 */
void
pubdata_mask_open_prepare(void)
{
	if (!master_valid || !hmac_valid)
		LoadMasterKey();
}

/*
 * OpenPseudonym
 *		Hex HMAC-SHA256 of the value's UTF-8 bytes under the key: what
 *		encode(hmac(convert_to(v, 'UTF8'), key, 'sha256'), 'hex') gives.
 */
static text *
OpenPseudonym(const char *s, int len)
{
	static const char digits[] = "0123456789abcdef";
	const char *utf8 = s;
	uint8		inner[32];
	uint8		mac[32];
	text	   *out;
	char	   *w;
	int			i;

	/* prepared before the read began; a key rotated meanwhile is for the next */
	if (hmac_inner == NULL)
		elog(ERROR, "the pseudonymization key was not loaded");
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		utf8 = pg_server_to_any(s, len, PG_UTF8);
		if (utf8 != s)
			len = strlen(utf8);
	}
	if (EVP_MD_CTX_copy_ex(hmac_work, hmac_inner) != 1 ||
		EVP_DigestUpdate(hmac_work, utf8, len) != 1 ||
		EVP_DigestFinal_ex(hmac_work, inner, NULL) != 1 ||
		EVP_MD_CTX_copy_ex(hmac_work, hmac_outer) != 1 ||
		EVP_DigestUpdate(hmac_work, inner, sizeof(inner)) != 1 ||
		EVP_DigestFinal_ex(hmac_work, mac, NULL) != 1)
		elog(ERROR, "could not compute a pseudonym");
	out = (text *) palloc(VARHDRSZ + 64);
	w = VARDATA(out);
	for (i = 0; i < 32; i++)
	{
		*w++ = digits[mac[i] >> 4];
		*w++ = digits[mac[i] & 0xf];
	}
	SET_VARSIZE(out, VARHDRSZ + 64);
	return out;
}

/*
 * LeftChars
 *		The first n characters of a value.
 */
static text *
LeftChars(const char *s, int len, int n)
{
	return cstring_to_text_with_len(s, pg_mbcharcliplen(s, len, n));
}

/*
 * pubdata_mask_open_text
 *		See mask.h.
 */
text *
pubdata_mask_open_text(text *value, PubdataMask rule)
{
	char	   *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);

	switch (rule)
	{
		case PUBDATA_MASK_NONE:
			return value;
		case PUBDATA_MASK_ID_CARD:
		case PUBDATA_MASK_NAME:
		case PUBDATA_MASK_PHONE:
		case PUBDATA_MASK_EMAIL:
			return DatumGetTextPP(MaskText(value, rule, 0));
		case PUBDATA_MASK_PSEUDONYM:
			return OpenPseudonym(s, len);
		case PUBDATA_MASK_YEAR:		/* 1990 of 1990-01-01 */
			return LeftChars(s, len, 4);
		case PUBDATA_MASK_MONTH:	/* 1990-01 */
			return LeftChars(s, len, 7);
		default:
			elog(ERROR, "mask %d has no open form", (int) rule);
	}
	return NULL;
}

/*
 * pubdata_mask_open_date
 *		See mask.h.  The fields of the value itself, so that the result does
 *		not depend on DateStyle; a timestamptz in the session's time zone.
 */
text *
pubdata_mask_open_date(Datum value, Oid type, PubdataMask rule)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	int			year;
	bool		finite = true;
	bool		before = false;	/* -infinity */

	memset(&tm, 0, sizeof(tm));
	switch (type)
	{
		case DATEOID:
			if (DATE_NOT_FINITE(DatumGetDateADT(value)))
			{
				finite = false;
				before = DATE_IS_NOBEGIN(DatumGetDateADT(value));
			}
			else
				j2date(DatumGetDateADT(value) + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
			break;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value)))
			{
				finite = false;
				before = TIMESTAMP_IS_NOBEGIN(DatumGetTimestamp(value));
			}
			else if (timestamp2tm(DatumGetTimestamp(value), type == TIMESTAMPTZOID ? &tz : NULL,
								  &tm, &fsec, NULL, NULL) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("timestamp out of range")));
			break;
		default:
			elog(ERROR, "mask %s does not apply to type %u", pubdata_mask_names[rule], type);
	}
	if (!finite)
		return cstring_to_text(before ? "-infinity" : "infinity");
	year = tm.tm_year > 0 ? tm.tm_year : -(tm.tm_year - 1);	/* 1 BC is year 0 */
	if (rule == PUBDATA_MASK_YEAR)
		return cstring_to_text(psprintf("%04d", year));
	if (rule == PUBDATA_MASK_MONTH)
		return cstring_to_text(psprintf("%04d-%02d", year, tm.tm_mon));
	elog(ERROR, "mask %s does not apply to type %u", pubdata_mask_names[rule], type);
	return NULL;
}

PG_FUNCTION_INFO_V1(pubdata_mask_value);

/*
 * pubdata.mask_value(value text, rule text) returns text
 *		What an open view shows of a value under a mask rule: the same C code
 *		as the views.  A pseudonym needs the key, which only roles that may
 *		read pubdata.open_pseudonym_key (pubdata_admin) may use.
 */
Datum
pubdata_mask_value(PG_FUNCTION_ARGS)
{
	char	   *name;
	int			rule;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("mask rule must not be null"),
				 errhint("Use one of: none, id_card, name, phone, email, pseudonym, redact, year, month.")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	rule = pubdata_mask_from_name(name);
	if (rule < 0 || rule >= PUBDATA_MASK_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid mask rule \"%s\"", name),
				 errhint("Use one of: none, id_card, name, phone, email, pseudonym, redact, year, month.")));
	if (rule == PUBDATA_MASK_PSEUDONYM)
	{
		Oid			key_table = pubdata_relation_oid("open_pseudonym_key");

		if (!OidIsValid(key_table) ||
			pg_class_aclcheck(key_table, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table open_pseudonym_key"),
					 errdetail("A pseudonym is computed with the pseudonymization key, which only pubdata_admin may use."),
					 errhint("Compare pseudonyms through the open views instead.")));
		pubdata_mask_open_prepare();
	}
	if (PG_ARGISNULL(0) || rule == PUBDATA_MASK_REDACT)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(pubdata_mask_open_text(PG_GETARG_TEXT_PP(0), (PubdataMask) rule));
}

/*
 * DeliveredRule
 *		The rule the running statement's grant choice delivers a column of a
 *		relation under, for a reader: 0 in clear; redact when there is no
 *		choice (outside a governed statement).
 */
static int
DeliveredRule(Oid relid, int16 attnum, Oid reader, int32 *dept)
{
	GuardFrame *f = pubdata_hooks_running_frame();
	int			i;

	for (i = 0; f != NULL && i < f->nrels; i++)
	{
		GuardRel   *gr = &f->rels[i];

		if (gr->relid != relid || gr->userid != reader || gr->deliver == NULL)
			continue;
		*dept = gr->dept;
		return (attnum > 0 && attnum <= gr->natts) ? gr->deliver[attnum] : PUBDATA_MASK_REDACT;
	}
	return PUBDATA_MASK_REDACT;
}

PG_FUNCTION_INFO_V1(pubdata_grant_rule);

/*
 * pubdata._grant_rule(relation oid, attnum int2, reader oid) returns integer
 *		The rule delivered (0: clear); the CASE of a column that has
 *		providers' masks picks their expression by it.
 */
Datum
pubdata_grant_rule(PG_FUNCTION_ARGS)
{
	int32		dept;

	PG_RETURN_INT32(DeliveredRule(PG_GETARG_OID(0), PG_GETARG_INT16(1), PG_GETARG_OID(2), &dept));
}

PG_FUNCTION_INFO_V1(pubdata_grant_mask);

/*
 * pubdata._grant_mask(value anyelement, relation oid, attnum int2, reader oid)
 *		returns anyelement
 *		What the running statement's grant choice delivers of this column:
 *		the value, or its masked form.  Without a choice (called outside a
 *		governed statement) nothing is delivered.
 */
Datum
pubdata_grant_mask(PG_FUNCTION_ARGS)
{
	Datum		value = PG_GETARG_DATUM(0);
	Oid			relid = PG_GETARG_OID(1);
	int16		attnum = PG_GETARG_INT16(2);
	Oid			reader = PG_GETARG_OID(3);
	int32		dept = 0;
	int			rule = DeliveredRule(relid, attnum, reader, &dept);
	Oid			type;

	if (rule == PUBDATA_MASK_NONE)
		PG_RETURN_DATUM(value);
	/* a provider's mask is applied by the CASE around this call */
	if (rule == PUBDATA_MASK_REDACT || rule >= PUBDATA_MASK_CUSTOM_BASE)
		PG_RETURN_NULL();

	/* the argument's base type, looked up once per call site */
	if (fcinfo->flinfo->fn_extra == NULL)
	{
		Oid		   *t = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid));

		*t = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 0));
		fcinfo->flinfo->fn_extra = t;
	}
	type = *(Oid *) fcinfo->flinfo->fn_extra;
	if (rule == PUBDATA_MASK_YEAR || rule == PUBDATA_MASK_MONTH)
	{
		if (type != DATEOID && type != TIMESTAMPOID && type != TIMESTAMPTZOID)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(MaskDate(value, type, rule));
	}
	if (type != TEXTOID && type != VARCHAROID && type != BPCHAROID)
		PG_RETURN_NULL();		/* the item's type changed since the grant */
	PG_RETURN_DATUM(MaskText(DatumGetTextPP(value), rule, dept));
}

PG_FUNCTION_INFO_V1(pubdata_mask_applies);

/*
 * pubdata._mask_applies(rule pubdata.mask_rule, type regtype, typmod int)
 *		returns text
 *		NULL when a grant may give an item of this type under this rule,
 *		else why not.
 */
Datum
pubdata_mask_applies(PG_FUNCTION_ARGS)
{
	int			rule = pubdata_mask_from_name(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	Oid			type = PG_GETARG_OID(1);
	int32		typmod = PG_GETARG_INT32(2);

	if (rule <= 0)
		PG_RETURN_TEXT_P(cstring_to_text("it is not a mask rule"));
	if (get_typtype(type) == TYPTYPE_DOMAIN)
		PG_RETURN_TEXT_P(cstring_to_text("masks do not apply to columns of a domain type"));
	if (rule == PUBDATA_MASK_REDACT)
		PG_RETURN_NULL();
	if (rule == PUBDATA_MASK_YEAR || rule == PUBDATA_MASK_MONTH)
	{
		if (type == DATEOID || type == TIMESTAMPOID || type == TIMESTAMPTZOID)
			PG_RETURN_NULL();
		PG_RETURN_TEXT_P(cstring_to_text("year and month apply to date and timestamp columns"));
	}
	if (type != TEXTOID && type != VARCHAROID && type != BPCHAROID)
		PG_RETURN_TEXT_P(cstring_to_text("this mask applies to text columns (text, varchar, char)"));
	if (rule == PUBDATA_MASK_PSEUDONYM && typmod >= 0 && typmod - VARHDRSZ < 32)
		PG_RETURN_TEXT_P(cstring_to_text("a pseudonym has 32 characters; the column is shorter"));
	PG_RETURN_NULL();
}

/*
 * UsesOnlyBuiltins
 *		Walker: true at the first function (operator, cast, I/O) outside
 *		pg_catalog.
 */
static bool
NotBuiltin(Oid func_id, void *context)
{
	return get_func_namespace(func_id) != PG_CATALOG_NAMESPACE;
}

static bool
ForeignFunctionWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, NotBuiltin, context))
		return true;
	return expression_tree_walker(node, ForeignFunctionWalker, context);
}

PG_FUNCTION_INFO_V1(pubdata_check_mask_expression);

/*
 * pubdata._check_mask_expression(relation regclass, item name, expression text)
 *		A provider's own mask must be one SQL expression over the item alone,
 *		of the item's type, made of built-in functions that are not volatile
 *		(it runs in every reader's query, with the reader's rights).  It is
 *		parsed as the table's owner in a security-restricted operation.
 */
Datum
pubdata_check_mask_expression(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *item = NameStr(*PG_GETARG_NAME(1));
	char	   *src = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *what = psprintf("the mask of item \"%s\"", item);
	AttrNumber	attnum = get_attnum(relid, item);
	Oid			atttype;
	int32		atttypmod;
	Oid			attcoll;
	Node	   *raw;
	PubdataIdentity id;

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", item, get_rel_name(relid))));
	get_atttypetypmodcoll(relid, attnum, &atttype, &atttypmod, &attcoll);
	raw = pubdata_parse_expression(src, what);

	pubdata_become_owner(&id, relid);
	PG_TRY();
	{
		Relation	rel = relation_open(relid, AccessShareLock);
		ParseState *pstate = make_parsestate(NULL);
		ParseNamespaceItem *nsitem;
		Node	   *expr;
		Node	   *coerced;
		Bitmapset  *vars = NULL;

		pstate->p_sourcetext = src;
		nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
		addNSItemToQuery(pstate, nsitem, true, true, true);
		expr = transformExpr(pstate, raw, EXPR_KIND_CHECK_CONSTRAINT);
		coerced = coerce_to_target_type(pstate, expr, exprType(expr), atttype, atttypmod,
										COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
		if (coerced == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("%s is of type %s, not of the item's type %s", what,
							format_type_be(exprType(expr)), format_type_be(atttype)),
					 errhint("The masked value takes the item's place: cast it to the item's type.")));
		assign_expr_collations(pstate, coerced);
		pull_varattnos(coerced, 1, &vars);
		if (!bms_is_subset(vars, bms_make_singleton(attnum - FirstLowInvalidHeapAttributeNumber)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s reads other columns than its item", what),
					 errhint("A mask is computed from the item's own value.")));
		if (contain_volatile_functions(coerced) || ForeignFunctionWalker(coerced, NULL))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s uses a function that is volatile or not built in", what),
					 errhint("A mask runs in every reader's query: build it from PostgreSQL's own immutable or stable functions (left, right, substr, repeat, date_trunc, ...).")));
		free_parsestate(pstate);
		relation_close(rel, AccessShareLock);
	}
	PG_FINALLY();
	{
		pubdata_restore(&id);
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}
