/* Several distinct accounts active from one external source IP within a window. Two rules,
 * one per kind of evidence, at most one of them per event:
 *
 *   network.laptop_farm       the farm pattern (research §6 #4): one person's residential line
 *                             carries the company laptops of several "employees" who are all
 *                             new and were hired into unrelated teams. Strong.
 *   network.shared_source_ip  several established accounts share a non-corporate address: a
 *                             coworking space, a household of three, a small office that is
 *                             not listed as corporate. Weak: it is an everyday fact there,
 *                             and it fires on every event, so it must not add up to a verdict
 *                             (recommended engine cap 40, docs/detectors/shared_source_ip.md).
 *
 * Representation: an LRU table keyed by source IP (config max_ips entries), each entry the
 * last 8 distinct accounts seen on that IP (account_names.h: hash, last event time, name cut
 * to 23 bytes) with, per account, its peer group id (roster team or department, 0 = unknown)
 * and three flags of its last event: the roster knows its tenure; it was a new hire (< 90 days
 * since the roster start date, counting the evening before); it was "young" by the engine's own
 * account age (below). 328 bytes per IP, no per-user state. Global: the event time from which
 * the tenant has been observed (8 bytes).
 *
 * Which sources: external addresses only (not private, not a configured corporate network:
 * office NAT and VPN pools legitimately carry many users), and not commercial VPN, proxy or
 * hosting exits (x->commercial_vpn, proxy, hosting): a consumer VPN's exit is shared by many
 * unrelated customers, colleagues included, by design; network_facts reports those exits. Nor
 * phones and carriers' addresses (enrichment's x->mobile and x->mobile_carrier: a mobile user
 * agent or device class, or an AS organisation naming a carrier): carrier-grade NAT puts
 * thousands of unrelated subscribers behind one public address, so colleagues' phones meet on
 * a carrier's pool every day. Failed sign-ins neither fire nor teach: a farm is a set of
 * accounts that successfully work from one place, and a password sprayer's failures are the
 * failure-burst detector's business. One person's accounts (alice, alice-admin) count once.
 *
 * An event is looked at when the accounts seen on its IP within farm_window (24 h), this one
 * included, reach farm_min_users (3); n is their number. An account is "new" when the roster
 * says it is a new hire, or, if the roster does not know its tenure, when the engine first saw
 * it less than farm.young_days (30) ago and at least farm.tenant_days (14) after the first
 * event of the tenant (before that, everybody is new to the engine; a restart starts the
 * count again, so a restart never makes the whole workforce "new"). The address's
 * population is the accounts seen on it within farm.population_window (7 days).
 *
 *   laptop_farm, roster evidence: at least farm.new_hire_min (2) of the n are roster new
 *     hires, new hires make up at least farm.new_hire_share (1/2) of the population, and the
 *     n are in distinct peer groups (distinct groups >= 2/3 n; an account without a group is
 *     not distinct). farm.points (50) + farm.step_points (10) per account beyond
 *     farm_min_users, at most three steps: 50, 60, 70, 80 for 3, 4, 5, 6+ accounts.
 *   laptop_farm, fallback: otherwise, when counting the young accounts of unknown tenure as
 *     new reaches the same minimum and share, and the accounts the roster does know are in
 *     distinct peer groups (no roster: nothing to check). farm.fallback_points (40) + the
 *     same steps: 40-70. Weaker: engine age is a proxy for hire date, groups are unchecked.
 *   shared_source_ip: otherwise, shared_ip.points (25).
 *
 * Why the share, and of a week: a farm's accounts are all new, a coworking space's are mostly
 * not, yet a space of 8 often holds 2 recent hires (in the simulator's workforce 14% have
 * tenure < 90 days), and on a quiet day those two and one colleague are all who come in; over
 * a week the space's established members show. Why distinct groups: a farm's "employees" are
 * placed in unrelated teams; three new hires of one team at one non-corporate address are an
 * onboarding session or a team offsite, and stay at shared_source_ip. Households of two stay
 * below farm_min_users. No baseline is needed: this is a cross-entity count.
 *
 * Saved state (docs/state.md): the IP table and the "observed since" clock, so a restart keeps
 * both the accounts on each address and the engine's account ages. With pseudonymization the
 * account names are not written and the hashes are enciphered; after the restore a name shows
 * as "~" + 8 hex digits in explanations, and is not recognised as another account of the same
 * person (alice / alice-admin) until that account's next event on the address brings the name
 * back.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_names.h"
#include "detector.h"
#include "../state/lru_table.h"
#include "../state/snapshot.h"

#define F_TENURE 1   /* the roster knows the account's tenure */
#define F_NEW_HIRE 2 /* roster: tenure < 90 days */
#define F_YOUNG 4    /* tenure unknown; the engine first saw the account recently */
#define DAY 86400
/* how far an event may predate the first one seen and still move "observed since" back */
#define MAX_BACKSTEP DAY

