/* GeoIP and ASN lookups (geoip.h) in MaxMind DB files through libmaxminddb.
 *
 * Databases: MMDB_open(MMDB_MODE_MMAP); the mapping is shared read-only by all threads
 * (libmaxminddb lookups on one MMDB_s are thread-safe). The database type in the metadata is
 * checked at open so that a swapped or wrong file is a clear error instead of a database that
 * silently finds nothing:
 *   city file: database_type contains "City", "Country" or "Enterprise" (GeoLite2-City,
 *              GeoIP2-City, GeoLite2-Country, GeoIP2-Enterprise, DBIP-City-Lite, ...)
 *   ASN file:  database_type contains "ASN" or "ISP" (GeoLite2-ASN, DBIP-ASN-Lite, GeoIP2-ISP)
 *
 * Fields read (MaxMind GeoIP2 schema, which DB-IP's lite files follow):
 *   country.iso_code, else registered_country.iso_code   -> country (2 letters, upper-cased)
 *   city.names.en                                         -> city
 *   location.latitude, location.longitude                 -> lat, lon, has_location
 *   location.accuracy_radius                              -> accuracy_km
 *   autonomous_system_number, autonomous_system_organization -> asn, as_org
 * Strings in the database are not NUL-terminated: they are copied with their length, cut on a
 * UTF-8 character boundary when too long, and sanitized (mmr_utf8_sanitize) because a file
 * from anywhere must not put invalid UTF-8 into our JSON output. Paths are passed as static
 * arrays (MMDB_aget_value): MMDB_get_value's variadic form allocates, this does not.
 *
 * Addresses: IPv4 is looked up as AF_INET (libmaxminddb finds the IPv4 subtree of an IPv6
 * database itself); IPv4-mapped IPv6 (::ffff:a.b.c.d) is folded to IPv4 first, because MaxMind
 * trees do not all alias ::ffff:0:0/96. An IPv6 address in an IPv4-only database is "not
 * found", not an error.
 *
 * Cache: two levels, allocated once at open (docs/geoip.md), so that a lookup never allocates
 * and most lookups decode nothing.
 *
 *   addresses  ADDR_SLOTS (65,536) direct-mapped slots of 28 bytes (1.75 MiB): the address ->
 *              where its records are in the two databases (the data-section offsets that
 *              MMDB_lookup_sockaddr's tree walk finds, or "none"). MMDB_lookup_sockaddr also
 *              returns the prefix length of the network the address is in: any address in
 *              that network has the same record. When both databases' networks cover the
 *              address's whole group (its /24 for IPv4, its /64 for IPv6), the slot holds
 *              for the group and every address of the group hits it; otherwise it holds for
 *              the one address. The slot is chosen by the group, so both kinds are found
 *              with one probe (a group whose networks are smaller than the group shares one
 *              slot among its addresses).
 *   records    per database RECORD_SLOTS (16,384) direct-mapped slots of 80 bytes (1.25 MiB
 *              each): a data-section offset -> the fields decoded from that record (and, for
 *              an ASN record, the class of its organisation name, enrich/client.h). Many
 *              networks share one record (a city's, an ISP's), so an address seen for the
 *              first time usually costs the two tree walks and no decoding: MMDB_aget_value
 *              walks the record's maps comparing keys, about 1,000 instructions a field.
 *
 * In all about 4.3 MiB, whatever the traffic (mmr_geoip_cache_stats reports it; calloc'd, so
 * slots never used cost no resident memory). Slots are chosen by a 64-bit hash mixed with a
 * seed drawn at open (getrandom), so that nobody can aim a stream of addresses at one slot to
 * keep evicting a busy one. Each cache has STRIPES (64) mutexes, slot i under mutex
 * i % STRIPES, held only to compare or copy one slot; the database walks and decoding run
 * unlocked, so a miss never blocks other threads. Results are cached whether or not anything
 * was found (a flood of unknown addresses is as cheap as a flood of known ones). A collision
 * simply replaces the older entry. Counters are relaxed atomics.
 *
 * Distance: haversine formula (R. W. Sinnott, "Virtues of the Haversine", Sky and Telescope
 * 68(2):159, 1984), mean Earth radius 6371 km (IUGG mean radius R1 = 6371.0088 km).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <maxminddb.h>

#include "enrich/geoip.h"
#include "enrich/client.h"

#define STRIPES 64u
#define ADDR_SLOTS 65536u   /* power of two */
#define RECORD_SLOTS 16384u /* power of two, per database */
#define GROUP4_BITS 24       /* an IPv4 address's group: its /24 */
#define GROUP6_BITS 64       /* an IPv6 address's group: its /64 */
#define NO_RECORD UINT32_MAX /* not in the database (or the database is not configured) */

