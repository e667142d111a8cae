/*-------------------------------------------------------------------------
 *
 * lineage.h
 *	  Table-level lineage captured by the executor: declarations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_LINEAGE_H
#define PUBDATA_LINEAGE_H

/* pubdata.lineage: capture edges (PGC_SUSET, default on) */
extern bool pubdata_lineage_enabled;

#include "datatype/timestamp.h"
#include "executor/execdesc.h"
#include "nodes/plannodes.h"
#include "nodes/primnodes.h"
#include "nodes/parsenodes.h"
#include "utils/relcache.h"

/* How a target column's value is made from a source column (pubdata.lineage_transform) */
typedef enum LineageTransform
{
	LT_IDENTITY = 0,			/* a copy of the value */
	LT_TRANSFORMATION = 1,		/* computed from it */
	LT_AGGREGATION = 2			/* aggregated over rows */
} LineageTransform;

/* One source column of one written column */
typedef struct LineageColumn
{
	Oid			target;			/* relation written; InvalidOid: a query's output */
	AttrNumber	target_col;		/* its attnum (or output position) */
	Oid			source;			/* relation (or view) read */
	AttrNumber	source_col;
	int			transform;		/* LineageTransform */
} LineageColumn;

/* What a statement reads, as written (lineage_query.c) */
typedef struct LineageSummary
{
	List	   *sources;		/* relation OIDs, views as themselves */
	int			ncols;
	int			maxcols;
	LineageColumn *cols;
} LineageSummary;

extern LineageSummary *pubdata_lineage_analyze(Query *query, bool rewritten, bool output);
extern Oid	pubdata_lineage_view_of(RangeTblEntry *rte);
extern Query *pubdata_lineage_view_query(Relation rel);

/* called by hooks.c's planner hook, before the planner changes the query */
extern void pubdata_lineage_planning(Query *parse, int planning_depth);

/* What pubdata_lineage_utility_begin saved for pubdata_lineage_utility_end */
typedef struct LineageUtility
{
	RangeVar   *target;			/* NULL: the statement makes no edge */
	int			kind;
	bool		save_collect;
	List	   *save_sources;
	void	   *save_summary;
	int			save_plan_depth;
} LineageUtility;

extern void pubdata_lineage_init(void);

/* called by hooks.c, in this order relative to the guard and the audit */
extern void pubdata_lineage_executor_end(QueryDesc *queryDesc);
extern void pubdata_lineage_utility_begin(PlannedStmt *pstmt, LineageUtility *state,
										  int planning_depth);
extern void pubdata_lineage_utility_end(LineageUtility *state, bool success);

/*
 * The OpenLineage event stream (lineage_stream.c): at commit, every target's
 * edges become one run in pubdata.openlineage_pending, published as START and
 * COMPLETE events of pubdata.openlineage_event by openlineage_publish().
 */
extern bool pubdata_openlineage_stream;

typedef struct PubdataStreamEdge
{
	Oid			source;
	Oid			target;
	const char *source_name;
	const char *target_name;
	const char *kind;			/* pubdata.lineage_kind label */
	int64		count;
	TimestampTz first_seen;
} PubdataStreamEdge;

extern void pubdata_lineage_stream_init(void);
/* sorts edges by target; prepare: PREPARE TRANSACTION (its runs are published after COMMIT PREPARED) */
extern void pubdata_lineage_stream_emit(PubdataStreamEdge *edges, int n, bool prepare);
extern void pubdata_lineage_stream_reset(void);

#endif							/* PUBDATA_LINEAGE_H */
