-- ---------------------------------------------------------------------------
-- Last: rebuild every registered table's policies with the new checks.
-- ---------------------------------------------------------------------------

SELECT pubdata._refresh_sharing(r.id) FROM pubdata.resource r ORDER BY r.id;
