/* Log files -> messages as rsyslog's reception would have made them, and the time merge.
 *
 * What the module sees of a message is decided before it runs: rsyslog sanitizes the line
 * (control characters become "#ooo"), reads the PRI, then its default parser chain
 * (rsyslog.rfc5424, rsyslog.rfc3164) finds the timestamp, HOSTNAME, TAG and MSG. The module
 * parses TAG + MSG, takes the timestamp as the event time when the log body has none, and
 * HOSTNAME as the event's host. The functions below follow rsyslog 8.2302's
 * runtime/parser.c (SanitizeMsg, ParsePRI), tools/pmrfc3164.c, tools/pmrfc5424.c and
 * runtime/datetime.c (ParseTIMESTAMP3164/3339, formatTimestamp3339) step by step, with
 * their defaults, so that the replay and the module score the same bytes
 * (tests/integration/replay-matches-module.sh checks it on a simulator run).
 *
 * Where a replay cannot know what rsyslog would have known (the reception time: the year of
 * an RFC 3164 timestamp, the time of a line without a timestamp, the sender of a line without
 * a hostname) the choice is documented in docs/replay.md, "Fidelity".
 */
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "replay.h"

#define TAG_MAXSIZE 512      /* rsyslog's CONF_TAG_MAXSIZE */
#define HOSTNAME_MAXSIZE 512 /* CONF_HOSTNAME_MAXSIZE */
#define LOG_MAXPRI 191
#define MAX_LINE (16u << 20) /* longer lines are cut (counted); rsyslog cuts at maxMessageSize */

/* ---- time --------------------------------------------------------------------------------- */

int64_t rp_time_unix(const rp_time *t)
{
	int off = (t->off_hour * 3600 + t->off_minute * 60) * (t->off_mode == '-' ? -1 : 1);
	return mmr_time_from_civil(t->year, t->month, t->day, t->hour, t->minute, t->second, off);
}

size_t rp_time_format(const rp_time *t, char *b)
{
	static const int pow10[] = {1, 10, 100, 1000, 10000, 100000};
	size_t i = 0;
	b[i++] = (char)('0' + (t->year / 1000) % 10);
	b[i++] = (char)('0' + (t->year / 100) % 10);
	b[i++] = (char)('0' + (t->year / 10) % 10);
	b[i++] = (char)('0' + t->year % 10);
	b[i++] = '-';
	b[i++] = (char)('0' + (t->month / 10) % 10);
	b[i++] = (char)('0' + t->month % 10);
	b[i++] = '-';
	b[i++] = (char)('0' + (t->day / 10) % 10);
	b[i++] = (char)('0' + t->day % 10);
	b[i++] = 'T';
	b[i++] = (char)('0' + (t->hour / 10) % 10);
	b[i++] = (char)('0' + t->hour % 10);
	b[i++] = ':';
	b[i++] = (char)('0' + (t->minute / 10) % 10);
	b[i++] = (char)('0' + t->minute % 10);
	b[i++] = ':';
	b[i++] = (char)('0' + (t->second / 10) % 10);
	b[i++] = (char)('0' + t->second % 10);
	if (t->secfrac_prec > 0) { /* as formatTimestamp3339: at most 6 digits */
		b[i++] = '.';
		int power = pow10[(t->secfrac_prec - 1) % 6], frac = t->secfrac;
		while (power > 0) {
			int digit = frac / power;
			frac -= digit * power;
			power /= 10;
			b[i++] = (char)('0' + digit);
		}
	}
	if (t->off_mode == 'Z') {
		b[i++] = 'Z';
	} else {
		b[i++] = t->off_mode;
		b[i++] = (char)('0' + (t->off_hour / 10) % 10);
		b[i++] = (char)('0' + t->off_hour % 10);
		b[i++] = ':';
		b[i++] = (char)('0' + (t->off_minute / 10) % 10);
		b[i++] = (char)('0' + t->off_minute % 10);
	}
	b[i] = '\0';
	return i;
}

