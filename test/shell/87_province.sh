#!/bin/bash
# The province receives every city's catalog (Art 4, 5, 9, 20; issue 13):
# three real clusters started here -- Lishui (331100) and Wenzhou (330300),
# wal_level = logical, and the province (330000) -- each with pubdata.  Each
# city's bureau publishes its catalog (pubdata.publish_catalog_to_province),
# the province's bureau registers the cities and its DBA subscribes with a
# least-privileged replication login per city.  Both cities have a GA-001.
# Drafts, grants and audit never leave a city; an entry is retired; the
# province is stopped while the cities change more, and catches up; a city
# that adds a column keeps replicating; a city that forges another city's
# rows is refused.  At each step the province's catalog, catalog_as_of() and
# DCAT export must equal the union of the cities' published catalogs.
#
# Env (test/run.sh): PGPORT PUBDATA_BINDIR PUBDATA_WORK; runs as root.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/province
LS_PORT=$((PGPORT + 41)); WZ_PORT=$((PGPORT + 42)); PV_PORT=$((PGPORT + 43))

fail() {
	FAILED=1
	echo "87_province: FAILED: $*" >&2
	for c in lishui wenzhou province; do
		[ -f "$WORK/$c/server.log" ] && { echo "--- $c log" >&2; tail -8 "$WORK/$c/server.log" >&2; }
	done
	exit 1
}
ok() { echo "ok - $*"; }
stop_one() {
	[ -f "$WORK/$1/data/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$1/data" -m fast -w stop >/dev/null 2>&1
	return 0
}
# KEEP=1 leaves the clusters running after a failure, to look at them
cleanup() {
	[ -n "${KEEP:-}" ] && [ -n "${FAILED:-}" ] && { echo "clusters left running under $WORK" >&2; return; }
	stop_one province; stop_one lishui; stop_one wenzhou; rm -rf "$WORK"
}
trap cleanup EXIT

# sql CLUSTER ROLE SQL: run as ROLE (SET ROLE; postgres for the DBA) in the cluster's database
port_of() { case $1 in lishui) echo $LS_PORT;; wenzhou) echo $WZ_PORT;; province) echo $PV_PORT;; esac; }
sql() {
	local c=$1 role=$2
	shift 2
	local pre=""
	[ "$role" != postgres ] && pre="SET ROLE $role; "
	"$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/$c" -p "$(port_of "$c")" -U postgres -d "$c" -c "$pre$*"
}
# refused CLUSTER ROLE SQL PATTERN: the statement fails with PATTERN in its message
refused() {
	local out
	out=$(sql "$1" "$2" "$3" 2>&1) && fail "not refused ($2 on $1): $3 -> $out"
	echo "$out" | grep -q -- "$4" || fail "refused for another reason ($2 on $1): $3 -> $out"
}

start_one() {
	local c=$1 port=$2 extra=$3
	mkdir -p "$WORK/$c" && chown postgres: "$WORK/$c" && chmod 700 "$WORK/$c"
	runuser -u postgres -- "$BIN/initdb" -D "$WORK/$c/data" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/$c/initdb.log" 2>&1 \
		|| { cat "$WORK/$c/initdb.log"; fail "initdb $c"; }
	cat >>"$WORK/$c/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/$c'
listen_addresses = ''
port = $port
timezone = 'UTC'
fsync = off
max_worker_processes = 16
pubdata.database = '$c'
$extra
CONF
	runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$c/data" -l "$WORK/$c/server.log" -w start >/dev/null || fail "start $c"
	"$BIN/psql" -X -q -h "$WORK/$c" -p "$port" -U postgres -d postgres -c "CREATE DATABASE $c" >/dev/null || fail "createdb $c"
}
restart_one() {
	runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$1/data" -l "$WORK/$1/server.log" -w start >/dev/null || fail "restart $1"
}

rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"
start_one lishui $LS_PORT "wal_level = logical
pubdata.open_base_url = 'https://data.lishui.gov.cn/open'
pubdata.open_license = 'https://data.lishui.gov.cn/licence'"
start_one wenzhou $WZ_PORT "wal_level = logical
pubdata.open_base_url = 'https://data.wenzhou.gov.cn/open'"
start_one province $PV_PORT "pubdata.open_base_url = 'https://data.zj.gov.cn/open'"

