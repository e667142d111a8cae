-- pubdata: the Lishui Public Data Resources Management Measures, enforced inside PostgreSQL.
-- This file is generated from src/sql/once/NN_*.sql (run once) and
-- src/sql/NN_*.sql (re-runnable), by number; edit those, not this.

\echo Use "CREATE EXTENSION pubdata CASCADE" to load this file. \quit
