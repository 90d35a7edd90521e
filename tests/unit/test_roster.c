/* The HR roster (enrich/roster.c, docs/roster.md): RFC 4180 parsing, header matching, field
 * validation with file:line errors, warnings that do not stop the load, user normalization,
 * peer groups and time zones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrich/roster.h"

static char dir[64], path[128];

static int mk_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mmr-roster-test-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/roster.csv", dir);
	unsetenv("TZDIR");
	return 0;
}

static int rm_dir(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *text)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		fail_msg("cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

static char warn[1024];

static mmr_roster *load_ok(const mmr_user_norm *norm)
{
	char err[1024] = "";
	mmr_roster *r = mmr_roster_load(path, norm, err, sizeof(err), warn, sizeof(warn));
	if (r == NULL)
		fail_msg("load: %s", err);
	return r;
}

static void load_fails(char *err, size_t len)
{
	err[0] = '\0';
	mmr_roster *r = mmr_roster_load(path, NULL, err, len, NULL, 0);
	if (r != NULL) {
		mmr_roster_free(r);
		fail_msg("load succeeded, expected an error");
	}
}

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

static int64_t day(int y, int m, int d)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm);
}

static const mmr_roster_entry *find(const mmr_roster *r, const char *user)
{
	const mmr_roster_entry *e = mmr_roster_find(r, user);
	if (e == NULL)
		fail_msg("user '%s' not in the roster", user);
	return e;
}

static void test_basic(void **state)
{
	(void)state;
	put("user,department,title,manager,start_date,country,timezone,team,privileged\n"
	    "alice,Engineering,Engineer,carol,2024-03-01,US,America/Chicago,backend,no\n"
	    "bob,Engineering,Engineer,carol,2026-01-12,us,America/New_York,backend,\n"
	    "carol,Engineering,Manager,dave,2019-07-15T09:00:00Z,US,America/Chicago,,yes\n"
	    "erin,Sales,Account Executive,frank,,JP,Asia/Tokyo,,TRUE\n"
	    "frank,Sales,Director,,2015-02-28,,,,1\n");
	mmr_roster *r = load_ok(NULL);
	assert_int_equal(mmr_roster_count(r), 5);
	assert_int_equal(mmr_roster_warnings(r), 0);
	assert_string_equal(warn, "");

	const mmr_roster_entry *a = find(r, "alice");
	assert_string_equal(a->user, "alice");
	assert_string_equal(a->department, "Engineering");
	assert_string_equal(a->team, "backend");
	assert_string_equal(a->title, "Engineer");
	assert_string_equal(a->manager, "carol");
	assert_true(a->start_date == day(2024, 3, 1));
	assert_string_equal(a->country, "US");
	assert_string_equal(a->timezone, "America/Chicago");
	assert_non_null(a->tz);
	assert_string_equal(mmr_tz_name(a->tz), "America/Chicago");
	assert_int_equal(mmr_tz_offset(a->tz, day(2026, 7, 1)), -5 * 3600);
	assert_string_equal(a->group_name, "Engineering/backend");
	assert_false(a->privileged);

	const mmr_roster_entry *b = find(r, "bob");
	assert_string_equal(b->country, "US"); /* upper-cased */
	assert_true(b->start_date == day(2026, 1, 12));
	assert_int_equal(b->group, a->group);
	assert_int_equal(a->group_size, 2);
	assert_int_equal(b->group_size, 2);

	const mmr_roster_entry *c = find(r, "carol");
	assert_true(c->start_date == day(2019, 7, 15)); /* the date of a timestamp */
	assert_string_equal(c->team, "");
	assert_string_equal(c->group_name, "Engineering"); /* no team: the department */
	assert_int_not_equal(c->group, a->group);
	assert_int_equal(c->group_size, 1);
	assert_true(c->privileged);
	assert_ptr_equal(c->tz, a->tz); /* one zone object per distinct name */

	const mmr_roster_entry *e = find(r, "erin");
	assert_true(e->start_date == 0); /* empty = unknown */
	assert_int_equal(mmr_tz_offset(e->tz, day(2026, 1, 1)), 9 * 3600);
	assert_true(e->privileged);
	const mmr_roster_entry *f = find(r, "frank");
	assert_string_equal(f->country, "");
	assert_string_equal(f->timezone, "");
	assert_null(f->tz);
	assert_string_equal(f->manager, "");
	assert_int_equal(f->group, e->group);
	assert_int_equal(f->group_size, 2);
	assert_int_not_equal(f->group, 0);
	assert_true(f->privileged);

	assert_null(mmr_roster_find(r, "mallory"));
	assert_null(mmr_roster_find(r, "Alice")); /* keys are normalized: lower case */
	assert_null(mmr_roster_find(r, NULL));
	mmr_roster_free(r);
}

