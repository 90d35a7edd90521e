/* The detectors, the scoring and the configuration through the public API only
 * (mmr_engine_new / mmr_engine_process with hand-built events).
 *
 * Expectations come from the header comments of the detect/ sources, score/score.c, engine.c, from
 * notes/contract.md and DESIGN.md §3.3:
 *   time.rare_hour               30 (never active within 2 h of that time) / 20 (share < 0.2%)
 *   network.first_seen           20, /24 (v4) or /48 (v6) not used in the last 90 days
 *   auth.failure_burst.user      30, failures for the account within the window >= threshold
 *   auth.failure_burst.source_ip 30, failures from one IP within the window >= threshold
 *   network.shared_source_ip     25 at farm_min_users accounts that are not new (the farm
 *                                rule network.laptop_farm: test_detect_many_to_one.c)
 * Baseline detectors stay silent until learning_min_events over learning_min_days.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_support.h"
#include <json.h>

#include "mmriskscore/engine.h"

#define DAY 86400
#define HOUR 3600
/* Monday 2026-11-23 00:00:00 UTC */
#define MONDAY ((int64_t)1795392000)

#define RARE_HOUR "time.rare_hour"
#define FIRST_SEEN "network.first_seen"
#define BURST_USER "auth.failure_burst.user"
#define BURST_IP "auth.failure_burst.source_ip"
#define SHARED "network.shared_source_ip"


static mmr_event mk(const char *user, mmr_action action, mmr_outcome outcome, const char *ip,
		    int64_t t)
{
	mmr_event ev;
	mmr_event_init(&ev);
	snprintf(ev.user, sizeof(ev.user), "%s", user);
	ev.action = action;
	ev.outcome = outcome;
	if (ip && mmr_ip_parse(ip, &ev.src_ip) != 0)
		fail_msg("test bug: bad ip %s", ip);
	ev.time = t;
	ev.time_from_log = true;
	return ev;
}

static mmr_result run(mmr_engine *e, const char *user, mmr_action action, mmr_outcome outcome,
		      const char *ip, int64_t t)
{
	mmr_event ev = mk(user, action, outcome, ip, t);
	mmr_result r;
	memset(&r, 0x5a, sizeof(r));
	if (mmr_engine_process(e, &ev, &r) != 0)
		fail_msg("mmr_engine_process failed for %s", user);
	assert_string_equal(r.user, user);
	assert_in_range(r.score, 0, 100);
	assert_in_range(r.user_score, 0, 100);
	assert_in_range(r.n_reasons, 0, MMR_MAX_REASONS);
	return r;
}

static mmr_result ok(mmr_engine *e, const char *user, const char *ip, int64_t t)
{
	return run(e, user, MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, ip, t);
}

static mmr_result bad(mmr_engine *e, const char *user, const char *ip, int64_t t)
{
	return run(e, user, MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, ip, t);
}

static const mmr_reason *reason(const mmr_result *r, const char *rule)
{
	const mmr_reason *found = NULL;
	for (int i = 0; i < r->n_reasons; i++) {
		if (strcmp(r->reasons[i].rule, rule) == 0) {
			if (found)
				fail_msg("rule %s reported twice for one event", rule);
			found = &r->reasons[i];
		}
	}
	return found;
}

static void dump(const mmr_result *r)
{
	print_message("result user=%s score=%d user_score=%d learning=%d reasons=%d\n", r->user,
		      r->score, r->user_score, r->learning, r->n_reasons);
	for (int i = 0; i < r->n_reasons; i++)
		print_message("  %s %d %s\n", r->reasons[i].rule, r->reasons[i].points,
			      r->reasons[i].detail);
}

static const mmr_reason *expect_reason(const mmr_result *r, const char *rule, int points)
{
	const mmr_reason *x = reason(r, rule);
	if (x == NULL) {
		dump(r);
		fail_msg("expected rule %s to fire", rule);
	}
	if (x->points != points) {
		dump(r);
		fail_msg("rule %s: %d points, expected %d", rule, x->points, points);
	}
	return x;
}

static void expect_no_reason(const mmr_result *r, const char *rule)
{
	if (reason(r, rule) != NULL) {
		dump(r);
		fail_msg("rule %s fired, expected silence", rule);
	}
}

static void expect_detail_has(const mmr_reason *x, const char *needle)
{
	if (strstr(x->detail, needle) == NULL)
		fail_msg("detail of %s does not name \"%s\": \"%s\"", x->rule, needle, x->detail);
}

/* The documented formulas, used to derive expected scores from the reported points. */
static int combine(const int *p, int n)
{
	double clean = 1.0;
	for (int i = 0; i < n; i++)
		clean *= 1.0 - p[i] / 100.0;
	return (int)lround(100.0 * (1.0 - clean));
}

static int user_score_of(double risk, double scale)
{
	return risk <= 0 ? 0 : (int)lround(100.0 * (1.0 - exp(-risk / scale)));
}

/* n events per day at 10:00, 10:10, ... UTC for `days` days from `day0`, from ip. */
static void train(mmr_engine *e, const char *user, const char *ip, int day0, int days, int n)
{
	for (int d = day0; d < day0 + days; d++)
		for (int i = 0; i < n; i++) {
			mmr_result r = ok(e, user, ip, MONDAY + d * DAY + 10 * HOUR + i * 600);
			if (r.n_reasons != 0) {
				dump(&r);
				fail_msg("training event of %s on day %d produced reasons", user, d);
			}
		}
}

/* ---- hour_of_week_rarity ----------------------------------------------------------------- */

static void test_rare_hour_fires_when_converged(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "alice", "198.51.100.10", 0, 10, 3); /* 30 events over 9+ days */

	/* Wednesday 2026-12-09 22:00 UTC: twelve hours away from anything alice ever did */
	mmr_result r = ok(e, "alice", "198.51.100.10", MONDAY + 16 * DAY + 22 * HOUR);
	const mmr_reason *x = expect_reason(&r, RARE_HOUR, 30);
	expect_detail_has(x, "Wed 22:00");
	expect_detail_has(x, "30 events"); /* the evidence the verdict rests on */
	assert_int_equal(r.n_reasons, 1);
	assert_int_equal(r.score, 30);
	assert_false(r.learning);
}

