/*-------------------------------------------------------------------------
 *
 * quality_unique.c
 *	  Counting the rows whose key occurs more than once, within a memory
 *	  budget, for any number of rows.
 *
 * A key is its 64-bit hash (quality_row.c), counted in a UniqueTable: open
 * addressing over 16-byte slots holding the hash and, in one word, the
 * place of the key's first row (48 bits, a QualityLocator) and its count
 * (16 bits; more go to a small overflow set).  The table grows up to the
 * rule's share of the budget (pubdata.quality_mem, else
 * maintenance_work_mem) and never past it.
 *
 * Beyond it the keys spill, the way a hash aggregate spills: a key already
 * in the table is counted there; a new key is written, with its row's
 * place, to one of P temporary files chosen by bits of its hash that the
 * table does not use for its slots (a "batch").  Keys in the table and
 * keys in the batches are disjoint, and so are the batches, so each batch
 * is counted on its own after the scan in a table of its own; a batch
 * still too large for the budget is split again by the next bits of the
 * hash.  Cost stays linear in the rows: each spilled key is written and
 * read once per level (P is chosen from the planner's row estimate so that
 * one level is the rule), with no sorting.  A parallel measurement spills
 * every key into batches of a shared file set (one file per participant,
 * in block-sized chunks of one batch each, and an index of the chunks) and
 * counts the batches in all its processes (quality_parallel.c), each batch
 * in the table of the previous one, cleared.
 *
 * A key of one integer, date or timestamp column that falls in the range
 * the column's statistics give (the window, below) skips all of this: it
 * is counted by direct address, in one word a key, and never spilled
 * (in a parallel measurement: unless another row of the key comes).
 *
 * Counts are exact up to 64-bit hash collisions (none for one integer,
 * date or timestamp column: those are hashed by a bijection).  When the
 * resource has several partitions, each row of a duplicated key is also
 * counted against its partition: the first two rows when the key is seen a
 * second time, each later one as it comes, so that the partitions' counts
 * add up to the resource's.
 *
 *-------------------------------------------------------------------------
 */
#include "pubdata.h"
#include "quality_int.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_statistic.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/buffile.h"
#include "storage/dsm_impl.h"
#include "storage/sharedfileset.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/syscache.h"

#include <fcntl.h>
#include <float.h>
#include <sys/mman.h>

/*
 * Unique keys reach the table this many keys after their slot was
 * prefetched, so that the cache misses of a table larger than the CPU caches
 * overlap with the work on the next rows instead of stalling the scan.
 */
#define UNIQUE_RING 16

/* a slot's value: first row's locator << 16 | count */
#define UT_COUNT_MAX 0xFFFF

/* one spilled key: its hash and its row's place */
typedef struct SpillRecord
{
	uint64		hash;
	uint64		loc;
} SpillRecord;

/* records read from a batch at a time */
#define SPILL_READ 256

/* records gathered for a batch before they are written, in one call */
#define SPILL_GATHER 32

/*
 * The batches' gather buffers are a power of 2 of bytes long, and keys
 * spread evenly, so every buffer is filled at about the same offset at the
 * same time: laid out back to back, the lines being written would all fall
 * in the same few sets of the CPU's caches and evict one another at every
 * key.  A cache line (4 records) between consecutive buffers spreads them
 * over the sets.
 */
#define SPILL_PAD 4

/*
 * A parallel participant writes all its batches to one file of the shared
 * set, in chunks of one block, each holding records of one batch (a file
 * per batch and participant cost more to create and delete than to fill);
 * an index file beside it gives each chunk's batch and number of records.
 */
#define SHARED_CHUNK ((int) (BLCKSZ / sizeof(SpillRecord)))
#define CHUNK_ENTRY(batch, n) (((uint32) (batch) << 16) | (uint32) (n))
#define CHUNK_BATCH(e) ((int) ((e) >> 16))
#define CHUNK_NRECS(e) ((int) ((e) & 0xFFFF))

/* hash set of 64-bit keys for counts beyond UT_COUNT_MAX */
typedef struct U64Entry
{
	uint64		key;
	uint64		extra;
	char		status;
} U64Entry;

#define SH_PREFIX u64set
#define SH_ELEMENT_TYPE U64Entry
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, k) ((uint32) ((k) ^ ((k) >> 32)))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct UniqueTable
{
	uint64	   *slots;			/* 2 * size words: hash, locator << 16 | count */
	void	   *base;			/* the mapping that holds them */
	size_t		len;
	size_t		bytes;			/* of it in use */
	uint64		size;
	uint64		members;
	uint64		grow_at;		/* members at which to double (or stop) */
	uint64		max_size;		/* largest size within the share */
	bool		has_zero;		/* the key hash 0 (0 marks an empty slot) */
	uint64		zero_val;
	u64set_hash *overflow;		/* hash -> count beyond UT_COUNT_MAX */
	uint64	   *dups;			/* keys seen twice, so that the end need not */
	uint64		ndups;			/* visit every slot; NULL when there are more */
	uint64		maxdups;		/* than maxdups of them */
	uint64		dupcap;
	MemoryContext cxt;			/* deleting it unmaps the slots */
	MemoryContextCallback cb;
} UniqueTable;

/* keys that did not fit: batches by hash */
typedef struct UniqueSpill
{
	int			nparts;			/* a power of 2; 0: nothing spilled */
	int			shift;			/* the batch is (hash >> shift) & (nparts - 1) */
	BufFile   **files;
	int64	   *nrecs;
	SpillRecord *gather;		/* gather_n records a batch, not yet written,
								 * the batches' buffers gather_stride apart */
	int		   *ngather;		/* of them in use */
	int			gather_n;
	int			gather_stride;
	BufFile    *one;			/* parallel: the participant's one file */
	uint32	   *chunks;			/* and its chunks (CHUNK_ENTRY) */
	int64		nchunks;
	int64		chunkcap;
} UniqueSpill;

struct QualityUnique
{
	UniqueTable *t;				/* NULL: every key spills (parallel scan) */
	Size		share;			/* bytes this rule may hold */
	UniqueSpill spill;
	SharedFileSet *fileset;		/* parallel: the batches are shared */
	int			participant;
	BufFile   **shared_files;	/* counting: each participant's file */
	uint32	  **shared_chunks;	/* and its chunks */
	int64	   *shared_nchunks;
	int			nshared;
	UniqueTable *spare;			/* a counted batch's table, kept for the next */

	/* the window of keys counted by direct address (r->has_window) */
	UniqueTable *wt;			/* its overflow set and keys seen twice (and,
								 * private, the mapping of its slots) */
	uint64	   *wslots;			/* private: a word a key, as a table's value */
	struct WindowShared *ws;	/* parallel: the window in the context's DSM */
	Size		wshare;			/* partition by partition: a window's bytes at most */
	pg_atomic_uint32 *wshared;	/* and its slots */
	uint32	   *wpriv;			/* or, split: this participant's slots
								 * (compact place + 1, WS_DUP) */
	uint64	   *wbits;			/* and its bitmap of the keys it has seen */
	int			nring;			/* keys whose slots were prefetched */
	int			ringpos;
	uint64		ring_hash[UNIQUE_RING];
	uint64		ring_loc[UNIQUE_RING];
};

/*
 * ut_home
 *		The first slot to probe for a key hash: its high bits scaled to the
 *		table's size (batches are chosen by its low bits).
 */
static inline uint64
ut_home(uint64 h, uint64 size)
{
#ifdef HAVE_INT128
	return (uint64) (((uint128) h * size) >> 64);
#else
	return (h >> 32) % size;
#endif
}

/*
 * ut_unmap
 *		Release a table's slots: the callback of its memory context, so
 *		that they are released on error as well.
 */
static void
ut_unmap(void *arg)
{
	UniqueTable *t = (UniqueTable *) arg;

	if (t->base)
		munmap(t->base, t->len);
	t->base = NULL;
	t->slots = NULL;
}

