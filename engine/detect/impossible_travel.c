/* Impossible travel and concurrent sessions: where the person is, from one event to the next.
 *
 * Which events say where the person is. A "location observation" is a non-failed event from an
 * external source (not private, not corporate: office NAT and VPN pools are where the company
 * is, not the person) whose geography is known (country and coordinates). Two kinds of event
 * are left out because they do not prove where the person is:
 *
 *   - mobile events: a phone keeps egressing through its home carrier when it roams abroad
 *     (home-routed roaming, the GSMA default for data), so a traveller's phone shows the home
 *     country while the laptop is on hotel Wi-Fi abroad, minutes apart, legitimately. Entra
 *     and Sentinel suppress this with device context; the equivalent here is enrichment's
 *     x->mobile (detect/detector.h, computed in enrich/enrich.c): the user agent names a
 *     mobile OS, app or HTTP stack (iPhone, iPad, Android, "Mobile", Okta Verify, okhttp,
 *     CFNetwork, Dalvik), or Okta's device class is "Mobile"/"Tablet", or, when the log
 *     carries no user agent at all (VPN gateways, RADIUS), the AS organisation is a mobile
 *     carrier ("Wireless", "Mobil...", "Movil", "Cellular", "Celular"). A desktop user agent
 *     on a carrier network counts (a laptop tethered at home; and "China Mobile" also sells
 *     home broadband).
 *   - in-flight Wi-Fi and satellite access (AS organisation Gogo, Panasonic Avionics, Viasat,
 *     Inmarsat, Intelsat, Anuvu, SpaceX/Starlink): the address geolocates to the provider's
 *     ground station or point of presence, often in another country than the user
 *     (x->inflight_or_satellite, classified once per AS organisation by enrich/client.c).
 *   - failed sign-ins: anyone can fail a login with a known name from anywhere (scanners); the
 *     failure-burst detectors cover them.
 *
 * Representation (per user, 144 bytes): the three most recently used places, 48 bytes each,
 *
 *   last        int64   time of the last activity there (0 = empty slot)
 *   up          int64   start of a VPN session from there that has not ended yet, 0 = none
 *   cross       int64   first time in this episode that activity here was seen while another
 *                       far place was live ("B while A is up"), 0 = none
 *   lat, lon    int32   degrees x 1e4 (11 m) of the first observation of the place
 *   asn         uint32  AS number (0 = unknown)
 *   acc_km      uint16  GeoIP accuracy radius (0 = not given: travel.default_accuracy_km)
 *   cc[2]       char    ISO country
 *   exit        uint8   a commercial VPN, proxy or hosting exit (see below)
 *   peer        uint8   1 + slot index of the place that was live at "cross", 0 = none
 *
 * Two observations are the same place when both are exits or both are not, the country is
 * the same and their distance minus both accuracy radii is at most 100 km. A new place takes
 * an empty slot or the one used least recently.
 *
 * geo.impossible_travel (40): the speed from the user's previous location observation (the
 * most recent place, by last activity at or before this event, that is not an exit) to this
 * one exceeds travel.max_speed_kmh (1000: faster than an airliner's ground speed) while the
 * two are at least travel.min_distance_km (500) apart. Following the accuracy-radius idea of
 * MaxMind (accuracy_radius is the radius in km around the coordinates within which the address
 * is located with about 67% confidence), the speed is
 *
 *   speed = (distance - accuracy_a - accuracy_b) / hours   (distance: mmr_geo_distance_km,
 *                                                           haversine, R 6371 km)
 *
 * so two fuzzy locations whose circles overlap are never "impossible". Commercial VPN, proxy
 * and hosting exits (x->commercial_vpn, proxy, hosting) hide where the person is: a jump into
 * or out of one is not evidence of travel (network_facts reports the exit itself) and exits
 * are never the reference. A jump inside one country on one AS number is the ISP's
 * geolocation moving (pools re-announced elsewhere), not the person, and is ignored.
 *
 * geo.concurrent_sessions (45): the account is active from two places at once. A place is
 * live at time t when it had activity within concurrent.window (30 min) of t, or a VPN session
 * from it started within concurrent.session_max (12 h) and has not ended. Two places are far
 * apart when the countries differ and the distance minus both accuracy radii is at least
 * concurrent.min_distance_km (500). The rule asks for both directions, A, B, A:
 *
 *   1. activity at B while A is live (the second sign-in while the first session is up), then
 *   2. activity at A again while B is live; or A's VPN session ends more than
 *      concurrent.window after B became active (A's tunnel demonstrably stayed up next to B's,
 *      longer than any gateway's dead-peer or idle timeout that follows a network switch).
 *
 * One switch alone (A then B) is what a network change or a VPN toggled on looks like; the
 * way back is what two people working in parallel look like. A handover is recognised when the
 * gateway logs it: A's tunnel ending within concurrent.window after B became active cancels
 * that direction (the old tunnel died with the network switch). Exits count here: "the user's
 * normal US session is up while the account is also used from a Hong Kong VPN exit" is the
 * research indicator #3 ("multiple logins ... from various IP addresses ... associated with
 * different countries"). When both rules would fire on one event only concurrent_sessions is
 * reported: it is the stronger statement of the same evidence.
 *
 * Neither rule needs a converged baseline: they compare two observations with physics, not the
 * user with a statistical habit, and new accounts (a laptop farm's) are the interesting ones.
 * Event time only; late events compare with the place active before them; a clock years off
 * finds no reference and teaches one slot at worst.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "enrich/geoip.h"

#define PLACES 3
#define SAME_PLACE_KM 100.0

typedef struct {
	int64_t last;
	int64_t up;
	int64_t cross;
	int32_t lat_e4, lon_e4;
	uint32_t asn;
	uint16_t acc_km;
	char cc[2];
	uint8_t exit;
	uint8_t peer;
} place;

typedef struct {
	place p[PLACES];
} travel_state;

static const char *const rules[] = {"geo.impossible_travel", "geo.concurrent_sessions", NULL};

enum {
	P_SPEED,
	P_TRAVEL_KM,
	P_TRAVEL_POINTS,
	P_DEFAULT_ACC,
	P_WINDOW,
	P_SESSION_MAX,
	P_CONC_KM,
	P_CONC_POINTS,
};

static const mmr_param params[] = {
	{"travel.max_speed_kmh", 1000, 300, 5000,
	 "speed (km/h, after subtracting both accuracy radii) above which travel is impossible"},
	{"travel.min_distance_km", 500, 50, 5000,
	 "minimum distance (km) between the two locations for impossible travel"},
	{"travel.points", 40, 0, 100, "points of geo.impossible_travel"},
	{"travel.default_accuracy_km", 50, 0, 1000,
	 "accuracy radius (km) assumed when the location has none"},
	{"concurrent.window", 1800, 60, 86400,
	 "seconds after its last activity that a place still counts as live"},
	{"concurrent.session_max", 43200, 600, 7 * 86400,
	 "seconds a VPN session without an end event counts as up"},
	{"concurrent.min_distance_km", 500, 50, 5000,
	 "minimum distance (km, after both accuracy radii) between two concurrent places"},
	{"concurrent.points", 45, 0, 100, "points of geo.concurrent_sessions"},
	{NULL, 0, 0, 0, NULL},
};

static double param(const mmr_detect_ctx *ctx, int i)
{
	return ctx->param ? ctx->param[i] : params[i].def;
}

/* ---- what an event says ------------------------------------------------------------------ */

