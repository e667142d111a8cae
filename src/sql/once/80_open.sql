-- ---------------------------------------------------------------------------
-- Open data (Art 20, 21): masked views in schema pubdata_open for BI tools
--
-- A published resource whose open class is 'open' (or 'conditional') gets a
-- view pubdata_open.<name from its code>.  AFTER triggers on pubdata.resource
-- and pubdata.resource_item keep the views in step with the catalog: publish
-- creates, an item change rebuilds, retiring drops.  What a view exposes is
-- decided here, item by item: restricted, non-shared, redacted and unmasked
-- personal items are left out, masked items are shown masked.
--
-- A view does not read the registered table itself: a reader's query that
-- did would plan the department's index expressions and run its views,
-- functions and casts with the reader's rights (or the bureau's, or a
-- superuser's).  Its rows come from pubdata.open_dataset_rows(), which reads
-- the table as the table's owner in a security-restricted operation
-- (src/open_rows.c) and applies the masks in C.
-- ---------------------------------------------------------------------------

CREATE SCHEMA pubdata_open;
COMMENT ON SCHEMA pubdata_open IS
	'开放数据：公共数据开放视图与开放目录（第二十、二十一条）. Open-data views and the open catalog, for BI tools';

-- The view of each open resource; the row stays after retirement so that the
-- name is stable if the resource is published again.
CREATE TABLE pubdata.open_dataset (
	resource_id	bigint PRIMARY KEY,
	view_name	name NOT NULL UNIQUE,
	columns		integer NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now(),
	refreshed_at timestamptz NOT NULL DEFAULT now(),
	dropped_at	timestamptz
);
COMMENT ON TABLE pubdata.open_dataset IS 'The open-data view of each resource ever opened (Art 20); maintained by triggers, the name is kept when a view is dropped';
COMMENT ON COLUMN pubdata.open_dataset.view_name IS 'name of the view in schema pubdata_open (stable for the resource)';
COMMENT ON COLUMN pubdata.open_dataset.columns IS 'number of items the view exposes';
COMMENT ON COLUMN pubdata.open_dataset.refreshed_at IS 'when the view was last (re)built';
COMMENT ON COLUMN pubdata.open_dataset.dropped_at IS 'when the view was dropped (resource retired or no longer open); NULL while it exists';

-- Roles that may read a conditional resource's view, named by its provider
CREATE TABLE pubdata.open_reader (
	resource_id	bigint NOT NULL REFERENCES pubdata.resource (id) ON DELETE CASCADE,
	role_name	name NOT NULL,
	granted_by	name NOT NULL,
	granted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (resource_id, role_name)
);
COMMENT ON TABLE pubdata.open_reader IS 'Roles allowed to read a conditional open resource (Art 20), named by its provider with pubdata.allow_open_reader()';

-- The pseudonymization key: readable by pubdata_admin only
CREATE TABLE pubdata.open_pseudonym_key (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	key			bytea NOT NULL CHECK (pg_catalog.length(key) >= 32),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.open_pseudonym_key IS 'Secret key of the keyed pseudonyms (HMAC-SHA256) in open views; generated at install, readable by pubdata_admin only';
INSERT INTO pubdata.open_pseudonym_key (key) VALUES (gen_random_bytes(32));

SELECT pg_catalog.pg_extension_config_dump('pubdata.open_dataset', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.open_reader', '');
SELECT pg_catalog.pg_extension_config_dump('pubdata.open_pseudonym_key', '');
