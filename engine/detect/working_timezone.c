/* Working hours against the declared time zone and against the peer group.
 *
 * "Inability to conduct business during regular business hours" is one of the indicators the
 * May 2022 State/Treasury/FBI advisory gives for DPRK IT workers: a "US" employee whose work
 * clusters in UTC+8/+9 daytime. Two rules:
 *
 *   time.timezone_mismatch   (35) the user's activity fits another zone's working day far
 *                                 better than the declared zone's, and their peers do not
 *                                 work those hours
 *   time.uncommon_hour_peers (15) one event at a UTC hour when the peer group is almost never
 *                                 active, and the user is not known to be active then either
 *
 * Activity. A successful event that is not a session end, logout or session statistics record
 * (a VPN that times out at 03:00 is not someone working at 03:00), and that is not located in
 * another country than the roster's: a trip works the destination's hours, and the country
 * itself is the geography detectors' business. Events of unknown location count.
 *
 * Unit of evidence: the "active hour", a clock hour of a UTC day in which the user had at
 * least one activity event. An Okta sign-in writes 5-10 events within a minute, an ssh burst
 * 40; counting each (day, hour) once makes a busy hour weigh as much as a quiet one, and a
 * member of a team as much as any other (at most 24 a day each).
 *
 * Representation, per user (60 bytes):
 *
 *   hist[24]  uint16  active hours per UTC hour of day; all halved when total reaches 2048
 *                     (about 7 months of a 9-hour day), so old habits fade
 *   total     uint16  sum of hist
 *   days      uint16  distinct UTC days with activity (saturates)
 *   day       uint32  UTC day number of the day being counted
 *   mask      uint32  bit h: hour h of `day` already counted
 *
 * and a global LRU table keyed by peer group id (roster group; at most max(64, state.maxusers
 * / 4) groups, 16 stripes; 136 bytes a group plus the table's 40-byte entry header):
 *
 *   hist[24]  uint32  members' active hours per UTC hour; halved when total reaches 65536
 *   total     uint32
 *   member[8] uint32  hashes of the first 8 members seen (only "how many, up to 8" matters)
 *
 * The group's histogram is in UTC like the user's: peers mostly share a zone, and UTC is the
 * one clock in which "works when the team works" can be compared without knowing whose zone
 * is right. When scoring, the user's own histogram is subtracted from the group's (clamped at
 * 0), so the user is compared with the rest of the team, never with a team they dominate; the
 * subtraction is exact until one of the two histograms halves, approximate afterwards. Group
 * ids come from the roster only, so log input cannot flood the table. Its size and evictions
 * are added to the statistics' ips / ips_evicted, as the other detector tables are.
 *
 * time.timezone_mismatch. For a whole-hour offset o in UTC-11..UTC+12, capture(o) is the share
 * of active hours within the local working day [tz.day_start, tz.day_end) = 07:00-20:00 at
 * that offset. The best offset maximises capture; ties go to the offset that best fills the
 * core of the day (two hours in from each end), then to the one nearest the declared offset.
 * The declared offset (DST applied at the event's time) is rounded to the hour (+5:30 counts
 * as +6). An activity event outside the declared working day fires when all hold:
 *   - evidence: >= tz.min_hours (12) active hours over >= tz.min_days (3) distinct days. The
 *     farm accounts are new hires: the engine's 7-day convergence would hide them for their
 *     first week, so this rule sets its own bar. The simulated farm accounts reach it in 2-3
 *     days (they log 4-5 active hours a day); two days could be a trip or an odd weekend.
 *   - capture(declared) < tz.declared_max (50%), capture(best) >= tz.best_min (75%), and the
 *     two offsets are >= tz.min_shift_h (4 h) apart on the 24-hour circle.
 *   - the team does not work those hours: the rest of the group has >= tz.peer_min_hours (50)
 *     active hours from >= tz.peer_min_members (3) other members, and puts less than
 *     tz.peer_fit (50%) of them in the best offset's working day. This keeps Manila support
 *     silent (night shift in local time covering US hours, as is their whole team: 79-90% of
 *     the team's hours fall in the hire's best-fitting day in the simulator), while the farm
 *     accounts' US teams put 11-31% there. (A Bhattacharyya overlap of the two hour
 *     distributions separated them worse: farm accounts up to 0.71, Manila staff from 0.84,
 *     because a US team's evening is Seoul's morning.) Without enough peer evidence (a team
 *     of one, a group just evicted from the table) the rule stays silent: an unusual shift
 *     cannot be told from a foreign one without peers.
 * Users without a roster entry (no group) or without a loadable declared zone are never judged
 * by this rule.
 *
 * time.uncommon_hour_peers. An activity event at UTC hour h when the rest of the group has
 * >= tz.rare_group_hours (200) active hours from >= tz.peer_min_members other members and puts
 * less than tz.peer_rare_share (1%) of them within h-1..h+1, unless the user is known to work
 * then: once the user's baseline has converged (config learning.*), an own share within
 * h-1..h+1 of tz.self_max_share (5%) or more is their habit (and hour_of_week_rarity's
 * business). Before convergence there is no habit to excuse the hour: a new hire's first nights
 * count. Weak by nature (an on-call page at 03:00 is one): 15 points, a supporting signal.
 *
 * Time is event time. An event of an earlier day than the one being counted is not learned (a
 * late event cannot be deduplicated), and a jump back of more than 2 days restarts the day
 * count there, so one bogus future timestamp cannot freeze learning. score() runs before
 * learn(): an event is never evidence for itself.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "../enrich/roster.h"
#include "../state/lru_table.h"
#include "../state/snapshot.h"

#define HOURS 24
#define USER_HALVE_AT 2048
#define GROUP_HALVE_AT 65536u
#define MEMBERS 8
#define MIN_OFFSET (-11)

typedef struct {
	uint16_t hist[HOURS];
	uint16_t total;
	uint16_t days;
	uint32_t day;
	uint32_t mask;
} wtz_state;

typedef struct {
	uint32_t hist[HOURS];
	uint32_t total;
	uint32_t member[MEMBERS];
} group_hours;

static const char *const rules[] = {"time.timezone_mismatch", "time.uncommon_hour_peers", NULL};

enum {
	P_DAY_START,
	P_DAY_END,
	P_MIN_HOURS,
	P_MIN_DAYS,
	P_DECLARED_MAX,
	P_BEST_MIN,
	P_MIN_SHIFT,
	P_PEER_FIT,
	P_PEER_MIN_HOURS,
	P_PEER_MIN_MEMBERS,
	P_POINTS,
	P_RARE_GROUP_HOURS,
	P_RARE_SHARE,
	P_SELF_MAX,
	P_RARE_POINTS,
};

static const mmr_param params[] = {
	[P_DAY_START] = {"tz.day_start", 7, 0, 23, "local hour the working day starts"},
	[P_DAY_END] = {"tz.day_end", 20, 1, 24, "local hour the working day ends (exclusive)"},
	[P_MIN_HOURS] = {"tz.min_hours", 12, 1, 2000, "active hours of evidence before judging hours"},
	[P_MIN_DAYS] = {"tz.min_days", 3, 1, 365, "distinct active days of evidence before judging hours"},
	[P_DECLARED_MAX] = {"tz.declared_max", 0.5, 0, 1,
			    "share of activity within the declared working day below which it is suspect"},
	[P_BEST_MIN] = {"tz.best_min", 0.75, 0, 1,
			"share the best-fitting zone's working day must capture"},
	[P_MIN_SHIFT] = {"tz.min_shift_h", 4, 1, 12, "hours between declared and best-fitting offset"},
	[P_PEER_FIT] = {"tz.peer_fit", 0.5, 0, 1,
			"peers' share within the user's best-fitting working day at which the team works then too"},
	[P_PEER_MIN_HOURS] = {"tz.peer_min_hours", 50, 1, 1e7,
			      "peers' active hours needed to compare a user's working day with them"},
	[P_PEER_MIN_MEMBERS] = {"tz.peer_min_members", 3, 1, 8,
				"other group members needed for any peer comparison"},
	[P_POINTS] = {"tz.points", 35, 0, 100, "points of time.timezone_mismatch"},
	[P_RARE_GROUP_HOURS] = {"tz.rare_group_hours", 200, 1, 1e7,
				"peers' active hours needed to call an hour uncommon among them"},
	[P_RARE_SHARE] = {"tz.peer_rare_share", 0.01, 0, 0.5,
			  "peers' share within +-1 h below which the hour is uncommon for them"},
	[P_SELF_MAX] = {"tz.self_max_share", 0.05, 0, 1,
			"user's own share within +-1 h at which the hour is their habit"},
	[P_RARE_POINTS] = {"tz.peer_rare_points", 15, 0, 100, "points of time.uncommon_hour_peers"},
	{NULL, 0, 0, 0, NULL},
};

static void *global_new(const mmr_config *cfg)
{
	size_t cap = cfg->max_users / 4;
	return mmr_lru_table_new(cap < 64 ? 64 : cap, sizeof(group_hours), 16);
}

/* Human activity at home: a session that ends, times out or reports statistics is not someone
 * at work, and an event located in another country than the roster's is a trip, whose hours
 * are the destination's (and whose country is the geography detectors' business). */
