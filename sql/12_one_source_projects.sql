-- One data, one source (Art 10, 16(3)) and the IT project gate (Art 29)
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_os_admin IN ROLE pubdata_admin;
CREATE ROLE regress_os_police;
CREATE ROLE regress_os_health;
CREATE ROLE regress_os_auditor IN ROLE pubdata_auditor;
CREATE SCHEMA police AUTHORIZATION regress_os_police;
CREATE SCHEMA health AUTHORIZATION regress_os_health;
RESET client_min_messages;
SET ROLE regress_os_admin;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_os_police') > 0 AS ok;
SELECT pubdata.add_department('health', '市卫生健康委', '331100', 'administrative', 'regress_os_health') > 0 AS ok;
SELECT pubdata.add_data_element('resident_id', '公民身份号码', '居民身份证号码') > 0 AS ok;
SELECT pubdata.add_data_element('resident_id', '重复');
RESET ROLE;
SET ROLE regress_os_police;
SELECT pubdata.add_data_element('plate', '号牌');
CREATE TABLE police.household (id_number text PRIMARY KEY, name text);
CREATE TABLE police.census (id_number text PRIMARY KEY, region text);
SELECT pubdata.register_resource('police.household', 'PS-HH', '户籍人口', 'police', 'unconditional', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.register_resource('police.census', 'PS-CE', '人口普查', 'police', 'restricted', 'not_open', 'annual', 3) > 0 AS ok;
-- the household register is the authoritative source of the identity number
SELECT pubdata.declare_element('PS-HH', 'resident_id', 'id_number', authoritative => true);
SELECT pubdata.declare_element('PS-HH', 'no_such_element');
SELECT pubdata.declare_element('PS-HH', 'resident_id', 'no_such_item', authoritative => true);
-- a second authoritative source is refused, naming the first
SELECT pubdata.declare_element('PS-CE', 'resident_id', 'id_number', authoritative => true);
RESET ROLE;
SET ROLE regress_os_health;
CREATE TABLE health.patient (id_number text PRIMARY KEY, diagnosis text);
SELECT pubdata.register_resource('health.patient', 'HW-PT', '就诊记录', 'health', 'restricted', 'not_open', 'daily', 4) > 0 AS ok;
-- collecting the identity number again is refused: the police catalogue it (its draft's code is not named)
SELECT pubdata.declare_element('HW-PT', 'resident_id', 'id_number');
-- another department's draft cannot be declared: it is not there for health
SELECT pubdata.declare_element('PS-CE', 'resident_id');
-- with a legal basis the collection is recorded
SELECT pubdata.declare_element('HW-PT', 'resident_id', 'id_number',
	legal_basis => '《医疗机构管理条例》第二十四条 实名就诊');
RESET ROLE;
-- once the household register is published, the refusal names it and how to request it
SET ROLE regress_os_police;
SELECT pubdata.submit_resource('PS-HH');
RESET ROLE;
SET ROLE regress_os_admin;
SELECT pubdata.review_resource('PS-HH', true), pubdata.publish_resource('PS-HH');
RESET ROLE;
SET ROLE regress_os_health;
CREATE TABLE health.clinic_visit (id_number text);
SELECT pubdata.register_resource('health.clinic_visit', 'HW-CV', '门诊记录', 'health', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.declare_element('HW-CV', 'resident_id', 'id_number');
RESET ROLE;
SET ROLE regress_os_auditor;
SELECT element, source_resource, source_department, item FROM pubdata.element_source;
SELECT r.code, re.authoritative, re.legal_basis IS NOT NULL AS has_legal_basis
  FROM pubdata.resource_element re JOIN pubdata.resource r ON r.id = re.resource_id ORDER BY r.code;
RESET ROLE;

-- IT projects: approval needs the catalog entries compiled, acceptance needs them published
SET ROLE regress_os_health;
SELECT pubdata.register_project('HIS-2026', '区域健康信息平台', ARRAY['HW-PT', 'HW-VAX']) > 0 AS ok;
SELECT pubdata.register_project('HIS-2027', '空项目', ARRAY[]::text[]);
SELECT pubdata.register_project('HIS-2026', '重复', ARRAY['HW-PT']);
SELECT pubdata.approve_project('HIS-2026');
RESET ROLE;
SET ROLE regress_os_admin;
SELECT pubdata.approve_project('HIS-2026');
SELECT pubdata.approve_project('NO-SUCH');
RESET ROLE;
SET ROLE regress_os_health;
CREATE TABLE health.vaccination (id_number text, vaccine text, given_on date);
SELECT pubdata.register_resource('health.vaccination', 'HW-VAX', '疫苗接种', 'health', 'restricted', 'open', 'daily', 2) > 0 AS ok;
SELECT pubdata.submit_resource('HW-VAX');
RESET ROLE;
SET ROLE regress_os_admin;
SELECT pubdata.approve_project('HIS-2026');
SELECT pubdata.review_resource('HW-VAX', true);
SELECT pubdata.publish_resource('HW-VAX');
RESET ROLE;
SET ROLE regress_os_health;
SELECT pubdata.submit_resource('HW-PT');
RESET ROLE;
SET ROLE regress_os_admin;
SELECT pubdata.accept_project('HIS-2026');
SELECT pubdata.approve_project('HIS-2026');
SELECT pubdata.accept_project('HIS-2026');
SELECT pubdata.review_resource('HW-PT', true);
SELECT pubdata.publish_resource('HW-PT');
SELECT pubdata.accept_project('HIS-2026');
SELECT code, status FROM pubdata.project;
RESET ROLE;

-- clean up
SET client_min_messages = warning;
SELECT pubdata.retire_resource(code, 'end of test') FROM pubdata.resource WHERE status <> 'retired';
DROP SCHEMA police, health CASCADE;
DELETE FROM pubdata.project;
DELETE FROM pubdata.resource;
DELETE FROM pubdata.resource_history;
DELETE FROM pubdata.data_element;
DELETE FROM pubdata.department;
DROP ROLE regress_os_admin, regress_os_police, regress_os_health, regress_os_auditor;
