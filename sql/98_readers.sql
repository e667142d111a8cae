-- What each role reads of pubdata's own tables (issue 19), tried as the role
-- that would attack: a department reads no other department's drafts, of a
-- non-shared entry only its existence and legal basis, and no row count of
-- it; the audit office reads no personal value in a job's error or an
-- objection's record key.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_rd_police;
CREATE ROLE regress_rd_civil;
CREATE ROLE regress_rd_auditor IN ROLE pubdata_auditor;
CREATE SCHEMA regress_rd AUTHORIZATION regress_rd_police;
GRANT USAGE ON SCHEMA regress_rd TO regress_rd_civil;
SELECT pubdata.add_department('rd-police', '市公安局', '331100', 'administrative', 'regress_rd_police') > 0 AS added;
SELECT pubdata.add_department('rd-civil', '市民政局', '331100', 'administrative', 'regress_rd_civil') > 0 AS added;
RESET client_min_messages;

SET ROLE regress_rd_police;
CREATE TABLE regress_rd.person (id_number text PRIMARY KEY, name text, region text);
INSERT INTO regress_rd.person VALUES ('330102199001011234', '张三', '331102');
CREATE TABLE regress_rd.case_file (case_no text PRIMARY KEY, note text);
INSERT INTO regress_rd.case_file VALUES ('A-1', 'x'), ('A-2', 'y'), ('A-3', 'z');
CREATE TABLE regress_rd.plan (id integer PRIMARY KEY);
-- published shared, published non-shared, and a draft
SELECT pubdata.register_resource('regress_rd.person', 'RD-PERSON', '人口信息', 'rd-police', 'unconditional', 'not_open', 'daily', 2) > 0 AS registered;
SELECT pubdata.set_item('RD-PERSON', 'id_number', personal => 'sensitive', is_key => true);
SELECT pubdata.register_resource('regress_rd.case_file', 'RD-CASE', '案件信息', 'rd-police', 'non_shared', 'not_open', 'daily', 4,
	legal_basis => '《中华人民共和国刑事诉讼法》第152条') > 0 AS registered;
SELECT pubdata.register_resource('regress_rd.plan', 'RD-DRAFT', '未公开的规划', 'rd-police', 'unconditional', 'not_open', 'daily', 1) > 0 AS registered;
SELECT pubdata.submit_resource('RD-PERSON'), pubdata.submit_resource('RD-CASE');
RESET ROLE;
SELECT pubdata.review_resource('RD-PERSON', true), pubdata.review_resource('RD-CASE', true);
SELECT pubdata.publish_resource('RD-PERSON'), pubdata.publish_resource('RD-CASE');
SELECT pubdata.measure_quality('RD-CASE') > 0 AS measured;
SELECT pubdata.measure_quality('RD-PERSON') > 0 AS measured;
SELECT pubdata.resource_id('RD-CASE') AS rd_case, pubdata.resource_id('RD-DRAFT') AS rd_draft \gset
-- data elements whose authoritative source is the draft, and the non-shared entry
SELECT pubdata.add_data_element('rd_plan_no', '规划编号') > 0 AS added,
	   pubdata.add_data_element('rd_case_no', '案件编号') > 0 AS added;
SET ROLE regress_rd_police;
SELECT pubdata.declare_element('RD-DRAFT', 'rd_plan_no', 'id', authoritative => true);
SELECT pubdata.declare_element('RD-CASE', 'rd_case_no', 'case_no', authoritative => true);
SELECT element, source_resource, source_department, item FROM pubdata.element_source
 WHERE element LIKE 'rd_%' ORDER BY element;
RESET ROLE;

-- the provider sees its own entries whole
SET ROLE regress_rd_police;
SELECT code, status, share_class FROM pubdata.resource WHERE code LIKE 'RD-%' ORDER BY code;
SELECT resource, rows_checked FROM pubdata.quality_score WHERE resource LIKE 'RD-%' ORDER BY resource;

-- another department: no draft, no non-shared row, no personal flags of them
SET ROLE regress_rd_civil;
SELECT code, status FROM pubdata.resource WHERE code LIKE 'RD-%' ORDER BY code;
SELECT r.code, i.column_name, i.personal FROM pubdata.resource_item i JOIN pubdata.resource r ON r.id = i.resource_id
 WHERE r.code LIKE 'RD-%' ORDER BY 1, 2;
SELECT count(*) AS items_of_hidden_entries FROM pubdata.resource_item
 WHERE resource_id IN (:rd_case, :rd_draft);
SELECT count(*) AS history_of_hidden_entries FROM pubdata.resource_history
 WHERE resource_id IN (:rd_case, :rd_draft);
-- the draft's code is not there for another department: resource_id() and
-- the functions that take a code answer as for a code that does not exist
SELECT pubdata.resource_id('RD-NO-SUCH');
SELECT pubdata.resource_id('RD-DRAFT');
SELECT pubdata.resource_id('RD-CASE') = :rd_case AS non_shared_entry_exists;
SELECT pubdata.request_share('RD-DRAFT', '核查');
SELECT pubdata.submit_resource('RD-DRAFT');
SELECT pubdata.declare_element('RD-DRAFT', 'rd_plan_no');
-- element_source: no source in a draft, no item of a non-shared entry
SELECT element, source_resource, source_department, item FROM pubdata.element_source
 WHERE element LIKE 'rd_%' ORDER BY element;
