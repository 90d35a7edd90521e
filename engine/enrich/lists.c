/* The list files of lists.dir (lists.h, docs/lists.md).
 *
 * Representation, per list kind:
 *   networks    sorted, merged arrays of address ranges [lo, hi], one for IPv4 (32-bit) and
 *               one for IPv6 (128-bit as two 64-bit halves), binary search. A hosting list
 *               converted from an ASN-to-prefix feed has tens of thousands of CIDRs; the
 *               linear mmr_netlist (net/netlist.c) would scan all of them on every event.
 *               Entries are parsed like mmr_netlist_add (same forms and messages).
 *   AS numbers  sorted, de-duplicated uint32 array, binary search (hosting, commercial VPN)
 *   countries   sorted array of upper-case alpha-2 codes (watch-countries)
 *   tool names  array of names with their ASCII letters lower-cased, sorted and indexed by
 *               their first byte (enrich/needles.h): a lookup passes over the text once
 *               and, at each position, compares only the names starting with that byte
 *               (0.5 us for four event fields against the 51 default names; 50 strcasestr
 *               calls per field took 5 us). At least 3 bytes (blanks inside allowed) so
 *               that a stray "a" cannot match every user agent. The first match from the
 *               start of the text wins; it is returned lower-cased.
 *   users       sorted array of lower-cased keys, binary search (allow-users)
 *   rules       sorted array of (rule, user) pairs, user "" = everybody (allow-rules)
 * Every lookup is a binary search or a short scan over immutable arrays: no locks, no
 * allocation, safe from any thread once loaded. Files are loaded by appending and sorting
 * once at the end (O(n log n)); mmr_lists_add keeps the arrays sorted after every call.
 *
 * Loading is strict: one bad entry fails the whole load with "DIR/file.txt:LINE: reason", so
 * that a HUP with a typo keeps the lists that were working (the caller decides that).
 * Bounds: a line holds at most MAX_LINE bytes, a file at most MAX_ENTRIES entries
 * (MAX_TOOLS for tool names, which every event scans), and must be valid UTF-8.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enrich/lists.h"
#include "enrich/needles.h"

#define MAX_LINE 4096
#define MAX_ENTRIES 1000000
#define MAX_TOOLS 10000
#define MIN_TOOL_LEN 3
#define MAX_USER 128 /* MMR_USER_MAX - 1 bytes fit an event's key */
#define MAX_RULE 64

typedef struct {
	char *rule;
	char *user; /* "" = every user */
} rule_pair;

typedef struct {
	uint32_t *v;
	size_t n, cap;
} asn_set;

typedef struct {
	uint32_t lo, hi;
} range4;

typedef struct {
	uint64_t h, l;
} u128;

typedef struct {
	u128 lo, hi;
} range6;

typedef struct {
	range4 *v4;
	size_t n4, cap4;
	range6 *v6;
	size_t n6, cap6;
	size_t entries; /* as added, before merging */
} net_set;

struct mmr_lists {
	net_set net[MMR_LIST_COUNT_];
	asn_set asn[MMR_LIST_COUNT_];
	char (*countries)[3];
	size_t ncountries, capcountries;
	mmr_needle *tools; /* sorted by name; each s is allocated here */
	size_t ntools, captools;
	mmr_needles tool_index; /* over tools */
	char **users;
	size_t nusers, capusers;
	rule_pair *rules;
	size_t nrules, caprules;
	bool bulk; /* loading a file: append now, sort in finish() */
};

static const char *const file_names[MMR_LIST_COUNT_] = {
	[MMR_LIST_CORPORATE] = "corporate-networks.txt",
	[MMR_LIST_HOSTING] = "hosting.txt",
	[MMR_LIST_COMMERCIAL_VPN] = "commercial-vpn.txt",
	[MMR_LIST_WATCH_COUNTRIES] = "watch-countries.txt",
	[MMR_LIST_REMOTE_TOOLS] = "remote-access-tools.txt",
	[MMR_LIST_ALLOW_USERS] = "allow-users.txt",
	[MMR_LIST_ALLOW_NETWORKS] = "allow-networks.txt",
	[MMR_LIST_ALLOW_RULES] = "allow-rules.txt",
};

