#!/bin/bash
# Issue 19: the access audit cannot be erased or shortened without a trace.
# On its own cluster (port PGPORT+35), each attack starts from the same
# pristine copy of the data directory with a chain of records anchored by
# the launcher, and must be reported at the next start by a WARNING in the
# server log, an audit_loss alert (pubdata.audit_alerts), a gap record in
# pubdata.audit_events, and by verify_audit_chain() (never "ok"); the chain
# never uses a seq twice:
#   A. stopped server, nothing touched: no warning, the chain verifies
#   B. rm -rf the audit directory
#   C. the last lines of the last segment cut, the head file deleted
#   D. the newest segment and the head file deleted
#   E. an older copy of the audit directory (with its own head) restored
#   F. the whole pg_pubdata removed (the anchor file beside the directory
#      too): the launcher finds it against pubdata.audit_anchor
#   G. running server, superuser SQL only: COPY ... TO PROGRAM cuts the last
#      segment, deletes the head file and kill -9s its own backend
#   H. running server, the segment cut and the launcher restarted: found
#      against pubdata.audit_anchor, with a NOTIFY pubdata_alert
# and turning the audit off by postgresql.conf and a reload is recorded once.
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT.
set -uo pipefail
BINDIR=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/audit53
PORT=$(( ${PGPORT:-5432} + 35 ))
DATA=$WORK/data
SEGDIR=$DATA/pg_pubdata/audit
LOG=$WORK/server.log
export PGHOST=$WORK/sock PGPORT=$PORT PGUSER=postgres PGDATABASE=tamper
fails=0
pg() { runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w "$@" >/dev/null; }
q() { "$BINDIR/psql" -qXAt -v ON_ERROR_STOP=1 "$@"; }
check() {	# check NAME EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then echo "ok - $1"; else echo "not ok - $1: expected [$2], got [$3]"; fails=$((fails+1)); fi
}
cleanup() {
	[ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null
	runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
	return 0
}
trap cleanup EXIT
wait_ready() { for i in $(seq 1 120); do q -c "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.25; done; return 1; }
rm -rf "$WORK"; mkdir -p "$WORK/sock"; chown -R postgres: "$WORK"

runuser -u postgres -- "$BINDIR/initdb" -D "$DATA" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
cat >>"$DATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/sock'
listen_addresses = ''
port = $PORT
max_worker_processes = 16
fsync = off
restart_after_crash = on
pubdata.database = 'tamper'
pubdata.audit_segment_size = 2kB
pubdata.audit_sync_interval = 100ms
pubdata.audit_anchor_interval = 1s
CONF
pg start || { tail -20 "$LOG"; exit 1; }
q -d postgres -c "CREATE DATABASE tamper"
q >/dev/null <<'SQL' || { echo "set-up failed"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE tamper_prov;
CREATE ROLE tamper_user LOGIN;
CREATE ROLE tamper_auditor LOGIN IN ROLE pubdata_auditor;
SELECT pubdata.add_department('tamper_prov', '提供部门', '331100', 'administrative', 'tamper_prov');
SELECT pubdata.add_department('tamper_user', '使用部门', '331100', 'administrative', 'tamper_user');
CREATE SCHEMA t AUTHORIZATION tamper_prov;
GRANT USAGE ON SCHEMA t TO tamper_user;
SET ROLE tamper_prov;
CREATE TABLE t.person (id integer PRIMARY KEY, name text);
INSERT INTO t.person SELECT i, 'p' || i FROM generate_series(1, 5) i;
SELECT pubdata.register_resource('t.person', 'TAMPER-P', '人口', 'tamper_prov', 'restricted', 'not_open', 'daily', 2);
SELECT pubdata.submit_resource('TAMPER-P');
RESET ROLE;
SELECT pubdata.review_resource('TAMPER-P', true), pubdata.publish_resource('TAMPER-P');
SET ROLE tamper_user;
SELECT pubdata.request_share('TAMPER-P', '核查') AS req \gset
SET ROLE tamper_prov;
SELECT pubdata.decide_share(:req, true);
SQL

# reads N: N audited reads by the department (a record each)
reads() { for i in $(seq 1 "$1"); do q -U tamper_user -c "SELECT name FROM t.person WHERE id = 1" >/dev/null; done; }
head_seq() { q -c "SELECT seq FROM pubdata.audit_chain_head()"; }
# anchored: wait until the launcher's newest anchor is the (durable) head
anchored() {
	local h; h=$(head_seq)
	for i in $(seq 1 100); do
		[ "$(q -c "SELECT coalesce(max(seq), 0) FROM pubdata.audit_anchor")" = "$h" ] && return 0; sleep 0.1
	done
	echo "# no anchor of record $h"; return 1
}
verify() { q -U tamper_auditor -c "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || coalesce(first_broken_seq::text, '') FROM pubdata.verify_audit_chain()"; }
alerts() { q -U tamper_auditor -c "SELECT count(*) FROM pubdata.audit_alerts"; }
# since LINE PATTERN: log lines after LINE matching PATTERN
since() { tail -n +"$(( $1 + 1 ))" "$LOG" | grep -c -- "$2"; }
# wait_for LINE PATTERN: until such a line is logged (the launcher's, after a start)
wait_for() { for i in $(seq 1 100); do [ "$(since "$1" "$2")" -gt 0 ] && return 0; sleep 0.1; done; return 1; }
WARN='WARNING:  pubdata: the access audit log is incomplete or inconsistent'

# the pristine state every attack starts from: 12 records over several
# segments, anchored, then a clean shutdown (the final anchor in the log)
reads 12
anchored || exit 1
pg stop -m fast
check "a clean shutdown logs the final anchor" 1 "$(grep -c 'LOG:  pubdata: audit anchor seq=[0-9]* hash=[0-9a-f]\{64\} at=[-0-9T:.]*Z system=[0-9]* reason=shutdown' "$LOG")"
cp -a "$DATA" "$WORK/pristine"
HEAD=$(sed -n 's/.*audit anchor seq=\([0-9]*\) .*reason=shutdown.*/\1/p' "$LOG" | tail -1)
check "the segments hold record 1 to $HEAD" "$HEAD" "$(cat "$SEGDIR"/*.log | wc -l)"

# attack NAME COMMANDS...: from the pristine copy, run the commands (as root,
# server stopped), start, and check what must be reported
fresh() { pg stop -m immediate 2>/dev/null; rm -rf "$DATA"; cp -a "$WORK/pristine" "$DATA"; }
# the seq of the Nth line from the end of a segment (the first one cut)
nth_last() { tail -n "$2" "$1" | head -1 | cut -f1; }
reported() {	# reported CASE LINE FIRST_BROKEN FOUND_BY [HEAD]
	local case=$1 line=$2 first=$3 by=$4 head=${5:-$HEAD} s
	check "$case: WARNING at start" yes "$(wait_for "$line" "$WARN" && echo yes)"
	check "$case: verify_audit_chain() reports the loss" "f|$first" "$(verify)"
	check "$case: an audit_loss alert for the bureau and the auditor" "1|$by" \
		"$(q -U tamper_auditor -c "SELECT count(*) || '|' || string_agg(found_by, ',') FROM pubdata.audit_alerts")"
	check "$case: a gap record states it" 1 "$(q -U tamper_auditor -c "SELECT count(*) FROM pubdata.audit_events WHERE kind = 'gap'")"
	reads 1
	s=$(q -U tamper_auditor -c "SELECT max(seq) FROM pubdata.access_log")
	check "$case: the next read is numbered after every record that existed" yes "$([ "$s" -gt "$head" ] && echo yes)"
	check "$case: still never ok" f "$(verify | cut -d'|' -f1)"
}

# A. nothing touched
fresh; L=$(wc -l < "$LOG"); pg start
sleep 1
check "A: no warning" 0 "$(since "$L" "$WARN")"
check "A: the chain verifies against its anchors" "t|" "$(verify)"
check "A: no alert" 0 "$(alerts)"

# B. rm -rf the audit directory
fresh; rm -rf "$SEGDIR"
L=$(wc -l < "$LOG"); pg start
reported B "$L" 1 startup

# C. the last 2 lines of the last segment cut, head deleted
fresh; LAST=$(ls "$SEGDIR"/*.log | tail -1); CUT=$(nth_last "$LAST" 2)
head -n -2 "$LAST" > "$WORK/tmp"; cat "$WORK/tmp" > "$LAST"; rm "$SEGDIR/head"
check "C: two records cut" $(( HEAD - 1 )) "$CUT"
L=$(wc -l < "$LOG"); pg start
reported C "$L" "$CUT" startup

# D. the newest segment and head deleted
fresh; LAST=$(ls "$SEGDIR"/*.log | tail -1); FIRST_OF_LAST=$((10#$(basename "$LAST" .log)))
rm "$LAST" "$SEGDIR/head"
L=$(wc -l < "$LOG"); pg start
reported D "$L" "$FIRST_OF_LAST" startup

# E. an older copy of the directory, with its own head: taken after 12
# records, restored after 6 more were written and anchored
fresh; pg start; cp -a "$SEGDIR" "$WORK/older"
reads 6; anchored || exit 1
NEW_HEAD=$(head_seq)
pg stop -m fast
OLD_HEAD=$(cat "$WORK/older"/*.log | wc -l)
rm -rf "$SEGDIR"; cp -a "$WORK/older" "$SEGDIR"
L=$(wc -l < "$LOG"); pg start
reported E "$L" $(( OLD_HEAD + 1 )) startup "$NEW_HEAD"

# F. all of pg_pubdata, the anchor file included: pubdata.audit_anchor
# (WAL-logged, outside the files) still proves the records
fresh; rm -rf "$DATA/pg_pubdata"
L=$(wc -l < "$LOG"); pg start
reported F "$L" 1 launcher

# G. running server, a superuser's SQL only: the last segment cut, head
# deleted, the backend kill -9'd (shared memory is set up again)
fresh; pg start; reads 2; anchored || exit 1
G_HEAD=$(head_seq); LAST=$(ls "$SEGDIR"/*.log | tail -1); CUT=$(nth_last "$LAST" 2)
L=$(wc -l < "$LOG")
q -c "COPY (SELECT 1) TO PROGRAM 'head -n -2 $LAST > $LAST.cut; cat $LAST.cut > $LAST; rm -f $LAST.cut $SEGDIR/head; kill -9 \$PPID'" >/dev/null 2>&1
check "G: the backend was killed (crash restart)" yes "$(wait_for "$L" 'all server processes terminated; reinitializing' && echo yes)"
wait_ready || { echo "server did not come back"; exit 1; }
reported G "$L" "$CUT" startup "$G_HEAD"

# H. running server: the segment cut behind the server's back, then the
# launcher restarted: its check against pubdata.audit_anchor finds it, and a
# listener gets the alert's NOTIFY (id and kind only)
fresh; pg start; reads 3; anchored || exit 1
H_HEAD=$(head_seq); LAST=$(ls "$SEGDIR"/*.log | tail -1)
coproc LISTENER { "$BINDIR/psql" -qXAt -U tamper_auditor 2>&1; }
LPID=$LISTENER_PID; LOUT=${LISTENER[0]}; LIN=${LISTENER[1]}
echo "LISTEN pubdata_alert;" >&"$LIN"
echo "SELECT 'listening';" >&"$LIN"
read -r -t 30 line <&"$LOUT"	# the LISTEN is in place once its session answers
head -n -1 "$LAST" > "$WORK/tmp"; cat "$WORK/tmp" > "$LAST"
L=$(wc -l < "$LOG")
q -c "SELECT pg_terminate_backend(pubdata.launcher_pid())" >/dev/null
check "H: the restarted launcher warns" yes "$(wait_for "$L" "$WARN: record $H_HEAD, proven by the anchor" && echo yes)"
check "H: verify_audit_chain() reports the record gone" "f|$H_HEAD" "$(verify)"
check "H: an audit_loss alert found by the launcher" "1|launcher" \
	"$(q -U tamper_auditor -c "SELECT count(*) || '|' || string_agg(found_by, ',') FROM pubdata.audit_alerts")"
# the listener picks the notification up when it next talks to the server
echo "SELECT 1;" >&"$LIN"
NOTES=
while IFS= read -r -t 10 line <&"$LOUT"; do
	NOTES="$NOTES$line
"
	case "$line" in *"Asynchronous notification"*) break ;; esac
done
echo '\q' >&"$LIN"
AID=$(q -U tamper_auditor -c "SELECT id FROM pubdata.audit_alerts")
check "H: NOTIFY pubdata_alert carries the alert's id and kind only" yes \
	"$(echo "$NOTES" | grep -q "payload \"{\"id\": $AID, \"kind\": \"audit_loss\"}\"" && echo yes)"
LPID=

# turning the audit off in postgresql.conf and reloading: one record (by the
# first process that notices), the reads meanwhile counted in the record of
# turning it back on
fresh; pg start
MARK=$(head_seq)
echo "pubdata.audit = off" >> "$DATA/postgresql.conf"
q -c "SELECT pg_reload_conf()" >/dev/null; sleep 1
reads 2
sed -i '$d' "$DATA/postgresql.conf"
q -c "SELECT pg_reload_conf()" >/dev/null; sleep 1
reads 1
check "a reload that turns the audit off and on: two records, the 2 reads counted" "RELOAD|0|off;RELOAD|2|on" \
	"$(q -U tamper_auditor -c "SELECT string_agg(command || '|' || reads_unrecorded || '|' || CASE WHEN detail ~ '(= off$|to off by)' THEN 'off' ELSE 'on' END, ';' ORDER BY seq) FROM pubdata.audit_events WHERE seq > $MARK")"
check "... and only the read made with it on" 1 "$(q -U tamper_auditor -c "SELECT count(*) FROM pubdata.access_log WHERE seq > $MARK")"

pg stop -m fast
echo "audit tamper test: $fails failure(s)"
[ $fails -eq 0 ]
