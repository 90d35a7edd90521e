/* Failure rings outside the user record (failure_rings.h says why and how they are saved). */
#include <stdlib.h>
#include <string.h>

#include "failure_rings.h"

#define BATCH 1024   /* entries copied per stripe lock hold on save */
#define ROUNDS 4
#define ENTRY 1      /* stream markers: a probation entry, a protected one, the end */
#define ENTRY_PROTECTED 2
#define END 0

mmr_lru_table *mmr_failure_rings_new(const mmr_config *cfg)
{
	return mmr_lru_table_new(cfg->max_ips, sizeof(failure_window), 16);
}

/* FNV-1a, 64 bits (Fowler, Noll, Vo; offset basis and prime of the 64-bit variant). */
uint64_t mmr_failure_ring_key(const char *user)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)user; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

failure_window *mmr_failure_ring(mmr_lru_table *t, const char *user, bool create,
				 mmr_lru_hold *hold)
{
	uint64_t k = mmr_failure_ring_key(user);
	return mmr_lru_acquire(t, &k, sizeof(k), create, NULL, hold);
}

/* A keyed permutation of 64-bit keys: a Feistel network on 32-bit halves whose round function
 * is the snapshot's keyed 32-bit permutation (mmr_snap_pseudo32, enciphering direction) of the
 * half mixed with a round constant. */
static uint32_t round_fn(const uint8_t *key, int i, uint32_t x)
{
	const mmr_snap_pseudo p = {.key = key, .load = false};
	return mmr_snap_pseudo32(&p, x ^ (0x9e3779b9u * (uint32_t)(i + 1)));
}

static uint64_t encipher(const uint8_t *key, uint64_t v)
{
	uint32_t l = (uint32_t)(v >> 32), r = (uint32_t)v;
	for (int i = 0; i < ROUNDS; i++) {
		uint32_t nl = r;
		r = l ^ round_fn(key, i, r);
		l = nl;
	}
	return (uint64_t)l << 32 | r;
}

static uint64_t decipher(const uint8_t *key, uint64_t v)
{
	uint32_t l = (uint32_t)(v >> 32), r = (uint32_t)v;
	for (int i = ROUNDS - 1; i >= 0; i--) {
		uint32_t pr = l;
		l = r ^ round_fn(key, i, l);
		r = pr;
	}
	return (uint64_t)l << 32 | r;
}

typedef struct {
	uint64_t key;
	bool protected_;
	failure_window w;
} saved_ring;

typedef struct {
	saved_ring *v;
	size_t n;
} batch;

static int copy_entry(void *arg, const void *key, size_t keylen, void *value, bool protected_)
{
	batch *b = arg;
	if (b->n == BATCH)
		return 1; /* not accepted: the next batch starts with it */
	if (keylen != sizeof(uint64_t))
		return 0;
	saved_ring *s = &b->v[b->n++];
	memcpy(&s->key, key, sizeof(s->key));
	s->protected_ = protected_;
	memcpy(&s->w, value, sizeof(s->w));
	return 0;
}

int mmr_failure_rings_save(mmr_snap_writer *w, mmr_lru_table *t)
{
	const uint8_t *pk = mmr_snap_writer_key(w);
	batch b = {.v = malloc(BATCH * sizeof(saved_ring)), .n = 0};
	if (b.v == NULL)
		return -1;
	mmr_snap_put_u32(w, (uint32_t)sizeof(failure_window));
	mmr_snap_put_u64(w, mmr_lru_seed(t));
	mmr_snap_put_u32(w, mmr_lru_stripes(t));
	uint32_t pass = mmr_lru_new_pass(t);
	int rc = 0;
	for (unsigned i = 0; i < mmr_lru_stripes(t) && rc == 0; i++) {
		int more;
		do {
			b.n = 0;
			more = mmr_lru_visit_stripe(t, i, pass, copy_entry, &b, NULL);
			for (size_t j = 0; j < b.n && rc == 0; j++) {
				uint64_t k = pk ? encipher(pk, b.v[j].key) : b.v[j].key;
				mmr_snap_put_u8(w, b.v[j].protected_ ? ENTRY_PROTECTED : ENTRY);
				mmr_snap_put_u64(w, k);
				rc = mmr_snap_put(w, &b.v[j].w, sizeof(b.v[j].w));
			}
		} while (more != 0 && rc == 0);
	}
	free(b.v);
	if (rc != 0)
		return rc;
	return mmr_snap_put_u8(w, END);
}

int mmr_failure_rings_load(mmr_snap_reader *r, mmr_lru_table *t)
{
	const uint8_t *pk = mmr_snap_reader_key(r);
	uint32_t size, stripes;
	uint64_t seed;
	if (mmr_snap_get_u32(r, &size) != 0)
		return -1;
	if (size != sizeof(failure_window))
		return MMR_SNAP_INCOMPATIBLE;
	if (mmr_snap_get_u64(r, &seed) != 0 || mmr_snap_get_u32(r, &stripes) != 0)
		return -1;
	if (stripes == mmr_lru_stripes(t))
		mmr_lru_set_seed(t, seed); /* same stripes, so the saved recency order comes back */
	for (;;) {
		uint8_t mark;
		uint64_t k;
		failure_window fw;
		if (mmr_snap_get_u8(r, &mark) != 0)
			return -1;
		if (mark == END)
			return 0;
		if (mark != ENTRY && mark != ENTRY_PROTECTED)
			return mmr_snap_fail(r, "malformed failure ring entry");
		if (mmr_snap_get_u64(r, &k) != 0 || mmr_snap_get(r, &fw, sizeof(fw)) != 0)
			return -1;
		if (pk)
			k = decipher(pk, k);
		fw_repair(&fw);
		if (mmr_lru_put(t, &k, sizeof(k), &fw, mark == ENTRY_PROTECTED) != 0)
			return mmr_snap_fail(r, "out of memory");
	}
}
