#!/bin/bash
# The OpenLineage event stream under concurrent writers.  Commits append their
# runs to pubdata.openlineage_pending without a lock; a publication gives them
# ids above every visible id.
# 1. In a database without a launcher, a publisher loop calls
#    openlineage_publish() while four clients commit with commits slowed after
#    their runs are appended, and a consumer polling openlineage_events(after,
#    n) reads every event exactly once, in order.
# 2. On a cluster of its own (max_prepared_transactions, the launcher in the
#    test's database): transaction A appends its run first (PREPARE) and
#    commits after B; the consumer, polling between the commits, gets B's
#    events, then A's, never skipping A's; the launcher publishes without being
#    asked, and NOTIFY pubdata_lineage (one per publication) carries only the
#    newest id; a rolled-back write notifies nothing.
set -uo pipefail
BIN=${PUBDATA_BINDIR:-$(dirname "$(command -v psql)")}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
DB=pubdata_ol_stream
W=${PUBDATA_WORK:?}/ol_stream
CLIENTS=4; SECONDS_RUN=6
fail() { echo "77_openlineage_stream: FAILED: $*" >&2; exit 1; }
cleanup() {
	[ -n "${CONSUMER:-}" ] && kill "$CONSUMER" 2>/dev/null
	[ -n "${PUBLISHER:-}" ] && kill "$PUBLISHER" 2>/dev/null
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	[ -n "${QDATA:-}" ] && stop_cluster "$QDATA"
}
trap cleanup EXIT
cleanup
rm -rf "$W" && mkdir -p "$W"
$P -d postgres -c "CREATE DATABASE $DB" >/dev/null || fail "database"
$P -d $DB >/dev/null <<'SQL' || fail "set-up"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE TABLE public.src (id int PRIMARY KEY, v text);
CREATE TABLE public.dst (id int, v text);
INSERT INTO public.src SELECT g, 'v' || g FROM generate_series(1, 1000) g;
SQL

# the consumer, in one session polling as fast as it can (each statement of a
# READ COMMITTED loop sees the commits made before it): resumes after the
# last id it got, 7 at a time, for the writers' time and a second more
consume() {
	$P -At -d $DB >"$W/read.txt" <<SQL
CREATE TEMP TABLE got (n serial, id bigint);
DO \$\$
DECLARE
	cursor_id bigint := 0;
	stop timestamptz := clock_timestamp() + interval '$((SECONDS_RUN + 1)) seconds';
BEGIN
	WHILE clock_timestamp() < stop LOOP
		INSERT INTO got (id) SELECT e.id FROM pubdata.openlineage_events(cursor_id, 7) e ORDER BY e.id;
		cursor_id := coalesce((SELECT max(id) FROM got), 0);
	END LOOP;
END
\$\$;
SELECT id FROM got ORDER BY n;
SQL
}
consume & CONSUMER=$!

# the publisher: this database has no launcher (it is not pubdata.database),
# so a session publishes every 20 ms, for the writers' time and a bit more
publish_loop() {
	$P -d $DB >/dev/null <<SQL
DO \$\$
DECLARE
	stop timestamptz := clock_timestamp() + interval '$SECONDS_RUN.5 seconds';
BEGIN
	WHILE clock_timestamp() < stop LOOP
		PERFORM pubdata.openlineage_publish();
		COMMIT;
		PERFORM pg_sleep(0.02);
	END LOOP;
END
\$\$;
SELECT pubdata.openlineage_publish();
SQL
}
publish_loop & PUBLISHER=$!

