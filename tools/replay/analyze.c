/* The scored events of a replay (or of an earlier run's enriched output), kept compactly, and
 * the analyst's views of them: ranked users, one user's timeline, shared infrastructure.
 *
 * Memory: one rp_rec (about 110 bytes) per scored event in the period, its reasons (12 bytes
 * each) and every distinct string once (interned): a month of a 500-person company is about
 * 150,000 events, 25 MB.
 */
#include <json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "replay.h"
#include "enrich/country.h"
#include "enrich/geoip.h"
#include "enrich/lists.h"
#include "enrich/roster.h"
#include "enrich/tz.h"
#include "net/netlist.h"

/* ---- interned strings --------------------------------------------------------------------- */

typedef struct {
	char *arena;
	size_t used, cap;
	uint32_t *offs;   /* id -> offset in arena */
	size_t n, ncap;
	uint32_t *slots;  /* open addressing: id + 1, 0 empty */
	size_t nslots;
} strtab;

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL) {
		fprintf(stderr, "mmriskscore-replay: out of memory\n");
		exit(1);
	}
	return q;
}

static uint32_t st_add_raw(strtab *t, const char *s, size_t n);

static void st_rehash(strtab *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *slots = calloc(ns, sizeof(uint32_t));
	if (slots == NULL) {
		fprintf(stderr, "mmriskscore-replay: out of memory\n");
		exit(1);
	}
	for (size_t id = 0; id < t->n; id++) {
		const char *s = t->arena + t->offs[id];
		size_t h = (size_t)hash_bytes(s, strlen(s)) & (ns - 1);
		while (slots[h])
			h = (h + 1) & (ns - 1);
		slots[h] = (uint32_t)id + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = ns;
}

static uint32_t st_add_raw(strtab *t, const char *s, size_t n)
{
	if (t->nslots == 0 || (t->n + 1) * 2 > t->nslots)
		st_rehash(t);
	size_t h = (size_t)hash_bytes(s, n) & (t->nslots - 1);
	while (t->slots[h]) {
		const char *c = t->arena + t->offs[t->slots[h] - 1];
		if (strncmp(c, s, n) == 0 && c[n] == '\0')
			return t->slots[h] - 1;
		h = (h + 1) & (t->nslots - 1);
	}
	if (t->used + n + 1 > t->cap) {
		size_t c = t->cap ? t->cap : 1 << 16;
		while (c < t->used + n + 1)
			c *= 2;
		t->arena = xrealloc(t->arena, c);
		t->cap = c;
	}
	if (t->n == t->ncap) {
		t->ncap = t->ncap ? t->ncap * 2 : 1024;
		t->offs = xrealloc(t->offs, t->ncap * sizeof(uint32_t));
	}
	memcpy(t->arena + t->used, s, n);
	t->arena[t->used + n] = '\0';
	t->offs[t->n] = (uint32_t)t->used;
	t->used += n + 1;
	t->slots[h] = (uint32_t)t->n + 1;
	return (uint32_t)t->n++;
}

static uint32_t st_add(strtab *t, const char *s) { return st_add_raw(t, s ? s : "", s ? strlen(s) : 0); }

/* ---- the store ---------------------------------------------------------------------------- */

struct rp_store {
	rp_store_opts o;
	strtab str;
	rp_rec *recs;
	size_t n_recs, cap_recs;
	rp_reason *reasons;
	size_t n_reasons, cap_reasons;
	uint32_t line;
	mmr_geoip *geoip;
	mmr_roster *roster;
	mmr_lists *lists;
	mmr_netlist *corporate;
	/* after finish */
	bool finished;
	rp_user *users;   /* ranked */
	size_t n_users;
	uint32_t *user_of_name; /* name id -> index in users + 1 */
	int64_t first, last;
	rp_share *shares;
	size_t n_shares;
	bool shares_built;
	int shares_min;
};

const char *rp_str(const rp_store *s, uint32_t id) { return s->str.arena + s->str.offs[id]; }
const rp_rec *rp_records(const rp_store *s) { return s->recs; }
const rp_reason *rp_reasons(const rp_store *s) { return s->reasons; }
uint64_t rp_store_events(const rp_store *s) { return s->n_recs; }

void rp_period(const rp_store *s, int64_t *first, int64_t *last)
{
	*first = s->first;
	*last = s->last;
}

rp_store *rp_store_new(const rp_store_opts *o, char *err, size_t errlen)
{
	rp_store *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->o = *o;
	st_add(&s->str, ""); /* id 0: none */
	if (o->geoip_city || o->geoip_asn) {
		s->geoip = mmr_geoip_open(o->geoip_city, o->geoip_asn, err, errlen);
		if (s->geoip == NULL)
			goto fail;
	}
	if (o->roster) {
		char warn[512] = "";
		s->roster = mmr_roster_load(o->roster, &o->norm, err, errlen, warn, sizeof(warn));
		if (s->roster == NULL)
			goto fail;
	}
	if (o->lists_dir && (s->lists = mmr_lists_load_dir(o->lists_dir, err, errlen)) == NULL)
		goto fail;
	s->corporate = mmr_netlist_new();
	for (int i = 0; i < o->n_corporate; i++)
		if (mmr_netlist_add(s->corporate, o->corporate[i], err, errlen) != 0)
			goto fail;
	return s;
fail:
	rp_store_free(s);
	return NULL;
}

void rp_store_free(rp_store *s)
{
	if (s == NULL)
		return;
	free(s->str.arena);
	free(s->str.offs);
	free(s->str.slots);
	free(s->recs);
	free(s->reasons);
	for (size_t i = 0; i < s->n_users; i++) {
		free(s->users[i].recs);
		free(s->users[i].rules);
	}
	free(s->users);
	free(s->user_of_name);
	for (size_t i = 0; i < s->n_shares; i++)
		free(s->shares[i].users);
	free(s->shares);
	if (s->geoip)
		mmr_geoip_close(s->geoip);
	mmr_roster_free(s->roster);
	mmr_lists_free(s->lists);
	mmr_netlist_free(s->corporate);
	free(s);
}

void rp_store_add(rp_store *s, const mmr_event *ev, const mmr_result *r)
{
	if ((s->o.from && ev->time < s->o.from) || (s->o.to && ev->time >= s->o.to))
		return;
	if (s->n_recs == s->cap_recs) {
		s->cap_recs = s->cap_recs ? s->cap_recs * 2 : 4096;
		s->recs = xrealloc(s->recs, s->cap_recs * sizeof(rp_rec));
	}
	rp_rec *x = &s->recs[s->n_recs++];
	memset(x, 0, sizeof(*x));
	x->t = ev->time;
	x->line = s->line++;
	x->user = st_add(&s->str, r->user[0] ? r->user : ev->user);
	x->target = st_add(&s->str, ev->target);
	x->device = st_add(&s->str, ev->device);
	x->host = st_add(&s->str, ev->host);
	x->session = st_add(&s->str, ev->session_id);
	x->src = ev->src_ip;
	x->action = (uint8_t)ev->action;
	x->outcome = (uint8_t)ev->outcome;
	x->score = (uint8_t)(r->score < 0 ? 0 : r->score > 100 ? 100 : r->score);
	x->user_score = (uint8_t)(r->user_score < 0 ? 0 : r->user_score > 100 ? 100 : r->user_score);
	x->learning = r->learning;
	x->bytes_in = ev->bytes_in;
	x->bytes_out = ev->bytes_out;
	x->duration = ev->duration;
	/* where: what the source says, else the GeoIP databases */
	char cc[3] = "";
	const char *city = ev->geo_city, *org = ev->as_org;
	mmr_geo g;
	if (ev->geo_country[0])
		mmr_country_code(ev->geo_country, cc);
	if (s->geoip && ev->src_ip.family && mmr_geoip_lookup(s->geoip, &ev->src_ip, &g)) {
		if (!cc[0])
			memcpy(cc, g.country, sizeof(cc));
		if (!city[0])
			city = g.city;
		if (!org[0])
			org = g.as_org;
	}
	x->country = st_add(&s->str, cc);
	x->city = st_add(&s->str, city);
	x->asorg = st_add(&s->str, org);
	x->reasons = (uint32_t)s->n_reasons;
	for (int i = 0; i < r->n_reasons && i < 255; i++) {
		if (s->n_reasons == s->cap_reasons) {
			s->cap_reasons = s->cap_reasons ? s->cap_reasons * 2 : 4096;
			s->reasons = xrealloc(s->reasons, s->cap_reasons * sizeof(rp_reason));
		}
		rp_reason *q = &s->reasons[s->n_reasons++];
		q->rule = st_add(&s->str, r->reasons[i].rule);
		q->detail = st_add(&s->str, r->reasons[i].detail);
		int p = r->reasons[i].points;
		q->points = (uint8_t)(p < 0 ? 0 : p > 100 ? 100 : p);
		x->n_reasons++;
	}
}

static int jint(struct json_object *o, const char *k, int def)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		return def;
	return json_object_get_int(v);
}