enum { CITY, ASN };

typedef struct {
	uint8_t addr[16]; /* normalized address (family 4: b[0..3], the rest zero) */
	uint8_t family;   /* 0 = empty slot */
	bool whole;       /* holds for every address of addr's group */
	uint32_t rec[2];  /* data-section offset of the CITY and ASN record, or NO_RECORD */
} addr_slot;

/* What one record of each kind gives; mmr_geo is the union of both. */
typedef struct {
	char country[3];
	char city[sizeof(((mmr_geo *)0)->city)];
	bool has_location;
	uint16_t accuracy_km;
	double lat, lon;
} city_fields;

typedef struct {
	uint32_t asn;
	uint8_t org_class;
	char as_org[sizeof(((mmr_geo *)0)->as_org)];
} asn_fields;

typedef struct {
	uint32_t off;
	bool used;
	bool any; /* the record gave at least one field */
	union {
		city_fields city;
		asn_fields asn;
	} f;
} record_slot;

struct mmr_geoip {
	MMDB_s db[2]; /* CITY, ASN */
	bool has[2];
	uint64_t seed;
	addr_slot *addr;      /* ADDR_SLOTS */
	record_slot *rec[2];  /* RECORD_SLOTS each, NULL when the database is not configured */
	pthread_mutex_t addr_mu[STRIPES], rec_mu[2][STRIPES];
	_Atomic uint64_t lookups, cache_hits, record_lookups, record_hits;
};

/* ---- open / close --------------------------------------------------------------------------- */

static bool type_has(const char *type, const char *const *words)
{
	if (type == NULL)
		return false;
	for (; *words; words++)
		if (strstr(type, *words) != NULL)
			return true;
	return false;
}

/* A private in-memory copy of the file (memfd), or -1 when one cannot be made (then the file
 * itself is mapped, as before). */
static int private_copy(const char *path)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = memfd_create("mmriskscore-geoip", MFD_CLOEXEC);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[1 << 16];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				close(in);
				close(out);
				return -1;
			}
			off += w;
		}
	}
	close(in);
	if (n < 0) {
		close(out);
		return -1;
	}
	return out;
}

static const char *const city_types[] = {"City", "Country", "Enterprise", NULL};
static const char *const asn_types[] = {"ASN", "ISP", NULL};

/* Opens one database and checks its type against types (other_types: what the other file
 * should be, to recognize a swap); on failure writes err and returns false. */
static bool open_one(MMDB_s *db, const char *path, const char *what, const char *const *types,
		     const char *expected, const char *const *other_types, char *err,
		     size_t errlen)
{
	/* libmaxminddb maps the file. A file replaced in place while mapped (cp over it
	 * truncates first; geoipupdate renames, which is safe) would make the next lookup die
	 * with SIGBUS, taking rsyslogd with it. So the database is copied into an anonymous
	 * memory file first and that copy is mapped: it costs the database's size in memory,
	 * and nothing outside this process can shrink it. */
	struct stat sb;
	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "GeoIP %s database %s: %s", what, path, strerror(errno));
		return false;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "GeoIP %s database %s: not a regular file", what, path);
		return false;
	}
	int mfd = private_copy(path);
	char mpath[64];
	if (mfd >= 0)
		snprintf(mpath, sizeof(mpath), "/proc/self/fd/%d", mfd);
	errno = 0;
	int st = MMDB_open(mfd >= 0 ? mpath : path, MMDB_MODE_MMAP, db);
	int e = errno;
	if (mfd >= 0)
		close(mfd); /* the mapping keeps the memory file alive */
	if (st != MMDB_SUCCESS) {
		if ((st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR) && e != 0)
			snprintf(err, errlen, "GeoIP %s database %s: %s (%s)", what, path,
				 MMDB_strerror(st), strerror(e));
		else
			snprintf(err, errlen, "GeoIP %s database %s: %s", what, path,
				 MMDB_strerror(st));
		return false;
	}
	const char *type = db->metadata.database_type;
	if (!type_has(type, types)) {
		snprintf(err, errlen, "GeoIP %s database %s: database type \"%s\" is not %s%s", what,
			 path, type ? type : "(none)", expected,
			 type_has(type, other_types) ? " (are the city and ASN files swapped?)" : "");
		MMDB_close(db);
		return false;
	}
	return true;
}

