/* fuzz_roster: the bytes of an HR roster CSV (DESIGN.md §3.2, engine/enrich/roster.h) through
 * mmr_roster_load().
 *
 * Input: the file's bytes, written to a regular file in the harness's private directory (the
 * loader wants a path and refuses what is not a regular file). Inputs of odd length load with
 * domains kept (strip_domain = false, default domain "corp.example"), the others strip them.
 * When the roster loads, every user named in the first column of the input, and a few fixed
 * names, is looked up, and each entry found is read in full (strings, time zone, peer group):
 * ASan sees any entry that points outside what the loader allocated. Checks: a failed load
 * leaves a message; strings NUL-terminated; country "" or two upper-case letters; group never
 * 0 and group_size >= 1; count <= lines of the input. Time zones come from the system's
 * zoneinfo (TZDIR), as in production.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/event.h"
#include "enrich/roster.h"
#include "enrich/tz.h"

#include "fuzz_common.h"

static char path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/roster.csv", fuzz_tmpdir());
	return 0;
}

static void check_entry(const mmr_roster_entry *e)
{
	const char *strs[] = {e->user, e->department, e->team, e->title, e->manager, e->timezone,
			      e->group_name};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i] == NULL)
			FUZZ_FAIL("roster entry with a NULL string (field %zu)", i);
		(void)strlen(strs[i]);
	}
	if (e->user[0] == '\0')
		FUZZ_FAIL("roster entry with an empty user");
	if (e->country[0] != '\0' &&
	    !(isupper((unsigned char)e->country[0]) && isupper((unsigned char)e->country[1]) &&
	      e->country[2] == '\0'))
		FUZZ_FAIL("roster country \"%.3s\"", e->country);
	if (e->group == 0 || e->group_size == 0)
		FUZZ_FAIL("roster user %s: group %u size %u", e->user, e->group, e->group_size);
	if (e->tz != NULL) {
		(void)mmr_tz_offset(e->tz, 0);
		(void)mmr_tz_offset(e->tz, 1790812800);
		(void)mmr_tz_offset(e->tz, INT64_MAX / 2);
		(void)mmr_tz_offset(e->tz, -INT64_MAX / 2);
	}
}

static void lookup(const mmr_roster *r, const char *name)
{
	const mmr_roster_entry *e = mmr_roster_find(r, name);
	if (e != NULL)
		check_entry(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	fuzz_write_file(path, data, size);
	static const mmr_user_norm norms[2] = {{.strip_domain = true},
					       {.strip_domain = false, .default_domain = "corp.example"}};
	const mmr_user_norm *norm = &norms[size & 1];
	char err[1024] = "", warn[1024] = "";
	mmr_roster *r = mmr_roster_load(path, norm, err, sizeof(err), warn, sizeof(warn));
	if (r == NULL) {
		fuzz_check_cstr(err, sizeof(err), "load error");
		if (err[0] == '\0')
			FUZZ_FAIL("mmr_roster_load failed without a message");
		return 0;
	}
	fuzz_check_cstr(warn, sizeof(warn), "load warning");
	if (mmr_roster_warnings(r) > 0 && warn[0] == '\0')
		FUZZ_FAIL("%zu warnings but no message", mmr_roster_warnings(r));
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == '\r';
	if (mmr_roster_count(r) > lines)
		FUZZ_FAIL("%zu users from %zu lines", mmr_roster_count(r), lines);

	/* every first-column value, raw and normalized as events would be */
	size_t pos = 0;
	while (pos < size) {
		size_t end = pos;
		while (end < size && data[end] != ',' && data[end] != '\n' && data[end] != '\r')
			end++;
		char raw[MMR_USER_MAX + 1], key[MMR_USER_MAX];
		size_t n = end - pos < MMR_USER_MAX ? end - pos : MMR_USER_MAX;
		memcpy(raw, data + pos, n);
		raw[n] = '\0';
		bool cut;
		mmr_user_normalize(raw, norm, key, sizeof(key), &cut);
		lookup(r, raw);
		lookup(r, key);
		while (end < size && data[end] != '\n' && data[end] != '\r')
			end++;
		pos = end + 1;
	}
	const char *fixed[] = {"alice", "bob", "vali", "", "alice@corp.example", "CORP\\dave"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		lookup(r, fixed[i]);
	lookup(NULL, "alice");
	mmr_roster_free(r);
	return 0;
}
