#!/bin/bash
# Sustained load, for as long as you like (issue 9): rsyslogd with the module, 4 workers, a
# HUP and a snapshot every 2 s, the user and IP tables held at their caps by a stream of new
# names, resident memory sampled twice a second. `make check` runs the same test for 40 s;
# this runs it longer and prints its figures. It needs the build of scripts/build.sh.
#
#   scripts/soak.sh [--minutes N] [--maxusers N] [--maxips N] [--slack-mb N] [--keep]
#
# Prints the test's figures (messages, rate, HUPs, snapshots, evictions, RSS by half) and its
# PASS/FAIL line; exit status 0 when in = out, the caps held, every HUP and snapshot
# succeeded and RSS stopped growing once the caps were reached.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
minutes=10
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=${2:?--minutes needs a number}; shift ;;
	--maxusers) export MMRISK_SOAK_MAXUSERS=${2:?}; shift ;;
	--maxips) export MMRISK_SOAK_MAXIPS=${2:?}; shift ;;
	--slack-mb) export MMRISK_SOAK_RSS_SLACK_MB=${2:?}; shift ;;
	--keep) export MMRISK_KEEP=1 ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $minutes in '' | *[!0-9]*) echo "soak.sh: --minutes wants a whole number, got '$minutes'" >&2; exit 2 ;; esac
[ -f "$top/build/plugins/mmriskscore/.libs/mmriskscore.so" ] || "$top/scripts/build.sh" || exit 1
echo "soak.sh: running for $minutes min (figures at the end)" >&2
MMRISK_SOAK_SECONDS=$((minutes * 60)) exec bash "$top/tests/integration/soak.sh"
