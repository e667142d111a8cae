#!/bin/bash
# Lineage hook overhead: pgbench's TPC-B-like load with pubdata.lineage on
# against off (target >= 0.97), measured three ways in one cluster: runs in turn
# (ABBA), one client of each side by side, and the CPU time of one backend.
# Then the case where the hook does work: a write that reads another table
# (INSERT ... SELECT, one edge per transaction, written at commit).
#
# Environment (test/run.sh bench): PGHOST PGPORT PGUSER, PUBDATA_BINDIR.
# Knobs: LINEAGE_BENCH_SCALE (10), LINEAGE_BENCH_SECONDS (15), LINEAGE_BENCH_PAIRS (3),
# LINEAGE_BENCH_CPU_TXNS (50000).
set -euo pipefail
BIN=${PUBDATA_BINDIR:-$(dirname "$(command -v pgbench)")}
SCALE=${LINEAGE_BENCH_SCALE:-10}
SECS=${LINEAGE_BENCH_SECONDS:-15}
PAIRS=${LINEAGE_BENCH_PAIRS:-3}
DB=pubdata_bench_lineage
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; "$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT

"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
"$BIN/psql" -X -q -d $DB -c "SET client_min_messages = warning; CREATE EXTENSION pubdata CASCADE" >/dev/null
echo "pgbench -i -s $SCALE"
"$BIN/pgbench" -i -q -s "$SCALE" $DB >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }

# tps MODE [pgbench args...]: one run with pubdata.lineage = MODE
tps() {
	local mode=$1; shift
	"$BIN/psql" -X -q -d $DB -c CHECKPOINT >/dev/null
	PGOPTIONS="-c pubdata.lineage=$mode" "$BIN/pgbench" "$@" $DB 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}

# compare LABEL SECONDS [pgbench args...]: PAIRS pairs of runs, off/on then on/off
# (ABBA, to cancel drift), print each pair, the ratio of mean tps and the median
# of the pair ratios (the machine may be shared: the median resists a noisy pair)
compare() {
	local label=$1 secs=$2; shift 2
	local i t_off t_on ratios=""
	local off_sum=0 on_sum=0
	for i in $(seq 1 "$PAIRS"); do
		if [ $((i % 2)) -eq 1 ]; then
			t_off=$(tps off -c 2 -j 2 -T "$secs" "$@")
			t_on=$(tps on -c 2 -j 2 -T "$secs" "$@")
		else
			t_on=$(tps on -c 2 -j 2 -T "$secs" "$@")
			t_off=$(tps off -c 2 -j 2 -T "$secs" "$@")
		fi
		awk -v l="$label" -v i="$i" -v a="$t_off" -v b="$t_on" \
			'BEGIN { printf "  %s pair %d: off %.0f tps, on %.0f tps, ratio %.3f\n", l, i, a, b, b / a }'
		ratios="$ratios $(awk -v a="$t_off" -v b="$t_on" 'BEGIN { print b / a }')"
		off_sum=$(awk -v s="$off_sum" -v t="$t_off" 'BEGIN { print s + t }')
		on_sum=$(awk -v s="$on_sum" -v t="$t_on" 'BEGIN { print s + t }')
	done
	local median
	median=$(echo $ratios | tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	awk -v l="$label" -v on="$on_sum" -v off="$off_sum" -v n="$PAIRS" -v s="$secs" -v m="$median" \
		'BEGIN { printf "%s: lineage on / off = %.3f (ratio of mean tps %.0f / %.0f), median pair ratio %.3f; %d pairs x %ds\n", l, on / off, on / n, off / n, m, n, s }'
}

# side_by_side LABEL SECONDS [pgbench args...]: one client with lineage off and one
# with it on, run at the same time, so that both meet the same machine load; the
# ratio of their tps resists a busy shared machine better than runs in turn
side_by_side() {
	local label=$1 secs=$2; shift 2
	local i t_off t_on ratios=""
	for i in $(seq 1 "$PAIRS"); do
		"$BIN/psql" -X -q -d $DB -c "VACUUM ANALYZE pgbench_branches, pgbench_tellers" -c CHECKPOINT >/dev/null
		PGOPTIONS="-c pubdata.lineage=off" "$BIN/pgbench" -n -c 1 -T "$secs" "$@" $DB >"$WORK/off.out" 2>/dev/null &
		PGOPTIONS="-c pubdata.lineage=on" "$BIN/pgbench" -n -c 1 -T "$secs" "$@" $DB >"$WORK/on.out" 2>/dev/null &
		wait
		t_off=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/off.out")
		t_on=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/on.out")
		awk -v l="$label" -v i="$i" -v a="$t_off" -v b="$t_on" \
			'BEGIN { printf "  %s side by side %d: off %.0f tps, on %.0f tps, ratio %.3f\n", l, i, a, b, b / a }'
		ratios="$ratios $(awk -v a="$t_off" -v b="$t_on" 'BEGIN { print b / a }')"
	done
	echo $ratios | tr ' ' '\n' | sort -g | awk -v l="$label" -v n="$PAIRS" -v s="$secs" \
		'{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		   printf "%s side by side: lineage on / off = %.3f (median of %d runs of %ds)\n", l, m, n, s }'
}

# warm up (not counted): the first run after pgbench -i meets autovacuum and cold caches
tps on -c 2 -j 2 -T 5 >/dev/null

echo "TPC-B-like, -c 2 -T $SECS, scale $SCALE, runs in turn (target on/off >= 0.97)"
compare "tpcb" "$SECS"
echo "TPC-B-like, one client off and one on at the same time, -T $SECS"
side_by_side "tpcb" "$SECS"

# CPU time of one backend running the TPC-B transaction N times (plpgsql, COMMIT
# after each), from /proc/self/stat: the hook's cost whatever else the machine runs
CPU_TXNS=${LINEAGE_BENCH_CPU_TXNS:-50000}
"$BIN/psql" -X -q -d $DB <<'SQL' >/dev/null
CREATE FUNCTION lineage_bench_cpu_ticks() RETURNS bigint LANGUAGE sql AS $$
	SELECT split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint
	  FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) x $$;
