/* Failure rings kept outside the user record: a capped LRU table (config state.maxips entries)
 * of failure_window, keyed by a 64-bit hash of the canonical user and created at a user's
 * first counted failure. Few users ever fail, so keeping a 144-byte ring in every user record
 * cost most of the memory of the two failure detectors (auth_failure_burst, mfa_denial_burst)
 * for nothing; here a user who never fails costs nothing.
 *
 * Why a hash for key: the table is saved with the hash, never the name. Two users share a
 * ring only when their 64-bit FNV-1a hashes collide (about n^2 / 2^65: 3e-8 for a million
 * failing users). Why the cap is enough: a ring is evicted when state.maxips other users
 * failed since its user's last failure; that changes a verdict only when that many users fail
 * within one detector window (minutes). Evictions are counted with the other cross-user
 * tables (mmr_stats ips / ips_evicted).
 *
 * Saved state: the table's entries, least recent first per stripe, each as its 8-byte hash
 * and ring. In a pseudonymized file the hash is enciphered under the pseudonym key (a keyed
 * 64-bit permutation), so the file holds no unkeyed hash a list of names could be matched
 * against; the load deciphers it back, so rings are found again by name.
 */
#ifndef MMR_FAILURE_RINGS_H
#define MMR_FAILURE_RINGS_H

#include <stdbool.h>

#include "detector.h"
#include "failure_window.h"
#include "../state/lru_table.h"
#include "../state/snapshot.h"

mmr_lru_table *mmr_failure_rings_new(const mmr_config *cfg);

/* The ring of user with its stripe locked in hold (release it in every case); NULL when the
 * user has none and create is false (or out of memory). Hold no other stripe of the table. */
failure_window *mmr_failure_ring(mmr_lru_table *t, const char *user, bool create,
				 mmr_lru_hold *hold);

/* 64-bit key of a user in the table (exposed for tests). */
uint64_t mmr_failure_ring_key(const char *user);

int mmr_failure_rings_save(mmr_snap_writer *w, mmr_lru_table *t);
/* 0, -1 (malformed) or MMR_SNAP_INCOMPATIBLE (another ring size). */
int mmr_failure_rings_load(mmr_snap_reader *r, mmr_lru_table *t);

#endif