# --- the cities: departments, entries in every state ------------------------
city_setup() {
	local c=$1 code=$2 name=$3 prefix=$4
	"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/$c" -p "$(port_of "$c")" -U postgres -d "$c" >/dev/null <<SQL || fail "$c set-up"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE ${prefix}_bureau LOGIN IN ROLE pubdata_admin;
CREATE ROLE ${prefix}_police LOGIN;
CREATE ROLE ${prefix}_civil LOGIN;
CREATE ROLE ${prefix}_auditor LOGIN IN ROLE pubdata_auditor;
-- the province's replication login on this city: nothing but what is published
CREATE ROLE province_reader LOGIN REPLICATION IN ROLE pubdata_province;
CREATE SCHEMA police AUTHORIZATION ${prefix}_police;
CREATE SCHEMA civil AUTHORIZATION ${prefix}_civil;
SET ROLE ${prefix}_bureau;
SELECT pubdata.add_region('$code', '$name', 'city') WHERE '$code' <> '331100';
SELECT pubdata.add_department('GA', '${name}公安局', '$code', 'administrative', '${prefix}_police', data_commissioner => '张专员');
SELECT pubdata.add_department('MZ', '${name}民政局', '$code', 'administrative', '${prefix}_civil');
RESET ROLE;
SET ROLE ${prefix}_police;
CREATE TABLE police.household (id integer PRIMARY KEY, name text, address text);
INSERT INTO police.household VALUES (1, '张三', '人民街1号');
SELECT pubdata.register_resource('police.household', 'GA-001', '户籍人口信息', 'GA', 'unconditional', 'open', 'daily', 2,
	summary => '${name}户籍人口', category => '社会保障', high_value => true, keywords => ARRAY['户籍', '人口']);
SELECT pubdata.set_item('GA-001', 'name', '姓名', personal => 'personal', mask => 'name');
SELECT pubdata.submit_resource('GA-001');
CREATE TABLE police.vehicle (plate text PRIMARY KEY, owner text);
SELECT pubdata.register_resource('police.vehicle', 'GA-002', '机动车登记', 'GA', 'restricted', 'not_open', 'weekly', 3);
SELECT pubdata.submit_resource('GA-002');
CREATE TABLE police.secret_case (id integer PRIMARY KEY, note text);
SELECT pubdata.register_resource('police.secret_case', 'GA-DRAFT', '未提交的草稿', 'GA', 'restricted', 'not_open', 'daily', 4);
RESET ROLE;
SET ROLE ${prefix}_civil;
CREATE TABLE civil.aid (id integer PRIMARY KEY, amount numeric);
SELECT pubdata.register_resource('civil.aid', 'MZ-001', '低保救助', 'MZ', 'unconditional', 'open', 'monthly', 1);
SELECT pubdata.submit_resource('MZ-001');
CREATE TABLE civil.old (id integer PRIMARY KEY);
SELECT pubdata.register_resource('civil.old', 'MZ-OLD', '旧救助名册', 'MZ', 'unconditional', 'open', 'annual', 1);
SELECT pubdata.submit_resource('MZ-OLD');
RESET ROLE;
SET ROLE ${prefix}_bureau;
SELECT pubdata.review_resource(x, true) FROM unnest(ARRAY['GA-001', 'GA-002', 'MZ-001', 'MZ-OLD']) x;
SELECT pubdata.publish_resource(x) FROM unnest(ARRAY['GA-001', 'GA-002', 'MZ-OLD']) x;
RESET ROLE;
-- a scenario approved (public), one proposed (not), a grant (never federated)
SET ROLE ${prefix}_civil;
SELECT pubdata.add_scenario('SC-1', '低保核查', '最低生活保障资格核查', ARRAY['MZ']);
SELECT pubdata.add_scenario_resource('SC-1', 'GA-002', ARRAY['plate']);
SELECT pubdata.add_scenario('SC-2', '待批场景', '尚未批准', ARRAY['MZ']);
SELECT pubdata.request_share('GA-002', '车辆核查', ARRAY['plate']);
RESET ROLE;
SET ROLE ${prefix}_bureau;
SELECT pubdata.approve_scenario('SC-1');
SQL
}
city_setup lishui 331100 丽水市 ls
city_setup wenzhou 330300 温州市 wz
ok "two cities with the same codes (GA-001 ...) in every state: draft, submitted, approved, published"

