-- A partitioned table governed end to end: a partition is part of its
-- resource.  Read through the table, the grants, row scopes and audit apply;
-- named directly, a partition is the provider's alone, from the moment it
-- exists (created, attached, by the provider or anyone), whatever privilege
-- anyone gives on it.  Every attempt runs as the department login that would
-- try it.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_pt_admin IN ROLE pubdata_admin;
CREATE ROLE regress_pt_police LOGIN;
CREATE ROLE regress_pt_civil LOGIN;
CREATE ROLE regress_pt_health LOGIN;
CREATE SCHEMA ptp AUTHORIZATION regress_pt_police;
RESET client_min_messages;
SET ROLE regress_pt_admin;
SELECT pubdata.add_department('pt_police', '市公安局', '331100', 'administrative', 'regress_pt_police') > 0 AS ok;
SELECT pubdata.add_department('pt_civil', '莲都区民政局', '331102', 'administrative', 'regress_pt_civil') > 0 AS ok;
SELECT pubdata.add_department('pt_health', '市卫生健康委', '331100', 'administrative', 'regress_pt_health') > 0 AS ok;
RESET ROLE;

-- the provider's table, partitioned by month; one partition partitioned
-- again by county; a privilege given on a partition before registration
SET SESSION AUTHORIZATION regress_pt_police;
CREATE TABLE ptp.household (id_number text NOT NULL, region text NOT NULL, moved_in date NOT NULL, name text)
	PARTITION BY RANGE (moved_in);
CREATE TABLE ptp.household_2026_10 PARTITION OF ptp.household FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE ptp.household_2026_11 PARTITION OF ptp.household FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')
	PARTITION BY LIST (region);
CREATE TABLE ptp.household_2026_11_ld PARTITION OF ptp.household_2026_11 FOR VALUES IN ('331102');
CREATE TABLE ptp.household_2026_11_qt PARTITION OF ptp.household_2026_11 FOR VALUES IN ('331121');
INSERT INTO ptp.household VALUES
	('331102199001011234', '331102', '2026-10-03', '张三'),
	('331121198505052345', '331121', '2026-10-09', '李四'),
	('331102197003033456', '331102', '2026-11-02', '王五'),
	('331121196001014567', '331121', '2026-11-20', '赵六');
