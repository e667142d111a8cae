#!/bin/bash
# What one governed point lookup costs, counted in instructions (callgrind),
# which the load of a shared machine does not change: the same database and
# statement as 22_point_lookup (lib/lookup_db.sh), the department with its
# scoped grant against the provider, audit on.
#
# A cluster of its own is set up normally, then restarted under
# valgrind --tool=callgrind (every process of it writes its own count).  Each
# role runs pgbench -M prepared -c 1 twice, 1,000 and 4,000 lookups; the
# difference of the two backends' counts over 3,000 is the cost of a lookup
# without the session's start (cache loads, first planning).  Prints the
# instructions per lookup of each role, their ratio, and where the
# department's extra instructions go: pubdata's grant decision (executor
# start), its audit record (executor end; callgrind runs SHA-256 without the
# CPU's SHA instructions, so that part counts more here than it costs), and
# PostgreSQL's own work for a department's read (row-security qual and its
# InitPlan, column privileges), which the provider, as owner, skips.
# Needs valgrind (Debian package; installed with the benchmarks' packages).
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
PORT=$((PGPORT + 61))
DB=b23
PROV=bench23_police
DEPT=bench23_civil
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null \
	|| { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
WORK=$(mktemp -d /tmp/pubdata-bench23.XXXXXX)
chmod 755 "$WORK"; mkdir "$WORK/cg"; chown postgres: "$WORK" "$WORK/cg"
stop() { [ -f "$WORK/data/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/data" -m fast -w -t 120 stop >/dev/null 2>&1; }
trap 'stop; rm -rf "$WORK"' EXIT

runuser -u postgres -- "$BIN/initdb" -D "$WORK/data" --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 \
	|| { cat "$WORK/initdb.log"; exit 1; }
cat >>"$WORK/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK'
listen_addresses = ''
port = $PORT
timezone = 'UTC'
CONF
runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start >/dev/null \
	|| { tail -20 "$WORK/server.log"; exit 1; }
. "$(dirname "$0")/lib/lookup_db.sh"
lookup_db_setup "$BIN" $DB $PROV $DEPT "ARRAY['id', 'name', 'region']" -h "$WORK" -p $PORT -U postgres || exit 1
lookup_db_script "$WORK/lookup.sql"
stop

# the same cluster under callgrind
runuser -u postgres -- bash -c "cd '$WORK/cg' && exec valgrind --tool=callgrind --callgrind-out-file='$WORK/cg/cg.%p' \
	'$BIN/postgres' -D '$WORK/data' >'$WORK/valgrind.log' 2>&1" &
for _ in $(seq 1 120); do "$BIN/pg_isready" -q -h "$WORK" -p $PORT && break; sleep 1; done
"$BIN/pg_isready" -q -h "$WORK" -p $PORT || { echo "the cluster did not start under valgrind"; tail -20 "$WORK/valgrind.log"; exit 1; }

# run ROLE N: the count file of the backend that served pgbench's N lookups
run() {
	local before after f
	before=$(ls "$WORK/cg")
	"$BIN/pgbench" -n -M prepared -c 1 -t "$2" -h "$WORK" -p $PORT -U "$1" -f "$WORK/lookup.sql" $DB >"$WORK/pgbench.out" 2>&1 \
		|| { cat "$WORK/pgbench.out"; return 1; }
	# a backend writes its count when it exits (its psql check writes one too)
	for _ in $(seq 1 60); do
		[ "$("$BIN/psql" -X -At -h "$WORK" -p $PORT -U postgres -d postgres \
			-c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$1'")" = 0 ] && break
		sleep 0.5
	done
	sleep 1
	after=$(comm -13 <(echo "$before") <(ls "$WORK/cg"))
	# the largest new file is the lookups' backend (pgbench opens no other session with -n)
	for f in $after; do echo "$(sed -n 's/^summary: //p' "$WORK/cg/$f") $WORK/cg/$f"; done | sort -n | tail -1 | cut -d' ' -f2
}
# inclusive FILE FUNCTION: instructions in FUNCTION and what it calls
inclusive() {
	local n
	n=$(callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null \
		| sed -n "s/^ *\([0-9,]*\) *( *[0-9.]*%) *[^ ]*:$2 .*/\1/p" | head -1 | tr -d ,)
	echo "${n:-0}"
}
total() { sed -n 's/^summary: //p' "$1"; }

declare -A small large
for role in $PROV $DEPT; do
	small[$role]=$(run $role 1000) || exit 1
	large[$role]=$(run $role 4000) || exit 1
	[ -n "${small[$role]}" ] && [ -n "${large[$role]}" ] || { echo "no callgrind count for $role"; exit 1; }
done
per() { echo $(( ($(total "${large[$1]}") - $(total "${small[$1]}")) / 3000 )); }
part() { echo $(( ($(inclusive "${large[$1]}" "$2") - $(inclusive "${small[$1]}" "$2")) / 3000 )); }
p=$(per $PROV); d=$(per $DEPT)
start=$(part $DEPT pubdata_guard_start)
audit=$(part $DEPT pubdata_guard_end)
sha=$(part $DEPT audit_sha256)
echo "instructions per prepared point lookup (callgrind, backend only; kernel time not counted):"
awk -v p=$p -v d=$d -v s=$start -v a=$audit -v h=$sha 'BEGIN {
	printf "    provider %d, department %d: department/provider %.2f (+%d)\n", p, d, d / p, d - p
	printf "    of the department'"'"'s extra: grant decision %d, audit record %d (SHA-256 %d of it), PostgreSQL (row security, InitPlan, column privileges) %d\n",
		s, a, h, d - p - s - a
}'
