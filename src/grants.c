/*-------------------------------------------------------------------------
 *
 * grants.c
 *	  Backend-local cache of the live grants, for the per-query grant
 *	  decision of the executor hook (guard.c).
 *
 * A point lookup by a department must cost what the provider's costs, so the
 * decision "which grants let this department read these columns of this
 * resource" takes no query: one hash lookup on (resource, department) gives
 * the department's approved grants with the columns each gives (the
 * resource's unconditional items included, which are open to every row),
 * its expiry, row-scope flag, purpose and scenario, and the resource's shared
 * items.  The cache is filled as it is needed: the resources' shared items
 * with one query, then each department's grants with one query the first
 * time that department is looked up (a session acts for one department, and
 * a city has hundreds: a session does not load the others' grants).  After a
 * change it is emptied: statement triggers on share_request, scenario,
 * scenario_resource, resource and resource_item send a relcache invalidation
 * of the changed table, and every backend's callback marks the cache stale
 * (delivered at the next transaction or lock, the way PostgreSQL's own
 * privilege changes are).  Expiry is compared with the clock at each query,
 * never cached.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "grants.h"
#include "identity.h"
#include "mask.h"

#include "access/attnum.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

typedef struct GrantKey
{
	int64		resource_id;
	int32		dept;			/* 0: the resource's shared items */
} GrantKey;

typedef struct GrantEntry
{
	GrantKey	key;
	PubdataGrantSet set;
	int			capacity;
} GrantEntry;

static HTAB *grant_cache = NULL;
static MemoryContext grant_cxt = NULL;
static bool grants_valid = false;
static bool grants_loading = false;
static bool grants_callback = false;
static bool installed = false;	/* pubdata's tables exist in this database */
static HTAB *loaded_depts = NULL;	/* the departments whose grants are read */
static Oid	watched[7];

static const PubdataGrantSet empty_set = {0, NULL, NULL};

/*
 * The last answer of pubdata_grants_lookup: a statement asks for the same
 * department and resource several times (the decision, the copy rule, the
 * audit record), and the next statement usually asks for it again.  Cleared
 * whenever the cache is rebuilt or a department is read into it.
 */
static const PubdataGrantSet *memo_set = NULL;
static int64 memo_resource;
static int32 memo_dept;

static const PubdataGrantSet *LookupLoaded(int64 resource_id, int32 dept);

static const char *const watched_names[] = {
	"share_request", "scenario", "scenario_resource", "resource", "resource_item",
	"open_pseudonym_key", "custom_mask"
};

/*
 * One row per approved request (dept > 0) and one per published
 * unconditional resource (dept 0: its shared items).  Only current items
 * count: a column added to the table is neither shared nor opened until the
 * bureau has reviewed it (state 'added').  Runs as the extension owner with
 * search_path pinned; reads pubdata's own tables only.
 */
