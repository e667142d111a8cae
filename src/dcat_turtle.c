/*-------------------------------------------------------------------------
 *
 * dcat_turtle.c
 *	  The DCAT-AP 3 catalog as Turtle (text/turtle), the format catalogue
 *	  harvesters read most (issue 12).
 *
 * The same catalog and datasets as json_io.c's JSON-LD (open.c fills the
 * structures once), written as the same RDF graph: every triple the JSON-LD
 * expands to, and no other (test/shell/82_conformance.sh checks that the two
 * graphs are isomorphic and validates this one with the DCAT-AP 3.0.1
 * shapes).  Nodes with an IRI (themes, vocabularies' concepts, locations,
 * agents, licences) are described once each, after the datasets; nodes
 * without one (the catalog's publisher, contact points, distributions) are
 * blank node property lists.  Literals are escaped as Turtle's
 * STRING_LITERAL_QUOTE requires and IRIs as IRIREF does, whatever the
 * catalog holds; UTF-8 text is kept as it is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "json_io.h"

/* The graph being written, and the IRI nodes still to describe */
typedef struct Turtle
{
	StringInfoData buf;
	List	   *nodes;			/* PubdataDcatNode *, described at the end */
	List	   *agents;			/* PubdataDcatAgent * with an IRI */
	const char *lang;
} Turtle;

/*
 * Literal
 *		A string literal, "..." with its language tag or datatype.
 */
static void
Literal(StringInfo buf, const char *s, const char *lang, const char *datatype)
{
	const unsigned char *p;

	appendStringInfoChar(buf, '"');
	for (p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					appendStringInfo(buf, "\\u%04X", *p);
				else
					appendStringInfoChar(buf, (char) *p);
		}
	}
	appendStringInfoChar(buf, '"');
	if (lang)
		appendStringInfo(buf, "@%s", lang);
	else if (datatype)
		appendStringInfo(buf, "^^%s", datatype);
}

/*
 * Iri
 *		<iri>, with the characters IRIREF excludes written as \uXXXX.
 */
static void
Iri(StringInfo buf, const char *iri)
{
	const unsigned char *p;

	appendStringInfoChar(buf, '<');
	for (p = (const unsigned char *) iri; *p; p++)
	{
		if (*p <= 0x20 || strchr("<>\"{}|^`\\", *p) != NULL)
			appendStringInfo(buf, "\\u%04X", *p);
		else
			appendStringInfoChar(buf, (char) *p);
	}
	appendStringInfoChar(buf, '>');
}

/* "property value" pairs of one subject, separated by " ;" */
static void
Property(Turtle *t, int indent, const char *property)
{
	appendStringInfoString(&t->buf, " ;\n");
	appendStringInfoSpaces(&t->buf, indent);
	appendStringInfoString(&t->buf, property);
	appendStringInfoChar(&t->buf, ' ');
}

static void
PropertyLiteral(Turtle *t, int indent, const char *property, const char *s, const char *lang)
{
	if (s == NULL)
		return;
	Property(t, indent, property);
	Literal(&t->buf, s, lang, NULL);
}

static void
PropertyTyped(Turtle *t, int indent, const char *property, const char *s, const char *datatype)
{
	if (s == NULL)
		return;
	Property(t, indent, property);
	Literal(&t->buf, s, NULL, datatype);
}

/*
 * PropertyNode
 *		property <iri>, the node to be described once at the end.
 */
static void
PropertyNode(Turtle *t, int indent, const char *property, const PubdataDcatNode *node)
{
	if (node->iri == NULL)
		return;
	Property(t, indent, property);
	Iri(&t->buf, node->iri);
	t->nodes = lappend(t->nodes, (void *) node);
}

/*
 * Agent
 *		A foaf:Agent: <iri> (described at the end) or a blank node.
 */
static void
Agent(Turtle *t, int indent, const PubdataDcatAgent *agent)
{
	Property(t, indent, "dct:publisher");
	if (agent->iri)
	{
		Iri(&t->buf, agent->iri);
		t->agents = lappend(t->agents, (void *) agent);
		return;
	}
	appendStringInfoString(&t->buf, "[ a foaf:Agent");
	PropertyLiteral(t, indent + 4, "foaf:name", agent->name ? agent->name : "", t->lang);
	PropertyNode(t, indent + 4, "dct:type", &agent->type);
	appendStringInfoString(&t->buf, " ]");
}

