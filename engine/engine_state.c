/* Snapshots of an engine: mmr_engine_save, mmr_engine_restore, mmr_engine_state_bytes, and the
 * re-attachment of pseudonymized records (state.h; file format and guarantees: docs/state.md).
 *
 * What is saved: the users table (each record: key, segment, user_core field by field with
 * its rules by rule id, then every detector's slice as raw bytes) and every detector's global
 * state through its global_save hook. The users go first, the detectors' tables after: a user
 * who learns something between the two copies is then counted in the population but not in
 * their own seen set, which only ever over-counts (population.h explains why that is the safe
 * direction).
 *
 * User record in a USERS section:
 *   u8 flags (1 protected segment, 2 key is a pseudonym), u16 key length, key,
 *   i64 first_seen, i64 last_seen, i64 risk_time, u32 events,
 *   u8 n, n x {u8 rule (index into the LAYOUT's rule ids), u32 rule_last, u16 rule_risk},
 *     (the record's used rule slots; a restore fills the slots as live events would, so a
 *     file with more rules per user than RULE_SLOTS keeps the ones with the most risk)
 *   for each detector of the LAYOUT: its slice (slice size bytes, may be 0)
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmriskscore/shard.h"
#include "mmriskscore/state.h"
#include "detect/detector.h"
#include "engine_internal.h"
#include "state/snapshot.h"

#define REC_PROTECTED 1
#define REC_PSEUDONYM 2
#define FILE_MAX 255 /* rules and detectors a LAYOUT may name */

/* What every save and restore starts with: info cleared (a dummy when the caller wants
 * none), err empty. */