# between the moment a writer appends its run (its pre-commit) and the moment
# its commit is visible, dropping an ON COMMIT DROP table with its indexes
# takes a few milliseconds: a publication that gave ids at append time, or
# took a run before its commit, would show
{
	echo '\set id random(1, 1000)'
	echo 'BEGIN;'
	echo 'CREATE TEMP TABLE slow (a int, b int) ON COMMIT DROP;'
	for i in $(seq 1 20); do echo "CREATE INDEX ON slow (a, b);"; done
	echo 'INSERT INTO public.dst SELECT id, v FROM public.src WHERE id = :id;'
	echo 'COMMIT;'
} >"$W/write.sql"
"$BIN/pgbench" -n -c $CLIENTS -j $CLIENTS -T $SECONDS_RUN \
	-f "$W/write.sql" $DB >"$W/pgbench.log" 2>&1 || { cat "$W/pgbench.log"; fail "pgbench"; }
txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$W/pgbench.log")
wait "$PUBLISHER" || fail "the publisher failed"
PUBLISHER=
wait "$CONSUMER" || fail "the consumer failed"
CONSUMER=
[ "$($P -At -d $DB -c "SELECT count(*) FROM pubdata.openlineage_pending")" = 0 ] || fail "runs left unpublished"

read_n=$(grep -c '' "$W/read.txt")
uniq_n=$(sort -n "$W/read.txt" | uniq | grep -c '')
sort -n -c "$W/read.txt" 2>/dev/null || fail "the consumer got ids out of order"
[ "$read_n" -gt 0 ] || fail "the consumer read nothing"
[ "$read_n" = "$uniq_n" ] || fail "the consumer got $((read_n - uniq_n)) events twice"
$P -At -d $DB -c "SELECT id FROM pubdata.openlineage_event ORDER BY id" >"$W/all.txt"
missed=$(comm -13 <(sort "$W/read.txt") <(sort "$W/all.txt") | grep -c '')
[ "$missed" = "0" ] || fail "the consumer missed $missed of $(grep -c '' "$W/all.txt") events: ids committed behind its cursor"
runs=$($P -At -d $DB -c "SELECT count(*) FILTER (WHERE event_type = 'START') || ' ' || count(*) FILTER (WHERE event_type = 'COMPLETE')
	|| ' ' || count(DISTINCT run_id) FROM pubdata.openlineage_event")
[ "$runs" = "$txns $txns $txns" ] || fail "$txns transactions, but START COMPLETE runs = $runs"
echo "ok - $txns transactions by $CLIENTS clients with slowed commits, published every 20 ms: the consumer read all $read_n events once, in order"

# ---- 2. a cluster with prepared transactions and the launcher in the test's database
BINDIR=$BIN
. "$(dirname "$0")/../lib.sh"
QPORT=$((PGPORT + 57))
QSOCK=$W/q
QDATA=$W/q/data
mkdir -p "$QSOCK" && chown postgres: "$QSOCK" "$W"
start_cluster "$QDATA" "$QSOCK" "$QPORT" "pubdata.database = 'olq'
max_prepared_transactions = 4" || fail "the second cluster"
Q="$BIN/psql -X -q -v ON_ERROR_STOP=1 -h $QSOCK -p $QPORT -U postgres"
$Q -d postgres -c "CREATE DATABASE olq" >/dev/null || fail "database olq"
$Q -d olq >/dev/null <<'SQL' || fail "set-up olq"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE TABLE public.src (id int PRIMARY KEY, v text);
CREATE TABLE public.dst_a (id int, v text);
CREATE TABLE public.dst_b (id int, v text);
INSERT INTO public.src SELECT g, 'v' || g FROM generate_series(1, 10) g;
SQL
# the launcher publishes without being asked: wait_for N [cursor]: until the
# consumer's read after the cursor has N events (5 s at most), print their jobs
wait_for() {
	local n=$1 cursor=${2:-0} i out
	for i in $(seq 1 50); do
		out=$($Q -At -d olq -c "SELECT id || ' ' || (event -> 'job' ->> 'name') FROM pubdata.openlineage_events($cursor, 100) ORDER BY id")
		[ "$(printf '%s' "$out" | grep -c '')" -ge "$n" ] && { printf '%s\n' "$out"; return 0; }
		sleep 0.1
	done
	printf '%s\n' "$out"; return 1
}
# the set-up wrote no run (src was written without reading another table)
start=$($Q -At -d olq -c "SELECT coalesce(max(id), 0) FROM pubdata.openlineage_event")
# A appends its run first (at PREPARE TRANSACTION), then B commits
$Q -d olq -c "BEGIN" -c "INSERT INTO public.dst_a SELECT * FROM public.src" -c "PREPARE TRANSACTION 'stream_a'" >/dev/null || fail "A"
$Q -d olq -c "INSERT INTO public.dst_b SELECT * FROM public.src" >/dev/null || fail "B"
# the consumer polls between the commits: B's two events, nothing of A
got=$(wait_for 2 "$start") || fail "B's events were not published within 5 s: $got"
echo "$got" | grep -q 'produce:public.dst_a' && fail "A's event before A committed"
[ "$(echo "$got" | grep -c 'produce:public.dst_b')" = 2 ] || fail "B's events: $got"
cursor=$(echo "$got" | tail -1 | cut -d' ' -f1)
sleep 1.2
[ "$($Q -At -d olq -c "SELECT count(*) FROM pubdata.openlineage_events($cursor, 100)")" = 0 ] || fail "events while A is prepared"
$Q -d olq -c "COMMIT PREPARED 'stream_a'" >/dev/null || fail "COMMIT PREPARED"
# A's events come after the consumer's cursor (the launcher's sweep publishes
# what COMMIT PREPARED made visible, within about a second)
got2=$(wait_for 2 "$cursor") || fail "A's events were not published within 5 s after COMMIT PREPARED: $got2"
[ "$(echo "$got2" | grep -c 'produce:public.dst_a')" = 2 ] || fail "A's events: $got2"
all=$($Q -At -d olq -c "SELECT count(*) || ' ' || count(DISTINCT id) FROM pubdata.openlineage_events($start, 100)")
[ "$all" = "4 4" ] || fail "after both commits the stream has $all events after the start, not 4 distinct"
echo "ok - A appended first and committed after B: the consumer got B's events, then A's after its cursor, none skipped or twice"

# NOTIFY: a listener is told the newest id, once per publication
($Q -d olq -c "LISTEN pubdata_lineage" -c "SELECT pg_sleep(2)" -c "SELECT 1" >"$W/listen.out" 2>&1) & LISTENER=$!
sleep 0.5
$Q -d olq -c "INSERT INTO public.dst_b SELECT * FROM public.src WHERE id < 3" >/dev/null || fail "write"
wait $LISTENER
newest=$($Q -At -d olq -c "SELECT max(id) FROM pubdata.openlineage_event")
grep -q "Asynchronous notification \"pubdata_lineage\" with payload \"$newest\" received" "$W/listen.out" ||
	{ cat "$W/listen.out"; fail "no notification with payload $newest"; }
[ "$(grep -c 'Asynchronous notification' "$W/listen.out")" = "1" ] || { cat "$W/listen.out"; fail "one commit, several notifications"; }
echo "ok - LISTEN pubdata_lineage: the launcher published the commit unasked and notified once, payload the newest id ($newest)"

# a rolled-back write and a read-only transaction notify nothing
($Q -d olq -c "LISTEN pubdata_lineage" -c "SELECT pg_sleep(2)" -c "SELECT 1" >"$W/listen2.out" 2>&1) & LISTENER=$!
sleep 0.5
$Q -d olq -c "BEGIN" -c "INSERT INTO public.dst_b SELECT * FROM public.src WHERE id < 3" -c "ROLLBACK" >/dev/null
$Q -d olq -c "SELECT count(*) FROM public.dst_b" >/dev/null
wait $LISTENER
! grep -q 'Asynchronous notification' "$W/listen2.out" || { cat "$W/listen2.out"; fail "a notification without a commit"; }
echo "ok - a rolled-back write and a read notify nothing"
