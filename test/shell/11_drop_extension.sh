#!/bin/bash
# DROP EXTENSION pubdata leaves the registered tables as they were before
# registration: row-level security (on or off, forced or not), policies (the
# department's own ones that registration dropped come back, pubdata's go),
# privileges of tables, columns and schemas (PUBLIC's and the departments'
# given back, pubdata's taken), column comments without the line naming the
# masks in force, no trigger of pubdata's; the schemas pubdata
# and pubdata_open are gone; a failed DROP changes nothing; CREATE EXTENSION
# again and registering again work; a restored copy of the database is given
# back the same way (what registration recorded is dumped).
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
DB=pubdata_drop
COPY=pubdata_drop_copy
ROLES="regress_drop_police regress_drop_civil regress_drop_health regress_drop_bi regress_drop_reporter regress_drop_partner"
SCHEMAS='^(drop_police|drop_stats)$'

fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }
cleanup() {
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP DATABASE IF EXISTS $COPY" >/dev/null 2>&1
	$P -d postgres -c "DROP ROLE IF EXISTS ${ROLES// /, }" >/dev/null 2>&1
	rm -f "$WORK"/drop_*
}
trap cleanup EXIT
cleanup
state() { $P -At -d "$1" -v schemas="$SCHEMAS" -f test/table_state.sql; }
same() {
	local what=$1 db=$2 want=$3
	state "$db" > "$WORK/drop_now.state" || fail "$what: state"
	if ! diff -u "$WORK/$want" "$WORK/drop_now.state" > "$WORK/drop.diff"; then
		head -60 "$WORK/drop.diff"
		fail "$what (- expected, + now)"
	fi
}

PGOPTIONS="-c client_min_messages=warning" $P -d postgres >/dev/null <<SQL || fail "roles and database"
CREATE ROLE regress_drop_police; CREATE ROLE regress_drop_civil; CREATE ROLE regress_drop_health;
CREATE ROLE regress_drop_bi; CREATE ROLE regress_drop_reporter; CREATE ROLE regress_drop_partner;
CREATE DATABASE $DB;
SQL

# the departments' tables as they are before pubdata: one bare, one with row
# security forced and a policy for everyone, privileges for PUBLIC, for a
# department and (with grant option, and on a column) for a reporting role,
# a schema the reporting role may use, a view
$P -d $DB >/dev/null <<'SQL' || fail "tables before registration"
CREATE SCHEMA drop_police AUTHORIZATION regress_drop_police;
CREATE SCHEMA drop_stats AUTHORIZATION regress_drop_police;
GRANT USAGE ON SCHEMA drop_stats TO regress_drop_reporter;
GRANT USAGE ON SCHEMA drop_police TO regress_drop_civil;
SET ROLE regress_drop_police;
CREATE TABLE drop_police.household (id_number text PRIMARY KEY, name text, phone text, region text);
COMMENT ON COLUMN drop_police.household.phone IS '联系电话';
INSERT INTO drop_police.household VALUES ('331102199001011234', '张三', '13800000001', '331102'),
	('331121198505052345', '李四', '13900000002', '331121');
CREATE TABLE drop_police.station (code text PRIMARY KEY, name text, chief text);
INSERT INTO drop_police.station VALUES ('LD01', '莲都派出所', '赵小六');
ALTER TABLE drop_police.station ENABLE ROW LEVEL SECURITY;
ALTER TABLE drop_police.station FORCE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON drop_police.station FOR SELECT TO PUBLIC USING (code LIKE 'LD%');
CREATE POLICY owner_writes ON drop_police.station TO regress_drop_police USING (true) WITH CHECK (true);
GRANT SELECT ON drop_police.station TO PUBLIC;
GRANT SELECT, INSERT ON drop_police.station TO regress_drop_civil;
GRANT SELECT (name) ON drop_police.station TO regress_drop_reporter;
CREATE TABLE drop_stats.cases (region text PRIMARY KEY, n integer);
INSERT INTO drop_stats.cases VALUES ('331102', 7), ('331121', 3);
GRANT SELECT ON drop_stats.cases TO regress_drop_reporter WITH GRANT OPTION;
CREATE VIEW drop_stats.by_region AS SELECT region, count(*) AS people FROM drop_police.household GROUP BY region;
GRANT SELECT ON drop_stats.by_region TO regress_drop_reporter;
SQL
state $DB > "$WORK/drop_before.state" || fail "state before registration"
ok "before registration: $(grep -c '' "$WORK/drop_before.state") lines of state"

