#!/bin/bash
# mmriskscore-replay scores exactly what rsyslogd + mmriskscore score.
#
# A small simulator run (contrib/simulator/mmrisk-simulate --users 60 --days 7), plus a few
# lines in the other shapes rsyslog accepts (RFC 5424 with fractions and an offset, no PRI,
# a tab, a hostless line, a year in front), goes
#   1. over TCP through a private rsyslogd (TZ=UTC, one worker thread, the module with the
#      context benchmark-detection passes: rulebase, mappings, corporatenetworks from the
#      simulator's lists/corporate-networks.txt, roster, lists.dir, geoip.city, geoip.asn),
#      written by omfile as one JSON object per message in the replay's own format:
#      {"time": %timereported:::date-rfc3339%, "host", "tag", "msg" (without the space after
#      the tag), "risk": $!risk, "event": $!event}, rendered by rsyslog (%$.out%);
#   2. through mmriskscore-replay with the same settings (TZ=UTC).
# Checks: the same number of lines in and out on both sides, the same number scored, every
# line byte-identical (so every "risk" and "event" object is), and, to say where a
# difference is when there is one, the risk and event objects compared line by line.
# Then: the replay of a gzip copy split into two files (time-merged) gives the same output,
# and rank/timeline/shared read the enriched output.
#
# Exit: 0 pass, 1 fail, 77 skip (rsyslogd, module, simulator or the tool missing).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

replay=${MMRISK_REPLAY:-$MMR_BUILDDIR/tools/mmriskscore-replay}
simulator=${MMRISK_SIMULATE:-$MMR_SRCDIR/contrib/simulator/mmrisk-simulate}
mappings=${MMRISK_MAPPINGS:-$MMR_SRCDIR/mappings}
[ -x "$replay" ] || mmr_skip "mmriskscore-replay not built: $replay"
[ -f "$simulator" ] || mmr_skip "simulator not found: $simulator"
mmr_init
mmr_need_rulebase
[ -f "$MMR_RULEBASE" ] || mmr_fail "no rulebase: $MMR_RULEBASE"

sim=$MMR_WORK/sim
geo=
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || geo=--no-geoip
perl "$simulator" --seed 1 --users 60 --days 7 --out "$sim" --quiet $geo ||
	mmr_fail "the simulator failed"
[ -n "$geo" ] && mmr_log "MaxMind::DB::Writer missing: no GeoIP databases in this run"

logs=$MMR_WORK/logs.syslog
cp "$sim/logs.syslog" "$logs"
# the other shapes rsyslog's parsers accept; rulebase matches or not, both sides must agree
{
	printf '<38>1 2026-10-03T09:15:02.123456+02:00 bastion-01 sshd 4242 - - Accepted publickey for rfc5424user from 198.18.77.7 port 50022 ssh2\n'
	printf '<38>1 2026-10-03T09:16:00Z bastion-01 sshd - - [meta x="1"] Failed password for rfc5424user from 198.18.77.7 port 50023 ssh2\n'
	printf 'Oct  3 09:20:00 bastion-01 sshd[77]: Accepted publickey for nopri from 198.18.77.8 port 50024 ssh2\n'
	printf '<38>Oct  3 09:21:00 bastion-01 sshd[78]: Accepted publickey for tabuser\tfrom 198.18.77.9 port 50025 ssh2\n'
	printf '<38>Oct  3 09:22:00 sshd[79]: Accepted publickey for hostless from 198.18.77.10 port 50026 ssh2\n'
	printf '<38>2026 Oct  3 09:24:00 bastion-01 sshd[81]: Accepted publickey for yearfirst from 198.18.77.12 port 50028 ssh2\n'
} >>"$logs"
sent=$(awk 'length($0) > 0 { n++ } END { print n + 0 }' "$logs")

