/* The list files of lists.dir (docs/lists.md): one format for all of them.
 *
 *   one entry per line; '#' starts a comment to the end of the line; blank lines and
 *   surrounding blanks are ignored; entries are case-insensitive.
 *
 * Each list has a fixed file name and accepts the entry kinds below; anything else is an
 * error naming file and line, and the whole load fails (a reload then keeps the old lists).
 * A missing file is an empty list.
 *
 *   corporate-networks.txt  CIDR or address          office NAT, VPN pools: never new/shared
 *   hosting.txt             CIDR, address, AS number  hosting/VPS/cloud providers
 *   commercial-vpn.txt      CIDR, address, AS number  commercial VPN exits (Astrill, ...)
 *   watch-countries.txt     ISO alpha-2 code          countries worth a reason on sight
 *   remote-access-tools.txt name                      matched as a substring of user agent,
 *                                                     client/device name, host (AnyDesk, ...)
 *   allow-users.txt         user (normalized key)     contributions recorded, points zeroed
 *   allow-networks.txt      CIDR or address           idem, for events from these sources
 *   allow-rules.txt         rule id [user]            idem, for a rule (for one user only
 *                                                     when a user follows the rule id)
 *
 * AS numbers are written "AS64512" or "64512". Lists are immutable after load and may be read
 * from any thread.
 */
#ifndef MMR_LISTS_H
#define MMR_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/event.h"

typedef enum {
	MMR_LIST_CORPORATE = 0,
	MMR_LIST_HOSTING,
	MMR_LIST_COMMERCIAL_VPN,
	MMR_LIST_WATCH_COUNTRIES,
	MMR_LIST_REMOTE_TOOLS,
	MMR_LIST_ALLOW_USERS,
	MMR_LIST_ALLOW_NETWORKS,
	MMR_LIST_ALLOW_RULES,
	MMR_LIST_COUNT_
} mmr_list_kind;

typedef struct mmr_lists mmr_lists;

/* Loads every list file of dir (missing files are empty lists; a missing dir is an error). */
mmr_lists *mmr_lists_load_dir(const char *dir, char *err, size_t errlen);
mmr_lists *mmr_lists_new_empty(void);
/* Adds one entry as if read from the list's file (for the module's inline parameters and for
 * tests). Returns 0, or -1 with a reason in err. */
int mmr_lists_add(mmr_lists *l, mmr_list_kind kind, const char *entry, char *err, size_t errlen);
void mmr_lists_free(mmr_lists *l);

const char *mmr_list_file_name(mmr_list_kind kind); /* "hosting.txt" */
size_t mmr_lists_count(const mmr_lists *l, mmr_list_kind kind);

/* NULL lists are empty lists in all lookups. */
bool mmr_lists_has_ip(const mmr_lists *l, mmr_list_kind kind, const mmr_ip *ip);
bool mmr_lists_has_asn(const mmr_lists *l, mmr_list_kind kind, uint32_t asn);
bool mmr_lists_has_country(const mmr_lists *l, mmr_list_kind kind, const char *code);
bool mmr_lists_has_user(const mmr_lists *l, const char *user);
/* allow-rules.txt: the rule, for everybody or for this user. */
bool mmr_lists_allows_rule(const mmr_lists *l, const char *rule, const char *user);
/* The remote-access-tools entry found (case-insensitive substring) in text, or NULL. */
const char *mmr_lists_remote_tool(const mmr_lists *l, const char *text);

#endif
