/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The sharing decisions that make the regulation impossible to bypass.
 *
 * hooks.c calls this module from the executor and utility hooks; here is
 * what is decided:
 *
 *	- Which grants a statement reads under.  A grant is items x rows.  For
 *	  each governed relation the statement reads as someone other than its
 *	  provider, the columns read (every column the query touches, in WHERE
 *	  too) must all be covered by one grant; the rows visible are the union
 *	  of the row scopes of the live grants that each cover all of them (the
 *	  unconditional items of an unconditional resource are open to every row:
 *	  the "shared" choice).  The row policies pubdata installs call
 *	  pubdata._grant_ok(id) / pubdata._shared_ok(resource) in an InitPlan,
 *	  once per query, and those read this choice from the running frame: no
 *	  query, no catalog access, and an expired grant is never chosen.
 *	  SET pubdata.purpose narrows the choice to one grant or scenario.
 *	- The copy rule (Art 17).  A top-level statement, with everything it runs
 *	  (functions, triggers, DO blocks, procedures), that reads a shared
 *	  resource and writes a permanent relation other than the provider's, or
 *	  sends rows out with COPY, CREATE TABLE AS, SELECT INTO or a
 *	  materialized view, is a copy: refused unless the department holds a
 *	  copy grant the bureau consented to.  Reads and writes of the statement
 *	  are collected in one small state whatever order they come in; it
 *	  starts afresh when the next client statement begins.
 *	- Refusals say what to do: a read without a grant names the resource and
 *	  the request_share call, a read of items no grant gives names them; a
 *	  write into another department's table says that only the provider
 *	  writes its data; the bureau's views of pubdata (access_log,
 *	  lineage_edge...) name what a department reads instead; EXPLAIN
 *	  ANALYZE of rows a department sees only in part is refused (its row
 *	  counts would reveal the others).
 *	- The audit record of each statement that reads a restricted or
 *	  non-shared resource as someone else than its provider: built when the
 *	  statement starts (so that it can be written from an abort, where no
 *	  catalog access is possible), written when it ends, however it ends.
 *	  Refusals leave a record too.
 *
 * Statements that touch no registered resource cost one hash lookup per
 * relation in their range table.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_settings.h"
#include "catalog.h"
#include "grants.h"
#include "guard.h"
#include "mask.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/keywords.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/scanner.h"
#include "parser/gram.h"
#include "parser/parsetree.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

/* GUCs */
char	   *pubdata_purpose = NULL;
static bool pubdata_guard = true;
static bool pubdata_internal_ddl = false;
static char *pubdata_acl_snapshot = NULL;
static int	pubdata_response_days = 5;
static int	audit_statement = 1;

#define AUDIT_STATEMENT_NONE		0
#define AUDIT_STATEMENT_NORMALIZED	1
#define AUDIT_STATEMENT_FULL		2
#define AUDIT_STATEMENT_MAX			4096	/* bytes of statement text kept */

/* range table entries a statement start looks at without allocating */
#define GUARD_LOCAL_RTES 8

static const struct config_enum_entry audit_statement_options[] = {
	{"none", AUDIT_STATEMENT_NONE, false},
	{"normalized", AUDIT_STATEMENT_NORMALIZED, false},
	{"full", AUDIT_STATEMENT_FULL, false},
	{NULL, 0, false}
};

/*
 * The copy rule's state of the current top-level statement: the shared
 * resources it read (as someone else than the provider) and the relations it
 * wrote.  Fixed arrays: nothing to allocate, nothing to leak; an overflow
 * makes the rule stricter, never looser.
 */
#define COPY_MAX 16

typedef struct CopyState
{
	const void *owner;			/* the client statement it belongs to */
	uint64		generation;		/* bumped at each start afresh */
	int			nreads;
	bool		reads_overflow;
	CopyRead	reads[COPY_MAX];
	int			nwrites;
	bool		writes_overflow;
	Oid			writes[COPY_MAX];
	SubTransactionId write_subids[COPY_MAX];	/* a write dies with its subtransaction */
	const char *copy_out;		/* "COPY", "CREATE TABLE AS", ...: rows leave */
	SubTransactionId copy_out_subid;
} CopyState;

/* generation 0 means "never noted" for a frame */
static CopyState copy_state = {.generation = 1};

/* normalized statement texts by query id (bounded; reset when full) */
typedef struct TextKey
{
	uint64		query_id;
	uint32		text_hash;		/* of the statement's own text */
	int32		len;
} TextKey;

typedef struct TextEntry
{
	TextKey		key;
	char	   *raw;			/* the statement's own text */
	char	   *text;			/* its form in the audit record */
} TextEntry;

#define TEXT_CACHE_MAX 1024
static HTAB *text_cache = NULL;
static TextEntry *text_last = NULL;	/* the entry used last */
static MemoryContext text_cxt = NULL;

static bool check_purpose(char **newval, void **extra, GucSource source);
static bool IsProvider(Oid roleid, PubdataResource *res);
static bool SuperuserNotProvider(Oid roleid, PubdataResource *res);
static bool SuperuserReadAudited(PubdataResource *res, Bitmapset *cols);

/*
 * pubdata_guard_init
 *		GUCs of the sharing layer.
 */
