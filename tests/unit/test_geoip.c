/* Unit tests of engine/enrich/geoip.c against geoip.h, on small MaxMind DB files that
 * tests/unit/make-test-mmdb.pl writes into a private temporary directory (group setup): City
 * and ASN schema fields for IPv4, IPv6 and IPv4-mapped addresses, registered_country
 * fallback, UTF-8 cut and sanitizing, absent addresses, the cache (hit counter, negative
 * entries, eviction), opening with one database, wrong/missing/garbage files, concurrent
 * lookups, and the haversine distance.
 *
 * The generator needs Perl's MaxMind::DB::Writer; without it every test is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrich/client.h"
#include "enrich/geoip.h"

static char tmpdir[] = "/tmp/mmr-geoip-XXXXXX";
static bool have_dbs;
static char city_db[PATH_MAX], asn_db[PATH_MAX], c4_db[PATH_MAX], other_db[PATH_MAX];

/* ---- fixture --------------------------------------------------------------------------------- */

static void script_path(char *buf, size_t len)
{
	const char *src = getenv("MMRISK_SRCDIR");
	if (src && *src) {
		snprintf(buf, len, "%s/tests/unit/make-test-mmdb.pl", src);
		return;
	}
	/* not run by make check: next to this source file */
	const char *f = __FILE__, *slash = strrchr(f, '/');
	if (slash)
		snprintf(buf, len, "%.*s/make-test-mmdb.pl", (int)(slash - f), f);
	else
		snprintf(buf, len, "make-test-mmdb.pl");
}

static int group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	char script[PATH_MAX];
	script_path(script, sizeof(script));
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("perl", "perl", script, tmpdir, (char *)NULL);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st) == 77) {
		fprintf(stderr, "make-test-mmdb.pl: MaxMind::DB::Writer missing, skipping\n");
		return 0;
	}
	if (WEXITSTATUS(st) != 0) {
		fprintf(stderr, "perl %s %s: exit %d\n", script, tmpdir, WEXITSTATUS(st));
		return -1;
	}
	snprintf(city_db, sizeof(city_db), "%s/city.mmdb", tmpdir);
	snprintf(asn_db, sizeof(asn_db), "%s/asn.mmdb", tmpdir);
	snprintf(c4_db, sizeof(c4_db), "%s/country4.mmdb", tmpdir);
	snprintf(other_db, sizeof(other_db), "%s/other.mmdb", tmpdir);
	have_dbs = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	DIR *d = opendir(tmpdir);
	if (d) {
		struct dirent *e;
		char p[PATH_MAX + 300];
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

/* Per-test: a fresh handle with both databases (fresh cache and counters). */
static int setup(void **state)
{
	if (!have_dbs) {
		*state = NULL;
		return 0;
	}
	char err[512] = "";
	mmr_geoip *g = mmr_geoip_open(city_db, asn_db, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "mmr_geoip_open: %s\n", err);
		return -1;
	}
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	mmr_geoip_close(*state);
	return 0;
}

#define NEED_DBS()                                                                            \
	do {                                                                                  \
		if (!have_dbs)                                                                \
			skip();                                                               \
	} while (0)

static mmr_ip ip(const char *s)
{
	mmr_ip a;
	if (mmr_ip_parse(s, &a) != 0)
		fail_msg("mmr_ip_parse(%s)", s);
	return a;
}

static bool look(mmr_geoip *g, const char *addr, mmr_geo *out)
{
	mmr_ip a = ip(addr);
	return mmr_geoip_lookup(g, &a, out);
}

static bool geo_equal(const mmr_geo *a, const mmr_geo *b)
{
	return strcmp(a->country, b->country) == 0 && strcmp(a->city, b->city) == 0 &&
	       a->has_location == b->has_location && a->lat == b->lat && a->lon == b->lon &&
	       a->accuracy_km == b->accuracy_km && a->asn == b->asn &&
	       strcmp(a->as_org, b->as_org) == 0;
}

