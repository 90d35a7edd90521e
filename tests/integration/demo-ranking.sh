#!/bin/bash
# The demo must find what contrib/demo/GROUND-TRUTH.md says is planted: the four laptop-farm
# accounts (jwang, mlee, kpark, tchen on 198.51.100.77) are the top 4 of the ranked table,
# strictly above everybody else, and each carries a network.shared_source_ip reason.
#
# Runs scripts/demo.sh with MMRISK_DEMO_SKIP_BUILD=1 (the module must already be built: this
# test never runs apt or make) in a temporary MMRISK_DEMO_DIR.
# Exit: 0 pass, 1 fail, 77 skip (module not built).
# make check runs script tests with $(SHELL), which may be dash: re-run under bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

root=${MMRISK_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# make check sets MMRISK_MODULE; standalone, look where scripts/build.sh builds, then in-tree
module=${MMRISK_MODULE:-$root/build/plugins/mmriskscore/.libs/mmriskscore.so}
[ -n "${MMRISK_MODULE:-}" ] || [ -f "$module" ] ||
	module=$root/plugins/mmriskscore/.libs/mmriskscore.so
export MMRISK_MODULE=$module
farm="jwang kpark mlee tchen"

fail() { printf 'FAIL demo-ranking: %s\n' "$*" >&2; exit 1; }

if [ ! -f "$module" ]; then
	echo "SKIP demo-ranking: module not built ($module)"
	exit 77
fi
command -v jq >/dev/null 2>&1 || fail "jq is required (apt-get install jq)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-demo-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
demo_dir=$tmp/demo

if ! MMRISK_DEMO_DIR=$demo_dir MMRISK_DEMO_SKIP_BUILD=1 bash "$root/scripts/demo.sh" > "$tmp/out" 2>&1; then
	cat "$tmp/out" >&2
	fail "scripts/demo.sh failed (output above)"
fi

ranking=$demo_dir/ranking.tsv
enriched=$demo_dir/enriched.json
[ -s "$ranking" ] || { cat "$tmp/out" >&2; fail "no ranking written to $ranking"; }

# the table the demo printed lists the same users as ranking.tsv, in the same order
printed=$(awk 'substr($0, 1, 4) ~ /[0-9]$/ && NF >= 5 { print $2 }' "$tmp/out" | head -4 | tr '\n' ' ')
from_tsv=$(head -4 "$ranking" | cut -f2 | tr '\n' ' ')
[ "$printed" = "$from_tsv" ] || { cat "$tmp/out" >&2; fail "printed table ($printed) differs from $ranking ($from_tsv)"; }

top4=$(head -4 "$ranking" | cut -f2 | sort | tr '\n' ' ')
if [ "$top4" != "$farm " ]; then
	cat "$tmp/out" >&2
	fail "top 4 of the ranking are '$top4', expected the laptop farm '$farm'"
fi

# strictly above everyone else: a tie with rank 5 would make "top 4" an accident of sorting
score4=$(sed -n 4p "$ranking" | cut -f3)
score5=$(sed -n 5p "$ranking" | cut -f3)
if [ -n "$score5" ] && [ "$score5" -ge "$score4" ]; then
	cat "$tmp/out" >&2
	fail "rank 5 ($(sed -n 5p "$ranking" | cut -f2), score $score5) ties or beats rank 4 (score $score4)"
fi

for u in $farm; do
	n=$(jq -r --arg u "$u" 'select(.risk.user == $u) | .risk.reasons[]? | select(.rule == "network.shared_source_ip") | .rule' "$enriched" | wc -l)
	[ "$n" -gt 0 ] || fail "$u has no network.shared_source_ip reason in $enriched"
done

echo "PASS demo-ranking: top 4 = $top4(scores $(head -4 "$ranking" | cut -f3 | paste -sd " " -)), next: ${score5:-none}"