void
pubdata_guard_init(void)
{
	DefineCustomStringVariable("pubdata.purpose",
							   "Declared purpose of this session's shared-data use: a request id or a scenario code.",
							   "Only the grant (or scenario) it names is used, and logged (Art 19). At most 200 characters.",
							   &pubdata_purpose, NULL, PGC_USERSET, 0, check_purpose, NULL, NULL);
	DefineCustomBoolVariable("pubdata.guard",
							 "Enforce the copy rule and audit governed reads.",
							 "Only for benchmarks and emergencies; grants and row-level security stay on regardless. Every change is recorded in the access audit, and the reads it would have recorded are counted.",
							 &pubdata_guard, true, PGC_SUSET, 0,
							 pubdata_audit_setting_check, pubdata_audit_setting_assign_guard, NULL);
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
	DefineCustomEnumVariable("pubdata.audit_statement",
							 "Statement text kept in each access audit record: normalized, full or none.",
							 "normalized replaces constants by $n, like pg_stat_statements; at most 4096 bytes are kept.",
							 &audit_statement, AUDIT_STATEMENT_NORMALIZED, audit_statement_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
}

/*
 * check_purpose
 *		pubdata.purpose names a grant or a scenario: short, printable.
 */
static bool
check_purpose(char **newval, void **extra, GucSource source)
{
	const char *p;

	if (*newval == NULL)
		return true;
	if (pg_mbstrlen(*newval) > PUBDATA_PURPOSE_MAX)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("pubdata.purpose is longer than %d characters", PUBDATA_PURPOSE_MAX);
		GUC_check_errhint("Set it to the request id or the scenario code of the grant you use.");
		return false;
	}
	for (p = *newval; *p; p++)
	{
		if ((unsigned char) *p < 0x20)
		{
			GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
			GUC_check_errmsg("pubdata.purpose contains a control character");
			GUC_check_errhint("Set it to the request id or the scenario code of the grant you use.");
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------------
 * The statement text of an audit record
 * ------------------------------------------------------------------------
 */

/*
 * NormalizeText
 *		The statement with every constant replaced by $n (numbered after the
 *		statement's own parameters), as pg_stat_statements shows it.  Uses
 *		the core scanner, so quoting and comments are understood.
 */
static char *
NormalizeText(const char *text)
{
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	StringInfoData out;
	int			last = 0;
	int			max_param = 0;
	int			n;
	int			tok;
	struct
	{
		int			loc;
		int			len;
	}		   *consts;
	int			nconsts = 0;
	int			cap = 16;
	int			i;

	consts = palloc(cap * sizeof(*consts));
	yyscanner = scanner_init(text, &yyextra, &ScanKeywords, ScanKeywordTokens);
	yyextra.escape_string_warning = false;
	for (;;)
	{
		tok = core_yylex(&yylval, &yylloc, yyscanner);
		if (tok == 0)
			break;
		if (tok == PARAM)
			max_param = Max(max_param, yylval.ival);
		else if (tok == ICONST || tok == FCONST || tok == SCONST || tok == USCONST ||
				 tok == BCONST || tok == XCONST)
		{
			if (nconsts == cap)
			{
				cap *= 2;
				consts = repalloc(consts, cap * sizeof(*consts));
			}
			consts[nconsts].loc = yylloc;
			/* the scanner ends the current token with a NUL in its buffer */
			consts[nconsts].len = strlen(yyextra.scanbuf + yylloc);
			nconsts++;
		}
	}
	scanner_finish(yyscanner);

	initStringInfo(&out);
	n = max_param;
	for (i = 0; i < nconsts; i++)
	{
		appendBinaryStringInfo(&out, text + last, consts[i].loc - last);
		appendStringInfo(&out, "$%d", ++n);
		last = consts[i].loc + consts[i].len;
	}
	appendStringInfoString(&out, text + last);
	pfree(consts);
	return out.data;
}

/*
 * StatementText
 *		The text to keep in the audit record of a query, bounded; NULL when
 *		pubdata.audit_statement = none.  A cut text says so at its end.
 */
static char *
StatementText(QueryDesc *qd)
{
	PlannedStmt *ps = qd->plannedstmt;
	const char *src = qd->sourceText;
	int			loc = ps->stmt_location;
	int			len = ps->stmt_len;
	char	   *stmt;
	char	   *text;
	TextEntry  *e = NULL;
	TextKey		key;
	bool		found;
	int			full;
	int			srclen;

	if (audit_statement == AUDIT_STATEMENT_NONE || src == NULL)
		return NULL;
	srclen = strlen(src);
	if (loc < 0 || loc > srclen)
		loc = 0;
	if (len <= 0 || loc + len > srclen)
		len = srclen - loc;

	/*
	 * The same statement text (not only the same query id) reuses its form:
	 * the one of the last statement, compared byte for byte (a prepared
	 * statement executed again), or one found by its hash.
	 */
	if (audit_statement == AUDIT_STATEMENT_NORMALIZED && text_last != NULL &&
		text_last->key.query_id == ps->queryId && text_last->key.len == len &&
		memcmp(text_last->raw, src + loc, len) == 0)
		return pstrdup(text_last->text);
	memset(&key, 0, sizeof(key));
	key.query_id = ps->queryId;
	key.len = len;
	key.text_hash = hash_bytes((const unsigned char *) src + loc, len);
	if (audit_statement == AUDIT_STATEMENT_NORMALIZED && text_cache != NULL)
	{
		e = hash_search(text_cache, &key, HASH_FIND, NULL);
		if (e && memcmp(e->raw, src + loc, len) == 0)
		{
			text_last = e;
			return pstrdup(e->text);
		}
	}
	stmt = pnstrdup(src + loc, len);
	text = stmt;
	if (audit_statement == AUDIT_STATEMENT_NORMALIZED)
	{
		PG_TRY();
		{
			text = NormalizeText(stmt);
		}
		PG_CATCH();
		{
			/* cannot happen for a statement that was parsed; keep nothing */
			FlushErrorState();
			text = pstrdup("(statement text unavailable)");
		}
		PG_END_TRY();
	}
	full = strlen(text);
	if (full > AUDIT_STATEMENT_MAX)
	{
		int			keep = pg_mbcliplen(text, full, AUDIT_STATEMENT_MAX - 64);

		text = psprintf("%.*s ... (%d bytes in all)", keep, text, full);
	}

	if (audit_statement == AUDIT_STATEMENT_NORMALIZED)
	{
		if (text_cache == NULL || hash_get_num_entries(text_cache) >= TEXT_CACHE_MAX)
		{
			/* full: start again rather than grow */
			text_last = NULL;
			pubdata_fresh_context(&text_cxt, TopMemoryContext, "pubdata statement texts");
			text_cache = pubdata_blob_hash("pubdata statement texts", sizeof(TextKey), sizeof(TextEntry),
										   256, text_cxt);
		}
		e = hash_search(text_cache, &key, HASH_ENTER, &found);
		if (found)
		{
			/* a different text of the same hash: it replaces the one kept */
			pfree(e->raw);
			pfree(e->text);
		}
		e->raw = MemoryContextAlloc(text_cxt, len);
		memcpy(e->raw, src + loc, len);
		e->text = MemoryContextStrdup(text_cxt, text);
		text_last = e;
	}
	return text;
}

/* ------------------------------------------------------------------------
 * Audit records
 * ------------------------------------------------------------------------
 */

/*
 * WriteRecord
 *		Write a frame's record with its outcome.
 */
static void
WriteRecord(GuardFrame *f, const char *outcome)
{
	PubdataAccess a;

	memset(&a, 0, sizeof(a));
	a.role_name = f->role_name;
	a.department_id = f->dept;
	a.department_code = f->dept_code;
	a.resources = f->resources;
	a.grant_id = f->first_grant;
	a.purpose = f->purpose;
	a.command = f->command;
	a.query_id = f->query_id;
	a.rows = f->rows;
	a.grants = f->grants;
	a.masked = f->masked;
	a.outcome = outcome;
	a.statement = f->statement;
	pubdata_audit_record(&a);
	f->done = true;
}

/*
 * RoleName
 *		A role's name for the audit record, kept for the last role asked
 *		(a session reads as one role, statement after statement) until
 *		pg_authid changes.
 */
static Oid	role_name_oid = InvalidOid;
static char role_name_buf[NAMEDATALEN];

static void
RoleNameInvalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	role_name_oid = InvalidOid;
}

static char *
RoleName(Oid userid)
{
	static bool registered = false;

	if (!registered)
	{
		CacheRegisterSyscacheCallback(AUTHOID, RoleNameInvalidate, (Datum) 0);
		registered = true;
	}
	if (userid != role_name_oid)
	{
		char	   *name = GetUserNameFromId(userid, true);

		if (name == NULL)
			return NULL;
		strlcpy(role_name_buf, name, NAMEDATALEN);
		role_name_oid = userid;
	}
	return pstrdup(role_name_buf);
}

/*
 * RecordDenied
 *		A refusal leaves a record: who, which resource, what statement.
 */
static void
RecordDenied(QueryDesc *qd, Oid userid, int32 dept, const char *dept_code,
			 const char *code, const char *command)
{
	PubdataAccess a;

	if (!pubdata_guard)
		return;
	memset(&a, 0, sizeof(a));
	a.role_name = RoleName(userid);
	a.department_id = dept;
	a.department_code = dept_code;
	a.resources = code;
	/* the purpose the session declared, quoted as it asked (bounded by its GUC check) */
	a.purpose = (pubdata_purpose && pubdata_purpose[0]) ? pubdata_purpose : NULL;
	a.command = command;
	a.query_id = qd ? qd->plannedstmt->queryId : 0;
	a.outcome = "denied";
	a.statement = qd ? StatementText(qd) : NULL;
	pubdata_audit_record(&a);
}

/* ------------------------------------------------------------------------
 * The copy rule
 * ------------------------------------------------------------------------
 */

/*
 * pubdata_guard_statement_begin
 *		A new client statement: forget what the previous one read and wrote.
 */
void
pubdata_guard_statement_begin(const void *owner)
{
	copy_state.owner = owner;
	copy_state.generation++;
	copy_state.nreads = 0;
	copy_state.reads_overflow = false;
	copy_state.nwrites = 0;
	copy_state.writes_overflow = false;
	copy_state.copy_out = NULL;
}

const void *
pubdata_guard_statement_owner(void)
{
	return copy_state.owner;
}

void
pubdata_guard_xact_end(void)
{
	pubdata_guard_statement_begin(NULL);
}

/*
 * WriteIsCopyOf
 *		Does writing relation relid take rows of the read resource out of its
 *		provider's hands?  Temporary relations and the provider's own are not;
 *		pubdata's bookkeeping (its schema, written as the extension owner
 *		inside its own functions) is not.
 */
static bool
WriteIsCopyOf(Oid relid, const CopyRead *r)
{
	char		persistence = get_rel_persistence(relid);
	Oid			nsp;

	if (persistence == RELPERSISTENCE_TEMP)
		return false;
	nsp = get_rel_namespace(relid);
	if (OidIsValid(nsp) && nsp == pubdata_schema_oid())
		return false;
	if (OidIsValid(r->provider_role))
	{
		Oid			owner = InvalidOid;
		HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

		if (HeapTupleIsValid(tp))
		{
			owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
			ReleaseSysCache(tp);
		}
		if (OidIsValid(owner) && has_privs_of_role(owner, r->provider_role))
			return false;
	}
	return true;
}

/*
 * CommandName
 *		The statement kind written to the audit log.
 */
static const char *
CommandName(QueryDesc *qd, const char *utility_command)
{
	if (utility_command)
		return utility_command;
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
 * RefuseCopy
 *		The statement reads r and writes relid (or sends rows out): refuse it,
 *		with a record.
 */
static void
RefuseCopy(QueryDesc *qd, const CopyRead *r, Oid relid, const char *how)
{
	Oid			userid = GetUserId();
	char		dept_code[PUBDATA_CODE_LEN];
	int32		dept = pubdata_catalog_department(userid, dept_code);
	const char *target = OidIsValid(relid) ? get_rel_name(relid) : NULL;

	RecordDenied(qd, userid, dept, dept_code, r->code,
				 how ? how : qd ? CommandName(qd, NULL) : "copy");
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("copying resource \"%s\" is not allowed", r->code),
			 target ?
			 errdetail("This statement reads resource \"%s\" and writes table \"%s\"; shared data is used by request and response, and a copy needs the Big Data Bureau's consent (Art 17).",
					   r->code, target) :
			 errdetail("This statement reads resource \"%s\" and sends its rows out (%s); shared data is used by request and response, and a copy needs the Big Data Bureau's consent (Art 17).",
					   r->code, how),
			 errhint("Request a copy grant: SELECT pubdata.request_share('%s', purpose => '...', mode => 'copy'); the provider and then pubdata_admin approve it.",
					 r->code)));
}

/*
 * CheckRead
 *		Reading r does not make a copy with what the statement writes.
 */
static void
CheckRead(QueryDesc *qd, const CopyRead *r)
{
	int			j;

	if (r->copy_ok)
		return;
	if (copy_state.copy_out)
		RefuseCopy(qd, r, InvalidOid, copy_state.copy_out);
	for (j = 0; j < copy_state.nwrites; j++)
		if (WriteIsCopyOf(copy_state.writes[j], r))
			RefuseCopy(qd, r, copy_state.writes[j], NULL);
	if (copy_state.writes_overflow)
		RefuseCopy(qd, r, InvalidOid, "many tables");
}

/*
 * CheckCopy
 *		Every (read, write) pair of the statement so far obeys the rule.
 */
static void
CheckCopy(QueryDesc *qd)
{
	int			i;

	for (i = 0; i < copy_state.nreads; i++)
		CheckRead(qd, &copy_state.reads[i]);
}

/*
 * pubdata_guard_subxact_abort
 *		Writes (and rows sent out) of an aborted subtransaction did not
 *		happen; its reads did (what was read may live on in variables).
 */
void
pubdata_guard_subxact_abort(SubTransactionId subid)
{
	int			i,
				n = 0;

	for (i = 0; i < copy_state.nwrites; i++)
	{
		if (copy_state.write_subids[i] >= subid)
			continue;
		copy_state.writes[n] = copy_state.writes[i];
		copy_state.write_subids[n] = copy_state.write_subids[i];
		n++;
	}
	copy_state.nwrites = n;
	if (copy_state.copy_out && copy_state.copy_out_subid >= subid)
		copy_state.copy_out = NULL;
}

/*
 * NoteRead
 *		The statement reads a shared resource as someone else than its
 *		provider.  Returns true if it was new.
 */
static bool
NoteRead(const CopyRead *r)
{
	int			i;

	for (i = 0; i < copy_state.nreads; i++)
		if (copy_state.reads[i].resource_id == r->resource_id)
		{
			copy_state.reads[i].copy_ok &= r->copy_ok;
			return false;
		}
	if (copy_state.nreads == COPY_MAX)
	{
		/* forget a reader's copy grant rather than a read */
		copy_state.reads_overflow = true;
		copy_state.reads[COPY_MAX - 1].copy_ok = false;
		return true;
	}
	copy_state.reads[copy_state.nreads++] = *r;
	return true;
}

/*
 * NoteWrite
 *		The statement writes relid.
 */
static bool
NoteWrite(Oid relid)
{
	int			i;

	for (i = 0; i < copy_state.nwrites; i++)
		if (copy_state.writes[i] == relid)
			return false;
	if (copy_state.nwrites == COPY_MAX)
	{
		copy_state.writes_overflow = true;
		return true;
	}
	copy_state.write_subids[copy_state.nwrites] = GetCurrentSubTransactionId();
	copy_state.writes[copy_state.nwrites++] = relid;
	return true;
}

/*
 * NoteStatementWrites
 *		The permanent relations a query modifies (its ModifyTable targets,
 *		data-modifying WITH included).
 */
static bool
NoteStatementWrites(QueryDesc *qd)
{
	ListCell   *lc;
	bool		added = false;
	PlannedStmt *ps = qd->plannedstmt;

	foreach(lc, ps->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), ps->rtable);

		if (rte->rtekind == RTE_RELATION)
			added |= NoteWrite(rte->relid);
	}
	return added;
}

