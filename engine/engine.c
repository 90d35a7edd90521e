/* The pipeline of DESIGN.md §2 from a canonical event on: look up the user, ask every
 * detector for its findings, combine them into the event score, let every detector learn,
 * then fold the score into the user's decaying risk.
 *
 * User record (the value of the users LRU table):
 *
 *   | user_core (first/last seen, events, risk, rule_last[]) | detector 0 slice | 1 | ... |
 *
 * Each detector's slice sits at a fixed offset computed once from the registry, so adding a
 * detector never touches this file. rule_last[] holds, per rule id, the event time the rule
 * last fed the user's risk: a rule feeds it at most once per rule_cooldown (default 1 h), so a
 * burst of 40 failures counts once, not 40 times ("caps on score stacking", as Splunk RBA users
 * do), while every message of the burst still carries its own event score and reasons.
 */
#include <json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/engine.h"
#include "detect/detector.h"
#include "score/score.h"
#include "state/lru_table.h"

#define MAX_DETECTORS 32
#define MAX_RULES 32
#define USER_STRIPES 64

typedef struct user_core {
	int64_t first_seen, last_seen;
	double risk;
	int64_t risk_time;
	uint32_t events;
	uint32_t rule_last[MAX_RULES]; /* low 32 bits of event time; 0 = never */
} user_core;

struct mmr_engine {
	mmr_config cfg;
	mmr_lru_table *users;
	size_t ndet;
	size_t slice_off[MAX_DETECTORS];
	void *global[MAX_DETECTORS];
	const char *rule_ids[MAX_RULES];
	size_t nrules;
	atomic_uint_fast64_t scored, failed, reasons_dropped;
};

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

mmr_engine *mmr_engine_new(const mmr_config *cfg, char *err, size_t errlen)
{
	if (mmr_config_validate(cfg, err, errlen) != 0)
		return NULL;
	mmr_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto oom;
	e->cfg = *cfg;
	size_t off = align16(sizeof(user_core));
	for (; mmr_detectors[e->ndet]; e->ndet++) {
		const mmr_detector *d = mmr_detectors[e->ndet];
		if (e->ndet == MAX_DETECTORS) {
			snprintf(err, errlen, "too many detectors (max %d)", MAX_DETECTORS);
			mmr_engine_free(e);
			return NULL;
		}
		e->slice_off[e->ndet] = off;
		off += align16(d->user_state_size);
		for (const char *const *r = d->rules; *r; r++) {
			if (e->nrules == MAX_RULES) {
				snprintf(err, errlen, "too many rule ids (max %d)", MAX_RULES);
				mmr_engine_free(e);
				return NULL;
			}
			e->rule_ids[e->nrules++] = *r;
		}
		if (d->global_new && (e->global[e->ndet] = d->global_new(&e->cfg)) == NULL)
			goto oom;
	}
	if ((e->users = mmr_lru_table_new(cfg->max_users, off, USER_STRIPES)) == NULL)
		goto oom;
	return e;
oom:
	snprintf(err, errlen, "out of memory");
	mmr_engine_free(e);
	return NULL;
}

void mmr_engine_free(mmr_engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->ndet; i++)
		if (e->global[i] && mmr_detectors[i]->global_free)
			mmr_detectors[i]->global_free(e->global[i]);
	mmr_lru_table_free(e->users);
	free(e);
}

static int rule_index(const mmr_engine *e, const char *rule)
{
	for (size_t i = 0; i < e->nrules; i++)
		if (e->rule_ids[i] == rule || strcmp(e->rule_ids[i], rule) == 0)
			return (int)i;
	return -1;
}

static int by_points_desc(const void *a, const void *b)
{
	const mmr_reason *x = a, *y = b;
	if (x->points != y->points)
		return y->points - x->points;
	return strcmp(x->rule, y->rule);
}

/* Points of this event's reasons that may feed the user's risk (rule cooldown applied). */
static double risk_increment(const mmr_engine *e, user_core *u, const mmr_result *r, int64_t t)
{
	mmr_reason fresh[MMR_MAX_REASONS];
	int n = 0;
	for (int i = 0; i < r->n_reasons; i++) {
		int k = rule_index(e, r->reasons[i].rule);
		/* |t - last| so that a burst delivered slightly out of order still counts once;
		 * last only moves forward */
		if (k >= 0 && u->rule_last[k] != 0) {
			int64_t d = t - (int64_t)u->rule_last[k];
			if ((d < 0 ? -d : d) < e->cfg.rule_cooldown)
				continue;
		}
		if (k >= 0 && (u->rule_last[k] == 0 || t > (int64_t)u->rule_last[k]))
			u->rule_last[k] = (uint32_t)(t > 0 ? t : 1);
		fresh[n++] = r->reasons[i];
	}
	return mmr_score_combine(fresh, n);
}

