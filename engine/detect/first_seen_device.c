/* First-seen device and MFA factor: the account is used from a client it has not used before,
 * or completes MFA with a factor it has not used before.
 *
 *   device.first_seen      10  a device (the log's device name or id; else the user agent's
 *                              family, "Chrome on Windows") not used in the lookback (90 days)
 *   mfa.first_seen_factor  20  an MFA factor (Okta's OKTA_VERIFY_PUSH, an "Okta Verify"
 *                              enrolment, ...) not used in the lookback (180 days)
 *
 * Both compare the user with their own history and stay silent until the baseline converged.
 *
 * Research: Sentinel UEBA's FirstTimeUserConnectedFromDevice (30 days) and
 * FirstTimeUserConnectedViaBrowser; FBI PSA I-012325 (Jan 2025): DPRK IT workers use stolen
 * session cookies "to initiate work sessions from non-company devices"; the dormant account
 * taken over with a password reset and a new Okta Verify enrolment (simulator scenario
 * dormant_wakeup) shows as a first-seen factor. The honest look-alike is the employee back from
 * leave (returning_leave): new phone, fresh enrolment, same home and hours. This detector
 * cannot tell them apart and fires for both at 20; the other detectors (network, hours,
 * targets) are what separate them, which is why the points are modest.
 *
 * The device key is simply the 32-bit hash of the device string, or of the user agent's family
 * when the log names no device (family = browser and OS from a handful of well-known tokens,
 * else the first product token: "okhttp", "curl"). Version numbers are left out on purpose:
 * a browser update is not a new device. Okta reports generic classes ("Computer", "Mobile")
 * when the device is not managed; they count as one device each.
 *
 * Representation (per user, 96 bytes): two seen sets (seen_set.h), 8 devices and 4 factors,
 * each slot a 32-bit hash and the day of the last use. A user with more devices or factors in
 * the lookback forgets the least recently used first. No global state.
 *
 * Events: devices from every successful event that names one; factors from successful MFA,
 * AUTH and ACCOUNT (enrolment) events that carry mfa_factor.
 */
#include <string.h>

#include "detector.h"
#include "first_seen_common.h"
#include "population.h"
#include "seen_set.h"

#define DEV_SLOTS 8
#define FACTOR_SLOTS 4

typedef struct {
	mmr_seen_slot dev[DEV_SLOTS];
	mmr_seen_slot factor[FACTOR_SLOTS];
} fsd_state;

static const char *const rules[] = {"device.first_seen", "mfa.first_seen_factor", NULL};

enum { P_DEV_LOOKBACK, P_DEV_POINTS, P_FACTOR_LOOKBACK, P_FACTOR_POINTS };

static const mmr_param params[] = {
	{"device.first_seen_lookback_days", 90, 1, 3650,
	 "days a device stays known to a user after its last use"},
	{"device.first_seen_points", 10, 0, 100, "points of device.first_seen"},
	{"mfa.first_seen_lookback_days", 180, 1, 3650,
	 "days an MFA factor stays known to a user after its last use"},
	{"mfa.first_seen_points", 20, 0, 100, "points of mfa.first_seen_factor"},
	{NULL, 0, 0, 0, NULL},
};

/* "Chrome on Windows", "Firefox on Linux", "curl": the user agent without versions, into
 * buf[len] (cut at len - 1 bytes); returns its length. Built with memcpy: snprintf was most
 * of its cost. */
static size_t ua_family(const char *ua, char *buf, size_t len)
{
	static const char *const os[][2] = {
		{"iPhone", "iOS"},     {"iPad", "iPadOS"},     {"Android", "Android"},
		{"CrOS", "ChromeOS"},  {"Windows", "Windows"}, {"Macintosh", "macOS"},
		{"Mac OS X", "macOS"}, {"Linux", "Linux"},
	};
	static const char *const browser[][2] = {
		{"Edg", "Edge"},          {"OPR/", "Opera"},     {"Firefox/", "Firefox"},
		{"FxiOS/", "Firefox"},    {"CriOS/", "Chrome"},  {"Chrome/", "Chrome"},
		{"Safari/", "Safari"},    {"Mobile/", "Safari"},
	};
	const char *o = NULL, *b = NULL;
	for (size_t i = 0; i < sizeof(os) / sizeof(os[0]) && !o; i++)
		if (strstr(ua, os[i][0]))
			o = os[i][1];
	for (size_t i = 0; i < sizeof(browser) / sizeof(browser[0]) && !b; i++)
		if (strstr(ua, browser[i][0]))
			b = browser[i][1];
	size_t n = 0;
	if (o) {
		if (b) {
			n = mmr_fs_cat(buf, len, n, b, strlen(b));
			n = mmr_fs_cat(buf, len, n, " on ", 4);
		} else {
			n = mmr_fs_cat(buf, len, n, "a client on ", 12);
		}
		n = mmr_fs_cat(buf, len, n, o, strlen(o));
	} else { /* the first product token: "okhttp/4.9" -> "okhttp" */
		n = mmr_fs_cat(buf, len, n, ua, strcspn(ua, "/ ;("));
	}
	return n;
}

