-- Trap kit: pubdata never plans, reads or runs anything a department controls
-- with more rights than that department has.
--
-- A department (the planter, regress_trap_prov) plants payloads everywhere
-- PostgreSQL may run its code: index expressions and partial-index predicates
-- of IMMUTABLE functions (constant-folded whenever a query is planned or an
-- index opened for writing), operators and functions of its own schema found
-- through a search_path it sets with set_config(..., true), domain checks,
-- column defaults, generated columns, CHECK constraints (also folded), row,
-- statement and deferred triggers, rules, views and casts.  Every payload
-- records where it ran, as whom and during what, in trap.hits.  Then every
-- pubdata function and worker path that touches the planter's tables is
-- exercised: by the planter, by other departments (with a grant, with a
-- row-scoped grant, without one), by the bureau, by an open-data reader, by
-- the auditor and by a superuser where the bureau would run it.
--
-- Allowed: a payload runs as the planter, or as the role that itself read the
-- planter's table or view with its own rights (a plain SELECT, COPY TO STDOUT
-- or cursor: trap.via 'direct:<that role>').  Never as a superuser,
-- pubdata_admin, the extension owner or any third role.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_trap_admin IN ROLE pubdata_admin;		-- the bureau
CREATE ROLE regress_trap_prov;								-- the planter
CREATE ROLE regress_trap_user;								-- whole columns, and a copy grant
CREATE ROLE regress_trap_scoped;							-- the rows of one region
CREATE ROLE regress_trap_other;								-- no grant (then a scenario)
CREATE ROLE regress_trap_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_trap_reader IN ROLE pubdata_open_reader;	-- a BI tool
CREATE ROLE regress_trap_partner;							-- named reader of a conditional dataset
CREATE SCHEMA trap;
CREATE SCHEMA trapprov AUTHORIZATION regress_trap_prov;
CREATE SCHEMA trapuser AUTHORIZATION regress_trap_user;
GRANT USAGE ON SCHEMA trap, trapprov TO PUBLIC;

-- Where payloads ran: anyone may add a row, nobody but the test reads them
CREATE TABLE trap.hits (
	place		text NOT NULL,
	ran_as		name NOT NULL,
	session_as	name NOT NULL,
	via			text,		-- what the test was exercising (trap.via; NULL in a worker)
	backend		text,
	at			timestamptz NOT NULL DEFAULT clock_timestamp()
);
GRANT INSERT ON trap.hits TO PUBLIC;
-- the kind of process (client backend, pubdata job worker), which a role may
-- not see of a session whose session user is another role
CREATE FUNCTION trap.backend() RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT a.backend_type FROM pg_stat_activity a WHERE a.pid = pg_backend_pid() $$;
CREATE FUNCTION trap.log(place text) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY INVOKER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	INSERT INTO trap.hits (place, ran_as, session_as, via, backend)
	VALUES (place, current_user, session_user, current_setting('trap.via', true), trap.backend());
	RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION trap.log(text), trap.backend() TO PUBLIC;
-- the test's step marker: what is being exercised, and every planted index
-- expression and predicate to be folded again by the next planning
CREATE PROCEDURE trap.step(label text) LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_catalog.set_config('trap.via', label, false);
	PERFORM trapprov.refold();
END
$$;
GRANT EXECUTE ON PROCEDURE trap.step(text) TO PUBLIC;
RESET client_min_messages;

SET ROLE regress_trap_admin;
SELECT pubdata.add_department('trapprov', '陷阱局', '331100', 'administrative', 'regress_trap_prov') > 0 AS added;
SELECT pubdata.add_department('trapuser', '用数局', '331100', 'administrative', 'regress_trap_user') > 0 AS added;
SELECT pubdata.add_department('trapscoped', '莲都区用数局', '331102', 'administrative', 'regress_trap_scoped') > 0 AS added;
SELECT pubdata.add_department('trapother', '他局', '331100', 'administrative', 'regress_trap_other') > 0 AS added;
SELECT pubdata.add_data_element('TRAP-EL', '陷阱人员编号') > 0 AS added;
RESET ROLE;

--
-- The planter's payloads
--
SET ROLE regress_trap_prov;
SET trap.via = 'planter';
-- p(place): record, then make whoever runs next in this transaction find the
-- planter's operators and functions first
CREATE FUNCTION trapprov.p(place text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'trapprov, pg_catalog, pg_temp', true);
	RETURN trap.log(place);
