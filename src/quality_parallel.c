/*-------------------------------------------------------------------------
 *
 * quality_parallel.c
 *	  A measurement's scan by several processes.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "quality_int.h"

/*
 * quality_scan_parallel
 *		Not yet: the scan runs in one process.
 */
bool
quality_scan_parallel(QualityState *qs)
{
	return false;
}
