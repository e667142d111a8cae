/*-------------------------------------------------------------------------
 *
 * audit_anchor.c
 *	  Anchors of the access audit chain outside the audit directory, and the
 *	  launcher's watch over the chain (issue 19).
 *
 * A hash chain proves that nothing inside it was changed, not that its end
 * or the whole of it is still there: whoever can remove files can remove
 * the last records, or all of them, together with the state file that
 * records the head.  So the head (seq, hash, time) is also kept where a
 * file-level attacker does not control it together with the audit files:
 *
 * - pubdata.audit_anchor, a WAL-logged table written only by the launcher:
 *	 base backups, archives and every standby carry it;
 * - the server log: one stable line per anchor, for the site's log collector;
 * - pg_pubdata/anchor, a small file beside (not in) the audit directory, so
 *	 that the postmaster, which cannot read tables, knows at startup what an
 *	 anchor proves (audit.c).
 *
 * The launcher takes an anchor every pubdata.audit_anchor_interval when the
 * head moved, of the durable head only (it fsyncs first: a power failure
 * cannot make an anchor claim a record that was never on disk), and at its
 * clean stop; the postmaster anchors the final head at a clean shutdown.
 * Anchors are never taken by the statements that read: the audit write path
 * is unchanged.
 *
 * The launcher also watches the chain: when it starts (after every server
 * start and crash restart) it raises the alert of what recovery found
 * missing, and checks that the record proven by the newest anchor of this
 * server's chain in pubdata.audit_anchor is still in the log with its hash.
 * When it is not (the anchor file was removed along with the directory),
 * that is a WARNING, a gap record (the chain continues after the anchor
 * when its head is behind it) and an alert.  Anchors belong to a chain:
 * the system identifier and the timeline they were taken on.  A standby
 * (which keeps its own log, continued from the copy its base backup took)
 * or a promoted one does not check its log against the primary's anchors.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "audit_anchor.h"
#include "audit_store.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

/* GUC */
int			pubdata_audit_anchor_interval = 60; /* s */

/* the launcher's last anchor (this process) */
static uint64 last_anchored_seq = 0;

static void RaiseLossAlert(const AuditLossReport *rep, const char *found_by);
static void CheckAgainstAnchor(const AuditAnchor *an, const AuditAnchor *head);
static void TakeAnchor(const AuditAnchor *head, const char *reason, bool table);

/*
 * pubdata_audit_anchor_init
 *		The GUC of the anchors.
 */
