-- 1. The catalog: departments register their tables, the Big Data Bureau reviews and publishes
\set SHOW_CONTEXT never
\set QUIET on
SET client_min_messages = warning;
\o /dev/null
CREATE EXTENSION IF NOT EXISTS pubdata CASCADE;
DO $$
DECLARE r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['lishui_bureau', 'lishui_police', 'lishui_civil', 'lishui_health', 'lishui_market',
							 'lishui_water', 'liandu_civil', 'lishui_bi', 'lishui_audit'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I LOGIN', r);
		END IF;
	END LOOP;
END $$;
GRANT pubdata_admin TO lishui_bureau;
GRANT pubdata_open_reader TO lishui_bi;
GRANT pubdata_auditor TO lishui_audit;
CREATE SCHEMA police AUTHORIZATION lishui_police;
CREATE SCHEMA civil AUTHORIZATION lishui_civil;
CREATE SCHEMA health AUTHORIZATION lishui_health;
CREATE SCHEMA market AUTHORIZATION lishui_market;
CREATE SCHEMA water AUTHORIZATION lishui_water;
CREATE SCHEMA liandu AUTHORIZATION liandu_civil;
GRANT USAGE ON SCHEMA police, civil, health, market, water, liandu TO pubdata_department;

SET ROLE lishui_bureau;
SELECT pubdata.add_department('LS-GA', '丽水市公安局', '331100', 'administrative', 'lishui_police', '陈数据', '周副局长');
SELECT pubdata.add_department('LS-MZ', '丽水市民政局', '331100', 'administrative', 'lishui_civil', '吴数据', '郑副局长');
SELECT pubdata.add_department('LS-WJ', '丽水市卫生健康委员会', '331100', 'administrative', 'lishui_health');
SELECT pubdata.add_department('LS-SJ', '丽水市市场监督管理局', '331100', 'administrative', 'lishui_market');
SELECT pubdata.add_department('LS-SW', '丽水市水务集团', '331100', 'public_utility', 'lishui_water');
SELECT pubdata.add_department('LD-MZ', '莲都区民政局', '331102', 'administrative', 'liandu_civil');
SELECT pubdata.add_system('GA', '公安系统', 'LS-GA');
SELECT pubdata.add_data_element('resident_id', '公民身份号码', '居民身份证号码（GB 11643）');
SELECT pubdata.add_data_element('uscc', '统一社会信用代码', 'GB 32100');
RESET ROLE;

-- the police's household register
SET ROLE lishui_police;
CREATE TABLE police.household (
	id_number text PRIMARY KEY, name text NOT NULL, gender text, birth_date date,
	region text NOT NULL, address text, phone text, registered_on date);
COMMENT ON TABLE police.household IS '户籍人口信息';
-- demo helpers: the GB 11643 and GB 32100 check characters, so that the data is valid
-- except for the few defects planted on purpose (every 97th identity number, every 53rd credit code)
CREATE FUNCTION pg_temp.id_check(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT substr('10X98765432', 1 + (sum(substr(body, i, 1)::int * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i]) % 11)::int, 1)
	  FROM generate_series(1, 17) i $$;
CREATE FUNCTION pg_temp.uscc_check(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT substr('0123456789ABCDEFGHJKLMNPQRTUWXY', 1 + (31 - sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(body, i, 1)) - 1)
					* (ARRAY[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28])[i]) % 31)::int % 31, 1)
	  FROM generate_series(1, 17) i $$;