/*
 * ut_map
 *		Zeroed slots for a table of size slots: fresh anonymous memory (zero
 *		pages, no memset), on huge pages where the system allows it (a table
 *		larger than the CPU caches is read at random: with 4 kB pages nearly
 *		every key would also miss the TLB).
 */
static void
ut_map(QualityState *qs, UniqueTable *t, uint64 size)
{
	size_t		bytes = size * 2 * sizeof(uint64);
	size_t		huge = 2 * 1024 * 1024;
	size_t		len = bytes >= huge ? bytes + huge : bytes;
	char	   *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char	   *p;

	if (base == MAP_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on a request of size %zu for a uniqueness check.", bytes)));
	p = base;
	if (bytes >= huge)
	{
		p = (char *) TYPEALIGN(huge, base);
#ifdef MADV_HUGEPAGE
		(void) madvise(p, bytes, MADV_HUGEPAGE);
#endif
	}
	t->base = base;
	t->len = len;
	t->bytes = bytes;
	t->slots = (uint64 *) p;
	t->size = size;
	t->grow_at = size / 4 * 3;
	quality_mem_add(qs, bytes);
}

/*
 * ut_alloc
 *		An empty table in cxt, a context of its own: its slots are unmapped
 *		when the context goes; room for maxdups duplicated keys.
 */
static UniqueTable *
ut_alloc(QualityState *qs, MemoryContext cxt, uint64 maxdups)
{
	UniqueTable *t = MemoryContextAllocZero(cxt, sizeof(UniqueTable));

	t->cxt = cxt;
	t->cb.func = ut_unmap;
	t->cb.arg = t;
	MemoryContextRegisterResetCallback(cxt, &t->cb);
	t->overflow = u64set_create(cxt, 16, NULL);
	t->maxdups = Max(maxdups, 1024);
	t->dupcap = 1024;
	t->dups = MemoryContextAllocHuge(cxt, sizeof(uint64) * t->dupcap);
	quality_mem_add(qs, sizeof(uint64) * t->dupcap);
	return t;
}

/*
 * ut_create
 *		A table for about expected keys, growing up to 3/4 of the share (16
 *		bytes a slot and at most 1 for the list of duplicated keys); the
 *		batch buffers of spilled keys take at most 1/16 of it a level.
 */
static UniqueTable *
ut_create(QualityState *qs, Size share, double expected)
{
	uint64		max_size = Max(share / 4 * 3 / (2 * sizeof(uint64) + 1), 1024);
	UniqueTable *t = ut_alloc(qs, AllocSetContextCreate(qs->cxt, "pubdata unique table", ALLOCSET_SMALL_SIZES),
							  max_size / 8);

	t->max_size = max_size;
	/* room for the expected keys at 3/4 full, and some for growth */
	expected = Max(expected, 1024);
	ut_map(qs, t, (uint64) Min(expected * 1.5, (double) max_size));
	return t;
}

/*
 * ut_destroy
 *		Give a table's memory back.
 */
static void
ut_destroy(QualityState *qs, UniqueTable *t)
{
	quality_mem_sub(qs, t->bytes + (t->dups ? sizeof(uint64) * t->dupcap : 0));
	MemoryContextDelete(t->cxt);
}

/*
 * ut_batch_table
 *		A table for a batch of about expected keys: the previous batch's
 *		table when its mapping is large enough, cleared (a memset of the
 *		slots in use costs far less than the page faults of fresh memory,
 *		one batch after another), else a new one.
 */
static UniqueTable *
ut_batch_table(QualityState *qs, QualityUnique *u, double expected)
{
	UniqueTable *t = u->spare;
	uint64		size;

	if (t == NULL)
		return ut_create(qs, u->share, expected);
	u->spare = NULL;
	expected = Max(expected, 1024);
	size = (uint64) Min(expected * 1.5, (double) t->max_size);
	if (size * 2 * sizeof(uint64) > t->bytes)
	{
		MemoryContextDelete(t->cxt);
		return ut_create(qs, u->share, expected);
	}
	size = t->bytes / (2 * sizeof(uint64));		/* the whole mapping: fewer probes */
	memset(t->slots, 0, t->bytes);
	t->size = size;
	t->grow_at = size / 4 * 3;
	t->members = 0;
	t->has_zero = false;
	t->zero_val = 0;
	u64set_reset(t->overflow);
	t->ndups = 0;
	if (t->dups == NULL)
	{
		t->dupcap = 1024;
		t->dups = MemoryContextAllocHuge(t->cxt, sizeof(uint64) * t->dupcap);
	}
	quality_mem_add(qs, t->bytes + sizeof(uint64) * t->dupcap);
	return t;
}

/*
 * ut_batch_done
 *		A batch is counted: its table is kept for the next batch (its memory
 *		no longer counted as in use; the previous spare, if any, freed).
 */
static void
ut_batch_done(QualityState *qs, QualityUnique *u, UniqueTable *t)
{
	quality_mem_sub(qs, t->bytes + (t->dups ? sizeof(uint64) * t->dupcap : 0));
	if (u->spare)
		MemoryContextDelete(u->spare->cxt);
	u->spare = t;
}

/*
 * unique_release
 *		Free the table kept between batches.
 */
void
unique_release(QualityState *qs, QualityRule *r)
{
	QualityUnique *u = r->uq;
	int			i;

	if (u == NULL)
		return;
	if (u->wt)
	{
		ut_destroy(qs, u->wt);
		u->wt = NULL;
	}
	if (u->spare)
	{
		MemoryContextDelete(u->spare->cxt);
		u->spare = NULL;
	}
	for (i = 0; i < u->nshared; i++)
	{
		if (u->shared_files[i])
		{
			BufFileClose(u->shared_files[i]);
			quality_mem_sub(qs, BLCKSZ + 64 + sizeof(uint32) * u->shared_nchunks[i]);
		}
		if (u->shared_chunks[i])
			pfree(u->shared_chunks[i]);
	}
	u->nshared = 0;
	u->shared_files = NULL;
}

/*
 * ut_grow
 *		Double a table (up to its largest size), moving its keys.
 */
static void
ut_grow(QualityState *qs, UniqueTable *t)
{
	uint64	   *old = t->slots;
	uint64		oldsize = t->size;
	void	   *oldbase = t->base;
	size_t		oldlen = t->len;
	size_t		oldbytes = t->bytes;
	uint64		size = Min(t->size * 2, t->max_size);
	uint64		i;

	ut_map(qs, t, size);
	for (i = 0; i < oldsize; i++)
	{
		uint64		k = old[2 * i];
		uint64		p;

		if (k == 0)
			continue;
		for (p = ut_home(k, size); t->slots[2 * p] != 0; p = (p + 1 == size) ? 0 : p + 1)
			;
		t->slots[2 * p] = k;
		t->slots[2 * p + 1] = old[2 * i + 1];
	}
	munmap(oldbase, oldlen);
	quality_mem_sub(qs, oldbytes);
}

/*
 * ut_note_dup
 *		Remember a key that has just been seen a second time; past maxdups
 *		such keys, forget them all (the end then visits every slot).
 */
static void
ut_note_dup(QualityState *qs, UniqueTable *t, uint64 h)
{
	if (t->dups == NULL)
		return;
	if (t->ndups == t->maxdups)
	{
		quality_mem_sub(qs, sizeof(uint64) * t->dupcap);
		pfree(t->dups);
		t->dups = NULL;
		return;
	}
	if (t->ndups == t->dupcap)
	{
		uint64		n = Min(t->dupcap * 2, t->maxdups);

		t->dups = repalloc_huge(t->dups, sizeof(uint64) * n);
		quality_mem_add(qs, sizeof(uint64) * (n - t->dupcap));
		t->dupcap = n;
	}
	t->dups[t->ndups++] = h;
}

/*
 * ut_hit
 *		One more row of a key held in the table, whose value is *val: count
 *		it (beyond UT_COUNT_MAX in the overflow set), keep the smaller place
 *		as the key's first row, count the rows against their partitions.
 *		True when the key has just become a duplicate.
 */
static inline bool
ut_hit(QualityState *qs, QualityRule *r, UniqueTable *t, uint64 *val, uint64 h, QualityLocator loc)
{
	uint64		count = *val & UT_COUNT_MAX;
	QualityLocator first = *val >> 16;

	if (unlikely(qs->nleaves > 1))
	{
		if (count == 1)
			r->leaf_failed[locator_leaf(qs, first)]++;
		r->leaf_failed[locator_leaf(qs, loc)]++;
	}
	if (loc < first)
		*val = (loc << 16) | count;
	if (count == 1)
		ut_note_dup(qs, t, h);
	if (count < UT_COUNT_MAX)
		(*val)++;
	else
	{
		bool		found;
		U64Entry   *e = u64set_insert(t->overflow, h, &found);

		e->extra = found ? e->extra + 1 : 1;
	}
	return count == 1;
}

/*
 * ut_insert
 *		Count one key in a table: true if it was there or fitted (*became_dup
 *		set when it has just been seen twice), false when it is new and the
 *		table is full.
 */
static inline bool
ut_insert(QualityState *qs, QualityRule *r, UniqueTable *t, uint64 h, QualityLocator loc,
		  bool *became_dup)
{
	uint64		p;

	*became_dup = false;
	if (unlikely(h == 0))
	{
		if (!t->has_zero)
		{
			t->has_zero = true;
			t->zero_val = (loc << 16) | 1;
		}
		else
			*became_dup = ut_hit(qs, r, t, &t->zero_val, h, loc);
		return true;
	}
	for (;;)
	{
		for (p = ut_home(h, t->size);; p = (p + 1 == t->size) ? 0 : p + 1)
		{
			uint64	   *slot = &t->slots[2 * p];

			if (slot[0] == h)
			{
				*became_dup = ut_hit(qs, r, t, &slot[1], h, loc);
				return true;
			}
			if (slot[0] == 0)
			{
				if (likely(t->members < t->grow_at))
				{
					slot[0] = h;
					slot[1] = (loc << 16) | 1;
					t->members++;
					return true;
				}
				break;
			}
		}
		/* the key is new and the table at its growth point */
		if (t->size >= t->max_size)
			return false;
		ut_grow(qs, t);
	}
}

/*
 * ut_count_key
 *		Count a key of the table at the end: when it occurs more than once,
 *		its rows fail, and its first row is a sample candidate.
 */
static void
ut_count_key(QualityState *qs, QualityRule *r, UniqueTable *t, uint64 h, uint64 val)
{
	uint64		count = val & UT_COUNT_MAX;

	if (count == UT_COUNT_MAX)
	{
		U64Entry   *e = u64set_lookup(t->overflow, h);

		if (e)
			count += e->extra;
	}
	if (count > 1)
	{
		r->failed += count;
		if (qs->source != QS_VIEW)
			quality_add_sample(qs, r, val >> 16, (uint32) Min(count, PG_UINT32_MAX));
	}
}

/*
 * ut_find
 *		The value of a key the table holds.
 */
static uint64
ut_find(UniqueTable *t, uint64 h)
{
	uint64		p;

	if (h == 0)
		return t->zero_val;
	for (p = ut_home(h, t->size); t->slots[2 * p] != h; p = (p + 1 == t->size) ? 0 : p + 1)
		Assert(t->slots[2 * p] != 0);
	return t->slots[2 * p + 1];
}

/*
 * ut_count_all
 *		Count every duplicated key of a table: only the keys seen twice when
 *		their list was kept, else every slot.  A view's samples (kept as
 *		their rows were read) get their keys' counts.
 */
static void
ut_count_all(QualityState *qs, QualityRule *r, UniqueTable *t)
{
	uint64		i;

	if (t->has_zero)
		ut_count_key(qs, r, t, 0, t->zero_val);
	if (t->dups)
	{
		for (i = 0; i < t->ndups; i++)
			if (t->dups[i] != 0)	/* the key hash 0 was counted above */
				ut_count_key(qs, r, t, t->dups[i], ut_find(t, t->dups[i]));
	}
	else
	{
		for (i = 0; i < t->size; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			if (t->slots[2 * i] != 0)
				ut_count_key(qs, r, t, t->slots[2 * i], t->slots[2 * i + 1]);
		}
	}
	if (qs->source == QS_VIEW)
	{
		for (i = 0; i < r->nsamples; i++)
		{
			uint64		val = ut_find(t, r->sample_locs[i]);
			uint64		count = val & UT_COUNT_MAX;
			U64Entry   *e = count == UT_COUNT_MAX ? u64set_lookup(t->overflow, r->sample_locs[i]) : NULL;

			r->sample_counts[i] = (uint32) Min(count + (e ? e->extra : 0), PG_UINT32_MAX);
		}
	}
}

/*
 * The window: a unique rule on one integer, date or timestamp column whose
 * keys, by the column's statistics, fill a range densely enough counts the
 * keys of that range (a little wider) by direct address, in one word a key
 * (the value a table's slot holds: first row's locator << 16 | count), at
 * index key - win_lo: no hashing, no probing, no spilling.  Keys outside
 * the window go to the table and its batches as any key does; the two are
 * disjoint, so counts stay exact whatever the statistics say.  A parallel
 * measurement keeps the window in its dynamic shared memory, 4 bytes a key:
 * the place of the key's first row to come (compacted to 30 bits, else no
 * window) and a flag set by compare-and-swap when another row of the key
 * comes; that row, and the first one when it sets the flag, go to the
 * batches, which count the keys of more than one row exactly as they count
 * any other key (so the window itself needs no counting at the end, and
 * every row of a duplicated key is counted in one place).  When the
 * participants' own windows fit the budget, the window is split instead:
 * each participant counts its rows' keys in private slots (plain stores:
 * no compare-and-swap for every key, which on this path cost more than
 * any other rule), and marks them in a private bitmap; after the scan
 * each adds its bitmap to a shared one (one atomic OR a word of 64 keys),
 * which marks the keys more than one participant has seen, and each then
 * sends its first row of those keys to the batches.  A resource
 * partitioned by the unique column itself has a window a partition, in
 * turn (unique_leafwise).
 */

/*
 * The window's header in a parallel context's DSM, then either its slots
 * (shared) or, split, two bitmaps of its keys: those some participant has
 * seen, and those more than one has.
 */
typedef struct WindowShared
{
	int64		lo;
	uint64		n;				/* 0: no window (places need more than 30 bits) */
	int			blkbits;		/* a compact place: leaf, block, offset */
	bool		split;			/* private slots and the two bitmaps */
	/* pg_atomic_uint32 slots[n]: compact place + 1, WS_DUP */
	/* or, split: pg_atomic_uint64 seen[WS_WORDS(n)], multi[WS_WORDS(n)] */
} WindowShared;

/* the 64-bit words of a bitmap of n keys */
#define WS_WORDS(n) (((n) + 63) / 64)

/* a heap's offsets in a compact place (MaxHeapTuplesPerPage < 512) */
#define WS_OFFBITS 9
/* a second row of the key has come: its rows are in the batches */
#define WS_DUP 0x80000000U

static void window_count_all(QualityState *qs, QualityRule *r, QualityUnique *u);
static UniqueTable *ut_create_window(QualityState *qs, uint64 n, bool map);
static inline void spill_write(QualityState *qs, UniqueSpill *sp, uint64 h, QualityLocator loc);

/* the window is at most this many times wider than the expected rows */
#define WINDOW_SPARSE 4

static pg_atomic_uint32 *
ws_slots(WindowShared *ws)
{
	return (pg_atomic_uint32 *) ((char *) ws + MAXALIGN(sizeof(WindowShared)));
}

/* a split window's bitmaps: seen, then multi (WS_WORDS(n) words each) */
static pg_atomic_uint64 *
ws_bits(WindowShared *ws)
{
	return (pg_atomic_uint64 *) ((char *) ws + MAXALIGN(sizeof(WindowShared)));
}

/*
 * ws_compact / ws_expand
 *		A row's place in 30 bits and back: leaf, block in blkbits, offset.
 */
static inline uint32
ws_compact(QualityState *qs, WindowShared *ws, QualityLocator loc)
{
	uint64		leaf = loc >> (qs->offbits + qs->blockbits);
	uint64		blk = (loc >> qs->offbits) & ((UINT64CONST(1) << qs->blockbits) - 1);
	uint64		off = loc & ((UINT64CONST(1) << qs->offbits) - 1);

	return (uint32) ((((leaf << ws->blkbits) | blk) << WS_OFFBITS) | off);
}

static inline QualityLocator
ws_expand(QualityState *qs, WindowShared *ws, uint32 c)
{
	uint64		off = c & ((1U << WS_OFFBITS) - 1);
	uint64		blk = (c >> WS_OFFBITS) & ((UINT64CONST(1) << ws->blkbits) - 1);
	uint64		leaf = (uint64) c >> (WS_OFFBITS + ws->blkbits);

	return (leaf << (qs->offbits + qs->blockbits)) | (blk << qs->offbits) | off;
}

/*
 * stats_bounds
 *		Widen [*lo, *hi] to the smallest and largest values the statistics
 *		of relid's column attnum hold (its histogram and most common
 *		values); false when it has none.
 */
static bool
stats_bounds(Oid relid, AttrNumber attnum, bool inh, char hk, int64 *lo, int64 *hi)
{
	static const int kinds[] = {STATISTIC_KIND_HISTOGRAM, STATISTIC_KIND_MCV};
	HeapTuple	tup;
	bool		found = false;
	int			k,
				i;

	if (attnum <= 0)
		return false;
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid), Int16GetDatum(attnum), BoolGetDatum(inh));
	if (!HeapTupleIsValid(tup))
		return false;
	for (k = 0; k < lengthof(kinds); k++)
	{
		AttStatsSlot sslot;

		if (!get_attstatsslot(&sslot, tup, kinds[k], InvalidOid, ATTSTATSSLOT_VALUES))
			continue;
		for (i = 0; i < sslot.nvalues; i++)
		{
			Datum		d = sslot.values[i];
			int64		v = hk == HK_INT2 ? (int64) DatumGetInt16(d) :
				hk == HK_INT4 ? (int64) DatumGetInt32(d) : DatumGetInt64(d);

			*lo = Min(*lo, v);
			*hi = Max(*hi, v);
			found = true;
		}
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(tup);
	return found;
}

