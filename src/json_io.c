/*-------------------------------------------------------------------------
 *
 * json_io.c
 *	  All of pubdata's libjson-c use (DCAT, OpenLineage, reports).
 *
 * This file must not include utils/builtins.h or utils/fmgrprotos.h: their
 * json_object() clashes with json-c's json_object type.  Functions here take
 * plain C strings and return palloc'd JSON text; the callers convert it to
 * jsonb on the PostgreSQL side.  json-c allocates with malloc: every tree is
 * released with json_object_put on every path, errors included.
 *
 * Each module has its own clearly delimited section.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

#include "json_io.h"

/*
 * JsonToPalloc
 *		Serialise a json-c tree into a palloc'd string and release the tree.
 *
 * Plain output, no escaping of '/', UTF-8 passed through unchanged (json-c
 * escapes only '"', '\\' and control characters), so Chinese text stays
 * readable and the result is valid JSON whatever the input strings hold.
 */
static char *
JsonToPalloc(struct json_object *root)
{
	char	   *result = NULL;

	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory building a JSON document")));
	PG_TRY();
	{
		const char *text;

		text = json_object_to_json_string_ext(root,
											  JSON_C_TO_STRING_PLAIN |
											  JSON_C_TO_STRING_NOSLASHESCAPE);
		if (text == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory serialising a JSON document")));
		result = pstrdup(text);
	}
	PG_FINALLY();
	{
		json_object_put(root);
	}
	PG_END_TRY();
	return result;
}

/* ==== section: open data (DCAT-AP 3 catalog export), module open.c ==== */

/*
 * DcatString
 *		A plain JSON string, or JSON null for a NULL pointer.
 */
static struct json_object *
DcatString(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/*
 * DcatLiteral
 *		A JSON-LD language-tagged literal {"@value": s, "@language": lang}.
 */
static struct json_object *
DcatLiteral(const char *s, const char *lang)
{
	struct json_object *o;

	if (s == NULL)
		return NULL;
	if (lang == NULL)
		return json_object_new_string(s);
	o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "@value", json_object_new_string(s));
	json_object_object_add(o, "@language", json_object_new_string(lang));
	return o;
}

/*
 * DcatIri
 *		A node reference {"@id": iri}.
 */
static struct json_object *
DcatIri(const char *iri)
{
	struct json_object *o;

	if (iri == NULL)
		return NULL;
	o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "@id", json_object_new_string(iri));
	return o;
}

/*
 * DcatTyped
 *		A typed literal {"@value": s, "@type": type}.
 */
static struct json_object *
DcatTyped(const char *s, const char *type)
{
	struct json_object *o;

	if (s == NULL)
		return NULL;
	o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "@value", json_object_new_string(s));
	json_object_object_add(o, "@type", json_object_new_string(type));
	return o;
}

/*
 * DcatAgent
 *		A foaf:Agent with its name (DCAT-AP: Agent.name is mandatory).
 */
static struct json_object *
DcatAgent(const PubdataDcatAgent *agent, const char *lang)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (agent->iri)
		json_object_object_add(o, "@id", json_object_new_string(agent->iri));
	json_object_object_add(o, "@type", json_object_new_string("foaf:Agent"));
	json_object_object_add(o, "foaf:name", DcatLiteral(agent->name ? agent->name : "", lang));
	return o;
}

/*
 * DcatContext
 *		The JSON-LD @context: the prefixes the document uses.
 */
static struct json_object *
DcatContext(void)
{
	struct json_object *c = json_object_new_object();

	if (c == NULL)
		return NULL;
	json_object_object_add(c, "dcat", json_object_new_string("http://www.w3.org/ns/dcat#"));
	json_object_object_add(c, "dct", json_object_new_string("http://purl.org/dc/terms/"));
	json_object_object_add(c, "dcatap", json_object_new_string("http://data.europa.eu/r5r/"));
	json_object_object_add(c, "foaf", json_object_new_string("http://xmlns.com/foaf/0.1/"));
	json_object_object_add(c, "vcard", json_object_new_string("http://www.w3.org/2006/vcard/ns#"));
	json_object_object_add(c, "skos", json_object_new_string("http://www.w3.org/2004/02/skos/core#"));
	json_object_object_add(c, "xsd", json_object_new_string("http://www.w3.org/2001/XMLSchema#"));
	json_object_object_add(c, "pubdata", json_object_new_string("urn:pubdata:vocab#"));
	return c;
}

/*
 * DcatDataset
 *		One dcat:Dataset with its contact point, keywords, theme and its
 *		dcat:Distribution (the open view, reached at the access URL).
 */
