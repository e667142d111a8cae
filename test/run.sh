#!/bin/bash
# pubdata's test, demo and benchmark driver.
#
#   test/run.sh test       install what is missing, build, install, start a throwaway
#                          cluster, run pg_regress, pgTAP (pg_prove) and the shell tests,
#                          stop the cluster; exit non-zero on any failure
#   test/run.sh demo       same set-up, leave a demo cluster running with the Lishui demo
#   test/run.sh demo-stop  stop the demo cluster
#   test/run.sh bench      same set-up, run test/bench/*.sh, print ratios
#
# Environment: PG_CONFIG (default /usr/lib/postgresql/15/bin/pg_config),
# PUBDATA_PORT (default 55432 for tests, 55433 for the demo, 55434 for benchmarks).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-test}
. test/lib.sh

case "$MODE" in
demo-stop)
	PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
	BINDIR=$("$PG_CONFIG" --bindir)
	if [ -f /tmp/pubdata-demo/data/postmaster.pid ]; then
		runuser -u postgres -- "$BINDIR/pg_ctl" -D /tmp/pubdata-demo/data -m fast stop
	fi
	if [ -f /tmp/pubdata-demo/county/postmaster.pid ]; then
		runuser -u postgres -- "$BINDIR/pg_ctl" -D /tmp/pubdata-demo/county -m fast stop
	fi
	exit 0 ;;
esac

ensure_packages
build_and_install || exit 1

case "$MODE" in
test)
	PORT=${PUBDATA_PORT:-55432}
	WORK=$(mktemp -d /tmp/pubdata-test.XXXXXX)
	chmod 755 "$WORK"; chown postgres: "$WORK"
	trap 'stop_cluster "$WORK/data"; rm -rf "$WORK"' EXIT
	start_cluster "$WORK/data" "$WORK" "$PORT" "pubdata.database = 'pubdata_tap'" || exit 1
	export PGHOST=$WORK PGPORT=$PORT PGUSER=postgres
	failed=0
	echo "== pg_regress"
	if ! make -s installcheck PG_CONFIG="$PG_CONFIG" PGHOST="$WORK" PGPORT="$PORT" PGUSER=postgres; then
		failed=1
		[ -f regression.diffs ] && head -200 regression.diffs
	fi
	echo "== pgTAP"
	psql -qX -d postgres -c "CREATE DATABASE pubdata_tap" >/dev/null
	psql -qX -d pubdata_tap -c "CREATE EXTENSION pgtap; CREATE EXTENSION pubdata CASCADE" >/dev/null || failed=1
	if ls test/tap/*.sql >/dev/null 2>&1; then
		pg_prove -d pubdata_tap test/tap/*.sql || failed=1
	fi
	echo "== shell tests"
	pass=0; fail=0
	for t in test/shell/*.sh; do
		[ -e "$t" ] || continue
		echo "-- $t"
		if PUBDATA_BINDIR="$BINDIR" PUBDATA_WORK="$WORK" PG_CONFIG="$PG_CONFIG" bash "$t"; then
			pass=$((pass+1)); echo "ok $t"
		else
			fail=$((fail+1)); echo "FAILED $t"
		fi
	done
	echo "shell: $pass passed, $fail failed"
	[ $fail -eq 0 ] || failed=1
	if [ $failed -ne 0 ]; then echo "make test: FAILED"; exit 1; fi
	echo "make test: all suites passed"
	;;
demo)
	PORT=${PUBDATA_PORT:-55433}
	WORK=/tmp/pubdata-demo
	if [ -f "$WORK/data/postmaster.pid" ]; then stop_cluster "$WORK/data"; fi
	[ -f "$WORK/county/postmaster.pid" ] && stop_cluster "$WORK/county"
	rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"; chown postgres: "$WORK"
	start_cluster "$WORK/data" "$WORK" "$PORT" "pubdata.database = 'lishui'
wal_level = logical" || exit 1
	export PGHOST=$WORK PGPORT=$PORT PGUSER=postgres
	PUBDATA_BINDIR="$BINDIR" PUBDATA_WORK="$WORK" bash test/demo/demo.sh || exit 1
	echo
	echo "The demo cluster is running.  Connect with:"
	echo "    psql -h $WORK -p $PORT -U postgres lishui"
	echo "Stop it with: make demo-stop"
	;;
bench)
	PORT=${PUBDATA_PORT:-55434}
	WORK=$(mktemp -d /tmp/pubdata-bench.XXXXXX)
	chmod 755 "$WORK"; chown postgres: "$WORK"
	trap 'stop_cluster "$WORK/data"; rm -rf "$WORK"' EXIT
	start_cluster "$WORK/data" "$WORK" "$PORT" "pubdata.database = 'bench'" || exit 1
	export PGHOST=$WORK PGPORT=$PORT PGUSER=postgres
	# BENCH=NAME (a glob, e.g. BENCH='2[24]_*') runs only those benchmarks
	for b in test/bench/${BENCH:-*}.sh; do
		[ -e "$b" ] || continue
		echo "== $b"
		PUBDATA_BINDIR="$BINDIR" PUBDATA_WORK="$WORK" bash "$b" || echo "benchmark $b failed"
	done
	;;
*)
	echo "usage: test/run.sh test|demo|demo-stop|bench" >&2; exit 2 ;;
esac