/* The last user agent's family and device key, per thread: score() and learn() ask for the
 * same event's device one after the other, and consecutive events often carry the same user
 * agent (browsers of one version send one string). A pure function of the string, so a stale
 * entry is only ever a different string, recomputed. */
static _Thread_local struct {
	char ua[sizeof(((mmr_event *)0)->user_agent)];
	char key[MMR_FIELD_MAX + 3]; /* "ua:" and the family */
	uint32_t hash;               /* 0: the user agent names no family */
} last;

/* The device of the event, 0 when it names none; *label names it in a detail (valid until
 * the next call on this thread). */
static uint32_t device_of(const mmr_event *ev, const char **label)
{
	if (ev->device[0]) {
		*label = ev->device;
		return mmr_hash32(ev->device, strlen(ev->device));
	}
	if (!ev->user_agent[0])
		return 0;
	if (strcmp(last.ua, ev->user_agent) != 0) {
		/* a family and a device name never collide: distinct prefix */
		memcpy(last.key, "ua:", 3);
		size_t n = ua_family(ev->user_agent, last.key + 3, MMR_FIELD_MAX);
		last.hash = n ? mmr_hash32(last.key, n + 3) : 0;
		size_t u = strnlen(ev->user_agent, sizeof(last.ua) - 1);
		memcpy(last.ua, ev->user_agent, u);
		last.ua[u] = '\0';
	}
	*label = last.key + 3;
	return last.hash;
}

static bool factor_event(const mmr_event *ev)
{
	return ev->outcome == MMR_OUTCOME_SUCCESS && ev->mfa_factor[0] &&
	       (ev->action == MMR_ACTION_MFA || ev->action == MMR_ACTION_AUTH ||
		ev->action == MMR_ACTION_ACCOUNT);
}

static uint32_t lb(const mmr_detect_ctx *ctx, int i)
{
	return (uint32_t)ctx->param[i];
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const fsd_state *st = ctx->user_state;
	const mmr_event *ev = ctx->ev;
	if (!ctx->user->converged || ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	uint32_t today = mmr_seen_day(ev->time);
	const char *label = "";
	uint32_t h = device_of(ev, &label);
	uint32_t look = lb(ctx, P_DEV_LOOKBACK);
	if (h && mmr_seen_find(st->dev, DEV_SLOTS, h, today, look) < 0)
		mmr_contrib_add(out, rules[0], (int)ctx->param[P_DEV_POINTS],
				"first activity from device %.64s for this user in %u days (%d other "
				"devices known; user active %ld days)",
				label, look, mmr_seen_count(st->dev, DEV_SLOTS, today, look, h),
				mmr_user_active_days(ctx->user));
	if (!factor_event(ev))
		return;
	h = mmr_hash32(ev->mfa_factor, strlen(ev->mfa_factor));
	look = lb(ctx, P_FACTOR_LOOKBACK);
	if (mmr_seen_find(st->factor, FACTOR_SLOTS, h, today, look) < 0)
		mmr_contrib_add(out, rules[1], (int)ctx->param[P_FACTOR_POINTS],
				"first use of MFA factor %.48s by this user in %u days (%d other "
				"factors known; user active %ld days)",
				ev->mfa_factor, look,
				mmr_seen_count(st->factor, FACTOR_SLOTS, today, look, h),
				mmr_user_active_days(ctx->user));
}

static void learn(const mmr_detect_ctx *ctx)
{
	fsd_state *st = ctx->user_state;
	const mmr_event *ev = ctx->ev;
	if (ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	uint32_t today = mmr_seen_day(ev->time);
	const char *label;
	uint32_t h = device_of(ev, &label);
	if (h)
		mmr_seen_add(st->dev, DEV_SLOTS, h, today, lb(ctx, P_DEV_LOOKBACK));
	if (factor_event(ev))
		mmr_seen_add(st->factor, FACTOR_SLOTS,
			     mmr_hash32(ev->mfa_factor, strlen(ev->mfa_factor)), today,
			     lb(ctx, P_FACTOR_LOOKBACK));
}

const mmr_detector mmr_detector_first_seen_device = {
	.name = "first_seen_device",
	.rules = rules,
	.user_state_size = sizeof(fsd_state),
	.params = params,
	.score = score,
	.learn = learn,
	.state_version = 1,
};
