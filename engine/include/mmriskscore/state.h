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
	/* per-shard snapshots (mmr_engine_save_shards / mmr_engine_restore_shards) */
	uint32_t files;          /* files written / restored (shard files and the global file) */
	uint32_t files_failed;   /* restore: files that could not be used (each reported) */
	uint32_t files_ignored;  /* restore: shard files of shards this engine does not own */
	uint32_t files_removed;  /* save: files of owned shards that no longer hold a user */
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

/* --- per-shard snapshots (scale-out: docs/state.md, "Per-shard layout") -------------------
 *
 * With virtual shards (mmriskscore/shard.h), the state is a directory: one file per shard that
 * holds users, "shard-NNN.mmrs" (the shard number in decimal, at least 3 digits) with that
 * shard's user records, and "global.mmrs" with the cross-user tables (the detectors' global
 * state). Each file is a snapshot file of the same format and guarantees as a single one
 * (written to .tmp, fsync'ed, renamed; CRC-32C; 0600; pseudonymization). A shard file can be
 * moved to another scorer's directory: that scorer restores it at its next start. */

typedef struct mmr_shard_set mmr_shard_set;

/* The shards an engine works with: nshards (1..MMR_SHARDS_MAX) and those it owns (a list such
 * as "0-85,200", or NULL for all). Kept by the caller for the engine's lifetime and passed to
 * every per-shard save and restore: it remembers which shard files this engine has (so that a
 * shard left with no user has its file removed rather than restored again) and which shard
 * each record restored under a pseudonym came from. NULL with err on a bad list. */
mmr_shard_set *mmr_shard_set_new(uint32_t nshards, const char *owned, char *err, size_t errlen);
void mmr_shard_set_free(mmr_shard_set *s);
uint32_t mmr_shard_set_count(const mmr_shard_set *s);  /* nshards */
uint32_t mmr_shard_set_owned(const mmr_shard_set *s);  /* how many are owned */
/* Whether the shard of this canonical user name is owned. */
bool mmr_shard_set_owns_user(const mmr_shard_set *s, const char *user, size_t len);

/* The name of shard k's file in dir (dir "/" "shard-%03u.mmrs"), or of the global file when
 * k is UINT32_MAX. Returns snprintf's result. */
int mmr_shard_file(char *buf, size_t size, const char *dir, uint32_t k);

/* Writes every shard that holds users to its own file in dir, in one pass over the users
 * table, then the global file; removes the file of an owned shard that this engine restored
 * or wrote before and that holds no user now. Safe while other threads process events. Each
 * file is replaced atomically; the set is not one instant (as within a single file, see
 * "A fuzzy but safe snapshot"). Returns 0, or -1 with the first failure in err (files that
 * could be written are; a file that failed keeps its previous version). */
int mmr_engine_save_shards(mmr_engine *e, const char *dir, mmr_shard_set *s,
			   const mmr_snapshot_opts *opts, mmr_snapshot_info *info, char *err,
			   size_t errlen);

/* Called by a restore for each file it cannot use (corrupt, truncated, another format,
 * another pseudonym key, written for another number of shards): path and why. The file is
 * left where it is (the caller may move it aside); the other files are restored. */
typedef void (*mmr_shard_unusable_fn)(void *arg, const char *path, const char *why);

/* Creates an engine from cfg and restores dir into it: the global file, then every shard file
 * present in dir whose shard is owned (a file copied in from another scorer's directory is
 * adopted); files of shards not owned, or numbered beyond nshards, are left alone and counted
 * (files_ignored, named in info->message). unusable (may be NULL) is told about each file that
 * cannot be used; nothing of such a file stays in the engine. Leftover "*.tmp" files of an
 * interrupted save are removed. *status: 0 something was found (info says what was restored
 * and what was not), 1 nothing (a fresh engine), -1 the directory cannot be read (err says
 * why; a fresh engine). Returns NULL only when the engine itself cannot be created. */
mmr_engine *mmr_engine_restore_shards(const mmr_config *cfg, const char *dir, mmr_shard_set *s,
				      const mmr_snapshot_opts *opts, mmr_shard_unusable_fn unusable,
				      void *arg, int *status, mmr_snapshot_info *info, char *err,
				      size_t errlen);

#endif
