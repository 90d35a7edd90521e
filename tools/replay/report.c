/* The HTML report: one self-contained file an analyst can open offline and hand to HR or
 * legal. Everything is rendered here, as static HTML and inline SVG, so the page reads the
 * same with scripts off, in print and in a PDF. The one inline script (a filter box for the
 * ranking) reads text and never writes markup.
 *
 * Every string that comes from the logs (user names, hosts, apps, reason details) goes
 * through esc(): & < > " ' become entities, bytes that are not UTF-8 become '?'. Element ids
 * are made from ranks, never from names. A Content-Security-Policy allows no network access
 * at all, and only the one script whose hash it names: markup injected despite the escaping
 * could not run or fetch anything (tests/integration/replay-report.sh tries).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"
#include "enrich/roster.h"

/* ---- escaping ----------------------------------------------------------------------------- */

static void esc_n(FILE *f, const char *s, size_t max)
{
	size_t n = strlen(s);
	bool cut = n > max;
	if (cut) /* not inside a UTF-8 sequence */
		while (n > max || (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80))
			n--;
	char *b = malloc(n + 1);
	if (b == NULL)
		return;
	memcpy(b, s, n);
	b[n] = '\0';
	mmr_utf8_sanitize(b);
	for (const char *p = b; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*p, f);
		}
	}
	free(b);
	if (cut)
		fputs("&hellip;", f);
}

static void esc(FILE *f, const char *s) { esc_n(f, s, (size_t)-1); }

static const char *level_class(int score)
{
	return score >= 90 ? "critical" : score >= 70 ? "high" : score >= 40 ? "moderate"
	       : score >= 20 ? "low" : "unknown";
}

static void badge(FILE *f, int score)
{
	fprintf(f, "<span class=\"lvl %s\">%d %s</span>", level_class(score), score,
		mmr_level_name(score));
}

static void when(FILE *f, int64_t t)
{
	char b[32];
	rp_fmt_time(t, b, sizeof(b));
	fputs(b, f);
}

static const char *team_name(const mmr_roster_entry *e)
{
	return e == NULL ? NULL : e->team[0] ? e->team : e->department;
}

/* ---- the page ----------------------------------------------------------------------------- */

/* The one script. Its SHA-256 is in the CSP below: change one and change the other (the
 * report test checks that they agree). */
static const char SCRIPT[] =
	"(function(){var q=document.getElementById('filter');if(!q)return;"
	"q.addEventListener('input',function(){var v=q.value.toLowerCase();"
	"var rows=document.querySelectorAll('#ranking tbody tr');"
	"for(var i=0;i<rows.length;i++){rows[i].style.display="
	"rows[i].textContent.toLowerCase().indexOf(v)>=0?'':'none';}});})();";
#define SCRIPT_SHA256 "sha256-bBERWJFtZFiDgRaUzCZ+AscLit8rVlXo/jTdDDorIMI="

static const char CSS[] =
	":root{--fg:#1d2733;--muted:#5b6875;--line:#d9dee4;--bg:#fff;--soft:#f5f7f9}"
	"*{box-sizing:border-box}"
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
	"color:var(--fg);background:var(--bg);margin:0 auto;max-width:1180px;padding:24px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid var(--fg);padding-bottom:4px}"
	"h3{font-size:15px;margin:18px 0 6px}p{margin:6px 0}"
	".muted{color:var(--muted)}.small{font-size:12px}"
	"table{border-collapse:collapse;width:100%;margin:6px 0 12px}"
	"th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}"
	"th{background:var(--soft);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.hot td{background:#fff6f0}"
	"#ranking td:nth-child(2),.username{overflow-wrap:anywhere}"
	"#ranking td:nth-child(2){max-width:16em}td.small{white-space:nowrap}"
	"table.timeline td.small{white-space:normal}table.timeline td.nw{white-space:nowrap}"
	".lvl{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}"
	".lvl.unknown{background:#8a949e}.lvl.low{background:#3f8f4f}.lvl.moderate{background:#d98a00}"
	".lvl.high{background:#d43d2f}.lvl.critical{background:#6d1fa0}"
	".cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}"
	".card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:150px}"
	".card b{display:block;font-size:22px}"
	".user{border-top:3px solid var(--fg);margin-top:36px;padding-top:6px}"
	".facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:2px 18px;margin:6px 0}"
	".facts div>span:first-child{color:var(--muted)}"
	".charts{display:flex;gap:18px;flex-wrap:wrap;align-items:flex-start}"
	"svg{font:10px system-ui,'DejaVu Sans',sans-serif}svg text{fill:var(--muted)}"
	"code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px}"
	"input#filter{font:inherit;padding:4px 8px;width:320px;margin:4px 0}"
	"a{color:#1f5fa8}"
	"@media print{body{max-width:none;padding:0}.user{break-before:page}input#filter{display:none}}";