/*
 * pubdata_guard_utility
 *		A utility statement that takes rows somewhere: COPY TO sends them
 *		out; CREATE TABLE AS, SELECT INTO and materialized views write a new
 *		(permanent) relation; REFRESH writes an existing one; COPY FROM
 *		writes its table.  *command gets the name for the audit record of
 *		the query it runs.
 */
void
pubdata_guard_utility(PlannedStmt *pstmt, const char **command)
{
	Node	   *stmt = pstmt->utilityStmt;

	*command = NULL;
	if (!pubdata_guard || IsParallelWorker())
		return;
	if (IsA(stmt, CopyStmt))
	{
		CopyStmt   *c = (CopyStmt *) stmt;

		if (!c->is_from)
		{
			*command = "COPY";
			copy_state.copy_out = "COPY";
			copy_state.copy_out_subid = GetCurrentSubTransactionId();
		}
		else if (c->relation)
		{
			Oid			relid = RangeVarGetRelid(c->relation, NoLock, true);

			if (OidIsValid(relid))
				NoteWrite(relid);
		}
	}
	else if (IsA(stmt, CreateTableAsStmt))
	{
		CreateTableAsStmt *c = (CreateTableAsStmt *) stmt;

		*command = c->objtype == OBJECT_MATVIEW ? "CREATE MATERIALIZED VIEW" :
			c->is_select_into ? "SELECT INTO" : "CREATE TABLE AS";
		if (c->into && c->into->rel && c->into->rel->relpersistence != RELPERSISTENCE_TEMP)
		{
			copy_state.copy_out = *command;
			copy_state.copy_out_subid = GetCurrentSubTransactionId();
		}
	}
	else if (IsA(stmt, RefreshMatViewStmt))
	{
		Oid			relid = RangeVarGetRelid(((RefreshMatViewStmt *) stmt)->relation, NoLock, true);

		*command = "REFRESH MATERIALIZED VIEW";
		if (OidIsValid(relid))
			NoteWrite(relid);
	}
	else
		return;
	if (copy_state.nreads > 0)
		CheckCopy(NULL);
}

