/* mmriskscore-parse: show what a rulebase and mappings make of log lines, as canonical events.
 *
 *   mmriskscore-parse [-r RULEBASE] [-m MAPPINGS] [-v] [-k] [-d DOMAIN] [FILE...]
 *
 * Each input line is a parse input as the module sees it: syslog tag + msg for text sources
 * ("sshd[42]: Accepted password for bob from 192.0.2.1 port 22 ssh2"), or a JSON object for
 * IdP sources. Each output line is the canonical event as JSON, {"unparsed":true} when no rule
 * or mapping understood the line, or {"not_identity":true} when one did but found no user or
 * no known action. With -v each result also says which rule ("_via": "rule file:line") or
 * mapping ("_via": "mapping okta") produced it. It is the same code path as the rsyslog
 * module's (engine/parse/parse_event.c). Exit status: 0, or 1 on a load or input error.
 */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmriskscore/event.h"
#include "mmriskscore/parse.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: mmriskscore-parse [-r RULEBASE] [-m MAPPINGS] [-v] [-k] [-d DOMAIN] [FILE...]\n"
		   "  -r RULEBASE  liblognorm rulebase for text lines (syslog tag + msg)\n"
		   "  -m MAPPINGS  mapping file or directory for JSON and key=value sources\n"
		   "  -v           say which rule or mapping produced each result (\"_via\")\n"
		   "  -k           keep the domain in user names (default: strip DOMAIN\\ and @domain)\n"
		   "  -d DOMAIN    with -k: domain for names that have none\n"
		   "Prints one canonical JSON event per input line (stdin when no FILE).\n");
}

typedef struct {
	mmr_rulebase *rb;
	mmr_mappings *maps;
	mmr_user_norm norm;
	int verbose;
} tool;

static void print_result(const tool *t, mmr_parse_status st, const mmr_event *ev,
			 const mmr_parse_trace *tr)
{
	struct json_object *out = st == MMR_PARSE_OK ? mmr_event_to_json(ev) : json_object_new_object();
	if (st == MMR_PARSE_UNPARSED)
		json_object_object_add(out, "unparsed", json_object_new_boolean(1));
	else if (st == MMR_PARSE_NOT_IDENTITY)
		json_object_object_add(out, "not_identity", json_object_new_boolean(1));
	if (t->verbose) {
		char via[700];
		if (tr->mapping)
			snprintf(via, sizeof(via), "mapping %s%s", tr->mapping,
				 tr->json ? " (JSON)" : "");
		else if (tr->rule[0])
			snprintf(via, sizeof(via), "rule %s", tr->rule);
		else
			snprintf(via, sizeof(via), "%s", tr->json ? "JSON, no mapping matched" : "no rule matched");
		if (tr->mapping && tr->rule[0]) {
			size_t l = strlen(via);
			snprintf(via + l, sizeof(via) - l, " after rule %s", tr->rule);
		}
		json_object_object_add(out, "_via", json_object_new_string(via));
	}
	puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
}

static int run(const tool *t, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, in)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		mmr_parse_input pin = {.text = line, .text_len = (size_t)n, .msg = line,
				       .msg_len = (size_t)n, .fallback_time = 0};
		mmr_event ev;
		mmr_parse_trace tr;
		mmr_parse_status st = mmr_parse_event(t->rb, t->maps, &pin, &t->norm, &ev, &tr);
		print_result(t, st, &ev, &tr);
	}
	free(line);
	return ferror(in) ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *rbpath = NULL, *mappath = NULL;
	tool t = {.norm = {.strip_domain = true}};
	int c;

	while ((c = getopt(argc, argv, "r:m:vkd:h")) != -1) {
		switch (c) {
		case 'r': rbpath = optarg; break;
		case 'm': mappath = optarg; break;
		case 'v': t.verbose = 1; break;
		case 'k': t.norm.strip_domain = false; break;
		case 'd': snprintf(t.norm.default_domain, sizeof(t.norm.default_domain), "%s", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (rbpath == NULL && mappath == NULL) {
		usage(stderr);
		return 1;
	}
	char err[1024];
	if (rbpath != NULL) {
		t.rb = mmr_rulebase_load_flags(rbpath, t.verbose ? MMR_RB_EXPLAIN : 0, err, sizeof(err));
		if (t.rb == NULL) {
			fprintf(stderr, "mmriskscore-parse: rulebase %s: %s\n", rbpath, err);
			return 1;
		}
		if (mmr_rulebase_warning(t.rb) != NULL)
			fprintf(stderr, "mmriskscore-parse: warning: %s\n", mmr_rulebase_warning(t.rb));
	}
	if (mappath != NULL && (t.maps = mmr_mappings_load(mappath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mmriskscore-parse: mappings: %s\n", err);
		mmr_rulebase_free(t.rb);
		return 1;
	}
	int rc = 0;
	if (optind == argc) {
		rc = run(&t, stdin);
	} else {
		for (int i = optind; i < argc; i++) {
			FILE *f = fopen(argv[i], "r");
			if (f == NULL) {
				fprintf(stderr, "mmriskscore-parse: %s: %s\n", argv[i], strerror(errno));
				rc = -1;
				continue;
			}
			if (run(&t, f) != 0)
				rc = -1;
			fclose(f);
		}
	}
	mmr_rulebase_free(t.rb);
	mmr_mappings_free(t.maps);
	return rc ? 1 : 0;
}
