-- Security: the attacks of a department against every module, run as a
-- non-superuser department login (SET SESSION AUTHORIZATION, so that SET ROLE
-- is really checked).  Each attack must fail with a clear error, and the state
-- is asserted afterwards to be unchanged.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_sec_admin IN ROLE pubdata_admin;
CREATE ROLE regress_sec_a;				-- the provider
CREATE ROLE regress_sec_b;				-- a user, granted some rows and columns
CREATE ROLE regress_sec_c;				-- a department without grants
CREATE ROLE regress_sec_a_login LOGIN IN ROLE regress_sec_a;
CREATE ROLE regress_sec_b_login LOGIN IN ROLE regress_sec_b;
CREATE SCHEMA regress_sec_sa AUTHORIZATION regress_sec_a;
CREATE SCHEMA regress_sec_sb AUTHORIZATION regress_sec_b;
GRANT USAGE ON SCHEMA regress_sec_sa, regress_sec_sb TO PUBLIC;
RESET client_min_messages;

SET ROLE regress_sec_admin;
SELECT pubdata.add_department('regress_sec_a', '甲局', '331100', 'administrative', 'regress_sec_a') > 0 AS added;
SELECT pubdata.add_department('regress_sec_b', '乙局', '331100', 'administrative', 'regress_sec_b') > 0 AS added;
SELECT pubdata.add_department('regress_sec_c', '丙局', '331100', 'administrative', 'regress_sec_c') > 0 AS added;

-- the provider's tables: one with quotes and semicolons in every identifier
SET ROLE regress_sec_a;
ALTER DEFAULT PRIVILEGES IN SCHEMA regress_sec_sa GRANT SELECT ON TABLES TO pubdata_department;
CREATE TABLE regress_sec_sa.person (id int PRIMARY KEY, name text, id_card text, region text, secret text);
INSERT INTO regress_sec_sa.person VALUES
	(1, '张三', '110105194912310021', '331102', 's1'),
	(2, '李四', '331102198001010019', '331121', 's2');
CREATE TABLE regress_sec_sa.hidden (id int PRIMARY KEY, note text);
INSERT INTO regress_sec_sa.hidden VALUES (1, 'top secret');
CREATE TABLE regress_sec_sa."odd""; DROP TABLE regress_sec_sa.hidden; --" (
	"k""; --" int PRIMARY KEY,
	"re'gion); DELETE FROM regress_sec_sa.person; --" text,
	"v" text);
INSERT INTO regress_sec_sa."odd""; DROP TABLE regress_sec_sa.hidden; --" VALUES (1, 'x''y', 'one'), (2, 'z', 'two');
-- privileges and policies given before registration do not survive it
GRANT SELECT ON regress_sec_sa.person TO PUBLIC, regress_sec_b_login;
ALTER TABLE regress_sec_sa.person ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone ON regress_sec_sa.person FOR SELECT USING (true);
CREATE POLICY b_all ON regress_sec_sa.person FOR SELECT TO regress_sec_b_login USING (true);
CREATE POLICY a_only ON regress_sec_sa.person AS RESTRICTIVE FOR SELECT TO PUBLIC USING (id < 100);
SELECT pubdata.register_resource('regress_sec_sa.person', 'RSEC-PERSON', '人员', 'regress_sec_a',
	'restricted', 'not_open', 'daily', 2) > 0 AS registered;
SELECT pubdata.set_item('RSEC-PERSON', 'secret', share_class => 'non_shared');
SELECT pubdata.set_item('RSEC-PERSON', 'id_card', personal => 'personal');
SELECT pubdata.register_resource('regress_sec_sa.hidden', 'RSEC-HIDDEN', '内部', 'regress_sec_a',
	'non_shared', 'not_open', 'daily', 4, legal_basis => '保密法') > 0 AS registered;
SELECT pubdata.register_resource('regress_sec_sa."odd""; DROP TABLE regress_sec_sa.hidden; --"', 'RSEC-ODD', '怪名',
	'regress_sec_a', 'restricted', 'open', 'daily', 1) > 0 AS registered;
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['RSEC-PERSON', 'RSEC-HIDDEN', 'RSEC-ODD']) c;
SET ROLE regress_sec_admin;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['RSEC-PERSON', 'RSEC-HIDDEN', 'RSEC-ODD']) c;

