/*-------------------------------------------------------------------------
 *
 * lineage.c
 *	  Table-level lineage captured by the executor (issue 5, Art 15, 24).
 *
 * hooks.c's ExecutorEnd hook hands us every statement that finished
 * successfully, after the guard and the audit.  For
 * a statement that modifies tables (INSERT, UPDATE, DELETE, MERGE, also in
 * data-modifying WITH clauses) it takes the targets from the plan's
 * ModifyTable nodes and the sources from the range table (relations read
 * with SELECT privilege that are not targets), and notes an edge source ->
 * target.  Its ProcessUtility hook does the same for CREATE TABLE AS, SELECT
 * INTO, CREATE MATERIALIZED VIEW and REFRESH MATERIALIZED VIEW: the query
 * they run sends its rows to DestIntoRel / DestTransientRel, and the
 * executor hook collects its sources for the utility hook, which knows the
 * target once the statement is done.
 *
 * Views are nodes (issue 16).  The planner hook hands this module each
 * write (and the query of CREATE TABLE AS / REFRESH) before the planner
 * flattens it; lineage_query.c reads there what the statement names, a view
 * as itself rather than its base tables, and each written column's source
 * columns.  The result is kept per plan in a backend-local cache keyed by
 * the statement's query id, role, command and target, which ExecutorEnd
 * consults; a plan it does not find (compute_query_id off, a cache reset)
 * falls back to the range table, as 0.1 did.  A view's own edges are
 * recorded when it is created or replaced (event trigger, from its stored
 * definition) and end when it is dropped or no longer reads a source.
 *
 * Edges are deduplicated in a backend-local hash that lives for the
 * transaction, keyed by (source, target, kind, role, subtransaction level).
 * A rolled-back subtransaction drops its edges, a committed one hands them
 * to its parent; at XACT_EVENT_PRE_COMMIT (or PRE_PREPARE) the remaining
 * edges are written to pubdata.lineage_edge in the same transaction as the
 * data they describe: a committed write never loses its edge, a rolled-back
 * one leaves none, and a read (which notes no edge) never writes anything.
 *
 * The common path must cost almost nothing: a SELECT costs one comparison;
 * a write costs a walk over its (usually one-entry) range table; catalog
 * lookups happen only when a write reads another table.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "access/xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "funcapi.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "json_io.h"
#include "lineage.h"
#include "identity.h"

/* Statement kinds the hooks record; names match pubdata.lineage_kind. */
typedef enum LineageKind
{
	LK_INSERT_SELECT,
	LK_UPDATE_FROM,
	LK_DELETE_USING,
	LK_MERGE,
	LK_CREATE_TABLE_AS,
	LK_SELECT_INTO,
	LK_REFRESH_MATVIEW
} LineageKind;

static const char *const lineage_kind_names[] = {
	"insert_select",
	"update_from",
	"delete_using",
	"merge",
	"create_table_as",
	"select_into",
	"refresh_matview"
};

/* Hash key of a pending edge; all members 4 bytes, so no padding. */
typedef struct EdgeKey
{
	Oid			source;
	Oid			target;
	Oid			role;
	int32		kind;
	int32		level;			/* transaction nesting level that saw it */
} EdgeKey;

typedef struct EdgeEntry
{
	EdgeKey		key;
	int64		count;			/* statements that made the edge */
	TimestampTz first_seen;
	TimestampTz last_seen;
	char	   *source_name;	/* names as they were when first seen */
	char	   *target_name;
	List	   *columns;		/* JSON texts ["target col","source col","transform"] */
} EdgeEntry;

static const char *const lineage_transform_names[] = {
	"identity", "transformation", "aggregation"
};

/*
 * The lineage summaries of planned statements (lineage_query.c), by query
 * id, role, command and target; in their own memory context, which is reset
 * (with the cache) when the cache holds SUMMARY_CACHE_MAX plans.
 */
typedef struct SummaryKey
{
	uint64		queryid;
	Oid			userid;
	Oid			target;
	int32		command;
	int32		pad;			/* zeroed: the key is hashed as bytes */
} SummaryKey;

typedef struct SummaryEntry
{
	SummaryKey	key;
	LineageSummary *summary;
} SummaryEntry;

#define SUMMARY_CACHE_MAX 4096
static HTAB *summary_cache = NULL;
static MemoryContext summary_cxt = NULL;

bool		pubdata_lineage_enabled = true;

/* Edges of the current transaction (in TopTransactionContext), or NULL. */
static HTAB *pending_edges = NULL;
/* Deepest subtransaction level holding an edge; 0 when none. */
static int	pending_max_level = 0;

/* CREATE TABLE AS / REFRESH in progress: sources of its query. */
static bool utility_collect = false;
static List *utility_sources = NIL;
/*
 * ... and the summary of its query: the first plan made one planner level
 * below the utility (not the catalog queries that masking plans inside it)
 */
static LineageSummary *utility_summary = NULL;
static int	utility_plan_depth = 0;

/* true while this module writes edges (its own statements are not lineage) */
static bool lineage_writing = false;

/* pubdata.lineage_compact_every: fold observations at one commit in N */
static int	lineage_compact_every = 1000;

/* OpenLineage export: dataset namespace and the URL base of pubdata's facet schemas */
static char *lineage_namespace = NULL;
static char *openlineage_schema_base = NULL;

/* Cached plans: append one observation; fold all observations. */
static SPIPlanPtr store_plan = NULL;
static SPIPlanPtr compact_plan = NULL;
static SPIPlanPtr compact_window_plan = NULL;
static SPIPlanPtr compact_tids_plan = NULL;

/* blocks of pubdata.lineage_observation a random fold at commit looks at */
#define COMPACT_WINDOW_BLOCKS 32

/*
 * Each backend folds the observations it appended itself, by their TIDs,
 * once it has FOLD_BATCH of them from committed transactions: the fold costs
 * what it folds, whatever the size of the table.  Observations of sessions
 * that ended before folding are caught by the random windows and by
 * lineage_compact().
 */
#define FOLD_BATCH 512
#define FOLD_MAX (FOLD_BATCH * 8)
static ItemPointerData own_tids[FOLD_MAX];	/* committed, not folded yet */
static int	n_own_tids = 0;
static ItemPointerData *xact_tids = NULL;	/* this transaction's, in TopTransactionContext */
static int	n_xact_tids = 0;
static int	max_xact_tids = 0;

static void lineage_xact_callback(XactEvent event, void *arg);
static void lineage_subxact_callback(SubXactEvent event,
									 SubTransactionId mySubid,
									 SubTransactionId parentSubid,
									 void *arg);

/*
 * pubdata_lineage_init
 *		Define pubdata.lineage; when preloaded, register the transaction
 *		callbacks (hooks.c calls this module from its executor hooks).
 */
void
pubdata_lineage_init(void)
{
	DefineCustomBoolVariable("pubdata.lineage",
							 "Records lineage edges, with column lineage, of writes that read other tables and of view definitions.",
							 "Edges go to pubdata.lineage_edge when the transaction commits. "
							 "Needs pubdata in shared_preload_libraries.",
							 &pubdata_lineage_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pubdata.lineage_compact_every",
							"Folds a window of lineage observations into edges at about one commit in this many.",
							"1 folds at every commit, 0 never; each session also folds its own observations "
							"in batches, and pubdata.lineage_compact() folds them all.",
							&lineage_compact_every,
							1000, 0, 1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pubdata.lineage_namespace",
							   "OpenLineage namespace of this database's datasets.",
							   "Empty means postgres://localhost:<port>, whatever address the client "
							   "connected to; set the server's public name, e.g. postgres://db.lishui.gov.cn:5432.",
							   &lineage_namespace, "", PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.openlineage_schema_base",
							   "URL base of the JSON Schemas of pubdata's OpenLineage facets.",
							   "Facets' _schemaURL is this base followed by <Facet>-<version>.json; "
							   "publish the repository's spec/openlineage/ directory there.",
							   &openlineage_schema_base,
							   "https://pubdata.lishui.gov.cn/spec/openlineage/",
							   PGC_SUSET, 0, NULL, NULL, NULL);

	pubdata_lineage_stream_init();

	if (!pubdata_preloaded)
		return;

	RegisterXactCallback(lineage_xact_callback, NULL);
	RegisterSubXactCallback(lineage_subxact_callback, NULL);
}

