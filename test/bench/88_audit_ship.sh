#!/bin/bash
# Delay of a shipped audit record under the audit benchmark's load (issue
# 13): a primary and a standby of their own; on the standby, pgbench point
# selects by a granted department on a restricted 100k-row resource (the
# load of test/bench/50_audit.sh), every one an audit record shipped to the
# primary.  Prints, while the load runs, how old the newest record the
# primary holds of the standby is (sampled every 0.2 s: the delay of a read
# reaching the primary), the time to catch up after the load, and the
# standby's tps with shipping on and off in interleaved rounds (the ratio
# is what shipping costs the reads).
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT.
# BENCH88_SECONDS (default 20) of load for the delay; BENCH_ROUNDS (6) x BENCH_SECONDS (2) for tps.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/bench88
PPORT=$((PGPORT + 44)); SPORT=$((PGPORT + 45))
LOAD=${BENCH88_SECONDS:-20}
SECS=${BENCH_SECONDS:-2}
ROUNDS=${BENCH_ROUNDS:-6}
rm -rf "$WORK"; mkdir -p "$WORK/primary" "$WORK/standby"; chown -R postgres: "$WORK"; chmod 700 "$WORK/primary" "$WORK/standby"
stop() { [ -f "$WORK/$1/data/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$1/data" -m immediate -w stop >/dev/null 2>&1; }
trap 'stop standby; stop primary; rm -rf "$WORK"' EXIT
pq() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/primary" -p $PPORT -U postgres -d b88 "$@"; }
sq() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/standby" -p $SPORT -U postgres -d b88 "$@"; }

runuser -u postgres -- "$BIN/initdb" -D "$WORK/primary/data" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 || exit 1
cat >>"$WORK/primary/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/primary'
listen_addresses = ''
port = $PPORT
max_worker_processes = 16
compute_query_id = on
pubdata.database = 'b88'
pubdata.server_name = 'primary'
CONF
runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/primary/data" -l "$WORK/primary.log" -w start >/dev/null || exit 1
"$BIN/psql" -X -q -h "$WORK/primary" -p $PPORT -U postgres -d postgres -c "CREATE DATABASE b88" || exit 1
pq >/dev/null <<'SQL' || exit 1
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE b88_prov LOGIN;
CREATE ROLE b88_user LOGIN;
CREATE ROLE b88_standby LOGIN REPLICATION IN ROLE pubdata_standby;
SELECT pubdata.add_department('b88_prov', '提供部门', '331100', 'administrative', 'b88_prov');
SELECT pubdata.add_department('b88_user', '使用部门', '331100', 'administrative', 'b88_user');
CREATE SCHEMA b88 AUTHORIZATION b88_prov;
SET ROLE b88_prov;
CREATE TABLE b88.t (id integer PRIMARY KEY, region text NOT NULL, v text NOT NULL);
INSERT INTO b88.t SELECT i, '331102', md5(i::text) FROM generate_series(1, 100000) i;
SELECT pubdata.register_resource('b88.t', 'BENCH88-T', '基准数据', 'b88_prov', 'restricted', 'not_open', 'daily', 2);
SELECT pubdata.submit_resource('BENCH88-T');
RESET ROLE;
SELECT pubdata.review_resource('BENCH88-T', true), pubdata.publish_resource('BENCH88-T');
SET ROLE b88_user;
SELECT pubdata.request_share('BENCH88-T', '基准测试', ARRAY['id', 'v']) AS req \gset
SET ROLE b88_prov;
SELECT pubdata.decide_share(:req, true);
RESET ROLE;
ANALYZE b88.t;
SQL
runuser -u postgres -- "$BIN/pg_basebackup" -h "$WORK/primary" -p $PPORT -U b88_standby -D "$WORK/standby/data" -R -X stream -c fast >/dev/null 2>&1 || exit 1
cat >>"$WORK/standby/data/postgresql.auto.conf" <<CONF
port = $SPORT
unix_socket_directories = '$WORK/standby'
hot_standby = on
pubdata.server_name = 'standby'
CONF
runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/standby/data" -l "$WORK/standby.log" -w start >/dev/null || exit 1
for i in $(seq 1 50); do [ "$(sq -c "SELECT count(*) FROM b88.t" 2>/dev/null)" = 100000 ] && break; sleep 0.2; done

cat >"$WORK/read.sql" <<'SQL'
\set id random(1, 100000)
SELECT v FROM b88.t WHERE id = :id;
SQL
chown postgres: "$WORK/read.sql"
bench() { "$BIN/pgbench" -n -M prepared -c 2 -j 2 -T "$1" -h "$WORK/standby" -p $SPORT -U b88_user -f "$WORK/read.sql" b88 2>&1 \
	| sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1; }

# the delay while the load runs
bench "$LOAD" >"$WORK/load.tps" &
B=$!
: >"$WORK/delay"
sleep 1
while kill -0 $B 2>/dev/null; do
	pq -c "SELECT extract(epoch FROM clock_timestamp() - last_at) FROM pubdata.audit_servers() WHERE name = 'standby' AND last_at IS NOT NULL" >>"$WORK/delay" 2>/dev/null
	sleep 0.2
done
wait $B
t0=$(date +%s.%N)
head=$(sq -c "SELECT seq FROM pubdata.audit_chain_head()")
for i in $(seq 1 600); do
	[ "$(pq -c "SELECT last_seq FROM pubdata.audit_servers() WHERE name = 'standby'")" = "$head" ] && break
	sleep 0.05
done
t1=$(date +%s.%N)
fork=$(sq -c "SELECT fork_seq FROM pubdata.audit_servers() WHERE this_server")
echo "load: $(cat "$WORK/load.tps") tps on the standby for ${LOAD} s, $((head - fork)) audit records shipped"
sort -g "$WORK/delay" | awk '{ v[NR] = $1 * 1000 } END { printf "delay of the newest shipped record at the primary: median %.0f ms, p90 %.0f ms, max %.0f ms (%d samples)\n", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR], NR }'
printf 'caught up %.2f s after the load stopped\n' "$(echo "$t1 - $t0" | bc)"
pq -c "SELECT 'verify_audit_chains: ' || string_agg(server || ' ' || CASE WHEN ok THEN 'ok' ELSE 'BROKEN' END || ' ' || records, ', ') FROM pubdata.verify_audit_chains()"

# what shipping costs the standby's reads: on / off, interleaved
declare -A runs=([on]="" [off]="")
for round in $(seq 1 "$ROUNDS"); do
	for c in on off; do
		sq -c "ALTER SYSTEM SET pubdata.audit_ship = $c" -c "SELECT pg_reload_conf()" >/dev/null
		sleep 0.5
		runs[$c]="${runs[$c]} $(bench "$SECS")"
	done
done
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
on=$(med ${runs[on]}); off=$(med ${runs[off]})
echo "standby tps, shipping on: median $on (runs:${runs[on]}); off: median $off (runs:${runs[off]})"
awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "shipping on / off = %.3f\n", a / b }'
