/* Unit tests of engine/map/json_scan.c, the mappings' JSON scanner (json_scan.h): the tape it
 * builds, what it rejects (RFC 8259, strict), its limits, and that what it reads is what
 * libfastjson reads from the same text: decoded strings, numbers, duplicate keys and key case.
 * libfastjson is the reference wherever the contract is "as libfastjson": each such test
 * parses the same text with json_tokener and compares.
 */
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

/* the independent RFC 8259 check the fuzz harnesses use */
static bool rfc8259_valid(const char *text)
{
	int depth;
	size_t values;
	return fuzz_json_input_error(text, strlen(text), &depth, &values) == NULL;
}

static mmr_json_status scan(mmr_json_doc *d, const char *text)
{
	mmr_json_doc_init(d);
	return mmr_json_scan(d, text, strlen(text));
}

/* The text of member key of the root, as the scanner decodes it (NULL: no such member). */
static const char *member_text(mmr_json_doc *d, const char *key, bool ignore_case,
			       mmr_jvalue *v)
{
	mmr_json_value(d, mmr_json_member(d, 0, key, ignore_case), v);
	return mmr_jvalue_text(v);
}

/* The text libfastjson gives for member key of the root of text, in the given key mode. */
static char *fjson_member_text(const char *text, const char *key, bool ignore_case)
{
	fjson_global_do_case_sensitive_comparison(!ignore_case);
	struct json_object *j = json_tokener_parse(text), *v = NULL;
	char *r = NULL;
	if (j == NULL)
		fail_msg("test bug: libfastjson rejects %s", text);
	if (json_object_object_get_ex(j, key, &v) && v != NULL)
		r = strdup(json_object_get_string(v));
	json_object_put(j);
	fjson_global_do_case_sensitive_comparison(1);
	return r;
}

/* member key of text reads the same through the scanner and libfastjson, and is want. */
static void assert_member_like_fjson(const char *text, const char *key, bool ignore_case,
				     const char *want)
{
	mmr_json_doc d;
	mmr_jvalue v;
	if (scan(&d, text) != MMR_JSON_OK)
		fail_msg("scanner rejects %s", text);
	const char *got = member_text(&d, key, ignore_case, &v);
	char *ref = fjson_member_text(text, key, ignore_case);
	if ((got == NULL) != (ref == NULL) || (got && strcmp(got, ref) != 0))
		fail_msg("%s [%s]: scanner \"%s\", libfastjson \"%s\"", text, key, got ? got : "(none)",
			 ref ? ref : "(none)");
	if ((want == NULL) != (got == NULL) || (want && strcmp(got, want) != 0))
		fail_msg("%s [%s]: \"%s\", expected \"%s\"", text, key, got ? got : "(none)",
			 want ? want : "(none)");
	free(ref);
	mmr_json_doc_release(&d);
}

/* ---- the tape ------------------------------------------------------------------------------ */

static void test_tape_structure(void **state)
{
	(void)state;
	mmr_json_doc d;
	const char *t = " {\"a\": [1, {\"b\": null}, \"x\"], \"c\": {}, \"d\": true} \r\n";
	assert_int_equal(scan(&d, t), MMR_JSON_OK);
	/* 0 root, 1 a, 2 1, 3 {b}, 4 b, 5 "x", 6 c, 7 d */
	assert_int_equal(d.n, 8);
	assert_int_equal(d.nodes[0].type, MMR_JV_OBJECT);
	assert_int_equal(d.nodes[0].end, 8);
	assert_int_equal(d.nodes[1].type, MMR_JV_ARRAY);
	assert_int_equal(d.nodes[1].end, 6);
	assert_int_equal(d.nodes[3].end, 5);
	assert_int_equal(d.nodes[4].type, MMR_JV_NULL);
	assert_int_equal(d.nodes[6].type, MMR_JV_OBJECT);
	assert_int_equal(d.nodes[6].val_len, 2);
	assert_memory_equal(t + d.nodes[1].val, "[1, {\"b\": null}, \"x\"]", d.nodes[1].val_len);
	assert_memory_equal(t + d.nodes[7].key, "d", d.nodes[7].key_len);

	/* members in order, then elements in order */
	uint32_t m = mmr_json_first(&d, 0);
	assert_int_equal(m, 1);
	assert_int_equal(m = mmr_json_next(&d, 0, m), 6);
	assert_int_equal(m = mmr_json_next(&d, 0, m), 7);
	assert_int_equal(mmr_json_next(&d, 0, m), MMR_JSON_NONE);
	uint32_t e = mmr_json_first(&d, 1);
	assert_int_equal(e, 2);
	assert_int_equal(e = mmr_json_next(&d, 1, e), 3);
	assert_int_equal(e = mmr_json_next(&d, 1, e), 5);
	assert_int_equal(mmr_json_next(&d, 1, e), MMR_JSON_NONE);
	assert_int_equal(mmr_json_first(&d, 6), MMR_JSON_NONE); /* empty object */
	assert_int_equal(mmr_json_first(&d, 2), MMR_JSON_NONE); /* a scalar */

	/* member lookup: only in objects; nothing for missing keys */
	assert_int_equal(mmr_json_member(&d, 0, "c", false), 6);
	assert_int_equal(mmr_json_member(&d, 3, "b", false), 4);
	assert_int_equal(mmr_json_member(&d, 0, "b", false), MMR_JSON_NONE);
	assert_int_equal(mmr_json_member(&d, 1, "a", false), MMR_JSON_NONE);
	assert_int_equal(mmr_json_member(&d, MMR_JSON_NONE, "a", false), MMR_JSON_NONE);
	mmr_json_doc_release(&d);
}