static mmr_snapshot_info *begin_info(mmr_snapshot_info *info, mmr_snapshot_info *dummy, char *err)
{
	if (info == NULL)
		info = dummy;
	memset(info, 0, sizeof(*info));
	err[0] = '\0';
	return info;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rule_of(const mmr_engine *e, const char *id)
{
	for (size_t k = 0; k < e->nrules; k++)
		if (strcmp(e->rule_ids[k], id) == 0)
			return (int)k;
	return -1;
}

/* --- save ------------------------------------------------------------------------------- */

static void put_layout(mmr_snap_writer *w, const mmr_engine *e)
{
	mmr_snap_section_begin(w, MMR_SEC_LAYOUT);
	mmr_snap_put_u32(w, mmr_lru_stripes(e->users));
	mmr_snap_put_u64(w, mmr_lru_seed(e->users));
	mmr_snap_put_u64(w, mmr_lru_count(e->users));
	mmr_snap_put_u16(w, (uint16_t)e->nrules);
	for (size_t k = 0; k < e->nrules; k++)
		mmr_snap_put_str(w, e->rule_ids[k]);
	mmr_snap_put_u16(w, (uint16_t)e->ndet);
	for (size_t d = 0; d < e->ndet; d++) {
		const mmr_detector *det = mmr_detectors[d];
		mmr_snap_put_str(w, det->name);
		mmr_snap_put_u32(w, det->state_version);
		mmr_snap_put_u32(w, (uint32_t)det->user_state_size);
		mmr_snap_put_u8(w, det->global_save && e->global[d] ? 1 : 0);
	}
	mmr_snap_section_end(w);
}

/* rec: a record in the staging copy, which keeps no alignment */
static void put_core(mmr_snap_writer *w, const unsigned char *rec)
{
	user_core core;
	const user_core *u = &core;
	memcpy(&core, rec, sizeof(core));
	mmr_snap_put_i64(w, u->first_seen);
	mmr_snap_put_i64(w, u->last_seen);
	mmr_snap_put_i64(w, u->risk_time);
	mmr_snap_put_u32(w, u->events);
	/* the same encoding as when the core held every rule: a slot's rule index is the index
	 * into the LAYOUT's rule list (this engine's rule order), so the format did not change */
	uint8_t n = 0;
	for (int j = 0; j < RULE_SLOTS; j++)
		n += u->rule_of[j] != 0 && (u->rule_last[j] != 0 || u->rule_risk[j] != 0);
	mmr_snap_put_u8(w, n);
	for (int j = 0; j < RULE_SLOTS; j++) {
		if (u->rule_of[j] == 0 || (u->rule_last[j] == 0 && u->rule_risk[j] == 0))
			continue;
		mmr_snap_put_u8(w, (uint8_t)(u->rule_of[j] - 1));
		mmr_snap_put_u32(w, u->rule_last[j]);
		mmr_snap_put_u16(w, u->rule_risk[j]);
	}
}

/* p: an entry of the staging copy (u8 protected, u16 key length, key, record). Writes it as
 * a user record of w. Counts in *pseudonyms a record still waiting under a pseudonym. */
static void put_record(mmr_snap_writer *w, const mmr_engine *e, const unsigned char *p,
		       uint64_t *pseudonyms)
{
	const uint8_t *key = mmr_snap_writer_key(w);
	uint16_t kl;
	memcpy(&kl, p + 1, 2);
	const char *k = (const char *)p + 3;
	const unsigned char *rec = p + 3 + kl;
	uint8_t flags = p[0] ? REC_PROTECTED : 0;
	char pk[MMR_PSEUDONYM_LEN + 1];
	if (mmr_is_pseudonym(k, kl)) {
		/* restored under a pseudonym, its user not back yet: as it is */
		flags |= REC_PSEUDONYM;
		(*pseudonyms)++;
	} else if (key) {
		mmr_pseudonym(key, k, kl, pk);
		k = pk;
		kl = MMR_PSEUDONYM_LEN;
		flags |= REC_PSEUDONYM;
	}
	mmr_snap_put_u8(w, flags);
	mmr_snap_put_u16(w, kl);
	mmr_snap_put(w, k, kl);
	put_core(w, rec);
	for (size_t d = 0; d < e->ndet; d++)
		mmr_snap_put(w, rec + e->slice_off[d], mmr_detectors[d]->user_state_size);
}

/* fn(arg, p, keylen) for one user of the staging copy; p: (u8 protected, u16 key length,
 * key, record) */
typedef void (*staged_user_fn)(void *arg, const unsigned char *p, uint16_t keylen);

/* Copies the users table into stage's staging area one stripe batch at a time, in a new pass
 * (each user once, however the table changes meanwhile), and calls fn for every user of each
 * batch. Returns 0, or -1 when a copy failed. */
static int for_each_user(mmr_engine *e, mmr_snap_writer *stage, staged_user_fn fn, void *arg)
{
	const size_t vs = mmr_lru_value_size(e->users);
	uint32_t pass = mmr_lru_new_pass(e->users);
	for (unsigned i = 0; i < mmr_lru_stripes(e->users); i++) {
		int more;
		do {
			size_t len;
			if ((more = mmr_snap_copy_stripe(stage, e->users, i, pass)) < 0)
				return -1;
			const unsigned char *p = mmr_snap_staging(stage, &len);
			for (size_t off = 0; off < len;) {
				uint16_t kl;
				memcpy(&kl, p + off + 1, 2);
				fn(arg, p + off, kl);
				off += 3 + (size_t)kl + vs;
			}
		} while (more == 1);
	}
	return 0;
}

typedef struct {
	mmr_snap_writer *w;
	const mmr_engine *e;
	uint64_t users, *pseudonyms;
	uint32_t in_section;
} users_out;

static void put_one_user(void *arg, const unsigned char *p, uint16_t keylen)
{
	users_out *o = arg;
	(void)keylen;
	put_record(o->w, o->e, p, o->pseudonyms);
	o->users++;
	o->in_section++;
	if (mmr_snap_section_len(o->w) >= MMR_SNAP_CHUNK) {
		mmr_snap_patch_u32(o->w, 0, o->in_section);
		mmr_snap_section_end(o->w);
		mmr_snap_section_begin(o->w, MMR_SEC_USERS);
		mmr_snap_put_u32(o->w, 0);
		o->in_section = 0;
	}
}

/* Writes the users, one stripe at a time; returns the records written. */
static uint64_t put_users(mmr_snap_writer *w, mmr_engine *e, uint64_t *pseudonyms)
{
	users_out o = {.w = w, .e = e, .pseudonyms = pseudonyms};
	mmr_snap_section_begin(w, MMR_SEC_USERS);
	mmr_snap_put_u32(w, 0); /* the count, patched at the end of the section */
	if (for_each_user(e, w, put_one_user, &o) != 0)
		return o.users;
	mmr_snap_patch_u32(w, 0, o.in_section);
	mmr_snap_section_end(w);
	return o.users;
}

/* Every detector's global state into w. On failure w is aborted (removed) and err says why. */
static int put_globals(mmr_snap_writer *w, mmr_engine *e, const mmr_snapshot_opts *opts,
		       const char *path, char *err, size_t errlen)
{
	for (size_t d = 0; d < e->ndet; d++) {
		const mmr_detector *det = mmr_detectors[d];
		if (det->global_save == NULL || e->global[d] == NULL)
			continue;
		mmr_snap_global_begin(w, det->name, det->state_version);
		if (det->global_save(e->global[d], w, opts) != 0 ||
		    mmr_snap_global_end(w) != 0) {
			mmr_snap_abort(w, err, errlen);
			if (err[0] == '\0')
				snprintf(err, errlen, "%s: detector %s could not save its state", path,
					 det->name);
			return -1;
		}
	}
	return 0;
}

int mmr_engine_save(mmr_engine *e, const char *path, const mmr_snapshot_opts *opts,
		    mmr_snapshot_info *info, char *err, size_t errlen)
{
	mmr_snapshot_info dummy;
	info = begin_info(info, &dummy, err);
	double t0 = now_s();
	const uint8_t *key = opts ? opts->pseudonym_key : NULL;
	int64_t created = (int64_t)time(NULL);

	pthread_mutex_lock(&e->save_lock);
	mmr_snap_writer *w = mmr_snap_create(path, key, created, err, errlen);
	if (w == NULL) {
		pthread_mutex_unlock(&e->save_lock);
		return -1;
	}
	put_layout(w, e);
	uint64_t pseudonyms = 0;
	uint64_t users = put_users(w, e, &pseudonyms);
	mmr_snap_count(w, users, 0);
	if (put_globals(w, e, opts, path, err, errlen) != 0) {
		pthread_mutex_unlock(&e->save_lock);
		return -1;
	}
	double stall = mmr_snap_max_stall_ms(w);
	uint64_t entries = mmr_snap_entries_written(w);
	uint64_t bytes = 0;
	if (mmr_snap_commit(w, &bytes, err, errlen) != 0) {
		pthread_mutex_unlock(&e->save_lock);
		return -1;
	}
	/* the save counted the records still under a pseudonym: the gate's exact value again */
	atomic_store(&e->pseudo_left, pseudonyms);
	pthread_mutex_unlock(&e->save_lock);

	info->users = users;
	info->entries = entries;
	info->bytes = bytes;
	info->max_stall_ms = stall;
	info->format_version = MMR_SNAP_FORMAT_VERSION;
	info->created = created;
	info->seconds = now_s() - t0;
	int n = snprintf(info->message, sizeof(info->message),
			 "saved %llu users to %s (%llu bytes, %.3f s, longest stripe hold %.2f ms%s)",
			 (unsigned long long)users, path, (unsigned long long)bytes,
			 info->seconds, stall, key ? ", pseudonymized" : "");
	if (err[0] && n > 0 && (size_t)n < sizeof(info->message))
		snprintf(info->message + n, sizeof(info->message) - (size_t)n, "; %s", err);
	err[0] = '\0';
	return 0;
}

/* --- restore ---------------------------------------------------------------------------- */

typedef struct {
	int det;         /* engine detector index, -1: not restored */
	uint32_t size;   /* slice bytes per record */
	bool global_done;
} file_det;

typedef struct {
	mmr_engine *e;
	mmr_snap_reader *r;
	uint32_t nrules;
	int rule_map[FILE_MAX];
	uint32_t unknown_rules;
	uint32_t ndet;
	file_det det[FILE_MAX];
	int file_of[MAX_DETECTORS]; /* engine detector -> file detector, -1 none */
	uint64_t users, pseudonyms;
	uint32_t dropped;
	char dropped_names[256];
	unsigned char *rec;
	/* a per-shard file (mmr_engine_restore_shards); set is NULL for a single state file */
	mmr_shard_set *set;
	bool keep_seed;       /* the users table keeps the seed the global file gave it */
	uint32_t shard;       /* the file's shard (UINT32_MAX: the global file) */
	char *keys;           /* the keys inserted from this file: u16 length, key, ... */
	size_t keys_len, keys_cap;
} loader;

static int shard_record(loader *l, const char *key, uint16_t kl, uint8_t flags);

static void note(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(char *buf, size_t size, const char *fmt, ...)
{
	size_t l = strlen(buf);
	if (l + 1 >= size)
		return;
	if (l) {
		snprintf(buf + l, size - l, ", ");
		l = strlen(buf);
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + l, size - l, fmt, ap);
	va_end(ap);
}

static int find_det(const mmr_engine *e, const char *name)
{
	for (size_t d = 0; d < e->ndet; d++)
		if (strcmp(mmr_detectors[d]->name, name) == 0)
			return (int)d;
	return -1;
}

static int read_layout(loader *l)
{
	mmr_snap_reader *r = l->r;
	mmr_engine *e = l->e;
	uint32_t stripes;
	uint64_t seed, count;
	uint16_t nrules, ndet;
	char name[256];
	if (mmr_snap_get_u32(r, &stripes) != 0 || mmr_snap_get_u64(r, &seed) != 0 ||
	    mmr_snap_get_u64(r, &count) != 0 || mmr_snap_get_u16(r, &nrules) != 0)
		return -1;
	if (nrules > FILE_MAX)
		return mmr_snap_fail(r, "%u rule ids (at most %d)", nrules, FILE_MAX);
	l->nrules = nrules;
	for (uint32_t k = 0; k < nrules; k++) {
		if (mmr_snap_get_str(r, name, sizeof(name)) != 0)
			return -1;
		l->rule_map[k] = rule_of(e, name);
		l->unknown_rules += l->rule_map[k] < 0;
	}
	if (mmr_snap_get_u16(r, &ndet) != 0)
		return -1;
	if (ndet > FILE_MAX)
		return mmr_snap_fail(r, "%u detectors (at most %d)", ndet, FILE_MAX);
	l->ndet = ndet;
	uint64_t total = 0;
	for (uint32_t i = 0; i < ndet; i++) {
		uint32_t version, size;
		uint8_t has_global;
		if (mmr_snap_get_str(r, name, sizeof(name)) != 0 ||
		    mmr_snap_get_u32(r, &version) != 0 || mmr_snap_get_u32(r, &size) != 0 ||
		    mmr_snap_get_u8(r, &has_global) != 0)
			return -1;
		total += size;
		if (total > MMR_SNAP_MAX_SECTION / 2 || has_global > 1)
			return mmr_snap_fail(r, "malformed layout (detector %s)", name);
		int d = find_det(e, name);
		l->det[i] = (file_det){.det = -1, .size = size};
		if (d >= 0 && l->file_of[d] >= 0)
			return mmr_snap_fail(r, "detector %s listed twice", name);
		const mmr_detector *det = d >= 0 ? mmr_detectors[d] : NULL;
		if (det == NULL) {
			note(l->dropped_names, sizeof(l->dropped_names), "%s (not in this build)", name);
		} else if (version != det->state_version) {
			note(l->dropped_names, sizeof(l->dropped_names),
			     "%s (state version %u, this build %u)", name, version,
			     det->state_version);
		} else if (size != det->user_state_size) {
			note(l->dropped_names, sizeof(l->dropped_names),
			     "%s (slice of %u bytes, this build %zu)", name, size,
			     det->user_state_size);
		} else {
			l->det[i].det = d;
			l->file_of[d] = (int)i;
			continue;
		}
		l->dropped++;
		if (d >= 0)
			l->file_of[d] = (int)i; /* known, but not restored */
	}
	if (mmr_snap_left(r) != 0)
		return mmr_snap_fail(r, "malformed layout section");
	if (stripes == mmr_lru_stripes(e->users) && !l->keep_seed)
		mmr_lru_set_seed(e->users, seed);
	return 0;
}

static int read_users(loader *l)
{
	mmr_snap_reader *r = l->r;
	mmr_engine *e = l->e;
	uint32_t count;
	if (mmr_snap_get_u32(r, &count) != 0)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t flags, n;
		uint16_t kl;
		char key[MMR_USER_MAX];
		user_core *u = (user_core *)l->rec;
		memset(l->rec, 0, e->record_size);
		if (mmr_snap_get_u8(r, &flags) != 0 || mmr_snap_get_u16(r, &kl) != 0)
			return -1;
		if (flags > (REC_PROTECTED | REC_PSEUDONYM) || kl == 0 || kl >= MMR_USER_MAX)
			return mmr_snap_fail(r, "malformed user record");
		if (mmr_snap_get(r, key, kl) != 0 || mmr_snap_get_i64(r, &u->first_seen) != 0 ||
		    mmr_snap_get_i64(r, &u->last_seen) != 0 ||
		    mmr_snap_get_i64(r, &u->risk_time) != 0 ||
		    mmr_snap_get_u32(r, &u->events) != 0 || mmr_snap_get_u8(r, &n) != 0)
			return -1;
		if (n > l->nrules)
			return mmr_snap_fail(r, "malformed user record (%u rules)", n);
		for (uint8_t j = 0; j < n; j++) {
			uint8_t k;
			uint32_t last;
			uint16_t risk;
			if (mmr_snap_get_u8(r, &k) != 0 || mmr_snap_get_u32(r, &last) != 0 ||
			    mmr_snap_get_u16(r, &risk) != 0)
				return -1;
			if (k >= l->nrules)
				return mmr_snap_fail(r, "malformed user record (rule %u)", k);
			/* a file from a build with more slots per user (or none) may hold more
			 * rules than fit: the slots keep what live eviction would keep */
			int s = l->rule_map[k] < 0 ? -1
				: mmr_core_claim(e, u, l->rule_map[k], u->risk_time, 0);
			if (s >= 0) {
				u->rule_last[s] = last;
				u->rule_risk[s] = risk;
			}
		}
		for (uint32_t f = 0; f < l->ndet; f++) {
			int d = l->det[f].det;
			if (d < 0) {
				if (mmr_snap_skip(r, l->det[f].size) != 0)
					return -1;
				continue;
			}
			void *slice = l->rec + e->slice_off[d];
			if (mmr_snap_get(r, slice, l->det[f].size) != 0)
				return -1;
			if (mmr_detectors[d]->user_load)
				mmr_detectors[d]->user_load(slice);
		}
		if (l->set && shard_record(l, key, kl, flags) != 0)
			return -1;
		if (mmr_lru_put(e->users, key, kl, l->rec, flags & REC_PROTECTED) != 0)
			return mmr_snap_fail(r, "out of memory");
		l->users++;
		l->pseudonyms += (flags & REC_PSEUDONYM) != 0;
	}
	if (mmr_snap_left(r) != 0)
		return mmr_snap_fail(r, "malformed users section (%zu bytes after %u records)",
				     mmr_snap_left(r), count);
	return 0;
}

typedef struct {
	size_t off, size;
} slice_ref;

static int zero_slice(void *arg, const void *key, size_t keylen, void *value, bool protected_)
{
	const slice_ref *s = arg;
	(void)key;
	(void)keylen;
	(void)protected_;
	memset((unsigned char *)value + s->off, 0, s->size);
	return 0;
}

/* Detector d starts over: its slices zeroed in every record, its global state fresh. */
static int drop_detector(loader *l, int d, const char *why)
{
	mmr_engine *e = l->e;
	const mmr_detector *det = mmr_detectors[d];
	slice_ref s = {e->slice_off[d], det->user_state_size};
	for (unsigned i = 0; s.size && i < mmr_lru_stripes(e->users); i++)
		mmr_lru_visit_stripe(e->users, i, 0, zero_slice, &s, NULL);
	if (e->global[d]) {
		det->global_free(e->global[d]);
		if ((e->global[d] = det->global_new(&e->cfg)) == NULL)
			return mmr_snap_fail(l->r, "out of memory");
	}
	int f = l->file_of[d];
	if (f >= 0)
		l->det[f].det = -1;
	l->dropped++;
	note(l->dropped_names, sizeof(l->dropped_names), "%s (%s)", det->name, why);
	return 0;
}

static int read_global(loader *l)
{
	mmr_snap_reader *r = l->r;
	char name[256];
	uint32_t version;
	if (mmr_snap_global_open(r, name, sizeof(name), &version) != 0)
		return -1;
	int d = find_det(l->e, name);
	int f = d >= 0 ? l->file_of[d] : -1;
	if (f < 0 || l->det[f].det < 0 || version != mmr_detectors[d]->state_version ||
	    mmr_detectors[d]->global_load == NULL || l->e->global[d] == NULL)
		return mmr_snap_global_skip(r); /* not restored: named with the layout */
	if (l->det[f].global_done)
		return mmr_snap_fail(r, "state of detector %s saved twice", name);
	l->det[f].global_done = true;
	int rc = mmr_detectors[d]->global_load(l->e->global[d], r);
	if (rc == MMR_SNAP_INCOMPATIBLE) {
		if (mmr_snap_global_skip(r) != 0)
			return -1;
		return drop_detector(l, d, "saved state of another size");
	}
	if (rc != 0)
		return mmr_snap_fail(r, "malformed saved state of detector %s", name);
	return mmr_snap_global_close(r);
}

/* A detector restored with its users but without its global state (or the reverse) would
 * judge against half a memory: both or neither. */
static int both_or_neither(loader *l)
{
	for (uint32_t f = 0; f < l->ndet; f++) {
		int d = l->det[f].det;
		if (d >= 0 && mmr_detectors[d]->global_load && l->e->global[d] &&
		    !l->det[f].global_done && drop_detector(l, d, "no saved global state") != 0)
			return -1;
	}
	return 0;
}

static int load(loader *l, uint64_t *file_users, uint64_t *entries)
{
	mmr_snap_reader *r = l->r;
	uint32_t type;
	if (mmr_snap_next(r, &type) != 0)
		return -1;
	if (type != MMR_SEC_LAYOUT)
		return mmr_snap_fail(r, "the first section is not the layout");
	if (read_layout(l) != 0)
		return -1;
	for (;;) {
		if (mmr_snap_next(r, &type) != 0)
			return -1;
		int rc = type == MMR_SEC_USERS    ? read_users(l)
			 : type == MMR_SEC_GLOBAL ? read_global(l)
			 : type == MMR_SEC_END	  ? mmr_snap_finish(r, file_users, entries)
			 : type == MMR_SEC_SHARD
				 ? mmr_snap_fail(r, "a file of a per-shard state directory "
						    "(statedir), not a state file")
				 : mmr_snap_fail(r, "a second layout section");
		if (rc != 0)
			return -1;
		if (type == MMR_SEC_END)
			break;
	}
	if (*file_users != l->users)
		return mmr_snap_fail(r, "%llu user records, the end section counts %llu",
				     (unsigned long long)l->users, (unsigned long long)*file_users);
	return both_or_neither(l);
}

/* The key records are restored with: their users' names are matched to it (reattach). */
static void set_key(mmr_engine *e, const uint8_t *key)
{
	memcpy(e->pseudo_key, key, 16);
	e->has_pseudo_key = true;
}

static void restore_message(const loader *l, const char *path, const mmr_snap_header *h,
			    uint64_t entries, bool have_key, mmr_snapshot_info *info)
{
	char *m = info->message;
	size_t size = sizeof(info->message);
	char when[32];
	mmr_time_format(h->created, when, sizeof(when));
	size_t kept = mmr_lru_count(l->e->users);
	snprintf(m, size, "restored %llu users and %llu table entries from %s (written %s)",
		 (unsigned long long)l->users, (unsigned long long)entries, path, when);
/* appends to the message m of size bytes (restore messages) */
#define ADD(...)                                                                                   \
	do {                                                                                       \
		size_t n_ = strlen(m);                                                             \
		if (n_ + 1 < size)                                                                 \
			snprintf(m + n_, size - n_, __VA_ARGS__);                                  \
	} while (0)
	if (kept < l->users)
		ADD("; state.maxusers %u keeps %zu of them (the least recently seen are dropped "
		    "first, users without a successful sign-in before the others)",
		    l->e->cfg.max_users, kept);
	if (l->pseudonyms)
		ADD("; %llu pseudonymized records %s", (unsigned long long)l->pseudonyms,
		    have_key ? "rejoin their users at their next event"
			     : "cannot rejoin their users without the pseudonym key");
	if (l->dropped)
		ADD("; detectors relearning: %s", l->dropped_names);
	char fresh[192] = "";
	for (size_t d = 0; d < l->e->ndet; d++)
		if (l->file_of[d] < 0)
			note(fresh, sizeof(fresh), "%s", mmr_detectors[d]->name);
	if (fresh[0])
		ADD("; new detectors starting fresh: %s", fresh);
	if (l->unknown_rules)
		ADD("; %u rule ids of the file no longer exist (their risk is dropped)",
		    l->unknown_rules);
}

mmr_engine *mmr_engine_restore(const mmr_config *cfg, const char *path,
			       const mmr_snapshot_opts *opts, int *status,
			       mmr_snapshot_info *info, char *err, size_t errlen)
{
	mmr_snapshot_info dummy;
	info = begin_info(info, &dummy, err);
	double t0 = now_s();
	const uint8_t *key = opts ? opts->pseudonym_key : NULL;
	*status = -1;
	mmr_engine *e = mmr_engine_new(cfg, err, errlen);
	if (e == NULL)
		return NULL;
	if (key) {
		set_key(e, key);
	}
	mmr_snap_header h;
	int st;
	mmr_snap_reader *r = mmr_snap_open(path, key, &st, &h, err, errlen);
	if (r == NULL) {
		*status = st;
		if (st == 1)
			snprintf(info->message, sizeof(info->message), "%s: no state file, starting fresh",
				 path);
		else
			snprintf(info->message, sizeof(info->message), "%s", err);
		info->seconds = now_s() - t0;
		return e;
	}
	loader *l = calloc(1, sizeof(*l));
	unsigned char *rec = malloc(e->record_size);
	uint64_t file_users = 0, entries = 0;
	int rc = -1;
	if (l && rec) {
		l->e = e;
		l->r = r;
		l->rec = rec;
		for (size_t d = 0; d < MAX_DETECTORS; d++)
			l->file_of[d] = -1;
		rc = load(l, &file_users, &entries);
	} else {
		mmr_snap_fail(r, "out of memory");
	}
	if (rc != 0) {
		char again[256];
		snprintf(err, errlen, "%s", mmr_snap_error(r));
		mmr_engine_free(e);
		e = mmr_engine_new(cfg, again, sizeof(again));
		if (e == NULL)
			snprintf(err, errlen, "%s", again);
		if (e && key) {
			set_key(e, key);
		}
		snprintf(info->message, sizeof(info->message), "%s", err);
	} else {
		*status = 0;
		info->users = l->users;
		info->entries = entries;
		info->sections_dropped = l->dropped;
		atomic_store(&e->pseudo_left, e->has_pseudo_key ? l->pseudonyms : 0);
		restore_message(l, path, &h, entries, e->has_pseudo_key, info);
	}
	info->format_version = h.format_version;
	info->created = h.created;
	info->bytes = mmr_snap_file_size(r);
	mmr_snap_close(r);
	free(rec);
	free(l);
	info->seconds = now_s() - t0;
	return e;
}

/* --- pseudonyms and size ---------------------------------------------------------------- */

void *mmr_engine_reattach(mmr_engine *e, const char *user, void *rec, mmr_lru_hold *hold)
{
	size_t len = strlen(user);
	if (!e->has_pseudo_key || mmr_is_pseudonym(user, len))
		return rec;
	unsigned char *buf = malloc(mmr_lru_value_size(e->users));
	if (buf == NULL)
		return rec;
	char pk[MMR_PSEUDONYM_LEN + 1];
	mmr_pseudonym(e->pseudo_key, user, len, pk);
	/* one stripe at a time: the user's (holding an empty record) is released first. An event
	 * of the same user on another thread in between sees the empty record; the saved history
	 * then replaces what that one event taught (docs/state.md). */
	mmr_lru_release(hold);
	bool prot = false;
	bool found = mmr_lru_remove(e->users, pk, MMR_PSEUDONYM_LEN, buf, &prot);
	rec = mmr_lru_acquire(e->users, user, len, true, NULL, hold);
	if (found) {
		uint_fast64_t left = atomic_load(&e->pseudo_left);
		while (left > 0 && !atomic_compare_exchange_weak(&e->pseudo_left, &left, left - 1))
			;
		if (rec) {
			memcpy(rec, buf, mmr_lru_value_size(e->users));
			if (prot)
				mmr_lru_protect(hold, rec);
			atomic_fetch_add(&e->reattached, 1);
		}
	}
	free(buf);
	return rec;
}

void mmr_engine_pseudonym_counts(mmr_engine *e, uint64_t *waiting, uint64_t *reattached)
{
	if (waiting)
		*waiting = atomic_load(&e->pseudo_left);
	if (reattached)
		*reattached = atomic_load(&e->reattached);
}

uint64_t mmr_engine_state_bytes(mmr_engine *e)
{
	uint64_t b = mmr_lru_bytes(e->users);
	for (size_t d = 0; d < e->ndet; d++)
		if (e->global[d] && mmr_detectors[d]->global_bytes)
			b += mmr_detectors[d]->global_bytes(e->global[d]);
	return b;
}

/* --- per-shard snapshots (state.h; docs/state.md "Per-shard layout") -------------------- */

typedef struct {
	uint64_t h; /* FNV-1a 64 of the pseudonym */
	uint32_t shard;
} pseudo_home;

struct mmr_shard_set {
	uint32_t n, nowned;
	uint8_t *owned;   /* n bits */
	uint8_t *present; /* n bits: shard files this engine restored or wrote */
	/* records restored under a pseudonym, whose shard their key no longer tells: the shard
	 * of the file they came from, sorted by h after each restore */
	pseudo_home *homes;
	size_t nhomes, caphomes;
};

mmr_shard_set *mmr_shard_set_new(uint32_t nshards, const char *owned, char *err, size_t errlen)
{
	if (nshards < 1 || nshards > MMR_SHARDS_MAX) {
		snprintf(err, errlen, "%u shards: 1-%d", nshards, MMR_SHARDS_MAX);
		return NULL;
	}
	size_t bytes = ((size_t)nshards + 7) / 8;
	mmr_shard_set *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->owned = malloc(bytes)) == NULL ||
	    (s->present = calloc(1, bytes)) == NULL) {
		snprintf(err, errlen, "out of memory");
		mmr_shard_set_free(s);
		return NULL;
	}
	s->n = nshards;
	if (owned == NULL) {
		memset(s->owned, 0xff, bytes);
		s->nowned = nshards;
		return s;
	}
	long k = mmr_shard_parse_list(owned, nshards, s->owned, err, errlen);
	if (k < 0) {
		mmr_shard_set_free(s);
		return NULL;
	}
	s->nowned = (uint32_t)k;
	return s;
}

