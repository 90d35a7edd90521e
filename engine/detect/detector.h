/* The detector interface: one detector, one file, one entry in detector_registry.c.
 *
 * For each identity event the engine calls score() of every detector, then learn() of every
 * detector, so that no detector's learning leaks into another's verdict on the same event.
 * Both run with the user's stripe locked: user_state is this detector's private slice of the
 * user record (user_state_size bytes, zeroed when the user is first seen) and may be read and
 * written freely. Anything keyed by something other than the user (a source IP, a device) lives
 * in the detector's global state, which the detector locks itself (an mmr_lru_table does).
 *
 * A detector reports findings with mmr_contrib_add(): a rule id from its rules[] list, points
 * (0-100) and a sentence that names the evidence. It must honour ctx->user->converged for
 * anything that compares the user with their own baseline ("cold start is honest").
 *
 * Persistence (docs/state.md): the engine saves every user slice as raw bytes and asks a
 * detector with global state to write it with global_save (engine/state/snapshot.h has the
 * stream calls and the one-line helpers for an mmr_lru_table). state_version names the layout
 * of both: change either, bump it, and a restore of an older snapshot drops this detector's
 * saved state (it relearns; the load's message names it) instead of misreading it.
 */
#ifndef MMR_DETECTOR_H
#define MMR_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/engine.h"

typedef struct mmr_user_baseline {
	int64_t first_seen; /* event time of the first non-failure event, 0 = none yet */
	int64_t last_seen;
	uint32_t events;    /* non-failure events learned from */
	bool converged;     /* learning_min_events over learning_min_days reached */
} mmr_user_baseline;

/* What enrichment (enrich/enrich.c) adds to the event before the detectors run: geography
 * and network facts, list memberships and the employee's HR context. Computed once per event
 * by the engine; detectors only read it. */
typedef struct mmr_enriched {
	/* geography of src_ip: the log's own fields when it has them (Okta, Entra), else GeoIP */
	char country[3];         /* ISO alpha-2, "" = unknown */
	char city[48];
	bool has_location;
	double lat, lon;
	uint16_t accuracy_km;    /* 0 = not given */
	uint32_t asn;            /* 0 = unknown */
	char as_org[64];
	/* facts about src_ip */
	bool has_src;            /* the event has a source address */
	bool corporate;          /* in corporatenetworks or corporate-networks.txt */
	bool external;           /* has_src, not private, not corporate */
	bool hosting;            /* hosting.txt (by CIDR or ASN) */
	bool commercial_vpn;     /* commercial-vpn.txt (by CIDR or ASN) */
	bool proxy;              /* the log itself says proxy/VPN/Tor (Okta isProxy) */
	bool watch_country;      /* country in watch-countries.txt */
	const char *remote_tool; /* remote-access-tools.txt entry seen in user agent, device,
				  * target or host; NULL = none */
	/* the client: phones and carrier networks (detectors that count people per address or
	 * place people by address leave them out) */
	bool mobile;             /* a phone or tablet: a mobile user agent (iPhone, iPad, iPod,
				  * Android, "Mobile", Okta Verify, okhttp, CFNetwork, Dalvik) or
				  * Okta's device class Mobile/Tablet/Phone/Smartphone; or, when the
				  * log has no user agent (VPN gateways, RADIUS), a mobile_carrier
				  * address. A desktop user agent on a carrier is not mobile (a
				  * tethered laptop; "China Mobile" also sells home broadband). */
	bool mobile_carrier;     /* as_org names a mobile carrier ("Wireless", "Mobil...", "Movil",
				  * "Cellular", "Celular"): carrier-grade NAT, many subscribers per
				  * address, whatever the device */
	bool inflight_or_satellite; /* as_org is in-flight Wi-Fi or satellite access (Gogo,
				  * Viasat, Inmarsat, Starlink, ...; enrich/client.h): the address
				  * is the provider's ground station, not where the user is */
	/* HR context */
	const struct mmr_roster_entry *who; /* NULL: not in the roster (peer group unknown) */
	uint32_t group;          /* peer group id, 0 = unknown */
	bool has_declared_tz;
	int32_t declared_offset; /* seconds east of UTC of the declared zone at event time */
	int32_t tenure_days;     /* days since start_date at event time; -1 = unknown */
	bool new_hire;           /* tenure_days < 90 (docs/detectors.md) */
	bool privileged;
	/* allowlists (contributions are recorded with 0 points) */
	bool allow_user, allow_network;
} mmr_enriched;

