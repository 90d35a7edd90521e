/* Unit tests of engine/map/mapping.c: mapping files (JSON/key=value sources -> canonical
 * events), as specified in notes/issue3-contract.md, rulebase/SCHEMA.md §8 and mapping.h.
 *
 * Every mapping file is written at run time into a private temporary directory (mkdtemp) and
 * loaded with mmr_mappings_load; the documents they are applied to are built with
 * json_tokener_parse. Expectations come from the contract, not from the code under test.
 */
#include <dirent.h>
#include <pthread.h>
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

/* ---- temporary files ----------------------------------------------------------------------- */

static char tmpdir[64];
static unsigned file_seq;

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d != NULL) {
			for (struct dirent *de; (de = readdir(d)) != NULL;) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				char sub[512];
				snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
				rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mmr_test_mapping_XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	return 0;
}


/* A fresh directory under tmpdir; its path goes to buf. */
static void new_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/d%u", tmpdir, ++file_seq);
	if (mkdir(buf, 0700) != 0)
		fail_msg("cannot create %s", buf);
}

/* Writes text to a fresh file under tmpdir; its path goes to buf. */
static void new_file(const char *text, char *buf, size_t len)
{
	snprintf(buf, len, "%s/m%u.json", tmpdir, ++file_seq);
	write_to(buf, text);
}

static mmr_mappings *load_text(const char *text)
{
	char path[256], err[512] = "";
	new_file(text, path, sizeof(path));
	mmr_mappings *m = mmr_mappings_load(path, err, sizeof(err));
	if (m == NULL)
		fail_msg("mmr_mappings_load rejected a valid mapping: %s\n%s", err, text);
	assert_int_equal(mmr_mappings_count(m), 1);
	return m;
}

/* The load must fail, and the message must name the file and contain each needle. */
static void expect_error_at(const char *path, const char *const *needles)
{
	char err[512] = "";
	mmr_mappings *m = mmr_mappings_load(path, err, sizeof(err));
	if (m != NULL) {
		mmr_mappings_free(m);
		FILE *f = fopen(path, "r");
		char text[1024] = "";
		if (f != NULL) {
			text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
			fclose(f);
		}
		fail_msg("mmr_mappings_load accepted %s:\n%s", path, text);
	}
	if (strstr(err, path) == NULL)
		fail_msg("error does not name the file %s: \"%s\"", path, err);
	for (; *needles; needles++)
		if (strstr(err, *needles) == NULL)
			fail_msg("error for %s does not mention '%s': \"%s\"", path, *needles, err);
}

#define EXPECT_ERROR(text, ...)                                                                \
	do {                                                                                   \
		char p_[256];                                                                  \
		const char *const n_[] = {__VA_ARGS__, NULL};                                   \
		new_file(text, p_, sizeof(p_));                                                 \
		expect_error_at(p_, n_);                                                        \
	} while (0)

static struct json_object *doc(const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	if (j == NULL)
		fail_msg("test bug: invalid JSON document %s", text);
	return j;
}

static const mmr_user_norm STRIP = {.strip_domain = true};
static const mmr_user_norm KEEP_CORP = {.strip_domain = false, .default_domain = "corp.example"};

#define FALLBACK ((int64_t)1000000000) /* 2001-09-09T01:46:40Z */

static mmr_map_status apply(const mmr_mappings *m, const char *text, mmr_event *ev,
			    const char **name)
{
	struct json_object *d = doc(text);
	mmr_map_status st = mmr_mappings_apply(m, d, ev, &STRIP, FALLBACK, name);
	json_object_put(d);
	return st;
}

/* ---- paths ------------------------------------------------------------------------------- */

/* A mapping taking user from path (a JSON string: "\"a.b\"" or a list), action auth always. */
static mmr_mappings *user_from(const char *path_json)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\"name\": \"p\", \"match\": [{\"path\": \"ev\", \"exists\": true}],\n"
		 " \"fields\": {\"user\": %s},\n"
		 " \"action\": {\"from\": \"ev\", \"values\": {\"login\": \"auth\"}}}\n",
		 path_json);
	return load_text(text);
}

/* The user the mapping with user = path_json takes from document text ("" when absent). */
static void assert_user_via(const char *path_json, const char *text, const char *expected)
{
	mmr_mappings *m = user_from(path_json);
	mmr_event ev;
	mmr_map_status st = apply(m, text, &ev, NULL);
	if (strcmp(ev.user, expected) != 0)
		fail_msg("path %s on %s gave user \"%s\", expected \"%s\"", path_json, text, ev.user,
			 expected);
	assert_int_equal(st, expected[0] ? MMR_MAP_OK : MMR_MAP_NOT_IDENTITY);
	mmr_mappings_free(m);
}