static const char dept_sql[] =
"SELECT s.resource_id, s.requester_id, s.id,"
"       coalesce(s.expires_at, 'infinity'::pg_catalog.timestamptz),"
"       s.row_scope IS NOT NULL AND s.row_scope OPERATOR(pg_catalog.<>) '{}'::pg_catalog.jsonb,"
"       s.mode OPERATOR(pg_catalog.=) 'copy' AND s.copy_approved_at IS NOT NULL,"
"       s.purpose, sc.code,"
"       ARRAY(SELECT i.attnum FROM pubdata.resource_item i"
"              JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) i.resource_id"
"             WHERE i.resource_id OPERATOR(pg_catalog.=) s.resource_id"
"               AND i.state OPERATOR(pg_catalog.=) 'current' AND i.attnum IS NOT NULL"
"               AND coalesce(i.share_class, r.share_class) OPERATOR(pg_catalog.<>) 'non_shared'"
"               AND (s.items IS NULL OR i.column_name OPERATOR(pg_catalog.=) ANY (s.items))),"
"       ARRAY(SELECT i.attnum FROM pubdata.resource_item i"
"              JOIN pg_catalog.jsonb_each_text(coalesce(s.masks, '{}'::pg_catalog.jsonb)) m"
"                ON m.key OPERATOR(pg_catalog.=) i.column_name::pg_catalog.text"
"             WHERE i.resource_id OPERATOR(pg_catalog.=) s.resource_id"
"               AND i.state OPERATOR(pg_catalog.<>) 'dropped' AND i.attnum IS NOT NULL ORDER BY i.attnum),"
"       ARRAY(SELECT CASE WHEN m.value LIKE 'custom:%' THEN m.value OPERATOR(pg_catalog.||) '#' OPERATOR(pg_catalog.||)"
"                          coalesce((SELECT c.id FROM pubdata.custom_mask c"
"                                     WHERE c.resource_id OPERATOR(pg_catalog.=) s.resource_id"
"                                       AND c.column_name OPERATOR(pg_catalog.=) i.column_name"
"                                       AND c.name OPERATOR(pg_catalog.=) pg_catalog.substr(m.value, 8)), 0)::pg_catalog.text"
"                     ELSE m.value END"
"              FROM pubdata.resource_item i"
"              JOIN pg_catalog.jsonb_each_text(coalesce(s.masks, '{}'::pg_catalog.jsonb)) m"
"                ON m.key OPERATOR(pg_catalog.=) i.column_name::pg_catalog.text"
"             WHERE i.resource_id OPERATOR(pg_catalog.=) s.resource_id"
"               AND i.state OPERATOR(pg_catalog.<>) 'dropped' AND i.attnum IS NOT NULL ORDER BY i.attnum)"
"  FROM pubdata.share_request s"
"  LEFT JOIN pubdata.scenario sc ON sc.id OPERATOR(pg_catalog.=) s.scenario_id"
" WHERE s.status OPERATOR(pg_catalog.=) 'approved'"
"   AND s.requester_id OPERATOR(pg_catalog.=) $1"
" ORDER BY 1, 2, 3";

/* every published unconditional resource's shared items (dept 0) */
static const char shared_sql[] =
"SELECT r.id, 0, 0, 'infinity'::pg_catalog.timestamptz, false, false, NULL, NULL,"
"       ARRAY(SELECT i.attnum FROM pubdata.resource_item i"
"             WHERE i.resource_id OPERATOR(pg_catalog.=) r.id"
"               AND i.state OPERATOR(pg_catalog.=) 'current' AND i.attnum IS NOT NULL"
"               AND i.personal OPERATOR(pg_catalog.=) 'none'"
"               AND coalesce(i.share_class, 'unconditional') OPERATOR(pg_catalog.=) 'unconditional'),"
"       NULL::pg_catalog.int2[], NULL::pg_catalog.text[]"
"  FROM pubdata.resource r"
" WHERE r.share_class OPERATOR(pg_catalog.=) 'unconditional'"
"   AND r.status OPERATOR(pg_catalog.=) 'published'"
" ORDER BY 1, 2, 3";

/*
 * GrantsInvalidate
 *		Relcache callback: a table the cache is built from changed.
 */
static void
GrantsInvalidate(Datum arg, Oid relid)
{
	int			i;

	if (relid == InvalidOid)
	{
		grants_valid = false;
		return;
	}
	for (i = 0; i < lengthof(watched); i++)
		if (relid == watched[i])
			grants_valid = false;
}

/*
 * pubdata_grants_init
 *		Register the invalidation callback (once per backend).
 */
void
pubdata_grants_init(void)
{
	if (grants_callback)
		return;
	CacheRegisterRelcacheCallback(GrantsInvalidate, (Datum) 0);
	grants_callback = true;
}

/*
 * ColsFromArray
 *		A Bitmapset of the attnums in an int2[] (offset as in RangeTblEntry).
 */