-- B is granted id, name and region of the rows of 331102, and the odd table
-- scoped by its odd column
SET ROLE regress_sec_b;
SELECT pubdata.request_share('RSEC-PERSON', 'regress sec check', ARRAY['id', 'name', 'region']) AS req \gset
SELECT pubdata.request_share('RSEC-ODD', 'regress sec check', NULL) AS req_odd \gset
SET ROLE regress_sec_a;
SELECT pubdata.decide_share(:req, true, row_scope => '{"region": "331102"}') IS NULL AS decided;
SELECT pubdata.decide_share(:req_odd, true,
	row_scope => '{"re''gion); DELETE FROM regress_sec_sa.person; --": "x''y"}') IS NULL AS decided;
-- C reads all rows of the person's names and objects to row 2
SET ROLE regress_sec_c;
SELECT pubdata.request_share('RSEC-PERSON', 'regress sec other', ARRAY['id', 'name']) AS req_c \gset
SET ROLE regress_sec_a;
SELECT pubdata.decide_share(:req_c, true) IS NULL AS decided;
SET ROLE regress_sec_c;
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id": 2}', 'name', '李四 的姓名有误') > 0 AS raised;
SELECT resource, record_key FROM pubdata.open_objection WHERE resource LIKE 'RSEC-%' ORDER BY id;
RESET ROLE;

-- the state every attack must leave alone
CREATE FUNCTION pg_temp.sec_state() RETURNS TABLE (what text, val text) LANGUAGE sql AS $$
	SELECT 'person', string_agg(format('%s|%s|%s|%s|%s', id, name, id_card, region, secret), ';' ORDER BY id) FROM regress_sec_sa.person
	UNION ALL SELECT 'hidden', string_agg(note, ';') FROM regress_sec_sa.hidden
	UNION ALL SELECT 'odd', string_agg(v, ';' ORDER BY v) FROM regress_sec_sa."odd""; DROP TABLE regress_sec_sa.hidden; --"
	UNION ALL SELECT 'policies', string_agg(polrelid::regclass::text || ':' || polname || ':' || polroles::regrole[]::text
			|| ':' || coalesce(pg_get_expr(polqual, polrelid), ''), ' / ' ORDER BY polrelid::regclass::text, polname)
		FROM pg_policy WHERE polrelid::regclass::text LIKE 'regress_sec_sa.%'
	UNION ALL SELECT 'rls', string_agg(relname || '=' || relrowsecurity, ',' ORDER BY relname)
		FROM pg_class WHERE relnamespace = 'regress_sec_sa'::regnamespace AND relkind = 'r'
	UNION ALL SELECT 'acl', md5(string_agg(c.relname || coalesce(c.relacl::text, '') || coalesce(
			(SELECT string_agg(a.attname || a.attacl::text, ',' ORDER BY a.attnum) FROM pg_attribute a
			  WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL), ''), ';' ORDER BY c.relname))
		FROM pg_class c WHERE c.relnamespace = 'regress_sec_sa'::regnamespace AND c.relkind = 'r'
	UNION ALL SELECT 'resources', string_agg(code || ':' || status || ':' || share_class || ':' || open_class, ',' ORDER BY code)
		FROM pubdata.resource WHERE code LIKE 'RSEC-%'
	UNION ALL SELECT 'items', string_agg(r.code || '.' || i.column_name || ':' || i.personal || ':' || coalesce(i.share_class::text, '-'), ',' ORDER BY r.code, i.attnum)
		FROM pubdata.resource_item i JOIN pubdata.resource r ON r.id = i.resource_id WHERE r.code LIKE 'RSEC-%'
	UNION ALL SELECT 'grants', string_agg(status || ':' || coalesce(row_scope::text, '-') || ':' || coalesce(items::text, '-'), ',' ORDER BY id)
		FROM pubdata.share_request WHERE resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'RSEC-%')
	UNION ALL SELECT 'jobs', count(*)::text || '/' || string_agg(j.kind || ':' || j.run_as, ',' ORDER BY j.id) FROM pubdata.job j
	UNION ALL SELECT 'rules', count(*)::text FROM pubdata.quality_rule q
		WHERE q.resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'RSEC-%')
	UNION ALL SELECT 'objections', count(*)::text FROM pubdata.objection o
		WHERE o.resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'RSEC-%')
	UNION ALL SELECT 'open views', string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
		WHERE c.relnamespace = 'pubdata_open'::regnamespace AND c.relname LIKE 'rsec%'
	UNION ALL SELECT 'pubdata objects', count(*)::text FROM pg_class c
		WHERE c.relnamespace IN ('pubdata'::regnamespace, 'pubdata_open'::regnamespace)
	UNION ALL SELECT 'pubdata functions', count(*)::text FROM pg_proc p
		WHERE p.pronamespace IN ('pubdata'::regnamespace, 'pubdata_open'::regnamespace)
