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
 *
 * The three-rule shape, the gates and the learning are shared with first_seen_country and
 * first_seen_target (first_seen_common.h); this file has the value, its phrase and the user
 * rule's detail.
 */
#include <stdio.h>

#include "detector.h"
#include "first_seen_common.h"

#define SLOTS 8

static const char *const rules[] = {"network.first_seen_asn", "network.uncommon_asn_peers",
				    "network.first_seen_asn_tenant", NULL};

enum { P_TENANT = MMR_FS_P_OWN, P_WARMUP };

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

/* The ASN itself; 0 when the event does not count. */
static uint32_t asn_value(const mmr_detect_ctx *ctx)
{
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE || !ctx->x->external)
		return 0;
	return ctx->x->asn;
}

static void asn_what(const mmr_detect_ctx *ctx, uint32_t v, char *buf, size_t len)
{
	/* "activity from AS%u (%.32s)" */
	size_t n = mmr_fs_cat(buf, len, 0, "activity from AS", 16);
	n = mmr_fs_cat_u32(buf, len, n, v);
	if (ctx->x->as_org[0]) {
		n = mmr_fs_cat(buf, len, n, " (", 2);
		n = mmr_fs_cat(buf, len, n, ctx->x->as_org, strnlen(ctx->x->as_org, 32));
		mmr_fs_cat(buf, len, n, ")", 1);
	}
}

static void user_detail(const mmr_detect_ctx *ctx, const mmr_fs_new *n, char *buf, size_t len)
{
	snprintf(buf, len,
		 "first %s for this user in %u days (%d other ASNs known; user active %ld days)",
		 n->what, n->lookback, n->known, mmr_user_active_days(ctx->user));
}

static const mmr_fs_family family = {
	.kind = MMR_POP_ASN,
	.rules = rules,
	.noun = "ASNs",
	.slots = SLOTS,
	.p_tenant = P_TENANT,
	.p_warmup = P_WARMUP,
	.value = asn_value,
	.what = asn_what,
	.user_detail = user_detail,
};

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	mmr_fs_score(ctx, &family, out);
}

static void learn(const mmr_detect_ctx *ctx)
{
	mmr_fs_learn(ctx, &family);
}

const mmr_detector mmr_detector_first_seen_asn = {
	.name = "first_seen_asn",
	.rules = rules,
	.user_state_size = sizeof(mmr_seen_slot[SLOTS]),
	.params = params,
	.global_new = mmr_population_global_new,
	.global_free = mmr_population_global_free,
	.score = score,
	.learn = learn,
	.stats = mmr_population_global_stats,
	.state_version = 1,
	.global_save = mmr_population_global_save,
	.global_load = mmr_population_global_load,
	.global_bytes = mmr_population_global_bytes,
};