static void test_rare_hour_silent_at_usual_and_nearby_hours(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "alice", "198.51.100.10", 0, 10, 3);
	/* the usual hour on a day never seen, and one hour earlier (smoothing): not rare */
	mmr_result r = ok(e, "alice", "198.51.100.10", MONDAY + 20 * DAY + 10 * HOUR + 300);
	expect_no_reason(&r, RARE_HOUR);
	r = ok(e, "alice", "198.51.100.10", MONDAY + 21 * DAY + 9 * HOUR);
	expect_no_reason(&r, RARE_HOUR);
	r = ok(e, "alice", "198.51.100.10", MONDAY + 22 * DAY + 11 * HOUR + 1800);
	expect_no_reason(&r, RARE_HOUR);
	assert_int_equal(r.score, 0);
	/* failures are never "rare hour" (they are the failure detectors' business) */
	r = bad(e, "alice", "198.51.100.10", MONDAY + 22 * DAY + 3 * HOUR);
	expect_no_reason(&r, RARE_HOUR);
}

static void test_rare_hour_convergence_guard(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t wed22 = MONDAY + 16 * DAY + 22 * HOUR;

	/* too few events (20 < 30) although over 10 days */
	train(e, "few", "198.51.100.11", 0, 10, 2);
	mmr_result r = ok(e, "few", "198.51.100.11", wed22);
	expect_no_reason(&r, RARE_HOUR);
	assert_true(r.learning);
	assert_int_equal(r.score, 0);

	/* enough events (60) but over less than 7 days */
	train(e, "short", "198.51.100.12", 10, 3, 20);
	r = ok(e, "short", "198.51.100.12", wed22);
	expect_no_reason(&r, RARE_HOUR);
	assert_true(r.learning);

	/* the same anomalous event for a converged user fires */
	train(e, "conv", "198.51.100.13", 0, 10, 3);
	r = ok(e, "conv", "198.51.100.13", wed22);
	expect_reason(&r, RARE_HOUR, 30);
	assert_false(r.learning);

	/* "few" keeps working at 10:00 for 20 more days (200 events): converged now, its
	 * one Wednesday-22:00 event is a tiny share (1/(3.1*221) < 0.2%) -> 20 points */
	train(e, "few", "198.51.100.11", 17, 20, 10);
	r = ok(e, "few", "198.51.100.11", wed22 + 28 * DAY);
	const mmr_reason *x = expect_reason(&r, RARE_HOUR, 20);
	expect_detail_has(x, "Wed 22:00");
	assert_false(r.learning);
}

static void test_convergence_boundaries(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t anomaly = MONDAY + 16 * DAY + 22 * HOUR; /* a Wednesday, 22:00 */
	char user[16];
	/* learning.minevents = 30: 29 events over 9 days are not enough, 30 are */
	for (int n = 29; n <= 30; n++) {
		snprintf(user, sizeof(user), "n%d", n);
		for (int k = 0; k < n; k++)
			ok(e, user, "198.51.100.15", MONDAY + (k % 10) * DAY + 10 * HOUR + (k / 10) * 60);
		mmr_result r = ok(e, user, "198.51.100.15", anomaly);
		if (n == 29)
			expect_no_reason(&r, RARE_HOUR);
		else
			expect_reason(&r, RARE_HOUR, 30);
	}
	/* learning.mindays = 7: 30 events spanning 7 days minus a second are not enough */
	for (int exact = 0; exact <= 1; exact++) {
		snprintf(user, sizeof(user), "d%d", exact);
		const int64_t first = MONDAY + 10 * HOUR;
		for (int k = 0; k < 29; k++)
			ok(e, user, "198.51.100.16", first + k * 60);
		ok(e, user, "198.51.100.16", first + 7 * DAY - (exact ? 0 : 1));
		mmr_result r = ok(e, user, "198.51.100.16", anomaly);
		if (exact)
			expect_reason(&r, RARE_HOUR, 30);
		else
			expect_no_reason(&r, RARE_HOUR);
	}
	/* failures do not count towards convergence */
	for (int k = 0; k < 29; k++)
		ok(e, "fz", "198.51.100.17", MONDAY + (k % 10) * DAY + 10 * HOUR + (k / 10) * 60);
	for (int k = 0; k < 10; k++)
		bad(e, "fz", NULL, MONDAY + 12 * DAY + 10 * HOUR + k * DAY / 10);
	mmr_result r = ok(e, "fz", "198.51.100.17", anomaly);
	expect_no_reason(&r, RARE_HOUR);
	assert_false(r.learning); /* this 30th success completes it */
}

static void test_rare_hour_not_taught_by_failures(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "alice", "198.51.100.10", 0, 10, 3);
	/* 50 failed sign-ins at 22:00 do not make 22:00 a usual hour */
	for (int i = 0; i < 50; i++)
		bad(e, "alice", NULL, MONDAY + 11 * DAY + 22 * HOUR + i * HOUR * 24);
	mmr_result r = ok(e, "alice", "198.51.100.10", MONDAY + 70 * DAY + 22 * HOUR);
	expect_reason(&r, RARE_HOUR, 30);
}

static void test_rare_hour_forgets_old_habits(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t wed22 = MONDAY + 2 * DAY + 22 * HOUR;
	/* a night shift: 200 events on one Wednesday 22:00-23:00, then day work */
	for (int i = 0; i < 200; i++)
		ok(e, "nina", "198.51.100.14", wed22 + i * 17);
	train(e, "nina", "198.51.100.14", 3, 10, 40); /* 400 events at 10:00-16:30 */
	mmr_result r = ok(e, "nina", "198.51.100.14", wed22 + 14 * DAY);
	expect_no_reason(&r, RARE_HOUR); /* a third of her history: usual */

	/* 25,000 more day-time events: halving at 8192 makes the old habit fade */
	for (int d = 20; d < 20 + 625; d++)
		for (int i = 0; i < 40; i++)
			ok(e, "nina", "198.51.100.14", MONDAY + d * DAY + 10 * HOUR + i * 600);
	r = ok(e, "nina", "198.51.100.14", wed22 + 651 * DAY); /* a Wednesday, 22:00 */
	const mmr_reason *x = reason(&r, RARE_HOUR);
	if (x == NULL || (x->points != 20 && x->points != 30)) {
		dump(&r);
		fail_msg("an hour not used for 25,000 events is not rare");
	}
}

