#!/bin/bash
# A partitioned table kept by the real pg_partman (Debian's
# postgresql-15-partman): its maintenance creates next months' partitions,
# copying the parent's privileges to them (inherit_privileges), as a cron job
# run by a superuser would.  Every partition it makes is governed from the
# moment it exists: row-level security with the provider's policy, no
# privilege for another department, a direct read refused; through the
# parent the department reads its grant's rows, the new months' included.
# DROP EXTENSION pubdata then gives the partitions back.
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${PUBDATA_BINDIR:?}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
DB=pubdata_partman
ROLES="regress_pm_admin regress_pm_police regress_pm_civil"

fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }
cleanup() {
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	$P -d postgres -c "DROP ROLE IF EXISTS ${ROLES// /, }" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup

[ -f "$("$BIN/pg_config" --sharedir)/extension/pg_partman.control" ] ||
	fail "pg_partman is not installed (make test installs postgresql-15-partman)"

PGOPTIONS="-c client_min_messages=warning" $P -d postgres >/dev/null <<SQL || fail "roles and database"
CREATE ROLE regress_pm_admin IN ROLE pubdata_admin;
CREATE ROLE regress_pm_police LOGIN;
CREATE ROLE regress_pm_civil LOGIN;
CREATE DATABASE $DB;
SQL

out=$(PGOPTIONS="-c client_min_messages=warning" $P -At -d $DB 2>&1 <<'SQL'
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
SET ROLE regress_pm_admin;
SELECT pubdata.add_department('pm_transport', '市交通运输局', '331100', 'administrative', 'regress_pm_police') > 0;
SELECT pubdata.add_department('pm_civil', '莲都区民政局', '331102', 'administrative', 'regress_pm_civil') > 0;
RESET ROLE;
CREATE SCHEMA pmt AUTHORIZATION regress_pm_police;
SET ROLE regress_pm_police;
CREATE TABLE pmt.trips (trip_id bigint NOT NULL, region text NOT NULL, started date NOT NULL, fare numeric)
	PARTITION BY RANGE (started);
RESET ROLE;
-- pg_partman, as the DBA sets it up: monthly partitions from this month on,
-- the parent's privileges copied to each new one
SELECT partman.create_parent('pmt.trips', 'started', 'native', 'monthly', p_premake => 1,
							 p_start_partition => to_char(date_trunc('month', now()), 'YYYY-MM-DD'));
UPDATE partman.part_config SET inherit_privileges = true WHERE parent_table = 'pmt.trips';
SET ROLE regress_pm_police;
INSERT INTO pmt.trips SELECT g, CASE WHEN g % 2 = 0 THEN '331102' ELSE '331121' END,
	date_trunc('month', now())::date + (g % 20), 2 + g % 9 FROM generate_series(1, 40) g;
SELECT pubdata.register_resource('pmt.trips', 'PM-TRIPS', '公交出行记录', 'pm_transport', 'restricted', 'not_open', 'daily', 2) > 0;
SELECT pubdata.submit_resource('PM-TRIPS');
RESET ROLE;
SET ROLE regress_pm_admin;
SELECT pubdata.review_resource('PM-TRIPS', true), pubdata.publish_resource('PM-TRIPS');
RESET ROLE;
SET ROLE regress_pm_civil;
SELECT pubdata.request_share('PM-TRIPS', '困难群众出行补贴核定', ARRAY['trip_id', 'region', 'started']);
RESET ROLE;
SET ROLE regress_pm_police;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
RESET ROLE;
-- a privilege on the parent that pg_partman would copy to new partitions
GRANT SELECT ON pmt.trips TO regress_pm_civil;
SQL
)
[ $? = 0 ] || fail "set-up: $out"
ok "pg_partman keeps pmt.trips; registered, published, granted to pm_civil for region 331102"

before=$($P -At -d $DB -c "SELECT count(*) FROM pg_partition_tree('pmt.trips') WHERE level > 0")
# the maintenance a cron job runs: three months ahead now
$P -d $DB >/dev/null 2>"$PUBDATA_WORK/partman.err" <<'SQL' || { cat "$PUBDATA_WORK/partman.err"; fail "run_maintenance"; }
UPDATE partman.part_config SET premake = 3 WHERE parent_table = 'pmt.trips';
SELECT partman.run_maintenance('pmt.trips');
SQL
after=$($P -At -d $DB -c "SELECT count(*) FROM pg_partition_tree('pmt.trips') WHERE level > 0")
[ "$after" -gt "$before" ] || fail "pg_partman made no new partition ($before before, $after after)"
ok "pg_partman's maintenance made $((after - before)) new partitions ($before before)"

# every partition, the new ones included, is the provider's alone
bad=$($P -At -d $DB <<'SQL'
SELECT c.relname || ': rls=' || c.relrowsecurity
	   || ' provider_policy=' || EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'pubdata_provider'
											 AND p.polroles = ARRAY['regress_pm_police'::regrole::oid])
	   || ' other_policies=' || (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname <> 'pubdata_provider')
	   || ' civil_privileges=' || (SELECT count(*) FROM aclexplode(c.relacl) a WHERE a.grantee IN ('regress_pm_civil'::regrole, 0))
  FROM pg_partition_tree('pmt.trips') t JOIN pg_class c ON c.oid = t.relid
 WHERE t.level > 0
   AND NOT (c.relrowsecurity
			AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'pubdata_provider')
			AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname <> 'pubdata_provider')
			AND NOT EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee IN ('regress_pm_civil'::regrole, 0)));
