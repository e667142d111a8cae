#!/bin/bash
# The access audit at volume (issue 18): a log of BENCH18_RECORDS synthetic
# records (default 3,000,000; the issue's figure is 10,000,000, which takes
# about three times as long to build) written through the real write path by
# pubdata._audit_bench_fill over 30 days, 50 resources and 20 departments,
# on a private cluster.  Measured against the full scan in the same run:
#   - a one-day window (1/30 of the records) by resource and department:
#     pubdata.audit_records() vs access_log WHERE ...       (target <= 1 s)
#   - usage_stats from the per-day summaries plus the tail vs the same
#     aggregate over access_log                              (target <= 1 s)
#   - verify_audit_chain_incremental() of the last day's records vs
#     verify_audit_chain()                                   (target <= 2 s)
# Each fast figure is printed with the full-scan figure and their ratio.
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT.
set -uo pipefail
BINDIR=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/bench18
PORT=${PGPORT:-5432}
N=${BENCH18_RECORDS:-3000000}
rm -rf "$WORK"; mkdir -p "$WORK/sock"; chown -R postgres: "$WORK"
DATA=$WORK/data
export PGHOST=$WORK/sock PGPORT=$PORT PGUSER=postgres PGDATABASE=bench18
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
trap 'runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1' EXIT

runuser -u postgres -- "$BINDIR/initdb" -D "$DATA" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
cat >>"$DATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/sock'
listen_addresses = ''
port = $PORT
timezone = 'Asia/Shanghai'
max_worker_processes = 16
work_mem = '64MB'
pubdata.database = 'none'
CONF
runuser -u postgres -- "$BINDIR/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w start >/dev/null || { tail -20 "$WORK/server.log"; exit 1; }
q -d postgres -c "CREATE DATABASE bench18"
q -c "SET client_min_messages = warning; CREATE EXTENSION pubdata CASCADE"

# seconds a statement takes (client-side, wall clock)
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	q -c "$1" >/dev/null || { echo "failed: $1"; exit 1; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "n/a" }'; }

# the log: all but the last 1/30 over 30 days, verified; then the last day
last=$((N / 30))
t=$(secs "SELECT pubdata._audit_bench_fill($((N - last)), 30, 50, 20)")
echo "filled $((N - last)) records over 30 days in ${t}s"
t_full_verify=$(secs "SELECT 1 FROM pubdata.verify_audit_chain() WHERE ok")
q -c "SELECT pubdata.audit_summarise()" >/dev/null
t=$(secs "SELECT pubdata._audit_bench_fill($last, 1, 50, 20)")
echo "filled $last more records (the last day) in ${t}s"
segs=$(ls "$DATA/pg_pubdata/audit" | grep -c '\.log$')
size=$(du -sm "$DATA/pg_pubdata/audit" | cut -f1)
echo "log: $N records, $segs segments, ${size} MB"

# a one-day window two days ago, by resource and department
win="now() - interval '2 days', now() - interval '1 day'"
fast_n=$(q -c "SELECT count(*) FROM pubdata.audit_records($win, 'BENCH-R7', 'BENCH-D3')")
full_n=$(q -c "SELECT count(*) FROM pubdata.access_log WHERE at >= now() - interval '2 days' AND at < now() - interval '1 day' AND resource = 'BENCH-R7' AND department = 'BENCH-D3'")
day_n=$(q -c "SELECT count(*) FROM pubdata.audit_records($win)")
[ "$fast_n" = "$full_n" ] || { echo "the window differs: audit_records $fast_n rows, access_log $full_n rows"; exit 1; }
t_win=$(secs "SELECT count(*) FROM pubdata.audit_records($win, 'BENCH-R7', 'BENCH-D3')")
t_win_full=$(secs "SELECT count(*) FROM pubdata.access_log WHERE at >= now() - interval '2 days' AND at < now() - interval '1 day' AND resource = 'BENCH-R7' AND department = 'BENCH-D3'")
t_day=$(secs "SELECT count(*) FROM pubdata.audit_records($win)")

# usage_stats: summaries (all but the last day) plus the tail, against the full aggregate
old_usage="SELECT l.department, l.resource, count(*), sum(l.rows), count(DISTINCT l.role_name), count(DISTINCT l.grant_id), min(l.at), max(l.at) FROM pubdata.access_log l GROUP BY 1, 2"
cmp=$(q -c "SELECT count(*) FROM (($old_usage) EXCEPT (SELECT department, resource, statements, rows, roles, grants, first_at, last_at FROM pubdata.usage_stats)) x")
[ "$cmp" = 0 ] || { echo "usage_stats differs from the full aggregate ($cmp rows)"; exit 1; }
t_usage=$(secs "SELECT * FROM pubdata.usage_stats")
t_usage_full=$(secs "$old_usage")
# as the launcher keeps them: summarised up to a minute ago, a minute's reads in the tail
q -c "SELECT pubdata.audit_summarise()" >/dev/null
minute=$((N / 30 / 1440 + 1))
q -c "SELECT pubdata._audit_bench_fill($minute, 1, 50, 20)" >/dev/null
t_usage_min=$(secs "SELECT * FROM pubdata.usage_stats")
cmp=$(q -c "SELECT count(*) FROM (($old_usage) EXCEPT (SELECT department, resource, statements, rows, roles, grants, first_at, last_at FROM pubdata.usage_stats)) x")
[ "$cmp" = 0 ] || { echo "usage_stats differs from the full aggregate after a summary ($cmp rows)"; exit 1; }

# incremental verification of the last day's records
t_incr=$(secs "SELECT 1 FROM pubdata.verify_audit_chain_incremental() WHERE ok")
incr=$(q -c "SELECT ok, records FROM pubdata.verify_audit_chain_incremental()")
t_full_verify2=$(secs "SELECT 1 FROM pubdata.verify_audit_chain() WHERE ok")

echo "one-day window ($fast_n rows of $day_n that day) by resource and department: ${t_win}s, full scan ${t_win_full}s, ratio $(ratio "$t_win" "$t_win_full")  (target <= 1 s)"
echo "one-day window, every row ($day_n): ${t_day}s"
echo "usage_stats (summaries + a minute's tail, $minute records): ${t_usage_min}s, full scan ${t_usage_full}s, ratio $(ratio "$t_usage_min" "$t_usage_full")  (target <= 1 s)"
echo "usage_stats with a whole day unsummarised (launcher stopped for a day, $last records): ${t_usage}s"
echo "incremental verification of the last day ($last records): ${t_incr}s, full ${t_full_verify2}s, ratio $(ratio "$t_incr" "$t_full_verify2")  (target <= 2 s)"
echo "(full verification of the first $((N - last)) records: ${t_full_verify}s; a second incremental check: [$incr])"
