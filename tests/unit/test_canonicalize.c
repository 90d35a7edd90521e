/* Unit tests of engine/event/canonicalize.c: parsed fields (liblognorm/JSON) -> mmr_event and
 * mmr_event -> canonical JSON. Expectations come from notes/contract.md ("Canonical fields",
 * "Canonical JSON") and event.h. Inputs are built with libfastjson's json_tokener_parse, the
 * same shape liblognorm hands the module (tags under "event.tags").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit_support.h"
#include <json.h>

#include "mmriskscore/event.h"

#define FALLBACK ((int64_t)1700000000)

static const mmr_user_norm NORM = {.strip_domain = true};

static mmr_canon_status canon(const char *json, mmr_event *ev)
{
	struct json_object *o = json_tokener_parse(json);
	if (o == NULL)
		fail_msg("test bug: bad JSON %s", json);
	mmr_canon_status st = mmr_event_from_fields(ev, o, &NORM, FALLBACK);
	json_object_put(o);
	return st;
}


/* ---- action / outcome ------------------------------------------------------------------ */

static void test_tags_give_action_and_outcome(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"alice\",\"event.tags\":[\"sshd\",\"auth\",\"success\"]}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);

	/* order of tags does not matter; vendor tags are ignored */
	assert_int_equal(canon("{\"user\":\"alice\",\"event.tags\":[\"failure\",\"cisco_asa\","
			       "\"vpn_start\"]}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.action, MMR_ACTION_VPN_START);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);

	/* no outcome tag -> unknown */
	assert_int_equal(canon("{\"user\":\"alice\",\"event.tags\":[\"vpn_end\"]}", &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.action, MMR_ACTION_VPN_END);
	assert_int_equal(ev.outcome, MMR_OUTCOME_UNKNOWN);
}

static void test_every_action_tag(void **state)
{
	(void)state;
	static const struct {
		const char *tag;
		mmr_action a;
	} t[] = {
		{"auth", MMR_ACTION_AUTH},           {"mfa", MMR_ACTION_MFA},
		{"vpn_start", MMR_ACTION_VPN_START}, {"vpn_end", MMR_ACTION_VPN_END},
		{"ip_assigned", MMR_ACTION_IP_ASSIGNED}, {"sso", MMR_ACTION_SSO},
		{"privilege", MMR_ACTION_PRIVILEGE}, {"account", MMR_ACTION_ACCOUNT},
		{"logout", MMR_ACTION_LOGOUT},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char json[128];
		mmr_event ev;
		snprintf(json, sizeof(json), "{\"user\":\"u\",\"event.tags\":[\"%s\"]}", t[i].tag);
		assert_int_equal(canon(json, &ev), MMR_CANON_OK);
		assert_int_equal(ev.action, t[i].a);
		assert_string_equal(mmr_action_name(t[i].a), t[i].tag);
		assert_int_equal(mmr_action_from_name(t[i].tag), t[i].a);
	}
	assert_int_equal(mmr_action_from_name("AUTH"), MMR_ACTION_NONE);
	assert_int_equal(mmr_action_from_name("none"), MMR_ACTION_NONE);
	assert_string_equal(mmr_outcome_name(MMR_OUTCOME_SUCCESS), "success");
	assert_string_equal(mmr_outcome_name(MMR_OUTCOME_FAILURE), "failure");
	assert_string_equal(mmr_outcome_name(MMR_OUTCOME_UNKNOWN), "unknown");
}

static void test_explicit_action_outcome_override_tags(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"alice\",\"event.tags\":[\"auth\",\"success\"],"
			       "\"action\":\"mfa\",\"outcome\":\"failure\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.action, MMR_ACTION_MFA);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);

	/* JSON sources without tags at all */
	assert_int_equal(canon("{\"user\":\"alice\",\"action\":\"sso\",\"outcome\":\"success\"}", &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.action, MMR_ACTION_SSO);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);
}

static void test_not_identity(void **state)
{
	(void)state;
	mmr_event ev;
	/* no user */
	assert_int_equal(canon("{\"event.tags\":[\"auth\",\"success\"],\"src_ip\":\"198.51.100.7\"}",
			       &ev),
			 MMR_CANON_NOT_IDENTITY);
	/* no action (only an outcome and vendor tags) */
	assert_int_equal(canon("{\"user\":\"alice\",\"event.tags\":[\"sshd\",\"success\"]}", &ev),
			 MMR_CANON_NOT_IDENTITY);
	/* a user that normalizes to nothing */
	assert_int_equal(canon("{\"user\":\"   \",\"event.tags\":[\"auth\"]}", &ev),
			 MMR_CANON_NOT_IDENTITY);
	assert_int_equal(canon("{\"user\":\"\",\"event.tags\":[\"auth\"]}", &ev),
			 MMR_CANON_NOT_IDENTITY);
	/* an unknown explicit action is no action */
	assert_int_equal(canon("{\"user\":\"alice\",\"action\":\"reboot\"}", &ev),
			 MMR_CANON_NOT_IDENTITY);
	/* null is absent */
	assert_int_equal(canon("{\"user\":null,\"event.tags\":[\"auth\"]}", &ev),
			 MMR_CANON_NOT_IDENTITY);
	/* user as an object is not a user */
	assert_int_equal(canon("{\"user\":{\"name\":\"alice\"},\"event.tags\":[\"auth\"]}", &ev),
			 MMR_CANON_NOT_IDENTITY);
	/* not an object at all */
	struct json_object *arr = json_tokener_parse("[1,2]");
	assert_int_equal(mmr_event_from_fields(&ev, arr, &NORM, FALLBACK), MMR_CANON_NOT_IDENTITY);
	json_object_put(arr);
	assert_int_equal(mmr_event_from_fields(&ev, NULL, &NORM, FALLBACK), MMR_CANON_NOT_IDENTITY);
}

/* ---- user ---------------------------------------------------------------------------------- */

static void test_user_raw_only_when_different(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"alice\",\"event.tags\":[\"auth\"]}", &ev), MMR_CANON_OK);
	assert_string_equal(ev.user, "alice");
	assert_string_equal(ev.user_raw, "");

	assert_int_equal(canon("{\"user\":\"CORP\\\\Alice\",\"event.tags\":[\"auth\"]}", &ev),
			 MMR_CANON_OK);
	assert_string_equal(ev.user, "alice");
	assert_string_equal(ev.user_raw, "CORP\\Alice");

	assert_int_equal(canon("{\"user\":\"Alice@Corp.Example\",\"event.tags\":[\"auth\"]}", &ev),
			 MMR_CANON_OK);
	assert_string_equal(ev.user, "alice");
	assert_string_equal(ev.user_raw, "Alice@Corp.Example");
	assert_false(ev.user_truncated);
}

static void test_user_truncated_flag(void **state)
{
	(void)state;
	char json[512], name[301];
	mmr_event ev;
	memset(name, 'z', 300);
	name[300] = '\0';
	snprintf(json, sizeof(json), "{\"user\":\"%s\",\"event.tags\":[\"auth\"]}", name);
	assert_int_equal(canon(json, &ev), MMR_CANON_OK);
	assert_true(ev.user_truncated);
	assert_int_equal(strlen(ev.user), MMR_USER_MAX - 1);
	assert_int_equal(strlen(ev.user_raw) < MMR_USER_MAX, 1);
}

/* ---- addresses and numbers ------------------------------------------------------------- */

static void test_ips(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_start\"],"
			       "\"src_ip\":\"::ffff:198.51.100.7\",\"assigned_ip\":\"10.8.0.12\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.src_ip.family, 4);
	assert_int_equal(ev.src_ip.b[0], 198);
	assert_int_equal(ev.src_ip.b[3], 7);
	assert_int_equal(ev.assigned_ip.family, 4);
	assert_int_equal(ev.assigned_ip.b[0], 10);

	/* a garbage address is absent, not an error for the event */
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"auth\"],\"src_ip\":\"nope\"}", &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.src_ip.family, 0);
	assert_int_equal(ev.assigned_ip.family, 0);
}

