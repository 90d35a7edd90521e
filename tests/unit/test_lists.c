/* The list files of lists.dir (enrich/lists.c, docs/lists.md): every list kind, the one file
 * format (comments, blanks, CRLF, BOM), errors that name file and line, the size and
 * encoding bounds, and the lookups (CIDR ranges, AS numbers, countries, users, rules,
 * remote-access tool names). */
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

#include "enrich/lists.h"

static char dir[64];

static int mk_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mmr-lists-test-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int rm_dir(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		fail_msg("cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

static mmr_ip ip(const char *s)
{
	mmr_ip a;
	if (mmr_ip_parse(s, &a) != 0)
		fail_msg("bad test address %s", s);
	return a;
}

static bool has(const mmr_lists *l, mmr_list_kind k, const char *addr)
{
	mmr_ip a = ip(addr);
	return mmr_lists_has_ip(l, k, &a);
}

static mmr_lists *load_ok(void)
{
	char err[1024] = "";
	mmr_lists *l = mmr_lists_load_dir(dir, err, sizeof(err));
	if (l == NULL)
		fail_msg("load: %s", err);
	return l;
}

/* Loads and expects failure; err receives the message. */
static void load_fails(char *err, size_t len)
{
	err[0] = '\0';
	mmr_lists *l = mmr_lists_load_dir(dir, err, len);
	if (l != NULL) {
		mmr_lists_free(l);
		fail_msg("load succeeded, expected an error");
	}
}

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

static void test_file_names(void **state)
{
	(void)state;
	assert_string_equal(mmr_list_file_name(MMR_LIST_CORPORATE), "corporate-networks.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_HOSTING), "hosting.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_COMMERCIAL_VPN), "commercial-vpn.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_WATCH_COUNTRIES), "watch-countries.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_REMOTE_TOOLS), "remote-access-tools.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_ALLOW_USERS), "allow-users.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_ALLOW_NETWORKS), "allow-networks.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_ALLOW_RULES), "allow-rules.txt");
	assert_string_equal(mmr_list_file_name(MMR_LIST_COUNT_), "");
}

