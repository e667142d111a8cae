/*-------------------------------------------------------------------------
 *
 * quality_row.c
 *	  Every rule of a measurement evaluated on one row, or on a batch of
 *	  rows rule by rule.
 *
 * The hot path of a measurement: quality_eval_batch() is called for every
 * QUALITY_BATCH rows of a heap (quality_eval_row() once per row for other
 * sources, deformed up to the last checked column): it deforms the rows
 * itself into one array a checked column, and most rules cost a few
 * nanoseconds a row.  Fast paths, chosen when the rule was compiled, give
 * the same answers as the types' own functions: range and allowed_values on
 * integers, dates and timestamps compare integers; allowed_values on text
 * types under a deterministic collation compares bytes; text values are read
 * in place unless compressed or out of line; a pattern remembers the outcome
 * of recent values.  The per-row memory context is reset only when a rule
 * allocated in it.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "quality_int.h"
#include "validate.h"

#include "common/hashfn.h"
#include "port/pg_bswap.h"
#include "executor/executor.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

/*
 * quality_datum_bytes
 *		The bytes of a text, varchar or char(n) value without a copy when it
 *		is neither compressed nor out of line (then detoasted into the
 *		current, per-row, context); char(n) without its trailing blanks.
 */
static inline const char *
datum_bytes(Datum d, bool is_bpchar, int *len)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	const char *s;
	int			n;

	/* the common case, a short inline value (under 127 bytes): its bytes */
	if (!is_bpchar && likely(VARATT_IS_1B(v) && !VARATT_IS_1B_E(v)))
	{
		*len = VARSIZE_SHORT(v) - VARHDRSZ_SHORT;
		return VARDATA_SHORT(v);
	}
	if (unlikely(VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v)))
		v = pg_detoast_datum_packed(v);
	s = VARDATA_ANY(v);
	n = VARSIZE_ANY_EXHDR(v);
	if (is_bpchar)
		while (n > 0 && s[n - 1] == ' ')
			n--;
	*len = n;
	return s;
}

const char *
quality_datum_bytes(Datum d, bool is_bpchar, int *len)
{
	return datum_bytes(d, is_bpchar, len);
}

/*
 * item_hash
 *		64-bit hash of a non-null key item, as hash_kind_of decided.
 */
static inline uint64
item_hash(QualityRule *r, int j, Datum d)
{
	const char *s;
	int			len;

	switch (r->hashkinds[j])
	{
		case HK_INT2:
			return mix64((uint64) (int64) DatumGetInt16(d));
		case HK_INT4:
			return mix64((uint64) (int64) DatumGetInt32(d));
		case HK_INT8:
			return mix64((uint64) DatumGetInt64(d));
		case HK_BYTES:
		case HK_BPCHAR:
			s = datum_bytes(d, r->hashkinds[j] == HK_BPCHAR, &len);
			return hash_bytes_extended((const unsigned char *) s, len, 0);
		default:
			return DatumGetUInt64(FunctionCall2Coll(&r->hashfns[j], r->hashcolls[j],
													d, UInt64GetDatum(0)));
	}
}

uint64
quality_item_hash(QualityRule *r, int j, Datum d)
{
	return item_hash(r, j, d);
}

/*
 * key_hash
 *		64-bit hash of a rule's key columns; false when any of them is null
 *		(a null key is not a duplicate and references nothing, as in SQL).
 */
static inline bool
key_hash(QualityRule *r, Datum *values, bool *nulls, uint64 *hash)
{
	uint64		h = 0;
	int			j;

	for (j = 0; j < r->nitems; j++)
	{
		AttrNumber	a = r->attnums[j] - 1;
		uint64		hj;

		if (nulls[a])
			return false;
		hj = item_hash(r, j, values[a]);
		h = (j == 0) ? hj : hash_combine64(h, hj);
	}
	*hash = h;
	return true;
}

/*
 * push_window_key
 *		Count a non-null key of a unique rule with a window (one integer,
 *		date or timestamp column, its value v): by direct address inside
 *		the window, else by its hash (the same hash as without a window).
 */
