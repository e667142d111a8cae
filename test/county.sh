#!/bin/bash
# A county database for the county -> city path (Art 14): a second local
# PostgreSQL cluster holding a county's pre-aggregated table, reached from the
# city database through postgres_fdw.  Used by test/shell/66_county.sh and the demo.
#
#   test/county.sh start DIR PORT          initdb DIR/county, start it on PORT (socket in DIR),
#                                          create database "county" with table public.population
#   test/county.sh stop DIR                stop it
#   test/county.sh link CITYDB DIR PORT SCHEMA ROLE
#                                          in CITYDB (via PGHOST/PGPORT): postgres_fdw server
#                                          county_<SCHEMA>, user mapping for ROLE, the county's
#                                          tables imported into schema SCHEMA (owned by ROLE)
#
# Needs PUBDATA_BINDIR (or BINDIR); runs the county cluster as the postgres user.
set -uo pipefail
BIN=${PUBDATA_BINDIR:-${BINDIR:-$(${PG_CONFIG:-pg_config} --bindir)}}
cmd=${1:-}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
start)
	dir=$2 port=$3
	data=$dir/county
	if [ ! -f "$data/PG_VERSION" ]; then
		as_pg "$BIN/initdb" -D "$data" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/county-initdb.log" 2>&1 \
			|| { cat "$dir/county-initdb.log"; exit 1; }
		cat >>"$data/postgresql.conf" <<CONF
unix_socket_directories = '$dir'
listen_addresses = ''
port = $port
timezone = 'Asia/Shanghai'
fsync = off
shared_buffers = 16MB
max_connections = 20
CONF
	fi
	as_pg "$BIN/pg_ctl" -D "$data" -l "$dir/county.log" -w start >/dev/null || { tail -20 "$dir/county.log"; exit 1; }
	if ! as_pg "$BIN/psql" -X -h "$dir" -p "$port" -U postgres -d postgres -Atc \
			"SELECT 1 FROM pg_database WHERE datname = 'county'" | grep -q 1; then
		as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres <<'SQL' || exit 1
CREATE DATABASE county;
\c county
-- 莲都区 (331102): population by township, pre-aggregated by the county (Art 14)
CREATE TABLE public.population (
	town_code	text PRIMARY KEY,
	town_name	text NOT NULL,
	region_code	text NOT NULL DEFAULT '331102',
	households	integer NOT NULL,
	people		integer NOT NULL,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO public.population (town_code, town_name, households, people) VALUES
	('331102001', '紫金街道', 21034, 61240),
	('331102002', '岩泉街道', 18322, 52877),
	('331102003', '万象街道', 16120, 45391),
	('331102004', '白云街道', 14577, 41036),
	('331102100', '碧湖镇', 15980, 48212),
	('331102101', '大港头镇', 4102, 12265);
-- the county's other data, which the city does not aggregate
CREATE TABLE public.assistance (id_number text PRIMARY KEY, amount numeric NOT NULL);
INSERT INTO public.assistance VALUES ('331102199001011234', 800);
-- the login the county gives the city: it reads what the city aggregates, nothing else
CREATE ROLE city_reader LOGIN;
GRANT SELECT ON public.population TO city_reader;
SQL
	fi
	;;
stop)
	dir=$2
	[ -f "$dir/county/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$dir/county" -m fast -w stop >/dev/null
	exit 0
	;;
link)
	citydb=$2 dir=$3 port=$4 schema=$5 role=$6
	psql -X -q -v ON_ERROR_STOP=1 -d "$citydb" \
		-v schema="$schema" -v server="county_$schema" -v role="$role" -v host="$dir" -v port="$port" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER :"server" FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host :'host', port :'port', dbname 'county');
-- the county's read-only login for the city (city_reader: SELECT on the tables
-- the city aggregates, no superuser); a trusting local cluster here, so no
-- password, which only a superuser may allow for a mapping
CREATE USER MAPPING FOR :"role" SERVER :"server" OPTIONS (user 'city_reader', password_required 'false');
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"role";
GRANT USAGE ON FOREIGN SERVER :"server" TO :"role";
-- the department imports (and so owns) the county's tables
SET ROLE :"role";
IMPORT FOREIGN SCHEMA public LIMIT TO (population) FROM SERVER :"server" INTO :"schema";
RESET ROLE;
SQL
	;;
*)
	echo "usage: test/county.sh start DIR PORT | stop DIR | link CITYDB DIR PORT SCHEMA ROLE" >&2
	exit 2
	;;
esac