/*
 * lineage_relation_tracked
 *		Whether edges to or from this relation are recorded: an ordinary,
 *		partitioned or foreign table, a view or a materialized view, not a
 *		system catalog, not temporary and not in pubdata's own schema.
 */
static bool
lineage_relation_tracked(Oid relid, Oid pubdata_nsp)
{
	HeapTuple	tp;
	Form_pg_class rel;
	bool		tracked;

	if (relid < FirstNormalObjectId)
		return false;
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		return false;
	rel = (Form_pg_class) GETSTRUCT(tp);
	tracked = rel->relpersistence != RELPERSISTENCE_TEMP &&
		rel->relnamespace != pubdata_nsp &&
		!IsCatalogNamespace(rel->relnamespace) &&
		!IsToastNamespace(rel->relnamespace) &&
		(rel->relkind == RELKIND_RELATION ||
		 rel->relkind == RELKIND_PARTITIONED_TABLE ||
		 rel->relkind == RELKIND_FOREIGN_TABLE ||
		 rel->relkind == RELKIND_VIEW ||
		 rel->relkind == RELKIND_MATVIEW);
	ReleaseSysCache(tp);
	return tracked;
}

/*
 * lineage_relation_name
 *		Schema-qualified, quoted name of a relation, allocated in the
 *		current memory context; the oid as text if it is gone.
 */
static char *
lineage_relation_name(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	char	   *nspname;

	if (relname == NULL)
		return psprintf("%u", relid);
	nspname = get_namespace_name(get_rel_namespace(relid));
	if (nspname == NULL)
		return psprintf("%u", relid);
	return pstrdup(quote_qualified_identifier(nspname, relname));
}

/*
 * lineage_note_edge
 *		Count one statement's edge source -> target in the transaction's
 *		hash, creating the hash and the entry on first sight.
 */
static void
lineage_note_edge(Oid source, Oid target, LineageKind kind, List *columns)
{
	ListCell   *lc;
	EdgeKey		key;
	EdgeEntry  *entry;
	TimestampTz now = GetCurrentStatementStartTimestamp();

	if (source == target)
		return;

	if (pending_edges == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(EdgeKey);
		ctl.entrysize = sizeof(EdgeEntry);
		ctl.hcxt = TopTransactionContext;
		pending_edges = hash_create("pubdata lineage edges", 16, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		pending_max_level = 0;
	}

	memset(&key, 0, sizeof(key));
	key.source = source;
	key.target = target;
	key.role = pubdata_caller_id();
	key.kind = (int32) kind;
	key.level = GetCurrentTransactionNestLevel();

	entry = (EdgeEntry *) hash_search(pending_edges, &key, HASH_FIND, NULL);
	if (entry == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);
		char	   *source_name = lineage_relation_name(source);
		char	   *target_name = lineage_relation_name(target);

		MemoryContextSwitchTo(oldcxt);
		entry = (EdgeEntry *) hash_search(pending_edges, &key, HASH_ENTER, NULL);
		entry->count = 0;
		entry->first_seen = now;
		entry->source_name = source_name;
		entry->target_name = target_name;
		entry->columns = NIL;
	}
	foreach(lc, columns)
	{
		char	   *col = (char *) lfirst(lc);
		ListCell   *le;
		bool		known = false;

		foreach(le, entry->columns)
			if (strcmp((char *) lfirst(le), col) == 0)
				known = true;
		if (!known)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);

			entry->columns = lappend(entry->columns, pstrdup(col));
			MemoryContextSwitchTo(oldcxt);
		}
	}
	entry->count++;
	entry->last_seen = now;
	if (key.level > pending_max_level)
		pending_max_level = key.level;
}

/*
 * lineage_edge_columns
 *		The column lineage of the edge source -> target in a summary, as
 *		JSON texts ["target column","source column","transform"].  Summary
 *		columns without a target are a query's output, numbered like the
 *		columns of the relation it fills.
 */
static List *
lineage_edge_columns(LineageSummary *summary, Oid source, Oid target)
{
	List	   *out = NIL;
	int			i;

	if (summary == NULL)
		return NIL;
	for (i = 0; i < summary->ncols; i++)
	{
		LineageColumn *c = &summary->cols[i];
		char	   *tname;
		char	   *sname;
		StringInfoData buf;

		if (c->source != source || (OidIsValid(c->target) && c->target != target))
			continue;
		tname = get_attname(target, c->target_col, true);
		sname = get_attname(source, c->source_col, true);
		if (tname == NULL || sname == NULL)
			continue;
		initStringInfo(&buf);
		appendStringInfoChar(&buf, '[');
		escape_json(&buf, tname);
		appendStringInfoChar(&buf, ',');
		escape_json(&buf, sname);
		appendStringInfoString(&buf, ",\"");
		appendStringInfoString(&buf, lineage_transform_names[c->transform]);
		appendStringInfoString(&buf, "\"]");
		out = lappend(out, buf.data);
	}
	return out;
}

/*
 * lineage_note_edges
 *		Note an edge from every tracked source to every tracked target, with
 *		its column lineage from the summary (if any).  Sources and targets
 *		are OID lists without duplicates.
 */
/*
 * lineage_node
 *		The node a relation is in the graph: a partition is its (topmost)
 *		partitioned table, the dataset a resource and its readers know; a
 *		statement that names a partition has the table's lineage.
 */
static Oid
lineage_node(Oid relid)
{
	List	   *ancestors;
	Oid			top;

	if (!get_rel_relispartition(relid))
		return relid;
	ancestors = get_partition_ancestors(relid);
	top = ancestors != NIL ? llast_oid(ancestors) : relid;
	list_free(ancestors);
	return top;
}

static void
lineage_note_edges(List *sources, List *targets, List *kinds, LineageSummary *summary)
{
	Oid			pubdata_nsp = get_namespace_oid("pubdata", true);
	List	   *tracked_sources = NIL;
	ListCell   *lc;
	ListCell   *lk;

	/* pubdata is not installed in this database: nothing to record */
	if (!OidIsValid(pubdata_nsp))
		return;

	foreach(lc, sources)
	{
		if (lineage_relation_tracked(lfirst_oid(lc), pubdata_nsp))
			tracked_sources = lappend_oid(tracked_sources, lfirst_oid(lc));
	}
	if (tracked_sources == NIL)
		return;

	forboth(lc, targets, lk, kinds)
	{
		Oid			target = lfirst_oid(lc);
		ListCell   *ls;

		if (!lineage_relation_tracked(target, pubdata_nsp))
			continue;
		foreach(ls, tracked_sources)
			lineage_note_edge(lineage_node(lfirst_oid(ls)), lineage_node(target), (LineageKind) lfirst_int(lk),
							  lineage_edge_columns(summary, lfirst_oid(ls), target));
	}
	list_free(tracked_sources);
}

/*
 * lineage_plan_target
 *		If the plan node is a ModifyTable, add its nominal target (the
 *		parent of an inherited or partitioned target) and its kind.
 */
