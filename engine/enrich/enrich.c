/* Enrichment and the context it reads.
 *
 * Geography: what the log itself says wins (Okta's geographicalContext and securityContext,
 * Entra's location: the identity provider saw the connection, and a site without a GeoIP
 * database still gets geo); the GeoIP databases fill what the log leaves out (coordinates,
 * accuracy radius, ASN). Only external addresses are looked up: private and corporate ranges
 * say nothing about where a person is.
 *
 * Client: whether the event comes from a phone or tablet, or through a mobile carrier
 * (mobile, mobile_carrier in detect/detector.h), from the user agent, Okta's device class and
 * the AS organisation; computed here once for the detectors that leave phones out
 * (impossible_travel: home-routed roaming; shared_source_ip: carrier-grade NAT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/enrich.h"
#include "enrich/client.h"
#include "enrich/country.h"
#include "net/netlist.h"

mmr_context *mmr_context_load(const mmr_context_paths *p, const mmr_user_norm *norm, char *err,
			      size_t errlen, char *warn, size_t warnlen)
{
	char e2[512];
	if (warn && warnlen)
		warn[0] = '\0';
	mmr_context *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((p->geoip_city && *p->geoip_city) || (p->geoip_asn && *p->geoip_asn)) {
		c->geoip = mmr_geoip_open(p->geoip_city && *p->geoip_city ? p->geoip_city : NULL,
					  p->geoip_asn && *p->geoip_asn ? p->geoip_asn : NULL, e2,
					  sizeof(e2));
		if (c->geoip == NULL) {
			snprintf(err, errlen, "geoip: %s", e2);
			goto fail;
		}
	}
	if (p->lists_dir && *p->lists_dir) {
		c->lists = mmr_lists_load_dir(p->lists_dir, e2, sizeof(e2));
		if (c->lists == NULL) {
			snprintf(err, errlen, "lists.dir: %s", e2);
			goto fail;
		}
	}
	if (p->roster && *p->roster) {
		char w[512] = "";
		c->roster = mmr_roster_load(p->roster, norm, e2, sizeof(e2), w, sizeof(w));
		if (c->roster == NULL) {
			snprintf(err, errlen, "roster: %s", e2);
			goto fail;
		}
		if (warn && warnlen && mmr_roster_warnings(c->roster) > 0)
			snprintf(warn, warnlen, "roster %s: %zu warning(s), the first: %s", p->roster,
				 mmr_roster_warnings(c->roster), w);
	}
	return c;
fail:
	mmr_context_free(c);
	return NULL;
}

void mmr_context_free(mmr_context *c)
{
	if (c == NULL)
		return;
	mmr_geoip_close(c->geoip);
	mmr_lists_free(c->lists);
	mmr_roster_free(c->roster);
	free(c);
}

void mmr_context_describe(const mmr_context *c, mmr_context_info *info)
{
	memset(info, 0, sizeof(*info));
	if (c == NULL)
		return;
	info->geoip_city = c->geoip && mmr_geoip_has_city(c->geoip);
	info->geoip_asn = c->geoip && mmr_geoip_has_asn(c->geoip);
	info->roster_users = c->roster ? mmr_roster_count(c->roster) : 0;
	info->roster_warnings = c->roster ? mmr_roster_warnings(c->roster) : 0;
	for (int k = 0; k < MMR_LIST_COUNT_ && k < 8; k++)
		info->list_entries[k] = mmr_lists_count(c->lists, (mmr_list_kind)k);
}

const mmr_roster_entry *mmr_context_roster_find(const mmr_context *c, const char *user)
{
	return c && c->roster ? mmr_roster_find(c->roster, user) : NULL;
}

const mmr_lists *mmr_context_lists(const mmr_context *c)
{
	return c ? c->lists : NULL;
}

/* Cuts at len - 1 bytes; the sanitizer then repairs a character the cut split. */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	mmr_utf8_sanitize(dst);
}

_Static_assert(sizeof(((mmr_enriched *)0)->as_org) == sizeof(((mmr_geo *)0)->as_org) &&
		       sizeof(((mmr_enriched *)0)->city) == sizeof(((mmr_geo *)0)->city),
	       "geography() copies GeoIP strings whole");

/* Returns the MMR_ORG_* class of x->as_org: the GeoIP record's, computed when the record was
 * decoded, when the name came from there; else the log's name is classified here. */