void
pubdata_audit_anchor_init(void)
{
	DefineCustomIntVariable("pubdata.audit_anchor_interval",
							"Time between two anchors of the access audit chain, taken by the launcher when the chain grew.",
							"An anchor (the head's seq, hash and time) goes to pubdata.audit_anchor, the server log and pg_pubdata/anchor.",
							&pubdata_audit_anchor_interval,
							60, 1, 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/*
 * AnchorChain
 *		This server's chain: the system identifier and the timeline WAL is
 *		written on.  False on a hot standby (it writes no WAL, and the
 *		anchors it has replicated are the primary's).
 */
static bool
AnchorChain(int64 *sysid, int32 *tli)
{
	if (RecoveryInProgress())
		return false;
	*sysid = (int64) GetSystemIdentifier();
	*tli = (int32) GetWALInsertionTimeLine();
	return true;
}

/*
 * pubdata_audit_newest_anchor
 *		See audit_anchor.h.
 */
bool
pubdata_audit_newest_anchor(AuditAnchor *an, const char **why_not)
{
	int64		sysid;
	int32		tli;
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		args[2];
	bool		found = false;

	*why_not = NULL;
	if (!OidIsValid(pubdata_relation_oid("audit_anchor")))
		return false;
	if (!AnchorChain(&sysid, &tli))
	{
		*why_not = "on a hot standby pubdata.audit_anchor holds the primary's anchors, not this server's (not used)";
		return false;
	}
	args[0] = Int64GetDatum(sysid);
	args[1] = Int32GetDatum(tli);
	SPI_connect();
	if (SPI_execute_with_args("SELECT a.seq, a.hash, a.head_at, a.taken_at FROM pubdata.audit_anchor a"
							  " WHERE a.system_identifier OPERATOR(pg_catalog.=) $1"
							  "   AND a.timeline OPERATOR(pg_catalog.=) $2"
							  " ORDER BY a.seq DESC, a.id DESC LIMIT 1",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pubdata.audit_anchor");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *hex;

		memset(an, 0, sizeof(*an));
		an->seq = (uint64) DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		hex = SPI_getvalue(tup, desc, 2);
		an->at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
		an->taken_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &isnull));
		found = an->seq > 0 && hex != NULL && audit_hex_decode(hex, an->hash);
	}
	SPI_finish();
	return found;
}

/*
 * pubdata_audit_launcher_watch
 *		See audit_anchor.h.
 */
void
pubdata_audit_launcher_watch(bool starting, bool shutdown)
{
	AuditLossReport rep;
	AuditAnchor head;
	AuditAnchor newest;
	uint64		synced;
	const char *why_not;
	bool		have_newest = false;
	bool		table = OidIsValid(pubdata_relation_oid("audit_anchor"));

	if (!audit_current_head(&head, &synced))
		return;					/* the store is unavailable: the log says why */

	/* what recovery found missing: its alert, once */
	if (table && audit_pending_loss(&rep))
	{
		RaiseLossAlert(&rep, "startup");
		audit_loss_alerted(rep.generation);
	}

	/* the chain against the newest anchor of pubdata.audit_anchor */
	if (table)
		have_newest = pubdata_audit_newest_anchor(&newest, &why_not);
	if (have_newest && (starting || head.seq < newest.seq))
		CheckAgainstAnchor(&newest, &head);

	/* a new anchor when the (durable) head moved */
	if (!audit_durable_head(&head) || head.seq == 0)
		return;
	if (head.seq == last_anchored_seq || (have_newest && head.seq == newest.seq))
		return;
	TakeAnchor(&head, shutdown ? "shutdown" : starting ? "start" : "interval", table);
}

/*
 * CheckAgainstAnchor
 *		The record an anchor proves must be in the log with its hash.  When
 *		it is not, and recovery has not reported it already: a WARNING, a
 *		gap record (after the anchor if the head is behind it) and an alert.
 */
static void
CheckAgainstAnchor(const AuditAnchor *an, const AuditAnchor *head)
{
	uint8		found[AUDIT_HASH_LEN];
	int			r = audit_find_record(an->seq, found);
	AuditLossReport rep;
	char	   *text;
	uint64		first = 0,
				last = 0;
	uint64		gap;

	if (r == 1 && memcmp(found, an->hash, AUDIT_HASH_LEN) == 0)
		return;
	if (r == AUDIT_RECORD_PRUNED)
		return;					/* archived and pruned since */
	if (r < 0)
	{
		ereport(WARNING,
				(errmsg("pubdata: could not check the access audit log against its newest anchor (record " UINT64_FORMAT ")",
						an->seq),
				 errhint("See the messages above; the launcher checks again when it starts.")));
		return;
	}
	/* already reported by recovery (the anchor file proved as much)? */
	if (r == 0 && audit_last_loss(&rep) &&
		rep.first_lost <= an->seq && an->seq <= rep.last_lost)
		return;

	if (r == 0)
	{
		first = head->seq < an->seq ? head->seq + 1 : an->seq;
		last = an->seq;
		text = psprintf("the log ends at record " UINT64_FORMAT " but the anchor taken at %s (pubdata.audit_anchor) proves record " UINT64_FORMAT " (records " UINT64_FORMAT " to " UINT64_FORMAT " are gone)",
						head->seq, timestamptz_to_str(an->taken_at), an->seq, first, last);
		if (head->seq >= an->seq)
			text = psprintf("record " UINT64_FORMAT ", proven by the anchor taken at %s (pubdata.audit_anchor), is missing from the log",
							an->seq, timestamptz_to_str(an->taken_at));
	}
	else
		text = psprintf("record " UINT64_FORMAT " differs from the anchor taken at %s (pubdata.audit_anchor): the log was rewritten",
						an->seq, timestamptz_to_str(an->taken_at));
	ereport(WARNING,
			(errmsg("pubdata: the access audit log is incomplete or inconsistent: %s", text),
			 errdetail("The audit directory and the anchor file beside it were removed, replaced or restored from an older copy."),
			 errhint("pubdata.verify_audit_chain() reports it for good; see pubdata.audit_alerts.")));
	gap = audit_write_gap((r == 0 && head->seq < an->seq) ? an : NULL, first, last, "ANCHOR CHECK", text);
	audit_report_loss(first, last, gap, text);
	if (audit_pending_loss(&rep))
	{
		RaiseLossAlert(&rep, "launcher");
		audit_loss_alerted(rep.generation);
	}
}

/*
 * RaiseLossAlert
 *		A row of pubdata.alert (kind audit_loss) and NOTIFY pubdata_alert,
 *		through pubdata._raise_alert.
 */
static void
RaiseLossAlert(const AuditLossReport *rep, const char *found_by)
{
	Oid			argtypes[5] = {TEXTOID, INT8OID, INT8OID, INT8OID, TEXTOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	args[0] = CStringGetTextDatum(rep->text);
	args[1] = Int64GetDatum((int64) rep->first_lost);
	args[2] = Int64GetDatum((int64) rep->last_lost);
	args[3] = Int64GetDatum((int64) rep->gap_seq);
	args[4] = CStringGetTextDatum(found_by);
	if (rep->first_lost == 0)
		nulls[1] = nulls[2] = 'n';
	if (rep->gap_seq == 0)
		nulls[3] = 'n';
	SPI_connect();
	if (SPI_execute_with_args("SELECT pubdata._raise_alert('audit_loss', NULL, NULL,"
							  " pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
							  "'problem', $1, 'first_lost_seq', $2, 'last_lost_seq', $3,"
							  " 'gap_seq', $4, 'found_by', $5)))",
							  5, argtypes, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not raise the audit_loss alert");
	SPI_finish();
}

/*
 * TakeAnchor
 *		Keep the durable head apart from the audit directory: a row of
 *		pubdata.audit_anchor (first: if it fails, nothing else claims it), the
 *		anchor file, a line in the server log.
 */
static void
TakeAnchor(const AuditAnchor *head, const char *reason, bool table)
{
	int64		sysid;
	int32		tli;

	if (table && AnchorChain(&sysid, &tli))
	{
		Oid			argtypes[6] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, INT8OID, INT4OID};
		Datum		args[6];
		char		hex[AUDIT_HASH_LEN * 2 + 1];

		audit_hex_encode(head->hash, hex);
		args[0] = Int64GetDatum((int64) head->seq);
		args[1] = CStringGetTextDatum(hex);
		args[2] = TimestampTzGetDatum(head->at);
		args[3] = CStringGetTextDatum(reason);
		args[4] = Int64GetDatum(sysid);
		args[5] = Int32GetDatum(tli);
		SPI_connect();
		if (SPI_execute_with_args("INSERT INTO pubdata.audit_anchor"
								  " (seq, hash, head_at, reason, system_identifier, timeline)"
								  " VALUES ($1, $2, $3, $4, $5, $6)",
								  6, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert into pubdata.audit_anchor");
		SPI_finish();
	}
	(void) audit_write_anchor_file(head, WARNING);
	audit_log_anchor(head, GetSystemIdentifier(), reason);
	last_anchored_seq = head->seq;
}
