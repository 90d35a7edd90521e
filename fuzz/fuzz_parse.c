/* fuzz_parse: log messages -> canonical events -> a scoring engine, as the rsyslog module does.
 *
 * Input: one or more messages, one per line ('\n'; a trailing '\r' is dropped; at most
 * MAX_LINES). Each line is what the module hands the engine for one message: the parse text
 * (syslog tag + msg, "sshd[42]: Accepted ...") and the msg part (after a leading
 * "tag: " when there is one), which mmr_parse_event() tries as JSON first (the IdP path) before
 * the shipped rulebase (build-fuzz/rulebase/identity-vpn.rulebase) and mappings (mappings/).
 * When the msg is a JSON object, it also goes through mmr_parse_fields() as if mmnormalize or
 * mmjsonparse had parsed it (the module's parsedfields path).
 *
 * Every identity event is scored by an engine created for this input (small caps, a short
 * learning phase, so that eviction and the detectors past their learning phase run) with the
 * enrichment context of fuzz/context (roster, lists, GeoIP). That context is loaded once and
 * shared by every input's engine: loading it costs ~1 ms under ASan, ten times the rest of an
 * input. The engine frees its context when it is freed, so this harness is linked with
 * -Wl,--wrap=mmr_context_free and the wrapper below leaves the shared one alone (contexts are
 * immutable after load; only the GeoIP lookup cache and its counters carry over between
 * inputs, and they never change a result). The harness checks what the module would emit:
 * mmr_event_to_json() and mmr_result_to_json() must serialize to JSON that libfastjson reads
 * back and that is strict RFC 8259 (UTF-8, no raw control characters); scores 0-100, reasons
 * sorted, NUL-terminated texts. Inputs whose length is 3 mod 4 keep domains in user names
 * (strip_domain = false, default domain "corp.example"), the others strip them.
 */
#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"
#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"
#include "mmriskscore/parse.h"
#include "mmriskscore/rulebase.h"

#include "fuzz_common.h"

#define MAX_LINES 64
#define BASE_TIME 1790812800 /* 2026-10-01T00:00:00Z: the simulator's first day */

static mmr_rulebase *rb;
static mmr_mappings *maps;
static mmr_config cfg[2]; /* [0] strip domains, [1] keep them */

static mmr_context *shared_ctx[2]; /* per normalization, as cfg */

/* -Wl,--wrap=mmr_context_free: engine.c's calls come here; enrich.c's own do not. */
void __real_mmr_context_free(mmr_context *c);
void __wrap_mmr_context_free(mmr_context *c);
void __wrap_mmr_context_free(mmr_context *c)
{
	if (c != shared_ctx[0] && c != shared_ctx[1])
		__real_mmr_context_free(c);
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_parse: %s: %s\n", what, err);
	exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[1024];
	if ((rb = mmr_rulebase_load(fuzz_rulebase_path(), err, sizeof(err))) == NULL)
		die(fuzz_rulebase_path(), err);
	if ((maps = mmr_mappings_load(fuzz_mappings_path(), err, sizeof(err))) == NULL)
		die(fuzz_mappings_path(), err);
	const char *ctx = fuzz_context_dir();
	char roster_path[4200], lists_dir[4200], city_path[4200], asn_path[4200];
	snprintf(roster_path, sizeof(roster_path), "%s/roster.csv", ctx);
	snprintf(lists_dir, sizeof(lists_dir), "%s/lists", ctx);
	snprintf(city_path, sizeof(city_path), "%s/geoip-city.mmdb", ctx);
	snprintf(asn_path, sizeof(asn_path), "%s/geoip-asn.mmdb", ctx);
	mmr_context_paths paths = {.geoip_city = city_path, .geoip_asn = asn_path,
				   .lists_dir = lists_dir, .roster = roster_path};
	for (int i = 0; i < 2; i++) {
		mmr_config *c = &cfg[i];
		mmr_config_init(c);
		c->user_norm.strip_domain = i == 0;
		if (i == 1)
			snprintf(c->user_norm.default_domain, sizeof(c->user_norm.default_domain),
				 "corp.example");
		c->learning_min_events = 3; /* detectors past learning within one input */
		c->learning_min_days = 0;
		c->rule_cooldown = 60;
		c->farm_min_users = 2;
		c->failburst_user_count = 3;
		c->failburst_ip_count = 3;
		c->max_users = 16; /* eviction within one input */
		c->max_ips = 16;
		if (mmr_config_add_corporate_network(c, "10.0.0.0/8", err, sizeof(err)) != 0 ||
		    mmr_config_add_corporate_network(c, "2001:db8:c0::/48", err, sizeof(err)) != 0)
			die("corporate network", err);
		if (mmr_config_validate(c, err, sizeof(err)) != 0)
			die("config", err);
		if ((shared_ctx[i] = mmr_context_load(&paths, &c->user_norm, err, sizeof(err), NULL,
						      0)) == NULL)
			die(ctx, err);
	}
	return 0;
}

