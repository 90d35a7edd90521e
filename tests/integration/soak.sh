#!/bin/bash
# Sustained load (issue 9): for MMRISK_SOAK_SECONDS (default 40; scripts/soak.sh runs it for
# as long as asked) four worker threads score a stream that never lets up: a simulated
# company's identity and VPN logs interleaved with a flood of sign-ins by names and addresses
# never seen before (so the user and IP tables stay at their caps and evict all the time),
# while rsyslogd gets a HUP every 2 s (once the previous reload is logged; rulebase, mappings,
# roster, lists, GeoIP reloaded; the watch list rewritten in between) and writes a snapshot
# every 2 s. Checks:
#   - every message sent comes out exactly once (in = out), none failed, all scored or counted;
#   - the users gauge never exceeds state.maxusers, and evictions are counted (users and
#     cross-user entries; state.maxips caps each cross-user table, the ips gauge sums them);
#   - resident memory (VmRSS, sampled twice a second) stops growing once the caps are reached:
#     the highest RSS of the last half of the run exceeds that of the first half (after the
#     caps were reached) by less than MMRISK_SOAK_RSS_SLACK_MB (default 24 MB; the
#     allocator's arenas settle over the first minutes);
#   - every HUP and every snapshot succeeded; no error or warning in rsyslogd's internal log.
# It prints one line of figures (messages, rate, HUPs, snapshots, evictions, RSS).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
command -v jq >/dev/null || mmr_skip "jq is not installed"
seconds=${MMRISK_SOAK_SECONDS:-40}
slack_mb=${MMRISK_SOAK_RSS_SLACK_MB:-24}
maxusers=${MMRISK_SOAK_MAXUSERS:-4000}
maxips=${MMRISK_SOAK_MAXIPS:-4000}
mmr_simulate 9 120 7
sim=$MMR_WORK/sim
export TZ=UTC
mmr_live_parsers
rb=$MMR_WORK/live.rulebase
lists=$MMR_WORK/lists
cp -r "$sim/lists" "$lists"
out=$MMR_WORK/out.txt
stats=$MMR_WORK/stats.log
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
template(name="score_only" type="string" string="%\$!risk!user_score%\n")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="4"
	queue.size="5000" queue.timeoutEnqueue="600000") {
	action(type="mmriskscore" rulebase="$rb" mappings="$MMR_WORK/mappings"
	       roster="$sim/roster.csv" lists.dir="$lists"
	       geoip.city="$sim/geoip-city.mmdb" geoip.asn="$sim/geoip-asn.mmdb"
	       state.maxusers="$maxusers" state.maxips="$maxips"
	       statefile="$MMR_WORK/risk.state" statefile.interval="2")
	action(type="omfile" file="$out" template="score_only")
}
EOF

grep -v '^$' "$sim/logs.syslog" >"$MMR_WORK/stream.log"
split -l 2000 -d -a 4 "$MMR_WORK/stream.log" "$MMR_WORK/chunk."
nchunks=$(ls "$MMR_WORK"/chunk.* | wc -l)

last_stats() { sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -c 'select(.name == "mmriskscore")' 2>/dev/null | tail -n 1; }

mmr_start "$MMR_CONF" 60
sender= sampler=
trap 'rc=$?; for p in $sender $sampler; do kill "$p" 2>/dev/null; done; (exit $rc); mmr_cleanup' EXIT

# RSS in kB with the time and the users gauge, twice a second
(
	while kill -0 "$MMR_PID" 2>/dev/null; do
		printf '%s %s\n' "$SECONDS" "$(awk '/^VmRSS:/ { print $2 }' "/proc/$MMR_PID/status" 2>/dev/null)"
		sleep 0.5
	done
) >"$MMR_WORK/rss.log" &
sampler=$!

# the sender: a chunk of the simulator's logs, then 2,000 sign-ins by names and addresses
# never used before (successes and failures), round and round until the time is up
(
	exec 3<>"/dev/tcp/127.0.0.1/$MMR_PORT" || exit 1
	sent=0 round=0
	while [ ! -e "$MMR_WORK/stop" ]; do
		for f in "$MMR_WORK"/chunk.*; do
			cat "$f" >&3 || exit 1
			sent=$((sent + $(wc -l <"$f")))
			awk -v r="$round" -v n=2000 'BEGIN { for (i = 0; i < n; i++) {
				k = r * n + i
				printf "<38>Nov 26 %02d:%02d:%02d vpn-edge sshd[%d]: %s for soak%dx%d from 100.%d.%d.%d port %d ssh2\n",
					int(k / 3600) % 24, int(k / 60) % 60, k % 60, k % 32768,
					(i % 3 ? "Accepted password" : "Failed password"), r, i,
					64 + int(k / 65536) % 64, int(k / 256) % 256, k % 256, 1024 + k % 60000 } }' >&3 || exit 1
			sent=$((sent + 2000))
			round=$((round + 1))
			[ -e "$MMR_WORK/stop" ] && break
		done
	done
	echo "$sent" >"$MMR_WORK/sent"
) &
sender=$!