/* {"path": P, "find": "ip"}: the first address inside a value's text, as a fallback. */
static void test_find_ip(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(
		"{\"name\": \"f\", \"match\": [{\"path\": \"ev\", \"exists\": true}],\n"
		" \"fields\": {\"user\": \"who\", \"src_ip\": [\"srcip\", {\"path\": \"ui\", \"find\": \"ip\"}]},\n"
		" \"action\": {\"from\": \"ev\", \"values\": {\"login\": \"auth\"}}}\n");
	struct {
		const char *doc, *ip;
	} cases[] = {
		{"{\"ev\":\"login\",\"who\":\"a\",\"ui\":\"ssh(203.0.113.5)\"}", "203.0.113.5"},
		{"{\"ev\":\"login\",\"who\":\"a\",\"ui\":\"https(2001:db8::7)\"}", "2001:db8::7"},
		{"{\"ev\":\"login\",\"who\":\"a\",\"ui\":\"GUI(198.51.100.4:443)\"}", "198.51.100.4"},
		{"{\"ev\":\"login\",\"who\":\"a\",\"srcip\":\"192.0.2.1\",\"ui\":\"ssh(203.0.113.5)\"}",
		 "192.0.2.1"},
		{"{\"ev\":\"login\",\"who\":\"a\",\"ui\":\"console\"}", ""},
		{"{\"ev\":\"login\",\"who\":\"a\",\"ui\":\"deadbeef cafe\"}", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mmr_event ev;
		char got[64] = "";
		assert_int_equal(apply(m, cases[i].doc, &ev, NULL), MMR_MAP_OK);
		if (ev.src_ip.family)
			mmr_ip_format(&ev.src_ip, got, sizeof(got));
		if (strcmp(got, cases[i].ip) != 0)
			fail_msg("%s: src_ip \"%s\", expected \"%s\"", cases[i].doc, got, cases[i].ip);
	}
	mmr_mappings_free(m);
	/* a bad find kind is a load error naming the field */
	EXPECT_ERROR("{\"name\": \"f\", \"match\": [{\"path\": \"ev\", \"exists\": true}],\n"
		     " \"fields\": {\"user\": \"who\", \"src_ip\": [{\"path\": \"ui\", \"find\": \"mac\"}]},\n"
		     " \"action\": {\"from\": \"ev\", \"values\": {\"login\": \"auth\"}}}\n",
		     "src_ip");
}

static void test_path_keys(void **state)
{
	(void)state;
	assert_user_via("\"who\"", "{\"ev\": \"login\", \"who\": \"alice\"}", "alice");
	assert_user_via("\"actor.id\"", "{\"ev\": \"login\", \"actor\": {\"id\": \"bob\"}}", "bob");
	assert_user_via("\"a.b.c.d\"",
			"{\"ev\": \"login\", \"a\": {\"b\": {\"c\": {\"d\": \"deep\"}}}}", "deep");
}

static void test_path_escaped_dot(void **state)
{
	(void)state;
	/* "id\\.time" in the file = one key "id.time"; without the escape two keys */
	const char *d = "{\"ev\": \"login\", \"id.time\": \"dotted\", \"id\": {\"time\": \"nested\"}}";
	assert_user_via("\"id\\\\.time\"", d, "dotted");
	assert_user_via("\"id.time\"", d, "nested");
	assert_user_via("\"x.id\\\\.time\"",
			"{\"ev\": \"login\", \"x\": {\"id.time\": \"inner\"}}", "inner");
}

static void test_path_index(void **state)
{
	(void)state;
	const char *d = "{\"ev\": \"login\", \"a\": [\"zero\", {\"u\": \"one\"}, [\"x\", \"two\"]]}";
	assert_user_via("\"a[0]\"", d, "zero");
	assert_user_via("\"a[1].u\"", d, "one");
	assert_user_via("\"a[2][1]\"", d, "two");
	assert_user_via("\"a[3]\"", d, "");   /* out of range */
	assert_user_via("\"a[0].u\"", d, ""); /* a string has no keys */
}

static void test_path_select(void **state)
{
	(void)state;
	const char *d = "{\"ev\": \"login\", \"target\": ["
			"  \"not an object\","
			"  {\"type\": \"User\", \"name\": \"u1\"},"
			"  {\"type\": \"AppInstance\", \"name\": \"app1\"},"
			"  {\"type\": \"AppInstance\", \"name\": \"app2\"},"
			"  {\"id\": 7, \"name\": \"seven\"},"
			"  {\"id\": \"8\", \"name\": \"eight\"},"
			"  {\"ok\": true, \"name\": \"yes\"},"
			"  {\"ok\": null, \"name\": \"null\"}]}";
	assert_user_via("\"target[type=AppInstance].name\"", d, "app1"); /* the first */
	assert_user_via("\"target[type=User].name\"", d, "u1");
	assert_user_via("\"target[type=Group].name\"", d, "");
	/* numbers and booleans compare by their JSON text */
	assert_user_via("\"target[id=7].name\"", d, "seven");
	assert_user_via("\"target[id=8].name\"", d, "eight");
	assert_user_via("\"target[ok=true].name\"", d, "yes");
	assert_user_via("\"target[ok=false].name\"", d, "");
	assert_user_via("\"target[ok=null].name\"", d, ""); /* null is not the text "null" */
	assert_user_via("\"target[type=AppInstance]\"", d, ""); /* an object is no user */
}

static void test_path_missing_or_wrong_type(void **state)
{
	(void)state;
	const char *d = "{\"ev\": \"login\", \"s\": \"str\", \"n\": 5, \"arr\": [1],"
			" \"obj\": {\"k\": \"v\"}, \"nul\": null}";
	assert_user_via("\"missing\"", d, "");
	assert_user_via("\"missing.k\"", d, "");
	assert_user_via("\"s.k\"", d, "");      /* key into a string */
	assert_user_via("\"n.k\"", d, "");      /* key into a number */
	assert_user_via("\"arr.k\"", d, "");    /* key into an array */
	assert_user_via("\"obj[0]\"", d, "");   /* index into an object */
	assert_user_via("\"obj[k=v]\"", d, ""); /* select in an object */
	assert_user_via("\"s[0]\"", d, "");     /* index into a string */
	assert_user_via("\"nul.k\"", d, "");
	assert_user_via("\"nul\"", d, "");
	assert_user_via("\"obj.k\"", d, "v");   /* and the control */
}

static void test_path_list_first_present_wins(void **state)
{
	(void)state;
	const char *paths = "[\"a\", \"b.c\", \"d\"]";
	assert_user_via(paths, "{\"ev\": \"login\", \"a\": \"first\", \"b\": {\"c\": \"second\"}}",
			"first");
	assert_user_via(paths, "{\"ev\": \"login\", \"b\": {\"c\": \"second\"}, \"d\": \"third\"}",
			"second");
	assert_user_via(paths, "{\"ev\": \"login\", \"a\": null, \"b\": {\"c\": null},"
			       " \"d\": \"third\"}", "third"); /* null is skipped */
	assert_user_via(paths, "{\"ev\": \"login\", \"b\": 1}", "");
}

static void test_path_list_skips_empty_and_absent_values(void **state)
{
	(void)state;
	/* "" and the mapping's absent_values count as no value: the next path is tried */
	mmr_mappings *m = load_text(
		"{\"name\": \"abs\", \"absent_values\": [\"N/A\", \"unknown\"],"
		" \"match\": [{\"path\": \"ev\", \"exists\": true}],"
		" \"fields\": {\"user\": [\"a\", \"b\", \"c\"], \"device\": [\"d1\", \"d2\"]},"
		" \"action\": {\"from\": \"ev\", \"values\": {\"login\": \"auth\"}}}");
	mmr_event ev;
	assert_int_equal(apply(m, "{\"ev\": \"login\", \"a\": \"\", \"b\": \"N/A\", \"c\": \"zoe\","
				  " \"d1\": \"unknown\", \"d2\": \"pc-9\"}", &ev, NULL), MMR_MAP_OK);
	assert_string_equal(ev.user, "zoe");
	assert_string_equal(ev.device, "pc-9");
	/* only whole values: "N/A2" is a value; comparison is case-sensitive */
	assert_int_equal(apply(m, "{\"ev\": \"login\", \"a\": \"n/a\", \"d1\": \"N/A2\"}", &ev, NULL),
			 MMR_MAP_OK);
	assert_string_equal(ev.user, "n/a");
	assert_string_equal(ev.device, "N/A2");
	/* all absent: no user, no event */
	assert_int_equal(apply(m, "{\"ev\": \"login\", \"a\": \"unknown\", \"b\": \"\"}", &ev, NULL),
			 MMR_MAP_NOT_IDENTITY);
	mmr_mappings_free(m);
	/* without absent_values, "N/A" is a value, "" still is not */
	m = user_from("[\"a\", \"b\"]");
	assert_int_equal(apply(m, "{\"ev\": \"login\", \"a\": \"N/A\", \"b\": \"x\"}", &ev, NULL),
			 MMR_MAP_OK);
	assert_string_equal(ev.user, "n/a");
	assert_int_equal(apply(m, "{\"ev\": \"login\", \"a\": \"\", \"b\": \"x\"}", &ev, NULL),
			 MMR_MAP_OK);
	assert_string_equal(ev.user, "x");
	mmr_mappings_free(m);
}

static void test_const_source(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(
		"{\"name\": \"c\", \"match\": [{\"path\": \"ev\", \"exists\": true}],"
		" \"fields\": {\"user\": {\"const\": \"SvcAccount\"}, \"src_port\": {\"const\": 443},"
		"  \"auth_method\": {\"const\": \"sso\"}, \"is_proxy\": {\"const\": false}},"
		" \"action\": {\"from\": {\"const\": \"x\"}, \"values\": {\"x\": \"sso\"}}}");
	mmr_event ev;
	assert_int_equal(apply(m, "{\"ev\": 1, \"user\": \"other\"}", &ev, NULL), MMR_MAP_OK);
	assert_string_equal(ev.user, "svcaccount"); /* normalized like any user */
	assert_int_equal(ev.src_port, 443);
	assert_string_equal(ev.auth_method, "sso");
	assert_int_equal(ev.is_proxy, 0);
	assert_int_equal(ev.action, MMR_ACTION_SSO);
	mmr_mappings_free(m);
}

/* ---- conditions -------------------------------------------------------------------------- */

/* Does the condition list match_json hold on the document? */
static bool holds(const char *match_json, const char *text)
{
	char map[1024];
	snprintf(map, sizeof(map),
		 "{\"name\": \"cond\", \"match\": %s,"
		 " \"fields\": {\"user\": {\"const\": \"u\"}},"
		 " \"action\": {\"from\": {\"const\": \"a\"}, \"values\": {\"a\": \"auth\"}}}",
		 match_json);
	mmr_mappings *m = load_text(map);
	mmr_event ev;
	const char *name = "unset";
	mmr_map_status st = apply(m, text, &ev, &name);
	if (st == MMR_MAP_OK)
		assert_string_equal(name, "cond");
	else if (st == MMR_MAP_NO_MATCH)
		assert_null(name);
	else
		fail_msg("unexpected status %d for %s on %s", st, match_json, text);
	mmr_mappings_free(m);
	return st == MMR_MAP_OK;
}

static void test_cond_exists(void **state)
{
	(void)state;
	const char *t = "[{\"path\": \"a.b\", \"exists\": true}]";
	const char *f = "[{\"path\": \"a.b\", \"exists\": false}]";
	assert_true(holds(t, "{\"a\": {\"b\": \"x\"}}"));
	assert_true(holds(t, "{\"a\": {\"b\": 0}}"));
	assert_true(holds(t, "{\"a\": {\"b\": false}}"));
	assert_true(holds(t, "{\"a\": {\"b\": {}}}"));
	assert_false(holds(t, "{\"a\": {\"c\": \"x\"}}"));
	assert_false(holds(t, "{\"a\": \"b\"}"));
	assert_false(holds(t, "{\"a\": {\"b\": null}}")); /* null counts as absent */
	assert_false(holds(f, "{\"a\": {\"b\": \"x\"}}"));
	assert_true(holds(f, "{\"a\": {\"c\": \"x\"}}"));
	assert_true(holds(f, "{}"));
	assert_true(holds(f, "{\"a\": {\"b\": null}}"));
}

static void test_cond_equals(void **state)
{
	(void)state;
	const char *s = "[{\"path\": \"t\", \"equals\": \"User\"}]";
	assert_true(holds(s, "{\"t\": \"User\"}"));
	assert_false(holds(s, "{\"t\": \"user\"}")); /* case matters */
	assert_false(holds(s, "{\"t\": \"Users\"}"));
	assert_false(holds(s, "{\"t\": \"Use\"}"));
	assert_false(holds(s, "{}"));
	assert_false(holds(s, "{\"t\": [\"User\"]}"));
	assert_false(holds(s, "{\"t\": {\"User\": 1}}"));
	/* numbers and booleans by JSON text, either side */
	const char *n = "[{\"path\": \"n\", \"equals\": 0}]";
	assert_true(holds(n, "{\"n\": 0}"));
	assert_true(holds(n, "{\"n\": \"0\"}"));
	assert_false(holds(n, "{\"n\": 1}"));
	assert_true(holds("[{\"path\": \"n\", \"equals\": \"42\"}]", "{\"n\": 42}"));
	const char *b = "[{\"path\": \"p\", \"equals\": true}]";
	assert_true(holds(b, "{\"p\": true}"));
	assert_true(holds(b, "{\"p\": \"true\"}"));
	assert_false(holds(b, "{\"p\": false}"));
	assert_false(holds(b, "{\"p\": 1}"));
	assert_true(holds("[{\"path\": \"p\", \"equals\": \"false\"}]", "{\"p\": false}"));
	assert_false(holds("[{\"path\": \"p\", \"equals\": \"null\"}]", "{\"p\": null}"));
}

static void test_cond_in(void **state)
{
	(void)state;
	const char *c = "[{\"path\": \"e\", \"in\": [\"a\", \"b\", 3, true]}]";
	assert_true(holds(c, "{\"e\": \"a\"}"));
	assert_true(holds(c, "{\"e\": \"b\"}"));
	assert_true(holds(c, "{\"e\": 3}"));
	assert_true(holds(c, "{\"e\": \"3\"}"));
	assert_true(holds(c, "{\"e\": true}"));
	assert_false(holds(c, "{\"e\": \"c\"}"));
	assert_false(holds(c, "{\"e\": \"ab\"}"));
	assert_false(holds(c, "{}"));
}

static void test_cond_prefix(void **state)
{
	(void)state;
	const char *c = "[{\"path\": \"e\", \"prefix\": \"user.session.\"}]";
	assert_true(holds(c, "{\"e\": \"user.session.start\"}"));
	assert_true(holds(c, "{\"e\": \"user.session.\"}"));
	assert_false(holds(c, "{\"e\": \"user.session\"}"));
	assert_false(holds(c, "{\"e\": \"app.user.session.start\"}"));
	assert_false(holds(c, "{\"e\": \"User.Session.start\"}"));
	assert_false(holds(c, "{}"));
	assert_true(holds("[{\"path\": \"n\", \"prefix\": \"01\"}]", "{\"n\": \"0101039424\"}"));
}

static void test_cond_all_must_hold(void **state)
{
	(void)state;
	const char *c = "[{\"path\": \"a\", \"exists\": true}, {\"path\": \"b\", \"equals\": \"x\"},"
			" {\"path\": \"c\", \"in\": [\"1\", \"2\"]}, {\"path\": \"d\", \"prefix\": \"p\"},"
			" {\"path\": \"z\", \"exists\": false}]";
	assert_true(holds(c, "{\"a\": 0, \"b\": \"x\", \"c\": 2, \"d\": \"pq\"}"));
	assert_false(holds(c, "{\"b\": \"x\", \"c\": 2, \"d\": \"pq\"}"));
	assert_false(holds(c, "{\"a\": 0, \"b\": \"y\", \"c\": 2, \"d\": \"pq\"}"));
	assert_false(holds(c, "{\"a\": 0, \"b\": \"x\", \"c\": 3, \"d\": \"pq\"}"));
	assert_false(holds(c, "{\"a\": 0, \"b\": \"x\", \"c\": 2, \"d\": \"qp\"}"));
	assert_false(holds(c, "{\"a\": 0, \"b\": \"x\", \"c\": 2, \"d\": \"pq\", \"z\": 1}"));
}

/* ---- order: first matching mapping wins -------------------------------------------------- */

static void write_mapping(const char *dir, const char *file, const char *name, const char *eq,
			  const char *action)
{
	char path[512], text[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(text, sizeof(text),
		 "{\"name\": \"%s\", \"match\": [{\"path\": \"src\", \"equals\": \"%s\"}],"
		 " \"fields\": {\"user\": \"u\"},"
		 " \"action\": {\"from\": \"ev\", \"values\": {\"go\": \"%s\"}}}",
		 name, eq, action);
	write_to(path, text);
}

static void test_first_match_in_file_name_order(void **state)
{
	(void)state;
	char dir[256], err[512] = "";
	new_dir(dir, sizeof(dir));
	/* created out of order; readdir order is not name order */
	write_mapping(dir, "30-c.json", "c", "x", "mfa");
	write_mapping(dir, "10-a.json", "a", "y", "auth");
	write_mapping(dir, "20-b.json", "b", "x", "logout");
	write_mapping(dir, "00-z.json", "z", "never", "sso");
	char other[512];
	snprintf(other, sizeof(other), "%s/05-notes.txt", dir); /* not *.json: not loaded */
	write_to(other, "this is not a mapping");
	snprintf(other, sizeof(other), "%s/json", dir);
	write_to(other, "neither");

	mmr_mappings *m = mmr_mappings_load(dir, err, sizeof(err));
	if (m == NULL)
		fail_msg("load %s: %s", dir, err);
	assert_int_equal(mmr_mappings_count(m), 4);

	mmr_event ev;
	const char *name = NULL;
	/* b (20-) and c (30-) both match: b, the earlier name, wins */
	assert_int_equal(apply(m, "{\"src\": \"x\", \"ev\": \"go\", \"u\": \"bob\"}", &ev, &name),
			 MMR_MAP_OK);
	assert_string_equal(name, "b");
	assert_int_equal(ev.action, MMR_ACTION_LOGOUT);
	assert_int_equal(apply(m, "{\"src\": \"y\", \"ev\": \"go\", \"u\": \"bob\"}", &ev, &name),
			 MMR_MAP_OK);
	assert_string_equal(name, "a");
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	/* the first matching mapping is applied even when it yields no event: c is not tried */
	assert_int_equal(apply(m, "{\"src\": \"x\", \"ev\": \"other\", \"u\": \"bob\"}", &ev, &name),
			 MMR_MAP_NOT_IDENTITY);
	assert_string_equal(name, "b");
	assert_int_equal(apply(m, "{\"src\": \"w\", \"ev\": \"go\", \"u\": \"bob\"}", &ev, &name),
			 MMR_MAP_NO_MATCH);
	assert_null(name);
	mmr_mappings_free(m);
}

static void test_order_is_name_order_not_directory_order(void **state)
{
	(void)state;
	/* 12 files; file i matches lvl 0..i, so a document with lvl L is claimed by files L..11
	 * and must get file L: only name order passes for every L, whatever readdir returns */
	enum { N = 12 };
	char dir[256], path[512], text[512], err[512] = "";
	new_dir(dir, sizeof(dir));
	for (int k = 0; k < N; k++) {
		int i = (k * 5 + 7) % N; /* a fixed scrambled creation order */
		char in[128] = "";
		for (int l = 0; l <= i; l++)
			snprintf(in + strlen(in), sizeof(in) - strlen(in), "%s%d", l ? ", " : "", l);
		snprintf(path, sizeof(path), "%s/%02d-map.json", dir, i);
		snprintf(text, sizeof(text),
			 "{\"name\": \"m%02d\", \"match\": [{\"path\": \"lvl\", \"in\": [%s]}],"
			 " \"fields\": {\"user\": \"u\"},"
			 " \"action\": {\"from\": \"e\", \"values\": {\"go\": \"auth\"}}}", i, in);
		write_to(path, text);
	}
	mmr_mappings *m = mmr_mappings_load(dir, err, sizeof(err));
	if (m == NULL)
		fail_msg("load %s: %s", dir, err);
	assert_int_equal(mmr_mappings_count(m), N);
	for (int l = 0; l < N; l++) {
		char d[128], want[8];
		const char *name = NULL;
		mmr_event ev;
		snprintf(d, sizeof(d), "{\"lvl\": %d, \"e\": \"go\", \"u\": \"x\"}", l);
		snprintf(want, sizeof(want), "m%02d", l);
		assert_int_equal(apply(m, d, &ev, &name), MMR_MAP_OK);
		if (strcmp(name, want) != 0)
			fail_msg("lvl %d: mapping %s applied, expected %s (first in name order)", l,
				 name, want);
	}
	mmr_mappings_free(m);
}

/* ---- action and outcome ------------------------------------------------------------------ */

static const char *const ACTION_MAP =
	"{\"name\": \"act\", \"match\": [{\"path\": \"kind\", \"equals\": \"idp\"}],\n"
	" \"fields\": {\"user\": \"who\"},\n"
	" \"action\": {\"from\": [\"type\", \"legacy\"],\n"
	"   \"values\": {\"session.start\": \"auth\", \"mfa.verify\": \"mfa\",\n"
	"     \"sign_on.deny\": {\"action\": \"auth\", \"outcome\": \"failure\"},\n"
	"     \"vpn.up\": {\"action\": \"vpn_start\"},\n"
	"     \"17\": \"logout\"},\n"
	"   \"default\": null},\n"
	" \"outcome\": {\"from\": \"result\",\n"
	"   \"values\": {\"SUCCESS\": \"success\", \"FAILURE\": \"failure\", \"DENY\": \"failure\","
	"     \"CHALLENGE\": \"unknown\"},\n"
	"   \"default\": \"failure\"}}\n";

static mmr_map_status act(const mmr_mappings *m, const char *type_json, const char *result_json,
			  mmr_event *ev)
{
	char text[512];
	snprintf(text, sizeof(text), "{\"kind\": \"idp\", \"who\": \"carol\", \"type\": %s%s%s}",
		 type_json, result_json ? ", \"result\": " : "", result_json ? result_json : "");
	const char *name = NULL;
	mmr_map_status st = apply(m, text, ev, &name);
	assert_non_null(name);
	assert_string_equal(name, "act");
	return st;
}

static void test_action_values(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ACTION_MAP);
	mmr_event ev;
	assert_int_equal(act(m, "\"session.start\"", "\"SUCCESS\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);
	assert_string_equal(ev.user, "carol");
	assert_int_equal(act(m, "\"mfa.verify\"", "\"DENY\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_MFA);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);
	/* {"action","outcome"}: its outcome wins over the outcome table */
	assert_int_equal(act(m, "\"sign_on.deny\"", "\"SUCCESS\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);
	/* {"action"} alone: the outcome table decides */
	assert_int_equal(act(m, "\"vpn.up\"", "\"SUCCESS\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_VPN_START);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);
	/* a number as raw value matches by its text */
	assert_int_equal(act(m, "17", "\"SUCCESS\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_LOGOUT);
	mmr_mappings_free(m);
}

static void test_action_from_second_path(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ACTION_MAP);
	mmr_event ev;
	assert_int_equal(apply(m, "{\"kind\": \"idp\", \"who\": \"x\", \"legacy\": \"mfa.verify\"}",
			       &ev, NULL), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_MFA);
	assert_int_equal(apply(m, "{\"kind\": \"idp\", \"who\": \"x\", \"type\": null,"
				  " \"legacy\": \"mfa.verify\"}", &ev, NULL), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_MFA);
	mmr_mappings_free(m);
}

static void test_outcome_table_and_default(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ACTION_MAP);
	mmr_event ev;
	assert_int_equal(act(m, "\"session.start\"", "\"FAILURE\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);
	assert_int_equal(act(m, "\"session.start\"", "\"CHALLENGE\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_UNKNOWN);
	/* unlisted and absent: the outcome default ("failure" here) */
	assert_int_equal(act(m, "\"session.start\"", "\"WEIRD\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);
	assert_int_equal(act(m, "\"session.start\"", NULL, &ev), MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE);
	assert_int_equal(act(m, "\"session.start\"", "\"success\"", &ev), MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_FAILURE); /* raw values are case-sensitive */
	mmr_mappings_free(m);

	/* no outcome section, or one without default: unknown */
	m = load_text("{\"name\": \"n\", \"match\": [{\"path\": \"e\", \"exists\": true}],"
		      " \"fields\": {\"user\": \"u\"},"
		      " \"action\": {\"from\": \"e\", \"values\": {\"in\": \"auth\"}}}");
	assert_int_equal(apply(m, "{\"e\": \"in\", \"u\": \"x\", \"outcome\": \"success\"}", &ev,
			       NULL), MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_UNKNOWN);
	mmr_mappings_free(m);
	m = load_text("{\"name\": \"n\", \"match\": [{\"path\": \"e\", \"exists\": true}],"
		      " \"fields\": {\"user\": \"u\"},"
		      " \"action\": {\"from\": \"e\", \"values\": {\"in\": \"auth\"}},"
		      " \"outcome\": {\"from\": \"r\", \"values\": {\"ok\": \"success\"}}}");
	assert_int_equal(apply(m, "{\"e\": \"in\", \"u\": \"x\", \"r\": \"ok\"}", &ev, NULL),
			 MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);
	assert_int_equal(apply(m, "{\"e\": \"in\", \"u\": \"x\", \"r\": \"bad\"}", &ev, NULL),
			 MMR_MAP_OK);
	assert_int_equal(ev.outcome, MMR_OUTCOME_UNKNOWN);
	mmr_mappings_free(m);
}

static void test_action_default(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ACTION_MAP); /* "default": null */
	mmr_event ev;
	assert_int_equal(act(m, "\"user.lifecycle.create\"", "\"SUCCESS\"", &ev),
			 MMR_MAP_NOT_IDENTITY);
	assert_int_equal(ev.action, MMR_ACTION_NONE);
	assert_int_equal(act(m, "{\"o\": 1}", "\"SUCCESS\"", &ev), MMR_MAP_NOT_IDENTITY);
	mmr_mappings_free(m);

	/* absent default: the same */
	m = load_text("{\"name\": \"n\", \"match\": [{\"path\": \"e\", \"exists\": true}],"
		      " \"fields\": {\"user\": \"u\"},"
		      " \"action\": {\"from\": \"e\", \"values\": {\"in\": \"auth\"}}}");
	assert_int_equal(apply(m, "{\"e\": \"out\", \"u\": \"x\"}", &ev, NULL),
			 MMR_MAP_NOT_IDENTITY);
	mmr_mappings_free(m);

	/* a default action applies to unlisted and to absent raw values */
	m = load_text("{\"name\": \"n\", \"match\": [{\"path\": \"u\", \"exists\": true}],"
		      " \"fields\": {\"user\": \"u\"},"
		      " \"action\": {\"from\": \"e\", \"values\": {\"in\": \"auth\"},"
		      "   \"default\": {\"action\": \"account\", \"outcome\": \"success\"}}}");
	assert_int_equal(apply(m, "{\"e\": \"in\", \"u\": \"x\"}", &ev, NULL), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_AUTH);
	assert_int_equal(ev.outcome, MMR_OUTCOME_UNKNOWN);
	assert_int_equal(apply(m, "{\"e\": \"rename\", \"u\": \"x\"}", &ev, NULL), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_ACCOUNT);
	assert_int_equal(ev.outcome, MMR_OUTCOME_SUCCESS);
	assert_int_equal(apply(m, "{\"u\": \"x\"}", &ev, NULL), MMR_MAP_OK);
	assert_int_equal(ev.action, MMR_ACTION_ACCOUNT);
	mmr_mappings_free(m);
}

static void test_missing_user_not_identity(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ACTION_MAP);
	mmr_event ev;
	const char *name = NULL;
	assert_int_equal(apply(m, "{\"kind\": \"idp\", \"type\": \"session.start\"}", &ev, &name),
			 MMR_MAP_NOT_IDENTITY);
	assert_string_equal(name, "act");
	assert_string_equal(ev.user, "");
	assert_int_equal(apply(m, "{\"kind\": \"idp\", \"who\": \"\", \"type\": \"session.start\"}",
			       &ev, NULL), MMR_MAP_NOT_IDENTITY);
	assert_int_equal(apply(m, "{\"kind\": \"idp\", \"who\": {\"a\": 1},"
				  " \"type\": \"session.start\"}", &ev, NULL), MMR_MAP_NOT_IDENTITY);
	mmr_mappings_free(m);
}

static void test_no_match(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ACTION_MAP);
	mmr_event ev;
	const char *name = "stale";
	assert_int_equal(apply(m, "{\"kind\": \"fw\", \"who\": \"x\", \"type\": \"session.start\"}",
			       &ev, &name), MMR_MAP_NO_MATCH);
	assert_null(name);
	assert_int_equal(ev.action, MMR_ACTION_NONE);
	assert_string_equal(ev.user, "");
	assert_int_equal(ev.time, FALLBACK);
	assert_false(ev.time_from_log);
	/* NULL mappings or document: no match, nothing to crash on */
	assert_int_equal(mmr_mappings_apply(NULL, NULL, &ev, &STRIP, 5, &name), MMR_MAP_NO_MATCH);
	assert_null(name);
	assert_int_equal(ev.time, 5);
	assert_int_equal(mmr_mappings_apply(m, NULL, &ev, &STRIP, 5, NULL), MMR_MAP_NO_MATCH);
	assert_int_equal(mmr_mappings_count(NULL), 0);
	mmr_mappings_free(m);
	mmr_mappings_free(NULL);
}

/* ---- every canonical field through a mapping --------------------------------------------- */

static const char *const ALL_FIELDS_MAP =
	"{\"name\": \"all\", \"match\": [{\"path\": \"ev\", \"exists\": true}],\n"
	" \"fields\": {\n"
	"  \"user\": \"r.user\", \"src_ip\": \"r.ip\", \"src_port\": \"r.port\",\n"
	"  \"assigned_ip\": \"r.vip\", \"target\": \"r.app\", \"device\": \"r.dev\",\n"
	"  \"user_agent\": \"r.ua\", \"auth_method\": \"r.am\", \"mfa_factor\": \"r.mf\",\n"
	"  \"group\": \"r.grp\", \"session_id\": \"r.sid\", \"reason\": \"r.why\",\n"
	"  \"host\": \"r.host\", \"geo_country\": \"r.cc\", \"geo_city\": \"r.city\",\n"
	"  \"as_number\": \"r.asn\", \"as_org\": \"r.isp\", \"is_proxy\": \"r.proxy\",\n"
	"  \"bytes_in\": \"r.bin\", \"bytes_out\": \"r.bout\", \"duration\": \"r.dur\",\n"
	"  \"event_time\": \"r.t\"},\n"
	" \"action\": {\"from\": \"ev\", \"values\": {\"end\": \"vpn_end\"}}}\n";

static mmr_event map_all(const mmr_mappings *m, const char *r_json, const mmr_user_norm *norm)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"ev\": \"end\", \"r\": %s}", r_json);
	struct json_object *d = doc(text);
	mmr_event ev;
	const char *name = NULL;
	mmr_map_status st = mmr_mappings_apply(m, d, &ev, norm, FALLBACK, &name);
	json_object_put(d);
	assert_string_equal(name, "all");
	(void)st;
	return ev;
}

static void test_fields_every_kind_from_strings(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ALL_FIELDS_MAP);
	mmr_event ev = map_all(m,
		"{\"user\": \"CORP\\\\Bob\", \"ip\": \"198.51.100.7\", \"port\": \"50123\","
		" \"vip\": \"10.8.0.2\", \"app\": \"Salesforce\", \"dev\": \"LAPTOP-7\","
		" \"ua\": \"Mozilla/5.0\", \"am\": \"password\", \"mf\": \"push\", \"grp\": \"vpn-users\","
		" \"sid\": \"s-1\", \"why\": \"bad password\", \"host\": \"idp1\", \"cc\": \"Germany\","
		" \"city\": \"Berlin\", \"asn\": \"3320\", \"isp\": \"Deutsche Telekom AG\","
		" \"proxy\": \"true\", \"bin\": \"1024\", \"bout\": \"2048\", \"dur\": \"1h:02m:03s\","
		" \"t\": \"2026-11-27T10:00:05+01:00\"}",
		&STRIP);
	char ip[64];
	assert_int_equal(ev.action, MMR_ACTION_VPN_END);
	assert_int_equal(mmr_event_status(&ev), MMR_CANON_OK);
	assert_string_equal(ev.user, "bob");
	assert_string_equal(ev.user_raw, "CORP\\Bob");
	assert_int_equal(ev.src_ip.family, 4);
	assert_int_equal(mmr_ip_format(&ev.src_ip, ip, sizeof(ip)), 0);
	assert_string_equal(ip, "198.51.100.7");
	assert_int_equal(ev.src_port, 50123);
	assert_int_equal(mmr_ip_format(&ev.assigned_ip, ip, sizeof(ip)), 0);
	assert_string_equal(ip, "10.8.0.2");
	assert_string_equal(ev.target, "Salesforce");
	assert_string_equal(ev.device, "LAPTOP-7");
	assert_string_equal(ev.user_agent, "Mozilla/5.0");
	assert_string_equal(ev.auth_method, "password");
	assert_string_equal(ev.mfa_factor, "push");
	assert_string_equal(ev.group, "vpn-users");
	assert_string_equal(ev.session_id, "s-1");
	assert_string_equal(ev.reason, "bad password");
	assert_string_equal(ev.host, "idp1");
	assert_string_equal(ev.geo_country, "Germany");
	assert_string_equal(ev.geo_city, "Berlin");
	assert_int_equal(ev.as_number, 3320);
	assert_string_equal(ev.as_org, "Deutsche Telekom AG");
	assert_int_equal(ev.is_proxy, 1);
	assert_int_equal(ev.bytes_in, 1024);
	assert_int_equal(ev.bytes_out, 2048);
	assert_int_equal(ev.duration, 3723);
	assert_int_equal(ev.time, civil_utc(2026, 11, 27, 9, 0, 5));
	assert_true(ev.time_from_log);
	mmr_mappings_free(m);
}

static void test_fields_numbers_and_bools_from_json(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ALL_FIELDS_MAP);
	int64_t t = civil_utc(2026, 11, 27, 10, 0, 0);
	char r[512];
	snprintf(r, sizeof(r),
		 "{\"user\": \"bob@corp.example\", \"ip\": \"2001:db8::7\", \"port\": 443,"
		 " \"asn\": 64500, \"proxy\": false, \"bin\": 0, \"bout\": 5000000000,"
		 " \"dur\": 3600, \"t\": %lld}", (long long)t);
	mmr_event ev = map_all(m, r, &STRIP);
	char ip[64];
	assert_string_equal(ev.user, "bob");
	assert_int_equal(ev.src_ip.family, 6);
	assert_int_equal(mmr_ip_format(&ev.src_ip, ip, sizeof(ip)), 0);
	assert_string_equal(ip, "2001:db8::7");
	assert_int_equal(ev.src_port, 443);
	assert_int_equal(ev.as_number, 64500);
	assert_int_equal(ev.is_proxy, 0);
	assert_int_equal(ev.bytes_in, 0);
	assert_int_equal(ev.bytes_out, 5000000000LL);
	assert_int_equal(ev.duration, 3600);
	assert_int_equal(ev.time, t);
	assert_true(ev.time_from_log);
	/* absent optional fields stay absent */
	assert_int_equal(ev.assigned_ip.family, 0);
	assert_string_equal(ev.target, "");

	ev = map_all(m, "{\"user\": \"a\", \"proxy\": true, \"dur\": \"00:10:00\"}", &STRIP);
	assert_int_equal(ev.is_proxy, 1);
	assert_int_equal(ev.duration, 600);
	ev = map_all(m, "{\"user\": \"a\", \"proxy\": \"false\"}", &STRIP);
	assert_int_equal(ev.is_proxy, 0);
	/* nothing given: the "absent" values of event.h, fallback time */
	ev = map_all(m, "{\"user\": \"a\"}", &STRIP);
	assert_int_equal(ev.is_proxy, -1);
	assert_int_equal(ev.src_port, -1);
	assert_int_equal(ev.as_number, -1);
	assert_int_equal(ev.bytes_in, -1);
	assert_int_equal(ev.bytes_out, -1);
	assert_int_equal(ev.duration, -1);
	assert_int_equal(ev.src_ip.family, 0);
	assert_int_equal(ev.time, FALLBACK);
	assert_false(ev.time_from_log);
	mmr_mappings_free(m);
}

static void test_fields_bad_values_stay_absent(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ALL_FIELDS_MAP);
	mmr_event ev = map_all(m,
		"{\"user\": \"a\", \"ip\": \"not-an-ip\", \"port\": \"70000\", \"asn\": \"AS3320\","
		" \"proxy\": \"maybe\", \"bin\": -5, \"dur\": \"soon\", \"t\": \"yesterday\"}",
		&STRIP);
	assert_int_equal(mmr_event_status(&ev), MMR_CANON_OK);
	assert_int_equal(ev.src_ip.family, 0);
	assert_int_equal(ev.src_port, -1);
	assert_int_equal(ev.as_number, -1);
	assert_int_equal(ev.is_proxy, -1);
	assert_int_equal(ev.bytes_in, -1);
	assert_int_equal(ev.duration, -1);
	assert_int_equal(ev.time, FALLBACK);
	assert_false(ev.time_from_log);
	mmr_mappings_free(m);
}

static void test_fields_ipv4_mapped_folds(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ALL_FIELDS_MAP);
	mmr_event ev = map_all(m, "{\"user\": \"a\", \"ip\": \"::ffff:192.0.2.9\"}", &STRIP);
	char ip[64];
	assert_int_equal(ev.src_ip.family, 4);
	assert_int_equal(mmr_ip_format(&ev.src_ip, ip, sizeof(ip)), 0);
	assert_string_equal(ip, "192.0.2.9");
	mmr_mappings_free(m);
}

static void test_fields_event_time_epochs(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ALL_FIELDS_MAP);
	const int64_t t = civil_utc(2026, 11, 27, 10, 0, 5);
	static const char *const suffix[] = {"", "123", "123456", "123456789"}; /* 10 13 16 19 */
	for (int i = 0; i < 4; i++) {
		char r[256];
		/* as a string */
		snprintf(r, sizeof(r), "{\"user\": \"a\", \"t\": \"%lld%s\"}", (long long)t,
			 suffix[i]);
		mmr_event ev = map_all(m, r, &STRIP);
		if (ev.time != t || !ev.time_from_log)
			fail_msg("event_time %s: got %lld (from log %d), expected %lld", r,
				 (long long)ev.time, ev.time_from_log, (long long)t);
		/* as a JSON number */
		snprintf(r, sizeof(r), "{\"user\": \"a\", \"t\": %lld%s}", (long long)t, suffix[i]);
		ev = map_all(m, r, &STRIP);
		if (ev.time != t || !ev.time_from_log)
			fail_msg("event_time %s: got %lld (from log %d), expected %lld", r,
				 (long long)ev.time, ev.time_from_log, (long long)t);
	}
	/* 11 digits are no epoch form: fallback */
	mmr_event ev = map_all(m, "{\"user\": \"a\", \"t\": \"17957736000\"}", &STRIP);
	assert_int_equal(ev.time, FALLBACK);
	assert_false(ev.time_from_log);
	ev = map_all(m, "{\"user\": \"a\", \"t\": \"2026-11-27T10:00:05.250Z\"}", &STRIP);
	assert_int_equal(ev.time, t);
	assert_true(ev.time_from_log);
	mmr_mappings_free(m);
}

static void test_fields_user_norm_keep_domain(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(ALL_FIELDS_MAP);
	mmr_event ev = map_all(m, "{\"user\": \"CORP\\\\Bob\"}", &KEEP_CORP);
	assert_string_equal(ev.user, "bob@corp");
	ev = map_all(m, "{\"user\": \"Bob\"}", &KEEP_CORP);
	assert_string_equal(ev.user, "bob@corp.example");
	ev = map_all(m, "{\"user\": \"bob@corp.example\"}", &KEEP_CORP);
	assert_string_equal(ev.user, "bob@corp.example");
	assert_string_equal(ev.user_raw, "");
	ev = map_all(m, "{\"user\": \"   \"}", &KEEP_CORP);
	assert_string_equal(ev.user, "");
	assert_int_equal(mmr_event_status(&ev), MMR_CANON_NOT_IDENTITY);
	mmr_mappings_free(m);
}

/* ---- load errors ------------------------------------------------------------------------- */

/* A valid mapping, with "%s" spliced in after "name" (for an extra key) */
#define MAP_HEAD "{\"name\": \"n\", "
#define MAP_MATCH "\"match\": [{\"path\": \"e\", \"exists\": true}], "
#define MAP_FIELDS "\"fields\": {\"user\": \"u\"}, "
#define MAP_ACTION "\"action\": {\"from\": \"e\", \"values\": {\"x\": \"auth\"}}"

static void test_load_valid_control(void **state)
{
	(void)state;
	mmr_mappings_free(load_text(MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION "}"));
	/* optional keys and blanks after the object are fine */
	mmr_mappings_free(load_text(MAP_HEAD "\"description\": \"d\", \"reference\": \"r\", "
				    MAP_MATCH MAP_FIELDS MAP_ACTION "}\n\n  \t\n"));
}

static void test_load_error_json(void **state)
{
	(void)state;
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION, "JSON");   /* unterminated */
	EXPECT_ERROR("{\"name\": \"n\",, }", "JSON");
	EXPECT_ERROR("", "JSON");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION "} {}", "trailing");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION "}x", "trailing");
	EXPECT_ERROR("[1, 2]", "object");
}

static void test_load_error_keys(void **state)
{
	(void)state;
	EXPECT_ERROR(MAP_HEAD "\"colour\": 1, " MAP_MATCH MAP_FIELDS MAP_ACTION "}", "'colour'");
	EXPECT_ERROR("{" MAP_MATCH MAP_FIELDS MAP_ACTION "}", "\"name\"");
	EXPECT_ERROR("{\"name\": 5, " MAP_MATCH MAP_FIELDS MAP_ACTION "}", "\"name\"");
	EXPECT_ERROR(MAP_HEAD MAP_FIELDS MAP_ACTION "}", "\"match\"");
	EXPECT_ERROR(MAP_HEAD "\"match\": [], " MAP_FIELDS MAP_ACTION "}", "\"match\"");
	EXPECT_ERROR(MAP_HEAD "\"match\": {}, " MAP_FIELDS MAP_ACTION "}", "\"match\"");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_ACTION "}", "\"fields\"");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS "\"outcome\": {\"from\": \"r\"}}", "\"action\"");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {\"src_ip\": \"ip\"}, " MAP_ACTION "}",
		     "\"user\"");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {}, " MAP_ACTION "}", "\"user\"");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {\"user\": \"u\", \"colour\": \"c\"}, "
		     MAP_ACTION "}", "'colour'");
	/* action and outcome are not fields */
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {\"user\": \"u\", \"action\": \"a\"}, "
		     MAP_ACTION "}", "'action'");
	/* bad conditions */
	EXPECT_ERROR(MAP_HEAD "\"match\": [{\"path\": \"e\", \"matches\": \"x\"}], " MAP_FIELDS
		     MAP_ACTION "}", "\"match\"[0]");
	EXPECT_ERROR(MAP_HEAD "\"match\": [{\"path\": \"e\", \"in\": []}], " MAP_FIELDS MAP_ACTION
		     "}", "\"match\"[0]");
	EXPECT_ERROR(MAP_HEAD "\"match\": [{\"path\": \"e\", \"exists\": \"yes\"}], " MAP_FIELDS
		     MAP_ACTION "}", "exists");
	EXPECT_ERROR(MAP_HEAD "\"match\": [{\"path\": \"e\", \"exists\": true},"
		     " {\"equals\": \"x\"}], " MAP_FIELDS MAP_ACTION "}", "\"match\"[1]");
}

