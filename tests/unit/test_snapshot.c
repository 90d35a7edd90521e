/* Snapshots of the engine's state (engine/include/mmriskscore/state.h, docs/state.md):
 *
 *   - SipHash-2-4 against the published test vectors (64-bit: the paper's appendix A; 128-bit:
 *     the reference implementation's vectors.h), CRC-32C against RFC 3720's check value
 *   - round trip: engine A learns a month of a small company (with roster and GeoIP: a laptop
 *     farm, password bursts, a traveller, people working another time zone), is saved at
 *     mid-month and restored into B; the restored state is byte for byte A's (saved again),
 *     and the same next events give A and B identical results (scores, user scores, reasons
 *     and their details); a fresh engine does not
 *   - every truncation of a small snapshot, 2,000 byte flips, 2,000 mutations with the
 *     checksums recomputed (the parser's own checks), a foreign format version: a clean error
 *     and a working fresh engine
 *   - a detector whose slice size or state version changed is dropped and named, the others
 *     restored
 *   - pseudonymized snapshots: no user name in the file, records rejoin their users at their
 *     next event with identical results; a wrong or missing key is refused
 *   - a smaller state.maxusers keeps the established users; recency survives a restore
 *   - saves while two threads process events; failed saves leave the previous snapshot
 *   - state bytes, and a benchmark that prints save/restore time and size
 *     (MMR_SNAPSHOT_BENCH_USERS=100000 for the docs/state.md numbers)
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_support.h"
#include "context_fixture.h"

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"
#include "mmriskscore/state.h"
#include "detect/detector.h"
#include "engine_internal.h" /* the user record's rule slots */
#include "state/lru_table.h"
#include "state/siphash.h"
#include "state/snapshot.h"

#define HOUR 3600
#define DAY 86400
/* Monday 2026-03-02 00:00:00 UTC */
#define T0 ((int64_t)1772409600)
#define DAYS 28
#define SPLIT (T0 + 14 * DAY)

static ctx_fixture fx;
static const uint8_t KEY[16] = {0x6b, 0x65, 0x79, 0x20, 0x6f, 0x66, 0x20, 0x74,
				0x68, 0x65, 0x20, 0x74, 0x65, 0x73, 0x74, 0x21};

/* --- the company -------------------------------------------------------------------------- */

typedef struct {
	const char *name, *team;
	bool farm;
} person;

static const person staff[] = {
	{"alice", "backend-1", false},   {"peter1", "backend-1", false},
	{"peter2", "backend-1", false},  {"peter3", "backend-1", false},
	{"peter4", "backend-1", false},  {"samuel1", "sre-1", false},
	{"samuel2", "sre-1", false},     {"samuel3", "sre-1", false},
	{"samuel4", "sre-1", false},     {"sarah1", "sales-2", false},
	{"sarah2", "sales-2", false},    {"sarah3", "sales-2", false},
	{"finley1", "finance-1", false}, {"finley2", "finance-1", false},
	{"finley3", "finance-1", false}, {"hannah1", "hr-1", false},
	{"hannah2", "hr-1", false},      {"hannah3", "hr-1", false},
	{"franklin", "itops", false},    {"fiona", "sales-2", true},
	{"george", "finance-1", true},   {"henry", "hr-1", true},
};
#define NSTAFF (sizeof(staff) / sizeof(staff[0]))

static const char *const lists[][2] = {
	{"corporate-networks.txt", "10.0.0.0/8\n"},
	{"watch-countries.txt", "KP\n"},
	{NULL, NULL},
};

static int group_setup(void **state)
{
	(void)state;
	char roster[4096];
	int n = snprintf(roster, sizeof(roster),
			 "user,department,title,manager,start_date,country,timezone,team,"
			 "privileged\n");
	for (size_t i = 0; i < NSTAFF; i++)
		n += snprintf(roster + n, sizeof(roster) - (size_t)n,
			      "%s,Dept-%s,Staff,boss,%s,US,%s,%s,no\n", staff[i].name, staff[i].team,
			      staff[i].farm ? "2026-03-09" : "2021-01-04",
			      staff[i].farm ? "America/New_York" : "America/Chicago", staff[i].team);
	return ctx_fixture_make(&fx, "snapshot", lists, roster, false);
}

static int group_teardown(void **state)
{
	(void)state;
	return ctx_fixture_remove(&fx);
}

/* xorshift64*: a deterministic stream for the scenario and the corruptions */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

typedef struct {
	int64_t t;
	size_t seq;
	mmr_event ev;
} item;

typedef struct {
	item *v;
	size_t n, cap;
} evlist;

static mmr_event *add(evlist *l, const char *user, mmr_action a, mmr_outcome o, const char *ip,
		      int64_t t)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = realloc(l->v, l->cap * sizeof(item));
		assert_non_null(l->v);
	}
	item *it = &l->v[l->n];
	it->t = t;
	it->seq = l->n++;
	it->ev = ctx_fixture_event(user, ip, t);
	it->ev.action = a;
	it->ev.outcome = o;
	return &it->ev;
}

static int by_time(const void *a, const void *b)
{
	const item *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *const apps[] = {"jira", "gitlab", "wiki", "payroll", "crm", "grafana"};

/* A working day of p: VPN up, a few applications, VPN down with its bytes. */
static void workday(evlist *l, size_t i, int day, int start_hour, const char *ip)
{
	const person *p = &staff[i];
	int64_t t = T0 + (int64_t)day * DAY + start_hour * HOUR + (int64_t)(rnd() % 1800);
	char sid[64], dev[32];
	snprintf(sid, sizeof(sid), "s-%s-%d", p->name, day);
	snprintf(dev, sizeof(dev), p->farm ? "PIKVM-HOST" : "DESKTOP-%04X", (unsigned)(i * 7919));
	mmr_event *ev = add(l, p->name, MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, ip, t);
	snprintf(ev->session_id, sizeof(ev->session_id), "%s", sid);
	snprintf(ev->device, sizeof(ev->device), "%s", dev);
	int n = 2 + (int)(rnd() % 3);
	for (int k = 0; k < n; k++) {
		ev = add(l, p->name, MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, ip,
			 t + (k + 1) * 2 * HOUR + (int64_t)(rnd() % 600));
		snprintf(ev->target, sizeof(ev->target), "%s",
			 apps[(i + (size_t)k + (rnd() % 2)) % (sizeof(apps) / sizeof(apps[0]))]);
	}
	ev = add(l, p->name, MMR_ACTION_VPN_END, MMR_OUTCOME_SUCCESS, ip, t + 8 * HOUR);
	snprintf(ev->session_id, sizeof(ev->session_id), "%s", sid);
	ev->duration = 8 * HOUR;
	ev->bytes_in = (int64_t)(150 + rnd() % 250) * 1000000;
	ev->bytes_out = 20000000;
}

/* Four weeks: the staff work weekdays from home in US hours; the farm (three new hires of
 * three teams, one address, one KVM) works Seoul's day from March 9; franklin mistypes his
 * password seven times every Wednesday; alice is in Paris and, 40 minutes later, in São Paulo
 * on day 18 (GeoIP only). */
static void company(evlist *l, bool geo)
{
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int day = 0; day < DAYS; day++) {
		bool weekend = day % 7 >= 5;
		for (size_t i = 0; i < NSTAFF && !weekend; i++) {
			char ip[32];
			if (staff[i].farm) {
				if (day >= 7)
					workday(l, i, day, 0, "198.18.77.7");
				continue;
			}
			snprintf(ip, sizeof(ip), "198.18.1.%zu", 10 + i);
			workday(l, i, day, 14, ip);
		}
		if (day % 7 == 2)
			for (int k = 0; k < 7; k++)
				add(l, "franklin", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "198.18.9.9",
				    T0 + (int64_t)day * DAY + 16 * HOUR + k * 20);
		if (day == 18 && geo) {
			add(l, "alice", MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, "192.0.2.10",
			    T0 + (int64_t)day * DAY + 13 * HOUR);
			add(l, "alice", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, "2001:db8:1::5",
			    T0 + (int64_t)day * DAY + 13 * HOUR + 40 * 60);
		}
	}
	qsort(l->v, l->n, sizeof(item), by_time);
}