/*
 * window_of
 *		Rule r's window for values from lo to hi (from statistics) and about
 *		expected rows: the range with a margin of 1/32 on each side, if it
 *		is at most WINDOW_SPARSE times the expected rows and its slots fit
 *		limit bytes.  Sets the rule's window; returns the bytes of its
 *		slots (0: no window).
 */
static Size
window_of(QualityRule *r, int64 lo, int64 hi, double expected, Size limit)
{
	double		span,
				margin,
				n;

	r->has_window = false;
	if (lo > hi || lo < PG_INT64_MIN / 4 || hi > PG_INT64_MAX / 4)
		return 0;
	span = (double) hi - (double) lo;
	margin = floor(span / 32) + 16;
	n = span + 2 * margin + 1;
	if (n > WINDOW_SPARSE * Max(expected, 1024.0) || n * sizeof(uint64) > (double) limit)
		return 0;
	r->has_window = true;
	r->win_lo = lo - (int64) margin;
	r->win_n = (uint64) n;
	ereport(DEBUG1,
			(errmsg_internal("unique rule on \"%s\": keys %lld to %lld counted by direct address",
							 r->itemnames[0], (long long) r->win_lo,
							 (long long) (r->win_lo + (int64) r->win_n - 1))));
	return (Size) r->win_n * sizeof(uint64);
}

