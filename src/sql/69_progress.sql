-- ---------------------------------------------------------------------------
-- Progress of long commands (quality measurements, aggregation runs), the way
-- pg_stat_progress_* shows PostgreSQL's own (src/progress.c)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pubdata._progress(OUT pid integer, OUT userid oid, OUT command text,
	OUT resource_id bigint, OUT job_id bigint, OUT job_run_id bigint, OUT phase text, OUT relid oid,
	OUT partitions_total bigint, OUT partitions_done bigint, OUT blocks_total bigint, OUT blocks_done bigint,
	OUT rows_done bigint, OUT workers integer, OUT memory_used bigint, OUT started_at timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pubdata_progress'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._progress() IS
	'Internal: every pubdata command of this database whose progress is shown (shared memory; nothing without shared_preload_libraries)';

CREATE OR REPLACE FUNCTION pubdata._progress_end() RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_progress_end_sql'
	LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION pubdata._progress_end() IS
	'Internal: the calling backend''s command is over (measure_quality calls it when its results are stored)';

-- _progress_seen(): what the calling role may see of _progress(); the view
-- reads it (a view's functions run with the reader's rights, so the filter
-- must be a definer's function that the reader may call, not _progress itself)
CREATE OR REPLACE FUNCTION pubdata._progress_seen(OUT pid integer, OUT role_name name, OUT command text,
	OUT resource text, OUT job_id bigint, OUT job_run_id bigint, OUT phase text, OUT relation regclass,
	OUT partitions_total bigint, OUT partitions_done bigint, OUT blocks_total bigint, OUT blocks_done bigint,
	OUT rows_done bigint, OUT workers integer, OUT memory_used bigint, OUT started_at timestamptz)
	RETURNS SETOF record
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT p.pid, a.rolname, p.command, r.code, p.job_id, p.job_run_id,
		   p.phase, p.relid::pg_catalog.regclass,
		   p.partitions_total, p.partitions_done, p.blocks_total, p.blocks_done, p.rows_done,
		   p.workers, p.memory_used, p.started_at
	  FROM pubdata._progress() p
	  LEFT JOIN pubdata.job j ON j.id OPERATOR(pg_catalog.=) p.job_id
	  LEFT JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) coalesce(p.resource_id, j.resource_id)
	  LEFT JOIN pg_catalog.pg_roles a ON a.oid OPERATOR(pg_catalog.=) p.userid
	 WHERE pubdata.is_admin()
		OR pg_catalog.pg_has_role(pubdata.caller(), 'pubdata_auditor', 'MEMBER')
		OR r.provider_id OPERATOR(pg_catalog.=) pubdata.department_of(pubdata.caller())
		OR a.rolname OPERATOR(pg_catalog.=) pubdata.caller()
	 ORDER BY p.started_at, p.pid
$$;
COMMENT ON FUNCTION pubdata._progress_seen() IS
	'Internal: the commands of pubdata._progress() the calling role may see (the bureau and the auditor all, a department its resources'' and its own)';
GRANT EXECUTE ON FUNCTION pubdata._progress_seen() TO pubdata_admin, pubdata_department, pubdata_auditor;

CREATE OR REPLACE VIEW pubdata.progress AS
SELECT * FROM pubdata._progress_seen();
COMMENT ON VIEW pubdata.progress IS
	'Long pubdata commands running now, like pg_stat_progress_*: quality measurements (phase, partitions, blocks and rows read of all, parallel workers, memory) and aggregation runs; the bureau and the auditor see all, a department its own resources'' and its own commands';
COMMENT ON COLUMN pubdata.progress.command IS 'quality (measure_quality, also as a scheduled job) or aggregation (a job run)';
COMMENT ON COLUMN pubdata.progress.phase IS 'initializing, reading referenced values, scanning, counting duplicate keys, reading failing rows, storing results; running the aggregation';
COMMENT ON COLUMN pubdata.progress.relation IS 'the table, partition or view being read';
COMMENT ON COLUMN pubdata.progress.blocks_total IS 'blocks of the table (of all its partitions) when the measurement started; NULL-free, 0 for a view (read by query)';
COMMENT ON COLUMN pubdata.progress.rows_done IS 'rows read so far (of a parallel scan, as last reported)';
COMMENT ON COLUMN pubdata.progress.memory_used IS 'bytes the measurement''s hash tables, spill buffers and referenced values hold now';
GRANT SELECT ON pubdata.progress TO pubdata_admin, pubdata_department, pubdata_auditor;
