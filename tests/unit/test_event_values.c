/* Unit tests of engine/event/event_values.c: IP addresses, durations, timestamps, user keys.
 *
 * Expectations come from the contract (notes/contract.md, event.h, the header comments of
 * event_values.c) and, for timestamps, from glibc's timegm()/gmtime_r() as an independent
 * oracle, never from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit_support.h"

#include "mmriskscore/event.h"

/* ---- oracles ---------------------------------------------------------------------------- */


static void assert_time(const char *text, int64_t expected)
{
	int64_t t = 0x5a5a5a5a;
	if (mmr_time_parse(text, &t) != 0)
		fail_msg("mmr_time_parse(\"%s\") rejected a valid timestamp", text);
	if (t != expected)
		fail_msg("mmr_time_parse(\"%s\") = %lld, expected %lld", text, (long long)t,
			 (long long)expected);
}

static void assert_time_rejected(const char *text)
{
	int64_t t = 0x5a5a5a5a;
	if (mmr_time_parse(text, &t) == 0)
		fail_msg("mmr_time_parse(\"%s\") accepted invalid input (-> %lld)", text,
			 (long long)t);
}

static void assert_duration(const char *text, int64_t expected)
{
	int64_t d = -777;
	if (mmr_duration_parse(text, &d) != 0)
		fail_msg("mmr_duration_parse(\"%s\") rejected a valid duration", text);
	if (d != expected)
		fail_msg("mmr_duration_parse(\"%s\") = %lld, expected %lld", text, (long long)d,
			 (long long)expected);
}

static void assert_duration_rejected(const char *text)
{
	int64_t d = -777;
	if (mmr_duration_parse(text, &d) == 0)
		fail_msg("mmr_duration_parse(\"%s\") accepted invalid input (-> %lld)", text,
			 (long long)d);
}

static const mmr_user_norm STRIP = {.strip_domain = true};
static const mmr_user_norm KEEP = {.strip_domain = false};

static void assert_user(const char *raw, const mmr_user_norm *norm, const char *expected)
{
	char out[MMR_USER_MAX];
	bool trunc = true;
	memset(out, 'X', sizeof(out));
	mmr_user_normalize(raw, norm, out, sizeof(out), &trunc);
	if (strcmp(out, expected) != 0)
		fail_msg("mmr_user_normalize(\"%s\", strip=%d) = \"%s\", expected \"%s\"", raw,
			 norm->strip_domain, out, expected);
	if (trunc)
		fail_msg("mmr_user_normalize(\"%s\") flagged a short name as truncated", raw);
}

/* ---- IP addresses ------------------------------------------------------------------------ */