/* --- helpers ------------------------------------------------------------------------------ */

static mmr_engine *engine_with(const mmr_config *cfg, bool geo)
{
	char err[256];
	mmr_engine *e = mmr_engine_new(cfg, err, sizeof(err));
	if (e == NULL)
		fail_msg("mmr_engine_new: %s", err);
	mmr_engine_set_context(e, ctx_fixture_load(&fx, geo));
	return e;
}

static mmr_engine *restore(const mmr_config *cfg, const char *path, const uint8_t *key,
			   bool geo, int *status, mmr_snapshot_info *info)
{
	char err[512] = "";
	mmr_snapshot_opts o = {.pseudonym_key = key};
	mmr_engine *e = mmr_engine_restore(cfg, path, &o, status, info, err, sizeof(err));
	if (e == NULL)
		fail_msg("mmr_engine_restore returned no engine: %s", err);
	if (*status != 0 && info)
		snprintf(info->message, sizeof(info->message), "%s", err);
	mmr_engine_set_context(e, ctx_fixture_load(&fx, geo));
	return e;
}

static void save(mmr_engine *e, const char *path, const uint8_t *key, mmr_snapshot_info *info)
{
	char err[512] = "";
	mmr_snapshot_opts o = {.pseudonym_key = key};
	mmr_snapshot_info local;
	if (mmr_engine_save(e, path, &o, info ? info : &local, err, sizeof(err)) != 0)
		fail_msg("mmr_engine_save: %s", err);
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fx.dir, name);
}

/* For the thousands of corrupted variants: tmpfs when there is one (each variant is a new
 * file; on a disk, creating them dominates the test's time). Removed by the test. */
static void scratch_of(char *buf, size_t len, const char *name)
{
	if (access("/dev/shm", W_OK) == 0)
		snprintf(buf, len, "/dev/shm/mmr-snapshot-%d-%s", (int)getpid(), name);
	else
		path_of(buf, len, name);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void spit(const char *path, const unsigned char *b, size_t len)
{
	/* a new file each time: ext4 flushes a file truncated and rewritten in place at close
	 * (auto_da_alloc), which would make the thousands of variants below take minutes */
	unlink(path);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

/* Two snapshots hold the same state: equal bytes but for the header (creation time) and the
 * END section (whose file checksum covers the header). */
static void assert_same_state(const char *a, const char *b)
{
	size_t la, lb;
	unsigned char *x = slurp(a, &la), *y = slurp(b, &lb);
	assert_int_equal(la, lb);
	assert_true(la > MMR_SNAP_HEADER_SIZE + 36);
	size_t first = 0;
	for (size_t i = MMR_SNAP_HEADER_SIZE; i < la - 36; i++)
		if (x[i] != y[i]) {
			first = i;
			break;
		}
	if (first)
		fail_msg("%s and %s differ from offset %zu", a, b, first);
	free(x);
	free(y);
}

/* "~" + 8 hex digits (an account saved pseudonymized) back to the name it stands for. */
static void unpseudo(char *s)
{
	char *p;
	while ((p = strchr(s, '~')) != NULL) {
		const char *name = NULL;
		for (size_t i = 0; i < NSTAFF && !name; i++) {
			char tag[16];
			snprintf(tag, sizeof(tag), "~%08x", (unsigned)mmr_user_hash32(staff[i].name));
			if (strncmp(p, tag, 9) == 0)
				name = staff[i].name;
		}
		if (name == NULL)
			fail_msg("unknown stand-in in \"%s\"", s);
		char rest[MMR_DETAIL_MAX];
		snprintf(rest, sizeof(rest), "%s", p + 9);
		snprintf(p, (size_t)(MMR_DETAIL_MAX - (p - s)), "%s%s", name, rest);
	}
}

static void assert_same_result(const mmr_result *a, const mmr_result *b, bool pseudo)
{
	char why[1024] = "";
	if (strcmp(a->user, b->user) != 0 || a->score != b->score ||
	    a->user_score != b->user_score || a->learning != b->learning ||
	    a->n_reasons != b->n_reasons)
		snprintf(why, sizeof(why), "score %d/%d user_score %d/%d learning %d/%d reasons %d/%d",
			 a->score, b->score, a->user_score, b->user_score, a->learning, b->learning,
			 a->n_reasons, b->n_reasons);
	for (int i = 0; !why[0] && i < a->n_reasons; i++) {
		char da[MMR_DETAIL_MAX], db[MMR_DETAIL_MAX];
		snprintf(da, sizeof(da), "%s", a->reasons[i].detail);
		snprintf(db, sizeof(db), "%s", b->reasons[i].detail);
		if (pseudo)
			unpseudo(db);
		if (strcmp(a->reasons[i].rule, b->reasons[i].rule) != 0 ||
		    a->reasons[i].points != b->reasons[i].points || strcmp(da, db) != 0)
			snprintf(why, sizeof(why), "reason %d: %s %d \"%s\" / %s %d \"%s\"", i,
				 a->reasons[i].rule, a->reasons[i].points, da, b->reasons[i].rule,
				 b->reasons[i].points, db);
	}
	if (why[0]) {
		for (int i = 0; i < a->n_reasons; i++)
			print_message("A %s %d %s\n", a->reasons[i].rule, a->reasons[i].points,
				      a->reasons[i].detail);
		for (int i = 0; i < b->n_reasons; i++)
			print_message("B %s %d %s\n", b->reasons[i].rule, b->reasons[i].points,
				      b->reasons[i].detail);
		fail_msg("user %s: %s", a->user, why);
	}
}

static int has_rule(const mmr_result *r, const char *rule)
{
	for (int i = 0; i < r->n_reasons; i++)
		if (strcmp(r->reasons[i].rule, rule) == 0 && r->reasons[i].points > 0)
			return 1;
	return 0;
}

static void feed(mmr_engine *e, const evlist *l, int64_t from, int64_t to)
{
	mmr_result r;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].t >= from && l->v[i].t < to)
			assert_int_equal(mmr_engine_process(e, &l->v[i].ev, &r), 0);
}

/* The engine works after a failed restore: it scores, and holds only what it learned since. */
static void assert_fresh_and_working(mmr_engine *e)
{
	mmr_event ev = ctx_fixture_event("zed", "198.18.3.3", T0);
	mmr_result r;
	assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	mmr_stats st;
	mmr_engine_stats(e, &st);
	assert_int_equal(st.users, 1);
}

/* --- SipHash and CRC ---------------------------------------------------------------------- */

