-- pgTAP: who may read what, by class and grant, as each role that really reads
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
BEGIN;
SELECT plan(26);
SELECT pass('pgTAP tables exist before roles change');
GRANT ALL ON __tcache__ TO PUBLIC;
GRANT ALL ON SEQUENCE __tcache___id_seq, __tresults___numb_seq TO PUBLIC;

\o /dev/null
CREATE ROLE tap_prov; CREATE ROLE tap_user; CREATE ROLE tap_other; CREATE ROLE tap_aud IN ROLE pubdata_auditor;
CREATE ROLE tap_bi IN ROLE pubdata_open_reader;
CREATE SCHEMA tapp AUTHORIZATION tap_prov;
CREATE SCHEMA tapu AUTHORIZATION tap_user;
GRANT USAGE ON SCHEMA tapp TO PUBLIC;
SELECT pubdata.add_department('tap-prov', '提供', '331100', 'administrative', 'tap_prov');
SELECT pubdata.add_department('tap-user', '使用', '331102', 'administrative', 'tap_user');
SELECT pubdata.add_department('tap-other', '其他', '331121', 'other', 'tap_other');
SET ROLE tap_prov;
CREATE TABLE tapp.u (k int, v text, who text);
CREATE TABLE tapp.r (k int, v text, region text);
CREATE TABLE tapp.n (k int, v text);
INSERT INTO tapp.u VALUES (1, 'a', 'x'), (2, 'b', 'y');
INSERT INTO tapp.r VALUES (1, 'a', '331102'), (2, 'b', '331121'), (3, 'c', '331102');
INSERT INTO tapp.n VALUES (1, 'secret');
SELECT pubdata.register_resource('tapp.u', 'TAP-U', 'u', 'tap-prov', 'unconditional', 'open', 'daily', 1);
SELECT pubdata.set_item('TAP-U', 'who', personal => 'personal');
SELECT pubdata.register_resource('tapp.r', 'TAP-R', 'r', 'tap-prov', 'restricted', 'not_open', 'daily', 2);
SELECT pubdata.register_resource('tapp.n', 'TAP-N', 'n', 'tap-prov', 'non_shared', 'not_open', 'daily', 4, legal_basis => 'test law');
SELECT pubdata.submit_resource(c) FROM unnest(ARRAY['TAP-U', 'TAP-R', 'TAP-N']) c;
RESET ROLE;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['TAP-U', 'TAP-R', 'TAP-N']) c;
SET ROLE tap_user;
SELECT pubdata.request_share('TAP-R', 'tap', ARRAY['k', 'region']);
RESET ROLE;
SET ROLE tap_prov;
SELECT pubdata.decide_share((SELECT max(id) FROM pubdata.share_request), true, row_scope => '{"region": "331102"}');
RESET ROLE;

\o
-- provider: everything
SET ROLE tap_prov;
SELECT is((SELECT count(*) FROM tapp.u), 2::bigint, 'provider reads its unconditional table');
SELECT is((SELECT count(*) FROM tapp.r), 3::bigint, 'provider reads all rows of its restricted table');
SELECT is((SELECT count(*) FROM tapp.n), 1::bigint, 'provider reads its non-shared table');
SELECT lives_ok('INSERT INTO tapp.r VALUES (4, ''d'', ''331121'')', 'provider writes its table');
RESET ROLE;

-- grantee: granted items of scoped rows
SET ROLE tap_user;
SELECT is((SELECT count(*) FROM tapp.u), 2::bigint, 'any department reads unconditional rows');
SELECT throws_ok('SELECT who FROM tapp.u', '42501', NULL, 'a personal item of unconditional data needs a grant');
SELECT is((SELECT count(*) FROM tapp.r), 2::bigint, 'grantee sees only its scoped rows');
SELECT results_eq('SELECT k FROM tapp.r ORDER BY k', ARRAY[1, 3], 'grantee sees rows of its region');
SELECT throws_ok('SELECT v FROM tapp.r', '42501', 'permission denied for items v of resource "TAP-R"', 'an item outside the grant is refused, named');
SELECT throws_ok('SELECT * FROM tapp.n', '42501', 'resource "TAP-N" is not shared', 'non-shared is refused');
SELECT throws_ok('INSERT INTO tapp.r VALUES (9, ''z'', ''331102'')', '42501', NULL, 'grantee cannot write');
SELECT throws_ok('CREATE TABLE tapu.x AS SELECT k FROM tapp.r', '42501', 'copying resource "TAP-R" is not allowed', 'grantee cannot copy');
SELECT lives_ok('CREATE TEMP TABLE x AS SELECT k FROM tapp.r', 'a temporary table of the session is not a copy');
CREATE TABLE tapu.sink (k int);
SELECT throws_ok('INSERT INTO tapu.sink SELECT k FROM tapp.u', '42501', 'copying resource "TAP-U" is not allowed', 'even unconditional data is not copied without consent');
RESET ROLE;

-- another department: unconditional only
SET ROLE tap_other;
SELECT is((SELECT count(*) FROM tapp.u), 2::bigint, 'other department reads unconditional data');
SELECT throws_ok('SELECT k FROM tapp.r', '42501', 'permission denied for resource "TAP-R"', 'other department has no grant');
SELECT throws_ok('SELECT * FROM tapp.n', '42501', NULL, 'other department: non-shared refused');
SELECT throws_ok(format('SELECT pubdata.decide_share(%s, false, ''x'')', (SELECT max(id) FROM pubdata.share_request)),
	'42501', NULL, 'other department cannot decide the request');
RESET ROLE;

-- auditor and BI reader: no table data at all
SET ROLE tap_aud;
SELECT throws_ok('SELECT * FROM tapp.u', '42501', NULL, 'auditor does not read department tables');
SELECT lives_ok('SELECT count(*) FROM pubdata.resource_catalog', 'auditor reads the catalog');
SELECT throws_ok('SELECT pubdata.publish_resource(''TAP-U'')', '42501', NULL, 'auditor cannot act on the catalog');
RESET ROLE;
SET ROLE tap_bi;
SELECT throws_ok('SELECT * FROM tapp.u', '42501', NULL, 'open reader does not read department tables');
SELECT throws_ok('SELECT * FROM pubdata.resource', '42501', NULL, 'open reader does not read pubdata');
RESET ROLE;

-- revocation: effective at the next query
SET ROLE tap_prov;
SELECT lives_ok(format('SELECT pubdata.revoke_share(%s, ''done'')', (SELECT max(id) FROM pubdata.share_request)), 'provider revokes');
RESET ROLE;
SET ROLE tap_user;
SELECT throws_ok('SELECT k FROM tapp.r', '42501', 'permission denied for resource "TAP-R"', 'revoked grant no longer reads');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
