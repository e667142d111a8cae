-- The resource catalog: departments, registration, items, workflow, history, DDL follow-up
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_cat_admin IN ROLE pubdata_admin;
CREATE ROLE regress_cat_police;
CREATE ROLE regress_cat_civil;
CREATE ROLE regress_cat_auditor IN ROLE pubdata_auditor;
CREATE ROLE regress_cat_nobody IN ROLE pubdata_department;
CREATE SCHEMA police AUTHORIZATION regress_cat_police;
CREATE SCHEMA civil AUTHORIZATION regress_cat_civil;
GRANT USAGE ON SCHEMA police TO regress_cat_civil;
RESET client_min_messages;

-- the bureau maps departments to roles
SET ROLE regress_cat_admin;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_cat_police',
							  data_commissioner => '王数据', responsible_leader => '李局长') > 0 AS added;
SELECT pubdata.add_department('civil', '市民政局', '331100', 'administrative', 'regress_cat_civil') > 0 AS added;
SELECT pubdata.add_system('public_security', '公安系统', 'police');
-- failure paths for the bureau
SELECT pubdata.add_department('water', '市水务集团', '999999', 'public_utility', 'regress_cat_nobody');
SELECT pubdata.add_department('water', '市水务集团', '331100', 'utility', 'regress_cat_nobody');
SELECT pubdata.add_department('water', '市水务集团', '331100', 'public_utility', 'no_such_role');
SELECT pubdata.add_department('police', '重复', '331100', 'administrative', 'regress_cat_nobody');
SELECT pubdata.add_department('police2', '重复角色', '331100', 'administrative', 'regress_cat_police');
SELECT pubdata.add_region('12345', '坏编码', 'county', '331100');
RESET ROLE;
-- the department role joined pubdata_department
SELECT pg_has_role('regress_cat_police', 'pubdata_department', 'MEMBER') AS joined;

-- a department may not add departments
SET ROLE regress_cat_police;
SELECT pubdata.add_department('x', 'x', '331100', 'other', 'regress_cat_nobody');
SELECT pubdata.current_department() = pubdata.department_id('police') AS i_am_police;

-- the police register their household table
CREATE TABLE police.household (
	id_number	text PRIMARY KEY,
	name		text NOT NULL,
	address		text,
	region		text,
	phone		text
);
COMMENT ON COLUMN police.household.id_number IS '公民身份号码';
SELECT pubdata.register_resource('police.household', 'PS-HH-001', '户籍人口信息', 'police',
	'restricted', 'not_open', 'daily', 3, summary => '全市户籍人口基本信息', category => '人口',
	system => 'public_security', keywords => ARRAY['户籍', '人口']) > 0 AS registered;
SELECT code, provider, share_class, status, version, items FROM pubdata.resource_catalog;
SELECT column_name, title, data_type, state FROM pubdata.resource_item ORDER BY attnum;
-- registering enabled row-level security
SELECT relrowsecurity FROM pg_class WHERE oid = 'police.household'::regclass;

