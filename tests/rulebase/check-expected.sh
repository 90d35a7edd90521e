#!/bin/bash
# Every rulebase sample line must produce exactly its expected canonical event, both with its
# own rulebase and with the combined identity-vpn rulebase the module loads (which catches a
# rule of one format that grabs another format's lines).
#
#   tests/rulebase/check-expected.sh            (make check sets MMRISK_* itself)
#
# For each rulebase/tests/NAME.log there must be rulebase/NAME.rulebase (compiled by the build
# into build/rulebase/compiled/) and
# rulebase/tests/NAME.expected: one JSON line per input line (see rulebase/SCHEMA.md).
set -u
top=${MMRISK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
parse=${MMRISK_PARSE:-$top/build/tools/mmriskscore-parse}
build=${MMRISK_BUILDDIR:-$top/build}
combined=${MMRISK_RULEBASE:-$build/rulebase/identity-vpn.rulebase}
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
[ -x "$parse" ] || { echo "FAIL: $parse not built"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 checked=0
for log in "$top"/rulebase/tests/*.log; do
	[ -e "$log" ] || { echo "FAIL: no sample files in rulebase/tests"; exit 1; }
	name=$(basename "$log" .log)
	exp="${log%.log}.expected"
	if [ ! -f "$exp" ]; then
		echo "FAIL: $name: missing $exp"; fail=1; continue
	fi
	jq -cS . "$exp" >"$tmp/exp" || { echo "FAIL: $exp is not JSON lines"; fail=1; continue; }
	# the compiled rulebases (types expanded, see rulebase/expand-types.awk) are what ships
	for rb in "$build/rulebase/compiled/$name.rulebase" "$combined"; do
		if ! "$parse" -r "$rb" "$log" >"$tmp/raw" 2>"$tmp/err"; then
			echo "FAIL: $name: $(cat "$tmp/err")"; fail=1; continue
		fi
		jq -cS . "$tmp/raw" >"$tmp/got"
		if [ "$(wc -l <"$tmp/got")" != "$(wc -l <"$tmp/exp")" ]; then
			echo "FAIL: $name with $(basename "$rb"): $(wc -l <"$tmp/got") results for $(wc -l <"$tmp/exp") expected lines"
			fail=1; continue
		fi
		n=0
		while IFS= read -r got <&3 && IFS= read -r want <&4; do
			n=$((n + 1)); checked=$((checked + 1))
			if [ "$got" != "$want" ]; then
				echo "FAIL: $name line $n with $(basename "$rb")"
				echo "   input:    $(sed -n "${n}p" "$log")"
				echo "   expected: $want"
				echo "   got:      $got"
				fail=1
			fi
		done 3<"$tmp/got" 4<"$tmp/exp"
	done
	echo "$name: $(wc -l <"$log") sample lines checked against $name.rulebase and $(basename "$combined")"
done
[ "$fail" = 0 ] && echo "PASS: $checked sample results match" && exit 0
exit 1
