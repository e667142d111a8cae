#!/bin/bash
# The Lishui demo: loads departments, a catalog, shared and open resources, and walks
# through the regulation's workflow.  Run by `make demo` (test/run.sh) against the demo
# cluster; each section is test/demo/NN_*.sql, printed as it runs.
set -euo pipefail
cd "$(dirname "$0")"
P="psql -X -v ON_ERROR_STOP=1 --pset=footer=off"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS lishui" -c "CREATE DATABASE lishui" >/dev/null
for f in [0-9][0-9]_*.sql; do
	[ -e "$f" ] || continue
	[ -x "${f%.sql}.sh" ] && { bash "${f%.sql}.sh"; }
	$P -q -d lishui -f "$f"
done
for s in [0-9][0-9]_*.sh; do
	[ -e "$s" ] || continue
	[ -e "${s%.sh}.sql" ] && continue
	bash "$s"
done
