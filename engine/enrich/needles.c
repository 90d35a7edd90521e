/* Needles (needles.h): several words looked for in one pass over a text.
 *
 * Representation: the needles sorted by strcmp, so that the ones starting with the same byte
 * are neighbours, first[257], the index of the first needle starting with each byte, a table
 * of the bytes that start a needle and a bitmap of the 65,536 byte pairs (8 KiB) that do, in
 * either case. A scan skips each position of the text whose first byte, or else first two
 * bytes, start no needle (most positions); at the others it compares the text from there with only the needles
 * that start with that byte (none for most bytes; for the 51 remote-access
 * tool names about 2), lower-casing the text as it goes. No copy of the text is made, so any
 * length is handled the same way.
 *
 * Cost: about 6 instructions per byte of text where no needle starts, plus the comparisons
 * that begin; for a 120-byte user agent against the 10 phone words about 1,000 instructions,
 * where 10 strcasestr calls took about 12,000 (each re-derives its needle's factorization).
 * The worst case is the naive one, O(text x total needle length), for texts that repeat a
 * needle's prefix; the inputs are single event fields (at most MMR_FIELD_MAX bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "enrich/needles.h"

static unsigned char upper(unsigned char c)
{
	return (unsigned char)((unsigned)(c - 'a') < 26u ? c & ~0x20 : c);
}

static int cmp_needle(const void *a, const void *b)
{
	return strcmp(((const mmr_needle *)a)->s, ((const mmr_needle *)b)->s);
}

void mmr_needles_index(mmr_needles *m, mmr_needle *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i].len = strlen(v[i].s);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_needle);
	m->v = v;
	m->n = n;
	size_t i = 0;
	for (unsigned b = 0; b < 256; b++) {
		m->first[b] = (uint32_t)i;
		while (i < n && (unsigned char)v[i].s[0] == b)
			i++;
	}
	m->first[256] = (uint32_t)i;
	memset(m->start, 0, sizeof(m->start));
	memset(m->pair, 0, sizeof(m->pair));
	for (size_t j = 0; j < n; j++) {
		const unsigned char *s = (const unsigned char *)v[j].s;
		for (int ca = 0; ca < 2; ca++)
			for (unsigned b = 0; b < 256; b++) {
				if (v[j].len > 1 && mmr_ascii_lower((unsigned char)b) != s[1])
					continue;
				unsigned a = ca ? upper(s[0]) : s[0], k = a << 8 | b;
				m->start[a] = true;
				m->pair[k >> 3] |= (uint8_t)(1u << (k & 7));
			}
	}
}

/* Whether the two bytes at p (p[0] is not NUL) can start a needle: the first byte alone
 * rules out most positions, at the fewest instructions. */
static inline bool may_start(const mmr_needles *m, const unsigned char *p)
{
	if (!m->start[p[0]])
		return false;
	unsigned k = (unsigned)p[0] << 8 | p[1];
	return m->pair[k >> 3] >> (k & 7) & 1;
}

/* Whether needle d occurs at p, whose first byte is known to match. The text's NUL ends the
 * comparison: no needle contains one. */
static inline bool at(const mmr_needle *d, const unsigned char *p)
{
	const unsigned char *s = (const unsigned char *)d->s;
	for (size_t k = 1; k < d->len; k++)
		if (mmr_ascii_lower(p[k]) != s[k])
			return false;
	return true;
}

const mmr_needle *mmr_needles_first(const mmr_needles *m, const char *text)
{
	if (m == NULL || m->n == 0 || text == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (!may_start(m, p))
			continue;
		unsigned b = mmr_ascii_lower(*p);
		for (uint32_t j = m->first[b]; j < m->first[b + 1]; j++)
			if (at(&m->v[j], p))
				return &m->v[j];
	}
	return NULL;
}

uint32_t mmr_needles_tags(const mmr_needles *m, const char *text, uint32_t all)
{
	uint32_t found = 0;
	if (m == NULL || m->n == 0 || text == NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (!may_start(m, p))
			continue;
		unsigned b = mmr_ascii_lower(*p);
		for (uint32_t j = m->first[b]; j < m->first[b + 1]; j++) {
			if ((found & m->v[j].tag) == m->v[j].tag || !at(&m->v[j], p))
				continue;
			found |= m->v[j].tag;
			if ((found & all) == all && all != 0)
				return found;
		}
	}
	return found;
}
