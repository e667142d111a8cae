-- Demo fragment: open data and evaluation (issue 6).  The demo driver calls it at
-- the end, in the demo database, as a superuser:
--     psql -X -d lishui -v period_start=2026-01-01 -v period_end=2026-12-31 -f test/demo/90_open_evaluation.sql
-- Without the two variables the period is the current year (Asia/Shanghai).
\if :{?period_start}
\else
SELECT date_trunc('year', now() AT TIME ZONE 'Asia/Shanghai')::date AS period_start \gset
\endif
\if :{?period_end}
\else
SELECT (date_trunc('year', now() AT TIME ZONE 'Asia/Shanghai') + interval '1 year - 1 day')::date AS period_end \gset
\endif
\set QUIET on
\pset null —

\echo
\echo '== 公共数据开放目录 The open catalog (pubdata_open.catalog, high-value first), as pubdata_open_reader'
SET ROLE pubdata_open_reader;
SELECT dataset_code AS "代码", title AS "名称", publisher AS "提供部门", theme AS "主题", update_frequency AS "更新频率",
	   CASE WHEN high_value THEN '高价值' ELSE '' END AS "高价值", open_class AS "开放类型", access_view AS "访问视图"
  FROM pubdata_open.catalog;

\echo
\echo '== A few rows of the first open view, as pubdata_open_reader (personal items masked or left out)'
SELECT pg_catalog.format('SELECT * FROM %s LIMIT 5', access_view) AS q
  FROM pubdata_open.catalog WHERE open_class = 'open' ORDER BY high_value DESC, dataset_code LIMIT 1 \gset
\if :{?q}
\echo :q
:q;
\else
\echo '(no open dataset is published yet)'
\endif

\echo
\echo '== DCAT-AP 3: datasets in the JSON-LD export (pubdata_open.dcat)'
SELECT ds ->> 'dct:identifier' AS identifier, ds -> 'dct:title' ->> '@value' AS title,
	   ds -> 'dct:accrualPeriodicity' ->> '@id' AS frequency
  FROM pubdata_open.dcat, jsonb_array_elements(document -> 'dcat:dataset') ds;
RESET ROLE;

\echo
\echo '== 评价 Evaluation of the departments for' :period_start 'to' :period_end '(as pubdata_auditor; — = source not installed)'
SET ROLE pubdata_auditor;
SELECT department_name AS "部门", resources_catalogued AS "编目", resources_published AS "发布", resources_open AS "开放",
	   requests_received AS "申请", requests_answered_on_time AS "按时答复", refusals AS "拒绝",
	   (SELECT string_agg(x ->> 'resource' || '：' || (x ->> 'reason'), '；') FROM jsonb_array_elements(refusal_reasons) x) AS "拒绝理由",
	   objections_received AS "疑义", objections_resolved_on_time AS "按时校核",
	   aggregation_runs AS "归集", aggregation_runs_succeeded AS "成功", quality_score AS "质量",
	   shared_reads AS "使用", total_score AS "总分"
  FROM pubdata.evaluation(:'period_start', :'period_end');
RESET ROLE;
\echo '== The city catalog goes to the province by logical replication (Art 4, 5, 9, 20): the bureau publishes'
SET ROLE lishui_bureau;
SELECT pubdata.publish_catalog_to_province() AS publication;
\echo '-- what the province receives: the catalog''s public parts, never drafts, grants, audit or data rows'
SELECT tablename, rowfilter FROM pg_publication_tables WHERE pubname = 'pubdata_catalog' ORDER BY tablename;
RESET ROLE;
