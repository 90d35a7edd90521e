/* The engine's own representation, shared by engine.c (the pipeline) and engine_state.c
 * (snapshots). Nothing outside the engine library includes this. */
#ifndef MMR_ENGINE_INTERNAL_H
#define MMR_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"
#include "score/correlate.h"
#include "state/lru_table.h"

#define MAX_DETECTORS 32
#define MAX_RULES MMR_MAX_RULES
#define USER_STRIPES 64
#define MAX_PARAMS 256
/* rule_risk[] is fixed point: 1/RISK_ONE risk point, so a cap of up to 2000 fits in 16 bits */
#define RISK_ONE 32.0
#define MAX_CAP 2000

/* Rules a user record holds risk or a cooldown for at once. Most users fire a few rules at
 * most (48 rule ids exist); a record full of rules gives up the slot that matters least
 * (mmr_core_claim(), docs/state.md "Rule slots"). */
#define RULE_SLOTS 14

/* The head of every user record: 128 bytes. A snapshot stores it field by field and the slots
 * by rule id (engine_state.c), so adding or removing rules keeps restored risk; a change of
 * the fields themselves is a new snapshot format version (docs/state.md). */
typedef struct user_core {
	int64_t first_seen, last_seen;
	int64_t risk_time;
	uint32_t events;
	uint32_t rule_last[RULE_SLOTS]; /* low 32 bits of event time; 0 = never */
	uint16_t rule_risk[RULE_SLOTS]; /* decayed risk points held, x RISK_ONE */
	uint8_t rule_of[RULE_SLOTS];    /* rule index + 1 of the slot; 0 = free */
} user_core;

/* engine.c: the slot of rule k in u, or -1. */
int mmr_core_slot(const user_core *u, int k);
/* The slot of rule k in u, taking one when there is none: a free one, else one that holds no
 * risk and whose cooldown ended at time t, else the one with the least risk (the oldest on
 * a tie; counted in rule_slots_evicted). Slots whose bit is set in keep are never taken;
 * -1 when every slot is kept. */
int mmr_core_claim(mmr_engine *e, user_core *u, int k, int64_t t, uint32_t keep);

struct mmr_engine {
	mmr_config cfg;
	mmr_lru_table *users;
	size_t ndet;
	size_t slice_off[MAX_DETECTORS];
	size_t record_size;
	void *global[MAX_DETECTORS];
	const char *rule_ids[MAX_RULES + 1];
	size_t nrules;
	double rule_weight[MAX_RULES], rule_cap[MAX_RULES];
	bool rule_weak[MAX_RULES];
	/* correlation rules: rule index of the correlation and of its two sides' rules, -1 for
	 * a side rule no detector emits */
	int corr_rule[8];
	int corr_side[8][2][MMR_CORRELATION_SIDE];
	size_t ncorr;
	double weak_cap; /* the weak rules' shares together stay under this */
	double params[MAX_PARAMS];
	size_t param_off[MAX_DETECTORS];
	size_t nparams;
	pthread_rwlock_t ctx_lock; /* readers: process(); writer: set_context() */
	mmr_context *ctx;
	atomic_uint_fast64_t scored, failed, reasons_dropped, allowlisted, time_clamped;
	atomic_uint_fast64_t level[5];
	atomic_uint_fast64_t rule_slots_evicted; /* slots given up with risk or a cooldown */
	/* snapshots (engine_state.c) */
	pthread_mutex_t save_lock; /* one save at a time (they share path.tmp) */
	uint8_t pseudo_key[16];    /* valid when has_pseudo_key: the key records were restored with */
	bool has_pseudo_key;
	/* user records held under a pseudonym key, waiting for their user's next event (an upper
	 * bound: evicted ones are not subtracted until the next save counts them again) */
	atomic_uint_fast64_t pseudo_left;
	atomic_uint_fast64_t reattached; /* records moved from a pseudonym to their user */
};

/* engine_state.c: called by mmr_engine_process() when it has just created rec for user (a
 * miss, hold locks its stripe) while pseudo_left > 0. Moves the record saved under the user's
 * pseudonym, if there is one, to the user's key and returns the user's record, hold locking
 * its stripe (NULL when out of memory; hold is to be released in every case). */
void *mmr_engine_reattach(mmr_engine *e, const char *user, void *rec, mmr_lru_hold *hold);

#endif