# register everything and use it: grants (scoped, masked), open views (one
# conditional with a named reader), the quality trigger, a job
register() {
	local db=$1
	$P -d "$db" >/dev/null 2>"$WORK/drop_register.err" <<'SQL' || { cat "$WORK/drop_register.err"; return 1; }
SET client_min_messages = warning;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_drop_police');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'regress_drop_civil');
SELECT pubdata.add_department('health', '市卫生健康委', '331100', 'administrative', 'regress_drop_health');
GRANT pubdata_open_reader TO regress_drop_bi;
SET ROLE regress_drop_police;
SELECT pubdata.register_resource('drop_police.household', 'DR-HH', '户籍人口信息', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.set_item('DR-HH', 'name', '姓名', personal => 'personal');
SELECT pubdata.set_item('DR-HH', 'phone', '联系电话', personal => 'personal');
SELECT pubdata.add_quality_rule('DR-HH', 'region', 'not_null', action => 'reject');
SELECT pubdata.enable_quality_trigger('DR-HH');
SELECT pubdata.submit_resource('DR-HH');
SELECT pubdata.register_resource('drop_police.station', 'DR-ST', '派出所名录', 'police', 'unconditional', 'open', 'monthly', 1);
SELECT pubdata.set_item('DR-ST', 'chief', '所长', personal => 'personal', mask => 'name');
SELECT pubdata.submit_resource('DR-ST');
SELECT pubdata.register_resource('drop_stats.cases', 'DR-CASES', '案件统计', 'police', 'unconditional', 'conditional', 'daily', 1);
SELECT pubdata.submit_resource('DR-CASES');
SELECT pubdata.register_resource('drop_stats.by_region', 'DR-BYREG', '分区人口', 'police', 'unconditional', 'not_open', 'daily', 1);
SELECT pubdata.submit_resource('DR-BYREG');
RESET ROLE;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['DR-HH', 'DR-ST', 'DR-CASES', 'DR-BYREG']) c;
SET ROLE regress_drop_police;
SELECT pubdata.allow_open_reader('DR-CASES', 'regress_drop_partner');
SELECT pubdata.schedule_aggregation('DR-CASES', 'SELECT region, count(*)::integer FROM drop_police.household GROUP BY region',
									schedule => '0 3 * * *');
RESET ROLE; SET ROLE regress_drop_civil;
SELECT pubdata.request_share('DR-HH', '低保核查', ARRAY['id_number', 'region']) AS r1 \gset
RESET ROLE; SET ROLE regress_drop_health;
SELECT pubdata.request_share('DR-HH', '慢病随访', ARRAY['id_number', 'phone'], masks => '{"phone": "phone"}') AS r2 \gset
RESET ROLE; SET ROLE regress_drop_police;
SELECT pubdata.decide_share(:r1, true, row_scope => '{"region": "331102"}');
SELECT pubdata.decide_share(:r2, true);
SQL
}
reads() {
	$P -At -d "$1" <<'SQL'
SET ROLE regress_drop_civil;
SELECT 'civil ' || string_agg(id_number || ':' || region, ',') FROM drop_police.household;
RESET ROLE; SET ROLE regress_drop_health;
SELECT 'health ' || string_agg(phone, ',' ORDER BY phone) FROM drop_police.household;
RESET ROLE; SET ROLE regress_drop_bi;
SELECT 'bi ' || string_agg(code || ':' || chief, ',') FROM pubdata_open.dr_st;
SQL
}

$P -d $DB -c "SET client_min_messages = warning" -c "CREATE EXTENSION pubdata CASCADE" >/dev/null || fail "CREATE EXTENSION"
register $DB || fail "registration"
r=$(reads $DB | tr '\n' ' ')
[ "$r" = "civil 331102199001011234:331102 health 138****0001,139****0002 bi LD01:赵*六 " ] || fail "reads while registered: $r"
state $DB > "$WORK/drop_registered.state" || fail "state while registered"
# a test that could not fail: registration changed the tables
for want in 'drop_police.household kind=r rls=true' 'drop_police.household policy pubdata_provider' 'drop_police.household policy pubdata_grant_' \
		'drop_police.household trigger CREATE TRIGGER pubdata_quality_check' 'drop_stats.cases.n acl=pubdata_department=SELECT' \
		'schema drop_police owner=regress_drop_police acl=pubdata_department=USAGE' \
		'drop_police.household.phone comment=联系电话 / \[pubdata\] masked in grants: phone$'; do
	grep -q "^$want" "$WORK/drop_registered.state" || { cat "$WORK/drop_registered.state"; fail "registration did not make '$want'"; }
done
grep -q '^drop_police.station policy everyone_reads' "$WORK/drop_registered.state" && fail "registration kept a policy for PUBLIC"
ok "registered, granted, opened: $(diff "$WORK/drop_before.state" "$WORK/drop_registered.state" | grep -c '^[<>]') lines of state changed"

