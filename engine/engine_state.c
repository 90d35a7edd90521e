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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmriskscore/state.h"
#include "detect/detector.h"
#include "engine_internal.h"
#include "state/snapshot.h"

#define REC_PROTECTED 1
#define REC_PSEUDONYM 2
#define FILE_MAX 255 /* rules and detectors a LAYOUT may name */

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
static void put_core(mmr_snap_writer *w, const mmr_engine *e, const unsigned char *rec)
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
	(void)e; /* kept for the callers: the encoding once needed the rule count */
}

/* Writes the users, one stripe at a time; returns the records written. */
static uint64_t put_users(mmr_snap_writer *w, mmr_engine *e, uint64_t *pseudonyms)
{
	const uint8_t *key = mmr_snap_writer_key(w);
	const size_t vs = mmr_lru_value_size(e->users);
	uint64_t users = 0;
	uint32_t in_section = 0;
	mmr_snap_section_begin(w, MMR_SEC_USERS);
	mmr_snap_put_u32(w, 0); /* the count, patched at the end of the section */
	uint32_t pass = mmr_lru_new_pass(e->users);
	for (unsigned i = 0; i < mmr_lru_stripes(e->users); i++) {
		int more;
		do {
			size_t len;
			if ((more = mmr_snap_copy_stripe(w, e->users, i, pass)) < 0)
				return users;
			const unsigned char *stage = mmr_snap_staging(w, &len);
			for (size_t off = 0; off < len;) {
				const unsigned char *p = stage + off;
				uint16_t kl;
				memcpy(&kl, p + 1, 2);
				const char *k = (const char *)p + 3;
				const unsigned char *rec = p + 3 + kl;
				off += 3 + (size_t)kl + vs;
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
				put_core(w, e, rec);
				for (size_t d = 0; d < e->ndet; d++)
					mmr_snap_put(w, rec + e->slice_off[d],
						     mmr_detectors[d]->user_state_size);
				users++;
				in_section++;
				if (mmr_snap_section_len(w) >= MMR_SNAP_CHUNK) {
					mmr_snap_patch_u32(w, 0, in_section);
					mmr_snap_section_end(w);
					mmr_snap_section_begin(w, MMR_SEC_USERS);
					mmr_snap_put_u32(w, 0);
					in_section = 0;
				}
			}
		} while (more == 1);
	}
	mmr_snap_patch_u32(w, 0, in_section);
	mmr_snap_section_end(w);
	return users;
}

int mmr_engine_save(mmr_engine *e, const char *path, const mmr_snapshot_opts *opts,
		    mmr_snapshot_info *info, char *err, size_t errlen)
{
	mmr_snapshot_info dummy;
	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	err[0] = '\0';
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
			pthread_mutex_unlock(&e->save_lock);
			return -1;
		}
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
} loader;

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
	if (stripes == mmr_lru_stripes(e->users))
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
						  : mmr_snap_fail(r, "a second layout section");
		if (rc != 0)
			return -1;
		if (type == MMR_SEC_END)
			break;
	}
	if (*file_users != l->users)
		return mmr_snap_fail(r, "%llu user records, the end section counts %llu",
				     (unsigned long long)l->users, (unsigned long long)*file_users);
	/* a detector restored with its users but without its global state (or the reverse)
	 * would judge against half a memory: both or neither */
	for (uint32_t f = 0; f < l->ndet; f++) {
		int d = l->det[f].det;
		if (d >= 0 && mmr_detectors[d]->global_load && l->e->global[d] &&
		    !l->det[f].global_done && drop_detector(l, d, "no saved global state") != 0)
			return -1;
	}
	return 0;
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
#undef ADD
}

mmr_engine *mmr_engine_restore(const mmr_config *cfg, const char *path,
			       const mmr_snapshot_opts *opts, int *status,
			       mmr_snapshot_info *info, char *err, size_t errlen)
{
	mmr_snapshot_info dummy;
	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	double t0 = now_s();
	const uint8_t *key = opts ? opts->pseudonym_key : NULL;
	*status = -1;
	mmr_engine *e = mmr_engine_new(cfg, err, errlen);
	if (e == NULL)
		return NULL;
	if (key) {
		memcpy(e->pseudo_key, key, 16);
		e->has_pseudo_key = true;
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
			memcpy(e->pseudo_key, key, 16);
			e->has_pseudo_key = true;
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
