/* The first-seen / uncommon family, driven detector by detector through detector_harness.h:
 * seen_set.h, population.c, first_seen_network, first_seen_country, first_seen_asn,
 * first_seen_device and first_seen_target.
 *
 * Expectations come from the header comments of those sources and docs/detectors/first_seen_*.md:
 *   network.first_seen             20   new /24 or /48 in 90 days, converged
 *   geo.first_seen_country         20   new country in 180 days, converged
 *   geo.uncommon_country_peers     25 / 15  0 peers / <= 10% of the active peers used it
 *   geo.first_seen_country_tenant  30   nobody in the tenant, after 7 days of observation
 *   network.first_seen_asn         15, network.uncommon_asn_peers 15 / 10,
 *   network.first_seen_asn_tenant  20
 *   device.first_seen              10, mfa.first_seen_factor 20 (converged)
 *   access.first_seen_target       10 (converged), access.uncommon_target_peers 25 / 15
 * Peer rules need >= 3 active peers and 7 days of tenant observation.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detector_harness.h"
#include "detect/first_seen_common.h"
#include "detect/population.h"
#include "detect/seen_set.h"
#include "enrich/roster.h"

#define DAY 86400
#define HOUR 3600
/* Monday 2026-11-23 00:00:00 UTC */
#define MONDAY ((int64_t)1795392000)
#define AT(d, h) (MONDAY + (int64_t)(d) * DAY + (int64_t)(h) * HOUR)

extern const mmr_detector mmr_detector_first_seen_network;
extern const mmr_detector mmr_detector_first_seen_country;
extern const mmr_detector mmr_detector_first_seen_asn;
extern const mmr_detector mmr_detector_first_seen_device;
extern const mmr_detector mmr_detector_first_seen_target;

#define FS_NET "network.first_seen"
#define FS_COUNTRY "geo.first_seen_country"
#define PEER_COUNTRY "geo.uncommon_country_peers"
#define TENANT_COUNTRY "geo.first_seen_country_tenant"
#define FS_ASN "network.first_seen_asn"
#define PEER_ASN "network.uncommon_asn_peers"
#define TENANT_ASN "network.first_seen_asn_tenant"
#define FS_DEVICE "device.first_seen"
#define FS_FACTOR "mfa.first_seen_factor"
#define FS_TARGET "access.first_seen_target"
#define PEER_TARGET "access.uncommon_target_peers"

/* ---- roster entries the tests point h.x.who at ------------------------------------------- */

#define MAX_WHO 48
static mmr_roster_entry who_v[MAX_WHO];
static int who_n;

static const mmr_roster_entry *member(const char *user, uint32_t group, const char *group_name,
				      uint32_t group_size)
{
	for (int i = 0; i < who_n; i++)
		if (strcmp(who_v[i].user, user) == 0)
			return &who_v[i];
	if (who_n == MAX_WHO)
		fail_msg("test bug: too many roster entries");
	mmr_roster_entry *w = &who_v[who_n++];
	memset(w, 0, sizeof(*w));
	w->user = user;
	w->department = "engineering";
	w->team = group_name;
	w->title = "";
	w->manager = "";
	w->timezone = "";
	w->group = group;
	w->group_name = group_name;
	w->group_size = group_size;
	return w;
}

static int reset_roster(void **state)
{
	(void)state;
	who_n = 0;
	return 0;
}

static void set_who(dh *h, const mmr_roster_entry *w)
{
	h->x.who = w;
	h->x.group = w ? w->group : 0;
}

static const mmr_roster_entry *who_of(const char *user)
{
	for (int i = 0; i < who_n; i++)
		if (strcmp(who_v[i].user, user) == 0)
			return &who_v[i];
	return NULL;
}

static void expect_fired(const dh *h, const char *rule, int points)
{
	int p = dh_points(h, rule);
	if (p != points)
		fail_msg("%s: expected %d points, got %d (detail: %s)", rule, points, p,
			 dh_detail(h, rule));
}

static void expect_silent(const dh *h, const char *rule)
{
	if (dh_points(h, rule) != -1)
		fail_msg("%s fired unexpectedly: %s", rule, dh_detail(h, rule));
}

static void expect_detail(const dh *h, const char *rule, const char *needle)
{
	const char *d = dh_detail(h, rule);
	if (strstr(d, needle) == NULL)
		fail_msg("%s detail lacks \"%s\": %s", rule, needle, d);
	if (strlen(d) >= 200)
		fail_msg("%s detail is %zu chars: %s", rule, strlen(d), d);
}

/* ---- seen_set.h --------------------------------------------------------------------------- */

static void test_seen_set_semantics(void **state)
{
	(void)state;
	mmr_seen_slot s[4];
	memset(s, 0, sizeof(s));
	assert_int_equal(mmr_seen_day(0), 1);
	assert_int_equal(mmr_seen_day(-5 * DAY), 1);
	assert_int_equal(mmr_seen_day(INT64_MAX), UINT32_MAX - 1);
	assert_int_equal(mmr_seen_day(MONDAY), MONDAY / DAY);

	uint32_t d = 20000;
	assert_true(mmr_seen_add(s, 4, 11, d, 90));
	assert_false(mmr_seen_add(s, 4, 11, d + 1, 90)); /* known: day refreshed */
	assert_int_equal(mmr_seen_find(s, 4, 11, d + 90, 90), 0);
	assert_int_equal(mmr_seen_find(s, 4, 11, d + 91, 90), -1); /* lookback from the last use */
	/* out of order by a few days: still known, the day is not moved back */
	assert_false(mmr_seen_add(s, 4, 11, d - 3, 90));
	assert_int_equal(s[0].day, d + 1);

	/* full: the least recently used value goes */
	assert_true(mmr_seen_add(s, 4, 12, d + 2, 90));
	assert_true(mmr_seen_add(s, 4, 13, d + 3, 90));
	assert_true(mmr_seen_add(s, 4, 14, d + 4, 90));
	assert_int_equal(mmr_seen_count(s, 4, d + 4, 90, 0), 4);
	assert_int_equal(mmr_seen_count(s, 4, d + 4, 90, 14), 3);
	assert_false(mmr_seen_add(s, 4, 11, d + 5, 90)); /* 11 is now the most recent */
	assert_true(mmr_seen_add(s, 4, 15, d + 6, 90));  /* evicts 12 (day d + 2) */
	assert_int_equal(mmr_seen_find(s, 4, 12, d + 6, 90), -1);
	assert_true(mmr_seen_find(s, 4, 11, d + 6, 90) >= 0);
	assert_true(mmr_seen_find(s, 4, 13, d + 6, 90) >= 0);
	/* an expired slot is reused before a live one is evicted */
	memset(s, 0, sizeof(s));
	mmr_seen_add(s, 4, 21, d, 90);
	mmr_seen_add(s, 4, 22, d + 50, 90);
	mmr_seen_add(s, 4, 23, d + 60, 90);
	mmr_seen_add(s, 4, 24, d + 70, 90);
	assert_true(mmr_seen_add(s, 4, 25, d + 100, 90)); /* 21 expired at d + 90 */
	assert_int_equal(mmr_seen_count(s, 4, d + 100, 90, 0), 4);
	assert_true(mmr_seen_find(s, 4, 22, d + 100, 90) >= 0);

	/* a slot dated years ahead (broken clock) is not live and is recycled, not kept forever */
	memset(s, 0, sizeof(s));
	assert_true(mmr_seen_add(s, 4, 31, d + 3650, 90));
	assert_int_equal(mmr_seen_find(s, 4, 31, d, 90), -1);
	assert_true(mmr_seen_add(s, 4, 31, d, 90)); /* same slot, back to the present */
	assert_int_equal(s[0].day, d);
	assert_int_equal(s[1].day, 0);
	/* a few days ahead is ordinary reordering: known */
	assert_false(mmr_seen_add(s, 4, 31, d - MMR_SEEN_FUTURE_DAYS, 90));
}

