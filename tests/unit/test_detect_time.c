/* The time detectors driven directly through detector_harness.h:
 *
 *   working_timezone     time.timezone_mismatch (35), time.uncommon_hour_peers (15)
 *   hour_of_week_rarity  time.rare_hour (30 / 20; its engine-level cases are in test_detectors)
 *
 * The scenarios are the simulator's (contrib/simulator/README.md): laptop-farm new hires in
 * US teams working Seoul daytime, Manila support on the night shift with their team, Tokyo
 * sales, on-call engineers, the "subtle" actor working 15:00-00:30 Central.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detector_harness.h"
#include "enrich/roster.h"
#include "state/lru_table.h"

extern const mmr_detector mmr_detector_working_timezone;
extern const mmr_detector mmr_detector_hour_of_week_rarity;

#define DAY 86400
#define HOUR 3600
/* Monday 2026-11-23 00:00:00 UTC */
#define MONDAY ((int64_t)1795392000)

#define MISMATCH "time.timezone_mismatch"
#define UNCOMMON "time.uncommon_hour_peers"
#define RARE_HOUR "time.rare_hour"

#define CST (-6 * HOUR)
#define CDT (-5 * HOUR)
#define PHT (8 * HOUR)
#define JST (9 * HOUR)

/* A roster person: entry plus the declared offset (before/after a DST switch). */
typedef struct person {
	mmr_roster_entry who;
	bool in_roster, has_tz;
	char country[3]; /* where the event is located; "" = unknown */
	int32_t off, off_after;
	int64_t switch_at; /* 0: no switch */
} person;

static person mk_person(const char *user, const char *tz, int32_t off, uint32_t group,
			const char *group_name)
{
	person p;
	memset(&p, 0, sizeof(p));
	p.who.user = user;
	p.who.department = "";
	p.who.team = "";
	p.who.title = "";
	p.who.manager = "";
	p.who.timezone = tz ? tz : "";
	p.who.group = group;
	p.who.group_name = group_name;
	p.who.group_size = 8;
	p.in_roster = true;
	p.has_tz = tz != NULL;
	p.off = p.off_after = off;
	return p;
}

static const char *const US_TEAM = "engineering/backend-2";
#define G_US 101
#define G_MNL 202
#define G_MNL_DAY 203

/* Scores and learns one event of p at t; returns the number of reasons. */
static int act(dh *h, const person *p, mmr_action a, mmr_outcome o, int64_t t)
{
	dh_event(h, p->who.user, a, o, "198.51.100.7", t);
	if (p->in_roster) {
		h->x.who = &p->who;
		h->x.group = p->who.group;
		h->x.has_declared_tz = p->has_tz;
		h->x.declared_offset = p->switch_at && t >= p->switch_at ? p->off_after : p->off;
		h->x.new_hire = true;
		h->x.tenure_days = 3;
	}
	memcpy(h->x.country, p->country, sizeof(h->x.country));
	return dh_step(h);
}

static int ok(dh *h, const person *p, int64_t t)
{
	return act(h, p, MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, t);
}

/* Works days [d0, d0+n) from UTC hour `start` for `hours` hours, 3 events an hour. Returns
 * how many events got rule (when rule is not NULL). */
static int work(dh *h, const person *p, int d0, int n, int start, int hours, const char *rule)
{
	int fired = 0;
	for (int d = d0; d < d0 + n; d++)
		for (int k = 0; k < hours; k++)
			for (int j = 0; j < 3; j++) {
				ok(h, p, MONDAY + d * DAY + (start + k) * HOUR + j * 1200 + 60);
				fired += rule && dh_points(h, rule) >= 0;
			}
	return fired;
}

static void set_param(dh *h, const char *key, double v)
{
	for (int i = 0; h->d->params && h->d->params[i].key; i++)
		if (strcmp(h->d->params[i].key, key) == 0) {
			h->param[i] = v;
			return;
		}
	fail_msg("no param %s", key);
}

