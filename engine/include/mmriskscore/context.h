/* Enrichment context: what the engine knows besides the log line — GeoIP/ASN databases, the
 * list files and the HR roster. Loaded off the hot path (start, HUP), immutable afterwards,
 * and swapped into a running engine atomically: a reload that fails leaves the engine with
 * the context it had.
 */
#ifndef MMRISKSCORE_CONTEXT_H
#define MMRISKSCORE_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/engine.h"

typedef struct mmr_context_paths {
	const char *geoip_city; /* MaxMind City or Country database; NULL = none */
	const char *geoip_asn;  /* MaxMind ASN database; NULL = none */
	const char *lists_dir;  /* directory of list files (docs/lists.md); NULL = none */
	const char *roster;     /* HR roster CSV (DESIGN.md §3.2); NULL = none */
} mmr_context_paths;

typedef struct mmr_context mmr_context;

/* NULL with "what: reason" in err when a configured file cannot be used. Non-fatal problems
 * (roster rows with an unknown time zone, ...) are summarized in warn (may be NULL). */
mmr_context *mmr_context_load(const mmr_context_paths *paths, const mmr_user_norm *norm,
			      char *err, size_t errlen, char *warn, size_t warnlen);
void mmr_context_free(mmr_context *c);

typedef struct mmr_context_info {
	bool geoip_city, geoip_asn;
	size_t roster_users, roster_warnings;
	size_t list_entries[8];
} mmr_context_info;
void mmr_context_describe(const mmr_context *c, mmr_context_info *info);

/* The engine takes ownership of c (NULL = no context) and frees the previous one once no
 * thread is using it. May be called while other threads run mmr_engine_process(). */
void mmr_engine_set_context(mmr_engine *e, mmr_context *c);

#endif
