/* Snapshots of the engine's learned state: per-user baselines and risk, peer and workforce
 * aggregates, many-to-one indexes — everything an engine learns from events. The context
 * (roster, lists, GeoIP) is not part of it: it is reloaded from its own files.
 *
 * File format and guarantees: docs/state.md. In short: binary, versioned, checksummed; written
 * to a temporary file, fsync'ed, renamed over the old one, directory fsync'ed, so a crash at
 * any moment leaves either the previous snapshot or the new one, never a mix. A snapshot is
 * taken while other threads keep calling mmr_engine_process(): the tables are copied one
 * stripe at a time, so no worker waits for more than one stripe's copy (milliseconds).
 */
#ifndef MMRISKSCORE_STATE_H
#define MMRISKSCORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/engine.h"

typedef struct mmr_snapshot_opts {
	/* Pseudonymization: when set, user keys (and account names kept in cross-user indexes)
	 * are stored as keyed hashes (SipHash-2-4-128 under this 16-byte key), never in clear.
	 * A restored record is matched to its user again when that user's next event arrives.
	 * The same key must be given when loading. */
	const uint8_t *pseudonym_key; /* 16 bytes, or NULL */
} mmr_snapshot_opts;

typedef struct mmr_snapshot_info {
	uint64_t users;          /* user records written / restored */
	uint64_t entries;        /* entries of cross-user tables written / restored */
	uint64_t bytes;          /* file size */
	double seconds;          /* wall time of the whole save / load */
	double max_stall_ms;     /* save: the longest time one table stripe was held */
	uint32_t format_version; /* of the file written / read */
	int64_t created;         /* unix time (wall clock) the snapshot was written */
	uint32_t sections_dropped; /* load: detector sections not restored (layout changed;
				    * those detectors relearn), named in the load's message */
	char message[512];       /* load: what was restored or dropped, for the log */
} mmr_snapshot_info;

/* Writes a snapshot of e to path (path.tmp first). Safe while other threads process events.
 * Returns 0, or -1 with a reason in err (the previous snapshot at path is then untouched). */
int mmr_engine_save(mmr_engine *e, const char *path, const mmr_snapshot_opts *opts,
		    mmr_snapshot_info *info, char *err, size_t errlen);

/* Creates an engine from cfg and restores the snapshot at path into it.
 *   *status = 0  restored (info says what)
 *   *status = 1  no file at path: a fresh engine is returned
 *   *status = -1 the file cannot be used (corrupt, truncated, not a snapshot, another
 *                format version, another pseudonym key): err says why, a fresh engine is
 *                returned, the file is left where it is (the caller moves it aside)
 * Returns NULL only when the engine itself cannot be created (err says why). Never crashes,
 * whatever the bytes of the file. */
mmr_engine *mmr_engine_restore(const mmr_config *cfg, const char *path,
			       const mmr_snapshot_opts *opts, int *status,
			       mmr_snapshot_info *info, char *err, size_t errlen);

/* Records restored under a pseudonym that still wait for their user's next event (an upper
 * bound: one evicted meanwhile is subtracted at the next save), and records re-attached to
 * their user so far. */
void mmr_engine_pseudonym_counts(mmr_engine *e, uint64_t *waiting, uint64_t *reattached);

/* Bytes of state held now: user records and every cross-user table (approximate: entries x
 * entry size, table overhead included). */
uint64_t mmr_engine_state_bytes(mmr_engine *e);

#endif
