/* Lists of networks (CIDR blocks) and the address classes the detectors care about. */
#ifndef MMR_NETLIST_H
#define MMR_NETLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "mmriskscore/event.h"

typedef struct mmr_netlist mmr_netlist;

mmr_netlist *mmr_netlist_new(void);
void mmr_netlist_free(mmr_netlist *l);
/* "a.b.c.d/n", "a.b.c.d" (= /32), "2001:db8::/32". Returns 0, or -1 with a message in err. */
int mmr_netlist_add(mmr_netlist *l, const char *cidr, char *err, size_t errlen);
bool mmr_netlist_contains(const mmr_netlist *l, const mmr_ip *ip);
size_t mmr_netlist_count(const mmr_netlist *l);

/* True for addresses that can never identify a home or hosting connection: RFC 1918, CGNAT
 * (RFC 6598), loopback, link-local, unique-local (fc00::/7), unspecified. */
bool mmr_ip_is_private(const mmr_ip *ip);

/* The "source network" of an address as the first-seen detector keys it: the /24 of an IPv4
 * address, the /48 of an IPv6 one (a typical end-site delegation). */
void mmr_ip_network(const mmr_ip *ip, mmr_ip *net, int *prefix);

#endif