static void expect_detail_has(const dh *h, const char *rule, const char *needle)
{
	const char *d = dh_detail(h, rule);
	if (strstr(d, needle) == NULL)
		fail_msg("detail of %s does not name \"%s\": \"%s\"", rule, needle, d);
	assert_true(strlen(d) < 200);
}

/* Six Chicago peers of a US team working 08:00-17:00 CST (14:00-23:00 UTC), days [d0, d0+n). */
static person us_peers[6];
static char us_names[6][16];

static void us_team(dh *h, int d0, int n)
{
	for (int i = 0; i < 6; i++) {
		snprintf(us_names[i], sizeof(us_names[i]), "us%d", i);
		us_peers[i] = mk_person(us_names[i], "America/Chicago", CST, G_US, US_TEAM);
		work(h, &us_peers[i], d0, n, 14, 9, NULL);
	}
}

/* Five Manila peers, 21:00-06:00 PHT (13:00-22:00 UTC) or 09:00-18:00 PHT (01:00-10:00). */
static person mnl_peers[5];
static char mnl_names[5][16];

static void manila_team(dh *h, uint32_t group, int utc_start, int d0, int n)
{
	for (int i = 0; i < 5; i++) {
		snprintf(mnl_names[i], sizeof(mnl_names[i]), "mnl%u-%d", group, i);
		mnl_peers[i] = mk_person(mnl_names[i], "Asia/Manila", PHT, group, "support/manila");
		work(h, &mnl_peers[i], d0, n, utc_start, 9, NULL);
	}
}

/* ---- time.timezone_mismatch ---------------------------------------------------------------- */

static void test_farm_new_hire_fires_on_third_day(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 12);
	person farm = mk_person("farm1", "America/Chicago", CST, G_US, US_TEAM);
	/* Seoul 09:00-18:00 = 00:00-09:00 UTC = 18:00-03:00 Chicago, from day 7 */
	assert_int_equal(work(&h, &farm, 7, 2, 0, 9, MISMATCH), 0); /* two days: not yet */
	int64_t first = 0;
	for (int k = 0; k < 9 && first == 0; k++)
		for (int j = 0; j < 3 && first == 0; j++) {
			int64_t t = MONDAY + 9 * DAY + k * HOUR + j * 1200 + 60;
			ok(&h, &farm, t);
			if (dh_points(&h, MISMATCH) >= 0)
				first = t;
		}
	/* on the third day (tz.min_days), at the first event past the declared day: 02:00 UTC
	 * = 20:00 CST; 20 active hours by then (tz.min_hours 12 was reached on day 2) */
	assert_int_equal(first, MONDAY + 9 * DAY + 2 * HOUR + 60);
	assert_int_equal(dh_points(&h, MISMATCH), 35);
	expect_detail_has(&h, MISMATCH, "fits UTC+9 working hours");
	expect_detail_has(&h, MISMATCH, "100% of 20 active hours over 3 days");
	expect_detail_has(&h, MISMATCH, "declared America/Chicago (UTC-6): 30% in its 07:00-20:00");
	expect_detail_has(&h, MISMATCH, "peers: 11% in the former, 100% in the latter");
	/* ...and on later days, on events outside the declared working day only */
	ok(&h, &farm, MONDAY + 10 * DAY + 4 * HOUR);
	assert_int_equal(dh_points(&h, MISMATCH), 35);
	ok(&h, &farm, MONDAY + 10 * DAY + 0 * HOUR + 600); /* 18:10 CST: inside 07:00-20:00 */
	assert_int_equal(dh_points(&h, MISMATCH), -1);
	/* failures never fire */
	act(&h, &farm, MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, MONDAY + 10 * DAY + 5 * HOUR);
	assert_int_equal(h.out.n, 0);
	/* the peers themselves are never suspect */
	assert_int_equal(work(&h, &us_peers[0], 12, 2, 14, 9, MISMATCH), 0);
	dh_free(&h);
}

