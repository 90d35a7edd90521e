/* Unit tests of engine/state/lru_table.c, against the contract in lru_table.h and the header
 * comment of lru_table.c: zeroed values, find/create, per-stripe LRU eviction with a cap,
 * accurate count and eviction counters, exact key comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state/lru_table.h"

typedef struct {
	uint64_t a, b;
	char tag[40];
} value;

static value *get(mmr_lru_table *t, const char *key, bool create, bool *created)
{
	mmr_lru_hold h;
	value *v = mmr_lru_acquire(t, key, strlen(key), create, created, &h);
	mmr_lru_release(&h);
	return v;
}

static bool present(mmr_lru_table *t, const void *key, size_t len)
{
	mmr_lru_hold h;
	void *v = mmr_lru_acquire(t, key, len, false, NULL, &h);
	mmr_lru_release(&h);
	return v != NULL;
}

static void test_create_and_find(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(1000, sizeof(value), 8);
	assert_non_null(t);
	assert_int_equal(mmr_lru_count(t), 0);

	bool created = false;
	assert_null(get(t, "alice", false, &created)); /* absent, not created */
	assert_false(created);
	assert_int_equal(mmr_lru_count(t), 0);

	mmr_lru_hold h;
	value *v = mmr_lru_acquire(t, "alice", 5, true, &created, &h);
	assert_non_null(v);
	assert_true(created);
	v->a = 42;
	snprintf(v->tag, sizeof(v->tag), "alice's");
	mmr_lru_release(&h);
	assert_null(h.stripe); /* release clears the hold */
	mmr_lru_release(&h);   /* and a second release is harmless */

	v = get(t, "alice", true, &created);
	assert_non_null(v);
	assert_false(created); /* found, not created again */
	assert_int_equal(v->a, 42);
	assert_string_equal(v->tag, "alice's");
	v = get(t, "alice", false, &created);
	assert_non_null(v);
	assert_false(created);
	assert_int_equal(mmr_lru_count(t), 1);
	assert_int_equal(mmr_lru_evictions(t), 0);
	mmr_lru_table_free(t);
}

static void test_values_zeroed(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(64, sizeof(value), 1);
	/* fill, dirty and evict many times: a recycled allocation must still come back zeroed */
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 64; i++) {
			char key[32];
			bool created;
			snprintf(key, sizeof(key), "r%d-k%d", round, i);
			value *v = get(t, key, true, &created);
			assert_non_null(v);
			assert_true(created);
			const unsigned char *p = (const unsigned char *)v;
			for (size_t j = 0; j < sizeof(*v); j++)
				if (p[j] != 0)
					fail_msg("byte %zu of a new value is 0x%02x", j, p[j]);
			memset(v, 0xee, sizeof(*v));
		}
	}
	mmr_lru_table_free(t);
}

static void test_value_alignment(void **state)
{
	(void)state;
	/* the engine stores int64/double in values: every value must be at least 16-aligned */
	mmr_lru_table *t = mmr_lru_table_new(100, 3, 4);
	for (int i = 0; i < 100; i++) {
		char key[16];
		snprintf(key, sizeof(key), "%d", i);
		void *v = get(t, key, true, NULL);
		assert_non_null(v);
		assert_int_equal((uintptr_t)v % 16, 0);
	}
	mmr_lru_table_free(t);
}

/* The key lies between the header and the value: keys of every length up to 40 bytes keep
 * the value 16-aligned and intact, and a value filled to its last byte leaves the key whole. */
static void test_key_and_value_do_not_overlap(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(1000, 100, 1);
	char key[48];
	for (int len = 1; len <= 40; len++) {
		memset(key, 'a' + len % 26, sizeof(key));
		mmr_lru_hold h;
		unsigned char *v = mmr_lru_acquire(t, key, (size_t)len, true, NULL, &h);
		assert_non_null(v);
		assert_int_equal((uintptr_t)v % 16, 0);
		for (int i = 0; i < 112; i++) /* the value rounded up to 16, as stored */
			assert_int_equal(v[i], 0);
		memset(v, 0xff, 112);
		mmr_lru_release(&h);
	}
	for (int len = 1; len <= 40; len++) {
		memset(key, 'a' + len % 26, sizeof(key));
		assert_true(present(t, key, (size_t)len));
	}
	mmr_lru_table_free(t);
}

