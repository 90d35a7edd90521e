/* fuzz_snapshot: bytes of a state snapshot file (docs/state.md, mmriskscore/state.h) through
 * mmr_engine_restore().
 *
 * Input: the bytes of a snapshot file, written to a file in the harness's private directory
 * and restored without a pseudonym key: what the checksums catch. Every byte of a snapshot is
 * covered by a CRC-32C (docs/state.md), so almost every mutation stops there; the harness
 * therefore also recomputes the checksums of the input as the format lays them out (header,
 * each section, the END section's CRC of all bytes before it) and restores that version too,
 * without a key and with a fixed one: what the parsers behind the checksums do with any
 * bytes. The contract under test
 * (state.h): "Never crashes, whatever the bytes of the file"; a file that cannot be used gives
 * status -1, a reason, and a fresh engine. Checks beyond ASan/UBSan:
 *   - an engine is always returned (the configuration is valid), status is 0 or -1, a -1 has
 *     a reason, info.message is a NUL-terminated text;
 *   - what restores also saves (every resident user), and the saved file restores again
 *     (status 0) with the users and entries written: a restore may not build a state that
 *     cannot be written;
 *   - the restored engine then scores a few fixed events with valid results (the restored
 *     baselines are read by every detector).
 * MMR_FUZZ_SNAPSHOT_RESAVE=0 in the environment skips the save/restore round trip (to keep
 * fuzzing the restore path while a known save bug is open; fuzz/regressions/README.md).
 * Seeds: scripts/fuzz.sh generates snapshots of engines fed with simulator logs
 * (fuzz/make_snapshot_seeds.c) into build-fuzz/seeds/fuzz_snapshot.
 */
#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmriskscore/engine.h"
#include "mmriskscore/event.h"
#include "mmriskscore/state.h"

#include "fuzz_common.h"
#include "snapshot_config.h"
#include "state/snapshot.h" /* mmr_crc32c, the section types */

static char in_path[512], out_path[512];
static mmr_config cfg;
static const uint8_t key[16] = FUZZ_SNAPSHOT_KEY;
static bool resave = true;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(in_path, sizeof(in_path), "%s/in.snap", fuzz_tmpdir());
	snprintf(out_path, sizeof(out_path), "%s/out.snap", fuzz_tmpdir());
	fuzz_snapshot_config(&cfg);
	const char *r = getenv("MMR_FUZZ_SNAPSHOT_RESAVE");
	resave = !(r && strcmp(r, "0") == 0);
	return 0;
}

static void check_info(const mmr_snapshot_info *info, const char *what)
{
	fuzz_check_cstr(info->message, sizeof(info->message), what);
}

static void score_fixed(mmr_engine *e)
{
	static const char *users[] = {"alice", "bob", "vali", "sshah"};
	static const char *ips[] = {"198.51.100.23", "203.0.113.66", "198.18.15.99", "2001:db8::1"};
	for (int i = 0; i < 8; i++) {
		mmr_event ev;
		mmr_event_init(&ev);
		ev.action = i % 3 == 0 ? MMR_ACTION_AUTH : i % 3 == 1 ? MMR_ACTION_VPN_END
								      : MMR_ACTION_MFA;
		ev.outcome = i % 4 == 3 ? MMR_OUTCOME_FAILURE : MMR_OUTCOME_SUCCESS;
		snprintf(ev.user, sizeof(ev.user), "%s", users[i % 4]);
		(void)mmr_ip_parse(ips[(i / 2) % 4], &ev.src_ip);
		ev.time = FUZZ_SNAPSHOT_TIME + i * 3600;
		ev.time_from_log = true;
		ev.bytes_in = i % 3 == 1 ? 100000000 : -1;
		ev.duration = i % 3 == 1 ? 7200 : -1;
		snprintf(ev.device, sizeof(ev.device), "dev-%d", i % 2);
		mmr_result r;
		if (mmr_engine_process(e, &ev, &r) != 0)
			continue;
		if (r.score < 0 || r.score > 100 || r.user_score < 0 || r.user_score > 100)
			FUZZ_FAIL("after restore: score %d, user_score %d", r.score, r.user_score);
		struct json_object *j = mmr_result_to_json(&r);
		fuzz_check_json(j, "mmr_result_to_json after restore");
		json_object_put(j);
	}
}

static void resave_check(mmr_engine *e, const mmr_snapshot_opts *opts,
			 const mmr_snapshot_info *info, const char *label);