static inline void
push_window_key(QualityState *qs, QualityRule *r, Datum v, QualityLocator loc)
{
	char		hk = r->hashkinds[0];
	int64		k = hk == HK_INT4 ? (int64) DatumGetInt32(v) :
		hk == HK_INT8 ? DatumGetInt64(v) : (int64) DatumGetInt16(v);
	uint64		off = (uint64) k - (uint64) r->win_lo;

	if (likely(off < r->win_n))
		unique_window_add(qs, r, off, loc);
	else
		unique_push(qs, r, mix64((uint64) k), loc);
}

/*
 * push_key
 *		Count a table row's key of unique rule r.
 */
static inline void
push_key(QualityState *qs, QualityRule *r, Datum *values, bool *nulls, QualityLocator loc)
{
	uint64		h;

	if (r->has_window)
	{
		AttrNumber	a = r->attnums[0] - 1;

		if (!nulls[a])
			push_window_key(qs, r, values[a], loc);
		return;
	}
	if (key_hash(r, values, nulls, &h))
		unique_push(qs, r, h, loc);
}

/*
 * value_text
 *		The bytes of a value as text: directly for text types (trailing
 *		blanks of char(n) ignored), through the output function otherwise.
 *		Allocates in the current (per-row) context.
 */
static inline const char *
value_text(QualityRule *r, Datum d, int *len)
{
	if (likely(r->varlena_text))
		return datum_bytes(d, r->is_bpchar, len);
	else
	{
		char	   *s = OutputFunctionCall(&r->outfn, d);

		*len = strlen(s);
		return s;
	}
}

/*
 * pattern_memo_key
 *		The memo tag of a value: for fewer than 16 bytes the value itself in
 *		two words, exactly (8-15 bytes: its first and last 8 bytes; 4-7: its
 *		first and last 4; 1-3: its first, middle and last byte; with the
 *		length these determine the value), read by word loads and no byte
 *		stores; for longer values their 64-bit hash.  tag: 0x80 | length
 *		code (0-15, or 0x20 for a hash).
 */
static inline void
pattern_memo_key(const char *s, int len, uint64 *w0, uint64 *w1, uint8 *tag)
{
	uint32		a,
				b;

	if (len >= 16)
	{
		*w0 = hash_bytes_extended((const unsigned char *) s, len, 0);
		*w1 = 0;
		*tag = 0x80 | 0x20;
		return;
	}
	*tag = 0x80 | len;
	if (len >= 8)
	{
		memcpy(w0, s, 8);
		memcpy(w1, s + len - 8, 8);
	}
	else if (len >= 4)
	{
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		*w0 = ((uint64) a << 32) | b;
		*w1 = 0;
	}
	else if (len > 0)
	{
		*w0 = ((uint64) (unsigned char) s[0] << 16) |
			((uint64) (unsigned char) s[len >> 1] << 8) |
			(unsigned char) s[len - 1];
		*w1 = 0;
	}
	else
	{
		*w0 = 0;
		*w1 = 0;
	}
}

/*
 * pattern_memo_slot
 *		The memo slot of a tag.
 */
static inline uint32
pattern_memo_slot(uint64 w0, uint64 w1, uint8 tag)
{
	return (uint32) ((w0 * UINT64CONST(0x9E3779B97F4A7C15) ^
					  (w1 + tag) * UINT64CONST(0xC2B2AE3D27D4EB4F)) >> 52) &
		(PATTERN_MEMO_SIZE - 1);
}

/*
 * pattern_run
 *		A value the memo did not know: the regular expression, and its
 *		outcome remembered in the slot.  Out of line, so that the loop of a
 *		pattern rule keeps only the memo's look-up.
 */
static pg_noinline bool
pattern_run(QualityRule *r, const char *s, int len, uint32 slotno,
			uint64 w0, uint64 w1, uint8 tag)
{
	bool		ok;

	ok = RE_compile_and_execute(r->regex, (char *) s, len, REG_ADVANCED,
								r->collation, 0, NULL);
	r->memo_tag[2 * slotno] = w0;
	r->memo_tag[2 * slotno + 1] = w1;
	r->memo_state[slotno] = tag | (ok ? 0x40 : 0);
	return ok;
}