static void head(FILE *f, const rp_view_opts *v, int64_t first, int64_t last)
{
	const char *title = v->title ? v->title : "Insider-risk report";
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
	fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src '" SCRIPT_SHA256 "'; img-src 'none'; "
	      "form-action 'none'; base-uri 'none'\">\n", f);
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	esc(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", CSS);
	esc(f, title);
	fputs("</h1>\n<p class=\"muted\">Scored identity and VPN events from ", f);
	when(f, first);
	fputs(" to ", f);
	when(f, last);
	char now[32];
	rp_fmt_time((int64_t)time(NULL), now, sizeof(now));
	fprintf(f, " (UTC). Generated %s UTC by mmriskscore-replay.", now);
	if (v->inputs) {
		fputs(" Input: ", f);
		esc(f, v->inputs);
		fputs(".", f);
	}
	fputs("</p>\n", f);
}

static void intro(FILE *f)
{
	fputs("<p class=\"small muted\">How to read it: every identity event (sign-in, MFA, VPN "
	      "session, SSO, ssh) was scored by the mmriskscore engine against the behaviour of the "
	      "same user and of everyone else. <b>Score</b> is the user's accumulated risk (0&ndash;100; "
	      "unknown &lt;20, low &lt;40, moderate &lt;70, high &lt;90, critical), the highest it "
	      "reached in the period. <b>Reasons</b> are the engine's own words, with the points "
	      "they added. A high score is a lead for a human to check, not a finding: the "
	      "sections below show the evidence behind it. Times are UTC unless marked local; "
	      "&ldquo;local&rdquo; is the time zone the HR roster declares for the person.</p>\n", f);
}

static void cards(FILE *f, rp_user *users, size_t n, uint64_t events, size_t shares)
{
	size_t high = 0, crit = 0;
	for (size_t i = 0; i < n; i++) {
		if (users[i].max_user_score >= 70)
			high++;
		if (users[i].max_user_score >= 90)
			crit++;
	}
	fprintf(f, "<div class=\"cards\"><div class=\"card\"><b>%zu</b>users with scored events</div>"
		   "<div class=\"card\"><b>%zu</b>reached high or critical</div>"
		   "<div class=\"card\"><b>%zu</b>reached critical</div>"
		   "<div class=\"card\"><b>%llu</b>events scored</div>"
		   "<div class=\"card\"><b>%zu</b>shared addresses / devices</div></div>\n",
		n, high, crit, (unsigned long long)events, shares);
}

static bool has_section(const rp_view_opts *v, rp_store *s, const rp_user *u)
{
	if (v->top == 0 || u->rank <= v->top)
		return true;
	for (int i = 0; i < v->n_users; i++)
		if (rp_find_user(s, v->users[i]) == u)
			return true;
	return false;
}

static void user_link(FILE *f, rp_store *s, const rp_view_opts *v, const rp_user *u, const char *name)
{
	if (u && has_section(v, s, u)) {
		fprintf(f, "<a href=\"#u%d\">", u->rank);
		esc(f, name);
		fputs("</a>", f);
	} else {
		esc(f, name);
	}
}