/* protect() acts on the entry the hold's acquire() returned, and ignores any other value */
static void test_protect_only_the_held_entry(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(2, 16, 1);
	mmr_lru_hold h;
	void *a = mmr_lru_acquire(t, "a", 1, true, NULL, &h);
	mmr_lru_release(&h);
	void *b = mmr_lru_acquire(t, "b", 1, true, NULL, &h);
	mmr_lru_protect(&h, a); /* not what this hold acquired: nothing happens */
	mmr_lru_release(&h);
	assert_non_null(get(t, "c", true, NULL)); /* evicts the probation tail: a */
	assert_false(present(t, "a", 1));
	assert_non_null(b);
	b = mmr_lru_acquire(t, "b", 1, false, NULL, &h);
	mmr_lru_protect(&h, b);
	mmr_lru_release(&h);
	assert_non_null(get(t, "d", true, NULL)); /* evicts c, never the protected b */
	assert_true(present(t, "b", 1));
	assert_false(present(t, "c", 1));
	mmr_lru_table_free(t);
}

static void test_lru_order_single_stripe(void **state)
{
	(void)state;
	/* one stripe: the whole table is one LRU list of cap 4 */
	mmr_lru_table *t = mmr_lru_table_new(4, sizeof(value), 1);
	get(t, "a", true, NULL);
	get(t, "b", true, NULL);
	get(t, "c", true, NULL);
	get(t, "d", true, NULL);
	assert_int_equal(mmr_lru_count(t), 4);

	/* touching "a" (a lookup without create counts as use) protects it */
	assert_non_null(get(t, "a", false, NULL));
	get(t, "e", true, NULL); /* evicts the least recently used: "b" */
	assert_int_equal(mmr_lru_count(t), 4);
	assert_int_equal(mmr_lru_evictions(t), 1);
	assert_false(present(t, "b", 1));

	/* now the order, oldest first, is c d a e; touching c and d leaves "a" oldest.
	 * (present() itself touches, so check only after the next eviction) */
	assert_non_null(get(t, "c", true, NULL));
	assert_non_null(get(t, "d", false, NULL));
	get(t, "f", true, NULL); /* evicts "a" */
	assert_int_equal(mmr_lru_evictions(t), 2);
	get(t, "g", true, NULL); /* evicts "e" */
	assert_int_equal(mmr_lru_evictions(t), 3);
	assert_false(present(t, "a", 1));
	assert_false(present(t, "e", 1));
	assert_true(present(t, "c", 1));
	assert_true(present(t, "d", 1));
	assert_true(present(t, "f", 1));
	assert_true(present(t, "g", 1));
	assert_int_equal(mmr_lru_count(t), 4);
	mmr_lru_table_free(t);
}

static void test_touched_entry_survives_a_flood(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(8, sizeof(value), 1);
	value *v = get(t, "keeper", true, NULL);
	v->a = 7;
	for (int i = 0; i < 1000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "flood%d", i);
		get(t, key, true, NULL);
		assert_non_null(get(t, "keeper", false, NULL)); /* used between every insert */
	}
	v = get(t, "keeper", false, NULL);
	assert_non_null(v);
	assert_int_equal(v->a, 7); /* same entry, not a re-created zeroed one */
	assert_int_equal(mmr_lru_count(t), 8);
	assert_int_equal(mmr_lru_evictions(t), 1001 - 8);
	mmr_lru_table_free(t);
}

static void test_cap_per_stripe_and_evictions_counted(void **state)
{
	(void)state;
	/* 4 stripes, cap 8 -> 2 per stripe; 1000 distinct keys fill every stripe */
	mmr_lru_table *t = mmr_lru_table_new(8, sizeof(value), 4);
	for (int i = 0; i < 1000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		bool created = false;
		assert_non_null(get(t, key, true, &created));
		assert_true(created);
		assert_true(mmr_lru_count(t) <= 8);
	}
	assert_int_equal(mmr_lru_count(t), 8);
	/* every creation beyond what is resident was paid for by one eviction */
	assert_int_equal(mmr_lru_evictions(t), 1000 - 8);
	/* and exactly 8 of the keys are still found */
	int found = 0;
	for (int i = 0; i < 1000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		found += present(t, key, strlen(key));
	}
	assert_int_equal(found, 8);
	mmr_lru_table_free(t);
}

