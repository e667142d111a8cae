/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Backend-local cache of the resource catalog.
 *
 * The executor hook must answer "is this relation a registered resource?"
 * for every relation of every statement, so the answer comes from a hash
 * table built once per backend and rebuilt only after the catalog changes.
 * A statement trigger on pubdata.resource and pubdata.department sends a
 * relcache invalidation for the changed table; every backend's callback then
 * marks the cache stale.  Creating or dropping a schema (the extension) and
 * changes of role membership also mark it stale.
 *
 * A partition of a registered table is part of its resource: a second, small
 * map (relid -> the registered table above it, or none: relations that are
 * not partitions are kept too) answers for partitions, filled
 * as they are met and emptied by every relcache invalidation (ATTACH and
 * DETACH PARTITION change the partition's pg_class row; emptying it for any
 * invalidation keeps a detached sub-tree from being remembered).
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "catalog.h"
#include "identity.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_authid.h"
#include "nodes/parsenodes.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

typedef struct DeptEntry
{
	Oid			roleid;			/* hash key: a role that has asked */
	int32		dept_id;		/* 0: acts for no department */
	char		code[PUBDATA_CODE_LEN];
} DeptEntry;

typedef struct PartEntry
{
	Oid			relid;			/* hash key: a partition */
	Oid			registered;		/* the registered table above it, or InvalidOid */
} PartEntry;

typedef struct DeptRow
{
	Oid			roleid;
	int32		id;
	char		code[PUBDATA_CODE_LEN];
} DeptRow;

static HTAB *resource_cache = NULL;
static HTAB *dept_cache = NULL;
static HTAB *part_cache = NULL;
static bool part_cache_valid = false;
static DeptRow *dept_rows = NULL;
static int	n_dept_rows = 0;
static MemoryContext cache_cxt = NULL;
static bool cache_valid = false;
static bool cache_loading = false;
static bool callbacks_registered = false;
static Oid	resource_relid = InvalidOid;
static Oid	department_relid = InvalidOid;

/*
 * InvalidateRelcache
 *		Relcache callback: the catalog tables changed (or everything did).
 */
static void
InvalidateRelcache(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == resource_relid || relid == department_relid)
		cache_valid = false;
	part_cache_valid = false;
}

/*
 * InvalidateSyscache
 *		Syscache callback: a schema or a role membership changed.
 */
static void
InvalidateSyscache(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_valid = false;
}

/*
 * pubdata_catalog_init
 *		Register the invalidation callbacks (once per backend).
 */
void
pubdata_catalog_init(void)
{
	if (callbacks_registered)
		return;
	CacheRegisterRelcacheCallback(InvalidateRelcache, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, InvalidateSyscache, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, InvalidateSyscache, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, InvalidateSyscache, (Datum) 0);
	callbacks_registered = true;
}

/*
 * pubdata_catalog_loading
 *		True while the cache is being (re)built; the executor hook ignores
 *		the statements the loader itself runs.
 */
bool
pubdata_catalog_loading(void)
{
	return cache_loading;
}

/*
 * LoadCache
 *		Rebuild the caches from pubdata.resource and pubdata.department.
 *
 * Runs the query as the extension owner with search_path pinned, so that any
 * role's statement can be classified, whatever that role may read itself,
 * and nothing of the caller's reaches it.
 */