void rp_time_from_unix(int64_t u, int off, rp_time *t)
{
	time_t tt = (time_t)(u + off);
	struct tm tm;
	gmtime_r(&tt, &tm);
	memset(t, 0, sizeof(*t));
	t->year = tm.tm_year + 1900;
	t->month = tm.tm_mon + 1;
	t->day = tm.tm_mday;
	t->hour = tm.tm_hour;
	t->minute = tm.tm_min;
	t->second = tm.tm_sec;
	t->off_mode = off < 0 ? '-' : '+';
	int a = off < 0 ? -off : off;
	t->off_hour = a / 3600;
	t->off_minute = (a % 3600) / 60;
}

/* srSLMGParseInt32: digits at *p (none: 0), bounded by *len */
static int parse_int(const char **p, size_t *len)
{
	int i = 0;
	while (*len > 0 && **p >= '0' && **p <= '9' && i < 2147483647 / 10 - 1) {
		i = i * 10 + (**p - '0');
		(*p)++;
		(*len)--;
	}
	return i;
}

/* ParseTIMESTAMP3339 */
size_t rp_parse_3339(const char *s, size_t len, rp_time *t)
{
	const char *p = s;
	size_t n = len;
	rp_time r = {0};
	r.year = parse_int(&p, &n);
	if (n == 0 || *p++ != '-' || r.year < 0 || r.year >= 2100)
		return 0;
	n--;
	r.month = parse_int(&p, &n);
	if (r.month < 1 || r.month > 12 || n == 0 || *p++ != '-')
		return 0;
	n--;
	r.day = parse_int(&p, &n);
	if (r.day < 1 || r.day > 31 || n == 0 || *p++ != 'T')
		return 0;
	n--;
	r.hour = parse_int(&p, &n);
	if (r.hour < 0 || r.hour > 23 || n == 0 || *p++ != ':')
		return 0;
	n--;
	r.minute = parse_int(&p, &n);
	if (r.minute < 0 || r.minute > 59 || n == 0 || *p++ != ':')
		return 0;
	n--;
	r.second = parse_int(&p, &n);
	if (r.second < 0 || r.second > 60)
		return 0;
	if (n > 0 && *p == '.') {
		n--;
		const char *start = ++p;
		r.secfrac = parse_int(&p, &n);
		r.secfrac_prec = (int)(p - start);
	}
	if (n == 0)
		return 0;
	if (*p == 'Z') {
		n--;
		p++;
		r.off_mode = 'Z';
	} else if (*p == '+' || *p == '-') {
		r.off_mode = *p;
		n--;
		p++;
		r.off_hour = parse_int(&p, &n);
		if (r.off_hour < 0 || r.off_hour > 23 || n == 0 || *p != ':')
			return 0;
		n--;
		p++;
		r.off_minute = parse_int(&p, &n);
		if (r.off_minute < 0 || r.off_minute > 59)
			return 0;
	} else {
		return 0;
	}
	if (n > 0) {
		if (*p != ' ')
			return 0;
		p++;
		n--;
	}
	*t = r;
	return (size_t)(p - s);
}

static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* ParseTIMESTAMP3164 without TZ strings and without detect.yearaftertimestamp (the defaults).
 * Only the fields it finds are updated in t (the caller pre-fills the reception values). */
