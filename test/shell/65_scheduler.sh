#!/bin/bash
# Scheduler faults: the launcher is visible and runs jobs on schedule; a job
# worker killed with SIGKILL mid-run leaves a failed run (not a stuck one), the
# job runs again and nothing is written twice; a failing job does not take the
# launcher down; the launcher comes back after SIGTERM, SIGKILL and a server
# restart, which resumes the schedule with at most one catch-up run per job;
# an overdue resource raises NOTIFY pubdata_alert once.
#
# Env (from test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
DB=pubdata_tap
DATA=$PUBDATA_WORK/data
PSQL="psql -X -q -v ON_ERROR_STOP=1 -d $DB"
q() { $PSQL -At -c "$1"; }
fail() { echo "FAIL: $*"; tail -20 "$PUBDATA_WORK/server.log"; exit 1; }
ok() { echo "ok - $*"; }

# wait_for "sql returning t" seconds
wait_for() {
	local sql=$1 secs=$2 i
	for ((i = 0; i < secs * 5; i++)); do
		[ "$(q "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
wait_server() {
	local i
	for ((i = 0; i < 150; i++)); do
		"$PUBDATA_BINDIR/pg_isready" -q -h "$PGHOST" -p "$PGPORT" -d "$DB" && q "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
launcher_pid() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pubdata launcher'"; }

# --- the launcher is up, visible, connected to pubdata.database
wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pubdata launcher' AND datname = '$DB'" 20 \
	|| fail "no pubdata launcher in pg_stat_activity"
[ "$(q "SELECT pubdata.launcher_pid() = pid FROM pg_stat_activity WHERE backend_type = 'pubdata launcher'")" = t ] \
	|| fail "launcher_pid() disagrees with pg_stat_activity"
ok "launcher visible in pg_stat_activity (backend_type 'pubdata launcher')"

# keep other suites' jobs out of the way
q "UPDATE pubdata.job SET enabled = false" >/dev/null

$PSQL <<'SQL' >/dev/null || fail "set-up"
SET client_min_messages = warning;
CREATE ROLE sh65_stats;
CREATE SCHEMA sh65 AUTHORIZATION sh65_stats;
SELECT pubdata.add_department('sh65_stats', '市统计局(壳测)', '331100', 'administrative', 'sh65_stats');
SET ROLE sh65_stats;
CREATE TABLE sh65.source (id integer, v text);
INSERT INTO sh65.source SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE TABLE sh65.pool (id integer, v text, run_id bigint);
CREATE TABLE sh65.slow_pool (id integer, v text, run_id bigint);
CREATE TABLE sh65.tick (id integer, v text, run_id bigint);
SELECT pubdata.register_resource('sh65.pool', 'SH65-POOL', '汇聚表', 'sh65_stats', 'unconditional', 'open', 'hourly', 1);
SELECT pubdata.register_resource('sh65.slow_pool', 'SH65-SLOW', '慢汇聚表', 'sh65_stats', 'unconditional', 'open', 'hourly', 1);
SELECT pubdata.register_resource('sh65.tick', 'SH65-TICK', '节拍表', 'sh65_stats', 'unconditional', 'open', 'daily', 1);
SQL

# --- a job runs on its schedule (every 2 seconds), by the launcher
JOB=$(q "SET ROLE sh65_stats; SELECT pubdata.schedule_aggregation('SH65-POOL', 'sh65.source', run_id_column => 'run_id', schedule => '2 seconds')")
wait_for "SELECT count(*) >= 3 FROM pubdata.job_run WHERE job_id = $JOB AND status = 'succeeded' AND scheduled_at IS NOT NULL" 15 \
	|| fail "job $JOB did not run three times on its schedule"
late=$(q "SELECT round(extract(epoch FROM max(started_at - scheduled_at)) * 1000) FROM pubdata.job_run WHERE job_id = $JOB AND scheduled_at IS NOT NULL AND attempt = 1 AND id > (SELECT min(id) FROM pubdata.job_run WHERE job_id = $JOB)")
[ "$(q "SELECT count(*) = 100 AND count(DISTINCT run_id) = 1 FROM sh65.pool")" = t ] || fail "pool has wrong content"
ok "job $JOB ran on schedule every 2 s (max lateness ${late} ms), full refresh keeps 100 rows"
q "SELECT pubdata.alter_job($JOB, enabled => false)" >/dev/null

# --- kill -9 of a job worker in the middle of a run
SLOW=$(q "SET ROLE sh65_stats; SELECT pubdata.schedule_aggregation('SH65-SLOW', 'SELECT id, v FROM sh65.source WHERE pg_sleep(0.03) IS NOT NULL', mode => 'append', run_id_column => 'run_id', schedule => '1 hour', retry_backoff => '1 second')")
wait_for "SELECT count(*) = 1 FROM pubdata.job_run r JOIN pg_stat_activity a ON a.pid = r.pid AND a.backend_type = 'pubdata job worker' WHERE r.job_id = $SLOW AND r.status = 'running'" 15 \
	|| fail "slow job did not start"
sleep 1
WPID=$(q "SELECT pid FROM pubdata.job_run WHERE job_id = $SLOW AND status = 'running'")
KILLED_RUN=$(q "SELECT id FROM pubdata.job_run WHERE job_id = $SLOW AND status = 'running'")
[ "$(q "SELECT backend_type FROM pg_stat_activity WHERE pid = $WPID")" = "pubdata job worker" ] || fail "worker not visible"
ok "job worker $WPID visible in pg_stat_activity (backend_type 'pubdata job worker')"
kill -9 "$WPID"
sleep 1
wait_server || fail "server did not come back after the crash"
wait_for "SELECT status = 'failed' FROM pubdata.job_run WHERE id = $KILLED_RUN" 20 || fail "killed run $KILLED_RUN not marked failed"
ok "killed run $KILLED_RUN marked failed: $(q "SELECT error FROM pubdata.job_run WHERE id = $KILLED_RUN")"
wait_for "SELECT count(*) >= 1 FROM pubdata.job_run WHERE job_id = $SLOW AND status = 'succeeded'" 30 || fail "slow job did not run again"
[ "$(q "SELECT count(*) = 100 AND count(DISTINCT run_id) = 1 AND min(run_id) <> $KILLED_RUN FROM sh65.slow_pool")" = t ] \
	|| fail "append job wrote twice or kept rows of the killed run: $(q "SELECT count(*), count(DISTINCT run_id) FROM sh65.slow_pool")"
[ "$(q "SELECT attempt FROM pubdata.job_run WHERE job_id = $SLOW AND status = 'succeeded' ORDER BY id LIMIT 1")" = 2 ] || fail "retry was not attempt 2"
ok "the job ran again (attempt 2) and the pool holds each row once"
[ "$(q "SELECT count(*) FROM pubdata.job_run WHERE status = 'running' AND job_id IN ($JOB, $SLOW)")" = 0 ] || fail "runs stuck in running"

# --- a job whose SQL errors does not take the launcher down
LPID=$(launcher_pid)
BAD=$(q "SET ROLE sh65_stats; SELECT pubdata.schedule_aggregation('SH65-POOL', 'SELECT id / 0 AS id FROM sh65.source', schedule => '1 second', max_attempts => 1)")
wait_for "SELECT count(*) >= 3 FROM pubdata.job_run WHERE job_id = $BAD AND status = 'failed'" 15 || fail "failing job did not run"
q "SELECT pubdata.alter_job($BAD, enabled => false)" >/dev/null
[ "$(launcher_pid)" = "$LPID" ] || fail "launcher changed after failing jobs"
ok "three failing runs ('$(q "SELECT error FROM pubdata.job_run WHERE job_id = $BAD LIMIT 1")'), launcher $LPID still up"

# --- SIGHUP reloads, SIGTERM stops cleanly and the postmaster brings it back
q "ALTER SYSTEM SET pubdata.max_job_workers = 3" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 1
[ "$(launcher_pid)" = "$LPID" ] || fail "launcher died on SIGHUP"
q "ALTER SYSTEM RESET pubdata.max_job_workers" >/dev/null; q "SELECT pg_reload_conf()" >/dev/null
kill -TERM "$LPID"
wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pubdata launcher' AND pid <> $LPID" 15 || fail "launcher not back after SIGTERM"
grep -q "pubdata launcher shutting down" "$PUBDATA_WORK/server.log" || fail "no clean shutdown message"
ok "SIGHUP keeps the launcher; after SIGTERM it stopped cleanly and came back as $(launcher_pid)"
LPID=$(launcher_pid)
kill -9 "$LPID"
sleep 1
wait_server || fail "server did not come back after the launcher was killed"
wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pubdata launcher' AND pid <> $LPID" 20 || fail "launcher not back after SIGKILL"
ok "after kill -9 the launcher came back as $(launcher_pid)"

# --- NOTIFY pubdata_alert once per overdue episode (housekeeping runs when the launcher starts)
q "UPDATE pubdata.job SET last_success_at = now() - interval '3 days', created_at = now() - interval '3 days', enabled = true, next_run_at = 'infinity' WHERE id = $JOB" >/dev/null
[ "$(q "SELECT overdue FROM pubdata.aggregation_status WHERE resource = 'SH65-POOL'")" = t ] || fail "SH65-POOL not overdue"
(psql -X -d $DB -c "LISTEN pubdata_alert" -c "SELECT pg_sleep(9)" >"$PUBDATA_WORK/sh65_listen.out" 2>&1) &
LISTENER=$!
sleep 0.5
kill -TERM "$(launcher_pid)"; sleep 3.5
kill -TERM "$(launcher_pid)"; sleep 3.5
wait "$LISTENER"
ids=$(sed -n 's/.*with payload "{"id": \([0-9]*\), "kind": "aggregation_overdue"}" received.*/\1/p' "$PUBDATA_WORK/sh65_listen.out" | paste -sd, -)
n=$(q "SELECT count(*) FROM pubdata.alert WHERE id IN (${ids:-0}) AND kind = 'aggregation_overdue' AND details->>'resource' = 'SH65-POOL'")
[ "$n" = 1 ] || { cat "$PUBDATA_WORK/sh65_listen.out"; fail "expected one overdue alert for SH65-POOL, got $n"; }
ok "one NOTIFY pubdata_alert over two launcher starts: alert $ids, $(q "SELECT details FROM pubdata.alert WHERE id IN (${ids:-0})")"
q "UPDATE pubdata.job SET enabled = false WHERE id = $JOB" >/dev/null

# --- a server restart resumes the schedule with at most one catch-up run per job
TICK=$(q "SET ROLE sh65_stats; SELECT pubdata.schedule_aggregation('SH65-TICK', 'sh65.source', run_id_column => 'run_id', schedule => '2 seconds')")
wait_for "SELECT count(*) >= 1 FROM pubdata.job_run WHERE job_id = $TICK AND status = 'succeeded'" 15 || fail "tick job did not run"
runuser -u postgres -- "$PUBDATA_BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || fail "stop"
sleep 9                                          # four occurrences missed
T0=$(date -u +%s.%N)
runuser -u postgres -- "$PUBDATA_BINDIR/pg_ctl" -D "$DATA" -l "$PUBDATA_WORK/server.log" -w start >/dev/null || fail "start"
wait_server || fail "server did not start"
sleep 7
catchup=$(q "SELECT count(*) FROM pubdata.job_run WHERE job_id = $TICK AND started_at > to_timestamp($T0) AND scheduled_at < to_timestamp($T0)")
after=$(q "SELECT count(*) FROM pubdata.job_run WHERE job_id = $TICK AND started_at > to_timestamp($T0) AND scheduled_at >= to_timestamp($T0)")
[ "$catchup" = 1 ] || fail "expected one catch-up run after the restart, got $catchup"
[ "$after" -ge 1 ] && [ "$after" -le 4 ] || fail "schedule not resumed after the restart ($after runs)"
ok "after 9 s down: $catchup catch-up run, then $after on schedule"
q "SELECT pubdata.alter_job($TICK, enabled => false)" >/dev/null
[ "$(q "SELECT count(*) FROM pubdata.job_run WHERE status = 'running' AND pid NOT IN (SELECT pid FROM pg_stat_activity)")" = 0 ] || fail "stuck runs"
exit 0
