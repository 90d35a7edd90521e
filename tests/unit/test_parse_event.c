/* Unit tests of engine/parse/parse_event.c: one message -> one canonical event (parse.h,
 * notes/issue3-contract.md): JSON messages go to the mappings, text to the rulebase; rules
 * with action tags make the event, fields of rules without them go to the mappings.
 *
 * A tiny liblognorm v2 rulebase and one mapping file are written to a private temporary
 * directory (mkdtemp) at run time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json.h>

#include "unit_support.h"

#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"
#include "mmriskscore/parse.h"
#include "mmriskscore/rulebase.h"

/* line 1: version, line 2: the sshd rule (tagged), line 3: key=value (no action tag) */
static const char RULEBASE[] =
	"version=2\n"
	"rule=auth,success:sshd[%-:number%]: Accepted %auth_method:word% for %user:word% from "
	"%src_ip:ipv4% port %src_port:number% ssh2\n"
	"rule=kv:%.:name-value-list%\n";

/* JSON records of "idp" and key=value records of type=vpn */
static const char MAPPING_IDP[] =
	"{\"name\": \"idp\",\n"
	" \"match\": [{\"path\": \"eventType\", \"exists\": true}],\n"
	" \"fields\": {\"user\": \"actor.id\", \"src_ip\": \"client.ip\", \"event_time\": \"published\"},\n"
	" \"action\": {\"from\": \"eventType\", \"values\": {\"user.session.start\": \"auth\","
	"   \"user.session.end\": \"logout\"}},\n"
	" \"outcome\": {\"from\": \"result\", \"values\": {\"SUCCESS\": \"success\"}}}\n";
static const char MAPPING_KV[] =
	"{\"name\": \"kv-vpn\",\n"
	" \"match\": [{\"path\": \"type\", \"equals\": \"vpn\"}],\n"
	" \"fields\": {\"user\": \"usr\", \"src_ip\": \"remip\", \"event_time\": \"eventtime\"},\n"
	" \"action\": {\"from\": \"act\", \"values\": {\"tunnel-up\": \"vpn_start\"}}}\n";
/* would claim every sshd line if it were consulted: it must not be, the rule has tags */
static const char MAPPING_GREEDY[] =
	"{\"name\": \"zz-greedy\",\n"
	" \"match\": [{\"path\": \"user\", \"exists\": true}],\n"
	" \"fields\": {\"user\": {\"const\": \"greedy\"}},\n"
	" \"action\": {\"from\": {\"const\": \"x\"}, \"values\": {\"x\": \"privilege\"}}}\n";

static char tmpdir[64], rb_path[128], map_dir[128];
static mmr_rulebase *rb, *rb_explain;
static mmr_mappings *maps;

static const mmr_user_norm STRIP = {.strip_domain = true};
#define FALLBACK ((int64_t)1700000000)


