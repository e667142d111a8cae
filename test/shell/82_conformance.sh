#!/bin/bash
# Conformance of the exports with the official artefacts, checked by real
# validators (issue 12): pubdata.dcat_catalog() of a realistic catalog,
# expanded with jsonld and validated with rdf-validate-shacl against the
# DCAT-AP 3.0.1 SHACL shapes (any violation fails; recommended-property
# warnings are printed), its Turtle serialisation validated the same way and
# compared with it (the same graph), and every OpenLineage event (of the
# per-table export and of the event stream) validated with ajv
# against the OpenLineage 2-0-2 JSON Schema, its facets' schemas and the
# rules the spec states in prose (RFC 4122 UUIDv7 run ids, a START and a
# COMPLETE per run, custom facets' _schemaURL resolving to a schema in this
# repository).  The validators (npm) are installed into test/conformance/
# from its package-lock.json; node and npm from Debian when missing.
set -uo pipefail
BIN=${PUBDATA_BINDIR:?}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
DB=pubdata_conformance
HERE=$(cd "$(dirname "$0")/../conformance" && pwd)
OUT=${PUBDATA_WORK:?}/conformance
fail() { echo "82_conformance: FAILED: $*" >&2; exit 1; }
mkdir -p "$OUT"

# the validators
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	[ "$(id -u)" = 0 ] || fail "node and npm are missing (apt-get install nodejs npm)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null ||
		{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } ||
		fail "apt-get install nodejs npm"
fi
if [ ! -d "$HERE/node_modules/rdf-validate-shacl" ] || [ ! -d "$HERE/node_modules/ajv-formats" ]; then
	(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >"$OUT/npm.log" 2>&1) ||
		{ cat "$OUT/npm.log"; fail "npm ci in test/conformance"; }
fi

PGOPTIONS="-c client_min_messages=warning" $P -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" || fail "database"
$P -d postgres >/dev/null <<'SQL' || fail "roles"
SET client_min_messages = warning;
DO $$
BEGIN
	CREATE ROLE conform_traffic;
	CREATE ROLE conform_civil;
	CREATE ROLE conform_stats;
	CREATE ROLE conform_bi IN ROLE pubdata_open_reader;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
SQL

# a realistic catalog: three departments, open and conditional datasets,
# themes the EU vocabulary has and one it has not, keywords or none, a
# county dataset; lineage by INSERT ... SELECT, a view and an aggregation run,
# a staging view and a table built from it (column lineage)
$P -d $DB >/dev/null <<'SQL' || fail "set-up"
SET client_min_messages = warning;
SET pubdata.lineage_compact_every = 0;
CREATE EXTENSION pubdata CASCADE;
CREATE SCHEMA traffic AUTHORIZATION conform_traffic;
CREATE SCHEMA civil AUTHORIZATION conform_civil;
CREATE SCHEMA stats AUTHORIZATION conform_stats;
SELECT pubdata.add_department('conform-traffic', '市交通运输局', '331100', 'administrative', 'conform_traffic',
	data_commissioner => '钱专员');
SELECT pubdata.add_department('conform-civil', '莲都区民政局', '331102', 'administrative', 'conform_civil');
SELECT pubdata.add_department('conform-stats', '市统计局', '331100', 'administrative', 'conform_stats');
UPDATE pubdata.department SET contact = '0578-2000000' WHERE code = 'conform-traffic';

SET ROLE conform_traffic;
CREATE TABLE traffic.bus_line (line text PRIMARY KEY, stops integer, operator text);
INSERT INTO traffic.bus_line VALUES ('1路', 23, '丽水公交'), ('2路', 17, '丽水公交');
SELECT pubdata.register_resource('traffic.bus_line', 'JT-BUS-1', '公交线路信息', 'conform-traffic',
	'unconditional', 'open', 'daily', 1, summary => '全市公交线路及站点数', category => '交通出行',
	keywords => ARRAY['公交', '线路'], high_value => true);
CREATE TABLE traffic.parking (lot text PRIMARY KEY, spaces integer);
INSERT INTO traffic.parking VALUES ('中山街', 120);
SELECT pubdata.register_resource('traffic.parking', 'JT-PARK-2', '公共停车场', 'conform-traffic',
	'unconditional', 'open', 'realtime', 1);
