/*-------------------------------------------------------------------------
 *
 * hooks.c
 *	  pubdata's only executor and utility hooks.
 *
 * One place installs post_parse_analyze, planner, ExecutorStart,
 * ExecutorRun, ExecutorFinish, ExecutorEnd and ProcessUtility, tracks the
 * nesting level itself (like pg_stat_statements) and calls the modules in
 * one order:
 *
 *	 post_parse_analyze
 *					 guard: a department that reads the bureau's views of
 *					 pubdata (access_log, lineage_edge) is told what to read
 *					 instead, before the planner refuses the view bare
 *	 post_parse_analyze, planner
 *					 masked grants: relations a department reads under masked
 *					 grants become masking subqueries (mask.c)
 *	 planner		 lineage: what a write reads, views as themselves, and
 *					 its column lineage, read from the query before the
 *					 planner flattens it (lineage.c, lineage_query.c)
 *	 ExecutorStart   guard (refusals, grant choice, copy rule, the audit
 *					 record's parts), then the executor
 *	 ExecutorRun     the statement's frame becomes the running one (the
 *					 policies' InitPlans read its grant choice); rows counted
 *	 ExecutorEnd     audit record written (guard), then lineage, then the
 *					 executor
 *	 ProcessUtility  guard (what the statement writes or sends out), lineage
 *					 (the target of CREATE TABLE AS and REFRESH), then the
 *					 utility (a restore's load of pubdata's tables with the
 *					 foreign keys between them unchecked, restore.c); after
 *					 it, the record of a change of pubdata.audit or
 *					 pubdata.guard (audit_settings.c)
 *	 ExecutorStart, ExecutorEnd
 *					 first, the record of a change of those settings noted
 *					 since (a reload, a session's start, set_config(), a
 *					 function's SET clause): one test of a flag
 *
 * Per-statement state belongs to its statement.  A statement that reads a
 * governed relation gets a frame in its own memory context, made a child of
 * the statement's executor memory once the executor has started: it goes
 * away with the statement however the statement ends, at ExecutorEnd, at an
 * error, at a subtransaction's or transaction's abort, when a cursor is
 * closed.  The context's reset callback writes the audit record of a
 * statement that did not reach ExecutorEnd and unlinks the frame, so nothing
 * outlives its statement and a failed read is recorded exactly once.  The
 * copy rule's state is a fixed-size struct that starts afresh with each
 * client statement (or at the end of a transaction run outside any client
 * statement, where deferred triggers fire).
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit_settings.h"
#include "catalog.h"
#include "guard.h"
#include "hooks.h"
#include "lineage.h"
#include "mask.h"
#include "restore.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "optimizer/planner.h"
#include "parser/analyze.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/queryjumble.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static planner_hook_type prev_planner = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;

/* > 0 while a view, rule or function body is being defined (stored, not run) */
static int	defining = 0;

/* nesting of executor runs and utility statements, as pg_stat_statements */
static int	nesting_level = 0;

/* nesting of planner calls (masking's catalog queries plan inside a plan) */
static int	planning_depth = 0;

/* live frames (statements reading governed relations), innermost first */
static dlist_head live_frames = DLIST_STATIC_INIT(live_frames);

/* the innermost frame whose plan is running */
static GuardFrame *running = NULL;

/* the utility statement whose query is about to start: its name, its level */
static const char *utility_command = NULL;
static int	utility_level = -1;
static bool explain_analyze = false;

static void hooks_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void hooks_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
							  uint64 count, bool execute_once);
static void hooks_ExecutorFinish(QueryDesc *queryDesc);
static void hooks_ExecutorEnd(QueryDesc *queryDesc);
static void hooks_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								 bool readOnlyTree, ProcessUtilityContext context,
								 ParamListInfo params, QueryEnvironment *queryEnv,
								 DestReceiver *dest, QueryCompletion *qc);
static PlannedStmt *hooks_planner(Query *parse, const char *query_string,
								  int cursorOptions, ParamListInfo boundParams);
static void hooks_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate);
static void hooks_xact_callback(XactEvent event, void *arg);
static void hooks_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);

/*
 * pubdata_hooks_init
 *		Install the hooks (only when preloaded).
 */
void
pubdata_hooks_init(void)
{
	if (!pubdata_preloaded)
		return;
	EnableQueryId();
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = hooks_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = hooks_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = hooks_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = hooks_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = hooks_ProcessUtility;
	prev_planner = planner_hook;
	planner_hook = hooks_planner;
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = hooks_post_parse_analyze;
	RegisterXactCallback(hooks_xact_callback, NULL);
	RegisterSubXactCallback(hooks_subxact_callback, NULL);
}

