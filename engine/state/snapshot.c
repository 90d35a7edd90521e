/* Snapshot file reader and writer; see snapshot.h for the layout and docs/state.md for the
 * guarantees. Nothing here knows what a user record is (engine_state.c does). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "siphash.h"
#include "snapshot.h"

static const unsigned char magic[8] = {0x89, 'M', 'M', 'R', 'S', 'T', '\r', '\n'};
#define BYTE_ORDER_MARK 0x01020304u
#define TABLE_END 0xff

/* --- CRC-32C, slicing by 8 (Intel's "slicing-by-8", Kounavis and Berry 2005) ------------- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t mmr_crc32c(uint32_t crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (n >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
		      crc_table[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* --- little-endian helpers -------------------------------------------------------------- */

static void le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* --- pseudonyms ------------------------------------------------------------------------- */

void mmr_pseudonym(const uint8_t key[16], const char *user, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t h[16];
	mmr_siphash128(key, user, len, h);
	out[0] = '~';
	for (int i = 0; i < 16; i++) {
		out[1 + 2 * i] = hex[h[i] >> 4];
		out[2 + 2 * i] = hex[h[i] & 15];
	}
	out[MMR_PSEUDONYM_LEN] = '\0';
}

bool mmr_is_pseudonym(const void *key, size_t len)
{
	const char *k = key;
	if (len != MMR_PSEUDONYM_LEN || k[0] != '~')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f')))
			return false;
	return true;
}

void mmr_pseudonym_key_fingerprint(const uint8_t key[16], uint8_t out[8])
{
	static const char what[] = "mmriskscore pseudonym key check";
	le64(out, mmr_siphash64(key, what, sizeof(what) - 1));
}

/* The Feistel network's round function, under a key derived from the pseudonym key (so its
 * inputs never meet the pseudonyms' inputs). */
static uint16_t feistel_f(const uint8_t sub[16], int round, uint16_t x)
{
	uint8_t m[3] = {(uint8_t)round, (uint8_t)x, (uint8_t)(x >> 8)};
	return (uint16_t)mmr_siphash64(sub, m, sizeof(m));
}

#define FEISTEL_ROUNDS 6

static uint32_t feistel(const uint8_t sub[16], uint32_t h, bool inverse)
{
	uint16_t l = (uint16_t)(h >> 16), r = (uint16_t)h;
	for (int i = 0; i < FEISTEL_ROUNDS; i++) {
		if (!inverse) {
			uint16_t t = l ^ feistel_f(sub, i, r);
			l = r;
			r = t;
		} else {
			uint16_t t = r ^ feistel_f(sub, FEISTEL_ROUNDS - 1 - i, l);
			r = l;
			l = t;
		}
	}
	return (uint32_t)l << 16 | r;
}

uint32_t mmr_snap_pseudo32(const mmr_snap_pseudo *p, uint32_t h)
{
	static const char what[] = "mmriskscore user fingerprint permutation";
	if (h == 0)
		return 0;
	uint8_t sub[16];
	mmr_siphash128(p->key, what, sizeof(what) - 1, sub);
	/* cycle walking keeps 0 (an empty slot) out of the permutation's range */
	uint32_t y = feistel(sub, h, p->load);
	while (y == 0)
		y = feistel(sub, y, p->load);
	return y;
}

void mmr_snap_pseudo_accounts(const mmr_snap_pseudo *p, uint32_t *hash, char *names,
			      size_t namelen, int n)
{
	for (int i = 0; i < n; i++) {
		char *name = names + (size_t)i * namelen;
		hash[i] = mmr_snap_pseudo32(p, hash[i]);
		memset(name, 0, namelen);
		if (p->load && hash[i] != 0 && namelen > 9)
			snprintf(name, namelen, "~%08x", (unsigned)hash[i]);
	}
}

/* --- writer ----------------------------------------------------------------------------- */

struct mmr_snap_writer {
	FILE *f;
	char *path, *tmp;
	uint8_t key[16];
	bool pseudo;
	uint32_t file_crc;
	uint64_t off;
	uint32_t sections;
	bool failed;
	char err[320];
	/* the open section */
	bool open;
	uint32_t type;
	unsigned char *buf;
	size_t len, cap;
	/* the open detector stream */
	bool global;
	char gname[256];
	uint32_t gversion, gseq;
	size_t gprefix; /* bytes of the chunk prefix at the start of buf */
	/* stripe copies */
	unsigned char *stage;
	size_t slen, scap;
	size_t value_size;
	uint64_t users, entries, max_stall_ns;
	bool closed; /* mmr_snap_create_closed: f is NULL between sections */
	bool sealed; /* mmr_snap_seal: complete in path.tmp, to be synced by the caller */
};

