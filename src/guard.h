/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  The sharing decisions: which grants each statement reads under, the
 *	  copy rule (Art 17), refusals, and the audit record of each governed
 *	  statement.  hooks.c calls these from its executor and utility hooks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_GUARD_H
#define PUBDATA_GUARD_H

#include "postgres.h"

#include "catalog.h"
#include "executor/execdesc.h"
#include "lib/ilist.h"
#include "nodes/plannodes.h"

/* A read of a shared resource, as the copy rule keeps it. */
typedef struct CopyRead
{
	int64		resource_id;
	Oid			provider_role;
	bool		copy_ok;		/* the reader holds a consented copy grant */
	char		code[PUBDATA_CODE_LEN];
} CopyRead;

/* One governed relation of a statement, read by someone else than its provider. */
typedef struct GuardRel
{
	Oid			relid;
	Oid			userid;			/* who reads it (a view's owner, say) */
	int64		resource_id;
	bool		audited;		/* restricted or non-shared */
	bool		shared;			/* the unconditional items cover the columns read */
	bool		all_rows;		/* a chosen grant (or shared) gives every row */
	int			ngrants;
	int64	   *grants;			/* the grants chosen: each covers every column read */
	int32		dept;			/* the reader's department */
	bool		superuser;		/* a superuser's read: audited, nothing decided */
	bool		wrapped;		/* read through pubdata._grant_mask() (mask.c) */
	int			natts;
	int16	   *deliver;		/* wrapped: per attnum, 0 = clear, else the mask */
	char	   *masked;			/* "item=rule,..." read masked, or NULL */
	CopyRead	read;			/* for the copy rule, when its plan runs */
} GuardRel;

/*
 * One statement that reads governed relations, from ExecutorStart until its
 * memory goes away.  It lives in its own memory context, a child of the
 * statement's executor state, so it dies with the statement however the
 * statement ends; the context's reset callback writes the audit record of a
 * statement that did not reach ExecutorEnd.
 */
typedef struct GuardFrame
{
	dlist_node	node;			/* in hooks.c's list of live frames */
	MemoryContext cxt;
	QueryDesc  *qd;
	struct GuardFrame *run_parent;	/* next outer running frame */
	bool		started;		/* ExecutorStart succeeded */
	bool		done;			/* its audit record is written */
	int			nrels;
	GuardRel   *rels;
	uint64		rows;			/* rows returned so far, all fetches */
	uint64		noted_gen;		/* copy-rule generation its reads were noted in */
	/* the audit record, built when the statement starts */
	bool		audited;
	char	   *role_name;
	int32		dept;
	char	   *dept_code;
	char	   *resources;
	char	   *grants;
	int64		first_grant;	/* the first of them, 0 if none */
	char	   *masked;			/* items read masked, per resource like grants */
	char	   *purpose;
	const char *command;
	char	   *statement;
	uint64		query_id;
} GuardFrame;

extern char *pubdata_purpose;

extern void pubdata_guard_init(void);

/* a client statement begins: the copy rule starts afresh (owner: its identity) */
extern void pubdata_guard_statement_begin(const void *owner);
extern const void *pubdata_guard_statement_owner(void);
/* a subtransaction aborted: its writes did not happen */
extern void pubdata_guard_subxact_abort(SubTransactionId subid);
/* the transaction ended outside any statement */
extern void pubdata_guard_xact_end(void);

/*
 * Before the executor starts a query: refuse what is not allowed, choose the
 * grants, note reads and writes for the copy rule.  Returns the frame of a
 * statement that reads governed relations (in a fresh memory context under
 * CurrentMemoryContext), or NULL.
 */
extern GuardFrame *pubdata_guard_start(QueryDesc *qd, int eflags, const char *utility_command,
									   bool explain_analyze);

/* after parse analysis: a read of the bureau's views of pubdata is refused with a pointer */
extern void pubdata_guard_parsed(Query *query);

/* a frame's plan runs (again: a cursor's FETCH may belong to a later statement) */
extern void pubdata_guard_run(GuardFrame *frame);

/* a statement that runs a query writes somewhere: COPY TO, CREATE TABLE AS, ... */
extern void pubdata_guard_utility(PlannedStmt *pstmt, const char **command);

/* the statement reached ExecutorEnd: write its record */
extern void pubdata_guard_end(GuardFrame *frame);

/* the statement's memory goes away before ExecutorEnd (an error): write its record */
extern void pubdata_guard_abandon(GuardFrame *frame);

/* hooks.c: the innermost running frame, for the policy functions */
extern GuardFrame *pubdata_hooks_running_frame(void);

#endif							/* PUBDATA_GUARD_H */
