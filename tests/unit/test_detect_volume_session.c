/* The volume and session detectors, driven directly through detector_harness.h:
 *
 *   data_volume      volume.session_bytes, volume.daily_bytes, volume.peer_outlier
 *   long_session     session.long_lived
 *   dormant_account  account.dormant_reuse
 *   mfa_denial_burst mfa.push_denial_burst
 *
 * Expectations come from the header comments of engine/detect/<detector>.c and
 * docs/detectors/<detector>.md. Each rule: fires on its pattern, stays silent on its
 * confounder, honours convergence where it compares with the user's past, honours its params,
 * survives out-of-order events, huge values (INT64_MAX bytes/durations) and absent (-1) ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_support.h"
#include "detector_harness.h"
#include "enrich/roster.h"
#include "detect/failure_window.h"

extern const mmr_detector mmr_detector_data_volume;
extern const mmr_detector mmr_detector_long_session;
extern const mmr_detector mmr_detector_dormant_account;
extern const mmr_detector mmr_detector_mfa_denial_burst;

#define DAY 86400
#define HOUR 3600
#define MB 1000000LL
#define GB 1000000000LL
/* Monday 2026-10-05 00:00:00 UTC */
#define T0 ((int64_t)1791158400)

#define R_SESSION "volume.session_bytes"
#define R_DAILY "volume.daily_bytes"
#define R_PEER "volume.peer_outlier"
#define R_LONG "session.long_lived"
#define R_DORMANT "account.dormant_reuse"
#define R_MFA "mfa.push_denial_burst"

#define IP "198.51.100.7"

/* Index of a detector's param by key; fails the test when unknown. */
static int param_index(const dh *h, const char *key)
{
	for (int i = 0; h->d->params && h->d->params[i].key; i++)
		if (strcmp(h->d->params[i].key, key) == 0)
			return i;
	fail_msg("no param %s in %s", key, h->d->name);
	return -1;
}

static void set_param(dh *h, const char *key, double v)
{
	h->param[param_index(h, key)] = v;
}

static bool contains(const char *s, const char *sub)
{
	if (strstr(s, sub) == NULL) {
		print_error("\"%s\" does not contain \"%s\"\n", s, sub);
		return false;
	}
	return true;
}

/* ---- the descriptors ----------------------------------------------------------------- */

static void check_descriptor(const mmr_detector *d, const char *const *rules, size_t max_bytes)
{
	int n = 0;
	for (; d->rules[n]; n++)
		assert_string_equal(d->rules[n], rules[n]);
	assert_null(rules[n]);
	assert_true(d->user_state_size <= max_bytes);
	assert_non_null(d->params);
	for (int i = 0; d->params[i].key; i++) {
		const mmr_param *p = &d->params[i];
		assert_true(p->min <= p->def && p->def <= p->max);
		assert_non_null(p->doc);
	}
}

static void test_descriptors(void **state)
{
	(void)state;
	static const char *const v[] = {R_SESSION, R_DAILY, R_PEER, NULL};
	static const char *const l[] = {R_LONG, NULL};
	static const char *const d[] = {R_DORMANT, NULL};
	static const char *const m[] = {R_MFA, NULL};
	check_descriptor(&mmr_detector_data_volume, v, 96);
	check_descriptor(&mmr_detector_long_session, l, 64);
	check_descriptor(&mmr_detector_dormant_account, d, 0);
	check_descriptor(&mmr_detector_mfa_denial_burst, m, sizeof(failure_window));
}

/* ---- data_volume ------------------------------------------------------------------------ */

static mmr_roster_entry team = {
	.user = "x", .department = "Engineering", .team = "Data 2", .group = 42,
	.group_name = "engineering/data-2", .group_size = 9, .start_date = 1, .tz = NULL,
};

/* A VPN_END of user at t with bytes_in and duration; x gets the team and tenure. */
static void vpn_end(dh *h, const char *user, int64_t t, int64_t bytes, int64_t dur)
{
	dh_event(h, user, MMR_ACTION_VPN_END, MMR_OUTCOME_SUCCESS, IP, t);
	h->ev.bytes_in = bytes;
	h->ev.bytes_out = bytes >= 0 ? bytes / 10 : -1;
	h->ev.duration = dur;
	h->x.who = &team;
	h->x.group = team.group;
	h->x.tenure_days = 800;
}

static void vpn_stats(dh *h, const char *user, int64_t t, const char *sid, int64_t bytes,
		      int64_t dur)
{
	dh_event(h, user, MMR_ACTION_VPN_STATS, MMR_OUTCOME_SUCCESS, IP, t);
	snprintf(h->ev.session_id, sizeof(h->ev.session_id), "%s", sid);
	h->ev.bytes_in = bytes;
	h->ev.duration = dur;
	h->x.who = &team;
	h->x.group = team.group;
	h->x.tenure_days = 800;
}

static void auth(dh *h, const char *user, int64_t t)
{
	dh_event(h, user, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, t);
	assert_int_equal(dh_step(h), 0);
}

/* days of history for user: per day 3 sign-ins and one 8 h session of about mb MB (varied
 * +-30% so the baselines have some spread). Converges the user (>= 30 events, >= 7 days). */