$$;
CREATE TEMP TABLE sec_before AS SELECT * FROM pg_temp.sec_state();
-- an attack whose error names an id that depends on earlier tests: its SQLSTATE and message, ids masked
CREATE FUNCTION pg_temp.attempt(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'succeeded';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '(rule|request) [0-9]+', '\1 N', 'g');
END
$$;
GRANT SELECT ON sec_before TO PUBLIC;
SELECT what, regexp_replace(val, '(grant_|_grant_ok\(\()[0-9]+', '\1N', 'g') AS val FROM sec_before WHERE what IN ('person', 'policies', 'grants', 'rls') ORDER BY what;

--
-- 1. As the user department B: its own login cannot become anyone else
--
SET SESSION AUTHORIZATION regress_sec_b_login;
SELECT current_user, session_user;
SET ROLE regress_sec_a;
SET ROLE regress_sec_c;
SET ROLE pubdata_admin;
SET ROLE pubdata_auditor;
SET ROLE postgres;

-- querying the tables directly: the granted rows and columns only
SELECT * FROM regress_sec_sa.person;
SELECT id, name, region FROM regress_sec_sa.person ORDER BY id;
SELECT id, secret FROM regress_sec_sa.person;
SELECT id, id_card FROM regress_sec_sa.person;
SELECT * FROM regress_sec_sa.hidden;
SELECT "k""; --", v FROM regress_sec_sa."odd""; DROP TABLE regress_sec_sa.hidden; --" ORDER BY 1;
-- copying rows out without a copy grant (Art 17), also through a WITH that inserts
CREATE TABLE regress_sec_sb.copied (id int, name text);
INSERT INTO regress_sec_sb.copied SELECT id, name FROM regress_sec_sa.person;
WITH s AS (SELECT id, name FROM regress_sec_sa.person), i AS (INSERT INTO regress_sec_sb.copied SELECT * FROM s RETURNING 1)
SELECT count(*) FROM i;
SELECT count(*) AS copied_rows FROM regress_sec_sb.copied;
-- writing them
UPDATE regress_sec_sa.person SET name = 'x';
DELETE FROM regress_sec_sa.person;
INSERT INTO regress_sec_sa.person (id, name) VALUES (9, 'x');
TRUNCATE regress_sec_sa.person;

-- a leaky function in WHERE sees only the rows the policies let through
CREATE FUNCTION regress_sec_sb.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001
	AS $$BEGIN RAISE NOTICE 'leaked %', $1; RETURN true; END$$;
SELECT id FROM regress_sec_sa.person WHERE regress_sec_sb.leak(region);
SELECT id FROM regress_sec_sa.person WHERE regress_sec_sb.leak(name) AND region = '331121';

-- policies and row-level security belong to the table's owner (and pubdata)
DROP POLICY pubdata_provider ON regress_sec_sa.person;
ALTER POLICY pubdata_provider ON regress_sec_sa.person TO PUBLIC;
CREATE POLICY regress_sec_all ON regress_sec_sa.person USING (true);
ALTER TABLE regress_sec_sa.person DISABLE ROW LEVEL SECURITY;
GRANT SELECT ON regress_sec_sa.person TO regress_sec_b;

-- pubdata's tables, the audit and the server's files
UPDATE pubdata.share_request SET row_scope = NULL;
UPDATE pubdata.resource SET share_class = 'unconditional';
DELETE FROM pubdata.share_request;
INSERT INTO pubdata.job (name, kind, source, schedule, schedule_kind, next_run_at, run_as)
	VALUES ('x', 'custom', 'SELECT 1', '1 minute', 'interval', now(), 'postgres');