static size_t parse_3164(const char *s, size_t len, rp_time *t, bool *had_year)
{
	const char *p = s;
	size_t n = len;
	int year = 0, month;
	if (n < 3)
		return 0;
	if (*p >= '0' && *p <= '9') { /* a year in front (Brocade) */
		year = parse_int(&p, &n);
		if (year < 1970 || year > 2100 || n == 0 || *p != ' ')
			return 0;
		p++;
		n--; /* rsyslog forgets this decrement; harmless: it only bounds later reads */
	}
	if (n < 3)
		return 0;
	static const char *const names[12] = {"jan", "feb", "mar", "apr", "may", "jun",
					      "jul", "aug", "sep", "oct", "nov", "dec"};
	month = 0;
	for (int i = 0; i < 12; i++)
		if (lc(p[0]) == names[i][0] && lc(p[1]) == names[i][1] && lc(p[2]) == names[i][2]) {
			month = i + 1;
			break;
		}
	if (month == 0)
		return 0;
	p += 3;
	n -= 3;
	if (n == 0 || *p++ != ' ')
		return 0;
	n--;
	if (n > 0 && *p == ' ') { /* one-digit days */
		n--;
		p++;
	}
	int day = parse_int(&p, &n);
	if (day < 1 || day > 31 || n == 0 || *p++ != ' ')
		return 0;
	n--;
	int hour = parse_int(&p, &n);
	if (year == 0 && hour > 1970 && hour < 2100) { /* "Mmm dd yyyy hh:mm:ss" (Cisco) */
		year = hour;
		if (n == 0 || *p++ != ' ')
			return 0;
		n--;
		hour = parse_int(&p, &n);
	}
	if (hour < 0 || hour > 23 || n == 0 || *p++ != ':')
		return 0;
	n--;
	int minute = parse_int(&p, &n);
	if (minute < 0 || minute > 59 || n == 0 || *p++ != ':')
		return 0;
	n--;
	int second = parse_int(&p, &n);
	if (second < 0 || second > 60)
		return 0;
	int secfrac = 0, prec = 0;
	if (n > 0 && *p == '.') {
		n--;
		const char *start = ++p;
		secfrac = parse_int(&p, &n);
		prec = (int)(p - start);
	}
	if (n > 0 && *p == ':') { /* an extra colon after the time (Cisco) */
		p++;
		n--;
	}
	if (n > 0) {
		if (*p != ' ')
			return 0;
		p++;
		n--;
	}
	t->month = month;
	if (year > 0)
		t->year = year;
	*had_year = year > 0;
	t->day = day;
	t->hour = hour;
	t->minute = minute;
	t->second = second;
	t->secfrac = secfrac;
	t->secfrac_prec = prec;
	return (size_t)(p - s);
}

/* ---- one line ----------------------------------------------------------------------------- */

static int is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	char *b = realloc(*buf, c);
	if (b == NULL)
		return false;
	*buf = b;
	*cap = c;
	return true;
}

/* The time fields rsyslog pre-fills from the reception time: the replay's year and offset. */
static void reception_time(const rp_input_opts *o, int year, int64_t prev_t, rp_time *t)
{
	rp_time_from_unix(prev_t, o->utc_offset, t);
	t->year = year;
	t->secfrac = 0;
	t->secfrac_prec = 0;
}

/* Parses a sanitized syslog line into m (pointers into line, which is buf + 0). Layout of
 * buf: [line '\0'][host '\0'][tag '\0'] (msg points into the line). */