typedef struct {
	mmr_accounts acct;
	uint32_t group[MMR_ACCT_SLOTS];
	uint8_t flags[MMR_ACCT_SLOTS];
} ip_users;

typedef struct {
	mmr_lru_table *ips;
	_Atomic int64_t since; /* event time the tenant has been observed from, 0 = nothing yet */
} farm_global;

static const char *const rules[] = {"network.shared_source_ip", "network.laptop_farm", NULL};

enum {
	P_SHARED,
	P_FARM,
	P_STEP,
	P_NEW_MIN,
	P_NEW_SHARE,
	P_FALLBACK,
	P_YOUNG_DAYS,
	P_TENANT_DAYS,
	P_POP_WINDOW,
};

static const mmr_param params[] = {
	{"shared_ip.points", 25, 0, 100,
	 "points of network.shared_source_ip (established accounts sharing an address)"},
	{"farm.points", 50, 0, 100, "points of network.laptop_farm at farm.minusers accounts"},
	{"farm.step_points", 10, 0, 30,
	 "laptop_farm points per account beyond farm.minusers (at most 3 steps)"},
	{"farm.new_hire_min", 2, 1, 8, "new accounts on the address for network.laptop_farm"},
	{"farm.new_hire_share", 0.5, 0, 1,
	 "share of the accounts on the address that must be new for network.laptop_farm"},
	{"farm.fallback_points", 40, 0, 100,
	 "laptop_farm points at farm.minusers when newness comes from the engine's account age"},
	{"farm.young_days", 30, 1, 365,
	 "days: an account of unknown tenure first seen less long ago is new"},
	{"farm.tenant_days", 14, 1, 365,
	 "days the engine must have observed the tenant before an account's first sight makes it new"},
	{"farm.population_window", 7 * 86400, 3600, 90 * 86400,
	 "seconds of accounts on the address farm.new_hire_share is a share of (>= farm.window)"},
	{NULL, 0, 0, 0, NULL},
};

static double param(const mmr_detect_ctx *ctx, int i)
{
	return ctx->param ? ctx->param[i] : params[i].def;
}

static void *global_new(const mmr_config *cfg)
{
	farm_global *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->ips = mmr_lru_table_new(cfg->max_ips, sizeof(ip_users), 16);
	if (g->ips == NULL) {
		free(g);
		return NULL;
	}
	atomic_init(&g->since, 0);
	return g;
}

static void global_free(void *p)
{
	farm_global *g = p;
	if (g == NULL)
		return;
	mmr_lru_table_free(g->ips);
	free(g);
}

static bool relevant(const mmr_detect_ctx *ctx)
{
	const mmr_enriched *x = ctx->x;
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE ||
	    !mmr_ip_is_external(ctx->cfg, &ctx->ev->src_ip))
		return false;
	return x == NULL || (x->external && !x->commercial_vpn && !x->proxy && !x->hosting &&
			     !x->mobile && !x->mobile_carrier);
}

/* The tenant is observed from its first successful event; an event up to a day older moves
 * that back (sources replayed slightly out of order), an older one does not: a forged or
 * misdated event must not make the engine believe it has watched the tenant for weeks. */
static void observe(farm_global *g, int64_t t)
{
	int64_t s = atomic_load_explicit(&g->since, memory_order_relaxed);
	while (t > 0 && (s == 0 || (t < s && s - t <= MAX_BACKSTEP)) &&
	       !atomic_compare_exchange_weak_explicit(&g->since, &s, t, memory_order_relaxed,
						      memory_order_relaxed))
		;
}