/* ------------------------------------------------------------------------
 * The bureau's views of pubdata, refused to a department with a pointer
 * ------------------------------------------------------------------------
 */

/*
 * Relations of pubdata that show every department's doings and are read by
 * the bureau and the auditor only; a department that tries gets, instead of
 * a bare "permission denied for view", the name of what it may read.
 */
static const struct
{
	const char *relname;
	const char *detail;
	const char *hint;
}			bureau_views[] = {
	{"access_log", "pubdata.access_log shows every department's reads; pubdata_admin and pubdata_auditor read it.",
	"A department reads its own reads, and other departments' reads of what it provides, in pubdata.my_access_log."},
	{"usage_stats", "pubdata.usage_stats counts every department's reads; pubdata_admin and pubdata_auditor read it.",
	"A department reads its own reads, and other departments' reads of what it provides, in pubdata.my_access_log."},
	{"lineage_edge", "pubdata.lineage_edge is the whole lineage graph; pubdata_admin and pubdata_auditor read it.",
	"A department walks the lineage of a table with pubdata.lineage_upstream('schema.table') and pubdata.lineage_downstream('schema.table')."},
	{"lineage_edge_data", "pubdata.lineage_edge_data is the whole lineage graph; pubdata_admin and pubdata_auditor read it.",
	"A department walks the lineage of a table with pubdata.lineage_upstream('schema.table') and pubdata.lineage_downstream('schema.table')."},
	{"lineage_edge_run", "pubdata.lineage_edge_run is part of the whole lineage graph; pubdata_admin and pubdata_auditor read it.",
	"A department walks the lineage of a table with pubdata.lineage_upstream('schema.table') and pubdata.lineage_downstream('schema.table')."},
	{"lineage_observation", "pubdata.lineage_observation is part of the whole lineage graph; pubdata_admin and pubdata_auditor read it.",
	"A department walks the lineage of a table with pubdata.lineage_upstream('schema.table') and pubdata.lineage_downstream('schema.table')."},
};

static Oid	bureau_view_oids[lengthof(bureau_views)];
static bool bureau_views_valid = false;

/*
 * BureauViewsInvalidate
 *		Relcache callback: look the relations up again (the extension may
 *		have been dropped and created again).
 */
static void
BureauViewsInvalidate(Datum arg, Oid relid)
{
	int			i;

	if (!OidIsValid(relid))
		bureau_views_valid = false;
	for (i = 0; i < lengthof(bureau_views); i++)
		if (bureau_view_oids[i] == relid)
			bureau_views_valid = false;
}

/*
 * RefuseBureauRte
 *		A relation read that is one of the bureau's views, without the right
 *		to read it: the same error as the executor's, with a detail and a
 *		hint.  Costs a comparison per relation.
 */
static void
RefuseBureauRte(RangeTblEntry *rte)
{
	static bool registered = false;
	int			i;

	if (rte->rtekind != RTE_RELATION || !(rte->requiredPerms & ACL_SELECT) || !OidIsValid(rte->relid))
		return;
	if (!bureau_views_valid)
	{
		if (!registered)
		{
			CacheRegisterRelcacheCallback(BureauViewsInvalidate, (Datum) 0);
			registered = true;
		}
		for (i = 0; i < lengthof(bureau_views); i++)
			bureau_view_oids[i] = pubdata_relation_oid(bureau_views[i].relname);
		bureau_views_valid = true;
	}
	for (i = 0; i < lengthof(bureau_views); i++)
	{
		Oid			userid;

		if (rte->relid != bureau_view_oids[i])
			continue;
		userid = pubdata_rte_user(rte);
		if (pg_class_aclcheck(rte->relid, userid, ACL_SELECT) == ACLCHECK_OK)
			return;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s %s",
						get_rel_relkind(rte->relid) == RELKIND_VIEW ? "view" : "table",
						bureau_views[i].relname),
				 errdetail("%s", bureau_views[i].detail),
				 errhint("%s", bureau_views[i].hint)));
	}
}

/*
 * BureauViewWalker
 *		Every range table entry of a query, its subqueries, CTEs and
 *		sublinks included.
 */
static bool
BureauViewWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RefuseBureauRte((RangeTblEntry *) node);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, BureauViewWalker, context, QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, BureauViewWalker, context);
}

/*
 * pubdata_guard_parsed
 *		See guard.h.  A view is checked here, before it is expanded: the
 *		planner may refuse it before the executor starts.
 */
void
pubdata_guard_parsed(Query *query)
{
	(void) query_tree_walker(query, BureauViewWalker, NULL, QTW_EXAMINE_RTES_BEFORE);
}

/*
 * RefuseBureauView
 *		The same for a plan about to run (a prepared statement planned
 *		before, say).
 */
static void
RefuseBureauView(PlannedStmt *ps)
{
	ListCell   *lc;

	foreach(lc, ps->rtable)
		RefuseBureauRte((RangeTblEntry *) lfirst(lc));
}

/* ------------------------------------------------------------------------
 * Partitions of registered tables
 * ------------------------------------------------------------------------
 */

static bool IsProvider(Oid roleid, PubdataResource *res);

/*
 * RefusePartition
 *		A statement names a partition of a registered table, as someone else
 *		than the table's provider.  A partition has neither the table's
 *		row-level security nor its grants' policies: read or written
 *		directly, it would give rows past every row scope and item a grant
 *		decided.  So a partition is the provider's alone (a privilege on it,
 *		granted by anyone, changes nothing); everyone else goes through the
 *		partitioned table.  The refusal is audited under the resource.
 */
static void
RefusePartition(QueryDesc *qd, RangeTblEntry *rte, PubdataResource *res, Oid userid,
				const char *command)
{
	int32		dept;
	char		dept_code[PUBDATA_CODE_LEN];
	char	   *nsp = get_namespace_name(get_rel_namespace(res->relid));
	char	   *table = get_rel_name(res->relid);

	dept = pubdata_catalog_department(userid, dept_code);
	RecordDenied(qd, userid, dept, dept_code, res->code, command);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for partition \"%s\" of resource \"%s\"",
					get_rel_name(rte->relid), res->code),
			 errdetail("A partition of a registered table is read and written through the table, where the resource's grants, row scopes and audit apply; directly, only by its provider."),
			 errhint("Query %s instead.",
					 quote_qualified_identifier(nsp ? nsp : "?", table ? table : "?"))));
}

