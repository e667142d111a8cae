#!/bin/bash
# A missing official arrangement never stops business.  With no arrangement
# loaded for the years ahead, a share request and an objection made now (with
# 60 working days to answer, so that they run past the last loaded year
# whatever today is) get deadlines counted on the provisional calendar and
# marked provisional; the bureau's loading of the arrangements recomputes the
# open deadlines, which are then no longer provisional.  check_calendar(day)
# warns once a day from 1 November (WARNING, NOTIFY pubdata_alert, the view
# calendar_warning), and the launcher has made today's check in its database,
# once however often it restarts.  Expected deadlines come from counting days
# in SQL, never from a date written here: the test passes whatever today is.
#
# Env (from test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_WORK.
set -uo pipefail
DB=cal_shell_prov
LAUNCHER_DB=pubdata_tap
export PGOPTIONS="-c client_min_messages=warning"
P="psql -qX -v ON_ERROR_STOP=1"
q() { $P -At -d $DB -c "$1"; }
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }
check() {	# check LABEL GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
LPID=
cleanup() {
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	for r in regress_prov_bureau regress_prov_land regress_prov_tax; do
		$P -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
	done
}
trap cleanup EXIT
cleanup
$P -d postgres -c "CREATE DATABASE $DB" >/dev/null || exit 1
# 60 working days to answer: the deadlines of today run into a year not loaded
$P -d postgres -c "ALTER DATABASE $DB SET pubdata.response_days = 60" \
	-c "ALTER DATABASE $DB SET pubdata.objection_due_days = 60" >/dev/null || exit 1

$P -d $DB >/dev/null <<'SQL' || { echo "set-up failed"; exit 1; }
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE regress_prov_bureau IN ROLE pubdata_admin;
CREATE ROLE regress_prov_land;
CREATE ROLE regress_prov_tax;
SET ROLE regress_prov_bureau;
SELECT pubdata.add_department('prov-land', '市自然资源局', '331100', 'administrative', 'regress_prov_land');
SELECT pubdata.add_department('prov-tax', '市税务局', '331100', 'administrative', 'regress_prov_tax');
RESET ROLE;
CREATE SCHEMA land AUTHORIZATION regress_prov_land;
SET ROLE regress_prov_land;
CREATE TABLE land.parcel (parcel_no text PRIMARY KEY, area numeric);
INSERT INTO land.parcel VALUES ('LD-001', 120.5);
CREATE TABLE land.owner (parcel_no text PRIMARY KEY, owner_name text);
INSERT INTO land.owner VALUES ('LD-001', '张三');
SELECT pubdata.register_resource('land.parcel', 'PROV-PARCEL', '宗地信息', 'prov-land', 'unconditional', 'open', 'daily', 1);
SELECT pubdata.register_resource('land.owner', 'PROV-OWNER', '宗地权利人', 'prov-land', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('PROV-PARCEL'), pubdata.submit_resource('PROV-OWNER');
GRANT USAGE ON SCHEMA land TO regress_prov_tax;
RESET ROLE;
SET ROLE regress_prov_bureau;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['PROV-PARCEL', 'PROV-OWNER']) c;
SQL

# --- business goes on: a request and an objection made now, as the department
req=$($P -At -d $DB -c "SET ROLE regress_prov_tax" \
	-c "SELECT pubdata.request_share('PROV-OWNER', '存量房交易计税核对', ARRAY['parcel_no', 'owner_name'])") \
	|| bad "request_share refused"
obj=$($P -At -d $DB -c "SET ROLE regress_prov_tax" \
	-c "SELECT pubdata.raise_objection('PROV-PARCEL', '{\"parcel_no\": \"LD-001\"}', 'area', '面积与不动产登记不符')") \
	|| bad "raise_objection refused"
[ -n "$req" ] && [ -n "$obj" ] || { echo "not ok - no request or ticket"; exit 1; }
ok "request $req and objection $obj made now"

# The deadline by counting days in SQL: the n-th working day after the day of
# the start, a day of a year with an arrangement as pubdata.calendar says (or
# the week), of any other year the week less the statutory holidays; and
# whether such a year is among the days counted.
expected() {	# expected TABLE ID START_COLUMN -> "due_day|provisional|years_not_loaded"
	q "WITH s AS (SELECT ($3 AT TIME ZONE 'Asia/Shanghai')::date AS a, working_days AS n FROM pubdata.$1 WHERE id = $2),
	w AS (SELECT g::date AS d,
				 CASE WHEN EXISTS (SELECT 1 FROM pubdata.calendar_year y WHERE y.year = EXTRACT(YEAR FROM g))
					  THEN coalesce((SELECT c.is_workday FROM pubdata.calendar c WHERE c.day = g::date), EXTRACT(ISODOW FROM g) < 6)
					  ELSE EXTRACT(ISODOW FROM g) < 6 AND NOT EXISTS (SELECT 1 FROM pubdata.statutory_holiday h WHERE h.day = g::date)
				 END AS work
			FROM s, generate_series(s.a + 1, s.a + 400, interval '1 day') g),
	k AS (SELECT d, count(*) FILTER (WHERE work) OVER (ORDER BY d) AS k, work FROM w),
	due AS (SELECT min(d) AS d FROM k, s WHERE k.work AND k.k = s.n)
	SELECT due.d || '|' || EXISTS (SELECT 1 FROM generate_series(EXTRACT(YEAR FROM s.a + 1)::int, EXTRACT(YEAR FROM due.d)::int) y
									WHERE NOT EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year = y))
		   || '|' || coalesce((SELECT string_agg(y::text, ' ' ORDER BY y)
								 FROM generate_series(EXTRACT(YEAR FROM s.a + 1)::int, EXTRACT(YEAR FROM due.d)::int) y
								WHERE NOT EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year = y)), '')
	  FROM s, due"
}
stored() {	# stored TABLE ID -> "due_day|provisional", as the department sees it
	$P -At -d $DB -c "SET ROLE regress_prov_tax" \
		-c "SELECT (due_at AT TIME ZONE 'Asia/Shanghai')::date || '|' || due_provisional
			  FROM pubdata.$1 WHERE id = $2 AND due_at = (((due_at AT TIME ZONE 'Asia/Shanghai')::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') - interval '1 microsecond'"
}

e=$(expected share_request "$req" requested_at)
years=${e##*|}
check "the request has 60 working days" "$(q "SELECT working_days FROM pubdata.share_request WHERE id = $req")" "60"
[ -n "$years" ] || { echo "not ok - premise: the deadline of today + 60 working days runs into no year without an arrangement ($e); ship a test year later"; exit 1; }
check "request: deadline counted on the provisional calendar of $years, marked provisional" "$(stored share_request "$req")" "${e%|*}"
before_req=$(stored share_request "$req")
e=$(expected objection "$obj" raised_at)
check "objection: deadline counted on the provisional calendar, marked provisional" "$(stored objection "$obj")" "${e%|*}"
check "the department sees the mark in share_request_status" \
	"$($P -At -d $DB -c "SET ROLE regress_prov_tax" -c "SELECT due_provisional FROM pubdata.share_request_status WHERE id = $req")" "t"
check "the provider sees the mark in open_objection" \
	"$($P -At -d $DB -c "SET ROLE regress_prov_land" -c "SELECT due_provisional FROM pubdata.open_objection WHERE id = $obj")" "t"
check "the raised event notes the mark" \
	"$(q "SELECT detail->>'provisional' FROM pubdata.objection_event WHERE objection_id = $obj AND kind = 'raised'")" "true"

# --- warnings for given days (the launcher passes its today): W is the first
# year after the last one loaded
W=$(q "SELECT max(year) + 1 FROM pubdata.calendar_year")
coproc L { psql -X -d $DB 2>&1; }
LPID=$L_PID
echo "LISTEN pubdata_alert;" >&"${L[1]}"
sleep 0.5
warn() {	# warn DAY -> number of warnings, as the bureau
	$P -At -d $DB -c "SET client_min_messages = warning" -c "SET ROLE regress_prov_bureau" -c "SELECT pubdata.check_calendar('$1')" 2>>"$PUBDATA_WORK/prov_warnings.txt"
}
: >"$PUBDATA_WORK/prov_warnings.txt"
check "no warning on 31 October $((W - 1))" "$(warn "$((W - 1))-10-31")" "0"
pending=$(q "SELECT provisional_deadlines FROM pubdata.calendar_warnings('$((W - 1))-11-01') WHERE year = $W")
check "a warning about $W on 1 November $((W - 1))" "$(warn "$((W - 1))-11-01")" "1"
check "none again that day" "$(warn "$((W - 1))-11-01")" "0"
check "one the next day" "$(warn "$((W - 1))-11-02")" "1"
n=$(grep -c "WARNING:  working-day calendar for $W is not loaded" "$PUBDATA_WORK/prov_warnings.txt")
check "the bureau's session got the two WARNINGs" "$n" "2"
grep -q "HINT:  Load the State Council's arrangement for $W with pubdata.load_calendar_year($W" "$PUBDATA_WORK/prov_warnings.txt" \
	&& ok "the warning's hint names the call" || bad "no hint in: $(cat "$PUBDATA_WORK/prov_warnings.txt")"
check "the bureau's alert row" "$(q "SELECT first_alerted_on || ' ' || last_alerted_on || ' ' || alerts FROM pubdata.calendar_alert WHERE year = $W")" \
	"$((W - 1))-11-01 $((W - 1))-11-02 2"
echo "SELECT 'done' AS marker;" >&"${L[1]}"
echo '\q' >&"${L[1]}"
out=$(timeout 20 cat <&"${L[0]}")
LPID=
check "two notifications" "$(grep -c 'Asynchronous notification "pubdata_alert"' <<<"$out")" "2"
# each payload is an alert's id and kind; the details are in its row
ids=$(sed -n 's/.*with payload "{"id": \([0-9]*\), "kind": "calendar_not_loaded"}" received.*/\1/p' <<<"$out" | paste -sd, -)
check "two payloads of id and kind only" "$(tr ',' '\n' <<<"$ids" | grep -c .)" "2"
details=$(q "SELECT string_agg(details::text, ' ' ORDER BY id) FROM pubdata.alert WHERE id IN (${ids:-0}) AND kind = 'calendar_not_loaded'")
for want in "\"year\": $W" "\"today\": \"$((W - 1))-11-01\"" "\"today\": \"$((W - 1))-11-02\"" \
	"\"provisional_deadlines\": $pending" '"strict": false'; do
	grep -qF "$want" <<<"$details" && ok "alert row has $want" || { bad "alert rows lack $want"; echo "$out"; echo "$details"; }
done
check "the department reads today's warnings" \
	"$($P -At -d $DB -c "SET ROLE regress_prov_tax" -c "SELECT count(*) = (SELECT count(*) FROM pubdata.calendar_warnings()) FROM pubdata.calendar_warning")" "t"
$P -d $DB -c "SET ROLE regress_prov_tax" -c "SELECT pubdata.check_calendar()" >/dev/null 2>&1 \
	&& bad "a department gave a calendar warning" || ok "a department cannot give calendar warnings"

# --- the bureau loads the arrangements (test data: the statutory days and one
# day more, the first provisional working day of the deadlines' days in that
# year), the latest year first: the deadlines stay provisional until the
# last year is loaded, then are recomputed on the official calendar
loads=$(q "SELECT string_agg(y::text, ' ' ORDER BY y DESC) FROM unnest(string_to_array('$years $W', ' ')::int[]) y
			WHERE NOT EXISTS (SELECT 1 FROM pubdata.calendar_year c WHERE c.year = y)")
loads=$(tr ' ' '\n' <<<"$loads" | awk '!seen[$0]++' | tr '\n' ' ')
start=$(q "SELECT (requested_at AT TIME ZONE 'Asia/Shanghai')::date FROM pubdata.share_request WHERE id = $req")
last=
for y in $loads; do
	extra=$(q "SELECT min(g::date) FROM generate_series(greatest('$start'::date + 1, make_date($y, 1, 1)), make_date($y, 12, 31), interval '1 day') g
				WHERE pubdata.is_workday(g::date)")
	msg=$($P -At -d $DB -c "SET client_min_messages = notice" -c "SET ROLE regress_prov_bureau" \
		-c "SELECT pubdata.load_calendar_year($y, (SELECT array_agg(DISTINCT day) FROM pubdata.statutory_holiday WHERE year = $y)
											   || '{$extra}'::date[], source => 'shell test: not the State Council''s')" 2>&1) \
		|| bad "loading $y: $msg"
	last=$y
	if [ "$y" != "$(awk '{print $NF}' <<<"$loads")" ]; then
		check "request still provisional after loading $y" "$(stored share_request "$req" | cut -d'|' -f2)" "$(expected share_request "$req" requested_at | cut -d'|' -f2)"
	fi
done
grep -q "NOTICE:  recomputed 2 open deadline(s) counted over $last" <<<"$msg" \
	&& ok "loading $last recomputed the two open deadlines" || bad "loading $last said: $msg"
# an extra holiday may push a deadline into a year after those loaded: load it too
while y=$(expected share_request "$req" requested_at | cut -d'|' -f3 | awk '{print $1}'); [ -n "$y" ]; do
	q "SET ROLE regress_prov_bureau; SELECT pubdata.load_calendar_year($y, (SELECT array_agg(DISTINCT day) FROM pubdata.statutory_holiday WHERE year = $y), source => 'shell test')" >/dev/null \
		|| { bad "loading $y"; break; }
done
e=$(expected share_request "$req" requested_at)
check "request: recomputed on the loaded calendar, no longer provisional" "$(stored share_request "$req")" "${e%|*}"
[ "${e%%|*}" \> "${before_req%%|*}" ] && ok "request: the extra holiday moved the deadline (${before_req%%|*} -> ${e%%|*})" \
	|| bad "request deadline did not move: ${before_req%%|*} -> ${e%%|*}"
e=$(expected objection "$obj" raised_at)
check "objection: recomputed, no longer provisional" "$(stored objection "$obj")" "${e%|*}"
check "objection: the rescheduling is in its history" \
	"$(q "SELECT detail->>'provisional' FROM pubdata.objection_event WHERE objection_id = $obj AND kind = 'rescheduled' ORDER BY id DESC LIMIT 1")" "false"
check "no warning once $W is loaded" "$(warn "$((W - 1))-11-03")" "0"
check "and the alert row is gone" "$(q "SELECT count(*) FROM pubdata.calendar_alert")" "0"

# --- the launcher's daily check in its own database: one WARNING in the log
# today per year due a warning, from the launcher, kept once a day when it
# restarts
LOG=$PUBDATA_WORK/server.log
lq() { $P -At -d $LAUNCHER_DB -c "$1"; }
wait_for() {	# wait_for SQL SECONDS: until SQL returns t
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		[ "$(lq "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}
if [ "$(lq "SELECT count(*) > 0 FROM pg_extension WHERE extname = 'pubdata'")" != t ]; then
	bad "pubdata is not installed in the launcher's database $LAUNCHER_DB"
else
	due=$(lq "SELECT coalesce(string_agg(year::text, ' ' ORDER BY year), '') FROM pubdata.calendar_warning")
	if [ -n "$due" ]; then
		wait_for "SELECT count(*) = (SELECT count(*) FROM pubdata.calendar_warning)
				  FROM pubdata.calendar_alert a JOIN pubdata.calendar_warning w USING (year)
				 WHERE a.last_alerted_on = (now() AT TIME ZONE 'Asia/Shanghai')::date" 75 \
			&& ok "the launcher warned today about $due" || bad "the launcher gave no warning today about $due"
		pid=$(lq "SELECT pubdata.launcher_pid()")
		for y in $due; do
			# (once a day: a second one when the suite ran over midnight in Asia/Shanghai)
			n=$(grep -c "\[$pid\] WARNING:  working-day calendar for $y is not loaded" "$LOG")
			[ "$n" -ge 1 ] && ok "the launcher (pid $pid) logged the WARNING about $y" || bad "no WARNING about $y from the launcher (pid $pid) in $LOG"
		done
		alerts=$(lq "SELECT string_agg(year || ':' || alerts, ' ' ORDER BY year) FROM pubdata.calendar_alert")
		kill -TERM "$pid"
		wait_for "SELECT pubdata.launcher_pid() IS NOT NULL AND pubdata.launcher_pid() <> $pid" 30 || bad "the launcher did not come back"
		npid=$(lq "SELECT pubdata.launcher_pid()")
		wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $npid AND state = 'idle'" 30
		sleep 1
		check "a restarted launcher does not warn again the same day" \
			"$(grep -c "\[$npid\] WARNING:  working-day calendar" "$LOG")" "0"
		check "nor count another alert" "$(lq "SELECT string_agg(year || ':' || alerts, ' ' ORDER BY year) FROM pubdata.calendar_alert")" "$alerts"
	else
		check "no year due a warning today: the launcher gave none" \
			"$(lq "SELECT count(*) FROM pubdata.calendar_alert WHERE last_alerted_on = (now() AT TIME ZONE 'Asia/Shanghai')::date")" "0"
	fi
fi
exit $fail