# corporate networks as benchmark-detection passes them
corp=
corp_args=()
while IFS= read -r item; do
	item=${item%%#*}
	item=${item//[[:space:]]/}
	[ -n "$item" ] || continue
	corp+=${corp:+,}\"$item\"
	corp_args+=(--corporate "$item")
done <"$sim/lists/corporate-networks.txt"
ctx=(--roster "$sim/roster.csv" --lists-dir "$sim/lists")
ctx_rs="roster=\"$sim/roster.csv\" lists.dir=\"$sim/lists\""
if [ -f "$sim/geoip-city.mmdb" ]; then
	ctx+=(--geoip-city "$sim/geoip-city.mmdb" --geoip-asn "$sim/geoip-asn.mmdb")
	ctx_rs+=" geoip.city=\"$sim/geoip-city.mmdb\" geoip.asn=\"$sim/geoip-asn.mmdb\""
fi

# ---- 1. rsyslogd + the module
module_out=$MMR_WORK/module.json
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
template(name="rp_ts" type="string" string="%timereported:::date-rfc3339%")
template(name="rp_msg_rest" type="string" string="%msg:2:\$%")
template(name="rp_line" type="string" string="%\$.out%\n")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="1" queue.size="200000"
	queue.timeoutEnqueue="3600000") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" mappings="$mappings"
	       container="\$!risk" eventcontainer="\$!event"
	       corporatenetworks=[$corp] $ctx_rs)
	set \$.out!time = exec_template("rp_ts");
	set \$.out!host = \$hostname;
	set \$.out!tag = \$syslogtag;
	if substring(\$msg, 0, 1) == " " then {
		set \$.out!msg = exec_template("rp_msg_rest");
	} else {
		set \$.out!msg = \$msg;
	}
	if exists(\$!risk) then set \$.out!risk = \$!risk;
	if exists(\$!event) then set \$.out!event = \$!event;
	action(type="omfile" file="$module_out" template="rp_line")
}
EOF
# maxMessageSize is 64k in the common header: no simulator line is cut
export TZ=UTC
mmr_start "$MMR_WORK/r.conf"
t0=$(date +%s.%N)
mmr_send "$logs"
mmr_wait_lines "$module_out" "$sent" 300
t1=$(date +%s.%N)
sleep 0.5
mmr_stop
got=$(mmr_lines "$module_out")
mmr_assert_eq "rsyslogd wrote one line per message" "$sent" "$got"

# ---- 2. the replay
replay_out=$MMR_WORK/replay.json
t2=$(date +%s.%N)
"$replay" -r "$MMR_RULEBASE" -m "$mappings" "${corp_args[@]}" "${ctx[@]}" -o "$replay_out" \
	"$logs" 2>"$MMR_WORK/replay.err" || { cat "$MMR_WORK/replay.err" >&2; mmr_fail "mmriskscore-replay failed"; }
t3=$(date +%s.%N)
[ -s "$MMR_WORK/replay.err" ] && { cat "$MMR_WORK/replay.err" >&2; mmr_fail "mmriskscore-replay wrote to stderr though stderr is no terminal"; }
mmr_assert_eq "the replay wrote one line per input line" "$sent" "$(mmr_lines "$replay_out")"

scored_m=$(grep -c '"risk": {' "$module_out")
scored_r=$(grep -c '"risk": {' "$replay_out")
mmr_assert_eq "scored lines (replay vs module)" "$scored_m" "$scored_r"
identity=$(awk '$1 ~ /^lines\..*\.identity$/ { n += $2 } END { print n + 0 }' "$sim/summary.txt")
[ "$scored_m" -ge "$identity" ] ||
	mmr_fail "the module scored $scored_m lines, fewer than the $identity identity lines the simulator wrote"

