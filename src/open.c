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
#include "fmgr.h"
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
		"       pg_catalog.to_char(pg_catalog.max(c.last_modified) OVER (), 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00'"
		"  FROM pubdata_open.catalog c"
		"  JOIN pubdata.resource r ON r.id OPERATOR(pg_catalog.=) c.resource_id"
		"  JOIN pubdata.department d ON d.id OPERATOR(pg_catalog.=) r.provider_id"
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
		d->theme = SPI_getvalue(tup, desc, 5);
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
		if (i == 0)
			catalog.modified = SPI_getvalue(tup, desc, 15);
	}

	json = pubdata_json_dcat(&catalog, datasets, (int) n);
	result = SPI_palloc(strlen(json) + 1);
	strcpy(result, json);
	SPI_finish();

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}
