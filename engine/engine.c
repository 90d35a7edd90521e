/* The pipeline of DESIGN.md §2 from a canonical event on: look up the user, ask every
 * detector for its findings, combine them into the event score, let every detector learn,
 * then fold the score into the user's decaying risk.
 *
 * User record (the value of the users LRU table):
 *
 *   | user_core (first/last seen, events, rule slots) | detector 0 slice | 1 | ... |
 *
 * Each detector's slice sits at a fixed offset computed once from the registry, so adding a
 * detector never touches this file. The core's rule slots hold, per rule the user has fired
 * (RULE_SLOTS of them, engine_internal.h), the risk it holds and the event time it last fed
 * the user's risk: a rule feeds it at most once per rule_cooldown (default 1 h), so a
 * burst of 40 failures counts once, not 40 times ("caps on score stacking", as Splunk RBA users
 * do), while every message of the burst still carries its own event score and reasons.
 *
 * The engine's struct and user_core live in engine_internal.h, shared with engine_state.c
 * (snapshots: save, restore, and the re-attachment of pseudonymized records on a user miss).
 */
#include <json.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmriskscore/engine.h"
#include "mmriskscore/context.h"
#include "detect/detector.h"
#include "enrich/enrich.h"
#include "enrich/geoip.h"
#include "enrich/lists.h"
#include "score/correlate.h"
#include "score/model.h"
#include "score/score.h"
#include "state/lru_table.h"
#include "engine_internal.h"

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static int rule_index(const mmr_engine *e, const char *rule)
{
	for (size_t i = 0; i < e->nrules; i++)
		if (e->rule_ids[i] == rule || strcmp(e->rule_ids[i], rule) == 0)
			return (int)i;
	return -1;
}

/* Applies the model file's rule.<id>.weight|cap and detector parameters. */
static int resolve_model(mmr_engine *e, char *err, size_t errlen)
{
	const struct mmr_model *m = e->cfg.model;
	for (size_t i = 0; m && i < m->n; i++) {
		const mmr_model_entry *x = &m->v[i];
		const char *key = x->key;
		if (strcmp(key, "weak.cap") == 0) {
			if (x->value < 0 || x->value > MAX_CAP) {
				snprintf(err, errlen, "%s:%d: weak.cap must be 0-%d", m->path, x->line,
					 MAX_CAP);
				return -1;
			}
			e->weak_cap = x->value;
			continue;
		}
		if (strncmp(key, "rule.", 5) == 0) {
			const char *dot = strrchr(key + 5, '.');
			char rule[96];
			if (dot == NULL || dot == key + 5 || (size_t)(dot - key - 5) >= sizeof(rule))
				goto unknown;
			memcpy(rule, key + 5, (size_t)(dot - key - 5));
			rule[dot - key - 5] = '\0';
			int k = rule_index(e, rule);
			if (k < 0) {
				snprintf(err, errlen, "%s:%d: %s: no detector emits rule \"%s\"",
					 m->path, x->line, key, rule);
				return -1;
			}
			if (strcmp(dot, ".weight") == 0) {
				if (x->value < 0 || x->value > 10) {
					snprintf(err, errlen, "%s:%d: %s must be 0-10", m->path,
						 x->line, key);
					return -1;
				}
				e->rule_weight[k] = x->value;
			} else if (strcmp(dot, ".cap") == 0) {
				if (x->value < 0 || x->value > MAX_CAP) {
					snprintf(err, errlen, "%s:%d: %s must be 0-%d", m->path,
						 x->line, key, MAX_CAP);
					return -1;
				}
				e->rule_cap[k] = x->value;
			} else if (strcmp(dot, ".weak") == 0) {
				if (x->value != 0 && x->value != 1) {
					snprintf(err, errlen, "%s:%d: %s must be 0 or 1", m->path,
						 x->line, key);
					return -1;
				}
				e->rule_weak[k] = x->value == 1;
			} else {
				goto unknown;
			}
			continue;
		}
		for (size_t d = 0; d < e->ndet; d++) {
			const mmr_param *p = mmr_detectors[d]->params;
			for (size_t j = 0; p && p[j].key; j++) {
				if (strcmp(p[j].key, key) != 0)
					continue;
				if (x->value < p[j].min || x->value > p[j].max) {
					snprintf(err, errlen, "%s:%d: %s = %g is outside %g-%g (%s)",
						 m->path, x->line, key, x->value, p[j].min,
						 p[j].max, p[j].doc);
					return -1;
				}
				e->params[e->param_off[d] + j] = x->value;
				goto next;
			}
		}
	unknown:
		snprintf(err, errlen, "%s:%d: unknown key \"%s\" (docs/model.md lists them)",
			 m->path, x->line, key);
		return -1;
	next:;
	}
	return 0;
}

