#!/bin/bash
# Read replicas (DESIGN "Scale beyond one server"): a hot standby built with
# pg_basebackup from the test primary serves the open-data views, the open
# catalog, the DCAT export and the evaluation; catalog changes on the primary
# reach it by streaming replication.
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}
SPORT=$((PGPORT + 10))
SDATA=$WORK/standby
SSOCK=$WORK/standby_sock
DB=pubdata_replica

fail() { echo "85_replica: FAILED: $*" >&2; exit 1; }
pq() { "$BIN/psql" -X -v ON_ERROR_STOP=1 -qAt -h "$PGHOST" -p "$PGPORT" -U postgres -d "$DB" "$@"; }
sq() { "$BIN/psql" -X -v ON_ERROR_STOP=1 -qAt -h "$SSOCK" -p "$SPORT" -U postgres -d "$DB" "$@"; }
stop_standby() {
	[ -f "$SDATA/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$SDATA" -m fast -w stop >/dev/null 2>&1
	return 0
}
trap stop_standby EXIT

# --- the primary: an open resource, published through the API --------------
PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" || fail "create database"
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres -d "$DB" >/dev/null <<'SQL' || fail "primary set-up"
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
DO $$
DECLARE
	r text[];
BEGIN
	FOREACH r SLICE 1 IN ARRAY ARRAY[['replica_open_admin', 'pubdata_admin'], ['replica_open_dept', NULL],
		['replica_open_bi', 'pubdata_open_reader'], ['replica_open_auditor', 'pubdata_auditor'], ['replica_open_user', NULL]]
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r[1]) THEN
			EXECUTE format('CREATE ROLE %I', r[1]);
			IF r[2] IS NOT NULL THEN
				EXECUTE format('GRANT %I TO %I', r[2], r[1]);
			END IF;
		END IF;
	END LOOP;
END
$$;
CREATE SCHEMA rep AUTHORIZATION replica_open_dept;
GRANT USAGE ON SCHEMA rep TO pubdata_department;
SET ROLE replica_open_admin;
SELECT pubdata.add_department('replica_open_dept', '市交通运输局', '331100', 'administrative', 'replica_open_dept');
SELECT pubdata.add_department('replica_open_user', '市应急管理局', '331100', 'administrative', 'replica_open_user');
RESET ROLE;
SET ROLE replica_open_dept;
CREATE TABLE rep.stop (id integer PRIMARY KEY, name text, keeper text, keeper_phone text);
INSERT INTO rep.stop VALUES (1, '丽水火车站', '张小三', '13812345678'), (2, '万象山', '李四', '13900001111');
SELECT pubdata.register_resource('rep.stop', 'JT-STOP-1', '公交站点', 'replica_open_dept', 'unconditional', 'open', 'daily', 1,
	summary => '全市公交站点', high_value => true);