static int group_setup(void **state)
{
	(void)state;
	char err[512] = "", p[192];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mmr_test_parse_XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(rb_path, sizeof(rb_path), "%s/tiny.rulebase", tmpdir);
	write_to(rb_path, RULEBASE);
	snprintf(map_dir, sizeof(map_dir), "%s/mappings", tmpdir);
	if (mkdir(map_dir, 0700) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/idp.json", map_dir);
	write_to(p, MAPPING_IDP);
	snprintf(p, sizeof(p), "%s/kv.json", map_dir);
	write_to(p, MAPPING_KV);
	snprintf(p, sizeof(p), "%s/zz-greedy.json", map_dir);
	write_to(p, MAPPING_GREEDY);
	if ((rb = mmr_rulebase_load(rb_path, err, sizeof(err))) == NULL ||
	    (rb_explain = mmr_rulebase_load_flags(rb_path, MMR_RB_EXPLAIN, err, sizeof(err))) == NULL ||
	    (maps = mmr_mappings_load(map_dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	return mmr_mappings_count(maps) == 3 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char p[192];
	mmr_rulebase_free(rb);
	mmr_rulebase_free(rb_explain);
	mmr_mappings_free(maps);
	static const char *const files[] = {"idp.json", "kv.json", "zz-greedy.json"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", map_dir, files[i]);
		unlink(p);
	}
	rmdir(map_dir);
	unlink(rb_path);
	rmdir(tmpdir);
	return 0;
}

static const char SSHD[] = "sshd[4242]: Accepted publickey for Alice from 192.0.2.10 port 50022 ssh2";
static const char KV_VPN[] = "type=vpn usr=Bob remip=198.51.100.4 act=tunnel-up";
static const char JSON_IDP[] = "{\"eventType\": \"user.session.start\", \"result\": \"SUCCESS\","
			       " \"actor\": {\"id\": \"Carol@corp.example\"},"
			       " \"client\": {\"ip\": \"203.0.113.5\"}}";

/* text and msg may differ: rsyslog hands the module the tag + msg as text and msg alone */
static mmr_parse_status parse(mmr_rulebase *r, const mmr_mappings *m, const char *text,
			      const char *msg, mmr_event *ev, mmr_parse_trace *tr)
{
	mmr_parse_input in = {
		.text = text,
		.text_len = text ? strlen(text) : 0,
		.msg = msg,
		.msg_len = msg ? strlen(msg) : 0,
		.fallback_time = FALLBACK,
	};
	return mmr_parse_event(r, m, &in, &STRIP, ev, tr);
}

static void assert_ip(const mmr_ip *ip, const char *expected)
{
	char buf[64];
	assert_int_equal(mmr_ip_format(ip, buf, sizeof(buf)), 0);
	assert_string_equal(buf, expected);
}

/* ---- JSON messages ----------------------------------------------------------------------- */

static void assert_idp_event(const mmr_event *ev, const mmr_parse_trace *tr)
{
	assert_int_equal(ev->action, MMR_ACTION_AUTH);
	assert_int_equal(ev->outcome, MMR_OUTCOME_SUCCESS);
	assert_string_equal(ev->user, "carol");
	assert_ip(&ev->src_ip, "203.0.113.5");
	assert_int_equal(tr->json, 1);
	assert_non_null(tr->mapping);
	assert_string_equal(tr->mapping, "idp");
	assert_string_equal(tr->rule, "");
}

static void test_json_message(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	char msg[512];
	/* as is, after blanks, with the @cee: cookie (with and without blank after it) */
	static const char *const prefixes[] = {"", "  ", " \t ", "@cee:", "@cee: ", " @cee:  "};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		snprintf(msg, sizeof(msg), "%s%s", prefixes[i], JSON_IDP);
		memset(&tr, 0x55, sizeof(tr));
		mmr_parse_status st = parse(rb, maps, msg, msg, &ev, &tr);
		if (st != MMR_PARSE_OK)
			fail_msg("JSON message with prefix \"%s\": status %d", prefixes[i], st);
		assert_idp_event(&ev, &tr);
	}
}

static void test_json_message_without_rulebase(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	assert_int_equal(parse(NULL, maps, "app: ignored", JSON_IDP, &ev, &tr), MMR_PARSE_OK);
	assert_idp_event(&ev, &tr);
}

/* The fast JSON path reads RFC 8259 only (rulebase/SCHEMA.md §8); what libfastjson's tokener
 * also accepts (and these messages were mapped by, before the scanner) is still mapped, through
 * libfastjson's tree; JSON whitespace around the object is fine. */
static void test_json_must_be_rfc8259(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	char msg[600];
	static const char *const suffixes[] = {"\r\n", " \t", "\n\n"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(msg, sizeof(msg), "%s%s", JSON_IDP, suffixes[i]);
		assert_int_equal(parse(NULL, maps, NULL, msg, &ev, &tr), MMR_PARSE_OK);
		assert_idp_event(&ev, &tr);
	}
	static const char *const lenient[] = {
		"{\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"dan\"}} trailing",
		"{\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"dan\"}}{\"a\": 1}",
		"{/* c */ \"eventType\": \"user.session.start\", \"actor\": {\"id\": \"dan\"}}",
		"{\"eventType\": 'user.session.start', \"actor\": {\"id\": \"dan\"}}",
		"{\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"d\tan\"}}",
		"{\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"dan\"},}",
	};
	for (size_t i = 0; i < sizeof(lenient) / sizeof(lenient[0]); i++) {
		memset(&tr, 0x55, sizeof(tr));
		mmr_parse_status st = parse(NULL, maps, NULL, lenient[i], &ev, &tr);
		if (st != MMR_PARSE_OK || tr.json != 1 || strncmp(ev.user, "d", 1) != 0)
			fail_msg("status %d, json %d, user '%s' for %s", (int)st, tr.json, ev.user,
				 lenient[i]);
	}
}

static void test_json_no_mapping_is_unparsed(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	/* a JSON object no mapping claims is unparsed, even when the text would match a rule */
	assert_int_equal(parse(rb, maps, SSHD, "{\"foo\": \"bar\"}", &ev, &tr),
			 MMR_PARSE_UNPARSED);
	assert_int_equal(tr.json, 1);
	assert_null(tr.mapping);
	assert_int_equal(ev.action, MMR_ACTION_NONE);
	/* a mapping claims it but the action is unknown: not an identity event */
	assert_int_equal(parse(rb, maps, SSHD, "{\"eventType\": \"user.mfa.factor.reset\","
					       " \"actor\": {\"id\": \"x\"}}", &ev, &tr),
			 MMR_PARSE_NOT_IDENTITY);
	assert_int_equal(tr.json, 1);
	assert_string_equal(tr.mapping, "idp");
}

static void test_not_json_object_goes_to_rulebase(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	static const char *const not_objects[] = {
		"{\"eventType\": \"user.session.start\", ",  /* cut off */
		"{not json at all",
		"[{\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"x\"}}]", /* array */
		"x {\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"x\"}}",
		"@cee [1]",
		"",
	};
	for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++) {
		mmr_parse_status st = parse(rb, maps, SSHD, not_objects[i], &ev, &tr);
		if (st != MMR_PARSE_OK || tr.json != 0)
			fail_msg("msg \"%s\": status %d json %d, expected the rulebase's event",
				 not_objects[i], st, tr.json);
		assert_string_equal(ev.user, "alice");
		assert_null(tr.mapping);
	}
	/* and without a rulebase such a message is simply unparsed */
	assert_int_equal(parse(NULL, maps, SSHD, "[1, 2]", &ev, &tr), MMR_PARSE_UNPARSED);
	assert_int_equal(tr.json, 0);
}

static void test_json_ignored_without_mappings(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	/* maps NULL: msg is not even tried as JSON; the rulebase parses text */
	assert_int_equal(parse(rb, NULL, SSHD, JSON_IDP, &ev, &tr), MMR_PARSE_OK);
	assert_int_equal(tr.json, 0);
	assert_string_equal(ev.user, "alice");
	assert_int_equal(parse(rb, NULL, JSON_IDP, JSON_IDP, &ev, &tr), MMR_PARSE_UNPARSED);
	assert_int_equal(tr.json, 0);
	/* nothing at all */
	assert_int_equal(parse(NULL, NULL, SSHD, JSON_IDP, &ev, &tr), MMR_PARSE_UNPARSED);
	assert_int_equal(parse(NULL, NULL, NULL, NULL, &ev, NULL), MMR_PARSE_UNPARSED);
	assert_int_equal(parse(rb, maps, NULL, NULL, &ev, &tr), MMR_PARSE_UNPARSED);
}

/* ---- text lines --------------------------------------------------------------------------- */

static void test_tagged_rule_makes_the_event(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	/* maps given, and zz-greedy would claim the fields: the rule's tags decide alone */
	assert_int_equal(parse(rb, maps, SSHD, SSHD + 11, &ev, &tr), MMR_PARSE_OK);
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);
	assert_string_equal(ev.user, "alice");
	assert_string_equal(ev.auth_method, "publickey");
	assert_ip(&ev.src_ip, "192.0.2.10");
	assert_int_equal(ev.src_port, 50022);
	assert_null(tr.mapping);
	assert_int_equal(tr.json, 0);
	assert_string_equal(tr.rule, ""); /* only with MMR_RB_EXPLAIN */
	/* the same without mappings, and with a NULL trace */
	assert_int_equal(parse(rb, NULL, SSHD, SSHD + 11, &ev, NULL), MMR_PARSE_OK);
	assert_string_equal(ev.user, "alice");
}

static void test_untagged_rule_goes_to_mappings(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	assert_int_equal(parse(rb, maps, KV_VPN, KV_VPN, &ev, &tr), MMR_PARSE_OK);
	assert_int_equal(ev.action, MMR_ACTION_VPN_START);
	assert_string_equal(ev.user, "bob");
	assert_ip(&ev.src_ip, "198.51.100.4");
	assert_non_null(tr.mapping);
	assert_string_equal(tr.mapping, "kv-vpn");
	assert_int_equal(tr.json, 0);
	/* the mapping matches, the action is unknown */
	assert_int_equal(parse(rb, maps, "type=vpn usr=bob act=tunnel-stats",
			       "type=vpn usr=bob act=tunnel-stats", &ev, &tr),
			 MMR_PARSE_NOT_IDENTITY);
	assert_string_equal(tr.mapping, "kv-vpn");
	/* no mapping matches: understood (a rule matched), not an identity event */
	assert_int_equal(parse(rb, maps, "type=traffic srcip=10.0.0.1 dstport=443",
			       "type=traffic srcip=10.0.0.1 dstport=443", &ev, &tr),
			 MMR_PARSE_NOT_IDENTITY);
	assert_null(tr.mapping);
	assert_int_equal(ev.action, MMR_ACTION_NONE);
	/* without mappings the same record is not an identity event either */
	assert_int_equal(parse(rb, NULL, KV_VPN, KV_VPN, &ev, &tr), MMR_PARSE_NOT_IDENTITY);
	assert_null(tr.mapping);
}

static void test_no_rule_matches(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	static const char *const lines[] = {
		"sshd[1]: Failed password for bob from 192.0.2.1 port 22 ssh2",
		"kernel: something happened",
		/* (not "": liblognorm's name-value-list matches an empty list) */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		mmr_parse_status st = parse(rb, maps, lines[i], lines[i], &ev, &tr);
		if (st != MMR_PARSE_UNPARSED)
			fail_msg("\"%s\": status %d, expected unparsed", lines[i], st);
		assert_null(tr.mapping);
		assert_string_equal(tr.rule, "");
		assert_int_equal(ev.action, MMR_ACTION_NONE);
		assert_int_equal(ev.time, FALLBACK);
	}
}

/* ---- time --------------------------------------------------------------------------------- */

static void test_fallback_time_and_event_time(void **state)
{
	(void)state;
	mmr_event ev;
	const int64_t t = civil_utc(2026, 11, 27, 10, 0, 5);
	char msg[512], line[256];

	/* no event_time: the fallback, not marked as from the log */
	assert_int_equal(parse(rb, maps, SSHD, SSHD, &ev, NULL), MMR_PARSE_OK);
	assert_int_equal(ev.time, FALLBACK);
	assert_false(ev.time_from_log);
	assert_int_equal(parse(rb, maps, JSON_IDP, JSON_IDP, &ev, NULL), MMR_PARSE_OK);
	assert_int_equal(ev.time, FALLBACK);
	assert_false(ev.time_from_log);
	assert_int_equal(parse(rb, maps, KV_VPN, KV_VPN, &ev, NULL), MMR_PARSE_OK);
	assert_int_equal(ev.time, FALLBACK);
	assert_false(ev.time_from_log);

	/* event_time overrides: JSON through a mapping, key=value through a mapping */
	snprintf(msg, sizeof(msg), "{\"eventType\": \"user.session.end\", \"actor\": {\"id\": \"d\"},"
				   " \"published\": \"2026-11-27T11:00:05+01:00\"}");
	assert_int_equal(parse(rb, maps, msg, msg, &ev, NULL), MMR_PARSE_OK);
	assert_int_equal(ev.action, MMR_ACTION_LOGOUT);
	assert_int_equal(ev.time, t);
	assert_true(ev.time_from_log);
	snprintf(line, sizeof(line), "%s eventtime=%lld123456789", KV_VPN, (long long)t);
	assert_int_equal(parse(rb, maps, line, line, &ev, NULL), MMR_PARSE_OK);
	assert_int_equal(ev.time, t);
	assert_true(ev.time_from_log);
}

/* ---- trace -------------------------------------------------------------------------------- */

static void assert_rule_at(const char *rule, int line)
{
	char expected[256];
	snprintf(expected, sizeof(expected), "%s:%d", rb_path, line);
	if (strstr(rule, expected) == NULL)
		fail_msg("trace rule \"%s\" does not name %s", rule, expected);
}

static void test_trace_rule_location_with_explain(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	assert_int_equal(parse(rb_explain, maps, SSHD, SSHD, &ev, &tr), MMR_PARSE_OK);
	assert_rule_at(tr.rule, 2);
	assert_null(tr.mapping);
	assert_int_equal(tr.json, 0);
	assert_string_equal(ev.user, "alice");
	/* an untagged rule: its location and the mapping that decided */
	assert_int_equal(parse(rb_explain, maps, KV_VPN, KV_VPN, &ev, &tr), MMR_PARSE_OK);
	assert_rule_at(tr.rule, 3);
	assert_string_equal(tr.mapping, "kv-vpn");
	assert_string_equal(ev.user, "bob");
	/* JSON never touches the rulebase */
	assert_int_equal(parse(rb_explain, maps, JSON_IDP, JSON_IDP, &ev, &tr), MMR_PARSE_OK);
	assert_string_equal(tr.rule, "");
	assert_int_equal(tr.json, 1);
	/* trace is reset on every call */
	assert_int_equal(parse(rb_explain, maps, "kernel: x", "kernel: x", &ev, &tr),
			 MMR_PARSE_UNPARSED);
	assert_string_equal(tr.rule, "");
	assert_null(tr.mapping);
	assert_int_equal(tr.json, 0);
}

/* ---- mmr_parse_fields --------------------------------------------------------------------- */

static mmr_parse_status fields(const char *json, const mmr_mappings *m, mmr_event *ev,
			       mmr_parse_trace *tr)
{
	struct json_object *f = json_tokener_parse(json);
	if (f == NULL)
		fail_msg("test bug: invalid JSON %s", json);
	if (tr != NULL)
		memset(tr, 0, sizeof(*tr));
	mmr_parse_status st = mmr_parse_fields(f, m, &STRIP, FALLBACK, ev, tr);
	json_object_put(f);
	return st;
}

static void test_parse_fields(void **state)
{
	(void)state;
	mmr_event ev;
	mmr_parse_trace tr;
	/* tags (as liblognorm and mmnormalize give them) */
	assert_int_equal(fields("{\"event.tags\": [\"auth\", \"failure\"], \"user\": \"Eve\"}", maps,
				&ev, &tr), MMR_PARSE_OK);
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);
	assert_string_equal(ev.user, "eve");
	assert_null(tr.mapping);
	/* explicit action/outcome fields */
	assert_int_equal(fields("{\"action\": \"mfa\", \"outcome\": \"success\", \"user\": \"eve\"}",
				maps, &ev, &tr), MMR_PARSE_OK);
	assert_int_equal(ev.action, MMR_ACTION_MFA);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);
	assert_null(tr.mapping);
	/* an action but no user: not identity, and the mappings are not asked (idp would have
	 * made an event of it) */
	assert_int_equal(fields("{\"event.tags\": [\"auth\"], \"eventType\": \"user.session.start\","
				" \"actor\": {\"id\": \"x\"}}", maps, &ev, &tr),
			 MMR_PARSE_NOT_IDENTITY);
	assert_null(tr.mapping);
	/* no action: the mappings decide */
	assert_int_equal(fields("{\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"Fay\"}}",
				maps, &ev, &tr), MMR_PARSE_OK);
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	assert_string_equal(ev.user, "fay");
	assert_string_equal(tr.mapping, "idp");
	/* no action, a mapping matches, no user: not identity */
	assert_int_equal(fields("{\"type\": \"vpn\", \"act\": \"tunnel-up\"}", maps, &ev, &tr),
			 MMR_PARSE_NOT_IDENTITY);
	assert_string_equal(tr.mapping, "kv-vpn");
	/* no action, no mapping matches: not identity (a rule did understand the record) */
	assert_int_equal(fields("{\"type\": \"traffic\"}", maps, &ev, &tr), MMR_PARSE_NOT_IDENTITY);
	assert_null(tr.mapping);
	/* no action, no mappings */
	assert_int_equal(fields("{\"eventType\": \"user.session.start\", \"actor\": {\"id\": \"x\"}}",
				NULL, &ev, &tr), MMR_PARSE_NOT_IDENTITY);
	/* NULL trace is fine on the mapping path */
	assert_int_equal(fields("{\"type\": \"vpn\", \"usr\": \"g\", \"act\": \"tunnel-up\"}", maps,
				&ev, NULL), MMR_PARSE_OK);
	assert_string_equal(ev.user, "g");
	assert_int_equal(ev.time, FALLBACK);
}

