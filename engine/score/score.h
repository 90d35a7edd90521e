/* Score arithmetic: combining rule points, decaying and saturating the user's risk. */
#ifndef MMR_SCORE_H
#define MMR_SCORE_H

#include <stdint.h>

#include "mmriskscore/engine.h"

/* 100 * (1 - prod(1 - p_i/100)), rounded: independent-evidence combination with diminishing
 * returns (40 + 40 -> 64, never above 100). */
int mmr_score_combine(const mmr_reason *r, int n);

/* risk * 2^(-(to - from) / halflife); no decay when to <= from (late events just add). */
double mmr_risk_decay(double risk, int64_t from, int64_t to, int64_t halflife);

/* 100 * (1 - exp(-risk / scale)), rounded. */
int mmr_user_score(double risk, double scale);

#endif
