/*-------------------------------------------------------------------------
 *
 * open.c
 *	  Open data (Art 20, 21): the DCAT-AP 3 export of the open catalog and
 *	  its GUCs.
 *
 * The open-data views themselves are maintained in SQL (src/sql/80_open.sql)
 * by triggers on the catalog.  Here the rows of pubdata_open.catalog are read
 * through SPI and handed as plain C strings to json_io.c, which builds the
 * JSON-LD with libjson-c; the text comes back and becomes jsonb.  Everything
 * is read-only, so it works on a hot standby.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"

#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/plancache.h"
#include "utils/tuplestore.h"

#include "identity.h"
#include "json_io.h"
#include "open.h"

static char *open_base_url = NULL;
static char *open_catalog_title = NULL;
static char *open_catalog_description = NULL;
static char *open_publisher = NULL;
static char *open_license = NULL;
static char *open_homepage = NULL;

/*
 * pubdata_open_init
 *		Define the GUCs of the open-data catalog.
 */
void
pubdata_open_init(void)
{
	DefineCustomStringVariable("pubdata.open_base_url",
							   "Access URL of the open-data views in the DCAT catalog.",
							   "A connection URL such as postgresql://opendata.example.cn:5432/lishui; "
							   "empty means postgresql:///<current database>.",
							   &open_base_url, "", PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.open_catalog_title",
							   "Title of the open-data catalog (DCAT dct:title).",
							   NULL, &open_catalog_title, "丽水市公共数据开放目录",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.open_catalog_description",
							   "Description of the open-data catalog (DCAT dct:description).",
							   NULL, &open_catalog_description,
							   "丽水市公共管理和服务机构依法开放的公共数据资源目录，高价值数据优先开放（《丽水市公共数据资源管理办法》第二十、二十一条）。",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.open_publisher",
							   "Publisher of the open-data catalog (DCAT dct:publisher foaf:name).",
							   NULL, &open_publisher, "丽水市大数据发展管理局",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.open_license",
							   "Licence of the open data (DCAT dct:license of the catalog and its distributions).",
							   "The IRI of the licence document, e.g. http://publications.europa.eu/resource/authority/licence/CC_BY_4_0; "
							   "empty leaves dct:license out.",
							   &open_license, "", PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pubdata.open_homepage",
							   "Home page of the open-data site (DCAT foaf:homepage of the catalog).",
							   "A URL such as https://data.lishui.gov.cn/; empty leaves foaf:homepage out.",
							   &open_homepage, "", PGC_SUSET, 0, NULL, NULL, NULL);
}

#define EU_DATA_THEME "http://publications.europa.eu/resource/authority/data-theme"

/*
 * ThemeNode
 *		The EU data-theme concept of a catalog category, or a node without
 *		IRI when the category has no counterpart there.
 *
 * Categories are free text; the usual headings of Chinese open-data portals
 * are mapped here.  Every category is also a concept of pubdata's own scheme
 * (OwnThemeNode), so an unmapped one still has an IRI.
 */