mmr_engine *mmr_engine_new(const mmr_config *cfg, char *err, size_t errlen)
{
	if (mmr_config_validate(cfg, err, errlen) != 0)
		return NULL;
	mmr_engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	/* a HUP must not wait forever behind a steady stream of messages */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&e->ctx_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&e->save_lock, NULL);
	e->cfg = *cfg;
	e->weak_cap = MMR_WEAK_POOL_CAP;
	size_t off = align16(sizeof(user_core));
	for (; mmr_detectors[e->ndet]; e->ndet++) {
		const mmr_detector *d = mmr_detectors[e->ndet];
		if (e->ndet == MAX_DETECTORS) {
			snprintf(err, errlen, "too many detectors (max %d)", MAX_DETECTORS);
			goto fail;
		}
		e->slice_off[e->ndet] = off;
		off += align16(d->user_state_size);
		for (const char *const *r = d->rules; *r; r++) {
			if (e->nrules == MAX_RULES) {
				snprintf(err, errlen, "too many rule ids (max %d)", MAX_RULES);
				goto fail;
			}
			mmr_model_rule_defaults(*r, &e->rule_weight[e->nrules],
						&e->rule_cap[e->nrules], &e->rule_weak[e->nrules]);
			e->rule_ids[e->nrules++] = *r;
		}
		e->param_off[e->ndet] = e->nparams;
		for (const mmr_param *p = d->params; p && p->key; p++) {
			if (e->nparams == MAX_PARAMS) {
				snprintf(err, errlen, "too many detector parameters (max %d)",
					 MAX_PARAMS);
				goto fail;
			}
			e->params[e->nparams++] = p->def;
		}
	}
	for (size_t c = 0; c < mmr_ncorrelations && c < 8; c++, e->ncorr++) {
		const mmr_correlation *k = &mmr_correlations[c];
		if (e->nrules == MAX_RULES) {
			snprintf(err, errlen, "too many rule ids (max %d)", MAX_RULES);
			goto fail;
		}
		mmr_model_rule_defaults(k->rule, &e->rule_weight[e->nrules], &e->rule_cap[e->nrules],
					&e->rule_weak[e->nrules]);
		e->corr_rule[c] = (int)e->nrules;
		e->rule_ids[e->nrules++] = k->rule;
		for (int i = 0; i < MMR_CORRELATION_SIDE; i++) {
			e->corr_side[c][0][i] = k->side_a[i] ? rule_index(e, k->side_a[i]) : -1;
			e->corr_side[c][1][i] = k->side_b[i] ? rule_index(e, k->side_b[i]) : -1;
		}
	}
	if (resolve_model(e, err, errlen) != 0)
		goto fail;
	e->record_size = off;
	for (size_t i = 0; i < e->ndet; i++) {
		const mmr_detector *d = mmr_detectors[i];
		if (d->global_new && (e->global[i] = d->global_new(&e->cfg)) == NULL)
			goto oom;
	}
	if ((e->users = mmr_lru_table_new(cfg->max_users, off, USER_STRIPES)) == NULL)
		goto oom;
	/* the model entries were copied by value with cfg; the engine must not free them */
	e->cfg.model = NULL;
	return e;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	e->cfg.model = NULL;
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
	mmr_context_free(e->ctx);
	pthread_rwlock_destroy(&e->ctx_lock);
	pthread_mutex_destroy(&e->save_lock);
	free(e);
}

