#!/bin/bash
# Regression test for a memory leak inherited from liblognorm <= 2.0.6 (issue #223 there):
# every time a user-defined type (type=@x) is tried and fails, ~256 bytes leak, so a module
# loading such a rulebase grows with traffic. The build compiles types away
# (rulebase/expand-types.awk). This test proves
#   1. the shipped (compiled) rulebases reference no user-defined type, and
#   2. parsing lines that fail inside every kind of rule (other programs, sshd lines with a
#      host name where an IP is expected, ASA ids we do not cover) leaks nothing (valgrind),
#   3. the same lines through the *source* rulebase do leak — i.e. the test can see the leak.
set -u
top=${MMRISK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MMRISK_BUILDDIR:-$top/build}
parse=${MMRISK_PARSE:-$build/tools/mmriskscore-parse}
combined=${MMRISK_RULEBASE:-$build/rulebase/identity-vpn.rulebase}
valgrind=${VALGRIND:-$(command -v valgrind)}
[ -x "$parse" ] || { echo "FAIL: $parse not built"; exit 1; }

if grep -n ':@[A-Za-z0-9_]*%\|^type=@' "$combined" "$build"/rulebase/compiled/*.rulebase; then
	echo "FAIL: a compiled rulebase still uses user-defined types (lines above)"
	exit 1
fi
[ -n "$valgrind" ] || { echo "SKIP: valgrind not installed (the type check above passed)"; exit 77; }
# libtool may leave a wrapper script in place of the program; valgrind needs the ELF file
# (checked by its magic number: file(1) is not on a minimal Debian)
if [ "$(head -c 4 "$parse" | od -An -tx1 | tr -d ' \n')" != "7f454c46" ]; then
	echo "SKIP: $parse is not a plain executable"
	exit 77
fi
if nm -D "$parse" 2>/dev/null | grep -q __asan_init; then
	echo "SKIP: sanitizer build (ASan's own leak check covers it there)"; exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$top"/rulebase/tests/*.log >"$tmp/in"
cat >>"$tmp/in" <<'LINES'
CRON[1]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
sshd[1]: Accepted password for bob from host.example.net port 22 ssh2
sshd[1]: Failed password for bob from not-an-ip port 22 ssh2
%ASA-6-113005: AAA user authentication Rejected : reason = x : server = 10.0.0.5 : user = bob : user IP = nope
asa1: %ASA-6-999999: something we do not parse
: %FTD-6-113039: Group <g> User <u> IP <not-an-ip> AnyConnect parent session started.
LINES
vg() { "$valgrind" -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 "$@"; }
vg "$parse" -r "$combined" "$tmp/in" >/dev/null 2>"$tmp/vg.log"
rc=$?
if [ $rc != 0 ]; then
	echo "FAIL: valgrind reports errors or definite leaks with the compiled rulebase (exit $rc):"
	head -n 40 "$tmp/vg.log"
	exit 1
fi
# The source rulebase still uses types: the same input must show the leak, or this test
# could not see it.
vg "$parse" -r "$top/rulebase/sshd.rulebase" "$tmp/in" >/dev/null 2>"$tmp/vg-src.log"
if [ $? != 99 ]; then
	echo "NOTE: the source rulebase did not leak here: liblognorm may be fixed (see issue #223);"
	echo "      the compiled rulebase is still checked above."
fi
echo "PASS: $(wc -l <"$tmp/in") lines parsed with the compiled rulebase, no definite leak"