# --- publishing: the bureau, not a department -------------------------------
refused lishui ls_police "SELECT pubdata.publish_catalog_to_province()" "permission denied for function publish_catalog_to_province"
refused wenzhou wz_bureau "SELECT pubdata.publish_catalog_to_province()" "which city publishes this catalog"
refused wenzhou wz_bureau "SELECT pubdata.publish_catalog_to_province('339999')" 'region "339999" does not exist'
[ "$(sql lishui ls_bureau "SELECT pubdata.publish_catalog_to_province()")" = pubdata_catalog ] || fail "Lishui publication"
[ "$(sql wenzhou wz_bureau "SELECT pubdata.publish_catalog_to_province('330300')")" = pubdata_catalog ] || fail "Wenzhou publication"
refused wenzhou wz_bureau "SELECT pubdata.publish_catalog_to_province('331100')" "this catalog is published as city 330300"
got=$(sql lishui postgres "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'pubdata_catalog'")
[ "$got" = "pubdata_federation.city,pubdata_federation.department,pubdata_federation.open_dataset,pubdata_federation.region,pubdata_federation.resource,pubdata_federation.resource_history,pubdata_federation.resource_item,pubdata_federation.scenario,pubdata_federation.scenario_resource" ] \
	|| fail "published tables: $got"
got=$(sql lishui postgres "SELECT array_to_string(attnames, ',') || ' | ' || rowfilter FROM pg_publication_tables WHERE pubname = 'pubdata_catalog' AND tablename = 'resource'")
case "$got" in *relation_name*) fail "the table's local name is published: $got";; esac
case "$got" in *"status = ANY (ARRAY['published'::text, 'retired'::text])"*"city = '331100'"*|*"city = '331100'"*"status = ANY (ARRAY['published'::text, 'retired'::text])"*) ;;
	*) fail "row filter of resource: $got";; esac
[ "$(sql lishui postgres "SELECT pubupdate AND pubdelete AND NOT pubtruncate FROM pg_publication WHERE pubname = 'pubdata_catalog'")" = t ] \
	|| fail "the publication sends TRUNCATE"
ok "publish_catalog_to_province: pubdata_admin only, the city named, row filters and column lists, no TRUNCATE"

# the province's login on a city sees exactly what is published, writes nothing
rq() { "$BIN/psql" -X -q -At -h "$WORK/$1" -p "$(port_of "$1")" -U province_reader -d "$1" -c "$2" 2>&1; }
[ "$(rq lishui "SELECT string_agg(code || ':' || status, ',' ORDER BY code) FROM pubdata_federation.resource")" = "GA-001:published,GA-002:published,MZ-OLD:published" ] \
	|| fail "the province's login reads unpublished entries: $(rq lishui "SELECT string_agg(code || ':' || status, ',') FROM pubdata_federation.resource")"
for q in "SELECT count(*) FROM pubdata.resource" "SELECT count(*) FROM pubdata.share_request" "SELECT count(*) FROM pubdata.access_log" \
		"SELECT count(*) FROM police.household" "INSERT INTO pubdata_federation.resource SELECT * FROM pubdata_federation.resource LIMIT 1"; do
	out=$(rq lishui "$q")
	echo "$out" | grep -q "permission denied" || fail "the province's login on a city: $q -> $out"
done
ok "the province's replication login reads only published rows of pubdata_federation, writes nothing"

