#!/bin/bash
# Governed read: a department with a restricted grant (row scope + two excluded items)
# scanning 1M rows, against the provider scanning the same table without policies.
set -euo pipefail
ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-15}
P="psql -X -q -v ON_ERROR_STOP=1"
DB=bench_read
$P -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
$P -d postgres >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP ROLE IF EXISTS bench_provider, bench_reader;
CREATE ROLE bench_provider LOGIN; CREATE ROLE bench_reader LOGIN;
SQL
$P -d $DB >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA p AUTHORIZATION bench_provider;
GRANT USAGE ON SCHEMA p TO PUBLIC;
SELECT pubdata.add_department('prov', '提供部门', '331100', 'administrative', 'bench_provider');
SELECT pubdata.add_department('user', '使用部门', '331102', 'administrative', 'bench_reader');
SET ROLE bench_provider;
CREATE TABLE p.person AS
	SELECT g AS id, (ARRAY['331102','331121','331122','331123'])[1 + g % 4] AS region,
		   'name' || g AS name, lpad(g::text, 18, '0') AS id_number, 'address ' || g AS address,
		   (g % 1000)::numeric AS amount
	  FROM generate_series(1, $ROWS) g;
ALTER TABLE p.person ADD PRIMARY KEY (id);
SELECT pubdata.register_resource('p.person', 'B-PERSON', '人口', 'prov', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('B-PERSON');
RESET ROLE;
SELECT pubdata.review_resource('B-PERSON', true), pubdata.publish_resource('B-PERSON');
SET ROLE bench_reader;
SELECT pubdata.request_share('B-PERSON', 'bench', ARRAY['id', 'region', 'amount', 'name']);
RESET ROLE;
SET ROLE bench_provider;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
RESET ROLE;
VACUUM ANALYZE p.person;
SQL
W=$PUBDATA_WORK/bench_read; mkdir -p $W
echo "SELECT count(*), sum(amount) FROM p.person;" > $W/all.sql
echo "SELECT count(*), sum(amount) FROM p.person WHERE region = '331102';" > $W/scoped.sql
echo "policy check in the department's plan (an InitPlan, evaluated once per query):"
$P -d $DB -c "SET ROLE bench_reader" -c "EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM p.person" | sed 's/^/    /'
lat() { # role script -> average latency in ms
	pgbench -n -c 1 -t "$RUNS" -f "$2" -U "$1" $DB 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}
# warm up, then alternate
lat bench_provider $W/all.sql >/dev/null; lat bench_reader $W/all.sql >/dev/null
prov_all=$(lat bench_provider $W/all.sql)
dept=$(lat bench_reader $W/all.sql)
prov_scoped=$(lat bench_provider $W/scoped.sql)
dept2=$(lat bench_reader $W/all.sql)
prov_all2=$(lat bench_provider $W/all.sql)
python3 - "$prov_all" "$dept" "$prov_scoped" "$dept2" "$prov_all2" "$ROWS" <<'PY'
import sys
pa, d, ps, d2, pa2, rows = map(float, sys.argv[1:])
prov = (pa + pa2) / 2; dep = (d + d2) / 2
print(f"governed read over {int(rows)} rows (ms per scan): provider, no policies {prov:.1f}; "
      f"provider with the same WHERE {ps:.1f}; department with grant {dep:.1f}")
print(f"RATIO governed_read department/provider = {dep/prov:.3f} (target <= 1.15)")
print(f"RATIO governed_read department/provider_same_predicate = {dep/ps:.3f}")
PY
$P -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE bench_provider, bench_reader" >/dev/null