/* A phone or tablet, whose address need not be where the person is (home-routed roaming), or
 * a network whose addresses are not where its users are (in-flight Wi-Fi, satellite). */
static bool unplaceable(const mmr_enriched *x)
{
	return x->mobile || x->inflight_or_satellite;
}

static bool observable(const mmr_detect_ctx *ctx)
{
	const mmr_enriched *x = ctx->x;
	return x && x->external && x->has_location && x->country[0] &&
	       ctx->ev->outcome != MMR_OUTCOME_FAILURE && !unplaceable(x);
}

static bool is_exit(const mmr_enriched *x)
{
	return x->commercial_vpn || x->proxy || x->hosting;
}

/* An event that says a session ended: it tells where a session was, not that someone works. */
static bool is_end(const mmr_event *ev)
{
	return ev->action == MMR_ACTION_VPN_END || ev->action == MMR_ACTION_LOGOUT;
}

/* ---- geometry ---------------------------------------------------------------------------- */

static double acc_of(const mmr_detect_ctx *ctx, uint16_t acc)
{
	return acc ? (double)acc : param(ctx, P_DEFAULT_ACC);
}

/* The event's coordinates against a stored place: raw distance, and the distance minus both
 * accuracy radii (may be negative: the circles overlap). */
static double dist_to(const mmr_detect_ctx *ctx, const place *p, double *eff)
{
	const mmr_enriched *x = ctx->x;
	double d = mmr_geo_distance_km(x->lat, x->lon, p->lat_e4 / 1e4, p->lon_e4 / 1e4);
	*eff = d - acc_of(ctx, x->accuracy_km) - acc_of(ctx, p->acc_km);
	return d;
}

static bool same_country(const place *p, const char *cc)
{
	return p->cc[0] == cc[0] && p->cc[1] == cc[1];
}