static int wfail(mmr_snap_writer *w, const char *what)
{
	if (!w->failed) {
		w->failed = true;
		snprintf(w->err, sizeof(w->err), "%s: %s: %s", w->tmp, what, strerror(errno));
	}
	return -1;
}

/* Appends to a closed writer's file. */
static int append(mmr_snap_writer *w, const void *p, size_t n)
{
	int fd = open(w->tmp, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return wfail(w, "open");
	const char *b = p;
	while (n > 0) {
		ssize_t k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			int e = errno;
			close(fd);
			errno = e;
			return wfail(w, "write");
		}
		b += k;
		n -= (size_t)k;
	}
	if (close(fd) != 0)
		return wfail(w, "close");
	return 0;
}

static int wraw(mmr_snap_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return -1;
	if (n && w->closed && append(w, p, n) != 0)
		return -1;
	if (n && !w->closed && fwrite(p, 1, n, w->f) != n)
		return wfail(w, "write");
	w->file_crc = mmr_crc32c(w->file_crc, p, n);
	w->off += n;
	return 0;
}

static int reserve(mmr_snap_writer *w, size_t n)
{
	if (w->len + n <= w->cap)
		return 0;
	if (w->len + n > MMR_SNAP_MAX_SECTION) {
		errno = EFBIG;
		return wfail(w, "section too large");
	}
	size_t cap = w->cap ? w->cap : 64 * 1024;
	while (cap < w->len + n)
		cap *= 2;
	unsigned char *b = realloc(w->buf, cap);
	if (b == NULL)
		return wfail(w, "out of memory");
	w->buf = b;
	w->cap = cap;
	return 0;
}

static mmr_snap_writer *create(const char *path, const uint8_t *pseudo_key, int64_t created,
			       bool closed, char *err, size_t errlen)
{
	mmr_snap_writer *w = calloc(1, sizeof(*w));
	if (w == NULL || (w->path = strdup(path)) == NULL ||
	    (w->tmp = malloc(strlen(path) + 5)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		if (w)
			free(w->path);
		free(w);
		return NULL;
	}
	sprintf(w->tmp, "%s.tmp", path);
	int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || (w->f = fdopen(fd, "wb")) == NULL) {
		snprintf(err, errlen, "%s: cannot create: %s", w->tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(w->tmp);
		}
		free(w->path);
		free(w->tmp);
		free(w);
		return NULL;
	}
	if (closed) {
		fclose(w->f); /* the file exists now, empty: sections are appended */
		w->f = NULL;
		w->closed = true;
	} else {
		setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	}
	if (pseudo_key) {
		memcpy(w->key, pseudo_key, 16);
		w->pseudo = true;
	}
	unsigned char h[MMR_SNAP_HEADER_SIZE] = {0};
	memcpy(h, magic, 8);
	le32(h + 8, MMR_SNAP_FORMAT_VERSION);
	le32(h + 12, w->pseudo ? MMR_SNAP_FLAG_PSEUDONYMIZED : 0);
	uint32_t bom = BYTE_ORDER_MARK;
	memcpy(h + 16, &bom, 4); /* host order on purpose: the slices are host structs */
	le64(h + 24, (uint64_t)created);
	if (w->pseudo)
		mmr_pseudonym_key_fingerprint(w->key, h + 32);
	le32(h + 40, mmr_crc32c(0, h, 40));
	wraw(w, h, sizeof(h));
	return w;
}

mmr_snap_writer *mmr_snap_create(const char *path, const uint8_t *pseudo_key, int64_t created,
				 char *err, size_t errlen)
{
	return create(path, pseudo_key, created, false, err, errlen);
}

mmr_snap_writer *mmr_snap_create_closed(const char *path, const uint8_t *pseudo_key,
					int64_t created, char *err, size_t errlen)
{
	return create(path, pseudo_key, created, true, err, errlen);
}

const uint8_t *mmr_snap_writer_key(const mmr_snap_writer *w)
{
	return w->pseudo ? w->key : NULL;
}

int mmr_snap_section_begin(mmr_snap_writer *w, uint32_t type)
{
	if (w->failed)
		return -1;
	w->open = true;
	w->type = type;
	w->len = 0;
	return 0;
}

size_t mmr_snap_section_len(const mmr_snap_writer *w)
{
	return w->len;
}