UPDATE pubdata.job SET run_as = 'regress_sec_b';
DELETE FROM pubdata.access_log;
INSERT INTO pubdata.access_log DEFAULT VALUES;
DELETE FROM pubdata.quality_result;
DELETE FROM pubdata.objection;
SELECT count(*) FROM pubdata.open_pseudonym_key;
SELECT count(*) FROM pubdata.lineage_edge_data;
SELECT count(*) FROM pubdata.access_log;
SELECT pg_read_file('postgresql.conf');
SELECT pg_ls_dir('.');
SELECT lo_import('/etc/hostname');
COPY pubdata.department TO '/tmp/regress_sec_department.txt';
COPY regress_sec_sa.hidden FROM '/tmp/regress_sec_nothing.txt';
SELECT pubdata._audit_records();
SELECT pubdata.verify_audit_chain();

-- creating objects in pubdata's schemas
CREATE TABLE pubdata.regress_sec_x (a int);
CREATE VIEW pubdata_open.regress_sec_x AS SELECT 1;
CREATE FUNCTION pubdata.caller() RETURNS name LANGUAGE sql AS $$SELECT 'postgres'::name$$;
CREATE FUNCTION pubdata.is_admin(x int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR pubdata.= (LEFTARG = text, RIGHTARG = text, FUNCTION = texteq);

-- shadowing functions and operators in a schema of the search path (and in
-- pg_temp): pubdata's SECURITY DEFINER functions fix their search_path
CREATE FUNCTION regress_sec_sb.caller() RETURNS name LANGUAGE sql AS $$SELECT 'regress_sec_admin'::name$$;
CREATE FUNCTION regress_sec_sb.is_admin() RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION regress_sec_sb.texteq_always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_sec_sb.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_sec_sb.texteq_always);
CREATE FUNCTION regress_sec_sb.pg_has_role(name, name, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE TEMP TABLE resource (id bigint, code text, provider_id int);
CREATE TEMP TABLE share_request (id bigint);
SET search_path = regress_sec_sb, pg_temp, pg_catalog, pubdata;
SELECT pubdata.is_admin() AS is_admin, pubdata.caller() AS caller, pubdata.department_of(pubdata.caller()) = pubdata.department_id('regress_sec_b') AS own_department;
SELECT pubdata.resource_id('NO-SUCH');
SELECT pubdata.publish_resource('RSEC-HIDDEN');
SELECT pg_temp.attempt(format('SELECT pubdata.decide_share(%s, true)', :req));
SELECT pubdata.update_resource('RSEC-HIDDEN', share_class => 'unconditional');
SELECT pubdata.schedule_job('custom', '1 minute', 'SELECT 1', run_as => 'postgres');
RESET search_path;

-- SQL injection through every text that reaches dynamic SQL
SELECT pubdata.resource_id('RSEC-PERSON''; DELETE FROM regress_sec_sa.person; --');
SELECT pubdata.request_share('RSEC-PERSON', 'x', ARRAY['name"; DELETE FROM regress_sec_sa.person; --']);
SELECT pubdata.request_share('RSEC-PERSON''; --', 'x', ARRAY['name']);
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id) FROM regress_sec_sa.person; DELETE FROM regress_sec_sa.person; --": 1}', 'name', 'x');
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id": "1); DELETE FROM regress_sec_sa.person; --"}', 'name', 'x');
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id": 1}', 'name"; --', 'x');
SELECT pubdata.under_verification('RSEC-PERSON', '{"id\" = id OR true OR \"": 1}');
SELECT pubdata.under_verification('RSEC-ODD', '{"k\"; --": "1 OR true"}');
SELECT pubdata.mask_value('13800138000', 'phone''; SELECT pg_sleep(1); --');
SELECT pubdata.cron_next('* * * * *; DELETE FROM regress_sec_sa.person', now());

