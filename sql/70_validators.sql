-- Validators: GB 11643 identity numbers, GB 32100 credit codes, mobile numbers,
-- division codes; valid, invalid and edge inputs, as a department would call them
SET client_min_messages = warning;
CREATE ROLE regress_qual_v_dept IN ROLE pubdata_department;
CREATE ROLE regress_qual_v_nobody;
RESET client_min_messages;
SET ROLE regress_qual_v_dept;

-- identity numbers (GB 11643 example 11010519491231002X; check characters computed by MOD 11-2)
SELECT v, pubdata.is_valid_id_card(v) AS valid FROM (VALUES
	('11010519491231002X'),		-- valid, X check character
	('11010519491231002x'),		-- lower-case x accepted
	('331102198001010019'),		-- valid, digit check character
	('110105194912310021'),		-- wrong check digit
	('11010519491231002Y'),		-- not a check character
	('331102198002300018'),		-- 30 February does not exist (check character right)
	('331102200002290016'),		-- 29 February 2000 (leap year) exists
	('33110219000229001X'),		-- 29 February 1900 (not a leap year)
	('331102200013010016'),		-- month 13
	('331102299901010017'),		-- born in 2999: in the future
	('991102198001010011'),		-- 99 is no province
	('001102198001010012'),		-- 00 is no province
	('33110219800101001'),		-- 17 characters
	('331102198001010018'),		-- check digit off by one
	('3311021980010100190'),	-- 19 characters
	('331102198001010019 '),	-- trailing blank
	('３３１１０２１９８００１０１００１９'),	-- full-width digits (non-ASCII)
	('33110219800101001９'),	-- one non-ASCII character
	('3311021980010100/2'),		-- '/' (below '0') in place 17, check character right for it
	('3311021980010100 X'),		-- a blank in place 17, likewise
	(''),
	(NULL)) t(v);

-- unified social credit codes (GB 32100 example 91350100M000100Y43)
SELECT v, pubdata.is_valid_uscc(v) AS valid FROM (VALUES
	('91350100M000100Y43'),		-- valid
	('91350100M000100Y44'),		-- wrong check character
	('91350100m000100y43'),		-- lower case refused: codes are written in capitals
	('91350100I000100Y43'),		-- I is not in the alphabet
	('91350100O000100Y43'),		-- O
	('91350100S000100Y43'),		-- S
	('91350100V000100Y43'),		-- V
	('91350100Z000100Y43'),		-- Z
	('91350100M000100Y4'),		-- 17 characters
	('91350100M000100Y430'),	-- 19 characters
	('91350100M000100Y4３'),	-- non-ASCII
	(NULL)) t(v);

-- mobile numbers
SELECT v, pubdata.is_valid_mobile(v) AS valid FROM (VALUES
	('13800138000'), ('19912345678'), ('+8613800138000'), ('8613800138000'), ('008613800138000'),
	('12800138000'),			-- 12x is no mobile prefix
	('1380013800'),				-- 10 digits
	('138001380001'),			-- 12 digits
	('138-0013-8000'),			-- separators refused
	('+8513800138000'),			-- other country code
	('1380013800０'),			-- non-ASCII digit
	('138 0013800'), ('13800138/00'), ('+86138001380.0'),	-- bytes below '0' are no digits
	(NULL)) t(v);

-- division codes: Lishui (331100) is loaded, so 3311xx must be one of its counties;
-- where the parent is not loaded only the format and the province are checked
SELECT v, pubdata.is_valid_admin_code(v) AS valid FROM (VALUES
	('331100'),					-- Lishui city (loaded)
	('331102'),					-- Liandu district (loaded)
	('331199'),					-- no such county in Lishui
	('330100'),					-- Hangzhou: Zhejiang (330000) is not loaded, format only
	('110101'),					-- Beijing Dongcheng: 110100 is not loaded, format only
	('330000'),					-- Zhejiang: no provinces loaded, format only
	('991100'),					-- no province 99
	('33110'), ('3311020'), ('33110a'), ('3311/2'), ('33 100'), (NULL)) t(v);

-- usable in a CHECK constraint of a department's table
CREATE TEMP TABLE regress_qual_v_t (id_no text CHECK (pubdata.is_valid_id_card(id_no)));
INSERT INTO regress_qual_v_t VALUES ('11010519491231002X');
INSERT INTO regress_qual_v_t VALUES ('110105194912310021');
INSERT INTO regress_qual_v_t VALUES (NULL);
SELECT count(*) FROM regress_qual_v_t;
DROP TABLE regress_qual_v_t;

-- validators agree with a straightforward PL/pgSQL reading of the standard on many inputs
RESET ROLE;
CREATE FUNCTION pg_temp.plpgsql_id_card(v text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE s int := 0; w int[] := '{7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2}'; d date;
BEGIN
	IF v !~ '^[0-9]{17}[0-9Xx]$' THEN RETURN false; END IF;
	IF substr(v, 1, 2)::int NOT IN (11,12,13,14,15,21,22,23,31,32,33,34,35,36,37,41,42,43,44,45,46,50,51,52,53,54,61,62,63,64,65,71,81,82) THEN RETURN false; END IF;
	BEGIN d := to_date(substr(v, 7, 8), 'YYYYMMDD'); EXCEPTION WHEN others THEN RETURN false; END;
	IF to_char(d, 'YYYYMMDD') <> substr(v, 7, 8) OR d > current_date OR d < date '1800-01-01' THEN RETURN false; END IF;
	FOR i IN 1..17 LOOP s := s + substr(v, i, 1)::int * w[i]; END LOOP;
	RETURN substr('10X98765432', s % 11 + 1, 1) = upper(substr(v, 18, 1));
END $$;
SELECT count(*) AS disagreements
  FROM (SELECT '3311' || lpad((g % 100)::text, 2, '0') || (1890 + g % 140)::text
			   || lpad((1 + g % 13)::text, 2, '0') || lpad((g % 32)::text, 2, '0')
			   || lpad((g % 1000)::text, 3, '0') || substr('0123456789Xx', 1 + g % 12, 1) AS v
		  FROM generate_series(1, 20000) g) t
 WHERE pubdata.is_valid_id_card(v) IS DISTINCT FROM pg_temp.plpgsql_id_card(v);
SELECT count(*) FILTER (WHERE pubdata.is_valid_id_card(v)) > 100 AS some_valid
  FROM (SELECT '3311' || lpad((g % 100)::text, 2, '0') || (1890 + g % 140)::text
			   || lpad((1 + g % 13)::text, 2, '0') || lpad((g % 32)::text, 2, '0')
			   || lpad((g % 1000)::text, 3, '0') || substr('0123456789Xx', 1 + g % 12, 1) AS v
		  FROM generate_series(1, 20000) g) t;

-- only pubdata roles may call them
SET ROLE regress_qual_v_nobody;
SELECT pubdata.is_valid_id_card('11010519491231002X');
RESET ROLE;
DROP ROLE regress_qual_v_dept;
DROP ROLE regress_qual_v_nobody;
