-- ---------------------------------------------------------------------------
-- Evaluation of each department's providing and using of shared data
-- (Art 16(4), 28, 34)
--
-- Indicators come from the catalog and from the tables of the sharing,
-- objection, scheduler, quality and audit modules.  Each of those is read
-- only if it is there (to_regclass and the columns it needs): an indicator
-- whose source is missing is NULL, not zero, and does not count in the total.
-- ---------------------------------------------------------------------------

CREATE TABLE pubdata.evaluation_weight (
	indicator	text PRIMARY KEY CHECK (indicator IN ('catalog', 'open', 'response', 'objection', 'timeliness', 'quality', 'usage')),
	weight		numeric NOT NULL CHECK (weight >= 0),
	description	text NOT NULL
);
COMMENT ON TABLE pubdata.evaluation_weight IS
	'Weights of the evaluation indicators (Art 28), edited by the Big Data Bureau; the total is the weighted mean of the available indicator scores';
COMMENT ON COLUMN pubdata.evaluation_weight.indicator IS 'indicator name (fixed set)';
COMMENT ON COLUMN pubdata.evaluation_weight.weight IS 'non-negative weight; only ratios matter';
INSERT INTO pubdata.evaluation_weight (indicator, weight, description) VALUES
	('catalog', 15, '目录发布率：已发布资源 / 已编目资源 (published / catalogued)'),
	('open', 10, '开放率：开放资源 / 已发布资源 (open or conditional / published)'),
	('response', 20, '共享申请按时答复率 (share requests answered within the deadline / received)'),
	('objection', 15, '疑义2个工作日内校核率 (objections resolved within 2 working days / received)'),
	('timeliness', 15, '归集及时率：成功的归集运行 / 全部归集运行 (successful aggregation runs / runs)'),
	('quality', 15, '数据质量得分 0-100 (mean of the latest quality score of each resource)'),
	('usage', 10, '共享数据使用：读取他部门共享数据次数，相对最多者 (shared reads, relative to the most active department)');
SELECT pg_catalog.pg_extension_config_dump('pubdata.evaluation_weight', '');
