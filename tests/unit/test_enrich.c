/* Enrichment (engine/enrich/enrich.c) and what the engine does with it: a context built from
 * real files (lists dir, roster CSV, GeoIP databases written by make-test-mmdb.pl) gives the
 * facts detectors read; allowlists zero a contribution but keep it; new hires' points are
 * multiplied; a context swapped while threads score is safe.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_support.h"
#include "context_fixture.h"
#include <json.h>

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"
#include "enrich/enrich.h"

static ctx_fixture fx;

static const char *const lists[][2] = {
	{"corporate-networks.txt", "203.0.113.0/28  # HQ NAT\n"},
	{"hosting.txt", "AS64950 # a VPS provider\n198.51.100.0/24\n"},
	{"commercial-vpn.txt", "AS64903\n"},
	{"watch-countries.txt", "KP\nCN\n"},
	{"remote-access-tools.txt", "AnyDesk\nPiKVM\n"},
	{"allow-users.txt", "svc-backup\n"},
	{"allow-rules.txt", "auth.failure_burst.user frank\n"},
	{NULL, NULL},
};

static int group_setup(void **state)
{
	(void)state;
	return ctx_fixture_make(
		&fx, "enrich", lists,
		"user,department,title,manager,start_date,country,timezone,team,privileged\n"
		"alice,Engineering,Engineer,bob,2020-01-06,US,America/Chicago,backend-1,no\n"
		"newbie,Sales,Rep,carol,2026-11-16,US,America/New_York,sales-2,\n"
		"root1,IT,Admin,carol,2019-03-01,DE,Europe/Berlin,itops,yes\n"
		"p1,Engineering,Engineer,bob,2021-01-04,US,America/Chicago,backend-1,no\n"
		"p2,Engineering,Engineer,bob,2021-01-04,US,America/Chicago,backend-1,no\n"
		"p3,Engineering,Engineer,bob,2021-01-04,US,America/Chicago,backend-1,no\n"
		"p4,Engineering,Engineer,bob,2021-01-04,US,America/Chicago,backend-1,no\n"
		"s1,Engineering,SRE,bob,2021-01-04,US,America/Chicago,sre-1,no\n"
		"s2,Engineering,SRE,bob,2021-01-04,US,America/Chicago,sre-1,no\n"
		"s3,Engineering,SRE,bob,2021-01-04,US,America/Chicago,sre-1,no\n",
		true);
}

static int group_teardown(void **state)
{
	(void)state;
	return ctx_fixture_remove(&fx);
}

static mmr_context *load(bool geo)
{
	return ctx_fixture_load(&fx, geo);
}

static mmr_event ev_at(const char *user, const char *ip, int64_t t)
{
	return ctx_fixture_event(user, ip, t);
}

static void test_lists_and_network_facts(void **state)
{
	(void)state;
	mmr_context *c = load(false);
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_enriched x;
	int64_t t = civil_utc(2026, 11, 23, 15, 0, 0);

	mmr_event ev = ev_at("alice", "203.0.113.5", t);
	mmr_enrich(c, &cfg, &ev, &x);
	assert_true(x.corporate && !x.external && x.has_src);

	ev = ev_at("alice", "10.1.2.3", t);
	mmr_enrich(c, &cfg, &ev, &x);
	assert_true(!x.corporate && !x.external);

	ev = ev_at("alice", "198.51.100.9", t); /* hosting by CIDR */
	mmr_enrich(c, &cfg, &ev, &x);
	assert_true(x.external && x.hosting && !x.commercial_vpn);

	ev = ev_at("alice", "198.18.0.1", t); /* the log's own ASN and country */
	ev.as_number = 64903;
	snprintf(ev.geo_country, sizeof(ev.geo_country), "China");
	ev.is_proxy = 1;
	mmr_enrich(c, &cfg, &ev, &x);
	assert_true(x.commercial_vpn && !x.hosting && x.proxy);
	assert_string_equal(x.country, "CN");
	assert_true(x.watch_country);
	assert_int_equal(x.asn, 64903);

	ev = ev_at("alice", NULL, t);
	snprintf(ev.user_agent, sizeof(ev.user_agent), "Mozilla/5.0 anydesk/7.1");
	mmr_enrich(c, &cfg, &ev, &x);
	assert_false(x.has_src);
	assert_non_null(x.remote_tool);
	assert_string_equal(x.remote_tool, "anydesk");

	ev = ev_at("svc-backup", "198.18.0.1", t);
	mmr_enrich(c, &cfg, &ev, &x);
	assert_true(x.allow_user);
	mmr_context_free(c);
	mmr_config_clear(&cfg);
}

