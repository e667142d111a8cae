#!/bin/bash
# A measurement evaluates a heap's rows in batches, rule by rule; what a rule
# allocates for a row (a detoasted value) is freed after that row, not after
# the batch: 100 rows of 2 MB texts stored out of line, checked by a pattern,
# a unique key, a custom expression and mobile, are measured in one process
# with the backend's private memory (RssAnon, polled) staying far below a
# batch of such values (64 x 2 MB), and the failures counted.  No samples
# (pubdata.quality_sample_rows = 0): a sample shows its row's checked values,
# 2 MB each, which is not the scan's memory.  As the providing department's
# login.
#
# Env (test/run.sh): PGHOST PGPORT PGUSER=postgres PUBDATA_BINDIR PUBDATA_WORK.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${PUBDATA_BINDIR:?}
P="$BIN/psql -X -q -v ON_ERROR_STOP=1"
Q="$BIN/psql -X -qAt -v ON_ERROR_STOP=1"
DB=pubdata_qrowmem
DEPT=regress_qrm_dept

fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }
cleanup() {
	$P -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	$P -d postgres -c "DROP ROLE IF EXISTS $DEPT" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup

PGOPTIONS="-c client_min_messages=warning" $P -d postgres >/dev/null <<SQL || fail "role and database"
CREATE ROLE $DEPT LOGIN;
CREATE DATABASE $DB;
SQL
PGOPTIONS="-c client_min_messages=warning" $P -d $DB >/dev/null <<SQL || fail "extension and department"
CREATE EXTENSION pubdata CASCADE;
SELECT pubdata.add_department('qrm_dept', '市档案馆', '331100', 'administrative', '$DEPT');
CREATE SCHEMA qrm AUTHORIZATION $DEPT;
SQL
# 100 documents of 2 MB, stored out of line uncompressed; every 10th starts
# with a character the pattern refuses; documents 1 and 2 are the same
$P -U $DEPT -d $DB >/dev/null <<'SQL' || fail "the department's table and rules"
SET client_min_messages = warning;
CREATE TABLE qrm.doc (id integer, body text);
ALTER TABLE qrm.doc ALTER body SET STORAGE EXTERNAL;
INSERT INTO qrm.doc
SELECT g, CASE WHEN g % 10 = 0 THEN 'z' ELSE '' END || repeat(md5(greatest(g, 2)::text), 65536)
  FROM generate_series(1, 100) g;
SELECT pubdata.register_resource('qrm.doc', 'QRM-DOC', '档案', 'qrm_dept', 'unconditional', 'open', 'daily', 2);
SELECT pubdata.add_quality_rule('QRM-DOC', 'body', 'pattern', '{"regex": "^[0-9a-f]+$"}');
SELECT pubdata.add_quality_rule('QRM-DOC', 'body', 'unique');
SELECT pubdata.add_quality_rule('QRM-DOC', NULL, 'custom', '{"expression": "length(body) < 2000000"}');
SELECT pubdata.add_quality_rule('QRM-DOC', 'body', 'mobile');
SQL

coproc M { "$BIN/psql" -X -qAt -U $DEPT -d $DB 2>&1; }
echo "SELECT pg_backend_pid();" >&"${M[1]}"
read -r -u "${M[0]}" pid
base=$(awk '/^RssAnon/ { print $2 }' /proc/$pid/status)
max=0
echo "SET max_parallel_maintenance_workers = 0; SET pubdata.quality_sample_rows = 0;
SELECT pubdata.measure_quality('QRM-DOC') IS NOT NULL; SELECT 'done';" >&"${M[1]}"
out=""
buf=""
while :; do
	v=$(awk '/^RssAnon/ { print $2 }' /proc/$pid/status 2>/dev/null)
	[ "${v:-0}" -gt "$max" ] && max=$v
	# a read that times out keeps what it read of a line: keep it too
	if read -r -t 0.01 -u "${M[0]}" part; then
		line="$buf$part"
		buf=""
		[ "$line" = done ] && break
		out="$out$line "
	else
		buf="$buf$part"
	fi
done
echo "\\q" >&"${M[1]}"
[ "$out" = "t " ] || fail "measure_quality: $out"
grown=$(( (max - base) / 1024 ))
[ "$grown" -lt 48 ] || fail "the backend's private memory grew by $grown MB measuring 2 MB values (a batch holds 64 rows)"
ok "100 rows of 2 MB out-of-line values measured in one process: private memory grew by $grown MB (a batch of such values would be 128 MB)"

got=$($Q -U $DEPT -d $DB -c "SELECT string_agg(q.kind || '=' || r.rows_failed, ' ' ORDER BY q.id)
	FROM pubdata.quality_result r JOIN pubdata.quality_rule q ON q.id = r.rule_id
	WHERE r.run_id = (SELECT max(id) FROM pubdata.quality_run)")
[ "$got" = "pattern=10 unique=2 custom=100 mobile=100" ] || fail "failures: $got"
ok "the failures counted: $got"
