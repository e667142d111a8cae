/*-------------------------------------------------------------------------
 *
 * quality.c
 *	  Quality rules evaluated where the data lives (Art 15; GB/T 36344):
 *	  the module's settings and its map.
 *
 * pubdata.measure_quality(resource) calls pubdata._quality_scan(resource),
 * which evaluates every rule of a resource in ONE pass over its rows:
 *
 *	- a table or materialized view is read through the table access method
 *	  (so row-level security does not hide rows from the measurement), by
 *	  several processes when it is large (quality_parallel.c);
 *	- a partitioned table is read leaf by leaf in partition order, as one
 *	  resource: a unique key is unique across all partitions, and every rule
 *	  also gets its result per partition;
 *	- a view is read by a query, as the view's owner (nothing in it runs with
 *	  more rights than the department that owns it).
 *
 * The rules (quality_rules.c compiles them, quality_row.c evaluates them):
 *
 *	- not_null, pattern, range, allowed_values, id_card, uscc, mobile,
 *	  date_not_future: checked on each row;
 *	- custom: a boolean expression over the row, parsed and planned like a
 *	  CHECK constraint and evaluated by the executor on the row;
 *	- reference: the referenced column is read once into a set of 64-bit
 *	  hashes of its values (quality_reference.c);
 *	- unique: a key of one integer, date or timestamp column within the
 *	  range its statistics give is counted by direct address in an array
 *	  (the window); any other key by a 64-bit hash in memory within the
 *	  measurement's memory budget, and beyond it in batches partitioned by
 *	  hash and spilled to temporary files (quality_unique.c);
 *	- freshness: the newest value of its column.
 *
 * Everything that reads a department's relation or runs its code runs as
 * that relation's owner in a security-restricted operation (identity.c).
 * pubdata.quality_check_trigger() applies the row rules to a row being
 * written (quality_trigger.c).
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "quality.h"
#include "quality_int.h"

#include "miscadmin.h"
#include "utils/guc.h"

/* GUC: failing rows kept per rule and run */
int			quality_sample_rows = 10;

/* GUC: memory a measurement may use, in kB; -1: maintenance_work_mem */
static int	quality_mem = -1;

const char *const quality_kind_names[] = {
	"not_null", "unique", "pattern", "range", "allowed_values", "id_card",
	"uscc", "mobile", "date_not_future", "reference", "freshness", "custom", NULL
};

/*
 * check_quality_mem
 *		-1, or at least 64 kB (as maintenance_work_mem's own minimum is 1 MB,
 *		a smaller budget is only good for tests of the spill).
 */
static bool
check_quality_mem(int *newval, void **extra, GucSource source)
{
	if (*newval == -1 || *newval >= 64)
		return true;
	GUC_check_errdetail("pubdata.quality_mem must be -1 (use maintenance_work_mem) or at least 64kB.");
	return false;
}

/*
 * pubdata_quality_init
 *		Define the quality module's GUCs.
 */
void
pubdata_quality_init(void)
{
	DefineCustomIntVariable("pubdata.quality_sample_rows",
							"Failing rows whose keys a quality measurement keeps per rule.",
							NULL,
							&quality_sample_rows,
							10, 0, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pubdata.quality_mem",
							"Memory a quality measurement may use for its uniqueness checks and referenced values.",
							"-1 uses maintenance_work_mem, as CREATE INDEX and VACUUM do.",
							&quality_mem,
							-1, -1, MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							check_quality_mem, NULL, NULL);
}

/*
 * quality_memory_budget
 *		The bytes a measurement may hold in its hash tables and spill
 *		buffers: pubdata.quality_mem, or maintenance_work_mem.
 */
Size
quality_memory_budget(void)
{
	int			kb = quality_mem > 0 ? quality_mem : maintenance_work_mem;

	return (Size) kb * 1024;
}

/*
 * quality_mem_add / quality_mem_sub
 *		Account for memory a measurement's structures take and give back;
 *		the peak is reported with the run.
 */
void
quality_mem_add(QualityState *qs, Size bytes)
{
	qs->mem_used += bytes;
	if (qs->mem_used > qs->mem_peak)
		qs->mem_peak = qs->mem_used;
}

void
quality_mem_sub(QualityState *qs, Size bytes)
{
	qs->mem_used = bytes > qs->mem_used ? 0 : qs->mem_used - bytes;
}