SQL
)
[ -z "$bad" ] || fail "partitions not governed: $bad"
ok "all $after partitions: row-level security, the provider's policy only, no privilege for pm_civil or PUBLIC"

newest=$($P -At -d $DB -c "SELECT c.oid::regclass FROM pg_partition_tree('pmt.trips') t JOIN pg_class c ON c.oid = t.relid
							WHERE t.level > 0 AND c.relname <> 'trips_default' ORDER BY c.relname DESC LIMIT 1")
# a superuser's privilege on the newest partition (pg_partman's copy, say)
$P -d $DB -c "GRANT SELECT ON $newest TO regress_pm_civil" >/dev/null || fail "superuser's GRANT"
out=$($P -At -d $DB -c "SET ROLE regress_pm_civil" -c "SELECT count(*) FROM $newest" 2>&1)
grep -q "permission denied for partition .* of resource \"PM-TRIPS\"" <<<"$out" ||
	fail "pm_civil read the new partition $newest directly: $out"
ok "pm_civil's direct read of $newest is refused, a superuser's privilege notwithstanding"

# through the parent: the grant's rows, new months included
$P -d $DB >/dev/null <<'SQL' || fail "provider's rows in a new month"
SET ROLE regress_pm_police;
INSERT INTO pmt.trips VALUES (1001, '331102', (date_trunc('month', now()) + interval '2 months')::date, 3),
							 (1002, '331121', (date_trunc('month', now()) + interval '2 months')::date, 4);
SQL
out=$($P -At -d $DB -c "SET ROLE regress_pm_civil" \
	-c "SELECT count(*) || ' ' || count(*) FILTER (WHERE region <> '331102') || ' ' || count(*) FILTER (WHERE trip_id = 1001) FROM pmt.trips" 2>&1)
[ "$out" = "21 0 1" ] || fail "pm_civil through the parent: want '21 0 1' (rows, rows outside the scope, the new month's row), got '$out'"
ok "through the parent pm_civil reads its 21 rows, none outside its scope, the new month's included"

# DROP EXTENSION gives the partitions back: no policy of pubdata's, no row-level security
out=$($P -At -d $DB -c "DROP EXTENSION pubdata CASCADE" \
	-c "SELECT count(*) FROM pg_partition_tree('pmt.trips') t JOIN pg_class c ON c.oid = t.relid
		 WHERE c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)" 2>&1)
[ "$out" = "0" ] || fail "after DROP EXTENSION: $out partitions keep row-level security or a policy"
ok "DROP EXTENSION pubdata: no partition keeps pubdata's row-level security or policy"
