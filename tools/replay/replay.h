/* mmriskscore-replay: what the tool's parts share.
 *
 *   input.c    log files (plain or gzip) -> messages as rsyslog would have received them
 *              (PRI, RFC 3164 / RFC 5424 header, hostname, tag, msg, sanitizing), JSON lines,
 *              the k-way merge of many files by timestamp
 *   analyze.c  the scored events of a run, kept compactly: ranking, one user's timeline,
 *              shared infrastructure
 *   report.c   the self-contained HTML report
 *   ../mmriskscore-replay.c   options, the engine, the replay loop, output, progress
 *
 * Nothing here includes rsyslog headers: the tool links the same engine the module does, and
 * input.c re-implements the few steps of rsyslog's reception that decide what the module sees
 * (docs/replay.md, "Fidelity").
 */
#ifndef MMR_REPLAY_H
#define MMR_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmriskscore/engine.h"
#include "mmriskscore/event.h"

struct fjson_object;

/* ---- input.c ------------------------------------------------------------------------------ */

/* A syslog timestamp as rsyslog keeps it (the fields of its struct syslogTime that matter):
 * the reported time in the sender's civil time plus the UTC offset it was given with. */
typedef struct rp_time {
	int year, month, day, hour, minute, second;
	int secfrac, secfrac_prec; /* fraction digits as written; prec 0 = none */
	char off_mode;             /* '+', '-' or 'Z' */
	int off_hour, off_minute;
} rp_time;

/* Unix time of t, exactly as the module computes its fallback event time (reported_time). */
int64_t rp_time_unix(const rp_time *t);
/* rsyslog's date-rfc3339 rendering ("2026-10-01T00:17:00+00:00"); buf of >= 40 bytes. */
size_t rp_time_format(const rp_time *t, char *buf);
/* t = unix time u shown at UTC offset off (seconds east). */
void rp_time_from_unix(int64_t u, int off, rp_time *t);

typedef enum {
	RP_LINE_SYSLOG = 0, /* a syslog line (RFC 3164, RFC 5424, or anything rsyslog accepts) */
	RP_LINE_JSON,       /* a JSON object that is a log record itself (an IdP export) */
	RP_LINE_ENVELOPE,   /* a JSON line with "msg" and a time: enriched output, ours or rsyslog's */
} rp_line_kind;

typedef struct rp_msg {
	rp_line_kind kind;
	const char *raw; /* the line after rsyslog's sanitizing (control characters as #ooo) */
	size_t raw_len;
	const char *host, *tag, *msg; /* NUL-terminated */
	size_t host_len, tag_len, msg_len;
	rp_time ts;      /* the reported time (what %timereported% shows) */
	int64_t t;       /* its unix time: merge key and the event's fallback time */
	bool has_time;   /* false: no timestamp in the line (t is the previous line's) */
	/* envelope lines: the parsed object and, when the line was scored by an earlier run,
	 * its "risk" and "event" objects (borrowed from json) */
	struct fjson_object *json, *risk, *event;
	int source;      /* index of the input file */
	uint64_t lineno; /* 1-based, in that file */
} rp_msg;

typedef struct rp_input_opts {
	int year;             /* RFC 3164 lines without a year: 0 = the current year, as rsyslog */
	bool year_rollover;   /* with year: a month more than 6 back (Dec -> Jan) is a new year */
	int utc_offset;       /* seconds east given to timestamps without a zone */
	const char *fromhost; /* HOSTNAME of lines that carry none */
	bool strip_cr;        /* drop a CR before the LF (rsyslog keeps it as "#015") */
} rp_input_opts;

typedef struct rp_merge rp_merge;

/* Opens every path ("-" = stdin); gzip is recognized by its magic bytes. NULL with err set
 * when a file cannot be opened. */
rp_merge *rp_merge_open(char *const *paths, int n, const rp_input_opts *o, char *err,
			size_t errlen);
/* The next message in timestamp order (ties: earlier file first; within one file the file's
 * own order is kept). Valid until the next call. NULL at the end of all input. */
const rp_msg *rp_merge_next(rp_merge *m);
/* Input bytes read so far and in total (compressed bytes for gzip files); total is 0 when
 * unknown (a pipe). */
void rp_merge_progress(const rp_merge *m, uint64_t *done, uint64_t *total);
/* Read errors so far (each reported on stderr once). */
int rp_merge_errors(const rp_merge *m);
/* Lines that ended in CR LF (see strip_cr). */
uint64_t rp_merge_cr_lines(const rp_merge *m);
void rp_merge_close(rp_merge *m);

/* Parses one line as rsyslog's default parser chain would (exposed for the tests' needs and
 * for envelope lines). line is not modified; m points into buf (grown as needed). */
void rp_parse_line(const char *line, size_t len, const rp_input_opts *o, int default_year,
		   int64_t prev_t, char **buf, size_t *cap, rp_msg *m);

/* RFC 3339 as rsyslog's parser accepts it; returns bytes used or 0. */
size_t rp_parse_3339(const char *s, size_t len, rp_time *t);

/* ---- analyze.c ---------------------------------------------------------------------------- */

typedef struct rp_store rp_store;

