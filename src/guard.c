/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The executor and utility hooks that make sharing impossible to bypass.
 *
 * Row-level security and column privileges, installed by the SQL side of
 * pubdata, decide which rows and columns a department reads.  These hooks add
 * what privileges cannot express:
 *
 *	- a read without a grant fails with an error that names the resource and
 *	  says how to request it, instead of "permission denied for table";
 *	- a statement that takes a shared resource's rows out of its table
 *	  (INSERT/UPDATE/MERGE ... SELECT, CREATE TABLE AS, SELECT INTO,
 *	  materialized views, COPY ... TO) by a department that does not provide
 *	  it is refused unless the department holds a copy grant (Art 17);
 *	- every statement that reads a restricted or non-shared resource by
 *	  anyone but its provider leaves one audit record, with the grant and the
 *	  purpose it used and the rows it returned.
 *
 * Statements touching no registered resource cost one hash lookup per
 * relation in their range table.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "catalog.h"
#include "guard.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/queryjumble.h"

/* GUCs */
char	   *pubdata_purpose = NULL;
static bool pubdata_guard = true;
static bool pubdata_internal_ddl = false;
static char *pubdata_acl_snapshot = NULL;
static int	pubdata_response_days = 5;

/* previous hooks */
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/*
 * What the next executor start will be, when a utility command runs a query
 * that writes its result somewhere (COPY TO, CREATE TABLE AS, ...).
 */
static const char *pending_copy_command = NULL;

/* One statement being audited, from ExecutorStart to ExecutorEnd */
typedef struct AuditPending
{
	QueryDesc  *qd;
	int64		resource_ids[8];
	int			n_resources;
	char	   *resources;		/* comma-separated codes */
	const char *command;
	Oid			userid;
	int32		dept_id;
	char		dept_code[PUBDATA_CODE_LEN];
} AuditPending;

static List *audit_pending = NIL;

/* Grants noted by pubdata._grant_ok() during this statement: resource -> grant */
typedef struct NotedGrant
{
	int64		resource_id;
	int64		grant_id;
	char	   *purpose;		/* the grant's stated purpose (TopMemoryContext) */
} NotedGrant;

static HTAB *noted_grants = NULL;

static void pubdata_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void GuardXactCallback(XactEvent event, void *arg);
static void pubdata_ExecutorEnd(QueryDesc *queryDesc);
static void pubdata_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree, ProcessUtilityContext context,
								   ParamListInfo params, QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);

/*
 * pubdata_guard_init
 *		GUCs of the sharing layer; hooks when preloaded.
 */
void
pubdata_guard_init(void)
{
	DefineCustomStringVariable("pubdata.purpose",
							   "Declared purpose of this session's shared-data use: a request id or a scenario code.",
							   "With several grants for one resource, the declared one is used and logged (Art 19).",
							   &pubdata_purpose, NULL, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pubdata.guard",
							 "Enforce the copy guard and audit governed reads.",
							 "Only for benchmarks and emergencies; row-level security stays on regardless.",
							 &pubdata_guard, true, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pubdata.internal_ddl",
							 "Set by pubdata's own functions while they change policies.",
							 NULL, &pubdata_internal_ddl, false, PGC_SUSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.acl_snapshot",
							   "Privileges of the registered tables before a GRANT, kept by pubdata's grant guard.",
							   NULL, &pubdata_acl_snapshot, "", PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.response_days",
							"Working days a provider has to answer a share request.",
							NULL, &pubdata_response_days, 5, 1, 60, PGC_SUSET, 0, NULL, NULL, NULL);

	if (!pubdata_preloaded)
		return;

	EnableQueryId();
	RegisterXactCallback(GuardXactCallback, NULL);
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = pubdata_ExecutorStart;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = pubdata_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pubdata_ProcessUtility;
}

/*
 * IsProvider
 *		Whether role acts with the provider's rights (superusers included).
 */
static bool
IsProvider(Oid roleid, PubdataResource *res)
{
	if (superuser_arg(roleid))
		return true;
	return OidIsValid(res->provider_role) && has_privs_of_role(roleid, res->provider_role);
}

/*
 * HasCopyGrant
 *		Does the department hold a live, bureau-approved copy grant?
 */
