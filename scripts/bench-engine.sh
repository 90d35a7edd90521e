#!/bin/bash
# bench-engine.sh: the scoring engine alone (issue 7, BENCHMARKS.md): events per second per
# core with 100 k and 1 M users resident, scaling from 1 to 2 threads, bytes per user, and
# snapshot write/restore times when the engine implements them. Runs tests/perf/engine-bench
# once per population; prints a table, writes DIR/results.jsonl. Measures; judges nothing.
#
#   scripts/bench-engine.sh [--users 100000,1000000] [--events 1000000] [--repeat 3]
#                           [--threads 2] [--warm 2] [--no-context] [--no-roster]
#                           [--out DIR] [--callgrind] [--perf] [--locks] [--profile-only]
#
#   --users LIST   populations, comma-separated (default 100000,1000000)
#   --events M     events per measurement (default 1000000); --repeat R measurements of each
#                  kind (1 thread, T threads, alternating; medians reported)
#   --warm K       events per user after the first before measuring (default 2)
#   --no-context   no GeoIP databases, lists or roster (the engine's cheapest path)
#   --no-roster    GeoIP and lists, but no HR roster
#   --callgrind    afterwards: valgrind --tool=callgrind on a small run (20 k users), collecting
#                  inside mmr_engine_process only; inclusive and self costs by function to
#                  DIR/callgrind-inclusive.txt and DIR/callgrind-self.txt (instruction counts:
#                  repeatable whatever else runs on the machine)
#   --perf         afterwards: perf record -e cpu-clock (software clock) on one run of the
#                  first population; top symbols to DIR/perf-engine.txt
#   --locks        afterwards: where 2 threads wait for each other: perf record of the
#                  scheduler's context switches (sched:sched_switch, DWARF call graphs) on a
#                  2-thread run of the first population; the code that waited on a mutex, by
#                  call site (file:line), to DIR/lock-waits.txt
#   --profile-only skip the measurements, only --callgrind / --perf / --locks
#
# Context (written into DIR/context by this script, matching engine-bench's address plan):
# synthetic GeoLite2-City/ASN databases (perl MaxMind::DB::Writer, as the simulator uses: one
# city and residential ISP per /16 of 24.0.0.0/8 and 73.0.0.0/8, a mobile carrier for
# 174.192.0.0/16) and list files (corporate networks: offices 203.0.113.0/24 and the VPN pool
# 10.80.0.0/16; hosting and VPN AS numbers; watch countries). The roster is synthetic too
# (engine-bench --roster: every user, 11 time zones, 3 % new hires, 2 % privileged).
#
# Environment: MMRISK_BUILDDIR (default <repo>/build), MMRISK_ENGINE_BENCH (default
# $MMRISK_BUILDDIR/tests/perf/engine-bench), VALGRIND, PERF.
set -uo pipefail

prog=bench-engine
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=${MMRISK_BUILDDIR:-$root/build}
bench=${MMRISK_ENGINE_BENCH:-$builddir/tests/perf/engine-bench}
valgrind=${VALGRIND:-$(command -v valgrind || true)}
perf_bin=${PERF:-$(command -v perf || true)}

users_list=100000,1000000
events=1000000
repeat=3
threads=2
warm=2
context=1
roster=1
out=
callgrind=0
perf=0
profile_only=0
locks=0

die_usage() { printf '%s: %s\n' "$prog" "$*" >&2; sed -n '7,9p' "$0" >&2; exit 2; }
die() { printf '%s: ERROR: %s\n' "$prog" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--users) users_list=${2:?}; shift 2 ;;
	--events) events=${2:?}; shift 2 ;;
	--repeat) repeat=${2:?}; shift 2 ;;
	--threads) threads=${2:?}; shift 2 ;;
	--warm) warm=${2:?}; shift 2 ;;
	--no-context) context=0; roster=0; shift ;;
	--no-roster) roster=0; shift ;;
	--out) out=${2:?}; shift 2 ;;
	--callgrind) callgrind=1; shift ;;
	--perf) perf=1; shift ;;
	--profile-only) profile_only=1; shift ;;
	--locks) locks=1; shift ;;
	-h | --help) sed -n '2,37p' "$0"; exit 0 ;;
	*) die_usage "unknown argument: $1" ;;
	esac
