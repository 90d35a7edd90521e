/* One message -> one canonical event: the first two steps of DESIGN.md §2, shared by the
 * rsyslog module and the tools so that both see exactly the same events. */
#ifndef MMRISKSCORE_PARSE_H
#define MMRISKSCORE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"
#include "mmriskscore/rulebase.h"

typedef enum {
	MMR_PARSE_OK = 0,        /* an identity event */
	MMR_PARSE_NOT_IDENTITY,  /* understood, but not an identity event */
	MMR_PARSE_UNPARSED,      /* no rule and no mapping understood it */
} mmr_parse_status;

typedef struct mmr_parse_input {
	const char *text;   /* what the rulebase parses (by default syslog tag + msg) */
	size_t text_len;
	const char *msg;    /* the message part: tried as JSON first when mappings are loaded */
	size_t msg_len;
	int64_t fallback_time; /* event time when the log carries none */
} mmr_parse_input;

typedef struct mmr_parse_trace {
	char rule[600];     /* rule that matched ("file:line"), with MMR_RB_EXPLAIN */
	const char *mapping; /* mapping that matched, or NULL */
	int json;           /* the message was parsed as JSON */
} mmr_parse_trace;

/* JSON first: when maps is given and msg (after blanks and an optional "@cee:" cookie) is a
 * JSON object (RFC 8259, strictly: rulebase/SCHEMA.md §8), the mappings decide (no match:
 * unparsed). Otherwise the rulebase parses text;
 * a rule's action tags make the event, and fields from a rule without action tags (key=value
 * sources) go to the mappings. rb and maps may each be NULL. trace may be NULL. */
mmr_parse_status mmr_parse_event(mmr_rulebase *rb, const mmr_mappings *maps,
				 const mmr_parse_input *in, const mmr_user_norm *norm,
				 mmr_event *ev, mmr_parse_trace *trace);

/* The second half of mmr_parse_event for fields parsed elsewhere (mmnormalize, mmjsonparse, or
 * our rulebase): action tags or "action"/"outcome" fields make the event; without an action,
 * the mappings get the fields. */
mmr_parse_status mmr_parse_fields(struct fjson_object *fields, const mmr_mappings *maps,
				  const mmr_user_norm *norm, int64_t fallback_time, mmr_event *ev,
				  mmr_parse_trace *trace);

#endif
