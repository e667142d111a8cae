-- Isolation: pubdata never plans, reads or runs what a department controls
-- (functions, operators, search_path, index predicates, column types) with
-- more rights than that department has.  Each attack below made its department
-- a superuser, or answered what it may not know, before 0.2.  The departments
-- act through their own logins (SET SESSION AUTHORIZATION, so that SET ROLE is
-- really checked); after each attack no regress_iso role may be a superuser.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_iso_admin IN ROLE pubdata_admin;
CREATE ROLE regress_iso_health LOGIN;	-- the provider
CREATE ROLE regress_iso_civil LOGIN;	-- a user granted pid and region of the rows of 331102
CREATE ROLE regress_iso_tax LOGIN;		-- a user granted region only
CREATE SCHEMA regress_iso_h AUTHORIZATION regress_iso_health;
GRANT USAGE ON SCHEMA regress_iso_h TO PUBLIC;
RESET client_min_messages;
SET ROLE regress_iso_admin;
SELECT pubdata.add_department('regress_iso_health', '卫健委', '331100', 'administrative', 'regress_iso_health') > 0 AS added;
SELECT pubdata.add_department('regress_iso_civil', '民政局', '331102', 'administrative', 'regress_iso_civil') > 0 AS added;
SELECT pubdata.add_department('regress_iso_tax', '税务局', '331100', 'administrative', 'regress_iso_tax') > 0 AS added;
RESET ROLE;

--
-- C1. The job worker ran the job's SQL as the department, then recorded the
-- run as superuser in the same transaction, resolving "=" through the
-- search_path the job had set: the department's operator ran as superuser.
--
SET SESSION AUTHORIZATION regress_iso_health;
CREATE TABLE regress_iso_h.who (fn text, u name, su boolean);
CREATE TABLE regress_iso_h.agg (x bigint);
SELECT pubdata.register_resource('regress_iso_h.agg', 'ISO-AGG', '汇总', 'regress_iso_health',
	'restricted', 'not_open', 'on_demand', 1) > 0 AS registered;
CREATE FUNCTION regress_iso_h.evil_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO regress_iso_h.who
	SELECT 'evil_eq', current_user, rolsuper FROM pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user;
	IF (SELECT rolsuper FROM pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user) THEN
		EXECUTE 'ALTER ROLE regress_iso_health SUPERUSER';
	END IF;
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END
$$;
CREATE OPERATOR regress_iso_h.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = regress_iso_h.evil_eq);
-- the job's source plants the schema in search_path, for the transaction ...
CREATE FUNCTION regress_iso_h.plant() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', 'regress_iso_h, pg_catalog', true);
	RETURN 1;
END
$$;
-- ... or for the worker's session
CREATE FUNCTION regress_iso_h.plant_session() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('search_path', 'regress_iso_h, pg_catalog', false);
	RETURN 2;
END
$$;
SELECT pubdata.schedule_aggregation('ISO-AGG', 'SELECT regress_iso_h.plant() AS x', mode => 'append') AS job1 \gset
SELECT pubdata.schedule_aggregation('ISO-AGG', 'SELECT regress_iso_h.plant_session() AS x', mode => 'append') AS job2 \gset
SELECT pubdata.run_job_now(:job1) IS NOT NULL AS ran;
SELECT pubdata.run_job_now(:job2) IS NOT NULL AS ran;
-- the jobs still aggregate (each run recorded as it ended)
SELECT x FROM regress_iso_h.agg ORDER BY x;
SELECT fn, u, su FROM regress_iso_h.who;
RESET SESSION AUTHORIZATION;
SELECT j.source, r.status, r.error, r.rows_read, r.rows_written
  FROM pubdata.job_run r JOIN pubdata.job j ON j.id = r.job_id
 WHERE r.job_id IN (:job1, :job2) ORDER BY r.id;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_iso_%' AND rolsuper;