static int find_place(const mmr_detect_ctx *ctx, const travel_state *st, bool exit)
{
	for (int i = 0; i < PLACES; i++) {
		const place *p = &st->p[i];
		double eff;
		if (p->last == 0 && p->up == 0)
			continue;
		if (p->exit != exit || !same_country(p, ctx->x->country))
			continue;
		dist_to(ctx, p, &eff);
		if (eff <= SAME_PLACE_KM)
			return i;
	}
	return -1;
}

static bool used(const place *p)
{
	return p->last != 0 || p->up != 0;
}

static bool live(const mmr_detect_ctx *ctx, const place *p, int64_t t)
{
	int64_t w = (int64_t)param(ctx, P_WINDOW), smax = (int64_t)param(ctx, P_SESSION_MAX);
	if (p->last && t >= p->last - w && t <= p->last + w)
		return true;
	return p->up && t >= p->up && t - p->up <= smax;
}

/* Different countries and at least concurrent.min_distance_km apart beyond the accuracies. */
static bool far_apart(const mmr_detect_ctx *ctx, const place *p, double *km)
{
	double eff;
	*km = dist_to(ctx, p, &eff);
	return !same_country(p, ctx->x->country) && eff >= param(ctx, P_CONC_KM);
}

/* ---- formatting -------------------------------------------------------------------------- */

static void hhmm(int64_t t, char *buf, size_t len)
{
	int64_t s = ((t % 86400) + 86400) % 86400;
	snprintf(buf, len, "%02d:%02dZ", (int)(s / 3600), (int)(s / 60 % 60));
}

static void span(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 3600)
		snprintf(buf, len, "%d min", (int)(secs / 60));
	else
		snprintf(buf, len, "%d h %02d min", (int)(secs / 3600), (int)(secs / 60 % 60));
}

static void where(const mmr_enriched *x, char *buf, size_t len)
{
	if (x->city[0])
		snprintf(buf, len, "%s (%s)", x->country, x->city);
	else
		snprintf(buf, len, "%s", x->country);
}

/* ---- the rules --------------------------------------------------------------------------- */

static bool concurrent(const mmr_detect_ctx *ctx, const travel_state *st, int self,
		       mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	const int64_t t = ev->time, w = (int64_t)param(ctx, P_WINDOW);
	const int64_t smax = (int64_t)param(ctx, P_SESSION_MAX);
	char here[64], a[16], b[32];
	if (self < 0)
		return false; /* a place never seen before cannot be the "A again" */
	for (int i = 0; i < PLACES; i++) {
		const place *o = &st->p[i];
		double km;
		if (i == self || !used(o) || o->peer != self + 1 || o->cross == 0 ||
		    !far_apart(ctx, o, &km))
			continue;
		if (ev->action == MMR_ACTION_VPN_END) {
			/* our tunnel stayed up next to theirs for longer than a network switch */
			const place *me = &st->p[self];
			int64_t up = me->up ? me->up : ev->duration > 0 ? t - ev->duration : 0;
			if (up == 0 || o->cross < up || t - o->cross < w)
				continue;
			where(ctx->x, here, sizeof(here));
			span(t - o->cross, b, sizeof(b));
			hhmm(o->cross, a, sizeof(a));
			mmr_contrib_add(out, rules[1], (int)param(ctx, P_CONC_POINTS),
					"two concurrent sessions: the VPN session from %s stayed up %s "
					"after the account became active from %.2s %.0f km away (%s)",
					here, b, o->cc, km, a);
			return true;
		}
		if (is_end(ev) || t < o->cross || t - o->cross > smax || !live(ctx, o, t))
			continue;
		where(ctx->x, here, sizeof(here));
		hhmm(o->cross, a, sizeof(a));
		mmr_contrib_add(out, rules[1], (int)param(ctx, P_CONC_POINTS),
				"two concurrent sessions: %s and %.2s (%.0f km apart) in use in "
				"parallel since %s, activity alternating between them",
				here, o->cc, km, a);
		return true;
	}
	return false;
}