struct mmr_roster_entry;
struct mmr_context;
struct mmr_snap_writer;
struct mmr_snap_reader;
struct mmr_snapshot_opts;

/* A tunable of a detector (threshold, window, points): its defaults live with the detector,
 * values may be set in the model file (docs/model.md) under key, and are checked against
 * [min, max] when the engine is created. ctx->param[i] is the value of params[i]. */
typedef struct mmr_param {
	const char *key;  /* "travel.max_speed_kmh" */
	double def, min, max;
	const char *doc;  /* one line: what it is, the unit */
} mmr_param;

typedef struct mmr_detect_ctx {
	const mmr_event *ev;
	const mmr_config *cfg;
	const mmr_user_baseline *user;
	const mmr_enriched *x;
	const struct mmr_context *context; /* NULL when none is loaded */
	const double *param;               /* this detector's params, resolved */
	void *user_state;
	void *global;
} mmr_detect_ctx;

typedef struct mmr_contribs {
	mmr_reason *v;
	int n, cap;
	int dropped;
} mmr_contribs;

void mmr_contrib_add(mmr_contribs *c, const char *rule, int points, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

typedef struct mmr_detector {
	const char *name;
	const char *const *rules; /* NULL-terminated rule ids this detector may emit */
	size_t user_state_size;
	const mmr_param *params; /* optional, terminated by {NULL} */
	/* Optional: global state; NULL return from global_new means out of memory. */
	void *(*global_new)(const mmr_config *cfg);
	void (*global_free)(void *global);
	void (*score)(const mmr_detect_ctx *ctx, mmr_contribs *out);
	void (*learn)(const mmr_detect_ctx *ctx);
	/* Optional: add resident/evicted counts of the global state to st. */
	void (*stats)(void *global, mmr_stats *st);

	/* Persistence. state_version: the layout of the user slice and of the saved global state
	 * (start at 1; bump on any change of either). */
	uint32_t state_version;
	/* Required with global_new (a global state without them is not saved): writes the global
	 * state while other threads keep processing events (lock one stripe at a time, copy,
	 * release; snapshot.h's table helpers do so), and reads it back into a fresh global from
	 * global_new: 0, -1 (malformed: the file is refused) or MMR_SNAP_INCOMPATIBLE (this
	 * detector's saved state is dropped). Both may use o / the file's pseudonym key to hide
	 * user names and fingerprints (docs/state.md). */
	int (*global_save)(void *global, struct mmr_snap_writer *w,
			   const struct mmr_snapshot_opts *o);
	int (*global_load)(void *global, struct mmr_snap_reader *r);
	/* Optional: puts back the invariants of a restored user slice that a hand-made file could
	 * break (ring indices and counts in range), so that no file can make score() or learn()
	 * read or write out of bounds. */
	void (*user_load)(void *user_state);
	/* Optional: bytes the global state holds now (mmr_engine_state_bytes). */
	uint64_t (*global_bytes)(void *global);
} mmr_detector;

extern const mmr_detector *const mmr_detectors[];

/* For detectors whose global state is one mmr_lru_table: free it, and count its entries and
 * evictions with the other cross-user tables (mmr_stats ips / ips_evicted). */
void mmr_table_global_free(void *table);
void mmr_table_global_stats(void *table, mmr_stats *st);

/* Shared by detectors that must ignore corporate and private addresses. */
bool mmr_ip_is_external(const mmr_config *cfg, const mmr_ip *ip);

/* 32-bit FNV-1a of bytes / of a user key, never 0 (0 marks an empty slot in detector
 * tables). Not seeded: for compact per-entry fingerprints, not for hash-table placement. */
uint32_t mmr_hash32(const void *p, size_t len);
uint32_t mmr_user_hash32(const char *user);

/* "Sat 03:00" style hour-of-week label and index (Monday 00:00 UTC = 0). */
int mmr_hour_of_week(int64_t t);
void mmr_hour_of_week_label(int how, char *buf, size_t len);

#endif
