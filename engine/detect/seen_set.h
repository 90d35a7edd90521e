/* A per-user "seen" set: a fixed number of slots, each a 32-bit fingerprint of a value
 * (network, country, ASN, device, target ...) and the day it was last used. The first-seen
 * detectors keep one in their slice of the user record; a value is "known" when a live slot
 * holds it, "first seen" otherwise.
 *
 *   slot   hash  uint32  fingerprint of the value (mmr_hash32, or the value itself); never 0
 *          day   uint32  day number of the last use (event time / 86400, at least 1); 0 = empty
 *
 * 8 bytes per slot, no header: an array of N slots is N * 8 bytes of the user record.
 *
 * A slot is live at event day `today` when it is not empty, was used within `lookback` days
 * (today < day + lookback) and is not more than MMR_SEEN_FUTURE_DAYS ahead of today. Slots
 * that are not live count as empty: a value used before the lookback is "first seen" again
 * (Sentinel's first-time insights work the same way, with 30-180 day lookbacks), and a slot
 * dated far in the future by a broken clock or a forged timestamp cannot stay live forever:
 * it is recycled like an empty one. Time going backwards a little (events out of order by
 * hours or days) finds the slot live and leaves its day alone.
 *
 * When all slots are live and a new value arrives, the least recently used slot (smallest
 * day) is replaced: a user with more distinct values in the lookback than slots forgets the
 * ones used longest ago first, and using one of those again makes it "first seen" again.
 * A fingerprint collision (about N / 2^32 per lookup) can hide a new value, never invent one.
 *
 * Header-only: every function is small, O(N), allocation-free and lock-free (the caller holds
 * the user's stripe lock).
 */
#ifndef MMR_SEEN_SET_H
#define MMR_SEEN_SET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct mmr_seen_slot {
	uint32_t hash;
	uint32_t day;
} mmr_seen_slot;

/* Slots dated more than this many days after the event are treated as empty. */
#define MMR_SEEN_FUTURE_DAYS 7

/* Day number of an event time; never 0 (0 marks an empty slot), clamped for absurd times. */
static inline uint32_t mmr_seen_day(int64_t t)
{
	if (t < 2 * 86400)
		return 1;
	int64_t d = t / 86400;
	return d > (int64_t)(UINT32_MAX - 1) ? UINT32_MAX - 1 : (uint32_t)d;
}

static inline bool mmr_seen_live(const mmr_seen_slot *s, uint32_t today, uint32_t lookback)
{
	return s->day != 0 && (uint64_t)today < (uint64_t)s->day + lookback &&
	       (uint64_t)s->day <= (uint64_t)today + MMR_SEEN_FUTURE_DAYS;
}

/* Index of the live slot holding h, or -1. */
static inline int mmr_seen_find(const mmr_seen_slot *set, int n, uint32_t h, uint32_t today,
				uint32_t lookback)
{
	for (int i = 0; i < n; i++)
		if (set[i].hash == h && mmr_seen_live(&set[i], today, lookback))
			return i;
	return -1;
}

/* Live slots whose value is not `except` (0: count all). */
static inline int mmr_seen_count(const mmr_seen_slot *set, int n, uint32_t today,
				 uint32_t lookback, uint32_t except)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += set[i].hash != except && mmr_seen_live(&set[i], today, lookback);
	return k;
}

/* Records a use of h on day today. Returns true when h was not live before (a first use
 * within the lookback, as mmr_seen_find would have said), false when it was known. */
static inline bool mmr_seen_add(mmr_seen_slot *set, int n, uint32_t h, uint32_t today,
				uint32_t lookback)
{
	int same = -1, dead = -1, oldest = 0;
	for (int i = 0; i < n; i++) {
		bool live = mmr_seen_live(&set[i], today, lookback);
		if (set[i].hash == h && set[i].day != 0) {
			same = i;
			if (live) {
				if (today > set[i].day)
					set[i].day = today;
				return false;
			}
			break;
		}
		if (!live) {
			if (dead < 0)
				dead = i;
		} else if (set[i].day < set[oldest].day) {
			oldest = i; /* matters only when every slot is live */
		}
	}
	int i = same >= 0 ? same : dead >= 0 ? dead : oldest;
	set[i].hash = h;
	set[i].day = today;
	return true;
}

#endif
