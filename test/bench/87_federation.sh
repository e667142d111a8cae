#!/bin/bash
# Replication lag of a catalog change from a city to the province (issue 13).
# Two clusters of their own: a city (wal_level = logical) with a catalog of
# BENCH87_ENTRIES published entries (5 items each) and the province subscribed
# to it.  Prints the initial copy's time, then the lag of a catalog change
# (update_resource at the city -> the row changed at the province, both
# clocks the machine's), idle and under the audit benchmark's load (pgbench
# point selects by a granted department at the city), against the lag of a
# plain published table's update in the same run (the baseline: logical
# replication itself).
# Env (test/run.sh): PUBDATA_BINDIR, PUBDATA_WORK, PGPORT.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
WORK=${PUBDATA_WORK:?}/bench87
CPORT=$((PGPORT + 41)); PPORT=$((PGPORT + 43))
ENTRIES=${BENCH87_ENTRIES:-500}
SAMPLES=${BENCH87_SAMPLES:-20}
rm -rf "$WORK"; mkdir -p "$WORK"; chown postgres: "$WORK"
stop() { [ -f "$WORK/$1/data/postmaster.pid" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$1/data" -m immediate -w stop >/dev/null 2>&1; }
trap 'stop province; stop city; rm -rf "$WORK"' EXIT
start() {
	mkdir -p "$WORK/$1" && chown postgres: "$WORK/$1" && chmod 700 "$WORK/$1"
	runuser -u postgres -- "$BIN/initdb" -D "$WORK/$1/data" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 || exit 1
	cat >>"$WORK/$1/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pubdata'
unix_socket_directories = '$WORK/$1'
listen_addresses = ''
port = $2
max_worker_processes = 16
pubdata.database = '$1'
$3
CONF
	runuser -u postgres -- "$BIN/pg_ctl" -D "$WORK/$1/data" -l "$WORK/$1.log" -w start >/dev/null || exit 1
	"$BIN/psql" -X -q -h "$WORK/$1" -p "$2" -U postgres -d postgres -c "CREATE DATABASE $1" || exit 1
}
cq() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/city" -p $CPORT -U postgres -d city "$@"; }
pq() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/province" -p $PPORT -U postgres -d province "$@"; }
start city $CPORT "wal_level = logical"
start province $PPORT ""

cq >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
CREATE ROLE b87_dept LOGIN;
CREATE ROLE b87_user LOGIN;
CREATE SCHEMA b87 AUTHORIZATION b87_dept;
SELECT pubdata.add_department('B87', '市某局', '331100', 'administrative', 'b87_dept');
SELECT pubdata.add_department('B87U', '市另一局', '331100', 'administrative', 'b87_user');
SET ROLE b87_dept;
DO \$\$
BEGIN
	FOR i IN 1..$ENTRIES LOOP
		EXECUTE format('CREATE TABLE b87.t%s (id integer PRIMARY KEY, a text, b text, c date, d numeric)', i);
		PERFORM pubdata.register_resource(format('b87.t%s', i)::regclass, 'B87-' || i, '资源' || i, 'B87',
			CASE WHEN i % 3 = 0 THEN 'restricted' ELSE 'unconditional' END,
			CASE WHEN i % 2 = 0 THEN 'open' ELSE 'not_open' END, 'daily', 1, summary => '摘要' || i);
		PERFORM pubdata.submit_resource('B87-' || i);
	END LOOP;
END
\$\$;
RESET ROLE;
SELECT count(pubdata.review_resource(code, true)), count(pubdata.publish_resource(code)) FROM pubdata.resource;
INSERT INTO b87.t3 SELECT i, md5(i::text), 'x', current_date, i FROM generate_series(1, 100000) i;
SET ROLE b87_user;
SELECT pubdata.request_share('B87-3', '基准', ARRAY['id', 'a']) AS req \gset
SET ROLE b87_dept;
SELECT pubdata.decide_share(:req, true);
RESET ROLE;
SELECT pubdata.publish_catalog_to_province();
CREATE TABLE public.plain (id integer PRIMARY KEY, v text);
INSERT INTO public.plain VALUES (1, 'v0');
CREATE PUBLICATION plain FOR TABLE public.plain;
SQL
pq >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE EXTENSION pubdata CASCADE;
SELECT pubdata.add_federated_city('331100', '丽水市', 'city');
CREATE TABLE public.plain (id integer PRIMARY KEY, v text);
SQL
t0=$(date +%s.%N)
pq -c "CREATE SUBSCRIPTION city CONNECTION 'host=$WORK/city port=$CPORT dbname=city user=postgres' PUBLICATION pubdata_catalog" 2>/dev/null || exit 1
pq -c "CREATE SUBSCRIPTION plain CONNECTION 'host=$WORK/city port=$CPORT dbname=city user=postgres' PUBLICATION plain" 2>/dev/null || exit 1
for i in $(seq 1 600); do
	[ "$(pq -c "SELECT count(*) FROM pubdata_federation.resource WHERE status = 'published'")" = "$ENTRIES" ] \
		&& [ "$(pq -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] && break
	sleep 0.2
done
t1=$(date +%s.%N)
printf 'initial copy of %d entries (%d items, %d versions): %.1f s\n' "$ENTRIES" \
	"$(pq -c "SELECT count(*) FROM pubdata_federation.resource_item")" "$(pq -c "SELECT count(*) FROM pubdata_federation.resource_history")" \
	"$(echo "$t1 - $t0" | bc)"

# what a catalog entry costs: the city's catalog tables (its copy for the
# province beside them) and the province's copy, per published entry
sz="SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) || ', ' || round(sum(pg_total_relation_size(c.oid)) / $ENTRIES) || ' bytes an entry'
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND"
echo "city catalog (resource, items, history): $(cq -c "$sz n.nspname = 'pubdata' AND c.relname IN ('resource', 'resource_item', 'resource_history')")"
echo "city's copy for the province (pubdata_federation): $(cq -c "$sz n.nspname = 'pubdata_federation'")"
echo "province's copy (pubdata_federation): $(pq -c "$sz n.nspname = 'pubdata_federation'")"

# lag KIND N: seconds from the city's commit to the province's row, one change
lag() {
	local kind=$1 n=$2 watch change out poller
	if [ "$kind" = catalog ]; then
		watch="SELECT 1 FROM pubdata_federation.resource WHERE city = '331100' AND code = 'B87-7' AND summary = 'lag $n'"
		change="SET ROLE b87_dept; SELECT pubdata.update_resource('B87-7', summary => 'lag $n')"
	else
		watch="SELECT 1 FROM public.plain WHERE id = 1 AND v = 'lag $n'"
		change="UPDATE public.plain SET v = 'lag $n' WHERE id = 1"
	fi
	pq -c "DO \$\$ BEGIN WHILE NOT EXISTS ($watch) LOOP PERFORM pg_sleep(0.001); END LOOP; END \$\$; SELECT extract(epoch FROM clock_timestamp())" >"$WORK/seen" &
	poller=$!
	sleep 0.2
	out=$(cq -c "$change" -c "SELECT extract(epoch FROM clock_timestamp())" | tail -1)
	wait $poller
	echo "$(tail -1 "$WORK/seen") - $out" | bc
}
stats() {
	sort -g | awk '{ v[NR] = $1 * 1000 } END { printf "median %.1f ms, p90 %.1f ms, max %.1f ms (%d changes)", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR], NR }'
}
measure() {
	local label=$1 k
	for k in catalog plain; do
		for i in $(seq 1 "$SAMPLES"); do lag $k "$label$i"; done >"$WORK/$k.$label"
	done
	cat_m=$(stats <"$WORK/catalog.$label")
	plain_m=$(stats <"$WORK/plain.$label")
	echo "$label: catalog change   $cat_m"
	echo "$label: plain table      $plain_m"
	awk -v a="$(sort -g "$WORK/catalog.$label" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
		-v b="$(sort -g "$WORK/plain.$label" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
		'BEGIN { if (b > 0) printf "%s: catalog / plain median = %.2f\n", "'"$label"'", a / b }'
}
measure idle
cat >"$WORK/read.sql" <<'SQL'
\set id random(1, 100000)
SELECT a FROM b87.t3 WHERE id = :id;
SQL
chown postgres: "$WORK/read.sql"
"$BIN/pgbench" -n -M prepared -c 2 -j 2 -T 300 -h "$WORK/city" -p $CPORT -U b87_user -f "$WORK/read.sql" city >"$WORK/pgbench.out" 2>&1 &
PGB=$!
sleep 2
measure load
kill -TERM $PGB 2>/dev/null; wait $PGB 2>/dev/null
echo "audited reads at the city during the load: $(cq -c "SELECT seq FROM pubdata.audit_chain_head()")"
