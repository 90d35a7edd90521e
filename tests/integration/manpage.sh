#!/bin/sh
# The man pages under man/ render without a single groff warning (groff -ww: all warnings)
# at the usual terminal widths, and mmriskscore.7 names every action parameter of the
# module's actpdescr table and every impstats counter it registers, so that a parameter or
# counter added to plugins/mmriskscore/mmriskscore.c without a man page entry fails here.
# Needs groff (Debian: groff-base, which man-db depends on); skips without it.
set -u
src=${MMRISK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v groff >/dev/null 2>&1 || { echo "SKIP: groff not installed"; exit 77; }

fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pages=$(ls "$src"/man/*.[1-8] 2>/dev/null)
[ -n "$pages" ] || { echo "FAIL: no man pages in $src/man"; exit 1; }

for p in $pages; do
	name=$(basename "$p")
	# groff's default width (78n for -Tutf8), then the widths man(1) uses on common terminals
	for ll in "" 80n 100n 120n; do
		opt=""
		[ -n "$ll" ] && opt="-rLL=$ll"
		if ! LC_ALL=C.UTF-8 groff -ww -mandoc -Tutf8 $opt "$p" >"$tmp/out" 2>"$tmp/err"; then
			echo "FAIL: $name: groff exits non-zero (width ${ll:-default})"; cat "$tmp/err"
			fail=1
		elif [ -s "$tmp/err" ]; then
			echo "FAIL: $name: groff warnings (width ${ll:-default}):"; cat "$tmp/err"
			fail=1
		fi
	done
	grep -q '[A-Za-z]' "$tmp/out" || { echo "FAIL: $name renders to nothing"; fail=1; }
	# man -l is what a user runs; it must find and render the page as well
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man -l "$p" >"$tmp/man" 2>"$tmp/manerr" || {
			echo "FAIL: man -l $name fails"; cat "$tmp/manerr"; fail=1; }
		[ -s "$tmp/manerr" ] && { echo "FAIL: man -l $name warns:"; cat "$tmp/manerr"; fail=1; }
	fi
done

# mmriskscore.7 against the module's source
page7="$src/man/mmriskscore.7"
plugin="$src/plugins/mmriskscore/mmriskscore.c"
if [ -f "$page7" ] && [ -f "$plugin" ]; then
	sed 's/\\-/-/g' "$page7" >"$tmp/page7"
	params=$(sed -n '/actpdescr\[\] = {/,/^};/s/^[[:space:]]*{"\([^"]*\)", eCmdHdlr.*/\1/p' "$plugin")
	counters=$(sed -n 's/^[[:space:]]*ADD_\(CTR\|GAUGE\)("\([^"]*\)".*/\2/p' "$plugin")
	[ -n "$params" ] || { echo "FAIL: no parameters found in $plugin (actpdescr moved?)"; fail=1; }
	[ -n "$counters" ] || { echo "FAIL: no counters found in $plugin (ADD_CTR moved?)"; fail=1; }
	np=0; nc=0
	for p in $params; do
		np=$((np + 1))
		grep -q "^\.B $p\$" "$tmp/page7" ||
			{ echo "FAIL: parameter '$p' has no entry (.B $p) in man/mmriskscore.7"; fail=1; }
	done
	for c in $counters; do
		nc=$((nc + 1))
		grep -qF "$c" "$tmp/page7" ||
			{ echo "FAIL: counter '$c' is not in man/mmriskscore.7 COUNTERS"; fail=1; }
	done
	[ "$fail" = 0 ] && echo "man/mmriskscore.7: all $np parameters and $nc counters documented"
fi

[ "$fail" = 0 ] && echo "PASS: $(echo "$pages" | wc -w) man pages render without warnings"
exit "$fail"