END
$$;
-- the same behind IMMUTABLE functions, which the planner folds
CREATE FUNCTION trapprov.p_imm(place text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN trapprov.p(place);
END
$$;
CREATE FUNCTION trapprov.t_imm(place text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	PERFORM trapprov.p(place);
	RETURN '';
END
$$;
CREATE FUNCTION trapprov.t(place text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM trapprov.p(place);
	RETURN 'x';
END
$$;
CREATE FUNCTION trapprov.trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM trapprov.p(TG_ARGV[0]);
	IF TG_LEVEL OPERATOR(pg_catalog.=) 'ROW' AND TG_WHEN OPERATOR(pg_catalog.=) 'BEFORE' THEN
		IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
			RETURN OLD;
		END IF;
		RETURN NEW;
	END IF;
	RETURN NULL;
END
$$;
-- a domain whose check is the planter's
CREATE FUNCTION trapprov.code_ok(v text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RETURN trapprov.p('domain check');
END
$$;
CREATE DOMAIN trapprov.code AS text DEFAULT trapprov.t('domain default')
	CHECK (trapprov.code_ok(VALUE)) CHECK (trapprov.p_imm('domain check, folded'));
-- an enum with casts of the planter's to and from text
CREATE TYPE trapprov.kind AS ENUM ('a', 'b');
CREATE FUNCTION trapprov.kind_text(k trapprov.kind) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM trapprov.p('cast kind to text');
	RETURN pg_catalog.textin(pg_catalog.enum_out(k));
END
$$;
CREATE CAST (trapprov.kind AS text) WITH FUNCTION trapprov.kind_text(trapprov.kind);
CREATE FUNCTION trapprov.text_kind(v text) RETURNS trapprov.kind LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	k trapprov.kind;
BEGIN
	PERFORM trapprov.p('cast text to kind');
	EXECUTE pg_catalog.format('SELECT %L::trapprov.kind', v) INTO k;
	RETURN k;
END
$$;
CREATE CAST (text AS trapprov.kind) WITH FUNCTION trapprov.text_kind(text);
-- operators and functions that shadow pg_catalog's once search_path is set
CREATE FUNCTION trapprov.int8eq(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM trap.log('operator =(bigint, bigint) by search_path');
	RETURN pg_catalog.int8eq(a, b);
END
$$;
CREATE OPERATOR trapprov.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = trapprov.int8eq);
CREATE FUNCTION trapprov.int4eq(a integer, b integer) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM trap.log('operator =(integer, integer) by search_path');
	RETURN pg_catalog.int4eq(a, b);
END
$$;
CREATE OPERATOR trapprov.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = trapprov.int4eq);
CREATE FUNCTION trapprov.texteq(a text, b text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM trap.log('operator =(text, text) by search_path');
	RETURN pg_catalog.texteq(a, b);
END
$$;
CREATE OPERATOR trapprov.= (LEFTARG = text, RIGHTARG = text, FUNCTION = trapprov.texteq);
CREATE FUNCTION trapprov.oideq(a oid, b oid) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM trap.log('operator =(oid, oid) by search_path');
	RETURN pg_catalog.oideq(a, b);
END
$$;
CREATE OPERATOR trapprov.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = trapprov.oideq);
CREATE FUNCTION trapprov.now() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM trap.log('function now() by search_path');
	RETURN pg_catalog.now();
END
$$;
-- the test's helper: forget the folded index expressions and predicates of
-- the planter's indexes (as PostgreSQL does after any change of an index), so
-- that the next query that plans them folds them again
CREATE FUNCTION trapprov.refold() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	i regclass;
BEGIN
	FOR i IN SELECT x.indexrelid::regclass FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
			  WHERE c.relnamespace = 'trapprov'::regnamespace AND (x.indexprs IS NOT NULL OR x.indpred IS NOT NULL)
			  ORDER BY 1
	LOOP
		EXECUTE format('ALTER INDEX %s SET (fillfactor = 90)', i);
	END LOOP;
END
$$;

-- the restricted resource: key, personal and non-shared items, a region for row scopes
CREATE TABLE trapprov.person (
	id			integer PRIMARY KEY,
	name		text,
	id_card		text,
	region		text,
	code		trapprov.code,
	kind		trapprov.kind,
	born		date,
	phone		text,
	uscc		text,
	note		text DEFAULT trapprov.t('person: column default') CHECK (trapprov.p('person: check constraint'))
);
CREATE INDEX person_name ON trapprov.person ((name || trapprov.t_imm('person: index expression')));
CREATE INDEX person_region ON trapprov.person (region) WHERE trapprov.p_imm('person: partial index predicate');
CREATE TRIGGER person_row BEFORE INSERT OR UPDATE ON trapprov.person
	FOR EACH ROW EXECUTE FUNCTION trapprov.trg('person: trigger');
INSERT INTO trapprov.person (id, name, id_card, region, code, kind, born, phone, uscc) VALUES
	(1, '张三', '110105194912310021', '331102', 'c1', 'a', '1990-01-01', '13800000001', '91331100MA2A000001'),
	(2, '李四', '331102198001010019', '331121', 'c2', 'b', '1980-01-01', '13800000002', 'not-a-code'),
	(3, '王五', 'bad', '331102', 'c3', 'a', '2999-01-01', '123', NULL);
UPDATE trapprov.person SET kind = ('a'::text)::trapprov.kind WHERE id = 3;

-- an unconditional resource read by every department
CREATE TABLE trapprov.station (code text PRIMARY KEY, name text, kind trapprov.kind);
CREATE INDEX station_name ON trapprov.station ((name || trapprov.t_imm('station: index expression')));
INSERT INTO trapprov.station VALUES ('S1', '一所', 'a'), ('S2', '二所', 'b');

-- open data: a table (masked and cast items) and a view, open to all; a conditional one
CREATE TABLE trapprov.opendata (id integer PRIMARY KEY, name text, kind trapprov.kind, code trapprov.code, amount integer);
CREATE INDEX opendata_name ON trapprov.opendata ((name || trapprov.t_imm('opendata: index expression')));
CREATE INDEX opendata_amount ON trapprov.opendata (amount) WHERE trapprov.p_imm('opendata: partial index predicate');
INSERT INTO trapprov.opendata VALUES (1, '张三丰', 'a', 'c1', 10), (2, '李四', 'b', 'c2', 20);
CREATE VIEW trapprov.openview AS SELECT o.id, trapprov.t('openview: view') AS v FROM trapprov.opendata o;
CREATE TABLE trapprov.opencond (id integer PRIMARY KEY, kind trapprov.kind);
CREATE INDEX opencond_kind ON trapprov.opencond ((trapprov.t_imm('opencond: index expression') || id));
INSERT INTO trapprov.opencond VALUES (1, 'a');

-- references for quality rules: a table and a view
CREATE TABLE trapprov.ref (region text PRIMARY KEY);
CREATE INDEX ref_region ON trapprov.ref ((region || trapprov.t_imm('ref: index expression')));
INSERT INTO trapprov.ref VALUES ('331102'), ('331121');
CREATE VIEW trapprov.refview AS SELECT r.region FROM trapprov.ref r WHERE trapprov.p('refview: view');

-- the pool an aggregation job writes: every kind of code that runs on a write
CREATE TABLE trapprov.pool (
	id			integer PRIMARY KEY,
	v			text,
	code		trapprov.code,
	run_id		bigint,
	loaded		text DEFAULT trapprov.t('pool: column default'),
	extra		trapprov.code,
	gen			text GENERATED ALWAYS AS (v || trapprov.t_imm('pool: generated column')) STORED,
	CHECK (trapprov.p('pool: check constraint')),
	CHECK (trapprov.p_imm('pool: check constraint, folded'))
);
CREATE INDEX pool_v ON trapprov.pool ((v || trapprov.t_imm('pool: index expression')));
CREATE INDEX pool_code ON trapprov.pool (code) WHERE trapprov.p_imm('pool: partial index predicate');
CREATE TRIGGER pool_row BEFORE INSERT OR UPDATE OR DELETE ON trapprov.pool
	FOR EACH ROW EXECUTE FUNCTION trapprov.trg('pool: row trigger');
CREATE TRIGGER pool_statement AFTER INSERT ON trapprov.pool
	FOR EACH STATEMENT EXECUTE FUNCTION trapprov.trg('pool: statement trigger');
CREATE CONSTRAINT TRIGGER pool_deferred AFTER INSERT ON trapprov.pool DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION trapprov.trg('pool: deferred trigger');
CREATE RULE pool_rule AS ON DELETE TO trapprov.pool DO ALSO SELECT trapprov.p('pool: rule');

-- registration and description, each index expression and predicate to be folded anew
CALL trap.step('register_resource, set_item, update_resource, declare_element (planter)');
SELECT pubdata.register_resource('trapprov.person', 'TRAP-PERSON', '陷阱人员', 'trapprov', 'restricted', 'not_open', 'daily', 3) > 0 AS registered;
SELECT pubdata.set_item('TRAP-PERSON', 'id', '编号', is_key => true) IS NOT NULL AS described;
SELECT pubdata.set_item('TRAP-PERSON', 'name', '姓名', personal => 'personal') IS NOT NULL AS described;
SELECT pubdata.set_item('TRAP-PERSON', 'id_card', '身份证号', personal => 'sensitive') IS NOT NULL AS described;
SELECT pubdata.set_item('TRAP-PERSON', 'phone', '电话', personal => 'personal', share_class => 'non_shared') IS NOT NULL AS described;
SELECT pubdata.update_resource('TRAP-PERSON', summary => '陷阱') IS NOT NULL AS updated;
SELECT pubdata.declare_element('TRAP-PERSON', 'TRAP-EL', 'id', authoritative => true) IS NOT NULL AS declared;
SELECT pubdata.register_resource('trapprov.station', 'TRAP-STATION', '陷阱所', 'trapprov', 'unconditional', 'not_open', 'monthly', 1) > 0 AS registered;
SELECT pubdata.register_resource('trapprov.opendata', 'TRAP-OPEN', '陷阱开放', 'trapprov', 'unconditional', 'open', 'monthly', 1) > 0 AS registered;
SELECT pubdata.set_item('TRAP-OPEN', 'name', '姓名', personal => 'personal', mask => 'name') IS NOT NULL AS described;
SELECT pubdata.register_resource('trapprov.openview', 'TRAP-OPENVIEW', '陷阱开放视图', 'trapprov', 'unconditional', 'open', 'monthly', 1) > 0 AS registered;
SELECT pubdata.register_resource('trapprov.opencond', 'TRAP-OPENCOND', '陷阱有条件开放', 'trapprov', 'unconditional', 'conditional', 'monthly', 1) > 0 AS registered;
SELECT pubdata.register_resource('trapprov.ref', 'TRAP-REF', '陷阱区划', 'trapprov', 'unconditional', 'not_open', 'annual', 1) > 0 AS registered;
SELECT pubdata.register_resource('trapprov.refview', 'TRAP-REFVIEW', '陷阱区划视图', 'trapprov', 'unconditional', 'not_open', 'annual', 1) > 0 AS registered;
RESET ROLE;
CALL trap.step('register_resource (superuser)');
SELECT pubdata.register_resource('trapprov.pool', 'TRAP-POOL', '陷阱汇总', 'trapprov', 'unconditional', 'not_open', 'daily', 1) > 0 AS registered;
SET ROLE regress_trap_prov;
CALL trap.step('submit_resource (planter)');
SELECT pubdata.submit_resource(c) IS NOT NULL AS submitted
  FROM unnest(ARRAY['TRAP-PERSON', 'TRAP-STATION', 'TRAP-OPEN', 'TRAP-OPENVIEW', 'TRAP-OPENCOND', 'TRAP-REF', 'TRAP-REFVIEW', 'TRAP-POOL']) c;
RESET ROLE;
RESET trap.via;
-- the planter's own writes above ran its code as itself
SELECT count(*) > 0 AS planter_payloads_ran FROM trap.hits WHERE ran_as = 'regress_trap_prov';


--
-- The catalog workflow: the bureau, and a superuser
--
SET ROLE regress_trap_admin;
CALL trap.step('review_resource, publish_resource (bureau)');
SELECT pubdata.review_resource(c, true) IS NOT NULL AS reviewed, pubdata.publish_resource(c) IS NOT NULL AS published
  FROM unnest(ARRAY['TRAP-PERSON', 'TRAP-STATION', 'TRAP-OPEN', 'TRAP-OPENVIEW', 'TRAP-OPENCOND', 'TRAP-REF']) c;
RESET ROLE;
CALL trap.step('review_resource, publish_resource (superuser)');
SELECT pubdata.review_resource(c, true) IS NOT NULL AS reviewed, pubdata.publish_resource(c) IS NOT NULL AS published
  FROM unnest(ARRAY['TRAP-REFVIEW', 'TRAP-POOL']) c;
SET ROLE regress_trap_prov;
CALL trap.step('allow_open_reader (planter)');
SELECT pubdata.allow_open_reader('TRAP-OPENCOND', 'regress_trap_partner') IS NOT NULL AS allowed;
CALL trap.step('set_item on a published open resource (planter)');
SELECT pubdata.set_item('TRAP-OPEN', 'amount', '金额') IS NOT NULL AS described;
RESET ROLE;
SET ROLE regress_trap_prov;
CALL trap.step('register_project (planter), approve_project (bureau)');
SELECT pubdata.register_project('TRAP-PRJ', '陷阱项目', ARRAY['TRAP-PERSON', 'TRAP-POOL']) > 0 AS registered;
RESET ROLE;
SET ROLE regress_trap_admin;
SELECT count(*) AS approved FROM pubdata.approve_project('TRAP-PRJ');
RESET ROLE;

--
-- Sharing: requests, decisions, copies, scenarios, revocation, expiry
--
SET ROLE regress_trap_user;
CALL trap.step('request_share (user)');
SELECT pubdata.request_share('TRAP-PERSON', 'trap: whole columns', ARRAY['id', 'name', 'region', 'code', 'kind', 'born'], mode => 'copy') AS req_user \gset
SELECT pubdata.request_share('TRAP-PERSON', 'trap: to be revoked', ARRAY['id']) AS req_revoke \gset
SELECT pubdata.request_share('TRAP-STATION', 'trap: unconditional') > 0 AS requested;
RESET ROLE;
SET ROLE regress_trap_scoped;
CALL trap.step('request_share (scoped)');
SELECT pubdata.request_share('TRAP-PERSON', 'trap: one region', ARRAY['id', 'name', 'region', 'kind']) AS req_scoped \gset
RESET ROLE;
SET ROLE regress_trap_other;
CALL trap.step('request_share (other)');
SELECT pubdata.request_share('TRAP-PERSON', 'trap: refused', ARRAY['id']) AS req_refused \gset
SELECT pubdata.request_share('TRAP-PERSON', 'trap: expiring', ARRAY['id', 'region']) AS req_expiring \gset
CALL trap.step('add_scenario, add_scenario_resource (other)');
SELECT pubdata.add_scenario('TRAP-SC', '陷阱场景', 'trap scenario', ARRAY['trapother']) > 0 AS proposed;
SELECT pubdata.add_scenario_resource('TRAP-SC', 'TRAP-PERSON', ARRAY['id', 'region']) IS NOT NULL AS added;
RESET ROLE;
SET ROLE regress_trap_prov;
CALL trap.step('decide_share (planter)');
SELECT pubdata.decide_share(:req_user, true) IS NOT NULL AS decided;
SELECT pubdata.decide_share(:req_revoke, true) IS NOT NULL AS decided;
SELECT pubdata.decide_share(:req_scoped, true, row_scope => '{"region": "331102", "kind": "a"}') IS NOT NULL AS decided;
SELECT pubdata.decide_share(:req_refused, false, 'trap: not needed') IS NOT NULL AS decided;
SELECT pubdata.decide_share(:req_expiring, true, row_scope => '{"region": ["331102", "331121"]}') IS NOT NULL AS decided;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('approve_copy, approve_scenario (bureau)');
SELECT pubdata.approve_copy(:req_user, true) IS NOT NULL AS approved;
SELECT pubdata.approve_scenario('TRAP-SC') IS NOT NULL AS approved;
RESET ROLE;
SET ROLE regress_trap_other;
CALL trap.step('request_share under an approved scenario (other)');
SELECT pubdata.request_share('TRAP-PERSON', 'trap: scenario', ARRAY['id'], scenario => 'TRAP-SC') > 0 AS requested;
RESET ROLE;
SET ROLE regress_trap_prov;
CALL trap.step('revoke_share (planter)');
SELECT pubdata.revoke_share(:req_revoke, 'trap: revoked') IS NOT NULL AS revoked;
RESET ROLE;
UPDATE pubdata.share_request SET expires_at = now() - interval '1 second' WHERE id = :req_expiring;
SET ROLE regress_trap_admin;
CALL trap.step('sweep_grants (bureau)');
SELECT pubdata.sweep_grants() >= 0 AS swept;
RESET ROLE;
CALL trap.step('sweep_grants (superuser)');
SELECT pubdata.sweep_grants() >= 0 AS swept;

--
-- Reads by the departments themselves, with their own rights
--
SET ROLE regress_trap_user;
CALL trap.step('direct:regress_trap_user');
SELECT id, name, region, code, kind FROM trapprov.person WHERE name || '' <> '' ORDER BY id;
COPY (SELECT id, region FROM trapprov.person ORDER BY id) TO STDOUT;
COPY trapprov.person (id) TO STDOUT;
BEGIN;
DECLARE trap_cursor CURSOR FOR SELECT id, kind FROM trapprov.person WHERE region = '331102' ORDER BY id;
FETCH 2 FROM trap_cursor;
CLOSE trap_cursor;
COMMIT;
SELECT code, name FROM trapprov.station ORDER BY code;
SELECT count(*) AS refview_rows FROM trapprov.refview;
CREATE TABLE trapuser.copied AS SELECT id, name FROM trapprov.person;
INSERT INTO trapuser.copied SELECT id, name FROM trapprov.person WHERE id = 1;
RESET ROLE;
SET ROLE regress_trap_scoped;
CALL trap.step('direct:regress_trap_scoped');
SELECT id, name, region, kind FROM trapprov.person ORDER BY id;
RESET ROLE;
SET ROLE regress_trap_other;
CALL trap.step('direct:regress_trap_other');
SELECT id FROM trapprov.person ORDER BY id;
SELECT name FROM trapprov.person;
RESET ROLE;
-- masked grants: the planter's own mask is parsed as the planter; the reader's
-- query runs the masks with the reader's rights
SET ROLE regress_trap_prov;
CALL trap.step('define_mask (planter)');
SELECT pubdata.define_mask('TRAP-PERSON', 'name', 'initial', $$left(name, 1)$$) > 0 AS defined;
RESET ROLE;
SET ROLE regress_trap_other;
CALL trap.step('request_share with masks (other)');
SELECT pubdata.request_share('TRAP-PERSON', 'trap: masked', ARRAY['id', 'name', 'born', 'kind'],
	masks => '{"name": "custom:initial", "born": "year", "kind": "redact"}') AS req_masked \gset
RESET ROLE;
SET ROLE regress_trap_prov;
CALL trap.step('decide_share masked (planter)');
SELECT pubdata.decide_share(:req_masked, true) IS NOT NULL AS decided;
RESET ROLE;
SET ROLE regress_trap_other;
CALL trap.step('direct:regress_trap_other');
SELECT id, name, born, kind FROM trapprov.person ORDER BY id;
RESET ROLE;
-- the planter's COMMENT ON COLUMN, its operators first on the search path:
-- pubdata's event trigger puts the mask line back as the extension owner
SET ROLE regress_trap_prov;
CALL trap.step('COMMENT ON COLUMN of a masked item (planter)');
BEGIN;
SELECT set_config('search_path', 'trapprov, pg_catalog, pg_temp', true) IS NOT NULL AS shadowed;
COMMENT ON COLUMN trapprov.person.name IS '陷阱姓名';
COMMIT;
SELECT col_description('trapprov.person'::regclass, a.attnum) AS comment
  FROM pg_attribute a WHERE a.attrelid = 'trapprov.person'::regclass AND a.attname = 'name';
RESET ROLE;

--
-- Objections (Art 13)
--
SET ROLE regress_trap_scoped;
CALL trap.step('raise_objection (scoped)');
SELECT pubdata.raise_objection('TRAP-PERSON', '{"id": 1}', 'name', 'trap: 姓名有误') AS obj_scoped \gset
-- a key that is not a key item is refused before anything is read (its
-- conversion would have run the planter's cast)
SELECT pubdata.raise_objection('TRAP-PERSON', '{"kind": "a"}', 'kind', 'trap: 类别有误') > 0 AS raised;
CALL trap.step('under_verification (scoped)');
SELECT pubdata.under_verification('TRAP-PERSON', '{"id": 1}') AS under_verification;
CALL trap.step('open_objection (scoped)');
SELECT resource, record_key FROM pubdata.open_objection WHERE resource = 'TRAP-PERSON' ORDER BY id;
RESET ROLE;
SET ROLE regress_trap_user;
CALL trap.step('raise_objection (user)');
SELECT pubdata.raise_objection('TRAP-PERSON', '{"id": 2}', NULL, 'trap: 记录有误') AS obj_user \gset
CALL trap.step('under_verification (user)');
SELECT pubdata.under_verification('TRAP-PERSON', '{"kind": "b"}') AS under_verification;
RESET ROLE;
SET ROLE regress_trap_prov;
CALL trap.step('acknowledge_objection, resolve_objection (planter)');
SELECT pubdata.acknowledge_objection(:obj_scoped) IS NOT NULL AS acknowledged;
SELECT pubdata.resolve_objection(:obj_scoped, 'corrected', 'trap: 已更正', '{"id": 1}') IS NOT NULL AS resolved;
SELECT pubdata.resolve_objection(:obj_user, 'confirmed_correct', 'trap: 无误') IS NOT NULL AS resolved;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('under_verification, sweep_objections (bureau)');
SELECT pubdata.under_verification('TRAP-PERSON', '{"id": 1}') AS under_verification;
SELECT pubdata.sweep_objections() >= 0 AS swept;
RESET ROLE;
CALL trap.step('sweep_objections (superuser)');
SELECT pubdata.sweep_objections() >= 0 AS swept;
SET ROLE regress_trap_auditor;
CALL trap.step('under_verification, open_objection (auditor)');
SELECT pubdata.under_verification('TRAP-PERSON', '{"kind": "a"}') AS under_verification;
SELECT count(*) >= 1 AS open_objections FROM pubdata.open_objection WHERE resource = 'TRAP-PERSON';
RESET ROLE;

--
-- Quality: every rule kind, measurement, the rule trigger, a scheduled measurement
--
SET ROLE regress_trap_prov;
CALL trap.step('add_quality_rule (planter)');
SELECT count(*) AS rules FROM (VALUES
	(pubdata.add_quality_rule('TRAP-PERSON', 'name', 'not_null')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'id', 'unique')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'region', 'pattern', '{"regex": "^[0-9]{6}$"}')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'id', 'range', '{"min": 0, "max": 100}')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'code', 'range', '{"min": "c0", "max": "c9"}')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'code', 'allowed_values', '{"values": ["c1", "c2"]}')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'kind', 'allowed_values', '{"values": ["a"]}')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'id_card', 'id_card')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'uscc', 'uscc')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'phone', 'mobile')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'born', 'date_not_future')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'region', 'reference', '{"resource": "TRAP-REF", "item": "region"}')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'region', 'reference', '{"resource": "TRAP-REFVIEW", "item": "region"}')),
	(pubdata.add_quality_rule('TRAP-PERSON', 'born', 'freshness', '{"grace": "1 day"}')),
	(pubdata.add_quality_rule('TRAP-PERSON', NULL, 'freshness')),
	(pubdata.add_quality_rule('TRAP-PERSON', NULL, 'custom', '{"expression": "trapprov.p(''person: custom rule'') AND id > 0"}')),
	(pubdata.add_quality_rule('TRAP-PERSON', NULL, 'custom', '{"expression": "trapprov.p_imm(''person: custom rule, folded'')"}'))
) AS r(id) WHERE id > 0;
CALL trap.step('measure_quality (planter)');
SELECT pubdata.measure_quality('TRAP-PERSON') > 0 AS measured;
CALL trap.step('set_quality_rule, enable_quality_trigger (planter)');
SELECT pubdata.set_quality_rule(q.id, 'flag') IS NOT NULL AS flagged FROM pubdata.quality_rule q
 WHERE q.resource_id = pubdata.resource_id('TRAP-PERSON') AND q.kind = 'not_null';