int mmr_snap_patch_u32(mmr_snap_writer *w, size_t at, uint32_t v)
{
	if (w->failed || at + 4 > w->len)
		return -1;
	le32(w->buf + at, v);
	return 0;
}

int mmr_snap_section_end(mmr_snap_writer *w)
{
	if (w->failed)
		return -1;
	unsigned char h[12];
	le32(h, w->type);
	le32(h + 4, (uint32_t)w->len);
	le32(h + 8, mmr_crc32c(0, w->buf, w->len));
	w->open = false;
	w->sections++;
	if (wraw(w, h, sizeof(h)) != 0 || wraw(w, w->buf, w->len) != 0)
		return -1;
	return 0;
}

/* A GLOBAL chunk: u8 name length, name, u32 state version, u32 sequence, u8 last, data. */
static int chunk_begin(mmr_snap_writer *w)
{
	size_t nl = strlen(w->gname);
	if (mmr_snap_section_begin(w, MMR_SEC_GLOBAL) != 0 || reserve(w, nl + 10) != 0)
		return -1;
	w->buf[0] = (unsigned char)nl;
	memcpy(w->buf + 1, w->gname, nl);
	le32(w->buf + 1 + nl, w->gversion);
	le32(w->buf + 5 + nl, w->gseq);
	w->buf[9 + nl] = 0;
	w->len = w->gprefix = nl + 10;
	return 0;
}

static int chunk_end(mmr_snap_writer *w, bool last)
{
	if (w->failed)
		return -1;
	w->buf[w->gprefix - 1] = last ? 1 : 0;
	return mmr_snap_section_end(w);
}

int mmr_snap_global_begin(mmr_snap_writer *w, const char *detector, uint32_t state_version)
{
	snprintf(w->gname, sizeof(w->gname), "%s", detector);
	w->gversion = state_version;
	w->gseq = 0;
	w->global = true;
	return chunk_begin(w);
}

int mmr_snap_global_end(mmr_snap_writer *w)
{
	w->global = false;
	return chunk_end(w, true);
}

int mmr_snap_put(mmr_snap_writer *w, const void *p, size_t n)
{
	const unsigned char *b = p;
	if (w->failed)
		return -1;
	while (w->global && w->len - w->gprefix + n > MMR_SNAP_CHUNK) {
		size_t room = MMR_SNAP_CHUNK - (w->len - w->gprefix);
		if (reserve(w, room) != 0)
			return -1;
		memcpy(w->buf + w->len, b, room);
		w->len += room;
		b += room;
		n -= room;
		w->gseq++;
		if (chunk_end(w, false) != 0 || chunk_begin(w) != 0)
			return -1;
	}
	if (n == 0)
		return 0;
	if (reserve(w, n) != 0)
		return -1;
	memcpy(w->buf + w->len, b, n);
	w->len += n;
	return 0;
}

int mmr_snap_put_u8(mmr_snap_writer *w, uint8_t v)
{
	return mmr_snap_put(w, &v, 1);
}

int mmr_snap_put_u16(mmr_snap_writer *w, uint16_t v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	return mmr_snap_put(w, b, 2);
}

int mmr_snap_put_u32(mmr_snap_writer *w, uint32_t v)
{
	unsigned char b[4];
	le32(b, v);
	return mmr_snap_put(w, b, 4);
}

int mmr_snap_put_u64(mmr_snap_writer *w, uint64_t v)
{
	unsigned char b[8];
	le64(b, v);
	return mmr_snap_put(w, b, 8);
}

int mmr_snap_put_i64(mmr_snap_writer *w, int64_t v)
{
	return mmr_snap_put_u64(w, (uint64_t)v);
}

int mmr_snap_put_str(mmr_snap_writer *w, const char *s)
{
	size_t n = strlen(s);
	if (n > 255)
		n = 255;
	if (mmr_snap_put_u8(w, (uint8_t)n) != 0)
		return -1;
	return mmr_snap_put(w, s, n);
}

/* The staging copy of a batch of a stripe: per entry u8 protected, u16 key length, key, value.
 * A batch is what fits in the buffer (MMR_SNAP_STAGE bytes, its pages touched before the
 * first lock), so a stripe is never locked for longer than copying that much; the buffer
 * grows, with no lock held, only for an entry that does not fit in it alone. */
#define MMR_SNAP_STAGE (256u * 1024)

