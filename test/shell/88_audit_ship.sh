#!/bin/bash
# One access audit across a primary and its standbys (issue 13): a primary
# and two standbys started here (pg_basebackup by a replication login that
# is a member of pubdata_standby).  A department's governed reads on a
# standby appear on the primary within seconds, in access_log, usage_stats,
# my_access_log and the evaluation, with the server they happened on, the
# very lines of the standby's chain; every chain verifies on its own and on
# the primary.  With the primary stopped the standbys go on reading; started
# again, it receives every record exactly once.  Stopped for good: standby 1
# is promoted, standby 2 pointed at it ships all its records there, once.
# Failure paths: a department, the auditor and a forged record at the
# receiving function; a shipped line edited on the primary.
#
# Env (test/run.sh): PGPORT PUBDATA_BINDIR PUBDATA_WORK; runs as root.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/auditship
P_PORT=$((PGPORT + 44)); S1_PORT=$((PGPORT + 45)); S2_PORT=$((PGPORT + 46))
DB=ship

fail() {
	FAILED=1
	echo "88_audit_ship: FAILED: $*" >&2
	for c in primary s1 s2; do
		[ -f "$WORK/$c.log" ] && { echo "--- $c log" >&2; grep -v "^\s" "$WORK/$c.log" | tail -8 >&2; }
	done
	exit 1
}
ok() { echo "ok - $*"; }
port_of() { case $1 in primary) echo $P_PORT;; s1) echo $S1_PORT;; s2) echo $S2_PORT;; esac; }
pg() { runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$1/data" -l "$WORK/$1.log" "${@:2}" >/dev/null; }
stop_one() {
	[ -f "$WORK/$1/data/postmaster.pid" ] && pg "$1" -m fast -w stop 2>/dev/null
	return 0
}
cleanup() {
	[ -n "${KEEP:-}" ] && [ -n "${FAILED:-}" ] && { echo "clusters left running under $WORK" >&2; return; }
	stop_one s2; stop_one s1; stop_one primary; rm -rf "$WORK"
}
trap cleanup EXIT
# sql SERVER ROLE SQL
sql() {
	local c=$1 role=$2 pre=""
	shift 2
	[ "$role" != postgres ] && pre="SET ROLE $role; "
	"$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/$c" -p "$(port_of "$c")" -U postgres -d $DB -c "$pre$*"
}
refused() {
	local out
	out=$(sql "$1" "$2" "$3" 2>&1) && fail "not refused ($2 on $1): $3 -> $out"
	echo "$out" | grep -q -- "$4" || fail "refused for another reason ($2 on $1): $3 -> $out"
}
# wait_for SERVER ROLE SQL SECONDS: until SQL returns t
wait_for() {
	local i
	for ((i = 0; i < $4 * 5; i++)); do
		[ "$(sql "$1" "$2" "$3" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
# read SERVER N: N granted reads by the department (each one record)
read_n() {
	local i
	for ((i = 0; i < $2; i++)); do
		sql "$1" ship_user "SELECT count(*) FROM prov.household" >/dev/null || fail "granted read on $1"
	done
}
# usage_equal SERVER: usage_stats and the evaluation's shared reads, from the
# per-day summaries (own and shipped chains) and their tails, equal the same
# figures counted by a full scan of access_log
usage_equal() {
	sql "$1" ship_auditor "SELECT (SELECT count(*) FROM (
		(SELECT department, resource, statements, rows FROM pubdata.usage_stats
		 EXCEPT ALL SELECT department, resource, count(*), sum(rows) FROM pubdata.access_log GROUP BY 1, 2)
		UNION ALL
		(SELECT department, resource, count(*), sum(rows) FROM pubdata.access_log GROUP BY 1, 2
		 EXCEPT ALL SELECT department, resource, statements, rows FROM pubdata.usage_stats)) x) = 0
		AND (SELECT shared_reads FROM pubdata.evaluation(current_date - 1, current_date + 1) WHERE department = 'USER')
		  = (SELECT count(*) FROM pubdata.access_log WHERE department = 'USER' AND at >= current_date - 1 AND at < current_date + 1)"
}
# shipped SERVER NAME: access_log rows on SERVER that happened on NAME
shipped() { sql "$1" ship_auditor "SELECT count(*) FROM pubdata.access_log WHERE server = '$2'"; }

rm -rf "$WORK"; mkdir -p "$WORK/primary"; chown -R postgres: "$WORK"; chmod 700 "$WORK/primary"
runuser -u postgres -- "$BIN/initdb" -D "$WORK/primary/data" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || fail "initdb"
cat >>"$WORK/primary/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/primary'
listen_addresses = ''
port = $P_PORT
timezone = 'UTC'
fsync = off
max_worker_processes = 16
pubdata.database = '$DB'
pubdata.server_name = 'primary'
pubdata.audit_ship_interval = 200
CONF
pg primary -w start || fail "start primary"
"$BIN/psql" -X -q -h "$WORK/primary" -p $P_PORT -U postgres -d postgres -c "CREATE DATABASE $DB" >/dev/null || fail "createdb"
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/primary" -p $P_PORT -U postgres -d $DB >/dev/null <<'SQL' || fail "primary set-up"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE ship_bureau LOGIN IN ROLE pubdata_admin;
CREATE ROLE ship_auditor LOGIN IN ROLE pubdata_auditor;
CREATE ROLE ship_provider LOGIN;
CREATE ROLE ship_user LOGIN;
-- the standbys' login on the primary: streams WAL, ships the audit
CREATE ROLE ship_standby LOGIN REPLICATION IN ROLE pubdata_standby;
CREATE SCHEMA prov AUTHORIZATION ship_provider;
SET ROLE ship_bureau;
SELECT pubdata.add_department('PROV', '市公安局', '331100', 'administrative', 'ship_provider');
SELECT pubdata.add_department('USER', '市民政局', '331100', 'administrative', 'ship_user');
RESET ROLE;
SET ROLE ship_provider;
CREATE TABLE prov.household (id integer PRIMARY KEY, name text, phone text);
INSERT INTO prov.household VALUES (1, '张三', '13800000001'), (2, '李四', '13800000002');
SELECT pubdata.register_resource('prov.household', 'GA-HH', '户籍人口', 'PROV', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('GA-HH');
RESET ROLE;
SET ROLE ship_bureau;
SELECT pubdata.review_resource('GA-HH', true);
SELECT pubdata.publish_resource('GA-HH');
RESET ROLE;
SET ROLE ship_user;
SELECT pubdata.request_share('GA-HH', '低保核查', ARRAY['id', 'name']);
RESET ROLE;
SET ROLE ship_provider;
SELECT pubdata.decide_share(1, true);
SQL
read_n primary 1
# the record is in the primary's segment file before the copy (a reader of
# the log writes out the shared buffer; a copy taken before that would begin
# its own chain before it)
sql primary ship_auditor "SELECT count(*) FROM pubdata.access_log" >/dev/null
# and the state file records it (the sync worker, within a second)
for i in $(seq 1 50); do [ -f "$WORK/primary/data/pg_pubdata/audit/head" ] && break; sleep 0.1; done
sleep 1.2

# --- two standbys, copies of the primary ------------------------------------
make_standby() {
	local c=$1
	mkdir -p "$WORK/$c" && chown postgres: "$WORK/$c" && chmod 700 "$WORK/$c"
	runuser -u postgres -- "$BIN/pg_basebackup" -h "$WORK/primary" -p $P_PORT -U ship_standby -D "$WORK/$c/data" -R -X stream -c fast \
		>"$WORK/$c.basebackup.log" 2>&1 || { cat "$WORK/$c.basebackup.log"; fail "pg_basebackup $c"; }
	# A base backup copies the audit files at different moments.  Standby
	# 1's copy lacks the state file (copied before the first sync); standby
	# 2's state file was copied after the primary wrote and synced one more
	# record, so it is ahead of the copied segments.  Neither is a loss: the
	# copy's chain goes on from its last copied record, its fork.
	[ "$c" = s1 ] && rm -f "$WORK/$c/data/pg_pubdata/audit/head"
	if [ "$c" = s2 ]; then
		read_n primary 1
		sql primary ship_auditor "SELECT count(*) FROM pubdata.access_log" >/dev/null
		sleep 1.5
		cp "$WORK/primary/data/pg_pubdata/audit/head" "$WORK/$c/data/pg_pubdata/audit/head"
		cmp -s "$WORK/primary/data/pg_pubdata/audit/head" "$WORK/s1/data/pg_pubdata/audit/head" 2>/dev/null && fail "the state file did not move"
	fi
	cat >>"$WORK/$c/data/postgresql.auto.conf" <<CONF
port = $(port_of "$c")
unix_socket_directories = '$WORK/$c'
hot_standby = on
pubdata.server_name = '$c'
CONF
	pg "$c" -w start || fail "start $c"
	[ "$(sql "$c" postgres "SELECT pg_is_in_recovery()")" = t ] || fail "$c is not a standby"
}
make_standby s1
make_standby s2
for c in s1 s2; do
	grep -q "incomplete or inconsistent" "$WORK/$c.log" && fail "$c took its copied audit files for a loss: $(grep -A2 'incomplete or inconsistent' "$WORK/$c.log")"
	[ "$(sql "$c" ship_auditor "SELECT count(*) FROM pubdata.audit_events WHERE kind = 'gap'")" = 0 ] || fail "$c wrote a gap record at its start"
	[ "$(sql "$c" ship_auditor "SELECT ok FROM pubdata.verify_audit_chain()")" = t ] || fail "$c's chain after its start: $(sql "$c" ship_auditor "SELECT detail FROM pubdata.verify_audit_chain()")"
done
grep -q "starting from a copy of another server: the audit state file was not copied" "$WORK/s1.log" || fail "standby 1 did not say its state file was not copied"
grep -q "starting from a copy of another server: the audit state file was copied after the segments" "$WORK/s2.log" || fail "standby 2 did not say its state file was ahead"
# the state file now says where the copy's chain is: a restart finds no loss either
stop_one s2; pg s2 -w start || fail "restart s2"
grep -q "incomplete or inconsistent" "$WORK/s2.log" && fail "standby 2's restart found a loss"
ok "copies whose state file is missing or ahead of their segments start (and restart) without a loss warning or gap record"
grep -q "user=ship_standby" "$WORK/s1/data/postgresql.auto.conf" || fail "primary_conninfo does not name the standby login"
got=$(sql s1 ship_auditor "SELECT kind || ':' || (fork_seq > 0) || ':' || (origin = (SELECT server_id FROM pubdata.audit_servers() WHERE this_server)) FROM pubdata.audit_servers() WHERE this_server")
case "$got" in standby:true:*) ;; *) fail "standby 1's identity: $got";; esac
[ "$(sql s1 ship_auditor "SELECT server_id FROM pubdata.audit_servers() WHERE this_server")" != "$(sql primary ship_auditor "SELECT server_id FROM pubdata.audit_servers() WHERE this_server")" ] \
	|| fail "the standby kept the primary's audit identity"
