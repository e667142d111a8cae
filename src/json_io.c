/*-------------------------------------------------------------------------
 *
 * json_io.c
 *	  Every use of libjson-c in pubdata.  This file includes no PostgreSQL
 *	  header: json-c's json_object clashes with fmgrprotos.h.  Builders take
 *	  plain C strings and return malloc'd JSON text; callers pass it to the
 *	  jsonb input function and free() it.  json-c allocates with malloc, so
 *	  every path puts the root object, errors included.
 *
 *	  One section per feature; keep them apart.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json_io.h"

/* ==== Lineage: OpenLineage run events ================================== */

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
 *		malloc'd schema URL of one of pubdata's own facets.
 */
static char *
ol_custom_url(const char *producer, const char *facet)
{
	size_t		len = strlen(producer) + strlen(facet) + 32;
	char	   *url = malloc(len);

	if (url != NULL)
	{
		strcpy(url, producer);
		strcat(url, "#/facets/");
		strcat(url, facet);
	}
	return url;
}

/*
 * ol_dataset
 *		One dataset: namespace, name and facets (pubdata_resource always,
 *		pubdata_lineage for inputs, ownership for the output).
 */
static json_object *
ol_dataset(const PdOlDataset *ds, const char *producer, int is_output, int *ok)
{
	json_object *obj = json_object_new_object();
	json_object *facets = json_object_new_object();
	json_object *facet;
	char	   *url;

	ol_add_string(obj, "namespace", ds->ns, ok);
	ol_add_string(obj, "name", ds->name, ok);

	url = ol_custom_url(producer, "PubdataResourceFacet");
	facet = ol_facet(producer, url, ok);
	free(url);
	ol_add_nullable(facet, "resource", ds->resource, ok);
	ol_add_nullable(facet, "department", ds->department, ok);
	ol_add(facets, "pubdata_resource", facet, ok);

	if (!is_output)
	{
		url = ol_custom_url(producer, "PubdataLineageFacet");
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
 * pd_json_openlineage
 *		An OpenLineage RunEvent (spec 2-0-2): eventType, eventTime, producer,
 *		schemaURL, run (runId, facets), job (namespace, name, jobType facet),
 *		inputs and outputs with namespace, name and facets.
 */
char *
pd_json_openlineage(const PdOlEvent *ev)
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
	char	   *text = NULL;
	int			i;

	ol_add_string(root, "eventType", ev->event_type, &ok);
	ol_add_string(root, "eventTime", ev->event_time, &ok);
	ol_add_string(root, "producer", ev->producer, &ok);
	ol_add_string(root, "schemaURL", OL_SCHEMA_URL, &ok);

	ol_add_string(run, "runId", ev->run_id, &ok);
	if (ev->aggregation_run >= 0)
	{
		url = ol_custom_url(ev->producer, "PubdataAggregationRunFacet");
		facet = ol_facet(ev->producer, url, &ok);
		free(url);
		ol_add(facet, "jobRunId", json_object_new_int64(ev->aggregation_run), &ok);
		ol_add(run_facets, "pubdata_aggregation", facet, &ok);
	}
	if (ev->hidden_inputs > 0)
	{
		url = ol_custom_url(ev->producer, "PubdataVisibilityFacet");
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
		json_object *ds = ol_dataset(&ev->inputs[i], ev->producer, 0, &ok);

		if (ds == NULL || inputs == NULL || json_object_array_add(inputs, ds) != 0)
		{
			if (ds != NULL)
				json_object_put(ds);
			ok = 0;
		}
	}
	ol_add(root, "inputs", inputs, &ok);

	{
		json_object *ds = ol_dataset(&ev->output, ev->producer, 1, &ok);

		if (ds == NULL || outputs == NULL || json_object_array_add(outputs, ds) != 0)
		{
			if (ds != NULL)
				json_object_put(ds);
			ok = 0;
		}
	}
	ol_add(root, "outputs", outputs, &ok);

	if (ok && root != NULL)
	{
		const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);

		if (s != NULL)
			text = strdup(s);
	}
	if (root != NULL)
		json_object_put(root);
	return text;
}

/* ==== end of Lineage section ============================================ */