static void assert_empty(const mmr_geo *o)
{
	assert_string_equal(o->country, "");
	assert_string_equal(o->city, "");
	assert_false(o->has_location);
	assert_int_equal(o->accuracy_km, 0);
	assert_int_equal(o->asn, 0);
	assert_string_equal(o->as_org, "");
}

static void assert_near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("%f is not within %f of %f", got, tol, want);
}

/* ---- lookups --------------------------------------------------------------------------------- */

static void test_lookup_ipv4(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	assert_true(mmr_geoip_has_city(g));
	assert_true(mmr_geoip_has_asn(g));
	mmr_geo o;
	assert_true(look(g, "192.0.2.1", &o));
	assert_string_equal(o.country, "FR");
	assert_string_equal(o.city, "Paris");
	assert_true(o.has_location);
	assert_near(o.lat, 48.8566, 1e-9);
	assert_near(o.lon, 2.3522, 1e-9);
	assert_int_equal(o.accuracy_km, 20);
	assert_int_equal(o.asn, 64496);
	assert_string_equal(o.as_org, "Example Transit");

	assert_true(look(g, "198.51.100.254", &o));
	assert_string_equal(o.country, "GB");
	assert_string_equal(o.city, "London");
	assert_near(o.lat, 51.5074, 1e-9);
	assert_near(o.lon, -0.1278, 1e-9);
	assert_int_equal(o.accuracy_km, 50);
	assert_int_equal(o.asn, 64500);
	assert_string_equal(o.as_org, "Sample Net Ltd");

	/* location without accuracy_radius */
	assert_true(look(g, "192.0.2.200", &o));
	assert_string_equal(o.country, "ES");
	assert_true(o.has_location);
	assert_int_equal(o.accuracy_km, 0);
}

static void test_lookup_ipv6(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	mmr_geo o;
	assert_true(look(g, "2001:db8:1::5", &o));
	assert_string_equal(o.country, "BR");
	assert_string_equal(o.city, "S\xc3\xa3o Paulo");
	assert_true(o.has_location);
	assert_near(o.lat, -23.5505, 1e-9);
	assert_near(o.lon, -46.6333, 1e-9);
	assert_int_equal(o.accuracy_km, 100);
	assert_int_equal(o.asn, 64511);
	assert_string_equal(o.as_org, "\xc3\x9cn\xc3\xaf" "code Networks");

	/* lower-case iso_code comes out upper case; ASN number without organization */
	assert_true(look(g, "2001:db8:2:ffff::1", &o));
	assert_string_equal(o.country, "KP");
	assert_string_equal(o.city, "Pyongyang");
	assert_int_equal(o.accuracy_km, 500);
	assert_int_equal(o.asn, 4200000001u);
	assert_string_equal(o.as_org, "");
}

static void test_ipv4_mapped(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	mmr_geo v4, mapped, raw;
	assert_true(look(g, "198.51.100.7", &v4));
	/* the parser folds ::ffff:a.b.c.d to IPv4 ... */
	assert_true(look(g, "::ffff:198.51.100.7", &mapped));
	assert_true(geo_equal(&v4, &mapped));
	/* ... and a hand-made mapped IPv6 address is folded by the lookup itself */
	mmr_ip a = {.family = 6};
	const uint8_t b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
	memcpy(a.b, b, 16);
	assert_true(mmr_geoip_lookup(g, &a, &raw));
	assert_true(geo_equal(&v4, &raw));
	assert_string_equal(raw.city, "London");
}

static void test_registered_country_only(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	mmr_geo o;
	assert_true(look(g, "203.0.113.9", &o));
	assert_string_equal(o.country, "KP"); /* from registered_country */
	assert_string_equal(o.city, "");
	assert_false(o.has_location);
	assert_int_equal(o.accuracy_km, 0);
	assert_int_equal(o.asn, 64499);
	/* 73-byte organization cut to the 63 bytes mmr_geo keeps */
	assert_int_equal(strlen(o.as_org), sizeof(o.as_org) - 1);
	assert_string_equal(o.as_org,
			    "Very Long Organization Name Hosting Cloud Services Internationa");
}

