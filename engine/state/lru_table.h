/* A bounded, thread-safe hash table with least-recently-used eviction, striped by key hash.
 * Users (keyed by name) and the IP-keyed detector tables are all instances of it. */
#ifndef MMR_LRU_TABLE_H
#define MMR_LRU_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mmr_lru_table mmr_lru_table;
typedef struct mmr_lru_stripe mmr_lru_stripe;

/* What acquire() locked; hand it to release(). */
typedef struct mmr_lru_hold {
	mmr_lru_stripe *stripe;
	void *entry; /* the entry acquire() returned the value of, or NULL */
} mmr_lru_hold;

/* max_entries: the cap; value_size: bytes of zero-initialized value per entry; stripes: lock
 * count (rounded up to a power of two). Returns NULL when out of memory. */
mmr_lru_table *mmr_lru_table_new(size_t max_entries, size_t value_size, unsigned stripes);
void mmr_lru_table_free(mmr_lru_table *t);

/* Locks the stripe of key and returns its value, creating it (zeroed) when create is true,
 * evicting the stripe's least recently used entry if the stripe is full. Returns NULL when the
 * key is absent and create is false, or on out of memory. The stripe stays locked in every
 * case until mmr_lru_release(hold). Never hold two stripes of one table. */
void *mmr_lru_acquire(mmr_lru_table *t, const void *key, size_t keylen, bool create,
		      bool *created, mmr_lru_hold *hold);
void mmr_lru_release(mmr_lru_hold *hold);

/* Moves value's entry (value: what the acquire() that filled hold returned) to the protected
 * segment: from then on it is evicted only when the stripe holds no unprotected entry (see
 * lru_table.c). Any other value is ignored. */
void mmr_lru_protect(mmr_lru_hold *hold, void *value);

size_t mmr_lru_count(const mmr_lru_table *t);
uint64_t mmr_lru_evictions(const mmr_lru_table *t);

/* Approximate bytes the table holds now: entries (header, value, key, malloc overhead),
 * buckets and stripes. Lock-free (counters kept as atomics). */
uint64_t mmr_lru_bytes(const mmr_lru_table *t);

/* --- Persistence support (engine/state/snapshot.c, docs/state.md) ------------------------ */

unsigned mmr_lru_stripes(const mmr_lru_table *t);
size_t mmr_lru_value_size(const mmr_lru_table *t); /* rounded up to 16, as stored */
/* The hash seed: which stripe and bucket a key lands in. A restored table that gets the saved
 * seed (and has the saved number of stripes) places every key in the stripe it had, so
 * reinserting each stripe's entries least recent first rebuilds its exact recency order.
 * set_seed works on an empty table only (returns -1 otherwise). */
uint64_t mmr_lru_seed(const mmr_lru_table *t);
int mmr_lru_set_seed(mmr_lru_table *t, uint64_t seed);

/* Calls visit for entries of stripe i, with the stripe locked: the probation segment, then the
 * protected one, each least recently used first. The value may be modified, nothing else (no
 * call into the table). held_ns (may be NULL) receives how long the stripe was locked.
 *
 * pass 0: every entry; returns the first nonzero return of visit (the walk stops there), or 0.
 * pass from mmr_lru_new_pass(): a copy in batches that never holds the lock for long. Entries
 * already accepted in this pass are skipped; an entry is accepted (and marked) when visit
 * returns 0; a nonzero return ends the batch and is returned (call again for the next batch:
 * entries used meanwhile are not visited twice, entries created meanwhile are visited). A batch
 * resumes where the previous one stopped, so a whole pass looks at each entry once, plus once
 * more per entry used between batches (lru_table.c). One pass at a time per table. */
typedef int (*mmr_lru_visit)(void *arg, const void *key, size_t keylen, void *value,
			     bool protected_);
uint32_t mmr_lru_new_pass(mmr_lru_table *t);
int mmr_lru_visit_stripe(mmr_lru_table *t, unsigned i, uint32_t pass, mmr_lru_visit visit,
			 void *arg, uint64_t *held_ns);
/* Entries looked at by copy passes (pass != 0) so far, copied or skipped: the cost of the
 * passes independent of the CPU (tests, engine-bench). */
uint64_t mmr_lru_pass_visits(const mmr_lru_table *t);
/* The longest batch of any copy pass so far in CPU time of the copying thread: the lock hold
 * without the time the holder was preempted, which a loaded machine adds to held_ns. */
uint64_t mmr_lru_pass_max_cpu_ns(const mmr_lru_table *t);

/* Stores value (value_size bytes) under key as the most recent entry of its segment
 * (protected or probation), creating the entry (evicting as acquire does) or overwriting it.
 * Returns 0, or -1 when out of memory. */
int mmr_lru_put(mmr_lru_table *t, const void *key, size_t keylen, const void *value,
		bool protected_);

/* Removes key's entry: copies its value to out (value_size bytes, may be NULL) and its segment
 * to *protected_ (may be NULL). Returns false when there is no such entry. */
bool mmr_lru_remove(mmr_lru_table *t, const void *key, size_t keylen, void *out,
		    bool *protected_);

#endif