/*
 * CheckPartitions
 *		Every partition of a registered table a statement names directly, to
 *		read or to write, as someone else than the table's provider, is
 *		refused (partitions a plan reaches through their table are not named:
 *		their range table entries require no privilege).
 */
static void
CheckPartitions(QueryDesc *qd, const char *utility_command)
{
	ListCell   *lc;

	foreach(lc, qd->plannedstmt->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		PubdataResource *res;
		Oid			userid;

		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0 ||
			!OidIsValid(rte->relid))
			continue;
		if (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE &&
			rte->relkind != RELKIND_FOREIGN_TABLE)
			continue;
		res = pubdata_catalog_lookup_partition(rte->relid);
		if (res == NULL)
			continue;
		userid = pubdata_rte_user(rte);
		if (!IsProvider(userid, res))
			RefusePartition(qd, rte, res, userid, CommandName(qd, utility_command));
	}
}

/* ------------------------------------------------------------------------
 * Writes into another department's table
 * ------------------------------------------------------------------------
 */

/*
 * RefuseForeignWrite
 *		A statement that changes a registered table as someone else than its
 *		provider, without the privilege to: only the provider writes its
 *		data.  Said before anything is read, so that the refusal is about the
 *		write, not about a read grant.  A role that holds the privilege
 *		(granted by the owner to a role of no department) is left to the
 *		executor.
 */
static void
RefuseForeignWrite(QueryDesc *qd, const char *utility_command)
{
	ListCell   *lc;

	foreach(lc, qd->plannedstmt->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		PubdataResource *res;
		Oid			userid;
		int32		dept;
		char		dept_code[PUBDATA_CODE_LEN];
		char		provider_code[PUBDATA_CODE_LEN];

		if (rte->rtekind != RTE_RELATION)
			continue;
		/* a write: INSERT, DELETE, UPDATE of columns (not SELECT FOR UPDATE) */
		if (!(rte->requiredPerms & (ACL_INSERT | ACL_DELETE)) &&
			!((rte->requiredPerms & ACL_UPDATE) && !bms_is_empty(rte->updatedCols)))
			continue;
		res = pubdata_catalog_lookup(rte->relid);
		if (res == NULL)
			continue;
		userid = pubdata_rte_user(rte);
		if (IsProvider(userid, res) || ExecCheckRTPerms(list_make1(rte), false))
			continue;
		dept = pubdata_catalog_department(userid, dept_code);
		if (!OidIsValid(res->provider_role) ||
			pubdata_catalog_department(res->provider_role, provider_code) == 0)
			strlcpy(provider_code, "?", sizeof(provider_code));
		RecordDenied(qd, userid, dept, dept_code, res->code, CommandName(qd, utility_command));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change resource \"%s\"", res->code),
				 errdetail("Table \"%s\" holds the data of department \"%s\": only the providing department writes it (Art 8, 15); %s reads it at most.",
						   get_rel_name(rte->relid), provider_code,
						   dept ? psprintf("department \"%s\"", dept_code) :
						   psprintf("role \"%s\"", GetUserNameFromId(userid, false))),
				 errhint("To have a record corrected, raise an objection: SELECT pubdata.raise_objection('%s', record_key => '{...}', item => '...', description => '...');",
						 res->code)));
	}
}

/* ------------------------------------------------------------------------
 * The grant decision
 * ------------------------------------------------------------------------
 */

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
 * SuperuserNotProvider
 *		A superuser that is not the provider's role or a member of it: it
 *		reads with the provider's rights, and is audited (issue 19).
 */
static bool
SuperuserNotProvider(Oid roleid, PubdataResource *res)
{
	return superuser_arg(roleid) &&
		!(OidIsValid(res->provider_role) && is_member_of_role_nosuper(roleid, res->provider_role));
}

/*
 * SuperuserReadAudited
 *		What a department's read would make audited: a restricted or
 *		non-shared resource, or items of a published unconditional one that
 *		are not shared with everyone (restricted or personal items).
 */
static bool
SuperuserReadAudited(PubdataResource *res, Bitmapset *cols)
{
	const PubdataGrantSet *set;

	if (res->share_class != PUBDATA_UNCONDITIONAL)
		return true;
	if (!res->published)
		return false;
	set = pubdata_grants_lookup(res->id, 0);
	return set->shared == NULL || !bms_is_subset(cols, set->shared);
}

/*
 * ColumnsRead
 *		Every column of relation a query reads through any of its range table
 *		entries (a whole-row reference reads them all).
 */
static Bitmapset *
ColumnsRead(PlannedStmt *ps, Oid relid, Oid userid, Oid *userids)
{
	Bitmapset  *cols = NULL;
	ListCell   *lc;
	int			rti = 0;

	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		rti++;
		if (rte->rtekind != RTE_RELATION || rte->relid != relid ||
			!(rte->requiredPerms & ACL_SELECT) || userids[rti - 1] != userid)
			continue;
		if (bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, rte->selectedCols))
		{
			/* the executor has locked it already */
			Relation	rel = relation_open(relid, NoLock);
			TupleDesc	td = RelationGetDescr(rel);
			int			a;

			for (a = 0; a < td->natts; a++)
				if (!TupleDescAttr(td, a)->attisdropped)
					cols = bms_add_member(cols, a + 1 - FirstLowInvalidHeapAttributeNumber);
			relation_close(rel, NoLock);
		}
		cols = bms_add_members(cols, rte->selectedCols);
	}
	/* system columns and the whole-row marker are not items */
	for (;;)
	{
		int			m = bms_next_member(cols, -1);

		if (m < 0 || m > InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber)
			break;
		cols = bms_del_member(cols, m);
	}
	return cols;
}

/*
 * ItemList
 *		The names of the columns in cols that set does not cover, for an
 *		error message.
 */
static char *
ItemList(Oid relid, Bitmapset *cols, Bitmapset *covered)
{
	StringInfoData s;
	int			m = -1;

	initStringInfo(&s);
	while ((m = bms_next_member(cols, m)) >= 0)
	{
		char	   *name;

		if (covered && bms_is_member(m, covered))
			continue;
		name = get_attname(relid, m + FirstLowInvalidHeapAttributeNumber, true);
		if (name == NULL)
			continue;
		appendStringInfo(&s, "%s%s", s.len ? ", " : "", name);
	}
	return s.data;
}

/*
 * ItemArray
 *		The names of the columns in cols that covered does not cover, as the
 *		elements of a SQL array of text literals, for a hint.
 */
static char *
ItemArray(Oid relid, Bitmapset *cols, Bitmapset *covered)
{
	StringInfoData s;
	int			m = -1;

	initStringInfo(&s);
	while ((m = bms_next_member(cols, m)) >= 0)
	{
		char	   *name;

		if (covered && bms_is_member(m, covered))
			continue;
		name = get_attname(relid, m + FirstLowInvalidHeapAttributeNumber, true);
		if (name == NULL)
			continue;
		appendStringInfo(&s, "%s%s", s.len ? ", " : "", quote_literal_cstr(name));
	}
	return s.data;
}

/*
 * Decide
 *		Choose the grants under which userid (department dept) reads cols of
 *		res; refuse with a precise error when no single grant covers them.
 */