static void test_siphash_vectors(void **state)
{
	(void)state;
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* the paper, appendix A: 15 bytes 00..0e under key 00..0f */
	assert_true(mmr_siphash64(key, msg, 15) == 0xa129ca6149be45e5ULL);
	/* vectors_sip64[i] of the reference implementation: message 00..(i-1), little-endian */
	static const struct {
		size_t len;
		uint8_t out[8];
	} v64[] = {
		{0, {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72}},
		{1, {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74}},
		{7, {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab}},
		{8, {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93}},
		{9, {0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e}},
		{16, {0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f}},
		{63, {0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95}},
	};
	for (size_t k = 0; k < sizeof(v64) / sizeof(v64[0]); k++) {
		uint64_t want = 0;
		for (int i = 7; i >= 0; i--)
			want = want << 8 | v64[k].out[i];
		assert_true(mmr_siphash64(key, msg, v64[k].len) == want);
	}
	/* vectors_sip128[i] of the reference implementation */
	static const struct {
		size_t len;
		uint8_t out[16];
	} v128[] = {
		{0, {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7,
		     0x55, 0x02, 0x93}},
		{1, {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b,
		     0x22, 0xfc, 0x45}},
		{7, {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f,
		     0xf0, 0x82, 0x39}},
		{8, {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3,
		     0x14, 0x97, 0xb4}},
		{15, {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97,
		      0xcf, 0xc3, 0xd9}},
		{63, {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97,
		      0x3f, 0xbd, 0x7c}},
	};
	for (size_t k = 0; k < sizeof(v128) / sizeof(v128[0]); k++) {
		uint8_t out[16];
		mmr_siphash128(key, msg, v128[k].len, out);
		assert_memory_equal(out, v128[k].out, 16);
	}
	/* RFC 3720 B.4: CRC-32C of "123456789"; chaining gives the same */
	assert_true(mmr_crc32c(0, "123456789", 9) == 0xe3069283u);
	assert_true(mmr_crc32c(mmr_crc32c(0, "1234", 4), "56789", 5) == 0xe3069283u);
	/* pseudonyms: "~" + 32 hex of SipHash-128, recognised as such */
	char p[MMR_PSEUDONYM_LEN + 1];
	mmr_pseudonym(key, "", 0, p);
	assert_string_equal(p, "~a3817f04ba25a8e66df67214c7550293");
	assert_true(mmr_is_pseudonym(p, strlen(p)));
	assert_false(mmr_is_pseudonym("alice", 5));
	/* the keyed permutation of account fingerprints: inverse of itself, 0 stays 0 */
	mmr_snap_pseudo enc = {KEY, false}, dec = {KEY, true};
	assert_int_equal(mmr_snap_pseudo32(&enc, 0), 0);
	for (uint32_t h = 1; h < 200000; h += 97) {
		uint32_t c = mmr_snap_pseudo32(&enc, h);
		assert_int_not_equal(c, 0);
		assert_int_equal(mmr_snap_pseudo32(&dec, c), h);
	}
	assert_int_not_equal(mmr_snap_pseudo32(&enc, 12345), 12345);
}

/* Every detector with global state saves and restores it, and names its layout version; an
 * empty engine round-trips. */
static void test_every_detector_persists(void **state)
{
	(void)state;
	for (size_t d = 0; mmr_detectors[d]; d++) {
		const mmr_detector *det = mmr_detectors[d];
		if (det->state_version < 1)
			fail_msg("detector %s has no state_version", det->name);
		if (det->global_new && (!det->global_save || !det->global_load || !det->global_bytes))
			fail_msg("detector %s has global state but no persistence hooks", det->name);
	}
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_engine *e = engine_with(&cfg, false);
	char p[256];
	path_of(p, sizeof(p), "empty.state");
	mmr_snapshot_info info;
	save(e, p, NULL, &info);
	assert_int_equal(info.users, 0);
	int st;
	mmr_engine *b = restore(&cfg, p, NULL, false, &st, &info);
	assert_int_equal(st, 0);
	assert_int_equal(info.users, 0);
	assert_int_equal(info.sections_dropped, 0);
	assert_null(strstr(info.message, "relearning"));
	assert_null(strstr(info.message, "new detectors"));
	assert_fresh_and_working(b);
	mmr_engine_free(b);
	mmr_engine_free(e);
	mmr_config_clear(&cfg);
}

/* --- round trip --------------------------------------------------------------------------- */

typedef struct {
	unsigned farm, burst, first_seen, tz, travel, device;
} fired;

/* Feeds the second half to a and b and compares every result; counts what fired in b. */
static void compare_second_half(mmr_engine *a, mmr_engine *b, const evlist *l, bool pseudo,
				fired *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].t < SPLIT)
			continue;
		mmr_result ra, rb;
		assert_int_equal(mmr_engine_process(a, &l->v[i].ev, &ra), 0);
		assert_int_equal(mmr_engine_process(b, &l->v[i].ev, &rb), 0);
		assert_same_result(&ra, &rb, pseudo);
		f->farm += has_rule(&rb, "network.laptop_farm");
		f->burst += has_rule(&rb, "auth.failure_burst.user");
		f->first_seen += has_rule(&rb, "geo.first_seen_country") +
				 has_rule(&rb, "network.first_seen");
		f->tz += has_rule(&rb, "time.timezone_mismatch");
		f->travel += has_rule(&rb, "geo.impossible_travel");
		f->device += has_rule(&rb, "device.shared_across_accounts");
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	evlist l = {0};
	company(&l, fx.geoip);
	mmr_engine *a = engine_with(&cfg, fx.geoip);
	feed(a, &l, 0, SPLIT);

	char pa[256], pb[256];
	path_of(pa, sizeof(pa), "round-a.state");
	path_of(pb, sizeof(pb), "round-b.state");
	mmr_snapshot_info si, ri;
	save(a, pa, NULL, &si);
	assert_int_equal(si.users, NSTAFF);
	assert_true(si.entries > 0);
	assert_true(si.bytes > 0);
	int st;
	mmr_engine *b = restore(&cfg, pa, NULL, fx.geoip, &st, &ri);
	assert_int_equal(st, 0);
	assert_int_equal(ri.users, NSTAFF);
	assert_int_equal(ri.entries, si.entries);
	assert_int_equal(ri.sections_dropped, 0);
	assert_int_equal(ri.format_version, MMR_SNAP_FORMAT_VERSION);
	assert_int_equal(ri.bytes, si.bytes);
	assert_non_null(strstr(ri.message, "restored 22 users"));
	/* B holds exactly A's state: seeds, recency, every byte */
	save(b, pb, NULL, NULL);
	assert_same_state(pa, pb);

	/* a fresh engine on the second half: the state matters */
	mmr_engine *c = engine_with(&cfg, fx.geoip);
	mmr_engine *a2 = restore(&cfg, pa, NULL, fx.geoip, &st, &ri);
	size_t differ = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].t < SPLIT)
			continue;
		mmr_result rc, r2;
		mmr_engine_process(c, &l.v[i].ev, &rc);
		mmr_engine_process(a2, &l.v[i].ev, &r2);
		differ += rc.user_score != r2.user_score || rc.learning != r2.learning;
	}
	assert_true(differ > 100);

	fired f;
	compare_second_half(a, b, &l, false, &f);
	print_message("second half: laptop_farm %u, failure_burst %u, first_seen %u, "
		      "timezone_mismatch %u, impossible_travel %u, shared_device %u\n",
		      f.farm, f.burst, f.first_seen, f.tz, f.travel, f.device);
	assert_true(f.farm > 0);
	assert_true(f.burst > 0);
	assert_true(f.tz > 0);
	assert_true(f.device > 0);
	if (fx.geoip) {
		assert_true(f.first_seen > 0);
		assert_true(f.travel > 0);
	}
	/* and after the second half too, their states are the same */
	save(a, pa, NULL, NULL);
	save(b, pb, NULL, NULL);
	assert_same_state(pa, pb);
	mmr_engine_free(a);
	mmr_engine_free(a2);
	mmr_engine_free(b);
	mmr_engine_free(c);
	free(l.v);
	mmr_config_clear(&cfg);
}

