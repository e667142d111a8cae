#!/bin/bash
# README.md's SQL examples, run verbatim, in order, as the roles they name,
# on a fresh database of a server whose time zone is UTC (the conventions are
# in test/readme_sql.py): they can never go stale.  Getting started must end
# with the department reading its granted rows.
#
# Env (test/run.sh): PGPORT PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}
RPORT=$((PGPORT + 20))
RDATA=$WORK/readme
RSOCK=$WORK/readme_sock
DB=lishui

fail() { echo "02_readme: FAILED: $*" >&2; exit 1; }
stop_readme() {
	[ -f "$RDATA/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$RDATA" -m fast -w stop >/dev/null 2>&1
	rm -rf "$RDATA" "$RSOCK"
	return 0
}
trap stop_readme EXIT
stop_readme
mkdir -p "$RSOCK" && chown postgres: "$RSOCK"

# a server in UTC, the launcher in the README's database
runuser -u postgres -- "$BIN/initdb" -D "$RDATA" --auth=trust -E UTF8 --locale=C.UTF-8 >"$RSOCK/initdb.log" 2>&1 \
	|| { cat "$RSOCK/initdb.log"; fail "initdb"; }
cat >>"$RDATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$RSOCK'
listen_addresses = ''
port = $RPORT
timezone = 'UTC'
log_timezone = 'UTC'
fsync = off
max_worker_processes = 16
pubdata.database = '$DB'
CONF
runuser -u postgres -- "$BIN/pg_ctl" -D "$RDATA" -l "$RSOCK/server.log" -w start >/dev/null \
	|| { tail -20 "$RSOCK/server.log"; fail "start the UTC server"; }
P="$BIN/psql -X -q -h $RSOCK -p $RPORT -U postgres"
[ "$($P -At -d postgres -c 'SHOW timezone')" = "UTC" ] || fail "the server's time zone is not UTC"
$P -d postgres -c "CREATE DATABASE $DB" || fail "create database"

python3 test/readme_sql.py README.md > "$RSOCK/readme.sql" || fail "README.md's SQL blocks do not follow the conventions"
ok=0
$P -d $DB -f "$RSOCK/readme.sql" >"$RSOCK/readme.out" 2>&1 || ok=1
cp "$RSOCK/readme.sql" "$RSOCK/readme.out" "$WORK/"		# kept for reading
if [ $ok -ne 0 ]; then
	tail -40 "$RSOCK/readme.out"
	fail "a README example failed (the script and its output: $WORK/readme.sql, $WORK/readme.out)"
fi
echo "ok - every SQL example of README.md ran as the roles it names on a UTC server"

# Getting started ends with the department reading its granted rows: those of
# the county its grant is scoped to, the items it asked for
got=$($P -At -d $DB -c "SET SESSION AUTHORIZATION lishui_civil" \
	-c "SELECT string_agg(id_number || ':' || name, ',' ORDER BY id_number) FROM police.household WHERE region = '331102'")
[ "$got" = "331102198505052345:李四,331102199001011234:张三" ] \
	|| fail "after Getting started, lishui_civil reads '$got' instead of its granted rows"
echo "ok - Getting started: the department reads its granted rows, and only those"
