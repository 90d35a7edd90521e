/* Shared by unit tests that need a real context (engine/enrich): a temporary directory with a
 * lists dir, a roster CSV and the GeoIP databases make-test-mmdb.pl writes, and a loader.
 * Include after <cmocka.h> and unit_support.h. */
#ifndef MMR_CONTEXT_FIXTURE_H
#define MMR_CONTEXT_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"

typedef struct ctx_fixture {
	char dir[64];
	char lists_dir[128], roster_path[128], city_db[128], asn_db[128];
	bool geoip; /* the GeoIP databases were written */
} ctx_fixture;

/* Creates /tmp/mmr-<name>-XXXXXX with lists/<file> for each {file, text} pair of lists
 * (terminated by {NULL, NULL}), roster.csv and, through make-test-mmdb.pl (MMRISK_SRCDIR or
 * ".."), city.mmdb and asn.mmdb. need_geoip: fail when the databases cannot be written (the
 * script exits 77 without MaxMind::DB::Writer); else f->geoip says whether they were. Returns 0
 * or -1. */
static inline int ctx_fixture_make(ctx_fixture *f, const char *name, const char *const lists[][2],
				   const char *roster, bool need_geoip)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/mmr-%.20s-XXXXXX", name);
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->lists_dir, sizeof(f->lists_dir), "%s/lists", f->dir);
	snprintf(f->roster_path, sizeof(f->roster_path), "%s/roster.csv", f->dir);
	snprintf(f->city_db, sizeof(f->city_db), "%s/city.mmdb", f->dir);
	snprintf(f->asn_db, sizeof(f->asn_db), "%s/asn.mmdb", f->dir);
	if (mkdir(f->lists_dir, 0700) != 0)
		return -1;
	for (int i = 0; lists && lists[i][0]; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", f->lists_dir, lists[i][0]);
		write_to(p, lists[i][1]);
	}
	write_to(f->roster_path, roster);
	const char *src = getenv("MMRISK_SRCDIR");
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "perl '%s/tests/unit/make-test-mmdb.pl' '%s' >/dev/null",
		 src ? src : "..", f->dir);
	f->geoip = system(cmd) == 0;
	return f->geoip || !need_geoip ? 0 : -1;
}

static inline int ctx_fixture_remove(ctx_fixture *f)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The context of the fixture's files (with GeoIP when geo), failing the test when it does not
 * load. User names: domains stripped. */
static inline mmr_context *ctx_fixture_load(const ctx_fixture *f, bool geo)
{
	mmr_context_paths p = {.lists_dir = f->lists_dir, .roster = f->roster_path};
	if (geo) {
		p.geoip_city = f->city_db;
		p.geoip_asn = f->asn_db;
	}
	mmr_user_norm norm = {.strip_domain = true};
	char err[512], warn[512];
	mmr_context *c = mmr_context_load(&p, &norm, err, sizeof(err), warn, sizeof(warn));
	if (c == NULL)
		fail_msg("context: %s", err);
	return c;
}

/* A successful VPN_START of user from ip (NULL: none) at t. */
static inline mmr_event ctx_fixture_event(const char *user, const char *ip, int64_t t)
{
	mmr_event ev;
	mmr_event_init(&ev);
	snprintf(ev.user, sizeof(ev.user), "%s", user);
	ev.action = MMR_ACTION_VPN_START;
	ev.outcome = MMR_OUTCOME_SUCCESS;
	if (ip)
		assert_int_equal(mmr_ip_parse(ip, &ev.src_ip), 0);
	ev.time = t;
	return ev;
}

#endif
