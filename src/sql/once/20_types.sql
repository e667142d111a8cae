-- ---------------------------------------------------------------------------
-- Enumerations
-- ---------------------------------------------------------------------------
CREATE TYPE pubdata.region_level AS ENUM ('province', 'city', 'county');
CREATE TYPE pubdata.department_kind AS ENUM ('administrative', 'public_institution', 'public_utility', 'other');
CREATE TYPE pubdata.share_class AS ENUM ('unconditional', 'restricted', 'non_shared');
CREATE TYPE pubdata.open_class AS ENUM ('open', 'conditional', 'not_open');
CREATE TYPE pubdata.update_frequency AS ENUM
	('realtime', 'hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'semiannual', 'annual', 'on_demand');
CREATE TYPE pubdata.catalog_level AS ENUM ('city', 'county');
CREATE TYPE pubdata.resource_status AS ENUM ('draft', 'submitted', 'returned', 'approved', 'published', 'retired');
CREATE TYPE pubdata.personal_kind AS ENUM ('none', 'personal', 'sensitive');
CREATE TYPE pubdata.mask_rule AS ENUM ('none', 'id_card', 'name', 'phone', 'email', 'pseudonym', 'redact', 'year', 'month');
CREATE TYPE pubdata.item_state AS ENUM ('current', 'added', 'dropped');
CREATE TYPE pubdata.project_status AS ENUM ('registered', 'approved', 'accepted');

COMMENT ON TYPE pubdata.share_class IS 'Art 18: unconditional, restricted or non-shared (non-shared needs a legal basis); ordered from least to most strict';
COMMENT ON TYPE pubdata.open_class IS 'Art 20: open, conditional (to named roles) or not open';
COMMENT ON TYPE pubdata.update_frequency IS 'Art 8(5): how often the responsible department aggregates the resource';
COMMENT ON TYPE pubdata.resource_status IS 'Catalog workflow: draft -> submitted -> approved (or returned) -> published -> retired';
COMMENT ON TYPE pubdata.personal_kind IS 'Art 25: whether a data item holds personal or sensitive personal information';
COMMENT ON TYPE pubdata.mask_rule IS 'How an item is masked where it is shown outside its provider';
COMMENT ON TYPE pubdata.item_state IS 'current; added (a new column the bureau has not reviewed yet: neither shared nor opened); dropped (the column left the table)';
COMMENT ON TYPE pubdata.department_kind IS 'administrative organ, public institution, public utility (Art 35) or other';
COMMENT ON TYPE pubdata.project_status IS 'Art 29: IT project register states';