static void test_roster_facts(void **state)
{
	(void)state;
	mmr_context *c = load(false);
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_enriched x;
	int64_t t = civil_utc(2026, 11, 23, 15, 0, 0); /* CST: UTC-6 */

	mmr_event ev = ev_at("ALICE", "198.18.0.1", t);
	snprintf(ev.user, sizeof(ev.user), "alice");
	mmr_enrich(c, &cfg, &ev, &x);
	assert_non_null(x.who);
	assert_true(x.has_declared_tz);
	assert_int_equal(x.declared_offset, -6 * 3600);
	assert_false(x.new_hire);
	assert_true(x.tenure_days > 2000);
	assert_int_not_equal(x.group, 0);
	uint32_t alice_group = x.group;

	ev = ev_at("alice", "198.18.0.1", civil_utc(2026, 7, 1, 15, 0, 0)); /* CDT */
	mmr_enrich(c, &cfg, &ev, &x);
	assert_int_equal(x.declared_offset, -5 * 3600);

	/* the evening before the first day counts as a new hire too */
	ev = ev_at("newbie", "198.18.0.1", civil_utc(2026, 11, 15, 23, 0, 0));
	mmr_enrich(c, &cfg, &ev, &x);
	assert_true(x.new_hire);
	assert_int_equal(x.tenure_days, -1);
	assert_int_not_equal(x.group, alice_group);
	ev = ev_at("newbie", "198.18.0.1", civil_utc(2027, 3, 1, 12, 0, 0));
	mmr_enrich(c, &cfg, &ev, &x);
	assert_false(x.new_hire);

	ev = ev_at("root1", "198.18.0.1", t);
	mmr_enrich(c, &cfg, &ev, &x);
	assert_true(x.privileged);

	ev = ev_at("stranger", "198.18.0.1", t);
	mmr_enrich(c, &cfg, &ev, &x);
	assert_null(x.who);
	assert_int_equal(x.group, 0);
	assert_int_equal(x.tenure_days, -1);
	assert_false(x.has_declared_tz);
	mmr_context_free(c);
	mmr_config_clear(&cfg);
}

static void test_geoip_fills_what_the_log_lacks(void **state)
{
	(void)state;
	mmr_context *c = load(true);
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_enriched x;
	mmr_event ev = ev_at("alice", "192.0.2.10", civil_utc(2026, 11, 23, 15, 0, 0));
	mmr_enrich(c, &cfg, &ev, &x);
	mmr_geo g;
	/* compare with a direct lookup in the same databases */
	char err[256];
	mmr_geoip *db = mmr_geoip_open(fx.city_db, fx.asn_db, err, sizeof(err));
	assert_non_null(db);
	bool found = mmr_geoip_lookup(db, &ev.src_ip, &g);
	assert_true(found);
	assert_string_equal(x.country, g.country);
	assert_int_equal(x.has_location, g.has_location);
	assert_int_equal(x.asn, g.asn);
	/* the log's own country wins; coordinates of another country are not used */
	snprintf(ev.geo_country, sizeof(ev.geo_country), "%s",
		 strcmp(g.country, "KP") ? "North Korea" : "Germany");
	mmr_enrich(c, &cfg, &ev, &x);
	assert_string_not_equal(x.country, g.country);
	assert_false(x.has_location);
	/* private addresses are never looked up */
	ev = ev_at("alice", "10.0.0.1", civil_utc(2026, 11, 23, 15, 0, 0));
	mmr_enrich(c, &cfg, &ev, &x);
	assert_string_equal(x.country, "");
	mmr_geoip_close(db);
	mmr_context_free(c);
	mmr_config_clear(&cfg);
}