static void parse_syslog(const rp_input_opts *o, int year, int64_t prev_t, char **buf,
			 size_t *cap, size_t len, rp_msg *m, bool *had_year)
{
	const char *raw = *buf;
	size_t off = 0;
	bool pri_ok = true;
	*had_year = false;

	/* ParsePRI */
	if (len > 0 && raw[0] == '<') {
		/* while(--lenMsg > 0 && isdigit(*++msg) && pri <= LOG_MAXPRI) ... */
		int pri = 0;
		size_t k = 0, left = len;
		for (;;) {
			if (--left == 0)
				break;
			k++;
			if (raw[k] < '0' || raw[k] > '9' || pri > LOG_MAXPRI)
				break;
			pri = 10 * pri + (raw[k] - '0');
		}
		if (raw[k] == '>' && pri <= LOG_MAXPRI)
			off = k + 1;
		else
			pri_ok = false;
	}

	/* room for host and tag copies behind the line */
	grow(buf, cap, len + 1 + HOSTNAME_MAXSIZE + TAG_MAXSIZE + 64);
	raw = *buf;
	char *hostbuf = *buf + len + 1;
	char *tagbuf = hostbuf + HOSTNAME_MAXSIZE + 1;
	hostbuf[0] = tagbuf[0] = '\0';
	bool have_host = false;

	m->raw = raw;
	m->raw_len = len;
	reception_time(o, year, prev_t, &m->ts);
	m->has_time = false;
	const char *p = raw + off;
	size_t n = len - off;
	size_t tlen = 0, hlen = 0;

	if (!pri_ok) /* facility LOG_INVLD: rsyslog does not parse the message */
		goto done;

	if (n >= 2 && p[0] == '1' && p[1] == ' ') { /* ---- RFC 5424 */
		p += 2;
		n -= 2;
		bool cont = true;
		if (n >= 2 && p[0] == '-' && p[1] == ' ') {
			p += 2;
			n -= 2;
		} else {
			size_t used = rp_parse_3339(p, n, &m->ts);
			if (used) {
				p += used;
				n -= used;
				m->has_time = true;
				*had_year = true;
			} else {
				cont = false;
			}
		}
		if (cont) {
			char app[TAG_MAXSIZE], procid[TAG_MAXSIZE];
			char *fields[3] = {hostbuf, app, procid};
			size_t caps[3] = {HOSTNAME_MAXSIZE, sizeof(app), sizeof(procid)};
			for (int f = 0; f < 4; f++) { /* HOSTNAME APP-NAME PROCID MSGID */
				size_t k = 0;
				while (n > 0 && *p != ' ') {
					if (f < 3 && k + 1 < caps[f])
						fields[f][k++] = *p;
					p++;
					n--;
				}
				if (f < 3)
					fields[f][k] = '\0';
				if (n > 0) {
					p++;
					n--;
				}
			}
			have_host = true;
			hlen = strlen(hostbuf);
			/* STRUCTURED-DATA */
			if (n > 0 && (*p == '[' || *p == '-')) {
				if (*p == '-') {
					p++;
					n--;
				} else {
					for (;;) {
						if (n < 2) {
							if (n > 0 && *p == ']') {
								p++;
								n--;
							}
							break;
						} else if (*p == '\\' && p[1] == ']') {
							p += 2;
							n -= 2;
						} else if (*p == ']' && p[1] == ' ') {
							p++;
							n--;
							break;
						} else {
							p++;
							n--;
						}
					}
				}
				if (n > 0 && *p == ' ') {
					p++;
					n--;
				}
			}
			/* the TAG rsyslog emulates for RFC 5424: APP-NAME[PROCID] */
			if (strcmp(procid, "-") == 0)
				tlen = (size_t)snprintf(tagbuf, TAG_MAXSIZE, "%s", app);
			else
				tlen = (size_t)snprintf(tagbuf, TAG_MAXSIZE, "%s[%s]", app, procid);
			if (tlen >= TAG_MAXSIZE)
				tlen = TAG_MAXSIZE - 1;
		}
		goto done;
	}

	/* ---- RFC 3164 (pmrfc3164) */
	{
		size_t i = 0;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i < n && (p[i] == '{' || p[i] == '[')) /* headerless (JSON) */
			goto done;
	}
	size_t used = rp_parse_3339(p, n, &m->ts);
	if (used) {
		*had_year = true;
	} else {
		used = parse_3164(p, n, &m->ts, had_year);
		if (!used && n > 1 && *p == ' ') /* HP ProCurve: a space in front */
			if ((used = parse_3164(p + 1, n - 1, &m->ts, had_year)) != 0)
				used++;
	}
	if (used) {
		m->has_time = true;
		p += used;
		n -= used;
	}
	/* HOSTNAME */
	if (n > 0) {
		size_t i = 0;
		while (i < n && (is_alnum((unsigned char)p[i]) || p[i] == '.' || p[i] == '_' ||
				 p[i] == '-') && i < HOSTNAME_MAXSIZE - 1) {
			hostbuf[i] = p[i];
			i++;
		}
		if (i == n) {
			hostbuf[i] = '\0';
			hlen = i;
			have_host = true;
			p += i;
			n -= i;
		} else if (i > 0 && is_alnum((unsigned char)p[i - 1]) && p[i] == ' ') {
			hostbuf[i] = '\0';
			hlen = i;
			have_host = true;
			p += i + 1;
			n -= i + 1;
		} else {
			hostbuf[0] = '\0';
		}
	}
	/* TAG: up to ':' (included) or ' ' (not included) */
	{
		size_t i = 0;
		while (n > 0 && *p != ':' && *p != ' ' && i < TAG_MAXSIZE - 2) {
			tagbuf[i++] = *p++;
			n--;
		}
		if (n > 0 && *p == ':') {
			p++;
			n--;
			tagbuf[i++] = ':';
		}
		tagbuf[i] = '\0';
		tlen = i;
	}