static PubdataDcatNode
ThemeNode(const char *category)
{
	static const struct
	{
		const char *category;
		const char *code;
		const char *label;
	}			map[] = {
		{"人口", "SOCI", "Population and society"},
		{"民政", "SOCI", "Population and society"},
		{"社会保障", "SOCI", "Population and society"},
		{"社会民生", "SOCI", "Population and society"},
		{"劳动就业", "SOCI", "Population and society"},
		{"人力资源", "SOCI", "Population and society"},
		{"教育", "EDUC", "Education, culture and sport"},
		{"教育科技", "EDUC", "Education, culture and sport"},
		{"文化", "EDUC", "Education, culture and sport"},
		{"文化休闲", "EDUC", "Education, culture and sport"},
		{"体育", "EDUC", "Education, culture and sport"},
		{"科技", "TECH", "Science and technology"},
		{"科技创新", "TECH", "Science and technology"},
		{"卫生", "HEAL", "Health"},
		{"卫生健康", "HEAL", "Health"},
		{"医疗卫生", "HEAL", "Health"},
		{"交通", "TRAN", "Transport"},
		{"交通出行", "TRAN", "Transport"},
		{"交通运输", "TRAN", "Transport"},
		{"公共安全", "JUST", "Justice, legal system and public safety"},
		{"安全生产", "JUST", "Justice, legal system and public safety"},
		{"司法", "JUST", "Justice, legal system and public safety"},
		{"法律服务", "JUST", "Justice, legal system and public safety"},
		{"法人", "ECON", "Economy and finance"},
		{"企业", "ECON", "Economy and finance"},
		{"经济", "ECON", "Economy and finance"},
		{"市场监管", "ECON", "Economy and finance"},
		{"财税金融", "ECON", "Economy and finance"},
		{"商贸流通", "ECON", "Economy and finance"},
		{"农业", "AGRI", "Agriculture, fisheries, forestry and food"},
		{"农业农村", "AGRI", "Agriculture, fisheries, forestry and food"},
		{"农林牧渔", "AGRI", "Agriculture, fisheries, forestry and food"},
		{"环境", "ENVI", "Environment"},
		{"生态环境", "ENVI", "Environment"},
		{"资源环境", "ENVI", "Environment"},
		{"气象", "ENVI", "Environment"},
		{"能源", "ENER", "Energy"},
		{"公用事业", "ENER", "Energy"},
		{"城建住房", "REGI", "Regions and cities"},
		{"城乡建设", "REGI", "Regions and cities"},
		{"政府机构", "GOVE", "Government and public sector"},
		{"机构团体", "GOVE", "Government and public sector"},
		{"财政", "GOVE", "Government and public sector"},
	};
	PubdataDcatNode node = {0};
	int			i;

	if (category == NULL)
		return node;
	for (i = 0; i < lengthof(map); i++)
		if (strcmp(category, map[i].category) == 0)
		{
			node.iri = psprintf(EU_DATA_THEME "/%s", map[i].code);
			node.type = "skos:Concept";
			node.label = map[i].label;
			node.label_lang = "en";
			node.scheme = EU_DATA_THEME;
			break;
		}
	return node;
}

/*
 * IriEscape
 *		Percent-encode a UTF-8 string for an IRI fragment: everything but
 *		ASCII letters, digits and "-._~" (RFC 3986 unreserved), so that the
 *		IRI is also a valid URI whatever the category holds.
 */
static char *
IriEscape(const char *s)
{
	StringInfoData buf;
	const unsigned char *p;

	initStringInfo(&buf);
	for (p = (const unsigned char *) s; *p; p++)
	{
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			appendStringInfoChar(&buf, (char) *p);
		else
			appendStringInfo(&buf, "%%%02X", *p);
	}
	return buf.data;
}

/*
 * PublisherType
 *		The ADMS publisher type of a department kind (Chinese municipal
 *		departments and public institutions are local authorities, public
 *		utilities are companies); a node without IRI for "other".
 */
static PubdataDcatNode
PublisherType(const char *kind)
{
	PubdataDcatNode node = {0};

	if (kind == NULL || strcmp(kind, "other") == 0)
		return node;
	node.type = "skos:Concept";
	node.label_lang = "en";
	node.scheme = "http://purl.org/adms/publishertype/1.0";
	if (strcmp(kind, "public_utility") == 0)
	{
		node.iri = "http://purl.org/adms/publishertype/Company";
		node.label = "Company";
	}
	else
	{
		node.iri = "http://purl.org/adms/publishertype/LocalAuthority";
		node.label = "Local Authority";
	}
	return node;
}

/*
 * RegionNode
 *		The administrative division as a dct:Location with an IRI of the
 *		catalog (national division codes have no public IRIs).
 */
static PubdataDcatNode
RegionNode(const char *base, const char *code, const char *name)
{
	PubdataDcatNode node = {0};

	if (code == NULL)
		return node;
	node.iri = psprintf("%s#region-%s", base, code);
	node.type = "dct:Location";
	node.label = name;
	node.label_lang = "zh";
	return node;
}

/*
 * FrequencyIri
 *		The EU frequency vocabulary IRI of a pubdata.update_frequency value.
 */
static const char *
FrequencyIri(const char *freq)
{
	static const struct
	{
		const char *pubdata;
		const char *eu;
	}			map[] = {
		{"realtime", "UPDATE_CONT"},
		{"hourly", "HOURLY"},
		{"daily", "DAILY"},
		{"weekly", "WEEKLY"},
		{"monthly", "MONTHLY"},
		{"quarterly", "QUARTERLY"},
		{"semiannual", "ANNUAL_2"},
		{"annual", "ANNUAL"},
		{"on_demand", "IRREG"},
	};
	int			i;

	if (freq == NULL)
		return NULL;
	for (i = 0; i < lengthof(map); i++)
		if (strcmp(freq, map[i].pubdata) == 0)
			return psprintf("http://publications.europa.eu/resource/authority/frequency/%s", map[i].eu);
	return "http://publications.europa.eu/resource/authority/frequency/UNKNOWN";
}

