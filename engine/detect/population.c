/* Distinct-user counts per (kind, scope, value); see population.h for the representation and
 * the approximation. */
#include <stdatomic.h>
#include <stdlib.h>

#include "first_seen_common.h" /* mmr_fs_cat*: the details */
#include "population.h"
#include "../enrich/roster.h"
#include "../state/lru_table.h"
#include "../state/snapshot.h"

struct mmr_population {
	mmr_lru_table *t;
	_Atomic int64_t first; /* earliest observed event time; INT64_MAX = none */
};

typedef struct {
	uint32_t kind, scope, value;
} pop_key;

mmr_population *mmr_population_new(size_t max_entries)
{
	mmr_population *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	if ((p->t = mmr_lru_table_new(max_entries < 16 ? 16 : max_entries, sizeof(mmr_pop_entry),
				      16)) == NULL) {
		free(p);
		return NULL;
	}
	atomic_init(&p->first, INT64_MAX);
	return p;
}

void mmr_population_free(mmr_population *p)
{
	if (p == NULL)
		return;
	mmr_lru_table_free(p->t);
	free(p);
}

void mmr_population_observe(mmr_population *p, int64_t t)
{
	int64_t cur = atomic_load_explicit(&p->first, memory_order_relaxed);
	while (t < cur &&
	       !atomic_compare_exchange_weak_explicit(&p->first, &cur, t, memory_order_relaxed,
						      memory_order_relaxed))
		;
}

int64_t mmr_population_age(mmr_population *p, int64_t t)
{
	int64_t first = atomic_load_explicit(&p->first, memory_order_relaxed);
	if (first == INT64_MAX)
		return -1;
	/* saturating: absurd times on either side must not overflow */
	if (t < first)
		return 0;
	if (first < 0 && t > INT64_MAX + first)
		return INT64_MAX;
	return t - first;
}

bool mmr_population_get(mmr_population *p, unsigned kind, uint32_t scope, uint32_t value,
			mmr_pop_entry *out)
{
	pop_key k = {kind, scope, value};
	mmr_lru_hold hold;
	const mmr_pop_entry *e = mmr_lru_acquire(p->t, &k, sizeof(k), false, NULL, &hold);
	if (e)
		*out = *e;
	else
		*out = (mmr_pop_entry){0};
	mmr_lru_release(&hold);
	return e != NULL;
}

static void add_user(mmr_pop_entry *e, int64_t t, bool created)
{
	if (e->users < UINT32_MAX)
		e->users++;
	if (created || t < e->first_seen)
		e->first_seen = t;
}

void mmr_population_count(mmr_population *p, unsigned kind, uint32_t scope, uint32_t value,
			  int64_t t, bool first_of_user)
{
	pop_key k = {kind, scope, value};
	mmr_lru_hold hold;
	bool created = false;
	mmr_pop_entry *e = mmr_lru_acquire(p->t, &k, sizeof(k), true, &created, &hold);
	if (e)
		add_user(e, t, created);
	mmr_lru_release(&hold);
	if (e == NULL || (!created && !first_of_user))
		return;

	/* one stripe at a time: the ANY entry after the value's entry is released */
	k.value = MMR_POP_ANY;
	bool any_created = false;
	e = mmr_lru_acquire(p->t, &k, sizeof(k), true, &any_created, &hold);
	if (e) {
		if (first_of_user)
			add_user(e, t, any_created);
		else if (any_created)
			e->first_seen = t;
		if (created && e->values < UINT32_MAX)
			e->values++;
		mmr_lru_protect(&hold, e);
	}
	mmr_lru_release(&hold);
}

bool mmr_population_learn(mmr_population *p, unsigned kind, uint32_t group, mmr_seen_slot *set,
			  int n, uint32_t value, int64_t t, uint32_t lookback)
{
	uint32_t today = mmr_seen_day(t);
	bool had_any = mmr_seen_count(set, n, today, lookback, 0) > 0;
	if (!mmr_seen_add(set, n, value, today, lookback))
		return false;
	mmr_population_count(p, kind, MMR_POP_TENANT, value, t, !had_any);
	if (group != 0)
		mmr_population_count(p, kind, group, value, t, !had_any);
	return true;
}

bool mmr_population_peers(mmr_population *p, unsigned kind, const mmr_enriched *x,
			  uint32_t value, bool user_has_any, uint32_t min_observed,
			  mmr_peer_view *v)
{
	*v = (mmr_peer_view){0};
	if (x->who == NULL || x->group == 0 || x->who->group_size < 2)
		return false;
	mmr_pop_entry any, e;
	mmr_population_get(p, kind, x->group, MMR_POP_ANY, &any);
	uint32_t observed = any.users;
	if (user_has_any && observed > 0)
		observed--;
	if (observed < min_observed || observed == 0)
		return false;
	v->roster = x->who->group_size - 1;
	v->peers = observed < v->roster ? observed : v->roster;
	mmr_population_get(p, kind, x->group, value, &e);
	v->used = e.users < v->peers ? e.users : v->peers;
	v->group_name = x->who->group_name && x->who->group_name[0] ? x->who->group_name : "?";
	return true;
}

