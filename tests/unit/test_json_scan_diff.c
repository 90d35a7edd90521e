/* Differential test of the mapping path: for every JSON message the repository holds as a
 * fixture or seed, and every mapping it holds, the scanner path (mmr_json_scan() +
 * mmr_mappings_apply_scanned(), what mmr_parse_event() runs) must give the same status,
 * mapping name and byte-identical mmr_event_to_json() output as the path it replaced:
 * libfastjson's tokener, then mmr_mappings_apply() on the tree. Both key modes of libfastjson
 * are run (case-sensitive, its default; case-insensitive, as inside rsyslogd).
 *
 * Where the two disagree on whether a message is JSON at all, the scanner may only reject
 * what RFC 8259 forbids (fuzz/json_check.h, the fuzz harnesses' independent check);
 * libfastjson also accepts comments, single quotes, trailing text and more. The scanner must
 * never accept what libfastjson rejects.
 *
 * Before the mappings, the two readings of each message are compared value by value.
 *
 * Messages: every line of the files in rulebase/tests (.log), fuzz/corpus/fuzz_parse,
 * fuzz/seeds-extra, tests/fixtures/hostile and tests/integration (.sh), and of
 * fuzz/context/mapping-docs.txt (from the first '{' of a line, and the line as it is), plus
 * the cases below. Mappings: the shipped mappings/ directory, and each file of
 * fuzz/corpus/fuzz_mapping, fuzz/seeds-extra (mapping-...) and tests/fixtures/hostile (.json)
 * that loads on its own.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "../../fuzz/json_check.h"
#include "map/json_scan.h"
#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"
#include "mmriskscore/parse.h"

/* messages the fixtures may lack: key case, duplicates, escapes, numbers at the edges */
static const char *const EXTRA[] = {
	"{\"eventType\":\"user.session.start\",\"published\":\"2024-03-05T08:12:01Z\","
	"\"actor\":{\"type\":\"User\",\"alternateId\":\"a@x.example\"},"
	"\"Actor\":{\"type\":\"User\",\"alternateId\":\"b@x.example\"}}",
	"{\"EventType\":\"user.session.start\",\"PUBLISHED\":\"2024-03-05T08:12:01Z\","
	"\"actor\":{\"Type\":\"User\",\"AlternateId\":\"c@x.example\"},"
	"\"client\":{\"IPADDRESS\":\"198.51.100.7\"}}",
	"{\"eventType\":\"user.session.start\",\"published\":\"2024-03-05T08:12:01Z\","
	"\"actor\":{\"type\":\"User\",\"alternateId\":\"d@x.example\",\"alternateId\":\"e@x.example\"},"
	"\"eventType\":\"user.session.end\"}",
	"{\"\\u0065ventType\":\"user.authentication.sso\",\"published\":\"2024-03-05T08:12:01Z\","
	"\"actor\":{\"type\":\"\\u0055ser\",\"alternateId\":\"f\\u00e9\\ud83d\\ude00\\ud800@x\"},"
	"\"target\":[{\"type\":\"AppInstance\",\"displayName\":\"App\\u0000Tail\"},"
	"{\"type\":\"User\",\"alternateId\":\"g\"}],\"securityContext\":{\"asNumber\":"
	"99999999999999999999,\"isProxy\":\"yes\"},\"client\":{\"ipAddress\":\"::ffff:192.0.2.1\"}}",
	"{\"eventType\":\"user.session.start\",\"published\":1709626321,"
	"\"actor\":{\"type\":\"User\",\"alternateId\":\"  h  \"},\"securityContext\":"
	"{\"asNumber\":-1,\"isProxy\":1},\"outcome\":{\"result\":null,\"reason\":12.50}}",
	"@cee: {\"eventType\":\"user.session.start\",\"published\":\"x\",\"actor\":{\"type\":\"User\","
	"\"alternateId\":\"i\"}}",
	" \t{\"eventType\":\"user.session.start\",\"published\":true,\"actor\":{\"type\":\"User\","
	"\"alternateId\":\"j\"}}  ",
	"{\"eventType\":\"user.session.start\",\"published\":\"2024\",\"actor\":{\"type\":\"User\","
	"\"alternateId\":\"k\"}} trailing",
	"{\"eventType\":\"user.session.start\",\"published\":\"2024\",\"actor\":{\"type\":\"User\","
	"\"alternateId\":\"l\"}}\n",
	NULL,
};

typedef struct {
	char *text;
	size_t len;
} message;

static message *msgs;
static size_t nmsgs, capmsgs;

typedef struct {
	char *path;
	mmr_mappings *exact, *ignore; /* loaded once per key mode (the mode is probed per set) */
} mapping_set;

static mapping_set sets[256];
static size_t nsets;

static char src[PATH_MAX];