static void test_cap_not_multiple_of_stripes(void **state)
{
	(void)state;
	/* max_entries is "the cap" (lru_table.h). With 10 entries over 4 stripes the table may
	 * evict early (per-stripe caps), but it must never hold more than 10. */
	mmr_lru_table *t = mmr_lru_table_new(10, sizeof(value), 4);
	for (int i = 0; i < 2000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		assert_non_null(get(t, key, true, NULL));
	}
	size_t n = mmr_lru_count(t);
	uint64_t ev = mmr_lru_evictions(t);
	mmr_lru_table_free(t);

	/* the users table's shape: 64 stripes, state.maxusers = 100 */
	t = mmr_lru_table_new(100, sizeof(value), 64);
	for (int i = 0; i < 20000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "u%d", i);
		assert_non_null(get(t, key, true, NULL));
	}
	size_t n2 = mmr_lru_count(t);
	mmr_lru_table_free(t);

	assert_int_equal(ev, 2000 - n);
	if (n > 10 || n2 > 100)
		fail_msg("cap exceeded: max_entries 10 / 4 stripes holds %zu; max_entries 100 / "
			 "64 stripes holds %zu",
			 n, n2);
}

static void test_count_accurate(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(100000, sizeof(value), 16);
	for (int i = 0; i < 5000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		get(t, key, true, NULL);
	}
	assert_int_equal(mmr_lru_count(t), 5000);
	/* re-acquiring existing keys, with or without create, changes nothing */
	for (int i = 0; i < 5000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		bool created = true;
		assert_non_null(get(t, key, (i & 1) != 0, &created));
		assert_false(created);
	}
	/* lookups of absent keys do not create */
	for (int i = 5000; i < 6000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		assert_null(get(t, key, false, NULL));
	}
	assert_int_equal(mmr_lru_count(t), 5000);
	assert_int_equal(mmr_lru_evictions(t), 0);
	mmr_lru_table_free(t);
}

static void test_keys_never_collide(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(1000, sizeof(value), 4);
	/* prefixes, embedded NULs, the empty key, binary keys of equal length */
	static const struct {
		const char *k;
		size_t len;
	} keys[] = {
		{"", 0},        {"a", 1},          {"ab", 2},        {"abc", 3},
		{"a\0", 2},     {"a\0b", 3},       {"a\0c", 3},      {"\0", 1},
		{"\0\0", 2},    {"ba", 2},         {"A", 1},         {"\xff", 1},
		{"abc\0\0", 5}, {"abcd", 4},
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	for (size_t i = 0; i < n; i++) {
		mmr_lru_hold h;
		bool created = false;
		value *v = mmr_lru_acquire(t, keys[i].k, keys[i].len, true, &created, &h);
		assert_non_null(v);
		if (!created)
			fail_msg("key %zu (len %zu) found an existing entry", i, keys[i].len);
		v->a = i + 1;
		mmr_lru_release(&h);
	}
	assert_int_equal(mmr_lru_count(t), n);
	for (size_t i = 0; i < n; i++) {
		mmr_lru_hold h;
		value *v = mmr_lru_acquire(t, keys[i].k, keys[i].len, false, NULL, &h);
		assert_non_null(v);
		assert_int_equal(v->a, i + 1);
		mmr_lru_release(&h);
	}

	/* binary keys like the detectors' (an mmr_ip-sized struct) differing in one byte */
	unsigned char k[17];
	for (int i = 0; i < 17; i++) {
		memset(k, 0, sizeof(k));
		k[i] = 1;
		bool created = false;
		mmr_lru_hold h;
		assert_non_null(mmr_lru_acquire(t, k, sizeof(k), true, &created, &h));
		mmr_lru_release(&h);
		assert_true(created);
	}
	assert_int_equal(mmr_lru_count(t), n + 17);
	mmr_lru_table_free(t);
}

static void test_many_entries_small_cap(void **state)
{
	(void)state;
	const size_t cap = 1024;
	mmr_lru_table *t = mmr_lru_table_new(cap, sizeof(value), 16);
	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t key = i * 2654435761u;
		bool created = false;
		mmr_lru_hold h;
		value *v = mmr_lru_acquire(t, &key, sizeof(key), true, &created, &h);
		assert_non_null(v);
		assert_true(created);
		v->a = key;
		mmr_lru_release(&h);
	}
	size_t n = mmr_lru_count(t);
	assert_true(n <= cap);
	assert_true(n > cap / 2); /* per-stripe caps fill evenly with a seeded hash */
	assert_int_equal(mmr_lru_evictions(t), 100000 - n);
	/* the most recent key of all is resident and intact */
	uint32_t last = 99999u * 2654435761u;
	mmr_lru_hold h;
	value *v = mmr_lru_acquire(t, &last, sizeof(last), false, NULL, &h);
	assert_non_null(v);
	assert_int_equal(v->a, last);
	mmr_lru_release(&h);
	mmr_lru_table_free(t);
}

