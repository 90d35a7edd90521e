/* IANA time zones from compiled TZif files (RFC 8536), without the C library's TZ machinery.
 *
 * Representation: one sorted array of transition times (int64 unix seconds) and, parallel to
 * it, the UTC offset in force from each transition on; plus the offset before the first
 * transition and the POSIX TZ rule of the file's footer. At load, the footer rule is unrolled
 * into explicit transitions up to the end of FOOTER_UNROLL_YEAR, so that mmr_tz_offset is one
 * binary search (about 8 comparisons for a typical zone) for every time a log can plausibly
 * carry; later times evaluate the rule directly. The handle is immutable after load: lookups
 * are safe from any number of threads.
 *
 * Semantics follow RFC 8536 §3.2 (and glibc, the oracle of the unit test):
 *   - version 1 files use their 32-bit data; version 2+ files the 64-bit block that follows;
 *   - before the first transition: the first non-DST local time type (type 0 in every file
 *     zic writes), as glibc does;
 *   - at or after the last transition, and for files without transitions: the footer's
 *     POSIX TZ string when there is one, else the last transition's type (type 0 when none);
 *   - footer: std offset, optional dst name/offset (default std + 1 h) and rules Jn, n or
 *     Mm.w.d with an optional /time whose hours range -167..167 (RFC 8536 §3.3.1; e.g.
 *     America/Nuuk "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"). DST all year ("EST5EDT4,0/0,J365/25")
 *     falls out of the same evaluation.
 * Leap-second records ("right/" zones) are skipped: offsets there are off by the ~27 leap
 * seconds, which no working-hours question notices.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich/tz.h"

#define TZ_NAME_MAX 255
#define TZ_FILE_MAX (1024 * 1024) /* real files are < 10 KiB */
#define FOOTER_UNROLL_YEAR 2100
#define DAY 86400
#define FOOTER_T_MAX ((int64_t)1 << 50)

typedef enum { RULE_JULIAN1 = 0, RULE_JULIAN0, RULE_MONTH } rule_kind;

typedef struct {
	rule_kind kind;
	int day;     /* Jn: 1..365; n: 0..365 */
	int mon;     /* Mm.w.d */
	int week;
	int wday;
	int32_t time; /* seconds after local midnight, -167h..167h; default 02:00 */
} tz_rule;

typedef struct {
	bool present;
	bool has_dst;
	int32_t std_off; /* seconds east of UTC */
	int32_t dst_off;
	tz_rule start, end;
} tz_footer;

struct mmr_tz {
	char *name;
	int64_t *times; /* ascending */
	int32_t *offs;  /* offs[i]: from times[i] on */
	size_t n;
	int32_t before; /* before times[0], or always when n == 0 and no footer */
	tz_footer footer;
	int64_t footer_from; /* times >= this: the footer rule (when present) */
};

/* ---- civil calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	return yoe + era * 400 + (m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Local seconds since 1970-01-01 00:00 (of the local clock) at which rule r fires in year y. */
static int64_t rule_local(const tz_rule *r, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1), day;

	switch (r->kind) {
	case RULE_JULIAN1: /* 1..365, February 29 never counted */
		day = jan1 + r->day - 1 + (is_leap(y) && r->day >= 60);
		break;
	case RULE_JULIAN0: /* 0..365, February 29 counted */
		day = jan1 + r->day;
		break;
	default: {
		int64_t first = days_from_civil(y, r->mon, 1);
		int wd1 = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday (4) */
		int mday = 1 + (r->wday - wd1 + 7) % 7 + (r->week - 1) * 7;
		while (mday > month_days(y, r->mon))
			mday -= 7;
		day = first + mday - 1;
	}
	}
	return day * DAY + r->time;
}

/* DST start and end of year y as UTC instants. */
static void footer_year(const tz_footer *f, int64_t y, int64_t *start, int64_t *end)
{
	*start = rule_local(&f->start, y) - f->std_off;
	*end = rule_local(&f->end, y) - f->dst_off;
}

static int32_t footer_eval(const tz_footer *f, int64_t t)
{
	if (!f->has_dst)
		return f->std_off;
	/* beyond +-35 million years the calendar arithmetic would overflow; nobody cares */
	if (t > FOOTER_T_MAX)
		t = FOOTER_T_MAX;
	if (t < -FOOTER_T_MAX)
		t = -FOOTER_T_MAX;
	int64_t y = year_of_days(floor_div(t, DAY));
	/* the last rule instant at or before t among the neighbouring years decides; at equal
	 * instants an end sorts before a start (DST all year: end of y-1 == start of y) */
	int64_t best = INT64_MIN;
	bool dst = false, found = false;
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		int64_t s, e;
		footer_year(f, yy, &s, &e);
		if (e <= t && (!found || e > best)) {
			best = e;
			dst = false;
			found = true;
		}
		if (s <= t && (!found || s >= best)) {
			best = s;
			dst = true;
			found = true;
		}
	}
	return dst ? f->dst_off : f->std_off;
}