/* --- corruption --------------------------------------------------------------------------- */

/* A small snapshot: the farm and franklin's first week. */
static void small_snapshot(const char *path, const mmr_config *cfg)
{
	evlist l = {0};
	company(&l, false);
	mmr_engine *a = engine_with(cfg, false);
	mmr_result r;
	size_t n = 0;
	for (size_t i = 0; i < l.n && n < 120; i++) {
		const char *u = l.v[i].ev.user;
		if (strcmp(u, "fiona") && strcmp(u, "george") && strcmp(u, "henry") &&
		    strcmp(u, "franklin") && strcmp(u, "alice"))
			continue;
		assert_int_equal(mmr_engine_process(a, &l.v[i].ev, &r), 0);
		n++;
	}
	save(a, path, NULL, NULL);
	mmr_engine_free(a);
	free(l.v);
}

/* A record with every rule slot taken, in an order unlike the rules', comes back rule by rule:
 * the file names a slot by its rule index and the restore claims the slots again. */
static void test_rule_slots_round_trip(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_engine *a = engine_with(&cfg, false);
	size_t nrules;
	mmr_engine_rules(a, &nrules);
	assert_true(nrules > RULE_SLOTS);
	mmr_lru_hold h;
	user_core *u = mmr_lru_acquire(a->users, "slots", 5, true, NULL, &h);
	assert_non_null(u);
	u->first_seen = u->last_seen = u->risk_time = T0;
	u->events = 1;
	for (int i = 0; i < RULE_SLOTS; i++) {
		int k = (int)nrules - 1 - i;
		int j = mmr_core_claim(a, u, k, T0, 0);
		u->rule_last[j] = (uint32_t)(T0 - i);
		u->rule_risk[j] = (uint16_t)(100 + i);
	}
	mmr_lru_release(&h);
	char pa[256];
	path_of(pa, sizeof(pa), "slots.state");
	save(a, pa, NULL, NULL);
	int st;
	mmr_snapshot_info ri;
	mmr_engine *b = restore(&cfg, pa, NULL, false, &st, &ri);
	assert_int_equal(st, 0);
	user_core *v = mmr_lru_acquire(b->users, "slots", 5, false, NULL, &h);
	assert_non_null(v);
	assert_true(v->risk_time == T0 && v->events == 1);
	for (int i = 0; i < RULE_SLOTS; i++) {
		int j = mmr_core_slot(v, (int)nrules - 1 - i);
		assert_true(j >= 0);
		assert_int_equal(v->rule_last[j], (uint32_t)(T0 - i));
		assert_int_equal(v->rule_risk[j], 100 + i);
	}
	mmr_lru_release(&h);
	mmr_stats sb;
	mmr_engine_stats(b, &sb);
	assert_int_equal(sb.rule_slots_evicted, 0);
	mmr_engine_free(a);
	mmr_engine_free(b);
	unlink(pa);
}

static void test_every_truncation(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	char p[256], q[256];
	path_of(p, sizeof(p), "small.state");
	scratch_of(q, sizeof(q), "cut.state");
	small_snapshot(p, &cfg);
	size_t len;
	unsigned char *b = slurp(p, &len);
	print_message("small snapshot: %zu bytes\n", len);
	for (size_t n = 0; n < len; n++) {
		spit(q, b, n);
		char err[512] = "";
		int st = 0;
		mmr_engine *e = mmr_engine_restore(&cfg, q, NULL, &st, NULL, err, sizeof(err));
		assert_non_null(e);
		if (st != -1)
			fail_msg("truncated at %zu of %zu: status %d", n, len, st);
		assert_non_null(strstr(err, q));
		assert_fresh_and_working(e);
		mmr_engine_free(e);
	}
	unlink(q);
	/* the whole file restores */
	int st;
	mmr_engine *e = restore(&cfg, p, NULL, false, &st, NULL);
	assert_int_equal(st, 0);
	mmr_engine_free(e);
	free(b);
	mmr_config_clear(&cfg);
}

static void test_byte_flips(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	char p[256], q[256];
	path_of(p, sizeof(p), "small.state");
	scratch_of(q, sizeof(q), "flip.state");
	small_snapshot(p, &cfg);
	size_t len;
	unsigned char *b = slurp(p, &len);
	rng_state = 42;
	for (int k = 0; k < 2000; k++) {
		size_t at = (size_t)(rnd() % len);
		unsigned char x = (unsigned char)(1 + rnd() % 255);
		b[at] ^= x;
		spit(q, b, len);
		b[at] ^= x;
		char err[512] = "";
		int st = 0;
		mmr_engine *e = mmr_engine_restore(&cfg, q, NULL, &st, NULL, err, sizeof(err));
		assert_non_null(e);
		/* every byte is under a checksum: no change goes unnoticed */
		if (st != -1)
			fail_msg("byte %zu ^ 0x%02x: status %d", at, x, st);
		assert_fresh_and_working(e);
		mmr_engine_free(e);
	}
	unlink(q);
	free(b);
	mmr_config_clear(&cfg);
}

/* Section map of a snapshot: offsets of each section header. */
typedef struct {
	size_t off[4096];
	size_t n;
} sections;

static void map_sections(const unsigned char *b, size_t len, sections *s)
{
	s->n = 0;
	for (size_t o = MMR_SNAP_HEADER_SIZE; o + 12 <= len && s->n < 4096;) {
		uint32_t l;
		memcpy(&l, b + o + 4, 4); /* little-endian host in these tests */
		s->off[s->n++] = o;
		o += 12 + l;
	}
}

/* Recomputes the header CRC, every section's CRC and the END section (count and file CRC), as
 * a writer would: what is left to catch a change is the parser itself. */
static void reseal(unsigned char *b, size_t len)
{
	uint32_t c = mmr_crc32c(0, b, 40);
	memcpy(b + 40, &c, 4);
	sections s;
	map_sections(b, len, &s);
	for (size_t i = 0; i < s.n; i++) {
		unsigned char *h = b + s.off[i];
		uint32_t type, l;
		memcpy(&type, h, 4);
		memcpy(&l, h + 4, 4);
		if (type == MMR_SEC_END) {
			uint32_t nsec = (uint32_t)i, fc = mmr_crc32c(0, b, s.off[i]);
			memcpy(h + 12 + 16, &nsec, 4);
			memcpy(h + 12 + 20, &fc, 4);
		}
		c = mmr_crc32c(0, h + 12, l);
		memcpy(h + 8, &c, 4);
	}
}

