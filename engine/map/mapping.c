/* Mapping files: compile once, apply per message.
 *
 * Representation. A path such as  target[type=AppInstance].displayName  compiles to steps
 *   KEY "target" -> SELECT type == "AppInstance" -> KEY "displayName"
 * and is resolved with no allocation against either form of document (see "documents"
 * below): a JSON message scanned by json_scan.c, or a libfastjson tree. A field source is a list of
 * such paths (the first that resolves to a usable value wins) or a constant. Conditions,
 * action and outcome tables are small arrays scanned linearly: a mapping has tens of entries
 * and the first failing "match" condition usually rejects a foreign message after one lookup.
 *
 * Errors in a mapping file are reported at load time with the file and the offending key, so
 * `rsyslogd -N1` catches them; nothing is checked again on the hot path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map/json_scan.h"
#include "mmriskscore/mapping.h"

typedef enum { STEP_KEY, STEP_INDEX, STEP_SELECT } step_kind;

typedef struct {
	step_kind kind;
	char *key;     /* KEY: the key; SELECT: the element's key to compare */
	char *value;   /* SELECT: the value it must have */
	size_t index;  /* INDEX */
} step;

typedef struct {
	step *steps;
	size_t n;
	bool find_ip; /* {"path": P, "find": "ip"}: the first IP address inside the value's text */
} path;

typedef struct {
	path *alts;
	size_t n;
	struct json_object *constant; /* owned; used when no path is given */
	mmr_jvalue cval;              /* constant, as the field setters read it */
} source;

typedef enum { C_EXISTS, C_EQUALS, C_IN, C_PREFIX } cond_op;

typedef struct {
	path p;
	cond_op op;
	bool exists;  /* C_EXISTS: must exist (true) or must not (false) */
	char **vals;  /* C_EQUALS (1), C_IN (n), C_PREFIX (1) */
	size_t nvals;
} cond;

typedef struct {
	char *canon;
	source src;
} field_map;

typedef struct {
	char *raw;
	mmr_action action;   /* NONE in outcome tables */
	int outcome;         /* -1: not given */
} value_entry;

typedef struct {
	source from;
	value_entry *v;
	size_t n;
	bool has_default;
	value_entry dflt;
} value_table;

typedef struct {
	char *name;
	char **absent;   /* "absent_values": texts that mean "no value" in this source */
	size_t nabsent;
	cond *conds;
	size_t nconds;
	field_map *fields;
	size_t nfields;
	value_table action;
	value_table outcome;
	bool has_outcome;
} mapping;

/* libfastjson has no foreach; k and v must be declared by the caller. */
#define FOREACH_KEY(obj, k, v)                                                                 \
	for (struct fjson_object_iterator it_ = fjson_object_iter_begin(obj),                  \
					  end_ = fjson_object_iter_end(obj);                     \
	     !fjson_object_iter_equal(&it_, &end_) &&                                          \
	     ((k = fjson_object_iter_peek_name(&it_)), (v = fjson_object_iter_peek_value(&it_)), 1); \
	     fjson_object_iter_next(&it_))

/* How libfastjson compares keys, which is how mappings have always seen them: a process-wide
 * switch, case-sensitive by default and case-insensitive in rsyslogd (which turns it off at
 * startup; global(variables.casesensitive="on") turns it back on). There is no getter, so a
 * probe finds it on first use, once the configuration is complete. */
enum { KEYCASE_UNKNOWN = 0, KEYCASE_EXACT, KEYCASE_IGNORE };

struct mmr_mappings {
	mapping *v;
	size_t n;
	_Atomic int keycase;
};

/* ---- errors ------------------------------------------------------------------------------ */

typedef struct {
	const char *file;
	char *buf;
	size_t len;
	bool failed;
} errctx;