static void test_null_roster(void **state)
{
	(void)state;
	assert_null(mmr_roster_find(NULL, "alice"));
	assert_int_equal(mmr_roster_count(NULL), 0);
	assert_int_equal(mmr_roster_warnings(NULL), 0);
	mmr_roster_free(NULL);
}

/* RFC 4180: quoted commas, doubled quotes, line breaks inside quotes, CRLF, BOM, column order
 * free, extra columns ignored, header case-insensitive. */
static void test_quoting_bom_order(void **state)
{
	(void)state;
	put("\xef\xbb\xbf"
	    "Employee ID,TimeZone,Country,User,Title,Department,Start Date,Manager,Notes\r\n"
	    "1,Europe/Berlin,DE,hans,\"Director, Engineering\",Engineering,2020-01-01,\"\",x\r\n"
	    "2,Asia/Seoul,KR,\"kim\",\"The \"\"Boss\"\"\",\"R&D\",2021-05-05,hans,\"line one\r\n"
	    "line two, still notes\"\r\n"
	    "\r\n"
	    "3,UTC,GB,\" padded \",Analyst,Finance,2022-02-02,hans,\n"
	    "4,UTC,GB,last,Analyst,Finance,2022-02-02,hans,no newline at the end");
	mmr_roster *r = load_ok(NULL);
	assert_int_equal(mmr_roster_count(r), 4);
	const mmr_roster_entry *h = find(r, "hans");
	assert_string_equal(h->title, "Director, Engineering");
	assert_string_equal(h->country, "DE");
	assert_string_equal(h->timezone, "Europe/Berlin");
	assert_string_equal(h->manager, "");
	assert_string_equal(h->team, ""); /* no team column */
	const mmr_roster_entry *k = find(r, "kim");
	assert_string_equal(k->title, "The \"Boss\"");
	assert_string_equal(k->department, "R&D");
	assert_string_equal(k->group_name, "R&D");
	assert_int_equal(mmr_tz_offset(k->tz, day(2026, 7, 1)), 9 * 3600);
	find(r, "padded"); /* blanks around a user are not part of it */
	const mmr_roster_entry *l = find(r, "last");
	assert_string_equal(l->group_name, "Finance");
	assert_int_equal(l->group_size, 2);
	mmr_roster_free(r);
}

/* The row number in errors is the line where the record starts, quoted line breaks
 * included. */
static void test_errors_name_the_line(void **state)
{
	(void)state;
	char err[1024], want[256];
	struct {
		const char *text, *want;
	} cases[] = {
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,Engineer,bob,2024-03-01,USA,UTC\n",
		 ":2: country 'USA' is not an ISO 3166-1 alpha-2 code"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,\"multi\nline\",bob,2024-03-01,US,UTC\n"
		 "bob,Eng,Engineer,bob,2024-03-01,U1,UTC\n",
		 ":4: country 'U1' is not"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,Engineer,bob,03/01/2024,US,UTC\n",
		 ":2: start_date '03/01/2024' is not an ISO 8601 date"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,Engineer,bob,2023-02-29,US,UTC\n",
		 ":2: start_date '2023-02-29'"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,Engineer,bob,2024-13-01,US,UTC\n",
		 ":2: start_date '2024-13-01'"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,Engineer,bob,2024-03-01x,US,UTC\n",
		 ":2: start_date"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,Director, Sales,bob,2024-03-01,US,UTC\n",
		 ":2: 8 fields where the header has 7"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "ok,Eng,x,bob,2024-03-01,US,UTC\n"
		 "alice,Eng,\"unterminated,bob,2024-03-01,US,UTC\n"
		 "bob,Eng,x,bob,2024-03-01,US,UTC\n",
		 ":3: unterminated quote"},
		{"user,department,title,manager,start_date,country,timezone\n"
		 "alice,Eng,\"Dir\"ector,bob,2024-03-01,US,UTC\n",
		 ":2: text after the closing quote"},
		{"user,department,title,manager,start_date,timezone\n"
		 "alice,Eng,Engineer,bob,2024-03-01,UTC\n",
		 ":1: header lacks the required column(s) country"},
		{"login,dept,title,manager,start_date,country,timezone\n",
		 ":1: header lacks the required column(s) user, department"},
		{"user,department,title,manager,start_date,country,timezone,User\n",
		 ":1: column 'user' appears twice"},
		{"", ": empty file"},
		{"\n\n", ": empty file"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(cases[i].text);
		load_fails(err, sizeof(err));
		snprintf(want, sizeof(want), "%s%s", path, cases[i].want);
		assert_contains(err, want);
	}
	/* a missing file */
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/none.csv", dir);
	assert_null(mmr_roster_load(missing, NULL, err, sizeof(err), NULL, 0));
	assert_contains(err, "none.csv: No such file or directory");
	assert_null(mmr_roster_load(dir, NULL, err, sizeof(err), NULL, 0));
	assert_contains(err, "not a regular file");
	assert_null(mmr_roster_load(NULL, NULL, err, sizeof(err), NULL, 0));
}