/* ---- population.c ------------------------------------------------------------------------- */

static void test_population_counts_users_per_scope(void **state)
{
	(void)state;
	mmr_population *p = mmr_population_new(1000);
	assert_non_null(p);
	mmr_pop_entry e;
	assert_int_equal(mmr_population_age(p, MONDAY), -1);
	mmr_population_observe(p, AT(3, 0));
	mmr_population_observe(p, AT(1, 0)); /* earlier: moves the clock back */
	mmr_population_observe(p, AT(9, 0));
	assert_int_equal(mmr_population_age(p, AT(8, 0)), 7 * DAY);
	assert_int_equal(mmr_population_age(p, AT(0, 0)), 0);

	/* three users of group 7 and one of group 8, each with a private seen set */
	mmr_seen_slot a[4] = {{0, 0}}, b[4] = {{0, 0}}, c[4] = {{0, 0}}, x[4] = {{0, 0}};
	assert_true(mmr_population_learn(p, MMR_POP_TARGET, 7, a, 4, 100, AT(1, 0), 90));
	assert_false(mmr_population_learn(p, MMR_POP_TARGET, 7, a, 4, 100, AT(2, 0), 90));
	assert_true(mmr_population_learn(p, MMR_POP_TARGET, 7, a, 4, 101, AT(2, 0), 90));
	assert_true(mmr_population_learn(p, MMR_POP_TARGET, 7, b, 4, 100, AT(2, 0), 90));
	assert_true(mmr_population_learn(p, MMR_POP_TARGET, 7, c, 4, 102, AT(2, 0), 90));
	assert_true(mmr_population_learn(p, MMR_POP_TARGET, 8, x, 4, 100, AT(2, 0), 90));

	assert_true(mmr_population_get(p, MMR_POP_TARGET, 7, 100, &e));
	assert_int_equal(e.users, 2); /* a once (not per event) and b */
	assert_int_equal(e.first_seen, AT(1, 0));
	assert_true(mmr_population_get(p, MMR_POP_TARGET, MMR_POP_TENANT, 100, &e));
	assert_int_equal(e.users, 3);
	assert_true(mmr_population_get(p, MMR_POP_TARGET, 7, MMR_POP_ANY, &e));
	assert_int_equal(e.users, 3);  /* a, b, c used some target */
	assert_int_equal(e.values, 3); /* 100, 101, 102 */
	assert_true(mmr_population_get(p, MMR_POP_TARGET, MMR_POP_TENANT, MMR_POP_ANY, &e));
	assert_int_equal(e.users, 4);
	assert_int_equal(e.values, 3);
	assert_false(mmr_population_get(p, MMR_POP_TARGET, 8, 101, &e));
	assert_int_equal(e.users, 0);
	/* kinds are separate */
	assert_false(mmr_population_get(p, MMR_POP_COUNTRY, 7, 100, &e));

	/* the approximation: a's set forgets 100 (lookback), a uses it again: counted twice */
	assert_true(mmr_population_learn(p, MMR_POP_TARGET, 7, a, 4, 100, AT(200, 0), 90));
	assert_true(mmr_population_get(p, MMR_POP_TARGET, 7, 100, &e));
	assert_int_equal(e.users, 3);
	assert_true(mmr_population_get(p, MMR_POP_TARGET, 7, MMR_POP_ANY, &e));
	assert_int_equal(e.users, 4); /* a's set was empty again too */

	mmr_stats st;
	memset(&st, 0, sizeof(st));
	mmr_population_stats(p, &st);
	assert_true(st.ips >= 8);
	mmr_population_free(p);
}

static void test_population_cap_keeps_gates(void **state)
{
	(void)state;
	mmr_population *p = mmr_population_new(64);
	assert_non_null(p);
	mmr_seen_slot s[2] = {{0, 0}};
	mmr_population_learn(p, MMR_POP_TARGET, 5, s, 2, 1, AT(0, 0), 90);
	/* a flood of distinct values through one user's (tiny) set */
	for (uint32_t v = 2; v < 5000; v++)
		mmr_population_learn(p, MMR_POP_TARGET, 5, s, 2, v, AT(0, 0), 90);
	mmr_stats st;
	memset(&st, 0, sizeof(st));
	mmr_population_stats(p, &st);
	assert_true(st.ips <= 64);
	assert_true(st.ips_evicted > 0);
	mmr_pop_entry e;
	/* the ANY entries are protected: the gate still knows the group has a user */
	assert_true(mmr_population_get(p, MMR_POP_TARGET, 5, MMR_POP_ANY, &e));
	assert_true(e.users >= 1);
	mmr_population_free(p);
}

/* ---- first_seen_network (refactored onto seen_set.h) -------------------------------------- */

static void net_event(dh *h, const char *user, const char *ip, int64_t t)
{
	dh_event(h, user, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, ip, t);
	dh_step(h);
}

