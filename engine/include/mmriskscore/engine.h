/* mmriskscore engine: the public API.
 *
 * The engine turns canonical events (event.h) into risk results: per-event score, the user's
 * decaying accumulated score, a level and human-readable reasons. It has no rsyslog headers;
 * the rsyslog module, the unit tests and the tools all link this same library.
 *
 * Threading: mmr_engine_process() may be called from any number of threads at once. State is
 * kept in tables striped by key hash; a call holds at most one user stripe and, inside it, one
 * stripe of a detector's own table (always in that order), each for a few microseconds.
 */
#ifndef MMRISKSCORE_ENGINE_H
#define MMRISKSCORE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "mmriskscore/event.h"

/* libfastjson (the JSON library rsyslog and liblognorm use) names its type fjson_object and
 * #defines json_object to it; naming the real tag keeps this header order-independent. */
struct fjson_object;
typedef struct mmr_netlist mmr_netlist;

typedef struct mmr_config {
	mmr_user_norm user_norm;
	uint32_t learning_min_events;   /* a user's baseline converges after this many events */
	uint32_t learning_min_days;     /* ... spread over at least this many days of event time */
	int64_t user_score_halflife;    /* seconds of event time for accumulated risk to halve */
	double user_score_scale;        /* user_score = 100 * (1 - exp(-risk / scale)) */
	int64_t rule_cooldown;          /* one rule feeds a user's risk at most once per this */
	uint32_t farm_min_users;        /* distinct users on one public IP that make a "farm" */
	int64_t farm_window;            /* seconds */
	uint32_t failburst_user_count;  /* failures for one user within the window (max 32) */
	uint32_t failburst_ip_count;    /* failures from one source IP within the window (max 32) */
	int64_t failburst_window;       /* seconds */
	uint32_t max_users;             /* users kept in memory; least recently seen evicted */
	uint32_t max_ips;               /* entries per IP-keyed detector table */
	double newhire_factor;          /* points x this in the first 90 days after start_date */
	double privileged_factor;       /* points x this for roster-privileged users */
	int64_t max_future;             /* event times more than this (seconds) ahead of the wall
					 * clock are scored as "now"; 0 = never (docs/threat-model.md) */
	mmr_netlist *corporate;         /* office NAT, VPN pools: never "shared" or "new" */
	struct mmr_model *model;        /* rule weights/caps and detector params from a model
					 * file (docs/model.md), resolved by mmr_engine_new */
} mmr_config;

/* The module's (and the replay tool's) default for max_future: one day. */
#define MMR_LIVE_MAX_FUTURE 86400

/* Defaults, with their rationale, are documented in docs/configuration.md. */
void mmr_config_init(mmr_config *cfg);
void mmr_config_clear(mmr_config *cfg);
/* Adds "a.b.c.d/n", "a.b.c.d", "2001:db8::/32". Returns 0, or -1 with a message in err. */
int mmr_config_add_corporate_network(mmr_config *cfg, const char *cidr, char *err, size_t errlen);
/* Reads a model file (docs/model.md): "key = value" lines. Settings of this struct are applied
 * at once; rule weights/caps and detector parameters are kept and checked by mmr_engine_new
 * (unknown rule or key: error naming file and line). Returns 0 or -1 with "file:line: why". */
int mmr_config_load_model(mmr_config *cfg, const char *path, char *err, size_t errlen);
/* Sets one setting by its model-file / rsyslog parameter name ("farm.window" = "24h").
 * Returns 0, 1 when key is not a setting of this struct (a rule or detector key: kept for
 * mmr_engine_new), or -1 with a reason in err. */
int mmr_config_set(mmr_config *cfg, const char *key, const char *value, char *err, size_t errlen);
/* Checks ranges; returns 0 or -1 with a message naming the offending setting. */
int mmr_config_validate(const mmr_config *cfg, char *err, size_t errlen);

#define MMR_MAX_REASONS 8
#define MMR_MAX_RULES 48
#define MMR_DETAIL_MAX 256

typedef struct mmr_reason {
	const char *rule;            /* stable rule id, e.g. "network.shared_source_ip" */
	int points;                  /* 0-100 */
	char detail[MMR_DETAIL_MAX]; /* a sentence for a SOC analyst */
} mmr_reason;

typedef struct mmr_result {
	char user[MMR_USER_MAX];
	int score;          /* 0-100, this event */
	int user_score;     /* 0-100, the user's accumulated risk after this event */
	bool learning;      /* the user's baseline has not converged yet */
	int n_reasons;
	mmr_reason reasons[MMR_MAX_REASONS]; /* highest points first */
} mmr_result;

typedef struct mmr_engine mmr_engine;

/* Copies cfg (the netlist is shared, not copied: keep cfg alive as long as the engine). */
mmr_engine *mmr_engine_new(const mmr_config *cfg, char *err, size_t errlen);
void mmr_engine_free(mmr_engine *e);

/* Scores ev, then learns from it. Returns 0, or -1 when the event could not be scored
 * (no memory for a new user); the message must then pass through unchanged. */
int mmr_engine_process(mmr_engine *e, const mmr_event *ev, mmr_result *out);

/* Elastic's bands: unknown <20, low <40, moderate <70, high <90, critical. */
const char *mmr_level_name(int score);

/* "alice risk 87 (high): <detail of the top reason>; <second>; <third>" — for Splunk RBA
 * risk_message and for anyone who reads one string; only reasons with points count. */
void mmr_result_message(const mmr_result *r, char *buf, size_t len);

/* {"user","score","level","user_score","user_level","reasons":[...],"message","learning"} */
struct fjson_object *mmr_result_to_json(const mmr_result *r);

typedef struct mmr_stats {
	uint64_t events_scored;
	uint64_t events_failed;      /* not scored: out of memory */
	uint64_t time_clamped;       /* event times too far in the future, scored as "now" */
	uint64_t users;              /* resident now */
	uint64_t users_evicted;      /* dropped by the max_users cap */
	uint64_t ips;                /* resident now, all IP-keyed tables */
	uint64_t ips_evicted;        /* dropped by the max_ips cap */
	uint64_t reasons_dropped;    /* contributions beyond MMR_MAX_REASONS */
	uint64_t level[5];           /* events by level: unknown, low, moderate, high, critical */
	uint64_t allowlisted;        /* contributions zeroed by an allowlist */
	uint64_t geoip_lookups, geoip_cache_hits;
	uint64_t rule_slots_evicted; /* a user's risk or cooldown of a rule given up: the user
				      * record was full of other rules (docs/state.md) */
} mmr_stats;

/* Rule ids the engine's detectors can emit (NULL-terminated, registry order), and a rule's
 * effective weight and cap (after the model file). For docs, tools and tests. */
const char *const *mmr_engine_rules(const mmr_engine *e, size_t *n);
int mmr_engine_rule_model(const mmr_engine *e, const char *rule, double *weight, double *cap,
			  bool *weak);
/* Cap of the weak rules' shared pool (docs/model.md). */
double mmr_engine_weak_cap(const mmr_engine *e);
/* The i-th detector parameter (registry order): its key, or NULL past the last one; value is
 * the effective value, the rest its definition. */
const char *mmr_engine_param_at(const mmr_engine *e, size_t i, double *value, double *def,
				double *min, double *max, const char **doc);
/* Effective value of a detector parameter by key; -1 when unknown. */
int mmr_engine_param(const mmr_engine *e, const char *key, double *value);
/* Approximate bytes of one user record (core + every detector's slice + table overhead). */
size_t mmr_engine_user_bytes(const mmr_engine *e);

void mmr_engine_stats(mmr_engine *e, mmr_stats *st);

#endif
