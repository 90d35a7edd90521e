/* First-seen and uncommon ASN (the network operator: ISP, carrier, hosting or VPN provider):
 * activity from an autonomous system that is new for the user, that their peer group does not
 * use, or that nobody in the tenant has used.
 *
 *   network.first_seen_asn         15  the user has not been active from this ASN in the
 *                                      lookback (90 days); only once the baseline converged
 *   network.uncommon_asn_peers     15  no peer (10: at most 10% of the peers) ever used the
 *                                      ASN; needs a roster peer group, no convergence
 *   network.first_seen_asn_tenant  20  nobody in the tenant has used the ASN before; stands for
 *                                      the peer rule when it fires
 *
 * Research: Sentinel UEBA's FirstTimeUserConnectedViaISP, ISPUncommonlyUsedAmongPeers and
 * FirstTimeConnectionViaISPInTenant (30-day lookbacks); Exabeam's UA-UI-F "first activity from
 * ISP". DPRK IT workers hide behind VPNs and VPS (Astrill VPN above all): a VPN or hosting ASN
 * that nobody else in the company uses is what this names, with the operator's name.
 *
 * Points are lower than for countries, on purpose: ASNs change more often than countries (a
 * hotel, a phone's carrier, a new home ISP), network.first_seen already speaks for a new /24,
 * and in a remote-first company the home ISPs of a team's members differ by city, so "no peer
 * uses this ISP" is common for honest people (a new hire's home ISP after the warm-up). A VPN
 * or hosting ASN is weighed by network_facts; this detector says it is new.
 *
 * Representation (per user, 64 bytes): a seen set (seen_set.h) of 8 ASNs (the number itself is
 * the slot's value) with the day of their last use; home ISP, carrier, office, a VPN and a few
 * hotels fit, the ASN used longest ago is forgotten first. Global: a population table
 * (population.h) of users per (ASN, tenant) and (ASN, peer group), and the tenant clock. The
 * peer and tenant rules fire on the user's first use of the ASN, only after the tenant has been
 * observed for warmup_days (7) and with at least peers_min_observed (3) peers seen. Only
 * successful events from external addresses with a known ASN (not 0) count.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "population.h"
#include "seen_set.h"

#define SLOTS 8

typedef struct {
	mmr_seen_slot a[SLOTS];
} fsa_state;

static const char *const rules[] = {"network.first_seen_asn", "network.uncommon_asn_peers",
				    "network.first_seen_asn_tenant", NULL};

enum { P_LOOKBACK, P_POINTS, P_PEER_ZERO, P_PEER_FEW, P_PEER_SHARE, P_PEER_MIN, P_TENANT,
       P_WARMUP };

static const mmr_param params[] = {
	{"asn.lookback_days", 90, 1, 3650,
	 "days an ASN stays known to a user after their last activity from it"},
	{"asn.first_seen_points", 15, 0, 100, "points of network.first_seen_asn"},
	{"asn.peers_zero_points", 15, 0, 100,
	 "points of network.uncommon_asn_peers when no peer used the ASN"},
	{"asn.peers_few_points", 10, 0, 100,
	 "points of network.uncommon_asn_peers when at most peers_max_share of the peers did"},
	{"asn.peers_max_share", 0.10, 0, 1,
	 "share of the peers at or below which an ASN is uncommon among them"},
	{"asn.peers_min_observed", 3, 1, 100000,
	 "peers seen from any ASN before network.uncommon_asn_peers may fire"},
	{"asn.tenant_points", 20, 0, 100, "points of network.first_seen_asn_tenant"},
	{"asn.warmup_days", 7, 0, 3650,
	 "days of events the tenant must have been observed before the peer and tenant rules fire"},
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

static bool relevant(const mmr_detect_ctx *ctx)
{
	return ctx->ev->outcome != MMR_OUTCOME_FAILURE && ctx->x->external && ctx->x->asn != 0;
}

static uint32_t lookback(const mmr_detect_ctx *ctx)
{
	return (uint32_t)ctx->param[P_LOOKBACK];
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const fsa_state *st = ctx->user_state;
	if (!relevant(ctx))
		return;
	uint32_t v = ctx->x->asn, today = mmr_seen_day(ctx->ev->time);
	if (mmr_seen_find(st->a, SLOTS, v, today, lookback(ctx)) >= 0)
		return;

	char what[96];
	if (ctx->x->as_org[0])
		snprintf(what, sizeof(what), "activity from AS%u (%.32s)", v, ctx->x->as_org);
	else
		snprintf(what, sizeof(what), "activity from AS%u", v);

	uint32_t look = lookback(ctx);
	if (ctx->user->converged)
		mmr_contrib_add(out, rules[0], (int)ctx->param[P_POINTS],
				"first %s for this user in %u days (%d other ASNs known; user active "
				"%ld days)",
				what, lookback(ctx), mmr_seen_count(st->a, SLOTS, today, look, v),
				mmr_user_active_days(ctx->user));

	const mmr_pop_rules r = {
		.kind = MMR_POP_ASN,
		.peer_rule = rules[1],
		.tenant_rule = rules[2],
		.noun = "ASNs",
		.peer_zero_points = (int)ctx->param[P_PEER_ZERO],
		.peer_few_points = (int)ctx->param[P_PEER_FEW],
		.peer_max_share = ctx->param[P_PEER_SHARE],
		.peer_min_observed = (uint32_t)ctx->param[P_PEER_MIN],
		.tenant_points = (int)ctx->param[P_TENANT],
		.warmup = (int64_t)(ctx->param[P_WARMUP] * 86400),
	};
	bool has_any = mmr_seen_count(st->a, SLOTS, today, lookback(ctx), 0) > 0;
	mmr_population_score(ctx->global, ctx, &r, v, has_any, what, out);
}

static void learn(const mmr_detect_ctx *ctx)
{
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	mmr_population_observe(ctx->global, ctx->ev->time);
	if (!relevant(ctx))
		return;
	fsa_state *st = ctx->user_state;
	mmr_population_learn(ctx->global, MMR_POP_ASN, ctx->x->group, st->a, SLOTS, ctx->x->asn,
			     ctx->ev->time, lookback(ctx));
}

static void stats(void *g, mmr_stats *st)
{
	mmr_population_stats(g, st);
}

const mmr_detector mmr_detector_first_seen_asn = {
	.name = "first_seen_asn",
	.rules = rules,
	.user_state_size = sizeof(fsa_state),
	.params = params,
	.global_new = global_new,
	.global_free = global_free,
	.score = score,
	.learn = learn,
	.stats = stats,
};
