-- Quality at scale: a partitioned table measured as one resource (uniqueness
-- across partitions, results per partition, partitions laid out differently,
-- a partition of a partition), views measured as their owner, the memory
-- budget (pubdata.quality_mem) and the spill of unique keys beyond it, and
-- the failure paths; run as the department's login and as the bureau.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_qsc_admin IN ROLE pubdata_admin;
CREATE ROLE regress_qsc_transport LOGIN;
CREATE ROLE regress_qsc_other LOGIN;
CREATE ROLE regress_qsc_auditor IN ROLE pubdata_auditor;
CREATE SCHEMA qsc AUTHORIZATION regress_qsc_transport;
CREATE SCHEMA qsc_other AUTHORIZATION regress_qsc_other;
RESET client_min_messages;
SET ROLE regress_qsc_admin;
SELECT pubdata.add_department('qsc_transport', '市交通运输局', '331100', 'administrative', 'regress_qsc_transport') > 0 AS ok;
SELECT pubdata.add_department('qsc_other', '市卫生健康委', '331100', 'administrative', 'regress_qsc_other') > 0 AS ok;
RESET ROLE;

-- trips by month; February's partition was made apart (a dropped column, so
-- its columns are laid out differently) and attached; March is partitioned
-- again by county
SET SESSION AUTHORIZATION regress_qsc_transport;
CREATE TABLE qsc.trip (id bigint, plate text, county text, started date, km integer)
	PARTITION BY RANGE (started);
CREATE TABLE qsc.trip_2026_01 PARTITION OF qsc.trip FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE qsc.trip_2026_02 (old_note text, km integer, started date, county text, plate text, id bigint);
ALTER TABLE qsc.trip_2026_02 DROP COLUMN old_note;
ALTER TABLE qsc.trip ATTACH PARTITION qsc.trip_2026_02 FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE qsc.trip_2026_03 PARTITION OF qsc.trip FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')
	PARTITION BY LIST (county);
CREATE TABLE qsc.trip_2026_03_ld PARTITION OF qsc.trip_2026_03 FOR VALUES IN ('331102');
CREATE TABLE qsc.trip_2026_03_qt PARTITION OF qsc.trip_2026_03 DEFAULT;
-- 9000 trips over three months; ids 1..9000 once each, then defects:
-- id 7 again in February and in March (3 rows of one key in 3 partitions),
-- id 4000 (a February trip) again in January, plates that are not plates
-- (every 1000th trip), negative distances in March only
INSERT INTO qsc.trip
SELECT g, CASE WHEN g % 1000 = 0 THEN 'none' ELSE '浙K' || lpad(g::text, 5, '0') END,
	   CASE WHEN g % 2 = 0 THEN '331102' ELSE '331121' END,
	   date '2026-01-01' + (g % 90), CASE WHEN g % 90 >= 59 AND g % 500 = 0 THEN -1 ELSE g % 300 END
  FROM generate_series(1, 9000) g;
INSERT INTO qsc.trip VALUES
	(7, '浙K00007', '331102', '2026-02-14', 10),
	(7, '浙K00007', '331121', '2026-03-14', 10),
	(4000, '浙K04000', '331102', '2026-01-20', 10);
SELECT pubdata.register_resource('qsc.trip', 'QSC-TRIP', '出租车行程', 'qsc_transport',
	'restricted', 'not_open', 'daily', 2) > 0 AS registered;
SELECT pubdata.set_item('QSC-TRIP', 'id', is_key => true);
SELECT pubdata.add_quality_rule('QSC-TRIP', 'id', 'unique') AS r_unique \gset
SELECT pubdata.add_quality_rule('QSC-TRIP', 'plate', 'pattern', '{"regex": "^浙K[0-9]{5}$"}') AS r_plate \gset
SELECT pubdata.add_quality_rule('QSC-TRIP', 'km', 'range', '{"min": 0}') AS r_km \gset
SELECT pubdata.add_quality_rule('QSC-TRIP', NULL, 'custom', '{"expression": "started >= DATE ''2026-01-01''"}') AS r_custom \gset
SELECT pubdata.add_quality_rule('QSC-TRIP', 'started', 'freshness') AS r_fresh \gset

