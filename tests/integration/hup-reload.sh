#!/bin/bash
# HUP reloads the rulebase (rsyslog itself does not reload its config on HUP):
#   1. the rulebase knows only sshd "Accepted": a "Failed password" line passes unparsed;
#   2. the file is replaced by one that also parses "Failed", kill -HUP: the same line is scored;
#   3. the file is replaced by a broken one, kill -HUP: an error naming the file appears in the
#      internal log and scoring goes on with the previous rulebase (the line is still scored).
# impstats confirms rulebase.reloads == 1 and rulebase.reload_failed == 1.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
rb=$MMR_WORK/live.rulebase
out=$MMR_WORK/out.json
stats=$MMR_WORK/stats.log
accepted='rule=auth,success:sshd[%-:number%]: Accepted %auth_method:word% for %user:word% from %src_ip:ipv4% port %src_port:number% ssh2%-:rest%'
failed='rule=auth,failure:sshd[%-:number%]: Failed %auth_method:word% for %user:word% from %src_ip:ipv4% port %src_port:number% ssh2%-:rest%'
# replace the rulebase the way an editor or a package update does: new file, then rename
put_rulebase() {
	printf '%s\n' "$@" >"$rb.new" && mv -f "$rb.new" "$rb" || mmr_fail "cannot write $rb"
}
put_rulebase "version=2" "$accepted"

mmr_write_conf "$MMR_WORK/r.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2") {
	action(name="risk" type="mmriskscore" rulebase="$rb")
	action(type="omfile" file="$out" template="mmr_json")
}
EOF

n=0
send() { # send LINE...: sends, then waits until all of them are written
	printf '%s\n' "$@" >"$MMR_WORK/send.log"
	mmr_send "$MMR_WORK/send.log"
	n=$((n + $#))
	mmr_wait_lines "$out" "$n"
}
ok_line='<38>Nov 26 08:00:00 bastion1 sshd[1]: Accepted password for alice from 198.51.100.20 port 50000 ssh2'
fail_line() { printf '<38>Nov 26 08:0%s:00 bastion1 sshd[2]: Failed password for bob from 203.0.113.5 port 5000%s ssh2' "$1" "$1"; }
# last output line for bob's failure number K
bob() { jq -c --arg k "port 5000$1 " 'select(.msg | contains($k))' "$out"; }
hup_and_wait() { # hup_and_wait REGEX: SIGHUP, then wait for REGEX in the internal log
	local before
	before=$(grep -Ec -- "$1" "$MMR_WORK/internal.log" 2>/dev/null)
	kill -HUP "$MMR_PID" || mmr_fail "kill -HUP $MMR_PID failed"
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -Ec -- "$1" "$MMR_WORK/internal.log" 2>/dev/null)" -gt "${before:-0}" ] && return 0
		sleep 0.1
	done
	mmr_fail "after SIGHUP expected a line matching /$1/ in the internal log within 10 s"
}

mmr_start

# 1. only "Accepted" is known
send "$ok_line" "$(fail_line 1)"
[ "$(jq -c 'select(.msg | contains("alice")) | .vars.risk.user' "$out")" = '"alice"' ] ||
	mmr_fail "step 1: expected the Accepted line to be scored with the first rulebase, saw: $(head -n 1 "$out")"
[ "$(bob 1 | jq -c .vars)" = '{}' ] ||
	mmr_fail "step 1: expected the Failed line to pass unparsed (no \$!risk/\$!event) with the first rulebase, saw: $(bob 1)"

# 2. the rulebase learns "Failed"; HUP
put_rulebase "version=2" "$accepted" "$failed"
hup_and_wait "mmriskscore: HUP: rulebase '$rb' reloaded"
send "$(fail_line 2)"
[ "$(bob 2 | jq -c '[.vars.risk.user, .vars.event.outcome]')" = '["bob","failure"]' ] ||
	mmr_fail "step 2: expected the Failed line to be scored (user bob, outcome failure) after the reload, saw: $(bob 2)"

# 3. a broken rulebase; HUP: error naming the file, the previous rulebase stays
put_rulebase "version=2" 'rule=auth,success:sshd[%-:number%]: Accepted %user:nosuchtype%'
hup_and_wait "err[a-z]* .*mmriskscore.*'$rb'"
grep -E "err[a-z]* .*mmriskscore.*'$rb'" "$MMR_WORK/internal.log" | grep -q "nosuchtype\|previous" ||
	mmr_fail "step 3: expected the reload error to say why (nosuchtype) or that the previous rulebase is kept: $(grep -E "mmriskscore.*'$rb'" "$MMR_WORK/internal.log" | tail -n 1)"
send "$(fail_line 3)" "$ok_line"
[ "$(bob 3 | jq -c '[.vars.risk.user, .vars.event.outcome]')" = '["bob","failure"]' ] ||
	mmr_fail "step 3: expected scoring to go on with the previous rulebase after a failed reload, saw: $(bob 3)"

# the counters
for ((i = 0; i < 30; i++)); do
	s=$(sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -c 'select(.name == "mmriskscore")' 2>/dev/null | tail -n 1)
	[ -n "$s" ] && [ "$(jq .submitted <<<"$s")" -ge "$n" ] && break
	sleep 0.1
done
mmr_stop
mmr_assert_eq "impstats rulebase.reloads/reload_failed/submitted/scored/unparsed" \
	"1 1 $n 4 1" "$(jq -r '"\(."rulebase.reloads") \(."rulebase.reload_failed") \(.submitted) \(.scored) \(.unparsed)"' <<<"${s:-{\}}")"
mmr_pass "unparsed before the reload, scored after it, broken rulebase reported and the previous one kept"