static void
Decide(QueryDesc *qd, GuardRel *gr, PubdataResource *res, Bitmapset *cols,
	   int32 dept, const char *dept_code, const char *command, TimestampTz now,
	   MemoryContext cxt)
{
	const PubdataGrantSet *set = pubdata_grants_lookup(res->id, dept);
	const char *purpose = pubdata_purpose;
	int			i;
	int			pass;
	int			covering = 0;
	int			live = 0;
	int64		expired_id = 0;
	Bitmapset  *any = NULL;
	Bitmapset  *granted = NULL;	/* the items of the live grants */
	const char **labels = NULL;

	gr->ngrants = 0;
	gr->grants = MemoryContextAlloc(cxt, sizeof(int64) * Max(set->ngrants, 1));
	gr->shared = res->share_class == PUBDATA_UNCONDITIONAL && res->published &&
		set->shared != NULL && bms_is_subset(cols, set->shared);
	gr->all_rows = gr->shared;
	if (gr->wrapped)
	{
		gr->deliver = MemoryContextAllocZero(cxt, sizeof(int16) * (gr->natts + 1));
		labels = palloc0(sizeof(char *) * (gr->natts + 1));
	}

	/*
	 * First the grants that give every column read in clear; only if none
	 * does (and the relation is read through the masks), the grants that
	 * give some of them masked, each delivering its own rule: a clear grant
	 * and a masked one never combine, so a row shows an item in clear only
	 * under a grant that gives it in clear.
	 */
	for (pass = 0; pass < 2 && gr->ngrants == 0 && !gr->shared; pass++)
	{
		if (pass == 1 && !gr->wrapped)
			break;
		for (i = 0; res->published && i < set->ngrants; i++)
		{
			const PubdataGrant *g = &set->grants[i];
			bool		conflict = false;
			int			k;

			if (!bms_is_subset(cols, pass == 0 ? g->clear : g->cols))
				continue;
			/* a masked grant must agree with the rules chosen so far */
			for (k = 0; pass == 1 && k < g->nmasks; k++)
			{
				int			att = g->mask_att[k];

				if (att <= gr->natts && bms_is_member(att - FirstLowInvalidHeapAttributeNumber, cols) &&
					gr->deliver[att] != 0 && gr->deliver[att] != g->mask_rule[k])
					conflict = true;
			}
			if (conflict)
				continue;
			covering++;
			if (g->expires_at <= now)
			{
				expired_id = g->id;
				continue;
			}
			live++;
			if (!pubdata_grant_matches_purpose(g, purpose))
				continue;
			gr->grants[gr->ngrants++] = g->id;
			if (!g->scoped)
				gr->all_rows = true;
			for (k = 0; pass == 1 && k < g->nmasks; k++)
			{
				int			att = g->mask_att[k];

				if (att <= gr->natts && bms_is_member(att - FirstLowInvalidHeapAttributeNumber, cols))
				{
					gr->deliver[att] = g->mask_rule[k];
					labels[att] = g->mask_label[k];
				}
			}
		}
	}
	if (gr->ngrants > 0 && gr->wrapped)
	{
		StringInfoData m;
		int			att;

		initStringInfo(&m);
		for (att = 1; att <= gr->natts; att++)
			if (gr->deliver[att] != 0)
				appendStringInfo(&m, "%s%s=%s", m.len ? "," : "",
								 get_attname(res->relid, att, false), labels[att]);
		gr->masked = m.len ? m.data : NULL;
	}
	if (gr->ngrants > 0 || gr->shared)
		return;

	/* refused: say why, and leave a record */
	RecordDenied(qd, gr->userid, dept, dept_code, res->code, command);
	if (res->share_class == PUBDATA_NON_SHARED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("resource \"%s\" is not shared", res->code),
				 errdetail("Table \"%s\" holds non-shared data: only its provider reads it (Art 18(3)).",
						   get_rel_name(res->relid)),
				 errhint("See the legal basis in pubdata.resource.")));
	if (live > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no grant of resource \"%s\" for purpose \"%s\"", res->code, purpose),
				 errdetail("pubdata.purpose names neither a grant (request id) nor a scenario of this department covering the items read."),
				 errhint("SET pubdata.purpose to the request id or scenario code of a live grant, or RESET pubdata.purpose.")));
	if (covering > 0 && expired_id != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("grant " INT64_FORMAT " of resource \"%s\" has expired", expired_id, res->code),
				 errhint("Request it again: SELECT pubdata.request_share('%s', purpose => '...');", res->code)));
	/* the items of all the department's grants, and of its live ones */
	for (i = 0; res->published && i < set->ngrants; i++)
	{
		any = bms_add_members(any, set->grants[i].cols);
		if (set->grants[i].expires_at > now)
			granted = bms_add_members(granted, set->grants[i].cols);
	}
	if (set->shared)
		any = bms_add_members(any, set->shared);
	if (any != NULL && bms_is_subset(cols, any))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no single grant of resource \"%s\" covers the items read together", res->code),
				 errdetail("The query reads %s of table \"%s\"; a grant is items x rows, and each row read must be covered by one grant for all the items the query reads (not covered by the items open to all: %s).",
						   ItemList(res->relid, cols, NULL), get_rel_name(res->relid),
						   ItemList(res->relid, cols, set->shared)),
				 errhint("Read the items of each grant in separate queries, or request one grant for all of them: SELECT pubdata.request_share('%s', purpose => '...', items => ARRAY[...]);",
						 res->code)));
	/* some items are granted (or open to all), not all of those read: name them */
	if (set->shared)
		granted = bms_add_members(granted, set->shared);
	if (granted != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for items %s of resource \"%s\"",
						ItemList(res->relid, cols, granted), res->code),
				 errdetail("%s may read %s of table \"%s\"; the query reads %s as well (SELECT * reads every column).",
						   dept ? psprintf("Department \"%s\"", dept_code) :
						   psprintf("Role \"%s\"", GetUserNameFromId(gr->userid, false)),
						   ItemList(res->relid, granted, NULL), get_rel_name(res->relid),
						   ItemList(res->relid, cols, granted)),
				 errhint("Name only the items granted, or request the others: SELECT pubdata.request_share('%s', purpose => '...', items => ARRAY[%s]);",
						 res->code, ItemArray(res->relid, cols, granted))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for resource \"%s\"", res->code),
			 errdetail("%s holds no live grant for the items read from table \"%s\".",
					   dept ? psprintf("Department \"%s\"", dept_code) :
					   psprintf("Role \"%s\"", GetUserNameFromId(gr->userid, false)),
					   get_rel_name(res->relid)),
			 errhint("Request access with SELECT pubdata.request_share('%s', purpose => '...', items => ARRAY[...]);",
					 res->code)));
}

/*
 * HasCopyGrant
 *		A live grant of mode copy with the bureau's consent, matching the
 *		declared purpose.
 */
static bool
HasCopyGrant(int64 resource_id, int32 dept, TimestampTz now)
{
	const PubdataGrantSet *set;
	int			i;

	if (dept == 0)
		return false;
	set = pubdata_grants_lookup(resource_id, dept);
	for (i = 0; i < set->ngrants; i++)
	{
		const PubdataGrant *g = &set->grants[i];

		if (g->copy_ok && g->expires_at > now && pubdata_grant_matches_purpose(g, pubdata_purpose))
			return true;
	}
	return false;
}

/*
 * BuildRecord
 *		The parts of the audit record known when the statement starts.
 */
