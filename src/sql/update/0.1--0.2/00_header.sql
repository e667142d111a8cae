-- pubdata 0.1 -> 0.2 upgrade.  Generated from src/sql/update/0.1--0.2/NN_*.sql;
-- edit those, not this.  Each part holds one concern's changes.

\echo Use "ALTER EXTENSION pubdata UPDATE TO '0.2'" to load this file. \quit