static void ranking(FILE *f, rp_store *s, const rp_view_opts *v, rp_user *users, size_t n)
{
	size_t rows = n;
	size_t limit = (size_t)(v->top > 0 && v->top > 100 ? v->top : 100);
	if (rows > limit)
		rows = limit;
	fputs("<h2 id=\"ranking-h\">Ranked users</h2>\n", f);
	fprintf(f, "<p class=\"small muted\">By the highest user score reached, then by the number of "
		   "high or critical events. Users with a section below are linked. %s</p>\n",
		rows < n ? "Only the first rows are listed." : "");
	fputs("<input id=\"filter\" type=\"search\" placeholder=\"Filter: user, team, rule&hellip;\" "
	      "aria-label=\"Filter the ranking\">\n", f);
	fputs("<table id=\"ranking\"><thead><tr><th class=\"n\">#</th><th>User</th><th>Team</th>"
	      "<th>Score</th><th class=\"n\">High events</th><th class=\"n\">Events</th>"
	      "<th>First &ndash; last seen</th><th>Strongest reasons</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < rows; i++) {
		const rp_user *u = &users[i];
		const mmr_roster_entry *re = u->roster;
		fprintf(f, "<tr%s><td class=\"n\">%d</td><td>", u->max_user_score >= 70 ? " class=\"hot\"" : "",
			u->rank);
		user_link(f, s, v, u, rp_str(s, u->name));
		fputs("</td><td>", f);
		if (re)
			esc(f, team_name(re));
		else
			fputs("<span class=\"muted\">not in the roster</span>", f);
		fputs("</td><td>", f);
		badge(f, u->max_user_score);
		fprintf(f, "</td><td class=\"n\">%u</td><td class=\"n\">%zu</td><td class=\"small\">",
			u->high_events, u->n_recs);
		when(f, u->first);
		fputs(" &ndash; ", f);
		when(f, u->last);
		fputs("</td><td class=\"small\">", f);
		int shown = 0;
		for (size_t q = 0; q < u->n_rules && shown < 3; q++) {
			if (u->rules[q].points <= 0)
				continue;
			fprintf(f, "%s+%d <code>", shown ? "<br>" : "", u->rules[q].points);
			esc(f, rp_str(s, u->rules[q].rule));
			fputs("</code>", f);
			shown++;
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (rows < n)
		fprintf(f, "<p class=\"small muted\">%zu more users, all below rank %zu.</p>\n", n - rows, rows);
}

static void shared(FILE *f, rp_store *s, const rp_view_opts *v)
{
	size_t n;
	rp_share *sh = rp_shares(s, v->min_accounts > 1 ? v->min_accounts : 2, &n);
	fputs("<h2 id=\"shared\">Shared infrastructure</h2>\n", f);
	fputs("<p class=\"small muted\">Public source addresses and devices used by several accounts "
	      "(private addresses and corporate networks left out), accounts that reached high "
	      "first. Several unrelated accounts behind one home address is how a laptop farm "
	      "looks; a household, a coworking space or a consumer VPN exit look alike, so check "
	      "who the accounts are.</p>\n", f);
	if (n == 0) {
		fputs("<p>None.</p>\n", f);
		return;
	}
	fputs("<table><thead><tr><th>Address / device</th><th>Where</th><th>Accounts</th>"
	      "<th class=\"n\">Most in 24 h</th><th class=\"n\">Events</th><th>First &ndash; last</th>"
	      "</tr></thead><tbody>\n", f);
	size_t rows = n < 25 ? n : 25;
	for (size_t i = 0; i < rows; i++) {
		fprintf(f, "<tr%s><td class=\"mono\">", sh[i].high_accounts ? " class=\"hot\"" : "");
		if (sh[i].is_device) {
			fputs("device ", f);
			esc(f, rp_str(s, sh[i].device));
			fputs("</td><td>", f);
		} else {
			char ip[64];
			mmr_ip_format(&sh[i].ip, ip, sizeof(ip));
			esc(f, ip);
			fputs("</td><td>", f);
			esc(f, rp_str(s, sh[i].country));
			if (sh[i].asorg) {
				fputs(" <span class=\"muted\">", f);
				esc(f, rp_str(s, sh[i].asorg));
				fputs("</span>", f);
			}
		}
		fputs("</td><td>", f);
		for (size_t q = 0; q < sh[i].n_users && q < 40; q++) {
			const char *name = rp_str(s, sh[i].users[q]);
			rp_user *u = rp_find_user(s, name);
			if (q)
				fputs(", ", f);
			user_link(f, s, v, u, name);
			if (u) {
				const char *t = team_name(u->roster);
				fputs(" <span class=\"small muted\">(", f);
				if (t) {
					esc(f, t);
					fputs(", ", f);
				}
				fprintf(f, "%d)</span>", u->max_user_score);
			}
		}
		if (sh[i].n_users > 40)
			fprintf(f, " &hellip; %zu more", sh[i].n_users - 40);
		fprintf(f, "</td><td class=\"n\">%d</td><td class=\"n\">%llu</td><td class=\"small\">",
			sh[i].max_in_day, (unsigned long long)sh[i].events);
		when(f, sh[i].first);
		fputs(" &ndash; ", f);
		when(f, sh[i].last);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (rows < n)
		fprintf(f, "<p class=\"small muted\">%zu more (mmriskscore-replay shared lists them "
			   "all).</p>\n", n - rows);
}

/* ---- per user ----------------------------------------------------------------------------- */

static void facts(FILE *f, rp_store *s, const rp_user *u)
{
	const mmr_roster_entry *re = u->roster;
	fputs("<div class=\"facts\">", f);
	if (re) {
		fputs("<div><span>Department / team:</span> ", f);
		esc(f, re->department);
		if (re->team[0]) {
			fputs(" / ", f);
			esc(f, re->team);
		}
		fputs("</div><div><span>Title:</span> ", f);
		esc(f, re->title[0] ? re->title : "-");
		fputs("</div><div><span>Manager:</span> ", f);
		esc(f, re->manager[0] ? re->manager : "-");
		char sd[32] = "-";
		if (re->start_date) {
			mmr_time_format(re->start_date, sd, sizeof(sd));
			sd[10] = '\0';
		}
		fputs("</div><div><span>Start date:</span> ", f);
		esc(f, sd);
		fputs("</div><div><span>Declared country / zone:</span> ", f);
		esc(f, re->country[0] ? re->country : "-");
		fputs(" / ", f);
		esc(f, re->timezone[0] ? re->timezone : "-");
		fputs("</div>", f);
	} else {
		fputs("<div><span>Roster:</span> not in the HR roster</div>", f);
	}
	fputs("<div><span>Seen:</span> ", f);
	when(f, u->first);
	fputs(" &ndash; ", f);
	when(f, u->last);
	fprintf(f, "</div><div><span>Events:</span> %zu, of which %u high or critical</div>", u->n_recs,
		u->high_events);
	fputs("<div><span>Highest score:</span> ", f);
	badge(f, u->max_user_score);
	fputs(" at ", f);
	when(f, u->max_at);
	fputs("</div></div>\n", f);
	(void)s;
}

static void reasons_table(FILE *f, rp_store *s, const rp_user *u)
{
	fputs("<h3>Reasons</h3>\n", f);
	size_t shown = 0;
	for (size_t q = 0; q < u->n_rules; q++)
		if (u->rules[q].points > 0)
			shown++;
	if (shown == 0) {
		fputs("<p class=\"muted\">No rule added points for this user in the period.</p>\n", f);
		return;
	}
	fputs("<table><thead><tr><th class=\"n\">Points</th><th>Rule</th><th class=\"n\">Events</th>"
	      "<th>First &ndash; last</th><th>The strongest instance, in the engine's words</th>"
	      "</tr></thead><tbody>\n", f);
	for (size_t q = 0; q < u->n_rules; q++) {
		const rp_rule_stat *st = &u->rules[q];
		if (st->points <= 0)
			continue;
		fprintf(f, "<tr><td class=\"n\">+%d</td><td><code>", st->points);
		esc(f, rp_str(s, st->rule));
		fprintf(f, "</code></td><td class=\"n\">%u</td><td class=\"small\">", st->count);
		when(f, st->first);
		fputs(" &ndash; ", f);
		when(f, st->last);
		fputs("</td><td>", f);
		esc(f, rp_str(s, st->detail));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

static void score_chart(FILE *f, rp_store *s, const rp_user *u, int64_t t0, int64_t t1)
{
	const int W = 720, H = 170, L = 34, R = 8, T = 8, B = 22;
	const rp_rec *recs = rp_records(s);
	double span = t1 > t0 ? (double)(t1 - t0) : 1;
	fprintf(f, "<figure style=\"margin:0\"><svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "role=\"img\" aria-label=\"score over time\">", W, H, W, H);
	static const struct { int lo, hi; const char *c; } bands[] = {
		{0, 20, "#f3f4f5"}, {20, 40, "#eef6ef"}, {40, 70, "#fdf3e1"}, {70, 90, "#fbe6e3"},
		{90, 100, "#f1e6f7"}};
	for (int b = 0; b < 5; b++) {
		double y1 = T + (H - T - B) * (1 - bands[b].hi / 100.0);
		double y2 = T + (H - T - B) * (1 - bands[b].lo / 100.0);
		fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"/>", L, y1,
			W - L - R, y2 - y1, bands[b].c);
	}
	for (int y = 0; y <= 100; y += 20)
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>", L - 4,
			T + (H - T - B) * (1 - y / 100.0) + 3, y);
	/* day ticks: at most ~10 labels */
	int64_t days = (t1 - t0) / 86400 + 1, step = days > 10 ? (days + 9) / 10 : 1;
	for (int64_t d = 0; d <= days; d += step) {
		int64_t t = (t0 / 86400 + d) * 86400;
		if (t < t0 || t > t1)
			continue;
		double x = L + (W - L - R) * ((double)(t - t0) / span);
		char b[32];
		rp_fmt_time(t, b, sizeof(b));
		b[10] = '\0';
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccd\"/>"
			   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
			x, T, x, H - B, x, H - 8, b + 5);
	}
	/* user_score: a step line, one point per pixel column at most (the column's last value) */
	fputs("<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1.6\" points=\"", f);
	int lastx = -1;
	double lasty = T + (H - T - B);
	for (size_t j = 0; j < u->n_recs; j++) {
		const rp_rec *x = &recs[u->recs[j]];
		int px = L + (int)((W - L - R) * ((double)(x->t - t0) / span));
		double py = T + (H - T - B) * (1 - x->user_score / 100.0);
		if (px != lastx || j + 1 == u->n_recs) {
			fprintf(f, "%d,%.1f %d,%.1f ", px, lasty, px, py);
			lastx = px;
		}
		lasty = py;
	}
	fputs("\"/>", f);
	/* events of moderate or higher score as dots (the strongest per pixel column) */
	int col_best[800];
	for (int i = 0; i < 800; i++)
		col_best[i] = -1;
	for (size_t j = 0; j < u->n_recs; j++) {
		const rp_rec *x = &recs[u->recs[j]];
		if (x->score < 40)
			continue;
		int px = L + (int)((W - L - R) * ((double)(x->t - t0) / span));
		if (px < 0 || px >= 800 || col_best[px] >= x->score)
			continue;
		col_best[px] = x->score;
	}
	static const char *colors[] = {"#8a949e", "#3f8f4f", "#d98a00", "#d43d2f", "#6d1fa0"};
	for (int px = 0; px < 800; px++) {
		if (col_best[px] < 0)
			continue;
		int sc = col_best[px];
		int li = sc >= 90 ? 4 : sc >= 70 ? 3 : sc >= 40 ? 2 : sc >= 20 ? 1 : 0;
		fprintf(f, "<circle cx=\"%d\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"><title>event score %d</title></circle>",
			px, T + (H - T - B) * (1 - sc / 100.0), colors[li], sc);
	}
	fputs("</svg><figcaption class=\"small muted\">Score over time: the line is the user's "
	      "accumulated score (it decays when nothing new happens), dots are single events of "
	      "moderate or higher score. Whole period, UTC.</figcaption></figure>\n", f);
}

static void how_grid(FILE *f, int x0, const char *label, const double share[168], double max,
		     const char *color)
{
	static const char *days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	const int C = 13, top = 16, left = 30;
	fprintf(f, "<text x=\"%d\" y=\"11\" style=\"font-weight:600\">%s</text>", x0 + left, label);
	for (int d = 0; d < 7; d++) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", x0 + left - 4,
			top + d * C + 9, days[d]);
		for (int h = 0; h < 24; h++) {
			double v = share[d * 24 + h];
			double a = max > 0 ? v / max : 0;
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
				   "fill-opacity=\"%.2f\" stroke=\"#e3e6ea\" stroke-width=\"0.5\">"
				   "<title>%s %02d:00 &#8211; %.1f %%</title></rect>",
				x0 + left + h * C, top + d * C, C, C, v > 0 ? color : "#ffffff",
				v > 0 ? 0.12 + 0.88 * a : 1.0, days[d], h, 100 * v);
		}
	}
	for (int h = 0; h < 24; h += 6)
		fprintf(f, "<text x=\"%d\" y=\"%d\">%02d</text>", x0 + left + h * C, top + 7 * C + 11, h);
}

