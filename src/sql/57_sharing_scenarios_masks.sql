-- ---------------------------------------------------------------------------
-- Sharing (3): application scenarios (Art 19(3)) and masks (the provider's
-- own, and the checks of the masks a request or a scenario asks for)
-- ---------------------------------------------------------------------------

-- _response_days: the working days a provider has to answer (pubdata.response_days)
CREATE OR REPLACE FUNCTION pubdata._response_days() RETURNS integer
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT coalesce(NULLIF(pg_catalog.current_setting('pubdata.response_days', true), '')::integer, 5) $$;

-- add_scenario: a department (or the bureau) proposes an application scenario
CREATE OR REPLACE FUNCTION pubdata.add_scenario(code text, name text, purpose text, departments text[]) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s integer;
	d text;
BEGIN
	IF coalesce(pg_catalog.btrim($3), '') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'scenario "%" needs a purpose', $1 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Say what the scenario is for (Art 19).';
	END IF;
	INSERT INTO pubdata.scenario (code, name, purpose, proposed_by)
	VALUES ($1, $2, $3, CASE WHEN pubdata.is_admin() THEN pubdata.department_of(pubdata.caller()) ELSE pubdata.current_department() END)
	RETURNING id INTO s;
	FOREACH d IN ARRAY coalesce($4, '{}') LOOP
		INSERT INTO pubdata.scenario_department VALUES (s, pubdata.department_id(d)) ON CONFLICT DO NOTHING;
	END LOOP;
	RETURN s;
EXCEPTION
	WHEN unique_violation THEN
		RAISE EXCEPTION 'scenario "%" already exists', $1 USING ERRCODE = 'duplicate_object';
	WHEN check_violation THEN
		RAISE EXCEPTION 'invalid scenario code "%"', $1 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use letters, digits, "_", "." and "-".';
END
$$;
COMMENT ON FUNCTION pubdata.add_scenario(text, text, text, text[]) IS 'Propose an application scenario with its departments (Art 19(3))';
CREATE OR REPLACE TRIGGER custom_mask_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pubdata.custom_mask
	FOR EACH STATEMENT EXECUTE FUNCTION pubdata._catalog_invalidate();

CREATE OR REPLACE FUNCTION pubdata._check_mask_expression(relation regclass, item name, expression text) RETURNS void
	AS 'MODULE_PATHNAME', 'pubdata_check_mask_expression' LANGUAGE C STRICT;
COMMENT ON FUNCTION pubdata._check_mask_expression(regclass, name, text) IS 'Internal: a provider''s mask is one expression over its item, of its type, of built-in non-volatile functions (parsed as the table''s owner)';

CREATE OR REPLACE FUNCTION pubdata._grant_rule(relation oid, attnum smallint, reader oid) RETURNS integer
	AS 'MODULE_PATHNAME', 'pubdata_grant_rule' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION pubdata._grant_rule(oid, smallint, oid) IS 'The mask the running statement''s grant choice delivers a column under (0: clear); picks a provider''s own mask';

-- define_mask: the provider names a mask of one of its items
CREATE OR REPLACE FUNCTION pubdata.define_mask(resource text, item text, name text, expression text) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r pubdata.resource;
	mid integer;
BEGIN
	SELECT * INTO r FROM pubdata.resource x WHERE x.code OPERATOR(pg_catalog.=) $1;
	IF NOT FOUND OR pubdata._catalog_sight(r.id) IS NULL THEN
		RAISE EXCEPTION 'resource "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pubdata.is_admin() AND pubdata.department_of(pubdata.caller()) IS DISTINCT FROM r.provider_id THEN
		RAISE EXCEPTION 'permission denied to define masks of resource "%"', $1 USING ERRCODE = 'insufficient_privilege',
			HINT = 'The provider of the resource defines its masks.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pubdata.resource_item i WHERE i.resource_id OPERATOR(pg_catalog.=) r.id
					AND i.column_name OPERATOR(pg_catalog.=) $2 AND i.state OPERATOR(pg_catalog.<>) 'dropped') THEN
		RAISE EXCEPTION 'resource "%" has no item "%"', $1, $2 USING ERRCODE = 'undefined_column';
	END IF;
	IF $3 IS NULL OR $3 !~ '^[a-z][a-z0-9_]{0,62}$' THEN
		RAISE EXCEPTION 'invalid mask name "%"', $3 USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use lower-case letters, digits and "_", starting with a letter.';
	END IF;
	IF EXISTS (SELECT 1 FROM pubdata.custom_mask c WHERE c.resource_id OPERATOR(pg_catalog.=) r.id
				AND c.column_name OPERATOR(pg_catalog.=) $2 AND c.name OPERATOR(pg_catalog.=) $3) THEN
		RAISE EXCEPTION 'mask "%" of item "%" already exists', $3, $2 USING ERRCODE = 'duplicate_object',
			HINT = 'A mask is never redefined (grants keep what was approved): give the new one another name.';
	END IF;
	PERFORM pubdata._check_mask_expression(r.relation, $2::name, $4);
	INSERT INTO pubdata.custom_mask (resource_id, column_name, name, expression, defined_by)
	VALUES (r.id, $2, $3, $4, pubdata.caller()) RETURNING id INTO mid;
	RETURN mid;