static void test_warnings(void **state)
{
	(void)state;
	put("user,department,title,manager,start_date,country,timezone\n"
	    "alice,Eng,Engineer,bob,2024-03-01,US,America/Chicgo\n"
	    "bob,Eng,Engineer,,2024-03-01,US,America/Chicgo\n"
	    "carol,Eng,Engineer,bob,2024-03-01,US,../../etc/passwd\n"
	    "alice,Ops,SRE,bob,2025-01-01,DE,Europe/Berlin\n"
	    ",Eng,Nobody,bob,2024-03-01,US,UTC\n");
	mmr_roster *r = load_ok(NULL);
	assert_int_equal(mmr_roster_count(r), 3);
	/* two rows with the unknown zone, one bad name, one duplicate, one empty user */
	assert_int_equal(mmr_roster_warnings(r), 5);
	assert_contains(warn, "roster.csv:2: ");
	assert_contains(warn, "America/Chicgo");
	assert_null(find(r, "bob")->tz);
	assert_string_equal(find(r, "bob")->timezone, "America/Chicgo");
	assert_null(find(r, "carol")->tz);
	/* duplicate: the last row wins */
	const mmr_roster_entry *a = find(r, "alice");
	assert_string_equal(a->department, "Ops");
	assert_string_equal(a->country, "DE");
	assert_non_null(a->tz);
	assert_int_equal(a->group_size, 1);
	assert_int_equal(find(r, "bob")->group_size, 2); /* alice left Eng */
	mmr_roster_free(r);

	/* the duplicate is described when it comes first */
	put("user,department,title,manager,start_date,country,timezone\n"
	    "x,Eng,a,b,,,\n"
	    "X,Eng,a,b,,,\n");
	r = load_ok(NULL);
	assert_int_equal(mmr_roster_warnings(r), 1);
	assert_contains(warn, ":3: user 'x' appears again");
	mmr_roster_free(r);

	/* warn may be NULL */
	char err[256];
	r = mmr_roster_load(path, NULL, err, sizeof(err), NULL, 0);
	assert_non_null(r);
	mmr_roster_free(r);

	/* not UTF-8 (Latin-1): replaced and warned, not fatal */
	put("user,department,title,manager,start_date,country,timezone\n"
	    "jos\xe9,Ing\xe9nierie,a,b,,,\n");
	r = load_ok(NULL);
	assert_int_equal(mmr_roster_warnings(r), 1);
	assert_contains(warn, ":2: not valid UTF-8");
	assert_non_null(find(r, "jos?"));
	assert_string_equal(find(r, "jos?")->department, "Ing?nierie");
	mmr_roster_free(r);

	/* privileged values that are not booleans */
	put("user,department,title,manager,start_date,country,timezone,privileged\n"
	    "a,Eng,x,y,,,,Y\n"
	    "b,Eng,x,y,,,,admin\n"
	    "c,Eng,x,y,,,,N\n");
	r = load_ok(NULL);
	assert_true(find(r, "a")->privileged);
	assert_false(find(r, "b")->privileged);
	assert_false(find(r, "c")->privileged);
	assert_int_equal(mmr_roster_warnings(r), 1);
	assert_contains(warn, ":3: privileged 'admin'");
	mmr_roster_free(r);
}