/*
 * window_kind
 *		How rule r's key is hashed when it may have a window (one integer,
 *		date or timestamp column), else 0.
 */
static char
window_kind(QualityRule *r)
{
	char		hk;

	if (r->kind != QK_UNIQUE || r->nitems != 1 || r->attnums[0] <= 0)
		return 0;
	hk = r->hashkinds[0];
	return (hk == HK_INT2 || hk == HK_INT4 || hk == HK_INT8) ? hk : 0;
}

/*
 * unique_window_plan
 *		Whether rule r counts a window of keys by direct address, and which:
 *		one integer, date or timestamp column of a table or partitioned
 *		table, whose statistics (the table's; a partitioned table's own,
 *		else its partitions') give the range of its values (window_of).
 */
Size
unique_window_plan(QualityState *qs, QualityRule *r, Size limit)
{
	char		hk = window_kind(r);
	int64		lo = PG_INT64_MAX,
				hi = PG_INT64_MIN;
	bool		found = false;

	r->has_window = false;
	if (hk == 0 || qs->source == QS_VIEW)
		return 0;
	if (qs->source == QS_TABLE)
		found = stats_bounds(qs->relid, r->attnums[0], false, hk, &lo, &hi);
	else
	{
		found = stats_bounds(qs->relid, r->attnums[0], true, hk, &lo, &hi);
		if (!found)
		{
			char	   *name = get_attname(qs->relid, r->attnums[0], false);
			int			i;

			for (i = 0; i < qs->nleaves; i++)
				found |= stats_bounds(qs->leaves[i].relid, get_attnum(qs->leaves[i].relid, name),
									  false, hk, &lo, &hi);
		}
	}
	if (!found)
		return 0;
	return window_of(r, lo, hi, qs->expected_rows, limit);
}

/*
 * unique_leafwise
 *		Whether the unique rules can count their keys partition by
 *		partition: the resource is partitioned, on one level, by one column,
 *		and every unique rule is on that column alone, an integer, date or
 *		timestamp.  A value goes to one partition only, so the partitions'
 *		keys are disjoint: each partition has a window of its own, from its
 *		own statistics, counted when the partition has been read.
 */
bool
unique_leafwise(QualityState *qs)
{
	PartitionKey key;
	int			i;

	if (qs->source != QS_PARTITIONED || qs->nunique == 0 || qs->nleaves == 0)
		return false;
	key = RelationGetPartitionKey(qs->rel);
	if (key == NULL || key->partnatts != 1 || key->partattrs[0] == 0)
		return false;
	for (i = 0; i < qs->nrules; i++)
	{
		QualityRule *r = &qs->rules[i];

		if (r->kind == QK_UNIQUE && (window_kind(r) == 0 || r->attnums[0] != key->partattrs[0]))
			return false;
	}
	for (i = 0; i < qs->nleaves; i++)
		if (get_partition_parent(qs->leaves[i].relid, false) != qs->relid)
			return false;
	return true;
}

/*
 * unique_leaf_begin
 *		Before partition leafno is read (leaf by leaf counting): its window,
 *		from its statistics, in the mapping of the previous partition's
 *		when that is large enough (cleared), within wshare bytes.
 */