/* ---- first_seen_network ------------------------------------------------------------------ */

static void test_first_seen_fires_and_names_network(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "bob", "198.51.100.20", 0, 10, 3);
	mmr_result r = ok(e, "bob", "203.0.113.45", MONDAY + 11 * DAY + 10 * HOUR);
	const mmr_reason *x = expect_reason(&r, FIRST_SEEN, 20);
	expect_detail_has(x, "203.0.113.0/24");
	assert_int_equal(r.n_reasons, 1);
	assert_int_equal(r.score, 20);

	/* once used it is known: the same /24 the next day is silent */
	r = ok(e, "bob", "203.0.113.99", MONDAY + 12 * DAY + 10 * HOUR);
	expect_no_reason(&r, FIRST_SEEN);

	/* IPv6: keyed by /48 */
	r = ok(e, "bob", "2001:db8:aaaa:1::5", MONDAY + 13 * DAY + 10 * HOUR);
	x = expect_reason(&r, FIRST_SEEN, 20);
	expect_detail_has(x, "2001:db8:aaaa::/48");
	r = ok(e, "bob", "2001:db8:aaaa:ffff::9", MONDAY + 14 * DAY + 10 * HOUR);
	expect_no_reason(&r, FIRST_SEEN);
	r = ok(e, "bob", "2001:db8:aaab::9", MONDAY + 15 * DAY + 10 * HOUR);
	expect_reason(&r, FIRST_SEEN, 20);
}

static void test_first_seen_silent_same_network(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "bob", "198.51.100.20", 0, 10, 3);
	/* another address of the same /24, and the v4-mapped spelling of the known one */
	mmr_result r = ok(e, "bob", "198.51.100.201", MONDAY + 11 * DAY + 10 * HOUR);
	expect_no_reason(&r, FIRST_SEEN);
	r = ok(e, "bob", "::ffff:198.51.100.20", MONDAY + 11 * DAY + 11 * HOUR);
	expect_no_reason(&r, FIRST_SEEN);
	/* private addresses are never "new" */
	r = ok(e, "bob", "10.20.30.40", MONDAY + 11 * DAY + 10 * HOUR + 60);
	expect_no_reason(&r, FIRST_SEEN);
	r = ok(e, "bob", "192.168.7.7", MONDAY + 11 * DAY + 10 * HOUR + 120);
	expect_no_reason(&r, FIRST_SEEN);
	r = ok(e, "bob", "100.64.1.1", MONDAY + 11 * DAY + 10 * HOUR + 180); /* CGNAT */
	expect_no_reason(&r, FIRST_SEEN);
	/* nor is an event without an address */
	r = ok(e, "bob", NULL, MONDAY + 11 * DAY + 10 * HOUR + 240);
	expect_no_reason(&r, FIRST_SEEN);
	/* a failed sign-in from a new network is not "first activity" */
	r = bad(e, "bob", "192.0.2.1", MONDAY + 11 * DAY + 10 * HOUR + 300);
	expect_no_reason(&r, FIRST_SEEN);
	/* ... and does not teach it either: the first success from there still fires */
	r = ok(e, "bob", "192.0.2.1", MONDAY + 11 * DAY + 10 * HOUR + 360);
	expect_reason(&r, FIRST_SEEN, 20);
}

static void test_first_seen_convergence_guard(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 11 * DAY + 10 * HOUR;

	train(e, "young", "198.51.100.21", 0, 10, 2); /* 20 events */
	mmr_result r = ok(e, "young", "203.0.113.50", t);
	expect_no_reason(&r, FIRST_SEEN);
	assert_true(r.learning);

	train(e, "old", "198.51.100.22", 0, 10, 3); /* 30 events */
	r = ok(e, "old", "203.0.113.51", t);
	expect_reason(&r, FIRST_SEEN, 20);
	assert_false(r.learning);

	/* "young" converges with more days of work, then a new network fires */
	train(e, "young", "198.51.100.21", 12, 5, 3);
	r = ok(e, "young", "192.0.2.77", MONDAY + 18 * DAY + 10 * HOUR);
	expect_reason(&r, FIRST_SEEN, 20);
	assert_false(r.learning);
	/* while the network it used during learning is known */
	r = ok(e, "young", "203.0.113.50", MONDAY + 18 * DAY + 11 * HOUR);
	expect_no_reason(&r, FIRST_SEEN);
}

static void test_first_seen_forgets_after_90_days(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "carl", "198.51.100.23", 0, 10, 3);
	/* 100 days from another network only (its first use fires, the rest do not) */
	for (int d = 10; d < 110; d++) {
		mmr_result x = ok(e, "carl", "192.0.2.23", MONDAY + d * DAY + 10 * HOUR);
		assert_int_equal(x.n_reasons, d == 10 ? 1 : 0);
	}
	mmr_result r = ok(e, "carl", "198.51.100.23", MONDAY + 111 * DAY + 10 * HOUR);
	expect_reason(&r, FIRST_SEEN, 20);
}

static void test_first_seen_detail_counts_known_networks(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "lena", "198.51.100.25", 0, 10, 3);
	/* 100 days from 192.0.2.0/24 only: 198.51.100.0/24 is past the 90-day lookback */
	for (int d = 10; d < 110; d++)
		ok(e, "lena", "192.0.2.25", MONDAY + d * DAY + 10 * HOUR);
	mmr_result r = ok(e, "lena", "198.51.100.25", MONDAY + 111 * DAY + 10 * HOUR);
	const mmr_reason *x = expect_reason(&r, FIRST_SEEN, 20);
	/* the evidence: one other network is known in the lookback (192.0.2.0/24); the expired
	 * slot of the very network being reported is not "another known network" */
	expect_detail_has(x, "(1 other network");
}

