/* Several distinct accounts active from one external source IP within a window: the
 * "laptop farm" pattern, where one person's residential line carries the company laptops of
 * several unrelated "employees".
 *
 * Representation: an LRU table keyed by source IP (config max_ips entries), each entry the
 * last MAX_USERS distinct accounts seen on that IP (hash, last event time, name cut to 23
 * bytes for the explanation), 288 bytes per IP. When all slots are taken the least recently
 * seen account is replaced; a farm of more than 8 accounts still shows as 8.
 *
 * An event from an external address (not private, not a configured corporate network: office
 * NAT and VPN pools legitimately carry many users) fires when the accounts seen on that IP
 * within farm_window, this one included, reach farm_min_users: 40 points, plus 10 for every
 * further account, at most 70. Failed sign-ins neither fire nor teach: a farm is a set of
 * accounts that successfully work from one place, and a password sprayer's failures are the
 * failure-burst detector's business. No baseline is needed: this is a cross-entity count.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "../state/lru_table.h"

#define MAX_USERS 8
#define NAME_LEN 24

typedef struct {
	uint32_t hash[MAX_USERS];
	int64_t seen[MAX_USERS];
	char name[MAX_USERS][NAME_LEN];
} ip_users;

static const char *const rules[] = {"network.shared_source_ip", NULL};

static void *global_new(const mmr_config *cfg)
{
	return mmr_lru_table_new(cfg->max_ips, sizeof(ip_users), 16);
}

static void global_free(void *g)
{
	mmr_lru_table_free(g);
}

static bool relevant(const mmr_detect_ctx *ctx)
{
	return ctx->ev->outcome != MMR_OUTCOME_FAILURE &&
	       mmr_ip_is_external(ctx->cfg, &ctx->ev->src_ip);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	if (!relevant(ctx))
		return;
	mmr_lru_hold hold;
	const ip_users *u = mmr_lru_acquire(ctx->global, &ev->src_ip, sizeof(ev->src_ip), false,
					    NULL, &hold);
	if (u == NULL) {
		mmr_lru_release(&hold);
		return;
	}
	uint32_t me = mmr_user_hash32(ev->user);
	unsigned n = 1;
	char others[MAX_USERS * (NAME_LEN + 2)] = "";
	for (int i = 0; i < MAX_USERS; i++) {
		if (u->hash[i] == 0 || u->hash[i] == me || u->seen[i] <= ev->time - ctx->cfg->farm_window)
			continue;
		n++;
		size_t l = strlen(others);
		snprintf(others + l, sizeof(others) - l, "%s%s", l ? ", " : "", u->name[i]);
	}
	mmr_lru_release(&hold);
	if (n < ctx->cfg->farm_min_users)
		return;
	int points = 40 + 10 * (int)(n - ctx->cfg->farm_min_users);
	char addr[64];
	mmr_ip_format(&ev->src_ip, addr, sizeof(addr));
	long hours = (long)(ctx->cfg->farm_window / 3600);
	mmr_contrib_add(out, rules[0], points > 70 ? 70 : points,
			"%u distinct accounts active from %s within %ld h (also: %s); it is not a "
			"corporate network",
			n, addr, hours, others);
}

static void learn(const mmr_detect_ctx *ctx)
{
	const mmr_event *ev = ctx->ev;
	if (!relevant(ctx))
		return;
	mmr_lru_hold hold;
	ip_users *u = mmr_lru_acquire(ctx->global, &ev->src_ip, sizeof(ev->src_ip), true, NULL,
				      &hold);
	if (u != NULL) {
		uint32_t me = mmr_user_hash32(ev->user);
		int slot = -1, oldest = 0;
		for (int i = 0; i < MAX_USERS && slot < 0; i++) {
			if (u->hash[i] == me || u->hash[i] == 0)
				slot = i;
			else if (u->seen[i] < u->seen[oldest])
				oldest = i;
		}
		if (slot < 0)
			slot = oldest;
		if (u->hash[slot] != me) {
			u->hash[slot] = me;
			u->seen[slot] = ev->time;
			size_t l = strnlen(ev->user, NAME_LEN - 1);
			memcpy(u->name[slot], ev->user, l);
			u->name[slot][l] = '\0';
		} else if (ev->time > u->seen[slot]) {
			u->seen[slot] = ev->time;
		}
	}
	mmr_lru_release(&hold);
}

static void stats(void *g, mmr_stats *st)
{
	st->ips += mmr_lru_count(g);
	st->ips_evicted += mmr_lru_evictions(g);
}

const mmr_detector mmr_detector_shared_source_ip = {
	.name = "shared_source_ip",
	.rules = rules,
	.user_state_size = 0,
	.global_new = global_new,
	.global_free = global_free,
	.score = score,
	.learn = learn,
	.stats = stats,
};