static int stage_entry(void *arg, const void *key, size_t keylen, void *value, bool protected_)
{
	mmr_snap_writer *w = arg;
	size_t need = 3 + keylen + w->value_size;
	if (w->slen + need > w->scap)
		return 1;
	unsigned char *p = w->stage + w->slen;
	uint16_t kl = (uint16_t)keylen;
	p[0] = protected_ ? 1 : 0;
	memcpy(p + 1, &kl, 2);
	memcpy(p + 3, key, keylen);
	memcpy(p + 3 + keylen, value, w->value_size);
	w->slen += need;
	return 0;
}

static int stage_grow(mmr_snap_writer *w, size_t cap)
{
	unsigned char *b = realloc(w->stage, cap);
	if (b == NULL) {
		errno = ENOMEM;
		return wfail(w, "out of memory");
	}
	memset(b, 0, cap); /* fault the pages in now, not under a stripe's lock */
	w->stage = b;
	w->scap = cap;
	return 0;
}

int mmr_snap_copy_stripe(mmr_snap_writer *w, mmr_lru_table *t, unsigned i, uint32_t pass)
{
	if (w->failed || (w->stage == NULL && stage_grow(w, MMR_SNAP_STAGE) != 0))
		return -1;
	w->value_size = mmr_lru_value_size(t);
	for (;;) {
		uint64_t held;
		w->slen = 0;
		int rc = mmr_lru_visit_stripe(t, i, pass, stage_entry, w, &held);
		if (held > w->max_stall_ns)
			w->max_stall_ns = held;
		if (rc == 0)
			return 0;
		if (w->slen > 0)
			return 1;
		if (stage_grow(w, 2 * w->scap + 3 + UINT16_MAX + w->value_size) != 0)
			return -1;
	}
}

const unsigned char *mmr_snap_staging(const mmr_snap_writer *w, size_t *len)
{
	*len = w->slen;
	return w->stage;
}

int mmr_snap_put_table(mmr_snap_writer *w, mmr_lru_table *t, mmr_snap_entry_fn pseudo)
{
	size_t vs = mmr_lru_value_size(t);
	unsigned char *copy = malloc(vs ? vs : 1);
	if (copy == NULL) {
		errno = ENOMEM;
		return wfail(w, "out of memory");
	}
	const mmr_snap_pseudo ps = {.key = w->key, .load = false};
	mmr_snap_put_u64(w, mmr_lru_seed(t));
	mmr_snap_put_u32(w, mmr_lru_stripes(t));
	mmr_snap_put_u32(w, (uint32_t)vs);
	uint32_t pass = mmr_lru_new_pass(t);
	for (unsigned i = 0; i < mmr_lru_stripes(t) && !w->failed; i++) {
		int more;
		do {
			if ((more = mmr_snap_copy_stripe(w, t, i, pass)) < 0)
				break;
			for (size_t off = 0; off < w->slen && !w->failed;) {
				const unsigned char *p = w->stage + off;
				uint16_t kl;
				memcpy(&kl, p + 1, 2);
				memcpy(copy, p + 3 + kl, vs);
				if (pseudo && w->pseudo)
					pseudo(copy, &ps);
				mmr_snap_put_u8(w, p[0]);
				mmr_snap_put_u16(w, kl);
				mmr_snap_put(w, p + 3, kl);
				mmr_snap_put(w, copy, vs);
				w->entries++;
				off += 3 + (size_t)kl + vs;
			}
		} while (more == 1 && !w->failed);
	}
	free(copy);
	return mmr_snap_put_u8(w, TABLE_END);
}

void mmr_snap_count(mmr_snap_writer *w, uint64_t users, uint64_t entries)
{
	w->users += users;
	w->entries += entries;
}

double mmr_snap_max_stall_ms(const mmr_snap_writer *w)
{
	return (double)w->max_stall_ns / 1e6;
}

uint64_t mmr_snap_entries_written(const mmr_snap_writer *w)
{
	return w->entries;
}

static void wfree(mmr_snap_writer *w)
{
	free(w->buf);
	free(w->stage);
	free(w->path);
	free(w->tmp);
	free(w);
}

void mmr_snap_abort(mmr_snap_writer *w, char *err, size_t errlen)
{
	if (w == NULL)
		return;
	if (err && w->failed)
		snprintf(err, errlen, "%s", w->err);
	if (w->f)
		fclose(w->f);
	unlink(w->tmp);
	wfree(w);
}

