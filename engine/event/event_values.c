/* Parsing and formatting of the values a canonical event carries: IP addresses, durations,
 * timestamps, user names. Pure functions, no allocation: they run on the hot path. */
#include <arpa/inet.h>
#include <errno.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/event.h"

int mmr_ip_parse(const char *s, mmr_ip *out)
{
	char buf[64];
	size_t n = strlen(s);

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	/* "[2001:db8::1]" as some logs bracket IPv6 */
	if (buf[0] == '[' && buf[n - 1] == ']') {
		buf[n - 1] = '\0';
		memmove(buf, buf + 1, n - 1);
	}
	if (inet_pton(AF_INET, buf, out->b) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->b) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(out->b, mapped, sizeof(mapped)) == 0) {
			memmove(out->b, out->b + 12, 4);
			memset(out->b + 4, 0, 12);
			out->family = 4;
		} else {
			out->family = 6;
		}
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

int mmr_ip_format(const mmr_ip *ip, char *buf, size_t len)
{
	if (ip->family == 4)
		return inet_ntop(AF_INET, ip->b, buf, (socklen_t)len) ? 0 : -1;
	if (ip->family == 6)
		return inet_ntop(AF_INET6, ip->b, buf, (socklen_t)len) ? 0 : -1;
	return -1;
}

/* Accepts plain seconds ("1234"), unit groups as Cisco and others print them
 * ("0h:32m:16s", "1d 2h:03m:04s", "2h 5m"), and clock form ("01:02:03", "02:03"). */
int mmr_duration_parse(const char *s, int64_t *seconds)
{
	int64_t total = 0, clock[3];
	int nclock = 0, units = 0;
	const char *p = s;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return -1;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		int64_t v = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (++digits > 12)
				return -1;
			v = v * 10 + (*p++ - '0');
		}
		int64_t mult = 0;
		switch (*p) {
		case 'd': mult = 86400; break;
		case 'h': mult = 3600; break;
		case 'm': mult = 60; break;
		case 's': mult = 1; break;
		default: break;
		}
		if (mult) {
			if (nclock || v > (INT64_MAX - total) / mult)
				return -1;
			total += v * mult;
			units++;
			p++;
		} else {
			if (units || nclock == 3)
				return -1;
			clock[nclock++] = v;
		}
		if (*p == ':' || *p == ' ') {
			p++;
			if (*p == '\0') /* "1h:" or "01:02:" is cut off, not a duration */
				return -1;
		} else if (*p != '\0') {
			return -1;
		}
	}
	if (nclock == 1)
		total = clock[0];
	else if (nclock == 2)
		total = clock[0] * 60 + clock[1];
	else if (nclock == 3)
		total = clock[0] * 3600 + clock[1] * 60 + clock[2];
	*seconds = total;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date; Howard Hinnant's days_from_civil
 * (http://howardhinnant.github.io/date_algorithms.html), valid for any year we accept. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int read_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* RFC 3339 / ISO 8601 ("2026-11-27T10:00:00Z", "...T10:00:00.123+02:00", "... 10:00:00",
 * no zone = UTC) or unix time in seconds (9-10 digits), ms (13), µs (16) or ns (19). */