INSERT INTO police.household
SELECT body || CASE WHEN g % 97 = 0 THEN (CASE pg_temp.id_check(body) WHEN '0' THEN '1' ELSE '0' END) ELSE pg_temp.id_check(body) END,
	   (ARRAY['张','王','李','赵','陈','刘','周','吴','郑','叶'])[1 + g % 10] || (ARRAY['伟','芳','娜','敏','静','丽','强','磊','军','洋'])[1 + (g / 10) % 10],
	   CASE WHEN g % 2 = 0 THEN '女' ELSE '男' END,
	   date '1950-01-01' + (g * 37) % 25000,
	   region,
	   (ARRAY['莲都区','青田县','缙云县','遂昌县','松阳县','云和县','庆元县','景宁县','龙泉市'])[1 + g % 9] || '某街道' || g || '号',
	   '13' || lpad((g * 7919 % 1000000000)::text, 9, '0'),
	   date '2000-01-01' + g % 9000
  FROM generate_series(1, 2000) g,
	   LATERAL (SELECT (ARRAY['331102','331121','331122','331123','331124','331125','331126','331127','331181'])[1 + g % 9] AS region) r,
	   LATERAL (SELECT r.region || to_char(date '1950-01-01' + (g * 37) % 25000, 'YYYYMMDD') || lpad((g % 1000)::text, 3, '0') AS body) b;
SELECT pubdata.register_resource('police.household', 'LS-GA-HJRK', '户籍人口信息', 'LS-GA', 'restricted', 'not_open', 'daily', 3,
	summary => '全市户籍人口的基本信息', category => '人口', keywords => ARRAY['户籍', '人口'], system => 'GA', high_value => true) AS household;
SELECT pubdata.set_item('LS-GA-HJRK', 'id_number', '公民身份号码', personal => 'sensitive', mask => 'id_card', is_key => true);
SELECT pubdata.set_item('LS-GA-HJRK', 'name', '姓名', personal => 'personal', mask => 'name');
SELECT pubdata.set_item('LS-GA-HJRK', 'gender', '性别');
SELECT pubdata.set_item('LS-GA-HJRK', 'birth_date', '出生日期', personal => 'personal');
SELECT pubdata.set_item('LS-GA-HJRK', 'region', '户籍地行政区划');
SELECT pubdata.set_item('LS-GA-HJRK', 'address', '住址', personal => 'personal');
SELECT pubdata.set_item('LS-GA-HJRK', 'phone', '联系电话', personal => 'personal', share_class => 'non_shared', mask => 'phone');
SELECT pubdata.set_item('LS-GA-HJRK', 'registered_on', '登记日期');
SELECT pubdata.declare_element('LS-GA-HJRK', 'resident_id', 'id_number', authoritative => true);
SELECT pubdata.submit_resource('LS-GA-HJRK');
-- and its directory of police stations, open to the public
CREATE TABLE police.station (code text PRIMARY KEY, name text NOT NULL, region text, address text, phone text, chief text);
INSERT INTO police.station VALUES
	('LD01', '莲都区万象派出所', '331102', '莲都区丽青路100号', '0578-2111110', '赵一'),
	('LD02', '莲都区紫金派出所', '331102', '莲都区紫金路8号', '0578-2111120', '钱二'),
	('QT01', '青田县鹤城派出所', '331121', '青田县鹤城中路1号', '0578-6811110', '孙三'),
	('LQ01', '龙泉市剑池派出所', '331181', '龙泉市剑池路5号', '0578-7211110', '李四');
SELECT pubdata.register_resource('police.station', 'LS-GA-PCS', '派出所名录', 'LS-GA', 'unconditional', 'open', 'quarterly', 1,
	summary => '全市派出所名称、地址和值班电话', category => '公共安全', keywords => ARRAY['派出所', '公安']) AS station;
SELECT pubdata.set_item('LS-GA-PCS', 'code', '派出所代码', is_key => true);
SELECT pubdata.set_item('LS-GA-PCS', 'name', '派出所名称');
SELECT pubdata.set_item('LS-GA-PCS', 'region', '行政区划');
SELECT pubdata.set_item('LS-GA-PCS', 'address', '地址');
SELECT pubdata.set_item('LS-GA-PCS', 'phone', '值班电话');
SELECT pubdata.set_item('LS-GA-PCS', 'chief', '所长', personal => 'personal', mask => 'name');
SELECT pubdata.submit_resource('LS-GA-PCS');
RESET ROLE;

