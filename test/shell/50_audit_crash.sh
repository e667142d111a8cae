#!/bin/bash
# Access audit durability and tamper evidence, on a private cluster:
#   - clean shutdown keeps every record; kill -9 of a backend right after an
#     audited read, and of the sync worker, keeps the record;
#   - a write cut short (partial line) is removed at startup;
#   - tampering with the segment files as root (edit, delete, insert, reorder,
#     truncate, delete a segment, a consistently re-hashed edit) is reported by
#     verify_audit_chain() with the first broken seq;
#   - the audit works on a hot standby (its own log).
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT.
set -uo pipefail
BINDIR=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/audit50
PORT=${PGPORT:-5432}
rm -rf "$WORK"; mkdir -p "$WORK/sock" "$WORK/sock2"; chown -R postgres: "$WORK"
DATA=$WORK/data
SEGDIR=$DATA/pg_pubdata/audit
export PGHOST=$WORK/sock PGPORT=$PORT PGUSER=postgres PGDATABASE=audit50
fails=0
pg() { runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w "$@" >/dev/null; }
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
check() {	# check NAME EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then echo "ok - $1"; else echo "not ok - $1: expected [$2], got [$3]"; fails=$((fails+1)); fi
}
cleanup() {
	runuser -u postgres -- "$BINDIR/pg_ctl" -D "$WORK/standby" -m immediate -w stop >/dev/null 2>&1
	runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
}
trap cleanup EXIT
wait_ready() { for i in $(seq 1 60); do "$BINDIR/pg_isready" -q -h "$1" -p "$PORT" && q -h "$1" -d audit50 -c "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }
# rewrite a file in place (keeps owner, mode and inode), as root
rewrite() { local f=$1; shift; "$@" "$f" > "$WORK/tmp" && cat "$WORK/tmp" > "$f"; }

runuser -u postgres -- "$BINDIR/initdb" -D "$DATA" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
cat >>"$DATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/sock'
listen_addresses = ''
port = $PORT
max_worker_processes = 16
pubdata.audit_segment_size = 1kB
pubdata.audit_sync_interval = 200ms
restart_after_crash = on
CONF
pg start || { tail -20 "$WORK/server.log"; exit 1; }
q -d postgres -c "CREATE DATABASE audit50"
q -c "SET client_min_messages = warning; CREATE EXTENSION pubdata CASCADE"

# a provider, a user department with a grant on a restricted resource
q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE ROLE audit50_prov LOGIN;
CREATE ROLE audit50_user LOGIN;
SELECT pubdata.add_department('audit50_prov', '提供部门', '331100', 'administrative', 'audit50_prov');
SELECT pubdata.add_department('audit50_user', '使用部门', '331100', 'administrative', 'audit50_user');
CREATE SCHEMA audit50 AUTHORIZATION audit50_prov;
GRANT USAGE ON SCHEMA audit50 TO audit50_user;
SET ROLE audit50_prov;
CREATE TABLE audit50.t (id integer PRIMARY KEY, v text);
INSERT INTO audit50.t SELECT i, md5(i::text) FROM generate_series(1, 10) i;
SELECT pubdata.register_resource('audit50.t', 'AUD50-T', '审计测试', 'audit50_prov', 'restricted', 'not_open', 'daily', 2);
SELECT pubdata.submit_resource('AUD50-T');
RESET ROLE;
SELECT pubdata.review_resource('AUD50-T', true), pubdata.publish_resource('AUD50-T');
SET ROLE audit50_user;
SELECT pubdata.request_share('AUD50-T', '审计测试') AS req \gset
SET ROLE audit50_prov;
SELECT pubdata.decide_share(:req, true);
SQL
# audited_read K [HOST]: the department reads K rows (the record's rows = K)
audited_read() {
	q -h "${2:-$PGHOST}" -U audit50_user -c "SELECT id FROM audit50.t WHERE id <= $1" >/dev/null
}
MARK=0
mark() { MARK=$(q -c "SELECT seq FROM pubdata.audit_chain_head()"); }
# count K [HOST]: records of K-row reads by the department since the mark
count() { q -h "${2:-$PGHOST}" -c "SELECT count(*) FROM pubdata.access_log WHERE seq > $MARK AND rows = $1 AND role_name = 'audit50_user' AND command = 'SELECT'"; }
verify() { q -h "${1:-$PGHOST}" -c "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || coalesce(first_broken_seq::text, '') FROM pubdata.verify_audit_chain()"; }

# 1. records across several segments, clean shutdown keeps all
mark
for i in $(seq 1 30); do audited_read 1; done
# a department cannot switch the audit off at connection time either
out=$(PGOPTIONS='-c pubdata.audit=off' psql -qXAt -U audit50_user -c "SELECT 1" 2>&1)
check "PGOPTIONS cannot switch the audit off" "yes" "$(grep -q 'permission denied to set parameter "pubdata.audit"' <<<"$out" && echo yes)"
check "segments rotated" "yes" "$([ "$(ls "$SEGDIR"/*.log | wc -l)" -ge 3 ] && echo yes)"
pg stop -m fast; pg start
check "clean shutdown keeps all 30" 30 "$(count 1)"
check "chain verifies after restart" "t|" "$(verify)"
# an independent verifier (the file format in the README) agrees with the server
if command -v python3 >/dev/null; then
	check "independent recomputation of the chain" "ok $((MARK + 30))" "$(python3 - "$SEGDIR" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
prev, expect = bytes(32), 1
for name in sorted(n for n in os.listdir(d) if n.endswith('.log')):
    for line in open(os.path.join(d, name), 'rb').read().split(b'\n')[:-1]:
        prefix, h = line.rsplit(b'\t', 1)
        seq = int(line.split(b'\t', 1)[0])
        if seq != expect or hashlib.sha256(prev + prefix + b'\t').hexdigest().encode() != h:
            print('broken at', expect); sys.exit()
        prev, expect = bytes.fromhex(h.decode()), expect + 1
print('ok', expect - 1)
PY
)"
fi
check "head recovered at startup" "$((MARK + 30))" "$(q -c "SELECT seq FROM pubdata.audit_chain_head()")"

# 2. kill -9 of a backend right after an audited read
mark
psql -qXAt -U audit50_user -c "SELECT id FROM audit50.t WHERE id <= 4" \
	-c "SET application_name = 'audit50_victim'" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
for i in $(seq 1 40); do
	VPID=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'audit50_victim'")
	[ -n "$VPID" ] && break; sleep 0.25
done
kill -9 "$VPID"; wait
sleep 1; wait_ready "$PGHOST" || { echo "server did not come back"; tail -20 "$WORK/server.log"; exit 1; }
check "record survives kill -9 of its backend" 1 "$(count 4)"
check "chain verifies after crash restart" "t|" "$(verify)"

# 3. kill -9 of the sync worker right after a read
mark; audited_read 3
sync_pid() { pgrep -P "$(head -1 "$DATA/postmaster.pid")" -f 'pubdata audit sync'; }
WPID=$(sync_pid)
check "sync worker running" yes "$([ -n "$WPID" ] && echo yes)"
kill -9 "$WPID"
sleep 1; wait_ready "$PGHOST" || { echo "server did not come back"; exit 1; }
check "record survives kill -9 of the sync worker" 1 "$(count 3)"
sleep 1.5
check "sync worker restarted" 1 "$(sync_pid | wc -l)"
check "records synced by the worker" "t" "$(q -c "SELECT synced_seq = seq FROM pubdata.audit_chain_head()")"

# 4. a write cut short by a crash: the fragment is removed at startup
pg stop -m fast
LAST=$(ls "$SEGDIR"/*.log | tail -1)
printf '99\t123\tfragment' >> "$LAST"
pg start
check "incomplete tail removed with a warning" 1 "$(grep -c 'removed an incomplete audit record' "$WORK/server.log")"
check "chain verifies after fragment removal" "t|" "$(verify)"

# 5. tampering as root (the server keeps running)
HEAD=$(q -c "SELECT seq FROM pubdata.audit_chain_head()")
SEG=$(ls "$SEGDIR"/*.log | sed -n 2p)	# the second segment
cp -p "$SEG" "$WORK/seg.orig"
S3=$(sed -n 3p "$SEG" | cut -f1)		# seq of its third record
S2=$(sed -n 2p "$SEG" | cut -f1)
restore() { cat "$WORK/seg.orig" > "$SEG"; }
rewrite "$SEG" sed '3s/\taudit50_user\t/\tsomeone_else\t/'
check "edited record reported" "f|$S3" "$(verify)"
restore; check "restored chain verifies" "t|" "$(verify)"
rewrite "$SEG" sed '3d'
check "deleted record reported" "f|$S3" "$(verify)"
restore; rewrite "$SEG" sed '2{h;d};3G'
check "reordered records reported" "f|$S2" "$(verify)"
restore; rewrite "$SEG" sed '2p'
check "duplicated (inserted) record reported" "f|$S3" "$(verify)"
restore
LAST=$(ls "$SEGDIR"/*.log | tail -1); cp -p "$LAST" "$WORK/last.orig"
NL=$(wc -l < "$LAST")
if [ "$NL" -ge 2 ]; then
	rewrite "$LAST" sed '$d'
	check "truncated tail reported" "f|$HEAD" "$(verify)"
	cat "$WORK/last.orig" > "$LAST"
fi
mv "$LAST" "$WORK/lastseg"
FIRST_OF_LAST=$((10#$(basename "$LAST" .log)))
check "deleted last segment reported" "f|$FIRST_OF_LAST" "$(verify)"
mv "$WORK/lastseg" "$LAST"; chown postgres: "$LAST"
check "chain verifies again" "t|" "$(verify)"
# a superuser who rewrites the last record and recomputes its hash: the chain
# is self-consistent, but differs from the head held in shared memory
if command -v python3 >/dev/null; then
	PREV=$(q -c "SELECT hash FROM pubdata.access_log WHERE seq = $HEAD - 1")
	python3 - "$LAST" "$PREV" <<'PY'
import hashlib, sys
f = sys.argv[1]
prev = bytes.fromhex(sys.argv[2])
lines = open(f, 'rb').read().split(b'\n')[:-1]
prefix = lines[-1].rsplit(b'\t', 1)[0] + b'\t'
prefix = prefix.replace(b'\taudit50_user\t', b'\tforged_role\t')
lines[-1] = prefix + hashlib.sha256(prev + prefix).hexdigest().encode()
with open(f, 'r+b') as out:
    out.truncate(0); out.write(b'\n'.join(lines) + b'\n')
PY
	check "consistent rewrite of the tail detected against the head" "f|$HEAD" "$(verify)"
	cat "$WORK/last.orig" > "$LAST"
fi
check "chain verifies after restore" "t|" "$(verify)"

# 5b. incremental verification: the prefix a full check remembered, then
# only the new records; edits after the prefix are found, a damaged or
# forged prefix is reported
incr() { q -c "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || coalesce(first_broken_seq::text, '') || '|' || records FROM pubdata.verify_audit_chain_incremental()"; }
synced() { for i in $(seq 1 100); do [ "$(q -c "SELECT synced_seq = seq FROM pubdata.audit_chain_head()")" = t ] && return 0; sleep 0.05; done; }
synced; verify >/dev/null
check "nothing new since the full check" "t||0" "$(incr)"
audited_read 1; audited_read 2; audited_read 3; synced
check "incremental check goes through the 3 new records" "t||3" "$(incr)"
audited_read 4; audited_read 5; synced
NEWSEQ=$(q -c "SELECT seq FROM pubdata.audit_chain_head()")
LAST=$(ls "$SEGDIR"/*.log | tail -1); cp -p "$LAST" "$WORK/last.orig"
rewrite "$LAST" sed "s/^\($NEWSEQ\t[^\t]*\t[^\t]*\t\)audit50_user/\1forged_role/"
check "an edited new record is found by the incremental check" "f|$NEWSEQ|2" "$(incr)"
cat "$WORK/last.orig" > "$LAST"
check "incremental check after the restore" "t||2" "$(incr)"
# an edit before the prefix: only the full verification sees it (README)
FIRSTSEG=$(ls "$SEGDIR"/*.log | head -1); cp -p "$FIRSTSEG" "$WORK/first.orig"
rewrite "$FIRSTSEG" sed "1s/\taudit50_user\t/\tforged_role\t/"
check "an edit inside the verified prefix passes the incremental check" "t||0" "$(incr)"
check "... and the full verification reports it" "f|$((10#$(basename "$FIRSTSEG" .log)))" "$(verify)"
cat "$WORK/first.orig" > "$FIRSTSEG"
cp -p "$SEGDIR/verified" "$WORK/verified.orig"
printf 'garbage' | dd of="$SEGDIR/verified" bs=1 seek=20 conv=notrunc 2>/dev/null
check "a damaged prefix file fails the incremental check" "f|0|$NEWSEQ" "$(incr)"
check "a full verification replaces it" "t|" "$(verify)"
check "incremental check from the new prefix" "t||0" "$(incr)"
# the record that ends the prefix, edited (its hash field kept): its link is
# recomputed from the hash before it, remembered with the prefix
PSEQ=$NEWSEQ
cp -p "$LAST" "$WORK/last.orig"
rewrite "$LAST" sed "s/^\($PSEQ\t[^\t]*\t[^\t]*\t\)audit50_user/\1forged_role/"
check "an edit of the prefix's last record fails the incremental check" "f|$PSEQ|$NEWSEQ" "$(incr)"
cat "$WORK/last.orig" > "$LAST"
cat "$WORK/verified.orig" > "$SEGDIR/verified"
check "chain verifies after the incremental checks" "t|" "$(verify)"
HEAD=$(q -c "SELECT seq FROM pubdata.audit_chain_head()"); LAST=$(ls "$SEGDIR"/*.log | tail -1)

# 6. records removed while the server is down: the state file keeps the head
pg stop -m fast
rewrite "$LAST" sed '$d'
pg start
check "startup warns about the missing tail" 1 "$(grep -c 'state file records' "$WORK/server.log")"
check "missing tail reported after restart" "f|$HEAD" "$(verify)"
mark; audited_read 2
check "reads are still recorded after the gap" 1 "$(count 2)"
check "gap stays visible in the chain" "f|$HEAD" "$(verify)"

# 7. hot standby: audited reads on a replica go to the replica's own log
runuser -u postgres -- "$BINDIR/pg_basebackup" -h "$PGHOST" -p "$PORT" -D "$WORK/standby" -R -X stream >/dev/null 2>&1 \
	|| { echo "pg_basebackup failed"; exit 1; }
sed -i "s|^unix_socket_directories.*|unix_socket_directories = '$WORK/sock2'|" "$WORK/standby/postgresql.conf"
runuser -u postgres -- "$BINDIR/pg_ctl" -D "$WORK/standby" -l "$WORK/standby.log" -w start >/dev/null || { tail -20 "$WORK/standby.log"; exit 1; }
wait_ready "$WORK/sock2"
check "standby is in recovery" "t" "$(q -h "$WORK/sock2" -c "SELECT pg_is_in_recovery()")"
MARK=0
audited_read 5 "$WORK/sock2"
check "standby records the read" 1 "$(count 5 "$WORK/sock2")"
check "primary does not have it" 0 "$(count 5)"
check "standby verifies its chain (the gap inherited from the primary included)" "f|$HEAD" "$(verify "$WORK/sock2")"

echo "audit crash/tamper test: $fails failure(s)"
[ $fails -eq 0 ]