static void restore_one(const mmr_snapshot_opts *opts, const char *label)
{
	int status = 99;
	mmr_snapshot_info info;
	memset(&info, 0, sizeof(info));
	char err[1024] = "";
	mmr_engine *e = mmr_engine_restore(&cfg, in_path, opts, &status, &info, err, sizeof(err));
	if (e == NULL)
		FUZZ_FAIL("%s: mmr_engine_restore returned no engine: %s", label, err);
	fuzz_check_cstr(err, sizeof(err), "restore error");
	check_info(&info, "restore info.message");
	if (status == -1) {
		if (err[0] == '\0')
			FUZZ_FAIL("%s: status -1 without a reason", label);
		mmr_engine_free(e);
		return;
	}
	if (status != 0)
		FUZZ_FAIL("%s: status %d for an existing file", label, status);

	(void)mmr_engine_state_bytes(e);
	if (resave)
		resave_check(e, opts, &info, label);
	score_fixed(e);
	mmr_stats st;
	mmr_engine_stats(e, &st);
	mmr_engine_free(e);
}

/* What restored must save, and restore again to the same: the save writes every user the
 * engine holds (after restore: the restored users the caps kept; state.maxusers is split over
 * the table's stripes, so a small cap may drop some even below its total), and restoring that
 * file gives those users and entries back. */
static void resave_check(mmr_engine *e, const mmr_snapshot_opts *opts,
			 const mmr_snapshot_info *info, const char *label)
{
	char err[1024] = "";
	mmr_stats st;
	mmr_engine_stats(e, &st);
	if (st.users > info->users)
		FUZZ_FAIL("%s: %llu users resident after restoring %llu", label,
			  (unsigned long long)st.users, (unsigned long long)info->users);
	mmr_snapshot_info sinfo;
	memset(&sinfo, 0, sizeof(sinfo));
	if (mmr_engine_save(e, out_path, opts, &sinfo, err, sizeof(err)) != 0)
		FUZZ_FAIL("%s: a restored engine cannot be saved: %s", label, err);
	if (sinfo.users != st.users)
		FUZZ_FAIL("%s: %llu users resident, %llu saved", label, (unsigned long long)st.users,
			  (unsigned long long)sinfo.users);
	int status2 = 99;
	mmr_snapshot_info info2;
	memset(&info2, 0, sizeof(info2));
	mmr_engine *e2 =
		mmr_engine_restore(&cfg, out_path, opts, &status2, &info2, err, sizeof(err));
	if (e2 == NULL || status2 != 0)
		FUZZ_FAIL("%s: the re-saved snapshot does not restore (status %d): %s", label,
			  status2, err);
	if (info2.users != sinfo.users || info2.entries != sinfo.entries)
		FUZZ_FAIL("%s: saved %llu users / %llu entries, restored %llu / %llu", label,
			  (unsigned long long)sinfo.users, (unsigned long long)sinfo.entries,
			  (unsigned long long)info2.users, (unsigned long long)info2.entries);
	mmr_engine_free(e2);
	unlink(out_path);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Recomputes every checksum of a snapshot laid out as docs/state.md says; stops at the first
 * section whose length runs past the end. */
static void fix_checksums(uint8_t *b, size_t n)
{
	if (n < MMR_SNAP_HEADER_SIZE)
		return;
	wr32(b + 40, mmr_crc32c(0, b, 40));
	size_t off = MMR_SNAP_HEADER_SIZE;
	while (n - off >= 12) {
		uint32_t type = rd32(b + off), len = rd32(b + off + 4);
		if (len > n - off - 12)
			break;
		if (type == MMR_SEC_END && len >= 24)
			wr32(b + off + 12 + 20, mmr_crc32c(0, b, off));
		wr32(b + off + 8, mmr_crc32c(0, b + off + 12, len));
		off += 12 + (size_t)len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8 << 20)
		return 0;
	fuzz_write_file(in_path, data, size);
	restore_one(NULL, "as is, no key");

	uint8_t *fixed = malloc(size ? size : 1);
	if (fixed == NULL)
		abort();
	memcpy(fixed, data, size);
	fix_checksums(fixed, size);
	fuzz_write_file(in_path, fixed, size);
	free(fixed);
	restore_one(NULL, "checksums fixed, no key");
	mmr_snapshot_opts keyed = {.pseudonym_key = key};
	restore_one(&keyed, "checksums fixed, pseudonym key");
	return 0;
}