static void test_every_kind(void **state)
{
	(void)state;
	put("corporate-networks.txt", "# office NAT and VPN pools\n"
				      "203.0.113.0/28     # NYC HQ NAT egress\n"
				      "\n"
				      "   10.80.0.0/16\t\n"
				      "2001:db8:100::/48\n"
				      "198.51.100.7\n");
	put("hosting.txt", "AS64500\n"
			   "as64501 # lower case\n"
			   "64502\n"
			   "192.0.2.0/24\n"
			   "2001:db8:ffff::/64\n"
			   "64500   # duplicate\n");
	put("commercial-vpn.txt", "AS9009\n100.64.10.0/24\n");
	put("watch-countries.txt", "KP\ncn\n Ru \n");
	put("remote-access-tools.txt", "AnyDesk\nTeamViewer  # comment\nchromoting\n");
	put("allow-users.txt", "svc-backup\nAlice\n");
	put("allow-networks.txt", "198.18.0.0/15\n");
	put("allow-rules.txt", "network.hosting\ntime.rare_hour  bob\n");
	mmr_lists *l = load_ok();

	assert_int_equal(mmr_lists_count(l, MMR_LIST_CORPORATE), 4);
	assert_true(has(l, MMR_LIST_CORPORATE, "203.0.113.5"));
	assert_true(has(l, MMR_LIST_CORPORATE, "203.0.113.15"));
	assert_false(has(l, MMR_LIST_CORPORATE, "203.0.113.16"));
	assert_true(has(l, MMR_LIST_CORPORATE, "10.80.255.255"));
	assert_false(has(l, MMR_LIST_CORPORATE, "10.81.0.0"));
	assert_true(has(l, MMR_LIST_CORPORATE, "2001:db8:100:ffff::1"));
	assert_false(has(l, MMR_LIST_CORPORATE, "2001:db8:101::1"));
	assert_true(has(l, MMR_LIST_CORPORATE, "198.51.100.7"));
	assert_false(has(l, MMR_LIST_CORPORATE, "198.51.100.8"));
	assert_true(has(l, MMR_LIST_CORPORATE, "::ffff:203.0.113.1")); /* mapped = IPv4 */

	/* hosting: 3 distinct AS numbers + 2 networks */
	assert_int_equal(mmr_lists_count(l, MMR_LIST_HOSTING), 5);
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 64500));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 64501));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 64502));
	assert_false(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 64503));
	assert_false(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 0));
	assert_false(mmr_lists_has_asn(l, MMR_LIST_COMMERCIAL_VPN, 64500));
	assert_true(has(l, MMR_LIST_HOSTING, "192.0.2.200"));
	assert_true(has(l, MMR_LIST_HOSTING, "2001:db8:ffff::abcd"));
	assert_false(has(l, MMR_LIST_HOSTING, "2001:db8:ffff:1::1"));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_COMMERCIAL_VPN, 9009));
	assert_true(has(l, MMR_LIST_COMMERCIAL_VPN, "100.64.10.9"));
	assert_false(has(l, MMR_LIST_HOSTING, "100.64.10.9"));
	/* kinds without AS numbers or networks answer false */
	assert_false(mmr_lists_has_asn(l, MMR_LIST_CORPORATE, 64500));
	assert_false(has(l, MMR_LIST_WATCH_COUNTRIES, "192.0.2.1"));

	assert_int_equal(mmr_lists_count(l, MMR_LIST_WATCH_COUNTRIES), 3);
	assert_true(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "KP"));
	assert_true(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "CN"));
	assert_true(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "ru"));
	assert_false(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "US"));
	assert_false(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, ""));
	assert_false(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "KPX"));
	assert_false(mmr_lists_has_country(l, MMR_LIST_HOSTING, "KP"));

	assert_int_equal(mmr_lists_count(l, MMR_LIST_REMOTE_TOOLS), 3);
	assert_int_equal(mmr_lists_count(l, MMR_LIST_ALLOW_USERS), 2);
	assert_true(mmr_lists_has_user(l, "alice"));
	assert_true(mmr_lists_has_user(l, "ALICE"));
	assert_true(mmr_lists_has_user(l, "svc-backup"));
	assert_false(mmr_lists_has_user(l, "alice2"));
	assert_false(mmr_lists_has_user(l, "alic"));
	assert_true(has(l, MMR_LIST_ALLOW_NETWORKS, "198.19.255.255"));
	assert_false(has(l, MMR_LIST_ALLOW_NETWORKS, "198.20.0.0"));

	assert_int_equal(mmr_lists_count(l, MMR_LIST_ALLOW_RULES), 2);
	mmr_lists_free(l);
}

static void test_allow_rules(void **state)
{
	(void)state;
	put("allow-rules.txt", "network.hosting            # everybody\n"
			       "time.rare_hour bob         # bob only\n"
			       "Time.Rare_Hour   Carol\n"
			       "network.first_seen\tdave\n");
	mmr_lists *l = load_ok();
	assert_true(mmr_lists_allows_rule(l, "network.hosting", "anyone"));
	assert_true(mmr_lists_allows_rule(l, "network.hosting", NULL));
	assert_true(mmr_lists_allows_rule(l, "time.rare_hour", "bob"));
	assert_true(mmr_lists_allows_rule(l, "time.rare_hour", "carol"));
	assert_true(mmr_lists_allows_rule(l, "TIME.RARE_HOUR", "Bob"));
	assert_false(mmr_lists_allows_rule(l, "time.rare_hour", "alice"));
	assert_false(mmr_lists_allows_rule(l, "time.rare_hour", NULL));
	assert_false(mmr_lists_allows_rule(l, "time.rare_hour", ""));
	assert_true(mmr_lists_allows_rule(l, "network.first_seen", "dave"));
	assert_false(mmr_lists_allows_rule(l, "network.first_seen", "bob"));
	assert_false(mmr_lists_allows_rule(l, "network.shared_source_ip", "bob"));
	mmr_lists_free(l);

	char err[1024];
	put("allow-rules.txt", "network.hosting\ntime.rare_hour bob extra\n");
	load_fails(err, sizeof(err));
	assert_contains(err, "allow-rules.txt:2: ");
	assert_contains(err, "'rule_id user'");
	put("allow-rules.txt", "network/hosting\n");
	load_fails(err, sizeof(err));
	assert_contains(err, "allow-rules.txt:1: not a rule id");
}

