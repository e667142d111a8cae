#!/bin/bash
# Scheduler benchmark: BENCH_JOBS (default 10,000) enabled cheap jobs due evenly
# over BENCH_WINDOW seconds (default 60), each run in its own job worker, at
# most BENCH_WORKERS (default 8) at once.  Reports the median and p99 lateness
# of start times (started_at - scheduled_at) against the spacing between due
# times, the throughput against the required rate, and the launcher's CPU
# while idle (10 s, from /proc/<pid>/stat) against the postmaster's in the
# same window, and the CPU of one job run against a bare background-worker
# start measured in the same run.
#
# Env (from test/run.sh bench): PGHOST PGPORT PGUSER=postgres; pubdata.database = 'bench'.
set -uo pipefail
N=${BENCH_JOBS:-10000}
WINDOW=${BENCH_WINDOW:-60}
WORKERS=${BENCH_WORKERS:-8}
DB=bench
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

psql -X -q -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
	|| psql -X -q -d postgres -c "CREATE DATABASE $DB" || exit 1
q "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pubdata CASCADE" >/dev/null || exit 1
psql -X -q -d postgres -c "ALTER SYSTEM SET pubdata.max_job_workers = $WORKERS" -c "SELECT pg_reload_conf()" >/dev/null
for i in $(seq 1 100); do
	LPID=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pubdata launcher' AND datname = '$DB'")
	[ -n "$LPID" ] && break
	sleep 0.2
done
[ -n "$LPID" ] || { echo "no pubdata launcher in database $DB"; exit 1; }
PMPID=$(head -1 "$(q "SHOW data_directory")/postmaster.pid")
max_wp=$(q "SHOW max_worker_processes")
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared; max_worker_processes $max_wp, pubdata.max_job_workers $WORKERS"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# --- idle: nothing due for a day
q "UPDATE pubdata.job SET enabled = false" >/dev/null
sleep 2
l0=$(cpu_ticks "$LPID"); p0=$(cpu_ticks "$PMPID")
sleep 10
l1=$(cpu_ticks "$LPID"); p1=$(cpu_ticks "$PMPID")
echo "idle 10 s: launcher $(( (l1 - l0) * 1000 / HZ )) ms CPU ($(awk -v t=$((l1 - l0)) -v hz=$HZ 'BEGIN{printf "%.3f", t/hz/10*100}') %), postmaster (baseline) $(( (p1 - p0) * 1000 / HZ )) ms CPU"

# --- baseline: CPU of a bare worker start (a job worker for no job: connect, look, exit),
#     from the postmaster's accumulated children times
child_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$PMPID/stat"; }
c0=$(child_ticks)
q "DO \$\$ BEGIN FOR i IN 1..200 LOOP PERFORM pubdata._launch_job(-1, 0); END LOOP; END \$\$" >/dev/null
c1=$(child_ticks)
BARE=$(awk -v t=$((c1 - c0)) -v hz=$HZ 'BEGIN{printf "%.2f", t/hz*1000/200}')
echo "baseline: a bare background worker start costs $BARE ms CPU (200 sequential starts)"

# --- N jobs due evenly over WINDOW seconds, starting 5 s from now
q "DELETE FROM pubdata.job WHERE name LIKE 'bench65 %'" >/dev/null
q "INSERT INTO pubdata.job (name, kind, source, schedule, schedule_kind, run_as, next_run_at, max_attempts)
   SELECT 'bench65 ' || g, 'custom', 'SELECT 1', '1 day', 'interval', current_user,
		  now() + interval '5 seconds' + (g * $WINDOW / $N::float8) * interval '1 second', 1
	 FROM generate_series(0, $N - 1) g" >/dev/null || exit 1
t_start=$(date +%s)
l0=$(cpu_ticks "$LPID"); c0=$(child_ticks)
deadline=$((t_start + 5 + WINDOW + 90))
while :; do
	done_runs=$(q "SELECT count(*) FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id WHERE j.name LIKE 'bench65 %' AND r.status <> 'running'")
	[ "$done_runs" -ge "$N" ] && break
	[ "$(date +%s)" -ge "$deadline" ] && { echo "stopped waiting: $done_runs of $N runs finished"; break; }
	sleep 2
done
l1=$(cpu_ticks "$LPID"); c1=$(child_ticks)
q "UPDATE pubdata.job SET enabled = false WHERE name LIKE 'bench65 %'" >/dev/null
q "SELECT format('runs: %s finished (%s succeeded) of %s due over %s s; lateness median %s ms, p99 %s ms, max %s ms (spacing of due times %s ms: median/spacing %s); throughput %s runs/s vs required %s runs/s (ratio %s); run duration median %s ms',
		count(*), count(*) FILTER (WHERE status = 'succeeded'), $N, $WINDOW,
		round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
		round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
		round(max(ms)::numeric, 1),
		round(1000.0 * $WINDOW / $N, 1),
		round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) / (1000.0 * $WINDOW / $N))::numeric, 2),
		round((count(*) / greatest(extract(epoch FROM max(finished_at) - min(started_at)), 0.001))::numeric, 1),
		round($N::numeric / $WINDOW, 1),
		round(((count(*) / greatest(extract(epoch FROM max(finished_at) - min(started_at)), 0.001)) / ($N::numeric / $WINDOW))::numeric, 2),
		round(percentile_cont(0.5) WITHIN GROUP (ORDER BY dur)::numeric, 1))
	 FROM (SELECT r.status, r.started_at, r.finished_at,
				  extract(epoch FROM r.started_at - r.scheduled_at) * 1000 AS ms,
				  extract(epoch FROM r.finished_at - r.started_at) * 1000 AS dur
			 FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id
			WHERE j.name LIKE 'bench65 %' AND r.scheduled_at IS NOT NULL) s"
# divided by the runs that finished (a slow machine may not finish all N in time)
DONE=$(q "SELECT count(*) FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id
		   WHERE j.name LIKE 'bench65 %' AND r.finished_at IS NOT NULL")
[ "${DONE:-0}" -gt 0 ] || DONE=$N
PERRUN=$(awk -v t=$((c1 - c0)) -v hz=$HZ -v n=$DONE 'BEGIN{printf "%.2f", t/hz*1000/n}')
echo "CPU per job run (worker process): $PERRUN ms vs bare worker start $BARE ms (ratio $(awk -v a=$PERRUN -v b=$BARE 'BEGIN{printf "%.2f", a/b}'))"
echo "launcher CPU during the burst: $(( (l1 - l0) * 1000 / HZ )) ms for $N launches ($(awk -v t=$((l1 - l0)) -v hz=$HZ -v n=$N 'BEGIN{printf "%.2f", t/hz*1000/n}') ms each)"
q "DELETE FROM pubdata.job WHERE name LIKE 'bench65 %'" >/dev/null
psql -X -q -d postgres -c "ALTER SYSTEM RESET pubdata.max_job_workers" -c "SELECT pg_reload_conf()" >/dev/null