ok "two standbys from pg_basebackup, each a new audit server forking from the primary's chain"

# --- reads on a standby reach the primary within seconds ---------------------
read_n s1 3
out=$(sql s1 ship_user "SELECT phone FROM prov.household" 2>&1) && fail "an item outside the grant was read on standby 1: $out"
t0=$(date +%s.%N)
wait_for primary ship_auditor "SELECT count(*) = 4 FROM pubdata.access_log WHERE server = 's1'" 10 || fail "standby 1's reads did not reach the primary: $(shipped primary s1)"
secs=$(echo "$(date +%s.%N) - $t0" | bc)
ok "4 records read on standby 1 (3 granted, 1 refused) are in the primary's access_log after ${secs}s"
[ "$(sql primary ship_auditor "SELECT string_agg(outcome, ',' ORDER BY seq) FROM pubdata.access_log WHERE server = 's1'")" = "ok,ok,ok,denied" ] \
	|| fail "outcomes of the shipped reads: $(sql primary ship_auditor "SELECT string_agg(outcome, ',' ORDER BY seq) FROM pubdata.access_log WHERE server = 's1'")"
# the very lines of the standby's chain: the same hashes, in order
fork=$(sql s1 ship_auditor "SELECT fork_seq FROM pubdata.audit_servers() WHERE this_server")
a=$(sql s1 ship_auditor "SELECT string_agg(seq || ':' || hash, ',' ORDER BY seq) FROM pubdata._audit_records() WHERE seq > $fork")
b=$(sql primary ship_auditor "SELECT string_agg(seq || ':' || hash, ',' ORDER BY seq) FROM pubdata._audit_shipped_records() WHERE server = 's1'")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "the primary's copy of standby 1's chain differs: $a / $b"
[ "$(sql primary ship_auditor "SELECT count(*) FROM pubdata.access_log WHERE server = 'primary'")" = 2 ] || fail "the primary's own reads"
ok "the primary holds standby 1's chain line for line (same seq and hash), its own read beside it"

