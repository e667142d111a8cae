# Shared shell functions for test/run.sh and the shell tests.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PUBDATA_PACKAGES="postgresql-15 postgresql-server-dev-15 libjson-c-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl postgresql-15-pgaudit postgresql-15-partman default-jdk-headless libpostgresql-jdbc-java valgrind gcc make"

# ensure_packages: install the Debian packages the build and tests need, if missing.
ensure_packages() {
	local missing=""
	for p in $PUBDATA_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "pubdata: missing packages:$missing (run as root, or install them)" >&2
			return 1
		fi
		echo "pubdata: installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || return 1
	fi
	BINDIR=$("$PG_CONFIG" --bindir)
	export PATH="$BINDIR:$PATH"
}

# build_and_install: compile and install the extension into the server's directories.
build_and_install() {
	make -s PG_CONFIG="$PG_CONFIG" >/dev/null && make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# start_cluster DATADIR SOCKETDIR PORT EXTRA_CONF: a throwaway cluster owned by postgres.
start_cluster() {
	local data=$1 sock=$2 port=$3 extra=${4:-}
	runuser -u postgres -- "$BINDIR/initdb" -D "$data" --auth=trust -E UTF8 --locale=C.UTF-8 >"$sock/initdb.log" 2>&1 || { cat "$sock/initdb.log"; return 1; }
	cat >>"$data/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$sock'
listen_addresses = ''
port = $port
timezone = 'UTC'
max_worker_processes = 24
fsync = off
$extra
CONF
	runuser -u postgres -- "$BINDIR/pg_ctl" -D "$data" -l "$sock/server.log" -w start >/dev/null || { tail -30 "$sock/server.log"; return 1; }
}

# stop_cluster DATADIR
stop_cluster() {
	[ -f "$1/postmaster.pid" ] && runuser -u postgres -- "$BINDIR/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1
	return 0
}
