#!/bin/bash
# Open data survives pg_dump and restore: the views (same names, grants and
# comments), the open catalog, conditional readers, the pseudonymization key
# (pseudonyms stay joinable across the restore) and the evaluation weights.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
SRC=pubdata_open_src; DST=pubdata_open_dst
fail() { echo "86_open_dump: FAILED: $*" >&2; exit 1; }

PGOPTIONS="-c client_min_messages=warning" $P -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" \
	-c "CREATE DATABASE $SRC" -c "CREATE DATABASE $DST" || fail "databases"
$P -d postgres >/dev/null <<'SQL' || fail "roles"
SET client_min_messages = warning;
DO $$
BEGIN
	CREATE ROLE dump_open_dept;
	CREATE ROLE dump_open_bi IN ROLE pubdata_open_reader;
	CREATE ROLE dump_open_partner;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
SQL
$P -d $SRC >/dev/null <<'SQL' || fail "source set-up"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA dump_open AUTHORIZATION dump_open_dept;
SELECT pubdata.add_department('dump_open_dept', '市人力社保局', '331100', 'administrative', 'dump_open_dept');
SET ROLE dump_open_dept;
CREATE TABLE dump_open.pension (id integer PRIMARY KEY, person_id text, name text, amount numeric);
INSERT INTO dump_open.pension VALUES (1, '330102199001011234', '张小三', 3200), (2, '33112119800202567X', '李四', 2800);
SELECT pubdata.register_resource('dump_open.pension', 'RS-YL-1', '养老金发放', 'dump_open_dept', 'unconditional', 'open', 'monthly', 2,
	summary => '养老金月度发放', high_value => true);
SELECT pubdata.set_item('RS-YL-1', 'person_id', '身份证号', personal => 'sensitive', mask => 'pseudonym');
SELECT pubdata.set_item('RS-YL-1', 'name', '姓名', personal => 'personal', mask => 'name');
SELECT pubdata.submit_resource('RS-YL-1');
CREATE TABLE dump_open.fund (year integer PRIMARY KEY, balance numeric);
INSERT INTO dump_open.fund VALUES (2025, 100);
SELECT pubdata.register_resource('dump_open.fund', 'RS-JJ-2', '基金结余', 'dump_open_dept', 'unconditional', 'conditional', 'annual', 2);
SELECT pubdata.submit_resource('RS-JJ-2');
RESET ROLE;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['RS-YL-1', 'RS-JJ-2']) c;
SET ROLE dump_open_dept;
SELECT pubdata.allow_open_reader('RS-JJ-2', 'dump_open_partner');
RESET ROLE;
UPDATE pubdata.evaluation_weight SET weight = 33 WHERE indicator = 'usage';
SQL

view="SET ROLE dump_open_bi; SELECT string_agg(id || ':' || person_id || ':' || name || ':' || amount, ',' ORDER BY id) FROM pubdata_open.rs_yl_1"
cond="SET ROLE dump_open_partner; SELECT string_agg(year || ':' || balance, ',') FROM pubdata_open.rs_jj_2"
cat="SET ROLE dump_open_bi; SELECT string_agg(dataset_code || ':' || access_view || ':' || high_value, ',') FROM pubdata_open.catalog"
meta="SELECT obj_description('pubdata_open.rs_yl_1'::regclass, 'pg_class') || '|' || col_description('pubdata_open.rs_yl_1'::regclass, 2)
	|| '|' || (SELECT weight FROM pubdata.evaluation_weight WHERE indicator = 'usage')
	|| '|' || (SELECT count(*) FROM pubdata.open_pseudonym_key) || '|' || encode(sha256((SELECT key FROM pubdata.open_pseudonym_key)), 'hex')"
for q in "$view" "$cond" "$cat" "$meta"; do
	b=$($P -At -d $SRC -c "$q") || fail "source query: $q"
	before+=("$b")
done

"$BIN/pg_dump" -d $SRC -f "$PUBDATA_WORK/open_dump.sql" 2>"$PUBDATA_WORK/open_dump.err" || { cat "$PUBDATA_WORK/open_dump.err"; fail "pg_dump"; }
$P -d $DST -f "$PUBDATA_WORK/open_dump.sql" >/dev/null 2>"$PUBDATA_WORK/open_restore.err" || { cat "$PUBDATA_WORK/open_restore.err"; fail "restore"; }

i=0
for q in "$view" "$cond" "$cat" "$meta"; do
	a=$($P -At -d $DST -c "$q") || fail "restored query: $q"
	[ "$a" = "${before[$i]}" ] || fail "after restore '$a', before '${before[$i]}'"
	i=$((i + 1))
done
echo "86_open_dump: ${before[2]}"
# the triggers still drive the views in the restored database
$P -d $DST -c "SET ROLE dump_open_dept; SELECT pubdata.retire_resource('RS-YL-1', '口径调整')" >/dev/null || fail "retire after restore"
[ -z "$($P -At -d $DST -c "SELECT to_regclass('pubdata_open.rs_yl_1')")" ] || fail "retiring after restore left the view"
$P -d postgres -c "DROP DATABASE $SRC" -c "DROP DATABASE $DST" || true
echo "86_open_dump: open views, catalog, readers, key and weights survive dump and restore"
