#!/bin/bash
# Archiving the access audit (issue 13), on a private cluster with 1 kB
# segments: pubdata.audit_archive() copies the closed segments with a
# manifest, pubdata.verify_audit_archive() checks the archive and its link to
# the live chain, pubdata.audit_prune() removes what was archived; the live
# chain still verifies (full and incremental), a second archive run continues
# the directory, a restart reports no loss, the usage figures stay whole.
# Failure paths: prune before the summaries counted the records, an archived
# copy altered (the archive check fails, prune refuses), a segment deleted
# behind a forged prefix file (verification fails: no prune record states it),
# the pruned prefix file removed (a loss at start, verification fails).
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT; runs as root.
set -uo pipefail
BINDIR=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/audit54
PORT=$((PGPORT + 50))
rm -rf "$WORK"; mkdir -p "$WORK/sock" "$WORK/archive"; chown -R postgres: "$WORK"
DATA=$WORK/data
SEGDIR=$DATA/pg_pubdata/audit
ARCH=$WORK/archive
export PGHOST=$WORK/sock PGPORT=$PORT PGUSER=postgres PGDATABASE=audit54
fails=0
pg() { runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w "$@" >/dev/null; }
q() { "$BINDIR/psql" -qXAt -v ON_ERROR_STOP=1 "$@"; }
check() {	# check NAME EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then echo "ok - $1"; else echo "not ok - $1: expected [$2], got [$3]"; fails=$((fails+1)); fi
}
cleanup() { runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1; }
trap cleanup EXIT

