#!/bin/bash
# Faults around the module in the real rsyslogd (issue 9, "Faults"; docs/operations.md): each
# ends in a clear message naming what is wrong, a running rsyslogd that goes on scoring
# (every message sent comes out, exactly once), and recovery once the fault is gone.
#   A. GeoIP city database at start: missing, a directory instead of a file, random bytes. The
#      module logs an error naming the file and "running without it", logs "GeoIP city none",
#      scores without it; the good file put in place (by rename) + HUP: "HUP: GeoIP city
#      loaded", and geo.watch_country fires again (203.0.113.0/24 is KP in the test database).
#   B. (in the run of the third case) a working context broken at HUP, one part at a time,
#      each time the error names the file (and line) and the whole previous context stays:
#        - the city database replaced (by rename) by random bytes;
#        - roster.csv with a row of 10 fields under a 9-column header (error names
#          roster.csv:3), the previous roster still gives alice's declared country;
#        - lists.dir removed, the previous lists (watch country KP) stay;
#      each fixed + HUP loads again; impstats context.reload_failed counts the 3 failures.
#   C. The state directory faults at run time (statefile.interval=1):
#        - not writable: `chattr +i` on the directory (root ignores permission bits; the
#          immutable flag stops root too). Where chattr does not work, the directory is
#          replaced by a regular file (ENOTDIR);
#        - full (ENOSPC): when a tmpfs can be mounted (root with CAP_SYS_ADMIN), the state
#          directory is a 4 MB tmpfs, filled with a filler file; else this part is skipped
#          (said so in the output).
#      For each: snapshot.failed counts, exactly one error is logged ("periodic snapshot to
#      ... failed: <reason>; the previous snapshot is kept"), the previous state file stays
#      byte for byte, messages keep flowing; the fault removed, "snapshots to ... work again
#      after N failed" is logged and `snapshots` grows.
#   D. SIGTERM under load with a disk-assisted queue on the ruleset (queue.type LinkedList,
#      queue.filename, queue.saveOnShutdown): N messages are sent, the queue is slowed down
#      (queue.dequeueSlowdown) so that SIGTERM lands while part of them is still queued; rsyslogd
#      stops with status 0 and writes the final snapshot ("final snapshot written"); restarted
#      on the same configuration, it restores the state ("state restored ... K users", K at
#      least the users scored before the stop) and processes the queue it saved: every one of
#      the N sequence numbers is in the output exactly once. The first impstats line after the
#      restart shows the restored users in the gauge "users".
#   E. The loaded city database truncated in place (what `cp new.mmdb city.mmdb` does first:
#      same inode, size 0) while the module has it mapped: the next lookups of new addresses
#      must not kill rsyslogd; the file rewritten + HUP loads it again.
# Known bugs met on the way are collected and reported at the end ("BUG <file>: ..."), after
# everything else ran, so that one of them does not hide the others.
# Takes about 22 s on an idle 2-core machine, 36 s with both cores busy.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
export TZ=UTC LC_ALL=C

# undo what the EXIT trap's rm -rf cannot: immutable flags and mounts under the work directory
fault_cleanup() {
	[ -n "$MMR_WORK" ] || return 0
	chattr -i "$MMR_WORK/state" 2>/dev/null
	mountpoint -q "$MMR_WORK/state" 2>/dev/null && umount "$MMR_WORK/state" 2>/dev/null
	return 0
}
trap 'rc=$?; mmr_kill_rsyslogd; fault_cleanup; (exit $rc); mmr_cleanup' EXIT

geo=$MMR_WORK/geo
lists=$MMR_WORK/lists
roster=$MMR_WORK/roster.csv
mkdir -p "$geo" "$MMR_WORK/good"
perl "$MMR_SRCDIR/tests/unit/make-test-mmdb.pl" "$MMR_WORK/good" >"$MMR_WORK/mmdb.out" 2>&1 ||
	mmr_fail "tests/unit/make-test-mmdb.pl failed (libmaxmind-db-writer-perl, which scripts/build.sh installs, is required): $(cat "$MMR_WORK/mmdb.out")"