void
unique_leaf_begin(QualityState *qs, QualityRule *r, int leafno)
{
	QualityUnique *u = r->uq;
	QualityLeaf *l = &qs->leaves[leafno];
	char		hk = window_kind(r);
	int64		lo = PG_INT64_MAX,
				hi = PG_INT64_MIN;
	double		expected = l->rel->rd_rel->reltuples >= 0 ? l->rel->rd_rel->reltuples : (double) l->nblocks * 60;
	Size		bytes;

	r->has_window = false;
	if (hk == 0 ||
		!stats_bounds(l->relid, get_attnum(l->relid, get_attname(qs->relid, r->attnums[0], false)),
					  false, hk, &lo, &hi))
		return;
	bytes = window_of(r, lo, hi, expected, u->wshare);
	if (bytes == 0)
		return;
	if (u->wt && u->wt->bytes >= bytes)
	{
		UniqueTable *t = u->wt;

		memset(u->wslots, 0, bytes);
		u64set_reset(t->overflow);
		t->ndups = 0;
		t->maxdups = Max(r->win_n / 32, 1024);
		if (t->dups == NULL)
		{
			t->dupcap = 1024;
			t->dups = MemoryContextAllocHuge(t->cxt, sizeof(uint64) * t->dupcap);
			quality_mem_add(qs, sizeof(uint64) * t->dupcap);
		}
		return;
	}
	if (u->wt)
		ut_destroy(qs, u->wt);
	u->wt = ut_create_window(qs, r->win_n, true);
	u->wslots = u->wt->slots;
}

/*
 * unique_leaf_end
 *		A partition has been read: count its window's duplicated keys.
 */
void
unique_leaf_end(QualityState *qs, QualityRule *r)
{
	if (!r->has_window)
		return;
	window_count_all(qs, r, r->uq);
	r->has_window = false;
}

/*
 * unique_window_release
 *		Free a private window (after the scan).
 */
void
unique_window_release(QualityState *qs, QualityRule *r)
{
	QualityUnique *u = r->uq;

	if (u->wt && u->ws == NULL)
	{
		ut_destroy(qs, u->wt);
		u->wt = NULL;
		u->wslots = NULL;
	}
	r->has_window = false;
}

/*
 * ut_create_window
 *		The table that holds a window's overflow counts and keys seen
 *		twice, with (private) the mapping of its n slots, zeroed.
 */
static UniqueTable *
ut_create_window(QualityState *qs, uint64 n, bool map)
{
	UniqueTable *t = ut_alloc(qs, AllocSetContextCreate(qs->cxt, "pubdata unique window", ALLOCSET_SMALL_SIZES),
							  n / 32);

	if (map)
		ut_map(qs, t, (n + 1) / 2);
	return t;
}

/*
 * unique_window_shared_size
 *		The bytes of rule r's window in a parallel context's DSM for
 *		nparticipants participants, and whether it is split: when the
 *		participants' private slots (4 bytes a key) and bitmaps, with the
 *		shared bitmaps, fit limit bytes.  *total: all the window's bytes,
 *		the participants' included.
 */
Size
unique_window_shared_size(QualityRule *r, int nparticipants, Size limit, Size *total)
{
	Size		words;
	double		split_bytes;

	*total = 0;
	if (!r->has_window)
		return 0;
	words = WS_WORDS((Size) r->win_n);
	split_bytes = (double) nparticipants * (sizeof(uint32) * (double) r->win_n + sizeof(uint64) * words) +
		2 * sizeof(uint64) * (double) words;
	r->win_split = split_bytes <= (double) limit;
	*total = r->win_split ? (Size) split_bytes : unique_window_dsm_size(r);
	return unique_window_dsm_size(r);
}

/*
 * unique_window_dsm_size
 *		The bytes of rule r's window in the DSM, split or shared as
 *		unique_window_shared_size decided.
 */
Size
unique_window_dsm_size(QualityRule *r)
{
	if (!r->has_window)
		return 0;
	return MAXALIGN(sizeof(WindowShared)) +
		(r->win_split ? 2 * sizeof(pg_atomic_uint64) * WS_WORDS((Size) r->win_n) :
		 sizeof(pg_atomic_uint32) * (Size) r->win_n);
}

/*
 * unique_window_shared_init
 *		Rule r's window in area (unique_window_shared_size bytes), zeroed,
 *		for a scan of at most maxblocks blocks a leaf; its shared bytes
 *		counted in the leader's memory (the bytes returned).  No window (n =
 *		0) when a row's place does not fit 30 bits.
 */
Size
unique_window_shared_init(QualityState *qs, QualityRule *r, void *area, BlockNumber maxblocks)
{
	WindowShared *ws = (WindowShared *) area;
	int			leafbits = qs->nleaves > 1 ? pg_leftmost_one_pos32(qs->nleaves - 1) + 1 : 0;
	int			blkbits = maxblocks > 1 ? pg_leftmost_one_pos32(maxblocks - 1) + 1 : 1;
	Size		bytes;

	ws->lo = r->win_lo;
	ws->blkbits = blkbits;
	ws->n = leafbits + blkbits + WS_OFFBITS <= 30 ? r->win_n : 0;
	ws->split = r->win_split;
	if (ws->n > 0)
		ereport(DEBUG1,
				(errmsg_internal("unique rule on \"%s\": the window %s", r->itemnames[0],
								 ws->split ? "split among the participants" : "shared")));
	bytes = ws->split ? 2 * sizeof(pg_atomic_uint64) * WS_WORDS(ws->n) :
		sizeof(pg_atomic_uint32) * ws->n;

	/*
	 * A new segment is zero-filled by the system (every kind of dynamic
	 * shared memory creates a new object), so its untouched pages need no
	 * memset, and each participant maps only the pages it is given.  A
	 * segment carved from the area min_dynamic_shared_memory preallocates
	 * may hold old data: then clear it.
	 */
#if !defined(PG_HAVE_ATOMIC_U32_SIMULATION) && !defined(PG_HAVE_ATOMIC_U64_SIMULATION)
	if (min_dynamic_shared_memory > 0)
		memset(ws_slots(ws), 0, bytes);
#else
	{
		uint64		i;

		if (ws->split)
			for (i = 0; i < 2 * WS_WORDS(ws->n); i++)
				pg_atomic_init_u64(&ws_bits(ws)[i], 0);
		else
			for (i = 0; i < ws->n; i++)
				pg_atomic_init_u32(&ws_slots(ws)[i], 0);
	}
#endif
	quality_mem_add(qs, bytes);
	return bytes;
}

/*
 * window_populate
 *		Map a shared window's pages into this process at once: one call
 *		instead of a page fault for each page the scan touches first (on a
 *		virtual machine a fault can cost more than the keys of its page).
 */
static void
window_populate(void *p, Size bytes)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t	start = TYPEALIGN_DOWN(4096, (uintptr_t) p);
	uintptr_t	end = TYPEALIGN(4096, (uintptr_t) p + bytes);

	(void) madvise((void *) start, end - start, MADV_POPULATE_WRITE);
#endif
}

/*
 * unique_window_add
 *		Count a key of the window, at offset off: in the private slots as
 *		in a table (ut_hit); or, in a shared window, keep the first row's
 *		place, and send a later row to the batches, with the first row when
 *		it is the first to find the key already there.
 */
void
unique_window_add(QualityState *qs, QualityRule *r, uint64 off, QualityLocator loc)
{
	QualityUnique *u = r->uq;
	pg_atomic_uint32 *slot;
	uint32		old;
	uint64		h;

	Assert(off < r->win_n);
	if (u->ws == NULL)
	{
		uint64	   *val = &u->wslots[off];

		if (*val == 0)
			*val = (loc << 16) | 1;
		else
			(void) ut_hit(qs, r, u->wt, val, off, loc);
		return;
	}
	if (u->ws->split)
	{
		uint32	   *ps = &u->wpriv[off];

		if (*ps == 0)
		{
			*ps = ws_compact(qs, u->ws, loc) + 1;
			u->wbits[off >> 6] |= UINT64CONST(1) << (off & 63);
			return;
		}
		/* another row of the key here: this participant's rows to the batches */
		h = mix64((uint64) r->win_lo + off);
		if ((*ps & WS_DUP) == 0)
		{
			spill_write(qs, &u->spill, h, ws_expand(qs, u->ws, *ps - 1));
			*ps |= WS_DUP;
		}
		spill_write(qs, &u->spill, h, loc);
		return;
	}
	slot = &u->wshared[off];
	old = pg_atomic_read_u32(slot);
	if (old == 0 && pg_atomic_compare_exchange_u32(slot, &old, ws_compact(qs, u->ws, loc) + 1))
		return;
	/* the key was seen before: its rows are counted in the batches */
	h = mix64((uint64) r->win_lo + off);
	while ((old & WS_DUP) == 0)
	{
		if (pg_atomic_compare_exchange_u32(slot, &old, old | WS_DUP))
		{
			spill_write(qs, &u->spill, h, ws_expand(qs, u->ws, old - 1));
			break;
		}
	}
	spill_write(qs, &u->spill, h, loc);
}

