/* First-seen and uncommon target (lateral movement): the user reaches a server or an
 * application they never reached before, or one that their peer group does not use.
 *
 *   access.first_seen_target      10  a target the user has not reached in the lookback
 *                                     (180 days); weak, only once the baseline converged
 *   access.uncommon_target_peers  25  no peer (15: at most 10% of the peers) ever reached the
 *                                     target; needs a roster peer group, no convergence:
 *                                     "access to db-prod-3, new for this user; 0 of 9 peers in
 *                                     engineering/platform-2 used it (...)"
 *
 * Research: Sentinel UEBA's FirstTimeUserAccessedResource and ResourceUncommonlyAccessedAmong
 * Peers (180 days); Exabeam's "first login to a critical system by a specific user"; the brief's
 * "a new hire who touches systems that no one in their team uses" (DESIGN.md §1). The
 * simulator's vps_operator, dormant_wakeup and subtle actors ssh to servers of other teams.
 *
 * The target of an event: the application of an SSO event; for a successful AUTH event the log's
 * target (a RADIUS NAS, ...), else the host that logged it when the source address is private
 * or absent: an sshd login from the VPN pool or the office LAN names the server in `host`
 * (rulebase/SCHEMA.md), while sign-ins from public addresses (the internet, an office NAT) are
 * logged by the IdP or the VPN gateway, the perimeter, not a target (and a first office day
 * must not make the IdP's collector "a server no peer uses"). Names compare case-insensitively.
 *
 * Confounders and why the peer rule stays quiet for them: system administrators reach the
 * servers of every team, but so do their peers in IT Operations; a new hire ramping up reaches
 * their team's servers, which the team uses. On-call engineers reach production servers outside
 * their team at night: when other on-call engineers of the team did so before the count is not
 * zero (15 points at most, silent above 10%); a team's first on-call page to a server fires.
 * The peer rule needs at least peers_min_observed (3) peers seen reaching any target and the
 * tenant observed for warmup_days (7): before that nobody's usual servers are known. It fires
 * on the user's first use of a target; using it again is their own baseline.
 *
 * Representation (per user, 128 bytes): a seen set (seen_set.h) of 16 targets (32-bit hash of
 * the lower-cased name and the day of the last use). An engineer's apps and team servers fit;
 * a system administrator touching more than 16 targets within the lookback overflows: the
 * least recently used targets are forgotten, a forgotten one reached again is "first seen"
 * again (10 points for the user rule) and is counted once more in the population (which only
 * makes the target look more common among the admin's peers: silent). Global: a population
 * table (population.h) of users per (target, tenant) and (target, peer group).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "population.h"
#include "seen_set.h"
#include "../net/netlist.h"

#define SLOTS 16

typedef struct {
	mmr_seen_slot t[SLOTS];
} fst_state;

static const char *const rules[] = {"access.first_seen_target", "access.uncommon_target_peers",
				    NULL};

enum { P_LOOKBACK, P_POINTS, P_PEER_ZERO, P_PEER_FEW, P_PEER_SHARE, P_PEER_MIN, P_WARMUP };

static const mmr_param params[] = {
	{"target.lookback_days", 180, 1, 3650,
	 "days a target stays known to a user after they last reached it"},
	{"target.first_seen_points", 10, 0, 100, "points of access.first_seen_target"},
	{"target.peers_zero_points", 25, 0, 100,
	 "points of access.uncommon_target_peers when no peer reached the target"},
	{"target.peers_few_points", 15, 0, 100,
	 "points of access.uncommon_target_peers when at most peers_max_share of the peers did"},
	{"target.peers_max_share", 0.10, 0, 1,
	 "share of the peers at or below which a target is uncommon among them"},
	{"target.peers_min_observed", 3, 1, 100000,
	 "peers seen reaching any target before access.uncommon_target_peers may fire"},
	{"target.warmup_days", 7, 0, 3650,
	 "days of events the tenant must have been observed before the peer rule fires"},
	{NULL, 0, 0, 0, NULL},
};

static void *global_new(const mmr_config *cfg)
{
	return mmr_population_new(cfg->max_ips);
}

static void global_free(void *g)
{
	mmr_population_free(g);
}

/* What the event reached, or NULL. */
static const char *target_of(const mmr_detect_ctx *ctx)
{
	const mmr_event *ev = ctx->ev;
	if (ev->outcome != MMR_OUTCOME_SUCCESS)
		return NULL;
	if (ev->action == MMR_ACTION_SSO)
		return ev->target[0] ? ev->target : NULL;
	if (ev->action != MMR_ACTION_AUTH)
		return NULL;
	if (ev->target[0])
		return ev->target;
	/* a login from inside (VPN pool, office LAN) or without an address: the server that
	 * logged it; from a public address (the internet, an office NAT): the IdP or gateway */
	bool inside = ev->src_ip.family == 0 || mmr_ip_is_private(&ev->src_ip);
	return ev->host[0] && inside ? ev->host : NULL;
}

