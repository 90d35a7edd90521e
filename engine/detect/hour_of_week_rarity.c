/* Hour-of-week rarity: is this user active at a time of the week they normally are not?
 *
 * Representation (per user, 170 bytes)
 *
 *   hist[168]  uint8   count of the user's activity events per hour of week, Monday 00:00
 *                      UTC = 0 ... Sunday 23:00 = 167 (event time, never the wall clock)
 *   total      uint16  sum of hist
 *
 * "Activity" is a successful (non-failure) event that is not a session end, logout or session
 * statistics record: a VPN session that times out at 03:00 is not someone working at 03:00.
 *
 * Score. The histogram is smoothed with a cyclic kernel so that a person who always starts
 * at 09:00 is not "rare" at 08:00, nor on a Tuesday they happened to take off:
 *
 *   s(h) = hist[h] + 1/2 (hist[h-1] + hist[h+1]) + 1/4 (hist[h-2] + hist[h+2])
 *          + 1/10 * sum of hist[h + 24k] for the 6 other days                 (indices mod 168)
 *
 * and the event's share is p = s(h) / (W * total), W = 3.1 being the kernel's total weight,
 * so that p sums to 1 over the week. An event fires when p < rarehour.share (0.002, a third
 * of a uniform hour's 1/168): rarehour.points_never (30) when s(h) = 0 (never active within
 * two hours of that time on that weekday, nor at that hour on other days), else
 * rarehour.points (20). It stays silent until the user's baseline has converged (config
 * learning_min_events / learning_min_days): a young histogram is mostly empty and would call
 * every new hour rare.
 *
 * Forgetting: every bucket is halved when total reaches 8192 or when the bucket about to be
 * incremented holds 255, so behaviour from long ago weighs half as much as recent behaviour,
 * and hours not used for a long time become rare again. For a user whose week spreads over
 * 30-60 hours the two triggers come at about the same time (8192 / 40 = 205 per bucket); a
 * user whose activity piles into a few hours forgets sooner (after about 255 events in the
 * busiest hour), which changes nothing for the hours they use and makes the ones they do not
 * use rare sooner. Counts never overflow. (Until issue 5 the buckets were uint16 and only the
 * total halved: 340 bytes per user.)
 *
 * The histogram stays in UTC: the declared zone of an employee is what is in question, and a
 * zone change (DST, a move) must not reshuffle the history. When the roster declares a zone,
 * the reason names the time in it as well ("Sat 03:00 local (America/Chicago), Sat 09:00
 * UTC"), which is the clock the analyst and the employee's manager think in.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "../enrich/roster.h"

#define HOW 168
#define HALVE_AT 8192
#define BUCKET_MAX 255

typedef struct {
	uint8_t hist[HOW];
	uint16_t total;
} how_state;

static const char *const rules[] = {"time.rare_hour", NULL};

enum { P_SHARE, P_NEVER, P_RARE };

static const mmr_param params[] = {
	[P_SHARE] = {"rarehour.share", 0.002, 0, 0.05,
		     "smoothed share of the user's week below which an hour is rare"},
	[P_NEVER] = {"rarehour.points_never", 30, 0, 100,
		     "points when the user was never active near that time"},
	[P_RARE] = {"rarehour.points", 20, 0, 100, "points when that time is rare but not new"},
	{NULL, 0, 0, 0, NULL},
};

static bool relevant(const mmr_event *ev)
{
	return ev->outcome != MMR_OUTCOME_FAILURE && ev->action != MMR_ACTION_VPN_END &&
	       ev->action != MMR_ACTION_LOGOUT && ev->action != MMR_ACTION_VPN_STATS;
}

static double smoothed(const how_state *st, int h)
{
	double s = st->hist[h];
	s += 0.5 * (st->hist[(h + HOW - 1) % HOW] + st->hist[(h + 1) % HOW]);
	s += 0.25 * (st->hist[(h + HOW - 2) % HOW] + st->hist[(h + 2) % HOW]);
	for (int d = 1; d < 7; d++)
		s += 0.1 * st->hist[(h + 24 * d) % HOW];
	return s;
}

/* "Wed 22:00 UTC" or "Wed 16:00 local (America/Chicago), Wed 22:00 UTC". */
static void when_label(const mmr_detect_ctx *ctx, int h, char *buf, size_t len)
{
	char utc[16];
	mmr_hour_of_week_label(h, utc, sizeof(utc));
	const mmr_enriched *x = ctx->x;
	if (!x->has_declared_tz || x->who == NULL || x->who->timezone == NULL ||
	    x->who->timezone[0] == '\0') {
		snprintf(buf, len, "%s UTC", utc);
		return;
	}
	char local[16];
	mmr_hour_of_week_label(mmr_hour_of_week(ctx->ev->time + x->declared_offset), local,
			       sizeof(local));
	snprintf(buf, len, "%s local (%.40s), %s UTC", local, x->who->timezone, utc);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const how_state *st = ctx->user_state;
	if (!ctx->user->converged || !relevant(ctx->ev) || st->total == 0)
		return;
	int h = mmr_hour_of_week(ctx->ev->time);
	double s = smoothed(st, h);
	double p = s / (3.1 * st->total);
	if (p >= ctx->param[P_SHARE])
		return;
	char when[96];
	when_label(ctx, h, when, sizeof(when));
	long days = (long)((ctx->user->last_seen - ctx->user->first_seen) / 86400);
	if (s == 0)
		mmr_contrib_add(out, rules[0], (int)ctx->param[P_NEVER],
				"activity at %s; this user was never active within two hours of "
				"that time on that weekday, nor at that hour on other days (%u events "
				"over %ld days)",
				when, ctx->user->events, days);
	else
		mmr_contrib_add(out, rules[0], (int)ctx->param[P_RARE],
				"activity at %s; only %.1f%% of this user's activity falls near "
				"that time of week (%u events over %ld days)",
				when, 100.0 * p, ctx->user->events, days);
}

static void learn(const mmr_detect_ctx *ctx)
{
	how_state *st = ctx->user_state;
	if (!relevant(ctx->ev))
		return;
	int h = mmr_hour_of_week(ctx->ev->time);
	if (st->total >= HALVE_AT || st->hist[h] >= BUCKET_MAX) {
		st->total = 0;
		for (int i = 0; i < HOW; i++) {
			st->hist[i] /= 2;
			st->total += st->hist[i];
		}
	}
	st->hist[h]++;
	st->total++;
}

const mmr_detector mmr_detector_hour_of_week_rarity = {
	.name = "hour_of_week_rarity",
	.rules = rules,
	.user_state_size = sizeof(how_state),
	.params = params,
	.score = score,
	.learn = learn,
	.state_version = 1,
};