/*
 * window_count_all
 *		Count every duplicated key of a private window: the keys seen twice
 *		when their list was kept, else every slot.
 */
static void
window_count_all(QualityState *qs, QualityRule *r, QualityUnique *u)
{
	UniqueTable *t = u->wt;
	uint64		i;

	if (t->dups)
	{
		for (i = 0; i < t->ndups; i++)
			ut_count_key(qs, r, t, t->dups[i], u->wslots[t->dups[i]]);
		return;
	}
	for (i = 0; i < r->win_n; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if ((u->wslots[i] & UT_COUNT_MAX) > 1)
			ut_count_key(qs, r, t, i, u->wslots[i]);
	}
}

/*
 * spill_parts
 *		How many batches for about nkeys keys that must each fit a table of
 *		the share, and of at most max_keys keys: a power of 2 from 4, at most
 *		share / 16 of batch buffers.
 */
static int
spill_parts_for(Size share, double nkeys, double max_keys)
{
	double		per_batch = Min((double) (share / 4 * 3 / (2 * sizeof(uint64) + 1)) * 0.75, max_keys);
	int			max_parts = 4;
	int			n = 4;

	while (max_parts < 1024 && (Size) (max_parts * 2) * (BLCKSZ + 64 + sizeof(SpillRecord) * SPILL_GATHER) <= share / 16)
		max_parts *= 2;
	while (n < max_parts && n * per_batch < nkeys * 1.2)
		n *= 2;
	return n;
}

static int
spill_parts(Size share, double nkeys)
{
	return spill_parts_for(share, nkeys, DBL_MAX);
}

/*
 * chunk_file_name
 *		The name of a participant's file of spilled keys, or of its index.
 */
static void
chunk_file_name(char *name, size_t size, QualityRule *r, int participant, bool index)
{
	snprintf(name, size, "q%lld.%d%s", (long long) r->id, participant, index ? ".idx" : "");
}

/*
 * spill_bytes
 *		The memory a spill's batches hold: gather buffers and file buffers.
 */
static Size
spill_bytes(UniqueSpill *sp)
{
	Size		gather = (Size) sp->nparts * sp->gather_stride * sizeof(SpillRecord);

	if (sp->one)
		return gather + BLCKSZ + 64 + sizeof(uint32) * sp->chunkcap;
	return gather + (Size) sp->nparts * (BLCKSZ + 64);
}

/*
 * spill_open
 *		Batches of a spill: a private temporary file for each, or (parallel)
 *		one file of the shared set for all, named by rule and participant.
 */
static void
spill_open(QualityState *qs, QualityRule *r, UniqueSpill *sp, int nparts, int shift,
		   SharedFileSet *fileset, int participant)
{
	MemoryContext old = MemoryContextSwitchTo(qs->cxt);
	int			i;

	if (shift + pg_leftmost_one_pos32(nparts) > 60)
		elog(ERROR, "quality rule %lld: too many levels of spilled keys", (long long) r->id);
	Assert(nparts <= 0xFFFF);
	sp->nparts = nparts;
	sp->shift = shift;
	sp->nrecs = palloc0(sizeof(int64) * nparts);
	sp->ngather = palloc0(sizeof(int) * nparts);
	if (fileset)
	{
		char		name[64];

		chunk_file_name(name, sizeof(name), r, participant, false);
		sp->one = BufFileCreateFileSet(&fileset->fs, name);
		sp->files = NULL;
		sp->gather_n = SHARED_CHUNK;
		sp->chunkcap = 1024;
		sp->nchunks = 0;
		sp->chunks = palloc(sizeof(uint32) * sp->chunkcap);
	}
	else
	{
		sp->one = NULL;
		sp->files = palloc(sizeof(BufFile *) * nparts);
		for (i = 0; i < nparts; i++)
			sp->files[i] = BufFileCreateTemp(false);
		sp->gather_n = SPILL_GATHER;
	}
	sp->gather_stride = sp->gather_n + SPILL_PAD;
	sp->gather = palloc(sizeof(SpillRecord) * sp->gather_stride * nparts);
	quality_mem_add(qs, spill_bytes(sp));
	MemoryContextSwitchTo(old);
}

/*
 * spill_emit
 *		Write the keys gathered for batch p: to its file, or as one chunk of
 *		the participant's file (a whole block, whatever it holds).
 */
static void
spill_emit(QualityState *qs, UniqueSpill *sp, int p)
{
	int			n = sp->ngather[p];
	SpillRecord *g = &sp->gather[p * sp->gather_stride];

	sp->ngather[p] = 0;
	if (sp->one == NULL)
	{
		BufFileWrite(sp->files[p], g, sizeof(SpillRecord) * n);
		return;
	}
	if (sp->nchunks == sp->chunkcap)
	{
		sp->chunks = repalloc_huge(sp->chunks, sizeof(uint32) * sp->chunkcap * 2);
		quality_mem_add(qs, sizeof(uint32) * sp->chunkcap);
		sp->chunkcap *= 2;
	}
	sp->chunks[sp->nchunks++] = CHUNK_ENTRY(p, n);
	BufFileWrite(sp->one, g, BLCKSZ);
}

/*
 * spill_write
 *		One key to its batch: gathered, and written gather_n at a time (a
 *		write call per key costs more than the copy).
 */
static inline void
spill_write(QualityState *qs, UniqueSpill *sp, uint64 h, QualityLocator loc)
{
	int			p = (int) ((h >> sp->shift) & (sp->nparts - 1));
	SpillRecord *rec = &sp->gather[p * sp->gather_stride + sp->ngather[p]];

	rec->hash = h;
	rec->loc = loc;
	sp->nrecs[p]++;
	if (++sp->ngather[p] == sp->gather_n)
		spill_emit(qs, sp, p);
}

/*
 * spill_flush
 *		Write the keys gathered for each batch, before the batches are read
 *		or closed.
 */
static void
spill_flush(QualityState *qs, UniqueSpill *sp)
{
	int			p;

	for (p = 0; p < sp->nparts; p++)
		if (sp->ngather[p] > 0)
			spill_emit(qs, sp, p);
}

/*
 * spill_close
 *		Close a spill's batches (after they were read, or to be read by
 *		name from the shared set).
 */
static void
spill_close(QualityState *qs, UniqueSpill *sp)
{
	int			i;

	quality_mem_sub(qs, spill_bytes(sp));
	if (sp->one)
	{
		BufFileClose(sp->one);
		sp->one = NULL;
	}
	else
	{
		for (i = 0; i < sp->nparts; i++)
			if (sp->files[i])
				BufFileClose(sp->files[i]);
	}
	sp->nparts = 0;
}

/*
 * unique_setup
 *		A unique rule's state: a table sized for the planner's estimate of
 *		the rows, growing up to share bytes; or, in a parallel scan (fileset
 *		given), batches in the shared set from the start.
 */
void
unique_setup(QualityState *qs, QualityRule *r, Size share)
{
	QualityUnique *u = MemoryContextAllocZero(qs->cxt, sizeof(QualityUnique));
	Size		wbytes = qs->leafwise ? 0 : unique_window_plan(qs, r, share / 2);
	double		expected = qs->expected_rows;

	r->uq = u;
	if (qs->leafwise)
	{
		/* each partition's window, in turn, takes 3/4 of the share at most */
		u->wshare = share / 4 * 3;
		share -= u->wshare;
		expected = 1024;
		r->has_window = false;
	}
	else if (wbytes > 0)
	{
		/* the window takes its slots from the share; few keys should miss it */
		u->wt = ut_create_window(qs, r->win_n, true);
		u->wslots = u->wt->slots;
		share -= wbytes;
		expected = 1024;
	}
	u->share = share;
	u->t = ut_create(qs, share, expected);
}

