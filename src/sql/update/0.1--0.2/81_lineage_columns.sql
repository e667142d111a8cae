-- ---------------------------------------------------------------------------
-- Lineage with the shape the user wrote (issue 16): views are nodes, edges
-- carry column lineage.
--
-- What changes for the edges already recorded by 0.1: nothing in them.  0.1
-- took a statement's sources from the executor's range table, where the
-- rewriter had put every base table of every view it read: an edge recorded
-- by 0.1 from a table into a target may have gone through a view, and a view
-- nobody registered has no edges.  From 0.2 on a statement that reads through
-- a view records the view; a view's own edges (view_definition) are recorded
-- when it is created or replaced and end (ended_at) when it is dropped or no
-- longer reads a source.  0.1's edges have no column lineage (columns NULL)
-- and never end, except a view_definition edge, which the view's next
-- CREATE OR REPLACE ends if its definition no longer matches it.
--
-- The functions, views and event triggers are the re-runnable parts' (src/sql/
-- 75_lineage.sql); here only the tables change.
-- ---------------------------------------------------------------------------

ALTER TABLE pubdata.lineage_edge_data ADD COLUMN columns jsonb, ADD COLUMN ended_at timestamptz;
ALTER TABLE pubdata.lineage_edge_data DROP CONSTRAINT lineage_edge_key;
-- one live row per edge; an ended edge (a view's source it no longer reads,
-- a dropped view) stays as history beside a live one of the same key
CREATE UNIQUE INDEX lineage_edge_live_key ON pubdata.lineage_edge_data (source_key, target, kind, role_name)
	WHERE ended_at IS NULL;
COMMENT ON COLUMN pubdata.lineage_edge_data.columns IS
	'column lineage of the edge: a JSON array of ["target column", "source column", "identity" | "transformation" | "aggregation"]';
COMMENT ON COLUMN pubdata.lineage_edge_data.ended_at IS
	'when a view''s definition stopped reading the source (CREATE OR REPLACE VIEW, DROP VIEW); NULL while the edge is live';

ALTER TABLE pubdata.lineage_observation ADD COLUMN columns jsonb;