static void history(dh *h, const char *user, int64_t from, int days, int64_t mb)
{
	for (int d = 0; d < days; d++) {
		int64_t t = from + (int64_t)d * DAY + 9 * HOUR;
		for (int k = 0; k < 3; k++)
			auth(h, user, t + k * 60);
		int64_t b = mb * MB * (7 + 6 * (d % 3)) / 10; /* 70%, 130%, 100% */
		vpn_end(h, user, t + 8 * HOUR, b, 8 * HOUR);
		dh_step(h);
	}
}

static void test_session_bytes_fires_when_converged(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	history(&h, "alice", T0, 14, 300);
	int64_t t = T0 + 14 * DAY + 9 * HOUR;
	/* 3x the usual: silent */
	vpn_end(&h, "alice", t, 900 * MB, 8 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_SESSION), -1);
	/* 20x the usual: fires, 25 + 5 per doubling past the threshold */
	vpn_end(&h, "alice", t + DAY, 6 * GB, 8 * HOUR);
	dh_score(&h);
	int p = dh_points(&h, R_SESSION);
	assert_in_range(p, 25, 30);
	assert_true(contains(dh_detail(&h, R_SESSION), "downloaded 6.0 GB in one VPN session"));
	assert_true(contains(dh_detail(&h, R_SESSION), "sessions learned"));
	/* much larger: more points, capped at 45 */
	vpn_end(&h, "alice", t + DAY, 2000 * GB, 8 * HOUR);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_SESSION), 45);
	dh_free(&h);
}

static void test_session_bytes_convergence_guard(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	/* 12 sessions in 3 days: enough sessions, but the user has not converged (7 days) */
	for (int i = 0; i < 12; i++) {
		int64_t t = T0 + (int64_t)i * 6 * HOUR;
		for (int k = 0; k < 3; k++)
			auth(&h, "bob", t + k);
		vpn_end(&h, "bob", t + HOUR, 300 * MB, HOUR);
		dh_step(&h);
	}
	vpn_end(&h, "bob", T0 + 3 * DAY + HOUR, 20 * GB, 8 * HOUR);
	dh_score(&h);
	assert_false(h.cur->base.converged);
	assert_int_equal(dh_points(&h, R_SESSION), -1);
	assert_int_equal(dh_points(&h, R_DAILY), -1);
	dh_free(&h);
}

static void test_session_bytes_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	history(&h, "alice", T0, 14, 300);
	int64_t t = T0 + 15 * DAY;
	set_param(&h, "volume.session_ratio", 100);
	vpn_end(&h, "alice", t, 6 * GB, 8 * HOUR);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_SESSION), -1);
	set_param(&h, "volume.session_ratio", 8);
	set_param(&h, "volume.session_min_mb", 10000);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_SESSION), -1);
	set_param(&h, "volume.session_min_mb", 500);
	set_param(&h, "volume.session_points", 60);
	dh_score(&h);
	assert_true(dh_points(&h, R_SESSION) >= 60);
	set_param(&h, "volume.min_sessions", 50); /* only 14 sessions learned */
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_SESSION), -1);
	dh_free(&h);
}

static void test_daily_bytes_fires_once_per_day(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	history(&h, "carol", T0, 14, 300);
	int64_t day = T0 + 14 * DAY;
	/* four sessions of 1.5 GB: each is 5x a session (silent), the day reaches 6 GB = 20x */
	int fired = 0, fired_at = -1;
	for (int i = 0; i < 4; i++) {
		vpn_end(&h, "carol", day + (int64_t)(8 + 2 * i) * HOUR, 1500 * MB, 2 * HOUR);
		dh_step(&h);
		assert_int_equal(dh_points(&h, R_SESSION), -1);
		if (dh_points(&h, R_DAILY) >= 25) {
			fired++;
			fired_at = i;
			assert_true(contains(dh_detail(&h, R_DAILY), "(UTC day, so far)"));
		}
	}
	assert_int_equal(fired, 1);
	assert_true(fired_at >= 1);
	/* the next day starts over: a normal day is silent */
	vpn_end(&h, "carol", day + DAY + 9 * HOUR, 300 * MB, 8 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_DAILY), -1);
	dh_free(&h);
}

static void test_daily_bytes_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	history(&h, "carol", T0, 14, 300);
	int64_t day = T0 + 14 * DAY;
	set_param(&h, "volume.daily_min_mb", 100000);
	vpn_end(&h, "carol", day + 9 * HOUR, 8 * GB, 8 * HOUR);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_DAILY), -1);
	set_param(&h, "volume.daily_min_mb", 1000);
	set_param(&h, "volume.min_days", 30);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_DAILY), -1);
	set_param(&h, "volume.min_days", 7);
	dh_score(&h);
	assert_true(dh_points(&h, R_DAILY) >= 25);
	dh_free(&h);
}