/* ---- POSIX TZ string (RFC 8536 §3.3) ---- */

static const char *parse_tzname(const char *p)
{
	const char *b;
	if (*p == '<') {
		b = ++p;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-')
			p++;
		if (*p != '>' || p - b < 3)
			return NULL;
		return p + 1;
	}
	b = p;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - b >= 3 ? p : NULL;
}

static const char *parse_num(const char *p, int min, int max, int *out)
{
	int v = 0, digits = 0;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p++ - '0');
		if (++digits > 3)
			return NULL;
	}
	if (digits == 0 || v < min || v > max)
		return NULL;
	*out = v;
	return p;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h; seconds, sign applied. */
static const char *parse_hms(const char *p, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if ((p = parse_num(p, 0, max_h, &h)) == NULL)
		return NULL;
	if (*p == ':') {
		if ((p = parse_num(p + 1, 0, 59, &m)) == NULL)
			return NULL;
		if (*p == ':' && (p = parse_num(p + 1, 0, 59, &s)) == NULL)
			return NULL;
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *parse_rule(const char *p, tz_rule *r)
{
	if (*p == 'J') {
		r->kind = RULE_JULIAN1;
		p = parse_num(p + 1, 1, 365, &r->day);
	} else if (*p == 'M') {
		r->kind = RULE_MONTH;
		if ((p = parse_num(p + 1, 1, 12, &r->mon)) == NULL || *p != '.' ||
		    (p = parse_num(p + 1, 1, 5, &r->week)) == NULL || *p != '.')
			return NULL;
		p = parse_num(p + 1, 0, 6, &r->wday);
	} else {
		r->kind = RULE_JULIAN0;
		p = parse_num(p, 0, 365, &r->day);
	}
	if (p == NULL)
		return NULL;
	r->time = 7200;
	if (*p == '/')
		p = parse_hms(p + 1, 167, &r->time);
	return p;
}

static int parse_footer(const char *s, tz_footer *f)
{
	const char *p;
	int32_t off;

	memset(f, 0, sizeof(*f));
	if ((p = parse_tzname(s)) == NULL || (p = parse_hms(p, 24, &off)) == NULL)
		return -1;
	f->present = true;
	f->std_off = -off; /* POSIX offsets are west-positive */
	if (*p == '\0')
		return 0;
	if ((p = parse_tzname(p)) == NULL)
		return -1;
	f->has_dst = true;
	f->dst_off = f->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = parse_hms(p, 24, &off)) == NULL)
			return -1;
		f->dst_off = -off;
	}
	if (*p == '\0') {
		/* no rule: the POSIX default glibc applies (US rules since 2007) */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p != ',' || (p = parse_rule(p + 1, &f->start)) == NULL || *p != ',' ||
	    (p = parse_rule(p + 1, &f->end)) == NULL || *p != '\0')
		return -1;
	return 0;
}

/* ---- TZif ---- */

