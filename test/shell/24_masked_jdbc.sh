#!/bin/bash
# Masked grants seen by a BI tool over JDBC (issue 14): the department's
# queries through the PostgreSQL JDBC driver (plain, prepared past the
# driver's prepare threshold, a cursor read one row per fetch) return the
# masked values; a filter on the clear value finds nothing; the tool's column
# browser lists the table's columns with the provider's comments, and the
# department's grant view says which items are masked and how.
#
# JDBC needs TCP: the test starts its own cluster on 127.0.0.1, port
# PGPORT + 30, and stops it on exit.
# Env (test/run.sh): PUBDATA_BINDIR PUBDATA_WORK PGPORT.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
BINDIR=$BIN
. test/lib.sh
PORT=$((PGPORT + 30))
DIR=${PUBDATA_WORK:?}/jdbc
JAR=/usr/share/java/postgresql.jar
failures=0
fail() { echo "not ok - $*"; failures=$((failures + 1)); }
ok() { echo "ok - $*"; }

if ! command -v java >/dev/null || [ ! -f "$JAR" ]; then
	echo "24_masked_jdbc: FAILED: java or $JAR missing (test/lib.sh installs default-jdk-headless and libpostgresql-jdbc-java)" >&2
	exit 1
fi
rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres: "$DIR"
trap 'stop_cluster "$DIR/data"' EXIT
start_cluster "$DIR/data" "$DIR" "$PORT" "listen_addresses = '127.0.0.1'" || { echo "24_masked_jdbc: FAILED: cluster" >&2; exit 1; }
q() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -d jdbc "$@"; }
"$BIN/psql" -X -q -h "$DIR" -p "$PORT" -U postgres -d postgres -c "CREATE DATABASE jdbc" >/dev/null || exit 1

q -U postgres >/dev/null <<'SQL' || { echo "24_masked_jdbc: FAILED: set-up" >&2; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE jdbc_police LOGIN;
CREATE ROLE jdbc_civil LOGIN;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'jdbc_police');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'jdbc_civil');
CREATE SCHEMA police AUTHORIZATION jdbc_police;
SET ROLE jdbc_police;
CREATE TABLE police.person (id_number text PRIMARY KEY, name text, phone text, birth date, region text);
COMMENT ON COLUMN police.person.id_number IS '公民身份号码';
COMMENT ON COLUMN police.person.name IS '姓名';
INSERT INTO police.person VALUES
	('331102199001011234', '张三', '13800000001', '1990-01-01', '331102'),
	('331102198505052345', '欧阳锋', '13900000002', '1985-05-05', '331102'),
	('331121197003033456', '王五', '13700000003', '1970-03-03', '331121');
SELECT pubdata.register_resource('police.person', 'PS-PERSON', '人口基础信息', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('PS-PERSON');
RESET ROLE;
SELECT pubdata.review_resource('PS-PERSON', true), pubdata.publish_resource('PS-PERSON');
SET ROLE jdbc_civil;
SELECT pubdata.request_share('PS-PERSON', '低保核查（脱敏）', ARRAY['id_number', 'name', 'phone', 'birth', 'region'],
	masks => '{"id_number": "id_card", "name": "name", "phone": "phone", "birth": "year"}') AS req \gset
SET ROLE jdbc_police;
SELECT pubdata.decide_share(:req, true);
SQL

got=$(cd "$DIR" && java -cp "$JAR" "$OLDPWD/test/jdbc/MaskedRead.java" "jdbc:postgresql://127.0.0.1:$PORT/jdbc" jdbc_civil 2>&1)
expected='column|id_number|text|公民身份号码
column|name|text|姓名
column|phone|text|null
column|birth|date|null
column|region|text|null
grant|PS-PERSON|{id_number,name,phone,birth,region}|{"name": "name", "birth": "year", "phone": "phone", "id_number": "id_card"}
select|3311**********1234|张*|138****0001|1990-01-01|331102
select|3311**********2345|欧*锋|139****0002|1985-01-01|331102
select|3311**********3456|王*|137****0003|1970-01-01|331121
clear value|0
masked value|1
prepared|张*|138****0001
prepared|欧*锋|139****0002
cursor|3311**********1234|1990-01-01
cursor|3311**********2345|1985-01-01
cursor|3311**********3456|1970-01-01
grouped|3
locked|0A000'
if [ "$got" = "$expected" ]; then
	ok "JDBC: masked values in plain, prepared and cursor reads; clear-value filters find nothing; columns and grant listed"
else
	fail "JDBC output differs"
	diff <(echo "$expected") <(echo "$got") | sed 's/^/    /'
fi

# the audit recorded each read with the items read masked, as the department
# sees its log: five statements read id_number, the seven prepared ones name and phone
n=$(q -U jdbc_civil -At -c "SELECT count(*) FILTER (WHERE masked LIKE '%id_number=id_card%') || ',' ||
	count(*) FILTER (WHERE masked = 'name=name,phone=phone') FROM pubdata.my_access_log WHERE resource = 'PS-PERSON'")
[ "$n" = "5,7" ] && ok "audit: masked reads recorded with their rules" || fail "audit: masked reads recorded: [$n], expected [5,7]"

echo "masked JDBC test: $failures failure(s)"
[ "$failures" = 0 ]