SELECT pubdata.enable_quality_trigger('TRAP-PERSON') IS NOT NULL AS enabled;
CALL trap.step('quality_check_trigger (planter writes)');
SET client_min_messages = error;	-- the rules' warnings name rule ids
INSERT INTO trapprov.person (id, name, region, code, kind) VALUES (4, NULL, '331102', 'c1', 'a');
UPDATE trapprov.person SET born = '2000-01-01' WHERE id = 4;
RESET client_min_messages;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('measure_quality (bureau)');
SELECT pubdata.measure_quality('TRAP-PERSON') > 0 AS measured;
CALL trap.step('add_quality_rule (bureau)');
SELECT pubdata.add_quality_rule('TRAP-POOL', 'v', 'not_null') > 0 AS added;
SELECT pubdata.measure_quality('TRAP-POOL') > 0 AS measured;
RESET ROLE;
CALL trap.step('measure_quality (superuser)');
SELECT pubdata.measure_quality('TRAP-PERSON') > 0 AS measured;
-- a department's own table with reference rules against the planter's table and view
SET ROLE regress_trap_user;
CALL trap.step('register_resource, add_quality_rule reference (user)');
CREATE TABLE trapuser.mine (id integer PRIMARY KEY, region text);
INSERT INTO trapuser.mine VALUES (1, '331102'), (2, '999999');
SELECT pubdata.register_resource('trapuser.mine', 'TRAP-MINE', '用数表', 'trapuser', 'non_shared', 'not_open', 'daily', 1,
	legal_basis => 'trap') > 0 AS registered;
