/* Striped LRU hash table.
 *
 * Representation
 *
 *   table ── stripe[0..S-1]          S = power of two, chosen by the caller (64 for users)
 *              │ mutex, cap = ceil(max_entries / S), count
 *              │ buckets[0..B-1] ──► entry ──► entry        (chained, B doubles at load 1)
 *              └ lru head ◄──► entry ◄──► entry ◄──► tail   (most recent first)
 *
 *   entry: | hnext | prev | next | hash (8) | mark (4) | keylen (2) | seg | key | pad | value |
 *          (the value 16-aligned: malloc's alignment)
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
 * Cost per entry: 39 bytes of header + key, rounded up to 16, + value, plus 8
 * bytes of bucket pointer at most and the allocator's own overhead (mmr_lru_bytes()).
 *
 * Persistence (snapshot.c): mmr_lru_visit_stripe() hands out one stripe's entries, least
 * recent first, under that stripe's lock only and in batches (an entry remembers, in bytes of
 * the header that were padding, the last pass that copied it, and the stripe where its last
 * batch stopped); mmr_lru_put() reinserts them. A restored table
 * given the saved seed puts every key back into its old stripe, so the recency order of each
 * stripe, and what a smaller cap evicts first, are the same as in the saved table.
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

#define MALLOC_OVERHEAD 16 /* glibc: an 8-byte chunk header, 16-byte granularity */

typedef struct entry {
	struct entry *hnext;
	struct entry *prev, *next;
	uint64_t hash;
	uint32_t mark;        /* the last mmr_lru_new_pass() that copied it */
	uint16_t keylen;
	uint8_t seg;          /* 0 probation, 1 protected */
	unsigned char key[];  /* then the value, at entry_value() */
} entry;

struct mmr_lru_stripe {
	pthread_mutex_t mu;
	entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count, cap;
	entry *head[2], *tail[2]; /* per segment, most recent first */
	/* Resume position of the copy pass cursor_pass, per segment: the most recent entry of
	 * the marked run that starts at the tail (NULL: the walk starts at the tail). See
	 * mmr_lru_visit_stripe() for why it stays valid between batches. */
	entry *cursor[2];
	uint32_t cursor_pass;
	mmr_lru_table *table;
} __attribute__((aligned(64)));