CREATE PROCEDURE lineage_bench_tpcb(n int, scale int) LANGUAGE plpgsql AS $$
DECLARE
	v_aid int; v_bid int; v_tid int; v_delta int; v_bal int;
BEGIN
	FOR i IN 1..n LOOP
		v_aid := 1 + floor(random() * 100000 * scale);
		v_bid := 1 + floor(random() * scale);
		v_tid := 1 + floor(random() * 10 * scale);
		v_delta := floor(random() * 10001) - 5000;
		UPDATE pgbench_accounts SET abalance = abalance + v_delta WHERE aid = v_aid;
		SELECT abalance INTO v_bal FROM pgbench_accounts WHERE aid = v_aid;
		UPDATE pgbench_tellers SET tbalance = tbalance + v_delta WHERE tid = v_tid;
		UPDATE pgbench_branches SET bbalance = bbalance + v_delta WHERE bid = v_bid;
		INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (v_tid, v_bid, v_aid, v_delta, CURRENT_TIMESTAMP);
		COMMIT;
	END LOOP;
END $$;
SQL
# cpu MODE: clock ticks for CPU_TXNS transactions with pubdata.lineage = MODE
cpu() {
	"$BIN/psql" -X -At -d $DB -c "SET pubdata.lineage = $1" \
		-c "CALL lineage_bench_tpcb(500, $SCALE)" \
		-c "CREATE TEMP TABLE t AS SELECT lineage_bench_cpu_ticks() AS t0" \
		-c "CALL lineage_bench_tpcb($CPU_TXNS, $SCALE)" \
		-c "SELECT lineage_bench_cpu_ticks() - t0 FROM t" | tail -1
}
if "$BIN/psql" -X -At -d $DB -c "SELECT lineage_bench_cpu_ticks()" >/dev/null 2>&1; then
	echo "CPU time of $CPU_TXNS TPC-B transactions in one backend (clock ticks), off/on alternated"
	off_cpu=0; on_cpu=0
	for i in $(seq 1 "$PAIRS"); do
		c_off=$(cpu off); c_on=$(cpu on)
		echo "  tpcb cpu $i: off $c_off ticks, on $c_on ticks"
		off_cpu=$((off_cpu + c_off)); on_cpu=$((on_cpu + c_on))
	done
	awk -v a="$off_cpu" -v b="$on_cpu" \
		'BEGIN { printf "tpcb cpu: lineage on / off throughput at equal CPU = %.3f (CPU off %d, on %d ticks)\n", a / b, a, b }'
else
	echo "tpcb cpu: /proc/self/stat not readable, skipped"
fi

# the hook at work: every transaction is an INSERT ... SELECT that makes an edge
"$BIN/psql" -X -q -d $DB -c "CREATE TABLE lineage_sink (aid int, abalance int)" >/dev/null
cat >"$WORK/insert_select.sql" <<SQL
\set aid random(1, 100000 * $SCALE)
INSERT INTO lineage_sink SELECT aid, abalance FROM pgbench_accounts WHERE aid = :aid;
SQL
echo "INSERT ... SELECT per transaction (one edge written at each commit), -c 2 -T 5"
compare "insert_select" 5 -n -f "$WORK/insert_select.sql"
"$BIN/psql" -X -At -d $DB -c "SELECT 'edges: ' || count(*) || ', count ' || sum(count) FROM pubdata.lineage_edge"

# the OpenLineage event stream on top of it: the same INSERT ... SELECT per
# transaction with lineage on, the stream off and on.  With the stream on each
# commit appends one run to pubdata.openlineage_pending (no lock), and a
# publisher turns runs into events: this database is not pubdata.database, so
# a session stands in for the launcher, publishing every 100 ms while pgbench
# runs (its CPU is on the same two cores, as the launcher's would be)
stream_tps() {
	local mode=$1; shift
	"$BIN/psql" -X -q -d $DB -c CHECKPOINT >/dev/null
	PGOPTIONS="-c pubdata.openlineage_stream=$mode" "$BIN/pgbench" "$@" $DB 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}