-- failure paths for the department
SELECT pubdata.register_resource('police.household', 'PS-HH-002', '再次', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('police.nosuch', 'PS-X', 'x', 'police', 'restricted', 'not_open', 'daily', 3);
CREATE TABLE police.vehicle (plate text PRIMARY KEY, owner_id text);
SELECT pubdata.register_resource('police.vehicle', 'PS-HH-001', '重复编码', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('police.vehicle', 'PS-VH-001', '机动车', 'police', 'secret', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('police.vehicle', 'PS-VH-001', '机动车', 'police', 'restricted', 'not_open', 'hourly', 5);
SELECT pubdata.register_resource('police.vehicle', 'PS-VH-001', '机动车', 'police', 'non_shared', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('police.vehicle', 'PS-VH-001', '机动车', 'nosuch', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('police.vehicle', 'PS-VH-001', '机动车', 'civil', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('police.vehicle', 'bad code!', '机动车', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.register_resource('pubdata.resource', 'PS-SYS', 'x', 'police', 'restricted', 'not_open', 'daily', 3);
-- non-shared needs a legal basis, and works with one
SELECT pubdata.register_resource('police.vehicle', 'PS-VH-001', '机动车', 'police', 'non_shared', 'not_open', 'daily', 3,
	legal_basis => '《中华人民共和国道路交通安全法》第八条') > 0 AS registered;

-- items
SELECT pubdata.set_item('PS-HH-001', 'id_number', personal => 'sensitive', mask => 'id_card', is_key => true);
SELECT pubdata.set_item('PS-HH-001', 'name', '姓名', personal => 'personal', mask => 'name');
SELECT pubdata.set_item('PS-HH-001', 'phone', '联系电话', personal => 'personal', share_class => 'non_shared', mask => 'phone');
SELECT pubdata.set_item('PS-HH-001', 'region', '行政区划');
SELECT pubdata.set_item('PS-HH-001', 'address', '住址');
SELECT pubdata.set_item('PS-HH-001', 'nosuch', '无');
SELECT pubdata.set_item('PS-HH-001', 'name', mask => 'blur');
SELECT pubdata.set_item('PS-VH-001', 'plate', share_class => 'restricted');
SELECT column_name, title, personal, share_class, mask, is_key FROM pubdata.resource_item
 WHERE resource_id = pubdata.resource_id('PS-HH-001') ORDER BY attnum;
RESET ROLE;

-- another department may not edit the police's draft, nor register the police's table
SET ROLE regress_cat_civil;
SELECT pubdata.set_item('PS-HH-001', 'name', '名字');
SELECT pubdata.update_resource('PS-HH-001', name => '改名');
SELECT pubdata.submit_resource('PS-HH-001');
SELECT pubdata.register_resource('police.household', 'CV-1', 'x', 'civil', 'restricted', 'not_open', 'daily', 3);
RESET ROLE;
-- a role that is no department at all
SET ROLE regress_cat_nobody;
SELECT pubdata.current_department();
RESET ROLE;

-- workflow: draft -> submitted -> returned -> submitted -> approved -> published
SET ROLE regress_cat_police;
SELECT pubdata.review_resource('PS-HH-001', true);
SELECT pubdata.publish_resource('PS-HH-001');
SELECT pubdata.submit_resource('PS-HH-001');
SELECT pubdata.submit_resource('PS-HH-001');
SELECT pubdata.set_item('PS-HH-001', 'name', personal => 'none');
RESET ROLE;
SET ROLE regress_cat_admin;
SELECT pubdata.review_resource('PS-HH-001', false);
SELECT pubdata.review_resource('PS-HH-001', false, '请补充住址信息项的说明');
SELECT status, review_comment FROM pubdata.resource WHERE code = 'PS-HH-001';
SELECT pubdata.publish_resource('PS-HH-001');
RESET ROLE;
SET ROLE regress_cat_police;
SELECT pubdata.set_item('PS-HH-001', 'address', description => '常住地址，到门牌号');
SELECT pubdata.submit_resource('PS-HH-001');
RESET ROLE;
SET ROLE regress_cat_admin;
SELECT pubdata.review_resource('PS-HH-001', true);
SELECT pubdata.publish_resource('PS-HH-001');
RESET ROLE;
SET ROLE regress_cat_auditor;
SELECT code, status, version FROM pubdata.resource_catalog ORDER BY code;
-- the auditor reads but cannot act
SELECT pubdata.publish_resource('PS-VH-001');
SELECT pubdata.retire_resource('PS-VH-001', 'x');
RESET ROLE;

-- a published entry: descriptions may change, classes may not
SET ROLE regress_cat_police;
SELECT pubdata.update_resource('PS-HH-001', summary => '全市户籍人口基本信息（含流动人口）');
SELECT pubdata.update_resource('PS-HH-001', share_class => 'unconditional');
RESET ROLE;

-- version history: every change is kept, the catalog can be read as of a moment
SELECT version, entry->>'status' AS status, changed_by FROM pubdata.resource_history
 WHERE resource_id = pubdata.resource_id('PS-HH-001') ORDER BY version;
SELECT count(DISTINCT version) = max(version) AS no_gaps FROM pubdata.resource_history
 WHERE resource_id = pubdata.resource_id('PS-HH-001');
-- move history back in time to ask "what did the catalog say then"
UPDATE pubdata.resource_history SET valid_from = '2026-01-01 09:00+08' WHERE version = 1;
UPDATE pubdata.resource_history SET valid_to = '2026-02-01 09:00+08' WHERE version = 1;
UPDATE pubdata.resource_history SET valid_from = '2026-02-01 09:00+08'
 WHERE version = 2 AND resource_id = pubdata.resource_id('PS-HH-001');
SET ROLE regress_cat_civil;
SELECT code, status, version, jsonb_array_length(entry->'items') AS items
  FROM pubdata.catalog_as_of('2026-01-15 12:00+08') ORDER BY code;
SELECT code, status FROM pubdata.catalog_as_of(now()) ORDER BY code;
RESET ROLE;

-- DDL follow-up: the items follow the table's columns
SET ROLE regress_cat_police;
ALTER TABLE police.household ADD COLUMN birth_date date;
ALTER TABLE police.household RENAME COLUMN address TO home_address;
ALTER TABLE police.household DROP COLUMN phone;
SELECT column_name, title, state FROM pubdata.resource_item
 WHERE resource_id = pubdata.resource_id('PS-HH-001') ORDER BY attnum NULLS LAST, column_name;
-- a registered table is not dropped while its entry is live
DROP TABLE police.household;
SELECT pubdata.retire_resource('PS-HH-001', '');
SELECT pubdata.retire_resource('PS-HH-001', '并入人口综合库');
DROP TABLE police.household;
SELECT code, status, relation IS NULL AS table_gone, relation_name FROM pubdata.resource WHERE code = 'PS-HH-001';
RESET ROLE;

-- nothing in the catalog can be written directly
SET ROLE regress_cat_police;
UPDATE pubdata.resource SET status = 'published' WHERE code = 'PS-VH-001';
DELETE FROM pubdata.resource_history;
INSERT INTO pubdata.department (code, name, region, kind, role_name) VALUES ('x', 'x', '331100', 'other', 'regress_cat_nobody');
RESET ROLE;

-- clean up
SET client_min_messages = warning;
SELECT pubdata.retire_resource('PS-VH-001', 'end of test');
DROP SCHEMA police, civil CASCADE;
DELETE FROM pubdata.resource WHERE code IN ('PS-HH-001', 'PS-VH-001');
DELETE FROM pubdata.resource_history WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id = resource_id);
DELETE FROM pubdata.system WHERE code = 'public_security';
DELETE FROM pubdata.department WHERE code IN ('police', 'civil');
DROP ROLE regress_cat_admin, regress_cat_police, regress_cat_civil, regress_cat_auditor, regress_cat_nobody;
