/* Message -> canonical event (see parse.h for the order of attempts and why).
 *
 * JSON goes first because an IdP record is unambiguous once it parses as an object, and a
 * rulebase would only waste time failing on it. It is scanned (map/json_scan.c), not parsed
 * into a libfastjson tree: the mappings read a few values of a record of a hundred, and the
 * tree's allocations were most of the cost of the IdP path. A JSON text that no mapping claims is
 * "unparsed", like a text line no rule matches: both are counted and pass through unchanged.
 */
#include <json.h>
#include <limits.h>
#include <string.h>

#include "map/json_scan.h"
#include "mmriskscore/parse.h"

/* Where the JSON object of a message starts (after blanks and an optional "@cee:" cookie),
 * or NULL when it does not start with '{'. */
static const char *json_start(const char *s, size_t *len)
{
	size_t n = *len;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n >= 5 && memcmp(s, "@cee:", 5) == 0) {
		s += 5;
		n -= 5;
		while (n > 0 && *s == ' ') {
			s++;
			n--;
		}
	}
	*len = n;
	return n > 0 && *s == '{' ? s : NULL;
}

/* A text the scanner refused as not RFC 8259 (comments, single quotes, raw control
 * characters, text after the object...) that libfastjson's tokener still reads as an object:
 * such messages were mapped before the scanner existed, and a producer that writes them must
 * not lose its events on an upgrade. Only invalid texts pay for this; oversized or too deep
 * documents stay unparsed. */
static struct json_object *lenient_object(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	struct json_object *j = json_tokener_parse_ex(tok, s, (int)(len > INT_MAX ? INT_MAX : len));
	json_tokener_free(tok);
	if (j != NULL && json_object_get_type(j) != json_type_object) {
		json_object_put(j);
		j = NULL;
	}
	return j;
}

static mmr_parse_status from_mapping(mmr_map_status st)
{
	return st == MMR_MAP_OK ? MMR_PARSE_OK
	       : st == MMR_MAP_NOT_IDENTITY ? MMR_PARSE_NOT_IDENTITY
					    : MMR_PARSE_UNPARSED;
}

mmr_parse_status mmr_parse_event(mmr_rulebase *rb, const mmr_mappings *maps,
				 const mmr_parse_input *in, const mmr_user_norm *norm,
				 mmr_event *ev, mmr_parse_trace *trace)
{
	mmr_parse_trace dummy;
	if (trace == NULL)
		trace = &dummy;
	memset(trace, 0, sizeof(*trace));
	mmr_event_init(ev);
	ev->time = in->fallback_time;

	size_t len = in->msg_len;
	const char *json = maps != NULL && in->msg != NULL ? json_start(in->msg, &len) : NULL;
	if (json != NULL) {
		/* scanned, not parsed into a tree: the mappings read a few values of it */
		mmr_json_doc doc;
		mmr_json_doc_init(&doc);
		mmr_json_status js = mmr_json_scan(&doc, json, len);
		bool is_json = js == MMR_JSON_OK;
		mmr_map_status st = MMR_MAP_NO_MATCH;
		if (is_json) {
			trace->json = 1;
			st = mmr_mappings_apply_scanned(maps, &doc, ev, norm, in->fallback_time,
							&trace->mapping);
		}
		mmr_json_doc_release(&doc);
		if (is_json)
			return from_mapping(st);
		struct json_object *tree = js == MMR_JSON_INVALID ? lenient_object(json, len) : NULL;
		if (tree != NULL) {
			trace->json = 1;
			st = mmr_mappings_apply(maps, tree, ev, norm, in->fallback_time,
						&trace->mapping);
			json_object_put(tree);
			return from_mapping(st);
		}
	}
	if (rb == NULL || in->text == NULL)
		return MMR_PARSE_UNPARSED;
	struct json_object *fields = mmr_rulebase_parse(rb, in->text, in->text_len);
	if (fields == NULL)
		return MMR_PARSE_UNPARSED;
	mmr_rulebase_rule_of(rb, fields, trace->rule, sizeof(trace->rule));
	mmr_parse_status st = mmr_parse_fields(fields, maps, norm, in->fallback_time, ev, trace);
	json_object_put(fields);
	return st;
}

mmr_parse_status mmr_parse_fields(struct json_object *fields, const mmr_mappings *maps,
				  const mmr_user_norm *norm, int64_t fallback_time, mmr_event *ev,
				  mmr_parse_trace *trace)
{
	if (mmr_event_from_fields(ev, fields, norm, fallback_time) == MMR_CANON_OK)
		return MMR_PARSE_OK;
	if (ev->action != MMR_ACTION_NONE || maps == NULL)
		return MMR_PARSE_NOT_IDENTITY;
	/* no action tag: vendor-named fields (key=value sources, or JSON parsed elsewhere) */
	mmr_map_status ms = mmr_mappings_apply(maps, fields, ev, norm, fallback_time,
					       trace ? &trace->mapping : NULL);
	return ms == MMR_MAP_NO_MATCH ? MMR_PARSE_NOT_IDENTITY : from_mapping(ms);
}
