#!/bin/bash
# Benchmark: pubdata.measure_quality (8 rules incl. uniqueness, one pass)
# against the floor of reading the checked columns, SELECT count(region)
# (region is the last checked column: every row is deformed up to it), and
# against SELECT count(*) (never deforms a tuple).  Server defaults for every
# side: no SET of work_mem, maintenance_work_mem or any parallel setting, so
# count(*) runs in parallel as the planner decides and measure_quality takes
# its workers and memory from max_parallel_maintenance_workers and
# maintenance_work_mem.  Everything runs as the providing department's login.
#
# Paired rounds (as test/bench/22_point_lookup.sh): each round runs the three
# statements back to back, in an order that alternates between rounds; the
# figures are the medians of the rounds' ratios.  Targets: <= 1.25 x
# count(region), <= 2.0 x count(*).  Then the same over a partitioned table
# of QUALITY_BENCH_BIG_ROWS rows in 12 partitions, and the peak memory of the
# measuring processes (their private resident memory, polled) beside what the
# run recorded (pubdata.quality_run.memory_used).  A Soda-style set of
# queries for the same checks runs once at the first size.  The load average
# is printed before and after: on a shared machine, say whether it was busy.
#
# Env: PGHOST PGPORT PGUSER (test/run.sh); QUALITY_BENCH_ROWS (2000000),
# QUALITY_BENCH_BIG_ROWS (20000000; 0 skips), BENCH_ROUNDS (5),
# BENCH_BIG_ROUNDS (3), QUALITY_BENCH_SODA (1), QUALITY_BENCH_KEEP (keep the db).
set -uo pipefail
ROWS=${QUALITY_BENCH_ROWS:-2000000}
BIG=${QUALITY_BENCH_BIG_ROWS:-20000000}
ROUNDS=${BENCH_ROUNDS:-5}
BIG_ROUNDS=${BENCH_BIG_ROUNDS:-3}
DB=pubdata_bench_quality
DEPT=bench72_dept
P="psql -X -q -v ON_ERROR_STOP=1"
Q="psql -X -qAt -v ON_ERROR_STOP=1"
WORK=$(mktemp -d /tmp/pubdata-bench72.XXXXXX)
drop_all() {
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	$P -d postgres -c "DROP ROLE IF EXISTS $DEPT" >/dev/null 2>&1
}
cleanup() {
	[ -n "${QUALITY_BENCH_KEEP:-}" ] || drop_all
	rm -rf "$WORK"
}
drop_all
trap cleanup EXIT
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before: $(loadavg) ($(nproc) CPUs)"
$Q -d postgres -c "SELECT 'server settings: ' || string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name)
	FROM pg_settings WHERE name IN ('work_mem', 'maintenance_work_mem', 'max_parallel_workers_per_gather',
	'max_parallel_maintenance_workers', 'max_parallel_workers', 'shared_buffers', 'min_parallel_table_scan_size')"

t0=$(date +%s)
$P -d postgres -c "CREATE DATABASE $DB" -c "CREATE ROLE $DEPT LOGIN" >/dev/null || exit 1
$P -d $DB >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
SELECT pubdata.add_department('bench_qual', '市公安局', '331100', 'administrative', '$DEPT');
CREATE SCHEMA bench AUTHORIZATION $DEPT;
SQL
# the department's tables, as its login: about 1% defects per rule, 1000 duplicated ids
$P -U $DEPT -d $DB >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
-- a pool of valid identity numbers (17 digits + MOD 11-2 check character)
CREATE TEMP TABLE cards AS
SELECT n, d17 || substr('10X98765432', (SELECT sum(substr(d17, i, 1)::int * (2 ^ (18 - i))::int % 11) FROM generate_series(1, 17) i)::int % 11 + 1, 1) AS card
  FROM (SELECT n, '3311' || lpad((n % 100)::text, 2, '0') || (1950 + n % 60)::text || lpad((1 + n % 12)::text, 2, '0')
				  || lpad((1 + n % 28)::text, 2, '0') || lpad((n % 1000)::text, 3, '0') AS d17
		  FROM generate_series(0, 9999) n) s;
