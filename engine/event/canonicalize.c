/* Parsed fields -> canonical event, and canonical event -> JSON.
 *
 * The field names are the contract with rulebase authors (rulebase/SCHEMA.md). Action and
 * outcome come from the rule's tags ("event.tags" in liblognorm output, the same under "$!"
 * after mmnormalize), or from explicit "action"/"outcome" fields, which win.
 */
#include <errno.h>
#include <json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmriskscore/event.h"

static const char *const action_names[MMR_ACTION_COUNT_] = {
	[MMR_ACTION_NONE] = "none",
	[MMR_ACTION_AUTH] = "auth",
	[MMR_ACTION_MFA] = "mfa",
	[MMR_ACTION_VPN_START] = "vpn_start",
	[MMR_ACTION_VPN_END] = "vpn_end",
	[MMR_ACTION_IP_ASSIGNED] = "ip_assigned",
	[MMR_ACTION_SSO] = "sso",
	[MMR_ACTION_PRIVILEGE] = "privilege",
	[MMR_ACTION_ACCOUNT] = "account",
	[MMR_ACTION_LOGOUT] = "logout",
	[MMR_ACTION_VPN_STATS] = "vpn_stats",
};

const char *mmr_action_name(mmr_action a)
{
	return (unsigned)a < MMR_ACTION_COUNT_ ? action_names[a] : "none";
}

mmr_action mmr_action_from_name(const char *s)
{
	for (int i = 1; i < MMR_ACTION_COUNT_; i++)
		if (strcmp(s, action_names[i]) == 0)
			return (mmr_action)i;
	return MMR_ACTION_NONE;
}

const char *mmr_outcome_name(mmr_outcome o)
{
	return o == MMR_OUTCOME_SUCCESS ? "success" : o == MMR_OUTCOME_FAILURE ? "failure" : "unknown";
}

static mmr_outcome outcome_from_name(const char *s)
{
	if (strcmp(s, "success") == 0)
		return MMR_OUTCOME_SUCCESS;
	if (strcmp(s, "failure") == 0)
		return MMR_OUTCOME_FAILURE;
	return MMR_OUTCOME_UNKNOWN;
}

void mmr_event_init(mmr_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->src_port = -1;
	ev->bytes_in = ev->bytes_out = ev->duration = ev->as_number = -1;
	ev->is_proxy = -1;
}

/* The canonical fields a rule or mapping may set, in output order. One table drives
 * parsing (mmr_event_set_field), printing (mmr_event_to_json) and validation of mappings. */
typedef enum { F_USER, F_STR, F_IP, F_PORT, F_COUNT, F_DURATION, F_TIME, F_BOOL } field_kind;

typedef struct {
	const char *name;
	field_kind kind;
	size_t off, size;
} canon_field;

#define STR(f) F_STR, offsetof(mmr_event, f), sizeof(((mmr_event *)0)->f)
#define AT(f) offsetof(mmr_event, f), 0
static const canon_field canon_fields[] = {
	{"user", F_USER, 0, 0},
	{"src_ip", F_IP, AT(src_ip)},
	{"src_port", F_PORT, AT(src_port)},
	{"assigned_ip", F_IP, AT(assigned_ip)},
	{"target", STR(target)},
	{"device", STR(device)},
	{"user_agent", STR(user_agent)},
	{"auth_method", STR(auth_method)},
	{"mfa_factor", STR(mfa_factor)},
	{"group", STR(group)},
	{"session_id", STR(session_id)},
	{"reason", STR(reason)},
	{"host", STR(host)},
	{"geo_country", STR(geo_country)},
	{"geo_city", STR(geo_city)},
	{"as_number", F_COUNT, AT(as_number)},
	{"as_org", STR(as_org)},
	{"is_proxy", F_BOOL, AT(is_proxy)},
	{"bytes_in", F_COUNT, AT(bytes_in)},
	{"bytes_out", F_COUNT, AT(bytes_out)},
	{"duration", F_DURATION, AT(duration)},
	{"event_time", F_TIME, AT(time)},
};
#undef STR
#undef AT
#define N_FIELDS (sizeof(canon_fields) / sizeof(canon_fields[0]))

static const canon_field *find_field(const char *name)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strcmp(canon_fields[i].name, name) == 0)
			return &canon_fields[i];
	return NULL;
}

bool mmr_event_field_known(const char *name)
{
	return find_field(name) != NULL || strcmp(name, "action") == 0 ||
	       strcmp(name, "outcome") == 0;
}