static uint64_t draw_seed(const void *salt)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^
		    (uint64_t)(uintptr_t)salt;
	}
	return s;
}

/* Closes the databases and frees g and its caches (not the mutexes). */
static void release(mmr_geoip *g)
{
	for (int d = CITY; d <= ASN; d++) {
		if (g->has[d])
			MMDB_close(&g->db[d]);
		free(g->rec[d]);
	}
	free(g->addr);
	free(g);
}

mmr_geoip *mmr_geoip_open(const char *city_path, const char *asn_path, char *err, size_t errlen)
{
	char dummy[1];
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (city_path && city_path[0] == '\0')
		city_path = NULL;
	if (asn_path && asn_path[0] == '\0')
		asn_path = NULL;
	if (city_path == NULL && asn_path == NULL) {
		snprintf(err, errlen, "GeoIP: neither a city nor an ASN database given");
		return NULL;
	}
	mmr_geoip *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		snprintf(err, errlen, "GeoIP: out of memory");
		return NULL;
	}
	if (city_path) {
		if (!open_one(&g->db[CITY], city_path, "city", city_types,
			      "a City or Country database", asn_types, err, errlen)) {
			free(g);
			return NULL;
		}
		g->has[CITY] = true;
	}
	if (asn_path) {
		if (!open_one(&g->db[ASN], asn_path, "ASN", asn_types, "an ASN database",
			      city_types, err, errlen)) {
			if (g->has[CITY])
				MMDB_close(&g->db[CITY]);
			free(g);
			return NULL;
		}
		g->has[ASN] = true;
	}
	g->addr = calloc(ADDR_SLOTS, sizeof(addr_slot));
	for (int d = CITY; d <= ASN; d++)
		if (g->has[d])
			g->rec[d] = calloc(RECORD_SLOTS, sizeof(record_slot));
	if (g->addr == NULL || (g->has[CITY] && g->rec[CITY] == NULL) ||
	    (g->has[ASN] && g->rec[ASN] == NULL)) {
		snprintf(err, errlen, "GeoIP: out of memory for the cache");
		release(g);
		return NULL;
	}
	for (unsigned i = 0; i < STRIPES; i++) {
		pthread_mutex_init(&g->addr_mu[i], NULL);
		pthread_mutex_init(&g->rec_mu[CITY][i], NULL);
		pthread_mutex_init(&g->rec_mu[ASN][i], NULL);
	}
	g->seed = draw_seed(g);
	atomic_init(&g->lookups, 0);
	atomic_init(&g->cache_hits, 0);
	atomic_init(&g->record_lookups, 0);
	atomic_init(&g->record_hits, 0);
	return g;
}

void mmr_geoip_close(mmr_geoip *g)
{
	if (g == NULL)
		return;
	for (unsigned i = 0; i < STRIPES; i++) {
		pthread_mutex_destroy(&g->addr_mu[i]);
		pthread_mutex_destroy(&g->rec_mu[CITY][i]);
		pthread_mutex_destroy(&g->rec_mu[ASN][i]);
	}
	release(g);
}

bool mmr_geoip_has_city(const mmr_geoip *g)
{
	return g != NULL && g->has[CITY];
}

bool mmr_geoip_has_asn(const mmr_geoip *g)
{
	return g != NULL && g->has[ASN];
}

void mmr_geoip_counters(mmr_geoip *g, uint64_t *lookups, uint64_t *cache_hits)
{
	mmr_geoip_cache_stats st;
	mmr_geoip_get_cache_stats(g, &st);
	if (lookups)
		*lookups = st.lookups;
	if (cache_hits)
		*cache_hits = st.address_hits;
}

