/* Virtual shard of a user: see mmriskscore/shard.h for why the function is frozen. */
#include "mmriskscore/shard.h"

uint64_t mmr_fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

uint32_t mmr_user_shard(const char *user, size_t len, uint32_t nshards)
{
	if (nshards <= 1)
		return 0;
	return (uint32_t)(mmr_fnv1a64(user, len) % nshards);
}