static void test_remote_tools(void **state)
{
	(void)state;
	put("remote-access-tools.txt", "AnyDesk\nTeamViewer\nremotedesktop.google.com\nPiKVM\n");
	mmr_lists *l = load_ok();
	const char *t = mmr_lists_remote_tool(l, "Mozilla/5.0 ANYDESK/8.0.4 (Windows)");
	assert_non_null(t);
	assert_string_equal(t, "anydesk"); /* the entry, lower-cased */
	assert_string_equal(mmr_lists_remote_tool(l, "host pikvm-lab-3"), "pikvm");
	assert_string_equal(mmr_lists_remote_tool(l, "https://RemoteDesktop.Google.com/access"),
			    "remotedesktop.google.com");
	assert_null(mmr_lists_remote_tool(l, "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"));
	assert_null(mmr_lists_remote_tool(l, "Team Viewer")); /* substring, not fuzzy */
	assert_null(mmr_lists_remote_tool(l, ""));
	assert_null(mmr_lists_remote_tool(l, NULL));
	/* the first name from the start of the text wins */
	assert_string_equal(mmr_lists_remote_tool(l, "teamviewer via anydesk"), "teamviewer");
	assert_string_equal(mmr_lists_remote_tool(l, "anydesk via teamviewer"), "anydesk");
	/* at the very end, and as the whole text */
	assert_string_equal(mmr_lists_remote_tool(l, "x pikvm"), "pikvm");
	assert_string_equal(mmr_lists_remote_tool(l, "PIKVM"), "pikvm");
	assert_null(mmr_lists_remote_tool(l, "pikv"));
	/* texts longer than any event field still work */
	char longtext[3000];
	memset(longtext, 'x', sizeof(longtext));
	memcpy(longtext + 2500, "TeAmViEwEr", 10);
	longtext[sizeof(longtext) - 1] = '\0';
	assert_string_equal(mmr_lists_remote_tool(l, longtext), "teamviewer");
	longtext[2500] = 'x';
	assert_null(mmr_lists_remote_tool(l, longtext));
	mmr_lists_free(l);

	char err[1024];
	put("remote-access-tools.txt", "AnyDesk\nkv\n");
	load_fails(err, sizeof(err));
	assert_contains(err, "remote-access-tools.txt:2: 'kv' is too short");
}

static void test_crlf_bom_comments(void **state)
{
	(void)state;
	put("watch-countries.txt", "\xef\xbb\xbfKP\r\n# comment\r\n\r\nCN # China\r\n   \r\nRU");
	put("corporate-networks.txt", "203.0.113.0/24\r\n#203.0.114.0/24\r\n");
	mmr_lists *l = load_ok();
	assert_int_equal(mmr_lists_count(l, MMR_LIST_WATCH_COUNTRIES), 3);
	assert_true(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "KP"));
	assert_true(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "RU"));
	assert_int_equal(mmr_lists_count(l, MMR_LIST_CORPORATE), 1);
	assert_false(has(l, MMR_LIST_CORPORATE, "203.0.114.1"));
	mmr_lists_free(l);
}

static void test_missing_files_and_dir(void **state)
{
	(void)state;
	mmr_lists *l = load_ok(); /* empty directory: every list empty */
	for (int k = 0; k < MMR_LIST_COUNT_; k++)
		assert_int_equal(mmr_lists_count(l, (mmr_list_kind)k), 0);
	assert_false(has(l, MMR_LIST_CORPORATE, "10.0.0.1"));
	assert_null(mmr_lists_remote_tool(l, "anydesk"));
	mmr_lists_free(l);

	char err[1024] = "", missing[128];
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	assert_null(mmr_lists_load_dir(missing, err, sizeof(err)));
	assert_contains(err, missing);
	assert_contains(err, "No such file or directory");
	put("plain", "x\n");
	snprintf(missing, sizeof(missing), "%s/plain", dir);
	assert_null(mmr_lists_load_dir(missing, err, sizeof(err)));
	assert_contains(err, "not a directory");
	assert_null(mmr_lists_load_dir(NULL, err, sizeof(err)));
	assert_null(mmr_lists_load_dir("", err, sizeof(err)));
}