-- what the functions reveal of other departments' data: nothing of the rows
-- outside B's row scope (2 exists, 99 does not: the same answer)
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id": 1}', 'name', '姓名有误') > 0 AS raised_in_scope;
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id": 2}', 'name', '姓名有误');
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id": 99}', 'name', '姓名有误');
SELECT pubdata.under_verification('RSEC-PERSON', '{"id": 1}');
SELECT pubdata.under_verification('RSEC-PERSON', '{"id": 2}');
SELECT pubdata.under_verification('RSEC-PERSON', '{"id": 99}');
SELECT pubdata.under_verification('RSEC-HIDDEN', '{"id": 1}');
SELECT resource, record_key FROM pubdata.open_objection WHERE resource LIKE 'RSEC-%' ORDER BY id;
SELECT pubdata.raise_objection('RSEC-HIDDEN', '{"id": 1}', 'note', 'wrong');
SELECT pubdata.raise_objection('RSEC-PERSON', '{"id": 1}', 'secret', 'wrong');
SELECT count(*) AS lineage_rows FROM pubdata.lineage_upstream('regress_sec_sa.hidden');
SELECT pubdata._record_view_lineage('regress_sec_sa.hidden');
SELECT pubdata.record_lineage('regress_sec_sa.hidden', 'regress_sec_sa.person', 'x');
SELECT pubdata.evaluation('2026-01-01', '2026-12-31');
SELECT pubdata.evaluation_report('2026-01-01', '2026-12-31');
SELECT count(*) AS open_views_of_b FROM pg_class
	WHERE relnamespace = 'pubdata_open'::regnamespace AND relname LIKE 'rsec%' AND has_table_privilege(oid, 'SELECT');
SELECT pubdata.allow_open_reader('RSEC-ODD', 'regress_sec_b');

-- quality: B measures or reads nothing of A, and a rule of its own cannot test
-- values against rows outside its grant's row scope
SELECT pubdata.add_quality_rule('RSEC-PERSON', 'secret', 'not_null');
SELECT pubdata.measure_quality('RSEC-HIDDEN');
SELECT count(*) AS results_seen FROM pubdata.quality_result qr JOIN pubdata.quality_run r ON r.id = qr.run_id
	WHERE r.resource_id IN (SELECT id FROM pubdata.resource WHERE code LIKE 'RSEC-%');
SET ROLE regress_sec_b;
CREATE TABLE regress_sec_sb.probe (id int, name text);
INSERT INTO regress_sec_sb.probe VALUES (1, '张三'), (2, '李四'), (3, '王五');
SELECT pubdata.register_resource('regress_sec_sb.probe', 'RSECB-PROBE', '探测', 'regress_sec_b',
	'non_shared', 'not_open', 'daily', 1, legal_basis => '内部') > 0 AS registered;
SELECT pubdata.add_quality_rule('RSECB-PROBE', 'name', 'reference', '{"resource": "RSEC-PERSON", "item": "name"}');
SELECT pubdata.add_quality_rule('RSECB-PROBE', 'name', 'reference', '{"resource": "RSEC-HIDDEN", "item": "note"}');
SELECT pg_temp.attempt($$SELECT pubdata.add_quality_rule('RSECB-PROBE', NULL, 'custom', '{"expression": "true) FROM regress_sec_sa.person --"}')$$);
SELECT pg_temp.attempt($$SELECT pubdata.add_quality_rule('RSECB-PROBE', NULL, 'custom', '{"expression": "true\n) FROM regress_sec_sa.person; DELETE FROM regress_sec_sa.person; SELECT (true"}')$$);
SELECT pg_temp.attempt($$SELECT pubdata.add_quality_rule('RSECB-PROBE', NULL, 'custom', '{"expression": "(SELECT count(*) FROM regress_sec_sa.hidden) > 0"}')$$);
SELECT pubdata.add_quality_rule('RSECB-PROBE', 'name', 'pattern', '{"regex": "^[^'';\"]*$"}') > 0 AS quoted_regex_is_data;