void mmr_shard_set_free(mmr_shard_set *s)
{
	if (s == NULL)
		return;
	free(s->owned);
	free(s->present);
	free(s->homes);
	free(s);
}

uint32_t mmr_shard_set_count(const mmr_shard_set *s)
{
	return s->n;
}

uint32_t mmr_shard_set_owned(const mmr_shard_set *s)
{
	return s->nowned;
}

bool mmr_shard_set_owns_user(const mmr_shard_set *s, const char *user, size_t len)
{
	return mmr_shard_bit(s->owned, mmr_user_shard(user, len, s->n));
}

int mmr_shard_file(char *buf, size_t size, const char *dir, uint32_t k)
{
	if (k == UINT32_MAX)
		return snprintf(buf, size, "%s/global.mmrs", dir);
	return snprintf(buf, size, "%s/shard-%03u.mmrs", dir, k);
}

static int home_cmp(const void *a, const void *b)
{
	const pseudo_home *x = a, *y = b;
	return x->h < y->h ? -1 : x->h > y->h;
}

/* The shard a record of the users table belongs to. */
static uint32_t shard_of_key(const mmr_shard_set *s, const char *k, size_t kl)
{
	if (s->nhomes > 0 && mmr_is_pseudonym(k, kl)) {
		pseudo_home want = {.h = mmr_fnv1a64(k, kl)};
		const pseudo_home *h = bsearch(&want, s->homes, s->nhomes, sizeof(*h), home_cmp);
		if (h != NULL)
			return h->shard;
	}
	return mmr_user_shard(k, kl, s->n);
}