/* The contrib/simulator writes AS numbers to this name; read it into hosting. */
#define DEPRECATED_HOSTING_ASNS "hosting-asns.txt"

static bool has_net(mmr_list_kind k)
{
	return k == MMR_LIST_CORPORATE || k == MMR_LIST_HOSTING || k == MMR_LIST_COMMERCIAL_VPN ||
	       k == MMR_LIST_ALLOW_NETWORKS;
}

static bool has_asn(mmr_list_kind k)
{
	return k == MMR_LIST_HOSTING || k == MMR_LIST_COMMERCIAL_VPN;
}

const char *mmr_list_file_name(mmr_list_kind kind)
{
	return (unsigned)kind < MMR_LIST_COUNT_ ? file_names[kind] : "";
}

mmr_lists *mmr_lists_new_empty(void)
{
	return calloc(1, sizeof(mmr_lists));
}

void mmr_lists_free(mmr_lists *l)
{
	if (l == NULL)
		return;
	for (int k = 0; k < MMR_LIST_COUNT_; k++) {
		free(l->net[k].v4);
		free(l->net[k].v6);
		free(l->asn[k].v);
	}
	free(l->countries);
	for (size_t i = 0; i < l->ntools; i++)
		free((char *)l->tools[i].s);
	free(l->tools);
	for (size_t i = 0; i < l->nusers; i++)
		free(l->users[i]);
	free(l->users);
	for (size_t i = 0; i < l->nrules; i++) {
		free(l->rules[i].rule);
		free(l->rules[i].user);
	}
	free(l->rules);
	free(l);
}

size_t mmr_lists_count(const mmr_lists *l, mmr_list_kind kind)
{
	if (l == NULL || (unsigned)kind >= MMR_LIST_COUNT_)
		return 0;
	switch (kind) {
	case MMR_LIST_WATCH_COUNTRIES:
		return l->ncountries;
	case MMR_LIST_REMOTE_TOOLS:
		return l->ntools;
	case MMR_LIST_ALLOW_USERS:
		return l->nusers;
	case MMR_LIST_ALLOW_RULES:
		return l->nrules;
	default:
		return l->net[kind].entries + l->asn[kind].n;
	}
}

/* ---- arrays: append, then sort and drop duplicates ---- */

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, nc * size);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

static int append(void **v, size_t *n, size_t *cap, size_t size, const void *item)
{
	if (grow(v, cap, *n, size) != 0)
		return -1;
	memcpy((char *)*v + *n * size, item, size);
	(*n)++;
	return 0;
}

/* Sorts and removes duplicates; drop (may be NULL) releases a removed element. */
static void sort_unique(void *v, size_t *n, size_t size, int (*cmp)(const void *, const void *),
			void (*drop)(void *))
{
	if (*n < 2)
		return;
	char *b = v;
	qsort(b, *n, size, cmp);
	size_t out = 1;
	for (size_t i = 1; i < *n; i++) {
		if (cmp(b + (out - 1) * size, b + i * size) == 0) {
			if (drop)
				drop(b + i * size);
			continue;
		}
		if (out != i)
			memcpy(b + out * size, b + i * size, size);
		out++;
	}
	*n = out;
}

