/* Download volume over the VPN: against the user's own sessions and days, and against the
 * peer group.
 *
 * Operatives copy what they can reach ("copied company code repositories ... to their own
 * user profiles and personal cloud accounts", FBI Jan 2025; research §6 #12), and a new hire
 * "downloading what only team leads download" has no history of their own to compare with,
 * so the peer comparison matters as much as the personal one (Sentinel: "Excessive Downloads
 * via Palo Alto GlobalProtect", per user over 14 days; Exabeam's numerical models; research
 * §1-§2).
 *
 * Volume = bytes_in, the bytes RECEIVED by the user's client (rulebase/SCHEMA.md §2: ASA
 * "Bytes xmt", FortiGate sentbyte, RADIUS Acct-Output-Octets). Uploads (bytes_out) are not
 * counted. Events: VPN_END (the session's total) and VPN_STATS (the cumulative bytes of an open
 * session so far: such a session is judged while it is still up). Absent or negative counts
 * (-1) are ignored; sums saturate at INT64_MAX.
 *
 * Per user (88 bytes):
 *   sess  {mean, dev float; n uint16}  EWMA of log2(session MiB) and of its mean absolute
 *                                      deviation (alpha 0.1 after a running-mean warm-up)
 *   day   {mean, dev float; n uint16}  the same over UTC-day totals (days with VPN volume)
 *   rate  {mean, dev float; n uint16}  the same over log2(MiB per session hour)
 *   today uint32, day_bytes int64, day_fired uint8   the UTC day being summed
 *   open[2] {id uint32, fired uint8, counted int64}  open sessions seen in VPN_STATS: the
 *                                      bytes already added to the day and the rules already
 *                                      reported, so neither is counted twice
 * Per peer group (global LRU table keyed by the roster's group id, at most 4096 groups,
 * 216 bytes each): a histogram of log2(MiB per session hour) in 96 bins of 1/4 log2 from
 * 1/16 MiB/h to 1 TiB/h (uint16 counts; all halve when the total reaches 4096, so the
 * histogram follows the last few thousand sessions of the group), and a 128-bit
 * linear-counting bitmap of the members who contributed (Whang, Vander-Zanden, Taylor 1990,
 * "A linear-time probabilistic counting algorithm": n = -128 ln(zero bits / 128); for a team
 * of 5-12 the estimate is exact or one off, and it never forgets a member).
 *
 * Rules:
 *   volume.session_bytes  one session (or an open session so far) downloads at least
 *       volume.session_ratio (8) times the user's typical session (2^mean), at least
 *       volume.mad_factor (3) mean absolute deviations above it, and at least
 *       volume.session_min_mb (500 MB). Needs a converged user and volume.min_sessions (10)
 *       sessions learned. 25 points, +5 per further doubling past the threshold, at most 45.
 *   volume.daily_bytes    the same for the user's total of the current UTC day against past
 *       days (volume.daily_ratio 8, volume.daily_min_mb 1000, volume.min_days 7); at most
 *       once per day. 25 points, +5 per doubling, at most 45.
 *   volume.peer_outlier   the session's rate (MiB per hour of session; a session under an hour
 *       counts as one hour, so a short burst is never inflated) is above the group's
 *       volume.peer_quantile (p95) and at least volume.peer_ratio (4) times its median, the
 *       session downloaded at least volume.peer_min_mb (250 MB), and the histogram holds
 *       volume.peer_min_sessions (30) sessions of volume.peer_min_members (3) members. Needs
 *       the session's duration and a peer group (roster); needs no baseline of the user: this
 *       is what catches a new hire who moves what only leads move. One exception: an
 *       established (not new_hire), converged user whose own usual rate is known
 *       (volume.peer_self_sessions, 5) must also exceed it volume.peer_self_ratio (2) times;
 *       someone who has always downloaded 4x the team is a known heavy user, not a change.
 *       30 points, +5 per doubling past peer_ratio x median, at most 40.
 * The rate, not the session total, is compared with peers because session lengths differ by
 * a factor 30 (a 20-minute evening check-in, a 9-hour day) while a team's rate is stable.
 *
 * Learning is winsorized: once a baseline is ready, a value above its threshold is learned as
 * the threshold, so a burst of exfiltration does not become the user's or the group's normal
 * in a day, while a lasting change still moves the baseline (alpha per session towards the
 * threshold). Calibration against contrib/simulator (3 seeds, 500-2000 users, 30 days): see
 * docs/detectors/data_volume.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "../enrich/roster.h"
#include "../state/lru_table.h"
#include "../state/snapshot.h"

#define MIB 1048576.0
#define ALPHA 0.1
#define OPEN_SLOTS 2
#define BINS 96
#define BIN_LO (-4.0) /* log2(MiB/h) of bin 0's lower edge */
#define BIN_W 0.25
#define AGE_AT 4096
#define MAX_GROUPS 4096
#define MEMBER_BITS 128