done:
	if (!have_host) {
		hlen = strlen(o->fromhost);
		if (hlen > HOSTNAME_MAXSIZE)
			hlen = HOSTNAME_MAXSIZE;
		memcpy(hostbuf, o->fromhost, hlen);
		hostbuf[hlen] = '\0';
	}
	m->host = hostbuf;
	m->host_len = hlen;
	m->tag = tagbuf;
	m->tag_len = tlen;
	m->msg = p;
	m->msg_len = n;
	m->t = m->has_time ? rp_time_unix(&m->ts) : prev_t;
}

/* SanitizeMsg with rsyslog's defaults: one NUL at the very end dropped; every byte below 32
 * (tab included) written as '#' and three octal digits. Writes into *buf. */
static size_t sanitize(const char *line, size_t len, char **buf, size_t *cap)
{
	if (len > 0 && line[len - 1] == '\0')
		len--;
	size_t need = 0;
	for (size_t i = 0; i < len; i++)
		need += (unsigned char)line[i] < 32 ? 4 : 1;
	if (!grow(buf, cap, need + 1 + HOSTNAME_MAXSIZE + TAG_MAXSIZE + 64))
		return 0;
	char *d = *buf;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 32) {
			d[k++] = '#';
			d[k++] = (char)('0' + ((c & 0300) >> 6));
			d[k++] = (char)('0' + ((c & 0070) >> 3));
			d[k++] = (char)('0' + (c & 0007));
		} else {
			d[k++] = (char)c;
		}
	}
	d[k] = '\0';
	return k;
}

static const char *jstr(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) != json_type_string)
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* The event time of a JSON log record, for the merge: the fields IdPs put it in. */
static bool json_record_time(struct json_object *o, int64_t *t)
{
	static const char *const keys[] = {"published", "eventTime", "createdDateTime", "time",
					   "timestamp", "@timestamp", "event_time", NULL};
	for (int i = 0; keys[i]; i++) {
		const char *s = jstr(o, keys[i], NULL);
		if (s && mmr_time_parse(s, t) == 0)
			return true;
	}
	struct json_object *id; /* Google Workspace: id.time */
	if (json_object_object_get_ex(o, "id", &id) && json_object_get_type(id) == json_type_object) {
		const char *s = jstr(id, "time", NULL);
		if (s && mmr_time_parse(s, t) == 0)
			return true;
	}
	return false;
}

/* A JSON line: an envelope ({"msg", "time"/"timestamp", "host"/"hostname", "tag"/"syslogtag"}
 * as this tool and the demo's rsyslog configuration write them) or a log record itself.
 * Returns false when the line is not a JSON object. */
static bool parse_json_line(const rp_input_opts *o, int64_t prev_t, char **buf, size_t len,
			    rp_msg *m)
{
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		return false;
	struct json_object *j = json_tokener_parse_ex(tok, *buf, (int)len);
	json_tokener_free(tok);
	if (j == NULL || json_object_get_type(j) != json_type_object) {
		json_object_put(j);
		return false;
	}
	size_t ml = 0, tl = 0, hl = 0, gl = 0;
	const char *msg = jstr(j, "msg", &ml);
	const char *ts = jstr(j, "time", &tl);
	if (ts == NULL)
		ts = jstr(j, "timestamp", &tl);
	rp_time t;
	if (msg != NULL && ts != NULL && rp_parse_3339(ts, tl, &t) == tl) {
		const char *host = jstr(j, "host", &hl);
		if (host == NULL)
			host = jstr(j, "hostname", &hl);
		const char *tag = jstr(j, "tag", &gl);
		if (tag == NULL)
			tag = jstr(j, "syslogtag", &gl);
		m->kind = RP_LINE_ENVELOPE;
		m->json = j;
		m->raw = msg;
		m->raw_len = ml;
		m->ts = t;
		m->has_time = true;
		m->t = rp_time_unix(&t);
		m->host = host ? host : o->fromhost;
		m->host_len = host ? hl : strlen(o->fromhost);
		m->tag = tag ? tag : "";
		m->tag_len = tag ? gl : 0;
		m->msg = msg;
		m->msg_len = ml;
		struct json_object *v;
		if (json_object_object_get_ex(j, "risk", &v) && json_object_get_type(v) == json_type_object)
			m->risk = v;
		if (json_object_object_get_ex(j, "event", &v) && json_object_get_type(v) == json_type_object)
			m->event = v;
		return true;
	}
	/* a log record: rsyslog would take it as a headerless message (MSG = the line, no TAG,
	 * the sender as HOSTNAME) */
	m->kind = RP_LINE_JSON;
	m->json = j;
	int64_t rt;
	m->has_time = json_record_time(j, &rt);
	m->t = m->has_time ? rt : prev_t;
	rp_time_from_unix(m->t, 0, &m->ts);
	m->raw = *buf;
	m->raw_len = len;
	m->host = o->fromhost;
	m->host_len = strlen(o->fromhost);
	m->tag = "";
	m->tag_len = 0;
	m->msg = *buf;
	m->msg_len = len;
	return true;
}

