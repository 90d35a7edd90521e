/* The snapshot file: its reader and writer, and what detectors use to save their global state.
 * The layout of the whole file, the guarantees and the migration rules are in docs/state.md;
 * engine_state.c decides what goes into it.
 *
 *   header   44 bytes: magic, format version, flags, byte-order mark, created, pseudonym key
 *            fingerprint, CRC-32C of the header
 *   section  { u32 type, u32 length, u32 CRC-32C(payload) } payload          (repeated)
 *   END      a section whose payload holds the counts and the CRC-32C of every byte before it
 *
 * Every number of the format itself is little-endian; detector slices and table values are
 * the host's structs, guarded by each detector's state_version and sizes (and the byte-order
 * mark: a file from a host of the other byte order is refused).
 *
 * Writing: the writer keeps the first error (errno and what it was doing) and ignores every
 * later call, so callers may write a whole section and check once. Reading: every length in
 * the file is checked against what is left of the file and of the section before anything is
 * read or allocated; a section payload is at most MMR_SNAP_MAX_SECTION bytes; the first error
 * is kept with the file name and offset ("state.bin: offset 1234: ...").
 *
 * Detector global state is a byte stream (mmr_snap_put / mmr_snap_get) that the file carries
 * in GLOBAL sections of at most MMR_SNAP_CHUNK bytes, each named by the detector and its
 * state_version; a detector reads it back with the same calls in the same order.
 */
#ifndef MMR_SNAPSHOT_H
#define MMR_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mmriskscore/state.h"
#include "lru_table.h"

#define MMR_SNAP_FORMAT_VERSION 1u
#define MMR_SNAP_HEADER_SIZE 44
#define MMR_SNAP_CHUNK (1u << 20)        /* payload of one USERS or GLOBAL section, about */
#define MMR_SNAP_MAX_SECTION (8u << 20)  /* the reader refuses anything larger */
#define MMR_SNAP_FLAG_PSEUDONYMIZED 1u
/* global_load may return this: the saved state is not this build's (a struct changed size
 * without a new state_version): the detector starts fresh, named in the load's message. */
#define MMR_SNAP_INCOMPATIBLE 1

enum {
	MMR_SEC_LAYOUT = 1, /* rules, detectors (name, state version, slice size), users table */
	MMR_SEC_USERS = 2,  /* u32 count, then user records */
	MMR_SEC_GLOBAL = 3, /* one chunk of a detector's global state */
	MMR_SEC_END = 4,    /* u64 users, u64 entries, u32 sections, u32 CRC of all before */
	MMR_SEC_SHARD = 5,  /* per-shard files only, after the layout: u32 shards, u32 shard
			     * (0xFFFFFFFF: the global file) */
};

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI (RFC 3720 B.4) and ext4:
 * crc = mmr_crc32c(0, p, n) for a whole buffer, or chained over pieces. */
uint32_t mmr_crc32c(uint32_t crc, const void *p, size_t n);

/* --- pseudonyms ------------------------------------------------------------------------- */

#define MMR_PSEUDONYM_LEN 33 /* "~" + 32 lower-case hex digits */

/* "~" + hex of SipHash-2-4-128(key, user); out gets MMR_PSEUDONYM_LEN + 1 bytes. */
void mmr_pseudonym(const uint8_t key[16], const char *user, size_t len, char *out);
/* Whether key has the form of a pseudonym. */
bool mmr_is_pseudonym(const void *key, size_t len);
/* 8 bytes that tell a key from another without revealing it (SipHash-2-4 of a constant). */
void mmr_pseudonym_key_fingerprint(const uint8_t key[16], uint8_t out[8]);

/* Handed to a table's pseudo callback when the file is pseudonymized: on save (load false)
 * the callback hides what identifies a user in a copy of the value; on load it undoes what can
 * be undone. */
typedef struct mmr_snap_pseudo {
	const uint8_t *key; /* 16 bytes */
	bool load;
} mmr_snap_pseudo;

/* A 32-bit user fingerprint (mmr_user_hash32) under a keyed permutation: on save it is
 * enciphered (a 6-round Feistel network on 16-bit halves, SipHash round function), on load
 * deciphered back; 0 (an empty slot) stays 0. So the file holds no unkeyed hash of a name that
 * a list of employees could be matched against. */
uint32_t mmr_snap_pseudo32(const mmr_snap_pseudo *p, uint32_t h);
/* Accounts kept for explanations (hash[i] and a name of namelen bytes per slot, n slots,
 * account_names.h): on save every name is blanked and every hash enciphered; on load every
 * hash is deciphered and the name of a used slot becomes "~" + 8 hex digits of it, a stand-in
 * that is unique per account (docs/state.md: explanations then show it instead of the name). */
void mmr_snap_pseudo_accounts(const mmr_snap_pseudo *p, uint32_t *hash, char *names,
			      size_t namelen, int n);