typedef struct {
	float mean, dev; /* log2 MiB */
	uint16_t n;
} ewma;

typedef struct {
	int64_t counted; /* bytes_in of this session already in day_bytes */
	uint32_t id;     /* hash of session_id, 0 = empty */
	uint8_t fired;   /* FIRED_* reported while the session was open */
} open_session;

typedef struct {
	int64_t day_bytes;
	ewma sess, day, rate;
	uint32_t today;
	uint8_t day_fired;
	open_session open[OPEN_SLOTS];
} dv_state;

typedef struct {
	uint16_t bin[BINS];
	uint64_t members[MEMBER_BITS / 64];
	uint32_t total;
} group_hist;

enum { FIRED_SESSION = 1, FIRED_PEER = 2 };

enum {
	P_S_RATIO, P_S_MAD, P_S_MIN, P_S_N, P_S_POINTS,
	P_D_RATIO, P_D_MIN, P_D_N, P_D_POINTS,
	P_P_RATIO, P_P_QUANT, P_P_MIN, P_P_N, P_P_MEMBERS, P_P_SELF, P_P_SELF_N, P_P_POINTS,
};

static const mmr_param params[] = {
	[P_S_RATIO] = {"volume.session_ratio", 8, 2, 1e6, "times the user's typical session"},
	[P_S_MAD] = {"volume.mad_factor", 3, 0, 50,
		     "and this many mean absolute deviations (log2) above the typical session/day"},
	[P_S_MIN] = {"volume.session_min_mb", 500, 0, 1e9, "a session below this never fires, MB"},
	[P_S_N] = {"volume.min_sessions", 10, 1, 10000, "sessions learned before the rule fires"},
	[P_S_POINTS] = {"volume.session_points", 25, 0, 100, "points of volume.session_bytes"},
	[P_D_RATIO] = {"volume.daily_ratio", 8, 2, 1e6, "times the user's typical day"},
	[P_D_MIN] = {"volume.daily_min_mb", 1000, 0, 1e9, "a day below this never fires, MB"},
	[P_D_N] = {"volume.min_days", 7, 1, 3650, "days with volume learned before the rule fires"},
	[P_D_POINTS] = {"volume.daily_points", 25, 0, 100, "points of volume.daily_bytes"},
	[P_P_RATIO] = {"volume.peer_ratio", 4, 1, 1e6, "times the peer group's median rate"},
	[P_P_QUANT] = {"volume.peer_quantile", 0.95, 0.5, 0.999,
		       "and above this quantile of the group's rates"},
	[P_P_MIN] = {"volume.peer_min_mb", 250, 0, 1e9, "a session below this never fires, MB"},
	[P_P_N] = {"volume.peer_min_sessions", 30, 5, 2000,
		   "sessions in the group's histogram before the rule fires"},
	[P_P_MEMBERS] = {"volume.peer_min_members", 3, 1, 100,
			 "distinct members behind those sessions (approximate)"},
	[P_P_SELF] = {"volume.peer_self_ratio", 2, 0, 1e6,
		      "for a user with a converged rate history: also this many times their own "
		      "usual rate (0 = off)"},
	[P_P_SELF_N] = {"volume.peer_self_sessions", 5, 1, 10000,
			"sessions with a duration that make a converged user's usual rate known"},
	[P_P_POINTS] = {"volume.peer_points", 30, 0, 100, "points of volume.peer_outlier"},
	{NULL, 0, 0, 0, NULL},
};