# who sees them: the auditor, the department (its own reads), usage_stats, the evaluation
[ "$(sql primary ship_user "SELECT count(*) FROM pubdata.my_access_log WHERE server = 's1'")" = 4 ] || fail "my_access_log of the reader"
[ "$(sql primary ship_provider "SELECT count(*) FILTER (WHERE as_provider) FROM pubdata.my_access_log WHERE server = 's1'")" = 4 ] || fail "my_access_log of the provider"
[ "$(sql primary ship_auditor "SELECT statements FROM pubdata.usage_stats WHERE department = 'USER' AND resource = 'GA-HH'")" = 6 ] \
	|| fail "usage_stats: $(sql primary ship_auditor "SELECT statements FROM pubdata.usage_stats WHERE department = 'USER'")"
[ "$(sql primary ship_auditor "SELECT shared_reads FROM pubdata.evaluation(current_date - 1, current_date + 1) WHERE department = 'USER'")" = 6 ] \
	|| fail "evaluation shared_reads"
[ "$(sql primary ship_auditor "SELECT count(*) FROM pubdata.audit_records(now() - interval '1 hour', NULL, resource => 'GA-HH') WHERE server = 's1'")" = 4 ] \
	|| fail "audit_records"
[ "$(sql primary ship_user "SELECT count(*) FROM pubdata.my_audit_records(now() - interval '1 hour', NULL) WHERE server = 's1'")" = 4 ] \
	|| fail "my_audit_records"
