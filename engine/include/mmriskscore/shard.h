/* Virtual shards: which of N fixed buckets a user's state belongs to when scoring is split
 * over several rsyslog instances (docs/scale-out.md).
 *
 * The function is part of the contract between tiers: a relay (mmriskscore mode="route"), a
 * Kafka producer written in another language and every scorer must agree on it, so it is
 * deliberately simple and fully specified: 64-bit FNV-1a (Fowler, Noll, Vo; offset basis
 * 14695981039346656037, prime 1099511628211) over the bytes of the *canonical* user name (the
 * engine's normalized entity key, mmr_event.user), reduced modulo nshards. Changing it would
 * move every user to another shard: it is frozen. */
#ifndef MMRISKSCORE_SHARD_H
#define MMRISKSCORE_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define MMR_SHARDS_MAX 65536

/* the FNV-1a 64 hash of len bytes */
uint64_t mmr_fnv1a64(const void *data, size_t len);

/* the virtual shard (0 .. nshards-1) of a canonical user name; nshards >= 1 */
uint32_t mmr_user_shard(const char *user, size_t len, uint32_t nshards);

/* Parses a list of shards and shard ranges such as "0-85,200" (decimal, ascending or not,
 * overlaps allowed, white space around items ignored) into bitmap (nshards bits, zeroed
 * first). Returns the number of shards set, or -1 with the reason in err (an empty list or
 * item, a number >= nshards, a range whose end is below its start, any other character). */
long mmr_shard_parse_list(const char *spec, uint32_t nshards, uint8_t *bitmap, char *err,
			  size_t errlen);

static inline int mmr_shard_bit(const uint8_t *bitmap, uint32_t shard)
{
	return (bitmap[shard >> 3] >> (shard & 7)) & 1;
}

#endif