static void test_network_first_seen_via_harness(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_network, NULL);
	assert_int_equal(h.d->user_state_size, 16 * 8);
	for (int d = 0; d < 10; d++)
		for (int i = 0; i < 3; i++)
			net_event(&h, "bob", "198.51.100.20", AT(d, 9 + i));
	dh_event(&h, "bob", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "192.0.2.7", AT(11, 10));
	dh_step(&h);
	expect_fired(&h, FS_NET, 20);
	expect_detail(&h, FS_NET, "192.0.2.0/24");
	expect_detail(&h, FS_NET, "(1 other networks known");
	dh_event(&h, "bob", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "192.0.2.99", AT(12, 10));
	dh_step(&h);
	expect_silent(&h, FS_NET);
	/* one event dated ten years ahead does not pin a slot: back in the present the network
	 * it named is new again (and the detector does not crash on the date) */
	dh_event(&h, "bob", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "203.0.113.9",
		 AT(12, 10) + 3650LL * DAY);
	dh_step(&h);
	dh_event(&h, "bob", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "203.0.113.9", AT(13, 10));
	dh_step(&h);
	expect_fired(&h, FS_NET, 20);
	dh_free(&h);
}

/* ---- first_seen_country ------------------------------------------------------------------- */

/* One successful external sign-in of user from country cc; the roster entry, if the test
 * registered one for user, is set. Returns nothing: inspect h. */
static void country_event(dh *h, const char *user, const char *cc, int64_t t)
{
	dh_event(h, user, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "198.51.100.20", t);
	snprintf(h->x.country, sizeof(h->x.country), "%s", cc);
	set_who(h, who_of(user));
	dh_step(h);
}

/* n events a day over days [d0, d0 + days) from cc */
static void country_train(dh *h, const char *user, const char *cc, int d0, int days, int n)
{
	for (int d = d0; d < d0 + days; d++)
		for (int i = 0; i < n; i++)
			country_event(h, user, cc, AT(d, 9 + i));
}

static void test_country_first_seen_for_user(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	assert_true(h.d->user_state_size <= 64);
	country_train(&h, "alice", "US", 0, 10, 3);
	country_train(&h, "alice", "CA", 4, 1, 1);
	country_event(&h, "alice", "JP", AT(11, 10));
	expect_fired(&h, FS_COUNTRY, 20);
	expect_detail(&h, FS_COUNTRY, "from JP");
	expect_detail(&h, FS_COUNTRY, "US, CA");
	/* learned: the next event from JP is silent */
	country_event(&h, "alice", "JP", AT(11, 11));
	assert_int_equal(h.out.n, 0);
	country_event(&h, "alice", "US", AT(12, 10));
	assert_int_equal(h.out.n, 0);
	dh_free(&h);
}

static void test_country_convergence_guard(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	country_train(&h, "young", "US", 0, 10, 2); /* 20 events: not converged */
	country_event(&h, "young", "JP", AT(11, 10));
	expect_silent(&h, FS_COUNTRY);
	country_train(&h, "young", "US", 12, 5, 3); /* now converged */
	country_event(&h, "young", "BR", AT(18, 10));
	expect_fired(&h, FS_COUNTRY, 20);
	/* the country it used while learning is known */
	country_event(&h, "young", "JP", AT(18, 11));
	expect_silent(&h, FS_COUNTRY);
	dh_free(&h);
}

static void test_country_lookback_expiry_and_param(void **state)
{
	(void)state;
	for (int round = 0; round < 2; round++) {
		dh h;
		dh_init(&h, &mmr_detector_first_seen_country, NULL);
		if (round == 1)
			h.param[0] = 365; /* country.lookback_days */
		country_train(&h, "carl", "US", 0, 10, 3);
		country_event(&h, "carl", "DE", AT(5, 20));
		for (int d = 10; d < 190; d++)
			country_event(&h, "carl", "US", AT(d, 10));
		/* DE last used 185 days ago */
		country_event(&h, "carl", "DE", AT(190, 10));
		if (round == 0) {
			expect_fired(&h, FS_COUNTRY, 20);
			expect_detail(&h, FS_COUNTRY, "in 180 days");
		} else {
			expect_silent(&h, FS_COUNTRY);
		}
		/* carl himself made DE known in the tenant: the tenant rule stays silent */
		expect_silent(&h, TENANT_COUNTRY);
		dh_free(&h);
	}
}

static void test_country_unknown_internal_failure_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	country_train(&h, "dana", "US", 0, 10, 3);
	/* unknown country */
	country_event(&h, "dana", "", AT(11, 10));
	assert_int_equal(h.out.n, 0);
	/* internal address, even with a (bogus) country: neither scored nor learned */
	dh_event(&h, "dana", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "10.1.2.3", AT(11, 11));
	strcpy(h.x.country, "JP");
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	/* a failure from a new country: neither scored nor learned */
	dh_event(&h, "dana", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "198.51.100.20", AT(11, 12));
	strcpy(h.x.country, "JP");
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	country_event(&h, "dana", "JP", AT(11, 13));
	expect_fired(&h, FS_COUNTRY, 20);
	dh_free(&h);
}

/* Five peers of group 0x1111 (10 in the roster) and two users of another group, active from
 * US for days 0-9; "other" (group 0x2222) also from KP on day 2. */
static void country_population(dh *h)
{
	static const char *const peers[] = {"p1", "p2", "p3", "p4", "p5"};
	for (int i = 0; i < 5; i++)
		member(peers[i], 0x1111, "engineering/backend-2", 10);
	member("alice", 0x1111, "engineering/backend-2", 10);
	member("other", 0x2222, "sales/emea", 8);
	member("other2", 0x2222, "sales/emea", 8);
	for (int d = 0; d < 10; d++) {
		for (int i = 0; i < 5; i++)
			country_event(h, peers[i], "US", AT(d, 9 + i));
		country_event(h, "other", "US", AT(d, 15));
		country_event(h, "other2", "US", AT(d, 16));
	}
	country_event(h, "other", "KP", AT(2, 20));
}

static void test_country_uncommon_among_peers(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	country_population(&h);
	/* alice is new: US is what her peers use -> silent, no convergence needed */
	country_event(&h, "alice", "US", AT(10, 9));
	assert_int_equal(h.out.n, 0);
	/* KP: no peer ever; the tenant has seen it (other) -> the peer rule, not the tenant one */
	country_event(&h, "alice", "KP", AT(10, 10));
	expect_fired(&h, PEER_COUNTRY, 25);
	expect_detail(&h, PEER_COUNTRY, "activity from KP");
	expect_detail(&h, PEER_COUNTRY, "0 of 5 active peers in engineering/backend-2");
	expect_detail(&h, PEER_COUNTRY, "(1 tenant-wide");
	expect_silent(&h, TENANT_COUNTRY);
	expect_silent(&h, FS_COUNTRY); /* alice has not converged */
	/* once per first use: alice's next KP event is her own habit now */
	country_event(&h, "alice", "KP", AT(10, 11));
	assert_int_equal(h.out.n, 0);
	/* other2 (group 0x2222): with the gate lowered to one active peer, "other" used KP:
	 * 1 of 1 peers, common */
	h.param[5] = 1; /* country.peers_min_observed */
	country_event(&h, "other2", "KP", AT(10, 12));
	expect_silent(&h, PEER_COUNTRY);
	expect_silent(&h, TENANT_COUNTRY);
	dh_free(&h);
}