-- one measurement of the whole resource, as the department
SELECT pubdata.measure_quality('QSC-TRIP') AS run \gset
SELECT rows_checked, workers, memory_used > 0 AS memory_counted FROM pubdata.quality_run WHERE id = :run;
-- 5 rows fail uniqueness: the three rows of id 7 (one in each of three
-- partitions) and the two of id 4000; 9 plates; 6 distances; no trip before
-- 2026; the newest trip (March) is not fresh for a daily resource
SELECT q.kind, r.rows_checked, r.rows_failed
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 WHERE r.run_id = :run ORDER BY q.id;
-- per partition (leaves, in partition order); they add up to the resource
SELECT q.kind, p.partition, p.rows_checked, p.rows_failed
  FROM pubdata.quality_result_partition p JOIN pubdata.quality_rule q ON q.id = p.rule_id
 WHERE p.run_id = :run ORDER BY q.id, p.partition;
SELECT bool_and(r.rows_failed = s.failed AND r.rows_checked = s.checked) AS partitions_add_up
  FROM pubdata.quality_result r
  JOIN (SELECT rule_id, sum(rows_failed) AS failed, sum(rows_checked) AS checked
		  FROM pubdata.quality_result_partition WHERE run_id = :run GROUP BY rule_id) s ON s.rule_id = r.rule_id
 WHERE r.run_id = :run;
