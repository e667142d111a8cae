-- Open data (Art 20, 21): views in pubdata_open, masks, conditional readers, catalog
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_open_admin IN ROLE pubdata_admin;
CREATE ROLE regress_open_stats;
CREATE ROLE regress_open_health;
CREATE ROLE regress_open_bi IN ROLE pubdata_open_reader;
CREATE ROLE regress_open_partner;
CREATE SCHEMA regress_open_stats AUTHORIZATION regress_open_stats;
CREATE SCHEMA regress_open_health AUTHORIZATION regress_open_health;
-- something in another schema that the BI role must not see
CREATE TABLE public.regress_open_secret (x int);
INSERT INTO public.regress_open_secret VALUES (42);
RESET client_min_messages;

SET ROLE regress_open_admin;
SELECT pubdata.add_department('regress_open_stats', '市统计局', '331100', 'administrative', 'regress_open_stats',
							  data_commissioner => '赵专员') > 0 AS added;
SELECT pubdata.add_department('regress_open_health', '市卫生健康委', '331100', 'administrative', 'regress_open_health') > 0 AS added;
RESET ROLE;

-- the statistics bureau's enterprise register: a table and columns whose names
-- carry quotes and semicolons
SET ROLE regress_open_stats;
CREATE TABLE regress_open_stats."biz""list; --" (
	uscc		text PRIMARY KEY,
	"name'; DROP TABLE public.regress_open_secret; --" text,
	legal_person text,
	legal_id	text,
	phone		text,
	email		text,
	home_address text,
	internal_note text,
	capital		numeric(12,2),
	staff		integer,
	founded		date,
	updated		timestamptz,
	listed		boolean
);
INSERT INTO regress_open_stats."biz""list; --" VALUES
	('91331100MA2A000001', '丽水"云"科技有限公司', '张小三', '330102199001011234', '13812345678', 'zhang@example.cn',
	 '莲都区某路1号', '内部备注', 1000000.50, 12, '2019-05-01', '2026-01-02 08:30:00+08', true),
	('91331100MA2A000002', '青田石雕\工艺厂', '欧阳锋', '33112119800202567X', '13900001111', 'zhang@example.cn',
	 '青田县某路2号', '不公开', 50000, 3, '2001-01-01', NULL, false),
	('91331100MA2A000003', '缙云烧饼店', '李四', NULL, '0578123', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT pubdata.register_resource('regress_open_stats."biz""list; --"', 'SJ-QY.001', '企业名录', 'regress_open_stats',
	'unconditional', 'open', 'monthly', 2, summary => '全市登记企业基本信息，含"引号"与\反斜杠', category => '经济建设',
	high_value => true, keywords => ARRAY['企业', '市场主体']) > 0 AS registered;
SELECT pubdata.set_item('SJ-QY.001', 'uscc', '统一社会信用代码', is_key => true);
SELECT pubdata.set_item('SJ-QY.001', E'name''; DROP TABLE public.regress_open_secret; --', '企业名称（含''引号''）');
SELECT pubdata.set_item('SJ-QY.001', 'legal_person', '法定代表人', personal => 'personal', mask => 'name');
SELECT pubdata.set_item('SJ-QY.001', 'legal_id', '法定代表人身份证号', personal => 'sensitive', mask => 'id_card');
SELECT pubdata.set_item('SJ-QY.001', 'phone', '联系电话', personal => 'personal', mask => 'phone');
SELECT pubdata.set_item('SJ-QY.001', 'email', '联系邮箱', personal => 'personal', mask => 'pseudonym');
SELECT pubdata.set_item('SJ-QY.001', 'home_address', '法定代表人住址', personal => 'personal');
SELECT pubdata.set_item('SJ-QY.001', 'internal_note', '内部备注', share_class => 'restricted');
SELECT pubdata.set_item('SJ-QY.001', 'capital', '注册资本（元）');
SELECT pubdata.set_item('SJ-QY.001', 'staff', '从业人数');
SELECT pubdata.set_item('SJ-QY.001', 'founded', '成立日期');
SELECT pubdata.set_item('SJ-QY.001', 'updated', '更新时间');
SELECT pubdata.set_item('SJ-QY.001', 'listed', '是否上市');
SELECT pubdata.submit_resource('SJ-QY.001');
-- a conditional dataset and a dataset that is not open
CREATE TABLE regress_open_stats.survey (id integer PRIMARY KEY, county text, income numeric);
INSERT INTO regress_open_stats.survey VALUES (1, '莲都区', 52000), (2, '龙泉市', 41000);
SELECT pubdata.register_resource('regress_open_stats.survey', 'SJ-DC-9', '住户调查', 'regress_open_stats',
	'unconditional', 'conditional', 'annual', 2, summary => '住户收支抽样调查汇总') > 0 AS registered;
SELECT pubdata.submit_resource('SJ-DC-9');
CREATE TABLE regress_open_stats.staffing (id integer PRIMARY KEY, unit text);
SELECT pubdata.register_resource('regress_open_stats.staffing', 'SJ-NO-1', '编制信息', 'regress_open_stats',
	'unconditional', 'not_open', 'annual', 2) > 0 AS registered;
SELECT pubdata.submit_resource('SJ-NO-1');
RESET ROLE;

SET ROLE regress_open_health;
CREATE TABLE regress_open_health.hospital (id integer PRIMARY KEY, name text, beds integer);
INSERT INTO regress_open_health.hospital VALUES (1, '丽水市人民医院', 1500), (2, '丽水市中心医院', 2000);
SELECT pubdata.register_resource('regress_open_health.hospital', 'ws-hosp', '医疗机构', 'regress_open_health',
	'unconditional', 'open', 'quarterly', 1, summary => '医疗机构名录与床位数') > 0 AS registered;
SELECT pubdata.submit_resource('ws-hosp');
RESET ROLE;

-- nothing is opened before publication
SELECT count(*) AS open_views FROM pg_class
 WHERE relnamespace = 'pubdata_open'::regnamespace AND relname NOT IN ('catalog', 'dcat', 'dcat_turtle');

SET ROLE regress_open_admin;
SELECT pubdata.review_resource(c, true) FROM unnest(ARRAY['SJ-QY.001', 'SJ-DC-9', 'SJ-NO-1', 'ws-hosp']) c;
SELECT pubdata.publish_resource(c) FROM unnest(ARRAY['SJ-QY.001', 'SJ-DC-9', 'SJ-NO-1', 'ws-hosp']) c;
RESET ROLE;

-- publication created one view per open or conditional resource, named from the code
SELECT r.code, o.view_name, o.columns, o.dropped_at IS NULL AS live,
	   pg_get_userbyid(c.relowner) = (SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'pubdata') AS owned_by_extension_owner,
	   c.reloptions
  FROM pubdata.open_dataset o JOIN pubdata.resource r ON r.id = o.resource_id
  LEFT JOIN pg_class c ON c.oid = to_regclass(format('pubdata_open.%I', o.view_name))
 WHERE r.code IN ('SJ-QY.001', 'SJ-DC-9', 'SJ-NO-1', 'ws-hosp') ORDER BY r.code;
-- columns: only open items, plain types, Chinese comments; personal items masked or left out
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, col_description(a.attrelid, a.attnum) AS comment
  FROM pg_attribute a WHERE a.attrelid = 'pubdata_open.sj_qy_001'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT obj_description('pubdata_open.sj_qy_001'::regclass, 'pg_class') AS view_comment;
SELECT obj_description('pubdata_open.ws_hosp'::regclass, 'pg_class') AS view_comment;
-- the base table has row-level security; the view still reads it
SELECT relrowsecurity FROM pg_class WHERE oid = 'regress_open_stats."biz""list; --"'::regclass;

-- what the BI tool sees
SET ROLE regress_open_bi;
-- (email is a keyed pseudonym: the key is random per installation, so it is checked below, not printed)
SELECT uscc, "name'; DROP TABLE public.regress_open_secret; --", legal_person, legal_id, phone,
	   email IS NOT NULL AS has_email, capital, staff, founded, updated, listed
  FROM pubdata_open.sj_qy_001 ORDER BY uscc;
SELECT * FROM pubdata_open.sj_qy_001 WHERE email = 'zhang@example.cn';
-- pseudonyms: 64 hex digits, equal for equal values (joinable), not the value
SELECT count(DISTINCT email) AS distinct_pseudonyms, min(length(email)) AS len, bool_and(email ~ '^[0-9a-f]{64}$') AS hex
  FROM pubdata_open.sj_qy_001 WHERE email IS NOT NULL;
SELECT * FROM pubdata_open.ws_hosp ORDER BY id;
-- the catalog: high-value first
SELECT dataset_code, title, publisher, theme, keywords, update_frequency, access_view, high_value, open_class, items
  FROM pubdata_open.catalog WHERE dataset_code IN ('SJ-QY.001', 'SJ-DC-9', 'SJ-NO-1', 'ws-hosp');
SELECT last_modified IS NOT NULL AS has_last_modified FROM pubdata_open.catalog WHERE dataset_code = 'SJ-QY.001';
-- and nothing more: not the conditional dataset, not the base table, not pubdata, not other schemas
SELECT * FROM pubdata_open.sj_dc_9;
SELECT * FROM regress_open_stats."biz""list; --";
SELECT * FROM regress_open_stats.survey;
SELECT * FROM pubdata.resource;
SELECT * FROM pubdata.open_pseudonym_key;
SELECT * FROM public.regress_open_secret;
SELECT pubdata.dcat_catalog() IS NOT NULL;
CREATE VIEW pubdata_open.mine AS SELECT 1;
-- every relation the role can read is in pubdata_open
SELECT table_schema, count(*) > 0 AS some FROM information_schema.tables
 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS readable_outside_pubdata_open FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pubdata_open')
   AND has_table_privilege(c.oid, 'SELECT');
RESET ROLE;
-- the injection attempt in the column name did nothing
SELECT * FROM public.regress_open_secret;

-- conditional: the provider names the roles that may read
SET ROLE regress_open_health;
SELECT pubdata.allow_open_reader('SJ-DC-9', 'regress_open_partner');
RESET ROLE;
SET ROLE regress_open_stats;
SELECT pubdata.allow_open_reader('SJ-QY.001', 'regress_open_partner');
SELECT pubdata.allow_open_reader('SJ-DC-9', 'no_such_role');
SELECT pubdata.allow_open_reader('SJ-DC-9', 'pubdata_department');
SELECT pubdata.allow_open_reader('SJ-DC-9', 'pubdata_open_reader');
SELECT pubdata.allow_open_reader('SJ-DC-9', 'postgres');
SELECT pubdata.allow_open_reader('SJ-DC-9', 'regress_open_partner');
SELECT role_name, granted_by FROM pubdata.open_reader WHERE resource_id = pubdata.resource_id('SJ-DC-9');
RESET ROLE;
SET ROLE regress_open_partner;
SELECT * FROM pubdata_open.sj_dc_9 ORDER BY id;
SELECT * FROM pubdata_open.sj_qy_001;
RESET ROLE;
SET ROLE regress_open_bi;
SELECT * FROM pubdata_open.sj_dc_9;
RESET ROLE;
SET ROLE regress_open_stats;
SELECT pubdata.disallow_open_reader('SJ-DC-9', 'regress_open_partner');
SELECT pubdata.disallow_open_reader('SJ-DC-9', 'regress_open_partner');
RESET ROLE;
SET ROLE regress_open_partner;
SELECT * FROM pubdata_open.sj_dc_9;
RESET ROLE;

-- an item change on a published resource updates the view's comments
SET ROLE regress_open_stats;
SELECT pubdata.set_item('SJ-QY.001', 'capital', '注册资本', description => '单位：元');
RESET ROLE;
SELECT col_description(attrelid, attnum) AS capital_comment FROM pg_attribute
 WHERE attrelid = 'pubdata_open.sj_qy_001'::regclass AND attname = 'capital';
SET ROLE regress_open_bi;
SELECT count(*) AS still_readable FROM pubdata_open.sj_qy_001;
RESET ROLE;

-- masks, one by one (pubdata.mask_value shows what a view shows)
SET ROLE regress_open_stats;
SELECT rule, pubdata.mask_value(v, rule) AS masked
  FROM (VALUES ('id_card', '330102199001011234'), ('id_card', '1234567'), ('name', '张三'), ('name', '张小三'),
			   ('name', '欧阳小明'), ('name', '张'), ('phone', '13812345678'), ('phone', '123'),
			   ('email', 'zhang.san@example.cn'), ('email', 'nomail'), ('redact', 'x'), ('none', 'x'), ('id_card', NULL)) t(rule, v);
SELECT pubdata.mask_value('x', 'hash');
-- the pseudonym key is the bureau's: a department cannot compute pseudonyms
SELECT pubdata.mask_value('zhang@example.cn', 'pseudonym');
SELECT * FROM pubdata.open_pseudonym_key;
SELECT pubdata.rotate_pseudonym_key();
RESET ROLE;
SET ROLE regress_open_admin;
SELECT pubdata.mask_value('zhang@example.cn', 'pseudonym') = (SELECT email FROM pubdata_open.sj_qy_001 WHERE uscc = '91331100MA2A000001') AS pseudonym_matches;
SELECT length(key) AS key_bytes FROM pubdata.open_pseudonym_key;
CREATE TEMP TABLE regress_open_before AS SELECT email FROM pubdata_open.sj_qy_001 WHERE uscc = '91331100MA2A000001';
SELECT pubdata.rotate_pseudonym_key();
SELECT (SELECT email FROM pubdata_open.sj_qy_001 WHERE uscc = '91331100MA2A000001') <> email AS pseudonym_changed FROM regress_open_before;
RESET ROLE;

-- dropping an opened column needs CASCADE; the view is then rebuilt without it
SET ROLE regress_open_stats;
BEGIN;
ALTER TABLE regress_open_stats."biz""list; --" DROP COLUMN staff;
ROLLBACK;
BEGIN;
ALTER TABLE regress_open_stats."biz""list; --" DROP COLUMN staff CASCADE;
RESET ROLE;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns_now FROM pg_attribute
 WHERE attrelid = 'pubdata_open.sj_qy_001'::regclass AND attnum > 0;
ROLLBACK;

-- retiring drops the view; the name stays reserved for the resource
SET ROLE regress_open_health;
SELECT pubdata.retire_resource('ws-hosp', '机构调整');
RESET ROLE;
SELECT to_regclass('pubdata_open.ws_hosp') AS view_after_retire,
	   (SELECT dropped_at IS NOT NULL FROM pubdata.open_dataset WHERE view_name = 'ws_hosp') AS marked_dropped;
SET ROLE regress_open_bi;
SELECT dataset_code FROM pubdata_open.catalog WHERE dataset_code IN ('SJ-QY.001', 'SJ-DC-9', 'SJ-NO-1', 'ws-hosp');
SELECT * FROM pubdata_open.ws_hosp;
RESET ROLE;

-- a reader's own leaky function in WHERE sees only the rows the view gives it:
-- the catalog's filter (published, open) runs first (every pubdata view is a
-- security barrier)
SET ROLE regress_open_bi;
CREATE FUNCTION pg_temp.leak(c text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE COST 0.0000001
	AS $$BEGIN RAISE NOTICE 'seen: %', c; RETURN true; END$$;
SELECT count(*) FROM pubdata_open.catalog WHERE pg_temp.leak(dataset_code) AND dataset_code LIKE 'SJ-%';
RESET ROLE;
SELECT code, status, open_class FROM pubdata.resource WHERE code LIKE 'SJ-%' ORDER BY code;

-- a mask never returns its value unchanged: short values become all stars
SELECT n, pubdata.mask_value(left('33110219900101123456', n), 'id_card') AS id_card,
	   pubdata.mask_value(left('13800138000123456789', n), 'phone') AS phone,
	   pubdata.mask_value(left('欧阳锋张三李四王五赵六钱七孙八周九吴十郑', n), 'name') AS name
  FROM generate_series(0, 20) n ORDER BY n;
SELECT count(*) AS unchanged FROM generate_series(1, 20) n, unnest(ARRAY['id_card', 'phone', 'name', 'email']) r
 WHERE pubdata.mask_value(left('33110219900101123456', n), r) = left('33110219900101123456', n)
	OR pubdata.mask_value(left('欧阳锋张三李四王五赵六钱七孙八周九吴十郑', n), r) = left('欧阳锋张三李四王五赵六钱七孙八周九吴十郑', n);

-- ---------------------------------------------------------------------------
-- Honest types: a column keeps its type unless masked; a domain shows its
-- built-in base type; a department's own type (an enum) is text, converted by
-- the table owner's read; masked columns are text and their comments say so
-- ---------------------------------------------------------------------------
SET ROLE regress_open_stats;
CREATE DOMAIN regress_open_stats.district_code AS varchar(6) CHECK (VALUE ~ '^[0-9]{6}$');
CREATE TYPE regress_open_stats.grade AS ENUM ('甲', '乙');
CREATE TABLE regress_open_stats.typed (
	id			bigint PRIMARY KEY,
	score		numeric(5,1),
	ratio		double precision,
	district	regress_open_stats.district_code,
	grade		regress_open_stats.grade,
	born		date,
	seen		timestamptz,
	seen_local	timestamp,
	active		boolean,
	tags		text[],
	note		varchar(20)
);
INSERT INTO regress_open_stats.typed VALUES
	(9007199254740993, 98.5, 0.25, '331102', '甲', '1990-05-17', '2026-03-04 10:00:00+08', '2026-03-04 10:00:00', true,
	 ARRAY['a', 'b'], '备注'),
	(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT pubdata.register_resource('regress_open_stats.typed', 'SJ-TYPE-1', '类型样例', 'regress_open_stats',
	'unconditional', 'open', 'weekly', 1, summary => '类型样例') > 0 AS registered;
-- a description equal to the title is not repeated; another one is added once
SELECT pubdata.set_item('SJ-TYPE-1', 'score', '得分', description => '得分');
SELECT pubdata.set_item('SJ-TYPE-1', 'ratio', '比例', description => '占总数的比例');
SELECT pubdata.set_item('SJ-TYPE-1', 'born', '出生日期', personal => 'personal', mask => 'year');
SELECT pubdata.set_item('SJ-TYPE-1', 'seen', '到访时间', personal => 'personal', mask => 'month');
SELECT pubdata.set_item('SJ-TYPE-1', 'note', '备注', personal => 'personal', mask => 'pseudonym');
SELECT pubdata.submit_resource('SJ-TYPE-1');
RESET ROLE;
SET ROLE regress_open_admin;
SELECT pubdata.review_resource('SJ-TYPE-1', true), pubdata.publish_resource('SJ-TYPE-1');
RESET ROLE;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, col_description(a.attrelid, a.attnum) AS comment
  FROM pg_attribute a WHERE a.attrelid = 'pubdata_open.sj_type_1'::regclass AND a.attnum > 0 ORDER BY a.attnum;
-- the summary equal to the name is not repeated; the frequency in Chinese
SELECT obj_description('pubdata_open.sj_type_1'::regclass, 'pg_class') AS view_comment;
SET ROLE regress_open_bi;
SET TIME ZONE 'Asia/Shanghai';
-- bigint beyond 2^53, numeric scale, the domain's value, the enum as text,
-- year and month of the date and the timestamptz (session time zone)
SELECT id, score, ratio, district, grade, born, seen, seen_local, active, tags, length(note) AS pseudonym_length
  FROM pubdata_open.sj_type_1 ORDER BY id;
SELECT pg_typeof(id) AS id, pg_typeof(score) AS score, pg_typeof(active) AS active, pg_typeof(tags) AS tags,
	   pg_typeof(seen_local) AS seen_local
  FROM pubdata_open.sj_type_1 LIMIT 1;
-- the reader's operators work on the real types: filters and sums
SELECT sum(score) AS total, count(*) FILTER (WHERE id > 9007199254740992) AS big_ids
  FROM pubdata_open.sj_type_1;
RESET TIME ZONE;
RESET ROLE;

-- the views' pseudonym is HMAC-SHA256 under the key, as pgcrypto computes it
-- (the same values as before the masks moved to C)
SET ROLE regress_open_admin;
-- a direct call must declare the view's columns and types
SELECT * FROM pubdata.open_dataset_rows(pubdata.resource_id('SJ-TYPE-1'))
	AS r(id numeric, score numeric, ratio float8, district varchar, grade text, born text, seen text, seen_local timestamp,
		 active bool, tags text[], note text);
SELECT id, grade, born FROM pubdata.open_dataset_rows(pubdata.resource_id('SJ-TYPE-1'))
	AS r(id bigint, score numeric, ratio float8, district varchar, grade text, born text, seen text, seen_local timestamp,
		 active bool, tags text[], note text) ORDER BY id;
SELECT (SELECT email FROM pubdata_open.sj_qy_001 WHERE uscc = '91331100MA2A000001')
	 = encode(hmac(convert_to('zhang@example.cn', 'UTF8'), (SELECT key FROM pubdata.open_pseudonym_key), 'sha256'), 'hex')
	   AS same_as_pgcrypto,
	   pubdata.mask_value('备注', 'pseudonym')
	 = encode(hmac(convert_to('备注', 'UTF8'), (SELECT key FROM pubdata.open_pseudonym_key), 'sha256'), 'hex')
	   AS mask_value_too;
-- year and month of text, and the other masks' edges
SELECT pubdata.mask_value('1990-05-17', 'year') AS year, pubdata.mask_value('1990-05-17', 'month') AS month,
	   pubdata.mask_value('', 'name') AS empty_name, pubdata.mask_value('@x', 'email') AS at_first,
	   pubdata.mask_value(NULL, 'pseudonym') AS null_value, pubdata.mask_value('x', 'redact') AS redacted;
SELECT pubdata.mask_value('x', NULL);
SELECT pubdata.mask_value('x', 'custom:mine#1');
RESET ROLE;

-- a leaky function of the reader's in WHERE, against every view the reader
-- can reach: it sees only what the views show (masked values, open items)
SET ROLE regress_open_bi;
CREATE TEMP TABLE seen (t text);
CREATE FUNCTION pg_temp.leak_row(t text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001
	AS $$BEGIN INSERT INTO pg_temp.seen VALUES (t); RETURN true; END$$;
DO $$
DECLARE
	v regclass;
BEGIN
	FOR v IN SELECT c.oid::regclass FROM pg_class c
			  WHERE c.relnamespace = 'pubdata_open'::regnamespace AND c.relkind = 'v'
				AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1
	LOOP
		EXECUTE format('SELECT count(*) FROM %s x WHERE pg_temp.leak_row(x::text)', v);
	END LOOP;
END
$$;
SELECT bool_or(t LIKE '%3301**********1234%') AS saw_masked_rows, bool_or(t LIKE '%9007199254740993%') AS saw_typed_rows,
	   count(*) FILTER (WHERE t LIKE ANY (ARRAY['%330102199001011234%', '%13812345678%', '%zhang@example.cn%',
			'%张小三%', '%内部备注%', '%某路1号%', '%1990-05-17%', '%备注)%', '%52000%'])) AS raw_values_seen
  FROM pg_temp.seen;
RESET ROLE;
