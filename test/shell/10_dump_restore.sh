#!/bin/bash
# pg_dump of a database using pubdata, restored into new databases in every
# format: plain (psql), custom (pg_restore), custom in one transaction
# (--single-transaction), directory in parallel (-j 2), and custom into a fresh
# cluster (roles from pg_dumpall --globals-only).  The source has a column
# dropped and one added after registration, a scoped grant, a masked grant on
# an item after the dropped column, a scenario, open views (one conditional,
# with a named reader), quality rules, runs and the rule trigger, an
# aggregation job and its run, lineage (a registered view, an INSERT ...
# SELECT, the job's edge), a bureau's region under a bureau's region and a
# loaded calendar year.  Each restored database must equal the source:
# pubdata's dumped rows and sequences, the registered tables' row-level
# security, policies, privileges (tables, columns, schemas), triggers and the
# open views, and what each department reads; neither pg_dump nor the restore
# says a word on stderr.
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
SRC=pubdata_dump_src
DSTS="pubdata_dump_plain pubdata_dump_custom pubdata_dump_single pubdata_dump_dir"
ROLES="regress_dump_police regress_dump_civil regress_dump_health regress_dump_bi regress_dump_partner"
FPORT=$((PGPORT + 11))
FDATA=$WORK/dump_fresh
FSOCK=$WORK/dump_fresh_sock
SCHEMAS='^(dump_police|dump_stats|pubdata_open)$'

fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }
drop_all() {
	local d
	for d in $SRC $DSTS; do
		$P -d postgres -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1
	done
	$P -d postgres -c "DROP ROLE IF EXISTS ${ROLES// /, }" >/dev/null 2>&1
}
cleanup() {
	[ -f "$FDATA/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$FDATA" -m fast -w stop >/dev/null 2>&1
	rm -rf "$FDATA" "$FSOCK" "$WORK"/dump_src.*
	drop_all
}
trap cleanup EXIT
drop_all

PGOPTIONS="-c client_min_messages=warning" $P -d postgres >/dev/null <<SQL || fail "roles and databases"
CREATE ROLE regress_dump_police; CREATE ROLE regress_dump_civil; CREATE ROLE regress_dump_health;
CREATE ROLE regress_dump_bi; CREATE ROLE regress_dump_partner;
CREATE DATABASE $SRC;
SQL

$P -d $SRC >/dev/null 2>"$WORK/dump_src.err" <<'SQL' || { cat "$WORK/dump_src.err"; fail "source set-up"; }
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
GRANT pubdata_open_reader TO regress_dump_bi;
SELECT pubdata.add_region('331190', '丽水经济技术开发区', 'county', '331100');
SELECT pubdata.add_region('331191', '南明山街道', 'county', '331190');
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_dump_police');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'regress_dump_civil');
SELECT pubdata.add_department('health', '市卫生健康委', '331191', 'administrative', 'regress_dump_health');
SELECT pubdata.add_data_element('resident_id', '公民身份号码');
SELECT pubdata.load_calendar_year(2030, ARRAY['2030-01-01']::date[], ARRAY[]::date[], 'test');
CREATE SCHEMA dump_police AUTHORIZATION regress_dump_police;
CREATE SCHEMA dump_stats AUTHORIZATION regress_dump_police;

SET ROLE regress_dump_police;
CREATE TABLE dump_police.household (id_number text PRIMARY KEY, name text, scratch text, phone varchar(11), region text);
COMMENT ON COLUMN dump_police.household.id_number IS '公民身份号码';
INSERT INTO dump_police.household VALUES
	('331102199001011234', '张三', 'x', '13800000001', '331102'),
	('331121198505052345', '李四', 'y', '13900000002', '331121');
SELECT pubdata.register_resource('dump_police.household', 'PS-HH', '户籍人口信息', 'police', 'restricted', 'not_open', 'daily', 3);
ALTER TABLE dump_police.household DROP COLUMN scratch;
ALTER TABLE dump_police.household ADD COLUMN moved_in date DEFAULT '2020-01-01';
SELECT pubdata.set_item('PS-HH', 'name', '姓名', personal => 'personal');
SELECT pubdata.set_item('PS-HH', 'phone', '联系电话', personal => 'personal');
SELECT pubdata.set_item('PS-HH', 'moved_in', '迁入日期');
SELECT pubdata.set_item('PS-HH', 'id_number', '公民身份号码', is_key => true);
SELECT pubdata.declare_element('PS-HH', 'resident_id', 'id_number', authoritative => true);
SELECT pubdata.add_quality_rule('PS-HH', 'id_number', 'id_card');
SELECT pubdata.add_quality_rule('PS-HH', 'region', 'not_null', action => 'reject');
SELECT pubdata.enable_quality_trigger('PS-HH');
SELECT pubdata.measure_quality('PS-HH');
SELECT pubdata.submit_resource('PS-HH');
CREATE TABLE dump_police.station (code text PRIMARY KEY, name text, chief text);
INSERT INTO dump_police.station VALUES ('LD01', '莲都派出所', '赵小六');
SELECT pubdata.register_resource('dump_police.station', 'PS-ST', '派出所名录', 'police', 'unconditional', 'open', 'monthly', 1);
SELECT pubdata.set_item('PS-ST', 'chief', '所长', personal => 'personal', mask => 'name');
SELECT pubdata.submit_resource('PS-ST');
CREATE TABLE dump_stats.cases (region text PRIMARY KEY, n integer, run_id bigint);
CREATE TABLE dump_stats.cases_src (region text, n integer);
INSERT INTO dump_stats.cases_src VALUES ('331102', 7), ('331121', 3);
SELECT pubdata.register_resource('dump_stats.cases', 'PS-CASES', '案件统计', 'police', 'unconditional', 'conditional', 'daily', 1);
SELECT pubdata.submit_resource('PS-CASES');
CREATE VIEW dump_stats.by_region AS SELECT region, count(*) AS people FROM dump_police.household GROUP BY region;
SELECT pubdata.register_resource('dump_stats.by_region', 'PS-BYREG', '分区人口', 'police', 'unconditional', 'not_open', 'daily', 1);
CREATE TABLE dump_stats.archive (id_number text, region text);
INSERT INTO dump_stats.archive SELECT id_number, region FROM dump_police.household;
RESET ROLE;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['PS-HH', 'PS-ST', 'PS-CASES']) c;
SELECT pubdata.add_scenario('BIRTH', '出生一件事', '新生儿出生登记联办', ARRAY['civil', 'health']);
SELECT pubdata.add_scenario_resource('BIRTH', 'PS-HH', ARRAY['id_number', 'region']);
SELECT pubdata.approve_scenario('BIRTH');

