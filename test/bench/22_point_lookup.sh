#!/bin/bash
# Request–response at the speed of a plain lookup (Art 17): a granted
# department's prepared point select on a restricted resource of 100k rows,
# against the provider running the same statement on the same table.
#
# police.h2 (id, id_number, name, region), ten regions, registered, submitted,
# reviewed and published through the pubdata API (lib/lookup_db.sh, shared
# with 23_point_lookup_instructions).  The department's one live grant gives
# items (id, name, region) with row scope {"region": "331102"}; every lookup
# draws an id from that region, so every lookup finds its row.
# Audit on (the default): each department lookup writes an audit record.
#
# Cases: one grant on the table, then 200 more departments holding grants on
# it (the one measured is the last of them to be granted).  Each case at -c 1
# and at -c 8 -j 2, pgbench -M prepared, interleaved rounds (the order of the
# two roles alternates each round); the figure is the median of the rounds'
# department/provider ratios (each round's two runs are adjacent in time).
# Prints provider and department tps, the ratio department/provider (target
# >= 0.85), and at -c 1 the cost of one governed lookup in microseconds above
# the provider's (1e6/dept_tps - 1e6/prov_tps).
# Env (test/run.sh): PUBDATA_BINDIR, PGHOST, PGPORT, PGUSER.
# BENCH_SECONDS (default 3) per run, BENCH_ROUNDS (default 7) rounds,
# BENCH_LOOKUP_DEPARTMENTS (default 200) departments in the second case.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
SECS=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-7}
NDEPT=${BENCH_LOOKUP_DEPARTMENTS:-200}
DB=pubdata_bench_lookup
PROV=bench22_police
DEPT=bench22_civil
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
q() { $BIN/psql -X -qAt -v ON_ERROR_STOP=1 "$@"; }
drop_all() {	# the database, then every bench22_ role
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	q -d postgres -c "SELECT format('DROP ROLE %I;', rolname) FROM pg_roles WHERE rolname LIKE 'bench22\_%'" 2>/dev/null \
		| $P -d postgres >/dev/null 2>&1
}
drop_all
WORK=$(mktemp -d /tmp/pubdata-bench22.XXXXXX)
trap 'drop_all; rm -rf "$WORK"' EXIT

. "$(dirname "$0")/lib/lookup_db.sh"
lookup_db_setup "$BIN" $DB $PROV $DEPT "ARRAY['id', 'name', 'region']" || exit 1
lookup_db_script "$WORK/lookup.sql"

check() {
	local got
	got=$(q -d $DB -U "$1" -c "SELECT count(*) FROM police.h2 WHERE id IN (10, 99990)" \
			-c "SELECT count(*) FROM police.h2 WHERE id = 11") || { echo "department $1 cannot read police.h2"; exit 1; }
	[ "$got" = "$(printf '2\n0')" ] || { echo "department $1 does not see exactly its granted rows: [$got]"; exit 1; }
}
check $DEPT
explain() {
	echo "department $1's plan for one lookup:"
	q -d $DB -U "$1" -c "EXPLAIN (COSTS OFF) SELECT name FROM police.h2 WHERE id = 10" | sed 's/^/    /'
}
explain $DEPT

