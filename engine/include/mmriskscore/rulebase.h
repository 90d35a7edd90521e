/* A loaded liblognorm rulebase. Parsing is thread-safe: liblognorm's context is read-only
 * after loading; reloading is done by loading a new one and swapping (see the module). */
#ifndef MMRISKSCORE_RULEBASE_H
#define MMRISKSCORE_RULEBASE_H

#include <stddef.h>

/* libfastjson (the JSON library rsyslog and liblognorm use) names its type fjson_object and
 * #defines json_object to it; naming the real tag keeps this header order-independent. */
struct fjson_object;
typedef struct mmr_rulebase mmr_rulebase;

#define MMR_RB_EXPLAIN 1u /* record which rule matched (tools; costs time per message) */

/* Loads path. On failure returns NULL with liblognorm's complaint in err. */
mmr_rulebase *mmr_rulebase_load(const char *path, char *err, size_t errlen);
mmr_rulebase *mmr_rulebase_load_flags(const char *path, unsigned flags, char *err, size_t errlen);

/* With MMR_RB_EXPLAIN: "file:line" of the rule that produced fields, as written by the rulebase
 * author (compiled rulebases carry "#@ file:line" markers, see rulebase/expand-types.awk), or
 * "" when unknown. */
void mmr_rulebase_rule_of(const mmr_rulebase *rb, struct fjson_object *fields, char *buf,
			  size_t len);
void mmr_rulebase_free(mmr_rulebase *rb);

/* A warning about the loaded rulebase worth showing the admin once, or NULL. Today: the
 * rulebase defines user-defined types while the liblognorm in use leaks memory whenever such
 * a type fails to match (liblognorm <= 2.0.6, its issue #223). */
const char *mmr_rulebase_warning(const mmr_rulebase *rb);

/* Parses s (len bytes). Returns the fields (caller owns) when a rule matched, else NULL. */
struct fjson_object *mmr_rulebase_parse(mmr_rulebase *rb, const char *s, size_t len);

#endif
