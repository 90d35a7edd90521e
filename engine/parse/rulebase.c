/* liblognorm wrapper: one loaded rulebase. liblognorm reports rulebase errors through a
 * callback; we keep the first ones so the caller can name the problem in rsyslog's log. */
#include <json.h>
#include <liblognorm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/rulebase.h"

struct mmr_rulebase {
	ln_ctx ctx;
	unsigned flags;
	/* liblognorm <= 2.0.6 crashes (SIGSEGV) when its "string" parser meets a byte >= 0x80: it
	 * indexes a table with a signed char (liblognorm issue #340, fixed after 2.0.6). When the
	 * loaded rulebase uses that parser on such a version, parse inputs are given to liblognorm
	 * with those bytes replaced by '?'. Accented names in text logs then lose their accents
	 * (consistently: "josé" is always "jos??"); JSON sources are not affected. */
	bool mask_high_bytes;
	char warning[512];
};

static void check_types(mmr_rulebase *rb, const char *path);

struct err_sink {
	char *buf;
	size_t len;
};

/* liblognorm 2.0.6 hands the error callback the *debug* cookie (NULL unless a debug callback
 * is set), not the one given to ln_setErrMsgCB(); so the sink travels in a thread-local. */
static _Thread_local struct err_sink *current_sink;

static void collect_error(void *cookie, const char *msg, size_t len)
{
	struct err_sink *e = current_sink;
	(void)cookie;
	if (e == NULL)
		return;
	size_t used = strlen(e->buf);
	if (used + 3 >= e->len)
		return;
	snprintf(e->buf + used, e->len - used, "%s%.*s", used ? "; " : "", (int)len, msg);
}

mmr_rulebase *mmr_rulebase_load(const char *path, char *err, size_t errlen)
{
	return mmr_rulebase_load_flags(path, 0, err, errlen);
}

mmr_rulebase *mmr_rulebase_load_flags(const char *path, unsigned flags, char *err, size_t errlen)
{
	struct err_sink sink = {err, errlen};
	mmr_rulebase *rb;

	if (errlen)
		err[0] = '\0';
	if ((rb = calloc(1, sizeof(*rb))) == NULL || (rb->ctx = ln_initCtx()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(rb);
		return NULL;
	}
	rb->flags = flags;
	if (flags & MMR_RB_EXPLAIN)
		ln_setCtxOpts(rb->ctx, LN_CTXOPT_ADD_RULE_LOCATION);
	current_sink = &sink;
	ln_setErrMsgCB(rb->ctx, collect_error, &sink);
	int r = ln_loadSamples(rb->ctx, path);
	ln_setErrMsgCB(rb->ctx, NULL, NULL);
	current_sink = NULL;
	/* liblognorm also reports bad lines without failing the load; treat them as fatal so a
	 * typo in a rulebase is found at config time, not by missing detections. */
	if (r != 0 || err[0] != '\0') {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot load rulebase '%s' (error %d)", path, r);
		ln_exitCtx(rb->ctx);
		free(rb);
		return NULL;
	}
	check_types(rb, path);
	return rb;
}

/* liblognorm versions up to this one leak on unmatched user-defined types */
#define LEAKY_TYPES_UP_TO "2.0.6"

static int version_le(const char *v, const char *limit)
{
	unsigned a[3] = {0}, b[3] = {0};
	sscanf(v, "%u.%u.%u", &a[0], &a[1], &a[2]);
	sscanf(limit, "%u.%u.%u", &b[0], &b[1], &b[2]);
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i];
	return 1;
}

