-- No way around the rules: a grant is items x rows, the copy rule covers the
-- whole statement, the audit misses nothing.  Every attack runs as the
-- department login that would try it (SET SESSION AUTHORIZATION).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_nb_admin IN ROLE pubdata_admin;
CREATE ROLE regress_nb_police LOGIN;
CREATE ROLE regress_nb_civil LOGIN;
CREATE ROLE regress_nb_health LOGIN;
CREATE SCHEMA nbp AUTHORIZATION regress_nb_police;
CREATE SCHEMA nbc AUTHORIZATION regress_nb_civil;
CREATE SCHEMA nbh AUTHORIZATION regress_nb_health;
GRANT USAGE ON SCHEMA nbp TO PUBLIC;
RESET client_min_messages;
SET ROLE regress_nb_admin;
SELECT pubdata.add_department('nb_police', '市公安局', '331100', 'administrative', 'regress_nb_police') > 0 AS ok;
SELECT pubdata.add_department('nb_civil', '莲都区民政局', '331102', 'administrative', 'regress_nb_civil') > 0 AS ok;
SELECT pubdata.add_department('nb_health', '市卫生健康委', '331100', 'administrative', 'regress_nb_health') > 0 AS ok;
RESET ROLE;

SET SESSION AUTHORIZATION regress_nb_police;
CREATE TABLE nbp.household (id_number text PRIMARY KEY, name text, region text, address text, phone text);
INSERT INTO nbp.household VALUES
	('331102199001011234', '张三', '331102', '莲都区人民街1号', '13800000001'),
	('331102198505052345', '李四', '331102', '莲都区丽阳街2号', '13800000002'),
	('331121197003033456', '王五', '331121', '青田县鹤城路3号', '13800000003'),
	('331121196001014567', '赵六', '331121', '青田县油竹街4号', '13800000004');
SELECT pubdata.register_resource('nbp.household', 'NB-HH', '户籍人口信息', 'nb_police', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.set_item('NB-HH', 'phone', '联系电话', personal => 'personal', share_class => 'non_shared');
-- an unconditional resource with one restricted item
CREATE TABLE nbp.vehicle (plate text PRIMARY KEY, region text, owner_id text);
INSERT INTO nbp.vehicle VALUES ('浙K00001', '331102', 'A1'), ('浙K00002', '331121', 'B2'), ('浙K00003', '331121', 'B3');
SELECT pubdata.register_resource('nbp.vehicle', 'NB-VEH', '机动车登记', 'nb_police', 'unconditional', 'not_open', 'daily', 2) > 0 AS ok;
SELECT pubdata.set_item('NB-VEH', 'owner_id', '车主证件号', share_class => 'restricted');
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['NB-HH', 'NB-VEH']) c;
RESET SESSION AUTHORIZATION;
SET ROLE regress_nb_admin;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['NB-HH', 'NB-VEH']) c;
RESET ROLE;

-- civil holds two grants: A = id_number in 331102, B = address in 331121;
-- V = owner_id of the vehicles of 331102
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT pubdata.request_share('NB-HH', '低保资格核查', ARRAY['id_number', 'region']) AS ga \gset
SELECT pubdata.request_share('NB-HH', '住址核对', ARRAY['address', 'region']) AS gb \gset
SELECT pubdata.request_share('NB-VEH', '车辆核查', ARRAY['owner_id']) AS gv \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_health;
SELECT pubdata.request_share('NB-HH', '医保核查', ARRAY['id_number', 'name']) AS gh \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_police;
SELECT pubdata.decide_share(:ga, true, row_scope => '{"region": "331102"}');
SELECT pubdata.decide_share(:gb, true, row_scope => '{"region": "331121"}');
SELECT pubdata.decide_share(:gv, true, row_scope => '{"region": "331102"}');
SELECT pubdata.decide_share(:gh, true, row_scope => '{"region": "331121"}');
RESET SESSION AUTHORIZATION;
CREATE TEMP TABLE nb_before AS SELECT seq FROM pubdata.audit_chain_head();
GRANT SELECT ON nb_before TO PUBLIC;

-- H1: a scoped grant of a restricted item of an unconditional resource gives
-- that item only in its rows; the open items stay open to every row
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT plate, region FROM nbp.vehicle ORDER BY plate;
SELECT plate, owner_id FROM nbp.vehicle ORDER BY plate;
SELECT count(*) FROM nbp.vehicle WHERE owner_id IS NOT NULL;

