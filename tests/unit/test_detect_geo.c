/* Geography and network facts, driven directly through the detector interface
 * (detector_harness.h) with hand-built enrichment:
 *
 *   impossible_travel   geo.impossible_travel (40), geo.concurrent_sessions (45)
 *   network_facts       network.hosting (30), network.commercial_vpn (20),
 *                       geo.watch_country (45), geo.declared_country_mismatch (15)
 *   remote_access_tool  device.remote_access_tool (35)
 *
 * and the client facts enrichment computes for them (mmr_enrich: mobile, mobile_carrier).
 *
 * Expectations come from the header comments of the three sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detector_harness.h"
#include "enrich/roster.h"

extern const mmr_detector mmr_detector_impossible_travel;
extern const mmr_detector mmr_detector_network_facts;
extern const mmr_detector mmr_detector_remote_access_tool;

#define TRAVEL "geo.impossible_travel"
#define CONCURRENT "geo.concurrent_sessions"
#define HOSTING "network.hosting"
#define VPN "network.commercial_vpn"
#define WATCH "geo.watch_country"
#define MISMATCH "geo.declared_country_mismatch"
#define TOOL "device.remote_access_tool"

#define MIN 60
#define HOUR 3600
#define DAY 86400
/* Monday 2026-11-23 00:00:00 UTC */
#define T0 ((int64_t)1795392000)

#define DESKTOP_UA "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 " \
		   "(KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36"
#define IPHONE_UA "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 " \
		  "(KHTML, like Gecko) Mobile/15E148"

/* Where an address is, as enrichment would say. */
typedef struct {
	const char *ip, *cc, *city;
	double lat, lon;
	uint16_t acc;
	uint32_t asn;
	const char *org;
	int kind; /* 0 residential, 1 commercial VPN, 2 hosting, 3 proxy (the log says so) */
} loc;

static const loc DENVER = {"198.18.1.10", "US", "Denver", 39.7392, -104.9903, 20, 64601,
			   "Riverstone Cable Communications", 0};
static const loc DENVER_PHONE = {"198.18.9.20", "US", "Denver", 39.7392, -104.9903, 200, 64701,
				 "Horizon Wireless", 0};
static const loc NEWYORK = {"198.18.2.10", "US", "New York", 40.7128, -74.0060, 20, 64602,
			    "Summit Fiber Networks", 0};
static const loc CHICAGO = {"198.18.3.10", "US", "Chicago", 41.8781, -87.6298, 20, 64603,
			    "Continental Telephone Co", 0};
static const loc BOSTON = {"198.18.4.10", "US", "Boston", 42.3601, -71.0589, 5, 64604,
			   "Prairie Broadband", 0};
static const loc TOKYO_HOTEL = {"198.18.5.10", "JP", "Tokyo", 35.6762, 139.6503, 20, 64712,
				"Hospitality WiFi Networks", 0};
static const loc SHENYANG = {"198.18.6.10", "CN", "Shenyang", 41.8057, 123.4315, 20, 64691,
			     "Liaoning Jinghua Telecom", 0};
static const loc HK_EXIT = {"198.18.7.10", "HK", "Hong Kong", 22.3193, 114.1694, 200, 64903,
			    "Starline VPN Ltd", 1};
static const loc NL_EXIT = {"198.18.8.10", "NL", "Amsterdam", 52.3676, 4.9041, 200, 64901,
			    "Hushline VPN", 1};
static const loc NL_VPS = {"198.18.10.10", "NL", "Amsterdam", 52.3676, 4.9041, 200, 64801,
			   "Nimbus Cloud Hosting", 2};
static const loc LONDON = {"198.18.11.10", "GB", "London", 51.5074, -0.1278, 20, 64621,
			   "Thameslink Broadband", 0};

/* A successful event of user at L (desktop browser unless ua says otherwise). */
static void at(dh *h, const char *user, mmr_action a, const loc *L, int64_t t, const char *ua)
{
	dh_event(h, user, a, MMR_OUTCOME_SUCCESS, L->ip, t);
	snprintf(h->ev.user_agent, sizeof(h->ev.user_agent), "%s", ua ? ua : DESKTOP_UA);
	snprintf(h->x.country, sizeof(h->x.country), "%s", L->cc);
	snprintf(h->x.city, sizeof(h->x.city), "%s", L->city);
	h->x.has_location = true;
	h->x.lat = L->lat;
	h->x.lon = L->lon;
	h->x.accuracy_km = L->acc;
	h->x.asn = L->asn;
	snprintf(h->x.as_org, sizeof(h->x.as_org), "%s", L->org);
	h->x.commercial_vpn = L->kind == 1;
	h->x.hosting = L->kind == 2;
	h->x.proxy = L->kind == 3;
}

/* score and learn with the client facts (mobile, mobile_carrier) that mmr_enrich derives from
 * the event's user agent, device and AS organisation */
static int estep(dh *h)
{
	dh_enrich_client(h);
	return dh_step(h);
}

static int step_at(dh *h, const char *user, mmr_action a, const loc *L, int64_t t)
{
	at(h, user, a, L, t, NULL);
	return estep(h);
}