/*
 * Dataset
 *		A dcat:Dataset with its contact point and its distribution.
 */
static void
Dataset(Turtle *t, const PubdataDcatDataset *d)
{
	StringInfo	buf = &t->buf;
	int			i;

	appendStringInfoChar(buf, '\n');
	Iri(buf, d->iri);
	appendStringInfoString(buf, " a dcat:Dataset");
	PropertyLiteral(t, 4, "dct:identifier", d->identifier, NULL);
	PropertyLiteral(t, 4, "dct:title", d->title ? d->title : "", t->lang);
	PropertyLiteral(t, 4, "dct:description", d->description ? d->description : (d->title ? d->title : ""), t->lang);
	Agent(t, 4, &d->publisher);
	if (d->frequency_iri)
	{
		PubdataDcatNode *freq = palloc0(sizeof(PubdataDcatNode));

		freq->iri = d->frequency_iri;
		freq->type = "dct:Frequency";
		PropertyNode(t, 4, "dct:accrualPeriodicity", freq);
	}
	PropertyTyped(t, 4, "dct:issued", d->issued, "xsd:dateTime");
	PropertyNode(t, 4, "dct:spatial", &d->spatial);
	PropertyTyped(t, 4, "dct:modified", d->modified, "xsd:dateTime");

	Property(t, 4, "dcat:contactPoint");
	appendStringInfoString(buf, "[ a vcard:Organization");
	PropertyLiteral(t, 8, "vcard:fn", d->contact_name ? d->contact_name : "", t->lang);
	PropertyLiteral(t, 8, "vcard:note", d->contact_info, t->lang);
	appendStringInfoString(buf, " ]");

	for (i = 0; i < d->nkeywords; i++)
		PropertyLiteral(t, 4, "dcat:keyword", d->keywords[i], t->lang);
	PropertyNode(t, 4, "dcat:theme", &d->theme_eu);
	PropertyNode(t, 4, "dcat:theme", &d->theme_own);
	Property(t, 4, "pubdata:highValue");
	appendStringInfoString(buf, d->high_value ? "true" : "false");
	PropertyLiteral(t, 4, "pubdata:openClass", d->open_class, NULL);

	Property(t, 4, "dcat:distribution");
	appendStringInfoString(buf, "[ a dcat:Distribution");
	if (d->access_url)
	{
		Property(t, 8, "dcat:accessURL");
		Iri(buf, d->access_url);
	}
	PropertyLiteral(t, 8, "dct:title", d->access_view, NULL);
	PropertyLiteral(t, 8, "dct:description", d->access_description, t->lang);
	{
		static const PubdataDcatNode format = {"http://publications.europa.eu/resource/authority/file-type/SQL",
		"dct:MediaTypeOrExtent", "SQL", "en", NULL};
		static const PubdataDcatNode availability = {"http://data.europa.eu/r5r/availability/STABLE",
		"skos:Concept", "stable", "en", NULL};

		PropertyNode(t, 8, "dct:format", &format);
		PropertyNode(t, 8, "dcatap:availability", &availability);
	}
	PropertyNode(t, 8, "dct:license", &d->license);
	PropertyLiteral(t, 8, "pubdata:view", d->access_view, NULL);
	appendStringInfoString(buf, " ] .\n");
}

/*
 * Described
 *		Has a node with this IRI been written already?
 */
static bool
Described(List *done, const char *iri)
{
	ListCell   *lc;

	foreach(lc, done)
		if (strcmp((const char *) lfirst(lc), iri) == 0)
			return true;
	return false;
}

/*
 * Nodes
 *		Each IRI node once: its type, label (skos:prefLabel for concepts and
 *		locations, dct:title otherwise, as in the JSON-LD) and scheme; each
 *		agent with its name and type.
 */
