/* Virtual shard of a user: see mmriskscore/shard.h for why the function is frozen. */
#include <stdio.h>
#include <string.h>

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

/* one number of a list: digits only, no sign, below nshards */
static int list_number(const char **p, uint32_t nshards, uint32_t *out, char *err, size_t errlen)
{
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9') {
		snprintf(err, errlen, "expected a shard number at \"%s\"", s);
		return -1;
	}
	while (*s >= '0' && *s <= '9') {
		if (v < MMR_SHARDS_MAX) /* saturates: any longer number is out of range anyway */
			v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (v >= nshards) {
		snprintf(err, errlen, "shard %.*s is out of range: shards are 0-%u", (int)(s - *p),
			 *p, nshards - 1);
		return -1;
	}
	*out = (uint32_t)v;
	*p = s;
	return 0;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

long mmr_shard_parse_list(const char *spec, uint32_t nshards, uint8_t *bitmap, char *err,
			  size_t errlen)
{
	memset(bitmap, 0, ((size_t)nshards + 7) / 8);
	const char *s = skip_space(spec);
	long n = 0;
	if (*s == '\0') {
		snprintf(err, errlen, "empty list: give shards such as \"0-85,200\"");
		return -1;
	}
	for (;;) {
		uint32_t lo, hi;
		if (list_number(&s, nshards, &lo, err, errlen) != 0)
			return -1;
		hi = lo;
		s = skip_space(s);
		if (*s == '-') {
			s = skip_space(s + 1);
			if (list_number(&s, nshards, &hi, err, errlen) != 0)
				return -1;
			if (hi < lo) {
				snprintf(err, errlen, "range %u-%u ends below its start", lo, hi);
				return -1;
			}
			s = skip_space(s);
		}
		for (uint32_t k = lo; k <= hi; k++) {
			n += !mmr_shard_bit(bitmap, k);
			bitmap[k >> 3] |= (uint8_t)(1u << (k & 7));
		}
		if (*s == '\0')
			return n;
		if (*s != ',') {
			snprintf(err, errlen, "unexpected \"%s\": items are numbers or ranges "
				 "(\"a-b\") separated by commas", s);
			return -1;
		}
		s = skip_space(s + 1);
	}
}