static void test_tiny_cap_and_stripe_rounding(void **state)
{
	(void)state;
	/* stripes are rounded up to a power of two; 3 -> 4 */
	mmr_lru_table *t = mmr_lru_table_new(400, sizeof(value), 3);
	for (int i = 0; i < 4000; i++) {
		char key[16];
		snprintf(key, sizeof(key), "x%d", i);
		get(t, key, true, NULL);
	}
	assert_int_equal(mmr_lru_count(t), 400); /* 100 per stripe, all full */
	mmr_lru_table_free(t);
	mmr_lru_table_free(NULL); /* harmless */
}

/* Segmented eviction: protected entries survive any number of unprotected inserts, and are
 * evicted (least recent first) only when the stripe holds nothing unprotected. */
static void test_protected_survive_flood(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(16, 8, 1);
	mmr_lru_hold h;
	char key[32];
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "established%d", i);
		void *v = mmr_lru_acquire(t, key, strlen(key), true, NULL, &h);
		assert_non_null(v);
		mmr_lru_protect(&h, v);
		mmr_lru_protect(&h, v); /* idempotent */
		mmr_lru_release(&h);
	}
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "flood%d", i);
		assert_non_null(mmr_lru_acquire(t, key, strlen(key), true, NULL, &h));
		mmr_lru_release(&h);
	}
	assert_true(mmr_lru_count(t) <= 16);
	assert_int_equal(mmr_lru_evictions(t), 10000 - 6);
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "established%d", i);
		void *v = mmr_lru_acquire(t, key, strlen(key), false, NULL, &h);
		mmr_lru_release(&h);
		if (v == NULL)
			fail_msg("%s was evicted by unprotected entries", key);
	}
	/* only protected entries left and the stripe full: the least recent protected one goes */
	for (int i = 10; i < 17; i++) {
		snprintf(key, sizeof(key), "established%d", i);
		void *v = mmr_lru_acquire(t, key, strlen(key), true, NULL, &h);
		mmr_lru_protect(&h, v);
		mmr_lru_release(&h);
	}
	assert_true(mmr_lru_count(t) <= 16);
	void *v = mmr_lru_acquire(t, "established0", 12, false, NULL, &h);
	mmr_lru_release(&h);
	assert_null(v);
	v = mmr_lru_acquire(t, "established16", 13, false, NULL, &h);
	mmr_lru_release(&h);
	assert_non_null(v);
	mmr_lru_table_free(t);
}

/* --- copy passes in batches (mmr_lru_visit_stripe with a pass) --------------------------- */

#define PASS_KEYS 20000

typedef struct {
	int budget;       /* entries this batch still accepts */
	int last;         /* key of the last entry accepted, -1 none */
	unsigned char seen[PASS_KEYS];
} pass_arg;

static int pass_visit(void *arg, const void *key, size_t keylen, void *value, bool protected_)
{
	pass_arg *b = arg;
	int k;
	(void)value;
	(void)protected_;
	assert_int_equal(keylen, sizeof(k));
	memcpy(&k, key, sizeof(k));
	if (b->budget-- <= 0)
		return 1;
	b->seen[k]++;
	b->last = k;
	return 0;
}