static void test_numbers_and_numeric_strings(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],\"src_port\":50522,"
			       "\"bytes_in\":\"123456789012\",\"bytes_out\":42,\"duration\":\"1936\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.src_port, 50522);
	assert_int_equal(ev.bytes_in, 123456789012LL);
	assert_int_equal(ev.bytes_out, 42);
	assert_int_equal(ev.duration, 1936);

	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],\"src_port\":\"22\","
			       "\"bytes_in\":0,\"duration\":7200}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.src_port, 22);
	assert_int_equal(ev.bytes_in, 0); /* zero is a value, not "absent" */
	assert_int_equal(ev.bytes_out, -1);
	assert_int_equal(ev.duration, 7200);
}

static void test_negative_and_garbage_numbers_ignored(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],\"src_port\":-1,"
			       "\"bytes_in\":-5,\"bytes_out\":\"-7\",\"duration\":-10}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.src_port, -1);
	assert_int_equal(ev.bytes_in, -1);
	assert_int_equal(ev.bytes_out, -1);
	assert_int_equal(ev.duration, -1);

	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],\"src_port\":70000,"
			       "\"bytes_in\":\"12abc\",\"bytes_out\":\"\",\"duration\":\"soon\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.src_port, -1); /* out of port range */
	assert_int_equal(ev.bytes_in, -1);
	assert_int_equal(ev.bytes_out, -1);
	assert_int_equal(ev.duration, -1);

	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],\"src_port\":true,"
			       "\"bytes_in\":[1],\"bytes_out\":{\"n\":1},\"duration\":12.5}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.src_port, -1);
	assert_int_equal(ev.bytes_in, -1);
	assert_int_equal(ev.bytes_out, -1);
	assert_int_equal(ev.duration, -1);
}