-- the scheduler: no job as another role, no job on another's resource
SELECT pubdata.schedule_aggregation('RSEC-PERSON', 'SELECT 1 AS id');
SELECT pg_temp.attempt($$SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'SELECT 1 AS id) AS s; DELETE FROM regress_sec_sa.person; --')$$);
SELECT pg_temp.attempt($$SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'SELECT 1 AS id; DELETE FROM regress_sec_sa.person')$$);
SELECT pg_temp.attempt($$SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'WITH d AS (DELETE FROM regress_sec_sa.person RETURNING id) SELECT id FROM d')$$);
SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'SELECT id, name FROM regress_sec_sb.probe', schedule => '* * * * *; DELETE FROM regress_sec_sa.person');
SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'regress_sec_sa.person; DELETE FROM regress_sec_sa.person');
SELECT pubdata.schedule_job('custom', '1 minute', 'SELECT 1');
SELECT pubdata.alter_job(1, false);
SELECT pubdata.run_job_now(1);
SELECT pubdata.drop_job(1);
SELECT pubdata.sweep_grants();
SELECT pubdata.sweep_objections();
-- an aggregation of B's own runs as B: it reads only what B may read
SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'SELECT id, secret AS name FROM regress_sec_sa.person', enabled => false) AS job \gset
SELECT run_as, enabled FROM pubdata.job WHERE id = :job;
SELECT pubdata.drop_job(:job) IS NULL AS dropped;
RESET SESSION AUTHORIZATION;

-- the bureau cannot make a department's role run a query of its choosing
SET ROLE regress_sec_admin;
SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'SELECT id, name FROM regress_sec_sb.probe WHERE pubdata.revoke_share(1, $$x$$) IS NULL');
SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'regress_sec_sb.probe', enabled => false) AS job \gset
SELECT pubdata.drop_job(:job) IS NULL AS dropped;
RESET ROLE;

--
-- 2. As the provider A: its own tables, but not the policies pubdata manages
--
SET SESSION AUTHORIZATION regress_sec_a_login;
SET ROLE regress_sec_a;
DROP POLICY pubdata_provider ON regress_sec_sa.person;
ALTER POLICY pubdata_provider ON regress_sec_sa.person TO PUBLIC;
CREATE POLICY regress_sec_all ON regress_sec_sa.person FOR SELECT TO regress_sec_b USING (true);
ALTER TABLE regress_sec_sa.person DISABLE ROW LEVEL SECURITY;
-- granting behind pubdata's back: more columns, personal data, all tables
GRANT SELECT ON regress_sec_sa.person TO regress_sec_b;
GRANT SELECT (secret, id_card) ON regress_sec_sa.person TO regress_sec_b_login;
GRANT SELECT ON regress_sec_sa.hidden TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA regress_sec_sa TO pubdata_department;
GRANT ALL ON regress_sec_sa."odd""; DROP TABLE regress_sec_sa.hidden; --" TO regress_sec_c;
ALTER TABLE regress_sec_sa.person OWNER TO regress_sec_b;
-- a table of its own that is not registered is its own business
CREATE TABLE regress_sec_sa.scratch (a int);
GRANT SELECT ON regress_sec_sa.scratch TO regress_sec_b;
DROP TABLE regress_sec_sa.scratch;
-- objections, quality and jobs of its own resources only
SELECT pubdata.schedule_aggregation('RSECB-PROBE', 'SELECT 1 AS id');
SELECT pubdata.measure_quality('RSECB-PROBE');
SELECT pubdata.drop_quality_rule(q.id) FROM pubdata.quality_rule q JOIN pubdata.resource r ON r.id = q.resource_id WHERE r.code = 'RSECB-PROBE';
RESET SESSION AUTHORIZATION;

-- nothing changed (but the objection B raised against its own row), and B
-- still reads only its rows and columns
SELECT b.what, b.val AS before, a.val AS after FROM sec_before b FULL JOIN pg_temp.sec_state() a USING (what)
 WHERE b.val IS DISTINCT FROM a.val;
SELECT count(*) AS rules_of_a FROM pubdata.quality_rule q JOIN pubdata.resource r ON r.id = q.resource_id
 WHERE r.code IN ('RSEC-PERSON', 'RSEC-HIDDEN', 'RSEC-ODD');
SELECT code FROM pubdata.resource WHERE code LIKE 'RSEC-%' ORDER BY code;
SET ROLE regress_sec_b;
SELECT id, name, region FROM regress_sec_sa.person ORDER BY id;
SELECT "k""; --", "re'gion); DELETE FROM regress_sec_sa.person; --", v FROM regress_sec_sa."odd""; DROP TABLE regress_sec_sa.hidden; --";
RESET ROLE;