static void test_country_peers_few_and_share_param(void **state)
{
	(void)state;
	char name[16][8];
	for (int round = 0; round < 3; round++) {
		who_n = 0;
		dh h;
		dh_init(&h, &mmr_detector_first_seen_country, NULL);
		if (round == 1)
			h.param[4] = 0.05; /* country.peers_max_share */
		if (round == 2)
			h.param[4] = 1.0 / 16; /* the boundary: exactly 1 of 16 is "at most" */
		for (int i = 0; i < 16; i++) {
			snprintf(name[i], sizeof(name[i]), "q%d", i);
			member(name[i], 0x3333, "support/manila", 17);
		}
		member("newbie", 0x3333, "support/manila", 17);
			for (int d = 0; d < 8; d++)
			for (int i = 0; i < 16; i++)
				country_event(&h, name[i], "PH", AT(d, 9));
		country_event(&h, "q0", "SG", AT(3, 12)); /* one of 16 peers went to Singapore */
		/* newbie from SG: 1 of 16 active peers = 6% <= 10%: uncommon, few -> 15 */
		country_event(&h, "newbie", "PH", AT(8, 9));
		country_event(&h, "newbie", "SG", AT(8, 10));
		if (round != 1) {
			expect_fired(&h, PEER_COUNTRY, 15);
			expect_detail(&h, PEER_COUNTRY, "1 of 16 active peers");
		} else {
			expect_silent(&h, PEER_COUNTRY); /* 6% > 5% */
		}
		expect_silent(&h, TENANT_COUNTRY);
		dh_free(&h);
	}
}

static void test_country_peer_gates(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	/* two peers only */
	member("r1", 0x5555, "legal", 6);
	member("r2", 0x5555, "legal", 6);
	member("r3", 0x5555, "legal", 6);
	member("solo", 0x6666, "exec", 1);
	for (int d = 0; d < 10; d++) {
		country_event(&h, "r1", "GB", AT(d, 9));
		country_event(&h, "r2", "GB", AT(d, 10));
		country_event(&h, "solo", "GB", AT(d, 11));
		country_event(&h, "nobody", "GB", AT(d, 12)); /* not in the roster */
		country_event(&h, "x", "FR", AT(d, 13));
	}
	/* r3: 2 active peers < 3 -> silent */
	country_event(&h, "r3", "FR", AT(10, 9));
	expect_silent(&h, PEER_COUNTRY);
	/* a one-person group has no peers; a user outside the roster has no group */
	country_event(&h, "solo", "FR", AT(10, 10));
	expect_silent(&h, PEER_COUNTRY);
	country_event(&h, "nobody", "ES", AT(10, 11));
	expect_silent(&h, PEER_COUNTRY);
	expect_fired(&h, TENANT_COUNTRY, 30); /* the tenant rule needs no roster */
	/* the gate is a parameter */
	h.param[5] = 2; /* country.peers_min_observed */
	country_event(&h, "r3", "IT", AT(10, 12));
	expect_silent(&h, PEER_COUNTRY); /* nobody used IT: the tenant rule stands for it */
	expect_fired(&h, TENANT_COUNTRY, 30);
	/* with 2 active peers enough, a country the tenant knows and no peer used fires */
	country_event(&h, "x", "PT", AT(10, 13));
	country_event(&h, "r3", "PT", AT(10, 14));
	expect_fired(&h, PEER_COUNTRY, 25);
	expect_detail(&h, PEER_COUNTRY, "0 of 2 active peers in legal");
	/* r1 from FR: r3 (1 of 2 active peers) used it: common */
	country_event(&h, "r1", "FR", AT(10, 15));
	expect_silent(&h, PEER_COUNTRY);
	dh_free(&h);
}

static void test_country_tenant_first_after_warmup(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	for (int d = 0; d < 10; d++) {
		country_event(&h, "u1", "US", AT(d, 9));
		country_event(&h, "u2", "US", AT(d, 10));
		if (d == 3) {
			/* the tenant has been observed 3 days: no population to compare with yet */
			country_event(&h, "u1", "BR", AT(d, 11));
			expect_silent(&h, TENANT_COUNTRY);
		}
	}
	country_event(&h, "u2", "AR", AT(10, 9));
	expect_fired(&h, TENANT_COUNTRY, 30);
	expect_detail(&h, TENANT_COUNTRY, "activity from AR: a first for the whole tenant");
	expect_detail(&h, TENANT_COUNTRY, "(2 other countries seen in 10 days");
	/* the second person there is not a first */
	country_event(&h, "u1", "AR", AT(10, 10));
	expect_silent(&h, TENANT_COUNTRY);
	/* BR was learned during the warm-up */
	country_event(&h, "u2", "BR", AT(10, 11));
	expect_silent(&h, TENANT_COUNTRY);
	dh_free(&h);
}

/* Conference trip: a converged user goes to Germany, where two of her peers went before. The
 * user rule fires (weak, fine); the tenant and peer rules do not. */
static void test_country_conference_trip(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	static const char *const team[] = {"alice", "t1", "t2", "t3", "t4"};
	for (int i = 0; i < 5; i++)
		member(team[i], 0x7777, "product", 5);
	for (int d = 0; d < 12; d++)
		for (int i = 0; i < 5; i++)
			for (int k = 0; k < 3; k++)
				country_event(&h, team[i], d == 8 && i <= 2 && i > 0 ? "DE" : "US",
					      AT(d, 9 + k));
	country_event(&h, "alice", "DE", AT(12, 9));
	expect_fired(&h, FS_COUNTRY, 20);
	expect_silent(&h, PEER_COUNTRY);   /* 2 of 4 peers */
	expect_silent(&h, TENANT_COUNTRY); /* t1, t2 were there */
	assert_int_equal(h.out.n, 1);
	dh_free(&h);
}

