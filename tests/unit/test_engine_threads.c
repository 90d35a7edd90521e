/* mmr_engine_process() from several threads at once (engine.h: "may be called from any
 * number of threads at once"). Four threads process interleaved events for overlapping users
 * and source IPs; afterwards the counters and the state must be exactly what a serial run
 * would leave, and the detectors must still work deterministically.
 *
 * Run it under -fsanitize=address,undefined (the default build) and, for races, build it
 * with -fsanitize=thread or run it under valgrind --tool=helgrind with MMR_TEST_EVENTS=4000
 * (the environment variable only scales the event count down; every check stays the same).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_support.h"

#include "mmriskscore/engine.h"

#define NTHREADS 4
#define DAY 86400
#define BASE ((int64_t)1795392000) /* Monday 2026-11-23 00:00 UTC */
#define PLANT_TIME (BASE + 3 * DAY)
#define FARM_IP "203.0.113.200"

/* distinct names/addresses for a run: every one is drawn many times even when
 * MMR_TEST_EVENTS scales the run down */
static unsigned scaled(unsigned want, long per_draw)
{
	long total = 0;
	const char *s = getenv("MMR_TEST_EVENTS");
	total = s ? atol(s) : 200000;
	long cap = total / per_draw;
	return cap < (long)want ? (unsigned)(cap < 16 ? 16 : cap) : want;
}

static long events_per_thread(void)
{
	const char *s = getenv("MMR_TEST_EVENTS");
	long total = s ? atol(s) : 200000;
	if (total < NTHREADS * 100)
		total = NTHREADS * 100;
	return total / NTHREADS;
}

typedef struct {
	mmr_engine *e;
	int tid;
	long n;
	unsigned users, ips;
	/* filled by the thread: failures are reported here and checked on the main thread */
	long processed;
	long failures;
	char error[256];
	bool caps_tight; /* caps small enough that eviction may hit the private burst */
} job;

