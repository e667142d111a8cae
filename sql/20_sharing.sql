-- Sharing enforced inside the database: classes, requests, grants, scopes, expiry, copy guard
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_sh_admin IN ROLE pubdata_admin;
CREATE ROLE regress_sh_police;
CREATE ROLE regress_sh_civil;
CREATE ROLE regress_sh_health;
CREATE ROLE regress_sh_clerk IN ROLE regress_sh_civil;	-- a login of the civil affairs bureau
CREATE SCHEMA police AUTHORIZATION regress_sh_police;
CREATE SCHEMA civil AUTHORIZATION regress_sh_civil;
GRANT USAGE ON SCHEMA police TO PUBLIC;
RESET client_min_messages;
SET ROLE regress_sh_admin;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_sh_police') > 0 AS ok;
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'regress_sh_civil') > 0 AS ok;
SELECT pubdata.add_department('health', '市卫生健康委', '331100', 'administrative', 'regress_sh_health') > 0 AS ok;
RESET ROLE;

SET ROLE regress_sh_police;
CREATE TABLE police.household (id_number text PRIMARY KEY, name text, region text, address text, phone text);
INSERT INTO police.household VALUES
	('331102199001011234', '张三', '331102', '莲都区人民街1号', '13800000001'),
	('331102198505052345', '李四', '331102', '莲都区丽阳街2号', '13800000002'),
	('331121197003033456', '王五', '331121', '青田县鹤城路3号', '13800000003');
SELECT pubdata.register_resource('police.household', 'PS-HH', '户籍人口信息', 'police', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.set_item('PS-HH', 'id_number', '公民身份号码', personal => 'sensitive');
SELECT pubdata.set_item('PS-HH', 'name', '姓名', personal => 'personal');
SELECT pubdata.set_item('PS-HH', 'phone', '联系电话', personal => 'personal', share_class => 'non_shared');
CREATE TABLE police.station (code text PRIMARY KEY, name text, chief text);
INSERT INTO police.station VALUES ('LD01', '莲都派出所', '赵六'), ('QT01', '青田派出所', '钱七');
SELECT pubdata.register_resource('police.station', 'PS-ST', '派出所名录', 'police', 'unconditional', 'open', 'monthly', 1) > 0 AS ok;
SELECT pubdata.set_item('PS-ST', 'chief', '所长', personal => 'personal');
CREATE TABLE police.informant (id int, alias text);
SELECT pubdata.register_resource('police.informant', 'PS-IN', '特情人员', 'police', 'non_shared', 'not_open', 'on_demand', 4,
	legal_basis => '《中华人民共和国人民警察法》第二十二条') > 0 AS ok;
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['PS-HH', 'PS-ST', 'PS-IN']) c;
-- the provider reads its own table in full
SELECT count(*) FROM police.household;
RESET ROLE;
SET ROLE regress_sh_admin;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['PS-HH', 'PS-ST', 'PS-IN']) c;
RESET ROLE;

-- unconditional: every department reads the non-personal items at once
SET ROLE regress_sh_civil;
SELECT code, name FROM police.station ORDER BY code;
SELECT chief FROM police.station;
-- restricted without a grant: a clear error that says how to ask
SELECT name FROM police.household;
-- non-shared: only the provider
SELECT * FROM police.informant;
SELECT pubdata.request_share('PS-IN', '核查');
-- requests: purpose required, items must exist and be shareable
SELECT pubdata.request_share('PS-HH', '');
SELECT pubdata.request_share('PS-HH', '低保资格核查', ARRAY['id_number', 'salary']);
SELECT pubdata.request_share('PS-HH', '低保资格核查', ARRAY['id_number', 'phone']);
SELECT pubdata.request_share('PS-HH', '低保资格核查', mode => 'download');
SELECT pubdata.request_share('PS-NONE', '低保资格核查');
SELECT pubdata.request_share('PS-HH', '低保资格核查', ARRAY['id_number', 'name', 'region']) AS req_api \gset
SELECT status, purpose, items, due_at > requested_at AS has_deadline, overdue FROM pubdata.share_request_status WHERE id = :req_api;
-- still no access while pending; the requester cannot decide its own request
SELECT name FROM police.household;
SELECT pubdata.decide_share(:req_api, true);
RESET ROLE;

-- the provider decides: a refusal needs a reason (Art 34); approval with a row scope and an expiry
SET ROLE regress_sh_police;
SELECT pubdata.decide_share(:req_api, false);
SELECT pubdata.decide_share(:req_api, false, '   ');
SELECT pubdata.decide_share(:req_api, true, row_scope => '{"no_such_item": "x"}');
SELECT pubdata.decide_share(:req_api, true, row_scope => '{"region": "331102"}', expires_at => now() + interval '30 days');
SELECT pubdata.decide_share(:req_api, true);
RESET ROLE;

