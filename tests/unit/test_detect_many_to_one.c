/* The many-to-one detectors, driven directly through the detector interface
 * (detector_harness.h) with hand-built enrichment:
 *
 *   shared_source_ip  farm_min_users (3) accounts on one external IP within farm_window (24 h):
 *                     network.laptop_farm 50, +10 per further account, at most 80, when >= 2
 *                     of them are roster new hires, new hires are >= half of the accounts seen
 *                     there within 7 days, and >= 2/3 are in distinct peer groups; 40-70 when
 *                     the newness is the engine's own account age (no roster tenure, tenant
 *                     observed >= 14 days); else network.shared_source_ip 25. At most one of
 *                     the two per event.
 *   shared_device     device.shared_across_accounts: 45 at 3 accounts on one device within
 *                     7 days, +10 per further one, at most 75
 *
 * Expectations come from the header comments of the two sources.
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

extern const mmr_detector mmr_detector_shared_source_ip;
extern const mmr_detector mmr_detector_shared_device;

#define SHARED "network.shared_source_ip"
#define FARM "network.laptop_farm"
#define DEVICE "device.shared_across_accounts"

#define MIN 60
#define HOUR 3600
#define DAY 86400
/* Monday 2026-11-23 00:00:00 UTC */
#define T0 ((int64_t)1795392000)

/* Roster facts of an account as enrichment would give them. */
typedef struct {
	const char *user;
	uint32_t group; /* 0 = not in the roster */
	bool new_hire;
} person;

static int ok_from(dh *h, const person *p, const char *ip, int64_t t)
{
	dh_event(h, p->user, MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, ip, t);
	h->x.group = p->group;
	h->x.new_hire = p->new_hire;
	h->x.tenure_days = p->new_hire ? 10 : p->group ? 700 : -1;
	return dh_step(h);
}

static int ok_device(dh *h, const char *user, const char *device, int64_t t)
{
	dh_event(h, user, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "198.18.20.5", t);
	snprintf(h->ev.device, sizeof(h->ev.device), "%s", device);
	return dh_step(h);
}

/* ---- shared source IP -------------------------------------------------------------------- */

/* Fires LAPTOP_FARM with points, and not SHARED: one rule per event. */
static void expect_farm(const dh *h, int points)
{
	dh_expect_points(h, FARM, points);
	assert_int_equal(dh_points(h, SHARED), -1);
}

/* Fires SHARED with points, and not LAPTOP_FARM. */
static void expect_shared(const dh *h, int points)
{
	dh_expect_points(h, SHARED, points);
	assert_int_equal(dh_points(h, FARM), -1);
}

static void test_farm_of_new_hires_in_unrelated_teams(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	static const person farm[] = {
		{"sales-1", 101, true}, {"data-2", 202, true}, {"support-3", 303, true},
		{"backend-4", 404, true}, {"qa-5", 505, true},
	};
	const char *ip = "198.51.100.7";
	ok_from(&h, &farm[0], ip, T0 + 13 * HOUR);
	ok_from(&h, &farm[1], ip, T0 + 14 * HOUR);
	assert_int_equal(h.out.n, 0);
	/* 3 new hires in 3 teams: farm.points */
	ok_from(&h, &farm[2], ip, T0 + 15 * HOUR);
	expect_farm(&h, 50);
	dh_expect_detail(&h, FARM, "3 distinct accounts active from 198.51.100.7 within 24 h");
	dh_expect_detail(&h, FARM, "sales-1, data-2");
	dh_expect_detail(&h, FARM, "3 peer groups, 3 hired < 90 days");
	dh_expect_detail(&h, FARM, "not a corporate network");
	assert_true(strlen(dh_detail(&h, FARM)) < 200);
	ok_from(&h, &farm[3], ip, T0 + 16 * HOUR);
	expect_farm(&h, 60);
	ok_from(&h, &farm[4], ip, T0 + 17 * HOUR);
	expect_farm(&h, 70);
	dh_expect_detail(&h, FARM, "5 distinct accounts");
	/* the earlier members fire as well when they come back */
	ok_from(&h, &farm[0], ip, T0 + 18 * HOUR);
	expect_farm(&h, 70);

	/* the points are params */
	h.param[dh_param_index(h.d, "farm.points")] = 60;
	ok_from(&h, &farm[1], ip, T0 + 19 * HOUR);
	expect_farm(&h, 60 + 20);
	h.param[dh_param_index(h.d, "farm.step_points")] = 0;
	ok_from(&h, &farm[1], ip, T0 + 19 * HOUR + MIN);
	expect_farm(&h, 60);
	/* and so is the number of new hires it takes */
	h.param[dh_param_index(h.d, "farm.new_hire_min")] = 6;
	ok_from(&h, &farm[1], ip, T0 + 19 * HOUR + 2 * MIN);
	expect_shared(&h, 25);
	dh_free(&h);
}