void rp_parse_line(const char *line, size_t len, const rp_input_opts *o, int default_year,
		   int64_t prev_t, char **buf, size_t *cap, rp_msg *m)
{
	bool had_year;
	int src = m->source;
	uint64_t lineno = m->lineno;
	memset(m, 0, sizeof(*m));
	m->source = src;
	m->lineno = lineno;
	len = sanitize(line, len, buf, cap);
	size_t i = 0;
	while (i < len && ((*buf)[i] == ' ' || (*buf)[i] == '\t'))
		i++;
	if (i < len && (*buf)[i] == '{' && parse_json_line(o, prev_t, buf, len, m))
		return;
	m->kind = RP_LINE_SYSLOG;
	parse_syslog(o, default_year, prev_t, buf, cap, len, m, &had_year);
}

/* ---- files -------------------------------------------------------------------------------- */

typedef struct rp_source {
	const char *name;
	gzFile gz;
	uint64_t size;      /* 0: unknown */
	char *rbuf;         /* read buffer */
	size_t rcap, rstart, rend;
	bool eof, failed;
	char *mbuf;         /* the current message's storage */
	size_t mcap;
	rp_msg cur;
	bool have;
	uint64_t lineno;
	int year;           /* for RFC 3164 timestamps without one */
	int last_month;
	int64_t prev_t;
} rp_source;

struct rp_merge {
	rp_input_opts o;
	rp_source *src;
	int n;
	int *heap;          /* source indexes, min-heap by (cur.t, index) */
	int nheap;
	int last;           /* source of the message handed out last, -1 none */
	int errors;
	uint64_t cr_lines, cut_lines;
};

static int current_year(void)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	return tm.tm_year + 1900;
}

/* zlib's message without its "<fd:3>: " prefix */
static const char *gz_message(gzFile gz, int *e)
{
	const char *msg = gzerror(gz, e);
	if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ") != NULL)
		msg = strstr(msg, ": ") + 2;
	return msg;
}

/* Reads more into the source's buffer; false at the end or on an error. */
static bool fill(rp_merge *mg, rp_source *s)
{
	if (s->eof)
		return false;
	if (s->rstart > 0 && s->rstart == s->rend) {
		s->rstart = s->rend = 0;
	} else if (s->rstart > 0 && s->rend == s->rcap) {
		memmove(s->rbuf, s->rbuf + s->rstart, s->rend - s->rstart);
		s->rend -= s->rstart;
		s->rstart = 0;
	}
	if (s->rend == s->rcap) {
		if (s->rcap >= MAX_LINE)
			return false; /* the caller cuts the line */
		size_t c = s->rcap * 2;
		char *b = realloc(s->rbuf, c);
		if (b == NULL)
			return false;
		s->rbuf = b;
		s->rcap = c;
	}
	int r = gzread(s->gz, s->rbuf + s->rend, (unsigned)(s->rcap - s->rend));
	if (r < 0) {
		int e;
		const char *msg = gz_message(s->gz, &e);
		fprintf(stderr, "mmriskscore-replay: %s: read error: %s\n", s->name,
			e == Z_ERRNO ? strerror(errno) : msg);
		mg->errors++;
		s->failed = true;
		s->eof = true;
		return false;
	}
	if (r == 0) {
		int e;
		const char *msg = gz_message(s->gz, &e);
		if (e != Z_OK && e != Z_STREAM_END) { /* e.g. a truncated gzip file */
			fprintf(stderr, "mmriskscore-replay: %s: %s\n", s->name, msg);
			mg->errors++;
			s->failed = true;
		}
		s->eof = true;
		return false;
	}
	s->rend += (size_t)r;
	return true;
}