static void test_load_error_actions(void **state)
{
	(void)state;
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS
		     "\"action\": {\"from\": \"e\", \"values\": {\"x\": \"login\"}}}", "'login'");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS
		     "\"action\": {\"from\": \"e\", \"values\": {\"x\": {\"action\": \"login\"}}}}",
		     "\"x\"");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS
		     "\"action\": {\"from\": \"e\", \"values\": {}, \"default\": \"nope\"}}", "'nope'");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS
		     "\"action\": {\"values\": {\"x\": \"auth\"}}}", "from");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS
		     "\"action\": {\"from\": \"e\", \"value\": {\"x\": \"auth\"}}}", "'value'");
	/* outcomes */
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION
		     ", \"outcome\": {\"from\": \"r\", \"values\": {\"OK\": \"ok\"}}}", "'ok'");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION
		     ", \"outcome\": {\"from\": \"r\", \"default\": \"maybe\"}}", "'maybe'");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH MAP_FIELDS
		     "\"action\": {\"from\": \"e\", \"values\": {\"x\": {\"action\": \"auth\","
		     " \"outcome\": \"ok\"}}}}", "outcome");
}

static void test_load_error_paths(void **state)
{
	(void)state;
	static const char *const bad[] = {"a..b", "a[", "a[x]", "a.", "", ".a", "a[1", "a[]",
					  "a[-1]", "a[0]b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], quoted[64];
		/* in fields, in a condition, in action.from */
		snprintf(text, sizeof(text),
			 MAP_HEAD MAP_MATCH "\"fields\": {\"user\": \"%s\"}, " MAP_ACTION "}", bad[i]);
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		const char *needle = bad[i][0] ? quoted : "path";
		EXPECT_ERROR(text, needle, "user", bad[i]);
		snprintf(text, sizeof(text),
			 MAP_HEAD "\"match\": [{\"path\": \"%s\", \"exists\": true}], " MAP_FIELDS
			 MAP_ACTION "}", bad[i]);
		EXPECT_ERROR(text, needle, "match", bad[i]);
		snprintf(text, sizeof(text),
			 MAP_HEAD MAP_MATCH MAP_FIELDS
			 "\"action\": {\"from\": [\"e\", \"%s\"], \"values\": {\"x\": \"auth\"}}}",
			 bad[i]);
		EXPECT_ERROR(text, needle, "action", bad[i]);
	}
}

