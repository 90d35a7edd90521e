/* Parsed fields -> canonical event, and canonical event -> JSON.
 *
 * The field names are the contract with rulebase authors (rulebase/SCHEMA.md). Action and
 * outcome come from the rule's tags ("event.tags" in liblognorm output, the same under "$!"
 * after mmnormalize), or from explicit "action"/"outcome" fields, which win.
 */
#include <errno.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

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
	ev->bytes_in = ev->bytes_out = ev->duration = -1;
}

static const char *field_str(struct json_object *fields, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(fields, name, &v) || v == NULL)
		return NULL;
	if (json_object_get_type(v) == json_type_object || json_object_get_type(v) == json_type_array)
		return NULL;
	return json_object_get_string(v);
}

static void copy_field(struct json_object *fields, const char *name, char *dst, size_t len)
{
	const char *s = field_str(fields, name);
	if (s == NULL)
		return;
	size_t n = strlen(s);
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Non-negative integer from a number or a numeric string; -1 when absent or not a number. */
static int64_t field_count(struct json_object *fields, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(fields, name, &v) || v == NULL)
		return -1;
	if (json_object_get_type(v) == json_type_int) {
		int64_t n = json_object_get_int64(v);
		return n >= 0 ? n : -1;
	}
	if (json_object_get_type(v) != json_type_string)
		return -1;
	const char *s = json_object_get_string(v);
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	return (*end == '\0' && n >= 0 && errno != ERANGE) ? n : -1;
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
	const char *s;

	mmr_event_init(ev);
	ev->time = fallback_time;
	if (fields == NULL || json_object_get_type(fields) != json_type_object)
		return MMR_CANON_NOT_IDENTITY;

	apply_tags(ev, fields);
	if ((s = field_str(fields, "action")) != NULL)
		ev->action = mmr_action_from_name(s);
	if ((s = field_str(fields, "outcome")) != NULL)
		ev->outcome = outcome_from_name(s);

	if ((s = field_str(fields, "user")) != NULL) {
		mmr_user_normalize(s, norm, ev->user, sizeof(ev->user), &ev->user_truncated);
		size_t ul = strlen(ev->user);
		bool only_cut = ev->user_truncated && strncmp(s, ev->user, ul) == 0;
		if (strcmp(s, ev->user) != 0 && !only_cut) {
			size_t n = strlen(s);
			if (n >= sizeof(ev->user_raw))
				n = sizeof(ev->user_raw) - 1;
			memcpy(ev->user_raw, s, n);
			ev->user_raw[n] = '\0';
		}
	}
	if ((s = field_str(fields, "src_ip")) != NULL)
		mmr_ip_parse(s, &ev->src_ip);
	if ((s = field_str(fields, "assigned_ip")) != NULL)
		mmr_ip_parse(s, &ev->assigned_ip);
	int64_t port = field_count(fields, "src_port");
	ev->src_port = (port >= 0 && port <= 65535) ? (int32_t)port : -1;
	copy_field(fields, "target", ev->target, sizeof(ev->target));
	copy_field(fields, "device", ev->device, sizeof(ev->device));
	copy_field(fields, "auth_method", ev->auth_method, sizeof(ev->auth_method));
	copy_field(fields, "mfa_factor", ev->mfa_factor, sizeof(ev->mfa_factor));
	copy_field(fields, "group", ev->group, sizeof(ev->group));
	copy_field(fields, "session_id", ev->session_id, sizeof(ev->session_id));
	copy_field(fields, "reason", ev->reason, sizeof(ev->reason));
	ev->bytes_in = field_count(fields, "bytes_in");
	ev->bytes_out = field_count(fields, "bytes_out");
	if ((ev->duration = field_count(fields, "duration")) < 0 &&
	    (s = field_str(fields, "duration")) != NULL && mmr_duration_parse(s, &ev->duration) != 0)
		ev->duration = -1;
	if ((s = field_str(fields, "event_time")) != NULL && mmr_time_parse(s, &ev->time) == 0)
		ev->time_from_log = true;

	if (ev->action == MMR_ACTION_NONE || ev->user[0] == '\0')
		return MMR_CANON_NOT_IDENTITY;
	return MMR_CANON_OK;
}

static void put_str(struct json_object *o, const char *k, const char *v)
{
	if (v[0] != '\0')
		json_object_object_add(o, k, json_object_new_string(v));
}

static void put_count(struct json_object *o, const char *k, int64_t v)
{
	if (v >= 0)
		json_object_object_add(o, k, json_object_new_int64(v));
}

static void put_ip(struct json_object *o, const char *k, const mmr_ip *ip)
{
	char buf[64];
	if (ip->family && mmr_ip_format(ip, buf, sizeof(buf)) == 0)
		json_object_object_add(o, k, json_object_new_string(buf));
}

struct json_object *mmr_event_to_json(const mmr_event *ev)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	put_str(o, "action", mmr_action_name(ev->action));
	put_str(o, "outcome", mmr_outcome_name(ev->outcome));
	put_str(o, "user", ev->user);
	put_str(o, "user_raw", ev->user_raw);
	put_ip(o, "src_ip", &ev->src_ip);
	put_count(o, "src_port", ev->src_port);
	put_ip(o, "assigned_ip", &ev->assigned_ip);
	put_str(o, "target", ev->target);
	put_str(o, "device", ev->device);
	put_str(o, "auth_method", ev->auth_method);
	put_str(o, "mfa_factor", ev->mfa_factor);
	put_str(o, "group", ev->group);
	put_str(o, "session_id", ev->session_id);
	put_str(o, "reason", ev->reason);
	put_str(o, "host", ev->host);
	put_count(o, "bytes_in", ev->bytes_in);
	put_count(o, "bytes_out", ev->bytes_out);
	put_count(o, "duration", ev->duration);
	if (ev->time_from_log) {
		char buf[32];
		mmr_time_format(ev->time, buf, sizeof(buf));
		put_str(o, "event_time", buf);
	}
	return o;
}
