/* liblognorm wrapper: one loaded rulebase. liblognorm reports rulebase errors through a
 * callback; we keep the first ones so the caller can name the problem in rsyslog's log. */
#include <json.h>
#include <liblognorm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/rulebase.h"

struct mmr_rulebase {
	ln_ctx ctx;
};

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
	struct err_sink sink = {err, errlen};
	mmr_rulebase *rb;

	if (errlen)
		err[0] = '\0';
	if ((rb = calloc(1, sizeof(*rb))) == NULL || (rb->ctx = ln_initCtx()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(rb);
		return NULL;
	}
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
	return rb;
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
	int r = ln_normalize(rb->ctx, s, len, &fields);
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