CREATE TABLE traffic.violation (id integer PRIMARY KEY, plate text, place text, at date);
SELECT pubdata.register_resource('traffic.violation', 'JT-WZ-3', '交通违法统计', 'conform-traffic',
	'restricted', 'conditional', 'monthly', 2, summary => '按路段的月度交通违法数', category => '公共安全',
	keywords => ARRAY['违法']);
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['JT-BUS-1', 'JT-PARK-2', 'JT-WZ-3']) c;
RESET ROLE;

SET ROLE conform_civil;
CREATE TABLE civil.care_home (name text PRIMARY KEY, beds integer);
INSERT INTO civil.care_home VALUES ('莲都区福利院', 300);
SELECT pubdata.register_resource('civil.care_home', 'MZ-YL-1', '养老机构名录', 'conform-civil',
	'unconditional', 'open', 'annual', 1, summary => '莲都区养老机构及床位数', category => '民政',
	keywords => ARRAY['养老'], catalog_level => 'county');
CREATE TABLE civil.custom_theme (id integer PRIMARY KEY, label text);
SELECT pubdata.register_resource('civil.custom_theme', 'MZ-QT-2', '地名标志', 'conform-civil',
	'unconditional', 'open', 'on_demand', 1, category => '地名区划');
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['MZ-YL-1', 'MZ-QT-2']) c;
RESET ROLE;

SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c)
  FROM unnest(ARRAY['JT-BUS-1', 'JT-PARK-2', 'JT-WZ-3', 'MZ-YL-1', 'MZ-QT-2']) c;
SET ROLE conform_traffic;
SELECT pubdata.allow_open_reader('JT-WZ-3', 'conform_bi');
RESET ROLE;
GRANT pubdata_open_reader TO conform_stats;

-- lineage: statements, and an external source recorded by an aggregation
SET ROLE conform_stats;
CREATE TABLE stats.lots (lot text, spaces integer);
INSERT INTO stats.lots VALUES ('中山街', 120);
CREATE TABLE stats.transport (line text, stops integer, lots integer);
INSERT INTO stats.transport SELECT b.line, b.stops, 0 FROM pubdata_open.jt_bus_1 b;
UPDATE stats.transport t SET lots = p.spaces FROM stats.lots p WHERE p.lot = '中山街';
CREATE VIEW stats.stg_transport AS SELECT line AS bus_line, stops * 2 AS stop_visits, lots FROM stats.transport;
CREATE TABLE stats.transport_mart AS
	SELECT bus_line, sum(stop_visits) AS visits, max(lots) AS lots FROM stats.stg_transport GROUP BY bus_line;
RESET ROLE;
SELECT pubdata.record_lineage('county:331121.public.bus', 'stats.transport', 'aggregation');
SQL

# ---- DCAT-AP 3.0.1 ----
# the settings a bureau gives once: licence and home page
PGOPTIONS="-c pubdata.open_license=http://publications.europa.eu/resource/authority/licence/CC_BY_4_0 -c pubdata.open_homepage=https://data.lishui.gov.cn/" \
	$P -At -d $DB -c "SELECT pubdata.dcat_catalog()" >"$OUT/catalog.jsonld" || fail "dcat_catalog()"
echo "82_conformance: DCAT-AP 3.0.1 SHACL (shapes.ttl, range.ttl, shapes_recommended.ttl)"
node "$HERE/validate_dcat.mjs" "$OUT/catalog.jsonld" >"$OUT/dcat.txt" 2>&1
rc=$?
grep -v '^Warning' "$OUT/dcat.txt"
grep '^Warning' "$OUT/dcat.txt" | sed 's/^/  /'
[ $rc = 0 ] || fail "the DCAT-AP document has SHACL violations (above; document in $OUT/catalog.jsonld)"
# the same catalog in Turtle (text/turtle), as a harvester reads it: the same
# shapes, and the same graph as the JSON-LD
PGOPTIONS="-c pubdata.open_license=http://publications.europa.eu/resource/authority/licence/CC_BY_4_0 -c pubdata.open_homepage=https://data.lishui.gov.cn/" \
	$P -At -d $DB -c "SELECT pubdata.dcat_catalog(format => 'turtle')" >"$OUT/catalog.ttl" || fail "dcat_catalog(format => 'turtle')"
