#!/bin/bash
# Scale-out on one machine (docs/scale-out.md): the example configs of contrib/scale-out/ run as
# a relay (mmriskscore mode="route" + the shard table), 3 scorers and a sink, each a real
# rsyslogd on a loopback port chosen at run time, fed a simulator company (80 users, 18 days,
# full context: roster, lists, GeoIP, corporate networks).
#
# Part A, the first 60 % of the lines, nothing killed:
#   1. every message arrives at the sink exactly once (timestamp, host and message of each line
#      compared as a multiset with the input);
#   2. each user's events were scored on exactly one scorer, and it is the scorer whose shards
#      hold the user: the users of scorerK are those of `mmriskscore-replay --owned` with
#      scorerK's shards;
#   3. the sharded output equals, user by user and event by event, the replay of each scorer's
#      shards (`--owned`): the deployment is exactly the split the docs measure;
#   4. against one single instance (the replay of everything, which is byte for byte the
#      module): users that no cross-entity rule touched in either run have identical risk on
#      every event; for the others every per-user rule fires on the same events in both runs
#      (only the cross-entity rules, and the points they leave to the others under the caps,
#      differ — the bound docs/scale-out.md states).
# Part B, the next 25 %: scorer2 is killed with SIGKILL mid-feed (after it wrote a snapshot)
# and restarted: no message is lost (the relay's queue held them, RELP resent what was not
# acknowledged), duplicates are few and only of scorer2's messages, and scorer2 restored its
# users from its snapshot (its "state restored" line). No part delivers a scorer's line without
# "risk" (an event of a shard the scorer does not own: misrouted).
# Part C, the last 15 %: a fourth scorer is added as docs/scale-out.md says: everything stopped,
# `mmriskscore-shard-table --from` moves 64 shards, all to scorer4 and none between the old
# ones, their files are moved into scorer4's statedir, all restarted with the new table and
# lists: scorer4 adopts exactly the moved files, every message arrives exactly once, each user
# on one scorer, and moved users who had finished learning are not learning again on scorer4.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scale-out-lib.sh"

mmr_init
mmr_need_rulebase
trap 'rc=$?; so_stop_all; (exit $rc); mmr_cleanup' EXIT
REPLAY=${MMRISK_REPLAY:-$MMR_BUILDDIR/tools/mmriskscore-replay}
SIMULATE=${MMRISK_SIMULATE:-$MMR_SRCDIR/contrib/simulator/mmrisk-simulate}
[ -x "$REPLAY" ] || mmr_fail "no $REPLAY (make builds it)"
moddir=$(dirname "$(dpkg -L rsyslog-relp 2>/dev/null | grep '/omrelp\.so$' | head -n 1)")
[ -f "$moddir/omrelp.so" ] && [ -f "$moddir/imrelp.so" ] ||
	mmr_fail "rsyslog's RELP modules are missing: scripts/build.sh installs rsyslog-relp"
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
	mmr_fail "the simulator needs MaxMind::DB::Writer: scripts/build.sh installs libmaxmind-db-writer-perl"

# the replay's shard filter refuses what is not a list of shards
for bad in "--owned 0-256" "--owned 5-3" "--owned x" "--shards 4 --owned 4" "--shards 4"; do
	# shellcheck disable=SC2086
	if "$REPLAY" $bad -r "$MMR_RULEBASE" /dev/null >/dev/null 2>"$MMR_WORK/bad.err" ||
		! grep -q -e '--owned' -e '--shards' "$MMR_WORK/bad.err"; then
		mmr_fail "mmriskscore-replay $bad: expected an error naming the option, got: $(cat "$MMR_WORK/bad.err")"
	fi
done

# the Kafka variant, on paper: the examples pass rsyslogd -N1 (rsyslog-kafka)
[ -f "$moddir/omkafka.so" ] && [ -f "$moddir/imkafka.so" ] ||
	mmr_fail "rsyslog's Kafka modules are missing: scripts/build.sh installs rsyslog-kafka"
