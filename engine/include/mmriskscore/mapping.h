/* Mappings: canonical events from JSON (IdP logs) and key=value sources without C code.
 *
 * A mapping file (mappings/<source>.json, format in rulebase/SCHEMA.md §8) says when it applies
 * ("match" conditions on the parsed fields), where each canonical field comes from (JSON paths)
 * and how the source's event names become actions and outcomes. Loaded once; applying is
 * read-only and thread-safe.
 */
#ifndef MMRISKSCORE_MAPPING_H
#define MMRISKSCORE_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/event.h"

struct fjson_object;
struct mmr_json_doc;
typedef struct mmr_mappings mmr_mappings;

/* Loads one mapping file, or every *.json of a directory in name order (the order in which
 * they are tried). Returns NULL with "file: what is wrong" in err. */
mmr_mappings *mmr_mappings_load(const char *path, char *err, size_t errlen);
void mmr_mappings_free(mmr_mappings *m);
size_t mmr_mappings_count(const mmr_mappings *m);

typedef enum {
	MMR_MAP_OK = 0,           /* a mapping matched and the event is an identity event */
	MMR_MAP_NOT_IDENTITY,     /* a mapping matched; unknown action or no user */
	MMR_MAP_NO_MATCH,         /* no mapping's conditions hold */
} mmr_map_status;

/* Applies the first matching mapping to doc, filling ev (initialized here; fallback_time as
 * in mmr_event_from_fields). *name, when not NULL, gets the matching mapping's name. */
mmr_map_status mmr_mappings_apply(const mmr_mappings *m, struct fjson_object *doc, mmr_event *ev,
				  const mmr_user_norm *norm, int64_t fallback_time,
				  const char **name);

/* The same for a JSON message scanned by mmr_json_scan() (engine/map/json_scan.h): the same
 * status, event and name as mmr_mappings_apply() on libfastjson's tree of the same text. Keys
 * are compared as libfastjson compares them at the time of the first call (case-insensitive
 * inside rsyslogd unless global(variables.casesensitive="on")). doc's buffer is written. */
mmr_map_status mmr_mappings_apply_scanned(const mmr_mappings *m, struct mmr_json_doc *doc,
					  mmr_event *ev, const mmr_user_norm *norm,
					  int64_t fallback_time, const char **name);

#endif
