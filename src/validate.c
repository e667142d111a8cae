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

/* GB 11643 weights of the first 17 digits, and the check characters */
static const int id_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char id_check[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};

/* the last "today" of pubdata_id_card_ok, and it as YYYYMMDD */
static DateADT id_today = DATEVAL_NOBEGIN;
static int	id_today_ymd = 0;

/* GB 32100 weights of the first 17 characters */
static const int uscc_weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* GB 32100 alphabet: value of each allowed character, -1 if not allowed */
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static signed char uscc_value[256];
static bool uscc_value_ready = false;

/*
 * pubdata_province_code_ok
 *		Whether two digits are a province-level division code of GB/T 2260:
 *		11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71 (Taiwan), 81-82 (HK, Macao).
 */
bool
pubdata_province_code_ok(int code)
{
	return (code >= 11 && code <= 15) ||
		(code >= 21 && code <= 23) ||
		(code >= 31 && code <= 37) ||
		(code >= 41 && code <= 46) ||
		(code >= 50 && code <= 54) ||
		(code >= 61 && code <= 65) ||
		code == 71 || code == 81 || code == 82;
}

/*
 * digits8
 *		Whether the 8 bytes of a word are all ASCII digits: each byte's high
 *		nibble is 3, and stays 3 when 6 is added (low nibble at most 9).
 */
static inline bool
digits8(uint64 w)
{
	const uint64 hi = UINT64CONST(0xF0F0F0F0F0F0F0F0);
	const uint64 three = UINT64CONST(0x3030303030303030);

	return (w & hi) == three && ((w + UINT64CONST(0x0606060606060606)) & hi) == three;
}

/*
 * id_weighted_sum
 *		The GB 11643 weighted sum of the first 16 digits, given as two words
 *		of ASCII digits (checked by digits8), with four multiplications: the
 *		digits of even and of odd places go into 16-bit lanes, and a product
 *		with the lanes' weights placed so that each lands at bit 48 adds them
 *		up there (at most 16 * 9 * 10: no lane overflows, nothing carries
 *		into bit 48 from below).
 */
#define ID_LANE_WEIGHTS(a, b, c, d) \
	(((uint64) (a) << 48) | ((uint64) (b) << 32) | ((uint64) (c) << 16) | (uint64) (d))

static inline int
id_weighted_sum(const char *s, uint64 w0, uint64 w1)
{
#ifdef WORDS_BIGENDIAN
#define D(i) ((s[i] - '0') * id_weights[i])
	return D(0) + D(1) + D(2) + D(3) + D(4) + D(5) + D(6) + D(7) + D(8) +
		D(9) + D(10) + D(11) + D(12) + D(13) + D(14) + D(15);
#undef D
#else
	const uint64 lanes = UINT64CONST(0x00FF00FF00FF00FF);
	const uint64 zeros = UINT64CONST(0x3030303030303030);
	uint64		x0 = w0 - zeros;
	uint64		x1 = w1 - zeros;

	/* little-endian: byte k of a word is character k (places 0-7, 8-15) */
	StaticAssertStmt(sizeof(id_weights) == 17 * sizeof(int), "17 weights");
	return (int) (((x0 & lanes) * ID_LANE_WEIGHTS(7, 10, 8, 2) +
				   ((x0 >> 8) & lanes) * ID_LANE_WEIGHTS(9, 5, 4, 1) +
				   (x1 & lanes) * ID_LANE_WEIGHTS(6, 7, 10, 8) +
				   ((x1 >> 8) & lanes) * ID_LANE_WEIGHTS(3, 9, 5, 4)) >> 48);
#endif
}

/*
 * pubdata_id_card_ok
 *		GB 11643 check of an 18-character citizen identity number: 17 digits
 *		then a digit or 'X' (either case); a province prefix; a birth date
 *		(positions 7-14, YYYYMMDD) that exists, from 1800 on and not after
 *		"today"; the ISO 7064 MOD 11-2 check character.
 */
bool
pubdata_id_card_ok(const char *s, int len, DateADT today)
{
	int			sum;
	int			year,
				month,
				day;
	char		last;
	uint64		w0,
				w1;

	if (len != 18)
		return false;
	/* 17 digits: the first 16 eight at a time, then the 17th */
	memcpy(&w0, s, 8);
	memcpy(&w1, s + 8, 8);
	if (!digits8(w0) || !digits8(w1) || (unsigned int) (s[16] - '0') > 9)
		return false;
	sum = id_weighted_sum(s, w0, w1) + (s[16] - '0') * id_weights[16];
	last = s[17];
	if (last == 'x')
		last = 'X';
	if (last != id_check[sum % 11])
		return false;
	if (!pubdata_province_code_ok((s[0] - '0') * 10 + (s[1] - '0')))
		return false;

	year = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 + (s[9] - '0');
	month = (s[10] - '0') * 10 + (s[11] - '0');
	day = (s[12] - '0') * 10 + (s[13] - '0');
	if (year < 1800 || month < 1 || month > 12 || day < 1 ||
		day > day_tab[isleap(year)][month - 1])
		return false;
	/* not after today: compare YYYYMMDD numbers, today's converted once */
	if (today != id_today)
	{
		int			ty,
					tm,
					td;

		j2date(today + POSTGRES_EPOCH_JDATE, &ty, &tm, &td);
		id_today_ymd = ty * 10000 + tm * 100 + td;
		id_today = today;
	}
	if (year * 10000 + month * 100 + day > id_today_ymd)
		return false;
	return true;
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
 * pubdata_mobile_ok
 *		A mainland China mobile number: 11 digits, "1" then 3-9, optionally
 *		preceded by the country code as "+86", "0086" or "86".  No spaces or
 *		dashes are accepted: store numbers normalised.
 */
bool
pubdata_mobile_ok(const char *s, int len)
{
	int			i;

	if (len == 14 && s[0] == '+' && s[1] == '8' && s[2] == '6')
	{
		s += 3;
		len -= 3;
	}
	else if (len == 15 && s[0] == '0' && s[1] == '0' && s[2] == '8' && s[3] == '6')
	{
		s += 4;
		len -= 4;
	}
	else if (len == 13 && s[0] == '8' && s[1] == '6')
	{
		s += 2;
		len -= 2;
	}
	if (len != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
		return false;
	for (i = 2; i < 11; i++)
		if ((unsigned int) (s[i] - '0') > 9)
			return false;
	return true;
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
