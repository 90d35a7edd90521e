/* First-seen source network: the user connects from a network they have not used before.
 *
 * Representation (per user, 128 bytes): a seen set (seen_set.h) of the 16 networks the user
 * used most recently, each slot the 32-bit hash of the network (IPv4 /24 or IPv6 /48 of the
 * source address) and the day of its last use.
 *
 * A slot older than LOOKBACK_DAYS (90, Sentinel's lookback for country/ISP "first time") is
 * treated as empty, so "first seen" means "not seen in the last 90 days among the 16 most
 * recent networks". A user who roams over more than 16 networks sees the oldest forgotten
 * first; a 32-bit hash collision (about 16/2^32 per event) can hide a new network, never invent
 * one. Only external addresses count: private ranges and configured corporate networks (VPN
 * pools, office NAT) are never "new". Silent until the user's baseline has converged.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "population.h"
#include "seen_set.h"
#include "../net/netlist.h"

#define SLOTS 16
#define LOOKBACK_DAYS 90

typedef struct {
	mmr_seen_slot net[SLOTS];
} fsn_state;

static const char *const rules[] = {"network.first_seen", NULL};

static uint32_t net_hash(const mmr_ip *ip, char *label, size_t len)
{
	mmr_ip net;
	int prefix;
	mmr_ip_network(ip, &net, &prefix);
	if (label) {
		char a[64];
		mmr_ip_format(&net, a, sizeof(a));
		snprintf(label, len, "%s/%d", a, prefix);
	}
	return mmr_hash32(&net, sizeof(net)); /* family and address bytes */
}

static bool relevant(const mmr_detect_ctx *ctx)
{
	return ctx->ev->outcome != MMR_OUTCOME_FAILURE &&
	       mmr_ip_is_external(ctx->cfg, &ctx->ev->src_ip);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const fsn_state *st = ctx->user_state;
	if (!ctx->user->converged || !relevant(ctx))
		return;
	char label[80];
	uint32_t h = net_hash(&ctx->ev->src_ip, label, sizeof(label));
	uint32_t today = mmr_seen_day(ctx->ev->time);
	if (mmr_seen_find(st->net, SLOTS, h, today, LOOKBACK_DAYS) >= 0)
		return;
	/* networks still within the lookback, this one excluded */
	int known = mmr_seen_count(st->net, SLOTS, today, LOOKBACK_DAYS, h);
	mmr_contrib_add(out, rules[0], 20,
			"first activity from network %s for this user in %d days (%d other networks "
			"known, user active %ld days)",
			label, LOOKBACK_DAYS, known, mmr_user_active_days(ctx->user));
}

static void learn(const mmr_detect_ctx *ctx)
{
	fsn_state *st = ctx->user_state;
	if (!relevant(ctx))
		return;
	uint32_t h = net_hash(&ctx->ev->src_ip, NULL, 0);
	mmr_seen_add(st->net, SLOTS, h, mmr_seen_day(ctx->ev->time), LOOKBACK_DAYS);
}

const mmr_detector mmr_detector_first_seen_network = {
	.name = "first_seen_network",
	.rules = rules,
	.user_state_size = sizeof(fsn_state),
	.score = score,
	.learn = learn,
	.state_version = 1,
};