static void test_farm_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	set_param(&h, "tz.points", 50);
	set_param(&h, "tz.min_days", 5);
	us_team(&h, 0, 14);
	person farm = mk_person("farm2", "America/Chicago", CST, G_US, US_TEAM);
	assert_int_equal(work(&h, &farm, 7, 4, 0, 9, MISMATCH), 0); /* 4 days < 5 */
	assert_true(work(&h, &farm, 11, 1, 0, 9, MISMATCH) > 0);
	assert_int_equal(dh_points(&h, MISMATCH), 50);
	/* tz.min_hours 45: reached only in the fifth day's ninth hour */
	person late = mk_person("farm2b", "America/Chicago", CST, G_US, US_TEAM);
	set_param(&h, "tz.points", 35);
	set_param(&h, "tz.min_days", 3);
	set_param(&h, "tz.min_hours", 45);
	assert_int_equal(work(&h, &late, 7, 4, 0, 9, MISMATCH) + work(&h, &late, 11, 1, 0, 8, MISMATCH), 0);
	assert_true(work(&h, &late, 11, 1, 8, 1, MISMATCH) > 0);
	assert_int_equal(dh_points(&h, MISMATCH), 35);
	/* a declared_max of 0 means "never suspect the declared zone" */
	set_param(&h, "tz.declared_max", 0);
	assert_int_equal(work(&h, &farm, 12, 1, 0, 9, MISMATCH), 0);
	dh_free(&h);
}

static void test_failures_are_not_evidence(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 12);
	person farm = mk_person("farm3", "America/Chicago", CST, G_US, US_TEAM);
	/* three days of failed sign-ins and session ends at Seoul hours teach nothing */
	for (int d = 7; d < 10; d++)
		for (int k = 0; k < 9; k++) {
			act(&h, &farm, MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, MONDAY + d * DAY + k * HOUR);
			act(&h, &farm, MMR_ACTION_VPN_END, MMR_OUTCOME_SUCCESS,
			    MONDAY + d * DAY + k * HOUR + 60);
			act(&h, &farm, MMR_ACTION_LOGOUT, MMR_OUTCOME_SUCCESS,
			    MONDAY + d * DAY + k * HOUR + 120);
		}
	ok(&h, &farm, MONDAY + 10 * DAY + 3 * HOUR);
	assert_int_equal(dh_points(&h, MISMATCH), -1);
	dh_free(&h);
}

static void test_manila_night_shift_with_team_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	manila_team(&h, G_MNL, 13, 0, 14);
	/* a new Manila hire on the team's night shift: fits US Eastern, not Manila */
	person mnl = mk_person("mnl-new", "Asia/Manila", PHT, G_MNL, "support/manila");
	assert_int_equal(work(&h, &mnl, 7, 7, 13, 9, MISMATCH), 0);
	assert_int_equal(work(&h, &mnl_peers[0], 14, 3, 13, 9, MISMATCH), 0);

	/* control: the same hours with a team that works Manila daytime fire */
	dh_free(&h);
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	manila_team(&h, G_MNL_DAY, 1, 0, 14);
	person odd = mk_person("mnl-odd", "Asia/Manila", PHT, G_MNL_DAY, "support/manila");
	assert_true(work(&h, &odd, 7, 7, 13, 9, MISMATCH) > 0);
	expect_detail_has(&h, MISMATCH, "fits UTC-4 working hours");
	expect_detail_has(&h, MISMATCH, "declared Asia/Manila (UTC+8): 0% in its");
	expect_detail_has(&h, MISMATCH, "peers: 0% in the former, 100% in the latter");
	dh_free(&h);
}