static void test_country_points_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	h.param[1] = 7;  /* country.first_seen_points */
	h.param[6] = 0;  /* country.tenant_points: recorded with 0 points */
	h.param[7] = 0;  /* country.warmup_days */
	country_train(&h, "eve", "US", 0, 10, 3);
	country_event(&h, "eve", "NZ", AT(11, 10));
	expect_fired(&h, FS_COUNTRY, 7);
	expect_fired(&h, TENANT_COUNTRY, 0);
	dh_free(&h);
	/* warm-up 0: the very first events of a tenant are "firsts" */
	dh_init(&h, &mmr_detector_first_seen_country, NULL);
	h.param[7] = 0;
	country_event(&h, "eve", "US", AT(0, 10));
	expect_fired(&h, TENANT_COUNTRY, 30);
	dh_free(&h);
}

/* ---- first_seen_asn ----------------------------------------------------------------------- */

static void asn_event(dh *h, const char *user, uint32_t asn, const char *org, int64_t t)
{
	dh_event(h, user, MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, "198.51.100.30", t);
	h->x.asn = asn;
	snprintf(h->x.as_org, sizeof(h->x.as_org), "%s", org);
	strcpy(h->x.country, "US");
	set_who(h, who_of(user));
	dh_step(h);
}

static void test_asn_rules(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_asn, NULL);
	assert_true(h.d->user_state_size <= 64);
	static const char *const team[] = {"frank", "s1", "s2", "s3", "s4"};
	for (int i = 0; i < 5; i++)
		member(team[i], 0x8888, "engineering/platform-2", 10);
	for (int d = 0; d < 10; d++)
		for (int i = 0; i < 5; i++)
			for (int k = 0; k < 3; k++)
				asn_event(&h, team[i], 64601, "Metro Cable", AT(d, 9 + k));
	asn_event(&h, "outsider", 64777, "Nimbus Hosting", AT(5, 9));

	/* unknown ASN: silent, not learned */
	asn_event(&h, "frank", 0, "", AT(10, 9));
	assert_int_equal(h.out.n, 0);
	/* Starline VPN: new to frank, to his peers and to the tenant */
	asn_event(&h, "frank", 64900, "Starline VPN", AT(10, 10));
	expect_fired(&h, FS_ASN, 15);
	expect_detail(&h, FS_ASN, "AS64900 (Starline VPN)");
	expect_detail(&h, FS_ASN, "(1 other ASNs known");
	expect_fired(&h, TENANT_ASN, 20);
	expect_detail(&h, TENANT_ASN, "(2 other ASNs seen");
	expect_silent(&h, PEER_ASN);
	/* Nimbus: the tenant knows it (outsider), no peer used it */
	asn_event(&h, "frank", 64777, "Nimbus Hosting", AT(10, 11));
	expect_fired(&h, FS_ASN, 15);
	expect_fired(&h, PEER_ASN, 15);
	expect_detail(&h, PEER_ASN, "0 of 4 active peers");
	expect_silent(&h, TENANT_ASN);
	/* a peer on the same VPN next: frank is a peer who used it (1 of 4 = 25% > 10%) */
	asn_event(&h, "s1", 64900, "Starline VPN", AT(10, 12));
	expect_silent(&h, PEER_ASN);
	expect_silent(&h, TENANT_ASN);
	expect_fired(&h, FS_ASN, 15);
	/* the evidence phrase: the organisation cut at 32 bytes; without one, the number only */
	asn_event(&h, "s2", 4294967295u, "Very Long Organization Name Hosting Cloud", AT(10, 14));
	expect_detail(&h, FS_ASN, "first activity from AS4294967295 (Very Long Organization Name "
				  "Host) for this user");
	asn_event(&h, "s3", 7, "", AT(10, 14));
	expect_detail(&h, FS_ASN, "first activity from AS7 for this user");
	/* an internal address carries no ASN fact */
	dh_event(&h, "s2", MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, "10.0.0.5", AT(10, 13));
	h.x.asn = 64999;
	set_who(&h, who_of("s2"));
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	dh_free(&h);
}

/* ---- first_seen_device -------------------------------------------------------------------- */

#define UA_CHROME_WIN                                                                             \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "      \
	"Chrome/%d.0.0.0 Safari/537.36"

static void device_event(dh *h, const char *user, mmr_action a, const char *device,
			 const char *ua, const char *factor, int64_t t)
{
	dh_event(h, user, a, MMR_OUTCOME_SUCCESS, "198.51.100.40", t);
	snprintf(h->ev.device, sizeof(h->ev.device), "%s", device ? device : "");
	snprintf(h->ev.user_agent, sizeof(h->ev.user_agent), "%s", ua ? ua : "");
	snprintf(h->ev.mfa_factor, sizeof(h->ev.mfa_factor), "%s", factor ? factor : "");
	dh_step(h);
}

static void device_train(dh *h, const char *user)
{
	char ua[256];
	snprintf(ua, sizeof(ua), UA_CHROME_WIN, 128);
	for (int d = 0; d < 10; d++) {
		device_event(h, user, MMR_ACTION_AUTH, "NW-LT-10001", ua, NULL, AT(d, 9));
		device_event(h, user, MMR_ACTION_MFA, NULL, ua, "OKTA_VERIFY_PUSH", AT(d, 9) + 30);
		device_event(h, user, MMR_ACTION_SSO, NULL, ua, NULL, AT(d, 10));
	}
}

static void test_device_first_seen(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_device, NULL);
	assert_true(h.d->user_state_size <= 96);
	device_train(&h, "gina");
	char ua[256];
	/* a browser update is not a new device */
	snprintf(ua, sizeof(ua), UA_CHROME_WIN, 131);
	device_event(&h, "gina", MMR_ACTION_SSO, NULL, ua, NULL, AT(10, 9));
	expect_silent(&h, FS_DEVICE);
	/* a new laptop */
	device_event(&h, "gina", MMR_ACTION_AUTH, "NW-MBP-20002", ua, NULL, AT(10, 10));
	expect_fired(&h, FS_DEVICE, 10);
	expect_detail(&h, FS_DEVICE, "device NW-MBP-20002");
	expect_detail(&h, FS_DEVICE, "(2 other devices known");
	device_event(&h, "gina", MMR_ACTION_AUTH, "NW-MBP-20002", ua, NULL, AT(10, 11));
	expect_silent(&h, FS_DEVICE);
	/* a new client family without a device name: curl */
	device_event(&h, "gina", MMR_ACTION_AUTH, NULL, "curl/8.5.0", NULL, AT(10, 12));
	expect_fired(&h, FS_DEVICE, 10);
	expect_detail(&h, FS_DEVICE, "device curl ");
	/* Firefox on Linux */
	device_event(&h, "gina", MMR_ACTION_SSO, NULL,
		     "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
		     NULL, AT(10, 13));
	expect_detail(&h, FS_DEVICE, "Firefox on Linux");
	/* nothing to go on: silent */
	device_event(&h, "gina", MMR_ACTION_VPN_START, NULL, NULL, NULL, AT(10, 14));
	assert_int_equal(h.out.n, 0);
	/* not converged: silent */
	device_event(&h, "henry", MMR_ACTION_AUTH, "NW-LT-3", NULL, NULL, AT(10, 9));
	device_event(&h, "henry", MMR_ACTION_AUTH, "NW-LT-4", NULL, NULL, AT(10, 10));
	assert_int_equal(h.out.n, 0);
	dh_free(&h);
}

