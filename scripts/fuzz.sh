#!/bin/bash
# Build and run the libFuzzer harnesses of fuzz/ (fuzz/README.md) on Debian 12 or later.
#
#   scripts/fuzz.sh                        build, run every harness 60 s, one at a time
#   scripts/fuzz.sh --seconds 10 [HARNESS...]
#                                          run only these (fuzz_parse, fuzz_mapping, ...)
#   scripts/fuzz.sh --jobs 2               run two harnesses at a time (one core each)
#   scripts/fuzz.sh --regressions          run every file of fuzz/regressions/<harness>/ once
#                                          through its harness (seconds; for CI)
#   scripts/fuzz.sh --build-only           build the harnesses, run nothing
#   scripts/fuzz.sh --list                 print the harness names
#
# As root the first time, it installs what it needs (clang, libclang-rt-14-dev for libFuzzer
# and the sanitizer runtimes, the engine's build dependencies). It configures a separate build
# directory, build-fuzz/ (CC=clang, --disable-module, the engine compiled with
# -fsanitize=fuzzer-no-link,address,undefined), builds the engine library and the compiled
# rulebase there, then each harness. The run writes, per harness:
#   build-fuzz/corpus/<h>/     inputs libFuzzer found (kept between runs; the curated seeds
#                              stay in fuzz/corpus/<h>/ and are never written to)
#   build-fuzz/crashes/<h>/    crash-*, leak-*, timeout-*, oom-* reproducers
#   build-fuzz/logs/<h>.log    libFuzzer's output
# and prints one line per harness: seconds, inputs tried, exec/s, coverage (edges, features),
# corpus size, new inputs, crashes. Exit status: 0, 1 when any harness crashed (or a
# regression input fails), 2 on a build or usage error.
#
# Environment: FUZZ_CC (default clang), FUZZ_SAMPLES (third-party sample logs used as extra,
# never stored seeds for fuzz_parse; default ../shared/samples next to the checkout),
# FUZZ_ARGS (extra libFuzzer flags, e.g. "-max_len=8192").
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bdir="$top/build-fuzz"
HARNESSES=(fuzz_parse fuzz_mapping fuzz_json_scan fuzz_roster fuzz_lists fuzz_model fuzz_snapshot)
seconds=60
jobs=1
mode=run
want=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=${2:?--seconds needs a number}; shift ;;
	--seconds=*) seconds=${1#*=} ;;
	--jobs) jobs=${2:?--jobs needs a number}; shift ;;
	--jobs=*) jobs=${1#*=} ;;
	--regressions) mode=regressions ;;
	--build-only) mode=build ;;
	--list) printf '%s\n' "${HARNESSES[@]}"; exit 0 ;;
	-h | --help) sed -n '2,29p' "$0"; exit 0 ;;
	fuzz_*) want+=("$1") ;;
	*) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: --seconds wants a whole number" >&2; exit 2 ;; esac
case $jobs in '' | *[!0-9]* | 0) echo "fuzz.sh: --jobs wants a number >= 1" >&2; exit 2 ;; esac
for h in "${want[@]}"; do
	[ -f "$top/fuzz/$h.c" ] || { echo "fuzz.sh: no harness $h (fuzz/$h.c)" >&2; exit 2; }
