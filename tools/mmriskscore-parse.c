/* mmriskscore-parse: show what a rulebase makes of log lines, as canonical events.
 *
 *   mmriskscore-parse -r RULEBASE [FILE...]      (stdin when no FILE)
 *
 * Each input line is a parse input as the module sees it (syslog tag + msg, e.g.
 * "sshd[42]: Accepted password for bob from 192.0.2.1 port 22 ssh2"). Each output line is the
 * canonical event as JSON, {"unparsed":true} when no rule matched, or {"not_identity":true}
 * when a rule matched but gave no user or action. Rulebase authors compare this with their
 * expected file (make check does: tests/rulebase/check-expected.sh). Exit status: 0, or 1 on
 * a rulebase or input error.
 */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmriskscore/event.h"
#include "mmriskscore/rulebase.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: mmriskscore-parse -r RULEBASE [-k] [FILE...]\n"
		   "  -r RULEBASE  liblognorm rulebase to parse with\n"
		   "  -k           keep the domain in user names (default: strip DOMAIN\\ and @domain)\n"
		   "Reads parse inputs (syslog tag + msg) one per line; prints one canonical JSON\n"
		   "event per line.\n");
}

static int run(mmr_rulebase *rb, FILE *in, const mmr_user_norm *norm)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, in)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		struct json_object *fields = mmr_rulebase_parse(rb, line, (size_t)n);
		if (fields == NULL) {
			puts("{\"unparsed\":true}");
			continue;
		}
		mmr_event ev;
		if (mmr_event_from_fields(&ev, fields, norm, 0) != MMR_CANON_OK) {
			puts("{\"not_identity\":true}");
		} else {
			struct json_object *out = mmr_event_to_json(&ev);
			puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
			json_object_put(out);
		}
		json_object_put(fields);
	}
	free(line);
	return ferror(in) ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *rbpath = NULL;
	mmr_user_norm norm = {.strip_domain = true};
	int c;

	while ((c = getopt(argc, argv, "r:kh")) != -1) {
		switch (c) {
		case 'r': rbpath = optarg; break;
		case 'k': norm.strip_domain = false; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (rbpath == NULL) {
		usage(stderr);
		return 1;
	}
	char err[1024];
	mmr_rulebase *rb = mmr_rulebase_load(rbpath, err, sizeof(err));
	if (rb == NULL) {
		fprintf(stderr, "mmriskscore-parse: rulebase %s: %s\n", rbpath, err);
		return 1;
	}
	if (mmr_rulebase_warning(rb) != NULL)
		fprintf(stderr, "mmriskscore-parse: warning: %s\n", mmr_rulebase_warning(rb));
	int rc = 0;
	if (optind == argc) {
		rc = run(rb, stdin, &norm);
	} else {
		for (int i = optind; i < argc; i++) {
			FILE *f = fopen(argv[i], "r");
			if (f == NULL) {
				fprintf(stderr, "mmriskscore-parse: %s: %s\n", argv[i], strerror(errno));
				rc = -1;
				continue;
			}
			if (run(rb, f, &norm) != 0)
				rc = -1;
			fclose(f);
		}
	}
	mmr_rulebase_free(rb);
	return rc ? 1 : 0;
}
