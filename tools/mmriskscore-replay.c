/* mmriskscore-replay: run past identity/VPN logs through the same engine the rsyslog module
 * runs, and show an analyst who, why and when.
 *
 *   mmriskscore-replay [replay] [OPTIONS] FILE...           enriched JSON lines
 *   mmriskscore-replay rank [OPTIONS] FILE...               ranked users and their reasons
 *   mmriskscore-replay timeline USER [OPTIONS] FILE...      one user's sessions and events
 *   mmriskscore-replay shared [OPTIONS] FILE...             addresses/devices of several accounts
 *   mmriskscore-replay report -o report.html [OPTIONS] FILE...   self-contained HTML report
 *
 * FILEs are log files (plain or gzip, "-" for stdin) of syslog lines (RFC 3164 / RFC 5424)
 * or JSON lines, merged by timestamp; or, for the analysis commands, the enriched output of a
 * previous replay or of rsyslogd + mmriskscore (a line with a "risk" object is taken as
 * scored, without replaying it). The enriched output has one JSON object per input line:
 * {"time", "host", "tag", "msg"[, "risk", "event"]}; "risk" and "event" are byte for byte
 * what the module puts under $!risk and $!event for the same message.
 *
 * Usage, fidelity to the module, onboarding from history (--state-out) and performance:
 * docs/replay.md.
 */
#include <errno.h>
#include <getopt.h>
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"
#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"
#include "mmriskscore/parse.h"
#include "mmriskscore/rulebase.h"
#include "mmriskscore/shard.h"
#include "mmriskscore/state.h"
#include "replay/replay.h"

#define PROG "mmriskscore-replay"

typedef enum { CMD_REPLAY, CMD_RANK, CMD_TIMELINE, CMD_SHARED, CMD_REPORT } command;
typedef enum { IN_TAGMSG, IN_MSG, IN_RAWMSG } parse_input;

typedef struct {
	command cmd;
	const char *rulebase, *mappings, *model;
	mmr_context_paths ctx;
	char **corporate;
	int n_corporate;
	char **params;
	int n_params;
	parse_input input;
	const char *user_domain, *default_domain;
	rp_input_opts in;
	const char *state_in, *state_out, *state_key;
	const char *output;
	bool scored_only, quiet, force_progress, stats;
	int64_t from, to;
	rp_view_opts view;
	char **users;
	int n_users;
	const char *timeline_user;
	long nshards;
	const char *owned; /* --owned: score only these virtual shards' users */
	mmr_shard_set *shards;
} options;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [replay] [OPTIONS] FILE...        enriched JSON lines (stdout or -o)\n"
"       " PROG " rank [OPTIONS] FILE...            ranked users with their top reasons\n"
"       " PROG " timeline USER [OPTIONS] FILE...   one user's sessions, sources, reasons\n"
"       " PROG " shared [OPTIONS] FILE...          addresses and devices of several accounts\n"
"       " PROG " report -o FILE.html [OPTIONS] FILE...  self-contained HTML report\n"
"\n"
"FILE: log file, plain or gzip, or - for stdin: syslog lines (RFC 3164, RFC 5424) or JSON\n"
"lines, merged by timestamp. rank/timeline/shared/report also read enriched output (lines\n"
"with \"risk\"): those are taken as scored, without replaying them.\n"
"\n"
"As the module's parameters (docs/configuration.md):\n"
"  -r, --rulebase FILE      liblognorm rulebase (rulebase=)\n"
"  -m, --mappings PATH      JSON/key=value mapping file or directory (mappings=)\n"
"      --roster FILE        HR roster CSV (roster=)\n"
"      --lists-dir DIR      list files (lists.dir=)\n"
"      --geoip-city FILE    MaxMind City database (geoip.city=)\n"
"      --geoip-asn FILE     MaxMind ASN database (geoip.asn=)\n"
"      --model FILE         model file (model=)\n"
"      --corporate CIDR     corporate network, repeatable or comma-separated\n"
"                           (corporatenetworks=)\n"
"      --param KEY=VALUE    any other setting by its parameter name, e.g.\n"
"                           --param farm.minusers=3 (repeatable)\n"
"      --user-domain strip|keep, --user-default-domain DOMAIN   (user.domain=, ...)\n"
"      --parse-input tagmsg|msg|rawmsg   (parse.input=, default tagmsg)\n"
"State (the module's statefile):\n"
"      --state-in FILE      start from this snapshot\n"
"      --state-out FILE     save the learned state at the end (onboarding: docs/replay.md)\n"
"      --state-key FILE     pseudonymization key file (statefile.pseudonymkey=)\n"
"Scale-out (docs/scale-out.md):\n"
"      --owned LIST         score only users whose virtual shard is in LIST (\"0-84,170\"),\n"
"                           as one scorer behind a relay; other lines are not written\n"
"      --shards N           number of virtual shards (default 256, as the module)\n"
"Input:\n"
"      --year YYYY          year of RFC 3164 timestamps, which have none (default: the\n"
"                           current year, as rsyslog; with --year, Dec -> Jan advances it)\n"
"      --utc-offset +HH:MM  zone of timestamps without one (default: this machine's\n"
"                           current offset, as rsyslogd; TZ=UTC or +00:00 for UTC logs)\n"
"      --fromhost NAME      host of lines without a hostname (default localhost)\n"
"      --strip-cr           drop the CR of CR LF line ends (rsyslog keeps it as #015)\n"
"Output:\n"
"  -o, --output FILE        write there instead of stdout\n"
"      --scored-only        replay: only the lines that were scored\n"
"      --from TIME, --to TIME   analysis period (event time; ISO 8601, UTC if no zone)\n"
"      --top N              users (or entries) to show; 0 = all (rank 25, report 20)\n"
"      --json               rank/timeline/shared: JSON instead of text\n"
"      --gap MINUTES        silence that ends a session (default 60)\n"
"      --min-accounts N     shared: at least N accounts (default 2)\n"
"      --user USER          report: a section for this user whatever the rank (repeatable)\n"
"      --title TEXT         report title\n"
"  -q, --quiet              no progress display (shown only when stderr is a terminal)\n"
"      --progress           progress display even when stderr is not a terminal\n"
"      --stats              a summary line on stderr at the end\n"
"  -h, --help\n");
}

