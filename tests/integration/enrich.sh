#!/bin/bash
# End to end through the real rsyslogd: sshd and Cisco ASA lines (contract formats) go over TCP
# into a ruleset with 4 worker threads, through action(type="mmriskscore") with the combined
# rulebase, into omfile as one JSON object per line. Checks:
#   - every identity line carries $!risk (user, score 0-100, level = band of score, user_score /
#     user_level likewise, reasons [{rule,points,detail}], learning boolean) and $!event
#     (normalized user, src_ip, action, outcome; 113019: duration seconds, bytes_in/out)
#   - laptop farm: 3+ distinct users on one public IP -> network.shared_source_ip naming the IP
#   - failure bursts -> auth.failure_burst.user / auth.failure_burst.source_ip
#   - many users on a corporatenetworks IP -> never network.shared_source_ip
#   - event time is the syslog timestamp, not the wall clock: two accounts, then a third one on
#     the same IP 25 h later (event time) with farm.window=86400 does NOT fire; 23 h later does.
#
# With several workers the order in which lines are scored is not the order they were sent.
# So the lines are sent in two phases: phase 1 plants history and is waited for (all its
# output written) before phase 2 is sent; assertions about "later" events are made on phase 2
# only, where the planted history is certain.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
out=$MMR_WORK/out.json

mmr_write_conf "$MMR_WORK/r.conf" <<EOF
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="4"
	queue.workerThreadMinimumMessages="1") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE"
	       corporatenetworks=["192.0.2.0/24"]
	       farm.minusers="3" farm.window="86400"
	       failburst.user.count="5" failburst.ip.count="5" failburst.window="600")
	action(type="omfile" file="$out" template="mmr_json")
}
EOF

ssh() { # ssh HOST TIME WHAT USER IP PORT
	printf '<38>%s %s sshd[4242]: %s password for %s from %s port %s ssh2\n' "$2" "$1" "$3" "$4" "$5" "$6"
}
vpn_start() { # vpn_start TIME USER IP
	printf '<166>%s asa-vpn1 %%ASA-6-113039: Group <GroupPolicy_VPN> User <%s> IP <%s> AnyConnect parent session started.\n' "$1" "$2" "$3"
}

# ---- phase 1: history
{
	# laptop farm on 198.51.100.20: alice (sshd + VPN), bob (VPN, logged as an e-mail
	# address in mixed case), carol (sshd)
	ssh bastion1 "Nov 26 08:01:02" Accepted alice 198.51.100.20 50522
	vpn_start "Nov 26 08:00:40" "alice" 198.51.100.20
	vpn_start "Nov 26 08:02:10" "Bob@corp.example" 198.51.100.20
	ssh bastion1 "Nov 26 08:05:00" Accepted carol 198.51.100.20 50600
	printf '<164>Nov 26 09:02:43 asa-vpn1 %%ASA-4-113019: Group = GroupPolicy_VPN, Username = alice, IP = 198.51.100.20, Session disconnected. Session Type: SSL, Duration: 1h:02m:03s, Bytes xmt: 123456, Bytes rcv: 7890, Reason: User Requested\n'
	# password guessing against mallory from 203.0.113.50: 4 failures (threshold 5)
	for s in 01 02 03 04; do ssh bastion1 "Nov 26 08:10:$s" Failed mallory 203.0.113.50 4100$s; done
	# password spraying from 203.0.113.77: 4 accounts (threshold 5 per source IP)
	for u in sp1 sp2 sp3 sp4; do ssh bastion2 "Nov 26 08:20:00" Failed $u 203.0.113.77 4200; done
	# office NAT 192.0.2.10 (a corporate network): 4 users
	for u in off1 off2 off3 off4; do ssh bastion1 "Nov 26 08:30:00" Accepted $u 192.0.2.10 4300; done
	# event time: two accounts on 198.51.100.99 and two on 198.51.100.98, June 10 10:00
	for u in tim tom; do vpn_start "Jun 10 10:00:00" $u 198.51.100.99; done
	for u in kim kai; do vpn_start "Jun 10 10:00:00" $u 198.51.100.98; done
	# the ASA header forms of the contract, as rsyslog splits them: tag ":" (device-id
	# "host : %ASA-..."), %FTD-, tag "asa01:" (no hostname), message id as tag (timestamp
	# with year and colon), and the unbracketed "Group G User U IP A" variant
	p='AnyConnect parent session started.'
	printf '<166>Nov 26 07:00:40 asa-vpn1 : %%ASA-6-113039: Group <G> User <erin> IP <198.51.100.30> %s\n' "$p"
	printf '<166>Nov 26 2026 07:00:41 asa-vpn1 : %%FTD-6-113039: Group <G> User <erin> IP <198.51.100.31> %s\n' "$p"
	printf '<166>Nov 26 07:00:42 asa01: %%ASA-6-113039: Group <G> User <erin> IP <198.51.100.32> %s\n' "$p"
	printf '<166>Nov 26 2026 07:00:43: %%ASA-6-113039: Group <G> User <erin> IP <198.51.100.33> %s\n' "$p"
	printf '<166>Nov 26 07:00:44 asa-vpn1 %%ASA-6-113039: Group G User erin IP 198.51.100.34 %s\n' "$p"
} >"$MMR_WORK/phase1.log"
n1=$(wc -l <"$MMR_WORK/phase1.log")

