#!/bin/bash
# Soak: per-statement state must not leak.  One session of a granted
# department does 1M governed reads of a restricted resource, a tenth of them
# failing inside an exception block (a read whose cursor is open when the
# subtransaction aborts), in chunks of DO blocks.  After a warm-up and after
# each chunk it prints its own backend's memory (pg_backend_memory_contexts:
# TopMemoryContext's total_bytes and the sum over all contexts, with the used
# part) and the chunk's time per read; at the end the growth per failed read
# (target 0; all the growth is divided by the failed reads, though successful
# reads may contribute) and the contexts that grew most.  Every read writes an
# audit record (intended); the records counted are compared with the reads.
# State that grows per read also slows every later read: on code that leaks,
# the run takes far longer than a minute (1M reads at the warm-up's ~60 us).
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGHOST, PGPORT, PGUSER.
# BENCH_SOAK_CHUNKS (default 10) chunks of BENCH_SOAK_READS (default 100000).
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}
CHUNKS=${BENCH_SOAK_CHUNKS:-10}
READS=${BENCH_SOAK_READS:-100000}
DB=pubdata_bench_soak
PROV=bench90_police
DEPT=bench90_civil
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
q() { $BIN/psql -X -qAt -v ON_ERROR_STOP=1 "$@"; }
drop_all() {
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS $DEPT, $PROV" >/dev/null 2>&1
}
drop_all
trap drop_all EXIT

. "$(dirname "$0")/lib/lookup_db.sh"
lookup_db_setup "$BIN" $DB $PROV $DEPT "ARRAY['id', 'id_number', 'name', 'region']" || exit 1
$P -d postgres -c "GRANT pg_read_all_stats TO $DEPT" >/dev/null || exit 1	# to read its own memory contexts

# chunk N: a DO block of N reads, every tenth one failing with its cursor open
chunk() {
	cat <<SQL
DO \$\$
DECLARE
	v text;
	r record;
BEGIN
	FOR i IN 1..$1 LOOP
		IF i % 10 = 0 THEN
			BEGIN
				FOR r IN SELECT id_number FROM police.h2 WHERE region = '331102' LIMIT 1 LOOP
					RAISE EXCEPTION 'x';
				END LOOP;
				RAISE EXCEPTION 'no row of region 331102 is visible';
			EXCEPTION WHEN others THEN
				IF SQLERRM <> 'x' THEN
					RAISE;
				END IF;
			END;
		ELSE
			SELECT name INTO v FROM police.h2 WHERE id = 10 * (1 + i % 10000);
			IF NOT FOUND THEN
				RAISE EXCEPTION 'the lookup of id % found no row', 10 * (1 + i % 10000);
			END IF;
		END IF;
	END LOOP;
END
\$\$;
SQL
}
# report LABEL READS CHUNK: one line of this backend's memory after READS reads,
# the last CHUNK of them since the previous report (t0: the start, tp: the previous report)
# (total_bytes: what the contexts hold from malloc; used: total_bytes - free_bytes)
report() {
	cat <<SQL
SELECT format('%-9s %8s reads %7s failed %7s s (%6s us a read)   TopMemoryContext %9s (used %9s)   all contexts %9s (used %9s, %s contexts)',
			  '$1', $2, $2 / 10, round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1),
			  CASE WHEN $3 > 0 THEN round(extract(epoch FROM clock_timestamp() - :'tp')::numeric * 1e6 / $3, 1)::text ELSE '-' END,
			  sum(total_bytes) FILTER (WHERE name = 'TopMemoryContext'),
			  sum(total_bytes - free_bytes) FILTER (WHERE name = 'TopMemoryContext'),
			  sum(total_bytes), sum(total_bytes - free_bytes), count(*)) AS line, clock_timestamp() AS tp
  FROM pg_backend_memory_contexts \\gset
\\echo :line
SQL
}
# memory SQL: this backend's TopMemoryContext (total, used) and all contexts (total, used)
MEM="SELECT sum(total_bytes) FILTER (WHERE name = 'TopMemoryContext') AS top,
			sum(total_bytes - free_bytes) FILTER (WHERE name = 'TopMemoryContext') AS top_used,
			sum(total_bytes) AS total, sum(total_bytes - free_bytes) AS used,
			(SELECT json_object_agg(coalesce(name, '?'), b) FROM (SELECT name, sum(total_bytes) b FROM pg_backend_memory_contexts GROUP BY name) x) AS names
	   FROM pg_backend_memory_contexts"
FAILED=$((CHUNKS * READS / 10))

before=$(q -d $DB -c "SELECT seq FROM pubdata.audit_chain_head()")
{
	echo "SELECT clock_timestamp() AS t0, clock_timestamp() AS tp \\gset"
	report start 0 0
	chunk 1000
	report warm-up 1000 1000
	echo "SELECT m.*, clock_timestamp() AS t1 FROM ($MEM) m \\gset base_"
	for i in $(seq 1 "$CHUNKS"); do
		chunk "$READS"
		report "chunk $i" $((1000 + i * READS)) "$READS"
	done
	cat <<SQL
SELECT m.*, clock_timestamp() AS t2 FROM ($MEM) m \\gset end_
SELECT format('end: %s reads after the warm-up, %s failed, in %s s; growth: TopMemoryContext %s bytes (used %s), all contexts %s bytes (used %s)',
			  $((CHUNKS * READS)), $FAILED, round(extract(epoch FROM :'end_t2'::timestamptz - :'base_t1')::numeric, 1),
			  :end_top - :base_top, :end_top_used - :base_top_used, :end_total - :base_total, :end_used - :base_used);
SELECT format('per failed read: TopMemoryContext %s bytes (used %s), all contexts %s bytes (used %s) (target 0)',
			  round((:end_top - :base_top) / $FAILED.0, 1), round((:end_top_used - :base_top_used) / $FAILED.0, 1),
			  round((:end_total - :base_total) / $FAILED.0, 1), round((:end_used - :base_used) / $FAILED.0, 1));
SQL
	cat <<SQL
SELECT format('    grew most: %s %s bytes', e.key, (e.value::text::numeric - coalesce(b.value::text::numeric, 0)))
  FROM json_each(:'end_names'::json) e LEFT JOIN json_each(:'base_names'::json) b ON b.key = e.key
 WHERE e.value::text::numeric - coalesce(b.value::text::numeric, 0) <> 0
 ORDER BY abs(e.value::text::numeric - coalesce(b.value::text::numeric, 0)) DESC LIMIT 5;
SQL
} >"$WORK/bench90.sql"
echo "one session of department $DEPT: $CHUNKS chunks of $READS governed reads (a tenth failing in an exception block):"
q -d $DB -U $DEPT -f "$WORK/bench90.sql" || { echo "the soak session failed"; exit 1; }
after=$(q -d $DB -c "SELECT seq FROM pubdata.audit_chain_head()")
reads=$((1000 + CHUNKS * READS)); failed=$((reads / 10))
echo "audit records written: $((after - before)) for $reads reads, $failed of them failed (missing: $((reads - (after - before))))"