done
[[ $users_list =~ ^[0-9]+(,[0-9]+)*$ ]] || die_usage "--users: comma-separated numbers"
[[ $events =~ ^[1-9][0-9]*$ ]] || die_usage "--events must be a positive number"
[[ $repeat =~ ^[1-9][0-9]?$ ]] || die_usage "--repeat must be 1-64"
[[ $threads =~ ^[1-9][0-9]?$ ]] || die_usage "--threads must be 1-64"
[[ $warm =~ ^[0-9]+$ ]] || die_usage "--warm must be a number"

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }
out=$(abspath "${out:-${TMPDIR:-/tmp}/mmrisk-bench-engine}")
out=${out%/}
[ -n "$out" ] || die "--out must not be /"
if [ -e "$out" ] && [ ! -e "$out/.mmrisk-bench-engine" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
	die "$out exists, is not empty and is not a bench-engine directory; refusing to use it"
fi
mkdir -p "$out" || die "cannot create $out"
: >"$out/.mmrisk-bench-engine"

# ---- build (the snapshot API is linked in when the engine library has it) ------------------
if [ -z "${MMRISK_ENGINE_BENCH:-}" ]; then
	[ -f "$builddir/Makefile" ] || die "no build tree at $builddir (scripts/build.sh makes one; or set MMRISK_BUILDDIR)"
	make -C "$builddir" -s engine/libmmriskengine.la >&2 || die "building the engine library failed"
	lib=$builddir/engine/.libs/libmmriskengine.a
	ldflags=
	if [ -f "$lib" ]; then
		for sym in mmr_engine_save mmr_engine_restore mmr_engine_state_bytes; do
			# (no grep -q: with pipefail, nm's SIGPIPE would make the pipeline fail)
			nm -g --defined-only "$lib" 2>/dev/null | grep " T $sym\$" >/dev/null && ldflags+=" -Wl,-u,$sym"
		done
	fi
	# relink every time: whether the snapshot API is in the library can change between runs
	rm -f "$bench"
	make -C "$builddir" -s tests/perf/engine-bench LDFLAGS="$ldflags" >&2 ||
		die "building tests/perf/engine-bench failed"
	if [ -n "$ldflags" ]; then say "snapshot API found in the engine library:$ldflags"
	else say "the engine library has no mmr_engine_save/restore yet: snapshots not measured"; fi
fi
[ -x "$bench" ] || die "engine-bench not built: $bench"

# ---- context -----------------------------------------------------------------------------------
ctxdir=$out/context
ctx_args=()
if [ "$context" = 1 ]; then
	if [ ! -f "$ctxdir/.complete" ]; then
		perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
			die "writing the GeoIP databases needs MaxMind::DB::Writer (apt-get install libmaxmind-db-writer-perl); or --no-context"
		say "writing synthetic GeoIP databases and lists into $ctxdir"
		rm -rf "$ctxdir"
		mkdir -p "$ctxdir/lists"
		perl - "$ctxdir" <<'PERL' || die "writing the GeoIP databases failed"
use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my $dir = shift;
# zone index order = engine-bench.c zones[]: the /16 number k is in city $C[k % 11]
my @C = (
	['US', 'United States', 'NA', 'North America', 'New York', 40.71, -74.01, 'America/New_York'],
	['US', 'United States', 'NA', 'North America', 'Chicago', 41.88, -87.63, 'America/Chicago'],
	['US', 'United States', 'NA', 'North America', 'Denver', 39.74, -104.99, 'America/Denver'],
	['US', 'United States', 'NA', 'North America', 'Los Angeles', 34.05, -118.24, 'America/Los_Angeles'],
	['GB', 'United Kingdom', 'EU', 'Europe', 'London', 51.51, -0.13, 'Europe/London'],
	['DE', 'Germany', 'EU', 'Europe', 'Berlin', 52.52, 13.40, 'Europe/Berlin'],
	['PL', 'Poland', 'EU', 'Europe', 'Warsaw', 52.23, 21.01, 'Europe/Warsaw'],
	['IN', 'India', 'AS', 'Asia', 'Bengaluru', 12.97, 77.59, 'Asia/Kolkata'],
	['PH', 'Philippines', 'AS', 'Asia', 'Manila', 14.60, 120.98, 'Asia/Manila'],
	['JP', 'Japan', 'AS', 'Asia', 'Tokyo', 35.68, 139.69, 'Asia/Tokyo'],
	['CA', 'Canada', 'NA', 'North America', 'Toronto', 43.65, -79.38, 'America/Toronto'],
);
my %types = (city => 'map', continent => 'map', country => 'map', registered_country => 'map',
	location => 'map', names => 'map', en => 'utf8_string', geoname_id => 'uint32',
	iso_code => 'utf8_string', code => 'utf8_string', latitude => 'double', longitude => 'double',
	time_zone => 'utf8_string', accuracy_radius => 'uint16',
	autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string');
my %common = (ip_version => 6, record_size => 28, languages => ['en'], remove_reserved_networks => 0,
	map_key_type_callback => sub { $types{$_[0]} });
my $city = MaxMind::DB::Writer::Tree->new(%common, database_type => 'GeoLite2-City',
	description => {en => 'mmriskscore bench-engine synthetic GeoLite2-City'});
my $asn = MaxMind::DB::Writer::Tree->new(%common, database_type => 'GeoLite2-ASN',
	description => {en => 'mmriskscore bench-engine synthetic GeoLite2-ASN'});
$_->_set_build_epoch(1790812800) for $city, $asn;
my $put = sub {
	my ($cidr, $ci, $asnum, $org, $radius) = @_;
	my $c = $C[$ci];
	my $country = {geoname_id => 1000 + $ci, iso_code => $c->[0], names => {en => $c->[1]}};
	$city->insert_network($cidr, {
		city => {geoname_id => 5000 + $ci, names => {en => $c->[4]}},
		continent => {code => $c->[2], geoname_id => 6000 + $ci, names => {en => $c->[3]}},
		country => $country, registered_country => $country,
		location => {latitude => $c->[5], longitude => $c->[6], time_zone => $c->[7],
			accuracy_radius => $radius}});
	$asn->insert_network($cidr, {autonomous_system_number => $asnum,
		autonomous_system_organization => $org});
};
for my $k (0 .. 511) {
	my $cidr = sprintf '%d.%d.0.0/16', $k < 256 ? 24 : 73, $k & 255;
	my $ci = $k % 11;
	$put->($cidr, $ci, 64700 + ($k % 40), sprintf('%s Cable Broadband %d', $C[$ci][4], $k % 40), 20);
}
$put->('174.192.0.0/16', 0, 64690, 'Skyline Wireless', 200);
for (['geoip-city.mmdb', $city], ['geoip-asn.mmdb', $asn]) {
	open my $fh, '>:raw', "$dir/$_->[0]" or die "$_->[0]: $!\n";
	$_->[1]->write_tree($fh);
	close $fh or die "$_->[0]: $!\n";
}
PERL
		printf '%s\n' '# bench-engine: offices and VPN pool' '203.0.113.0/24' '10.80.0.0/16' \
			>"$ctxdir/lists/corporate-networks.txt"
		printf '%s\n' 'AS64801  # hosting' 'AS64802  # hosting' >"$ctxdir/lists/hosting.txt"
		printf '%s\n' 'AS64901  # commercial VPN' >"$ctxdir/lists/commercial-vpn.txt"
		printf '%s\n' KP CN RU >"$ctxdir/lists/watch-countries.txt"
		: >"$ctxdir/.complete"
	fi
	ctx_args=(--context "$ctxdir")
	[ "$roster" = 1 ] && ctx_args+=(--roster)
fi

# ---- runs --------------------------------------------------------------------------------------
[ "$profile_only" = 1 ] || : >"$out/results.jsonl"
IFS=, read -r -a pops <<<"$users_list"
t0=$(date +%s)
for n in "${pops[@]}"; do
	[ "$profile_only" = 1 ] && break
	say "$n users: engine-bench --users $n --events $events --repeat $repeat --threads $threads --warm $warm ${ctx_args[*]}"
	"$bench" --users "$n" --events "$events" --repeat "$repeat" --threads "$threads" \
		--warm "$warm" "${ctx_args[@]}" --snapshot "$out" --json "$out/results.jsonl" ||
		die "engine-bench failed for $n users"
	echo
done

if [ "$callgrind" = 1 ]; then
	[ -n "$valgrind" ] || die "--callgrind needs valgrind"
	say "callgrind: 20000 users, 100000 events, 1 thread (instructions inside mmr_engine_process)"
	rm -f "$out"/callgrind.out.*
	"$valgrind" --tool=callgrind --toggle-collect=mmr_engine_process \
		--callgrind-out-file="$out/callgrind.out.engine" \
		"$bench" --users 20000 --events 100000 --repeat 1 --threads 1 --warm 2 "${ctx_args[@]}" \
		--quiet >/dev/null 2>"$out/callgrind.log" || die "callgrind run failed (see $out/callgrind.log)"
	callgrind_annotate --inclusive=yes "$out/callgrind.out.engine" 2>/dev/null |
		sed -n '1,70p' >"$out/callgrind-inclusive.txt"
	callgrind_annotate --inclusive=no "$out/callgrind.out.engine" 2>/dev/null |
		sed -n '1,60p' >"$out/callgrind-self.txt"
	say "callgrind: $out/callgrind-inclusive.txt, $out/callgrind-self.txt"
fi
if [ "$perf" = 1 ]; then
	[ -n "$perf_bin" ] || die "--perf needs perf (apt-get install linux-perf)"
	"$perf_bin" record -q -e cpu-clock -F 2000 -o "$out/perf-engine.data" \
		"$bench" --users "${pops[0]}" --events "$events" --repeat 1 --threads 1 --warm "$warm" \
		"${ctx_args[@]}" --quiet >/dev/null 2>&1 || die "perf record failed"
	"$perf_bin" report -i "$out/perf-engine.data" --stdio --no-children --sort symbol,dso \
		--percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 >"$out/perf-engine.txt"
	say "perf: $out/perf-engine.txt"
fi

if [ "$locks" = 1 ]; then
	[ -n "$perf_bin" ] || die "--locks needs perf (apt-get install linux-perf)"
	say "locks: context switches of a 2-thread run (${pops[0]} users)"
	"$perf_bin" record -q -e sched:sched_switch --call-graph dwarf,16384 -o "$out/perf-locks.data" \
		"$bench" --users "${pops[0]}" --events "$events" --repeat 1 --threads 2 --warm "$warm" \
		"${ctx_args[@]}" --quiet >/dev/null 2>&1 || die "perf record (sched_switch) failed"
	# for every switch whose stack went through a futex lock wait: the first engine frame
	# above pthread_mutex_lock (the caller that waited), and the caller of that
	"$perf_bin" script -i "$out/perf-locks.data" 2>/dev/null | awk '
		/^[^ \t]/ { n = 0; next }
		NF == 0 { if (n) { w = 0
				for (i = 1; i <= n; i++) {
					if (f[i] ~ /lll_lock_wait/) w = 1
					if (w && f[i] ~ /^mmr_lru_acquire|^mmr_/ && f[i] !~ /pthread/) {
						print a[i] " " a[i + 1]; break } } }
			n = 0; next }
		{ n++; a[n] = $1; f[n] = $2 }' | sort | uniq -c | sort -rn | head -12 >"$out/lock-waits.raw"
	{
		echo "# mutex waits (context switches in __lll_lock_wait) of a 2-thread engine-bench run, by call site"
		echo "# count  waiting function (file:line)  <-  its caller (file:line)"
		while read -r cnt a1 a2; do
			printf '%6d  %s  <-  %s\n' "$cnt" \
				"$(addr2line -f -s -e "$bench" "0x$a1" 2>/dev/null | paste -sd' ')" \
				"$(addr2line -f -s -e "$bench" "0x$a2" 2>/dev/null | paste -sd' ')"
		done <"$out/lock-waits.raw"
		echo "# all context switches of the process: $("$perf_bin" script -i "$out/perf-locks.data" 2>/dev/null | grep -c sched_switch)"
	} >"$out/lock-waits.txt"
	say "locks: $out/lock-waits.txt"
fi

# ---- table -------------------------------------------------------------------------------------
if command -v jq >/dev/null && [ -s "$out/results.jsonl" ]; then
	echo "mmriskscore engine benchmark ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; $(($(date +%s) - t0)) s)"
	jq -r -s '
		def r0: if . == null then "-" else (round | tostring) end;
		def r2: if . == null then "-" else ((. * 100 | round) / 100 | tostring) end;
		"users      events/s/core  engine-only  2-thread wall  scaling  bytes/user(RSS)  user record  snapshot save / stall / restore",
		(.[] | "\(.users | tostring | . + "         " | .[0:10]) \(.one_thread.events_per_s_cpu.median | r0 | . + "         " | .[0:14]) \(.engine_only_events_per_s_cpu | r0 | . + "         " | .[0:12]) \(.multi_thread.events_per_s_wall.median // null | r0 | . + "          " | .[0:14]) x\(.multi_thread.scaling.median // null | r2 | . + "      " | .[0:7]) \(.bytes_per_user_rss | r0 | . + "                " | .[0:16]) \(.engine_user_bytes | tostring | . + "           " | .[0:12]) \(if .snapshot.measured == false then "not measured (\(.snapshot.why))" else "\(.snapshot.save_seconds | r2) s / \(.snapshot.max_stall_ms | r2) ms / \(.snapshot.restore_seconds | r2) s" end)")
	' "$out/results.jsonl"
	echo "targets: >= 300000 events/s/core; <= 1024 bytes/user; snapshot of 1 M users <= 10 s write, stall <= 10 ms, <= 5 s restore"
fi
echo "details: $out/results.jsonl"