/* Four established members of group 42 with 10 sessions each at 60-150 MB/h. */
static void team_history(dh *h)
{
	static const char *const who[] = {"m1", "m2", "m3", "m4"};
	for (int d = 0; d < 10; d++)
		for (int m = 0; m < 4; m++) {
			int64_t rate = (60 + 10 * ((d + 3 * m) % 10)) * MB; /* 60..150 MB/h */
			vpn_end(h, who[m], T0 + (int64_t)d * DAY + (9 + m) * HOUR, 8 * rate,
				8 * HOUR);
			dh_step(h);
			assert_int_equal(dh_points(h, R_PEER), -1);
		}
}

static void test_peer_outlier_fires_for_new_hire(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	team_history(&h);
	/* a new hire, first session ever: 12 GB in 8 h = 1.5 GB/h, about 14x the median */
	vpn_end(&h, "newbie", T0 + 10 * DAY + 9 * HOUR, 12 * GB, 8 * HOUR);
	h.x.tenure_days = 20;
	h.x.new_hire = true;
	dh_step(&h);
	int p = dh_points(&h, R_PEER);
	assert_in_range(p, 30, 40);
	const char *d = dh_detail(&h, R_PEER);
	assert_true(contains(d, "downloaded 12.0 GB in a 8.0 h VPN session"));
	assert_true(contains(d, "the median rate of the 9-person group engineering/data-2"));
	assert_true(contains(d, "40 sessions, ~4 members"));
	assert_true(strlen(d) < 200);
	/* twice the median: silent */
	vpn_end(&h, "newbie", T0 + 11 * DAY + 9 * HOUR, 8 * 200 * MB, 8 * HOUR);
	h.x.new_hire = true;
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	/* a short session is judged as one hour: 600 MB in 10 min is 600 MB/h, not 3.6 GB/h */
	vpn_end(&h, "newbie", T0 + 11 * DAY + 12 * HOUR, 600 * MB, 600);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_PEER), 30);
	vpn_end(&h, "newbie", T0 + 11 * DAY + 13 * HOUR, 300 * MB, 600);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	dh_free(&h);
}

static void test_peer_outlier_needs_group_evidence(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	/* 40 sessions, but from only two members */
	for (int d = 0; d < 20; d++)
		for (int m = 0; m < 2; m++) {
			vpn_end(&h, m ? "m1" : "m2", T0 + (int64_t)d * DAY + (9 + m) * HOUR,
				800 * MB, 8 * HOUR);
			dh_step(&h);
		}
	vpn_end(&h, "newbie", T0 + 20 * DAY, 20 * GB, 8 * HOUR);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	set_param(&h, "volume.peer_min_members", 2);
	dh_score(&h);
	assert_true(dh_points(&h, R_PEER) >= 30);
	/* no peer group (not in the roster): silent */
	h.x.who = NULL;
	h.x.group = 0;
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	/* no duration: no rate, silent */
	vpn_end(&h, "newbie", T0 + 20 * DAY, 20 * GB, -1);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	dh_free(&h);
}

static void test_peer_outlier_few_sessions_and_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	/* 20 sessions of 4 members: below peer_min_sessions (30) */
	static const char *const who[] = {"m1", "m2", "m3", "m4"};
	for (int d = 0; d < 5; d++)
		for (int m = 0; m < 4; m++) {
			vpn_end(&h, who[m], T0 + (int64_t)d * DAY + (9 + m) * HOUR, 800 * MB,
				8 * HOUR);
			dh_step(&h);
		}
	vpn_end(&h, "newbie", T0 + 5 * DAY, 20 * GB, 8 * HOUR);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	set_param(&h, "volume.peer_min_sessions", 20);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), 40); /* 25x the median: the cap */
	set_param(&h, "volume.peer_ratio", 50);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	set_param(&h, "volume.peer_ratio", 4);
	set_param(&h, "volume.peer_min_mb", 50000);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), -1);
	set_param(&h, "volume.peer_min_mb", 250);
	set_param(&h, "volume.peer_points", 50);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_PEER), 60);
	dh_free(&h);
}

/* The confounder: an established employee who has always downloaded 5x the team's median. */
static void test_peer_outlier_silent_for_known_heavy_user(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	team_history(&h);
	/* "hv" is in the team from the start: the first sessions fire (no habit known yet) */
	int fires = 0, late_fires = 0;
	for (int d = 0; d < 20; d++) {
		int64_t t = T0 + (int64_t)(10 + d) * DAY + 9 * HOUR;
		for (int k = 0; k < 3; k++)
			auth(&h, "hv", t + k);
		vpn_end(&h, "hv", t + HOUR, 8 * (500 + 20 * (d % 5)) * MB, 8 * HOUR);
		dh_step(&h);
		fires += dh_points(&h, R_PEER) > 0;
		if (d >= 12)
			late_fires += dh_points(&h, R_PEER) > 0;
	}
	assert_true(fires >= 1);
	assert_int_equal(late_fires, 0);
	/* ... but a real change still fires: 4x their own habit */
	vpn_end(&h, "hv", T0 + 31 * DAY, 8 * 2000 * MB, 8 * HOUR);
	dh_score(&h);
	assert_true(h.cur->base.converged);
	assert_true(dh_points(&h, R_PEER) >= 30);
	/* the same habit as a new hire gets no such pass */
	vpn_end(&h, "hv", T0 + 31 * DAY, 8 * 550 * MB, 8 * HOUR);
	dh_score(&h);
	int64_t silent = dh_points(&h, R_PEER);
	set_param(&h, "volume.peer_self_sessions", 1000); /* habit not yet known */
	dh_score(&h);
	assert_true(dh_points(&h, R_PEER) >= 30);
	set_param(&h, "volume.peer_self_sessions", 5);
	h.x.new_hire = true;
	dh_score(&h);
	assert_int_equal(silent, -1);
	assert_true(dh_points(&h, R_PEER) >= 30);
	set_param(&h, "volume.peer_self_ratio", 0); /* the pass switched off */
	h.x.new_hire = false;
	dh_score(&h);
	assert_true(dh_points(&h, R_PEER) >= 30);
	dh_free(&h);
}