void mmr_population_score(mmr_population *p, const mmr_detect_ctx *ctx, const mmr_pop_rules *r,
			  uint32_t value, bool user_has_any, const char *what,
			  mmr_contribs *out)
{
	int64_t age = mmr_population_age(p, ctx->ev->time);
	if (r->warmup > 0 && age < r->warmup) /* also: nothing observed yet (-1) */
		return;
	if (age < 0)
		age = 0;
	mmr_pop_entry tenant, any;
	mmr_population_get(p, r->kind, MMR_POP_TENANT, value, &tenant);
	if (r->tenant_rule && tenant.users == 0) {
		mmr_population_get(p, r->kind, MMR_POP_TENANT, MMR_POP_ANY, &any);
		/* "%s: a first for the whole tenant (%u other %s seen in %ld days of
		 * observation)" */
		char d[MMR_DETAIL_MAX];
		size_t n = mmr_fs_cat_str(d, sizeof(d), 0, what, sizeof(d));
		n = mmr_fs_cat_lit(d, sizeof(d), n, ": a first for the whole tenant (");
		n = mmr_fs_cat_u32(d, sizeof(d), n, any.values);
		n = mmr_fs_cat_lit(d, sizeof(d), n, " other ");
		n = mmr_fs_cat_str(d, sizeof(d), n, r->noun, sizeof(d));
		n = mmr_fs_cat_lit(d, sizeof(d), n, " seen in ");
		n = mmr_fs_cat_long(d, sizeof(d), n, (long)(age / 86400));
		mmr_fs_cat_lit(d, sizeof(d), n, " days of observation)");
		mmr_contrib_add(out, r->tenant_rule, r->tenant_points, "%s", d);
		return;
	}
	mmr_peer_view v;
	if (!mmr_population_peers(p, r->kind, ctx->x, value, user_has_any, r->peer_min_observed,
				  &v))
		return;
	int pts = mmr_peer_points(&v, r->peer_max_share, r->peer_zero_points, r->peer_few_points);
	if (pts < 0)
		return;
	/* "%s, new for this user; used by %u of %u active peers in %.32s (%u tenant-wide; user
	 * active %ld days)", built without snprintf, most of this rule's cost when it fires */
	char d[MMR_DETAIL_MAX];
	size_t n = mmr_fs_cat_str(d, sizeof(d), 0, what, sizeof(d));
	n = mmr_fs_cat_lit(d, sizeof(d), n, ", new for this user; used by ");
	n = mmr_fs_cat_u32(d, sizeof(d), n, v.used);
	n = mmr_fs_cat_lit(d, sizeof(d), n, " of ");
	n = mmr_fs_cat_u32(d, sizeof(d), n, v.peers);
	n = mmr_fs_cat_lit(d, sizeof(d), n, " active peers in ");
	n = mmr_fs_cat_str(d, sizeof(d), n, v.group_name, 32);
	n = mmr_fs_cat_lit(d, sizeof(d), n, " (");
	n = mmr_fs_cat_u32(d, sizeof(d), n, tenant.users);
	n = mmr_fs_cat_lit(d, sizeof(d), n, " tenant-wide; user active ");
	n = mmr_fs_cat_long(d, sizeof(d), n, mmr_user_active_days(ctx->user));
	mmr_fs_cat_lit(d, sizeof(d), n, " days)");
	mmr_contrib_add(out, r->peer_rule, pts, "%s", d);
}

void mmr_population_stats(mmr_population *p, mmr_stats *st)
{
	st->ips += mmr_lru_count(p->t);
	st->ips_evicted += mmr_lru_evictions(p->t);
}

void *mmr_population_global_new(const mmr_config *cfg)
{
	return mmr_population_new(cfg->max_ips);
}

void mmr_population_global_free(void *g)
{
	mmr_population_free(g);
}

void mmr_population_global_stats(void *g, mmr_stats *st)
{
	mmr_population_stats(g, st);
}

int mmr_population_global_save(void *g, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	mmr_population *p = g;
	(void)o;
	mmr_snap_put_i64(w, atomic_load_explicit(&p->first, memory_order_relaxed));
	return mmr_snap_put_table(w, p->t, NULL);
}

int mmr_population_global_load(void *g, mmr_snap_reader *r)
{
	mmr_population *p = g;
	int64_t first;
	if (mmr_snap_get_i64(r, &first) != 0)
		return -1;
	atomic_store(&p->first, first);
	return mmr_snap_get_table(r, p->t, NULL, NULL);
}

uint64_t mmr_population_global_bytes(void *g)
{
	mmr_population *p = g;
	return sizeof(*p) + mmr_lru_bytes(p->t);
}