-- the market regulator's enterprise register (open data)
SET ROLE lishui_market;
CREATE TABLE market.enterprise (uscc text PRIMARY KEY, name text NOT NULL, legal_rep text, region text,
								industry text, registered_capital numeric(14,2), established date, status text);
INSERT INTO market.enterprise
SELECT b.body || CASE WHEN g % 53 = 0 THEN (CASE pg_temp.uscc_check(b.body) WHEN '0' THEN '1' ELSE '0' END) ELSE pg_temp.uscc_check(b.body) END,
	   (ARRAY['丽水','莲都','青田','缙云','龙泉'])[1 + g % 5] || (ARRAY['绿谷','瓯江','华侨','山水','青瓷'])[1 + (g / 5) % 5] ||
	   (ARRAY['科技','农业','旅游','贸易','制造'])[1 + (g / 25) % 5] || '有限公司',
	   (ARRAY['张','王','李','赵','陈'])[1 + g % 5] || '某',
	   (ARRAY['331102','331121','331122','331181'])[1 + g % 4],
	   (ARRAY['制造业','农林牧渔业','批发和零售业','住宿和餐饮业','信息技术服务业'])[1 + g % 5],
	   (g % 500 + 10) * 10000, date '2005-01-01' + g * 3, CASE WHEN g % 17 = 0 THEN '注销' ELSE '存续' END
  FROM generate_series(1, 600) g, LATERAL (SELECT '91331100MA2' || lpad(upper(to_hex(g * 7919)), 6, '0') AS body) b;
SELECT pubdata.register_resource('market.enterprise', 'LS-SJ-QYDJ', '企业登记信息', 'LS-SJ', 'unconditional', 'open', 'daily', 1,
	summary => '全市企业法人登记基本信息', category => '法人', keywords => ARRAY['企业', '登记', '市场主体'], high_value => true) AS enterprise;
SELECT pubdata.set_item('LS-SJ-QYDJ', 'uscc', '统一社会信用代码', is_key => true);
SELECT pubdata.set_item('LS-SJ-QYDJ', 'name', '企业名称');
SELECT pubdata.set_item('LS-SJ-QYDJ', 'legal_rep', '法定代表人', personal => 'personal', mask => 'name');
SELECT pubdata.set_item('LS-SJ-QYDJ', 'region', '住所地行政区划');
SELECT pubdata.set_item('LS-SJ-QYDJ', 'industry', '行业');
SELECT pubdata.set_item('LS-SJ-QYDJ', 'registered_capital', '注册资本（元）');
SELECT pubdata.set_item('LS-SJ-QYDJ', 'established', '成立日期');
SELECT pubdata.set_item('LS-SJ-QYDJ', 'status', '登记状态');
SELECT pubdata.declare_element('LS-SJ-QYDJ', 'uscc', 'uscc', authoritative => true);
SELECT pubdata.submit_resource('LS-SJ-QYDJ');
RESET ROLE;

-- the health commission's vaccination records (non-shared by law)
SET ROLE lishui_health;
CREATE TABLE health.vaccination (id_number text, vaccine text, dose int, given_on date, clinic text);
INSERT INTO health.vaccination
SELECT h, (ARRAY['乙肝疫苗','麻腮风疫苗','流感疫苗','新冠疫苗'])[1 + g % 4], 1 + g % 3, date '2025-01-01' + g % 600, '丽水市中心医院'
  FROM generate_series(1, 800) g, LATERAL (SELECT '331102199001011234' AS h) x;
SELECT pubdata.register_resource('health.vaccination', 'LS-WJ-YMJZ', '预防接种记录', 'LS-WJ', 'non_shared', 'not_open', 'daily', 4,
	legal_basis => '《中华人民共和国疫苗管理法》第三十六条；个人健康信息保护', summary => '预防接种个案记录') AS vaccination;