static void
lineage_plan_target(PlannedStmt *pstmt, Plan *plan, List **targets, List **kinds)
{
	ModifyTable *mt;
	RangeTblEntry *rte;
	LineageKind kind;

	if (plan == NULL || !IsA(plan, ModifyTable))
		return;
	mt = (ModifyTable *) plan;
	if (mt->nominalRelation == 0)
		return;
	rte = rt_fetch(mt->nominalRelation, pstmt->rtable);
	if (rte->rtekind != RTE_RELATION || list_member_oid(*targets, rte->relid))
		return;
	switch (mt->operation)
	{
		case CMD_INSERT:
			kind = LK_INSERT_SELECT;
			break;
		case CMD_UPDATE:
			kind = LK_UPDATE_FROM;
			break;
		case CMD_DELETE:
			kind = LK_DELETE_USING;
			break;
		case CMD_MERGE:
			kind = LK_MERGE;
			break;
		default:
			return;
	}
	*targets = lappend_oid(*targets, rte->relid);
	*kinds = lappend_int(*kinds, (int) kind);
}

/*
 * lineage_summary_copy
 *		A copy of a summary in the given context.
 */
static LineageSummary *
lineage_summary_copy(LineageSummary *s, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	LineageSummary *c = palloc0(sizeof(LineageSummary));

	c->sources = list_copy(s->sources);
	c->ncols = c->maxcols = s->ncols;
	if (s->ncols > 0)
	{
		c->cols = palloc(sizeof(LineageColumn) * s->ncols);
		memcpy(c->cols, s->cols, sizeof(LineageColumn) * s->ncols);
	}
	MemoryContextSwitchTo(oldcxt);
	return c;
}

/*
 * lineage_summary_free
 *		Free a summary made by lineage_summary_copy.
 */
static void
lineage_summary_free(LineageSummary *s)
{
	list_free(s->sources);
	if (s->cols != NULL)
		pfree(s->cols);
	pfree(s);
}

/*
 * lineage_summary_key
 *		The cache key of a statement.
 */
static void
lineage_summary_key(SummaryKey *key, uint64 queryid, CmdType command, Oid target)
{
	memset(key, 0, sizeof(*key));
	key->queryid = queryid;
	key->userid = GetUserId();
	key->target = target;
	key->command = (int32) command;
}

/*
 * lineage_summary_lookup
 *		The summary of a statement planned in this session, or NULL.
 */
static LineageSummary *
lineage_summary_lookup(uint64 queryid, CmdType command, Oid target)
{
	SummaryKey	key;
	SummaryEntry *entry;

	if (summary_cache == NULL || queryid == UINT64CONST(0))
		return NULL;
	lineage_summary_key(&key, queryid, command, command == CMD_SELECT ? InvalidOid : target);
	entry = (SummaryEntry *) hash_search(summary_cache, &key, HASH_FIND, NULL);
	return entry ? entry->summary : NULL;
}

/*
 * pubdata_lineage_planning
 *		A statement is about to be planned (hooks.c's planner hook, after
 *		masking): if it writes and reads other relations, or it is the
 *		query of a CREATE TABLE AS or REFRESH, read what it names and its
 *		column lineage before the planner flattens it.  A single-relation
 *		write (TPC-B's UPDATE, INSERT ... VALUES) costs three comparisons.
 */