static void check_types(mmr_rulebase *rb, const char *path)
{
	const char *ver = ln_version();
	if (ver == NULL || !version_le(ver, LEAKY_TYPES_UP_TO))
		return;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	char line[8192];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (line[0] != '#' &&
		    (strstr(line, "\"type\":\"string\"") != NULL || strstr(line, ":string%") != NULL ||
		     strstr(line, ":string{") != NULL))
			rb->mask_high_bytes = true;
		if (rb->warning[0] == '\0' && strncmp(line, "type=@", 6) == 0) {
			snprintf(rb->warning, sizeof(rb->warning),
				 "rulebase '%s' defines user-defined types (line %u); liblognorm %s "
				 "leaks memory each time such a type fails to match (liblognorm issue "
				 "#223), so memory grows with traffic: compile the rulebase with "
				 "expand-types.awk first (rulebase/SCHEMA.md)", path, lineno, ver);
		}
	}
	fclose(f);
}

const char *mmr_rulebase_warning(const mmr_rulebase *rb)
{
	return rb->warning[0] ? rb->warning : NULL;
}

void mmr_rulebase_free(mmr_rulebase *rb)
{
	if (rb == NULL)
		return;
	ln_exitCtx(rb->ctx);
	free(rb);
}

struct json_object *mmr_rulebase_parse(mmr_rulebase *rb, const char *s, size_t len)
{
	struct json_object *fields = NULL;
	char *masked = NULL;
	/* NUL bytes are masked for every rulebase: liblognorm 2.0.6's string parser reads past
	 * the end after "\\" + NUL (found by fuzz/fuzz_parse; regression in
	 * fuzz/regressions/fuzz_parse/), and no log format has a NUL worth matching. Bytes >= 0x80
	 * only where the string parser is used (see mask_high_bytes). */
	size_t i = 0;
	while (i < len && s[i] != '\0' && (!rb->mask_high_bytes || (unsigned char)s[i] < 0x80))
		i++;
	if (i < len) {
		if ((masked = malloc(len + 1)) == NULL)
			return NULL; /* no memory for the copy: unparsed rather than a crash */
		for (size_t k = 0; k < len; k++) {
			unsigned char c = (unsigned char)s[k];
			masked[k] = c == 0 || (rb->mask_high_bytes && c >= 0x80) ? '?' : s[k];
		}
		masked[len] = '\0';
		s = masked;
	}
	int r = ln_normalize(rb->ctx, s, len, &fields);
	free(masked);
	if (r != 0 || fields == NULL) {
		if (fields)
			json_object_put(fields);
		return NULL;
	}
	/* A failed match still returns an object holding "unparsed-data". */
	if (json_object_object_get_ex(fields, "unparsed-data", NULL)) {
		json_object_put(fields);
		return NULL;
	}
	return fields;
}

void mmr_rulebase_rule_of(const mmr_rulebase *rb, struct json_object *fields, char *buf,
			  size_t len)
{
	struct json_object *md, *rule, *loc, *file, *line;
	buf[0] = '\0';
	if (!(rb->flags & MMR_RB_EXPLAIN)) /* the hot path never asks liblognorm for locations */
		return;
	if (!json_object_object_get_ex(fields, "metadata", &md) ||
	    !json_object_object_get_ex(md, "rule", &rule) ||
	    !json_object_object_get_ex(rule, "location", &loc) ||
	    !json_object_object_get_ex(loc, "file", &file) ||
	    !json_object_object_get_ex(loc, "line", &line))
		return;
	const char *fname = json_object_get_string(file);
	int lineno = json_object_get_int(line);
	snprintf(buf, len, "%s:%d", fname, lineno);
	/* a compiled rulebase names the source rule in a "#@ file:line" line above it */
	FILE *f = fopen(fname, "r");
	if (f == NULL)
		return;
	char l[4096], marker[512] = "";
	for (int n = 1; n < lineno && fgets(l, sizeof(l), f) != NULL; n++)
		if (strncmp(l, "#@ ", 3) == 0) {
			l[strcspn(l, "\r\n")] = '\0';
			snprintf(marker, sizeof(marker), "%.500s", l + 3);
		}
	fclose(f);
	if (marker[0])
		snprintf(buf, len, "%s (compiled: %s:%d)", marker, fname, lineno);
}
