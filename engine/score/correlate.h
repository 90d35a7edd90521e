/* Correlation rules: findings of different detectors that mean more together than apart.
 *
 * A user who signs in through a commercial VPN exit is common (privacy VPNs), and so is a
 * user who reaches a server no teammate uses (on-call, sysadmins); a user who does both within
 * days is the "operator on VPS/commercial-VPN exits reaching into systems outside their team"
 * of the DPRK IT-worker reporting (research §6 #1, #12, #13). Each of those findings is weak
 * on its own and held in the weak pool (docs/model.md), so only the combination can lift the
 * user; this is the idea of Splunk RBA's risk incident rules (several distinct detections on
 * one risk object) applied to named pairs instead of a count, because a count of distinct
 * weak findings does not separate travellers from insiders (measured: docs/model.md).
 *
 * A correlation fires on an event that feeds one of its rules when the user holds at least
 * MMR_CORRELATION_MIN risk points from each side; it is a rule like any other (weight, cap,
 * cooldown, allowlists; listed by mmriskscore-model).
 */
#ifndef MMR_CORRELATE_H
#define MMR_CORRELATE_H

#include <stddef.h>

#define MMR_CORRELATION_SIDE 4
#define MMR_CORRELATION_MIN 5.0

typedef struct mmr_correlation {
	const char *rule;
	const char *side_a[MMR_CORRELATION_SIDE]; /* rule ids, NULL-terminated when shorter */
	const char *side_b[MMR_CORRELATION_SIDE];
	int points;
	const char *detail;
} mmr_correlation;

extern const mmr_correlation mmr_correlations[];
extern const size_t mmr_ncorrelations;

#endif