SELECT pubdata.add_quality_rule('TRAP-MINE', 'region', 'reference', '{"resource": "TRAP-REF", "item": "region"}') > 0 AS added;
SELECT pubdata.add_quality_rule('TRAP-MINE', 'region', 'reference', '{"resource": "TRAP-REFVIEW", "item": "region"}', 'flag') > 0 AS added;
CALL trap.step('measure_quality (user, references)');
SELECT pubdata.measure_quality('TRAP-MINE') > 0 AS measured;
SELECT qr.rows_checked, qr.rows_failed FROM pubdata.quality_result qr JOIN pubdata.quality_rule q ON q.id = qr.rule_id
 WHERE q.resource_id = pubdata.resource_id('TRAP-MINE') ORDER BY q.id;
CALL trap.step('quality_check_trigger (user writes, references)');
SELECT pubdata.enable_quality_trigger('TRAP-MINE') IS NOT NULL AS enabled;
SET client_min_messages = error;
INSERT INTO trapuser.mine VALUES (3, '331121'), (4, '888888');
RESET client_min_messages;
RESET ROLE;
-- a scheduled measurement, run by the job worker
SET ROLE regress_trap_admin;
CALL trap.step('schedule_job quality, run_job_now (bureau; job worker)');
SELECT pubdata.schedule_job('quality', '1 day', resource => 'TRAP-PERSON') AS qjob \gset
SELECT pubdata.run_job_now(:qjob) > 0 AS ran;
SELECT status, error FROM pubdata.job_run WHERE job_id = :qjob;
SELECT pubdata.drop_job(:qjob) IS NOT NULL AS dropped;
CALL trap.step('schedule_job grant_sweep, objection_sweep, run_job_now (bureau; job worker)');
SELECT pubdata.schedule_job('grant_sweep', '1 day') AS gjob \gset
SELECT pubdata.run_job_now(:gjob) > 0 AS ran;
SELECT status, error FROM pubdata.job_run WHERE job_id = :gjob;
SELECT pubdata.drop_job(:gjob) IS NOT NULL AS dropped;
SELECT pubdata.schedule_job('objection_sweep', '1 day') AS ojob \gset
SELECT pubdata.run_job_now(:ojob) > 0 AS ran;
SELECT status, error FROM pubdata.job_run WHERE job_id = :ojob;
SELECT pubdata.drop_job(:ojob) IS NOT NULL AS dropped;
RESET ROLE;
CALL trap.step('schedule_job quality, run_job_now (superuser; job worker)');
SELECT pubdata.schedule_job('quality', '1 day', resource => 'TRAP-PERSON') AS qjob2 \gset
SELECT pubdata.run_job_now(:qjob2) > 0 AS ran;
SELECT status, error FROM pubdata.job_run WHERE job_id = :qjob2;
SELECT pubdata.drop_job(:qjob2) IS NOT NULL AS dropped;
SET ROLE regress_trap_prov;
CALL trap.step('schedule_job quality, run_job_now (planter; job worker)');
SELECT pubdata.schedule_job('quality', '1 day', resource => 'TRAP-PERSON', enabled => false) AS qjob3 \gset
SELECT run_as FROM pubdata.job WHERE id = :qjob3;
SELECT pubdata.run_job_now(:qjob3) > 0 AS ran;
SELECT status, error FROM pubdata.job_run WHERE job_id = :qjob3;
SELECT pubdata.drop_job(:qjob3) IS NOT NULL AS dropped;
RESET ROLE;