static const char *const rules[] = {"volume.session_bytes", "volume.daily_bytes",
				    "volume.peer_outlier", NULL};

static double param(const mmr_detect_ctx *ctx, int i)
{
	return ctx->param ? ctx->param[i] : params[i].def;
}

static void *global_new(const mmr_config *cfg)
{
	(void)cfg;
	return mmr_lru_table_new(MAX_GROUPS, sizeof(group_hist), 16);
}

/* ---- small helpers ------------------------------------------------------------------- */

static double log2_mib(int64_t bytes)
{
	double v = (double)bytes / MIB;
	return v > 1 ? log2(v) : 0;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static uint32_t day_of(int64_t t)
{
	if (t <= 0)
		return 0;
	return t / 86400 >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)(t / 86400);
}

/* "12.4 GB", "830 MB" (decimal units, as the gateways' byte counts are read by people) */
static void human_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	int u = 0;
	while (b >= 1000 && u < 6) {
		b /= 1000;
		u++;
	}
	snprintf(buf, len, b < 100 && u > 0 ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void ewma_add(ewma *e, double v)
{
	if (e->n < UINT16_MAX)
		e->n++;
	double w = 1.0 / e->n > ALPHA ? 1.0 / e->n : ALPHA;
	double d = fabs(v - e->mean);
	if (e->n == 1)
		d = 0;
	e->mean += (float)(w * (v - e->mean));
	e->dev += (float)(w * (d - e->dev));
}

/* log2 threshold of a personal baseline */
static double ewma_threshold(const ewma *e, double ratio, double mad)
{
	double a = log2(ratio), b = mad * e->dev;
	return e->mean + (a > b ? a : b);
}

/* Points: base, +5 per doubling of over (the value / threshold ratio, >= 1), at most max. */
static int scaled_points(int base, double over, int max)
{
	int p = base + 5 * (over >= 2 ? (int)floor(log2(over)) : 0);
	if (max < base)
		max = base;
	return p > max ? max : p;
}

static int find_open(const dv_state *st, uint32_t id)
{
	for (int i = 0; id && i < OPEN_SLOTS; i++)
		if (st->open[i].id == id)
			return i;
	return -1;
}

/* ---- the peer group histogram --------------------------------------------------------- */

static int bin_of(double v)
{
	double b = floor((v - BIN_LO) / BIN_W);
	return b < 0 ? 0 : b >= BINS ? BINS - 1 : (int)b;
}

/* The q-quantile of the histogram, interpolated within its bin (log2 MiB/h). */
static double hist_quantile(const group_hist *g, double q)
{
	double target = q * g->total, cum = 0;
	for (int b = 0; b < BINS; b++) {
		if (g->bin[b] == 0)
			continue;
		if (cum + g->bin[b] >= target)
			return BIN_LO + (b + (target - cum) / g->bin[b]) * BIN_W;
		cum += g->bin[b];
	}
	return BIN_LO + BINS * BIN_W;
}

static unsigned hist_members(const group_hist *g)
{
	int ones = 0;
	for (int i = 0; i < MEMBER_BITS / 64; i++)
		ones += __builtin_popcountll(g->members[i]);
	if (ones == MEMBER_BITS)
		ones = MEMBER_BITS - 1;
	return (unsigned)lround(-MEMBER_BITS * log((double)(MEMBER_BITS - ones) / MEMBER_BITS));
}

/* ---- assessment, shared by score() and learn() ---------------------------------------- */

typedef struct {
	bool volume;       /* a usable VPN_END / VPN_STATS */
	bool end;
	int slot;          /* open session slot, -1 none */
	uint32_t id;
	uint8_t reported;  /* FIRED_* already reported for this open session */
	int64_t bytes;     /* bytes_in of the session (so far) */
	int64_t delta;     /* bytes this event adds to its day */
	bool day_counts;   /* delta belongs to the current or a later day */
	int64_t day_total; /* that day's total including delta */
	uint32_t day;
	/* baselines ready (thresholds valid), values over them, and what fires now */
	bool sess_ready, day_ready, peer_ready;
	bool sess_over, day_over, peer_over;
	bool fire_session, fire_day, fire_peer;
	double sess_thr, day_thr;       /* log2 MiB */
	bool has_rate;
	double rate, hours;             /* log2 MiB/h, session hours */
	double median, pq, peer_thr;    /* log2 MiB/h */
	bool self_known;                /* the user's own usual rate is known */
	uint32_t group_total;
	unsigned members;
} verdict;

static void assess_peer(const mmr_detect_ctx *ctx, verdict *v)
{
	const mmr_event *ev = ctx->ev;
	const mmr_enriched *x = ctx->x;
	if (ev->duration < 0 || x == NULL || x->group == 0)
		return;
	v->hours = (double)ev->duration / 3600;
	v->rate = log2((double)v->bytes / MIB / (v->hours > 1 ? v->hours : 1) + 1e-12);
	v->has_rate = true;
	mmr_lru_hold hold;
	const group_hist *g = mmr_lru_acquire(ctx->global, &x->group, sizeof(x->group), false,
					      NULL, &hold);
	if (g != NULL && g->total > 0) {
		v->median = hist_quantile(g, 0.5);
		v->pq = hist_quantile(g, param(ctx, P_P_QUANT));
		v->group_total = g->total;
		v->members = hist_members(g);
	}
	mmr_lru_release(&hold);
	v->peer_ready = v->group_total >= param(ctx, P_P_N) &&
			v->members >= param(ctx, P_P_MEMBERS);
	v->peer_over = v->peer_ready && v->rate > v->pq &&
		       v->rate >= v->median + log2(param(ctx, P_P_RATIO));
	/* an established, converged user who always downloads like this is a known heavy user,
	 * not a change; a new hire gets no such pass (research §6 #12) */
	const dv_state *st = ctx->user_state;
	double self = param(ctx, P_P_SELF);
	v->peer_thr = v->pq > v->median + log2(param(ctx, P_P_RATIO))
			      ? v->pq
			      : v->median + log2(param(ctx, P_P_RATIO));
	v->self_known = ctx->user->converged && !x->new_hire && st->rate.n >= param(ctx, P_P_SELF_N) &&
			self > 0;
	v->fire_peer = v->peer_over && !(v->reported & FIRED_PEER) &&
		       (!v->self_known || v->rate >= st->rate.mean + log2(self)) &&
		       (double)v->bytes >= param(ctx, P_P_MIN) * 1e6;
}

static void assess(const mmr_detect_ctx *ctx, verdict *v)
{
	const mmr_event *ev = ctx->ev;
	const dv_state *st = ctx->user_state;
	memset(v, 0, sizeof(*v));
	v->slot = -1;
	if ((ev->action != MMR_ACTION_VPN_END && ev->action != MMR_ACTION_VPN_STATS) ||
	    ev->outcome == MMR_OUTCOME_FAILURE || ev->bytes_in < 0)
		return;
	v->end = ev->action == MMR_ACTION_VPN_END;
	v->id = ev->session_id[0] ? mmr_hash32(ev->session_id, strlen(ev->session_id)) : 0;
	if (!v->end && v->id == 0)
		return; /* cumulative counts of an unnamed session cannot be told from the next */
	v->volume = true;
	v->bytes = ev->bytes_in;
	v->slot = find_open(st, v->id);
	v->delta = v->bytes;
	if (v->slot >= 0) {
		v->reported = st->open[v->slot].fired;
		if (v->bytes >= st->open[v->slot].counted) /* else the counter restarted */
			v->delta = v->bytes - st->open[v->slot].counted;
	}
	bool converged = ctx->user->converged;

	v->sess_ready = st->sess.n >= param(ctx, P_S_N);
	if (v->sess_ready) {
		v->sess_thr = ewma_threshold(&st->sess, param(ctx, P_S_RATIO), param(ctx, P_S_MAD));
		v->sess_over = log2_mib(v->bytes) >= v->sess_thr;
		v->fire_session = converged && v->sess_over && !(v->reported & FIRED_SESSION) &&
				  (double)v->bytes >= param(ctx, P_S_MIN) * 1e6;
	}

	v->day = day_of(ev->time);
	v->day_counts = v->day >= st->today;
	v->day_ready = st->day.n >= param(ctx, P_D_N);
	if (v->day_ready)
		v->day_thr = ewma_threshold(&st->day, param(ctx, P_D_RATIO), param(ctx, P_S_MAD));
	if (v->day_counts) {
		v->day_total = v->day == st->today ? sat_add(st->day_bytes, v->delta) : v->delta;
		bool fired_today = v->day == st->today && st->day_fired;
		v->day_over = v->day_ready && log2_mib(v->day_total) >= v->day_thr;
		v->fire_day = converged && v->day_over && !fired_today &&
			      (double)v->day_total >= param(ctx, P_D_MIN) * 1e6;
	}
	assess_peer(ctx, v);
}

/* ---- score ----------------------------------------------------------------------------- */

static void group_label(const mmr_enriched *x, char *buf, size_t len)
{
	if (x->who && x->who->group_name && x->who->group_name[0])
		snprintf(buf, len, "the %u-person group %.48s", x->who->group_size,
			 x->who->group_name);
	else
		snprintf(buf, len, "the peer group");
}

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const dv_state *st = ctx->user_state;
	verdict v;
	assess(ctx, &v);
	if (!v.volume)
		return;
	char b1[24], b2[24], b3[24];
	human_bytes((double)v.bytes, b1, sizeof(b1));

	if (v.fire_session) {
		double typical = exp2(st->sess.mean);
		human_bytes(typical * MIB, b2, sizeof(b2));
		int base = (int)param(ctx, P_S_POINTS);
		mmr_contrib_add(out, rules[0],
				scaled_points(base, exp2(log2_mib(v.bytes) - v.sess_thr), base + 20),
				"downloaded %s in one VPN session%s; %.0fx this user's typical "
				"session (%s, %u sessions learned)",
				b1, v.end ? "" : " so far", (double)v.bytes / MIB / typical, b2,
				st->sess.n);
	}
	if (v.fire_day) {
		double typical = exp2(st->day.mean);
		char day[32];
		mmr_time_format((int64_t)v.day * 86400, day, sizeof(day));
		human_bytes((double)v.day_total, b2, sizeof(b2));
		human_bytes(typical * MIB, b3, sizeof(b3));
		int base = (int)param(ctx, P_D_POINTS);
		mmr_contrib_add(out, rules[1],
				scaled_points(base, exp2(log2_mib(v.day_total) - v.day_thr),
					      base + 20),
				"downloaded %s over VPN on %.10s (UTC day, so far); %.0fx this "
				"user's typical day (%s, %u days learned)",
				b2, day, (double)v.day_total / MIB / typical, b3, st->day.n);
	}
	if (v.fire_peer) {
		char grp[96];
		group_label(ctx->x, grp, sizeof(grp));
		double ratio = exp2(v.rate - v.median);
		human_bytes(exp2(v.median) * MIB, b2, sizeof(b2));
		human_bytes(exp2(v.pq) * MIB, b3, sizeof(b3));
		int base = (int)param(ctx, P_P_POINTS);
		unsigned members = v.members;
		if (ctx->x->who && ctx->x->who->group_size && members > ctx->x->who->group_size)
			members = ctx->x->who->group_size; /* the estimate can overshoot by one */
		mmr_contrib_add(out, rules[2],
				scaled_points(base, ratio / param(ctx, P_P_RATIO), base + 10),
				"downloaded %s in a %.1f h VPN session; %.0fx the median rate of %s "
				"(median %s/h, p%.0f %s/h; %u sessions, ~%u members)",
				b1, v.hours, ratio, grp, b2, 100 * param(ctx, P_P_QUANT), b3,
				v.group_total, members);
	}
}