int rp_store_add_json(rp_store *s, struct fjson_object *risk, struct fjson_object *event,
		      int64_t fallback_time)
{
	mmr_event ev;
	mmr_result r;
	mmr_event_init(&ev);
	memset(&r, 0, sizeof(r));
	ev.time = fallback_time;
	if (event) {
		struct json_object_iterator it = json_object_iter_begin(event),
					   end = json_object_iter_end(event);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			mmr_event_set_field(&ev, json_object_iter_peek_name(&it),
					    json_object_iter_peek_value(&it), &s->o.norm);
	}
	struct json_object *v;
	if (!json_object_object_get_ex(risk, "user", &v) || json_object_get_type(v) != json_type_string)
		return -1;
	snprintf(r.user, sizeof(r.user), "%s", json_object_get_string(v));
	if (!ev.user[0])
		snprintf(ev.user, sizeof(ev.user), "%s", r.user);
	r.score = jint(risk, "score", 0);
	r.user_score = jint(risk, "user_score", 0);
	r.learning = json_object_object_get_ex(risk, "learning", &v) && json_object_get_boolean(v);
	struct json_object *arr;
	if (json_object_object_get_ex(risk, "reasons", &arr) &&
	    json_object_get_type(arr) == json_type_array) {
		int n = json_object_array_length(arr);
		for (int i = 0; i < n && r.n_reasons < MMR_MAX_REASONS; i++) {
			struct json_object *x = json_object_array_get_idx(arr, i), *rule, *det;
			if (!json_object_object_get_ex(x, "rule", &rule))
				continue;
			mmr_reason *q = &r.reasons[r.n_reasons++];
			q->rule = json_object_get_string(rule);
			q->points = jint(x, "points", 0);
			if (json_object_object_get_ex(x, "detail", &det))
				snprintf(q->detail, sizeof(q->detail), "%s", json_object_get_string(det));
		}
	}
	rp_store_add(s, &ev, &r);
	return 0;
}

/* ---- per-user views ----------------------------------------------------------------------- */

const void *rp_roster_entry(const rp_store *s, const char *user)
{
	return s->roster ? mmr_roster_find(s->roster, user) : NULL;
}

int rp_hour_of_week(int64_t t, int offset)
{
	int64_t l = t + offset;
	int64_t day = l >= 0 ? l / 86400 : (l - 86399) / 86400;
	int wd = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
	int h = (int)((l - day * 86400) / 3600);
	return wd * 24 + h;
}

int rp_local_offset(const rp_store *s, const rp_user *u, int64_t t)
{
	(void)s;
	const mmr_roster_entry *e = u->roster;
	return e && e->tz ? (int)mmr_tz_offset(e->tz, t) : 0;
}

static const rp_store *sort_store;