void
pubdata_lineage_planning(Query *parse, int planning_depth)
{
	bool		output;
	LineageSummary *summary;
	Oid			target = InvalidOid;
	SummaryKey	key;
	SummaryEntry *entry;
	bool		found;

	if (!pubdata_lineage_enabled || lineage_writing || parse->commandType == CMD_UTILITY)
		return;
	output = utility_collect && utility_summary == NULL && parse->commandType == CMD_SELECT &&
		planning_depth == utility_plan_depth + 1;
	if (parse->commandType == CMD_SELECT && !parse->hasModifyingCTE && !output)
		return;
	if (list_length(parse->rtable) <= 1 && !parse->hasSubLinks && parse->cteList == NIL && !output)
		return;

	summary = pubdata_lineage_analyze(parse, true, output);
	if (output)
	{
		utility_summary = lineage_summary_copy(summary, TopTransactionContext);
		return;
	}
	if (parse->queryId == UINT64CONST(0))
		return;					/* compute_query_id = off: the range table will do */

	if (summary_cxt == NULL)
		summary_cxt = AllocSetContextCreate(TopMemoryContext, "pubdata lineage summaries",
											ALLOCSET_SMALL_SIZES);
	if (summary_cache != NULL && hash_get_num_entries(summary_cache) >= SUMMARY_CACHE_MAX)
	{
		/* plans not planned again from now on fall back to their range table */
		hash_destroy(summary_cache);
		summary_cache = NULL;
		MemoryContextReset(summary_cxt);
	}
	if (summary_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(SummaryKey);
		ctl.entrysize = sizeof(SummaryEntry);
		ctl.hcxt = summary_cxt;
		summary_cache = hash_create("pubdata lineage summaries", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	if (parse->resultRelation > 0 && parse->commandType != CMD_SELECT)
		target = rt_fetch(parse->resultRelation, parse->rtable)->relid;
	lineage_summary_key(&key, parse->queryId, parse->commandType, target);
	entry = (SummaryEntry *) hash_search(summary_cache, &key, HASH_ENTER, &found);
	if (found && entry->summary != NULL)
		lineage_summary_free(entry->summary);
	entry->summary = NULL;
	entry->summary = lineage_summary_copy(summary, summary_cxt);
}

/*
 * lineage_capture_write
 *		Note the edges of a statement that modified tables.
 */
static void
lineage_capture_write(PlannedStmt *pstmt)
{
	List	   *targets = NIL;
	List	   *kinds = NIL;
	List	   *sources = NIL;
	ListCell   *lc;

	lineage_plan_target(pstmt, pstmt->planTree, &targets, &kinds);
	foreach(lc, pstmt->subplans)
		lineage_plan_target(pstmt, (Plan *) lfirst(lc), &targets, &kinds);
	if (targets == NIL)
		return;

	/* the common case: no relation read besides the targets */
	foreach(lc, pstmt->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind != RTE_RELATION ||
			(rte->requiredPerms & ACL_SELECT) == 0 ||
			list_member_oid(targets, rte->relid))
			continue;
		sources = list_append_unique_oid(sources, rte->relid);
	}
	if (sources != NIL)
	{
		/* what the statement named, views as themselves, if it was analysed */
		LineageSummary *summary = lineage_summary_lookup(pstmt->queryId, pstmt->commandType,
														 linitial_oid(targets));

		if (summary != NULL)
		{
			list_free(sources);
			sources = NIL;
			foreach(lc, summary->sources)
				if (!list_member_oid(targets, lfirst_oid(lc)))
					sources = lappend_oid(sources, lfirst_oid(lc));
		}
		if (sources != NIL)
			lineage_note_edges(sources, targets, kinds, summary);
	}

	list_free(sources);
	list_free(targets);
	list_free(kinds);
}

/*
 * lineage_capture_utility_sources
 *		The query of a CREATE TABLE AS / REFRESH MATERIALIZED VIEW finished:
 *		keep the relations it read for the utility hook.
 */
static void
lineage_capture_utility_sources(PlannedStmt *pstmt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	ListCell   *lc;

	foreach(lc, pstmt->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_RELATION && (rte->requiredPerms & ACL_SELECT) != 0)
			utility_sources = list_append_unique_oid(utility_sources, rte->relid);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * pubdata_lineage_executor_end
 *		Note the lineage of a statement that completed (called by hooks.c
 *		from ExecutorEnd, after the guard and the audit).
 *
 * ExecutorEnd is reached only by statements that ran without error, and
 * not by EXPLAIN without ANALYZE (EXEC_FLAG_EXPLAIN_ONLY, skipped).
 */
void
pubdata_lineage_executor_end(QueryDesc *queryDesc)
{
	if (pubdata_lineage_enabled && !lineage_writing && !IsParallelWorker() &&
		queryDesc->estate != NULL &&
		(queryDesc->estate->es_top_eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
	{
		PlannedStmt *pstmt = queryDesc->plannedstmt;

		if (pstmt->commandType == CMD_SELECT && !pstmt->hasModifyingCTE)
		{
			if (utility_collect && queryDesc->dest != NULL &&
				(queryDesc->dest->mydest == DestIntoRel ||
				 queryDesc->dest->mydest == DestTransientRel))
				lineage_capture_utility_sources(pstmt);
		}
		else if (pstmt->commandType != CMD_UTILITY)
			lineage_capture_write(pstmt);
	}
}

/*
 * pubdata_lineage_utility_begin
 *		For CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED VIEW and
 *		REFRESH MATERIALIZED VIEW, start collecting the sources of the query
 *		they run (hooks.c calls this before the utility runs, and
 *		pubdata_lineage_utility_end after it, however it ends).
 */
void
pubdata_lineage_utility_begin(PlannedStmt *pstmt, LineageUtility *state, int planning_depth)
{
	Node	   *parsetree = pstmt->utilityStmt;

	state->target = NULL;
	state->kind = (int) LK_CREATE_TABLE_AS;
	if (!pubdata_lineage_enabled || lineage_writing || IsParallelWorker())
		return;
	if (IsA(parsetree, CreateTableAsStmt))
	{
		CreateTableAsStmt *stmt = (CreateTableAsStmt *) parsetree;

		if (stmt->into != NULL && stmt->into->rel != NULL)
		{
			state->target = copyObject(stmt->into->rel);
			state->kind = stmt->is_select_into ? (int) LK_SELECT_INTO : (int) LK_CREATE_TABLE_AS;
		}
	}
	else if (IsA(parsetree, RefreshMatViewStmt))
	{
		state->target = copyObject(((RefreshMatViewStmt *) parsetree)->relation);
		state->kind = (int) LK_REFRESH_MATVIEW;
	}
	if (state->target == NULL)
		return;
	state->save_collect = utility_collect;
	state->save_sources = utility_sources;
	state->save_summary = utility_summary;
	state->save_plan_depth = utility_plan_depth;
	utility_collect = true;
	utility_sources = NIL;
	utility_summary = NULL;
	utility_plan_depth = planning_depth;
}

/*
 * pubdata_lineage_utility_end
 *		Once the statement succeeded, note edges to the relation it created
 *		or refreshed; in any case restore the collection state.
 */
void
pubdata_lineage_utility_end(LineageUtility *state, bool success)
{
	if (state->target == NULL)
		return;
	PG_TRY();
	{
		/* WITH NO DATA or IF NOT EXISTS on an existing table read nothing */
		if (success && utility_sources != NIL)
		{
			Oid			target = RangeVarGetRelid(state->target, NoLock, true);

			if (OidIsValid(target))
			{
				List	   *sources = utility_sources;

				if (utility_summary != NULL)
					sources = utility_summary->sources;
				lineage_note_edges(sources, list_make1_oid(target),
								   list_make1_int(state->kind), utility_summary);
			}
		}
	}
	PG_FINALLY();
	{
		utility_collect = state->save_collect;
		utility_sources = state->save_sources;
		utility_summary = (LineageSummary *) state->save_summary;
		utility_plan_depth = state->save_plan_depth;
	}
	PG_END_TRY();
}

/*
 * lineage_edge_cmp
 *		qsort order of pending edges, so that the observations of a
 *		transaction are appended in a stable order.
 */
static int
lineage_edge_cmp(const void *a, const void *b)
{
	const EdgeEntry *ea = *(const EdgeEntry *const *) a;
	const EdgeEntry *eb = *(const EdgeEntry *const *) b;

	if (ea->key.source != eb->key.source)
		return ea->key.source < eb->key.source ? -1 : 1;
	if (ea->key.target != eb->key.target)
		return ea->key.target < eb->key.target ? -1 : 1;
	if (ea->key.kind != eb->key.kind)
		return ea->key.kind < eb->key.kind ? -1 : 1;
	if (ea->key.role != eb->key.role)
		return ea->key.role < eb->key.role ? -1 : 1;
	return 0;
}

/* State saved while this module writes as the owner of its tables. */
typedef struct LineageOwnerState
{
	PubdataIdentity id;
	bool		save_read_only;
} LineageOwnerState;

/*
 * lineage_owner_begin
 *		Act as the owner of pubdata's lineage tables with a fixed
 *		search_path, so that the caller's privileges and search_path never
 *		reach the statements below.  Returns false (and changes nothing) when
 *		pubdata is not installed in this database.
 */
static bool
lineage_owner_begin(LineageOwnerState *state)
{
	Oid			pubdata_nsp = get_namespace_oid("pubdata", true);
	Oid			obs_rel;

	if (!OidIsValid(pubdata_nsp))
		return false;
	obs_rel = get_relname_relid("lineage_observation", pubdata_nsp);
	if (!OidIsValid(obs_rel))
		return false;
	pubdata_become(&state->id, pubdata_relation_owner(obs_rel), PUBDATA_AS_RESTRICTED);
	state->save_read_only = XactReadOnly;
	lineage_writing = true;
	return true;
}

/*
 * lineage_owner_end
 *		Undo lineage_owner_begin (on success; an error's abort undoes it too).
 */
static void
lineage_owner_end(LineageOwnerState *state)
{
	lineage_writing = false;
	XactReadOnly = state->save_read_only;
	pubdata_restore(&state->id);
}

/* The fold: observations (all, or those matched by "where") into edges. */
#define COMPACT_SQL(where) \
	"WITH moved AS (" \
	"  DELETE FROM pubdata.lineage_observation" \
	where \
	"  RETURNING source, source_name, target, target_name, kind, role_name," \
	"            first_seen, last_seen, count, run_id, columns," \
	"            CASE WHEN source IS NULL THEN 'external:' OPERATOR(pg_catalog.||) source_name" \
	"                 ELSE (source::pg_catalog.oid)::pg_catalog.text END AS source_key" \
	"), agg AS (" \
	"  SELECT m.source_key, m.target::pg_catalog.oid AS target_oid, m.kind, m.role_name," \
	"         pg_catalog.min(m.source::pg_catalog.oid) AS source_oid," \
	"         (pg_catalog.array_agg(m.source_name ORDER BY m.last_seen DESC))[1] AS source_name," \
	"         (pg_catalog.array_agg(m.target_name ORDER BY m.last_seen DESC))[1] AS target_name," \
	"         pg_catalog.min(m.first_seen) AS first_seen, pg_catalog.max(m.last_seen) AS last_seen," \
	"         pg_catalog.sum(m.count)::pg_catalog.int8 AS count," \
	"         (pg_catalog.array_agg(m.run_id ORDER BY m.last_seen DESC)" \
	"            FILTER (WHERE m.run_id IS NOT NULL))[1] AS run_id," \
	"         pubdata._lineage_columns_union(VARIADIC pg_catalog.array_agg(m.columns)) AS columns" \
	"    FROM moved m" \
	"   GROUP BY m.source_key, m.target::pg_catalog.oid, m.kind, m.role_name" \
	"), up AS (" \
	"  INSERT INTO pubdata.lineage_edge_data AS e" \
	"    (source, source_name, target, target_name, kind, role_name," \
	"     first_seen, last_seen, count, last_run_id, columns)" \
	"  SELECT a.source_oid::pg_catalog.regclass, a.source_name," \
	"         a.target_oid::pg_catalog.regclass, a.target_name, a.kind, a.role_name," \
	"         a.first_seen, a.last_seen, a.count, a.run_id, a.columns" \
	"    FROM agg a" \
	"  ON CONFLICT (source_key, target, kind, role_name) WHERE ended_at IS NULL DO UPDATE" \
	"    SET source_name = CASE WHEN excluded.last_seen OPERATOR(pg_catalog.>=) e.last_seen" \
	"                           THEN excluded.source_name ELSE e.source_name END," \
	"        target_name = CASE WHEN excluded.last_seen OPERATOR(pg_catalog.>=) e.last_seen" \
	"                           THEN excluded.target_name ELSE e.target_name END," \
	"        first_seen = LEAST(e.first_seen, excluded.first_seen)," \
	"        last_seen = GREATEST(e.last_seen, excluded.last_seen)," \
	"        count = e.count OPERATOR(pg_catalog.+) excluded.count," \
	"        last_run_id = coalesce(excluded.last_run_id, e.last_run_id)," \
	"        columns = pubdata._lineage_columns_union(e.columns, excluded.columns)" \
	"  RETURNING e.id, e.source_key, e.target::pg_catalog.oid AS target_oid, e.kind, e.role_name" \
	"), runs AS (" \
	"  INSERT INTO pubdata.lineage_edge_run (edge_id, run_id, recorded_at)" \
	"  SELECT up.id, m.run_id, pg_catalog.max(m.last_seen)" \
	"    FROM up JOIN moved m" \
	"      ON m.source_key OPERATOR(pg_catalog.=) up.source_key" \
	"     AND m.target::pg_catalog.oid OPERATOR(pg_catalog.=) up.target_oid" \
	"     AND m.kind OPERATOR(pg_catalog.=) up.kind" \
	"     AND m.role_name OPERATOR(pg_catalog.=) up.role_name" \
	"   WHERE m.run_id IS NOT NULL" \
	"   GROUP BY up.id, m.run_id" \
	"  ON CONFLICT DO NOTHING" \
	")" \
	"SELECT pg_catalog.count(*) FROM moved"

static const char compact_sql_all[] = COMPACT_SQL("");
static const char compact_sql_window[] =
COMPACT_SQL("  WHERE ctid OPERATOR(pg_catalog.>=) $1 AND ctid OPERATOR(pg_catalog.<) $2");
static const char compact_sql_tids[] =
COMPACT_SQL("  WHERE ctid OPERATOR(pg_catalog.=) ANY ($1)");

/* What a fold takes: everything, a window of blocks, or given TIDs. */
typedef enum FoldScope
{
	FOLD_ALL,
	FOLD_WINDOW,
	FOLD_TIDS
} FoldScope;

/*
 * lineage_compact_now
 *		Fold observations into lineage_edge_data, in one statement, if no
 *		other session is folding (advisory lock, held to the end of the
 *		transaction; a session that finds it taken skips instead of waiting).
 *		FOLD_WINDOW takes the rows of COMPACT_WINDOW_BLOCKS blocks from block
 *		window_start (TID range scan), FOLD_TIDS the rows at the given TIDs
 *		(TID scan), FOLD_ALL all.  Runs on the latest snapshot: a fold must
 *		see what other sessions folded, even in a REPEATABLE READ
 *		transaction.  Needs lineage_owner_begin.  Returns the observations
 *		folded, -1 when another session holds the lock.
 */
static int64
lineage_compact_now(FoldScope scope, int64 window_start,
					ItemPointerData *tids, int ntids)
{
	LOCKTAG		tag;
	int64		folded = 0;
	int			rc;
	bool		isnull;
	Datum		d;
	Datum		values[2];
	SPIPlanPtr *planp;

	/* the key spells "pubd" "line"; pg_try_advisory_xact_lock(int, int) */
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0x70756264, 0x6c696e65, 2);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return -1;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	planp = scope == FOLD_WINDOW ? &compact_window_plan :
		scope == FOLD_TIDS ? &compact_tids_plan : &compact_plan;
	if (*planp == NULL)
	{
		Oid			argtypes[2] = {TIDOID, TIDOID};
		Oid			tidarray[1] = {TIDARRAYOID};
		SPIPlanPtr	plan;

		if (scope == FOLD_WINDOW)
			plan = SPI_prepare(compact_sql_window, 2, argtypes);
		else if (scope == FOLD_TIDS)
			plan = SPI_prepare(compact_sql_tids, 1, tidarray);
		else
			plan = SPI_prepare(compact_sql_all, 0, NULL);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*planp = plan;
	}

	CommandCounterIncrement();
	if (scope == FOLD_WINDOW)
	{
		ItemPointerData *from = palloc(sizeof(ItemPointerData));
		ItemPointerData *to = palloc(sizeof(ItemPointerData));

		ItemPointerSet(from, (BlockNumber) window_start, 0);
		ItemPointerSet(to, (BlockNumber) (window_start + COMPACT_WINDOW_BLOCKS), 0);
		values[0] = PointerGetDatum(from);
		values[1] = PointerGetDatum(to);
	}
	else if (scope == FOLD_TIDS)
	{
		Datum	   *elems = palloc(sizeof(Datum) * ntids);
		int			i;

		for (i = 0; i < ntids; i++)
			elems[i] = PointerGetDatum(&tids[i]);
		values[0] = PointerGetDatum(construct_array(elems, ntids, TIDOID,
													sizeof(ItemPointerData), false,
													TYPALIGN_SHORT));
	}
	rc = SPI_execute_snapshot(*planp, scope == FOLD_ALL ? NULL : values, NULL,
							  GetLatestSnapshot(), InvalidSnapshot, false, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "folding lineage observations failed: %s", SPI_result_code_string(rc));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		folded = DatumGetInt64(d);
	SPI_finish();
	return folded;
}

/*
 * lineage_compact_at_commit
 *		A fold at commit, in a subtransaction: a failure to fold is a
 *		warning, never a failed commit.  Returns whether it ran (the lock was
 *		free and nothing failed).
 */
static bool
lineage_compact_at_commit(FoldScope scope, int64 window_start,
						  ItemPointerData *tids, int ntids)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool		ran = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		ran = lineage_compact_now(scope, window_start, tids, ntids) >= 0;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
				(errmsg("could not fold lineage observations: %s", edata->message),
				 errhint("The observations are kept; run SELECT pubdata.lineage_compact() later.")));
		FreeErrorData(edata);
		ran = true;				/* do not retry the same TIDs */
	}
	PG_END_TRY();
	return ran;
}