static void
LoadCache(void)
{
	Oid			nsp;
	HASHCTL		ctl;
	PubdataIdentity id;
	MemoryContext oldcxt;

	pubdata_catalog_init();

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(CacheMemoryContext, "pubdata catalog cache",
										  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(cache_cxt);
	resource_cache = NULL;
	dept_cache = NULL;
	part_cache = NULL;
	part_cache_valid = false;
	dept_rows = NULL;
	n_dept_rows = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PubdataResource);
	ctl.hcxt = cache_cxt;
	resource_cache = hash_create("pubdata resources", 256, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(DeptEntry);
	dept_cache = hash_create("pubdata departments", 64, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nsp = get_namespace_oid("pubdata", true);
	resource_relid = OidIsValid(nsp) ? get_relname_relid("resource", nsp) : InvalidOid;
	department_relid = OidIsValid(nsp) ? get_relname_relid("department", nsp) : InvalidOid;
	if (!OidIsValid(resource_relid) || !OidIsValid(department_relid) || !IsTransactionState())
	{
		cache_valid = OidIsValid(nsp) || IsTransactionState();
		return;
	}

	pubdata_become(&id, pubdata_extension_owner(), 0);
	cache_loading = true;
	PG_TRY();
	{
		uint64		i;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT r.relation::pg_catalog.oid, r.id, r.code, r.share_class::pg_catalog.text,"
						" r.status OPERATOR(pg_catalog.=) 'published', coalesce(ro.oid, 0), r.provider_id"
						" FROM pubdata.resource r"
						" JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id"
						" LEFT JOIN pg_catalog.pg_roles ro ON ro.rolname OPERATOR(pg_catalog.=) d.role_name"
						" WHERE r.relation IS NOT NULL", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read pubdata.resource");
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			Oid			relid = DatumGetObjectId(SPI_getbinval(tup, td, 1, &isnull));
			PubdataResource *r;
			bool		found;
			char	   *code;
			char	   *cls;

			r = hash_search(resource_cache, &relid, HASH_ENTER, &found);
			r->id = DatumGetInt64(SPI_getbinval(tup, td, 2, &isnull));
			code = SPI_getvalue(tup, td, 3);
			strlcpy(r->code, code, PUBDATA_CODE_LEN);
			cls = SPI_getvalue(tup, td, 4);
			r->share_class = strcmp(cls, "unconditional") == 0 ? PUBDATA_UNCONDITIONAL :
				strcmp(cls, "restricted") == 0 ? PUBDATA_RESTRICTED : PUBDATA_NON_SHARED;
			r->published = DatumGetBool(SPI_getbinval(tup, td, 5, &isnull));
			r->provider_role = DatumGetObjectId(SPI_getbinval(tup, td, 6, &isnull));
			r->provider_dept = DatumGetInt32(SPI_getbinval(tup, td, 7, &isnull));
		}

		if (SPI_execute("SELECT ro.oid, d.id, d.code FROM pubdata.department d"
						" JOIN pg_catalog.pg_roles ro ON ro.rolname OPERATOR(pg_catalog.=) d.role_name",
						true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read pubdata.department");
		oldcxt = MemoryContextSwitchTo(cache_cxt);
		dept_rows = palloc0(sizeof(DeptRow) * (SPI_processed + 1));
		MemoryContextSwitchTo(oldcxt);
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;

			dept_rows[i].roleid = DatumGetObjectId(SPI_getbinval(tup, td, 1, &isnull));
			dept_rows[i].id = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
			strlcpy(dept_rows[i].code, SPI_getvalue(tup, td, 3), PUBDATA_CODE_LEN);
		}
		n_dept_rows = (int) SPI_processed;
		SPI_finish();
	}
	PG_FINALLY();
	{
		cache_loading = false;
		pubdata_restore(&id);
	}
	PG_END_TRY();
	cache_valid = true;
}

/*
 * EnsureCache
 *		Make the cache current; cheap when it already is.
 */
static void
EnsureCache(void)
{
	if (!cache_valid && !cache_loading && IsTransactionState())
		LoadCache();
}

/*
 * pubdata_catalog_lookup
 *		The registered resource stored in relation relid, or NULL.
 */
PubdataResource *
pubdata_catalog_lookup(Oid relid)
{
	EnsureCache();
	if (resource_cache == NULL || cache_loading)
		return NULL;
	return (PubdataResource *) hash_search(resource_cache, &relid, HASH_FIND, NULL);
}

/*
 * pubdata_catalog_lookup_partition
 *		The registered resource a partition belongs to (the nearest registered
 *		table above it), or NULL: relid is not a partition, or no table above
 *		it is registered.  A partitioned table's partitions carry neither its
 *		row-level security nor its grants' policies, so a statement naming a
 *		partition must be held to the resource.
 */
PubdataResource *
pubdata_catalog_lookup_partition(Oid relid)
{
	PartEntry  *e;
	bool		found;

	EnsureCache();
	if (resource_cache == NULL || cache_loading)
		return NULL;
	if (!part_cache_valid || part_cache == NULL)
	{
		if (part_cache != NULL)
			hash_destroy(part_cache);
		part_cache = pubdata_blob_hash("pubdata partitions", sizeof(Oid), sizeof(PartEntry), 64, cache_cxt);
		part_cache_valid = true;
	}
	e = hash_search(part_cache, &relid, HASH_ENTER, &found);
	if (!found)
	{
		List	   *ancestors;
		ListCell   *lc;

		/* every relation a statement names is asked: "not a partition" is kept too */
		e->registered = InvalidOid;
		if (!get_rel_relispartition(relid))
			return NULL;
		ancestors = get_partition_ancestors(relid);
		foreach(lc, ancestors)
		{
			Oid			anc = lfirst_oid(lc);

			if (hash_search(resource_cache, &anc, HASH_FIND, NULL) != NULL)
			{
				e->registered = anc;
				break;
			}
		}
		list_free(ancestors);
	}
	if (!OidIsValid(e->registered))
		return NULL;
	return (PubdataResource *) hash_search(resource_cache, &e->registered, HASH_FIND, NULL);
}

/*
 * pubdata_catalog_detaching
 *		ALTER TABLE ... DETACH PARTITION of a partition of a registered table
 *		(or of a partition of one): the resource's code, the partition's name
 *		in *partition; NULL for any other statement.
 */
char *
pubdata_catalog_detaching(Node *stmt, char **partition)
{
	AlterTableStmt *at;
	ListCell   *lc;

	if (!IsA(stmt, AlterTableStmt))
		return NULL;
	at = (AlterTableStmt *) stmt;
	foreach(lc, at->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		PartitionCmd *pc;
		Oid			parent;
		PubdataResource *res;

		if (cmd->subtype != AT_DetachPartition || !IsA(cmd->def, PartitionCmd))
			continue;
		pc = (PartitionCmd *) cmd->def;
		parent = RangeVarGetRelid(at->relation, NoLock, true);
		if (!OidIsValid(parent))
			return NULL;
		res = pubdata_catalog_lookup(parent);
		if (res == NULL)
			res = pubdata_catalog_lookup_partition(parent);
		if (res == NULL)
			return NULL;
		*partition = pstrdup(pc->name->relname);
		return pstrdup(res->code);
	}
	return NULL;
}

/*
 * pubdata_catalog_department
 *		The department a role acts for (0 if none); its code is copied to
 *		code_out (PUBDATA_CODE_LEN bytes) when code_out is not NULL.
 *
 * Same rule as pubdata.department_of(): the role's own mapping, else the
 * single department role it is a member of (never by superuser rights).
 */
int32
pubdata_catalog_department(Oid roleid, char *code_out)
{
	DeptEntry  *e;
	bool		found;

	EnsureCache();
	if (dept_cache == NULL || cache_loading)
		return 0;
	e = hash_search(dept_cache, &roleid, HASH_ENTER, &found);
	if (!found)
	{
		int			i;
		int			hits = 0;

		e->dept_id = 0;
		e->code[0] = '\0';
		for (i = 0; i < n_dept_rows; i++)
		{
			if (dept_rows[i].roleid == roleid)
			{
				e->dept_id = dept_rows[i].id;
				strlcpy(e->code, dept_rows[i].code, PUBDATA_CODE_LEN);
				hits = 1;
				break;
			}
		}
		if (hits == 0 && !superuser_arg(roleid))
		{
			for (i = 0; i < n_dept_rows; i++)
			{
				if (is_member_of_role_nosuper(roleid, dept_rows[i].roleid))
				{
					hits++;
					e->dept_id = dept_rows[i].id;
					strlcpy(e->code, dept_rows[i].code, PUBDATA_CODE_LEN);
				}
			}
			if (hits != 1)
			{
				e->dept_id = 0;
				e->code[0] = '\0';
			}
		}
	}
	if (code_out)
		strlcpy(code_out, e->code, PUBDATA_CODE_LEN);
	return e->dept_id;
}

PG_FUNCTION_INFO_V1(pubdata_catalog_invalidate);

/*
 * pubdata._catalog_invalidate() trigger
 *		Statement trigger on the catalog tables: tell every backend that its
 *		cache is stale (delivered at commit).
 */
Datum
pubdata_catalog_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pubdata._catalog_invalidate() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	cache_valid = false;
	return PointerGetDatum(NULL);
}