static bool bsearch_has(const void *base, size_t n, size_t size, const void *key,
			int (*cmp)(const void *, const void *))
{
	return n > 0 && bsearch(key, base, n, size, cmp) != NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int cmp_country(const void *a, const void *b)
{
	return memcmp(a, b, 2);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_rule(const void *a, const void *b)
{
	const rule_pair *x = a, *y = b;
	int c = strcmp(x->rule, y->rule);
	return c ? c : strcmp(x->user, y->user);
}

static void drop_str(void *p)
{
	free(*(char **)p);
}

static int cmp_tool(const void *a, const void *b)
{
	return strcmp(((const mmr_needle *)a)->s, ((const mmr_needle *)b)->s);
}

static void drop_tool(void *p)
{
	free((char *)((mmr_needle *)p)->s);
}

/* Sorts the tool names and indexes them by first byte (see mmr_lists_remote_tool). */
static void index_tools(mmr_lists *l)
{
	sort_unique(l->tools, &l->ntools, sizeof(mmr_needle), cmp_tool, drop_tool);
	mmr_needles_index(&l->tool_index, l->tools, l->ntools);
}

static void drop_rule(void *p)
{
	rule_pair *r = p;
	free(r->rule);
	free(r->user);
}

/* ---- address ranges ---- */

static int cmp_u128(u128 a, u128 b)
{
	if (a.h != b.h)
		return a.h < b.h ? -1 : 1;
	return (a.l > b.l) - (a.l < b.l);
}

static u128 u128_of(const uint8_t *b)
{
	u128 r = {0, 0};
	for (int i = 0; i < 8; i++) {
		r.h = r.h << 8 | b[i];
		r.l = r.l << 8 | b[8 + i];
	}
	return r;
}

static int cmp_range4(const void *a, const void *b)
{
	const range4 *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

static int cmp_range6(const void *a, const void *b)
{
	const range6 *x = a, *y = b;
	int c = cmp_u128(x->lo, y->lo);
	return c ? c : cmp_u128(x->hi, y->hi);
}

/* Sorts the ranges and merges overlapping and adjacent ones, so that at most one range can
 * hold an address and a binary search on lo finds it. */
static void normalize_net(net_set *s)
{
	if (s->n4 > 1) {
		qsort(s->v4, s->n4, sizeof(range4), cmp_range4);
		size_t out = 0;
		for (size_t i = 1; i < s->n4; i++) {
			range4 *last = &s->v4[out], cur = s->v4[i];
			if (cur.lo <= last->hi ||
			    (last->hi != UINT32_MAX && cur.lo == last->hi + 1)) {
				if (cur.hi > last->hi)
					last->hi = cur.hi;
			} else {
				s->v4[++out] = cur;
			}
		}
		s->n4 = out + 1;
	}
	if (s->n6 > 1) {
		qsort(s->v6, s->n6, sizeof(range6), cmp_range6);
		size_t out = 0;
		for (size_t i = 1; i < s->n6; i++) {
			range6 *last = &s->v6[out], cur = s->v6[i];
			u128 next = last->hi;
			bool top = next.h == UINT64_MAX && next.l == UINT64_MAX;
			if (!top && ++next.l == 0)
				next.h++;
			if (cmp_u128(cur.lo, last->hi) <= 0 ||
			    (!top && cmp_u128(cur.lo, next) == 0)) {
				if (cmp_u128(cur.hi, last->hi) > 0)
					last->hi = cur.hi;
			} else {
				s->v6[++out] = cur;
			}
		}
		s->n6 = out + 1;
	}
}

/* "a.b.c.d/n", "a.b.c.d", "x:y::/n", "x:y::" (mmr_netlist_add's forms: an IPv4-mapped IPv6
 * network counts as the IPv4 network). Returns 0, or -1 with a reason. */
static int add_network(net_set *s, const char *text, bool bulk, char *err, size_t errlen)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	mmr_ip ip;

	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%s' is not a network (expected a.b.c.d/n or x:y::/n)",
			 text);
		return -1;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (mmr_ip_parse(addr, &ip) != 0) {
		snprintf(err, errlen, "'%s' is not a network: '%s' is not an IP address", text,
			 addr);
		return -1;
	}
	int max = ip.family == 4 ? 32 : 128, prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		bool mapped = ip.family == 4 && strchr(addr, ':') != NULL;
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || p < 0 ||
		    p > (mapped ? 128 : max)) {
			snprintf(err, errlen, "'%s' has a bad prefix length (0-%d)", text,
				 mapped ? 128 : max);
			return -1;
		}
		prefix = (int)p;
		if (mapped) { /* ::ffff:10.0.0.0/104 was folded to IPv4 by mmr_ip_parse */
			if (prefix < 96) {
				snprintf(err, errlen, "'%s': IPv4-mapped prefix must be >= 96",
					 text);
				return -1;
			}
			prefix -= 96;
		}
	}
	if (ip.family == 4) {
		uint32_t a = (uint32_t)ip.b[0] << 24 | (uint32_t)ip.b[1] << 16 |
			     (uint32_t)ip.b[2] << 8 | ip.b[3];
		uint32_t host = prefix == 0 ? UINT32_MAX : (uint32_t)((1ull << (32 - prefix)) - 1);
		range4 r = {a & ~host, a | host};
		if (append((void **)&s->v4, &s->n4, &s->cap4, sizeof(r), &r) != 0)
			goto oom;
	} else {
		u128 a = u128_of(ip.b), host;
		host.h = prefix >= 64 ? 0 : (prefix == 0 ? UINT64_MAX : (UINT64_MAX >> prefix));
		host.l = prefix >= 128 ? 0
			 : prefix <= 64 ? UINT64_MAX
					: (UINT64_MAX >> (prefix - 64));
		range6 r = {{a.h & ~host.h, a.l & ~host.l}, {a.h | host.h, a.l | host.l}};
		if (append((void **)&s->v6, &s->n6, &s->cap6, sizeof(r), &r) != 0)
			goto oom;
	}
	s->entries++;
	if (!bulk)
		normalize_net(s);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static bool net_has(const net_set *s, const mmr_ip *ip)
{
	if (ip->family == 4 && s->n4 > 0) {
		uint32_t a = (uint32_t)ip->b[0] << 24 | (uint32_t)ip->b[1] << 16 |
			     (uint32_t)ip->b[2] << 8 | ip->b[3];
		size_t lo = 0, hi = s->n4; /* first range with lo > a */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s->v4[mid].lo <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo > 0 && a <= s->v4[lo - 1].hi;
	}
	if (ip->family == 6 && s->n6 > 0) {
		u128 a = u128_of(ip->b);
		size_t lo = 0, hi = s->n6;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (cmp_u128(s->v6[mid].lo, a) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo > 0 && cmp_u128(a, s->v6[lo - 1].hi) <= 0;
	}
	return false;
}

/* Puts every array of l in lookup order (after a bulk load). */
static void finish(mmr_lists *l)
{
	for (int k = 0; k < MMR_LIST_COUNT_; k++) {
		normalize_net(&l->net[k]);
		sort_unique(l->asn[k].v, &l->asn[k].n, sizeof(uint32_t), cmp_u32, NULL);
	}
	sort_unique(l->countries, &l->ncountries, sizeof(l->countries[0]), cmp_country, NULL);
	sort_unique(l->users, &l->nusers, sizeof(char *), cmp_str, drop_str);
	sort_unique(l->rules, &l->nrules, sizeof(rule_pair), cmp_rule, drop_rule);
	index_tools(l);
}

/* ---- entries ---- */

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* "AS64512", "as64512" or "64512": 1..4294967295. Returns 1 parsed, 0 not an AS number,
 * -1 looks like one but is out of range. */
static int parse_asn(const char *s, uint32_t *out)
{
	if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
		s += 2;
	if (*s == '\0')
		return 0;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (uint32_t)v;
	return 1;
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

/* Short rendering of an entry for error messages. */
static const char *shown(const char *e, char *buf, size_t len)
{
	size_t n = strlen(e);
	if (n < 80) {
		snprintf(buf, len, "%s", e);
	} else {
		size_t k = 60;
		while (k > 0 && ((unsigned char)e[k] & 0xc0) == 0x80)
			k--; /* do not cut a UTF-8 sequence */
		snprintf(buf, len, "%.*s...", (int)k, e);
	}
	return buf;
}

static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int add_rule(mmr_lists *l, char *e, const char *show, char *err, size_t errlen)
{
	char *sp = e;
	while (*sp && !isspace((unsigned char)*sp))
		sp++;
	char *user = sp;
	if (*sp) {
		*sp = '\0';
		user = sp + 1;
		while (isspace((unsigned char)*user))
			user++;
	}
	if (has_space(user)) {
		snprintf(err, errlen, "expected 'rule_id' or 'rule_id user' ('%s')", show);
		return -1;
	}
	if (strlen(e) > MAX_RULE) {
		snprintf(err, errlen, "rule id longer than %d bytes ('%s')", MAX_RULE, show);
		return -1;
	}
	for (const char *p = e; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-') {
			snprintf(err, errlen,
				 "not a rule id (letters, digits, '_', '.', '-') ('%s')", show);
			return -1;
		}
	if (strlen(user) > MAX_USER - 1) {
		snprintf(err, errlen, "user longer than %d bytes ('%s')", MAX_USER - 1, show);
		return -1;
	}
	rule_pair rp = {strdup(e), strdup(user)};
	if (rp.rule == NULL || rp.user == NULL ||
	    append((void **)&l->rules, &l->nrules, &l->caprules, sizeof(rp), &rp) != 0) {
		drop_rule(&rp);
		return oom(err, errlen);
	}
	lower(rp.rule);
	lower(rp.user);
	if (!l->bulk)
		sort_unique(l->rules, &l->nrules, sizeof(rule_pair), cmp_rule, drop_rule);
	return 0;
}

int mmr_lists_add(mmr_lists *l, mmr_list_kind kind, const char *entry, char *err, size_t errlen)
{
	char show[96];
	char e[MAX_LINE + 1];

	if (l == NULL || (unsigned)kind >= MMR_LIST_COUNT_ || entry == NULL) {
		snprintf(err, errlen, "no such list");
		return -1;
	}
	/* surrounding blanks are not part of the entry */
	while (isspace((unsigned char)*entry))
		entry++;
	size_t n = strlen(entry);
	while (n > 0 && isspace((unsigned char)entry[n - 1]))
		n--;
	if (n == 0) {
		snprintf(err, errlen, "empty entry");
		return -1;
	}
	if (n > MAX_LINE) {
		snprintf(err, errlen, "entry longer than %d bytes", MAX_LINE);
		return -1;
	}
	memcpy(e, entry, n);
	e[n] = '\0';
	shown(e, show, sizeof(show));

	if (kind == MMR_LIST_ALLOW_RULES)
		return add_rule(l, e, show, err, errlen);
	/* tool names may hold blanks ("Chrome Remote Desktop"); nothing else may */
	if (kind != MMR_LIST_REMOTE_TOOLS && has_space(e)) {
		snprintf(err, errlen, "one entry per line; text after it must follow a '#' ('%s')",
			 show);
		return -1;
	}

	switch (kind) {
	case MMR_LIST_WATCH_COUNTRIES: {
		unsigned char a = (unsigned char)e[0], b = (unsigned char)e[1];
		if (n != 2 || a > 127 || b > 127 || !isalpha(a) || !isalpha(b)) {
			snprintf(err, errlen, "'%s' is not an ISO 3166-1 alpha-2 country code",
				 show);
			return -1;
		}
		char cc[3] = {(char)toupper(a), (char)toupper(b), '\0'};
		if (append((void **)&l->countries, &l->ncountries, &l->capcountries, sizeof(cc),
			   cc) != 0)
			return oom(err, errlen);
		if (!l->bulk)
			sort_unique(l->countries, &l->ncountries, sizeof(cc), cmp_country, NULL);
		return 0;
	}
	case MMR_LIST_REMOTE_TOOLS: {
		if (n < MIN_TOOL_LEN) {
			snprintf(err, errlen,
				 "'%s' is too short to match safely (at least %d characters)", show,
				 MIN_TOOL_LEN);
			return -1;
		}
		if (l->ntools >= MAX_TOOLS) {
			snprintf(err, errlen, "more than %d remote-access tool names", MAX_TOOLS);
			return -1;
		}
		char *low = strdup(e);
		mmr_needle t = {low, n, 0};
		if (low == NULL ||
		    append((void **)&l->tools, &l->ntools, &l->captools, sizeof(t), &t) != 0) {
			free(low);
			return oom(err, errlen);
		}
		/* ASCII only, as the matcher compares (needles.h) */
		for (char *c = low; *c; c++)
			*c = (char)mmr_ascii_lower((unsigned char)*c);
		if (!l->bulk)
			index_tools(l);
		return 0;
	}
	case MMR_LIST_ALLOW_USERS: {
		if (n > MAX_USER - 1) {
			snprintf(err, errlen, "user longer than %d bytes ('%s')", MAX_USER - 1,
				 show);
			return -1;
		}
		char *s = strdup(e);
		if (s == NULL ||
		    append((void **)&l->users, &l->nusers, &l->capusers, sizeof(s), &s)) {
			free(s);
			return oom(err, errlen);
		}
		lower(s);
		if (!l->bulk)
			sort_unique(l->users, &l->nusers, sizeof(char *), cmp_str, drop_str);
		return 0;
	}
	default:
		break;
	}

	/* network lists, with AS numbers where the list takes them */
	uint32_t asn;
	int a = has_asn(kind) ? parse_asn(e, &asn) : 0;
	if (a < 0) {
		snprintf(err, errlen, "'%s' is not an AS number (1-4294967295)", show);
		return -1;
	}
	if (a > 0) {
		asn_set *s = &l->asn[kind];
		if (append((void **)&s->v, &s->n, &s->cap, sizeof(asn), &asn) != 0)
			return oom(err, errlen);
		if (!l->bulk)
			sort_unique(s->v, &s->n, sizeof(asn), cmp_u32, NULL);
		return 0;
	}
	char nerr[256];
	if (add_network(&l->net[kind], e, l->bulk, nerr, sizeof(nerr)) != 0) {
		if (has_asn(kind) && strcmp(nerr, "out of memory") != 0)
			snprintf(err, errlen,
				 "'%s' is not a CIDR, an address or an AS number (AS64512)", show);
		else
			snprintf(err, errlen, "%s", nerr);
		return -1;
	}
	return 0;
}

/* ---- files ---- */

/* Reads one line of at most MAX_LINE bytes into buf (without the line end; a CR before LF
 * is dropped). Returns 1 line, 0 EOF, -1 too long, -2 NUL byte, -3 read error. */
static int read_line(FILE *f, char *buf, size_t *len)
{
	size_t n = 0;
	int c;
	bool any = false;
	while ((c = getc_unlocked(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			return -2;
		if (n == MAX_LINE)
			return -1;
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return -3;
	if (!any)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 1;
}

/* RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += k + 1;
	}
	return true;
}

/* Loads dir/fname into list kind of l. A missing file is an empty list. */
static int load_file(mmr_lists *l, mmr_list_kind kind, const char *dir, const char *fname,
		     char *err, size_t errlen)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, fname) >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, fname);
		return -1;
	}
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return -1;
	}
	char *line = malloc(MAX_LINE + 1);
	if (line == NULL) {
		fclose(f);
		return oom(err, errlen);
	}
	size_t len, entries = 0, lineno = 0;
	int r, rc = 0;
	while ((r = read_line(f, line, &len)) != 0) {
		lineno++;
		if (r == -1) {
			snprintf(err, errlen, "%s:%zu: line longer than %d bytes", path, lineno,
				 MAX_LINE);
			rc = -1;
			break;
		}
		if (r == -2) {
			snprintf(err, errlen, "%s:%zu: NUL byte (not a text file?)", path, lineno);
			rc = -1;
			break;
		}
		if (r == -3) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
			break;
		}
		char *s = line;
		if (lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3; /* UTF-8 byte order mark (Windows editors) */
		if (!utf8_ok((const unsigned char *)s, strlen(s))) {
			snprintf(err, errlen, "%s:%zu: not valid UTF-8 (save the file as UTF-8)",
				 path, lineno);
			rc = -1;
			break;
		}
		char *hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			continue;
		if (++entries > MAX_ENTRIES) {
			snprintf(err, errlen, "%s:%zu: more than %d entries in one file", path,
				 lineno, MAX_ENTRIES);
			rc = -1;
			break;
		}
		char why[512];
		if (mmr_lists_add(l, kind, s, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

mmr_lists *mmr_lists_load_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, errlen, "lists.dir: no directory given");
		return NULL;
	}
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "lists.dir %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "lists.dir %s: not a directory", dir);
		return NULL;
	}
	mmr_lists *l = mmr_lists_new_empty();
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->bulk = true;
	for (int k = 0; k < MMR_LIST_COUNT_; k++)
		if (load_file(l, (mmr_list_kind)k, dir, file_names[k], err, errlen) != 0) {
			mmr_lists_free(l);
			return NULL;
		}
	if (load_file(l, MMR_LIST_HOSTING, dir, DEPRECATED_HOSTING_ASNS, err, errlen) != 0) {
		mmr_lists_free(l);
		return NULL;
	}
	finish(l);
	l->bulk = false;
	return l;
}

