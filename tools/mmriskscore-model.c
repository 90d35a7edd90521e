/* mmriskscore-model: prints the risk model the engine would run with — every rule with its
 * weight and cap, every detector parameter with its value, default, range and meaning —
 * from the built-in defaults or a model file. For admins writing a model file, and for the
 * test that keeps docs/model.md and docs/detectors.md in step with the code.
 *
 *   mmriskscore-model [-m MODELFILE] [--keys]
 */
#include <stdio.h>
#include <string.h>

#include "mmriskscore/engine.h"

static int usage(void)
{
	fprintf(stderr, "usage: mmriskscore-model [-m MODELFILE] [--keys]\n"
			"  prints rules (weight, cap) and detector parameters (value, default,\n"
			"  range, meaning); --keys prints only the rule ids and parameter keys\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *model = NULL;
	int keys_only = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc)
			model = argv[++i];
		else if (!strcmp(argv[i], "--keys"))
			keys_only = 1;
		else
			return usage();
	}
	mmr_config cfg;
	char err[1024];
	mmr_config_init(&cfg);
	if (model && mmr_config_load_model(&cfg, model, err, sizeof(err)) != 0) {
		fprintf(stderr, "mmriskscore-model: %s\n", err);
		return 1;
	}
	mmr_engine *e = mmr_engine_new(&cfg, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "mmriskscore-model: %s\n", err);
		mmr_config_clear(&cfg);
		return 1;
	}
	size_t n;
	const char *const *rules = mmr_engine_rules(e, &n);
	if (!keys_only)
		printf("# rule                              weight   cap  pool\n");
	for (size_t i = 0; i < n; i++) {
		double w, cap;
		bool weak;
		mmr_engine_rule_model(e, rules[i], &w, &cap, &weak);
		if (keys_only)
			printf("rule %s\n", rules[i]);
		else
			printf("%-36s %6.2f %5.0f  %s\n", rules[i], w, cap, weak ? "weak" : "-");
	}
	if (!keys_only)
		printf("# the weak rules together: at most %g (weak.cap)\n", mmr_engine_weak_cap(e));
	if (!keys_only)
		printf("\n# parameter                          value    default  range        meaning\n");
	double v, def, min, max;
	const char *doc, *key;
	for (size_t i = 0; (key = mmr_engine_param_at(e, i, &v, &def, &min, &max, &doc)); i++) {
		if (keys_only)
			printf("param %s\n", key);
		else
			printf("%-36s %-8g %-8g %g-%g  %s\n", key, v, def, min, max, doc);
	}
	if (!keys_only)
		printf("\n# bytes per user record (approx.): %zu\n", mmr_engine_user_bytes(e));
	mmr_engine_free(e);
	mmr_config_clear(&cfg);
	return 0;
}