# --- the province subscribes -------------------------------------------------
psetup() {
	"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/province" -p $PV_PORT -U postgres -d province >/dev/null <<SQL || fail "province set-up"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE pv_bureau LOGIN IN ROLE pubdata_admin;
CREATE ROLE pv_auditor LOGIN IN ROLE pubdata_auditor;
CREATE ROLE pv_dept LOGIN;
CREATE ROLE pv_bi LOGIN IN ROLE pubdata_open_reader;
SELECT pubdata.add_region('330000', '浙江省', 'province');
SELECT pubdata.add_department('ZJ-DSJ', '浙江省大数据发展管理局', '330000', 'administrative', 'pv_dept');
SET ROLE pv_bureau;
SELECT pubdata.add_federated_city('331100', '丽水市', 'city_331100');
SELECT pubdata.add_federated_city('330300', '温州市', 'city_330300');
SQL
}
psetup
refused province pv_dept "SELECT pubdata.add_federated_city('330100', '杭州市', 'city_330100')" "permission denied for function add_federated_city"
refused province pv_bureau "SELECT pubdata.add_federated_city('330300', '温州市', 'other')" "already registered"
refused province pv_bureau "SELECT pubdata.add_federated_city('3303', '温州市', 'other')" 'invalid city code "3303"'
for c in lishui:331100 wenzhou:330300; do
	sql province postgres "CREATE SUBSCRIPTION city_${c#*:} CONNECTION 'host=$WORK/${c%:*} port=$(port_of "${c%:*}") dbname=${c%:*} user=province_reader application_name=province'
		PUBLICATION pubdata_catalog WITH (disable_on_error = true)" >/dev/null 2>&1 || fail "subscribe to ${c%:*}"
done
refused province pv_dept "SELECT subconninfo FROM pg_subscription" "permission denied"
ok "the province registers the cities (pubdata_admin) and subscribes (DBA); departments cannot see the connection"

# wait_synced: every table of both subscriptions copied
wait_synced() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(sql province postgres "SELECT count(*) = 0 FROM pg_subscription_rel WHERE srsubstate <> 'r'" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	fail "the subscriptions did not finish their initial copy"
}

# compare WHAT: the province against the union of the cities
city_catalog="SELECT f.city || '|' || r.code || '|' || r.name || '|' || coalesce(r.summary, '') || '|' || p.code || '|' || r.status
	|| '|' || r.share_class || '|' || r.open_class || '|' || r.version || '|' || r.high_value || '|'
	|| (SELECT count(*) FROM pubdata.resource_item i WHERE i.resource_id = r.id AND i.state NOT IN ('dropped', 'added'))
	FROM pubdata.resource r JOIN pubdata.department p ON p.id = r.provider_id CROSS JOIN pubdata.federation f
	WHERE r.status IN ('published', 'retired') ORDER BY 1"
province_catalog="SELECT city || '|' || code || '|' || name || '|' || coalesce(summary, '') || '|' || provider || '|' || status
	|| '|' || share_class || '|' || open_class || '|' || version || '|' || high_value || '|' || items
	FROM pubdata_federation.catalog ORDER BY 1"
city_as_of="SELECT f.city || '|' || code || '|' || status || '|' || version || '|' || md5((entry - 'relation' - 'relation_name')::text)
	FROM pubdata.catalog_as_of(now()) CROSS JOIN pubdata.federation f WHERE status IN ('published', 'retired') ORDER BY 1"
province_as_of="SELECT city || '|' || code || '|' || status || '|' || version || '|' || md5(entry::text)
	FROM pubdata.catalog_as_of(now()) ORDER BY 1"