/* ---- lookups ---- */

bool mmr_lists_has_ip(const mmr_lists *l, mmr_list_kind kind, const mmr_ip *ip)
{
	if (l == NULL || ip == NULL || (unsigned)kind >= MMR_LIST_COUNT_ || !has_net(kind))
		return false;
	return net_has(&l->net[kind], ip);
}

bool mmr_lists_has_asn(const mmr_lists *l, mmr_list_kind kind, uint32_t asn)
{
	if (l == NULL || (unsigned)kind >= MMR_LIST_COUNT_ || !has_asn(kind) || asn == 0)
		return false;
	return bsearch_has(l->asn[kind].v, l->asn[kind].n, sizeof(uint32_t), &asn, cmp_u32);
}

bool mmr_lists_has_country(const mmr_lists *l, mmr_list_kind kind, const char *code)
{
	if (l == NULL || code == NULL || kind != MMR_LIST_WATCH_COUNTRIES || code[0] == '\0' ||
	    code[1] == '\0' || code[2] != '\0')
		return false;
	char cc[3] = {(char)toupper((unsigned char)code[0]), (char)toupper((unsigned char)code[1]),
		      '\0'};
	return bsearch_has(l->countries, l->ncountries, sizeof(cc), cc, cmp_country);
}

/* Lower-cases s into buf; false when it does not fit. */
static bool lower_copy(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	if (n >= len)
		return false;
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	return true;
}