SELECT pubdata.set_item('JT-STOP-1', 'keeper', '站长', personal => 'personal', mask => 'name');
SELECT pubdata.set_item('JT-STOP-1', 'keeper_phone', '站长电话', personal => 'personal');
SELECT pubdata.submit_resource('JT-STOP-1');
CREATE TABLE rep.route (id integer PRIMARY KEY, name text);
INSERT INTO rep.route VALUES (1, '1路');
SELECT pubdata.register_resource('rep.route', 'JT-ROUTE-2', '公交线路', 'replica_open_dept', 'unconditional', 'open', 'weekly', 1);
SELECT pubdata.submit_resource('JT-ROUTE-2');
RESET ROLE;
SET ROLE replica_open_admin;
SELECT pubdata.review_resource('JT-STOP-1', true);
SELECT pubdata.publish_resource('JT-STOP-1');
SELECT pubdata.review_resource('JT-ROUTE-2', true);
RESET ROLE;
-- another department is granted the stops (not the keeper's phone)
SET ROLE replica_open_user;
SELECT pubdata.request_share('JT-STOP-1', '应急疏散点规划', ARRAY['id', 'name']);
SQL

# --- the standby: pg_basebackup over a replication connection ---------------
rm -rf "$SDATA" "$SSOCK"
mkdir -p "$SSOCK" && chown postgres: "$SSOCK" && chmod 700 "$SSOCK"
runuser -u postgres -- "$BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres -D "$SDATA" -R -X stream -c fast \
	>"$WORK/basebackup.log" 2>&1 || { cat "$WORK/basebackup.log"; fail "pg_basebackup"; }
cat >>"$SDATA/postgresql.auto.conf" <<CONF
port = $SPORT
unix_socket_directories = '$SSOCK'
hot_standby = on
CONF
runuser -u postgres -- "$BIN/pg_ctl" -D "$SDATA" -l "$WORK/standby.log" -w start >/dev/null || { tail -30 "$WORK/standby.log"; fail "standby start"; }
[ "$(sq -c 'SELECT pg_is_in_recovery()')" = t ] || fail "the standby is not in recovery"

# a change on the primary after the backup reaches the standby
pq -c "SET ROLE replica_open_admin; SELECT pubdata.publish_resource('JT-ROUTE-2')" >/dev/null || fail "publish on primary"
lsn=$(pq -c "SELECT pg_current_wal_lsn()")
for i in $(seq 1 100); do
	[ "$(sq -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && break
	sleep 0.2
done
[ "$(sq -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] || fail "the standby did not catch up"

# --- on the standby: what BI tools use --------------------------------------
got=$(sq -c "SET ROLE replica_open_bi; SELECT string_agg(id || ':' || name || ':' || keeper, ',' ORDER BY id) FROM pubdata_open.jt_stop_1")
[ "$got" = "1:丽水火车站:张*三,2:万象山:李*" ] || fail "open view on the standby returned '$got'"
got=$(sq -c "SET ROLE replica_open_bi; SELECT count(*) FROM information_schema.columns WHERE table_schema = 'pubdata_open' AND table_name = 'jt_stop_1' AND column_name = 'keeper_phone'")
[ "$got" = 0 ] || fail "an unmasked personal item is exposed on the standby"
got=$(sq -c "SET ROLE replica_open_bi; SELECT string_agg(dataset_code || ':' || high_value, ',') FROM pubdata_open.catalog")
[ "$got" = "JT-STOP-1:true,JT-ROUTE-2:false" ] || fail "catalog on the standby returned '$got'"
got=$(sq -c "SET ROLE replica_open_bi; SELECT name FROM pubdata_open.jt_route_2")
[ "$got" = "1路" ] || fail "a view created after the backup is not readable on the standby ('$got')"
got=$(sq -c "SET ROLE replica_open_bi; SELECT jsonb_path_query_array(document, '\$.\"dcat:dataset\"[*].\"dct:identifier\"') FROM pubdata_open.dcat")
[ "$got" = '["JT-STOP-1", "JT-ROUTE-2"]' ] || fail "DCAT export on the standby returned '$got'"
got=$(sq -c "SET ROLE replica_open_auditor; SELECT resources_catalogued || '/' || resources_published || '/' || resources_open FROM pubdata.evaluation(current_date - 1, current_date + 1) WHERE department = 'replica_open_dept'")
[ "$got" = "2/2/2" ] || fail "evaluation on the standby returned '$got'"
got=$(sq -c "SET ROLE replica_open_dept; SELECT keeper_phone FROM rep.stop WHERE id = 1")
[ "$got" = "13812345678" ] || fail "the provider cannot read its own table on the standby ('$got')"
# a department's granted read works on the standby, within its grant
got=$(sq -c "SET ROLE replica_open_user; SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM rep.stop")
[ "$got" = "1:丽水火车站,2:万象山" ] || fail "the granted read on the standby returned '$got'"
out=$(sq -c "SET ROLE replica_open_user; SELECT keeper_phone FROM rep.stop" 2>&1)
grep -q "permission denied" <<<"$out" || fail "an item outside the grant was readable on the standby: $out"
# still only pubdata_open for the open-data role, and the standby refuses writes
out=$(sq -c "SET ROLE replica_open_bi; SELECT * FROM rep.stop" 2>&1)
grep -q "permission denied for schema rep" <<<"$out" || fail "the open-data role read the base table on the standby: $out"
out=$(sq -c "SET ROLE replica_open_bi; SELECT * FROM pubdata.resource" 2>&1)
grep -q "permission denied for schema pubdata" <<<"$out" || fail "the open-data role read pubdata.resource on the standby: $out"
out=$(sq -c "SET ROLE replica_open_dept; SELECT pubdata.set_item('JT-STOP-1', 'name', '站点名称')" 2>&1)
grep -q "read-only transaction" <<<"$out" || fail "a catalog write was not refused on the standby: $out"

stop_standby
pq -c "SELECT 1" >/dev/null || fail "primary"
"$BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -c "DROP DATABASE $DB" || true
rm -rf "$SDATA" "$SSOCK"
echo "85_replica: hot standby served open views, catalog, DCAT, evaluation and a granted read"
exit 0