CREATE TABLE bench.people (id bigint, id_no text, name text, phone text, age integer, sex text, born date, region text);
INSERT INTO bench.people
SELECT CASE WHEN g % 2000 = 0 THEN g - 1 ELSE g END,
	   CASE WHEN g % 97 = 0 THEN '33110219800101001' || (g % 10)::text ELSE c.card[1 + g % 10000] END,
	   CASE WHEN g % 101 = 0 THEN NULL ELSE 'name' || g END,
	   CASE WHEN g % 103 = 0 THEN '1234' ELSE '13' || lpad((g % 1000000000)::text, 9, '0') END,
	   CASE WHEN g % 107 = 0 THEN 200 ELSE g % 100 END,
	   CASE WHEN g % 109 = 0 THEN 'X' WHEN g % 2 = 0 THEN 'M' ELSE 'F' END,
	   CASE WHEN g % 113 = 0 THEN date '2999-01-01' ELSE date '1950-01-01' + (g % 20000) END,
	   CASE WHEN g % 127 = 0 THEN 'x' ELSE '3311' || lpad((g % 100)::text, 2, '0') END
  FROM generate_series(1, $ROWS) g, (SELECT array_agg(card ORDER BY n) AS card FROM cards) c;
VACUUM ANALYZE bench.people;
SELECT pubdata.register_resource('bench.people', 'BENCH-PEOPLE', '人口', 'bench_qual', 'unconditional', 'open', 'daily', 2);
SELECT pubdata.set_item('BENCH-PEOPLE', 'id', is_key => true);
SQL
rules() {	# rules RESOURCE: the 8 rules
	$Q -U $DEPT -d $DB >/dev/null <<SQL || exit 1
SELECT pubdata.add_quality_rule('$1', 'id', 'unique');
SELECT pubdata.add_quality_rule('$1', 'id_no', 'id_card');
SELECT pubdata.add_quality_rule('$1', 'name', 'not_null');
SELECT pubdata.add_quality_rule('$1', 'phone', 'mobile');
SELECT pubdata.add_quality_rule('$1', 'age', 'range', '{"min": 0, "max": 150}');
SELECT pubdata.add_quality_rule('$1', 'sex', 'allowed_values', '{"values": ["M", "F"]}');
SELECT pubdata.add_quality_rule('$1', 'born', 'date_not_future');
SELECT pubdata.add_quality_rule('$1', 'region', 'pattern', '{"regex": "^[0-9]{6}\$"}');
SQL
}
rules BENCH-PEOPLE
echo "setup of $ROWS rows: $(( $(date +%s) - t0 )) s"

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# peak RESOURCE: one measurement, polling the private resident memory
# (RssAnon) of the measuring backend and its parallel workers; prints
# "peak_kB baseline_kB recorded_bytes workers"
peak() {
	local pid base max=0 sum w v part line buf=""
	coproc M { psql -X -qAt -U $DEPT -d $DB 2>&1; }
	echo "SELECT pg_backend_pid();" >&"${M[1]}"
	read -r -u "${M[0]}" pid
	base=$(awk '/^RssAnon/ { print $2 }' /proc/$pid/status)
	echo "SELECT pubdata.measure_quality('$1'); SELECT 'done';" >&"${M[1]}"
	while :; do
		sum=$(awk '/^RssAnon/ { print $2 }' /proc/$pid/status 2>/dev/null)
		sum=${sum:-0}
		for w in $(pgrep -f "parallel worker for PID $pid( |$)"); do
			v=$(awk '/^RssAnon/ { print $2 }' /proc/$w/status 2>/dev/null)
			sum=$(( sum + ${v:-0} ))
		done
		[ "${sum:-0}" -gt "$max" ] && max=$sum
		# a read that times out keeps what it read of a line: keep it too
		if read -r -t 0.02 -u "${M[0]}" part; then
			line="$buf$part"
			buf=""
			[ "$line" = done ] && break
		else
			buf="$buf$part"
		fi
	done
	echo "\\q" >&"${M[1]}"
	echo "$max $base $($Q -U $DEPT -d $DB -c "SELECT memory_used || ' ' || workers FROM pubdata.quality_run ORDER BY id DESC LIMIT 1")"
}
# rounds RESOURCE TABLE N: paired rounds of count(*), count(region) and
# measure_quality, the order alternating; prints the medians
rounds() {
	local res=$1 tab=$2 n=$3 r m cs cr order rs=() rr=() ms=() css=() crs=()
	local stmt_m="SELECT pubdata.measure_quality('$res');"
	local stmt_s="SELECT count(*) FROM $tab;"
	local stmt_r="SELECT count(region) FROM $tab;"
	# a warm-up of each
	$Q -U $DEPT -d $DB -c "$stmt_s" -c "$stmt_r" -c "$stmt_m" >/dev/null || exit 1
	for r in $(seq 1 "$n"); do
		if [ $((r % 2)) = 1 ]; then order="$stmt_s $stmt_r $stmt_m"; else order="$stmt_m $stmt_r $stmt_s"; fi
		out=$(printf '\\timing on\n%s\n' "$(echo "$order" | sed 's/; /;\n/g')" | psql -X -qAt -U $DEPT -d $DB 2>&1)
		# the Time: lines follow the statements' order
		times=($(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'))
		if [ $((r % 2)) = 1 ]; then cs=${times[0]}; cr=${times[1]}; m=${times[2]}; else m=${times[0]}; cr=${times[1]}; cs=${times[2]}; fi
		ms+=("$m"); css+=("$cs"); crs+=("$cr")
		rs+=("$(echo "$m / $cs" | bc -l)"); rr+=("$(echo "$m / $cr" | bc -l)")
		printf '  round %d: count(*) %8.1f ms  count(region) %8.1f ms  measure_quality %8.1f ms\n' "$r" "$cs" "$cr" "$m"
	done
	printf '  medians:  count(*) %8.1f ms  count(region) %8.1f ms  measure_quality %8.1f ms\n' \
		"$(median "${css[@]}")" "$(median "${crs[@]}")" "$(median "${ms[@]}")"
	printf '  measure_quality / count(region) = %.2f  (median of the rounds'"'"' ratios; target <= 1.25)\n' "$(median "${rr[@]}")"
	printf '  measure_quality / count(*)      = %.2f  (target <= 2.0)\n' "$(median "${rs[@]}")"
}
# cpu RESOURCE TABLE N: the CPU time of each statement, N times each in turn in
# one session: the backend's own (utime + stime in /proc/PID/stat) plus its
# parallel workers', which the postmaster adds to its cutime + cstime when it
# reaps them (the leader waits for that before it returns).  Load on the
# machine disturbs CPU time much less than wall time; clock ticks are 10 ms,
# so the N runs are summed.  Another child of the postmaster ending meanwhile
# (an autovacuum worker) would count too: the bench database has none due.
cpu() {
	local res=$1 tab=$2 n=$3 pid pm i k line
	local -A tot=([m]=0 [r]=0 [s]=0)
	local -A stmt=([m]="SELECT pubdata.measure_quality('$res');" [r]="SELECT count(region) FROM $tab;"
				   [s]="SELECT count(*) FROM $tab;")
	ticks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
	cticks() { awk '{ print $16 + $17 }' /proc/$pm/stat; }
	coproc C { psql -X -qAt -U $DEPT -d $DB 2>&1; }
	local cpid=$C_PID
	echo "SELECT pg_backend_pid();" >&"${C[1]}"
	read -r -u "${C[0]}" pid
	pm=$(awk '{ print $4 }' /proc/$pid/stat)
	for i in $(seq 1 "$n"); do
		for k in m r s; do
			local b0 c0
			b0=$(ticks); c0=$(cticks)
			echo "${stmt[$k]} SELECT 'done';" >&"${C[1]}"
			while read -r -u "${C[0]}" line; do [ "$line" = done ] && break; done
			tot[$k]=$(( tot[$k] + $(ticks) - b0 + $(cticks) - c0 ))
		done
	done
	echo "\\q" >&"${C[1]}"
	wait "$cpid" 2>/dev/null
	printf '  CPU time (backend + workers, %d runs each, clock ticks of %d ms): measure_quality %d ms, count(region) %d ms, count(*) %d ms a run\n' \
		"$n" $((1000 / $(getconf CLK_TCK))) $((tot[m] * 1000 / $(getconf CLK_TCK) / n)) \
		$((tot[r] * 1000 / $(getconf CLK_TCK) / n)) $((tot[s] * 1000 / $(getconf CLK_TCK) / n))
	printf '  CPU time: measure_quality / count(region) = %.2f, measure_quality / count(*) = %.2f\n' \
		"$(echo "${tot[m]} / ${tot[r]}" | bc -l)" "$(echo "${tot[m]} / ${tot[s]}" | bc -l)"
}
serial() {	# serial RESOURCE N: measure_quality in one process (for comparison), median ms
	local out t=()
	out=$(for i in $(seq 1 "$2"); do echo "SELECT pubdata.measure_quality('$1');"; done |
		psql -X -qAt -U $DEPT -d $DB -c "SET max_parallel_maintenance_workers = 0" -c '\timing on' -f - 2>&1)
	t=($(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'))
	printf '  for comparison, in one process (max_parallel_maintenance_workers = 0): measure_quality %.1f ms (median of %d)\n' \
		"$(median "${t[@]}")" "$2"
}
report_run() {	# the last run's rows, workers and memory
	$Q -U $DEPT -d $DB -c "SELECT format('  last run: %s rows, %s parallel workers, memory_used %s', rows_checked, workers,
		pg_size_pretty(memory_used)) FROM pubdata.quality_run ORDER BY id DESC LIMIT 1"
}
show_peak() {
	read -r pk base rec w <<<"$(peak "$1")"
	printf '  peak private memory of the measuring processes: %s kB (backend before: %s kB); recorded memory_used %s kB; budget (maintenance_work_mem) %s; %s workers\n' \
		"$pk" "$base" "$((rec / 1024))" "$($Q -d $DB -c 'SHOW maintenance_work_mem')" "$w"
}

echo "== $ROWS rows, 8 rules (unique, id_card, not_null, mobile, range, allowed_values, date_not_future, pattern)"
rounds BENCH-PEOPLE bench.people "$ROUNDS"
cpu BENCH-PEOPLE bench.people "$ROUNDS"
report_run
serial BENCH-PEOPLE 3
$Q -U $DEPT -d $DB -c "SELECT format('  %s %s: %s failed', q.id, q.kind, r.rows_failed) FROM pubdata.quality_result r
	JOIN pubdata.quality_rule q ON q.id = r.rule_id WHERE r.run_id = (SELECT max(id) FROM pubdata.quality_run) ORDER BY q.id"
show_peak BENCH-PEOPLE

if [ "${QUALITY_BENCH_SODA:-1}" = 1 ]; then
	# what a tool like Soda sends for the same checks: one aggregate query for the
	# simple rules (with pubdata's C validators, faster than a tool's regexes), a
	# GROUP BY for uniqueness, a failing-rows query (LIMIT 10) per rule
	s0=$(date +%s%N)
	$Q -U $DEPT -d $DB >/dev/null <<'SQL' || exit 1
SELECT count(*), count(*) FILTER (WHERE NOT pubdata.is_valid_id_card(id_no)), count(*) FILTER (WHERE name IS NULL),
	   count(*) FILTER (WHERE NOT pubdata.is_valid_mobile(phone)), count(*) FILTER (WHERE age < 0 OR age > 150),
	   count(*) FILTER (WHERE sex NOT IN ('M', 'F')), count(*) FILTER (WHERE born > current_date),
	   count(*) FILTER (WHERE region !~ '^[0-9]{6}$')
  FROM bench.people;
SELECT count(*), sum(n) FROM (SELECT id, count(*) AS n FROM bench.people GROUP BY id HAVING count(*) > 1) d;
SELECT * FROM bench.people WHERE id IN (SELECT id FROM bench.people GROUP BY id HAVING count(*) > 1) LIMIT 10;
SELECT * FROM bench.people WHERE NOT pubdata.is_valid_id_card(id_no) LIMIT 10;
SELECT * FROM bench.people WHERE name IS NULL LIMIT 10;
SELECT * FROM bench.people WHERE NOT pubdata.is_valid_mobile(phone) LIMIT 10;
SELECT * FROM bench.people WHERE age < 0 OR age > 150 LIMIT 10;
SELECT * FROM bench.people WHERE sex NOT IN ('M', 'F') LIMIT 10;
SELECT * FROM bench.people WHERE born > current_date LIMIT 10;
SELECT * FROM bench.people WHERE region !~ '^[0-9]{6}$' LIMIT 10;
SQL
	s1=$(date +%s%N)
	echo "  Soda-style SQL (one run): $(( (s1 - s0) / 1000000 )) ms"
fi

if [ "$BIG" -gt 0 ]; then
	t0=$(date +%s)
	copies=$(( (BIG + ROWS - 1) / ROWS ))
	# 12 partitions by id range (as months would be), filled with shifted copies of the
	# first table (its defects included; ids stay unique across copies)
	$P -U $DEPT -d $DB >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE TABLE bench.people_p (id bigint, id_no text, name text, phone text, age integer, sex text, born date, region text)
	PARTITION BY RANGE (id);
SELECT format('CREATE TABLE bench.people_p_%s PARTITION OF bench.people_p FOR VALUES FROM (%s) TO (%s)',
			  lpad(m::text, 2, '0'), CASE WHEN m = 1 THEN 'MINVALUE' ELSE ((m - 1) * $BIG / 12 + 1)::text END,
			  CASE WHEN m = 12 THEN 'MAXVALUE' ELSE (m * $BIG / 12 + 1)::text END)
  FROM generate_series(1, 12) m \gexec
INSERT INTO bench.people_p
SELECT id + k::bigint * $ROWS, id_no, name, phone, age, sex, born, region
  FROM bench.people, generate_series(0, $copies - 1) k WHERE id + k::bigint * $ROWS <= $BIG;
VACUUM ANALYZE bench.people_p;
SELECT pubdata.register_resource('bench.people_p', 'BENCH-PEOPLE-P', '人口（分区）', 'bench_qual', 'unconditional', 'open', 'daily', 2);
SELECT pubdata.set_item('BENCH-PEOPLE-P', 'id', is_key => true);
SQL
	rules BENCH-PEOPLE-P
	echo "setup of $BIG rows in 12 partitions: $(( $(date +%s) - t0 )) s ($($Q -d $DB -c "SELECT pg_size_pretty(pg_total_relation_size('bench.people_p_01') * 12)"))"
	echo "== $BIG rows in 12 partitions, the same 8 rules"
	rounds BENCH-PEOPLE-P bench.people_p "$BIG_ROUNDS"
	cpu BENCH-PEOPLE-P bench.people_p "$BIG_ROUNDS"
	report_run
	serial BENCH-PEOPLE-P 1
	$Q -U $DEPT -d $DB -c "SELECT format('  unique: %s failed; per partition %s', r.rows_failed,
		(SELECT string_agg(p.rows_failed::text, ' ' ORDER BY p.partition) FROM pubdata.quality_result_partition p
		  WHERE p.run_id = r.run_id AND p.rule_id = r.rule_id))
		FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
		WHERE r.run_id = (SELECT max(id) FROM pubdata.quality_run) AND q.kind = 'unique'"
	show_peak BENCH-PEOPLE-P
fi
echo "load average after: $(loadavg)"
