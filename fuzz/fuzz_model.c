/* fuzz_model: the text of a model file (docs/model.md) through mmr_config_load_model() and
 * mmr_engine_new(), then a fixed run of events through the engine it configured.
 *
 * Input: the bytes of a model file, written to a file in the harness's private directory (the
 * module loads it by path). The text goes through mmr_config_load_model() (settings of
 * mmr_config via mmr_config_set(), rule weights/caps, detector parameters); when that accepts
 * it, mmr_engine_new() resolves the rules and parameters (and may refuse, naming file and
 * line). An engine that is created is asked about every rule and parameter and then scores
 * a fixed sequence of events (logins, failures, VPN sessions with bytes, a laptop farm, a new
 * country, MFA denials): detector parameters at their limits must not crash, hang or give
 * scores outside 0-100. Checks: a refusal leaves a message; effective parameter values lie
 * within their documented ranges; results valid as in fuzz_parse.
 */
#include <json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/engine.h"
#include "mmriskscore/event.h"

#include "fuzz_common.h"

#define BASE_TIME 1790812800 /* 2026-10-01T00:00:00Z */

static char path[512];

static mmr_event events[48];
static size_t nevents;

static void ev_add(mmr_action a, mmr_outcome o, const char *user, const char *ip, int64_t t,
		   const char *device, const char *country, int64_t bytes_in, int64_t duration)
{
	mmr_event *ev = &events[nevents++];
	mmr_event_init(ev);
	ev->action = a;
	ev->outcome = o;
	snprintf(ev->user, sizeof(ev->user), "%s", user);
	if (ip && mmr_ip_parse(ip, &ev->src_ip) != 0)
		abort();
	ev->time = t;
	ev->time_from_log = true;
	if (device)
		snprintf(ev->device, sizeof(ev->device), "%s", device);
	if (country)
		snprintf(ev->geo_country, sizeof(ev->geo_country), "%s", country);
	ev->bytes_in = bytes_in;
	ev->duration = duration;
	snprintf(ev->host, sizeof(ev->host), "vpn01");
	snprintf(ev->session_id, sizeof(ev->session_id), "s-%s-%zu", user, nevents);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/model.conf", fuzz_tmpdir());
	const int64_t h = 3600, d = 86400;
	/* alice's baseline: weekday logins from home, VPN sessions with ordinary volumes */
	for (int i = 0; i < 8; i++) {
		int64_t t = BASE_TIME + i * d + 9 * h;
		ev_add(MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "alice", "198.51.100.23", t, "LT-1",
		       "US", -1, -1);
		ev_add(MMR_ACTION_VPN_END, MMR_OUTCOME_SUCCESS, "alice", "198.51.100.23", t + 8 * h,
		       "LT-1", "US", 200000000, 8 * h);
	}
	int64_t t = BASE_TIME + 9 * d;
	/* then: 3 a.m., another country, a huge session, failures, MFA denials */
	ev_add(MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "alice", "203.0.113.66", t + 3 * h, "X", "RU",
	       -1, -1);
	ev_add(MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "alice", "203.0.113.66", t + 3 * h + 5, "X",
	       "RU", -1, -1);
	ev_add(MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "alice", "203.0.113.66", t + 3 * h + 9, "X",
	       "RU", -1, -1);
	ev_add(MMR_ACTION_MFA, MMR_OUTCOME_FAILURE, "alice", "203.0.113.66", t + 3 * h + 20, "X",
	       "RU", -1, -1);
	ev_add(MMR_ACTION_MFA, MMR_OUTCOME_FAILURE, "alice", "203.0.113.66", t + 3 * h + 30, "X",
	       "RU", -1, -1);
	ev_add(MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "alice", "203.0.113.66", t + 3 * h + 60, "X",
	       "RU", -1, -1);
	ev_add(MMR_ACTION_VPN_END, MMR_OUTCOME_SUCCESS, "alice", "203.0.113.66", t + 20 * h, "X",
	       "RU", INT64_C(90000000000), 17 * h);
	/* a laptop farm: three accounts behind one address, and one device shared */
	ev_add(MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, "bob", "198.18.8.140", t + h, "FARM-1",
	       "US", -1, -1);
	ev_add(MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, "carol", "198.18.8.140", t + 2 * h,
	       "FARM-1", "US", -1, -1);
	ev_add(MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, "dave", "198.18.8.140", t + 3 * h,
	       "FARM-1", "US", -1, -1);
	ev_add(MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "dave", "2001:db8::5", t + 3 * h + 60, NULL,
	       "KP", -1, -1);
	/* a dormant account, 200 days later; a time before everything else */
	ev_add(MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "bob", "198.18.8.141", t + 200 * d, "FARM-1",
	       "US", -1, -1);
	ev_add(MMR_ACTION_LOGOUT, MMR_OUTCOME_SUCCESS, "carol", "198.18.8.140", BASE_TIME - 400 * d,
	       NULL, NULL, -1, -1);
	return 0;
}

