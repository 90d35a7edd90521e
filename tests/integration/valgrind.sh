#!/bin/bash
# rsyslogd with the module under valgrind memcheck: ~300 mixed lines (identity, noise, parsed
# but not identity, odd inputs) through two mmriskscore actions (rulebase on tag+msg with 2
# workers; parse.input="msg" into a local-variable container with no event container), a HUP
# (rulebase reload) while lines flow, then SIGTERM. Passes only when valgrind reports no error
# and no definite leak (valgrind.supp holds only rsyslogd's and libraries' own known noise,
# never a frame of ours) and every line came out.
# Skips (77) when VALGRIND is set but empty (configure found no valgrind).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

[ -n "$MMR_VALGRIND" ] || mmr_skip "valgrind not available (VALGRIND is empty)"
mmr_init
mmr_need_rulebase
supp=$(dirname "$0")/valgrind.supp
[ -f "$supp" ] || mmr_fail "missing suppression file $supp"
rb=$MMR_WORK/identity-vpn.copy.rulebase
cp "$MMR_RULEBASE" "$rb" || mmr_fail "cannot copy $MMR_RULEBASE"
out=$MMR_WORK/out.json

MMR_GLOBAL_EXTRA='debug.unloadmodules="off"' # keep mmriskscore.so mapped: symbolized stacks
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2"
	queue.workerThreadMinimumMessages="1") {
	action(type="mmriskscore" rulebase="$rb" farm.minusers="2" failburst.user.count="3")
	action(type="mmriskscore" rulebase="$rb" parse.input="msg" container="\$.r" eventcontainer=""
	       corporatenetworks=["10.0.0.0/8", "2001:db8::/32"])
	action(type="omfile" file="$out" template="mmr_json")
}
EOF

in=$MMR_WORK/in.log
long=$(printf '%*s' 10240 '' | tr ' ' y)
for ((i = 0; i < 30; i++)); do
	ts=$(printf 'Nov 26 %02d:%02d:%02d' $((i % 24)) $((i % 60)) $((i % 60)))
	u=user$((i % 7)) ip=198.51.100.$((i % 5 + 1))
	printf '<38>%s bastion1 sshd[%d]: Accepted password for %s from %s port %d ssh2\n' "$ts" $i "$u" "$ip" $((40000 + i))
	printf '<38>%s bastion1 sshd[%d]: Failed password for %s from 203.0.113.9 port %d ssh2\n' "$ts" $i "$u" $((40000 + i))
	printf '<38>%s bastion1 sshd[%d]: Failed password for invalid user CORP\\x%d from 2001:db8::%d port 22 ssh2\n' "$ts" $i $i $i
	printf '<166>%s asa-vpn1 %%ASA-6-113039: Group <GroupPolicy_VPN> User <%s@corp.example> IP <%s> AnyConnect parent session started.\n' "$ts" "$u" "$ip"
	printf '<164>%s asa-vpn1 %%ASA-4-113019: Group = GP, Username = %s, IP = %s, Session disconnected. Session Type: SSL, Duration: 1d 2h:03m:0%ds, Bytes xmt: %d, Bytes rcv: %d, Reason: Idle Timeout\n' "$ts" "$u" "$ip" $((i % 10)) $((i * 7)) $((i * 3))
	printf '<38>%s bastion1 sshd[%d]: Failed none for %s from %s port 22 ssh2\n' "$ts" $i "$u" "$ip"
	printf '<30>%s host1 systemd[1]: noise-%d Started Session %d.\n' "$ts" $i $i
	printf '<13>%s odd1 prog[%d]: \n' "$ts" $i
	printf '<13>%s odd1 prog[%d]:\n' "$ts" $i
	if ((i % 3 == 0)); then
		printf '<13>%s odd1 app[%d]: long %s\n' "$ts" $i "$long"
		printf '<38>%s bastion1 sshd[%d]: Accepted password for %s%s from 198.51.100.1 port 22 ssh2\n' "$ts" $i "$long" $i
		printf '<13>%s odd1 app[%d]: bad \xc3\x28 utf \xff\xfe end\n' "$ts" $i
	fi
done >"$in"
total=$(wc -l <"$in")
head -n $((total / 2)) "$in" >"$MMR_WORK/in1.log"
tail -n +$((total / 2 + 1)) "$in" >"$MMR_WORK/in2.log"

MMR_UNDER_VALGRIND=1
MMR_VALGRIND_OPTS="--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --num-callers=40 --suppressions=$supp"
# generous: under valgrind on a busy 2-core machine the start alone has taken over 40 s
mmr_start "$MMR_CONF" 180
mmr_send "$MMR_WORK/in1.log"
kill -HUP "$MMR_PID" # reload the rulebase while the first half is being worked on
mmr_send "$MMR_WORK/in2.log"
mmr_wait_lines "$out" "$total" 180
# rsyslogd handles the HUP on its main thread, possibly after the last line was written:
# wait for it before stopping, or a slow (loaded, valgrind) run stops before the reload
mmr_wait_internal "HUP: rulebase .* reloaded" 60
mmr_stop 50
vg=$MMR_WORK/valgrind.log

summary=$(grep -E 'ERROR SUMMARY' "$vg" | tail -n 1)
[ -n "$summary" ] || mmr_fail "valgrind wrote no ERROR SUMMARY (exit status $MMR_RC)"
ours='mmr_|mmriskscore|/engine/|doAction|doHUP|newActInst|freeInstance'
if [ "$MMR_RC" = 99 ] || ! grep -q 'ERROR SUMMARY: 0 errors' <<<"$summary"; then
	# show our errors first: the blocks that name one of our frames
	awk -v re="$ours" '/^==[0-9]+== $/ { if (blk ~ re) print blk; blk = ""; next } { blk = blk $0 "\n" }' \
		"$vg" | head -n 80 >&2
	mmr_fail "expected valgrind to report 0 errors and no definite leak; saw: ${summary#*== }" \
		"(exit status $MMR_RC; blocks with mmriskscore/engine frames above, full log: $vg, keep it with MMRISK_KEEP=1)"
fi
mmr_assert_eq "rsyslogd exit status under valgrind" 0 "$MMR_RC"
mmr_assert_eq "lines out for $total in" "$total" "$(mmr_lines "$out")"
scored=$(mmr_jq "$out" 'map(select(.vars.risk != null)) | length')
[ "$scored" -gt 0 ] || mmr_fail "expected scored lines in the output, saw none"
grep -q "HUP: rulebase .* reloaded" "$MMR_WORK/internal.log" ||
	mmr_fail "expected the HUP to reload the rulebase (internal log)"
mmr_pass "$total lines, $scored scored, HUP reload: valgrind ${summary#*== }"
