#!/bin/bash
# Access audit overhead: a pgbench point-select load by a granted department
# on a restricted resource, with pubdata's audit off, on, and against pgaudit
# (object logging of the same table) in the same run, on a private cluster
# with shared_preload_libraries = 'pubdata,pgaudit'.
# Prints tps and the ratios on/off (target >= 0.85) and on/pgaudit (>= 1).
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT.
# BENCH_SECONDS (default 2) per run, BENCH_ROUNDS (default 6) interleaved rounds.
set -uo pipefail
BINDIR=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/bench50
PORT=${PGPORT:-5432}
SECS=${BENCH_SECONDS:-2}
rm -rf "$WORK"; mkdir -p "$WORK/sock"; chown -R postgres: "$WORK"
DATA=$WORK/data
export PGHOST=$WORK/sock PGPORT=$PORT PGUSER=postgres PGDATABASE=bench50
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
trap 'runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1' EXIT

runuser -u postgres -- "$BINDIR/initdb" -D "$DATA" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
cat >>"$DATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata,pgaudit'
unix_socket_directories = '$WORK/sock'
listen_addresses = ''
port = $PORT
max_worker_processes = 16
logging_collector = on
log_directory = 'log'
pgaudit.log = 'none'
pgaudit.log_relation = on
compute_query_id = on
CONF
runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w start >/dev/null || { tail -20 "$WORK/server.log"; exit 1; }
q -d postgres -c "CREATE DATABASE bench50"
q -c "SET client_min_messages = warning; CREATE EXTENSION pubdata CASCADE; CREATE EXTENSION pgaudit"

# set-up: a provider, a user department granted a restricted resource of 100k rows
q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE ROLE bench50_prov LOGIN;
CREATE ROLE bench50_user LOGIN;
CREATE ROLE bench50_pgaudit NOLOGIN;
SELECT pubdata.add_department('bench50_prov', '提供部门', '331100', 'administrative', 'bench50_prov');
SELECT pubdata.add_department('bench50_user', '使用部门', '331100', 'administrative', 'bench50_user');
CREATE SCHEMA bench50 AUTHORIZATION bench50_prov;
GRANT USAGE ON SCHEMA bench50 TO bench50_user;
SET ROLE bench50_prov;
CREATE TABLE bench50.t (id integer PRIMARY KEY, region text NOT NULL, v text NOT NULL);
INSERT INTO bench50.t SELECT i, '331102', md5(i::text) FROM generate_series(1, 100000) i;
SELECT pubdata.register_resource('bench50.t', 'BENCH50-T', '基准数据', 'bench50_prov',
	'restricted', 'not_open', 'daily', 2);
SELECT pubdata.submit_resource('BENCH50-T');
RESET ROLE;
SELECT pubdata.review_resource('BENCH50-T', true), pubdata.publish_resource('BENCH50-T');
SET ROLE bench50_user;
SELECT pubdata.request_share('BENCH50-T', '基准测试', ARRAY['id', 'v']) AS req \gset
SET ROLE bench50_prov;
SELECT pubdata.decide_share(:req, true);
RESET ROLE;
ANALYZE bench50.t;
-- pgaudit object logging of the same reads
GRANT SELECT ON bench50.t TO bench50_pgaudit;
SQL

# the granted department's point select, audited by pubdata's executor hook
BENCHUSER=bench50_user
cat >"$WORK/read.sql" <<'SQL'
\set id random(1, 100000)
SELECT v FROM bench50.t WHERE id = :id;
SQL
chown postgres: "$WORK/read.sql"
check_read=$(q -U "$BENCHUSER" -c "SELECT count(*) FROM bench50.t WHERE id = 1")
[ "$check_read" = 1 ] || { echo "the granted department cannot read: [$check_read]"; exit 1; }

# configure WHICH: off | on | pgaudit
configure() {
	case $1 in
	off)     q -c "ALTER ROLE $BENCHUSER SET pubdata.audit = off" -c "ALTER ROLE $BENCHUSER SET pgaudit.role = ''" ;;
	on)      q -c "ALTER ROLE $BENCHUSER SET pubdata.audit = on" -c "ALTER ROLE $BENCHUSER SET pgaudit.role = ''" ;;
	pgaudit) q -c "ALTER ROLE $BENCHUSER SET pubdata.audit = off" -c "ALTER ROLE $BENCHUSER SET pgaudit.role = 'bench50_pgaudit'" ;;
	esac
}
run() {
	configure "$1"
	"$BINDIR/pgbench" -n -M prepared -c 2 -j 2 -T "$SECS" -U "$BENCHUSER" -f "$WORK/read.sql" bench50 2>&1 \
		| sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}
# Interleaved short runs; the machine is shared, so each configuration's
# figure is the median of its runs (the best run is printed too).
ROUNDS=${BENCH_ROUNDS:-6}
declare -A runs=([off]="" [on]="" [pgaudit]="")
"$BINDIR/pgbench" -n -M prepared -c 2 -j 2 -T 2 -U "$BENCHUSER" -f "$WORK/read.sql" bench50 >/dev/null 2>&1	# warm-up
before=$(q -c "SELECT seq FROM pubdata.audit_chain_head()")
for round in $(seq 1 "$ROUNDS"); do
	for c in off on pgaudit; do
		runs[$c]="${runs[$c]} $(run $c)"
	done
done
stat() {	# stat median|max VALUES...
	local how=$1; shift
	printf '%s\n' "$@" | sort -g | awk -v how="$how" '{ v[NR] = $1 } END { if (how == "max") print v[NR]; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A tps best
for c in off on pgaudit; do
	tps[$c]=$(stat median ${runs[$c]})
	best[$c]=$(stat max ${runs[$c]})
	printf '%-8s tps median %10.0f  best %10.0f  runs:%s\n' "$c" "${tps[$c]}" "${best[$c]}" "${runs[$c]}"
done
after=$(q -c "SELECT seq FROM pubdata.audit_chain_head()")
logged=$(cat "$DATA"/log/*.log | grep -c 'AUDIT: OBJECT')
echo "audit records written: $((after - before)); pgaudit log lines: $logged"
q -c "SELECT 'verify_audit_chain: ' || CASE WHEN ok THEN 'ok' ELSE 'BROKEN ' || detail END || ', ' || records || ' records' FROM pubdata.verify_audit_chain()"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
echo "audit on / off       = $(ratio "${tps[on]}" "${tps[off]}")  (target >= 0.85)"
echo "audit on / pgaudit   = $(ratio "${tps[on]}" "${tps[pgaudit]}")  (target >= 1.00)"
echo "pgaudit / off        = $(ratio "${tps[pgaudit]}" "${tps[off]}")"
echo "(best runs: on/off $(ratio "${best[on]}" "${best[off]}"), on/pgaudit $(ratio "${best[on]}" "${best[pgaudit]}"))"
