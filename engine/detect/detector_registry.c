/* The one table that lists the detectors. Order is the order reasons are produced in before
 * they are ranked by points; it does not change scores. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "../net/netlist.h"
#include "../state/lru_table.h"

extern const mmr_detector mmr_detector_hour_of_week_rarity;
extern const mmr_detector mmr_detector_working_timezone;
extern const mmr_detector mmr_detector_first_seen_network;
extern const mmr_detector mmr_detector_first_seen_country;
extern const mmr_detector mmr_detector_first_seen_asn;
extern const mmr_detector mmr_detector_first_seen_device;
extern const mmr_detector mmr_detector_first_seen_target;
extern const mmr_detector mmr_detector_impossible_travel;
extern const mmr_detector mmr_detector_data_volume;
extern const mmr_detector mmr_detector_long_session;
extern const mmr_detector mmr_detector_dormant_account;
extern const mmr_detector mmr_detector_auth_failure_burst;
extern const mmr_detector mmr_detector_mfa_denial_burst;
extern const mmr_detector mmr_detector_shared_source_ip;
extern const mmr_detector mmr_detector_shared_device;
extern const mmr_detector mmr_detector_network_facts;
extern const mmr_detector mmr_detector_remote_access_tool;

const mmr_detector *const mmr_detectors[] = {
	&mmr_detector_hour_of_week_rarity,
	&mmr_detector_working_timezone,
	&mmr_detector_first_seen_network,
	&mmr_detector_first_seen_country,
	&mmr_detector_first_seen_asn,
	&mmr_detector_first_seen_device,
	&mmr_detector_first_seen_target,
	&mmr_detector_impossible_travel,
	&mmr_detector_data_volume,
	&mmr_detector_long_session,
	&mmr_detector_dormant_account,
	&mmr_detector_auth_failure_burst,
	&mmr_detector_mfa_denial_burst,
	&mmr_detector_shared_source_ip,
	&mmr_detector_shared_device,
	&mmr_detector_network_facts,
	&mmr_detector_remote_access_tool,
	NULL,
};

void mmr_contrib_add(mmr_contribs *c, const char *rule, int points, const char *fmt, ...)
{
	mmr_reason *slot;
	va_list ap;

	if (points < 0)
		points = 0;
	if (points > 100)
		points = 100;
	if (c->n < c->cap) {
		slot = &c->v[c->n++];
	} else {
		/* Full: keep the strongest reasons, drop the weakest. */
		int min = 0;
		for (int i = 1; i < c->n; i++)
			if (c->v[i].points < c->v[min].points)
				min = i;
		c->dropped++;
		if (c->n == 0 || c->v[min].points >= points)
			return;
		slot = &c->v[min];
	}
	slot->rule = rule;
	slot->points = points;
	va_start(ap, fmt);
	if (fmt[0] == '%' && fmt[1] == 's' && fmt[2] == '\0') {
		/* a detail the detector built itself: vsnprintf's parsing would cost more than
		 * the copy (the same bytes: cut at the buffer's end) */
		const char *s = va_arg(ap, const char *);
		size_t l = strnlen(s, sizeof(slot->detail) - 1);
		memcpy(slot->detail, s, l);
		slot->detail[l] = '\0';
	} else {
		vsnprintf(slot->detail, sizeof(slot->detail), fmt, ap);
	}
	va_end(ap);
	/* a cut at the buffer's end (or a name cut earlier) may split a character */
	mmr_utf8_sanitize(slot->detail);
}

bool mmr_ip_is_external(const mmr_config *cfg, const mmr_ip *ip)
{
	return ip->family != 0 && !mmr_ip_is_private(ip) && !mmr_netlist_contains(cfg->corporate, ip);
}

int mmr_hour_of_week(int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t hour = (t - days * 86400) / 3600;
	int dow = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
	return dow * 24 + (int)hour;
}

void mmr_hour_of_week_label(int how, char *buf, size_t len)
{
	static const char *const names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	snprintf(buf, len, "%s %02d:00", names[(how / 24) % 7], how % 24);
}

uint32_t mmr_hash32(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h ? h : 1;
}

uint32_t mmr_user_hash32(const char *u)
{
	return mmr_hash32(u, strlen(u));
}

void mmr_table_global_free(void *table)
{
	mmr_lru_table_free(table);
}

void mmr_table_global_stats(void *table, mmr_stats *st)
{
	st->ips += mmr_lru_count(table);
	st->ips_evicted += mmr_lru_evictions(table);
}