static void test_unreadable_file(void **state)
{
	(void)state;
	char path[256], err[1024];
	/* a file that cannot be opened for a reason other than absence: a symlink loop
	 * (works as root too) */
	snprintf(path, sizeof(path), "%s/commercial-vpn.txt", dir);
	assert_int_equal(symlink("commercial-vpn.txt", path), 0);
	load_fails(err, sizeof(err));
	assert_contains(err, "commercial-vpn.txt: Too many levels of symbolic links");
	unlink(path);
	if (geteuid() == 0)
		return; /* root reads everything: no permission test */
	put("hosting.txt", "AS64500\n");
	snprintf(path, sizeof(path), "%s/hosting.txt", dir);
	chmod(path, 0);
	load_fails(err, sizeof(err));
	assert_contains(err, "hosting.txt: Permission denied");
}

static void test_file_is_directory(void **state)
{
	(void)state;
	char path[256], err[1024];
	snprintf(path, sizeof(path), "%s/hosting.txt", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	load_fails(err, sizeof(err));
	assert_contains(err, "hosting.txt");
}

/* Every bad entry names file and line and shows the entry. */
static void test_bad_entries(void **state)
{
	(void)state;
	struct {
		const char *file, *text, *want;
	} cases[] = {
		{"corporate-networks.txt", "10.0.0.0/8\n\n10.0.0.0/33\n",
		 "corporate-networks.txt:3: '10.0.0.0/33' has a bad prefix length"},
		{"corporate-networks.txt", "# c\nAS64500\n",
		 "corporate-networks.txt:2: 'AS64500' is not a network"},
		{"corporate-networks.txt", "10.0.0.0/\n", ":1: '10.0.0.0/' has a bad prefix"},
		{"corporate-networks.txt", "10.0.0.0/-1\n", ":1: '10.0.0.0/-1' has a bad prefix"},
		{"corporate-networks.txt", "::ffff:10.0.0.0/80\n",
		 "IPv4-mapped prefix must be >= 96"},
		{"corporate-networks.txt", "10.0.0.0/8 10.1.0.0/16\n",
		 ":1: one entry per line; text after it must follow a '#' ('10.0.0.0/8 "
		 "10.1.0.0/16')"},
		{"hosting.txt", "AS64500\nHetzner\n",
		 "hosting.txt:2: 'Hetzner' is not a CIDR, an address or an AS number"},
		{"hosting.txt", "AS0\n", "hosting.txt:1: 'AS0' is not an AS number"},
		{"hosting.txt", "4294967296\n", "hosting.txt:1: '4294967296' is not an AS number"},
		{"hosting.txt", "64500 Hetzner Online\n", "hosting.txt:1: one entry per line"},
		{"commercial-vpn.txt", "AS\n", "commercial-vpn.txt:1: 'AS' is not a CIDR"},
		{"watch-countries.txt", "KP\nPRK\n",
		 "watch-countries.txt:2: 'PRK' is not an ISO 3166-1 alpha-2 country code"},
		{"watch-countries.txt", "K1\n", ":1: 'K1' is not an ISO 3166-1 alpha-2"},
		{"watch-countries.txt", "North Korea\n",
		 "watch-countries.txt:1: one entry per line"},
		{"allow-networks.txt", "bob\n", "allow-networks.txt:1: 'bob' is not a network"},
		{"allow-users.txt", "alice bob\n", "allow-users.txt:1: one entry per line"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[1024], path[256];
		put(cases[i].file, cases[i].text);
		load_fails(err, sizeof(err));
		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].file);
		assert_contains(err, path);
		assert_contains(err, cases[i].want);
		put(cases[i].file, ""); /* valid again for the next case */
	}
}