static void test_coworking_space_is_shared_ip_only(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	/* a coworking space in Austin used every weekday for three weeks by 6 established
	 * employees from 6 unrelated teams: the weak rule on every event, never the farm */
	static const person cowork[] = {
		{"amy", 11, false}, {"ben", 22, false}, {"cat", 33, false},
		{"dan", 44, false}, {"eli", 55, false}, {"fay", 66, false},
	};
	const char *ip = "198.18.30.9";
	int fired = 0;
	for (int d = 0; d < 21; d++)
		for (int i = 0; i < 6; i++) {
			ok_from(&h, &cowork[i], ip, T0 + d * DAY + 9 * HOUR + i * 10 * MIN);
			assert_int_equal(dh_points(&h, FARM), -1);
			if (d > 0 || i >= 2) {
				expect_shared(&h, 25);
				fired++;
			}
		}
	assert_int_equal(fired, 21 * 6 - 2);
	dh_expect_detail(&h, SHARED, "6 distinct accounts active from 198.18.30.9");
	dh_expect_detail(&h, SHARED, "6 peer groups, 0 hired < 90 days");
	/* two recent hires join: 2 new of 8 is below farm.new_hire_share (1/2) */
	static const person hires[] = {{"gus", 77, true}, {"hal", 88, true}};
	ok_from(&h, &hires[0], ip, T0 + 20 * DAY + 11 * HOUR);
	ok_from(&h, &hires[1], ip, T0 + 20 * DAY + 11 * HOUR + MIN);
	expect_shared(&h, 25);
	dh_expect_detail(&h, SHARED, "8 distinct accounts");
	dh_expect_detail(&h, SHARED, "8 peer groups, 2 hired < 90 days");
	h.param[dh_param_index(h.d, "farm.new_hire_share")] = 0.25;
	ok_from(&h, &hires[1], ip, T0 + 20 * DAY + 11 * HOUR + 2 * MIN);
	expect_farm(&h, 80);
	h.param[dh_param_index(h.d, "farm.new_hire_share")] = 0.5;
	/* a quiet day a week later: the two recent hires and one colleague are all who come in.
	 * 2 of 3 within 24 h, but 2 of the 8 accounts seen there within the week
	 * (farm.population_window): the space's established members count */
	const int64_t quiet = T0 + 25 * DAY + 9 * HOUR;
	ok_from(&h, &cowork[5], ip, quiet - 4 * DAY); /* the others came in earlier that week */
	for (int i = 0; i < 5; i++)
		ok_from(&h, &cowork[i], ip, quiet - 3 * DAY + i * MIN);
	ok_from(&h, &hires[0], ip, quiet);
	ok_from(&h, &cowork[0], ip, quiet + 10 * MIN);
	ok_from(&h, &hires[1], ip, quiet + 20 * MIN);
	expect_shared(&h, 25);
	dh_expect_detail(&h, SHARED, "3 distinct accounts");
	dh_expect_detail(&h, SHARED, "3 peer groups, 2 hired < 90 days");
	/* with a population of one day the same day looks like a farm */
	h.param[dh_param_index(h.d, "farm.population_window")] = DAY;
	ok_from(&h, &hires[1], ip, quiet + 30 * MIN);
	expect_farm(&h, 50);
	h.param[dh_param_index(h.d, "farm.population_window")] = 7 * DAY;
	/* the weak rule's points are a param */
	h.param[dh_param_index(h.d, "shared_ip.points")] = 15;
	ok_from(&h, &cowork[0], ip, quiet + HOUR);
	expect_shared(&h, 15);
	dh_free(&h);
}

