#!/bin/bash
# Per-statement state belongs to its statement: a long-lived session that reads a
# governed resource in subtransactions that fail (an EXCEPTION block, SAVEPOINT /
# ROLLBACK TO, a cursor dropped by a failed subtransaction) keeps its memory flat,
# and every failed read is in the audit exactly once.
set -euo pipefail
P="psql -X -q -v ON_ERROR_STOP=1"
DB=pubdata_stmt_mem
N=${PUBDATA_MEM_LOOPS:-20000}
cleanup() {
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	$P -d postgres -c "DROP ROLE IF EXISTS regress_mem_police, regress_mem_civil" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
$P -d postgres -c "CREATE DATABASE $DB" -c "CREATE ROLE regress_mem_police" -c "CREATE ROLE regress_mem_civil" >/dev/null
$P -d $DB >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA police AUTHORIZATION regress_mem_police;
GRANT USAGE ON SCHEMA police TO PUBLIC;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_mem_police');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'regress_mem_civil');
SET ROLE regress_mem_police;
CREATE TABLE police.household (id_number text PRIMARY KEY, name text, region text);
INSERT INTO police.household SELECT 'P' || i, 'n' || i, CASE WHEN i % 2 = 0 THEN '331102' ELSE '331121' END
  FROM generate_series(1, 100) i;
SELECT pubdata.register_resource('police.household', 'PS-HH', '户籍人口信息', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('PS-HH');
RESET ROLE;
SELECT pubdata.review_resource('PS-HH', true); SELECT pubdata.publish_resource('PS-HH');
SET ROLE regress_mem_civil;
SELECT pubdata.request_share('PS-HH', '低保核查', ARRAY['id_number', 'region']);
RESET ROLE;
SET ROLE regress_mem_police;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
SQL

before=$($P -At -d $DB -c "SELECT coalesce(max(seq), 0) FROM pubdata.access_log")

# One session, three kinds of failing reads, each run twice; memory after each.
savepoints=$(mktemp)
for i in $(seq 1 $((N / 10))); do
	echo "SAVEPOINT s; SELECT id_number, 1 / (length(region) - 6) FROM police.household WHERE region = '331102'; ROLLBACK TO s;"
done > "$savepoints"
out=$(psql -X -q -At -d $DB 2>/tmp/mem.err <<SQL
SET ROLE regress_mem_civil;
CREATE TEMP TABLE mem (run text, top bigint, total bigint);
RESET ROLE;
CREATE FUNCTION pg_temp.measure(label text) RETURNS void LANGUAGE sql SECURITY DEFINER AS
 \$\$INSERT INTO mem SELECT label, (SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext'),
	(SELECT sum(total_bytes) FROM pg_backend_memory_contexts)\$\$;
GRANT INSERT ON mem TO regress_mem_civil;
SET ROLE regress_mem_civil;
SELECT pg_temp.measure('start');
DO \$\$DECLARE r record; BEGIN
  FOR i IN 1..$N LOOP
    BEGIN
      FOR r IN SELECT id_number FROM police.household WHERE region = '331102' LOOP RAISE EXCEPTION 'x'; END LOOP;
    EXCEPTION WHEN others THEN NULL; END;
  END LOOP; END\$\$;
SELECT pg_temp.measure('exception 1');
DO \$\$DECLARE r record; BEGIN
  FOR i IN 1..$N LOOP
    BEGIN
      FOR r IN SELECT id_number FROM police.household WHERE region = '331102' LOOP RAISE EXCEPTION 'x'; END LOOP;
    EXCEPTION WHEN others THEN NULL; END;
  END LOOP; END\$\$;
SELECT pg_temp.measure('exception 2');
BEGIN;
\i $savepoints
COMMIT;
SELECT pg_temp.measure('savepoint 1');
BEGIN;
\i $savepoints
COMMIT;
SELECT pg_temp.measure('savepoint 2');
DO \$\$DECLARE c refcursor; r record; BEGIN
  FOR i IN 1..$N LOOP
    BEGIN
      OPEN c FOR SELECT id_number FROM police.household WHERE region = '331102';
      FETCH c INTO r;
      RAISE EXCEPTION 'x';
    EXCEPTION WHEN others THEN NULL; END;
  END LOOP; END\$\$;
SELECT pg_temp.measure('cursor 1');
DO \$\$DECLARE c refcursor; r record; BEGIN
  FOR i IN 1..$N LOOP
    BEGIN
      OPEN c FOR SELECT id_number FROM police.household WHERE region = '331102';
      FETCH c INTO r;
      RAISE EXCEPTION 'x';
    EXCEPTION WHEN others THEN NULL; END;
  END LOOP; END\$\$;
SELECT pg_temp.measure('cursor 2');
SELECT run || ' ' || top || ' ' || total FROM mem ORDER BY ctid;
SQL
)
rm -f "$savepoints"
echo "$out" | sed 's/^/# /'
fail=0
check() {	# label-of-first-run label-of-second-run
	local a b growth
	a=$(echo "$out" | awk -v r="$1" '$1" "$2 == r {print $3}')
	b=$(echo "$out" | awk -v r="$2" '$1" "$2 == r {print $3}')
	if [ -z "$a" ] || [ -z "$b" ]; then echo "not ok - no measurement for $1 / $2"; fail=1; return; fi
	growth=$((b - a))
	if [ $growth -gt 1048576 ]; then
		echo "not ok - TopMemoryContext grew by $growth bytes from '$1' to '$2'"; fail=1
	else
		echo "ok - TopMemoryContext flat from '$1' to '$2' ($growth bytes)"
	fi
}
check "exception 1" "exception 2"
check "savepoint 1" "savepoint 2"
check "cursor 1" "cursor 2"

# Every failed read is recorded exactly once, as an error, by civil.
expected=$((N * 4 + (N / 10) * 2))
got=$($P -At -d $DB -c "SELECT count(*) FROM pubdata.access_log WHERE seq > $before AND role_name = 'regress_mem_civil' AND outcome = 'error'")
others=$($P -At -d $DB -c "SELECT count(*) FROM pubdata.access_log WHERE seq > $before AND role_name = 'regress_mem_civil' AND outcome <> 'error'")
if [ "$got" = "$expected" ] && [ "$others" = 0 ]; then
	echo "ok - $got failed reads, $got error records, no other record"
else
	echo "not ok - expected $expected error records and no other, got $got error and $others other records"; fail=1
fi
ok=$($P -At -d $DB -c "SELECT ok FROM pubdata.verify_audit_chain()")
[ "$ok" = t ] && echo "ok - the chain verifies" || { echo "not ok - the chain does not verify"; fail=1; }
exit $fail
