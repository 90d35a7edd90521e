/* The correlation rules (correlate.h explains what they are for). */
#include "correlate.h"

const mmr_correlation mmr_correlations[] = {
	{
		.rule = "correlation.exit_and_outside_access",
		.side_a = {"network.commercial_vpn", "network.hosting"},
		.side_b = {"access.uncommon_target_peers"},
		.points = 40,
		.detail = "works through anonymizing exits (commercial VPN or hosting) and reaches "
			  "servers no teammate uses, both within the last days: the pattern of a "
			  "remote operator, not of a privacy-VPN user or an on-call engineer alone",
	},
};

const size_t mmr_ncorrelations = sizeof(mmr_correlations) / sizeof(mmr_correlations[0]);
