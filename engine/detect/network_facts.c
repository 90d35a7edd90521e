/* Facts about the source network of one event, as enrichment found them (enrich/enrich.c and
 * the list files of docs/lists.md). No state, no baseline: each rule is a fact about this
 * event's address and the employee's declared country.
 *
 *   network.hosting (30)        the address is in hosting.txt (a hosting/VPS/cloud provider, by
 *                               CIDR or AS number) and is not a VPN exit (below). People do not
 *                               live in data centres; a VPS is how an operator hides where they
 *                               are (research §6 #13, Jasper Sleet's VPS use).
 *   network.commercial_vpn (20) the address is in commercial-vpn.txt, or the log itself says
 *                               proxy/VPN/Tor (Okta securityContext.isProxy). Astrill-style
 *                               exits are a DPRK indicator (research §6 #1), but about 2% of
 *                               ordinary staff use a privacy VPN: modest points, and the rule's
 *                               weight is meant to matter only when it stacks with others.
 *   geo.watch_country (45)      the address is in a country of watch-countries.txt (research
 *                               §6 #2: KP, CN, RU ...), unless the roster declares the
 *                               employee lives there (then it is simply where they work).
 *   geo.declared_country_mismatch (15)
 *                               the address's country differs from the roster's country of the
 *                               employee, both known, and the address is not a VPN/proxy/hosting
 *                               exit (an exit's country is the provider's, not the person's).
 *                               Weak: travellers trigger it; not reported together with
 *                               geo.watch_country (the watch detail names the declared country).
 *
 * One address, one network reason: an exit listed both as hosting and as commercial VPN, or a
 * hosting address the identity provider flags as a proxy, is reported as a VPN exit only (the
 * hosting rule is meant for servers the person controls).
 *
 * Which events: only from external addresses (not private, not corporate), and only events that
 * did not fail. Failed sign-ins from hosting networks and watch countries are mostly internet
 * scanners trying names (the simulated bastion sees them daily; so does every real one): they
 * say nothing about the account holder, and the failure-burst detectors count them. Mobile
 * events are not excluded: a phone's country is where its carrier routes it, which for a
 * roaming phone is home, so it cannot create a mismatch that is not there.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "enrich/roster.h"

static const char *const rules[] = {"network.hosting", "network.commercial_vpn",
				    "geo.watch_country", "geo.declared_country_mismatch", NULL};

enum { P_HOSTING, P_VPN, P_WATCH, P_MISMATCH };

static const mmr_param params[] = {
	{"network.hosting.points", 30, 0, 100, "points of network.hosting"},
	{"network.commercial_vpn.points", 20, 0, 100, "points of network.commercial_vpn"},
	{"geo.watch_country.points", 45, 0, 100, "points of geo.watch_country"},
	{"geo.declared_country_mismatch.points", 15, 0, 100,
	 "points of geo.declared_country_mismatch"},
	{NULL, 0, 0, 0, NULL},
};

static int points(const mmr_detect_ctx *ctx, int i)
{
	return (int)(ctx->param ? ctx->param[i] : params[i].def);
}

/* "198.51.100.7 in NL, AS64801 Nimbus Cloud Hosting" with whatever is known. */
static void describe(const mmr_detect_ctx *ctx, char *buf, size_t len)
{
	const mmr_enriched *x = ctx->x;
	char addr[64], as[96] = "";
	mmr_ip_format(&ctx->ev->src_ip, addr, sizeof(addr));
	if (x->asn && x->as_org[0])
		snprintf(as, sizeof(as), "AS%u %s", x->asn, x->as_org);
	else if (x->asn)
		snprintf(as, sizeof(as), "AS%u", x->asn);
	else
		snprintf(as, sizeof(as), "%s", x->as_org);
	snprintf(buf, len, "%s%s%s%s%s", addr, x->country[0] ? " in " : "", x->country,
		 as[0] ? ", " : "", as);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_enriched *x = ctx->x;
	if (x == NULL || !x->external || ctx->ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	bool vpn = x->commercial_vpn || x->proxy;
	if (vpn || x->hosting) {
		/* described only for a reason: formatting it for every event cost 8 % of the
		 * engine's instructions */
		char net[160];
		describe(ctx, net, sizeof(net));
		if (vpn)
			mmr_contrib_add(out, rules[1], points(ctx, P_VPN),
					"activity through a commercial VPN or proxy exit: %s, %s", net,
					x->commercial_vpn ? "listed in commercial-vpn.txt"
							  : "the log marks it as a proxy/VPN");
		else
			mmr_contrib_add(out, rules[0], points(ctx, P_HOSTING),
					"activity from a hosting/VPS network, not a home or office: %s",
					net);
	}

	const char *declared = x->who && x->who->country[0] ? x->who->country : "";
	if (!x->country[0])
		return;
	if (x->watch_country && strcmp(declared, x->country) != 0) {
		char city[64] = "";
		if (x->city[0])
			snprintf(city, sizeof(city), " (%s)", x->city);
		if (declared[0])
			mmr_contrib_add(out, rules[2], points(ctx, P_WATCH),
					"activity from %s%s, a watch country; the employee is "
					"declared in %s",
					x->country, city, declared);
		else
			mmr_contrib_add(out, rules[2], points(ctx, P_WATCH),
					"activity from %s%s, a watch country", x->country, city);
		return;
	}
	if (declared[0] && strcmp(declared, x->country) != 0 && !vpn && !x->hosting)
		mmr_contrib_add(out, rules[3], points(ctx, P_MISMATCH),
				"activity from %s%s%s%s while the roster declares the employee in %s",
				x->country, x->city[0] ? " (" : "", x->city, x->city[0] ? ")" : "",
				declared);
}

const mmr_detector mmr_detector_network_facts = {
	.name = "network_facts",
	.rules = rules,
	.params = params,
	.score = score,
	.state_version = 1,
};