static void test_bounds_and_encoding(void **state)
{
	(void)state;
	char err[1024];
	/* a long line */
	size_t n = 5000;
	char *big = malloc(n + 8);
	assert_non_null(big);
	memset(big, 'a', n);
	strcpy(big + n, "\nKP\n");
	put("watch-countries.txt", "KP\n");
	put("allow-users.txt", big);
	load_fails(err, sizeof(err));
	assert_contains(err, "allow-users.txt:1: line longer than 4096 bytes");
	/* a long comment is still a long line; a line just under the cap is fine */
	memset(big, ' ', 4000);
	strcpy(big + 4000, "alice\n");
	put("allow-users.txt", big);
	mmr_lists *l = load_ok();
	assert_true(mmr_lists_has_user(l, "alice"));
	mmr_lists_free(l);
	free(big);
	/* an over-long user key cannot match an event's key: refused */
	char user[200];
	memset(user, 'u', 150);
	strcpy(user + 150, "\n");
	put("allow-users.txt", user);
	load_fails(err, sizeof(err));
	assert_contains(err, "allow-users.txt:1: user longer than 127 bytes");
	put("allow-users.txt", "");

	/* not UTF-8 (Latin-1 e-acute), named by line */
	put("allow-users.txt", "alice\njos\xe9\n");
	load_fails(err, sizeof(err));
	assert_contains(err, "allow-users.txt:2: not valid UTF-8");
	/* overlong encoding of '/' and a lone surrogate are not UTF-8 either */
	put("allow-users.txt", "\xc0\xaf\n");
	load_fails(err, sizeof(err));
	assert_contains(err, ":1: not valid UTF-8");
	put("allow-users.txt", "x\xed\xa0\x80y\n");
	load_fails(err, sizeof(err));
	assert_contains(err, ":1: not valid UTF-8");
	put("allow-users.txt", "trunc\xe2\x82\n");
	load_fails(err, sizeof(err));
	assert_contains(err, ":1: not valid UTF-8");
	/* valid UTF-8 is fine */
	put("allow-users.txt", "jos\xc3\xa9\n");
	l = load_ok();
	assert_true(mmr_lists_has_user(l, "jos\xc3\xa9"));
	mmr_lists_free(l);

	/* a NUL byte */
	char path[256];
	snprintf(path, sizeof(path), "%s/allow-users.txt", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("alice\nbo\0b\n", 1, 11, f);
	fclose(f);
	load_fails(err, sizeof(err));
	assert_contains(err, "allow-users.txt:2: NUL byte");
	put("allow-users.txt", "");
}

static void test_entry_limit(void **state)
{
	(void)state;
	char path[256], err[1024];
	snprintf(path, sizeof(path), "%s/hosting.txt", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 1; i <= 1000001; i++)
		fprintf(f, "%u\n", i);
	fclose(f);
	load_fails(err, sizeof(err));
	assert_contains(err, "hosting.txt:1000001: more than 1000000 entries");
	/* one less loads, and lookups are binary searches over the lot */
	assert_int_equal(truncate(path, 0), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 1000000; i >= 1; i--) /* descending: sorted at the end */
		fprintf(f, "AS%u\n", i * 3);
	fclose(f);
	mmr_lists *l = load_ok();
	assert_int_equal(mmr_lists_count(l, MMR_LIST_HOSTING), 1000000);
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 3));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 2999997));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 3000000));
	assert_false(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 3000001));
	assert_false(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 1));
	mmr_lists_free(l);
}

