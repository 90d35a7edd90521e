/* The engine configuration fuzz_snapshot restores into, shared with the seed generator
 * (make_snapshot_seeds.c) so that generated seeds restore fully. */
#ifndef MMR_FUZZ_SNAPSHOT_CONFIG_H
#define MMR_FUZZ_SNAPSHOT_CONFIG_H

#include "mmriskscore/engine.h"

#define FUZZ_SNAPSHOT_KEY                                                                      \
	{0x6d, 0x6d, 0x72, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x30, \
	 0x31}
#define FUZZ_SNAPSHOT_TIME 1790812800 /* 2026-10-01T00:00:00Z */

static inline void fuzz_snapshot_config(mmr_config *c)
{
	mmr_config_init(c);
	c->learning_min_events = 3;
	c->learning_min_days = 0;
	c->max_users = 64;
	c->max_ips = 64;
}

#endif