static void silent(const dh *h)
{
	if (h->out.n != 0) {
		dh_dump(h);
		fail_msg("expected no reason, got %d", h->out.n);
	}
}

/* ---- impossible travel ------------------------------------------------------------------- */

static void test_travel_fires_on_impossible_jump(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	/* a brand-new account: physics needs no baseline */
	step_at(&h, "alice", MMR_ACTION_AUTH, &DENVER, T0 + 15 * HOUR);
	silent(&h);
	/* Denver -> Tokyo (about 9,300 km) in 2 h */
	step_at(&h, "alice", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0 + 17 * HOUR);
	dh_expect_points(&h, TRAVEL, 40);
	dh_expect_detail(&h, TRAVEL, "JP (Tokyo)");
	dh_expect_detail(&h, TRAVEL, "2 h 00 min after US");
	dh_expect_detail(&h, TRAVEL, "km/h");
	assert_int_equal(h.out.n, 1);
	/* staying in Tokyo is not another jump */
	step_at(&h, "alice", MMR_ACTION_SSO, &TOKYO_HOTEL, T0 + 18 * HOUR);
	silent(&h);
	dh_free(&h);
}

static void test_travel_silent_for_a_real_flight(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "bob", MMR_ACTION_AUTH, &DENVER, T0 + 15 * HOUR);
	/* the flight takes 14 h: 660 km/h */
	step_at(&h, "bob", MMR_ACTION_VPN_START, &TOKYO_HOTEL, T0 + 29 * HOUR);
	silent(&h);
	/* Tokyo -> London 9,560 km in 11 h 30: 830 km/h, still possible */
	step_at(&h, "bob", MMR_ACTION_AUTH, &LONDON, T0 + 40 * HOUR + 30 * MIN);
	silent(&h);
	/* London -> New York in 5 h (5,570 km: 1,110 km/h raw, 1,100 after accuracies) */
	step_at(&h, "bob", MMR_ACTION_AUTH, &NEWYORK, T0 + 45 * HOUR + 30 * MIN);
	dh_expect_points(&h, TRAVEL, 40);
	dh_free(&h);
}

static void test_travel_accuracy_radius_respected(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	/* New York with a country-level fix (1,000 km radius), Chicago 1,145 km away 30 min
	 * later with a 200 km radius: the circles overlap, nothing is impossible */
	at(&h, "carol", MMR_ACTION_AUTH, &NEWYORK, T0, NULL);
	h.x.accuracy_km = 1000;
	estep(&h);
	at(&h, "carol", MMR_ACTION_AUTH, &CHICAGO, T0 + 30 * MIN, NULL);
	h.x.accuracy_km = 200;
	estep(&h);
	silent(&h);

	/* the same jump with city-level fixes (20 km) is 2,200 km/h */
	step_at(&h, "dave", MMR_ACTION_AUTH, &NEWYORK, T0);
	step_at(&h, "dave", MMR_ACTION_AUTH, &CHICAGO, T0 + 30 * MIN);
	dh_expect_points(&h, TRAVEL, 40);
	dh_expect_detail(&h, TRAVEL, "40 km of GeoIP accuracy");
	dh_free(&h);
}

static void test_travel_min_distance_and_same_isp(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	/* New York -> Boston, 306 km in 5 min: fast, but below 500 km */
	step_at(&h, "erin", MMR_ACTION_AUTH, &NEWYORK, T0);
	step_at(&h, "erin", MMR_ACTION_AUTH, &BOSTON, T0 + 5 * MIN);
	silent(&h);

	/* one ISP's pool geolocated in two cities of one country: not the person moving */
	step_at(&h, "fay", MMR_ACTION_AUTH, &NEWYORK, T0);
	at(&h, "fay", MMR_ACTION_AUTH, &DENVER, T0 + 10 * MIN, NULL);
	h.x.asn = NEWYORK.asn;
	estep(&h);
	silent(&h);
	/* the same jump across two ISPs is impossible travel */
	step_at(&h, "gus", MMR_ACTION_AUTH, &NEWYORK, T0);
	step_at(&h, "gus", MMR_ACTION_AUTH, &DENVER, T0 + 10 * MIN);
	dh_expect_points(&h, TRAVEL, 40);

	/* travel.min_distance_km = 200 makes New York -> Boston count */
	h.param[dh_param_index(h.d, "travel.min_distance_km")] = 200;
	step_at(&h, "hal", MMR_ACTION_AUTH, &NEWYORK, T0);
	step_at(&h, "hal", MMR_ACTION_AUTH, &BOSTON, T0 + 5 * MIN);
	dh_expect_points(&h, TRAVEL, 40);
	dh_free(&h);
}

