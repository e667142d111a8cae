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
 * DcatNode
 *		A typed node {"@id", "@type", label, skos:inScheme}, or NULL when the
 *		node has no IRI.  Concepts and locations are labelled with
 *		skos:prefLabel (DCAT-AP's Category shape requires it), anything else
 *		(a concept scheme, a licence, a page) with dct:title.
 */
static struct json_object *
DcatNode(const PubdataDcatNode *node)
{
	struct json_object *o;

	if (node->iri == NULL)
		return NULL;
	o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "@id", json_object_new_string(node->iri));
	if (node->type)
		json_object_object_add(o, "@type", json_object_new_string(node->type));
	if (node->label)
		json_object_object_add(o,
							   node->type && (strcmp(node->type, "skos:Concept") == 0 ||
											  strcmp(node->type, "dct:Location") == 0)
							   ? "skos:prefLabel" : "dct:title",
							   DcatLiteral(node->label, node->label_lang));
	if (node->scheme)
		json_object_object_add(o, "skos:inScheme", DcatIri(node->scheme));
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
	if (agent->type.iri)
		json_object_object_add(o, "dct:type", DcatNode(&agent->type));
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
	{
		PubdataDcatNode freq = {d->frequency_iri, "dct:Frequency", NULL, NULL, NULL};

		json_object_object_add(o, "dct:accrualPeriodicity", DcatNode(&freq));
	}
	if (d->issued)
		json_object_object_add(o, "dct:issued", DcatTyped(d->issued, "xsd:dateTime"));
	if (d->spatial.iri)
		json_object_object_add(o, "dct:spatial", DcatNode(&d->spatial));
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

	if (d->nkeywords > 0)
	{
		kw = json_object_new_array();
		if (kw != NULL)
			for (i = 0; i < d->nkeywords; i++)
				json_object_array_add(kw, DcatLiteral(d->keywords[i], lang));
		json_object_object_add(o, "dcat:keyword", kw);
	}

	if (d->theme_eu.iri || d->theme_own.iri)
	{
		struct json_object *themes = json_object_new_array();

		if (themes != NULL)
		{
			if (d->theme_eu.iri)
				json_object_array_add(themes, DcatNode(&d->theme_eu));
			if (d->theme_own.iri)
				json_object_array_add(themes, DcatNode(&d->theme_own));
		}
		json_object_object_add(o, "dcat:theme", themes);
	}
	json_object_object_add(o, "pubdata:highValue", json_object_new_boolean(d->high_value));
	json_object_object_add(o, "pubdata:openClass", DcatString(d->open_class));

	dist = json_object_new_object();
	if (dist != NULL)
	{
		json_object_object_add(dist, "@type", json_object_new_string("dcat:Distribution"));
		json_object_object_add(dist, "dcat:accessURL", DcatIri(d->access_url));
		json_object_object_add(dist, "dct:title", DcatString(d->access_view));
		json_object_object_add(dist, "dct:description", DcatLiteral(d->access_description, lang));
		{
			PubdataDcatNode format = {"http://publications.europa.eu/resource/authority/file-type/SQL",
			"dct:MediaTypeOrExtent", "SQL", "en", NULL};
			PubdataDcatNode availability = {"http://data.europa.eu/r5r/availability/STABLE",
			"skos:Concept", "stable", "en", NULL};

			json_object_object_add(dist, "dct:format", DcatNode(&format));
			json_object_object_add(dist, "dcatap:availability", DcatNode(&availability));
		}
		if (d->license.iri)
			json_object_object_add(dist, "dct:license", DcatNode(&d->license));
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
 * pubdata knows are added (frequency, issued, modified, spatial, contact
 * point, keywords, themes and their taxonomies, publisher type, format,
 * availability, and the licence and home page when the bureau set them).
 * Values of a controlled vocabulary are IRIs typed with the class DCAT-AP's
 * range shapes ask for.  Strings are copied by json-c and nothing here raises an error
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
	{
		PubdataDcatNode lang = {catalog->language_iri, "dct:LinguisticSystem", NULL, NULL, NULL};

		json_object_object_add(root, "dct:language", DcatNode(&lang));
	}
	if (catalog->issued)
		json_object_object_add(root, "dct:issued", DcatTyped(catalog->issued, "xsd:dateTime"));
	if (catalog->modified)
		json_object_object_add(root, "dct:modified", DcatTyped(catalog->modified, "xsd:dateTime"));
	if (catalog->spatial.iri)
		json_object_object_add(root, "dct:spatial", DcatNode(&catalog->spatial));
	if (catalog->license.iri)
		json_object_object_add(root, "dct:license", DcatNode(&catalog->license));
	if (catalog->homepage.iri)
		json_object_object_add(root, "foaf:homepage", DcatNode(&catalog->homepage));
	list = json_object_new_array();
	if (list != NULL)
	{
		json_object_array_add(list, DcatNode(&catalog->taxonomy_eu));
		json_object_array_add(list, DcatNode(&catalog->taxonomy_own));
		for (i = 0; i < catalog->ntaxonomy_cities; i++)
			json_object_array_add(list, DcatNode(&catalog->taxonomy_cities[i]));
	}
	json_object_object_add(root, "dcat:themeTaxonomy", list);

	list = json_object_new_array();
	if (list != NULL)
		for (i = 0; i < ndatasets; i++)
			json_object_array_add(list, DcatDataset(&datasets[i], catalog->language));
	json_object_object_add(root, "dcat:dataset", list);

	return JsonToPalloc(root);
}

/* ==== end section: open data ==== */

/* ==== section: lineage (OpenLineage run events), module lineage.c ==== */

#define OL_SCHEMA_URL "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
#define OL_JOBTYPE_URL "https://openlineage.io/spec/facets/2-0-2/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
#define OL_OWNERSHIP_URL "https://openlineage.io/spec/facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet"

/*
 * ol_add
 *		Add value under key; on failure (value NULL or add failed) free the
 *		value and clear *ok.  A NULL object (an earlier failure) is ignored.
 */
static void
ol_add(json_object *obj, const char *key, json_object *value, int *ok)
{
	if (obj == NULL || value == NULL || json_object_object_add(obj, key, value) != 0)
	{
		if (value != NULL)
			json_object_put(value);
		*ok = 0;
	}
}

/*
 * ol_add_string
 *		Add a string member when the string is not NULL.
 */
static void
ol_add_string(json_object *obj, const char *key, const char *value, int *ok)
{
	if (value != NULL)
		ol_add(obj, key, json_object_new_string(value), ok);
}

/*
 * ol_add_nullable
 *		Add a string member, or JSON null when the string is NULL.
 */
static void
ol_add_nullable(json_object *obj, const char *key, const char *value, int *ok)
{
	if (value != NULL)
		ol_add(obj, key, json_object_new_string(value), ok);
	else if (obj == NULL || json_object_object_add(obj, key, NULL) != 0)
		*ok = 0;
}

/*
 * ol_facet
 *		A new facet object with the _producer and _schemaURL every
 *		OpenLineage facet carries.
 */
static json_object *
ol_facet(const char *producer, const char *schema_url, int *ok)
{
	json_object *facet = json_object_new_object();

	if (facet == NULL)
	{
		*ok = 0;
		return NULL;
	}
	ol_add_string(facet, "_producer", producer, ok);
	ol_add_string(facet, "_schemaURL", schema_url, ok);
	return facet;
}

/*
 * ol_custom_url
 *		malloc'd schema URL of one of pubdata's own facets:
 *		<base><Facet>-1-0-0.json#/$defs/<Facet>, the schema shipped in the
 *		repository as spec/openlineage/<Facet>-1-0-0.json.  Facet names
 *		follow the spec's {Prefix}{Name}{Entity}Facet.
 */
static char *
ol_custom_url(const char *base, const char *facet)
{
	size_t		len = strlen(base) + 2 * strlen(facet) + 32;
	char	   *url = malloc(len);

	if (url != NULL)
		snprintf(url, len, "%s%s-1-0-0.json#/$defs/%s", base, facet, facet);
	return url;
}

/*
 * ol_dataset
 *		One dataset: namespace, name and facets (pubdata_resource always,
 *		pubdata_lineage for inputs, ownership for the output).
 */
static json_object *
ol_dataset(const PubdataOlDataset *ds, const char *producer, const char *base,
		   int is_output, int *ok)
{
	json_object *obj = json_object_new_object();
	json_object *facets = json_object_new_object();
	json_object *facet;
	char	   *url;

	ol_add_string(obj, "namespace", ds->ns, ok);
	ol_add_string(obj, "name", ds->name, ok);

	url = ol_custom_url(base, "PubdataResourceDatasetFacet");
	facet = ol_facet(producer, url, ok);
	free(url);
	ol_add_nullable(facet, "resource", ds->resource, ok);
	ol_add_nullable(facet, "department", ds->department, ok);
	ol_add(facets, "pubdata_resource", facet, ok);

	if (!is_output)
	{
		url = ol_custom_url(base, "PubdataLineageDatasetFacet");
		facet = ol_facet(producer, url, ok);
		free(url);
		if (ds->kinds != NULL && facet != NULL)
		{
			json_object *kinds = json_object_new_array();
			const char *p = ds->kinds;

			while (kinds != NULL && *p != '\0')
			{
				const char *comma = strchr(p, ',');
				size_t		len = comma ? (size_t) (comma - p) : strlen(p);

				if (len > 0)
				{
					json_object *k = json_object_new_string_len(p, (int) len);

					if (k == NULL || json_object_array_add(kinds, k) != 0)
					{
						if (k != NULL)
							json_object_put(k);
						*ok = 0;
					}
				}
				p += len;
				if (*p == ',')
					p++;
			}
			ol_add(facet, "kinds", kinds, ok);
		}
		if (ds->count >= 0)
			ol_add(facet, "count", json_object_new_int64(ds->count), ok);
		ol_add_string(facet, "firstSeen", ds->first_seen, ok);
		ol_add_string(facet, "lastSeen", ds->last_seen, ok);
		ol_add(facets, "pubdata_lineage", facet, ok);
	}
	else if (ds->department != NULL)
	{
		json_object *owners = json_object_new_array();
		json_object *owner = json_object_new_object();
		size_t		len = strlen(ds->department) + 16;
		char	   *name = malloc(len);

		facet = ol_facet(producer, OL_OWNERSHIP_URL, ok);
		if (name != NULL)
		{
			strcpy(name, "department:");
			strcat(name, ds->department);
		}
		else
			*ok = 0;
		ol_add_string(owner, "name", name, ok);
		free(name);
		ol_add_string(owner, "type", "department", ok);
		if (owners == NULL || owner == NULL || json_object_array_add(owners, owner) != 0)
		{
			if (owner != NULL)
				json_object_put(owner);
			*ok = 0;
		}
		ol_add(facet, "owners", owners, ok);
		ol_add(facets, "ownership", facet, ok);
	}

	ol_add(obj, "facets", facets, ok);
	return obj;
}

/*
 * pubdata_json_openlineage
 *		An OpenLineage RunEvent (spec 2-0-2): eventType, eventTime, producer,
 *		schemaURL, run (runId, facets), job (namespace, name, jobType facet),
 *		inputs and outputs with namespace, name and facets; palloc'd text.
 *		Helper strings are malloc'd and freed here; the tree is put on every
 *		path.
 */
char *
pubdata_json_openlineage(const PubdataOlEvent *ev)
{
	int			ok = 1;
	json_object *root = json_object_new_object();
	json_object *run = json_object_new_object();
	json_object *run_facets = json_object_new_object();
	json_object *job = json_object_new_object();
	json_object *job_facets = json_object_new_object();
	json_object *inputs = json_object_new_array();
	json_object *outputs = json_object_new_array();
	json_object *facet;
	char	   *url;
	int			i;

	ol_add_string(root, "eventType", ev->event_type, &ok);
	ol_add_string(root, "eventTime", ev->event_time, &ok);
	ol_add_string(root, "producer", ev->producer, &ok);
	ol_add_string(root, "schemaURL", OL_SCHEMA_URL, &ok);

	ol_add_string(run, "runId", ev->run_id, &ok);
	if (ev->aggregation_run >= 0)
	{
		url = ol_custom_url(ev->schema_base, "PubdataAggregationRunFacet");
		facet = ol_facet(ev->producer, url, &ok);
		free(url);
		ol_add(facet, "jobRunId", json_object_new_int64(ev->aggregation_run), &ok);
		ol_add(run_facets, "pubdata_aggregation", facet, &ok);
	}
	if (ev->hidden_inputs > 0)
	{
		url = ol_custom_url(ev->schema_base, "PubdataVisibilityRunFacet");
		facet = ol_facet(ev->producer, url, &ok);
		free(url);
		ol_add(facet, "hiddenInputs", json_object_new_int(ev->hidden_inputs), &ok);
		ol_add(run_facets, "pubdata_visibility", facet, &ok);
	}
	ol_add(run, "facets", run_facets, &ok);
	ol_add(root, "run", run, &ok);

	ol_add_string(job, "namespace", ev->job_namespace, &ok);
	ol_add_string(job, "name", ev->job_name, &ok);
	facet = ol_facet(ev->producer, OL_JOBTYPE_URL, &ok);
	ol_add_string(facet, "processingType", "BATCH", &ok);
	ol_add_string(facet, "integration", "POSTGRESQL", &ok);
	ol_add_string(facet, "jobType", ev->aggregation_run >= 0 ? "AGGREGATION" : "QUERY", &ok);
	ol_add(job_facets, "jobType", facet, &ok);
	ol_add(job, "facets", job_facets, &ok);
	ol_add(root, "job", job, &ok);

	for (i = 0; i < ev->ninputs; i++)
	{
		json_object *ds = ol_dataset(&ev->inputs[i], ev->producer, ev->schema_base, 0, &ok);

		if (ds == NULL || inputs == NULL || json_object_array_add(inputs, ds) != 0)
		{
			if (ds != NULL)
				json_object_put(ds);
			ok = 0;
		}
	}
	ol_add(root, "inputs", inputs, &ok);

	{
		json_object *ds = ol_dataset(&ev->output, ev->producer, ev->schema_base, 1, &ok);

		if (ds == NULL || outputs == NULL || json_object_array_add(outputs, ds) != 0)
		{
			if (ds != NULL)
				json_object_put(ds);
			ok = 0;
		}
	}
	ol_add(root, "outputs", outputs, &ok);

	if (!ok || root == NULL)
	{
		if (root != NULL)
			json_object_put(root);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory building an OpenLineage document")));
	}
	return JsonToPalloc(root);
}

/* ==== end section: lineage ==== */
