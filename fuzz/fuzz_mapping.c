/* fuzz_mapping: the text of one mapping file (rulebase/SCHEMA.md §8) through
 * mmr_mappings_load(), then fixed records through the mapping.
 *
 * Input: the bytes of a mapping file, written to a file in the harness's private directory
 * (there is no buffer API: the module and the tools load mappings by path). When it loads,
 * every record of fuzz/context/mapping-docs.txt is applied to it: JSON lines as they are
 * (Okta, Entra, Google Workspace, the shapes of the unit tests), text lines through the shipped
 * rulebase first (FortiGate key=value fields, as the module gives them to the mappings). Each
 * result is checked like the module's output: status in range, event texts NUL-terminated,
 * mmr_event_to_json() valid strict JSON, the mapping's name a string. The records are parsed
 * once at start and only read afterwards (mmr_mappings_apply() does not change its document).
 * A load that fails must say why: a non-empty error naming the file.
 */
#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"
#include "mmriskscore/parse.h"
#include "mmriskscore/rulebase.h"

#include "fuzz_common.h"

#define MAX_DOCS 128

static struct json_object *docs[MAX_DOCS];
/* kept for the whole run: liblognorm's field objects use the rulebase's parser names as
 * their keys (not copied), so they must not outlive it */
static mmr_rulebase *rb;
static size_t ndocs;
static char map_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[1024], path[4200];
	rb = mmr_rulebase_load(fuzz_rulebase_path(), err, sizeof(err));
	if (rb == NULL) {
		fprintf(stderr, "fuzz_mapping: %s: %s\n", fuzz_rulebase_path(), err);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/mapping-docs.txt", fuzz_context_dir());
	char *text = fuzz_read_text(path, NULL);
	if (text == NULL) {
		fprintf(stderr, "fuzz_mapping: cannot read %s\n", path);
		exit(1);
	}
	for (char *line = strtok(text, "\n"); line && ndocs < MAX_DOCS; line = strtok(NULL, "\n")) {
		if (line[0] == '\0' || line[0] == '#')
			continue;
		struct json_object *d = line[0] == '{' ? json_tokener_parse(line)
						       : mmr_rulebase_parse(rb, line, strlen(line));
		if (d == NULL || !json_object_is_type(d, json_type_object)) {
			fprintf(stderr, "fuzz_mapping: %s: not a JSON object or no rule: %.80s\n",
				path, line);
			exit(1);
		}
		docs[ndocs++] = d;
	}
	free(text);
	snprintf(map_path, sizeof(map_path), "%s/mapping.json", fuzz_tmpdir());
	return 0;
}

static void check_event(const mmr_event *ev)
{
	fuzz_check_event_texts(ev);
	if ((unsigned)ev->action >= MMR_ACTION_COUNT_ || (unsigned)ev->outcome > MMR_OUTCOME_FAILURE)
		FUZZ_FAIL("action %d outcome %d", (int)ev->action, (int)ev->outcome);
	struct json_object *j = mmr_event_to_json(ev);
	fuzz_check_json(j, "mmr_event_to_json");
	json_object_put(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	fuzz_write_file(map_path, data, size);
	char err[1024] = "";
	mmr_mappings *m = mmr_mappings_load(map_path, err, sizeof(err));
	if (m == NULL) {
		fuzz_check_cstr(err, sizeof(err), "load error");
		if (err[0] == '\0')
			FUZZ_FAIL("mmr_mappings_load failed without a message");
		return 0;
	}
	if (mmr_mappings_count(m) != 1)
		FUZZ_FAIL("one file loaded as %zu mappings", mmr_mappings_count(m));
	static const mmr_user_norm norms[2] = {{.strip_domain = true},
					       {.strip_domain = false, .default_domain = "corp.example"}};
	for (size_t i = 0; i < ndocs; i++) {
		const mmr_user_norm *norm = &norms[i & 1];
		mmr_event ev;
		const char *name = NULL;
		mmr_map_status st = mmr_mappings_apply(m, docs[i], &ev, norm, 1790812800, &name);
		if (st != MMR_MAP_OK && st != MMR_MAP_NOT_IDENTITY && st != MMR_MAP_NO_MATCH)
			FUZZ_FAIL("mmr_mappings_apply returned %d", (int)st);
		if (st != MMR_MAP_NO_MATCH && name == NULL)
			FUZZ_FAIL("a mapping matched but has no name");
		if (name != NULL)
			fuzz_check_cstr(name, 4096, "mapping name");
		if (st == MMR_MAP_OK) {
			if (ev.user[0] == '\0' || ev.action == MMR_ACTION_NONE)
				FUZZ_FAIL("MMR_MAP_OK without user or action");
			check_event(&ev);
		}
		/* the parsedfields path: same mapping, after the canonical-name attempt */
		mmr_parse_status ps = mmr_parse_fields(docs[i], m, norm, 1790812800, &ev, NULL);
		if (ps == MMR_PARSE_OK)
			check_event(&ev);
	}
	mmr_mappings_free(m);
	return 0;
}
