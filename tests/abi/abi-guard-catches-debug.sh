#!/bin/sh
# Negative test for the ABI guard: it must PASS for the tree the module is built against and
# must FAIL, with its mismatch message, for the same rsyslog source configured --enable-debug
# (whose smsg_t is shifted by 8 bytes). A guard that never fails would prove nothing.
#
# Usage: tests/abi/abi-guard-catches-debug.sh [RSYSLOG_TREE [DEBUG_TREE]]
#   RSYSLOG_TREE  default $MMRISK_RSYSLOG_SRC, else the output of scripts/rsyslog-headers.sh
#   DEBUG_TREE    default $MMRISK_RSYSLOG_DEBUG_SRC, else scripts/rsyslog-headers.sh --debug
#                 (downloads/configures once, about 15-60 s, then cached)
# Exit: 0 proven, 1 the guard missed something, 77 (SKIP) no rsyslogd or no debug tree.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
guard="$here/abi-guard.sh"
say() { echo "abi-guard-catches-debug: $*"; }

RSYSLOGD=${RSYSLOGD:-}
if [ -z "$RSYSLOGD" ] || [ "$RSYSLOGD" = no ]; then
	RSYSLOGD=$(command -v rsyslogd 2>/dev/null || true)
	[ -n "$RSYSLOGD" ] || { [ -x /usr/sbin/rsyslogd ] && RSYSLOGD=/usr/sbin/rsyslogd; }
fi
if [ -z "$RSYSLOGD" ] || [ ! -x "$RSYSLOGD" ]; then
	say "SKIP: rsyslogd is not installed"
	exit 77
fi
export RSYSLOGD

tree=${1:-${MMRISK_RSYSLOG_SRC:-}}
if [ -z "$tree" ]; then
	tree=$(sh "$top/scripts/rsyslog-headers.sh" | tail -n 1)
	if [ -z "$tree" ]; then
		say "FAIL: scripts/rsyslog-headers.sh could not provide the normal tree"
		exit 1
	fi
fi
dtree=${2:-${MMRISK_RSYSLOG_DEBUG_SRC:-}}
if [ -z "$dtree" ]; then
	say "preparing the debug-configured tree (scripts/rsyslog-headers.sh --debug; first time only)"
	dtree=$(sh "$top/scripts/rsyslog-headers.sh" --debug | tail -n 1)
	if [ -z "$dtree" ]; then
		say "SKIP: no debug-configured rsyslog tree could be prepared (needs root, apt deb-src
  and network the first time). Run scripts/rsyslog-headers.sh --debug as root once, or set
  MMRISK_RSYSLOG_DEBUG_SRC to an rsyslog tree of the installed version configured with
  --enable-debug."
		exit 77
	fi
fi
if [ ! -f "$dtree/config.h" ]; then
	say "SKIP: $dtree has no config.h"
	exit 77
fi
if grep -Eq '^#[[:space:]]*define[[:space:]]+NDEBUG' "$dtree/config.h"; then
	say "FAIL: $dtree is not debug-configured (config.h defines NDEBUG); the test would prove nothing"
	exit 1
fi

rc=0
say "1/2 the guard must PASS for $tree"
if sh "$guard" "$tree" >"${TMPDIR:-/tmp}/abi-cd.$$.ok" 2>&1; then
	say "    ok: $(grep 'PASS' "${TMPDIR:-/tmp}/abi-cd.$$.ok")"
else
	sed 's/^/    | /' "${TMPDIR:-/tmp}/abi-cd.$$.ok"
	say "    FAIL: the guard rejects the normal tree"
	rc=1
fi
rm -f "${TMPDIR:-/tmp}/abi-cd.$$.ok"

say "2/2 the guard must FAIL for the debug-configured $dtree"
out=$(sh "$guard" "$dtree" 2>&1)
grc=$?
printf '%s\n' "$out" | grep -E 'ABI MISMATCH|ERROR|probe:' | sed 's/^/    | /'
if [ "$grc" -ne 1 ]; then
	say "    FAIL: the guard exited $grc for a debug-configured tree (expected 1)"
	rc=1
fi
# The dynamic proof: the probe, built against the debug headers, read different values than
# the installed rsyslogd's own functions for the same messages.
if ! printf '%s\n' "$out" | grep -q '^ABI MISMATCH: headers in .*smsg_t.iLenRawMsg'; then
	say "    FAIL: the dynamic check (probe module) did not report the layout mismatch"
	rc=1
fi
# The static check: config.h's NDEBUG/DEBUG vs rsyslogd -v's FEATURE_DEBUG.
if ! printf '%s\n' "$out" | grep -q "ERROR: 'FEATURE_DEBUG' differs"; then
	say "    FAIL: the static check did not report FEATURE_DEBUG"
	rc=1
fi
if [ "$rc" = 0 ]; then
	say "PASS: the guard accepts $tree and catches the debug-configured tree"
fi
exit $rc