static void test_mutations_with_valid_checksums(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	char p[256], q[256];
	path_of(p, sizeof(p), "small.state");
	scratch_of(q, sizeof(q), "mut.state");
	small_snapshot(p, &cfg);
	size_t len;
	unsigned char *orig = slurp(p, &len);
	unsigned char *b = malloc(len);
	assert_non_null(b);
	sections s;
	map_sections(orig, len, &s);
	assert_true(s.n >= 3);
	rng_state = 7;
	int ok = 0, refused = 0;
	for (int k = 0; k < 2000; k++) {
		memcpy(b, orig, len);
		/* 1-4 bytes of payloads (the END section's included) changed */
		int m = 1 + (int)(rnd() % 4);
		for (int j = 0; j < m; j++) {
			size_t sec = (size_t)(rnd() % s.n), o = s.off[sec];
			uint32_t l;
			memcpy(&l, b + o + 4, 4);
			if (l == 0)
				continue;
			size_t at = o + 12 + (size_t)(rnd() % l);
			b[at] = rnd() % 3 == 0 ? (unsigned char)(b[at] ^ (1u << (rnd() % 8)))
					       : (unsigned char)rnd();
		}
		reseal(b, len);
		spit(q, b, len);
		char err[512] = "";
		int st = 0;
		mmr_engine *e = mmr_engine_restore(&cfg, q, NULL, &st, NULL, err, sizeof(err));
		assert_non_null(e);
		assert_true(st == 0 || st == -1);
		if (st == 0) {
			ok++;
			/* whatever was restored, the engine keeps scoring */
			mmr_result r;
			mmr_event ev = ctx_fixture_event("fiona", "198.18.77.7", T0 + 9 * DAY);
			assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
			ev.outcome = MMR_OUTCOME_FAILURE;
			assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
		} else {
			refused++;
			assert_fresh_and_working(e);
		}
		mmr_engine_free(e);
	}
	unlink(q);
	print_message("mutations with valid checksums: %d restored, %d refused\n", ok, refused);
	assert_true(refused > 0);
	free(b);
	free(orig);
	mmr_config_clear(&cfg);
}

static void test_format_version(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	char p[256];
	path_of(p, sizeof(p), "version.state");
	small_snapshot(p, &cfg);
	size_t len;
	unsigned char *b = slurp(p, &len);
	b[8] = 2; /* format version 2 */
	reseal(b, len);
	spit(p, b, len);
	int st;
	mmr_snapshot_info info;
	mmr_engine *e = restore(&cfg, p, NULL, false, &st, &info);
	assert_int_equal(st, -1);
	assert_non_null(strstr(info.message, "format version 2, this build reads 1"));
	assert_non_null(strstr(info.message, p));
	assert_fresh_and_working(e);
	mmr_engine_free(e);
	/* not a snapshot at all; an empty file; a missing one */
	write_to(p, "user,department\nalice,x\n");
	e = restore(&cfg, p, NULL, false, &st, &info);
	assert_int_equal(st, -1);
	assert_non_null(strstr(info.message, "shorter than a snapshot header"));
	mmr_engine_free(e);
	memset(b, 'x', len);
	spit(p, b, len);
	e = restore(&cfg, p, NULL, false, &st, &info);
	assert_int_equal(st, -1);
	assert_non_null(strstr(info.message, "not a mmriskscore state file"));
	mmr_engine_free(e);
	unlink(p);
	e = restore(&cfg, p, NULL, false, &st, &info);
	assert_int_equal(st, 1);
	assert_fresh_and_working(e);
	mmr_engine_free(e);
	free(b);
	mmr_config_clear(&cfg);
}

/* --- a test-side reader/rewriter of the format (for layout surgery and key scans) --------- */

typedef struct {
	const unsigned char *p;
	size_t n, o;
} cur;

static uint32_t cu(cur *c, int bytes)
{
	uint32_t v = 0;
	assert_true(c->o + (size_t)bytes <= c->n);
	for (int i = 0; i < bytes; i++)
		v |= (uint32_t)c->p[c->o + (size_t)i] << (8 * i);
	c->o += (size_t)bytes;
	return v;
}

typedef struct {
	char name[64];
	uint32_t version, size;
} det_info;

typedef struct {
	uint32_t nrules, ndet;
	det_info det[64];
} layout_info;

static void parse_layout(cur *c, layout_info *li)
{
	c->o += 4 + 8 + 8;
	li->nrules = cu(c, 2);
	for (uint32_t k = 0; k < li->nrules; k++)
		c->o += cu(c, 1);
	li->ndet = cu(c, 2);
	for (uint32_t d = 0; d < li->ndet; d++) {
		uint32_t l = cu(c, 1);
		memcpy(li->det[d].name, c->p + c->o, l);
		li->det[d].name[l] = '\0';
		c->o += l;
		li->det[d].version = cu(c, 4);
		li->det[d].size = cu(c, 4);
		c->o += 1;
	}
}

typedef struct {
	unsigned char *v;
	size_t n, cap;
} buf;

static void bput(buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->v = realloc(b->v, b->cap);
		assert_non_null(b->v);
	}
	memcpy(b->v + b->n, p, n);
	b->n += n;
}

/* Rewrites the snapshot at path with detector `det`'s user slice grown by `grow` bytes (as an
 * older build with another layout would have written it) and its state version set to
 * `version` in the layout and its detector sections; the checksums are made right again.
 * Calls each user key to visit (for scans). */
static void rewrite(const char *path, const char *det, uint32_t grow, uint32_t version,
		    void (*visit)(const char *key, size_t kl, void *arg), void *arg)
{
	size_t len;
	unsigned char *in = slurp(path, &len);
	buf out = {0};
	bput(&out, in, MMR_SNAP_HEADER_SIZE);
	layout_info li = {0};
	for (size_t o = MMR_SNAP_HEADER_SIZE; o < len;) {
		uint32_t type, l;
		memcpy(&type, in + o, 4);
		memcpy(&l, in + o + 4, 4);
		cur c = {in + o + 12, l, 0};
		buf pay = {0};
		if (type == MMR_SEC_LAYOUT) {
			parse_layout(&c, &li);
			/* copy, patching the detector's version and size */
			cur d = {in + o + 12, l, 0};
			d.o = 4 + 8 + 8;
			uint32_t nr = cu(&d, 2);
			for (uint32_t k = 0; k < nr; k++)
				d.o += cu(&d, 1);
			d.o += 2;
			bput(&pay, in + o + 12, d.o);
			for (uint32_t k = 0; k < li.ndet; k++) {
				uint32_t nl = cu(&d, 1);
				bput(&pay, in + o + 12 + d.o - 1, 1 + nl);
				d.o += nl;
				uint32_t v = cu(&d, 4), sz = cu(&d, 4);
				if (strcmp(li.det[k].name, det) == 0) {
					v = version;
					sz += grow;
				}
				bput(&pay, &v, 4);
				bput(&pay, &sz, 4);
				bput(&pay, in + o + 12 + d.o, 1);
				d.o += 1;
			}
		} else if (type == MMR_SEC_USERS) {
			uint32_t count = cu(&c, 4);
			bput(&pay, &count, 4);
			for (uint32_t i = 0; i < count; i++) {
				size_t start = c.o;
				c.o += 1;
				uint32_t kl = cu(&c, 2);
				if (visit)
					visit((const char *)c.p + c.o, kl, arg);
				c.o += kl + 8 + 8 + 8 + 4;
				uint32_t nr = cu(&c, 1);
				c.o += nr * 7;
				bput(&pay, c.p + start, c.o - start);
				for (uint32_t k = 0; k < li.ndet; k++) {
					bput(&pay, c.p + c.o, li.det[k].size);
					c.o += li.det[k].size;
					if (strcmp(li.det[k].name, det) == 0) {
						unsigned char z[64] = {0};
						assert_true(grow <= sizeof(z));
						bput(&pay, z, grow);
					}
				}
			}
			assert_int_equal(c.o, l);
		} else if (type == MMR_SEC_GLOBAL) {
			uint32_t nl = cu(&c, 1);
			bput(&pay, c.p, 1 + nl);
			c.o += nl;
			uint32_t v = cu(&c, 4);
			if (strlen(det) == nl && memcmp(c.p + 1, det, nl) == 0)
				v = version;
			bput(&pay, &v, 4);
			bput(&pay, c.p + c.o, l - c.o);
		} else {
			bput(&pay, c.p, l);
		}
		uint32_t pl = (uint32_t)pay.n, zero = 0;
		bput(&out, &type, 4);
		bput(&out, &pl, 4);
		bput(&out, &zero, 4);
		bput(&out, pay.v, pay.n);
		free(pay.v);
		o += 12 + l;
	}
	reseal(out.v, out.n);
	spit(path, out.v, out.n);
	free(out.v);
	free(in);
}

