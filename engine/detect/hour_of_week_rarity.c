/* Hour-of-week rarity: is this user active at a time of the week they normally are not?
 *
 * Representation (per user, 340 bytes)
 *
 *   hist[168]  uint16  count of the user's non-failure events per hour of week, Monday 00:00
 *                      UTC = 0 ... Sunday 23:00 = 167 (event time, never the wall clock)
 *   total      uint32  sum of hist
 *
 * Score. The histogram is smoothed with a cyclic kernel so that a person who always starts
 * at 09:00 is not "rare" at 08:00, nor on a Tuesday they happened to take off:
 *
 *   s(h) = hist[h] + 1/2 (hist[h-1] + hist[h+1]) + 1/4 (hist[h-2] + hist[h+2])
 *          + 1/10 * sum of hist[h + 24k] for the 6 other days                 (indices mod 168)
 *
 * and the event's share is p = s(h) / (W * total), W = 3.1 being the kernel's total weight,
 * so that p sums to 1 over the week. An event fires when p < 0.002 (a third of a uniform
 * hour's 1/168): 30 points when s(h) = 0 (never active within two hours of that time on that
 * weekday, nor at that hour on other days), else 20. It stays silent until the user's baseline has converged (config
 * learning_min_events / learning_min_days): a young histogram is mostly empty and would call
 * every new hour rare.
 *
 * Forgetting: when total reaches 8192 every bucket is halved, so behaviour from long ago
 * weighs half as much as recent behaviour, and hours not used for a long time become rare
 * again. Counts never overflow (a bucket is at most 8192 before halving).
 *
 * The week is UTC for now; with the HR roster (later) it will be the employee's declared zone.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"

#define HOW 168
#define HALVE_AT 8192
#define RARE_SHARE 0.002

typedef struct {
	uint16_t hist[HOW];
	uint32_t total;
} how_state;

static const char *const rules[] = {"time.rare_hour", NULL};

static double smoothed(const how_state *st, int h)
{
	double s = st->hist[h];
	s += 0.5 * (st->hist[(h + HOW - 1) % HOW] + st->hist[(h + 1) % HOW]);
	s += 0.25 * (st->hist[(h + HOW - 2) % HOW] + st->hist[(h + 2) % HOW]);
	for (int d = 1; d < 7; d++)
		s += 0.1 * st->hist[(h + 24 * d) % HOW];
	return s;
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const how_state *st = ctx->user_state;
	if (!ctx->user->converged || ctx->ev->outcome == MMR_OUTCOME_FAILURE || st->total == 0)
		return;
	int h = mmr_hour_of_week(ctx->ev->time);
	double s = smoothed(st, h);
	double p = s / (3.1 * st->total);
	if (p >= RARE_SHARE)
		return;
	char when[16];
	mmr_hour_of_week_label(h, when, sizeof(when));
	long days = (long)((ctx->user->last_seen - ctx->user->first_seen) / 86400);
	if (s == 0)
		mmr_contrib_add(out, rules[0], 30,
				"activity at %s UTC; this user was never active within two hours of "
				"that time on that weekday, nor at that hour on other days (%u events "
				"over %ld days)",
				when, ctx->user->events, days);
	else
		mmr_contrib_add(out, rules[0], 20,
				"activity at %s UTC; only %.1f%% of this user's activity falls near "
				"that time of week (%u events over %ld days)",
				when, 100.0 * p, ctx->user->events, days);
}

static void learn(const mmr_detect_ctx *ctx)
{
	how_state *st = ctx->user_state;
	if (ctx->ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	if (st->total >= HALVE_AT) {
		st->total = 0;
		for (int i = 0; i < HOW; i++) {
			st->hist[i] /= 2;
			st->total += st->hist[i];
		}
	}
	st->hist[mmr_hour_of_week(ctx->ev->time)]++;
	st->total++;
}

const mmr_detector mmr_detector_hour_of_week_rarity = {
	.name = "hour_of_week_rarity",
	.rules = rules,
	.user_state_size = sizeof(how_state),
	.score = score,
	.learn = learn,
};
