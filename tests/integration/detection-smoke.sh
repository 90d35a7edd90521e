#!/bin/bash
# Detection smoke test: a small run of contrib/simulator/benchmark-detection (one seed,
# 120 users, 10 days) through the real rsyslogd and module. It asserts only coarse properties
# that hold by construction of the simulator and the engine, never the benchmark's targets
# (those are measured, see contrib/simulator/BENCHMARK.md):
#   * the run is not broken: as many messages came out of rsyslogd as went in, and every
#     identity line the simulator wrote (summary.txt lines.<format>.identity) was scored;
#   * every planted actor was seen (scored at least once);
#   * every laptop-farm actor (several accounts behind one residential IP, which
#     network.laptop_farm exists to find — network.shared_source_ip when the accounts are not
#     known to be new) has a max user_score above the median user's, and one of the two fired
#     for it.
# Exit: 0 pass, 1 fail, 77 skip (simulator, module or rsyslogd missing).
# make check runs script tests with $(SHELL), which may be dash: re-run under bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -uo pipefail

name=detection-smoke
root=${MMRISK_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
builddir=${MMRISK_BUILDDIR:-$root/build}
export MMRISK_MODULE=${MMRISK_MODULE:-$builddir/plugins/mmriskscore/.libs/mmriskscore.so}
export MMRISK_RULEBASE=${MMRISK_RULEBASE:-$builddir/rulebase/identity-vpn.rulebase}
export MMRISK_MAPPINGS=${MMRISK_MAPPINGS:-$root/mappings}
export MMRISK_SIMULATE=${MMRISK_SIMULATE:-$root/contrib/simulator/mmrisk-simulate}
simulator=$MMRISK_SIMULATE
bench=$root/contrib/simulator/benchmark-detection
rsyslogd=${RSYSLOGD:-$(command -v rsyslogd || echo /usr/sbin/rsyslogd)}
[ -n "$rsyslogd" ] && export RSYSLOGD=$rsyslogd

skip() { echo "SKIP $name: $*"; exit 77; }
fail() {
	printf 'FAIL %s: %s\n' "$name" "$*" >&2
	[ -s "${tmp:-}/bench.out" ] && { echo "---- benchmark output" >&2; tail -n 40 "$tmp/bench.out" >&2; }
	exit 1
}

[ -f "$simulator" ] || skip "simulator not found: $simulator"
[ -f "$bench" ] || skip "benchmark not found: $bench"
[ -f "$MMRISK_MODULE" ] || skip "module not built: $MMRISK_MODULE"
[ -x "$rsyslogd" ] || skip "rsyslogd not found"
[ -f "$MMRISK_RULEBASE" ] || fail "rulebase not built: $MMRISK_RULEBASE"
command -v jq >/dev/null 2>&1 || fail "jq is required (scripts/build.sh installs it)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-$name.XXXXXX") || fail "mktemp failed"
trap '[ "${MMRISK_KEEP:-0}" = 1 ] && echo "kept $tmp" >&2 || rm -rf "$tmp"' EXIT

# the benchmark's own exit status already says whether the counts matched (1 = broken run)
if ! bash "$bench" --seeds 1 --users 120 --days 10 --out "$tmp/bench" >"$tmp/bench.out" 2>&1; then
	fail "benchmark-detection failed (broken run)"
fi
res=$tmp/bench/results.json
[ -s "$res" ] || fail "no $res written"

check() { # DESC JQ-EXPRESSION (must print true)
	local v
	v=$(jq -r "$2" "$res" 2>&1) || fail "jq failed for '$1': $v"
	[ "$v" = true ] || fail "expected: $1 (jq: $2 gave $v)"
}

check "one run" '.runs | length == 1'
check "messages out == messages in, and some" \
	'.runs[0].messages | .lines_in == .lines_out and .lines_in > 0'
# the simulator's summary.txt counts the identity lines it wrote per format
# (lines.<format>.identity); each must come out of the module as a scored message
summary=$tmp/bench/seed-1/sim/summary.txt
identity=$(awk '$1 ~ /^lines\..*\.identity$/ { n += $2; f = 1 } END { if (f) print n }' "$summary" 2>/dev/null)
if [ -n "$identity" ]; then
	check "messages scored == identity lines the simulator wrote ($identity)" \
		".runs[0].messages.scored == $identity"
else
	check "most messages scored (identity events)" '.runs[0].messages | .scored * 2 > .lines_in'
fi
check "truth.json plants at least one laptop-farm actor" \
	'[.runs[0].actors[] | select(.scenario == "laptop_farm")] | length >= 1'
check "every actor was scored at least once" '[.runs[0].actors[] | select(.seen | not)] | length == 0'
median=$(jq -r '.runs[0].max_user_score_quantiles.p50' "$res")
bad=$(jq -c --argjson med "$median" '[.runs[0].actors[] | select(.scenario == "laptop_farm")
	| select((.max_user_score // -1) <= $med or
		((.rules // {}) | (has("network.laptop_farm") or has("network.shared_source_ip")) | not))
	| {user, max_user_score, rank, rules}]' "$res")
[ "$bad" = "[]" ] ||
	fail "every laptop-farm actor above the median user (max user_score $median) with network.laptop_farm or network.shared_source_ip; not: $bad"

n=$(jq '[.runs[0].actors[] | select(.scenario == "laptop_farm")] | length' "$res")
echo "PASS $name: $(jq -r '.runs[0].messages.lines_in' "$res") messages in = out; $n laptop-farm actors above the median user score ($median)"
exit 0