done
[ ${#want[@]} -eq 0 ] && want=("${HARNESSES[@]}")
say() { echo "fuzz.sh: $*" >&2; }

# 1. packages --------------------------------------------------------------------------------
cc=${FUZZ_CC:-clang}
pkgs="clang libclang-rt-14-dev liblognorm-dev libfastjson-dev libmaxminddb-dev pkg-config
      build-essential autoconf automake libtool"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ] && command -v dpkg-query >/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		say "missing packages:$missing — run as root once, or: apt-get install$missing"
		exit 2
	fi
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-upgrade $missing >&2 || exit 2
fi
fuzzlib=$("$cc" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
if [ ! -f "$fuzzlib" ] && ! echo 'int LLVMFuzzerTestOneInput(const char*d,long n){return 0;}' |
	"$cc" -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
	say "$cc cannot link -fsanitize=fuzzer (Debian: apt-get install clang libclang-rt-14-dev)"
	exit 2
fi

# 2. the engine, instrumented, in build-fuzz/ ----------------------------------------------------
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
ENGINE_CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SAN"
cd "$top" || exit 2
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	say "autoreconf"
	autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi >&2; exit 2; }
fi
mkdir -p "$bdir"
cd "$bdir" || exit 2
want_cfg="--disable-module CC=$cc CFLAGS=$ENGINE_CFLAGS"
if [ ! -f Makefile ] || [ ! -f config.status ] || [ "$(cat .fuzz-configured 2>/dev/null)" != "$want_cfg" ]; then
	say "configure (in $bdir)"
	"$top/configure" -q --disable-module CC="$cc" CFLAGS="$ENGINE_CFLAGS" \
		LDFLAGS="$SAN" >&2 || exit 2
	echo "$want_cfg" >.fuzz-configured
fi
say "make engine/libmmriskengine.la rulebase/identity-vpn.rulebase (in $bdir)"
make -j"$(nproc)" engine/libmmriskengine.la rulebase/identity-vpn.rulebase >"$bdir/make.log" 2>&1 ||
	{ tail -n 40 "$bdir/make.log" >&2; say "engine build failed (full log: $bdir/make.log)"; exit 2; }

# 3. the harnesses -----------------------------------------------------------------------------
snapshot_ready() { # the state code another change is writing: not built while a placeholder
	[ -f "$top/engine/engine_state.c" ] && [ -f "$top/engine/include/mmriskscore/state.h" ] &&
		! grep -qs PLACEHOLDER "$top/engine/engine_state.c" "$top/engine/state/snapshot.c"
}
mkdir -p "$bdir/fuzz"
# word splitting of $SAN and of pkg-config's output is wanted: they are lists of flags
# shellcheck disable=SC2206,SC2207
cflags=(-std=gnu11 -Wall -Wextra -g -O1 -fno-omit-frame-pointer $SAN -D_GNU_SOURCE
	-I"$top/engine/include" -I"$top/engine" -I"$top/fuzz"
	$(pkg-config --cflags libfastjson lognorm libmaxminddb)
	-DMMR_FUZZ_SRCDIR="\"$top\"" -DMMR_FUZZ_BUILDDIR="\"$bdir\"")
# shellcheck disable=SC2207
libs=("$bdir/engine/.libs/libmmriskengine.a" $(pkg-config --libs lognorm libfastjson libmaxminddb)
	-lm -lpthread)
built=()
for h in "${want[@]}"; do
	if [ "$h" = fuzz_snapshot ] && ! snapshot_ready; then
		say "fuzz_snapshot: skipped, engine/engine_state.c is missing or still a placeholder"
		continue
	fi
	extra=()
	# fuzz_parse shares one loaded context between the engines of all inputs (see its header)
	# shellcheck disable=SC2054  # one linker flag, its commas are the linker's
	[ "$h" = fuzz_parse ] && extra=(-Wl,--wrap=mmr_context_free)
	out="$bdir/fuzz/$h"
	if [ ! -x "$out" ] || [ -n "$(find "$top/fuzz" -name '*.[ch]' -newer "$out" | head -1)" ] ||
		[ "$bdir/engine/.libs/libmmriskengine.a" -nt "$out" ]; then
		"$cc" "${cflags[@]}" -fsanitize=fuzzer "$top/fuzz/$h.c" "${libs[@]}" "${extra[@]}" \
			-o "$out" 2>"$bdir/fuzz/$h.build.log" ||
			{ cat "$bdir/fuzz/$h.build.log" >&2; say "building $h failed"; exit 2; }
	fi
	built+=("$h")
done
[ ${#built[@]} -eq 0 ] && { say "nothing to run"; exit 0; }
[ "$mode" = build ] && { say "built: ${built[*]} (in $bdir/fuzz)"; exit 0; }

# the harnesses' private files (fuzz_common.h): removed here, also after a crash
tmpbase=/dev/shm
[ -d "$tmpbase" ] && [ -w "$tmpbase" ] || tmpbase=${TMPDIR:-/tmp}
MMR_FUZZ_TMPDIR=$(mktemp -d "$tmpbase/mmr-fuzz-run.XXXXXX") || exit 2
export MMR_FUZZ_TMPDIR
trap 'rm -rf "$MMR_FUZZ_TMPDIR"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# 4a. --regressions: every saved reproducer once -----------------------------------------------
if [ "$mode" = regressions ]; then
	status=0 total=0
	for h in "${built[@]}"; do
		d="$top/fuzz/regressions/$h"
		files=()
		[ -d "$d" ] && while IFS= read -r f; do files+=("$f"); done < <(find "$d" -type f ! -name '*.md' | sort)
		if [ ${#files[@]} -eq 0 ]; then
			printf '%-14s no regression inputs\n' "$h"
			continue
		fi
		mkdir -p "$bdir/logs"
		log="$bdir/logs/$h.regressions.log"
		if "$bdir/fuzz/$h" -runs=1 "${files[@]}" >"$log" 2>&1; then
			printf '%-14s %3d inputs  ok\n' "$h" ${#files[@]}
		else
			printf '%-14s %3d inputs  FAILED (log: %s)\n' "$h" ${#files[@]} "$log"
			grep -aE 'ERROR: |FUZZ CHECK FAILED|Running: |runtime error' "$log" | head -n 20
			status=1
		fi
		total=$((total + ${#files[@]}))
	done
	echo "fuzz.sh: $total regression inputs, $([ $status = 0 ] && echo 'all pass' || echo 'FAILURES')"
	exit $status
fi

# 4b. seeds made at run time (never stored in the repository) ------------------------------------
samples=${FUZZ_SAMPLES:-$top/../shared/samples}
seeddir() { echo "$bdir/seeds/$1"; }
make_seeds() {
	local h=$1 d
	d=$(seeddir "$h")
	case $h in
	fuzz_parse)
		# third-party sample lines: one input per line (their licences forbid storing them)
		if [ -d "$samples" ] && [ ! -d "$d" ]; then
			mkdir -p "$d"
			find "$samples" -type f -name '*.log' -print0 | sort -z |
				xargs -0 cat | tr -d '\r' |
				awk -v d="$d" 'length($0) > 0 { f = sprintf("%s/s%05d", d, NR); printf "%s", $0 > f; close(f) }'
		fi ;;
	fuzz_snapshot)
		if [ ! -d "$d" ] || [ -z "$(ls -A "$d" 2>/dev/null)" ] ||
			[ "$top/engine/engine_state.c" -nt "$d" ]; then
			rm -rf "$d"; mkdir -p "$d"
			local gen="$bdir/fuzz/make_snapshot_seeds" sim="$bdir/seeds/sim"
			# the generator links its own uninstrumented copy of the engine: a sanitizer
			# report while making seeds must not stop the harness that would report it
			# shellcheck disable=SC2046  # lists of flags and of source files
			"$cc" -std=gnu11 -O1 -g -D_GNU_SOURCE -I"$top/engine/include" -I"$top/engine" \
				-I"$top/fuzz" $(pkg-config --cflags libfastjson lognorm libmaxminddb) \
				"$top/fuzz/make_snapshot_seeds.c" $(find "$top/engine" -name '*.c' | sort) \
				$(pkg-config --libs lognorm libfastjson libmaxminddb) -lm -lpthread \
				-o "$gen" 2>"$bdir/fuzz/make_snapshot_seeds.build.log" ||
				{ cat "$bdir/fuzz/make_snapshot_seeds.build.log" >&2; return 1; }
			[ -f "$sim/logs.syslog" ] || "$top/contrib/simulator/mmrisk-simulate" --users 40 \
				--days 2 --no-geoip --quiet --out "$sim" >&2 || return 1
			"$gen" "$bdir/rulebase/identity-vpn.rulebase" \
				"$top/mappings" "$sim/logs.syslog" "$d" >&2 || return 1
		fi ;;
	esac
	return 0
}

# 4c. run ------------------------------------------------------------------------------------------
mkdir -p "$bdir/logs"
run_one() {
	local h=$1 work="$bdir/corpus/$1" crash="$bdir/crashes/$1" log="$bdir/logs/$1.log"
	mkdir -p "$work" "$crash"
	local dirs=("$work")
	[ -d "$top/fuzz/corpus/$h" ] && dirs+=("$top/fuzz/corpus/$h")
	[ -d "$(seeddir "$h")" ] && dirs+=("$(seeddir "$h")")
	local dict=()
	[ -f "$top/fuzz/dict/$h.dict" ] && dict=(-dict="$top/fuzz/dict/$h.dict")
	local before
	before=$(find "$work" -type f | wc -l)
	# -timeout: one input may take 10 s (a hang otherwise); -rss_limit_mb: the rulebase with
	# ASan's quarantine takes ~850 MB in fuzz_parse
	"$bdir/fuzz/$h" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=3072 -artifact_prefix="$crash/" "${dict[@]}" ${FUZZ_ARGS:-} \
		"${dirs[@]}" >"$log" 2>&1
	echo $? >"$log.rc"
	local after
	after=$(find "$work" -type f | wc -l)
	echo "$((after - before))" >"$log.new"
}

summary() {
	local h=$1 log="$bdir/logs/$1.log"
	local rc execs eps cov ft corp new crashes
	rc=$(cat "$log.rc" 2>/dev/null || echo ?)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -aE '^#[0-9]+' "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1 \2 \3/p')
	read -r cov ft corp <<<"${cov:-? ? ?}"
	new=$(cat "$log.new" 2>/dev/null || echo ?)
	crashes=$(find "$bdir/crashes/$h" -type f -newer "$log.start" 2>/dev/null | wc -l)
	printf '%-14s %7s %10s %7s %6s %7s %7s %8s %5s %7s%s\n' "$h" "$seconds" "${execs:-?}" "${eps:-?}" \
		"$cov" "$ft" "${corp%%/*}" "${corp#*/}" "$new" "$crashes" \
		"$([ "$rc" != 0 ] && echo "   exit $rc, log $log")"
	if [ "$crashes" != 0 ] || [ "$rc" != 0 ]; then
		grep -aE '^==[0-9]+==ERROR|^SUMMARY|FUZZ CHECK FAILED|runtime error|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
		return 1
	fi
	return 0
}

for h in "${built[@]}"; do
	make_seeds "$h" || { say "$h: making seeds failed"; exit 2; }
done
say "running ${built[*]} for ${seconds}s each, $jobs at a time (logs in $bdir/logs)"
pids=()
for h in "${built[@]}"; do
	touch "$bdir/logs/$h.log.start"
	run_one "$h" &
	pids+=($!)
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n 2>/dev/null || true
	done
done
wait
status=0
printf '%-14s %7s %10s %7s %6s %7s %7s %8s %5s %7s\n' harness seconds inputs exec/s edges features corpus size new crashes
for h in "${built[@]}"; do
	summary "$h" || status=1
done
[ $status = 0 ] && echo "fuzz.sh: no crashes" || echo "fuzz.sh: CRASHES (reproducers in $bdir/crashes/)"
exit $status
