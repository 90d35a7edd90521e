#!/bin/bash
# "Never lose or block a message" (DESIGN §2), through the real rsyslogd with 4 workers:
# about 2000 lines -- identity events (sshd, Cisco ASA), unparsable noise, lines the rulebase
# parses but that are no identity event (sshd "Failed none", ASA LAN-to-LAN 113019) and odd
# inputs (empty message, a line that is only a tag, 10 KB lines, invalid UTF-8) -- must all
# come out: count in == count out, every msg byte for byte as sent, $!risk/$!event exactly on
# the identity lines. impstats must agree: mmriskscore's submitted == what the action
# processed == lines sent, and scored + unparsed + not_identity == submitted, each equal to
# what was sent of its kind.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
out=$MMR_WORK/out.json
msgs=$MMR_WORK/msgs.out
stats=$MMR_WORK/stats.log

mmr_write_conf "$MMR_WORK/r.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="4"
	queue.workerThreadMinimumMessages="1") {
	action(name="risk" type="mmriskscore" rulebase="$MMR_RULEBASE")
	action(type="omfile" file="$out" template="mmr_json")
	action(type="omfile" file="$msgs" template="mmr_msg")
}
EOF

# ---- the input. Every line is written by line KIND HEADER MSG: the line sent is HEADER+MSG
# and MSG is exactly what rsyslog's msg property must hold (text after the tag, leading space
# included). KIND (identity | noise | notid) goes to a side file for the counts.
in=$MMR_WORK/in.log
expected_msgs=$MMR_WORK/msgs.expected
: >"$in"
: >"$expected_msgs"
n_identity=0 n_noise=0 n_notid=0
line() {
	printf '%s%s\n' "$2" "$3" >>"$in"
	printf '%s\n' "$3" >>"$expected_msgs"
	case $1 in
	identity) n_identity=$((n_identity + 1)) ;;
	noise) n_noise=$((n_noise + 1)) ;;
	notid) n_notid=$((n_notid + 1)) ;;
	esac
}
long=$(printf '%*s' 10240 '' | tr ' ' x)
for ((i = 0; i < 250; i++)); do
	h=$((i % 24)) m=$((i % 60)) u=user$((i % 97)) ip=198.51.100.$((i % 200 + 1))
	ts=$(printf 'Nov 26 %02d:%02d:%02d' "$h" "$m" "$((i % 60))")
	line identity "<38>$ts bastion$((i % 3)) sshd[$((1000 + i))]:" " Accepted publickey for $u from $ip port $((40000 + i)) ssh2: ED25519 SHA256:abc$i"
	line identity "<38>$ts bastion$((i % 3)) sshd[$((1000 + i))]:" " Failed password for invalid user x$i from 203.0.113.$((i % 50 + 1)) port $((40000 + i)) ssh2"
	line identity "<166>$ts asa-vpn1 %ASA-6-113039:" " Group <GroupPolicy_VPN> User <$u@corp.example> IP <$ip> AnyConnect parent session started."
	line identity "<164>$ts asa-vpn1 %ASA-4-113019:" " Group = GroupPolicy_VPN, Username = $u, IP = $ip, Session disconnected. Session Type: SSL, Duration: 0h:$((i % 60))m:0$((i % 10))s, Bytes xmt: $((i * 1000)), Bytes rcv: $((i * 10)), Reason: User Requested"
	line noise "<30>$ts host$((i % 5)) systemd[1]:" " noise-$i Started Session $i of user $u."
	line noise "<78>$ts host$((i % 5)) CRON[$((2000 + i))]:" " noise-$i ($u) CMD (run-parts /etc/cron.hourly)"
	line noise "<38>$ts bastion1 sshd[$((1000 + i))]:" " noise-$i Connection closed by 198.51.100.9 port 22 [preauth]"
	if ((i % 2 == 0)); then
		line notid "<38>$ts bastion1 sshd[$((1000 + i))]:" " Failed none for $u from $ip port $((40000 + i)) ssh2"
	else
		line notid "<164>$ts asa-vpn1 %ASA-4-113019:" " Group = 192.0.2.$((i % 200)), Username = 192.0.2.$((i % 200)), IP = 192.0.2.$((i % 200)), Session disconnected. Session Type: LAN-to-LAN, Duration: 0h:01m:00s, Bytes xmt: 1, Bytes rcv: 2, Reason: User Requested"
	fi
	if ((i % 25 == 0)); then # odd inputs, 10 of each
		line noise "<13>$ts odd1 prog[$i]:" " "                          # empty message
		line noise "<13>$ts odd1 prog[$i]:" ""                           # only a tag
		line noise "<13>$ts odd1 app[$i]:" " long-$i $long"              # 10 KB, unparsed
		line identity "<38>$ts bastion1 sshd[$i]:" " Accepted password for long$i$long from 198.51.100.3 port 22 ssh2" # 10 KB user name
		line noise "<13>$ts odd1 app[$i]:" $' bad-utf8 \xc3\x28 \xff\xfe end'  # invalid UTF-8
		line identity "<38>$ts bastion1 sshd[$i]:" $' Accepted password for \xff\xfe'"u$i"' from 198.51.100.4 port 22 ssh2'
	fi