-- a job is a security-restricted operation: no temporary objects (they would
-- outlive it in the worker's session)
SET SESSION AUTHORIZATION regress_iso_health;
CREATE FUNCTION regress_iso_h.temp_table() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	CREATE TEMP TABLE pg_temp.job_state (x int);
	RETURN 3;
END
$$;
SELECT pubdata.schedule_aggregation('ISO-AGG', 'SELECT regress_iso_h.temp_table() AS x', mode => 'append') AS job3 \gset
-- (run_job_now says the run failed; the failure is recorded below)
DO $$
BEGIN
	PERFORM pubdata.run_job_now((SELECT max(id) FROM pubdata.job WHERE source LIKE '%temp_table()%'));
EXCEPTION WHEN external_routine_exception THEN
	RAISE NOTICE 'the run failed: %', regexp_replace(SQLERRM, '^job [0-9]+ failed \(run [0-9]+\): ', '');
END
$$;
SELECT pubdata.alter_job(:job3, enabled => false) IS NOT NULL AS disabled;
RESET SESSION AUTHORIZATION;
SELECT status, error, rows_written FROM pubdata.job_run WHERE job_id = :job3;
SELECT count(*) AS rows_of_failed_run FROM regress_iso_h.agg WHERE x = 3;

--
-- C2. The objection functions planned a query on the provider's table as the
-- extension owner: the planner folds an IMMUTABLE function of a partial
-- index's predicate, and the provider's function ran as superuser.  The
-- payload reports who runs it (every plan of the table folds the predicate).
--
SET SESSION AUTHORIZATION regress_iso_health;
CREATE TABLE regress_iso_h.patient (pid int PRIMARY KEY, region text, secret text);
INSERT INTO regress_iso_h.patient VALUES (1, '331102', 's1'), (2, '331121', 's2');
CREATE FUNCTION regress_iso_h.payload() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RAISE NOTICE 'payload() runs as % (superuser: %)', current_user,
		(SELECT rolsuper FROM pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user);
	IF (SELECT rolsuper FROM pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user) THEN
		EXECUTE 'ALTER ROLE regress_iso_health SUPERUSER';
	END IF;
	RETURN true;
END
$$;
CREATE FUNCTION regress_iso_h.trap() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN regress_iso_h.payload();
END
$$;
SET client_min_messages = warning;
CREATE INDEX patient_trap ON regress_iso_h.patient (pid) WHERE regress_iso_h.trap();
RESET client_min_messages;
SELECT pubdata.register_resource('regress_iso_h.patient', 'ISO-PAT', '病人', 'regress_iso_health',
	'restricted', 'not_open', 'daily', 2) > 0 AS registered;
SELECT pubdata.set_item('ISO-PAT', 'secret', share_class => 'non_shared');
SELECT pubdata.submit_resource('ISO-PAT');
RESET SESSION AUTHORIZATION;
SET ROLE regress_iso_admin;
SELECT pubdata.review_resource('ISO-PAT', true), pubdata.publish_resource('ISO-PAT');
RESET ROLE;
SET SESSION AUTHORIZATION regress_iso_civil;
SELECT pubdata.request_share('ISO-PAT', '低保核查', ARRAY['pid', 'region']) AS req_civil \gset
SET SESSION AUTHORIZATION regress_iso_tax;
SELECT pubdata.request_share('ISO-PAT', '税源统计', ARRAY['region']) AS req_tax \gset
SET SESSION AUTHORIZATION regress_iso_health;
SELECT pubdata.decide_share(:req_civil, true, row_scope => '{"region": "331102"}') IS NOT NULL AS decided;
SELECT pubdata.decide_share(:req_tax, true) IS NOT NULL AS decided;

-- the helper is internal: departments call neither it nor the table reader
SET SESSION AUTHORIZATION regress_iso_civil;
SELECT pubdata._objection_in_scope(pubdata.resource_id('ISO-PAT'), '{"pid": 1}');
SELECT pubdata._owner_count('regress_iso_h.patient', 'SELECT 1::bigint', NULL);

-- raise_objection looks up the record in the grant's rows: as the table's owner
SELECT pubdata.raise_objection('ISO-PAT', '{"pid": 1}', 'region', '区划有误') AS obj \gset
RESET SESSION AUTHORIZATION;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_iso_%' AND rolsuper;

-- so does under_verification, and the view open_objection
SET SESSION AUTHORIZATION regress_iso_civil;
SELECT pubdata.under_verification('ISO-PAT', '{"pid": 1}') AS under_verification;
SELECT resource, record_key, status FROM pubdata.open_objection WHERE resource LIKE 'ISO-%';
RESET SESSION AUTHORIZATION;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_iso_%' AND rolsuper;

-- resolve_objection checks the corrected record: as the table's owner
SET SESSION AUTHORIZATION regress_iso_health;
SELECT pubdata.resolve_objection(:obj, 'corrected', '已更正') IS NOT NULL AS resolved;
RESET SESSION AUTHORIZATION;
SELECT status, outcome, corrected_key FROM pubdata.objection WHERE id = :obj;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_iso_%' AND rolsuper;

--
-- H4. _objection_in_scope, raise_objection and under_verification took any
-- column as a record key (non-shared ones too) and answered from a superuser's
-- read: an unaudited oracle.  A key names exactly the resource's key items
-- (here the primary key, pid), each of which the caller reads.
--
SET SESSION AUTHORIZATION regress_iso_civil;
SELECT pubdata.raise_objection('ISO-PAT', '{"secret": "s1"}', 'region', '探测');
SELECT pubdata.raise_objection('ISO-PAT', '{"pid": 1, "secret": "s1"}', 'region', '探测');
SELECT pubdata.raise_objection('ISO-PAT', '{"region": "331121"}', 'region', '探测');
SELECT pubdata.under_verification('ISO-PAT', '{"secret": "s2"}');
-- outside the grant's rows: the same answer whether the record exists or not
SELECT pubdata.raise_objection('ISO-PAT', '{"pid": 2}', 'region', '区划有误');
SELECT pubdata.raise_objection('ISO-PAT', '{"pid": 99}', 'region', '区划有误');
-- within them, by its key: raised, and shown to the department
SELECT pubdata.raise_objection('ISO-PAT', '{"pid": 1}', NULL, '记录重复') > 0 AS raised;
SELECT resource, record_key, status FROM pubdata.open_objection WHERE resource LIKE 'ISO-%';
-- a department whose grant lacks the key item reads the table but cannot name
-- its records, nor see which are under verification
SET SESSION AUTHORIZATION regress_iso_tax;
-- (its own query plans the table, and the predicate, as itself)
SELECT region FROM regress_iso_h.patient ORDER BY region;
SELECT pubdata.raise_objection('ISO-PAT', '{"pid": 2}', 'region', '区划有误');
SELECT pubdata.under_verification('ISO-PAT', '{"pid": 1}');
SELECT count(*) AS objections_seen FROM pubdata.open_objection WHERE resource LIKE 'ISO-%';
-- a view has no primary key: its key items are marked in the catalog; an
-- unconditional, non-personal key item is read by every department
SET SESSION AUTHORIZATION regress_iso_health;
CREATE VIEW regress_iso_h.clinic AS SELECT 'C1'::text AS code, 'A'::text AS name;
CREATE VIEW regress_iso_h.clinic2 AS SELECT 'C1'::text AS code, 'A'::text AS name;
SELECT pubdata.register_resource('regress_iso_h.clinic', 'ISO-CLINIC', '诊所', 'regress_iso_health',
	'unconditional', 'not_open', 'daily', 1) > 0 AS registered;
SELECT pubdata.register_resource('regress_iso_h.clinic2', 'ISO-CLINIC2', '诊所（标明主键）', 'regress_iso_health',
	'unconditional', 'not_open', 'daily', 1) > 0 AS registered;
SELECT pubdata.set_item('ISO-CLINIC2', 'code', is_key => true);
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['ISO-CLINIC', 'ISO-CLINIC2']) c;
RESET SESSION AUTHORIZATION;
SET ROLE regress_iso_admin;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['ISO-CLINIC', 'ISO-CLINIC2']) c;
RESET ROLE;
SET SESSION AUTHORIZATION regress_iso_civil;
SELECT pubdata.raise_objection('ISO-CLINIC', '{"code": "C1"}', 'name', '名称有误');
SELECT pubdata.raise_objection('ISO-CLINIC2', '{"name": "A"}', 'name', '名称有误');
SELECT pubdata.raise_objection('ISO-CLINIC2', '{"code": "C1"}', 'name', '名称有误') > 0 AS raised;
RESET SESSION AUTHORIZATION;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_iso_%' AND rolsuper;