static void check_result(const mmr_result *r)
{
	if (r->score < 0 || r->score > 100 || r->user_score < 0 || r->user_score > 100)
		FUZZ_FAIL("score %d, user_score %d out of 0-100", r->score, r->user_score);
	if (r->n_reasons < 0 || r->n_reasons > MMR_MAX_REASONS)
		FUZZ_FAIL("n_reasons %d", r->n_reasons);
	for (int i = 0; i < r->n_reasons; i++) {
		if (r->reasons[i].rule == NULL)
			FUZZ_FAIL("reason %d without a rule id", i);
		if (r->reasons[i].points < 0 || r->reasons[i].points > 100)
			FUZZ_FAIL("reason %s: %d points", r->reasons[i].rule, r->reasons[i].points);
		fuzz_check_text(r->reasons[i].detail, sizeof(r->reasons[i].detail), "detail");
	}
	struct json_object *j = mmr_result_to_json(r);
	fuzz_check_json(j, "mmr_result_to_json");
	json_object_put(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	fuzz_write_file(path, data, size);
	mmr_config cfg;
	mmr_config_init(&cfg);
	char err[1024] = "";
	if (mmr_config_load_model(&cfg, path, err, sizeof(err)) != 0) {
		fuzz_check_cstr(err, sizeof(err), "load error");
		if (err[0] == '\0')
			FUZZ_FAIL("mmr_config_load_model failed without a message");
		mmr_config_clear(&cfg);
		return 0;
	}
	if (mmr_config_validate(&cfg, err, sizeof(err)) != 0)
		FUZZ_FAIL("a model that loaded gives an invalid config: %s", err);
	/* the module also caps memory: a model may not make the fixed run allocate a lot */
	mmr_engine *e = mmr_engine_new(&cfg, err, sizeof(err));
	if (e == NULL) {
		fuzz_check_cstr(err, sizeof(err), "engine error");
		if (err[0] == '\0')
			FUZZ_FAIL("mmr_engine_new failed without a message");
		mmr_config_clear(&cfg);
		return 0;
	}
	size_t nrules = 0;
	const char *const *rules = mmr_engine_rules(e, &nrules);
	for (size_t i = 0; i < nrules; i++) {
		double w, c;
		bool weak;
		if (mmr_engine_rule_model(e, rules[i], &w, &c, &weak) != 0)
			FUZZ_FAIL("rule %s listed but has no model", rules[i]);
		if (!(w >= 0) || !(c >= 0) || isnan(w) || isnan(c))
			FUZZ_FAIL("rule %s: weight %g cap %g", rules[i], w, c);
	}
	(void)mmr_engine_weak_cap(e);
	(void)mmr_engine_user_bytes(e);
	double v, def, min, max;
	const char *doc;
	for (size_t i = 0; mmr_engine_param_at(e, i, &v, &def, &min, &max, &doc) != NULL; i++) {
		if (!(v >= min && v <= max))
			FUZZ_FAIL("parameter %zu = %g outside its range %g-%g", i, v, min, max);
	}
	for (size_t i = 0; i < nevents; i++) {
		mmr_result res;
		if (mmr_engine_process(e, &events[i], &res) == 0)
			check_result(&res);
	}
	mmr_stats st;
	mmr_engine_stats(e, &st);
	mmr_engine_free(e);
	mmr_config_clear(&cfg);
	return 0;
}
