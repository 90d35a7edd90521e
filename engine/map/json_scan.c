/* RFC 8259 scanner into a flat node array, and the lazy decoding of what a mapping reads.
 * json_scan.h describes the representation, the limits and why decoding follows libfastjson.
 *
 * The scan is iterative: open containers are kept on a stack of MMR_JSON_MAX_DEPTH + 1 node
 * indices, so nesting costs no C stack. Strings are skipped with a byte-class table and their
 * escapes only checked; numbers only checked against the grammar. Cost: one pass over the
 * text and one node written per value.
 */
#include <stdlib.h>
#include <string.h>

#include "map/json_scan.h"

/* bytes that stand for themselves inside a string: not '"', '\\' or a control character */
static const uint8_t plain_byte[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
	R16(0), R16(0),
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,        /* 0x20..0x2f: '"' */
	R16(1), R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,        /* 0x50..0x5f: '\\' */
	R16(1), R16(1),
	R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1),
#undef R16
};

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void mmr_json_doc_init(mmr_json_doc *d)
{
	d->text = NULL;
	d->n = 0;
	d->cap = MMR_JSON_INLINE_NODES;
	d->nodes = d->inline_nodes;
	d->buf = d->inline_buf;
	d->buf_cap = sizeof(d->inline_buf);
}

void mmr_json_doc_release(mmr_json_doc *d)
{
	if (d->nodes != d->inline_nodes)
		free(d->nodes);
	if (d->buf != d->inline_buf)
		free(d->buf);
	mmr_json_doc_init(d);
}

/* Index of a new node, or MMR_JSON_NONE with *st set. */
static uint32_t new_node(mmr_json_doc *d, mmr_json_status *st)
{
	if (d->n == d->cap) {
		if (d->cap >= MMR_JSON_MAX_NODES) {
			*st = MMR_JSON_TOO_LARGE;
			return MMR_JSON_NONE;
		}
		uint32_t cap = d->cap * 2 > MMR_JSON_MAX_NODES ? MMR_JSON_MAX_NODES : d->cap * 2;
		mmr_json_node *nn = d->nodes == d->inline_nodes
					    ? malloc(cap * sizeof(*nn))
					    : realloc(d->nodes, cap * sizeof(*nn));
		if (nn == NULL) {
			*st = MMR_JSON_NOMEM;
			return MMR_JSON_NONE;
		}
		if (d->nodes == d->inline_nodes)
			memcpy(nn, d->inline_nodes, sizeof(d->inline_nodes));
		d->nodes = nn;
		d->cap = cap;
	}
	return d->n++;
}

static size_t skip_ws(const unsigned char *s, size_t p, size_t len)
{
	while (p < len && (s[p] == ' ' || s[p] == '\n' || s[p] == '\r' || s[p] == '\t'))
		p++;
	return p;
}

/* s[p] is the opening quote. Returns the index of the closing quote, or 0 when the string is
 * invalid (an index that cannot be a closing quote). Sets *esc when it holds escapes. */
