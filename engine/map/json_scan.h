/* A JSON scanner for the mapping path: one pass over a message, no allocation for messages of
 * the usual size, nothing decoded until a mapping asks for a value.
 *
 * Representation ("tape"). Every value of the document becomes one node of a flat array, in
 * document order (a container before its members), 24 bytes each:
 *
 *   key, key_len   the member's key as written between its quotes (0, 0 for array elements
 *                  and the root)
 *   val, val_len   the value as written: between the quotes for strings, the whole text for
 *                  numbers, literals and containers
 *   end            index of the first node after the value and everything inside it, so the
 *                  members of container c are c+1, nodes[c+1].end, ... up to nodes[c].end
 *   type, flags    mmr_jv_type; whether key or value contain escapes
 *
 * Offsets are into the caller's text, which must outlive the document. The tape starts in the
 * document itself (MMR_JSON_INLINE_NODES nodes: an Okta System Log event uses about 100) and
 * moves to the heap, doubling, for larger messages.
 *
 * Validation is RFC 8259, strict: the whole text must be one value with only JSON whitespace
 * around it; no comments, single quotes, NaN/Infinity, leading zeros, raw control characters
 * or trailing text, all of which libfastjson's tokener lets through. Bytes >= 0x80 are not
 * checked here: invalid UTF-8 reaches the event fields, which replace it (mmr_utf8_sanitize),
 * as they do for values libfastjson parsed. Limits: values may nest MMR_JSON_MAX_DEPTH levels
 * below the root (libfastjson's default, so the same documents are too deep for both), and a
 * document may have MMR_JSON_MAX_NODES values.
 *
 * Decoding matches libfastjson's, so that both give the same text for the same JSON (see
 * mmr_jvalue in event.h): a string ends at its first NUL (\u0000), a surrogate pair becomes
 * one 4-byte character, and an unpaired surrogate becomes U+FFFD.
 */
#ifndef MMR_JSON_SCAN_H
#define MMR_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmriskscore/event.h"

#define MMR_JSON_MAX_DEPTH 31
#define MMR_JSON_MAX_NODES 65536u
#define MMR_JSON_INLINE_NODES 256
#define MMR_JSON_INLINE_TEXT 512
#define MMR_JSON_NONE UINT32_MAX /* "no such value" where a node index is expected */

enum { MMR_JSON_KEY_ESC = 1, MMR_JSON_VAL_ESC = 2 };

typedef struct mmr_json_node {
	uint32_t key, key_len;
	uint32_t val, val_len;
	uint32_t end;
	uint8_t type;
	uint8_t flags;
} mmr_json_node;

typedef enum {
	MMR_JSON_OK = 0,
	MMR_JSON_INVALID,   /* not RFC 8259 JSON */
	MMR_JSON_TOO_DEEP,  /* a value nested deeper than MMR_JSON_MAX_DEPTH */
	MMR_JSON_TOO_LARGE, /* more than MMR_JSON_MAX_NODES values, or text of 4 GiB or more */
	MMR_JSON_NOMEM,
} mmr_json_status;

/* Lives on the caller's stack (about 7 KiB); must not be copied once scanned. */
typedef struct mmr_json_doc {
	const char *text;
	uint32_t n, cap;
	mmr_json_node *nodes;
	char *buf; /* decoded text of the last value read with mmr_json_value() */
	size_t buf_cap;
	mmr_json_node inline_nodes[MMR_JSON_INLINE_NODES];
	char inline_buf[MMR_JSON_INLINE_TEXT];
} mmr_json_doc;

void mmr_json_doc_init(mmr_json_doc *d);
/* Frees what a large document took from the heap; d may be scanned again after init. */
void mmr_json_doc_release(mmr_json_doc *d);

/* Scans text[0..len) (no NUL needed). On MMR_JSON_OK node 0 is the root value. */
mmr_json_status mmr_json_scan(mmr_json_doc *d, const char *text, size_t len);

/* The value of the last member of object node obj whose key is key (C string; keys are
 * compared decoded, up to their first NUL as libfastjson stores them; ignore_case: ASCII
 * letters compare equal in either case). The last, because libfastjson's object keeps one
 * member per key and a repeated key replaces the earlier value. MMR_JSON_NONE when obj is
 * not an object or has no such member. */
uint32_t mmr_json_member(const mmr_json_doc *d, uint32_t obj, const char *key, bool ignore_case);

/* Elements of array (or members of object) c: the first, then each next; MMR_JSON_NONE after
 * the last. */
static inline uint32_t mmr_json_first(const mmr_json_doc *d, uint32_t c)
{
	return c + 1 < d->nodes[c].end ? c + 1 : MMR_JSON_NONE;
}
static inline uint32_t mmr_json_next(const mmr_json_doc *d, uint32_t c, uint32_t el)
{
	uint32_t e = d->nodes[el].end;
	return e < d->nodes[c].end ? e : MMR_JSON_NONE;
}

/* Describes node i as mmr_jvalue (MMR_JV_NULL for MMR_JSON_NONE). A string's decoded text is
 * written to the document's buffer and stays valid until the next call; if that buffer
 * cannot grow (out of memory) the value reads as null. */
void mmr_json_value(mmr_json_doc *d, uint32_t i, mmr_jvalue *v);

#endif