static void test_new_hires_of_one_team_are_not_a_farm(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	/* an onboarding day at a rented venue: three new hires of one team. A farm places its
	 * "employees" in unrelated teams; this stays the weak rule */
	static const person team[] = {{"ivy", 55, true}, {"jay", 55, true}, {"kai", 55, true}};
	for (int i = 0; i < 3; i++)
		ok_from(&h, &team[i], "198.18.31.9", T0 + 10 * HOUR + i * MIN);
	expect_shared(&h, 25);
	dh_expect_detail(&h, SHARED, "1 peer group, 3 hired < 90 days");

	/* two of three in one team: 2 groups for 3 accounts is still >= 2/3 distinct */
	static const person mixed[] = {{"lea", 66, true}, {"max", 66, true}, {"ned", 77, true}};
	for (int i = 0; i < 3; i++)
		ok_from(&h, &mixed[i], "198.18.32.9", T0 + 10 * HOUR + i * MIN);
	expect_farm(&h, 50);
	/* a fourth in one of the two teams: 2 groups for 4 accounts is not (2 < 8/3) */
	static const person oli = {"oli", 77, true};
	ok_from(&h, &oli, "198.18.32.9", T0 + 10 * HOUR + 5 * MIN);
	expect_shared(&h, 25);
	dh_expect_detail(&h, SHARED, "2 peer groups, 4 hired");

	/* an account the roster does not place in a group is not "distinct" */
	static const person loose[] = {{"pia", 101, true}, {"quin", 0, true}, {"rob", 0, true}};
	for (int i = 0; i < 3; i++)
		ok_from(&h, &loose[i], "198.18.33.9", T0 + 10 * HOUR + i * MIN);
	expect_shared(&h, 25);
	dh_free(&h);
}

static void test_household_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	/* two employees behind one home line, all day, every day, one of them a new hire */
	static const person home[] = {{"pat", 11, false}, {"sam", 22, true}};
	for (int d = 0; d < 10; d++)
		for (int i = 0; i < 2; i++) {
			ok_from(&h, &home[i], "198.18.40.2", T0 + d * DAY + 9 * HOUR + i * MIN);
			assert_int_equal(h.out.n, 0);
		}
	/* one of them also has an admin account: one person, counted once */
	static const person admin = {"pat-admin", 0, false}, adm2 = {"adm_pat", 0, false};
	ok_from(&h, &admin, "198.18.40.2", T0 + 10 * DAY);
	assert_int_equal(h.out.n, 0);
	ok_from(&h, &adm2, "198.18.40.2", T0 + 10 * DAY + MIN);
	assert_int_equal(h.out.n, 0);
	ok_from(&h, &home[1], "198.18.40.2", T0 + 10 * DAY + 2 * MIN);
	assert_int_equal(h.out.n, 0);
	/* a name inside another name is not a word of it: "ann" is neither "joann" nor "anne" */
	static const person ann = {"ann", 0, false}, joann = {"joann", 0, false};
	static const person anne = {"anne", 0, false};
	ok_from(&h, &ann, "198.18.41.2", T0);
	ok_from(&h, &joann, "198.18.41.2", T0 + MIN);
	ok_from(&h, &anne, "198.18.41.2", T0 + 2 * MIN);
	expect_shared(&h, 25);
	dh_free(&h);
}

/* An event of an account the roster does not know, on a corporate address: it only tells the
 * detector that the tenant is being observed. */
static void tenant_event(dh *h, const char *user, int64_t t)
{
	dh_event(h, user, MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, "10.20.30.40", t);
	dh_step(h);
	assert_int_equal(h->out.n, 0);
}