static void
Nodes(Turtle *t)
{
	List	   *done = NIL;
	ListCell   *lc;

	foreach(lc, t->agents)
	{
		const PubdataDcatAgent *a = lfirst(lc);

		if (Described(done, a->iri))
			continue;
		done = lappend(done, (void *) a->iri);
		appendStringInfoChar(&t->buf, '\n');
		Iri(&t->buf, a->iri);
		appendStringInfoString(&t->buf, " a foaf:Agent");
		PropertyLiteral(t, 4, "foaf:name", a->name ? a->name : "", t->lang);
		PropertyNode(t, 4, "dct:type", &a->type);
		appendStringInfoString(&t->buf, " .\n");
	}
	/* PropertyNode above may add nodes: the list is read to its end */
	foreach(lc, t->nodes)
	{
		const PubdataDcatNode *n = lfirst(lc);
		bool		concept;

		if (Described(done, n->iri))
			continue;
		done = lappend(done, (void *) n->iri);
		if (n->type == NULL && n->label == NULL && n->scheme == NULL)
			continue;
		appendStringInfoChar(&t->buf, '\n');
		Iri(&t->buf, n->iri);
		if (n->type)
			appendStringInfo(&t->buf, " a %s", n->type);
		concept = n->type && (strcmp(n->type, "skos:Concept") == 0 || strcmp(n->type, "dct:Location") == 0);
		PropertyLiteral(t, 4, concept ? "skos:prefLabel" : "dct:title", n->label, n->label_lang);
		if (n->scheme)
		{
			Property(t, 4, "skos:inScheme");
			Iri(&t->buf, n->scheme);
		}
		appendStringInfoString(&t->buf, " .\n");
	}
}

/*
 * pubdata_turtle_dcat
 *		See json_io.h.
 */
char *
pubdata_turtle_dcat(const PubdataDcatCatalog *catalog,
					const PubdataDcatDataset *datasets, int ndatasets)
{
	Turtle		t;
	StringInfo	buf = &t.buf;
	int			i;

	memset(&t, 0, sizeof(t));
	initStringInfo(buf);
	t.lang = catalog->language;
	appendStringInfoString(buf,
						   "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n"
						   "@prefix dct: <http://purl.org/dc/terms/> .\n"
						   "@prefix dcatap: <http://data.europa.eu/r5r/> .\n"
						   "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
						   "@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .\n"
						   "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
						   "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
						   "@prefix pubdata: <urn:pubdata:vocab#> .\n\n");

	Iri(buf, catalog->iri);
	appendStringInfoString(buf, " a dcat:Catalog");
	PropertyLiteral(&t, 4, "dct:title", catalog->title ? catalog->title : "", t.lang);
	PropertyLiteral(&t, 4, "dct:description", catalog->description ? catalog->description : "", t.lang);
	Agent(&t, 4, &catalog->publisher);
	if (catalog->language_iri)
	{
		PubdataDcatNode *lang = palloc0(sizeof(PubdataDcatNode));

		lang->iri = catalog->language_iri;
		lang->type = "dct:LinguisticSystem";
		PropertyNode(&t, 4, "dct:language", lang);
	}
	PropertyTyped(&t, 4, "dct:issued", catalog->issued, "xsd:dateTime");
	PropertyTyped(&t, 4, "dct:modified", catalog->modified, "xsd:dateTime");
	PropertyNode(&t, 4, "dct:spatial", &catalog->spatial);
	PropertyNode(&t, 4, "dct:license", &catalog->license);
	PropertyNode(&t, 4, "foaf:homepage", &catalog->homepage);
	PropertyNode(&t, 4, "dcat:themeTaxonomy", &catalog->taxonomy_eu);
	PropertyNode(&t, 4, "dcat:themeTaxonomy", &catalog->taxonomy_own);
	for (i = 0; i < catalog->ntaxonomy_cities; i++)
		PropertyNode(&t, 4, "dcat:themeTaxonomy", &catalog->taxonomy_cities[i]);
	for (i = 0; i < ndatasets; i++)
	{
		Property(&t, 4, "dcat:dataset");
		Iri(buf, datasets[i].iri);
	}
	appendStringInfoString(buf, " .\n");

	for (i = 0; i < ndatasets; i++)
		Dataset(&t, &datasets[i]);
	Nodes(&t);
	return buf->data;
}