--
-- 3. A reference rule allowed once stops reading when the grant behind it ends
--
SET ROLE regress_sec_b;
SELECT pubdata.request_share('RSEC-PERSON', 'whole column', ARRAY['name']) AS req2 \gset
SET ROLE regress_sec_a;
SELECT pubdata.decide_share(:req2, true) IS NULL AS decided;
SET ROLE regress_sec_b;
SELECT pubdata.add_quality_rule('RSECB-PROBE', 'name', 'reference', '{"resource": "RSEC-PERSON", "item": "name"}') > 0 AS added;
SELECT pubdata.measure_quality('RSECB-PROBE') > 0 AS measured;
SELECT qr.rows_checked, qr.rows_failed FROM pubdata.quality_result qr JOIN pubdata.quality_rule q ON q.id = qr.rule_id
  JOIN pubdata.resource r ON r.id = q.resource_id WHERE r.code = 'RSECB-PROBE' AND q.kind = 'reference';
SET ROLE regress_sec_a;
SELECT pubdata.revoke_share(:req2, 'ended') IS NULL AS revoked;
SET ROLE regress_sec_b;
SELECT pg_temp.attempt($$SELECT pubdata.measure_quality('RSECB-PROBE')$$);
SELECT count(*) AS runs_of_probe FROM pubdata.quality_run qr JOIN pubdata.resource r ON r.id = qr.resource_id
 WHERE r.code = 'RSECB-PROBE';
RESET ROLE;

--
-- 4. Code of a department never runs with pubdata's privileges: a view whose
-- function escalates when run by a superuser, read by a reference rule (scan
-- and trigger) and by the resolution of an objection
--
SET SESSION AUTHORIZATION regress_sec_b_login;
SET ROLE regress_sec_b;
SELECT pubdata.drop_quality_rule(q.id) IS NULL AS dropped FROM pubdata.quality_rule q
  JOIN pubdata.resource r ON r.id = q.resource_id WHERE r.code = 'RSECB-PROBE';
CREATE FUNCTION regress_sec_sb.evil() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RAISE NOTICE 'evil() runs as % (superuser: %)', current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
	IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE regress_sec_b_login SUPERUSER';
	END IF;
	RETURN '张三';
END
$$;
CREATE VIEW regress_sec_sb.codes AS SELECT regress_sec_sb.evil() AS name;
SELECT pubdata.register_resource('regress_sec_sb.codes', 'RSECB-CODES', '码表', 'regress_sec_b',
	'unconditional', 'not_open', 'daily', 1) > 0 AS registered;
-- (a view has no primary key: its key item is named in the catalog)
SELECT pubdata.set_item('RSECB-CODES', 'name', is_key => true);
SELECT pubdata.submit_resource('RSECB-CODES');
SELECT pubdata.add_quality_rule('RSECB-PROBE', 'name', 'reference', '{"resource": "RSECB-CODES", "item": "name"}') > 0 AS added;
SELECT pubdata.measure_quality('RSECB-PROBE') > 0 AS measured;
SELECT pubdata.enable_quality_trigger('RSECB-PROBE');
INSERT INTO regress_sec_sb.probe VALUES (4, '张三');
SELECT pubdata.disable_quality_trigger('RSECB-PROBE');
RESET SESSION AUTHORIZATION;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_sec_%' AND rolsuper;

-- C, who reads the view's data, raises an objection; B resolves it
SET ROLE regress_sec_admin;
SELECT pubdata.review_resource('RSECB-CODES', true), pubdata.publish_resource('RSECB-CODES');
SET ROLE regress_sec_c;
SELECT pubdata.raise_objection('RSECB-CODES', '{"name": "张三"}', 'name', '应为李四') AS obj \gset
SET SESSION AUTHORIZATION regress_sec_b_login;
SET ROLE regress_sec_b;
SELECT pubdata.resolve_objection(:obj, 'corrected', '已更正', '{"name": "李四"}') IS NULL AS resolved;
RESET SESSION AUTHORIZATION;
SELECT status, outcome, corrected_key FROM pubdata.objection WHERE id = :obj;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_sec_%' AND rolsuper;