SET ROLE regress_dump_police;
SELECT pubdata.allow_open_reader('PS-CASES', 'regress_dump_partner');
SELECT pubdata.schedule_aggregation('PS-CASES', 'dump_stats.cases_src', run_id_column => 'run_id', schedule => '0 3 * * *') AS job \gset
SELECT pubdata.run_job_now(:job);
RESET ROLE;
SET ROLE regress_dump_civil;
SELECT pubdata.request_share('PS-HH', '低保核查', ARRAY['id_number', 'region', 'moved_in']);
RESET ROLE;
SET ROLE regress_dump_health;
SELECT pubdata.request_share('PS-HH', '慢病随访', ARRAY['id_number', 'phone'], masks => '{"phone": "phone", "id_number": "id_card"}');
RESET ROLE;
SET ROLE regress_dump_police;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
SELECT pubdata.decide_share(2, true);
SQL
ok "source database set up"

# what each reader sees: the same before and after every restore
reads() {
	local db=$1 shift_host=${2:-}
	$P -At $shift_host -d "$db" <<'SQL'
SET ROLE regress_dump_civil;
SELECT 'civil ' || string_agg(id_number || ':' || region || ':' || moved_in, ',' ORDER BY id_number) FROM dump_police.household;
RESET ROLE; SET ROLE regress_dump_health;
SELECT 'health ' || string_agg(id_number || ':' || phone, ',' ORDER BY phone) FROM dump_police.household;
RESET ROLE; SET ROLE regress_dump_bi;
SELECT 'bi ' || string_agg(code || ':' || name || ':' || chief, ',') FROM pubdata_open.ps_st;
RESET ROLE; SET ROLE regress_dump_partner;
SELECT 'partner ' || string_agg(region || ':' || n, ',' ORDER BY region) FROM pubdata_open.ps_cases;
RESET ROLE;
SELECT 'lineage ' || string_agg(source_name || '>' || target_name || ':' || kind || ':' || count, ',' ORDER BY source_name, target_name, kind)
  FROM pubdata.lineage_edge;
SELECT 'comment ' || attname || ': ' || replace(col_description(attrelid, attnum), E'\n', ' / ')
  FROM pg_attribute WHERE attrelid = 'dump_police.household'::regclass AND col_description(attrelid, attnum) IS NOT NULL ORDER BY attnum;
SQL
}
state() {
	local db=$1 shift_host=${2:-}
	$P -At $shift_host -d "$db" -f test/catalog_state.sql &&
	$P -At $shift_host -d "$db" -v schemas="$SCHEMAS" -f test/table_state.sql &&
	reads "$db" "$shift_host"
}
state $SRC > "$WORK/dump_src.state" || fail "state of the source"
# a test that could not fail: the source holds what it should
for want in 'pubdata.resource 4 ' 'pubdata.share_request 2 ' 'pubdata.quality_run 1 ' 'pubdata.quality_rule 2 ' \
		'pubdata.job 1 ' 'pubdata.lineage_observation [1-9]' 'pubdata.open_reader 1 ' 'pubdata.region 2 ' 'pubdata.calendar_year 1 ' \
		'pubdata.resource_origin 4 ' 'pubdata.scenario_resource 1 ' 'dump_police.household trigger CREATE TRIGGER pubdata_quality_check' \
		'civil 331102199001011234:331102:2020-01-01' 'health 3311\*\*\*\*\*\*\*\*\*\*1234:138\*\*\*\*0001' 'bi LD01:莲都派出所:赵\*六' \
		'partner 331102:7,331121:3' 'comment id_number: 公民身份号码 / \[pubdata\] masked in grants: id_card$' \
		'comment phone: \[pubdata\] masked in grants: phone$' 'lineage .*dump_police.household>dump_stats.archive:insert_select:1' \
		'lineage .*dump_police.household>dump_stats.by_region:view_definition:1' 'lineage .*dump_stats.cases_src>dump_stats.cases:aggregation:1'; do
	grep -q "^$want" "$WORK/dump_src.state" || { cat "$WORK/dump_src.state"; fail "the source lacks '$want'"; }
