-- The column comment names the masks live grants give an item under (issue
-- 14): what a BI tool shows beside the values.  One generated last line after
-- the provider's own text, no department named; rebuilt on approval,
-- revocation, expiry, retirement and after the provider's COMMENT ON COLUMN.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_mc_admin IN ROLE pubdata_admin;
CREATE ROLE regress_mc_police LOGIN;
CREATE ROLE regress_mc_civil LOGIN;
CREATE ROLE regress_mc_tax LOGIN;
CREATE SCHEMA mcp AUTHORIZATION regress_mc_police;
RESET client_min_messages;
SET ROLE regress_mc_admin;
SELECT pubdata.add_department('mc_police', '市公安局', '331100', 'administrative', 'regress_mc_police') > 0 AS ok;
SELECT pubdata.add_department('mc_civil', '莲都区民政局', '331102', 'administrative', 'regress_mc_civil') > 0 AS ok;
SELECT pubdata.add_department('mc_tax', '市税务局', '331100', 'administrative', 'regress_mc_tax') > 0 AS ok;
RESET ROLE;

-- the provider's own comments, before any grant
SET SESSION AUTHORIZATION regress_mc_police;
CREATE TABLE mcp.person (id_number text PRIMARY KEY, name text, phone text, birth date, region text);
COMMENT ON COLUMN mcp.person.id_number IS '公民身份号码';
COMMENT ON COLUMN mcp.person.name IS E'姓名\n[pubdata] masked in grants: none at all';
INSERT INTO mcp.person VALUES ('331102199001011234', '张三', '13800000001', '1990-01-01', '331102');
SELECT pubdata.register_resource('mcp.person', 'MC-PERSON', '人口基础信息', 'mc_police', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.submit_resource('MC-PERSON');
RESET SESSION AUTHORIZATION;
CREATE VIEW mc_comments AS
	SELECT a.attname AS item, col_description(a.attrelid, a.attnum) AS comment
	  FROM pg_attribute a WHERE a.attrelid = 'mcp.person'::regclass AND a.attnum > 0 AND NOT a.attisdropped
	 ORDER BY a.attnum;
GRANT SELECT ON mc_comments TO PUBLIC;
SET ROLE regress_mc_admin;
SELECT pubdata.review_resource('MC-PERSON', true), pubdata.publish_resource('MC-PERSON');
RESET ROLE;
-- registration took away the line the provider wrote in pubdata's form: no
-- grant gives any item masked yet
SELECT * FROM mc_comments;

-- requests do not change the comments; approvals do, without naming anyone
SET SESSION AUTHORIZATION regress_mc_civil;
SELECT pubdata.request_share('MC-PERSON', '低保核查（脱敏）', ARRAY['id_number', 'name', 'birth', 'region'],
	masks => '{"id_number": "id_card", "name": "name", "birth": "year"}') AS gc \gset
SELECT pubdata.request_share('MC-PERSON', '本区复核', ARRAY['phone', 'region']) AS gclear \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mc_tax;
SELECT pubdata.request_share('MC-PERSON', '个税核验（化名）', ARRAY['id_number', 'region'],
	masks => '{"id_number": "pseudonym"}') AS gt \gset
RESET SESSION AUTHORIZATION;
SELECT * FROM mc_comments;
SET SESSION AUTHORIZATION regress_mc_police;
SELECT pubdata.decide_share(:gc, true);
SELECT pubdata.decide_share(:gclear, true);
SELECT pubdata.decide_share(:gt, true);
RESET SESSION AUTHORIZATION;
-- what every department sees (a grant in clear adds nothing)
SET SESSION AUTHORIZATION regress_mc_civil;
SELECT * FROM mc_comments;
SELECT items, masks FROM pubdata.share_request_status WHERE id = :gc;
-- the department reads the masked values the comment announces
SELECT id_number, name, birth FROM mcp.person;
-- it may not change the comment, nor make pubdata stand aside
COMMENT ON COLUMN mcp.person.id_number IS 'clear';
SET pubdata.internal_ddl = on;
RESET SESSION AUTHORIZATION;

-- the provider's COMMENT ON COLUMN keeps its text; the line comes back, and a
-- line in pubdata's form that pubdata did not write is replaced
SET SESSION AUTHORIZATION regress_mc_police;
COMMENT ON COLUMN mcp.person.id_number IS '身份证号码（18位）';
COMMENT ON COLUMN mcp.person.birth IS E'出生日期\n[pubdata] masked in grants: nothing, it is clear';
COMMENT ON COLUMN mcp.person.phone IS E'[pubdata] masked in grants: phone';
COMMENT ON COLUMN mcp.person.name IS NULL;
-- a tool that edits the whole comment writes the line back: never doubled
DO $$BEGIN
	EXECUTE format('COMMENT ON COLUMN mcp.person.region IS %L', 'x');
	EXECUTE format('COMMENT ON COLUMN mcp.person.id_number IS %L',
				   col_description('mcp.person'::regclass, 1) || E'\n[pubdata] masked in grants: id_card, pseudonym');
END$$;
RESET SESSION AUTHORIZATION;
SELECT * FROM mc_comments;

-- revocation, expiry and retirement take the masks that end out
SET SESSION AUTHORIZATION regress_mc_tax;
SELECT pubdata.revoke_share(:gt, '核验完成');
RESET SESSION AUTHORIZATION;
SELECT * FROM mc_comments;
UPDATE pubdata.share_request SET expires_at = now() - interval '1 second' WHERE id = :gc;
-- expired grants stop working at once; the sweep updates the comments
SELECT pubdata.sweep_grants() >= 1 AS swept;
SELECT * FROM mc_comments;

-- a scenario's masked items and a provider's own mask are named too
SET SESSION AUTHORIZATION regress_mc_police;
SELECT pubdata.define_mask('MC-PERSON', 'name', 'surname', $$left(name, 1) || '某'$$) > 0 AS defined;
RESET SESSION AUTHORIZATION;
SET ROLE regress_mc_admin;
SELECT pubdata.add_scenario('MC-SC', '困难群众精准帮扶', '救助对象识别', ARRAY['mc_tax']) > 0 AS added;
SELECT pubdata.add_scenario_resource('MC-SC', 'MC-PERSON', ARRAY['id_number', 'region'], masks => '{"id_number": "id_card"}');
SELECT pubdata.approve_scenario('MC-SC');
RESET ROLE;
SET SESSION AUTHORIZATION regress_mc_tax;
SELECT pubdata.request_share('MC-PERSON', '帮扶识别', ARRAY['id_number', 'region'], scenario => 'MC-SC',
	masks => '{"id_number": "id_card"}') > 0 AS granted_at_once;
SELECT pubdata.request_share('MC-PERSON', '姓氏统计', ARRAY['name'], masks => '{"name": "custom:surname"}') AS gs \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_mc_police;
SELECT pubdata.decide_share(:gs, true);
RESET SESSION AUTHORIZATION;
SELECT * FROM mc_comments;
SET SESSION AUTHORIZATION regress_mc_police;
SELECT pubdata.retire_resource('MC-PERSON', '并入人口综合库');
RESET SESSION AUTHORIZATION;
SELECT * FROM mc_comments;

SET client_min_messages = warning;
DROP VIEW mc_comments;
DROP SCHEMA mcp CASCADE;
