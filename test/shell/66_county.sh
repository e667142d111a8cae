#!/bin/bash
# County -> city for real (Art 14): a second cluster holds the county's table;
# the city's aggregation job pulls it through postgres_fdw into a city resource,
# incrementally by key, on schedule; a county outage fails runs without harm
# and the feed recovers when the county is back.
#
# Env (from test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
cd "$(dirname "$0")/../.."
DB=pubdata_tap
CPORT=$((PGPORT + 5))
PSQL="psql -X -q -v ON_ERROR_STOP=1 -d $DB"
q() { $PSQL -At -c "$1"; }
cq() { psql -X -q -At -h "$PUBDATA_WORK" -p "$CPORT" -d county -c "$1"; }
fail() { echo "FAIL: $*"; tail -15 "$PUBDATA_WORK/server.log"; exit 1; }
ok() { echo "ok - $*"; }
wait_for() {
	local sql=$1 secs=$2 i
	for ((i = 0; i < secs * 5; i++)); do
		[ "$(q "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
trap 'bash test/county.sh stop "$PUBDATA_WORK"' EXIT

bash test/county.sh start "$PUBDATA_WORK" "$CPORT" || fail "county cluster did not start"
ok "county cluster on port $CPORT with $(cq "SELECT count(*) FROM population") townships"

$PSQL <<'SQL' >/dev/null || fail "city set-up"
SET client_min_messages = warning;
CREATE ROLE sh66_civil;
SELECT pubdata.add_department('sh66_civil', '市民政局(县汇聚)', '331100', 'administrative', 'sh66_civil');
CREATE SCHEMA sh66 AUTHORIZATION sh66_civil;
SET ROLE sh66_civil;
CREATE TABLE sh66.county_population (
	town_code text PRIMARY KEY, town_name text NOT NULL, region_code text NOT NULL,
	households integer, people integer, run_id bigint);
SELECT pubdata.register_resource('sh66.county_population', 'SH66-COUNTY-POP', '区县人口汇聚', 'sh66_civil',
	'unconditional', 'open', 'daily', 1, catalog_level => 'county');
SQL
bash test/county.sh link "$DB" "$PUBDATA_WORK" "$CPORT" sh66_liandu sh66_civil >/dev/null || fail "postgres_fdw link"
[ "$(q "SET ROLE sh66_civil; SELECT count(*) FROM sh66_liandu.population")" = 6 ] || fail "foreign table not readable by the department"
ok "city reads the county table through postgres_fdw as the department"
# the county's login for the city reads the aggregated table and nothing else:
# the department cannot point a foreign table at the county's catalog, at its
# other tables, nor change the county's data
out=$(q "SET ROLE sh66_civil; CREATE FOREIGN TABLE sh66_liandu.authid (rolname name, rolsuper boolean) SERVER county_sh66_liandu OPTIONS (schema_name 'pg_catalog', table_name 'pg_authid'); SELECT count(*) FROM sh66_liandu.authid" 2>&1)
case "$out" in *"permission denied"*) ok "the county's pg_authid stays closed";; *) fail "county pg_authid read through the feed: $out";; esac
out=$(q "SET ROLE sh66_civil; CREATE FOREIGN TABLE sh66_liandu.assistance (id_number text, amount numeric) SERVER county_sh66_liandu OPTIONS (schema_name 'public', table_name 'assistance'); SELECT count(*) FROM sh66_liandu.assistance" 2>&1)
case "$out" in *"permission denied"*) ok "the county's other tables stay closed";; *) fail "county table read through the feed: $out";; esac
out=$(q "SET ROLE sh66_civil; UPDATE sh66_liandu.population SET people = 0" 2>&1)
case "$out" in *"permission denied"*) ok "the county's data cannot be changed through the feed";; *) fail "county data changed through the feed: $out";; esac
[ "$(q "SELECT count(*) FROM pg_user_mappings WHERE srvname = 'county_sh66_liandu' AND 'user=city_reader' = ANY (umoptions)")" = 1 ] \
	|| fail "the mapping does not use the county's read-only login"