void mmr_geoip_get_cache_stats(mmr_geoip *g, mmr_geoip_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (g == NULL)
		return;
	st->address_slots = ADDR_SLOTS;
	st->record_slots = (g->has[CITY] ? RECORD_SLOTS : 0) + (g->has[ASN] ? RECORD_SLOTS : 0);
	st->bytes = sizeof(*g) + (size_t)st->address_slots * sizeof(addr_slot) +
		    (size_t)st->record_slots * sizeof(record_slot);
	st->lookups = atomic_load_explicit(&g->lookups, memory_order_relaxed);
	st->address_hits = atomic_load_explicit(&g->cache_hits, memory_order_relaxed);
	st->record_lookups = atomic_load_explicit(&g->record_lookups, memory_order_relaxed);
	st->record_hits = atomic_load_explicit(&g->record_hits, memory_order_relaxed);
}

/* ---- reading one record ------------------------------------------------------------------- */

/* Copies a database string (not NUL-terminated) into dst[cap], cut on a UTF-8 character
 * boundary, sanitized. Returns true when something non-empty was copied. */
static bool copy_str(const MMDB_entry_data_s *d, char *dst, size_t cap)
{
	if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size == 0)
		return false;
	size_t n = d->data_size;
	if (n > cap - 1) {
		/* cut at cap - 1; when the first byte left out is a continuation byte, the cut
		 * falls inside a character: drop that character's leading bytes too */
		const unsigned char *s = (const unsigned char *)d->utf8_string;
		n = cap - 1;
		size_t k = n;
		while (k > 0 && n - k < 3 && (s[k] & 0xc0) == 0x80)
			k--;
		if ((s[n] & 0xc0) == 0x80)
			n = k;
	}
	memcpy(dst, d->utf8_string, n);
	dst[n] = '\0';
	mmr_utf8_sanitize(dst);
	return n > 0;
}

static bool get(MMDB_entry_s *e, const char *const *path, MMDB_entry_data_s *d)
{
	memset(d, 0, sizeof(*d));
	return MMDB_aget_value(e, d, path) == MMDB_SUCCESS && d->has_data;
}

static bool get_double(MMDB_entry_s *e, const char *const *path, double *v)
{
	MMDB_entry_data_s d;
	if (!get(e, path, &d))
		return false;
	if (d.type == MMDB_DATA_TYPE_DOUBLE)
		*v = d.double_value;
	else if (d.type == MMDB_DATA_TYPE_FLOAT)
		*v = d.float_value;
	else
		return false;
	return isfinite(*v);
}

static bool get_uint(MMDB_entry_s *e, const char *const *path, uint64_t *v)
{
	MMDB_entry_data_s d;
	if (!get(e, path, &d))
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		*v = d.uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*v = d.uint32;
		return true;
	case MMDB_DATA_TYPE_UINT64:
		*v = d.uint64;
		return true;
	case MMDB_DATA_TYPE_INT32:
		if (d.int32 < 0)
			return false;
		*v = (uint64_t)d.int32;
		return true;
	default:
		return false;
	}
}