/* ---- what is rejected ---------------------------------------------------------------------- */

static void test_invalid_documents(void **state)
{
	(void)state;
	/* each is invalid RFC 8259; the ones marked * are accepted by libfastjson's tokener */
	static const char *const bad[] = {
		"", " ", "{", "}", "{\"a\":1", "{\"a\":1,}",              /* * trailing comma */
		"[1,]", "{\"a\" 1}", "{a:1}", "{'a':1}",                   /* * single quotes */
		"{\"a\":'x'}", "{\"a\":1} x",                              /* * trailing text */
		"{\"a\":1}{\"b\":2}", "{\"a\":1}\v", "{\"a\":1}\f",       /* * other blanks */
		"{/*c*/\"a\":1}", "{\"a\":1}//c", "{\"a\":NaN}", "{\"a\":Infinity}",
		"{\"a\":-Infinity}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":truex}",
		"{\"a\":01}", "{\"a\":-01}", "{\"a\":00}", "{\"a\":1.}", "{\"a\":.5}",
		"{\"a\":-}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":+1}", "{\"a\":1+2}",
		"{\"a\":1.5.3}", "{\"a\":0x10}", "{\"a\":\"\x01\"}", "{\"a\":\"tab\there\"}",
		"{\"a\":\"nl\nhere\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"\\u12g4\"}", "{\"a\":\"\\\"}", "{\"a\":\"open}", "{\"a\"}",
		"{\"a\":}", "{,}", "{\"a\":1,,\"b\":2}", "[1 2]", "{\"a\":[}", "{\"a\":{]}",
		"\xef\xbb\xbf{\"a\":1}", /* a byte-order mark is not JSON whitespace */
		NULL,
	};
	for (const char *const *b = bad; *b; b++) {
		mmr_json_doc d;
		mmr_json_status st = scan(&d, *b);
		if (st != MMR_JSON_INVALID)
			fail_msg("accepted or misclassified (%d): %s", (int)st, *b);
		if (rfc8259_valid(*b))
			fail_msg("test bug: the oracle accepts %s", *b);
		mmr_json_doc_release(&d);
	}
	/* NUL bytes, which strlen() cannot show: inside a string, between values, at the end */
	static const char nul_in[] = "{\"a\":\"x\0y\"}", nul_between[] = "{\"a\":1,\0\"b\":2}",
			  nul_after[] = "{\"a\":1}\0";
	const char *const nuls[] = {nul_in, nul_between, nul_after};
	const size_t lens[] = {sizeof(nul_in) - 1, sizeof(nul_between) - 1, sizeof(nul_after) - 1};
	for (size_t i = 0; i < 3; i++) {
		mmr_json_doc d;
		mmr_json_doc_init(&d);
		assert_int_equal(mmr_json_scan(&d, nuls[i], lens[i]), MMR_JSON_INVALID);
	}
}

