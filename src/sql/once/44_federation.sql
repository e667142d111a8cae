-- ---------------------------------------------------------------------------
-- The federated catalog (Art 4, 5, 9, 20): what a city sends to the province
-- by logical replication, and what the province holds of every city.
--
-- Logical replication applies a change to the table of the same schema and
-- name on the subscriber, so a city cannot publish pubdata.resource itself:
-- at the province it would land in the province's own catalog, and two
-- cities' resource 1 (or code GA-001) would collide.  Every server therefore
-- has the same tables in schema pubdata_federation, keyed by city code
-- (the six-digit division code):
--   on a city, they mirror its own catalog under its code (kept by triggers
--   on the catalog tables once pubdata.publish_catalog_to_province() has
--   named the city), drafts included; the publication's row filters send
--   only published and retired entries and its column lists leave out what
--   is local (table and role names, who changed what, masks);
--   on the province, each city's subscription fills the same tables with that
--   city's rows; a guard lets a subscription write only its own city's rows.
-- Columns are text where the catalog has enum types, so that a newer city's
-- new label does not stop an older province.  (Functions, views, triggers and
-- policies: 86_federation.sql.)
-- ---------------------------------------------------------------------------

CREATE SCHEMA pubdata_federation;
COMMENT ON SCHEMA pubdata_federation IS
	'联邦目录：各市公共数据资源目录（按市代码）. The federated catalog: this city''s entries for the province, or every city''s at the province';