--
-- Aggregation into the pool, by the job worker
--
SET ROLE regress_trap_prov;
CALL trap.step('schedule_aggregation, run_job_now (planter; job worker)');
SELECT pubdata.schedule_aggregation('TRAP-POOL', 'SELECT id, name AS v, region AS code FROM trapprov.person',
	run_id_column => 'run_id', enabled => false) AS agg \gset
SELECT pubdata.alter_job(:agg, timeout => '10 minutes') IS NOT NULL AS altered;
SELECT pubdata.run_job_now(:agg) > 0 AS ran;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('run_job_now aggregation (bureau; job worker)');
SELECT pubdata.run_job_now(:agg) > 0 AS ran;
RESET ROLE;
CALL trap.step('run_job_now aggregation (superuser; job worker)');
SELECT pubdata.run_job_now(:agg) > 0 AS ran;
SELECT status, error, rows_written FROM pubdata.job_run WHERE job_id = :agg ORDER BY id;
SET ROLE regress_trap_prov;
CALL trap.step('direct:regress_trap_prov');
SELECT count(*) AS pool_rows, count(DISTINCT run_id) AS runs_kept FROM trapprov.pool;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('check_overdue (bureau)');
SELECT pubdata.check_overdue() >= 0 AS checked;
RESET ROLE;

