/*-------------------------------------------------------------------------
 *
 * lineage_query.c
 *	  What a query reads, in the shape its author wrote it (issue 16).
 *
 * The executor sees a statement after the rewriter has expanded its views:
 * every base table of every view is in the range table, and a view that
 * nobody registered never looks like a source.  This file reads the query
 * tree instead, before the planner flattens it:
 *
 *	- the relations the query names are its sources; a view is a source as
 *	  such.  In a rewritten query, a view is a subquery RTE whose own range
 *	  table starts with the view's OLD placeholder (PostgreSQL 15's
 *	  ApplyRetrieveRule keeps it there for the permission check): that
 *	  subquery is the view, and nothing inside it is looked at.  In a view's
 *	  stored definition (not rewritten), a view it reads is a relation RTE
 *	  of relkind 'v'.
 *	- for each column the statement writes (INSERT and UPDATE target
 *	  columns, MERGE actions' columns, the output columns of CREATE TABLE AS,
 *	  a materialized view or a view), the source columns its value is
 *	  computed from, found by following Vars through subqueries, CTEs, set
 *	  operations, joins' alias variables and VALUES lists, and whether it is
 *	  a copy (identity: the Var itself, or a binary-compatible or implicit
 *	  cast of it), a transformation (any other expression: functions,
 *	  operators, CASE, an explicit cast) or an aggregation (inside an
 *	  aggregate or window function; count(*) is an aggregation over its
 *	  query's GROUP BY keys).  Conditions (WHERE, JOIN ON) are not column
 *	  lineage.
 *
 * Nothing here runs, plans or opens anything: it reads query trees and the
 * system caches, and the caller hands it a view's rule from the relcache;
 * reading a department's view definition runs none of its code.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"

#include "access/htup_details.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "nodes/parsenodes.h"
#include "parser/parsetree.h"
#include "rewrite/prs2lock.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "lineage.h"

/* deeper than this, a query is not followed (a guard, not a limit users meet) */
#define MAX_FOLLOW_DEPTH 64

typedef struct ColumnWalk
{
	LineageSummary *summary;
	Oid			target;			/* the relation written, InvalidOid for a query's output */
	AttrNumber	target_col;		/* its column (or output position) */
	bool		rewritten;		/* views appear as expanded subqueries */
	List	   *stack;			/* Query nodes, innermost first */
	int			transform;		/* LineageTransform of the current path */
	int			depth;
	List	   *visiting_ctes;	/* CommonTableExpr being followed (recursion) */
} ColumnWalk;

static void walk_expr(Node *expr, ColumnWalk *w);

/* q in front of its enclosing queries (a new list: lcons may change its argument) */
#define PUSH(q, outer) lcons((q), list_copy(outer))
static void follow_query_column(Query *q, List *outer, AttrNumber col, ColumnWalk *w);

/*
 * pubdata_lineage_view_of
 *		The view a subquery RTE of a rewritten query is the expansion of, or
 *		InvalidOid when it is a subquery someone wrote.
 */
Oid
pubdata_lineage_view_of(RangeTblEntry *rte)
{
	RangeTblEntry *old;

	if (rte->rtekind != RTE_SUBQUERY || rte->subquery == NULL ||
		list_length(rte->subquery->rtable) < 1)
		return InvalidOid;
	old = (RangeTblEntry *) linitial(rte->subquery->rtable);
	if (old->rtekind == RTE_RELATION && old->relkind == RELKIND_VIEW)
		return old->relid;
	return InvalidOid;
}

/*
 * add_source
 *		Add a relation to the summary's sources once.
 */
static void
add_source(LineageSummary *s, Oid relid)
{
	if (OidIsValid(relid))
		s->sources = list_append_unique_oid(s->sources, relid);
}

/*
 * sources_walker
 *		Collect the relations a query tree names: relation RTEs other than
 *		the query's own result relation, views as themselves.
 */
typedef struct SourcesWalk
{
	LineageSummary *summary;
	bool		rewritten;
} SourcesWalk;