/*
 * pattern_ok
 *		A value against a pattern rule: from the memo, else the regular
 *		expression (whose outcome is remembered).
 */
static pg_attribute_always_inline bool
pattern_ok(QualityRule *r, Datum d)
{
	uint64		w0,
				w1;
	uint8		tag;
	uint32		slotno;
	int			len;
	const char *s = value_text(r, d, &len);

	pattern_memo_key(s, len, &w0, &w1, &tag);
	slotno = pattern_memo_slot(w0, w1, tag);
	if (likely(r->memo_tag[2 * slotno] == w0 && r->memo_tag[2 * slotno + 1] == w1 &&
			   (r->memo_state[slotno] & 0xBF) == tag))
		return (r->memo_state[slotno] & 0x40) != 0;
	return pattern_run(r, s, len, slotno, w0, w1, tag);
}

/*
 * text_key
 *		A text of at most 7 bytes as one integer: its length in the top byte
 *		and its bytes below (read by at most two loads, never past the
 *		value), so that two such texts are equal iff their keys are.  1-3
 *		bytes: the first, middle and last byte; 4-7: the first 4 bytes and
 *		the last len - 4, as a little-endian number.
 */
static inline uint64
text_key(const char *s, int len)
{
	uint64		key = (uint64) len << 56;

	Assert(len >= 0 && len <= 7);
	if (len >= 4)
	{
		uint32		first,
					last;

		memcpy(&first, s, 4);
		memcpy(&last, s + len - 4, 4);
#ifdef WORDS_BIGENDIAN
		first = pg_bswap32(first);
		last = pg_bswap32(last);
#endif
		/* the last 4 bytes' top len - 4 are the bytes after the first 4 */
		return key | first | (((uint64) last >> (64 - 8 * len)) << 32);
	}
	if (len > 0)
		key |= (uint64) (unsigned char) s[0] |
			((uint64) (unsigned char) s[len >> 1] << 8) |
			((uint64) (unsigned char) s[len - 1] << 16);
	return key;
}

/*
 * quality_text_key
 *		text_key for compile_allowed_values.
 */
uint64
quality_text_key(const char *s, int len)
{
	return text_key(s, len);
}

/*
 * range_ok / allowed_ok
 *		A non-null value against a range or a list of allowed values: text
 *		values by their keys when every allowed value is short
 *		(values_key), else by their bytes.
 */
static inline bool
range_ok(QualityRule *r, Datum d)
{
	if (r->intlen)
	{
		int64		v = r->intlen == 8 ? DatumGetInt64(d) :
			r->intlen == 4 ? (int64) DatumGetInt32(d) : (int64) DatumGetInt16(d);

		return !((r->has_min && v < r->min_int) || (r->has_max && v > r->max_int));
	}
	if (r->has_min &&
		DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, d, r->min)) < 0)
		return false;
	if (r->has_max &&
		DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, d, r->max)) > 0)
		return false;
	return true;
}

static pg_attribute_always_inline bool
allowed_ok(QualityRule *r, Datum d)
{
	int			j;

	if (r->values_key)
	{
		int			len;
		const char *s = datum_bytes(d, r->is_bpchar, &len);
		uint64		key;

		/* every allowed value is shorter than 8 bytes */
		if (len > 7)
			return false;
		key = text_key(s, len);
		for (j = 0; j < r->nvalues; j++)
			if (key == r->values_key[j])
				return true;
		return false;
	}
	if (r->intlen)
	{
		int64		v = r->intlen == 8 ? DatumGetInt64(d) :
			r->intlen == 4 ? (int64) DatumGetInt32(d) : (int64) DatumGetInt16(d);

		for (j = 0; j < r->nvalues; j++)
			if (v == r->values_int[j])
				return true;
		return false;
	}
	if (r->bytes_eq)
	{
		int			len;
		const char *s = datum_bytes(d, r->is_bpchar, &len);

		for (j = 0; j < r->nvalues; j++)
			if (len == r->value_lens[j] &&
				(len == 0 || (s[0] == r->value_bytes[j][0] &&
							  (len == 1 ||
							   memcmp(s + 1, r->value_bytes[j] + 1, len - 1) == 0))))
				return true;
		return false;
	}
	for (j = 0; j < r->nvalues; j++)
	{
		if (r->has_eq ?
			DatumGetBool(FunctionCall2Coll(&r->eqfn, r->collation, d, r->values[j])) :
			DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, d, r->values[j])) == 0)
			return true;
	}
	return false;
}

