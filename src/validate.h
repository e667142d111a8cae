/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  Validators for Chinese identifiers: resident identity number
 *	  (GB 11643), unified social credit code (GB 32100), mainland mobile
 *	  number and administrative division code (GB/T 2260).
 *
 * The checks work on raw bytes so that quality.c can call them on column
 * values without building text datums.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_VALIDATE_H
#define PUBDATA_VALIDATE_H

#include "postgres.h"

#include "utils/date.h"

extern bool pubdata_province_code_ok(int code);
extern bool pubdata_id_card_ok(const char *s, int len, DateADT today);
extern bool pubdata_uscc_ok(const char *s, int len);
extern bool pubdata_mobile_ok(const char *s, int len);
extern bool pubdata_admin_code_format_ok(const char *s, int len);

#endif							/* PUBDATA_VALIDATE_H */