int mmr_snap_sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static void put_end(mmr_snap_writer *w)
{
	unsigned char end[24];
	le64(end, w->users);
	le64(end + 8, w->entries);
	le32(end + 16, w->sections);
	le32(end + 20, w->file_crc);
	mmr_snap_section_begin(w, MMR_SEC_END);
	mmr_snap_put(w, end, sizeof(end));
	mmr_snap_section_end(w);
}

int mmr_snap_seal(mmr_snap_writer *w, char *err, size_t errlen)
{
	put_end(w);
	if (w->failed) {
		mmr_snap_abort(w, err, errlen);
		return -1;
	}
	w->sealed = true;
	return 0;
}

int mmr_snap_fsync(mmr_snap_writer *w)
{
	int fd = open(w->tmp, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return wfail(w, "open");
	int rc = fsync(fd) != 0 ? wfail(w, "fsync") : 0;
	close(fd);
	return rc;
}

int mmr_snap_sync_fs(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = syncfs(fd);
	close(fd);
	return rc;
}

int mmr_snap_commit(mmr_snap_writer *w, uint64_t *bytes, char *err, size_t errlen)
{
	if (!w->sealed)
		put_end(w);
	if (w->closed && !w->sealed && !w->failed)
		mmr_snap_fsync(w);
	if (!w->closed && !w->failed && fflush(w->f) != 0)
		wfail(w, "write");
	if (!w->closed && !w->failed && fsync(fileno(w->f)) != 0)
		wfail(w, "fsync");
	if (w->failed) {
		mmr_snap_abort(w, err, errlen);
		return -1;
	}
	FILE *f = w->f;
	w->f = NULL;
	if (f != NULL && fclose(f) != 0) {
		wfail(w, "close");
		mmr_snap_abort(w, err, errlen);
		return -1;
	}
	if (rename(w->tmp, w->path) != 0) {
		snprintf(err, errlen, "%s: cannot rename to %s: %s", w->tmp, w->path,
			 strerror(errno));
		mmr_snap_abort(w, NULL, 0);
		return -1;
	}
	/* the rename is done: a failed directory fsync only weakens durability of this one */
	int dirsync = w->closed ? 0 : mmr_snap_sync_dir(w->path);
	if (dirsync != 0)
		snprintf(err, errlen, "%s: written, but fsync of its directory failed: %s",
			 w->path, strerror(errno));
	*bytes = w->off;
	wfree(w);
	return 0;
}

/* --- reader ----------------------------------------------------------------------------- */

struct mmr_snap_reader {
	FILE *f;
	char path[256];
	uint64_t size, off;
	uint32_t file_crc, crc_before; /* of everything read / before the current section */
	uint32_t sections;
	uint8_t key[16];
	bool pseudo;
	bool failed;
	char err[512];
	/* the current section */
	uint32_t type;
	unsigned char *buf;
	size_t len, cap, pos;
	uint64_t section_off;
	/* the current detector stream */
	bool global, glast;
	char gname[256];
	uint32_t gversion, gseq;
	unsigned char *keybuf; /* 64 KiB, for table keys */
	uint64_t entries;
};

int mmr_snap_fail(mmr_snap_reader *r, const char *fmt, ...)
{
	if (r->failed)
		return -1;
	r->failed = true;
	int n = snprintf(r->err, sizeof(r->err), "%s: offset %llu: ", r->path,
			 (unsigned long long)r->section_off);
	if (n < 0 || (size_t)n >= sizeof(r->err))
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

const char *mmr_snap_error(const mmr_snap_reader *r)
{
	return r->failed ? r->err : "";
}

static int rread(mmr_snap_reader *r, void *p, size_t n, const char *what)
{
	if (r->failed)
		return -1;
	if (r->size - r->off < n)
		return mmr_snap_fail(r, "truncated: %s needs %zu bytes, %llu left", what, n,
				     (unsigned long long)(r->size - r->off));
	if (n && fread(p, 1, n, r->f) != n)
		return mmr_snap_fail(r, "read error or file shrank while reading %s", what);
	r->file_crc = mmr_crc32c(r->file_crc, p, n);
	r->off += n;
	return 0;
}

mmr_snap_reader *mmr_snap_open(const char *path, const uint8_t *pseudo_key, int *status,
			       mmr_snap_header *hdr, char *err, size_t errlen)
{
	*status = -1;
	memset(hdr, 0, sizeof(*hdr));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			*status = 1;
			return NULL;
		}
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	mmr_snap_reader *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->f = fdopen(fd, "rb")) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(r);
		close(fd);
		return NULL;
	}
	setvbuf(r->f, NULL, _IOFBF, 1 << 20);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->size = (uint64_t)st.st_size;
	unsigned char h[MMR_SNAP_HEADER_SIZE];
	if (r->size < sizeof(h)) {
		snprintf(err, errlen, "%s: truncated: %llu bytes, shorter than a snapshot header",
			 path, (unsigned long long)r->size);
		goto fail;
	}
	if (rread(r, h, sizeof(h), "the header") != 0)
		goto fail_r;
	if (memcmp(h, magic, 8) != 0) {
		snprintf(err, errlen, "%s: not a mmriskscore state file (bad magic)", path);
		goto fail;
	}
	hdr->format_version = rd32(h + 8);
	if (hdr->format_version != MMR_SNAP_FORMAT_VERSION) {
		snprintf(err, errlen, "%s: format version %u, this build reads %u", path,
			 hdr->format_version, MMR_SNAP_FORMAT_VERSION);
		goto fail;
	}
	if (rd32(h + 40) != mmr_crc32c(0, h, 40)) {
		snprintf(err, errlen, "%s: header checksum mismatch (corrupt file)", path);
		goto fail;
	}
	uint32_t bom;
	memcpy(&bom, h + 16, 4);
	if (bom != BYTE_ORDER_MARK) {
		snprintf(err, errlen, "%s: written on a host of another byte order", path);
		goto fail;
	}
	hdr->flags = rd32(h + 12);
	hdr->created = (int64_t)rd64(h + 24);
	if ((hdr->flags & ~MMR_SNAP_FLAG_PSEUDONYMIZED) != 0 || rd32(h + 20) != 0) {
		snprintf(err, errlen, "%s: unknown header flags 0x%x", path, hdr->flags);
		goto fail;
	}
	if (hdr->flags & MMR_SNAP_FLAG_PSEUDONYMIZED) {
		uint8_t fp[8];
		if (pseudo_key == NULL) {
			snprintf(err, errlen,
				 "%s: user names are pseudonymized: the pseudonym key is needed", path);
			goto fail;
		}
		mmr_pseudonym_key_fingerprint(pseudo_key, fp);
		if (memcmp(fp, h + 32, 8) != 0) {
			snprintf(err, errlen,
				 "%s: pseudonymized with another key than the one configured", path);
			goto fail;
		}
		memcpy(r->key, pseudo_key, 16);
		r->pseudo = true;
	}
	*status = 0;
	return r;