refused primary ship_user "SELECT count(*) FROM pubdata.access_log" "permission denied"
[ "$(usage_equal primary)" = t ] || fail "usage_stats before the summaries: not the full scan's figures"
sql primary ship_bureau "SELECT pubdata.audit_summarise()" >/dev/null || fail "audit_summarise"
[ "$(sql primary ship_auditor "SELECT count(*) FROM pubdata.audit_usage_shipped u JOIN pubdata.audit_servers() a USING (server_id) WHERE a.name = 's1' AND u.summarised_seq = a.last_seq")" = 1 ] \
	|| fail "standby 1's chain is not summarised: $(sql primary ship_auditor "SELECT string_agg(server_id || ':' || summarised_seq, ',') FROM pubdata.audit_usage_shipped")"
[ "$(sql primary ship_auditor "SELECT sum(statements) FROM pubdata.audit_usage_day_shipped")" = 4 ] || fail "the shipped summaries do not count standby 1's 4 reads"
[ "$(usage_equal primary)" = t ] || fail "usage_stats from the shipped summaries: not the full scan's figures"
ok "my_access_log, usage_stats, the evaluation, audit_records and my_audit_records count the standby's reads; the per-day summaries cover the shipped chain, with the full scan's figures"

got=$(sql primary ship_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "primary:true,s1:true,s2:true" ] || fail "verify_audit_chains on the primary: $got / $(sql primary ship_auditor "SELECT string_agg(detail, ' | ') FROM pubdata.verify_audit_chains()")"
[ "$(sql s1 ship_auditor "SELECT ok FROM pubdata.verify_audit_chain()")" = t ] || fail "standby 1's own chain"
sql primary ship_auditor "SELECT detail FROM pubdata.verify_audit_chains() WHERE server = 's1'" | grep -q "forks from record $fork of this server's chain" \
	|| fail "the fork was not checked against the primary's record: $(sql primary ship_auditor "SELECT detail FROM pubdata.verify_audit_chains() WHERE server = 's1'")"
ok "verify_audit_chains on the primary: its own chain and the standbys', each fork matching the primary's record"