static void test_farm_without_roster(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	static const person staff[] = {{"st1", 0, false}, {"st2", 0, false}, {"st3", 0, false}};
	static const person fresh[] = {{"nw1", 0, false}, {"nw2", 0, false}, {"nw3", 0, false},
				       {"nw4", 0, false}};
	/* engine start: every account is new to the engine, so none counts as new: three
	 * accounts first seen on day 2 at one address are only the weak rule */
	for (int i = 0; i < 3; i++)
		tenant_event(&h, staff[i].user, T0 + i);
	static const person early[] = {{"ea1", 0, false}, {"ea2", 0, false}, {"ea3", 0, false}};
	for (int i = 0; i < 3; i++)
		ok_from(&h, &early[i], "198.18.34.1", T0 + 2 * DAY + i * MIN);
	expect_shared(&h, 25);
	/* 20 days later: the established staff meet at one address, still the weak rule */
	for (int i = 0; i < 3; i++)
		ok_from(&h, &staff[i], "198.18.34.2", T0 + 20 * DAY + i * MIN);
	expect_shared(&h, 25);
	/* accounts the engine first sees after two weeks of observation: the fallback, weaker
	 * than the roster's evidence */
	for (int i = 0; i < 3; i++)
		ok_from(&h, &fresh[i], "198.18.34.3", T0 + 20 * DAY + i * MIN);
	expect_farm(&h, 40);
	dh_expect_detail(&h, FARM, "3 new to the engine (< 30 days)");
	assert_null(strstr(dh_detail(&h, FARM), "peer group"));
	ok_from(&h, &fresh[3], "198.18.34.3", T0 + 20 * DAY + 5 * MIN);
	expect_farm(&h, 50);
	/* two of them and two established accounts: 2 new of 4 is half, enough */
	ok_from(&h, &fresh[0], "198.18.34.4", T0 + 21 * DAY);
	ok_from(&h, &fresh[1], "198.18.34.4", T0 + 21 * DAY + MIN);
	ok_from(&h, &staff[0], "198.18.34.4", T0 + 21 * DAY + 2 * MIN);
	expect_farm(&h, 40);
	ok_from(&h, &staff[1], "198.18.34.4", T0 + 21 * DAY + 3 * MIN);
	expect_farm(&h, 50);
	/* one new among established ones is not */
	ok_from(&h, &fresh[2], "198.18.34.5", T0 + 21 * DAY);
	ok_from(&h, &staff[1], "198.18.34.5", T0 + 21 * DAY + MIN);
	ok_from(&h, &staff[2], "198.18.34.5", T0 + 21 * DAY + 2 * MIN);
	expect_shared(&h, 25);
	/* 31 days after their first sight the engine no longer counts them as new */
	for (int i = 0; i < 3; i++)
		ok_from(&h, &fresh[i], "198.18.34.3", T0 + 51 * DAY + i * MIN);
	expect_shared(&h, 25);
	h.param[dh_param_index(h.d, "farm.young_days")] = 60;
	for (int i = 0; i < 3; i++)
		ok_from(&h, &fresh[i], "198.18.34.3", T0 + 51 * DAY + (10 + i) * MIN);
	expect_farm(&h, 40);
	/* the fallback points are a param */
	h.param[dh_param_index(h.d, "farm.fallback_points")] = 30;
	ok_from(&h, &fresh[0], "198.18.34.3", T0 + 51 * DAY + 20 * MIN);
	expect_farm(&h, 30);

	/* accounts the roster knows are judged by the roster, never by the engine's age: new
	 * to the engine, established in HR */
	static const person known[] = {{"kn1", 1, false}, {"kn2", 2, false}, {"kn3", 3, false}};
	for (int i = 0; i < 3; i++)
		ok_from(&h, &known[i], "198.18.34.6", T0 + 22 * DAY + i * MIN);
	expect_shared(&h, 25);
	dh_free(&h);
}

static void test_fallback_needs_an_observed_tenant(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	/* a misdated event a year before the first: it does not count as a year of observation */
	tenant_event(&h, "early", T0);
	tenant_event(&h, "forged", T0 - 365 * DAY);
	static const person a[] = {{"fa1", 0, false}, {"fa2", 0, false}, {"fa3", 0, false}};
	for (int i = 0; i < 3; i++)
		ok_from(&h, &a[i], "198.18.35.1", T0 + 5 * DAY + i * MIN);
	expect_shared(&h, 25);
	/* an event a few hours before the first does move "observed since" back */
	tenant_event(&h, "late", T0 - 6 * HOUR);
	static const person b[] = {{"fb1", 0, false}, {"fb2", 0, false}, {"fb3", 0, false}};
	for (int i = 0; i < 3; i++)
		ok_from(&h, &b[i], "198.18.35.2", T0 + 14 * DAY - 3 * HOUR + i * MIN);
	expect_farm(&h, 40);
	/* farm.tenant_days is a param: with 30 the same accounts are not new */
	h.param[dh_param_index(h.d, "farm.tenant_days")] = 30;
	for (int i = 0; i < 3; i++)
		ok_from(&h, &b[i], "198.18.35.2", T0 + 14 * DAY + i * MIN);
	expect_shared(&h, 25);
	/* failures do not mark the tenant as observed */
	dh_free(&h);
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	dh_event(&h, "spray", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "10.1.1.1", T0);
	dh_step(&h);
	tenant_event(&h, "first", T0 + 10 * DAY);
	for (int i = 0; i < 3; i++)
		ok_from(&h, &a[i], "198.18.35.3", T0 + 20 * DAY + i * MIN);
	expect_shared(&h, 25);
	dh_free(&h);
}