# ---- phase 2: the events whose reasons are asserted
{
	ssh bastion1 "Nov 26 08:20:00" Accepted dave 198.51.100.20 50700   # 4th account: farm
	vpn_start "Nov 26 08:21:00" "BOB@corp.example" 198.51.100.20            # bob again: farm
	ssh bastion1 "Nov 26 08:10:05" Failed mallory 203.0.113.50 410005     # 5th failure
	ssh bastion1 "Nov 26 08:10:06" Failed mallory 203.0.113.50 410006     # 6th failure
	for u in sp5 sp6; do ssh bastion2 "Nov 26 08:20:30" Failed $u 203.0.113.77 4200; done
	for u in off5 off6; do ssh bastion1 "Nov 26 08:31:00" Accepted $u 192.0.2.10 4300; done
	vpn_start "Jun 11 11:00:00" ted 198.51.100.99   # 25 h after tim/tom: outside the window
	vpn_start "Jun 11 09:00:00" kat 198.51.100.98   # 23 h after kim/kai: inside the window
} >"$MMR_WORK/phase2.log"
n2=$(wc -l <"$MMR_WORK/phase2.log")

mmr_start
mmr_send "$MMR_WORK/phase1.log"
mmr_wait_lines "$out" "$n1"
mmr_send "$MMR_WORK/phase2.log"
mmr_wait_lines "$out" $((n1 + n2))
mmr_stop
total=$((n1 + n2))
mmr_assert_eq "lines written by omfile" "$total" "$(mmr_lines "$out")"
# phase of each output line: the first n1 lines of the file are phase 1 (it was drained first)
jq -c --argjson n1 "$n1" -n '[inputs] | to_entries[] | .value + {phase: (if .key < $n1 then 1 else 2 end)}' \
	"$out" >"$MMR_WORK/all.json" || mmr_fail "output is not one JSON object per line: $(head -c 600 "$out")"

# ---- structure of every result
band='def band: if . >= 90 then "critical" elif . >= 70 then "high" elif . >= 40 then "moderate" elif . >= 20 then "low" else "unknown" end;'
# every rule id the engine can emit, from the engine itself
rules=$("$MMR_BUILDDIR/tools/mmriskscore-model" --keys | sed -n 's/^rule //p' | jq -R . | jq -sc .) ||
	mmr_fail "tools/mmriskscore-model --keys failed"
mmr_check "every identity line has \$!risk and \$!event" \
	'map(select((.vars.risk | type) != "object" or (.vars.event | type) != "object"))' "$MMR_WORK/all.json"
mmr_check "risk.user is the lower-case normalized user and equals event.user" \
	'map(select(.vars.risk.user != .vars.event.user or .vars.risk.user != (.vars.risk.user | ascii_downcase) or (.vars.risk.user | test("^[a-z0-9.]+$") | not)))' \
	"$MMR_WORK/all.json"
mmr_check "score and user_score integers 0-100, level/user_level their bands" \
	"$band"' map(select(.vars.risk as $r | ($r.score | type) != "number" or $r.score != ($r.score | floor)
		or $r.score < 0 or $r.score > 100 or $r.level != ($r.score | band)
		or ($r.user_score | type) != "number" or $r.user_score != ($r.user_score | floor)
		or $r.user_score < 0 or $r.user_score > 100 or $r.user_level != ($r.user_score | band)))' \
	"$MMR_WORK/all.json"
mmr_check "learning is a boolean and reasons an array of {rule (known id), points 0-100, detail}" \
	"$rules as \$known | map(select(.vars.risk as \$r | (\$r.learning | type) != \"boolean\" or (\$r.reasons | type) != \"array\"
		or any(\$r.reasons[]; (.rule as \$x | \$known | index(\$x)) == null or (.points | type) != \"number\"
			or .points < 0 or .points > 100 or (.detail | type) != \"string\" or (.detail | length) < 10)))" \
	"$MMR_WORK/all.json"
mmr_check "a result with reasons has score > 0, one without has score 0" \
	'map(select((.vars.risk.reasons | length > 0) != (.vars.risk.score > 0)))' "$MMR_WORK/all.json"
mmr_check "event has action, outcome success|failure|unknown, src_ip; host is the syslog hostname" \
	'map(select(.vars.event as $e | ($e.action | type) != "string"
		or (["success","failure","unknown"] | index($e.outcome)) == null
		or ($e.src_ip | type) != "string" or $e.host != .hostname))' "$MMR_WORK/all.json"