/* The device key of a user agent is the hash of "ua:" and its family, cut at 127 bytes: saved
 * states hold these hashes, so a change of the key would make every known browser new after
 * an upgrade. A device name spelling the same key is the same device. */
static void test_device_key_is_stable(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_device, NULL);
	device_train(&h, "kim");
	char ua[256];
	/* learned from the user agent, asked as a device name */
	device_event(&h, "kim", MMR_ACTION_SSO, NULL, "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
		     NULL, AT(10, 9));
	expect_fired(&h, FS_DEVICE, 10);
	device_event(&h, "kim", MMR_ACTION_SSO, "ua:Firefox on Linux", NULL, NULL, AT(10, 10));
	expect_silent(&h, FS_DEVICE);
	/* an OS without a known browser */
	device_event(&h, "kim", MMR_ACTION_SSO, "ua:a client on iPadOS", NULL, NULL, AT(10, 11));
	expect_fired(&h, FS_DEVICE, 10);
	device_event(&h, "kim", MMR_ACTION_SSO, NULL, "SomeApp (iPad; 17.1)", NULL, AT(10, 12));
	expect_silent(&h, FS_DEVICE);
	/* a product token longer than the key keeps: cut at 127 bytes */
	memset(ua, 'Q', 200);
	memcpy(ua + 200, "/1.0", 5);
	device_event(&h, "kim", MMR_ACTION_SSO, NULL, ua, NULL, AT(10, 13));
	expect_fired(&h, FS_DEVICE, 10);
	expect_detail(&h, FS_DEVICE, "device QQQQQQQQ");
	memset(ua, 'Q', 127);
	memcpy(ua + 127, "/2", 3);
	device_event(&h, "kim", MMR_ACTION_SSO, NULL, ua, NULL, AT(10, 15));
	expect_silent(&h, FS_DEVICE); /* exactly 127 Q: the same family as the 200 Q token */
	dh_free(&h);
}

static void test_mfa_first_seen_factor(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_device, NULL);
	device_train(&h, "ivan");
	/* the usual push: silent */
	device_event(&h, "ivan", MMR_ACTION_MFA, NULL, NULL, "OKTA_VERIFY_PUSH", AT(10, 9));
	assert_int_equal(h.out.n, 0);
	/* a failed MFA with a new factor: not scored, not learned */
	dh_event(&h, "ivan", MMR_ACTION_MFA, MMR_OUTCOME_FAILURE, "198.51.100.40", AT(10, 10));
	strcpy(h.ev.mfa_factor, "Okta Verify");
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	/* a new Okta Verify enrolment (an account event): the dormant-account takeover shape,
	 * and also an employee back from leave with a new phone (returning_leave) */
	device_event(&h, "ivan", MMR_ACTION_ACCOUNT, NULL, NULL, "Okta Verify", AT(10, 11));
	expect_fired(&h, FS_FACTOR, 20);
	expect_detail(&h, FS_FACTOR, "MFA factor Okta Verify");
	expect_detail(&h, FS_FACTOR, "(1 other factors known");
	device_event(&h, "ivan", MMR_ACTION_AUTH, NULL, NULL, "Okta Verify", AT(10, 12));
	expect_silent(&h, FS_FACTOR);
	/* a factor on an event kind that is not MFA/AUTH/ACCOUNT is ignored */
	device_event(&h, "ivan", MMR_ACTION_SSO, NULL, NULL, "SMS", AT(10, 13));
	expect_silent(&h, FS_FACTOR);
	/* the factor lookback is a parameter: 180 days by default; with 30, a factor unused for
	 * 40 days is new again */
	h.param[2] = 30; /* mfa.first_seen_lookback_days */
	h.param[3] = 25; /* mfa.first_seen_points */
	for (int d = 11; d < 51; d++)
		device_event(&h, "ivan", MMR_ACTION_AUTH, "NW-LT-10001", NULL, NULL, AT(d, 9));
	device_event(&h, "ivan", MMR_ACTION_MFA, NULL, NULL, "OKTA_VERIFY_PUSH", AT(51, 9));
	expect_fired(&h, FS_FACTOR, 25);
	/* unconverged users are silent */
	device_event(&h, "jo", MMR_ACTION_MFA, NULL, NULL, "OKTA_VERIFY_PUSH", AT(0, 9));
	device_event(&h, "jo", MMR_ACTION_ACCOUNT, NULL, NULL, "Okta Verify", AT(0, 10));
	assert_int_equal(h.out.n, 0);
	dh_free(&h);
}

/* ---- first_seen_target -------------------------------------------------------------------- */

/* A successful ssh login of user to server (logged by the server: host) from the VPN pool. */
static void ssh_event(dh *h, const char *user, const char *server, int64_t t)
{
	dh_event(h, user, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "10.8.0.20", t);
	snprintf(h->ev.host, sizeof(h->ev.host), "%s", server);
	set_who(h, who_of(user));
	dh_step(h);
}

static void sso_event(dh *h, const char *user, const char *app, int64_t t)
{
	dh_event(h, user, MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, "198.51.100.50", t);
	snprintf(h->ev.target, sizeof(h->ev.target), "%s", app);
	snprintf(h->ev.host, sizeof(h->ev.host), "okta-collector");
	set_who(h, who_of(user));
	dh_step(h);
}

/* Team platform-2 (group 0x9999, 10 in the roster): 9 members known to the test, who ssh to
 * pl2-api-01/02 and use Slack, days 0-9. */