static void test_travel_params(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	h.param[dh_param_index(h.d, "travel.max_speed_kmh")] = 5000;
	step_at(&h, "ivy", MMR_ACTION_AUTH, &DENVER, T0);
	step_at(&h, "ivy", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0 + 2 * HOUR); /* 4,600 km/h */
	silent(&h);
	step_at(&h, "ivy", MMR_ACTION_AUTH, &DENVER, T0 + 3 * HOUR); /* 9,200 km/h */
	dh_expect_points(&h, TRAVEL, 40);
	h.param[dh_param_index(h.d, "travel.points")] = 55;
	step_at(&h, "ivy", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0 + 4 * HOUR);
	dh_expect_points(&h, TRAVEL, 55);
	dh_free(&h);
}

static void test_traveller_phone_home_routed_silent(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	/* at home, laptop and phone */
	step_at(&h, "tess", MMR_ACTION_VPN_START, &DENVER, T0 + 15 * HOUR);
	at(&h, "tess", MMR_ACTION_SSO, &DENVER_PHONE, T0 + 16 * HOUR, IPHONE_UA);
	estep(&h);
	/* flies to Tokyo; the laptop is on hotel Wi-Fi with a VPN session, the phone keeps
	 * egressing through the home carrier: US and JP alternate within minutes */
	step_at(&h, "tess", MMR_ACTION_VPN_START, &TOKYO_HOTEL, T0 + 31 * HOUR);
	silent(&h);
	for (int i = 0; i < 6; i++) {
		int64_t t = T0 + 31 * HOUR + (10 + 20 * i) * MIN;
		at(&h, "tess", MMR_ACTION_SSO, &DENVER_PHONE, t, IPHONE_UA); /* Slack, phone */
		estep(&h);
		silent(&h);
		/* a VPN client on the phone: the gateway logs no user agent, the carrier says it */
		at(&h, "tess", MMR_ACTION_VPN_START, &DENVER_PHONE, t + MIN, "");
		estep(&h);
		silent(&h);
		/* Okta's device class for a phone */
		at(&h, "tess", MMR_ACTION_MFA, &DENVER, t + 2 * MIN, "");
		snprintf(h.ev.device, sizeof(h.ev.device), "Mobile");
		estep(&h);
		silent(&h);
		/* Okta Verify and an Android app's HTTP stack */
		at(&h, "tess", MMR_ACTION_MFA, &DENVER, t + 3 * MIN, "Okta Verify/9.25.0 (iOS)");
		estep(&h);
		silent(&h);
		at(&h, "tess", MMR_ACTION_SSO, &DENVER, t + 4 * MIN, "okhttp/4.12.0");
		estep(&h);
		silent(&h);
		step_at(&h, "tess", MMR_ACTION_SSO, &TOKYO_HOTEL, t + 5 * MIN);
		silent(&h);
	}
	dh_free(&h);

	/* the control: the same alternation from two laptops is two concurrent sessions */
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "tess", MMR_ACTION_VPN_START, &DENVER, T0 + 15 * HOUR);
	step_at(&h, "tess", MMR_ACTION_VPN_START, &TOKYO_HOTEL, T0 + 31 * HOUR);
	int fired = 0;
	for (int i = 0; i < 6; i++) {
		int64_t t = T0 + 31 * HOUR + (10 + 20 * i) * MIN;
		step_at(&h, "tess", MMR_ACTION_SSO, &DENVER, t);
		fired += dh_points(&h, CONCURRENT) == 45;
		step_at(&h, "tess", MMR_ACTION_SSO, &TOKYO_HOTEL, t + 5 * MIN);
		fired += dh_points(&h, CONCURRENT) == 45;
	}
	assert_true(fired >= 10);
	dh_free(&h);
}

/* The client facts come from enrichment (mmr_enrich, no context loaded): what impossible_travel
 * and shared_source_ip used to decide each for itself. */