-- re-collecting identity numbers that the police share is refused without a legal basis (Art 16(3))
\o
\echo
\echo '== One data, one source: the health commission declares its own collection of identity numbers'
\set ON_ERROR_STOP off
SELECT pubdata.declare_element('LS-WJ-YMJZ', 'resident_id', 'id_number');
\set ON_ERROR_STOP on
\o /dev/null
SELECT pubdata.declare_element('LS-WJ-YMJZ', 'resident_id', 'id_number', legal_basis => '《疫苗管理法》第三十六条 接种实名登记');
SELECT pubdata.submit_resource('LS-WJ-YMJZ');
RESET ROLE;

-- the water utility (Art 35) and a county supplementary catalog
SET ROLE lishui_water;
CREATE TABLE water.meter_reading (meter_id text, region text, month date, cubic_metres numeric(10,2));
INSERT INTO water.meter_reading
SELECT 'M' || lpad((g % 300)::text, 5, '0'), (ARRAY['331102','331121','331181'])[1 + g % 3],
	   date '2026-01-01' + ((g / 300) || ' months')::interval, round((5 + (g % 40))::numeric, 2)
  FROM generate_series(0, 2999) g;
SELECT pubdata.register_resource('water.meter_reading', 'LS-SW-YSL', '居民用水量', 'LS-SW', 'restricted', 'not_open', 'monthly', 2,
	summary => '按表计的月度用水量', category => '公用事业') AS water;
SELECT pubdata.submit_resource('LS-SW-YSL');
RESET ROLE;
SET ROLE liandu_civil;
CREATE TABLE liandu.subsistence (id_number text, name text, village text, monthly_allowance numeric(8,2), since date);
INSERT INTO liandu.subsistence SELECT id_number, name, '莲都某村', 800, date '2024-01-01'
  FROM (VALUES ('331102199001011234', '张三'), ('331102198505052345', '李四')) v(id_number, name);
SELECT pubdata.register_resource('liandu.subsistence', 'LD-MZ-DB', '莲都区最低生活保障对象', 'LD-MZ', 'restricted', 'not_open', 'monthly', 3,
	summary => '区级补充目录：低保对象') AS subsistence;
RESET ROLE;

-- the bureau reviews: one entry goes back with a comment, then everything is published
SET ROLE lishui_bureau;
SELECT pubdata.review_resource('LS-SW-YSL', false, '请补充各信息项的中文名称');
RESET ROLE;
SET ROLE lishui_water;
SELECT pubdata.set_item('LS-SW-YSL', 'meter_id', '水表编号', is_key => true);
SELECT pubdata.set_item('LS-SW-YSL', 'region', '行政区划');
SELECT pubdata.set_item('LS-SW-YSL', 'month', '月份');
SELECT pubdata.set_item('LS-SW-YSL', 'cubic_metres', '用水量（立方米）');
SELECT pubdata.submit_resource('LS-SW-YSL');
RESET ROLE;
SET ROLE lishui_bureau;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c)
  FROM unnest(ARRAY['LS-GA-HJRK', 'LS-GA-PCS', 'LS-SJ-QYDJ', 'LS-WJ-YMJZ', 'LS-SW-YSL']) c;
RESET ROLE;

\o
\echo
\echo '== The catalog (pubdata.resource_catalog)'
SELECT code, name, provider, share_class, open_class, update_frequency AS frequency, catalog_level AS level, status, version, items
  FROM pubdata.resource_catalog ORDER BY code;
\echo '== One data, one source (pubdata.element_source)'
SELECT element, name, source_resource, source_department FROM pubdata.element_source ORDER BY 1;
\echo '== Version history of LS-SW-YSL (returned, described, resubmitted, published)'
SELECT version, entry->>'status' AS status, changed_by FROM pubdata.resource_history
 WHERE resource_id = pubdata.resource_id('LS-SW-YSL') ORDER BY version;