/* An operator's repeated exfiltration keeps firing: flagged sessions are learned only up to
 * the threshold, so they do not become the group's or the user's normal. */
static void test_peer_outlier_keeps_firing_on_repeated_exfiltration(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	team_history(&h);
	int fires = 0;
	for (int d = 0; d < 20; d++) {
		int64_t t = T0 + (int64_t)(10 + d) * DAY + 9 * HOUR;
		for (int k = 0; k < 3; k++)
			auth(&h, "op", t + k);
		vpn_end(&h, "op", t + HOUR, (20 + d) * GB, 6 * HOUR);
		h.x.tenure_days = 40 + d;
		h.x.new_hire = true;
		dh_step(&h);
		fires += dh_points(&h, R_PEER) > 0;
	}
	assert_int_equal(fires, 20);
	dh_free(&h);
}

/* VPN_STATS: an open session is judged while up, reported once, and its cumulative counts
 * are not added to the day twice. */
static void test_stats_counted_once(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	history(&h, "dave", T0, 14, 300);
	int64_t day = T0 + 14 * DAY;
	/* daily threshold high enough that 7 GB is silent but 2+6+7 = 15 GB would fire */
	set_param(&h, "volume.daily_min_mb", 10000);
	vpn_stats(&h, "dave", day + 2 * HOUR, "s-1", 2 * GB, 2 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_SESSION), -1);
	vpn_stats(&h, "dave", day + 4 * HOUR, "s-1", 6 * GB, 4 * HOUR);
	dh_step(&h);
	assert_true(dh_points(&h, R_SESSION) >= 25);
	assert_true(contains(dh_detail(&h, R_SESSION), "in one VPN session so far"));
	vpn_stats(&h, "dave", day + 5 * HOUR, "s-1", 6500 * MB, 5 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_SESSION), -1); /* already reported */
	vpn_end(&h, "dave", day + 6 * HOUR, 7 * GB, 6 * HOUR);
	snprintf(h.ev.session_id, sizeof(h.ev.session_id), "s-1");
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_SESSION), -1);
	assert_int_equal(dh_points(&h, R_DAILY), -1);
	/* a second session the same day: 7 + 4 = 11 GB crosses 10 GB */
	vpn_end(&h, "dave", day + 8 * HOUR, 4 * GB, 2 * HOUR);
	dh_step(&h);
	assert_true(dh_points(&h, R_DAILY) >= 25);
	assert_true(contains(dh_detail(&h, R_DAILY), "downloaded 11.0 GB over VPN"));
	/* VPN_STATS without a session id is ignored (cannot be told from the next session) */
	vpn_stats(&h, "dave", day + 9 * HOUR, "", 50 * GB, HOUR);
	assert_int_equal(dh_step(&h), 0);
	dh_free(&h);
}

static void test_volume_huge_and_absent_values(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	history(&h, "erin", T0, 14, 300);
	team_history(&h);
	unsigned char before[256];
	size_t sz = h.d->user_state_size;
	assert_true(sz <= sizeof(before));
	dh_user *u = dh_user_get(&h, "erin");
	memcpy(before, u->slice, sz);
	/* absent and negative counts: no reason, no state change */
	int64_t day = T0 + 14 * DAY;
	vpn_end(&h, "erin", day, -1, 8 * HOUR);
	assert_int_equal(dh_step(&h), 0);
	vpn_end(&h, "erin", day, -5, -1);
	assert_int_equal(dh_step(&h), 0);
	vpn_stats(&h, "erin", day, "s-9", -1, HOUR);
	assert_int_equal(dh_step(&h), 0);
	assert_memory_equal(before, u->slice, sz);
	/* INT64_MAX: every rule fires, nothing overflows (UBSan would stop the test) */
	vpn_end(&h, "erin", day + HOUR, INT64_MAX, INT64_MAX);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_SESSION), 45);
	assert_int_equal(dh_points(&h, R_DAILY), 45);
	vpn_end(&h, "erin", day + 2 * HOUR, INT64_MAX, 0);
	dh_step(&h); /* the day's sum saturates */
	vpn_stats(&h, "erin", day + 3 * HOUR, "s-9", INT64_MAX, INT64_MAX);
	dh_step(&h);
	vpn_stats(&h, "erin", day + 4 * HOUR, "s-9", 5, 7); /* counter restarted */
	dh_step(&h);
	/* zero bytes and a zero duration are values, not errors */
	vpn_end(&h, "erin", day + 5 * HOUR, 0, 0);
	assert_int_equal(dh_step(&h), 0);
	/* failures and other actions carry no volume */
	vpn_end(&h, "erin", day + 6 * HOUR, 900 * GB, HOUR);
	h.ev.outcome = MMR_OUTCOME_FAILURE;
	assert_int_equal(dh_step(&h), 0);
	dh_event(&h, "erin", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, IP, day + 7 * HOUR);
	h.ev.bytes_in = 900 * GB;
	assert_int_equal(dh_step(&h), 0);
	dh_free(&h);
}

