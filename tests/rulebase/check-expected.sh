#!/bin/bash
# Every sample line must produce exactly its expected canonical event.
#
#   tests/rulebase/check-expected.sh [NAME...]     (make check sets MMRISK_* itself)
#
# For each rulebase/tests/NAME.log (or only the NAMEs given) there must be
# rulebase/tests/NAME.expected (one JSON line per input line, see rulebase/SCHEMA.md) and
# a source: rulebase/NAME.rulebase (text formats; the build compiles it into
# build/rulebase/compiled/) and/or mappings/NAME.json (JSON and key=value sources).
# Each sample file is checked twice: with its own rulebase/mapping alone, and with everything
# the module loads (combined rulebase + all mappings), which catches a rule or mapping of one
# format that claims another format's lines. A mismatch prints the line, the rule or mapping
# that produced the result, and each field that differs.
set -u
top=${MMRISK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MMRISK_BUILDDIR:-$top/build}
parse=${MMRISK_PARSE:-$build/tools/mmriskscore-parse}
combined=${MMRISK_RULEBASE:-$build/rulebase/identity-vpn.rulebase}
maps=${MMRISK_MAPPINGS:-$top/mappings}
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
[ -x "$parse" ] || { echo "FAIL: $parse not built"; exit 1; }
all_maps=()
ls "$maps"/*.json >/dev/null 2>&1 && all_maps=(-m "$maps")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 checked=0 files=0

# explain LINE_NO WANT GOT: the fields that differ, one per line
explain() {
	jq -rn --argjson w "$2" --argjson g "$3" '
		($w | keys) + ($g | keys) | unique | .[] | select(. != "_via") as $k
		| select($w[$k] != $g[$k])
		| "     \($k): expected \($w[$k] | tojson), got \($g[$k] | tojson)"'
}

check() { # NAME LABEL ARGS...: run the tool with ARGS on NAME's samples
	local name=$1 label=$2 log="$top/rulebase/tests/$1.log"
	shift 2
	if ! "$parse" -v "$@" "$log" >"$tmp/raw" 2>"$tmp/err"; then
		echo "FAIL: $name ($label): $(head -c 600 "$tmp/err")"
		fail=1
		return
	fi
	local n=0 got want
	if [ "$(wc -l <"$tmp/raw")" != "$(wc -l <"$tmp/exp")" ]; then
		echo "FAIL: $name ($label): $(wc -l <"$tmp/raw") results for $(wc -l <"$tmp/exp") expected lines"
		fail=1
		return
	fi
	while IFS= read -r got <&3 && IFS= read -r want <&4; do
		n=$((n + 1))
		checked=$((checked + 1))
		local cmp
		cmp=$(jq -cS 'del(._via)' <<<"$got")
		if [ "$cmp" != "$want" ]; then
			echo "FAIL: $name line $n ($label)"
			echo "   input:    $(sed -n "${n}p" "$log" | cut -c1-300)"
			echo "   via:      $(jq -r '._via // "?"' <<<"$got")"
			explain "$n" "$want" "$cmp"
			fail=1
		fi
	done 3<"$tmp/raw" 4<"$tmp/exp"
}

names=("$@")
if [ ${#names[@]} = 0 ]; then
	for log in "$top"/rulebase/tests/*.log; do
		[ -e "$log" ] && names+=("$(basename "$log" .log)")
	done
fi
[ ${#names[@]} -gt 0 ] || { echo "FAIL: no sample files in rulebase/tests"; exit 1; }
for name in "${names[@]}"; do
	exp="$top/rulebase/tests/$name.expected"
	[ -f "$top/rulebase/tests/$name.log" ] || { echo "FAIL: $name: no rulebase/tests/$name.log"; fail=1; continue; }
	[ -f "$exp" ] || { echo "FAIL: $name: missing rulebase/tests/$name.expected"; fail=1; continue; }
	jq -cS . "$exp" >"$tmp/exp" 2>"$tmp/err" || {
		echo "FAIL: $exp is not JSON lines: $(cat "$tmp/err")"; fail=1; continue; }
	# own: the format's rulebase, and its mapping (or, for a rule without action tags such
	# as a key=value source, whatever mappings exist)
	own=()
	[ -f "$build/rulebase/compiled/$name.rulebase" ] && own+=(-r "$build/rulebase/compiled/$name.rulebase")
	if [ -f "$maps/$name.json" ]; then
		own+=(-m "$maps/$name.json")
	elif [ ${#own[@]} -gt 0 ]; then
		own+=("${all_maps[@]}")
	fi
	if [ ${#own[@]} = 0 ]; then
		echo "FAIL: $name: neither rulebase/$name.rulebase nor mappings/$name.json exists"
		fail=1
		continue
	fi
	files=$((files + 1))
	check "$name" "own" "${own[@]}"
	check "$name" "everything loaded" -r "$combined" "${all_maps[@]}"
	echo "$name: $(wc -l <"$top/rulebase/tests/$name.log") sample lines checked"
done
[ "$fail" = 0 ] && echo "PASS: $checked sample results in $files files match" && exit 0
exit 1