static void activity_chart(FILE *f, rp_store *s, const rp_user *u)
{
	uint64_t peer[168];
	size_t members = 0;
	const char *group = NULL;
	bool have_peers = rp_peer_how(s, u, peer, &members, &group) && members > 0;
	double us[168], ps[168], usum = 0, psum = 0, umax = 0, pmax = 0;
	for (int h = 0; h < 168; h++) {
		usum += u->how[h];
		psum += (double)peer[h];
	}
	for (int h = 0; h < 168; h++) {
		us[h] = usum > 0 ? u->how[h] / usum : 0;
		ps[h] = psum > 0 ? (double)peer[h] / psum : 0;
		if (us[h] > umax)
			umax = us[h];
		if (ps[h] > pmax)
			pmax = ps[h];
	}
	fputs("<figure style=\"margin:0\"><svg width=\"730\" height=\"124\" viewBox=\"0 0 730 124\" "
	      "role=\"img\" aria-label=\"activity by hour of week\">", f);
	how_grid(f, 0, "This user", us, umax, "#1f5fa8");
	if (have_peers)
		how_grid(f, 370, "Peer group", ps, pmax, "#3f8f4f");
	else
		fputs("<text x=\"400\" y=\"60\">no peer group (not in the roster, or alone in it)</text>", f);
	fputs("</svg><figcaption class=\"small muted\">Activity by hour of week, ", f);
	if (u->tz_offset_known)
		fputs("in the local time of the zone the roster declares for each person", f);
	else
		fputs("in UTC (no declared time zone)", f);
	fputs("; darker = a larger share of that person's or group's events.", f);
	if (have_peers) {
		fputs(" Peer group: ", f);
		esc(f, group);
		fprintf(f, ", %zu other member%s with events.", members, members == 1 ? "" : "s");
		/* how much of the user's activity falls in hours the peers hardly use */
		double odd = 0;
		for (int h = 0; h < 168; h++)
			if (ps[h] < 0.002)
				odd += us[h];
		fprintf(f, " <b>%.0f %%</b> of this user's events fall in hours of the week in which "
			   "the peer group has under 0.2 %% of its own.", 100 * odd);
	}
	fputs("</figcaption></figure>\n", f);
}