fail_r:
	snprintf(err, errlen, "%s", r->err);
fail:
	mmr_snap_close(r);
	return NULL;
}

void mmr_snap_close(mmr_snap_reader *r)
{
	if (r == NULL)
		return;
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->keybuf);
	free(r);
}

const uint8_t *mmr_snap_reader_key(const mmr_snap_reader *r)
{
	return r->pseudo ? r->key : NULL;
}

int mmr_snap_next(mmr_snap_reader *r, uint32_t *type)
{
	unsigned char h[12];
	if (r->failed)
		return -1;
	r->section_off = r->off;
	r->crc_before = r->file_crc;
	if (rread(r, h, sizeof(h), "a section header") != 0)
		return -1;
	uint32_t t = rd32(h), len = rd32(h + 4);
	if (t < MMR_SEC_LAYOUT || t > MMR_SEC_SHARD)
		return mmr_snap_fail(r, "unknown section type %u", t);
	if (len > MMR_SNAP_MAX_SECTION)
		return mmr_snap_fail(r, "section of %u bytes (the limit is %u)", len,
				     MMR_SNAP_MAX_SECTION);
	if (len > r->size - r->off)
		return mmr_snap_fail(r, "truncated: section of %u bytes, %llu left", len,
				     (unsigned long long)(r->size - r->off));
	if (len > r->cap) {
		size_t cap = r->cap ? r->cap : 64 * 1024;
		while (cap < len)
			cap *= 2;
		unsigned char *b = realloc(r->buf, cap);
		if (b == NULL)
			return mmr_snap_fail(r, "out of memory");
		r->buf = b;
		r->cap = cap;
	}
	if (rread(r, r->buf, len, "a section") != 0)
		return -1;
	if (mmr_crc32c(0, r->buf, len) != rd32(h + 8))
		return mmr_snap_fail(r, "section checksum mismatch (corrupt file)");
	r->type = t;
	r->len = len;
	r->pos = 0;
	r->sections++;
	*type = t;
	return 0;
}

size_t mmr_snap_left(const mmr_snap_reader *r)
{
	return r->len - r->pos;
}

