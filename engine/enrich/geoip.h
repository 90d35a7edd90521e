/* GeoIP and ASN lookups in MaxMind DB files (GeoLite2/GeoIP2 City or Country, and ASN
 * schemas) through libmaxminddb, with a thread-safe cache of bounded size in front.
 *
 * Either database may be absent: a NULL path means "not configured", and lookups then leave
 * the corresponding fields empty. The handle is immutable after open except for the cache,
 * which is striped and locked per stripe, so lookups may run on any number of threads.
 */
#ifndef MMR_GEOIP_H
#define MMR_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/event.h"

typedef struct mmr_geo {
	char country[3];      /* ISO 3166-1 alpha-2, upper case; "" = unknown */
	char city[48];        /* English name; "" = unknown */
	bool has_location;
	double lat, lon;      /* degrees */
	uint16_t accuracy_km; /* MaxMind location.accuracy_radius; 0 = not given */
	uint32_t asn;         /* 0 = unknown */
	char as_org[64];      /* autonomous_system_organization; "" = unknown */
	uint8_t org_class;    /* MMR_ORG_* bits of as_org (enrich/client.h), computed once per
			       * ASN record */
} mmr_geo;

typedef struct mmr_geoip mmr_geoip;

/* Opens the databases; either path may be NULL (not configured), not both. Returns NULL with
 * a message naming the file and libmaxminddb's reason in err when a file cannot be opened or
 * is not a City/Country (city_path) or ASN (asn_path) database. */
mmr_geoip *mmr_geoip_open(const char *city_path, const char *asn_path, char *err, size_t errlen);
void mmr_geoip_close(mmr_geoip *g);
bool mmr_geoip_has_city(const mmr_geoip *g);
bool mmr_geoip_has_asn(const mmr_geoip *g);

/* Fills out (always initialized, fields empty when unknown). Returns true when any field was
 * found. Thread-safe; results are cached (cache_entries fixed at open, see geoip.c). */
bool mmr_geoip_lookup(mmr_geoip *g, const mmr_ip *ip, mmr_geo *out);

/* lookups: every lookup of a present address; cache_hits: those answered by the address
 * cache (mmr_geoip_cache_stats.address_hits). */
void mmr_geoip_counters(mmr_geoip *g, uint64_t *lookups, uint64_t *cache_hits);

typedef struct mmr_geoip_cache_stats {
	size_t bytes;            /* allocated for the handle and its caches at open (fixed) */
	uint32_t address_slots;  /* address -> records */
	uint32_t record_slots;   /* decoded records, both databases together */
	uint64_t lookups;        /* as mmr_geoip_counters */
	uint64_t address_hits;   /* lookups that walked no database tree */
	uint64_t record_lookups; /* records needed (at most 2 per lookup) */
	uint64_t record_hits;    /* of those, found decoded in the record cache */
} mmr_geoip_cache_stats;

/* The cache's size and counters; all zero for a NULL handle. */
void mmr_geoip_get_cache_stats(mmr_geoip *g, mmr_geoip_cache_stats *st);

/* Great-circle distance in km (haversine, mean Earth radius 6371 km). */
double mmr_geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