/*
 * TextArrayToCStrings
 *		The non-null elements of a text[] datum as C strings.
 */
static const char **
TextArrayToCStrings(Datum array, int *count)
{
	ArrayType  *arr = DatumGetArrayTypeP(array);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	const char **result;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	result = palloc(sizeof(char *) * (n + 1));
	*count = 0;
	for (i = 0; i < n; i++)
		if (!nulls[i])
			result[(*count)++] = TextDatumGetCString(elems[i]);
	return result;
}

/*
 * CitySpatial
 *		The catalog's dct:spatial: the city division of pubdata.region (the
 *		first by code when the bureau added more than one).  Runs in the
 *		caller's SPI connection.
 */
static PubdataDcatNode
CitySpatial(const char *base)
{
	PubdataDcatNode node = {0};

	if (SPI_execute("SELECT g.code, g.name FROM pubdata.region g"
					" WHERE g.level OPERATOR(pg_catalog.=) 'city' ORDER BY g.code LIMIT 1",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		node = RegionNode(base, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						  SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	return node;
}

PG_FUNCTION_INFO_V1(pubdata_dcat_catalog);

/*
 * pubdata.dcat_catalog() returns jsonb
 *		The open catalog as a DCAT-AP 3 JSON-LD document.
 *
 * Declared SECURITY DEFINER with a fixed search_path: it reads the catalog as
 * the extension owner, so that pubdata_open_reader may call it (through the
 * view pubdata_open.dcat) without any right on schema pubdata.
 */
Datum
pubdata_dcat_catalog(PG_FUNCTION_ARGS)
{
	static const char *query =
		"SELECT c.dataset_code, c.title, c.description, c.publisher, c.theme, r.keywords,"
		"       c.update_frequency,"
		"       pg_catalog.to_char(c.last_modified, 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00',"
		"       c.access_view, c.high_value, c.open_class,"
		"       d.name || coalesce('（数据专员：' || d.data_commissioner || '）', ''),"
		"       d.contact, d.code,"
		"       pg_catalog.to_char(pg_catalog.max(c.last_modified) OVER (), 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00',"
		"       d.kind::text, g.code, g.name,"
		"       pg_catalog.to_char(pg_catalog.timezone('Asia/Shanghai', r.published_at), 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00',"
		"       pg_catalog.to_char(pg_catalog.timezone('Asia/Shanghai', pg_catalog.min(r.published_at) OVER ()),"
		"                          'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00'"
		"  FROM pubdata_open.catalog c"
		"  JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) c.resource_id"
		"  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id"
		"  LEFT JOIN pubdata.region g ON g.code OPERATOR(pg_catalog.=) r.region"
		" ORDER BY c.high_value DESC, c.dataset_code";
	PubdataDcatCatalog catalog;
	PubdataDcatDataset *datasets;
	const char *base;
	char	   *json;
	char	   *result;
	uint64		n;
	uint64		i;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(query, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the open catalog failed: %s", SPI_result_code_string(ret));

	if (open_base_url != NULL && open_base_url[0] != '\0')
		base = open_base_url;
	else
		base = psprintf("postgresql:///%s", get_database_name(MyDatabaseId));

	memset(&catalog, 0, sizeof(catalog));
	catalog.iri = psprintf("%s#catalog", base);
	catalog.title = open_catalog_title;
	catalog.description = open_catalog_description;
	catalog.publisher.name = open_publisher;
	catalog.language = "zh";
	catalog.language_iri = "http://publications.europa.eu/resource/authority/language/ZHO";
	catalog.publisher.type = PublisherType("administrative");
	if (open_license != NULL && open_license[0] != '\0')
		catalog.license = (PubdataDcatNode) {open_license, "dct:LicenseDocument", NULL, NULL, NULL};
	if (open_homepage != NULL && open_homepage[0] != '\0')
		catalog.homepage = (PubdataDcatNode) {open_homepage, "foaf:Document", NULL, NULL, NULL};
	catalog.taxonomy_eu = (PubdataDcatNode) {EU_DATA_THEME, "skos:ConceptScheme", "Data theme", "en", NULL};
	catalog.taxonomy_own = (PubdataDcatNode) {psprintf("%s#themes", base), "skos:ConceptScheme",
	"主题分类", "zh", NULL};

	n = SPI_processed;
	datasets = palloc0(sizeof(PubdataDcatDataset) * (n + 1));
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		PubdataDcatDataset *d = &datasets[i];
		bool		isnull;
		Datum		kw;
		Datum		hv;

		d->identifier = SPI_getvalue(tup, desc, 1);
		d->iri = psprintf("%s#dataset-%s", base, d->identifier);
		d->title = SPI_getvalue(tup, desc, 2);
		d->description = SPI_getvalue(tup, desc, 3);
		d->publisher.name = SPI_getvalue(tup, desc, 4);
		d->publisher.iri = psprintf("%s#department-%s", base, SPI_getvalue(tup, desc, 14));
		d->theme_eu = ThemeNode(SPI_getvalue(tup, desc, 5));
		if (SPI_getvalue(tup, desc, 5) != NULL)
			d->theme_own = (PubdataDcatNode) {
				psprintf("%s#theme-%s", base, IriEscape(SPI_getvalue(tup, desc, 5))),
				"skos:Concept", SPI_getvalue(tup, desc, 5), "zh", catalog.taxonomy_own.iri};
		d->publisher.type = PublisherType(SPI_getvalue(tup, desc, 16));
		d->spatial = RegionNode(base, SPI_getvalue(tup, desc, 17), SPI_getvalue(tup, desc, 18));
		d->issued = SPI_getvalue(tup, desc, 19);
		d->license = catalog.license;
		kw = SPI_getbinval(tup, desc, 6, &isnull);
		if (!isnull)
			d->keywords = TextArrayToCStrings(kw, &d->nkeywords);
		d->frequency_iri = FrequencyIri(SPI_getvalue(tup, desc, 7));
		d->modified = SPI_getvalue(tup, desc, 8);
		d->access_view = SPI_getvalue(tup, desc, 9);
		d->access_url = base;
		hv = SPI_getbinval(tup, desc, 10, &isnull);
		d->high_value = !isnull && DatumGetBool(hv);
		d->open_class = SPI_getvalue(tup, desc, 11);
		d->contact_name = SPI_getvalue(tup, desc, 12);
		d->contact_info = SPI_getvalue(tup, desc, 13);
		d->access_description = psprintf("开放视图 %s，以 SQL 查询", d->access_view);
		if (i == 0)
		{
			catalog.modified = SPI_getvalue(tup, desc, 15);
			catalog.issued = SPI_getvalue(tup, desc, 20);
		}
	}
	catalog.spatial = CitySpatial(base);

	json = pubdata_json_dcat(&catalog, datasets, (int) n);
	result = SPI_palloc(strlen(json) + 1);
	strcpy(result, json);
	SPI_finish();

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}

/*
 * RunIntoTuplestore
 *		Run a read-only query through SPI straight into the tuplestore of a
 *		materialized set-returning function, after checking that its columns
 *		have the types the caller declared (the view's column list).  nargs
 *		is 0 or 1 (a bigint: the resource).
 */
static void
RunIntoTuplestore(const char *sql, int nargs, Datum arg, ReturnSetInfo *rsinfo, const char *code)
{
	Oid			argtypes[1] = {INT8OID};
	SPIPlanPtr	plan;
	CachedPlanSource *source;
	TupleDesc	got;
	TupleDesc	expected = rsinfo->setDesc;
	bool		same;
	int			a;
	SPIExecuteOptions options;
	DestReceiver *dest;

	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare the open-data query: %s", SPI_result_code_string(SPI_result));
	source = (CachedPlanSource *) linitial(SPI_plan_get_plan_sources(plan));
	got = source->resultDesc;
	same = got != NULL && got->natts == expected->natts;
	for (a = 0; same && a < got->natts; a++)
		same = TupleDescAttr(got, a)->atttypid == TupleDescAttr(expected, a)->atttypid;
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the open-data view of resource \"%s\" does not match its catalog entry", code),
				 errdetail("The columns the view declares differ from the items the catalog opens."),
				 errhint("The view is rebuilt when the entry or its items change; "
						 "a direct call must declare the view's columns.")));

	dest = CreateTuplestoreDestReceiver();
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult, rsinfo->econtext->ecxt_per_query_memory,
									false, NULL, NULL);
	memset(&options, 0, sizeof(options));
	if (nargs > 0)
	{
		options.params = makeParamList(1);
		options.params->numParams = 1;
		options.params->params[0].value = arg;
		options.params->params[0].isnull = false;
		options.params->params[0].pflags = PARAM_FLAG_CONST;
		options.params->params[0].ptype = INT8OID;
	}
	options.read_only = true;
	options.dest = dest;
	if (SPI_execute_plan_extended(plan, &options) != SPI_OK_SELECT)
		elog(ERROR, "the open-data query of resource \"%s\" failed", code);
	dest->rDestroy(dest);
}

