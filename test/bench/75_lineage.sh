#!/bin/bash
# Lineage hook overhead: pgbench's TPC-B-like load with pubdata.lineage on
# against off, runs alternated in one cluster, ratio of mean tps (target >= 0.97).
# Then the case where the hook does work: a write that reads another table
# (INSERT ... SELECT, one edge per transaction, written at commit).
#
# Environment (test/run.sh bench): PGHOST PGPORT PGUSER, PUBDATA_BINDIR.
# Knobs: LINEAGE_BENCH_SCALE (10), LINEAGE_BENCH_SECONDS (15), LINEAGE_BENCH_PAIRS (2).
set -euo pipefail
BIN=${PUBDATA_BINDIR:-$(dirname "$(command -v pgbench)")}
SCALE=${LINEAGE_BENCH_SCALE:-10}
SECS=${LINEAGE_BENCH_SECONDS:-15}
PAIRS=${LINEAGE_BENCH_PAIRS:-2}
DB=pubdata_bench_lineage
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; "$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT

"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
"$BIN/psql" -X -q -d $DB -c "SET client_min_messages = warning; CREATE EXTENSION pubdata CASCADE" >/dev/null
echo "pgbench -i -s $SCALE"
"$BIN/pgbench" -i -q -s "$SCALE" $DB >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }

# tps MODE [pgbench args...]: one run with pubdata.lineage = MODE
tps() {
	local mode=$1; shift
	PGOPTIONS="-c pubdata.lineage=$mode" "$BIN/pgbench" "$@" $DB 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}

# compare LABEL SECONDS [pgbench args...]: alternate off/on PAIRS times, print the ratio
compare() {
	local label=$1 secs=$2; shift 2
	local off_sum=0 on_sum=0 i t_off t_on
	for i in $(seq 1 "$PAIRS"); do
		t_off=$(tps off -c 2 -j 2 -T "$secs" "$@")
		t_on=$(tps on -c 2 -j 2 -T "$secs" "$@")
		awk -v l="$label" -v i="$i" -v a="$t_off" -v b="$t_on" \
			'BEGIN { printf "  %s pair %d: off %.0f tps, on %.0f tps, ratio %.3f\n", l, i, a, b, b / a }'
		off_sum=$(awk -v s="$off_sum" -v t="$t_off" 'BEGIN { print s + t }')
		on_sum=$(awk -v s="$on_sum" -v t="$t_on" 'BEGIN { print s + t }')
	done
	awk -v l="$label" -v on="$on_sum" -v off="$off_sum" -v n="$PAIRS" -v s="$secs" \
		'BEGIN { printf "%s: lineage on / off = %.3f (mean tps on %.0f, off %.0f; %d x %ds each)\n", l, on / off, on / n, off / n, n, s }'
}

echo "TPC-B-like, -c 2 -T $SECS, scale $SCALE (target on/off >= 0.97)"
compare "tpcb" "$SECS"

# the hook at work: every transaction is an INSERT ... SELECT that makes an edge
"$BIN/psql" -X -q -d $DB -c "CREATE TABLE lineage_sink (aid int, abalance int)" >/dev/null
cat >"$WORK/insert_select.sql" <<SQL
\set aid random(1, 100000 * $SCALE)
INSERT INTO lineage_sink SELECT aid, abalance FROM pgbench_accounts WHERE aid = :aid;
SQL
echo "INSERT ... SELECT per transaction (one edge written at each commit), -c 2 -T 5"
compare "insert_select" 5 -n -f "$WORK/insert_select.sql"
"$BIN/psql" -X -At -d $DB -c "SELECT 'edges: ' || count(*) || ', count ' || sum(count) FROM pubdata.lineage_edge"