static void test_corporate_network_never_new(void **state)
{
	fixture *f = *state;
	char err[128];
	assert_int_equal(mmr_config_add_corporate_network(&f->cfg, "203.0.113.0/28", err,
							  sizeof(err)),
			 0);
	mmr_engine *e = start(f);
	train(e, "dana", "198.51.100.24", 0, 10, 3);
	mmr_result r = ok(e, "dana", "203.0.113.5", MONDAY + 11 * DAY + 10 * HOUR);
	expect_no_reason(&r, FIRST_SEEN);
	/* same /24 but outside the /28: an ordinary external network */
	r = ok(e, "dana", "203.0.113.20", MONDAY + 11 * DAY + 11 * HOUR);
	expect_reason(&r, FIRST_SEEN, 20);
}

/* ---- auth_failure_burst ------------------------------------------------------------------ */

static void test_failure_burst_user_fires(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 2 * DAY + 9 * HOUR;
	mmr_result r;
	for (int i = 0; i < 4; i++) {
		r = bad(e, "carol", "198.51.100.30", t + i * 10);
		expect_no_reason(&r, BURST_USER);
		assert_int_equal(r.score, 0);
	}
	r = bad(e, "carol", "198.51.100.30", t + 40); /* 5th within 10 min: threshold 5 */
	const mmr_reason *x = expect_reason(&r, BURST_USER, 30);
	expect_detail_has(x, "5 failed");
	expect_detail_has(x, "10 min");
	assert_int_equal(r.n_reasons, 1);
	assert_int_equal(r.score, 30);
	/* every further failure of the burst carries the reason */
	r = bad(e, "carol", "198.51.100.30", t + 50);
	x = expect_reason(&r, BURST_USER, 30);
	expect_detail_has(x, "6 failed");
}

static void test_failure_burst_user_silent(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 2 * DAY + 9 * HOUR;
	mmr_result r;
	/* 5 failures spread so that no 600 s window holds 5: (t+i*150]; at t+600 the one at t
	 * has left the window (now - window, now] */
	for (int i = 0; i <= 4; i++) {
		r = bad(e, "erin", "198.51.100.31", t + i * 150);
		expect_no_reason(&r, BURST_USER);
	}
	/* successes are not failures */
	for (int i = 0; i < 10; i++) {
		r = ok(e, "frank", "198.51.100.32", t + i);
		expect_no_reason(&r, BURST_USER);
	}
	/* four failures each for two accounts: per account, no burst */
	for (int i = 0; i < 4; i++) {
		r = bad(e, "gina", NULL, t + 1000 + i);
		expect_no_reason(&r, BURST_USER);
		r = bad(e, "hank", NULL, t + 1000 + i);
		expect_no_reason(&r, BURST_USER);
	}
}

static void test_failure_burst_source_ip_fires(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 3 * DAY + 2 * HOUR;
	char user[16];
	mmr_result r;
	/* password spraying: 7 accounts, 10 failures, none of them a burst for its account */
	for (int i = 0; i < 9; i++) {
		snprintf(user, sizeof(user), "s%d", i % 7);
		r = bad(e, user, "203.0.113.66", t + i * 20);
		expect_no_reason(&r, BURST_IP);
		expect_no_reason(&r, BURST_USER);
	}
	r = bad(e, "s2", "203.0.113.66", t + 9 * 20);
	const mmr_reason *x = expect_reason(&r, BURST_IP, 30);
	expect_detail_has(x, "203.0.113.66");
	expect_detail_has(x, "10 failed");
	expect_detail_has(x, "7 accounts");
	expect_no_reason(&r, BURST_USER);
	assert_int_equal(r.score, 30);

	/* a new account's failure from that IP names 8 accounts */
	r = bad(e, "s9", "203.0.113.66", t + 10 * 20);
	x = expect_reason(&r, BURST_IP, 30);
	expect_detail_has(x, "8 accounts");

	/* another IP is unaffected */
	r = bad(e, "s9", "203.0.113.67", t + 11 * 20);
	expect_no_reason(&r, BURST_IP);
}

static void test_failure_burst_source_ip_silent(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 3 * DAY + 2 * HOUR;
	char user[16];
	mmr_result r;
	/* 10 failures over 30 minutes: never 10 in 10 minutes */
	for (int i = 0; i < 10; i++) {
		snprintf(user, sizeof(user), "p%d", i);
		r = bad(e, user, "203.0.113.70", t + i * 180);
		expect_no_reason(&r, BURST_IP);
	}
	/* successes from one IP do not count as failures */
	for (int i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "q%d", i % 2);
		r = ok(e, user, "203.0.113.71", t + i);
		expect_no_reason(&r, BURST_IP);
	}
}

static void test_failure_burst_thresholds_configurable(void **state)
{
	fixture *f = *state;
	f->cfg.failburst_user_count = 3;
	f->cfg.failburst_ip_count = 4;
	f->cfg.failburst_window = 45;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 4 * DAY;
	bad(e, "ivy", "203.0.113.80", t);
	bad(e, "ivy", "203.0.113.80", t + 10);
	mmr_result r = bad(e, "ivy", "203.0.113.80", t + 20);
	const mmr_reason *x = expect_reason(&r, BURST_USER, 30);
	expect_detail_has(x, "threshold 3");
	expect_detail_has(x, "45 s");
	expect_no_reason(&r, BURST_IP);
	r = bad(e, "ivy", "203.0.113.80", t + 30);
	expect_reason(&r, BURST_IP, 30);
	expect_detail_has(expect_reason(&r, BURST_IP, 30), "against 1 account ");
	assert_int_equal(r.score, combine((int[]){30, 30}, 2)); /* 51 */
	/* outside the 45 s window everything is quiet again */
	r = bad(e, "ivy", "203.0.113.80", t + 200);
	expect_no_reason(&r, BURST_USER);
	expect_no_reason(&r, BURST_IP);
}

/* ---- shared_source_ip -------------------------------------------------------------------- */