static void test_peer_fit_param(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	/* a mixed team: three on the night shift (13:00-22:00 UTC), two on Manila days */
	person peers[5];
	char names[5][16];
	for (int i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), "mix%d", i);
		peers[i] = mk_person(names[i], "Asia/Manila", PHT, G_MNL, "support/manila");
		work(&h, &peers[i], 0, 14, i < 3 ? 13 : 1, 9, NULL);
	}
	/* a night-shift hire: 60% of the peers' hours fall in UTC-4's working day (>= 50%) */
	person mnl = mk_person("mnl-new", "Asia/Manila", PHT, G_MNL, "support/manila");
	assert_int_equal(work(&h, &mnl, 7, 4, 13, 9, MISMATCH), 0);
	/* with tz.peer_fit 0.7 the team's majority no longer excuses it */
	set_param(&h, "tz.peer_fit", 0.7);
	assert_true(work(&h, &mnl, 11, 1, 13, 9, MISMATCH) > 0);
	expect_detail_has(&h, MISMATCH, "peers: 60% in the former, 40% in the latter");
	dh_free(&h);
	/* fewer other members than tz.peer_min_members: no comparison, silent (the same hire
	 * with a day-shift team fires in test_manila_night_shift_with_team_silent) */
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	set_param(&h, "tz.peer_min_members", 6);
	manila_team(&h, G_MNL_DAY, 1, 0, 14);
	person odd = mk_person("mnl-odd", "Asia/Manila", PHT, G_MNL_DAY, "support/manila");
	assert_int_equal(work(&h, &odd, 7, 7, 13, 9, MISMATCH), 0);
	set_param(&h, "tz.peer_min_members", 5);
	assert_true(work(&h, &odd, 14, 1, 13, 9, MISMATCH) > 0);
	dh_free(&h);
}

static void test_trip_abroad_neither_teaches_nor_fires(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 14);
	/* a Chicago employee on a trip to Seoul works Seoul hours from hotel Wi-Fi (KR) */
	person trav = mk_person("trav", "America/Chicago", CST, G_US, US_TEAM);
	memcpy(trav.who.country, "US", 3);
	memcpy(trav.country, "KR", 3);
	assert_int_equal(work(&h, &trav, 7, 6, 0, 9, MISMATCH), 0);
	assert_int_equal(work(&h, &trav, 13, 1, 0, 9, UNCOMMON), 0);
	/* the same hours from a US address are the farm pattern */
	memcpy(trav.country, "US", 3);
	assert_true(work(&h, &trav, 14, 3, 0, 9, MISMATCH) > 0);
	/* an unknown location counts as home */
	person farm = mk_person("farm6", "America/Chicago", CST, G_US, US_TEAM);
	memcpy(farm.who.country, "US", 3);
	assert_true(work(&h, &farm, 7, 3, 0, 9, MISMATCH) > 0);
	dh_free(&h);
}

static void test_tokyo_sales_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 14);
	/* Tokyo sales works the farm's UTC hours, but that is their declared day; even in a
	 * team that works US hours, and even for an evening event at 21:00 JST */
	person tyo = mk_person("tyo1", "Asia/Tokyo", JST, G_US, US_TEAM);
	assert_int_equal(work(&h, &tyo, 0, 14, 0, 9, MISMATCH), 0);
	ok(&h, &tyo, MONDAY + 14 * DAY + 12 * HOUR);
	assert_int_equal(dh_points(&h, MISMATCH), -1);
	dh_free(&h);
}

static void test_oncall_nights_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 14);
	person oc = mk_person("oncall1", "America/Chicago", CST, G_US, US_TEAM);
	work(&h, &oc, 0, 7, 14, 9, NULL);
	/* on-call week: day work plus pages at 02:00-04:00 CST on three nights */
	int mismatch = 0, uncommon = 0, first_uncommon = -1;
	for (int d = 7; d < 14; d++) {
		mismatch += work(&h, &oc, d, 1, 14, 9, MISMATCH);
		if (d == 8 || d == 10 || d == 11)
			for (int k = 0; k < 6; k++) {
				ok(&h, &oc, MONDAY + d * DAY + 8 * HOUR + k * 1200);
				mismatch += dh_points(&h, MISMATCH) >= 0;
				if (dh_points(&h, UNCOMMON) >= 0) {
					uncommon++;
					if (first_uncommon < 0)
						first_uncommon = dh_points(&h, UNCOMMON);
				}
			}
	}
	assert_int_equal(mismatch, 0);
	/* the pages themselves are uncommon among peers: a weak, supporting signal */
	assert_true(uncommon > 0);
	assert_int_equal(first_uncommon, 15);
	dh_free(&h);
}