/* ---- learn ----------------------------------------------------------------------------- */

static void learn_group(const mmr_detect_ctx *ctx, const verdict *v)
{
	mmr_lru_hold hold;
	group_hist *g = mmr_lru_acquire(ctx->global, &ctx->x->group, sizeof(ctx->x->group), true,
					NULL, &hold);
	if (g != NULL) {
		double r = v->peer_over ? v->pq : v->rate; /* winsorized */
		g->bin[bin_of(r)]++;
		if (++g->total >= AGE_AT) {
			g->total = 0;
			for (int b = 0; b < BINS; b++)
				g->total += g->bin[b] >>= 1;
		}
		uint32_t h = mmr_user_hash32(ctx->ev->user) % MEMBER_BITS;
		g->members[h / 64] |= (uint64_t)1 << (h % 64);
	}
	mmr_lru_release(&hold);
}

/* An open session (VPN_STATS): remember the bytes counted into the day and the rules
 * reported. Slot 0 is the most recently updated, slot 1 is replaced first. */
static void learn_open(dv_state *st, const verdict *v)
{
	open_session o = v->slot >= 0 ? st->open[v->slot] : (open_session){.id = v->id};
	o.counted = v->bytes;
	o.fired |= (v->fire_session ? FIRED_SESSION : 0) | (v->fire_peer ? FIRED_PEER : 0);
	if (v->slot != 0)
		st->open[1] = st->open[0];
	st->open[0] = o;
}