static const char *const platform[] = {"kim", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"};

static void platform_population(dh *h, int days)
{
	for (int i = 0; i < 9; i++)
		member(platform[i], 0x9999, "engineering/platform-2", 10);
	for (int d = 0; d < days; d++)
		for (int i = 0; i < 9; i++) {
			ssh_event(h, platform[i], "pl2-api-01", AT(d, 9));
			ssh_event(h, platform[i], "pl2-api-02", AT(d, 10));
			sso_event(h, platform[i], "Slack", AT(d, 11));
		}
}

static void test_target_first_seen_and_uncommon(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_target, NULL);
	assert_true(h.d->user_state_size <= 128);
	platform_population(&h, 10);
	member("dba", 0xaaaa, "engineering/data-1", 6);
	ssh_event(&h, "dba", "db-prod-3", AT(4, 9)); /* the data team uses db-prod-3 */

	/* kim reaches db-prod-3: new for kim (converged), no peer ever */
	ssh_event(&h, "kim", "db-prod-3", AT(10, 2));
	expect_fired(&h, FS_TARGET, 10);
	expect_fired(&h, PEER_TARGET, 25);
	expect_detail(&h, PEER_TARGET,
		      "access to db-prod-3, new for this user; used by 0 of 8 active peers in "
		      "engineering/platform-2 (1 tenant-wide; user active 9 days)");
	expect_detail(&h, FS_TARGET, "(3 other targets known, 16 kept at most");
	/* names compare case-insensitively; the second visit is kim's own habit */
	ssh_event(&h, "kim", "DB-PROD-3", AT(10, 3));
	assert_int_equal(h.out.n, 0);
	/* team servers and apps: silent */
	ssh_event(&h, "kim", "pl2-api-02", AT(10, 9));
	assert_int_equal(h.out.n, 0);
	sso_event(&h, "kim", "Slack", AT(10, 9));
	assert_int_equal(h.out.n, 0);
	/* a sign-in from the internet, or from an office NAT (a public corporate network), names
	 * the IdP or gateway in host: not a target */
	char err[128];
	assert_int_equal(mmr_config_add_corporate_network(&h.cfg, "203.0.113.0/24", err,
							  sizeof(err)),
			 0);
	static const char *const publics[] = {"198.51.100.50", "203.0.113.7"};
	for (int i = 0; i < 2; i++) {
		dh_event(&h, "kim", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, publics[i], AT(10, 12));
		strcpy(h.ev.host, "okta-collector");
		set_who(&h, who_of("kim"));
		dh_step(&h);
		assert_int_equal(h.out.n, 0);
	}
	/* a console login (no address) names the server */
	dh_event(&h, "kim", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, NULL, AT(10, 12));
	strcpy(h.ev.host, "lab-console-01");
	set_who(&h, who_of("kim"));
	dh_step(&h);
	expect_fired(&h, PEER_TARGET, 25);
	/* failures, and events other than AUTH/SSO, do not count */
	dh_event(&h, "kim", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "10.8.0.20", AT(10, 13));
	strcpy(h.ev.host, "hr-db-01");
	set_who(&h, who_of("kim"));
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	dh_event(&h, "kim", MMR_ACTION_PRIVILEGE, MMR_OUTCOME_SUCCESS, "10.8.0.20", AT(10, 14));
	strcpy(h.ev.target, "root");
	set_who(&h, who_of("kim"));
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	ssh_event(&h, "kim", "hr-db-01", AT(10, 15)); /* the failure did not teach it */
	expect_fired(&h, PEER_TARGET, 25);
	dh_free(&h);
	mmr_config_clear(&h.cfg);
}

/* On-call: another on-call engineer of the team reached db-prod-1 on an earlier night. 1 of 8
 * active peers is 12.5%, above the default 10%: the peer rule is silent; with
 * target.peers_max_share 0.15 it is "few" (15 points). The user rule (weak) fires either way. */
static void test_target_oncall_peers_did_it(void **state)
{
	(void)state;
	for (int round = 0; round < 2; round++) {
		who_n = 0;
		dh h;
		dh_init(&h, &mmr_detector_first_seen_target, NULL);
		if (round == 1)
			h.param[4] = 0.15; /* target.peers_max_share */
		platform_population(&h, 10);
		ssh_event(&h, "m1", "db-prod-1", AT(6, 2)); /* m1's on-call page */
		ssh_event(&h, "kim", "db-prod-1", AT(10, 3));
		expect_fired(&h, FS_TARGET, 10); /* weak, for kim herself */
		if (round == 0)
			expect_silent(&h, PEER_TARGET);
		else {
			expect_fired(&h, PEER_TARGET, 15);
			expect_detail(&h, PEER_TARGET, "used by 1 of 8 active peers");
		}
		dh_free(&h);
	}
}

/* Sysadmins reach servers of every team, and so do their peers: the peer rule is silent, even
 * when the admin's own set overflows and forgets servers. */
static void test_target_sysadmin_among_sysadmins_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_target, NULL);
	static const char *const itops[] = {"ops1", "ops2", "ops3", "ops4", "ops5"};
	for (int i = 0; i < 5; i++)
		member(itops[i], 0xbbbb, "it/itops", 5);
	char srv[40][16];
	for (int s = 0; s < 40; s++)
		snprintf(srv[s], sizeof(srv[s]), "team%02d-app-01", s);
	/* ops2..ops5 cover all 40 servers over 10 days */
	for (int d = 0; d < 10; d++)
		for (int i = 1; i < 5; i++)
			for (int k = 0; k < 4; k++)
				ssh_event(&h, itops[i], srv[(d * 4 + k + i * 10) % 40], AT(d, 9 + k));
	/* ops1, new in the team, reaches 30 of them on days 10-12: no peer rule, ever */
	int peer_fired = 0;
	for (int s = 0; s < 30; s++) {
		ssh_event(&h, "ops1", srv[s], AT(10 + s / 10, 9 + s % 10));
		peer_fired += dh_points(&h, PEER_TARGET) >= 0;
	}
	assert_int_equal(peer_fired, 0);
	/* a server none of the admins ever touched is uncommon, admin or not */
	ssh_event(&h, "ops1", "payroll-01", AT(13, 9));
	expect_fired(&h, PEER_TARGET, 25);
	dh_free(&h);
}

/* A new hire ramping up on the team's servers: silent (no convergence for the user rule, the
 * servers are common among peers); a server of another team on day two: the peer rule. */
static void test_target_new_hire(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_target, NULL);
	platform_population(&h, 10);
	member("nora", 0x9999, "engineering/platform-2", 10);
	member("be", 0xcccc, "engineering/backend-3", 7);
	ssh_event(&h, "be", "be3-api-01", AT(2, 9));
	sso_event(&h, "nora", "Slack", AT(10, 9));
	assert_int_equal(h.out.n, 0);
	ssh_event(&h, "nora", "pl2-api-01", AT(10, 10));
	assert_int_equal(h.out.n, 0);
	ssh_event(&h, "nora", "pl2-api-02", AT(11, 10));
	assert_int_equal(h.out.n, 0);
	ssh_event(&h, "nora", "be3-api-01", AT(11, 11));
	expect_silent(&h, FS_TARGET); /* not converged */
	expect_fired(&h, PEER_TARGET, 25);
	expect_detail(&h, PEER_TARGET, "0 of 9 active peers"); /* nora is not her own peer */
	dh_free(&h);
}