static void test_volume_out_of_order(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_data_volume, NULL);
	history(&h, "fay", T0, 14, 300);
	int64_t day = T0 + 14 * DAY;
	vpn_end(&h, "fay", day + 9 * HOUR, 300 * MB, 8 * HOUR);
	dh_step(&h);
	/* a late event from three days ago is not added to today's total, and does not move
	 * the day backwards */
	for (int i = 0; i < 3; i++) {
		vpn_end(&h, "fay", day - 3 * DAY + i * HOUR, 5 * GB, HOUR);
		dh_step(&h);
		assert_int_equal(dh_points(&h, R_DAILY), -1);
	}
	vpn_end(&h, "fay", day + 10 * HOUR, 300 * MB, 8 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_DAILY), -1);
	/* time far in the past and far in the future: no crash, later days still work */
	vpn_end(&h, "fay", -5 * DAY, 1 * GB, HOUR);
	dh_step(&h);
	vpn_end(&h, "fay", (int64_t)1 << 45, 1 * GB, HOUR);
	dh_step(&h);
	vpn_end(&h, "fay", INT64_MAX, 1 * GB, HOUR);
	dh_step(&h);
	dh_free(&h);
}

/* ---- long_session ---------------------------------------------------------------------- */

static void vpn(dh *h, mmr_action a, int64_t t, const char *sid, int64_t dur)
{
	dh_event(h, "farm1", a, MMR_OUTCOME_SUCCESS, IP, t);
	if (sid)
		snprintf(h->ev.session_id, sizeof(h->ev.session_id), "%s", sid);
	h->ev.duration = dur;
}

static void test_long_session_from_duration(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_long_session, NULL);
	/* a normal working day and a long one: silent */
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 9 * HOUR);
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 19 * HOUR + 59 * 60);
	assert_int_equal(dh_step(&h), 0);
	/* left up overnight */
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 21 * HOUR + 5 * 60);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 25);
	assert_string_equal(dh_detail(&h, R_LONG), "VPN session lasted 21h05m (threshold 20 h)");
	/* days: +5 per further full day, at most 40 */
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 50 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 30);
	assert_true(contains(dh_detail(&h, R_LONG), "connected for days"));
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 80 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 35);
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 300 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 40);
	/* huge, absent, failure */
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, INT64_MAX);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 40);
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, -1);
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 30 * HOUR);
	h.ev.outcome = MMR_OUTCOME_FAILURE;
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_AUTH, T0, NULL, 30 * HOUR);
	assert_int_equal(dh_step(&h), 0);
	dh_free(&h);
}

static void test_long_session_bookkeeping(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_long_session, NULL);
	vpn(&h, MMR_ACTION_VPN_START, T0, "tun-7", -1);
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 10 * HOUR, "tun-7", -1);
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 21 * HOUR, "tun-7", -1);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 25);
	assert_true(contains(dh_detail(&h, R_LONG), "VPN session up for 21h00m, since 2026-10-05T00:00:00Z"));
	/* reported once per tier */
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 30 * HOUR, "tun-7", -1);
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 49 * HOUR, "tun-7", -1);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 30);
	vpn(&h, MMR_ACTION_VPN_END, T0 + 50 * HOUR, "tun-7", -1);
	assert_int_equal(dh_step(&h), 0);
	/* the slot is free again: the same id later is a new session */
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 60 * HOUR, "tun-7", -1);
	assert_int_equal(dh_step(&h), 0);
	dh_free(&h);
}

