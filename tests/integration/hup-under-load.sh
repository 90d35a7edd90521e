#!/bin/bash
# HUP under load: four worker threads score a continuous stream (a simulated company's logs,
# sent round and round until the last HUP is done, with its roster, lists and GeoIP
# databases, and a state file snapshotted every second) while rsyslogd gets 20 HUPs in a row, each reloading the rulebase, the
# mappings and the context (between HUPs the watch list and the roster are rewritten the way
# a deployment does: new file, rename). Checks:
#   - every message sent comes out exactly once (in = out);
#   - impstats: rulebase.reloads = context.reloads = 20, no reload failed, every message
#     submitted, snapshots written while the HUPs ran and none failed;
#   - no error and no warning in rsyslogd's internal log.
# With MMRISK_TSAN=1 (tests/integration/tsan.sh sets it, with MMRISK_MODULE built with
# -fsanitize=thread): rsyslogd runs with libtsan preloaded, a slower stream, and the test
# fails on any ThreadSanitizer report that has a frame in mmriskscore.so (rsyslogd and its
# libraries are not instrumented: their own reports are counted, not judged).
# MMRISK_HUPS sets the number of HUPs (default 20).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
mmr_simulate 5 60 5
sim=$MMR_WORK/sim
export TZ=UTC
mmr_live_parsers
rb=$MMR_WORK/live.rulebase
roster=$MMR_WORK/roster.csv
lists=$MMR_WORK/lists
cp "$sim/roster.csv" "$roster"
cp -r "$sim/lists" "$lists"
put() { # put FILE LINE...: replace FILE the way an editor or a deployment does
	printf '%s\n' "${@:2}" >"$1.new" && mv -f "$1.new" "$1" || mmr_fail "cannot write $1"
}