runuser -u postgres -- "$BINDIR/initdb" -D "$DATA" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
cat >>"$DATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/sock'
listen_addresses = ''
port = $PORT
max_worker_processes = 16
fsync = off
pubdata.database = 'audit54'
pubdata.audit_segment_size = 1kB
pubdata.audit_sync_interval = 200ms
CONF
pg start || { tail -20 "$WORK/server.log"; exit 1; }
q -d postgres -c "CREATE DATABASE audit54"
q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE a54_prov LOGIN;
CREATE ROLE a54_user LOGIN;
CREATE ROLE a54_bureau LOGIN IN ROLE pubdata_admin, pg_write_server_files;
CREATE ROLE a54_auditor LOGIN IN ROLE pubdata_auditor, pg_read_server_files;
SELECT pubdata.add_department('A54P', '提供部门', '331100', 'administrative', 'a54_prov');
SELECT pubdata.add_department('A54U', '使用部门', '331100', 'administrative', 'a54_user');
CREATE SCHEMA a54 AUTHORIZATION a54_prov;
GRANT USAGE ON SCHEMA a54 TO a54_user;
SET ROLE a54_prov;
CREATE TABLE a54.t (id integer PRIMARY KEY, v text);
INSERT INTO a54.t SELECT i, md5(i::text) FROM generate_series(1, 10) i;
SELECT pubdata.register_resource('a54.t', 'A54-T', '归档测试', 'A54P', 'restricted', 'not_open', 'daily', 2);
SELECT pubdata.submit_resource('A54-T');
RESET ROLE;
SELECT pubdata.review_resource('A54-T', true), pubdata.publish_resource('A54-T');
SET ROLE a54_user;
SELECT pubdata.request_share('A54-T', '归档测试') AS req \gset
SET ROLE a54_prov;
SELECT pubdata.decide_share(:req, true);
SQL
reads() { local i; for ((i = 0; i < $1; i++)); do q -U a54_user -c "SELECT id FROM a54.t WHERE id <= 2" >/dev/null; done; }
as() { local r=$1; shift; q -c "SET ROLE $r; $*"; }
verify() { as a54_auditor "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || coalesce(first_broken_seq::text, '') FROM pubdata.verify_audit_chain()"; }
verify_inc() { as a54_auditor "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || coalesce(first_broken_seq::text, '') FROM pubdata.verify_audit_chain_incremental()"; }
varch() { as a54_auditor "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || coalesce(first_broken_seq::text, '') FROM pubdata.verify_audit_archive('$ARCH')"; }
usage() { as a54_auditor "SELECT statements FROM pubdata.usage_stats WHERE department = 'A54U'"; }
nsegs() { ls "$SEGDIR"/*.log | wc -l; }

reads 30
check "records in several segments" yes "$([ "$(nsegs)" -ge 4 ] && echo yes)"
check "the chain verifies before archiving" "t|" "$(verify)"
segs_before=$(nsegs)

# --- archive: every closed segment, the current one never --------------------
out=$(as a54_auditor "SELECT count(*) FROM pubdata.audit_archive(now(), '$ARCH')" 2>&1)
check "the auditor without pg_write_server_files may not archive" yes "$(grep -q 'permission denied for pubdata.audit_archive()' <<<"$out" && echo yes)"
got=$(as a54_bureau "SELECT count(*) FROM pubdata.audit_archive(now(), '$ARCH')")
check "audit_archive copies every closed segment" "$((segs_before - 1))" "$got"
check "a manifest" 1 "$(ls "$ARCH"/audit-*.manifest | wc -l)"
cur=$(ls "$SEGDIR"/*.log | tail -1)
check "the current segment is not archived" no "$([ -f "$ARCH/$(basename "$cur")" ] && echo yes || echo no)"
ok_copies=yes
for f in "$ARCH"/*.log; do cmp -s "$f" "$SEGDIR/$(basename "$f")" || ok_copies=no; done
check "the archived segments are the live files byte for byte" yes "$ok_copies"
check "the archive verifies on its own and links to the live log" "t|" "$(varch)"
as a54_auditor "SELECT detail FROM pubdata.verify_audit_archive('$ARCH')" | grep -q "the live log still holds record" || { echo "not ok - archive detail: $(as a54_auditor "SELECT detail FROM pubdata.verify_audit_archive('$ARCH')")"; fails=$((fails+1)); }
check "an archived event record states it" 1 "$(as a54_auditor "SELECT count(*) FROM pubdata.audit_events WHERE kind = 'archived' AND command = 'ARCHIVE' AND role_name = 'a54_bureau'")"
check "archiving again copies nothing more" 0 "$(as a54_bureau "SET client_min_messages = warning; SELECT count(*) FROM pubdata.audit_archive(now() - interval '1 hour', '$ARCH')")"

# --- prune: refused while the summaries lack the records ---------------------
as a54_bureau "SELECT pubdata.audit_summarise()" >/dev/null
usage_full=$(usage)
segs_now=$(nsegs)
out=$(q -c "BEGIN; DELETE FROM pubdata.audit_usage_day; UPDATE pubdata.audit_usage_state SET summarised_seq = 0; SET ROLE a54_bureau; SELECT * FROM pubdata.audit_prune('$ARCH'); ROLLBACK" 2>&1)
check "prune refused before the summaries count the records" yes "$(grep -q 'are not in the usage summaries yet' <<<"$out" && echo yes)"
check "nothing pruned by the refusal" "$segs_now" "$(nsegs)"
out=$(as a54_auditor "SELECT * FROM pubdata.audit_prune('$ARCH')" 2>&1)
check "the auditor may not prune" yes "$(grep -q 'permission denied for function audit_prune' <<<"$out" && echo yes)"

# an archived copy altered: the archive check fails, prune refuses
first=$(ls "$ARCH"/*.log | head -1)
cp "$first" "$WORK/first.bak"
sed -i '1s/\tSELECT\t/\tSELECT \t/' "$first"
check "an altered archived segment fails the archive check" "f|1" "$(varch)"
as a54_auditor "SELECT detail FROM pubdata.verify_audit_archive('$ARCH')" | grep -q "differs from its manifest" || { echo "not ok - detail of the altered archive"; fails=$((fails+1)); }
out=$(as a54_bureau "SELECT * FROM pubdata.audit_prune('$ARCH')" 2>&1)
check "prune refuses an altered archived copy" yes "$(grep -q 'differs from its manifest' <<<"$out" && echo yes)"
check "nothing pruned" "$segs_now" "$(nsegs)"
cp "$WORK/first.bak" "$first"
check "the restored archive verifies" "t|" "$(varch)"

# --- prune: the archived segments leave the live log ---------------------------
head_before=$(q -c "SELECT seq FROM pubdata.audit_chain_head()")
got=$(as a54_bureau "SELECT segments || '|' || first_seq FROM pubdata.audit_prune('$ARCH')")
check "audit_prune removes every archived segment" "$((segs_before - 1))|1" "$got"
left=0; for f in "$SEGDIR"/*.log; do [ -f "$ARCH/$(basename "$f")" ] && left=$((left + 1)); done
check "no archived segment left in the live log" 0 "$left"
check "the live chain verifies after the prune" "t|" "$(verify)"
as a54_auditor "SELECT detail FROM pubdata.verify_audit_chain()" | grep -q "were archived and pruned" || { echo "not ok - verify detail: $(as a54_auditor "SELECT detail FROM pubdata.verify_audit_chain()")"; fails=$((fails+1)); }
check "the incremental verification too" "t|" "$(verify_inc)"
check "the archive links to the live chain's pruned prefix" "t|" "$(varch)"
as a54_auditor "SELECT detail FROM pubdata.verify_audit_archive('$ARCH')" | grep -q "linked to the live chain: the live log begins after record" || { echo "not ok - archive link detail"; fails=$((fails+1)); }
check "access_log reads only the live records" yes "$([ "$(as a54_auditor "SELECT min(seq) FROM pubdata.access_log")" -gt 1 ] && echo yes)"
check "usage_stats still counts every read (from the summaries)" "$usage_full" "$(usage)"
check "a prune record in the chain" 1 "$(as a54_auditor "SELECT count(*) FROM pubdata.audit_events WHERE kind = 'pruned'")"

# --- more reads, a second run into the same directory, a second prune ----------
reads 20
check "second archive run" yes "$([ "$(as a54_bureau "SELECT count(*) FROM pubdata.audit_archive(now(), '$ARCH')")" -ge 2 ] && echo yes)"
check "two manifests" 2 "$(ls "$ARCH"/audit-*.manifest | wc -l)"
check "the archive (two manifests) verifies" "t|" "$(varch)"
as a54_bureau "SELECT pubdata.audit_summarise()" >/dev/null
check "second prune" yes "$([ "$(as a54_bureau "SELECT segments FROM pubdata.audit_prune('$ARCH')")" -ge 2 ] && echo yes)"
check "the live chain verifies after two prunes" "t|" "$(verify)"
check "the archive verifies after two prunes" "t|" "$(varch)"
# an independent check: archive and live log are one chain (README's format)
check "independent recomputation across archive and live log" ok "$(python3 - "$ARCH" "$SEGDIR" <<'PY'
import hashlib, os, sys
prev, expect = bytes(32), 1
files = sorted((n, os.path.join(d, n)) for d in sys.argv[1:] for n in os.listdir(d) if n.endswith('.log'))
seen = set()
for name, path in files:
    if name in seen: continue
    seen.add(name)
    for line in open(path, 'rb').read().split(b'\n')[:-1]:
        prefix, h = line.rsplit(b'\t', 1)
        seq = int(line.split(b'\t', 1)[0])
        if seq != expect or hashlib.sha256(prev + prefix + b'\t').hexdigest().encode() != h:
            print('broken at', expect); sys.exit()
        prev, expect = bytes.fromhex(h.decode()), expect + 1
print('ok')
PY
)"

# --- restart: the pruned segments are no loss --------------------------------
head=$(q -c "SELECT seq FROM pubdata.audit_chain_head()")
pg stop -m fast; pg start || { tail -20 "$WORK/server.log"; exit 1; }
check "no loss warning at start" 0 "$(grep -c 'incomplete or inconsistent' "$WORK/server.log")"
sleep 2
check "no audit_loss alert" 0 "$(as a54_auditor "SELECT count(*) FROM pubdata.audit_alerts")"
check "no gap record" 0 "$(as a54_auditor "SELECT count(*) FROM pubdata.audit_events WHERE kind = 'gap'")"
reads 1
check "the chain goes on after the head" yes "$([ "$(q -c "SELECT seq FROM pubdata.audit_chain_head()")" -gt "$head" ] && echo yes)"
check "the live chain verifies after the restart" "t|" "$(verify)"

# --- segments deleted by hand behind a forged pruned prefix --------------------
# the oldest live segment removed and the prefix file rewritten (with a right
# CRC) to end at its last record: the startup checks find the segments follow
# the prefix, but no prune record in the chain states it
pg stop -m fast
cp -a "$SEGDIR" "$WORK/audit.bak"
oldest=$(ls "$SEGDIR"/*.log | head -1)
python3 - "$SEGDIR" "$oldest" <<'PY'
import os, struct, sys
d, seg = sys.argv[1], sys.argv[2]
last = open(seg, 'rb').read().split(b'\n')[-2].split(b'\t')
seq, at, h = int(last[0]), int(last[1]), bytes.fromhex(last[-1].decode())
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
body = struct.pack('<IIQ32sqq', 0x50445052, 1, seq, h, at, at)
open(os.path.join(d, 'pruned'), 'wb').write(body + struct.pack('<I', crc32c(body)) + bytes(4))
os.remove(seg)
PY
chown -R postgres: "$SEGDIR"
pg start || { tail -20 "$WORK/server.log"; exit 1; }
v=$(verify)
check "a forged pruned prefix fails verification" f "${v%%|*}"
as a54_auditor "SELECT detail FROM pubdata.verify_audit_chain()" | grep -q "no prune record in the chain states it\|the newest prune record in the chain states another" \
	|| { echo "not ok - forged prefix detail: $(as a54_auditor "SELECT detail FROM pubdata.verify_audit_chain()")"; fails=$((fails+1)); }
pg stop -m fast
rm -rf "$SEGDIR"; cp -a "$WORK/audit.bak" "$SEGDIR"; chown -R postgres: "$SEGDIR"
pg start || { tail -20 "$WORK/server.log"; exit 1; }
check "the live chain restored verifies again" "t|" "$(verify)"

# --- the pruned prefix removed: a loss ----------------------------------------
pg stop -m fast
rm -f "$SEGDIR/pruned"
pg start || { tail -20 "$WORK/server.log"; exit 1; }
check "the removed pruned prefix is a loss at start" yes "$(grep -q 'incomplete or inconsistent.*records 1 to' "$WORK/server.log" && echo yes)"
check "verification fails at record 1" "f|1" "$(verify)"

[ "$fails" -eq 0 ] && echo "54_audit_archive: archive, prune and verification across the cut" || echo "54_audit_archive: $fails FAILED"
exit "$fails"