mkdir -p "$MMR_WORK/kafka/state"
for ex in kafka-relay kafka-scorer; do
	sed -e "s|module(load=\"mmriskscore\")|module(load=\"$(so_rep "$MMR_MODULE")\")|" \
		-e "s|/usr/local/share/mmriskscore/rulebase/identity-vpn.rulebase|$(so_rep "$MMR_RULEBASE")|g" \
		-e "s|/usr/local/share/mmriskscore/mappings|$(so_rep "$SO_MAPPINGS")|g" \
		-e "s|/usr/local/share/mmriskscore/lists|$(so_rep "$MMR_SRCDIR/contrib/lists")|g" \
		-e "s|/var/spool/rsyslog|$(so_rep "$MMR_WORK/kafka")|g" \
		-e "s|/var/log/mmriskscore|$(so_rep "$MMR_WORK/kafka")|g" \
		-e "s|/var/lib/mmriskscore/state|$(so_rep "$MMR_WORK/kafka/state")|g" \
		"$SO_CONTRIB/$ex.conf.example" >"$MMR_WORK/kafka/$ex.conf"
	"$MMR_RSYSLOGD" -N1 -f "$MMR_WORK/kafka/$ex.conf" >"$MMR_WORK/kafka/$ex.n1" 2>&1 ||
		mmr_fail "rsyslogd -N1 rejects contrib/scale-out/$ex.conf.example: $(cat "$MMR_WORK/kafka/$ex.n1")"
done

SIM=$MMR_WORK/sim
perl "$SIMULATE" --seed 3 --users 80 --days 18 --out "$SIM" --quiet >"$MMR_WORK/sim.log" 2>&1 ||
	mmr_fail "the simulator failed: $(tail -n 3 "$MMR_WORK/sim.log")"
grep . "$SIM/logs.syslog" >"$MMR_WORK/all.log"
total=$(wc -l <"$MMR_WORK/all.log")
nA=$((total * 60 / 100))
nB=$((total * 25 / 100))
nC=$((total - nA - nB))
head -n "$nA" "$MMR_WORK/all.log" >"$MMR_WORK/a.log"
tail -n +"$((nA + 1))" "$MMR_WORK/all.log" | head -n "$nB" >"$MMR_WORK/b.log"
tail -n +"$((nA + nB + 1))" "$MMR_WORK/all.log" >"$MMR_WORK/c.log"

so_setup 3 "$SIM"

# ---- references: the replay, with the scorers' context -------------------------------------
corp=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$SIM/lists/corporate-networks.txt" | grep . | paste -sd, -)
ctx=(-r "$MMR_RULEBASE" -m "$SO_MAPPINGS" --roster "$SIM/roster.csv" --lists-dir "$SIM/lists"
	--geoip-city "$SIM/geoip-city.mmdb" --geoip-asn "$SIM/geoip-asn.mmdb" --corporate "$corp" -q)
export TZ=UTC
"$REPLAY" "${ctx[@]}" -o "$MMR_WORK/single.json" "$MMR_WORK/a.log" || mmr_fail "replay of part A failed"
for k in 1 2 3; do
	owned=$("$SO_CONTRIB/mmriskscore-shard-table" --owned "scorer$k" "$MMR_WORK/shards.json")
	"$REPLAY" "${ctx[@]}" --owned "$owned" -o "$MMR_WORK/part$k.json" "$MMR_WORK/a.log" ||
		mmr_fail "replay --owned $owned failed"
done

# ---- part A ----------------------------------------------------------------------------------
so_start sink
for k in 1 2 3; do so_start "scorer$k"; done
so_start relay
sink=$MMR_WORK/sink/log/identity-risk.json
t0=$SECONDS
so_feed "$MMR_WORK/a.log"
so_wait_lines "$sink" "$nA" 60
tA=$((SECONDS - t0))
sleep 1 # a second copy of anything would show now
wait "$SO_FEEDER" 2>/dev/null
SO_FEEDER=
cp "$sink" "$MMR_WORK/sinkA.json"
gotA=$(wc -l <"$MMR_WORK/sinkA.json")
jq -c . "$MMR_WORK/sinkA.json" >/dev/null 2>&1 || mmr_fail "the sink holds lines that are not JSON"