--
-- H3. add_scenario_resource checked approved_at without a lock: a resource
-- added in a transaction that committed after approve_scenario became access
-- nobody approved.  A second session (dblink) holds one side open.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('iso', format('host=%s port=%s dbname=%s user=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
	current_database(), current_user)) AS connected;
SET SESSION AUTHORIZATION regress_iso_civil;
SELECT pubdata.add_scenario('ISO-SC1', '救助核查', '低保家庭医疗救助', ARRAY['regress_iso_civil']) > 0 AS proposed;
SELECT pubdata.add_scenario('ISO-SC2', '救助统计', '医疗救助统计', ARRAY['regress_iso_civil']) > 0 AS proposed;
RESET SESSION AUTHORIZATION;
-- a change in progress: the approval waits for it
SELECT dblink_exec('iso', 'SET SESSION AUTHORIZATION regress_iso_civil');
SELECT dblink_exec('iso', 'BEGIN');
SELECT r AS added FROM dblink('iso', $$SELECT pubdata.add_scenario_resource('ISO-SC1', 'ISO-PAT', ARRAY['pid', 'region']) IS NOT NULL$$) AS t(r boolean);
SET ROLE regress_iso_admin;
SET lock_timeout = '200ms';
SELECT pubdata.approve_scenario('ISO-SC1');
RESET lock_timeout;
SELECT dblink_exec('iso', 'COMMIT');
SELECT pubdata.approve_scenario('ISO-SC1') IS NOT NULL AS approved_with_what_it_has;
RESET ROLE;
SELECT s.code, r.code AS resource, x.items FROM pubdata.scenario_resource x
  JOIN pubdata.scenario s ON s.id = x.scenario_id JOIN pubdata.resource r ON r.id = x.resource_id
 WHERE s.code LIKE 'ISO-%' ORDER BY 1, 2;