done
total=$(wc -l <"$in")
[ "$total" = $((n_identity + n_noise + n_notid)) ] || mmr_fail "test bug: $total lines, kinds do not add up"

mmr_start
mmr_send "$in"
mmr_wait_lines "$out" "$total"
# the counters: wait for the impstats record that has seen every message
stat_line() { sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -c --arg n "$1" 'select(.name == $n)' 2>/dev/null | tail -n 1; }
for ((i = 0; i < 100; i++)); do
	s=$(stat_line mmriskscore)
	[ -n "$s" ] && [ "$(jq .submitted <<<"$s")" -ge "$total" ] && break
	sleep 0.1
done
mmr_stop
mmr_assert_eq "rsyslogd exit status after SIGTERM" 0 "$MMR_RC"

# ---- count in == count out, msg unchanged
mmr_assert_eq "lines out (omfile JSON) for $total lines in" "$total" "$(mmr_lines "$out")"
mmr_assert_eq "lines out (omfile msg) for $total lines in" "$total" "$(mmr_lines "$msgs")"
# order differs with 4 workers: compare the sorted multisets, byte for byte
if ! cmp -s <(LC_ALL=C sort "$expected_msgs") <(LC_ALL=C sort "$msgs"); then
	diff <(LC_ALL=C sort "$expected_msgs") <(LC_ALL=C sort "$msgs") | cut -c1-200 | head -n 10 >&2
	mmr_fail "expected every msg to come out byte for byte as sent; they differ (diff expected/seen above)"
fi

# ---- $!risk/$!event on exactly the identity lines
mmr_check "lines without \$!risk carry no \$!event and nothing else in \$! either" \
	'map(select(.vars.risk == null and .vars != {}))' "$out"
mmr_check "lines with \$!risk carry \$!event" 'map(select(.vars.risk != null and .vars.event == null))' "$out"
scored_lines=$(mmr_jq "$out" 'map(select(.vars.risk != null)) | length')
mmr_assert_eq "lines with \$!risk (identity lines sent)" "$n_identity" "$scored_lines"
mmr_check "noise, odd and not-identity lines are never scored" \
	'map(select(.vars.risk != null and (.msg | test("noise-|long-|bad-utf8|Failed none|LAN-to-LAN") or length < 2)))' "$out"
mmr_check "10 KB user names are scored with a bounded user key" \
	'map(select(.msg | test("Accepted password for long")) | select((.vars.risk.user | length) > 256 or (.vars.risk.user | startswith("long") | not)))' "$out"

# ---- impstats
[ -n "$s" ] || mmr_fail "no mmriskscore record in the impstats log $stats"
a=$(stat_line risk)
[ -n "$a" ] || mmr_fail "no record for action \"risk\" in the impstats log"
get() { jq -r ".\"$2\"" <<<"$1"; }
submitted=$(get "$s" submitted) scored=$(get "$s" scored) unparsed=$(get "$s" unparsed)
notid=$(get "$s" not_identity) failed=$(get "$s" failed)
mmr_assert_eq "impstats: action risk processed (lines sent)" "$total" "$(get "$a" processed)"
mmr_assert_eq "impstats: mmriskscore submitted == action processed" "$(get "$a" processed)" "$submitted"
mmr_assert_eq "impstats: scored + unparsed + not_identity == submitted ($s)" "$submitted" $((scored + unparsed + notid))
mmr_assert_eq "impstats: scored (identity lines sent)" "$n_identity" "$scored"
mmr_assert_eq "impstats: not_identity (parsed, not identity lines sent)" "$n_notid" "$notid"
mmr_assert_eq "impstats: unparsed (noise and odd lines sent)" "$n_noise" "$unparsed"
mmr_assert_eq "impstats: failed" 0 "$failed"
mmr_assert_eq "impstats: action risk failed" 0 "$(get "$a" failed)"

mmr_pass "$total lines in, $total out, msg unchanged; scored $scored, unparsed $unparsed, not_identity $notid (impstats agrees)"
