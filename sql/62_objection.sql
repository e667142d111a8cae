-- Objections (Art 13): raised by a using department, verified by the provider
-- within 2 working days, overdue sweep, under-verification flag, figures
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_cal_bdb IN ROLE pubdata_admin;
CREATE ROLE regress_cal_audit IN ROLE pubdata_auditor;
CREATE ROLE regress_cal_market;		-- provider: market supervision
CREATE ROLE regress_cal_tax;			-- user: taxation, granted the data
CREATE ROLE regress_cal_health;		-- a department without access
CREATE SCHEMA regress_cal_mkt AUTHORIZATION regress_cal_market;
RESET client_min_messages;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'Asia/Shanghai';
-- tickets raised now never depend on next year's calendar being loaded
-- (a year without an arrangement is counted on the provisional calendar;
-- strictness is tested in 60_calendar)
SHOW pubdata.calendar_strict;

SET ROLE regress_cal_bdb;
SELECT pubdata.add_department('cal-market', '市市场监督管理局', '331100', 'administrative', 'regress_cal_market') > 0 AS added;
SELECT pubdata.add_department('cal-tax', '市税务局', '331100', 'administrative', 'regress_cal_tax') > 0 AS added;
SELECT pubdata.add_department('cal-health', '市卫生健康委员会', '331100', 'administrative', 'regress_cal_health') > 0 AS added;
RESET ROLE;

-- the market regulator registers its business register
SET ROLE regress_cal_market;
CREATE TABLE regress_cal_mkt.enterprise (
	uscc		text PRIMARY KEY,
	name		text NOT NULL,
	address		text,
	legal_rep	text,
	staff		integer
);
INSERT INTO regress_cal_mkt.enterprise VALUES
	('91331100MA2A000001', '丽水示例科技有限公司', '莲都区花园路1号', '张三', 12),
	('91331100MA2A000002', '丽水示例食品有限公司', '青田县鹤城路2号', '李四', 30);
SELECT pubdata.register_resource('regress_cal_mkt.enterprise', 'CAL-MKT-ENT', '企业登记信息', 'cal-market',
	'restricted', 'not_open', 'daily', 2) > 0 AS registered;
SELECT pubdata.set_item('CAL-MKT-ENT', 'uscc', '统一社会信用代码', is_key => true);
SELECT pubdata.set_item('CAL-MKT-ENT', 'name', '企业名称');
SELECT pubdata.set_item('CAL-MKT-ENT', 'address', '住所');
SELECT pubdata.set_item('CAL-MKT-ENT', 'legal_rep', '法定代表人', personal => 'personal');
SELECT pubdata.set_item('CAL-MKT-ENT', 'staff', '从业人数');
SELECT pubdata.submit_resource('CAL-MKT-ENT');
GRANT USAGE ON SCHEMA regress_cal_mkt TO regress_cal_tax;
RESET ROLE;
SET ROLE regress_cal_bdb;
SELECT pubdata.review_resource('CAL-MKT-ENT', true);
SELECT pubdata.publish_resource('CAL-MKT-ENT');
RESET ROLE;
-- the tax bureau's grant: three items
SET ROLE regress_cal_tax;
SELECT pubdata.request_share('CAL-MKT-ENT', '税务登记核对', ARRAY['uscc', 'name', 'address']) AS tax_req \gset
RESET ROLE;
SET ROLE regress_cal_market;
SELECT pubdata.decide_share(:tax_req, true);
RESET ROLE;

-- the tax bureau objects to an address
SET ROLE regress_cal_tax;
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}', 'address',
							   '住所与税务登记不一致：实际为莲都区花园路10号') AS ticket1 \gset
SELECT status, item, overdue, due_at = pubdata.add_working_days(raised_at, 2) AS due_in_two_working_days,
	   (SELECT code FROM pubdata.department WHERE id = provider_id) AS routed_to
  FROM pubdata.objection WHERE id = :ticket1;
-- business goes on: the record is readable, and shows as under verification
SELECT e.uscc, e.address, o.id IS NOT NULL AS under_verification
  FROM regress_cal_mkt.enterprise e
  LEFT JOIN pubdata.open_objection o
	ON o.resource = 'CAL-MKT-ENT' AND o.record_key = jsonb_build_object('uscc', e.uscc)
 ORDER BY e.uscc;
SELECT pubdata.under_verification('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}') AS first,
	   pubdata.under_verification('CAL-MKT-ENT', '{"uscc": "91331100MA2A000002"}') AS second;
