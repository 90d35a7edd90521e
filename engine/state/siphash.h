/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012):
 * a keyed hash for short inputs, with the 64-bit output of the paper and the 128-bit output of
 * the authors' reference implementation (v1 ^= 0xee at initialisation, v2 ^= 0xee and a second
 * finalisation with v1 ^= 0xdd). Used to pseudonymize user keys in state snapshots
 * (docs/state.md): without the 16-byte key, a pseudonym cannot be computed from a name, so a
 * list of employees does not reveal whose record is whose.
 *
 * Byte order as in the paper: the key is k0 || k1, each read little-endian; the 64-bit
 * result is returned as a number (its little-endian bytes are the paper's test vector), the
 * 128-bit result as 16 bytes (low word first, each little-endian), as the reference code does.
 */
#ifndef MMR_SIPHASH_H
#define MMR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t mmr_siphash64(const uint8_t key[16], const void *data, size_t len);
void mmr_siphash128(const uint8_t key[16], const void *data, size_t len, uint8_t out[16]);

#endif
