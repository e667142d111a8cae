-- The access audit at volume: filtered reads (audit_records, my_audit_records)
-- return exactly the rows of filtering the full scan, at segment boundaries,
-- across rotations and at ties; usage_stats from summaries plus the tail
-- equals the full aggregate; incremental verification; the benchmark helper
-- is for superusers only.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_av_admin IN ROLE pubdata_admin;
CREATE ROLE regress_av_prov;
CREATE ROLE regress_av_user;
CREATE ROLE regress_av_other;
CREATE SCHEMA regress_av AUTHORIZATION regress_av_prov;
GRANT USAGE ON SCHEMA regress_av TO PUBLIC;
-- small segments: a rotation every few records
ALTER SYSTEM SET pubdata.audit_segment_size = 2;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
RESET client_min_messages;
SET ROLE regress_av_admin;
SELECT pubdata.add_department('av_prov', '市人社局', '331100', 'administrative', 'regress_av_prov') > 0 AS ok;
SELECT pubdata.add_department('av_user', '市医保局', '331100', 'administrative', 'regress_av_user') > 0 AS ok;
SELECT pubdata.add_department('av_other', '市交通局', '331100', 'administrative', 'regress_av_other') > 0 AS ok;
RESET ROLE;
SET ROLE regress_av_prov;
CREATE TABLE regress_av.insured (id int PRIMARY KEY, name text);
INSERT INTO regress_av.insured SELECT i, 'person ' || i FROM generate_series(1, 5) i;
SELECT pubdata.register_resource('regress_av.insured', 'AV-INS', '参保人员', 'av_prov',
	'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.submit_resource('AV-INS');
RESET ROLE;
SET ROLE regress_av_admin;
SELECT pubdata.review_resource('AV-INS', true), pubdata.publish_resource('AV-INS');
RESET ROLE;
SET ROLE regress_av_user;
SELECT pubdata.request_share('AV-INS', '医保待遇核查', ARRAY['id', 'name']) AS req \gset
RESET ROLE;
SET ROLE regress_av_prov;
SELECT pubdata.decide_share(:req, true);
RESET ROLE;

CREATE TEMP TABLE av_before AS SELECT coalesce(max(seq), 0) AS seq FROM pubdata.access_log;
SELECT ok FROM pubdata.verify_audit_chain_incremental();

-- real reads between batches of synthetic records: each batch takes the
-- time of the read before it (times never go back), so there are ties
SET ROLE regress_av_user;
SELECT count(*) FROM regress_av.insured;
RESET ROLE;
SELECT pubdata._audit_bench_fill(40, 30, 3, 2) > 0 AS filled;
SELECT pg_sleep(0.01);
SET ROLE regress_av_user;
SELECT count(*) FROM regress_av.insured WHERE id < 3;
RESET ROLE;
SELECT pubdata._audit_bench_fill(40, 30, 3, 2) > 0 AS filled;
SELECT pg_sleep(0.01);
SET ROLE regress_av_other;
SELECT count(*) FROM regress_av.insured;
RESET ROLE;
SET ROLE regress_av_user;
SELECT count(*) FROM regress_av.insured WHERE id = 1;
RESET ROLE;
SELECT pubdata._audit_bench_fill(40, 30, 3, 2) > 0 AS filled;
SELECT count(*) > 10 AS rotated FROM pg_ls_dir('pg_pubdata/audit') f WHERE f LIKE '%.log';

-- every window between two times of the log (segment boundaries and ties
-- included) gives exactly the rows of access_log filtered
CREATE TEMP TABLE av_log AS SELECT * FROM pubdata.access_log WHERE seq > (SELECT seq FROM av_before);
CREATE TEMP TABLE av_times AS SELECT DISTINCT at FROM av_log
	UNION SELECT at + interval '1 microsecond' FROM av_log UNION SELECT NULL::timestamptz;
SELECT count(*) AS times FROM av_times;
SELECT count(*) AS windows,
	   sum((SELECT count(*) FROM (SELECT * FROM pubdata.audit_records(a.at, b.at) WHERE seq > (SELECT seq FROM av_before)
								  EXCEPT ALL
								  SELECT * FROM av_log l WHERE (a.at IS NULL OR l.at >= a.at) AND (b.at IS NULL OR l.at < b.at)) x)) AS extra,
	   sum((SELECT count(*) FROM (SELECT * FROM av_log l WHERE (a.at IS NULL OR l.at >= a.at) AND (b.at IS NULL OR l.at < b.at)
								  EXCEPT ALL
								  SELECT * FROM pubdata.audit_records(a.at, b.at) WHERE seq > (SELECT seq FROM av_before)) x)) AS missing
  FROM av_times a, av_times b WHERE a.at IS NULL OR b.at IS NULL OR a.at <= b.at;

-- the other filters, alone and together, against the same filters on the full scan
CREATE TEMP TABLE av_filters (resource text, department text, role_name text, grant_id bigint);
INSERT INTO av_filters VALUES ('AV-INS', NULL, NULL, NULL), ('BENCH-R2', NULL, NULL, NULL), (NULL, 'av_user', NULL, NULL),
	(NULL, 'BENCH-D1', NULL, NULL), (NULL, NULL, 'regress_av_other', NULL), (NULL, NULL, 'bench_d2', NULL),
	(NULL, NULL, NULL, 2003), ('BENCH-R3', 'BENCH-D2', 'bench_d2', 2003), ('BENCH-R3', 'BENCH-D1', NULL, NULL),
	('AV-INS', 'av_user', 'regress_av_user', NULL), ('nothing', NULL, NULL, NULL), (NULL, NULL, NULL, :req);
SELECT f.resource, f.department, f.role_name, CASE WHEN f.grant_id = :req THEN 'the request' ELSE f.grant_id::text END AS grant_id,
	   (SELECT count(*) FROM av_log l WHERE (f.resource IS NULL OR l.resource = f.resource)
			AND (f.department IS NULL OR l.department = f.department) AND (f.role_name IS NULL OR l.role_name = f.role_name)
			AND (f.grant_id IS NULL OR l.grant_id = f.grant_id OR f.grant_id = ANY (l.grant_ids))) AS full_scan,
	   (SELECT count(*) FROM (SELECT * FROM pubdata.audit_records(NULL, NULL, f.resource, f.department, f.role_name, f.grant_id)
								WHERE seq > (SELECT seq FROM av_before)
							  EXCEPT ALL
							  SELECT * FROM av_log l WHERE (f.resource IS NULL OR l.resource = f.resource)
								AND (f.department IS NULL OR l.department = f.department) AND (f.role_name IS NULL OR l.role_name = f.role_name)
								AND (f.grant_id IS NULL OR l.grant_id = f.grant_id OR f.grant_id = ANY (l.grant_ids))) x) AS extra,
	   (SELECT count(*) FROM pubdata.audit_records(NULL, NULL, f.resource, f.department, f.role_name, f.grant_id)
		 WHERE seq > (SELECT seq FROM av_before)) AS filtered
  FROM av_filters f ORDER BY 1, 2, 3, 4;

-- departments: my_audit_records is my_access_log filtered; the rest is refused
SET ROLE regress_av_user;
SELECT (SELECT count(*) FROM pubdata.my_access_log WHERE resource = 'AV-INS') AS mine,
	   (SELECT count(*) FROM pubdata.my_audit_records(NULL, NULL, 'AV-INS')) AS filtered,
	   (SELECT count(*) FROM (SELECT * FROM pubdata.my_audit_records(now() - interval '1 hour', NULL)
							  EXCEPT ALL SELECT * FROM pubdata.my_access_log WHERE at >= now() - interval '1 hour') x) AS extra;
SELECT count(*) FROM pubdata.my_audit_records(NULL, NULL, department => 'BENCH-D1');
SELECT count(*) FROM pubdata.audit_records(NULL, NULL);
SELECT count(*) FROM pubdata._audit_records_where(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT pubdata._audit_bench_fill(1);
SELECT pubdata.audit_summarise();
RESET ROLE;
SET ROLE regress_av_prov;
SELECT count(*) AS provider_sees FROM pubdata.my_audit_records(NULL, NULL) WHERE as_provider;
RESET ROLE;
-- the helper refuses an admin too: it is for superusers on a benchmark cluster
SET ROLE regress_av_admin;
SELECT pubdata._audit_bench_fill(1);
RESET ROLE;

-- usage_stats (summaries plus the unsummarised tail) equals the full aggregate
CREATE TEMP VIEW av_usage_full AS
	SELECT l.department, l.resource, count(*) AS statements, sum(l.rows) AS rows, count(DISTINCT l.role_name) AS roles,
		   count(DISTINCT l.grant_id) AS grants, min(l.at) AS first_at, max(l.at) AS last_at
	  FROM pubdata.access_log l GROUP BY 1, 2;
CREATE TEMP VIEW av_usage_diff AS
	SELECT count(*) AS differ FROM ((SELECT * FROM av_usage_full
		EXCEPT SELECT department, resource, statements, rows, roles, grants, first_at, last_at FROM pubdata.usage_stats)
	UNION ALL (SELECT department, resource, statements, rows, roles, grants, first_at, last_at FROM pubdata.usage_stats
		EXCEPT SELECT * FROM av_usage_full)) x;
SELECT * FROM av_usage_diff;
SELECT pubdata.audit_summarise() > 0 AS summarised;
SELECT * FROM av_usage_diff;
SELECT pubdata.audit_summarise() AS nothing_new;
SET ROLE regress_av_user;
SELECT count(*) FROM regress_av.insured;
RESET ROLE;
SELECT pubdata._audit_bench_fill(25, 30, 3, 2) > 0 AS filled;
SELECT * FROM av_usage_diff;
-- the evaluation's shared data used: summaries plus tail, as the full count
SELECT e.department, e.shared_reads, e.shared_reads = (SELECT count(*) FROM pubdata.access_log l
								  WHERE l.department = e.department
									AND l.at >= timezone('Asia/Shanghai', (timezone('Asia/Shanghai', now())::date)::timestamp)) AS same
  FROM pubdata.evaluation(timezone('Asia/Shanghai', now())::date, timezone('Asia/Shanghai', now())::date) e
 WHERE e.department IN ('av_user', 'av_other') ORDER BY 1;
SELECT pubdata.audit_summarise() > 0 AS summarised;
SELECT e.department, e.shared_reads, e.shared_reads = (SELECT count(*) FROM pubdata.access_log l
								  WHERE l.department = e.department
									AND l.at >= timezone('Asia/Shanghai', (timezone('Asia/Shanghai', now())::date)::timestamp)) AS same
  FROM pubdata.evaluation(timezone('Asia/Shanghai', now())::date, timezone('Asia/Shanghai', now())::date) e
 WHERE e.department IN ('av_user', 'av_other') ORDER BY 1;

-- incremental verification: a full check remembers the verified prefix (up
-- to the last fsynced record), the next check goes through the new records only
CREATE TEMP VIEW av_synced AS SELECT synced_seq = seq AS synced FROM pubdata.audit_chain_head();
DO $$ BEGIN FOR i IN 1..200 LOOP EXIT WHEN (SELECT synced FROM av_synced); PERFORM pg_sleep(0.05); END LOOP; END $$;
SELECT ok FROM pubdata.verify_audit_chain();
SELECT ok, records FROM pubdata.verify_audit_chain_incremental();
SELECT pubdata._audit_bench_fill(7) > 0 AS filled;
DO $$ BEGIN FOR i IN 1..200 LOOP EXIT WHEN (SELECT synced FROM av_synced); PERFORM pg_sleep(0.05); END LOOP; END $$;
SELECT ok, records, detail ~ 'verified from the remembered prefix' AS from_prefix FROM pubdata.verify_audit_chain_incremental();
SELECT ok, records FROM pubdata.verify_audit_chain_incremental();
SELECT ok FROM pubdata.verify_audit_chain();

-- clean up
SET client_min_messages = warning;
ALTER SYSTEM RESET pubdata.audit_segment_size;
SELECT pg_reload_conf();
SELECT pubdata.retire_resource('AV-INS', 'end of test');
DROP SCHEMA regress_av CASCADE;
DELETE FROM pubdata.share_request;
DELETE FROM pubdata.resource WHERE code = 'AV-INS';
DELETE FROM pubdata.resource_history WHERE NOT EXISTS (SELECT 1 FROM pubdata.resource r WHERE r.id = resource_id);
DELETE FROM pubdata.department WHERE code IN ('av_prov', 'av_user', 'av_other');
DROP OWNED BY regress_av_other;
DROP ROLE regress_av_admin, regress_av_prov, regress_av_user, regress_av_other;