static void test_context_load_errors(void **state)
{
	(void)state;
	mmr_user_norm norm = {.strip_domain = true};
	char err[512];
	mmr_context_paths p = {.roster = "/nonexistent/roster.csv"};
	assert_null(mmr_context_load(&p, &norm, err, sizeof(err), NULL, 0));
	assert_non_null(strstr(err, "roster"));
	p = (mmr_context_paths){.lists_dir = "/nonexistent/lists"};
	assert_null(mmr_context_load(&p, &norm, err, sizeof(err), NULL, 0));
	assert_non_null(strstr(err, "lists.dir"));
	p = (mmr_context_paths){.geoip_city = fx.roster_path};
	assert_null(mmr_context_load(&p, &norm, err, sizeof(err), NULL, 0));
	assert_non_null(strstr(err, "geoip"));
	p = (mmr_context_paths){0};
	mmr_context *c = mmr_context_load(&p, &norm, err, sizeof(err), NULL, 0);
	assert_non_null(c); /* nothing configured: an empty context */
	mmr_context_info in;
	mmr_context_describe(c, &in);
	assert_false(in.geoip_city);
	assert_int_equal(in.roster_users, 0);
	mmr_context_free(c);
	c = load(true);
	mmr_context_describe(c, &in);
	assert_true(in.geoip_city && in.geoip_asn);
	assert_int_equal(in.roster_users, 10);
	assert_int_equal(in.list_entries[MMR_LIST_WATCH_COUNTRIES], 2);
	mmr_context_free(c);
}

static int rule_points(const mmr_result *r, const char *rule, const char **detail)
{
	for (int i = 0; i < r->n_reasons; i++)
		if (strcmp(r->reasons[i].rule, rule) == 0) {
			if (detail)
				*detail = r->reasons[i].detail;
			return r->reasons[i].points;
		}
	return -1;
}

/* Five failures of one account within a minute fire auth.failure_burst.user (30 points);
 * each account from its own address, so that the per-IP burst stays out of it. */
static mmr_result burst(mmr_engine *e, const char *user, int64_t t)
{
	mmr_result r;
	char ip[32];
	snprintf(ip, sizeof(ip), "10.9.9.%u", (unsigned)(strlen(user) * 7 + (unsigned char)user[0]) % 250);
	for (int i = 0; i < 5; i++) {
		mmr_event ev = ev_at(user, ip, t + i);
		ev.action = MMR_ACTION_AUTH;
		ev.outcome = MMR_OUTCOME_FAILURE;
		assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	}
	return r;
}

static void test_allowlists_and_multipliers_in_engine(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	mmr_engine_set_context(e, load(false));
	int64_t t = civil_utc(2026, 11, 23, 15, 0, 0);
	const char *d = NULL;

	mmr_result r = burst(e, "alice", t); /* established, not privileged */
	assert_int_equal(rule_points(&r, "auth.failure_burst.user", NULL), 30);

	r = burst(e, "newbie", t); /* new hire: x1.5 */
	assert_int_equal(rule_points(&r, "auth.failure_burst.user", &d), 45);
	assert_non_null(strstr(d, "new hire x1.5"));

	r = burst(e, "root1", t); /* privileged: x1.25 */
	assert_int_equal(rule_points(&r, "auth.failure_burst.user", &d), 38);
	assert_non_null(strstr(d, "privileged x1.2"));

	r = burst(e, "svc-backup", t); /* allow-users: recorded, zero points */
	assert_int_equal(rule_points(&r, "auth.failure_burst.user", &d), 0);
	assert_non_null(strstr(d, "allow-users.txt"));
	assert_int_equal(r.score, 0);
	assert_int_equal(r.user_score, 0);

	r = burst(e, "frank", t); /* allow-rules: this rule, this user */
	assert_int_equal(rule_points(&r, "auth.failure_burst.user", &d), 0);
	assert_non_null(strstr(d, "allow-rules.txt"));
	r = burst(e, "grace", t); /* ... and nobody else */
	assert_int_equal(rule_points(&r, "auth.failure_burst.user", NULL), 30);

	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_int_equal(st.allowlisted, 2);

	mmr_engine_set_context(e, NULL); /* context removed: no multiplier, no allowlist */
	r = burst(e, "svc-backup", t + 7200);
	assert_int_equal(rule_points(&r, "auth.failure_burst.user", NULL), 30);
}

static mmr_result ssh(mmr_engine *e, const char *user, const char *target, int64_t t)
{
	mmr_event ev = ev_at(user, "10.20.0.5", t);
	ev.action = MMR_ACTION_AUTH;
	snprintf(ev.target, sizeof(ev.target), "%s", target);
	mmr_result r;
	assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	return r;
}

/* correlation.exit_and_outside_access (engine/score/correlate.c): a commercial VPN exit and a
 * server no teammate uses, within days, make a third finding; either alone does not. */