static void test_consumer_vpn_exit_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	/* a privacy VPN's exit: many unrelated customers, colleagues included */
	char user[16];
	for (int kind = 0; kind < 3; kind++)
		for (int i = 0; i < 6; i++) {
			snprintf(user, sizeof(user), "cv%d_%d", kind, i);
			dh_event(&h, user, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "198.18.50.11",
				 T0 + kind * HOUR + i * MIN);
			h.x.group = 100 + (uint32_t)i;
			h.x.new_hire = true;
			h.x.commercial_vpn = kind == 0;
			h.x.proxy = kind == 1;
			h.x.hosting = kind == 2;
			dh_step(&h);
			assert_int_equal(h.out.n, 0);
		}
	/* they were not learnt either: the first plain event on the address is alone */
	static const person p = {"plain", 1, false};
	ok_from(&h, &p, "198.18.50.11", T0 + 4 * HOUR);
	assert_int_equal(h.out.n, 0);
	dh_free(&h);
}

static void test_mobile_carrier_pool_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	/* new hires' phones behind a carrier's CGNAT address, as enrichment sees them: by user
	 * agent, by Okta's device class, by the carrier's name when the log has neither, and a
	 * laptop tethered to a phone (desktop user agent, carrier address) */
	char user[16];
	for (int kind = 0; kind < 4; kind++)
		for (int i = 0; i < 5; i++) {
			snprintf(user, sizeof(user), "ph%d_%d", kind, i);
			dh_event(&h, user, MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, "198.18.87.30",
				 T0 + kind * HOUR + i * MIN);
			h.x.group = 100 + (uint32_t)i;
			h.x.new_hire = true;
			if (kind == 0)
				snprintf(h.ev.user_agent, sizeof(h.ev.user_agent),
					 "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X)");
			else if (kind == 1)
				snprintf(h.ev.device, sizeof(h.ev.device), "Mobile");
			if (kind >= 2)
				snprintf(h.x.as_org, sizeof(h.x.as_org), "Horizon Wireless");
			if (kind == 3)
				snprintf(h.ev.user_agent, sizeof(h.ev.user_agent),
					 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/129.0");
			dh_enrich_client(&h);
			assert_true(h.x.mobile || h.x.mobile_carrier);
			dh_step(&h);
			assert_int_equal(h.out.n, 0);
		}
	/* the same on a residential line is a farm */
	for (int i = 0; i < 3; i++) {
		snprintf(user, sizeof(user), "lt%d", i);
		dh_event(&h, user, MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, "198.18.88.30",
			 T0 + i * MIN);
		snprintf(h.ev.user_agent, sizeof(h.ev.user_agent),
			 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/129.0");
		snprintf(h.x.as_org, sizeof(h.x.as_org), "Riverstone Cable Communications");
		h.x.group = 200 + (uint32_t)i;
		h.x.new_hire = true;
		dh_enrich_client(&h);
		dh_step(&h);
	}
	expect_farm(&h, 50);
	dh_free(&h);
}

static void test_shared_ip_window_and_slots(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	static const person a = {"wa", 1, true}, b = {"wb", 2, true}, c = {"wc", 3, true};
	ok_from(&h, &a, "198.18.60.1", T0);
	ok_from(&h, &b, "198.18.60.1", T0 + 2 * HOUR);
	/* 25 h after the first: wa has left the window */
	ok_from(&h, &c, "198.18.60.1", T0 + 25 * HOUR);
	assert_int_equal(h.out.n, 0);
	ok_from(&h, &a, "198.18.60.1", T0 + 25 * HOUR + MIN);
	expect_farm(&h, 50);

	/* twelve new hires from twelve teams: 8 slots, 9 accounts with this one, at most three
	 * steps above farm.points */
	char name[16];
	for (int i = 0; i < 12; i++) {
		person p = {name, 100 + (uint32_t)i, true};
		snprintf(name, sizeof(name), "nh%02d", i);
		ok_from(&h, &p, "198.18.61.1", T0 + i * MIN);
	}
	expect_farm(&h, 80);
	dh_expect_detail(&h, FARM, "9 distinct accounts");
	assert_true(strlen(dh_detail(&h, FARM)) < 200);

	/* failures neither fire nor teach */
	dh_event(&h, "fz", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "198.18.60.1",
		 T0 + 25 * HOUR + 2 * MIN);
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	static const person d = {"wd", 4, false};
	ok_from(&h, &d, "198.18.62.1", T0 + 26 * HOUR);
	ok_from(&h, &a, "198.18.62.1", T0 + 26 * HOUR + MIN);
	dh_event(&h, "fy", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "198.18.62.1", T0 + 26 * HOUR + 2 * MIN);
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	ok_from(&h, &d, "198.18.62.1", T0 + 26 * HOUR + 3 * MIN);
	assert_int_equal(h.out.n, 0); /* fy was not learnt: still 2 accounts */
	dh_free(&h);
}

static void test_shared_ip_without_enrichment(void **state)
{
	(void)state;
	/* the engine before enrichment is wired in: ctx->x NULL, the weak rule */
	dh h;
	dh_init(&h, &mmr_detector_shared_source_ip, NULL);
	for (int i = 0; i < 3; i++) {
		char u[8];
		snprintf(u, sizeof(u), "n%d", i);
		dh_event(&h, u, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "198.18.70.1", T0 + i);
		mmr_detect_ctx c = dh_ctx(&h);
		c.x = NULL;
		c.param = NULL;
		h.out = (mmr_contribs){.v = h.reasons, .cap = MMR_MAX_REASONS};
		h.d->score(&c, &h.out);
		h.d->learn(&c);
	}
	expect_shared(&h, 25);
	dh_free(&h);
}

/* ---- shared device ----------------------------------------------------------------------- */

static void test_device_shared_by_three_accounts(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_device, NULL);
	ok_device(&h, "ann.lee", "NW-LT-10234", T0);
	ok_device(&h, "bo.kim", "NW-LT-10234", T0 + DAY);
	assert_int_equal(h.out.n, 0);
	/* case and blanks do not make another device */
	ok_device(&h, "cy.diaz", "  nw-lt-10234 ", T0 + 3 * DAY);
	dh_expect_points(&h, DEVICE, 45);
	dh_expect_detail(&h, DEVICE, "used by 3 distinct accounts within 7 days");
	dh_expect_detail(&h, DEVICE, "ann.lee, bo.kim");
	ok_device(&h, "di.fox", "NW-LT-10234", T0 + 4 * DAY);
	dh_expect_points(&h, DEVICE, 55);
	/* the same user again is not another account */
	ok_device(&h, "di.fox", "NW-LT-10234", T0 + 4 * DAY + HOUR);
	dh_expect_points(&h, DEVICE, 55);

	/* twelve accounts: 8 slots, at most 75 points */
	char u[16];
	for (int i = 0; i < 12; i++) {
		snprintf(u, sizeof(u), "acct%02d", i);
		ok_device(&h, u, "DESKTOP-4F2K9QX", T0 + i * HOUR);
	}
	dh_expect_points(&h, DEVICE, 75);
	assert_true(strlen(dh_detail(&h, DEVICE)) < 200);

	/* params: two accounts are enough, 60 points */
	h.param[dh_param_index(h.d, "device.min_accounts")] = 2;
	h.param[dh_param_index(h.d, "device.points")] = 60;
	ok_device(&h, "p1", "gp-host-77", T0);
	ok_device(&h, "p2", "gp-host-77", T0 + HOUR);
	dh_expect_points(&h, DEVICE, 60);
	dh_free(&h);
}