static void add_message(const char *text, size_t len)
{
	if (nmsgs == capmsgs) {
		capmsgs = capmsgs ? 2 * capmsgs : 1024;
		msgs = realloc(msgs, capmsgs * sizeof(*msgs));
		assert_non_null(msgs);
	}
	char *t = malloc(len + 1);
	assert_non_null(t);
	memcpy(t, text, len);
	t[len] = '\0';
	msgs[nmsgs++] = (message){t, len};
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	*len = 0;
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Every line of path (NUL bytes kept), and its part from the first '{'. */
static void add_file_lines(const char *path)
{
	size_t len = 0;
	char *buf = read_all(path, &len);
	if (buf == NULL)
		fail_msg("cannot read %s", path);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (buf + i)) : len - i;
		const char *brace = memchr(buf + i, '{', l);
		if (brace != NULL) {
			add_message(buf + i, l);
			if (brace != buf + i)
				add_message(brace, l - (size_t)(brace - (buf + i)));
		}
		i += l + 1;
	}
	free(buf);
}

/* calls fn for every regular file of src/dir whose name starts with prefix and ends with
 * suffix */
static void each_file(const char *dir, const char *prefix, const char *suffix,
		      void (*fn)(const char *))
{
	char d[PATH_MAX + 64], p[2 * PATH_MAX];
	snprintf(d, sizeof(d), "%s/%s", src, dir);
	DIR *dh = opendir(d);
	if (dh == NULL)
		fail_msg("cannot open %s", d);
	for (struct dirent *de; (de = readdir(dh)) != NULL;) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    l < sl || strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
		fn(p);
	}
	closedir(dh);
}

static void add_set(const char *path)
{
	char err[1024];
	fjson_global_do_case_sensitive_comparison(1);
	mmr_mappings *a = mmr_mappings_load(path, err, sizeof(err));
	if (a == NULL)
		return; /* fuzz seeds include files that must not load */
	fjson_global_do_case_sensitive_comparison(0);
	mmr_mappings *b = mmr_mappings_load(path, err, sizeof(err));
	fjson_global_do_case_sensitive_comparison(1);
	assert_non_null(b);
	assert_true(nsets < sizeof(sets) / sizeof(sets[0]));
	sets[nsets++] = (mapping_set){strdup(path), a, b};
}

static int group_setup(void **state)
{
	(void)state;
	const char *env = getenv("MMRISK_SRCDIR");
	if (env && *env) {
		snprintf(src, sizeof(src), "%s", env);
	} else { /* not run by make check: two levels above this source file */
		snprintf(src, sizeof(src), "%s", __FILE__);
		for (int k = 0; k < 3; k++) {
			char *slash = strrchr(src, '/');
			if (slash == NULL) {
				snprintf(src, sizeof(src), ".");
				break;
			}
			*slash = '\0';
		}
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i].text);
	free(msgs);
	for (size_t i = 0; i < nsets; i++) {
		free(sets[i].path);
		mmr_mappings_free(sets[i].exact);
		mmr_mappings_free(sets[i].ignore);
	}
	return 0;
}

typedef struct {
	size_t json, lenient, compared, identity;
} counts;

static void event_text(const mmr_event *ev, char *buf, size_t len)
{
	struct json_object *j = mmr_event_to_json(ev);
	assert_non_null(j);
	snprintf(buf, len, "%s|t=%lld", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
		 (long long)ev->time);
	json_object_put(j);
}