void mmr_engine_set_context(mmr_engine *e, mmr_context *c)
{
	pthread_rwlock_wrlock(&e->ctx_lock);
	mmr_context *old = e->ctx;
	e->ctx = c;
	pthread_rwlock_unlock(&e->ctx_lock);
	mmr_context_free(old);
}

static int by_points_desc(const void *a, const void *b)
{
	const mmr_reason *x = a, *y = b;
	if (x->points != y->points)
		return y->points - x->points;
	return strcmp(x->rule, y->rule);
}

static void append(mmr_reason *r, const char *note)
{
	size_t l = strlen(r->detail);
	snprintf(r->detail + l, sizeof(r->detail) - l, " [%s]", note);
	mmr_utf8_sanitize(r->detail);
}

/* Rule weights, context multipliers (new hire, privileged) and allowlists, in that order.
 * A rule weighted 0 is switched off and dropped; an allowlisted one stays, with 0 points. */
static int adjust_points(mmr_engine *e, const mmr_enriched *x, const char *user, mmr_reason *r,
			 int n)
{
	const mmr_lists *lists = mmr_context_lists(e->ctx);
	int kept = 0;
	for (int i = 0; i < n; i++) {
		int k = rule_index(e, r[i].rule);
		double w = k >= 0 ? e->rule_weight[k] : 1.0;
		if (w == 0)
			continue;
		double p = r[i].points * w;
		char note[64] = "";
		if (x->new_hire && e->cfg.newhire_factor != 1.0) {
			p *= e->cfg.newhire_factor;
			snprintf(note, sizeof(note), "new hire x%.2g", e->cfg.newhire_factor);
		}
		if (x->privileged && e->cfg.privileged_factor != 1.0) {
			p *= e->cfg.privileged_factor;
			size_t l = strlen(note);
			snprintf(note + l, sizeof(note) - l, "%sprivileged x%.2g", l ? ", " : "",
				 e->cfg.privileged_factor);
		}
		const char *allow = x->allow_user ? "allowlisted: allow-users.txt"
				    : x->allow_network ? "allowlisted: allow-networks.txt"
				    : mmr_lists_allows_rule(lists, r[i].rule, user)
					    ? "allowlisted: allow-rules.txt"
					    : NULL;
		if (allow) {
			p = 0;
			atomic_fetch_add(&e->allowlisted, 1);
		}
		int raw = r[i].points;
		r[kept] = r[i];
		r[kept].points = (int)lround(p > 100 ? 100 : p);
		if (allow)
			append(&r[kept], allow);
		else if (note[0] && r[kept].points != raw)
			append(&r[kept], note);
		kept++;
	}
	return kept;
}

static double user_risk(const user_core *u)
{
	double sum = 0;
	for (int j = 0; j < RULE_SLOTS; j++)
		sum += u->rule_risk[j] / RISK_ONE;
	return sum;
}

int mmr_core_slot(const user_core *u, int k)
{
	for (int j = 0; j < RULE_SLOTS; j++)
		if (u->rule_of[j] == k + 1)
			return j;
	return -1;
}