static void test_device_generic_names_ignored(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_device, NULL);
	static const char *const generic[] = {"Mobile", "Computer", "unknown", "iPhone",
					      "localhost", "MacBook Pro", "", "-", "n/a"};
	char u[16];
	for (size_t g = 0; g < sizeof(generic) / sizeof(generic[0]); g++)
		for (int i = 0; i < 5; i++) {
			snprintf(u, sizeof(u), "g%zu_%d", g, i);
			ok_device(&h, u, generic[g], T0 + i * MIN);
			assert_int_equal(h.out.n, 0);
		}
	/* a MAC-authenticated device logging in as itself is not a person */
	for (int i = 0; i < 3; i++) {
		snprintf(u, sizeof(u), "m%d", i);
		ok_device(&h, i ? u : "02:00:5e:00:53:01", "02:00:5E:00:53:01", T0 + i);
	}
	assert_int_equal(h.out.n, 0);
	dh_free(&h);
}

static void test_device_window_and_exclusions(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_shared_device, NULL);
	/* a laptop handed over twice, 8 days apart each: never 3 within 7 days */
	ok_device(&h, "old1", "NW-MBP-10001", T0);
	ok_device(&h, "old2", "NW-MBP-10001", T0 + 8 * DAY);
	ok_device(&h, "old3", "NW-MBP-10001", T0 + 16 * DAY);
	assert_int_equal(h.out.n, 0);
	/* with a 30-day window it is */
	h.param[dh_param_index(h.d, "device.window")] = 30 * DAY;
	ok_device(&h, "old3", "NW-MBP-10001", T0 + 16 * DAY + HOUR);
	dh_expect_points(&h, DEVICE, 45);
	dh_expect_detail(&h, DEVICE, "within 30 days");
	h.param[dh_param_index(h.d, "device.window")] = 7 * DAY;

	/* failures and corporate/private sources neither fire nor teach */
	dh_event(&h, "f1", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "198.18.20.5", T0);
	snprintf(h.ev.device, sizeof(h.ev.device), "hotdesk-12");
	dh_step(&h);
	dh_event(&h, "f2", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "10.1.2.3", T0 + 1);
	snprintf(h.ev.device, sizeof(h.ev.device), "hotdesk-12");
	dh_step(&h);
	dh_event(&h, "f3", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "203.0.113.9", T0 + 2);
	snprintf(h.ev.device, sizeof(h.ev.device), "hotdesk-12");
	h.x.external = false; /* a configured corporate network */
	dh_step(&h);
	assert_int_equal(h.out.n, 0);
	ok_device(&h, "f4", "hotdesk-12", T0 + 3);
	ok_device(&h, "f5", "hotdesk-12", T0 + 4);
	assert_int_equal(h.out.n, 0); /* only f4 and f5 were counted */

	/* one person's accounts count once */
	ok_device(&h, "alice", "NW-LT-20000", T0);
	ok_device(&h, "alice-admin", "NW-LT-20000", T0 + 1);
	ok_device(&h, "adm_alice", "NW-LT-20000", T0 + 2);
	ok_device(&h, "bob", "NW-LT-20000", T0 + 3);
	assert_int_equal(h.out.n, 0);
	ok_device(&h, "carol", "NW-LT-20000", T0 + 4);
	dh_expect_points(&h, DEVICE, 45);
	dh_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_farm_of_new_hires_in_unrelated_teams),
		cmocka_unit_test(test_coworking_space_is_shared_ip_only),
		cmocka_unit_test(test_new_hires_of_one_team_are_not_a_farm),
		cmocka_unit_test(test_household_silent),
		cmocka_unit_test(test_farm_without_roster),
		cmocka_unit_test(test_fallback_needs_an_observed_tenant),
		cmocka_unit_test(test_consumer_vpn_exit_silent),
		cmocka_unit_test(test_mobile_carrier_pool_silent),
		cmocka_unit_test(test_shared_ip_window_and_slots),
		cmocka_unit_test(test_shared_ip_without_enrichment),
		cmocka_unit_test(test_device_shared_by_three_accounts),
		cmocka_unit_test(test_device_generic_names_ignored),
		cmocka_unit_test(test_device_window_and_exclusions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
