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
 *
 * The three-rule shape (here without a tenant rule), the gates and the learning are shared
 * with first_seen_country and first_seen_asn (first_seen_common.h); this file has the value,
 * its phrase and the user rule's detail.
 */
#include <ctype.h>

#include "detector.h"
#include "first_seen_common.h"
#include "../net/netlist.h"

#define SLOTS 16

static const char *const rules[] = {"access.first_seen_target", "access.uncommon_target_peers",
				    NULL};

enum { P_WARMUP = MMR_FS_P_OWN };

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

/* The hash of the target; 0 when the event reached none. */
static uint32_t target_value(const mmr_detect_ctx *ctx)
{
	const char *target = target_of(ctx);
	return target ? target_hash(target) : 0;
}

static void target_what(const mmr_detect_ctx *ctx, uint32_t v, char *buf, size_t len)
{
	(void)v;
	const char *t = target_of(ctx);
	size_t n = mmr_fs_cat(buf, len, 0, "access to ", 10);
	mmr_fs_cat(buf, len, n, t, strnlen(t, 48));
}

static void user_detail(const mmr_detect_ctx *ctx, const mmr_fs_new *n, char *buf, size_t len)
{
	/* "first %s by this user in %u days (%d other targets known, %d kept at most; user
	 * active %ld days)", without snprintf's cost: it is made for every converged user's new
	 * target */
	size_t k = mmr_fs_cat_lit(buf, len, 0, "first ");
	k = mmr_fs_cat_str(buf, len, k, n->what, len);
	k = mmr_fs_cat_lit(buf, len, k, " by this user in ");
	k = mmr_fs_cat_u32(buf, len, k, n->lookback);
	k = mmr_fs_cat_lit(buf, len, k, " days (");
	k = mmr_fs_cat_long(buf, len, k, n->known);
	k = mmr_fs_cat_lit(buf, len, k, " other targets known, ");
	k = mmr_fs_cat_long(buf, len, k, n->slots);
	k = mmr_fs_cat_lit(buf, len, k, " kept at most; user active ");
	k = mmr_fs_cat_long(buf, len, k, mmr_user_active_days(ctx->user));
	mmr_fs_cat_lit(buf, len, k, " days)");
}

static const mmr_fs_family family = {
	.kind = MMR_POP_TARGET,
	.rules = rules, /* no tenant rule */
	.slots = SLOTS,
	.p_warmup = P_WARMUP,
	.value = target_value,
	.what = target_what,
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

const mmr_detector mmr_detector_first_seen_target = {
	.name = "first_seen_target",
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
