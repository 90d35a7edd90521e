/* A harness that drives one detector directly through its interface (detect/detector.h), the
 * way engine.c does, but with a hand-built enrichment (mmr_enriched) so that a test states
 * exactly the facts the detector sees: country, ASN, roster team, tenure, ...
 *
 *   dh h;
 *   dh_init(&h, &mmr_detector_first_seen_country, NULL);   // NULL: default config
 *   dh_event(&h, "alice", MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, "198.18.1.2", t);
 *   strcpy(h.x.country, "DE");                              // facts for this event
 *   dh_step(&h);                                            // score, then learn
 *   assert_int_equal(dh_points(&h, "geo.first_seen_country"), -1);
 *
 * Per-user slices and baselines (events, first/last seen, converged with cfg's learning
 * settings) are kept for up to DH_USERS users, as the engine keeps them.
 */
#ifndef DETECTOR_HARNESS_H
#define DETECTOR_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmriskscore/engine.h"
#include "detect/detector.h"
#include "enrich/enrich.h"
#include "net/netlist.h"

#define DH_USERS 64

typedef struct dh_user {
	char name[MMR_USER_MAX];
	mmr_user_baseline base;
	unsigned char *slice;
} dh_user;

typedef struct dh {
	const mmr_detector *d;
	mmr_config cfg;
	void *global;
	dh_user users[DH_USERS];
	int nusers;
	dh_user *cur;
	mmr_event ev;
	mmr_enriched x;
	mmr_reason reasons[MMR_MAX_REASONS];
	mmr_contribs out;
	double param[32]; /* the detector's params: defaults, change before dh_event */
	const struct mmr_context *context; /* NULL unless a test loads one */
} dh;

static inline void dh_init(dh *h, const mmr_detector *d, const mmr_config *cfg)
{
	memset(h, 0, sizeof(*h));
	h->d = d;
	if (cfg)
		h->cfg = *cfg;
	else
		mmr_config_init(&h->cfg);
	for (int i = 0; d->params && d->params[i].key && i < 32; i++)
		h->param[i] = d->params[i].def;
	if (d->global_new && (h->global = d->global_new(&h->cfg)) == NULL) {
		fprintf(stderr, "dh_init: global_new failed\n");
		abort();
	}
}

static inline void dh_free(dh *h)
{
	if (h->global && h->d->global_free)
		h->d->global_free(h->global);
	for (int i = 0; i < h->nusers; i++)
		free(h->users[i].slice);
	h->nusers = 0;
}

static inline dh_user *dh_user_get(dh *h, const char *name)
{
	for (int i = 0; i < h->nusers; i++)
		if (strcmp(h->users[i].name, name) == 0)
			return &h->users[i];
	if (h->nusers == DH_USERS) {
		fprintf(stderr, "dh: too many users\n");
		abort();
	}
	dh_user *u = &h->users[h->nusers++];
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->slice = calloc(1, h->d->user_state_size ? h->d->user_state_size : 1);
	return u;
}

/* Starts a new event; resets h->x to the facts implied by ip alone (external when public
 * and not in cfg.corporate). Set more fields of h->ev / h->x before dh_score/dh_step. */
static inline void dh_event(dh *h, const char *user, mmr_action action, mmr_outcome outcome,
			    const char *ip, int64_t t)
{
	mmr_event_init(&h->ev);
	snprintf(h->ev.user, sizeof(h->ev.user), "%s", user);
	h->ev.action = action;
	h->ev.outcome = outcome;
	h->ev.time = t;
	h->ev.time_from_log = true;
	if (ip && mmr_ip_parse(ip, &h->ev.src_ip) != 0) {
		fprintf(stderr, "dh_event: bad ip %s\n", ip);
		abort();
	}
	memset(&h->x, 0, sizeof(h->x));
	h->x.tenure_days = -1;
	h->x.has_src = h->ev.src_ip.family != 0;
	h->x.corporate = h->x.has_src && mmr_netlist_contains(h->cfg.corporate, &h->ev.src_ip);
	h->x.external = h->x.has_src && !h->x.corporate && !mmr_ip_is_private(&h->ev.src_ip);
	h->cur = dh_user_get(h, user);
}

/* Sets the client facts enrichment derives from the event (h->x.mobile, mobile_carrier,
 * inflight_or_satellite) the
 * way mmr_enrich computes them, from h->ev's user agent and device and h->x.as_org: call it
 * after setting those, before dh_score/dh_step. */
