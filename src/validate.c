/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  C validators for identifiers used in public data:
 *	  pubdata.is_valid_id_card(text)     GB 11643-1999 citizen identity number
 *	  pubdata.is_valid_uscc(text)        GB 32100-2015 unified social credit code
 *	  pubdata.is_valid_mobile(text)      mainland China mobile number
 *	  pubdata.is_valid_admin_code(text)  GB/T 2260 administrative division code
 *
 * All are STRICT (NULL in, NULL out) and work on the bytes of the value
 * with no allocation, so that they cost little more than length(x).
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "calendar.h"
#include "validate.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

/*
 * The check character of every sum pubdata_id_card_ok_ymd computes (at most
 * 27 * 40 + 18, congruent mod 11 to the GB 11643 weighted sum):
 * "10X98765432" at sum mod 11.
 */
#define ID_CHECK_1 "10X98765432"
#define ID_CHECK_4 ID_CHECK_1 ID_CHECK_1 ID_CHECK_1 ID_CHECK_1
#define ID_CHECK_20 ID_CHECK_4 ID_CHECK_4 ID_CHECK_4 ID_CHECK_4 ID_CHECK_4
const char	pubdata_id_check_of_sum[] =
	ID_CHECK_20 ID_CHECK_20 ID_CHECK_20 ID_CHECK_20 ID_CHECK_20;

StaticAssertDecl(sizeof(pubdata_id_check_of_sum) > 27 * 40 + 18, "a check character for every sum");

/*
 * Province-level division codes of GB/T 2260, by their two digits:
 * 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71 (Taiwan), 81-82 (HK, Macao).
 */
const bool	pubdata_province_table[100] = {
	/* 0x */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 1x */ 0, 1, 1, 1, 1, 1, 0, 0, 0, 0,
	/* 2x */ 0, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	/* 3x */ 0, 1, 1, 1, 1, 1, 1, 1, 0, 0,
	/* 4x */ 0, 1, 1, 1, 1, 1, 1, 0, 0, 0,
	/* 5x */ 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	/* 6x */ 0, 1, 1, 1, 1, 1, 0, 0, 0, 0,
	/* 7x */ 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 8x */ 0, 1, 1, 0, 0, 0, 0, 0, 0, 0,
	/* 9x */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* the last date given to pubdata_date_ymd, and it as YYYYMMDD */
static DateADT ymd_date = DATEVAL_NOBEGIN;
static int32 ymd_value = 0;

/* GB 32100 weights of the first 17 characters */
static const int uscc_weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* GB 32100 alphabet: value of each allowed character, -1 if not allowed */
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static signed char uscc_value[256];
static bool uscc_value_ready = false;

/*
 * pubdata_province_code_ok
 *		Whether two digits are a province-level division code of GB/T 2260
 *		(pubdata_province_table).
 */
bool
pubdata_province_code_ok(int code)
{
	return code >= 0 && code < 100 && pubdata_province_table[code];
}

/*
 * pubdata_date_ymd
 *		A date as the number YYYYMMDD, for the identity number's "not born
 *		after today"; the last one converted is remembered, since a scan
 *		asks for the same day again and again.
 */
int32
pubdata_date_ymd(DateADT date)
{
	if (date != ymd_date)
	{
		int			y,
					m,
					d;

		j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
		ymd_value = y * 10000 + m * 100 + d;
		ymd_date = date;
	}
	return ymd_value;
}

/*
 * pubdata_id_card_ok
 *		GB 11643 check of an 18-character citizen identity number, born not
 *		after today (pubdata_id_card_ok_ymd in validate.h).
 */
bool
pubdata_id_card_ok(const char *s, int len, DateADT today)
{
	return pubdata_id_card_ok_ymd(s, len, pubdata_date_ymd(today));
}

/*
 * pubdata_uscc_ok
 *		GB 32100 check of an 18-character unified social credit code: every
 *		character from 0-9 and the upper-case letters without I, O, S, V, Z;
 *		character 18 = (31 - sum(value * weight) mod 31) mod 31.
 *		Lower-case letters are refused: the standard writes codes in capitals.
 */
bool
pubdata_uscc_ok(const char *s, int len)
{
	int			sum = 0;
	int			i;
	int			check;

	if (len != 18)
		return false;
	if (!uscc_value_ready)
	{
		memset(uscc_value, -1, sizeof(uscc_value));
		for (i = 0; uscc_alphabet[i]; i++)
			uscc_value[(unsigned char) uscc_alphabet[i]] = i;
		uscc_value_ready = true;
	}
	for (i = 0; i < 17; i++)
	{
		int			v = uscc_value[(unsigned char) s[i]];

		if (v < 0)
			return false;
		sum += v * uscc_weights[i];
	}
	check = (31 - sum % 31) % 31;
	return uscc_value[(unsigned char) s[17]] == check;
}

/*
 * pubdata_admin_code_format_ok
 *		Six digits whose first two are a province-level code.
 */
bool
pubdata_admin_code_format_ok(const char *s, int len)
{
	int			i;

	if (len != 6)
		return false;
	for (i = 0; i < 6; i++)
		if ((unsigned int) (s[i] - '0') > 9)
			return false;
	return pubdata_province_code_ok((s[0] - '0') * 10 + (s[1] - '0'));
}

/*
 * Cached "today" for is_valid_id_card: computed once per call site and
 * transaction (the current date depends on the transaction start; it is
 * taken in pubdata.timezone, not in the session's time zone).
 */
typedef struct TodayCache
{
	TimestampTz xact_start;
	DateADT		today;
} TodayCache;

static DateADT
cached_today(FunctionCallInfo fcinfo)
{
	TodayCache *c = (TodayCache *) fcinfo->flinfo->fn_extra;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TodayCache));
		c->xact_start = DT_NOBEGIN;
		fcinfo->flinfo->fn_extra = c;
	}
	if (c->xact_start != now)
	{
		c->today = pubdata_local_date(now);
		c->xact_start = now;
	}
	return c->today;
}