static int cmp_rec_idx(const void *a, const void *b)
{
	const rp_rec *x = &sort_store->recs[*(const uint32_t *)a];
	const rp_rec *y = &sort_store->recs[*(const uint32_t *)b];
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_rule(const void *a, const void *b)
{
	const rp_rule_stat *x = a, *y = b;
	if (x->points != y->points)
		return y->points - x->points;
	return strcmp(rp_str(sort_store, x->rule), rp_str(sort_store, y->rule));
}

static int cmp_user(const void *a, const void *b)
{
	const rp_user *x = a, *y = b;
	if (x->max_user_score != y->max_user_score)
		return y->max_user_score - x->max_user_score;
	if (x->high_events != y->high_events)
		return x->high_events > y->high_events ? -1 : 1;
	return strcmp(rp_str(sort_store, x->name), rp_str(sort_store, y->name));
}

void rp_store_finish(rp_store *s)
{
	if (s->finished)
		return;
	s->finished = true;
	sort_store = s;
	size_t nnames = s->str.n;
	uint32_t *count = calloc(nnames, sizeof(uint32_t));
	if (count == NULL) {
		fprintf(stderr, "mmriskscore-replay: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < s->n_recs; i++)
		count[s->recs[i].user]++;
	for (size_t id = 0; id < nnames; id++)
		if (count[id])
			s->n_users++;
	s->users = calloc(s->n_users ? s->n_users : 1, sizeof(rp_user));
	uint32_t *slot = calloc(nnames, sizeof(uint32_t));
	if (s->users == NULL || slot == NULL) {
		fprintf(stderr, "mmriskscore-replay: out of memory\n");
		exit(1);
	}
	size_t k = 0;
	for (size_t id = 0; id < nnames; id++) {
		if (!count[id])
			continue;
		rp_user *u = &s->users[k];
		u->name = (uint32_t)id;
		u->recs = xrealloc(NULL, count[id] * sizeof(uint32_t));
		slot[id] = (uint32_t)k++;
	}
	for (size_t i = 0; i < s->n_recs; i++) {
		rp_user *u = &s->users[slot[s->recs[i].user]];
		u->recs[u->n_recs++] = (uint32_t)i;
	}
	s->first = s->n_recs ? s->recs[0].t : 0;
	s->last = s->first;
	for (size_t i = 0; i < s->n_recs; i++) {
		if (s->recs[i].t < s->first)
			s->first = s->recs[i].t;
		if (s->recs[i].t > s->last)
			s->last = s->recs[i].t;
	}
	for (size_t ui = 0; ui < s->n_users; ui++) {
		rp_user *u = &s->users[ui];
		qsort(u->recs, u->n_recs, sizeof(uint32_t), cmp_rec_idx);
		u->roster = s->roster ? mmr_roster_find(s->roster, rp_str(s, u->name)) : NULL;
		const mmr_roster_entry *re = u->roster;
		u->tz_offset_known = re && re->tz;
		u->max_user_score = -1;
		size_t cap_rules = 0;
		for (size_t j = 0; j < u->n_recs; j++) {
			const rp_rec *x = &s->recs[u->recs[j]];
			if (j == 0)
				u->first = x->t;
			u->last = x->t;
			if (x->user_score > u->max_user_score) {
				u->max_user_score = x->user_score;
				u->max_at = x->t;
			}
			u->last_user_score = x->user_score;
			if (x->score >= 70)
				u->high_events++;
			u->how[rp_hour_of_week(x->t, rp_local_offset(s, u, x->t))]++;
			for (int q = 0; q < x->n_reasons; q++) {
				const rp_reason *rs = &s->reasons[x->reasons + (uint32_t)q];
				rp_rule_stat *st = NULL;
				for (size_t m = 0; m < u->n_rules; m++)
					if (u->rules[m].rule == rs->rule) {
						st = &u->rules[m];
						break;
					}
				if (st == NULL) {
					if (u->n_rules == cap_rules) {
						cap_rules = cap_rules ? cap_rules * 2 : 8;
						u->rules = xrealloc(u->rules, cap_rules * sizeof(rp_rule_stat));
					}
					st = &u->rules[u->n_rules++];
					memset(st, 0, sizeof(*st));
					st->rule = rs->rule;
					st->points = -1;
					st->first = x->t;
				}
				st->count++;
				st->last = x->t;
				if (rs->points > st->points) {
					st->points = rs->points;
					st->detail = rs->detail;
				}
			}
		}
		if (u->n_rules > 1)
			qsort(u->rules, u->n_rules, sizeof(rp_rule_stat), cmp_rule);
	}
	qsort(s->users, s->n_users, sizeof(rp_user), cmp_user);
	s->user_of_name = calloc(nnames, sizeof(uint32_t));
	if (s->user_of_name == NULL) {
		fprintf(stderr, "mmriskscore-replay: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < s->n_users; i++) {
		s->users[i].rank = (int)i + 1;
		s->user_of_name[s->users[i].name] = (uint32_t)i + 1;
	}
	free(count);
	free(slot);
}

rp_user *rp_users_ranked(rp_store *s, size_t *n)
{
	rp_store_finish(s);
	*n = s->n_users;
	return s->users;
}

rp_user *rp_find_user(rp_store *s, const char *name)
{
	rp_store_finish(s);
	char key[MMR_USER_MAX];
	bool cut;
	mmr_user_normalize(name, &s->o.norm, key, sizeof(key), &cut);
	for (int pass = 0; pass < 2; pass++) {
		const char *want = pass == 0 ? name : key;
		size_t n = strlen(want);
		if (s->str.nslots == 0)
			return NULL;
		size_t h = (size_t)hash_bytes(want, n) & (s->str.nslots - 1);
		while (s->str.slots[h]) {
			uint32_t id = s->str.slots[h] - 1;
			if (strcmp(rp_str(s, id), want) == 0) {
				if (s->user_of_name[id])
					return &s->users[s->user_of_name[id] - 1];
				break;
			}
			h = (h + 1) & (s->str.nslots - 1);
		}
	}
	return NULL;
}

bool rp_peer_how(rp_store *s, const rp_user *u, uint64_t how[168], size_t *members,
		 const char **group)
{
	memset(how, 0, 168 * sizeof(uint64_t));
	*members = 0;
	const mmr_roster_entry *me = u->roster;
	if (me == NULL)
		return false;
	*group = me->group_name;
	for (size_t i = 0; i < s->n_users; i++) {
		const rp_user *p = &s->users[i];
		const mmr_roster_entry *pe = p->roster;
		if (p == u || pe == NULL || pe->group != me->group)
			continue;
		(*members)++;
		for (int h = 0; h < 168; h++)
			how[h] += p->how[h];
	}
	return true;
}

size_t rp_sessions(const rp_store *s, const rp_user *u, int64_t gap, rp_session **out)
{
	rp_session *v = NULL;
	size_t n = 0, cap = 0;
	int open = 0;
	int64_t prev = 0;
	for (size_t j = 0; j < u->n_recs; j++) {
		const rp_rec *x = &s->recs[u->recs[j]];
		int64_t d = j ? x->t - prev : 0;
		if (d > 36 * 3600)
			open = 0;
		if (j == 0 || (d > gap && open == 0)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = xrealloc(v, cap * sizeof(rp_session));
			}
			v[n].first = j;
			n++;
		}
		v[n - 1].last = j;
		if (x->action == MMR_ACTION_VPN_START && x->outcome != MMR_OUTCOME_FAILURE)
			open++;
		else if ((x->action == MMR_ACTION_VPN_END || x->action == MMR_ACTION_LOGOUT) && open > 0)
			open--;
		prev = x->t;
	}
	*out = v;
	return n;
}

/* ---- shared infrastructure ---------------------------------------------------------------- */

typedef struct {
	bool is_device;
	mmr_ip ip;
	uint32_t device;
	uint32_t *recs;
	size_t n, cap;
} share_acc;

/* Names of a kind of device, not of one device: the list of engine/detect/shared_device.c
 * (Okta's client.device is the class Computer/Mobile/Unknown). */
static bool generic_device(const char *d)
{
	static const char *const names[] = {
		"", "unknown", "unknown-device", "localhost", "localhost.localdomain", "null",
		"none", "n/a", "na", "-", "default", "computer", "desktop", "laptop", "pc",
		"mobile", "phone", "tablet", "iphone", "ipad", "android", "windows", "mac",
		"macbook", "macbook pro", "macbook air", "imac", "linux", "ubuntu", "chromebook",
		NULL};
	while (*d == ' ')
		d++;
	size_t n = strlen(d);
	while (n > 0 && d[n - 1] == ' ')
		n--;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], d, n) == 0)
			return true;
	return false;
}