static bool get_iso(MMDB_entry_s *e, const char *const *path, char out[3])
{
	MMDB_entry_data_s d;
	if (!get(e, path, &d) || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return false;
	char a = d.utf8_string[0], b = d.utf8_string[1];
	if (a >= 'a' && a <= 'z')
		a = (char)(a - 'a' + 'A');
	if (b >= 'a' && b <= 'z')
		b = (char)(b - 'a' + 'A');
	if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z')
		return false;
	out[0] = a;
	out[1] = b;
	out[2] = '\0';
	return true;
}

static const char *const P_COUNTRY[] = {"country", "iso_code", NULL};
static const char *const P_REG_COUNTRY[] = {"registered_country", "iso_code", NULL};
static const char *const P_CITY[] = {"city", "names", "en", NULL};
static const char *const P_LAT[] = {"location", "latitude", NULL};
static const char *const P_LON[] = {"location", "longitude", NULL};
static const char *const P_ACC[] = {"location", "accuracy_radius", NULL};
static const char *const P_ASN[] = {"autonomous_system_number", NULL};
static const char *const P_ASORG[] = {"autonomous_system_organization", NULL};

static bool decode_city(MMDB_entry_s *e, city_fields *out)
{
	bool any = false;
	MMDB_entry_data_s d;
	if (get_iso(e, P_COUNTRY, out->country) || get_iso(e, P_REG_COUNTRY, out->country))
		any = true;
	if (get(e, P_CITY, &d) && copy_str(&d, out->city, sizeof(out->city)))
		any = true;
	double lat, lon;
	if (get_double(e, P_LAT, &lat) && get_double(e, P_LON, &lon) && lat >= -90 &&
	    lat <= 90 && lon >= -180 && lon <= 180) {
		out->has_location = true;
		out->lat = lat;
		out->lon = lon;
		uint64_t acc;
		if (get_uint(e, P_ACC, &acc))
			out->accuracy_km = acc > UINT16_MAX ? UINT16_MAX : (uint16_t)acc;
		any = true;
	}
	return any;
}

static bool decode_asn(MMDB_entry_s *e, asn_fields *out)
{
	bool any = false;
	uint64_t n;
	if (get_uint(e, P_ASN, &n) && n > 0 && n <= UINT32_MAX) {
		out->asn = (uint32_t)n;
		any = true;
	}
	MMDB_entry_data_s d;
	if (get(e, P_ASORG, &d) && copy_str(&d, out->as_org, sizeof(out->as_org))) {
		out->org_class = mmr_org_class(out->as_org);
		any = true;
	}
	return any;
}

/* ---- lookup with cache ------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x) /* splitmix64 finalizer */
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Normalized key: IPv4-mapped IPv6 folded to IPv4; bytes past the address zeroed. Returns
 * false for an absent or unknown family. */
static bool normalize(const mmr_ip *ip, mmr_ip *k)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(k, 0, sizeof(*k));
	if (ip->family == 4) {
		k->family = 4;
		memcpy(k->b, ip->b, 4);
		return true;
	}
	if (ip->family == 6) {
		if (memcmp(ip->b, mapped, sizeof(mapped)) == 0) {
			k->family = 4;
			memcpy(k->b, ip->b + 12, 4);
		} else {
			k->family = 6;
			memcpy(k->b, ip->b, 16);
		}
		return true;
	}
	return false;
}

/* The tree walk in database d: the record's data-section offset or NO_RECORD, and whether
 * the network found (or the empty range) covers the key's whole group. */
static uint32_t walk(const mmr_geoip *g, int d, const mmr_ip *k, const struct sockaddr *sa,
		     bool *whole)
{
	int err = MMDB_SUCCESS;
	const MMDB_s *db = &g->db[d];
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, sa, &err);
	if (err != MMDB_SUCCESS) {
		/* includes an IPv6 address in an IPv4-only database; an error is not known to
		 * hold for the neighbours */
		*whole = false;
		return NO_RECORD;
	}
	/* libmaxminddb gives the prefix length in the tree's terms: an IPv4 address in an IPv6
	 * tree sits under ::/96 */
	int bits = r.netmask;
	if (k->family == 4 && db->metadata.ip_version == 6)
		bits -= 96;
	if (bits > (k->family == 4 ? GROUP4_BITS : GROUP6_BITS))
		*whole = false;
	return r.found_entry ? r.entry.offset : NO_RECORD;
}

/* The fields of record off of database d into out: from the record cache, else decoded and
 * cached. Returns whether the record gave any field. */