PG_FUNCTION_INFO_V1(pubdata_is_valid_id_card);

/*
 * pubdata.is_valid_id_card(text) returns boolean
 *		SQL face of pubdata_id_card_ok.  STABLE, not IMMUTABLE: a birth date
 *		in the future becomes valid when that day comes.
 */
Datum
pubdata_is_valid_id_card(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(pubdata_id_card_ok(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
									  cached_today(fcinfo)));
}

PG_FUNCTION_INFO_V1(pubdata_is_valid_uscc);

/*
 * pubdata.is_valid_uscc(text) returns boolean
 */
Datum
pubdata_is_valid_uscc(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(pubdata_uscc_ok(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

PG_FUNCTION_INFO_V1(pubdata_is_valid_mobile);

/*
 * pubdata.is_valid_mobile(text) returns boolean
 */
Datum
pubdata_is_valid_mobile(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(pubdata_mobile_ok(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

/*
 * Region codes loaded from pubdata.region once per call site and
 * transaction: a sorted array of codes (as integers) per level.
 */
typedef struct RegionCache
{
	TimestampTz xact_start;
	int			n[3];			/* province, city, county */
	int32	   *codes[3];
} RegionCache;

static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/*
 * load_regions
 *		Read pubdata.region into a RegionCache in fn_mcxt.  The table is read
 *		as the function's caller; pubdata_admin, pubdata_department and
 *		pubdata_auditor may read it, and the function is granted to them.
 */
static RegionCache *
load_regions(FunctionCallInfo fcinfo)
{
	RegionCache *c = (RegionCache *) fcinfo->flinfo->fn_extra;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	uint64		i;
	int			ret;

	if (c != NULL && c->xact_start == now)
		return c;
	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RegionCache));
		fcinfo->flinfo->fn_extra = c;
	}
	for (i = 0; i < 3; i++)
	{
		if (c->codes[i])
			pfree(c->codes[i]);
		c->codes[i] = NULL;
		c->n[i] = 0;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute("SELECT code::pg_catalog.int4, "
					  "CASE WHEN code OPERATOR(pg_catalog.~) '0000$' THEN 0 "
					  "WHEN code OPERATOR(pg_catalog.~) '00$' THEN 1 ELSE 2 END "
					  "FROM pubdata.region", true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pubdata.region");
	for (i = 0; i < 3; i++)
		c->codes[i] = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
										 sizeof(int32) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int32		code = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		int32		lvl = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		c->codes[lvl][c->n[lvl]++] = code;
	}
	SPI_finish();
	for (i = 0; i < 3; i++)
		qsort(c->codes[i], c->n[i], sizeof(int32), cmp_int32);
	c->xact_start = now;
	return c;
}

/*
 * region_parent_loaded
 *		Whether the region table holds this code's parent (the province of a
 *		city, the city of a county), and so holds its siblings too; for a
 *		province, whether any province is loaded.
 */
static bool
region_parent_loaded(RegionCache *c, int level, int32 code)
{
	int32		parent;

	if (level == 0)
		return c->n[0] > 0;
	parent = (level == 1) ? code / 10000 * 10000 : code / 100 * 100;
	return bsearch(&parent, c->codes[level - 1], c->n[level - 1], sizeof(int32), cmp_int32) != NULL;
}

PG_FUNCTION_INFO_V1(pubdata_is_valid_admin_code);

/*
 * pubdata.is_valid_admin_code(text) returns boolean
 *		Six digits with a province-level prefix.  When pubdata.region holds
 *		the code's parent (say Lishui, 331100, for 3311xx), the code must be
 *		in the table too; elsewhere only the format is checked, since the
 *		table holds only what the city loaded.
 */
Datum
pubdata_is_valid_admin_code(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	RegionCache *c;
	int32		code;
	int			level;

	if (!pubdata_admin_code_format_ok(s, len))
		PG_RETURN_BOOL(false);
	code = 0;
	for (int i = 0; i < 6; i++)
		code = code * 10 + (s[i] - '0');
	level = (code % 10000 == 0) ? 0 : (code % 100 == 0) ? 1 : 2;
	c = load_regions(fcinfo);
	if (!region_parent_loaded(c, level, code))
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(bsearch(&code, c->codes[level], c->n[level], sizeof(int32), cmp_int32) != NULL);
}