void mmr_jvalue_format_int(mmr_jvalue *v)
{
	/* what libfastjson prints ("%" PRId64), without snprintf on the hot path */
	char tmp[24];
	size_t n = 0;
	uint64_t m = v->i < 0 ? (uint64_t)0 - (uint64_t)v->i : (uint64_t)v->i;
	do {
		tmp[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	size_t o = 0;
	if (v->i < 0)
		v->num[o++] = '-';
	while (n)
		v->num[o++] = tmp[--n];
	v->num[o] = '\0';
}

void mmr_jvalue_from_json(struct json_object *value, mmr_jvalue *v)
{
	memset(v, 0, sizeof(*v));
	switch (json_object_get_type(value)) {
	case json_type_null:
		v->type = MMR_JV_NULL;
		break;
	case json_type_object:
		v->type = MMR_JV_OBJECT;
		break;
	case json_type_array:
		v->type = MMR_JV_ARRAY;
		break;
	case json_type_int:
		v->type = MMR_JV_INT;
		v->i = json_object_get_int64(value);
		mmr_jvalue_format_int(v);
		break;
	case json_type_boolean:
		v->type = MMR_JV_BOOL;
		v->b = json_object_get_boolean(value);
		v->text = v->b ? "true" : "false";
		break;
	case json_type_double:
		v->type = MMR_JV_DOUBLE;
		v->text = json_object_get_string(value);
		break;
	case json_type_string:
		v->type = MMR_JV_STRING;
		v->text = json_object_get_string(value);
		break;
	}
}

/* Non-negative integer from a number or a numeric string; -1 when not a number. */
static int64_t count_value(const mmr_jvalue *v)
{
	if (v->type == MMR_JV_INT) {
		/* numbers beyond int64 saturate at INT64_MAX: out of range, not a count (the same
		 * digits in a string are rejected below too) */
		return v->i >= 0 && v->i != INT64_MAX ? v->i : -1;
	}
	if (v->type != MMR_JV_STRING)
		return -1;
	const char *s = v->text;
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	return (*end == '\0' && n >= 0 && errno != ERANGE) ? n : -1;
}

static int bool_value(const mmr_jvalue *v)
{
	if (v->type == MMR_JV_BOOL)
		return v->b ? 1 : 0;
	const char *s = mmr_jvalue_text(v);
	if (s == NULL)
		return -1;
	if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes"))
		return 1;
	if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no"))
		return 0;
	return -1;
}

static void set_user(mmr_event *ev, const char *s, const mmr_user_norm *norm)
{
	mmr_user_normalize(s, norm, ev->user, sizeof(ev->user), &ev->user_truncated);
	mmr_utf8_sanitize(ev->user);
	size_t ul = strlen(ev->user);
	bool only_cut = ev->user_truncated && strncmp(s, ev->user, ul) == 0;
	ev->user_raw[0] = '\0';
	if (strcmp(s, ev->user) != 0 && !only_cut) {
		size_t n = strlen(s);
		if (n >= sizeof(ev->user_raw))
			n = sizeof(ev->user_raw) - 1;
		memcpy(ev->user_raw, s, n);
		ev->user_raw[n] = '\0';
		/* a cut inside a sequence, or invalid input, must not reach the JSON output */
		mmr_utf8_sanitize(ev->user_raw);
		if (strcmp(ev->user_raw, ev->user) == 0)
			ev->user_raw[0] = '\0';
	}
}

static int set_field(mmr_event *ev, const canon_field *f, const mmr_jvalue *v,
		     const mmr_user_norm *norm)
{
	char *base = (char *)ev;
	const char *s = mmr_jvalue_text(v);
	int64_t n;

	switch (f->kind) {
	case F_USER:
		if (s == NULL || *s == '\0')
			return -1;
		set_user(ev, s, norm);
		return 0;
	case F_STR: {
		if (s == NULL)
			return -1;
		size_t len = strlen(s);
		if (len >= f->size)
			len = f->size - 1;
		memcpy(base + f->off, s, len);
		base[f->off + len] = '\0';
		mmr_utf8_sanitize(base + f->off);
		return 0;
	}
	case F_IP: {
		/* "0.0.0.0" and "::" are how logs write "no address": keep the field absent */
		static const uint8_t zero[16];
		mmr_ip ip;
		if (s == NULL || mmr_ip_parse(s, &ip) != 0 ||
		    memcmp(ip.b, zero, sizeof(zero)) == 0)
			return -1;
		*(mmr_ip *)(base + f->off) = ip;
		return 0;
	}
	case F_PORT:
		if ((n = count_value(v)) < 0 || n > 65535)
			return -1;
		*(int32_t *)(base + f->off) = (int32_t)n;
		return 0;
	case F_COUNT:
		if ((n = count_value(v)) < 0)
			return -1;
		*(int64_t *)(base + f->off) = n;
		return 0;
	case F_DURATION:
		if ((n = count_value(v)) < 0 &&
		    (s == NULL || mmr_duration_parse(s, &n) != 0))
			return -1;
		ev->duration = n;
		return 0;
	case F_TIME: /* an integer as its digits: epoch seconds or milliseconds */
		if (s == NULL || mmr_time_parse(s, &ev->time) != 0)
			return -1;
		ev->time_from_log = true;
		return 0;
	case F_BOOL: {
		int b = bool_value(v);
		if (b < 0)
			return -1;
		ev->is_proxy = (int8_t)b;
		return 0;
	}
	}
	return -1;
}

int mmr_event_set_value(mmr_event *ev, const char *name, const mmr_jvalue *v,
			const mmr_user_norm *norm)
{
	const char *s = mmr_jvalue_text(v);
	if (v->type == MMR_JV_NULL)
		return -1;
	if (strcmp(name, "action") == 0) {
		mmr_action a;
		if (s == NULL || (a = mmr_action_from_name(s)) == MMR_ACTION_NONE)
			return -1;
		ev->action = a;
		return 0;
	}
	if (strcmp(name, "outcome") == 0) {
		if (s == NULL)
			return -1;
		ev->outcome = outcome_from_name(s);
		return 0;
	}
	const canon_field *f = find_field(name);
	return f ? set_field(ev, f, v, norm) : -1;
}

int mmr_event_set_field(mmr_event *ev, const char *name, struct json_object *value,
			const mmr_user_norm *norm)
{
	mmr_jvalue v;
	mmr_jvalue_from_json(value, &v);
	return mmr_event_set_value(ev, name, &v, norm);
}

static void apply_tags(mmr_event *ev, struct json_object *fields)
{
	struct json_object *tags;
	if (!json_object_object_get_ex(fields, "event.tags", &tags) ||
	    json_object_get_type(tags) != json_type_array)
		return;
	size_t n = json_object_array_length(tags);
	for (size_t i = 0; i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(tags, i));
		if (t == NULL)
			continue;
		mmr_action a = mmr_action_from_name(t);
		if (a != MMR_ACTION_NONE && ev->action == MMR_ACTION_NONE)
			ev->action = a;
		else if (strcmp(t, "success") == 0 || strcmp(t, "failure") == 0)
			ev->outcome = outcome_from_name(t);
	}
}

mmr_canon_status mmr_event_from_fields(mmr_event *ev, struct json_object *fields,
				       const mmr_user_norm *norm, int64_t fallback_time)
{
	struct json_object *v;

	mmr_event_init(ev);
	ev->time = fallback_time;
	if (fields == NULL || json_object_get_type(fields) != json_type_object)
		return MMR_CANON_NOT_IDENTITY;

	apply_tags(ev, fields);
	if (json_object_object_get_ex(fields, "action", &v))
		mmr_event_set_field(ev, "action", v, norm);
	if (json_object_object_get_ex(fields, "outcome", &v))
		mmr_event_set_field(ev, "outcome", v, norm);
	for (size_t i = 0; i < N_FIELDS; i++)
		if (json_object_object_get_ex(fields, canon_fields[i].name, &v) && v != NULL) {
			mmr_jvalue jv;
			mmr_jvalue_from_json(v, &jv);
			set_field(ev, &canon_fields[i], &jv, norm);
		}
	return mmr_event_status(ev);
}

mmr_canon_status mmr_event_status(const mmr_event *ev)
{
	if (ev->action == MMR_ACTION_NONE || ev->user[0] == '\0')
		return MMR_CANON_NOT_IDENTITY;
	return MMR_CANON_OK;
}

/* every key is added once: KEY_IS_NEW spares libfastjson its search for an earlier one (a scan
 * of the members so far, strcasecmp per member inside rsyslogd) */
#define ADD(o, k, v) json_object_object_add_ex(o, k, v, JSON_C_OBJECT_ADD_KEY_IS_NEW)

struct json_object *mmr_event_to_json(const mmr_event *ev)
{
	struct json_object *o = json_object_new_object();
	const char *base = (const char *)ev;
	char buf[64];

	if (o == NULL)
		return NULL;
	ADD(o, "action", json_object_new_string(mmr_action_name(ev->action)));
	ADD(o, "outcome", json_object_new_string(mmr_outcome_name(ev->outcome)));
	for (size_t i = 0; i < N_FIELDS; i++) {
		const canon_field *f = &canon_fields[i];
		struct json_object *v = NULL;
		int64_t n;
		switch (f->kind) {
		case F_USER: /* the key, then the name as logged when it differs */
			if (ev->user[0])
				ADD(o, "user", json_object_new_string(ev->user));
			if (ev->user_raw[0])
				ADD(o, "user_raw", json_object_new_string(ev->user_raw));
			continue;
		case F_STR:
			if (base[f->off] != '\0')
				v = json_object_new_string(base + f->off);
			break;
		case F_IP:
			if (((const mmr_ip *)(base + f->off))->family &&
			    mmr_ip_format((const mmr_ip *)(base + f->off), buf, sizeof(buf)) == 0)
				v = json_object_new_string(buf);
			break;
		case F_PORT:
			if ((n = *(const int32_t *)(base + f->off)) >= 0)
				v = json_object_new_int64(n);
			break;
		case F_COUNT:
		case F_DURATION:
			if ((n = *(const int64_t *)(base + f->off)) >= 0)
				v = json_object_new_int64(n);
			break;
		case F_TIME:
			if (ev->time_from_log) {
				mmr_time_format(ev->time, buf, sizeof(buf));
				v = json_object_new_string(buf);
			}
			break;
		case F_BOOL:
			if (ev->is_proxy >= 0)
				v = json_object_new_boolean(ev->is_proxy);
			break;
		}
		if (v != NULL)
			ADD(o, f->name, v);
	}
	return o;
}