static bool
HasCopyGrant(int64 resource_id, int32 dept_id)
{
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	bool		result = false;
	Oid			save_userid;
	int			save_sec_context;

	if (dept_id == 0)
		return false;
	values[0] = Int64GetDatum(resource_id);
	values[1] = Int32GetDatum(dept_id);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args("SELECT pubdata._has_copy_grant($1, $2)", 2, argtypes, values,
								  NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			result = !isnull && DatumGetBool(d);
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return result;
}

/*
 * CommandName
 *		The statement kind written to the audit log.
 */
static const char *
CommandName(QueryDesc *qd, const char *copy_command)
{
	if (copy_command)
		return copy_command;
	switch (qd->operation)
	{
		case CMD_SELECT:
			return "SELECT";
		case CMD_INSERT:
			return "INSERT";
		case CMD_UPDATE:
			return "UPDATE";
		case CMD_DELETE:
			return "DELETE";
		case CMD_MERGE:
			return "MERGE";
		default:
			return "OTHER";
	}
}

/*
 * ForgetNotedGrant
 *		Drop what pubdata._note_grant() noted for a resource.
 */
static void
ForgetNotedGrant(int64 resource_id)
{
	NotedGrant *g;

	if (noted_grants == NULL)
		return;
	g = hash_search(noted_grants, &resource_id, HASH_FIND, NULL);
	if (g == NULL)
		return;
	if (g->purpose)
		pfree(g->purpose);
	hash_search(noted_grants, &resource_id, HASH_REMOVE, NULL);
}

/*
 * RecordPending
 *		Write the audit record of a pending statement and free it.  Without a
 *		grant's purpose, the purpose declared by the session is recorded.
 */
static void
RecordPending(AuditPending *p, const char *command, int64 grant_id,
			  const char *purpose, uint64 query_id, uint64 rows)
{
	PubdataAccess a;

	memset(&a, 0, sizeof(a));
	a.role_name = GetUserNameFromId(p->userid, true);
	a.department_id = p->dept_id;
	a.department_code = p->dept_code;
	a.resources = p->resources;
	a.grant_id = grant_id;
	a.purpose = purpose ? purpose :
		((pubdata_purpose && pubdata_purpose[0]) ? pubdata_purpose : NULL);
	a.command = command;
	a.query_id = query_id;
	a.rows = rows;
	pubdata_audit_record(&a);
	pfree(p->resources);
	pfree(p);
}

/*
 * GuardStatement
 *		Check one statement before it runs; remember it for the audit.
 */
static void
GuardStatement(QueryDesc *qd, int eflags)
{
	const char *copy_command = pending_copy_command;
	ListCell   *lc;
	Index		rti = 0;
	AuditPending *pending = NULL;
	StringInfoData codes;
	List	   *result_rels = qd->plannedstmt->resultRelations;
	/* a SELECT whose WITH inserts or updates writes too (the scheduler's aggregation does) */
	bool		writes = (qd->operation == CMD_INSERT || qd->operation == CMD_UPDATE ||
						  qd->operation == CMD_MERGE || qd->plannedstmt->hasModifyingCTE);

	pending_copy_command = NULL;
	codes.data = NULL;

	foreach(lc, qd->plannedstmt->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		PubdataResource *res;
		Oid			userid;
		int32		dept;
		char		dept_code[PUBDATA_CODE_LEN];

		rti++;
		if (rte->rtekind != RTE_RELATION || !(rte->requiredPerms & ACL_SELECT))
			continue;
		res = pubdata_catalog_lookup(rte->relid);
		if (res == NULL)
			continue;
		userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
		if (IsProvider(userid, res))
			continue;
		dept = pubdata_catalog_department(userid, dept_code);

		/* a read without the privileges a grant gives: say how to ask */
		if (!ExecCheckRTPerms(list_make1(rte), false))
		{
			if (res->share_class == PUBDATA_NON_SHARED)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("resource \"%s\" is not shared", res->code),
						 errdetail("Table \"%s\" holds non-shared data: only its provider reads it (Art 18(3)).",
								   get_rel_name(rte->relid)),
						 errhint("See the legal basis in pubdata.resource.")));
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for resource \"%s\"", res->code),
					 errdetail("%s holds no live grant for the items read from table \"%s\".",
							   dept ? psprintf("Department \"%s\"", dept_code) : psprintf("Role \"%s\"", GetUserNameFromId(userid, false)),
							   get_rel_name(rte->relid)),
					 errhint("Request access with SELECT pubdata.request_share('%s', purpose => '...', items => ARRAY[...]);",
							 res->code)));
		}

		/* taking rows out of the table is a copy (Art 17) */
		if ((copy_command != NULL || (writes && !list_member_int(result_rels, (int) rti)))
			&& !HasCopyGrant(res->id, dept))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("copying resource \"%s\" is not allowed", res->code),
					 errdetail("%s takes rows of table \"%s\" out of it; shared data is used by request and response, and a copy needs the Big Data Bureau's consent (Art 17).",
							   copy_command ? copy_command :
							   qd->operation == CMD_SELECT ? "A WITH query that inserts" : CommandName(qd, NULL),
							   get_rel_name(rte->relid)),
					 errhint("Request a copy grant: SELECT pubdata.request_share('%s', purpose => '...', mode => 'copy'); the provider and then pubdata_admin approve it.",
							 res->code)));

		if (res->share_class == PUBDATA_UNCONDITIONAL || (eflags & EXEC_FLAG_EXPLAIN_ONLY))
			continue;

		/* restricted or non-shared, read by someone else: audit it */
		if (pending == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			pending = palloc0(sizeof(AuditPending));
			pending->qd = qd;
			pending->command = CommandName(qd, copy_command);
			pending->userid = userid;
			pending->dept_id = dept;
			strlcpy(pending->dept_code, dept_code, PUBDATA_CODE_LEN);
			initStringInfo(&codes);
			MemoryContextSwitchTo(old);
		}
		if (pending->n_resources < lengthof(pending->resource_ids))
		{
			int			i;
			bool		dup = false;

			for (i = 0; i < pending->n_resources; i++)
				dup |= (pending->resource_ids[i] == res->id);
			if (dup)
				continue;
			pending->resource_ids[pending->n_resources++] = res->id;
			/* a grant noted by an earlier statement does not count */
			ForgetNotedGrant(res->id);
		}
		if (codes.len > 0)
			appendStringInfoChar(&codes, ',');
		appendStringInfoString(&codes, res->code);
	}

	if (pending != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		pending->resources = codes.data;
		audit_pending = lappend(audit_pending, pending);
		MemoryContextSwitchTo(old);
	}
}