/* Keys are the engine's keys: mmr_user_normalize with the module's settings. */
static void test_user_normalization(void **state)
{
	(void)state;
	put("user,department,title,manager,start_date,country,timezone\n"
	    "CORP\\Alice,Eng,a,b,,,\n"
	    "Bob@Corp.Example,Eng,a,b,,,\n"
	    "  carol  ,Eng,a,b,,,\n");
	mmr_roster *r = load_ok(NULL); /* default: strip the domain */
	assert_int_equal(mmr_roster_count(r), 3);
	assert_string_equal(find(r, "alice")->user, "alice");
	find(r, "bob");
	find(r, "carol");
	mmr_roster_free(r);

	mmr_user_norm keep = {.strip_domain = false};
	snprintf(keep.default_domain, sizeof(keep.default_domain), "corp.example");
	r = load_ok(&keep);
	char key[MMR_USER_MAX];
	bool cut;
	mmr_user_normalize("CORP\\Alice", &keep, key, sizeof(key), &cut);
	find(r, key);
	find(r, "bob@corp.example");
	mmr_user_normalize("carol", &keep, key, sizeof(key), &cut);
	assert_string_equal(key, "carol@corp.example");
	find(r, key);
	assert_null(mmr_roster_find(r, "alice"));
	mmr_roster_free(r);
}

/* Peer groups: equal within a team, different across teams and departments; case-insensitive
 * names; sizes counted after duplicates are resolved. */
static void test_groups(void **state)
{
	(void)state;
	put("user,department,title,manager,start_date,country,timezone,team\n"
	    "a1,Engineering,x,m,,,,backend-1\n"
	    "a2,Engineering,x,m,,,,backend-1\n"
	    "a3,engineering,x,m,,,,Backend-1\n"
	    "b1,Engineering,x,m,,,,backend-2\n"
	    "b2,Engineering,x,m,,,,backend-2\n"
	    "c1,Engineering,x,m,,,,\n"
	    "d1,Sales,x,m,,,,backend-1\n"
	    "e1,,x,m,,,,\n");
	mmr_roster *r = load_ok(NULL);
	const mmr_roster_entry *a1 = find(r, "a1"), *a2 = find(r, "a2"), *a3 = find(r, "a3");
	const mmr_roster_entry *b1 = find(r, "b1"), *c1 = find(r, "c1"), *d1 = find(r, "d1");
	assert_int_equal(a1->group, a2->group);
	assert_int_equal(a1->group, a3->group);
	assert_int_equal(a1->group_size, 3);
	assert_string_equal(a3->group_name, "Engineering/backend-1"); /* first spelling */
	assert_int_not_equal(a1->group, b1->group);
	assert_int_equal(b1->group_size, 2);
	assert_int_not_equal(a1->group, c1->group);
	assert_int_equal(c1->group_size, 1);
	assert_int_not_equal(a1->group, d1->group); /* same team name, other department */
	assert_string_equal(d1->group_name, "Sales/backend-1");
	assert_int_not_equal(find(r, "e1")->group, 0);
	mmr_roster_free(r);
}

static void test_limits(void **state)
{
	(void)state;
	char err[1024];
	/* a record longer than 64 KiB */
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs("user,department,title,manager,start_date,country,timezone\n"
	      "ok,Eng,x,y,,,\n"
	      "long,Eng,\"",
	      f);
	for (int i = 0; i < 70000; i++)
		fputc('t', f);
	fputs("\",y,,,\n", f);
	fclose(f);
	load_fails(err, sizeof(err));
	assert_contains(err, ":3: record longer than 65536 bytes");

	/* a NUL byte */
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("user,department,title,manager,start_date,country,timezone\n", f);
	fwrite("a,E\0g,x,y,,,\n", 1, 13, f);
	fclose(f);
	load_fails(err, sizeof(err));
	assert_contains(err, ":2: NUL byte");

	/* many rows load, and the table finds every one */
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("user,department,title,manager,start_date,country,timezone,team\n", f);
	for (int i = 0; i < 50000; i++)
		fprintf(f, "user%d,Dept%d,Engineer,boss,2024-01-01,US,America/Chicago,t%d\n", i,
			i % 7, i % 50);
	fclose(f);
	mmr_roster *r = load_ok(NULL);
	assert_int_equal(mmr_roster_count(r), 50000);
	for (int i = 0; i < 50000; i += 997) {
		char u[32];
		snprintf(u, sizeof(u), "user%d", i);
		const mmr_roster_entry *e = find(r, u);
		assert_int_equal(e->group_size, 50000 / 350 + (i % 350 < 50000 % 350));
	}
	assert_ptr_equal(find(r, "user0")->tz, find(r, "user49999")->tz);
	/* interned: one string for a department however many rows name it */
	assert_ptr_equal(find(r, "user0")->department, find(r, "user7")->department);
	mmr_roster_free(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, mk_dir, rm_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_basic),         T(test_null_roster),        T(test_quoting_bom_order),
		T(test_errors_name_the_line), T(test_warnings),    T(test_user_normalization),
		T(test_groups),        T(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