static void test_correlation_exit_and_outside_access(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	mmr_engine_set_context(e, load(false));
	const char *corr = "correlation.exit_and_outside_access";
	int64_t t0 = civil_utc(2026, 11, 2, 15, 0, 0);
	const char *backend[] = {"alice", "p1", "p2", "p3", "p4"};
	const char *sre[] = {"s1", "s2", "s3"};
	mmr_result r;
	for (int d = 0; d < 9; d++) { /* nine days of teams on their own servers */
		for (int i = 0; i < 5; i++)
			ssh(e, backend[i], "be-api-01", t0 + d * 86400 + i * 60);
		for (int i = 0; i < 3; i++)
			ssh(e, sre[i], "db-prod-1", t0 + d * 86400 + i * 60);
	}
	int64_t t = t0 + 9 * 86400;
	/* p1 (no VPN) reaches the SRE server: the peer rule, no correlation */
	r = ssh(e, "p1", "db-prod-1", t);
	assert_true(rule_points(&r, "access.uncommon_target_peers", NULL) > 0);
	assert_int_equal(rule_points(&r, corr, NULL), -1);

	/* alice through a commercial VPN exit (AS64903 in commercial-vpn.txt) ... */
	mmr_event ev = ev_at("alice", "198.18.50.1", t + 60);
	ev.as_number = 64903;
	assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	assert_true(rule_points(&r, "network.commercial_vpn", NULL) > 0);
	assert_int_equal(rule_points(&r, corr, NULL), -1);
	/* ... then onto a server of another team within the hour: both sides held */
	r = ssh(e, "alice", "db-prod-2", t + 3600);
	assert_true(rule_points(&r, "access.uncommon_target_peers", NULL) > 0);
	const char *d = NULL;
	assert_int_equal(rule_points(&r, corr, &d), 40);
	assert_non_null(strstr(d, "commercial VPN"));
	/* its points count in the event score */
	int sum = 0;
	for (int i = 0; i < r.n_reasons; i++)
		sum = sum > r.reasons[i].points ? sum : r.reasons[i].points;
	assert_true(r.score > sum);
	/* within the rule cooldown it fires again on the event but feeds the risk once */
	int us = r.user_score;
	r = ssh(e, "alice", "db-prod-3", t + 3700);
	assert_int_equal(rule_points(&r, corr, NULL), 40);
	assert_true(r.user_score <= us + 12); /* only the fresh peer finding's share may add */
}

typedef struct {
	mmr_engine *e;
	int id;
	atomic_int *stop;
} worker_arg;

static void *worker(void *p)
{
	worker_arg *a = p;
	char user[32];
	int64_t t = civil_utc(2026, 11, 23, 0, 0, 0);
	for (int i = 0; !atomic_load(a->stop); i++) {
		snprintf(user, sizeof(user), "%s", i % 3 ? "alice" : "newbie");
		mmr_event ev = ev_at(user, "198.18.1.1", t + i);
		snprintf(ev.user_agent, sizeof(ev.user_agent), "AnyDesk");
		mmr_result r;
		if (mmr_engine_process(a->e, &ev, &r) != 0)
			return (void *)1;
	}
	return NULL;
}

static void test_context_swap_under_load(void **state)
{
	fixture *f = *state;
	mmr_engine *e = start(f);
	atomic_int stop = 0;
	pthread_t th[2];
	worker_arg a[2];
	for (int i = 0; i < 2; i++) {
		a[i] = (worker_arg){.e = e, .id = i, .stop = &stop};
		assert_int_equal(pthread_create(&th[i], NULL, worker, &a[i]), 0);
	}
	/* swap at least 40 times, and until the workers have scored a good number of events
	 * under changing contexts (thread start-up may lag behind the first swaps) */
	mmr_stats st;
	for (int k = 0; k < 40 || st.events_scored < 5000; k++) {
		mmr_engine_set_context(e, k % 4 == 3 ? NULL : load(k % 2 == 0));
		mmr_engine_stats(e, &st);
		if (k > 100000)
			fail_msg("workers scored only %llu events", (unsigned long long)st.events_scored);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		assert_null(rv);
	}
	mmr_engine_stats(e, &st);
	assert_true(st.events_scored >= 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_and_network_facts),
		cmocka_unit_test(test_roster_facts),
		cmocka_unit_test(test_geoip_fills_what_the_log_lacks),
		cmocka_unit_test(test_context_load_errors),
		cmocka_unit_test_setup_teardown(test_allowlists_and_multipliers_in_engine, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_context_swap_under_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_correlation_exit_and_outside_access, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