typedef struct rp_store_opts {
	int64_t from, to;      /* period [from, to) of event time; 0 = open */
	const char *roster;    /* HR roster CSV (teams, declared zones, start dates) or NULL */
	const char *geoip_city, *geoip_asn; /* for countries/cities/networks, or NULL */
	const char *lists_dir; /* corporate networks are never "shared infrastructure" */
	char *const *corporate; int n_corporate;
	mmr_user_norm norm;
} rp_store_opts;

rp_store *rp_store_new(const rp_store_opts *o, char *err, size_t errlen);
void rp_store_free(rp_store *s);
/* One scored event (from the engine, or rebuilt from an enriched line). */
void rp_store_add(rp_store *s, const mmr_event *ev, const mmr_result *r);
/* An enriched line's "risk" and "event" objects. Returns 0, or -1 when they are unusable. */
int rp_store_add_json(rp_store *s, struct fjson_object *risk, struct fjson_object *event,
		      int64_t fallback_time);
/* Builds the per-user views; call once after the last add. */
void rp_store_finish(rp_store *s);
uint64_t rp_store_events(const rp_store *s);

typedef struct rp_view_opts {
	int top;            /* users to show (rank, report sections) */
	bool json;          /* JSON instead of a text table */
	int64_t gap;        /* seconds of silence that end a session */
	int min_accounts;   /* shared: at least this many accounts */
	int width;          /* text output: terminal width, 0 = no cutting */
	const char *title;  /* report */
	char *const *users; int n_users; /* report: users that get a section whatever their rank */
	const char *inputs; /* report: a one-line description of what was read */
} rp_view_opts;

int rp_print_rank(rp_store *s, const rp_view_opts *v, FILE *out);
int rp_print_timeline(rp_store *s, const char *user, const rp_view_opts *v, FILE *out);
int rp_print_shared(rp_store *s, const rp_view_opts *v, FILE *out);
int rp_write_report(rp_store *s, const rp_view_opts *v, FILE *out);

/* ---- what analyze.c exposes to report.c --------------------------------------------------- */

typedef struct rp_reason {
	uint32_t rule, detail; /* interned strings */
	uint8_t points;
} rp_reason;

typedef struct rp_rec {
	int64_t t;
	int64_t bytes_in, bytes_out, duration; /* -1 absent */
	uint32_t user, target, device, host, country, city, asorg, session;
	uint32_t reasons;  /* first index in the store's reason array */
	uint32_t line;     /* order of arrival, for stable sorting */
	mmr_ip src;
	uint8_t action, outcome, score, user_score, n_reasons, learning;
} rp_rec;

typedef struct rp_rule_stat {
	uint32_t rule, detail; /* the strongest reason of this rule (first one on a tie) */
	int points;            /* its points */
	uint32_t count;        /* events with this rule */
	int64_t first, last;
} rp_rule_stat;

typedef struct rp_user {
	uint32_t name;
	uint32_t *recs; size_t n_recs; /* indexes into the store's records, in time order */
	int max_user_score;
	int64_t max_at;              /* first time max_user_score was reached */
	int last_user_score;
	uint32_t high_events;        /* events of level high or critical */
	int64_t first, last;
	rp_rule_stat *rules; size_t n_rules; /* strongest first */
	uint32_t how[168];           /* events by hour of week (Monday 00h = 0), local time */
	int tz_offset_known;         /* 1: hours are the declared zone's local time */
	const void *roster;          /* mmr_roster_entry or NULL */
	int rank;                    /* 1-based */
} rp_user;

typedef struct rp_share {        /* one source address or device and the accounts behind it */
	bool is_device;
	mmr_ip ip;
	uint32_t device, country, asorg;
	uint32_t *users; size_t n_users;
	uint64_t events;
	int64_t first, last;
	int max_in_day;              /* most distinct accounts within one 24 h window */
	int high_accounts;           /* accounts whose user score reached high (>= 70) */
} rp_share;

/* Accessors for report.c */
const char *rp_str(const rp_store *s, uint32_t id);
rp_user *rp_users_ranked(rp_store *s, size_t *n);
const rp_rec *rp_records(const rp_store *s);
const rp_reason *rp_reasons(const rp_store *s);
rp_user *rp_find_user(rp_store *s, const char *name);
rp_share *rp_shares(rp_store *s, int min_accounts, size_t *n);
const void *rp_roster_entry(const rp_store *s, const char *user);
void rp_period(const rp_store *s, int64_t *first, int64_t *last);
int rp_hour_of_week(int64_t t, int offset);
int rp_local_offset(const rp_store *s, const rp_user *u, int64_t t);
/* Peer group of u (roster team or department): summed hour-of-week counts of its other
 * members and how many members had events. Returns false without a roster entry. */
bool rp_peer_how(rp_store *s, const rp_user *u, uint64_t how[168], size_t *members,
		 const char **group);

/* Sessions of one user: runs of events without a gap longer than opts->gap (a VPN session
 * that is up keeps a session open). */
typedef struct rp_session {
	size_t first, last; /* indexes into u->recs */
} rp_session;
size_t rp_sessions(const rp_store *s, const rp_user *u, int64_t gap, rp_session **out);

void rp_fmt_time(int64_t t, char *buf, size_t len);     /* 2026-10-01 14:05 UTC-less form */
void rp_fmt_duration(int64_t s, char *buf, size_t len); /* 3h05m */

#endif
