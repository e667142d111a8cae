/*-------------------------------------------------------------------------
 *
 * audit_settings.c
 *	  Turning the audit off is audited (issue 19): every change of
 *	  pubdata.audit or pubdata.guard leaves a record in the chain, and the
 *	  reads made while either is off are counted in the next record.
 *
 * The two settings are superuser-only, but a superuser can change them in
 * many ways: SET (also SET LOCAL, set_config(), a function's SET clause),
 * the client's startup options, ALTER ROLE / ALTER DATABASE ... SET (they
 * take effect when a session starts), postgresql.conf or ALTER SYSTEM and a
 * reload, the server's command line.  Each way ends in the settings' assign
 * hooks, in the process whose value changes; an assign hook must not fail
 * or do I/O, so it only notes the change (old and new value, and the source
 * the check hook saw just before).  The record is written at the next safe
 * point of that process: when a statement starts or ends (hooks.c), when a
 * utility statement is done (the SET itself), and at the process's exit.
 *
 * A change made in the configuration reaches every process; it is recorded
 * once: the audit sync worker, which reads nothing but the configuration,
 * records what the configuration sets at its start and after each reload,
 * and a backend that notices such a change first records it instead (a
 * shared bit per setting says what was last recorded).  ALTER ROLE, ALTER
 * DATABASE and ALTER SYSTEM of the settings are also recorded when they are
 * run, before any session uses them.
 *
 * The records are event records (audit_store.h): no resource, the outcome
 * "setting", the command (SET, RESET, CONNECT, SESSION START, RELOAD,
 * STARTUP, ALTER ROLE, ...), the statement field saying what changed, and
 * in rows the audited reads that were not recorded while the audit or the
 * guard was off (audit.c counts them in shared memory and hands the count
 * to the next record).  They are written whatever pubdata.audit says.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit.h"
#include "audit_settings.h"
#include "audit_store.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "utils/guc_tables.h"

#define SETTING_AUDIT	0
#define SETTING_GUARD	1
#define MAX_PENDING		8
#define SOURCE_UNKNOWN	(-1)	/* assigned without a check: reset, or restored */

typedef struct PendingChange
{
	int			setting;		/* SETTING_AUDIT or SETTING_GUARD */
	bool		oldval;
	bool		newval;
	int			source;			/* a GucSource, or SOURCE_UNKNOWN */
	Oid			role;			/* the role acting when it changed */
} PendingChange;

bool		pubdata_audit_settings_pending = false;

static const char *const setting_names[] = {"pubdata.audit", "pubdata.guard"};

/* pubdata.guard as assigned (guard.c owns the variable) */
static bool guard_value = true;

/* the source the check hook saw last, for the assign hook that follows */
static int	checked_source = SOURCE_UNKNOWN;

static PendingChange pending[MAX_PENDING];
static int	npending = 0;
static int	dropped = 0;		/* changes beyond MAX_PENDING, counted */
static bool exit_registered = false;

static void NoteChange(int setting, bool oldval, bool newval);
static void SettingsAtExit(int code, Datum arg);
static char *RoleNameOf(Oid role);

/*
 * pubdata_audit_settings_init
 *		Nothing to define: the settings themselves are pubdata.audit
 *		(audit.c) and pubdata.guard (guard.c), which use the hooks below.
 */
void
pubdata_audit_settings_init(void)
{
	checked_source = SOURCE_UNKNOWN;
}

/*
 * pubdata_audit_setting_check
 *		Check hook of both settings: any value is fine; remember its source
 *		for the assign hook called right after (when the value is set, not
 *		only checked).
 */
bool
pubdata_audit_setting_check(bool *newval, void **extra, GucSource source)
{
	checked_source = (int) source;
	return true;
}

/*
 * pubdata_audit_setting_assign_audit / _guard
 *		Assign hooks: note the change (the variable still holds the old
 *		value when the hook runs).
 */
void
pubdata_audit_setting_assign_audit(bool newval, void *extra)
{
	NoteChange(SETTING_AUDIT, pubdata_audit_enabled, newval);
}

void
pubdata_audit_setting_assign_guard(bool newval, void *extra)
{
	bool		oldval = guard_value;

	guard_value = newval;
	NoteChange(SETTING_GUARD, oldval, newval);
}

