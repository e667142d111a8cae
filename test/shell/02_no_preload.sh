#!/bin/bash
# Without shared_preload_libraries (a cluster of its own, TimeZone UTC): CREATE
# EXTENSION and every later call work, in this session and in new ones, with
# no FATAL in the server log; the catalog, sharing requests and decisions, the
# calendar, quality (of one's own data) and open data work; what needs the
# preloaded library says so with SQLSTATE 55000 and a hint naming
# shared_preload_libraries; and no department reads another's registered table
# around the rules: the policies refuse, whatever the grant.
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
BINDIR=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}
. "$(dirname "$0")/../lib.sh"
NPORT=$((PGPORT + 20))
NSOCK=$WORK/nopreload
NDATA=$NSOCK/data
DB=np

rm -rf "$NSOCK"; mkdir -p "$NSOCK" && chown postgres: "$NSOCK"
trap 'stop_cluster "$NDATA"' EXIT
fail() { echo "02_no_preload: FAILED: $*" >&2; tail -20 "$NSOCK/server.log" >&2; exit 1; }
ok() { echo "ok - $*"; }
P="$BINDIR/psql -X -q -v ON_ERROR_STOP=1 -h $NSOCK -p $NPORT -U postgres"
q() { $P -At -d $DB -c "$1"; }
# expect_error ROLE SQL: the statement fails with 55000 and the hint names shared_preload_libraries
expect_error() {
	local out
	out=$($BINDIR/psql -X -q -h "$NSOCK" -p "$NPORT" -U postgres -d $DB -v VERBOSITY=verbose \
		-c "SET ROLE $1" -c "$2" 2>&1)
	grep -q "ERROR:  55000" <<<"$out" && grep -q "HINT: .*shared_preload_libraries" <<<"$out" \
		|| fail "expected a 55000 error naming shared_preload_libraries from \"$2\" as $1, got: $out"
}

# a cluster like the test cluster, but nothing preloaded
start_cluster "$NDATA" "$NSOCK" "$NPORT" "shared_preload_libraries = ''
pubdata.database = '$DB'" || fail "start"
[ "$($P -At -d postgres -c "SHOW shared_preload_libraries")" = "" ] || fail "pubdata is preloaded"
$P -d postgres -c "CREATE DATABASE $DB" || fail "create database"