/* The next non-empty line of s into s->cur; false at the end. */
static bool advance(rp_merge *mg, rp_source *s)
{
	for (;;) {
		char *nl = NULL;
		size_t scanned = 0;
		for (;;) {
			nl = memchr(s->rbuf + s->rstart + scanned, '\n', s->rend - s->rstart - scanned);
			if (nl != NULL)
				break;
			scanned = s->rend - s->rstart; /* fill() may move the data, not this offset */
			if (!fill(mg, s))
				break;
		}
		char *line = s->rbuf + s->rstart;
		size_t len;
		if (nl != NULL) {
			len = (size_t)(nl - line);
			s->rstart += len + 1;
		} else {
			len = s->rend - s->rstart;
			if (len == 0)
				return false;
			s->rstart = s->rend;
			if (len >= MAX_LINE && !s->eof) { /* overlong: cut, skip to the next LF */
				mg->cut_lines++;
				fprintf(stderr, "mmriskscore-replay: %s:%llu: line longer than %u bytes "
					"cut\n", s->name, (unsigned long long)s->lineno + 1, MAX_LINE);
				len = MAX_LINE;
				/* consume up to the next newline */
				s->lineno++;
				s->cur.source = (int)(s - mg->src);
				s->cur.lineno = s->lineno;
				char *copy = malloc(len);
				if (copy == NULL)
					return false;
				memcpy(copy, line, len);
				for (;;) {
					s->rstart = s->rend = 0;
					if (!fill(mg, s))
						break;
					char *q = memchr(s->rbuf, '\n', s->rend);
					if (q) {
						s->rstart = (size_t)(q - s->rbuf) + 1;
						break;
					}
				}
				json_object_put(s->cur.json);
				rp_parse_line(copy, len, &mg->o, s->year, s->prev_t, &s->mbuf, &s->mcap,
					      &s->cur);
				free(copy);
				s->prev_t = s->cur.t;
				return true;
			}
		}
		s->lineno++;
		if (len > 0 && line[len - 1] == '\r') {
			mg->cr_lines++;
			if (mg->o.strip_cr)
				len--;
		}
		if (len == 0) /* rsyslog receives no empty messages */
			continue;
		json_object_put(s->cur.json);
		s->cur.json = NULL;
		s->cur.source = (int)(s - mg->src);
		s->cur.lineno = s->lineno;
		/* an RFC 3164 date without a year: with --year, the year advances when the month
		 * jumps back by more than half a year (Dec -> Jan) */
		rp_parse_line(line, len, &mg->o, s->year, s->prev_t, &s->mbuf, &s->mcap, &s->cur);
		if (mg->o.year_rollover && s->cur.kind == RP_LINE_SYSLOG && s->cur.has_time) {
			/* had_year is not kept: a 3164 stamp gets s->year, so compare with it */
			if (s->cur.ts.year == s->year) {
				if (s->last_month && s->cur.ts.month + 6 < s->last_month) {
					s->year++;
					rp_parse_line(line, len, &mg->o, s->year, s->prev_t, &s->mbuf,
						      &s->mcap, &s->cur);
				}
				s->last_month = s->cur.ts.month;
			}
		}
		s->prev_t = s->cur.t;
		return true;
	}
}

static bool before(const rp_merge *mg, int a, int b)
{
	int64_t ta = mg->src[a].cur.t, tb = mg->src[b].cur.t;
	return ta < tb || (ta == tb && a < b);
}

static void sift_down(rp_merge *mg, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < mg->nheap && before(mg, mg->heap[l], mg->heap[m]))
			m = l;
		if (r < mg->nheap && before(mg, mg->heap[r], mg->heap[m]))
			m = r;
		if (m == i)
			return;
		int t = mg->heap[i];
		mg->heap[i] = mg->heap[m];
		mg->heap[m] = t;
		i = m;
	}
}

