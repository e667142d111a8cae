#!/bin/bash
# What a log monitor sees (a preloaded cluster of its own): starting before
# pubdata.database exists, creating it, running, stopping with a job running,
# starting again and stopping leave no FATAL and no pubdata worker "exited
# with exit code" line (the supervisor waits for the database on its latch;
# launcher, supervisor, audit sync and job workers exit with code 0 on
# SIGTERM).  A job worker stopped by SIGTERM (pg_terminate_backend, a server
# shutdown) records its run as failed.  The built-in jobs leave a job_run row
# only when they did something.
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
BINDIR=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}
. "$(dirname "$0")/../lib.sh"
LPORT=$((PGPORT + 21))
LSOCK=$WORK/cleanlogs
LDATA=$LSOCK/data
LOG=$LSOCK/server.log
DB=cl

rm -rf "$LSOCK"; mkdir -p "$LSOCK" && chown postgres: "$LSOCK"
trap 'stop_cluster "$LDATA"' EXIT
fail() { echo "67_clean_logs: FAILED: $*" >&2; tail -30 "$LOG" >&2; exit 1; }
ok() { echo "ok - $*"; }
P="$BINDIR/psql -X -q -v ON_ERROR_STOP=1 -h $LSOCK -p $LPORT -U postgres"
q() { $P -At -d $DB -c "$1"; }
# wait_for DATABASE "sql returning t" seconds
wait_for() {
	local db=$1 sql=$2 secs=$3 i
	for ((i = 0; i < secs * 5; i++)); do
		[ "$($P -At -d "$db" -c "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
start() { runuser -u postgres -- "$BINDIR/pg_ctl" -D "$LDATA" -l "$LOG" -w start >/dev/null || fail "start"; }
stop() { runuser -u postgres -- "$BINDIR/pg_ctl" -D "$LDATA" -m fast -w -t 30 stop >/dev/null || fail "stop"; }

# --- start before pubdata.database exists: the supervisor waits quietly
start_cluster "$LDATA" "$LSOCK" "$LPORT" "pubdata.database = '$DB'" || fail "start_cluster"
wait_for postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pubdata supervisor' AND datname IS NULL" 10 \
	|| fail "no pubdata supervisor"
sleep 6                                          # more than one look for the database
[ "$(grep -c 'pubdata supervisor: waiting for database "cl"' "$LOG")" = 1 ] || fail "not one waiting message"
$P -d postgres -c "CREATE DATABASE $DB" || fail "create database"
$P -d $DB -c "SET client_min_messages = warning" -c "CREATE EXTENSION pubdata CASCADE" || fail "create extension"
wait_for $DB "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pubdata launcher' AND datname = '$DB'" 15 \
	|| fail "the launcher did not start in $DB"
[ "$(q "SELECT pubdata.launcher_pid() = pid FROM pg_stat_activity WHERE backend_type = 'pubdata launcher'")" = t ] \
	|| fail "launcher_pid()"
ok "the supervisor waited for database $DB, then started the launcher there"

# --- the built-in jobs run at once; with nothing to do they leave no row
wait_for $DB "SELECT count(*) = 3 FROM pubdata.job WHERE builtin AND last_success_at IS NOT NULL" 20 \
	|| fail "built-in jobs did not run: $(q "SELECT string_agg(name || ':' || coalesce(last_success_at::text, '-'), ', ') FROM pubdata.job")"
[ "$(q "SELECT count(*) FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id WHERE j.builtin")" = 0 ] \
	|| fail "built-in jobs left rows: $(q "SELECT string_agg(j.name || ':' || r.status || ':' || coalesce(r.rows_written, -1), ', ') FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id")"
ok "objection sweep, grant sweep and lineage compaction ran with nothing to do: no job_run row"

# ... and when one does something, its run is recorded: a grant that expires
$P -d $DB >/dev/null <<'SQL' || fail "grant set-up"
SET client_min_messages = warning;
CREATE ROLE cl_police;
CREATE ROLE cl_civil;
CREATE SCHEMA police AUTHORIZATION cl_police;
SELECT pubdata.add_department('CL-GA', '市公安局', '331100', 'administrative', 'cl_police');
SELECT pubdata.add_department('CL-MZ', '市民政局', '331100', 'administrative', 'cl_civil');
SET ROLE cl_police;
CREATE TABLE police.household (id_number text PRIMARY KEY, region text);
SELECT pubdata.register_resource('police.household', 'CL-HH', '户籍人口', 'CL-GA', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('CL-HH');
RESET ROLE;
SELECT pubdata.review_resource('CL-HH', true), pubdata.publish_resource('CL-HH');
SET ROLE cl_civil;
SELECT pubdata.request_share('CL-HH', '核查', ARRAY['id_number']);
SET ROLE cl_police;
SELECT pubdata.decide_share(1, true, expires_at => now() + interval '1 second');
RESET ROLE;
SELECT pg_sleep(1.5);
UPDATE pubdata.job SET next_run_at = now() WHERE name = 'grant sweep';
SQL
wait_for $DB "SELECT status = 'expired' FROM pubdata.share_request WHERE id = 1" 20 || fail "the grant sweep did not expire the grant"
wait_for $DB "SELECT count(*) = 1 FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id WHERE j.name = 'grant sweep' AND r.status = 'succeeded' AND r.rows_written = 1" 10 \
	|| fail "the grant sweep that expired a grant left no run: $(q "SELECT string_agg(status || ':' || coalesce(rows_written, -1), ',') FROM pubdata.job_run")"
ok "the grant sweep that expired a grant left its run (rows_written = 1)"

# --- SIGTERM of a job worker mid-run: the run is failed, the worker exits with 0
JOB=$(q "SELECT pubdata.schedule_job('custom', '1 hour', 'SELECT pg_sleep(60)', max_attempts => 1)")
wait_for $DB "SELECT count(*) = 1 FROM pubdata.job_run r JOIN pg_stat_activity a ON a.pid = r.pid AND a.backend_type = 'pubdata job worker' WHERE r.job_id = $JOB AND r.status = 'running'" 15 \
	|| fail "job $JOB did not start"
RUN=$(q "SELECT id FROM pubdata.job_run WHERE job_id = $JOB AND status = 'running'")
[ "$(q "SELECT pg_terminate_backend(pid) FROM pubdata.job_run WHERE id = $RUN")" = t ] || fail "pg_terminate_backend"
wait_for $DB "SELECT status = 'failed' AND error LIKE '%stopped by SIGTERM%' FROM pubdata.job_run WHERE id = $RUN" 10 \
	|| fail "run $RUN: $(q "SELECT status || ': ' || coalesce(error, '') FROM pubdata.job_run WHERE id = $RUN")"
ok "pg_terminate_backend of job worker: run $RUN failed: $(q "SELECT error FROM pubdata.job_run WHERE id = $RUN")"

# --- a fast shutdown while a job runs: it is stopped, recorded, and the stop is quick
q "UPDATE pubdata.job SET next_run_at = now() WHERE id = $JOB" >/dev/null
wait_for $DB "SELECT count(*) = 1 FROM pubdata.job_run r JOIN pg_stat_activity a ON a.pid = r.pid AND a.backend_type = 'pubdata job worker' WHERE r.job_id = $JOB AND r.status = 'running'" 15 \
	|| fail "job $JOB did not start again"
RUN2=$(q "SELECT id FROM pubdata.job_run WHERE job_id = $JOB AND status = 'running'")
t0=$(date +%s)
stop
[ $(($(date +%s) - t0)) -lt 15 ] || fail "the fast shutdown waited for the job"
start
[ "$(q "SELECT status || ':' || (error LIKE '%stopped by SIGTERM%') FROM pubdata.job_run WHERE id = $RUN2")" = "failed:true" ] \
	|| fail "run $RUN2 after shutdown: $(q "SELECT status || ': ' || coalesce(error, '') FROM pubdata.job_run WHERE id = $RUN2")"
ok "a fast shutdown during run $RUN2 stopped it, recorded as failed"

# --- started with the database there: the launcher connects at once; then a stop
wait_for $DB "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pubdata launcher' AND datname = '$DB'" 15 \
	|| fail "the launcher did not start after the restart"
q "SELECT pubdata.drop_job($JOB)" >/dev/null
sleep 1
stop
[ "$(grep -c 'pubdata supervisor: waiting for database' "$LOG")" = 1 ] || fail "the supervisor waited after the restart"
[ "$(grep -c 'pubdata launcher started in database "cl"' "$LOG")" = 2 ] || fail "not two launcher starts"
ok "after the restart the launcher connected at once"

# --- the log
if grep -E "FATAL|PANIC|terminating background worker|background worker \"pubdata[^\"]*\" \(PID [0-9]+\) (exited with exit code|was terminated)" "$LOG"; then
	fail "the log has the lines above"
fi
ok "$(grep -c . "$LOG") log lines: no FATAL, no pubdata worker exit code, through two starts and stops with a job stopped in each way"
exit 0
