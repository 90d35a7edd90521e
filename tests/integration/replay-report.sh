#!/bin/bash
# The HTML report of mmriskscore-replay, rendered by headless Chromium.
#
# A simulator run (60 users, 7 days; contrib/simulator) with a few extra lines from accounts
# whose names are markup (<img/src=x/onerror=...>, </script><script>..., "><svg/onload=...>)
# on the laptop farm's address, replayed with the roster, lists and GeoIP databases into `report -o report.html`.
# Chromium (Debian package chromium; installed with apt-get when missing and run as root,
# else the test is skipped) renders it offline and dumps the DOM after the scripts ran.
# Checks:
#   - every laptop-farm account of truth.json is in the ranking and has its section with
#     sign-in locations and a timeline of at least one session;
#   - the markup in the user names stayed text: no element it would create, no id its
#     handlers would set on <body>, exactly the one script of the report, the names shown;
#   - the file is self-contained: no src/href to anything but the page itself, and the
#     Content-Security-Policy names the SHA-256 of the one inline script (else the filter box
#     would be blocked);
#   - screenshots of the rendered page and of the first farm account's section are taken
#     (paths printed; kept in the build directory as tests/integration/replay-report.png and
#     replay-report-user.png, with the report next to them).
# Exit: 0 pass, 1 fail, 77 skip (the tool, the simulator or Chromium missing).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -uo pipefail

name=replay-report
root=${MMRISK_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
builddir=${MMRISK_BUILDDIR:-$root/build}
replay=${MMRISK_REPLAY:-$builddir/tools/mmriskscore-replay}
rulebase=${MMRISK_RULEBASE:-$builddir/rulebase/identity-vpn.rulebase}
mappings=${MMRISK_MAPPINGS:-$root/mappings}
simulator=${MMRISK_SIMULATE:-$root/contrib/simulator/mmrisk-simulate}

skip() { echo "SKIP $name: $*"; exit 77; }
fail() { printf 'FAIL %s: %s\n' "$name" "$*" >&2; exit 1; }

[ -x "$replay" ] || skip "mmriskscore-replay not built: $replay"
[ -f "$simulator" ] || skip "simulator not found: $simulator"
[ -f "$rulebase" ] || fail "rulebase not built: $rulebase"
command -v jq >/dev/null 2>&1 || fail "jq is required (scripts/build.sh installs it)"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	[ "$(id -u)" = 0 ] || skip "chromium is not installed (apt-get install chromium) and not root"
	echo "$name: installing chromium (apt-get)" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y --no-upgrade chromium >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 && apt-get install -y --no-upgrade chromium >/dev/null 2>&1; }; } ||
		skip "chromium could not be installed with apt-get"
	chromium=$(command -v chromium || true)
	[ -n "$chromium" ] || skip "chromium installed but not found in PATH"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-$name.XXXXXX") || fail "mktemp failed"
trap '[ "${MMRISK_KEEP:-0}" = 1 ] && echo "$name: work directory kept: $work" >&2 || rm -rf "$work"' EXIT

sim=$work/sim
geo=
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || geo=--no-geoip
perl "$simulator" --seed 1 --users 60 --days 7 --out "$sim" --quiet $geo || fail "the simulator failed"

mapfile -t farm < <(jq -r '.actors[] | select(.scenario == "laptop_farm") | .user | ascii_downcase' "$sim/truth.json")
[ "${#farm[@]}" -ge 3 ] || fail "truth.json has ${#farm[@]} laptop-farm accounts, expected 3 or more"
farm_ip=$(jq -r '[.actors[] | select(.scenario == "laptop_farm")][0].notes' "$sim/truth.json" |
	grep -oE 'IP [0-9.]+' | head -n 1 | cut -d' ' -f2)
[ -n "$farm_ip" ] || fail "no farm address in truth.json's notes"

# accounts named with markup sign in from the farm's address (sshd logs the name as sent)
# (lower case only: user names are normalized to lower case, so the payloads must survive that)
evil1="<img/src=x/onerror=document.body.id='pwned1'>"
evil2="</script><script>document.body.id='pwned2'</script>"
evil3="\"><svg/onload=document.body.id='pwned3'>"
logs=$work/logs.syslog
cp "$sim/logs.syslog" "$logs"
for d in 5 6 7; do
	for e in "$evil1" "$evil2" "$evil3"; do
		printf '<38>Oct  %d 02:1%d:00 bastion-01 sshd[9%d]: Accepted publickey for %s from %s port 5%d022 ssh2\n' \
			"$d" "$d" "$d" "$e" "$farm_ip" "$d"
	done
done >>"$logs"

