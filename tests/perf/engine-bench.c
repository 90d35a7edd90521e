/* engine-bench: the scoring engine alone, without rsyslog and without parsing (issue 7,
 * BENCHMARKS.md; driven by scripts/bench-engine.sh). Prints numbers; judges nothing.
 *
 *   engine-bench [--users N] [--warm K] [--events M] [--repeat R] [--threads T]
 *                [--context DIR] [--roster] [--maxips N] [--snapshot DIR] [--saves K]
 *                [--seed S] [--json FILE] [--quiet]
 *
 *   --users N      population, all resident (state.maxusers = N + N/4 + 4096) (default 100000)
 *   --warm K       events per user before measuring, after the first (default 2): baselines
 *                  with some history, detector tables filled
 *   --events M     events per measurement (default 1000000)
 *   --repeat R     measurements of each kind, alternating 1 thread / T threads (default 3);
 *                  medians are reported
 *   --threads T    the multi-threaded measurement (default 2; 1 = skip it)
 *   --context DIR  geoip-city.mmdb, geoip-asn.mmdb and lists/ from DIR (scripts/bench-engine.sh
 *                  writes them for the address plan below)
 *   --roster       also a synthetic HR roster of all N users (written to a temporary file)
 *   --maxips N     state.maxips (default: the engine's default)
 *   --snapshot DIR write a snapshot of the engine into DIR while T threads process events
 *                  (time, largest stall), --saves K times (default 3), then restore it into a
 *                  new engine from disk (the file's pages dropped from the page cache with
 *                  posix_fadvise, as after a reboot) and again from the page cache (time);
 *                  only when the engine implements engine/include/mmriskscore/state.h
 *   --json FILE    append one JSON object with every number to FILE
 *
 * Events: pre-generated in memory as compact records before any clock starts; a record becomes
 * an mmr_event (mmr_event_init + the fields a parser would fill) right before
 * mmr_engine_process(); that materialization is timed on its own and reported, so it can be
 * told apart from the engine ("harness ns/event"). Users are drawn uniformly at random from the
 * population; event times advance with the sequence number over 30 days, as in a log stream.
 * The mix of actions and outcomes is the simulator's (sso 29 %, auth success 21 %, logout
 * 11 %, mfa 13 %, vpn start/end/assigned 16 %, auth failure 3 %, ...); source addresses: the
 * user's home address 55 %, an office NAT 10 %, a carrier CGNAT address shared with many
 * others 12 %, a VPN-assigned internal address 15 %, a random public address 3 %, none 5 %.
 *
 * Address plan (mirrored by the GeoIP databases scripts/bench-engine.sh writes): home and
 * other public addresses in 24.0.0.0/8 and 73.0.0.0/8, one city per /16, /16 number k in the
 * city of zones[k % NZONES]; a user's home /16 is in the country of their roster time zone.
 * Phones: 174.192.0.0/22, a mobile carrier. Offices: 203.0.113.0/24 (corporate), VPN pools
 * 10.80.0.0/16 (corporate).
 *
 * Per core: events / CPU time of the measuring thread (CLOCK_THREAD_CPUTIME_ID), which other
 * processes on the machine do not inflate; wall-clock rates are printed too.
 * Memory: VmRSS (/proc/self/status) before the engine is created (events, names and context
 * already in memory) and after every user is resident and warmed: the difference per user,
 * next to mmr_engine_user_bytes() (the engine's own estimate of one user record).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"
#include "mmriskscore/event.h"
#include "mmriskscore/state.h"
#include "detect/detector.h" /* per-detector slice sizes of the user record, for the report */
#include "engine_internal.h"  /* the users table, for the entries a save looks at */

/* The snapshot API may not be implemented yet (engine/engine_state.c): weak references keep
 * this program linkable either way. scripts/bench-engine.sh links with -Wl,-u,<symbol> when
 * the library defines them, so that the archive member is pulled in. */
extern int mmr_engine_save(mmr_engine *e, const char *path, const mmr_snapshot_opts *opts,
			   mmr_snapshot_info *info, char *err, size_t errlen) __attribute__((weak));
extern mmr_engine *mmr_engine_restore(const mmr_config *cfg, const char *path,
				      const mmr_snapshot_opts *opts, int *status,
				      mmr_snapshot_info *info, char *err, size_t errlen)
	__attribute__((weak));
extern uint64_t mmr_engine_state_bytes(mmr_engine *e) __attribute__((weak));
extern uint64_t mmr_lru_pass_visits(const mmr_lru_table *t) __attribute__((weak));
extern uint64_t mmr_lru_pass_max_cpu_ns(const mmr_lru_table *t) __attribute__((weak));

/* ---- random numbers: xoshiro256** (seeded by splitmix64), one state per generator ---- */

typedef struct {
	uint64_t s[4];
} rng;

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