/*
 * ReadAsOwner
 *		Run the read of a resource's table (pubdata._open_queries' source_sql)
 *		into the tuplestore, as the table's owner in a security-restricted
 *		operation with search_path pinned: the department's index
 *		expressions, views, functions and casts run with the department's
 *		rights, never with those of whoever reads the open view.
 */
static void
ReadAsOwner(Oid relid, const char *source_sql, ReturnSetInfo *rsinfo, const char *code)
{
	PubdataIdentity as;

	pubdata_become_owner(&as, relid);
	RunIntoTuplestore(source_sql, 0, (Datum) 0, rsinfo, code);
	pubdata_restore(&as);
}

PG_FUNCTION_INFO_V1(pubdata_open_source);

/*
 * pubdata._open_source(resource bigint) returns setof record
 *		The plain values of the open items of a resource's table (the query
 *		built by pubdata._open_queries), read as the table's owner in a
 *		security-restricted operation: the department's index expressions,
 *		views, functions and casts run with the department's rights, never
 *		with those of whoever reads the open view.  Internal: only the
 *		extension owner calls it, from pubdata.open_dataset_rows.
 */
Datum
pubdata_open_source(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	Oid			relid = InvalidOid;
	char	   *source_sql = NULL;
	char	   *code = NULL;

	if (!has_privs_of_role(GetUserId(), pubdata_extension_owner()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function _open_source"),
				 errhint("Read the open data through its view in schema pubdata_open.")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	args[0] = Int64GetDatum(resource_id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT q.relation, q.source_sql, q.code FROM pubdata._open_queries($1) q",
							  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			relid = DatumGetObjectId(d);
			source_sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		}
	}
	if (!OidIsValid(relid) || source_sql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("resource %lld has no table", (long long) resource_id)));

	ReadAsOwner(relid, source_sql, rsinfo, code);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pubdata_open_dataset_rows);