static void test_no_roster_or_no_zone_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 14);
	/* not in the roster: no declared zone, no peers */
	person ghost = mk_person("ghost", NULL, 0, 0, NULL);
	ghost.in_roster = false;
	assert_int_equal(work(&h, &ghost, 0, 14, 0, 9, MISMATCH), 0);
	assert_int_equal(work(&h, &ghost, 14, 1, 0, 9, UNCOMMON), 0);
	/* in the roster with a zone that did not load: peers yes, declared zone no */
	person nozone = mk_person("nozone", NULL, 0, G_US, US_TEAM);
	assert_int_equal(work(&h, &nozone, 0, 14, 0, 9, MISMATCH), 0);
	dh_free(&h);
}

static void test_dst_switch(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	/* the team keeps 08:00-17:00 local across the switch from CDT to CST on day 6 */
	const int64_t sw = MONDAY + 6 * DAY + 7 * HOUR;
	person peers[6];
	char names[6][16];
	for (int i = 0; i < 6; i++) {
		snprintf(names[i], sizeof(names[i]), "dst%d", i);
		peers[i] = mk_person(names[i], "America/Chicago", CDT, G_US, US_TEAM);
		peers[i].off_after = CST;
		peers[i].switch_at = sw;
		work(&h, &peers[i], 0, 6, 13, 9, NULL);
		work(&h, &peers[i], 6, 8, 14, 9, NULL);
	}
	/* a Chicago employee doing the same: silent on both sides of the switch */
	person ok_user = peers[0];
	ok_user.who.user = "dst-ok";
	assert_int_equal(work(&h, &ok_user, 0, 6, 13, 9, MISMATCH), 0);
	assert_int_equal(work(&h, &ok_user, 6, 8, 14, 9, MISMATCH), 0);
	/* a farm account: fires under CDT (UTC-5) on day 4, then names CST (UTC-6) after */
	person farm = peers[0];
	farm.who.user = "dst-farm";
	assert_int_equal(work(&h, &farm, 2, 2, 0, 9, MISMATCH), 0);
	assert_true(work(&h, &farm, 4, 1, 0, 9, MISMATCH) > 0);
	expect_detail_has(&h, MISMATCH, "(UTC-5)");
	assert_true(work(&h, &farm, 7, 1, 0, 9, MISMATCH) > 0);
	expect_detail_has(&h, MISMATCH, "(UTC-6)");
	expect_detail_has(&h, MISMATCH, "fits UTC+9");
	dh_free(&h);
}

static void test_group_eviction_safe(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	cfg.max_users = 16; /* groups table: 64 entries */
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, &cfg);
	manila_team(&h, G_MNL, 13, 0, 7);
	us_team(&h, 0, 7);
	/* 400 more groups (one member each, one active hour each) push the old ones out */
	person flood = mk_person("flood", "UTC", 0, 0, "flood");
	for (int i = 0; i < 400; i++) {
		flood.who.group = 5000 + (uint32_t)i;
		ok(&h, &flood, MONDAY + 8 * DAY + i * HOUR);
	}
	assert_true(mmr_lru_evictions(h.global) > 0);
	assert_true(mmr_lru_count(h.global) <= 64);
	/* the night-shift hire, whose team's hours may be gone: silent, not a false alarm */
	person mnl = mk_person("mnl-new", "Asia/Manila", PHT, G_MNL, "support/manila");
	assert_int_equal(work(&h, &mnl, 30, 4, 13, 9, MISMATCH), 0);
	/* the teams learn again; the night shift stays silent, the farm account fires */
	for (int i = 0; i < 5; i++)
		work(&h, &mnl_peers[i], 34, 3, 13, 9, NULL);
	assert_int_equal(work(&h, &mnl, 34, 3, 13, 9, MISMATCH), 0);
	for (int i = 0; i < 6; i++)
		work(&h, &us_peers[i], 34, 3, 14, 9, NULL);
	person farm = mk_person("farm4", "America/Chicago", CST, G_US, US_TEAM);
	assert_true(work(&h, &farm, 34, 3, 0, 9, MISMATCH) > 0);
	dh_free(&h);
	mmr_config_clear(&cfg);
}

