/* How many distinct users have used a value (a country, an ASN, a server or app) in the
 * whole tenant and in each peer group: the "uncommon among peers" and "first time in the
 * tenant" facts of the first-seen detectors (Sentinel UEBA's ActivityInsights grid, see
 * docs/detectors/first_seen_country.md).
 *
 * Representation: an mmr_lru_table keyed by (kind, scope, value), 12 bytes; kind is the
 * detector's MMR_POP_* constant (so detectors could share a table), scope is 0 for the whole
 * tenant or a peer group id (mmr_enriched.group, a hash of department + team), value is a
 * 32-bit fingerprint, never 0. The entry (16 bytes, about 70 with the table's overhead):
 *
 *   users       distinct users who used the value in the scope (approximate, see below)
 *   values      only in the (kind, scope, MMR_POP_ANY) entry: distinct values in the scope
 *   first_seen  event time of the first use counted
 *
 * The (kind, scope, MMR_POP_ANY) entry counts the users of the scope who used any value of the
 * kind at all: "3 peers observed with a target" is what makes "0 of them used this one"
 * meaningful. ANY entries are protected from eviction (mmr_lru_protect): there is one per kind
 * and scope, and they are the gates. The others are evicted least recently used first when the
 * table reaches its cap (the engine's max_ips; a tenant of 500 people uses a few thousand
 * entries). An evicted entry counts from zero again: its value looks uncommon until users come
 * back to it (the stats show evictions as ips_evicted).
 *
 * Counting is driven by each user's own seen set (seen_set.h) rather than by a set of users
 * per value (which would cost a list of user ids per entry): a detector adds one user to a
 * value when the value enters that user's set, i.e. on the user's first use within the
 * detector's lookback. So a user whose set forgot the value (the lookback expired, or the
 * set overflowed and evicted it) and who uses it again is counted twice. The error only ever
 * over-counts, which makes a value look more common, never less: it can hide an uncommon value
 * used long ago by the same person, it cannot invent one. (A user dropped from the engine's
 * user table by max_users comes back with empty sets and is counted again, likewise.) Counts
 * are "ever since this engine started observing": there is no lookback on the population.
 *
 * Persistence (docs/state.md): the table and the tenant clock are saved and restored together
 * with the users' seen sets, or neither (a detector whose saved state cannot be used starts
 * over in both: the engine zeroes its slices). Restored sets over an empty population would
 * never count their known values again, and after the warm-up a value common in a team would
 * look "used by 0 peers" to every newcomer. The engine copies the users before the tables, so
 * a value learned while a snapshot is taken is at worst counted twice (over-counting, the
 * safe direction described above), never missing from the population.
 *
 * The tenant clock is the earliest event time observed (an atomic, no lock): "first time in
 * the tenant" and "uncommon among peers" stay silent until the tenant has been observed for a
 * warm-up period, as there is no population to compare with before. One event with a clock
 * years in the past ends the warm-up at once; it does not corrupt anything.
 *
 * Thread safety: every call takes at most one stripe of the table at a time; entries of
 * different scopes are updated one after the other, so a reader may see a tenant count that
 * already includes a user whose group count does not yet. Nothing depends on the two agreeing.
 */
#ifndef MMR_POPULATION_H
#define MMR_POPULATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detector.h"
#include "seen_set.h"

enum {
	MMR_POP_COUNTRY = 1,
	MMR_POP_ASN = 2,
	MMR_POP_TARGET = 3,
};

#define MMR_POP_TENANT 0u /* scope: the whole tenant */
#define MMR_POP_ANY 0u    /* value: any value of the kind */

typedef struct mmr_pop_entry {
	uint32_t users;
	uint32_t values;
	int64_t first_seen;
} mmr_pop_entry;

typedef struct mmr_population mmr_population;

/* max_entries: the cap (at least 16). NULL when out of memory. */
mmr_population *mmr_population_new(size_t max_entries);
void mmr_population_free(mmr_population *p);

/* The tenant clock: notes an event time (call for every non-failure event). */
void mmr_population_observe(mmr_population *p, int64_t t);
/* Seconds from the earliest observed event to t; -1 when nothing was observed. */
int64_t mmr_population_age(mmr_population *p, int64_t t);

/* Copies the entry of (kind, scope, value) to out; false (out zeroed) when there is none. */
bool mmr_population_get(mmr_population *p, unsigned kind, uint32_t scope, uint32_t value,
			mmr_pop_entry *out);