/*
 * lineage_note_tid
 *		Remember the TID of an observation this transaction appended.
 */
static void
lineage_note_tid(ItemPointer tid)
{
	if (n_xact_tids >= max_xact_tids)
	{
		int			newmax = Max(16, max_xact_tids * 2);

		if (xact_tids == NULL)
			xact_tids = MemoryContextAlloc(TopTransactionContext, sizeof(ItemPointerData) * newmax);
		else
			xact_tids = repalloc(xact_tids, sizeof(ItemPointerData) * newmax);
		max_xact_tids = newmax;
	}
	xact_tids[n_xact_tids++] = *tid;
}

/*
 * lineage_columns_jsonb
 *		An edge's column lineage as a jsonb array, or (Datum) 0 when none.
 */
static Datum
lineage_columns_jsonb(EdgeEntry *entry)
{
	StringInfoData buf;
	ListCell   *lc;

	if (entry->columns == NIL)
		return (Datum) 0;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, entry->columns)
	{
		if (lc != list_head(entry->columns))
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * Columns of pubdata.lineage_observation, in the order the C code fills;
 * the last ones are optional (a 0.1 table, before ALTER EXTENSION UPDATE).
 */
static const char *const observation_columns[] = {
	"source", "source_name", "target", "target_name", "kind", "role_name",
	"first_seen", "last_seen", "count", "run_id", "columns"
};
#define OBSERVATION_NCOLS 11
#define OBSERVATION_REQUIRED 10

/* oids of the pubdata.lineage_kind labels, for the type kind_oids_type */
static Oid	kind_oids_type = InvalidOid;
static Oid	kind_oids[lengthof(lineage_kind_names)];

/*
 * lineage_append_direct
 *		Append the observations straight to the heap of
 *		pubdata.lineage_observation: the table has no index, trigger or rule
 *		(checked by the caller), so no executor, SPI, role switch or
 *		search_path is needed, and nothing the session set can interfere.
 *		The values satisfy the table's CHECK constraints by construction.
 *		The TIDs are kept, for this session to fold its own observations.
 */
static void
lineage_append_direct(Relation rel, Oid pubdata_nsp, EdgeEntry **sorted, int n)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	attnums[OBSERVATION_NCOLS];
	Oid			kind_type;
	TupleTableSlot *slot;
	int			i;
	int			c;

	/* map the columns by name; a changed table is an internal error */
	for (c = 0; c < OBSERVATION_NCOLS; c++)
	{
		attnums[c] = InvalidAttrNumber;
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), observation_columns[c]) == 0)
				attnums[c] = att->attnum;
		}
		if (attnums[c] == InvalidAttrNumber && c < OBSERVATION_REQUIRED)
			elog(ERROR, "pubdata.lineage_observation has no column \"%s\"", observation_columns[c]);
	}
	kind_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum("lineage_kind"), ObjectIdGetDatum(pubdata_nsp));
	if (!OidIsValid(kind_type))
		elog(ERROR, "type pubdata.lineage_kind does not exist");
	/* enum labels never change their oid; look them up once per type */
	if (kind_type != kind_oids_type)
	{
		for (i = 0; i < (int) lengthof(lineage_kind_names); i++)
		{
			kind_oids[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
										   ObjectIdGetDatum(kind_type),
										   CStringGetDatum(lineage_kind_names[i]));
			if (!OidIsValid(kind_oids[i]))
				elog(ERROR, "pubdata.lineage_kind has no label \"%s\"", lineage_kind_names[i]);
		}
		kind_oids_type = kind_type;
	}

	slot = MakeSingleTupleTableSlot(desc, table_slot_callbacks(rel));
	for (i = 0; i < n; i++)
	{
		EdgeEntry  *entry = sorted[i];
		NameData   *rolname = palloc0(sizeof(NameData));
		char	   *r = GetUserNameFromId(entry->key.role, true);

		if (r == NULL)
			r = psprintf("%u", entry->key.role);
		namestrcpy(rolname, r);

		ExecClearTuple(slot);
		memset(slot->tts_isnull, true, sizeof(bool) * desc->natts);
#define SET_COL(c, v) \
		do { slot->tts_values[attnums[c] - 1] = (v); slot->tts_isnull[attnums[c] - 1] = false; } while (0)
		SET_COL(0, ObjectIdGetDatum(entry->key.source));
		SET_COL(1, CStringGetTextDatum(entry->source_name));
		SET_COL(2, ObjectIdGetDatum(entry->key.target));
		SET_COL(3, CStringGetTextDatum(entry->target_name));
		SET_COL(4, ObjectIdGetDatum(kind_oids[entry->key.kind]));
		SET_COL(5, NameGetDatum(rolname));
		SET_COL(6, TimestampTzGetDatum(entry->first_seen));
		SET_COL(7, TimestampTzGetDatum(entry->last_seen));
		SET_COL(8, Int64GetDatum(entry->count));
		if (attnums[10] != InvalidAttrNumber && entry->columns != NIL)
			SET_COL(10, lineage_columns_jsonb(entry));
#undef SET_COL
		ExecStoreVirtualTuple(slot);
		simple_table_tuple_insert(rel, slot);
		lineage_note_tid(&slot->tts_tid);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * lineage_append_spi
 *		Append the observations with an INSERT, as the owner of the table:
 *		the path taken when someone gave pubdata.lineage_observation an
 *		index or a trigger, which the direct path would not maintain.
 */
static void
lineage_append_spi(EdgeEntry **sorted, int n)
{
	LineageOwnerState state;
	int			i;

	if (!lineage_owner_begin(&state))
		return;

	/*
	 * The transaction has written the data these edges describe; a later SET
	 * TRANSACTION READ ONLY must not make its commit fail here.
	 */
	XactReadOnly = false;

	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (store_plan == NULL)
	{
		Oid			argtypes[10] = {OIDOID, TEXTOID, OIDOID, TEXTOID, TEXTOID,
		TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, JSONBOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO pubdata.lineage_observation"
						   " (source, source_name, target, target_name, kind, role_name,"
						   "  first_seen, last_seen, count, columns)"
						   " VALUES ($1::pg_catalog.regclass, $2, $3::pg_catalog.regclass, $4,"
						   "  $5::pubdata.lineage_kind, $6::pg_catalog.name, $7, $8, $9, $10)"
						   " RETURNING ctid",
						   10, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		store_plan = plan;
	}

	for (i = 0; i < n; i++)
	{
		EdgeEntry  *entry = sorted[i];
		Datum		values[10];
		char		nulls[10];
		char	   *rolname;
		int			rc;

		rolname = GetUserNameFromId(entry->key.role, true);
		if (rolname == NULL)
			rolname = psprintf("%u", entry->key.role);
		values[0] = ObjectIdGetDatum(entry->key.source);
		values[1] = CStringGetTextDatum(entry->source_name);
		values[2] = ObjectIdGetDatum(entry->key.target);
		values[3] = CStringGetTextDatum(entry->target_name);
		values[4] = CStringGetTextDatum(lineage_kind_names[entry->key.kind]);
		values[5] = CStringGetTextDatum(rolname);
		values[6] = TimestampTzGetDatum(entry->first_seen);
		values[7] = TimestampTzGetDatum(entry->last_seen);
		values[8] = Int64GetDatum(entry->count);
		memset(nulls, ' ', sizeof(nulls));
		values[9] = lineage_columns_jsonb(entry);
		if (entry->columns == NIL)
			nulls[9] = 'n';
		rc = SPI_execute_plan(store_plan, values, nulls, false, 0);
		if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "storing a lineage edge failed: %s", SPI_result_code_string(rc));
		else
		{
			bool		isnull;
			Datum		tid = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				lineage_note_tid((ItemPointer) DatumGetPointer(tid));
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	lineage_owner_end(&state);
}

/*
 * lineage_flush
 *		Append the transaction's edges to pubdata.lineage_observation in the
 *		committing transaction.  Appending never waits for another session
 *		and never conflicts with one.  Now and then, fold the observations.
 */
static void
lineage_flush(bool prepare)
{
	HASH_SEQ_STATUS seq;
	EdgeEntry  *entry;
	EdgeEntry **sorted;
	int			n = 0;
	Oid			pubdata_nsp;
	Oid			obs_relid;
	Relation	rel;
	bool		direct;
	bool		compact = false;
	int64		window_start = 0;

	sorted = palloc(sizeof(EdgeEntry *) * hash_get_num_entries(pending_edges));
	hash_seq_init(&seq, pending_edges);
	while ((entry = (EdgeEntry *) hash_seq_search(&seq)) != NULL)
		sorted[n++] = entry;
	if (n == 0)
		return;
	qsort(sorted, n, sizeof(EdgeEntry *), lineage_edge_cmp);

	/* the extension was dropped in this transaction, or is not here */
	pubdata_nsp = get_namespace_oid("pubdata", true);
	if (!OidIsValid(pubdata_nsp))
		return;
	obs_relid = get_relname_relid("lineage_observation", pubdata_nsp);
	if (!OidIsValid(obs_relid))
		return;

	rel = table_open(obs_relid, RowExclusiveLock);
	direct = rel->rd_rel->relkind == RELKIND_RELATION &&
		!rel->rd_rel->relhasindex && !rel->rd_rel->relhasrules &&
		rel->trigdesc == NULL && !rel->rd_rel->relrowsecurity;
	lineage_writing = true;
	if (direct)
		lineage_append_direct(rel, pubdata_nsp, sorted, n);

	/*
	 * Now and then (about one commit in pubdata.lineage_compact_every; 1:
	 * every commit) fold a window of COMPACT_WINDOW_BLOCKS blocks at a random
	 * place, which in time covers the observations of sessions that ended
	 * before folding their own.  Its cost does not grow with the table.
	 */
	if (lineage_compact_every > 0 && !IsolationIsSerializable() &&
		(lineage_compact_every == 1 ||
		 pg_prng_uint64_range(&pg_global_prng_state, 1, (uint64) lineage_compact_every) == 1))
	{
		BlockNumber nblocks = RelationGetNumberOfBlocks(rel);

		if (nblocks > 0)
		{
			compact = true;
			window_start = nblocks <= COMPACT_WINDOW_BLOCKS ? 0 :
				(int64) pg_prng_uint64_range(&pg_global_prng_state, 0, nblocks - 1);
		}
	}
	table_close(rel, NoLock);
	if (!direct)
		lineage_append_spi(sorted, n);

	/* the runs of this transaction, as OpenLineage events (lineage_stream.c) */
	if (pubdata_openlineage_stream)
	{
		PubdataStreamEdge *edges = palloc(sizeof(PubdataStreamEdge) * n);
		int			i;

		for (i = 0; i < n; i++)
		{
			edges[i].source = sorted[i]->key.source;
			edges[i].target = sorted[i]->key.target;
			edges[i].source_name = sorted[i]->source_name;
			edges[i].target_name = sorted[i]->target_name;
			edges[i].kind = lineage_kind_names[sorted[i]->key.kind];
			edges[i].count = sorted[i]->count;
			edges[i].first_seen = sorted[i]->first_seen;
		}
		pubdata_lineage_stream_emit(edges, n, prepare);
	}
	lineage_writing = false;

	/*
	 * A SERIALIZABLE transaction does not fold: the fold's reads would take
	 * predicate locks that could make this or another commit fail.  Its
	 * observations wait for a later commit of this session, or for others.
	 */
	if (compact || (n_own_tids >= FOLD_BATCH && !IsolationIsSerializable()))
	{
		LineageOwnerState state;

		if (lineage_owner_begin(&state))
		{
			/* as for appending: the transaction has written already */
			XactReadOnly = false;
			/* this session's own committed observations, by TID */
			if (n_own_tids >= FOLD_BATCH && !IsolationIsSerializable() &&
				lineage_compact_at_commit(FOLD_TIDS, 0, own_tids, n_own_tids))
				n_own_tids = 0;
			if (compact)
				(void) lineage_compact_at_commit(FOLD_WINDOW, window_start, NULL, 0);
			lineage_owner_end(&state);
		}
	}
}

/*
 * lineage_xact_callback
 *		Write the edges before commit (or prepare); forget them when the
 *		transaction ends either way.
 */
static void
lineage_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (pending_edges != NULL && hash_get_num_entries(pending_edges) > 0)
				lineage_flush(event == XACT_EVENT_PRE_PREPARE);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			/* the observations are committed (or prepared): fold them later */
			{
				int			i;

				for (i = 0; i < n_xact_tids && n_own_tids < FOLD_MAX; i++)
					own_tids[n_own_tids++] = xact_tids[i];
			}
			/* FALLTHROUGH */
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			xact_tids = NULL;
			n_xact_tids = 0;
			max_xact_tids = 0;
			/* the hash lived in TopTransactionContext, now gone */
			pending_edges = NULL;
			pending_max_level = 0;
			lineage_writing = false;
			utility_collect = false;
			utility_sources = NIL;
			pubdata_lineage_stream_reset();
			utility_summary = NULL;
			utility_plan_depth = 0;
			break;
		default:
			break;
	}
}

/*
 * lineage_subxact_callback
 *		A subtransaction that rolls back takes its edges with it; one that
 *		commits hands them to its parent level.
 */
static void
lineage_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			level;
	HASH_SEQ_STATUS seq;
	EdgeEntry  *entry;
	EdgeEntry  *moved = NULL;
	int			nmoved = 0;
	int			i;

	if (pending_edges == NULL ||
		(event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB))
		return;
	level = GetCurrentTransactionNestLevel();
	if (level > pending_max_level)
		return;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
		moved = MemoryContextAlloc(TopTransactionContext,
								   sizeof(EdgeEntry) * hash_get_num_entries(pending_edges));

	/* removing the current entry is allowed during a sequential scan */
	hash_seq_init(&seq, pending_edges);
	while ((entry = (EdgeEntry *) hash_seq_search(&seq)) != NULL)
	{
		if (entry->key.level < level)
			continue;
		if (moved != NULL)
			moved[nmoved++] = *entry;
		hash_search(pending_edges, &entry->key, HASH_REMOVE, NULL);
	}

	for (i = 0; i < nmoved; i++)
	{
		EdgeKey		key = moved[i].key;
		bool		found;

		key.level = level - 1;
		entry = (EdgeEntry *) hash_search(pending_edges, &key, HASH_ENTER, &found);
		if (!found)
		{
			*entry = moved[i];
			entry->key = key;
		}
		else
		{
			ListCell   *lc;

			entry->count += moved[i].count;
			entry->first_seen = Min(entry->first_seen, moved[i].first_seen);
			entry->last_seen = Max(entry->last_seen, moved[i].last_seen);
			foreach(lc, moved[i].columns)
			{
				ListCell   *le;
				bool		known = false;

				foreach(le, entry->columns)
					if (strcmp((char *) lfirst(le), (char *) lfirst(lc)) == 0)
						known = true;
				if (!known)
				{
					MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);

					entry->columns = lappend(entry->columns, lfirst(lc));
					MemoryContextSwitchTo(oldcxt);
				}
			}
		}
	}
	if (moved != NULL)
		pfree(moved);
	pending_max_level = level - 1;
}

