/* JSON checks shared by the fuzz harnesses (through fuzz_common.h) and the unit tests of the
 * mappings' scanner (engine/map/json_scan.h):
 *   - strict RFC 8259 checks of a complete JSON text, independent of the code they check: the
 *     engine's output (grammar, no raw control characters in strings, every string well-formed
 *     UTF-8 per RFC 3629: no overlongs, no surrogates, <= U+10FFFF) and, without the UTF-8
 *     part, the messages the scanner may accept. Values nested deeper than 64 fail;
 *   - the libfastjson path the scanner replaced in mmr_parse_event(), and a comparison of a
 *     scanned document with libfastjson's tree of the same text, value by value.
 */
#ifndef MMR_FUZZ_JSON_CHECK_H
#define MMR_FUZZ_JSON_CHECK_H

#include <json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "map/json_scan.h"

typedef struct {
	const unsigned char *p, *end;
	const char *why;
	int depth;
	bool any_bytes;   /* input check: bytes >= 0x80 in strings are not checked */
	int max_depth;    /* deepest value seen (the root is 0) */
	size_t values;    /* values seen */
} fuzz_jv;

static bool fuzz_jv_value(fuzz_jv *v);

static void fuzz_jv_ws(fuzz_jv *v)
{
	while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
		v->p++;
}

static bool fuzz_jv_fail(fuzz_jv *v, const char *why)
{
	if (v->why == NULL)
		v->why = why;
	return false;
}

static bool fuzz_jv_utf8(fuzz_jv *v)
{
	const unsigned char *s = v->p;
	size_t left = (size_t)(v->end - s);
	unsigned c = s[0];
	size_t n;
	unsigned cp, min;
	if (c < 0x80)
		return v->p++, true;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return fuzz_jv_fail(v, "invalid UTF-8 lead byte in a string");
	}
	if (left < n + 1)
		return fuzz_jv_fail(v, "truncated UTF-8 sequence in a string");
	for (size_t i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return fuzz_jv_fail(v, "invalid UTF-8 continuation byte in a string");
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fuzz_jv_fail(v, "overlong, surrogate or out-of-range UTF-8 in a string");
	v->p += n + 1;
	return true;
}

static bool fuzz_jv_string(fuzz_jv *v)
{
	v->p++; /* opening quote */
	while (v->p < v->end) {
		unsigned c = *v->p;
		if (c == '"')
			return v->p++, true;
		if (c < 0x20)
			return fuzz_jv_fail(v, "raw control character in a string");
		if (c == '\\') {
			if (++v->p >= v->end)
				break;
			c = *v->p;
			if (c == 'u') {
				for (int i = 1; i <= 4; i++) {
					if (v->p + i >= v->end ||
					    !strchr("0123456789abcdefABCDEF", v->p[i]) || v->p[i] == 0)
						return fuzz_jv_fail(v, "bad \\u escape");
				}
				v->p += 5;
			} else if (strchr("\"\\/bfnrt", (int)c) && c != 0) {
				v->p++;
			} else {
				return fuzz_jv_fail(v, "bad escape in a string");
			}
			continue;
		}
		if (c >= 0x80 && v->any_bytes)
			v->p++;
		else if (!fuzz_jv_utf8(v))
			return false;
	}
	return fuzz_jv_fail(v, "unterminated string");
}

static bool fuzz_jv_number(fuzz_jv *v)
{
	const unsigned char *s = v->p;
	if (s < v->end && *s == '-')
		s++;
	if (s >= v->end || !(*s >= '0' && *s <= '9'))
		return fuzz_jv_fail(v, "bad number");
	if (*s == '0')
		s++;
	else
		while (s < v->end && *s >= '0' && *s <= '9')
			s++;
	if (s < v->end && *s == '.') {
		s++;
		if (s >= v->end || !(*s >= '0' && *s <= '9'))
			return fuzz_jv_fail(v, "bad fraction");
		while (s < v->end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < v->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < v->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= v->end || !(*s >= '0' && *s <= '9'))
			return fuzz_jv_fail(v, "bad exponent");
		while (s < v->end && *s >= '0' && *s <= '9')
			s++;
	}
	v->p = s;
	return true;
}

static bool fuzz_jv_lit(fuzz_jv *v, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n) != 0)
		return fuzz_jv_fail(v, "bad literal");
	v->p += n;
	return true;
}

static bool fuzz_jv_value(fuzz_jv *v)
{
	fuzz_jv_ws(v);
	v->values++;
	if (v->depth > v->max_depth)
		v->max_depth = v->depth;
	if (v->p >= v->end)
		return fuzz_jv_fail(v, "value expected");
	switch (*v->p) {
	case '"':
		return fuzz_jv_string(v);
	case 't':
		return fuzz_jv_lit(v, "true");
	case 'f':
		return fuzz_jv_lit(v, "false");
	case 'n':
		return fuzz_jv_lit(v, "null");
	case '{':
	case '[': {
		char close = *v->p == '{' ? '}' : ']';
		bool obj = close == '}';
		if (++v->depth > 64)
			return fuzz_jv_fail(v, "nested deeper than 64");
		v->p++;
		fuzz_jv_ws(v);
		if (v->p < v->end && *v->p == close) {
			v->p++;
			v->depth--;
			return true;
		}
		for (;;) {
			fuzz_jv_ws(v);
			if (obj) {
				if (v->p >= v->end || *v->p != '"')
					return fuzz_jv_fail(v, "object key expected");
				if (!fuzz_jv_string(v))
					return false;
				fuzz_jv_ws(v);
				if (v->p >= v->end || *v->p != ':')
					return fuzz_jv_fail(v, "':' expected");
				v->p++;
			}
			if (!fuzz_jv_value(v))
				return false;
			fuzz_jv_ws(v);
			if (v->p < v->end && *v->p == ',') {
				v->p++;
				continue;
			}
			if (v->p < v->end && *v->p == close) {
				v->p++;
				v->depth--;
				return true;
			}
			return fuzz_jv_fail(v, "',' or closing bracket expected");
		}
	}
	default:
		return fuzz_jv_number(v);
	}
}