-- an approval in progress: the change waits for it, then is refused
SELECT dblink_exec('iso', 'RESET SESSION AUTHORIZATION');
SELECT dblink_exec('iso', 'SET ROLE regress_iso_admin');
SELECT dblink_exec('iso', 'BEGIN');
SELECT r AS approved FROM dblink('iso', $$SELECT pubdata.approve_scenario('ISO-SC2') IS NOT NULL$$) AS t(r boolean);
SET SESSION AUTHORIZATION regress_iso_civil;
SET lock_timeout = '200ms';
SELECT pubdata.add_scenario_resource('ISO-SC2', 'ISO-PAT', ARRAY['pid']);
RESET lock_timeout;
SELECT dblink_exec('iso', 'COMMIT');
SELECT pubdata.add_scenario_resource('ISO-SC2', 'ISO-PAT', ARRAY['pid']);
RESET SESSION AUTHORIZATION;
SELECT count(*) AS resources_of_sc2 FROM pubdata.scenario_resource x JOIN pubdata.scenario s ON s.id = x.scenario_id
 WHERE s.code = 'ISO-SC2';
-- a grant through an approved scenario holds the scenario until it commits
SELECT dblink_exec('iso', 'RESET ROLE');
SELECT dblink_exec('iso', 'SET SESSION AUTHORIZATION regress_iso_civil');
SELECT dblink_exec('iso', 'BEGIN');
SELECT r AS requested FROM dblink('iso', $$SELECT pubdata.request_share('ISO-PAT', '医疗救助', ARRAY['pid'], 'ISO-SC1') > 0$$) AS t(r boolean);
SET ROLE regress_iso_admin;
SET lock_timeout = '200ms';
SELECT pubdata.add_scenario_resource('ISO-SC1', 'ISO-AGG');
RESET lock_timeout;
RESET ROLE;
SELECT dblink_exec('iso', 'COMMIT');
SELECT dblink_disconnect('iso');
SELECT s.status, s.reason FROM pubdata.share_request s JOIN pubdata.scenario c ON c.id = s.scenario_id
 WHERE c.code = 'ISO-SC1';

--
-- L3. A freshness rule kept running after its column became text, and read
-- a text as a timestamp.  (Rule ids depend on the tests before: shown as N.)
--
CREATE FUNCTION pg_temp.attempt(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	hint text;
BEGIN
	EXECUTE q;
	RETURN 'succeeded';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RETURN regexp_replace(SQLSTATE || ': ' || SQLERRM || ' (hint: ' || hint || ')', '(rule |drop_quality_rule\()[0-9]+', '\1N', 'g');
END
$$;
SET SESSION AUTHORIZATION regress_iso_health;
CREATE TABLE regress_iso_h.visit (id int PRIMARY KEY, ts timestamptz, day date);
INSERT INTO regress_iso_h.visit VALUES (1, now(), current_date);
SELECT pubdata.register_resource('regress_iso_h.visit', 'ISO-VISIT', '就诊', 'regress_iso_health',
	'restricted', 'not_open', 'daily', 1) > 0 AS registered;
SELECT pubdata.add_quality_rule('ISO-VISIT', 'ts', 'freshness') AS fresh \gset
SELECT pubdata.add_quality_rule('ISO-VISIT', 'day', 'date_not_future') AS notfuture \gset
SELECT pubdata.measure_quality('ISO-VISIT') > 0 AS measured;
SELECT pubdata.enable_quality_trigger('ISO-VISIT');
ALTER TABLE regress_iso_h.visit ALTER COLUMN ts TYPE text;
ALTER TABLE regress_iso_h.visit ALTER COLUMN day TYPE text;
SELECT pg_temp.attempt($$SELECT pubdata.measure_quality('ISO-VISIT')$$);
SELECT pg_temp.attempt($$SELECT pubdata.add_quality_rule('ISO-VISIT', 'id', 'not_null')$$);
-- the rule trigger does not block writes for them
INSERT INTO regress_iso_h.visit VALUES (2, 'yesterday', 'tomorrow');
SELECT pubdata.drop_quality_rule(:fresh) IS NOT NULL AS dropped;
SELECT pg_temp.attempt($$SELECT pubdata.measure_quality('ISO-VISIT')$$);
SELECT pubdata.drop_quality_rule(:notfuture) IS NOT NULL AS dropped;
SELECT pubdata.measure_quality('ISO-VISIT') > 0 AS measured;
SELECT pubdata.disable_quality_trigger('ISO-VISIT');
RESET SESSION AUTHORIZATION;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_iso_%' AND rolsuper;

-- clean up (99_cleanup drops the regress_ roles)
DROP EXTENSION dblink;