PG_FUNCTION_INFO_V1(pubdata_lineage_pending_sources);

/*
 * pubdata._lineage_pending_sources(target regclass) returns oid[]
 *		The sources of the edges into target that this transaction's
 *		statements made so far (not yet written: they are written at
 *		commit).  An aggregation run asks which relations its INSERT read.
 */
Datum
pubdata_lineage_pending_sources(PG_FUNCTION_ARGS)
{
	Oid			target = PG_GETARG_OID(0);
	List	   *sources = NIL;
	Datum	   *elems;
	int			n = 0;
	ListCell   *lc;

	if (pending_edges != NULL)
	{
		HASH_SEQ_STATUS seq;
		EdgeEntry  *entry;

		hash_seq_init(&seq, pending_edges);
		while ((entry = (EdgeEntry *) hash_seq_search(&seq)) != NULL)
		{
			if (entry->key.target == target)
				sources = list_append_unique_oid(sources, entry->key.source);
		}
	}
	elems = palloc(sizeof(Datum) * (list_length(sources) + 1));
	foreach(lc, sources)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(pubdata_lineage_compact);

/*
 * pubdata.lineage_compact() returns bigint
 *		Fold the lineage observations now (the bureau, the scheduler).
 *		Returns how many were folded; 0 when another session is folding.
 */
Datum
pubdata_lineage_compact(PG_FUNCTION_ARGS)
{
	LineageOwnerState state;
	int64		folded;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot fold lineage observations during recovery"),
				 errhint("Run pubdata.lineage_compact() on the primary.")));
	if (!lineage_owner_begin(&state))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pubdata lineage tables are missing in this database")));
	folded = lineage_compact_now(FOLD_ALL, 0, NULL, 0);
	lineage_owner_end(&state);
	PG_RETURN_INT64(folded < 0 ? 0 : folded);
}