done
ok "source state: $(grep -c '' "$WORK/dump_src.state") lines (catalog rows, tables, policies, privileges, reads)"

# compare DB [psql connection options]: the restored database equals the source
compare() {
	local db=$1 how=$2 conn=${3:-}
	state "$db" "$conn" > "$WORK/dump_$db.state" || fail "$how: state of the restored database"
	if ! diff -u "$WORK/dump_src.state" "$WORK/dump_$db.state" > "$WORK/dump_$db.diff"; then
		head -60 "$WORK/dump_$db.diff"
		fail "$how: the restored database differs from the source (- source, + restored)"
	fi
	ok "$how: restored database equals the source"
}
quiet() {
	local what=$1 file=$2
	[ -s "$file" ] && { cat "$file"; fail "$what wrote to stderr"; }
	return 0
}

$P -d postgres -c "CREATE DATABASE pubdata_dump_plain" -c "CREATE DATABASE pubdata_dump_custom" \
	-c "CREATE DATABASE pubdata_dump_single" -c "CREATE DATABASE pubdata_dump_dir" >/dev/null || fail "target databases"

# plain, through psql
"$BIN/pg_dump" -d $SRC -f "$WORK/dump_src.sql" 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "pg_dump plain"; }
quiet "pg_dump (plain)" "$WORK/dump_src.err"
$P -d pubdata_dump_plain -f "$WORK/dump_src.sql" >/dev/null 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "psql restore"; }
quiet "psql restore" "$WORK/dump_src.err"
compare pubdata_dump_plain "plain format (psql)"

# custom, pg_restore
"$BIN/pg_dump" -Fc -d $SRC -f "$WORK/dump_src.dump" 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "pg_dump -Fc"; }
quiet "pg_dump -Fc" "$WORK/dump_src.err"
"$BIN/pg_restore" --exit-on-error -d pubdata_dump_custom "$WORK/dump_src.dump" 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "pg_restore"; }
quiet "pg_restore" "$WORK/dump_src.err"
compare pubdata_dump_custom "custom format (pg_restore)"

# custom, one transaction
"$BIN/pg_restore" --single-transaction --exit-on-error -d pubdata_dump_single "$WORK/dump_src.dump" 2>"$WORK/dump_src.err" ||
	{ cat "$WORK/dump_src.err"; fail "pg_restore --single-transaction"; }