-- samples name the partition of each row (February's, read through its own layout)
SELECT r.samples FROM pubdata.quality_result r WHERE r.run_id = :run AND r.rule_id = :r_unique;
SELECT jsonb_path_query_array(r.samples, '$[*].partition') AS plate_partitions
  FROM pubdata.quality_result r WHERE r.run_id = :run AND r.rule_id = :r_plate;
SELECT r.samples->0 AS first_km FROM pubdata.quality_result r WHERE r.run_id = :run AND r.rule_id = :r_km;

-- the same measurement by parallel workers (the table is small: the
-- threshold is lowered), counts, partitions and samples identical
SET min_parallel_table_scan_size = 0;
SELECT pubdata.measure_quality('QSC-TRIP') AS prun \gset
SELECT workers > 0 AS in_parallel FROM pubdata.quality_run WHERE id = :prun;
SELECT count(*) AS rules, bool_and(a.rows_checked = b.rows_checked AND a.rows_failed = b.rows_failed
								   AND a.samples = b.samples) AS same_results
  FROM pubdata.quality_result a JOIN pubdata.quality_result b ON b.rule_id = a.rule_id AND b.run_id = :prun
 WHERE a.run_id = :run;
SELECT count(*) AS partition_rows, bool_and(a.rows_checked = b.rows_checked AND a.rows_failed = b.rows_failed) AS same_per_partition
  FROM pubdata.quality_result_partition a
  JOIN pubdata.quality_result_partition b ON b.rule_id = a.rule_id AND b.partition = a.partition AND b.run_id = :prun
 WHERE a.run_id = :run;
-- max_parallel_maintenance_workers = 0, or a custom expression calling a
-- function not marked PARALLEL SAFE: one process
SET max_parallel_maintenance_workers = 0;
SELECT pubdata.measure_quality('QSC-TRIP') AS srun \gset
RESET max_parallel_maintenance_workers;
CREATE FUNCTION qsc.km_ok(integer) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RETURN $1 < 1000; END $$;
SELECT pubdata.add_quality_rule('QSC-TRIP', NULL, 'custom', '{"expression": "qsc.km_ok(km)"}') AS r_unsafe \gset
SELECT pubdata.measure_quality('QSC-TRIP') AS urun \gset
SELECT id = :srun AS no_workers_allowed, id = :urun AS unsafe_function, workers
  FROM pubdata.quality_run WHERE id IN (:srun, :urun) ORDER BY id;
SELECT pubdata.drop_quality_rule(:r_unsafe);
-- the workers act as the table's owner too, whoever measures (the bureau)
CREATE FUNCTION qsc.as_owner() RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE
	AS $$ BEGIN RETURN current_user = 'regress_qsc_transport'; END $$;
SELECT pubdata.add_quality_rule('QSC-TRIP', NULL, 'custom', '{"expression": "qsc.as_owner()"}') AS r_owner_p \gset
RESET SESSION AUTHORIZATION;
SET ROLE regress_qsc_admin;
SET min_parallel_table_scan_size = 0;
SELECT pubdata.measure_quality('QSC-TRIP') AS orun \gset
RESET ROLE;
SET SESSION AUTHORIZATION regress_qsc_transport;
SELECT q.workers > 0 AS in_parallel, r.rows_checked, r.rows_failed AS not_as_owner
  FROM pubdata.quality_result r JOIN pubdata.quality_run q ON q.id = r.run_id
 WHERE r.run_id = :orun AND r.rule_id = :r_owner_p;
SELECT pubdata.drop_quality_rule(:r_owner_p);
RESET min_parallel_table_scan_size;

-- the same counts when the unique keys do not fit the memory budget: they
-- spill to batches and are counted batch by batch; memory stays within it
CREATE TABLE qsc.many (k integer, note text) PARTITION BY HASH (k);
CREATE TABLE qsc.many_0 PARTITION OF qsc.many FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE qsc.many_1 PARTITION OF qsc.many FOR VALUES WITH (MODULUS 2, REMAINDER 1);
-- 200000 distinct keys, then 1000 of them again: 2000 rows fail
INSERT INTO qsc.many SELECT g, 'n' FROM generate_series(1, 200000) g;
INSERT INTO qsc.many SELECT g * 200, 'again' FROM generate_series(1, 1000) g;
ANALYZE qsc.many;
SELECT pubdata.register_resource('qsc.many', 'QSC-MANY', '大量键', 'qsc_transport',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QSC-MANY', 'k', 'unique') AS r_many \gset
SELECT pubdata.measure_quality('QSC-MANY') AS run_default \gset
SET pubdata.quality_mem = '1MB';
SHOW pubdata.quality_mem;
SELECT pubdata.measure_quality('QSC-MANY') AS run_small \gset
-- and in parallel: every participant spills its keys to shared batches
SET min_parallel_table_scan_size = 0;
SELECT pubdata.measure_quality('QSC-MANY') AS run_small_par \gset
RESET min_parallel_table_scan_size;
RESET pubdata.quality_mem;
SELECT r.run_id = :run_small AS small_budget, r.rows_checked, r.rows_failed, r.samples->0 AS first_sample,
	   q.memory_used <= 1024 * 1024 AS within_budget,
	   q.memory_used > 1024 * 1024 AS more_than_small_budget
  FROM pubdata.quality_result r JOIN pubdata.quality_run q ON q.id = r.run_id
 WHERE r.rule_id = :r_many ORDER BY r.run_id;
SELECT r.rows_failed, r.samples->0 AS first_sample, q.workers > 0 AS in_parallel,
	   q.memory_used <= 1024 * 1024 AS within_budget
  FROM pubdata.quality_result r JOIN pubdata.quality_run q ON q.id = r.run_id
 WHERE r.run_id = :run_small_par;
SELECT count(*) AS partition_rows, sum(rows_failed) AS failed
  FROM pubdata.quality_result_partition WHERE run_id IN (:run_small, :run_small_par) GROUP BY run_id;
-- the budget is maintenance_work_mem unless set (CREATE INDEX's budget)
SET maintenance_work_mem = '1MB';
SELECT pubdata.measure_quality('QSC-MANY') AS run_mwm \gset
RESET maintenance_work_mem;
SELECT rows_failed, (SELECT memory_used <= 1024 * 1024 FROM pubdata.quality_run WHERE id = :run_mwm) AS within_budget
  FROM pubdata.quality_result WHERE run_id = :run_mwm;
SET pubdata.quality_mem = '10kB';
SET pubdata.quality_mem = 0;
SET pubdata.quality_mem = -1;
RESET pubdata.quality_mem;

-- a view is measured as its owner: its function runs as the department,
-- whoever measures (the bureau below); rows, samples and uniqueness as for a table
CREATE FUNCTION qsc.reader() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_user::text $$;
CREATE VIEW qsc.trip_q1 AS
	SELECT t.id, t.plate, t.km, qsc.reader() AS read_as FROM qsc.trip t WHERE t.started < DATE '2026-03-01';
SELECT pubdata.register_resource('qsc.trip_q1', 'QSC-TRIP-Q1', '一二月行程', 'qsc_transport',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.set_item('QSC-TRIP-Q1', 'id', is_key => true);
SELECT pubdata.add_quality_rule('QSC-TRIP-Q1', 'read_as', 'allowed_values', '{"values": ["regress_qsc_transport"]}') AS r_owner \gset
SELECT pubdata.add_quality_rule('QSC-TRIP-Q1', 'id', 'unique') AS r_vunique \gset
SELECT pubdata.add_quality_rule('QSC-TRIP-Q1', 'plate', 'pattern', '{"regex": "^浙K[0-9]{5}$"}') AS r_vplate \gset
SELECT pubdata.add_quality_rule('QSC-TRIP-Q1', NULL, 'custom', '{"expression": "km < 290"}') AS r_vcustom \gset
RESET SESSION AUTHORIZATION;
SET ROLE regress_qsc_admin;
SELECT pubdata.measure_quality('QSC-TRIP-Q1') AS vrun \gset
RESET ROLE;
SET SESSION AUTHORIZATION regress_qsc_transport;
SELECT rows_checked, workers, measured_by FROM pubdata.quality_run WHERE id = :vrun;
-- read_as: every row was read by the department (0 fail); ids 7 and 4000
-- twice each (a view's sample is the row where the key was seen again);
-- 6 plates; the custom expression on the view's columns
SELECT q.kind, r.rows_checked, r.rows_failed, r.samples
  FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
 WHERE r.run_id = :vrun ORDER BY q.id;
SELECT count(*) AS view_partition_rows FROM pubdata.quality_result_partition WHERE run_id = :vrun;

-- the view's owner must still be able to read what the view reads
RESET SESSION AUTHORIZATION;
CREATE TABLE qsc_other.secret (id bigint);
ALTER TABLE qsc_other.secret OWNER TO regress_qsc_other;
SET SESSION AUTHORIZATION regress_qsc_other;
GRANT USAGE ON SCHEMA qsc_other TO regress_qsc_transport;
GRANT SELECT ON qsc_other.secret TO regress_qsc_transport;
SET SESSION AUTHORIZATION regress_qsc_transport;
CREATE VIEW qsc.secret_v AS SELECT id FROM qsc_other.secret;
SELECT pubdata.register_resource('qsc.secret_v', 'QSC-SECRET-V', '借来的视图', 'qsc_transport',
	'unconditional', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('QSC-SECRET-V', 'id', 'not_null') > 0 AS added;
SELECT pubdata.measure_quality('QSC-SECRET-V') > 0 AS measured;
SET SESSION AUTHORIZATION regress_qsc_other;
REVOKE SELECT ON qsc_other.secret FROM regress_qsc_transport;
-- the bureau measures: the view is still read as its owner, who may no longer
RESET SESSION AUTHORIZATION;
SET ROLE regress_qsc_admin;
SELECT pubdata.measure_quality('QSC-SECRET-V');
RESET ROLE;

-- another department may neither measure the resource (unpublished, it does
-- not exist for it) nor see its partitions' results
SET SESSION AUTHORIZATION regress_qsc_other;
SELECT pubdata.measure_quality('QSC-TRIP');
SELECT count(*) AS partition_results_seen FROM pubdata.quality_result_partition;
-- the auditor sees the runs' figures, per partition too (no samples there)
RESET SESSION AUTHORIZATION;
SET ROLE regress_qsc_auditor;
SELECT count(*) > 0 AS partition_results_seen FROM pubdata.quality_result_partition WHERE run_id = :run;
SELECT count(*) AS samples_seen FROM pubdata.quality_result WHERE run_id = :run;
RESET ROLE;
-- the bureau's measurement of the restricted partitioned resource is audited as one read
SET ROLE regress_qsc_admin;
SELECT pubdata.measure_quality('QSC-TRIP') > 0 AS measured;
SELECT role_name, resource, command, rows FROM pubdata.access_log WHERE resource = 'QSC-TRIP';
RESET ROLE;

-- a foreign partition cannot be measured here: said, nothing stored
SET SESSION AUTHORIZATION regress_qsc_transport;
SELECT count(*) AS runs_before FROM pubdata.quality_run q JOIN pubdata.resource r ON r.id = q.resource_id
 WHERE r.code = 'QSC-TRIP' \gset
RESET SESSION AUTHORIZATION;
CREATE FOREIGN DATA WRAPPER regress_qsc_fdw;
CREATE SERVER regress_qsc_srv FOREIGN DATA WRAPPER regress_qsc_fdw;
CREATE FOREIGN TABLE qsc.trip_2026_04 PARTITION OF qsc.trip FOR VALUES FROM ('2026-04-01') TO ('2026-05-01')
	SERVER regress_qsc_srv;
SET SESSION AUTHORIZATION regress_qsc_transport;
SELECT pubdata.measure_quality('QSC-TRIP');
SELECT count(*) = :runs_before AS nothing_stored FROM pubdata.quality_run q JOIN pubdata.resource r ON r.id = q.resource_id
 WHERE r.code = 'QSC-TRIP';
RESET SESSION AUTHORIZATION;
DROP FOREIGN TABLE qsc.trip_2026_04;
DROP SERVER regress_qsc_srv;
DROP FOREIGN DATA WRAPPER regress_qsc_fdw;

-- the rule trigger on a partitioned table checks the rows written into its partitions
SET SESSION AUTHORIZATION regress_qsc_transport;
SELECT pubdata.set_quality_rule(:r_km, 'reject');
SELECT pubdata.enable_quality_trigger('QSC-TRIP');
-- (the rule's number depends on the tests before: shown as N)
CREATE FUNCTION pg_temp.attempt(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'done';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'rule [0-9]+', 'rule N');
END $$;
SELECT pg_temp.attempt($$INSERT INTO qsc.trip VALUES (9001, '浙K09001', '331102', '2026-02-03', -5)$$);
SELECT pg_temp.attempt($$INSERT INTO qsc.trip VALUES (9002, '浙K09002', '331121', '2026-03-03', -5)$$);
INSERT INTO qsc.trip VALUES (9003, '浙K09003', '331121', '2026-03-03', 5);
SELECT count(*) AS written FROM qsc.trip WHERE id > 9000;
SELECT pubdata.disable_quality_trigger('QSC-TRIP');

-- the progress view: nothing runs now; the department sees its own, later
SELECT count(*) AS running FROM pubdata.progress;
RESET SESSION AUTHORIZATION;

SET client_min_messages = warning;
SELECT pubdata.retire_resource(code, 'test over') FROM pubdata.resource WHERE code LIKE 'QSC-%' ORDER BY code;
DROP SCHEMA qsc CASCADE;
DROP SCHEMA qsc_other CASCADE;