out=$($P -d $DB -c "CREATE EXTENSION pubdata CASCADE" 2>&1) || fail "CREATE EXTENSION: $out"
[ "$(grep -c "WARNING:  pubdata's scheduler is not running" <<<"$out")" = 1 ] || fail "not one warning that jobs do not run: $out"
ok "CREATE EXTENSION works, and warns that the scheduler does not run"
[ "$(q "SHOW pubdata.database")" = "$DB" ] || fail "SHOW pubdata.database"
[ "$($P -At -d $DB -c "LOAD 'pubdata'" -c "SELECT string_agg(name || '=' || context, ',' ORDER BY name) FROM pg_settings WHERE name IN ('pubdata.database', 'pubdata.audit_buffer')")" \
	= "pubdata.audit_buffer=sighup,pubdata.database=sighup" ] || fail "LOAD in a new session, settings read at server start"
ok "new sessions load the library: LOAD, SHOW pubdata.database (defined as sighup)"

# --- catalog and sharing: the bureau, a provider and a user department ---
$P -d $DB >/dev/null <<'SQL' || fail "catalog and sharing set-up"
SET client_min_messages = warning;
CREATE ROLE np_bureau IN ROLE pubdata_admin;
CREATE ROLE np_police;
CREATE ROLE np_civil;
CREATE ROLE np_health;
CREATE ROLE np_bi IN ROLE pubdata_open_reader;
CREATE SCHEMA police AUTHORIZATION np_police;
CREATE SCHEMA civil AUTHORIZATION np_civil;
SET ROLE np_bureau;
SELECT pubdata.add_department('NP-GA', '市公安局', '331100', 'administrative', 'np_police');
SELECT pubdata.add_department('NP-MZ', '市民政局', '331100', 'administrative', 'np_civil');
SELECT pubdata.add_department('NP-WJ', '市卫生健康委员会', '331100', 'administrative', 'np_health');
SET ROLE np_police;
CREATE TABLE police.household (id_number text PRIMARY KEY, name text, region text);
INSERT INTO police.household VALUES ('330102199001011234', '张三', '331102'), ('33112119800202567X', '李四', '331121');
CREATE TABLE police.station (id integer PRIMARY KEY, name text, region text);
INSERT INTO police.station VALUES (1, '城北派出所', '331102');
SELECT pubdata.register_resource('police.household', 'NP-HH', '户籍人口', 'NP-GA', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('police.station', 'NP-ST', '派出所', 'NP-GA', 'unconditional', 'open', 'monthly', 1);
SELECT pubdata.set_item('NP-ST', 'name', '名称');
SELECT pubdata.submit_resource('NP-HH'), pubdata.submit_resource('NP-ST');
SET ROLE np_bureau;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['NP-HH', 'NP-ST']) c;
SET ROLE np_civil;
SELECT pubdata.request_share('NP-HH', '最低生活保障资格核查', ARRAY['id_number', 'region']);
SET ROLE np_police;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
SQL
[ "$(q "SELECT status || ',' || in_force FROM pubdata.share_request_status WHERE id = 1")" = "approved,true" ] || fail "grant not in force"
[ "$(q "SELECT string_agg(code || ':' || status, ',' ORDER BY code) FROM pubdata.resource")" = "NP-HH:published,NP-ST:published" ] \
	|| fail "catalog"
[ "$(q "SET ROLE np_police; SELECT count(*) FROM police.household")" = 2 ] || fail "the provider reads its own table"
ok "catalog (register, submit, review, publish) and sharing (request, decide) work; the provider reads its table"

# --- no department reads around the rules ---
expect_error np_civil "SELECT id_number FROM police.household"
expect_error np_civil "SELECT region FROM police.household WHERE region = '331102'"
expect_error np_civil "COPY (SELECT id_number FROM police.household) TO STDOUT"
expect_error np_civil "COPY police.household (id_number) TO STDOUT"
expect_error np_civil "SELECT name FROM police.station"
expect_error np_civil "CREATE TABLE civil.np_copy AS SELECT id_number FROM police.household"
[ "$(q "SELECT count(*) FROM pg_class WHERE relname = 'np_copy'")" = 0 ] || fail "a copy was made"
out=$($BINDIR/psql -X -q -h "$NSOCK" -p "$NPORT" -U postgres -d $DB -c "SET ROLE np_civil" \
	-c "SET row_security = off" -c "SELECT id_number FROM police.household" 2>&1)
grep -q "ERROR:  query would be affected by row-level security policy" <<<"$out" || fail "row_security = off: $out"
[ "$(q "SELECT relrowsecurity FROM pg_class WHERE oid = 'police.household'::regclass")" = t ] || fail "row-level security off"
[ "$(q "SET ROLE np_health; SELECT count(*) FROM police.household")" = 0 ] || fail "a department without a grant reads rows"
ok "a granted department reads no row of the restricted table (SELECT, COPY, CREATE TABLE AS, row_security = off), nor of the unconditional one: 55000, hint names shared_preload_libraries; one without a grant reads no row"

# --- calendar ---
[ "$(q "SELECT pubdata.is_workday('2026-10-01')::text || ',' || pubdata.is_workday('2026-02-14')")" = "false,true" ] || fail "is_workday"
[ "$(q "SELECT pubdata.add_working_days('2026-09-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai'")" = "2026-10-09 23:59:59.999999" ] \
	|| fail "add_working_days on a UTC server: $(q "SELECT pubdata.add_working_days('2026-09-30 10:00+08', 2)")"
[ "$(q "SELECT pubdata.working_days_between('2025-09-30'::date, '2025-10-10')")" = 2 ] || fail "working_days_between"
ok "calendar: holidays, 调休, deadlines in Asia/Shanghai days on a UTC server"

# --- quality: the provider measures; the bureau's audited measurement refuses ---
[ "$(q "SET ROLE np_police; SELECT pubdata.add_quality_rule('NP-HH', 'id_number', 'id_card') > 0 AND pubdata.measure_quality('NP-HH') > 0")" = t ] \
	|| fail "the provider measures its restricted resource"
[ "$(q "SET ROLE np_bureau; SELECT pubdata.measure_quality('NP-ST') > 0")" = t ] || fail "the bureau measures an unconditional resource"
[ "$(q "SELECT string_agg(resource || ':' || rows_checked, ',' ORDER BY resource) FROM pubdata.quality_score")" = "NP-HH:2,NP-ST:1" ] \
	|| fail "quality_score"
expect_error np_bureau "SELECT pubdata.measure_quality('NP-HH')"
ok "quality: the provider's and the unconditional measurements work; the bureau's of a restricted resource (audited) refuses"

# --- open data ---
[ "$(q "SET ROLE np_bi; SELECT string_agg(id || ':' || name, ',') FROM pubdata_open.np_st")" = "1:城北派出所" ] || fail "open view"
[ "$(q "SET ROLE np_bi; SELECT string_agg(dataset_code, ',') FROM pubdata_open.catalog")" = "NP-ST" ] || fail "open catalog"
[ "$(q "SELECT pubdata.dcat_catalog() -> 'dcat:dataset' -> 0 ->> 'dct:identifier'")" = "NP-ST" ] \
	|| fail "dcat_catalog: $(q "SELECT pubdata.dcat_catalog()")"
ok "open data: the open view, the open catalog and the DCAT export"

# --- what needs the preloaded library ---
expect_error postgres "SELECT * FROM pubdata.audit_chain_head()"
[ "$(q "SELECT ok FROM pubdata.verify_audit_chain()")" = t ] || fail "verify_audit_chain"
[ "$(q "SELECT launcher_pid IS NULL FROM pubdata.launcher_pid() launcher_pid")" = t ] || fail "a launcher runs"
out=$($P -d $DB -c "SET client_min_messages = warning" -c "SELECT pubdata.schedule_job('custom', '1 hour', 'SELECT 1')" 2>&1)
grep -q "WARNING:  pubdata's scheduler is not running" <<<"$out" || fail "scheduling without a launcher: $out"
ok "the audit chain head refuses; verify_audit_chain works; scheduling a job warns that it will not run"

# a fresh session calls a function first thing: nothing ends a session
for sql in "SELECT pubdata.is_workday('2026-01-01')" "SELECT count(*) FROM pubdata.resource_catalog" "SELECT pubdata.add_working_days(now(), 1) > now()"; do
	$P -d $DB -c "$sql" >/dev/null || fail "new session: $sql"
done
if grep -E "FATAL|PANIC|server process .* terminated|cannot create PGC_POSTMASTER" "$NSOCK/server.log"; then
	fail "the server log has a FATAL"
fi
ok "no FATAL in the server log"
exit 0