static void test_enrich_mobile_flags(void **state)
{
	(void)state;
	static const struct {
		const char *ua, *device, *as_org;
		bool mobile, carrier, inflight;
	} cases[] = {
		{IPHONE_UA, "", "Riverstone Cable Communications", true, false},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8)", "", "", true, false},
		{"Okta Verify/9.25.0 (iOS 17.6)", "", "", true, false},
		{"okhttp/4.12.0", "", "", true, false},
		{"Dalvik/2.1.0 (Linux; U; Android 13)", "", "", true, false},
		{DESKTOP_UA, "Mobile", "", true, false},   /* Okta's device class */
		{"", "TABLET", "", true, false},
		{"", "", "Horizon Wireless", true, true},  /* VPN gateway: no user agent */
		{"", "", "Telefonica Moviles", true, true},
		{"", "", "Pacific Cellular Corp", true, true},
		/* a laptop tethered to a phone, or a carrier's home broadband: a desktop is where it is,
		 * but the address is still carrier-grade NAT */
		{DESKTOP_UA, "", "Horizon Wireless", false, true},
		{DESKTOP_UA, "", "China Mobile Communications", false, true},
		{DESKTOP_UA, "DESKTOP-4F2K9QX", "Riverstone Cable Communications", false, false},
		{"", "", "Riverstone Cable Communications", false, false},
		{"", "", "", false, false},
		{"", "Computer", "", false, false},
		/* in-flight Wi-Fi and satellite: not where the user is, whatever the device */
		{DESKTOP_UA, "", "Gogo LLC", false, false, true},
		{DESKTOP_UA, "", "SPACEX SERVICES, INC.", false, false, true},
		{"", "", "Panasonic Avionics Corporation", false, false, true},
		{IPHONE_UA, "", "Inmarsat Global", true, false, true},
		/* both classes in one name; case and position do not matter */
		{"", "", "Viasat Mobile Networks", true, true, true},
		{DESKTOP_UA, "", "StarLINK cellular", false, true, true},
		/* near misses: a needle's prefix at the end of the text, split words */
		{"Mozilla/5.0 (X11; Linux x86_64) Mobil", "", "Gog", false, false, false},
		{"ANDROI", "", "Star link Celula", false, false, false},
	};
	mmr_config cfg;
	mmr_config_init(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mmr_event ev;
		mmr_enriched x;
		mmr_event_init(&ev);
		snprintf(ev.user, sizeof(ev.user), "zoe");
		assert_int_equal(mmr_ip_parse(DENVER.ip, &ev.src_ip), 0);
		ev.time = T0;
		snprintf(ev.user_agent, sizeof(ev.user_agent), "%s", cases[i].ua);
		snprintf(ev.device, sizeof(ev.device), "%s", cases[i].device);
		snprintf(ev.as_org, sizeof(ev.as_org), "%s", cases[i].as_org); /* the log's own */
		memset(&x, 0x5a, sizeof(x));
		mmr_enrich(NULL, &cfg, &ev, &x);
		if (x.mobile != cases[i].mobile || x.mobile_carrier != cases[i].carrier ||
		    x.inflight_or_satellite != cases[i].inflight)
			fail_msg("case %zu (ua \"%.20s\", device \"%s\", org \"%s\"): mobile %d "
				 "carrier %d inflight %d, expected %d %d %d",
				 i, cases[i].ua, cases[i].device, cases[i].as_org, x.mobile,
				 x.mobile_carrier, x.inflight_or_satellite, cases[i].mobile,
				 cases[i].carrier, cases[i].inflight);
	}
	mmr_config_clear(&cfg);
}

static void test_inflight_wifi_is_nowhere(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	/* over the Atlantic on in-flight Wi-Fi geolocated to the provider's ground station */
	step_at(&h, "una", MMR_ACTION_AUTH, &LONDON, T0);
	at(&h, "una", MMR_ACTION_SSO, &DENVER, T0 + HOUR, NULL);
	snprintf(h.x.as_org, sizeof(h.x.as_org), "Gogo LLC");
	estep(&h);
	silent(&h);
	at(&h, "una", MMR_ACTION_SSO, &DENVER, T0 + 2 * HOUR, NULL);
	snprintf(h.x.as_org, sizeof(h.x.as_org), "SpaceX Services, Inc.");
	estep(&h);
	silent(&h);
	step_at(&h, "una", MMR_ACTION_SSO, &LONDON, T0 + 2 * HOUR + 10 * MIN);
	silent(&h);
	dh_free(&h);
}

static void test_vpn_exits_are_not_travel(void **state)
{
	(void)state;
	static const loc *const exits[] = {&HK_EXIT, &NL_EXIT, &NL_VPS};
	for (int k = 0; k < 4; k++) {
		dh h;
		dh_init(&h, &mmr_detector_impossible_travel, NULL);
		step_at(&h, "vic", MMR_ACTION_AUTH, &DENVER, T0);
		/* into an exit 10 min later: where the person is stays unknown */
		at(&h, "vic", MMR_ACTION_AUTH, k < 3 ? exits[k] : &LONDON, T0 + 10 * MIN, NULL);
		if (k == 3)
			h.x.proxy = true; /* the identity provider says proxy */
		estep(&h);
		silent(&h);
		/* back out of it 40 min later: the exit is never the reference */
		step_at(&h, "vic", MMR_ACTION_AUTH, &DENVER, T0 + 50 * MIN);
		silent(&h);
		/* Tokyo an hour later is measured from Denver, not from the exit */
		step_at(&h, "vic", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0 + 110 * MIN);
		dh_expect_points(&h, TRAVEL, 40);
		dh_expect_detail(&h, TRAVEL, "after US");
		dh_free(&h);
	}
	/* Documented limit: with no tunnel events to tell a handover, home -> foreign exit ->
	 * home within the window is the A, B, A of two concurrent sessions (never travel) */
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "vic", MMR_ACTION_AUTH, &DENVER, T0);
	step_at(&h, "vic", MMR_ACTION_AUTH, &NL_EXIT, T0 + 10 * MIN);
	step_at(&h, "vic", MMR_ACTION_AUTH, &DENVER, T0 + 20 * MIN);
	dh_expect_points(&h, CONCURRENT, 45);
	assert_int_equal(dh_points(&h, TRAVEL), -1);
	dh_free(&h);
}

