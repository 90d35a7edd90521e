/* One client device used by several accounts: the "many-to-one" indicators of the research
 * (§6 #4 "distinct users per device ID or MAC", §6 #9 "a single device was repeatedly used to
 * complete MFA for multiple user accounts", Microsoft Defender Experts, Dec 2025). A person
 * who operates several stolen identities tends to do it from one machine or one phone.
 *
 * What a device is: the event's device field (rulebase/SCHEMA.md): a GlobalProtect machine
 * name, a Pulse host name, Okta's managed-device name, a RADIUS calling-station id, or an MFA
 * authenticator's device id where a mapping extracts one. It is compared trimmed and
 * case-insensitively. Generic names that many unrelated machines carry are ignored, since
 * they identify a kind of device, not one device:
 *
 *   "" unknown unknown-device localhost localhost.localdomain null none n/a na - default
 *   computer desktop laptop pc mobile phone tablet iphone ipad android windows mac macbook
 *   "macbook pro" "macbook air" imac linux ubuntu chromebook
 *
 * (Okta's client.device is the device class Computer/Mobile/Unknown; default Windows names
 * such as DESKTOP-4F2K9QX are unique and do count.) Only non-failed events from external
 * addresses count: hot desks, kiosks, jump hosts and VDI pools on the corporate network carry
 * many accounts legitimately, and failed attempts prove nothing about who uses the device.
 * Accounts whose names contain one another at a word boundary (alice, alice-admin,
 * adm_alice) are one person's accounts and count once (account_names.h).
 *
 * Representation: an LRU table keyed by the lower-cased device name (config max_ips entries,
 * shared cap with the IP tables), each entry the last 8 distinct accounts seen on it
 * (account_names.h: hash, last event time, name cut to 23 bytes for the explanation), 288
 * bytes per device. When all slots are taken the least recently seen account is replaced.
 *
 * device.shared_across_accounts fires on an event when the accounts seen on its device within
 * device.window (7 days), this one included, reach device.min_accounts (3): 45 points plus
 * device.step_points (10) per further account, at most 75. Two accounts are not enough by
 * default: a couple sharing a family computer, or an engineer's test account, is common. No
 * baseline is needed: this is a cross-entity count.
 *
 * Saved state (docs/state.md): the device table. With pseudonymization the account names are
 * not written and their hashes are enciphered (explanations after a restore show "~" + 8 hex
 * digits for an account seen before it, until its next event on the device); the device
 * names, the table's keys, are kept as they are: they are needed to find the device again.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "account_names.h"
#include "detector.h"
#include "../state/lru_table.h"
#include "../state/snapshot.h"

#define KEY_MAX 128

static const char *const rules[] = {"device.shared_across_accounts", NULL};

enum { P_MIN, P_WINDOW, P_POINTS, P_STEP };

static const mmr_param params[] = {
	{"device.min_accounts", 3, 2, 8, "distinct accounts on one device that fire"},
	{"device.window", 7 * 86400, 3600, 90 * 86400, "seconds an account stays counted"},
	{"device.points", 45, 0, 100, "points at device.min_accounts accounts"},
	{"device.step_points", 10, 0, 50, "points added per further account (total at most 75)"},
	{NULL, 0, 0, 0, NULL},
};

static const char *const generic[] = {
	"unknown", "unknown-device", "localhost", "localhost.localdomain", "null", "none", "n/a",
	"na", "-", "default", "computer", "desktop", "laptop", "pc", "mobile", "phone",
	"tablet", "iphone", "ipad", "android", "windows", "mac", "macbook", "macbook pro",
	"macbook air", "imac", "linux", "ubuntu", "chromebook", NULL,
};

static double param(const mmr_detect_ctx *ctx, int i)
{
	return ctx->param ? ctx->param[i] : params[i].def;
}

static void *global_new(const mmr_config *cfg)
{
	return mmr_lru_table_new(cfg->max_ips, sizeof(mmr_accounts), 16);
}

/* The device key: trimmed, lower-cased; 0 when the name is generic or empty. */
static size_t device_key(const char *device, char key[KEY_MAX])
{
	while (*device == ' ' || *device == '\t')
		device++;
	size_t n = strnlen(device, KEY_MAX - 1);
	while (n > 0 && (device[n - 1] == ' ' || device[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++)
		key[i] = (char)tolower((unsigned char)device[i]);
	key[n] = '\0';
	if (n == 0)
		return 0;
	for (int i = 0; generic[i]; i++)
		if (strcmp(key, generic[i]) == 0)
			return 0;
	return n;
}

static bool relevant(const mmr_detect_ctx *ctx, char key[KEY_MAX], size_t *keylen)
{
	const mmr_event *ev = ctx->ev;
	if (ev->outcome == MMR_OUTCOME_FAILURE || !ev->device[0])
		return false;
	bool external = ctx->x ? ctx->x->external : mmr_ip_is_external(ctx->cfg, &ev->src_ip);
	if (!external || strcasecmp(ev->device, ev->user) == 0)
		return false;
	*keylen = device_key(ev->device, key);
	return *keylen > 0;
}

/* The device's accounts with its stripe locked in hold (release it in every case); NULL when
 * the event does not count, or the device is unknown and create is false. */
static mmr_accounts *accounts_of(const mmr_detect_ctx *ctx, bool create, mmr_lru_hold *hold)
{
	char key[KEY_MAX];
	size_t keylen;
	hold->stripe = NULL;
	if (!relevant(ctx, key, &keylen))
		return NULL;
	return mmr_lru_acquire(ctx->global, key, keylen, create, NULL, hold);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	mmr_lru_hold hold;
	const mmr_accounts *u = accounts_of(ctx, false, &hold);
	if (u == NULL) {
		mmr_lru_release(&hold);
		return;
	}
	const int64_t window = (int64_t)param(ctx, P_WINDOW);
	bool counted[MMR_ACCT_SLOTS];
	char others[96];
	unsigned n = 1 + mmr_accounts_others(u, ev->user, ev->time - window, counted, others,
					     sizeof(others));
	mmr_lru_release(&hold);
	unsigned min = (unsigned)param(ctx, P_MIN);
	if (n < min)
		return;
	int points = (int)param(ctx, P_POINTS) + (int)param(ctx, P_STEP) * (int)(n - min);
	if (points > 75)
		points = 75;
	if (points < (int)param(ctx, P_POINTS))
		points = (int)param(ctx, P_POINTS);
	mmr_contrib_add(out, rules[0], points,
			"device \"%.40s\" used by %u distinct accounts within %ld days (also: %s)",
			ev->device, n, (long)(window / 86400), others);
}

static void learn(const mmr_detect_ctx *ctx)
{
	mmr_lru_hold hold;
	mmr_accounts *u = accounts_of(ctx, true, &hold);
	if (u != NULL) {
		int slot = mmr_accounts_learn(u, ctx->ev->user, ctx->ev->time);
		mmr_snap_name_back(u->name[slot], MMR_ACCT_NAME, ctx->ev->user);
	}
	mmr_lru_release(&hold);
}

static void dev_pseudo(void *value, const mmr_snap_pseudo *p)
{
	mmr_accounts *a = value;
	mmr_snap_pseudo_accounts(p, a->hash, &a->name[0][0], MMR_ACCT_NAME, MMR_ACCT_SLOTS);
}

static void dev_repair(void *value)
{
	mmr_accounts *a = value;
	for (int i = 0; i < MMR_ACCT_SLOTS; i++)
		a->name[i][MMR_ACCT_NAME - 1] = '\0';
}

static int global_save(void *g, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	(void)o;
	return mmr_snap_put_table(w, g, dev_pseudo);
}

static int global_load(void *g, mmr_snap_reader *r)
{
	return mmr_snap_get_table(r, g, dev_pseudo, dev_repair);
}

const mmr_detector mmr_detector_shared_device = {
	.name = "shared_device",
	.rules = rules,
	.user_state_size = 0,
	.params = params,
	.global_new = global_new,
	.global_free = mmr_table_global_free,
	.score = score,
	.learn = learn,
	.stats = mmr_table_global_stats,
	.state_version = 1,
	.global_save = global_save,
	.global_load = global_load,
	.global_bytes = mmr_snap_table_global_bytes,
};