static uint64_t key_hash(bool dev, const mmr_ip *ip, uint32_t device)
{
	if (dev)
		return hash_bytes((const char *)&device, sizeof(device)) ^ 0x9e3779b97f4a7c15ull;
	return hash_bytes((const char *)ip, sizeof(*ip));
}

static int cmp_share(const void *a, const void *b)
{
	const rp_share *x = a, *y = b;
	if (x->high_accounts != y->high_accounts)
		return x->high_accounts > y->high_accounts ? -1 : 1;
	if (x->max_in_day != y->max_in_day)
		return y->max_in_day - x->max_in_day;
	if (x->n_users != y->n_users)
		return x->n_users > y->n_users ? -1 : 1;
	if (x->max_in_day != y->max_in_day)
		return y->max_in_day - x->max_in_day;
	if (x->events != y->events)
		return x->events > y->events ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u32_name(const void *a, const void *b)
{
	return strcmp(rp_str(sort_store, *(const uint32_t *)a), rp_str(sort_store, *(const uint32_t *)b));
}

rp_share *rp_shares(rp_store *s, int min_accounts, size_t *n)
{
	rp_store_finish(s);
	if (s->shares_built && s->shares_min == min_accounts) {
		*n = s->n_shares;
		return s->shares;
	}
	for (size_t i = 0; i < s->n_shares; i++)
		free(s->shares[i].users);
	free(s->shares);
	s->shares = NULL;
	s->n_shares = 0;
	sort_store = s;
	size_t nslots = 1024;
	while (nslots < s->n_recs / 2)
		nslots *= 2;
	share_acc *tab = calloc(nslots, sizeof(share_acc));
	bool *used = calloc(nslots, sizeof(bool));
	if (tab == NULL || used == NULL) {
		fprintf(stderr, "mmriskscore-replay: out of memory\n");
		exit(1);
	}
	size_t filled = 0;
	for (size_t i = 0; i < s->n_recs; i++) {
		const rp_rec *x = &s->recs[i];
		for (int dev = 0; dev < 2; dev++) {
			if (dev ? x->device == 0 : x->src.family == 0)
				continue;
			if (dev && (x->outcome == MMR_OUTCOME_FAILURE ||
				    generic_device(rp_str(s, x->device))))
				continue;
			if (!dev && (mmr_ip_is_private(&x->src) || mmr_netlist_contains(s->corporate, &x->src) ||
				     mmr_lists_has_ip(s->lists, MMR_LIST_CORPORATE, &x->src)))
				continue;
			if ((filled + 1) * 2 > nslots) { /* grow */
				size_t ns = nslots * 2;
				share_acc *nt = calloc(ns, sizeof(share_acc));
				bool *nu = calloc(ns, sizeof(bool));
				if (nt == NULL || nu == NULL) {
					fprintf(stderr, "mmriskscore-replay: out of memory\n");
					exit(1);
				}
				for (size_t j = 0; j < nslots; j++) {
					if (!used[j])
						continue;
					size_t h = key_hash(tab[j].is_device, &tab[j].ip, tab[j].device) & (ns - 1);
					while (nu[h])
						h = (h + 1) & (ns - 1);
					nu[h] = true;
					nt[h] = tab[j];
				}
				free(tab);
				free(used);
				tab = nt;
				used = nu;
				nslots = ns;
			}
			size_t h = key_hash(dev, &x->src, x->device) & (nslots - 1);
			while (used[h]) {
				share_acc *a = &tab[h];
				if (a->is_device == (bool)dev &&
				    (dev ? a->device == x->device : memcmp(&a->ip, &x->src, sizeof(mmr_ip)) == 0))
					break;
				h = (h + 1) & (nslots - 1);
			}
			share_acc *a = &tab[h];
			if (!used[h]) {
				used[h] = true;
				filled++;
				a->is_device = dev;
				if (dev)
					a->device = x->device;
				else
					a->ip = x->src;
			}
			if (a->n == a->cap) {
				a->cap = a->cap ? a->cap * 2 : 4;
				a->recs = xrealloc(a->recs, a->cap * sizeof(uint32_t));
			}
			a->recs[a->n++] = (uint32_t)i;
		}
	}
	size_t cap = 0;
	uint32_t *names = NULL, *cnt = NULL;
	size_t ncap = 0;
	for (size_t j = 0; j < nslots; j++) {
		if (!used[j])
			continue;
		share_acc *a = &tab[j];
		/* distinct accounts (by id) */
		if (a->n > ncap) {
			ncap = a->n;
			names = xrealloc(names, ncap * sizeof(uint32_t));
			cnt = xrealloc(cnt, ncap * sizeof(uint32_t));
		}
		size_t nn = 0;
		for (size_t q = 0; q < a->n; q++)
			names[nn++] = s->recs[a->recs[q]].user;
		qsort(names, nn, sizeof(uint32_t), cmp_u32);
		size_t distinct = 0;
		for (size_t q = 0; q < nn; q++)
			if (q == 0 || names[q] != names[q - 1])
				names[distinct++] = names[q];
		if ((int)distinct >= min_accounts) {
			if (s->n_shares == cap) {
				cap = cap ? cap * 2 : 64;
				s->shares = xrealloc(s->shares, cap * sizeof(rp_share));
			}
			rp_share *sh = &s->shares[s->n_shares++];
			memset(sh, 0, sizeof(*sh));
			sh->is_device = a->is_device;
			sh->ip = a->ip;
			sh->device = a->device;
			sh->n_users = distinct;
			sh->events = a->n;
			qsort(a->recs, a->n, sizeof(uint32_t), cmp_rec_idx);
			sh->first = s->recs[a->recs[0]].t;
			sh->last = s->recs[a->recs[a->n - 1]].t;
			const rp_rec *r0 = &s->recs[a->recs[a->n - 1]];
			sh->country = r0->country;
			sh->asorg = r0->asorg;
			/* most distinct accounts within 24 h: a sliding window with per-account counts */
			memset(cnt, 0, distinct * sizeof(uint32_t));
			size_t lo = 0;
			int d = 0;
			for (size_t hi = 0; hi < a->n; hi++) {
				uint32_t *c = bsearch(&s->recs[a->recs[hi]].user, names, distinct,
						      sizeof(uint32_t), cmp_u32);
				if (cnt[c - names]++ == 0)
					d++;
				while (s->recs[a->recs[hi]].t - s->recs[a->recs[lo]].t >= 86400) {
					uint32_t *e = bsearch(&s->recs[a->recs[lo]].user, names, distinct,
							      sizeof(uint32_t), cmp_u32);
					if (--cnt[e - names] == 0)
						d--;
					lo++;
				}
				if (d > sh->max_in_day)
					sh->max_in_day = d;
			}
			sh->users = xrealloc(NULL, distinct * sizeof(uint32_t));
			memcpy(sh->users, names, distinct * sizeof(uint32_t));
			qsort(sh->users, distinct, sizeof(uint32_t), cmp_u32_name);
			for (size_t q = 0; q < distinct; q++) {
				const rp_user *u = s->user_of_name[sh->users[q]]
							   ? &s->users[s->user_of_name[sh->users[q]] - 1]
							   : NULL;
				if (u && u->max_user_score >= 70)
					sh->high_accounts++;
			}
		}
		free(a->recs);
	}
	free(cnt);
	free(names);
	free(tab);
	free(used);
	if (s->n_shares > 1)
		qsort(s->shares, s->n_shares, sizeof(rp_share), cmp_share);
	s->shares_built = true;
	s->shares_min = min_accounts;
	*n = s->n_shares;
	return s->shares;
}

/* ---- formatting --------------------------------------------------------------------------- */

void rp_fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

void rp_fmt_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

static const char *level_of(int score) { return mmr_level_name(score); }

static const char *team_of(const rp_user *u)
{
	const mmr_roster_entry *e = u->roster;
	if (e == NULL)
		return NULL;
	return e->team[0] ? e->team : e->department;
}

static void cut_print(FILE *out, const char *indent, const char *text, int width)
{
	int room = width > 0 ? width - (int)strlen(indent) : 0;
	if (room > 20 && (int)strlen(text) > room)
		fprintf(out, "%s%.*s...\n", indent, room - 3, text);
	else
		fprintf(out, "%s%s\n", indent, text);
}

static void iso(int64_t t, char *buf, size_t len) { mmr_time_format(t, buf, len); }

int rp_print_rank(rp_store *s, const rp_view_opts *v, FILE *out)
{
	size_t n;
	rp_user *users = rp_users_ranked(s, &n);
	size_t top = v->top > 0 && (size_t)v->top < n ? (size_t)v->top : n;
	char a[32], b[32];
	if (v->json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < top; i++) {
			const rp_user *u = &users[i];
			struct json_object *o = json_object_new_object(), *rs = json_object_new_array();
			json_object_object_add(o, "rank", json_object_new_int(u->rank));
			json_object_object_add(o, "user", json_object_new_string(rp_str(s, u->name)));
			const char *team = team_of(u);
			json_object_object_add(o, "team", team ? json_object_new_string(team) : NULL);
			json_object_object_add(o, "user_score", json_object_new_int(u->max_user_score));
			json_object_object_add(o, "user_level", json_object_new_string(level_of(u->max_user_score)));
			iso(u->max_at, a, sizeof(a));
			json_object_object_add(o, "reached", json_object_new_string(a));
			json_object_object_add(o, "events", json_object_new_int64((int64_t)u->n_recs));
			json_object_object_add(o, "high_events", json_object_new_int64(u->high_events));
			iso(u->first, a, sizeof(a));
			iso(u->last, b, sizeof(b));
			json_object_object_add(o, "first", json_object_new_string(a));
			json_object_object_add(o, "last", json_object_new_string(b));
			for (size_t q = 0; q < u->n_rules; q++) {
				const rp_rule_stat *st = &u->rules[q];
				if (st->points <= 0)
					continue;
				struct json_object *x = json_object_new_object();
				json_object_object_add(x, "rule", json_object_new_string(rp_str(s, st->rule)));
				json_object_object_add(x, "points", json_object_new_int(st->points));
				json_object_object_add(x, "detail", json_object_new_string(rp_str(s, st->detail)));
				json_object_object_add(x, "count", json_object_new_int64(st->count));
				json_object_array_add(rs, x);
			}
			json_object_object_add(o, "reasons", rs);
			json_object_array_add(arr, o);
		}
		fprintf(out, "%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
		json_object_put(arr);
		return 0;
	}
	rp_fmt_time(s->first, a, sizeof(a));
	rp_fmt_time(s->last, b, sizeof(b));
	fprintf(out, "Riskiest users, events %s to %s UTC: %zu users with scored events%s\n\n", a, b,
		n, top < n ? "" : "");
	int w = 4;
	for (size_t i = 0; i < top; i++) {
		int l = (int)strlen(rp_str(s, users[i].name));
		if (l > w)
			w = l;
	}
	if (w > 40)
		w = 40;
	fprintf(out, "RANK  %-*s  SCORE  LEVEL     HIGH  EVENTS  TEAM\n", w, "USER");
	for (size_t i = 0; i < top; i++) {
		const rp_user *u = &users[i];
		const char *team = team_of(u);
		fprintf(out, "%4d  %-*.*s  %5d  %-8s  %4u  %6zu  %s\n", u->rank, w, w,
			rp_str(s, u->name), u->max_user_score, level_of(u->max_user_score),
			u->high_events, u->n_recs, team ? team : "(not in the roster)");
		int shown = 0;
		for (size_t q = 0; q < u->n_rules && shown < 3; q++) {
			const rp_rule_stat *st = &u->rules[q];
			if (st->points <= 0)
				continue;
			char line[600];
			snprintf(line, sizeof(line), "+%d %s (x%u): %s", st->points, rp_str(s, st->rule),
				 st->count, rp_str(s, st->detail));
			cut_print(out, "      ", line, v->width);
			shown++;
		}
	}
	if (top < n)
		fprintf(out, "\n(%zu more users; --top 0 shows all)\n", n - top);
	fprintf(out, "\nSCORE: the highest accumulated risk (user_score) reached in the period; HIGH: "
		     "events of level high or critical.\n");
	return 0;
}

static void where(const rp_store *s, const rp_rec *x, char *buf, size_t len)
{
	char ip[64] = "-";
	if (x->src.family)
		mmr_ip_format(&x->src, ip, sizeof(ip));
	const char *cc = rp_str(s, x->country), *city = rp_str(s, x->city), *org = rp_str(s, x->asorg);
	snprintf(buf, len, "%s%s%s%s%s%s%s%s", ip, cc[0] || city[0] || org[0] ? " (" : "",
		 cc, city[0] ? (cc[0] ? " " : "") : "", city, org[0] ? ((cc[0] || city[0]) ? ", " : "") : "",
		 org, cc[0] || city[0] || org[0] ? ")" : "");
}

/* distinct values of one field over recs[first..last] of u, joined */
static void distinct(const rp_store *s, const rp_user *u, size_t first, size_t last, int what,
		     char *buf, size_t len)
{
	uint32_t seen[64];
	size_t ns = 0, used = 0;
	buf[0] = '\0';
	for (size_t j = first; j <= last; j++) {
		const rp_rec *x = &s->recs[u->recs[j]];
		uint32_t id;
		char tmp[256];
		if (what == 0) { /* sources: each address once, described by its best-known event */
			if (!x->src.family)
				continue;
			id = (uint32_t)hash_bytes((const char *)&x->src, sizeof(x->src));
			const rp_rec *best = x;
			for (size_t k = j; k <= last; k++) {
				const rp_rec *y = &s->recs[u->recs[k]];
				if (memcmp(&y->src, &x->src, sizeof(mmr_ip)) == 0 &&
				    (y->country != 0) + (y->city != 0) + (y->asorg != 0) >
					    (best->country != 0) + (best->city != 0) + (best->asorg != 0))
					best = y;
			}
			where(s, best, tmp, sizeof(tmp));
		} else {
			id = what == 1 ? x->country : what == 2 ? x->target : x->host;
			if (id == 0)
				continue;
			snprintf(tmp, sizeof(tmp), "%s", rp_str(s, id));
		}
		bool dup = false;
		for (size_t q = 0; q < ns && !dup; q++)
			dup = seen[q] == id;
		if (dup)
			continue;
		if (ns < 64)
			seen[ns++] = id;
		int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", tmp);
		if (w < 0 || (size_t)w >= len - used) {
			if (len > 4)
				memcpy(buf + len - 4, "...", 4);
			return;
		}
		used += (size_t)w;
	}
}

int rp_print_timeline(rp_store *s, const char *user, const rp_view_opts *v, FILE *out)
{
	rp_user *u = rp_find_user(s, user);
	if (u == NULL) {
		fprintf(stderr, "mmriskscore-replay: timeline: no scored event of user '%s' in the "
			"input%s\n", user, s->o.from || s->o.to ? " and period" : "");
		return 1;
	}
	rp_session *ss;
	size_t ns = rp_sessions(s, u, v->gap, &ss);
	const mmr_roster_entry *re = u->roster;
	char a[32], b[32], d[32];
	if (v->json) {
		struct json_object *o = json_object_new_object(), *sa = json_object_new_array();
		json_object_object_add(o, "user", json_object_new_string(rp_str(s, u->name)));
		json_object_object_add(o, "rank", json_object_new_int(u->rank));
		json_object_object_add(o, "max_user_score", json_object_new_int(u->max_user_score));
		if (re) {
			json_object_object_add(o, "team", json_object_new_string(team_of(u)));
			json_object_object_add(o, "timezone", json_object_new_string(re->timezone));
		}
		for (size_t i = 0; i < ns; i++) {
			struct json_object *so = json_object_new_object(), *ev = json_object_new_array();
			const rp_rec *x0 = &s->recs[u->recs[ss[i].first]], *x1 = &s->recs[u->recs[ss[i].last]];
			iso(x0->t, a, sizeof(a));
			iso(x1->t, b, sizeof(b));
			json_object_object_add(so, "start", json_object_new_string(a));
			json_object_object_add(so, "end", json_object_new_string(b));
			int maxs = 0;
			for (size_t j = ss[i].first; j <= ss[i].last; j++) {
				const rp_rec *x = &s->recs[u->recs[j]];
				struct json_object *e = json_object_new_object(), *rs = json_object_new_array();
				iso(x->t, a, sizeof(a));
				json_object_object_add(e, "time", json_object_new_string(a));
				json_object_object_add(e, "action", json_object_new_string(mmr_action_name(x->action)));
				json_object_object_add(e, "outcome", json_object_new_string(mmr_outcome_name(x->outcome)));
				if (x->src.family) {
					char ip[64];
					mmr_ip_format(&x->src, ip, sizeof(ip));
					json_object_object_add(e, "src_ip", json_object_new_string(ip));
				}
#define OPT(k, id) if (id) json_object_object_add(e, k, json_object_new_string(rp_str(s, id)))
				OPT("country", x->country);
				OPT("city", x->city);
				OPT("as_org", x->asorg);
				OPT("target", x->target);
				OPT("device", x->device);
				OPT("host", x->host);
#undef OPT
				json_object_object_add(e, "score", json_object_new_int(x->score));
				json_object_object_add(e, "user_score", json_object_new_int(x->user_score));
				for (int q = 0; q < x->n_reasons; q++) {
					const rp_reason *r = &s->reasons[x->reasons + (uint32_t)q];
					struct json_object *ro = json_object_new_object();
					json_object_object_add(ro, "rule", json_object_new_string(rp_str(s, r->rule)));
					json_object_object_add(ro, "points", json_object_new_int(r->points));
					json_object_object_add(ro, "detail", json_object_new_string(rp_str(s, r->detail)));
					json_object_array_add(rs, ro);
				}
				json_object_object_add(e, "reasons", rs);
				json_object_array_add(ev, e);
				if (x->score > maxs)
					maxs = x->score;
			}
			json_object_object_add(so, "max_score", json_object_new_int(maxs));
			json_object_object_add(so, "events", ev);
			json_object_array_add(sa, so);
		}
		json_object_object_add(o, "sessions", sa);
		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		free(ss);
		return 0;
	}
	rp_fmt_time(u->first, a, sizeof(a));
	rp_fmt_time(u->last, b, sizeof(b));
	fprintf(out, "Timeline of %s: rank %d, highest user score %d (%s); %zu events in %zu sessions, "
		"%s to %s UTC\n", rp_str(s, u->name), u->rank, u->max_user_score,
		level_of(u->max_user_score), u->n_recs, ns, a, b);
	if (re) {
		char sd[32] = "unknown";
		if (re->start_date)
			mmr_time_format(re->start_date, sd, sizeof(sd)), sd[10] = '\0';
		fprintf(out, "Roster: %s%s%s, %s, declared %s, started %s\n", re->department,
			re->team[0] ? " / " : "", re->team, re->title[0] ? re->title : "-",
			re->timezone[0] ? re->timezone : "-", sd);
	} else {
		fprintf(out, "Roster: not in the roster\n");
	}
	for (size_t i = 0; i < ns; i++) {
		const rp_rec *x0 = &s->recs[u->recs[ss[i].first]], *x1 = &s->recs[u->recs[ss[i].last]];
		int maxs = 0;
		for (size_t j = ss[i].first; j <= ss[i].last; j++)
			if (s->recs[u->recs[j]].score > maxs)
				maxs = s->recs[u->recs[j]].score;
		rp_fmt_time(x0->t, a, sizeof(a));
		rp_fmt_time(x1->t, b, sizeof(b));
		rp_fmt_duration(x1->t - x0->t, d, sizeof(d));
		int off = rp_local_offset(s, u, x0->t);
		int lh = rp_hour_of_week(x0->t, off) % 24;
		int lm = (int)(((x0->t + off) % 3600 + 3600) % 3600 / 60);
		fprintf(out, "\nSESSION %zu  %s - %s (%s)  local start %02d:%02d%s  events %zu  max score %d  "
			"user score %d -> %d\n", i + 1, a, strncmp(a, b, 10) == 0 ? b + 11 : b, d, lh, lm,
			u->tz_offset_known ? "" : " UTC", ss[i].last - ss[i].first + 1, maxs,
			x0->user_score, x1->user_score);
		char buf[1200];
		distinct(s, u, ss[i].first, ss[i].last, 0, buf, sizeof(buf));
		if (buf[0])
			cut_print(out, "  sources: ", buf, v->width);
		distinct(s, u, ss[i].first, ss[i].last, 1, buf, sizeof(buf));
		if (buf[0])
			cut_print(out, "  countries: ", buf, v->width);
		distinct(s, u, ss[i].first, ss[i].last, 2, buf, sizeof(buf));
		if (buf[0])
			cut_print(out, "  apps/servers: ", buf, v->width);
		for (size_t j = ss[i].first; j <= ss[i].last; j++) {
			const rp_rec *x = &s->recs[u->recs[j]];
			char tm[32], ip[64] = "-", act[48], line[1400];
			rp_fmt_time(x->t, tm, sizeof(tm));
			if (x->src.family)
				mmr_ip_format(&x->src, ip, sizeof(ip));
			snprintf(act, sizeof(act), "%s/%s", mmr_action_name(x->action),
				 mmr_outcome_name(x->outcome));
			int l = snprintf(line, sizeof(line), "%s  %-22s %-15s %-2s %-18.18s score %3d user %3d",
					 tm + 5, act, ip, rp_str(s, x->country),
					 x->target ? rp_str(s, x->target) : rp_str(s, x->host), x->score,
					 x->user_score);
			if (x->n_reasons > 0 && l > 0 && (size_t)l < sizeof(line)) {
				const rp_reason *r = &s->reasons[x->reasons];
				snprintf(line + l, sizeof(line) - (size_t)l, "  +%d %s: %s", r->points,
					 rp_str(s, r->rule), rp_str(s, r->detail));
			}
			cut_print(out, "  ", line, v->width);
		}
	}
	if (u->n_rules) {
		fprintf(out, "\nREASONS (strongest per rule)\n");
		for (size_t q = 0; q < u->n_rules; q++) {
			const rp_rule_stat *st = &u->rules[q];
			char line[600];
			rp_fmt_time(st->first, a, sizeof(a));
			snprintf(line, sizeof(line), "+%d %s, %u times from %s: %s", st->points,
				 rp_str(s, st->rule), st->count, a, rp_str(s, st->detail));
			cut_print(out, "  ", line, v->width);
		}
	}
	free(ss);
	return 0;
}

int rp_print_shared(rp_store *s, const rp_view_opts *v, FILE *out)
{
	size_t n;
	rp_share *sh = rp_shares(s, v->min_accounts, &n);
	size_t top = v->top > 0 && (size_t)v->top < n ? (size_t)v->top : n;
	char a[32], b[32];
	if (v->json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < top; i++) {
			struct json_object *o = json_object_new_object(), *us = json_object_new_array();
			char ip[64];
			if (sh[i].is_device) {
				json_object_object_add(o, "device", json_object_new_string(rp_str(s, sh[i].device)));
			} else {
				mmr_ip_format(&sh[i].ip, ip, sizeof(ip));
				json_object_object_add(o, "src_ip", json_object_new_string(ip));
				if (sh[i].country)
					json_object_object_add(o, "country", json_object_new_string(rp_str(s, sh[i].country)));
				if (sh[i].asorg)
					json_object_object_add(o, "as_org", json_object_new_string(rp_str(s, sh[i].asorg)));
			}
			json_object_object_add(o, "accounts", json_object_new_int64((int64_t)sh[i].n_users));
			json_object_object_add(o, "max_accounts_24h", json_object_new_int(sh[i].max_in_day));
			json_object_object_add(o, "events", json_object_new_int64((int64_t)sh[i].events));
			iso(sh[i].first, a, sizeof(a));
			iso(sh[i].last, b, sizeof(b));
			json_object_object_add(o, "first", json_object_new_string(a));
			json_object_object_add(o, "last", json_object_new_string(b));
			for (size_t q = 0; q < sh[i].n_users; q++) {
				struct json_object *uo = json_object_new_object();
				const char *name = rp_str(s, sh[i].users[q]);
				rp_user *u = rp_find_user(s, name);
				json_object_object_add(uo, "user", json_object_new_string(name));
				if (u && team_of(u))
					json_object_object_add(uo, "team", json_object_new_string(team_of(u)));
				if (u)
					json_object_object_add(uo, "max_user_score", json_object_new_int(u->max_user_score));
				json_object_array_add(us, uo);
			}
			json_object_object_add(o, "users", us);
			json_object_array_add(arr, o);
		}
		fprintf(out, "%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
		json_object_put(arr);
		return 0;
	}
	fprintf(out, "Source addresses and devices used by %d or more accounts (private and corporate "
		"networks excluded): %zu\n", v->min_accounts, n);
	for (size_t i = 0; i < top; i++) {
		char head[300], ip[64];
		rp_fmt_time(sh[i].first, a, sizeof(a));
		rp_fmt_time(sh[i].last, b, sizeof(b));
		if (sh[i].is_device) {
			snprintf(head, sizeof(head), "device %s", rp_str(s, sh[i].device));
		} else {
			mmr_ip_format(&sh[i].ip, ip, sizeof(ip));
			const char *cc = rp_str(s, sh[i].country), *org = rp_str(s, sh[i].asorg);
			snprintf(head, sizeof(head), "%s%s%s%s%s%s", ip, cc[0] || org[0] ? " (" : "", cc,
				 cc[0] && org[0] ? ", " : "", org, cc[0] || org[0] ? ")" : "");
		}
		fprintf(out, "\n%s: %zu accounts (%d within 24 h), %llu events, %s to %s\n", head,
			sh[i].n_users, sh[i].max_in_day, (unsigned long long)sh[i].events, a, b);
		char line[4096];
		size_t used = 0;
		line[0] = '\0';
		for (size_t q = 0; q < sh[i].n_users && used < sizeof(line) - 200; q++) {
			const char *name = rp_str(s, sh[i].users[q]);
			rp_user *u = rp_find_user(s, name);
			const mmr_roster_entry *re = u ? u->roster : NULL;
			char hired[64] = "";
			if (re && re->start_date && sh[i].first - re->start_date < 90 * 86400 &&
			    sh[i].first - re->start_date > -30 * 86400) {
				char sd[32];
				mmr_time_format(re->start_date, sd, sizeof(sd));
				sd[10] = '\0';
				snprintf(hired, sizeof(hired), ", started %s", sd);
			}
			int w = snprintf(line + used, sizeof(line) - used, "%s%s (%s%s, max score %d)",
					 q ? "; " : "", name, u && team_of(u) ? team_of(u) : "not in roster",
					 hired, u ? u->max_user_score : 0);
			if (w > 0)
				used += (size_t)w;
		}
		cut_print(out, "    ", line, v->width ? v->width * 3 : 0);
	}
	if (top < n)
		fprintf(out, "\n(%zu more; --top 0 shows all)\n", n - top);
	return 0;
}