typedef struct {
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_counts;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(const unsigned char *p, size_t len, char *version, tzif_counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	*version = (char)p[4];
	c->isutcnt = be32(p + 20);
	c->isstdcnt = be32(p + 24);
	c->leapcnt = be32(p + 28);
	c->timecnt = be32(p + 32);
	c->typecnt = be32(p + 36);
	c->charcnt = be32(p + 40);
	return 0;
}

static uint64_t block_len(const tzif_counts *c, int tsize)
{
	return (uint64_t)c->timecnt * (uint64_t)tsize + c->timecnt + (uint64_t)c->typecnt * 6 +
	       c->charcnt + (uint64_t)c->leapcnt * (uint64_t)(tsize + 4) + c->isstdcnt +
	       c->isutcnt;
}

static int tz_fail(char *err, size_t errlen, const char *name, const char *path,
		   const char *why)
{
	snprintf(err, errlen, "time zone '%s': %s is not a valid TZif file (%s)", name, path, why);
	return -1;
}

static int add_transition(mmr_tz *tz, size_t *cap, int64_t t, int32_t off)
{
	if (tz->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		int64_t *nt = realloc(tz->times, nc * sizeof(*nt));
		if (nt == NULL)
			return -1;
		tz->times = nt;
		int32_t *no = realloc(tz->offs, nc * sizeof(*no));
		if (no == NULL)
			return -1;
		tz->offs = no;
		*cap = nc;
	}
	tz->times[tz->n] = t;
	tz->offs[tz->n] = off;
	tz->n++;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Parses the file in buf into tz. */
static int parse_tzif(mmr_tz *tz, const unsigned char *buf, size_t len, const char *path,
		      char *err, size_t errlen)
{
	const char *name = tz->name;
	char version;
	tzif_counts c;
	const unsigned char *p = buf, *end = buf + len;
	int tsize = 4;

	if (read_header(p, len, &version, &c) != 0)
		return tz_fail(err, errlen, name, path, "no TZif header");
	if (version != 0 && (version < '2' || version > '9'))
		return tz_fail(err, errlen, name, path, "unknown version");
	uint64_t bl = block_len(&c, 4);
	if (bl > (uint64_t)(end - p) - 44)
		return tz_fail(err, errlen, name, path, "truncated version 1 data");
	p += 44;
	if (version >= '2') {
		p += bl;
		if (read_header(p, (size_t)(end - p), &version, &c) != 0)
			return tz_fail(err, errlen, name, path, "no second TZif header");
		p += 44;
		tsize = 8;
		bl = block_len(&c, 8);
		if (bl > (uint64_t)(end - p))
			return tz_fail(err, errlen, name, path, "truncated version 2+ data");
	}
	if (c.typecnt == 0 || c.typecnt > 256 || c.charcnt == 0 ||
	    (c.isstdcnt != 0 && c.isstdcnt != c.typecnt) ||
	    (c.isutcnt != 0 && c.isutcnt != c.typecnt))
		return tz_fail(err, errlen, name, path, "inconsistent counts");

	const unsigned char *tt = p, *idx = p + (size_t)c.timecnt * (size_t)tsize;
	const unsigned char *types = idx + c.timecnt;
	int32_t offs[256];
	bool isdst[256];
	for (uint32_t i = 0; i < c.typecnt; i++) {
		const unsigned char *r = types + 6 * i;
		int32_t off = (int32_t)be32(r);
		if (off < -89999 || off > 93599 || r[4] > 1 || r[5] >= c.charcnt)
			return tz_fail(err, errlen, name, path, "bad local time type");
		offs[i] = off;
		isdst[i] = r[4] == 1;
	}

	size_t cap = 0;
	for (uint32_t i = 0; i < c.timecnt; i++) {
		int64_t t =
			tsize == 8 ? be64(tt + 8 * (size_t)i) : (int32_t)be32(tt + 4 * (size_t)i);
		if (idx[i] >= c.typecnt)
			return tz_fail(err, errlen, name, path, "transition to an unknown type");
		if (tz->n > 0 && t <= tz->times[tz->n - 1])
			return tz_fail(err, errlen, name, path, "transitions out of order");
		if (add_transition(tz, &cap, t, offs[idx[i]]) != 0) {
			snprintf(err, errlen, "time zone '%s': out of memory", name);
			return -1;
		}
	}
	uint32_t first = 0;
	while (first < c.typecnt && isdst[first])
		first++;
	tz->before = offs[first < c.typecnt ? first : 0];

	if (tsize == 8) {
		p += bl;
		if (p >= end || *p != '\n')
			return tz_fail(err, errlen, name, path, "no footer");
		const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		if (nl == NULL || nl - p - 1 > 255)
			return tz_fail(err, errlen, name, path, "unterminated footer");
		char s[256];
		memcpy(s, p + 1, (size_t)(nl - p - 1));
		s[nl - p - 1] = '\0';
		if (s[0] != '\0' && parse_footer(s, &tz->footer) != 0) {
			char why[300];
			snprintf(why, sizeof(why), "bad TZ string '%s'", s);
			return tz_fail(err, errlen, name, path, why);
		}
	}

	if (!tz->footer.present) {
		tz->footer_from = INT64_MAX;
		if (tz->n == 0)
			tz->before = offs[0];
		return 0;
	}
	/* the footer governs from the last transition on (RFC 8536 §3.2); unroll it */
	int64_t from = tz->n ? tz->times[tz->n - 1] : days_from_civil(1900, 1, 1) * DAY;
	if (tz->n)
		tz->offs[tz->n - 1] = footer_eval(&tz->footer, from);
	else
		tz->before = footer_eval(&tz->footer, from);
	tz->footer_from = days_from_civil(FOOTER_UNROLL_YEAR + 1, 1, 1) * DAY;
	if (!tz->footer.has_dst)
		return 0;
	int64_t y0 = year_of_days(floor_div(from, DAY)) - 1;
	size_t nc = 0, ccap = (size_t)(FOOTER_UNROLL_YEAR + 2 - y0) * 2;
	int64_t *cand = malloc(ccap * sizeof(*cand));
	if (cand == NULL) {
		snprintf(err, errlen, "time zone '%s': out of memory", name);
		return -1;
	}
	for (int64_t y = y0; y <= FOOTER_UNROLL_YEAR + 1; y++) {
		footer_year(&tz->footer, y, &cand[nc], &cand[nc + 1]);
		nc += 2;
	}
	qsort(cand, nc, sizeof(*cand), cmp_i64);
	int32_t cur = tz->n ? tz->offs[tz->n - 1] : tz->before;
	for (size_t i = 0; i < nc; i++) {
		if (cand[i] <= from || cand[i] >= tz->footer_from)
			continue;
		int32_t off = footer_eval(&tz->footer, cand[i]);
		if (off == cur)
			continue;
		if (add_transition(tz, &cap, cand[i], off) != 0) {
			free(cand);
			snprintf(err, errlen, "time zone '%s': out of memory", name);
			return -1;
		}
		cur = off;
	}
	free(cand);
	return 0;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, "..") != NULL)
		return false;
	for (const char *p = name; *p; p++) {
		char c = *p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-' || c == '/'))
			return false;
	}
	return true;
}