SELECT code FROM pubdata.resource_catalog WHERE code LIKE 'RD-%' ORDER BY code;
SELECT code FROM pubdata.catalog_as_of(now()) WHERE code LIKE 'RD-%' ORDER BY code;
-- of the non-shared entry: that it exists and its legal basis
SELECT code, name, provider, share_class, legal_basis, whole FROM pubdata.resource_directory WHERE code LIKE 'RD-%' ORDER BY code;
-- its quality score, not its row count; the draft not at all
SELECT resource, rows_checked FROM pubdata.quality_score WHERE resource LIKE 'RD-%' ORDER BY resource;
-- a leaky function sees only what the views give
CREATE FUNCTION pg_temp.leak(c text, t text, b text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
	$$BEGIN IF c LIKE 'RD-%' THEN RAISE NOTICE 'leak: % % %', c, t, b; END IF; RETURN true; END$$;
-- (in code order: the rows' order in the heap depends on what earlier tests left)
SELECT count(*) > 0 AS seen FROM (SELECT * FROM pubdata.resource_directory ORDER BY code OFFSET 0) d
 WHERE pg_temp.leak(code, name, legal_basis);
SELECT count(*) > 0 AS seen FROM pubdata.resource WHERE pg_temp.leak(code, name, legal_basis);
SELECT count(*) > 0 AS seen FROM pubdata.resource_catalog WHERE pg_temp.leak(code, name, relation);
SELECT count(*) > 0 AS seen FROM pubdata.quality_score WHERE pg_temp.leak(resource, resource_name, rows_checked::text);
-- and the refusal still cites the legal basis
SELECT pubdata.request_share('RD-CASE', '核查');
RESET ROLE;

-- the auditor reads the whole catalog
SET ROLE regress_rd_auditor;
SELECT code FROM pubdata.resource WHERE code LIKE 'RD-%' ORDER BY code;
SELECT element, source_resource, source_department, item FROM pubdata.element_source
 WHERE element LIKE 'rd_%' ORDER BY element;
SELECT pubdata.resource_id('RD-DRAFT') = :rd_draft AS auditor_finds_the_draft;
RESET ROLE;

-- a job that fails on a constraint: the detail quotes the key's value
SET ROLE regress_rd_police;
SET client_min_messages = error;
SELECT pubdata.schedule_aggregation('RD-PERSON',
	'SELECT ''330102199001011234''::text AS id_number, ''李四''::text AS name, ''331102''::text AS region',
	mode => 'append', max_attempts => 1) AS job \gset
RESET client_min_messages;
\set VERBOSITY sqlstate
SELECT pubdata.run_job_now(:job);
\set VERBOSITY default
SELECT max(id) AS run FROM pubdata.job_run WHERE job_id = :job \gset
-- the job's department reads the detail
SELECT status, sqlstate, error FROM pubdata.job_run WHERE id = :run;
SELECT detail FROM pubdata.job_run_detail WHERE run_id = :run;
SET ROLE regress_rd_auditor;
-- the auditor: SQLSTATE and message, no value
SELECT status, sqlstate, error FROM pubdata.job_run WHERE id = :run;
SELECT count(*) FROM pubdata.job_run WHERE id = :run AND error LIKE '%330102%';
SELECT detail FROM pubdata.job_run_detail WHERE run_id = :run;
-- another department sees neither
SET ROLE regress_rd_civil;
SELECT count(*) AS runs_seen FROM pubdata.job_run WHERE id = :run;
SELECT count(*) AS details_seen FROM pubdata.job_run_detail WHERE run_id = :run;
RESET ROLE;
SELECT detail FROM pubdata.job_run_detail WHERE run_id = :run;

-- an objection to a record keyed by a personal item, by a department granted it
SET ROLE regress_rd_civil;
SELECT pubdata.request_share('RD-PERSON', '低保核查', ARRAY['id_number', 'region']) AS req \gset
SET ROLE regress_rd_police;
SELECT pubdata.decide_share(:req, true);
SET ROLE regress_rd_civil;
SELECT pubdata.raise_objection('RD-PERSON', '{"id_number": "330102199001011234"}', 'region', '户籍地址有误') AS ticket \gset
SELECT record_key FROM pubdata.objection WHERE id = :ticket;
SET ROLE regress_rd_police;
SELECT record_key FROM pubdata.objection_overview WHERE id = :ticket;
SET ROLE regress_rd_auditor;
-- the auditor: the ticket, not the value
SELECT record_key FROM pubdata.objection WHERE id = :ticket;
SELECT * FROM pubdata.objection WHERE id = :ticket;
SELECT detail FROM pubdata.objection_event WHERE objection_id = :ticket;
SELECT resource, record_key, raised_by, provider, status FROM pubdata.objection_overview WHERE id = :ticket;
SELECT resource, record_key FROM pubdata.open_objection WHERE id = :ticket;
SELECT count(*) AS events FROM pubdata.objection_event WHERE objection_id = :ticket;
SELECT count(*) AS tickets FROM pubdata.objection WHERE id = :ticket;
RESET ROLE;
SELECT record_key FROM pubdata.objection_overview WHERE id = :ticket;

SET client_min_messages = warning;
DELETE FROM pubdata.objection_event WHERE objection_id = :ticket;
DELETE FROM pubdata.objection WHERE id = :ticket;
SELECT pubdata.drop_job(:job);
SELECT pubdata.revoke_share(:req, 'end of test');
SELECT count(pubdata.retire_resource(c, 'end of test')) FROM unnest(ARRAY['RD-PERSON', 'RD-CASE', 'RD-DRAFT']) c;
DROP SCHEMA regress_rd CASCADE;
DELETE FROM pubdata.resource_element WHERE element_id IN (SELECT id FROM pubdata.data_element WHERE code LIKE 'rd\_%');
DELETE FROM pubdata.data_element WHERE code LIKE 'rd\_%';
RESET client_min_messages;