static void test_utf8_cut_and_sanitize(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	mmr_geo o;
	/* 30 x "Ñ" (60 bytes) into 47: 23 whole characters, no half character */
	assert_true(look(g, "192.0.2.130", &o));
	assert_int_equal(strlen(o.city), 46);
	for (size_t i = 0; i < 46; i += 2) {
		assert_int_equal((unsigned char)o.city[i], 0xc3);
		assert_int_equal((unsigned char)o.city[i + 1], 0x91);
	}
	/* invalid bytes in the file come out as '?' */
	assert_true(look(g, "2001:db8:3::1", &o));
	assert_int_equal(o.asn, 64512);
	assert_string_equal(o.as_org, "BAD????ORG");
	assert_string_equal(o.country, "");
}

static void test_absent(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	mmr_geo o;
	memset(&o, 0x5a, sizeof(o));
	assert_false(look(g, "8.8.8.8", &o));
	assert_empty(&o);
	memset(&o, 0x5a, sizeof(o));
	assert_false(look(g, "2001:db8:ffff::1", &o));
	assert_empty(&o);
	assert_false(look(g, "10.1.2.3", &o));
	assert_empty(&o);

	uint64_t l0, h0, l1, h1;
	mmr_geoip_counters(g, &l0, &h0);
	mmr_ip none = {.family = 0};
	memset(&o, 0x5a, sizeof(o));
	assert_false(mmr_geoip_lookup(g, &none, &o));
	assert_empty(&o);
	mmr_ip bad = {.family = 5};
	assert_false(mmr_geoip_lookup(g, &bad, &o));
	assert_false(mmr_geoip_lookup(g, NULL, &o));
	mmr_geoip_counters(g, &l1, &h1);
	assert_int_equal(l1, l0); /* no address: not a lookup */

	/* no handle */
	mmr_ip a = ip("192.0.2.1");
	memset(&o, 0x5a, sizeof(o));
	assert_false(mmr_geoip_lookup(NULL, &a, &o));
	assert_empty(&o);
	assert_false(mmr_geoip_has_city(NULL));
	assert_false(mmr_geoip_has_asn(NULL));
	mmr_geoip_counters(NULL, &l1, &h1);
	assert_int_equal(l1, 0);
	assert_int_equal(h1, 0);
	mmr_geoip_close(NULL);
}

/* ---- cache ----------------------------------------------------------------------------------- */

static void test_cache(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	uint64_t l, h;
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(l, 0);
	assert_int_equal(h, 0);

	mmr_geo first, again;
	assert_true(look(g, "192.0.2.1", &first));
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(l, 1);
	assert_int_equal(h, 0);
	assert_true(look(g, "192.0.2.1", &again));
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(l, 2);
	assert_int_equal(h, 1);
	assert_true(geo_equal(&first, &again));

	/* the IPv4-mapped form of a cached address is the same key */
	assert_true(look(g, "::ffff:192.0.2.1", &again));
	assert_true(geo_equal(&first, &again));
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(h, 2);

	/* a neighbour in the same network is a different key: a miss, same answer */
	assert_true(look(g, "192.0.2.2", &again));
	assert_true(geo_equal(&first, &again));
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(l, 4);
	assert_int_equal(h, 2);

	/* negative results are cached too, and stay negative */
	assert_false(look(g, "8.8.4.4", &again));
	assert_false(look(g, "8.8.4.4", &again));
	assert_empty(&again);
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(l, 6);
	assert_int_equal(h, 3);

	/* a flood of addresses in distinct /24s (the address cache's groups; far more than its
	 * slots can keep) evicts, never confuses */
	int hits_found = 0;
	for (int i = 0; i < 40000; i++) {
		mmr_ip a = {.family = 4, .b = {8, (uint8_t)(i >> 8), (uint8_t)i, 1}};
		if (mmr_geoip_lookup(g, &a, &again))
			hits_found++;
	}
	assert_int_equal(hits_found, 0);
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(l, 40006);
	assert_true(h < 3 + 100); /* all distinct: essentially no hits */
	assert_true(look(g, "192.0.2.1", &again));
	assert_true(geo_equal(&first, &again));
	assert_true(look(g, "2001:db8:1::5", &again));
	assert_string_equal(again.country, "BR");
}