typedef struct {
	mmr_ip ip;
	uint32_t country, city, asorg;
	uint32_t ok, fail, events;
	int64_t first, last;
	int max_score;
} loc;

static int cmp_loc(const void *a, const void *b)
{
	const loc *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

static void locations(FILE *f, rp_store *s, const rp_user *u)
{
	const rp_rec *recs = rp_records(s);
	loc *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t j = 0; j < u->n_recs; j++) {
		const rp_rec *x = &recs[u->recs[j]];
		if (!x->src.family)
			continue;
		loc *l = NULL;
		for (size_t q = 0; q < n; q++)
			if (memcmp(&v[q].ip, &x->src, sizeof(mmr_ip)) == 0) {
				l = &v[q];
				break;
			}
		if (l == NULL) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = realloc(v, cap * sizeof(loc));
				if (v == NULL)
					return;
			}
			l = &v[n++];
			memset(l, 0, sizeof(*l));
			l->ip = x->src;
			l->first = x->t;
		}
		l->last = x->t;
		l->events++;
		if (x->country)
			l->country = x->country;
		if (x->city)
			l->city = x->city;
		if (x->asorg)
			l->asorg = x->asorg;
		bool signin = x->action == MMR_ACTION_AUTH || x->action == MMR_ACTION_VPN_START ||
			      x->action == MMR_ACTION_MFA || x->action == MMR_ACTION_SSO;
		if (signin && x->outcome == MMR_OUTCOME_SUCCESS)
			l->ok++;
		if (x->outcome == MMR_OUTCOME_FAILURE)
			l->fail++;
		if (x->score > l->max_score)
			l->max_score = x->score;
	}
	fputs("<h3>Sign-in locations</h3>\n", f);
	if (n == 0) {
		fputs("<p class=\"muted\">No source addresses.</p>\n", f);
		free(v);
		return;
	}
	qsort(v, n, sizeof(loc), cmp_loc);
	fputs("<table><thead><tr><th>Source address</th><th>Country</th><th>City</th><th>Network</th>"
	      "<th class=\"n\">Sign-ins</th><th class=\"n\">Failures</th><th class=\"n\">Events</th>"
	      "<th>First &ndash; last</th><th>Max event score</th></tr></thead><tbody>\n", f);
	size_t rows = n < 60 ? n : 60;
	for (size_t q = 0; q < rows; q++) {
		char ip[64];
		mmr_ip_format(&v[q].ip, ip, sizeof(ip));
		fprintf(f, "<tr%s><td class=\"mono\">", v[q].max_score >= 70 ? " class=\"hot\"" : "");
		esc(f, ip);
		fputs("</td><td>", f);
		esc(f, rp_str(s, v[q].country));
		fputs("</td><td>", f);
		esc(f, rp_str(s, v[q].city));
		fputs("</td><td>", f);
		esc(f, rp_str(s, v[q].asorg));
		fprintf(f, "</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
			   "<td class=\"small\">", v[q].ok, v[q].fail, v[q].events);
		when(f, v[q].first);
		fputs(" &ndash; ", f);
		when(f, v[q].last);
		fputs("</td><td>", f);
		badge(f, v[q].max_score);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (rows < n)
		fprintf(f, "<p class=\"small muted\">%zu more addresses (mmriskscore-replay timeline "
			   "lists them).</p>\n", n - rows);
	free(v);
}

