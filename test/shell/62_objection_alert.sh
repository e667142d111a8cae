#!/bin/bash
# An overdue objection raises an alert exactly once: a row of pubdata.alert
# and a NOTIFY pubdata_alert seen by a listener in another session.  The
# payload is only the row's id and kind: an open-data reader that listens
# learns nothing else, and a NOTIFY forged by any login has no row.
set -uo pipefail
export PGOPTIONS="-c client_min_messages=warning"
DB=cal_shell_alert
psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1 || exit 1
trap 'kill $LPID 2>/dev/null; psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1;
	  for r in regress_cal_sh_prov regress_cal_sh_user regress_cal_sh_bi; do psql -qX -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done' EXIT
fail=0

psql -qX -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL' || { echo "set-up failed"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE regress_cal_sh_prov;
CREATE ROLE regress_cal_sh_user;
CREATE ROLE regress_cal_sh_bi LOGIN IN ROLE pubdata_open_reader;
SELECT pubdata.add_department('sh-prov', '市自然资源局', '331100', 'administrative', 'regress_cal_sh_prov');
SELECT pubdata.add_department('sh-user', '市住建局', '331100', 'administrative', 'regress_cal_sh_user');
CREATE SCHEMA sh AUTHORIZATION regress_cal_sh_prov;
SET ROLE regress_cal_sh_prov;
CREATE TABLE sh.parcel (parcel_no text PRIMARY KEY, area numeric);
INSERT INTO sh.parcel VALUES ('LD-001', 120.5);
SELECT pubdata.register_resource('sh.parcel', 'SH-PARCEL', '宗地信息', 'sh-prov', 'unconditional', 'open', 'daily', 1);
SELECT pubdata.submit_resource('SH-PARCEL');
GRANT USAGE ON SCHEMA sh TO regress_cal_sh_user;
RESET ROLE;
-- published unconditional data is shared with every department
SELECT pubdata.review_resource('SH-PARCEL', true);
SELECT pubdata.publish_resource('SH-PARCEL');
SET ROLE regress_cal_sh_user;
SELECT pubdata.raise_objection('SH-PARCEL', '{"parcel_no": "LD-001"}', 'area', '面积与不动产登记不符');
RESET ROLE;
-- the ticket was raised before a holiday long ago: its deadline has passed
UPDATE pubdata.objection SET raised_at = '2026-09-30 10:00+08',
	   due_at = pubdata.add_working_days('2026-09-30 10:00+08', 2);
SQL

# the listener is an open-data reader (any login may LISTEN)
coproc L { psql -X -U regress_cal_sh_bi -d $DB 2>&1; }
LPID=$L_PID
echo "LISTEN pubdata_alert;" >&"${L[1]}"
sleep 0.5
first=$(psql -qX -At -d $DB -c "SELECT pubdata.sweep_objections()")
second=$(psql -qX -At -d $DB -c "SELECT pubdata.sweep_objections()")
[ "$first" = 1 ] && echo "ok - first sweep flags 1" || { echo "not ok - first sweep: $first"; fail=1; }
[ "$second" = 0 ] && echo "ok - second sweep flags 0" || { echo "not ok - second sweep: $second"; fail=1; }
# the listener picks up notifications when it next talks to the server
echo "SELECT 'done' AS marker;" >&"${L[1]}"
echo '\q' >&"${L[1]}"
out=$(timeout 20 cat <&"${L[0]}")
n=$(grep -c 'Asynchronous notification "pubdata_alert"' <<<"$out")
[ "$n" = 1 ] && echo "ok - one notification" || { echo "not ok - $n notifications"; echo "$out"; fail=1; }
payload=$(sed -n 's/.*with payload "\(.*\)" received from server process.*/\1/p' <<<"$out")
echo "payload: $payload"
id=$(sed -n 's/^{"id": \([0-9]*\), "kind": "objection_overdue"}$/\1/p' <<<"$payload")
[ -n "$id" ] && echo "ok - the payload is only the alert's id and kind" || { echo "not ok - payload $payload"; fail=1; }
for leak in SH-PARCEL sh-prov sh-user LD-001 raised_at due_at; do
	grep -qF "$leak" <<<"$payload" && { echo "not ok - the open reader heard $leak"; fail=1; }
done
row=$(psql -qX -At -d $DB -c "SELECT kind || ' ' || (details->>'resource') || ' ' || (details->>'provider') || ' ' || (details->>'raised_by')
	|| ' ' || (objection_id IS NOT NULL) FROM pubdata.alert WHERE id = '$id'")
[ "$row" = "objection_overdue SH-PARCEL sh-prov sh-user true" ] && echo "ok - alert row $id: $row" || { echo "not ok - alert row $id: '$row'"; fail=1; }
# the parties read the alert; the open reader does not read the table
for r in regress_cal_sh_prov regress_cal_sh_user; do
	n=$(psql -qX -At -d $DB -c "SET ROLE $r" -c "SELECT count(*) FROM pubdata.alert WHERE id = '$id'")
	[ "$n" = 1 ] && echo "ok - $r reads alert $id" || { echo "not ok - $r reads $n alerts"; fail=1; }
done
psql -qX -At -U regress_cal_sh_bi -d $DB -c "SELECT * FROM pubdata.alert" >/dev/null 2>&1 \
	&& { echo "not ok - the open reader reads pubdata.alert"; fail=1; } || echo "ok - the open reader does not read pubdata.alert"
# a forged notification (any login may NOTIFY) has no row, and nobody but pubdata writes one
psql -qX -At -U regress_cal_sh_bi -d $DB -c "NOTIFY pubdata_alert, '{\"id\": 999999, \"kind\": \"objection_overdue\"}'" >/dev/null
n=$(psql -qX -At -d $DB -c "SELECT count(*) FROM pubdata.alert WHERE id = 999999")
[ "$n" = 0 ] && echo "ok - a forged alert has no row" || { echo "not ok - forged alert found"; fail=1; }
for r in regress_cal_sh_prov regress_cal_sh_user; do
	psql -qX -At -d $DB -c "SET ROLE $r" -c "INSERT INTO pubdata.alert (kind, details) VALUES ('objection_overdue', '{}')" >/dev/null 2>&1 \
		&& { echo "not ok - $r wrote an alert"; fail=1; }
	psql -qX -At -d $DB -c "SET ROLE $r" -c "SELECT pubdata._raise_alert('objection_overdue', NULL, NULL, '{}')" >/dev/null 2>&1 \
		&& { echo "not ok - $r raised an alert"; fail=1; }
done
n=$(psql -qX -At -d $DB -c "SELECT count(*) FROM pubdata.alert")
[ "$n" = 1 ] && echo "ok - departments write no alert" || { echo "not ok - $n alerts"; fail=1; }
events=$(psql -qX -At -d $DB -c "SELECT string_agg(kind::text, ',' ORDER BY id) FROM pubdata.objection_event")
[ "$events" = "raised,overdue" ] && echo "ok - history raised,overdue" || { echo "not ok - history $events"; fail=1; }
exit $fail
