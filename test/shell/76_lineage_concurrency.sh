#!/bin/bash
# Concurrent writers of the same edge, in REPEATABLE READ and SERIALIZABLE, folding at every
# commit: no transaction fails because of lineage, none waits for another's
# edge, and every committed statement is counted exactly once (no fold loses
# or doubles an observation).
set -euo pipefail
BIN=${PUBDATA_BINDIR:-$(dirname "$(command -v psql)")}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
DB=pubdata_lineage_conc
CLIENTS=4; TXNS=1000
cleanup() { $P -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
$P -d postgres -c "CREATE DATABASE $DB"
$P -d $DB >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE TABLE public.conc_src (id int PRIMARY KEY, v text);
CREATE TABLE public.conc_dst (id int, v text);
INSERT INTO public.conc_src SELECT g, 'v' || g FROM generate_series(1, 1000) g;
SQL
cat >"$PUBDATA_WORK/lineage_conc.sql" <<'SQL'
\set id random(1, 1000)
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO public.conc_dst SELECT id, v FROM public.conc_src WHERE id = :id;
COMMIT;
SQL
fail=0
# fold at every commit: the folds of the four clients meet all the time
if PGOPTIONS="-c pubdata.lineage_compact_every=1" "$BIN/pgbench" -n -c $CLIENTS -j $CLIENTS -t $TXNS \
	-f "$PUBDATA_WORK/lineage_conc.sql" $DB >"$PUBDATA_WORK/lineage_conc.log" 2>&1; then
	echo "ok - $CLIENTS clients x $TXNS REPEATABLE READ transactions, none failed"
else
	echo "not ok - pgbench failed"; tail -20 "$PUBDATA_WORK/lineage_conc.log"; fail=1
fi
grep -q "number of failed transactions: 0" "$PUBDATA_WORK/lineage_conc.log" 2>/dev/null ||
	grep -q "number of transactions actually processed: $((CLIENTS * TXNS))/$((CLIENTS * TXNS))" "$PUBDATA_WORK/lineage_conc.log" ||
	{ echo "not ok - not every transaction was processed"; cat "$PUBDATA_WORK/lineage_conc.log"; fail=1; }

# SERIALIZABLE too: appending takes no predicate lock that could fail a commit
sed 's/REPEATABLE READ/SERIALIZABLE/' "$PUBDATA_WORK/lineage_conc.sql" >"$PUBDATA_WORK/lineage_conc_ser.sql"
if PGOPTIONS="-c pubdata.lineage_compact_every=1" "$BIN/pgbench" -n -c $CLIENTS -j $CLIENTS -t $TXNS \
	-f "$PUBDATA_WORK/lineage_conc_ser.sql" $DB >"$PUBDATA_WORK/lineage_conc_ser.log" 2>&1 &&
	grep -q "number of transactions actually processed: $((CLIENTS * TXNS))/$((CLIENTS * TXNS))" "$PUBDATA_WORK/lineage_conc_ser.log"; then
	echo "ok - $CLIENTS clients x $TXNS SERIALIZABLE transactions, none failed"
else
	echo "not ok - SERIALIZABLE run"; tail -20 "$PUBDATA_WORK/lineage_conc_ser.log"; fail=1
fi

before=$($P -At -d $DB -c "SELECT sum(count) FROM pubdata.lineage_edge WHERE target = 'public.conc_dst'::regclass")
$P -At -d $DB -c "SELECT pubdata.lineage_compact()" >/dev/null
after=$($P -At -d $DB -c "SELECT count(*) || ' ' || sum(count) FROM pubdata.lineage_edge WHERE target = 'public.conc_dst'::regclass")
left=$($P -At -d $DB -c "SELECT count(*) FROM pubdata.lineage_observation")
expected=$((2 * CLIENTS * TXNS))
if [ "$before" = "$expected" ] && [ "$after" = "1 $expected" ] && [ "$left" = "0" ]; then
	echo "ok - one edge counting all $expected statements, before and after folding"
else
	echo "not ok - counts: before fold $before, after fold '$after', observations left $left (expected $expected)"; fail=1
fi
exit $fail