/* Overlapping, nested, adjacent and unsorted networks, checked against a brute-force scan. */
static void test_network_ranges(void **state)
{
	(void)state;
	put("hosting.txt", "10.0.0.0/8\n"
			   "10.1.0.0/16\n"     /* nested */
			   "192.0.2.128/25\n"
			   "192.0.2.0/25\n"    /* adjacent: merged with the one above */
			   "0.0.0.0/32\n"
			   "255.255.255.255\n" /* top of the space */
			   "172.16.5.0/24\n"
			   "172.16.0.0/20\n"   /* overlaps the one above */
			   "2001:db8::/32\n"
			   "2001:db8:1::/48\n"
			   "2001:db9::1\n"
			   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120\n"
			   "::/128\n"
			   "::ffff:198.51.100.0/120\n");
	mmr_lists *l = load_ok();
	assert_int_equal(mmr_lists_count(l, MMR_LIST_HOSTING), 14);
	const char *in[] = {
		"10.0.0.0", "10.255.255.255", "10.1.2.3", "192.0.2.0", "192.0.2.255",
		"192.0.2.127", "0.0.0.0", "255.255.255.255", "172.16.5.255", "172.16.15.255",
		"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::", "198.51.100.99",
	};
	const char *out[] = {
		"9.255.255.255", "11.0.0.0", "192.0.1.255", "192.0.3.0", "0.0.0.1",
		"255.255.255.254", "172.16.16.0", "172.15.255.255",
		"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", "2001:db9::2",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff", "::1", "198.51.101.0",
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		if (!has(l, MMR_LIST_HOSTING, in[i]))
			fail_msg("%s should be listed", in[i]);
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		if (has(l, MMR_LIST_HOSTING, out[i]))
			fail_msg("%s should not be listed", out[i]);
	mmr_ip none = {0};
	assert_false(mmr_lists_has_ip(l, MMR_LIST_HOSTING, &none));
	assert_false(mmr_lists_has_ip(l, MMR_LIST_HOSTING, NULL));
	mmr_lists_free(l);

	/* random networks against a brute-force prefix match */
	uint64_t r = 88172645463325252ull;
	mmr_lists *m = mmr_lists_new_empty();
	assert_non_null(m);
	uint32_t nets[300];
	int plen[300];
	for (int i = 0; i < 300; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		plen[i] = 8 + (int)(r % 25);
		nets[i] = (uint32_t)(r >> 32) &
			  (plen[i] == 32 ? 0xffffffffu : ~(0xffffffffu >> plen[i]));
		nets[i] &= 0x0fffffffu; /* keep them in 0.0.0.0/4 so that they overlap */
		char cidr[32], err[256];
		snprintf(cidr, sizeof(cidr), "%u.%u.%u.%u/%d", nets[i] >> 24, (nets[i] >> 16) & 255,
			 (nets[i] >> 8) & 255, nets[i] & 255, plen[i]);
		assert_int_equal(mmr_lists_add(m, MMR_LIST_CORPORATE, cidr, err, sizeof(err)), 0);
	}
	for (int k = 0; k < 20000; k++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		uint32_t a = (uint32_t)r & 0x0fffffffu;
		bool want = false;
		for (int i = 0; i < 300 && !want; i++) {
			uint32_t mask = plen[i] == 32 ? 0xffffffffu : ~(0xffffffffu >> plen[i]);
			want = (a & mask) == nets[i];
		}
		mmr_ip x = {.family = 4, .b = {(uint8_t)(a >> 24), (uint8_t)(a >> 16),
					       (uint8_t)(a >> 8), (uint8_t)a}};
		if (mmr_lists_has_ip(m, MMR_LIST_CORPORATE, &x) != want)
			fail_msg("address %08x: expected %d", a, want);
	}
	mmr_lists_free(m);
}

static void test_add_and_null(void **state)
{
	(void)state;
	char err[256] = "";
	mmr_lists *l = mmr_lists_new_empty();
	assert_non_null(l);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_CORPORATE, " 203.0.113.0/24 ", err, sizeof(err)),
			 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_HOSTING, "AS64500", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_HOSTING, "AS1", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_WATCH_COUNTRIES, "kp", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_WATCH_COUNTRIES, "AF", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_ALLOW_USERS, "Zed", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_ALLOW_USERS, "amy", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_ALLOW_RULES, "x.y amy", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_ALLOW_RULES, "a.b", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_REMOTE_TOOLS, "RustDesk", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_add(l, MMR_LIST_REMOTE_TOOLS, "rustdesk", err, sizeof(err)), 0);
	assert_int_equal(mmr_lists_count(l, MMR_LIST_REMOTE_TOOLS), 1);
	/* sorted after every add: lookups work at once */
	assert_true(has(l, MMR_LIST_CORPORATE, "203.0.113.9"));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 1));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 64500));
	assert_true(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "KP"));
	assert_true(mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, "AF"));
	assert_true(mmr_lists_has_user(l, "zed"));
	assert_true(mmr_lists_has_user(l, "amy"));
	assert_true(mmr_lists_allows_rule(l, "x.y", "amy"));
	assert_true(mmr_lists_allows_rule(l, "a.b", "zed"));
	assert_false(mmr_lists_allows_rule(l, "x.y", "zed"));
	assert_string_equal(mmr_lists_remote_tool(l, "RUSTDESK client"), "rustdesk");

	assert_int_equal(mmr_lists_add(l, MMR_LIST_HOSTING, "nope", err, sizeof(err)), -1);
	assert_contains(err, "'nope' is not a CIDR, an address or an AS number");
	assert_int_equal(mmr_lists_add(l, MMR_LIST_HOSTING, "   ", err, sizeof(err)), -1);
	assert_contains(err, "empty entry");
	assert_int_equal(mmr_lists_add(l, MMR_LIST_COUNT_, "x", err, sizeof(err)), -1);
	assert_int_equal(mmr_lists_add(NULL, MMR_LIST_HOSTING, "1", err, sizeof(err)), -1);
	/* a long entry is shortened in the message */
	char longe[300];
	memset(longe, 'z', sizeof(longe) - 1);
	longe[sizeof(longe) - 1] = '\0';
	assert_int_equal(mmr_lists_add(l, MMR_LIST_WATCH_COUNTRIES, longe, err, sizeof(err)), -1);
	assert_contains(err, "zzz...'");
	assert_true(strlen(err) < 150);
	mmr_lists_free(l);

	/* NULL lists are empty lists */
	mmr_ip a = ip("10.0.0.1");
	assert_false(mmr_lists_has_ip(NULL, MMR_LIST_CORPORATE, &a));
	assert_false(mmr_lists_has_asn(NULL, MMR_LIST_HOSTING, 1));
	assert_false(mmr_lists_has_country(NULL, MMR_LIST_WATCH_COUNTRIES, "KP"));
	assert_false(mmr_lists_has_user(NULL, "alice"));
	assert_false(mmr_lists_allows_rule(NULL, "a.b", "alice"));
	assert_null(mmr_lists_remote_tool(NULL, "anydesk"));
	assert_int_equal(mmr_lists_count(NULL, MMR_LIST_HOSTING), 0);
	mmr_lists_free(NULL);
}

