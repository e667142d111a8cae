-- Quality at scale (issue 11): a run records its parallel workers and peak
-- memory; a partitioned resource's results per partition; _quality_scan
-- returns partitions, memory and workers (a new row type: dropped here, made
-- again by the re-runnable part).
ALTER TABLE pubdata.quality_run ADD COLUMN workers integer, ADD COLUMN memory_used bigint;
COMMENT ON COLUMN pubdata.quality_run.workers IS 'parallel workers that scanned with the measuring backend (0: it scanned alone)';
COMMENT ON COLUMN pubdata.quality_run.memory_used IS 'peak bytes of the measurement''s hash tables, spill buffers and referenced values (bounded by pubdata.quality_mem, else maintenance_work_mem, in each process)';

CREATE TABLE pubdata.quality_result_partition (
	run_id		bigint NOT NULL REFERENCES pubdata.quality_run (id) ON DELETE CASCADE,
	rule_id		bigint NOT NULL REFERENCES pubdata.quality_rule (id) ON DELETE CASCADE,
	partition	text NOT NULL,
	rows_checked bigint NOT NULL,
	rows_failed	bigint NOT NULL,
	PRIMARY KEY (run_id, rule_id, partition)
);
COMMENT ON TABLE pubdata.quality_result_partition IS 'Per-rule outcome of a run of a partitioned resource, for each of its leaf partitions (a duplicated key counts its rows in the partitions that hold them)';
COMMENT ON COLUMN pubdata.quality_result_partition.partition IS 'the leaf partition, schema-qualified, as named when measured';
SELECT pg_catalog.pg_extension_config_dump('pubdata.quality_result_partition', '');

DROP FUNCTION pubdata._quality_scan(bigint);