cp "$MMR_WORK/good/asn.mmdb" "$geo/asn.mmdb"
city=$geo/city.mmdb

# files are replaced as a deployment does: a new file, then a rename over the old one
put() { # put FILE LINE...
	printf '%s\n' "${@:2}" >"$1.new" && mv -f "$1.new" "$1" || mmr_fail "cannot write $1"
}
good_city() { rm -rf "$city" && cp "$MMR_WORK/good/city.mmdb" "$city.new" && mv "$city.new" "$city"; }
roster_head='user,department,title,manager,start_date,country,timezone,team,privileged'
roster_alice='alice,Engineering,Software Engineer,carol,2020-01-06,US,America/New_York,backend,no'
roster_bob='bob,Engineering,Software Engineer,carol,2021-03-01,US,America/Chicago,backend,no'
roster_erin='erin,Sales,Account Executive,frank,2019-05-02,DE,Europe/Berlin,,no'
good_lists() {
	mkdir -p "$lists"
	put "$lists/watch-countries.txt" "# watch list" "KP"
	put "$lists/hosting.txt" "AS64511   # not one the test events use"
}
put "$roster" "$roster_head" "$roster_alice" "$roster_bob"
good_lists

# the module's impstats records in FILE, one JSON object per line
stats_records() { sed -n 's/^[^{]*{/{/p' "$1" 2>/dev/null | jq -c 'select(.name == "mmriskscore")' 2>/dev/null; }
# begin NAME [ACTION-PARAMS [RULESET-PARAMS]]: config NAME (impstats every second, the module
# with the context above, one JSON line per message) and start it
begin() {
	run=$1
	out=$MMR_WORK/$run.json
	stats=$MMR_WORK/$run.stats
	n=0
	mmr_write_conf "$MMR_WORK/$run.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2" ${3:-}) {
	action(name="risk" type="mmriskscore" rulebase="$MMR_RULEBASE" roster="$roster"
	       geoip.city="$city" geoip.asn="$geo/asn.mmdb" lists.dir="$lists" ${2:-})
	action(type="omfile" file="$out" template="mmr_json")
}
EOF
	: >"$MMR_WORK/internal.log"
	mmr_start "$MMR_WORK/$run.conf"
}
# finish: stop (status 0), every message out exactly once, keep the logs under the run's name
finish() {
	mmr_stop
	mmr_assert_eq "$run: rsyslogd exit status" 0 "$MMR_RC"
	mmr_assert_eq "$run: messages in = out" "$n" "$(mmr_lines "$out")"
	mmr_assert_eq "$run: every message once (distinct source ports)" "$n" \
		"$(jq -r '.msg' "$out" | sed -n 's/.* port \([0-9]*\) .*/\1/p' | sort -u | wc -l)"
	mv "$MMR_WORK/internal.log" "$MMR_WORK/$run.internal.log"
	mv "$MMR_WORK/rsyslogd.out" "$MMR_WORK/$run.rsyslogd.out"
}
port=40000
# sign_in USER IP: sends an sshd sign-in (now) on a source port of its own, the key to its
# output line ($port), and waits until it is written
sign_in() {
	port=$((port + 1))
	printf '<38>%s bastion1 sshd[%d]: Accepted password for %s from %s port %d ssh2\n' \
		"$(date '+%b %e %H:%M:%S')" "$port" "$1" "$2" "$port" >"$MMR_WORK/send.log"
	mmr_send "$MMR_WORK/send.log"
	n=$((n + 1))
	mmr_wait_lines "$out" "$n"
}
line() { jq -c --arg p "port $1 " 'select(.msg | contains($p))' "$out"; }
# rules PORT: the rule ids of that sign-in's reasons, space separated; "-" when not scored
rules() { line "$1" | jq -r 'if .vars.risk then [.vars.risk.reasons[].rule] | join(" ") else "-" end'; }
# sign_in_check USER IP WANT-WATCH: a sign-in from IP, scored, with or without geo.watch_country
sign_in_check() {
	sign_in "$1" "$2"
	local r
	r=$(rules "$port")
	[ "$r" != - ] || mmr_fail "$run: $1's sign-in from $2 was not scored: $(line "$port" | cut -c1-400)"
	if [ "$3" = yes ] && [[ " $r " != *" geo.watch_country "* ]]; then
		mmr_fail "$run: expected geo.watch_country on $1's sign-in from $2 (KP), saw rules [$r]"
	elif [ "$3" = no ] && [[ " $r " == *" geo.watch_country "* ]]; then
		mmr_fail "$run: expected no geo.watch_country on $1's sign-in from $2, saw rules [$r]"
	fi
}
# lines of the internal log matching RE
count() { grep -Ec -- "$1" "$MMR_WORK/internal.log" 2>/dev/null; }
hup_and_wait() { # hup_and_wait REGEX: SIGHUP, then wait for one more line matching REGEX
	local before i
	before=$(count "$1")
	kill -HUP "$MMR_PID" || mmr_fail "kill -HUP $MMR_PID failed"
	for ((i = 0; i < 100; i++)); do
		[ "$(count "$1")" -gt "${before:-0}" ] && return 0
		kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "$run: rsyslogd died after SIGHUP"
		sleep 0.1
	done
	mmr_fail "$run: after SIGHUP expected a line matching /$1/ in the internal log within 10 s; the module said: $(grep mmriskscore "$MMR_WORK/internal.log" | tail -n 3 | cut -c1-300)"
}
esc() { printf '%s' "$1" | sed 's/[][\.*^$/()+?{}|]/\\&/g'; }
# wait_stats JQ-COND [TIMEOUT]: until the last impstats record satisfies COND; prints it
wait_stats() {
	local i s
	for ((i = 0; i < ${2:-15} * 10; i++)); do
		s=$(stats_records "$stats" | tail -n 1)
		if [ -n "$s" ] && [ "$(jq "$1" <<<"$s")" = true ]; then
			printf '%s\n' "$s"
			return 0
		fi
		kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "$run: rsyslogd died"
		sleep 0.1
	done
	mmr_fail "$run: expected impstats to show $1 within ${2:-15}s, last record: ${s:-none}"
}
loaded_re() { # loaded_re WHEN CITY: the module's context line
	printf 'info .*mmriskscore: %s: GeoIP city %s, ASN loaded; ' "$1" "$2"
}
T0=$SECONDS
bugs=() # known bugs found on the way: reported at the end, after everything else ran