static void fail(errctx *ec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(errctx *ec, const char *fmt, ...)
{
	if (ec->failed)
		return;
	ec->failed = true;
	int n = snprintf(ec->buf, ec->len, "%s: ", ec->file);
	if (n < 0 || (size_t)n >= ec->len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ec->buf + n, ec->len - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---- paths ------------------------------------------------------------------------------- */

static void path_free(path *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->steps[i].key);
		free(p->steps[i].value);
	}
	free(p->steps);
	p->steps = NULL;
	p->n = 0;
}

static bool push_step(path *p, step s)
{
	step *ns = realloc(p->steps, (p->n + 1) * sizeof(*ns));
	if (ns == NULL)
		return false;
	p->steps = ns;
	p->steps[p->n++] = s;
	return true;
}

/* "a.b[2].c[k=v]", "\." inside a key is a literal dot. */
static bool path_compile(const char *text, path *p, errctx *ec, const char *where)
{
	const char *s = text;
	memset(p, 0, sizeof(*p));
	if (*s == '\0') {
		fail(ec, "%s: empty path", where);
		return false;
	}
	while (*s) {
		char key[256];
		size_t k = 0;
		while (*s && *s != '.' && *s != '[') {
			if (*s == '\\' && s[1] == '.')
				s++;
			if (k + 1 < sizeof(key))
				key[k++] = *s;
			s++;
		}
		key[k] = '\0';
		if (k > 0) {
			step st = {.kind = STEP_KEY, .key = strdup(key)};
			if (st.key == NULL || !push_step(p, st)) {
				free(st.key);
				goto oom;
			}
		} else if (*s != '[') {
			fail(ec, "%s: path '%s' has an empty key", where, text);
			goto bad;
		}
		while (*s == '[') {
			const char *close = strchr(s, ']');
			if (close == NULL) {
				fail(ec, "%s: path '%s' misses a ']'", where, text);
				goto bad;
			}
			char inner[256];
			size_t len = (size_t)(close - s - 1);
			if (len == 0 || len >= sizeof(inner)) {
				fail(ec, "%s: path '%s' has an empty or overlong [...]", where, text);
				goto bad;
			}
			memcpy(inner, s + 1, len);
			inner[len] = '\0';
			step st = {0};
			char *eq = strchr(inner, '=');
			if (eq != NULL) {
				*eq = '\0';
				st.kind = STEP_SELECT;
				st.key = strdup(inner);
				st.value = strdup(eq + 1);
				if (st.key == NULL || st.value == NULL) {
					free(st.key);
					free(st.value);
					goto oom;
				}
			} else {
				char *end;
				errno = 0;
				unsigned long idx = strtoul(inner, &end, 10);
				if (*end != '\0' || errno || inner[0] == '-') {
					fail(ec, "%s: path '%s': '[%s]' is neither an index nor key=value",
					     where, text, inner);
					goto bad;
				}
				st.kind = STEP_INDEX;
				st.index = idx;
			}
			if (!push_step(p, st)) {
				free(st.key);
				free(st.value);
				goto oom;
			}
			s = close + 1;
		}
		if (*s == '.') {
			s++;
			if (*s == '\0') {
				fail(ec, "%s: path '%s' ends with '.'", where, text);
				goto bad;
			}
		} else if (*s != '\0') {
			fail(ec, "%s: path '%s' is malformed near '%s'", where, text, s);
			goto bad;
		}
	}
	return true;
oom:
	fail(ec, "out of memory");
bad:
	path_free(p);
	return false;
}

/* ---- documents ---------------------------------------------------------------------------
 *
 * A mapping reads a JSON message scanned by json_scan.c (the module's IdP path: no tree is
 * built) or a libfastjson tree (fields from liblognorm, mmnormalize or mmjsonparse). A value
 * in either is a ref; the functions below are the only ones that look inside. */

typedef struct {
	struct json_object *tree; /* one of the two */
	mmr_json_doc *tape;
	bool ignore_case; /* tape: compare keys as libfastjson does (see keycase) */
} doc;

typedef struct {
	struct json_object *o; /* tree: the value; NULL for null and for nothing */
	uint32_t n;            /* tape: the node; MMR_JSON_NONE for nothing */
} ref;

static const ref NOTHING = {NULL, MMR_JSON_NONE};

/* Whether r is a value other than null. */
static bool ref_has_value(const doc *d, ref r)
{
	if (d->tape)
		return r.n != MMR_JSON_NONE && d->tape->nodes[r.n].type != MMR_JV_NULL;
	return r.o != NULL;
}

static bool ref_is_array(const doc *d, ref r)
{
	if (d->tape)
		return r.n != MMR_JSON_NONE && d->tape->nodes[r.n].type == MMR_JV_ARRAY;
	return json_object_get_type(r.o) == json_type_array;
}

static ref ref_member(const doc *d, ref obj, const char *key)
{
	ref r = NOTHING;
	if (d->tape)
		r.n = mmr_json_member(d->tape, obj.n, key, d->ignore_case);
	else if (json_object_get_type(obj.o) == json_type_object)
		json_object_object_get_ex(obj.o, key, &r.o);
	return r;
}

/* Elements of array arr in order: *el the next one (*i counts them, 0 to start). */
static bool ref_next_element(const doc *d, ref arr, ref *el, size_t *i)
{
	if (d->tape) {
		el->n = *i == 0 ? mmr_json_first(d->tape, arr.n) : mmr_json_next(d->tape, arr.n, el->n);
		(*i)++;
		return el->n != MMR_JSON_NONE;
	}
	if (*i >= (size_t)json_object_array_length(arr.o))
		return false;
	el->o = json_object_array_get_idx(arr.o, (int)(*i)++);
	return true;
}

/* The value of r; a tape string's text stays valid until the next ref_value. */
static void ref_value(const doc *d, ref r, mmr_jvalue *v)
{
	if (d->tape)
		mmr_json_value(d->tape, r.n, v);
	else
		mmr_jvalue_from_json(r.o, v);
}

static ref path_resolve(const doc *d, const path *p)
{
	ref cur = d->tape ? (ref){NULL, 0} : (ref){d->tree, MMR_JSON_NONE};
	for (size_t i = 0; i < p->n && ref_has_value(d, cur); i++) {
		const step *st = &p->steps[i];
		ref next = NOTHING, el = NOTHING;
		size_t k = 0;
		mmr_jvalue kv;
		const char *t;
		switch (st->kind) {
		case STEP_KEY:
			next = ref_member(d, cur, st->key);
			break;
		case STEP_INDEX:
			if (!ref_is_array(d, cur))
				break;
			while (ref_next_element(d, cur, &el, &k))
				if (k == st->index + 1) {
					next = el;
					break;
				}
			break;
		case STEP_SELECT:
			if (!ref_is_array(d, cur))
				break;
			while (ref_next_element(d, cur, &el, &k)) {
				ref_value(d, ref_member(d, el, st->key), &kv);
				if ((t = mmr_jvalue_text(&kv)) != NULL && strcmp(t, st->value) == 0) {
					next = el;
					break;
				}
			}
			break;
		}
		cur = next;
	}
	return cur;
}

/* ---- sources ----------------------------------------------------------------------------- */

static void source_free(source *s)
{
	for (size_t i = 0; i < s->n; i++)
		path_free(&s->alts[i]);
	free(s->alts);
	json_object_put(s->constant);
	memset(s, 0, sizeof(*s));
}

/* "path" | ["path", ...] | {"const": value} */
static bool source_compile(struct json_object *j, source *s, errctx *ec, const char *where)
{
	memset(s, 0, sizeof(*s));
	if (json_object_get_type(j) == json_type_object) {
		struct json_object *c;
		if (!json_object_object_get_ex(j, "const", &c) || json_object_object_length(j) != 1) {
			fail(ec, "%s: an object source must be {\"const\": value}", where);
			return false;
		}
		/* Numbers and booleans become strings now: libfastjson's json_object_get_string()
		 * writes a print buffer inside the object, and a constant is shared by every
		 * worker thread that applies the mapping. */
		switch (json_object_get_type(c)) {
		case json_type_int:
		case json_type_double:
		case json_type_boolean:
			s->constant = json_object_new_string(json_object_get_string(c));
			break;
		default:
			s->constant = json_object_get(c);
		}
		if (s->constant == NULL) {
			fail(ec, "out of memory");
			return false;
		}
		mmr_jvalue_from_json(s->constant, &s->cval);
		return true;
	}
	size_t n = json_object_get_type(j) == json_type_array ? json_object_array_length(j) : 1;
	if (json_object_get_type(j) == json_type_object) {
		fail(ec, "%s: an object source must be {\"const\": value} (a single {\"path\", "
			 "\"find\"} goes in a list)", where);
		return false;
	}
	if (json_object_get_type(j) != json_type_array && json_object_get_type(j) != json_type_string) {
		fail(ec, "%s: expected a path string, a list of paths or {\"const\": value}", where);
		return false;
	}
	if (n == 0) {
		fail(ec, "%s: empty list of paths", where);
		return false;
	}
	if ((s->alts = calloc(n, sizeof(path))) == NULL) {
		fail(ec, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_get_type(j) == json_type_array
						? json_object_array_get_idx(j, i)
						: j;
		bool find_ip = false;
		if (json_object_get_type(e) == json_type_object) {
			/* {"path": P, "find": "ip"} */
			struct json_object *p = NULL, *f = NULL;
			if (json_object_object_get_ex(e, "path", &p) &&
			    json_object_object_get_ex(e, "find", &f) && json_object_object_length(e) == 2 &&
			    json_object_get_type(f) == json_type_string &&
			    strcmp(json_object_get_string(f), "ip") == 0) {
				find_ip = true;
				e = p;
			}
		}
		if (json_object_get_type(e) != json_type_string) {
			fail(ec, "%s: list elements must be paths or {\"path\": P, \"find\": \"ip\"}",
			     where);
			source_free(s);
			return false;
		}
		if (!path_compile(json_object_get_string(e), &s->alts[i], ec, where)) {
			source_free(s);
			return false;
		}
		s->alts[i].find_ip = find_ip;
		s->n = i + 1;
	}
	return true;
}

/* Whether v carries a value: not null, not "", not one of the mapping's absent_values
 * ("N/A", "unknown", "(null)" ... as a source writes "nothing"). */
static bool present(const mmr_jvalue *v, char *const *absent, size_t nabsent)
{
	if (v->type == MMR_JV_NULL)
		return false;
	if (v->type != MMR_JV_STRING)
		return true;
	if (*v->text == '\0')
		return false;
	for (size_t i = 0; i < nabsent; i++)
		if (strcmp(v->text, absent[i]) == 0)
			return false;
	return true;
}

/* The first IPv4 or IPv6 address inside text ("ssh(203.0.113.5)", "from [2001:db8::1]:22"):
 * candidates are maximal runs of hex digits, '.' and ':'; the first that parses wins. */
static bool find_ip(const char *text, char *out, size_t outlen)
{
	const char *p = text;
	while (*p) {
		size_t n = strspn(p, "0123456789abcdefABCDEF.:");
		if (n >= 2 && n < outlen) {
			mmr_ip ip;
			memcpy(out, p, n);
			out[n] = '\0';
			/* "host:22" style suffixes: try the run, then without a trailing ":port" */
			if (mmr_ip_parse(out, &ip) == 0)
				return true;
			char *colon = strrchr(out, ':');
			if (colon && strchr(out, '.') && (*colon = '\0', mmr_ip_parse(out, &ip) == 0))
				return true;
		}
		p += n ? n : 1;
	}
	return false;
}

/* Sets canonical field f from the first alternative that gives a present value; a find-ip
 * alternative counts only when its text holds an address. */
static void apply_field(const mapping *m, const field_map *f, const doc *d, mmr_event *ev,
			const mmr_user_norm *norm)
{
	const source *s = &f->src;
	if (s->constant != NULL) {
		mmr_event_set_value(ev, f->canon, &s->cval, norm);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		mmr_jvalue v;
		ref_value(d, path_resolve(d, &s->alts[i]), &v);
		if (!present(&v, m->absent, m->nabsent))
			continue;
		if (!s->alts[i].find_ip) {
			mmr_event_set_value(ev, f->canon, &v, norm);
			return;
		}
		char ip[64];
		const char *t = mmr_jvalue_text(&v);
		if (t == NULL || !find_ip(t, ip, sizeof(ip)))
			continue;
		mmr_jvalue found = {.type = MMR_JV_STRING, .text = ip};
		mmr_event_set_value(ev, f->canon, &found, norm);
		return;
	}
}

/* The first alternative that resolves to a present value (action and outcome names); null
 * when none does. */
static void source_get(const source *s, const doc *d, mmr_jvalue *v)
{
	if (s->constant != NULL) {
		*v = s->cval;
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		ref_value(d, path_resolve(d, &s->alts[i]), v);
		if (present(v, NULL, 0))
			return;
	}
	memset(v, 0, sizeof(*v));
}

/* ---- conditions -------------------------------------------------------------------------- */

static void cond_free(cond *c)
{
	path_free(&c->p);
	for (size_t i = 0; i < c->nvals; i++)
		free(c->vals[i]);
	free(c->vals);
}

static bool add_val(cond *c, struct json_object *v, errctx *ec, const char *where)
{
	mmr_jvalue jv; /* compared as the text a message's value has (mmr_jvalue) */
	mmr_jvalue_from_json(v, &jv);
	const char *t = mmr_jvalue_text(&jv);
	if (t == NULL) {
		fail(ec, "%s: values to compare must be strings, numbers or booleans", where);
		return false;
	}
	char **nv = realloc(c->vals, (c->nvals + 1) * sizeof(*nv));
	if (nv == NULL || (nv[c->nvals] = strdup(t)) == NULL) {
		if (nv)
			c->vals = nv;
		fail(ec, "out of memory");
		return false;
	}
	c->vals = nv;
	c->nvals++;
	return true;
}

static bool cond_compile(struct json_object *j, cond *c, errctx *ec, const char *where)
{
	struct json_object *p, *v;
	memset(c, 0, sizeof(*c));
	if (json_object_get_type(j) != json_type_object || !json_object_object_get_ex(j, "path", &p) ||
	    json_object_get_type(p) != json_type_string || json_object_object_length(j) != 2) {
		fail(ec, "%s: a condition is {\"path\": P, one of \"exists\"|\"equals\"|\"in\"|\"prefix\": ...}",
		     where);
		return false;
	}
	if (!path_compile(json_object_get_string(p), &c->p, ec, where))
		return false;
	bool ok;
	if (json_object_object_get_ex(j, "exists", &v)) {
		c->op = C_EXISTS;
		c->exists = json_object_get_boolean(v);
		ok = json_object_get_type(v) == json_type_boolean;
		if (!ok)
			fail(ec, "%s: \"exists\" takes true or false", where);
	} else if (json_object_object_get_ex(j, "equals", &v)) {
		c->op = C_EQUALS;
		ok = add_val(c, v, ec, where);
	} else if (json_object_object_get_ex(j, "prefix", &v)) {
		c->op = C_PREFIX;
		ok = add_val(c, v, ec, where);
	} else if (json_object_object_get_ex(j, "in", &v) &&
		   json_object_get_type(v) == json_type_array && json_object_array_length(v) > 0) {
		c->op = C_IN;
		ok = true;
		for (size_t i = 0; ok && i < (size_t)json_object_array_length(v); i++)
			ok = add_val(c, json_object_array_get_idx(v, i), ec, where);
	} else {
		fail(ec, "%s: unknown condition (use exists, equals, in with a non-empty list, or prefix)",
		     where);
		ok = false;
	}
	if (!ok)
		cond_free(c);
	return ok;
}

static bool cond_holds(const cond *c, const doc *d)
{
	ref r = path_resolve(d, &c->p);
	if (c->op == C_EXISTS)
		return ref_has_value(d, r) == c->exists;
	mmr_jvalue v;
	ref_value(d, r, &v);
	const char *t = mmr_jvalue_text(&v);
	if (t == NULL)
		return false;
	switch (c->op) {
	case C_EQUALS:
		return strcmp(t, c->vals[0]) == 0;
	case C_PREFIX:
		return strncmp(t, c->vals[0], strlen(c->vals[0])) == 0;
	case C_IN:
		for (size_t i = 0; i < c->nvals; i++)
			if (strcmp(t, c->vals[i]) == 0)
				return true;
		return false;
	default:
		return false;
	}
}

/* ---- action / outcome tables ------------------------------------------------------------- */

static int outcome_code(const char *s)
{
	if (strcmp(s, "success") == 0)
		return MMR_OUTCOME_SUCCESS;
	if (strcmp(s, "failure") == 0)
		return MMR_OUTCOME_FAILURE;
	if (strcmp(s, "unknown") == 0)
		return MMR_OUTCOME_UNKNOWN;
	return -2;
}

/* value: "action" | {"action": a, "outcome": o} (action tables) or "outcome" (outcome table) */
static bool entry_compile(struct json_object *v, value_entry *e, bool is_action, errctx *ec,
			  const char *where)
{
	e->action = MMR_ACTION_NONE;
	e->outcome = -1;
	if (is_action && json_object_get_type(v) == json_type_object) {
		struct json_object *a, *o;
		const char *k;
		struct json_object *val;
		FOREACH_KEY(v, k, val)
		{
			(void)val;
			if (strcmp(k, "action") != 0 && strcmp(k, "outcome") != 0) {
				fail(ec, "%s: unknown key '%s' (use action, outcome)", where, k);
				return false;
			}
		}
		if (!json_object_object_get_ex(v, "action", &a) ||
		    json_object_get_type(a) != json_type_string ||
		    (e->action = mmr_action_from_name(json_object_get_string(a))) == MMR_ACTION_NONE) {
			fail(ec, "%s: needs a known \"action\"", where);
			return false;
		}
		if (json_object_object_get_ex(v, "outcome", &o)) {
			if (json_object_get_type(o) != json_type_string ||
			    (e->outcome = outcome_code(json_object_get_string(o))) < 0) {
				fail(ec, "%s: outcome must be success, failure or unknown", where);
				return false;
			}
		}
		return true;
	}
	if (json_object_get_type(v) != json_type_string) {
		fail(ec, "%s: expected a string", where);
		return false;
	}
	const char *s = json_object_get_string(v);
	if (is_action) {
		if ((e->action = mmr_action_from_name(s)) == MMR_ACTION_NONE) {
			fail(ec, "%s: unknown action '%s' (auth mfa vpn_start vpn_end vpn_stats ip_assigned "
				 "sso privilege account logout)", where, s);
			return false;
		}
	} else if ((e->outcome = outcome_code(s)) < 0) {
		fail(ec, "%s: unknown outcome '%s' (success failure unknown)", where, s);
		return false;
	}
	return true;
}

static void table_free(value_table *t)
{
	source_free(&t->from);
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].raw);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static bool table_compile(struct json_object *j, value_table *t, bool is_action, errctx *ec,
			  const char *what)
{
	char where[300];
	memset(t, 0, sizeof(*t));
	if (json_object_get_type(j) != json_type_object) {
		fail(ec, "\"%s\" must be an object with \"from\" and \"values\"", what);
		return false;
	}
	const char *key;
	struct json_object *val;
	FOREACH_KEY(j, key, val)
	{
		(void)val;
		if (strcmp(key, "from") && strcmp(key, "values") && strcmp(key, "default")) {
			fail(ec, "\"%s\": unknown key '%s' (use from, values, default)", what, key);
			return false;
		}
	}
	struct json_object *from, *values, *dflt;
	if (!json_object_object_get_ex(j, "from", &from)) {
		fail(ec, "\"%s\" needs \"from\"", what);
		return false;
	}
	snprintf(where, sizeof(where), "\"%s\".from", what);
	if (!source_compile(from, &t->from, ec, where))
		return false;
	if (json_object_object_get_ex(j, "values", &values)) {
		if (json_object_get_type(values) != json_type_object) {
			fail(ec, "\"%s\".values must be an object", what);
			goto bad;
		}
		size_t n = (size_t)json_object_object_length(values);
		if ((t->v = calloc(n ? n : 1, sizeof(*t->v))) == NULL) {
			fail(ec, "out of memory");
			goto bad;
		}
		const char *raw;
		struct json_object *v;
		FOREACH_KEY(values, raw, v)
		{
			snprintf(where, sizeof(where), "\"%s\".values.\"%s\"", what, raw);
			value_entry *e = &t->v[t->n];
			if ((e->raw = strdup(raw)) == NULL) {
				fail(ec, "out of memory");
				goto bad;
			}
			t->n++;
			if (!entry_compile(v, e, is_action, ec, where))
				goto bad;
		}
	}
	if (json_object_object_get_ex(j, "default", &dflt) &&
	    json_object_get_type(dflt) != json_type_null) {
		snprintf(where, sizeof(where), "\"%s\".default", what);
		if (!entry_compile(dflt, &t->dflt, is_action, ec, where))
			goto bad;
		t->has_default = true;
	}
	return true;
bad:
	table_free(t);
	return false;
}

static const value_entry *table_lookup(const value_table *t, const doc *d)
{
	mmr_jvalue v;
	source_get(&t->from, d, &v);
	const char *raw = mmr_jvalue_text(&v);
	if (raw != NULL)
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(t->v[i].raw, raw) == 0)
				return &t->v[i];
	return t->has_default ? &t->dflt : NULL;
}

