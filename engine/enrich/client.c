/* Phones, carriers and in-flight networks by fixed word lists (client.h).
 *
 * The words are matched case-insensitively as substrings (ASCII case), through needle indexes
 * (enrich/needles.h) built once on first use: one pass over the text for all the words of a
 * list. The AS organisation lists are one index whose tags are the MMR_ORG_* bits, so that one
 * pass finds both classes.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "enrich/client.h"
#include "enrich/needles.h"

static mmr_needle mobile_ua[] = {
	{"iphone", 0, 1},     {"ipad", 0, 1},       {"ipod", 0, 1},   {"android", 0, 1},
	{"mobile", 0, 1},     {"okta verify", 0, 1}, {"oktaverify", 0, 1}, {"okhttp", 0, 1},
	{"cfnetwork", 0, 1},  {"dalvik", 0, 1},
};

static mmr_needle org[] = {
	{"wireless", 0, MMR_ORG_CARRIER}, {"mobil", 0, MMR_ORG_CARRIER},
	{"movil", 0, MMR_ORG_CARRIER},    {"cellular", 0, MMR_ORG_CARRIER},
	{"celular", 0, MMR_ORG_CARRIER},
	{"gogo", 0, MMR_ORG_INFLIGHT},    {"avionics", 0, MMR_ORG_INFLIGHT},
	{"viasat", 0, MMR_ORG_INFLIGHT},  {"inmarsat", 0, MMR_ORG_INFLIGHT},
	{"intelsat", 0, MMR_ORG_INFLIGHT}, {"anuvu", 0, MMR_ORG_INFLIGHT},
	{"spacex", 0, MMR_ORG_INFLIGHT},  {"starlink", 0, MMR_ORG_INFLIGHT},
};

static const char *const mobile_class[] = {"mobile", "tablet", "phone", "smartphone", NULL};

static mmr_needles ua_index, org_index;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
	mmr_needles_index(&ua_index, mobile_ua, sizeof(mobile_ua) / sizeof(mobile_ua[0]));
	mmr_needles_index(&org_index, org, sizeof(org) / sizeof(org[0]));
}

uint8_t mmr_org_class(const char *as_org)
{
	if (as_org == NULL || as_org[0] == '\0')
		return 0;
	pthread_once(&once, build);
	return (uint8_t)mmr_needles_tags(&org_index, as_org, MMR_ORG_CARRIER | MMR_ORG_INFLIGHT);
}

/* The last user agent and its answer, per thread: user agents repeat (every browser of one
 * version sends one string), and a comparison costs a fraction of a scan. */
static _Thread_local struct {
	char ua[256];
	bool mobile;
} last;

bool mmr_client_mobile_ua(const char *user_agent)
{
	if (user_agent == NULL || user_agent[0] == '\0')
		return false;
	if (strcmp(last.ua, user_agent) == 0)
		return last.mobile;
	pthread_once(&once, build);
	bool mobile = mmr_needles_first(&ua_index, user_agent) != NULL;
	size_t n = strlen(user_agent);
	if (n < sizeof(last.ua)) { /* longer ones are simply not remembered */
		memcpy(last.ua, user_agent, n + 1);
		last.mobile = mobile;
	}
	return mobile;
}

bool mmr_client_mobile_class(const char *device)
{
	for (int i = 0; device && device[0] && mobile_class[i]; i++)
		if (strcasecmp(device, mobile_class[i]) == 0)
			return true;
	return false;
}
