/* make_snapshot_seeds: seed snapshots for fuzz_snapshot.
 *
 *   make_snapshot_seeds RULEBASE MAPPINGS LOGFILE OUTDIR
 *
 * Feeds the lines of LOGFILE (RFC 3164 as contrib/simulator/mmrisk-simulate writes them:
 * "<PRI>Mmm dd hh:mm:ss HOST TAG MSG"; the header up to the host is dropped, as rsyslog does)
 * through the shipped rulebase and mappings into an engine configured as fuzz_snapshot's
 * (snapshot_config.h), and saves a snapshot after 0, 5, 25, 100, 400 and all events, each
 * without and with the harness's pseudonym key: OUTDIR/snap-N[-key]. Run by scripts/fuzz.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/engine.h"
#include "mmriskscore/parse.h"
#include "mmriskscore/state.h"

#include "snapshot_config.h"

static void save(mmr_engine *e, const char *dir, size_t n)
{
	static const uint8_t key[16] = FUZZ_SNAPSHOT_KEY;
	char path[4200], err[1024];
	for (int k = 0; k < 2; k++) {
		mmr_snapshot_opts opts = {.pseudonym_key = k ? key : NULL};
		snprintf(path, sizeof(path), "%s/snap-%zu%s", dir, n, k ? "-key" : "");
		if (mmr_engine_save(e, path, &opts, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "make_snapshot_seeds: %s: %s\n", path, err);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: make_snapshot_seeds RULEBASE MAPPINGS LOGFILE OUTDIR\n");
		return 2;
	}
	char err[1024];
	mmr_rulebase *rb = mmr_rulebase_load(argv[1], err, sizeof(err));
	mmr_mappings *maps = rb ? mmr_mappings_load(argv[2], err, sizeof(err)) : NULL;
	FILE *in = fopen(argv[3], "r");
	if (rb == NULL || maps == NULL || in == NULL) {
		fprintf(stderr, "make_snapshot_seeds: %s\n", in ? err : argv[3]);
		return 1;
	}
	mmr_config cfg;
	fuzz_snapshot_config(&cfg);
	mmr_engine *e = mmr_engine_new(&cfg, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "make_snapshot_seeds: %s\n", err);
		return 1;
	}
	static const size_t at[] = {0, 5, 25, 100, 400};
	size_t next = 0, n = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, in)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* "<PRI>Mmm dd hh:mm:ss HOST " */
		char *p = strchr(line, '>');
		p = p ? p + 1 : line;
		int sp = 0;
		while (*p && sp < 4)
			if (*p++ == ' ' && p[0] != ' ')
				sp++;
		char *msg = strchr(p, ' ');
		msg = msg ? msg + 1 : p;
		mmr_parse_input pin = {.text = p, .text_len = strlen(p), .msg = msg,
				       .msg_len = strlen(msg),
				       .fallback_time = FUZZ_SNAPSHOT_TIME + (int64_t)n};
		mmr_event ev;
		if (mmr_parse_event(rb, maps, &pin, &cfg.user_norm, &ev, NULL) != MMR_PARSE_OK)
			continue;
		while (next < sizeof(at) / sizeof(at[0]) && n == at[next]) {
			save(e, argv[4], n);
			next++;
		}
		mmr_result r;
		(void)mmr_engine_process(e, &ev, &r);
		n++;
	}
	save(e, argv[4], n);
	free(line);
	fclose(in);
	mmr_engine_free(e);
	mmr_config_clear(&cfg);
	mmr_mappings_free(maps);
	mmr_rulebase_free(rb);
	return 0;
}