/* ---- one mapping file -------------------------------------------------------------------- */

static void mapping_free(mapping *m)
{
	free(m->name);
	for (size_t i = 0; i < m->nabsent; i++)
		free(m->absent[i]);
	free(m->absent);
	for (size_t i = 0; i < m->nconds; i++)
		cond_free(&m->conds[i]);
	free(m->conds);
	for (size_t i = 0; i < m->nfields; i++) {
		free(m->fields[i].canon);
		source_free(&m->fields[i].src);
	}
	free(m->fields);
	table_free(&m->action);
	table_free(&m->outcome);
	memset(m, 0, sizeof(*m));
}

static bool mapping_compile(struct json_object *j, mapping *m, errctx *ec)
{
	static const char *const known[] = {"name", "description", "reference", "match",
					    "fields", "action", "outcome", "absent_values", NULL};
	char where[300];
	memset(m, 0, sizeof(*m));
	if (json_object_get_type(j) != json_type_object) {
		fail(ec, "the file must hold one JSON object");
		return false;
	}
	const char *key;
	struct json_object *val;
	FOREACH_KEY(j, key, val)
	{
		(void)val;
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok |= strcmp(*k, key) == 0;
		if (!ok) {
			fail(ec, "unknown key '%s' (known: name description reference match fields "
				 "action outcome absent_values)", key);
			return false;
		}
	}
	struct json_object *name, *match, *fields, *action, *outcome, *absent;
	if (!json_object_object_get_ex(j, "name", &name) ||
	    json_object_get_type(name) != json_type_string) {
		fail(ec, "\"name\" (a string) is required");
		return false;
	}
	if ((m->name = strdup(json_object_get_string(name))) == NULL)
		goto oom;
	if (json_object_object_get_ex(j, "absent_values", &absent)) {
		size_t na = json_object_get_type(absent) == json_type_array
				    ? (size_t)json_object_array_length(absent)
				    : 0;
		if (na == 0 || (m->absent = calloc(na, sizeof(char *))) == NULL) {
			fail(ec, na ? "out of memory"
				    : "\"absent_values\" must be a non-empty list of strings");
			goto bad;
		}
		for (size_t i = 0; i < na; i++) {
			struct json_object *e = json_object_array_get_idx(absent, i);
			if (json_object_get_type(e) != json_type_string) {
				fail(ec, "\"absent_values\" must be a non-empty list of strings");
				goto bad;
			}
			if ((m->absent[i] = strdup(json_object_get_string(e))) == NULL)
				goto oom;
			m->nabsent = i + 1;
		}
	}
	if (!json_object_object_get_ex(j, "match", &match) ||
	    json_object_get_type(match) != json_type_array || json_object_array_length(match) == 0) {
		fail(ec, "\"match\" (a non-empty list of conditions) is required: a mapping without "
			 "conditions would claim every message");
		goto bad;
	}
	size_t nc = json_object_array_length(match);
	if ((m->conds = calloc(nc, sizeof(cond))) == NULL)
		goto oom;
	for (size_t i = 0; i < nc; i++) {
		snprintf(where, sizeof(where), "\"match\"[%zu]", i);
		if (!cond_compile(json_object_array_get_idx(match, i), &m->conds[i], ec, where))
			goto bad;
		m->nconds = i + 1;
	}
	if (!json_object_object_get_ex(j, "fields", &fields) ||
	    json_object_get_type(fields) != json_type_object) {
		fail(ec, "\"fields\" (an object: canonical field -> path) is required");
		goto bad;
	}
	size_t nf = (size_t)json_object_object_length(fields);
	if ((m->fields = calloc(nf ? nf : 1, sizeof(field_map))) == NULL)
		goto oom;
	bool has_user = false;
	const char *canon;
	struct json_object *src;
	FOREACH_KEY(fields, canon, src)
	{
		if (!mmr_event_field_known(canon) || !strcmp(canon, "action") ||
		    !strcmp(canon, "outcome")) {
			fail(ec, "\"fields\": '%s' is not a canonical field (rulebase/SCHEMA.md; action "
				 "and outcome have their own sections)", canon);
			goto bad;
		}
		field_map *f = &m->fields[m->nfields];
		if ((f->canon = strdup(canon)) == NULL)
			goto oom;
		m->nfields++;
		snprintf(where, sizeof(where), "\"fields\".%s", canon);
		if (!source_compile(src, &f->src, ec, where))
			goto bad;
		has_user |= strcmp(canon, "user") == 0;
	}
	if (!has_user) {
		fail(ec, "\"fields\" must map \"user\": an event without a user cannot be scored");
		goto bad;
	}
	if (!json_object_object_get_ex(j, "action", &action)) {
		fail(ec, "\"action\" is required");
		goto bad;
	}
	if (!table_compile(action, &m->action, true, ec, "action"))
		goto bad;
	if (json_object_object_get_ex(j, "outcome", &outcome)) {
		if (!table_compile(outcome, &m->outcome, false, ec, "outcome"))
			goto bad;
		m->has_outcome = true;
	}
	return true;
oom:
	fail(ec, "out of memory");
bad:
	mapping_free(m);
	return false;
}

