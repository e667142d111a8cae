#!/bin/bash
# Masked read: a department reading two items masked (id_card and a keyed
# pseudonym) over 1M rows, against another department reading the same two
# items granted in clear, same query, interleaved runs (issue: <= 1.3x).
set -euo pipefail
ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-5}
P="psql -X -q -v ON_ERROR_STOP=1"
DB=bench_mask
$P -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
$P -d postgres >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP ROLE IF EXISTS bench_mprov, bench_mclear, bench_mmask;
CREATE ROLE bench_mprov LOGIN; CREATE ROLE bench_mclear LOGIN; CREATE ROLE bench_mmask LOGIN;
SQL
$P -d $DB >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA p AUTHORIZATION bench_mprov;
GRANT USAGE ON SCHEMA p TO PUBLIC;
SELECT pubdata.add_department('prov', '提供部门', '331100', 'administrative', 'bench_mprov');
SELECT pubdata.add_department('clear', '明文部门', '331102', 'administrative', 'bench_mclear');
SELECT pubdata.add_department('mask', '脱敏部门', '331121', 'administrative', 'bench_mmask');
SET ROLE bench_mprov;
CREATE TABLE p.person AS
	SELECT g AS id, '3311021990' || lpad(g::text, 8, '0') AS id_number, '张' || (g % 1000) AS name,
		   (ARRAY['331102','331121'])[1 + g % 2] AS region
	  FROM generate_series(1, $ROWS) g;
ALTER TABLE p.person ADD PRIMARY KEY (id);
SELECT pubdata.register_resource('p.person', 'B-MASK', '人口', 'prov', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('B-MASK');
RESET ROLE;
SELECT pubdata.review_resource('B-MASK', true), pubdata.publish_resource('B-MASK');
SET ROLE bench_mclear;
SELECT pubdata.request_share('B-MASK', 'bench clear', ARRAY['id_number', 'name']);
RESET ROLE;
SET ROLE bench_mmask;
SELECT pubdata.request_share('B-MASK', 'bench masked', ARRAY['id_number', 'name'],
	masks => '{"id_number": "id_card", "name": "pseudonym"}');
RESET ROLE;
SET ROLE bench_mprov;
SELECT pubdata.decide_share(1, true); SELECT pubdata.decide_share(2, true);
RESET ROLE;
VACUUM ANALYZE p.person;
SQL
W=$PUBDATA_WORK/bench_mask; mkdir -p $W
echo "SELECT max(id_number), max(name), count(*) FROM p.person;" > $W/read.sql
echo "the masked department's plan:"
$P -d $DB -c "SET ROLE bench_mmask" -c "EXPLAIN (COSTS OFF, VERBOSE) SELECT max(id_number), max(name), count(*) FROM p.person" | sed 's/^/    /'
lat() { # role -> average latency in ms
	pgbench -n -c 1 -t "$RUNS" -f $W/read.sql -U "$1" $DB 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}
lat bench_mclear >/dev/null; lat bench_mmask >/dev/null
c1=$(lat bench_mclear); m1=$(lat bench_mmask); c2=$(lat bench_mclear); m2=$(lat bench_mmask); c3=$(lat bench_mclear); m3=$(lat bench_mmask)
python3 - "$c1" "$m1" "$c2" "$m2" "$c3" "$m3" "$ROWS" <<'PY'
import sys, statistics
c1, m1, c2, m2, c3, m3, rows = map(float, sys.argv[1:])
c = statistics.median([c1, c2, c3]); m = statistics.median([m1, m2, m3])
print(f"masked read over {int(rows)} rows, two items (ms per query, medians of 3 interleaved rounds): "
      f"granted in clear {c:.1f}; masked (id_card + keyed pseudonym) {m:.1f}")
print(f"RATIO masked_read masked/clear = {m/c:.3f} (target <= 1.3)")
PY
$P -At -d $DB -c "SET ROLE bench_mmask" -c "SELECT 'masked sample: ' || max(id_number) || ' ' || max(name) FROM p.person"
$P -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE bench_mprov, bench_mclear, bench_mmask" >/dev/null
