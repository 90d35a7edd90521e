#!/bin/bash
# Regenerates the curated seed corpora fuzz/corpus/<harness>/ from the project's own fixtures
# (rulebase/tests, mappings/, contrib/, a simulator run, fuzz/context) plus the hand-written
# edge cases in fuzz/seeds-extra/. Deterministic: the same tree gives the same files. Files
# named found-* (inputs a fuzzing run found, added by hand: fuzz/README.md) are kept.
#
#   fuzz/make-corpus.sh            rewrite fuzz/corpus/ (fuzz_snapshot's seeds are made by
#                                  scripts/fuzz.sh at run time: the format is still moving)
#
# Needs perl (the simulator) and, for the model seeds that list every rule and parameter,
# a built tools/mmriskscore-model (MODEL_TOOL, default build/tools/mmriskscore-model).
# Third-party samples (../shared/samples) are never copied here: their licences do not allow
# it; scripts/fuzz.sh uses them as run-time seeds instead.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/fuzz/corpus"
extra="$top/fuzz/seeds-extra"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# found-*: inputs libFuzzer found that add coverage (kept: see fuzz/README.md, "Corpora")
find "$out" -type f ! -name 'found-*' -delete 2>/dev/null || true
mkdir -p "$out"/{fuzz_parse,fuzz_mapping,fuzz_roster,fuzz_lists,fuzz_model,fuzz_snapshot,fuzz_json_scan}

# a small simulated company: 40 users, 2 days, seed 1 (no GeoIP: fuzz/context has its own)
"$top/contrib/simulator/mmrisk-simulate" --users 40 --days 2 --no-geoip --quiet --out "$tmp/sim"
# rsyslog's parse input: the line without "<PRI>Mmm dd hh:mm:ss HOST "
sed -E 's/^<[0-9]+>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [^ ]+ //' "$tmp/sim/logs.syslog" >"$tmp/sim/lines"

# ---- fuzz_parse ---------------------------------------------------------------------------------
# up to 5 lines of each rulebase sample file, spread over the file
for f in "$top"/rulebase/tests/*.log; do
	name=$(basename "$f" .log)
	n=$(wc -l <"$f")
	step=$(((n + 4) / 5))
	awk -v step="$step" -v d="$out/fuzz_parse" -v name="$name" \
		'(NR - 1) % step == 0 && length($0) > 0 { f = sprintf("%s/rb-%s-%03d", d, name, NR); printf "%s", $0 > f; close(f) }' "$f"
done
# one simulator line of each format (the word after the host: tag or key), the first seen
awk -v d="$out/fuzz_parse" '{ k = $1; sub(/\[.*/, "", k); sub(/=.*/, "", k) }
	!(k in seen) { seen[k] = 1; gsub(/[^A-Za-z0-9_.-]/, "_", k); f = sprintf("%s/sim-%s", d, k); printf "%s", $0 > f; close(f) }' \
	"$tmp/sim/lines"
# sequences: the short (non-JSON) lines from one client address in a row, so that detectors
# learn within one input (baselines, failure bursts, shared addresses); at most 24 lines, 4 kB
grep -v -e '{' "$tmp/sim/lines" >"$tmp/sim/text" || true
for ip in $(grep -oE '198\.18\.[0-9]+\.[0-9]+' "$tmp/sim/text" | sort | uniq -c | sort -k1,1nr -k2 |
	head -n 8 | awk '{print $2}'); do
	# awk stops reading early: grep's SIGPIPE is not a failure
	{ grep -F "$ip" "$tmp/sim/text" || true; } | awk -v max=4000 'NR > 24 || len + length($0) + 1 > max { exit }
		{ print; len += length($0) + 1 }' >"$out/fuzz_parse/seq-$ip"
done
# three Okta records of one session in one input
grep -m 3 'okta: ' "$tmp/sim/lines" >"$out/fuzz_parse/seq-okta"
cp "$extra"/parse-* "$out/fuzz_parse/" 2>/dev/null || true

# ---- fuzz_mapping --------------------------------------------------------------------------------
for f in "$top"/mappings/*.json; do cp "$f" "$out/fuzz_mapping/shipped-$(basename "$f")"; done
cp "$extra"/mapping-* "$out/fuzz_mapping/" 2>/dev/null || true

# ---- fuzz_json_scan ------------------------------------------------------------------------------
# every JSON sample of the IdP formats and the mapping test documents, one message per file
for f in "$top"/rulebase/tests/*.log "$top/fuzz/context/mapping-docs.txt"; do
	name=$(basename "$f"); name=${name%.*}
	awk -v d="$out/fuzz_json_scan" -v name="$name" \
		'/^[ \t]*[{@]/ { f = sprintf("%s/%s-%03d", d, name, NR); printf "%s", $0 > f; close(f) }' "$f"
done
grep -m 1 'okta: ' "$tmp/sim/lines" | sed 's/^okta: //' | tr -d '\n' >"$out/fuzz_json_scan/sim-okta"
cp "$extra"/json-* "$out/fuzz_json_scan/" 2>/dev/null || true

# ---- fuzz_roster ---------------------------------------------------------------------------------
cp "$tmp/sim/roster.csv" "$out/fuzz_roster/sim-roster.csv"
cp "$top/fuzz/context/roster.csv" "$out/fuzz_roster/context-roster.csv"
cp "$extra"/roster-* "$out/fuzz_roster/" 2>/dev/null || true

# ---- fuzz_lists ----------------------------------------------------------------------------------
for f in "$tmp"/sim/lists/*.txt; do cp "$f" "$out/fuzz_lists/sim-$(basename "$f")"; done
for f in "$top"/fuzz/context/lists/allow-*.txt; do cp "$f" "$out/fuzz_lists/context-$(basename "$f")"; done
cp "$top/contrib/lists/remote-access-tools.txt" "$out/fuzz_lists/contrib-remote-access-tools.txt"
cp "$extra"/lists-* "$out/fuzz_lists/" 2>/dev/null || true

# ---- fuzz_model ----------------------------------------------------------------------------------
cp "$top/contrib/model/example.model" "$out/fuzz_model/example.model"
tool=${MODEL_TOOL:-$top/build/tools/mmriskscore-model}
if [ -x "$tool" ]; then
	# every setting, rule and parameter at its value in force
	"$tool" | awk '/^# rule/ { r = 1; next } /^# parameter/ { r = 0; p = 1; next }
		r && NF >= 3 && $1 !~ /^#/ { print "rule." $1 ".weight = " $2; print "rule." $1 ".cap = " $3 }
		p && NF >= 2 { print $1 " = " $2 }' >"$out/fuzz_model/all-keys.model"
	# each parameter at its minimum and at its maximum
	"$tool" | awk '/^# parameter/ { p = 1; next } p && NF >= 4 { split($4, r, "-"); if (r[1] != "" && r[2] != "") { print $1 " = " r[1] > "/dev/stderr"; print $1 " = " r[2] } }' \
		>"$out/fuzz_model/params-max.model" 2>"$out/fuzz_model/params-min.model"
else
	echo "make-corpus.sh: $tool not built: model seeds with every key skipped" >&2
fi
cp "$extra"/model-* "$out/fuzz_model/" 2>/dev/null || true

# fuzz_snapshot: made at run time by scripts/fuzz.sh (fuzz/make_snapshot_seeds.c)
touch "$out/fuzz_snapshot/.keep"

for d in "$out"/*/; do
	printf '%-14s %4d files %6d bytes\n' "$(basename "$d")" "$(find "$d" -type f ! -name .keep | wc -l)" \
		"$(find "$d" -type f -exec cat {} + | wc -c)"
done
