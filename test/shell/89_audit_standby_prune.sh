#!/bin/bash
# A standby prunes its own access audit log (issue 13): a primary and a
# standby started here, 1 kB segments.  The standby archives its closed
# segments and prunes them only up to what its primary holds and counted
# (the primary's pubdata.audit_usage_shipped for the standby, replicated to
# it): before the primary summarised them the prune is refused, with the
# record it may prune up to; after, it prunes.  Then both chains verify (on
# the standby its own and its archive; on the primary verify_audit_chains),
# the standby ships more records after its prune, and both restart without
# a loss alert.  Failure paths: the auditor (no pg_write_server_files).
#
# Then the primary archives and prunes the standby's chain shipped to it
# (audit_archive/audit_prune/verify_audit_archive with the standby's audit
# id): refused before its summaries count the records, for the auditor, and
# against the own log (the manifest names the server); after, pruned, with
# verify_audit_chains and verify_audit_archive intact and access_log read
# from the prefix on.  The standby ships on after the prune; a tampered
# archived copy is reported and refused; the primary prunes its own record
# at the standby's fork and the fork stays checked; both restart without a
# loss alert.
#
# Env (test/run.sh): PGPORT PUBDATA_BINDIR PUBDATA_WORK; runs as root.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/standbyprune
P_PORT=$((PGPORT + 47)); S_PORT=$((PGPORT + 48))
DB=sprune