static uint32_t rng_below(rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ---- the population ---- */

enum { IP_HOME, IP_OFFICE, IP_PHONE, IP_INTERNAL, IP_OTHER, IP_NONE };

typedef struct {
	uint32_t home;  /* IPv4, host order */
	uint32_t team;  /* peer group */
	uint8_t office; /* which office NAT, when in office */
} person;

/* one pre-generated event: 16 bytes */
typedef struct {
	uint32_t user;
	uint8_t action, outcome, ipkind, pick; /* pick: app / server / factor choice */
	uint32_t salt;                         /* other address, bytes, duration */
	uint32_t pad;
} bevent;

static const char *const surnames[] = {
	"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
	"martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor",
	"moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez",
	"clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright",
	"scott", "torres", "nguyen", "hill", "flores", "green", "adams", "nelson", "baker", "hall",
	"rivera", "campbell", "mitchell", "carter", "roberts", "kumar", "sharma", "tanaka", "kim",
	"mueller", "schmidt", "nowak", "kowalski", "santos", "reyes"};
#define NSURNAMES (sizeof(surnames) / sizeof(surnames[0]))

static const char *const apps[] = {
	"Google Workspace", "Slack", "Zoom", "Workday", "GitHub", "Jira", "Confluence",
	"Salesforce", "Zendesk", "AWS SSO", "Datadog", "PagerDuty", "Figma", "Notion",
	"NetSuite", "Greenhouse", "Okta Admin Console", "Snowflake", "Tableau", "DocuSign",
	"Box", "Miro", "1Password", "Lucidchart", "Gong", "HubSpot", "Expensify", "Coupa",
	"Vanta", "Lattice", "Looker", "Sentry"};
#define NAPPS (sizeof(apps) / sizeof(apps[0]))

static const char *const ua_desktop =
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/124.0.0.0 Safari/537.36";
static const char *const ua_phone =
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
	"like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

static const char *const zones[][2] = {
	{"US", "America/New_York"}, {"US", "America/Chicago"}, {"US", "America/Denver"},
	{"US", "America/Los_Angeles"}, {"GB", "Europe/London"}, {"DE", "Europe/Berlin"},
	{"PL", "Europe/Warsaw"}, {"IN", "Asia/Kolkata"}, {"PH", "Asia/Manila"},
	{"JP", "Asia/Tokyo"}, {"CA", "America/Toronto"}};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

static const char *const departments[] = {"Engineering", "Sales", "Customer Support", "Product",
					   "Marketing", "Finance", "IT", "People", "Security",
					   "Legal"};

#define NAME_LEN 24
static char (*names)[NAME_LEN];
static person *people;
static uint32_t npeople;
static int64_t t_base = 1790812800; /* 2026-10-01T00:00:00Z */
static double t_step;                /* seconds of event time per sequence number */

static uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

static void set_ip(mmr_ip *ip, uint32_t v)
{
	ip->family = 4;
	ip->b[0] = (uint8_t)(v >> 24);
	ip->b[1] = (uint8_t)(v >> 16);
	ip->b[2] = (uint8_t)(v >> 8);
	ip->b[3] = (uint8_t)v;
}

/* /16 number k (0-511) of the address plan: 24.k.0.0 or 73.(k-256).0.0 */
static uint32_t plan_ip(uint32_t k, rng *r)
{
	return ip4(k < 256 ? 24 : 73, k & 255, rng_below(r, 256), 1 + rng_below(r, 254));
}

/* a public address in a /16 of the given zone (-1: anywhere) */
static uint32_t public_ip(rng *r, int zone)
{
	uint32_t k = zone < 0 ? rng_below(r, 512)
			      : (uint32_t)zone + NZONES * rng_below(r, (512 - (uint32_t)zone + NZONES - 1) / NZONES);
	return plan_ip(k, r);
}

static void make_population(uint32_t n, uint64_t seed)
{
	rng r;
	rng_seed(&r, seed ^ 0x5eed);
	names = calloc(n, sizeof(*names));
	people = calloc(n, sizeof(*people));
	if (!names || !people) {
		fprintf(stderr, "engine-bench: out of memory for %u users\n", n);
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++) {
		/* "asmith12345": unique, about as long as real account names */
		snprintf(names[i], NAME_LEN, "%c%s%u", 'a' + (int)rng_below(&r, 26),
			 surnames[rng_below(&r, NSURNAMES)], i);
		people[i].team = i / 8 + rng_below(&r, 3);
		people[i].home = public_ip(&r, (int)(people[i].team % NZONES));
		people[i].office = (uint8_t)rng_below(&r, 5);
	}
	npeople = n;
}

/* The simulator's mix (expected.tsv of a 500-user month): action, outcome, per mille. */
static const struct {
	mmr_action a;
	mmr_outcome o;
	int permille;
} mix[] = {
	{MMR_ACTION_SSO, MMR_OUTCOME_SUCCESS, 286},
	{MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, 209},
	{MMR_ACTION_LOGOUT, MMR_OUTCOME_SUCCESS, 106},
	{MMR_ACTION_MFA, MMR_OUTCOME_UNKNOWN, 67},
	{MMR_ACTION_MFA, MMR_OUTCOME_SUCCESS, 67},
	{MMR_ACTION_AUTH, MMR_OUTCOME_UNKNOWN, 67},
	{MMR_ACTION_VPN_START, MMR_OUTCOME_SUCCESS, 59},
	{MMR_ACTION_VPN_END, MMR_OUTCOME_SUCCESS, 58},
	{MMR_ACTION_IP_ASSIGNED, MMR_OUTCOME_SUCCESS, 47},
	{MMR_ACTION_AUTH, MMR_OUTCOME_FAILURE, 31},
	{MMR_ACTION_ACCOUNT, MMR_OUTCOME_SUCCESS, 2},
	{MMR_ACTION_MFA, MMR_OUTCOME_FAILURE, 1},
};
#define NMIX (sizeof(mix) / sizeof(mix[0]))

static void gen_event(rng *r, bevent *b, uint32_t user)
{
	uint32_t x = rng_below(r, 1000), acc = 0;
	size_t k = 0;
	for (; k < NMIX - 1; k++) {
		acc += (uint32_t)mix[k].permille;
		if (x < acc)
			break;
	}
	b->user = user;
	b->action = (uint8_t)k; /* index into mix[] */
	uint32_t y = rng_below(r, 100);
	b->ipkind = y < 55 ? IP_HOME : y < 65 ? IP_OFFICE : y < 77 ? IP_PHONE : y < 92 ? IP_INTERNAL
		  : y < 95 ? IP_OTHER : IP_NONE;
	if (mix[k].a == MMR_ACTION_VPN_START || mix[k].a == MMR_ACTION_VPN_END ||
	    mix[k].a == MMR_ACTION_IP_ASSIGNED)
		b->ipkind = y < 85 ? IP_HOME : y < 97 ? IP_OTHER : IP_PHONE;
	b->pick = (uint8_t)rng_below(r, 256);
	b->salt = (uint32_t)rng_next(r);
}

/* Turns a compact record into the event a parser would have produced. */
static void materialize(const bevent *b, uint64_t seq, mmr_event *ev)
{
	const person *p = &people[b->user];
	mmr_event_init(ev);
	ev->action = mix[b->action].a;
	ev->outcome = mix[b->action].o;
	memcpy(ev->user, names[b->user], NAME_LEN);
	ev->time = t_base + (int64_t)((double)seq * t_step);
	ev->time_from_log = true;
	bool phone = false;
	switch (b->ipkind) {
	case IP_HOME: set_ip(&ev->src_ip, p->home); break;
	case IP_OFFICE: set_ip(&ev->src_ip, ip4(203, 0, 113, 1 + 16u * p->office + (b->pick & 7))); break;
	case IP_PHONE: /* a few hundred carrier CGNAT addresses shared by everyone */
		set_ip(&ev->src_ip, ip4(174, 192, b->salt & 3, 1 + (b->salt >> 8) % 200));
		phone = true;
		break;
	case IP_INTERNAL: set_ip(&ev->src_ip, ip4(10, 80, (b->salt >> 8) & 255, 1 + b->salt % 250)); break;
	case IP_OTHER: {
		rng r;
		rng_seed(&r, b->salt);
		set_ip(&ev->src_ip, public_ip(&r, -1));
		break;
	}
	default: break;
	}
	switch (ev->action) {
	case MMR_ACTION_SSO:
		snprintf(ev->target, sizeof(ev->target), "%s", apps[(b->pick + p->team) % NAPPS]);
		/* fall through */
	case MMR_ACTION_AUTH:
	case MMR_ACTION_MFA:
	case MMR_ACTION_LOGOUT:
		if (b->ipkind == IP_INTERNAL) { /* sshd on a team server */
			snprintf(ev->host, sizeof(ev->host), "srv%u-%02u", p->team % 500,
				 (unsigned)(b->pick % 4));
			snprintf(ev->auth_method, sizeof(ev->auth_method), "publickey");
		} else {
			snprintf(ev->host, sizeof(ev->host), "okta-collector");
			snprintf(ev->user_agent, sizeof(ev->user_agent), "%s",
				 phone ? ua_phone : ua_desktop);
			if (ev->action == MMR_ACTION_MFA)
				snprintf(ev->mfa_factor, sizeof(ev->mfa_factor), "push");
			snprintf(ev->session_id, sizeof(ev->session_id), "102%08x", b->salt);
		}
		break;
	case MMR_ACTION_VPN_START:
	case MMR_ACTION_IP_ASSIGNED:
		snprintf(ev->host, sizeof(ev->host), "asa-vpn-us1");
		snprintf(ev->group, sizeof(ev->group), "AnyConnect-Employees");
		set_ip(&ev->assigned_ip, ip4(10, 80, (b->salt >> 8) & 255, 1 + b->salt % 250));
		break;
	case MMR_ACTION_VPN_END:
		snprintf(ev->host, sizeof(ev->host), "asa-vpn-us1");
		ev->duration = 600 + (int64_t)(b->salt % 36000);
		ev->bytes_in = (int64_t)(b->salt % 2000) * 1000 * 1000 + 1000;
		ev->bytes_out = ev->bytes_in / 8;
		break;
	default:
		snprintf(ev->host, sizeof(ev->host), "okta-collector");
		break;
	}
}

/* ---- measurement helpers ---- */

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds the whole machine was busy (all CPUs, /proc/stat) and this process used: their
 * difference over a measurement is what other processes took from us */
static double machine_busy(void)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long v[10] = {0};
	if (f == NULL)
		return 0;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return 0;
	/* user nice system (idle iowait) irq softirq steal */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double self_busy(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

typedef struct {
	mmr_engine *e;
	const bevent *ev;
	uint64_t first, n, stride; /* events first, first+stride, ... (n of them) */
	uint64_t seq0;             /* sequence number of ev[0] (event time) */
	double cpu, wall;
	uint64_t failed;
	pthread_barrier_t *start;
	atomic_int *stop;          /* when set, run until it is set (looping over the events) */
	uint64_t done;
	int materialize_only;
} job;

static void *run_job(void *arg)
{
	job *j = arg;
	mmr_event ev;
	mmr_result res;
	if (j->start)
		pthread_barrier_wait(j->start);
	double c0 = thread_cpu(), w0 = wall();
	uint64_t i = 0;
	for (;;) {
		for (uint64_t k = 0; k < j->n; k++, i++) {
			uint64_t idx = j->first + k * j->stride;
			materialize(&j->ev[idx], j->seq0 + idx, &ev);
			if (j->materialize_only) {
				__asm__ volatile("" : : "r"(&ev) : "memory");
				continue;
			}
			if (mmr_engine_process(j->e, &ev, &res) != 0)
				j->failed++;
			if (j->stop && (i & 255) == 0 && atomic_load(j->stop))
				goto out;
		}
		if (j->stop == NULL)
			break;
	}
out:
	j->cpu = thread_cpu() - c0;
	j->wall = wall() - w0;
	j->done = i;
	return NULL;
}

/* Runs events [0, n) of evs on nthreads threads (interleaved), returns the aggregate wall
 * time; cpu receives the summed thread CPU time. */
static double run_threads(mmr_engine *e, const bevent *evs, uint64_t n, uint64_t seq0,
			  int nthreads, double *cpu, uint64_t *failed, int materialize_only)
{
	pthread_t th[64];
	job jobs[64];
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads + 1);
	for (int t = 0; t < nthreads; t++) {
		jobs[t] = (job){.e = e, .ev = evs, .first = (uint64_t)t,
				.n = (n - (uint64_t)t + (uint64_t)nthreads - 1) / (uint64_t)nthreads,
				.stride = (uint64_t)nthreads, .seq0 = seq0, .start = &bar,
				.materialize_only = materialize_only};
		pthread_create(&th[t], NULL, run_job, &jobs[t]);
	}
	pthread_barrier_wait(&bar);
	double w0 = wall();
	*cpu = 0;
	for (int t = 0; t < nthreads; t++) {
		pthread_join(th[t], NULL);
		*cpu += jobs[t].cpu;
		if (failed)
			*failed += jobs[t].failed;
	}
	double w = wall() - w0;
	pthread_barrier_destroy(&bar);
	return w;
}

/* ---- the synthetic roster ---- */

static char *write_roster(uint32_t n, uint64_t seed)
{
	char *path = strdup("/tmp/engine-bench-roster.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("engine-bench: mkstemp");
		exit(1);
	}
	FILE *f = fdopen(fd, "w");
	rng r;
	rng_seed(&r, seed ^ 0x7057e7);
	fprintf(f, "user,department,title,manager,start_date,country,timezone,team,privileged\n");
	for (uint32_t i = 0; i < n; i++) {
		const char *const *z = zones[people[i].team % NZONES];
		const char *dept = departments[people[i].team % 10];
		/* 3 % hired within the last 90 days, the rest 1-10 years ago */
		int recent = rng_below(&r, 100) < 3;
		int year = recent ? 2026 : 2016 + (int)rng_below(&r, 10);
		int month = recent ? 7 + (int)rng_below(&r, 3) : 1 + (int)rng_below(&r, 12);
		fprintf(f, "%s,%s,Engineer,%s,%04d-%02d-%02d,%s,%s,team-%u,%s\n", names[i], dept,
			names[(people[i].team * 8) % n], year, month, 1 + (int)rng_below(&r, 28), z[0],
			z[1], people[i].team, rng_below(&r, 100) < 2 ? "yes" : "no");
	}
	if (fclose(f) != 0) {
		perror("engine-bench: writing the roster");
		exit(1);
	}
	return path;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: engine-bench [--users N] [--warm K] [--events M] [--repeat R] [--threads T]\n"
		"                    [--context DIR] [--roster] [--maxips N] [--snapshot DIR]\n"
		"                    [--saves K] [--seed S] [--json FILE] [--quiet]\n");
	exit(2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct {
	double median, min, max;
} stat3;

static stat3 stats(const double *v, int n)
{
	double s[64];
	stat3 r = {0, 0, 0};
	if (n <= 0)
		return r;
	memcpy(s, v, (size_t)n * sizeof(double));
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	r.min = s[0];
	r.max = s[n - 1];
	r.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return r;
}

static void json_stat(FILE *f, const char *name, stat3 s, int last)
{
	fprintf(f, "\"%s\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f}%s", name, s.median, s.min,
		s.max, last ? "" : ",");
}

int main(int argc, char **argv)
{
	uint32_t nusers = 100000, warm = 2, maxips = 0;
	uint64_t nevents = 1000000, seed = 1;
	int nthreads = 2, roster = 0, quiet = 0, repeat = 3, saves = 3;
	const char *context = NULL, *snapdir = NULL, *json = NULL;
	static const struct option opts[] = {
		{"users", 1, 0, 'u'}, {"warm", 1, 0, 'w'}, {"events", 1, 0, 'e'},
		{"repeat", 1, 0, 'R'}, {"threads", 1, 0, 't'}, {"context", 1, 0, 'c'},
		{"roster", 0, 0, 'r'}, {"maxips", 1, 0, 'm'}, {"snapshot", 1, 0, 's'},
		{"seed", 1, 0, 'S'}, {"json", 1, 0, 'j'}, {"quiet", 0, 0, 'q'},
		{"saves", 1, 0, 'V'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': nusers = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': warm = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'e': nevents = strtoull(optarg, NULL, 10); break;
		case 'R': repeat = atoi(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'c': context = optarg; break;
		case 'r': roster = 1; break;
		case 'm': maxips = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': snapdir = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'j': json = optarg; break;
		case 'q': quiet = 1; break;
		case 'V': saves = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || nusers < 16 || nevents < 1 || nthreads < 1 || nthreads > 64 ||
	    repeat < 1 || repeat > 64 || saves < 1 || saves > 64)
		usage();

	/* ---- generate everything before any clock starts ---- */
	double g0 = wall();
	make_population(nusers, seed);
	uint64_t nfill = nusers, nwarm = (uint64_t)warm * nusers;
	int nmeas = repeat * (nthreads > 1 ? 2 : 1);
	uint64_t total = nfill + nwarm + (uint64_t)nmeas * nevents + (snapdir ? nevents : 0);
	bevent *evs = malloc(total * sizeof(*evs));
	uint32_t *perm = malloc((size_t)nusers * sizeof(*perm));
	if (!evs || !perm) {
		fprintf(stderr, "engine-bench: out of memory for %" PRIu64 " events\n", total);
		return 1;
	}
	rng r;
	rng_seed(&r, seed);
	for (uint32_t i = 0; i < nusers; i++)
		perm[i] = i;
	for (uint32_t i = nusers - 1; i > 0; i--) { /* fill: every user once, random order */
		uint32_t j = rng_below(&r, i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint64_t i = 0; i < nfill; i++)
		gen_event(&r, &evs[i], perm[i]);
	for (uint64_t i = nfill; i < total; i++)
		gen_event(&r, &evs[i], rng_below(&r, nusers));
	free(perm);
	t_step = 30.0 * 86400 / (double)total;
	double gen_s = wall() - g0;

	mmr_config cfg;
	mmr_config_init(&cfg);
	/* headroom: the cap is enforced per stripe (64), and stripes fill unevenly */
	cfg.max_users = nusers + nusers / 4 + 4096;
	if (maxips)
		cfg.max_ips = maxips;
	char err[512] = "", warnbuf[512] = "";
	char *roster_path = NULL;
	mmr_context *ctx = NULL;
	mmr_context_info cinfo = {0};
	double ctx_s = 0;
	if (context || roster) {
		char city[1024], asn[1024], lists[1024];
		mmr_context_paths paths = {0};
		if (context) {
			snprintf(city, sizeof(city), "%s/geoip-city.mmdb", context);
			snprintf(asn, sizeof(asn), "%s/geoip-asn.mmdb", context);
			snprintf(lists, sizeof(lists), "%s/lists", context);
			if (access(city, R_OK) == 0)
				paths.geoip_city = city;
			if (access(asn, R_OK) == 0)
				paths.geoip_asn = asn;
			if (access(lists, R_OK) == 0)
				paths.lists_dir = lists;
		}
		if (roster)
			paths.roster = roster_path = write_roster(nusers, seed);
		double c0 = wall();
		ctx = mmr_context_load(&paths, &cfg.user_norm, err, sizeof(err), warnbuf,
				       sizeof(warnbuf));
		ctx_s = wall() - c0;
		if (ctx == NULL) {
			fprintf(stderr, "engine-bench: context: %s\n", err);
			return 1;
		}
		mmr_context_describe(ctx, &cinfo);
		if (warnbuf[0] && !quiet)
			fprintf(stderr, "engine-bench: context warning: %s\n", warnbuf);
	}

	/* ---- the engine: fill, warm, memory ---- */
	malloc_trim(0);
	long rss0 = rss_kb();
	mmr_engine *e = mmr_engine_new(&cfg, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "engine-bench: mmr_engine_new: %s\n", err);
		return 1;
	}
	if (ctx)
		mmr_engine_set_context(e, ctx);
	uint64_t failed = 0, seq = 0;
	double fill_cpu, warm_cpu = 0;
	run_threads(e, evs, nfill, 0, 1, &fill_cpu, &failed, 0);
	seq += nfill;
	if (nwarm)
		run_threads(e, evs + seq, nwarm, seq, 1, &warm_cpu, &failed, 0);
	seq += nwarm;
	long rss1 = rss_kb();
	mmr_stats st;
	mmr_engine_stats(e, &st);
	size_t ub = mmr_engine_user_bytes(e);
	uint64_t state_bytes = mmr_engine_state_bytes ? mmr_engine_state_bytes(e) : 0;

	/* ---- harness cost: materialization alone ---- */
	double mat_cpu;
	run_threads(e, evs + seq, nevents, seq, 1, &mat_cpu, NULL, 1);

	/* ---- alternating: 1 thread, T threads, 1 thread, ... ---- */
	double one_core[64], one_wall[64], many_wall[64], many_core[64], scaling[64];
	double other1[64], other2[64]; /* cores other processes kept busy meanwhile */
	for (int k = 0; k < repeat; k++) {
		double m0 = machine_busy(), p0 = self_busy();
		double cpu, w = run_threads(e, evs + seq, nevents, seq, 1, &cpu, &failed, 0);
		other1[k] = ((machine_busy() - m0) - (self_busy() - p0)) / w;
		seq += nevents;
		one_core[k] = (double)nevents / cpu;
		one_wall[k] = (double)nevents / w;
		if (nthreads > 1) {
			m0 = machine_busy();
			p0 = self_busy();
			w = run_threads(e, evs + seq, nevents, seq, nthreads, &cpu, &failed, 0);
			other2[k] = ((machine_busy() - m0) - (self_busy() - p0)) / w;
			seq += nevents;
			many_wall[k] = (double)nevents / w;
			many_core[k] = (double)nevents / cpu;
			scaling[k] = many_wall[k] / one_wall[k];
		}
	}
	stat3 s_other1 = stats(other1, repeat), s_other2 = stats(other2, nthreads > 1 ? repeat : 0);
	stat3 s_one_core = stats(one_core, repeat), s_one_wall = stats(one_wall, repeat);
	stat3 s_many_wall = stats(many_wall, nthreads > 1 ? repeat : 0);
	stat3 s_many_core = stats(many_core, nthreads > 1 ? repeat : 0);
	stat3 s_scaling = stats(scaling, nthreads > 1 ? repeat : 0);
	mmr_stats st2;
	mmr_engine_stats(e, &st2);

	/* ---- snapshot: `saves` saves while nthreads workers keep processing events, then a
	 * restore from disk (the file's pages dropped from the page cache first, as after a
	 * reboot) and one from the page cache (as after a restart) ---- */
	int have_state = mmr_engine_save != NULL && mmr_engine_restore != NULL;
	int snap_done = 0, restore_status = 99, warm_status = 99;
	mmr_snapshot_info sinfo = {0}, rinfo = {0}, winfo = {0};
	double save_ws[64], stall_ms[64], during[64], restore_w = 0, warm_w = 0;
	/* users-table entries the copy looked at (copied or skipped), all saves: the lock-held
	 * work of a save, independent of the CPU; 0 when the library cannot count it */
	uint64_t save_visits = 0;
	double hold_cpu_ms = 0; /* the longest users-table batch in the copier's CPU time */
	long rss_restored = -1;
	char snap_err[512] = "", snap_path[1200] = "";
	if (snapdir && have_state) {
		snprintf(snap_path, sizeof(snap_path), "%s/engine-bench-%u.snap", snapdir, nusers);
		for (int k = 0; k < saves; k++) {
			pthread_t th[64];
			job jobs[64];
			atomic_int stop = 0;
			for (int t = 0; t < nthreads; t++) {
				jobs[t] = (job){.e = e, .ev = evs + seq, .first = (uint64_t)t,
						.n = (nevents - (uint64_t)t + (uint64_t)nthreads - 1) /
						     (uint64_t)nthreads,
						.stride = (uint64_t)nthreads, .seq0 = seq, .stop = &stop};
				pthread_create(&th[t], NULL, run_job, &jobs[t]);
			}
			usleep(100 * 1000);
			uint64_t v0 = mmr_lru_pass_visits ? mmr_lru_pass_visits(e->users) : 0;
			double s0 = wall();
			int rc = mmr_engine_save(e, snap_path, NULL, &sinfo, snap_err,
						 sizeof(snap_err));
			save_ws[k] = wall() - s0;
			if (mmr_lru_pass_visits)
				save_visits += mmr_lru_pass_visits(e->users) - v0;
			if (mmr_lru_pass_max_cpu_ns)
				hold_cpu_ms = (double)mmr_lru_pass_max_cpu_ns(e->users) / 1e6;
			stall_ms[k] = sinfo.max_stall_ms;
			atomic_store(&stop, 1);
			uint64_t done = 0;
			double jw = 0;
			for (int t = 0; t < nthreads; t++) {
				pthread_join(th[t], NULL);
				done += jobs[t].done;
				jw = jobs[t].wall > jw ? jobs[t].wall : jw;
			}
			during[k] = jw > 0 ? (double)done / jw : 0;
			if (rc != 0)
				break;
			snap_done = k + 1;
		}
	}
	mmr_engine_free(e); /* frees the context too */
	e = NULL;
	if (snap_done) {
		malloc_trim(0);
		int fd = open(snap_path, O_RDONLY);
		if (fd >= 0) { /* saved with fsync: clean pages, which this drops */
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		}
		long rr0 = rss_kb();
		double r0 = wall();
		mmr_engine *e2 = mmr_engine_restore(&cfg, snap_path, NULL, &restore_status, &rinfo,
						    snap_err, sizeof(snap_err));
		restore_w = wall() - r0;
		rss_restored = rss_kb() - rr0;
		mmr_engine_free(e2);
		malloc_trim(0);
		r0 = wall();
		e2 = mmr_engine_restore(&cfg, snap_path, NULL, &warm_status, &winfo, snap_err,
					sizeof(snap_err));
		warm_w = wall() - r0;
		mmr_engine_free(e2);
		unlink(snap_path);
		char tmp[1300];
		snprintf(tmp, sizeof(tmp), "%s.tmp", snap_path);
		unlink(tmp);
	}
	stat3 s_save = stats(save_ws, snap_done), s_stall = stats(stall_ms, snap_done);
	stat3 s_during = stats(during, snap_done);
	if (roster_path) {
		unlink(roster_path);
		free(roster_path);
	}

	/* ---- report ---- */
	double harness_ns = mat_cpu / (double)nevents * 1e9;
	/* engine alone: the median per-event CPU time minus the materialization */
	double per_core_net = 1.0 / (1.0 / s_one_core.median - mat_cpu / (double)nevents);
	double bytes_user = (double)(rss1 - rss0) * 1024.0 / (double)st.users;
	if (!quiet) {
		printf("engine-bench: %u users, %u warm events/user, %" PRIu64
		       " events per measurement x %d, seed %" PRIu64 "\n",
		       nusers, warm, nevents, repeat, seed);
		printf("  context: %s%s%s (loaded in %.2f s: GeoIP city %s, ASN %s, roster %zu users);"
		       " state.maxips %u\n",
		       context ? "GeoIP+lists from " : "none", context ? context : "",
		       roster ? ", synthetic roster of every user" : "", ctx_s,
		       cinfo.geoip_city ? "yes" : "no", cinfo.geoip_asn ? "yes" : "no",
		       cinfo.roster_users, cfg.max_ips);
		printf("  generated %" PRIu64 " events in %.2f s (%zu bytes each)\n", total, gen_s,
		       sizeof(bevent));
		printf("  fill (every user once, new records): %.0f events/s per core\n",
		       (double)nfill / fill_cpu);
		if (nwarm)
			printf("  warm (%" PRIu64 " events):              %.0f events/s per core\n",
			       nwarm, (double)nwarm / warm_cpu);
		printf("  resident users %" PRIu64 " (evicted %" PRIu64 "), IP-table entries %" PRIu64
		       " (evicted %" PRIu64 "), failed %" PRIu64 "; GeoIP lookups %" PRIu64
		       ", cache hits %.0f %%\n",
		       st.users, st.users_evicted, st.ips, st.ips_evicted, failed, st2.geoip_lookups,
		       st2.geoip_lookups ? 100.0 * (double)st2.geoip_cache_hits /
						   (double)st2.geoip_lookups
					 : 0.0);
		printf("  memory: RSS %+.1f MiB for %" PRIu64 " users = %.0f bytes/user; "
		       "mmr_engine_user_bytes %zu",
		       (double)(rss1 - rss0) / 1024.0, st.users, bytes_user, ub);
		if (state_bytes)
			printf("; mmr_engine_state_bytes %.0f/user", (double)state_bytes / (double)st.users);
		printf("\n  user record by detector slice (bytes, 16-aligned):");
		size_t sum = 0;
		for (size_t i = 0; mmr_detectors[i]; i++) {
			size_t b = (mmr_detectors[i]->user_state_size + 15) & ~(size_t)15;
			sum += b;
			printf("%s %s %zu", i ? "," : "", mmr_detectors[i]->name, b);
		}
		printf("; all slices %zu\n", sum);
		printf("  1 thread:  %.0f events/s per core (thread CPU; median of %d, %.0f-%.0f), "
		       "%.0f events/s wall\n",
		       s_one_core.median, repeat, s_one_core.min, s_one_core.max, s_one_wall.median);
		printf("             harness (materializing mmr_event) %.0f ns/event; engine alone "
		       "%.0f events/s per core\n",
		       harness_ns, per_core_net);
		if (nthreads > 1)
			printf("  %d threads: %.0f events/s wall (%.0f-%.0f); scaling over 1 thread x%.2f "
			       "(%.2f-%.2f); %.0f events/s per core (CPU)\n",
			       nthreads, s_many_wall.median, s_many_wall.min, s_many_wall.max,
			       s_scaling.median, s_scaling.min, s_scaling.max, s_many_core.median);
		printf("  other processes kept %.2f cores busy during the 1-thread runs, %.2f during "
		       "the %d-thread runs (medians; %ld CPUs online)\n",
		       s_other1.median, s_other2.median, nthreads, sysconf(_SC_NPROCESSORS_ONLN));
		if (!snapdir)
			printf("  snapshot: not measured (no --snapshot DIR)\n");
		else if (!have_state)
			printf("  snapshot: not measured: mmr_engine_save/restore are not in the "
			       "engine library (engine/engine_state.c not implemented yet)\n");
		else if (!snap_done)
			printf("  snapshot: save failed: %s\n", snap_err);
		else {
			printf("  snapshot save x%d (%d threads processing meanwhile): %.2f s wall "
			       "(median; %.2f-%.2f), %" PRIu64 " users, %.1f MiB; longest stripe "
			       "stall %.2f ms (worst of all saves; median %.2f); workers ran %.0f "
			       "events/s meanwhile\n",
			       snap_done, nthreads, s_save.median, s_save.min, s_save.max, sinfo.users,
			       (double)sinfo.bytes / 1048576.0, s_stall.max, s_stall.median,
			       s_during.median);
			printf("  snapshot: %.0f users-table entries looked at per save (%.2f per "
			       "user written); longest users-table batch %.2f ms of the copier's "
			       "CPU time (the stall without preemption)\n",
			       (double)save_visits / snap_done,
			       sinfo.users ? (double)save_visits / snap_done / (double)sinfo.users : 0,
			       hold_cpu_ms);
			printf("  snapshot restore: %.2f s from disk (file dropped from the page "
			       "cache), %.2f s from the page cache; status %d, %" PRIu64
			       " users; RSS %+.1f MiB%s%s\n",
			       restore_w, warm_w, restore_status, rinfo.users,
			       (double)rss_restored / 1024.0, restore_status != 0 ? ": " : "",
			       restore_status != 0 ? snap_err : "");
		}
	}
	if (json) {
		FILE *f = fopen(json, "a");
		if (f == NULL) {
			fprintf(stderr, "engine-bench: %s: %s\n", json, strerror(errno));
			return 1;
		}
		fprintf(f,
			"{\"users\":%u,\"warm_per_user\":%u,\"events\":%" PRIu64 ",\"repeat\":%d,"
			"\"threads\":%d,\"context\":%s,\"roster\":%s,\"max_ips\":%u,"
			"\"resident_users\":%" PRIu64 ",\"users_evicted\":%" PRIu64
			",\"ips\":%" PRIu64 ",\"ips_evicted\":%" PRIu64 ",\"failed\":%" PRIu64 ","
			"\"fill_events_per_s_cpu\":%.0f,\"warm_events_per_s_cpu\":%.0f,"
			"\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"bytes_per_user_rss\":%.0f,"
			"\"engine_user_bytes\":%zu,\"state_bytes_per_user\":%.0f,"
			"\"harness_ns_per_event\":%.1f,\"engine_only_events_per_s_cpu\":%.0f,"
			"\"geoip_lookups\":%" PRIu64 ",\"geoip_cache_hits\":%" PRIu64 ",",
			nusers, warm, nevents, repeat, nthreads, context ? "true" : "false",
			roster ? "true" : "false", cfg.max_ips, st.users, st.users_evicted, st2.ips,
			st2.ips_evicted, failed, (double)nfill / fill_cpu,
			nwarm ? (double)nwarm / warm_cpu : 0, rss0, rss1, bytes_user, ub,
			state_bytes ? (double)state_bytes / (double)st.users : 0, harness_ns,
			per_core_net, st2.geoip_lookups, st2.geoip_cache_hits);
		fprintf(f, "\"slices\":{");
		for (size_t i = 0; mmr_detectors[i]; i++)
			fprintf(f, "%s\"%s\":%zu", i ? "," : "", mmr_detectors[i]->name,
				(mmr_detectors[i]->user_state_size + 15) & ~(size_t)15);
		fprintf(f, "},");
		fprintf(f, "\"other_cores_busy\":{\"one_thread\":%.2f,\"multi_thread\":%.2f},",
			s_other1.median, s_other2.median);
		fprintf(f, "\"one_thread\":{");
		json_stat(f, "events_per_s_cpu", s_one_core, 0);
		json_stat(f, "events_per_s_wall", s_one_wall, 1);
		fprintf(f, "},");
		if (nthreads > 1) {
			fprintf(f, "\"multi_thread\":{");
			json_stat(f, "events_per_s_wall", s_many_wall, 0);
			json_stat(f, "events_per_s_cpu", s_many_core, 0);
			fprintf(f, "\"scaling\":{\"median\":%.3f,\"min\":%.3f,\"max\":%.3f}},",
				s_scaling.median, s_scaling.min, s_scaling.max);
		}
		if (snap_done)
			fprintf(f,
				"\"snapshot\":{\"saves\":%d,\"save_seconds\":%.3f,"
				"\"save_seconds_min\":%.3f,\"save_seconds_max\":%.3f,"
				"\"users\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"max_stall_ms\":%.3f,"
				"\"median_stall_ms\":%.3f,\"events_per_s_during_save\":%.0f,"
				"\"restore_seconds\":%.3f,\"restore_seconds_page_cache\":%.3f,"
				"\"restore_status\":%d,\"restored_users\":%" PRIu64 ","
				"\"user_entries_visited_per_save\":%.0f,"
				"\"max_batch_cpu_ms\":%.3f}",
				snap_done, s_save.median, s_save.min, s_save.max, sinfo.users,
				sinfo.bytes, s_stall.max, s_stall.median, s_during.median, restore_w,
				warm_w, restore_status, rinfo.users,
				(double)save_visits / snap_done, hold_cpu_ms);
		else
			fprintf(f, "\"snapshot\":{\"measured\":false,\"why\":\"%s\"}",
				!snapdir ? "no --snapshot" : !have_state ? "not implemented" : "save failed");
		fprintf(f, "}\n");
		fclose(f);
	}
	free(evs);
	free(names);
	free(people);
	return 0;
}
