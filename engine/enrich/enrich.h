/* Enrichment: from a canonical event and the loaded context to the facts every detector
 * reads (detect/detector.h, mmr_enriched). The context's parts are visible here so that
 * detectors with cross-user questions ("is that other account in a different team?") can
 * ask the roster directly.
 */
#ifndef MMR_ENRICH_H
#define MMR_ENRICH_H

#include "mmriskscore/context.h"
#include "detect/detector.h"
#include "enrich/geoip.h"
#include "enrich/lists.h"
#include "enrich/roster.h"

struct mmr_context {
	mmr_geoip *geoip;   /* NULL: no database configured */
	mmr_lists *lists;   /* NULL: no lists.dir */
	mmr_roster *roster; /* NULL: no roster */
};

/* New hires: the first NEW_HIRE_DAYS days after the roster start date. */
#define MMR_NEW_HIRE_DAYS 90

/* Fills x for ev. c may be NULL (no context): then only the event's own fields and
 * cfg->corporate count. Never allocates, never blocks beyond the GeoIP cache stripe. */
void mmr_enrich(const mmr_context *c, const mmr_config *cfg, const mmr_event *ev,
		mmr_enriched *x);

/* NULL-safe accessors for detectors. */
const mmr_roster_entry *mmr_context_roster_find(const mmr_context *c, const char *user);
const mmr_lists *mmr_context_lists(const mmr_context *c);

#endif