int mmr_core_claim(mmr_engine *e, user_core *u, int k, int64_t t, uint32_t keep)
{
	int j = mmr_core_slot(u, k);
	if (j >= 0)
		return j;
	/* the best victim: free, then inert (no risk, cooldown over: forgetting it changes no
	 * later score), then the least risk, then the longest since it fired */
	int best = -1, best_class = 3;
	for (j = 0; j < RULE_SLOTS; j++) {
		if (keep & (1u << j))
			continue;
		int64_t d = t - (int64_t)u->rule_last[j];
		int cls = u->rule_of[j] == 0 ? 0
			  : u->rule_risk[j] == 0 && (d < 0 ? -d : d) >= e->cfg.rule_cooldown ? 1
											    : 2;
		if (best < 0 || cls < best_class ||
		    (cls == best_class && cls == 2 &&
		     (u->rule_risk[j] < u->rule_risk[best] ||
		      (u->rule_risk[j] == u->rule_risk[best] &&
		       u->rule_last[j] < u->rule_last[best])))) {
			best = j;
			best_class = cls;
		}
		if (best_class == 0)
			break;
	}
	if (best < 0)
		return -1;
	if (best_class == 2)
		atomic_fetch_add(&e->rule_slots_evicted, 1);
	u->rule_of[best] = (uint8_t)(k + 1);
	u->rule_last[best] = 0;
	u->rule_risk[best] = 0;
	return best;
}

/* Decays every rule's share to time t, then adds this event's fresh findings: together they
 * add the event score of the fresh reasons (diminishing returns), split over their rules in
 * proportion to points, each rule's share held to its cap. A rule feeds the user at most once
 * per rule_cooldown (|t - last| so that a burst delivered slightly out of order still counts
 * once; last only moves forward). */
static void update_risk(mmr_engine *e, user_core *u, const mmr_result *r, int64_t t)
{
	if (t > u->risk_time) {
		if (u->risk_time != 0) {
			double f = mmr_risk_decay(1.0, u->risk_time, t, e->cfg.user_score_halflife);
			for (int j = 0; j < RULE_SLOTS; j++)
				if (u->rule_risk[j])
					u->rule_risk[j] = (uint16_t)lround(u->rule_risk[j] * f);
		}
		u->risk_time = t;
	}
	mmr_reason fresh[MMR_MAX_REASONS];
	int idx[MMR_MAX_REASONS];
	int n = 0, sum = 0;
	uint32_t claimed = 0; /* slots of this event's rules: not to be given up for another */
	for (int i = 0; i < r->n_reasons; i++) {
		int k = rule_index(e, r->reasons[i].rule);
		if (k < 0 || r->reasons[i].points <= 0)
			continue;
		int j = mmr_core_slot(u, k);
		if (j >= 0 && u->rule_last[j] != 0) {
			int64_t d = t - (int64_t)u->rule_last[j];
			if ((d < 0 ? -d : d) < e->cfg.rule_cooldown)
				continue;
		}
		if (j < 0 && (j = mmr_core_claim(e, u, k, t, claimed)) < 0)
			continue;
		claimed |= 1u << j;
		if (u->rule_last[j] == 0 || t > (int64_t)u->rule_last[j])
			u->rule_last[j] = (uint32_t)(t > 0 ? t : 1);
		idx[n] = j;
		sum += r->reasons[i].points;
		fresh[n++] = r->reasons[i];
	}
	if (n == 0)
		return;
	double inc = mmr_score_combine(fresh, n);
	for (int i = 0; i < n; i++) {
		int j = idx[i];
		double v = u->rule_risk[j] / RISK_ONE + inc * fresh[i].points / sum;
		if (v > e->rule_cap[u->rule_of[j] - 1])
			v = e->rule_cap[u->rule_of[j] - 1];
		if (v * RISK_ONE > u->rule_risk[j])
			u->rule_risk[j] = (uint16_t)lround(v * RISK_ONE);
	}
	/* the weak pool: scale the weak shares down together when they exceed it */
	double weak = 0;
	for (int j = 0; j < RULE_SLOTS; j++)
		if (u->rule_of[j] && e->rule_weak[u->rule_of[j] - 1])
			weak += u->rule_risk[j] / RISK_ONE;
	if (weak > e->weak_cap) {
		double f = e->weak_cap / weak;
		for (int j = 0; j < RULE_SLOTS; j++)
			if (u->rule_of[j] && e->rule_weak[u->rule_of[j] - 1])
				u->rule_risk[j] = (uint16_t)floor(u->rule_risk[j] * f);
	}
}