/*
 * row_ok
 *		Whether a row passes a row rule.  Nulls pass every rule but not_null.
 *		Unique and freshness are not row rules and pass here; reference must
 *		have its set loaded (the trigger checks references itself).
 */
static pg_attribute_always_inline bool
row_ok(QualityState *qs, QualityRule *r, TupleTableSlot *slot)
{
	Datum	   *values = slot->tts_values;
	bool	   *nulls = slot->tts_isnull;
	AttrNumber	a = r->nitems > 0 ? r->attnums[0] - 1 : 0;
	const char *s;
	int			len;
	int			j;

	if (r->kind == QK_NOT_NULL)
	{
		for (j = 0; j < r->nitems; j++)
			if (nulls[r->attnums[j] - 1])
				return false;
		return true;
	}
	if (r->kind == QK_CUSTOM)
	{
		bool		isnull;
		Datum		d;

		qs->econtext->ecxt_scantuple = slot;
		d = ExecEvalExprSwitchContext(r->exprstate, qs->econtext, &isnull);
		return isnull || DatumGetBool(d);
	}
	if (nulls[a])
		return true;
	switch (r->kind)
	{
		case QK_PATTERN:
			return pattern_ok(r, values[a]);
		case QK_ID_CARD:
			s = value_text(r, values[a], &len);
			return pubdata_id_card_ok(s, len, qs->today);
		case QK_USCC:
			s = value_text(r, values[a], &len);
			return pubdata_uscc_ok(s, len);
		case QK_MOBILE:
			s = value_text(r, values[a], &len);
			return pubdata_mobile_ok(s, len);
		case QK_RANGE:
			return range_ok(r, values[a]);
		case QK_ALLOWED_VALUES:
			return allowed_ok(r, values[a]);
		case QK_DATE_NOT_FUTURE:
			if (r->typid == DATEOID)
				return DatumGetDateADT(values[a]) <= qs->today;
			if (r->typid == TIMESTAMPOID)
				return DatumGetTimestamp(values[a]) <= qs->localnow;
			return DatumGetTimestampTz(values[a]) <= qs->now;
		case QK_REFERENCE:
			{
				uint64		h;

				if (!key_hash(r, values, nulls, &h))
					return true;
				return reference_contains(r->set, h);
			}
		default:
			return true;
	}
}

/*
 * quality_row_ok
 *		row_ok for the trigger.
 */
bool
quality_row_ok(QualityState *qs, QualityRule *r, TupleTableSlot *slot)
{
	return row_ok(qs, r, slot);
}

/*
 * note_newest
 *		A freshness rule keeps the newest value of its column.
 */
static inline void
note_newest_value(QualityRule *r, Datum d, bool isnull)
{
	if (isnull)
		return;
	if (!r->has_newest ||
		DatumGetInt32(FunctionCall2Coll(&r->cmpfn, r->collation, d, r->newest)) > 0)
	{
		r->newest = d;			/* date or timestamp: by value */
		r->has_newest = true;
	}
}

static inline void
note_newest(QualityRule *r, TupleTableSlot *slot)
{
	AttrNumber	a = r->attnums[0] - 1;

	note_newest_value(r, slot->tts_values[a], slot->tts_isnull[a]);
}

/*
 * quality_eval_row
 *		Every rule on one row (deformed up to qs->maxattr), at locator loc:
 *		failures counted (for the resource and the row's leaf) and the first
 *		ones kept as samples, unique keys counted, the newest values kept.
 */
