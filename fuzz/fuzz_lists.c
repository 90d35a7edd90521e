/* fuzz_lists: the text of one list file (docs/lists.md, engine/enrich/lists.h) as every list
 * kind.
 *
 * Input: the bytes of a list file. For each of the eight lists, and for the simulator's older
 * hosting-asns.txt, the bytes are written under that file name into an otherwise empty
 * directory and loaded with mmr_lists_load_dir() (as lists.dir is); then the first
 * MAX_INLINE entries go through mmr_lists_add() (as the module's inline parameters do) into an
 * empty list of each kind. Both lists are then asked about every entry that was accepted, and
 * about fixed probes. Checks, beyond ASan/UBSan: a failed load or add leaves a message; what
 * a list accepted it also finds:
 *   network lists   an address, or the address part of a CIDR, is inside the list;
 *   AS numbers      "AS123" / "123" accepted by hosting or commercial-vpn is found;
 *   countries       the code is found;  remote-access tools: the name is found in itself;
 *   allow-users     the user is found;  allow-rules: the rule is allowed (for that user).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmriskscore/event.h"
#include "enrich/lists.h"

#include "fuzz_common.h"

#define MAX_ENTRIES 256
#define MAX_INLINE 32 /* inline parameters are a handful of entries; each add re-sorts */
#define NKINDS (MMR_LIST_COUNT_ + 1) /* + hosting-asns.txt, read into hosting */

static char dir[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/lists", fuzz_tmpdir());
	if (mkdir(dir, 0700) != 0) {
		perror(dir);
		exit(1);
	}
	return 0;
}

