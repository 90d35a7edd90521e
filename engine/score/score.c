/* Why these formulas (defaults and their rationale are also in docs/configuration.md):
 *
 * Event score. Rules are treated as independent pieces of evidence, each saying "this event is
 * bad with probability p/100"; the event is clean only if every piece is wrong, so
 * score = 100 * (1 - prod(1 - p_i/100)). Two moderate findings (40, 40) make 64, still
 * "moderate"; it takes several strong ones to reach "critical", and nothing exceeds 100.
 *
 * User score. Each event's score adds to the user's accumulated risk R, which halves every
 * user_score_halflife seconds of event time (default 72 h: a finding stays visible over a
 * weekend). The displayed score saturates, user_score = 100 * (1 - exp(-R / scale)), scale 60:
 * one moderate event (50) shows 57, a second within hours 81, a third 92 (critical). The
 * engine also caps how often one rule may feed R (see engine.c) so that a single burst does
 * not saturate a user on its own.
 */
#include <math.h>

#include "score.h"

int mmr_score_combine(const mmr_reason *r, int n)
{
	double clean = 1.0;
	for (int i = 0; i < n; i++)
		clean *= 1.0 - r[i].points / 100.0;
	int s = (int)lround(100.0 * (1.0 - clean));
	return s < 0 ? 0 : s > 100 ? 100 : s;
}

double mmr_risk_decay(double risk, int64_t from, int64_t to, int64_t halflife)
{
	if (to <= from || halflife <= 0 || risk <= 0)
		return risk;
	return risk * exp2(-(double)(to - from) / (double)halflife);
}

int mmr_user_score(double risk, double scale)
{
	if (risk <= 0 || scale <= 0)
		return 0;
	int s = (int)lround(100.0 * (1.0 - exp(-risk / scale)));
	return s > 100 ? 100 : s;
}

const char *mmr_level_name(int score)
{
	if (score >= 90)
		return "critical";
	if (score >= 70)
		return "high";
	if (score >= 40)
		return "moderate";
	if (score >= 20)
		return "low";
	return "unknown";
}