# ---- canonical fields of particular lines
MMR_JQ_DEFS='def has_rule($r): any(.vars.risk.reasons[]; .rule == $r);
def rule_detail($r): [.vars.risk.reasons[] | select(.rule == $r) | .detail] | join(" | ");'
mmr_check_all "sshd Accepted for alice: auth/success, src_ip, src_port 50522, auth_method password" \
	'.tag == "sshd[4242]:" and (.msg | test("Accepted password for alice "))' \
	'.vars.event | [.action, .outcome, .user, .src_ip, .src_port, .auth_method] == ["auth", "success", "alice", "198.51.100.20", 50522, "password"]' \
	"$MMR_WORK/all.json" 1
mmr_check_all "sshd Failed for mallory: auth/failure, src_ip" \
	'.msg | test("Failed password for mallory ")' \
	'.vars.event | [.action, .outcome, .user, .src_ip] == ["auth", "failure", "mallory", "203.0.113.50"]' \
	"$MMR_WORK/all.json" 6
mmr_check_all "ASA 113039 for Bob@corp.example: vpn_start, user bob, user_raw as logged, group" \
	'.msg | test("User <B(ob|OB)@corp.example>")' \
	'.vars.event as $e | [$e.action, $e.user, $e.src_ip, $e.group, ($e.user_raw | ascii_downcase), .vars.risk.user]
		== ["vpn_start", "bob", "198.51.100.20", "GroupPolicy_VPN", "bob@corp.example", "bob"]' \
	"$MMR_WORK/all.json" 2
mmr_check_all "ASA 113019: vpn_end for alice, duration 3723 s (1h:02m:03s), bytes_in 123456 (Bytes xmt), bytes_out 7890 (Bytes rcv)" \
	'.tag | test("113019")' \
	'.vars.event | [.action, .user, .src_ip, .duration, .bytes_in, .bytes_out, .reason]
		== ["vpn_end", "alice", "198.51.100.20", 3723, 123456, 7890, "User Requested"]' \
	"$MMR_WORK/all.json" 1
mmr_check_all "the five ASA header forms (: %ASA, : %FTD, asa01:, no host, unbracketed) all parse" \
	'.msg | contains("<erin>") or contains("User erin")' \
	'.vars.event | [.action, .user, .group, (.src_ip | test("^198\\.51\\.100\\.3[0-4]$"))] == ["vpn_start", "erin", "G", true]' \
	"$MMR_WORK/all.json" 5

# ---- detectors
mmr_check_all "phase 2 logins on 198.51.100.20 (dave, bob: 4 accounts within 24 h) carry network.shared_source_ip naming the IP and 4 accounts" \
	'.phase == 2 and .vars.event.src_ip == "198.51.100.20"' \
	'rule_detail("network.shared_source_ip") | contains("198.51.100.20") and test("^4 ")' \
	"$MMR_WORK/all.json" 2
mmr_check_all "phase 2 failures 5 and 6 of mallory carry auth.failure_burst.user" \
	'.phase == 2 and .vars.event.user == "mallory"' 'has_rule("auth.failure_burst.user")' \
	"$MMR_WORK/all.json" 2
mmr_check_all "phase 1 failures 1-4 of mallory carry no auth.failure_burst.* (threshold 5)" \
	'.phase == 1 and .vars.event.user == "mallory"' \
	'any(.vars.risk.reasons[]; .rule | startswith("auth.failure_burst")) | not' \
	"$MMR_WORK/all.json" 4
mmr_check_all "phase 2 spraying failures (5th and 6th from 203.0.113.77) carry auth.failure_burst.source_ip naming the IP" \
	'.phase == 2 and .vars.event.src_ip == "203.0.113.77"' \
	'rule_detail("auth.failure_burst.source_ip") | contains("203.0.113.77")' \
	"$MMR_WORK/all.json" 2
mmr_check "failures never carry network.shared_source_ip" \
	"$MMR_JQ_DEFS"' [.[] | select(.vars.event.outcome == "failure" and has_rule("network.shared_source_ip"))]' \
	"$MMR_WORK/all.json"
mmr_check_all "6 users on the corporate network 192.0.2.10: no network.shared_source_ip" \
	'.vars.event.src_ip == "192.0.2.10"' 'has_rule("network.shared_source_ip") | not' \
	"$MMR_WORK/all.json" 6
# event time: were the wall clock (or arrival order) used, ted would be the 3rd account on .99
# within 24 h and fire exactly like kat does on .98; by syslog timestamp tim/tom are 25 h old.
mmr_check_all "kat (23 h after kim, kai on 198.51.100.98) carries network.shared_source_ip naming the IP" \
	'.vars.event.user == "kat"' 'rule_detail("network.shared_source_ip") | contains("198.51.100.98")' \
	"$MMR_WORK/all.json" 1
mmr_check_all "ted (25 h of event time after tim, tom on 198.51.100.99; farm.window=86400) has no network.shared_source_ip" \
	'.vars.event.user == "ted"' 'has_rule("network.shared_source_ip") | not' \
	"$MMR_WORK/all.json" 1

grep -Eiq 'mmriskscore.*(error|cannot)' "$MMR_WORK/internal.log" 2>/dev/null &&
	mmr_fail "the internal log reports mmriskscore errors"
mmr_pass "$total lines scored through rsyslogd with 4 workers; fields, bands, farm, bursts, corporate network and event time as expected"