# 1. exactly once
jq -c '[.timestamp, .host, .msg]' "$MMR_WORK/sinkA.json" | sort >"$MMR_WORK/keysA.sink"
jq -c '[.time, .host, .msg]' "$MMR_WORK/single.json" | sort >"$MMR_WORK/keysA.in"
if ! cmp -s "$MMR_WORK/keysA.in" "$MMR_WORK/keysA.sink"; then
	mmr_fail "part A: expected each of the $nA messages exactly once at the sink, saw $gotA lines; missing (<) / extra (>):
$(diff "$MMR_WORK/keysA.in" "$MMR_WORK/keysA.sink" | grep '^[<>]' | head -n 5 | cut -c1-300)"
fi

# 2. one scorer per user, the one that owns the user's shard; none misrouted (a scorer passes
#    an event of a shard it does not own unscored: a line from a scorer without "risk")
no_misrouted() {
	mmr_check "$1: every line a scorer delivered was scored (none misrouted)" \
		'map(select(.scorer != "relay" and .risk == null))' "$2"
}
no_misrouted "part A" "$MMR_WORK/sinkA.json"
mmr_check "each user scored on exactly one scorer" \
	'[.[] | select(.risk) | {u: .risk.user, s: .scorer}] | group_by(.u)
	 | map({user: .[0].u, scorers: (map(.s) | unique)}) | map(select(.scorers | length != 1))' \
	"$MMR_WORK/sinkA.json"
for k in 1 2 3; do
	a=$(jq -r "select(.risk and .scorer == \"scorer$k\") | .risk.user" "$MMR_WORK/sinkA.json" | sort -u | md5sum)
	b=$(jq -r 'select(.risk) | .risk.user' "$MMR_WORK/part$k.json" | sort -u | md5sum)
	[ "$a" = "$b" ] || mmr_fail "scorer$k scored other users than those of its shards (replay --owned)"
done
[ "$(jq -r 'select(.risk == null) | .scorer' "$MMR_WORK/sinkA.json" | sort -u)" = relay ] ||
	mmr_fail "expected the messages that are not identity events to come from the relay only"

# 3. the deployment is exactly the split replay; 4. and the single instance where it must be
cross='["time.timezone_mismatch","time.uncommon_hour_peers","geo.uncommon_country_peers",
	"geo.first_seen_country_tenant","network.uncommon_asn_peers","network.first_seen_asn_tenant",
	"access.uncommon_target_peers","volume.peer_outlier","account.dormant_reuse",
	"auth.failure_burst.source_ip","network.shared_source_ip","network.laptop_farm",
	"device.shared_across_accounts","correlation.exit_and_outside_access"]'