static mmr_result step(mmr_engine *e, const char *user, const char *ip, mmr_action a,
		       mmr_outcome o, int64_t t)
{
	mmr_event ev = ctx_fixture_event(user, ip, t);
	ev.action = a;
	ev.outcome = o;
	mmr_result r;
	assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
	return r;
}

static void test_changed_detector_is_dropped(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	evlist l = {0};
	company(&l, false);
	mmr_engine *a = engine_with(&cfg, false);
	feed(a, &l, 0, SPLIT);
	char p[256];
	path_of(p, sizeof(p), "layout.state");
	save(a, p, NULL, NULL);

	/* an older first_seen_network with 8 more bytes per user */
	rewrite(p, "first_seen_network", 8, 1, NULL, NULL);
	int st;
	mmr_snapshot_info info;
	mmr_engine *b = restore(&cfg, p, NULL, false, &st, &info);
	assert_int_equal(st, 0);
	assert_int_equal(info.sections_dropped, 1);
	assert_int_equal(info.users, NSTAFF);
	assert_non_null(strstr(info.message, "first_seen_network (slice of"));
	int64_t t = SPLIT + 15 * HOUR;
	/* alice's home network: known to A, forgotten by B (it relearns) */
	mmr_result ra = step(a, "alice", "198.18.1.10", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, t);
	mmr_result rb = step(b, "alice", "198.18.1.10", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, t);
	assert_false(has_rule(&ra, "network.first_seen"));
	assert_true(has_rule(&rb, "network.first_seen"));
	/* the other detectors were restored: franklin's failures, the farm's address */
	for (int k = 0; k < 5; k++) {
		ra = step(a, "franklin", "198.18.9.9", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, t + k);
		rb = step(b, "franklin", "198.18.9.9", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, t + k);
		assert_same_result(&ra, &rb, false);
	}
	ra = step(a, "fiona", "198.18.77.7", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, SPLIT + HOUR);
	rb = step(b, "fiona", "198.18.77.7", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, SPLIT + HOUR);
	mmr_engine_free(b);

	/* shared_source_ip of another state version: its table and clock start over */
	save(a, p, NULL, NULL);
	rewrite(p, "shared_source_ip", 0, 7, NULL, NULL);
	b = restore(&cfg, p, NULL, false, &st, &info);
	assert_int_equal(st, 0);
	assert_int_equal(info.sections_dropped, 1);
	assert_non_null(strstr(info.message, "shared_source_ip (state version 7, this build 1)"));
	t = T0 + 11 * DAY + 23 * HOUR; /* Friday night: fiona and henry were there this morning */
	ra = step(a, "george", "198.18.77.7", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, t);
	rb = step(b, "george", "198.18.77.7", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, t);
	assert_true(has_rule(&ra, "network.laptop_farm"));
	assert_false(has_rule(&rb, "network.laptop_farm"));
	assert_false(has_rule(&rb, "network.shared_source_ip"));
	mmr_engine_free(b);
	mmr_engine_free(a);
	free(l.v);
	mmr_config_clear(&cfg);
}

/* --- pseudonymization --------------------------------------------------------------------- */

static void key_visit(const char *key, size_t kl, void *arg)
{
	(*(int *)arg)++;
	if (!mmr_is_pseudonym(key, kl))
		fail_msg("a user key in clear: %.*s", (int)kl, key);
}

static void test_pseudonymized_round_trip(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	evlist l = {0};
	company(&l, fx.geoip);
	mmr_engine *a = engine_with(&cfg, fx.geoip);
	feed(a, &l, 0, SPLIT);
	char p[256], q[256];
	path_of(p, sizeof(p), "pseudo.state");
	path_of(q, sizeof(q), "pseudo-copy.state");
	save(a, p, KEY, NULL);

	/* no user name anywhere in the file, in any case */
	size_t len;
	unsigned char *b = slurp(p, &len);
	for (size_t i = 0; i < NSTAFF; i++)
		for (size_t o = 0; o + strlen(staff[i].name) <= len; o++)
			if (strncasecmp((const char *)b + o, staff[i].name, strlen(staff[i].name)) == 0)
				fail_msg("\"%s\" at offset %zu", staff[i].name, o);
	int keys = 0;
	spit(q, b, len);
	rewrite(q, "-", 0, 0, key_visit, &keys);
	assert_int_equal(keys, NSTAFF);
	free(b);

	int st;
	mmr_snapshot_info info;
	mmr_engine *e = restore(&cfg, p, NULL, fx.geoip, &st, &info);
	assert_int_equal(st, -1);
	assert_non_null(strstr(info.message, "pseudonym key is needed"));
	mmr_engine_free(e);
	uint8_t other[16];
	memcpy(other, KEY, 16);
	other[3] ^= 1;
	e = restore(&cfg, p, other, fx.geoip, &st, &info);
	assert_int_equal(st, -1);
	assert_non_null(strstr(info.message, "another key"));
	assert_fresh_and_working(e);
	mmr_engine_free(e);

	mmr_engine *bb = restore(&cfg, p, KEY, fx.geoip, &st, &info);
	assert_int_equal(st, 0);
	assert_non_null(strstr(info.message, "22 pseudonymized records rejoin their users"));
	uint64_t waiting, back;
	mmr_engine_pseudonym_counts(bb, &waiting, &back);
	assert_int_equal(waiting, NSTAFF);
	assert_int_equal(back, 0);
	fired f;
	compare_second_half(a, bb, &l, true, &f);
	assert_true(f.farm > 0 && f.burst > 0 && f.tz > 0);
	mmr_engine_pseudonym_counts(bb, &waiting, &back);
	assert_int_equal(waiting, 0);
	assert_int_equal(back, NSTAFF);
	mmr_stats sa, sb;
	mmr_engine_stats(a, &sa);
	mmr_engine_stats(bb, &sb);
	assert_int_equal(sa.users, sb.users);
	mmr_engine_free(bb);
	mmr_engine_free(a);
	free(l.v);
	mmr_config_clear(&cfg);
}

/* The failure detectors keep their per-user rings outside the user record (failure_rings.h):
 * the user slice is empty, a ring saved mid-burst comes back (plain and pseudonymized) and
 * the burst goes on firing, and a pseudonymized file holds no plain hash of the user. */
extern const mmr_detector mmr_detector_auth_failure_burst, mmr_detector_mfa_denial_burst;

