#!/bin/bash
# Benchmark: the C validators against a PL/pgSQL version of each (target >= 20x
# faster) and against length(x) over the same column (the floor: the cost of
# calling any function on the value).  Best of 3, one session, no parallel query.
# Env: PGHOST PGPORT PGUSER; VALIDATOR_BENCH_ROWS (default 200000).
set -euo pipefail
ROWS=${VALIDATOR_BENCH_ROWS:-200000}
DB=pubdata_bench_validators
psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -qX -v ON_ERROR_STOP=1 -d $DB <<SQL >/dev/null
CREATE EXTENSION pubdata CASCADE;
CREATE TABLE v (id_no text, uscc text, phone text, code text);
INSERT INTO v
SELECT '3311' || lpad((g % 100)::text, 2, '0') || (1950 + g % 60)::text || lpad((1 + g % 12)::text, 2, '0')
		|| lpad((1 + g % 28)::text, 2, '0') || lpad((g % 1000)::text, 3, '0') || substr('0123456789X', 1 + g % 11, 1),
	   '91' || lpad((g % 1000000)::text, 6, '0') || 'MA' || lpad((g % 10000000)::text, 7, '0') || substr('0123456789ABCDEFGHJKLMNPQRTUWXY', 1 + g % 31, 1),
	   '1' || (3 + g % 7)::text || lpad((g % 1000000000)::text, 9, '0'),
	   '3311' || lpad((g % 30)::text, 2, '0')
  FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE v;
SQL

psql -qX -v ON_ERROR_STOP=1 -d $DB <<'SQL'
SET max_parallel_workers_per_gather = 0;
-- PL/pgSQL versions, written as a careful PL/pgSQL programmer would
CREATE FUNCTION pg_temp.pl_id_card(v text) RETURNS boolean LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE s int := 0; w int[] := '{7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2}'; d date;
BEGIN
	IF v !~ '^[0-9]{17}[0-9Xx]$' THEN RETURN false; END IF;
	IF substr(v, 1, 2)::int NOT IN (11,12,13,14,15,21,22,23,31,32,33,34,35,36,37,41,42,43,44,45,46,50,51,52,53,54,61,62,63,64,65,71,81,82) THEN RETURN false; END IF;
	BEGIN d := to_date(substr(v, 7, 8), 'YYYYMMDD'); EXCEPTION WHEN others THEN RETURN false; END;
	IF to_char(d, 'YYYYMMDD') <> substr(v, 7, 8) OR d > current_date OR d < date '1800-01-01' THEN RETURN false; END IF;
	FOR i IN 1..17 LOOP s := s + substr(v, i, 1)::int * w[i]; END LOOP;
	RETURN substr('10X98765432', s % 11 + 1, 1) = upper(substr(v, 18, 1));
