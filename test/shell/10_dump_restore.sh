#!/bin/bash
# pg_dump of a database using pubdata, restored into a new database, keeps every
# catalog row and the sharing that depends on it (pg_extension_config_dump).
set -euo pipefail
P="psql -X -q -v ON_ERROR_STOP=1"
SRC=pubdata_dump_src; DST=pubdata_dump_dst
$P -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" -c "CREATE DATABASE $SRC" -c "CREATE DATABASE $DST"
$P -d postgres <<'SQL'
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dump_police, regress_dump_civil;
CREATE ROLE regress_dump_police; CREATE ROLE regress_dump_civil;
SQL
$P -d $SRC >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA police AUTHORIZATION regress_dump_police;
GRANT USAGE ON SCHEMA police TO PUBLIC;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_dump_police');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'regress_dump_civil');
SELECT pubdata.add_data_element('resident_id', '公民身份号码');
SET ROLE regress_dump_police;
CREATE TABLE police.household (id_number text PRIMARY KEY, name text, region text);
INSERT INTO police.household VALUES ('1', '张三', '331102'), ('2', '李四', '331121');
SELECT pubdata.register_resource('police.household', 'PS-HH', '户籍人口信息', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.set_item('PS-HH', 'name', '姓名', personal => 'personal');
SELECT pubdata.declare_element('PS-HH', 'resident_id', 'id_number', authoritative => true);
SELECT pubdata.submit_resource('PS-HH');
RESET ROLE;
SELECT pubdata.review_resource('PS-HH', true); SELECT pubdata.publish_resource('PS-HH');
SET ROLE regress_dump_civil;
SELECT pubdata.request_share('PS-HH', '低保核查', ARRAY['id_number', 'region']);
RESET ROLE;
SET ROLE regress_dump_police;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
SQL

counts="SELECT (SELECT count(*) FROM pubdata.department) || '/' || (SELECT count(*) FROM pubdata.resource) || '/' ||
	(SELECT count(*) FROM pubdata.resource_item) || '/' || (SELECT count(*) FROM pubdata.resource_history) || '/' ||
	(SELECT count(*) FROM pubdata.share_request) || '/' || (SELECT count(*) FROM pubdata.resource_element) || '/' ||
	(SELECT count(*) FROM pubdata.region)"
before=$($P -At -d $SRC -c "$counts")
pg_dump -d $SRC -f "$PUBDATA_WORK/dump.sql" 2>"$PUBDATA_WORK/dump.err" || { cat "$PUBDATA_WORK/dump.err"; exit 1; }
$P -d $DST -f "$PUBDATA_WORK/dump.sql" >/dev/null 2>"$PUBDATA_WORK/restore.err" || { cat "$PUBDATA_WORK/restore.err"; exit 1; }
after=$($P -At -d $DST -c "$counts")
echo "catalog rows before: $before  after: $after"
[ "$before" = "$after" ] || { echo "FAIL: catalog rows differ after restore"; exit 1; }
# the restored resource points at the restored table, and the grant still works there
rel=$($P -At -d $DST -c "SELECT relation::text FROM pubdata.resource WHERE code = 'PS-HH'")
[ "$rel" = "police.household" ] || { echo "FAIL: relation is '$rel'"; exit 1; }
n=$($P -At -d $DST -c "SET ROLE regress_dump_civil; SELECT count(*) FROM police.household")
[ "$n" = "1" ] || { echo "FAIL: granted scoped read returned '$n' rows"; exit 1; }
# new rows get fresh ids after restore (sequences were dumped)
$P -d $DST -c "SET ROLE regress_dump_civil; SELECT pubdata.request_share('PS-HH', '再次核查', ARRAY['region'])" >/dev/null
ids=$($P -At -d $DST -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM pubdata.share_request")
[ "$ids" = "1,2" ] || { echo "FAIL: request ids after restore: $ids"; exit 1; }
$P -d postgres -c "DROP DATABASE $SRC" -c "DROP DATABASE $DST" -c "DROP ROLE regress_dump_police, regress_dump_civil"
echo "dump and restore keep the catalog"