-- H2: grants never combine into an item of a row no single grant gives
SELECT id_number FROM nbp.household ORDER BY 1;
SELECT address FROM nbp.household ORDER BY 1;
SELECT id_number, address FROM nbp.household;
SELECT count(*) FROM nbp.household WHERE address LIKE '青田%' AND id_number LIKE '3311%';
-- pubdata.purpose narrows to one grant
SELECT set_config('pubdata.purpose', :'gb', false) IS NOT NULL AS purpose_set;
SELECT address FROM nbp.household ORDER BY 1;
DO $$BEGIN PERFORM id_number FROM nbp.household;
EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE '%', regexp_replace(SQLERRM, '"[0-9]+"', '"<grant B>"'); END$$;
RESET pubdata.purpose;
-- L2: purpose is bounded and printable
SET pubdata.purpose = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
SHOW pubdata.purpose;
-- L1: calling the policy check directly gains nothing: another department's
-- grant is not chosen for this department's statement
SELECT pubdata._grant_ok(:gh) AS health_grant_for_civil, pubdata._grant_ok(:ga) AS outside_a_read;
SELECT id_number FROM nbp.household WHERE pubdata._grant_ok(:gh) ORDER BY 1;
-- M2: EXPLAIN ANALYZE of rows seen only in part is refused; EXPLAIN is not
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id_number FROM nbp.household WHERE id_number > '3';
EXPLAIN (COSTS OFF) SELECT id_number FROM nbp.household WHERE id_number > '3';
-- a refused item is refused, and recorded
SELECT phone FROM nbp.household;
-- an item another department's grant gives is not this department's: the
-- column privileges of granted items belong to the departments' group, and
-- the guard gives each department the items of its own grants
SELECT name FROM nbp.household;
SELECT count(*) FROM nbp.household WHERE name = '王五';
SELECT count(*) FROM nbp.household h WHERE h IS NOT NULL;
SELECT has_column_privilege('nbp.household', 'name', 'SELECT') AS group_column_privilege,
	   has_column_privilege('nbp.household', 'phone', 'SELECT') AS ungranted_item_privilege;
SELECT name FROM nbp.household WHERE false;
RESET SESSION AUTHORIZATION;
-- nor is it a role's that is in the group without acting for a department
CREATE ROLE regress_nb_stray IN ROLE pubdata_department;
SET SESSION AUTHORIZATION regress_nb_stray;
SELECT id_number FROM nbp.household;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_nb_stray;
-- the table's column statistics stay hidden from departments (row-level security)
ANALYZE nbp.household;
SELECT count(*) > 0 AS owner_sees_statistics FROM pg_stats WHERE schemaname = 'nbp' AND tablename = 'household';
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT count(*) AS statistics_seen FROM pg_stats WHERE schemaname = 'nbp' AND tablename = 'household';
RESET SESSION AUTHORIZATION;
-- a policy named like pubdata's own, made by the table's owner before
-- registration, is not pubdata's: it goes, and the row scope holds
SET SESSION AUTHORIZATION regress_nb_police;
CREATE TABLE nbp.trapped (id int PRIMARY KEY, region text);
INSERT INTO nbp.trapped VALUES (1, '331102'), (2, '331102'), (3, '331121'), (4, '331121');
ALTER TABLE nbp.trapped ENABLE ROW LEVEL SECURITY;
CREATE POLICY pubdata_provider ON nbp.trapped FOR SELECT TO PUBLIC USING (true);
SELECT pubdata.register_resource('nbp.trapped', 'NB-TRAP', '陷阱', 'nb_police', 'restricted', 'not_open', 'daily', 2) > 0 AS ok;
SELECT pubdata.submit_resource('NB-TRAP');
RESET SESSION AUTHORIZATION;
SET ROLE regress_nb_admin;
SELECT pubdata.review_resource('NB-TRAP', true), pubdata.publish_resource('NB-TRAP');
RESET ROLE;
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT pubdata.request_share('NB-TRAP', '核查', ARRAY['id', 'region']) AS gtrap \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_police;
SELECT pubdata.decide_share(:gtrap, true, row_scope => '{"region": "331102"}');
RESET SESSION AUTHORIZATION;
SELECT polname, polroles::regrole[], pg_get_expr(polqual, polrelid) FROM pg_policy
 WHERE polrelid = 'nbp.trapped'::regclass AND polname = 'pubdata_provider';
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT id, region FROM nbp.trapped ORDER BY id;
RESET SESSION AUTHORIZATION;
-- a registered view has no row-level security, so its granted items stay the
-- grantee's own column privileges (nothing else would hold without the hook)
SET SESSION AUTHORIZATION regress_nb_police;
CREATE VIEW nbp.household_v AS SELECT id_number, name, region FROM nbp.household;
SELECT pubdata.register_resource('nbp.household_v', 'NB-HHV', '户籍视图', 'nb_police', 'restricted', 'not_open', 'daily', 3) > 0 AS ok;
SELECT pubdata.submit_resource('NB-HHV');
RESET SESSION AUTHORIZATION;
SET ROLE regress_nb_admin;
SELECT pubdata.review_resource('NB-HHV', true), pubdata.publish_resource('NB-HHV');
RESET ROLE;
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT pubdata.request_share('NB-HHV', '视图核查', ARRAY['name', 'region']) AS gvw \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_police;
SELECT pubdata.decide_share(:gvw, true);
RESET SESSION AUTHORIZATION;
SELECT r AS role, has_column_privilege(r, 'nbp.household_v', 'name', 'SELECT') AS view_item,
	   has_column_privilege(r, 'nbp.household', 'name', 'SELECT') AS table_item
  FROM unnest(ARRAY['regress_nb_civil', 'regress_nb_health', 'pubdata_department']) r ORDER BY r;
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT name FROM nbp.household_v ORDER BY 1;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_health;
SELECT name FROM nbp.household_v ORDER BY 1;
RESET SESSION AUTHORIZATION;