static void test_numeric_string_overflow_ignored(void **state)
{
	(void)state;
	mmr_event ev;
	/* 2^63 and beyond do not fit: the value is garbage, not INT64_MAX */
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],"
			       "\"bytes_in\":\"99999999999999999999999\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.bytes_in, -1);
}

static void test_duration_string_forms(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],"
			       "\"duration\":\"0h:32m:16s\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.duration, 1936);
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],"
			       "\"duration\":\"1d 2h:3m:4s\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.duration, 86400 + 7200 + 180 + 4);
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"vpn_end\"],"
			       "\"duration\":\"01:02:03\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(ev.duration, 3723);
}

static void test_strings_copied_and_cut(void **state)
{
	(void)state;
	mmr_event ev;
	char json[1024], longv[300];
	memset(longv, 'q', 299);
	longv[299] = '\0';
	snprintf(json, sizeof(json),
		 "{\"user\":\"a\",\"event.tags\":[\"vpn_start\"],\"target\":\"git.corp\","
		 "\"device\":\"%s\",\"auth_method\":\"publickey\",\"mfa_factor\":\"push\","
		 "\"group\":\"Engineering\",\"session_id\":\"s-1\",\"reason\":\"Idle Timeout\"}",
		 longv);
	assert_int_equal(canon(json, &ev), MMR_CANON_OK);
	assert_string_equal(ev.target, "git.corp");
	assert_string_equal(ev.auth_method, "publickey");
	assert_string_equal(ev.mfa_factor, "push");
	assert_string_equal(ev.group, "Engineering"); /* not normalized: free text */
	assert_string_equal(ev.session_id, "s-1");
	assert_string_equal(ev.reason, "Idle Timeout");
	assert_int_equal(strlen(ev.device), MMR_FIELD_MAX - 1);
	assert_int_equal(ev.device[0], 'q');
}