# ---- A. GeoIP city database at start: missing, a directory, random bytes --------------------
for fault in missing directory corrupt; do
	rm -rf "$city"
	case $fault in
	missing) ;;
	directory) mkdir "$city" ;;
	corrupt) head -c 4096 /dev/urandom >"$city" ;;
	esac
	begin "A-$fault"
	mmr_wait_internal "$(loaded_re start 'none \(geo detectors use only what logs say\)')" 10
	grep -E "err[a-z]* .*mmriskscore: geoip: GeoIP city database $(esc "$city"): .*; running without it" \
		"$MMR_WORK/internal.log" >"$MMR_WORK/err.txt" ||
		mmr_fail "A ($fault): expected an error naming $city and 'running without it', the module said: $(grep mmriskscore "$MMR_WORK/internal.log" | cut -c1-300)"
	why=$(sed 's/.*GeoIP city database [^:]*: //; s/; running without it.*//' "$MMR_WORK/err.txt" | head -n 1)
	# the roster says "not a regular file" for a directory; the GeoIP error should say as much
	if [ "$fault" = directory ] && ! grep -qiE 'directory|regular file' <<<"$why"; then
		bugs+=("engine/enrich/geoip.c (open_one): a directory given as geoip.city is reported as \"$why\", which does not say what is wrong (the roster says 'not a regular file')")
	fi
	sign_in_check alice 203.0.113.9 no
	good_city
	hup_and_wait "$(loaded_re HUP loaded)"
	sign_in_check alice 203.0.113.10 yes
	mmr_log "A. city database $fault at start: \"$why\"; fixed + HUP: loaded, geo.watch_country fires"
	[ "$fault" = corrupt ] || finish