static void impossible_travel(const mmr_detect_ctx *ctx, const travel_state *st, int self,
			      mmr_contribs *out)
{
	const mmr_enriched *x = ctx->x;
	const int64_t t = ctx->ev->time;
	int ref = -1;
	for (int i = 0; i < PLACES; i++) {
		const place *p = &st->p[i];
		if (p->last == 0 || p->exit || p->last > t)
			continue;
		if (ref < 0 || p->last > st->p[ref].last)
			ref = i;
	}
	if (ref < 0 || ref == self)
		return;
	const place *p = &st->p[ref];
	double eff, d = dist_to(ctx, p, &eff);
	if (d < param(ctx, P_TRAVEL_KM) || eff <= 0)
		return;
	if (same_country(p, x->country) && p->asn && p->asn == x->asn)
		return; /* one ISP's pool geolocated in two places */
	int64_t dt = t - p->last;
	double kmh = eff / ((dt > 0 ? (double)dt : 1.0) / 3600.0);
	if (kmh <= param(ctx, P_SPEED))
		return;
	char here[64], gap[32];
	where(x, here, sizeof(here));
	span(dt, gap, sizeof(gap));
	mmr_contrib_add(out, rules[0], (int)param(ctx, P_TRAVEL_POINTS),
			"activity from %s %s after %.2s, %.0f km away: %.0f km/h allowing for "
			"%.0f km of GeoIP accuracy (limit %.0f km/h)",
			here, gap, p->cc, d, kmh > 99999 ? 99999 : kmh, d - eff,
			param(ctx, P_SPEED));
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	if (!observable(ctx))
		return;
	const travel_state *st = ctx->user_state;
	bool exit = is_exit(ctx->x);
	int self = find_place(ctx, st, exit);
	if (concurrent(ctx, st, self, out))
		return;
	if (!exit && !is_end(ctx->ev))
		impossible_travel(ctx, st, self, out);
}

static void learn(const mmr_detect_ctx *ctx)
{
	if (!observable(ctx))
		return;
	travel_state *st = ctx->user_state;
	const mmr_event *ev = ctx->ev;
	const mmr_enriched *x = ctx->x;
	const int64_t t = ev->time;
	bool exit = is_exit(x);
	int self = find_place(ctx, st, exit);
	if (self < 0) {
		if (is_end(ev))
			return; /* the end of a session we never saw start teaches nothing */
		self = 0;
		for (int i = 0; i < PLACES; i++) {
			int64_t ui = st->p[i].last > st->p[i].up ? st->p[i].last : st->p[i].up;
			int64_t us = st->p[self].last > st->p[self].up ? st->p[self].last
								       : st->p[self].up;
			if (!used(&st->p[i])) {
				self = i;
				break;
			}
			if (ui < us)
				self = i;
		}
		for (int i = 0; i < PLACES; i++)
			if (st->p[i].peer == self + 1) {
				st->p[i].peer = 0;
				st->p[i].cross = 0;
			}
		place *n = &st->p[self];
		memset(n, 0, sizeof(*n));
		n->lat_e4 = (int32_t)lround(x->lat * 1e4);
		n->lon_e4 = (int32_t)lround(x->lon * 1e4);
		n->acc_km = x->accuracy_km;
		n->asn = x->asn;
		n->cc[0] = x->country[0];
		n->cc[1] = x->country[1];
		n->exit = exit;
	}
	place *me = &st->p[self];
	if (ev->action == MMR_ACTION_VPN_END) {
		/* our tunnel ended within the window after another place became active: a
		 * handover (network switch, privacy VPN switched on), not two sessions */
		int64_t up = me->up ? me->up : ev->duration > 0 ? t - ev->duration : 0;
		for (int i = 0; i < PLACES; i++) {
			place *o = &st->p[i];
			if (i != self && o->peer == self + 1 && o->cross && up && o->cross >= up &&
			    t >= o->cross && t - o->cross < (int64_t)param(ctx, P_WINDOW)) {
				o->cross = 0;
				o->peer = 0;
			}
		}
		if (me->up && t >= me->up)
			me->up = 0;
		return;
	}
	if (is_end(ev))
		return;
	/* activity here while another far place is live: one direction of a concurrency */
	int peer = -1;
	for (int i = 0; i < PLACES; i++) {
		double km;
		const place *o = &st->p[i];
		if (i == self || !used(o) || !live(ctx, o, t) || !far_apart(ctx, o, &km))
			continue;
		if (peer < 0 || o->last > st->p[peer].last)
			peer = i;
	}
	if (peer >= 0) {
		if (me->peer != peer + 1 || me->cross == 0 || t < me->cross ||
		    t - me->cross > (int64_t)param(ctx, P_SESSION_MAX)) {
			me->peer = (uint8_t)(peer + 1);
			me->cross = t ? t : 1;
		}
	}
	if (t > me->last || me->last == 0)
		me->last = t ? t : 1;
	if (ev->action == MMR_ACTION_VPN_START ||
	    (ev->action == MMR_ACTION_IP_ASSIGNED && me->up == 0))
		me->up = t ? t : 1;
}

const mmr_detector mmr_detector_impossible_travel = {
	.name = "impossible_travel",
	.rules = rules,
	.user_state_size = sizeof(travel_state),
	.params = params,
	.score = score,
	.learn = learn,
	.state_version = 1,
};