/* Counts one more user of value in scope. first_of_user: it is the user's first value of the
 * kind (their set was empty): the scope's ANY entry counts one more user too. */
void mmr_population_count(mmr_population *p, unsigned kind, uint32_t scope, uint32_t value,
			  int64_t t, bool first_of_user);

/* The learn() step of a first-seen detector with a population: records the use of value in
 * the user's set and, when it is new to the set, counts the user in the tenant and in their
 * peer group (group 0: tenant only). Returns true when the value was new to the set. */
bool mmr_population_learn(mmr_population *p, unsigned kind, uint32_t group, mmr_seen_slot *set,
			  int n, uint32_t value, int64_t t, uint32_t lookback);

/* The user's peer group as seen by the population, for a value the user has not used. */
typedef struct mmr_peer_view {
	uint32_t used;     /* peers who used the value (at most `peers`) */
	uint32_t peers;    /* the denominator: peers observed with any value of the kind, at most
			    * the roster's group size - 1 */
	uint32_t roster;   /* roster peers: group size - 1 */
	const char *group_name;
} mmr_peer_view;

/* Fills v and returns true when the user has a usable peer group: in the roster with a group,
 * at least min_observed peers observed with any value of the kind. user_has_any: the user's
 * own set holds a live value of the kind (they are then one of the scope's ANY users). */
bool mmr_population_peers(mmr_population *p, unsigned kind, const mmr_enriched *x,
			  uint32_t value, bool user_has_any, uint32_t min_observed,
			  mmr_peer_view *v);

/* Points of an "uncommon among peers" rule: zero_pts when no peer used the value, few_pts when
 * at most max_share of the peers did, else -1 (not uncommon). */
static inline int mmr_peer_points(const mmr_peer_view *v, double max_share, int zero_pts,
				  int few_pts)
{
	if (v->used == 0)
		return zero_pts;
	return (double)v->used <= max_share * (double)v->peers ? few_pts : -1;
}

/* The peer and tenant rules of a first-seen detector, for mmr_population_score() (filled from
 * the detector's params by mmr_fs_score(), first_seen_common.h). */
typedef struct mmr_pop_rules {
	unsigned kind;
	const char *peer_rule;    /* "geo.uncommon_country_peers" */
	const char *tenant_rule;  /* "geo.first_seen_country_tenant"; NULL: none */
	const char *noun;         /* plural of the value's kind for the tenant detail: "countries" */
	int peer_zero_points, peer_few_points;
	double peer_max_share;
	uint32_t peer_min_observed;
	int tenant_points;
	int64_t warmup;           /* seconds the tenant must have been observed */
} mmr_pop_rules;

/* Scores the peer rule (a value no peer, or at most peer_max_share of the peers, used) and the
 * tenant rule (a value nobody in the tenant used) for a value that is new to the user; the
 * tenant rule, when it fires, stands for the peer rule too (nobody in the tenant means no peer
 * either), so the two never add up for one fact. Both stay silent until the tenant has been
 * observed for warmup seconds. what: the evidence phrase, "activity from KP". */
void mmr_population_score(mmr_population *p, const mmr_detect_ctx *ctx, const mmr_pop_rules *r,
			  uint32_t value, bool user_has_any, const char *what,
			  mmr_contribs *out);

/* Days between the user's first and last event of the baseline, for details. */
static inline long mmr_user_active_days(const mmr_user_baseline *u)
{
	return u->events ? (long)((u->last_seen - u->first_seen) / 86400) : 0;
}

/* Adds resident entries and evictions to st (as ips / ips_evicted: capped detector tables). */
void mmr_population_stats(mmr_population *p, mmr_stats *st);

/* The mmr_detector hooks of a detector whose global state is one population, capped by the
 * engine's max_ips: .global_new, .global_free and .stats. */
void *mmr_population_global_new(const mmr_config *cfg);
void mmr_population_global_free(void *g);
void mmr_population_global_stats(void *g, mmr_stats *st);
/* Its persistence hooks: .global_save, .global_load, .global_bytes (the tenant clock and the
 * table, keys and counts; nothing in it names a user). */
int mmr_population_global_save(void *g, struct mmr_snap_writer *w,
			       const struct mmr_snapshot_opts *o);
int mmr_population_global_load(void *g, struct mmr_snap_reader *r);
uint64_t mmr_population_global_bytes(void *g);

#endif