static void test_valid_documents(void **state)
{
	(void)state;
	static const char *const good[] = {
		"{}", " \t\r\n{ } \t\r\n", "{\"\":\"\"}", "{\"a\":[]}", "{\"a\":[[],{}]}",
		"{\"a\":-0}", "{\"a\":0.0e-0}", "{\"a\":1E+9}", "{\"a\":-1.25e10}",
		"{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\uD83D\\uDE00\"}",
		"{\"a\":\"\xff\xfe raw bytes are not checked\"}", "{\"a\":\"\x7f\"}",
		"{\"a\":true,\"b\":false,\"c\":null}", "[1,2,3]", "\"text\"", "42", NULL,
	};
	for (const char *const *g = good; *g; g++) {
		mmr_json_doc d;
		if (scan(&d, *g) != MMR_JSON_OK)
			fail_msg("rejected: %s", *g);
		if (!rfc8259_valid(*g))
			fail_msg("test bug: the oracle rejects %s", *g);
		mmr_json_doc_release(&d);
	}
}

/* ---- limits -------------------------------------------------------------------------------- */

/* depth objects {"k": ... } around inner */
static char *nested(int depth, const char *open, const char *close, const char *inner)
{
	size_t n = (size_t)depth * (strlen(open) + strlen(close)) + strlen(inner) + 1;
	char *s = malloc(n), *p = s;
	assert_non_null(s);
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "%s", open);
	p += sprintf(p, "%s", inner);
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "%s", close);
	return s;
}

static void expect_depth(int depth, const char *open, const char *close, const char *inner,
			 mmr_json_status want)
{
	char *s = nested(depth, open, close, inner);
	mmr_json_doc d;
	mmr_json_status st = scan(&d, s);
	if (st != want)
		fail_msg("%d x %s%s: status %d, expected %d", depth, open, inner, (int)st, (int)want);
	/* the limit is libfastjson's: the same documents are too deep for it */
	struct json_object *j = json_tokener_parse(s);
	if ((j != NULL) != (want == MMR_JSON_OK))
		fail_msg("%d x %s%s: libfastjson %s", depth, open, inner, j ? "accepts" : "rejects");
	json_object_put(j);
	mmr_json_doc_release(&d);
	free(s);
}

static void test_depth_limit(void **state)
{
	(void)state;
	/* a value 31 levels below the root is the deepest allowed */
	expect_depth(MMR_JSON_MAX_DEPTH, "{\"k\":", "}", "1", MMR_JSON_OK);
	expect_depth(MMR_JSON_MAX_DEPTH + 1, "{\"k\":", "}", "1", MMR_JSON_TOO_DEEP);
	expect_depth(MMR_JSON_MAX_DEPTH + 1, "[", "]", "", MMR_JSON_OK);
	expect_depth(MMR_JSON_MAX_DEPTH + 2, "[", "]", "", MMR_JSON_TOO_DEEP);
	expect_depth(MMR_JSON_MAX_DEPTH, "[", "]", "[1]", MMR_JSON_TOO_DEEP);
	expect_depth(10000, "[", "]", "", MMR_JSON_TOO_DEEP);
}

/* "[0,0,...,0]" with n elements: n + 1 values */
static char *flat_array(size_t n)
{
	char *s = malloc(2 * n + 2);
	assert_non_null(s);
	s[0] = '[';
	for (size_t i = 0; i < n; i++) {
		s[1 + 2 * i] = '0';
		s[2 + 2 * i] = ',';
	}
	s[2 * n] = ']';
	s[2 * n + 1] = '\0';
	return s;
}

static void test_node_limit_and_growth(void **state)
{
	(void)state;
	mmr_json_doc d;
	/* beyond the inline tape: moved to the heap, still correct (leaks show under ASan) */
	char *s = flat_array(3 * MMR_JSON_INLINE_NODES);
	assert_int_equal(scan(&d, s), MMR_JSON_OK);
	assert_int_equal(d.n, 3 * MMR_JSON_INLINE_NODES + 1);
	assert_int_equal(d.nodes[0].end, d.n);
	assert_ptr_not_equal(d.nodes, d.inline_nodes);
	mmr_json_doc_release(&d);
	assert_ptr_equal(d.nodes, d.inline_nodes);
	free(s);

	s = flat_array(MMR_JSON_MAX_NODES - 1);
	assert_int_equal(scan(&d, s), MMR_JSON_OK);
	assert_int_equal(d.n, MMR_JSON_MAX_NODES);
	mmr_json_doc_release(&d);
	free(s);
	s = flat_array(MMR_JSON_MAX_NODES);
	assert_int_equal(scan(&d, s), MMR_JSON_TOO_LARGE);
	mmr_json_doc_release(&d);
	free(s);
}