static uint32_t target_hash(const char *s)
{
	char low[MMR_FIELD_MAX];
	size_t n = 0;
	for (; s[n] && n < sizeof(low); n++)
		low[n] = (char)tolower((unsigned char)s[n]);
	return mmr_hash32(low, n);
}

static uint32_t lookback(const mmr_detect_ctx *ctx)
{
	return (uint32_t)ctx->param[P_LOOKBACK];
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const fst_state *st = ctx->user_state;
	const char *target = target_of(ctx);
	if (target == NULL)
		return;
	uint32_t v = target_hash(target), today = mmr_seen_day(ctx->ev->time);
	if (mmr_seen_find(st->t, SLOTS, v, today, lookback(ctx)) >= 0)
		return;

	char what[96];
	snprintf(what, sizeof(what), "access to %.48s", target);
	uint32_t look = lookback(ctx);
	if (ctx->user->converged)
		mmr_contrib_add(out, rules[0], (int)ctx->param[P_POINTS],
				"first %s by this user in %u days (%d other targets known, %d kept at "
				"most; user active %ld days)",
				what, lookback(ctx), mmr_seen_count(st->t, SLOTS, today, look, v),
				SLOTS, mmr_user_active_days(ctx->user));

	const mmr_pop_rules r = {
		.kind = MMR_POP_TARGET,
		.peer_rule = rules[1],
		.tenant_rule = NULL,
		.noun = "targets",
		.peer_zero_points = (int)ctx->param[P_PEER_ZERO],
		.peer_few_points = (int)ctx->param[P_PEER_FEW],
		.peer_max_share = ctx->param[P_PEER_SHARE],
		.peer_min_observed = (uint32_t)ctx->param[P_PEER_MIN],
		.warmup = (int64_t)(ctx->param[P_WARMUP] * 86400),
	};
	bool has_any = mmr_seen_count(st->t, SLOTS, today, lookback(ctx), 0) > 0;
	mmr_population_score(ctx->global, ctx, &r, v, has_any, what, out);
}

static void learn(const mmr_detect_ctx *ctx)
{
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	mmr_population_observe(ctx->global, ctx->ev->time);
	const char *target = target_of(ctx);
	if (target == NULL)
		return;
	fst_state *st = ctx->user_state;
	mmr_population_learn(ctx->global, MMR_POP_TARGET, ctx->x->group, st->t, SLOTS,
			     target_hash(target), ctx->ev->time, lookback(ctx));
}

static void stats(void *g, mmr_stats *st)
{
	mmr_population_stats(g, st);
}

const mmr_detector mmr_detector_first_seen_target = {
	.name = "first_seen_target",
	.rules = rules,
	.user_state_size = sizeof(fst_state),
	.params = params,
	.global_new = global_new,
	.global_free = global_free,
	.score = score,
	.learn = learn,
	.stats = stats,
};