# --- the receiving function: who may call it, what it refuses ----------------
refused primary ship_user "SELECT pubdata._audit_receive('0123456789abcdef0123456789abcdef', 'x', 0, repeat('0', 64), NULL, '')" "permission denied for function _audit_receive"
refused primary ship_auditor "SELECT pubdata._audit_receive('0123456789abcdef0123456789abcdef', 'x', 0, repeat('0', 64), NULL, '')" "permission denied for function _audit_receive"
s1id=$(sql s1 ship_auditor "SELECT server_id FROM pubdata.audit_servers() WHERE this_server")
s1fork=$(sql s1 ship_auditor "SELECT fork_seq || ', ''' || fork_hash || ''', ''' || origin || '''' FROM pubdata.audit_servers() WHERE this_server")
last=$(sql primary ship_auditor "SELECT last_seq || ':' || last_hash FROM pubdata.audit_servers() WHERE name = 's1'")
refused primary ship_standby "SELECT pubdata._audit_receive('$s1id', 's1', $s1fork,
	(${last%%:*} + 1) || E'\\t0\\t0\\tmallory\\t0\\t\\\\N\\tGA-HH\\t0\\t\\\\N\\tSELECT\\t0\\t99\\t\\tok\\t\\\\N\\t\\\\N\\t' || repeat('0', 64) || E'\\n')" \
	"does not link to record ${last%%:*}"
refused primary ship_standby "SELECT pubdata._audit_receive('zz', 's1', $s1fork, '')" 'invalid audit server id "zz"'
refused s1 postgres "SELECT pubdata._audit_receive('$s1id', 's1', $s1fork, '')" "this server is a standby"
[ "$(shipped primary s1)" = 4 ] || fail "a refused call changed the shipped chain"
ok "_audit_receive: only pubdata_standby's login; a forged record is refused (it does not link); not on a standby"

# --- a primary that refuses: the standby waits longer between tries ---------
sql primary postgres "REVOKE pubdata_standby FROM ship_standby" >/dev/null || fail "revoke"
refusals() { grep -c 'STATEMENT:  SELECT pubdata._audit_receive(\$1' "$WORK/primary.log"; }
before=$(refusals)
read_n s1 1
sleep 6
tries=$(( $(refusals) - before ))
[ "$tries" -ge 1 ] && [ "$tries" -le 4 ] || fail "a refusing primary was asked $tries times in 6 s (1 to 4 expected: 1, 2, 4 s apart)"
[ "$(grep -c 'the primary did not take the audit records' "$WORK/s1.log")" = 1 ] || fail "the refusal was not reported once on the standby"
sql primary postgres "GRANT pubdata_standby TO ship_standby" >/dev/null || fail "grant"
wait_for primary ship_auditor "SELECT count(*) = 5 FROM pubdata.access_log WHERE server = 's1'" 20 || fail "the record did not arrive once the primary took it again"
ok "a primary that refuses is asked 1, 2, 4 s apart ($tries times in 6 s), the standby says it once; the record goes when it is allowed again"

# --- the primary down: records wait, then arrive exactly once ----------------
stop_one primary
read_n s1 5
read_n s2 2
sleep 1
pg primary -w start || fail "restart primary"
wait_for primary ship_auditor "SELECT count(*) FILTER (WHERE server = 's1') = 10 AND count(*) FILTER (WHERE server = 's2') = 2 FROM pubdata.access_log" 20 \
	|| fail "after the primary's downtime: s1 $(shipped primary s1) of 10, s2 $(shipped primary s2) of 2"
sleep 2
[ "$(shipped primary s1)/$(shipped primary s2)" = "10/2" ] || fail "records arrived more than once: $(shipped primary s1)/$(shipped primary s2)"
[ "$(sql primary ship_auditor "SELECT count(*) = count(DISTINCT (server, seq)) FROM pubdata.access_log")" = t ] || fail "a record twice"
[ "$(sql primary ship_auditor "SELECT last_seq FROM pubdata.audit_servers() WHERE name = 's1'")" = "$(sql s1 ship_auditor "SELECT seq FROM pubdata.audit_chain_head()")" ] \
	|| fail "the primary's copy does not reach standby 1's head"
grep -q "pubdata audit shipper: cannot reach the primary" "$WORK/s1.log" || fail "standby 1 did not say the primary was unreachable"
grep -q "password\|user=ship_standby\|host=" "$WORK/s1.log" && fail "the standby's log shows its connection string"
got=$(sql primary ship_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "primary:true,s1:true,s2:true" ] || fail "verify_audit_chains after the downtime: $got"
[ "$(sql primary ship_auditor "SELECT count(*) FROM pubdata._audit_shipped_records() WHERE server = 's2' AND outcome = 'gap'")" = 0 ] \
	|| fail "standby 2 shipped a gap record"