static uint8_t geography(const mmr_context *c, const mmr_event *ev, mmr_enriched *x)
{
	if (ev->geo_country[0])
		mmr_country_code(ev->geo_country, x->country);
	if (ev->geo_city[0])
		copy(x->city, sizeof(x->city), ev->geo_city);
	if (ev->as_number > 0 && ev->as_number <= 0xffffffffLL)
		x->asn = (uint32_t)ev->as_number;
	bool own_org = ev->as_org[0] != '\0';
	if (own_org)
		copy(x->as_org, sizeof(x->as_org), ev->as_org);
	mmr_geo g;
	if (c == NULL || c->geoip == NULL || !x->external || !mmr_geoip_lookup(c->geoip, &ev->src_ip, &g))
		return own_org ? mmr_org_class(x->as_org) : 0;
	if (!x->country[0])
		memcpy(x->country, g.country, sizeof(x->country));
	/* GeoIP's strings are already cut to these sizes and sanitized: copied as they are */
	if (!x->city[0])
		memcpy(x->city, g.city, sizeof(x->city));
	/* coordinates only when they describe the same country the log names */
	if (g.has_location && (!g.country[0] || strcmp(g.country, x->country) == 0)) {
		x->has_location = true;
		x->lat = g.lat;
		x->lon = g.lon;
		x->accuracy_km = g.accuracy_km;
	}
	if (x->asn == 0)
		x->asn = g.asn;
	if (own_org)
		return mmr_org_class(x->as_org);
	memcpy(x->as_org, g.as_org, sizeof(x->as_org));
	return g.org_class;
}

/* Phones and carriers (detect/detector.h: mobile, mobile_carrier, inflight_or_satellite). */
static void client(const mmr_event *ev, uint8_t org_class, mmr_enriched *x)
{
	x->mobile_carrier = (org_class & MMR_ORG_CARRIER) != 0;
	x->inflight_or_satellite = (org_class & MMR_ORG_INFLIGHT) != 0;
	x->mobile = mmr_client_mobile_class(ev->device);
	if (!x->mobile)
		x->mobile = ev->user_agent[0] ? mmr_client_mobile_ua(ev->user_agent)
					      : x->mobile_carrier;
}

void mmr_enrich(const mmr_context *c, const mmr_config *cfg, const mmr_event *ev,
		mmr_enriched *x)
{
	memset(x, 0, sizeof(*x));
	x->tenure_days = -1;
	const mmr_lists *l = c ? c->lists : NULL;
	x->has_src = ev->src_ip.family != 0;
	if (x->has_src) {
		x->corporate = mmr_netlist_contains(cfg->corporate, &ev->src_ip) ||
			       mmr_lists_has_ip(l, MMR_LIST_CORPORATE, &ev->src_ip);
		x->external = !x->corporate && !mmr_ip_is_private(&ev->src_ip);
	}
	client(ev, geography(c, ev, x), x);
	x->proxy = ev->is_proxy == 1;
	if (x->external) {
		x->hosting = mmr_lists_has_ip(l, MMR_LIST_HOSTING, &ev->src_ip) ||
			     (x->asn && mmr_lists_has_asn(l, MMR_LIST_HOSTING, x->asn));
		x->commercial_vpn = mmr_lists_has_ip(l, MMR_LIST_COMMERCIAL_VPN, &ev->src_ip) ||
				    (x->asn && mmr_lists_has_asn(l, MMR_LIST_COMMERCIAL_VPN, x->asn));
		x->watch_country =
			x->country[0] && mmr_lists_has_country(l, MMR_LIST_WATCH_COUNTRIES, x->country);
	}
	if (l) {
		const char *fields[] = {ev->user_agent, ev->device, ev->target, ev->host};
		for (size_t i = 0; i < 4 && x->remote_tool == NULL; i++)
			if (fields[i][0])
				x->remote_tool = mmr_lists_remote_tool(l, fields[i]);
		x->allow_user = mmr_lists_has_user(l, ev->user);
		x->allow_network = x->has_src && mmr_lists_has_ip(l, MMR_LIST_ALLOW_NETWORKS, &ev->src_ip);
	}
	const mmr_roster_entry *who = mmr_context_roster_find(c, ev->user);
	if (who) {
		x->who = who;
		x->group = who->group;
		x->privileged = who->privileged;
		if (who->tz) {
			x->has_declared_tz = true;
			x->declared_offset = mmr_tz_offset(who->tz, ev->time);
		}
		if (who->start_date != 0) {
			int64_t d = (ev->time - who->start_date) / 86400;
			if (ev->time < who->start_date)
				d = -1 - (who->start_date - ev->time - 1) / 86400;
			x->tenure_days = d < -100000 ? -100000 : d > 100000 ? 100000 : (int32_t)d;
			/* includes activity before the official start: the laptop-farm accounts of
			 * the research sign in the evening before their first day */
			x->new_hire = x->tenure_days < MMR_NEW_HIRE_DAYS;
		}
	}
}