void
quality_eval_row(QualityState *qs, TupleTableSlot *slot, QualityLocator loc)
{
	ExprContext *econtext = qs->econtext;
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	int			i;

	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->kind == QK_UNIQUE)
		{
			uint64		h;

			if (qs->source != QS_VIEW)
			{
				push_key(qs, r, slot->tts_values, slot->tts_isnull, loc);
				continue;
			}
			if (!key_hash(r, slot->tts_values, slot->tts_isnull, &h))
				continue;
			if (unique_add_now(qs, r, h, loc) && r->nsamples < qs->sample_limit)
			{
				/* a view's row cannot be read again: keep it as it is now */
				StringInfoData buf;

				initStringInfo(&buf);
				quality_row_json(qs, r, slot, &buf, 0);
				r->sample_locs[r->nsamples] = h;
				r->sample_json[r->nsamples++] = MemoryContextStrdup(qs->cxt, buf.data);
			}
		}
		else if (r->kind == QK_FRESHNESS)
		{
			if (r->nitems > 0 && !r->skip)
				note_newest(r, slot);
		}
		else if (!row_ok(qs, r, slot))
		{
			r->failed++;
			r->leaf_failed[qs->curleaf]++;
			if (r->nsamples < qs->sample_limit)
				quality_note_failure(qs, r, slot, loc);
		}
	}
	MemoryContextSwitchTo(old);
	/* most rules allocate nothing: reset only when something was */
	if (!econtext->ecxt_per_tuple_memory->isReset)
		ResetExprContext(econtext);
}

/*
 * rule_failed
 *		A row of the batch fails a rule: counted, and kept as a sample while
 *		the rule wants more.
 */
static inline void
rule_failed(QualityState *qs, QualityRule *r, TupleTableSlot *slot, QualityLocator loc)
{
	r->failed++;
	r->leaf_failed[qs->curleaf]++;
	if (r->nsamples < qs->sample_limit)
		quality_note_failure(qs, r, slot, loc);
}

/*
 * row_memory_done
 *		After a rule on a row of a batch: what it allocated in the per-row
 *		context (a detoasted value, an output function's text) is freed at
 *		once, as after each row, not after the batch: a batch of large
 *		values must not hold them all.  Most rules allocate nothing.
 */
static inline void
row_memory_done(MemoryContext rowcxt)
{
	if (unlikely(!rowcxt->isReset))
		MemoryContextReset(rowcxt);
}

StaticAssertDecl(QUALITY_BATCH <= 64, "a batch's stored rows are the bits of a uint64");

/*
 * batch_slot
 *		Row i of the batch in its slot, deformed by PostgreSQL up to the
 *		last checked column: for what needs the row itself (a failure's
 *		sample, a custom or reference rule, a key of several columns).
 */
static inline TupleTableSlot *
batch_slot(QualityState *qs, QualityBatch *b, int i)
{
	TupleTableSlot *slot = b->slots[i];

	if (!(b->stored & (UINT64CONST(1) << i)))
	{
		ExecStoreHeapTuple(&b->tuples[i], slot, false);
		if (qs->maxattr > 0)
			slot_getsomeattrs(slot, qs->maxattr);
		b->stored |= UINT64CONST(1) << i;
	}
	return slot;
}

/*
 * deform_row
 *		Row i's columns up to b->natts: the checked ones into their arrays,
 *		the others stepped over.  The tuple has all of them (not fewer
 *		attributes than b->natts: quality_eval_batch checks).  The heap
 *		tuple format as PostgreSQL's own deforming reads it: a null bitmap
 *		when the row has nulls, each value at its type's alignment except a
 *		varlena with a 1-byte header (which starts on any byte; a zero
 *		byte is padding before an aligned 4-byte header), fixed-length
 *		values by value or by pointer as the type is passed.
 */
