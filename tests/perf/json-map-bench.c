/* json-map-bench: the cost of the IdP path alone, JSON message -> canonical event, as the
 * module runs it (mmr_parse_event() with mappings and no rulebase).
 *
 *   json-map-bench -m MAPPINGS [-n ROUNDS] [-i] [-e] FILE
 *
 * -i compares JSON keys ignoring case, as libfastjson does inside rsyslogd; -e also builds
 * (and frees) the $!event tree of each identity event, mmr_event_to_json(), as the module does.
 *
 * FILE holds one message per line: JSON as an IdP sends it, or a syslog line whose message
 * starts at the first '{' (what mmrisk-simulate writes). Every line is parsed ROUNDS times
 * (default 1000); the program prints lines, identity events per round and the thread CPU time
 * per line (CLOCK_THREAD_CPUTIME_ID, so other load on the machine matters little). For
 * instruction counts run it under valgrind --tool=callgrind with a small -n. Only uses the
 * public API, so the same source builds against an older engine library for comparisons.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "mmriskscore/parse.h"

static double thread_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *maps_path = NULL;
	long rounds = 1000;
	bool event_json = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			maps_path = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			rounds = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-i") == 0)
			fjson_global_do_case_sensitive_comparison(0);
		else if (strcmp(argv[i], "-e") == 0)
			event_json = true;
		else
			break;
	}
	if (maps_path == NULL || i != argc - 1 || rounds < 1) {
		fprintf(stderr, "usage: json-map-bench -m MAPPINGS [-n ROUNDS] [-i] [-e] FILE\n");
		return 2;
	}
	char err[1024];
	mmr_mappings *maps = mmr_mappings_load(maps_path, err, sizeof(err));
	if (maps == NULL) {
		fprintf(stderr, "json-map-bench: %s\n", err);
		return 1;
	}
	FILE *f = fopen(argv[i], "r");
	if (f == NULL) {
		perror(argv[i]);
		return 1;
	}
	char **lines = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t got;
	while ((got = getline(&line, &lcap, f)) > 0) {
		char *brace = strchr(line, '{');
		if (brace == NULL)
			continue;
		if (line[got - 1] == '\n')
			line[got - 1] = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			lines = realloc(lines, cap * sizeof(*lines));
			if (lines == NULL)
				return 1;
		}
		if ((lines[n++] = strdup(brace)) == NULL)
			return 1;
	}
	free(line);
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "json-map-bench: no JSON lines in %s\n", argv[i]);
		return 1;
	}

	const mmr_user_norm norm = {.strip_domain = true};
	size_t identity = 0;
	double t0 = thread_seconds();
	for (long r = 0; r < rounds; r++) {
		for (size_t k = 0; k < n; k++) {
			mmr_parse_input in = {.msg = lines[k], .msg_len = strlen(lines[k]),
					      .fallback_time = 1700000000};
			mmr_event ev;
			if (mmr_parse_event(NULL, maps, &in, &norm, &ev, NULL) != MMR_PARSE_OK)
				continue;
			identity += r == 0;
			if (event_json)
				json_object_put(mmr_event_to_json(&ev));
		}
	}
	double t = thread_seconds() - t0;
	printf("lines %zu identity %zu rounds %ld cpu_us_per_line %.3f\n", n, identity, rounds,
	       t * 1e6 / ((double)n * (double)rounds));
	for (size_t k = 0; k < n; k++)
		free(lines[k]);
	free(lines);
	mmr_mappings_free(maps);
	return 0;
}