/* The flags of the current event's account (see the header comment). */
static uint8_t account_flags(const mmr_detect_ctx *ctx)
{
	const mmr_enriched *x = ctx->x;
	if (x && (x->new_hire || x->tenure_days >= 0))
		return F_TENURE | (x->new_hire ? F_NEW_HIRE : 0);
	const farm_global *g = ctx->global;
	int64_t since = atomic_load_explicit(&g->since, memory_order_relaxed);
	int64_t first = ctx->user->events ? ctx->user->first_seen : ctx->ev->time;
	if (since != 0 && first - since >= (int64_t)param(ctx, P_TENANT_DAYS) * DAY &&
	    ctx->ev->time - first < (int64_t)param(ctx, P_YOUNG_DAYS) * DAY)
		return F_YOUNG;
	return 0;
}

/* What the accounts on the address are. */
typedef struct {
	unsigned n;       /* accounts */
	unsigned grouped; /* of them with a peer group */
	unsigned ngroups; /* distinct peer groups */
	unsigned hires;   /* roster new hires */
	unsigned young;   /* tenure unknown, young to the engine */
	uint32_t groups[MMR_ACCT_SLOTS + 1];
} tally;

static void tally_add(tally *t, uint32_t group, uint8_t flags)
{
	t->n++;
	t->hires += (flags & F_NEW_HIRE) != 0;
	t->young += (flags & (F_YOUNG | F_TENURE)) == F_YOUNG;
	if (group == 0)
		return;
	t->grouped++;
	for (unsigned k = 0; k < t->ngroups; k++)
		if (t->groups[k] == group)
			return;
	t->groups[t->ngroups++] = group;
}

/* This account and the others seen on the address after since; others lists their names. */
static void tally_accounts(const mmr_detect_ctx *ctx, const ip_users *u, int64_t since, tally *t,
			   char *others, size_t len)
{
	bool counted[MMR_ACCT_SLOTS];
	memset(t, 0, sizeof(*t));
	tally_add(t, ctx->x ? ctx->x->group : 0, account_flags(ctx));
	(void)mmr_accounts_others(&u->acct, ctx->ev->user, since, counted, others, len);
	for (int i = 0; i < MMR_ACCT_SLOTS; i++)
		if (counted[i])
			tally_add(t, u->group[i], u->flags[i]);
}

/* New accounts: at least farm.new_hire_min of them active within the window (fresh_now), and
 * at least farm.new_hire_share of the address's population (fresh_pop of pop_n accounts). */
static bool enough_new(const mmr_detect_ctx *ctx, unsigned fresh_now, unsigned fresh_pop,
		       unsigned pop_n)
{
	return fresh_now >= (unsigned)param(ctx, P_NEW_MIN) &&
	       (double)fresh_pop >= param(ctx, P_NEW_SHARE) * pop_n;
}

/* The address's accounts with its stripe locked in hold (release it in every case); NULL when
 * the event does not count, or the address is unknown and create is false. */
