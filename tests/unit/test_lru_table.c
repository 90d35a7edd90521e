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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_find),
		cmocka_unit_test(test_protected_survive_flood),
		cmocka_unit_test(test_values_zeroed),
		cmocka_unit_test(test_value_alignment),
		cmocka_unit_test(test_lru_order_single_stripe),
		cmocka_unit_test(test_touched_entry_survives_a_flood),
		cmocka_unit_test(test_cap_per_stripe_and_evictions_counted),
		cmocka_unit_test(test_cap_not_multiple_of_stripes),
		cmocka_unit_test(test_count_accurate),
		cmocka_unit_test(test_keys_never_collide),
		cmocka_unit_test(test_many_entries_small_cap),
		cmocka_unit_test(test_tiny_cap_and_stripe_rounding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
