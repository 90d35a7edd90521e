/* What the first-seen detectors with a population (first_seen_country, first_seen_asn,
 * first_seen_target) have in common: one shape, three rules, and all but the value itself.
 *
 *   user rule    the value is new for the user: not live in the user's seen set (seen_set.h)
 *                within lookback_days; only once the user's baseline has converged
 *   peer rule    the value is new for the user and no peer (or at most peers_max_share of the
 *                peers) used it; after the tenant's warm-up, with enough peers observed
 *   tenant rule  the value is new for the user and nobody in the tenant used it; after the
 *                warm-up; stands for the peer rule when it fires (optional)
 *
 * The peer and tenant rules, their gates and details are mmr_population_score()
 * (population.c); learning is mmr_population_learn(), which counts the user in the population
 * on their first use of the value. A detector describes itself with a static const
 * mmr_fs_family and keeps only what is its own: which value an event names (a country code, an
 * ASN, a target's hash), the phrase that names it ("activity from KP"), the user rule's detail,
 * its rule ids, params and points. Its score() and learn() are mmr_fs_score() and
 * mmr_fs_learn() with its family; its global state is a population (population.h's
 * mmr_population_global_* hooks) and its user state is nothing but the seen set.
 *
 * Header-only (static inline): each detector's copy is specialised for its own family, so the
 * hooks cost no indirect calls on the hot path. No allocation, no locks but the population's.
 */
#ifndef MMR_FIRST_SEEN_COMMON_H
#define MMR_FIRST_SEEN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detector.h"
#include "population.h"
#include "seen_set.h"

/* Appends sl bytes of s to buf[len] (len >= 1), which holds n bytes, cut at len - 1 bytes;
 * returns the new length; buf stays NUL-terminated. The evidence phrases and the details of
 * the three rules (population.c) are built with these rather than snprintf, byte for byte what
 * their printf formats made: the phrase is made for every event whose value is new to the
 * user, and snprintf was most of the cost of both. */
static inline size_t mmr_fs_cat(char *buf, size_t len, size_t n, const char *s, size_t sl)
{
	if (sl > len - 1 - n)
		sl = len - 1 - n;
	memcpy(buf + n, s, sl);
	buf[n + sl] = '\0';
	return n + sl;
}

/* Appends a string literal, its length known at compile time. */
#define mmr_fs_cat_lit(buf, len, n, lit) mmr_fs_cat(buf, len, n, "" lit, sizeof(lit) - 1)

/* Appends the NUL-terminated s, at most max bytes of it (printf's %.<max>s), as mmr_fs_cat. */
static inline size_t mmr_fs_cat_str(char *buf, size_t len, size_t n, const char *s, size_t max)
{
	return mmr_fs_cat(buf, len, n, s, strnlen(s, max));
}

/* Appends v in decimal, as mmr_fs_cat. */
static inline size_t mmr_fs_cat_u64(char *buf, size_t len, size_t n, uint64_t v)
{
	char d[20];
	size_t k = sizeof(d);
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return mmr_fs_cat(buf, len, n, d + k, sizeof(d) - k);
}

static inline size_t mmr_fs_cat_u32(char *buf, size_t len, size_t n, uint32_t v)
{
	return mmr_fs_cat_u64(buf, len, n, v);
}

/* Appends v in decimal with a '-' when negative (printf's %ld), as mmr_fs_cat. */
static inline size_t mmr_fs_cat_long(char *buf, size_t len, size_t n, long v)
{
	if (v >= 0)
		return mmr_fs_cat_u64(buf, len, n, (uint64_t)v);
	n = mmr_fs_cat(buf, len, n, "-", 1);
	/* the magnitude in unsigned arithmetic: -LONG_MIN does not fit a long */
	return mmr_fs_cat_u64(buf, len, n, 0 - (uint64_t)v);
}

/* The params every such detector has, first in its params[] and in this order; its own
 * (tenant_points when it has a tenant rule, warmup_days) follow from MMR_FS_P_OWN on. */
enum {
	MMR_FS_P_LOOKBACK,   /* <kind>.lookback_days */
	MMR_FS_P_POINTS,     /* <kind>.first_seen_points: the user rule */
	MMR_FS_P_PEER_ZERO,  /* <kind>.peers_zero_points */
	MMR_FS_P_PEER_FEW,   /* <kind>.peers_few_points */
	MMR_FS_P_PEER_SHARE, /* <kind>.peers_max_share */
	MMR_FS_P_PEER_MIN,   /* <kind>.peers_min_observed */
	MMR_FS_P_OWN,
};