/* Parses the prefix of the current GLOBAL chunk. */
static int chunk_prefix(mmr_snap_reader *r, char *name, size_t size, uint32_t *version,
			uint32_t *seq, bool *last)
{
	bool g = r->global;
	r->global = false; /* the prefix is read from this chunk only */
	uint8_t l;
	bool ok = mmr_snap_get_str(r, name, size) == 0 && mmr_snap_get_u32(r, version) == 0 &&
		  mmr_snap_get_u32(r, seq) == 0 && mmr_snap_get_u8(r, &l) == 0;
	r->global = g;
	if (!ok)
		return -1;
	if (l > 1 || name[0] == '\0')
		return mmr_snap_fail(r, "malformed detector section");
	*last = l == 1;
	return 0;
}

static int next_chunk(mmr_snap_reader *r)
{
	uint32_t type, version, seq;
	char name[256];
	bool last;
	if (mmr_snap_next(r, &type) != 0)
		return -1;
	if (type != MMR_SEC_GLOBAL)
		return mmr_snap_fail(r, "state of detector %s is cut short", r->gname);
	if (chunk_prefix(r, name, sizeof(name), &version, &seq, &last) != 0)
		return -1;
	if (strcmp(name, r->gname) != 0 || version != r->gversion || seq != r->gseq + 1)
		return mmr_snap_fail(r, "state of detector %s is out of sequence", r->gname);
	r->gseq = seq;
	r->glast = last;
	return 0;
}

int mmr_snap_get(mmr_snap_reader *r, void *p, size_t n)
{
	unsigned char *b = p;
	if (r->failed)
		return -1;
	while (n > 0) {
		size_t avail = r->len - r->pos;
		if (avail == 0) {
			if (!r->global || r->glast)
				return mmr_snap_fail(r, r->global ? "state of detector %s ends early"
								  : "section ends early%.0s",
						     r->gname);
			if (next_chunk(r) != 0)
				return -1;
			continue;
		}
		size_t take = n < avail ? n : avail;
		memcpy(b, r->buf + r->pos, take);
		r->pos += take;
		b += take;
		n -= take;
	}
	return 0;
}

int mmr_snap_get_u8(mmr_snap_reader *r, uint8_t *v)
{
	return mmr_snap_get(r, v, 1);
}

int mmr_snap_get_u16(mmr_snap_reader *r, uint16_t *v)
{
	unsigned char b[2];
	if (mmr_snap_get(r, b, 2) != 0)
		return -1;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return 0;
}

int mmr_snap_get_u32(mmr_snap_reader *r, uint32_t *v)
{
	unsigned char b[4];
	if (mmr_snap_get(r, b, 4) != 0)
		return -1;
	*v = rd32(b);
	return 0;
}

int mmr_snap_get_u64(mmr_snap_reader *r, uint64_t *v)
{
	unsigned char b[8];
	if (mmr_snap_get(r, b, 8) != 0)
		return -1;
	*v = rd64(b);
	return 0;
}

int mmr_snap_get_i64(mmr_snap_reader *r, int64_t *v)
{
	uint64_t u;
	if (mmr_snap_get_u64(r, &u) != 0)
		return -1;
	*v = (int64_t)u;
	return 0;
}

int mmr_snap_get_str(mmr_snap_reader *r, char *buf, size_t size)
{
	uint8_t n;
	if (mmr_snap_get_u8(r, &n) != 0)
		return -1;
	if (n >= size)
		return mmr_snap_fail(r, "name of %u bytes (at most %zu)", n, size - 1);
	if (mmr_snap_get(r, buf, n) != 0)
		return -1;
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL)
		return mmr_snap_fail(r, "malformed name");
	return 0;
}

int mmr_snap_skip(mmr_snap_reader *r, size_t n)
{
	if (r->failed)
		return -1;
	if (!r->global && n > r->len - r->pos)
		return mmr_snap_fail(r, "section ends early");
	while (n > 0) {
		unsigned char b[256];
		size_t k = n < sizeof(b) ? n : sizeof(b);
		if (mmr_snap_get(r, b, k) != 0)
			return -1;
		n -= k;
	}
	return 0;
}

int mmr_snap_global_open(mmr_snap_reader *r, char *name, size_t size, uint32_t *version)
{
	uint32_t seq;
	bool last;
	if (r->type != MMR_SEC_GLOBAL)
		return mmr_snap_fail(r, "not a detector section");
	if (chunk_prefix(r, name, size, version, &seq, &last) != 0)
		return -1;
	if (seq != 0)
		return mmr_snap_fail(r, "state of detector %s starts in the middle", name);
	snprintf(r->gname, sizeof(r->gname), "%s", name);
	r->gversion = *version;
	r->gseq = 0;
	r->glast = last;
	r->global = true;
	return 0;
}