static bool builtin_utc(const char *name)
{
	static const char *const names[] = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT",
					    "Etc/UCT", "Zulu", "Etc/Zulu"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Reads the file into a malloc'd buffer. Returns 0, or errno (ENOENT etc.); EFBIG when too
 * large, EINVAL when not a regular file. */
static int slurp(const char *path, unsigned char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return EINVAL;
	}
	if (st.st_size > TZ_FILE_MAX) {
		close(fd);
		return EFBIG;
	}
	unsigned char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

mmr_tz *mmr_tz_load(const char *name, char *err, size_t errlen)
{
	if (name == NULL || !name_ok(name)) {
		snprintf(err, errlen,
			 "time zone '%.64s': not an IANA zone name (letters, digits, _+-/; no "
			 "'..', no leading '/')",
			 name ? name : "(null)");
		return NULL;
	}
	mmr_tz *tz = calloc(1, sizeof(*tz));
	if (tz == NULL || (tz->name = strdup(name)) == NULL) {
		free(tz);
		snprintf(err, errlen, "time zone '%s': out of memory", name);
		return NULL;
	}
	const char *dir = getenv("TZDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	char path[4096 + TZ_NAME_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);

	unsigned char *buf = NULL;
	size_t len = 0;
	int e = slurp(path, &buf, &len);
	if (e == ENOENT && builtin_utc(name)) {
		tz->footer_from = INT64_MAX;
		return tz; /* offset 0 everywhere */
	}
	if (e != 0) {
		if (e == ENOENT || e == ENOTDIR)
			snprintf(err, errlen, "time zone '%s': no such zone (%s not found)", name,
				 path);
		else if (e == EINVAL)
			snprintf(err, errlen, "time zone '%s': %s is not a zone file", name, path);
		else if (e == EFBIG)
			snprintf(err, errlen, "time zone '%s': %s is too large for a zone file",
				 name, path);
		else
			snprintf(err, errlen, "time zone '%s': %s: %s", name, path, strerror(e));
		mmr_tz_free(tz);
		return NULL;
	}
	int rc = parse_tzif(tz, buf, len, path, err, errlen);
	free(buf);
	if (rc != 0) {
		mmr_tz_free(tz);
		return NULL;
	}
	return tz;
}

void mmr_tz_free(mmr_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->name);
	free(tz->times);
	free(tz->offs);
	free(tz);
}

const char *mmr_tz_name(const mmr_tz *tz)
{
	return tz ? tz->name : "";
}

int32_t mmr_tz_offset(const mmr_tz *tz, int64_t t)
{
	if (tz == NULL)
		return 0;
	if (t >= tz->footer_from)
		return footer_eval(&tz->footer, t);
	if (tz->n == 0 || t < tz->times[0])
		return tz->before;
	size_t lo = 0, hi = tz->n; /* times[lo] <= t < times[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->offs[lo];
}
