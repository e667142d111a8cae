#!/bin/bash
# The pool of job workers: with pubdata.max_job_workers = 1, two departments'
# scheduled jobs run one after the other in the same long-lived worker, and
# the second department's job finds nothing the first one's left in the
# session: not a setting (set_config(..., false)), not a prepared statement,
# not a LISTEN, not its role (PostgreSQL refuses PREPARE and LISTEN inside
# the security-restricted operation a job runs in; the worker drops both
# between runs anyway).  The pool worker, terminated, is replaced and the
# schedule goes on.
#
# Env (from test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
DB=pubdata_tap
PSQL="psql -X -q -v ON_ERROR_STOP=1 -d $DB"
q() { $PSQL -At -c "$1"; }
fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }
wait_for() {
	local sql=$1 secs=$2 i
	for ((i = 0; i < secs * 5; i++)); do
		[ "$(q "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
cleanup() {
	$PSQL >/dev/null 2>&1 <<'SQL'
SET client_min_messages = warning;
SELECT pubdata.drop_job(j.id) FROM pubdata.job j JOIN pubdata.resource r ON r.id = j.resource_id WHERE r.code IN ('SH68-A', 'SH68-B');
SELECT pubdata.retire_resource(c, 'end of test 68') FROM unnest(ARRAY['SH68-A', 'SH68-B']) c;
DROP SCHEMA IF EXISTS sh68a, sh68b CASCADE;
SQL
	psql -X -q -d postgres -c "ALTER SYSTEM RESET pubdata.max_job_workers" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT

psql -X -q -d postgres -c "ALTER SYSTEM SET pubdata.max_job_workers = 1" -c "SELECT pg_reload_conf()" >/dev/null ||
	fail "max_job_workers = 1"
$PSQL <<'SQL' >/dev/null || fail "set-up"
SET client_min_messages = warning;
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sh68_a') THEN CREATE ROLE sh68_a; END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sh68_b') THEN CREATE ROLE sh68_b; END IF;
END $$;
CREATE SCHEMA sh68a AUTHORIZATION sh68_a;
CREATE SCHEMA sh68b AUTHORIZATION sh68_b;
SELECT pubdata.add_department('sh68_a', '测试甲局', '331100', 'administrative', 'sh68_a')
 WHERE NOT EXISTS (SELECT 1 FROM pubdata.department WHERE code = 'sh68_a');
SELECT pubdata.add_department('sh68_b', '测试乙局', '331100', 'administrative', 'sh68_b')
 WHERE NOT EXISTS (SELECT 1 FROM pubdata.department WHERE code = 'sh68_b');
SET ROLE sh68_a;
-- department A's job leaves what it can in the session
CREATE FUNCTION sh68a.plant() RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
	PERFORM set_config('sh68.leak', 'planted by sh68_a', false);
	PERFORM set_config('work_mem', '1234kB', false);
	BEGIN
		EXECUTE 'PREPARE sh68_leak AS SELECT 1';
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	BEGIN
		EXECUTE 'LISTEN sh68_leak';
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	RETURN 'planted';
END
$f$;
CREATE TABLE sh68a.pool (n integer, v text, run_id bigint);
SELECT pubdata.register_resource('sh68a.pool', 'SH68-A', '甲汇聚', 'sh68_a', 'unconditional', 'not_open', 'hourly', 1);
RESET ROLE;
SET ROLE sh68_b;
-- department B's job reports what it finds
CREATE FUNCTION sh68b.look() RETURNS text LANGUAGE sql AS $f$
	SELECT coalesce(current_setting('sh68.leak', true), '') || '|' || current_setting('work_mem') || '|'
		   || (SELECT count(*) FROM pg_prepared_statements) || '|' || (SELECT count(*) FROM pg_listening_channels())
		   || '|' || current_user
$f$;
CREATE TABLE sh68b.pool (n integer, v text, run_id bigint);
SELECT pubdata.register_resource('sh68b.pool', 'SH68-B', '乙汇聚', 'sh68_b', 'unconditional', 'not_open', 'hourly', 1);
RESET ROLE;
SQL
A=$(q "SET ROLE sh68_a; SELECT pubdata.schedule_aggregation('SH68-A', 'SELECT 1 AS n, sh68a.plant() AS v', run_id_column => 'run_id', schedule => '1 second')") ||
	fail "schedule A"
B=$(q "SET ROLE sh68_b; SELECT pubdata.schedule_aggregation('SH68-B', 'SELECT 1 AS n, sh68b.look() AS v', run_id_column => 'run_id', schedule => '1 second')") ||
	fail "schedule B"
wait_for "SELECT count(*) FILTER (WHERE job_id = $A) >= 3 AND count(*) FILTER (WHERE job_id = $B) >= 3
			FROM pubdata.job_run WHERE status = 'succeeded' AND scheduled_at IS NOT NULL" 30 ||
	fail "jobs $A and $B did not run three times each: $(q "SELECT string_agg(job_id || ':' || status || ':' || coalesce(error, ''), ', ') FROM pubdata.job_run WHERE job_id IN ($A, $B)")"
pids=$(q "SELECT count(DISTINCT pid) FROM pubdata.job_run WHERE job_id IN ($A, $B) AND scheduled_at IS NOT NULL")
[ "$pids" = 1 ] || fail "with max_job_workers = 1 the runs came from $pids workers"
ok "jobs $A (sh68_a) and $B (sh68_b) ran in turn in one pool worker ($(q "SELECT min(pid) FROM pubdata.job_run WHERE job_id = $A"))"
[ "$(q "SELECT v FROM sh68a.pool")" = planted ] || fail "job A did not run its function"
work_mem=$(q "SHOW work_mem")
seen=$(q "SELECT v FROM sh68b.pool")
[ "$seen" = "|$work_mem|0|0|sh68_b" ] ||
	fail "job B found '$seen' in the worker (want '|$work_mem|0|0|sh68_b': no setting, no prepared statement, no LISTEN of A's)"
ok "job B found nothing job A left: no setting, work_mem $work_mem, no prepared statement, no LISTEN, runs as sh68_b"

# the pool worker that ran them, terminated: the next runs get a new one
wpid=$(q "SELECT pid FROM pubdata.job_run WHERE job_id IN ($A, $B) ORDER BY id DESC LIMIT 1")
[ "$(q "SELECT backend_type FROM pg_stat_activity WHERE pid = $wpid")" = "pubdata job worker" ] ||
	fail "the pool worker $wpid is not in pg_stat_activity"
q "SELECT pg_terminate_backend($wpid)" >/dev/null
last=$(q "SELECT max(id) FROM pubdata.job_run")
wait_for "SELECT count(*) >= 2 FROM pubdata.job_run WHERE id > $last AND status = 'succeeded' AND pid <> $wpid" 20 ||
	fail "no run after the pool worker $wpid was terminated"
ok "pool worker $wpid terminated: the next runs went to a new worker ($(q "SELECT max(pid) FROM pubdata.job_run WHERE id > $last"))"