static void test_long_session_stats_duration_and_stale(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_long_session, NULL);
	/* RADIUS interim updates carry Acct-Session-Time */
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 22 * HOUR, "acct-1", 22 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 25);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 23 * HOUR, "acct-1", 23 * HOUR);
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_VPN_END, T0 + 24 * HOUR, "acct-1", 24 * HOUR);
	assert_int_equal(dh_step(&h), 0);
	/* a start whose end was lost: 20 days later the bookkeeping does not invent a session */
	vpn(&h, MMR_ACTION_VPN_START, T0, "lost", -1);
	dh_step(&h);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 20 * DAY, "lost", -1);
	assert_int_equal(dh_step(&h), 0);
	/* a reused id: the second START begins a new session */
	vpn(&h, MMR_ACTION_VPN_START, T0 + 2 * DAY, "reused", -1);
	dh_step(&h);
	vpn(&h, MMR_ACTION_VPN_START, T0 + 5 * DAY, "reused", -1);
	dh_step(&h);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 5 * DAY + 5 * HOUR, "reused", -1);
	assert_int_equal(dh_step(&h), 0);
	/* an earlier START of an open session delivered late moves its start back */
	vpn(&h, MMR_ACTION_VPN_START, T0 + 4 * DAY, "reused", -1);
	dh_step(&h);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 5 * DAY + 6 * HOUR, "reused", -1);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 25);
	/* out of order: a STATS older than its START measures nothing */
	vpn(&h, MMR_ACTION_VPN_START, T0 + 30 * DAY, "ooo", -1);
	dh_step(&h);
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 29 * DAY, "ooo", -1);
	assert_int_equal(dh_step(&h), 0);
	/* more concurrent sessions than slots: no crash, the newest still measured */
	char sid[16];
	for (int i = 0; i < 10; i++) {
		snprintf(sid, sizeof(sid), "c%d", i);
		vpn(&h, MMR_ACTION_VPN_START, T0 + 40 * DAY + i, sid, -1);
		dh_step(&h);
	}
	vpn(&h, MMR_ACTION_VPN_STATS, T0 + 41 * DAY, "c9", -1);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 25);
	dh_free(&h);
}

static void test_long_session_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_long_session, NULL);
	set_param(&h, "session.long_hours", 30);
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 25 * HOUR);
	assert_int_equal(dh_step(&h), 0);
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 31 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 25);
	set_param(&h, "session.long_points", 50);
	set_param(&h, "session.day_points", 0);
	vpn(&h, MMR_ACTION_VPN_END, T0, NULL, 99 * HOUR);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_LONG), 50);
	dh_free(&h);
}

/* ---- dormant_account ------------------------------------------------------------------- */

static void test_dormant_return_after_gap(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_dormant_account, NULL);
	for (int d = 0; d < 10; d++)
		for (int k = 0; k < 4; k++)
			auth(&h, "gina", T0 + (int64_t)d * DAY + 9 * HOUR + k * HOUR);
	/* back after 12 days: silent */
	int64_t last = T0 + 9 * DAY + 12 * HOUR;
	dh_event(&h, "gina", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, last + 12 * DAY);
	assert_int_equal(dh_step(&h), 0);
	/* back after 45 days */
	last += 12 * DAY;
	dh_event(&h, "gina", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, last + 45 * DAY);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_DORMANT), 25);
	assert_true(contains(dh_detail(&h, R_DORMANT), "first activity in 45 days (last seen 2026-10-26"));
	/* the next event is ordinary again */
	dh_event(&h, "gina", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, last + 45 * DAY + 60);
	assert_int_equal(dh_step(&h), 0);
	/* failures do not wake it (nor count as activity) */
	last += 45 * DAY + 60;
	dh_event(&h, "gina", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, IP, last + 40 * DAY);
	assert_int_equal(dh_step(&h), 0);
	/* an account change as the first act adds points */
	dh_event(&h, "gina", MMR_ACTION_ACCOUNT, MMR_OUTCOME_SUCCESS, IP, last + 41 * DAY);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_DORMANT), 35);
	assert_true(contains(dh_detail(&h, R_DORMANT), "account change"));
	/* out of order: an event older than the last one is no return */
	dh_event(&h, "gina", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, T0);
	assert_int_equal(dh_step(&h), 0);
	dh_free(&h);
}

static void test_dormant_convergence_and_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_dormant_account, NULL);
	/* seen three times: no habit to break */
	for (int k = 0; k < 3; k++)
		auth(&h, "hal", T0 + k * DAY);
	dh_event(&h, "hal", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, T0 + 80 * DAY);
	assert_int_equal(dh_step(&h), 0);
	/* converged user, gap param */
	for (int d = 0; d < 10; d++)
		for (int k = 0; k < 4; k++)
			auth(&h, "ida", T0 + (int64_t)d * DAY + k * HOUR);
	dh_event(&h, "ida", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, T0 + 50 * DAY);
	set_param(&h, "dormant.gap_days", 60);
	assert_int_equal(dh_score(&h), 0);
	set_param(&h, "dormant.gap_days", 30);
	set_param(&h, "dormant.points", 40);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_DORMANT), 40);
	dh_free(&h);
}

/* The tenant observed since T0 by other users' events; "who" is an established employee. */
static mmr_roster_entry veteran = {
	.user = "vic", .department = "Engineering", .team = "Backend 2", .group = 7,
	.group_name = "engineering/backend-2", .group_size = 8,
};

static void observe_tenant(dh *h, int days)
{
	for (int d = 0; d <= days; d++)
		auth(h, "other", T0 + (int64_t)d * DAY);
}

static void first_event(dh *h, const char *user, int64_t t, mmr_action a, int tenure)
{
	dh_event(h, user, a, MMR_OUTCOME_SUCCESS, IP, t);
	h->x.who = &veteran;
	h->x.group = veteran.group;
	h->x.tenure_days = tenure;
	h->x.new_hire = tenure >= 0 && tenure < 90;
}

