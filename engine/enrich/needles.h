/* Needles: which of a fixed set of words occur in a text, ignoring ASCII case, in one pass
 * over the text (enrich/needles.c has the representation and the costs).
 *
 * Used where the same words are looked for in every event: the remote-access tool names of
 * lists.c, the phone and carrier words of enrich/client.c. glibc's strcasestr, one call per
 * word, cost 35 % of the engine's instructions (BENCHMARKS.md): it re-analyses the needle on
 * every call and scans the text once per word.
 *
 * Case: ASCII letters only ('A'-'Z' = 'a'-'z'), whatever the locale; other bytes, UTF-8
 * included, compare as they are. Needles are stored lower-case (their ASCII letters).
 * An index is immutable after mmr_needles_index() and may be read from any thread.
 */
#ifndef MMR_NEEDLES_H
#define MMR_NEEDLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mmr_needle {
	const char *s; /* lower-case (ASCII letters), at least one byte */
	size_t len;    /* strlen(s); mmr_needles_index fills it */
	uint32_t tag;  /* the caller's: a class bit for mmr_needles_tags */
} mmr_needle;

typedef struct mmr_needles {
	const mmr_needle *v;
	size_t n;
	uint32_t first[257]; /* needles starting with byte b: v[first[b]] .. v[first[b + 1] - 1] */
	bool start[256]; /* some needle starts with this byte, in either case */
	/* bit a << 8 | b: some needle starts with the bytes a, b, in either case (a one-byte
	 * needle: with a, whatever follows) */
	uint8_t pair[65536 / 8];
} mmr_needles;

/* The ASCII lower case of c; other bytes unchanged. */
static inline unsigned char mmr_ascii_lower(unsigned char c)
{
	return (unsigned char)((unsigned)(c - 'A') < 26u ? c | 0x20 : c);
}

/* Sorts v[0..n) by strcmp (needles with the same first byte become neighbours), sets each
 * len, and indexes them in m, which then refers to v (not copied: v must outlive m). Every
 * s must be non-empty and already lower-case. */
void mmr_needles_index(mmr_needles *m, mmr_needle *v, size_t n);

/* The needle that occurs earliest in text (at equal positions, the first in strcmp order,
 * which is the shorter of two where one is a prefix of the other); NULL when none does. */
const mmr_needle *mmr_needles_first(const mmr_needles *m, const char *text);

/* The OR of the tags of every needle occurring in text; the scan stops as soon as all the
 * bits of `all` are found (all = 0: it scans the whole text). 0 when none occurs. */
uint32_t mmr_needles_tags(const mmr_needles *m, const char *text, uint32_t all);

#endif