quiet "pg_restore --single-transaction" "$WORK/dump_src.err"
compare pubdata_dump_single "custom format, --single-transaction"

# directory, two jobs each way
"$BIN/pg_dump" -Fd -j 2 -d $SRC -f "$WORK/dump_src.dir" 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "pg_dump -Fd -j 2"; }
quiet "pg_dump -Fd -j 2" "$WORK/dump_src.err"
"$BIN/pg_restore" -j 2 --exit-on-error -d pubdata_dump_dir "$WORK/dump_src.dir" 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "pg_restore -j 2"; }
quiet "pg_restore -j 2" "$WORK/dump_src.err"
compare pubdata_dump_dir "directory format, -j 2"

# a fresh cluster: the roles come from pg_dumpall --globals-only
mkdir -p "$FSOCK"; chown postgres: "$FSOCK"
runuser -u postgres -- "$BIN/initdb" -D "$FDATA" --auth=trust -E UTF8 --locale=C.UTF-8 >"$FSOCK/initdb.log" 2>&1 || { cat "$FSOCK/initdb.log"; fail "initdb"; }
cat >>"$FDATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$FSOCK'
listen_addresses = ''
port = $FPORT
timezone = 'UTC'
fsync = off
CONF
runuser -u postgres -- "$BIN/pg_ctl" -D "$FDATA" -l "$FSOCK/server.log" -w start >/dev/null || { tail "$FSOCK/server.log"; fail "fresh cluster start"; }
FRESH="-h $FSOCK -p $FPORT"
"$BIN/pg_dumpall" --globals-only --no-role-passwords 2>"$WORK/dump_src.err" | grep -v '^CREATE ROLE postgres;' > "$WORK/dump_src.globals" ||
	fail "pg_dumpall --globals-only"
quiet "pg_dumpall --globals-only" "$WORK/dump_src.err"
$P $FRESH -d postgres -f "$WORK/dump_src.globals" >/dev/null 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "globals into the fresh cluster"; }
$P $FRESH -d postgres -c "CREATE DATABASE pubdata_dump_fresh" >/dev/null || fail "database in the fresh cluster"
"$BIN/pg_restore" $FRESH --exit-on-error -d pubdata_dump_fresh "$WORK/dump_src.dump" 2>"$WORK/dump_src.err" || { cat "$WORK/dump_src.err"; fail "pg_restore into the fresh cluster"; }
quiet "pg_restore into the fresh cluster" "$WORK/dump_src.err"
compare pubdata_dump_fresh "custom format into a fresh cluster" "$FRESH"

# the restored catalog goes on working: new ids follow the dumped ones, a
# decision re-derives the policies, the quality trigger rejects
out=$($P -At -d pubdata_dump_custom 2>&1 <<'SQL'
SET ROLE regress_dump_civil;
SELECT pubdata.request_share('PS-HH', '再次核查', ARRAY['region']);
RESET ROLE; SET ROLE regress_dump_police;
SELECT pubdata.decide_share(3, true);
SELECT pubdata.revoke_share(1, '核查结束');
SELECT 'comment ' || replace(col_description('dump_police.household'::regclass, 1), E'\n', ' / ');
COMMENT ON COLUMN dump_police.household.id_number IS '身份证号';
SELECT 'comment ' || replace(col_description('dump_police.household'::regclass, 1), E'\n', ' / ');
RESET ROLE; SET ROLE regress_dump_civil;
SELECT count(*) FROM dump_police.household WHERE region IS NOT NULL;
RESET ROLE; SET ROLE regress_dump_police;
INSERT INTO dump_police.household (id_number, name) VALUES ('331102200001011230', '王五');
SQL
)
grep -q '^3$' <<<"$out" && grep -q '^2$' <<<"$out" && grep -q "violates quality rule" <<<"$out" ||
	fail "the restored catalog does not go on working: $out"
# the restored comment's generated line is rebuilt in place, never doubled
[ "$(grep -c '^comment 公民身份号码 / \[pubdata\] masked in grants: id_card$' <<<"$out")" = 1 ] &&
	grep -q '^comment 身份证号 / \[pubdata\] masked in grants: id_card$' <<<"$out" ||
	fail "the restored column comment: $out"
ok "after restore: request 3 is new, its decision reads 2 rows, the quality trigger still rejects, the mask line is rebuilt in place"
