#!/bin/bash
# parsedfields: the module can take fields already parsed by mmnormalize instead of parsing
# itself (docs/configuration.md, "Using fields parsed by mmnormalize"). The same lines go
# through two rulesets with one worker each:
#   A: action(type="mmriskscore" rulebase=...)                      (embedded liblognorm)
#   B: set $.parse_input = $syslogtag & $msg; mmnormalize variable=...; mmriskscore
#      parsedfields="$!"
# and both must give the same $!risk and $!event for every line, a laptop-farm reason on the
# third account, and no risk on the line no rule parses.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
a=$MMR_WORK/a.json
b=$MMR_WORK/b.json
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
module(load="mmnormalize")
ruleset(name="embedded" queue.type="LinkedList" queue.workerThreads="1") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE")
	action(type="omfile" file="$a" template="mmr_json")
}
ruleset(name="premade" queue.type="LinkedList" queue.workerThreads="1") {
	set \$.parse_input = \$syslogtag & \$msg;
	action(type="mmnormalize" rulebase="$MMR_RULEBASE" variable="\$.parse_input")
	action(type="mmriskscore" parsedfields="\$!")
	action(type="omfile" file="$b" template="mmr_json")
}
ruleset(name="main") {
	call embedded
	call premade
}
EOF

cat >"$MMR_WORK/in.log" <<'LINES'
<38>Nov 26 08:00:00 bastion1 sshd[11]: Accepted publickey for alice from 198.51.100.77 port 50001 ssh2: ED25519 SHA256:abc
<38>Nov 26 08:05:00 bastion1 sshd[12]: Accepted password for CORP\Bob from 198.51.100.77 port 50002 ssh2
<166>Nov 26 08:10:00 asa-vpn1 %ASA-6-113039: Group <GroupPolicy_VPN> User <carol> IP <198.51.100.77> AnyConnect parent session started.
<166>Nov 26 08:11:00 asa-vpn1 %ASA-4-113019: Group = GroupPolicy_VPN, Username = carol, IP = 198.51.100.77, Session disconnected. Session Type: SSL, Duration: 1h:02m:03s, Bytes xmt: 1000, Bytes rcv: 200, Reason: User Requested
<30>Nov 26 08:12:00 git1 systemd[1]: Started Daily apt download activities.
LINES
mmr_start
mmr_send "$MMR_WORK/in.log"
mmr_wait_lines "$a" 5
mmr_wait_lines "$b" 5
mmr_stop

# same results line by line (each ruleset has one worker: same order, same state)
pa=$(jq -c '[.msg, .vars.risk, .vars.event]' "$a")
pb=$(jq -c '[.msg, .vars.risk, .vars.event]' "$b")
if [ "$pa" != "$pb" ]; then
	mmr_fail "rulebase= and parsedfields= disagree:
--- rulebase:
$pa
--- parsedfields:
$pb"
fi
mmr_check_all "carol's VPN start carries the laptop-farm reason naming the IP" \
	'.vars.risk.user == "carol" and .vars.event.action == "vpn_start"' \
	'[.vars.risk.reasons[] | select(.rule == "network.shared_source_ip" and (.detail | contains("198.51.100.77")))] | length == 1' \
	"$b" 1
mmr_check_all "the VPN end carries duration and bytes" '.vars.event.action == "vpn_end"' \
	'.vars.event.duration == 3723 and .vars.event.bytes_in == 1000 and .vars.event.bytes_out == 200' "$b" 1
mmr_check_all "CORP\\Bob is the entity bob" '.vars.event.user_raw == "CORP\\Bob"' '.vars.risk.user == "bob"' "$b" 1
mmr_check_all "the systemd line is not scored" '.tag | startswith("systemd")' '.vars.risk == null' "$b" 1
mmr_pass "5 lines: embedded rulebase and mmnormalize+parsedfields give identical results"