--
-- Lineage
--
SET ROLE regress_trap_admin;
CALL trap.step('record_lineage, _record_view_lineage, lineage_compact (bureau)');
SELECT pubdata.record_lineage('trapprov.person', 'trapprov.pool', 'insert_select') IS NOT NULL AS recorded;
SELECT pubdata.record_lineage('county:331121/trap', 'trapprov.pool', 'aggregation') IS NOT NULL AS recorded;
SELECT pubdata._record_view_lineage('trapprov.refview') >= 0 AS recorded;
SELECT pubdata.lineage_compact() >= 0 AS compacted;
CALL trap.step('lineage_upstream, lineage_downstream, lineage_openlineage (bureau)');
SELECT count(*) > 0 AS upstream FROM pubdata.lineage_upstream('trapprov.pool');
SELECT count(*) > 0 AS downstream FROM pubdata.lineage_downstream('trapprov.person');
SELECT pubdata.lineage_openlineage('trapprov.pool') ? 'inputs' AS openlineage;
RESET ROLE;
SET ROLE regress_trap_prov;
CALL trap.step('lineage_upstream, lineage_openlineage, _record_view_lineage (planter)');
SELECT count(*) > 0 AS upstream FROM pubdata.lineage_upstream('trapprov.refview');
SELECT pubdata.lineage_openlineage('trapprov.openview') ? 'inputs' AS openlineage;
SELECT pubdata._record_view_lineage('trapprov.openview') >= 0 AS recorded;
RESET ROLE;
SET ROLE regress_trap_user;
CALL trap.step('lineage_downstream, lineage_openlineage (user)');
SELECT count(*) > 0 AS downstream FROM pubdata.lineage_downstream('trapprov.person');
SELECT pubdata.lineage_openlineage('trapuser.copied') ? 'inputs' AS openlineage;
RESET ROLE;
CALL trap.step('lineage_upstream (superuser)');
SELECT count(*) > 0 AS upstream FROM pubdata.lineage_upstream('trapprov.pool');
SET ROLE regress_trap_admin;
CALL trap.step('openlineage_publish, openlineage_events (bureau)');
SELECT pubdata.openlineage_publish() >= 0 AS published;
SELECT count(*) >= 0 AS events FROM pubdata.openlineage_events(0, 100);
RESET ROLE;

