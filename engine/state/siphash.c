/* SipHash-2-4, written from the paper's description (section 2) and checked against its
 * published test vectors (tests/unit/test_snapshot.c). */
#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct {
	uint64_t v0, v1, v2, v3;
} sip;

static inline void round_(sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

/* Initialisation and compression: c = 2 rounds per 8-byte word, the last word carrying the
 * remaining bytes and the length modulo 256 in its top byte. */
static void absorb(sip *s, const uint8_t key[16], const uint8_t *in, size_t len, int wide)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	s->v0 = k0 ^ 0x736f6d6570736575ULL; /* "somepseudorandomlygeneratedbytes" */
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
	if (wide)
		s->v1 ^= 0xee;
	size_t full = len - len % 8;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = le64(in + i);
		s->v3 ^= m;
		round_(s);
		round_(s);
		s->v0 ^= m;
	}
	uint64_t b = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < len % 8; i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	s->v3 ^= b;
	round_(s);
	round_(s);
	s->v0 ^= b;
}

/* Finalisation: d = 4 rounds. */
static uint64_t finish(sip *s, uint64_t x)
{
	s->v2 ^= x;
	for (int i = 0; i < 4; i++)
		round_(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t mmr_siphash64(const uint8_t key[16], const void *data, size_t len)
{
	sip s;
	absorb(&s, key, data, len, 0);
	return finish(&s, 0xff);
}

void mmr_siphash128(const uint8_t key[16], const void *data, size_t len, uint8_t out[16])
{
	sip s;
	absorb(&s, key, data, len, 1);
	put64(out, finish(&s, 0xee));
	s.v1 ^= 0xdd;
	put64(out + 8, finish(&s, 0));
}
