/* Default weight and cap of every rule.
 *
 * The cap bounds the risk points one rule may hold in a user's accumulated risk R (engine.c),
 * so one noisy rule cannot carry a user alone: with user_score = 100 (1 - exp(-R / 60)),
 *
 *   cap  40 -> at most 49 (moderate)   weak, common anomalies: a first-seen network, a rare
 *                                       hour, a consumer VPN; they matter when they stack
 *   cap  70 -> at most 69 (moderate)   medium evidence: a server no peer uses, a volume outlier
 *   cap 150 -> up to 92 (critical)     strong evidence on its own: a laptop farm, concurrent
 *                                       sessions from two countries, a watch country
 *
 * Weak rules also share one pool: together they hold at most MMR_WEAK_POOL_CAP (50 -> 57,
 * moderate), because a traveller, an on-call engineer or a consumer-VPN user collects several
 * of them in a normal month (a new country, a new network, a rare hour, a new server ...).
 * So a user reaches "high" (70) only with evidence that is not weak: strong evidence alone,
 * or medium evidence on top of weak. Unknown rules get the weak defaults. The numbers were set
 * by measurement on the simulator (docs/model.md has the runs).
 */
#include <stdbool.h>
#include <string.h>

#include "model.h"

static const struct {
	const char *rule;
	double cap;
	bool weak;
} rules[] = {
	{"network.laptop_farm", 150, false},
	{"device.shared_across_accounts", 150, false},
	{"geo.concurrent_sessions", 150, false},
	{"geo.impossible_travel", 150, false},
	{"geo.watch_country", 150, false},
	{"time.timezone_mismatch", 150, false},
	{"device.remote_access_tool", 150, false},
	{"volume.session_bytes", 70, false},
	{"volume.daily_bytes", 70, false},
	{"session.long_lived", 70, false},
	{"network.hosting", 70, false},
	{"mfa.push_denial_burst", 70, false},
	{"correlation.exit_and_outside_access", 70, false},
};

void mmr_model_rule_defaults(const char *rule, double *weight, double *cap, bool *weak)
{
	*weight = 1.0;
	*cap = 40;
	*weak = true;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].rule, rule) == 0) {
			*cap = rules[i].cap;
			*weak = rules[i].weak;
		}
}