/*
 * unique_setup_shared
 *		A parallel participant's unique rule: the keys of its window (if
 *		given) are counted there, every other key goes to the shared
 *		batches, nparts of them (the same in every participant).
 */
void
unique_setup_shared(QualityState *qs, QualityRule *r, Size share, int nparts,
					SharedFileSet *fileset, int participant, void *window)
{
	QualityUnique *u = MemoryContextAllocZero(qs->cxt, sizeof(QualityUnique));

	if (window && ((WindowShared *) window)->n > 0)
	{
		u->ws = (WindowShared *) window;
		if (u->ws->split)
		{
			uint64		n = u->ws->n;

			/* private slots and bitmap, zeroed, in one mapping (of 16-byte units) */
			u->wt = ut_create_window(qs, 0, false);
			ut_map(qs, u->wt, (sizeof(uint32) * TYPEALIGN(2, n) + sizeof(uint64) * WS_WORDS(n) + 15) / 16);
			u->wpriv = (uint32 *) u->wt->slots;
			u->wbits = (uint64 *) (u->wpriv + TYPEALIGN(2, n));
		}
		else
		{
			u->wshared = ws_slots(u->ws);
			window_populate(u->wshared, sizeof(pg_atomic_uint32) * u->ws->n);
		}
		r->has_window = true;
		r->win_lo = u->ws->lo;
		r->win_n = u->ws->n;
	}
	else
		r->has_window = false;
	u->wshare = share / 4 * 3;	/* partition by partition, while scanning */
	u->share = share;
	u->fileset = fileset;
	u->participant = participant;
	r->uq = u;
	spill_open(qs, r, &u->spill, nparts, 0, fileset, participant);
}

/*
 * unique_window_merge
 *		A parallel participant has scanned its rows: add the keys its split
 *		window has seen to the shared bitmap, one atomic OR a word, and mark
 *		in the other one those some participant had seen already (the first
 *		participant of a key finds nothing; each later one marks it).
 *		Whether the rule has a split window (the same in every participant).
 */
