#!/bin/bash
# ThreadSanitizer over the multi-threaded paths (issue 6: "thread sanitizer run over the
# multi-worker integration test"):
#   1. configures and builds, in a build directory of its own (MMRISK_TSAN_BUILDDIR, default
#      <builddir>/tsan-build; kept between runs, so later runs only recompile what changed),
#      the engine, the module and the threaded unit tests with -fsanitize=thread;
#   2. runs those unit tests: test_engine_threads (four threads scoring overlapping users and
#      IPs) and test_enrich (a context swapped while threads score); any report fails.
#      MMRISK_TSAN_UNITS lists others to add, e.g. "tests/unit/test_snapshot" (snapshots
#      while threads score; about two minutes under TSan, hence not by default);
#   3. runs tests/integration/hup-under-load.sh with that module in the real rsyslogd (libtsan
#      preloaded, 4 workers, snapshots every second, HUPs reloading rulebase and context while
#      messages flow); a report with a frame in mmriskscore.so fails. rsyslogd itself is not
#      instrumented: its own reports are counted, not judged.
# Skips (77) when the compiler cannot build with -fsanitize=thread.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
cc=${CC:-gcc}
printf 'int main(void) { return 0; }\n' >"$MMR_WORK/t.c"
"$cc" -fsanitize=thread "$MMR_WORK/t.c" -o "$MMR_WORK/t" >/dev/null 2>&1 && "$MMR_WORK/t" ||
	mmr_skip "$cc cannot build and run a -fsanitize=thread program (libtsan missing?)"

tb=${MMRISK_TSAN_BUILDDIR:-$MMR_BUILDDIR/tsan-build}
mkdir -p "$tb" || mmr_fail "cannot create $tb"
# the make that runs this test must not steer the nested one
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
if [ ! -f "$tb/Makefile" ]; then
	# the main build's configure arguments (rsyslog tree, module directory), plus TSan
	args=()
	if [ -x "$MMR_BUILDDIR/config.status" ]; then
		eval "args=($("$MMR_BUILDDIR/config.status" --config))"
	fi
	(cd "$tb" && "$MMR_SRCDIR/configure" -q "${args[@]}" CFLAGS="-fsanitize=thread -O1 -g" \
		LDFLAGS="-fsanitize=thread") >"$MMR_WORK/configure.out" 2>&1 || {
		rm -f "$tb/Makefile"
		mmr_fail "configure in $tb failed: $(tail -n 5 "$MMR_WORK/configure.out")"
	}
fi
units="tests/unit/test_engine_threads tests/unit/test_enrich ${MMRISK_TSAN_UNITS:-}"
t0=$SECONDS
make -C "$tb" -j2 plugins/mmriskscore/mmriskscore.la $units >"$MMR_WORK/make.out" 2>&1 ||
	mmr_fail "building with -fsanitize=thread in $tb failed: $(grep -E 'error' "$MMR_WORK/make.out" | head -n 5)"
build_secs=$((SECONDS - t0))

summary=
for u in $units; do
	name=$(basename "$u")
	(cd "$tb" && MMR_TEST_EVENTS=20000 TSAN_OPTIONS="halt_on_error=1 exitcode=66" "./$u") \
		>"$MMR_WORK/$name.out" 2>&1
	rc=$?
	case $rc in
	0) summary+=" $name ok;" ;;
	77) summary+=" $name skipped;" ;;
	66)
		grep -A 30 'WARNING: ThreadSanitizer' "$MMR_WORK/$name.out" | head -n 40 >&2
		mmr_fail "$name: ThreadSanitizer report (above; full output: $MMR_WORK/$name.out, kept with MMRISK_KEEP=1)"
		;;
	*)
		tail -n 20 "$MMR_WORK/$name.out" >&2
		mmr_fail "$name built with -fsanitize=thread failed (exit status $rc, no ThreadSanitizer report; output above)"
		;;
	esac
done

MMRISK_TSAN=1 MMRISK_MODULE=$tb/plugins/mmriskscore/.libs/mmriskscore.so MMRISK_RULEBASE=$MMR_RULEBASE \
	MMRISK_HUPS=${MMRISK_HUPS:-4} bash "$(dirname "$0")/hup-under-load.sh" >"$MMR_WORK/hul.out" 2>&1
rc=$?
cat "$MMR_WORK/hul.out" >&2
[ "$rc" = 0 ] || mmr_fail "hup-under-load.sh under ThreadSanitizer failed (exit status $rc, output above)"
hul=$(sed -n 's/^PASS hup-under-load: //p' "$MMR_WORK/hul.out")
mmr_pass "built in ${build_secs}s;$summary rsyslogd: ${hul%%(*}...; ${hul##*; }"