PG_FUNCTION_INFO_V1(pubdata_openlineage_build);

/*
 * text_array_strings
 *		Deconstruct a text[] (of any dimensions) into C strings, NULL
 *		elements as NULL pointers.
 */
static char **
text_array_strings(ArrayType *arr, int *count)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	char	  **out;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	out = palloc0(sizeof(char *) * (n + 1));
	for (i = 0; i < n; i++)
		out[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	*count = n;
	return out;
}

/*
 * pubdata._openlineage_build(event_time text, run_id text, producer text,
 *		job_namespace text, job_name text, aggregation_run bigint,
 *		hidden_inputs integer, output text[], inputs text[]) returns text
 *		Assemble an OpenLineage COMPLETE run event with json-c (src/json_io.c);
 *		pubdata._openlineage_event(event_type text, ...) the same with the
 *		event type (START, COMPLETE, FAIL, ABORT) first.
 *
 * output is {namespace, name, resource, department}; inputs is an n x 8
 * array of {namespace, name, resource, department, kinds (comma
 * separated), count, first_seen, last_seen}.  The SQL side gathers and
 * checks the data; this only shapes it.
 */
Datum
pubdata_openlineage_build(PG_FUNCTION_ARGS)
{
	PubdataOlEvent	ev;
	PubdataOlDataset *inputs = NULL;
	char	  **out;
	char	  **in = NULL;
	int			nout;
	int			nin = 0;
	int			i;
	char	   *json;
	text	   *result;

	/* pubdata._openlineage_event(event_type, ...) has the event type first */
	int			off = PG_NARGS() == 10 ? 1 : 0;

	memset(&ev, 0, sizeof(ev));
	ev.event_type = "COMPLETE";
	if (off)
	{
		if (PG_ARGISNULL(0))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("OpenLineage event type must not be null")));
		ev.event_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
		if (strcmp(ev.event_type, "START") != 0 && strcmp(ev.event_type, "COMPLETE") != 0 &&
			strcmp(ev.event_type, "FAIL") != 0 && strcmp(ev.event_type, "ABORT") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid OpenLineage event type \"%s\"", ev.event_type),
					 errhint("Use START, COMPLETE, FAIL or ABORT.")));
	}
	for (i = off; i <= 4 + off; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("OpenLineage event time, run id, producer and job must not be null")));
	if (PG_ARGISNULL(7 + off))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("OpenLineage output dataset must not be null")));

	ev.schema_base = openlineage_schema_base ? openlineage_schema_base : "";
	ev.event_time = text_to_cstring(PG_GETARG_TEXT_PP(0 + off));
	ev.run_id = text_to_cstring(PG_GETARG_TEXT_PP(1 + off));
	ev.producer = text_to_cstring(PG_GETARG_TEXT_PP(2 + off));
	ev.job_namespace = text_to_cstring(PG_GETARG_TEXT_PP(3 + off));
	ev.job_name = text_to_cstring(PG_GETARG_TEXT_PP(4 + off));
	ev.aggregation_run = PG_ARGISNULL(5 + off) ? -1 : PG_GETARG_INT64(5 + off);
	ev.hidden_inputs = PG_ARGISNULL(6 + off) ? 0 : PG_GETARG_INT32(6 + off);

	out = text_array_strings(PG_GETARG_ARRAYTYPE_P(7 + off), &nout);
	if (nout != 4 || out[0] == NULL || out[1] == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("OpenLineage output dataset must be {namespace, name, resource, department}")));
	ev.output.ns = out[0];
	ev.output.name = out[1];
	ev.output.resource = out[2];
	ev.output.department = out[3];
	ev.output.count = -1;

	if (!PG_ARGISNULL(8 + off))
	{
		int			nelem;

		in = text_array_strings(PG_GETARG_ARRAYTYPE_P(8 + off), &nelem);
		if (nelem % 8 != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("OpenLineage inputs must be an n x 8 text array")));
		nin = nelem / 8;
		inputs = palloc0(sizeof(PubdataOlDataset) * Max(nin, 1));
		for (i = 0; i < nin; i++)
		{
			char	  **row = in + i * 8;

			if (row[0] == NULL || row[1] == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("OpenLineage input %d has no namespace or name", i + 1)));
			inputs[i].ns = row[0];
			inputs[i].name = row[1];
			inputs[i].resource = row[2];
			inputs[i].department = row[3];
			inputs[i].kinds = row[4];
			inputs[i].count = row[5] ? strtoll(row[5], NULL, 10) : -1;
			inputs[i].first_seen = row[6];
			inputs[i].last_seen = row[7];
		}
	}
	ev.ninputs = nin;
	ev.inputs = inputs;

	json = pubdata_json_openlineage(&ev);
	result = cstring_to_text(json);
	pfree(json);
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(pubdata_lineage_view_analysis);

