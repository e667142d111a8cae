/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  Validators for Chinese identifiers: resident identity number
 *	  (GB 11643), unified social credit code (GB 32100), mainland mobile
 *	  number and administrative division code (GB/T 2260).
 *
 * The checks work on raw bytes so that quality.c can call them on column
 * values without building text datums.  The identity number and mobile
 * checks are inline here: a quality measurement calls them once a row, in
 * the tight loop of quality_eval_batch, where a call costs as much as the
 * check.  They read the value eight bytes at a time (never past its end)
 * and test the bytes of a word together (SWAR).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PUBDATA_VALIDATE_H
#define PUBDATA_VALIDATE_H

#include "postgres.h"

#include "utils/date.h"
#include "utils/datetime.h"

extern bool pubdata_province_code_ok(int code);
extern bool pubdata_id_card_ok(const char *s, int len, DateADT today);
extern int32 pubdata_date_ymd(DateADT date);
extern bool pubdata_uscc_ok(const char *s, int len);
extern bool pubdata_admin_code_format_ok(const char *s, int len);

/* tables of validate.c for the inline checks below */
extern PGDLLIMPORT const bool pubdata_province_table[100];
extern PGDLLIMPORT const char pubdata_id_check_of_sum[];

/*
 * PUBDATA_BYTES8
 *		The word that memcpy reads from the eight bytes b0 ... b7 (b0 first
 *		in memory), on either byte order.
 */
#ifdef WORDS_BIGENDIAN
#define PUBDATA_BYTES8(b0, b1, b2, b3, b4, b5, b6, b7) \
	(((uint64) (b0) << 56) | ((uint64) (b1) << 48) | ((uint64) (b2) << 40) | \
	 ((uint64) (b3) << 32) | ((uint64) (b4) << 24) | ((uint64) (b5) << 16) | \
	 ((uint64) (b6) << 8) | (uint64) (b7))
#else
#define PUBDATA_BYTES8(b0, b1, b2, b3, b4, b5, b6, b7) \
	(((uint64) (b7) << 56) | ((uint64) (b6) << 48) | ((uint64) (b5) << 40) | \
	 ((uint64) (b4) << 32) | ((uint64) (b3) << 24) | ((uint64) (b2) << 16) | \
	 ((uint64) (b1) << 8) | (uint64) (b0))
#endif

/*
 * pubdata_digits8
 *		Whether the 8 bytes of a word are all ASCII digits: each byte's high
 *		nibble is 3, and stays 3 when 6 is added (low nibble at most 9; a
 *		byte that carries fails by itself, whatever it does to the next).
 */
static inline bool
pubdata_digits8(uint64 w)
{
	const uint64 hi = UINT64CONST(0xF0F0F0F0F0F0F0F0);
	const uint64 three = UINT64CONST(0x3030303030303030);

	return (w & hi) == three && ((w + UINT64CONST(0x0606060606060606)) & hi) == three;
}

/*
 * pubdata_digits16
 *		pubdata_digits8 of two words at once, with one branch.
 */
static inline bool
pubdata_digits16(uint64 w0, uint64 w1)
{
	const uint64 hi = UINT64CONST(0xF0F0F0F0F0F0F0F0);
	const uint64 three = UINT64CONST(0x3030303030303030);
	const uint64 six = UINT64CONST(0x0606060606060606);

	return (((w0 & hi) ^ three) | ((w1 & hi) ^ three) |
			(((w0 + six) & hi) ^ three) | (((w1 + six) & hi) ^ three)) == 0;
}

/*
 * pubdata_bytes_within
 *		Whether every byte of a word lies between the bytes of the same place
 *		in lo and hi (inclusive; bounds are ASCII, below 0x80).  For an ASCII
 *		byte b, b + 0x80 - lo has its high bit set iff b >= lo, and
 *		b + 0x7F - hi iff b > hi; neither carries into the next byte.  A byte
 *		from 0x80 up fails by itself (~w), whatever its carry does next door.
 */
static inline bool
pubdata_bytes_within(uint64 w, uint64 lo, uint64 hi)
{
	const uint64 high = UINT64CONST(0x8080808080808080);
	const uint64 at_least_lo = w + (high - lo);
	const uint64 above_hi = w + (high - UINT64CONST(0x0101010101010101) - hi);

	return (~w & at_least_lo & ~above_hi & high) == high;
}

/*
 * pubdata_id_card_ok_ymd
 *		pubdata_id_card_ok with "today" given as the number YYYYMMDD
 *		(pubdata_date_ymd): GB 11643 check of an 18-character citizen
 *		identity number: 17 digits then a digit or 'X' (either case); a
 *		province prefix; a birth date (positions 7-14, YYYYMMDD) that exists,
 *		from 1800 on and not after today; the ISO 7064 MOD 11-2 check
 *		character.
 *
 *		The first 16 digits are read as two words, w0 (places 0-7) and w1
 *		(8-15).  The check character depends on the weighted sum only mod
 *		11, and the weight of place i is 2^(17 - i) mod 11: the weight of an
 *		even place is twice the next one's, so the digits d, e of places
 *		2k, 2k + 1 count as (2d + e) times the weight of place 2k + 1.  The
 *		pairs 2d + e (at most 27) of a word sit in its four 16-bit lanes
 *		after one shift and add, and one multiplication a word by the
 *		lanes' weights placed so that each product lands at bit 48 adds
 *		them up there (at most 27 * 40 plus 9 * 2 for place 16: no lane
 *		overflows, nothing carries into bit 48 from below).  A table gives
 *		the check character of each such sum.  Likewise 10d + e, the
 *		two-digit numbers of places 0-1 (province), 6-9 (year), 10-11
 *		(month) and 12-13 (day).
 */
