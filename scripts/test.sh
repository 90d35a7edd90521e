#!/bin/bash
# The whole test suite, from a fresh checkout on Debian 12 (as root the first time: it
# installs what it needs). Safe to run again.
#
#   1. build with the rsyslog module (./build) and run `make check` there: unit tests,
#      rulebase samples, ABI guard, integration tests with the real rsyslogd, valgrind run;
#   2. build engine + unit tests with -fsanitize=address,undefined (./build-asan) and run
#      their `make check`;
#   3. the libFuzzer harnesses (scripts/fuzz.sh, ./build-fuzz): every saved regression input,
#      then each harness for MMRISK_FUZZ_SECONDS (default 20; 0 skips the smoke run), two at a
#      time. Long fuzzing sessions: scripts/fuzz.sh --seconds 3600.
# Ends with one summary line "N passed, N failed, N skipped" over both runs.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

start=$(date +%s)
pass=0 fail=0 skip=0 status=0

run_check() { # $1 = build dir, $2 = label
	local dir=$1 label=$2 log
	echo "== make check ($label)" >&2
	if ! make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1; then
		status=1
	fi
	grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$dir/check.out"
	log="$dir/test-suite.log"
	if [ ! -f "$log" ]; then
		echo "no $log: the build or test harness failed; last output:" >&2
		tail -n 40 "$dir/check.out" >&2
		fail=$((fail + 1))
		return
	fi
	local p f s e
	p=$(sed -n 's/^# PASS: *//p' "$log"); f=$(sed -n 's/^# FAIL: *//p' "$log")
	s=$(sed -n 's/^# SKIP: *//p' "$log"); e=$(sed -n 's/^# ERROR: *//p' "$log")
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0})); skip=$((skip + ${s:-0}))
	if [ "${f:-0}" != 0 ] || [ "${e:-0}" != 0 ]; then
		echo "---- $label: failing test logs ($log) ----"
		cat "$log"
	fi
	# Say why anything was skipped: a skip must never hide a missing setup step.
	for t in $(grep -E '^SKIP:' "$dir/check.out" | awk '{print $2}'); do
		echo "  skipped $t: $(grep -m1 '^SKIP' "$dir/${t%.sh}.log" 2>/dev/null)"
	done
}

if ! scripts/build.sh; then
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
run_check build "rsyslog module"
if scripts/build.sh --asan; then
	run_check build-asan "ASan+UBSan engine"
else
	fail=$((fail + 1)); status=1
fi

fuzz_seconds=${MMRISK_FUZZ_SECONDS:-20}
echo "== fuzzing (regressions, then ${fuzz_seconds} s per harness)" >&2
if scripts/fuzz.sh --regressions >build-fuzz.out 2>&1; then
	echo "PASS: fuzz regressions"; pass=$((pass + 1))
else
	echo "FAIL: fuzz regressions"; tail -n 30 build-fuzz.out; fail=$((fail + 1))
fi
if [ "$fuzz_seconds" -gt 0 ]; then
	if scripts/fuzz.sh --seconds "$fuzz_seconds" --jobs 2 >>build-fuzz.out 2>&1; then
		echo "PASS: fuzz smoke (${fuzz_seconds} s per harness)"; pass=$((pass + 1))
	else
		echo "FAIL: fuzz smoke: a harness crashed (build-fuzz/crashes/)"
		tail -n 30 build-fuzz.out; fail=$((fail + 1))
	fi
	grep -E '^fuzz_' build-fuzz.out | tail -n 6
fi

echo "test.sh: finished in $(($(date +%s) - start)) s"
[ "$fail" -gt 0 ] && status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