/* A network covering the address's whole /24 (/64): one address cache entry serves the
 * group. A network smaller than the group does not: each address is its own key, and a
 * neighbour in another network gets that network's answer. */
static void test_cache_groups(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	mmr_geoip_cache_stats st;
	mmr_geo a, b;

	/* 198.51.100.0/24 in both databases: the whole /24 is one entry */
	assert_true(look(g, "198.51.100.7", &a));
	assert_true(look(g, "198.51.100.200", &b));
	assert_true(geo_equal(&a, &b));
	mmr_geoip_get_cache_stats(g, &st);
	assert_int_equal(st.lookups, 2);
	assert_int_equal(st.address_hits, 1);

	/* 192.0.2.0/24: two /25s in the city database (Paris, then an ES city) */
	assert_true(look(g, "192.0.2.1", &a));
	assert_string_equal(a.city, "Paris");
	assert_true(look(g, "192.0.2.1", &a));
	assert_string_equal(a.city, "Paris");
	assert_true(look(g, "192.0.2.200", &b));
	assert_string_equal(b.country, "ES");
	assert_true(look(g, "192.0.2.2", &a));
	assert_string_equal(a.city, "Paris");
	mmr_geoip_get_cache_stats(g, &st);
	assert_int_equal(st.address_hits, 2); /* only the repeated 192.0.2.1 */

	/* nothing there: the empty range covers the /24 too, and stays empty */
	assert_false(look(g, "8.8.8.8", &a));
	assert_false(look(g, "8.8.8.9", &a));
	assert_empty(&a);
	mmr_geoip_get_cache_stats(g, &st);
	assert_int_equal(st.address_hits, 3);

	/* IPv6: the group is the /64 */
	assert_true(look(g, "2001:db8:1::5", &a));
	assert_true(look(g, "2001:db8:1::ffff:1", &b));
	assert_true(geo_equal(&a, &b));
	mmr_geoip_get_cache_stats(g, &st);
	assert_int_equal(st.address_hits, 4);

	/* another /64 of the same /48: an address miss, but both records are already decoded */
	uint64_t rl = st.record_lookups, rh = st.record_hits;
	assert_true(look(g, "2001:db8:1:2::5", &b));
	assert_true(geo_equal(&a, &b));
	assert_string_equal(b.city, "S\xc3\xa3o Paulo");
	mmr_geoip_get_cache_stats(g, &st);
	assert_int_equal(st.address_hits, 4);
	assert_int_equal(st.record_lookups, rl + 2);
	assert_int_equal(st.record_hits, rh + 2);

	/* the size is fixed at open and reported */
	assert_int_equal(st.address_slots, 65536);
	assert_int_equal(st.record_slots, 2 * 16384);
	assert_true(st.bytes > 4u << 20 && st.bytes < 5u << 20);
	mmr_geoip_get_cache_stats(NULL, &st);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.lookups, 0);
}

/* The AS organisation's class (enrich/client.h) comes with the record, computed once. */
static void test_org_class(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	mmr_geo o;
	for (int round = 0; round < 2; round++) { /* decoded, then from the caches */
		assert_true(look(g, "2001:db8:4::1", &o));
		assert_string_equal(o.as_org, "Horizon WIRELESS");
		assert_int_equal(o.org_class, MMR_ORG_CARRIER);
		assert_true(look(g, "2001:db8:5::1", &o));
		assert_int_equal(o.org_class, MMR_ORG_INFLIGHT);
		assert_true(look(g, "192.0.2.1", &o));
		assert_int_equal(o.org_class, 0);
	}
	assert_false(look(g, "8.8.8.8", &o));
	assert_int_equal(o.org_class, 0);
}

