/*-------------------------------------------------------------------------
 *
 * json_io.h
 *	  pubdata's only use of libjson-c: builders that take plain C strings and
 *	  return a malloc'd JSON text (the caller copies it and calls free()).
 *
 * json_io.c includes no PostgreSQL header that declares json_object
 * (utils/builtins.h, fmgrprotos.h); callers convert the text to jsonb on the
 * PostgreSQL side.  Each feature has its own section below.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_JSON_IO_H
#define PUBDATA_JSON_IO_H

/* ---- Lineage: OpenLineage run events ---------------------------------- */

/* One dataset of an OpenLineage event (an input or the output). */
typedef struct PdOlDataset
{
	const char *ns;				/* dataset namespace, e.g. postgres://host:5432 */
	const char *name;			/* database.schema.table */
	const char *resource;		/* pubdata resource code, or NULL */
	const char *department;		/* providing / owning department code, or NULL */
	const char *kinds;			/* inputs: comma-separated edge kinds, or NULL */
	long long	count;			/* inputs: statements seen; < 0 when absent */
	const char *first_seen;		/* inputs: ISO 8601, or NULL */
	const char *last_seen;
} PdOlDataset;

/* An OpenLineage RunEvent for the edges that produce one table. */
typedef struct PdOlEvent
{
	const char *event_type;		/* COMPLETE */
	const char *event_time;		/* ISO 8601 */
	const char *run_id;			/* UUID */
	const char *producer;		/* URI of the producer */
	const char *job_namespace;
	const char *job_name;
	long long	aggregation_run;	/* pubdata job run id; < 0 when none */
	int			hidden_inputs;	/* inputs the caller may not see, left out */
	PdOlDataset output;
	int			ninputs;
	const PdOlDataset *inputs;
} PdOlEvent;

/* malloc'd JSON text of the event, or NULL when out of memory */
extern char *pd_json_openlineage(const PdOlEvent *ev);

#endif							/* PUBDATA_JSON_IO_H */