static bool holds(const user_core *u, const int *side)
{
	for (int i = 0; i < MMR_CORRELATION_SIDE; i++) {
		int j = side[i] >= 0 ? mmr_core_slot(u, side[i]) : -1;
		if (j >= 0 && u->rule_risk[j] >= MMR_CORRELATION_MIN * RISK_ONE)
			return true;
	}
	return false;
}

static bool feeds(const mmr_engine *e, const mmr_result *r, const int *side)
{
	for (int j = 0; j < r->n_reasons; j++)
		for (int i = 0; i < MMR_CORRELATION_SIDE; i++)
			if (side[i] >= 0 && r->reasons[j].points > 0 &&
			    strcmp(r->reasons[j].rule, e->rule_ids[side[i]]) == 0)
				return true;
	return false;
}

/* After the event's findings fed the user's risk: add the correlations they complete as
 * reasons of this event (correlate.h), weighted and allowlisted like any finding; returns
 * how many were added at the end of out->reasons. */
static int correlate(mmr_engine *e, const mmr_enriched *x, const char *user, user_core *u,
		     mmr_result *out)
{
	int added = 0;
	for (size_t c = 0; c < e->ncorr; c++) {
		if (out->n_reasons == MMR_MAX_REASONS)
			break;
		if (!(feeds(e, out, e->corr_side[c][0]) || feeds(e, out, e->corr_side[c][1])) ||
		    !holds(u, e->corr_side[c][0]) || !holds(u, e->corr_side[c][1]))
			continue;
		mmr_reason *r = &out->reasons[out->n_reasons];
		r->rule = e->rule_ids[e->corr_rule[c]];
		r->points = mmr_correlations[c].points;
		snprintf(r->detail, sizeof(r->detail), "%s", mmr_correlations[c].detail);
		if (adjust_points(e, x, user, r, 1) == 1) { /* 0: the rule is switched off */
			out->n_reasons++;
			added++;
		}
	}
	return added;
}

