/* First-seen source network: the user connects from a network they have not used before.
 *
 * Representation (per user, 136 bytes): the 16 networks the user used most recently,
 *
 *   net[16]   uint32  hash of the network (IPv4 /24 or IPv6 /48 of the source address)
 *   day[16]   uint32  day number (event time / 86400) of the last use; 0 = empty slot
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
#include "../net/netlist.h"

#define SLOTS 16
#define LOOKBACK_DAYS 90

typedef struct {
	uint32_t net[SLOTS];
	uint32_t day[SLOTS];
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

static uint32_t day_of(int64_t t)
{
	return t > 0 ? (uint32_t)(t / 86400) : 1;
}

static int find(const fsn_state *st, uint32_t h, uint32_t today)
{
	for (int i = 0; i < SLOTS; i++)
		if (st->day[i] && st->net[i] == h && today < st->day[i] + LOOKBACK_DAYS)
			return i;
	return -1;
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
	if (find(st, h, day_of(ctx->ev->time)) >= 0)
		return;
	int known = 0; /* networks still within the lookback, this one excluded */
	uint32_t today = day_of(ctx->ev->time);
	for (int i = 0; i < SLOTS; i++)
		known += st->day[i] != 0 && st->net[i] != h && today < st->day[i] + LOOKBACK_DAYS;
	mmr_contrib_add(out, rules[0], 20,
			"first activity from network %s for this user in %d days (%d other networks "
			"known, user active %ld days)",
			label, LOOKBACK_DAYS, known,
			(long)((ctx->user->last_seen - ctx->user->first_seen) / 86400));
}

static void learn(const mmr_detect_ctx *ctx)
{
	fsn_state *st = ctx->user_state;
	if (!relevant(ctx))
		return;
	uint32_t h = net_hash(&ctx->ev->src_ip, NULL, 0), today = day_of(ctx->ev->time);
	int i = find(st, h, today);
	if (i < 0) {
		i = 0; /* the empty or least recently used slot */
		for (int j = 1; j < SLOTS && st->day[i]; j++)
			if (st->day[j] < st->day[i])
				i = j;
		st->net[i] = h;
		st->day[i] = today;
	} else if (today > st->day[i])
		st->day[i] = today;
}

const mmr_detector mmr_detector_first_seen_network = {
	.name = "first_seen_network",
	.rules = rules,
	.user_state_size = sizeof(fsn_state),
	.score = score,
	.learn = learn,
};