static void put_shard_section(mmr_snap_writer *w, uint32_t n, uint32_t k)
{
	mmr_snap_section_begin(w, MMR_SEC_SHARD);
	mmr_snap_put_u32(w, n);
	mmr_snap_put_u32(w, k);
	mmr_snap_section_end(w);
}

typedef struct {
	mmr_snap_writer *w;
	uint64_t users;
	uint32_t in_section;
	bool failed;
} shard_out;

static void first_error(char *err, size_t errlen, const char *why)
{
	if (err[0] == '\0')
		snprintf(err, errlen, "%s", why);
}

/* A record of shard k goes to its writer, opened at the shard's first record. */
static mmr_snap_writer *shard_writer(mmr_engine *e, const mmr_shard_set *s, shard_out *o,
				     uint32_t k, const char *dir, const uint8_t *key,
				     int64_t created, char *err, size_t errlen)
{
	if (o->w == NULL && !o->failed) {
		char path[4096], why[512];
		mmr_shard_file(path, sizeof(path), dir, k);
		if ((o->w = mmr_snap_create_closed(path, key, created, why, sizeof(why))) == NULL) {
			o->failed = true;
			first_error(err, errlen, why);
			return NULL;
		}
		put_layout(o->w, e);
		put_shard_section(o->w, s->n, k);
	}
	return o->w;
}

