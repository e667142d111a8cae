-- Partial sharing (Art 18(2), 27): items granted in masked form.  Whatever the
-- department writes, it sees and computes on the masked values only.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_mk_admin IN ROLE pubdata_admin;
CREATE ROLE regress_mk_police LOGIN;
CREATE ROLE regress_mk_health LOGIN;
CREATE ROLE regress_mk_civil LOGIN;
CREATE ROLE regress_mk_tax LOGIN;
CREATE SCHEMA mkp AUTHORIZATION regress_mk_police;
CREATE SCHEMA mkh AUTHORIZATION regress_mk_health;
CREATE SCHEMA mkc AUTHORIZATION regress_mk_civil;
CREATE SCHEMA mkt AUTHORIZATION regress_mk_tax;
GRANT USAGE ON SCHEMA mkp, mkh TO PUBLIC;
RESET client_min_messages;
SET ROLE regress_mk_admin;
SELECT pubdata.add_department('mk_police', '市公安局', '331100', 'administrative', 'regress_mk_police') > 0 AS ok;
SELECT pubdata.add_department('mk_health', '市卫生健康委', '331100', 'administrative', 'regress_mk_health') > 0 AS ok;
SELECT pubdata.add_department('mk_civil', '莲都区民政局', '331102', 'administrative', 'regress_mk_civil') > 0 AS ok;
SELECT pubdata.add_department('mk_tax', '市税务局', '331100', 'administrative', 'regress_mk_tax') > 0 AS ok;
RESET ROLE;

SET SESSION AUTHORIZATION regress_mk_police;
CREATE TABLE mkp.person (id_number text PRIMARY KEY, name text, phone varchar(11), birth date, region text, short_code varchar(10));
INSERT INTO mkp.person VALUES
	('331102199001011234', '张三', '13800000001', '1990-01-01', '331102', 'A1'),
	('331102198505052345', '欧阳锋', '13900000002', '1985-05-05', '331102', 'A2'),
	('331121197003033456', '王五', '13700000003', '1970-03-03', '331121', 'B1');