static void touch(mmr_lru_table *t, int k, bool protect)
{
	mmr_lru_hold h;
	void *v = mmr_lru_acquire(t, &k, sizeof(k), false, NULL, &h);
	if (v && protect)
		mmr_lru_protect(&h, v);
	mmr_lru_release(&h);
}

static bool has(mmr_lru_table *t, int k)
{
	return present(t, &k, sizeof(k));
}

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* A pass over a stripe of n entries in batches of b looks at each entry once: n visits, not
 * the n^2/2b of walking from the tail again for every batch. The shape of a users stripe at
 * 1 M users: 15,600 records, about 150 per 256 KiB batch. */
static void test_pass_costs_one_visit_per_entry(void **state)
{
	(void)state;
	const int n = 15600, b = 150;
	mmr_lru_table *t = mmr_lru_table_new(n, 16, 1);
	for (int k = 0; k < n; k++) {
		char v[16] = {0};
		assert_int_equal(mmr_lru_put(t, &k, sizeof(k), v, k % 2 == 0), 0);
	}
	static pass_arg a;
	memset(&a, 0, sizeof(a));
	uint32_t pass = mmr_lru_new_pass(t);
	uint64_t before = mmr_lru_pass_visits(t);
	int batches = 0;
	do {
		a.budget = b;
		batches++;
	} while (mmr_lru_visit_stripe(t, 0, pass, pass_visit, &a, NULL) == 1);
	uint64_t visits = mmr_lru_pass_visits(t) - before;
	for (int k = 0; k < n; k++)
		assert_int_equal(a.seen[k], 1);
	assert_int_equal(batches, (n + b - 1) / b);
	/* each batch also looks at the one entry it turns away */
	assert_true(visits <= (uint64_t)n + (uint64_t)batches);
	mmr_lru_table_free(t);
}

/* Between batches, everything a worker can do to the stripe: touch entries not copied yet,
 * copied ones and the resume position itself (the last entry copied), protect entries (they
 * move to the other segment), move protected entries back to probation (put), remove the
 * resume position, evict the tail by inserting into a full stripe, add new entries. Every
 * entry present at the end was copied exactly once, none twice, and the cost stays one visit
 * per entry plus one per touch. */
static void test_pass_interleavings(void **state)
{
	(void)state;
	for (int round = 0; round < 40; round++) {
		const int n = 2000, cap = 2300;
		mmr_lru_table *t = mmr_lru_table_new(cap, 16, 1);
		char v[16] = {0};
		for (int k = 0; k < n; k++)
			assert_int_equal(mmr_lru_put(t, &k, sizeof(k), v, rnd() % 3 == 0), 0);
		static pass_arg a;
		memset(&a, 0, sizeof(a));
		a.last = -1;
		int next_new = n, touches = 0, batches = 0, more;
		uint32_t pass = mmr_lru_new_pass(t);
		uint64_t before = mmr_lru_pass_visits(t);
		do {
			a.budget = 1 + (int)(rnd() % 60);
			more = mmr_lru_visit_stripe(t, 0, pass, pass_visit, &a, NULL);
			batches++;
			int ops = more == 1 ? (int)(rnd() % 8) : 0; /* the pass is over at 0 */
			for (int j = 0; j < ops; j++) {
				int k = (int)(rnd() % (unsigned)next_new);
				switch (rnd() % 8) {
				case 0: /* the resume position is used */
					if (a.last >= 0)
						touch(t, a.last, false);
					touches++;
					break;
				case 1: /* ... or protected */
					if (a.last >= 0)
						touch(t, a.last, true);
					touches++;
					break;
				case 2: /* ... or removed */
					if (a.last >= 0)
						mmr_lru_remove(t, &a.last, sizeof(a.last), NULL, NULL);
					break;
				case 3:
					touch(t, k, false);
					touches++;
					break;
				case 4:
					touch(t, k, true);
					touches++;
					break;
				case 5: /* back to probation, overwritten */
					if (has(t, k))
						mmr_lru_put(t, &k, sizeof(k), v, false);
					touches++;
					break;
				case 6: /* a new entry; at the cap it evicts the tail */
				case 7:
					if (next_new < PASS_KEYS) {
						mmr_lru_put(t, &next_new, sizeof(next_new), v,
							    rnd() % 2 == 0);
						next_new++;
					}
					break;
				}
			}
		} while (more == 1);
		uint64_t visits = mmr_lru_pass_visits(t) - before;
		/* the interleavings happened */
		assert_true(batches > 30);
		assert_true(mmr_lru_evictions(t) > 0 || next_new - n < cap - n);
		for (int k = 0; k < next_new; k++) {
			if (a.seen[k] > 1)
				fail_msg("round %d: entry %d copied %d times", round, k, a.seen[k]);
			if (has(t, k) && a.seen[k] != 1)
				fail_msg("round %d: entry %d present but not copied", round, k);
		}
		assert_true(visits <= (uint64_t)next_new + (uint64_t)touches + (uint64_t)batches);
		mmr_lru_table_free(t);
	}
}

