-- pubdata 0.1 -> 0.2 upgrade.  Generated (see the Makefile): the parts
-- src/sql/update/0.1--0.2/NN_*.sql numbered below 90 (what changes in tables,
-- types and what 0.2 no longer has), then every re-runnable part of the
-- install script (src/sql/NN_*.sql: functions, views, triggers, policies,
-- comments, privileges, as a fresh install makes them), then the parts
-- numbered 90 and up (what needs 0.2's functions).  Edit those, not this.

\echo Use "ALTER EXTENSION pubdata UPDATE TO '0.2'" to load this file. \quit