static void test_shared_ip_fires_and_grows(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 1 * DAY + 14 * HOUR;
	const char *ip = "198.51.100.77";
	mmr_result r = ok(e, "u1", ip, t);
	expect_no_reason(&r, SHARED);
	r = ok(e, "u2", ip, t + 60);
	expect_no_reason(&r, SHARED);
	r = ok(e, "u1", ip, t + 90); /* the same account again is not a new one */
	expect_no_reason(&r, SHARED);

	r = ok(e, "u3", ip, t + 120);
	/* at engine start every account is new to the engine: none counts as a new one (the
	 * laptop-farm fallback needs 14 days of observation), so this is the weak rule */
	const mmr_reason *x = expect_reason(&r, SHARED, 25);
	expect_detail_has(x, "3 distinct accounts");
	expect_detail_has(x, ip);
	expect_detail_has(x, "u1");
	expect_detail_has(x, "u2");
	assert_int_equal(r.score, 25);
	assert_null(reason(&r, "network.laptop_farm"));

	/* more accounts, the same weak points: a shared address is an everyday fact */
	r = ok(e, "u4", ip, t + 180);
	x = expect_reason(&r, SHARED, 25);
	expect_detail_has(x, "4 distinct accounts");
	expect_detail_has(x, "u3");
	r = ok(e, "u5", ip, t + 240);
	expect_reason(&r, SHARED, 25);
	r = ok(e, "u6", ip, t + 300);
	r = ok(e, "u7", ip, t + 360);
	x = expect_reason(&r, SHARED, 25);
	expect_detail_has(x, "7 distinct accounts");
	/* earlier accounts fire too when they come back */
	r = ok(e, "u1", ip, t + 400);
	expect_reason(&r, SHARED, 25);
}

/* Reasons are sentences in the JSON output: they must stay valid UTF-8 even when account
 * names with multi-byte characters are cut (23 bytes per name in the farm detail, 255 for
 * the whole detail). */
static void test_reason_detail_valid_utf8(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	char name[64];
	mmr_result r = {0};
	for (int i = 0; i < 9; i++) {
		/* 22 ASCII bytes, then two-byte characters: the 23-byte cut falls inside one */
		snprintf(name, sizeof(name), "user%02dxxxxxxxxxxxxxxxx\xc3\xa9\xc3\xa9\xc3\xa9", i);
		r = ok(e, name, "198.51.100.99", MONDAY + 3600 * 10 + i);
	}
	const mmr_reason *x = expect_reason(&r, SHARED, 25);
	char copy[MMR_DETAIL_MAX];
	snprintf(copy, sizeof(copy), "%s", x->detail);
	if (mmr_utf8_sanitize(copy) != 0)
		fail_msg("detail is not valid UTF-8: %s", x->detail);
}

/* A flood of failed logins with invented names (free for an attacker) must not evict an
 * established user's baseline: users with a successful sign-in are protected. */
static void test_failure_flood_keeps_established_users(void **state)
{
	fixture *f = *state;
	f->cfg.max_users = 1000;
	mmr_engine *e = start(f);
	mmr_result r;
	for (int d = 0; d < 10; d++)
		for (int k = 0; k < 4; k++)
			r = ok(e, "alice", "198.51.100.20", MONDAY + d * 86400 + (9 + k) * 3600);
	assert_false(r.learning);
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "rnd%d", i);
		bad(e, name, "203.0.113.250", MONDAY + 11 * 86400 + i);
	}
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_true(st.users <= 1000);
	assert_true(st.users_evicted >= 4000);
	r = ok(e, "alice", "198.51.100.20", MONDAY + 11 * 86400 + 9 * 3600 + 6000);
	if (r.learning)
		fail_msg("alice's converged baseline was evicted by the flood");
}

static void test_shared_ip_window(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 1 * DAY;
	const char *ip = "198.51.100.78";
	ok(e, "w1", ip, t);
	ok(e, "w2", ip, t + 60);
	/* 25 h later the two others are outside the 24 h window */
	mmr_result r = ok(e, "w3", ip, t + 25 * HOUR);
	expect_no_reason(&r, SHARED);
	/* w1 returns: with w3 that makes 2 inside the window, still no farm */
	r = ok(e, "w1", ip, t + 25 * HOUR + 60);
	expect_no_reason(&r, SHARED);
	/* w2 returns: 3 accounts within 24 h again */
	r = ok(e, "w2", ip, t + 25 * HOUR + 120);
	expect_reason(&r, SHARED, 25);
}

static void test_shared_ip_min_users_configurable(void **state)
{
	fixture *f = *state;
	f->cfg.farm_min_users = 2;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 1 * DAY;
	ok(e, "m1", "198.51.100.79", t);
	mmr_result r = ok(e, "m2", "198.51.100.79", t + 1);
	expect_reason(&r, SHARED, 25);
	r = ok(e, "m3", "198.51.100.79", t + 2);
	const mmr_reason *x = expect_reason(&r, SHARED, 25);
	expect_detail_has(x, "3 distinct accounts");
}

static void test_shared_ip_private_and_corporate_never_shared(void **state)
{
	fixture *f = *state;
	char err[128];
	assert_int_equal(mmr_config_add_corporate_network(&f->cfg, "203.0.113.0/28", err,
							  sizeof(err)),
			 0);
	assert_int_equal(mmr_config_add_corporate_network(&f->cfg, "2001:db8:c0::/48", err,
							  sizeof(err)),
			 0);
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 1 * DAY + 9 * HOUR;
	static const char *const never[] = {"10.1.2.3", "172.16.5.5", "192.168.1.1",
					    "100.64.0.9", "203.0.113.5", "2001:db8:c0:1::1",
					    "fd00::1"};
	char user[16];
	for (size_t k = 0; k < sizeof(never) / sizeof(never[0]); k++) {
		for (int i = 0; i < 6; i++) {
			snprintf(user, sizeof(user), "c%zu_%d", k, i);
			mmr_result r = ok(e, user, never[k], t + i);
			expect_no_reason(&r, SHARED);
			assert_int_equal(r.score, 0);
		}
	}
	/* the same /24 outside the corporate /28 is an ordinary public address */
	ok(e, "x1", "203.0.113.20", t);
	ok(e, "x2", "203.0.113.20", t + 1);
	mmr_result r = ok(e, "x3", "203.0.113.20", t + 2);
	expect_reason(&r, SHARED, 25);
}