-- C3 and M1: the copy rule covers the whole statement, whatever runs first
SET SESSION AUTHORIZATION regress_nb_civil;
CREATE FUNCTION nbc.eat() RETURNS bool LANGUAGE plpgsql IMMUTABLE AS $$BEGIN PERFORM 1 FROM pg_class LIMIT 1; RETURN true; END$$;
CREATE TABLE nbc.c AS SELECT id_number FROM nbp.household WHERE nbc.eat();
SELECT id_number INTO nbc.si FROM nbp.household WHERE nbc.eat();
CREATE MATERIALIZED VIEW nbc.mv AS SELECT id_number FROM nbp.household WHERE nbc.eat();
COPY (SELECT id_number FROM nbp.household WHERE nbc.eat()) TO STDOUT;
CREATE TABLE nbc.mine (id_number text, note text);
CREATE FUNCTION nbc.src() RETURNS TABLE (id_number text, note text) LANGUAGE plpgsql AS
	$$BEGIN RETURN QUERY SELECT h.id_number, h.region FROM nbp.household h; END$$;
INSERT INTO nbc.mine SELECT * FROM nbc.src();
COPY (SELECT * FROM nbc.src()) TO STDOUT;
-- right after a change of the catalog (the grant cache reloads inside the statement)
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_police;
SELECT pubdata.set_item('NB-HH', 'address', '住址');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_civil;
INSERT INTO nbc.mine SELECT id_number, region FROM nbp.household;
-- through a trigger of the department's own table
CREATE TABLE nbc.inbox (id int, val text);
CREATE FUNCTION nbc.pull() RETURNS trigger LANGUAGE plpgsql AS
	$$BEGIN NEW.val := (SELECT h.id_number FROM nbp.household h ORDER BY 1 LIMIT 1); RETURN NEW; END$$;
CREATE TRIGGER pull BEFORE INSERT ON nbc.inbox FOR EACH ROW EXECUTE FUNCTION nbc.pull();
INSERT INTO nbc.inbox VALUES (1, NULL);
DROP TRIGGER pull ON nbc.inbox;
-- a DO block reading first and writing afterwards, in separate statements of its own
DO $$DECLARE v text; BEGIN
	SELECT h.id_number INTO v FROM nbp.household h ORDER BY 1 LIMIT 1;
	INSERT INTO nbc.mine VALUES (v, 'from a DO block');
END$$;
-- a procedure that commits in between is still one statement
CREATE PROCEDURE nbc.p() LANGUAGE plpgsql AS $$DECLARE v text; BEGIN
	SELECT h.id_number INTO v FROM nbp.household h ORDER BY 1 LIMIT 1;
	COMMIT;
	INSERT INTO nbc.mine VALUES (v, 'after a commit');
END$$;
CALL nbc.p();
-- a write first, then a read, in one statement
CREATE FUNCTION nbc.note(t text) RETURNS text LANGUAGE sql AS $$INSERT INTO nbc.mine VALUES ('x', t) RETURNING note$$;
SELECT nbc.note('first'), (SELECT count(*) FROM nbp.household);
-- a value read in a subtransaction that failed lives on in a variable: still a read
DO $$DECLARE v text; BEGIN
	BEGIN
		SELECT h.id_number INTO v FROM nbp.household h ORDER BY 1 LIMIT 1;
		RAISE EXCEPTION 'x';
	EXCEPTION WHEN raise_exception THEN NULL;
	END;
	INSERT INTO nbc.mine VALUES (v, 'kept from a failed subtransaction');
END$$;
-- a write refused (rolled back) in a subtransaction does not taint the reads after it
DO $$DECLARE n bigint; BEGIN
	BEGIN
		INSERT INTO nbc.mine SELECT h.id_number, h.region FROM nbp.household h;
	EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'copy refused: %', SQLERRM;
	END;
	SELECT count(*) INTO n FROM nbp.household;
	RAISE NOTICE 'then read % rows', n;