done

# ---- B. a working context broken at HUP: the previous one stays ----------------------------
# (still the run of A-corrupt: everything loaded)
head -c 4096 /dev/urandom >"$city.new" && mv "$city.new" "$city"
hup_and_wait "err[a-z]* .*mmriskscore: HUP: geoip: GeoIP city database $(esc "$city"): .*; keeping the previous roster, lists and GeoIP databases"
sign_in_check alice 203.0.113.11 yes
good_city
hup_and_wait "$(loaded_re HUP loaded)roster 2 users"
mmr_log "B. city database replaced by random bytes at HUP: previous kept; fixed + HUP: loaded"

put "$roster" "$roster_head" "$roster_alice" 'bob,Engineering,Director, Platform,carol,2021-03-01,US,America/Chicago,backend,no' "$roster_erin"
hup_and_wait "err[a-z]* .*mmriskscore: HUP: roster: $(esc "$roster"):3: 10 fields where the header has 9.*; keeping the previous roster, lists and GeoIP databases"
sign_in_check alice 203.0.113.12 yes
# the previous roster stays: the watch-country detail names alice's declared country
line "$port" | jq -e '[.vars.risk.reasons[] | select(.rule == "geo.watch_country") | .detail] | .[0] | test("declared in US")' >/dev/null ||
	mmr_fail "B: after a failed roster reload, expected alice's declared country (US) in the watch-country detail, saw: $(line "$port" | jq -c '.vars.risk.reasons')"
put "$roster" "$roster_head" "$roster_alice" "$roster_bob" "$roster_erin"
hup_and_wait "$(loaded_re HUP loaded)roster 3 users"
mmr_log "B. roster with a bad row at HUP: error names roster.csv:3, previous kept; fixed + HUP: 3 users"

rm -rf "$lists"
hup_and_wait "err[a-z]* .*mmriskscore: HUP: lists\.dir: .*$(esc "$lists").*; keeping the previous roster, lists and GeoIP databases"
sign_in_check alice 203.0.113.13 yes
good_lists
hup_and_wait "$(loaded_re HUP loaded)roster 3 users; lists: corporate 0, hosting 1, commercial VPN 0, watch countries 1"
sign_in_check alice 203.0.113.14 yes
mmr_log "B. lists.dir removed at HUP: $(grep -E 'HUP: lists\.dir' "$MMR_WORK/internal.log" | sed 's/.*HUP: //; s/; keeping.*//' | head -n 1); previous kept; recreated + HUP: loaded"
s=$(wait_stats '."context.reload_failed" >= 3 and ."context.reloads" >= 4')
mmr_assert_eq "B: impstats context.reloads/context.reload_failed/failed" "4 3 0" \
	"$(jq -r '"\(."context.reloads") \(."context.reload_failed") \(.failed)"' <<<"$s")"
finish

# ---- C. state directory not writable, then full, at run time --------------------------------
st=$MMR_WORK/state/risk.state
mkdir -p "$MMR_WORK/state"
tmpfs=no
if mount -t tmpfs -o size=4m,mode=0755 mmrisk-faults "$MMR_WORK/state" 2>/dev/null; then
	tmpfs=yes
fi
# how to make the directory not writable for root: the immutable flag, else no directory at all
mkdir -p "$MMR_WORK/state/probe"
if chattr +i "$MMR_WORK/state/probe" 2>/dev/null && ! touch "$MMR_WORK/state/probe/x" 2>/dev/null; then
	nowrite=chattr
else
	nowrite="file"
	[ "$tmpfs" = no ] || mmr_fail "setup: chattr +i does not work on tmpfs here, and a mount point cannot be replaced by a file"
