/* Virtual shards (engine/include/mmriskscore/shard.h) and per-shard snapshots (state.h,
 * docs/state.md "Per-shard layout"):
 *
 *   - FNV-1a 64 against the published test vectors (Fowler, Noll, Vo: "" "a" "foobar") and
 *     the reduction modulo the number of shards; shard lists ("0-85,200") and their errors
 *   - an engine saved per shard and restored gives the same results, user for user, as the
 *     same engine saved to a single file and restored
 *   - a restore that owns a subset of the shards restores exactly those users and names the
 *     other files; a shard file moved to another engine's directory is adopted there
 *   - a corrupt shard file is reported (and nothing of it kept), the others load
 *   - a file of a shard left without users is removed by the next save; a pseudonymized save
 *     puts records still waiting under their pseudonym back into their shard's file
 *   - a file written with another number of shards, or a shard file given as a single state
 *     file, is refused with a clear error; every truncation of a shard file is refused and
 *     leaves nothing behind
 *   - a benchmark (MMR_SHARD_BENCH_USERS=100000) that prints the CPU and wall time of a
 *     per-shard save and restore next to a single file's
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_support.h"

#include "mmriskscore/engine.h"
#include "mmriskscore/shard.h"
#include "mmriskscore/state.h"

#define NSHARDS 16
#define NUSERS 120
#define DAY 86400
/* Monday 2026-03-02 00:00:00 UTC */
#define T0 ((int64_t)1772409600)

static const uint8_t KEY[16] = "a test key 16 b";

/* --- the hash ----------------------------------------------------------------------------- */