-- the grant: granted items, scoped rows
SET ROLE regress_sh_civil;
SELECT id_number, name, region FROM police.household ORDER BY id_number;
SELECT address FROM police.household;
SELECT phone FROM police.household;
-- a login of the department reads through its department role
SET ROLE regress_sh_clerk;
SELECT count(*) FROM police.household;
SET ROLE regress_sh_civil;
-- the policy check is an InitPlan: once per query, not once per row
EXPLAIN (COSTS OFF) SELECT id_number FROM police.household;
-- a leaky function in WHERE sees only the rows RLS already let through
CREATE FUNCTION civil.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
	$$ BEGIN RAISE NOTICE 'leaked %', $1; RETURN true; END $$;
SELECT count(*) FROM police.household WHERE civil.leak(id_number);

-- copy guard (Art 17): rows may not leave the table without the bureau's consent
CREATE TABLE civil.mine (id_number text, name text);
INSERT INTO civil.mine SELECT id_number, name FROM police.household;
CREATE TABLE civil.mine2 AS SELECT id_number FROM police.household;
SELECT id_number INTO civil.mine3 FROM police.household;
CREATE MATERIALIZED VIEW civil.mv AS SELECT id_number FROM police.household;
COPY (SELECT id_number FROM police.household) TO STDOUT;
COPY police.household (id_number) TO STDOUT;
UPDATE civil.mine m SET name = h.name FROM police.household h WHERE h.id_number = m.id_number;
COPY (SELECT code FROM police.station) TO STDOUT;
-- ... while plain reads go on
SELECT count(*) FROM police.household;
-- a copy grant: the provider approves, then the bureau consents
SELECT pubdata.request_share('PS-HH', '低保档案归集', ARRAY['id_number', 'name'], mode => 'copy') AS req_copy \gset
RESET ROLE;
SET ROLE regress_sh_police;
SELECT pubdata.decide_share(:req_copy, true, 'copy for archives', row_scope => '{"region": ["331102"]}');
RESET ROLE;
SET ROLE regress_sh_civil;
INSERT INTO civil.mine SELECT id_number, name FROM police.household;
SELECT pubdata.approve_copy(:req_copy, true);
RESET ROLE;
SET ROLE regress_sh_admin;
SELECT pubdata.approve_copy(:req_api, true);
SELECT pubdata.approve_copy(:req_copy, true);
RESET ROLE;
SET ROLE regress_sh_civil;
INSERT INTO civil.mine SELECT id_number, name FROM police.household;
SELECT count(*) FROM civil.mine;

-- purpose: with several grants, the declared one is used
SET pubdata.purpose = 'no-such-grant';
SELECT count(*) FROM police.household;
SELECT set_config('pubdata.purpose', :'req_api', false) IS NOT NULL AS declared;
SELECT count(*) FROM police.household;
INSERT INTO civil.mine SELECT id_number, name FROM police.household;
RESET pubdata.purpose;
RESET ROLE;

-- expiry takes effect at the next query, with no manual step
UPDATE pubdata.share_request SET expires_at = now() - interval '1 second' WHERE id IN (:req_api, :req_copy);
SET ROLE regress_sh_civil;
\set VERBOSITY terse
SELECT count(*) FROM police.household;
\set VERBOSITY default
RESET ROLE;
SELECT pubdata.sweep_grants();
SELECT status FROM pubdata.share_request WHERE id IN (:req_api, :req_copy);
SET ROLE regress_sh_civil;
SELECT count(*) FROM police.household;

-- revocation takes effect at the next query
SELECT pubdata.request_share('PS-HH', '救助对象复核', ARRAY['region']) AS req2 \gset
RESET ROLE;
SET ROLE regress_sh_police;
SELECT pubdata.decide_share(:req2, true);
RESET ROLE;
SET ROLE regress_sh_civil;
SELECT region, count(*) FROM police.household GROUP BY region ORDER BY region;
RESET ROLE;
SET ROLE regress_sh_health;
SELECT pubdata.revoke_share(:req2, 'not mine');
RESET ROLE;
SET ROLE regress_sh_police;
SELECT pubdata.revoke_share(:req2, '');
SELECT pubdata.revoke_share(:req2, '复核结束');
RESET ROLE;
SET ROLE regress_sh_civil;
SELECT count(*) FROM police.household;