int mmr_engine_process(mmr_engine *e, const mmr_event *ev, mmr_result *out)
{
	mmr_lru_hold hold;
	unsigned char *rec;
	const mmr_config *cfg = &e->cfg;

	memset(out, 0, offsetof(mmr_result, reasons));
	snprintf(out->user, sizeof(out->user), "%s", ev->user);
	rec = mmr_lru_acquire(e->users, ev->user, strlen(ev->user), true, NULL, &hold);
	if (rec == NULL) {
		mmr_lru_release(&hold);
		atomic_fetch_add(&e->failed, 1);
		return -1;
	}
	user_core *u = (user_core *)rec;
	mmr_user_baseline base = {
		.first_seen = u->first_seen,
		.last_seen = u->last_seen,
		.events = u->events,
	};
	base.converged = u->events >= cfg->learning_min_events &&
			 u->last_seen - u->first_seen >= (int64_t)cfg->learning_min_days * 86400;

	mmr_contribs contribs = {.v = out->reasons, .cap = MMR_MAX_REASONS};
	mmr_detect_ctx ctx = {.ev = ev, .cfg = cfg, .user = &base};
	for (size_t i = 0; i < e->ndet; i++) {
		ctx.user_state = rec + e->slice_off[i];
		ctx.global = e->global[i];
		mmr_detectors[i]->score(&ctx, &contribs);
	}
	out->n_reasons = contribs.n;
	qsort(out->reasons, (size_t)out->n_reasons, sizeof(out->reasons[0]), by_points_desc);
	out->score = mmr_score_combine(out->reasons, out->n_reasons);

	for (size_t i = 0; i < e->ndet; i++) {
		ctx.user_state = rec + e->slice_off[i];
		ctx.global = e->global[i];
		if (mmr_detectors[i]->learn)
			mmr_detectors[i]->learn(&ctx);
	}

	if (ev->outcome != MMR_OUTCOME_FAILURE) {
		/* a user who has signed in successfully is worth protecting from eviction by a
		 * flood of invented names (failed logins cost an attacker nothing) */
		mmr_lru_protect(&hold, rec);
		if (u->events == 0 || ev->time < u->first_seen)
			u->first_seen = ev->time;
		if (u->events == 0 || ev->time > u->last_seen)
			u->last_seen = ev->time;
		u->events++;
	}
	u->risk = mmr_risk_decay(u->risk, u->risk_time, ev->time, cfg->user_score_halflife);
	if (ev->time > u->risk_time)
		u->risk_time = ev->time;
	u->risk += risk_increment(e, u, out, ev->time);
	out->user_score = mmr_user_score(u->risk, cfg->user_score_scale);
	out->learning = !(u->events >= cfg->learning_min_events &&
			  u->last_seen - u->first_seen >= (int64_t)cfg->learning_min_days * 86400);
	mmr_lru_release(&hold);

	atomic_fetch_add(&e->scored, 1);
	if (contribs.dropped)
		atomic_fetch_add(&e->reasons_dropped, (uint64_t)contribs.dropped);
	return 0;
}

struct json_object *mmr_result_to_json(const mmr_result *r)
{
	struct json_object *o = json_object_new_object(), *reasons = json_object_new_array();
	if (o == NULL || reasons == NULL) {
		json_object_put(o);
		json_object_put(reasons);
		return NULL;
	}
	json_object_object_add(o, "user", json_object_new_string(r->user));
	json_object_object_add(o, "score", json_object_new_int(r->score));
	json_object_object_add(o, "level", json_object_new_string(mmr_level_name(r->score)));
	json_object_object_add(o, "user_score", json_object_new_int(r->user_score));
	json_object_object_add(o, "user_level",
			       json_object_new_string(mmr_level_name(r->user_score)));
	for (int i = 0; i < r->n_reasons; i++) {
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "rule", json_object_new_string(r->reasons[i].rule));
		json_object_object_add(x, "points", json_object_new_int(r->reasons[i].points));
		json_object_object_add(x, "detail", json_object_new_string(r->reasons[i].detail));
		json_object_array_add(reasons, x);
	}
	json_object_object_add(o, "reasons", reasons);
	json_object_object_add(o, "learning", json_object_new_boolean(r->learning));
	return o;
}

void mmr_engine_stats(mmr_engine *e, mmr_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->events_scored = atomic_load(&e->scored);
	st->events_failed = atomic_load(&e->failed);
	st->reasons_dropped = atomic_load(&e->reasons_dropped);
	st->users = mmr_lru_count(e->users);
	st->users_evicted = mmr_lru_evictions(e->users);
	for (size_t i = 0; i < e->ndet; i++)
		if (mmr_detectors[i]->stats && e->global[i])
			mmr_detectors[i]->stats(e->global[i], st);
}
