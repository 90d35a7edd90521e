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

/* Moves value's entry (of the stripe hold locks) to the protected segment: from then on it is
 * evicted only when the stripe holds no unprotected entry (see lru_table.c). */
void mmr_lru_protect(mmr_lru_hold *hold, void *value);

size_t mmr_lru_count(const mmr_lru_table *t);
uint64_t mmr_lru_evictions(const mmr_lru_table *t);

#endif
