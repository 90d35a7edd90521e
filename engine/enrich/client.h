/* What kind of client and network an event comes from, by fixed word lists: phones and
 * tablets (user agent, device class), mobile carriers and networks whose addresses are not
 * where their users are (AS organisation). The facts mobile, mobile_carrier and
 * inflight_or_satellite of detect/detector.h (mmr_enriched) are made of these.
 *
 * The AS organisation's class is a property of the name alone, so the GeoIP cache computes it
 * once per ASN record (enrich/geoip.c) and enrichment classifies only names the log itself
 * carries. All functions are thread-safe and never allocate.
 */
#ifndef MMR_CLIENT_H
#define MMR_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

/* Classes of an AS organisation name (bits). */
enum {
	/* "Wireless", "Mobil...", "Movil", "Cellular", "Celular": carrier-grade NAT, many
	 * subscribers per address */
	MMR_ORG_CARRIER = 1u << 0,
	/* in-flight Wi-Fi and satellite access (Gogo, Panasonic Avionics, Viasat, Inmarsat,
	 * Intelsat, Anuvu, SpaceX/Starlink): the address is the provider's ground station or
	 * point of presence, often in another country than its users */
	MMR_ORG_INFLIGHT = 1u << 1,
};

/* The MMR_ORG_* bits of an AS organisation name ("" = 0). */
uint8_t mmr_org_class(const char *as_org);

/* The user agent names a mobile OS, app or HTTP stack (iPhone, iPad, iPod, Android, "Mobile",
 * Okta Verify, okhttp, CFNetwork, Dalvik). */
bool mmr_client_mobile_ua(const char *user_agent);

/* Okta's device class is a phone or tablet ("Mobile", "Tablet", "Phone", "Smartphone"). */
bool mmr_client_mobile_class(const char *device);

#endif