static void
BuildRecord(GuardFrame *f, PubdataResource **resv)
{
	StringInfoData res;
	StringInfoData grants;
	StringInfoData purposes;
	StringInfoData masked;
	bool		any_masked = false;
	int			i,
				j;
	bool		first = true;

	initStringInfo(&res);
	initStringInfo(&grants);
	initStringInfo(&purposes);
	initStringInfo(&masked);
	for (i = 0; i < f->nrels; i++)
	{
		GuardRel   *gr = &f->rels[i];
		bool		dup = false;

		if (!gr->audited)
			continue;
		for (j = 0; j < i; j++)
			dup |= (f->rels[j].audited && f->rels[j].resource_id == gr->resource_id);
		if (dup)
			continue;
		if (!first)
		{
			appendStringInfoChar(&res, ',');
			appendStringInfoChar(&grants, ';');
			appendStringInfoChar(&masked, ';');
		}
		/* the record's grant: the first one of the first resource (none: 0) */
		if (first && gr->ngrants > 0)
			f->first_grant = gr->grants[0];
		first = false;
		appendStringInfoString(&res, resv[i]->code);
		if (gr->masked)
		{
			appendStringInfoString(&masked, gr->masked);
			any_masked = true;
		}
		for (j = 0; j < gr->ngrants; j++)
		{
			char		buf[MAXINT8LEN + 1];

			if (j > 0)
				appendStringInfoChar(&grants, ',');
			appendBinaryStringInfo(&grants, buf, pg_lltoa(gr->grants[j], buf));
		}
	}
	f->resources = res.data;
	f->grants = grants.data;
	f->masked = any_masked ? masked.data : NULL;

	/* the purposes of the grants used, each bounded (Art 19: use for that purpose) */
	for (i = 0; i < f->nrels; i++)
	{
		const PubdataGrantSet *set;

		if (!f->rels[i].audited || f->rels[i].ngrants == 0)
			continue;
		set = pubdata_grants_lookup(f->rels[i].resource_id, f->dept);
		for (j = 0; j < set->ngrants; j++)
		{
			const PubdataGrant *g = &set->grants[j];
			int			k;
			bool		used = false;
			const char *p;

			for (k = 0; k < f->rels[i].ngrants; k++)
				used |= (f->rels[i].grants[k] == g->id);
			if (!used || g->purpose == NULL)
				continue;
			p = g->purpose_audit;
			if (purposes.len > 0 && strstr(purposes.data, p) != NULL)
				continue;
			if (purposes.len > 0)
				appendStringInfoString(&purposes, "; ");
			if (purposes.len > 4 * PUBDATA_PURPOSE_MAX)
			{
				appendStringInfoString(&purposes, "...");
				break;
			}
			appendStringInfoString(&purposes, p);
		}
	}
	f->purpose = purposes.len > 0 ? purposes.data : NULL;
}

/*
 * pubdata_guard_start
 *		See guard.h.
 */
GuardFrame *
pubdata_guard_start(QueryDesc *qd, int eflags, const char *utility_command, bool explain_analyze)
{
	PlannedStmt *ps = qd->plannedstmt;
	ListCell   *lc;
	int			rti = 0;
	int			n = list_length(ps->rtable);
	Oid		   *userids = NULL;
	PubdataResource **resv = NULL;
	bool	   *as_superuser = NULL;
	Oid			userids_local[GUARD_LOCAL_RTES];
	PubdataResource *resv_local[GUARD_LOCAL_RTES];
	bool		as_superuser_local[GUARD_LOCAL_RTES];
	int			ngov = 0;
	bool		unrecorded = false;
	GuardFrame *f = NULL;
	MemoryContext old;
	const char *command = NULL;
	bool		wrote;
	TimestampTz now;
	int			i;

	if (IsParallelWorker() || pubdata_catalog_loading())
		return NULL;

	/* refusals the executor would make anyway, said so that they help */
	RefuseBureauView(ps);
	CheckPartitions(qd, utility_command);
	RefuseForeignWrite(qd, utility_command);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return NULL;

	/* the copy rule sees every write, governed or not */
	wrote = pubdata_guard && NoteStatementWrites(qd);
	if (wrote && copy_state.nreads > 0)
		CheckCopy(qd);

	/* the governed relations read as someone else than their provider */
	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		PubdataResource *res;
		Oid			userid;
		bool		provider;

		rti++;
		if (rte->rtekind != RTE_RELATION || !(rte->requiredPerms & ACL_SELECT))
			continue;
		res = pubdata_catalog_lookup(rte->relid);
		userid = pubdata_rte_user(rte);
		if (res == NULL)
		{
			/*
			 * A partition named directly: only its provider and superusers
			 * get this far (CheckPartitions); a superuser's read of it is
			 * audited under the resource, as the table's would be.
			 */
			if (!superuser_arg(userid))
				continue;
			res = pubdata_catalog_lookup_partition(rte->relid);
			if (res == NULL || !SuperuserNotProvider(userid, res))
				continue;
		}
		provider = IsProvider(userid, res);
		if (provider && !SuperuserNotProvider(userid, res))
			continue;
		if (userids == NULL)
		{
			/* a statement names a few relations: no allocation for those */
			if (n <= GUARD_LOCAL_RTES)
			{
				userids = userids_local;
				resv = resv_local;
				as_superuser = as_superuser_local;
				memset(userids, 0, sizeof(Oid) * n);
				memset(resv, 0, sizeof(PubdataResource *) * n);
				memset(as_superuser, 0, sizeof(bool) * n);
			}
			else
			{
				userids = palloc0(sizeof(Oid) * n);
				resv = palloc0(sizeof(PubdataResource *) * n);
				as_superuser = palloc0(sizeof(bool) * n);
			}
			command = CommandName(qd, utility_command);
		}
		userids[rti - 1] = userid;
		resv[rti - 1] = res;
		as_superuser[rti - 1] = provider;
		ngov++;
	}
	if (ngov == 0)
		return NULL;
	/* one clock reading decides every grant's expiry for this statement */
	now = GetCurrentTimestamp();

	f = NULL;
	{
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pubdata statement",
												  ALLOCSET_DEFAULT_SIZES);

		old = MemoryContextSwitchTo(cxt);
		f = palloc0(sizeof(GuardFrame));
		f->cxt = cxt;
	}
	f->qd = qd;
	f->rels = palloc0(sizeof(GuardRel) * ngov);
	f->command = command;
	f->query_id = ps->queryId;
	f->noted_gen = 0;			/* its reads are noted when its plan runs */

	rti = 0;
	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		PubdataResource *res = resv[rti];
		Oid			userid = userids[rti];
		GuardRel   *gr;
		int32		dept;
		char		dept_code[PUBDATA_CODE_LEN];
		Bitmapset  *cols;
		bool		dup = false;

		rti++;
		if (res == NULL)
			continue;
		for (i = 0; i < f->nrels; i++)
			dup |= (f->rels[i].relid == rte->relid && f->rels[i].userid == userid);
		if (dup)
			continue;
		dept = pubdata_catalog_department(userid, dept_code);
		if (as_superuser[rti - 1])
		{
			/*
			 * A superuser who is not the provider reads everything, like a
			 * provider (nothing to decide, no copy rule), and is audited like
			 * anyone: a read of restricted or non-shared data (pgaudit audits
			 * superusers too).
			 */
			gr = &f->rels[f->nrels];
			resv[f->nrels] = res;
			f->nrels++;
			gr->relid = rte->relid;
			gr->userid = userid;
			gr->resource_id = res->id;
			gr->dept = dept;
			gr->all_rows = true;
			gr->superuser = true;
			gr->audited = SuperuserReadAudited(res, ColumnsRead(ps, rte->relid, userid, userids));
			if (gr->audited && pubdata_guard && !f->audited)
			{
				f->audited = true;
				f->role_name = RoleName(userid);
				f->dept = dept;
				f->dept_code = pstrdup(dept_code);
			}
			else if (gr->audited && !pubdata_guard)
				unrecorded = true;
			continue;
		}

		/*
		 * The grant decision comes first (a hash lookup); privileges are
		 * checked by the executor afterwards.  A read no grant covers is
		 * refused by Decide with an error that says what to do.
		 */
		gr = &f->rels[f->nrels];
		resv[f->nrels] = res;	/* compacted: resv[i] is rels[i]'s resource */
		f->nrels++;
		gr->relid = rte->relid;
		gr->userid = userid;
		gr->resource_id = res->id;
		gr->dept = dept;
		gr->wrapped = PubdataRteIsMasked(rte);
		if (gr->wrapped)
		{
			Relation	rel = relation_open(rte->relid, NoLock);

			gr->natts = RelationGetNumberOfAttributes(rel);
			relation_close(rel, NoLock);
		}
		cols = ColumnsRead(ps, rte->relid, userid, userids);
		Decide(qd, gr, res, cols, dept, dept_code, command, now, f->cxt);
		/* audited: restricted or non-shared data, restricted items included */
		gr->audited = res->share_class != PUBDATA_UNCONDITIONAL || !gr->shared;

		if (explain_analyze && qd->instrument_options != 0 && !gr->all_rows)
		{
			RecordDenied(qd, userid, dept, dept_code, res->code, "EXPLAIN ANALYZE");
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("EXPLAIN ANALYZE of resource \"%s\" is not allowed", res->code),
					 errdetail("Department \"%s\" sees only some rows of table \"%s\"; the row counts of EXPLAIN ANALYZE would tell about the others.",
							   dept_code, get_rel_name(rte->relid)),
					 errhint("Use EXPLAIN without ANALYZE, or run the query itself.")));
		}

		/*
		 * The copy rule: would this read, with what the statement writes,
		 * be a copy?  The read itself is noted when the plan runs: a
		 * statement refused here read nothing.
		 */
		gr->read.resource_id = res->id;
		gr->read.provider_role = res->provider_role;
		strlcpy(gr->read.code, res->code, PUBDATA_CODE_LEN);
		if (pubdata_guard)
		{
			gr->read.copy_ok = HasCopyGrant(res->id, dept, now);
			CheckRead(qd, &gr->read);
		}

		if (pubdata_guard && gr->audited && !f->audited)
		{
			f->audited = true;
			f->role_name = RoleName(userid);
			f->dept = dept;
			f->dept_code = pstrdup(dept_code);
		}
		else if (gr->audited && !pubdata_guard)
			unrecorded = true;
	}

	/* pubdata.guard off: the read is not recorded, but counted (issue 19) */
	if (unrecorded && !f->audited)
		pubdata_audit_note_unrecorded();
	if (f->audited)
	{
		BuildRecord(f, resv);
		f->statement = StatementText(qd);
	}
	MemoryContextSwitchTo(old);
	if (userids != userids_local)
	{
		pfree(userids);
		pfree(resv);
		pfree(as_superuser);
	}
	return f;
}