fail() {
	FAILED=1
	echo "89_audit_standby_prune: FAILED: $*" >&2
	for c in primary s1; do
		[ -f "$WORK/$c.log" ] && { echo "--- $c log" >&2; grep -v "^\s" "$WORK/$c.log" | tail -8 >&2; }
	done
	exit 1
}
ok() { echo "ok - $*"; }
port_of() { case $1 in primary) echo $P_PORT;; s1) echo $S_PORT;; esac; }
pg() { runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$1/data" -l "$WORK/$1.log" "${@:2}" >/dev/null; }
stop_one() {
	[ -f "$WORK/$1/data/postmaster.pid" ] && pg "$1" -m fast -w stop 2>/dev/null
	return 0
}
cleanup() {
	[ -n "${KEEP:-}" ] && [ -n "${FAILED:-}" ] && { echo "clusters left running under $WORK" >&2; return; }
	stop_one s1; stop_one primary; rm -rf "$WORK"
}
trap cleanup EXIT
# sql SERVER ROLE SQL
sql() {
	local c=$1 role=$2 pre=""
	shift 2
	[ "$role" != postgres ] && pre="SET ROLE $role; SET client_min_messages = warning; "
	"$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/$c" -p "$(port_of "$c")" -U postgres -d $DB -c "$pre$*"
}
refused() {
	local out
	out=$(sql "$1" "$2" "$3" 2>&1) && fail "not refused ($2 on $1): $3 -> $out"
	echo "$out" | grep -q -- "$4" || fail "refused for another reason ($2 on $1): $3 -> $out"
}
wait_for() {
	local i
	for ((i = 0; i < $4 * 5; i++)); do
		[ "$(sql "$1" "$2" "$3" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
read_n() {
	local i
	for ((i = 0; i < $2; i++)); do
		sql "$1" sp_user "SELECT count(*) FROM prov.household" >/dev/null || fail "granted read on $1"
	done
}
shipped() { sql primary sp_auditor "SELECT count(*) FROM pubdata.access_log WHERE server = 's1'"; }

rm -rf "$WORK"; mkdir -p "$WORK/primary" "$WORK/arch"; chown -R postgres: "$WORK"; chmod 700 "$WORK/primary"
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
pubdata.audit_segment_size = 1kB
CONF
pg primary -w start || fail "start primary"
"$BIN/psql" -X -q -h "$WORK/primary" -p $P_PORT -U postgres -d postgres -c "CREATE DATABASE $DB" >/dev/null || fail "createdb"
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/primary" -p $P_PORT -U postgres -d $DB >/dev/null <<'SQL' || fail "primary set-up"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE sp_bureau LOGIN IN ROLE pubdata_admin, pg_write_server_files;
CREATE ROLE sp_auditor LOGIN IN ROLE pubdata_auditor, pg_read_server_files;
CREATE ROLE sp_provider LOGIN;
CREATE ROLE sp_user LOGIN;
CREATE ROLE sp_standby LOGIN REPLICATION IN ROLE pubdata_standby;
CREATE SCHEMA prov AUTHORIZATION sp_provider;
SET ROLE sp_bureau;
SELECT pubdata.add_department('PROV', '市公安局', '331100', 'administrative', 'sp_provider');
SELECT pubdata.add_department('USER', '市民政局', '331100', 'administrative', 'sp_user');
RESET ROLE;
SET ROLE sp_provider;
CREATE TABLE prov.household (id integer PRIMARY KEY, name text, phone text);
INSERT INTO prov.household VALUES (1, '张三', '13800000001'), (2, '李四', '13800000002');
SELECT pubdata.register_resource('prov.household', 'GA-HH', '户籍人口', 'PROV', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('GA-HH');
RESET ROLE;
SET ROLE sp_bureau;
SELECT pubdata.review_resource('GA-HH', true);
SELECT pubdata.publish_resource('GA-HH');
RESET ROLE;
SET ROLE sp_user;
SELECT pubdata.request_share('GA-HH', '低保核查', ARRAY['id', 'name']);
RESET ROLE;
SET ROLE sp_provider;
SELECT pubdata.decide_share(1, true);
SQL
read_n primary 1
sql primary sp_auditor "SELECT count(*) FROM pubdata.access_log" >/dev/null
sleep 1.5

mkdir -p "$WORK/s1" && chown postgres: "$WORK/s1" && chmod 700 "$WORK/s1"
runuser -u postgres -- "$BIN/pg_basebackup" -h "$WORK/primary" -p $P_PORT -U sp_standby -D "$WORK/s1/data" -R -X stream -c fast \
	>"$WORK/s1.basebackup.log" 2>&1 || { cat "$WORK/s1.basebackup.log"; fail "pg_basebackup"; }
cat >>"$WORK/s1/data/postgresql.auto.conf" <<CONF
port = $S_PORT
unix_socket_directories = '$WORK/s1'
hot_standby = on
pubdata.server_name = 's1'
CONF
pg s1 -w start || fail "start s1"
[ "$(sql s1 postgres "SELECT pg_is_in_recovery()")" = t ] || fail "s1 is not a standby"

# --- reads on the standby with the primary down: not shipped, not prunable ---
# (the primary stopped, nothing of them can be held or counted there)
stop_one primary
read_n s1 12
fork=$(sql s1 sp_auditor "SELECT fork_seq FROM pubdata.audit_servers() WHERE this_server")
segs=$(ls "$WORK/s1/data/pg_pubdata/audit/" | grep -c '\.log$')
[ "$segs" -ge 3 ] || fail "the standby has $segs segments (3 or more expected with 1 kB segments)"
got=$(sql s1 sp_bureau "SELECT count(*) FROM pubdata.audit_archive(now(), '$WORK/arch')")
[ "$got" = "$((segs - 1))" ] || fail "audit_archive on the standby archived $got of $((segs - 1)) closed segments"
ok "the standby archives its $got closed segments (12 reads after its fork at record $fork, the primary down)"
refused s1 sp_auditor "SELECT * FROM pubdata.audit_prune('$WORK/arch')" "permission denied for function audit_prune"
refused s1 sp_bureau "SELECT * FROM pubdata.audit_prune('$WORK/arch')" "of this standby are not confirmed by its primary yet"
out=$(sql s1 sp_bureau "SELECT * FROM pubdata.audit_prune('$WORK/arch')" 2>&1)
echo "$out" | grep -q "HINT:.*audit_summarise" || fail "the refusal has no hint: $out"
for f in "$WORK"/arch/*.log; do
	[ -f "$WORK/s1/data/pg_pubdata/audit/$(basename "$f")" ] || fail "a refused prune removed $(basename "$f")"
done
[ ! -f "$WORK/s1/data/pg_pubdata/audit/pruned" ] || fail "a refused prune wrote the pruned prefix"
ok "audit_prune on the standby: not for the auditor; refused while its primary does not hold and count its records (hint given), nothing removed"

pg primary -w start || fail "start primary again"
wait_for primary sp_auditor "SELECT count(*) = 12 FROM pubdata.access_log WHERE server = 's1'" 30 || fail "the standby's reads did not arrive: $(shipped) of 12"

# --- after the primary's summary, replicated: pruned ------------------------
sql primary sp_bureau "SELECT pubdata.audit_summarise()" >/dev/null || fail "audit_summarise"
summ=$(sql primary sp_auditor "SELECT summarised_seq FROM pubdata.audit_usage_shipped")
wait_for s1 sp_auditor "SELECT count(*) = 1 FROM pubdata.audit_usage_shipped WHERE summarised_seq = $summ" 20 || fail "the summary did not reach the standby"
got=$(sql s1 sp_bureau "SELECT segments || ':' || first_seq || ':' || (last_seq <= $summ) FROM pubdata.audit_prune('$WORK/arch')") || fail "prune on the standby"
[ "${got%%:*}" -ge 1 ] && [ "${got##*:}" = true ] || fail "prune on the standby: $got"
npruned=${got%%:*}
[ -f "$WORK/s1/data/pg_pubdata/audit/pruned" ] || fail "no pruned prefix on the standby"
left=$(ls "$WORK/s1/data/pg_pubdata/audit/" | grep -c "^0.*\.log$")
[ "$left" -le $((segs - npruned + 1)) ] || fail "$left segments left of $segs after pruning $npruned"
got=$(sql s1 sp_auditor "SELECT ok FROM pubdata.verify_audit_chain()")
[ "$got" = t ] || fail "the standby's chain after its prune: $(sql s1 sp_auditor "SELECT detail FROM pubdata.verify_audit_chain()")"
got=$(sql s1 sp_auditor "SELECT ok FROM pubdata.verify_audit_archive('$WORK/arch')")
[ "$got" = t ] || fail "the standby's archive: $(sql s1 sp_auditor "SELECT detail FROM pubdata.verify_audit_archive('$WORK/arch')")"
sql s1 sp_auditor "SELECT detail FROM pubdata.verify_audit_archive('$WORK/arch')" | grep -q "linked to the live chain" || fail "archive not linked: $(sql s1 sp_auditor "SELECT detail FROM pubdata.verify_audit_archive('$WORK/arch')")"
ok "after the primary counted them: the standby pruned $npruned segment(s), its chain and its archive verify, linked"

# --- more reads after the prune: shipped, everything verifies ---------------
read_n s1 5
wait_for primary sp_auditor "SELECT count(*) = 17 FROM pubdata.access_log WHERE server = 's1' AND command = 'SELECT'" 20 || fail "reads after the prune did not arrive: $(shipped)"
[ "$(sql primary sp_auditor "SELECT last_seq FROM pubdata.audit_servers() WHERE name = 's1'")" = "$(sql s1 sp_auditor "SELECT seq FROM pubdata.audit_chain_head()")" ] \
	|| fail "the primary's copy does not reach the standby's head after the prune"
got=$(sql primary sp_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "primary:true,s1:true" ] || fail "verify_audit_chains on the primary: $got"
[ "$(sql primary sp_auditor "SELECT count(*) = count(DISTINCT seq) FROM pubdata.access_log WHERE server = 's1'")" = t ] || fail "a record twice"
ok "5 reads after the prune shipped once; verify_audit_chains on the primary: both chains intact"

# --- both restart without a loss alert ----------------------------------------
stop_one s1; stop_one primary
pg primary -w start || fail "restart primary"
pg s1 -w start || fail "restart s1"
sleep 1
for c in primary s1; do
	grep -q "incomplete or inconsistent\|audit_loss" "$WORK/$c.log" && fail "$c reported a loss after the restart: $(grep -m2 'incomplete or inconsistent\|audit_loss' "$WORK/$c.log")"
	[ "$(sql "$c" sp_auditor "SELECT count(*) FROM pubdata.audit_events WHERE kind = 'gap'")" = 0 ] || fail "$c wrote a gap record"
done
[ "$(sql s1 sp_auditor "SELECT ok FROM pubdata.verify_audit_chain()")" = t ] || fail "the standby's chain after the restart: $(sql s1 sp_auditor "SELECT detail FROM pubdata.verify_audit_chain()")"
read_n s1 1
wait_for primary sp_auditor "SELECT count(*) = 18 FROM pubdata.access_log WHERE server = 's1' AND command = 'SELECT'" 20 || fail "a read after the restart did not arrive"
got=$(sql primary sp_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "primary:true,s1:true" ] || fail "verify_audit_chains after the restart: $got"
ok "both restarted: no loss reported, no gap record, the standby ships on, every chain verifies"

# --- the primary archives and prunes the standby's shipped chain -------------
sid=$(sql primary sp_auditor "SELECT server_id FROM pubdata.audit_servers() WHERE name = 's1'")
sdir="$WORK/primary/data/pg_pubdata/shipped/$sid"
[ -d "$sdir" ] || fail "no shipped chain of s1 ($sid) on the primary"
mkdir -p "$WORK/parch" "$WORK/own" && chown postgres: "$WORK/parch" "$WORK/own"
read_n s1 6
wait_for primary sp_auditor "SELECT count(*) = 24 FROM pubdata.access_log WHERE server = 's1' AND command = 'SELECT'" 20 || fail "6 more reads did not arrive: $(shipped)"
summ=$(sql primary sp_auditor "SELECT summarised_seq FROM pubdata.audit_usage_shipped WHERE server_id = '$sid'")
got=$(sql primary sp_bureau "SELECT count(*) || ':' || max(last_seq) FROM pubdata.audit_archive(now(), '$WORK/parch', '$sid')") || fail "audit_archive of the shipped chain"
narch=${got%%:*}; alast=${got##*:}
[ "$narch" -ge 2 ] || fail "audit_archive of s1's shipped chain archived $got"
grep -q "^server=$sid$" "$WORK"/parch/*.manifest || fail "the manifest does not name server $sid"
[ "$alast" -gt "$summ" ] || fail "the archive ends at $alast, within what was summarised ($summ): no refusal to test"
refused primary sp_bureau "SELECT * FROM pubdata.audit_prune('$WORK/parch', NULL, '$sid')" "of server s1 ($sid) are not in the usage summaries yet"
[ ! -f "$sdir/pruned" ] || fail "a refused prune wrote the shipped chain's pruned prefix"
refused primary sp_auditor "SELECT * FROM pubdata.audit_prune('$WORK/parch', NULL, '$sid')" "permission denied for function audit_prune"
# an archive of one chain is not the other's
refused primary sp_bureau "SELECT * FROM pubdata.audit_prune('$WORK/parch')" "holds the access audit chain of another server"
refused primary sp_bureau "SELECT * FROM pubdata.audit_archive(now(), '$WORK/parch')" "holds the access audit chain of another server"
got=$(sql primary sp_auditor "SELECT ok || ' ' || detail FROM pubdata.verify_audit_archive('$WORK/parch')")
case "$got" in "false "*"is of server $sid, not of this server's own log"*) ;; *) fail "s1's archive verified as the primary's own: $got";; esac
for f in "$WORK"/parch/*.log; do
	[ -f "$sdir/$(basename "$f")" ] || fail "a refused prune removed $(basename "$f")"
done
ok "the primary archives s1's shipped chain ($narch segments, manifest server=$sid); prune refused before the summaries count it, for the auditor, and against the own log"

sql primary sp_bureau "SELECT pubdata.audit_summarise()" >/dev/null || fail "audit_summarise"
usage=$(sql primary sp_auditor "SELECT sum(statements) FROM pubdata.audit_usage_day_shipped WHERE server_id = '$sid'")
before=$(sql primary sp_auditor "SELECT count(*) FROM pubdata.access_log WHERE server = 's1'")
got=$(sql primary sp_bureau "SELECT segments || ':' || last_seq FROM pubdata.audit_prune('$WORK/parch', NULL, '$sid')") || fail "prune of the shipped chain"
[ "${got%%:*}" = "$narch" ] && [ "${got##*:}" = "$alast" ] || fail "prune of s1's chain: $got, archived $narch segments to $alast"
[ -f "$sdir/pruned" ] || fail "no pruned prefix in $sdir"
for f in "$WORK"/parch/*.log; do
	[ ! -f "$sdir/$(basename "$f")" ] || fail "$(basename "$f") still in the shipped chain after the prune"
done
got=$(sql primary sp_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "primary:true,s1:true" ] || fail "verify_audit_chains after the shipped prune: $(sql primary sp_auditor "SELECT detail FROM pubdata.verify_audit_chains()")"
sql primary sp_auditor "SELECT detail FROM pubdata.verify_audit_chains() WHERE server = 's1'" | grep -q "were archived and pruned: the live chain links to the pruned prefix" \
	|| fail "s1's verification does not say it starts at the prefix: $(sql primary sp_auditor "SELECT detail FROM pubdata.verify_audit_chains() WHERE server = 's1'")"
got=$(sql primary sp_auditor "SELECT ok || ' ' || detail FROM pubdata.verify_audit_archive('$WORK/parch', '$sid')")
case "$got" in "true "*"linked to the live chain: the live log begins after record $alast"*) ;; *) fail "verify_audit_archive of s1's archive: $got";; esac
got=$(sql primary sp_auditor "SELECT count(*) || ':' || (min(seq) > $alast) FROM pubdata.access_log WHERE server = 's1'") || fail "access_log over the pruned chain"
[ "${got##*:}" = true ] && [ "${got%%:*}" -lt "$before" ] || fail "access_log over s1's pruned chain: $got (before: $before rows)"
[ "$(sql primary sp_auditor "SELECT sum(statements) FROM pubdata.audit_usage_day_shipped WHERE server_id = '$sid'")" = "$usage" ] || fail "the usage summaries changed with the prune"
ok "after the summary: s1's $narch archived segments pruned on the primary; verify_audit_chains and verify_audit_archive(dir, server) intact and linked; access_log reads from the prefix on, the summaries keep the count"

# --- the standby ships on after the prune; a tampered archive is refused ----
n=$(sql primary sp_auditor "SELECT count(*) FROM pubdata.access_log WHERE server = 's1' AND command = 'SELECT'")
read_n s1 8
wait_for primary sp_auditor "SELECT count(*) = $((n + 8)) FROM pubdata.access_log WHERE server = 's1' AND command = 'SELECT'" 20 || fail "reads after the shipped prune did not arrive"
[ "$(sql primary sp_auditor "SELECT last_seq FROM pubdata.audit_servers() WHERE name = 's1'")" = "$(sql s1 sp_auditor "SELECT seq FROM pubdata.audit_chain_head()")" ] \
	|| fail "the primary's copy does not reach the standby's head after the shipped prune"
got=$(sql primary sp_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "primary:true,s1:true" ] || fail "verify_audit_chains after shipping on: $got"
sql primary sp_bureau "SELECT pubdata.audit_summarise()" >/dev/null || fail "audit_summarise"
got=$(sql primary sp_bureau "SELECT segment FROM pubdata.audit_archive(now(), '$WORK/parch', '$sid') ORDER BY segment LIMIT 1") || fail "second archive of s1's chain"
[ -n "$got" ] || fail "nothing more of s1's chain archived"
cp -p "$WORK/parch/$got" "$WORK/$got.good"
printf 'X' | dd of="$WORK/parch/$got" bs=1 seek=30 conv=notrunc status=none
got2=$(sql primary sp_auditor "SELECT ok || ' ' || detail FROM pubdata.verify_audit_archive('$WORK/parch', '$sid')")
case "$got2" in "false "*"differs from its manifest"*) ;; *) fail "a tampered archive verified: $got2";; esac
refused primary sp_bureau "SELECT * FROM pubdata.audit_prune('$WORK/parch', NULL, '$sid')" "differs from its manifest"
[ -f "$sdir/$got" ] || fail "a refused prune removed $got"
cp -p "$WORK/$got.good" "$WORK/parch/$got"
got=$(sql primary sp_bureau "SELECT segments FROM pubdata.audit_prune('$WORK/parch', NULL, '$sid')") || fail "second prune of s1's chain"
[ "$got" -ge 1 ] || fail "second prune of s1's chain removed $got segments"
got=$(sql primary sp_auditor "SELECT ok FROM pubdata.verify_audit_archive('$WORK/parch', '$sid')")
[ "$got" = t ] || fail "s1's archive after the second prune: $(sql primary sp_auditor "SELECT detail FROM pubdata.verify_audit_archive('$WORK/parch', '$sid')")"
ok "8 reads shipped after the prune arrive once and verify; a tampered archived copy is reported and refused, the good copy prunes"

# --- the primary prunes its own record at s1's fork: the fork stays checked --
read_n primary 8
sql primary sp_bureau "SELECT pubdata.audit_summarise()" >/dev/null || fail "audit_summarise"
sql primary sp_bureau "SELECT count(*) FROM pubdata.audit_archive(now(), '$WORK/own')" >/dev/null || fail "archive of the primary's own log"
got=$(sql primary sp_bureau "SELECT last_seq FROM pubdata.audit_prune('$WORK/own')") || fail "prune of the primary's own log"
[ "$got" -gt "$fork" ] || fail "the primary's prune (to $got) did not reach s1's fork at $fork"
got=$(sql primary sp_auditor "SELECT ok || ' ' || detail FROM pubdata.verify_audit_chains() WHERE server = 's1'")
case "$got" in "true "*"it forks from record $fork of this server's chain (archived and pruned there since: checked against its hash kept when it was pruned)"*) ;; *) fail "s1's fork after the primary pruned it: $got";; esac
ok "the primary pruned its own log past s1's fork ($fork): the fork is still checked, against the hash kept at the prune"

# --- both restart without a loss alert ----------------------------------------
: >"$WORK/primary.log"; : >"$WORK/s1.log"
stop_one s1; stop_one primary
pg primary -w start || fail "restart primary"
pg s1 -w start || fail "restart s1"
sleep 1
for c in primary s1; do
	grep -q "incomplete or inconsistent\|audit_loss" "$WORK/$c.log" && fail "$c reported a loss after the shipped prune: $(grep -m2 'incomplete or inconsistent\|audit_loss' "$WORK/$c.log")"
	[ "$(sql "$c" sp_auditor "SELECT count(*) FROM pubdata.audit_events WHERE kind = 'gap'")" = 0 ] || fail "$c wrote a gap record"
done
n=$(sql primary sp_auditor "SELECT count(*) FROM pubdata.access_log WHERE server = 's1' AND command = 'SELECT'")
read_n s1 1
wait_for primary sp_auditor "SELECT count(*) = $((n + 1)) FROM pubdata.access_log WHERE server = 's1' AND command = 'SELECT'" 20 || fail "a read after the restart did not arrive"
got=$(sql primary sp_auditor "SELECT string_agg(server || ':' || ok, ',' ORDER BY this_server DESC, server) FROM pubdata.verify_audit_chains()")
[ "$got" = "primary:true,s1:true" ] || fail "verify_audit_chains after the restart: $(sql primary sp_auditor "SELECT detail FROM pubdata.verify_audit_chains()")"
ok "both restarted after the primary pruned both chains: no loss reported, no gap record, s1 ships on, every chain verifies"

echo "89_audit_standby_prune: a standby prunes its own log up to what its primary counted; the primary archives and prunes the standby's shipped chain"
exit 0
