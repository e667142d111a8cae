#!/bin/bash
# The upgrade path: a database created at the oldest released version (0.1) and
# updated through every upgrade script must equal a fresh install of the current
# version, object for object (definitions, columns, constraints, indexes,
# triggers, policies, privileges, comments, enum labels, dumped configuration).
# A database with data in it (a resource, a grant) keeps working after the update.
set -euo pipefail
P="psql -X -q -v ON_ERROR_STOP=1"
OLD=pubdata_upg_old; NEW=pubdata_upg_new; OPEN=pubdata_upg_open
WORK=${PUBDATA_WORK:-/tmp}
cleanup() {
	$P -d postgres -c "DROP DATABASE IF EXISTS $OLD" -c "DROP DATABASE IF EXISTS $NEW" -c "DROP DATABASE IF EXISTS $OPEN" >/dev/null 2>&1 || true
	$P -d postgres -c "DROP ROLE IF EXISTS regress_upg_police, regress_upg_civil, regress_upg_bi, regress_upg_partner" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
$P -d postgres -c "CREATE DATABASE $OLD" -c "CREATE DATABASE $NEW" -c "CREATE DATABASE $OPEN" \
	-c "CREATE ROLE regress_upg_police" -c "CREATE ROLE regress_upg_civil" \
	-c "CREATE ROLE regress_upg_bi IN ROLE pubdata_open_reader" -c "CREATE ROLE regress_upg_partner" >/dev/null

oldest=$(ls src/sql/pubdata--*.sql | sed -n 's|src/sql/pubdata--\([0-9.]*\)\.sql|\1|p' | sort -V | head -1)
current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" pubdata.control)
echo "# from $oldest to $current"

# The old version with some use: a registered, published, granted resource.
$P -d $OLD >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pubdata VERSION '$oldest' CASCADE;
CREATE SCHEMA police AUTHORIZATION regress_upg_police;
GRANT USAGE ON SCHEMA police TO PUBLIC;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_upg_police');
SELECT pubdata.add_department('civil', '莲都区民政局', '331102', 'administrative', 'regress_upg_civil');
SET ROLE regress_upg_police;
CREATE TABLE police.household (id_number text PRIMARY KEY, name text, region text);
INSERT INTO police.household VALUES ('1', '张三', '331102'), ('2', '李四', '331121');
SELECT pubdata.register_resource('police.household', 'PS-HH', '户籍人口信息', 'police', 'restricted', 'not_open', 'daily', 3);
SELECT pubdata.submit_resource('PS-HH');
RESET ROLE;
SELECT pubdata.review_resource('PS-HH', true); SELECT pubdata.publish_resource('PS-HH');
SET ROLE regress_upg_civil;
SELECT pubdata.request_share('PS-HH', '低保核查', ARRAY['id_number', 'region']);
RESET ROLE;
SET ROLE regress_upg_police;
SELECT pubdata.decide_share(1, true, row_scope => '{"region": "331102"}');
RESET ROLE;
ALTER EXTENSION pubdata UPDATE TO '$current';
SQL
$P -d $NEW -c "SET client_min_messages = warning" -c "CREATE EXTENSION pubdata CASCADE" >/dev/null

v=$($P -At -d $OLD -c "SELECT extversion FROM pg_extension WHERE extname = 'pubdata'")
[ "$v" = "$current" ] || { echo "not ok - updated extension is at $v, not $current"; exit 1; }
echo "ok - ALTER EXTENSION pubdata UPDATE reached $current"

# Every object of the extension, described canonically.
describe=$(cat <<'SQL'
WITH m AS (
	SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'pubdata'
), obj AS (
	SELECT pg_describe_object(m.classid, m.objid, 0) AS what, m.classid, m.objid FROM m
)
SELECT what || E'\n' || coalesce(CASE obj.classid
	WHEN 'pg_proc'::regclass THEN
		(SELECT pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '')
		   FROM pg_proc p WHERE p.oid = obj.objid AND p.prokind <> 'a')
	WHEN 'pg_class'::regclass THEN
		(SELECT 'kind=' || c.relkind::text || ' rls=' || c.relrowsecurity || ' acl=' || coalesce(c.relacl::text, '') ||
				' options=' || coalesce(c.reloptions::text, '') || E'\n' ||
				coalesce(pg_get_viewdef(c.oid) || E'\n', '') ||
				coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ||
							CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
							coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '') ||
							coalesce(' acl=' || a.attacl::text, '') ||
							coalesce(' comment=' || col_description(c.oid, a.attnum), ''), E'\n' ORDER BY a.attname)
						   FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
						  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || E'\n' ||
				coalesce((SELECT string_agg('constraint ' || co.conname || ' ' || pg_get_constraintdef(co.oid), E'\n' ORDER BY co.conname)
						   FROM pg_constraint co WHERE co.conrelid = c.oid), '') || E'\n' ||
				coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), E'\n' ORDER BY pg_get_indexdef(i.indexrelid))
						   FROM pg_index i WHERE i.indrelid = c.oid), '') || E'\n' ||
				coalesce((SELECT string_agg(pg_get_triggerdef(t.oid), E'\n' ORDER BY t.tgname)
						   FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '') || E'\n' ||
				coalesce((SELECT string_agg(p.polname || ' ' || p.polcmd::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '') ||
							' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''), E'\n' ORDER BY p.polname)
						   FROM pg_policy p WHERE p.polrelid = c.oid), '') ||
				CASE WHEN c.relkind = 'S' THEN E'\n' || (SELECT format('seq %s %s %s', s.seqtypid::regtype, s.seqincrement, s.seqcycle)
														   FROM pg_sequence s WHERE s.seqrelid = c.oid) ELSE '' END
		   FROM pg_class c WHERE c.oid = obj.objid)
	WHEN 'pg_type'::regclass THEN
		(SELECT 'type ' || t.typtype::text || coalesce(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
											  FROM pg_enum e WHERE e.enumtypid = t.oid), '')
		   FROM pg_type t WHERE t.oid = obj.objid)
	WHEN 'pg_event_trigger'::regclass THEN
		(SELECT 'on ' || e.evtevent || ' ' || e.evtfoid::regproc::text || ' ' || coalesce(e.evttags::text, '') || ' ' || e.evtenabled::text
		   FROM pg_event_trigger e WHERE e.oid = obj.objid)
	WHEN 'pg_namespace'::regclass THEN
		(SELECT 'acl=' || coalesce(n.nspacl::text, '') FROM pg_namespace n WHERE n.oid = obj.objid)
	END, '') || E'\ncomment=' || coalesce(obj_description(obj.objid, obj.classid::regclass::name), '')
  FROM obj