JOB=$(q "SET ROLE sh66_civil; SELECT pubdata.schedule_aggregation('SH66-COUNTY-POP', 'sh66_liandu.population', mode => 'incremental', key_columns => ARRAY['town_code'], run_id_column => 'run_id', schedule => '2 seconds', retry_backoff => '1 second')")
q "UPDATE pubdata.job SET enabled = false WHERE id <> $JOB" >/dev/null
wait_for "SELECT count(*) >= 1 FROM pubdata.job_run WHERE job_id = $JOB AND status = 'succeeded'" 15 || fail "county job did not run"
[ "$(q "SELECT sum(people) FROM sh66.county_population")" = "$(cq "SELECT sum(people) FROM population")" ] || fail "city copy differs"
ok "job $JOB pulled $(q "SELECT count(*) FROM sh66.county_population") townships ($(q "SELECT sum(people) FROM sh66.county_population") people) into SH66-COUNTY-POP"

# the county corrects a figure and adds a township: the next run writes just those
# (a run that started before the change, which a loaded machine makes likely
# with a 2-second schedule, writes nothing: the first run that writes counts)
LAST=$(q "SELECT max(id) FROM pubdata.job_run WHERE job_id = $JOB")
cq "UPDATE population SET people = people + 100, updated_at = now() WHERE town_code = '331102101'; INSERT INTO population (town_code, town_name, households, people) VALUES ('331102102', '老竹畲族镇', 3001, 9120)" >/dev/null
wait_for "SELECT count(*) >= 1 FROM pubdata.job_run WHERE job_id = $JOB AND id > $LAST AND status = 'succeeded' AND rows_written > 0" 10 || fail "no run wrote the change"
w=$(q "SELECT rows_written FROM pubdata.job_run WHERE job_id = $JOB AND id > $LAST AND status = 'succeeded' AND rows_written > 0 ORDER BY id LIMIT 1")
[ "$w" = 2 ] || fail "expected 2 rows written by the incremental run, got $w"
[ "$(q "SELECT people FROM sh66.county_population WHERE town_code = '331102101'")" = 12365 ] || fail "correction not aggregated"
RUN=$(q "SELECT run_id FROM sh66.county_population WHERE town_code = '331102102'")
[ "$(q "SELECT job_id = $JOB FROM pubdata.job_run WHERE id = $RUN")" = t ] || fail "row does not carry its run id"
ok "incremental run wrote 2 rows (1 corrected, 1 new), each carrying run id $RUN"

# a county outage: runs fail (the launcher stays), then the feed recovers
LPID=$(q "SELECT pubdata.launcher_pid()")
bash test/county.sh stop "$PUBDATA_WORK"
LAST=$(q "SELECT max(id) FROM pubdata.job_run WHERE job_id = $JOB")
wait_for "SELECT count(*) >= 1 FROM pubdata.job_run WHERE job_id = $JOB AND id > $LAST AND status = 'failed'" 10 || fail "no failed run while the county is down"
ok "county down: run failed with '$(q "SELECT left(error, 60) FROM pubdata.job_run WHERE job_id = $JOB AND status = 'failed' ORDER BY id DESC LIMIT 1")'"
[ "$(q "SELECT count(*) FROM sh66.county_population")" = 7 ] || fail "a failed run changed the city copy"
bash test/county.sh start "$PUBDATA_WORK" "$CPORT" || fail "county restart"
LAST=$(q "SELECT max(id) FROM pubdata.job_run WHERE job_id = $JOB")
wait_for "SELECT count(*) >= 1 FROM pubdata.job_run WHERE job_id = $JOB AND id > $LAST AND status = 'succeeded'" 15 || fail "feed did not recover"
[ "$(q "SELECT pubdata.launcher_pid()")" = "$LPID" ] || fail "launcher changed during the outage"
ok "county back: feed recovered, launcher $LPID unchanged"
q "SELECT pubdata.alter_job($JOB, enabled => false)" >/dev/null
exit 0