# publisher SECONDS: publish every 100 ms for SECONDS (and once more), in the
# background; its backend's clock ticks go to $WORK/publisher.ticks
publisher() {
	"$BIN/psql" -X -At -d $DB >"$WORK/publisher.ticks" 2>/dev/null <<SQL &
DO \$\$
DECLARE stop timestamptz := clock_timestamp() + interval '$1 seconds';
BEGIN
	WHILE clock_timestamp() < stop LOOP
		PERFORM pubdata.openlineage_publish();
		COMMIT;
		PERFORM pg_sleep(0.1);
	END LOOP;
END
\$\$;
SELECT pubdata.openlineage_publish();
SELECT lineage_bench_cpu_ticks();
SQL
	PUBLISHER=$!
}
stream_on_tps() {
	local t
	publisher 5.2
	t=$(stream_tps on "$@")
	wait $PUBLISHER
	pub_ticks=$(tail -1 "$WORK/publisher.ticks")
	echo "$t"
}
runs_before=$("$BIN/psql" -X -At -d $DB -c "SELECT count(*) FILTER (WHERE event_type = 'START') FROM pubdata.openlineage_event")
echo "INSERT ... SELECT per transaction, OpenLineage stream off / on (lineage on), -c 2 -T 5, ABBA (load average $(cut -d' ' -f1-3 /proc/loadavg))"
s_off=0; s_on=0; p_ticks=0
for i in 1 2 3 4; do
	if [ $((i % 2)) -eq 1 ]; then
		a=$(stream_tps off -n -c 2 -j 2 -T 5 -f "$WORK/insert_select.sql"); b=$(stream_on_tps -n -c 2 -j 2 -T 5 -f "$WORK/insert_select.sql")
	else
		b=$(stream_on_tps -n -c 2 -j 2 -T 5 -f "$WORK/insert_select.sql"); a=$(stream_tps off -n -c 2 -j 2 -T 5 -f "$WORK/insert_select.sql")
	fi
	p_ticks=$((p_ticks + $(tail -1 "$WORK/publisher.ticks")))
	awk -v i="$i" -v a="$a" -v b="$b" 'BEGIN { printf "  stream pair %d: off %.0f tps, on %.0f tps, ratio %.3f\n", i, a, b, b / a }'
	s_off=$(awk -v s="$s_off" -v t="$a" 'BEGIN { print s + t }'); s_on=$(awk -v s="$s_on" -v t="$b" 'BEGIN { print s + t }')
done
awk -v a="$s_off" -v b="$s_on" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { printf "insert_select: stream on / off = %.3f (mean tps %.0f / %.0f; load average %s)\n", b / a, b / 4, a / 4, l }'
runs=$("$BIN/psql" -X -At -d $DB -c "SELECT count(*) FILTER (WHERE event_type = 'START') - $runs_before FROM pubdata.openlineage_event")
pending=$("$BIN/psql" -X -At -d $DB -c "SELECT count(*) FROM pubdata.openlineage_pending")
echo "stream: $runs runs published as $((2 * runs)) events, $pending left pending; publisher CPU $p_ticks ticks"
hz=$(getconf CLK_TCK)
awk -v t="$p_ticks" -v r="$runs" -v hz="$hz" 'BEGIN { if (r > 0) printf "stream publisher: %.1f us of CPU per run\n", t / hz * 1e6 / r }'

# CPU per transaction of one backend, stream off and on (the commit's own
# cost: appending the run), alternated
cpu_stream() {
	"$BIN/psql" -X -At -d $DB -c "SET pubdata.openlineage_stream = $1" \
		-c "CREATE TEMP TABLE t AS SELECT lineage_bench_cpu_ticks() AS t0" \
		-c "DO \$\$ DECLARE v int; BEGIN FOR i IN 1..$CPU_TXNS LOOP v := (random() * ($SCALE * 100000 - 1))::int + 1;
				INSERT INTO lineage_sink SELECT aid, abalance FROM pgbench_accounts WHERE aid = v; COMMIT; END LOOP; END \$\$" \
		-c "SELECT lineage_bench_cpu_ticks() - t0 FROM t" | tail -1
}
if "$BIN/psql" -X -At -d $DB -c "SELECT lineage_bench_cpu_ticks()" >/dev/null 2>&1; then
	c_off=0; c_on=0
	for i in 1 2; do
		c_off=$((c_off + $(cpu_stream off))); c_on=$((c_on + $(cpu_stream on)))
	done
	"$BIN/psql" -X -q -d $DB -c "SELECT pubdata.openlineage_publish()" >/dev/null
	awk -v a="$c_off" -v b="$c_on" -v n="$((2 * CPU_TXNS))" -v hz="$hz" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
		'BEGIN { printf "insert_select cpu: stream off %.1f us, on %.1f us per transaction (backend), on / off %.3f (load average %s)\n", a / hz * 1e6 / n, b / hz * 1e6 / n, b / a, l }'
fi
"$BIN/psql" -X -At -d $DB -c "SELECT 'stream events: ' || count(*) FROM pubdata.openlineage_event"