static void test_load_error_sources(void **state)
{
	(void)state;
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {\"user\": []}, " MAP_ACTION "}", "user");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {\"user\": 5}, " MAP_ACTION "}", "user");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {\"user\": [\"a\", 5]}, " MAP_ACTION "}",
		     "user");
	EXPECT_ERROR(MAP_HEAD MAP_MATCH "\"fields\": {\"user\": {\"konst\": \"x\"}}, " MAP_ACTION
		     "}", "const");
}

static void test_load_error_absent_values(void **state)
{
	(void)state;
	EXPECT_ERROR(MAP_HEAD "\"absent_values\": [], " MAP_MATCH MAP_FIELDS MAP_ACTION "}",
		     "absent_values");
	EXPECT_ERROR(MAP_HEAD "\"absent_values\": \"N/A\", " MAP_MATCH MAP_FIELDS MAP_ACTION "}",
		     "absent_values");
	EXPECT_ERROR(MAP_HEAD "\"absent_values\": [\"N/A\", 0], " MAP_MATCH MAP_FIELDS MAP_ACTION
		     "}", "absent_values");
}

static void test_load_error_directory_and_missing(void **state)
{
	(void)state;
	char dir[256], err[512] = "", path[512];
	/* no *.json at all */
	new_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/okta.json.bak", dir);
	write_to(path, MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION "}");
	static const char *const none[] = {"json", NULL};
	expect_error_at(dir, none);

	/* a missing file or directory */
	snprintf(path, sizeof(path), "%s/does-not-exist.json", tmpdir);
	static const char *const missing[] = {"No such file", NULL};
	expect_error_at(path, missing);

	/* a bad file in a directory: the error names that file, not only the directory */
	new_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/10-good.json", dir);
	write_to(path, MAP_HEAD MAP_MATCH MAP_FIELDS MAP_ACTION "}");
	snprintf(path, sizeof(path), "%s/20-bad.json", dir);
	write_to(path, MAP_HEAD MAP_MATCH MAP_FIELDS "\"action\": {\"from\": \"e\", "
		       "\"values\": {\"x\": \"hack\"}}}");
	static const char *const bad_file[] = {"'hack'", NULL};
	expect_error_at(path, bad_file); /* the file alone */
	mmr_mappings *m = mmr_mappings_load(dir, err, sizeof(err));
	assert_null(m);
	if (strstr(err, "20-bad.json") == NULL || strstr(err, "'hack'") == NULL)
		fail_msg("directory load error does not name the bad file and value: \"%s\"", err);
}