/*
 * NoteChange
 *		Queue a change for its record.  Only in a process of a running server
 *		that can write to the store (not the postmaster, whose children would
 *		inherit the queue, nor the logger, which has no PGPROC and detached
 *		from shared memory, nor a parallel worker, which gets its leader's
 *		settings).
 */
static void
NoteChange(int setting, bool oldval, bool newval)
{
	int			source = checked_source;

	checked_source = SOURCE_UNKNOWN;
	if (oldval == newval || !IsUnderPostmaster || MyProc == NULL ||
		InitializingParallelWorker || IsParallelWorker())
		return;
	if (npending == MAX_PENDING)
	{
		dropped++;
		return;
	}
	pending[npending].setting = setting;
	pending[npending].oldval = oldval;
	pending[npending].newval = newval;
	pending[npending].source = source;
	pending[npending].role = pubdata_caller_id();	/* a variable: safe here */
	npending++;
	pubdata_audit_settings_pending = true;
	if (!exit_registered)
	{
		/* a session that ends before its next statement still records it */
		before_shmem_exit(SettingsAtExit, (Datum) 0);
		exit_registered = true;
	}
}

/*
 * IsConfigurationSource
 *		A value that comes from the server's configuration (the file, ALTER
 *		SYSTEM, the command line, the default when a line is removed).
 */
static bool
IsConfigurationSource(int source)
{
	return source == PGC_S_DEFAULT || source == PGC_S_DYNAMIC_DEFAULT ||
		source == PGC_S_ENV_VAR || source == PGC_S_FILE || source == PGC_S_ARGV;
}

/*
 * CommandOf
 *		The event record's command for a change from this source.
 */
static const char *
CommandOf(int source)
{
	switch (source)
	{
		case SOURCE_UNKNOWN:
			return "RESET";
		case PGC_S_GLOBAL:
		case PGC_S_DATABASE:
		case PGC_S_USER:
		case PGC_S_DATABASE_USER:
			return "SESSION START";
		case PGC_S_CLIENT:
			return "CONNECT";
		default:
			return IsConfigurationSource(source) ? "RELOAD" : "SET";
	}
}

/*
 * SourceText
 *		How the change came, for the record's text.
 */
static const char *
SourceText(int source)
{
	switch (source)
	{
		case SOURCE_UNKNOWN:
			return "RESET, or the value restored at the end of a function, transaction or subtransaction";
		case PGC_S_GLOBAL:
			return "ALTER DATABASE/ROLE ... SET for all, at session start";
		case PGC_S_DATABASE:
			return "ALTER DATABASE ... SET, at session start";
		case PGC_S_USER:
			return "ALTER ROLE ... SET, at session start";
		case PGC_S_DATABASE_USER:
			return "ALTER ROLE ... IN DATABASE ... SET, at session start";
		case PGC_S_CLIENT:
			return "the client's connection options";
		case PGC_S_SESSION:
			return "SET in the session (or a function's SET clause, or set_config())";
		default:
			return GucSource_Names[source];
	}
}

/*
 * RoleNameOf
 *		A role for the record: its name, or its oid outside a transaction
 *		(a session's exit, where it cannot be looked up); empty for none (a
 *		background worker connected to no database).
 */
static char *
RoleNameOf(Oid role)
{
	if (!OidIsValid(role))
		return pstrdup("");
	if (IsTransactionState())
	{
		char	   *name = GetUserNameFromId(role, true);

		if (name != NULL)
			return name;
	}
	return psprintf("(role %u)", role);
}

/*
 * pubdata_audit_settings_flush_pending
 *		Write the records of the changes noted so far.  A change that came
 *		from the configuration is recorded only if nobody recorded it yet.
 */
