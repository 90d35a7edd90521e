/* VPN sessions that stay up for most of a day or longer.
 *
 * Remote IT workers under stolen identities "logged into their accounts continuously for one
 * or more days at a time" (FBI/State/Treasury advisory, May 2022; research §6 #5): laptops in
 * a laptop farm are driven remotely and their VPN is simply left up overnight. Employees end
 * their session at the end of the day, and gateways usually cut idle sessions (ASA's default
 * vpn-idle-timeout is 30 min, its max-session default unlimited).
 *
 * The session length comes from
 *   - the log itself: duration on VPN_END (ASA 113019, FortiGate tunnel-down, GlobalProtect
 *     logout, RADIUS Acct-Session-Time) or on a periodic VPN_STATS (FortiGate tunnel-stats,
 *     RADIUS interim updates): such a session is reported while it is still up;
 *   - bookkeeping, when the log has no duration but names the session: the VPN_START time of
 *     each open session is kept per session_id, and a later VPN_STATS / VPN_END of that
 *     session measures from it (at most BOOK_MAX_DAYS, 14; older starts are treated as
 *     stale, since a lost VPN_END plus a reused session id must not make a month-long
 *     "session"; a later VPN_START under an open id starts a new session for the same reason).
 *
 * Representation (per user, 56 bytes): 4 open sessions, each
 *   id      uint32  hash of session_id (mmr_hash32), 0 = empty slot
 *   tier    uint8   highest points tier already reported for this session
 *   start   int64   VPN_START time, 0 = unknown (the session was seen first in a VPN_STATS)
 * A fifth concurrent session replaces the slot with the oldest start.
 *
 * Rule session.long_lived: a session of at least session.long_hours (default 20 h) gets
 * session.long_points (25), and session.day_points (5) more for every further full day past
 * 24 h (48 h: 30, 72 h: 35), at most 40. A session is reported once per tier: a VPN_STATS that
 * reported it at 21 h silences the VPN_END at 23 h, while crossing 48 h reports again. Sessions
 * without a session_id are judged only by a duration in the log, so a VPN_END reports them.
 *
 * No baseline is needed: 20 h is not "unusual for this user", it is unusual for people. Where
 * an always-on VPN client keeps legitimate sessions up for days, raise session.long_hours or
 * allowlist the rule for the sites that use it (see docs/detectors/long_session.md).
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"

#define SLOTS 4
#define BOOK_MAX_DAYS 14
#define MAX_POINTS 40

typedef struct {
	int64_t start[SLOTS];
	uint32_t id[SLOTS];
	uint8_t tier[SLOTS];
} ls_state;

enum { P_HOURS, P_POINTS, P_DAY_POINTS };

static const mmr_param params[] = {
	{"session.long_hours", 20, 1, 24 * 365, "a VPN session at least this long fires, hours"},
	{"session.long_points", 25, 0, 100, "points of a long-lived VPN session"},
	{"session.day_points", 5, 0, 50, "extra points per further full day past 24 h"},
	{NULL, 0, 0, 0, NULL},
};

static const char *const rules[] = {"session.long_lived", NULL};

static double param(const mmr_detect_ctx *ctx, int i)
{
	return ctx->param ? ctx->param[i] : params[i].def;
}

static bool vpn_action(mmr_action a)
{
	return a == MMR_ACTION_VPN_START || a == MMR_ACTION_VPN_STATS || a == MMR_ACTION_VPN_END;
}

static uint32_t session_hash(const mmr_event *ev)
{
	return ev->session_id[0] ? mmr_hash32(ev->session_id, strlen(ev->session_id)) : 0;
}

static int find(const ls_state *st, uint32_t id)
{
	for (int i = 0; id && i < SLOTS; i++)
		if (st->id[i] == id)
			return i;
	return -1;
}

/* Session length in seconds from the log, else from the recorded start; -1 = unknown. */
static int64_t session_length(const mmr_detect_ctx *ctx, int slot)
{
	const mmr_event *ev = ctx->ev;
	if (ev->duration >= 0)
		return ev->duration;
	if (slot < 0 || ev->action == MMR_ACTION_VPN_START)
		return -1;
	const ls_state *st = ctx->user_state;
	int64_t start = st->start[slot];
	if (start <= 0 || ev->time < start || ev->time - start > (int64_t)BOOK_MAX_DAYS * 86400)
		return -1;
	return ev->time - start;
}