static inline const char *fuzz_jv_check(fuzz_jv *v)
{
	if (!fuzz_jv_value(v))
		return v->why;
	fuzz_jv_ws(v);
	if (v->p != v->end)
		return "trailing bytes after the JSON value";
	return NULL;
}

/* What the engine writes: strict RFC 8259 including well-formed UTF-8. NULL when valid, else
 * what is wrong. */
static inline const char *fuzz_json_strict_error(const char *s, size_t len)
{
	fuzz_jv v = {.p = (const unsigned char *)s, .end = (const unsigned char *)s + len};
	return fuzz_jv_check(&v);
}

/* What a message may be for the mappings' scanner (engine/map/json_scan.h): RFC 8259 grammar,
 * any bytes >= 0x80 in strings. Also reports the deepest value (root 0) and the number of
 * values, to compare with the scanner's limits. */
static inline const char *fuzz_json_input_error(const char *s, size_t len, int *max_depth,
						size_t *values)
{
	fuzz_jv v = {.p = (const unsigned char *)s, .end = (const unsigned char *)s + len,
		     .any_bytes = true};
	const char *why = fuzz_jv_check(&v);
	*max_depth = v.max_depth;
	*values = v.values;
	return why;
}

/* ---- the scanner against libfastjson ------------------------------------------------------ */

/* Where mmr_parse_event() looks for JSON: after blanks and an optional "@cee:" cookie; NULL
 * unless a '{' starts there. *len becomes the length from there. */
static inline const char *fuzz_json_part(const char *s, size_t *len)
{
	while (*len > 0 && (*s == ' ' || *s == '\t'))
		s++, (*len)--;
	if (*len >= 5 && memcmp(s, "@cee:", 5) == 0) {
		s += 5, *len -= 5;
		while (*len > 0 && *s == ' ')
			s++, (*len)--;
	}
	return *len > 0 && *s == '{' ? s : NULL;
}

/* The message's JSON object as mmr_parse_event() read it before the scanner: libfastjson's
 * tokener on the part above; NULL unless that gives an object. */
static inline struct json_object *fuzz_json_tree(const char *s, size_t len)
{
	if ((s = fuzz_json_part(s, &len)) == NULL)
		return NULL;
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	struct json_object *j = json_tokener_parse_ex(tok, s, (int)len);
	json_tokener_free(tok);
	if (j != NULL && !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		j = NULL;
	}
	return j;
}

/* NULL when scanned value i reads as libfastjson's value t at every level: the same type, the
 * same scalar text, the same elements in order, and for every key of t's objects the member
 * the scanner finds (mmr_json_member, keys compared as libfastjson is set to compare them:
 * ignore_case). Otherwise a description of the first difference (in a static buffer). */
static inline const char *fuzz_json_tape_differs(mmr_json_doc *d, uint32_t i,
						 struct json_object *t, bool ignore_case)
{
	static char why[512];
	mmr_jvalue a, b;
	mmr_json_value(d, i, &a);
	mmr_jvalue_from_json(t, &b);
	const char *ta = mmr_jvalue_text(&a), *tb = mmr_jvalue_text(&b);
	if (a.type != b.type || (ta == NULL) != (tb == NULL) || (ta && strcmp(ta, tb) != 0)) {
		snprintf(why, sizeof(why), "node %u: type %d \"%.100s\", libfastjson type %d \"%.100s\"",
			 (unsigned)i, (int)a.type, ta ? ta : "", (int)b.type, tb ? tb : "");
		return why;
	}
	if (a.type == MMR_JV_ARRAY) {
		size_t n = (size_t)json_object_array_length(t), k = 0;
		for (uint32_t e = mmr_json_first(d, i); e != MMR_JSON_NONE; e = mmr_json_next(d, i, e), k++) {
			const char *w = k < n ? fuzz_json_tape_differs(d, e, json_object_array_get_idx(t, (int)k),
								       ignore_case)
					      : "more elements than libfastjson's array";
			if (w != NULL)
				return w;
		}
		if (k != n) {
			snprintf(why, sizeof(why), "node %u: %zu elements, libfastjson %zu", (unsigned)i, k, n);
			return why;
		}
	} else if (a.type == MMR_JV_OBJECT) {
		struct fjson_object_iterator it = fjson_object_iter_begin(t), end = fjson_object_iter_end(t);
		for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
			const char *key = fjson_object_iter_peek_name(&it);
			uint32_t m = mmr_json_member(d, i, key, ignore_case);
			if (m == MMR_JSON_NONE) {
				snprintf(why, sizeof(why), "node %u: no member \"%.100s\"", (unsigned)i, key);
				return why;
			}
			const char *w = fuzz_json_tape_differs(d, m, fjson_object_iter_peek_value(&it),
							       ignore_case);
			if (w != NULL)
				return w;
		}
	}
	return NULL;
}

#endif