static inline void
deform_row(QualityBatch *b, HeapTupleHeader tup, int i)
{
	const QualityAtt *atts = b->atts;
	bool		hasnulls = (tup->t_infomask & HEAP_HASNULL) != 0;
	bits8	   *bp = tup->t_bits;
	char	   *tp = (char *) tup + tup->t_hoff;
	uint32		off = 0;
	int			a;

	for (a = 0; a < b->natts; a++)
	{
		const QualityAtt *at = &atts[a];
		char	   *p;

		if (hasnulls && att_isnull(a, bp))
		{
			if (at->col >= 0)
			{
				b->values[at->col * QUALITY_BATCH + i] = (Datum) 0;
				b->nulls[at->col * QUALITY_BATCH + i] = true;
			}
			continue;
		}
		p = tp + off;
		if (at->len == -1)
		{
			uint8		h = *(uint8 *) p;

			/* the usual case first: a short inline value (1-byte header) */
			if (likely((h & 0x01) && h != 0x01))
				off += h >> 1;
			else
			{
				if (h == 0)
				{
					off = (off + at->alignmask) & ~(uint32) at->alignmask;
					p = tp + off;
				}
				off += VARSIZE_ANY(p);
			}
		}
		else
		{
			off = (off + at->alignmask) & ~(uint32) at->alignmask;
			p = tp + off;
			off += at->len;
		}
		if (at->col >= 0)
		{
			Datum		d;

			if (!at->byval)
				d = PointerGetDatum(p);
			else if (at->len == 8)
				d = Int64GetDatum(*(int64 *) p);
			else if (at->len == 4)
				d = Int32GetDatum(*(int32 *) p);
			else if (at->len == 2)
				d = Int16GetDatum(*(int16 *) p);
			else
				d = CharGetDatum(*p);
			/* the batch's nulls were cleared before its rows */
			b->values[at->col * QUALITY_BATCH + i] = d;
		}
	}
}

/*
 * batch_deform
 *		The batch's rows into the checked columns' arrays: by deform_row,
 *		or through the row's slot when the batch cannot read it itself (a
 *		row with fewer attributes than the table, whose missing ones take
 *		their defaults, or a column the deformer does not read).
 */
static void
batch_deform(QualityState *qs, QualityBatch *b)
{
	int			i,
				a;

	memset(b->nulls, 0, sizeof(bool) * QUALITY_BATCH * b->ncols);
	for (i = 0; i < b->n; i++)
	{
		HeapTupleHeader tup = b->tuples[i].t_data;
		TupleTableSlot *slot;

		if (likely(b->own_deform && HeapTupleHeaderGetNatts(tup) >= b->natts))
		{
			deform_row(b, tup, i);
			continue;
		}
		slot = batch_slot(qs, b, i);
		for (a = 0; a < b->natts; a++)
			if (b->atts[a].col >= 0)
			{
				b->values[b->atts[a].col * QUALITY_BATCH + i] = slot->tts_values[a];
				b->nulls[b->atts[a].col * QUALITY_BATCH + i] = slot->tts_isnull[a];
			}
	}
}

/*
 * FOR_VALUES
 *		The loop of a rule over a batch's non-null values of its column
 *		(arrays cv, cn): the row fails when ok (an expression of the value
 *		d) is false.  FOR_SCALARS, the same for checks of by-value datums,
 *		which allocate nothing.
 */
#define FOR_EACH_VALUE(ok, after) \
	for (i = 0; i < n; i++) \
	{ \
		Datum		d = cv[i]; \
 \
		if (cn[i]) \
			continue; \
		if (!(ok)) \
			rule_failed(qs, r, batch_slot(qs, b, i), locs[i]); \
		after; \
	}
#define FOR_VALUES(ok) FOR_EACH_VALUE(ok, row_memory_done(rowcxt))
#define FOR_SCALARS(ok) FOR_EACH_VALUE(ok, (void) 0)

/*
 * quality_eval_batch
 *		Every rule on the batch's rows of a table or partition (at locators
 *		b->locs), rule by rule: the rows deformed into their checked
 *		columns' arrays first (batch_deform), then each rule's loop over
 *		its column, its kind and fast path decided once for the batch.  The
 *		same outcome as quality_eval_row on each row in turn (a rule's
 *		failures, samples and keys come in the rows' order).  Not for views
 *		(whose samples keep the row).
 */