/*
 * pubdata_guard_run
 *		A frame's plan runs.  When that happens in a later statement than the
 *		one that started it (a cursor fetched by FETCH, or from a function
 *		called by another statement), its reads and writes belong to that
 *		statement now.
 */
void
pubdata_guard_run(GuardFrame *frame)
{
	int			i;
	bool		added = false;

	if (!pubdata_guard || frame->noted_gen == copy_state.generation)
		return;
	frame->noted_gen = copy_state.generation;
	added = NoteStatementWrites(frame->qd);
	for (i = 0; i < frame->nrels; i++)
		if (!frame->rels[i].superuser)
			added |= NoteRead(&frame->rels[i].read);	/* as decided at its start */
	if (added)
		CheckCopy(frame->qd);
}

/*
 * pubdata_guard_end
 *		The statement ended normally: its record, with the rows of all its
 *		fetches.
 */
void
pubdata_guard_end(GuardFrame *frame)
{
	if (frame->audited && !frame->done)
		WriteRecord(frame, "ok");
	frame->done = true;
}

/*
 * pubdata_guard_abandon
 *		The statement's memory is going away without ExecutorEnd: it failed
 *		(or a subtransaction or transaction around it aborted, or its cursor
 *		was dropped at an error).  Its record is still owed.  We may be in
 *		an abort here: nothing below touches the catalog, and a failure to
 *		write is reported as a warning (an error would recurse).
 */
void
pubdata_guard_abandon(GuardFrame *frame)
{
	MemoryContext old;

	if (!frame->audited || frame->done || !frame->started)
		return;
	old = CurrentMemoryContext;
	PG_TRY();
	{
		WriteRecord(frame, "error");
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		FlushErrorState();
		ereport(WARNING,
				(errmsg("could not write the access audit record of a failed statement of role \"%s\"",
						frame->role_name ? frame->role_name : "?")));
	}
	PG_END_TRY();
	frame->done = true;
}

/* ------------------------------------------------------------------------
 * SQL-callable
 * ------------------------------------------------------------------------
 */

/*
 * RequireGuard
 *		Without the executor hook (the library is not preloaded) nobody
 *		chooses grants, audits reads or applies the copy rule: the policies
 *		admit no other department's read, and say why instead of returning
 *		no rows.
 */
static void
RequireGuard(void)
{
	if (!pubdata_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("shared data cannot be read: pubdata is not loaded via shared_preload_libraries"),
				 errdetail("Reads of another department's registered table are admitted only under the grant the executor hook chooses, and audited; without the hook none is admitted."),
				 errhint("Add pubdata to shared_preload_libraries in postgresql.conf and restart the server.")));
}

PG_FUNCTION_INFO_V1(pubdata_grant_ok);

/*
 * pubdata._grant_ok(grant bigint) returns boolean
 *		The check in each grant's policy, evaluated once per query (an
 *		InitPlan): did the executor hook choose this grant for the running
 *		statement?  Reads the choice; decides nothing and records nothing,
 *		so calling it directly gains nothing.
 */
Datum
pubdata_grant_ok(PG_FUNCTION_ARGS)
{
	int64		grant_id = PG_GETARG_INT64(0);
	GuardFrame *f = pubdata_hooks_running_frame();
	int			i,
				j;

	if (f == NULL)
	{
		RequireGuard();
		PG_RETURN_BOOL(false);
	}
	for (i = 0; i < f->nrels; i++)
		for (j = 0; j < f->rels[i].ngrants; j++)
			if (f->rels[i].grants[j] == grant_id)
				PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}

PG_FUNCTION_INFO_V1(pubdata_shared_ok);

/*
 * pubdata._shared_ok(resource bigint) returns boolean
 *		The check in an unconditional resource's shared policy: does the
 *		running statement read only the items open to every department?
 */
Datum
pubdata_shared_ok(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	GuardFrame *f = pubdata_hooks_running_frame();
	int			i;

	if (f == NULL)
	{
		RequireGuard();
		PG_RETURN_BOOL(false);
	}
	for (i = 0; i < f->nrels; i++)
		if (f->rels[i].resource_id == resource_id && f->rels[i].shared)
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
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

PG_FUNCTION_INFO_V1(pubdata_note_grant);

/*
 * pubdata._note_grant(resource bigint, grant bigint, purpose text)
 *		Version 0.1's policy check told the audit which grant it admitted
 *		through this function.  Since 0.2 the executor hook chooses the grants
 *		itself; the symbol stays so that a database still at 0.1 (before
 *		ALTER EXTENSION pubdata UPDATE) keeps working with this library.
 */
Datum
pubdata_note_grant(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(true);
}
