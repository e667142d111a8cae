#!/bin/bash
# Governed read of a partitioned table (issue 11): the table of
# 20_governed_read.sh partitioned by month (12 partitions), a department with
# a restricted grant (row scope + two excluded items), against the provider
# running the same statements.  Two reads: the whole table through the parent,
# and one month through the parent (the planner keeps one partition).  A
# department never names a partition (pubdata refuses it): one partition is
# read through the parent.  Interleaved rounds, median of the rounds' ratios.
set -euo pipefail
ROWS=${BENCH_ROWS:-1200000}
RUNS=${BENCH_RUNS:-8}
ROUNDS=${BENCH_ROUNDS:-5}
P="psql -X -q -v ON_ERROR_STOP=1"
DB=bench_read_parted
$P -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
$P -d postgres >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP ROLE IF EXISTS bench_pprovider, bench_preader;
CREATE ROLE bench_pprovider LOGIN; CREATE ROLE bench_preader LOGIN;
SQL
trap '$P -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS bench_pprovider, bench_preader" >/dev/null 2>&1' EXIT
$P -d $DB >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA p AUTHORIZATION bench_pprovider;
GRANT USAGE ON SCHEMA p TO PUBLIC;
SELECT pubdata.add_department('prov', '提供部门', '331100', 'administrative', 'bench_pprovider');
SELECT pubdata.add_department('user', '使用部门', '331102', 'administrative', 'bench_preader');
SET ROLE bench_pprovider;
CREATE TABLE p.person (id integer, region text, name text, id_number text, address text, amount numeric,
					   moved_in date NOT NULL) PARTITION BY RANGE (moved_in);
SELECT format('CREATE TABLE p.person_%s PARTITION OF p.person FOR VALUES FROM (%L) TO (%L)',
			  m, make_date(2026, m, 1), (make_date(2026, m, 1) + interval '1 month')::date)
  FROM generate_series(1, 12) m \gexec
INSERT INTO p.person
	SELECT g, (ARRAY['331102','331121','331122','331123'])[1 + g % 4], 'name' || g, lpad(g::text, 18, '0'),
		   'address ' || g, (g % 1000)::numeric, make_date(2026, 1 + g % 12, 1 + g % 28)
	  FROM generate_series(1, $ROWS) g;
SELECT pubdata.register_resource('p.person', 'B-PPERSON', '人口', 'prov', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('B-PPERSON');
RESET ROLE;
SELECT pubdata.review_resource('B-PPERSON', true), pubdata.publish_resource('B-PPERSON');
SET ROLE bench_preader;
SELECT pubdata.request_share('B-PPERSON', 'bench', ARRAY['id', 'region', 'amount', 'name', 'moved_in']);
RESET ROLE;
SET ROLE bench_pprovider;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
RESET ROLE;
VACUUM ANALYZE p.person;
SQL
W=$PUBDATA_WORK/bench_read_parted; mkdir -p "$W"
echo "SELECT count(*), sum(amount) FROM p.person;" > "$W/all.sql"
echo "SELECT count(*), sum(amount) FROM p.person WHERE moved_in >= '2026-06-01' AND moved_in < '2026-07-01';" > "$W/month.sql"
echo "the department's plan of one month (one partition kept, the policy's InitPlan once):"
$P -d $DB -c "SET ROLE bench_preader" -c "EXPLAIN (COSTS OFF) $(cat "$W/month.sql")" | sed 's/^/    /'
lat() { # role script -> average latency in ms
	pgbench -n -c 1 -t "$RUNS" -f "$2" -U "$1" $DB 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}
lat bench_pprovider "$W/all.sql" >/dev/null; lat bench_preader "$W/all.sql" >/dev/null
for what in all month; do
	: > "$W/$what.ratios"
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then p=$(lat bench_pprovider "$W/$what.sql"); d=$(lat bench_preader "$W/$what.sql")
		else d=$(lat bench_preader "$W/$what.sql"); p=$(lat bench_pprovider "$W/$what.sql"); fi
		echo "$p $d" >> "$W/$what.ratios"
	done
done
python3 - "$W" "$ROWS" <<'PY'
import sys, statistics
w, rows = sys.argv[1], int(sys.argv[2])
for what, label in (("all", "the whole table through the parent"), ("month", "one month (one partition) through the parent")):
    pairs = [tuple(map(float, l.split())) for l in open(f"{w}/{what}.ratios")]
    ratios = [d / p for p, d in pairs]
    print(f"partitioned governed read, {label}, {rows} rows in 12 partitions: provider "
          f"{statistics.median(p for p, _ in pairs):.1f} ms, department {statistics.median(d for _, d in pairs):.1f} ms "
          f"(rounds {min(ratios):.2f}-{max(ratios):.2f})")
    print(f"RATIO governed_read_partitioned_{what} department/provider = {statistics.median(ratios):.3f} (target <= 1.15)")
PY
