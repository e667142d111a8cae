-- Uniqueness counted by direct address: a unique rule on one integer (or
-- date, timestamp) column counts the keys of the range its statistics give
-- (a little wider: the window) in an array indexed by the key, and every
-- other key by its hash as before.  Duplicates inside the window, outside
-- it, on both sides of its edges, across partitions, beyond 65535 rows of
-- one key, many duplicated keys, a table without statistics; one process
-- and parallel workers; each outcome the same as without a window (a
-- budget too small for one).  Run as the department's login.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_qwin_admin IN ROLE pubdata_admin;
CREATE ROLE regress_qwin_dept LOGIN;
CREATE SCHEMA qwin AUTHORIZATION regress_qwin_dept;
RESET client_min_messages;
SET ROLE regress_qwin_admin;
SELECT pubdata.add_department('qwin_civil', '市民政局', '331100', 'administrative', 'regress_qwin_dept') > 0 AS ok;
RESET ROLE;
SET SESSION AUTHORIZATION regress_qwin_dept;

-- measure RESOURCE five ways: one process and in parallel, with the default
-- budget (a window; in parallel, split: each participant's own slots and
-- the shared bitmaps of keys seen) and with one too small for it (64kB:
-- keys hashed, and spilled); and in parallel with 512kB, which holds a
-- window of 20-30k keys in shared slots (4 bytes a key, set by
-- compare-and-swap: 8 bytes a key of the share's half) but not three
-- participants' split ones (about 12.5 bytes a key): the runs' ids
CREATE FUNCTION pg_temp.five_ways(res text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
	runs bigint[] := '{}';
BEGIN
	SET LOCAL max_parallel_maintenance_workers = 0;
	runs := runs || pubdata.measure_quality(res);
	SET LOCAL pubdata.quality_mem = '64kB';
	runs := runs || pubdata.measure_quality(res);
	SET LOCAL max_parallel_maintenance_workers = 2;
	SET LOCAL min_parallel_table_scan_size = 0;
	runs := runs || pubdata.measure_quality(res);
	RESET pubdata.quality_mem;
	runs := runs || pubdata.measure_quality(res);
	SET LOCAL pubdata.quality_mem = '512kB';
	runs := runs || pubdata.measure_quality(res);
	RETURN runs;
END $$;
-- the five runs' outcomes side by side: whether they agree (counts,
-- samples, counts per partition), which ran in parallel, whether the first
-- (one process, default budget) took less than 400kB (a window of about
-- 20-30k keys takes 8 bytes a key, 160-250kB; a hash table for that many
-- keys and more, 16 bytes a slot at most 3/4 full, 480kB and more), and
-- the outcome
CREATE FUNCTION pg_temp.same(runs bigint[]) RETURNS TABLE (
	runs_agree boolean, partitions_agree boolean, in_parallel text, small_memory boolean,
	rows_failed bigint, samples jsonb)
LANGUAGE sql AS $$
	SELECT (SELECT count(DISTINCT (r.rows_failed, r.samples::text)) = 1 AND count(*) = 5
			  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
			 WHERE r.run_id = ANY (runs) AND q.kind = 'unique'),
		   (SELECT count(DISTINCT s) <= 1 FROM (
				SELECT p.run_id, string_agg(p.partition || '=' || p.rows_failed, ' ' ORDER BY p.partition) AS s
				  FROM pubdata.quality_result_partition p JOIN pubdata.quality_rule q ON q.id = p.rule_id
				 WHERE p.run_id = ANY (runs) AND q.kind = 'unique' GROUP BY p.run_id) x),
		   (SELECT string_agg((workers > 0)::text, ' ' ORDER BY id) FROM pubdata.quality_run WHERE id = ANY (runs)),
		   (SELECT memory_used < 400 * 1024 FROM pubdata.quality_run WHERE id = runs[1]),
		   r.rows_failed, r.samples
	  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
	 WHERE r.run_id = runs[1] AND q.kind = 'unique'
$$;

-- ids 1..20000 once each, analyzed: the statistics give 1..20000, the window
-- is 640 keys wider on each side (1/32 of the range and 16): -639..20640.
-- Then, unseen by the statistics: ids 5 (3 rows) and 100 (2) inside; the
-- window's first and last keys and their outside neighbours (2 rows each);
-- ids far outside on both sides (2 rows each); a null id (never a duplicate)
CREATE TABLE qwin.person (id integer, name text) WITH (autovacuum_enabled = false);
INSERT INTO qwin.person SELECT g, 'p' || g FROM generate_series(1, 20000) g;
ANALYZE qwin.person;
INSERT INTO qwin.person VALUES (5, 'again'), (5, 'again'), (100, 'again'),
	(-639, 'first'), (-639, 'first'), (-640, 'before'), (-640, 'before'),
	(20640, 'last'), (20640, 'last'), (20641, 'after'), (20641, 'after'),
	(1000000, 'far'), (1000000, 'far'), (-1000000, 'far'), (-1000000, 'far'), (NULL, 'none');
SELECT pubdata.register_resource('qwin.person', 'QWIN-PERSON', '人员', 'qwin_civil',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.set_item('QWIN-PERSON', 'id', is_key => true);
SELECT pubdata.add_quality_rule('QWIN-PERSON', 'id', 'unique') > 0 AS added;
-- 3 + 2 + 4 * 2 + 2 * 2 = 17 rows fail, the same whichever way
SELECT pg_temp.five_ways('QWIN-PERSON') AS runs \gset
SELECT * FROM pg_temp.same(:'runs');
-- the window's slots are counted in the memory used
SELECT memory_used >= 8 * 21280 AS window_counted FROM pubdata.quality_run WHERE id = (:'runs'::bigint[])[1];

-- one key of 70001 rows (its count goes beyond a slot's 65535), in the
-- window, by one process and by workers
INSERT INTO qwin.person SELECT 3, 'many' FROM generate_series(1, 70000);
SELECT * FROM pg_temp.same(pg_temp.five_ways('QWIN-PERSON'));

-- a table without statistics: no window, the same outcome
CREATE TABLE qwin.person_nostats (id integer, name text) WITH (autovacuum_enabled = false);
INSERT INTO qwin.person_nostats SELECT * FROM qwin.person;
SELECT pubdata.register_resource('qwin.person_nostats', 'QWIN-NOSTATS', '人员（无统计）', 'qwin_civil',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QWIN-NOSTATS', 'id', 'unique') > 0 AS added;
SELECT pubdata.measure_quality('QWIN-NOSTATS') AS run_nostats \gset
SELECT n.rows_failed = p.rows_failed AS same_failed,
	   (SELECT memory_used >= 400 * 1024 FROM pubdata.quality_run WHERE id = :run_nostats) AS hash_table_memory,
	   jsonb_path_query_array(n.samples, '$[*].id') = jsonb_path_query_array(p.samples, '$[*].id') AS same_keys,
	   jsonb_path_query_array(n.samples, '$[*].rows') AS rows
  FROM pubdata.quality_result n, pubdata.quality_result p
 WHERE n.run_id = :run_nostats AND p.run_id = (SELECT max(run_id) FROM pubdata.quality_result r
		JOIN pubdata.quality_rule q ON q.id = r.rule_id WHERE q.resource_id = (SELECT id FROM pubdata.resource WHERE code = 'QWIN-PERSON'));

-- many duplicated keys (every id of 1..20000 twice: more than the list of
-- keys seen twice holds, so every slot is visited at the end)
CREATE TABLE qwin.twice (id bigint, born date) WITH (autovacuum_enabled = false);
INSERT INTO qwin.twice SELECT g % 20000 + 1, date '2000-01-01' + g % 20000 FROM generate_series(1, 40000) g;
ANALYZE qwin.twice;
SELECT pubdata.register_resource('qwin.twice', 'QWIN-TWICE', '重复', 'qwin_civil',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QWIN-TWICE', 'id', 'unique') > 0 AS added;
SELECT runs_agree, partitions_agree, in_parallel, small_memory, rows_failed, samples->0 AS first_sample
  FROM pg_temp.same(pg_temp.five_ways('QWIN-TWICE'));
-- a date column: a window of days
CREATE TABLE qwin.born (born date) WITH (autovacuum_enabled = false);
INSERT INTO qwin.born SELECT date '2000-01-01' + g % 20000 FROM generate_series(1, 40000) g;
ANALYZE qwin.born;
INSERT INTO qwin.born VALUES ('1900-01-01'), ('1900-01-01');
SELECT pubdata.register_resource('qwin.born', 'QWIN-BORN', '出生日期', 'qwin_civil',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QWIN-BORN', 'born', 'unique') > 0 AS added;
SELECT runs_agree, partitions_agree, in_parallel, small_memory, rows_failed, samples->0 AS first_sample
  FROM pg_temp.same(pg_temp.five_ways('QWIN-BORN'));

-- a partitioned table: one window for all partitions (the parent's
-- statistics), a key's rows in several partitions counted against each,
-- duplicates inside and outside the window
CREATE TABLE qwin.visit (id integer, county text) PARTITION BY LIST (county);
CREATE TABLE qwin.visit_ld PARTITION OF qwin.visit FOR VALUES IN ('331102') WITH (autovacuum_enabled = false);
CREATE TABLE qwin.visit_qt PARTITION OF qwin.visit FOR VALUES IN ('331121') WITH (autovacuum_enabled = false);
CREATE TABLE qwin.visit_other PARTITION OF qwin.visit DEFAULT WITH (autovacuum_enabled = false);
INSERT INTO qwin.visit SELECT g, (ARRAY['331102', '331121', '331181'])[1 + g % 3] FROM generate_series(1, 30000) g;
ANALYZE qwin.visit;
INSERT INTO qwin.visit VALUES (7, '331102'), (7, '331121'), (8, '331181'),
	(500000, '331102'), (500000, '331121'), (500000, '331181');
SELECT pubdata.register_resource('qwin.visit', 'QWIN-VISIT', '走访', 'qwin_civil',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QWIN-VISIT', 'id', 'unique') > 0 AS added;
SELECT * FROM pg_temp.same(pg_temp.five_ways('QWIN-VISIT'));
SELECT p.partition, p.rows_failed FROM pubdata.quality_result_partition p
	JOIN pubdata.quality_rule q ON q.id = p.rule_id
 WHERE p.run_id = (SELECT max(id) FROM pubdata.quality_run) AND q.kind = 'unique' ORDER BY p.partition;
-- a partitioned table whose partitions were analyzed but not the table
-- itself: the window from the partitions' statistics
CREATE TABLE qwin.visit2 (id integer, county text) PARTITION BY LIST (county);
CREATE TABLE qwin.visit2_ld PARTITION OF qwin.visit2 FOR VALUES IN ('331102') WITH (autovacuum_enabled = false);
CREATE TABLE qwin.visit2_other PARTITION OF qwin.visit2 DEFAULT WITH (autovacuum_enabled = false);
INSERT INTO qwin.visit2 SELECT * FROM qwin.visit WHERE id <= 30000 ORDER BY id;
ANALYZE qwin.visit2_ld;
ANALYZE qwin.visit2_other;
INSERT INTO qwin.visit2 SELECT * FROM qwin.visit WHERE id IN (7, 8, 500000) ORDER BY id;
SELECT pubdata.register_resource('qwin.visit2', 'QWIN-VISIT2', '走访2', 'qwin_civil',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QWIN-VISIT2', 'id', 'unique') > 0 AS added;
SELECT runs_agree, partitions_agree, in_parallel, small_memory, rows_failed FROM pg_temp.same(pg_temp.five_ways('QWIN-VISIT2'));
-- analyzed again, the statistics hold the key 500000: 30000 keys over half a
-- million values are too sparse for a window (a hash table), the same outcome
ANALYZE qwin.visit2;
SELECT runs_agree, partitions_agree, in_parallel, small_memory, rows_failed FROM pg_temp.same(pg_temp.five_ways('QWIN-VISIT2'));

-- partitioned by the key itself: a value belongs to one partition only, so
-- each partition is counted with a window of its own (its statistics), one
-- after the other, and in parallel each partition is read whole by one
-- participant; 6 partitions of 5000 ids, one never analyzed (no window: its
-- keys hashed); then, unseen by the statistics, ids 10 (3 rows), -7 and
-- 12000 (2 each) inside windows, 4990..5040 twice each across the edge of
-- the first two partitions (the first one's window goes on to 5000 + 172,
-- but ids from 5001 are the next one's), and 25000 (2 rows) in the
-- partition without statistics: 111 rows
CREATE TABLE qwin.byid (id bigint, note text) PARTITION BY RANGE (id);
SELECT format('CREATE TABLE qwin.byid_%s PARTITION OF qwin.byid FOR VALUES FROM (%s) TO (%s) WITH (autovacuum_enabled = false)',
			  m, CASE WHEN m = 1 THEN 'MINVALUE' ELSE ((m - 1) * 5000 + 1)::text END,
			  CASE WHEN m = 6 THEN 'MAXVALUE' ELSE (m * 5000 + 1)::text END)
  FROM generate_series(1, 6) m \gexec
INSERT INTO qwin.byid SELECT g, 'n' FROM generate_series(1, 30000) g;
ANALYZE qwin.byid_1;
ANALYZE qwin.byid_2;
ANALYZE qwin.byid_3;
ANALYZE qwin.byid_4;
ANALYZE qwin.byid_6;
INSERT INTO qwin.byid VALUES (10, 'again'), (10, 'again'), (12000, 'again'), (25000, 'again'), (-7, 'a'), (-7, 'a');
INSERT INTO qwin.byid SELECT g, 'edge' FROM generate_series(4990, 5040) g;
SELECT pubdata.register_resource('qwin.byid', 'QWIN-BYID', '按编号分区', 'qwin_civil',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QWIN-BYID', 'id', 'unique') > 0 AS added;
SELECT pg_temp.five_ways('QWIN-BYID') AS runs3 \gset
SELECT runs_agree, partitions_agree, in_parallel, small_memory, rows_failed, samples->0 AS first_sample
  FROM pg_temp.same(:'runs3');
SELECT p.partition, p.rows_failed FROM pubdata.quality_result_partition p
 WHERE p.run_id = (:'runs3'::bigint[])[4] ORDER BY p.partition;

RESET SESSION AUTHORIZATION;
SET client_min_messages = warning;
SELECT pubdata.retire_resource(code, 'test over') FROM pubdata.resource WHERE code LIKE 'QWIN-%' ORDER BY code;
DROP SCHEMA qwin CASCADE;