static bool relevant(const mmr_detect_ctx *ctx)
{
	const mmr_event *ev = ctx->ev;
	const mmr_enriched *x = ctx->x;
	if (ev->outcome == MMR_OUTCOME_FAILURE || ev->action == MMR_ACTION_VPN_END ||
	    ev->action == MMR_ACTION_LOGOUT || ev->action == MMR_ACTION_VPN_STATS)
		return false;
	return !(x->country[0] && x->who && x->who->country[0] &&
		 strcmp(x->country, x->who->country) != 0);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int utc_hour(int64_t t)
{
	return (int)(t - floor_div(t, 86400) * 86400) / 3600;
}

static int mod24(int v)
{
	return ((v % HOURS) + HOURS) % HOURS;
}

/* Offset in whole hours, normalised to -11..+12 (the 24 distinct working-day windows). */
static int norm_offset(int o)
{
	return mod24(o - MIN_OFFSET) + MIN_OFFSET;
}

static int declared_hours(int32_t seconds)
{
	return norm_offset((int)floor_div((int64_t)seconds + 1800, 3600));
}

static int circ_dist(int a, int b)
{
	int d = mod24(a - b);
	return d > 12 ? 24 - d : d;
}

static bool in_window(int local, int start, int end)
{
	return start <= end ? local >= start && local < end : local >= start || local < end;
}

static uint64_t capture(const uint32_t *h, int off, int start, int end)
{
	uint64_t n = 0;
	for (int u = 0; u < HOURS; u++)
		if (in_window(mod24(u + off), start, end))
			n += h[u];
	return n;
}

/* The offset whose working day captures most of h (ties: fuller core, then nearest prefer). */
static int best_offset(const uint32_t *h, int start, int end, int prefer, uint64_t *captured)
{
	int cs = start, ce = end;
	if (mod24(end - start) > 4) {
		cs = mod24(start + 2);
		ce = mod24(end - 2);
	}
	int best = prefer;
	uint64_t bc = 0, bcore = 0;
	bool have = false;
	for (int o = MIN_OFFSET; o < MIN_OFFSET + HOURS; o++) {
		uint64_t c = capture(h, o, start, end), core = capture(h, o, cs, ce);
		if (!have || c > bc || (c == bc && core > bcore) ||
		    (c == bc && core == bcore && circ_dist(o, prefer) < circ_dist(best, prefer))) {
			best = o;
			bc = c;
			bcore = core;
			have = true;
		}
	}
	*captured = bc;
	return best;
}

static uint64_t window3(const uint32_t *h, int hour)
{
	return (uint64_t)h[mod24(hour - 1)] + h[hour] + h[mod24(hour + 1)];
}

static void fmt_offset(char *buf, size_t len, int32_t seconds)
{
	int32_t a = seconds < 0 ? -seconds : seconds;
	if (a < 60)
		snprintf(buf, len, "UTC");
	else if (a % 3600 >= 60)
		snprintf(buf, len, "UTC%c%d:%02d", seconds < 0 ? '-' : '+', (int)(a / 3600),
			 (int)(a % 3600 / 60));
	else
		snprintf(buf, len, "UTC%c%d", seconds < 0 ? '-' : '+', (int)(a / 3600));
}

static const char *zone_name(const mmr_enriched *x)
{
	return x->who && x->who->timezone && x->who->timezone[0] ? x->who->timezone : "zone";
}

static const char *group_name(const mmr_enriched *x)
{
	return x->who && x->who->group_name && x->who->group_name[0] ? x->who->group_name : "group";
}

/* The rest of the group: its histogram minus the user's (clamped), members other than me. */
typedef struct {
	uint32_t hist[HOURS];
	uint64_t total;
	int others;
	bool full; /* every member slot taken: others is a lower bound */
	bool found;
} peers;

static void load_peers(const mmr_detect_ctx *ctx, const uint32_t *mine, peers *p)
{
	memset(p, 0, sizeof(*p));
	if (ctx->x->group == 0)
		return;
	uint32_t me = mmr_user_hash32(ctx->ev->user);
	mmr_lru_hold hold;
	const group_hours *g =
		mmr_lru_acquire(ctx->global, &ctx->x->group, sizeof(ctx->x->group), false, NULL, &hold);
	if (g != NULL) {
		p->found = true;
		for (int h = 0; h < HOURS; h++) {
			p->hist[h] = g->hist[h] > mine[h] ? g->hist[h] - mine[h] : 0;
			p->total += p->hist[h];
		}
		p->full = true;
		for (int i = 0; i < MEMBERS; i++) {
			p->others += g->member[i] != 0 && g->member[i] != me;
			p->full = p->full && g->member[i] != 0;
		}
	}
	mmr_lru_release(&hold);
}

static void score_mismatch(const mmr_detect_ctx *ctx, const wtz_state *st, const uint32_t *mine,
			   const peers *p, bool evidence, mmr_contribs *out)
{
	const double *P = ctx->param;
	const mmr_enriched *x = ctx->x;
	if (!x->has_declared_tz || !evidence)
		return;
	int start = (int)P[P_DAY_START], end = (int)P[P_DAY_END];
	int od = declared_hours(x->declared_offset);
	int local = mod24(utc_hour(ctx->ev->time) + od);
	if (in_window(local, start, end))
		return; /* this event is within the declared working day: no evidence of a mismatch */
	uint64_t dc = capture(mine, od, start, end), bc;
	double dshare = (double)dc / st->total;
	if (dshare >= P[P_DECLARED_MAX])
		return;
	int ob = best_offset(mine, start, end, od, &bc);
	double bshare = (double)bc / st->total;
	if (bshare < P[P_BEST_MIN] || circ_dist(ob, od) < (int)P[P_MIN_SHIFT])
		return;
	if (p->others < (int)P[P_PEER_MIN_MEMBERS] || p->total < (uint64_t)P[P_PEER_MIN_HOURS])
		return; /* no peers to tell an unusual shift from a foreign one */
	double pshare = (double)capture(p->hist, ob, start, end) / (double)p->total;
	if (pshare >= P[P_PEER_FIT])
		return; /* works when the team works */
	double pdecl = (double)capture(p->hist, od, start, end) / (double)p->total;
	char best[16], decl[16];
	fmt_offset(best, sizeof(best), ob * 3600);
	fmt_offset(decl, sizeof(decl), x->declared_offset);
	mmr_contrib_add(out, rules[0], (int)P[P_POINTS],
			"activity fits %s working hours (%.0f%% of %u active hours over %u days); "
			"declared %.32s (%s): %.0f%% in its %02d:00-%02d:00; peers: %.0f%% in the "
			"former, %.0f%% in the latter",
			best, 100.0 * bshare, st->total, st->days, zone_name(x), decl, 100.0 * dshare,
			start, end, 100.0 * pshare, 100.0 * pdecl);
}

static void score_uncommon(const mmr_detect_ctx *ctx, const wtz_state *st, const uint32_t *mine,
			   const peers *p, mmr_contribs *out)
{
	const double *P = ctx->param;
	const mmr_enriched *x = ctx->x;
	if (x->group == 0 || p->others < (int)P[P_PEER_MIN_MEMBERS] ||
	    p->total < (uint64_t)P[P_RARE_GROUP_HOURS])
		return;
	int h = utc_hour(ctx->ev->time);
	double gshare = (double)window3(p->hist, h) / (double)p->total;
	if (gshare >= P[P_RARE_SHARE])
		return;
	double own = st->total ? (double)window3(mine, h) / st->total : 0;
	bool habit_known = ctx->user->converged && st->total > 0;
	if (habit_known && own >= P[P_SELF_MAX])
		return; /* the user's own habit: hour_of_week_rarity's business, not the peers' */
	char when[48] = "";
	if (x->has_declared_tz) {
		int64_t lt = ctx->ev->time + x->declared_offset;
		int minute = (int)((lt - floor_div(lt, 3600) * 3600) / 60);
		snprintf(when, sizeof(when), " (%02d:%02d %.30s)", utc_hour(lt), minute, zone_name(x));
	}
	char self[48];
	if (habit_known)
		snprintf(self, sizeof(self), "this user %.0f%% of %u", 100.0 * own, st->total);
	else
		snprintf(self, sizeof(self), "this user's own hours still learning (%u)", st->total);
	mmr_contrib_add(out, rules[1], (int)P[P_RARE_POINTS],
			"activity at %02d:%02d UTC%s; peers in %.40s (%d%s others) put %.1f%% of "
			"their %llu active hours within 1 h of it; %s",
			h, (int)((ctx->ev->time - floor_div(ctx->ev->time, 3600) * 3600) / 60), when,
			group_name(x), p->others, p->full ? "+" : "", 100.0 * gshare,
			(unsigned long long)p->total, self);
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const wtz_state *st = ctx->user_state;
	if (!relevant(ctx) || ctx->x->group == 0)
		return;
	uint32_t mine[HOURS];
	for (int h = 0; h < HOURS; h++)
		mine[h] = st->hist[h];
	peers p;
	load_peers(ctx, mine, &p);
	if (!p.found)
		return;
	bool evidence = st->total >= ctx->param[P_MIN_HOURS] && st->days >= ctx->param[P_MIN_DAYS];
	score_mismatch(ctx, st, mine, &p, evidence, out);
	score_uncommon(ctx, st, mine, &p, out);
}

static void learn_group(const mmr_detect_ctx *ctx, int hour)
{
	mmr_lru_hold hold;
	group_hours *g =
		mmr_lru_acquire(ctx->global, &ctx->x->group, sizeof(ctx->x->group), true, NULL, &hold);
	if (g != NULL) {
		uint32_t me = mmr_user_hash32(ctx->ev->user);
		for (int i = 0; i < MEMBERS; i++) {
			if (g->member[i] == me)
				break;
			if (g->member[i] == 0) {
				g->member[i] = me;
				break;
			}
		}
		if (g->total >= GROUP_HALVE_AT) {
			g->total = 0;
			for (int h = 0; h < HOURS; h++) {
				g->hist[h] /= 2;
				g->total += g->hist[h];
			}
		}
		g->hist[hour]++;
		g->total++;
	}
	mmr_lru_release(&hold);
}

static void learn(const mmr_detect_ctx *ctx)
{
	wtz_state *st = ctx->user_state;
	const int64_t t = ctx->ev->time;
	if (!relevant(ctx) || t < 86400)
		return;
	int64_t d64 = t / 86400;
	uint32_t d = d64 > UINT32_MAX ? UINT32_MAX : (uint32_t)d64;
	if (st->day == 0 || d > st->day || (uint64_t)d + 2 < st->day) {
		st->day = d;
		st->mask = 0;
		if (st->days < UINT16_MAX)
			st->days++;
	} else if (d < st->day) {
		return; /* late event of an earlier day: cannot tell whether it was counted */
	}
	int h = utc_hour(t);
	if (st->mask & (1u << h))
		return;
	st->mask |= 1u << h;
	if (st->total >= USER_HALVE_AT) {
		st->total = 0;
		for (int i = 0; i < HOURS; i++) {
			st->hist[i] /= 2;
			st->total += st->hist[i];
		}
	}
	st->hist[h]++;
	st->total++;
	if (ctx->x->group != 0)
		learn_group(ctx, h);
}

/* Saved state (docs/state.md): the group table; the member hashes are enciphered when the
 * snapshot is pseudonymized. */
static void group_pseudo(void *value, const mmr_snap_pseudo *p)
{
	group_hours *g = value;
	for (int i = 0; i < MEMBERS; i++)
		g->member[i] = mmr_snap_pseudo32(p, g->member[i]);
}

static int global_save(void *g, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	(void)o;
	return mmr_snap_put_table(w, g, group_pseudo);
}

static int global_load(void *g, mmr_snap_reader *r)
{
	return mmr_snap_get_table(r, g, group_pseudo, NULL);
}

const mmr_detector mmr_detector_working_timezone = {
	.name = "working_timezone",
	.rules = rules,
	.user_state_size = sizeof(wtz_state),
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
