#!/bin/bash
# Before 65_scheduler.sql: start the Liandu district's own database (a second
# cluster on port PGPORT+5, stopped by `make demo-stop`) and link it to the city
# database through postgres_fdw as the district's civil affairs bureau.
set -euo pipefail
cd "$(dirname "$0")/../.."
CPORT=$((PGPORT + 5))
bash test/county.sh start "$PUBDATA_WORK" "$CPORT"
bash test/county.sh link lishui "$PUBDATA_WORK" "$CPORT" liandu_county liandu_civil
echo "(county database: psql -h $PUBDATA_WORK -p $CPORT -U postgres county)"