UNION ALL
SELECT 'config ' || string_agg(c::regclass::text || ' ' || coalesce(f, ''), ', ' ORDER BY c::regclass::text)
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(c, f) WHERE e.extname = 'pubdata'
ORDER BY 1
SQL
)
$P -At -d $OLD -c "$describe" > "$WORK/upgrade_old.txt"
$P -At -d $NEW -c "$describe" > "$WORK/upgrade_new.txt"
n=$(grep -c '' "$WORK/upgrade_new.txt")
if diff -u "$WORK/upgrade_new.txt" "$WORK/upgrade_old.txt" > "$WORK/upgrade.diff"; then
	echo "ok - updated database equals a fresh install ($n lines of object descriptions)"
else
	echo "not ok - updated database differs from a fresh install (- fresh, + updated):"
	head -80 "$WORK/upgrade.diff"
	exit 1
fi

# The data made under the old version still works after the update.
$P -d $OLD >/dev/null <<'SQL'
SET ROLE regress_upg_civil;
DO $$BEGIN
	IF (SELECT count(*) FROM police.household) <> 1 THEN
		RAISE EXCEPTION 'the scoped grant made under the old version does not give its row after the update';
	END IF;
END$$;
SQL
echo "ok - a grant made before the update reads its rows after it"

# Open-data views made under the old version (in a database of their own: a
# named reader's USAGE on pubdata_open is state, not definition) are rebuilt
# in place by the update: they read through pubdata.open_dataset_rows (the
# table as its owner), keep their privileges, show the same rows, and do not
# become members of the extension (pg_dump would leave them out).
$P -d $OPEN >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pubdata VERSION '$oldest' CASCADE;
CREATE SCHEMA police AUTHORIZATION regress_upg_police;
SELECT pubdata.add_department('police', '市公安局', '331100', 'administrative', 'regress_upg_police');
SET ROLE regress_upg_police;
CREATE TABLE police.station (code text PRIMARY KEY, name text, chief text, opened date);
INSERT INTO police.station VALUES ('LD01', '莲都派出所', '赵小六', '2001-01-01');
SELECT pubdata.register_resource('police.station', 'PS-ST', '派出所名录', 'police', 'unconditional', 'open', 'monthly', 1);
SELECT pubdata.set_item('PS-ST', 'chief', '所长', personal => 'personal', mask => 'name');
SELECT pubdata.submit_resource('PS-ST');
CREATE TABLE police.stats (year integer PRIMARY KEY, cases integer);
INSERT INTO police.stats VALUES (2025, 42);
SELECT pubdata.register_resource('police.stats', 'PS-TJ', '案件统计', 'police', 'unconditional', 'conditional', 'annual', 1);
SELECT pubdata.submit_resource('PS-TJ');
RESET ROLE;
SELECT pubdata.review_resource(c, true), pubdata.publish_resource(c) FROM unnest(ARRAY['PS-ST', 'PS-TJ']) c;
SELECT pubdata.allow_open_reader('PS-TJ', 'regress_upg_partner');
ALTER EXTENSION pubdata UPDATE TO '$current';
SQL
defs=$($P -At -d $OPEN -c "SELECT string_agg(c.relname || '=' || (pg_get_viewdef(c.oid) LIKE '%pubdata.open_dataset_rows(%')::text
		|| '/' || EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')::text, ',' ORDER BY c.relname)
	FROM pg_class c WHERE c.relnamespace = 'pubdata_open'::regnamespace AND c.relkind = 'v' AND c.relname NOT IN ('catalog', 'dcat', 'dcat_turtle')")
[ "$defs" = "ps_st=true/false,ps_tj=true/false" ] || { echo "not ok - open views after the update (reads through open_dataset_rows/extension member): $defs"; exit 1; }
rows=$($P -At -d $OPEN -c "SET ROLE regress_upg_bi" -c "SELECT string_agg(code || ':' || name || ':' || chief || ':' || opened, ',') FROM pubdata_open.ps_st")
[ "$rows" = "LD01:莲都派出所:赵*六:2001-01-01" ] || { echo "not ok - the open view shows '$rows' after the update"; exit 1; }
rows=$($P -At -d $OPEN -c "SET ROLE regress_upg_partner" -c "SELECT string_agg(year || ':' || cases, ',') FROM pubdata_open.ps_tj")
[ "$rows" = "2025:42" ] || { echo "not ok - the named reader reads '$rows' after the update"; exit 1; }
echo "ok - open views made before the update read through open_dataset_rows, for the same readers"
# rebuilt with honest types (0.1 showed integers as numeric), their comments,
# and no initial privileges recorded for them (pg_dump dumps their grants)
types=$($P -At -d $OPEN -c "SELECT string_agg(a.attrelid::regclass || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attrelid::regclass::text, a.attnum)
	FROM pg_attribute a WHERE a.attrelid IN ('pubdata_open.ps_st'::regclass, 'pubdata_open.ps_tj'::regclass) AND a.attnum > 0")
[ "$types" = "pubdata_open.ps_st.code:text,pubdata_open.ps_st.name:text,pubdata_open.ps_st.chief:text,pubdata_open.ps_st.opened:date,pubdata_open.ps_tj.year:integer,pubdata_open.ps_tj.cases:integer" ] \
	|| { echo "not ok - open view column types after the update: $types"; exit 1; }
comments=$($P -At -d $OPEN -c "SELECT col_description('pubdata_open.ps_st'::regclass, 3) || ' / ' || obj_description('pubdata_open.ps_tj'::regclass, 'pg_class')")
[ "$comments" = "所长（已脱敏：部分遮盖；文本） / 案件统计（提供部门：市公安局；资源代码：PS-TJ；更新频率：每年；有条件开放）" ] \
	|| { echo "not ok - open view comments after the update: $comments"; exit 1; }
init=$($P -At -d $OPEN -c "SELECT count(*) FROM pg_init_privs i JOIN pg_class c ON c.oid = i.objoid AND i.classoid = 'pg_class'::regclass
	WHERE c.relnamespace = 'pubdata_open'::regnamespace AND c.relname IN ('ps_st', 'ps_tj')")
[ "$init" = "0" ] || { echo "not ok - the rebuilt open views have $init initial privileges recorded"; exit 1; }
acl=$($P -At -d $OPEN -c "SELECT relacl::text FROM pg_class WHERE oid = 'pubdata_open.ps_tj'::regclass")
case "$acl" in *regress_upg_partner=r/*) ;; *) echo "not ok - the named reader lost its privilege: $acl"; exit 1 ;; esac
echo "ok - the rebuilt open views have their columns' types, comments and privileges, none recorded as initial"