static struct json_object *
DcatDataset(const PubdataDcatDataset *d, const char *lang)
{
	struct json_object *o = json_object_new_object();
	struct json_object *kw;
	struct json_object *dist;
	struct json_object *dists;
	struct json_object *contact;
	int			i;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "@id", DcatString(d->iri));
	json_object_object_add(o, "@type", json_object_new_string("dcat:Dataset"));
	json_object_object_add(o, "dct:identifier", DcatString(d->identifier));
	json_object_object_add(o, "dct:title", DcatLiteral(d->title ? d->title : "", lang));
	json_object_object_add(o, "dct:description",
						   DcatLiteral(d->description ? d->description :
									   (d->title ? d->title : ""), lang));
	json_object_object_add(o, "dct:publisher", DcatAgent(&d->publisher, lang));
	if (d->frequency_iri)
		json_object_object_add(o, "dct:accrualPeriodicity", DcatIri(d->frequency_iri));
	if (d->modified)
		json_object_object_add(o, "dct:modified", DcatTyped(d->modified, "xsd:dateTime"));

	contact = json_object_new_object();
	if (contact != NULL)
	{
		json_object_object_add(contact, "@type", json_object_new_string("vcard:Organization"));
		json_object_object_add(contact, "vcard:fn",
							   DcatLiteral(d->contact_name ? d->contact_name : "", lang));
		if (d->contact_info)
			json_object_object_add(contact, "vcard:note", DcatLiteral(d->contact_info, lang));
	}
	json_object_object_add(o, "dcat:contactPoint", contact);

	kw = json_object_new_array();
	if (kw != NULL)
		for (i = 0; i < d->nkeywords; i++)
			json_object_array_add(kw, DcatLiteral(d->keywords[i], lang));
	json_object_object_add(o, "dcat:keyword", kw);

	if (d->theme)
	{
		struct json_object *theme = json_object_new_object();

		if (theme != NULL)
		{
			json_object_object_add(theme, "@type", json_object_new_string("skos:Concept"));
			json_object_object_add(theme, "skos:prefLabel", DcatLiteral(d->theme, lang));
		}
		json_object_object_add(o, "dcat:theme", theme);
	}
	json_object_object_add(o, "pubdata:highValue", json_object_new_boolean(d->high_value));
	json_object_object_add(o, "pubdata:openClass", DcatString(d->open_class));

	dist = json_object_new_object();
	if (dist != NULL)
	{
		json_object_object_add(dist, "@type", json_object_new_string("dcat:Distribution"));
		json_object_object_add(dist, "dcat:accessURL", DcatIri(d->access_url));
		json_object_object_add(dist, "dct:title", DcatString(d->access_view));
		json_object_object_add(dist, "pubdata:view", DcatString(d->access_view));
	}
	dists = json_object_new_array();
	if (dists != NULL)
		json_object_array_add(dists, dist);
	else if (dist != NULL)
		json_object_put(dist);
	json_object_object_add(o, "dcat:distribution", dists);
	return o;
}

/*
 * pubdata_json_dcat
 *		The DCAT-AP 3 JSON-LD document of a catalog and its datasets.
 *
 * Mandatory classes and properties: Catalog (dct:title, dct:description,
 * dct:publisher, dcat:dataset), Dataset (dct:title, dct:description),
 * Distribution (dcat:accessURL), Agent (foaf:name); recommended ones that
 * pubdata knows are added (frequency, modified, contact point, keywords,
 * theme).  Strings are copied by json-c and nothing here raises an error
 * while the tree is half built, so the tree cannot leak.
 */
char *
pubdata_json_dcat(const PubdataDcatCatalog *catalog,
				  const PubdataDcatDataset *datasets, int ndatasets)
{
	struct json_object *root = json_object_new_object();
	struct json_object *list;
	int			i;

	if (root == NULL)
		return JsonToPalloc(NULL);
	json_object_object_add(root, "@context", DcatContext());
	json_object_object_add(root, "@id", DcatString(catalog->iri));
	json_object_object_add(root, "@type", json_object_new_string("dcat:Catalog"));
	json_object_object_add(root, "dct:title", DcatLiteral(catalog->title ? catalog->title : "", catalog->language));
	json_object_object_add(root, "dct:description",
						   DcatLiteral(catalog->description ? catalog->description : "", catalog->language));
	json_object_object_add(root, "dct:publisher", DcatAgent(&catalog->publisher, catalog->language));
	if (catalog->language_iri)
		json_object_object_add(root, "dct:language", DcatIri(catalog->language_iri));
	if (catalog->modified)
		json_object_object_add(root, "dct:modified", DcatTyped(catalog->modified, "xsd:dateTime"));

	list = json_object_new_array();
	if (list != NULL)
		for (i = 0; i < ndatasets; i++)
			json_object_array_add(list, DcatDataset(&datasets[i], catalog->language));
	json_object_object_add(root, "dcat:dataset", list);

	return JsonToPalloc(root);
}

/* ==== end section: open data ==== */