/* ---- opening --------------------------------------------------------------------------------- */

static void test_city_only(void **state)
{
	(void)state;
	NEED_DBS();
	char err[512] = "x";
	mmr_geoip *g = mmr_geoip_open(city_db, NULL, err, sizeof(err));
	assert_non_null(g);
	assert_string_equal(err, "");
	assert_true(mmr_geoip_has_city(g));
	assert_false(mmr_geoip_has_asn(g));
	mmr_geo o;
	assert_true(look(g, "192.0.2.1", &o));
	assert_string_equal(o.country, "FR");
	assert_string_equal(o.city, "Paris");
	assert_int_equal(o.asn, 0);
	assert_string_equal(o.as_org, "");
	/* an address only the ASN database knows */
	assert_false(look(g, "2001:db8:3::1", &o));
	assert_empty(&o);
	mmr_geoip_close(g);

	/* an empty path means "not configured" like NULL */
	g = mmr_geoip_open(city_db, "", err, sizeof(err));
	assert_non_null(g);
	assert_false(mmr_geoip_has_asn(g));
	mmr_geoip_close(g);
}

static void test_asn_only(void **state)
{
	(void)state;
	NEED_DBS();
	char err[512];
	mmr_geoip *g = mmr_geoip_open(NULL, asn_db, err, sizeof(err));
	assert_non_null(g);
	assert_false(mmr_geoip_has_city(g));
	assert_true(mmr_geoip_has_asn(g));
	mmr_geo o;
	assert_true(look(g, "192.0.2.1", &o));
	assert_int_equal(o.asn, 64496);
	assert_string_equal(o.as_org, "Example Transit");
	assert_string_equal(o.country, "");
	assert_string_equal(o.city, "");
	assert_false(o.has_location);
	mmr_geoip_close(g);
}

static void test_country_ipv4_only_db(void **state)
{
	(void)state;
	NEED_DBS();
	char err[512];
	mmr_geoip *g = mmr_geoip_open(c4_db, NULL, err, sizeof(err));
	assert_non_null(g); /* a Country database is accepted as the city database */
	mmr_geo o;
	assert_true(look(g, "198.51.100.7", &o));
	assert_string_equal(o.country, "JP");
	assert_string_equal(o.city, "");
	assert_false(o.has_location);
	/* IPv6 in an IPv4-only tree: not found, not an error */
	assert_false(look(g, "2001:db8:1::5", &o));
	assert_empty(&o);
	assert_false(look(g, "192.0.2.1", &o));
	mmr_geoip_close(g);
}

static void assert_err_has(const char *err, const char *a, const char *b)
{
	if (strstr(err, a) == NULL || (b && strstr(err, b) == NULL))
		fail_msg("error \"%s\" does not name \"%s\"%s%s", err, a, b ? " and " : "",
			 b ? b : "");
}

static void test_wrong_type(void **state)
{
	(void)state;
	NEED_DBS();
	char err[512] = "";
	/* ASN file given as the city database */
	assert_null(mmr_geoip_open(asn_db, NULL, err, sizeof(err)));
	assert_err_has(err, asn_db, "GeoLite2-ASN");
	assert_err_has(err, "City or Country", NULL);
	/* and the other way round */
	err[0] = '\0';
	assert_null(mmr_geoip_open(NULL, city_db, err, sizeof(err)));
	assert_err_has(err, city_db, "GeoLite2-City");
	/* swapped */
	err[0] = '\0';
	assert_null(mmr_geoip_open(asn_db, city_db, err, sizeof(err)));
	assert_err_has(err, asn_db, "GeoLite2-ASN");
	/* a type the module does not read, in either place; the good city database opened
	 * first is closed again (ASan would report the leak) */
	err[0] = '\0';
	assert_null(mmr_geoip_open(other_db, NULL, err, sizeof(err)));
	assert_err_has(err, other_db, "GeoIP2-Connection-Type");
	err[0] = '\0';
	assert_null(mmr_geoip_open(city_db, other_db, err, sizeof(err)));
	assert_err_has(err, other_db, "GeoIP2-Connection-Type");
	assert_err_has(err, "ASN", NULL);
}