END
$$;
COMMENT ON FUNCTION pubdata.define_mask(text, text, text, text) IS
	'The provider defines a mask of an item as an SQL expression over it; requests name it as "custom:<name>"';

-- _check_masks(resource, items, masks): the masks a request or a scenario asks
-- for are a JSON object of items (requested ones) and mask rules that apply
-- to the items' types
CREATE OR REPLACE FUNCTION pubdata._check_masks(resource_id bigint, items text[], masks jsonb) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	k text;
	v jsonb;
	a record;
	why text;
BEGIN
	IF $3 IS NULL THEN
		RETURN;
	END IF;
	IF pg_catalog.jsonb_typeof($3) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'masks must be a JSON object of items and mask rules' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'For example {"id_number": "id_card", "name": "name", "birth_date": "year"}.';
	END IF;
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each($3) LOOP
		SELECT t.atttypid, t.atttypmod INTO a
		  FROM pubdata.resource_item i JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) i.resource_id
		  JOIN pg_catalog.pg_attribute t ON t.attrelid OPERATOR(pg_catalog.=) r.relation::pg_catalog.oid
									   AND t.attname OPERATOR(pg_catalog.=) i.column_name
		 WHERE i.resource_id OPERATOR(pg_catalog.=) $1 AND i.column_name OPERATOR(pg_catalog.=) k
		   AND i.state OPERATOR(pg_catalog.<>) 'dropped' AND NOT t.attisdropped;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'masks name "%", which is not an item of the resource', k USING ERRCODE = 'undefined_column',
				HINT = 'See SELECT column_name, title FROM pubdata.resource_item.';
		END IF;
		IF $2 IS NOT NULL AND NOT k OPERATOR(pg_catalog.=) ANY ($2) THEN
			RAISE EXCEPTION 'masked item "%" is not among the items requested', k USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Name the item in items => ARRAY[...] too.';
		END IF;
		IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'string'
		   AND (v OPERATOR(pg_catalog.#>>) '{}') LIKE 'custom:%' THEN
			IF NOT EXISTS (SELECT 1 FROM pubdata.custom_mask c WHERE c.resource_id OPERATOR(pg_catalog.=) $1
							AND c.column_name OPERATOR(pg_catalog.=) k
							AND c.name OPERATOR(pg_catalog.=) pg_catalog.substr(v OPERATOR(pg_catalog.#>>) '{}', 8)) THEN
				RAISE EXCEPTION 'item "%" has no mask "%"', k, v OPERATOR(pg_catalog.#>>) '{}' USING ERRCODE = 'undefined_object',
					HINT = 'See SELECT column_name, name, expression FROM pubdata.custom_mask; the provider defines masks with pubdata.define_mask().';
			END IF;
			CONTINUE;
		END IF;
		IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string'
		   OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
						   WHERE e.enumtypid OPERATOR(pg_catalog.=) 'pubdata.mask_rule'::pg_catalog.regtype
							 AND e.enumlabel OPERATOR(pg_catalog.=) (v OPERATOR(pg_catalog.#>>) '{}')
							 AND e.enumlabel OPERATOR(pg_catalog.<>) 'none') THEN
			RAISE EXCEPTION 'invalid mask % for item "%"', v, k USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Use one of id_card, name, phone, email, pseudonym, redact, year, month, or custom:<name> of a mask the provider defined.';
		END IF;
		why := pubdata._mask_applies(v OPERATOR(pg_catalog.#>>) '{}', a.atttypid, a.atttypmod);
		IF why IS NOT NULL THEN
			RAISE EXCEPTION 'mask "%" does not apply to item "%" (type %): %', v OPERATOR(pg_catalog.#>>) '{}', k,
				pg_catalog.format_type(a.atttypid, a.atttypmod), why USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION pubdata._check_masks(bigint, text[], jsonb) IS 'Internal: validate the masked items of a request or scenario';

CREATE OR REPLACE FUNCTION pubdata._mask_applies(rule text, type oid, typmod integer) RETURNS text
	AS 'MODULE_PATHNAME', 'pubdata_mask_applies' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION pubdata._mask_applies(text, oid, integer) IS 'Internal: NULL if a grant may give an item of this type under this mask rule, else why not';

-- _grant_mask(value, relation, attnum, reader): a column of a relation a
-- department reads with masked grants, as the executor's grant choice
-- delivers it (src/mask.c); runs as the reader, in every such query
CREATE OR REPLACE FUNCTION pubdata._grant_mask(value anyelement, relation oid, attnum smallint, reader oid) RETURNS anyelement
	AS 'MODULE_PATHNAME', 'pubdata_grant_mask' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION pubdata._grant_mask(anyelement, oid, smallint, oid) IS 'A column read under masked grants, clear or masked as the executor''s grant choice for the running statement says; evaluated per row';