int mmr_time_parse(const char *s, int64_t *unix_seconds)
{
	const char *p = s;
	int Y, M, D, h, mi, sec = 0;
	size_t n = strlen(s);

	if ((n == 9 || n == 10 || n == 13 || n == 16 || n == 19) && strspn(s, "0123456789") == n) {
		/* seconds, ms, µs or ns by digit count (FortiGate's eventtime changed unit across
		 * FortiOS versions); 19 digits still fit int64 until 2262 */
		errno = 0;
		int64_t v = strtoll(s, NULL, 10);
		if (errno == ERANGE)
			return -1;
		*unix_seconds = n == 19 ? v / 1000000000 : n == 16 ? v / 1000000 : n == 13 ? v / 1000 : v;
		return 0;
	}
	if (read_digits(&p, 4, &Y) || *p++ != '-' || read_digits(&p, 2, &M) || *p++ != '-' ||
	    read_digits(&p, 2, &D))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
		return -1;
	if (*p == ':') {
		p++;
		if (read_digits(&p, 2, &sec))
			return -1;
		if (*p == '.' || *p == ',') {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (read_digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && read_digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		return -1;
	*unix_seconds = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 +
			sec - off;
	return 0;
}

int64_t mmr_time_from_civil(int year, int mon, int day, int hour, int min, int sec,
			    int utc_offset)
{
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	return days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 +
	       min * 60 + sec - utc_offset;
}

void mmr_time_format(int64_t t, char *buf, size_t len)
{
	/* civil_from_days, the inverse of days_from_civil (same source) */
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t rem = t - days * 86400;
	int64_t z = days + 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	const unsigned d = doy - (153 * mp + 2) / 5 + 1;
	const unsigned m = mp < 10 ? mp + 3 : mp - 9;
	const int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

/* Copies [b, e) into out (outlen bytes) lower-cased (ASCII only; bytes >= 0x80 are kept), never
 * cutting inside a UTF-8 sequence. Returns the bytes written. */
static size_t put_lower(const char *b, const char *e, char *out, size_t outlen, bool *truncated)
{
	size_t n = (size_t)(e - b);
	if (n >= outlen) {
		n = outlen - 1;
		*truncated = true;
		/* never cut inside a UTF-8 sequence: drop continuation bytes and their lead */
		size_t k = n;
		while (k > 0 && ((unsigned char)b[k] & 0xc0) == 0x80)
			k--;
		if (k < n)
			n = k;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		out[i] = (char)(c < 0x80 ? tolower(c) : c);
	}
	out[n] = '\0';
	return n;
}

/* Entity key rules (documented in rulebase/SCHEMA.md §4): trim blanks, ASCII lower-case, then
 *  - strip_domain (default): drop a "DOMAIN\" prefix and an "@domain" suffix, so that the VPN's
 *    "CORP\bob", the IdP's "bob@corp.example" and sshd's "bob" meet in one key "bob";
 *  - otherwise keep the domain in one form: "CORP\bob" -> "bob@corp", "bob@corp.example" as is,
 *    and a bare "bob" -> "bob@<default_domain>" when one is configured.
 * An empty name after trimming stays empty (the event is then not an identity event). */
void mmr_user_normalize(const char *raw, const mmr_user_norm *norm, char *out, size_t outlen,
			bool *truncated)
{
	const char *b = raw, *e = raw + strlen(raw), *nt = NULL, *nt_end = NULL;

	*truncated = false;
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	for (const char *q = e; q > b; q--)
		if (q[-1] == '\\') {
			nt = b;
			nt_end = q - 1;
			b = q;
			break;
		}
	const char *at = NULL;
	for (const char *q = e; q > b; q--)
		if (q[-1] == '@') {
			if (q - 1 > b)
				at = q - 1;
			break;
		}
	if (norm->strip_domain) {
		put_lower(b, at ? at : e, out, outlen, truncated);
		return;
	}
	size_t n = put_lower(b, e, out, outlen, truncated);
	if (at != NULL || n == 0 || *truncated)
		return;
	/* "CORP\bob" -> "bob@corp"; "bob" -> "bob@default" */
	const char *db = nt, *de = nt_end;
	char dflt[sizeof(norm->default_domain)];
	if (nt == NULL || nt == nt_end) {
		if (norm->default_domain[0] == '\0')
			return;
		snprintf(dflt, sizeof(dflt), "%s", norm->default_domain);
		db = dflt;
		de = dflt + strlen(dflt);
	}
	/* Cut exactly where "bob@corp.example" written in full would be cut, so a name that
	 * arrives with and without its domain still makes one key. */
	if (n + 1 >= outlen) {
		*truncated = true;
		return;
	}
	out[n] = '@';
	out[n + 1] = '\0';
	put_lower(db, de, out + n + 1, outlen - n - 1, truncated);
}

/* Length of the well-formed UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4
															    : 0;
	}
	return 0;
}

size_t mmr_utf8_sanitize(char *s)
{
	size_t bad = 0;
	unsigned char *p = (unsigned char *)s;
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0) {
			*p++ = '?';
			bad++;
		} else {
			p += n;
		}
	}
	return bad;
}