/* ---- time ---------------------------------------------------------------------------------- */

static void test_event_time_from_log(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"auth\"],"
			       "\"event_time\":\"2026-11-27T12:00:00+02:00\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_true(ev.time_from_log);
	assert_int_equal(ev.time, civil_utc(2026, 11, 27, 10, 0, 0));
}

static void test_event_time_fallback(void **state)
{
	(void)state;
	mmr_event ev;
	/* absent */
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"auth\"]}", &ev), MMR_CANON_OK);
	assert_false(ev.time_from_log);
	assert_int_equal(ev.time, FALLBACK);
	/* unparsable */
	assert_int_equal(canon("{\"user\":\"a\",\"event.tags\":[\"auth\"],"
			       "\"event_time\":\"yesterday\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_false(ev.time_from_log);
	assert_int_equal(ev.time, FALLBACK);
	/* the fallback is set even when the fields are not an identity event */
	assert_int_equal(canon("{\"event.tags\":[\"auth\"]}", &ev), MMR_CANON_NOT_IDENTITY);
	assert_int_equal(ev.time, FALLBACK);
}

static void test_event_init_defaults(void **state)
{
	(void)state;
	mmr_event ev;
	memset(&ev, 0x5a, sizeof(ev));
	mmr_event_init(&ev);
	assert_int_equal(ev.action, MMR_ACTION_NONE);
	assert_int_equal(ev.outcome, MMR_OUTCOME_UNKNOWN);
	assert_int_equal(ev.src_port, -1);
	assert_int_equal(ev.bytes_in, -1);
	assert_int_equal(ev.bytes_out, -1);
	assert_int_equal(ev.duration, -1);
	assert_int_equal(ev.src_ip.family, 0);
	assert_string_equal(ev.user, "");
	assert_false(ev.time_from_log);

	/* canonicalizing a second time starts from scratch: nothing leaks from the first */
	assert_int_equal(canon("{\"user\":\"CORP\\\\x\",\"event.tags\":[\"vpn_end\",\"failure\"],"
			       "\"src_ip\":\"198.51.100.7\",\"bytes_in\":5,\"target\":\"t\","
			       "\"event_time\":\"2026-11-27T10:00:00Z\"}",
			       &ev),
			 MMR_CANON_OK);
	assert_int_equal(canon("{\"user\":\"y\",\"event.tags\":[\"auth\"]}", &ev), MMR_CANON_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_UNKNOWN);
	assert_int_equal(ev.src_ip.family, 0);
	assert_int_equal(ev.bytes_in, -1);
	assert_string_equal(ev.target, "");
	assert_string_equal(ev.user_raw, "");
	assert_false(ev.time_from_log);
}

/* ---- to JSON ------------------------------------------------------------------------------- */

static void assert_keys(struct json_object *o, const char *const *keys, size_t n)
{
	assert_int_equal(json_object_get_type(o), json_type_object);
	for (size_t i = 0; i < n; i++)
		if (!json_object_object_get_ex(o, keys[i], NULL))
			fail_msg("key \"%s\" missing in %s", keys[i], json_object_to_json_string(o));
	size_t count = (size_t)json_object_object_length(o);
	if (count != n)
		fail_msg("expected exactly %zu keys, got %zu: %s", n, count,
			 json_object_to_json_string(o));
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("key %s missing in %s", k, json_object_to_json_string(o));
	assert_int_equal(json_object_get_type(v), json_type_string);
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("key %s missing in %s", k, json_object_to_json_string(o));
	if (json_object_get_type(v) != json_type_int)
		fail_msg("key %s is not a JSON number in %s", k, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

static void test_to_json_minimal(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"alice\",\"event.tags\":[\"auth\",\"success\"]}", &ev),
			 MMR_CANON_OK);
	struct json_object *o = mmr_event_to_json(&ev);
	static const char *const keys[] = {"action", "outcome", "user"};
	assert_keys(o, keys, 3);
	assert_string_equal(jstr(o, "action"), "auth");
	assert_string_equal(jstr(o, "outcome"), "success");
	assert_string_equal(jstr(o, "user"), "alice");
	json_object_put(o);
}

static void test_to_json_full(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(
		canon("{\"user\":\"CORP\\\\Alice\",\"event.tags\":[\"vpn_end\",\"success\"],"
		      "\"src_ip\":\"[2001:DB8::7]\",\"src_port\":\"443\",\"assigned_ip\":\"10.8.0.2\","
		      "\"target\":\"t\",\"device\":\"d\",\"auth_method\":\"certificate\","
		      "\"mfa_factor\":\"totp\",\"group\":\"g\",\"session_id\":\"s\","
		      "\"reason\":\"r\",\"bytes_in\":\"10\",\"bytes_out\":20,"
		      "\"duration\":\"0h:32m:16s\",\"event_time\":\"2026-11-27T12:00:00.5+02:00\","
		      "\"helper\":\"dropped\"}",
		      &ev),
		MMR_CANON_OK);
	snprintf(ev.host, sizeof(ev.host), "asa01");
	struct json_object *o = mmr_event_to_json(&ev);
	static const char *const keys[] = {
		"action", "outcome", "user", "user_raw", "src_ip", "src_port", "assigned_ip",
		"target", "device", "auth_method", "mfa_factor", "group", "session_id", "reason",
		"host", "bytes_in", "bytes_out", "duration", "event_time",
	};
	assert_keys(o, keys, sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(jstr(o, "user"), "alice");
	assert_string_equal(jstr(o, "user_raw"), "CORP\\Alice");
	assert_string_equal(jstr(o, "src_ip"), "2001:db8::7");
	assert_int_equal(jint(o, "src_port"), 443);
	assert_string_equal(jstr(o, "assigned_ip"), "10.8.0.2");
	assert_int_equal(jint(o, "bytes_in"), 10);
	assert_int_equal(jint(o, "bytes_out"), 20);
	assert_int_equal(jint(o, "duration"), 1936);
	assert_string_equal(jstr(o, "event_time"), "2026-11-27T10:00:00Z"); /* UTC */
	assert_string_equal(jstr(o, "host"), "asa01");
	json_object_put(o);
}

static void test_to_json_no_event_time_without_log_time(void **state)
{
	(void)state;
	mmr_event ev;
	assert_int_equal(canon("{\"user\":\"bob\",\"event.tags\":[\"logout\"],\"bytes_out\":0}", &ev),
			 MMR_CANON_OK);
	struct json_object *o = mmr_event_to_json(&ev);
	static const char *const keys[] = {"action", "outcome", "user", "bytes_out"};
	assert_keys(o, keys, 4);
	assert_string_equal(jstr(o, "outcome"), "unknown");
	assert_int_equal(jint(o, "bytes_out"), 0);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_give_action_and_outcome),
		cmocka_unit_test(test_every_action_tag),
		cmocka_unit_test(test_explicit_action_outcome_override_tags),
		cmocka_unit_test(test_not_identity),
		cmocka_unit_test(test_user_raw_only_when_different),
		cmocka_unit_test(test_user_truncated_flag),
		cmocka_unit_test(test_ips),
		cmocka_unit_test(test_numbers_and_numeric_strings),
		cmocka_unit_test(test_negative_and_garbage_numbers_ignored),
		cmocka_unit_test(test_numeric_string_overflow_ignored),
		cmocka_unit_test(test_duration_string_forms),
		cmocka_unit_test(test_strings_copied_and_cut),
		cmocka_unit_test(test_event_time_from_log),
		cmocka_unit_test(test_event_time_fallback),
		cmocka_unit_test(test_event_init_defaults),
		cmocka_unit_test(test_to_json_minimal),
		cmocka_unit_test(test_to_json_full),
		cmocka_unit_test(test_to_json_no_event_time_without_log_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
