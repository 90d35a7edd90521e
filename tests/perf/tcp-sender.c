/* tcp-sender: sends a file of syslog lines to a TCP syslog receiver (rsyslog's imptcp) as fast
 * as the socket takes them, and optionally waits until an output file has as many lines as
 * were sent. Used by scripts/bench-pipeline.sh (BENCHMARKS.md); links nothing but libc.
 *
 *   tcp-sender -p PORT -f FILE [-H HOST] [-n TIMES | -l LINES] [-F lf|octet]
 *              [-w OUTFILE [-e EXPECTED] [-t STALL_SECONDS]] [-j] [-q]
 *
 *   -f FILE     syslog lines, one per line; empty lines are skipped (imptcp drops them anyway)
 *   -n TIMES    send the file TIMES times (default 1)
 *   -l LINES    send exactly LINES lines, wrapping around the file (instead of -n)
 *   -F FRAMING  lf (default): each line ends with LF; octet: RFC 6587 octet counting,
 *               "<len> <line>" (imptcp accepts both on one port by default)
 *   -w OUTFILE  after sending, follow OUTFILE (reading only what was appended) until it holds
 *               EXPECTED newlines (default: the number of lines sent), then report the time
 *               from the connection to that moment: the end-to-end processing time
 *   -t SECONDS  give up when OUTFILE has not grown for this long (default 60): exit 3
 *   -j          print one JSON object instead of text
 *
 * The whole payload is framed in memory before the clock starts, so framing costs nothing
 * during the measurement. Writes are retried on partial writes and EINTR; SIGPIPE is ignored
 * (a peer that closes makes write fail with EPIPE, reported as an error).
 *
 * Exit: 0 sent (and, with -w, the output reached the expected count), 1 I/O or connection
 * error, 2 usage, 3 the output stalled short of the expected count (its count is printed).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tcp-sender -p PORT -f FILE [-H HOST] [-n TIMES | -l LINES] [-F lf|octet]\n"
		"                  [-w OUTFILE [-e EXPECTED] [-t STALL_SECONDS]] [-j] [-q]\n");
	exit(2);
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "tcp-sender: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		fprintf(stderr, "tcp-sender: %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap);
	if (buf == NULL) {
		fprintf(stderr, "tcp-sender: out of memory reading %s\n", path);
		close(fd);
		return NULL;
	}
	for (;;) {
		if (n == cap) { /* the file grew meanwhile */
			char *b = realloc(buf, cap * 2);
			if (b == NULL) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "tcp-sender: %s: %s\n", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

typedef struct {
	const char *p;
	size_t len; /* without the LF */
} line_ref;

/* Appends to a growing buffer; exits on out of memory (a benchmark tool has nothing better). */
typedef struct {
	char *b;
	size_t n, cap;
} dbuf;

static void put(dbuf *d, const void *s, size_t n)
{
	if (d->n + n > d->cap) {
		size_t cap = d->cap ? d->cap : 1 << 20;
		while (cap < d->n + n)
			cap *= 2;
		char *b = realloc(d->b, cap);
		if (b == NULL) {
			fprintf(stderr, "tcp-sender: out of memory framing the payload\n");
			exit(1);
		}
		d->b = b;
		d->cap = cap;
	}
	memcpy(d->b + d->n, s, n);
	d->n += n;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "tcp-sender: %s:%s: %s\n", host, port, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int r;
		do
			r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		while (r != 0 && errno == EINTR);
		if (r == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "tcp-sender: connect %s:%s: %s\n", host, port, strerror(err));
	return fd;
}

/* Writes all of buf, retrying partial writes and EINTR. Returns 0 or -1 (errno set). */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		size_t chunk = len > (1u << 20) ? (1u << 20) : len;
		ssize_t w = write(fd, buf, chunk);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Follows path until it holds `expected` newlines or stops growing for `stall` seconds.
 * Returns the newline count seen; *t_done is when the count was reached (or last grew). */