static void test_dormant_first_appearance(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_dormant_account, NULL);
	veteran.start_date = mmr_time_from_civil(2023, 5, 2, 0, 0, 0, 0);
	observe_tenant(&h, 10);
	/* 10 days observed: too early to call anyone silent */
	first_event(&h, "vic", T0 + 10 * DAY + HOUR, MMR_ACTION_AUTH, 900);
	assert_int_equal(dh_score(&h), 0);
	observe_tenant(&h, 21);
	first_event(&h, "vic", T0 + 21 * DAY + HOUR, MMR_ACTION_ACCOUNT, 900);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_DORMANT), 35);
	assert_string_equal(dh_detail(&h, R_DORMANT),
			    "first activity in the 21 days this tenant has been observed; employee "
			    "since 2023-05-02; the first act is an account change (password or MFA "
			    "factor)");
	/* the second event is not a first */
	first_event(&h, "vic", T0 + 21 * DAY + 2 * HOUR, MMR_ACTION_AUTH, 900);
	assert_int_equal(dh_step(&h), 0);
	/* the confounder: a new hire's first day */
	first_event(&h, "newbie", T0 + 21 * DAY + HOUR, MMR_ACTION_ACCOUNT, 0);
	assert_int_equal(dh_step(&h), 0);
	/* not in the roster: as likely a new hire or a service account as a dormant one */
	dh_event(&h, "ghost", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, IP, T0 + 22 * DAY);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_DORMANT), -1);
	/* a failure is not an appearance (scanners try real names) */
	first_event(&h, "wen", T0 + 22 * DAY, MMR_ACTION_AUTH, 900);
	h.ev.outcome = MMR_OUTCOME_FAILURE;
	assert_int_equal(dh_step(&h), 0);
	/* params */
	first_event(&h, "xan", T0 + 22 * DAY, MMR_ACTION_AUTH, 100);
	set_param(&h, "dormant.min_tenure_days", 365);
	assert_int_equal(dh_score(&h), 0);
	set_param(&h, "dormant.min_tenure_days", 90);
	set_param(&h, "dormant.observe_days", 30);
	assert_int_equal(dh_score(&h), 0);
	set_param(&h, "dormant.observe_days", 14);
	set_param(&h, "dormant.change_points", 0);
	first_event(&h, "xan", T0 + 22 * DAY, MMR_ACTION_ACCOUNT, 100);
	dh_score(&h);
	assert_int_equal(dh_points(&h, R_DORMANT), 25);
	dh_free(&h);
}

static void test_dormant_out_of_order_times(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_dormant_account, NULL);
	observe_tenant(&h, 20);
	/* an event before the earliest moves the start back; one far in the future is no crash */
	first_event(&h, "yul", T0 - 5 * DAY, MMR_ACTION_AUTH, 900);
	assert_int_equal(dh_step(&h), 0); /* 5 days before the observation started */
	first_event(&h, "zed", INT64_MAX, MMR_ACTION_AUTH, 900);
	dh_step(&h);
	assert_int_equal(dh_points(&h, R_DORMANT), 25);
	first_event(&h, "zoe", INT64_MIN + 1, MMR_ACTION_AUTH, 900);
	assert_int_equal(dh_step(&h), 0);
	dh_free(&h);
}

/* ---- mfa_denial_burst ------------------------------------------------------------------ */

static int mfa(dh *h, const char *user, int64_t t, mmr_outcome o)
{
	dh_event(h, user, MMR_ACTION_MFA, o, IP, t);
	dh_step(h);
	return dh_points(h, R_MFA);
}

static void test_mfa_burst_fires(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_mfa_denial_burst, NULL);
	int64_t t = T0 + 3 * HOUR;
	assert_int_equal(mfa(&h, "jo", t, MMR_OUTCOME_UNKNOWN), -1); /* push sent */
	assert_int_equal(mfa(&h, "jo", t + 20, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "jo", t + 80, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "jo", t + 140, MMR_OUTCOME_FAILURE), 35);
	assert_string_equal(dh_detail(&h, R_MFA),
			    "3 denied or failed MFA challenges for this account within 10 min "
			    "(threshold 3): possible MFA fatigue / push bombing");
	assert_int_equal(mfa(&h, "jo", t + 200, MMR_OUTCOME_FAILURE), 35);
	/* ... and the owner gives in */
	assert_int_equal(mfa(&h, "jo", t + 260, MMR_OUTCOME_SUCCESS), 45);
	assert_true(contains(dh_detail(&h, R_MFA), "MFA approved after 4 denied"));
	/* an hour later all is quiet */
	assert_int_equal(mfa(&h, "jo", t + HOUR, MMR_OUTCOME_SUCCESS), -1);
	assert_int_equal(mfa(&h, "jo", t + HOUR + 10, MMR_OUTCOME_FAILURE), -1);
	/* other users are counted apart */
	assert_int_equal(mfa(&h, "kim", t + 150, MMR_OUTCOME_FAILURE), -1);
	/* other actions' failures do not count */
	dh_event(&h, "lee", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, IP, t);
	dh_step(&h);
	dh_event(&h, "lee", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, IP, t + 30);
	dh_step(&h);
	assert_int_equal(mfa(&h, "lee", t + 60, MMR_OUTCOME_FAILURE), -1);
	dh_free(&h);
}