static void test_concurrent_planted_cn_session(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	/* the user's normal US day: sign-in, VPN up */
	const int64_t t = T0 + 15 * HOUR;
	step_at(&h, "carl", MMR_ACTION_AUTH, &DENVER, t);
	step_at(&h, "carl", MMR_ACTION_VPN_START, &DENVER, t + 2 * MIN);
	silent(&h);
	/* two hours later a second sign-in from Shenyang while the US tunnel is up: one
	 * direction, physically impossible for one person */
	step_at(&h, "carl", MMR_ACTION_AUTH, &SHENYANG, t + 2 * HOUR);
	dh_expect_points(&h, TRAVEL, 40);
	assert_int_equal(dh_points(&h, CONCURRENT), -1);
	step_at(&h, "carl", MMR_ACTION_VPN_START, &SHENYANG, t + 2 * HOUR + MIN);
	assert_int_equal(dh_points(&h, CONCURRENT), -1);
	/* the US laptop is used again while the CN tunnel is up: A, B, A */
	step_at(&h, "carl", MMR_ACTION_SSO, &DENVER, t + 2 * HOUR + 40 * MIN);
	dh_expect_points(&h, CONCURRENT, 45);
	assert_int_equal(dh_points(&h, TRAVEL), -1); /* one statement of one evidence */
	dh_expect_detail(&h, CONCURRENT, "US (Denver)");
	dh_expect_detail(&h, CONCURRENT, "CN");
	dh_expect_detail(&h, CONCURRENT, "km apart");
	/* and CN again while the US tunnel is up */
	step_at(&h, "carl", MMR_ACTION_SSO, &SHENYANG, t + 3 * HOUR);
	dh_expect_points(&h, CONCURRENT, 45);
	dh_free(&h);
}

static void test_concurrent_planted_hk_exit(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	const int64_t t = T0 + 15 * HOUR;
	step_at(&h, "cora", MMR_ACTION_AUTH, &DENVER, t);
	step_at(&h, "cora", MMR_ACTION_VPN_START, &DENVER, t + 2 * MIN);
	/* a Starline VPN exit in Hong Kong: not travel, but a second country at once */
	step_at(&h, "cora", MMR_ACTION_AUTH, &HK_EXIT, t + HOUR);
	silent(&h);
	step_at(&h, "cora", MMR_ACTION_VPN_START, &HK_EXIT, t + HOUR + MIN);
	silent(&h);
	step_at(&h, "cora", MMR_ACTION_SSO, &DENVER, t + 3 * HOUR);
	dh_expect_points(&h, CONCURRENT, 45);
	dh_expect_detail(&h, CONCURRENT, "HK");
	dh_free(&h);
}

static void test_concurrent_vpn_end_overlap(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	const int64_t t = T0 + 15 * HOUR;
	/* US tunnel up; a CN session runs inside it; the US side shows no activity until its
	 * tunnel ends two hours after CN became active: the tunnels overlapped */
	step_at(&h, "cy", MMR_ACTION_VPN_START, &DENVER, t);
	step_at(&h, "cy", MMR_ACTION_AUTH, &SHENYANG, t + HOUR);
	step_at(&h, "cy", MMR_ACTION_VPN_END, &SHENYANG, t + 2 * HOUR);
	assert_int_equal(dh_points(&h, CONCURRENT), -1);
	step_at(&h, "cy", MMR_ACTION_VPN_END, &DENVER, t + 3 * HOUR);
	dh_expect_points(&h, CONCURRENT, 45);
	dh_expect_detail(&h, CONCURRENT, "stayed up 2 h 00 min");
	dh_free(&h);

	/* a privacy VPN switched on: the old tunnel is torn down within minutes (dead-peer
	 * detection), the account carries on from the exit: one direction only, silent */
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "pia", MMR_ACTION_VPN_START, &DENVER, t);
	step_at(&h, "pia", MMR_ACTION_VPN_START, &NL_EXIT, t + HOUR);
	silent(&h);
	step_at(&h, "pia", MMR_ACTION_VPN_END, &DENVER, t + HOUR + 2 * MIN);
	silent(&h);
	for (int i = 1; i <= 4; i++) {
		step_at(&h, "pia", MMR_ACTION_SSO, &NL_EXIT, t + HOUR + i * 20 * MIN);
		silent(&h);
	}
	/* ... and off again: back home while the exit was active minutes ago, the exit's
	 * tunnel torn down right after. Without the handover the first step would count. */
	step_at(&h, "pia", MMR_ACTION_VPN_START, &DENVER, t + 2 * HOUR + 25 * MIN);
	silent(&h);
	step_at(&h, "pia", MMR_ACTION_VPN_END, &NL_EXIT, t + 2 * HOUR + 26 * MIN);
	silent(&h);
	step_at(&h, "pia", MMR_ACTION_SSO, &DENVER, t + 2 * HOUR + 40 * MIN);
	silent(&h);
	dh_free(&h);

	/* a logout says a session ended, not that someone works there */
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "lou", MMR_ACTION_AUTH, &DENVER, t);
	step_at(&h, "lou", MMR_ACTION_AUTH, &SHENYANG, t + 10 * MIN);
	step_at(&h, "lou", MMR_ACTION_LOGOUT, &DENVER, t + 15 * MIN);
	silent(&h);
	step_at(&h, "lou", MMR_ACTION_SSO, &DENVER, t + 20 * MIN);
	dh_expect_points(&h, CONCURRENT, 45);
	dh_free(&h);
}