-- failure paths for the raiser
SELECT pubdata.raise_objection('NO-SUCH', '{"uscc": "x"}', 'address', 'x');
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}', 'legal_rep', '法定代表人已变更');
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}', 'capital', '注册资本错误');
SELECT pubdata.raise_objection('CAL-MKT-ENT', '["91331100MA2A000001"]', 'address', 'x');
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": {"a": 1}}', 'address', 'x');
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc\" = k.uscc OR true --": 1}', 'address', 'injection');
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}', 'address', '  ');
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"staff": "many"}', 'address', 'x');
-- the raiser cannot verify its own objection
SELECT pubdata.acknowledge_objection(:ticket1);
SELECT pubdata.resolve_objection(:ticket1, 'rejected', '无');
-- nor sweep
SELECT pubdata.sweep_objections();
RESET ROLE;

-- keys are kept in canonical form (the column's JSON value): "12" for an
-- integer column is 12, so keys compare equal however they were typed
SELECT pubdata._objection_key(pubdata.resource_id('CAL-MKT-ENT'), '{"staff": "12", "uscc": 91331100}', 'record key') AS canonical;

-- a department that does not use the data cannot object, nor see the flags
SET ROLE regress_cal_health;
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}', NULL, '名称有误');
SELECT pubdata.under_verification('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}');
SELECT count(*) AS flags_seen FROM pubdata.open_objection;
SELECT count(*) AS tickets_seen FROM pubdata.objection;
RESET ROLE;
-- the bureau is no department
SET ROLE regress_cal_bdb;
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}', NULL, '名称有误');
RESET ROLE;

-- the provider verifies
SET ROLE regress_cal_market;
-- the provider cannot object to its own data
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000002"}', 'name', '自查');
SELECT id = :ticket1 AS mine, status, description FROM pubdata.objection;
SELECT pubdata.acknowledge_objection(:ticket1);
SELECT pubdata.acknowledge_objection(:ticket1);
SELECT pubdata.acknowledge_objection(-1);
SELECT pubdata.resolve_objection(:ticket1, 'fixed', '已更正');
SELECT pubdata.resolve_objection(:ticket1, NULL, '已更正');
SELECT pubdata.resolve_objection(:ticket1, 'corrected', '');
SELECT pubdata.resolve_objection(:ticket1, 'rejected', '无依据', '{"uscc": "91331100MA2A000001"}');
SELECT pubdata.resolve_objection(:ticket1, 'corrected', '已更正住所', '{"uscc": "91331100MA2A999999"}');
SELECT pubdata.resolve_objection(:ticket1, 'corrected', '已更正住所', '{"uscc\" IS NULL OR true --": 1}');
-- the record is corrected, then the ticket resolved with the link to it
UPDATE regress_cal_mkt.enterprise SET address = '莲都区花园路10号' WHERE uscc = '91331100MA2A000001';
SELECT pubdata.resolve_objection(:ticket1, 'corrected', '已按营业执照更正住所');
SELECT pubdata.resolve_objection(:ticket1, 'rejected', '再次');
SELECT status, outcome, corrected_key, overdue, resolved_at <= due_at AS on_time
  FROM pubdata.objection WHERE id = :ticket1;
RESET ROLE;

-- no longer under verification
SET ROLE regress_cal_tax;
SELECT pubdata.under_verification('CAL-MKT-ENT', '{"uscc": "91331100MA2A000001"}') AS first;
-- the history of the ticket, as its raiser sees it
SELECT kind, actor, detail - 'due_at' - 'provisional' AS detail,
	   (detail->>'provisional')::boolean = (SELECT due_provisional FROM pubdata.objection WHERE id = :ticket1) AS provisional_noted
  FROM pubdata.objection_event WHERE objection_id = :ticket1 ORDER BY id;
-- a second and a third ticket
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000002"}', 'name', '名称缺少“丽水”') AS ticket2 \gset
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000002"}', NULL, '企业已注销') AS ticket3 \gset
RESET ROLE;

-- time travel (as the superuser, for a deterministic test): ticket 2 was
-- raised on 30 September 2025; its deadline runs over the National Day
-- holiday to the end of Friday 10 October
UPDATE pubdata.objection SET raised_at = '2025-09-30 10:00+08', due_at = pubdata.add_working_days('2025-09-30 10:00+08', 2)
 WHERE id = :ticket2;