/* The confounder: denies 20-40% of pushes, then approves the retry. */
static void test_mfa_denier_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_mfa_denial_burst, NULL);
	for (int d = 0; d < 30; d++) {
		int64_t t = T0 + (int64_t)d * DAY + 9 * HOUR;
		/* morning sign-in denied then approved; a second sign-in 2 h later, same story */
		for (int s = 0; s < 3; s++) {
			int64_t ts = t + s * 2 * HOUR;
			assert_int_equal(mfa(&h, "denier", ts, MMR_OUTCOME_UNKNOWN), -1);
			assert_int_equal(mfa(&h, "denier", ts + 10, MMR_OUTCOME_FAILURE), -1);
			assert_int_equal(mfa(&h, "denier", ts + 40, MMR_OUTCOME_UNKNOWN), -1);
			assert_int_equal(mfa(&h, "denier", ts + 55, MMR_OUTCOME_SUCCESS), -1);
		}
	}
	/* two quick sign-ins, each denied once then approved: still below 3 */
	assert_int_equal(mfa(&h, "denier", T0 + 40 * DAY, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "denier", T0 + 40 * DAY + 30, MMR_OUTCOME_SUCCESS), -1);
	assert_int_equal(mfa(&h, "denier", T0 + 40 * DAY + 300, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "denier", T0 + 40 * DAY + 330, MMR_OUTCOME_SUCCESS), -1);
	dh_free(&h);
}

static void test_mfa_duplicates_params_and_times(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_mfa_denial_burst, NULL);
	int64_t t = T0;
	/* one denial logged twice (within 3 s) counts once */
	assert_int_equal(mfa(&h, "mo", t, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "mo", t + 1, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "mo", t + 60, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "mo", t + 61, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "mo", t + 120, MMR_OUTCOME_FAILURE), 35);
	/* params: count and window */
	set_param(&h, "mfa.burst_count", 5);
	assert_int_equal(mfa(&h, "no", t, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "no", t + 60, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "no", t + 120, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "no", t + 180, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "no", t + 240, MMR_OUTCOME_FAILURE), 35);
	set_param(&h, "mfa.burst_count", 3);
	set_param(&h, "mfa.burst_window", 60);
	assert_int_equal(mfa(&h, "po", t, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "po", t + 50, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "po", t + 100, MMR_OUTCOME_FAILURE), -1); /* t left the window */
	assert_int_equal(mfa(&h, "po", t + 105, MMR_OUTCOME_FAILURE), 35);
	assert_true(contains(dh_detail(&h, R_MFA), "within 1 min"));
	set_param(&h, "mfa.burst_points", 50);
	set_param(&h, "mfa.approve_bonus", 0);
	assert_int_equal(mfa(&h, "po", t + 108, MMR_OUTCOME_SUCCESS), 50);
	assert_int_equal(mfa(&h, "po", t + 170, MMR_OUTCOME_SUCCESS), -1);
	/* out of order: a late failure within the window still counts with the newer ones;
	 * absurd times are ignored without a crash */
	set_param(&h, "mfa.burst_window", 600);
	assert_int_equal(mfa(&h, "qu", t + 300, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "qu", t + 100, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "qu", t + 400, MMR_OUTCOME_FAILURE), 50);
	assert_int_equal(mfa(&h, "qu", INT64_MAX, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "qu", INT64_MIN, MMR_OUTCOME_FAILURE), -1);
	assert_int_equal(mfa(&h, "qu", t + 500, MMR_OUTCOME_FAILURE), 50);
	dh_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_session_bytes_fires_when_converged),
		cmocka_unit_test(test_session_bytes_convergence_guard),
		cmocka_unit_test(test_session_bytes_params),
		cmocka_unit_test(test_daily_bytes_fires_once_per_day),
		cmocka_unit_test(test_daily_bytes_params),
		cmocka_unit_test(test_peer_outlier_fires_for_new_hire),
		cmocka_unit_test(test_peer_outlier_needs_group_evidence),
		cmocka_unit_test(test_peer_outlier_few_sessions_and_params),
		cmocka_unit_test(test_peer_outlier_silent_for_known_heavy_user),
		cmocka_unit_test(test_peer_outlier_keeps_firing_on_repeated_exfiltration),
		cmocka_unit_test(test_stats_counted_once),
		cmocka_unit_test(test_volume_huge_and_absent_values),
		cmocka_unit_test(test_volume_out_of_order),
		cmocka_unit_test(test_long_session_from_duration),
		cmocka_unit_test(test_long_session_bookkeeping),
		cmocka_unit_test(test_long_session_stats_duration_and_stale),
		cmocka_unit_test(test_long_session_params),
		cmocka_unit_test(test_dormant_return_after_gap),
		cmocka_unit_test(test_dormant_convergence_and_params),
		cmocka_unit_test(test_dormant_first_appearance),
		cmocka_unit_test(test_dormant_out_of_order_times),
		cmocka_unit_test(test_mfa_burst_fires),
		cmocka_unit_test(test_mfa_denier_silent),
		cmocka_unit_test(test_mfa_duplicates_params_and_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