-- This server's place in the federation (one row, written by
-- publish_catalog_to_province)
CREATE TABLE pubdata.federation (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	city		text NOT NULL CHECK (city ~ '^[0-9]{6}$'),
	publication	name,
	published_by name NOT NULL,
	published_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.federation IS 'This server''s city code in the federated catalog and the publication it offers the province (set by pubdata.publish_catalog_to_province)';
COMMENT ON COLUMN pubdata.federation.city IS 'six-digit division code this server''s catalog is keyed by at the province';
COMMENT ON COLUMN pubdata.federation.publication IS 'the publication the province subscribes to';

-- At the province: which subscription carries which city
CREATE TABLE pubdata.federated_city (
	city		text PRIMARY KEY CHECK (city ~ '^[0-9]{6}$'),
	name		text NOT NULL CHECK (name <> ''),
	subscription name NOT NULL UNIQUE,
	added_by	name NOT NULL,
	added_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pubdata.federated_city IS 'At the province: the cities subscribed to, each by the one subscription allowed to write its rows (pubdata.add_federated_city)';
COMMENT ON COLUMN pubdata.federated_city.subscription IS 'name of the subscription (CREATE SUBSCRIPTION) that carries this city''s catalog';

-- The city itself: what its DCAT export says of its catalog
CREATE TABLE pubdata_federation.city (
	city		text PRIMARY KEY,
	name		text NOT NULL,
	base_url	text NOT NULL,
	license		text,
	catalog_title text,
	publisher	text,
	pubdata_version text NOT NULL,
	format		integer NOT NULL,
	updated_at	timestamptz NOT NULL
);
COMMENT ON TABLE pubdata_federation.city IS 'One row per city: its name, the base IRI and licence of its open catalog, its pubdata version';
COMMENT ON COLUMN pubdata_federation.city.base_url IS 'the city''s pubdata.open_base_url (or its default): its datasets'' IRIs start with it';
COMMENT ON COLUMN pubdata_federation.city.format IS 'version of these tables'' layout the city publishes (1)';

CREATE TABLE pubdata_federation.region (
	city		text NOT NULL,
	code		text NOT NULL,
	name		text NOT NULL,
	level		text NOT NULL,
	parent		text,
	in_city		boolean NOT NULL,
	PRIMARY KEY (city, code)
);
CREATE UNIQUE INDEX region_replica ON pubdata_federation.region (city, code, in_city);
ALTER TABLE pubdata_federation.region REPLICA IDENTITY USING INDEX region_replica;
COMMENT ON TABLE pubdata_federation.region IS 'Each city''s divisions (only the city and what lies under it is published)';
COMMENT ON COLUMN pubdata_federation.region.in_city IS 'the city itself or a division under it (the publication''s row filter)';

CREATE TABLE pubdata_federation.department (
	city		text NOT NULL,
	id			integer NOT NULL,
	code		text NOT NULL,
	name		text NOT NULL,
	region		text NOT NULL,
	kind		text NOT NULL,
	role_name	name,
	data_commissioner text,
	responsible_leader text,
	contact		text,
	created_at	timestamptz NOT NULL,
	PRIMARY KEY (city, id)
);
COMMENT ON TABLE pubdata_federation.department IS 'Each city''s departments (the login role stays in the city)';

CREATE TABLE pubdata_federation.resource (
	city		text NOT NULL,
	id			bigint NOT NULL,
	code		text NOT NULL,
	name		text NOT NULL,
	summary		text,
	relation_name text,
	provider_id	integer NOT NULL,
	responsible_id integer NOT NULL,
	system_code	text,
	share_class	text NOT NULL,
	open_class	text NOT NULL,
	update_frequency text NOT NULL,
	security_level smallint NOT NULL,
	category	text,
	keywords	text[] NOT NULL,
	catalog_level text NOT NULL,
	region		text NOT NULL,
	high_value	boolean NOT NULL,
	legal_basis	text,
	status		text NOT NULL,
	review_comment text,
	version		integer NOT NULL,
	created_at	timestamptz NOT NULL,
	updated_at	timestamptz NOT NULL,
	submitted_at timestamptz,
	reviewed_at	timestamptz,
	published_at timestamptz,
	retired_at	timestamptz,
	PRIMARY KEY (city, id)
);
CREATE UNIQUE INDEX resource_city_code ON pubdata_federation.resource (city, code);
CREATE UNIQUE INDEX resource_replica ON pubdata_federation.resource (city, id, status);
ALTER TABLE pubdata_federation.resource REPLICA IDENTITY USING INDEX resource_replica;
COMMENT ON TABLE pubdata_federation.resource IS 'Each city''s catalog entries, keyed by (city, id); a city publishes its published and retired ones';
COMMENT ON COLUMN pubdata_federation.resource.status IS 'the entry''s status in its city; in the replica identity so that the row filter sees a status change';

CREATE TABLE pubdata_federation.resource_item (
	city		text NOT NULL,
	resource_id	bigint NOT NULL,
	column_name	name NOT NULL,
	attnum		smallint,
	title		text NOT NULL,
	description	text,
	data_type	text NOT NULL,
	personal	text NOT NULL,
	share_class	text,
	mask		text NOT NULL,
	is_key		boolean NOT NULL,
	state		text NOT NULL,
	entry_status text NOT NULL,
	PRIMARY KEY (city, resource_id, column_name)
);
CREATE UNIQUE INDEX resource_item_replica ON pubdata_federation.resource_item (city, resource_id, column_name, entry_status, state);
ALTER TABLE pubdata_federation.resource_item REPLICA IDENTITY USING INDEX resource_item_replica;
COMMENT ON TABLE pubdata_federation.resource_item IS 'The data items of each city''s entries; a city publishes the reviewed items of its published and retired entries';
COMMENT ON COLUMN pubdata_federation.resource_item.entry_status IS 'status of the item''s entry (the row filter''s)';

CREATE TABLE pubdata_federation.resource_history (
	city		text NOT NULL,
	resource_id	bigint NOT NULL,
	version		integer NOT NULL,
	valid_from	timestamptz NOT NULL,
	valid_to	timestamptz,
	changed_by	name,
	entry		jsonb NOT NULL,
	entry_status text NOT NULL,
	PRIMARY KEY (city, resource_id, version)
);
CREATE UNIQUE INDEX resource_history_replica ON pubdata_federation.resource_history (city, resource_id, version, entry_status);
ALTER TABLE pubdata_federation.resource_history REPLICA IDENTITY USING INDEX resource_history_replica;
COMMENT ON TABLE pubdata_federation.resource_history IS 'Every version of each city''s entries (the entry without its table''s name and oid); a city publishes its published and retired versions';

CREATE TABLE pubdata_federation.scenario (
	city		text NOT NULL,
	id			integer NOT NULL,
	code		text NOT NULL,
	name		text NOT NULL,
	purpose		text NOT NULL,
	proposed_by	integer,
	approved	boolean NOT NULL,
	approved_at	timestamptz,
	approved_by	name,
	valid_until	timestamptz,
	created_at	timestamptz NOT NULL,
	PRIMARY KEY (city, id)
);
CREATE UNIQUE INDEX scenario_replica ON pubdata_federation.scenario (city, id, approved);
ALTER TABLE pubdata_federation.scenario REPLICA IDENTITY USING INDEX scenario_replica;
COMMENT ON TABLE pubdata_federation.scenario IS 'Each city''s application scenarios (Art 19(3)); a city publishes the approved ones';

CREATE TABLE pubdata_federation.scenario_resource (
	city		text NOT NULL,
	scenario_id	integer NOT NULL,
	resource_id	bigint NOT NULL,
	items		text[],
	masks		jsonb,
	public		boolean NOT NULL,
	PRIMARY KEY (city, scenario_id, resource_id)
);
CREATE UNIQUE INDEX scenario_resource_replica ON pubdata_federation.scenario_resource (city, scenario_id, resource_id, public);
ALTER TABLE pubdata_federation.scenario_resource REPLICA IDENTITY USING INDEX scenario_resource_replica;
COMMENT ON TABLE pubdata_federation.scenario_resource IS 'The entries each scenario covers; published when the scenario is approved and the entry published or retired';

CREATE TABLE pubdata_federation.open_dataset (
	city		text NOT NULL,
	resource_id	bigint NOT NULL,
	view_name	name NOT NULL,
	columns		integer NOT NULL,
	created_at	timestamptz NOT NULL,
	refreshed_at timestamptz NOT NULL,
	dropped_at	timestamptz,
	PRIMARY KEY (city, resource_id)
);
COMMENT ON TABLE pubdata_federation.open_dataset IS 'The open-data view of each city''s open entries (the open catalog, Art 20, 21)';

ALTER TABLE pubdata_federation.city ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.region ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.department ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.resource ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.resource_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.resource_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.scenario ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.scenario_resource ENABLE ROW LEVEL SECURITY;
ALTER TABLE pubdata_federation.open_dataset ENABLE ROW LEVEL SECURITY;

-- the province's registrations are its configuration; this server's city
-- and the copies are not dumped: after a restore the city publishes again
-- (publish_catalog_to_province) and the province subscribes again
SELECT pg_catalog.pg_extension_config_dump('pubdata.federated_city', '');