/*
 * FinishAudit
 *		Write the audit record of a statement that ran to its end.
 */
static void
FinishAudit(QueryDesc *qd)
{
	ListCell   *lc;
	AuditPending *p = NULL;
	int64		grant_id = 0;
	const char *purpose = NULL;
	int			i;

	foreach(lc, audit_pending)
	{
		if (((AuditPending *) lfirst(lc))->qd == qd)
		{
			p = lfirst(lc);
			break;
		}
	}
	if (p == NULL)
		return;
	audit_pending = list_delete_ptr(audit_pending, p);

	for (i = 0; i < p->n_resources && grant_id == 0 && noted_grants; i++)
	{
		NotedGrant *g = hash_search(noted_grants, &p->resource_ids[i], HASH_FIND, NULL);

		if (g)
		{
			grant_id = g->grant_id;
			purpose = g->purpose;
		}
	}
	RecordPending(p, p->command, grant_id, purpose, qd->plannedstmt->queryId,
				  qd->estate ? qd->estate->es_processed : 0);
}

/*
 * GuardXactCallback
 *		A statement that failed after it started reading still leaves its
 *		audit record (rows unknown, written as 0, command marked as failed).
 */
static void
GuardXactCallback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	foreach(lc, audit_pending)
	{
		AuditPending *p = lfirst(lc);

		RecordPending(p, psprintf("%s (failed)", p->command), 0, NULL, 0, 0);
	}
	list_free(audit_pending);
	audit_pending = NIL;
}

/*
 * pubdata_ExecutorStart
 */
static void
pubdata_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (pubdata_guard && !IsParallelWorker() && !pubdata_catalog_loading())
		GuardStatement(queryDesc, eflags);
	else
		pending_copy_command = NULL;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * pubdata_ExecutorEnd
 */
static void
pubdata_ExecutorEnd(QueryDesc *queryDesc)
{
	if (audit_pending != NIL)
		FinishAudit(queryDesc);

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * pubdata_ProcessUtility
 *		Mark the query that a COPY TO, CREATE TABLE AS, SELECT INTO or
 *		materialized view is about to run, for the copy guard.
 */
static void
pubdata_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	const char *copy_command = NULL;

	if (IsA(stmt, CopyStmt) && !((CopyStmt *) stmt)->is_from)
		copy_command = "COPY";
	else if (IsA(stmt, CreateTableAsStmt))
		copy_command = ((CreateTableAsStmt *) stmt)->objtype == OBJECT_MATVIEW ?
			"CREATE MATERIALIZED VIEW" : "CREATE TABLE AS";
	else if (IsA(stmt, RefreshMatViewStmt))
		copy_command = "REFRESH MATERIALIZED VIEW";

	pending_copy_command = copy_command;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		pending_copy_command = NULL;
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(pubdata_note_grant);

/*
 * pubdata._note_grant(resource bigint, grant bigint, purpose text)
 *		Called by pubdata._grant_ok() when a policy admits a grant: the audit
 *		record of the running statement names the grant and its purpose.
 */
Datum
pubdata_note_grant(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	int64		grant_id = PG_GETARG_INT64(1);
	char	   *purpose = text_to_cstring(PG_GETARG_TEXT_PP(2));
	NotedGrant *g;
	bool		found;

	if (noted_grants == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(NotedGrant);
		ctl.hcxt = TopMemoryContext;
		noted_grants = hash_create("pubdata noted grants", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	g = hash_search(noted_grants, &resource_id, HASH_ENTER, &found);
	if (found && g->purpose)
		pfree(g->purpose);
	g->grant_id = grant_id;
	g->purpose = MemoryContextStrdup(TopMemoryContext, purpose);
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(pubdata_internal_ddl_active);

/*
 * pubdata._internal_ddl() returns boolean
 *		True while one of pubdata's own functions changes policies; read from
 *		the C variable so that a placeholder set before the library was
 *		loaded cannot fake it.
 */
Datum
pubdata_internal_ddl_active(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pubdata_internal_ddl);
}