struct mmr_lru_table {
	mmr_lru_stripe *stripes;
	unsigned nstripes, stripe_shift;
	size_t value_size; /* rounded up to 16 */
	uint64_t seed;
	atomic_size_t count;
	atomic_uint_fast64_t evictions;
	atomic_size_t key_bytes, buckets; /* for mmr_lru_bytes() */
	atomic_uint pass;
	atomic_uint_fast64_t pass_visits; /* entries looked at by copy passes, for tests/benchmarks */
	atomic_uint_fast64_t pass_cpu_max; /* longest batch in thread CPU ns (preemption excluded) */
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

/* The key sits right after the header and the value after the key (16-aligned): a lookup
 * compares the key in the header's cache line instead of one past a value that can be 1.5 KB
 * long (a user record), and the value starts there too. */
static inline size_t value_offset(size_t keylen)
{
	return (offsetof(entry, key) + keylen + 15) & ~(size_t)15;
}

static inline unsigned char *entry_value(entry *e)
{
	return (unsigned char *)e + value_offset(e->keylen);
}

static void lru_unlink(mmr_lru_stripe *s, entry *e)
{
	/* the cursor's entry leaves: its older neighbour, also marked, is the resume point */
	if (s->cursor[e->seg] == e)
		s->cursor[e->seg] = e->next;
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
	atomic_fetch_add(&s->table->buckets, nb - s->nbuckets);
	s->buckets = b;
	s->nbuckets = nb;
	return 0;
}

static mmr_lru_stripe *stripe_of(mmr_lru_table *t, uint64_t h)
{
	return &t->stripes[t->stripe_shift >= 64 ? 0 : h >> t->stripe_shift];
}

/* The entry of key in s (locked), or NULL. */
static entry *find(mmr_lru_stripe *s, uint64_t h, const void *key, size_t keylen)
{
	if (s->nbuckets == 0)
		return NULL;
	for (entry *e = s->buckets[h & (s->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
			return e;
	return NULL;
}

static void drop(mmr_lru_table *t, mmr_lru_stripe *s, entry *e)
{
	lru_unlink(s, e);
	bucket_remove(s, e);
	atomic_fetch_sub(&t->key_bytes, e->keylen);
	free(e);
	s->count--;
	atomic_fetch_sub(&t->count, 1);
}

/* A new zeroed entry for key in s (locked), at the front of probation, after evicting the
 * least recently used entry if the stripe is full; NULL when out of memory. */
static entry *insert(mmr_lru_table *t, mmr_lru_stripe *s, uint64_t h, const void *key,
		     size_t keylen)
{
	entry *victim = s->tail[0] ? s->tail[0] : s->tail[1];
	if (s->count >= s->cap && victim) {
		drop(t, s, victim);
		atomic_fetch_add(&t->evictions, 1);
	}
	if (s->count >= s->nbuckets && grow(s) != 0)
		return NULL;
	/* malloc's alignment (16 on the 64-bit ABIs) keeps the value 16-aligned */
	entry *e = malloc(value_offset(keylen) + t->value_size);
	if (e == NULL)
		return NULL;
	memset(e, 0, value_offset(keylen) + t->value_size);
	e->hash = h;
	e->keylen = (uint16_t)keylen;
	memcpy(e->key, key, keylen);
	e->hnext = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = e;
	lru_push_front(s, e);
	s->count++;
	atomic_fetch_add(&t->count, 1);
	atomic_fetch_add(&t->key_bytes, keylen);
	return e;
}

void *mmr_lru_acquire(mmr_lru_table *t, const void *key, size_t keylen, bool create,
		      bool *created, mmr_lru_hold *hold)
{
	uint64_t h = key_hash(t, key, keylen);
	mmr_lru_stripe *s = stripe_of(t, h);

	if (created)
		*created = false;
	if (keylen > UINT16_MAX)
		keylen = UINT16_MAX;
	pthread_mutex_lock(&s->mu);
	hold->stripe = s;
	hold->entry = NULL;
	entry *e = find(s, h, key, keylen);
	if (e != NULL) {
		if (s->head[e->seg] != e) {
			lru_unlink(s, e);
			lru_push_front(s, e);
		}
		hold->entry = e;
		return entry_value(e);
	}
	if (!create)
		return NULL;
	if ((e = insert(t, s, h, key, keylen)) == NULL)
		return NULL;
	if (created)
		*created = true;
	hold->entry = e;
	return entry_value(e);
}

void mmr_lru_protect(mmr_lru_hold *hold, void *value)
{
	entry *e = hold->entry;
	if (e == NULL || hold->stripe == NULL || entry_value(e) != value || e->seg == 1)
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

uint64_t mmr_lru_bytes(const mmr_lru_table *t)
{
	mmr_lru_table *m = (mmr_lru_table *)t;
	uint64_t n = atomic_load(&m->count);
	return sizeof(*t) + (uint64_t)t->nstripes * sizeof(mmr_lru_stripe) +
	       atomic_load(&m->buckets) * sizeof(entry *) +
	       n * (offsetof(entry, key) + 8 + t->value_size + MALLOC_OVERHEAD) +
	       atomic_load(&m->key_bytes); /* 8: the value's alignment, on average */
}

unsigned mmr_lru_stripes(const mmr_lru_table *t)
{
	return t->nstripes;
}

size_t mmr_lru_value_size(const mmr_lru_table *t)
{
	return t->value_size;
}

uint64_t mmr_lru_seed(const mmr_lru_table *t)
{
	return t->seed;
}

int mmr_lru_set_seed(mmr_lru_table *t, uint64_t seed)
{
	if (mmr_lru_count(t) != 0)
		return -1;
	t->seed = seed;
	return 0;
}

uint32_t mmr_lru_new_pass(mmr_lru_table *t)
{
	uint32_t p = atomic_fetch_add(&t->pass, 1) + 1;
	return p ? p : atomic_fetch_add(&t->pass, 1) + 1; /* 0 means "no pass" */
}

/* A copy pass resumes each batch where the previous one stopped instead of walking the stripe
 * from its tail again, skipping marked entries (which made a stripe of n entries in batches of
 * b cost n^2/2b visits under the lock: 52 M per save of 1 M users).
 *
 * Invariant, per segment g, whenever the stripe is unlocked: every entry from tail[g] up to and
 * including cursor[g] carries this pass's mark (cursor[g] NULL: no such run yet).
 *   - The walk starts after cursor[g] (at the tail when NULL), and the cursor moves onto every
 *     entry the walk accepts or finds already marked, so the run stays marked.
 *   - Any removal from a list (touch: moved to the head; protect: moved to the other
 *     segment; eviction; remove; put) goes through lru_unlink(), which moves a leaving cursor
 *     to the entry's older neighbour: a shorter run, still marked.
 *   - Insertions (new entries, touched ones, protected ones) go to the head, after the cursor.
 * So every entry not yet copied lies after a cursor and is reached by a later batch; a touched
 * entry that was not copied yet is copied where it lands, once; one already copied is found
 * at the head with its mark and skipped (the only re-visits: one per touch between batches).
 * Both segments resume in every call, so entries moved into segment 0 after its walk ended
 * are found too. A call returns 0 only after walking both segments to their heads under one
 * hold of the lock: at that moment every entry of the stripe carries the mark, so every entry
 * that lived through the whole pass was copied exactly once. */
int mmr_lru_visit_stripe(mmr_lru_table *t, unsigned i, uint32_t pass, mmr_lru_visit visit,
			 void *arg, uint64_t *held_ns)
{
	int rc = 0;
	uint64_t visits = 0;
	if (held_ns)
		*held_ns = 0;
	if (i >= t->nstripes)
		return 0;
	mmr_lru_stripe *s = &t->stripes[i];
	pthread_mutex_lock(&s->mu);
	uint64_t t0 = now_ns(), c0 = pass ? thread_cpu_ns() : 0;
	if (pass == 0) {
		for (int g = 0; g < 2 && rc == 0; g++)
			for (entry *e = s->tail[g]; e && rc == 0; e = e->prev)
				rc = visit(arg, e->key, e->keylen, entry_value(e), g == 1);
	} else {
		if (s->cursor_pass != pass) {
			s->cursor_pass = pass;
			s->cursor[0] = s->cursor[1] = NULL;
		}
		for (int g = 0; g < 2 && rc == 0; g++)
			for (entry *e = s->cursor[g] ? s->cursor[g]->prev : s->tail[g]; e;
			     e = e->prev) {
				visits++;
				if (e->mark != pass) {
					rc = visit(arg, e->key, e->keylen, entry_value(e), g == 1);
					if (rc != 0)
						break;
					e->mark = pass;
				}
				s->cursor[g] = e;
			}
	}
	uint64_t held = now_ns() - t0, cpu = pass ? thread_cpu_ns() - c0 : 0;
	pthread_mutex_unlock(&s->mu);
	if (visits)
		atomic_fetch_add(&t->pass_visits, visits);
	for (uint_fast64_t m = atomic_load(&t->pass_cpu_max);
	     cpu > m && !atomic_compare_exchange_weak(&t->pass_cpu_max, &m, cpu);)
		;
	if (held_ns)
		*held_ns = held;
	return rc;
}

uint64_t mmr_lru_pass_visits(const mmr_lru_table *t)
{
	return atomic_load(&((mmr_lru_table *)t)->pass_visits);
}

uint64_t mmr_lru_pass_max_cpu_ns(const mmr_lru_table *t)
{
	return atomic_load(&((mmr_lru_table *)t)->pass_cpu_max);
}

int mmr_lru_put(mmr_lru_table *t, const void *key, size_t keylen, const void *value,
		bool protected_)
{
	if (keylen > UINT16_MAX)
		keylen = UINT16_MAX;
	uint64_t h = key_hash(t, key, keylen);
	mmr_lru_stripe *s = stripe_of(t, h);
	pthread_mutex_lock(&s->mu);
	entry *e = find(s, h, key, keylen);
	if (e == NULL && (e = insert(t, s, h, key, keylen)) == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	memcpy(entry_value(e), value, t->value_size);
	lru_unlink(s, e);
	e->seg = protected_ ? 1 : 0;
	lru_push_front(s, e);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

bool mmr_lru_remove(mmr_lru_table *t, const void *key, size_t keylen, void *out,
		    bool *protected_)
{
	if (keylen > UINT16_MAX)
		keylen = UINT16_MAX;
	uint64_t h = key_hash(t, key, keylen);
	mmr_lru_stripe *s = stripe_of(t, h);
	pthread_mutex_lock(&s->mu);
	entry *e = find(s, h, key, keylen);
	if (e != NULL) {
		if (out)
			memcpy(out, entry_value(e), t->value_size);
		if (protected_)
			*protected_ = e->seg == 1;
		drop(t, s, e);
	}
	pthread_mutex_unlock(&s->mu);
	return e != NULL;
}