/* A value that is new for the user, as the user rule's detail sees it. */
typedef struct mmr_fs_new {
	const char *what;         /* the family's phrase for it: "activity from KP" */
	const mmr_seen_slot *set; /* the user's seen set, `slots` slots */
	int slots;
	uint32_t today;           /* mmr_seen_day() of the event */
	uint32_t lookback;        /* days */
	int known;                /* other values live in the set */
} mmr_fs_new;

typedef struct mmr_fs_family {
	unsigned kind;            /* MMR_POP_* */
	const char *const *rules; /* the detector's rules[]: user rule, peer rule, tenant rule or
				   * NULL (none) */
	const char *noun;         /* with a tenant rule: the values' plural, "countries" */
	int slots;                /* the user state: a seen set of this many slots */
	int p_tenant;             /* with a tenant rule: params index of its points */
	int p_warmup;             /* params index of warmup_days */
	/* The value the event names; 0 when the event does not count (failure, no value). */
	uint32_t (*value)(const mmr_detect_ctx *ctx);
	/* The evidence phrase for the value of the event ("activity from AS64804 (Blockhost)"),
	 * used by all three rules' details. */
	void (*what)(const mmr_detect_ctx *ctx, uint32_t value, char *buf, size_t len);
	/* The user rule's detail. */
	void (*user_detail)(const mmr_detect_ctx *ctx, const mmr_fs_new *n, char *buf,
			    size_t len);
} mmr_fs_family;

/* score(): the user rule, then the peer and tenant rules, for a value new for the user. */
static inline void mmr_fs_score(const mmr_detect_ctx *ctx, const mmr_fs_family *f,
				mmr_contribs *out)
{
	uint32_t v = f->value(ctx);
	if (v == 0)
		return;
	const mmr_seen_slot *set = ctx->user_state;
	mmr_fs_new n = {
		.set = set,
		.slots = f->slots,
		.today = mmr_seen_day(ctx->ev->time),
		.lookback = (uint32_t)ctx->param[MMR_FS_P_LOOKBACK],
	};
	if (mmr_seen_find(set, f->slots, v, n.today, n.lookback) >= 0)
		return; /* known to the user: none of the three rules applies */

	/* v is not live in the set: every live slot is another value */
	n.known = mmr_seen_count(set, f->slots, n.today, n.lookback, v);
	char what[96];
	f->what(ctx, v, what, sizeof(what));
	n.what = what;
	if (ctx->user->converged) {
		char detail[MMR_DETAIL_MAX];
		f->user_detail(ctx, &n, detail, sizeof(detail));
		mmr_contrib_add(out, f->rules[0], (int)ctx->param[MMR_FS_P_POINTS], "%s", detail);
	}

	const mmr_pop_rules r = {
		.kind = f->kind,
		.peer_rule = f->rules[1],
		.tenant_rule = f->rules[2],
		.noun = f->noun,
		.peer_zero_points = (int)ctx->param[MMR_FS_P_PEER_ZERO],
		.peer_few_points = (int)ctx->param[MMR_FS_P_PEER_FEW],
		.peer_max_share = ctx->param[MMR_FS_P_PEER_SHARE],
		.peer_min_observed = (uint32_t)ctx->param[MMR_FS_P_PEER_MIN],
		.tenant_points = f->rules[2] ? (int)ctx->param[f->p_tenant] : 0,
		.warmup = (int64_t)(ctx->param[f->p_warmup] * 86400),
	};
	mmr_population_score(ctx->global, ctx, &r, v, n.known > 0, what, out);
}

/* learn(): every non-failure event runs the tenant clock; an event that names a value records
 * it in the user's set and, on the user's first use, counts the user in the population. */
static inline void mmr_fs_learn(const mmr_detect_ctx *ctx, const mmr_fs_family *f)
{
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	mmr_population_observe(ctx->global, ctx->ev->time);
	uint32_t v = f->value(ctx);
	if (v == 0)
		return;
	mmr_population_learn(ctx->global, f->kind, ctx->x->group, ctx->user_state, f->slots, v,
			     ctx->ev->time, (uint32_t)ctx->param[MMR_FS_P_LOOKBACK]);
}

#endif
