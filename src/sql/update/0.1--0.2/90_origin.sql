-- ---------------------------------------------------------------------------
-- Parts numbered 90 and up run after the re-runnable parts (src/sql/NN_*.sql),
-- with 0.2's functions in place.
-- ---------------------------------------------------------------------------

-- A table registered under 0.1 was not recorded before registration: what
-- can be told from what pubdata did not make is recorded now (exact: false),
-- before the last part gives schema usage to the grants.
DO $origin$
DECLARE
	o pubdata.resource_origin;
	r record;
BEGIN
	FOR r IN SELECT x.id, x.relation FROM pubdata.resource x WHERE x.relation IS NOT NULL ORDER BY x.id LOOP
		o := pubdata._origin_state(r.relation::oid, false);
		o.resource_id := r.id;
		INSERT INTO pubdata.resource_origin VALUES (o.*);
	END LOOP;
END
$origin$;
