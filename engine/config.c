/* Engine configuration: defaults and validation. The rationale of each default is in
 * docs/configuration.md; the rsyslog module maps its parameters onto these fields. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmriskscore/engine.h"
#include "net/netlist.h"
#include "detect/failure_window.h"
#include "score/model.h"

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
	cfg->newhire_factor = 1.5;
	cfg->privileged_factor = 1.25;
}

void mmr_config_clear(mmr_config *cfg)
{
	mmr_netlist_free(cfg->corporate);
	cfg->corporate = NULL;
	if (cfg->model) {
		free(cfg->model->v);
		free(cfg->model);
		cfg->model = NULL;
	}
}

/* The settings of mmr_config by name: the same names as the rsyslog action parameters. */
typedef enum { T_U32, T_DUR, T_DBL } setting_type;
static const struct setting {
	const char *key;
	setting_type type;
	size_t off;
} settings[] = {
	{"learning.minevents", T_U32, offsetof(mmr_config, learning_min_events)},
	{"learning.mindays", T_U32, offsetof(mmr_config, learning_min_days)},
	{"userscore.halflife", T_DUR, offsetof(mmr_config, user_score_halflife)},
	{"userscore.scale", T_DBL, offsetof(mmr_config, user_score_scale)},
	{"userscore.rulecooldown", T_DUR, offsetof(mmr_config, rule_cooldown)},
	{"farm.minusers", T_U32, offsetof(mmr_config, farm_min_users)},
	{"farm.window", T_DUR, offsetof(mmr_config, farm_window)},
	{"failburst.user.count", T_U32, offsetof(mmr_config, failburst_user_count)},
	{"failburst.ip.count", T_U32, offsetof(mmr_config, failburst_ip_count)},
	{"failburst.window", T_DUR, offsetof(mmr_config, failburst_window)},
	{"state.maxusers", T_U32, offsetof(mmr_config, max_users)},
	{"state.maxips", T_U32, offsetof(mmr_config, max_ips)},
	{"newhire.factor", T_DBL, offsetof(mmr_config, newhire_factor)},
	{"privileged.factor", T_DBL, offsetof(mmr_config, privileged_factor)},
	{"time.maxfuture", T_DUR, offsetof(mmr_config, max_future)},
};

/* "90", "1.5", "36h", "30m", "7d", "45s": a number with an optional duration unit. */
static int parse_number(const char *v, double *out, bool *had_unit)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (end == v || errno != 0 || !isfinite(d))
		return -1;
	*had_unit = false;
	if (*end) {
		double mul = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 0;
		if (mul == 0 || end[1] != '\0')
			return -1;
		d *= mul;
		*had_unit = true;
	}
	*out = d;
	return 0;
}

int mmr_config_set(mmr_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const struct setting *st = NULL;
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(settings[i].key, key) == 0)
			st = &settings[i];
	if (st == NULL)
		return 1;
	double d;
	bool unit;
	if (parse_number(value, &d, &unit) != 0 || (unit && st->type != T_DUR)) {
		snprintf(err, errlen, "%s: \"%s\" is not a %s", key, value,
			 st->type == T_DUR ? "duration (90, 90s, 30m, 36h, 7d)" : "number");
		return -1;
	}
	char *p = (char *)cfg + st->off;
	switch (st->type) {
	case T_U32:
		if (d < 0 || d > 4294967295.0 || d != floor(d)) {
			snprintf(err, errlen, "%s: \"%s\" is not a whole number >= 0", key, value);
			return -1;
		}
		*(uint32_t *)p = (uint32_t)d;
		break;
	case T_DUR:
		if (d < 0 || d > 3650.0 * 86400) {
			snprintf(err, errlen, "%s: \"%s\" is not a duration of 0-3650 days", key, value);
			return -1;
		}
		*(int64_t *)p = (int64_t)llround(d);
		break;
	case T_DBL:
		*(double *)p = d;
		break;
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int model_add(struct mmr_model *m, const char *key, double value, int line)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].key, key) == 0) { /* the last assignment wins, as in rsyslog */
			m->v[i].value = value;
			m->v[i].line = line;
			return 0;
		}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 32;
		mmr_model_entry *v = realloc(m->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		m->v = v;
		m->cap = cap;
	}
	mmr_model_entry *e = &m->v[m->n++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->value = value;
	e->line = line;
	return 0;
}

int mmr_config_load_model(mmr_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct mmr_model *m = cfg->model;
	if (m == NULL && (m = cfg->model = calloc(1, sizeof(*m))) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(m->path, sizeof(m->path), "%s", path);
	char buf[1024], e2[256];
	int line = 0, rc = 0;
	while (rc == 0 && fgets(buf, sizeof(buf), f)) {
		line++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %zu bytes", path, line,
				 sizeof(buf) - 2);
			rc = -1;
			break;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(buf);
		if (*s == '\0')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected \"key = value\", got \"%.80s\"", path,
				 line, s);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		if (*key == '\0' || *val == '\0' || strlen(key) >= sizeof(m->v[0].key)) {
			snprintf(err, errlen, "%s:%d: empty or too long key or value", path, line);
			rc = -1;
			break;
		}
		int r = mmr_config_set(cfg, key, val, e2, sizeof(e2));
		if (r == 0 && mmr_config_validate(cfg, e2, sizeof(e2)) != 0)
			r = -1; /* out of range: say so here, where file and line are known */
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, line, e2);
			rc = -1;
		} else if (r == 1) {
			double d;
			bool unit;
			if (strcasecmp(val, "off") == 0 || strcasecmp(val, "false") == 0)
				d = 0; /* rule.X.weight = off */
			else if (parse_number(val, &d, &unit) != 0) {
				snprintf(err, errlen, "%s:%d: %s: \"%s\" is not a number", path, line,
					 key, val);
				rc = -1;
				break;
			}
			if (model_add(m, key, d, line) != 0) {
				snprintf(err, errlen, "out of memory");
				rc = -1;
			}
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
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
	CHECK(c->max_future >= 0, "time.maxfuture must not be negative");
	CHECK(c->newhire_factor >= 0 && c->newhire_factor <= 10, "newhire.factor must be 0-10");
	CHECK(c->privileged_factor >= 0 && c->privileged_factor <= 10,
	      "privileged.factor must be 0-10");
	return 0;
}