static void test_failure_rings_survive(void **state)
{
	(void)state;
	assert_int_equal(mmr_detector_auth_failure_burst.user_state_size, 0);
	assert_int_equal(mmr_detector_mfa_denial_burst.user_state_size, 0);
	mmr_config cfg;
	mmr_config_init(&cfg);
	const int64_t t = T0 + 10 * HOUR;
	const uint8_t *keys[] = {NULL, KEY};
	for (int k = 0; k < 2; k++) {
		evlist l = {0};
		for (int i = 0; i < 4; i++) {
			add(&l, "zed", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "198.18.9.1", t + i * 10);
			if (i < 2)
				add(&l, "zed", MMR_ACTION_MFA, MMR_OUTCOME_FAILURE, "198.18.9.1",
				    t + 5 + i * 10);
		}
		mmr_engine *a = engine_with(&cfg, false);
		feed(a, &l, 0, INT64_MAX);
		char p[256];
		path_of(p, sizeof(p), k ? "rings-pseudo.state" : "rings.state");
		save(a, p, keys[k], NULL);
		int st;
		mmr_engine *b = restore(&cfg, p, keys[k], false, &st, NULL);
		assert_int_equal(st, 0);
		mmr_engine *fresh = engine_with(&cfg, false);
		evlist more = {0};
		add(&more, "zed", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, "198.18.9.2", t + 60);
		add(&more, "zed", MMR_ACTION_MFA, MMR_OUTCOME_FAILURE, "198.18.9.2", t + 65);
		mmr_result rb, rf;
		assert_int_equal(mmr_engine_process(b, &more.v[0].ev, &rb), 0);
		assert_int_equal(mmr_engine_process(fresh, &more.v[0].ev, &rf), 0);
		assert_int_equal(has_rule(&rb, "auth.failure_burst.user"), 1); /* 5th failure */
		assert_int_equal(has_rule(&rf, "auth.failure_burst.user"), 0);
		assert_int_equal(mmr_engine_process(b, &more.v[1].ev, &rb), 0);
		assert_int_equal(mmr_engine_process(fresh, &more.v[1].ev, &rf), 0);
		assert_int_equal(has_rule(&rb, "mfa.push_denial_burst"), 1); /* 3rd MFA failure */
		assert_int_equal(has_rule(&rf, "mfa.push_denial_burst"), 0);

		uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 of the user: the ring's key */
		for (const char *c = "zed"; *c; c++)
			h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
		size_t len;
		unsigned char *f = slurp(p, &len);
		bool plain = false;
		for (size_t o = 0; o + sizeof(h) <= len; o++)
			plain |= memcmp(f + o, &h, sizeof(h)) == 0;
		assert_int_equal(plain, k == 0);
		free(f);
		mmr_engine_free(fresh);
		mmr_engine_free(b);
		mmr_engine_free(a);
		free(more.v);
		free(l.v);
	}
	mmr_config_clear(&cfg);
}

/* A save of a restored engine whose users have not all come back keeps the waiting records
 * under their pseudonyms; a later restore lets them rejoin still. */
static void test_pseudonyms_survive_another_save(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	evlist l = {0};
	company(&l, false);
	mmr_engine *a = engine_with(&cfg, false);
	feed(a, &l, 0, SPLIT);
	char p[256];
	path_of(p, sizeof(p), "pseudo2.state");
	save(a, p, KEY, NULL);
	int st;
	mmr_engine *b = restore(&cfg, p, KEY, false, &st, NULL);
	assert_int_equal(st, 0);
	step(b, "alice", "198.18.1.10", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, SPLIT + HOUR);
	save(b, p, KEY, NULL);
	mmr_engine_free(b);
	b = restore(&cfg, p, KEY, false, &st, NULL);
	assert_int_equal(st, 0);
	uint64_t waiting;
	mmr_engine_pseudonym_counts(b, &waiting, NULL);
	assert_int_equal(waiting, NSTAFF);
	mmr_result ra = step(a, "peter2", "198.18.1.12", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS,
			     SPLIT + 2 * HOUR);
	mmr_result rb = step(b, "peter2", "198.18.1.12", MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS,
			     SPLIT + 2 * HOUR);
	assert_same_result(&ra, &rb, true);
	assert_false(rb.learning);
	mmr_engine_free(b);
	mmr_engine_free(a);
	free(l.v);
	mmr_config_clear(&cfg);
}

/* --- caps and recency --------------------------------------------------------------------- */

static void count_established(const char *key, size_t kl, void *arg)
{
	int *n = arg;
	n[0]++;
	n[1] += kl > 3 && memcmp(key, "emp", 3) == 0;
}

static void test_more_users_than_maxusers(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_engine *a = engine_with(&cfg, false);
	char u[32];
	/* 100 established users, then 200 names that only ever failed (a flood) */
	for (int i = 0; i < 100; i++) {
		snprintf(u, sizeof(u), "emp%03d", i);
		step(a, u, "198.18.5.5", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, T0 + i);
	}
	for (int i = 0; i < 200; i++) {
		snprintf(u, sizeof(u), "flood%03d", i);
		step(a, u, "198.18.6.6", MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, T0 + 1000 + i);
	}
	char p[256];
	path_of(p, sizeof(p), "cap.state");
	save(a, p, NULL, NULL);
	mmr_config small = cfg;
	small.max_users = 128;
	int st;
	mmr_snapshot_info info;
	mmr_engine *b = restore(&small, p, NULL, false, &st, &info);
	assert_int_equal(st, 0);
	assert_int_equal(info.users, 300);
	assert_non_null(strstr(info.message, "state.maxusers 128 keeps"));
	mmr_stats s;
	mmr_engine_stats(b, &s);
	assert_true(s.users <= 128 && s.users >= 64);
	save(b, p, NULL, NULL);
	int n[2] = {0, 0};
	rewrite(p, "-", 0, 0, count_established, n);
	print_message("maxusers 128: kept %d users, %d of them established\n", n[0], n[1]);
	assert_int_equal(n[0], (int)s.users);
	/* a stripe keeps its established users before any flood name: with 2 places per stripe
	 * and 100 established users over 64 stripes, about 80 stay; a loader that kept the most
	 * recent (the flood) would keep fewer than 30 */
	assert_true(n[1] >= 56);
	mmr_engine_free(b);
	mmr_engine_free(a);
	mmr_config_clear(&cfg);
}

static void test_recency_survives(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	cfg.max_users = 256;
	mmr_engine *a = engine_with(&cfg, false);
	char u[32];
	for (int i = 0; i < 400; i++) {
		snprintf(u, sizeof(u), "user%03d", i);
		step(a, u, "198.18.5.5", MMR_ACTION_AUTH,
		     i % 3 ? MMR_OUTCOME_SUCCESS : MMR_OUTCOME_FAILURE, T0 + i);
		if (i % 5 == 0) /* some come back: their recency changes */
			step(a, "user000", "198.18.5.5", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, T0 + i);
	}
	char p[256], q[256];
	path_of(p, sizeof(p), "lru-a.state");
	path_of(q, sizeof(q), "lru-b.state");
	save(a, p, NULL, NULL);
	int st;
	mmr_engine *b = restore(&cfg, p, NULL, false, &st, NULL);
	assert_int_equal(st, 0);
	/* the same newcomers evict the same users from both */
	for (int i = 0; i < 300; i++) {
		snprintf(u, sizeof(u), "new%03d", i);
		mmr_outcome o = i % 2 ? MMR_OUTCOME_SUCCESS : MMR_OUTCOME_FAILURE;
		step(a, u, "198.18.7.7", MMR_ACTION_AUTH, o, T0 + 1000 + i);
		step(b, u, "198.18.7.7", MMR_ACTION_AUTH, o, T0 + 1000 + i);
	}
	mmr_stats sa, sb;
	mmr_engine_stats(a, &sa);
	mmr_engine_stats(b, &sb);
	assert_true(sb.users_evicted > 0);
	save(a, p, NULL, NULL);
	save(b, q, NULL, NULL);
	assert_same_state(p, q);
	mmr_engine_free(b);
	mmr_engine_free(a);
	mmr_config_clear(&cfg);
}

/* --- saving under load, failures, size ---------------------------------------------------- */

typedef struct {
	mmr_engine *e;
	atomic_bool *stop;
	unsigned seed;
	long n;
} worker_arg;