/* ---- threads ----------------------------------------------------------------------------- */

#define N_THREADS 4
#define N_DOCS 4
#define N_ROUNDS 300

/* Shared, read-only mappings; constants that are numbers are compared and copied by their
 * text, so this also covers the mapping's own JSON values being read from several threads. */
static const char *const THREAD_MAP =
	"{\"name\": \"thr\", \"match\": [{\"path\": \"kind\", \"in\": [\"idp\", 7]}],\n"
	" \"fields\": {\"user\": \"who\", \"src_ip\": [\"ip\", \"chain[0].ip\"],\n"
	"   \"auth_method\": {\"const\": 2}, \"reason\": {\"const\": true},\n"
	"   \"device\": {\"const\": 1234567}, \"group\": {\"const\": 89},\n"
	"   \"session_id\": {\"const\": 1.5}, \"geo_city\": {\"const\": false},\n"
	"   \"target\": \"t[type=App].name\"},\n"
	" \"action\": {\"from\": \"type\",\n"
	"   \"values\": {\"session.start\": \"auth\", \"17\": \"logout\",\n"
	"     \"sign_on.deny\": {\"action\": \"auth\", \"outcome\": \"failure\"}}},\n"
	" \"outcome\": {\"from\": {\"const\": 1}, \"values\": {\"1\": \"success\"}}}\n";

