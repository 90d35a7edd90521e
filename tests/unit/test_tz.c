/* The TZif reader (enrich/tz.c) against the C library as the oracle: glibc reads the same
 * zone files, so setenv("TZ") + tzset + localtime_r's tm_gmtoff is the expected offset
 * (this test is single-threaded, so changing TZ is safe here, unlike in rsyslogd).
 *
 * Covered: many zones from 1970 to 2040 (a random sample, hourly through 2026, and the exact
 * second of every 2026 change), times after 2037 (the footer rule; "slim" files hold no
 * transitions after 2007 at all), hand-written footers (RFC 8536 §3.3.1 extensions: negative
 * and > 24 h rule times, DST all year, Jn and n rules), bad names, corrupt files.
 */
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

#include "enrich/tz.h"

static const char *const zones[] = {
	"America/New_York", "America/Chicago",  "America/Los_Angeles", "Europe/Berlin",
	"Europe/London",    "Asia/Seoul",       "Asia/Kolkata",        "Asia/Manila",
	"Asia/Tokyo",       "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham",
	"Africa/Casablanca", "UTC",             "America/Sao_Paulo",   "Europe/Dublin",
	"Asia/Kathmandu",   "America/Nuuk",     "Australia/Sydney",    "Etc/GMT-9",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

static int64_t civil(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* The oracle: TZ must have been set by use_tz(). */
static long libc_off(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (localtime_r(&tt, &tm) == NULL)
		fail_msg("localtime_r failed at %lld", (long long)t);
	return tm.tm_gmtoff;
}

static void use_tz(const char *tzval)
{
	setenv("TZ", tzval, 1);
	tzset();
}

static mmr_tz *load_ok(const char *name)
{
	char err[512] = "";
	mmr_tz *tz = mmr_tz_load(name, err, sizeof(err));
	if (tz == NULL)
		fail_msg("mmr_tz_load(%s): %s", name, err);
	return tz;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void check_at(const mmr_tz *tz, const char *what, int64_t t)
{
	long want = libc_off(t);
	int32_t got = mmr_tz_offset(tz, t);
	if (got != want) {
		char when[64];
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fail_msg("%s at %s (%lld): got %d, libc says %ld", what, when, (long long)t, got,
			 want);
	}
}

/* Compares every hour of [from, to) and, at every change the C library shows, the exact
 * second of the change (bisection) and the second before. Returns the number of changes. */
static int check_hourly(const mmr_tz *tz, const char *what, int64_t from, int64_t to)
{
	int changes = 0;
	long prev = libc_off(from);
	for (int64_t t = from; t < to; t += 3600) {
		check_at(tz, what, t);
		long cur = libc_off(t);
		if (cur != prev) {
			int64_t lo = t - 3600, hi = t; /* off(lo) == prev, off(hi) != prev */
			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;
				if (libc_off(mid) == prev)
					lo = mid;
				else
					hi = mid;
			}
			check_at(tz, what, hi - 1);
			check_at(tz, what, hi);
			changes++;
		}
		prev = cur;
	}
	return changes;
}

/* The C library and this reader need the system's zone files (package tzdata). */
static void need_zoneinfo(void)
{
	struct stat st;
	unsetenv("TZDIR");
	if (stat("/usr/share/zoneinfo/America/New_York", &st) != 0) {
		print_message("no /usr/share/zoneinfo (install tzdata): skipped\n");
		skip();
	}
}

static void test_zones_match_libc(void **state)
{
	(void)state;
	need_zoneinfo();
	for (size_t z = 0; z < NZONES; z++) {
		mmr_tz *tz = load_ok(zones[z]);
		assert_string_equal(mmr_tz_name(tz), zones[z]);
		use_tz(zones[z]);
		int64_t lo = civil(1970, 1, 1, 0, 0, 0), hi = civil(2040, 1, 1, 0, 0, 0);
		for (int i = 0; i < 20000; i++)
			check_at(tz, zones[z], lo + (int64_t)(rnd() % (uint64_t)(hi - lo)));
		int changes = check_hourly(tz, zones[z], civil(2026, 1, 1, 0, 0, 0),
					   civil(2027, 1, 1, 0, 0, 0));
		/* the sample is not vacuous: these zones change their clocks in 2026 */
		if (strcmp(zones[z], "America/New_York") == 0 ||
		    strcmp(zones[z], "Australia/Lord_Howe") == 0 ||
		    strcmp(zones[z], "Europe/Berlin") == 0)
			assert_int_equal(changes, 2);
		mmr_tz_free(tz);
	}
	unsetenv("TZ");
	tzset();
}

static void test_known_offsets(void **state)
{
	(void)state;
	need_zoneinfo();
	struct {
		const char *zone;
		int64_t t;
		int32_t off;
	} cases[] = {
		{"America/New_York", civil(2026, 1, 15, 12, 0, 0), -5 * 3600},
		{"America/New_York", civil(2026, 7, 15, 12, 0, 0), -4 * 3600},
		/* 2026-03-08 02:00 EST = 07:00 UTC */
		{"America/New_York", civil(2026, 3, 8, 6, 59, 59), -5 * 3600},
		{"America/New_York", civil(2026, 3, 8, 7, 0, 0), -4 * 3600},
		{"Asia/Kolkata", civil(2026, 7, 1, 0, 0, 0), 19800},
		{"Asia/Kathmandu", civil(2026, 7, 1, 0, 0, 0), 20700},
		{"Australia/Lord_Howe", civil(2026, 1, 1, 0, 0, 0), 11 * 3600},
		{"Australia/Lord_Howe", civil(2026, 7, 1, 0, 0, 0), 10 * 3600 + 1800},
		{"Pacific/Chatham", civil(2026, 1, 1, 0, 0, 0), 13 * 3600 + 2700},
		{"Etc/GMT-9", civil(2026, 1, 1, 0, 0, 0), 9 * 3600},
		{"UTC", civil(2026, 1, 1, 0, 0, 0), 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mmr_tz *tz = load_ok(cases[i].zone);
		assert_int_equal(mmr_tz_offset(tz, cases[i].t), cases[i].off);
		mmr_tz_free(tz);
	}
}

/* After 2037 the files hold no transitions (fat files stop at 2037, slim ones at the last
 * rule change): the footer's POSIX rule decides, up to year 2100 from the unrolled table and
 * beyond it evaluated directly. */
static void test_footer_after_2037(void **state)
{
	(void)state;
	need_zoneinfo();
	const char *zs[] = {"America/New_York", "Europe/Berlin", "Australia/Sydney",
			    "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Tokyo",
			    "Europe/Dublin", "America/Nuuk"};
	for (size_t z = 0; z < sizeof(zs) / sizeof(zs[0]); z++) {
		mmr_tz *tz = load_ok(zs[z]);
		use_tz(zs[z]);
		check_hourly(tz, zs[z], civil(2038, 1, 1, 0, 0, 0), civil(2039, 1, 1, 0, 0, 0));
		check_hourly(tz, zs[z], civil(2099, 6, 1, 0, 0, 0), civil(2101, 6, 1, 0, 0, 0));
		int64_t lo = civil(2037, 1, 1, 0, 0, 0), hi = civil(2400, 1, 1, 0, 0, 0);
		for (int i = 0; i < 5000; i++)
			check_at(tz, zs[z], lo + (int64_t)(rnd() % (uint64_t)(hi - lo)));
		mmr_tz_free(tz);
	}
	mmr_tz *ny = load_ok("America/New_York");
	assert_int_equal(mmr_tz_offset(ny, civil(2050, 7, 1, 0, 0, 0)), -4 * 3600);
	assert_int_equal(mmr_tz_offset(ny, civil(2050, 1, 1, 0, 0, 0)), -5 * 3600);
	assert_int_equal(mmr_tz_offset(ny, civil(2300, 7, 1, 0, 0, 0)), -4 * 3600);
	/* absurd times neither crash nor overflow */
	int32_t o = mmr_tz_offset(ny, INT64_MAX);
	assert_true(o == -4 * 3600 || o == -5 * 3600);
	o = mmr_tz_offset(ny, INT64_MIN);
	assert_true(o > -6 * 3600 && o < -4 * 3600); /* local mean time, -4:56:02 */
	mmr_tz_free(ny);
	unsetenv("TZ");
	tzset();
}

/* ---- hand-written TZif files in a temporary TZDIR ---- */

static char tmpdir[64];

static void put32(FILE *f, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	fwrite(b, 1, 4, f);
}

/* A version 2 file without transitions: one local time type (utoff) and the footer. */
static void write_footer_zone(const char *name, int32_t utoff, const char *footer)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int block = 0; block < 2; block++) {
		fwrite("TZif2", 1, 5, f);
		for (int i = 0; i < 15; i++)
			fputc(0, f);
		put32(f, 0); /* isutcnt */
		put32(f, 0); /* isstdcnt */
		put32(f, 0); /* leapcnt */
		put32(f, 0); /* timecnt */
		put32(f, 1); /* typecnt */
		put32(f, 4); /* charcnt */
		put32(f, (uint32_t)utoff);
		fputc(0, f);
		fputc(0, f);
		fwrite("XXX", 1, 4, f);
	}
	fprintf(f, "\n%s\n", footer);
	fclose(f);
}

static int mk_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mmr-tz-test-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	setenv("TZDIR", tmpdir, 1);
	return 0;
}