/*
 * pubdata_hooks_running_frame
 *		The frame of the statement whose plan is running now (its policies'
 *		InitPlans are being evaluated), or NULL.
 */
GuardFrame *
pubdata_hooks_running_frame(void)
{
	return running;
}

/*
 * FindFrame
 *		The live frame of a query, or NULL (the usual case: most statements
 *		read no governed relation and have none).
 */
static GuardFrame *
FindFrame(QueryDesc *qd)
{
	dlist_iter	it;

	dlist_foreach(it, &live_frames)
	{
		GuardFrame *f = dlist_container(GuardFrame, node, it.cur);

		if (f->qd == qd)
			return f;
	}
	return NULL;
}

/*
 * FrameGone
 *		Memory context callback: the statement's memory is going away.
 */
static void
FrameGone(void *arg)
{
	GuardFrame *f = (GuardFrame *) arg;

	if (f->started)
		dlist_delete(&f->node);
	if (running == f)
		running = f->run_parent;
	pubdata_guard_abandon(f);
}

/*
 * ClientStatementBegins
 *		At nesting level 0 with a portal active, a hook call belongs to a
 *		client statement (not to deferred triggers fired at commit, nor to a
 *		background worker's SPI).  A new one (another query than the one the
 *		copy rule's state belongs to: a cursor fetched by a later Execute
 *		message) starts the copy rule afresh.
 */
static void
ClientStatementBegins(const void *owner)
{
	if (nesting_level != 0 || ActivePortal == NULL ||
		pubdata_guard_statement_owner() == owner)
		return;
	pubdata_guard_statement_begin(owner);
}

/*
 * hooks_ExecutorStart
 */
static void
hooks_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	GuardFrame *volatile f = NULL;
	const char *command = utility_level == nesting_level ? utility_command : NULL;

	if (nesting_level == 0 && ActivePortal != NULL)
		pubdata_guard_statement_begin(queryDesc);
	/* a change of pubdata.audit or .guard is recorded before what follows it */
	pubdata_audit_settings_flush();

	/*
	 * What runs from here on (the caches' own queries, functions the
	 * executor evaluates while it starts) is nested in this statement.
	 */
	nesting_level++;
	PG_TRY();
	{
		f = pubdata_guard_start(queryDesc, eflags, command, explain_analyze);
		if (prev_ExecutorStart)
			prev_ExecutorStart(queryDesc, eflags);
		else
			standard_ExecutorStart(queryDesc, eflags);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();

	if (f != NULL)
	{
		MemoryContextCallback *cb = MemoryContextAlloc(f->cxt, sizeof(MemoryContextCallback));

		/* from now on the frame lives and dies with the statement */
		MemoryContextSetParent(f->cxt, queryDesc->estate->es_query_cxt);
		cb->func = FrameGone;
		cb->arg = f;
		MemoryContextRegisterResetCallback(f->cxt, cb);
		dlist_push_head(&live_frames, &f->node);
		f->started = true;
	}
}

/*
 * hooks_ExecutorRun
 *		The frame runs: its policies read its grant choice; its rows add up
 *		over all the fetches of a cursor.
 */
static void
hooks_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
				  uint64 count, bool execute_once)
{
	GuardFrame *f = dlist_is_empty(&live_frames) ? NULL : FindFrame(queryDesc);
	GuardFrame *save_running = running;

	ClientStatementBegins(queryDesc);
	if (f != NULL)
	{
		pubdata_guard_run(f);
		f->run_parent = running;
		running = f;
	}
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		nesting_level--;
		running = save_running;
		if (f != NULL && queryDesc->estate != NULL)
			f->rows += queryDesc->estate->es_processed;
	}
	PG_END_TRY();
}

/*
 * hooks_ExecutorFinish
 *		AFTER triggers run here, nested in the statement.
 */
