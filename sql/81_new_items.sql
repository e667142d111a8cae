-- A new column of a published entry is neither shared nor opened until the
-- bureau has reviewed it: the provider describes it in full (it was never
-- reviewed), the bureau approves it with review_resource.  Run as the
-- provider, another department, the bureau and an open-data reader.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_ni_admin LOGIN IN ROLE pubdata_admin;
CREATE ROLE regress_ni_stats LOGIN;
CREATE ROLE regress_ni_civil LOGIN;
CREATE ROLE regress_ni_bi LOGIN IN ROLE pubdata_open_reader;
CREATE SCHEMA ni_stats AUTHORIZATION regress_ni_stats;
RESET client_min_messages;
SET SESSION AUTHORIZATION regress_ni_admin;
SELECT pubdata.add_department('ni_stats', '市统计局', '331100', 'administrative', 'regress_ni_stats') > 0 AS ok;
SELECT pubdata.add_department('ni_civil', '市民政局', '331100', 'administrative', 'regress_ni_civil') > 0 AS ok;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_stats;
CREATE TABLE ni_stats.firm (id int PRIMARY KEY, name text);
INSERT INTO ni_stats.firm VALUES (1, '丽水甲公司'), (2, '丽水乙公司');
SELECT pubdata.register_resource('ni_stats.firm', 'NI-FIRM', '企业名录', 'ni_stats', 'unconditional', 'open', 'monthly', 1) > 0 AS ok;
SELECT pubdata.submit_resource('NI-FIRM');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_admin;
SELECT pubdata.review_resource('NI-FIRM', true), pubdata.publish_resource('NI-FIRM');
-- nothing new to review on a published entry
SELECT pubdata.review_resource('NI-FIRM', true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_bi;
SELECT * FROM pubdata_open.ni_firm ORDER BY id;
RESET SESSION AUTHORIZATION;

-- the provider adds two columns: one holds identity numbers
SET SESSION AUTHORIZATION regress_ni_stats;
ALTER TABLE ni_stats.firm ADD COLUMN legal_id text, ADD COLUMN employees int;
UPDATE ni_stats.firm SET legal_id = '33110219900101' || lpad(id::text, 4, '0'), employees = 10 * id;
SELECT column_name, state FROM pubdata.resource_item WHERE resource_id = pubdata.resource_id('NI-FIRM') ORDER BY attnum;
RESET SESSION AUTHORIZATION;
-- not opened, not shared
SET SESSION AUTHORIZATION regress_ni_bi;
SELECT * FROM pubdata_open.ni_firm ORDER BY id;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_civil;
SELECT id, name FROM ni_stats.firm ORDER BY id;
SELECT id, legal_id FROM ni_stats.firm;
SELECT * FROM ni_stats.firm;
RESET SESSION AUTHORIZATION;

-- the provider describes them in full (never reviewed): they still wait
SET SESSION AUTHORIZATION regress_ni_stats;
SELECT pubdata.set_item('NI-FIRM', 'legal_id', '法定代表人身份证号', personal => 'sensitive', mask => 'id_card');
SELECT pubdata.set_item('NI-FIRM', 'employees', '从业人数');
-- an item already reviewed keeps its classes
SELECT pubdata.set_item('NI-FIRM', 'name', personal => 'personal');
SELECT column_name, title, personal, mask, state FROM pubdata.resource_item
 WHERE resource_id = pubdata.resource_id('NI-FIRM') ORDER BY attnum;
-- only the bureau reviews
SELECT pubdata.review_resource('NI-FIRM', true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_bi;
SELECT * FROM pubdata_open.ni_firm ORDER BY id;
RESET SESSION AUTHORIZATION;

-- returned: a comment is needed, and the items stay out
SET SESSION AUTHORIZATION regress_ni_admin;
SELECT pubdata.review_resource('NI-FIRM', false);
SELECT pubdata.review_resource('NI-FIRM', false, '从业人数请注明统计口径');
SELECT status, review_comment FROM pubdata.resource WHERE code = 'NI-FIRM';
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_stats;
SELECT pubdata.set_item('NI-FIRM', 'employees', description => '年末从业人员数');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_civil;
SELECT id, employees FROM ni_stats.firm;
RESET SESSION AUTHORIZATION;

-- approved: opened (the identity number masked) and shared (the personal one is not)
SET SESSION AUTHORIZATION regress_ni_admin;
SELECT pubdata.review_resource('NI-FIRM', true);
SELECT status, (SELECT count(*) FROM pubdata.resource_item i WHERE i.resource_id = r.id AND i.state = 'added') AS added
  FROM pubdata.resource r WHERE code = 'NI-FIRM';
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_bi;
SELECT * FROM pubdata_open.ni_firm ORDER BY id;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_civil;
SELECT id, employees FROM ni_stats.firm ORDER BY id;
SELECT id, legal_id FROM ni_stats.firm;
RESET SESSION AUTHORIZATION;

-- the same holds for an entry under review: the bureau's approval reviews the new column
SET SESSION AUTHORIZATION regress_ni_stats;
CREATE TABLE ni_stats.shop (id int PRIMARY KEY, name text);
SELECT pubdata.register_resource('ni_stats.shop', 'NI-SHOP', '商户', 'ni_stats', 'unconditional', 'open', 'monthly', 1) > 0 AS ok;
SELECT pubdata.submit_resource('NI-SHOP');
ALTER TABLE ni_stats.shop ADD COLUMN owner_phone text;
SELECT pubdata.set_item('NI-SHOP', 'owner_phone', '经营者电话', personal => 'personal', mask => 'phone');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ni_admin;
SELECT pubdata.review_resource('NI-SHOP', true), pubdata.publish_resource('NI-SHOP');
SELECT column_name, personal, mask, state FROM pubdata.resource_item WHERE resource_id = pubdata.resource_id('NI-SHOP') ORDER BY attnum;
RESET SESSION AUTHORIZATION;
SELECT attname FROM pg_attribute WHERE attrelid = 'pubdata_open.ni_shop'::regclass AND attnum > 0 ORDER BY attnum;

-- clean up
SET client_min_messages = warning;
SET SESSION AUTHORIZATION regress_ni_admin;
SELECT pubdata.retire_resource('NI-FIRM', 'end of test'), pubdata.retire_resource('NI-SHOP', 'end of test');
RESET SESSION AUTHORIZATION;
DROP SCHEMA ni_stats CASCADE;