static void learn(const mmr_detect_ctx *ctx)
{
	dv_state *st = ctx->user_state;
	verdict v;
	assess(ctx, &v);
	if (!v.volume)
		return;

	if (v.day_counts) {
		if (v.day > st->today) { /* the finished day goes into the daily baseline */
			if (st->day_bytes > 0) {
				double l = log2_mib(st->day_bytes);
				ewma_add(&st->day, v.day_ready && l > v.day_thr ? v.day_thr : l);
			}
			st->today = v.day;
			st->day_fired = 0;
		}
		st->day_bytes = v.day_total;
		st->day_fired |= v.fire_day;
	}

	if (!v.end) {
		learn_open(st, &v);
		return;
	}
	if (v.slot >= 0)
		st->open[v.slot] = (open_session){0};
	ewma_add(&st->sess, v.sess_over ? v.sess_thr : log2_mib(v.bytes));
	if (v.has_rate) { /* complete sessions only */
		ewma_add(&st->rate, v.peer_ready && v.rate > v.peer_thr ? v.peer_thr : v.rate);
		learn_group(ctx, &v);
	}
}

const mmr_detector mmr_detector_data_volume = {
	.name = "data_volume",
	.rules = rules,
	.user_state_size = sizeof(dv_state),
	.params = params,
	.global_new = global_new,
	.global_free = mmr_table_global_free,
	.score = score,
	.learn = learn,
	.state_version = 1,
	.global_save = mmr_snap_table_global_save,
	.global_load = mmr_snap_table_global_load,
	.global_bytes = mmr_snap_table_global_bytes,
};
