#!/bin/bash
# pg_dump keeps the years the bureau loaded, not the shipped ones (CREATE
# EXTENSION restores those): a dump restores into an identical calendar.
set -uo pipefail
export PGOPTIONS="-c client_min_messages=warning"
A=cal_shell_dump_a; B=cal_shell_dump_b
DUMP=${PUBDATA_WORK:-/tmp}/cal_dump.sql
psql -qX -d postgres -c "DROP DATABASE IF EXISTS $A" -c "DROP DATABASE IF EXISTS $B" -c "CREATE DATABASE $A" -c "CREATE DATABASE $B" >/dev/null || exit 1
trap 'psql -qX -d postgres -c "DROP DATABASE IF EXISTS $A" -c "DROP DATABASE IF EXISTS $B" >/dev/null 2>&1; rm -f "$DUMP"' EXIT
psql -qX -v ON_ERROR_STOP=1 -d $A >/dev/null <<'SQL' || exit 1
CREATE EXTENSION pubdata CASCADE;
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01', '2027-02-05']::date[], ARRAY['2027-02-06']::date[], 'test');
SQL
"$PUBDATA_BINDIR/pg_dump" -d $A -f "$DUMP" 2>/dev/null || { echo "pg_dump failed"; exit 1; }
psql -qX -v ON_ERROR_STOP=1 -d $B -f "$DUMP" >/dev/null || { echo "restore failed"; exit 1; }
Q="SELECT string_agg(format('%s:%s:%s', year, builtin, workdays), ' ' ORDER BY year) FROM pubdata.calendar_years"
D="SELECT count(*) || '/' || count(*) FILTER (WHERE builtin) FROM pubdata.calendar"
a=$(psql -qX -At -d $A -c "$Q"); b=$(psql -qX -At -d $B -c "$Q")
ad=$(psql -qX -At -d $A -c "$D"); bd=$(psql -qX -At -d $B -c "$D")
fail=0
[ "$a" = "2025:t:248 2026:t:248 2027:f:260" ] && echo "ok - source years: $a" || { echo "not ok - source years: $a"; fail=1; }
[ "$a" = "$b" ] && echo "ok - restored years equal" || { echo "not ok - restored years: $b"; fail=1; }
[ "$ad" = "$bd" ] && echo "ok - restored days equal ($bd)" || { echo "not ok - days $ad vs $bd"; fail=1; }
exit $fail
