#!/bin/bash
# The OpenLineage event stream under concurrent writers: a consumer polling
# pubdata.openlineage_events(after, n) while four clients commit lineage
# reads every event exactly once, in order, with no id appearing behind its
# cursor (ids follow commit order); commits are slowed after the ids are
# taken, so that an id taken but not yet visible would be skipped if the
# order lock did not hold (without it, this test fails).  NOTIFY pubdata_lineage says when there are new events and
# carries only the newest id.
set -uo pipefail
BIN=${PUBDATA_BINDIR:-$(dirname "$(command -v psql)")}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
DB=pubdata_ol_stream
W=${PUBDATA_WORK:?}/ol_stream
CLIENTS=4; SECONDS_RUN=6
fail() { echo "77_openlineage_stream: FAILED: $*" >&2; exit 1; }
cleanup() {
	[ -n "${CONSUMER:-}" ] && kill "$CONSUMER" 2>/dev/null
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
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

# between the moment a writer takes its ids (its pre-commit) and the moment
# its commit is visible, dropping an ON COMMIT DROP table with its indexes
# takes a few milliseconds: ids taken out of commit order would show
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
wait "$CONSUMER" || fail "the consumer failed"
CONSUMER=

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
echo "ok - $txns transactions by $CLIENTS clients with slowed commits: the consumer read all $read_n events once, in order"

# NOTIFY: a listener is told the newest id, and nothing else
($P -d $DB -c "LISTEN pubdata_lineage" -c "SELECT pg_sleep(2)" -c "SELECT 1" >"$W/listen.out" 2>&1) & LISTENER=$!
sleep 1
$P -d $DB -c "INSERT INTO public.dst SELECT id, v FROM public.src WHERE id < 3" >/dev/null || fail "write"
wait $LISTENER
newest=$($P -At -d $DB -c "SELECT max(id) FROM pubdata.openlineage_event")
grep -q "Asynchronous notification \"pubdata_lineage\" with payload \"$newest\" received" "$W/listen.out" ||
	{ cat "$W/listen.out"; fail "no notification with payload $newest"; }
[ "$(grep -c 'Asynchronous notification' "$W/listen.out")" = "1" ] || { cat "$W/listen.out"; fail "one commit, several notifications"; }
echo "ok - LISTEN pubdata_lineage: one notification per commit, its payload the newest id ($newest)"

# a rolled-back write and a read-only transaction notify nothing
($P -d $DB -c "LISTEN pubdata_lineage" -c "SELECT pg_sleep(2)" -c "SELECT 1" >"$W/listen2.out" 2>&1) & LISTENER=$!
sleep 1
$P -d $DB -c "BEGIN" -c "INSERT INTO public.dst SELECT id, v FROM public.src WHERE id < 3" -c "ROLLBACK" >/dev/null
$P -d $DB -c "SELECT count(*) FROM public.dst" >/dev/null
wait $LISTENER
! grep -q 'Asynchronous notification' "$W/listen2.out" || { cat "$W/listen2.out"; fail "a notification without a commit"; }
echo "ok - a rolled-back write and a read notify nothing"