--
-- Open data: the views, the catalog, DCAT
--
SET ROLE regress_trap_reader;
CALL trap.step('pubdata_open views (open-data reader)');
SELECT * FROM pubdata_open.trap_open ORDER BY id;
SELECT * FROM pubdata_open.trap_open WHERE amount > 15;
SELECT * FROM pubdata_open.trap_openview ORDER BY id;
SELECT dataset_code, items FROM pubdata_open.catalog WHERE dataset_code LIKE 'TRAP-%' ORDER BY 1;
CALL trap.step('pubdata_open.dcat (open-data reader)');
SELECT jsonb_array_length(document->'dcat:dataset') > 0 AS has_datasets FROM pubdata_open.dcat;
RESET ROLE;
SET ROLE regress_trap_partner;
CALL trap.step('pubdata_open conditional view (named reader)');
SELECT * FROM pubdata_open.trap_opencond;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('pubdata_open views (bureau)');
SELECT count(*) AS rows FROM pubdata_open.trap_open;
SELECT count(*) AS rows FROM pubdata_open.trap_openview;
SELECT count(*) AS rows FROM pubdata_open.trap_opencond;
CALL trap.step('dcat_catalog, mask_value, rotate_pseudonym_key (bureau)');
SELECT pubdata.dcat_catalog() IS NOT NULL AS dcat;
SELECT pubdata.mask_value('张三丰', 'name') AS masked;
SELECT pubdata.rotate_pseudonym_key() IS NOT NULL AS rotated;
RESET ROLE;
SET ROLE regress_trap_prov;
CALL trap.step('disallow_open_reader, dcat_catalog (planter)');
SELECT pubdata.disallow_open_reader('TRAP-OPENCOND', 'regress_trap_partner') IS NOT NULL AS disallowed;
SELECT pubdata.dcat_catalog() IS NOT NULL AS dcat;
RESET ROLE;
-- the rows behind the views, asked for directly: only by a role that may read the view
SET ROLE regress_trap_prov;
CALL trap.step('allow_open_reader (planter)');
SELECT pubdata.allow_open_reader('TRAP-OPENCOND', 'regress_trap_user') IS NOT NULL AS allowed;
RESET ROLE;
SET ROLE regress_trap_user;
CALL trap.step('open_dataset_rows, _open_source called directly (user, a named reader)');
SELECT * FROM pubdata.open_dataset_rows(pubdata.resource_id('TRAP-OPENCOND')) AS r(id integer, kind text);
SELECT * FROM pubdata.open_dataset_rows(pubdata.resource_id('TRAP-OPEN')) AS r(id numeric);
SELECT * FROM pubdata.open_dataset_rows(pubdata.resource_id('TRAP-OPENCOND')) AS r(id text);
SELECT * FROM pubdata._open_source(pubdata.resource_id('TRAP-OPENCOND')) AS r(id numeric, kind text);
RESET ROLE;
CALL trap.step('pubdata_open views, dcat_catalog (superuser)');
SELECT count(*) AS rows FROM pubdata_open.trap_open;
SELECT count(*) AS rows FROM pubdata_open.trap_openview;
SELECT pubdata.dcat_catalog() IS NOT NULL AS dcat;

--
-- Evaluation, the catalog's history, the audit
--
SET ROLE regress_trap_admin;
CALL trap.step('evaluation, evaluation_report, catalog_as_of, verify_audit_chain (bureau)');
SELECT count(*) > 0 AS evaluated FROM pubdata.evaluation(current_date - 1, current_date + 1) WHERE department LIKE 'trap%';
SELECT pubdata.evaluation_report(current_date - 1, current_date + 1) ? 'departments' AS report;
SELECT count(*) > 0 AS entries FROM pubdata.catalog_as_of(now()) WHERE code LIKE 'TRAP-%';
SELECT (pubdata.verify_audit_chain()).ok AS audit_chain_ok;
SELECT count(*) > 0 AS quality_scores FROM pubdata.quality_score WHERE resource LIKE 'TRAP-%';
RESET ROLE;
SET ROLE regress_trap_auditor;
CALL trap.step('evaluation, access_log (auditor)');
SELECT count(*) > 0 AS evaluated FROM pubdata.evaluation(current_date - 1, current_date + 1);
SELECT count(*) > 0 AS reads_logged FROM pubdata.access_log WHERE resource LIKE '%TRAP-PERSON%';
RESET ROLE;
SET ROLE regress_trap_user;
CALL trap.step('catalog_as_of, resource_catalog, my_access_log (user)');
SELECT count(*) > 0 AS entries FROM pubdata.catalog_as_of(now()) WHERE code LIKE 'TRAP-%';
SELECT count(*) > 0 AS catalog FROM pubdata.resource_catalog WHERE code LIKE 'TRAP-%';
SELECT count(*) > 0 AS my_reads FROM pubdata.my_access_log;
RESET ROLE;
CALL trap.step('evaluation_report (superuser)');
SELECT pubdata.evaluation_report(current_date - 1, current_date + 1) ? 'departments' AS report;

--
-- Partitions: pubdata governs each partition of a registered table (as the
-- extension owner) at registration and whenever one is created, attached or
-- changed; a partition named directly is refused to anyone but the planter
--
SET ROLE regress_trap_prov;
SET trap.via = 'planter';
CREATE TABLE trapprov.parted (id integer, region text, note text DEFAULT trapprov.t('parted: column default'),
	CHECK (trapprov.p('parted: check constraint'))) PARTITION BY LIST (region);
CREATE TABLE trapprov.parted_a PARTITION OF trapprov.parted FOR VALUES IN ('331102');
CREATE INDEX parted_a_note ON trapprov.parted_a ((note || trapprov.t_imm('parted_a: index expression')));
CREATE INDEX parted_a_id ON trapprov.parted_a (id) WHERE trapprov.p_imm('parted_a: partial index predicate');
CREATE TRIGGER parted_a_row BEFORE INSERT OR UPDATE ON trapprov.parted_a
	FOR EACH ROW EXECUTE FUNCTION trapprov.trg('parted_a: trigger');
INSERT INTO trapprov.parted (id, region) VALUES (1, '331102');
CREATE TABLE trapprov.parted_c (id integer, region text, note text,
	CONSTRAINT parted_check CHECK (trapprov.p('parted: check constraint')));