static void end_users_section(shard_out *o)
{
	if (o->in_section == 0)
		return;
	mmr_snap_patch_u32(o->w, 0, o->in_section);
	mmr_snap_section_end(o->w);
	o->in_section = 0;
}

typedef struct {
	mmr_engine *e;
	const mmr_shard_set *s;
	shard_out *out;
	const char *dir;
	const uint8_t *key;
	int64_t created;
	char *err;
	size_t errlen;
	size_t flush_at;
	uint64_t users, pseudonyms;
} shards_out;

/* A staged user into its shard's file, in USERS sections of at most flush_at bytes. */
static void put_shard_user(void *arg, const unsigned char *p, uint16_t keylen)
{
	shards_out *x = arg;
	uint32_t k = shard_of_key(x->s, (const char *)p + 3, keylen);
	shard_out *o = &x->out[k];
	mmr_snap_writer *w = shard_writer(x->e, x->s, o, k, x->dir, x->key, x->created, x->err,
					  x->errlen);
	if (w == NULL)
		return;
	if (o->in_section == 0) {
		mmr_snap_section_begin(w, MMR_SEC_USERS);
		mmr_snap_put_u32(w, 0); /* the count, patched at its end */
	}
	put_record(w, x->e, p, &x->pseudonyms);
	o->users++;
	o->in_section++;
	x->users++;
	if (mmr_snap_section_len(w) >= x->flush_at)
		end_users_section(o);
}

