/* Shared by the cmocka unit tests: an engine fixture and a UTC time oracle (glibc's timegm,
 * independent of the engine's own date arithmetic). Include after <cmocka.h>. */
#ifndef MMR_UNIT_SUPPORT_H
#define MMR_UNIT_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmriskscore/engine.h"

typedef struct {
	mmr_config cfg;
	mmr_engine *e;
} fixture;

static inline int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	mmr_config_init(&f->cfg);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;
	mmr_engine_free(f->e);
	mmr_config_clear(&f->cfg);
	free(f);
	return 0;
}

/* Creates the engine from f->cfg (tests adjust the config first). */
static inline mmr_engine *start(fixture *f)
{
	char err[256] = "";
	f->e = mmr_engine_new(&f->cfg, err, sizeof(err));
	if (f->e == NULL)
		fail_msg("mmr_engine_new: %s", err);
	return f->e;
}

static inline int64_t civil_utc(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* Writes text to path, failing the test when it cannot. */
static inline void write_to(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		fail_msg("cannot create %s", path);
	fprintf(f, "%s", text);
	fclose(f);
}

#endif