static Bitmapset *
ColsFromArray(Datum arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	Bitmapset  *cols = NULL;

	deconstruct_array(DatumGetArrayTypeP(arr), INT2OID, 2, true, TYPALIGN_SHORT,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (!nulls[i])
			cols = bms_add_member(cols, DatumGetInt16(elems[i]) - FirstLowInvalidHeapAttributeNumber);
	return cols;
}

/*
 * ReadGrants
 *		Run one of the queries above (dept_sql with its department) and add
 *		its rows to the cache.
 */
static void
ReadGrants(const char *sql, int32 dept)
{
	PubdataIdentity id;
	GrantEntry *e;

	grants_loading = true;
	pubdata_become(&id, pubdata_extension_owner(), 0);
	PG_TRY();
	{
		uint64		r;
		Oid			argtypes[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(dept)};

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args(sql, sql == dept_sql ? 1 : 0, argtypes, values, NULL,
								  true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read pubdata's grants");
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			GrantKey	key;
			bool		found;
			MemoryContext old;
			Datum		d;

			memset(&key, 0, sizeof(key));
			key.resource_id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
			key.dept = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
			e = hash_search(grant_cache, &key, HASH_ENTER, &found);
			if (!found)
			{
				e->set.ngrants = 0;
				e->set.grants = NULL;
				e->set.shared = NULL;
				e->capacity = 0;
			}
			old = MemoryContextSwitchTo(grant_cxt);
			d = SPI_getbinval(tup, td, 9, &isnull);
			if (key.dept == 0)
				e->set.shared = isnull ? NULL : ColsFromArray(d);
			else
			{
				PubdataGrant *g;
				char	   *s;

				if (e->set.ngrants == e->capacity)
				{
					e->capacity = e->capacity ? e->capacity * 2 : 2;
					e->set.grants = e->set.grants ?
						repalloc(e->set.grants, e->capacity * sizeof(PubdataGrant)) :
						palloc(e->capacity * sizeof(PubdataGrant));
				}
				g = &e->set.grants[e->set.ngrants++];
				g->cols = isnull ? NULL : ColsFromArray(d);
				g->clear = bms_copy(g->cols);
				g->nmasks = 0;
				g->mask_att = NULL;
				g->mask_rule = NULL;
				{
					bool		n1,
								n2;
					Datum		atts = SPI_getbinval(tup, td, 10, &n1);
					Datum		rules = SPI_getbinval(tup, td, 11, &n2);

					if (!n1 && !n2)
					{
						Datum	   *ae,
								   *re;
						bool	   *an,
								   *rn;
						int			na,
									nr,
									k;

						deconstruct_array(DatumGetArrayTypeP(atts), INT2OID, 2, true, TYPALIGN_SHORT,
										  &ae, &an, &na);
						deconstruct_array(DatumGetArrayTypeP(rules), TEXTOID, -1, false, TYPALIGN_INT,
										  &re, &rn, &nr);
						g->mask_att = palloc(sizeof(int16) * Max(na, 1));
						g->mask_rule = palloc(sizeof(int16) * Max(na, 1));
						g->mask_label = palloc(sizeof(char *) * Max(na, 1));
						for (k = 0; k < na && k < nr; k++)
						{
							char	   *label = TextDatumGetCString(re[k]);
							int			rule = pubdata_mask_from_name(label);
							int16		att = DatumGetInt16(ae[k]);
							char	   *hash = strchr(label, '#');

							if (rule <= 0)
								rule = PUBDATA_MASK_REDACT;	/* a mask gone: nothing */
							if (hash)
								*hash = '\0';	/* shown as the request named it */
							g->mask_att[g->nmasks] = att;
							g->mask_rule[g->nmasks] = (int16) rule;
							g->mask_label[g->nmasks] = label;
							g->nmasks++;
							g->cols = bms_add_member(g->cols, att - FirstLowInvalidHeapAttributeNumber);
							g->clear = bms_del_member(g->clear, att - FirstLowInvalidHeapAttributeNumber);
						}
					}
				}
				g->id = DatumGetInt64(SPI_getbinval(tup, td, 3, &isnull));
				g->expires_at = DatumGetTimestampTz(SPI_getbinval(tup, td, 4, &isnull));
				g->scoped = DatumGetBool(SPI_getbinval(tup, td, 5, &isnull));
				g->copy_ok = DatumGetBool(SPI_getbinval(tup, td, 6, &isnull));
				s = SPI_getvalue(tup, td, 7);
				g->purpose = s ? pstrdup(s) : NULL;
				g->purpose_audit = g->purpose;
				if (s && pg_mbstrlen(s) > PUBDATA_PURPOSE_MAX)
					g->purpose_audit = psprintf("%.*s ...",
												pg_mbcharcliplen(s, strlen(s), PUBDATA_PURPOSE_MAX), s);
				s = SPI_getvalue(tup, td, 8);
				g->scenario = s ? pstrdup(s) : NULL;
			}
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		pubdata_restore(&id);
		grants_loading = false;
	}
	PG_END_TRY();
}

/*
 * ResetGrants
 *		Empty the cache and read the resources' shared items.
 */
static void
ResetGrants(void)
{
	Oid			nsp = pubdata_schema_oid();
	int			i;

	memo_set = NULL;
	pubdata_fresh_context(&grant_cxt, CacheMemoryContext, "pubdata grant cache");
	grant_cache = pubdata_blob_hash("pubdata grants", sizeof(GrantKey), sizeof(GrantEntry), 256, grant_cxt);
	loaded_depts = pubdata_blob_hash("pubdata grant departments", sizeof(int32), sizeof(int32), 16, grant_cxt);

	for (i = 0; i < lengthof(watched); i++)
		watched[i] = pubdata_relation_oid(watched_names[i]);
	installed = OidIsValid(nsp) && OidIsValid(watched[0]);
	/* valid from here: an invalidation while reading marks it stale again */
	grants_valid = true;
	if (installed)
		ReadGrants(shared_sql, 0);
}

/*
 * LoadDepartment
 *		Read a department's grants into the cache; each also covers its
 *		resource's shared items.
 */
static void
LoadDepartment(int32 dept)
{
	HASH_SEQ_STATUS seq;
	GrantEntry *e;
	int			i;

	memo_set = NULL;
	(void) hash_search(loaded_depts, &dept, HASH_ENTER, NULL);
	if (!installed)
		return;
	ReadGrants(dept_sql, dept);

	hash_seq_init(&seq, grant_cache);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		GrantKey	skey;
		GrantEntry *shared;

		if (e->key.dept != dept)
			continue;
		memset(&skey, 0, sizeof(skey));
		skey.resource_id = e->key.resource_id;
		shared = hash_search(grant_cache, &skey, HASH_FIND, NULL);
		if (shared == NULL || shared->set.shared == NULL)
			continue;
		e->set.shared = shared->set.shared;
		for (i = 0; i < e->set.ngrants; i++)
		{
			MemoryContext old = MemoryContextSwitchTo(grant_cxt);

			e->set.grants[i].cols = bms_add_members(e->set.grants[i].cols, shared->set.shared);
			e->set.grants[i].clear = bms_add_members(e->set.grants[i].clear, shared->set.shared);
			MemoryContextSwitchTo(old);
		}
	}
}

/*
 * pubdata_grants_lookup
 *		The grants of a department on a resource; see grants.h.
 */
const PubdataGrantSet *
pubdata_grants_lookup(int64 resource_id, int32 dept)
{
	const PubdataGrantSet *set;

	if (grants_loading)
		return &empty_set;
	if (!IsTransactionState())
		return LookupLoaded(resource_id, dept);
	if (!grants_valid || grant_cache == NULL)
		ResetGrants();
	if (memo_set != NULL && memo_resource == resource_id && memo_dept == dept)
		return memo_set;
	if (dept != 0 && hash_search(loaded_depts, &dept, HASH_FIND, NULL) == NULL)
		LoadDepartment(dept);
	set = LookupLoaded(resource_id, dept);
	/* not kept when an invalidation arrived while the cache was read */
	if (grants_valid)
	{
		memo_set = set;
		memo_resource = resource_id;
		memo_dept = dept;
	}
	return set;
}

/*
 * LookupLoaded
 *		The department's grants on the resource, from what the cache holds.
 */
static const PubdataGrantSet *
LookupLoaded(int64 resource_id, int32 dept)
{
	GrantKey	key;
	GrantEntry *e;

	if (grant_cache == NULL)
		return &empty_set;
	memset(&key, 0, sizeof(key));
	key.resource_id = resource_id;
	key.dept = dept;
	e = hash_search(grant_cache, &key, HASH_FIND, NULL);
	if (e == NULL && dept != 0)
	{
		key.dept = 0;
		e = hash_search(grant_cache, &key, HASH_FIND, NULL);
		if (e == NULL)
			return &empty_set;
		/* no grant, but the shared items: a set without grants */
		return &e->set;
	}
	return e ? &e->set : &empty_set;
}

/*
 * pubdata_grant_matches_purpose
 *		The session's declared purpose ("" or NULL: none) names this grant by
 *		its request id or its scenario's code.
 */
bool
pubdata_grant_matches_purpose(const PubdataGrant *g, const char *purpose)
{
	char		idbuf[32];

	if (purpose == NULL || purpose[0] == '\0')
		return true;
	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, g->id);
	if (strcmp(purpose, idbuf) == 0)
		return true;
	return g->scenario != NULL && strcmp(purpose, g->scenario) == 0;
}
