/* The risk model around the detectors (engine.c, config.c, score/model.c, docs/model.md):
 * the model file, per-rule weights and caps, the diminishing-returns accumulation of a
 * user's risk and the one-line message. The rules used are the failure bursts
 * (auth.failure_burst.user: 30 points at 5 failures of one account in 10 min) and the
 * laptop farm (network.shared_source_ip), because they need no baseline and no context.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_support.h"
#include <json.h>

#include "mmriskscore/engine.h"
#include "engine_internal.h" /* the user record's rule slots */

#define T0 ((int64_t)1795392000) /* Monday 2026-11-23 00:00 UTC */
#define BURST "auth.failure_burst.user"

static char model_path[64];

static void write_model(const char *text)
{
	snprintf(model_path, sizeof(model_path), "/tmp/mmr-model-XXXXXX");
	int fd = mkstemp(model_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static mmr_result event(mmr_engine *e, const char *user, mmr_outcome o, const char *ip,
			int64_t t)
{
	mmr_event ev;
	mmr_event_init(&ev);
	snprintf(ev.user, sizeof(ev.user), "%s", user);
	ev.action = o == MMR_OUTCOME_FAILURE ? MMR_ACTION_AUTH : MMR_ACTION_VPN_START;
	ev.outcome = o;
	assert_int_equal(mmr_ip_parse(ip, &ev.src_ip), 0);
	ev.time = t;
	mmr_result r;
	assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	return r;
}

static int points_of(const mmr_result *r, const char *rule)
{
	for (int i = 0; i < r->n_reasons; i++)
		if (strcmp(r->reasons[i].rule, rule) == 0)
			return r->reasons[i].points;
	return -1;
}

/* Five failures of one account: the fifth fires the burst rule. Returns that result. */
static mmr_result burst(mmr_engine *e, const char *user, int64_t t)
{
	mmr_result r;
	for (int i = 0; i < 5; i++)
		r = event(e, user, MMR_OUTCOME_FAILURE, "198.18.7.7", t + i * 10);
	return r;
}

static void test_model_file_sets_config_and_rules(void **state)
{
	fixture *f = *state;
	write_model("# a model\n"
		    "userscore.halflife = 36h   # trailing comment\n"
		    "farm.window=2d\n"
		    "newhire.factor = 2\n"
		    "\n"
		    "rule.auth.failure_burst.user.weight = 0.5\n"
		    "rule.auth.failure_burst.user.cap = 12\n");
	char err[512];
	assert_int_equal(mmr_config_load_model(&f->cfg, model_path, err, sizeof(err)), 0);
	unlink(model_path);
	assert_int_equal(f->cfg.user_score_halflife, 36 * 3600);
	assert_int_equal(f->cfg.farm_window, 2 * 86400);
	assert_true(f->cfg.newhire_factor == 2.0);
	mmr_engine *e = start(f);
	double w, cap;
	assert_int_equal(mmr_engine_rule_model(e, BURST, &w, &cap, NULL), 0);
	assert_true(w == 0.5 && cap == 12);
	assert_int_equal(mmr_engine_rule_model(e, "network.shared_source_ip", &w, &cap, NULL), 0);
	assert_true(w == 1.0 && cap == 40); /* defaults of score/model.c: weak */
	assert_int_equal(mmr_engine_rule_model(e, "geo.watch_country", &w, &cap, NULL), 0);
	assert_true(w == 1.0 && cap == 150); /* strong */
	assert_int_equal(mmr_engine_rule_model(e, "no.such.rule", &w, &cap, NULL), -1);

	mmr_result r = burst(e, "alice", T0);
	assert_int_equal(points_of(&r, BURST), 15); /* 30 x 0.5 */
	/* the rule's share of the user's risk is held at its cap of 12 points:
	 * 100 (1 - exp(-12/60)) = 18 */
	assert_int_equal(r.user_score, 18);
	r = burst(e, "alice", T0 + 2 * 3600); /* after the cooldown: would add, but capped */
	assert_int_equal(r.user_score, 18);
}

static void expect_model_error(fixture *f, const char *text, const char *needle, bool at_load)
{
	write_model(text);
	char err[512] = "";
	mmr_config cfg;
	mmr_config_init(&cfg);
	int rc = mmr_config_load_model(&cfg, model_path, err, sizeof(err));
	if (at_load) {
		assert_int_equal(rc, -1);
	} else {
		assert_int_equal(rc, 0);
		mmr_engine *e = mmr_engine_new(&cfg, err, sizeof(err));
		assert_null(e);
	}
	unlink(model_path);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
	if (strstr(err, model_path) == NULL)
		fail_msg("error \"%s\" does not name the file", err);
	mmr_config_clear(&cfg);
	(void)f;
}

static void test_model_file_errors_name_file_and_line(void **state)
{
	fixture *f = *state;
	expect_model_error(f, "farm.window = 1d\nthis is not a setting\n", ":2:", true);
	expect_model_error(f, "userscore.halflife = soon\n", "userscore.halflife", true);
	expect_model_error(f, "learning.minevents = 2h\n", "learning.minevents", true);
	expect_model_error(f, "learning.minevents = -3\n", "learning.minevents", true);
	expect_model_error(f, "\n\nrule.auth.failure_burst.user.weight = lots\n", ":3:", true);
	/* checked when the engine is created, against the registered detectors */
	expect_model_error(f, "rule.no.such.rule.weight = 1\n", "no.such.rule", false);
	expect_model_error(f, "rule.auth.failure_burst.user.colour = 1\n", "unknown key", false);
	expect_model_error(f, "rule.auth.failure_burst.user.weight = 11\n", "0-10", false);
	expect_model_error(f, "rule.auth.failure_burst.user.cap = 5000\n", "cap", false);
	expect_model_error(f, "no.such.param = 1\n", "unknown key \"no.such.param\"", false);

	char err[256];
	mmr_config cfg;
	mmr_config_init(&cfg);
	assert_int_equal(mmr_config_load_model(&cfg, "/nonexistent/model.conf", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/nonexistent/model.conf"));
	mmr_config_clear(&cfg);
}

static void test_model_settings_are_validated(void **state)
{
	(void)state;
	mmr_config cfg;
	char err[256];
	mmr_config_init(&cfg);
	assert_int_equal(mmr_config_set(&cfg, "farm.minusers", "9", err, sizeof(err)), 0);
	assert_null(mmr_engine_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "farm.minusers"));
	mmr_config_init(&cfg);
	assert_int_equal(mmr_config_set(&cfg, "newhire.factor", "11", err, sizeof(err)), 0);
	assert_null(mmr_engine_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "newhire.factor"));
	assert_int_equal(mmr_config_set(&cfg, "rule.x.cap", "1", err, sizeof(err)), 1);
	assert_int_equal(mmr_config_set(&cfg, "farm.window", "3w", err, sizeof(err)), -1);
}

static void test_weight_off_drops_rule(void **state)
{
	fixture *f = *state;
	write_model("rule.auth.failure_burst.user.weight = off\n");
	char err[256];
	assert_int_equal(mmr_config_load_model(&f->cfg, model_path, err, sizeof(err)), 0);
	unlink(model_path);
	mmr_engine *e = start(f);
	mmr_result r = burst(e, "bob", T0);
	assert_int_equal(points_of(&r, BURST), -1);
	assert_int_equal(r.user_score, 0);
}

/* Without overrides: a weak rule's default cap (40) bounds what repeated bursts add up to,
 * and the weak rules together share the weak pool (50): two weak rules that each reach
 * their cap still make at most 100 (1 - exp(-50/60)) = 57, moderate. */
static void test_default_cap_and_weak_pool(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	double w, cap;
	bool weak;
	assert_int_equal(mmr_engine_rule_model(e, BURST, &w, &cap, &weak), 0);
	assert_true(weak && cap == 40);
	assert_true(mmr_engine_weak_cap(e) == 50);
	mmr_result r;
	for (int k = 0; k < 12; k++) /* twelve bursts, two hours apart: 12 x 30 uncapped */
		r = burst(e, "carol", T0 + k * 2 * 3600);
	int capped = (int)lround(100.0 * (1.0 - exp(-40.0 / 60.0)));
	assert_in_range(r.user_score, capped - 10, capped); /* decay keeps it at or under */

	/* the same with twelve failures each time: the per-IP burst fires too */
	for (int k = 0; k < 12; k++)
		for (int i = 0; i < 12; i++)
			r = event(e, "dora", MMR_OUTCOME_FAILURE, "198.18.9.9",
				  T0 + k * 2 * 3600 + i * 10);
	assert_true(points_of(&r, BURST) > 0 && points_of(&r, "auth.failure_burst.source_ip") > 0);
	int pool = (int)lround(100.0 * (1.0 - exp(-50.0 / 60.0)));
	assert_in_range(r.user_score, capped + 1, pool);
	assert_true(r.user_score < 70); /* weak evidence alone never reaches high */

	/* a weak.cap in the model file moves the pool */
	mmr_config cfg;
	char err[256];
	mmr_config_init(&cfg);
	write_model("weak.cap = 45\nrule.auth.failure_burst.source_ip.weak = 0\n");
	assert_int_equal(mmr_config_load_model(&cfg, model_path, err, sizeof(err)), 0);
	unlink(model_path);
	mmr_engine *e2 = mmr_engine_new(&cfg, err, sizeof(err));
	assert_non_null(e2);
	assert_true(mmr_engine_weak_cap(e2) == 45);
	assert_int_equal(mmr_engine_rule_model(e2, "auth.failure_burst.source_ip", &w, &cap, &weak), 0);
	assert_false(weak);
	mmr_engine_free(e2);
	mmr_config_clear(&cfg);
}

static void test_message_names_user_level_and_top_reasons(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	mmr_result r = burst(e, "dave", T0);
	char msg[600];
	mmr_result_message(&r, msg, sizeof(msg));
	assert_non_null(strstr(msg, "dave risk "));
	assert_non_null(strstr(msg, mmr_level_name(r.user_score)));
	assert_non_null(strstr(msg, r.reasons[0].detail));
	struct json_object *j = mmr_result_to_json(&r), *m;
	assert_true(json_object_object_get_ex(j, "message", &m));
	assert_string_equal(json_object_get_string(m), msg);
	json_object_put(j);
	/* a quiet event: just the user's standing */
	r = event(e, "erin", MMR_OUTCOME_SUCCESS, "10.0.0.1", T0);
	mmr_result_message(&r, msg, sizeof(msg));
	assert_string_equal(msg, "erin risk 0 (unknown)");
}

static void test_rules_listed_and_user_bytes(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	size_t n;
	const char *const *rules = mmr_engine_rules(e, &n);
	assert_true(n >= 5 && n <= MMR_MAX_RULES);
	bool farm = false;
	for (size_t i = 0; i < n; i++) {
		assert_non_null(rules[i]);
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(rules[i], rules[j]) == 0)
				fail_msg("rule %s registered twice", rules[i]);
		farm |= strcmp(rules[i], "network.shared_source_ip") == 0;
	}
	assert_true(farm);
	size_t b = mmr_engine_user_bytes(e);
	assert_true(b > 300 && b < 8192);
}

/* time.maxfuture (docs/threat-model.md): a burst claiming a time 1,000 days ahead is scored
 * as "now", so it cannot push the user's clock into the future; an event three days later
 * then decays the risk by one half-life, as it would have without the forged time. */
static void test_future_times_are_clamped(void **state)
{
	fixture *f = *state;
	f->cfg.max_future = 100 * 86400;
	mmr_engine *e = start(f);
	int64_t now = (int64_t)time(NULL);
	mmr_result r = burst(e, "mallory", now + 1000 * 86400LL);
	assert_int_equal(points_of(&r, BURST), 30);
	int before = r.user_score;
	assert_true(before > 0);
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_int_equal(st.time_clamped, 5);
	r = event(e, "mallory", MMR_OUTCOME_SUCCESS, "10.1.1.1", now + 72 * 3600);
	assert_int_equal(r.user_score, (int)lround(100.0 * (1.0 - exp(-15.0 / 60.0)))); /* 30/2 */
	assert_true(r.user_score < before);
	mmr_engine_stats(e, &st);
	assert_int_equal(st.time_clamped, 5); /* 3 days ahead is within the 100 allowed */

	/* off (the engine's default): the forged time is taken as it is */
	mmr_config cfg;
	char err[256];
	mmr_config_init(&cfg);
	assert_int_equal(cfg.max_future, 0);
	mmr_engine *e2 = mmr_engine_new(&cfg, err, sizeof(err));
	r = burst(e2, "mallory", now + 1000 * 86400LL);
	r = event(e2, "mallory", MMR_OUTCOME_SUCCESS, "10.1.1.1", now + 72 * 3600);
	assert_int_equal(r.user_score, before); /* "late" event: no decay at all */
	mmr_engine_free(e2);
	assert_int_equal(mmr_config_set(&cfg, "time.maxfuture", "1d", err, sizeof(err)), 0);
	assert_int_equal(cfg.max_future, 86400);
	mmr_config_clear(&cfg);
}

/* The user record holds RULE_SLOTS rules (engine_internal.h). When all are taken, a new rule
 * takes a slot that no longer matters (no risk, cooldown over) without a count, else the one
 * with the least risk, counted in rule_slots_evicted; this event's own slots are never taken. */
static void test_rule_slots_when_full(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	user_core u;
	memset(&u, 0, sizeof(u));
	const int64_t t = T0;
	for (int k = 0; k < RULE_SLOTS; k++) {
		int j = mmr_core_claim(e, &u, k, t, 0);
		assert_in_range(j, 0, RULE_SLOTS - 1);
		assert_int_equal(mmr_core_claim(e, &u, k, t, 0), j); /* its own slot again */
		u.rule_last[j] = (uint32_t)t;
		u.rule_risk[j] = (uint16_t)(100 + 10 * k);
	}
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_int_equal(st.rule_slots_evicted, 0);
	/* full, all with risk: rule 0 holds the least and gives way */
	int j0 = mmr_core_slot(&u, 0);
	int j = mmr_core_claim(e, &u, 20, t, 0);
	assert_int_equal(j, j0);
	assert_int_equal(mmr_core_slot(&u, 0), -1);
	assert_int_equal(mmr_core_slot(&u, 20), j);
	assert_int_equal(u.rule_last[j], 0);
	assert_int_equal(u.rule_risk[j], 0);
	mmr_engine_stats(e, &st);
	assert_int_equal(st.rule_slots_evicted, 1);
	u.rule_last[j] = (uint32_t)t;
	u.rule_risk[j] = 1;
	/* an inert slot goes first, even before a smaller risk, and is not counted */
	int j5 = mmr_core_slot(&u, 5);
	u.rule_risk[j5] = 0;
	u.rule_last[j5] = (uint32_t)(t - 2 * f->cfg.rule_cooldown);
	assert_int_equal(mmr_core_claim(e, &u, 21, t, 0), j5);
	mmr_engine_stats(e, &st);
	assert_int_equal(st.rule_slots_evicted, 1);
	/* no risk but still cooling down is not inert: forgetting it would let the rule feed
	 * again within its cooldown; it still holds the least risk, so it goes, counted */
	u.rule_last[j5] = (uint32_t)(t - 60);
	assert_int_equal(mmr_core_claim(e, &u, 22, t, 0), j5);
	mmr_engine_stats(e, &st);
	assert_int_equal(st.rule_slots_evicted, 2);
	/* slots this event claimed are kept: the least risk outside them goes, or none */
	u.rule_risk[j5] = 0;
	u.rule_last[j5] = (uint32_t)t;
	uint32_t all = (1u << RULE_SLOTS) - 1;
	assert_int_equal(mmr_core_claim(e, &u, 30, t, all), -1);
	assert_int_equal(mmr_core_slot(&u, 30), -1);
	int j3 = mmr_core_slot(&u, 3);
	assert_int_equal(mmr_core_claim(e, &u, 30, t, all & ~(1u << j3)), j3);
	assert_true(sizeof(user_core) <= 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_file_sets_config_and_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_slots_when_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_file_errors_name_file_and_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_model_settings_are_validated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weight_off_drops_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_cap_and_weak_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_names_user_level_and_top_reasons, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rules_listed_and_user_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_times_are_clamped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