int mmr_snap_global_close(mmr_snap_reader *r)
{
	if (r->failed)
		return -1;
	r->global = false;
	if (r->pos != r->len || !r->glast)
		return mmr_snap_fail(r, "detector %s left part of its saved state unread",
				     r->gname);
	return 0;
}

int mmr_snap_global_skip(mmr_snap_reader *r)
{
	while (!r->failed) {
		r->pos = r->len;
		if (r->glast) {
			r->global = false;
			return 0;
		}
		if (next_chunk(r) != 0)
			return -1;
	}
	return -1;
}

int mmr_snap_get_table(mmr_snap_reader *r, mmr_lru_table *t, mmr_snap_entry_fn pseudo,
		       mmr_snap_repair_fn repair)
{
	uint64_t seed;
	uint32_t stripes, vs;
	if (mmr_snap_get_u64(r, &seed) != 0 || mmr_snap_get_u32(r, &stripes) != 0 ||
	    mmr_snap_get_u32(r, &vs) != 0)
		return -1;
	if (vs != mmr_lru_value_size(t))
		return MMR_SNAP_INCOMPATIBLE;
	if (stripes == mmr_lru_stripes(t))
		mmr_lru_set_seed(t, seed);
	if (r->keybuf == NULL && (r->keybuf = malloc(UINT16_MAX + 1)) == NULL)
		return mmr_snap_fail(r, "out of memory");
	unsigned char *value = malloc(vs ? vs : 1);
	if (value == NULL)
		return mmr_snap_fail(r, "out of memory");
	const mmr_snap_pseudo ps = {.key = r->key, .load = true};
	int rc = 0;
	for (;;) {
		uint8_t flags;
		uint16_t kl;
		if ((rc = mmr_snap_get_u8(r, &flags)) != 0 || flags == TABLE_END)
			break;
		if (flags > 1) {
			rc = mmr_snap_fail(r, "malformed table entry of detector %s", r->gname);
			break;
		}
		if ((rc = mmr_snap_get_u16(r, &kl)) != 0 || (rc = mmr_snap_get(r, r->keybuf, kl)) != 0 ||
		    (rc = mmr_snap_get(r, value, vs)) != 0)
			break;
		if (pseudo && r->pseudo)
			pseudo(value, &ps);
		if (repair)
			repair(value);
		if (mmr_lru_put(t, r->keybuf, kl, value, flags == 1) != 0) {
			rc = mmr_snap_fail(r, "out of memory");
			break;
		}
		r->entries++;
	}
	free(value);
	return rc;
}

int mmr_snap_finish(mmr_snap_reader *r, uint64_t *users, uint64_t *entries)
{
	uint32_t sections, crc;
	uint32_t before = r->crc_before, counted = r->sections - 1;
	if (r->type != MMR_SEC_END)
		return mmr_snap_fail(r, "not the end section");
	if (r->len != 24 || mmr_snap_get_u64(r, users) != 0 || mmr_snap_get_u64(r, entries) != 0 ||
	    mmr_snap_get_u32(r, &sections) != 0 || mmr_snap_get_u32(r, &crc) != 0)
		return mmr_snap_fail(r, "malformed end section");
	if (sections != counted)
		return mmr_snap_fail(r, "%u sections, the end section counts %u", counted, sections);
	if (crc != before)
		return mmr_snap_fail(r, "file checksum mismatch (sections missing or reordered)");
	if (r->off != r->size)
		return mmr_snap_fail(r, "%llu bytes after the end section",
				     (unsigned long long)(r->size - r->off));
	return 0;
}

uint64_t mmr_snap_entries_read(const mmr_snap_reader *r)
{
	return r->entries;
}

int mmr_snap_table_global_save(void *table, mmr_snap_writer *w, const mmr_snapshot_opts *o)
{
	(void)o;
	return mmr_snap_put_table(w, table, NULL);
}

int mmr_snap_table_global_load(void *table, mmr_snap_reader *r)
{
	return mmr_snap_get_table(r, table, NULL, NULL);
}

uint64_t mmr_snap_table_global_bytes(void *table)
{
	return mmr_lru_bytes(table);
}

uint64_t mmr_snap_file_size(const mmr_snap_reader *r)
{
	return r->size;
}