static void test_time_jumps_do_not_freeze_learning(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 14);
	person farm = mk_person("farm5", "America/Chicago", CST, G_US, US_TEAM);
	/* a bogus event in 2106 (and one before 1970) between ordinary days */
	ok(&h, &farm, (int64_t)4300000000LL);
	ok(&h, &farm, -5000);
	work(&h, &farm, 7, 1, 0, 9, NULL);
	ok(&h, &farm, MONDAY + 6 * DAY + 3 * HOUR); /* late event of an earlier day: ignored */
	assert_true(work(&h, &farm, 8, 3, 0, 9, MISMATCH) > 0);
	dh_free(&h);
}

/* ---- time.uncommon_hour_peers -------------------------------------------------------------- */

static void test_uncommon_hour_fires_and_names_peers(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 10);
	person p = mk_person("peer7", "America/Chicago", CST, G_US, US_TEAM);
	work(&h, &p, 0, 10, 14, 9, NULL);
	ok(&h, &p, MONDAY + 10 * DAY + 5 * HOUR + 600); /* 23:10 CST; the team: never */
	assert_int_equal(dh_points(&h, UNCOMMON), 15);
	expect_detail_has(&h, UNCOMMON, "05:10 UTC (23:10 America/Chicago)");
	expect_detail_has(&h, UNCOMMON, "engineering/backend-2 (6 others) put 0.0% of their 540");
	expect_detail_has(&h, UNCOMMON, "this user 0% of 90");
	assert_int_equal(dh_points(&h, MISMATCH), -1); /* one night is no other time zone */
	/* within an hour of the team's day: silent; failures: silent */
	ok(&h, &p, MONDAY + 11 * DAY + 23 * HOUR + 1800);
	assert_int_equal(dh_points(&h, UNCOMMON), -1);
	act(&h, &p, MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, MONDAY + 12 * DAY + 5 * HOUR);
	assert_int_equal(h.out.n, 0);
	/* params */
	set_param(&h, "tz.peer_rare_points", 5);
	ok(&h, &p, MONDAY + 12 * DAY + 6 * HOUR);
	assert_int_equal(dh_points(&h, UNCOMMON), 5);
	set_param(&h, "tz.peer_rare_share", 0);
	ok(&h, &p, MONDAY + 13 * DAY + 6 * HOUR);
	assert_int_equal(dh_points(&h, UNCOMMON), -1);
	dh_free(&h);
}

static void test_uncommon_hour_own_habit_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 10);
	/* an early bird in the team works 03:00-08:00 UTC: uncommon among peers, and until the
	 * user's own baseline converges (30 events over 7 days) nothing excuses it */
	person owl = mk_person("owl", "America/Chicago", CST, G_US, US_TEAM);
	assert_true(work(&h, &owl, 0, 1, 3, 5, UNCOMMON) > 0);
	assert_int_equal(dh_points(&h, UNCOMMON), 15);
	expect_detail_has(&h, UNCOMMON, "this user's own hours still learning (5)");
	assert_true(work(&h, &owl, 1, 6, 3, 5, UNCOMMON) > 0);
	work(&h, &owl, 7, 1, 3, 5, NULL); /* converges on day 7 */
	/* converged: these hours are the user's habit now */
	assert_int_equal(work(&h, &owl, 8, 3, 3, 5, UNCOMMON), 0);
	/* an hour the user never works, still uncommon for the peers: fires again */
	ok(&h, &owl, MONDAY + 11 * DAY + 10 * HOUR);
	assert_int_equal(dh_points(&h, UNCOMMON), 15);
	expect_detail_has(&h, UNCOMMON, "this user 0% of 55");
	dh_free(&h);
}