# a copy made now, given back later from what its dump recorded
$P -d postgres -c "CREATE DATABASE $COPY" >/dev/null || fail "copy database"
"$BIN/pg_dump" -Fc -d $DB -f "$WORK/drop_db.dump" 2>"$WORK/drop_dump.err" && [ ! -s "$WORK/drop_dump.err" ] || { cat "$WORK/drop_dump.err"; fail "pg_dump"; }
"$BIN/pg_restore" --exit-on-error -d $COPY "$WORK/drop_db.dump" 2>"$WORK/drop_dump.err" && [ ! -s "$WORK/drop_dump.err" ] || { cat "$WORK/drop_dump.err"; fail "pg_restore"; }

# a DROP that fails (a view of the bureau's depends on pubdata) changes nothing
out=$($P -d $DB -c "CREATE VIEW public.bureau_catalog AS SELECT code FROM pubdata.resource" -c "DROP EXTENSION pubdata" 2>&1) &&
	fail "DROP EXTENSION succeeded with a view depending on pubdata: $out"
grep -q 'cannot drop extension pubdata because other objects depend on it' <<<"$out" || fail "unexpected error: $out"
same "a failed DROP EXTENSION changed the tables" $DB drop_registered.state
ok "a DROP EXTENSION that fails leaves the sharing in place"
$P -d $DB -c "DROP VIEW public.bureau_catalog" >/dev/null || fail "drop the bureau's view"

# DROP EXTENSION ... CASCADE: the tables as before registration
$P -d $DB -c "DROP EXTENSION pubdata CASCADE" >/dev/null 2>"$WORK/drop_drop.err" || { cat "$WORK/drop_drop.err"; fail "DROP EXTENSION CASCADE"; }
same "after DROP EXTENSION CASCADE the tables differ from before registration" $DB drop_before.state
left=$($P -At -d $DB -c "SELECT string_agg(nspname, ',') FROM pg_namespace WHERE nspname LIKE 'pubdata%'")
[ -z "$left" ] || fail "schemas left behind: $left"
left=$($P -At -d $DB -c "SELECT count(*) FROM pg_policy WHERE polname LIKE 'pubdata%'")
[ "$left" = 0 ] || fail "$left pubdata policies left behind"
roles=$($P -At -d $DB -c "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'pubdata\_%'")
[ "$roles" = "pubdata_admin,pubdata_auditor,pubdata_department,pubdata_open_conditional,pubdata_open_reader,pubdata_province,pubdata_standby" ] || fail "roles after DROP: $roles"
r=$($P -At -d $DB <<'SQL' 2>&1
SET ROLE regress_drop_civil;
SELECT 'civil station ' || string_agg(code || ':' || chief, ',') FROM drop_police.station;
SELECT 'civil household ' || count(*) FROM drop_police.household;
SQL
)
echo "$r" | grep -q '^civil station LD01:赵小六$' && echo "$r" | grep -q 'permission denied for table household' ||
	fail "reads after DROP: $r"
ok "DROP EXTENSION pubdata CASCADE: every table, policy and privilege as before registration; no pubdata schema; the roles stay"

# CREATE EXTENSION again, in the same session as a DROP: registration works again
$P -d $DB -c "SET client_min_messages = warning" -c "CREATE EXTENSION pubdata" -c "DROP EXTENSION pubdata" -c "CREATE EXTENSION pubdata" >/dev/null ||
	fail "CREATE, DROP and CREATE again in one session"
register $DB || fail "registration after CREATE EXTENSION again"
r=$(reads $DB | tr '\n' ' ')
[ "$r" = "civil 331102199001011234:331102 health 138****0001,139****0002 bi LD01:赵*六 " ] || fail "reads after registering again: $r"
same "registering again differs from the first registration" $DB drop_registered.state
ok "CREATE EXTENSION again: registering, granting and opening work as the first time"

# DROP EXTENSION without CASCADE: pubdata's own views, policies and trigger
# on the tables do not stop it
$P -d $DB -c "DROP EXTENSION pubdata" >/dev/null 2>"$WORK/drop_drop.err" || { cat "$WORK/drop_drop.err"; fail "DROP EXTENSION (RESTRICT)"; }
same "after DROP EXTENSION (RESTRICT) the tables differ from before registration" $DB drop_before.state
ok "DROP EXTENSION pubdata without CASCADE: the same"

# the restored copy: DROP SCHEMA pubdata CASCADE takes the extension too
same "the restored copy differs from its source" $COPY drop_registered.state
$P -d $COPY -c "DROP SCHEMA pubdata CASCADE" >/dev/null 2>"$WORK/drop_drop.err" || { cat "$WORK/drop_drop.err"; fail "DROP SCHEMA pubdata CASCADE"; }
same "the restored copy after DROP SCHEMA pubdata CASCADE differs from before registration" $COPY drop_before.state
ok "a restored copy is given back the same way, by DROP SCHEMA pubdata CASCADE"