bool
unique_window_merge(QualityState *qs, QualityRule *r)
{
	QualityUnique *u = r->uq;
	uint64		words,
				w;
	pg_atomic_uint64 *seen,
			   *multi;

	if (!r->has_window || u->ws == NULL || !u->ws->split)
		return false;
	words = WS_WORDS(u->ws->n);
	seen = ws_bits(u->ws);
	multi = seen + words;
	for (w = 0; w < words; w++)
	{
		uint64		mine = u->wbits[w],
					both;

		if (mine == 0)
			continue;
		both = pg_atomic_fetch_or_u64(&seen[w], mine) & mine;
		if (both != 0)
			(void) pg_atomic_fetch_or_u64(&multi[w], both);
		if ((w & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * unique_window_settle
 *		Every participant has merged its bitmap: send this participant's
 *		first row of each key that more than one has seen to the batches
 *		(its other rows of the key, if any, are there already, with the
 *		first one), and release its window.
 */
void
unique_window_settle(QualityState *qs, QualityRule *r)
{
	QualityUnique *u = r->uq;
	uint64		words,
				w;
	pg_atomic_uint64 *multi;

	if (!r->has_window || u->ws == NULL || !u->ws->split)
		return;
	words = WS_WORDS(u->ws->n);
	multi = ws_bits(u->ws) + words;
	for (w = 0; w < words; w++)
	{
		uint64		m = u->wbits[w];

		if (m == 0 || (m &= pg_atomic_read_u64(&multi[w])) == 0)
			continue;
		while (m != 0)
		{
			uint64		off = w * 64 + pg_rightmost_one_pos64(m);
			uint32		ps = u->wpriv[off];

			m &= m - 1;
			if ((ps & WS_DUP) == 0)
				spill_write(qs, &u->spill, mix64((uint64) r->win_lo + off),
							ws_expand(qs, u->ws, ps - 1));
		}
	}
	ut_destroy(qs, u->wt);
	u->wt = NULL;
	u->wpriv = NULL;
	u->wbits = NULL;
	r->has_window = false;
}

/*
 * unique_shared_parts
 *		How many batches a parallel measurement's unique rules use: each
 *		batch must fit one participant's share, and every key is in a batch,
 *		so more batches, each counted in a table that stays in the CPU's
 *		caches (about 48k keys, a 1 MB table), when the buffers allow it.
 */
int
unique_shared_parts(Size share, double nkeys)
{
	return spill_parts_for(share, nkeys, 48.0 * 1024);
}

/*
 * add_key
 *		Count one key during the scan: in the table when it is there or fits,
 *		else in its batch.  True when it has just become a duplicate.
 */
static inline bool
add_key(QualityState *qs, QualityRule *r, uint64 h, QualityLocator loc)
{
	QualityUnique *u = r->uq;
	bool		became_dup;

	if (u->t && ut_insert(qs, r, u->t, h, loc, &became_dup))
		return became_dup;
	if (u->spill.nparts == 0)
	{
		/* the first key that does not fit: batches for the rest of the rows */
		double		rest = Max(qs->expected_rows - (double) qs->nrows, (double) u->t->members);

		spill_open(qs, r, &u->spill, spill_parts(u->share, rest), 0, NULL, 0);
	}
	spill_write(qs, &u->spill, h, loc);
	return false;
}

/*
 * unique_add_now
 *		Count a key at once (a view's scan, whose samples are kept as the
 *		rows are read).
 */
bool
unique_add_now(QualityState *qs, QualityRule *r, uint64 h, QualityLocator loc)
{
	return add_key(qs, r, h, loc);
}

/*
 * unique_push
 *		Queue a key for add_key, its slot prefetched now; add the key queued
 *		UNIQUE_RING keys ago.
 */
void
unique_push(QualityState *qs, QualityRule *r, uint64 h, QualityLocator loc)
{
	QualityUnique *u = r->uq;
	int			pos = u->ringpos;

	if (u->t == NULL)
	{
		spill_write(qs, &u->spill, h, loc);
		return;
	}
	if (u->nring == UNIQUE_RING)
		(void) add_key(qs, r, u->ring_hash[pos], u->ring_loc[pos]);
	else
		u->nring++;
	u->ring_hash[pos] = h;
	u->ring_loc[pos] = loc;
	u->ringpos = (pos + 1) & (UNIQUE_RING - 1);
	__builtin_prefetch(&u->t->slots[2 * ut_home(h, u->t->size)], 1);
}

/*
 * unique_flush
 *		Add the queued keys, oldest first.
 */
static void
unique_flush(QualityState *qs, QualityRule *r)
{
	QualityUnique *u = r->uq;
	int			pos = (u->ringpos - u->nring + UNIQUE_RING) & (UNIQUE_RING - 1);

	while (u->nring > 0)
	{
		(void) add_key(qs, r, u->ring_hash[pos], u->ring_loc[pos]);
		pos = (pos + 1) & (UNIQUE_RING - 1);
		u->nring--;
	}
	u->ringpos = 0;
}

/*
 * count_records
 *		Count n spilled keys of a batch in its table; the keys that do not
 *		fit go to the sub-batches (opened at the first, for about left keys).
 */
static inline void
count_records(QualityState *qs, QualityRule *r, UniqueTable *t, UniqueSpill *sub,
			  SpillRecord *recs, int n, int64 left, int shift)
{
	int			i;

	CHECK_FOR_INTERRUPTS();
	for (i = 0; i < n; i++)
	{
		bool		became_dup;

		if (i + 8 < n && recs[i + 8].hash != 0)
			__builtin_prefetch(&t->slots[2 * ut_home(recs[i + 8].hash, t->size)], 1);
		if (ut_insert(qs, r, t, recs[i].hash, recs[i].loc, &became_dup))
			continue;
		if (sub->nparts == 0)
			spill_open(qs, r, sub, spill_parts(r->uq->share, (double) (left - i)), shift, NULL, 0);
		spill_write(qs, sub, recs[i].hash, recs[i].loc);
	}
}

/*
 * count_batch
 *		Count the keys of one batch, nrecs in all, in a table of the rule's
 *		share: read from nfiles files, whole (a private batch file), or
 *		(chunks given) the chunks of batch part in each participant's file.
 *		Keys that do not fit are split into batches of the next bits of the
 *		hash, counted after this one.
 */
static void
count_batch(QualityState *qs, QualityRule *r, BufFile **files, int nfiles,
			uint32 **chunks, int64 *nchunks, int part, int64 nrecs, int shift)
{
	QualityUnique *u = r->uq;
	UniqueTable *t = ut_batch_table(qs, u, (double) nrecs);
	UniqueSpill sub;
	SpillRecord recs[SHARED_CHUNK];
	int64		done = 0;
	int64		c;
	int			f,
				p;

	StaticAssertStmt(sizeof(recs) == BLCKSZ, "a chunk is a block");
	memset(&sub, 0, sizeof(sub));
	for (f = 0; f < nfiles; f++)
	{
		if (files[f] == NULL)
			continue;
		if (chunks)
		{
			for (c = 0; c < nchunks[f]; c++)
			{
				uint32		e = chunks[f][c];
				size_t		want = sizeof(SpillRecord) * CHUNK_NRECS(e);

				if (CHUNK_BATCH(e) != part)
					continue;
				if (BufFileSeek(files[f], 0, (off_t) c * BLCKSZ, SEEK_SET) != 0 ||
					BufFileRead(files[f], recs, want) != want)
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not read the spilled keys of quality rule %lld: %m", (long long) r->id)));
				count_records(qs, r, t, &sub, recs, CHUNK_NRECS(e), nrecs - done, shift);
				done += CHUNK_NRECS(e);
			}
			continue;
		}
		if (BufFileSeek(files[f], 0, 0, SEEK_SET) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not rewind the spilled keys of quality rule %lld: %m", (long long) r->id)));
		for (;;)
		{
			size_t		got = BufFileRead(files[f], recs, sizeof(recs));
			int			n = (int) (got / sizeof(SpillRecord));

			if (n == 0)
				break;
			count_records(qs, r, t, &sub, recs, n, nrecs - done, shift);
			done += n;
		}
	}
	ut_count_all(qs, r, t);
	ut_batch_done(qs, u, t);
	spill_flush(qs, &sub);
	for (p = 0; p < sub.nparts; p++)
		if (sub.nrecs[p] > 0)
			count_batch(qs, r, &sub.files[p], 1, NULL, NULL, 0, sub.nrecs[p],
						shift + pg_leftmost_one_pos32(sub.nparts));
	if (sub.nparts > 0)
		spill_close(qs, &sub);
}

/*
 * unique_finish
 *		After the scan: count the keys in memory, then each batch spilled.
 *		rule->failed becomes the rows whose key occurs more than once; the
 *		first row of each such key is a sample candidate.
 */
void
unique_finish(QualityState *qs, QualityRule *r)
{
	QualityUnique *u = r->uq;
	int			bits;
	int			p;

	unique_flush(qs, r);
	if (u->wt)
	{
		if (r->has_window)
			window_count_all(qs, r, u);
		ut_destroy(qs, u->wt);
		u->wt = NULL;
	}
	if (u->t)
	{
		ut_count_all(qs, r, u->t);
		ut_destroy(qs, u->t);
		u->t = NULL;
	}
	bits = u->spill.nparts ? pg_leftmost_one_pos32(u->spill.nparts) : 0;
	spill_flush(qs, &u->spill);
	for (p = 0; p < u->spill.nparts; p++)
		if (u->spill.nrecs[p] > 0)
			count_batch(qs, r, &u->spill.files[p], 1, NULL, NULL, 0, u->spill.nrecs[p], bits);
	if (u->spill.nparts > 0)
		spill_close(qs, &u->spill);
	unique_release(qs, r);
	if (qs->nleaves <= 1)
		r->leaf_failed[0] = r->failed;
}

/*
 * unique_spill_close
 *		A parallel participant has written all its keys: close its file
 *		(the shared set keeps it for the counting phase) and write its index
 *		beside it; nrecs[p] gets the keys of each batch it wrote.
 */
void
unique_spill_close(QualityState *qs, QualityRule *r, int64 *nrecs)
{
	QualityUnique *u = r->uq;
	UniqueSpill *sp = &u->spill;
	BufFile    *idx;
	char		name[64];
	int			p;

	spill_flush(qs, sp);
	for (p = 0; p < sp->nparts; p++)
		nrecs[p] = sp->nrecs[p];
	chunk_file_name(name, sizeof(name), r, u->participant, true);
	idx = BufFileCreateFileSet(&u->fileset->fs, name);
	if (sp->nchunks > 0)
		BufFileWrite(idx, sp->chunks, sizeof(uint32) * sp->nchunks);
	BufFileClose(idx);
	spill_close(qs, sp);
}

/*
 * open_shared
 *		Open every participant's file of spilled keys and read its index,
 *		once for all the batches this process counts.
 */
static void
open_shared(QualityState *qs, QualityRule *r, SharedFileSet *fileset, int nparticipants)
{
	QualityUnique *u = r->uq;
	MemoryContext old = MemoryContextSwitchTo(qs->cxt);
	int			i;

	u->nshared = nparticipants;
	u->shared_files = palloc0(sizeof(BufFile *) * nparticipants);
	u->shared_chunks = palloc0(sizeof(uint32 *) * nparticipants);
	u->shared_nchunks = palloc0(sizeof(int64) * nparticipants);
	for (i = 0; i < nparticipants; i++)
	{
		char		name[64];
		BufFile    *idx;
		int64		bytes;

		chunk_file_name(name, sizeof(name), r, i, true);
		idx = BufFileOpenFileSet(&fileset->fs, name, O_RDONLY, true);
		if (idx == NULL)
			continue;			/* a worker that never started */
		bytes = BufFileSize(idx);
		u->shared_nchunks[i] = bytes / sizeof(uint32);
		u->shared_chunks[i] = palloc_extended(Max(bytes, 1), MCXT_ALLOC_HUGE);
		if (bytes > 0 && BufFileRead(idx, u->shared_chunks[i], bytes) != (size_t) bytes)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read the spilled keys of quality rule %lld: %m", (long long) r->id)));
		BufFileClose(idx);
		quality_mem_add(qs, bytes);
		chunk_file_name(name, sizeof(name), r, i, false);
		u->shared_files[i] = BufFileOpenFileSet(&fileset->fs, name, O_RDONLY, false);
		quality_mem_add(qs, BLCKSZ + 64);
	}
	MemoryContextSwitchTo(old);
}

/*
 * unique_count_shared_batch
 *		Count batch p of a parallel measurement: its chunks in the file of
 *		every participant, read from the shared set.
 */
void
unique_count_shared_batch(QualityState *qs, QualityRule *r, SharedFileSet *fileset,
						  int nparticipants, int p, int nparts, int64 nrecs)
{
	QualityUnique *u;

	if (r->uq == NULL)
	{
		r->uq = MemoryContextAllocZero(qs->cxt, sizeof(QualityUnique));
		r->uq->share = qs->budget;
	}
	u = r->uq;
	if (u->shared_files == NULL)
		open_shared(qs, r, fileset, nparticipants);
	count_batch(qs, r, u->shared_files, u->nshared, u->shared_chunks, u->shared_nchunks,
				p, nrecs, pg_leftmost_one_pos32(nparts));
}
