#!/bin/bash
# The module's scale-out modes in the real rsyslogd (docs/configuration.md, "Scale-out"):
#   1. mode="route": an identity line gets $!route!shard and $!route!user, nothing else (no
#      $!risk, no $!event, no state); "foobar" lands in shard 232 and "a" in shard 140 of
#      256 (the published FNV-1a 64 vectors 85944171f73967e8 and af63dc4c8601ec8c, mod 256),
#      "FooBar@corp.example" in foobar's (the canonical user); with shards=1000 "foobar" is in
#      shard 85944171f73967e8 mod 1000 = 968; lines that are not identity events pass
#      unchanged; impstats counts routed.
#   2. mode="score" with statedir and shards.owned="232": foobar is scored; "a" (shard 140)
#      is not (message unchanged) and counted in misrouted; the stop writes shard-232.mmrs
#      and global.mmrs only (0600).
#   3. shard-140's file made by a scorer that owns it, copied into the first directory: a
#      restart owning "140,232" restores both users (log), a restart owning "232" ignores the
#      file and names it, a corrupt shard file is moved aside and the others load.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
stats=$MMR_WORK/stats.log
ts="Mar 16 09:00:00"
in=$MMR_WORK/in.log
{
	printf '<38>%s bastion1 sshd[1]: Accepted password for foobar from 198.51.100.7 port 22 ssh2\n' "$ts"
	printf '<38>%s bastion1 sshd[2]: Accepted password for a from 198.51.100.8 port 22 ssh2\n' "$ts"
	printf '<38>%s bastion1 sshd[3]: Accepted password for FooBar@corp.example from 198.51.100.9 port 22 ssh2\n' "$ts"
	printf '<13>%s host1 app[4]: nothing to see here\n' "$ts"
} >"$in"

# conf NAME ACTION-PARAMS
conf() {
	mmr_write_conf "$MMR_WORK/$1.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="1") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" $2)
	action(type="omfile" file="$MMR_WORK/$1.json" template="mmr_json")
}
EOF
}
run() {
	rm -f "$stats"
	conf "$1" "$2"
	mmr_start "$MMR_WORK/$1.conf"
	mmr_send "$in"
	mmr_wait_lines "$MMR_WORK/$1.json" 4
	# the counters: the impstats record that has seen every message
	for ((i = 0; i < 50; i++)); do
		s=$(sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -c 'select(.name == "mmriskscore")' 2>/dev/null | tail -n 1)
		[ -n "$s" ] && [ "$(jq .submitted <<<"$s")" -ge 4 ] && break
		sleep 0.1
	done
	mmr_stop
	mmr_assert_eq "$1: rsyslogd exit status" 0 "$MMR_RC"
}
out=$MMR_WORK

# ---- 1. route
run route 'mode="route"'
mmr_check_all "route: foobar in shard 232 of 256" '.msg | test("for foobar ")' \
	'.vars == {route: {shard: 232, user: "foobar"}}' "$out/route.json" 1
mmr_check_all "route: a in shard 140 of 256" '.msg | test("for a ")' \
	'.vars == {route: {shard: 140, user: "a"}}' "$out/route.json" 1
mmr_check_all "route: FooBar@corp.example is foobar, shard 232" '.msg | test("FooBar@")' \
	'.vars == {route: {shard: 232, user: "foobar"}}' "$out/route.json" 1
mmr_check_all "route: a line that is not an identity event passes unchanged" \
	'.msg | test("nothing to see")' '.vars == {}' "$out/route.json" 1
mmr_assert_eq "route: impstats routed" 3 "$(jq .routed <<<"$s")"
mmr_assert_eq "route: impstats scored" 0 "$(jq .scored <<<"$s")"
run route1000 'mode="route" shards="1000" container="$!r"'
mmr_check_all "route: foobar in shard 968 of 1000, under container \$!r" '.msg | test("for foobar ")' \
	'.vars == {r: {shard: 968, user: "foobar"}}' "$out/route1000.json" 1

# ---- 2. score with statedir, owning shard 232 only
sd=$MMR_WORK/scorer1
mkdir -p "$sd"
run owned "statedir=\"$sd\" shards.owned=\"232\""
mmr_check_all "owned: foobar (shard 232) scored" '.msg | test("oobar"; "i")' '.vars.risk.user == "foobar"' "$out/owned.json" 2
mmr_check_all "owned: a (shard 140) not scored, unchanged" '.msg | test("for a ")' '.vars == {}' "$out/owned.json" 1
mmr_assert_eq "owned: impstats misrouted" 1 "$(jq .misrouted <<<"$s")"
mmr_assert_eq "owned: impstats scored" 2 "$(jq .scored <<<"$s")"
mmr_assert_eq "owned: files in the state directory" "global.mmrs shard-232.mmrs" "$(ls "$sd" | tr '\n' ' ' | sed 's/ $//')"
mmr_assert_eq "owned: shard file mode" 600 "$(stat -c %a "$sd/shard-232.mmrs")"

# ---- 3. a scorer owning shard 140 makes its file; it is copied into scorer1's directory
sd2=$MMR_WORK/scorer2
mkdir -p "$sd2"
run other "statedir=\"$sd2\" shards.owned=\"140\""
[ -f "$sd2/shard-140.mmrs" ] || mmr_fail "scorer2 wrote no shard-140.mmrs: $(ls "$sd2")"
cp "$sd2/shard-140.mmrs" "$sd/"
: >"$MMR_WORK/internal.log"
run adopt "statedir=\"$sd\" shards.owned=\"140,232\""
grep -q "restored 2 users and .* from 3 files in $sd" "$MMR_WORK/internal.log" ||
	mmr_fail "adopt: expected 'restored 2 users ... from 3 files' in the log: $(grep -i restored "$MMR_WORK/internal.log")"
mmr_assert_eq "adopt: impstats misrouted" 0 "$(jq .misrouted <<<"$s")"
: >"$MMR_WORK/internal.log"
run ignore "statedir=\"$sd\" shards.owned=\"232\""
grep -q "ignored 1 files of shards not owned: shard-140.mmrs" "$MMR_WORK/internal.log" ||
	mmr_fail "ignore: expected the log to name shard-140.mmrs as not owned: $(grep -i restored "$MMR_WORK/internal.log")"
[ -f "$sd/shard-140.mmrs" ] || mmr_fail "ignore: the file of a shard not owned was removed"
: >"$MMR_WORK/internal.log"
printf 'garbage' | dd of="$sd/shard-232.mmrs" bs=1 seek=100 conv=notrunc 2>/dev/null
run corrupt "statedir=\"$sd\" shards.owned=\"140,232\""
grep -q "shard-232.mmrs' cannot be used: .*checksum.*moved aside" "$MMR_WORK/internal.log" ||
	mmr_fail "corrupt: expected an error naming shard-232.mmrs, moved aside: $(cat "$MMR_WORK/internal.log")"
grep -q "restored 1 users" "$MMR_WORK/internal.log" ||
	mmr_fail "corrupt: expected the other shard (1 user) restored: $(grep -i restored "$MMR_WORK/internal.log")"
ls "$sd"/shard-232.mmrs.corrupt-* >/dev/null 2>&1 || mmr_fail "corrupt: no shard-232.mmrs.corrupt-* in $sd"
mmr_pass "route mode names shards by the published FNV-1a vectors; shards.owned counts misrouted events; shard files are written, adopted, ignored and moved aside as documented"