int mmr_engine_process(mmr_engine *e, const mmr_event *ev, mmr_result *out)
{
	mmr_lru_hold hold;
	unsigned char *rec;
	const mmr_config *cfg = &e->cfg;
	mmr_event clamped;

	/* A message that claims a time far ahead would move the user's clock (decay, windows,
	 * cooldowns) and the tenant clocks of the detectors into the future; score it as "now"
	 * instead. The copy is made only for such messages. */
	if (cfg->max_future > 0) {
		int64_t now = (int64_t)time(NULL);
		if (ev->time > now + cfg->max_future) {
			clamped = *ev;
			clamped.time = now;
			ev = &clamped;
			atomic_fetch_add(&e->time_clamped, 1);
		}
	}

	memset(out, 0, offsetof(mmr_result, reasons));
	/* a copy, cut like snprintf would: formatting it cost 600 instructions per event */
	size_t ul = strnlen(ev->user, sizeof(out->user) - 1);
	memcpy(out->user, ev->user, ul);
	out->user[ul] = '\0';
	pthread_rwlock_rdlock(&e->ctx_lock);
	mmr_enriched x;
	mmr_enrich(e->ctx, cfg, ev, &x);
	bool created = false;
	rec = mmr_lru_acquire(e->users, ev->user, strlen(ev->user), true, &created, &hold);
	/* after a restore from a pseudonymized snapshot: a user not seen since may be waiting
	 * under their pseudonym (engine_state.c); only a miss pays for looking */
	if (rec != NULL && created &&
	    atomic_load_explicit(&e->pseudo_left, memory_order_relaxed) > 0)
		rec = mmr_engine_reattach(e, ev->user, rec, &hold);
	if (rec == NULL) {
		mmr_lru_release(&hold);
		pthread_rwlock_unlock(&e->ctx_lock);
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
	mmr_detect_ctx ctx = {.ev = ev, .cfg = cfg, .user = &base, .x = &x, .context = e->ctx};
	for (size_t i = 0; i < e->ndet; i++) {
		ctx.user_state = rec + e->slice_off[i];
		ctx.global = e->global[i];
		ctx.param = e->params + e->param_off[i];
		mmr_detectors[i]->score(&ctx, &contribs);
	}
	out->n_reasons = adjust_points(e, &x, ev->user, out->reasons, contribs.n);
	qsort(out->reasons, (size_t)out->n_reasons, sizeof(out->reasons[0]), by_points_desc);
	out->score = mmr_score_combine(out->reasons, out->n_reasons);

	for (size_t i = 0; i < e->ndet; i++) {
		ctx.user_state = rec + e->slice_off[i];
		ctx.global = e->global[i];
		ctx.param = e->params + e->param_off[i];
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
	update_risk(e, u, out, ev->time);
	int nc = correlate(e, &x, ev->user, u, out);
	if (nc > 0) {
		/* only the new reasons feed the risk again; the event score takes them all */
		mmr_result extra = {.n_reasons = nc};
		memcpy(extra.reasons, out->reasons + out->n_reasons - nc, (size_t)nc * sizeof(mmr_reason));
		update_risk(e, u, &extra, ev->time);
		qsort(out->reasons, (size_t)out->n_reasons, sizeof(out->reasons[0]), by_points_desc);
		out->score = mmr_score_combine(out->reasons, out->n_reasons);
	}
	/* not before: correlate() reads the allowlists of the context, and x points into it */
	pthread_rwlock_unlock(&e->ctx_lock);
	out->user_score = mmr_user_score(user_risk(u), cfg->user_score_scale);
	out->learning = !(u->events >= cfg->learning_min_events &&
			  u->last_seen - u->first_seen >= (int64_t)cfg->learning_min_days * 86400);
	mmr_lru_release(&hold);

	atomic_fetch_add(&e->scored, 1);
	int lv = out->score >= 90 ? 4 : out->score >= 70 ? 3 : out->score >= 40 ? 2 : out->score >= 20 ? 1 : 0;
	atomic_fetch_add(&e->level[lv], 1);
	if (contribs.dropped)
		atomic_fetch_add(&e->reasons_dropped, (uint64_t)contribs.dropped);
	return 0;
}

const char *const *mmr_engine_rules(const mmr_engine *e, size_t *n)
{
	if (n)
		*n = e->nrules;
	return e->rule_ids;
}

int mmr_engine_rule_model(const mmr_engine *e, const char *rule, double *weight, double *cap,
			  bool *weak)
{
	int k = rule_index(e, rule);
	if (k < 0)
		return -1;
	*weight = e->rule_weight[k];
	*cap = e->rule_cap[k];
	if (weak)
		*weak = e->rule_weak[k];
	return 0;
}

double mmr_engine_weak_cap(const mmr_engine *e)
{
	return e->weak_cap;
}

const char *mmr_engine_param_at(const mmr_engine *e, size_t i, double *value, double *def,
				double *min, double *max, const char **doc)
{
	for (size_t d = 0; d < e->ndet; d++) {
		const mmr_param *p = mmr_detectors[d]->params;
		size_t n = 0;
		while (p && p[n].key)
			n++;
		if (i < n) {
			*value = e->params[e->param_off[d] + i];
			*def = p[i].def;
			*min = p[i].min;
			*max = p[i].max;
			*doc = p[i].doc;
			return p[i].key;
		}
		i -= n;
	}
	return NULL;
}

int mmr_engine_param(const mmr_engine *e, const char *key, double *value)
{
	for (size_t d = 0; d < e->ndet; d++) {
		const mmr_param *p = mmr_detectors[d]->params;
		for (size_t j = 0; p && p[j].key; j++)
			if (strcmp(p[j].key, key) == 0) {
				*value = e->params[e->param_off[d] + j];
				return 0;
			}
	}
	return -1;
}

size_t mmr_engine_user_bytes(const mmr_engine *e)
{
	/* lru_table.c: a 39-byte entry header and the key (typically under 24 bytes) rounded up
	 * to 16, 8 bytes of bucket pointer and malloc's 16-byte chunk header */
	return e->record_size + 64 + 8 + 16;
}

void mmr_result_message(const mmr_result *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s risk %d (%s)", r->user, r->user_score,
			 mmr_level_name(r->user_score));
	for (int i = 0; i < r->n_reasons && i < 3 && n >= 0 && (size_t)n < len; i++)
		if (r->reasons[i].points > 0)
			n += snprintf(buf + n, len - (size_t)n, "%s %s", i ? ";" : ":",
				      r->reasons[i].detail);
	mmr_utf8_sanitize(buf);
}

/* every key is added once: KEY_IS_NEW spares libfastjson its search for an earlier one (a scan
 * of the members so far, strcasecmp per member inside rsyslogd) */
#define ADD(o, k, v) json_object_object_add_ex(o, k, v, JSON_C_OBJECT_ADD_KEY_IS_NEW)

struct json_object *mmr_result_to_json(const mmr_result *r)
{
	struct json_object *o = json_object_new_object(), *reasons = json_object_new_array();
	if (o == NULL || reasons == NULL) {
		json_object_put(o);
		json_object_put(reasons);
		return NULL;
	}
	ADD(o, "user", json_object_new_string(r->user));
	ADD(o, "score", json_object_new_int(r->score));
	ADD(o, "level", json_object_new_string(mmr_level_name(r->score)));
	ADD(o, "user_score", json_object_new_int(r->user_score));
	ADD(o, "user_level", json_object_new_string(mmr_level_name(r->user_score)));
	for (int i = 0; i < r->n_reasons; i++) {
		struct json_object *x = json_object_new_object();
		ADD(x, "rule", json_object_new_string(r->reasons[i].rule));
		ADD(x, "points", json_object_new_int(r->reasons[i].points));
		ADD(x, "detail", json_object_new_string(r->reasons[i].detail));
		json_object_array_add(reasons, x);
	}
	ADD(o, "reasons", reasons);
	char msg[600];
	mmr_result_message(r, msg, sizeof(msg));
	ADD(o, "message", json_object_new_string(msg));
	ADD(o, "learning", json_object_new_boolean(r->learning));
	return o;
}
#undef ADD

void mmr_engine_stats(mmr_engine *e, mmr_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->events_scored = atomic_load(&e->scored);
	st->events_failed = atomic_load(&e->failed);
	st->time_clamped = atomic_load(&e->time_clamped);
	st->reasons_dropped = atomic_load(&e->reasons_dropped);
	st->allowlisted = atomic_load(&e->allowlisted);
	for (int i = 0; i < 5; i++)
		st->level[i] = atomic_load(&e->level[i]);
	pthread_rwlock_rdlock(&e->ctx_lock);
	if (e->ctx && e->ctx->geoip)
		mmr_geoip_counters(e->ctx->geoip, &st->geoip_lookups, &st->geoip_cache_hits);
	pthread_rwlock_unlock(&e->ctx_lock);
	st->users = mmr_lru_count(e->users);
	st->users_evicted = mmr_lru_evictions(e->users);
	st->rule_slots_evicted = atomic_load(&e->rule_slots_evicted);
	for (size_t i = 0; i < e->ndet; i++)
		if (mmr_detectors[i]->stats && e->global[i])
			mmr_detectors[i]->stats(e->global[i], st);
}