static void compare_one(const message *m, bool ignore_case, counts *c)
{
	static const mmr_user_norm norms[2] = {{.strip_domain = true},
					       {.strip_domain = false, .default_domain = "corp.example"}};
	fjson_global_do_case_sensitive_comparison(!ignore_case);
	struct json_object *tree = fuzz_json_tree(m->text, m->len);
	size_t len = m->len;
	const char *part = fuzz_json_part(m->text, &len);
	mmr_json_doc doc;
	mmr_json_doc_init(&doc);
	mmr_json_status st = part ? mmr_json_scan(&doc, part, len) : MMR_JSON_INVALID;
	if (st == MMR_JSON_OK && tree == NULL)
		fail_msg("the scanner accepts what libfastjson rejects: %.300s", m->text);
	if (st != MMR_JSON_OK && tree != NULL) {
		int depth;
		size_t values;
		bool valid = fuzz_json_input_error(part, len, &depth, &values) == NULL;
		if (valid && depth <= MMR_JSON_MAX_DEPTH && values <= MMR_JSON_MAX_NODES)
			fail_msg("the scanner (%d) rejects valid JSON: %.300s", (int)st, m->text);
		c->lenient++;
	}
	if (st == MMR_JSON_OK) {
		c->json++;
		const char *why = fuzz_json_tape_differs(&doc, 0, tree, ignore_case);
		if (why != NULL)
			fail_msg("the scanner reads %s: %.300s", why, m->text);
		for (size_t i = 0; i < nsets; i++) {
			const mmr_mappings *ms = ignore_case ? sets[i].ignore : sets[i].exact;
			const mmr_user_norm *norm = &norms[(c->compared + i) & 1];
			mmr_event a, b;
			const char *na = NULL, *nb = NULL;
			mmr_map_status sa = mmr_mappings_apply(ms, tree, &a, norm, 1700000000, &na);
			mmr_map_status sb = mmr_mappings_apply_scanned(ms, &doc, &b, norm, 1700000000, &nb);
			char ta[4096], tb[4096];
			event_text(&a, ta, sizeof(ta));
			event_text(&b, tb, sizeof(tb));
			if (sa != sb || na != nb || strcmp(ta, tb) != 0)
				fail_msg("%s (%s keys)\nmessage %.400s\nlibfastjson: %d %s %s\nscanner:     %d %s %s",
					 sets[i].path, ignore_case ? "case-insensitive" : "exact", m->text,
					 (int)sa, na ? na : "-", ta, (int)sb, nb ? nb : "-", tb);
			c->compared++;
			c->identity += sa == MMR_MAP_OK;
		}
	}
	/* the module's entry point gives what libfastjson's tree gives: through the scanner for
	 * RFC 8259 texts, through the tree for the lenient ones; unparsed when neither reads it or
	 * when the document is beyond the scanner's depth or size limits */
	if (nsets > 0) {
		const mmr_mappings *ms = ignore_case ? sets[0].ignore : sets[0].exact;
		mmr_parse_input in = {.msg = m->text, .msg_len = m->len, .fallback_time = 1700000000};
		mmr_event a, b;
		mmr_parse_status pb = mmr_parse_event(NULL, ms, &in, &norms[0], &b, NULL);
		mmr_parse_status pa = MMR_PARSE_UNPARSED;
		if (tree != NULL && (st == MMR_JSON_OK || st == MMR_JSON_INVALID)) {
			mmr_map_status s = mmr_mappings_apply(ms, tree, &a, &norms[0], 1700000000, NULL);
			pa = s == MMR_MAP_OK ? MMR_PARSE_OK
			     : s == MMR_MAP_NOT_IDENTITY ? MMR_PARSE_NOT_IDENTITY : MMR_PARSE_UNPARSED;
		}
		assert_int_equal(pa, pb);
		if (pa == MMR_PARSE_OK) {
			char ta[4096], tb[4096];
			event_text(&a, ta, sizeof(ta));
			event_text(&b, tb, sizeof(tb));
			if (strcmp(ta, tb) != 0)
				fail_msg("mmr_parse_event differs from the tree for %.300s:\n%s\n%s",
					 m->text, ta, tb);
		}
	}
	mmr_json_doc_release(&doc);
	json_object_put(tree);
	fjson_global_do_case_sensitive_comparison(1);
}

static void test_scanner_path_equals_tree_path(void **state)
{
	(void)state;
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/mappings", src);
	add_set(p); /* first: the one mmr_parse_event is compared with */
	assert_int_equal(nsets, 1);
	each_file("fuzz/corpus/fuzz_mapping", "", "", add_set);
	each_file("fuzz/seeds-extra", "mapping-", "", add_set);
	each_file("tests/fixtures/hostile", "", ".json", add_set);

	each_file("rulebase/tests", "", ".log", add_file_lines);
	each_file("fuzz/corpus/fuzz_parse", "", "", add_file_lines);
	each_file("fuzz/seeds-extra", "", "", add_file_lines);
	each_file("tests/fixtures/hostile", "", "", add_file_lines);
	each_file("tests/integration", "", ".sh", add_file_lines);
	snprintf(p, sizeof(p), "%s/fuzz/context/mapping-docs.txt", src);
	add_file_lines(p);
	for (const char *const *e = EXTRA; *e; e++)
		add_message(*e, strlen(*e));

	for (int mode = 0; mode < 2; mode++) {
		counts c = {0};
		for (size_t i = 0; i < nmsgs; i++)
			compare_one(&msgs[i], mode == 1, &c);
		printf("%s keys: %zu messages, %zu JSON for the scanner, %zu only for libfastjson "
		       "(not RFC 8259), %zu mapping results compared, %zu identity events\n",
		       mode ? "case-insensitive" : "exact", nmsgs, c.json, c.lenient, c.compared,
		       c.identity);
		/* the fixtures hold hundreds of IdP events: a test that compares none proves nothing */
		assert_true(nsets >= 20);
		assert_true(c.json >= 200);
		assert_true(c.identity >= 300);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner_path_equals_tree_path),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