static void test_concurrent_window(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	const int64_t t = T0 + 15 * HOUR;
	/* no tunnels: London active at t+10 min, Denver again 45 min after that: London is no
	 * longer live (window 30 min) */
	step_at(&h, "lin", MMR_ACTION_SSO, &DENVER, t);
	step_at(&h, "lin", MMR_ACTION_SSO, &LONDON, t + 10 * MIN);
	dh_expect_points(&h, TRAVEL, 40);
	step_at(&h, "lin", MMR_ACTION_SSO, &DENVER, t + 55 * MIN);
	assert_int_equal(dh_points(&h, CONCURRENT), -1);
	dh_expect_points(&h, TRAVEL, 40); /* the jump back is impossible too */
	dh_free(&h);

	/* with a one-hour window the same sequence is concurrent */
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	h.param[dh_param_index(h.d, "concurrent.window")] = 3600;
	step_at(&h, "lin", MMR_ACTION_SSO, &DENVER, t);
	step_at(&h, "lin", MMR_ACTION_SSO, &LONDON, t + 10 * MIN);
	step_at(&h, "lin", MMR_ACTION_SSO, &DENVER, t + 55 * MIN);
	dh_expect_points(&h, CONCURRENT, 45);
	h.param[dh_param_index(h.d, "concurrent.points")] = 60;
	step_at(&h, "lin", MMR_ACTION_SSO, &LONDON, t + 60 * MIN);
	dh_expect_points(&h, CONCURRENT, 60);
	dh_free(&h);

	/* a tunnel left without an end event counts as up for concurrent.session_max only */
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "max", MMR_ACTION_VPN_START, &DENVER, t);
	step_at(&h, "max", MMR_ACTION_AUTH, &SHENYANG, t + 13 * HOUR);
	step_at(&h, "max", MMR_ACTION_SSO, &DENVER, t + 13 * HOUR + 10 * MIN);
	assert_int_equal(dh_points(&h, CONCURRENT), -1);
	dh_free(&h);
}

static void test_failures_corporate_and_unknown_places_ignored(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "fran", MMR_ACTION_VPN_START, &DENVER, T0);
	/* failed sign-ins from Shenyang: anyone can fail with a known name */
	for (int i = 0; i < 3; i++) {
		at(&h, "fran", MMR_ACTION_AUTH, &SHENYANG, T0 + 10 * MIN + i * MIN, NULL);
		h.ev.outcome = MMR_OUTCOME_FAILURE;
		estep(&h);
		silent(&h);
	}
	step_at(&h, "fran", MMR_ACTION_SSO, &DENVER, T0 + 20 * MIN);
	silent(&h); /* and they taught nothing */
	/* a corporate or private source is not a location of the person */
	at(&h, "fran", MMR_ACTION_AUTH, &SHENYANG, T0 + 30 * MIN, NULL);
	h.x.external = false;
	estep(&h);
	silent(&h);
	/* no coordinates: nothing to compare */
	at(&h, "fran", MMR_ACTION_AUTH, &SHENYANG, T0 + 40 * MIN, NULL);
	h.x.has_location = false;
	estep(&h);
	silent(&h);
	/* no enrichment at all */
	dh_event(&h, "fran", MMR_ACTION_AUTH, MMR_OUTCOME_SUCCESS, "198.18.6.10", T0 + 50 * MIN);
	mmr_detect_ctx c = dh_ctx(&h);
	c.x = NULL;
	h.out = (mmr_contribs){.v = h.reasons, .cap = MMR_MAX_REASONS};
	h.d->score(&c, &h.out);
	h.d->learn(&c);
	assert_int_equal(h.out.n, 0);
	step_at(&h, "fran", MMR_ACTION_SSO, &DENVER, T0 + 55 * MIN);
	silent(&h);
	dh_free(&h);
}

static void test_out_of_order_and_clock_jumps(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_impossible_travel, NULL);
	step_at(&h, "olga", MMR_ACTION_AUTH, &DENVER, T0 + 10 * HOUR);
	/* a late Denver event from before: no reference before it, silent */
	step_at(&h, "olga", MMR_ACTION_SSO, &DENVER, T0 + 9 * HOUR);
	silent(&h);
	/* a late Tokyo event from 30 h before: nothing before it either */
	step_at(&h, "olga", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0 - 20 * HOUR);
	silent(&h);
	/* a clock years ahead, then back to normal: no crash, normal behaviour resumes */
	step_at(&h, "olga", MMR_ACTION_AUTH, &LONDON, T0 + 3 * 365 * DAY);
	step_at(&h, "olga", MMR_ACTION_AUTH, &DENVER, T0 + 11 * HOUR);
	silent(&h);
	step_at(&h, "olga", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0 + 12 * HOUR);
	dh_expect_points(&h, TRAVEL, 40);
	step_at(&h, "olga", MMR_ACTION_AUTH, &NEWYORK, (int64_t)-5 * 365 * DAY);
	step_at(&h, "olga", MMR_ACTION_AUTH, &CHICAGO, 0);
	assert_int_equal(h.d->user_state_size, 144);
	dh_free(&h);
}

