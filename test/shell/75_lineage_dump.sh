#!/bin/bash
# Lineage is history: pg_dump keeps the folded edges, the observations not yet
# folded and the aggregation runs; after a restore the edges name the restored
# tables (new oids) and new statements add to the same edges.  Views' edges
# and column lineage come back as dumped: the restore's CREATE VIEW records
# none of its own (which would also clash with the dumped rows).
set -euo pipefail
BIN=${PUBDATA_BINDIR:-$(dirname "$(command -v psql)")}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
SRC=pubdata_lineage_dump_src; DST=pubdata_lineage_dump_dst
cleanup() { $P -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
$P -d postgres -c "CREATE DATABASE $SRC" -c "CREATE DATABASE $DST"

$P -d $SRC >/dev/null <<'SQL'
SET client_min_messages = warning;
SET pubdata.lineage_compact_every = 0;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA "we""ird; schema";
CREATE TABLE "we""ird; schema".src (id int, v text);
CREATE TABLE public.dst (id int, v text);
CREATE TABLE public.pad (x int);
INSERT INTO public.pad SELECT generate_series(1, 100);	-- oids differ after restore
INSERT INTO "we""ird; schema".src SELECT g, 'v' || g FROM generate_series(1, 10) g;
INSERT INTO public.dst SELECT * FROM "we""ird; schema".src;
INSERT INTO public.dst SELECT * FROM "we""ird; schema".src;
SELECT pubdata.lineage_compact();
INSERT INTO public.dst SELECT * FROM "we""ird; schema".src;	-- left unfolded
SELECT pubdata.record_lineage('county:331121/public.population', 'public.dst', 'aggregation', 7);
SELECT pubdata.lineage_compact();
CREATE VIEW public.v AS SELECT id AS key, upper(v) AS label FROM "we""ird; schema".src;
CREATE TABLE public.mart AS SELECT key, label FROM public.v;
CREATE OR REPLACE VIEW public.v AS SELECT id AS key, v AS label FROM public.dst;	-- ends src -> v
SQL

edges="SELECT string_agg(coalesce(source::text, '-') || '>' || source_name || '>' || target::text || '>' || kind || '>' || count
                       || '>' || coalesce(last_run_id::text, '-') || '>' || coalesce(columns::text, '-')
                       || '>' || (ended_at IS NOT NULL), E'\n' ORDER BY source_name, target_name, kind, ended_at) FROM pubdata.lineage_edge"
before=$($P -At -d $SRC -c "$edges")
"$BIN/pg_dump" -d $SRC -f "$PUBDATA_WORK/lineage_dump.sql" 2>"$PUBDATA_WORK/lineage_dump.err"
$P -d $DST -f "$PUBDATA_WORK/lineage_dump.sql" >/dev/null 2>"$PUBDATA_WORK/lineage_restore.err" || { cat "$PUBDATA_WORK/lineage_restore.err"; exit 1; }
after=$($P -At -d $DST -c "$edges")
fail=0
if [ "$before" = "$after" ]; then
	echo "ok - edges survive dump and restore"
else
	echo "not ok - edges differ after restore"; echo "before:"; echo "$before"; echo "after:"; echo "$after"; fail=1
fi
[ -n "$before" ] && echo "$before" | grep -q 'we""ird' || { echo "not ok - expected edges missing: $before"; fail=1; }
echo "$before" | grep -q 'view_definition>1>->\[\["key", "id", "identity"\], \["label", "v", "transformation"\]\]>true' \
	|| { echo "not ok - the ended view edge with its columns is missing: $before"; fail=1; }

# the restored edge points at the restored table, and new statements count on it
check=$($P -At -d $DST <<'SQL'
SET pubdata.lineage_compact_every = 0;
INSERT INTO public.dst SELECT * FROM "we""ird; schema".src;
SELECT pubdata.lineage_compact() >= 1;
SELECT count(*) || ' ' || sum(count) || ' ' || bool_and(source::oid = '"we""ird; schema".src'::regclass::oid)
  FROM pubdata.lineage_edge WHERE kind = 'insert_select';
SELECT count(*) FROM pubdata.lineage_edge_run WHERE run_id = 7;
SQL
)
expected=$(printf 't\n1 4 true\n1')
if [ "$check" = "$expected" ]; then
	echo "ok - restored edges name the restored tables and keep counting"
else
	echo "not ok - after restore: $check (expected $expected)"; fail=1
fi
exit $fail