bool mmr_lists_has_user(const mmr_lists *l, const char *user)
{
	char key[MAX_USER];
	if (l == NULL || user == NULL || l->nusers == 0 || !lower_copy(user, key, sizeof(key)))
		return false;
	const char *k = key;
	return bsearch_has(l->users, l->nusers, sizeof(char *), &k, cmp_str);
}

bool mmr_lists_allows_rule(const mmr_lists *l, const char *rule, const char *user)
{
	char r[MAX_RULE + 1], u[MAX_USER];
	if (l == NULL || rule == NULL || l->nrules == 0 || !lower_copy(rule, r, sizeof(r)))
		return false;
	rule_pair key = {r, (char *)""};
	if (bsearch_has(l->rules, l->nrules, sizeof(rule_pair), &key, cmp_rule))
		return true;
	if (user == NULL || user[0] == '\0' || !lower_copy(user, u, sizeof(u)))
		return false;
	key.user = u;
	return bsearch_has(l->rules, l->nrules, sizeof(rule_pair), &key, cmp_rule);
}

const char *mmr_lists_remote_tool(const mmr_lists *l, const char *text)
{
	if (l == NULL || text == NULL || text[0] == '\0' || l->ntools == 0)
		return NULL;
	const mmr_needle *t = mmr_needles_first(&l->tool_index, text);
	return t ? t->s : NULL;
}
