#!/bin/bash
# A long quality measurement shows its progress in pubdata.progress (pid,
# resource, phase, partitions, blocks and rows read), to the department that
# provides the resource and to the bureau, not to another department; its
# provider cancels it with pg_cancel_backend and nothing of it remains: no
# run, no result, no progress row.  Then the same with parallel workers
# (their blocks and rows count in the leader's row), and a measurement
# stopped by statement_timeout.  Every step runs as the login that would do
# it.
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${PUBDATA_BINDIR:?}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
Q="$BIN/psql -X -qAt -v ON_ERROR_STOP=1"
DB=pubdata_qprogress
ROLES="regress_qp_admin regress_qp_transport regress_qp_other"
WORK=$(mktemp -d "${PUBDATA_WORK:-/tmp}/qprogress.XXXXXX")

fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }
cleanup() {
	[ -n "${bg:-}" ] && kill "$bg" 2>/dev/null
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	$P -d postgres -c "DROP ROLE IF EXISTS ${ROLES// /, }" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
cleanup
WORK=$(mktemp -d "${PUBDATA_WORK:-/tmp}/qprogress.XXXXXX")

PGOPTIONS="-c client_min_messages=warning" $P -d postgres >/dev/null <<SQL || fail "roles and database"
CREATE ROLE regress_qp_admin LOGIN IN ROLE pubdata_admin;
CREATE ROLE regress_qp_transport LOGIN;
CREATE ROLE regress_qp_other LOGIN;
CREATE DATABASE $DB;
SQL
PGOPTIONS="-c client_min_messages=warning" $P -d $DB >/dev/null <<'SQL' || fail "extension and departments"
CREATE EXTENSION pubdata CASCADE;
SET ROLE regress_qp_admin;
SELECT pubdata.add_department('qp_transport', '市交通运输局', '331100', 'administrative', 'regress_qp_transport');
SELECT pubdata.add_department('qp_other', '市卫生健康委', '331100', 'administrative', 'regress_qp_other');
RESET ROLE;
CREATE SCHEMA qp AUTHORIZATION regress_qp_transport;
SQL
# the provider's table: three partitions, 30000 rows; a custom rule that
# sleeps 0.5 ms a row makes the measurement last about 15 s
$P -U regress_qp_transport -d $DB >/dev/null <<'SQL' || fail "the provider's table and rules"
SET client_min_messages = warning;
CREATE TABLE qp.trip (id bigint, km integer, started date) PARTITION BY RANGE (started);
CREATE TABLE qp.trip_01 PARTITION OF qp.trip FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE qp.trip_02 PARTITION OF qp.trip FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE qp.trip_03 PARTITION OF qp.trip FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
INSERT INTO qp.trip SELECT g, g % 300, date '2026-01-01' + (g % 90) FROM generate_series(1, 30000) g;
ANALYZE qp.trip;
SELECT pubdata.register_resource('qp.trip', 'QP-TRIP', '出租车行程', 'qp_transport', 'restricted', 'not_open', 'daily', 2);
SELECT pubdata.add_quality_rule('QP-TRIP', 'id', 'unique');
SELECT pubdata.add_quality_rule('QP-TRIP', NULL, 'custom', '{"expression": "pg_catalog.pg_sleep(0.0005) IS NOT NULL"}');
SQL

# start ROLE SETTINGS: a measurement in the background, as that login; its pid
start() {
	rm -f "$WORK/out"
	$BIN/psql -X -qAt -U "$1" -d $DB -c "$2" -c "SELECT pg_backend_pid()" \
		-c "SELECT pubdata.measure_quality('QP-TRIP')" >"$WORK/out" 2>&1 &
	bg=$!
	for i in $(seq 1 100); do
		pid=$(head -1 "$WORK/out" 2>/dev/null)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || fail "the measurement did not start: $(cat "$WORK/out")"
}
# progress ROLE COLUMNS: what that login sees of the measurement
progress() { $Q -U "$1" -d $DB -c "SELECT $2 FROM pubdata.progress WHERE pid = $pid"; }
# wait_scanning: until the measurement has read some rows
wait_scanning() {
	for i in $(seq 1 150); do
		seen=$(progress regress_qp_transport "phase || ':' || (rows_done > 0)")
		[ "$seen" = "scanning:true" ] && return 0
		kill -0 "$bg" 2>/dev/null || fail "the measurement ended early: $(cat "$WORK/out")"
		sleep 0.1
	done
	fail "the measurement shows no progress while scanning (last: $seen)"
}
runs() { $Q -U regress_qp_transport -d $DB -c "SELECT count(*) FROM pubdata.quality_run"; }

# 1. one process
start regress_qp_transport "SET max_parallel_maintenance_workers = 0"
wait_scanning
row=$(progress regress_qp_transport "role_name, command, resource, relation::text LIKE 'qp.trip_0_', partitions_total, blocks_total > 0, workers")
[ "$row" = "regress_qp_transport|quality|QP-TRIP|t|3|t|0" ] || fail "the provider's progress row: [$row]"
ok "the provider sees its measurement: resource, partition being read, 3 partitions, blocks"
row=$(progress regress_qp_admin "resource || ':' || phase")
[ "$row" = "QP-TRIP:scanning" ] || fail "the bureau's view: [$row]"
row=$(progress regress_qp_other "count(*)")
[ "$row" = "0" ] || fail "another department sees the measurement: [$row]"
ok "the bureau sees it; another department does not"
b1=$(progress regress_qp_transport "blocks_done + rows_done")
sleep 1
b2=$(progress regress_qp_transport "blocks_done + rows_done")
[ "$b2" -gt "$b1" ] || fail "blocks and rows do not move: $b1 then $b2"
ok "blocks and rows read move on ($b1 then $b2)"
row=$($Q -U regress_qp_other -d $DB -c "SELECT pg_cancel_backend($pid)" 2>&1)
[[ "$row" == *"permission denied"* || "$row" == *"must be"* ]] || fail "another department could cancel it: [$row]"
row=$($Q -U regress_qp_transport -d $DB -c "SELECT pg_cancel_backend($pid)")
[ "$row" = "t" ] || fail "the provider could not cancel its measurement: [$row]"
wait "$bg"; bg=
grep -q "canceling statement due to user request" "$WORK/out" || fail "not cancelled: $(cat "$WORK/out")"
[ "$(runs)" = "0" ] || fail "a cancelled measurement left a run"
[ "$($Q -U regress_qp_admin -d $DB -c "SELECT count(*) FROM pubdata.progress")" = "0" ] ||
	fail "a cancelled measurement is still shown"
[ "$($Q -d $DB -c "SELECT count(*) FROM pubdata.quality_result")" = "0" ] || fail "a cancelled measurement left results"
ok "cancelled by its provider: no run, no result, no progress row left"

# 2. with parallel workers (the bureau measures)
start regress_qp_admin "SET min_parallel_table_scan_size = 0"
wait_scanning
row=$(progress regress_qp_admin "workers > 0")
[ "$row" = "t" ] || fail "no parallel workers shown: [$row]"
nworkers=$($Q -d $DB -c "SELECT count(*) FROM pg_stat_activity WHERE leader_pid = $pid AND backend_type = 'parallel worker'")
[ "$nworkers" -gt 0 ] || fail "no parallel worker runs for the measurement"
b1=$(progress regress_qp_admin "rows_done")
sleep 2
b2=$(progress regress_qp_admin "rows_done")
[ "$b2" -gt "$b1" ] || fail "rows read do not move in parallel: $b1 then $b2"
ok "in parallel: $nworkers workers, rows read move on ($b1 then $b2)"
$Q -U regress_qp_admin -d $DB -c "SELECT pg_cancel_backend($pid)" >/dev/null
wait "$bg"; bg=
grep -q "canceling statement due to user request" "$WORK/out" || fail "not cancelled: $(cat "$WORK/out")"
sleep 0.5
[ "$($Q -d $DB -c "SELECT count(*) FROM pg_stat_activity WHERE leader_pid = $pid")" = "0" ] ||
	fail "parallel workers outlived the cancelled measurement"
[ "$(runs)" = "0" ] || fail "a cancelled parallel measurement left a run"
[ "$($Q -U regress_qp_admin -d $DB -c "SELECT count(*) FROM pubdata.progress")" = "0" ] ||
	fail "a cancelled parallel measurement is still shown"
ok "a parallel measurement cancelled: workers gone, no run, no progress row"

# 3. statement_timeout stops it the same way
out=$($Q -U regress_qp_transport -d $DB -c "SET statement_timeout = '1s'" \
	-c "SELECT pubdata.measure_quality('QP-TRIP')" 2>&1)
[[ "$out" == *"canceling statement due to statement timeout"* ]] || fail "statement_timeout: [$out]"
[ "$(runs)" = "0" ] || fail "a timed-out measurement left a run"
ok "statement_timeout stops a measurement, nothing stored"

# 4. a measurement that ends is shown no more, and its run is stored
$Q -U regress_qp_transport -d $DB -c "SELECT pubdata.drop_quality_rule(id) FROM pubdata.quality_rule WHERE kind = 'custom'" >/dev/null
out=$($Q -U regress_qp_transport -d $DB -c "SELECT pubdata.measure_quality('QP-TRIP') > 0" \
	-c "SELECT count(*) FROM pubdata.progress" -c "SELECT rows_checked FROM pubdata.quality_run")
[ "$out" = "$(printf 't\n0\n30000')" ] || fail "a finished measurement: [$out]"
ok "a finished measurement stores its run and leaves the progress view"

# 5. an aggregation run in a job worker is shown too, with its job and run
$P -U regress_qp_transport -d $DB >/dev/null 2>&1 <<'SQL' || fail "the aggregation job"
SET client_min_messages = error;
CREATE TABLE qp.daily (day date, trips bigint);
SELECT pubdata.register_resource('qp.daily', 'QP-DAILY', '每日行程数', 'qp_transport', 'unconditional', 'open', 'daily', 1);
SELECT pubdata.schedule_aggregation('QP-DAILY',
	'SELECT started AS day, count(*) AS trips FROM qp.trip GROUP BY started HAVING pg_catalog.pg_sleep(0.03) IS NOT NULL');
SQL
rm -f "$WORK/agg"
$Q -U regress_qp_transport -d $DB -c "SELECT pubdata.run_job_now(id) FROM pubdata.job WHERE kind = 'aggregation'" >"$WORK/agg" 2>&1 &
bg=$!
for i in $(seq 1 100); do
	row=$($Q -U regress_qp_transport -d $DB -c "SELECT command, resource, phase, job_id IS NOT NULL, job_run_id IS NOT NULL, relation FROM pubdata.progress")
	[ -n "$row" ] && break
	sleep 0.1
done
[ "$row" = "aggregation|QP-DAILY|running the aggregation|t|t|qp.daily" ] || fail "the aggregation run's progress: [$row]"
[ "$($Q -U regress_qp_other -d $DB -c "SELECT count(*) FROM pubdata.progress")" = "0" ] ||
	fail "another department sees the aggregation run"
wait "$bg"; bg=
[ "$($Q -U regress_qp_transport -d $DB -c "SELECT count(*) FROM pubdata.progress")" = "0" ] ||
	fail "a finished aggregation run is still shown"
ok "an aggregation run is shown with its job and run while it runs, to its provider only"