SELECT due_at FROM pubdata.objection WHERE id = :ticket2;

-- the sweep flags it, once
SET ROLE regress_cal_bdb;
SELECT pubdata.sweep_objections() AS newly_overdue;
SELECT pubdata.sweep_objections() AS newly_overdue_again;
SELECT id = :ticket2 AS is_ticket2, status, overdue, overdue_at IS NOT NULL AS flagged FROM pubdata.objection
 WHERE overdue ORDER BY id;
SELECT kind, actor FROM pubdata.objection_event WHERE objection_id = :ticket2 ORDER BY id;
RESET ROLE;

-- the provider resolves late (overdue stays set) and resolves ticket 3 in time
SET ROLE regress_cal_market;
SELECT pubdata.resolve_objection(:ticket2, 'confirmed_correct', '名称以营业执照为准');
SELECT pubdata.resolve_objection(:ticket3, 'rejected', '该企业仍在存续，经核查未注销');
SELECT id = :ticket2 AS is_ticket2, outcome, overdue, resolved_at <= due_at AS on_time FROM pubdata.objection
 WHERE id IN (:ticket2, :ticket3) ORDER BY id;
SELECT detail->'on_time' AS on_time FROM pubdata.objection_event WHERE objection_id = :ticket2 AND kind = 'resolved';
RESET ROLE;

-- figures per provider (resolution times set for a deterministic test: ticket
-- 1 raised Monday 3 March, resolved the same day; ticket 3 raised Friday 7
-- March, resolved Tuesday 11 March: 2 working days; ticket 2 resolved on
-- 13 October: 4 working days after 30 September, past its deadline)
UPDATE pubdata.objection SET raised_at = '2025-03-03 09:00+08', resolved_at = '2025-03-03 17:00+08',
	   due_at = pubdata.add_working_days('2025-03-03 09:00+08', 2) WHERE id = :ticket1;
UPDATE pubdata.objection SET raised_at = '2025-03-07 16:00+08', resolved_at = '2025-03-11 10:00+08',
	   due_at = pubdata.add_working_days('2025-03-07 16:00+08', 2) WHERE id = :ticket3;
UPDATE pubdata.objection SET resolved_at = '2025-10-13 10:00+08' WHERE id = :ticket2;
SET ROLE regress_cal_audit;
SELECT provider, tickets, unresolved, resolved, resolved_on_time, missed_deadline, on_time_rate,
	   median_resolution_working_days, corrected, confirmed_correct, rejected
  FROM pubdata.objection_stats WHERE provider = 'cal-market';
SELECT count(*) AS tickets_seen FROM pubdata.objection WHERE provider_id = pubdata.department_id('cal-market');
-- the audit office reads, it does not verify
SELECT pubdata.resolve_objection(:ticket1, 'rejected', 'x');
RESET ROLE;

-- the deadline follows pubdata.objection_due_days, which only a superuser sets
SET ROLE regress_cal_tax;
SET pubdata.objection_due_days = 30;
RESET ROLE;
SET pubdata.objection_due_days = 5;
SET ROLE regress_cal_tax;
SELECT pubdata.raise_objection('CAL-MKT-ENT', '{"uscc": "91331100MA2A000002"}', 'address', '门牌号有误') AS ticket4 \gset
SELECT pubdata.working_days_between(raised_at, due_at) AS working_days FROM pubdata.objection WHERE id = :ticket4;
RESET ROLE;
RESET pubdata.objection_due_days;

-- provisional deadlines.  Time travel (as the superuser): ticket 4 was
-- raised on Wednesday 30 December 2026 and a share request made on
-- Wednesday 3 February 2027, while 2027 had no official arrangement; their
-- 5 working days were counted on the provisional calendar of 2027 (1
-- January, 除夕 5 February and 初三 8 February are statutory holidays)
SET ROLE regress_cal_tax;
SELECT pubdata.request_share('CAL-MKT-ENT', '企业注销核对', ARRAY['uscc', 'staff']) AS pending_req \gset
RESET ROLE;
UPDATE pubdata.objection SET raised_at = '2026-12-30 10:00+08' WHERE id = :ticket4;
UPDATE pubdata.share_request SET requested_at = '2027-02-03 10:00+08' WHERE id = :pending_req;
SET ROLE regress_cal_bdb;
SET client_min_messages = warning;		-- the notice counts the suite's other open deadlines too
SELECT pubdata.recompute_deadlines() >= 0 AS recomputed;
RESET client_min_messages;
RESET ROLE;
-- both parties see the deadlines and their provisional mark
SET ROLE regress_cal_tax;
SELECT due_at, due_provisional, working_days FROM pubdata.objection WHERE id = :ticket4;
SELECT due_at, due_provisional FROM pubdata.open_objection WHERE id = :ticket4;
SELECT status, due_at, due_provisional FROM pubdata.share_request_status WHERE id = :pending_req;
SELECT working_days FROM pubdata.share_request WHERE id = :pending_req;
RESET ROLE;
SET ROLE regress_cal_market;
SELECT due_at, due_provisional FROM pubdata.share_request_status WHERE id = :pending_req;
RESET ROLE;