city_departments="SELECT f.city || '|' || d.code || '|' || d.name || '|' || d.region || '|' || d.kind FROM pubdata.department d CROSS JOIN pubdata.federation f ORDER BY 1"
province_departments="SELECT city || '|' || code || '|' || name || '|' || region || '|' || kind FROM pubdata_federation.department ORDER BY 1"
dcat_sets="SELECT coalesce(jsonb_agg(d ORDER BY d ->> '@id'), '[]') FROM jsonb_array_elements((SELECT document FROM pubdata_open.dcat) -> 'dcat:dataset') d"
# diffs: the province against the union of the cities, or nothing
diffs() {
	local want got a b
	want=$( { sql lishui ls_bureau "$city_catalog"; sql wenzhou wz_bureau "$city_catalog"; } | sort)
	got=$(sql province pv_bureau "$province_catalog" | sort)
	[ -n "$want" ] && [ "$want" = "$got" ] || { echo "catalog:"; diff <(echo "$want") <(echo "$got"); return; }
	want=$( { sql lishui ls_bureau "$city_as_of"; sql wenzhou wz_bureau "$city_as_of"; } | sort)
	got=$(sql province pv_bureau "$province_as_of" | sort)
	[ "$want" = "$got" ] || { echo "catalog_as_of:"; diff <(echo "$want") <(echo "$got"); return; }
	want=$( { sql lishui ls_bureau "$city_departments"; sql wenzhou wz_bureau "$city_departments"; } | sort)
	got=$(sql province pv_bureau "$province_departments" | sort)
	[ "$want" = "$got" ] || { echo "departments:"; diff <(echo "$want") <(echo "$got"); return; }
	a=$(sql lishui pubdata_open_reader "$dcat_sets")
	b=$(sql wenzhou pubdata_open_reader "$dcat_sets")
	got=$("$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/province" -p $PV_PORT -U postgres -d province -v a="$a" -v b="$b" <<'SQL'
SET ROLE pv_bi;
SELECT (SELECT jsonb_agg(d ORDER BY d ->> '@id') FROM jsonb_array_elements(:'a'::jsonb || :'b'::jsonb) d)
	 = (SELECT jsonb_agg(d ORDER BY d ->> '@id') FROM jsonb_array_elements((SELECT document FROM pubdata_open.dcat) -> 'dcat:dataset') d)
	 AND jsonb_array_length(:'a'::jsonb || :'b'::jsonb) > 0;
SQL
)
	[ "$got" = t ] || { echo "DCAT datasets: the cities' ${a:0:200} ... ${b:0:200} ..."; return; }
}
# converge WHAT: wait (at most 60 s) until the province equals the cities
converge() {
	local d i
	for ((i = 0; i < 60; i++)); do
		d=$(diffs 2>&1)
		[ -z "$d" ] && break
		sleep 1
	done
	[ -z "$d" ] || fail "$1: the province differs from the cities: $d"
	echo "$(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.catalog") entries, $(sql province pv_bi "SELECT jsonb_array_length(document -> 'dcat:dataset') FROM pubdata_open.dcat") open datasets, $(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.department") departments"
}