static inline void dh_enrich_client(dh *h)
{
	mmr_event ev = h->ev;
	mmr_enriched x;
	snprintf(ev.as_org, sizeof(ev.as_org), "%s", h->x.as_org);
	mmr_enrich(NULL, &h->cfg, &ev, &x);
	h->x.mobile = x.mobile;
	h->x.mobile_carrier = x.mobile_carrier;
	h->x.inflight_or_satellite = x.inflight_or_satellite;
}

static inline mmr_detect_ctx dh_ctx(dh *h)
{
	dh_user *u = h->cur;
	u->base.converged = u->base.events >= h->cfg.learning_min_events &&
			    u->base.last_seen - u->base.first_seen >=
				    (int64_t)h->cfg.learning_min_days * 86400;
	mmr_detect_ctx c = {.ev = &h->ev, .cfg = &h->cfg, .user = &u->base, .x = &h->x,
			    .context = h->context, .param = h->param, .user_state = u->slice, .global = h->global};
	return c;
}

/* Runs score(); returns the number of reasons (in h->reasons). */
static inline int dh_score(dh *h)
{
	memset(h->reasons, 0, sizeof(h->reasons));
	h->out = (mmr_contribs){.v = h->reasons, .cap = MMR_MAX_REASONS};
	mmr_detect_ctx c = dh_ctx(h);
	h->d->score(&c, &h->out);
	return h->out.n;
}

/* Runs learn() and updates the user's baseline as engine.c does. */
static inline void dh_learn(dh *h)
{
	mmr_detect_ctx c = dh_ctx(h);
	if (h->d->learn)
		h->d->learn(&c);
	dh_user *u = h->cur;
	if (h->ev.outcome != MMR_OUTCOME_FAILURE) {
		if (u->base.events == 0 || h->ev.time < u->base.first_seen)
			u->base.first_seen = h->ev.time;
		if (u->base.events == 0 || h->ev.time > u->base.last_seen)
			u->base.last_seen = h->ev.time;
		u->base.events++;
	}
}

static inline int dh_step(dh *h)
{
	int n = dh_score(h);
	dh_learn(h);
	return n;
}

/* Points of rule in the last score(), or -1 when it did not fire. */
static inline int dh_points(const dh *h, const char *rule)
{
	for (int i = 0; i < h->out.n; i++)
		if (strcmp(h->reasons[i].rule, rule) == 0)
			return h->reasons[i].points;
	return -1;
}

/* Detail of rule in the last score(), or "" when it did not fire. */
static inline const char *dh_detail(const dh *h, const char *rule)
{
	for (int i = 0; i < h->out.n; i++)
		if (strcmp(h->reasons[i].rule, rule) == 0)
			return h->reasons[i].detail;
	return "";
}

/* Prints the reasons of the last score() (for a failing assertion). */
static inline void dh_dump(const dh *h)
{
	for (int i = 0; i < h->out.n; i++)
		print_message("  %s %d %s\n", h->reasons[i].rule, h->reasons[i].points,
			      h->reasons[i].detail);
}

/* Fails unless rule fired with points in the last score() (points -1: did not fire). */
static inline void dh_expect_points(const dh *h, const char *rule, int points)
{
	int p = dh_points(h, rule);
	if (p != points) {
		dh_dump(h);
		fail_msg("%s: %d points, expected %d", rule, p, points);
	}
}

/* Fails unless the detail of rule names needle and is one short sentence (< 200 bytes). */
static inline void dh_expect_detail(const dh *h, const char *rule, const char *needle)
{
	const char *d = dh_detail(h, rule);
	if (strstr(d, needle) == NULL)
		fail_msg("detail of %s does not name \"%s\": \"%s\"", rule, needle, d);
	if (strlen(d) >= 200)
		fail_msg("detail of %s is %zu bytes: \"%s\"", rule, strlen(d), d);
}

/* Index of the detector's param key in h->param; fails when there is none. */
static inline int dh_param_index(const mmr_detector *d, const char *key)
{
	for (int i = 0; d->params && d->params[i].key; i++)
		if (strcmp(d->params[i].key, key) == 0)
			return i;
	fail_msg("no param %s", key);
	return -1;
}

#endif
