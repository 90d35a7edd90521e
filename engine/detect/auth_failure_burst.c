/* Burst of authentication failures, for one user and for one source IP.
 *
 * Per user: a failure_window (144 bytes) in a table of failure rings (failure_rings.h: config
 * max_ips entries, created at a user's first failure), nothing in the user record. Per source
 * IP: an LRU table (config max_ips entries, ~200 bytes each) holding a failure_window and the
 * hashes of up to 8 distinct accounts tried, so the reason can say "against 7 accounts"
 * (password spraying) or name one account (guessing).
 *
 * Saved state (docs/state.md): the IP table, then the ring table; with pseudonymization the
 * account hashes in the IP table and the user keys of the ring table are enciphered under the
 * pseudonym key. State version 2 (1 kept the user ring in the user record: a version-1
 * snapshot restores without this detector's state).
 *
 * A failure fires when, counting itself, the failures within failburst_window reach the
 * threshold (failburst_user_count / failburst_ip_count): every failure at or past the threshold
 * fires, so each message of a burst carries the reason. These rules need no baseline: they
 * count, they do not compare with the past.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "failure_rings.h"
#include "../state/lru_table.h"
#include "../state/snapshot.h"

#define IP_USERS 8

typedef struct {
	failure_window w;
	uint32_t users[IP_USERS]; /* hashes of distinct accounts tried, 0 = empty */
	uint8_t nusers;
	uint8_t users_overflow;   /* more than IP_USERS distinct accounts seen */
} ip_state;

static const char *const rules[] = {"auth.failure_burst.user", "auth.failure_burst.source_ip",
				    NULL};

typedef struct {
	mmr_lru_table *ips;
	mmr_lru_table *rings; /* per user */
} burst_global;

static void global_free(void *p)
{
	burst_global *g = p;
	if (g == NULL)
		return;
	mmr_lru_table_free(g->ips);
	mmr_lru_table_free(g->rings);
	free(g);
}

static void *global_new(const mmr_config *cfg)
{
	burst_global *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->ips = mmr_lru_table_new(cfg->max_ips, sizeof(ip_state), 16);
	g->rings = mmr_failure_rings_new(cfg);
	if (g->ips == NULL || g->rings == NULL) {
		global_free(g);
		return NULL;
	}
	return g;
}

static void window_label(int64_t w, char *buf, size_t len)
{
	if (w % 3600 == 0)
		snprintf(buf, len, "%lld h", (long long)(w / 3600));
	else if (w % 60 == 0)
		snprintf(buf, len, "%lld min", (long long)(w / 60));
	else
		snprintf(buf, len, "%lld s", (long long)w);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	const mmr_config *cfg = ctx->cfg;
	char win[32];

	if (ev->outcome != MMR_OUTCOME_FAILURE)
		return;
	window_label(cfg->failburst_window, win, sizeof(win));

	burst_global *g = ctx->global;
	mmr_lru_hold hold;
	const failure_window *ring = mmr_failure_ring(g->rings, ev->user, false, &hold);
	unsigned n = (ring ? fw_count(ring, ev->time, cfg->failburst_window) : 0) + 1;
	mmr_lru_release(&hold);
	if (n >= cfg->failburst_user_count)
		mmr_contrib_add(out, rules[0], 30,
				"%u failed sign-ins for this account within %s (threshold %u)", n, win,
				cfg->failburst_user_count);

	if (ev->src_ip.family == 0)
		return;
	const ip_state *ip = mmr_lru_acquire(g->ips, &ev->src_ip, sizeof(ev->src_ip), false,
					     NULL, &hold);
	if (ip != NULL) {
		unsigned c = fw_count(&ip->w, ev->time, cfg->failburst_window) + 1;
		if (c >= cfg->failburst_ip_count) {
			char addr[64];
			uint32_t uh = mmr_user_hash32(ev->user);
			unsigned accounts = ip->nusers;
			bool seen = false;
			for (unsigned i = 0; i < ip->nusers; i++)
				seen |= ip->users[i] == uh;
			accounts += !seen;
			bool many = ip->users_overflow || accounts > IP_USERS;
			mmr_ip_format(&ev->src_ip, addr, sizeof(addr));
			mmr_contrib_add(out, rules[1], 30,
					"%u failed sign-ins from %s within %s, against %s%u account%s "
					"(threshold %u)",
					c, addr, win, many ? "more than " : "",
					many ? IP_USERS : accounts, accounts == 1 ? "" : "s",
					cfg->failburst_ip_count);
		}
	}
	mmr_lru_release(&hold);
}

static void learn(const mmr_detect_ctx *ctx)
{
	const mmr_event *ev = ctx->ev;
	if (ev->outcome != MMR_OUTCOME_FAILURE)
		return;
	burst_global *g = ctx->global;
	mmr_lru_hold hold;
	failure_window *ring = mmr_failure_ring(g->rings, ev->user, true, &hold);
	if (ring != NULL)
		fw_add(ring, ev->time);
	mmr_lru_release(&hold);
	if (ev->src_ip.family == 0)
		return;
	ip_state *ip = mmr_lru_acquire(g->ips, &ev->src_ip, sizeof(ev->src_ip), true, NULL,
				       &hold);
	if (ip != NULL) {
		fw_add(&ip->w, ev->time);
		uint32_t uh = mmr_user_hash32(ev->user);
		bool seen = false;
		for (unsigned i = 0; i < ip->nusers; i++)
			seen |= ip->users[i] == uh;
		if (!seen) {
			if (ip->nusers < IP_USERS)
				ip->users[ip->nusers++] = uh;
			else
				ip->users_overflow = 1;
		}
	}
	mmr_lru_release(&hold);
}

static void ip_repair(void *value)
{
	ip_state *ip = value;
	fw_repair(&ip->w);
	if (ip->nusers > IP_USERS)
		ip->nusers = IP_USERS;
}

static void ip_pseudo(void *value, const mmr_snap_pseudo *p)
{
	ip_state *ip = value;
	for (int i = 0; i < IP_USERS; i++)
		ip->users[i] = mmr_snap_pseudo32(p, ip->users[i]);
}

static int global_save(void *p, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	burst_global *g = p;
	(void)o;
	if (mmr_snap_put_table(w, g->ips, ip_pseudo) != 0)
		return -1;
	return mmr_failure_rings_save(w, g->rings);
}

static int global_load(void *p, mmr_snap_reader *r)
{
	burst_global *g = p;
	int rc = mmr_snap_get_table(r, g->ips, ip_pseudo, ip_repair);
	return rc != 0 ? rc : mmr_failure_rings_load(r, g->rings);
}

static void stats(void *p, mmr_stats *st)
{
	burst_global *g = p;
	mmr_table_global_stats(g->ips, st);
	mmr_table_global_stats(g->rings, st);
}

static uint64_t global_bytes(void *p)
{
	burst_global *g = p;
	return sizeof(*g) + mmr_lru_bytes(g->ips) + mmr_lru_bytes(g->rings);
}

const mmr_detector mmr_detector_auth_failure_burst = {
	.name = "auth_failure_burst",
	.rules = rules,
	.user_state_size = 0,
	.global_new = global_new,
	.global_free = global_free,
	.score = score,
	.learn = learn,
	.stats = stats,
	.state_version = 2,
	.global_save = global_save,
	.global_load = global_load,
	.global_bytes = global_bytes,
};