static void sift_up(rp_merge *mg, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (!before(mg, mg->heap[i], mg->heap[p]))
			return;
		int t = mg->heap[i];
		mg->heap[i] = mg->heap[p];
		mg->heap[p] = t;
		i = p;
	}
}

rp_merge *rp_merge_open(char *const *paths, int n, const rp_input_opts *o, char *err,
			size_t errlen)
{
	rp_merge *mg = calloc(1, sizeof(*mg));
	if (mg == NULL || (mg->src = calloc((size_t)n, sizeof(rp_source))) == NULL ||
	    (mg->heap = calloc((size_t)n, sizeof(int))) == NULL) {
		snprintf(err, errlen, "out of memory");
		rp_merge_close(mg);
		return NULL;
	}
	mg->o = *o;
	mg->n = n;
	mg->last = -1;
	int year = o->year ? o->year : current_year();
	int64_t now = (int64_t)time(NULL);
	for (int i = 0; i < n; i++) {
		rp_source *s = &mg->src[i];
		s->name = strcmp(paths[i], "-") == 0 ? "(stdin)" : paths[i];
		int fd = strcmp(paths[i], "-") == 0 ? dup(0) : open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
			mg->n = i;
			rp_merge_close(mg);
			return NULL;
		}
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			s->size = (uint64_t)st.st_size;
		else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: is a directory", paths[i]);
			close(fd);
			mg->n = i;
			rp_merge_close(mg);
			return NULL;
		}
		s->gz = gzdopen(fd, "rb"); /* reads plain files as they are */
		if (s->gz == NULL) {
			snprintf(err, errlen, "%s: cannot open", paths[i]);
			close(fd);
			mg->n = i;
			rp_merge_close(mg);
			return NULL;
		}
		gzbuffer(s->gz, 1u << 18);
		s->rcap = 1u << 18;
		if ((s->rbuf = malloc(s->rcap)) == NULL) {
			snprintf(err, errlen, "out of memory");
			mg->n = i + 1;
			rp_merge_close(mg);
			return NULL;
		}
		s->year = year;
		s->prev_t = now; /* a first line without a timestamp: rsyslog's reception time */
	}
	for (int i = 0; i < n; i++) {
		mg->src[i].have = advance(mg, &mg->src[i]);
		if (mg->src[i].have) {
			mg->heap[mg->nheap++] = i;
			sift_up(mg, mg->nheap - 1);
		}
	}
	return mg;
}

const rp_msg *rp_merge_next(rp_merge *mg)
{
	if (mg->last >= 0) { /* the message handed out last is done: refill its source */
		rp_source *s = &mg->src[mg->last];
		s->have = advance(mg, s);
		if (s->have) {
			mg->heap[0] = mg->last;
			sift_down(mg, 0);
		} else {
			mg->heap[0] = mg->heap[--mg->nheap];
			sift_down(mg, 0);
		}
		mg->last = -1;
	}
	if (mg->nheap == 0)
		return NULL;
	mg->last = mg->heap[0];
	return &mg->src[mg->last].cur;
}

void rp_merge_progress(const rp_merge *mg, uint64_t *done, uint64_t *total)
{
	uint64_t d = 0, t = 0;
	bool unknown = false;
	for (int i = 0; i < mg->n; i++) {
		const rp_source *s = &mg->src[i];
		if (s->size == 0)
			unknown = true;
		t += s->size;
		if (s->gz) {
			z_off_t off = gzoffset(s->gz);
			uint64_t o = off > 0 ? (uint64_t)off : 0;
			d += s->size && o > s->size ? s->size : o;
		}
	}
	*done = d;
	*total = unknown ? 0 : t;
}

int rp_merge_errors(const rp_merge *mg) { return mg->errors; }
uint64_t rp_merge_cr_lines(const rp_merge *mg) { return mg->cr_lines; }

void rp_merge_close(rp_merge *mg)
{
	if (mg == NULL)
		return;
	for (int i = 0; mg->src && i < mg->n; i++) {
		rp_source *s = &mg->src[i];
		if (s->gz)
			gzclose(s->gz);
		free(s->rbuf);
		free(s->mbuf);
		json_object_put(s->cur.json);
	}
	free(mg->src);
	free(mg->heap);
	free(mg);
}
