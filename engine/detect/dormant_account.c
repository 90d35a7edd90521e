/* Dormant account reuse: an established account that comes back to life.
 *
 * A stolen or handed-over identity is often an account nobody used for a while: its owner
 * left, is on leave, or never really worked (Sentinel UEBA IsDormantAccount: "not been used
 * for the past 180 days"; Elastic's auth_rare_user job looks for a "new or dormant user
 * account"; research §1/§3). Two ways to see it:
 *
 *   (a) the user has history and returns after dormant.gap_days (default 30) without a single
 *       successful event: ctx->user->last_seen, no per-user state. Needs a converged baseline
 *       ("cold start is honest": a user seen twice has no habit of being active).
 *   (b) the engine has watched the workforce for at least dormant.observe_days (default 14)
 *       and an established employee (roster tenure >= dormant.min_tenure_days, default 90)
 *       succeeds for the FIRST time: someone who has been on the payroll for months was
 *       silent through the whole observation. New hires (tenure below the minimum) are
 *       expected to appear and stay silent; so are accounts without a known tenure (not in
 *       the roster, no start date): a new account nobody has told us about is as likely a
 *       new hire or a service account as a dormant one, and firing on every one of them
 *       made (b) a rule that fires for every newcomer at sites without a roster.
 *
 * Representation: no per-user state (0 bytes: the engine's baseline has first/last seen and
 * the event count). Global state (8 bytes): the earliest event time seen from any user,
 * failures included, kept with an atomic compare-and-swap (no lock on the hot path). An
 * event is "after dormant.observe_days of observation" when its time is that far past the
 * earliest; the span is saved with the engine's snapshots (docs/state.md), so a restart does
 * not start it again.
 *
 * Rule account.dormant_reuse, on the first successful event after the silence:
 *   dormant.points (25), plus dormant.change_points (10) when that event itself is an account
 *   change (ACCOUNT action: password reset, factor enrolment) — the wake-up pattern of a
 *   taken-over account. Only the event's own action counts; a reset some minutes later is a
 *   different event.
 * The points stay moderate because the benign twin is common: people come back from parental
 * or sick leave, sabbaticals and long vacations, and their first act is often the same reset
 * of an expired password and a new phone (simulator: "returning_leave", 1% of users). The rule
 * is a prior for the analyst; what the account does next (hours, networks, servers, volume)
 * decides.
 *
 * Caveats: (b) trusts event times; a replayed archive with old timestamps widens the observed
 * span (which is what a replay should do). A user evicted from memory by the max_users cap is
 * "first seen" again when they return.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "detector.h"
#include "../enrich/roster.h"
#include "../state/snapshot.h"

typedef struct {
	_Atomic int64_t earliest; /* 0 = nothing seen yet */
} tenant_span;

enum { P_GAP, P_OBSERVE, P_TENURE, P_POINTS, P_CHANGE };

static const mmr_param params[] = {
	{"dormant.gap_days", 30, 1, 3650, "silence after which a returning user fires, days"},
	{"dormant.observe_days", 14, 1, 3650,
	 "days the engine must have observed before a first-ever appearance counts, days"},
	{"dormant.min_tenure_days", 90, 0, 36500,
	 "roster tenure from which a first appearance is suspicious, days"},
	{"dormant.points", 25, 0, 100, "points of a dormant account's return"},
	{"dormant.change_points", 10, 0, 100,
	 "extra points when the waking event is an account change (password, factor)"},
	{NULL, 0, 0, 0, NULL},
};

static const char *const rules[] = {"account.dormant_reuse", NULL};

static double param(const mmr_detect_ctx *ctx, int i)
{
	return ctx->param ? ctx->param[i] : params[i].def;
}

static void *global_new(const mmr_config *cfg)
{
	(void)cfg;
	tenant_span *g = calloc(1, sizeof(*g));
	if (g)
		atomic_init(&g->earliest, 0);
	return g;
}

static void global_free(void *g)
{
	free(g);
}

static void ymd(int64_t t, char *buf, size_t len)
{
	char iso[32];
	mmr_time_format(t, iso, sizeof(iso));
	snprintf(buf, len, "%.10s", iso);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	const mmr_user_baseline *u = ctx->user;
	if (ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	int points = (int)param(ctx, P_POINTS);
	const char *change = "";
	if (ev->action == MMR_ACTION_ACCOUNT) {
		points += (int)param(ctx, P_CHANGE);
		change = "; the first act is an account change (password or MFA factor)";
	}
	if (points > 100)
		points = 100;
	char day[16];

	/* (a) back after a long silence */
	if (u->events > 0) {
		if (!u->converged || ev->time < u->last_seen)
			return;
		int64_t gap = ev->time - u->last_seen;
		if (gap < (int64_t)(param(ctx, P_GAP) * 86400))
			return;
		ymd(u->last_seen, day, sizeof(day));
		mmr_contrib_add(out, rules[0], points,
				"first activity in %lld days (last seen %s, active %lld days before "
				"that, %u events)%s",
				(long long)(gap / 86400), day,
				(long long)((u->last_seen - u->first_seen) / 86400), u->events, change);
		return;
	}

	/* (b) first appearance of an established employee in a long observation */
	const tenant_span *g = ctx->global;
	int64_t earliest = atomic_load(&g->earliest);
	if (earliest == 0 || ev->time < earliest ||
	    ev->time - earliest < (int64_t)(param(ctx, P_OBSERVE) * 86400))
		return;
	const mmr_enriched *x = ctx->x;
	int32_t tenure = x ? x->tenure_days : -1;
	if (x == NULL || x->who == NULL || x->who->start_date == 0 || tenure < 0 ||
	    tenure < param(ctx, P_TENURE))
		return;
	char since[64];
	ymd(x->who->start_date, day, sizeof(day));
	snprintf(since, sizeof(since), "employee since %s", day);
	mmr_contrib_add(out, rules[0], points,
			"first activity in the %lld days this tenant has been observed; %s%s",
			(long long)((ev->time - earliest) / 86400), since, change);
}

static void learn(const mmr_detect_ctx *ctx)
{
	tenant_span *g = ctx->global;
	int64_t t = ctx->ev->time;
	if (t <= 0)
		return;
	int64_t cur = atomic_load(&g->earliest);
	while ((cur == 0 || t < cur) && !atomic_compare_exchange_weak(&g->earliest, &cur, t))
		;
}

static int global_save(void *g, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	(void)o;
	return mmr_snap_put_i64(w, atomic_load(&((tenant_span *)g)->earliest));
}

static int global_load(void *g, mmr_snap_reader *r)
{
	int64_t t;
	if (mmr_snap_get_i64(r, &t) != 0)
		return -1;
	atomic_store(&((tenant_span *)g)->earliest, t < 0 ? 0 : t);
	return 0;
}

static uint64_t global_bytes(void *g)
{
	(void)g;
	return sizeof(tenant_span);
}

const mmr_detector mmr_detector_dormant_account = {
	.name = "dormant_account",
	.rules = rules,
	.user_state_size = 0,
	.params = params,
	.global_new = global_new,
	.global_free = global_free,
	.score = score,
	.learn = learn,
	.state_version = 1,
	.global_save = global_save,
	.global_load = global_load,
	.global_bytes = global_bytes,
};
