#!/bin/bash
# Masked grants seen by a BI tool over JDBC (issue 14): the department's
# queries through the PostgreSQL JDBC driver (plain; prepared with
# prepareThreshold=1, so named server-side statements of the extended
# protocol from the first execution; a scrollable result set; a cursor read
# one row per fetch) return the masked values (an id_card, a keyed pseudonym,
# a name, a year; one item in clear); filters on the clear values find
# nothing and sorting follows the masked value; the tool's column browser
# (getColumns REMARKS) shows the provider's comments with pubdata's line
# naming the masks in force, and the department's grant view says which are
# its own.  The program prints LEAK for any clear value it reads: run as a
# department granted the same items in clear, it must print some (the check
# can fail), as the masked department none.
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
CREATE ROLE jdbc_tax LOGIN;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'jdbc_police');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'jdbc_civil');
SELECT pubdata.add_department('tax', '市税务局', '331100', 'administrative', 'jdbc_tax');
CREATE SCHEMA police AUTHORIZATION jdbc_police;
SET ROLE jdbc_police;
CREATE TABLE police.person (id_number text PRIMARY KEY, name text, phone text, birth date, region text);
COMMENT ON COLUMN police.person.id_number IS '公民身份号码';
COMMENT ON COLUMN police.person.name IS '姓名';
INSERT INTO police.person VALUES
	('331102199003151234', '张三', '13800000001', '1990-03-15', '331102'),
	('331102198505052345', '欧阳锋', '13900000002', '1985-05-05', '331102'),
	('331121197007073456', '王五', '13700000003', '1970-07-07', '331121');
SELECT pubdata.register_resource('police.person', 'PS-PERSON', '人口基础信息', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('PS-PERSON');
RESET ROLE;
SELECT pubdata.review_resource('PS-PERSON', true), pubdata.publish_resource('PS-PERSON');
SET ROLE jdbc_civil;
SELECT pubdata.request_share('PS-PERSON', '低保核查（脱敏）', ARRAY['id_number', 'name', 'phone', 'birth', 'region'],
	masks => '{"id_number": "id_card", "name": "name", "phone": "pseudonym", "birth": "year"}') AS req \gset
SET ROLE jdbc_tax;
SELECT pubdata.request_share('PS-PERSON', '个税核验', ARRAY['id_number', 'name', 'phone', 'birth', 'region']) AS clear \gset
SET ROLE jdbc_police;
SELECT pubdata.decide_share(:req, true);
SELECT pubdata.decide_share(:clear, true);
SQL

# the provider's clear values of the masked items: none may be read
CLEAR=$(q -U postgres -At -c "SELECT string_agg(v, ' ') FROM police.person,
	LATERAL (VALUES (id_number), (name), (phone), (birth::text)) x(v)")
URL="jdbc:postgresql://127.0.0.1:$PORT/jdbc?prepareThreshold=1"
jdbc() { (cd "$DIR" && java -cp "$JAR" "$OLDPWD/test/jdbc/MaskedRead.java" "$URL" "$@" $CLEAR 2>&1); }

got=$(jdbc jdbc_civil)
expected='column|id_number|text|公民身份号码 / [pubdata] masked in grants: id_card
column|name|text|姓名 / [pubdata] masked in grants: name
column|phone|text|[pubdata] masked in grants: pseudonym
column|birth|date|[pubdata] masked in grants: year
column|region|text|null
grant|PS-PERSON|{id_number,name,phone,birth,region}|{"name": "name", "birth": "year", "phone": "pseudonym", "id_number": "id_card"}
select|3311**********1234|张*|P1|1990-01-01|331102
select|3311**********2345|欧*锋|P2|1985-01-01|331102
select|3311**********3456|王*|P3|1970-01-01|331121
where clear id|0
where clear phone|0
where clear name|0
where clear birth|0
where substring|0
order by id|331102:1990-01-01,331102:1985-01-01,331121:1970-01-01
order by id, rows|1990-01-01
order by id, rows|1985-01-01
order by id, rows|1970-01-01
prepared where id|0
prepared where id|1
prepared where id|0
prepared where phone|0
prepared|3311**********1234|张*|P1
prepared|3311**********2345|欧*锋|P2
server-side statements|t
scroll last 3|3311**********3456|P3|1970-01-01
scroll back 2|3311**********2345|P2|1985-01-01
scroll back 1|3311**********1234|P1|1990-01-01
scroll absolute 2|3311**********2345|P2|1985-01-01
cursor|3311**********1234|P1|1990-01-01
cursor|3311**********2345|P2|1985-01-01
cursor|3311**********3456|P3|1970-01-01
grouped|3
locked|0A000'
if [ "$got" = "$expected" ]; then
	ok "JDBC: masked values in plain, prepared (named server-side), scrollable and cursor reads; clear-value filters find nothing; sorting on the masked value; REMARKS name the masks"
else
	fail "JDBC output differs"
	diff <(echo "$expected") <(echo "$got") | sed 's/^/    /'
fi

# the same program as a department granted the same items in clear reads
# the clear values and says so: the check above can fail
clear_out=$(jdbc jdbc_tax)
n=$(echo "$clear_out" | grep -c '^LEAK|')
if [ "$n" -gt 0 ] && grep -q '^where clear id|1$' <<<"$clear_out" \
	&& grep -q '^select|331102198505052345|欧阳锋|13900000002|1985-05-05|331102$' <<<"$clear_out"; then
	ok "JDBC, grant in clear: $n clear values reported as LEAK, the clear filter finds its row (the masked run's check can fail)"
else
	fail "JDBC, grant in clear: expected LEAK lines and clear rows"
	echo "$clear_out" | sed 's/^/    /' | head -20
fi

# the audit recorded the masked reads with their rules, as the department
# sees its log; the clear department's reads carry no mask
n=$(q -U jdbc_civil -At -c "SELECT count(*) FILTER (WHERE masked LIKE '%id_number=id_card%') > 0 AND
	count(*) FILTER (WHERE masked LIKE '%phone=pseudonym%') > 0 AND count(*) FILTER (WHERE masked IS NULL) = 0
	FROM pubdata.my_access_log WHERE resource = 'PS-PERSON' AND command = 'SELECT'")
[ "$n" = "t" ] && ok "audit: masked reads recorded with their rules" || fail "audit: masked reads recorded with their rules: [$n]"
n=$(q -U jdbc_tax -At -c "SELECT count(*) > 0 AND count(*) FILTER (WHERE masked IS NOT NULL) = 0
	FROM pubdata.my_access_log WHERE resource = 'PS-PERSON' AND command = 'SELECT'")
[ "$n" = "t" ] && ok "audit: the clear grant's reads carry no mask" || fail "audit: the clear grant's reads: [$n]"

echo "masked JDBC test: $failures failure(s)"
[ "$failures" = 0 ]