/* Points tier of a session of len seconds: 0 = below the threshold, 1 = threshold to 48 h,
 * 2 = 48-72 h, ... (at most 200, so a bogus duration cannot overflow anything). */
static int tier_of(const mmr_detect_ctx *ctx, int64_t len)
{
	double hours = (double)len / 3600;
	if (len < 0 || hours < param(ctx, P_HOURS))
		return 0;
	int64_t extra_days = len / 86400 - 1; /* full days past the first 24 h */
	if (extra_days < 0)
		extra_days = 0;
	return 1 + (int)(extra_days > 199 ? 199 : extra_days);
}

static int points_of(const mmr_detect_ctx *ctx, int tier)
{
	int p = (int)param(ctx, P_POINTS) + (tier - 1) * (int)param(ctx, P_DAY_POINTS);
	int cap = (int)param(ctx, P_POINTS) > MAX_POINTS ? (int)param(ctx, P_POINTS) : MAX_POINTS;
	return p > cap ? cap : p;
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	const ls_state *st = ctx->user_state;
	if (!vpn_action(ev->action) || ev->action == MMR_ACTION_VPN_START ||
	    ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	int slot = find(st, session_hash(ev));
	int64_t len = session_length(ctx, slot);
	int tier = tier_of(ctx, len);
	if (tier == 0 || (slot >= 0 && st->tier[slot] >= tier))
		return;
	long h = (long)(len / 3600), m = (long)(len % 3600 / 60);
	char started[32] = "";
	if (ev->duration < 0)
		mmr_time_format(st->start[slot], started, sizeof(started));
	mmr_contrib_add(out, rules[0], points_of(ctx, tier),
			"VPN session %s %ldh%02ldm%s%s (threshold %.0f h)%s",
			ev->action == MMR_ACTION_VPN_END ? "lasted" : "up for", h, m,
			started[0] ? ", since " : "", started, param(ctx, P_HOURS),
			len >= 2 * 86400 ? ": connected for days" : "");
}

static void learn(const mmr_detect_ctx *ctx)
{
	const mmr_event *ev = ctx->ev;
	ls_state *st = ctx->user_state;
	uint32_t id = session_hash(ev);
	if (!vpn_action(ev->action) || ev->outcome == MMR_OUTCOME_FAILURE || id == 0)
		return;
	int slot = find(st, id);
	if (ev->action == MMR_ACTION_VPN_END) {
		if (slot >= 0) { /* the session is over */
			st->id[slot] = 0;
			st->start[slot] = 0;
			st->tier[slot] = 0;
		}
		return;
	}
	if (slot < 0) {
		slot = 0; /* an empty slot, else the one with the oldest start */
		for (int i = 0; i < SLOTS && st->id[slot]; i++)
			if (st->id[i] == 0 || st->start[i] < st->start[slot])
				slot = i;
		st->id[slot] = id;
		st->start[slot] = 0;
		st->tier[slot] = 0;
	}
	if (ev->action == MMR_ACTION_VPN_START) {
		if (ev->time <= 0)
			return;
		if (st->start[slot] == 0 || ev->time < st->start[slot]) {
			st->start[slot] = ev->time; /* the start, or an earlier one delivered late */
		} else if (ev->time > st->start[slot]) {
			st->start[slot] = ev->time; /* a new session under a reused id: the old */
			st->tier[slot] = 0;         /* one's end was lost */
		}
		return;
	}
	/* VPN_STATS: remember what was reported, so the session is reported once per tier */
	int tier = tier_of(ctx, session_length(ctx, slot));
	if (tier > st->tier[slot])
		st->tier[slot] = (uint8_t)tier;
	if (st->start[slot] == 0 && ev->duration >= 0 && ev->duration < ev->time)
		st->start[slot] = ev->time - ev->duration;
}

const mmr_detector mmr_detector_long_session = {
	.name = "long_session",
	.rules = rules,
	.user_state_size = sizeof(ls_state),
	.params = params,
	.score = score,
	.learn = learn,
	.state_version = 1,
};