static void
hooks_ExecutorFinish(QueryDesc *queryDesc)
{
	ClientStatementBegins(queryDesc);
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

/*
 * hooks_ExecutorEnd
 *		guard (the audit record), then lineage, then the executor.
 */
static void
hooks_ExecutorEnd(QueryDesc *queryDesc)
{
	GuardFrame *f = dlist_is_empty(&live_frames) ? NULL : FindFrame(queryDesc);

	pubdata_audit_settings_flush();
	if (f != NULL)
		pubdata_guard_end(f);
	pubdata_lineage_executor_end(queryDesc);

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * hooks_planner
 *		Masked grants: relations a department reads with masked items become
 *		masking subqueries before they are planned (mask.c); then lineage
 *		reads the query as written (a masked item is a transformation).
 */
static PlannedStmt *
hooks_planner(Query *parse, const char *query_string, int cursorOptions,
			  ParamListInfo boundParams)
{
	PlannedStmt *result;

	planning_depth++;
	PG_TRY();
	{
		if (!IsParallelWorker())
		{
			pubdata_mask_rewrite(parse);
			pubdata_lineage_planning(parse, planning_depth);
		}
		if (prev_planner)
			result = prev_planner(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		planning_depth--;
	}
	PG_END_TRY();
	return result;
}

/*
 * hooks_post_parse_analyze
 *		Masked grants, for the queries the planner never sees as such: the
 *		body of a SQL function it inlines is analyzed (and comes here), then
 *		planned as part of the query that calls it.  A query that is stored
 *		rather than run (a view, a rule, a function body) is left alone: it
 *		is wrapped when it is used.
 */
static void
hooks_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
	if (defining == 0 && !IsParallelWorker() && query->commandType != CMD_UTILITY)
	{
		pubdata_guard_parsed(query);
		pubdata_mask_rewrite(query);
	}
}

/*
 * IsDefinition
 *		Statements that store a query instead of running it.
 */
static bool
IsDefinition(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_ViewStmt:
		case T_RuleStmt:
		case T_CreateFunctionStmt:
		case T_CreateTrigStmt:
		case T_AlterTableStmt:
		case T_CreatePolicyStmt:
		case T_AlterPolicyStmt:
			return true;
		case T_CreateTableAsStmt:
			/* a materialized view stores its query (and plans it to fill) */
			return ((CreateTableAsStmt *) stmt)->objtype == OBJECT_MATVIEW;
		default:
			return false;
	}
}

/*
 * IsExplainAnalyze
 *		EXPLAIN (ANALYZE ...) runs its query with instrumentation.
 */
static bool
IsExplainAnalyze(Node *stmt)
{
	ListCell   *lc;

	if (!IsA(stmt, ExplainStmt))
		return false;
	foreach(lc, ((ExplainStmt *) stmt)->options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "analyze") == 0)
			return defGetBoolean(opt);
	}
	return false;
}

/*
 * hooks_ProcessUtility
 *		guard (what the statement writes or sends out), lineage, the utility
 *		(as a restore's load when it is one).
 */
static void
hooks_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	const char *save_command = utility_command;
	int			save_level = utility_level;
	bool		save_explain = explain_analyze;
	const char *command = NULL;
	LineageUtility lineage;
	bool		success = false;
	int			restore_level;
	char	   *detached = NULL;
	char	   *detached_from = NULL;

	if (nesting_level == 0 && ActivePortal != NULL)
		pubdata_guard_statement_begin(pstmt);
	if (!IsParallelWorker() && !pubdata_catalog_loading())
		pubdata_guard_utility(pstmt, &command);
	pubdata_lineage_utility_begin(pstmt, &lineage, planning_depth);

	nesting_level++;
	if (command != NULL)
	{
		utility_command = command;
		utility_level = nesting_level;
	}
	if (IsExplainAnalyze(pstmt->utilityStmt))
		explain_analyze = true;
	if (IsDefinition(pstmt->utilityStmt))
		defining++;
	restore_level = pubdata_restore_begin(pstmt, context);
	if (!IsParallelWorker() && !pubdata_catalog_loading())
		detached_from = pubdata_catalog_detaching(pstmt->utilityStmt, &detached);
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
		success = true;
		pubdata_restore_end(restore_level);
		if (detached_from != NULL)
			ereport(NOTICE,
					(errmsg("partition \"%s\" left resource \"%s\": pubdata no longer governs it",
							detached, detached_from),
					 errdetail("It keeps the row-level security and the provider's policy it had as a partition: no other department reads it."),
					 errhint("Register it with pubdata.register_resource() if it is still provided, or drop it.")));
		/* SET, ALTER ROLE/DATABASE/SYSTEM of pubdata.audit or .guard */
		pubdata_audit_settings_flush();
		pubdata_audit_settings_utility(pstmt, queryString);
	}
	PG_FINALLY();
	{
		nesting_level--;
		utility_command = save_command;
		utility_level = save_level;
		explain_analyze = save_explain;
		if (IsDefinition(pstmt->utilityStmt))
			defining--;
		pubdata_lineage_utility_end(&lineage, success);
	}
	PG_END_TRY();
}

/*
 * hooks_xact_callback
 *		A transaction ended outside any statement (nesting level 0): the copy
 *		rule's state ends with it.  Inside a procedure (COMMIT or ROLLBACK
 *		in a CALL) it does not: what was read before stays read.
 */
static void
hooks_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			if (nesting_level == 0)
				pubdata_guard_xact_end();
			break;
		default:
			break;
	}
}

/*
 * hooks_subxact_callback
 *		What an aborted subtransaction wrote did not happen.
 */
static void
hooks_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		pubdata_guard_subxact_abort(mySubid);
}