SELECT pubdata.register_resource('mkp.person', 'MK-PERSON', '人口基础信息', 'mk_police', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.submit_resource('MK-PERSON');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_health;
CREATE TABLE mkh.patient (id_number text PRIMARY KEY, diagnosis text);
INSERT INTO mkh.patient VALUES ('331102199001011234', '高血压'), ('331121197003033456', '糖尿病');
SELECT pubdata.register_resource('mkh.patient', 'MK-PATIENT', '慢病患者', 'mk_health', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.submit_resource('MK-PATIENT');
RESET SESSION AUTHORIZATION;
SET ROLE regress_mk_admin;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['MK-PERSON', 'MK-PATIENT']) c;
RESET ROLE;

-- requests that name masks: what can go wrong is said clearly
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT pubdata.request_share('MK-PERSON', '低保核查', ARRAY['id_number'], masks => '["id_number"]');
SELECT pubdata.request_share('MK-PERSON', '低保核查', ARRAY['id_number'], masks => '{"salary": "redact"}');
SELECT pubdata.request_share('MK-PERSON', '低保核查', ARRAY['id_number'], masks => '{"name": "name"}');
SELECT pubdata.request_share('MK-PERSON', '低保核查', ARRAY['id_number'], masks => '{"id_number": "blur"}');
SELECT pubdata.request_share('MK-PERSON', '低保核查', ARRAY['birth'], masks => '{"birth": "id_card"}');
SELECT pubdata.request_share('MK-PERSON', '低保核查', ARRAY['short_code'], masks => '{"short_code": "pseudonym"}');
SELECT pubdata.request_share('MK-PERSON', '低保核查', ARRAY['region'], masks => '{"region": "year"}');
-- the request the provider approves exactly as asked
SELECT pubdata.request_share('MK-PERSON', '低保核查（脱敏）', ARRAY['id_number', 'name', 'phone', 'birth', 'region'],
	masks => '{"id_number": "id_card", "name": "name", "phone": "phone", "birth": "year"}') AS gm \gset
SELECT status, items, masks FROM pubdata.share_request_status WHERE id = :gm;
SELECT pubdata.request_share('MK-PATIENT', '慢病低保关联', ARRAY['id_number', 'diagnosis'], masks => '{"id_number": "pseudonym"}') AS gcp \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_tax;
SELECT pubdata.request_share('MK-PERSON', '个税核验（化名）', ARRAY['id_number', 'region'], masks => '{"id_number": "pseudonym"}') AS gtp \gset
SELECT pubdata.request_share('MK-PATIENT', '医疗费用扣除（化名）', ARRAY['id_number', 'diagnosis'], masks => '{"id_number": "pseudonym"}') AS gth \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_police;
SELECT pubdata.decide_share(:gm, true);
SELECT pubdata.decide_share(:gtp, true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_health;
SELECT pubdata.decide_share(:gcp, true);
SELECT pubdata.decide_share(:gth, true);
RESET SESSION AUTHORIZATION;
CREATE TEMP TABLE mk_before AS SELECT seq FROM pubdata.audit_chain_head();

-- the provider reads its own table in clear
SET SESSION AUTHORIZATION regress_mk_police;
SELECT id_number, name, phone, birth FROM mkp.person ORDER BY id_number;
RESET SESSION AUTHORIZATION;

-- the department sees masked values, whatever it writes
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT id_number, name, phone, birth, region FROM mkp.person ORDER BY id_number;
-- a whole row reads every item, short_code too, which was not granted
SELECT p FROM mkp.person p WHERE false;
SELECT row_to_json(p) FROM (SELECT id_number, name FROM mkp.person) p ORDER BY 1::text;
WITH x AS (SELECT name, birth FROM mkp.person) SELECT * FROM x ORDER BY name;
CREATE VIEW mkc.people AS SELECT id_number, name FROM mkp.person;
SELECT * FROM mkc.people ORDER BY id_number;
CREATE FUNCTION mkc.names() RETURNS SETOF text LANGUAGE plpgsql AS $$BEGIN RETURN QUERY SELECT name FROM mkp.person; END$$;
SELECT * FROM mkc.names() ORDER BY 1;
CREATE FUNCTION mkc.names_sql() RETURNS SETOF text LANGUAGE sql STABLE AS $$SELECT name FROM mkp.person$$;
SELECT * FROM mkc.names_sql() ORDER BY 1;
BEGIN;
DECLARE c CURSOR FOR SELECT phone FROM mkp.person ORDER BY 1;
FETCH 2 FROM c;
CLOSE c;
COMMIT;
CREATE TEMP TABLE mine AS SELECT id_number, name FROM mkp.person;
SELECT * FROM mine ORDER BY 1;
-- filters, joins, sorting, grouping and windows work on the masked value only
SELECT count(*) AS by_clear_value FROM mkp.person WHERE id_number = '331102199001011234';
SELECT count(*) AS by_clear_name FROM mkp.person WHERE name = '张三';
SELECT count(*) AS by_masked_prefix FROM mkp.person WHERE id_number LIKE '3311%1234';
SELECT count(*) AS by_clear_range FROM mkp.person WHERE birth BETWEEN '1990-01-01' AND '1990-01-01';
SELECT birth, count(*) FROM mkp.person GROUP BY birth ORDER BY birth;
SELECT name, row_number() OVER (ORDER BY phone) FROM mkp.person ORDER BY 2;
CREATE TABLE mkc.clear_ids (id_number text);
INSERT INTO mkc.clear_ids VALUES ('331102199001011234');
SELECT count(*) AS joined_on_clear FROM mkp.person p JOIN mkc.clear_ids c USING (id_number);
SELECT count(*) AS by_substring FROM mkp.person WHERE substr(id_number, 7, 8) = '19900101';
-- a leaky function of the department's own, made as cheap as can be, sees
-- only masked values
CREATE FUNCTION mkc.leak(t text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
	$$BEGIN RAISE NOTICE 'saw %', t; RETURN true; END$$;
SELECT count(*) FROM mkp.person WHERE mkc.leak(id_number) AND mkc.leak(name);
-- error messages show the masked value, not the clear one
SELECT id_number::bigint FROM mkp.person;
-- the mask function called by hand gives nothing in clear either
SELECT pubdata._grant_mask(id_number, 'mkp.person'::regclass, 1::int2, 'regress_mk_civil'::regrole::oid) FROM mkp.person ORDER BY 1;
SELECT pubdata._grant_mask('331102199001011234'::text, 'mkp.person'::regclass, 1::int2, 'regress_mk_civil'::regrole::oid) AS outside_a_read;
-- items not granted stay closed; locking rows is refused
SELECT short_code FROM mkp.person;
SELECT id_number FROM mkp.person FOR UPDATE;
-- EXPLAIN shows the masks, no values
DO $$DECLARE l text; BEGIN
	FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT name FROM mkp.person WHERE name = ''张*''' LOOP
		RAISE NOTICE '%', regexp_replace(l, '''[0-9]+''::oid', '<oid>', 'g');
	END LOOP;
END$$;
RESET SESSION AUTHORIZATION;

-- pseudonyms: stable per department, so a department joins two resources it
-- was granted pseudonymously; another department's pseudonyms differ
SET SESSION AUTHORIZATION regress_mk_tax;
SELECT length(p.id_number) AS pseudonym_length, p.region, h.diagnosis
  FROM mkp.person p JOIN mkh.patient h USING (id_number) ORDER BY p.region;
SELECT count(*) AS same_twice FROM mkp.person a JOIN mkp.person b USING (id_number);
CREATE TEMP TABLE tax_pseudonyms AS SELECT id_number, diagnosis FROM mkh.patient;
GRANT SELECT ON tax_pseudonyms TO PUBLIC;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT count(*) AS civil_matches_tax FROM mkh.patient h JOIN tax_pseudonyms t USING (id_number);
SELECT count(*) AS civil_own_join FROM mkh.patient a JOIN mkh.patient b USING (id_number);
RESET SESSION AUTHORIZATION;

-- a grant in clear and one masked: the clear value only where the clear
-- grant covers the query (its items and its rows)
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT pubdata.request_share('MK-PERSON', '本区低保复核', ARRAY['name', 'region']) AS gclear \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_police;
SELECT pubdata.decide_share(:gclear, true, row_scope => '{"region": "331102"}');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT name, region FROM mkp.person ORDER BY region, name;
SELECT name, birth FROM mkp.person ORDER BY birth;
SELECT set_config('pubdata.purpose', :'gm', false) IS NOT NULL AS masked_purpose;
SELECT name, region FROM mkp.person ORDER BY region, name;
RESET pubdata.purpose;
RESET SESSION AUTHORIZATION;

-- scenarios can carry masked items; a request under one carries them too
SET ROLE regress_mk_admin;
SELECT pubdata.add_scenario('MK-SC', '困难群众精准帮扶', '救助对象识别', ARRAY['mk_civil']) > 0 AS added;
SELECT pubdata.add_scenario_resource('MK-SC', 'MK-PERSON', ARRAY['id_number', 'region'], masks => '{"id_number": "id_card"}');
SELECT pubdata.add_scenario_resource('MK-SC', 'MK-PATIENT', ARRAY['diagnosis'], masks => '{"diagnosis": "name"}');
SELECT pubdata.approve_scenario('MK-SC');
RESET ROLE;
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT pubdata.request_share('MK-PERSON', '帮扶识别', ARRAY['id_number', 'region'], scenario => 'MK-SC');
SELECT pubdata.request_share('MK-PERSON', '帮扶识别', ARRAY['id_number', 'region'], scenario => 'MK-SC',
	masks => '{"id_number": "id_card"}') > 0 AS granted_at_once;
RESET SESSION AUTHORIZATION;

-- a provider's own mask: one expression over the item, of its type, built-in
SET SESSION AUTHORIZATION regress_mk_police;
SELECT pubdata.define_mask('MK-PERSON', 'name', 'surname', $$left(name, 1) || '某'$$) > 0 AS defined;
SELECT pubdata.define_mask('MK-PERSON', 'name', 'with_region', $$left(name, 1) || region$$);
SELECT pubdata.define_mask('MK-PERSON', 'name', 'random', $$name || random()::text$$);
SELECT pubdata.define_mask('MK-PERSON', 'birth', 'decade', $$extract(year FROM birth)$$);
SELECT pubdata.define_mask('MK-PERSON', 'name', 'escape', $$name) FROM pg_authid --$$);
SELECT pubdata.define_mask('MK-PERSON', 'name', 'shared', $$(SELECT max(name) FROM mkp.person)$$);
CREATE FUNCTION mkp.own_mask(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'x'$$;
SELECT pubdata.define_mask('MK-PERSON', 'name', 'own', $$mkp.own_mask(name)$$);
SELECT pubdata.define_mask('MK-PERSON', 'name', 'surname', $$left(name, 1)$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_tax;
SELECT pubdata.define_mask('MK-PERSON', 'name', 'mine', $$left(name, 1)$$);
SELECT pubdata.request_share('MK-PERSON', '姓氏统计', ARRAY['name', 'region'], masks => '{"name": "custom:nope"}');
SELECT pubdata.request_share('MK-PERSON', '姓氏统计', ARRAY['name', 'region'], masks => '{"name": "custom:surname"}') AS gsur \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_police;
SELECT pubdata.decide_share(:gsur, true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_tax;
SELECT name, region FROM mkp.person ORDER BY region, name;
SELECT count(*) AS by_clear_name FROM mkp.person WHERE name = '张三';
RESET SESSION AUTHORIZATION;

-- the audit says which items were read masked
SELECT resource, command, outcome, rows, masked, statement
  FROM pubdata.access_log WHERE seq > (SELECT seq FROM mk_before) AND role_name = 'regress_mk_civil'
 ORDER BY seq, resource LIMIT 6;
SELECT count(*) FILTER (WHERE masked IS NOT NULL) > 0 AS some_masked,
	   count(*) FILTER (WHERE masked LIKE '%id_number=pseudonym%') > 0 AS pseudonyms_recorded
  FROM pubdata.access_log WHERE seq > (SELECT seq FROM mk_before);

-- a masked grant never gives a value unchanged: short values become all stars
SET SESSION AUTHORIZATION regress_mk_police;
CREATE TABLE mkp.lengths (n int PRIMARY KEY, code text, phone text, name text);
INSERT INTO mkp.lengths SELECT n, left('33110219900101123456', n), left('13800138000123456789', n),
	left('欧阳锋张三李四王五赵六钱七孙八周九吴十郑', n) FROM generate_series(0, 20) n;
SELECT pubdata.register_resource('mkp.lengths', 'MK-LEN', '长度', 'mk_police', 'restricted', 'not_open', 'daily', 2) > 0 AS ok;
SELECT pubdata.submit_resource('MK-LEN');
RESET SESSION AUTHORIZATION;
SET ROLE regress_mk_admin;
SELECT pubdata.review_resource('MK-LEN', true), pubdata.publish_resource('MK-LEN');
RESET ROLE;
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT pubdata.request_share('MK-LEN', '长度检验', ARRAY['n', 'code', 'phone', 'name'],
	masks => '{"code": "id_card", "phone": "phone", "name": "name"}') AS glen \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_police;
SELECT pubdata.decide_share(:glen, true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mk_civil;
SELECT n, code, phone, name FROM mkp.lengths ORDER BY n;
RESET SESSION AUTHORIZATION;