/* ---- values: as libfastjson reads them ------------------------------------------------------ */

static void test_string_escapes(void **state)
{
	(void)state;
	assert_member_like_fjson("{\"a\":\"plain\"}", "a", false, "plain");
	assert_member_like_fjson("{\"a\":\"q\\\"b\\\\s\\/f\\bf\\fn\\nr\\rt\\t\"}", "a", false,
				 "q\"b\\s/f\bf\fn\nr\rt\t");
	assert_member_like_fjson("{\"a\":\"\\u0041\\u00e9\\u20AC\"}", "a", false,
				 "A\xc3\xa9\xe2\x82\xac");
	/* a surrogate pair is one character */
	assert_member_like_fjson("{\"a\":\"\\uD83D\\uDE00!\"}", "a", false, "\xf0\x9f\x98\x80!");
	assert_member_like_fjson("{\"a\":\"\\udbff\\udfff\"}", "a", false, "\xf4\x8f\xbf\xbf");
	/* unpaired halves become U+FFFD; what follows is decoded on its own */
	assert_member_like_fjson("{\"a\":\"\\ud800\"}", "a", false, "\xef\xbf\xbd");
	assert_member_like_fjson("{\"a\":\"x\\ud800y\"}", "a", false, "x\xef\xbf\xbdy");
	assert_member_like_fjson("{\"a\":\"\\ud800\\u0041\"}", "a", false, "\xef\xbf\xbd" "A");
	assert_member_like_fjson("{\"a\":\"\\ud800\\ud800\\udc00\"}", "a", false,
				 "\xef\xbf\xbd\xf0\x90\x80\x80");
	assert_member_like_fjson("{\"a\":\"\\udc00\\ud800\"}", "a", false,
				 "\xef\xbf\xbd\xef\xbf\xbd");
	assert_member_like_fjson("{\"a\":\"\\ud800\\n\"}", "a", false, "\xef\xbf\xbd\n");
	/* \u0000 ends the string, as libfastjson's C string does */
	assert_member_like_fjson("{\"a\":\"ab\\u0000cd\"}", "a", false, "ab");
	assert_member_like_fjson("{\"a\":\"\\u0000\"}", "a", false, "");
	/* invalid UTF-8 is passed on (the event fields replace it) */
	assert_member_like_fjson("{\"a\":\"\xc3\x28\xff\"}", "a", false, "\xc3\x28\xff");
	/* longer than the inline buffer: decoded into the heap */
	char big[3 * MMR_JSON_INLINE_TEXT], want[2 * MMR_JSON_INLINE_TEXT];
	size_t o = (size_t)sprintf(big, "{\"a\":\""), w = 0;
	for (int i = 0; i < MMR_JSON_INLINE_TEXT; i++) {
		o += (size_t)sprintf(big + o, i % 2 ? "\\n" : "z");
		want[w++] = i % 2 ? '\n' : 'z';
	}
	sprintf(big + o, "\"}");
	want[w] = '\0';
	assert_member_like_fjson(big, "a", false, want);
}