cat "$MMR_WORK"/part[123].json >"$MMR_WORK/split.json"
cmp_users() { # FILE_A FILE_B -> per-user comparison, one JSON object per user
	jq -n -c --argjson cross "$cross" --slurpfile a <(jq -c 'select(.risk) | {u: .risk.user, r: .risk}' "$1") \
		--slurpfile b <(jq -c 'select(.risk) | {u: .risk.user, r: .risk}' "$2") '
		def byu: group_by(.u) | map({key: .[0].u, value: map(.r)}) | from_entries;
		def own: [.reasons[]?.rule | select(. as $x | $cross | index($x) | not)];
		($a | byu) as $A | ($b | byu) as $B
		| ($A + $B | keys)[] as $u | ($A[$u] // []) as $x | ($B[$u] // []) as $y
		| {u: $u, n: ($x | length), m: ($y | length), same: ($x == $y),
		   touched: ([$x[], $y[] | .reasons[]?.rule | select(. as $r | $cross | index($r))] | length > 0),
		   own_same: (($x | length) == ($y | length) and ([range(0; $x | length) | select(($x[.] | own) != ($y[.] | own))] | length) == 0),
		   us_diff: ([range(0; [$x, $y] | map(length) | min) | (($x[.].user_score - $y[.].user_score) | fabs)] | max // 0)}'
}
cmp_users "$MMR_WORK/split.json" "$MMR_WORK/sinkA.json" >"$MMR_WORK/vs-split.json"
mmr_check "every user's events scored by the scorers exactly as the replay of their shards (--owned)" \
	'map(select(.same | not))' "$MMR_WORK/vs-split.json"
cmp_users "$MMR_WORK/single.json" "$MMR_WORK/sinkA.json" >"$MMR_WORK/vs-single.json"
mmr_check "users no cross-entity rule touched: identical risk on every event to the single instance" \
	'map(select((.touched | not) and (.same | not)))' "$MMR_WORK/vs-single.json"
mmr_check "users touched by cross-entity rules: the same per-user rules on the same events as the single instance" \
	'map(select(.touched and (.own_same | not)))' "$MMR_WORK/vs-single.json"
users=$(jq -s length "$MMR_WORK/vs-single.json")
pure=$(jq -s 'map(select(.touched | not)) | length' "$MMR_WORK/vs-single.json")
[ "$pure" -ge 10 ] || mmr_fail "expected at least 10 users without cross-entity rules to compare exactly, saw $pure"
touched_same=$(jq -s 'map(select(.touched and .same)) | length' "$MMR_WORK/vs-single.json")
maxdiff=$(jq -s 'map(.us_diff) | max' "$MMR_WORK/vs-single.json")

# ---- part B: SIGKILL one scorer mid-feed -----------------------------------------------------
st2=$MMR_WORK/scorer2/state
: >"$MMR_WORK/scorer2/internal.log.B"
# Part B is fed in two halves, the second after scorer2's restart. The relay finds out that
# a RELP connection broke only when it next sends on it: what scorer2 had not acknowledged
# is resent then (docs/scale-out.md, section 4). Were every message of part B already sent
# towards scorer2 before the kill, nothing would make the relay try again.
head -n "$((nB / 2))" "$MMR_WORK/b.log" >"$MMR_WORK/b1.log"
tail -n +"$((nB / 2 + 1))" "$MMR_WORK/b.log" >"$MMR_WORK/b2.log"
so_feed "$MMR_WORK/b1.log"
# kill once a fifth of part B is through and scorer2 has written a snapshot since part A
for ((i = 0; i < 300; i++)); do
	[ "$(mmr_lines "$sink")" -ge $((nA + nB / 5)) ] && [ -n "$(find "$st2" -newer "$MMR_WORK/sinkA.json" -type f 2>/dev/null | head -n 1)" ] && break
	sleep 0.1
done
[ -n "$(find "$st2" -newer "$MMR_WORK/sinkA.json" -type f 2>/dev/null | head -n 1)" ] ||
	mmr_fail "scorer2 wrote no snapshot within 30 s (statefile.interval=$SO_SNAP_INTERVAL)"
atkill=$(mmr_lines "$sink")
[ "$atkill" -lt $((nA + nB)) ] || mmr_fail "part B was through before the kill: no kill mid-feed"
so_kill9 scorer2
: >"$MMR_WORK/scorer2/internal.log"
sleep 1
so_start scorer2
wait "$SO_FEEDER" 2>/dev/null
so_feed "$MMR_WORK/b2.log"
so_wait_lines "$sink" $((nA + nB)) 60
sleep 2
wait "$SO_FEEDER" 2>/dev/null
SO_FEEDER=
tail -n +"$((gotA + 1))" "$sink" >"$MMR_WORK/sinkB.json"
no_misrouted "part B" "$MMR_WORK/sinkB.json"
jq -c '[.timestamp, .host, .msg]' "$MMR_WORK/sinkB.json" | sort >"$MMR_WORK/keysB.sink"
"$REPLAY" "${ctx[@]}" -o "$MMR_WORK/singleB.json" "$MMR_WORK/b.log" || mmr_fail "replay of part B failed"
jq -c '[.time, .host, .msg]' "$MMR_WORK/singleB.json" | sort >"$MMR_WORK/keysB.in"
# multisets: a line the input holds twice must arrive twice
missing=$(comm -23 "$MMR_WORK/keysB.in" "$MMR_WORK/keysB.sink" | wc -l)
[ "$missing" = 0 ] || mmr_fail "part B: $missing of $nB messages never reached the sink after scorer2 was killed; first:
$(comm -23 "$MMR_WORK/keysB.in" "$MMR_WORK/keysB.sink" | head -n 3 | cut -c1-300)"
comm -13 "$MMR_WORK/keysB.in" "$MMR_WORK/keysB.sink" >"$MMR_WORK/extraB"
dups=$(wc -l <"$MMR_WORK/extraB")
# at least once: a copy comes from RELP resending what scorer2 had scored but not yet
# acknowledged, or from its disk queue's last unconfirmed message; never more than a window
[ "$dups" -le 1024 ] || mmr_fail "part B: $dups duplicate messages after one kill; expected at most the RELP window (windowSize=\"1024\")"
dupfrom=$(jq -r --slurpfile x <(jq -c . "$MMR_WORK/extraB") \
	'select([.timestamp, .host, .msg] as $k | $x | index([$k])) | .scorer' "$MMR_WORK/sinkB.json" | sort -u | tr '\n' ' ')
[ -z "$dupfrom" ] || [ "$dupfrom" = "scorer2 " ] || mmr_fail "part B: duplicates from $dupfrom, expected only from the killed scorer2"
restored=$(grep -o "state restored .*: restored [0-9]* users" "$MMR_WORK/scorer2/internal.log" | head -n 1)
[ -n "$restored" ] || mmr_fail "scorer2 restarted without restoring its snapshot; its log:
$(grep mmriskscore "$MMR_WORK/scorer2/internal.log" | tail -n 3)"
n2=$(sed -n 's/.*: restored \([0-9]*\) users/\1/p' <<<"$restored")
restored="restored $n2 users"
users2=$(jq -r 'select(.risk and .scorer == "scorer2") | .risk.user' "$MMR_WORK/sinkA.json" | sort -u | wc -l)
[ "${n2:-0}" -ge "$users2" ] && [ "$users2" -ge 1 ] ||
	mmr_fail "scorer2 restored $n2 users from a snapshot written after part A, expected at least its $users2 users of part A"
mmr_check "part B: each user still on exactly one scorer" \
	'[.[] | select(.risk) | {u: .risk.user, s: .scorer}] | group_by(.u)
	 | map({user: .[0].u, scorers: (map(.s) | unique)}) | map(select(.scorers | length != 1))' \
	"$MMR_WORK/sinkB.json"

# ---- part C: a fourth scorer takes shards over (docs/scale-out.md, "Adding a scorer") -------
# every instance stopped cleanly (final snapshots); the table rebalanced with the fewest moves;
# the moved shards' files go to scorer4; everything restarted with the new table and lists
so_stop_all
cat "$MMR_WORK/sinkA.json" "$MMR_WORK/sinkB.json" >"$MMR_WORK/sinkAB.json"
"$SO_CONTRIB/mmriskscore-shard-table" --scorers scorer1,scorer2,scorer3,scorer4 \
	--from "$MMR_WORK/shards.json" >"$MMR_WORK/shards4.json" 2>"$MMR_WORK/moves.txt" ||
	mmr_fail "mmriskscore-shard-table --from failed: $(cat "$MMR_WORK/moves.txt")"
mmr_assert_eq "shards moved from 3 to 4 scorers" 64 "$(wc -l <"$MMR_WORK/moves.txt")"
grep -v ' -> scorer4$' "$MMR_WORK/moves.txt" && mmr_fail "a shard moved between the old scorers"
mkdir -p "$MMR_WORK/scorer4/state"
moved=0
while read -r _ _ k from _ _; do
	f=$(printf 'shard-%03d.mmrs' "$k")
	[ -f "$MMR_WORK/$from/state/$f" ] || continue
	mv "$MMR_WORK/$from/state/$f" "$MMR_WORK/scorer4/state/" || mmr_fail "cannot move $f"
	moved=$((moved + 1))
done <"$MMR_WORK/moves.txt"
[ "$moved" -ge 1 ] || mmr_fail "none of the 64 moved shards had a file: nothing to adopt"
SO_TABLE=$MMR_WORK/shards4.json so_setup 4 "$SIM"
so_start sink
for k in 1 2 3 4; do so_start "scorer$k"; done
so_start relay
adopted=$(grep -o "state restored .*: restored [0-9]* users .* from [0-9]* files" "$MMR_WORK/scorer4/internal.log" | head -n 1)
adopted=${adopted#*: }
[[ $adopted =~ restored\ ([0-9]+)\ users.*from\ ([0-9]+)\ files ]] ||
	mmr_fail "scorer4 did not adopt the moved shard files; its log: $(grep mmriskscore "$MMR_WORK/scorer4/internal.log" | tail -n 2)"
[ "${BASH_REMATCH[2]}" = "$moved" ] && [ "${BASH_REMATCH[1]}" -ge 1 ] ||
	mmr_fail "scorer4: expected its $moved moved files restored with their users, saw: $adopted"
so_feed "$MMR_WORK/c.log"
so_wait_lines "$sink" $((nA + nB + nC + dups)) 60
sleep 1
wait "$SO_FEEDER" 2>/dev/null
SO_FEEDER=
tail -n +"$((nA + nB + dups + 1))" "$sink" >"$MMR_WORK/sinkC.json"
"$REPLAY" "${ctx[@]}" -o "$MMR_WORK/singleC.json" "$MMR_WORK/c.log" || mmr_fail "replay of part C failed"
jq -c '[.time, .host, .msg]' "$MMR_WORK/singleC.json" | sort >"$MMR_WORK/keysC.in"
jq -c '[.timestamp, .host, .msg]' "$MMR_WORK/sinkC.json" | sort >"$MMR_WORK/keysC.sink"
cmp -s "$MMR_WORK/keysC.in" "$MMR_WORK/keysC.sink" ||
	mmr_fail "part C: expected each of the $nC messages exactly once at the sink; missing (<) / extra (>):
$(diff "$MMR_WORK/keysC.in" "$MMR_WORK/keysC.sink" | grep '^[<>]' | head -n 5 | cut -c1-300)"
no_misrouted "part C" "$MMR_WORK/sinkC.json"
mmr_check "part C: each user on exactly one scorer" \
	'[.[] | select(.risk) | {u: .risk.user, s: .scorer}] | group_by(.u)
	 | map({user: .[0].u, scorers: (map(.s) | unique)}) | map(select(.scorers | length != 1))' \
	"$MMR_WORK/sinkC.json"
# the moved users kept their history: whoever had left learning before the move is not a
# learner again on scorer4 (a scorer without their files would start them from nothing)
jq -c 'select(.risk) | {u: .risk.user, s: .scorer, l: .risk.learning}' "$MMR_WORK/sinkAB.json" >"$MMR_WORK/ab.small"
jq -c 'select(.risk and .scorer == "scorer4") | {u: .risk.user, l: .risk.learning}' "$MMR_WORK/sinkC.json" >"$MMR_WORK/c4.small"
kept=$(jq -n --slurpfile ab "$MMR_WORK/ab.small" --slurpfile c "$MMR_WORK/c4.small" '
	($ab | group_by(.u) | map({key: .[0].u, value: (last | .l)}) | from_entries) as $before
	| ($c | group_by(.u) | map({u: .[0].u, l: .[0].l})) as $after
	| [$after[] | select($before[.u] == false)] | {n: length, relearning: map(select(.l != false) | .u)}')
[ "$(jq '.relearning | length' <<<"$kept")" = 0 ] ||
	mmr_fail "part C: moved users learning again on scorer4, their history lost: $(jq -c .relearning <<<"$kept")"
nkept=$(jq .n <<<"$kept")
[ "$nkept" -ge 1 ] || mmr_fail "part C: no moved user with a learned baseline reached scorer4: nothing was checked"
so_stop_all
mmr_pass "part A: $nA messages in ${tA}s, each exactly once at the sink; $users users each on one scorer, all equal to the split replay; $pure without cross-entity rules identical to one instance, $((users - pure)) touched ($touched_same identical anyway, max user_score difference $maxdiff; per-user rules identical); part B: scorer2 killed at $((atkill - nA))/$nB, restarted ($restored), no message lost, $dups duplicates; part C: scorer4 added, $moved shard files moved to it ($adopted), $nC messages exactly once, $nkept moved users continued their baselines"