static bool
sources_walker(Node *node, SourcesWalk *sw)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;
		int			rti = 0;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
			Oid			view;

			rti++;
			if (rte->rtekind == RTE_RELATION)
			{
				/*
				 * Read with SELECT privilege: not the result relation, not a
				 * view's OLD and NEW placeholders, not ON CONFLICT's EXCLUDED,
				 * not the auto-updatable view an INSERT was rewritten from
				 */
				if (rti != q->resultRelation && (rte->requiredPerms & ACL_SELECT) != 0)
					add_source(sw->summary, rte->relid);
			}
			else if (rte->rtekind == RTE_SUBQUERY)
			{
				view = sw->rewritten ? pubdata_lineage_view_of(rte) : InvalidOid;
				if (OidIsValid(view))
					add_source(sw->summary, view);
				else
					(void) sources_walker((Node *) rte->subquery, sw);
			}
		}
		return query_tree_walker(q, sources_walker, sw, QTW_IGNORE_RT_SUBQUERIES);
	}
	return expression_tree_walker(node, sources_walker, sw);
}

/*
 * add_column
 *		Note one source column of the current target column; the strongest
 *		transform wins when the same pair is seen twice.
 */
static void
add_column(ColumnWalk *w, Oid source, AttrNumber source_col)
{
	LineageSummary *s = w->summary;
	int			i;

	if (!OidIsValid(source) || source_col <= 0)
		return;
	for (i = 0; i < s->ncols; i++)
	{
		LineageColumn *c = &s->cols[i];

		if (c->target == w->target && c->target_col == w->target_col &&
			c->source == source && c->source_col == source_col)
		{
			c->transform = Max(c->transform, w->transform);
			return;
		}
	}
	if (s->ncols >= s->maxcols)
	{
		s->maxcols = Max(8, s->maxcols * 2);
		s->cols = s->cols == NULL ? palloc(sizeof(LineageColumn) * s->maxcols) :
			repalloc(s->cols, sizeof(LineageColumn) * s->maxcols);
	}
	s->cols[s->ncols].target = w->target;
	s->cols[s->ncols].target_col = w->target_col;
	s->cols[s->ncols].source = source;
	s->cols[s->ncols].source_col = source_col;
	s->cols[s->ncols].transform = w->transform;
	s->ncols++;
}

/*
 * strip_copy
 *		The expression under casts that do not change the value (binary
 *		relabelling, implicit casts, domain checks).
 */
static Node *
strip_copy(Node *node)
{
	for (;;)
	{
		if (node == NULL)
			return NULL;
		if (IsA(node, RelabelType))
			node = (Node *) ((RelabelType *) node)->arg;
		else if (IsA(node, CoerceToDomain))
			node = (Node *) ((CoerceToDomain *) node)->arg;
		else if (IsA(node, FuncExpr) &&
				 ((FuncExpr *) node)->funcformat == COERCE_IMPLICIT_CAST &&
				 list_length(((FuncExpr *) node)->args) >= 1)
			node = (Node *) linitial(((FuncExpr *) node)->args);
		else if (IsA(node, TargetEntry))
			node = (Node *) ((TargetEntry *) node)->expr;
		else
			return node;
	}
}

/*
 * walk_value
 *		Follow an expression whose value becomes the current target (or a
 *		column the target is computed from): a bare Var keeps the path's
 *		transform, anything else makes it at least a transformation.
 */
static void
walk_value(Node *expr, ColumnWalk *w)
{
	Node	   *bare = strip_copy(expr);
	int			save = w->transform;

	if (bare == NULL)
		return;
	if (!IsA(bare, Var))
		w->transform = Max(w->transform, LT_TRANSFORMATION);
	walk_expr(bare, w);
	w->transform = save;
}

/*
 * follow_setop
 *		An output column of a set operation: the same column of every leaf.
 */
static void
follow_setop(Query *q, List *outer, Node *setop, AttrNumber col, ColumnWalk *w)
{
	if (setop == NULL)
		return;
	if (IsA(setop, SetOperationStmt))
	{
		SetOperationStmt *op = (SetOperationStmt *) setop;

		follow_setop(q, outer, op->larg, col, w);
		follow_setop(q, outer, op->rarg, col, w);
	}
	else if (IsA(setop, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) setop)->rtindex, q->rtable);
		Oid			view = w->rewritten ? pubdata_lineage_view_of(rte) : InvalidOid;

		if (OidIsValid(view))
			add_column(w, view, col);
		else if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
			follow_query_column(rte->subquery, PUSH(q, outer), col, w);
	}
}