fi
chattr -i "$MMR_WORK/state/probe" 2>/dev/null
rmdir "$MMR_WORK/state/probe"
fault_on() { # fault_on KIND
	case $1 in
	chattr) chattr +i "$MMR_WORK/state" ;;
	file) mv "$MMR_WORK/state" "$MMR_WORK/state.away" && : >"$MMR_WORK/state" ;;
	full) head -c 8m /dev/zero >"$MMR_WORK/state/filler" 2>/dev/null; [ "$(df --output=avail "$MMR_WORK/state" | tail -n 1)" -lt 64 ] ;;
	esac || mmr_fail "setup: could not make the fault $1"
}
fault_off() {
	case $1 in
	chattr) chattr -i "$MMR_WORK/state" ;;
	file) rm -f "$MMR_WORK/state" && mv "$MMR_WORK/state.away" "$MMR_WORK/state" ;;
	full) rm -f "$MMR_WORK/state/filler" ;;
	esac || mmr_fail "setup: could not remove the fault $1"
}
begin C "statefile=\"$st\" statefile.interval=\"1\""
mmr_wait_internal "mmriskscore: no state file '$(esc "$st")', starting fresh" 10
for i in 1 2 3 4 5; do sign_in "user$i" "198.51.100.$i"; done
wait_stats '.snapshots >= 1' >/dev/null
faults="$nowrite"
[ "$tmpfs" = yes ] && faults+=" full"
for f in $faults; do
	s=$(wait_stats '.snapshots >= 1')
	failed0=$(jq '."snapshot.failed"' <<<"$s")
	errs0=$(count "mmriskscore: periodic snapshot to '$(esc "$st")' failed")
	fault_on "$f"
	t=$SECONDS
	# the file as it is once snapshots fail (none can succeed while the fault lasts)
	s=$(wait_stats "(.\"snapshot.failed\" >= $((failed0 + 1)))" 15)
	snaps0=$(jq .snapshots <<<"$s")
	stfile=$st
	[ "$f" = file ] && stfile=$MMR_WORK/state.away/risk.state
	cp "$stfile" "$MMR_WORK/before-$f.state" || mmr_fail "C ($f): no previous state file $stfile"
	# messages keep flowing while snapshots fail
	for i in 1 2 3 4 5; do sign_in "user$f$i" "198.51.100.$((10 + i))"; done
	s=$(wait_stats "(.\"snapshot.failed\" >= $((failed0 + 3)))" 15)
	errs=$(($(count "mmriskscore: periodic snapshot to '$(esc "$st")' failed") - errs0))
	mmr_assert_eq "C ($f): errors logged for $(($(jq '."snapshot.failed"' <<<"$s") - failed0)) failed snapshots in a row" 1 "$errs"
	why=$(grep -E "mmriskscore: periodic snapshot to '$(esc "$st")' failed" "$MMR_WORK/internal.log" | tail -n 1 |
		sed 's/.*failed: //; s/; the previous snapshot is kept.*//')
	grep -E "err[a-z]* .*mmriskscore: periodic snapshot to '$(esc "$st")' failed: .+; the previous snapshot is kept" \
		"$MMR_WORK/internal.log" >/dev/null || mmr_fail "C ($f): the error does not say that the previous snapshot is kept: $why"
	cmp -s "$stfile" "$MMR_WORK/before-$f.state" ||
		mmr_fail "C ($f): the previous state file changed while snapshots failed"
	[ -e "$stfile.tmp" ] && mmr_fail "C ($f): a failed snapshot left $stfile.tmp behind ($(stat -c %s "$stfile.tmp") bytes)"
	fault_off "$f"
	mmr_wait_internal "info .*mmriskscore: snapshots to '$(esc "$st")' work again after [0-9]+ failed" 10
	s=$(wait_stats ".snapshots > $snaps0")
	mmr_log "C. state directory $f for $((SECONDS - t)) s: $(($(jq '."snapshot.failed"' <<<"$s") - failed0)) failed snapshots, one error (\"$why\"), messages flowed; removed: \"work again\", snapshots $snaps0 -> $(jq .snapshots <<<"$s")"
