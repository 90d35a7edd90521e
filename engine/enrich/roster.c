/* The HR roster (roster.h, docs/roster.md): an RFC 4180 CSV file read once per (re)load.
 *
 * Representation: one array of mmr_roster_entry, an open-addressing hash table from the
 * normalized user key to the entry (linear probing, load <= 1/2, FNV-1a via mmr_hash32; the
 * file is written by the admin, not by an attacker, so no seed), and one string arena that
 * holds every string. Department, team, title, manager, time zone and group names repeat on
 * thousands of rows and are interned: each distinct string is stored once. Each distinct time
 * zone is loaded once (mmr_tz_load) and shared by its entries. After load everything is
 * immutable, so lookups need no lock.
 *
 * Parsing: RFC 4180 quoting (quoted fields may hold commas, doubled quotes and line breaks),
 * CRLF or LF, a UTF-8 byte order mark before the header ignored. Header names are matched
 * case-insensitively ("Start Date" and "start-date" count as start_date), columns in any
 * order, unknown columns ignored. Every row must have as many fields as the header: a
 * shifted row (an unquoted comma in "Director, Sales") would otherwise file a user under the
 * wrong country and time zone.
 *
 * Bounds: MAX_ROWS data rows, MAX_RECORD bytes per record, MAX_FIELDS fields; beyond, the
 * load fails with the line number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "detect/detector.h"
#include "enrich/roster.h"

#define MAX_ROWS 1000000
#define MAX_RECORD (64 * 1024)
#define MAX_FIELDS 1024
#define ARENA_BLOCK (64 * 1024)

/* ---- string arena ---- */

typedef struct block {
	struct block *next;
	size_t used, cap;
	char data[];
} block;

typedef struct {
	block *head;
} arena;

static char *arena_dup(arena *a, const char *s, size_t n)
{
	if (a->head == NULL || a->head->cap - a->head->used < n + 1) {
		size_t cap = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;
		block *b = malloc(sizeof(block) + cap);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	char *p = a->head->data + a->head->used;
	memcpy(p, s, n);
	p[n] = '\0';
	a->head->used += n + 1;
	return p;
}

static void arena_free(arena *a)
{
	for (block *b = a->head, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	a->head = NULL;
}

/* ---- string-keyed hash table (open addressing, linear probing) ---- */

typedef struct {
	const char *key; /* NULL = empty slot */
	uint32_t hash;
	void *val;
	size_t num;
} slot;

typedef struct {
	slot *s;
	size_t n, cap; /* cap: power of two */
} strmap;

static slot *map_find(const strmap *m, const char *key, uint32_t h)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		slot *s = &m->s[i];
		if (s->key == NULL)
			return NULL;
		if (s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

/* Inserts key (which must stay valid) and returns its slot; NULL when out of memory.
 * The caller checked that the key is absent. */
static slot *map_add(strmap *m, const char *key, uint32_t h)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		slot *ns = calloc(nc, sizeof(*ns));
		if (ns == NULL)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (m->s[i].key == NULL)
				continue;
			size_t j = m->s[i].hash & (nc - 1);
			while (ns[j].key != NULL)
				j = (j + 1) & (nc - 1);
			ns[j] = m->s[i];
		}
		free(m->s);
		m->s = ns;
		m->cap = nc;
	}
	size_t i = h & (m->cap - 1);
	while (m->s[i].key != NULL)
		i = (i + 1) & (m->cap - 1);
	m->s[i].key = key;
	m->s[i].hash = h;
	m->s[i].val = NULL;
	m->s[i].num = 0;
	m->n++;
	return &m->s[i];
}

static uint32_t str_hash(const char *s)
{
	return mmr_hash32(s, strlen(s));
}

/* ---- the roster ---- */

struct mmr_roster {
	arena strings;
	mmr_roster_entry *e;
	size_t n, cap;
	strmap users;  /* key -> num = entry index */
	strmap intern; /* string -> itself */
	strmap zones;  /* name -> val = mmr_tz * (NULL: not loadable) */
	size_t warnings;
};

