/* MFA push fatigue ("push bombing"): several denied or failed MFA challenges for one account
 * within a short window.
 *
 * An attacker who holds the password triggers push after push until the tired or confused
 * owner approves one (MITRE ATT&CK T1621 "Multi-Factor Authentication Request Generation";
 * CISA's "Implementing Number Matching in MFA Applications", 2022). In the logs that is a run
 * of MFA failures (Okta user.mfa.okta_verify.deny_push, a rejected or timed-out challenge)
 * for one user, sometimes ending in an approval.
 *
 * Representation: per user who had an MFA failure, a failure_window (failure_window.h, 144
 * bytes), the times of the last 32 MFA failures, so the count within the window is exact up
 * to 32. The rings live in a table of their own (failure_rings.h: config max_ips entries,
 * created at a user's first MFA failure), not in the user record: few users ever deny a push.
 * Saved state: that table (user keys enciphered in a pseudonymized file). State version 2
 * (1 kept the ring in the user record: a version-1 snapshot restores without this detector's
 * state).
 *
 * Rule mfa.push_denial_burst:
 *   - an MFA failure fires when, counting itself, the MFA failures within mfa.burst_window
 *     (default 10 min) reach mfa.burst_count (default 3): mfa.burst_points (35). Every failure
 *     at or past the threshold carries the reason (the engine's rule cooldown keeps the
 *     user's risk from counting the burst more than once);
 *   - an MFA success (an approval) while that many failures lie within the window fires with
 *     mfa.approve_bonus (10) more points: the fatigue may have worked.
 * Two failures less than 3 s apart count once: one denied push is sometimes logged twice
 * (the denial and the failed verification), and no person denies two pushes in 3 s.
 *
 * Why 3 in 10 minutes: the "mfa_denier" habit (research, simulator: 1.5% of users deny 20-40%
 * of pushes because they are unexpected or mistimed, then approve the retry) produces one
 * denial per sign-in, so single denials and a denial followed by an approval stay silent.
 * No baseline is needed: this counts, it does not compare with the user's past.
 *
 * Not done: a rule on the share of denied pushes over weeks. The users with a high share are
 * exactly the mfa_denier habit (20-40%), while the planted "subtle" actor denies 8%, so such a
 * rule would rank the confounder above the actor.
 */
#include <stdio.h>

#include "detector.h"
#include "failure_rings.h"

#define DUP_SECONDS 3

enum { P_COUNT, P_WINDOW, P_POINTS, P_BONUS };

static const mmr_param params[] = {
	{"mfa.burst_count", 3, 2, FW_SLOTS, "MFA failures of one user within the window that fire"},
	{"mfa.burst_window", 600, 60, 86400, "window of the MFA failure burst, seconds"},
	{"mfa.burst_points", 35, 0, 100, "points of a burst of MFA failures"},
	{"mfa.approve_bonus", 10, 0, 100,
	 "extra points when an MFA approval follows a burst within the window"},
	{NULL, 0, 0, 0, NULL},
};

static const char *const rules[] = {"mfa.push_denial_burst", NULL};

static double param(const mmr_detect_ctx *ctx, int i)
{
	return ctx->param ? ctx->param[i] : params[i].def;
}

/* Times far outside any real log (the parser accepts years 0000-9999) would overflow the
 * window arithmetic; such events are ignored. */
static bool sane_time(int64_t t)
{
	return t > -((int64_t)1 << 40) && t < ((int64_t)1 << 40);
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

/* A failure within DUP_SECONDS of one already counted is the same denial logged twice. */
static bool duplicate(const failure_window *w, int64_t now)
{
	return w->n > 0 && fw_count(w, now + DUP_SECONDS, 2 * DUP_SECONDS + 1) > 0;
}

/* The ring of a user without MFA failures: empty. */
static const failure_window no_failures;

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	if (ev->action != MMR_ACTION_MFA || ev->outcome == MMR_OUTCOME_UNKNOWN ||
	    !sane_time(ev->time))
		return;
	int64_t window = (int64_t)param(ctx, P_WINDOW);
	unsigned need = (unsigned)param(ctx, P_COUNT);
	int points = (int)param(ctx, P_POINTS);
	char win[32];
	window_label(window, win, sizeof(win));
	mmr_lru_hold hold;
	const failure_window *w = mmr_failure_ring(ctx->global, ev->user, false, &hold);
	if (w == NULL)
		w = &no_failures;

	if (ev->outcome == MMR_OUTCOME_FAILURE) {
		unsigned n = fw_count(w, ev->time, window) + !duplicate(w, ev->time);
		if (n >= need)
			mmr_contrib_add(out, rules[0], points,
					"%u denied or failed MFA challenges for this account within %s "
					"(threshold %u): possible MFA fatigue / push bombing",
					n, win, need);
	} else {
		unsigned n = fw_count(w, ev->time, window);
		if (n >= need) {
			points += (int)param(ctx, P_BONUS);
			mmr_contrib_add(out, rules[0], points > 100 ? 100 : points,
					"MFA approved after %u denied or failed MFA challenges within %s "
					"(threshold %u): the push bombing may have succeeded",
					n, win, need);
		}
	}
	mmr_lru_release(&hold);
}

static void learn(const mmr_detect_ctx *ctx)
{
	const mmr_event *ev = ctx->ev;
	if (ev->action != MMR_ACTION_MFA || ev->outcome != MMR_OUTCOME_FAILURE ||
	    !sane_time(ev->time))
		return;
	mmr_lru_hold hold;
	failure_window *w = mmr_failure_ring(ctx->global, ev->user, true, &hold);
	if (w != NULL && !duplicate(w, ev->time))
		fw_add(w, ev->time);
	mmr_lru_release(&hold);
}

static void *global_new(const mmr_config *cfg)
{
	return mmr_failure_rings_new(cfg);
}

static int global_save(void *g, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	(void)o;
	return mmr_failure_rings_save(w, g);
}

static int global_load(void *g, mmr_snap_reader *r)
{
	return mmr_failure_rings_load(r, g);
}

const mmr_detector mmr_detector_mfa_denial_burst = {
	.name = "mfa_denial_burst",
	.rules = rules,
	.user_state_size = 0,
	.params = params,
	.global_new = global_new,
	.global_free = mmr_table_global_free,
	.score = score,
	.learn = learn,
	.stats = mmr_table_global_stats,
	.state_version = 2,
	.global_save = global_save,
	.global_load = global_load,
	.global_bytes = mmr_snap_table_global_bytes,
};
