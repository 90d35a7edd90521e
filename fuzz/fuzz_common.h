/* Shared helpers of the libFuzzer harnesses (fuzz/README.md).
 *
 * Every harness is one LLVMFuzzerTestOneInput() over the engine library (no rsyslog headers).
 * Rules all harnesses follow:
 *   - deterministic: no wall clock, no randomness; fixed fallback times; an engine, a file or a
 *     list made for one input is freed before the input returns;
 *   - leak-free: libFuzzer runs with ASan/LSan, so whatever an input allocates is freed;
 *   - files the engine wants by path are written under one private directory per process
 *     (under $MMR_FUZZ_TMPDIR, else /dev/shm when possible: no disk I/O per input), removed
 *     at exit.
 *
 * Paths of the shipped inputs (rulebase, mappings, fuzz/context) are compiled in by
 * scripts/fuzz.sh (-DMMR_FUZZ_SRCDIR, -DMMR_FUZZ_BUILDDIR) and may be overridden with the
 * environment variables MMR_FUZZ_RULEBASE, MMR_FUZZ_MAPPINGS and MMR_FUZZ_CONTEXT.
 */
#ifndef MMR_FUZZ_COMMON_H
#define MMR_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmriskscore/event.h"

#ifndef MMR_FUZZ_SRCDIR
#define MMR_FUZZ_SRCDIR "."
#endif
#ifndef MMR_FUZZ_BUILDDIR
#define MMR_FUZZ_BUILDDIR "build-fuzz"
#endif

/* A message at the top of a report: what the harness found wrong, then abort() so that
 * libFuzzer saves the input as a crash. */