void mmr_roster_free(mmr_roster *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->zones.cap; i++)
		if (r->zones.s[i].key != NULL)
			mmr_tz_free(r->zones.s[i].val);
	free(r->zones.s);
	free(r->users.s);
	free(r->intern.s);
	free(r->e);
	arena_free(&r->strings);
	free(r);
}

size_t mmr_roster_count(const mmr_roster *r)
{
	return r ? r->n : 0;
}

size_t mmr_roster_warnings(const mmr_roster *r)
{
	return r ? r->warnings : 0;
}

const mmr_roster_entry *mmr_roster_find(const mmr_roster *r, const char *user)
{
	if (r == NULL || user == NULL)
		return NULL;
	const slot *s = map_find(&r->users, user, str_hash(user));
	return s ? &r->e[s->num] : NULL;
}

static const char *intern(mmr_roster *r, const char *s)
{
	uint32_t h = str_hash(s);
	slot *sl = map_find(&r->intern, s, h);
	if (sl)
		return sl->key;
	char *copy = arena_dup(&r->strings, s, strlen(s));
	if (copy == NULL || (sl = map_add(&r->intern, copy, h)) == NULL)
		return NULL;
	return copy;
}

/* ---- CSV records ---- */

typedef struct {
	FILE *f;
	size_t line;  /* physical line of the next byte */
	size_t start; /* physical line where the last record began */
	char *buf;    /* fields, each NUL-terminated */
	size_t len;
	char *scratch; /* MAX_RECORD + 2 bytes: a group name, a lower-cased copy */
	size_t off[MAX_FIELDS];
	size_t nf;
} csv;

/* Returns 1 record, 0 end of file, -1 error (described in err, with path and line). */
static int csv_record(csv *c, const char *path, char *err, size_t errlen)
{
	int ch = getc_unlocked(c->f);
	if (ch == EOF)
		return ferror(c->f) ? (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1)
				    : 0;
	c->start = c->line;
	c->len = 0;
	c->nf = 0;
	for (;;) {
		if (c->nf == MAX_FIELDS) {
			snprintf(err, errlen, "%s:%zu: more than %d fields", path, c->start,
				 MAX_FIELDS);
			return -1;
		}
		c->off[c->nf++] = c->len;
		if (ch == '"') {
			size_t opened = c->line;
			for (;;) {
				ch = getc_unlocked(c->f);
				if (ch == EOF) {
					snprintf(err, errlen,
						 "%s:%zu: unterminated quote (the quoted field "
						 "opened "
						 "on line %zu never closes)",
						 path, c->start, opened);
					return -1;
				}
				if (ch == '"') {
					ch = getc_unlocked(c->f);
					if (ch != '"')
						break;
				} else if (ch == '\n') {
					c->line++;
				}
				if (ch == '\0') {
					snprintf(err, errlen, "%s:%zu: NUL byte (not a text file?)",
						 path, c->line);
					return -1;
				}
				if (c->len + 2 > MAX_RECORD) {
					snprintf(err, errlen, "%s:%zu: record longer than %d bytes",
						 path, c->start, MAX_RECORD);
					return -1;
				}
				c->buf[c->len++] = (char)ch;
			}
			if (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF) {
				snprintf(err, errlen,
					 "%s:%zu: text after the closing quote of field %zu (quote "
					 "the whole field and double the quotes inside)",
					 path, c->line, c->nf);
				return -1;
			}
		} else {
			while (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF) {
				if (ch == '\0') {
					snprintf(err, errlen, "%s:%zu: NUL byte (not a text file?)",
						 path, c->line);
					return -1;
				}
				if (c->len + 2 > MAX_RECORD) {
					snprintf(err, errlen, "%s:%zu: record longer than %d bytes",
						 path, c->start, MAX_RECORD);
					return -1;
				}
				c->buf[c->len++] = (char)ch;
				ch = getc_unlocked(c->f);
			}
		}
		c->buf[c->len++] = '\0';
		if (ch == ',') {
			ch = getc_unlocked(c->f);
			continue;
		}
		if (ch == '\r') {
			int nx = getc_unlocked(c->f);
			if (nx != '\n' && nx != EOF)
				ungetc(nx, c->f);
		}
		if (ch == '\r' || ch == '\n')
			c->line++;
		return 1;
	}
}