[ "$(sql primary ship_auditor "SELECT fork_seq FROM pubdata.audit_servers() WHERE name = 's2'")" = "$fork" ] \
	|| fail "standby 2's fork is not the primary's last record: $(sql primary ship_auditor "SELECT fork_seq FROM pubdata.audit_servers() WHERE name = 's2'") / $fork"
sql primary ship_auditor "SELECT detail FROM pubdata.verify_audit_chains() WHERE server = 's2'" | grep -q "forks from record $fork of this server's chain" \
	|| fail "standby 2's fork: $(sql primary ship_auditor "SELECT detail FROM pubdata.verify_audit_chains() WHERE server = 's2'")"
[ "$(usage_equal primary)" = t ] || fail "usage_stats with a shipped tail not summarised: not the full scan's figures"
sql primary ship_bureau "SELECT pubdata.audit_summarise()" >/dev/null || fail "audit_summarise"
[ "$(usage_equal primary)" = t ] || fail "usage_stats after summarising both chains: not the full scan's figures"
[ "$(sql primary ship_auditor "SELECT count(*) FROM pubdata.audit_usage_shipped")" = 2 ] || fail "both shipped chains summarised"
ok "primary stopped, 7 reads on the standbys, primary started: each record arrived exactly once, chains verify; standby 2's fork is the primary's record; usage figures equal the full scan's, summarised or not"

# --- a shipped line edited on the primary is caught --------------------------
seg=$(ls "$WORK/primary/data/pg_pubdata/shipped/$s1id/"*.log | head -1)
cp "$seg" "$WORK/seg.bak"
sed -i '2s/\tSELECT\t/\tSELECT \t/' "$seg"
got=$(sql primary ship_auditor "SELECT ok || ':' || first_broken_seq FROM pubdata.verify_audit_chains() WHERE server = 's1'")
[ "$got" = "false:$((fork + 2))" ] || fail "an edited shipped record was not caught: $got"
cp "$WORK/seg.bak" "$seg"; chown postgres: "$seg"
[ "$(sql primary ship_auditor "SELECT ok FROM pubdata.verify_audit_chains() WHERE server = 's1'")" = t ] || fail "restored segment"
ok "an edited line of a shipped chain breaks its verification at that record"

# --- promotion: the primary gone, standby 1 promoted, standby 2 follows it ---
stop_one primary
read_n s1 2
read_n s2 1
pg s1 -w promote || fail "promote s1"
wait_for s1 postgres "SELECT NOT pg_is_in_recovery()" 20 || fail "s1 was not promoted"
read_n s1 1
"$BIN/psql" -X -q -h "$WORK/s2" -p $S2_PORT -U postgres -d $DB \
	-c "ALTER SYSTEM SET primary_conninfo = 'host=$WORK/s1 port=$S1_PORT user=ship_standby application_name=s2'" -c "SELECT pg_reload_conf()" >/dev/null || fail "point s2 at s1"
wait_for s1 ship_auditor "SELECT count(*) = 3 FROM pubdata.access_log WHERE server = 's2'" 30 \
	|| fail "standby 2's records did not reach the promoted standby: $(shipped s1 s2) of 3"
sleep 2
[ "$(shipped s1 s2)" = 3 ] || fail "standby 2's records twice on the new primary: $(shipped s1 s2)"
[ "$(shipped s1 s1)" = 13 ] || fail "the promoted server's own reads: $(shipped s1 s1) of 13"
[ "$(shipped s1 primary)" = 1 ] || fail "the record the promoted server inherited is not the primary's: $(shipped s1 primary)"
got=$(sql s1 ship_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "s1:true,s2:true" ] || fail "verify_audit_chains on the promoted server: $got"
read_n s2 1
wait_for s1 ship_auditor "SELECT count(*) = 4 FROM pubdata.access_log WHERE server = 's2'" 10 || fail "standby 2 goes on shipping to the new primary"
ok "standby 1 promoted keeps its 13 reads (and the primary's it inherited); standby 2, pointed at it, shipped its 4 reads there exactly once"

echo "88_audit_ship: one audit across a primary and its standbys, through downtime and promotion"
exit 0