-- the bureau loads the arrangement for 2027 (test data, not the State
-- Council's: 1 January off; 春节 5-12 February off, Saturdays 30 January and
-- 13 February worked): the open deadlines are recomputed and no longer
-- provisional.  Ticket 4 keeps its day (Thursday 7 January), the request
-- moves from Friday 12 February to Wednesday 17 February.
SET ROLE regress_cal_bdb;
SET client_min_messages = warning;
SELECT pubdata.load_calendar_year(2027, ARRAY['2027-01-01', '2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08',
											  '2027-02-09', '2027-02-10', '2027-02-11', '2027-02-12']::date[],
								  ARRAY['2027-01-30', '2027-02-13']::date[], source => 'regression test data') AS workdays_2027;
RESET client_min_messages;
RESET ROLE;
SET ROLE regress_cal_tax;
SELECT due_at, due_provisional FROM pubdata.objection WHERE id = :ticket4;
SELECT status, due_at, due_provisional FROM pubdata.share_request_status WHERE id = :pending_req;
-- the ticket's history records the recomputation
SELECT kind, actor, detail->'previous_due_at' AS previous_due_at, detail->'due_at' AS due_at,
	   detail->'provisional' AS provisional, detail->'overdue' AS overdue
  FROM pubdata.objection_event WHERE objection_id = :ticket4 AND kind = 'rescheduled' ORDER BY id DESC LIMIT 1;
RESET ROLE;
-- a ticket flagged overdue is no longer overdue when its recomputed
-- deadline is still ahead (time travel: raised yesterday with a deadline
-- an hour ago, and flagged by the sweep)
UPDATE pubdata.objection SET raised_at = now() - interval '1 day', due_at = now() - interval '1 hour',
	   due_provisional = true, overdue = true, overdue_at = now() WHERE id = :ticket4;
SET ROLE regress_cal_bdb;
SET client_min_messages = warning;
SELECT pubdata.recompute_deadlines(NULL) >= 1 AS recomputed;
RESET client_min_messages;
RESET ROLE;
SELECT overdue, overdue_at, due_at > now() AS ahead, due_provisional = pubdata.provisional_between(raised_at, due_at) AS mark_right
  FROM pubdata.objection WHERE id = :ticket4;
-- unloading the year makes the open ones provisional again; a decided
-- request keeps its deadline
UPDATE pubdata.objection SET raised_at = '2026-12-30 10:00+08' WHERE id = :ticket4;
SET ROLE regress_cal_bdb;
SET client_min_messages = warning;
SELECT pubdata.recompute_deadlines() >= 1 AS recomputed;
RESET client_min_messages;
SELECT due_at, due_provisional FROM pubdata.objection WHERE id = :ticket4;
RESET ROLE;
SET ROLE regress_cal_market;
SELECT pubdata.decide_share(:pending_req, false, '该企业已注销，无需核对');
RESET ROLE;
SET ROLE regress_cal_bdb;
SET client_min_messages = warning;
SELECT pubdata.unload_calendar_year(2027);
RESET client_min_messages;
RESET ROLE;
SELECT due_at, due_provisional FROM pubdata.objection WHERE id = :ticket4;
SELECT status, due_at, due_provisional FROM pubdata.share_request WHERE id = :pending_req;
-- only the bureau recomputes
SET ROLE regress_cal_market;
SELECT pubdata.recompute_deadlines(2027);
RESET ROLE;

-- nobody writes the tickets directly
SET ROLE regress_cal_bdb;
UPDATE pubdata.objection SET status = 'resolved';
DELETE FROM pubdata.objection_event;
RESET ROLE;
RESET TimeZone;
RESET DateStyle;