void
pubdata_audit_settings_flush_pending(void)
{
	PendingChange todo[MAX_PENDING];
	int			n = npending;
	int			lost = dropped;
	int			i;

	/* take the queue first: writing may run hooks that note again */
	memcpy(todo, pending, sizeof(PendingChange) * n);
	npending = 0;
	dropped = 0;
	pubdata_audit_settings_pending = false;
	if (!pubdata_preloaded)
		return;					/* no store to write to */

	for (i = 0; i < n; i++)
	{
		PendingChange *c = &todo[i];
		char	   *text;
		char	   *role;

		if (IsConfigurationSource(c->source) &&
			!audit_swap_file_setting(c->setting, c->newval))
			continue;			/* recorded already, by the sync worker or a session */
		text = psprintf("%s changed from %s to %s by %s (process %d)",
						setting_names[c->setting], c->oldval ? "on" : "off",
						c->newval ? "on" : "off", SourceText(c->source), MyProcPid);
		role = RoleNameOf(c->role);
		audit_write_event(role, CommandOf(c->source), AUDIT_EVENT_SETTING, 0, text);
		pfree(text);
		pfree(role);
	}
	if (lost > 0)
	{
		char	   *text = psprintf("%d more changes of pubdata.audit or pubdata.guard in process %d (not detailed)",
									lost, MyProcPid);
		char	   *role = RoleNameOf(pubdata_caller_id());

		audit_write_event(role, "SET", AUDIT_EVENT_SETTING, 0, text);
		pfree(text);
		pfree(role);
	}
}

/*
 * SettingsAtExit
 *		A session that changed a setting and ended before its next statement.
 */
static void
SettingsAtExit(int code, Datum arg)
{
	if (pubdata_audit_settings_pending)
		pubdata_audit_settings_flush_pending();
}

/*
 * pubdata_audit_settings_utility
 *		ALTER ROLE / ALTER DATABASE / ALTER SYSTEM ... SET or RESET of one of
 *		the settings: recorded when it is run, before any session uses it.
 */
void
pubdata_audit_settings_utility(PlannedStmt *pstmt, const char *query_string)
{
	Node	   *stmt = pstmt->utilityStmt;
	VariableSetStmt *set = NULL;
	const char *command = NULL;
	char	   *text;
	char	   *role;

	if (stmt == NULL || !pubdata_preloaded)
		return;
	switch (nodeTag(stmt))
	{
		case T_AlterRoleSetStmt:
			set = ((AlterRoleSetStmt *) stmt)->setstmt;
			command = "ALTER ROLE";
			break;
		case T_AlterDatabaseSetStmt:
			set = ((AlterDatabaseSetStmt *) stmt)->setstmt;
			command = "ALTER DATABASE";
			break;
		case T_AlterSystemStmt:
			set = ((AlterSystemStmt *) stmt)->setstmt;
			command = "ALTER SYSTEM";
			break;
		default:
			return;
	}
	if (set == NULL || set->name == NULL ||
		(pg_strcasecmp(set->name, setting_names[SETTING_AUDIT]) != 0 &&
		 pg_strcasecmp(set->name, setting_names[SETTING_GUARD]) != 0))
		return;
	text = psprintf("%.*s", 1000, query_string ? query_string : "");
	role = RoleNameOf(pubdata_caller_id());
	audit_write_event(role, command, AUDIT_EVENT_SETTING, 0,
					  psprintf("%s (takes effect %s): %s", set->name,
							   nodeTag(stmt) == T_AlterSystemStmt ? "at the next reload" : "when a session starts",
							   text));
	pfree(text);
	pfree(role);
}

/*
 * pubdata_audit_settings_configuration
 *		See audit_settings.h.  The caller's own queue (the reload's changes)
 *		is dropped: this records the same thing, once for the server.
 */
void
pubdata_audit_settings_configuration(bool at_start)
{
	bool		values[2];
	int			i;

	values[SETTING_AUDIT] = pubdata_audit_enabled;
	values[SETTING_GUARD] = guard_value;
	npending = 0;
	dropped = 0;
	pubdata_audit_settings_pending = false;
	for (i = 0; i < 2; i++)
	{
		char	   *text;

		if (!audit_swap_file_setting(i, values[i]))
			continue;
		text = psprintf("the server's configuration %s %s = %s",
						at_start ? "starts it with" : "now sets",
						setting_names[i], values[i] ? "on" : "off");
		audit_write_event("", at_start ? "STARTUP" : "RELOAD", AUDIT_EVENT_SETTING, 0, text);
		pfree(text);
	}
}