static void test_shared_ip_failures_do_not_count(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 1 * DAY + 9 * HOUR;
	const char *ip = "198.51.100.90";
	/* two accounts fail from the IP: not members of a farm */
	bad(e, "f1", ip, t);
	bad(e, "f2", ip, t + 1);
	mmr_result r = ok(e, "f3", ip, t + 2);
	expect_no_reason(&r, SHARED);
	/* two successes, then a third account's failure: the failure does not fire */
	ok(e, "f1", ip, t + 3);
	r = bad(e, "f4", ip, t + 4);
	expect_no_reason(&r, SHARED);
	/* (f1, f3 succeeded: 2 accounts) -> the third success fires */
	r = ok(e, "f2", ip, t + 5);
	const mmr_reason *x = expect_reason(&r, SHARED, 25);
	expect_detail_has(x, "3 distinct accounts");
	if (strstr(x->detail, "f4") != NULL)
		fail_msg("a failing account is named as a farm member: %s", x->detail);
}

/* ---- combination, ranking, user score ---------------------------------------------------- */

static void test_reasons_sorted_and_score_combined(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	train(e, "zed", "198.51.100.40", 0, 10, 3);
	const int64_t t = MONDAY + 16 * DAY + 22 * HOUR; /* Wed 22:00, rare for zed */
	/* s1 and s2 are established (seen since day 0): with zed, three established accounts on
	 * one address; accounts the engine first saw after two weeks would be a laptop farm */
	ok(e, "s1", "10.9.9.1", MONDAY);
	ok(e, "s2", "10.9.9.2", MONDAY);
	ok(e, "s1", "203.0.113.99", t - 3600);
	ok(e, "s2", "203.0.113.99", t - 1800);
	/* rare hour (30) + shared address (25) + new network (20) */
	mmr_result r = ok(e, "zed", "203.0.113.99", t);
	assert_int_equal(r.n_reasons, 3);
	for (int i = 1; i < r.n_reasons; i++)
		if (r.reasons[i - 1].points < r.reasons[i].points) {
			dump(&r);
			fail_msg("reasons not sorted by points, highest first");
		}
	assert_string_equal(r.reasons[0].rule, RARE_HOUR);
	assert_int_equal(r.reasons[0].points, 30);
	assert_string_equal(r.reasons[1].rule, SHARED);
	assert_int_equal(r.reasons[1].points, 25);
	assert_string_equal(r.reasons[2].rule, FIRST_SEEN);
	assert_int_equal(r.reasons[2].points, 20);
	assert_int_equal(r.score, combine((int[]){30, 25, 20}, 3)); /* 58 */
	assert_int_equal(r.score, 58);
	/* first risk of zed: at most the event's 58 (three weak rules share the weak pool) */
	assert_in_range(r.user_score, 1, user_score_of(58, 60.0));
	for (int i = 0; i < r.n_reasons; i++)
		assert_true(strlen(r.reasons[i].detail) > 20);
}

static void test_user_score_accumulates_then_decays(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const double scale = f->cfg.user_score_scale;
	const int64_t hl = f->cfg.user_score_halflife;
	const int64_t t = MONDAY + 1 * DAY + 9 * HOUR;

	ok(e, "a1", "198.51.100.50", t);
	ok(e, "a2", "198.51.100.50", t + 1);
	mmr_result r = ok(e, "v", "198.51.100.50", t + 2);
	expect_reason(&r, SHARED, 25);
	double risk = 25;
	assert_int_equal(r.user_score, user_score_of(risk, scale)); /* 34 */

	/* the same rule again two hours later (past the cooldown): it accumulates, up to the
	 * rule's cap (40, score/model.c) */
	r = ok(e, "v", "198.51.100.50", t + 2 + 2 * HOUR);
	expect_reason(&r, SHARED, 25);
	risk = fmin(risk * exp2(-(double)(2 * HOUR) / (double)hl) + 25, 40);
	assert_int_equal(r.user_score, user_score_of(risk, scale));
	int peak = r.user_score;
	assert_true(peak > user_score_of(25, scale));

	/* one half-life later, an event with no findings: the score follows the half-life */
	r = ok(e, "v", "10.0.0.5", t + 2 + 2 * HOUR + hl);
	assert_int_equal(r.n_reasons, 0);
	assert_int_equal(r.score, 0);
	risk /= 2;
	assert_int_equal(r.user_score, user_score_of(risk, scale));
	assert_true(r.user_score < peak);

	/* three more days: a quarter of what was left... */
	r = ok(e, "v", "10.0.0.5", t + 2 + 2 * HOUR + hl + 3 * DAY);
	risk *= exp2(-(double)(3 * DAY) / (double)hl);
	assert_int_equal(r.user_score, user_score_of(risk, scale));

	/* a late event (earlier event time) neither decays nor raises the score */
	int before = r.user_score;
	r = ok(e, "v", "10.0.0.5", t + 5);
	assert_int_equal(r.user_score, before);

	/* and another user is unaffected by v's risk */
	r = ok(e, "other", "10.0.0.6", t + 2 + 2 * HOUR + hl + 3 * DAY);
	assert_int_equal(r.user_score, 0);
}