static void test_fnv1a64_vectors(void **state)
{
	(void)state;
	/* http://www.isthe.com/chongo/tech/comp/fnv/ (test vectors of FNV-1a 64) */
	assert_true(mmr_fnv1a64("", 0) == UINT64_C(0xcbf29ce484222325));
	assert_true(mmr_fnv1a64("a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
	assert_true(mmr_fnv1a64("foobar", 6) == UINT64_C(0x85944171f73967e8));
}

static void test_user_shard_reduction(void **state)
{
	(void)state;
	/* the vectors reduced by hand: 0x...e8 = 232 (mod 256); 0x85944171f73967e8 mod 1000 */
	assert_int_equal(mmr_user_shard("foobar", 6, 256), 232);
	assert_int_equal(mmr_user_shard("foobar", 6, 1000),
			 (int)(UINT64_C(0x85944171f73967e8) % 1000));
	assert_int_equal(mmr_user_shard("a", 1, 256), 0x8c);
	assert_int_equal(mmr_user_shard("", 0, 3), (int)(UINT64_C(0xcbf29ce484222325) % 3));
	assert_int_equal(mmr_user_shard("foobar", 6, 1), 0);
	assert_int_equal(mmr_user_shard("foobar", 6, 0), 0);
	for (uint32_t n = 1; n <= MMR_SHARDS_MAX; n = n * 3 + 1) {
		uint32_t k = mmr_user_shard("alice", 5, n);
		assert_true(k < n);
		assert_int_equal(k, (uint32_t)(mmr_fnv1a64("alice", 5) % n));
	}
}

static void test_shard_lists(void **state)
{
	(void)state;
	uint8_t bits[32];
	char err[256];
	assert_int_equal(mmr_shard_parse_list("0-85,200", 256, bits, err, sizeof(err)), 87);
	assert_true(mmr_shard_bit(bits, 0) && mmr_shard_bit(bits, 85) && mmr_shard_bit(bits, 200));
	assert_false(mmr_shard_bit(bits, 86) || mmr_shard_bit(bits, 199) || mmr_shard_bit(bits, 201));
	assert_int_equal(mmr_shard_parse_list(" 7 , 3 - 5, 4 ", 8, bits, err, sizeof(err)), 4);
	assert_int_equal(mmr_shard_parse_list("0-255", 256, bits, err, sizeof(err)), 256);
	static const struct {
		const char *spec, *needle;
	} bad[] = {
		{"", "empty"},		{"256", "shard 256 is out of range: shards are 0-255"},
		{"5-3", "ends below"},	{"1,,2", "expected a shard number"},
		{"a", "expected a shard"}, {"1;2", "unexpected"},
		{"-1", "expected a shard"}, {"99999999999999999999", "out of range"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(mmr_shard_parse_list(bad[i].spec, 256, bits, err, sizeof(err)), -1);
		if (strstr(err, bad[i].needle) == NULL)
			fail_msg("\"%s\": error \"%s\" does not say \"%s\"", bad[i].spec, err,
				 bad[i].needle);
	}
	assert_null(mmr_shard_set_new(0, NULL, err, sizeof(err)));
	assert_null(mmr_shard_set_new(MMR_SHARDS_MAX + 1, NULL, err, sizeof(err)));
	assert_null(mmr_shard_set_new(16, "3-16", err, sizeof(err)));
	mmr_shard_set *s = mmr_shard_set_new(16, "3-5", err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(mmr_shard_set_owned(s), 3);
	assert_int_equal(mmr_shard_set_count(s), 16);
	mmr_shard_set_free(s);
}

/* --- per-shard snapshots ------------------------------------------------------------------ */

static char dir[64];
static mmr_config cfg;
static char names[NUSERS][16];

static void user_name(int i, char *buf, size_t len)
{
	snprintf(buf, len, "user%03d", i);
}

static uint32_t shard_of(int i)
{
	return mmr_user_shard(names[i], strlen(names[i]), NSHARDS);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mmr-shard-XXXXXX");
	for (int i = 0; i < NUSERS; i++)
		user_name(i, names[i], sizeof(names[i]));
	mmr_config_init(&cfg);
	cfg.learning_min_events = 3;
	cfg.learning_min_days = 0;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[128];
	mmr_config_clear(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void sub(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	mkdir(buf, 0700);
}


/* A successful VPN start of user i from ip at t, on a device of its own. */
static mmr_event event_of(int i, const char *ip, int64_t t, const char *host)
{
	mmr_event ev;
	mmr_event_init(&ev);
	memcpy(ev.user, names[i], strlen(names[i]) + 1);
	ev.action = MMR_ACTION_VPN_START;
	ev.outcome = MMR_OUTCOME_SUCCESS;
	assert_int_equal(mmr_ip_parse(ip, &ev.src_ip), 0);
	ev.time = t;
	snprintf(ev.host, sizeof(ev.host), "%s", host);
	return ev;
}

static mmr_engine *fresh(void)
{
	char err[256];
	mmr_engine *e = mmr_engine_new(&cfg, err, sizeof(err));
	if (e == NULL)
		fail_msg("mmr_engine_new: %s", err);
	return e;
}

/* Two weeks of sign-ins of users first..last-1 (only those whose shard pass accepts), from
 * a few addresses each, some at night, some shared: the per-user and the cross-user detectors
 * both learn something. */
static void learn(mmr_engine *e, int first, int last, bool (*pass)(int))
{
	mmr_result r;
	for (int day = 0; day < 14; day++)
		for (int i = first; i < last; i++) {
			if (pass && !pass(i))
				continue;
			char ip[32], host[32];
			snprintf(ip, sizeof(ip), "198.51.%d.%d", i % 7, (i + day) % 3 + 1);
			snprintf(host, sizeof(host), "laptop-%d", i % 11);
			mmr_event ev = event_of(i, ip, T0 + day * DAY + 8 * 3600 + (i % 5) * 3600,
						host);
			assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
		}
}

/* A probe for every user: an address and an hour none of them used. */
static mmr_result probe(mmr_engine *e, int i)
{
	mmr_result r;
	char host[32];
	snprintf(host, sizeof(host), "unknown-%d", i % 3);
	mmr_event ev = event_of(i, "203.0.113.9", T0 + 15 * DAY + 3 * 3600, host);
	assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	return r;
}

static void assert_same(const mmr_result *a, const mmr_result *b)
{
	if (strcmp(a->user, b->user) != 0 || a->score != b->score ||
	    a->user_score != b->user_score || a->learning != b->learning ||
	    a->n_reasons != b->n_reasons)
		fail_msg("user %s: score %d/%d user_score %d/%d learning %d/%d reasons %d/%d",
			 a->user, a->score, b->score, a->user_score, b->user_score, a->learning,
			 b->learning, a->n_reasons, b->n_reasons);
	for (int k = 0; k < a->n_reasons; k++)
		if (strcmp(a->reasons[k].rule, b->reasons[k].rule) != 0 ||
		    a->reasons[k].points != b->reasons[k].points ||
		    strcmp(a->reasons[k].detail, b->reasons[k].detail) != 0)
			fail_msg("user %s reason %d: %s %d \"%s\" / %s %d \"%s\"", a->user, k,
				 a->reasons[k].rule, a->reasons[k].points, a->reasons[k].detail,
				 b->reasons[k].rule, b->reasons[k].points, b->reasons[k].detail);
}

static uint64_t users_of(mmr_engine *e)
{
	mmr_stats st;
	mmr_engine_stats(e, &st);
	return st.users;
}

static mmr_shard_set *set_of(const char *owned)
{
	char err[256];
	mmr_shard_set *s = mmr_shard_set_new(NSHARDS, owned, err, sizeof(err));
	if (s == NULL)
		fail_msg("mmr_shard_set_new: %s", err);
	return s;
}

static void save_shards(mmr_engine *e, const char *d, mmr_shard_set *s, const uint8_t *key,
			mmr_snapshot_info *info)
{
	char err[512];
	mmr_snapshot_opts o = {.pseudonym_key = key};
	if (mmr_engine_save_shards(e, d, s, &o, info, err, sizeof(err)) != 0)
		fail_msg("mmr_engine_save_shards: %s", err);
}

/* An engine that learned the company, saved per shard into dir/name (d: its path). */
static mmr_engine *saved_company(char *d, size_t dlen, const char *name, const uint8_t *key,
				 mmr_shard_set **s, mmr_snapshot_info *info)
{
	sub(d, dlen, name);
	mmr_engine *a = fresh();
	learn(a, 0, NUSERS, NULL);
	*s = set_of(NULL);
	save_shards(a, d, *s, key, info);
	return a;
}

typedef struct {
	int calls;
	char path[512], why[512];
} unusable_log;

static void on_unusable(void *arg, const char *path, const char *why)
{
	unusable_log *u = arg;
	u->calls++;
	snprintf(u->path, sizeof(u->path), "%s", path);
	snprintf(u->why, sizeof(u->why), "%s", why);
}

static mmr_engine *restore_shards(const char *d, mmr_shard_set *s, const uint8_t *key,
				  unusable_log *u, int *status, mmr_snapshot_info *info)
{
	char err[512];
	mmr_snapshot_opts o = {.pseudonym_key = key};
	mmr_engine *e = mmr_engine_restore_shards(&cfg, d, s, &o, on_unusable, u, status, info,
						  err, sizeof(err));
	if (e == NULL)
		fail_msg("mmr_engine_restore_shards: %s", err);
	return e;
}

static int count_files(const char *d, const char *prefix)
{
	int n = 0;
	DIR *dd = opendir(d);
	assert_non_null(dd);
	struct dirent *de;
	while ((de = readdir(dd)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(dd);
	return n;
}

static int users_in_shards(bool (*pass)(uint32_t))
{
	int n = 0;
	for (int i = 0; i < NUSERS; i++)
		n += pass(shard_of(i));
	return n;
}

static void test_sharded_equals_single(void **state)
{
	(void)state;
	char d[128], single[160], err[512];
	sub(d, sizeof(d), "equal");
	snprintf(single, sizeof(single), "%s/single.state", dir);
	mmr_engine *a = fresh();
	learn(a, 0, NUSERS, NULL);
	mmr_snapshot_info info;
	assert_int_equal(mmr_engine_save(a, single, NULL, &info, err, sizeof(err)), 0);
	mmr_shard_set *s = set_of(NULL);
	save_shards(a, d, s, NULL, &info);
	assert_int_equal(info.users, NUSERS);
	/* a file per shard that holds users (all 16 with 120 users), and the global one */
	int shards_used = 0;
	for (uint32_t k = 0; k < NSHARDS; k++) {
		bool used = false;
		for (int i = 0; i < NUSERS && !used; i++)
			used = shard_of(i) == k;
		char p[256];
		mmr_shard_file(p, sizeof(p), d, k);
		assert_int_equal(access(p, F_OK) == 0, used);
		shards_used += used;
		struct stat st;
		if (used) {
			assert_int_equal(stat(p, &st), 0);
			assert_int_equal(st.st_mode & 0777, 0600);
		}
	}
	assert_int_equal(info.files, shards_used + 1);
	assert_int_equal(count_files(d, "shard-"), shards_used);
	assert_int_equal(count_files(d, "global.mmrs"), 1);

	int status;
	mmr_shard_set *s2 = set_of(NULL);
	unusable_log u = {0};
	mmr_engine *b = restore_shards(d, s2, NULL, &u, &status, &info);
	assert_int_equal(status, 0);
	assert_int_equal(u.calls, 0);
	assert_int_equal(info.users, NUSERS);
	assert_int_equal(info.files, shards_used + 1);
	assert_int_equal(info.files_failed, 0);
	mmr_engine *c = mmr_engine_restore(&cfg, single, NULL, &status, &info, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(status, 0);
	assert_int_equal(users_of(b), users_of(c));
	int with_reasons = 0;
	for (int i = 0; i < NUSERS; i++) {
		mmr_result rb = probe(b, i), rc = probe(c, i);
		assert_same(&rc, &rb);
		with_reasons += rb.n_reasons > 0;
	}
	/* the probe is compared on something learned, not on empty baselines */
	assert_true(with_reasons > NUSERS / 2);
	/* and a fresh engine does not give those results */
	mmr_engine *f = fresh();
	int differ = 0;
	for (int i = 0; i < NUSERS; i++) {
		mmr_result rf = probe(f, i), rb = probe(b, i);
		differ += rf.n_reasons != rb.n_reasons || rf.learning != rb.learning;
	}
	assert_true(differ > NUSERS / 2);
	mmr_engine_free(f);
	mmr_engine_free(a);
	mmr_engine_free(b);
	mmr_engine_free(c);
	mmr_shard_set_free(s);
	mmr_shard_set_free(s2);
}

static bool low_half(uint32_t k)
{
	return k < NSHARDS / 2;
}

static void test_restore_a_subset(void **state)
{
	(void)state;
	char d[128];
	mmr_shard_set *s;
	mmr_snapshot_info info;
	mmr_engine *a = saved_company(d, sizeof(d), "subset", NULL, &s, &info);
	int status;
	mmr_shard_set *half = set_of("0-7");
	mmr_engine *b = restore_shards(d, half, NULL, NULL, &status, &info);
	assert_int_equal(status, 0);
	assert_int_equal(users_of(b), users_in_shards(low_half));
	assert_int_equal(info.users, users_in_shards(low_half));
	assert_int_equal(info.files_ignored, count_files(d, "shard-") - (int)(info.files - 1));
	assert_true(info.files_ignored > 0);
	assert_non_null(strstr(info.message, "not owned"));
	/* the users of the restored shards are known: the same results as the whole engine */
	for (int i = 0; i < NUSERS; i++)
		if (low_half(shard_of(i))) {
			mmr_result ra = probe(a, i), rb = probe(b, i);
			assert_same(&ra, &rb);
		}
	/* the files of shards not owned are left alone by the restore and by a save */
	int before = count_files(d, "shard-");
	save_shards(b, d, half, NULL, &info);
	assert_int_equal(count_files(d, "shard-"), before);
	mmr_engine_free(a);
	mmr_engine_free(b);
	mmr_shard_set_free(s);
	mmr_shard_set_free(half);
}

static bool high_half_user(int i)
{
	return shard_of(i) >= NSHARDS / 2;
}

static void test_move_a_shard_file(void **state)
{
	(void)state;
	char from[128], to[128], src[256], dst[256];
	sub(from, sizeof(from), "move-from");
	sub(to, sizeof(to), "move-to");
	/* scorer X has every user; scorer Y only those of shards 8-15 */
	mmr_engine *x = fresh();
	learn(x, 0, NUSERS, NULL);
	mmr_shard_set *sx = set_of(NULL);
	mmr_snapshot_info info;
	save_shards(x, from, sx, NULL, &info);
	mmr_engine *y = fresh();
	learn(y, 0, NUSERS, high_half_user);
	mmr_shard_set *sy = set_of("8-15");
	save_shards(y, to, sy, NULL, &info);
	uint64_t y_users = users_of(y);
	/* shard 3 moves from X to Y (the relay table changed): Y now owns 3 and 8-15 */
	uint32_t moved = 3;
	int in_moved = 0;
	for (int i = 0; i < NUSERS; i++)
		in_moved += shard_of(i) == moved;
	assert_true(in_moved > 0);
	mmr_shard_file(src, sizeof(src), from, moved);
	mmr_shard_file(dst, sizeof(dst), to, moved);
	assert_int_equal(rename(src, dst), 0);
	int status;
	mmr_shard_set *sy2 = set_of("3,8-15");
	mmr_engine *y2 = restore_shards(to, sy2, NULL, NULL, &status, &info);
	assert_int_equal(status, 0);
	assert_int_equal(users_of(y2), y_users + (uint64_t)in_moved);
	/* the moved users keep their history: their per-user state is X's (the global tables
	 * are Y's, so only the users' own records are compared) */
	int known = 0;
	for (int i = 0; i < NUSERS; i++)
		if (shard_of(i) == moved) {
			mmr_result r = probe(y2, i);
			known += !r.learning; /* a user new to Y would be learning */
		}
	assert_int_equal(known, in_moved);
	/* X, restored without shard 3, no longer has those users */
	mmr_shard_set *sx2 = set_of(NULL);
	mmr_engine *x2 = restore_shards(from, sx2, NULL, NULL, &status, &info);
	assert_int_equal(users_of(x2), NUSERS - (uint64_t)in_moved);
	mmr_engine_free(x);
	mmr_engine_free(x2);
	mmr_engine_free(y);
	mmr_engine_free(y2);
	mmr_shard_set_free(sx);
	mmr_shard_set_free(sx2);
	mmr_shard_set_free(sy);
	mmr_shard_set_free(sy2);
}

static void flip_byte(const char *path, long at)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	int c = fgetc(f);
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	fputc(c ^ 0x40, f);
	fclose(f);
}

static void test_corrupt_shard_file(void **state)
{
	(void)state;
	char d[128], bad[256];
	mmr_shard_set *s;
	mmr_snapshot_info info;
	mmr_engine *a = saved_company(d, sizeof(d), "corrupt", NULL, &s, &info);
	uint32_t k = shard_of(0);
	int in_k = 0;
	for (int i = 0; i < NUSERS; i++)
		in_k += shard_of(i) == k;
	mmr_shard_file(bad, sizeof(bad), d, k);
	struct stat st;
	assert_int_equal(stat(bad, &st), 0);
	flip_byte(bad, (long)st.st_size / 2); /* inside the users */
	/* and the last byte of another (the end section's file checksum): every record of that
	 * file is read and inserted before the damage shows, and must be taken out again */
	uint32_t k2 = k;
	for (int i = 0; k2 == k; i++)
		k2 = shard_of(i);
	for (int i = 0; i < NUSERS; i++)
		in_k += shard_of(i) == k2;
	char bad2[256];
	mmr_shard_file(bad2, sizeof(bad2), d, k2);
	assert_int_equal(stat(bad2, &st), 0);
	flip_byte(bad2, (long)st.st_size - 1);
	int status;
	unusable_log u = {0};
	mmr_shard_set *s2 = set_of(NULL);
	mmr_engine *b = restore_shards(d, s2, NULL, &u, &status, &info);
	assert_int_equal(status, 0);
	assert_int_equal(u.calls, 2);
	assert_int_equal(info.files_failed, 2);
	assert_non_null(strstr(info.message, "could not be used"));
	/* nothing of the bad file, everything of the others */
	assert_int_equal(users_of(b), NUSERS - in_k);
	assert_int_equal(info.users, NUSERS - in_k);
	for (int i = 0; i < NUSERS; i++)
		if (shard_of(i) != k && shard_of(i) != k2) {
			mmr_result ra = probe(a, i), rb = probe(b, i);
			assert_same(&ra, &rb);
		}
	/* the files are left where they are, for the caller to move aside */
	assert_int_equal(access(bad, F_OK), 0);
	assert_int_equal(access(bad2, F_OK), 0);
	/* each error names its file and the damage (the callback saw both; check one alone) */
	unlink(bad2);
	memset(&u, 0, sizeof(u));
	mmr_shard_set *s4 = set_of(NULL);
	mmr_engine *b1 = restore_shards(d, s4, NULL, &u, &status, &info);
	assert_int_equal(u.calls, 1);
	assert_string_equal(u.path, bad);
	if (strstr(u.why, "checksum mismatch") == NULL || strstr(u.why, bad) == NULL)
		fail_msg("unclear error: %s", u.why);
	mmr_engine_free(b1);
	mmr_shard_set_free(s4);

	/* a corrupt global file: reported, the users load, the cross-user detectors' slices
	 * start empty (both or neither) */
	char g[256];
	mmr_shard_file(g, sizeof(g), d, UINT32_MAX);
	unlink(bad);
	assert_int_equal(stat(g, &st), 0);
	flip_byte(g, (long)st.st_size - 30);
	memset(&u, 0, sizeof(u));
	mmr_shard_set *s3 = set_of(NULL);
	mmr_engine *c = restore_shards(d, s3, NULL, &u, &status, &info);
	assert_int_equal(u.calls, 1);
	assert_string_equal(u.path, g);
	assert_int_equal(users_of(c), NUSERS - in_k);
	assert_non_null(strstr(info.message, "relearning"));
	mmr_engine_free(a);
	mmr_engine_free(b);
	mmr_engine_free(c);
	mmr_shard_set_free(s);
	mmr_shard_set_free(s2);
	mmr_shard_set_free(s3);
}

/* Truncated anywhere (every length in the headers, 400 more spread over the file), a shard
 * file is refused with a clear error and nothing of it stays; the whole file loads. */
static void test_truncated_shard_file(void **state)
{
	(void)state;
	char d[128], t[128], src[256], dst[256];
	mmr_shard_set *s;
	mmr_snapshot_info info;
	mmr_engine *a = saved_company(d, sizeof(d), "trunc-src", NULL, &s, &info);
	sub(t, sizeof(t), "trunc");
	uint32_t k = shard_of(0);
	mmr_shard_file(src, sizeof(src), d, k);
	mmr_shard_file(dst, sizeof(dst), t, k);
	FILE *f = fopen(src, "rb");
	assert_non_null(f);
	unsigned char *b = malloc(1 << 20);
	assert_non_null(b);
	size_t len = fread(b, 1, 1 << 20, f);
	fclose(f);
	assert_true(len > 300 && len < (1 << 20));
	for (size_t cut = 0; cut <= len; cut += cut < 200 ? 1 : len / 400 + 1) {
		size_t n = cut < len ? cut : len;
		FILE *o = fopen(dst, "wb");
		assert_non_null(o);
		assert_int_equal(fwrite(b, 1, n, o), n);
		fclose(o);
		int status;
		unusable_log u = {0};
		mmr_shard_set *s2 = set_of(NULL);
		mmr_engine *e = restore_shards(t, s2, NULL, &u, &status, &info);
		if (n == len) {
			assert_int_equal(u.calls, 0);
			assert_true(users_of(e) > 0);
		} else {
			if (u.calls != 1 || strstr(u.why, dst) == NULL)
				fail_msg("cut at %zu of %zu: %d reports, \"%s\"", n, len, u.calls, u.why);
			assert_int_equal(users_of(e), 0);
		}
		mmr_engine_free(e);
		mmr_shard_set_free(s2);
		if (n == len)
			break;
	}
	free(b);
	mmr_engine_free(a);
	mmr_shard_set_free(s);
}

static void test_empty_shard_file_removed(void **state)
{
	(void)state;
	char d[128];
	mmr_shard_set *s;
	mmr_snapshot_info info;
	mmr_engine *a = saved_company(d, sizeof(d), "stale", NULL, &s, &info);
	assert_true(count_files(d, "shard-") > 0);
	/* the same set (it knows the files), an engine with no user left: every file goes, so
	 * that evicted users do not come back at the next start */
	mmr_engine *empty = fresh();
	save_shards(empty, d, s, NULL, &info);
	assert_int_equal(count_files(d, "shard-"), 0);
	assert_int_equal(count_files(d, "global.mmrs"), 1);
	assert_true(info.files_removed > 0);
	/* a set that never had the files (another engine's) removes nothing */
	mmr_shard_set *other = set_of(NULL);
	save_shards(a, d, s, NULL, &info);
	int n = count_files(d, "shard-");
	save_shards(empty, d, other, NULL, &info);
	assert_int_equal(count_files(d, "shard-"), n);
	mmr_engine_free(a);
	mmr_engine_free(empty);
	mmr_shard_set_free(s);
	mmr_shard_set_free(other);
}

static void test_pseudonymized_shards(void **state)
{
	(void)state;
	char d[128];
	mmr_shard_set *s;
	mmr_snapshot_info info;
	mmr_engine *a = saved_company(d, sizeof(d), "pseudo", KEY, &s, &info);
	int status;
	/* restored under pseudonyms, saved again before any user came back: each record must
	 * go back to its own shard's file (its key no longer tells which) */
	mmr_shard_set *s2 = set_of(NULL);
	mmr_engine *b = restore_shards(d, s2, KEY, NULL, &status, &info);
	assert_int_equal(info.users, NUSERS);
	char d2[128];
	sub(d2, sizeof(d2), "pseudo-again");
	save_shards(b, d2, s2, KEY, &info);
	mmr_shard_set *half = set_of("0-7");
	mmr_engine *c = restore_shards(d2, half, KEY, NULL, &status, &info);
	assert_int_equal(users_of(c), users_in_shards(low_half));
	/* and they rejoin their users with the same results as the clear engine */
	for (int i = 0; i < NUSERS; i++)
		if (low_half(shard_of(i))) {
			mmr_result ra = probe(a, i), rc = probe(c, i);
			assert_same(&ra, &rc);
		}
	/* without the key: every file is refused, clearly */
	unusable_log u = {0};
	mmr_shard_set *s3 = set_of(NULL);
	mmr_engine *f = restore_shards(d2, s3, NULL, &u, &status, &info);
	assert_int_equal(users_of(f), 0);
	assert_int_equal((int)info.files_failed, u.calls);
	assert_non_null(strstr(u.why, "pseudonym key is needed"));
	mmr_engine_free(a);
	mmr_engine_free(b);
	mmr_engine_free(c);
	mmr_engine_free(f);
	mmr_shard_set_free(s);
	mmr_shard_set_free(s2);
	mmr_shard_set_free(s3);
	mmr_shard_set_free(half);
}

static void test_wrong_files(void **state)
{
	(void)state;
	char d[128], err[512], p[256];
	mmr_shard_set *s;
	mmr_snapshot_info info;
	mmr_engine *a = saved_company(d, sizeof(d), "wrong", NULL, &s, &info);
	int status;
	/* another number of shards: files beyond it ignored, the others refused, named */
	char e2[256];
	mmr_shard_set *eight = mmr_shard_set_new(8, NULL, e2, sizeof(e2));
	assert_non_null(eight);
	unusable_log u = {0};
	mmr_snapshot_opts o = {0};
	mmr_engine *b = mmr_engine_restore_shards(&cfg, d, eight, &o, on_unusable, &u, &status,
						  &info, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(users_of(b), 0);
	assert_true(u.calls > 0);
	assert_non_null(strstr(u.why, "written with shards=16, this engine has shards=8"));
	assert_true(info.files_ignored > 0);
	assert_non_null(strstr(info.message, "beyond the configured shards"));
	/* a shard file given as a single state file */
	mmr_shard_file(p, sizeof(p), d, shard_of(0));
	mmr_engine *c = mmr_engine_restore(&cfg, p, NULL, &status, &info, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(status, -1);
	assert_non_null(strstr(err, "statedir"));
	/* a single state file put in a shard's name */
	char single[256];
	snprintf(single, sizeof(single), "%s/single.state", d);
	assert_int_equal(mmr_engine_save(a, single, NULL, &info, err, sizeof(err)), 0);
	assert_int_equal(rename(single, p), 0);
	memset(&u, 0, sizeof(u));
	mmr_shard_set *s2 = set_of(NULL);
	mmr_engine *f = restore_shards(d, s2, NULL, &u, &status, &info);
	assert_int_equal(u.calls, 1);
	assert_non_null(strstr(u.why, "a single state file"));
	/* a leftover .tmp of an interrupted save is removed; an empty directory is fresh */
	char e[128], tmp[256];
	sub(e, sizeof(e), "empty");
	snprintf(tmp, sizeof(tmp), "%s/shard-001.mmrs.tmp", e);
	write_to(tmp, "half");
	mmr_shard_set *s3 = set_of(NULL);
	mmr_engine *g = restore_shards(e, s3, NULL, NULL, &status, &info);
	assert_int_equal(status, 1);
	assert_int_equal(access(tmp, F_OK), -1);
	mmr_engine_free(a);
	mmr_engine_free(b);
	mmr_engine_free(c);
	mmr_engine_free(f);
	mmr_engine_free(g);
	mmr_shard_set_free(s);
	mmr_shard_set_free(s2);
	mmr_shard_set_free(s3);
	mmr_shard_set_free(eight);
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* MMR_SHARD_BENCH_USERS=100000: the cost of a per-shard save and restore (256 shards) next
 * to a single file's, in this thread's CPU time and in wall time (fsyncs included). Prints
 * only; skipped without the variable. */
static void test_benchmark(void **state)
{
	(void)state;
	const char *v = getenv("MMR_SHARD_BENCH_USERS");
	long n = v ? atol(v) : 0;
	if (n <= 0) {
		skip();
		return;
	}
	char err[512], d[128], single[192];
	mmr_config bc;
	mmr_config_init(&bc);
	bc.max_users = (uint32_t)n + 1000;
	mmr_engine *e = mmr_engine_new(&bc, err, sizeof(err));
	assert_non_null(e);
	mmr_result r;
	for (long i = 0; i < n; i++)
		for (int day = 0; day < 3; day++) {
			mmr_event ev;
			mmr_event_init(&ev);
			snprintf(ev.user, sizeof(ev.user), "bench%ld", i);
			ev.action = MMR_ACTION_VPN_START;
			ev.outcome = MMR_OUTCOME_SUCCESS;
			char ip[32];
			snprintf(ip, sizeof(ip), "10.%ld.%ld.%d", (i >> 8) & 255, i & 255, day + 1);
			assert_int_equal(mmr_ip_parse(ip, &ev.src_ip), 0);
			ev.time = T0 + day * DAY + (i % 3600);
			assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
		}
	sub(d, sizeof(d), "bench");
	snprintf(single, sizeof(single), "%s/single.state", dir);
	mmr_snapshot_info info;
	/* MMR_SHARD_BENCH_SHARDS: another number of shards (the worst case is 65536) */
	const char *sv = getenv("MMR_SHARD_BENCH_SHARDS");
	uint32_t ns = sv ? (uint32_t)atol(sv) : 256;
	mmr_shard_set *s = mmr_shard_set_new(ns, NULL, err, sizeof(err));
	assert_non_null(s);
	for (int round = 0; round < 3; round++) {
		double c0 = cpu_s(), w0 = wall_s();
		assert_int_equal(mmr_engine_save(e, single, NULL, &info, err, sizeof(err)), 0);
		double c1 = cpu_s(), w1 = wall_s();
		uint64_t b1 = info.bytes;
		double hold1 = info.max_stall_ms;
		assert_int_equal(mmr_engine_save_shards(e, d, s, NULL, &info, err, sizeof(err)), 0);
		double c2 = cpu_s(), w2 = wall_s();
		print_message("%ld users: single file %.3f s CPU %.3f s wall %llu bytes, longest "
			      "hold %.2f ms; %u shards %.3f s CPU %.3f s wall %llu bytes in %u files, "
			      "longest hold %.2f ms\n", n, c1 - c0, w1 - w0, (unsigned long long)b1,
			      hold1, ns, c2 - c1, w2 - w1, (unsigned long long)info.bytes, info.files,
			      info.max_stall_ms);
	}
	int status;
	double c0 = cpu_s(), w0 = wall_s();
	mmr_engine *a = mmr_engine_restore(&bc, single, NULL, &status, &info, err, sizeof(err));
	double c1 = cpu_s(), w1 = wall_s();
	mmr_shard_set *s2 = mmr_shard_set_new(ns, NULL, err, sizeof(err));
	mmr_engine *b = mmr_engine_restore_shards(&bc, d, s2, NULL, NULL, NULL, &status, &info, err,
						  sizeof(err));
	double c2 = cpu_s(), w2 = wall_s();
	print_message("restore: single file %.3f s CPU %.3f s wall; %u shards %.3f s CPU %.3f s "
		      "wall (%llu users)\n", c1 - c0, w1 - w0, ns, c2 - c1, w2 - w1,
		      (unsigned long long)info.users);
	assert_int_equal(users_of(a), users_of(b));
	mmr_engine_free(a);
	mmr_engine_free(b);
	mmr_engine_free(e);
	mmr_shard_set_free(s);
	mmr_shard_set_free(s2);
	mmr_config_clear(&bc);
}

int main(void)
{
	const struct CMUnitTest hash[] = {
		cmocka_unit_test(test_fnv1a64_vectors),
		cmocka_unit_test(test_user_shard_reduction),
		cmocka_unit_test(test_shard_lists),
	};
	const struct CMUnitTest files[] = {
		cmocka_unit_test(test_sharded_equals_single),
		cmocka_unit_test(test_restore_a_subset),
		cmocka_unit_test(test_move_a_shard_file),
		cmocka_unit_test(test_corrupt_shard_file),
		cmocka_unit_test(test_truncated_shard_file),
		cmocka_unit_test(test_empty_shard_file_removed),
		cmocka_unit_test(test_pseudonymized_shards),
		cmocka_unit_test(test_wrong_files),
		cmocka_unit_test(test_benchmark),
	};
	int rc = cmocka_run_group_tests_name("shard function", hash, NULL, NULL);
	return rc | cmocka_run_group_tests_name("per-shard snapshots", files, group_setup,
						group_teardown);
}
