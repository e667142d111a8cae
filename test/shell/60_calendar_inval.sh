#!/bin/bash
# The per-backend calendar cache follows changes committed by other sessions:
# session A computes a deadline (building its cache), session B (the bureau)
# loads a year and changes a day, and A's next computations see both; a
# change of the statutory days (the provisional calendar) is seen too.
set -uo pipefail
export PGOPTIONS="-c client_min_messages=warning"
DB=cal_shell_inval
psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null || exit 1
psql -qX -d $DB -c "CREATE EXTENSION pubdata CASCADE" >/dev/null 2>&1 || exit 1
trap 'kill $APID 2>/dev/null; psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT

coproc A { psql -qX -At -d $DB 2>&1; }
APID=$A_PID
ask() {	# ask SQL: one line of answer from session A
	echo "$1" >&"${A[1]}"
	local line
	read -r -t 20 line <&"${A[0]}" || line="(no answer)"
	echo "$line"
}
Q="SELECT to_char(pubdata.add_working_days('2026-12-30 10:00+08', 2) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD');"
fail=0
check() {	# check LABEL GOT WANT
	if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1: got '$2', want '$3'"; fail=1; fi
}

send() { echo "$1" >&"${A[1]}"; }	# a statement that prints nothing
send "SET pubdata.calendar_strict = off;"
check "session A answers" "$(ask "SELECT 'ready';")" "ready"
check "provisional calendar in a year not loaded" "$(ask "$Q")" "2027-01-04"
send "SET pubdata.calendar_strict = on;"
got=$(ask "$Q")
case "$got" in *"year 2027 is not loaded"*) echo "ok - strict: 2027 not loaded";; *) echo "not ok - strict: $got"; fail=1;; esac
# the error line may be followed by DETAIL/HINT lines: drain them
while read -r -t 1 line <&"${A[0]}"; do :; done

psql -qX -d $DB -c "SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01', '2027-01-04']::date[], source => 'test')" >/dev/null || fail=1
check "another session's load is seen" "$(ask "$Q")" "2027-01-05"
psql -qX -d $DB -c "INSERT INTO pubdata.calendar (day, is_workday, note) VALUES ('2027-01-05', false, 'test holiday')" >/dev/null || fail=1
check "another session's insert is seen" "$(ask "$Q")" "2027-01-06"
psql -qX -d $DB -c "BEGIN; DELETE FROM pubdata.calendar WHERE day = '2027-01-05'; ROLLBACK;" >/dev/null || fail=1
check "a rolled-back delete changes nothing" "$(ask "$Q")" "2027-01-06"
psql -qX -d $DB -c "SELECT pubdata.unload_calendar_year(2027)" >/dev/null || fail=1
got=$(ask "$Q")
case "$got" in *"year 2027 is not loaded"*) echo "ok - unloaded in another session";; *) echo "not ok - after unload: $got"; fail=1;; esac
while read -r -t 1 line <&"${A[0]}"; do :; done
send "SET pubdata.calendar_strict = off;"
check "provisional again after the unload" "$(ask "$Q")" "2027-01-04"
# the statutory days change only with an extension update (here by hand, as the superuser)
psql -qX -d $DB -c "INSERT INTO pubdata.statutory_holiday (day, name) VALUES ('2027-01-04', 'test')" >/dev/null || fail=1
check "another session's change of the statutory days is seen" "$(ask "$Q")" "2027-01-05"
psql -qX -d $DB -c "DELETE FROM pubdata.statutory_holiday WHERE name = 'test'" >/dev/null || fail=1
check "and its removal" "$(ask "$Q")" "2027-01-04"
send '\q'
exit $fail