static void test_rule_cooldown(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const double scale = f->cfg.user_score_scale;
	const int64_t hl = f->cfg.user_score_halflife;
	const int64_t t = MONDAY + 2 * DAY + 9 * HOUR;
	mmr_result r;
	for (int i = 0; i < 4; i++)
		bad(e, "carol", "198.51.100.60", t + i * 10);
	r = bad(e, "carol", "198.51.100.60", t + 40);
	expect_reason(&r, BURST_USER, 30);
	double risk = 30;
	assert_int_equal(r.user_score, user_score_of(risk, scale)); /* 39 */

	/* the rest of the burst (within the hour): each event still scores 30, the user's risk
	 * is fed once */
	for (int i = 5; i < 9; i++) {
		r = bad(e, "carol", "198.51.100.60", t + i * 10);
		expect_reason(&r, BURST_USER, 30);
		assert_int_equal(r.score, 30);
		assert_int_equal(r.user_score,
				 user_score_of(risk * exp2(-(double)(i * 10 - 40) / (double)hl),
					       scale));
	}

	/* a new burst two hours later feeds it again */
	const int64_t t2 = t + 2 * HOUR;
	for (int i = 0; i < 4; i++)
		bad(e, "carol", "198.51.100.60", t2 + i * 10);
	r = bad(e, "carol", "198.51.100.60", t2 + 40);
	expect_reason(&r, BURST_USER, 30);
	risk = risk * exp2(-(double)(t2 + 40 - (t + 40)) / (double)hl) + 30;
	double w, cap;
	assert_int_equal(mmr_engine_rule_model(e, BURST_USER, &w, &cap, NULL), 0);
	if (risk > cap) /* a rule's share of the user's risk is held to its cap (docs/model.md) */
		risk = cap;
	assert_true(cap < 60); /* the burst rule is weak: this case does reach the cap */
	assert_int_equal(r.user_score, user_score_of(risk, scale));
}

static void test_rule_cooldown_survives_reordering(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const double scale = f->cfg.user_score_scale;
	const int64_t t = MONDAY + 2 * DAY + 9 * HOUR;
	mmr_result r;
	/* syslog delivers slightly out of order (several workers, relays): a burst whose
	 * messages arrive a second apart out of order is still one burst, and the rule feeds the
	 * user's risk at most once per cooldown (engine.c) */
	for (int i = 0; i < 5; i++)
		r = bad(e, "olga", NULL, t + i * 10);
	expect_reason(&r, BURST_USER, 30);
	const int fed_once = r.user_score;
	assert_int_equal(fed_once, user_score_of(30, scale));
	r = bad(e, "olga", NULL, t + 39); /* logged before the 5th, delivered after it */
	expect_reason(&r, BURST_USER, 30);
	r = bad(e, "olga", NULL, t + 50);
	expect_reason(&r, BURST_USER, 30);
	if (r.user_score != fed_once)
		fail_msg("one burst within the cooldown fed the user's risk more than once: "
			 "user_score %d, expected %d",
			 r.user_score, fed_once);
}

static void test_rule_cooldown_zero_feeds_every_time(void **state)
{
	fixture *f = *state;
	f->cfg.rule_cooldown = 0;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 2 * DAY + 9 * HOUR;
	mmr_result r;
	for (int i = 0; i < 5; i++)
		r = bad(e, "dora", NULL, t + i * 10);
	int first = r.user_score;
	r = bad(e, "dora", NULL, t + 50);
	assert_true(r.user_score > first);
}

static void test_result_json(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + 1 * DAY;
	ok(e, "j1", "198.51.100.91", t);
	ok(e, "j2", "198.51.100.91", t + 1);
	mmr_result r = ok(e, "j3", "198.51.100.91", t + 2);
	struct json_object *o = mmr_result_to_json(&r);
	assert_non_null(o);
	struct json_object *v, *arr, *x;
	int okay = json_object_object_get_ex(o, "user", &v) && strcmp(json_object_get_string(v), "j3") == 0 &&
		   json_object_object_get_ex(o, "score", &v) && json_object_get_type(v) == json_type_int &&
		   json_object_get_int(v) == 25 &&
		   json_object_object_get_ex(o, "level", &v) &&
		   strcmp(json_object_get_string(v), "low") == 0 &&
		   json_object_object_get_ex(o, "user_score", &v) && json_object_get_int(v) == r.user_score &&
		   json_object_object_get_ex(o, "user_level", &v) &&
		   strcmp(json_object_get_string(v), mmr_level_name(r.user_score)) == 0 &&
		   json_object_object_get_ex(o, "learning", &v) && json_object_get_type(v) == json_type_boolean &&
		   json_object_get_boolean(v) &&
		   json_object_object_get_ex(o, "reasons", &arr) && json_object_get_type(arr) == json_type_array &&
		   json_object_array_length(arr) == 1 && (x = json_object_array_get_idx(arr, 0)) != NULL &&
		   json_object_object_get_ex(x, "rule", &v) && strcmp(json_object_get_string(v), SHARED) == 0 &&
		   json_object_object_get_ex(x, "points", &v) && json_object_get_int(v) == 25 &&
		   json_object_object_get_ex(x, "detail", &v) &&
		   strcmp(json_object_get_string(v), r.reasons[0].detail) == 0 &&
		   json_object_object_get_ex(o, "message", &v) && json_object_get_type(v) == json_type_string &&
		   json_object_object_length(o) == 8;
	if (!okay) {
		char copy[2048];
		snprintf(copy, sizeof(copy), "%s", json_object_to_json_string(o));
		json_object_put(o);
		fail_msg("unexpected result JSON: %s", copy);
	}
	json_object_put(o);
}

/* ---- configuration ------------------------------------------------------------------------ */

typedef void (*mutate)(mmr_config *c);
static void m_minevents(mmr_config *c) { c->learning_min_events = 0; }
static void m_mindays(mmr_config *c) { c->learning_min_days = 3651; }
static void m_halflife(mmr_config *c) { c->user_score_halflife = 59; }
static void m_scale_lo(mmr_config *c) { c->user_score_scale = 0.5; }
static void m_scale_nan(mmr_config *c) { c->user_score_scale = NAN; }
static void m_cooldown(mmr_config *c) { c->rule_cooldown = -1; }
static void m_farm_lo(mmr_config *c) { c->farm_min_users = 1; }
static void m_farm_hi(mmr_config *c) { c->farm_min_users = 9; }
static void m_farm_window(mmr_config *c) { c->farm_window = 59; }
static void m_fb_user_lo(mmr_config *c) { c->failburst_user_count = 1; }
static void m_fb_user_hi(mmr_config *c) { c->failburst_user_count = 33; }
static void m_fb_ip(mmr_config *c) { c->failburst_ip_count = 33; }
static void m_fb_window(mmr_config *c) { c->failburst_window = 0; }
static void m_users(mmr_config *c) { c->max_users = 15; }
static void m_ips(mmr_config *c) { c->max_ips = 15; }