/* fuzz/regressions/fuzz_parse/liblognorm-string-backslash-nul: liblognorm 2.0.6's string
 * parser read past the end of the input after a backslash followed by NUL (found by
 * fuzz_parse). The engine masks NUL bytes before liblognorm sees them; under ASan this test
 * fails if it does not. Uses the shipped FortiGate rulebase (key=value through "string"). */
static void test_nul_after_backslash_in_string_parser(void **state)
{
	(void)state;
	const char *b = getenv("MMRISK_BUILDDIR");
	char path[512], err[512];
	snprintf(path, sizeof(path), "%s/rulebase/compiled/fortinet-fortigate.rulebase", b ? b : ".");
	mmr_rulebase *fg = mmr_rulebase_load(path, err, sizeof(err));
	if (fg == NULL)
		fail_msg("%s: %s", path, err);
	static const char in[] = "date=6 t=\\";  /* + the NUL the array ends with */
	struct json_object *f = mmr_rulebase_parse(fg, in, sizeof(in)); /* length includes NUL */
	json_object_put(f);
	static const char mid[] = "date=2026-11-20 time=10:00:00 user=\"a\0b\" x=\\\0";
	f = mmr_rulebase_parse(fg, mid, sizeof(mid) - 1);
	json_object_put(f);
	mmr_rulebase_free(fg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_message),
		cmocka_unit_test(test_json_message_without_rulebase),
		cmocka_unit_test(test_json_must_be_rfc8259),
		cmocka_unit_test(test_json_no_mapping_is_unparsed),
		cmocka_unit_test(test_not_json_object_goes_to_rulebase),
		cmocka_unit_test(test_json_ignored_without_mappings),
		cmocka_unit_test(test_tagged_rule_makes_the_event),
		cmocka_unit_test(test_untagged_rule_goes_to_mappings),
		cmocka_unit_test(test_no_rule_matches),
		cmocka_unit_test(test_fallback_time_and_event_time),
		cmocka_unit_test(test_trace_rule_location_with_explain),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_nul_after_backslash_in_string_parser),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