#define PUBDATA_ID_LANE_WEIGHTS(a, b, c, d) \
	(((uint64) (a) << 48) | ((uint64) (b) << 32) | ((uint64) (c) << 16) | (uint64) (d))

static pg_attribute_always_inline bool
pubdata_id_card_ok_ymd(const char *s, int len, int32 today_ymd)
{
	uint64		w0,
				w1;
	unsigned int d16;
	int			sum;
	int			province,
				year,
				month,
				day;
	char		last;

	if (len != 18)
		return false;
	/* 17 digits: the first 16 eight at a time, then the 17th */
	memcpy(&w0, s, 8);
	memcpy(&w1, s + 8, 8);
	d16 = (unsigned char) s[16] - '0';
	if (!pubdata_digits16(w0, w1) || d16 > 9)
		return false;

#ifdef WORDS_BIGENDIAN
#define D(i) (s[i] - '0')
	sum = D(0) * 7 + D(1) * 9 + D(2) * 10 + D(3) * 5 + D(4) * 8 + D(5) * 4 +
		D(6) * 2 + D(7) * 1 + D(8) * 6 + D(9) * 3 + D(10) * 7 + D(11) * 9 +
		D(12) * 10 + D(13) * 5 + D(14) * 8 + D(15) * 4;
	province = D(0) * 10 + D(1);
	year = D(6) * 1000 + D(7) * 100 + D(8) * 10 + D(9);
	month = D(10) * 10 + D(11);
	day = D(12) * 10 + D(13);
#undef D
#else
	{
		const uint64 lanes = UINT64CONST(0x00FF00FF00FF00FF);
		const uint64 zeros = UINT64CONST(0x3030303030303030);
		uint64		x0 = w0 - zeros;
		uint64		x1 = w1 - zeros;
		uint64		p0,
					p1;

		/* little-endian: byte k of a word is character k (places 0-7, 8-15) */
		sum = (int) ((((x0 * 2 + (x0 >> 8)) & lanes) * PUBDATA_ID_LANE_WEIGHTS(9, 5, 4, 1) +
					  ((x1 * 2 + (x1 >> 8)) & lanes) * PUBDATA_ID_LANE_WEIGHTS(3, 9, 5, 4)) >> 48);
		/* 16-bit lane k: the two-digit number of places 2k, 2k + 1 */
		p0 = (x0 * 10 + (x0 >> 8)) & lanes;
		p1 = (x1 * 10 + (x1 >> 8)) & lanes;
		province = (int) (p0 & 0xFF);
		year = (int) (p0 >> 48) * 100 + (int) (p1 & 0xFF);
		month = (int) ((p1 >> 16) & 0xFF);
		day = (int) ((p1 >> 32) & 0xFF);
	}
#endif
	sum += (int) d16 * 2;

	last = s[17];
	if (last == 'x')
		last = 'X';
	if (last != pubdata_id_check_of_sum[sum])
		return false;
	if (!pubdata_province_table[province])
		return false;
	/* a date that exists (every month has 28 days), 1800 to today */
	if (year < 1800 || month < 1 || month > 12 || day < 1 ||
		(day > 28 && day > day_tab[isleap(year)][month - 1]))
		return false;
	return year * 10000 + month * 100 + day <= today_ymd;
}

/*
 * pubdata_mobile_ok
 *		A mainland China mobile number: 11 digits, "1" then 3-9, optionally
 *		preceded by the country code as "+86", "0086" or "86".  No spaces or
 *		dashes are accepted: store numbers normalised.  The 11 characters
 *		are read as two overlapping words (places 0-7 and 3-10).
 */
static pg_attribute_always_inline bool
pubdata_mobile_ok(const char *s, int len)
{
	uint64		head,
				tail;

	if (len != 11)
	{
		if (!((len == 14 && memcmp(s, "+86", 3) == 0) ||
			  (len == 15 && memcmp(s, "0086", 4) == 0) ||
			  (len == 13 && memcmp(s, "86", 2) == 0)))
			return false;
		s += len - 11;
	}
	memcpy(&head, s, 8);
	memcpy(&tail, s + 3, 8);
	return pubdata_digits8(tail) &&
		pubdata_bytes_within(head,
							 PUBDATA_BYTES8('1', '3', '0', '0', '0', '0', '0', '0'),
							 PUBDATA_BYTES8('1', '9', '9', '9', '9', '9', '9', '9'));
}

#endif							/* PUBDATA_VALIDATE_H */