#define FUZZ_FAIL(...)                                                                         \
	do {                                                                                   \
		fprintf(stderr, "FUZZ CHECK FAILED (%s:%d): ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                                                  \
		fputc('\n', stderr);                                                           \
		abort();                                                                       \
	} while (0)

static inline const char *fuzz_path(const char *env, const char *dflt, char *buf, size_t len)
{
	const char *v = getenv(env);
	if (v != NULL && *v)
		return v;
	snprintf(buf, len, "%s", dflt);
	return buf;
}

static inline const char *fuzz_rulebase_path(void)
{
	static char buf[4096];
	return fuzz_path("MMR_FUZZ_RULEBASE", MMR_FUZZ_BUILDDIR "/rulebase/identity-vpn.rulebase",
			 buf, sizeof(buf));
}

static inline const char *fuzz_mappings_path(void)
{
	static char buf[4096];
	return fuzz_path("MMR_FUZZ_MAPPINGS", MMR_FUZZ_SRCDIR "/mappings", buf, sizeof(buf));
}

/* fuzz/context: roster.csv, lists/, geoip-city.mmdb, geoip-asn.mmdb, mapping-docs.txt */
static inline const char *fuzz_context_dir(void)
{
	static char buf[4096];
	return fuzz_path("MMR_FUZZ_CONTEXT", MMR_FUZZ_SRCDIR "/fuzz/context", buf, sizeof(buf));
}

/* ---- the private temporary directory ------------------------------------------------------ */

static char fuzz_tmp[256];

static void fuzz_rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			fuzz_rm_rf(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void fuzz_tmp_cleanup(void)
{
	if (fuzz_tmp[0])
		fuzz_rm_rf(fuzz_tmp);
}

/* The per-process directory (created on first use). */
static inline const char *fuzz_tmpdir(void)
{
	if (fuzz_tmp[0])
		return fuzz_tmp;
	/* scripts/fuzz.sh sets MMR_FUZZ_TMPDIR to a directory it removes at exit: a crash
	 * (abort) skips atexit() */
	const char *bases[] = {getenv("MMR_FUZZ_TMPDIR"), "/dev/shm", getenv("TMPDIR"), "/tmp"};
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (bases[i] == NULL || access(bases[i], W_OK) != 0)
			continue;
		snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s/mmr-fuzz-XXXXXX", bases[i]);
		if (mkdtemp(fuzz_tmp) != NULL) {
			atexit(fuzz_tmp_cleanup);
			return fuzz_tmp;
		}
	}
	fprintf(stderr, "fuzz: cannot create a temporary directory\n");
	abort();
}

/* Writes exactly len bytes (NULs included) to path, replacing it. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		abort();
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w <= 0) {
			fprintf(stderr, "fuzz: write %s: %s\n", path, strerror(errno));
			abort();
		}
		off += (size_t)w;
	}
	close(fd);
}

/* Reads a whole text file (caller frees); NULL when it cannot be read. */
static inline char *fuzz_read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
		n += got;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (nb == NULL)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* ---- output checks ------------------------------------------------------------------------ */

#include "json_check.h"

/* Serializes obj (the engine's output: an object), re-parses it with libfastjson's tokener
 * and checks it strictly; aborts with the text when anything is wrong. */
static inline void fuzz_check_json(struct json_object *obj, const char *what)
{
	if (obj == NULL)
		FUZZ_FAIL("%s: NULL", what);
	if (!json_object_is_type(obj, json_type_object))
		FUZZ_FAIL("%s: not a JSON object", what);
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	if (s == NULL)
		FUZZ_FAIL("%s: serialization failed", what);
	size_t len = strlen(s);
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		FUZZ_FAIL("out of memory");
	struct json_object *back = json_tokener_parse_ex(tok, s, (int)len);
	enum json_tokener_error jerr = fjson_tokener_get_error(tok);
	int off = tok->char_offset;
	json_tokener_free(tok);
	if (back == NULL || jerr != fjson_tokener_success || off != (int)len)
		FUZZ_FAIL("%s: json_tokener does not read back the output (%s at %d of %zu): %s",
			  what, json_tokener_error_desc(jerr), off, len, s);
	if (!json_object_is_type(back, json_type_object))
		FUZZ_FAIL("%s: output reads back as another type: %s", what, s);
	json_object_put(back);
	const char *why = fuzz_json_strict_error(s, len);
	if (why != NULL)
		FUZZ_FAIL("%s: output is not strict RFC 8259 JSON (%s): %s", what, why, s);
}

/* A NUL-terminated text of at most cap bytes (error messages: they quote what was read, as
 * it was read, for the admin). */
static inline void fuzz_check_cstr(const char *s, size_t cap, const char *what)
{
	if (strnlen(s, cap) == cap)
		FUZZ_FAIL("%s: not NUL-terminated within %zu bytes", what, cap);
}

/* A NUL-terminated text of at most cap bytes, well-formed UTF-8 (what goes into JSON). */
static inline void fuzz_check_text(const char *s, size_t cap, const char *what)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		FUZZ_FAIL("%s: not NUL-terminated within %zu bytes", what, cap);
	fuzz_jv v = {.p = (const unsigned char *)s, .end = (const unsigned char *)s + n};
	while (v.p < v.end)
		if (!fuzz_jv_utf8(&v))
			FUZZ_FAIL("%s: %s: \"%s\"", what, v.why, s);
}

/* Every text field of a canonical event: terminated inside its buffer, valid UTF-8. */
static inline void fuzz_check_event_texts(const mmr_event *ev)
{
	fuzz_check_text(ev->user, sizeof(ev->user), "event.user");
	fuzz_check_text(ev->user_raw, sizeof(ev->user_raw), "event.user_raw");
	fuzz_check_text(ev->target, sizeof(ev->target), "event.target");
	fuzz_check_text(ev->device, sizeof(ev->device), "event.device");
	fuzz_check_text(ev->auth_method, sizeof(ev->auth_method), "event.auth_method");
	fuzz_check_text(ev->mfa_factor, sizeof(ev->mfa_factor), "event.mfa_factor");
	fuzz_check_text(ev->group, sizeof(ev->group), "event.group");
	fuzz_check_text(ev->session_id, sizeof(ev->session_id), "event.session_id");
	fuzz_check_text(ev->reason, sizeof(ev->reason), "event.reason");
	fuzz_check_text(ev->host, sizeof(ev->host), "event.host");
	fuzz_check_text(ev->user_agent, sizeof(ev->user_agent), "event.user_agent");
	fuzz_check_text(ev->geo_country, sizeof(ev->geo_country), "event.geo_country");
	fuzz_check_text(ev->geo_city, sizeof(ev->geo_city), "event.geo_city");
	fuzz_check_text(ev->as_org, sizeof(ev->as_org), "event.as_org");
}

#endif