int mmr_engine_save_shards(mmr_engine *e, const char *dir, mmr_shard_set *s,
			   const mmr_snapshot_opts *opts, mmr_snapshot_info *info, char *err,
			   size_t errlen)
{
	mmr_snapshot_info dummy;
	info = begin_info(info, &dummy, err);
	double t0 = now_s();
	const uint8_t *key = opts ? opts->pseudonym_key : NULL;
	int64_t created = (int64_t)time(NULL);
	/* each shard's sections are flushed at this size: 64 MiB buffered at most over all
	 * shards (4 KiB each beyond 16384 shards) */
	size_t flush_at = (64u << 20) / s->n;
	flush_at = flush_at < 4096 ? 4096 : flush_at > MMR_SNAP_CHUNK ? MMR_SNAP_CHUNK : flush_at;
	char gpath[4096];
	mmr_shard_file(gpath, sizeof(gpath), dir, UINT32_MAX);
	shard_out *out = calloc(s->n, sizeof(*out));
	if (out == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return -1;
	}

	pthread_mutex_lock(&e->save_lock);
	/* the global file's writer also stages the copies of the users table's stripes */
	mmr_snap_writer *g = mmr_snap_create(gpath, key, created, err, errlen);
	if (g == NULL) {
		pthread_mutex_unlock(&e->save_lock);
		free(out);
		return -1;
	}
	put_layout(g, e);
	put_shard_section(g, s->n, UINT32_MAX);
	shards_out x = {.e = e, .s = s, .out = out, .dir = dir, .key = key, .created = created,
			.err = err, .errlen = errlen, .flush_at = flush_at};
	bool copy_failed = for_each_user(e, g, put_shard_user, &x) != 0;
	uint64_t pseudonyms = x.pseudonyms, users = x.users, bytes = 0;
	uint32_t files = 0;
	for (uint32_t k = 0; k < s->n; k++) {
		shard_out *o = &out[k];
		char why[512] = "";
		if (o->w == NULL)
			continue;
		if (copy_failed) {
			mmr_snap_abort(o->w, NULL, 0);
			o->w = NULL;
			continue;
		}
		end_users_section(o);
		mmr_snap_count(o->w, o->users, 0);
		if (mmr_snap_seal(o->w, why, sizeof(why)) != 0) {
			o->w = NULL;
			o->failed = true;
			first_error(err, errlen, why);
		}
	}
	/* one flush of the file system for every shard file (an fsync each would cost a journal
	 * commit per file: minutes for thousands of shards), each file durable before its rename */
	bool synced = !copy_failed && mmr_snap_sync_fs(gpath) == 0;
	for (uint32_t k = 0; k < s->n && !copy_failed; k++) {
		shard_out *o = &out[k];
		char why[512] = "";
		uint64_t b = 0;
		if (o->w == NULL)
			continue;
		if (!synced)
			mmr_snap_fsync(o->w);
		if (mmr_snap_commit(o->w, &b, why, sizeof(why)) != 0) {
			o->failed = true;
			first_error(err, errlen, why);
		} else {
			s->present[k >> 3] |= (uint8_t)(1u << (k & 7));
			bytes += b;
			files++;
		}
	}
	if (copy_failed) {
		mmr_snap_abort(g, err, errlen);
		first_error(err, errlen, "out of memory copying the users table");
		pthread_mutex_unlock(&e->save_lock);
		free(out);
		return -1;
	}
	double stall = 0;
	uint64_t entries = 0, b = 0;
	char why[512] = "";
	if (put_globals(g, e, opts, gpath, why, sizeof(why)) == 0) {
		/* the tables' stripes are copied like the users' */
		stall = mmr_snap_max_stall_ms(g);
		entries = mmr_snap_entries_written(g);
		if (mmr_snap_commit(g, &b, why, sizeof(why)) == 0) {
			bytes += b;
			files++;
		}
	}
	if (why[0] != '\0')
		first_error(err, errlen, why);
	/* an owned shard whose file this engine has, and which holds no user now (all evicted),
	 * must not come back at the next start */
	uint32_t removed = 0;
	for (uint32_t k = 0; k < s->n; k++) {
		char path[4096];
		if (!mmr_shard_bit(s->present, k) || out[k].users > 0 || out[k].failed ||
		    !mmr_shard_bit(s->owned, k))
			continue;
		mmr_shard_file(path, sizeof(path), dir, k);
		if (unlink(path) == 0 || errno == ENOENT) {
			s->present[k >> 3] &= (uint8_t) ~(1u << (k & 7));
			removed += 1;
		}
	}
	int dirsync = mmr_snap_sync_dir(gpath);
	bool failed = err[0] != '\0';
	if (!failed)
		atomic_store(&e->pseudo_left, pseudonyms);
	pthread_mutex_unlock(&e->save_lock);
	free(out);

	info->users = users;
	info->entries = entries;
	info->bytes = bytes;
	info->max_stall_ms = stall;
	info->format_version = MMR_SNAP_FORMAT_VERSION;
	info->created = created;
	info->files = files;
	info->files_removed = removed;
	info->seconds = now_s() - t0;
	snprintf(info->message, sizeof(info->message),
		 "saved %llu users to %u files in %s (%llu bytes, %.3f s, longest stripe hold "
		 "%.2f ms%s%s)%s", (unsigned long long)users, files, dir,
		 (unsigned long long)bytes, info->seconds, stall, key ? ", pseudonymized" : "",
		 removed ? ", removed the files of shards left without users" : "",
		 dirsync != 0 ? "; fsync of the directory failed" : "");
	return failed ? -1 : 0;
}

/* One restore of a directory. */
typedef struct {
	mmr_engine *e;
	mmr_shard_set *s;
	const char *dir;
	const uint8_t *key;
	mmr_shard_unusable_fn unusable;
	void *arg;
	bool global_ok[MAX_DETECTORS]; /* the detector's global state came from the global file */
	uint64_t users, entries, bytes, pseudonyms;
	int64_t created;
	uint32_t files, failed, ignored;
	char dropped[256], ignored_names[192];
	char *err;
	size_t errlen;
} shard_restore;