enum {
	O_ROSTER = 256, O_LISTS, O_CITY, O_ASN, O_MODEL, O_CORP, O_PARAM, O_UDOM, O_UDEF, O_PIN,
	O_SIN, O_SOUT, O_SKEY, O_YEAR, O_UTCOFF, O_FROMHOST, O_STRIPCR, O_SCORED, O_FROM, O_TO,
	O_TOP, O_JSON, O_GAP, O_MINACC, O_USER, O_TITLE, O_PROGRESS, O_STATS, O_SHARDS, O_OWNED
};

static const struct option longopts[] = {
	{"rulebase", required_argument, NULL, 'r'},
	{"mappings", required_argument, NULL, 'm'},
	{"roster", required_argument, NULL, O_ROSTER},
	{"lists-dir", required_argument, NULL, O_LISTS},
	{"geoip-city", required_argument, NULL, O_CITY},
	{"geoip-asn", required_argument, NULL, O_ASN},
	{"model", required_argument, NULL, O_MODEL},
	{"corporate", required_argument, NULL, O_CORP},
	{"param", required_argument, NULL, O_PARAM},
	{"user-domain", required_argument, NULL, O_UDOM},
	{"user-default-domain", required_argument, NULL, O_UDEF},
	{"parse-input", required_argument, NULL, O_PIN},
	{"state-in", required_argument, NULL, O_SIN},
	{"state-out", required_argument, NULL, O_SOUT},
	{"state-key", required_argument, NULL, O_SKEY},
	{"shards", required_argument, NULL, O_SHARDS},
	{"owned", required_argument, NULL, O_OWNED},
	{"year", required_argument, NULL, O_YEAR},
	{"utc-offset", required_argument, NULL, O_UTCOFF},
	{"fromhost", required_argument, NULL, O_FROMHOST},
	{"strip-cr", no_argument, NULL, O_STRIPCR},
	{"output", required_argument, NULL, 'o'},
	{"scored-only", no_argument, NULL, O_SCORED},
	{"from", required_argument, NULL, O_FROM},
	{"to", required_argument, NULL, O_TO},
	{"top", required_argument, NULL, O_TOP},
	{"json", no_argument, NULL, O_JSON},
	{"gap", required_argument, NULL, O_GAP},
	{"min-accounts", required_argument, NULL, O_MINACC},
	{"user", required_argument, NULL, O_USER},
	{"title", required_argument, NULL, O_TITLE},
	{"quiet", no_argument, NULL, 'q'},
	{"progress", no_argument, NULL, O_PROGRESS},
	{"stats", no_argument, NULL, O_STATS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void push(char ***v, int *n, const char *s)
{
	*v = realloc(*v, (size_t)(*n + 1) * sizeof(char *));
	if (*v == NULL)
		die("out of memory");
	(*v)[(*n)++] = (char *)s;
}

static long num_arg(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		die("%s: '%s' is not a number from %ld to %ld", opt, s, lo, hi);
	return v;
}

static int64_t time_arg(const char *opt, const char *s)
{
	int64_t t;
	char buf[64];
	/* a bare date or a date-time without a zone is UTC */
	size_t n = strlen(s);
	if (n == 10)
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
	else if (n == 16 || n == 19)
		snprintf(buf, sizeof(buf), "%s%sZ", s, n == 16 ? ":00" : "");
	else
		snprintf(buf, sizeof(buf), "%s", s);
	if (n >= 11 && buf[10] == ' ')
		buf[10] = 'T';
	if (mmr_time_parse(buf, &t) != 0)
		die("%s: '%s' is not a time (YYYY-MM-DD[THH:MM[:SS]][Z|+hh:mm])", opt, s);
	return t;
}

static int offset_arg(const char *s)
{
	int sign, h, m;
	char c;
	if ((s[0] != '+' && s[0] != '-') || sscanf(s + 1, "%2d:%2d%c", &h, &m, &c) != 2 || h > 23 ||
	    m > 59 || strlen(s) != 6)
		die("--utc-offset: '%s' is not +HH:MM or -HH:MM", s);
	sign = s[0] == '-' ? -1 : 1;
	return sign * (h * 3600 + m * 60);
}

static int local_offset_now(void)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	return (int)tm.tm_gmtoff;
}

static void parse_args(int argc, char **argv, options *o, char ***files, int *nfiles)
{
	int first = 1;
	o->cmd = CMD_REPLAY;
	if (argc > 1) {
		static const struct { const char *name; command c; } cmds[] = {
			{"replay", CMD_REPLAY}, {"rank", CMD_RANK}, {"timeline", CMD_TIMELINE},
			{"shared", CMD_SHARED}, {"report", CMD_REPORT}};
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(argv[1], cmds[i].name) == 0) {
				o->cmd = cmds[i].c;
				first = 2;
			}
	}
	argv += first - 1;
	argc -= first - 1;
	o->in.fromhost = "localhost";
	o->in.utc_offset = local_offset_now();
	o->view.gap = 3600;
	o->view.min_accounts = 2;
	o->view.top = -1;
	int c;
	while ((c = getopt_long(argc, argv, "r:m:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': o->rulebase = optarg; break;
		case 'm': o->mappings = optarg; break;
		case O_ROSTER: o->ctx.roster = optarg; break;
		case O_LISTS: o->ctx.lists_dir = optarg; break;
		case O_CITY: o->ctx.geoip_city = optarg; break;
		case O_ASN: o->ctx.geoip_asn = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case O_CORP: {
			char *copy = strdup(optarg), *save = NULL;
			for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
				push(&o->corporate, &o->n_corporate, t);
			break;
		}
		case O_PARAM:
			if (strchr(optarg, '=') == NULL)
				die("--param: expected KEY=VALUE, got '%s'", optarg);
			push(&o->params, &o->n_params, optarg);
			break;
		case O_UDOM:
			if (strcmp(optarg, "strip") && strcmp(optarg, "keep"))
				die("--user-domain: expected strip or keep, got '%s'", optarg);
			o->user_domain = optarg;
			break;
		case O_UDEF: o->default_domain = optarg; break;
		case O_PIN:
			if (!strcmp(optarg, "tagmsg"))
				o->input = IN_TAGMSG;
			else if (!strcmp(optarg, "msg"))
				o->input = IN_MSG;
			else if (!strcmp(optarg, "rawmsg"))
				o->input = IN_RAWMSG;
			else
				die("--parse-input: expected tagmsg, msg or rawmsg, got '%s'", optarg);
			break;
		case O_SIN: o->state_in = optarg; break;
		case O_SOUT: o->state_out = optarg; break;
		case O_SKEY: o->state_key = optarg; break;
		case O_SHARDS: o->nshards = num_arg("--shards", optarg, 1, MMR_SHARDS_MAX); break;
		case O_OWNED: o->owned = optarg; break;
		case O_YEAR:
			o->in.year = (int)num_arg("--year", optarg, 1970, 2099);
			o->in.year_rollover = true;
			break;
		case O_UTCOFF: o->in.utc_offset = offset_arg(optarg); break;
		case O_FROMHOST: o->in.fromhost = optarg; break;
		case O_STRIPCR: o->in.strip_cr = true; break;
		case 'o': o->output = optarg; break;
		case O_SCORED: o->scored_only = true; break;
		case O_FROM: o->from = time_arg("--from", optarg); break;
		case O_TO: o->to = time_arg("--to", optarg); break;
		case O_TOP: o->view.top = (int)num_arg("--top", optarg, 0, 10000000); break;
		case O_JSON: o->view.json = true; break;
		case O_GAP: o->view.gap = 60 * num_arg("--gap", optarg, 1, 100000); break;
		case O_MINACC: o->view.min_accounts = (int)num_arg("--min-accounts", optarg, 2, 1000000); break;
		case O_USER: push(&o->users, &o->n_users, optarg); break;
		case O_TITLE: o->view.title = optarg; break;
		case 'q': o->quiet = true; break;
		case O_PROGRESS: o->force_progress = true; break;
		case O_STATS: o->stats = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	*files = argv + optind;
	*nfiles = argc - optind;
	if (o->cmd == CMD_TIMELINE) {
		if (*nfiles < 1) {
			fprintf(stderr, PROG ": timeline: which user? (timeline USER [OPTIONS] FILE...)\n");
			exit(2);
		}
		o->timeline_user = (*files)[0];
		(*files)++;
		(*nfiles)--;
	}
	if (*nfiles == 0) {
		fprintf(stderr, PROG ": no input files (use - for stdin)\n");
		usage(stderr);
		exit(2);
	}
	if (o->cmd == CMD_REPORT && o->output == NULL)
		die("report: -o FILE.html is required");
	if (o->view.top < 0)
		o->view.top = o->cmd == CMD_REPORT ? 20 : o->cmd == CMD_SHARED ? 50 : 25;
	if (o->from && o->to && o->to <= o->from)
		die("--to must be after --from");
	o->view.users = o->users;
	o->view.n_users = o->n_users;
	if (o->nshards && !o->owned)
		die("--shards: give --owned LIST too (the shards this replay scores)");
	if (o->owned) {
		char err[512];
		o->shards = mmr_shard_set_new(o->nshards ? (uint32_t)o->nshards : 256, o->owned, err,
					      sizeof(err));
		if (o->shards == NULL)
			die("--owned: %s", err);
	}
}

/* statefile.pseudonymkey: exactly 32 hex digits, surrounding white space ignored */
static void read_key(const char *path, uint8_t key[16])
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die("--state-key %s: %s", path, strerror(errno));
	char buf[130];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *b = buf, *e = buf + n;
	while (b < e && (*b == ' ' || *b == '\n' || *b == '\t' || *b == '\r'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (e - b != 32 || n >= sizeof(buf) - 1)
		die("--state-key %s: must hold exactly 32 hexadecimal digits", path);
	for (int i = 0; i < 16; i++) {
		char two[3] = {b[2 * i], b[2 * i + 1], '\0'}, *end;
		key[i] = (uint8_t)strtoul(two, &end, 16);
		if (*end)
			die("--state-key %s: must hold exactly 32 hexadecimal digits", path);
	}
}

/* ---- progress ----------------------------------------------------------------------------- */

typedef struct {
	bool on;
	double start, last;
	int width;
} progress;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void group3(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t k = 0;
	for (int i = 0; i < n && k + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = tmp[i];
	}
	buf[k] = '\0';
}

static void progress_show(progress *p, rp_merge *mg, uint64_t lines, uint64_t scored, bool final)
{
	double now = mono();
	if (!final && now - p->last < 0.25)
		return;
	p->last = now;
	uint64_t done, total;
	rp_merge_progress(mg, &done, &total);
	double el = now - p->start;
	char l[32], r[32], sc[32], line[256];
	group3(lines, l, sizeof(l));
	group3(el > 0 ? (uint64_t)((double)lines / el) : 0, r, sizeof(r));
	group3(scored, sc, sizeof(sc));
	int k = snprintf(line, sizeof(line), "%s lines, %s/s, %s scored", l, r, sc);
	if (total > 0 && k > 0) {
		double frac = (double)done / (double)total;
		if (frac > 1)
			frac = 1;
		k += snprintf(line + k, sizeof(line) - (size_t)k, ", %.1f %%", 100 * frac);
		if (frac > 0.001 && !final) {
			double eta = el / frac - el;
			k += snprintf(line + k, sizeof(line) - (size_t)k, ", ETA %d:%02d:%02d",
				      (int)(eta / 3600), (int)eta / 60 % 60, (int)eta % 60);
		}
	}
	fprintf(stderr, "\r\033[K" PROG ": %.*s", p->width > 20 ? p->width - 22 : 200, line);
	fflush(stderr);
}

/* ---- the replay --------------------------------------------------------------------------- */

typedef struct {
	options *o;
	mmr_config cfg;
	mmr_engine *engine;
	mmr_rulebase *rb;
	mmr_mappings *maps;
	char *buf;
	size_t cap;
	FILE *out;
	rp_store *store;
	uint64_t lines, scored, unparsed, not_identity, failed, taken, skipped, foreign;
} replay;

static size_t write_fn(void *ptr, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, ptr);
}

/* Scores one message the way the module's doAction does. Returns true when scored. */
static bool score(replay *rp, const rp_msg *m, mmr_event *ev, mmr_result *res)
{
	mmr_parse_input in = {.fallback_time = m->t};
	in.msg = m->msg;
	in.msg_len = m->msg_len;
	if (rp->rb != NULL) {
		if (rp->o->input == IN_RAWMSG) {
			in.text = m->raw;
			in.text_len = m->raw_len;
		} else if (rp->o->input == IN_MSG) {
			const char *s = m->msg;
			size_t n = m->msg_len;
			while (n > 0 && *s == ' ') {
				s++;
				n--;
			}
			in.text = s;
			in.text_len = n;
		} else { /* tag + msg, a space between them when msg has none */
			size_t need = m->tag_len + m->msg_len + 2;
			if (need > rp->cap) {
				rp->cap = need * 2;
				if ((rp->buf = realloc(rp->buf, rp->cap)) == NULL)
					die("out of memory");
			}
			memcpy(rp->buf, m->tag, m->tag_len);
			size_t n = m->tag_len;
			if (n > 0 && m->msg_len > 0 && m->msg[0] != ' ')
				rp->buf[n++] = ' ';
			memcpy(rp->buf + n, m->msg, m->msg_len);
			n += m->msg_len;
			rp->buf[n] = '\0';
			in.text = rp->buf;
			in.text_len = n;
		}
	}
	switch (mmr_parse_event(rp->rb, rp->maps, &in, &rp->cfg.user_norm, ev, NULL)) {
	case MMR_PARSE_UNPARSED:
		rp->unparsed++;
		return false;
	case MMR_PARSE_NOT_IDENTITY:
		rp->not_identity++;
		return false;
	case MMR_PARSE_OK:
		break;
	}
	if (rp->o->shards && !mmr_shard_set_owns_user(rp->o->shards, ev->user, strlen(ev->user))) {
		rp->foreign++; /* another scorer's user: its state must not be touched here */
		return false;
	}
	if (ev->host[0] == '\0') {
		snprintf(ev->host, sizeof(ev->host), "%s", m->host);
		mmr_utf8_sanitize(ev->host);
	}
	if (mmr_engine_process(rp->engine, ev, res) != 0) {
		rp->failed++;
		return false;
	}
	rp->scored++;
	return true;
}

static void emit(replay *rp, const rp_msg *m, const mmr_event *ev, const mmr_result *res)
{
	struct json_object *o = json_object_new_object();
	char tbuf[48];
	rp_time_format(&m->ts, tbuf);
	json_object_object_add(o, "time", json_object_new_string(tbuf));
	json_object_object_add(o, "host", json_object_new_string_len(m->host, (int)m->host_len));
	json_object_object_add(o, "tag", json_object_new_string_len(m->tag, (int)m->tag_len));
	const char *msg = m->msg;
	size_t ml = m->msg_len;
	if (ml > 0 && msg[0] == ' ') { /* the separator after the tag */
		msg++;
		ml--;
	}
	json_object_object_add(o, "msg", json_object_new_string_len(msg, (int)ml));
	if (res != NULL) {
		json_object_object_add(o, "risk", mmr_result_to_json(res));
		json_object_object_add(o, "event", mmr_event_to_json(ev));
	}
	/* rsyslog renders $!/$. trees with libfastjson's default (spaced) format */
	fjson_object_dump(o, write_fn, rp->out);
	fputc('\n', rp->out);
	json_object_put(o);
}

static void setup_engine(replay *rp)
{
	options *o = rp->o;
	char err[1024];
	mmr_config_init(&rp->cfg);
	rp->cfg.max_future = MMR_LIVE_MAX_FUTURE; /* as the module does */
	if (o->model && mmr_config_load_model(&rp->cfg, o->model, err, sizeof(err)) != 0)
		die("--model: %s", err);
	if (o->user_domain)
		rp->cfg.user_norm.strip_domain = strcmp(o->user_domain, "strip") == 0;
	if (o->default_domain) {
		if (strlen(o->default_domain) >= sizeof(rp->cfg.user_norm.default_domain) ||
		    strchr(o->default_domain, '@') || strchr(o->default_domain, ' '))
			die("--user-default-domain: invalid value '%s'", o->default_domain);
		snprintf(rp->cfg.user_norm.default_domain, sizeof(rp->cfg.user_norm.default_domain),
			 "%s", o->default_domain);
	}
	for (int i = 0; i < o->n_corporate; i++)
		if (mmr_config_add_corporate_network(&rp->cfg, o->corporate[i], err, sizeof(err)) != 0)
			die("--corporate: %s", err);
	for (int i = 0; i < o->n_params; i++) {
		char *kv = strdup(o->params[i]), *eq = strchr(kv, '=');
		*eq = '\0';
		if (mmr_config_set(&rp->cfg, kv, eq + 1, err, sizeof(err)) < 0)
			die("--param %s: %s", o->params[i], err);
		free(kv);
	}
	if (mmr_config_validate(&rp->cfg, err, sizeof(err)) != 0)
		die("%s", err);
	bool need = o->cmd == CMD_REPLAY || o->rulebase || o->mappings;
	if (o->cmd == CMD_REPLAY && !o->rulebase && !o->mappings)
		die("nothing to parse with: give -r RULEBASE (text logs), -m MAPPINGS (JSON and "
		    "key=value logs), or both");
	if (!need) {
		if (o->state_in || o->state_out)
			die("--state-in/--state-out need the engine: give -r and/or -m");
		return;
	}
	if (o->mappings && (rp->maps = mmr_mappings_load(o->mappings, err, sizeof(err))) == NULL)
		die("--mappings: %s", err);
	if (o->rulebase) {
		if ((rp->rb = mmr_rulebase_load(o->rulebase, err, sizeof(err))) == NULL)
			die("--rulebase: cannot load '%s': %s", o->rulebase, err);
		if (mmr_rulebase_warning(rp->rb) && !o->quiet)
			fprintf(stderr, PROG ": warning: %s\n", mmr_rulebase_warning(rp->rb));
	}
	uint8_t key[16];
	mmr_snapshot_opts so = {0};
	if (o->state_key) {
		read_key(o->state_key, key);
		so.pseudonym_key = key;
	}
	if (o->state_in) {
		mmr_snapshot_info info;
		int status = -1;
		memset(&info, 0, sizeof(info));
		err[0] = '\0';
		rp->engine = mmr_engine_restore(&rp->cfg, o->state_in, &so, &status, &info, err,
						sizeof(err));
		if (rp->engine == NULL)
			die("--state-in %s: %s", o->state_in, err);
		if (status == 1)
			die("--state-in %s: no such file", o->state_in);
		if (status != 0)
			die("--state-in %s: cannot be used: %s", o->state_in, err);
		if (!o->quiet && isatty(2))
			fprintf(stderr, PROG ": state restored from %s: %llu users, %llu table entries%s%s\n",
				o->state_in, (unsigned long long)info.users,
				(unsigned long long)info.entries, info.message[0] ? "; " : "",
				info.message);
	} else if ((rp->engine = mmr_engine_new(&rp->cfg, err, sizeof(err))) == NULL) {
		die("%s", err);
	}
	if (o->ctx.roster || o->ctx.geoip_city || o->ctx.geoip_asn || o->ctx.lists_dir) {
		char warn[1024] = "";
		mmr_context *c = mmr_context_load(&o->ctx, &rp->cfg.user_norm, err, sizeof(err), warn,
						  sizeof(warn));
		if (c == NULL)
			die("%s", err);
		if (warn[0] && !o->quiet)
			fprintf(stderr, PROG ": warning: %s\n", warn);
		mmr_engine_set_context(rp->engine, c);
	}
	if (o->state_out) { /* find out now, not after an hour of replay */
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.probe-%d", o->state_out, (int)getpid());
		FILE *f = fopen(tmp, "w");
		if (f == NULL)
			die("--state-out %s: cannot write there: %s", o->state_out, strerror(errno));
		fclose(f);
		unlink(tmp);
	}
}

int main(int argc, char **argv)
{
	options o;
	memset(&o, 0, sizeof(o));
	char **files;
	int nfiles;
	parse_args(argc, argv, &o, &files, &nfiles);

	replay rp;
	memset(&rp, 0, sizeof(rp));
	rp.o = &o;
	setup_engine(&rp);
	char err[1024];

	if (o.cmd != CMD_REPLAY) {
		rp_store_opts so = {.from = o.from, .to = o.to, .roster = o.ctx.roster,
				    .geoip_city = o.ctx.geoip_city, .geoip_asn = o.ctx.geoip_asn,
				    .lists_dir = o.ctx.lists_dir, .corporate = o.corporate,
				    .n_corporate = o.n_corporate, .norm = rp.cfg.user_norm};
		if ((rp.store = rp_store_new(&so, err, sizeof(err))) == NULL)
			die("%s", err);
	}
	FILE *out = stdout;
	char *tmp_out = NULL;
	struct stat ost;
	if (o.output && strcmp(o.output, "-") != 0 &&
	    (stat(o.output, &ost) != 0 || S_ISREG(ost.st_mode))) {
		/* written next to the target and renamed at the end: no half report on failure.
		 * Only for regular files: renaming over /dev/null or a FIFO would replace it. */
		size_t l = strlen(o.output) + 32;
		tmp_out = malloc(l);
		snprintf(tmp_out, l, "%s.tmp-%d", o.output, (int)getpid());
		if ((out = fopen(tmp_out, "w")) == NULL)
			die("%s: %s", o.output, strerror(errno));
	} else if (o.output && strcmp(o.output, "-") != 0) {
		if ((out = fopen(o.output, "w")) == NULL)
			die("%s: %s", o.output, strerror(errno));
	}
	rp.out = out;
	static char outbuf[1 << 18];
	setvbuf(out, outbuf, _IOFBF, sizeof(outbuf));

	rp_merge *mg = rp_merge_open(files, nfiles, &o.in, err, sizeof(err));
	if (mg == NULL)
		die("%s", err);

	progress pg = {.on = !o.quiet && (o.force_progress || isatty(2))};
	pg.start = pg.last = mono();
	struct winsize ws;
	pg.width = ioctl(2, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;

	const rp_msg *m;
	mmr_event ev;
	mmr_result res;
	while ((m = rp_merge_next(mg)) != NULL) {
		rp.lines++;
		bool scored;
		if (o.cmd != CMD_REPLAY && m->risk != NULL) { /* scored by an earlier run */
			if (rp_store_add_json(rp.store, m->risk, m->event, m->t) == 0)
				rp.taken++;
			scored = false;
		} else if (rp.engine == NULL) {
			if (m->kind != RP_LINE_ENVELOPE) /* a log line, not an earlier run's output */
				rp.skipped++;
			scored = false;
		} else {
			scored = score(&rp, m, &ev, &res);
			if (scored && rp.store)
				rp_store_add(rp.store, &ev, &res);
		}
		/* with --owned only the scorer's own events: the relay sends every other line
		 * elsewhere, so that the parts of a split replay add up to the whole */
		if (o.cmd == CMD_REPLAY && (scored || (!o.scored_only && !o.owned)))
			emit(&rp, m, scored ? &ev : NULL, scored ? &res : NULL);
		if (pg.on && (rp.lines & 127) == 0)
			progress_show(&pg, mg, rp.lines, rp.scored + rp.taken, false);
	}
	if (pg.on) {
		progress_show(&pg, mg, rp.lines, rp.scored + rp.taken, true);
		fputc('\n', stderr);
	}
	int rc = rp_merge_errors(mg) ? 1 : 0;
	uint64_t crs = rp_merge_cr_lines(mg);
	rp_merge_close(mg);
	double secs = mono() - pg.start;

	if (crs && !o.in.strip_cr && !o.quiet)
		fprintf(stderr, PROG ": note: %llu lines ended in CR LF; the CR stays in the message "
			"as \"#015\", as rsyslog keeps it (--strip-cr drops it)\n", (unsigned long long)crs);
	if (rp.skipped && !o.quiet)
		fprintf(stderr, PROG ": %llu log lines were not replayed: give -r/-m to replay log "
			"lines (only enriched output is read without them)\n", (unsigned long long)rp.skipped);

	if (o.state_out && rp.engine) {
		uint8_t key[16];
		mmr_snapshot_opts so = {0};
		if (o.state_key) {
			read_key(o.state_key, key);
			so.pseudonym_key = key;
		}
		mmr_snapshot_info info;
		memset(&info, 0, sizeof(info));
		if (mmr_engine_save(rp.engine, o.state_out, &so, &info, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": --state-out %s: %s\n", o.state_out, err);
			rc = 1;
		} else if (!o.quiet && (pg.on || o.stats)) {
			fprintf(stderr, PROG ": state saved to %s: %llu users, %llu table entries, "
				"%llu bytes\n", o.state_out, (unsigned long long)info.users,
				(unsigned long long)info.entries, (unsigned long long)info.bytes);
		}
	}

	if (rp.store) {
		rp_store_finish(rp.store);
		char desc[512];
		snprintf(desc, sizeof(desc), "%llu lines from %d file%s: %llu events scored in this run, "
			 "%llu taken from enriched input", (unsigned long long)rp.lines, nfiles,
			 nfiles == 1 ? "" : "s", (unsigned long long)rp.scored,
			 (unsigned long long)rp.taken);
		o.view.inputs = desc;
		o.view.width = isatty(1) && out == stdout && ioctl(1, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
		int r = 0;
		switch (o.cmd) {
		case CMD_RANK: r = rp_print_rank(rp.store, &o.view, out); break;
		case CMD_TIMELINE: r = rp_print_timeline(rp.store, o.timeline_user, &o.view, out); break;
		case CMD_SHARED: r = rp_print_shared(rp.store, &o.view, out); break;
		case CMD_REPORT: r = rp_write_report(rp.store, &o.view, out); break;
		case CMD_REPLAY: break;
		}
		if (r != 0)
			rc = 1;
	}
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, PROG ": writing %s: %s\n", o.output ? o.output : "stdout", strerror(errno));
		rc = 1;
	}
	if (tmp_out) {
		if (fclose(out) != 0) {
			fprintf(stderr, PROG ": %s: %s\n", o.output, strerror(errno));
			rc = 1;
		}
		if (rc == 0 || o.cmd == CMD_REPLAY) {
			if (rename(tmp_out, o.output) != 0) {
				fprintf(stderr, PROG ": %s: %s\n", o.output, strerror(errno));
				rc = 1;
			}
		} else {
			unlink(tmp_out);
		}
		free(tmp_out);
	} else if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", o.output, strerror(errno));
		rc = 1;
	}
	if (o.stats || (pg.on && !o.quiet)) {
		char l[32], r[32];
		group3(rp.lines, l, sizeof(l));
		group3(secs > 0 ? (uint64_t)((double)rp.lines / secs) : 0, r, sizeof(r));
		fprintf(stderr, PROG ": %s lines in %.1f s (%s lines/s): %llu scored, %llu unparsed, "
			"%llu not identity events, %llu failed\n", l, secs, r,
			(unsigned long long)rp.scored, (unsigned long long)rp.unparsed,
			(unsigned long long)rp.not_identity, (unsigned long long)rp.failed);
		if (rp.taken)
			fprintf(stderr, PROG ": %llu scored lines taken from enriched input\n",
				(unsigned long long)rp.taken);
		if (o.owned)
			fprintf(stderr, PROG ": %llu identity events of users in shards not owned "
				"(--owned %s) were skipped\n", (unsigned long long)rp.foreign, o.owned);
	}
	rp_store_free(rp.store);
	mmr_engine_free(rp.engine);
	mmr_rulebase_free(rp.rb);
	mmr_mappings_free(rp.maps);
	mmr_config_clear(&rp.cfg);
	free(rp.buf);
	free(o.corporate);
	free(o.params);
	free(o.users);
	mmr_shard_set_free(o.shards);
	return rc;
}