done
[ "$tmpfs" = yes ] || mmr_log "C. SKIPPED the full-disk (ENOSPC) case: cannot mount a tmpfs here"
mmr_assert_eq "C: impstats failed" 0 "$(jq .failed <<<"$s")"
finish
[ "$tmpfs" = yes ] && umount "$MMR_WORK/state"

# ---- D. SIGTERM under load with a disk-assisted queue ---------------------------------------
N=6000
st2=$MMR_WORK/state2/risk.state
mkdir -p "$MMR_WORK/state2"
awk -v n="$N" -v d="$(date '+%b %e %H:%M:%S')" 'BEGIN { for (i = 1; i <= n; i++)
	printf "<38>%s bastion1 sshd[%d]: Accepted password for load%05d from 198.18.%d.%d port %d ssh2\n",
		d, i, i, int(i / 250) % 250, i % 250 + 1, 10000 + i }' >"$MMR_WORK/load.log"
qparams='queue.filename="riskq" queue.saveOnShutdown="on" queue.size="20000" queue.dequeueBatchSize="8" queue.dequeueSlowdown="4000" queue.timeoutShutdown="500"'
begin D1 "statefile=\"$st2\" statefile.interval=\"1\"" "$qparams"
t=$SECONDS
mmr_send "$MMR_WORK/load.log"
n=$N
# all N in rsyslog (the TCP input counted them) before the stop
for ((i = 0; i < 150; i++)); do
	got=$(sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -r 'select(.origin == "imptcp" and .submitted != null) | .submitted' 2>/dev/null | tail -n 1)
	[ "${got:-0}" -ge "$N" ] && break
	kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "D: rsyslogd died under load"
	sleep 0.1
done
[ "${got:-0}" -ge "$N" ] || mmr_fail "D: imptcp did not count $N messages within 15 s (saw ${got:-none})"
at_stop=$(mmr_lines "$out")
[ "$at_stop" -lt "$N" ] || mmr_fail "D: setup: all $N messages were written before SIGTERM; the queue was not slow enough"
mmr_stop 30
mmr_assert_eq "D: rsyslogd exit status after SIGTERM under load" 0 "$MMR_RC"
out1=$(mmr_lines "$out")
grep -qF "final snapshot written to '$st2'" "$MMR_WORK/internal.log" "$MMR_WORK/rsyslogd.out" ||
	mmr_fail "D: expected 'final snapshot written to '$st2'' at the stop (rsyslogd's output or internal log)"
[ -s "$st2" ] || mmr_fail "D: no state file after SIGTERM"
ls "$MMR_WORK/spool"/riskq* >/dev/null 2>&1 ||
	mmr_fail "D: no queue file in $MMR_WORK/spool after SIGTERM with $((N - out1)) messages unwritten"
mv "$MMR_WORK/internal.log" "$MMR_WORK/D1.internal.log"
mv "$MMR_WORK/rsyslogd.out" "$MMR_WORK/D1.rsyslogd.out"
# restart on the same configuration and output file: the saved queue is processed
nrec=$(stats_records "$stats" | wc -l)
: >"$MMR_WORK/internal.log"
mmr_start "$MMR_WORK/D1.conf"
mmr_wait_internal "mmriskscore: state restored from '$(esc "$st2")'" 10
restored=$(sed -n "s/.*state restored from '[^']*' ([^)]*): restored \([0-9]*\) users.*/\1/p" "$MMR_WORK/internal.log" | head -n 1)
# the gauge "users" shows the restored users from the second impstats record after the
# restart on: rsyslog calls the module's read notifier after it writes a record, so a gauge
# lags one interval (documented in operations.md)
for ((i = 0; i < 50; i++)); do
	[ "$(stats_records "$stats" | wc -l)" -gt "$((nrec + 1))" ] && break
	sleep 0.1
done
second_users=$(stats_records "$stats" | sed -n "$((nrec + 2))p" | jq -r '.users')
if [ -n "$restored" ] && { [ "${second_users:-null}" = null ] || [ "$second_users" -lt "$restored" ]; }; then
	mmr_fail "D: the second impstats record after the restart shows users=${second_users:-none}, expected at least the $restored restored users"