/* note(), once per text: many shard files drop the same detectors */
static void note_once(char *buf, size_t size, const char *text)
{
	if (strstr(buf, text) == NULL)
		note(buf, size, "%s", text);
}

static int shard_record(loader *l, const char *key, uint16_t kl, uint8_t flags)
{
	mmr_shard_set *s = l->set;
	if (l->shard == UINT32_MAX)
		return mmr_snap_fail(l->r, "user records in the global file");
	if (flags & REC_PSEUDONYM) {
		if (s->nhomes == s->caphomes) {
			size_t cap = s->caphomes ? 2 * s->caphomes : 1024;
			pseudo_home *h = realloc(s->homes, cap * sizeof(*h));
			if (h == NULL)
				return mmr_snap_fail(l->r, "out of memory");
			s->homes = h;
			s->caphomes = cap;
		}
		s->homes[s->nhomes++] = (pseudo_home){mmr_fnv1a64(key, kl), l->shard};
	} else {
		uint32_t k = mmr_user_shard(key, kl, s->n);
		if (k != l->shard)
			return mmr_snap_fail(l->r, "a user record of shard %u in the file of shard %u",
					     k, l->shard);
	}
	if (l->keys_len + 2 + kl > l->keys_cap) {
		size_t cap = l->keys_cap ? 2 * l->keys_cap : 64 * 1024;
		char *b = realloc(l->keys, cap);
		if (b == NULL)
			return mmr_snap_fail(l->r, "out of memory");
		l->keys = b;
		l->keys_cap = cap;
	}
	memcpy(l->keys + l->keys_len, &kl, 2);
	memcpy(l->keys + l->keys_len + 2, key, kl);
	l->keys_len += 2 + (size_t)kl;
	return 0;
}

/* The sections of a per-shard file after its header: LAYOUT, SHARD, then USERS (a shard file)
 * or GLOBAL (the global file), END. */
static int load_shard_parts(loader *l, shard_restore *x, uint64_t *file_users, uint64_t *entries)
{
	mmr_snap_reader *r = l->r;
	const bool global = l->shard == UINT32_MAX;
	uint32_t type, n, k;
	if (mmr_snap_next(r, &type) != 0)
		return -1;
	if (type != MMR_SEC_LAYOUT)
		return mmr_snap_fail(r, "the first section is not the layout");
	if (read_layout(l) != 0 || mmr_snap_next(r, &type) != 0)
		return -1;
	if (type != MMR_SEC_SHARD)
		return mmr_snap_fail(r, "a single state file (statefile), not a file of a per-shard "
				     "directory");
	if (mmr_snap_get_u32(r, &n) != 0 || mmr_snap_get_u32(r, &k) != 0)
		return -1;
	if (mmr_snap_left(r) != 0)
		return mmr_snap_fail(r, "malformed shard section");
	if (n != x->s->n)
		return mmr_snap_fail(r, "written with shards=%u, this engine has shards=%u (the "
				     "number of virtual shards cannot change without re-splitting "
				     "the state)", n, x->s->n);
	if (k != l->shard)
		return mmr_snap_fail(r, "holds %s%u, not what its name says",
				     k == UINT32_MAX ? "the global state" : "shard ",
				     k == UINT32_MAX ? 0 : k);
	if (!global) {
		/* slices of detectors whose global state was not restored start empty, as in a
		 * single file (both or neither) */
		for (uint32_t f = 0; f < l->ndet; f++) {
			int d = l->det[f].det;
			if (d >= 0 && mmr_detectors[d]->global_load && x->e->global[d] &&
			    !x->global_ok[d]) {
				l->det[f].det = -1;
				note_once(x->dropped, sizeof(x->dropped), mmr_detectors[d]->name);
			}
		}
	}
	for (;;) {
		if (mmr_snap_next(r, &type) != 0)
			return -1;
		int rc = type == MMR_SEC_USERS && !global  ? read_users(l)
			 : type == MMR_SEC_GLOBAL && global ? read_global(l)
			 : type == MMR_SEC_END		    ? mmr_snap_finish(r, file_users, entries)
			 : mmr_snap_fail(r, "unexpected section of type %u", type);
		if (rc != 0)
			return -1;
		if (type == MMR_SEC_END)
			break;
	}
	if (*file_users != l->users)
		return mmr_snap_fail(r, "%llu user records, the end section counts %llu",
				     (unsigned long long)l->users, (unsigned long long)*file_users);
	if (!global)
		return 0;
	if (both_or_neither(l) != 0)
		return -1;
	for (size_t d = 0; d < x->e->ndet; d++) {
		int f = l->file_of[d];
		x->global_ok[d] = f >= 0 && l->det[f].det >= 0 && l->det[f].global_done;
	}
	return 0;
}

/* Every detector's global state fresh again (a global file that failed half way). */
static int reset_globals(mmr_engine *e)
{
	for (size_t d = 0; d < e->ndet; d++) {
		if (e->global[d] == NULL)
			continue;
		mmr_detectors[d]->global_free(e->global[d]);
		if ((e->global[d] = mmr_detectors[d]->global_new(&e->cfg)) == NULL)
			return -1;
	}
	return 0;
}

/* Restores one file of the directory: 0 restored, 1 absent, -1 unusable (reported; nothing
 * of it stays in the engine), -2 out of memory. */
static int restore_one(shard_restore *x, uint32_t shard)
{
	char path[4096], why[1024] = "";
	mmr_engine *e = x->e;
	mmr_snap_header h;
	int st;
	mmr_shard_file(path, sizeof(path), x->dir, shard);
	mmr_snap_reader *r = mmr_snap_open(path, x->key, &st, &h, why, sizeof(why));
	if (r == NULL && st == 1)
		return 1;
	loader *l = r ? calloc(1, sizeof(*l)) : NULL;
	unsigned char *rec = l ? malloc(e->record_size) : NULL;
	size_t homes = x->s->nhomes;
	uint64_t file_users = 0, entries = 0;
	int rc = -1;
	if (rec != NULL) {
		l->e = e;
		l->r = r;
		l->rec = rec;
		l->set = x->s;
		l->shard = shard;
		l->keep_seed = shard != UINT32_MAX;
		for (size_t d = 0; d < MAX_DETECTORS; d++)
			l->file_of[d] = -1;
		rc = load_shard_parts(l, x, &file_users, &entries);
		if (rc != 0)
			snprintf(why, sizeof(why), "%s", mmr_snap_error(r));
	} else if (r != NULL) {
		snprintf(why, sizeof(why), "%.900s: out of memory", path);
	}
	if (rc == 0) {
		x->files++;
		x->users += l->users;
		x->pseudonyms += l->pseudonyms;
		x->entries += entries;
		x->bytes += mmr_snap_file_size(r);
		if (h.created > x->created)
			x->created = h.created;
		if (shard != UINT32_MAX)
			x->s->present[shard >> 3] |= (uint8_t)(1u << (shard & 7));
		if (l->dropped)
			note_once(x->dropped, sizeof(x->dropped), l->dropped_names);
	} else {
		/* take out what the file put in */
		for (size_t off = 0; l && off < l->keys_len;) {
			uint16_t kl;
			memcpy(&kl, l->keys + off, 2);
			mmr_lru_remove(e->users, l->keys + off + 2, kl, NULL, NULL);
			off += 2 + (size_t)kl;
		}
		x->s->nhomes = homes;
		if (shard == UINT32_MAX) {
			memset(x->global_ok, 0, sizeof(x->global_ok));
			if (reset_globals(e) != 0)
				rc = -2;
		}
		x->failed++;
		first_error(x->err, x->errlen, why);
		if (x->unusable)
			x->unusable(x->arg, path, why);
	}
	if (l)
		free(l->keys);
	free(l);
	free(rec);
	mmr_snap_close(r);
	return rc == -2 ? -2 : rc == 0 ? 0 : -1;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The shard a directory entry's name is the file of ("shard-" decimal ".mmrs" as
 * mmr_shard_file writes it), or -1. */
