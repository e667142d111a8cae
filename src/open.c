/*-------------------------------------------------------------------------
 *
 * open.c
 *	  Open data (Art 20, 21): the DCAT-AP 3 export of the open catalog
 *	  (JSON-LD and Turtle) and its GUCs.
 *
 * The open-data views themselves are maintained in SQL (src/sql/80_open.sql)
 * by triggers on the catalog and read their rows through open_rows.c.  Here
 * the rows of pubdata_open.catalog are read through SPI and handed as plain
 * C strings to json_io.c, which builds the JSON-LD with libjson-c (the text
 * comes back and becomes jsonb), or to dcat_turtle.c, which writes the same
 * graph as Turtle.  Everything is read-only, so it works on a hot standby.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"

#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

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

/*
 * AddTaxonomy
 *		At the province: another city's category scheme, once, for the
 *		catalog's dcat:themeTaxonomy (its datasets' themes are in it).
 */
static void
AddTaxonomy(PubdataDcatNode *list, int *count, const char *iri)
{
	int			i;

	for (i = 0; i < *count; i++)
		if (strcmp(list[i].iri, iri) == 0)
			return;
	list[(*count)++] = (PubdataDcatNode) {iri, "skos:ConceptScheme", "主题分类", "zh", NULL};
}

/*
 * DcatDocument
 *		The open catalog as a DCAT-AP 3 document, JSON-LD or Turtle (the same
 *		graph), as a palloc'd string in the caller's memory context.
 *
 * The SQL functions are declared SECURITY DEFINER with a fixed search_path:
 * they read the catalog as the extension owner, so that pubdata_open_reader
 * may call them (through the views pubdata_open.dcat and
 * pubdata_open.dcat_turtle) without any right on schema pubdata.
 */
static char *
DcatDocument(bool turtle)
{
	/*
	 * This server's open catalog and, at the province, every other city's
	 * (pubdata._dcat_datasets): columns as below, then the dataset's base
	 * IRI and licence (its city's, so that it keeps the IRI its city gives).
	 */
	static const char *query = "SELECT * FROM pubdata._dcat_datasets($1, $2)";
	PubdataDcatCatalog catalog;
	PubdataDcatDataset *datasets;
	PubdataDcatNode *taxonomies;
	const char *base;
	char	   *json;
	char	   *result;
	uint64		n;
	uint64		i;
	int			ret;

	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};

	if (open_base_url != NULL && open_base_url[0] != '\0')
		base = open_base_url;
	else
		base = psprintf("postgresql:///%s", get_database_name(MyDatabaseId));
	args[0] = CStringGetTextDatum(base);
	if (open_license != NULL && open_license[0] != '\0')
		args[1] = CStringGetTextDatum(open_license);
	else
		nulls[1] = 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(query, 2, argtypes, args, nulls, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the open catalog failed: %s", SPI_result_code_string(ret));

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
	taxonomies = palloc0(sizeof(PubdataDcatNode) * (n + 1));
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		PubdataDcatDataset *d = &datasets[i];
		bool		isnull;
		Datum		kw;
		Datum		hv;

		const char *dbase = SPI_getvalue(tup, desc, 21);
		const char *dlicense = SPI_getvalue(tup, desc, 22);

		d->identifier = SPI_getvalue(tup, desc, 1);
		d->iri = psprintf("%s#dataset-%s", dbase, d->identifier);
		d->title = SPI_getvalue(tup, desc, 2);
		d->description = SPI_getvalue(tup, desc, 3);
		d->publisher.name = SPI_getvalue(tup, desc, 4);
		d->publisher.iri = psprintf("%s#department-%s", dbase, SPI_getvalue(tup, desc, 14));
		d->theme_eu = ThemeNode(SPI_getvalue(tup, desc, 5));
		if (SPI_getvalue(tup, desc, 5) != NULL && strcmp(dbase, base) != 0)
			AddTaxonomy(taxonomies, &catalog.ntaxonomy_cities, psprintf("%s#themes", dbase));
		if (SPI_getvalue(tup, desc, 5) != NULL)
			d->theme_own = (PubdataDcatNode) {
				psprintf("%s#theme-%s", dbase, IriEscape(SPI_getvalue(tup, desc, 5))),
				"skos:Concept", SPI_getvalue(tup, desc, 5), "zh", psprintf("%s#themes", dbase)};
		d->publisher.type = PublisherType(SPI_getvalue(tup, desc, 16));
		d->spatial = RegionNode(dbase, SPI_getvalue(tup, desc, 17), SPI_getvalue(tup, desc, 18));
		d->issued = SPI_getvalue(tup, desc, 19);
		if (dlicense != NULL)
			d->license = (PubdataDcatNode) {dlicense, "dct:LicenseDocument", NULL, NULL, NULL};
		kw = SPI_getbinval(tup, desc, 6, &isnull);
		if (!isnull)
			d->keywords = TextArrayToCStrings(kw, &d->nkeywords);
		d->frequency_iri = FrequencyIri(SPI_getvalue(tup, desc, 7));
		d->modified = SPI_getvalue(tup, desc, 8);
		d->access_view = SPI_getvalue(tup, desc, 9);
		d->access_url = dbase;
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
	catalog.taxonomy_cities = taxonomies;

	json = turtle ? pubdata_turtle_dcat(&catalog, datasets, (int) n)
		: pubdata_json_dcat(&catalog, datasets, (int) n);
	result = SPI_palloc(strlen(json) + 1);
	strcpy(result, json);
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(pubdata_dcat_catalog);

/*
 * pubdata.dcat_catalog() returns jsonb
 *		The open catalog as a DCAT-AP 3 JSON-LD document.
 */
Datum
pubdata_dcat_catalog(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(DcatDocument(false))));
}

PG_FUNCTION_INFO_V1(pubdata_dcat_catalog_as);

/*
 * pubdata.dcat_catalog(format text) returns text
 *		The open catalog as a DCAT-AP 3 document in a serialisation:
 *		'turtle' (text/turtle) or 'jsonld' (application/ld+json).
 */
Datum
pubdata_dcat_catalog_as(PG_FUNCTION_ARGS)
{
	char	   *format;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the format of pubdata.dcat_catalog must not be null"),
				 errhint("Use format => 'turtle' or format => 'jsonld'.")));
	format = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (pg_strcasecmp(format, "turtle") == 0 || pg_strcasecmp(format, "text/turtle") == 0 ||
		pg_strcasecmp(format, "ttl") == 0)
		PG_RETURN_TEXT_P(cstring_to_text(DcatDocument(true)));
	if (pg_strcasecmp(format, "jsonld") == 0 || pg_strcasecmp(format, "json-ld") == 0 ||
		pg_strcasecmp(format, "application/ld+json") == 0)
		PG_RETURN_TEXT_P(cstring_to_text(DcatDocument(false)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown DCAT catalog format \"%s\"", format),
			 errhint("Use format => 'turtle' (text/turtle) or format => 'jsonld' (application/ld+json).")));
	PG_RETURN_NULL();
}

