#!/bin/bash
# measure-split.sh: what splitting users over N scorers changes, on the workforce simulator
# (docs/scale-out.md, "Measured"). Replays one simulator month once whole (one scorer) and once
# per scorer with --owned (the shards mmriskscore-shard-table gives it), then compares:
#   - per event: is the risk object of each scored event identical in both runs;
#   - per user: final and highest user_score, level, rank by highest user_score;
#   - which rules differ (cross-entity rules only, or also per-user ones);
#   - detection metrics of contrib/simulator/benchmark-detection on both.
#
#   contrib/scale-out/measure-split.sh [--scorers 3] [--seed 1] [--users 500] [--days 30]
#                                      [--sim DIR] [--out DIR]
# Environment: MMRISK_BUILD (default <repo>/build), MMRISK_MAPPINGS (default <repo>/mappings).
# Needs jq and perl; prints a summary and writes OUT/summary.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${MMRISK_BUILD:-$root/build}
mappings=${MMRISK_MAPPINGS:-$root/mappings}
replay=$build/tools/mmriskscore-replay
rulebase=$build/rulebase/identity-vpn.rulebase
table_tool=$root/contrib/scale-out/mmriskscore-shard-table
bench=$root/contrib/simulator/benchmark-detection
scorers=3 seed=1 users=500 days=30 sim= out=${TMPDIR:-/tmp}/mmrisk-split
while [ $# -gt 0 ]; do
	case $1 in
	--scorers) scorers=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--users) users=$2; shift 2 ;;
	--days) days=$2; shift 2 ;;
	--sim) sim=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) sed -n '2,14p' "$0" >&2; exit 2 ;;
	esac
done
say() { echo "measure-split: $*" >&2; }
[ -x "$replay" ] || { say "no $replay: run scripts/build.sh"; exit 1; }
mkdir -p "$out"
if [ -z "$sim" ]; then
	sim=$out/sim
	say "simulating seed $seed, $users users, $days days"
	perl "$root/contrib/simulator/mmrisk-simulate" --seed "$seed" --users "$users" \
		--days "$days" --out "$sim" --quiet
fi
corp=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$sim/lists/corporate-networks.txt" | grep . | paste -sd, -)
year=$(jq -r '.start[0:4]' "$sim/truth.json")
ctx=(-r "$rulebase" -m "$mappings" --roster "$sim/roster.csv" --lists-dir "$sim/lists"
	--geoip-city "$sim/geoip-city.mmdb" --geoip-asn "$sim/geoip-asn.mmdb" --corporate "$corp"
	--year "$year" --utc-offset +00:00 -q --scored-only)

names=$(seq -s, -f 'scorer%g' 1 "$scorers")
"$table_tool" --scorers "$names" >"$out/shards.json"

# the compact line format benchmark-detection's metrics read (contrib/simulator/BENCHMARK.md)
compact='{t: .time, u: .risk.user, s: .risk.score, us: .risk.user_score,
	ul: .risk.user_level, l: .risk.learning, a: .event.action, o: .event.outcome}
	+ (if .event.event_time then {et: .event.event_time} else {} end)
	+ (if (.risk.reasons | length) > 0 then {r: (.risk.reasons | map(.rule) | join(",")),
	   p: (.risk.reasons | map(.points | tostring) | join(","))} else {} end)'

t0=$(date +%s.%N)
say "single instance"
"$replay" "${ctx[@]}" -o "$out/single.json" "$sim/logs.syslog"
t1=$(date +%s.%N)
: >"$out/split.json"
for ((k = 1; k <= scorers; k++)); do
	owned=$("$table_tool" --owned "scorer$k" "$out/shards.json")
	say "scorer$k: shards $owned"
	"$replay" "${ctx[@]}" --owned "$owned" -o "$out/part$k.json" "$sim/logs.syslog"
	cat "$out/part$k.json" >>"$out/split.json"
done
t2=$(date +%s.%N)

# detection metrics (benchmark-detection's own code, run on the replays' output)
metrics_pl=$(sed -n "/^read -r -d '' metrics_pl <<'PERL'\$/,/^PERL\$/p" "$bench" | sed '1d;$d')
sent=$(grep -c . "$sim/logs.syslog")
for run in single split; do
	mkdir -p "$out/$run-metrics"
	jq -c "$compact" "$out/$run.json" >"$out/$run-metrics/enriched.jsonl"
	n=$(wc -l <"$out/$run-metrics/enriched.jsonl")
	printf '{"lines_in":%d,"lines_out":%d,"wall_seconds":0,"worker_threads":1,"git_head":"%s","extra_params":""}\n' \
		"$sent" "$n" "$(git -C "$root" rev-parse --short HEAD)" >"$out/$run-metrics/counts.json"
	perl -e "$metrics_pl" seed "$out/$run-metrics" "$sim" >/dev/null