static char *read_file(const char *file, errctx *ec)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fail(ec, "cannot open: %s", strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		size_t got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
		if (len + 1 == cap) {
			if (cap >= (1u << 22)) {
				fail(ec, "file larger than 4 MiB");
				free(buf);
				buf = NULL;
				break;
			}
			char *nb = realloc(buf, cap *= 2);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	if (buf == NULL && !ec->failed)
		fail(ec, "out of memory");
	else if (buf != NULL && ferror(f)) {
		fail(ec, "read error");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static bool load_file(mmr_mappings *ms, const char *file, char *err, size_t errlen)
{
	errctx ec = {.file = file, .buf = err, .len = errlen};
	char *text = read_file(file, &ec);
	if (text == NULL)
		return false;
	struct json_tokener *tok = json_tokener_new();
	struct json_object *j = tok ? json_tokener_parse_ex(tok, text, (int)strlen(text)) : NULL;
	if (j == NULL) {
		fail(&ec, "not valid JSON: %s",
		     tok ? json_tokener_error_desc(fjson_tokener_get_error(tok)) : "out of memory");
	} else if (tok->char_offset < (int)strlen(text) &&
		   text[tok->char_offset + strspn(text + tok->char_offset, " \t\r\n")] != '\0') {
		fail(&ec, "trailing text after the JSON object (offset %d)", tok->char_offset);
	}
	if (tok)
		json_tokener_free(tok);
	free(text);
	if (ec.failed) {
		json_object_put(j);
		return false;
	}
	mapping *nv = realloc(ms->v, (ms->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		json_object_put(j);
		fail(&ec, "out of memory");
		return false;
	}
	ms->v = nv;
	bool ok = mapping_compile(j, &ms->v[ms->n], &ec);
	json_object_put(j);
	if (ok)
		ms->n++;
	return ok;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

mmr_mappings *mmr_mappings_load(const char *path, char *err, size_t errlen)
{
	mmr_mappings *ms = calloc(1, sizeof(*ms));
	if (ms == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	DIR *d = opendir(path);
	if (d == NULL) {
		if (errno != ENOTDIR) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(ms);
			return NULL;
		}
		if (!load_file(ms, path, err, errlen)) {
			mmr_mappings_free(ms);
			return NULL;
		}
		return ms;
	}
	char **names = NULL;
	size_t n = 0;
	bool ok = true;
	for (struct dirent *de; ok && (de = readdir(d)) != NULL;) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		char *full = malloc(strlen(path) + l + 2);
		if (nn == NULL || full == NULL) {
			free(full);
			if (nn)
				names = nn;
			snprintf(err, errlen, "out of memory");
			ok = false;
			break;
		}
		names = nn;
		sprintf(full, "%s/%s", path, de->d_name);
		names[n++] = full;
	}
	closedir(d);
	if (ok && n == 0) {
		snprintf(err, errlen, "%s: no *.json mapping files in this directory", path);
		ok = false;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; ok && i < n; i++)
		ok = load_file(ms, names[i], err, errlen);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!ok) {
		mmr_mappings_free(ms);
		return NULL;
	}
	return ms;
}

void mmr_mappings_free(mmr_mappings *ms)
{
	if (ms == NULL)
		return;
	for (size_t i = 0; i < ms->n; i++)
		mapping_free(&ms->v[i]);
	free(ms->v);
	free(ms);
}

size_t mmr_mappings_count(const mmr_mappings *ms)
{
	return ms ? ms->n : 0;
}

static bool keys_ignore_case(const mmr_mappings *ms)
{
	int k = atomic_load_explicit(&((mmr_mappings *)ms)->keycase, memory_order_relaxed);
	if (k == KEYCASE_UNKNOWN) {
		bool found = false;
		struct json_object *probe = json_object_new_object();
		if (probe != NULL) {
			json_object_object_add(probe, "k", NULL);
			found = json_object_object_get_ex(probe, "K", NULL);
			json_object_put(probe);
		}
		k = found ? KEYCASE_IGNORE : KEYCASE_EXACT;
		atomic_store_explicit(&((mmr_mappings *)ms)->keycase, k, memory_order_relaxed);
	}
	return k == KEYCASE_IGNORE;
}

static mmr_map_status apply(const mmr_mappings *ms, const doc *d, mmr_event *ev,
			    const mmr_user_norm *norm, int64_t fallback_time, const char **name)
{
	mmr_event_init(ev);
	ev->time = fallback_time;
	if (name)
		*name = NULL;
	if (ms == NULL || (d->tree == NULL && d->tape == NULL))
		return MMR_MAP_NO_MATCH;
	for (size_t i = 0; i < ms->n; i++) {
		const mapping *m = &ms->v[i];
		bool match = true;
		for (size_t c = 0; match && c < m->nconds; c++)
			match = cond_holds(&m->conds[c], d);
		if (!match)
			continue;
		if (name)
			*name = m->name;
		const value_entry *a = table_lookup(&m->action, d);
		if (a == NULL)
			return MMR_MAP_NOT_IDENTITY;
		ev->action = a->action;
		if (a->outcome >= 0) {
			ev->outcome = (mmr_outcome)a->outcome;
		} else if (m->has_outcome) {
			const value_entry *o = table_lookup(&m->outcome, d);
			if (o != NULL && o->outcome >= 0)
				ev->outcome = (mmr_outcome)o->outcome;
		}
		for (size_t f = 0; f < m->nfields; f++)
			apply_field(m, &m->fields[f], d, ev, norm);
		return mmr_event_status(ev) == MMR_CANON_OK ? MMR_MAP_OK : MMR_MAP_NOT_IDENTITY;
	}
	return MMR_MAP_NO_MATCH;
}

mmr_map_status mmr_mappings_apply(const mmr_mappings *ms, struct json_object *tree, mmr_event *ev,
				  const mmr_user_norm *norm, int64_t fallback_time,
				  const char **name)
{
	doc d = {.tree = tree};
	return apply(ms, &d, ev, norm, fallback_time, name);
}

mmr_map_status mmr_mappings_apply_scanned(const mmr_mappings *ms, mmr_json_doc *tape,
					  mmr_event *ev, const mmr_user_norm *norm,
					  int64_t fallback_time, const char **name)
{
	doc d = {.tape = tape, .ignore_case = ms != NULL && keys_ignore_case(ms)};
	return apply(ms, &d, ev, norm, fallback_time, name);
}
