#!/bin/bash
# A flood of a million failed sign-ins with random, never repeated user names from one IP (a
# password sprayer inventing accounts) against state.maxusers="20000" (docs/operations.md):
#   - the impstats gauge "users" never exceeds the cap (every impstats line), and
#     "users.evicted" counts the evictions (at least flood - cap);
#   - rsyslogd's resident memory (VmRSS) stays bounded: its growth is printed and must stay
#     under 300 MB (without the cap a million users of ~1.7 KB would need well over 1 GB);
#   - the 40 established users (four successful sign-ins each before the flood, past their
#     learning period: learning.minevents="3") are still known afterwards: their next sign-in
#     is scored with learning=false, as it was just before the flood. A fresh user record
#     would say learning=true.
# MMRISK_FLOOD_USERS scales the flood (default 1000000).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
flood=${MMRISK_FLOOD_USERS:-1000000}
cap=20000
est=40
out=$MMR_WORK/established.json
stats=$MMR_WORK/stats.log
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
# a full queue blocks the sender (back-pressure) instead of discarding
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2" queue.size="20000"
	queue.timeoutEnqueue="600000") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" state.maxusers="$cap"
	       learning.minevents="3" learning.mindays="0")
	if \$!risk!user startswith "est" then
		action(type="omfile" file="$out" template="mmr_json")
}
EOF
# sign_ins ROUND: one successful sign-in of each established user
sign_ins() {
	local i
	for ((i = 0; i < est; i++)); do
		printf '<38>Nov 26 0%d:%02d:00 bastion1 sshd[%d]: Accepted publickey for est%d from 198.51.100.%d port %d ssh2\n' \
			"$1" "$i" "$i" "$i" $((i + 1)) $((40000 + $1 * 100 + i))
	done
}
# the last impstats line of the counter set, as one JSON object
last_stats() { sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -c 'select(.name == "mmriskscore")' 2>/dev/null | tail -n 1; }
wait_submitted() { # wait_submitted N TIMEOUT
	local i s
	for ((i = 0; i < $2 * 5; i++)); do
		s=$(last_stats)
		[ -n "$s" ] && [ "$(jq .submitted <<<"$s")" -ge "$1" ] && return 0
		kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "rsyslogd died"
		sleep 0.2
	done
	mmr_fail "expected impstats submitted >= $1 within $2 s, saw: $(last_stats)"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$MMR_PID/status"; }

mmr_start
for round in 1 2 3 4 5; do
	sign_ins "$round"
done >"$MMR_WORK/established.log"
mmr_send "$MMR_WORK/established.log"
mmr_wait_lines "$out" $((5 * est))
# the fifth sign-in of each: past learning (the check below can fail)
mmr_check_all "established users past learning before the flood (their 5th sign-in)" \
	'.msg | test("port 405")' '.vars.risk.learning == false' "$out" "$est"
wait_submitted $((5 * est)) 10
rss0=$(rss_kb)

awk -v n="$flood" 'BEGIN { for (i = 0; i < n; i++)
	printf "<38>Nov 26 09:%02d:%02d bastion1 sshd[%d]: Failed password for invalid user x%07dz%x from 203.0.113.66 port %d ssh2\n",
		int(i / 60000) % 60, int(i / 1000) % 60, i % 32768, i, (i * 2654435761) % 4294967296, 1024 + i % 60000 }' \
	>"$MMR_WORK/flood.log"
# RSS every half second while the flood runs
(
	while kill -0 "$MMR_PID" 2>/dev/null; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$MMR_PID/status" 2>/dev/null
		sleep 0.5
	done
) >"$MMR_WORK/rss.log" &
sampler=$!
t0=$SECONDS
mmr_send "$MMR_WORK/flood.log"
wait_submitted $((5 * est + flood)) 120
secs=$((SECONDS - t0))
rss1=$(rss_kb)
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
rss_max=$(sort -n "$MMR_WORK/rss.log" | tail -n 1)
[ "${rss_max:-0}" -ge "$rss1" ] || rss_max=$rss1

sign_ins 6 >"$MMR_WORK/after.log"
mmr_send "$MMR_WORK/after.log"
mmr_wait_lines "$out" $((6 * est))
mmr_check_all "established users still known after the flood (their 6th sign-in is past learning)" \
	'.msg | test("port 406")' '.vars.risk.learning == false' "$out" "$est"
wait_submitted $((6 * est + flood)) 10
sleep 1.2 # one more impstats interval: the gauges after the last message
s=$(last_stats)
mmr_stop
mmr_assert_eq "rsyslogd exit status" 0 "$MMR_RC"

users=$(jq .users <<<"$s")
evicted=$(jq '."users.evicted"' <<<"$s")
max_users=$(sed -n 's/^[^{]*{/{/p' "$stats" | jq -s '[.[] | select(.name == "mmriskscore") | .users] | max')
[ "$max_users" -le "$cap" ] || mmr_fail "impstats users reached $max_users, above the cap $cap"
[ "$users" -ge $((cap * 9 / 10)) ] || mmr_fail "expected about $cap users resident after the flood, saw $users"
[ "$evicted" -ge $((flood - cap)) ] || mmr_fail "expected users.evicted >= $((flood - cap)), saw $evicted"
mmr_assert_eq "scored messages (every one)" $((6 * est + flood)) "$(jq .scored <<<"$s")"
grow=$(((rss_max - rss0) / 1024))
mmr_log "flood of $flood names in ${secs}s: users $users (max $max_users, cap $cap), users.evicted $evicted, state.bytes $(jq '."state.bytes"' <<<"$s"); VmRSS before ${rss0} kB, after ${rss1} kB, max ${rss_max} kB (+${grow} MB)"
[ "$grow" -lt 300 ] || mmr_fail "rsyslogd's resident memory grew by $grow MB during the flood (before $rss0 kB, max $rss_max kB): not bounded by the cap"
mmr_pass "$flood invented names: users <= $cap throughout, $evicted evicted, RSS +$grow MB (max $rss_max kB), all $est established users kept their baselines"
