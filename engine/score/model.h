/* The risk model's knobs that are not fields of mmr_config: per-rule weights and caps and the
 * detectors' parameters, as read from a model file (docs/model.md) and resolved against the
 * registered detectors by mmr_engine_new. */
#ifndef MMR_MODEL_H
#define MMR_MODEL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mmr_model_entry {
	char key[96];
	double value;
	int line;
} mmr_model_entry;

struct mmr_model {
	char path[256];
	mmr_model_entry *v;
	size_t n, cap;
};

/* Default weight and cap of a rule (risk points one rule may hold in a user's accumulated
 * risk), chosen by measurement with contrib/simulator/benchmark-detection: docs/model.md. */
void mmr_model_rule_defaults(const char *rule, double *weight, double *cap, bool *weak);

/* Default cap of the weak rules' shared pool (model key weak.cap). */
#define MMR_WEAK_POOL_CAP 50.0

#endif