static bool record(mmr_geoip *g, int d, uint32_t off, mmr_geo *out)
{
	record_slot *rs = g->rec[d];
	uint64_t h = mix64(g->seed ^ ((uint64_t)off << 1 | (uint64_t)d));
	uint32_t i = (uint32_t)h & (RECORD_SLOTS - 1);
	pthread_mutex_t *mu = &g->rec_mu[d][i % STRIPES];
	record_slot tmp;
	bool hit = false;
	atomic_fetch_add_explicit(&g->record_lookups, 1, memory_order_relaxed);
	pthread_mutex_lock(mu);
	if (rs[i].used && rs[i].off == off) {
		tmp = rs[i];
		hit = true;
	}
	pthread_mutex_unlock(mu);
	if (hit) {
		atomic_fetch_add_explicit(&g->record_hits, 1, memory_order_relaxed);
	} else {
		memset(&tmp, 0, sizeof(tmp));
		MMDB_entry_s e = {.mmdb = &g->db[d], .offset = off};
		tmp.any = d == CITY ? decode_city(&e, &tmp.f.city) : decode_asn(&e, &tmp.f.asn);
		tmp.off = off;
		tmp.used = true;
		pthread_mutex_lock(mu);
		rs[i] = tmp;
		pthread_mutex_unlock(mu);
	}
	if (d == CITY) {
		const city_fields *c = &tmp.f.city;
		memcpy(out->country, c->country, sizeof(out->country));
		memcpy(out->city, c->city, sizeof(out->city));
		out->has_location = c->has_location;
		out->lat = c->lat;
		out->lon = c->lon;
		out->accuracy_km = c->accuracy_km;
	} else {
		const asn_fields *a = &tmp.f.asn;
		out->asn = a->asn;
		out->org_class = a->org_class;
		memcpy(out->as_org, a->as_org, sizeof(out->as_org));
	}
	return tmp.any;
}

/* Both tree walks for key k: the records into rec[], and whether they hold for k's group. */
static bool walk_both(mmr_geoip *g, const mmr_ip *k, uint32_t rec[2])
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	if (k->family == 4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, k->b, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, k->b, 16);
		sa = (const struct sockaddr *)&sin6;
	}
	bool whole = true;
	for (int d = CITY; d <= ASN; d++)
		rec[d] = g->has[d] ? walk(g, d, k, sa, &whole) : NO_RECORD;
	return whole;
}

static size_t group_bytes(const mmr_ip *k)
{
	return k->family == 4 ? GROUP4_BITS / 8 : GROUP6_BITS / 8;
}

bool mmr_geoip_lookup(mmr_geoip *g, const mmr_ip *ip, mmr_geo *out)
{
	memset(out, 0, sizeof(*out));
	mmr_ip k;
	if (g == NULL || ip == NULL || !normalize(ip, &k))
		return false;
	atomic_fetch_add_explicit(&g->lookups, 1, memory_order_relaxed);

	size_t gb = group_bytes(&k), ab = k.family == 4 ? 4 : 16;
	uint64_t grp[2] = {0, 0};
	memcpy(grp, k.b, gb);
	uint64_t h = mix64(mix64(g->seed ^ k.family) ^ grp[0]);
	uint32_t i = (uint32_t)h & (ADDR_SLOTS - 1);
	addr_slot *sl = &g->addr[i];
	pthread_mutex_t *mu = &g->addr_mu[i % STRIPES];

	uint32_t rec[2];
	bool hit = false;
	pthread_mutex_lock(mu);
	if (sl->family == k.family && memcmp(sl->addr, k.b, sl->whole ? gb : ab) == 0) {
		rec[CITY] = sl->rec[CITY];
		rec[ASN] = sl->rec[ASN];
		hit = true;
	}
	pthread_mutex_unlock(mu);
	if (hit) {
		atomic_fetch_add_explicit(&g->cache_hits, 1, memory_order_relaxed);
	} else {
		bool whole = walk_both(g, &k, rec);
		pthread_mutex_lock(mu);
		memcpy(sl->addr, k.b, sizeof(sl->addr));
		sl->family = k.family;
		sl->whole = whole;
		sl->rec[CITY] = rec[CITY];
		sl->rec[ASN] = rec[ASN];
		pthread_mutex_unlock(mu);
	}
	bool any = false;
	for (int d = CITY; d <= ASN; d++)
		if (rec[d] != NO_RECORD && record(g, d, rec[d], out))
			any = true;
	return any;
}

/* ---- distance ---------------------------------------------------------------------------- */

double mmr_geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	const double R = 6371.0, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double s1 = sin(dlat / 2), s2 = sin(dlon / 2);
	double a = s1 * s1 + cos(lat1 * rad) * cos(lat2 * rad) * s2 * s2;
	if (a > 1)
		a = 1; /* rounding near antipodes */
	if (a < 0)
		a = 0;
	return 2 * R * asin(sqrt(a));
}
