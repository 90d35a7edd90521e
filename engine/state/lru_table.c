/* Striped LRU hash table.
 *
 * Representation
 *
 *   table ── stripe[0..S-1]          S = power of two, chosen by the caller (64 for users)
 *              │ mutex, cap = ceil(max_entries / S), count
 *              │ buckets[0..B-1] ──► entry ──► entry        (chained, B doubles at load 1)
 *              └ lru head ◄──► entry ◄──► entry ◄──► tail   (most recent first)
 *
 *   entry: | hnext | prev | next | hash (8) | keylen (2) | seg | value (value_size) | key |
 *
 * Eviction is segmented (SLRU): every stripe keeps two recency lists, "probation" for entries
 * nobody vouched for and "protected" for entries the owner marked with mmr_lru_protect() (the
 * engine does so once a user has a successful sign-in). A full stripe evicts the probation
 * tail first and touches the protected list only when probation is empty. So a flood of
 * invented user names (failed logins cost an attacker nothing) evicts other invented names,
 * never the established users whose baselines took weeks to learn.
 *
 * The high bits of a key's hash pick the stripe, the low bits the bucket, so the two are
 * independent. Each stripe is its own small table with its own cap (the caps add up to
 * max_entries exactly, so the table never holds more): a stripe evicts only its
 * own tail, which keeps eviction O(1) and lock-local. The price is that the cap is enforced per
 * stripe, so the table may evict while other stripes still have room; with a seeded hash the
 * stripes fill evenly (binomial spread, a few percent at 1,000 entries per stripe).
 *
 * Cost per entry: 40 bytes of header + value + key, plus 8 bytes of bucket pointer at most.
 *
 * Hash: 64-bit FNV-1a over the key, seeded per table from the clock and address space, then
 * the SplitMix64 finalizer (Steele et al., "Fast splittable pseudorandom number generators",
 * OOPSLA 2014) to spread FNV's weak low bits. Seeding keeps a crafted set of names from
 * landing in one chain across runs; it is not a cryptographic defence (SipHash would be).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lru_table.h"

typedef struct entry {
	struct entry *hnext;
	struct entry *prev, *next;
	uint64_t hash;
	uint16_t keylen;
	uint8_t seg;                       /* 0 probation, 1 protected */
	_Alignas(16) unsigned char data[]; /* value, then key */
} entry;

struct mmr_lru_stripe {
	pthread_mutex_t mu;
	entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count, cap;
	entry *head[2], *tail[2]; /* per segment, most recent first */
	mmr_lru_table *table;
} __attribute__((aligned(64)));

struct mmr_lru_table {
	mmr_lru_stripe *stripes;
	unsigned nstripes, stripe_shift;
	size_t value_size; /* rounded up to 16 */
	uint64_t seed;
	atomic_size_t count;
	atomic_uint_fast64_t evictions;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t key_hash(const mmr_lru_table *t, const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return mix64(h);
}

mmr_lru_table *mmr_lru_table_new(size_t max_entries, size_t value_size, unsigned stripes)
{
	mmr_lru_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	unsigned n = 1, shift = 64;
	if (max_entries < 1)
		max_entries = 1;
	/* never more stripes than entries: every stripe must be able to hold one */
	while (n < stripes && n < (1u << 16) && (size_t)n * 2 <= max_entries) {
		n <<= 1;
		shift--;
	}
	t->nstripes = n;
	t->stripe_shift = shift;
	t->value_size = (value_size + 15) & ~(size_t)15;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->seed = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uintptr_t)t);
	if (posix_memalign((void **)&t->stripes, 64, n * sizeof(mmr_lru_stripe)) != 0) {
		free(t);
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		mmr_lru_stripe *s = &t->stripes[i];
		memset(s, 0, sizeof(*s));
		pthread_mutex_init(&s->mu, NULL);
		/* the caps add up to max_entries exactly */
		s->cap = max_entries / n + (i < max_entries % n ? 1 : 0);
		s->table = t;
	}
	return t;
}