corp=()
while IFS= read -r item; do
	item=${item%%#*}
	item=${item//[[:space:]]/}
	[ -n "$item" ] && corp+=(--corporate "$item")
done <"$sim/lists/corporate-networks.txt"
ctx=(--roster "$sim/roster.csv" --lists-dir "$sim/lists")
[ -f "$sim/geoip-city.mmdb" ] && ctx+=(--geoip-city "$sim/geoip-city.mmdb" --geoip-asn "$sim/geoip-asn.mmdb")

report=$work/report.html
t0=$(date +%s.%N)
TZ=UTC "$replay" report -o "$report" -r "$rulebase" -m "$mappings" "${corp[@]}" "${ctx[@]}" \
	--user "$evil1" --title "Northwind Labs <b>test</b> report" "$logs" 2>"$work/replay.err" ||
	{ cat "$work/replay.err" >&2; fail "mmriskscore-replay report failed"; }
t1=$(date +%s.%N)
[ -s "$report" ] || fail "no report written"

# ---- self-contained
refs=$(grep -oE '(src|href|action|xlink:href)="[^"#][^"]*"' "$report" | head -n 5)
[ -z "$refs" ] || fail "the report refers to other resources: $refs"
csp=$(grep -oE "script-src '[^']+'" "$report" | head -n 1 | sed "s/script-src '//; s/'\$//")
script=$(sed -n 's:.*<script>\(.*\)</script>.*:\1:p' "$report" | tail -n 1)
[ -n "$script" ] || fail "the report has no inline script"
if command -v openssl >/dev/null 2>&1; then
	hash="sha256-$(printf '%s' "$script" | openssl dgst -sha256 -binary | base64)"
else
	hash="sha256-$(printf '%s' "$script" | python3 -c 'import sys, hashlib, base64; print(base64.b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode())')"
fi
[ "$csp" = "$hash" ] || fail "the CSP allows '$csp' but the report's script hashes to '$hash'"

# ---- rendered
chrome() {
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--no-first-run --no-default-browser-check --user-data-dir="$work/chrome" \
		--virtual-time-budget=3000 "$@" 2>>"$work/chrome.err"
}
dom=$work/dom.html
chrome --dump-dom "file://$report" >"$dom" || { tail -n 5 "$work/chrome.err" >&2; fail "chromium --dump-dom failed"; }
[ -s "$dom" ] || { tail -n 5 "$work/chrome.err" >&2; fail "chromium dumped an empty DOM"; }
grep -q 'id="ranking"' "$dom" || fail "the rendered page has no ranking table"

# every farm account: ranked, with a section, locations and at least one session
for u in "${farm[@]}"; do
	sec=$(awk -v u="<span class=\"username\">$u</span>" '
		index($0, "<section class=\"user\"") { buf = ""; on = 1 }
		on { buf = buf $0 "\n" }
		on && index($0, "</section>") { if (index(buf, u)) { print buf; exit } on = 0 }' "$dom")
	[ -n "$sec" ] || fail "no section for the laptop-farm account $u in the rendered report"
	grep -q 'Sign-in locations' <<<"$sec" || fail "section of $u has no sign-in locations"
	grep -q "$farm_ip" <<<"$sec" || fail "section of $u does not show the farm address $farm_ip"
	sessions=$(grep -oE 'Timeline: [0-9]+ session' <<<"$sec" | grep -oE '[0-9]+')
	[ "${sessions:-0}" -ge 1 ] || fail "section of $u has no timeline sessions"
	rows=$(grep -c '<td class="small nw">2026-' <<<"$sec")
	[ "$rows" -ge 1 ] || fail "timeline of $u has no rows"
	grep -q "href=\"#$(grep -oE 'id="u[0-9]+"' <<<"$sec" | head -n 1 | sed 's/id="//; s/"//')\"" "$dom" ||
		fail "the ranking does not link to the section of $u"
done

# the markup in names stayed text
if grep -qE '<body[^>]*pwned' "$dom"; then fail "an injected handler ran: $(grep -oE '<body[^>]*>' "$dom")"; fi
n_script=$(grep -o '<script' "$dom" | wc -l)
[ "$n_script" = 1 ] || fail "expected the report's one <script> in the DOM, found $n_script"
for tag in '<img' '<iframe' '<object' '<embed' '<svg/' '<svg onload'; do
	grep -qi -- "$tag" "$dom" && fail "the DOM holds an injected element: $tag"
done
grep -qF "&lt;img/src=x/onerror=document.body.id='pwned1'&gt;" "$dom" ||
	fail "the name '$evil1' is not shown (escaped) in the report"
grep -qF '&lt;/script&gt;&lt;script&gt;' "$dom" || fail "the name '$evil2' is not shown (escaped)"
grep -qF '<span class="username">&lt;img/src=x/onerror=' "$dom" ||
	fail "no section for '$evil1', asked for with --user"
grep -qF 'Northwind Labs &lt;b&gt;test&lt;/b&gt; report' "$dom" || fail "the title was not escaped"

# ---- a picture for people to look at
shot=$work/report.png
chrome --hide-scrollbars --window-size=1280,2400 --screenshot="$shot" "file://$report" >/dev/null ||
	fail "chromium --screenshot failed"
[ -s "$shot" ] || fail "no screenshot written"
# and one of the first farm account's section alone (the page's head, then that section)
one=$work/report-${farm[0]}.html
awk -v u="<span class=\"username\">${farm[0]}</span>" '
	index($0, "<body>") && !done_head { print; head = 1; next }
	!head { print; next }
	index($0, "<section class=\"user\"") { buf = ""; on = 1 }
	on { buf = buf $0 "\n" }
	on && index($0, "</section>") { if (index(buf, u)) printf "%s", buf; on = 0 }
	END { print "</body></html>" }' "$report" >"$one"
shot_user=$work/report-${farm[0]}.png
chrome --hide-scrollbars --window-size=1280,2000 --screenshot="$shot_user" "file://$one" >/dev/null ||
	fail "chromium --screenshot of the section of ${farm[0]} failed"
keep=$builddir/tests/integration
if mkdir -p "$keep" 2>/dev/null && cp "$shot" "$keep/replay-report.png" 2>/dev/null; then
	cp "$shot_user" "$keep/replay-report-user.png"
	cp "$report" "$keep/replay-report.html"
	echo "$name: screenshots: $shot, $shot_user (kept as $keep/replay-report.png and replay-report-user.png, the report as $keep/replay-report.html)"
else
	echo "$name: screenshots: $shot, $shot_user"
fi

secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "PASS $name: report of $(wc -l <"$logs") lines in ${secs} s, $(wc -c <"$report") bytes; laptop-farm accounts ${farm[*]} with their timelines; markup in user names rendered as text"
exit 0