# risk and event objects, line by line (jq -c keeps the members' order)
jq -c '[.risk, .event]' "$module_out" >"$MMR_WORK/module.re" || mmr_fail "module output is not JSON lines"
jq -c '[.risk, .event]' "$replay_out" >"$MMR_WORK/replay.re" || mmr_fail "replay output is not JSON lines"
if ! cmp -s "$MMR_WORK/module.re" "$MMR_WORK/replay.re"; then
	n=$(paste -d '\n' "$MMR_WORK/module.re" "$MMR_WORK/replay.re" | paste - - |
		awk -F'\t' '$1 != $2' | wc -l)
	first=$(cmp "$MMR_WORK/module.re" "$MMR_WORK/replay.re" | sed -n 's/.* line \([0-9]*\)$/\1/p')
	mmr_fail "risk/event differ on $n of $sent lines; first at line $first:
module: $(sed -n "${first}p" "$MMR_WORK/module.re" | cut -c1-600)
replay: $(sed -n "${first}p" "$MMR_WORK/replay.re" | cut -c1-600)"
fi
# the whole lines, byte for byte: time, host, tag, msg and the JSON rendering
if ! cmp -s "$module_out" "$replay_out"; then
	first=$(cmp "$module_out" "$replay_out" | sed -n 's/.* line \([0-9]*\)$/\1/p')
	mmr_fail "risk and event agree, but the lines differ; first at line $first:
module: $(sed -n "${first}p" "$module_out" | cut -c1-600)
replay: $(sed -n "${first}p" "$replay_out" | cut -c1-600)"
fi

# ---- 3. gzip, two files, time-merged: the same output
head -n 3000 "$sim/logs.syslog" | gzip -c >"$MMR_WORK/part1.gz"
tail -n +3001 "$sim/logs.syslog" >"$MMR_WORK/part2.log"
"$replay" -r "$MMR_RULEBASE" -m "$mappings" "${corp_args[@]}" "${ctx[@]}" \
	"$MMR_WORK/part2.log" "$MMR_WORK/part1.gz" >"$MMR_WORK/merged.json" ||
	mmr_fail "replay of part2.log + part1.gz failed"
"$replay" -r "$MMR_RULEBASE" -m "$mappings" "${corp_args[@]}" "${ctx[@]}" \
	"$sim/logs.syslog" >"$MMR_WORK/single.json" || mmr_fail "replay of logs.syslog failed"
# the simulator's file is in time order: the merge restores it (lines of equal time keep
# the order of the files on the command line, so compare as multisets, and the risk of
# each line in order of time)
cmp -s <(sort "$MMR_WORK/merged.json") <(sort "$MMR_WORK/single.json") ||
	mmr_fail "merging a gzip and a plain part gave other lines than the whole file"
order_bad=$(jq -r '.time' "$MMR_WORK/merged.json" | awk 'prev > $0 { n++ } { prev = $0 } END { print n + 0 }')
mmr_assert_eq "merged output is in time order" 0 "$order_bad"

# ---- 4. the analysis commands read enriched output (no rulebase needed)
"$replay" rank --top 5 --roster "$sim/roster.csv" "$replay_out" >"$MMR_WORK/rank.txt" ||
	mmr_fail "rank on enriched output failed"
farm=$(jq -r '.actors[] | select(.scenario == "laptop_farm") | .user' "$sim/truth.json" | head -n 1)
"$replay" timeline "$farm" --roster "$sim/roster.csv" "$replay_out" >"$MMR_WORK/timeline.txt" ||
	mmr_fail "timeline $farm failed"
grep -q "^SESSION 1 " "$MMR_WORK/timeline.txt" || mmr_fail "timeline $farm shows no session"
"$replay" shared --json "${corp_args[@]}" "$replay_out" >"$MMR_WORK/shared.json" ||
	mmr_fail "shared failed"
farm_ip=$(jq -r '[.actors[] | select(.scenario == "laptop_farm")][0].notes' "$sim/truth.json" |
	grep -oE 'IP [0-9.]+' | head -n 1 | cut -d' ' -f2)