done

# rules whose finding depends on other users (docs/scale-out.md, "Cross-entity rules")
cross='["time.timezone_mismatch","time.uncommon_hour_peers","geo.uncommon_country_peers",
	"geo.first_seen_country_tenant","network.uncommon_asn_peers","network.first_seen_asn_tenant",
	"access.uncommon_target_peers","volume.peer_outlier","account.dormant_reuse",
	"auth.failure_burst.source_ip","network.shared_source_ip","network.laptop_farm",
	"device.shared_across_accounts","correlation.exit_and_outside_access"]'
jq -n --argjson cross "$cross" --slurpfile truth "$sim/truth.json" \
	--slurpfile ms "$out/single-metrics/metrics.json" --slurpfile mp "$out/split-metrics/metrics.json" \
	--arg ts "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
	--arg tp "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')" \
	--rawfile single "$out/single.json" --rawfile split "$out/split.json" '
	def events($s): [$s | split("\n")[] | select(length > 0) | fromjson
		| {u: .risk.user, t: .time, msg: .msg, risk: .risk}];
	def byuser: group_by(.u) | map({key: .[0].u, value: .}) | from_entries;
	def rules: [.risk.reasons[]?.rule];
	def final_us: (last | .risk.user_score);
	def max_us: (map(.risk.user_score) | max);
	def rank($m): ($m | to_entries | sort_by(-.value.max, .key) | to_entries
		| map({key: .value.key, value: (.key + 1)}) | from_entries);
	events($single) as $a | events($split) as $b
	| ($a | byuser) as $A | ($b | byuser) as $B
	| ($A | keys) as $users
	| [$users[] as $u | ($A[$u]) as $ea | ($B[$u] // []) as $eb
	   | {u: $u, n: ($ea | length), same_n: (($eb | length) == ($ea | length)),
	      touched: ([$ea[], $eb[] | rules[] | select(. as $r | $cross | index($r))] | length > 0),
	      eq_events: ([range(0; [$ea, $eb] | map(length) | min) | select($ea[.].risk == $eb[.].risk)] | length),
	      own_rules_eq: ([range(0; [$ea, $eb] | map(length) | min)
		| select(($ea[.] | rules | map(select(. as $r | $cross | index($r) | not)))
		      == ($eb[.] | rules | map(select(. as $r | $cross | index($r) | not))))] | length),
	      final_a: ($ea | final_us), final_b: ($eb | if length > 0 then final_us else null end),
	      max_a: ($ea | max_us), max_b: ($eb | if length > 0 then max_us else null end),
	      lvl_a: ($ea | last | .risk.user_level), lvl_b: ($eb | last | .risk.user_level)}] as $per
	| (rank($per | map({key: .u, value: {max: .max_a}}) | from_entries)) as $ra
	| (rank($per | map({key: .u, value: {max: .max_b}}) | from_entries)) as $rb
	| ([$truth[0].actors[]? | .user] // []) as $planted
	| ($per | map(select(.touched | not))) as $pure
	| ($per | map(select(.touched))) as $tch
	| {users: ($per | length), events: ($a | length), events_split: ($b | length),
	   seconds_single: ($ts | tonumber), seconds_split_total: ($tp | tonumber),
	   users_without_cross_entity_rule: ($pure | length),
	   of_them_identical: ($pure | map(select(.same_n and .eq_events == .n)) | length),
	   users_with_cross_entity_rule: ($tch | length),
	   of_them_identical_anyway: ($tch | map(select(.same_n and .eq_events == .n)) | length),
	   events_identical: ($per | map(.eq_events) | add),
	   events_same_per_user_rules: ($per | map(.own_rules_eq) | add),
	   max_abs_final_diff: ($per | map((.final_a - .final_b) | fabs) | max),
	   mean_abs_final_diff_touched: (if ($tch | length) > 0 then ($tch | map((.final_a - .final_b) | fabs) | add / length) else 0 end),
	   max_abs_peak_diff: ($per | map((.max_a - .max_b) | fabs) | max),
	   final_level_changed: ($per | map(select(.lvl_a != .lvl_b)) | length),
	   top10_overlap: ([$per[] | select($ra[.u] <= 10 and $rb[.u] <= 10)] | length),
	   top25_overlap: ([$per[] | select($ra[.u] <= 25 and $rb[.u] <= 25)] | length),
	   largest_diffs: ($per | sort_by(-((.max_a - .max_b) | fabs)) | .[:8]
		| map({u, peak_single: .max_a, peak_split: .max_b, rank_single: $ra[.u], rank_split: $rb[.u]})),
	   metrics_single: ($ms[0] | del(.per_actor?, .actors?, .false_positives?)),
	   metrics_split: ($mp[0] | del(.per_actor?, .actors?, .false_positives?))}
	' >"$out/summary.json"
jq . "$out/summary.json"