static int rm_tmpdir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	unsetenv("TZDIR");
	unsetenv("TZ");
	tzset();
	return system(cmd) == 0 ? 0 : -1;
}

/* The C library parses POSIX TZ strings directly: that is the oracle for footers. */
static void test_footer_rules_match_libc(void **state)
{
	(void)state;
	struct {
		int32_t utoff;
		const char *footer;
	} cases[] = {
		{-5 * 3600, "EST5EDT,M3.2.0,M11.1.0"},
		{9 * 3600, "<+09>-9"},
		{3600, "CET-1CEST,M3.5.0,M10.5.0/3"},
		{-3 * 3600, "<-03>3"},
		{36000, "AEST-10AEDT,M10.1.0,M4.1.0/3"},            /* southern hemisphere */
		{37800, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"},    /* 30-minute DST */
		{3600, "IST-1GMT0,M10.5.0,M3.5.0/1"},               /* negative DST (Dublin) */
		{-2 * 3600, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"},     /* negative rule time (Nuuk) */
		{-3 * 3600, "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"},    /* negative both ends */
		{-5 * 3600, "EST5EDT4,0/0,J365/25"},                /* DST all year: see below */
		{-3 * 3600, "XXX3YYY,J60/2,J300/2"},                /* Jn skips February 29 */
		{-3 * 3600, "XXX3YYY,59/2,299/2"},                  /* n counts February 29 */
		{-4 * 3600, "<-04>4<-03>,M9.1.6/24,M4.1.6/24"},     /* 24:00 (Chile style) */
		{-4 * 3600, "<-04>4<-03>,M3.1.0/-100,M10.5.6/150"}, /* hours beyond a day */
		{20700, "<+0545>-5:45"},
		{-9000, "<-0230>2:30<-0130>1:30,M3.2.0/1:30:15,M11.1.0/0:15"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "Test%zu", i);
		write_footer_zone(name, cases[i].utoff, cases[i].footer);
		mmr_tz *tz = load_ok(name);
		/* glibc 2.36 evaluates a rule within the UTC year only and so shows standard time
		 * in the first hours of each year for the RFC 8536 "DST all year" string; that
		 * case is checked by hand below */
		if (strstr(cases[i].footer, "J365/25") != NULL) {
			mmr_tz_free(tz);
			continue;
		}
		use_tz(cases[i].footer);
		check_hourly(tz, cases[i].footer, civil(2023, 12, 1, 0, 0, 0),
			     civil(2025, 2, 1, 0, 0, 0));
		int64_t lo = civil(1970, 1, 1, 0, 0, 0), hi = civil(2300, 1, 1, 0, 0, 0);
		for (int k = 0; k < 3000; k++)
			check_at(tz, cases[i].footer, lo + (int64_t)(rnd() % (uint64_t)(hi - lo)));
		mmr_tz_free(tz);
	}
	/* DST all year really is DST all year, year boundaries included (RFC 8536 §3.3.1) */
	mmr_tz *tz = load_ok("Test9");
	for (int y = 1970; y < 2300; y += 7)
		for (int h = 0; h < 48; h++) {
			int64_t t = civil(y, 12, 31, 0, 0, 0) + h * 3600 - 1;
			if (mmr_tz_offset(tz, t) != -4 * 3600)
				fail_msg("DST all year: %lld not DST", (long long)t);
		}
	assert_int_equal(mmr_tz_offset(tz, civil(2030, 7, 1, 0, 0, 0)), -4 * 3600);
	mmr_tz_free(tz);
	/* Jn vs n in a leap year: J60 is March 1, 59 (zero-based) is February 29 */
	tz = load_ok("Test10");
	assert_int_equal(mmr_tz_offset(tz, civil(2024, 2, 29, 12, 0, 0)), -3 * 3600);
	assert_int_equal(mmr_tz_offset(tz, civil(2024, 3, 1, 12, 0, 0)), -2 * 3600);
	mmr_tz_free(tz);
	tz = load_ok("Test11");
	assert_int_equal(mmr_tz_offset(tz, civil(2024, 2, 29, 12, 0, 0)), -2 * 3600);
	assert_int_equal(mmr_tz_offset(tz, civil(2023, 3, 1, 12, 0, 0)), -2 * 3600);
	assert_int_equal(mmr_tz_offset(tz, civil(2023, 2, 28, 4, 0, 0)), -3 * 3600);
	mmr_tz_free(tz);
}

static void test_bad_footers_rejected(void **state)
{
	(void)state;
	const char *bad[] = {"EST",          "E5",           "EST5EDT,M13.1.0,M11.1.0",
			     "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J100",
			     "EST5EDT,366,100", "EST5EDT,M3.2.0", "EST5EDT,M3.2.0/168,M11.1.0",
			     "<AB>5",        "<+09-9",       "EST25",
			     "EST5EDT,M3.2.0,M11.1.0x", "EST5EDT4:60,M3.2.0,M11.1.0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "";
		write_footer_zone("Bad", 0, bad[i]);
		mmr_tz *tz = mmr_tz_load("Bad", err, sizeof(err));
		if (tz != NULL)
			fail_msg("footer '%s' accepted", bad[i]);
		assert_non_null(strstr(err, "bad TZ string"));
	}
	/* an empty footer is allowed: type 0 then applies everywhere */
	char err[512] = "";
	write_footer_zone("Empty", 7200, "");
	mmr_tz *tz = mmr_tz_load("Empty", err, sizeof(err));
	assert_non_null(tz);
	assert_int_equal(mmr_tz_offset(tz, civil(2030, 7, 1, 0, 0, 0)), 7200);
	mmr_tz_free(tz);
}

static void test_bad_names(void **state)
{
	(void)state;
	need_zoneinfo();
	const char *bad[] = {"../etc/passwd", "/etc/localtime", "No/Such_Zone", "",
			     "America/New York", "Europe/Berlin\n", "America/..",
			     "Asia/Tokyo;rm", "America/./New_York", "America"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "";
		mmr_tz *tz = mmr_tz_load(bad[i], err, sizeof(err));
		if (tz != NULL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
	char err[512] = "";
	assert_null(mmr_tz_load("No/Such_Zone", err, sizeof(err)));
	assert_non_null(strstr(err, "no such zone"));
	assert_null(mmr_tz_load("../etc/passwd", err, sizeof(err)));
	assert_non_null(strstr(err, "not an IANA zone name"));
	assert_null(mmr_tz_load(NULL, err, sizeof(err)));
	/* a directory is not a zone */
	assert_null(mmr_tz_load("America", err, sizeof(err)));
	assert_non_null(strstr(err, "not a zone file"));
	/* NULL handles are harmless */
	assert_int_equal(mmr_tz_offset(NULL, 0), 0);
	assert_string_equal(mmr_tz_name(NULL), "");
	mmr_tz_free(NULL);
}

static void test_utc_without_files(void **state)
{
	(void)state;
	/* the temporary TZDIR is empty of these names */
	const char *names[] = {"UTC", "Etc/UTC"};
	for (size_t i = 0; i < 2; i++) {
		mmr_tz *tz = load_ok(names[i]);
		assert_int_equal(mmr_tz_offset(tz, civil(2026, 7, 1, 0, 0, 0)), 0);
		assert_int_equal(mmr_tz_offset(tz, -1000000000LL), 0);
		assert_string_equal(mmr_tz_name(tz), names[i]);
		mmr_tz_free(tz);
	}
	char err[512] = "";
	assert_null(mmr_tz_load("Europe/Berlin", err, sizeof(err)));
	assert_non_null(strstr(err, tmpdir));
}

static void copy_prefix(const char *from, const char *to, long len)
{
	FILE *in = fopen(from, "rb");
	assert_non_null(in);
	FILE *out = fopen(to, "wb");
	assert_non_null(out);
	int c;
	for (long i = 0; (len < 0 || i < len) && (c = fgetc(in)) != EOF; i++)
		fputc(c, out);
	fclose(in);
	fclose(out);
}

static void test_corrupt_files(void **state)
{
	(void)state;
	const char *src = "/usr/share/zoneinfo/America/New_York";
	struct stat st;
	if (stat(src, &st) != 0)
		skip();
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/Full", tmpdir);
	copy_prefix(src, path, -1);
	mmr_tz *tz = load_ok("Full");
	assert_int_equal(mmr_tz_offset(tz, civil(2026, 7, 1, 0, 0, 0)), -4 * 3600);
	mmr_tz_free(tz);

	long cuts[] = {0, 3, 10, 43, 44, 100, st.st_size / 2, st.st_size - 30, st.st_size - 2,
		       st.st_size - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		snprintf(path, sizeof(path), "%s/Cut", tmpdir);
		copy_prefix(src, path, cuts[i]);
		err[0] = '\0';
		tz = mmr_tz_load("Cut", err, sizeof(err));
		if (tz != NULL)
			fail_msg("truncated to %ld bytes: accepted", cuts[i]);
		assert_non_null(strstr(err, "not a valid TZif file"));
	}
	snprintf(path, sizeof(path), "%s/Garbage", tmpdir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int i = 0; i < 2000; i++)
		fputc((int)(rnd() & 0xff), f);
	fclose(f);
	assert_null(mmr_tz_load("Garbage", err, sizeof(err)));

	/* a valid header whose counts promise more than the file holds */
	snprintf(path, sizeof(path), "%s/Huge", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("TZif2", 1, 5, f);
	for (int i = 0; i < 15; i++)
		fputc(0, f);
	for (int i = 0; i < 6; i++)
		put32(f, 0xffffffffu);
	fclose(f);
	assert_null(mmr_tz_load("Huge", err, sizeof(err)));
	assert_non_null(strstr(err, "truncated"));

	/* random single-byte corruption never crashes (the result may still load) */
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "%s/Flip", tmpdir);
		copy_prefix(src, path, -1);
		f = fopen(path, "r+b");
		assert_non_null(f);
		fseek(f, (long)(rnd() % (uint64_t)st.st_size), SEEK_SET);
		fputc((int)(rnd() & 0xff), f);
		fclose(f);
		tz = mmr_tz_load("Flip", err, sizeof(err));
		if (tz != NULL) {
			for (int k = 0; k < 100; k++)
				(void)mmr_tz_offset(tz,
						    (int64_t)(rnd() % 8000000000ull) - 2000000000);
			mmr_tz_free(tz);
		}
	}
}

/* Version 1 files (32-bit data, no footer) are read as they are. */
static void test_version1_file(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof(path), "%s/Old", tmpdir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("TZif", 1, 4, f);
	for (int i = 0; i < 16; i++)
		fputc(0, f);
	put32(f, 0);
	put32(f, 0);
	put32(f, 0);
	put32(f, 2); /* timecnt */
	put32(f, 2); /* typecnt */
	put32(f, 8); /* charcnt */
	put32(f, (uint32_t)civil(2000, 4, 2, 7, 0, 0));
	put32(f, (uint32_t)civil(2000, 10, 29, 6, 0, 0));
	fputc(1, f);
	fputc(0, f);
	put32(f, (uint32_t)(-5 * 3600));
	fputc(0, f);
	fputc(0, f);
	put32(f, (uint32_t)(-4 * 3600));
	fputc(1, f);
	fputc(4, f);
	fwrite("EST\0EDT\0", 1, 8, f);
	fclose(f);
	mmr_tz *tz = load_ok("Old");
	assert_int_equal(mmr_tz_offset(tz, civil(1999, 1, 1, 0, 0, 0)), -5 * 3600);
	assert_int_equal(mmr_tz_offset(tz, civil(2000, 7, 1, 0, 0, 0)), -4 * 3600);
	assert_int_equal(mmr_tz_offset(tz, civil(2001, 7, 1, 0, 0, 0)), -5 * 3600);
	mmr_tz_free(tz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zones_match_libc),
		cmocka_unit_test(test_known_offsets),
		cmocka_unit_test(test_footer_after_2037),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test_setup_teardown(test_footer_rules_match_libc, mk_tmpdir, rm_tmpdir),
		cmocka_unit_test_setup_teardown(test_bad_footers_rejected, mk_tmpdir, rm_tmpdir),
		cmocka_unit_test_setup_teardown(test_utc_without_files, mk_tmpdir, rm_tmpdir),
		cmocka_unit_test_setup_teardown(test_corrupt_files, mk_tmpdir, rm_tmpdir),
		cmocka_unit_test_setup_teardown(test_version1_file, mk_tmpdir, rm_tmpdir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