/* distinct interned ids of one field over a session, escaped and joined */
static void session_list(FILE *f, rp_store *s, const rp_user *u, const rp_session *ss, int what,
			 size_t max)
{
	const rp_rec *recs = rp_records(s);
	uint32_t seen[32];
	size_t n = 0, more = 0;
	for (size_t j = ss->first; j <= ss->last; j++) {
		const rp_rec *x = &recs[u->recs[j]];
		uint32_t id = what == 0 ? x->country : what == 1 ? x->target : x->host;
		if (id == 0)
			continue;
		bool dup = false;
		for (size_t q = 0; q < n && !dup; q++)
			dup = seen[q] == id;
		if (dup)
			continue;
		if (n >= max || n >= 32) {
			more++;
			continue;
		}
		seen[n++] = id;
		if (n > 1)
			fputs(", ", f);
		esc_n(f, rp_str(s, id), 60);
	}
	if (more)
		fprintf(f, " +%zu", more);
}

static void sessions(FILE *f, rp_store *s, const rp_view_opts *v, const rp_user *u)
{
	rp_session *ss;
	size_t n = rp_sessions(s, u, v->gap > 0 ? v->gap : 3600, &ss);
	const rp_rec *recs = rp_records(s);
	const rp_reason *rs = rp_reasons(s);
	fprintf(f, "<h3>Timeline: %zu session%s</h3>\n", n, n == 1 ? "" : "s");
	fputs("<p class=\"small muted\">A session is a run of events without an hour of silence "
	      "(a VPN session that is up keeps it open). Local start: the declared zone's time. "
	      "Highlighted: sessions with an event of high or critical score.</p>\n", f);
	fputs("<table class=\"timeline\"><thead><tr><th>Start (UTC)</th><th>Duration</th>"
	      "<th class=\"n\">Local start</th><th>Sources</th><th>Countries</th><th>Apps / servers</th>"
	      "<th>Via</th><th class=\"n\">Events</th><th>Max score</th><th>Reasons</th></tr></thead><tbody>\n",
	      f);
	size_t first = n > 400 ? n - 400 : 0;
	for (size_t i = first; i < n; i++) {
		const rp_rec *x0 = &recs[u->recs[ss[i].first]], *x1 = &recs[u->recs[ss[i].last]];
		int maxs = 0;
		for (size_t j = ss[i].first; j <= ss[i].last; j++)
			if (recs[u->recs[j]].score > maxs)
				maxs = recs[u->recs[j]].score;
		char d[32];
		rp_fmt_duration(x1->t - x0->t, d, sizeof(d));
		int off = rp_local_offset(s, u, x0->t);
		int how = rp_hour_of_week(x0->t, off);
		static const char *days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
		fprintf(f, "<tr%s><td class=\"small nw\">", maxs >= 70 ? " class=\"hot\"" : "");
		when(f, x0->t);
		int64_t lmin = ((x0->t + off) % 3600 + 3600) % 3600 / 60;
		fprintf(f, "</td><td>%s</td><td class=\"n\">%s %02d:%02lld%s</td><td class=\"mono\">", d,
			days[how / 24], how % 24, (long long)lmin, u->tz_offset_known ? "" : " UTC");
		/* sources */
		mmr_ip seen[8];
		size_t ns = 0, more = 0;
		for (size_t j = ss[i].first; j <= ss[i].last; j++) {
			const rp_rec *x = &recs[u->recs[j]];
			if (!x->src.family)
				continue;
			bool dup = false;
			for (size_t q = 0; q < ns && !dup; q++)
				dup = memcmp(&seen[q], &x->src, sizeof(mmr_ip)) == 0;
			if (dup)
				continue;
			if (ns == 8) {
				more++;
				continue;
			}
			seen[ns++] = x->src;
			char ip[64];
			mmr_ip_format(&x->src, ip, sizeof(ip));
			if (ns > 1)
				fputs("<br>", f);
			esc(f, ip);
		}
		if (more)
			fprintf(f, "<br>+%zu", more);
		fputs("</td><td>", f);
		session_list(f, s, u, &ss[i], 0, 6);
		fputs("</td><td class=\"small\">", f);
		session_list(f, s, u, &ss[i], 1, 8);
		fputs("</td><td class=\"small\">", f);
		session_list(f, s, u, &ss[i], 2, 4);
		fprintf(f, "</td><td class=\"n\">%zu</td><td>", ss[i].last - ss[i].first + 1);
		badge(f, maxs);
		fputs("</td><td class=\"small\">", f);
		/* rules of the session with their strongest points */
		uint32_t rule[16];
		int pts[16];
		size_t nr = 0;
		for (size_t j = ss[i].first; j <= ss[i].last; j++) {
			const rp_rec *x = &recs[u->recs[j]];
			for (int q = 0; q < x->n_reasons; q++) {
				const rp_reason *r = &rs[x->reasons + (uint32_t)q];
				if (r->points == 0)
					continue;
				size_t k = 0;
				while (k < nr && rule[k] != r->rule)
					k++;
				if (k == nr) {
					if (nr == 16)
						continue;
					rule[nr] = r->rule;
					pts[nr++] = 0;
				}
				if (r->points > pts[k])
					pts[k] = r->points;
			}
		}
		for (size_t k = 0; k < nr; k++) { /* strongest first */
			size_t b = k;
			for (size_t q = k + 1; q < nr; q++)
				if (pts[q] > pts[b])
					b = q;
			uint32_t tr = rule[k];
			int tp = pts[k];
			rule[k] = rule[b];
			pts[k] = pts[b];
			rule[b] = tr;
			pts[b] = tp;
			fprintf(f, "%s+%d <code>", k ? "<br>" : "", pts[k]);
			esc(f, rp_str(s, rule[k]));
			fputs("</code>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (first > 0)
		fprintf(f, "<p class=\"small muted\">%zu earlier sessions left out (mmriskscore-replay "
			   "timeline lists them).</p>\n", first);
	free(ss);
}

static void user_section(FILE *f, rp_store *s, const rp_view_opts *v, const rp_user *u,
			 int64_t t0, int64_t t1)
{
	fprintf(f, "<section class=\"user\" id=\"u%d\" data-rank=\"%d\">\n<h2>#%d ", u->rank, u->rank,
		u->rank);
	fputs("<span class=\"username\">", f);
	esc(f, rp_str(s, u->name));
	fputs("</span> ", f);
	badge(f, u->max_user_score);
	fputs("</h2>\n", f);
	facts(f, s, u);
	reasons_table(f, s, u);
	fputs("<h3>Score over time and activity by hour of week</h3>\n<div class=\"charts\">", f);
	score_chart(f, s, u, t0, t1);
	activity_chart(f, s, u);
	fputs("</div>\n", f);
	locations(f, s, u);
	sessions(f, s, v, u);
	fputs("<p class=\"small\"><a href=\"#ranking-h\">back to the ranking</a></p>\n</section>\n", f);
}

int rp_write_report(rp_store *s, const rp_view_opts *v, FILE *f)
{
	size_t n;
	rp_user *users = rp_users_ranked(s, &n);
	int64_t t0, t1;
	rp_period(s, &t0, &t1);
	size_t nshares;
	rp_shares(s, v->min_accounts > 1 ? v->min_accounts : 2, &nshares);
	head(f, v, t0, t1);
	intro(f);
	cards(f, users, n, rp_store_events(s), nshares);
	if (n == 0) {
		fputs("<p><b>No scored event in the input.</b> Check the rulebase and mappings (-r, -m) "
		      "and the period (--from, --to).</p>\n", f);
	} else {
		ranking(f, s, v, users, n);
		shared(f, s, v);
		for (size_t i = 0; i < n; i++)
			if (has_section(v, s, &users[i]))
				user_section(f, s, v, &users[i], t0, t1);
	}
	for (int i = 0; i < v->n_users; i++)
		if (rp_find_user(s, v->users[i]) == NULL) {
			fputs("<p class=\"muted\">No scored event for the requested user ", f);
			esc(f, v->users[i]);
			fputs(".</p>\n", f);
		}
	fputs("<h2>About this report</h2>\n<p class=\"small muted\">Made by mmriskscore-replay from "
	      "the same rulebases, engine, roster, lists and GeoIP databases as the rsyslog module "
	      "mmriskscore; the scores are what the module would have given these logs in this "
	      "order. The engine learns each user's baseline first (events marked learning score "
	      "lower); scores depend on how much history was replayed before the period shown. "
	      "Countries and networks come from what the log source says, else from the GeoIP "
	      "databases given. This file needs no network access and contains no script that "
	      "loads anything.</p>\n", f);
	fprintf(f, "<script>%s</script>\n</body>\n</html>\n", SCRIPT);
	return ferror(f) ? 1 : 0;
}