static long shard_of_name(const char *name)
{
	char canon[64];
	if (strncmp(name, "shard-", 6) != 0 || name[6] < '0' || name[6] > '9')
		return -1;
	unsigned long v = strtoul(name + 6, NULL, 10);
	if (v >= (unsigned long)MMR_SHARDS_MAX * 10)
		return -1;
	snprintf(canon, sizeof(canon), "shard-%03lu.mmrs", v);
	return strcmp(canon, name) == 0 ? (long)v : -1;
}

static bool unfinished(const char *name)
{
	size_t n = strlen(name);
	return n > 9 && strcmp(name + n - 9, ".mmrs.tmp") == 0 &&
	       (strncmp(name, "shard-", 6) == 0 || strcmp(name, "global.mmrs.tmp") == 0);
}

/* Lists the directory: the shards to restore (sorted), the others counted and named. */
static int list_shards(shard_restore *x, uint32_t **found, size_t *nfound, uint32_t *tmps)
{
	DIR *d = opendir(x->dir);
	if (d == NULL) {
		snprintf(x->err, x->errlen, "%s: cannot read the directory: %s", x->dir,
			 strerror(errno));
		return -1;
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (unfinished(de->d_name)) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", x->dir, de->d_name);
			*tmps += unlink(path) == 0;
			continue;
		}
		long k = shard_of_name(de->d_name);
		if (k < 0)
			continue;
		if ((uint64_t)k >= x->s->n || !mmr_shard_bit(x->s->owned, (uint32_t)k)) {
			x->ignored++;
			note(x->ignored_names, sizeof(x->ignored_names), "%s%s", de->d_name,
			     (uint64_t)k >= x->s->n ? " (beyond the configured shards)" : "");
			continue;
		}
		if (*nfound == cap) {
			cap = cap ? 2 * cap : 256;
			uint32_t *f = realloc(*found, cap * sizeof(*f));
			if (f == NULL) {
				closedir(d);
				snprintf(x->err, x->errlen, "%s: out of memory", x->dir);
				return -1;
			}
			*found = f;
		}
		(*found)[(*nfound)++] = (uint32_t)k;
	}
	closedir(d);
	if (*nfound)
		qsort(*found, *nfound, sizeof(**found), u32_cmp);
	return 0;
}

static void shard_restore_message(const shard_restore *x, uint32_t tmps, mmr_snapshot_info *info)
{
	char *m = info->message;
	size_t size = sizeof(info->message);
	char when[32] = "-";
	if (x->created)
		mmr_time_format(x->created, when, sizeof(when));
	snprintf(m, size, "restored %llu users and %llu table entries from %u files in %s "
		 "(newest written %s)", (unsigned long long)x->users,
		 (unsigned long long)x->entries, x->files, x->dir, when);
	size_t kept = mmr_lru_count(x->e->users);
	if (kept < x->users)
		ADD("; state.maxusers %u keeps %zu of them", x->e->cfg.max_users, kept);
	if (x->failed)
		ADD("; %u files could not be used (each reported)", x->failed);
	if (x->ignored)
		ADD("; ignored %u files of shards not owned: %s", x->ignored, x->ignored_names);
	if (x->dropped[0])
		ADD("; detectors relearning: %s", x->dropped);
	if (x->pseudonyms)
		ADD("; %llu pseudonymized records %s", (unsigned long long)x->pseudonyms,
		    x->key ? "rejoin their users at their next event"
			   : "cannot rejoin their users without the pseudonym key");
	if (tmps)
		ADD("; removed %u unfinished .tmp files of an interrupted save", tmps);
#undef ADD
}

mmr_engine *mmr_engine_restore_shards(const mmr_config *cfg, const char *dir, mmr_shard_set *s,
				      const mmr_snapshot_opts *opts, mmr_shard_unusable_fn unusable,
				      void *arg, int *status, mmr_snapshot_info *info, char *err,
				      size_t errlen)
{
	mmr_snapshot_info dummy;
	info = begin_info(info, &dummy, err);
	double t0 = now_s();
	*status = -1;
	mmr_engine *e = mmr_engine_new(cfg, err, errlen);
	if (e == NULL)
		return NULL;
	const uint8_t *key = opts ? opts->pseudonym_key : NULL;
	if (key) {
		set_key(e, key);
	}
	shard_restore *x = calloc(1, sizeof(*x));
	uint32_t *found = NULL, tmps = 0;
	size_t nfound = 0;
	if (x == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		mmr_engine_free(e);
		return NULL;
	}
	*x = (shard_restore){.e = e, .s = s, .dir = dir, .key = key, .unusable = unusable,
			     .arg = arg, .err = err, .errlen = errlen};
	s->nhomes = 0;
	if (list_shards(x, &found, &nfound, &tmps) != 0) {
		snprintf(info->message, sizeof(info->message), "%s", err);
		free(x);
		return e;
	}
	int rc = restore_one(x, UINT32_MAX);
	bool any = rc != 1;
	for (size_t i = 0; i < nfound && rc != -2; i++) {
		rc = restore_one(x, found[i]);
		any = true;
	}
	free(found);
	if (rc == -2) {
		snprintf(err, errlen, "%s: out of memory", dir);
		mmr_engine_free(e);
		free(x);
		return NULL;
	}
	if (s->nhomes)
		qsort(s->homes, s->nhomes, sizeof(*s->homes), home_cmp);
	*status = any || x->ignored ? 0 : 1;
	atomic_store(&e->pseudo_left, e->has_pseudo_key ? x->pseudonyms : 0);
	if (*status == 1)
		snprintf(info->message, sizeof(info->message), "%s: no state files, starting fresh%s",
			 dir, tmps ? " (removed the .tmp files of an interrupted save)" : "");
	else
		shard_restore_message(x, tmps, info);
	info->users = x->users;
	info->entries = x->entries;
	info->bytes = x->bytes;
	info->files = x->files;
	info->files_failed = x->failed;
	info->files_ignored = x->ignored;
	info->created = x->created;
	info->format_version = MMR_SNAP_FORMAT_VERSION;
	info->seconds = now_s() - t0;
	free(x);
	return e;
}