wait_synced
n=$(converge "initial copy") || exit 1
ok "initial copy: the province's catalog, catalog_as_of, departments and DCAT equal the cities' ($n)"
got=$(sql province pv_bureau "SELECT string_agg(city || ':' || code, ',' ORDER BY city, code) FROM pubdata_federation.catalog WHERE code = 'GA-001'")
[ "$got" = "330300:GA-001,331100:GA-001" ] || fail "GA-001 of both cities: $got"
got=$(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.resource WHERE status NOT IN ('published', 'retired') OR code = 'GA-DRAFT'")
[ "$got" = 0 ] || fail "$got unpublished entries reached the province"
got=$(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.resource_item i WHERE NOT EXISTS (SELECT 1 FROM pubdata_federation.resource r WHERE r.city = i.city AND r.id = i.resource_id)")
[ "$got" = 0 ] || fail "$got items of unpublished entries reached the province"
got=$(sql province pv_bureau "SELECT count(*) FILTER (WHERE role_name IS NOT NULL) || '/' || (SELECT count(*) FROM pubdata_federation.resource WHERE relation_name IS NOT NULL) || '/' || (SELECT count(*) FROM pubdata_federation.resource_history WHERE changed_by IS NOT NULL OR entry ? 'relation_name') || '/' || (SELECT count(*) FROM pubdata_federation.scenario_resource WHERE masks IS NOT NULL) FROM pubdata_federation.department")
[ "$got" = "0/0/0/0" ] || fail "local columns reached the province: $got"
got=$(sql province pv_bureau "SELECT string_agg(city || ':' || code, ',' ORDER BY city) FROM pubdata_federation.scenario")
[ "$got" = "330300:SC-1,331100:SC-1" ] || fail "scenarios at the province: $got (only approved ones go)"
got=$(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.region WHERE city = '330300' AND code LIKE '3311%'")
[ "$got" = 0 ] || fail "Wenzhou published Lishui's divisions"
ok "GA-001 twice, by city; no draft, submitted entry, unapproved scenario, grant, local name or other city's division"

# --- a department and the open-data role at the province --------------------
got=$(sql province pv_dept "SELECT string_agg(city || ':' || code, ',' ORDER BY city, code) FROM pubdata_federation.catalog")
[ "$got" = "330300:GA-001,330300:GA-002,330300:MZ-OLD,331100:GA-001,331100:GA-002,331100:MZ-OLD" ] || fail "a province department's catalog: $got"
refused province pv_dept "SELECT count(*) FROM pubdata_federation.resource" "permission denied"
refused province pv_dept "SELECT * FROM pubdata.province_evaluation(current_date - 1, current_date)" "permission denied for function province_evaluation"
refused province pv_bi "SELECT count(*) FROM pubdata_federation.catalog" "permission denied"
ok "a province department reads the federated catalog view, not the tables or the comparison; BI only pubdata_open"

# --- the province compares the cities ---------------------------------------
got=$(sql province pv_auditor "SELECT string_agg(city || ':' || departments || '/' || resources_published || '/' || resources_retired || '/' || resources_open || '/' || high_value_open || '/' || scenarios_approved || '/' || rank, ',' ORDER BY city) FROM pubdata.province_evaluation(current_date - 1, current_date + 1)")
[ "$got" = "330300:2/3/0/2/1/1/1,331100:2/3/0/2/1/1/1" ] || fail "province evaluation: $got"
refused province pv_bureau "SELECT * FROM pubdata.province_evaluation(current_date, current_date - 1)" "invalid period"
ok "province_evaluation compares the cities (auditor)"

# --- a retirement, then the province down while the cities go on ------------
sql lishui ls_police "SELECT pubdata.retire_resource('GA-002', '并入省级平台')" >/dev/null || fail "retire"
sql lishui ls_bureau "SELECT pubdata.retire_resource('MZ-OLD', '名册停用')" >/dev/null || fail "retire"
n=$(converge "after a retirement") || exit 1
[ "$(sql province pv_bureau "SELECT status FROM pubdata_federation.catalog WHERE city = '331100' AND code = 'GA-002'")" = retired ] || fail "retired entry"
ok "retired entries reach the province as retired ($n)"

stop_one province
sql lishui ls_bureau "SELECT pubdata.publish_resource('MZ-001')" >/dev/null || fail "publish MZ-001"
sql lishui ls_police "SELECT pubdata.update_resource('GA-001', summary => '丽水市户籍人口（2026 年更新）', keywords => ARRAY['户籍'])" >/dev/null || fail "update GA-001"
sql lishui ls_police "SELECT pubdata.set_item('GA-001', 'address', '住址')" >/dev/null || fail "set_item"
sql wenzhou wz_bureau "SELECT pubdata.publish_resource('MZ-001')" >/dev/null || fail "publish Wenzhou MZ-001"
sql wenzhou postgres "CREATE ROLE wz_transport" >/dev/null
sql wenzhou wz_bureau "SELECT pubdata.add_department('JT', '温州市交通运输局', '330300', 'public_utility', 'wz_transport')" >/dev/null || fail "add department"
sql wenzhou wz_police "SELECT pubdata.retire_resource('GA-002', '停止提供')" >/dev/null || fail "retire in Wenzhou"
sleep 2
restart_one province
n=$(converge "after the province's downtime") || exit 1
[ "$(sql province pv_bureau "SELECT summary FROM pubdata_federation.catalog WHERE city = '331100' AND code = 'GA-001'")" = "丽水市户籍人口（2026 年更新）" ] || fail "update not caught up"
ok "the province was down while both cities changed; it caught up and equals them again ($n)"

# catalog_as_of at the province: an earlier moment still shows the earlier state
got=$(sql province pv_bureau "SELECT string_agg(city || ':' || code || ':' || status, ',' ORDER BY city, code) FROM pubdata.catalog_as_of((SELECT min(published_at) FROM pubdata_federation.resource WHERE city = '331100' AND code = 'MZ-001') - interval '1 millisecond') WHERE city = '331100'")
[ "$got" = "331100:GA-001:published,331100:GA-002:retired,331100:MZ-OLD:retired" ] || fail "catalog_as_of before MZ-001 was published: $got"
ok "catalog_as_of at the province: each city's catalog as it stood then"

# the province's export is DCAT-AP 3 too (the validators 82_conformance.sh installs)
CONF=$(cd "$(dirname "$0")/../conformance" && pwd)
if [ -d "$CONF/node_modules/rdf-validate-shacl" ]; then
	sql province pv_bi "SELECT document FROM pubdata_open.dcat" >"$WORK/province.jsonld" || fail "province DCAT"
	node "$CONF/validate_dcat.mjs" "$WORK/province.jsonld" >"$WORK/dcat.txt" 2>&1 || { grep -v '^Warning' "$WORK/dcat.txt"; fail "the province's DCAT-AP document has SHACL violations"; }
	ok "the province's DCAT export (two cities' datasets) passes the DCAT-AP 3.0.1 SHACL shapes"
else
	echo "# DCAT-AP validators not installed (test/shell/82_conformance.sh installs them): not validated"
fi

# --- a city on a newer pubdata: an added column does not stop replication ---
sql lishui postgres "ALTER TABLE pubdata_federation.resource ADD COLUMN added_in_a_later_version text DEFAULT 'x'" >/dev/null || fail "add column"
sql lishui ls_police "SELECT pubdata.update_resource('GA-001', name => '户籍人口基本信息')" >/dev/null || fail "rename"
n=$(converge "after the city's tables gained a column") || exit 1
ok "a city whose tables gained a column keeps replicating (the column lists name what the province knows)"

# --- a forged row: Wenzhou sends a row of Lishui ----------------------------
sql wenzhou postgres "ALTER TABLE pubdata_federation.resource DISABLE TRIGGER federation_guard;
	ALTER PUBLICATION pubdata_catalog SET TABLE pubdata_federation.resource;
	INSERT INTO pubdata_federation.resource SELECT '331100', 999, 'FAKE', '伪造', summary, relation_name, provider_id, responsible_id,
		system_code, share_class, open_class, update_frequency, security_level, category, keywords, catalog_level, region, high_value,
		legal_basis, status, review_comment, version, created_at, updated_at, submitted_at, reviewed_at, published_at, retired_at
	  FROM pubdata_federation.resource WHERE code = 'GA-001'" >/dev/null || fail "forging"
for ((i = 0; i < 100; i++)); do
	[ "$(sql province postgres "SELECT subenabled FROM pg_subscription WHERE subname = 'city_330300'")" = f ] && break
	sleep 0.2
done
[ "$(sql province postgres "SELECT subenabled FROM pg_subscription WHERE subname = 'city_330300'")" = f ] || fail "the forged row did not stop Wenzhou's subscription"
grep -q 'row of city 331100 refused in resource' "$WORK/province/server.log" || fail "no refusal in the province's log"
[ "$(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.resource WHERE code = 'FAKE'")" = 0 ] || fail "the forged row was applied"
ok "a city cannot write another city's rows: the province's guard refused, the subscription stopped (disable_on_error)"

# the province drops a city: subscription first, then its rows
refused province pv_bureau "SELECT pubdata.remove_federated_city('330300')" 'subscription "city_330300" of city 330300 still exists'
PGOPTIONS="-c client_min_messages=warning" sql province postgres "DROP SUBSCRIPTION city_330300" >/dev/null || fail "drop subscription"
sql province pv_bureau "SELECT pubdata.remove_federated_city('330300')" >/dev/null || fail "remove city"
[ "$(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.catalog WHERE city = '330300'")" = 0 ] || fail "Wenzhou's rows stayed"
[ "$(sql province pv_bureau "SELECT count(*) FROM pubdata_federation.catalog WHERE city = '331100'")" = 4 ] || fail "Lishui's rows went too"
ok "remove_federated_city forgets a city whose subscription was dropped, and only it"

PGOPTIONS="-c client_min_messages=warning" sql province postgres "DROP SUBSCRIPTION city_331100" >/dev/null || fail "drop subscription"
# a city that uninstalls pubdata takes its publication with it
sql wenzhou postgres "SET client_min_messages = warning; DROP EXTENSION pubdata CASCADE" >/dev/null || fail "drop extension"
[ "$(sql wenzhou postgres "SELECT count(*) FROM pg_publication")" = 0 ] || fail "the publication outlived the extension"
ok "DROP EXTENSION pubdata drops the city's publication"
echo "87_province: the province's catalog equals the union of Lishui's and Wenzhou's published catalogs"
exit 0