static bool parse_asn(const char *s, uint32_t *out)
{
	if (strncasecmp(s, "AS", 2) == 0)
		s += 2;
	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return false;
	unsigned long long v = strtoull(s, NULL, 10);
	if (v == 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* What a list that accepted entry e (trimmed, without comment) must find. */
static void check_found(const mmr_lists *l, mmr_list_kind kind, const char *e, const char *how)
{
	switch (kind) {
	case MMR_LIST_WATCH_COUNTRIES:
		if (!mmr_lists_has_country(l, kind, e))
			FUZZ_FAIL("%s: country '%s' accepted but not found", how, e);
		return;
	case MMR_LIST_REMOTE_TOOLS:
		if (mmr_lists_remote_tool(l, e) == NULL)
			FUZZ_FAIL("%s: tool '%s' accepted but not found in its own name", how, e);
		return;
	case MMR_LIST_ALLOW_USERS:
		if (!mmr_lists_has_user(l, e))
			FUZZ_FAIL("%s: user '%s' accepted but not found", how, e);
		return;
	case MMR_LIST_ALLOW_RULES: {
		char rule[512], user[512] = "";
		if (sscanf(e, "%511s %511s", rule, user) < 1)
			FUZZ_FAIL("%s: rule entry '%s' accepted but has no rule", how, e);
		if (!mmr_lists_allows_rule(l, rule, user[0] ? user : NULL) &&
		    !mmr_lists_allows_rule(l, rule, user))
			FUZZ_FAIL("%s: rule entry '%s' accepted but '%s' for '%s' not allowed", how, e,
				  rule, user);
		return;
	}
	default:
		break;
	}
	uint32_t asn;
	if ((kind == MMR_LIST_HOSTING || kind == MMR_LIST_COMMERCIAL_VPN) && parse_asn(e, &asn)) {
		if (!mmr_lists_has_asn(l, kind, asn))
			FUZZ_FAIL("%s: AS number '%s' accepted but AS%u not found", how, e, asn);
		return;
	}
	char addr[512];
	snprintf(addr, sizeof(addr), "%s", e);
	char *slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	mmr_ip ip;
	if (mmr_ip_parse(addr, &ip) == 0 && !mmr_lists_has_ip(l, kind, &ip))
		FUZZ_FAIL("%s: network '%s' accepted but %s not found", how, e, addr);
}

static void probe(const mmr_lists *l, mmr_list_kind kind)
{
	static const char *ips[] = {"10.1.2.3", "203.0.113.5", "0.0.0.0", "255.255.255.255",
				    "2001:db8::1", "::", "::ffff:10.1.2.3", "ffff::1"};
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		mmr_ip ip;
		if (mmr_ip_parse(ips[i], &ip) == 0)
			(void)mmr_lists_has_ip(l, kind, &ip);
	}
	(void)mmr_lists_has_asn(l, kind, 64801);
	(void)mmr_lists_has_asn(l, kind, UINT32_MAX);
	(void)mmr_lists_has_country(l, kind, "KP");
	(void)mmr_lists_has_user(l, "alice");
	(void)mmr_lists_allows_rule(l, "network.first_seen", "bob");
	(void)mmr_lists_remote_tool(l, "Mozilla/5.0 AnyDesk/7.1 TeamViewer");
	char big[1500];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	(void)mmr_lists_remote_tool(l, big); /* longer than the fast path's buffer */
	(void)mmr_lists_count(l, kind);
}

/* The entries of the file as the loader reads them: line by line, '#' to the end of the
 * line dropped, blanks trimmed, empty lines skipped, a UTF-8 BOM on line 1 dropped. */
static size_t entries_of(const uint8_t *data, size_t size, char **out, size_t max)
{
	size_t n = 0, pos = 0;
	for (size_t line = 1; pos < size && n < max; line++) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
		char *s = strndup((const char *)data + pos, len);
		pos += len + 1;
		if (s == NULL)
			abort();
		char *p = s;
		if (line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = '\0';
		while (isspace((unsigned char)*p))
			p++;
		size_t l = strlen(p);
		while (l > 0 && isspace((unsigned char)p[l - 1]))
			p[--l] = '\0';
		if (*p)
			out[n++] = strdup(p);
		free(s);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	char *entries[MAX_ENTRIES];
	size_t n = entries_of(data, size, entries, MAX_ENTRIES);
	char path[700], err[1024];

	for (int k = 0; k < NKINDS; k++) {
		mmr_list_kind kind = k < MMR_LIST_COUNT_ ? (mmr_list_kind)k : MMR_LIST_HOSTING;
		const char *fname = k < MMR_LIST_COUNT_ ? mmr_list_file_name(kind) : "hosting-asns.txt";
		snprintf(path, sizeof(path), "%s/%s", dir, fname);
		fuzz_write_file(path, data, size);
		err[0] = '\0';
		mmr_lists *l = mmr_lists_load_dir(dir, err, sizeof(err));
		unlink(path);
		if (l == NULL) {
			fuzz_check_cstr(err, sizeof(err), "load error");
			if (err[0] == '\0')
				FUZZ_FAIL("mmr_lists_load_dir failed without a message");
		} else {
			/* a file that loads had every entry accepted (lines the loader read: the
			 * harness's line split is the loader's up to MAX_ENTRIES) */
			if (size <= 65536)
				for (size_t i = 0; i < n; i++)
					check_found(l, kind, entries[i], fname);
			probe(l, kind);
			mmr_lists_free(l);
		}
	}

	/* inline: one mmr_lists_add() per line, into an empty list of each kind */
	for (int k = 0; k < MMR_LIST_COUNT_; k++) {
		mmr_lists *l = mmr_lists_new_empty();
		if (l == NULL)
			abort();
		bool ok[MAX_INLINE];
		size_t ni = n < MAX_INLINE ? n : MAX_INLINE;
		for (size_t i = 0; i < ni; i++) {
			err[0] = '\0';
			ok[i] = mmr_lists_add(l, (mmr_list_kind)k, entries[i], err, sizeof(err)) == 0;
			if (!ok[i]) {
				fuzz_check_cstr(err, sizeof(err), "add error");
				if (err[0] == '\0')
					FUZZ_FAIL("mmr_lists_add failed without a message");
			}
		}
		for (size_t i = 0; i < ni; i++)
			if (ok[i])
				check_found(l, (mmr_list_kind)k, entries[i], "mmr_lists_add");
		probe(l, (mmr_list_kind)k);
		mmr_lists_free(l);
	}
	(void)mmr_lists_add(NULL, MMR_LIST_HOSTING, "AS1", err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		free(entries[i]);
	return 0;
}
