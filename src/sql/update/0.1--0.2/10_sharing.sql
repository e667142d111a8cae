-- ---------------------------------------------------------------------------
-- Sharing: the grant decision moves into the executor hook (src/guard.c).
-- _grant_ok() reads the hook's choice (C, no query); unconditional items get a
-- policy of their own (_shared_ok) instead of USING (true); the grant cache is
-- invalidated by statement triggers; _note_grant and _has_copy_grant are gone.
-- ---------------------------------------------------------------------------

DROP FUNCTION pubdata._note_grant(bigint, bigint, text);
DROP FUNCTION pubdata._has_copy_grant(bigint, integer);

-- ---------------------------------------------------------------------------
-- Access audit: records carry the grants used per resource, the outcome (ok,
-- error, denied) and the statement text.  The views change their columns:
-- dropped here, made again by the re-runnable parts.
-- ---------------------------------------------------------------------------

DROP VIEW pubdata.usage_stats;
DROP VIEW pubdata.access_log;
DROP VIEW pubdata.my_access_log;
DROP FUNCTION pubdata._my_access_log();
DROP FUNCTION pubdata._audit_records();
