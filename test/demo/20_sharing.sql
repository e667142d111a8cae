-- 2. Sharing: request with a purpose, the provider's decision, governed reads, the copy guard
\set SHOW_CONTEXT never
\set QUIET on
SET client_min_messages = warning;
\echo
\echo '== The civil affairs bureau asks the police for household data to check subsistence eligibility (Art 19)'
SET ROLE lishui_civil;
SELECT pubdata.request_share('LS-GA-HJRK', '最低生活保障资格核查', ARRAY['id_number', 'name', 'region', 'registered_on']) AS request \gset
SELECT id, resource, provider, requester, purpose, status, due_at::date AS answer_due FROM pubdata.share_request_status WHERE id = :request;
\echo '-- before the answer, a read is refused with a hint:'
\set ON_ERROR_STOP off
SELECT count(*) FROM police.household;
\set ON_ERROR_STOP on
RESET ROLE;
\echo '== The police approve, for 莲都区 (331102) only, for 90 days'
SET ROLE lishui_police;
\o /dev/null
SELECT pubdata.decide_share(:request, true, '同意，限莲都区范围', row_scope => '{"region": "331102"}', expires_at => now() + interval '90 days');
RESET ROLE;
SET ROLE lishui_civil;
SET pubdata.purpose = :'request';
\o
\echo '-- the civil affairs bureau reads the granted items of its scoped rows:'
SELECT region, count(*) AS households FROM police.household GROUP BY region;
SELECT id_number, name, registered_on FROM police.household ORDER BY id_number LIMIT 3;
\echo '-- items it was not granted stay closed, and copying the rows out is refused (Art 17):'
\set ON_ERROR_STOP off
SELECT phone FROM police.household LIMIT 1;
CREATE TABLE civil.my_copy AS SELECT id_number, name FROM police.household;
\echo '-- the copy rule covers the whole statement: a function of its own that reads the rows is the same copy'
CREATE FUNCTION civil.pull() RETURNS TABLE (id_number text) LANGUAGE sql AS $$SELECT h.id_number FROM police.household h$$;
CREATE TABLE civil.inbox (id_number text);
INSERT INTO civil.inbox SELECT * FROM civil.pull();
\echo '-- and EXPLAIN ANALYZE, whose row counts would tell about the other districts, is refused:'
EXPLAIN (ANALYZE, COSTS OFF) SELECT id_number FROM police.household WHERE id_number > '3311';
\set ON_ERROR_STOP on
RESET pubdata.purpose;
\echo '-- unconditional data needs no request: the enterprise register'
SELECT industry, count(*) FROM market.enterprise GROUP BY industry ORDER BY 2 DESC;
\echo '-- non-shared data is refused, citing the law:'
\set ON_ERROR_STOP off
SELECT pubdata.request_share('LS-WJ-YMJZ', '核查接种情况');
\set ON_ERROR_STOP on
RESET ROLE;
\echo '== Partial sharing (Art 18(2), 27): the health commission asks for household data in masked form'
SET ROLE lishui_health;
\o /dev/null
SELECT pubdata.request_share('LS-GA-HJRK', '慢病随访对象核对（脱敏）', ARRAY['id_number', 'name', 'birth_date', 'region'],
	masks => '{"id_number": "id_card", "name": "name", "birth_date": "year"}') AS masked_req \gset
RESET ROLE;
SET ROLE lishui_police;
SELECT pubdata.decide_share(:masked_req, true, '同意，脱敏提供');
RESET ROLE;
SET ROLE lishui_health;
\o
\echo '-- what the health commission sees: masked values, whatever query it writes'
SELECT id_number, name, birth_date, region FROM police.household ORDER BY region, id_number LIMIT 4;
\echo '-- a filter on a clear identity number finds nothing: filters see the masked value'
SELECT count(*) AS found FROM police.household WHERE id_number = (SELECT '331102' || '199001011234');
RESET ROLE;
\echo '== A refusal must give a reason (Art 34)'
SET ROLE lishui_civil;
\o /dev/null
SELECT pubdata.request_share('LS-SW-YSL', '低保家庭用水核查', ARRAY['meter_id', 'month', 'cubic_metres']) AS water_req \gset
RESET ROLE;
SET ROLE lishui_water;
\set ON_ERROR_STOP off
SELECT pubdata.decide_share(:water_req, false);
\set ON_ERROR_STOP on
\o /dev/null
SELECT pubdata.decide_share(:water_req, false, '水表数据未关联户籍，无法按户提供；请通过"一件事"场景申请');
RESET ROLE;
\o
SET ROLE lishui_bureau;
SELECT id, resource, requester, purpose, status, reason, overdue FROM pubdata.share_request_status ORDER BY id;
RESET ROLE;