/* ---- network facts ----------------------------------------------------------------------- */

static mmr_roster_entry declared(const char *cc)
{
	mmr_roster_entry e;
	memset(&e, 0, sizeof(e));
	e.user = "someone";
	e.department = "Engineering";
	e.team = "backend-2";
	e.group = 7;
	e.group_name = "Engineering/backend-2";
	snprintf(e.country, sizeof(e.country), "%s", cc);
	return e;
}

static void test_hosting_and_vpn(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_network_facts, NULL);
	step_at(&h, "vera", MMR_ACTION_VPN_START, &NL_VPS, T0);
	dh_expect_points(&h, HOSTING, 30);
	dh_expect_detail(&h, HOSTING, "AS64801 Nimbus Cloud Hosting");
	dh_expect_detail(&h, HOSTING, "198.18.10.10 in NL");
	assert_int_equal(h.out.n, 1);

	step_at(&h, "vera", MMR_ACTION_AUTH, &HK_EXIT, T0);
	dh_expect_points(&h, VPN, 20);
	dh_expect_detail(&h, VPN, "commercial-vpn.txt");
	assert_int_equal(dh_points(&h, HOSTING), -1);

	/* the identity provider's proxy flag alone */
	at(&h, "vera", MMR_ACTION_AUTH, &DENVER, T0, NULL);
	h.x.proxy = true;
	estep(&h);
	dh_expect_points(&h, VPN, 20);
	dh_expect_detail(&h, VPN, "marks it as a proxy");
	/* a hosting address flagged as a proxy, or listed in both files: one reason, the VPN */
	at(&h, "vera", MMR_ACTION_AUTH, &NL_VPS, T0, NULL);
	h.x.proxy = true;
	estep(&h);
	dh_expect_points(&h, VPN, 20);
	assert_int_equal(h.out.n, 1);
	at(&h, "vera", MMR_ACTION_AUTH, &NL_VPS, T0, NULL);
	h.x.commercial_vpn = true;
	estep(&h);
	dh_expect_points(&h, VPN, 20);
	assert_int_equal(h.out.n, 1);

	/* scanners: failed sign-ins from hosting networks are not the account holder */
	at(&h, "vera", MMR_ACTION_AUTH, &NL_VPS, T0, NULL);
	h.ev.outcome = MMR_OUTCOME_FAILURE;
	estep(&h);
	silent(&h);
	/* unknown outcome (a push sent, a policy evaluated) counts */
	at(&h, "vera", MMR_ACTION_MFA, &NL_VPS, T0, NULL);
	h.ev.outcome = MMR_OUTCOME_UNKNOWN;
	estep(&h);
	dh_expect_points(&h, HOSTING, 30);
	/* not external (corporate, private): nothing */
	at(&h, "vera", MMR_ACTION_AUTH, &NL_VPS, T0, NULL);
	h.x.external = false;
	estep(&h);
	silent(&h);
	/* a plain home line: nothing */
	step_at(&h, "vera", MMR_ACTION_AUTH, &DENVER, T0);
	silent(&h);
	/* points are params */
	h.param[dh_param_index(h.d, "network.hosting.points")] = 50;
	step_at(&h, "vera", MMR_ACTION_AUTH, &NL_VPS, T0);
	dh_expect_points(&h, HOSTING, 50);
	dh_free(&h);
}

static void test_watch_country(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_network_facts, NULL);
	static mmr_roster_entry us, cn;
	us = declared("US");
	cn = declared("CN");
	at(&h, "wen", MMR_ACTION_AUTH, &SHENYANG, T0, NULL);
	h.x.watch_country = true;
	estep(&h);
	dh_expect_points(&h, WATCH, 45);
	dh_expect_detail(&h, WATCH, "CN (Shenyang), a watch country");
	assert_int_equal(h.out.n, 1);

	/* declared in the US: named, and no separate mismatch reason */
	at(&h, "wen", MMR_ACTION_AUTH, &SHENYANG, T0, NULL);
	h.x.watch_country = true;
	h.x.who = &us;
	estep(&h);
	dh_expect_points(&h, WATCH, 45);
	dh_expect_detail(&h, WATCH, "declared in US");
	assert_int_equal(dh_points(&h, MISMATCH), -1);

	/* an employee the roster places in that country works from there */
	at(&h, "wen", MMR_ACTION_AUTH, &SHENYANG, T0, NULL);
	h.x.watch_country = true;
	h.x.who = &cn;
	estep(&h);
	silent(&h);

	/* failed sign-ins from a watch country are scanners' */
	at(&h, "wen", MMR_ACTION_AUTH, &SHENYANG, T0, NULL);
	h.x.watch_country = true;
	h.ev.outcome = MMR_OUTCOME_FAILURE;
	estep(&h);
	silent(&h);
	dh_free(&h);
}