static void test_missing_file(void **state)
{
	(void)state;
	NEED_DBS();
	char err[512] = "", path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/no-such.mmdb", tmpdir);
	assert_null(mmr_geoip_open(path, NULL, err, sizeof(err)));
	assert_err_has(err, path, strerror(ENOENT));
	err[0] = '\0';
	assert_null(mmr_geoip_open(city_db, path, err, sizeof(err)));
	assert_err_has(err, path, "ASN");
	/* a small error buffer is filled, cut, terminated */
	char small[16];
	memset(small, 'x', sizeof(small));
	assert_null(mmr_geoip_open(path, NULL, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	/* and no buffer at all is tolerated */
	assert_null(mmr_geoip_open(path, NULL, NULL, 0));
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_garbage_file(void **state)
{
	(void)state;
	NEED_DBS();
	char path[PATH_MAX + 32], err[512] = "";
	static uint8_t junk[65536];
	uint32_t x = 2463534242u; /* xorshift32: reproducible "random" bytes */
	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (uint8_t)x;
	}
	snprintf(path, sizeof(path), "%s/garbage.mmdb", tmpdir);
	write_file(path, junk, sizeof(junk));
	assert_null(mmr_geoip_open(path, NULL, err, sizeof(err)));
	assert_err_has(err, path, "city");
	err[0] = '\0';
	assert_null(mmr_geoip_open(NULL, path, err, sizeof(err)));
	assert_err_has(err, path, "ASN");

	snprintf(path, sizeof(path), "%s/empty.mmdb", tmpdir);
	write_file(path, "", 0);
	err[0] = '\0';
	assert_null(mmr_geoip_open(path, NULL, err, sizeof(err)));
	assert_err_has(err, path, NULL);

	/* a real database cut in half: the metadata (at the end) is gone */
	FILE *f = fopen(city_db, "rb");
	assert_non_null(f);
	static uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > 100);
	snprintf(path, sizeof(path), "%s/half.mmdb", tmpdir);
	write_file(path, buf, n / 2);
	err[0] = '\0';
	assert_null(mmr_geoip_open(path, NULL, err, sizeof(err)));
	assert_err_has(err, path, NULL);

	/* a directory */
	err[0] = '\0';
	assert_null(mmr_geoip_open(tmpdir, NULL, err, sizeof(err)));
	assert_err_has(err, tmpdir, NULL);
}

static void test_null_paths(void **state)
{
	(void)state;
	char err[512] = "";
	assert_null(mmr_geoip_open(NULL, NULL, err, sizeof(err)));
	assert_true(strlen(err) > 0);
	err[0] = '\0';
	assert_null(mmr_geoip_open("", "", err, sizeof(err)));
	assert_true(strlen(err) > 0);
	assert_null(mmr_geoip_open(NULL, NULL, NULL, 0));
}

/* ---- threads --------------------------------------------------------------------------------- */

static const char *const thread_ips[] = {
	"192.0.2.1",   "192.0.2.77",    "192.0.2.200", "198.51.100.7", "203.0.113.5",
	"2001:db8:1::5", "2001:db8:2::1", "2001:db8:3::9", "8.8.8.8",    "2001:db8:ffff::1",
	"::ffff:198.51.100.9", "10.0.0.1",
};
#define NIPS (sizeof(thread_ips) / sizeof(thread_ips[0]))
#define ROUNDS 20000

typedef struct {
	mmr_geoip *g;
	const mmr_geo *want;
	const bool *want_found;
	unsigned seed;
	long bad;
} worker;

static void *run_worker(void *arg)
{
	worker *w = arg;
	mmr_ip a[NIPS];
	for (size_t i = 0; i < NIPS; i++)
		mmr_ip_parse(thread_ips[i], &a[i]);
	unsigned x = w->seed;
	for (int r = 0; r < ROUNDS; r++) {
		x = x * 1103515245u + 12345u;
		size_t i = (x >> 16) % NIPS;
		mmr_geo o;
		bool f = mmr_geoip_lookup(w->g, &a[i], &o);
		if (f != w->want_found[i] || !geo_equal(&o, &w->want[i]))
			w->bad++;
		/* and some distinct addresses, so that slots are replaced while others read */
		if ((r & 7) == 0) {
			mmr_ip m = {.family = 4, .b = {8, 8, (uint8_t)(x >> 8), (uint8_t)(x >> 24)}};
			if (mmr_geoip_lookup(w->g, &m, &o))
				w->bad++;
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	NEED_DBS();
	mmr_geoip *g = *state;
	/* expected answers from a separate handle */
	char err[512];
	mmr_geoip *ref = mmr_geoip_open(city_db, asn_db, err, sizeof(err));
	assert_non_null(ref);
	mmr_geo want[NIPS];
	bool found[NIPS];
	int nfound = 0;
	for (size_t i = 0; i < NIPS; i++) {
		found[i] = look(ref, thread_ips[i], &want[i]);
		nfound += found[i];
	}
	mmr_geoip_close(ref);
	assert_int_equal(nfound, 9);

	enum { T = 4 };
	pthread_t t[T];
	worker w[T];
	for (int i = 0; i < T; i++) {
		w[i] = (worker){.g = g, .want = want, .want_found = found, .seed = 17u * (i + 1)};
		assert_int_equal(pthread_create(&t[i], NULL, run_worker, &w[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	uint64_t l, h;
	mmr_geoip_counters(g, &l, &h);
	assert_int_equal(l, (uint64_t)T * (ROUNDS + ROUNDS / 8));
	assert_true(h > (uint64_t)T * ROUNDS / 2); /* the 12 addresses stay cached mostly */
}

/* ---- distance -------------------------------------------------------------------------------- */

static void test_distance(void **state)
{
	(void)state;
	/* Paris - London: 343.5 km great-circle (R = 6371 km) */
	double d = mmr_geo_distance_km(48.8566, 2.3522, 51.5074, -0.1278);
	assert_near(d, 343.5, 343.5 * 0.01);
	assert_near(mmr_geo_distance_km(51.5074, -0.1278, 48.8566, 2.3522), d, 1e-9);
	/* New York - Los Angeles: 3936 km */
	assert_near(mmr_geo_distance_km(40.7128, -74.0060, 34.0522, -118.2437), 3936, 3936 * 0.01);
	/* Pyongyang - Beijing: about 810 km */
	assert_near(mmr_geo_distance_km(39.0392, 125.7625, 39.9042, 116.4074), 810, 810 * 0.02);
	/* same point, antipodes (half the circumference, pi * R), one degree of equator */
	assert_near(mmr_geo_distance_km(10, 20, 10, 20), 0, 1e-9);
	assert_near(mmr_geo_distance_km(0, 0, 0, 180), M_PI * 6371, 1e-6);
	assert_near(mmr_geo_distance_km(90, 0, -90, 0), M_PI * 6371, 1e-6);
	assert_near(mmr_geo_distance_km(0, 0, 1, 0), M_PI * 6371 / 180, 1e-6);
	/* across the antimeridian: 1 degree, not 359 */
	assert_near(mmr_geo_distance_km(0, 179.5, 0, -179.5), M_PI * 6371 / 180, 1e-6);
	/* nearly antipodal points: no NaN from rounding */
	d = mmr_geo_distance_km(0.0000001, 0, -0.0000001, 180);
	assert_false(isnan(d));
	assert_true(d <= M_PI * 6371 + 1e-6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_ipv4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registered_country_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8_cut_and_sanitize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_org_class, setup, teardown),
		cmocka_unit_test(test_city_only),
		cmocka_unit_test(test_asn_only),
		cmocka_unit_test(test_country_ipv4_only_db),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_garbage_file),
		cmocka_unit_test(test_null_paths),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test(test_distance),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
