#!/bin/bash
# kill -9 at any moment, also in the middle of a snapshot, never costs the previous snapshot
# (docs/operations.md). rsyslogd runs with statefile.interval="1" and a steady stream of
# sign-ins by new users (so each snapshot holds more users than the one before) and is killed
# with SIGKILL ten times:
#   - at a random moment (0-2.9 s into the stream), or
#   - while a snapshot is being written: as soon as "<statefile>.tmp" exists.
# After each kill the next start must restore the state file ("state restored from ...") or,
# only when no snapshot was ever completed, find none ("no state file"); never "cannot be
# used", never a file moved aside. The unfinished .tmp a kill leaves is removed at the next
# start and never read. The restored user count never goes down from one restart to the next
# (the previous snapshot is never lost). A last clean stop and start restores everything.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
st=$MMR_WORK/state/risk.state
mkdir -p "$MMR_WORK/state"
out=$MMR_WORK/out.txt
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
template(name="user_only" type="string" string="%\$!risk!user%\n")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" statefile="$st" statefile.interval="1")
	action(type="omfile" file="$out" template="user_only")
}
EOF
# users K N: N sign-ins of N new users named k<K>u<i>, one event-time second apart
users() {
	awk -v k="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) {
		t = k * 20000 + i
		printf "<38>Nov %2d %02d:%02d:%02d bastion1 sshd[%d]: Accepted password for k%du%d from 198.51.%d.%d port %d ssh2\n",
			1 + int(t / 86400) % 28, int(t / 3600) % 24, int(t / 60) % 60, t % 60,
			i, k, i, int(i / 250) % 250, i % 250 + 1, 1024 + i % 60000 } }'
}
sender=
stop_sender() {
	[ -n "$sender" ] || return 0
	kill "$sender" 2>/dev/null
	wait "$sender" 2>/dev/null
	sender=
}
trap 'rc=$?; stop_sender; (exit $rc); mmr_cleanup' EXIT
restored=() # users restored at each start ("-" for none)
last=-1
ever_written=0
mid=0
tmp_left=0
start_and_check() { # start_and_check ROUND
	: >"$MMR_WORK/internal.log"
	mmr_start "$MMR_CONF"
	mmr_wait_internal "mmriskscore: (state restored from|no state file|the state file .* cannot be used)" 15
	if grep -q "cannot be used" "$MMR_WORK/internal.log"; then
		mmr_fail "round $1: the state file was not usable after a kill -9: $(grep 'cannot be used' "$MMR_WORK/internal.log")"
	fi
	ls "$MMR_WORK"/state/*.corrupt-* >/dev/null 2>&1 && mmr_fail "round $1: a state file was moved aside"
	[ -e "$st.tmp" ] && mmr_fail "round $1: the unfinished $st.tmp is still there after the start"
	if [ "$tmp_left" = 1 ]; then
		grep -qF "removed '$st.tmp', an unfinished snapshot" "$MMR_WORK/internal.log" ||
			mmr_fail "round $1: the kill left $st.tmp; expected the start to say it removed it"
	fi
	local n
	n=$(sed -n "s/.*state restored from '[^']*' ([^)]*): restored \([0-9]*\) users.*/\1/p" "$MMR_WORK/internal.log")
	if [ -z "$n" ]; then
		[ "$ever_written" = 0 ] ||
			mmr_fail "round $1: a snapshot existed before the kill, yet the start found none: $(grep mmriskscore "$MMR_WORK/internal.log" | tail -n 2)"
		restored+=(-)
	else
		[ "$n" -ge "$last" ] ||
			mmr_fail "round $1: restored $n users, fewer than the $last of the previous start: a snapshot was lost"
		last=$n
		restored+=("$n")
	fi
	tmp_left=0
}

# a first load: 10000 users, so that a snapshot takes a measurable time
users 0 10000 >"$MMR_WORK/load.log"
rounds=10
for ((r = 1; r <= rounds; r++)); do
	start_and_check "$r"
	if [ "$r" = 1 ]; then
		# the first load, and a first snapshot of it
		mmr_send "$MMR_WORK/load.log"
		mmr_wait_lines "$out" 10000
		for ((i = 0; i < 100; i++)); do
			[ -s "$st" ] && break
			sleep 0.1
		done
		[ -s "$st" ] || mmr_fail "no snapshot within 10 s with statefile.interval=\"1\""
	fi
	users "$r" 3000 >"$MMR_WORK/stream.log"
	(
		exec 3<>"/dev/tcp/127.0.0.1/$MMR_PORT" || exit 1
		i=0
		while IFS= read -r line; do
			printf '%s\n' "$line" >&3 || exit 0
			# ~1500 lines a second: a steady stream across several snapshots
			((++i % 150 == 0)) && sleep 0.1
		done <"$MMR_WORK/stream.log"
	) 2>/dev/null &
	sender=$!
	if ((r % 2 == 0)); then
		# kill while a snapshot is being written: as soon as the .tmp file exists
		deadline=$((${EPOCHREALTIME/./} + 4000000)) # 4 s (snapshots come every second)
		while [ ! -e "$st.tmp" ] && [ "${EPOCHREALTIME/./}" -lt "$deadline" ]; do :; done
		kill -KILL "$MMR_PID"
		wait "$MMR_PID" 2>/dev/null
		[ -e "$st.tmp" ] && mid=$((mid + 1))
	else
		sleep "$(printf '%d.%d' $((RANDOM % 3)) $((RANDOM % 10)))"
		kill -KILL "$MMR_PID"
	fi
	wait "$MMR_PID" 2>/dev/null
	MMR_PID=
	stop_sender
	tmp_left=0
	[ -e "$st.tmp" ] && tmp_left=1
	[ -e "$st" ] && ever_written=1
done
start_and_check final-kill
mmr_stop
mmr_assert_eq "exit status of the clean stop" 0 "$MMR_RC"
[ -e "$st.tmp" ] && mmr_fail "a clean stop left $st.tmp behind"
start_and_check clean
mmr_stop
[ "$last" -ge 10000 ] || mmr_fail "expected the last restore to hold the first load's 10000 users at least, saw $last"
[ "$mid" -ge 1 ] || mmr_fail "expected at least one kill while a snapshot was being written (a .tmp file present), saw none"
mmr_pass "$rounds kill -9 ($mid while a snapshot was being written): every start restored the last complete snapshot or, before the first one, none; restored users per start: ${restored[*]}"