static void test_declared_country_mismatch(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_network_facts, NULL);
	static mmr_roster_entry us;
	us = declared("US");
	at(&h, "tom", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0, NULL);
	h.x.who = &us;
	estep(&h);
	dh_expect_points(&h, MISMATCH, 15);
	dh_expect_detail(&h, MISMATCH, "JP (Tokyo)");
	dh_expect_detail(&h, MISMATCH, "declares the employee in US");

	/* at home: nothing */
	at(&h, "tom", MMR_ACTION_AUTH, &DENVER, T0, NULL);
	h.x.who = &us;
	estep(&h);
	silent(&h);
	/* an exit's country is the provider's: the VPN reason only */
	at(&h, "tom", MMR_ACTION_AUTH, &NL_EXIT, T0, NULL);
	h.x.who = &us;
	estep(&h);
	dh_expect_points(&h, VPN, 20);
	assert_int_equal(dh_points(&h, MISMATCH), -1);
	at(&h, "tom", MMR_ACTION_AUTH, &NL_VPS, T0, NULL);
	h.x.who = &us;
	estep(&h);
	assert_int_equal(dh_points(&h, MISMATCH), -1);
	/* not in the roster, or no declared country, or no country for the address */
	step_at(&h, "tom", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0);
	silent(&h);
	static mmr_roster_entry nowhere;
	nowhere = declared("");
	at(&h, "tom", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0, NULL);
	h.x.who = &nowhere;
	estep(&h);
	silent(&h);
	at(&h, "tom", MMR_ACTION_AUTH, &TOKYO_HOTEL, T0, NULL);
	h.x.who = &us;
	h.x.country[0] = '\0';
	estep(&h);
	silent(&h);
	dh_free(&h);
}

/* ---- remote-access tool ------------------------------------------------------------------ */

static void test_remote_access_tool(void **state)
{
	(void)state;
	dh h;
	dh_init(&h, &mmr_detector_remote_access_tool, NULL);
	at(&h, "rita", MMR_ACTION_AUTH, &DENVER, T0, "Mozilla/5.0 AnyDesk/8.0.14");
	h.x.remote_tool = "anydesk"; /* the list entry, as written in the list */
	estep(&h);
	dh_expect_points(&h, TOOL, 35);
	dh_expect_detail(&h, TOOL, "\"anydesk\" in the user agent");
	dh_expect_detail(&h, TOOL, "AnyDesk/8.0.14");

	at(&h, "rita", MMR_ACTION_VPN_START, &DENVER, T0, "");
	snprintf(h.ev.device, sizeof(h.ev.device), "RustDesk-host-7");
	h.x.remote_tool = "RustDesk";
	estep(&h);
	dh_expect_detail(&h, TOOL, "device name");

	at(&h, "rita", MMR_ACTION_SSO, &DENVER, T0, NULL);
	snprintf(h.ev.target, sizeof(h.ev.target), "TeamViewer Web");
	h.x.remote_tool = "TeamViewer";
	estep(&h);
	dh_expect_detail(&h, TOOL, "target");

	/* failures do not fire; no tool, no reason */
	at(&h, "rita", MMR_ACTION_AUTH, &DENVER, T0, "AnyDesk");
	h.x.remote_tool = "AnyDesk";
	h.ev.outcome = MMR_OUTCOME_FAILURE;
	estep(&h);
	silent(&h);
	step_at(&h, "rita", MMR_ACTION_AUTH, &DENVER, T0);
	silent(&h);
	/* from a corporate network too: the tool is on the device wherever it is */
	at(&h, "rita", MMR_ACTION_AUTH, &DENVER, T0, "AnyDesk");
	h.x.remote_tool = "AnyDesk";
	h.x.external = false;
	h.param[0] = 50;
	estep(&h);
	dh_expect_points(&h, TOOL, 50);
	dh_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_travel_fires_on_impossible_jump),
		cmocka_unit_test(test_travel_silent_for_a_real_flight),
		cmocka_unit_test(test_travel_accuracy_radius_respected),
		cmocka_unit_test(test_travel_min_distance_and_same_isp),
		cmocka_unit_test(test_travel_params),
		cmocka_unit_test(test_traveller_phone_home_routed_silent),
		cmocka_unit_test(test_enrich_mobile_flags),
		cmocka_unit_test(test_inflight_wifi_is_nowhere),
		cmocka_unit_test(test_vpn_exits_are_not_travel),
		cmocka_unit_test(test_concurrent_planted_cn_session),
		cmocka_unit_test(test_concurrent_planted_hk_exit),
		cmocka_unit_test(test_concurrent_vpn_end_overlap),
		cmocka_unit_test(test_concurrent_window),
		cmocka_unit_test(test_failures_corporate_and_unknown_places_ignored),
		cmocka_unit_test(test_out_of_order_and_clock_jumps),
		cmocka_unit_test(test_hosting_and_vpn),
		cmocka_unit_test(test_watch_country),
		cmocka_unit_test(test_declared_country_mismatch),
		cmocka_unit_test(test_remote_access_tool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