# tps ROLE CLIENTS THREADS [SECONDS]: a run's steady tps; its transaction count goes to $WORK/count.
# Every run opens its connections anew, and a new session's first statements
# load pubdata's caches (the catalog; for a department also its grants): the
# run lasts two seconds longer than measured, and its tps is the mean of the
# seconds that follow its first one (pgbench's per-second log), the same way
# for both roles.  Pooled business systems keep their sessions.
tps() {
	local secs=${4:-$SECS}
	rm -f "$WORK"/log.*
	(cd "$WORK" && "$BIN/pgbench" -n -M prepared -c "$2" -j "$3" -T $((secs + 2)) -U "$1" -f "$WORK/lookup.sql" \
		-l --aggregate-interval=1 --log-prefix=log $DB >"$WORK/run.out" 2>&1)
	sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/run.out" >"$WORK/count"
	cat "$WORK"/log.* 2>/dev/null | awk '{ n[$1] += $2 } END { for (t in n) print t, n[t] }' | sort -n \
		| awk -v secs="$secs" 'NR > 1 && NR <= secs + 1 { k++; s += $2 } END { if (k > 0) printf "%d\n", s / k }'
}
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
audit_seq() { q -d $DB -c "SELECT seq FROM pubdata.audit_chain_head()"; }
# measure LABEL DEPT CLIENTS THREADS: interleaved rounds, medians, one result line
measure() {
	local label=$1 dept=$2 c=$3 j=$4 pruns="" druns="" looks=0 r p d before after
	tps $PROV "$c" "$j" 1 >/dev/null; tps "$dept" "$c" "$j" 1 >/dev/null	# warm-up
	before=$(audit_seq)
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			druns="$druns $(tps "$dept" "$c" "$j")"; looks=$((looks + $(cat "$WORK/count")))
			pruns="$pruns $(tps $PROV "$c" "$j")"
		else
			pruns="$pruns $(tps $PROV "$c" "$j")"
			druns="$druns $(tps "$dept" "$c" "$j")"; looks=$((looks + $(cat "$WORK/count")))
		fi
	done
	after=$(audit_seq)
	if [ "$(wc -w <<<"$pruns $druns")" != $((2 * ROUNDS)) ]; then
		echo "$label, -c $c: a pgbench run failed (tps: provider$pruns; department$druns)"; cat "$WORK/run.out"; return 1
	fi
	p=$(median $pruns); d=$(median $druns)
	# each round's two runs are next to each other in time: the median of the
	# rounds' ratios is the figure (a shared machine's load changes between
	# rounds more than within one); the ratio of the medians is printed beside it
	ratios=$(paste -d' ' <(tr ' ' '\n' <<<"${pruns# }") <(tr ' ' '\n' <<<"${druns# }") | awk '{ printf "%.3f\n", $2 / $1 }')
	pr_med=$(median $ratios)
	awk -v l="$label" -v c="$c" -v p="$p" -v d="$d" -v pr="$pruns" -v dr="$druns" -v rr="$(echo $ratios)" -v rm="$pr_med" \
		-v recs="$((after - before))" -v looks="$looks" 'BEGIN {
		printf "%s, -c %d: department/provider = %.3f (median of %d paired rounds; target >= 0.85); medians: provider %.0f tps, department %.0f tps (%.3f)", l, c, rm, split(rr, x, " "), p, d, d / p
		if (c == 1) printf ", governed lookup +%.1f us", 1e6 / d - 1e6 / p
		printf "\n    runs (tps): provider%s; department%s; paired ratios %s; %d department lookups, %d audit records\n", pr, dr, rr, looks, recs
	}'
}

echo "point lookup by id, 100k rows, ${ROUNDS} rounds of ${SECS} s, medians:"
measure "1 grant on the table" $DEPT 1 1
measure "1 grant on the table" $DEPT 8 2

REGIONS=(331102 331100 331121 331122 331123 331124 331125 331126 331127 331181)
# NDEPT more departments, each granted the same items in one of the ten regions
{
	echo "SET client_min_messages = warning;"
	for i in $(seq -w 1 "$NDEPT"); do echo "CREATE ROLE bench22_d$i LOGIN;"; done
} | $P -d postgres >/dev/null || exit 1
{
	echo "SET client_min_messages = warning;"
	for i in $(seq -w 1 "$NDEPT"); do
		echo "SELECT pubdata.add_department('d$i', '部门$i', '331100', 'administrative', 'bench22_d$i');"
		echo "SET ROLE bench22_d$i;"
		echo "SELECT pubdata.request_share('PS-H2', '基准测试', ARRAY['id', 'name', 'region']) AS req \\gset"
		echo "SET ROLE $PROV;"
		# the last one, measured, gets the first department's grant; the others one of the ten regions each
		region=${REGIONS[$(( 10#$i % 10 ))]}
		[ $((10#$i)) = "$NDEPT" ] && region=331102
		echo "SELECT pubdata.decide_share(:req, true, row_scope => '{\"region\": \"$region\"}');"
		echo "RESET ROLE;"
	done
} >"$WORK/grants.sql"
start=$(date +%s)
$P -d $DB -f "$WORK/grants.sql" >/dev/null || exit 1
LAST=bench22_d$(seq -w 1 "$NDEPT" | tail -1)
grants=$(q -d $DB -c "SELECT count(*) FROM pubdata.share_request s JOIN pubdata.resource r ON r.id = s.resource_id WHERE r.code = 'PS-H2' AND s.status = 'approved'")
echo "$NDEPT more departments granted in $(( $(date +%s) - start )) s; live grants on the table: $grants; measured: $LAST"
check "$LAST"
explain "$LAST"
measure "$grants grants on the table" "$LAST" 1 1
measure "$grants grants on the table" "$LAST" 8 2