/* After a pseudonymized restore an account slot holds the stand-in written by
 * mmr_snap_pseudo_accounts; the account's next event puts its name back (a user whose own
 * name starts with '~' keeps it as it is). name: the slot's buffer of size bytes. */
static inline void mmr_snap_name_back(char *name, size_t size, const char *user)
{
	if (name[0] != '~' || user[0] == '~')
		return;
	size_t l = strnlen(user, size - 1);
	memcpy(name, user, l);
	name[l] = '\0';
}

/* --- writer ----------------------------------------------------------------------------- */

typedef struct mmr_snap_writer mmr_snap_writer;

/* Opens path.tmp (mode 0600, truncated) and writes the header. pseudo_key: 16 bytes or NULL.
 * NULL with err set when the file cannot be created. */
mmr_snap_writer *mmr_snap_create(const char *path, const uint8_t *pseudo_key, int64_t created,
				 char *err, size_t errlen);
/* The same, for one of many files written at once (per-shard snapshots): no file is kept open
 * between sections (each section is appended by open, write, close), so hundreds of writers
 * cost no descriptors and little memory, and the commit does not fsync the directory (the
 * caller does it once with mmr_snap_sync_dir). */
mmr_snap_writer *mmr_snap_create_closed(const char *path, const uint8_t *pseudo_key,
					int64_t created, char *err, size_t errlen);
/* fsync of the directory that holds path. Returns 0 or -1 (errno set). */
int mmr_snap_sync_dir(const char *path);
/* Whether this file pseudonymizes, and with which key (NULL when not). */
const uint8_t *mmr_snap_writer_key(const mmr_snap_writer *w);

/* Sections: begin, put, end. Only one section is open at a time. */
int mmr_snap_section_begin(mmr_snap_writer *w, uint32_t type);
int mmr_snap_section_end(mmr_snap_writer *w);
size_t mmr_snap_section_len(const mmr_snap_writer *w);
/* Overwrites 4 bytes already put into the open section (a count known only at its end). */
int mmr_snap_patch_u32(mmr_snap_writer *w, size_t at, uint32_t v);

/* A detector's global state: begin, any number of puts (split into chunks by the writer), end. */
int mmr_snap_global_begin(mmr_snap_writer *w, const char *detector, uint32_t state_version);
int mmr_snap_global_end(mmr_snap_writer *w);

int mmr_snap_put(mmr_snap_writer *w, const void *p, size_t n);
int mmr_snap_put_u8(mmr_snap_writer *w, uint8_t v);
int mmr_snap_put_u16(mmr_snap_writer *w, uint16_t v);
int mmr_snap_put_u32(mmr_snap_writer *w, uint32_t v);
int mmr_snap_put_u64(mmr_snap_writer *w, uint64_t v);
int mmr_snap_put_i64(mmr_snap_writer *w, int64_t v);
int mmr_snap_put_str(mmr_snap_writer *w, const char *s); /* u8 length + bytes, <= 255 */

/* Saves every entry of t (keys, values, segments; each stripe least recent first, copied in
 * batches under that stripe's lock and written after it is released) and its seed. pseudo (may be NULL) is
 * called on a copy of each value when the file is pseudonymized. */
typedef void (*mmr_snap_entry_fn)(void *value, const mmr_snap_pseudo *p);
int mmr_snap_put_table(mmr_snap_writer *w, mmr_lru_table *t, mmr_snap_entry_fn pseudo);
/* Copies the next batch of stripe i of t (pass: from mmr_lru_new_pass(t)) into the writer's
 * staging buffer, holding the stripe's lock only while copying at most 256 KiB, and records
 * the hold time; the batch is then mmr_snap_staging(). Returns 1 when entries are left for
 * another batch, 0 when the stripe is done, -1 on error. For tables saved in a format of
 * their own (engine_state.c, failure_rings.c). */
int mmr_snap_copy_stripe(mmr_snap_writer *w, mmr_lru_table *t, unsigned i, uint32_t pass);
const unsigned char *mmr_snap_staging(const mmr_snap_writer *w, size_t *len);

/* Counts for the info and the END section. */
void mmr_snap_count(mmr_snap_writer *w, uint64_t users, uint64_t entries);
double mmr_snap_max_stall_ms(const mmr_snap_writer *w);
uint64_t mmr_snap_entries_written(const mmr_snap_writer *w);

/* Many files at once (closed writers): mmr_snap_seal writes END (the file is complete in
 * path.tmp; on failure w is aborted and freed); the caller then makes every sealed file
 * durable with one mmr_snap_sync_fs (syncfs(2) of the file system: one flush instead of one
 * per file), or with mmr_snap_fsync per file when that fails, before mmr_snap_commit renames
 * it. Returns 0 or -1. */