static void test_uncommon_hour_needs_peer_evidence(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	/* two others only: no verdict, however long they work */
	person a = mk_person("a", "America/Chicago", CST, 301, "small");
	person b = mk_person("b", "America/Chicago", CST, 301, "small");
	person c = mk_person("c", "America/Chicago", CST, 301, "small");
	work(&h, &a, 0, 14, 14, 9, NULL);
	work(&h, &b, 0, 14, 14, 9, NULL);
	ok(&h, &c, MONDAY + 14 * DAY + 5 * HOUR);
	assert_int_equal(dh_points(&h, UNCOMMON), -1);
	/* a third one makes three others with 270 active hours between them (>= 200) */
	person d = mk_person("d", "America/Chicago", CST, 301, "small");
	work(&h, &d, 12, 2, 14, 9, NULL);
	ok(&h, &c, MONDAY + 15 * DAY + 5 * HOUR);
	assert_int_equal(dh_points(&h, UNCOMMON), 15);
	set_param(&h, "tz.rare_group_hours", 1000);
	ok(&h, &c, MONDAY + 16 * DAY + 5 * HOUR);
	assert_int_equal(dh_points(&h, UNCOMMON), -1);
	dh_free(&h);
}

static void test_subtle_actor_gets_some(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_working_timezone, NULL);
	us_team(&h, 0, 14);
	/* declared America/Chicago, works 15:00-00:30 CST = 21:00-06:30 UTC */
	person s = mk_person("subtle", "America/Chicago", CST, G_US, US_TEAM);
	int early = work(&h, &s, 7, 2, 21, 10, UNCOMMON);
	assert_true(early > 0);
	assert_int_equal(work(&h, &s, 9, 5, 21, 10, MISMATCH), 0); /* half his day is Chicago's */
	dh_free(&h);
}

static void test_state_sizes(void **state)
{
	(void)state;
	assert_int_equal(mmr_detector_working_timezone.user_state_size, 60);
	assert_int_equal(mmr_detector_hour_of_week_rarity.user_state_size, 170);
}

/* ---- time.rare_hour ------------------------------------------------------------------------ */

static void test_rare_hour_local_label(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_hour_of_week_rarity, NULL);
	person p = mk_person("alice", "America/Chicago", CST, G_US, US_TEAM);
	work(&h, &p, 0, 10, 14, 9, NULL);
	/* Saturday 09:00 UTC = 03:00 CST */
	ok(&h, &p, MONDAY + 12 * DAY + 9 * HOUR);
	assert_int_equal(dh_points(&h, RARE_HOUR), 30);
	expect_detail_has(&h, RARE_HOUR, "activity at Sat 03:00 local (America/Chicago), Sat 09:00 UTC;");
	/* no declared zone: UTC only */
	person q = mk_person("bob", NULL, 0, G_US, US_TEAM);
	work(&h, &q, 0, 10, 14, 9, NULL);
	ok(&h, &q, MONDAY + 12 * DAY + 9 * HOUR);
	expect_detail_has(&h, RARE_HOUR, "activity at Sat 09:00 UTC;");
	assert_null(strstr(dh_detail(&h, RARE_HOUR), "local"));
	/* half-hour zone: the local hour that holds the event */
	person r = mk_person("ravi", "Asia/Kolkata", 19800, G_US, US_TEAM);
	work(&h, &r, 0, 10, 4, 9, NULL);
	ok(&h, &r, MONDAY + 12 * DAY + 20 * HOUR + 40 * 60); /* Sat 20:40 UTC = Sun 02:10 IST */
	expect_detail_has(&h, RARE_HOUR, "Sun 02:00 local (Asia/Kolkata), Sat 20:00 UTC");
	dh_free(&h);
}