static void ip_of(unsigned k, mmr_ip *ip)
{
	/* 198.18.0.0/15 (RFC 2544 benchmarking): public as far as the engine is concerned */
	memset(ip, 0, sizeof(*ip));
	ip->family = 4;
	ip->b[0] = 198;
	ip->b[1] = (uint8_t)(18 + ((k >> 16) & 1));
	ip->b[2] = (uint8_t)(k >> 8);
	ip->b[3] = (uint8_t)k;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void *worker(void *arg)
{
	job *j = arg;
	uint32_t seed = 0x9e3779b9u * (uint32_t)(j->tid + 1);
	mmr_event ev;
	mmr_result r;
	char solo[32];
	snprintf(solo, sizeof(solo), "solo%d", j->tid);

	for (long i = 0; i < j->n; i++) {
		uint32_t x = rnd(&seed);
		mmr_event_init(&ev);
		/* users and IPs overlap across threads */
		snprintf(ev.user, sizeof(ev.user), "user%u", x % j->users);
		ip_of((x >> 12) % j->ips, &ev.src_ip);
		ev.action = (x & 0x300) ? MMR_ACTION_VPN_START : MMR_ACTION_AUTH;
		ev.outcome = (x % 10 == 3) ? MMR_OUTCOME_FAILURE : MMR_OUTCOME_SUCCESS;
		ev.time = BASE + i * 3 + j->tid;
		ev.time_from_log = true;
		if (mmr_engine_process(j->e, &ev, &r) != 0) {
			j->failures++;
			continue;
		}
		j->processed++;
		if (r.score < 0 || r.score > 100 || r.user_score < 0 || r.user_score > 100 ||
		    r.n_reasons < 0 || r.n_reasons > MMR_MAX_REASONS ||
		    strcmp(r.user, ev.user) != 0) {
			snprintf(j->error, sizeof(j->error), "bad result for %s: score %d/%d n %d",
				 ev.user, r.score, r.user_score, r.n_reasons);
			return NULL;
		}

		if (i == j->n / 2) {
			/* plant one member of a laptop farm, in the middle of the traffic */
			mmr_event_init(&ev);
			snprintf(ev.user, sizeof(ev.user), "farm%d", j->tid);
			mmr_ip_parse(FARM_IP, &ev.src_ip);
			ev.action = MMR_ACTION_VPN_START;
			ev.outcome = MMR_OUTCOME_SUCCESS;
			ev.time = PLANT_TIME + j->tid;
			if (mmr_engine_process(j->e, &ev, &r) != 0)
				j->failures++;
			else
				j->processed++;
		}
		if (i % 1000 == 999) {
			/* a thread-private account with a private burst: 5 failures, no address.
			 * Whatever the other threads do, the 5th must fire the user rule. */
			int64_t t0 = BASE + (i / 1000) * 7200;
			for (int k = 0; k < 5; k++) {
				mmr_event_init(&ev);
				snprintf(ev.user, sizeof(ev.user), "%s", solo);
				ev.action = MMR_ACTION_AUTH;
				ev.outcome = MMR_OUTCOME_FAILURE;
				ev.time = t0 + k;
				if (mmr_engine_process(j->e, &ev, &r) != 0) {
					j->failures++;
					continue;
				}
				j->processed++;
				bool fired = false;
				for (int q = 0; q < r.n_reasons; q++)
					fired |= strcmp(r.reasons[q].rule, "auth.failure_burst.user") == 0;
				/* under a small cap another thread may evict solo between its failures
				 * (LRU, by design): then the burst restarts and may not fire, but it
				 * must never fire early */
				if (fired ? k != 4 : (k == 4 && !j->caps_tight)) {
					snprintf(j->error, sizeof(j->error),
						 "%s: failure %d of a private burst %s", solo, k + 1,
						 fired ? "fired early" : "did not fire");
					return NULL;
				}
			}
		}
	}
	return NULL;
}

static long run_threads(mmr_engine *e, unsigned users, unsigned ips, long *failures,
			bool caps_tight)
{
	pthread_t th[NTHREADS];
	job jobs[NTHREADS];
	long n = events_per_thread(), processed = 0;
	*failures = 0;
	for (int t = 0; t < NTHREADS; t++) {
		memset(&jobs[t], 0, sizeof(jobs[t]));
		jobs[t].e = e;
		jobs[t].tid = t;
		jobs[t].n = n;
		jobs[t].users = users;
		jobs[t].ips = ips;
		jobs[t].caps_tight = caps_tight;
		assert_int_equal(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
	}
	for (int t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	for (int t = 0; t < NTHREADS; t++) {
		if (jobs[t].error[0])
			fail_msg("thread %d: %s", t, jobs[t].error);
		processed += jobs[t].processed;
		*failures += jobs[t].failures;
	}
	return processed;
}

/* events each thread sends: n random + 1 farm + 5 per 1000 for the private burst */
static long expected_events(void)
{
	long n = events_per_thread();
	return NTHREADS * (n + 1 + 5 * (n / 1000));
}


static void test_concurrent_invariants(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const unsigned users = scaled(1000, 20), ips = scaled(600, 40);
	long failures;
	long processed = run_threads(e, users, ips, &failures, false);

	assert_int_equal(failures, 0);
	assert_int_equal(processed, expected_events());
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_int_equal(st.events_scored, (uint64_t)expected_events());
	assert_int_equal(st.events_failed, 0);
	/* random draws over `users` names, each drawn ~200 times: every name is drawn */
	uint64_t distinct = users + NTHREADS /* farmN */ + NTHREADS /* soloN */;
	assert_int_equal(st.users, distinct);
	assert_int_equal(st.users_evicted, 0);
	/* farm table: 600 addresses + the farm IP; failure table: the addresses that failed;
	 * failure rings: the users who failed */
	assert_in_range(st.ips, ips + 1, 2 * ips + 1 + users);
	assert_int_equal(st.ips_evicted, 0);

	/* the four farm members planted concurrently are all on record: a fifth account from
	 * the same address makes 5 within 24 h, naming all four; without a roster and at engine
	 * start nobody counts as new, so it is the weak network.shared_source_ip (25 points) */
	mmr_event ev;
	mmr_result r;
	mmr_event_init(&ev);
	snprintf(ev.user, sizeof(ev.user), "farm_new");
	assert_int_equal(mmr_ip_parse(FARM_IP, &ev.src_ip), 0);
	ev.action = MMR_ACTION_VPN_START;
	ev.outcome = MMR_OUTCOME_SUCCESS;
	ev.time = PLANT_TIME + 600;
	assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	const mmr_reason *x = NULL;
	for (int i = 0; i < r.n_reasons; i++)
		if (strcmp(r.reasons[i].rule, "network.shared_source_ip") == 0)
			x = &r.reasons[i];
	assert_non_null(x);
	assert_int_equal(x->points, 25);
	assert_non_null(strstr(x->detail, "5 distinct accounts"));
	for (int t = 0; t < NTHREADS; t++) {
		char name[16];
		snprintf(name, sizeof(name), "farm%d", t);
		if (strstr(x->detail, name) == NULL)
			fail_msg("farm member %s missing from \"%s\"", name, x->detail);
	}
	mmr_engine_stats(e, &st);
	assert_int_equal(st.events_scored, (uint64_t)expected_events() + 1);
	assert_int_equal(st.users, distinct + 1);
}

static void test_concurrent_with_small_caps(void **state)
{
	fixture *f = *state;
	const unsigned users = scaled(5000, 4), ips = scaled(500, 8);
	f->cfg.max_users = users / 5; /* 1000: not a multiple of the 64 user stripes */
	f->cfg.max_ips = 100;
	mmr_engine *e = start(f);
	long failures;
	long processed = run_threads(e, users, ips, &failures, true);

	assert_int_equal(failures, 0);
	assert_int_equal(processed, expected_events());
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_int_equal(st.events_scored, (uint64_t)expected_events());
	assert_int_equal(st.events_failed, 0);
	assert_true(st.users_evicted > 0);
	assert_true(st.ips_evicted > 0);
	/* everything that was ever created is either resident or was evicted */
	assert_true(st.users + st.users_evicted >= users);
	if (st.users > f->cfg.max_users)
		fail_msg("state.maxusers = %u but %llu users are resident", f->cfg.max_users,
			 (unsigned long long)st.users);
	/* two IP-keyed tables (failure burst, shared IP) and the failure rings of users who
	 * failed (no MFA events here, so one ring table), each capped at max_ips */
	if (st.ips > 3ull * f->cfg.max_ips)
		fail_msg("state.maxips = %u per table but %llu entries are resident in three tables",
			 f->cfg.max_ips, (unsigned long long)st.ips);
}

static void test_concurrent_cap_multiple_of_stripes(void **state)
{
	fixture *f = *state;
	/* a cap the 64 user stripes divide evenly (1216 = 64 * 19): the bound holds exactly */
	const unsigned users = scaled(5000, 4), cap = 64 * (users / 64 / 4);
	f->cfg.max_users = cap;
	mmr_engine *e = start(f);
	long failures;
	run_threads(e, users, 300, &failures, true);
	assert_int_equal(failures, 0);
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_true(st.users <= cap);
	assert_true(st.users > cap / 2); /* stripes fill evenly */
	assert_true(st.users_evicted > 0);
	assert_int_equal(st.events_scored, (uint64_t)expected_events());
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_concurrent_invariants),
		T(test_concurrent_with_small_caps),
		T(test_concurrent_cap_multiple_of_stripes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