static ip_users *users_of(const mmr_detect_ctx *ctx, bool create, mmr_lru_hold *hold)
{
	const farm_global *g = ctx->global;
	hold->stripe = NULL;
	if (!relevant(ctx))
		return NULL;
	return mmr_lru_acquire(g->ips, &ctx->ev->src_ip, sizeof(ctx->ev->src_ip), create, NULL,
			       hold);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	mmr_lru_hold hold;
	const ip_users *u = users_of(ctx, false, &hold);
	if (u == NULL) {
		mmr_lru_release(&hold);
		return;
	}
	const int64_t window = ctx->cfg->farm_window;
	const int64_t pop_window = (int64_t)param(ctx, P_POP_WINDOW);
	tally t, pop;
	char others[56], unused[8];
	tally_accounts(ctx, u, ev->time - window, &t, others, sizeof(others));
	tally_accounts(ctx, u, ev->time - (pop_window > window ? pop_window : window), &pop,
		       unused, sizeof(unused));
	mmr_lru_release(&hold);
	if (t.n < ctx->cfg->farm_min_users)
		return;

	bool roster_farm = enough_new(ctx, t.hires, pop.hires, pop.n) &&
			   3 * t.ngroups >= 2 * t.n;
	bool fallback_farm = !roster_farm && t.young > 0 &&
			     enough_new(ctx, t.hires + t.young, pop.hires + pop.young, pop.n) &&
			     3 * t.ngroups >= 2 * t.grouped;
	int steps = (int)(t.n - ctx->cfg->farm_min_users);
	steps = steps > 3 ? 3 : steps;
	char addr[64], roster[64] = "", young[64] = "";
	mmr_ip_format(&ev->src_ip, addr, sizeof(addr));
	if (t.grouped > 0 || t.hires > 0)
		snprintf(roster, sizeof(roster), "; %u peer group%s, %u hired < 90 days",
			 t.ngroups, t.ngroups == 1 ? "" : "s", t.hires);
	if (fallback_farm)
		snprintf(young, sizeof(young), "; %u new to the engine (< %d days)",
			 t.young, (int)param(ctx, P_YOUNG_DAYS));
	const char *rule = rules[0];
	int points = (int)param(ctx, P_SHARED);
	if (roster_farm || fallback_farm) {
		rule = rules[1];
		points = (int)param(ctx, roster_farm ? P_FARM : P_FALLBACK) +
			 steps * (int)param(ctx, P_STEP);
	}
	mmr_contrib_add(out, rule, points,
			"%u distinct accounts active from %s within %ld h (also: %s)%s%s; not a "
			"corporate network",
			t.n, addr, (long)(window / 3600), others, roster, young);
}

static void learn(const mmr_detect_ctx *ctx)
{
	const mmr_event *ev = ctx->ev;
	if (ev->outcome != MMR_OUTCOME_FAILURE)
		observe(ctx->global, ev->time);
	mmr_lru_hold hold;
	ip_users *u = users_of(ctx, true, &hold);
	if (u != NULL) {
		int slot = mmr_accounts_learn(&u->acct, ev->user, ev->time);
		mmr_snap_name_back(u->acct.name[slot], MMR_ACCT_NAME, ev->user);
		u->group[slot] = ctx->x ? ctx->x->group : 0;
		u->flags[slot] = account_flags(ctx);
	}
	mmr_lru_release(&hold);
}

static void stats(void *p, mmr_stats *st)
{
	farm_global *g = p;
	st->ips += mmr_lru_count(g->ips);
	st->ips_evicted += mmr_lru_evictions(g->ips);
}

static void ip_pseudo(void *value, const mmr_snap_pseudo *p)
{
	ip_users *u = value;
	mmr_snap_pseudo_accounts(p, u->acct.hash, &u->acct.name[0][0], MMR_ACCT_NAME,
				 MMR_ACCT_SLOTS);
}

static void ip_repair(void *value)
{
	ip_users *u = value;
	for (int i = 0; i < MMR_ACCT_SLOTS; i++)
		u->acct.name[i][MMR_ACCT_NAME - 1] = '\0';
}

static int global_save(void *p, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	farm_global *g = p;
	(void)o;
	mmr_snap_put_i64(w, atomic_load_explicit(&g->since, memory_order_relaxed));
	return mmr_snap_put_table(w, g->ips, ip_pseudo);
}

static int global_load(void *p, mmr_snap_reader *r)
{
	farm_global *g = p;
	int64_t since;
	if (mmr_snap_get_i64(r, &since) != 0)
		return -1;
	atomic_store(&g->since, since < 0 ? 0 : since);
	return mmr_snap_get_table(r, g->ips, ip_pseudo, ip_repair);
}

static uint64_t global_bytes(void *p)
{
	farm_global *g = p;
	return sizeof(*g) + mmr_lru_bytes(g->ips);
}

const mmr_detector mmr_detector_shared_source_ip = {
	.name = "shared_source_ip",
	.rules = rules,
	.user_state_size = 0,
	.params = params,
	.global_new = global_new,
	.global_free = global_free,
	.score = score,
	.learn = learn,
	.stats = stats,
	.state_version = 1,
	.global_save = global_save,
	.global_load = global_load,
	.global_bytes = global_bytes,
};
