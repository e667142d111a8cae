# The point-lookup benchmarks' database (sourced by 22_point_lookup.sh and
# 23_point_lookup_instructions.sh): police.h2 (id, id_number, name, region),
# 100k rows in ten regions, registered, submitted, reviewed and published
# through the pubdata API; department DEPT holds one live grant of ITEMS (a
# SQL array of item names) with row scope {"region": "331102"} (the ids that
# are multiples of 10).  Each step runs as the role that would take it.
# Also used by 90_soak.sh.
#
# lookup_db_setup BIN DB PROV DEPT ITEMS [psql connection options...]
# lookup_db_script FILE: the pgbench script, one lookup of a granted row.
lookup_db_setup() {
	local bin=$1 db=$2 prov=$3 dept=$4 items=$5 req
	shift 5
	local P=("$bin/psql" -X -q -v ON_ERROR_STOP=1 "$@")
	"${P[@]}" -d postgres -c "CREATE DATABASE $db" -c "CREATE ROLE $prov LOGIN" -c "CREATE ROLE $dept LOGIN" >/dev/null || return 1
	"${P[@]}" -d "$db" >/dev/null <<SQL || return 1
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', '$prov');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', '$dept');
CREATE SCHEMA police AUTHORIZATION $prov;
SQL
	# the provider builds and registers its table, as its own login
	"${P[@]}" -d "$db" -U "$prov" >/dev/null <<'SQL' || return 1
SET client_min_messages = warning;
-- as in the regression tests: approving a grant does not give schema usage (yet)
GRANT USAGE ON SCHEMA police TO PUBLIC;
CREATE TABLE police.h2 (id integer PRIMARY KEY, id_number text NOT NULL, name text NOT NULL, region text NOT NULL);
-- ten regions; region 331102 holds the ids that are multiples of 10
INSERT INTO police.h2
SELECT g, '3311021990' || lpad(g::text, 8, '0'), '姓名' || g,
	   (ARRAY['331102', '331100', '331121', '331122', '331123', '331124', '331125', '331126', '331127', '331181'])[1 + g % 10]
  FROM generate_series(1, 100000) g;
SELECT pubdata.register_resource('police.h2', 'PS-H2', '户籍人口信息', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('PS-H2');
SQL
	"${P[@]}" -d "$db" >/dev/null <<'SQL' || return 1
SELECT pubdata.review_resource('PS-H2', true), pubdata.publish_resource('PS-H2');
VACUUM ANALYZE police.h2;
SQL
	# the department asks as its login, the provider answers as its login
	req=$("${P[@]}" -At -d "$db" -U "$dept" -c "SELECT pubdata.request_share('PS-H2', '低保资格核查', $items)") || return 1
	"${P[@]}" -At -d "$db" -U "$prov" -c "SELECT pubdata.decide_share($req, true, row_scope => '{\"region\": \"331102\"}')" >/dev/null || return 1
}

lookup_db_script() {
	cat >"$1" <<'SQL'
\set id 10 * random(1, 10000)
SELECT name FROM police.h2 WHERE id = :id;
SQL
}