/*
 * follow_query_column
 *		Output column col of query q (whose enclosing queries are outer,
 *		innermost first).
 */
static void
follow_query_column(Query *q, List *outer, AttrNumber col, ColumnWalk *w)
{
	List	   *save_stack = w->stack;
	List	   *tlist;
	TargetEntry *tle;

	if (w->depth >= MAX_FOLLOW_DEPTH)
		return;
	w->depth++;
	if (q->setOperations != NULL)
		follow_setop(q, outer, q->setOperations, col, w);
	else
	{
		tlist = q->commandType == CMD_SELECT ? q->targetList : q->returningList;
		tle = get_tle_by_resno(tlist, col);
		if (tle != NULL)
		{
			w->stack = PUSH(q, outer);
			walk_value((Node *) tle->expr, w);
		}
	}
	w->stack = save_stack;
	w->depth--;
}

/*
 * follow_var
 *		Where the value of a Var comes from.
 */
static void
follow_var(Var *var, ColumnWalk *w)
{
	Query	   *q;
	List	   *here;
	RangeTblEntry *rte;

	if ((int) var->varlevelsup >= list_length(w->stack))
		return;
	here = list_copy_tail(w->stack, var->varlevelsup);
	q = (Query *) linitial(here);
	if (var->varno < 1 || var->varno > list_length(q->rtable))
		return;
	rte = rt_fetch(var->varno, q->rtable);

	switch (rte->rtekind)
	{
		case RTE_RELATION:
			if (var->varattno > 0)
				add_column(w, rte->relid, var->varattno);
			else if (var->varattno == 0)
			{
				/* a whole row: every column, transformed into a record */
				int			save = w->transform;
				HeapTuple	reltup = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
				AttrNumber	natts = 0;
				AttrNumber	i;

				if (HeapTupleIsValid(reltup))
				{
					natts = ((Form_pg_class) GETSTRUCT(reltup))->relnatts;
					ReleaseSysCache(reltup);
				}

				w->transform = Max(w->transform, LT_TRANSFORMATION);
				for (i = 1; i <= natts; i++)
				{
					HeapTuple	tp = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid),
													 Int16GetDatum(i));

					if (!HeapTupleIsValid(tp))
						continue;
					if (!((Form_pg_attribute) GETSTRUCT(tp))->attisdropped)
						add_column(w, rte->relid, i);
					ReleaseSysCache(tp);
				}
				w->transform = save;
			}
			break;
		case RTE_SUBQUERY:
			{
				Oid			view = w->rewritten ? pubdata_lineage_view_of(rte) : InvalidOid;

				if (OidIsValid(view))
					add_column(w, view, var->varattno);
				else if (rte->subquery != NULL && var->varattno > 0)
					follow_query_column(rte->subquery, here, var->varattno, w);
				else if (rte->subquery != NULL && var->varattno == 0)
				{
					int			save = w->transform;
					ListCell   *lc;

					w->transform = Max(w->transform, LT_TRANSFORMATION);
					foreach(lc, rte->subquery->targetList)
						if (!((TargetEntry *) lfirst(lc))->resjunk)
							follow_query_column(rte->subquery, here,
												((TargetEntry *) lfirst(lc))->resno, w);
					w->transform = save;
				}
			}
			break;
		case RTE_JOIN:
			if (var->varattno > 0 && var->varattno <= list_length(rte->joinaliasvars))
			{
				List	   *save_stack = w->stack;

				w->stack = here;
				walk_value((Node *) list_nth(rte->joinaliasvars, var->varattno - 1), w);
				w->stack = save_stack;
			}
			break;
		case RTE_CTE:
			{
				List	   *cte_outer;
				ListCell   *lc;

				if ((int) rte->ctelevelsup >= list_length(here))
					break;
				cte_outer = list_copy_tail(here, rte->ctelevelsup);
				foreach(lc, ((Query *) linitial(cte_outer))->cteList)
				{
					CommonTableExpr *cte = (CommonTableExpr *) lfirst(lc);

					if (strcmp(cte->ctename, rte->ctename) != 0)
						continue;
					if (list_member_ptr(w->visiting_ctes, cte) || !IsA(cte->ctequery, Query))
						break;
					w->visiting_ctes = lcons(cte, w->visiting_ctes);
					if (var->varattno > 0)
						follow_query_column((Query *) cte->ctequery, cte_outer, var->varattno, w);
					w->visiting_ctes = list_delete_first(w->visiting_ctes);
					break;
				}
			}
			break;
		case RTE_VALUES:
			if (var->varattno > 0)
			{
				List	   *save_stack = w->stack;
				ListCell   *lc;

				w->stack = here;
				foreach(lc, rte->values_lists)
				{
					List	   *row = (List *) lfirst(lc);

					if (var->varattno <= list_length(row))
						walk_value((Node *) list_nth(row, var->varattno - 1), w);
				}
				w->stack = save_stack;
			}
			break;
		case RTE_FUNCTION:
			{
				/* a set-returning function's output: a function of its arguments */
				List	   *save_stack = w->stack;
				int			save = w->transform;
				ListCell   *lc;

				w->stack = here;
				w->transform = Max(w->transform, LT_TRANSFORMATION);
				foreach(lc, rte->functions)
					walk_expr(((RangeTblFunction *) lfirst(lc))->funcexpr, w);
				w->transform = save;
				w->stack = save_stack;
			}
			break;
		default:
			break;
	}
	list_free(here);
}