fi
mmr_wait_lines "$out" "$N" 60
sleep 0.5
mmr_stop 30
mmr_assert_eq "D: rsyslogd exit status after the restart" 0 "$MMR_RC"
total=$(mmr_lines "$out")
uniq=$(jq -r '.hostname + " " + (.msg | capture("port (?<p>[0-9]+) ").p)' "$out" | sort -u | wc -l)
dups=$(jq -r '.msg | capture("port (?<p>[0-9]+) ").p' "$out" | sort | uniq -d | wc -l)
mmr_assert_eq "D: distinct sequence numbers in the output after the restart" "$N" "$uniq"
mmr_assert_eq "D: output lines after the restart (every message exactly once; $dups sequence numbers seen twice)" "$N" "$total"
mmr_check_all "D: every load message scored" 'true' '.vars.risk.user | startswith("load")' "$out" "$N"
[ -n "$restored" ] && [ "$restored" -ge "$out1" ] && [ "$restored" -le "$N" ] ||
	mmr_fail "D: expected the restart to restore between $out1 (the users scored before the stop) and $N users, saw: $(grep 'state restored' "$MMR_WORK/internal.log" | cut -c1-300)"
mmr_log "D. SIGTERM after $((SECONDS - t)) s with $out1 of $N written ($at_stop when the stop began): status 0, final snapshot written; restart restored $restored users and wrote the other $((total - out1)): $N distinct, $total lines"
mv "$MMR_WORK/internal.log" "$MMR_WORK/D2.internal.log"
mv "$MMR_WORK/rsyslogd.out" "$MMR_WORK/D2.rsyslogd.out"

# ---- E. the loaded city database truncated in place -----------------------------------------
good_city
begin E
mmr_wait_internal "$(loaded_re start loaded)" 10
sign_in_check alice 203.0.113.20 yes
: >"$city" # same inode, now 0 bytes: the module's mapping of it has no pages left
for i in 21 22 23; do
	kill -0 "$MMR_PID" 2>/dev/null || break
	port=$((port + 1))
	printf '<38>%s bastion1 sshd[%d]: Accepted password for alice from 203.0.113.%d port %d ssh2\n' \
		"$(date '+%b %e %H:%M:%S')" "$port" "$i" "$port" >"$MMR_WORK/send.log"
	mmr_send "$MMR_WORK/send.log"
	n=$((n + 1))
	sleep 0.3
done
if ! kill -0 "$MMR_PID" 2>/dev/null; then
	wait "$MMR_PID"
	rc=$?
	MMR_PID=
	sig=
	[ "$rc" -gt 128 ] && sig=", signal $((rc - 128))$([ $rc = 135 ] && printf ' (SIGBUS)')"
	bugs+=("engine/enrich/geoip.c (open_one, MMDB_open with MMDB_MODE_MMAP): rsyslogd died (status $rc$sig) at the first GeoIP lookup after the loaded city database was truncated in place (': > $city', what cp over it does before writing); $(mmr_lines "$out") of $n messages came out")
	mmr_log "E. city database truncated in place while loaded: rsyslogd DIED (status $rc$sig)"
else
	mmr_wait_lines "$out" "$n"
	good_city
	hup_and_wait "$(loaded_re HUP loaded)"
	sign_in_check alice 203.0.113.30 yes
	finish
	mmr_log "E. city database truncated in place while loaded: rsyslogd ran on; rewritten + HUP: loaded"
fi
if [ "${#bugs[@]}" -gt 0 ]; then
	mmr_fail "everything else passed, but these known bugs are still there:
$(printf '  BUG %s\n' "${bugs[@]}")"
fi
mmr_pass "GeoIP missing/directory/corrupt at start, context broken at HUP (GeoIP, roster, lists), state dir not writable$([ "$tmpfs" = yes ] && printf ' and full') at run time, SIGTERM under load with a DA queue ($N exactly once), a mapped database truncated: rsyslogd ran on, errors named the file, recovery each time ($((SECONDS - T0)) s)"