static size_t scan_string(const unsigned char *s, size_t p, size_t len, bool *esc)
{
	for (p++;;) {
		while (p < len && plain_byte[s[p]])
			p++;
		if (p >= len)
			return 0;
		if (s[p] == '"')
			return p;
		if (s[p] != '\\' || p + 1 >= len)
			return 0; /* a raw control character, or a backslash at the end */
		*esc = true;
		switch (s[p + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p += 2;
			break;
		case 'u':
			if (p + 5 >= len)
				return 0;
			for (int k = 2; k < 6; k++)
				if (hex_value(s[p + k]) < 0)
					return 0;
			p += 6;
			break;
		default:
			return 0;
		}
	}
}

static bool is_digit(const unsigned char *s, size_t p, size_t len)
{
	return p < len && s[p] >= '0' && s[p] <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? from s[p]; returns the end, or 0. */
static size_t scan_number(const unsigned char *s, size_t p, size_t len, bool *is_int)
{
	*is_int = true;
	if (s[p] == '-')
		p++;
	if (!is_digit(s, p, len))
		return 0;
	if (s[p++] != '0')
		while (is_digit(s, p, len))
			p++;
	if (p < len && s[p] == '.') {
		*is_int = false;
		if (!is_digit(s, ++p, len))
			return 0;
		while (is_digit(s, p, len))
			p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		*is_int = false;
		p++;
		if (p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (!is_digit(s, p, len))
			return 0;
		while (is_digit(s, p, len))
			p++;
	}
	return p;
}

/* A member's key at s[p] (which must be its opening quote), then ':' and blanks. Fills the
 * key of node-to-be k; returns the position of the value, or 0. */
static size_t scan_key(const unsigned char *s, size_t p, size_t len, mmr_json_node *k)
{
	bool esc = false;
	size_t q;
	if (p >= len || s[p] != '"' || (q = scan_string(s, p, len, &esc)) == 0)
		return 0;
	k->key = (uint32_t)(p + 1);
	k->key_len = (uint32_t)(q - p - 1);
	k->flags = esc ? MMR_JSON_KEY_ESC : 0;
	p = skip_ws(s, q + 1, len);
	if (p >= len || s[p] != ':')
		return 0;
	return skip_ws(s, p + 1, len);
}

mmr_json_status mmr_json_scan(mmr_json_doc *d, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t open[MMR_JSON_MAX_DEPTH + 1]; /* containers being filled, innermost last */
	unsigned depth = 0;                    /* of the next value: the number of open ones */
	mmr_json_node key = {0};               /* key of the next value, when it is a member */
	mmr_json_status st = MMR_JSON_INVALID;

	d->text = text;
	d->n = 0;
	if (len >= UINT32_MAX)
		return MMR_JSON_TOO_LARGE;
	size_t p = skip_ws(s, 0, len);
	for (;;) {
		/* one value at s[p] */
		if (depth > MMR_JSON_MAX_DEPTH)
			return MMR_JSON_TOO_DEEP;
		if (p >= len)
			return MMR_JSON_INVALID;
		uint32_t i = new_node(d, &st);
		if (i == MMR_JSON_NONE)
			return st;
		mmr_json_node *n = &d->nodes[i];
		*n = key;
		n->val = (uint32_t)p;
		n->end = i + 1;
		size_t q;
		bool flag = false;
		switch (s[p]) {
		case '{':
		case '[':
			n->type = s[p] == '{' ? MMR_JV_OBJECT : MMR_JV_ARRAY;
			q = skip_ws(s, p + 1, len);
			if (q < len && s[q] == (s[p] == '{' ? '}' : ']')) {
				n->val_len = (uint32_t)(q + 1 - p);
				p = q + 1;
				break; /* empty: complete already */
			}
			open[depth++] = i;
			memset(&key, 0, sizeof(key));
			if (n->type == MMR_JV_OBJECT && (q = scan_key(s, q, len, &key)) == 0)
				return MMR_JSON_INVALID;
			p = q;
			continue;
		case '"':
			if ((q = scan_string(s, p, len, &flag)) == 0)
				return MMR_JSON_INVALID;
			n->type = MMR_JV_STRING;
			n->val = (uint32_t)(p + 1);
			n->val_len = (uint32_t)(q - p - 1);
			n->flags |= flag ? MMR_JSON_VAL_ESC : 0;
			p = q + 1;
			break;
		case 't':
		case 'f':
		case 'n': {
			const char *lit = s[p] == 't' ? "true" : s[p] == 'f' ? "false" : "null";
			size_t l = strlen(lit);
			if (len - p < l || memcmp(s + p, lit, l) != 0)
				return MMR_JSON_INVALID;
			n->type = s[p] == 'n' ? MMR_JV_NULL : MMR_JV_BOOL;
			n->val_len = (uint32_t)l;
			p += l;
			break;
		}
		default:
			if (s[p] != '-' && (s[p] < '0' || s[p] > '9'))
				return MMR_JSON_INVALID;
			if ((q = scan_number(s, p, len, &flag)) == 0)
				return MMR_JSON_INVALID;
			n->type = flag ? MMR_JV_INT : MMR_JV_DOUBLE;
			n->val_len = (uint32_t)(q - p);
			p = q;
			break;
		}
		/* after a complete value: separators and closing brackets up to the next value */
		for (;;) {
			p = skip_ws(s, p, len);
			if (depth == 0)
				return p == len ? MMR_JSON_OK : MMR_JSON_INVALID;
			if (p >= len)
				return MMR_JSON_INVALID;
			mmr_json_node *c = &d->nodes[open[depth - 1]];
			if (s[p] == ',') {
				p = skip_ws(s, p + 1, len);
				memset(&key, 0, sizeof(key));
				if (c->type == MMR_JV_OBJECT && (p = scan_key(s, p, len, &key)) == 0)
					return MMR_JSON_INVALID;
				break;
			}
			if (s[p] != (c->type == MMR_JV_OBJECT ? '}' : ']'))
				return MMR_JSON_INVALID;
			p++;
			c->val_len = (uint32_t)(p - c->val);
			c->end = d->n;
			depth--;
		}
	}
}

/* ---- decoding ---------------------------------------------------------------------------- */

static size_t put_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t hex4(const unsigned char *s)
{
	return (uint32_t)(hex_value(s[0]) << 12 | hex_value(s[1]) << 8 | hex_value(s[2]) << 4 |
			  hex_value(s[3]));
}

/* The escape at r[i] (a backslash; the scan checked its syntax): its bytes go to out (1-4),
 * their number to *outn; returns how many bytes of r it used. A high surrogate takes the
 * following \uDC00-\uDFFF with it; unpaired, either half becomes U+FFFD and a following
 * escape is decoded on its own, as libfastjson does. */
static size_t unescape_one(const unsigned char *r, size_t i, size_t n, char *out, size_t *outn)
{
	static const char simple_from[] = "\"\\/bfnrt", simple_to[] = "\"\\/\b\f\n\r\t";
	if (r[i + 1] != 'u') {
		out[0] = simple_to[strchr(simple_from, r[i + 1]) - simple_from];
		*outn = 1;
		return 2;
	}
	uint32_t cp = hex4(r + i + 2);
	if ((cp & 0xfc00) == 0xd800 && i + 11 < n && r[i + 6] == '\\' && r[i + 7] == 'u') {
		uint32_t lo = hex4(r + i + 8);
		if ((lo & 0xfc00) == 0xdc00) {
			*outn = put_utf8(0x10000 + ((cp & 0x3ff) << 10) + (lo & 0x3ff), out);
			return 12;
		}
	}
	*outn = put_utf8((cp & 0xf800) == 0xd800 ? 0xfffd : cp, out);
	return 6;
}

/* Decodes raw (n bytes, escapes checked) into out (room for n + 1: no escape is shorter than
 * what it stands for). A \u0000 ends the C string there, as in libfastjson's. */
static void unescape(const unsigned char *r, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		const unsigned char *bs = memchr(r + i, '\\', n - i);
		size_t plain = bs ? (size_t)(bs - (r + i)) : n - i;
		memcpy(out + o, r + i, plain);
		o += plain;
		i += plain;
		if (i == n)
			break;
		size_t k;
		i += unescape_one(r, i, n, out + o, &k);
		o += k;
	}
	out[o] = '\0';
}

static bool same_byte(unsigned char a, unsigned char b, bool ignore_case)
{
	if (a == b)
		return true;
	if (!ignore_case)
		return false;
	a = (a >= 'A' && a <= 'Z') ? a | 0x20 : a;
	b = (b >= 'A' && b <= 'Z') ? b | 0x20 : b;
	return a == b;
}

/* Whether the raw key (n bytes, escapes checked) decodes to key (klen bytes). */
static bool key_equals(const unsigned char *r, size_t n, bool esc, const char *key, size_t klen,
		       bool ignore_case)
{
	if (!esc) {
		if (n != klen)
			return false;
		if (!ignore_case)
			return memcmp(r, key, n) == 0;
		for (size_t i = 0; i < n; i++)
			if (!same_byte(r[i], (unsigned char)key[i], true))
				return false;
		return true;
	}
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		char u[4];
		size_t un = 1;
		if (r[i] == '\\')
			i += unescape_one(r, i, n, u, &un);
		else
			u[0] = (char)r[i++];
		for (size_t j = 0; j < un; j++, k++) {
			if (u[j] == '\0')
				return k == klen;
			if (k == klen || !same_byte((unsigned char)u[j], (unsigned char)key[k], ignore_case))
				return false;
		}
	}
	return k == klen;
}

uint32_t mmr_json_member(const mmr_json_doc *d, uint32_t obj, const char *key, bool ignore_case)
{
	if (obj == MMR_JSON_NONE || d->nodes[obj].type != MMR_JV_OBJECT)
		return MMR_JSON_NONE;
	const unsigned char *s = (const unsigned char *)d->text;
	size_t klen = strlen(key);
	uint32_t found = MMR_JSON_NONE;
	for (uint32_t m = mmr_json_first(d, obj); m != MMR_JSON_NONE; m = mmr_json_next(d, obj, m)) {
		const mmr_json_node *n = &d->nodes[m];
		if (key_equals(s + n->key, n->key_len, n->flags & MMR_JSON_KEY_ESC, key, klen,
			       ignore_case))
			found = m;
	}
	return found;
}

/* Room for n bytes in d->buf. */
static bool reserve(mmr_json_doc *d, size_t n)
{
	if (n <= d->buf_cap)
		return true;
	char *nb = malloc(n);
	if (nb == NULL)
		return false;
	if (d->buf != d->inline_buf)
		free(d->buf);
	d->buf = nb;
	d->buf_cap = n;
	return true;
}

/* libfastjson reads integers with sscanf("%" SCNd64): beyond the range, the nearest end. */
static int64_t saturated_int(const unsigned char *s, size_t n)
{
	bool neg = s[0] == '-';
	uint64_t m = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (size_t i = neg; i < n; i++) {
		unsigned dgt = s[i] - '0';
		if (m > (limit - dgt) / 10) {
			m = limit;
			break;
		}
		m = m * 10 + dgt;
	}
	if (!neg)
		return (int64_t)m;
	return m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
}

void mmr_json_value(mmr_json_doc *d, uint32_t i, mmr_jvalue *v)
{
	memset(v, 0, sizeof(*v));
	if (i == MMR_JSON_NONE)
		return;
	const mmr_json_node *n = &d->nodes[i];
	const unsigned char *raw = (const unsigned char *)d->text + n->val;
	v->type = (mmr_jv_type)n->type;
	switch (v->type) {
	case MMR_JV_BOOL:
		v->b = raw[0] == 't';
		v->text = v->b ? "true" : "false";
		return;
	case MMR_JV_INT:
		v->i = saturated_int(raw, n->val_len);
		mmr_jvalue_format_int(v);
		return;
	case MMR_JV_DOUBLE: /* libfastjson keeps the text of a non-integer as written */
	case MMR_JV_STRING:
		if (!reserve(d, (size_t)n->val_len + 1)) {
			memset(v, 0, sizeof(*v));
			return;
		}
		if (n->flags & MMR_JSON_VAL_ESC) {
			unescape(raw, n->val_len, d->buf);
		} else {
			memcpy(d->buf, raw, n->val_len);
			d->buf[n->val_len] = '\0';
		}
		v->text = d->buf;
		return;
	default:
		return;
	}
}