/* The simulator's hosting-asns.txt is read into hosting, next to hosting.txt. */
static void test_deprecated_hosting_asns(void **state)
{
	(void)state;
	put("hosting.txt", "AS64500\n");
	put("hosting-asns.txt", "# from the simulator\n64903\n");
	mmr_lists *l = load_ok();
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 64500));
	assert_true(mmr_lists_has_asn(l, MMR_LIST_HOSTING, 64903));
	assert_false(mmr_lists_has_asn(l, MMR_LIST_COMMERCIAL_VPN, 64903));
	mmr_lists_free(l);
	char err[1024];
	put("hosting-asns.txt", "64903\nbad\n");
	load_fails(err, sizeof(err));
	assert_contains(err, "hosting-asns.txt:2: 'bad'");
}

/* The shipped default list loads (contrib/lists/remote-access-tools.txt). */
static void test_shipped_list(void **state)
{
	(void)state;
	const char *src = getenv("MMRISK_SRCDIR");
	char path[512], cmd[1200];
	if (src && *src) {
		snprintf(path, sizeof(path), "%s/contrib/lists/remote-access-tools.txt", src);
	} else { /* not run by make check: relative to this source file */
		const char *f = __FILE__, *slash = strrchr(f, '/');
		snprintf(path, sizeof(path), "%.*s/../../contrib/lists/remote-access-tools.txt",
			 slash ? (int)(slash - f) : 1, slash ? f : ".");
	}
	if (access(path, R_OK) != 0)
		fail_msg("cannot read %s", path);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/'", path, dir);
	assert_int_equal(system(cmd), 0);
	mmr_lists *l = load_ok();
	assert_true(mmr_lists_count(l, MMR_LIST_REMOTE_TOOLS) >= 20);
	assert_string_equal(mmr_lists_remote_tool(l, "AnyDesk.exe"), "anydesk");
	assert_non_null(mmr_lists_remote_tool(l, "Mozilla/5.0 TeamViewer/15.5"));
	assert_non_null(mmr_lists_remote_tool(l, "pikvm"));
	assert_non_null(mmr_lists_remote_tool(l, "remotedesktop.google.com"));
	/* ordinary clients do not match */
	const char *clean[] = {
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
		"Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
		"Gecko) Version/17.5 Safari/605.1.15",
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17726; Pro)",
		"Cisco AnyConnect VPN Agent for Windows 4.10.07061",
		"PAN GlobalProtect/6.2.1-23",
		"OpenSSH_9.6p1",
		"okta-devices-device-sdk/1.0 Okta Verify/9.21.0",
		"laptop-nyc-0142",
		"WIN-DESKTOP-ALICE",
		"MacBook-Pro-de-Bob.local",
	};
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		const char *t = mmr_lists_remote_tool(l, clean[i]);
		if (t != NULL)
			fail_msg("'%s' matched tool '%s'", clean[i], t);
	}
	mmr_lists_free(l);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, mk_dir, rm_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_file_names),
		T(test_every_kind),
		T(test_allow_rules),
		T(test_remote_tools),
		T(test_crlf_bom_comments),
		T(test_missing_files_and_dir),
		T(test_unreadable_file),
		T(test_file_is_directory),
		T(test_bad_entries),
		T(test_bounds_and_encoding),
		T(test_entry_limit),
		T(test_network_ranges),
		T(test_add_and_null),
		T(test_deprecated_hosting_asns),
		T(test_shipped_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