chunk=1600 pause=0.4 hups=${MMRISK_HUPS:-20}
tsan=${MMRISK_TSAN:-0}
if [ "$tsan" = 1 ]; then
	libtsan=$(gcc -print-file-name=libtsan.so 2>/dev/null)
	[ -f "$libtsan" ] || libtsan=$(ls /usr/lib/*/libtsan.so.* 2>/dev/null | head -n 1)
	[ -f "$libtsan" ] || mmr_skip "MMRISK_TSAN=1 but no libtsan found"
	# rsyslogd with the ThreadSanitizer runtime preloaded (the module links against it)
	cat >"$MMR_WORK/rsyslogd-tsan" <<EOF
#!/bin/sh
LD_PRELOAD=$libtsan TSAN_OPTIONS="log_path=$MMR_WORK/tsan halt_on_error=0 exitcode=0 history_size=4" exec $MMR_RSYSLOGD "\$@"
EOF
	chmod +x "$MMR_WORK/rsyslogd-tsan"
	MMR_RSYSLOGD=$MMR_WORK/rsyslogd-tsan
	chunk=1600 pause=0.8
fi

out=$MMR_WORK/out.txt
stats=$MMR_WORK/stats.log
corp=
while IFS= read -r item; do
	item=${item%%#*}
	item=${item//[[:space:]]/}
	[ -n "$item" ] && corp+=${corp:+,}\"$item\"
done <"$sim/lists/corporate-networks.txt"
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
template(name="score_only" type="string" string="%\$!risk!user%\t%\$!risk!user_score%\n")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="4"
	queue.workerThreadMinimumMessages="200" queue.size="2000" queue.timeoutEnqueue="600000") {
	action(type="mmriskscore" rulebase="$rb" mappings="$MMR_WORK/mappings"
	       corporatenetworks=[$corp] roster="$roster" lists.dir="$lists"
	       geoip.city="$sim/geoip-city.mmdb" geoip.asn="$sim/geoip-asn.mmdb"
	       statefile="$MMR_WORK/risk.state" statefile.interval="1")
	action(type="omfile" file="$out" template="score_only")
}
EOF

grep -v '^$' "$sim/logs.syslog" >"$MMR_WORK/stream.log"
split -l "$chunk" -d -a 4 "$MMR_WORK/stream.log" "$MMR_WORK/chunk."

mmr_start "$MMR_CONF" 60
if [ "$tsan" = 1 ]; then
	grep -q libtsan "/proc/$MMR_PID/maps" 2>/dev/null ||
		mmr_fail "MMRISK_TSAN=1, yet libtsan is not mapped into rsyslogd (pid $MMR_PID)"
fi
sender=
trap 'rc=$?; [ -n "$sender" ] && kill "$sender" 2>/dev/null; (exit $rc); mmr_cleanup' EXIT
# the sender goes round the chunks until the HUPs are done (at least once through), then
# says how many lines it sent
(
	exec 3<>"/dev/tcp/127.0.0.1/$MMR_PORT" || exit 1
	sent=0 round=0
	while :; do
		for f in "$MMR_WORK"/chunk.*; do
			cat "$f" >&3 || exit 1
			sent=$((sent + $(wc -l <"$f")))
			[ "$round" -gt 0 ] && [ -e "$MMR_WORK/hups-done" ] && break 2
			sleep "$pause"
		done
		round=$((round + 1))
		[ -e "$MMR_WORK/hups-done" ] && break
	done
	echo "$sent" >"$MMR_WORK/sent"
) &
sender=$!

count() { grep -Ec -- "$1" "$MMR_WORK/internal.log" 2>/dev/null; }
rb_re="mmriskscore: HUP: rulebase '$rb' reloaded"
ctx_re="mmriskscore: HUP: GeoIP city loaded"
t0=$SECONDS
for ((h = 1; h <= hups; h++)); do
	if ((h % 2)); then
		put "$lists/watch-countries.txt" "# watch list, HUP $h" KP IR
	else
		put "$lists/watch-countries.txt" "# watch list, HUP $h" KP
	fi
	cp "$sim/roster.csv" "$roster.new" && mv -f "$roster.new" "$roster"
	kill -HUP "$MMR_PID" || mmr_fail "kill -HUP failed"
	for ((i = 0; i < 300; i++)); do
		[ "$(count "$rb_re")" -ge "$h" ] && [ "$(count "$ctx_re")" -ge "$h" ] && break
		kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "rsyslogd died during HUP $h"
		sleep 0.05
	done
	[ "$(count "$rb_re")" -ge "$h" ] && [ "$(count "$ctx_re")" -ge "$h" ] ||
		mmr_fail "HUP $h: the rulebase and context reloads were not logged within 15 s"
done
hup_secs=$((SECONDS - t0))
: >"$MMR_WORK/hups-done"
wait "$sender" || mmr_fail "the sender failed"
sender=
total=$(cat "$MMR_WORK/sent")
mmr_wait_lines "$out" "$total" 120
for ((i = 0; i < 50; i++)); do
	s=$(sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -c 'select(.name == "mmriskscore")' 2>/dev/null | tail -n 1)
	[ -n "$s" ] && [ "$(jq .submitted <<<"$s")" -ge "$total" ] &&
		[ "$(jq '."context.reloads"' <<<"$s")" -ge "$hups" ] && break
	sleep 0.2
done
mmr_stop 120
mmr_assert_eq "rsyslogd exit status" 0 "$MMR_RC"
mmr_assert_eq "lines out for $total in" "$total" "$(mmr_lines "$out")"
mmr_assert_eq "impstats rulebase.reloads context.reloads rulebase.reload_failed context.reload_failed submitted snapshot.failed" \
	"$hups $hups 0 0 $total 0" \
	"$(jq -r '"\(."rulebase.reloads") \(."context.reloads") \(."rulebase.reload_failed") \(."context.reload_failed") \(.submitted) \(."snapshot.failed")"' <<<"${s:-{\}}")"
snaps=$(jq '.snapshots' <<<"$s")
[ "$snaps" -ge 1 ] || mmr_fail "expected snapshots while the HUPs ran, impstats says $snaps"
bad=$(grep -E '^[^ ]+ (emerg|alert|crit|err|warning) ' "$MMR_WORK/internal.log")
[ -z "$bad" ] || mmr_fail "expected no error or warning in the internal log, saw:
$(head -n 5 <<<"$bad" | cut -c1-300)"

extra=
if [ "$tsan" = 1 ]; then
	ours=0 theirs=0
	for f in "$MMR_WORK"/tsan.*; do
		[ -f "$f" ] || continue
		n=$(awk '/^WARNING: ThreadSanitizer/ { blk = "" } { blk = blk "\n" $0 }
			/^SUMMARY: ThreadSanitizer/ { if (blk ~ /mmriskscore\.so/) { n++; print blk > "/dev/stderr" } }
			END { print n + 0 }' "$f" 2>>"$MMR_WORK/tsan-ours.txt")
		ours=$((ours + n))
		theirs=$((theirs + $(grep -c '^WARNING: ThreadSanitizer' "$f")))
	done
	if [ "$ours" != 0 ]; then
		head -n 60 "$MMR_WORK/tsan-ours.txt" >&2
		mmr_fail "ThreadSanitizer: $ours report(s) with a frame in mmriskscore.so (first above)"
	fi
	extra="; ThreadSanitizer: no report in mmriskscore.so ($((theirs - ours)) in rsyslogd/libraries alone, not instrumented, not judged)"
fi
mmr_pass "$total messages with 4 workers, $hups HUPs in ${hup_secs}s while they flowed (rulebase, mappings, roster, lists, GeoIP), $snaps snapshots meanwhile: in = out, every reload logged and counted, no error or warning$extra"