END$$;
SELECT count(*) AS copied_rows FROM nbc.mine;
-- what stays possible: a temporary table (the session's own), and reading in
-- one statement then writing in the next (use, audited)
CREATE TEMP TABLE scratch AS SELECT id_number FROM nbp.household;
SELECT count(*) FROM scratch;
SELECT id_number FROM nbp.household ORDER BY 1 LIMIT 1;
INSERT INTO nbc.mine VALUES ('331102198505052345', 'typed by the clerk');
SELECT count(*) AS rows_written FROM nbc.mine;
RESET SESSION AUTHORIZATION;

-- H5 and L3: reads that end in an error, in a subtransaction or a cursor are
-- recorded once each, with the rows they returned
SET SESSION AUTHORIZATION regress_nb_civil;
SET client_min_messages = warning;
DO $$DECLARE r record; n int := 0; BEGIN
	BEGIN
		FOR r IN SELECT id_number FROM nbp.household ORDER BY 1 LOOP
			n := n + 1;
			IF n = 2 THEN RAISE EXCEPTION 'x'; END IF;
		END LOOP;
	EXCEPTION WHEN others THEN NULL;
	END;
END$$;
RESET client_min_messages;
BEGIN;
SAVEPOINT s;
SELECT id_number, 1 / (length(id_number) - 18) FROM nbp.household;
ROLLBACK TO s;
DECLARE c CURSOR FOR SELECT address FROM nbp.household ORDER BY 1;
FETCH 1 FROM c;
FETCH 1 FROM c;
CLOSE c;
COMMIT;
RESET SESSION AUTHORIZATION;

-- the audit, as the auditor reads it: grants used per resource, outcomes,
-- refusals, normalized statements
SELECT resource, command, outcome, rows,
	   (SELECT array_agg(CASE g WHEN :ga THEN 'A' WHEN :gb THEN 'B' WHEN :gv THEN 'V' WHEN :gh THEN 'H' ELSE 'other' END ORDER BY g)
		  FROM unnest(grant_ids) g) AS grants,
	   CASE WHEN purpose = :'gb' THEN '(grant B)' ELSE purpose END AS purpose, statement
  FROM pubdata.access_log WHERE seq > (SELECT seq FROM nb_before) ORDER BY seq, resource;
SELECT ok FROM pubdata.verify_audit_chain();

-- expiry takes effect at the next query, within a long-lived session
SET SESSION AUTHORIZATION regress_nb_police;
SELECT pubdata.revoke_share(:gb, 'address check finished');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT address FROM nbp.household;
SELECT count(*) AS rows_a FROM nbp.household WHERE id_number IS NOT NULL;
RESET SESSION AUTHORIZATION;
-- an approved grant is enough to read: the schema's usage comes with it
CREATE SCHEMA nbq AUTHORIZATION regress_nb_police;	-- no usage for anyone else
SET SESSION AUTHORIZATION regress_nb_police;
CREATE TABLE nbq.permit (id int PRIMARY KEY, holder text);
INSERT INTO nbq.permit VALUES (1, '甲'), (2, '乙');
SELECT pubdata.register_resource('nbq.permit', 'NB-PERMIT', '许可证', 'nb_police', 'restricted', 'not_open', 'daily', 2) > 0 AS ok;
SELECT pubdata.submit_resource('NB-PERMIT');
RESET SESSION AUTHORIZATION;
SET ROLE regress_nb_admin;
SELECT pubdata.review_resource('NB-PERMIT', true), pubdata.publish_resource('NB-PERMIT');
RESET ROLE;
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT count(*) FROM nbq.permit;
SELECT pubdata.request_share('NB-PERMIT', '许可核查', ARRAY['id', 'holder']) AS gp \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_police;
SELECT pubdata.decide_share(:gp, true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT id, holder FROM nbq.permit ORDER BY id;
RESET SESSION AUTHORIZATION;

-- an expiry passes in the middle of a session: the next query no longer reads
SET SESSION AUTHORIZATION regress_nb_civil;
SELECT pubdata.request_share('NB-HH', '住址复核', ARRAY['address', 'region']) AS gc \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_police;
SELECT pubdata.decide_share(:gc, true, expires_at => clock_timestamp() + interval '1 second');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nb_civil;
-- the same cached plan, before and after the expiry
DO $$DECLARE n int; BEGIN
	FOR i IN 1..2 LOOP
		BEGIN
			SELECT count(*) INTO n FROM nbp.household WHERE address IS NOT NULL;
			RAISE NOTICE 'read %: % rows', i, n;
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE NOTICE 'read %: %', i, regexp_replace(SQLERRM, 'grant [0-9]+', 'grant N');
		END;
		PERFORM pg_sleep(1.2);
	END LOOP;
END$$;
RESET SESSION AUTHORIZATION;
