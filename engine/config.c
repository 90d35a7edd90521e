/* Engine configuration: defaults and validation. The rationale of each default is in
 * docs/configuration.md; the rsyslog module maps its parameters onto these fields. */
#include <stdio.h>
#include <string.h>

#include "mmriskscore/engine.h"
#include "net/netlist.h"
#include "detect/failure_window.h"

void mmr_config_init(mmr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->user_norm.strip_domain = true;
	cfg->learning_min_events = 30;
	cfg->learning_min_days = 7;
	cfg->user_score_halflife = 72 * 3600;
	cfg->user_score_scale = 60.0;
	cfg->rule_cooldown = 3600;
	cfg->farm_min_users = 3;
	cfg->farm_window = 24 * 3600;
	cfg->failburst_user_count = 5;
	cfg->failburst_ip_count = 10;
	cfg->failburst_window = 600;
	cfg->max_users = 200000;
	cfg->max_ips = 100000;
}

void mmr_config_clear(mmr_config *cfg)
{
	mmr_netlist_free(cfg->corporate);
	cfg->corporate = NULL;
}

int mmr_config_add_corporate_network(mmr_config *cfg, const char *cidr, char *err, size_t errlen)
{
	if (cfg->corporate == NULL && (cfg->corporate = mmr_netlist_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return mmr_netlist_add(cfg->corporate, cidr, err, errlen);
}

#define CHECK(cond, ...)                                                                       \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			snprintf(err, errlen, __VA_ARGS__);                                    \
			return -1;                                                             \
		}                                                                              \
	} while (0)

int mmr_config_validate(const mmr_config *c, char *err, size_t errlen)
{
	CHECK(c->learning_min_events >= 1, "learning.minevents must be at least 1");
	CHECK(c->learning_min_days <= 3650, "learning.mindays must be 0-3650");
	CHECK(c->user_score_halflife >= 60, "userscore.halflife must be at least 60 seconds");
	CHECK(c->user_score_scale >= 1 && c->user_score_scale <= 10000,
	      "userscore.scale must be 1-10000");
	CHECK(c->rule_cooldown >= 0, "userscore.rulecooldown must not be negative");
	CHECK(c->farm_min_users >= 2 && c->farm_min_users <= 8, "farm.minusers must be 2-8");
	CHECK(c->farm_window >= 60, "farm.window must be at least 60 seconds");
	CHECK(c->failburst_user_count >= 2 && c->failburst_user_count <= FW_SLOTS,
	      "failburst.user.count must be 2-%d", FW_SLOTS);
	CHECK(c->failburst_ip_count >= 2 && c->failburst_ip_count <= FW_SLOTS,
	      "failburst.ip.count must be 2-%d", FW_SLOTS);
	CHECK(c->failburst_window >= 1, "failburst.window must be at least 1 second");
	CHECK(c->max_users >= 16, "state.maxusers must be at least 16");
	CHECK(c->max_ips >= 16, "state.maxips must be at least 16");
	return 0;
}