static const char *const thread_docs[N_DOCS] = {
	"{\"kind\": \"idp\", \"who\": \"Alice\", \"type\": \"session.start\", \"ip\": \"192.0.2.1\","
	" \"t\": [{\"type\": \"App\", \"name\": \"crm\"}]}",
	"{\"kind\": 7, \"who\": \"CORP\\\\bob\", \"type\": \"sign_on.deny\","
	" \"chain\": [{\"ip\": \"2001:db8::1\"}]}",
	"{\"kind\": \"idp\", \"who\": \"carol\", \"type\": 17}",
	"{\"kind\": \"fw\", \"who\": \"dave\"}",
};

typedef struct {
	const mmr_mappings *m;
	char expected[N_DOCS][512];
	int mismatches;
	char first_bad[512]; /* written by the first thread that sees a mismatch */
} thread_arg;

static void render(const mmr_mappings *m, const char *text, char *out, size_t len)
{
	mmr_event ev;
	const char *name = NULL;
	struct json_object *d = json_tokener_parse(text); /* per thread, as in the module */
	mmr_map_status st = mmr_mappings_apply(m, d, &ev, &STRIP, FALLBACK, &name);
	json_object_put(d);
	struct json_object *j = mmr_event_to_json(&ev);
	snprintf(out, len, "%d %s %s", (int)st, name ? name : "-", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
}

static void *thread_main(void *p)
{
	thread_arg *a = p;
	char got[512];
	for (int r = 0; r < N_ROUNDS; r++)
		for (int i = 0; i < N_DOCS; i++) {
			render(a->m, thread_docs[i], got, sizeof(got));
			if (strcmp(got, a->expected[i]) != 0 &&
			    __atomic_add_fetch(&a->mismatches, 1, __ATOMIC_RELAXED) == 1)
				snprintf(a->first_bad, sizeof(a->first_bad), "%s", got);
		}
	return NULL;
}

static void test_apply_from_threads(void **state)
{
	(void)state;
	mmr_mappings *m = load_text(THREAD_MAP);
	thread_arg a = {.m = m};
	for (int i = 0; i < N_DOCS; i++)
		render(m, thread_docs[i], a.expected[i], sizeof(a.expected[i]));
	/* the single-threaded results are the right ones */
	assert_non_null(strstr(a.expected[0], "\"action\":\"auth\""));
	assert_non_null(strstr(a.expected[0], "\"outcome\":\"success\""));
	assert_non_null(strstr(a.expected[0], "\"auth_method\":\"2\""));
	assert_non_null(strstr(a.expected[0], "\"target\":\"crm\""));
	assert_non_null(strstr(a.expected[1], "\"src_ip\":\"2001:db8::1\""));
	assert_non_null(strstr(a.expected[1], "\"outcome\":\"failure\""));
	assert_non_null(strstr(a.expected[2], "\"action\":\"logout\"")); /* number by text */
	assert_int_equal(strncmp(a.expected[3], "2 - ", 4), 0);          /* MMR_MAP_NO_MATCH */

	pthread_t th[N_THREADS];
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &a), 0);
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	mmr_mappings_free(m);
	if (a.mismatches != 0)
		fail_msg("%d of %d results differ when 4 threads apply the same mappings; e.g. \"%s\"",
			 a.mismatches, N_THREADS * N_ROUNDS * N_DOCS, a.first_bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_ip),
		cmocka_unit_test(test_path_keys),
		cmocka_unit_test(test_path_escaped_dot),
		cmocka_unit_test(test_path_index),
		cmocka_unit_test(test_path_select),
		cmocka_unit_test(test_path_missing_or_wrong_type),
		cmocka_unit_test(test_path_list_first_present_wins),
		cmocka_unit_test(test_path_list_skips_empty_and_absent_values),
		cmocka_unit_test(test_const_source),
		cmocka_unit_test(test_cond_exists),
		cmocka_unit_test(test_cond_equals),
		cmocka_unit_test(test_cond_in),
		cmocka_unit_test(test_cond_prefix),
		cmocka_unit_test(test_cond_all_must_hold),
		cmocka_unit_test(test_first_match_in_file_name_order),
		cmocka_unit_test(test_order_is_name_order_not_directory_order),
		cmocka_unit_test(test_action_values),
		cmocka_unit_test(test_action_from_second_path),
		cmocka_unit_test(test_outcome_table_and_default),
		cmocka_unit_test(test_action_default),
		cmocka_unit_test(test_missing_user_not_identity),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_fields_every_kind_from_strings),
		cmocka_unit_test(test_fields_numbers_and_bools_from_json),
		cmocka_unit_test(test_fields_bad_values_stay_absent),
		cmocka_unit_test(test_fields_ipv4_mapped_folds),
		cmocka_unit_test(test_fields_event_time_epochs),
		cmocka_unit_test(test_fields_user_norm_keep_domain),
		cmocka_unit_test(test_load_valid_control),
		cmocka_unit_test(test_load_error_json),
		cmocka_unit_test(test_load_error_keys),
		cmocka_unit_test(test_load_error_actions),
		cmocka_unit_test(test_load_error_paths),
		cmocka_unit_test(test_load_error_sources),
		cmocka_unit_test(test_load_error_absent_values),
		cmocka_unit_test(test_load_error_directory_and_missing),
		cmocka_unit_test(test_apply_from_threads),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