static void test_rare_hour_session_ends_are_not_activity(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_hour_of_week_rarity, NULL);
	person p = mk_person("carol", NULL, 0, 0, NULL);
	p.in_roster = false;
	work(&h, &p, 0, 10, 14, 9, NULL);
	/* VPN sessions timing out at Wed 03:00 for weeks: neither reported nor learned */
	for (int w = 0; w < 6; w++) {
		act(&h, &p, MMR_ACTION_VPN_END, MMR_OUTCOME_SUCCESS, MONDAY + (14 + 7 * w + 2) * DAY + 3 * HOUR);
		assert_int_equal(h.out.n, 0);
		act(&h, &p, MMR_ACTION_LOGOUT, MMR_OUTCOME_SUCCESS, MONDAY + (14 + 7 * w + 2) * DAY + 3 * HOUR);
		assert_int_equal(h.out.n, 0);
	}
	ok(&h, &p, MONDAY + 58 * DAY + 3 * HOUR); /* a Wednesday */
	assert_int_equal(dh_points(&h, RARE_HOUR), 30);
	dh_free(&h);
}

static void test_rare_hour_byte_buckets_saturate_safely(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_hour_of_week_rarity, NULL);
	person p = mk_person("cron", NULL, 0, 0, NULL);
	p.in_roster = false;
	/* 300 events every Monday 10:00-11:00 for 10 weeks: the bucket halves at 255, the
	 * others stay empty */
	for (int w = 0; w < 10; w++)
		for (int i = 0; i < 300; i++)
			ok(&h, &p, MONDAY + w * 7 * DAY + 10 * HOUR + i * 12);
	const uint8_t *hist = h.cur->slice;
	int mon10 = 10;
	assert_true(hist[mon10] > 100 && hist[mon10] <= 255);
	uint16_t total;
	memcpy(&total, (const unsigned char *)h.cur->slice + 168, sizeof(total));
	assert_int_equal(total, hist[mon10]);
	ok(&h, &p, MONDAY + 70 * DAY + 10 * HOUR + 300);
	assert_int_equal(dh_points(&h, RARE_HOUR), -1);
	ok(&h, &p, MONDAY + 73 * DAY + 3 * HOUR);
	assert_int_equal(dh_points(&h, RARE_HOUR), 30);
	/* params */
	set_param(&h, "rarehour.points_never", 25);
	ok(&h, &p, MONDAY + 80 * DAY + 15 * HOUR);
	assert_int_equal(dh_points(&h, RARE_HOUR), 25);
	dh_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_farm_new_hire_fires_on_third_day),
		cmocka_unit_test(test_farm_params),
		cmocka_unit_test(test_failures_are_not_evidence),
		cmocka_unit_test(test_manila_night_shift_with_team_silent),
		cmocka_unit_test(test_peer_fit_param),
		cmocka_unit_test(test_trip_abroad_neither_teaches_nor_fires),
		cmocka_unit_test(test_tokyo_sales_silent),
		cmocka_unit_test(test_oncall_nights_silent),
		cmocka_unit_test(test_no_roster_or_no_zone_silent),
		cmocka_unit_test(test_dst_switch),
		cmocka_unit_test(test_group_eviction_safe),
		cmocka_unit_test(test_time_jumps_do_not_freeze_learning),
		cmocka_unit_test(test_uncommon_hour_fires_and_names_peers),
		cmocka_unit_test(test_uncommon_hour_own_habit_silent),
		cmocka_unit_test(test_uncommon_hour_needs_peer_evidence),
		cmocka_unit_test(test_subtle_actor_gets_some),
		cmocka_unit_test(test_state_sizes),
		cmocka_unit_test(test_rare_hour_local_label),
		cmocka_unit_test(test_rare_hour_session_ends_are_not_activity),
		cmocka_unit_test(test_rare_hour_byte_buckets_saturate_safely),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