static char *field(csv *c, size_t i)
{
	return c->buf + c->off[i];
}

/* Trims blanks in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* ---- columns ---- */

enum {
	COL_USER,
	COL_DEPARTMENT,
	COL_TITLE,
	COL_MANAGER,
	COL_START_DATE,
	COL_COUNTRY,
	COL_TIMEZONE,
	COL_REQUIRED_, /* the ones above are required */
	COL_TEAM = COL_REQUIRED_,
	COL_PRIVILEGED,
	COL_COUNT_
};

static const char *const col_names[COL_COUNT_] = {
	"user", "department", "title", "manager", "start_date", "country", "timezone",
	"team", "privileged",
};

/* ---- values ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD", or a timestamp that starts with one ("2024-03-01T09:00:00Z"). */
static bool parse_date(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	if (n < 10)
		return false;
	for (int i = 0; i < 10; i++) {
		bool dash = i == 4 || i == 7;
		if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	}
	if (n > 10 && s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return false;
	int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	static const int md[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > md[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return false;
	*out = days_from_civil(y, m, d) * 86400;
	return true;
}

static int parse_bool(const char *s)
{
	static const char *const yes[] = {"true", "yes", "y", "1"};
	static const char *const no[] = {"false", "no", "n", "0", ""};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -1;
}

static void warn_at(mmr_roster *r, char *warn, size_t warnlen, const char *path, size_t line,
		    const char *fmt, ...)
{
	if (r->warnings++ == 0 && warn != NULL && warnlen > 0) {
		char msg[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(warn, warnlen, "%s:%zu: %s", path, line, msg);
	}
}

/* The zone named name, loaded at most once per roster; NULL when it cannot be loaded (then
 * why holds the reason, the first time only). */
static const mmr_tz *zone(mmr_roster *r, const char *name, bool *failed, char *why,
			  size_t whylen)
{
	uint32_t h = str_hash(name);
	slot *s = map_find(&r->zones, name, h);
	*failed = false;
	if (s == NULL) {
		const char *key = intern(r, name);
		if (key == NULL || (s = map_add(&r->zones, key, h)) == NULL)
			return NULL;
		s->val = mmr_tz_load(name, why, whylen);
	} else {
		snprintf(why, whylen, "time zone '%s' cannot be loaded (see the first warning)",
			 name);
	}
	*failed = s->val == NULL;
	return s->val;
}

/* Fills x from one data row. Returns 0, 1 when the row is skipped (warned), -1 on error. */
static int parse_row(mmr_roster *r, csv *c, const int *col, const mmr_user_norm *norm,
		     const char *path, char *err, size_t errlen, char *warn, size_t warnlen)
{
	size_t line = c->start;
	mmr_roster_entry x;
	memset(&x, 0, sizeof(x));

	size_t bad = 0;
	for (size_t i = 0; i < c->nf; i++)
		bad += mmr_utf8_sanitize(field(c, i));
	if (bad)
		warn_at(r, warn, warnlen, path, line,
			"not valid UTF-8 (%zu bytes replaced with '?'; save the file as UTF-8)",
			bad);

	const char *raw = trim(field(c, (size_t)col[COL_USER]));
	char key[MMR_USER_MAX];
	bool cut;
	mmr_user_normalize(raw, norm, key, sizeof(key), &cut);
	mmr_utf8_sanitize(key); /* a cut inside a sequence, as the engine does */
	if (key[0] == '\0') {
		warn_at(r, warn, warnlen, path, line, "empty user, row skipped");
		return 1;
	}

	const char *date = trim(field(c, (size_t)col[COL_START_DATE]));
	if (date[0] != '\0' && !parse_date(date, &x.start_date)) {
		snprintf(err, errlen,
			 "%s:%zu: start_date '%.40s' is not an ISO 8601 date (YYYY-MM-DD)", path,
			 line, date);
		return -1;
	}
	const char *cc = trim(field(c, (size_t)col[COL_COUNTRY]));
	if (cc[0] != '\0') {
		if (strlen(cc) != 2 || !isalpha((unsigned char)cc[0]) ||
		    !isalpha((unsigned char)cc[1]) || (unsigned char)cc[0] > 127 ||
		    (unsigned char)cc[1] > 127) {
			snprintf(err, errlen,
				 "%s:%zu: country '%.40s' is not an ISO 3166-1 alpha-2 code (US, "
				 "DE, "
				 "KR, ...)",
				 path, line, cc);
			return -1;
		}
		x.country[0] = (char)toupper((unsigned char)cc[0]);
		x.country[1] = (char)toupper((unsigned char)cc[1]);
	}

	const char *dept = trim(field(c, (size_t)col[COL_DEPARTMENT]));
	const char *team = col[COL_TEAM] >= 0 ? trim(field(c, (size_t)col[COL_TEAM])) : "";
	const char *tzname = trim(field(c, (size_t)col[COL_TIMEZONE]));
	char *gname = c->scratch; /* dept and team come from one record: < MAX_RECORD */
	snprintf(gname, MAX_RECORD + 2, team[0] ? "%s/%s" : "%s", dept, team);

	if (col[COL_PRIVILEGED] >= 0) {
		const char *p = trim(field(c, (size_t)col[COL_PRIVILEGED]));
		int b = parse_bool(p);
		if (b < 0)
			warn_at(r, warn, warnlen, path, line,
				"privileged '%.40s' is not true/yes/1 or false/no/0; taken as "
				"false",
				p);
		x.privileged = b == 1;
	}

	if ((x.department = intern(r, dept)) == NULL || (x.team = intern(r, team)) == NULL ||
	    (x.title = intern(r, trim(field(c, (size_t)col[COL_TITLE])))) == NULL ||
	    (x.manager = intern(r, trim(field(c, (size_t)col[COL_MANAGER])))) == NULL ||
	    (x.timezone = intern(r, tzname)) == NULL || (x.group_name = intern(r, gname)) == NULL)
		goto oom;

	if (tzname[0] != '\0') {
		char why[512] = "";
		bool failed;
		x.tz = zone(r, tzname, &failed, why, sizeof(why));
		if (failed)
			warn_at(r, warn, warnlen, path, line, "%s; the user has no local time",
				why);
		else if (x.tz == NULL)
			goto oom;
	}

	uint32_t h = str_hash(key);
	slot *s = map_find(&r->users, key, h);
	if (s != NULL) {
		warn_at(r, warn, warnlen, path, line,
			"user '%s' appears again (earlier row replaced; the last row wins)", key);
		x.user = r->e[s->num].user;
		r->e[s->num] = x;
		return 0;
	}
	if (r->n == MAX_ROWS) {
		snprintf(err, errlen, "%s:%zu: more than %d users", path, line, MAX_ROWS);
		return -1;
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		mmr_roster_entry *ne = realloc(r->e, nc * sizeof(*ne));
		if (ne == NULL)
			goto oom;
		r->e = ne;
		r->cap = nc;
	}
	if ((x.user = arena_dup(&r->strings, key, strlen(key))) == NULL ||
	    (s = map_add(&r->users, x.user, h)) == NULL)
		goto oom;
	s->num = r->n;
	r->e[r->n++] = x;
	return 0;
oom:
	snprintf(err, errlen, "%s:%zu: out of memory", path, line);
	return -1;
}

/* Peer groups: the id is the hash of the lower-cased "department/team" (so "Engineering"
 * and "engineering" are one group), the name the first spelling seen, the size the number of
 * users in it. */
static int finish_groups(mmr_roster *r, char *low)
{
	strmap g = {0};
	char **keys = calloc(r->n ? r->n : 1, sizeof(char *));
	int rc = -1;
	if (keys == NULL)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const char *name = r->e[i].group_name;
		size_t n = strlen(name);
		for (size_t k = 0; k <= n; k++)
			low[k] = (char)tolower((unsigned char)name[k]);
		uint32_t h = mmr_hash32(low, n);
		r->e[i].group = h;
		slot *s = map_find(&g, low, h);
		if (s == NULL) {
			if ((keys[i] = strdup(low)) == NULL ||
			    (s = map_add(&g, keys[i], h)) == NULL)
				goto out;
			s->val = (void *)name;
		}
		s->num++;
		r->e[i].group_name = s->val;
	}
	for (size_t i = 0; i < r->n; i++) {
		const char *name = r->e[i].group_name;
		size_t n = strlen(name);
		for (size_t k = 0; k <= n; k++)
			low[k] = (char)tolower((unsigned char)name[k]);
		slot *s = map_find(&g, low, r->e[i].group);
		r->e[i].group_size = s->num > UINT32_MAX ? UINT32_MAX : (uint32_t)s->num;
	}
	rc = 0;
out:
	for (size_t i = 0; i < r->n; i++)
		free(keys[i]);
	free(keys);
	free(g.s);
	return rc;
}

/* "Start Date", "start-date", "START_DATE" -> "start_date" */
static void header_name(const char *s, char *out, size_t len)
{
	size_t n = 0;
	for (; *s && n + 1 < len; s++)
		out[n++] = (*s == ' ' || *s == '-') ? '_' : (char)tolower((unsigned char)*s);
	out[n] = '\0';
}

mmr_roster *mmr_roster_load(const char *path, const mmr_user_norm *norm, char *err,
			    size_t errlen, char *warn, size_t warnlen)
{
	static const mmr_user_norm default_norm = {.strip_domain = true};
	mmr_roster *r = NULL;
	csv c = {0};
	int rc;

	if (warn && warnlen)
		warn[0] = '\0';
	if (norm == NULL)
		norm = &default_norm;
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "roster: no file given");
		return NULL;
	}
	if ((c.f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fileno(c.f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	unsigned char bom[3];
	if (fread(bom, 1, 3, c.f) != 3 || memcmp(bom, "\xef\xbb\xbf", 3) != 0)
		rewind(c.f);
	c.line = 1;
	if ((c.buf = malloc(MAX_RECORD)) == NULL || (c.scratch = malloc(MAX_RECORD + 2)) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}

	/* header */
	do {
		rc = csv_record(&c, path, err, errlen);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			snprintf(err, errlen, "%s: empty file (expected a header row: %s)", path,
				 "user,department,title,manager,start_date,country,timezone");
			goto fail;
		}
	} while (c.nf == 1 && field(&c, 0)[0] == '\0');
	int col[COL_COUNT_];
	for (int k = 0; k < COL_COUNT_; k++)
		col[k] = -1;
	size_t nf = c.nf;
	for (size_t i = 0; i < c.nf; i++) {
		char name[64];
		header_name(trim(field(&c, i)), name, sizeof(name));
		for (int k = 0; k < COL_COUNT_; k++)
			if (strcmp(name, col_names[k]) == 0) {
				if (col[k] >= 0) {
					snprintf(err, errlen, "%s:%zu: column '%s' appears twice",
						 path, c.start, col_names[k]);
					goto fail;
				}
				col[k] = (int)i;
			}
	}
	char missing[256] = "";
	for (int k = 0; k < COL_REQUIRED_; k++)
		if (col[k] < 0) {
			size_t ml = strlen(missing);
			snprintf(missing + ml, sizeof(missing) - ml, "%s%s", ml ? ", " : "",
				 col_names[k]);
		}
	if (missing[0]) {
		snprintf(err, errlen,
			 "%s:%zu: header lacks the required column(s) %s (required: "
			 "user,department,title,manager,start_date,country,timezone)",
			 path, c.start, missing);
		goto fail;
	}

	/* rows */
	while ((rc = csv_record(&c, path, err, errlen)) > 0) {
		if (c.nf == 1 && field(&c, 0)[0] == '\0')
			continue; /* blank line */
		if (c.nf != nf) {
			snprintf(err, errlen,
				 "%s:%zu: %zu fields where the header has %zu (an unquoted comma? "
				 "quote fields that contain commas)",
				 path, c.start, c.nf, nf);
			goto fail;
		}
		if (parse_row(r, &c, col, norm, path, err, errlen, warn, warnlen) < 0)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	if (finish_groups(r, c.scratch) != 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	free(c.buf);
	free(c.scratch);
	fclose(c.f);
	return r;
fail:
	free(c.buf);
	free(c.scratch);
	if (c.f)
		fclose(c.f);
	mmr_roster_free(r);
	return NULL;
}