count() { grep -Ec -- "$1" "$MMR_WORK/internal.log" 2>/dev/null; }
ctx_re="mmriskscore: HUP: GeoIP city loaded"
hups=0
t0=$SECONDS
while ((SECONDS - t0 < seconds)); do
	sleep 2
	kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "rsyslogd died after $hups HUPs"
	kill -0 "$sender" 2>/dev/null || mmr_fail "the sender stopped early"
	if ((hups % 2)); then
		printf '# watch list, HUP %d\nKP\nIR\n' "$hups" >"$lists/watch-countries.txt.new"
	else
		printf '# watch list, HUP %d\nKP\n' "$hups" >"$lists/watch-countries.txt.new"
	fi
	mv -f "$lists/watch-countries.txt.new" "$lists/watch-countries.txt"
	kill -HUP "$MMR_PID" || mmr_fail "kill -HUP failed"
	hups=$((hups + 1))
	# signals that arrive while a reload runs merge into one: on a busy machine a reload can
	# take longer than 2 s, so the next HUP waits for this one to be logged
	for ((i = 0; i < 600; i++)); do
		[ "$(count "$ctx_re")" -ge "$hups" ] && break
		kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "rsyslogd died during HUP $hups"
		sleep 0.05
	done
	[ "$(count "$ctx_re")" -ge "$hups" ] || mmr_fail "HUP $hups: the context reload was not logged within 30 s"
done
: >"$MMR_WORK/stop"
wait "$sender" || mmr_fail "the sender failed"
sender=
run_secs=$((SECONDS - t0))
total=$(cat "$MMR_WORK/sent")
mmr_wait_lines "$out" "$total" 300
for ((i = 0; i < 100; i++)); do
	s=$(last_stats)
	[ -n "$s" ] && [ "$(jq .submitted <<<"$s")" -ge "$total" ] &&
		[ "$(jq '."context.reloads"' <<<"$s")" -ge "$hups" ] && break
	sleep 0.2
done
[ "$(count "$ctx_re")" -ge "$hups" ] || mmr_fail "expected $hups context reloads logged, saw $(count "$ctx_re")"
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
sampler=
mmr_stop 120
mmr_assert_eq "rsyslogd exit status" 0 "$MMR_RC"
mmr_assert_eq "lines out for $total in" "$total" "$(mmr_lines "$out")"
mmr_assert_eq "impstats submitted failed rulebase.reload_failed context.reload_failed snapshot.failed" \
	"$total 0 0 0 0" \
	"$(jq -r '"\(.submitted) \(.failed) \(."rulebase.reload_failed") \(."context.reload_failed") \(."snapshot.failed")"' <<<"${s:-{\}}")"
all=$(sed -n 's/^[^{]*{/{/p' "$stats" | jq -s -c '[.[] | select(.name == "mmriskscore")]')
max_users=$(jq '[.[].users] | max' <<<"$all")
max_ips=$(jq '[.[].ips] | max' <<<"$all")
[ "$max_users" -le "$maxusers" ] || mmr_fail "impstats users reached $max_users, above state.maxusers=$maxusers"
evicted=$(jq '."users.evicted"' <<<"$s")
ips_evicted=$(jq '."ips.evicted"' <<<"$s")
[ "$evicted" -gt 0 ] || mmr_fail "expected user evictions at state.maxusers=$maxusers, impstats says $evicted"
snaps=$(jq .snapshots <<<"$s")
[ "$snaps" -ge $((run_secs / 4)) ] || mmr_fail "expected a snapshot about every 2 s, impstats says $snaps in ${run_secs}s"
bad=$(grep -E '^[^ ]+ (emerg|alert|crit|err|warning) ' "$MMR_WORK/internal.log")
[ -z "$bad" ] || mmr_fail "expected no error or warning in the internal log, saw:
$(head -n 5 <<<"$bad" | cut -c1-300)"

# RSS after the caps were reached: the first time the users gauge reached 95 % of the cap
warm_t=$(jq -r --argjson cap "$maxusers" 'to_entries | map(select(.value.users >= $cap * 0.95)) | .[0].key // empty' <<<"$all")
[ -n "$warm_t" ] || mmr_fail "the user table never filled to its cap ($maxusers) during ${run_secs}s: the soak proves nothing about memory"
# impstats lines are one a second from the start: the index is about the second of the run
start_t=$(head -n 1 "$MMR_WORK/rss.log" | cut -d' ' -f1)
read -r rss_before first_half second_half rss_end < <(awk -v w=$((start_t + warm_t)) -v end=$((start_t + run_secs)) '
	NR == 1 { before = $2 }
	$1 >= w && $1 <= end { n++; t[n] = $1; r[n] = $2 }
	END { mid = (w + end) / 2
	      for (i = 1; i <= n; i++) { if (t[i] < mid) { if (r[i] > a) a = r[i] } else if (r[i] > b) b = r[i] }
	      print before, a + 0, b + 0, r[n] + 0 }' "$MMR_WORK/rss.log")
[ "$first_half" -gt 0 ] && [ "$second_half" -gt 0 ] ||
	mmr_fail "too few RSS samples after the caps were reached (run ${run_secs}s, caps reached at ~${warm_t}s): raise MMRISK_SOAK_SECONDS"
growth_mb=$(((second_half - first_half) / 1024))
figures="$total messages in ${run_secs}s ($((total / (run_secs > 0 ? run_secs : 1))) /s sent) with 4 workers, $hups HUPs, $snaps snapshots, users <= $max_users (cap $maxusers), cross-user entries <= $max_ips (each table capped at $maxips), $evicted users and $ips_evicted entries evicted; VmRSS start $((rss_before / 1024)) MB, caps reached after ~${warm_t}s, max $((first_half / 1024)) MB in the first half after that, $((second_half / 1024)) MB in the second, $((rss_end / 1024)) MB at the end"
mmr_log "$figures"
[ "$growth_mb" -lt "$slack_mb" ] ||
	mmr_fail "resident memory kept growing after the caps were reached: +$growth_mb MB between the halves (allowed $slack_mb MB). $figures"
mmr_pass "$figures: in = out, caps held, every HUP and snapshot succeeded, RSS flat (+$growth_mb MB)"