-- scenarios (Art 19(3)): approved once, they grant at once
SELECT pubdata.add_scenario('ONE-THING-BIRTH', '出生一件事', '新生儿出生登记联办', ARRAY['civil', 'health']) > 0 AS ok;
SELECT pubdata.add_scenario_resource('ONE-THING-BIRTH', 'PS-HH', ARRAY['id_number', 'region']);
SELECT pubdata.request_share('PS-HH', '出生一件事', ARRAY['id_number'], scenario => 'ONE-THING-BIRTH');
SELECT pubdata.approve_scenario('ONE-THING-BIRTH');
RESET ROLE;
SET ROLE regress_sh_admin;
SELECT pubdata.approve_scenario('ONE-THING-BIRTH');
RESET ROLE;
SET ROLE regress_sh_civil;
SELECT pubdata.request_share('PS-HH', '出生一件事', ARRAY['id_number', 'name'], scenario => 'ONE-THING-BIRTH');
SELECT pubdata.request_share('PS-HH', '出生一件事', ARRAY['id_number'], scenario => 'ONE-THING-BIRTH') AS req_sc \gset
SELECT status, reason FROM pubdata.share_request WHERE id = :req_sc;
SET pubdata.purpose = 'ONE-THING-BIRTH';
SELECT count(*) FROM police.household;
RESET pubdata.purpose;

-- attacks: another department's role, the provider's policies, the catalog
SET SESSION AUTHORIZATION regress_sh_civil;
SET ROLE regress_sh_police;
SELECT current_user;
ALTER TABLE police.household DISABLE ROW LEVEL SECURITY;
DROP POLICY pubdata_provider ON police.household;
CREATE POLICY mine ON police.household FOR SELECT TO regress_sh_civil USING (true);
UPDATE pubdata.share_request SET status = 'approved' WHERE id = :req2;
-- shadowing operators on the search path does not reach pubdata's functions
CREATE FUNCTION civil.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR civil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = civil.always);
SET search_path = civil, pg_catalog;
SELECT pubdata.decide_share(:req_sc, false, 'hijack');
SELECT pubdata.submit_resource('PS-HH');
RESET search_path;
RESET SESSION AUTHORIZATION;
-- even the provider cannot loosen its own table behind pubdata's back
SET ROLE regress_sh_police;
ALTER TABLE police.household DISABLE ROW LEVEL SECURITY;
DROP POLICY pubdata_provider ON police.household;
ALTER POLICY pubdata_shared ON police.station USING (false);
CREATE POLICY open_all ON police.household FOR SELECT USING (true);
SELECT relrowsecurity FROM pg_class WHERE oid = 'police.household'::regclass;
SELECT polname FROM pg_policy WHERE polrelid = 'police.household'::regclass ORDER BY 1;
RESET ROLE;

-- names with quotes and semicolons are quoted everywhere
SET ROLE regress_sh_police;
CREATE TABLE police."x""; DROP TABLE police.household; --" ("a""b" text, "c;d" text);
INSERT INTO police."x""; DROP TABLE police.household; --" VALUES ('1', 'it''s'), ('2', 'x');
SELECT pubdata.register_resource('police."x""; DROP TABLE police.household; --"', 'PS-Q', '引号测试', 'police', 'restricted', 'not_open', 'daily', 1) > 0 AS ok;
SELECT pubdata.submit_resource('PS-Q');
RESET ROLE;
SET ROLE regress_sh_admin;
SELECT pubdata.review_resource('PS-Q', true), pubdata.publish_resource('PS-Q');
RESET ROLE;
SET ROLE regress_sh_civil;
SELECT pubdata.request_share('PS-Q', 'quote test', ARRAY['a"b', 'c;d']) AS req_q \gset
RESET ROLE;
SET ROLE regress_sh_police;
SELECT pubdata.decide_share(:req_q, true, row_scope => jsonb_build_object('c;d', 'it''s'));
RESET ROLE;
SET ROLE regress_sh_civil;
SELECT * FROM police."x""; DROP TABLE police.household; --";
RESET ROLE;
SELECT count(*) AS household_still_there FROM police.household;

-- the record of requests, as the auditor and the bureau read it
SET ROLE regress_sh_admin;
SELECT resource, requester, mode, status, copy_approved, in_force FROM pubdata.share_request_status ORDER BY id;
RESET ROLE;

-- clean up
SET client_min_messages = warning;
SELECT pubdata.retire_resource(code, 'end of test') FROM pubdata.resource WHERE status <> 'retired';
DROP SCHEMA police, civil CASCADE;
DELETE FROM pubdata.share_request;
DELETE FROM pubdata.scenario;
DELETE FROM pubdata.resource;
DELETE FROM pubdata.resource_history;
DELETE FROM pubdata.department;
DROP ROLE regress_sh_admin, regress_sh_police, regress_sh_civil, regress_sh_health, regress_sh_clerk;
