/* The detector interface: one detector, one file, one entry in detector_registry.c.
 *
 * For each identity event the engine calls score() of every detector, then learn() of every
 * detector, so that no detector's learning leaks into another's verdict on the same event.
 * Both run with the user's stripe locked: user_state is this detector's private slice of the
 * user record (user_state_size bytes, zeroed when the user is first seen) and may be read and
 * written freely. Anything keyed by something other than the user (a source IP, a device) lives
 * in the detector's global state, which the detector locks itself (an mmr_lru_table does).
 *
 * A detector reports findings with mmr_contrib_add(): a rule id from its rules[] list, points
 * (0-100) and a sentence that names the evidence. It must honour ctx->user->converged for
 * anything that compares the user with their own baseline ("cold start is honest").
 */
#ifndef MMR_DETECTOR_H
#define MMR_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/engine.h"

typedef struct mmr_user_baseline {
	int64_t first_seen; /* event time of the first non-failure event, 0 = none yet */
	int64_t last_seen;
	uint32_t events;    /* non-failure events learned from */
	bool converged;     /* learning_min_events over learning_min_days reached */
} mmr_user_baseline;

typedef struct mmr_detect_ctx {
	const mmr_event *ev;
	const mmr_config *cfg;
	const mmr_user_baseline *user;
	void *user_state;
	void *global;
} mmr_detect_ctx;

typedef struct mmr_contribs {
	mmr_reason *v;
	int n, cap;
	int dropped;
} mmr_contribs;

void mmr_contrib_add(mmr_contribs *c, const char *rule, int points, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

typedef struct mmr_detector {
	const char *name;
	const char *const *rules; /* NULL-terminated rule ids this detector may emit */
	size_t user_state_size;
	/* Optional: global state; NULL return from global_new means out of memory. */
	void *(*global_new)(const mmr_config *cfg);
	void (*global_free)(void *global);
	void (*score)(const mmr_detect_ctx *ctx, mmr_contribs *out);
	void (*learn)(const mmr_detect_ctx *ctx);
	/* Optional: add resident/evicted counts of the global state to st. */
	void (*stats)(void *global, mmr_stats *st);
} mmr_detector;

extern const mmr_detector *const mmr_detectors[];

/* Shared by detectors that must ignore corporate and private addresses. */
bool mmr_ip_is_external(const mmr_config *cfg, const mmr_ip *ip);

/* 32-bit FNV-1a of bytes / of a user key, never 0 (0 marks an empty slot in detector
 * tables). Not seeded: for compact per-entry fingerprints, not for hash-table placement. */
uint32_t mmr_hash32(const void *p, size_t len);
uint32_t mmr_user_hash32(const char *user);

/* "Sat 03:00" style hour-of-week label and index (Monday 00:00 UTC = 0). */
int mmr_hour_of_week(int64_t t);
void mmr_hour_of_week_label(int how, char *buf, size_t len);

#endif
