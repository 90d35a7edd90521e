/* A network list is a flat array of (address, prefix) scanned linearly: the lists this slice
 * loads (corporate networks from the config) have tens of entries, where a scan of a few
 * cache lines beats any tree. Larger lists (hosting ASN ranges) will need a radix tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlist.h"

typedef struct {
	mmr_ip net;
	int prefix;
} cidr;

struct mmr_netlist {
	cidr *v;
	size_t n, cap;
};

mmr_netlist *mmr_netlist_new(void)
{
	return calloc(1, sizeof(mmr_netlist));
}

void mmr_netlist_free(mmr_netlist *l)
{
	if (l) {
		free(l->v);
		free(l);
	}
}

size_t mmr_netlist_count(const mmr_netlist *l)
{
	return l ? l->n : 0;
}

static bool prefix_match(const mmr_ip *a, const mmr_ip *net, int prefix)
{
	if (a->family != net->family)
		return false;
	int full = prefix / 8, rest = prefix % 8;
	if (memcmp(a->b, net->b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->b[full] & mask) == (net->b[full] & mask);
}

static void apply_mask(mmr_ip *ip, int prefix)
{
	int bytes = ip->family == 4 ? 4 : 16;
	for (int i = 0; i < bytes; i++) {
		int bits = prefix - i * 8;
		if (bits <= 0)
			ip->b[i] = 0;
		else if (bits < 8)
			ip->b[i] &= (uint8_t)(0xff << (8 - bits));
	}
}

int mmr_netlist_add(mmr_netlist *l, const char *text, char *err, size_t errlen)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	cidr c;

	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%s' is not a network (expected a.b.c.d/n or x:y::/n)", text);
		return -1;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (mmr_ip_parse(addr, &c.net) != 0) {
		snprintf(err, errlen, "'%s' is not a network: '%s' is not an IP address", text, addr);
		return -1;
	}
	int max = c.net.family == 4 ? 32 : 128;
	c.prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || p < 0 || p > max) {
			snprintf(err, errlen, "'%s' has a bad prefix length (0-%d)", text, max);
			return -1;
		}
		c.prefix = (int)p;
		/* ::ffff:10.0.0.0/104 was folded to IPv4 by mmr_ip_parse */
		if (c.net.family == 4 && strchr(addr, ':') != NULL) {
			if (c.prefix < 96) {
				snprintf(err, errlen, "'%s': IPv4-mapped prefix must be >= 96", text);
				return -1;
			}
			c.prefix -= 96;
		}
	}
	apply_mask(&c.net, c.prefix);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		cidr *nv = realloc(l->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = c;
	return 0;
}

bool mmr_netlist_contains(const mmr_netlist *l, const mmr_ip *ip)
{
	if (l == NULL || ip->family == 0)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (prefix_match(ip, &l->v[i].net, l->v[i].prefix))
			return true;
	return false;
}

bool mmr_ip_is_private(const mmr_ip *ip)
{
	const uint8_t *b = ip->b;
	if (ip->family == 4) {
		return b[0] == 10 || b[0] == 127 || b[0] == 0 ||
		       (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
		       (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xc0) == 64);
	}
	if (ip->family == 6) {
		static const uint8_t zero[15];
		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
			return true; /* :: and ::1 */
		return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
	}
	return true;
}

void mmr_ip_network(const mmr_ip *ip, mmr_ip *net, int *prefix)
{
	*net = *ip;
	*prefix = ip->family == 4 ? 24 : 48;
	apply_mask(net, *prefix);
}