echo "82_conformance: DCAT-AP 3.0.1 SHACL of the Turtle document"
node "$HERE/validate_dcat.mjs" "$OUT/catalog.ttl" turtle >"$OUT/dcat_ttl.txt" 2>&1
rc=$?
grep -v '^Warning' "$OUT/dcat_ttl.txt"
[ $rc = 0 ] || fail "the Turtle document has SHACL violations (above; document in $OUT/catalog.ttl)"
node "$HERE/compare_dcat.mjs" "$OUT/catalog.jsonld" "$OUT/catalog.ttl" || fail "Turtle and JSON-LD differ"
# the open-data role reads it through pubdata_open.dcat_turtle, with the same content
PGOPTIONS="-c pubdata.open_license=http://publications.europa.eu/resource/authority/licence/CC_BY_4_0 -c pubdata.open_homepage=https://data.lishui.gov.cn/" \
	$P -At -d $DB -c "SET ROLE conform_bi" -c "SELECT document FROM pubdata_open.dcat_turtle" >"$OUT/catalog_bi.ttl" || fail "dcat_turtle as the open-data role"
cmp -s "$OUT/catalog.ttl" "$OUT/catalog_bi.ttl" || fail "the open-data role's Turtle differs from the bureau's"

# ---- OpenLineage 2-0-2 ----
# every table written with lineage: its run's START and COMPLETE events
$P -At -d $DB >"$OUT/events.jsonl" <<'SQL' || fail "lineage_openlineage_events()"
SELECT e FROM (SELECT DISTINCT target FROM pubdata.lineage_edge) t, pubdata.lineage_openlineage_events(t.target) e;
SQL
base=$($P -At -d $DB -c "SHOW pubdata.openlineage_schema_base") || fail "schema base"
echo "82_conformance: OpenLineage 2-0-2 (schema, facets, prose rules)"
node "$HERE/validate_openlineage.mjs" "$OUT/events.jsonl" "$base" || fail "OpenLineage events (in $OUT/events.jsonl)"
# and the event stream a consumer reads, every event in publication order
# (published now: this database has no launcher)
$P -At -d $DB -c "SELECT pubdata.openlineage_publish()" >/dev/null || fail "openlineage_publish()"
$P -At -d $DB -c "SELECT event FROM pubdata.openlineage_events(0, 10000)" >"$OUT/stream.jsonl" || fail "openlineage_events()"
[ -s "$OUT/stream.jsonl" ] || fail "the stream is empty"
echo "82_conformance: the OpenLineage event stream"
node "$HERE/validate_openlineage.mjs" "$OUT/stream.jsonl" "$base" || fail "OpenLineage stream (in $OUT/stream.jsonl)"
# the column facet is there: the mart's visits aggregate the view's stop_visits
facet=$($P -At -d $DB -c "SELECT i->>'field' || ' ' || (i->'transformations'->0->>'subtype')
	FROM pubdata.lineage_openlineage('stats.transport_mart') d,
	     jsonb_array_elements(d->'outputs'->0->'facets'->'columnLineage'->'fields'->'visits'->'inputFields') i")
[ "$facet" = "stop_visits AGGREGATION" ] || fail "column lineage of stats.transport_mart.visits: '$facet'"
# the namespace does not change with the connection: socket and TCP agree
ns=$($P -At -d $DB -c "SELECT pubdata.lineage_openlineage('stats.transport') -> 'outputs' -> 0 ->> 'namespace'")
[ "$ns" = "postgres://localhost:$PGPORT" ] || fail "dataset namespace $ns"
ns=$(PGOPTIONS="-c pubdata.lineage_namespace=postgres://db.lishui.example:5432" \
	$P -At -d $DB -c "SELECT pubdata.lineage_openlineage('stats.transport') -> 'outputs' -> 0 ->> 'namespace'")
[ "$ns" = "postgres://db.lishui.example:5432" ] || fail "pubdata.lineage_namespace not followed: $ns"

PGOPTIONS="-c client_min_messages=warning" $P -d postgres -c "DROP DATABASE $DB" || fail "drop database"
echo "82_conformance: passed"