END $$;
CREATE FUNCTION pg_temp.pl_uscc(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE a text := '0123456789ABCDEFGHJKLMNPQRTUWXY'; w int[] := '{1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28}'; s int := 0; p int;
BEGIN
	IF length(v) <> 18 THEN RETURN false; END IF;
	FOR i IN 1..17 LOOP
		p := strpos(a, substr(v, i, 1));
		IF p = 0 THEN RETURN false; END IF;
		s := s + (p - 1) * w[i];
	END LOOP;
	p := strpos(a, substr(v, 18, 1));
	RETURN p > 0 AND p - 1 = (31 - s % 31) % 31;
END $$;
CREATE FUNCTION pg_temp.pl_mobile(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
	RETURN v ~ '^(\+86|0086|86)?1[3-9][0-9]{9}$';
END $$;
CREATE FUNCTION pg_temp.pl_admin_code(v text) RETURNS boolean LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE p text;
BEGIN
	IF v !~ '^[0-9]{6}$' OR substr(v, 1, 2)::int NOT IN (11,12,13,14,15,21,22,23,31,32,33,34,35,36,37,41,42,43,44,45,46,50,51,52,53,54,61,62,63,64,65,71,81,82) THEN
		RETURN false;
	END IF;
	p := CASE WHEN v ~ '0000$' THEN NULL WHEN v ~ '00$' THEN substr(v, 1, 2) || '0000' ELSE substr(v, 1, 4) || '00' END;
	IF p IS NULL OR NOT EXISTS (SELECT 1 FROM pubdata.region r WHERE r.code = p) THEN
		RETURN true;
	END IF;
	RETURN EXISTS (SELECT 1 FROM pubdata.region r WHERE r.code = v);
END $$;
-- the two implementations agree on every row
SELECT count(*) FILTER (WHERE pubdata.is_valid_id_card(id_no) IS DISTINCT FROM pg_temp.pl_id_card(id_no)) AS id_card_disagree,
	   count(*) FILTER (WHERE pubdata.is_valid_uscc(uscc) IS DISTINCT FROM pg_temp.pl_uscc(uscc)) AS uscc_disagree,
	   count(*) FILTER (WHERE pubdata.is_valid_mobile(phone) IS DISTINCT FROM pg_temp.pl_mobile(phone)) AS mobile_disagree,
	   count(*) FILTER (WHERE pubdata.is_valid_admin_code(code) IS DISTINCT FROM pg_temp.pl_admin_code(code)) AS admin_disagree,
	   count(*) FILTER (WHERE pubdata.is_valid_id_card(id_no)) AS id_card_valid,
	   count(*) FILTER (WHERE pubdata.is_valid_uscc(uscc)) AS uscc_valid,
	   count(*) FILTER (WHERE pubdata.is_valid_admin_code(code)) AS admin_valid
  FROM v;
CREATE TEMP TABLE timing (what text, col text, ms float8);
CREATE FUNCTION pg_temp.best(what text, col text, q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best float8; ms float8;
BEGIN
	FOR i IN 1..3 LOOP
		t0 := clock_timestamp();
		EXECUTE q;
		ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
		best := coalesce(least(best, ms), ms);
	END LOOP;
	INSERT INTO timing VALUES (what, col, best);
END $$;
SELECT pg_temp.best('length', 'id_no', 'SELECT count(*) FILTER (WHERE length(id_no) = 18) FROM v'),
	   pg_temp.best('c', 'id_no', 'SELECT count(*) FILTER (WHERE pubdata.is_valid_id_card(id_no)) FROM v'),
	   pg_temp.best('plpgsql', 'id_no', 'SELECT count(*) FILTER (WHERE pg_temp.pl_id_card(id_no)) FROM v'),
	   pg_temp.best('length', 'uscc', 'SELECT count(*) FILTER (WHERE length(uscc) = 18) FROM v'),
	   pg_temp.best('c', 'uscc', 'SELECT count(*) FILTER (WHERE pubdata.is_valid_uscc(uscc)) FROM v'),
	   pg_temp.best('plpgsql', 'uscc', 'SELECT count(*) FILTER (WHERE pg_temp.pl_uscc(uscc)) FROM v'),
	   pg_temp.best('length', 'phone', 'SELECT count(*) FILTER (WHERE length(phone) = 11) FROM v'),
	   pg_temp.best('c', 'phone', 'SELECT count(*) FILTER (WHERE pubdata.is_valid_mobile(phone)) FROM v'),
	   pg_temp.best('plpgsql', 'phone', 'SELECT count(*) FILTER (WHERE pg_temp.pl_mobile(phone)) FROM v'),
	   pg_temp.best('length', 'code', 'SELECT count(*) FILTER (WHERE length(code) = 6) FROM v'),
	   pg_temp.best('c', 'code', 'SELECT count(*) FILTER (WHERE pubdata.is_valid_admin_code(code)) FROM v'),
	   pg_temp.best('plpgsql', 'code', 'SELECT count(*) FILTER (WHERE pg_temp.pl_admin_code(code)) FROM v')
\gset
\pset footer off
SELECT v.name AS validator,
	   round(l.ms::numeric, 1) AS length_ms, round(c.ms::numeric, 1) AS c_ms, round(p.ms::numeric, 1) AS plpgsql_ms,
	   round((p.ms / c.ms)::numeric, 1) AS "plpgsql/C (>= 20)",
	   round((c.ms / l.ms)::numeric, 2) AS "C/length (floor 1)"
  FROM (VALUES ('is_valid_id_card', 'id_no', 1), ('is_valid_uscc', 'uscc', 2), ('is_valid_mobile', 'phone', 3),
			   ('is_valid_admin_code', 'code', 4)) v(name, col, o)
  JOIN timing l ON l.col = v.col AND l.what = 'length'
  JOIN timing c ON c.col = v.col AND c.what = 'c'
  JOIN timing p ON p.col = v.col AND p.what = 'plpgsql'
 ORDER BY v.o;
SQL
psql -qX -d postgres -c "DROP DATABASE $DB"