static void test_target_gates(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_target, NULL);
	/* team of 10 in the roster, 2 active with servers: "0 of 2" says nothing */
	member("a1", 0xdddd, "data-2", 10);
	member("a2", 0xdddd, "data-2", 10);
	member("a3", 0xdddd, "data-2", 10);
	for (int d = 0; d < 10; d++) {
		ssh_event(&h, "a1", "d2-etl-01", AT(d, 9));
		ssh_event(&h, "a2", "d2-etl-01", AT(d, 10));
	}
	ssh_event(&h, "a3", "k8s-ctl-01", AT(10, 9));
	expect_silent(&h, PEER_TARGET);
	dh_free(&h);

	/* the tenant warm-up: 3 active peers, but only 5 days of observation */
	who_n = 0;
	dh_init(&h, &mmr_detector_first_seen_target, NULL);
	platform_population(&h, 5);
	ssh_event(&h, "kim", "k8s-ctl-01", AT(5, 9));
	expect_silent(&h, PEER_TARGET);
	h.param[6] = 5; /* target.warmup_days */
	ssh_event(&h, "kim", "k8s-ctl-02", AT(5, 10));
	expect_fired(&h, PEER_TARGET, 25);
	dh_free(&h);
}

/* More than 16 targets in the lookback: the least recently used is forgotten, and reaching it
 * again is "first seen" for the user (weak) but not uncommon among peers. */
static void test_target_overflow(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_first_seen_target, NULL);
	platform_population(&h, 10);
	char app[20][16];
	for (int a = 0; a < 20; a++)
		snprintf(app[a], sizeof(app[a]), "app-%02d", a);
	/* the team all use app-00 .. app-19 */
	for (int i = 1; i < 9; i++)
		for (int a = 0; a < 20; a++)
			sso_event(&h, platform[i], app[a], AT(10, 9));
	/* kim: app-00 on day 11, then app-01..app-17 and her 3 usual targets on later days */
	sso_event(&h, "kim", app[0], AT(11, 9));
	expect_fired(&h, FS_TARGET, 10);
	for (int a = 1; a < 18; a++)
		sso_event(&h, "kim", app[a], AT(12 + a / 8, 9 + a % 8));
	sso_event(&h, "kim", app[0], AT(20, 9));
	expect_fired(&h, FS_TARGET, 10);
	expect_detail(&h, FS_TARGET, "(16 other targets known");
	expect_silent(&h, PEER_TARGET);
	dh_free(&h);
}

/* ---- first_seen_common.h's mmr_fs_cat*, population.c's details, mmr_contrib_add ---------- */

/* The details are built with mmr_fs_cat* instead of snprintf and must stay byte-identical to
 * the printf formats they replace (texts are output), cut included: every buffer length. */
static void test_fs_cat_matches_snprintf(void **state)
{
	(void)state;
	static const long longs[] = {0, 1, 9, 10, 99, 100, -1, -10, 86399, LONG_MAX, LONG_MIN};
	static const uint32_t u32s[] = {0, 1, 9, 10, 4294967295u, 1000000};
	const char *group = "engineering/platform-2-with-a-name-longer-than-32-bytes";
	for (size_t len = 1; len <= 120; len++) {
		for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
			uint32_t u = u32s[i % (sizeof(u32s) / sizeof(u32s[0]))];
			char want[128], got[128];
			snprintf(want, len, "access to x: %u of %.32s (%ld days)", u, group, longs[i]);
			memset(got, 'Z', sizeof(got));
			size_t n = mmr_fs_cat_lit(got, len, 0, "access to ");
			n = mmr_fs_cat_str(got, len, n, "x", len);
			n = mmr_fs_cat_lit(got, len, n, ": ");
			n = mmr_fs_cat_u32(got, len, n, u);
			n = mmr_fs_cat_lit(got, len, n, " of ");
			n = mmr_fs_cat_str(got, len, n, group, 32);
			n = mmr_fs_cat_lit(got, len, n, " (");
			n = mmr_fs_cat_long(got, len, n, longs[i]);
			n = mmr_fs_cat_lit(got, len, n, " days)");
			assert_string_equal(got, want);
			assert_int_equal(n, strlen(want));
		}
	}

	/* the "%s" shortcut of mmr_contrib_add cuts where vsnprintf did */
	char long_detail[MMR_DETAIL_MAX + 40], want[MMR_DETAIL_MAX];
	memset(long_detail, 'a', sizeof(long_detail) - 1);
	long_detail[sizeof(long_detail) - 1] = '\0';
	memcpy(want, long_detail, sizeof(want) - 1); /* vsnprintf's cut */
	want[sizeof(want) - 1] = '\0';
	mmr_reason v[2];
	mmr_contribs c = {.v = v, .cap = 2};
	mmr_contrib_add(&c, "r", 5, "%s", long_detail);
	mmr_contrib_add(&c, "r", 5, "%s", "short");
	assert_int_equal(c.n, 2);
	assert_string_equal(v[0].detail, want);
	assert_string_equal(v[1].detail, "short");
}

#define T(f) cmocka_unit_test_setup(f, reset_roster)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_seen_set_semantics),
		T(test_population_counts_users_per_scope),
		T(test_population_cap_keeps_gates),
		T(test_network_first_seen_via_harness),
		T(test_country_first_seen_for_user),
		T(test_country_convergence_guard),
		T(test_country_lookback_expiry_and_param),
		T(test_country_unknown_internal_failure_silent),
		T(test_country_uncommon_among_peers),
		T(test_country_peers_few_and_share_param),
		T(test_country_peer_gates),
		T(test_country_tenant_first_after_warmup),
		T(test_country_conference_trip),
		T(test_country_points_params),
		T(test_asn_rules),
		T(test_device_first_seen),
		T(test_device_key_is_stable),
		T(test_mfa_first_seen_factor),
		T(test_target_first_seen_and_uncommon),
		T(test_target_oncall_peers_did_it),
		T(test_target_sysadmin_among_sysadmins_silent),
		T(test_target_new_hire),
		T(test_target_gates),
		T(test_target_overflow),
		T(test_fs_cat_matches_snprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
