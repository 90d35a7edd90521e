/* Failure rings outside the user record (failure_rings.h says why and how they are saved). */
#include <string.h>

#include "failure_rings.h"
#include "mmriskscore/shard.h"

#define ROUNDS 4
#define ENTRY 1      /* stream markers: a probation entry, a protected one, the end */
#define ENTRY_PROTECTED 2
#define END 0

mmr_lru_table *mmr_failure_rings_new(const mmr_config *cfg)
{
	return mmr_lru_table_new(cfg->max_ips, sizeof(failure_window), 16);
}

/* the frozen FNV-1a 64 of mmriskscore/shard.h: the key is saved, so it must never change */
uint64_t mmr_failure_ring_key(const char *user)
{
	return mmr_fnv1a64(user, strlen(user));
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

/* Copied a stripe batch at a time through the writer's staging area, like every table of the
 * snapshot (the hold time counts in the snapshot's longest stall). */
int mmr_failure_rings_save(mmr_snap_writer *w, mmr_lru_table *t)
{
	const uint8_t *pk = mmr_snap_writer_key(w);
	mmr_snap_put_u32(w, (uint32_t)sizeof(failure_window));
	mmr_snap_put_u64(w, mmr_lru_seed(t));
	mmr_snap_put_u32(w, mmr_lru_stripes(t));
	uint32_t pass = mmr_lru_new_pass(t);
	for (unsigned i = 0; i < mmr_lru_stripes(t); i++) {
		int more;
		do {
			size_t len;
			if ((more = mmr_snap_copy_stripe(w, t, i, pass)) < 0)
				return -1;
			/* staged entries: u8 protected, u16 key length, key, ring */
			const unsigned char *p = mmr_snap_staging(w, &len);
			for (size_t off = 0; off < len;) {
				uint16_t kl;
				memcpy(&kl, p + off + 1, 2);
				if (kl == sizeof(uint64_t)) {
					uint64_t k;
					memcpy(&k, p + off + 3, sizeof(k));
					mmr_snap_put_u8(w, p[off] ? ENTRY_PROTECTED : ENTRY);
					mmr_snap_put_u64(w, pk ? encipher(pk, k) : k);
					if (mmr_snap_put(w, p + off + 3 + kl, sizeof(failure_window)) != 0)
						return -1;
				}
				off += 3 + (size_t)kl + sizeof(failure_window);
			}
		} while (more == 1);
	}
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