static void *worker(void *p)
{
	worker_arg *w = p;
	uint64_t s = w->seed * 0x9e3779b97f4a7c15ULL + 1;
	for (long i = 0; !atomic_load(w->stop); i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		char u[32], ip[32];
		snprintf(u, sizeof(u), "u%llu", (unsigned long long)(s % 3000));
		snprintf(ip, sizeof(ip), "198.18.%u.%u", (unsigned)(s >> 20) % 50,
			 (unsigned)(s >> 30) % 250 + 1);
		mmr_event ev = ctx_fixture_event(u, ip, T0 + i);
		ev.outcome = s % 7 == 0 ? MMR_OUTCOME_FAILURE : MMR_OUTCOME_SUCCESS;
		snprintf(ev.target, sizeof(ev.target), "%s", apps[s % 6]);
		mmr_result r;
		if (mmr_engine_process(w->e, &ev, &r) != 0)
			return (void *)1;
		w->n++;
	}
	return NULL;
}

static void test_save_while_processing(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_engine *e = engine_with(&cfg, false);
	atomic_bool stop = false;
	pthread_t th[2];
	worker_arg args[2] = {{e, &stop, 1, 0}, {e, &stop, 2, 0}};
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	char p[256];
	path_of(p, sizeof(p), "busy.state");
	double stall = 0;
	for (int k = 0; k < 8; k++) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
		mmr_snapshot_info info;
		save(e, p, k % 2 ? KEY : NULL, &info);
		if (info.max_stall_ms > stall)
			stall = info.max_stall_ms;
		int st;
		mmr_engine *r = restore(&cfg, p, KEY, false, &st, NULL);
		assert_int_equal(st, 0);
		mmr_engine_free(r);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++) {
		void *rc;
		assert_int_equal(pthread_join(th[i], &rc), 0);
		assert_null(rc);
	}
	print_message("saved 8 times while %ld events were processed; longest stripe hold %.3f ms\n",
		      args[0].n + args[1].n, stall);
	assert_true(args[0].n + args[1].n > 0);
	mmr_engine_free(e);
	mmr_config_clear(&cfg);
}

static void test_failed_save_keeps_the_previous(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_engine *e = engine_with(&cfg, false);
	char p[256], tmp[300], err[512];
	path_of(p, sizeof(p), "keep.state");
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	step(e, "alice", "198.18.1.1", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, T0);
	save(e, p, NULL, NULL);
	size_t len;
	unsigned char *before = slurp(p, &len);

	/* a directory that does not exist */
	char bad[300];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.state", fx.dir);
	assert_int_equal(mmr_engine_save(e, bad, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "x.state.tmp"));

	/* the disk fills up mid-write (a file size limit stands in for ENOSPC) */
	char u[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(u, sizeof(u), "user%04d", i);
		step(e, u, "198.18.2.2", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, T0 + i);
	}
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = len + 4096;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = mmr_engine_save(e, p, NULL, NULL, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);
	print_message("failed save: %s\n", err);
	assert_non_null(strstr(err, "File too large"));
	struct stat st;
	assert_int_not_equal(stat(tmp, &st), 0); /* removed */
	size_t len2;
	unsigned char *after = slurp(p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(before, after, len);
	free(before);
	free(after);
	/* and the next save works */
	save(e, p, NULL, NULL);
	mmr_engine_free(e);
	mmr_config_clear(&cfg);
}

static void test_state_bytes(void **state)
{
	(void)state;
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_engine *e = engine_with(&cfg, false);
	uint64_t empty = mmr_engine_state_bytes(e);
	char u[32], ip[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(u, sizeof(u), "user%04d", i);
		snprintf(ip, sizeof(ip), "198.18.%d.%d", i / 250, i % 250 + 1);
		step(e, u, ip, MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, T0 + i);
	}
	uint64_t full = mmr_engine_state_bytes(e);
	size_t per_user = mmr_engine_user_bytes(e);
	print_message("state bytes: %llu empty, %llu with 1000 users (user record %zu bytes)\n",
		      (unsigned long long)empty, (unsigned long long)full, per_user);
	/* every user record, and the IP tables' entries on top */
	assert_true(full - empty > 1000 * (uint64_t)per_user * 9 / 10);
	assert_true(full - empty < 1000 * (uint64_t)per_user * 3);
	mmr_engine_free(e);
	mmr_config_clear(&cfg);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints save and restore time and file size; no timed assertion. */
static void test_benchmark(void **state)
{
	(void)state;
	const char *env = getenv("MMR_SNAPSHOT_BENCH_USERS");
	long n = env ? atol(env) : 5000;
	mmr_config cfg;
	mmr_config_init(&cfg);
	mmr_engine *e = engine_with(&cfg, false);
	char u[32], ip[32];
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		snprintf(u, sizeof(u), "user%06ld", i);
		for (int k = 0; k < 3; k++) {
			snprintf(ip, sizeof(ip), "198.%d.%ld.%ld", 18 + k, (i / 250) % 250,
				 i % 250 + 1);
			mmr_event ev = ctx_fixture_event(u, ip, T0 + i * 10 + k * DAY);
			ev.action = k == 1 ? MMR_ACTION_SSO : MMR_ACTION_VPN_START;
			snprintf(ev.target, sizeof(ev.target), "%s", apps[(i + k) % 6]);
			snprintf(ev.device, sizeof(ev.device), "DESKTOP-%06ld", i);
			mmr_result r;
			assert_int_equal(mmr_engine_process(e, &ev, &r), 0);
		}
	}
	double fed = now_s() - t0;
	char p[256];
	path_of(p, sizeof(p), "bench.state");
	mmr_snapshot_info si, sp, ri, rp;
	save(e, p, KEY, &sp);
	int st;
	t0 = now_s();
	mmr_engine *b = restore(&cfg, p, KEY, false, &st, &rp);
	double restore_p = now_s() - t0;
	assert_int_equal(st, 0);
	mmr_engine_free(b);
	save(e, p, NULL, &si);
	t0 = now_s();
	b = restore(&cfg, p, NULL, false, &st, &ri);
	double restore_s = now_s() - t0;
	assert_int_equal(st, 0);
	assert_int_equal(ri.users, (uint64_t)n);
	print_message("benchmark: %ld users (3 events each, fed in %.2f s); state %.1f MB "
		      "(%zu bytes per user record)\n"
		      "  save %.3f s, file %.1f MB (%.0f bytes/user), %llu table entries, longest "
		      "stripe hold %.3f ms; pseudonymized save %.3f s\n"
		      "  restore %.3f s; pseudonymized restore %.3f s\n",
		      n, fed, (double)mmr_engine_state_bytes(e) / 1e6, mmr_engine_user_bytes(e),
		      si.seconds, (double)si.bytes / 1e6, (double)si.bytes / (double)n,
		      (unsigned long long)ri.entries, si.max_stall_ms, sp.seconds, restore_s,
		      restore_p);
	mmr_engine_free(b);
	mmr_engine_free(e);
	unlink(p);
	mmr_config_clear(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_every_detector_persists),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rule_slots_round_trip),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_mutations_with_valid_checksums),
		cmocka_unit_test(test_format_version),
		cmocka_unit_test(test_changed_detector_is_dropped),
		cmocka_unit_test(test_pseudonymized_round_trip),
		cmocka_unit_test(test_pseudonyms_survive_another_save),
		cmocka_unit_test(test_failure_rings_survive),
		cmocka_unit_test(test_more_users_than_maxusers),
		cmocka_unit_test(test_recency_survives),
		cmocka_unit_test(test_save_while_processing),
		cmocka_unit_test(test_failed_save_keeps_the_previous),
		cmocka_unit_test(test_state_bytes),
		cmocka_unit_test(test_benchmark),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