GRANT SELECT ON ptp.household_2026_10 TO regress_pt_civil;
GRANT USAGE ON SCHEMA ptp TO regress_pt_civil, regress_pt_health;
SELECT pubdata.register_resource('ptp.household', 'PT-HH', '户籍人口信息', 'pt_police', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.submit_resource('PT-HH');
RESET SESSION AUTHORIZATION;
SET ROLE regress_pt_admin;
SELECT pubdata.review_resource('PT-HH', true), pubdata.publish_resource('PT-HH');
RESET ROLE;

-- every partition, at every level, is the provider's alone: row-level
-- security with the provider's policy, no privilege for anyone else (the
-- one given before registration is gone)
SELECT c.relname, c.relrowsecurity,
	   (SELECT string_agg(p.polname || ' to ' || array_to_string(ARRAY(SELECT rolname FROM pg_roles WHERE oid = ANY (p.polroles)), ','), '; ')
		  FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
	   (SELECT count(*) FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS others_privileges
  FROM pg_partition_tree('ptp.household') t JOIN pg_class c ON c.oid = t.relid
 WHERE t.level > 0 ORDER BY c.relname;

-- a grant: civil reads id_number and region of Liandu's rows
SET SESSION AUTHORIZATION regress_pt_civil;
SELECT pubdata.request_share('PT-HH', '低保核查', ARRAY['id_number', 'region']) AS req \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_pt_police;
SELECT pubdata.decide_share(:req, true, row_scope => '{"region": "331102"}');
RESET SESSION AUTHORIZATION;
CREATE TEMP TABLE pt_before AS SELECT seq FROM pubdata.audit_chain_head();
GRANT SELECT ON pt_before TO PUBLIC;

-- through the table: the grant's rows, in every partition
SET SESSION AUTHORIZATION regress_pt_civil;
SELECT id_number, region FROM ptp.household ORDER BY id_number;
-- named directly: refused, whatever the partition
SELECT id_number, region FROM ptp.household_2026_10;
SELECT count(*) FROM ptp.household_2026_11_ld;
COPY ptp.household_2026_11_qt (id_number) TO STDOUT;
INSERT INTO ptp.household_2026_10 VALUES ('331102200001011230', '331102', '2026-10-05', '钱七');
RESET SESSION AUTHORIZATION;

-- nobody gives a privilege on a partition behind pubdata's back
SET SESSION AUTHORIZATION regress_pt_police;
GRANT SELECT ON ptp.household_2026_11_ld TO regress_pt_civil;
GRANT SELECT (id_number) ON ptp.household_2026_10 TO regress_pt_health;
ALTER TABLE ptp.household_2026_10 DISABLE ROW LEVEL SECURITY;
DROP POLICY pubdata_provider ON ptp.household_2026_10;
CREATE POLICY everyone ON ptp.household_2026_11_ld FOR SELECT TO PUBLIC USING (true);
-- the provider reads its partitions directly, as its table
SELECT count(*) AS provider_reads FROM ptp.household_2026_11_qt;
RESET SESSION AUTHORIZATION;

-- a superuser's privilege (pg_partman copying the parent's, say) opens
-- nothing either: the guard refuses the partition (and its row-level
-- security, with the provider's policy only, would give nothing)
GRANT SELECT ON ptp.household_2026_11_ld TO regress_pt_health;
SET SESSION AUTHORIZATION regress_pt_health;
SELECT count(*) FROM ptp.household_2026_11_ld;
COPY ptp.household_2026_11_ld TO STDOUT;
RESET SESSION AUTHORIZATION;
REVOKE SELECT ON ptp.household_2026_11_ld FROM regress_pt_health;

-- new partitions are governed from the moment they exist: created as a
-- partition, under default privileges that would give them away, or made
-- alone (privileges and all) and attached
SET SESSION AUTHORIZATION regress_pt_police;
ALTER DEFAULT PRIVILEGES IN SCHEMA ptp GRANT SELECT ON TABLES TO regress_pt_civil;
CREATE TABLE ptp.household_2026_12 PARTITION OF ptp.household FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
CREATE TABLE ptp.household_2026_11_jn PARTITION OF ptp.household_2026_11 FOR VALUES IN ('331127');
CREATE TABLE ptp.household_2027_01 (id_number text NOT NULL, region text NOT NULL, moved_in date NOT NULL, name text);
INSERT INTO ptp.household_2027_01 VALUES ('331102201001011239', '331102', '2027-01-04', '孙八');
GRANT SELECT ON ptp.household_2027_01 TO regress_pt_health;
ALTER TABLE ptp.household ATTACH PARTITION ptp.household_2027_01 FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');
ALTER DEFAULT PRIVILEGES IN SCHEMA ptp REVOKE SELECT ON TABLES FROM regress_pt_civil;
RESET SESSION AUTHORIZATION;
SELECT c.relname, c.relrowsecurity,
	   (SELECT string_agg(p.polname, '; ') FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
	   (SELECT count(*) FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS others_privileges
  FROM pg_class c WHERE c.relname IN ('household_2026_12', 'household_2026_11_jn', 'household_2027_01') ORDER BY c.relname;
SET SESSION AUTHORIZATION regress_pt_civil;
SELECT id_number FROM ptp.household_2026_12;
SELECT id_number, region FROM ptp.household WHERE id_number LIKE '3311022010%';
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_pt_health;
SELECT id_number FROM ptp.household_2027_01;
RESET SESSION AUTHORIZATION;

-- lineage names the partitioned table, not the partition a statement named
SET SESSION AUTHORIZATION regress_pt_police;
CREATE TABLE ptp.by_region AS SELECT region, count(*) AS people FROM ptp.household_2026_11_ld GROUP BY region;
INSERT INTO ptp.household_2026_12 (id_number, region, moved_in, name)
	SELECT id_number || 'x', region, '2026-12-01', name FROM ptp.by_region b JOIN ptp.household h USING (region) LIMIT 1;
RESET SESSION AUTHORIZATION;
SELECT source_name, target_name, kind FROM pubdata.lineage_edge
 WHERE source_name LIKE 'ptp.%' OR target_name LIKE 'ptp.%' ORDER BY 1, 2, 3;

-- the refusals are in the audit, under the resource
SELECT resource, command, outcome, role_name
  FROM pubdata.access_log WHERE seq > (SELECT seq FROM pt_before) ORDER BY seq, resource;

-- detached, a partition leaves the resource, and says so; it stays closed
SET SESSION AUTHORIZATION regress_pt_police;
ALTER TABLE ptp.household DETACH PARTITION ptp.household_2026_10;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_pt_civil;
SELECT count(*) FROM ptp.household_2026_10;
SELECT count(*) AS rows_through_table FROM ptp.household;
RESET SESSION AUTHORIZATION;
SELECT relrowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c WHERE c.oid = 'ptp.household_2026_10'::regclass;
SET SESSION AUTHORIZATION regress_pt_police;
DROP TABLE ptp.household_2026_10;
RESET SESSION AUTHORIZATION;
