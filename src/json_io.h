/*-------------------------------------------------------------------------
 *
 * json_io.h
 *	  All of pubdata's libjson-c use, behind plain C interfaces.
 *
 * json-c's json_object type clashes with PostgreSQL's json_object() in
 * utils/fmgrprotos.h, so json-c is confined to json_io.c, which includes
 * neither utils/builtins.h nor fmgrprotos.h.  Callers pass plain C strings
 * and get back a palloc'd JSON text, which they turn into jsonb.
 *
 * Each module that needs JSON has its own section here and in json_io.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_JSON_IO_H
#define PUBDATA_JSON_IO_H

#include "postgres.h"

/* ==== section: open data (DCAT-AP 3 catalog export), module open.c ==== */

/*
 * A node with an IRI, its rdf:type and a label: a concept of a vocabulary
 * (theme, publisher type, availability), a location, a licence, a page.
 * Left out of the document when iri is NULL.
 */
typedef struct PubdataDcatNode
{
	const char *iri;
	const char *type;			/* e.g. "skos:Concept", "dct:Location" */
	const char *label;			/* skos:prefLabel (or dct:title), may be NULL */
	const char *label_lang;		/* BCP 47 tag of the label */
	const char *scheme;			/* skos:inScheme, may be NULL */
} PubdataDcatNode;

/* An agent (foaf:Agent): a publisher */
typedef struct PubdataDcatAgent
{
	const char *iri;			/* may be NULL: blank node */
	const char *name;			/* foaf:name, mandatory */
	PubdataDcatNode type;		/* dct:type, ADMS publisher type */
} PubdataDcatAgent;

/* A dataset with its single distribution (the open view) */
typedef struct PubdataDcatDataset
{
	const char *iri;			/* dataset IRI */
	const char *identifier;		/* dct:identifier (resource code) */
	const char *title;			/* dct:title, mandatory */
	const char *description;	/* dct:description, mandatory (title if none) */
	PubdataDcatAgent publisher;
	PubdataDcatNode theme_eu;	/* dcat:theme, EU data-theme concept */
	PubdataDcatNode theme_own;	/* dcat:theme, the category in pubdata's scheme */
	const char *const *keywords;	/* dcat:keyword (none: left out) */
	int			nkeywords;
	const char *frequency_iri;	/* dct:accrualPeriodicity, EU frequency NAL */
	const char *issued;			/* dct:issued, xsd:dateTime text, may be NULL */
	const char *modified;		/* dct:modified, xsd:dateTime text */
	PubdataDcatNode spatial;	/* dct:spatial, the division */
	const char *contact_name;	/* dcat:contactPoint vcard:fn */
	const char *contact_info;	/* vcard:note, may be NULL */
	const char *access_url;		/* distribution dcat:accessURL */
	const char *access_view;	/* the view to query */
	const char *access_description; /* distribution dct:description */
	PubdataDcatNode license;	/* distribution dct:license, may be absent */
	const char *open_class;		/* open / conditional */
	bool		high_value;		/* Art 21 */
} PubdataDcatDataset;

/* The catalog */
typedef struct PubdataDcatCatalog
{
	const char *iri;
	const char *title;			/* mandatory */
	const char *description;	/* mandatory */
	PubdataDcatAgent publisher; /* mandatory */
	const char *language;		/* BCP 47 tag of the literals, e.g. "zh" */
	const char *language_iri;	/* dct:language, EU language NAL, may be NULL */
	const char *issued;			/* may be NULL */
	const char *modified;		/* may be NULL */
	PubdataDcatNode spatial;	/* the city */
	PubdataDcatNode license;	/* may be absent */
	PubdataDcatNode homepage;	/* may be absent */
	PubdataDcatNode taxonomy_eu;	/* dcat:themeTaxonomy: the EU data themes */
	PubdataDcatNode taxonomy_own;	/* and pubdata's own category scheme */
	const PubdataDcatNode *taxonomy_cities; /* at the province: other cities'
											 * category schemes */
	int			ntaxonomy_cities;
} PubdataDcatCatalog;

/*
 * DCAT-AP 3 JSON-LD document for a catalog and its datasets, as a palloc'd
 * NUL-terminated UTF-8 string (valid JSON for any input strings).
 */
extern char *pubdata_json_dcat(const PubdataDcatCatalog *catalog,
							   const PubdataDcatDataset *datasets, int ndatasets);

/*
 * The same catalog as a DCAT-AP 3 Turtle document (the same graph), written
 * by dcat_turtle.c without json-c; a palloc'd UTF-8 string.
 */
extern char *pubdata_turtle_dcat(const PubdataDcatCatalog *catalog,
								 const PubdataDcatDataset *datasets, int ndatasets);

/* ==== end section: open data ==== */

/* ==== section: lineage (OpenLineage run events), module lineage.c ==== */

/* One dataset of an OpenLineage event (an input or the output). */
typedef struct PubdataOlDataset
{
	const char *ns;				/* dataset namespace, e.g. postgres://host:5432 */
	const char *name;			/* database.schema.table */
	const char *resource;		/* pubdata resource code, or NULL */
	const char *department;		/* providing / owning department code, or NULL */
	const char *kinds;			/* inputs: comma-separated edge kinds, or NULL */
	long long	count;			/* inputs: statements seen; < 0 when absent */
	const char *first_seen;		/* inputs: ISO 8601, or NULL */
	const char *last_seen;
} PubdataOlDataset;

/* An OpenLineage RunEvent for the edges that produce one table. */
typedef struct PubdataOlEvent
{
	const char *event_type;		/* COMPLETE */
	const char *event_time;		/* ISO 8601 */
	const char *run_id;			/* UUID */
	const char *producer;		/* URI of the producer */
	const char *schema_base;	/* URL base of pubdata's facet schemas */
	const char *job_namespace;
	const char *job_name;
	long long	aggregation_run;	/* pubdata job run id; < 0 when none */
	int			hidden_inputs;	/* inputs the caller may not see, left out */
	PubdataOlDataset output;
	int			ninputs;
	const PubdataOlDataset *inputs;
} PubdataOlEvent;

/* OpenLineage RunEvent as a palloc'd JSON text */
extern char *pubdata_json_openlineage(const PubdataOlEvent *ev);

/* ==== end section: lineage ==== */

#endif							/* PUBDATA_JSON_IO_H */