static uint64_t follow(const char *path, uint64_t expected, double stall, double *t_done)
{
	static char buf[1 << 20];
	uint64_t lines = 0;
	int fd = -1;
	double last_growth = now();
	*t_done = last_growth;
	for (;;) {
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		int grew = 0;
		if (fd >= 0) {
			for (;;) {
				ssize_t r = read(fd, buf, sizeof(buf));
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				grew = 1;
				for (const char *p = buf, *end = buf + r;
				     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
					lines++;
			}
		}
		double t = now();
		if (grew) {
			last_growth = t;
			*t_done = t;
		}
		if (lines >= expected)
			break;
		if (t - last_growth > stall)
			break;
		struct timespec ts = {0, 2 * 1000 * 1000}; /* 2 ms: cheap, and fine enough */
		nanosleep(&ts, NULL);
	}
	if (fd >= 0)
		close(fd);
	return lines;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = NULL, *file = NULL, *outfile = NULL;
	long long times = 1, want_lines = -1, expected = -1;
	double stall = 60;
	int octet = 0, json = 0, quiet = 0, c;

	while ((c = getopt(argc, argv, "H:p:f:n:l:F:w:e:t:jq")) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'p': port = optarg; break;
		case 'f': file = optarg; break;
		case 'n': times = atoll(optarg); break;
		case 'l': want_lines = atoll(optarg); break;
		case 'F':
			if (strcmp(optarg, "octet") == 0)
				octet = 1;
			else if (strcmp(optarg, "lf") != 0)
				usage();
			break;
		case 'w': outfile = optarg; break;
		case 'e': expected = atoll(optarg); break;
		case 't': stall = atof(optarg); break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		default: usage();
		}
	}
	if (port == NULL || file == NULL || optind != argc || times < 1 || stall <= 0 ||
	    (want_lines == 0))
		usage();
	signal(SIGPIPE, SIG_IGN);

	size_t flen;
	char *data = slurp(file, &flen);
	if (data == NULL)
		return 1;

	/* index the non-empty lines (a last line without LF counts; CR before LF is kept) */
	size_t nl = 0, cap = 1024;
	line_ref *lines = malloc(cap * sizeof(*lines));
	if (lines == NULL)
		return 1;
	for (size_t i = 0; i < flen;) {
		const char *p = data + i, *e = memchr(p, '\n', flen - i);
		size_t len = e ? (size_t)(e - p) : flen - i;
		if (len > 0) {
			if (nl == cap) {
				cap *= 2;
				line_ref *l = realloc(lines, cap * sizeof(*lines));
				if (l == NULL)
					return 1;
				lines = l;
			}
			lines[nl].p = p;
			lines[nl++].len = len;
		}
		i += len + 1;
	}
	if (nl == 0) {
		fprintf(stderr, "tcp-sender: %s has no lines\n", file);
		return 1;
	}
	uint64_t total = want_lines > 0 ? (uint64_t)want_lines : (uint64_t)nl * (uint64_t)times;

	/* frame everything before the clock starts */
	dbuf payload = {0};
	for (uint64_t k = 0; k < total; k++) {
		const line_ref *l = &lines[k % nl];
		if (octet) {
			char hdr[32];
			int h = snprintf(hdr, sizeof(hdr), "%zu ", l->len);
			put(&payload, hdr, (size_t)h);
			put(&payload, l->p, l->len);
		} else {
			put(&payload, l->p, l->len);
			put(&payload, "\n", 1);
		}
	}

	int fd = connect_to(host, port);
	if (fd < 0)
		return 1;
	double t0 = now();
	if (write_all(fd, payload.b, payload.n) != 0) {
		fprintf(stderr, "tcp-sender: sending to %s:%s: %s\n", host, port, strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	close(fd);
	double t_sent = now() - t0;

	int rc = 0;
	uint64_t seen = 0;
	double t_done = 0;
	uint64_t exp = expected >= 0 ? (uint64_t)expected : total;
	if (outfile) {
		double td;
		seen = follow(outfile, exp, stall, &td);
		t_done = td - t0;
		if (seen < exp)
			rc = 3;
	}

	if (json) {
		printf("{\"lines_sent\":%llu,\"bytes_sent\":%zu,\"framing\":\"%s\",\"send_seconds\":%.6f",
		       (unsigned long long)total, payload.n, octet ? "octet" : "lf", t_sent);
		if (outfile)
			printf(",\"expected\":%llu,\"lines_out\":%llu,\"done_seconds\":%.6f,"
			       "\"complete\":%s",
			       (unsigned long long)exp, (unsigned long long)seen, t_done,
			       rc == 0 ? "true" : "false");
		printf("}\n");
	} else if (!quiet || rc != 0) {
		printf("sent %llu lines (%zu bytes, %s framing) in %.3f s: %.0f lines/s\n",
		       (unsigned long long)total, payload.n, octet ? "octet-counted" : "LF",
		       t_sent, t_sent > 0 ? (double)total / t_sent : 0.0);
		if (outfile)
			printf("%s: %llu of %llu lines after %.3f s%s: %.0f lines/s end to end\n",
			       outfile, (unsigned long long)seen, (unsigned long long)exp, t_done,
			       rc ? " (stalled)" : "", t_done > 0 ? (double)seen / t_done : 0.0);
	}
	free(payload.b);
	free(lines);
	free(data);
	return rc;
}