/* A new pass starts from the tail again, whatever the previous pass left behind, and a pass
 * that was abandoned half way does not confuse the next one. */
static void test_new_pass_restarts(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(500, 16, 1);
	char v[16] = {0};
	for (int k = 0; k < 300; k++)
		assert_int_equal(mmr_lru_put(t, &k, sizeof(k), v, false), 0);
	static pass_arg a;
	memset(&a, 0, sizeof(a));
	a.budget = 100;
	assert_int_equal(mmr_lru_visit_stripe(t, 0, mmr_lru_new_pass(t), pass_visit, &a, NULL), 1);
	memset(&a, 0, sizeof(a));
	uint32_t pass = mmr_lru_new_pass(t);
	do
		a.budget = 70;
	while (mmr_lru_visit_stripe(t, 0, pass, pass_visit, &a, NULL) == 1);
	for (int k = 0; k < 300; k++)
		assert_int_equal(a.seen[k], 1);
	mmr_lru_table_free(t);
}

/* remove hands the value and the segment back; bytes count every entry */
static void test_remove_returns_value_and_segment(void **state)
{
	(void)state;
	mmr_lru_table *t = mmr_lru_table_new(500, 16, 1);
	char v[16] = "value of three";
	for (int k = 0; k < 100; k++)
		assert_int_equal(mmr_lru_put(t, &k, sizeof(k), v, k % 3 == 0), 0);
	int k = 3;
	bool prot = false;
	char out[16];
	assert_true(mmr_lru_remove(t, &k, sizeof(k), out, &prot));
	assert_true(prot);
	assert_memory_equal(out, v, sizeof(v));
	assert_false(mmr_lru_remove(t, &k, sizeof(k), out, &prot));
	k = 4;
	assert_true(mmr_lru_remove(t, &k, sizeof(k), NULL, &prot));
	assert_false(prot);
	assert_int_equal(mmr_lru_count(t), 98);
	assert_true(mmr_lru_bytes(t) > 98 * (48 + 16 + sizeof(int)));
	mmr_lru_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_find),
		cmocka_unit_test(test_protected_survive_flood),
		cmocka_unit_test(test_values_zeroed),
		cmocka_unit_test(test_value_alignment),
		cmocka_unit_test(test_key_and_value_do_not_overlap),
		cmocka_unit_test(test_protect_only_the_held_entry),
		cmocka_unit_test(test_lru_order_single_stripe),
		cmocka_unit_test(test_touched_entry_survives_a_flood),
		cmocka_unit_test(test_cap_per_stripe_and_evictions_counted),
		cmocka_unit_test(test_cap_not_multiple_of_stripes),
		cmocka_unit_test(test_count_accurate),
		cmocka_unit_test(test_keys_never_collide),
		cmocka_unit_test(test_many_entries_small_cap),
		cmocka_unit_test(test_tiny_cap_and_stripe_rounding),
		cmocka_unit_test(test_pass_costs_one_visit_per_entry),
		cmocka_unit_test(test_pass_interleavings),
		cmocka_unit_test(test_new_pass_restarts),
		cmocka_unit_test(test_remove_returns_value_and_segment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