static void test_ip_v4(void **state)
{
	(void)state;
	mmr_ip ip;
	char buf[64];
	assert_int_equal(mmr_ip_parse("198.51.100.7", &ip), 0);
	assert_int_equal(ip.family, 4);
	assert_int_equal(ip.b[0], 198);
	assert_int_equal(ip.b[1], 51);
	assert_int_equal(ip.b[2], 100);
	assert_int_equal(ip.b[3], 7);
	for (int i = 4; i < 16; i++)
		assert_int_equal(ip.b[i], 0); /* only the 4 leading bytes are used */
	assert_int_equal(mmr_ip_format(&ip, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "198.51.100.7");

	assert_int_equal(mmr_ip_parse("0.0.0.0", &ip), 0);
	assert_int_equal(ip.family, 4);
	assert_int_equal(mmr_ip_parse("255.255.255.255", &ip), 0);
	assert_int_equal(mmr_ip_format(&ip, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "255.255.255.255");
}

static void test_ip_v6(void **state)
{
	(void)state;
	mmr_ip ip;
	char buf[64];
	assert_int_equal(mmr_ip_parse("2001:DB8::1", &ip), 0);
	assert_int_equal(ip.family, 6);
	assert_int_equal(ip.b[0], 0x20);
	assert_int_equal(ip.b[1], 0x01);
	assert_int_equal(ip.b[2], 0x0d);
	assert_int_equal(ip.b[3], 0xb8);
	assert_int_equal(ip.b[15], 1);
	assert_int_equal(mmr_ip_format(&ip, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001:db8::1"); /* canonical lower-case, compressed */

	assert_int_equal(mmr_ip_parse("::1", &ip), 0);
	assert_int_equal(ip.family, 6);
	assert_int_equal(mmr_ip_parse("fe80::1:2:3:4", &ip), 0);
	assert_int_equal(ip.family, 6);
}

static void test_ip_v4_mapped_folds_to_v4(void **state)
{
	(void)state;
	mmr_ip mapped, plain;
	char buf[64];
	assert_int_equal(mmr_ip_parse("::ffff:203.0.113.9", &mapped), 0);
	assert_int_equal(mmr_ip_parse("203.0.113.9", &plain), 0);
	assert_int_equal(mapped.family, 4);
	/* one client never counts as two networks: identical representation */
	assert_memory_equal(&mapped, &plain, sizeof(mmr_ip));
	assert_int_equal(mmr_ip_format(&mapped, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "203.0.113.9");

	/* the hex spelling of the same mapped address folds as well */
	assert_int_equal(mmr_ip_parse("::ffff:cb00:7109", &mapped), 0);
	assert_memory_equal(&mapped, &plain, sizeof(mmr_ip));

	/* ::ffff:0:a.b.c.d (SIIT) and 64:ff9b::/96 are not v4-mapped: stay IPv6 */
	assert_int_equal(mmr_ip_parse("::ffff:0:203.0.113.9", &mapped), 0);
	assert_int_equal(mapped.family, 6);
}

static void test_ip_brackets(void **state)
{
	(void)state;
	mmr_ip ip, ref;
	assert_int_equal(mmr_ip_parse("[2001:db8::42]", &ip), 0);
	assert_int_equal(mmr_ip_parse("2001:db8::42", &ref), 0);
	assert_int_equal(ip.family, 6);
	assert_memory_equal(&ip, &ref, sizeof(ip));
	/* unbalanced brackets are not an address */
	assert_int_equal(mmr_ip_parse("[2001:db8::42", &ip), -1);
	assert_int_equal(mmr_ip_parse("2001:db8::42]", &ip), -1);
	assert_int_equal(mmr_ip_parse("[]", &ip), -1);
}

static void test_ip_garbage(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",           "abc",           "1.2.3",       "1.2.3.4.5",    "256.1.1.1",
		"1.2.3.4 ",   " 1.2.3.4",      "1.2.3.4/24",  "2001:db8:::1", "2001:db8::g",
		"1.2.3.4:80", "localhost",     "::ffff:1.2.3.256",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mmr_ip ip;
		memset(&ip, 0xab, sizeof(ip));
		if (mmr_ip_parse(bad[i], &ip) != -1)
			fail_msg("mmr_ip_parse(\"%s\") accepted garbage", bad[i]);
		/* a rejected address is "absent", never a half-filled value */
		assert_int_equal(ip.family, 0);
	}
}

static void test_ip_overlong(void **state)
{
	(void)state;
	char s[512];
	mmr_ip ip;
	/* a very long string is rejected and never overflows the parser's buffer (ASan) */
	memset(s, '1', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(mmr_ip_parse(s, &ip), -1);
	assert_int_equal(ip.family, 0);
	/* 63 characters: longest input that fits the internal buffer, still garbage */
	memset(s, ':', 63);
	s[63] = '\0';
	assert_int_equal(mmr_ip_parse(s, &ip), -1);
	/* a long legal spelling (41 chars, v4-mapped with full groups) still parses and folds */
	assert_int_equal(mmr_ip_parse("0000:0000:0000:0000:0000:ffff:198.51.100.7", &ip), 0);
	assert_int_equal(ip.family, 4);
	assert_int_equal(ip.b[0], 198);
	assert_int_equal(ip.b[3], 7);
}

static void test_ip_format_errors(void **state)
{
	(void)state;
	mmr_ip absent;
	char buf[64], small[4];
	memset(&absent, 0, sizeof(absent));
	assert_int_equal(mmr_ip_format(&absent, buf, sizeof(buf)), -1);
	mmr_ip ip;
	assert_int_equal(mmr_ip_parse("198.51.100.7", &ip), 0);
	assert_int_equal(mmr_ip_format(&ip, small, sizeof(small)), -1); /* too small: error */
}

/* ---- durations ----------------------------------------------------------------------------- */

static void test_duration_units(void **state)
{
	(void)state;
	assert_duration("0h:32m:16s", 32 * 60 + 16); /* 1936, Cisco ASA */
	assert_duration("1d 2h:03m:04s", 86400 + 2 * 3600 + 3 * 60 + 4);
	assert_duration("2h 5m", 2 * 3600 + 5 * 60);
	assert_duration("45s", 45);
	assert_duration("3d", 3 * 86400);
	assert_duration("0h:00m:00s", 0);
}

static void test_duration_clock_and_seconds(void **state)
{
	(void)state;
	assert_duration("01:02:03", 3600 + 2 * 60 + 3);
	assert_duration("02:03", 2 * 60 + 3); /* mm:ss */
	assert_duration("1234", 1234);
	assert_duration("0", 0);
	assert_duration("100:00:00", 100 * 3600); /* sessions that stay up for days */
}

static void test_duration_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",               /* empty */
		"   ",            /* blanks only */
		"abc",            /* no number */
		"99999999999999", /* 14 digits: overflow guard */
		"1x",             /* unknown unit */
		"-5",             /* negative */
		"1:2:3:4",        /* four clock fields */
		"1h 02:03",       /* mixed unit and clock forms */
		"01:02 1h",       /* mixed the other way */
		"1.5h",           /* no fractions */
		"12 abc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_duration_rejected(bad[i]);
}

static void test_duration_trailing_separator_rejected(void **state)
{
	(void)state;
	/* A dangling separator means the value was cut: "1h:" is not one hour, "01:02:" is not
	 * 62 seconds (nor 01:02:00). */
	assert_duration_rejected("1h:");
	assert_duration_rejected("01:02:");
	assert_duration_rejected("5:");
}

/* ---- timestamps -------------------------------------------------------------------------- */

static void test_time_rfc3339_utc(void **state)
{
	(void)state;
	int64_t ref = civil_utc(2026, 11, 27, 10, 0, 0);
	assert_time("2026-11-27T10:00:00Z", ref);
	assert_time("2026-11-27t10:00:00z", ref);
	assert_time("2026-11-27 10:00:00", ref); /* space separator, no zone = UTC */
	assert_time("2026-11-27T10:00:00", ref);
	assert_time("2026-11-27T10:00:00+00:00", ref);
	assert_time("2026-11-27T10:00Z", ref); /* seconds optional */
}

static void test_time_offsets(void **state)
{
	(void)state;
	/* 12:00 at +02:00 is 10:00 UTC */
	assert_time("2026-11-27T12:00:00+02:00", civil_utc(2026, 11, 27, 10, 0, 0));
	/* 04:30 at -05:30 is 10:00 UTC */
	assert_time("2026-11-27T04:30:00-0530", civil_utc(2026, 11, 27, 10, 0, 0));
	assert_time("2026-11-27T04:30:00-05:30", civil_utc(2026, 11, 27, 10, 0, 0));
	/* offsets that cross a date and a year boundary */
	assert_time("2027-01-01T08:00:00+09:00", civil_utc(2026, 12, 31, 23, 0, 0));
	assert_time("2026-12-31T20:00:00-05:00", civil_utc(2027, 1, 1, 1, 0, 0));
	assert_time("2026-11-27T19:00:00+09", civil_utc(2026, 11, 27, 10, 0, 0));
}

static void test_time_fractions(void **state)
{
	(void)state;
	int64_t ref = civil_utc(2026, 11, 27, 10, 0, 5);
	assert_time("2026-11-27T10:00:05.123Z", ref);        /* truncated, not rounded */
	assert_time("2026-11-27T10:00:05.999999999Z", ref);
	assert_time("2026-11-27T12:00:05.5+02:00", ref);
	assert_time("2026-11-27T10:00:05,25Z", ref);          /* ISO 8601 comma */
}

static void test_time_epoch(void **state)
{
	(void)state;
	int64_t ref = civil_utc(2026, 11, 27, 10, 0, 0);
	char s[32];
	snprintf(s, sizeof(s), "%lld", (long long)ref);
	assert_int_equal(strlen(s), 10);
	assert_time(s, ref);
	snprintf(s, sizeof(s), "%lld123", (long long)ref); /* milliseconds */
	assert_int_equal(strlen(s), 13);
	assert_time(s, ref);
	snprintf(s, sizeof(s), "%lld999", (long long)ref); /* ms truncated towards the second */
	assert_time(s, ref);
}

static void test_time_epoch_only_seconds_or_milliseconds(void **state)
{
	(void)state;
	/* event_values.c: "unix time in seconds (10 digits) or milliseconds (13 digits)".
	 * 11 and 12 digits are neither; read as seconds they land in the years 2286-33658 and
	 * would satisfy any learning.mindays at once. */
	assert_time_rejected("17957736000");
	assert_time_rejected("179577360000");
}

static void test_time_epoch_micro_and_nanoseconds(void **state)
{
	(void)state;
	/* issue 3 contract: 16 digits = µs, 19 = ns (FortiGate eventtime), cut to the second */
	int64_t ref = civil_utc(2026, 11, 27, 10, 0, 0);
	char s[40];
	snprintf(s, sizeof(s), "%lld000000", (long long)ref);
	assert_int_equal(strlen(s), 16);
	assert_time(s, ref);
	snprintf(s, sizeof(s), "%lld999999", (long long)ref);
	assert_time(s, ref);
	snprintf(s, sizeof(s), "%lld000000000", (long long)ref);
	assert_int_equal(strlen(s), 19);
	assert_time(s, ref);
	snprintf(s, sizeof(s), "%lld999999999", (long long)ref);
	assert_time(s, ref);
	/* the largest 19-digit values: int64 ends in 2262; beyond it is no time */
	assert_time("9223372036000000000", 9223372036LL);
	assert_time_rejected("9999999999999999999");
}

static void test_time_epoch_other_digit_counts_rejected(void **state)
{
	(void)state;
	/* only 10, 13, 16 and 19 digits are epoch forms (9 digits: seconds before 2001) */
	static const char *const digits = "17957736001234567890123";
	for (size_t n = 11; n <= 20; n++) {
		if (n == 13 || n == 16 || n == 19)
			continue;
		char s[32];
		snprintf(s, sizeof(s), "%.*s", (int)n, digits);
		assert_time_rejected(s);
	}
	assert_time_rejected("1795773600123456789012345");
	assert_time_rejected("1795773600123456x"); /* 16 characters, not all digits */
	assert_time_rejected("-795773600123456");
}

static void test_time_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"garbage",
		"2026-13-01T00:00:00Z",  /* month 13 */
		"2026-00-10T00:00:00Z",  /* month 0 */
		"2026-01-00T00:00:00Z",  /* day 0 */
		"2026-01-32T00:00:00Z",  /* day 32 */
		"2026-11-27T24:00:00Z",  /* hour 24 */
		"2026-11-27T10:60:00Z",  /* minute 60 */
		"2026-11-27T10:00:61Z",  /* second 61 */
		"2026-11-27T10:00:00Zjunk", /* trailing junk */
		"2026-11-27T10:00:00 Z",
		"2026-11-27T10:00:00+02:00x",
		"2026-11-27T10:00:00+",   /* truncated offset */
		"2026-11-27T10:00:00+25:00",
		"2026-11-27",            /* date only */
		"2026-11-27X10:00:00",
		"26-11-27T10:00:00Z",
		"2026/11/27 10:00:00",
		"12345678",              /* 8 digits: neither a date nor an epoch */
		"17956800001234",        /* 14 digits */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_time_rejected(bad[i]);
}

static void test_time_rejects_impossible_calendar_days(void **state)
{
	(void)state;
	/* RFC 3339 §5.7: the day must exist in that month and year. Accepting these would
	 * silently move the event to another day (Feb 30 -> Mar 2). */
	assert_time_rejected("2026-02-30T10:00:00Z");
	assert_time_rejected("2026-04-31T10:00:00Z");
	assert_time_rejected("2025-02-29T10:00:00Z"); /* 2025 is not a leap year */
	assert_time_rejected("2100-02-29T10:00:00Z"); /* centuries are not, unless /400 */
	assert_time("2000-02-29T10:00:00Z", civil_utc(2000, 2, 29, 10, 0, 0));
	assert_time("2024-02-29T10:00:00Z", civil_utc(2024, 2, 29, 10, 0, 0));
}

static void assert_format(int64_t t)
{
	char buf[32], ref[32];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(ref, sizeof(ref), "%Y-%m-%dT%H:%M:%SZ", &tm);
	mmr_time_format(t, buf, sizeof(buf));
	if (strcmp(buf, ref) != 0)
		fail_msg("mmr_time_format(%lld) = \"%s\", expected \"%s\"", (long long)t, buf, ref);
	int64_t back = 0;
	if (mmr_time_parse(buf, &back) != 0 || back != t)
		fail_msg("round trip of %lld through \"%s\" gave %lld", (long long)t, buf,
			 (long long)back);
}

static void test_time_format_round_trip(void **state)
{
	(void)state;
	char buf[32];
	mmr_time_format(civil_utc(2024, 2, 29, 23, 59, 59), buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T23:59:59Z"); /* leap day */
	mmr_time_format(civil_utc(2024, 2, 29, 23, 59, 59) + 1, buf, sizeof(buf));
	assert_string_equal(buf, "2024-03-01T00:00:00Z");
	mmr_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	mmr_time_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59Z"); /* pre-1970 */

	static const int64_t samples[] = {
		0, 1, -1, -86400, -86401, 86399, 951782400 /* 2000-02-29 */, 1709251199,
		1795773600, 4102444800 /* 2100-01-01 */, -2203891200 /* 1900-03-01 */,
		-2208988800 /* 1900-01-01 */, 253402300799 /* 9999-12-31T23:59:59 */,
	};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		assert_format(samples[i]);
	/* a sweep of odd offsets over four centuries */
	for (int64_t t = -2208988800LL; t < 10000000000LL; t += 86400LL * 97 + 3671)
		assert_format(t);
}

static void test_time_from_civil(void **state)
{
	(void)state;
	assert_int_equal(mmr_time_from_civil(2026, 11, 27, 10, 0, 0, 0),
			 civil_utc(2026, 11, 27, 10, 0, 0));
	/* 19:00 at UTC+9 (east positive) is 10:00 UTC */
	assert_int_equal(mmr_time_from_civil(2026, 11, 27, 19, 0, 0, 9 * 3600),
			 civil_utc(2026, 11, 27, 10, 0, 0));
	assert_int_equal(mmr_time_from_civil(1969, 12, 31, 23, 59, 59, 0), -1);
}

/* ---- user names ---------------------------------------------------------------------------- */

static void test_user_case_and_domains(void **state)
{
	(void)state;
	assert_user("Alice", &STRIP, "alice");
	assert_user("ALICE", &STRIP, "alice");
	assert_user("CORP\\Bob", &STRIP, "bob");
	assert_user("bob@corp.example", &STRIP, "bob");
	assert_user("Bob@Corp.Example", &STRIP, "bob");
	assert_user("CORP\\Bob@corp.example", &STRIP, "bob"); /* both */
	assert_user("a\\b\\Carol", &STRIP, "carol");         /* last backslash wins */
	assert_user("dave@x@corp.example", &STRIP, "dave@x"); /* last @ is the domain */
	assert_user("j.smith-2", &STRIP, "j.smith-2");
}

static void test_user_whitespace(void **state)
{
	(void)state;
	assert_user("  Alice  ", &STRIP, "alice");
	assert_user("\tCORP\\Bob\n", &STRIP, "bob");
	assert_user(" bob@corp.example ", &STRIP, "bob");
	assert_user("   ", &STRIP, "");
}

static void test_user_keep_domain(void **state)
{
	(void)state;
	assert_user("CORP\\Bob", &KEEP, "bob@corp");
	assert_user("Bob@Corp.Example", &KEEP, "bob@corp.example");
	assert_user("  Eve  ", &KEEP, "eve");
}

static const mmr_user_norm KEEP_DFLT = {.strip_domain = false, .default_domain = "corp.example"};
static const mmr_user_norm STRIP_DFLT = {.strip_domain = true, .default_domain = "corp.example"};

static void test_user_keep_domain_default_domain(void **state)
{
	(void)state;
	/* SCHEMA.md §4, event.h: keep mode writes the domain in one form, "name@domain" */
	assert_user("CORP\\Bob", &KEEP_DFLT, "bob@corp");      /* the NT domain wins */
	assert_user("bob@Corp.Example", &KEEP_DFLT, "bob@corp.example");
	assert_user("bob@other.example", &KEEP_DFLT, "bob@other.example");
	assert_user("bob", &KEEP_DFLT, "bob@corp.example");
	assert_user("  Bob \t", &KEEP_DFLT, "bob@corp.example");
	assert_user("bob", &KEEP, "bob");                    /* no default: as it is */
	assert_user("   ", &KEEP_DFLT, "");                   /* empty stays empty */
	const mmr_user_norm upper = {.strip_domain = false, .default_domain = "CORP.Example"};
	assert_user("bob", &upper, "bob@corp.example");       /* keys are lower-case */
	/* strip mode ignores default_domain */
	assert_user("bob", &STRIP_DFLT, "bob");
	assert_user("CORP\\Bob", &STRIP_DFLT, "bob");
	assert_user("Bob@Corp.Example", &STRIP_DFLT, "bob");
}

static void test_user_keep_domain_truncation(void **state)
{
	(void)state;
	char out[32];
	bool trunc;
	/* "bob@corp.example" is 16 characters: 17 bytes fit it exactly */
	trunc = true;
	memset(out, 'X', sizeof(out));
	mmr_user_normalize("bob", &KEEP_DFLT, out, 17, &trunc);
	assert_false(trunc);
	assert_string_equal(out, "bob@corp.example");
	trunc = true;
	mmr_user_normalize("CORP\\bob", &KEEP_DFLT, out, 9, &trunc);
	assert_false(trunc);
	assert_string_equal(out, "bob@corp");
	/* one byte less: cut and flagged, never written past the buffer */
	static const size_t sizes[] = {16, 10, 5, 4, 2};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		trunc = false;
		memset(out, 'X', sizeof(out));
		mmr_user_normalize("Bob", &KEEP_DFLT, out, sizes[i], &trunc);
		assert_true(trunc);
		assert_true(strlen(out) < sizes[i]);
		assert_int_equal(out[sizes[i]], 'X');
		assert_int_equal(strncmp(out, "bob", strlen(out) < 3 ? strlen(out) : 3), 0);
	}
	trunc = false;
	mmr_user_normalize("CORP\\bob", &KEEP_DFLT, out, 8, &trunc);
	assert_true(trunc);
	assert_true(strlen(out) < 8);
	/* a name that fills the whole key: no room for any domain */
	char raw[MMR_USER_MAX + 1], key[MMR_USER_MAX];
	memset(raw, 'n', MMR_USER_MAX - 1);
	raw[MMR_USER_MAX - 1] = '\0';
	trunc = false;
	mmr_user_normalize(raw, &KEEP_DFLT, key, sizeof(key), &trunc);
	assert_true(trunc);
	assert_int_equal(strlen(key), MMR_USER_MAX - 1);
}

static void test_user_keep_domain_truncation_consistent(void **state)
{
	(void)state;
	/* With a default domain, a bare "bob" stands for "bob@corp.example": the two must give
	 * one key (that is what keep mode is for), also when the key has to be cut. A long name
	 * logged bare by sshd and with its domain by the IdP would otherwise become two users. */
	static const size_t sizes[] = {16, 10, 5};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char bare[32], full[32];
		bool t1 = false, t2 = false;
		mmr_user_normalize("bob", &KEEP_DFLT, bare, sizes[i], &t1);
		mmr_user_normalize("bob@corp.example", &KEEP_DFLT, full, sizes[i], &t2);
		assert_true(t1);
		assert_true(t2);
		if (strcmp(bare, full) != 0)
			fail_msg("key size %zu: \"bob\" with default domain -> \"%s\", but "
				 "\"bob@corp.example\" -> \"%s\"", sizes[i], bare, full);
	}
	char raw[MMR_USER_MAX + 32], bare[MMR_USER_MAX], full[MMR_USER_MAX];
	bool t1 = false, t2 = false;
	memset(raw, 'n', 120);
	raw[120] = '\0';
	mmr_user_normalize(raw, &KEEP_DFLT, bare, sizeof(bare), &t1);
	strcat(raw, "@corp.example");
	mmr_user_normalize(raw, &KEEP_DFLT, full, sizeof(full), &t2);
	assert_true(t1);
	assert_true(t2);
	if (strcmp(bare, full) != 0)
		fail_msg("120-character name: bare -> \"...%s\", with its domain -> \"...%s\"",
			 bare + 110, full + 110);
}

static void test_user_degenerate_domains(void **state)
{
	(void)state;
	/* a leading "@" has no account before it: keep the text rather than return "" */
	assert_user("@corp.example", &STRIP, "@corp.example");
}

static void test_user_truncation(void **state)
{
	(void)state;
	char raw[400], out[MMR_USER_MAX];
	bool trunc = false;

	/* exactly MMR_USER_MAX - 1 characters fit */
	memset(raw, 'A', MMR_USER_MAX - 1);
	raw[MMR_USER_MAX - 1] = '\0';
	mmr_user_normalize(raw, &STRIP, out, sizeof(out), &trunc);
	assert_false(trunc);
	assert_int_equal(strlen(out), MMR_USER_MAX - 1);
	assert_int_equal(out[0], 'a');

	/* one more is cut, flagged, and still NUL-terminated lower-case */
	memset(raw, 'A', sizeof(raw) - 1);
	raw[sizeof(raw) - 1] = '\0';
	trunc = false;
	mmr_user_normalize(raw, &STRIP, out, sizeof(out), &trunc);
	assert_true(trunc);
	assert_int_equal(strlen(out), MMR_USER_MAX - 1);
	for (size_t i = 0; i < MMR_USER_MAX - 1; i++)
		assert_int_equal(out[i], 'a');

	/* the length that counts is the key's, after the domain is stripped */
	memset(raw, 'b', 100);
	snprintf(raw + 100, sizeof(raw) - 100, "@%0200d", 0);
	trunc = true;
	mmr_user_normalize(raw, &STRIP, out, sizeof(out), &trunc);
	assert_false(trunc);
	assert_int_equal(strlen(out), 100);

	/* a small output buffer */
	char small[4];
	mmr_user_normalize("Abcdef", &STRIP, small, sizeof(small), &trunc);
	assert_true(trunc);
	assert_string_equal(small, "abc");
}

static void test_user_utf8_preserved(void **state)
{
	(void)state;
	/* bytes >= 0x80 are kept as they are; ASCII around them is lower-cased */
	assert_user("J\xC3\xBCRGEN", &STRIP, "j\xC3\xBCrgen");            /* "JüRGEN" */
	assert_user("CORP\\\xC3\x89lodie@corp.example", &STRIP, "\xC3\x89lodie"); /* É kept */
	assert_user("\xE7\x8E\x8B\xE5\xB0\x8F\xE6\x98\x8E", &STRIP,
		    "\xE7\x8E\x8B\xE5\xB0\x8F\xE6\x98\x8E"); /* CJK */
}

static void test_user_truncation_keeps_utf8_valid(void **state)
{
	(void)state;
	/* 126 ASCII bytes then "é" (2 bytes): 128 bytes do not fit in 127. Cutting between the
	 * two bytes of "é" would leave a lone lead byte, i.e. invalid UTF-8 in $!event.user and
	 * $!risk.user; the cut must fall on a character boundary. */
	char raw[MMR_USER_MAX + 8], out[MMR_USER_MAX];
	bool trunc = false;
	memset(raw, 'x', 126);
	raw[126] = (char)0xC3;
	raw[127] = (char)0xA9;
	raw[128] = '\0';
	mmr_user_normalize(raw, &STRIP, out, sizeof(out), &trunc);
	assert_true(trunc);
	size_t n = strlen(out);
	assert_true(n >= 126);
	if ((unsigned char)out[n - 1] >= 0xC0)
		fail_msg("truncated key ends with a dangling UTF-8 lead byte 0x%02X",
			 (unsigned char)out[n - 1]);
}

/* Output must stay valid UTF-8 whatever the input: RFC 3629 well-formed sequences pass,
 * everything else becomes '?'. */
static void test_utf8_sanitize(void **state)
{
	(void)state;
	struct {
		const char *in, *out;
		size_t bad;
	} c[] = {
		{"plain ascii", "plain ascii", 0},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0},
		{"b\xc3(ob", "b?(ob", 1},                 /* lead byte without continuation */
		{"\xc0\xaf", "??", 2},                       /* overlong '/' */
		{"\xed\xa0\x80", "???", 3},                 /* UTF-16 surrogate */
		{"\xf4\x90\x80\x80", "????", 4},           /* above U+10FFFF */
		{"\x80x\xff", "?x?", 2},                     /* stray continuation, 0xff */
		{"ab\xe2\x82", "ab??", 2},                   /* cut sequence at the end */
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", c[i].in);
		size_t bad = mmr_utf8_sanitize(buf);
		if (strcmp(buf, c[i].out) != 0 || bad != c[i].bad)
			fail_msg("case %zu: got \"%s\" (%zu replaced), expected \"%s\" (%zu)", i, buf, bad,
				 c[i].out, c[i].bad);
	}
}

/* Durations from attacker-controlled text must not overflow int64 (UB): rejected instead. */
static void test_duration_overflow_rejected(void **state)
{
	(void)state;
	char big[2048] = "";
	for (int i = 0; i < 120; i++)
		strcat(big, "999999999999d ");
	big[strlen(big) - 1] = '\0';
	int64_t v = 7;
	assert_int_equal(mmr_duration_parse(big, &v), -1);
	assert_int_equal(mmr_duration_parse("106751991167300d", &v), -1); /* > INT64_MAX s */
	assert_int_equal(mmr_duration_parse("106751991167d", &v), 0);
	assert_true(v > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_duration_overflow_rejected),
		cmocka_unit_test(test_ip_v4),
		cmocka_unit_test(test_ip_v6),
		cmocka_unit_test(test_ip_v4_mapped_folds_to_v4),
		cmocka_unit_test(test_ip_brackets),
		cmocka_unit_test(test_ip_garbage),
		cmocka_unit_test(test_ip_overlong),
		cmocka_unit_test(test_ip_format_errors),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_clock_and_seconds),
		cmocka_unit_test(test_duration_rejects),
		cmocka_unit_test(test_duration_trailing_separator_rejected),
		cmocka_unit_test(test_time_rfc3339_utc),
		cmocka_unit_test(test_time_offsets),
		cmocka_unit_test(test_time_fractions),
		cmocka_unit_test(test_time_epoch),
		cmocka_unit_test(test_time_epoch_only_seconds_or_milliseconds),
		cmocka_unit_test(test_time_epoch_micro_and_nanoseconds),
		cmocka_unit_test(test_time_epoch_other_digit_counts_rejected),
		cmocka_unit_test(test_time_rejects),
		cmocka_unit_test(test_time_rejects_impossible_calendar_days),
		cmocka_unit_test(test_time_format_round_trip),
		cmocka_unit_test(test_time_from_civil),
		cmocka_unit_test(test_user_case_and_domains),
		cmocka_unit_test(test_user_whitespace),
		cmocka_unit_test(test_user_keep_domain),
		cmocka_unit_test(test_user_keep_domain_default_domain),
		cmocka_unit_test(test_user_keep_domain_truncation),
		cmocka_unit_test(test_user_keep_domain_truncation_consistent),
		cmocka_unit_test(test_user_degenerate_domains),
		cmocka_unit_test(test_user_truncation),
		cmocka_unit_test(test_user_utf8_preserved),
		cmocka_unit_test(test_user_truncation_keeps_utf8_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
