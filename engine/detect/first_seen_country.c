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
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "population.h"
#include "seen_set.h"

#define SLOTS 8

typedef struct {
	mmr_seen_slot c[SLOTS];
} fsc_state;

static const char *const rules[] = {"geo.first_seen_country", "geo.uncommon_country_peers",
				    "geo.first_seen_country_tenant", NULL};

enum { P_LOOKBACK, P_POINTS, P_PEER_ZERO, P_PEER_FEW, P_PEER_SHARE, P_PEER_MIN, P_TENANT,
       P_WARMUP };

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

static void *global_new(const mmr_config *cfg)
{
	return mmr_population_new(cfg->max_ips);
}

static void global_free(void *g)
{
	mmr_population_free(g);
}

static uint32_t country_code(const char *c)
{
	return (uint32_t)(unsigned char)c[0] << 8 | (unsigned char)c[1];
}

static bool relevant(const mmr_detect_ctx *ctx)
{
	return ctx->ev->outcome != MMR_OUTCOME_FAILURE && ctx->x->external &&
	       ctx->x->country[0] && ctx->x->country[1];
}

static uint32_t lookback(const mmr_detect_ctx *ctx)
{
	return (uint32_t)ctx->param[P_LOOKBACK];
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const fsc_state *st = ctx->user_state;
	if (!relevant(ctx))
		return;
	const char *cc = ctx->x->country;
	uint32_t v = country_code(cc), today = mmr_seen_day(ctx->ev->time);
	if (mmr_seen_find(st->c, SLOTS, v, today, lookback(ctx)) >= 0)
		return; /* known to the user: none of the three rules applies */

	if (ctx->user->converged) {
		char known[SLOTS * 4 + 8] = "";
		for (int i = 0; i < SLOTS; i++) {
			if (!mmr_seen_live(&st->c[i], today, lookback(ctx)))
				continue;
			size_t l = strlen(known);
			snprintf(known + l, sizeof(known) - l, "%s%c%c", l ? ", " : "",
				 (char)(st->c[i].hash >> 8), (char)(st->c[i].hash & 0xff));
		}
		mmr_contrib_add(out, rules[0], (int)ctx->param[P_POINTS],
				"first activity from %s for this user in %u days (known: %s; user "
				"active %ld days)",
				cc, lookback(ctx), known[0] ? known : "none",
				mmr_user_active_days(ctx->user));
	}

	const mmr_pop_rules r = {
		.kind = MMR_POP_COUNTRY,
		.peer_rule = rules[1],
		.tenant_rule = rules[2],
		.noun = "countries",
		.peer_zero_points = (int)ctx->param[P_PEER_ZERO],
		.peer_few_points = (int)ctx->param[P_PEER_FEW],
		.peer_max_share = ctx->param[P_PEER_SHARE],
		.peer_min_observed = (uint32_t)ctx->param[P_PEER_MIN],
		.tenant_points = (int)ctx->param[P_TENANT],
		.warmup = (int64_t)(ctx->param[P_WARMUP] * 86400),
	};
	char what[32];
	snprintf(what, sizeof(what), "activity from %s", cc);
	bool has_any = mmr_seen_count(st->c, SLOTS, today, lookback(ctx), 0) > 0;
	mmr_population_score(ctx->global, ctx, &r, v, has_any, what, out);
}

static void learn(const mmr_detect_ctx *ctx)
{
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	mmr_population_observe(ctx->global, ctx->ev->time);
	if (!relevant(ctx))
		return;
	fsc_state *st = ctx->user_state;
	mmr_population_learn(ctx->global, MMR_POP_COUNTRY, ctx->x->group, st->c, SLOTS,
			     country_code(ctx->x->country), ctx->ev->time, lookback(ctx));
}

static void stats(void *g, mmr_stats *st)
{
	mmr_population_stats(g, st);
}

const mmr_detector mmr_detector_first_seen_country = {
	.name = "first_seen_country",
	.rules = rules,
	.user_state_size = sizeof(fsc_state),
	.params = params,
	.global_new = global_new,
	.global_free = global_free,
	.score = score,
	.learn = learn,
	.stats = stats,
};
