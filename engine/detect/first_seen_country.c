/* First-seen and uncommon country: activity from a country that is new for the user, that
 * their peer group does not use, or that nobody in the tenant has used.
 *
 *   geo.first_seen_country         20  the user has not been active from this country in the
 *                                      lookback (180 days); only once the user's baseline has
 *                                      converged
 *   geo.uncommon_country_peers     25  no peer (15: at most 10% of the peers) ever used the
 *                                      country; needs a roster peer group, no convergence
 *   geo.first_seen_country_tenant  30  nobody in the tenant has used the country before; stands
 *                                      for the peer rule when it fires
 *
 * Research: Sentinel UEBA's FirstTimeUserConnectedFromCountry, CountryUncommonlyConnectedFrom
 * AmongPeers and FirstTimeConnectionFromCountryObservedInTenant (90-day lookbacks);
 * DPRK IT workers "most often located in North Korea, China, and Russia" (Microsoft), so
 * a slip from such a country is new for the user, for the peers and often for the tenant.
 *
 * Representation (per user, 64 bytes): a seen set (seen_set.h) of 8 countries, each slot the
 * ISO code packed into the 32-bit value ('U' << 8 | 'S': exact, no hash) and the day of its
 * last use. 8 is plenty: a frequent traveller in 180 days rarely visits more; the country used
 * longest ago is forgotten first. Global: a population table (population.h) of users per
 * (country, tenant) and (country, peer group), capped by max_ips, and the tenant clock.
 *
 * The user rule fires on every first use in the lookback, weakly: a conference trip fires it,
 * and that is fine. The peer and tenant rules fire on the user's first use of a country
 * their peers or the tenant have not used, and only after the tenant has been observed for
 * warmup_days (7), with at least peers_min_observed (3) peers seen from any country: before
 * that "0 of 9 peers" says nothing. The conference trip does not fire them when colleagues
 * went there before. Only successful events from external addresses (not private, not a
 * corporate network) with a known country count; an unknown country ("") is silent.
 *
 * The three-rule shape, the gates and the learning are shared with first_seen_asn and
 * first_seen_target (first_seen_common.h); this file has the value, its phrase and the user
 * rule's detail.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "first_seen_common.h"

#define SLOTS 8

static const char *const rules[] = {"geo.first_seen_country", "geo.uncommon_country_peers",
				    "geo.first_seen_country_tenant", NULL};

enum { P_TENANT = MMR_FS_P_OWN, P_WARMUP };

static const mmr_param params[] = {
	{"country.lookback_days", 180, 1, 3650,
	 "days a country stays known to a user after their last activity from it"},
	{"country.first_seen_points", 20, 0, 100, "points of geo.first_seen_country"},
	{"country.peers_zero_points", 25, 0, 100,
	 "points of geo.uncommon_country_peers when no peer used the country"},
	{"country.peers_few_points", 15, 0, 100,
	 "points of geo.uncommon_country_peers when at most peers_max_share of the peers did"},
	{"country.peers_max_share", 0.10, 0, 1,
	 "share of the peers at or below which a country is uncommon among them"},
	{"country.peers_min_observed", 3, 1, 100000,
	 "peers seen from any country before geo.uncommon_country_peers may fire"},
	{"country.tenant_points", 30, 0, 100, "points of geo.first_seen_country_tenant"},
	{"country.warmup_days", 7, 0, 3650,
	 "days of events the tenant must have been observed before the peer and tenant rules fire"},
	{NULL, 0, 0, 0, NULL},
};

/* The ISO code packed into the value, 'U' << 8 | 'S'; 0 when the event does not count. */
static uint32_t country_value(const mmr_detect_ctx *ctx)
{
	const char *c = ctx->x->country;
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE || !ctx->x->external || !c[0] || !c[1])
		return 0;
	return (uint32_t)(unsigned char)c[0] << 8 | (unsigned char)c[1];
}

static void country_what(const mmr_detect_ctx *ctx, uint32_t v, char *buf, size_t len)
{
	(void)v;
	size_t n = mmr_fs_cat(buf, len, 0, "activity from ", 14);
	mmr_fs_cat(buf, len, n, ctx->x->country, strlen(ctx->x->country));
}

/* Lists the countries the user is known from: "known: DE, US". */
static void user_detail(const mmr_detect_ctx *ctx, const mmr_fs_new *n, char *buf, size_t len)
{
	char known[SLOTS * 4 + 8] = "";
	for (int i = 0; i < n->slots; i++) {
		if (!mmr_seen_live(&n->set[i], n->today, n->lookback))
			continue;
		size_t l = strlen(known);
		snprintf(known + l, sizeof(known) - l, "%s%c%c", l ? ", " : "",
			 (char)(n->set[i].hash >> 8), (char)(n->set[i].hash & 0xff));
	}
	snprintf(buf, len,
		 "first activity from %s for this user in %u days (known: %s; user active %ld "
		 "days)",
		 ctx->x->country, n->lookback, known[0] ? known : "none",
		 mmr_user_active_days(ctx->user));
}

static const mmr_fs_family family = {
	.kind = MMR_POP_COUNTRY,
	.rules = rules,
	.noun = "countries",
	.slots = SLOTS,
	.p_tenant = P_TENANT,
	.p_warmup = P_WARMUP,
	.value = country_value,
	.what = country_what,
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

const mmr_detector mmr_detector_first_seen_country = {
	.name = "first_seen_country",
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