/*
 * walk_group_keys
 *		count(*) and other aggregates without a column argument are computed
 *		over the groups: their sources are the GROUP BY keys.
 */
static void
walk_group_keys(Index levelsup, ColumnWalk *w)
{
	Query	   *q;
	List	   *save_stack = w->stack;
	ListCell   *lc;

	if ((int) levelsup >= list_length(w->stack))
		return;
	w->stack = list_copy_tail(w->stack, levelsup);
	q = (Query *) linitial(w->stack);
	foreach(lc, q->groupClause)
	{
		TargetEntry *tle = get_sortgroupclause_tle((SortGroupClause *) lfirst(lc), q->targetList);

		walk_expr((Node *) tle->expr, w);
	}
	w->stack = save_stack;
}

/*
 * walk_expr_walker
 *		Every Var an expression's value depends on, with the transform of
 *		its path; aggregates and window functions make it an aggregation,
 *		scalar subqueries are followed into their output column.
 */
static bool
walk_expr_walker(Node *node, ColumnWalk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		follow_var((Var *) node, w);
		return false;
	}
	if (IsA(node, Aggref) || IsA(node, WindowFunc))
	{
		int			save = w->transform;
		bool		column_arg = false;
		ListCell   *lc;
		List	   *args = IsA(node, Aggref) ? ((Aggref *) node)->args : ((WindowFunc *) node)->args;

		w->transform = LT_AGGREGATION;
		foreach(lc, args)
			if (contain_var_clause(lfirst(lc)))
				column_arg = true;
		(void) expression_tree_walker(node, walk_expr_walker, w);
		if (!column_arg && IsA(node, Aggref))
			walk_group_keys(((Aggref *) node)->agglevelsup, w);
		w->transform = save;
		return false;
	}
	if (IsA(node, SubLink))
	{
		SubLink    *sl = (SubLink *) node;

		(void) walk_expr_walker(sl->testexpr, w);
		if ((sl->subLinkType == EXPR_SUBLINK || sl->subLinkType == ARRAY_SUBLINK ||
			 sl->subLinkType == MULTIEXPR_SUBLINK) && IsA(sl->subselect, Query))
		{
			Query	   *sub = (Query *) sl->subselect;
			ListCell   *lc;

			foreach(lc, sub->targetList)
			{
				TargetEntry *tle = (TargetEntry *) lfirst(lc);

				if (!tle->resjunk)
					follow_query_column(sub, w->stack, tle->resno, w);
			}
		}
		return false;
	}
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, walk_expr_walker, w);
}