int mmr_snap_seal(mmr_snap_writer *w, char *err, size_t errlen);
int mmr_snap_sync_fs(const char *path);
int mmr_snap_fsync(mmr_snap_writer *w);
/* Writes END (unless sealed), flushes, fsyncs (unless sealed), closes, renames path.tmp to
 * path and fsyncs the directory (not for closed writers).
 * Returns 0 and the file size in *bytes, or -1 with err (path.tmp removed). Frees w. */
int mmr_snap_commit(mmr_snap_writer *w, uint64_t *bytes, char *err, size_t errlen);
/* Closes and removes path.tmp; copies the writer's first error (if any) to err. Frees w. */
void mmr_snap_abort(mmr_snap_writer *w, char *err, size_t errlen);

/* --- reader ----------------------------------------------------------------------------- */

typedef struct mmr_snap_reader mmr_snap_reader;

typedef struct mmr_snap_header {
	uint32_t format_version;
	uint32_t flags;
	int64_t created;
} mmr_snap_header;

/* Opens path and checks its header (magic, format version, CRC, byte order, pseudonym key).
 * *status: 1 no such file (NULL returned, no error), -1 unusable (NULL, err says why), 0 ok. */
mmr_snap_reader *mmr_snap_open(const char *path, const uint8_t *pseudo_key, int *status,
			       mmr_snap_header *h, char *err, size_t errlen);
void mmr_snap_close(mmr_snap_reader *r);

/* Reads the next section: its payload is then read with mmr_snap_get*. Returns 0 with its
 * type, or -1 (truncated, bad CRC, too large, unknown type: mmr_snap_error says which). */
int mmr_snap_next(mmr_snap_reader *r, uint32_t *type);
size_t mmr_snap_left(const mmr_snap_reader *r); /* bytes left in the section's payload */

/* Reads n bytes of the current payload (or of the current detector's stream, across its
 * chunks); -1 when there are fewer: nothing is ever read past the end. */
int mmr_snap_get(mmr_snap_reader *r, void *p, size_t n);
int mmr_snap_get_u8(mmr_snap_reader *r, uint8_t *v);
int mmr_snap_get_u16(mmr_snap_reader *r, uint16_t *v);
int mmr_snap_get_u32(mmr_snap_reader *r, uint32_t *v);
int mmr_snap_get_u64(mmr_snap_reader *r, uint64_t *v);
int mmr_snap_get_i64(mmr_snap_reader *r, int64_t *v);
int mmr_snap_get_str(mmr_snap_reader *r, char *buf, size_t size); /* u8 length + bytes */
int mmr_snap_skip(mmr_snap_reader *r, size_t n);

/* The current section is a GLOBAL chunk starting a detector's stream: its detector name and
 * state version (the stream is then read with mmr_snap_get*). Returns 0 or -1. */
int mmr_snap_global_open(mmr_snap_reader *r, char *name, size_t size, uint32_t *version);
/* After the detector read its state: the stream must be consumed exactly, up to its last
 * chunk. skip: read and check the rest of the stream without using it. */
int mmr_snap_global_close(mmr_snap_reader *r);
int mmr_snap_global_skip(mmr_snap_reader *r);

/* Inverse of mmr_snap_put_table: reinserts the entries into t (same stripes and recency when
 * the stripe count matches). Returns 0, -1 (malformed) or MMR_SNAP_INCOMPATIBLE (another value
 * size: the rest of the stream is left unread). pseudo as on save; repair (may be NULL) is
 * called on each value before it is inserted, to restore invariants a hand-made file could
 * break (indices kept in range). */
typedef void (*mmr_snap_repair_fn)(void *value);
int mmr_snap_get_table(mmr_snap_reader *r, mmr_lru_table *t, mmr_snap_entry_fn pseudo,
		       mmr_snap_repair_fn repair);

/* The file's pseudonym key (the one given to open) when the file is pseudonymized, else NULL. */
const uint8_t *mmr_snap_reader_key(const mmr_snap_reader *r);
/* Checks the END section (the current one): counts, the CRC of the whole file before it, and
 * that nothing follows. */
int mmr_snap_finish(mmr_snap_reader *r, uint64_t *users, uint64_t *entries);
uint64_t mmr_snap_entries_read(const mmr_snap_reader *r);
uint64_t mmr_snap_file_size(const mmr_snap_reader *r);

/* The generic hooks of a detector whose global state is one mmr_lru_table with nothing to
 * pseudonymize or repair: .global_save, .global_load, .global_bytes. */
int mmr_snap_table_global_save(void *table, mmr_snap_writer *w, const mmr_snapshot_opts *o);
int mmr_snap_table_global_load(void *table, mmr_snap_reader *r);
uint64_t mmr_snap_table_global_bytes(void *table);

/* Sets the reader's error (the first one wins) with the file name and offset; returns -1. */
int mmr_snap_fail(mmr_snap_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *mmr_snap_error(const mmr_snap_reader *r);

#endif