/*
 * pubdata._lineage_view_analysis(relation regclass)
 *		returns table (source oid, target_column name, source_column name,
 *		transform text)
 *		What a view's or materialized view's stored definition reads: one
 *		row per source column of each of its columns, and one row with NULL
 *		columns for a source none of its columns is computed from (read in
 *		a condition only).  Reads the definition from the relcache; runs
 *		nothing of it.
 */
Datum
pubdata_lineage_view_analysis(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	Query	   *query;
	LineageSummary *summary;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (rel->rd_rel->relkind != RELKIND_VIEW && rel->rd_rel->relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a view or materialized view", RelationGetRelationName(rel)),
				 errhint("Edges of tables are recorded by the executor hook when data is written.")));
	query = pubdata_lineage_view_query(rel);
	summary = query ? pubdata_lineage_analyze(query, false, true) : palloc0(sizeof(LineageSummary));

	foreach(lc, summary->sources)
	{
		Oid			source = lfirst_oid(lc);
		bool		any = false;
		int			i;

		if (source == relid)
			continue;			/* the definition's OLD and NEW placeholders */
		for (i = 0; i < summary->ncols; i++)
		{
			LineageColumn *c = &summary->cols[i];
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};
			char	   *tname;
			char	   *sname;

			if (c->source != source)
				continue;
			tname = get_attname(relid, c->target_col, true);
			sname = get_attname(source, c->source_col, true);
			if (tname == NULL || sname == NULL)
				continue;
			values[0] = ObjectIdGetDatum(source);
			values[1] = DirectFunctionCall1(namein, CStringGetDatum(tname));
			values[2] = DirectFunctionCall1(namein, CStringGetDatum(sname));
			values[3] = CStringGetTextDatum(lineage_transform_names[c->transform]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			any = true;
		}
		if (!any)
		{
			Datum		values[4] = {ObjectIdGetDatum(source), 0, 0, 0};
			bool		nulls[4] = {false, true, true, true};

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}