if [ -n "$farm_ip" ]; then
	jq -e --arg ip "$farm_ip" 'any(.[]; .src_ip == $ip and .accounts >= 3)' "$MMR_WORK/shared.json" >/dev/null ||
		mmr_fail "shared does not list the farm's address $farm_ip with 3+ accounts"
fi
# replaying and reading the enriched output rank alike
"$replay" rank --json --top 0 -r "$MMR_RULEBASE" -m "$mappings" "${corp_args[@]}" "${ctx[@]}" \
	"$logs" >"$MMR_WORK/rank-replayed.json" || mmr_fail "rank (replaying) failed"
"$replay" rank --json --top 0 --roster "$sim/roster.csv" "$replay_out" >"$MMR_WORK/rank-read.json" ||
	mmr_fail "rank (reading) failed"
cmp -s "$MMR_WORK/rank-replayed.json" "$MMR_WORK/rank-read.json" ||
	mmr_fail "rank replaying the logs and rank reading the enriched output differ"

# ---- 5. onboarding: the replay warms up a state file, the module goes on from it
# (the first 4,000 lines replayed with --state-out; rsyslogd + the module with statefile= set
# to it score the rest; their output must equal the replay of the whole file, from line
# 4,001 on)
state_note=
if grep -q PLACEHOLDER "$MMR_SRCDIR/engine/engine_state.c" 2>/dev/null; then
	state_note="; onboarding not tested (engine_state.c is a placeholder)"
else
	head -n 4000 "$logs" >"$MMR_WORK/history.log"
	tail -n +4001 "$logs" >"$MMR_WORK/live.log"
	live=$(awk 'length($0) > 0 { n++ } END { print n + 0 }' "$MMR_WORK/live.log")
	"$replay" -r "$MMR_RULEBASE" -m "$mappings" "${corp_args[@]}" "${ctx[@]}" -o /dev/null \
		--state-out "$MMR_WORK/warm.state" "$MMR_WORK/history.log" ||
		mmr_fail "replay --state-out failed"
	[ -s "$MMR_WORK/warm.state" ] || mmr_fail "replay --state-out wrote no state file"
	cp "$MMR_WORK/warm.state" "$MMR_WORK/module.state"
	module_live=$MMR_WORK/module-live.json
	sed -e "s|corporatenetworks=\[|statefile=\"$MMR_WORK/module.state\" corporatenetworks=[|" \
		-e "s|$module_out|$module_live|" "$MMR_WORK/r.conf" >"$MMR_WORK/r2.conf"
	grep -q 'statefile=' "$MMR_WORK/r2.conf" || mmr_fail "could not add statefile= to the configuration"
	mmr_start "$MMR_WORK/r2.conf"
	mmr_send "$MMR_WORK/live.log"
	mmr_wait_lines "$module_live" "$live" 300
	sleep 0.5
	mmr_stop
	grep -q "state restored from '$MMR_WORK/module.state'" "$MMR_WORK/internal.log" ||
		mmr_fail "the module did not report restoring the replay's state file"
	tail -n +4001 "$replay_out" >"$MMR_WORK/replay-live.json"
	if ! cmp -s "$module_live" "$MMR_WORK/replay-live.json"; then
		first=$(cmp "$module_live" "$MMR_WORK/replay-live.json" | sed -n 's/.* line \([0-9]*\)$/\1/p')
		mmr_fail "the module going on from the replay's state differs from the replay of the whole file; first at line $((first + 4000)):
module: $(sed -n "${first}p" "$module_live" | cut -c1-600)
replay: $(sed -n "${first}p" "$MMR_WORK/replay-live.json" | cut -c1-600)"
	fi
	state_note="; onboarding: module from the replay's --state-out = whole replay ($live lines)"
fi

rs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
rt=$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.2f", b - a }')
mmr_pass "$sent lines, $scored_r scored: every line byte-identical to rsyslogd + mmriskscore (rsyslogd ${rs} s, replay ${rt} s); gzip+merge, rank, timeline, shared OK$state_note"
