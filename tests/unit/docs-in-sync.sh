#!/bin/sh
# Every rule the engine can emit must be in docs/detectors.md, and every detector parameter
# must be documented on a page under docs/detectors/ (what the model file may set must be
# findable). Reads the engine's own list through tools/mmriskscore-model --keys.
set -u
src=${MMRISK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tool=${MMRISK_BUILDDIR:-$src/build}/tools/mmriskscore-model
[ -x "$tool" ] || { echo "docs-in-sync: $tool not built" >&2; exit 99; }
keys=$("$tool" --keys) || { echo "docs-in-sync: $tool failed" >&2; exit 99; }
nrules=$(printf '%s\n' "$keys" | grep -c '^rule ')
nparams=$(printf '%s\n' "$keys" | grep -c '^param ')
[ "$nrules" -ge 10 ] || { echo "docs-in-sync: only $nrules rules listed" >&2; exit 1; }
missing=0
for r in $(printf '%s\n' "$keys" | sed -n 's/^rule //p'); do
	grep -q "\`$r\`" "$src/docs/detectors.md" || {
		echo "docs-in-sync: rule $r is not in docs/detectors.md" >&2; missing=$((missing + 1)); }
done
for p in $(printf '%s\n' "$keys" | sed -n 's/^param //p'); do
	grep -rqF "$p" "$src/docs/detectors/" || {
		echo "docs-in-sync: parameter $p is not documented in docs/detectors/" >&2
		missing=$((missing + 1)); }
done
# the shipped example model file must load (every key in it known, every value in range)
if ! out=$("$tool" -m "$src/contrib/model/example.model" 2>&1 >/dev/null); then
	echo "docs-in-sync: contrib/model/example.model does not load: $out" >&2
	missing=$((missing + 1))
fi
echo "docs-in-sync: $nrules rules, $nparams parameters checked, $missing missing"
[ "$missing" -eq 0 ]