-- a domain whose CHECK is a department's function: record keys and row scopes
-- are converted to the plain type inside pubdata, never through the domain
SET SESSION AUTHORIZATION regress_sec_b_login;
SET ROLE regress_sec_b;
CREATE FUNCTION regress_sec_sb.evil_check(text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'evil_check() runs as % (superuser: %)', current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
	IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE regress_sec_b_login SUPERUSER';
	END IF;
	RETURN true;
END
$$;
CREATE DOMAIN regress_sec_sb.code AS text CHECK (regress_sec_sb.evil_check(VALUE));
CREATE TABLE regress_sec_sb.coded (k regress_sec_sb.code PRIMARY KEY, v text, tags regress_sec_sb.code[]);
INSERT INTO regress_sec_sb.coded VALUES ('a', 'one', '{}'), ('b', 'two', '{}');
SELECT pubdata.register_resource('regress_sec_sb.coded', 'RSECB-CODED', '编码', 'regress_sec_b',
	'restricted', 'not_open', 'daily', 1) > 0 AS registered;
SELECT pubdata.submit_resource('RSECB-CODED');
SELECT pubdata.under_verification('RSECB-CODED', '{"k": "a"}');
SELECT pubdata.under_verification('RSECB-CODED', '{"tags": "{a}"}');
RESET SESSION AUTHORIZATION;
SET ROLE regress_sec_admin;
SELECT pubdata.review_resource('RSECB-CODED', true), pubdata.publish_resource('RSECB-CODED');
SET ROLE regress_sec_c;
SELECT pubdata.request_share('RSECB-CODED', 'domain check', ARRAY['k', 'v']) AS req3 \gset
SET SESSION AUTHORIZATION regress_sec_b_login;
SET ROLE regress_sec_b;
SELECT pubdata.decide_share(:req3, true, row_scope => '{"k": ["a", "c"]}') IS NULL AS decided;
RESET SESSION AUTHORIZATION;
SET ROLE regress_sec_c;
SELECT k, v FROM regress_sec_sb.coded;
SELECT pubdata.raise_objection('RSECB-CODED', '{"k": "a"}', 'v', '应为 1') > 0 AS raised;
RESET SESSION AUTHORIZATION;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_sec_%' AND rolsuper;

-- a deferred constraint trigger on the target of an aggregation fires as the
-- job's role (at commit it would have run as the job worker's superuser)
SET SESSION AUTHORIZATION regress_sec_b_login;
SET ROLE regress_sec_b;
CREATE TABLE regress_sec_sb.who (u name, su boolean);
CREATE FUNCTION regress_sec_sb.evil_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO regress_sec_sb.who VALUES (current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user));
	IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE regress_sec_b_login SUPERUSER';
	END IF;
	RETURN NULL;
END
$$;
CREATE TABLE regress_sec_sb.agg (id int, name text);
CREATE CONSTRAINT TRIGGER evil AFTER INSERT ON regress_sec_sb.agg DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION regress_sec_sb.evil_trg();
SELECT pubdata.register_resource('regress_sec_sb.agg', 'RSECB-AGG', '汇总', 'regress_sec_b',
	'non_shared', 'not_open', 'daily', 1, legal_basis => '内部') > 0 AS registered;
SELECT pubdata.schedule_aggregation('RSECB-AGG', 'SELECT id, v AS name FROM regress_sec_sb.coded, (VALUES (1)) x(id)',
	schedule => '1 day', enabled => false) AS agg_job \gset
SELECT pubdata.run_job_now(:agg_job) IS NOT NULL AS started;
RESET SESSION AUTHORIZATION;
SELECT set_config('regress_sec.job', :'agg_job', false) IS NOT NULL AS noted;
DO $$
BEGIN
	FOR i IN 1..600 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM pubdata.job_run r WHERE r.job_id = current_setting('regress_sec.job')::bigint
						   AND r.status <> 'running');
		PERFORM pg_sleep(0.1);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END
$$;
SELECT status, error, rows_written FROM pubdata.job_run WHERE job_id = :agg_job;
SELECT u, su, count(*) FROM regress_sec_sb.who GROUP BY u, su;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_sec_%' AND rolsuper;
