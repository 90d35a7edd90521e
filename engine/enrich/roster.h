/* The HR roster (DESIGN.md §3.2): a CSV file with a header row naming at least
 * user,department,title,manager,start_date,country,timezone; optional columns team and
 * privileged; other columns are ignored. RFC 4180 quoting ("a, b", "say ""hi""") is honoured.
 *
 * The peer group of a user is their team when the roster has a team column and the cell is
 * not empty, else their department. Users are keyed by the same normalization as events
 * (mmr_user_normalize), so "CORP\Alice" in the roster matches "alice@corp.example" in a log
 * when domains are stripped.
 *
 * Immutable after load; lookups from any thread.
 */
#ifndef MMR_ROSTER_H
#define MMR_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/event.h"
#include "enrich/tz.h"

typedef struct mmr_roster_entry {
	const char *user;        /* normalized key */
	const char *department;  /* "" when empty */
	const char *team;        /* "" when the roster has none */
	const char *title;
	const char *manager;
	int64_t start_date;      /* unix time of 00:00 UTC of the start date; 0 = unknown */
	char country[3];         /* ISO alpha-2 upper case, "" = unknown */
	const char *timezone;    /* IANA name as written, "" = unknown */
	const mmr_tz *tz;        /* NULL when unknown or not loadable (counted in warnings) */
	uint32_t group;          /* peer group id: hash of department + team, never 0 */
	const char *group_name;  /* "engineering/backend-2" or "engineering" */
	uint32_t group_size;     /* roster users in the same peer group */
	bool privileged;         /* privileged column true/yes/1 */
} mmr_roster_entry;

typedef struct mmr_roster mmr_roster;

/* Returns NULL with "file:line: reason" in err on a missing file, a header without the
 * required columns, or a malformed line (unterminated quote, bad start_date or country).
 * Problems that do not stop the load (unknown time zone, duplicate user: the last row wins)
 * are counted and the first one is described in warn (may be NULL). */
mmr_roster *mmr_roster_load(const char *path, const mmr_user_norm *norm, char *err,
			    size_t errlen, char *warn, size_t warnlen);
void mmr_roster_free(mmr_roster *r);
size_t mmr_roster_count(const mmr_roster *r);
size_t mmr_roster_warnings(const mmr_roster *r);
/* NULL roster or unknown user: NULL. */
const mmr_roster_entry *mmr_roster_find(const mmr_roster *r, const char *user);

#endif
