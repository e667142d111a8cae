-- 5. The access audit: every governed read is recorded in a hash chain (Art 15, 16(4), 27)
\set SHOW_CONTEXT never
\set QUIET on
\echo '== The audit office reads the access log: the civil affairs bureau''s reads of household data'
SET ROLE lishui_audit;
SELECT seq, to_char(at AT TIME ZONE 'Asia/Shanghai', 'MM-DD HH24:MI:SS') AS at, role_name, department,
	   resource, grant_ids, purpose, command, outcome, rows, left(statement, 60) AS statement, left(hash, 12) || '…' AS hash
  FROM pubdata.access_log ORDER BY seq;
\echo '-- use of shared data per department and resource'
SELECT department, resource, provider, statements, rows, grants FROM pubdata.usage_stats ORDER BY 1, 2;
\echo '-- the chain is intact; its head is taken down as an anchor outside the server'
SELECT ok, records, first_broken_seq, detail FROM pubdata.verify_audit_chain();
SELECT seq, hash FROM pubdata.audit_chain_head() \gset anchor_
SELECT ok AS anchor_ok FROM pubdata.verify_audit_chain(:anchor_seq, :'anchor_hash');
RESET ROLE;
\echo '== The police see who read their data, and for what purpose'
SET ROLE lishui_police;
SELECT seq, role_name, department, resource, purpose, command, outcome, rows FROM pubdata.my_access_log WHERE as_provider ORDER BY seq;
\echo '-- but cannot read the whole log, nor switch the audit off'
\set ON_ERROR_STOP off
SELECT count(*) FROM pubdata.access_log;
SET pubdata.audit = off;
\set ON_ERROR_STOP on
RESET ROLE;
\echo '== The DBA archives the closed audit segments for the audit office, then prunes them from the live log'
-- (small segments for the demo: 16 MB by default)
ALTER SYSTEM SET pubdata.audit_segment_size = '1kB';
SELECT pg_reload_conf() \gset
SELECT pg_sleep(0.3) \gset
SET ROLE lishui_civil;
\o /dev/null
SELECT region, count(*) FROM police.household GROUP BY region;
SELECT region, count(*) FROM police.household GROUP BY region;
SELECT region, count(*) FROM police.household GROUP BY region;
\o
RESET ROLE;
\getenv work PUBDATA_WORK
\set archive :work/audit-archive
\! mkdir -p "$PUBDATA_WORK/audit-archive" && chown postgres: "$PUBDATA_WORK/audit-archive"
SELECT count(*) AS segments_archived, min(first_seq) AS first_seq, max(last_seq) AS last_seq, sum(bytes) AS bytes
  FROM pubdata.audit_archive(now(), :'archive');
\echo '-- the archive stands on its own: every file against its manifest, linked to the live chain'
SELECT ok, segments, records, first_seq, last_seq, detail FROM pubdata.verify_audit_archive(:'archive');
\echo '-- pruned only once the usage summaries have counted its records; the chain stays verifiable across the cut'
SELECT pubdata.audit_summarise() \gset
SELECT * FROM pubdata.audit_prune(:'archive');
SELECT ok, records, first_broken_seq, detail FROM pubdata.verify_audit_chain();
ALTER SYSTEM RESET pubdata.audit_segment_size;
SELECT pg_reload_conf() \gset
