/* fuzz_json_scan: the mappings' JSON scanner (engine/map/json_scan.c) against libfastjson,
 * the parser it replaced on the module's IdP path.
 *
 * Input: one message, as the module's msg (blanks and "@cee:" skipped like mmr_parse_event()).
 * It is read twice, in each of libfastjson's key modes (case-sensitive, its default, and
 * case-insensitive, as inside rsyslogd): by the scanner and by libfastjson's tokener. Checks:
 *   - the scanner never accepts what libfastjson rejects, and rejects what libfastjson accepts
 *     only when it is not RFC 8259 JSON (fuzz_json_input_error) or exceeds the scanner's
 *     documented limits;
 *   - the tape is well formed: every node's subtree ends inside its parent's, spans lie inside
 *     the text, decoded strings are no longer than their raw text;
 *   - both readings agree value by value (fuzz_json_tape_differs): types, texts, elements,
 *     the member each key finds (duplicates, key case, escapes, \u0000 in keys);
 *   - the shipped mappings and the mapping seeds of fuzz/seeds-extra give the same status,
 *     mapping name and mmr_event_to_json() bytes on both, and that JSON is strict.
 */
#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map/json_scan.h"
#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"

#include "fuzz_common.h"

#define MAX_SETS 8

/* [0] case-sensitive, [1] case-insensitive: each set learns the key mode on first use */
static mmr_mappings *sets[2][MAX_SETS];
static size_t nsets;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char *const extra[] = {"mapping-paths.json", "mapping-conds.json",
					    "mapping-every-field.json", "mapping-minimal.json"};
	char err[1024], path[4200];
	for (size_t i = 0; i <= sizeof(extra) / sizeof(extra[0]); i++) {
		if (i == 0)
			snprintf(path, sizeof(path), "%s", fuzz_mappings_path());
		else
			snprintf(path, sizeof(path), "%s/fuzz/seeds-extra/%s", MMR_FUZZ_SRCDIR,
				 extra[i - 1]);
		for (int k = 0; k < 2; k++) {
			sets[k][nsets] = mmr_mappings_load(path, err, sizeof(err));
			if (sets[k][nsets] == NULL) {
				fprintf(stderr, "fuzz_json_scan: %s: %s\n", path, err);
				exit(1);
			}
		}
		nsets++;
	}
	return 0;
}

static void check_tape(const mmr_json_doc *d, size_t len)
{
	if (d->n == 0 || d->nodes[0].end != d->n)
		FUZZ_FAIL("root subtree ends at %u of %u nodes", d->n ? d->nodes[0].end : 0, d->n);
	for (uint32_t i = 0; i < d->n; i++) {
		const mmr_json_node *n = &d->nodes[i];
		if (n->end <= i || n->end > d->n)
			FUZZ_FAIL("node %u ends at %u of %u", i, n->end, d->n);
		if ((size_t)n->val + n->val_len > len || (size_t)n->key + n->key_len > len)
			FUZZ_FAIL("node %u: span outside the text", i);
		if (n->type != MMR_JV_OBJECT && n->type != MMR_JV_ARRAY && n->end != i + 1)
			FUZZ_FAIL("scalar node %u has a subtree", i);
		for (uint32_t c = mmr_json_first(d, i); c != MMR_JSON_NONE; c = mmr_json_next(d, i, c))
			if (d->nodes[c].end > n->end)
				FUZZ_FAIL("node %u inside %u ends after it", c, i);
	}
}

static void check_values(mmr_json_doc *d)
{
	for (uint32_t i = 0; i < d->n; i++) {
		mmr_jvalue v;
		mmr_json_value(d, i, &v);
		const char *t = mmr_jvalue_text(&v);
		if (v.type == MMR_JV_STRING && strlen(t) > d->nodes[i].val_len)
			FUZZ_FAIL("node %u decodes to %zu bytes from %u", i, strlen(t), d->nodes[i].val_len);
	}
}

static void event_text(const mmr_event *ev, char *buf, size_t len)
{
	fuzz_check_event_texts(ev);
	struct json_object *j = mmr_event_to_json(ev);
	fuzz_check_json(j, "mmr_event_to_json");
	snprintf(buf, len, "%s|%lld", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
		 (long long)ev->time);
	json_object_put(j);
}

static void one_mode(const char *text, size_t size, int mode)
{
	static const mmr_user_norm norms[2] = {{.strip_domain = true},
					       {.strip_domain = false, .default_domain = "corp.example"}};
	fjson_global_do_case_sensitive_comparison(mode == 0);
	struct json_object *tree = fuzz_json_tree(text, size);
	size_t len = size;
	const char *part = fuzz_json_part(text, &len);
	mmr_json_doc doc;
	mmr_json_doc_init(&doc);
	mmr_json_status st = part ? mmr_json_scan(&doc, part, len) : MMR_JSON_INVALID;
	if (st == MMR_JSON_OK && tree == NULL)
		FUZZ_FAIL("the scanner accepts what libfastjson rejects");
	if (st != MMR_JSON_OK && tree != NULL) {
		int depth;
		size_t values;
		if (fuzz_json_input_error(part, len, &depth, &values) == NULL &&
		    depth <= MMR_JSON_MAX_DEPTH && values <= MMR_JSON_MAX_NODES)
			FUZZ_FAIL("the scanner rejects RFC 8259 JSON (status %d)", (int)st);
	}
	if (st == MMR_JSON_OK) {
		check_tape(&doc, len);
		check_values(&doc);
		const char *why = fuzz_json_tape_differs(&doc, 0, tree, mode == 1);
		if (why != NULL)
			FUZZ_FAIL("scanner and libfastjson differ (%s keys): %s",
				  mode ? "case-insensitive" : "exact", why);
		for (size_t i = 0; i < nsets; i++) {
			const mmr_user_norm *norm = &norms[(size + i) & 1];
			mmr_event a, b;
			const char *na = NULL, *nb = NULL;
			mmr_map_status sa = mmr_mappings_apply(sets[mode][i], tree, &a, norm, 1790812800, &na);
			mmr_map_status sb =
				mmr_mappings_apply_scanned(sets[mode][i], &doc, &b, norm, 1790812800, &nb);
			char ta[4096], tb[4096];
			event_text(&a, ta, sizeof(ta));
			event_text(&b, tb, sizeof(tb));
			if (sa != sb || na != nb || strcmp(ta, tb) != 0)
				FUZZ_FAIL("mapping set %zu, %s keys: libfastjson %d %s %s, scanner %d %s %s",
					  i, mode ? "case-insensitive" : "exact", (int)sa, na ? na : "-",
					  ta, (int)sb, nb ? nb : "-", tb);
		}
	}
	mmr_json_doc_release(&doc);
	json_object_put(tree);
	fjson_global_do_case_sensitive_comparison(1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 18)
		return 0;
	for (int mode = 0; mode < 2; mode++)
		one_mode((const char *)data, size, mode);
	return 0;
}