CREATE INDEX parted_c_note ON trapprov.parted_c ((note || trapprov.t_imm('parted_c: index expression')));
CALL trap.step('partitioned table: register, create, attach, detach partitions (planter)');
SELECT pubdata.register_resource('trapprov.parted', 'TRAP-PARTED', '陷阱分区', 'trapprov', 'restricted', 'not_open', 'daily', 2) > 0 AS registered;
CREATE TABLE trapprov.parted_b PARTITION OF trapprov.parted FOR VALUES IN ('331121');
ALTER TABLE trapprov.parted ATTACH PARTITION trapprov.parted_c FOR VALUES IN ('331127');
ALTER TABLE trapprov.parted DETACH PARTITION trapprov.parted_c;
SELECT pubdata.submit_resource('TRAP-PARTED') IS NOT NULL AS submitted;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('partitioned table: review, publish (bureau)');
SELECT pubdata.review_resource('TRAP-PARTED', true) IS NOT NULL AS reviewed,
	   pubdata.publish_resource('TRAP-PARTED') IS NOT NULL AS published;
RESET ROLE;
SET ROLE regress_trap_other;
CALL trap.step('direct:regress_trap_other');
SELECT id FROM trapprov.parted_a WHERE note || '' <> '';
INSERT INTO trapprov.parted_a (id, region) VALUES (2, '331102');
RESET ROLE;
RESET trap.via;

--
-- Retiring: the planter's own resources, then the bureau's
--
SET ROLE regress_trap_prov;
CALL trap.step('disable_quality_trigger, drop_quality_rule, drop_job, retire_resource (planter)');
SELECT pubdata.disable_quality_trigger('TRAP-PERSON') IS NOT NULL AS disabled;
SELECT count(pubdata.drop_quality_rule(q.id)) > 0 AS dropped FROM pubdata.quality_rule q
 WHERE q.resource_id = pubdata.resource_id('TRAP-PERSON') AND q.kind = 'custom';
SELECT pubdata.drop_job(:agg) IS NOT NULL AS dropped;
SELECT pubdata.retire_resource('TRAP-OPEN', 'trap: retired') IS NOT NULL AS retired;
RESET ROLE;
SET ROLE regress_trap_admin;
CALL trap.step('retire_resource (bureau)');
SELECT pubdata.retire_resource('TRAP-OPENVIEW', 'trap: retired') IS NOT NULL AS retired;
RESET ROLE;
RESET trap.via;

--
-- The verdict
--
-- every payload that ran as someone other than the planter or the role that
-- itself read the planter's data: none
SELECT DISTINCT place, ran_as, via, backend FROM trap.hits
 WHERE ran_as <> 'regress_trap_prov' AND via IS DISTINCT FROM 'direct:' || ran_as
 ORDER BY via, place, ran_as;
-- the payloads did fire, not only in the planter's set-up or a direct read
-- but while pubdata's functions and workers ran: each of these at least once
SELECT p AS place_never_fired_by_pubdata FROM unnest(ARRAY[
	'person: index expression', 'person: partial index predicate', 'person: trigger', 'person: column default',
	'person: check constraint', 'person: custom rule', 'person: custom rule, folded',
	'domain check', 'domain check, folded', 'domain default', 'cast kind to text',
	'opendata: index expression', 'opendata: partial index predicate', 'opencond: index expression',
	'openview: view', 'refview: view', 'ref: index expression',
	'pool: index expression', 'pool: partial index predicate', 'pool: column default', 'pool: generated column',
	'pool: check constraint', 'pool: check constraint, folded', 'pool: row trigger', 'pool: statement trigger',
	'pool: deferred trigger', 'pool: rule']) p
 WHERE NOT EXISTS (SELECT 1 FROM trap.hits h WHERE h.place = p AND h.via IS DISTINCT FROM 'planter'
					AND coalesce(h.via, '') NOT LIKE 'direct:%')
 ORDER BY 1;
SELECT count(DISTINCT place) >= 28 AS most_places_fired FROM trap.hits;
-- in the job worker too
SELECT count(DISTINCT place) >= 10 AS places_fired_in_job_workers FROM trap.hits WHERE backend = 'pubdata job worker';

--
-- Clean up everything the test made, roles included
--
SET client_min_messages = warning;
SELECT count(pubdata.retire_resource(code, 'end of the trap kit')) >= 0 AS retired
  FROM pubdata.resource WHERE code LIKE 'TRAP-%' AND status <> 'retired';
DELETE FROM pubdata.project WHERE code = 'TRAP-PRJ';
DELETE FROM pubdata.objection_event WHERE objection_id IN
	(SELECT o.id FROM pubdata.objection o JOIN pubdata.resource r ON r.id = o.resource_id WHERE r.code LIKE 'TRAP-%');
DELETE FROM pubdata.objection WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'TRAP-%');
DELETE FROM pubdata.share_request WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'TRAP-%');
DELETE FROM pubdata.scenario WHERE code = 'TRAP-SC';
DELETE FROM pubdata.resource_element WHERE element_id IN (SELECT id FROM pubdata.data_element WHERE code = 'TRAP-EL');
DELETE FROM pubdata.data_element WHERE code = 'TRAP-EL';
DELETE FROM pubdata.job WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'TRAP-%');
DROP SCHEMA trapprov, trapuser, trap CASCADE;
DELETE FROM pubdata.lineage_observation WHERE target_name LIKE 'trap%' OR source_name LIKE 'trap%' OR source_name LIKE 'county:331121/trap';
DELETE FROM pubdata.lineage_edge_data WHERE target_name LIKE 'trap%' OR source_name LIKE 'trap%' OR source_name LIKE 'county:331121/trap';
DELETE FROM pubdata.open_dataset WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'TRAP-%');
DELETE FROM pubdata.resource_history WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'TRAP-%');
DELETE FROM pubdata.resource WHERE code LIKE 'TRAP-%';
DELETE FROM pubdata.department WHERE code LIKE 'trap%';
DROP OWNED BY regress_trap_admin, regress_trap_prov, regress_trap_user, regress_trap_scoped, regress_trap_other,
	regress_trap_auditor, regress_trap_reader, regress_trap_partner CASCADE;
DROP ROLE regress_trap_admin, regress_trap_prov, regress_trap_user, regress_trap_scoped, regress_trap_other,
	regress_trap_auditor, regress_trap_reader, regress_trap_partner;
SELECT count(*) AS trap_roles_left FROM pg_roles WHERE rolname LIKE 'regress\_trap\_%';
