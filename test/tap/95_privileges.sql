-- pgTAP: the privilege properties every object of pubdata must have, read from
-- the system catalogs so that a function, table or view added later without
-- them fails this suite
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
BEGIN;
SELECT plan(26);

-- the extension's own objects (pg_depend 'e'), in both schemas
CREATE TEMP VIEW sec_fn AS
SELECT p.oid, p.oid::regprocedure::text AS sig, p.prosecdef, p.proconfig, p.proacl, l.lanname,
	   pg_get_functiondef(p.oid) AS def
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace IN ('pubdata'::regnamespace, 'pubdata_open'::regnamespace) AND p.prokind <> 'a';
CREATE TEMP VIEW sec_rel AS
SELECT c.oid, c.oid::regclass::text AS rel, c.relkind, c.relacl
  FROM pg_class c
 WHERE c.relnamespace IN ('pubdata'::regnamespace, 'pubdata_open'::regnamespace, 'pubdata_federation'::regnamespace)
   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f');

SELECT cmp_ok((SELECT count(*) FROM sec_fn WHERE prosecdef), '>', 50::bigint,
	'the SECURITY DEFINER functions are found');

-- 1. every SECURITY DEFINER function fixes search_path = pg_catalog, pg_temp
SELECT is_empty($$SELECT sig FROM sec_fn WHERE prosecdef
	AND NOT coalesce(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
	'every SECURITY DEFINER function sets search_path = pg_catalog, pg_temp');

-- 2. nothing in pubdata is executable by PUBLIC
SELECT is_empty($$SELECT sig FROM sec_fn WHERE has_function_privilege('public', oid, 'EXECUTE')$$,
	'no pubdata function is executable by PUBLIC');
SELECT is_empty($$SELECT sig FROM sec_fn f, aclexplode(f.proacl) a WHERE a.grantee = 0$$,
	'no function ACL names PUBLIC');

-- 3. internal functions (leading underscore) are callable by no department,
-- except the few a policy, a view or a DO-less caller evaluates as the reader
SELECT set_eq($$SELECT sig FROM sec_fn WHERE sig ~ '^pubdata\._'
					AND has_function_privilege('pubdata_department', oid, 'EXECUTE') ORDER BY 1$$,
	ARRAY['pubdata._catalog_sight(bigint)', 'pubdata._check_enum(text,regtype,text)', 'pubdata._grant_ok(bigint)', 'pubdata._may_see_job(bigint)',
		  'pubdata._objection_key_for(bigint,integer,jsonb)',
		  'pubdata._objection_visible(bigint)', 'pubdata._shared_ok(bigint)', 'pubdata._grant_mask(anyelement,oid,smallint,oid)', 'pubdata._grant_rule(oid,smallint,oid)',
		  'pubdata._my_access_log()', 'pubdata._pgcrypto_schema()',
		  'pubdata._progress_seen()',
		  'pubdata._quality_may_see(bigint,boolean)', 'pubdata._reads(bigint,text)', 'pubdata._record_view_lineage(regclass)',
		  'pubdata._federation_sight(text,text)'],
	'departments execute only the internal functions policies and views need');
SELECT is_empty($$SELECT sig FROM sec_fn WHERE sig ~ '^pubdata\._'
					AND has_function_privilege('pubdata_open_reader', oid, 'EXECUTE')$$,
	'open-data readers execute no internal function');

-- the one way SQL functions look into a department's table, as its owner:
-- only the extension owner (pubdata's own SECURITY DEFINER functions) runs it
SELECT is_empty($$SELECT r.rolname FROM pg_roles r
	WHERE has_function_privilege(r.oid, 'pubdata._owner_count(regclass,text,jsonb)', 'EXECUTE')
	  AND NOT r.rolsuper$$,
	'pubdata._owner_count is executable by no role but superusers (the extension owner)');
-- the benchmark helper writes synthetic audit records: superusers only
SELECT is_empty($$SELECT r.rolname FROM pg_roles r
	WHERE has_function_privilege(r.oid, 'pubdata._audit_bench_fill(bigint,integer,integer,integer)', 'EXECUTE')
	  AND NOT r.rolsuper$$,
	'pubdata._audit_bench_fill is executable by no role but superusers');
-- the OpenLineage stream's order lock and writers: pubdata's own code only (a
-- role that could take the lock would hold every publication)
SELECT is_empty($$SELECT r.rolname || ' ' || f FROM pg_roles r,
		unnest(ARRAY['pubdata._openlineage_lock()',
					 'pubdata._openlineage_emit(oid,text,oid[],text[],text[],bigint[],timestamptz,text,bigint,text,boolean)',
					 'pubdata._openlineage_pending_n()',
					 'pubdata._lineage_stream_claim(regclass)']) f
	WHERE has_function_privilege(r.oid, f, 'EXECUTE') AND NOT r.rolsuper$$,
	'the OpenLineage stream''s lock and writer are executable by no role but superusers (the extension owner)');
SELECT set_eq($$SELECT sig FROM sec_fn WHERE lanname IN ('sql', 'plpgsql') AND def ~ 'pubdata\._owner_count\('$$,
	ARRAY['pubdata._objection_in_scope(bigint,jsonb)', 'pubdata.resolve_objection(bigint,text,text,jsonb)'],
	'the functions that build queries for pubdata._owner_count are the reviewed ones');

-- 4. admin-only functions: granted to pubdata_admin, not to departments
SELECT is_empty($$SELECT sig FROM sec_fn WHERE has_function_privilege('pubdata_department', oid, 'EXECUTE')
	AND split_part(sig, '(', 1) IN ('pubdata.add_department', 'pubdata.add_region', 'pubdata.add_system',
		'pubdata.add_data_element', 'pubdata.review_resource', 'pubdata.publish_resource', 'pubdata.approve_copy',
		'pubdata.approve_scenario', 'pubdata.approve_project', 'pubdata.accept_project', 'pubdata.sweep_grants',
		'pubdata.sweep_objections', 'pubdata.check_overdue', 'pubdata.load_calendar_year',
		'pubdata.unload_calendar_year', 'pubdata.recompute_deadlines', 'pubdata.check_calendar', 'pubdata.rotate_pseudonym_key',
		'pubdata.record_lineage', 'pubdata.lineage_compact', 'pubdata.evaluation', 'pubdata.evaluation_report',
		'pubdata.verify_audit_chain', 'pubdata.audit_chain_head', 'pubdata._audit_records',
		'pubdata.verify_audit_chain_incremental', 'pubdata.audit_records', 'pubdata._audit_records_where',
		'pubdata._access_rows', 'pubdata.audit_summarise', 'pubdata._usage_reads', 'pubdata._audit_bench_fill',
		'pubdata.openlineage_events', 'pubdata.openlineage_events_prune', 'pubdata.openlineage_publish',
		'pubdata.publish_catalog_to_province', 'pubdata.add_federated_city', 'pubdata.remove_federated_city',
		'pubdata.province_evaluation', 'pubdata._audit_receive', 'pubdata.audit_servers', 'pubdata.verify_audit_chains',
		'pubdata._audit_shipped_records', 'pubdata._shipped_access_rows', 'pubdata._verify_shipped_chains',
		'pubdata._audit_server_of', 'pubdata.audit_archive', 'pubdata.audit_prune', 'pubdata.verify_audit_archive')$$,
	'departments cannot execute the bureau''s functions');
-- archiving the audit: the bureau and the auditor archive and verify (the C
-- code also requires pg_write_server_files / pg_read_server_files), only the
-- bureau prunes
SELECT set_eq($$SELECT r || ' ' || f FROM unnest(ARRAY['pubdata_admin', 'pubdata_auditor', 'pubdata_department',
		'pubdata_open_reader', 'pubdata_standby', 'pubdata_province', 'public']) r,
		unnest(ARRAY['pubdata.audit_archive(timestamptz,text,text)', 'pubdata.audit_prune(text,bigint,text)',
					 'pubdata.verify_audit_archive(text,text)']) f
	WHERE has_function_privilege(r, f, 'EXECUTE')$$,
	ARRAY['pubdata_admin pubdata.audit_archive(timestamptz,text,text)', 'pubdata_admin pubdata.audit_prune(text,bigint,text)',
		  'pubdata_admin pubdata.verify_audit_archive(text,text)', 'pubdata_auditor pubdata.audit_archive(timestamptz,text,text)',
		  'pubdata_auditor pubdata.verify_audit_archive(text,text)'],
	'the audit archive: the bureau and the auditor archive and verify, only the bureau prunes');

-- the standbys' login (a member of pubdata_standby) ships audit records and
-- does nothing else in pubdata; the province's login on a city executes nothing
SELECT set_eq($$SELECT sig FROM sec_fn WHERE has_function_privilege('pubdata_standby', oid, 'EXECUTE')$$,
	ARRAY['pubdata._audit_receive(text,text,bigint,text,text,text)'],
	'pubdata_standby executes _audit_receive only');
SELECT set_eq($$SELECT sig FROM sec_fn WHERE has_function_privilege('pubdata_province', oid, 'EXECUTE')$$,
	ARRAY['pubdata._federation_city()'],
	'pubdata_province executes only what its row-level security calls');
SELECT is_empty($$SELECT rel FROM sec_rel r WHERE has_table_privilege('pubdata_standby', r.oid, 'SELECT')$$,
	'pubdata_standby reads no table or view');

-- 5. SECURITY DEFINER functions identify the caller with pubdata.caller():
-- current_user / session_user inside them is the extension owner
SELECT is_empty($$SELECT sig FROM sec_fn WHERE prosecdef AND lanname IN ('sql', 'plpgsql')
	AND def ~* '\m(current_user|session_user|current_role|user)\M\s*(\)|,|;|$|\s(is|=|<>|and|or|then)\M)'$$,
	'no SECURITY DEFINER function reads current_user or session_user');

-- 6. dynamic SQL: every PL/pgSQL function that runs EXECUTE was reviewed for
-- quoting (format with %I/%L, quote_ident, regclass output); a new one fails
-- here until it is reviewed and added
SELECT set_eq($$SELECT sig FROM sec_fn WHERE lanname = 'plpgsql' AND def ~ '\mEXECUTE\M\s+(?!FUNCTION)'$$,
	ARRAY['pubdata.add_department(text,text,text,text,name,text,text)', 'pubdata._refresh_sharing(bigint)',
		  'pubdata._govern_partitions(bigint)',
		  'pubdata._sync_schema_usage(oid)',
		  'pubdata._objection_key(bigint,jsonb,text)',
		  'pubdata.measure_quality(text)', 'pubdata.enable_quality_trigger(text)',
		  'pubdata.disable_quality_trigger(text)', 'pubdata.rotate_pseudonym_key()', 'pubdata._open_sync(bigint)',
		  'pubdata._open_comments(bigint,name)', 'pubdata._mask_comments(bigint)', 'pubdata.disallow_open_reader(text,name)',
		  'pubdata.publish_catalog_to_province(text)',
		  'pubdata._eval_map(text,timestamp with time zone,timestamp with time zone)',
		  'pubdata._grant_back(text,name,jsonb,oid[],oid,boolean)', 'pubdata._uninstall(boolean)'],
	'the functions that run dynamic SQL are the reviewed ones');
SELECT is_empty($$SELECT sig FROM sec_fn WHERE lanname = 'plpgsql' AND def ~ 'EXECUTE\s+''[^'']*''\s*\|\|'$$,
	'dynamic SQL is built with format(), not by concatenating text');

-- 7. every function is owned by the extension owner and nothing is owned by a department
SELECT is_empty($$SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace IN ('pubdata'::regnamespace, 'pubdata_open'::regnamespace)
	  AND p.proowner <> (SELECT e.extowner FROM pg_extension e WHERE e.extname = 'pubdata')$$,
	'every function in pubdata is owned by the extension owner');

-- 8. tables, views and sequences: nothing to PUBLIC, no write privilege for departments
SELECT is_empty($$SELECT rel FROM sec_rel r, aclexplode(r.relacl) a WHERE a.grantee = 0$$,
	'no table, view or sequence of pubdata is granted to PUBLIC');
SELECT is_empty($$SELECT rel || ' ' || p FROM sec_rel r,
		unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
	WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
	  AND (has_table_privilege('pubdata_department', r.oid, p) OR has_table_privilege('pubdata_open_reader', r.oid, p)
		   OR has_table_privilege('pubdata_auditor', r.oid, p) OR has_table_privilege('pubdata_province', r.oid, p))$$,
	'departments, open-data readers, auditors and the province''s login write no table of pubdata');
SELECT is_empty($$SELECT rel FROM sec_rel r WHERE r.relkind = 'S'
	AND (has_sequence_privilege('pubdata_department', r.oid, 'USAGE') OR has_sequence_privilege('pubdata_department', r.oid, 'UPDATE'))$$,
	'departments use no sequence of pubdata');
SELECT is_empty($$SELECT rel FROM sec_rel r WHERE r.relkind IN ('r', 'p')
	AND has_table_privilege('pubdata_department', r.oid, 'SELECT')
	AND rel IN ('pubdata.open_pseudonym_key', 'pubdata.lineage_edge_data', 'pubdata.lineage_observation',
				'pubdata.aggregation_alert', 'pubdata.calendar_alert', 'pubdata.evaluation_weight')$$,
	'departments do not read the pseudonym key or the bureau''s tables');

-- 9. the schemas: only the owner creates in them
SELECT is_empty($$SELECT n.nspname || ' ' || r FROM pg_namespace n,
		unnest(ARRAY['pubdata_department', 'pubdata_admin', 'pubdata_auditor', 'pubdata_open_reader', 'pubdata_province', 'public']) r
	WHERE n.nspname IN ('pubdata', 'pubdata_open', 'pubdata_federation') AND has_schema_privilege(r, n.oid, 'CREATE')$$,
	'nobody but the owner creates objects in pubdata, pubdata_open or pubdata_federation');

-- 10. event triggers that guard policies and grants exist and are enabled
SELECT set_has($$SELECT evtname::text FROM pg_event_trigger WHERE evtenabled <> 'D'$$,
	$$VALUES ('pubdata_guard_ddl'), ('pubdata_guard_policy_drop'), ('pubdata_guard_grant_start'), ('pubdata_guard_grant')$$,
	'the policy and grant guards are enabled');

-- every view a pubdata role reads is a security barrier (a reader's leaky
-- function in WHERE sees only the rows the view gives it)
SELECT is_empty($$SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				  WHERE n.nspname IN ('pubdata', 'pubdata_open', 'pubdata_federation') AND c.relkind = 'v'
					AND (has_table_privilege('pubdata_open_reader', c.oid, 'SELECT')
						 OR has_table_privilege('pubdata_department', c.oid, 'SELECT')
						 OR has_table_privilege('pubdata_auditor', c.oid, 'SELECT'))
					AND NOT coalesce('security_barrier=true' = ANY (c.reloptions), false)$$,
	'every view pubdata roles read is a security barrier');

SELECT * FROM finish();
ROLLBACK;