static void test_config_validation(void **state)
{
	fixture *f = *state;
	char err[256];
	static const struct {
		mutate m;
		const char *name;
	} bad[] = {
		{m_minevents, "learning.minevents"}, {m_mindays, "learning.mindays"},
		{m_halflife, "userscore.halflife"},  {m_scale_lo, "userscore.scale"},
		{m_scale_nan, "userscore.scale"},    {m_cooldown, "cooldown"},
		{m_farm_lo, "farm.minusers"},        {m_farm_hi, "farm.minusers"},
		{m_farm_window, "farm.window"},      {m_fb_user_lo, "failburst.user.count"},
		{m_fb_user_hi, "failburst.user.count"}, {m_fb_ip, "failburst.ip.count"},
		{m_fb_window, "failburst.window"},   {m_users, "state.maxusers"},
		{m_ips, "state.maxips"},
	};
	mmr_config good;
	mmr_config_init(&good);
	err[0] = '\0';
	assert_int_equal(mmr_config_validate(&good, err, sizeof(err)), 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mmr_config c;
		mmr_config_init(&c);
		bad[i].m(&c);
		err[0] = '\0';
		if (mmr_config_validate(&c, err, sizeof(err)) != -1)
			fail_msg("bad %s accepted", bad[i].name);
		if (strstr(err, bad[i].name) == NULL)
			fail_msg("message for bad %s does not name it: \"%s\"", bad[i].name, err);
		/* the engine refuses it with the same message */
		char err2[256] = "";
		mmr_engine *e = mmr_engine_new(&c, err2, sizeof(err2));
		assert_null(e);
		assert_string_equal(err, err2);
	}

	/* boundaries are accepted */
	mmr_config c;
	mmr_config_init(&c);
	c.learning_min_events = 1;
	c.learning_min_days = 0;
	c.user_score_halflife = 60;
	c.rule_cooldown = 0;
	c.farm_min_users = 8;
	c.farm_window = 60;
	c.failburst_user_count = 32;
	c.failburst_ip_count = 2;
	c.failburst_window = 1;
	c.max_users = 16;
	c.max_ips = 16;
	assert_int_equal(mmr_config_validate(&c, err, sizeof(err)), 0);
	c.farm_min_users = 2;
	c.failburst_user_count = 2;
	c.failburst_ip_count = 32;
	assert_int_equal(mmr_config_validate(&c, err, sizeof(err)), 0);
	(void)f;
}

static void test_corporate_network_syntax(void **state)
{
	fixture *f = *state;
	char err[256];
	assert_int_equal(mmr_config_add_corporate_network(&f->cfg, "10.0.0.0/8", err, sizeof(err)),
			 0);
	assert_int_equal(mmr_config_add_corporate_network(&f->cfg, "198.51.100.1", err,
							  sizeof(err)),
			 0);
	assert_int_equal(mmr_config_add_corporate_network(&f->cfg, "2001:db8::/32", err,
							  sizeof(err)),
			 0);
	static const char *const bad[] = {"", "bogus", "10.0.0.0/33", "10.0.0.0/", "/8",
					  "2001:db8::/129", "10.0.0.0/8x", "1.2.3.4/-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (mmr_config_add_corporate_network(&f->cfg, bad[i], err, sizeof(err)) != -1)
			fail_msg("corporate network \"%s\" accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
	/* a single address blocks only itself */
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + DAY;
	ok(e, "k1", "198.51.100.1", t);
	ok(e, "k2", "198.51.100.1", t);
	mmr_result r = ok(e, "k3", "198.51.100.1", t);
	expect_no_reason(&r, SHARED);
	ok(e, "k1", "198.51.100.2", t);
	ok(e, "k2", "198.51.100.2", t);
	r = ok(e, "k3", "198.51.100.2", t);
	expect_reason(&r, SHARED, 25);
}

static void test_stats_count_events_and_users(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	const int64_t t = MONDAY + DAY;
	for (int i = 0; i < 30; i++) {
		char u[16];
		snprintf(u, sizeof(u), "n%d", i % 7);
		ok(e, u, "198.51.100.5", t + i);
	}
	bad(e, "n0", "198.51.100.6", t + 100);
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_int_equal(st.events_scored, 31);
	assert_int_equal(st.events_failed, 0);
	assert_int_equal(st.users, 7);
	assert_int_equal(st.users_evicted, 0);
	assert_int_equal(st.ips, 3); /* farm table: .5; failure table: .6; n0's failure ring */
	assert_int_equal(st.ips_evicted, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rare_hour_fires_when_converged),
		T(test_rare_hour_silent_at_usual_and_nearby_hours),
		T(test_rare_hour_convergence_guard),
		T(test_convergence_boundaries),
		T(test_rare_hour_not_taught_by_failures),
		T(test_rare_hour_forgets_old_habits),
		T(test_first_seen_fires_and_names_network),
		T(test_first_seen_silent_same_network),
		T(test_first_seen_convergence_guard),
		T(test_first_seen_forgets_after_90_days),
		T(test_first_seen_detail_counts_known_networks),
		T(test_corporate_network_never_new),
		T(test_failure_burst_user_fires),
		T(test_failure_burst_user_silent),
		T(test_failure_burst_source_ip_fires),
		T(test_failure_burst_source_ip_silent),
		T(test_failure_burst_thresholds_configurable),
		T(test_shared_ip_fires_and_grows),
		T(test_reason_detail_valid_utf8),
		T(test_failure_flood_keeps_established_users),
		T(test_shared_ip_window),
		T(test_shared_ip_min_users_configurable),
		T(test_shared_ip_private_and_corporate_never_shared),
		T(test_shared_ip_failures_do_not_count),
		T(test_reasons_sorted_and_score_combined),
		T(test_user_score_accumulates_then_decays),
		T(test_rule_cooldown),
		T(test_rule_cooldown_survives_reordering),
		T(test_rule_cooldown_zero_feeds_every_time),
		T(test_result_json),
		T(test_config_validation),
		T(test_corporate_network_syntax),
		T(test_stats_count_events_and_users),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
