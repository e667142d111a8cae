-- ---------------------------------------------------------------------------
-- The OpenLineage stream without serialised commits (issue 12's cost): runs
-- are appended to openlineage_pending at commit, without the order lock, and
-- published as events by the launcher (functions in 75_lineage.sql).
-- ---------------------------------------------------------------------------

-- The stream's runs committed and not yet published (src/lineage_stream.c):
-- a committing transaction appends one row per run here, without a lock; the
-- publisher (the launcher, about every 100 ms, or openlineage_publish())
-- turns them into events of pubdata.openlineage_event, ids in publication order
CREATE TABLE pubdata.openlineage_pending (
	xid			xid8 NOT NULL,
	n			integer NOT NULL,
	target		oid NOT NULL,
	target_name	text NOT NULL,
	sources		oid[] NOT NULL,
	source_names text[] NOT NULL,
	kinds		text[] NOT NULL,
	counts		bigint[] NOT NULL,
	started		timestamptz NOT NULL,
	ended		timestamptz NOT NULL,
	namespace	text,
	job_name	text,
	job_run		bigint,
	outcome		text NOT NULL CHECK (outcome IN ('COMPLETE', 'FAIL', 'ABORT'))
);
SELECT pg_catalog.pg_extension_config_dump('pubdata.openlineage_pending', '');