static void
walk_expr(Node *expr, ColumnWalk *w)
{
	(void) walk_expr_walker(expr, w);
}

/*
 * walk_targets
 *		The columns one query writes (or outputs), each followed to its
 *		sources.  target is the relation written (InvalidOid: the output of
 *		a SELECT, numbered by position).
 */
static void
walk_targets(Query *q, List *outer, List *tlist, Oid target, LineageSummary *s, bool rewritten)
{
	ColumnWalk	w;
	ListCell   *lc;
	AttrNumber	position = 0;

	memset(&w, 0, sizeof(w));
	w.summary = s;
	w.target = target;
	w.rewritten = rewritten;
	w.stack = PUSH(q, outer);
	foreach(lc, tlist)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (tle->resjunk)
			continue;
		position++;
		w.target_col = OidIsValid(target) ? tle->resno : position;
		w.transform = LT_IDENTITY;
		w.depth = 0;
		walk_value((Node *) tle->expr, &w);
	}
}

/*
 * walk_writes
 *		The writes of a statement: its own (INSERT, UPDATE, MERGE) and those
 *		of data-modifying WITH queries; a SELECT's output when asked.
 */
static void
walk_writes(Query *q, List *outer, LineageSummary *s, bool rewritten, bool output)
{
	ListCell   *lc;
	Oid			target = InvalidOid;

	if (q->resultRelation > 0)
	{
		RangeTblEntry *rte = rt_fetch(q->resultRelation, q->rtable);

		if (rte->rtekind == RTE_RELATION)
			target = rte->relid;
	}
	switch (q->commandType)
	{
		case CMD_INSERT:
		case CMD_UPDATE:
			if (OidIsValid(target))
				walk_targets(q, outer, q->targetList, target, s, rewritten);
			break;
		case CMD_MERGE:
			if (OidIsValid(target))
				foreach(lc, q->mergeActionList)
				{
					MergeAction *action = (MergeAction *) lfirst(lc);

					if (action->commandType == CMD_INSERT || action->commandType == CMD_UPDATE)
						walk_targets(q, outer, action->targetList, target, s, rewritten);
				}
			break;
		case CMD_SELECT:
			if (output)
				walk_targets(q, outer, q->targetList, InvalidOid, s, rewritten);
			break;
		default:
			break;
	}
	foreach(lc, q->cteList)
	{
		CommonTableExpr *cte = (CommonTableExpr *) lfirst(lc);

		if (IsA(cte->ctequery, Query) && ((Query *) cte->ctequery)->commandType != CMD_SELECT)
			walk_writes((Query *) cte->ctequery, PUSH(q, outer), s, rewritten, false);
	}
}

/*
 * pubdata_lineage_analyze
 *		The sources and column lineage of a query: a rewritten statement
 *		about to be planned (rewritten = true), or a view's stored
 *		definition (false).  output: also follow a SELECT's output columns
 *		(CREATE TABLE AS, materialized views, views).  Allocated in the
 *		current memory context.
 */
LineageSummary *
pubdata_lineage_analyze(Query *query, bool rewritten, bool output)
{
	LineageSummary *s = palloc0(sizeof(LineageSummary));
	SourcesWalk sw;

	sw.summary = s;
	sw.rewritten = rewritten;
	(void) sources_walker((Node *) query, &sw);
	walk_writes(query, NIL, s, rewritten, output);
	return s;
}

/*
 * pubdata_lineage_view_query
 *		The stored query of a view or materialized view (its _RETURN rule's
 *		action, as the relcache holds it), or NULL.
 */
Query *
pubdata_lineage_view_query(Relation rel)
{
	int			i;

	if (rel->rd_rules == NULL)
		return NULL;
	for (i = 0; i < rel->rd_rules->numLocks; i++)
	{
		RewriteRule *rule = rel->rd_rules->rules[i];

		if (rule->event == CMD_SELECT && list_length(rule->actions) == 1)
			return (Query *) linitial(rule->actions);
	}
	return NULL;
}