static void check_event_texts(const mmr_event *ev)
{
	fuzz_check_event_texts(ev);
	if (ev->user[0] == '\0')
		FUZZ_FAIL("identity event without a user");
	if ((unsigned)ev->action == MMR_ACTION_NONE || (unsigned)ev->action >= MMR_ACTION_COUNT_)
		FUZZ_FAIL("identity event with action %d", (int)ev->action);
	if ((unsigned)ev->outcome > MMR_OUTCOME_FAILURE)
		FUZZ_FAIL("outcome %d", (int)ev->outcome);
	if (ev->src_ip.family != 0 && ev->src_ip.family != 4 && ev->src_ip.family != 6)
		FUZZ_FAIL("src_ip family %d", ev->src_ip.family);
	if (ev->assigned_ip.family != 0 && ev->assigned_ip.family != 4 &&
	    ev->assigned_ip.family != 6)
		FUZZ_FAIL("assigned_ip family %d", ev->assigned_ip.family);
}

static void check_result(const mmr_result *r)
{
	fuzz_check_text(r->user, sizeof(r->user), "result.user");
	if (r->score < 0 || r->score > 100 || r->user_score < 0 || r->user_score > 100)
		FUZZ_FAIL("score %d, user_score %d out of 0-100", r->score, r->user_score);
	if (r->n_reasons < 0 || r->n_reasons > MMR_MAX_REASONS)
		FUZZ_FAIL("n_reasons %d", r->n_reasons);
	for (int i = 0; i < r->n_reasons; i++) {
		const mmr_reason *x = &r->reasons[i];
		if (x->rule == NULL || x->rule[0] == '\0')
			FUZZ_FAIL("reason %d without a rule id", i);
		if (x->points < 0 || x->points > 100)
			FUZZ_FAIL("reason %s: %d points", x->rule, x->points);
		if (i > 0 && x->points > r->reasons[i - 1].points)
			FUZZ_FAIL("reasons not sorted: %s %d after %s %d", x->rule, x->points,
				  r->reasons[i - 1].rule, r->reasons[i - 1].points);
		fuzz_check_text(x->detail, sizeof(x->detail), "reason.detail");
	}
	char msg[600];
	mmr_result_message(r, msg, sizeof(msg));
	fuzz_check_text(msg, sizeof(msg), "mmr_result_message");
}

/* The module's path after parsing: host, score, JSON out. */
static void score(mmr_engine *e, mmr_event *ev)
{
	if (ev->host[0] == '\0')
		snprintf(ev->host, sizeof(ev->host), "fuzz-host");
	check_event_texts(ev);
	struct json_object *evj = mmr_event_to_json(ev);
	fuzz_check_json(evj, "mmr_event_to_json");
	json_object_put(evj);

	mmr_result res;
	memset(&res, 0xa5, sizeof(res)); /* whatever process() leaves unset shows */
	if (mmr_engine_process(e, ev, &res) != 0)
		return;
	check_result(&res);
	struct json_object *rj = mmr_result_to_json(&res);
	fuzz_check_json(rj, "mmr_result_to_json");
	json_object_put(rj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	int k = size % 4 == 3 ? 1 : 0;
	const mmr_config *c = &cfg[k];
	char err[1024];
	mmr_engine *e = mmr_engine_new(c, err, sizeof(err));
	if (e == NULL)
		FUZZ_FAIL("mmr_engine_new: %s", err);
	mmr_engine_set_context(e, shared_ctx[k]);

	size_t pos = 0;
	for (int i = 0; i < MAX_LINES && pos < size; i++) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
		/* the module's buffers are NUL-terminated; so is this copy, and nothing more */
		char *line = malloc(len + 1);
		if (line == NULL)
			abort();
		memcpy(line, data + pos, len);
		line[len] = '\0';
		pos += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';

		/* msg: after "tag: " (a word ending in ':' then a blank), as rsyslog splits it */
		const char *msg = line;
		size_t msg_len = len;
		const char *sp = memchr(line, ' ', len < 64 ? len : 64);
		if (sp != NULL && sp > line && sp[-1] == ':') {
			msg = sp + 1;
			msg_len = len - (size_t)(msg - line);
		}
		mmr_parse_input in = {.text = line, .text_len = len, .msg = msg, .msg_len = msg_len,
				      .fallback_time = BASE_TIME + (int64_t)i * 61};
		mmr_event ev;
		mmr_parse_trace tr;
		mmr_parse_status st = mmr_parse_event(rb, maps, &in, &c->user_norm, &ev, &tr);
		fuzz_check_text(tr.rule, sizeof(tr.rule), "trace.rule");
		if (st == MMR_PARSE_OK)
			score(e, &ev);
		else if (st != MMR_PARSE_NOT_IDENTITY && st != MMR_PARSE_UNPARSED)
			FUZZ_FAIL("mmr_parse_event returned %d", (int)st);

		/* the parsedfields path: the same JSON, parsed by someone else */
		struct json_object *doc = fuzz_json_tree(msg, msg_len);
		if (doc != NULL) {
			st = mmr_parse_fields(doc, maps, &c->user_norm, in.fallback_time, &ev, NULL);
			if (st == MMR_PARSE_OK)
				score(e, &ev);
			json_object_put(doc);
		}
		free(line);
	}
	mmr_stats stats;
	mmr_engine_stats(e, &stats);
	if (stats.users > c->max_users)
		FUZZ_FAIL("%llu users resident, cap %u", (unsigned long long)stats.users,
			  c->max_users);
	mmr_engine_free(e);
	return 0;
}