/*
 * pubdata.open_dataset_rows(resource bigint) returns setof record
 *		What the open view of a resource shows: its open items read as the
 *		table's owner (pubdata._open_source), masked by pubdata as the
 *		extension owner (the pseudonym key never reaches the department or the
 *		reader); when no item is masked, the owner's read as it is.  The views
 *		in pubdata_open call it with their reader's rights; it answers only a
 *		role that may SELECT from the resource's view, so calling it directly
 *		shows nothing more than the view.
 */
Datum
pubdata_open_dataset_rows(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			reader = GetUserId();
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	Oid			viewid = InvalidOid;
	char	   *view_name = NULL;
	char	   *open_sql = NULL;
	char	   *source_sql = NULL;
	char	   *code = NULL;
	Oid			relid = InvalidOid;
	bool		masked = true;
	PubdataIdentity as;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	args[0] = Int64GetDatum(resource_id);

	/* pubdata's own bookkeeping, as the extension owner */
	pubdata_become(&as, pubdata_extension_owner(), 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.to_regclass(pg_catalog.format('pubdata_open.%I', o.view_name))::pg_catalog.oid,"
							  "       o.view_name, q.open_sql, q.code, q.relation, q.source_sql, q.masked"
							  "  FROM pubdata.open_dataset o, pubdata._open_queries(o.resource_id) q"
							  " WHERE o.resource_id OPERATOR(pg_catalog.=) $1 AND o.dropped_at IS NULL",
							  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			viewid = DatumGetObjectId(d);
		view_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		open_sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);
		if (!isnull)
			relid = DatumGetObjectId(d);
		source_sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7, &isnull);
		masked = isnull || DatumGetBool(d);
	}
	if (!OidIsValid(viewid) || !OidIsValid(relid) || open_sql == NULL || source_sql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("resource %lld has no open-data view", (long long) resource_id),
				 errhint("See SELECT dataset_code, access_view FROM pubdata_open.catalog.")));
	if (pg_class_aclcheck(viewid, reader, ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for view %s", quote_identifier(view_name)),
				 errdetail("Only the roles that may read pubdata_open.%s read its rows.", quote_identifier(view_name)),
				 errhint("A conditional dataset is read by the roles its provider names with pubdata.allow_open_reader().")));

	/* the masks over the owner's read, or the owner's read when none */
	if (masked)
		RunIntoTuplestore(open_sql, 1, args[0], rsinfo, code);
	else
		ReadAsOwner(relid, source_sql, rsinfo, code);
	SPI_finish();
	pubdata_restore(&as);
	return (Datum) 0;
}