void
quality_eval_batch(QualityState *qs, QualityBatch *b)
{
	ExprContext *econtext = qs->econtext;
	MemoryContext rowcxt = econtext->ecxt_per_tuple_memory;
	MemoryContext old = MemoryContextSwitchTo(rowcxt);
	QualityLocator *locs = b->locs;
	int			n = b->n;
	int			ri;
	int			i;

	Assert(qs->source != QS_VIEW);
	b->stored = 0;
	batch_deform(qs, b);
	for (ri = 0; ri < qs->nrules; ri++)
	{
		QualityRule *r = &qs->rules[ri];
		AttrNumber	a = r->nitems > 0 ? r->attnums[0] - 1 : 0;
		int			col = r->nitems > 0 ? b->atts[a].col : 0;
		const Datum *cv = b->values + col * QUALITY_BATCH;
		const bool *cn = b->nulls + col * QUALITY_BATCH;
		const char *txt;
		int			len;

		switch (r->kind)
		{
			case QK_UNIQUE:
				if (r->has_window)
				{
					for (i = 0; i < n; i++)
						if (!cn[i])
							push_window_key(qs, r, cv[i], locs[i]);
					break;
				}
				for (i = 0; i < n; i++)
				{
					if (r->nitems == 1)
					{
						/* one column: its array, hashed as key_hash hashes it */
						if (cn[i])
							continue;
						unique_push(qs, r, item_hash(r, 0, cv[i]), locs[i]);
					}
					else
					{
						TupleTableSlot *slot = batch_slot(qs, b, i);

						push_key(qs, r, slot->tts_values, slot->tts_isnull, locs[i]);
					}
					row_memory_done(rowcxt);
				}
				break;
			case QK_FRESHNESS:
				if (r->nitems > 0 && !r->skip)
					for (i = 0; i < n; i++)
						note_newest_value(r, cv[i], cn[i]);
				break;
			case QK_NOT_NULL:
				if (r->nitems == 1)
				{
					for (i = 0; i < n; i++)
						if (cn[i])
							rule_failed(qs, r, batch_slot(qs, b, i), locs[i]);
					break;
				}
				for (i = 0; i < n; i++)
				{
					TupleTableSlot *slot = batch_slot(qs, b, i);

					if (!row_ok(qs, r, slot))
						rule_failed(qs, r, slot, locs[i]);
					row_memory_done(rowcxt);
				}
				break;
			case QK_PATTERN:
				FOR_VALUES(pattern_ok(r, d));
				break;
			case QK_ID_CARD:
				{
					int32		today_ymd = pubdata_date_ymd(qs->today);

					FOR_VALUES((txt = value_text(r, d, &len),
								pubdata_id_card_ok_ymd(txt, len, today_ymd)));
				}
				break;
			case QK_USCC:
				FOR_VALUES((txt = value_text(r, d, &len), pubdata_uscc_ok(txt, len)));
				break;
			case QK_MOBILE:
				FOR_VALUES((txt = value_text(r, d, &len), pubdata_mobile_ok(txt, len)));
				break;
			case QK_RANGE:
				if (r->intlen == 4)
				{
					int64		lo = r->has_min ? r->min_int : PG_INT64_MIN;
					int64		hi = r->has_max ? r->max_int : PG_INT64_MAX;

					FOR_SCALARS((int64) DatumGetInt32(d) >= lo && (int64) DatumGetInt32(d) <= hi);
					break;
				}
				FOR_VALUES(range_ok(r, d));
				break;
			case QK_ALLOWED_VALUES:
				FOR_VALUES(allowed_ok(r, d));
				break;
			case QK_DATE_NOT_FUTURE:
				if (r->typid == DATEOID)
				{
					DateADT		today = qs->today;

					FOR_SCALARS(DatumGetDateADT(d) <= today);
				}
				else if (r->typid == TIMESTAMPOID)
				{
					Timestamp	localnow = qs->localnow;

					FOR_SCALARS(DatumGetTimestamp(d) <= localnow);
				}
				else
				{
					TimestampTz now = qs->now;

					FOR_SCALARS(DatumGetTimestampTz(d) <= now);
				}
				break;
			default:
				/* reference, custom: row by row */
				for (i = 0; i < n; i++)
				{
					TupleTableSlot *slot = batch_slot(qs, b, i);

					if (!row_ok(qs, r, slot))
						rule_failed(qs, r, slot, locs[i]);
					row_memory_done(rowcxt);
				}
				break;
		}
	}
	MemoryContextSwitchTo(old);
}