static void test_numbers_and_literals(void **state)
{
	(void)state;
	assert_member_like_fjson("{\"a\":42}", "a", false, "42");
	assert_member_like_fjson("{\"a\":-0}", "a", false, "0");
	assert_member_like_fjson("{\"a\":9223372036854775807}", "a", false, "9223372036854775807");
	assert_member_like_fjson("{\"a\":-9223372036854775808}", "a", false, "-9223372036854775808");
	/* out of range: saturated, which the count fields treat as out of range */
	assert_member_like_fjson("{\"a\":9223372036854775808}", "a", false, "9223372036854775807");
	assert_member_like_fjson("{\"a\":123456789012345678901234567890}", "a", false,
				 "9223372036854775807");
	assert_member_like_fjson("{\"a\":-9223372036854775809}", "a", false, "-9223372036854775808");
	/* other numbers keep their text */
	assert_member_like_fjson("{\"a\":1.50}", "a", false, "1.50");
	assert_member_like_fjson("{\"a\":1E5}", "a", false, "1E5");
	assert_member_like_fjson("{\"a\":-0.0e-7}", "a", false, "-0.0e-7");
	assert_member_like_fjson("{\"a\":1e400}", "a", false, "1e400");
	assert_member_like_fjson("{\"a\":true}", "a", false, "true");
	assert_member_like_fjson("{\"a\":false}", "a", false, "false");
	assert_member_like_fjson("{\"a\":null}", "a", false, NULL);

	mmr_json_doc d;
	mmr_jvalue v;
	assert_int_equal(scan(&d, "{\"i\":-12,\"d\":2.5,\"b\":true,\"o\":{},\"l\":[]}"), MMR_JSON_OK);
	mmr_json_value(&d, mmr_json_member(&d, 0, "i", false), &v);
	assert_int_equal(v.type, MMR_JV_INT);
	assert_int_equal(v.i, -12);
	mmr_json_value(&d, mmr_json_member(&d, 0, "d", false), &v);
	assert_int_equal(v.type, MMR_JV_DOUBLE);
	mmr_json_value(&d, mmr_json_member(&d, 0, "b", false), &v);
	assert_int_equal(v.type, MMR_JV_BOOL);
	assert_true(v.b);
	mmr_json_value(&d, mmr_json_member(&d, 0, "o", false), &v);
	assert_int_equal(v.type, MMR_JV_OBJECT);
	assert_null(mmr_jvalue_text(&v));
	mmr_json_value(&d, mmr_json_member(&d, 0, "l", false), &v);
	assert_int_equal(v.type, MMR_JV_ARRAY);
	mmr_json_value(&d, MMR_JSON_NONE, &v);
	assert_int_equal(v.type, MMR_JV_NULL);
	assert_null(mmr_jvalue_text(&v));
	mmr_json_doc_release(&d);
}

/* ---- keys: duplicates, case, escapes ------------------------------------------------------- */

static void test_duplicate_keys_last_wins(void **state)
{
	(void)state;
	assert_member_like_fjson("{\"a\":1,\"a\":2}", "a", false, "2");
	assert_member_like_fjson("{\"a\":1,\"b\":0,\"a\":{\"x\":1},\"a\":\"3\"}", "a", false, "3");
	/* a later null replaces an earlier value */
	assert_member_like_fjson("{\"a\":\"x\",\"a\":null}", "a", false, NULL);
	/* keys end at \u0000 like libfastjson's, so "a\u0000z" is "a" */
	assert_member_like_fjson("{\"a\":1,\"a\\u0000z\":2}", "a", false, "2");
	assert_member_like_fjson("{\"a\\u0000z\":2,\"a\":1}", "a", false, "1");
}

static void test_key_case(void **state)
{
	(void)state;
	static const char t[] = "{\"user\":\"a\",\"User\":\"b\",\"USER\":\"c\",\"id\":1}";
	/* exact: the member with exactly that key */
	assert_member_like_fjson(t, "user", false, "a");
	assert_member_like_fjson(t, "User", false, "b");
	assert_member_like_fjson(t, "uSER", false, NULL);
	/* ignoring case (rsyslogd): one member per spelling, the last value wins */
	assert_member_like_fjson(t, "user", true, "c");
	assert_member_like_fjson(t, "uSER", true, "c");
	assert_member_like_fjson(t, "ID", true, "1");
	/* only ASCII letters fold; other bytes must match exactly */
	assert_member_like_fjson("{\"\xc3\xa9t\xc3\xa9\":1}", "\xc3\xa9T\xc3\xa9", true, "1");
	assert_member_like_fjson("{\"a_b\":1}", "A_B", true, "1");
	assert_member_like_fjson("{\"a[b\":1}", "A{B", true, NULL);
}

static void test_escaped_keys(void **state)
{
	(void)state;
	assert_member_like_fjson("{\"\\u0075ser\":\"u\"}", "user", false, "u");
	assert_member_like_fjson("{\"\\u0055ser\":\"u\"}", "user", true, "u");
	assert_member_like_fjson("{\"a\\/b\":1}", "a/b", false, "1");
	assert_member_like_fjson("{\"\\uD83D\\uDE00\":1}", "\xf0\x9f\x98\x80", false, "1");
	assert_member_like_fjson("{\"use\\u0072x\":1}", "user", false, NULL);
	assert_member_like_fjson("{\"us\":1}", "user", false, NULL);
	assert_member_like_fjson("{\"\\u0075\":1}", "us", false, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tape_structure),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_valid_documents),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_node_limit_and_growth),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_numbers_and_literals),
		cmocka_unit_test(test_duplicate_keys_last_wins),
		cmocka_unit_test(test_key_case),
		cmocka_unit_test(test_escaped_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
