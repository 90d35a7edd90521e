/* Burst of authentication failures, for one user and for one source IP.
 *
 * Per user: a failure_window (136 bytes) in the user record. Per source IP: an LRU table
 * (config max_ips entries, ~200 bytes each) holding a failure_window and the hashes of up to 8
 * distinct accounts tried, so the reason can say "against 7 accounts" (password spraying)
 * or name one account (guessing).
 *
 * Saved state (docs/state.md): the user slices and the IP table; with pseudonymization the
 * account hashes in the table are enciphered under the pseudonym key.
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
#include "failure_window.h"
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

static void *global_new(const mmr_config *cfg)
{
	return mmr_lru_table_new(cfg->max_ips, sizeof(ip_state), 16);
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

	unsigned n = fw_count(ctx->user_state, ev->time, cfg->failburst_window) + 1;
	if (n >= cfg->failburst_user_count)
		mmr_contrib_add(out, rules[0], 30,
				"%u failed sign-ins for this account within %s (threshold %u)", n, win,
				cfg->failburst_user_count);

	if (ev->src_ip.family == 0)
		return;
	mmr_lru_hold hold;
	const ip_state *ip = mmr_lru_acquire(ctx->global, &ev->src_ip, sizeof(ev->src_ip), false,
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
	fw_add(ctx->user_state, ev->time);
	if (ev->src_ip.family == 0)
		return;
	mmr_lru_hold hold;
	ip_state *ip = mmr_lru_acquire(ctx->global, &ev->src_ip, sizeof(ev->src_ip), true, NULL,
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

static void user_load(void *user_state)
{
	fw_repair(user_state);
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

static int global_save(void *g, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	(void)o;
	return mmr_snap_put_table(w, g, ip_pseudo);
}

static int global_load(void *g, mmr_snap_reader *r)
{
	return mmr_snap_get_table(r, g, ip_pseudo, ip_repair);
}

const mmr_detector mmr_detector_auth_failure_burst = {
	.name = "auth_failure_burst",
	.rules = rules,
	.user_state_size = sizeof(failure_window),
	.global_new = global_new,
	.global_free = mmr_table_global_free,
	.score = score,
	.learn = learn,
	.stats = mmr_table_global_stats,
	.state_version = 1,
	.global_save = global_save,
	.global_load = global_load,
	.user_load = user_load,
	.global_bytes = mmr_snap_table_global_bytes,
};