void mmr_lru_table_free(mmr_lru_table *t)
{
	if (t == NULL)
		return;
	for (unsigned i = 0; i < t->nstripes; i++) {
		mmr_lru_stripe *s = &t->stripes[i];
		for (int g = 0; g < 2; g++)
			for (entry *e = s->head[g], *next; e; e = next) {
				next = e->next;
				free(e);
			}
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free(t->stripes);
	free(t);
}

static inline unsigned char *entry_key(const mmr_lru_table *t, entry *e)
{
	return e->data + t->value_size;
}

static void lru_unlink(mmr_lru_stripe *s, entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head[e->seg] = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail[e->seg] = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(mmr_lru_stripe *s, entry *e)
{
	e->prev = NULL;
	e->next = s->head[e->seg];
	if (s->head[e->seg])
		s->head[e->seg]->prev = e;
	s->head[e->seg] = e;
	if (s->tail[e->seg] == NULL)
		s->tail[e->seg] = e;
}

static void bucket_remove(mmr_lru_stripe *s, entry *e)
{
	entry **pp = &s->buckets[e->hash & (s->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

static int grow(mmr_lru_stripe *s)
{
	size_t nb = s->nbuckets ? s->nbuckets * 2 : 16;
	entry **b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (entry *e = s->buckets[i], *next; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
	return 0;
}

void *mmr_lru_acquire(mmr_lru_table *t, const void *key, size_t keylen, bool create,
		      bool *created, mmr_lru_hold *hold)
{
	uint64_t h = key_hash(t, key, keylen);
	mmr_lru_stripe *s = &t->stripes[t->stripe_shift >= 64 ? 0 : h >> t->stripe_shift];

	if (created)
		*created = false;
	if (keylen > UINT16_MAX)
		keylen = UINT16_MAX;
	pthread_mutex_lock(&s->mu);
	hold->stripe = s;
	if (s->nbuckets) {
		for (entry *e = s->buckets[h & (s->nbuckets - 1)]; e; e = e->hnext) {
			if (e->hash == h && e->keylen == keylen &&
			    memcmp(entry_key(t, e), key, keylen) == 0) {
				if (s->head[e->seg] != e) {
					lru_unlink(s, e);
					lru_push_front(s, e);
				}
				return e->data;
			}
		}
	}
	if (!create)
		return NULL;
	entry *victim = s->tail[0] ? s->tail[0] : s->tail[1];
	if (s->count >= s->cap && victim) {
		lru_unlink(s, victim);
		bucket_remove(s, victim);
		free(victim);
		s->count--;
		atomic_fetch_sub(&t->count, 1);
		atomic_fetch_add(&t->evictions, 1);
	}
	if (s->count >= s->nbuckets && grow(s) != 0)
		return NULL;
	entry *e = malloc(sizeof(entry) + t->value_size + keylen);
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(entry) + t->value_size);
	e->hash = h;
	e->keylen = (uint16_t)keylen;
	memcpy(entry_key(t, e), key, keylen);
	e->hnext = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = e;
	lru_push_front(s, e);
	s->count++;
	atomic_fetch_add(&t->count, 1);
	if (created)
		*created = true;
	return e->data;
}

void mmr_lru_protect(mmr_lru_hold *hold, void *value)
{
	entry *e = (entry *)((unsigned char *)value - offsetof(entry, data));
	if (e->seg == 1 || hold->stripe == NULL)
		return;
	lru_unlink(hold->stripe, e);
	e->seg = 1;
	lru_push_front(hold->stripe, e);
}

void mmr_lru_release(mmr_lru_hold *hold)
{
	if (hold->stripe) {
		pthread_mutex_unlock(&hold->stripe->mu);
		hold->stripe = NULL;
	}
}

size_t mmr_lru_count(const mmr_lru_table *t)
{
	return atomic_load(&((mmr_lru_table *)t)->count);
}

uint64_t mmr_lru_evictions(const mmr_lru_table *t)
{
	return atomic_load(&((mmr_lru_table *)t)->evictions);
}
