#!/bin/bash
# bench-pipeline.sh: what mmriskscore costs inside rsyslog, against what users run today
# (issue 7, BENCHMARKS.md). A private rsyslogd receives simulator lines over imptcp from
# tests/perf/tcp-sender and writes one line per message with omfile; three configurations,
# each on a freshly started rsyslogd, alternated round by round:
#
#   A   imptcp -> mmriskscore (rulebase + mappings + roster/lists/GeoIP) -> omfile
#   B1  imptcp -> mmjsonparse (JSON lines: Okta) | mmnormalize (text lines, same rulebase,
#       same "tag + msg" input as the module parses) -> omfile
#   B2  B1 + set $!risk!score = ... (a trivial assignment: the same $! materialization)
#
# B1 parses the JSON lines with mmjsonparse, because A parses them too (its JSON mappings):
# without it B1 would skip about half of the simulator's lines (Okta) and the comparison would
# be of different work. --b1-mmnormalize-only leaves mmjsonparse out (as issue 7 literally says).
#
#   scripts/bench-pipeline.sh [--rounds 7] [--users 5000] [--days 7] [--seed 1]
#                             [--data SIMDIR] [--workers 2] [--configs A,B1,B2]
#                             [--template json|msg] [--framing lf|octet] [--out DIR]
#                             [--profile] [--b1-mmnormalize-only]
#
#   --rounds N     rounds; each runs every configuration once, the order rotating per round
#                  (A B1 B2, B1 B2 A, B2 A B1, ...) so that drift hits all of them alike
#   --users/--days/--seed  simulator size (default 5000 users x 7 days: ~470 k lines, about
#                  half Okta JSON, half ASA/GlobalProtect/FortiGate/sshd text and noise)
#   --data SIMDIR  use an existing simulator output (logs.syslog, roster.csv, lists/, *.mmdb)
#   --workers N    queue.workerThreads of the ruleset (default 2)
#   --template     json (default): {"ts","host","tag","msg","vars":$!all-json} per message, what
#                  a SOC ships; msg: just %msg% (isolates processing from output formatting)
#   --framing      what tcp-sender sends: lf (default) or octet (RFC 6587 octet counting)
#   --profile      afterwards one more run of A under perf record -e cpu-clock --call-graph
#                  dwarf (the software clock: works without hardware counters); self and
#                  inclusive shares by symbol to DIR/profile-A.txt
#
# Every run: start rsyslogd, wait for the port, send everything over one connection, wait until
# the output file has exactly as many lines as were sent (tcp-sender -w), stop rsyslogd, then
# check the count again after the stop (more lines = duplicates, fewer = loss: both fail the
# benchmark). Throughput = lines / (first byte sent -> last line written); rsyslogd's CPU time
# (all threads, /proc/PID/stat) per message is recorded too.
#
# Output: a table on stdout, DIR/results.json (every run, medians, ratios). Exit 0 when every
# run completed (targets missed or not: it measures, it does not judge), 1 on a broken run
# (lost or duplicated messages, rsyslogd failure), 2 on bad usage.
#
# Environment (defaults under <repo>/build, as scripts/build.sh makes it):
#   MMRISK_BUILDDIR  build tree        MMRISK_MODULE    mmriskscore.so
#   MMRISK_RULEBASE  combined rulebase MMRISK_MAPPINGS  mappings directory (<repo>/mappings)
#   MMRISK_SIMULATE  the simulator     MMRISK_TCP_SENDER tests/perf/tcp-sender
#   RSYSLOGD         rsyslogd binary   PERF             perf binary (for --profile)
set -uo pipefail

prog=bench-pipeline
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=${MMRISK_BUILDDIR:-$root/build}
module=${MMRISK_MODULE:-$builddir/plugins/mmriskscore/.libs/mmriskscore.so}
rulebase=${MMRISK_RULEBASE:-$builddir/rulebase/identity-vpn.rulebase}
mappings=${MMRISK_MAPPINGS:-$root/mappings}
simulator=${MMRISK_SIMULATE:-$root/contrib/simulator/mmrisk-simulate}
sender=${MMRISK_TCP_SENDER:-$builddir/tests/perf/tcp-sender}
rsyslogd=${RSYSLOGD:-$(command -v rsyslogd || echo /usr/sbin/rsyslogd)}
perf_bin=${PERF:-$(command -v perf || true)}

rounds=7
users=5000
days=7
seed=1
data=
workers=2
configs=A,B1,B2
template=json
framing=lf
out=
profile=0
b1_json=1

die_usage() { printf '%s: %s\n' "$prog" "$*" >&2; sed -n '14,19p' "$0" >&2; exit 2; }
die() { printf '%s: ERROR: %s\n' "$prog" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift 2 ;;
	--users) users=${2:?}; shift 2 ;;
	--days) days=${2:?}; shift 2 ;;
	--seed) seed=${2:?}; shift 2 ;;
	--data) data=${2:?}; shift 2 ;;
	--workers) workers=${2:?}; shift 2 ;;
	--configs) configs=${2:?}; shift 2 ;;
	--template) template=${2:?}; shift 2 ;;
	--framing) framing=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--profile) profile=1; shift ;;
	--b1-mmnormalize-only) b1_json=0; shift ;;
	-h | --help) sed -n '2,48p' "$0"; exit 0 ;;
	*) die_usage "unknown argument: $1" ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die_usage "--rounds must be a positive number"
[[ $users =~ ^[1-9][0-9]*$ ]] || die_usage "--users must be a positive number"
[[ $days =~ ^[1-9][0-9]*$ ]] || die_usage "--days must be a positive number"
[[ $seed =~ ^[0-9]+$ ]] || die_usage "--seed must be a number"
[[ $workers =~ ^[1-9][0-9]?$ ]] || die_usage "--workers must be 1-99"
[[ $configs =~ ^(A|B1|B2)(,(A|B1|B2))*$ ]] || die_usage "--configs: a comma-separated list of A, B1, B2"
case $template in json | msg) ;; *) die_usage "--template json|msg" ;; esac
case $framing in lf | octet) ;; *) die_usage "--framing lf|octet" ;; esac

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }
module=$(abspath "$module")
rulebase=$(abspath "$rulebase")
mappings=$(abspath "$mappings")

[ -x "$rsyslogd" ] || die "rsyslogd not found (set RSYSLOGD or apt-get install rsyslog)"
[ -f "$module" ] || die "module not built: $module (scripts/build.sh builds it; or set MMRISK_MODULE)"
[ -f "$rulebase" ] || die "rulebase not found: $rulebase (make builds it; or set MMRISK_RULEBASE)"
[ -e "$mappings" ] || die "mappings not found: $mappings (set MMRISK_MAPPINGS)"
if [ ! -x "$sender" ] && [ -f "$builddir/Makefile" ]; then
	say "building tests/perf/tcp-sender in $builddir"
	make -C "$builddir" -s tests/perf/tcp-sender >&2 || die "building tcp-sender failed"
fi
[ -x "$sender" ] || die "tcp-sender not built: $sender (make builds it; or set MMRISK_TCP_SENDER)"
modpath=$(dirname "$(readlink -f "$rsyslogd")")
for m in imptcp mmnormalize mmjsonparse; do
	found=
	for d in /usr/lib/x86_64-linux-gnu/rsyslog /usr/lib/rsyslog /usr/lib64/rsyslog "$modpath/../lib/rsyslog"; do
		[ -f "$d/$m.so" ] && found=1
	done
	[ -n "$found" ] || say "warning: rsyslog module $m.so not found in the usual places (Debian: apt-get install rsyslog)"
done
if [ "$profile" = 1 ] && [ -z "$perf_bin" ]; then
	die "--profile needs perf (Debian: apt-get install linux-perf)"
fi

out=$(abspath "${out:-${TMPDIR:-/tmp}/mmrisk-bench-pipeline}")
out=${out%/}
[ -n "$out" ] || die "--out must not be /"
if [ -e "$out" ] && [ ! -e "$out/.mmrisk-bench-pipeline" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
	die "$out exists, is not empty and is not a bench-pipeline directory; refusing to use it"
fi
mkdir -p "$out" || die "cannot create $out"
: >"$out/.mmrisk-bench-pipeline"

# ---- simulator data -------------------------------------------------------------------------
if [ -n "$data" ]; then
	sim=$(abspath "$data")
	[ -f "$sim/logs.syslog" ] || die "--data $sim: no logs.syslog in it"
else
	sim=$out/sim-s$seed-u$users-d$days
	if [ ! -f "$sim/logs.syslog" ] || [ ! -f "$sim/.complete" ]; then
		say "simulating $users users x $days days (seed $seed) into $sim"
		rm -rf "$sim"
		"$simulator" --seed "$seed" --users "$users" --days "$days" --out "$sim" --quiet ||
			die "the simulator failed"
		: >"$sim/.complete"
	fi
fi
logs=$sim/logs.syslog
sent=$(awk 'length($0) > 0 { n++ } END { print n + 0 }' "$logs")
[ "$sent" -gt 0 ] || die "$logs has no lines"
json_lines=$(grep -c -E '^<[0-9]+>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [^ ]+ [^ ]+ *\{' "$logs" || true)
say "$sent lines ($json_lines of them JSON) from $logs"

esc_rs() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

# ---- configurations -------------------------------------------------------------------------
# write_conf CONFIG WORK PORT
write_conf() {
	local cfg=$1 work=$2 port=$3 ctx= body tpl
	[ -f "$sim/roster.csv" ] && ctx+=" roster=\"$(esc_rs "$sim/roster.csv")\""
	[ -d "$sim/lists" ] && ctx+=" lists.dir=\"$(esc_rs "$sim/lists")\""
	[ -f "$sim/geoip-city.mmdb" ] && ctx+=" geoip.city=\"$(esc_rs "$sim/geoip-city.mmdb")\""
	[ -f "$sim/geoip-asn.mmdb" ] && ctx+=" geoip.asn=\"$(esc_rs "$sim/geoip-asn.mmdb")\""
	local parse_b
	if [ "$b1_json" = 1 ]; then
		parse_b="if \$msg startswith \" {\" or \$msg startswith \"{\" then {
		action(type=\"mmjsonparse\" cookie=\"\")
	} else {
		set \$.parse_input = \$syslogtag & \$msg;
		action(type=\"mmnormalize\" rulebase=\"$(esc_rs "$rulebase")\" variable=\"\$.parse_input\")
	}"
	else
		parse_b="set \$.parse_input = \$syslogtag & \$msg;
	action(type=\"mmnormalize\" rulebase=\"$(esc_rs "$rulebase")\" variable=\"\$.parse_input\")"
	fi
	case $cfg in
	A) body="action(type=\"mmriskscore\" rulebase=\"$(esc_rs "$rulebase")\"
	       mappings=\"$(esc_rs "$mappings")\" $ctx)" ;;
	B1) body=$parse_b ;;
	B2) body="$parse_b
	set \$!risk!score = 42;" ;;
	esac
	if [ "$template" = json ]; then
		tpl='template(name="bench_out" type="list") {
	constant(value="{\"ts\":\"") property(name="timereported" dateFormat="rfc3339")
	constant(value="\",\"host\":\"") property(name="hostname" format="json")
	constant(value="\",\"tag\":\"") property(name="syslogtag" format="json")
	constant(value="\",\"msg\":\"") property(name="msg" format="json")
	constant(value="\",\"vars\":") property(name="$!all-json")
	constant(value="}\n")
}'
	else
		tpl='template(name="bench_out" type="string" string="%msg%\n")'
	fi
	cat >"$work/rsyslog.conf" <<EOF
# written by $prog: configuration $cfg
global(workDirectory="$(esc_rs "$work/spool")" processInternalMessages="on" maxMessageSize="64k")
module(load="imptcp")
$(if [ "$cfg" = A ]; then printf 'module(load="%s")' "$(esc_rs "$module")"
	else printf 'module(load="mmnormalize")%s' "$([ "$b1_json" = 1 ] && printf ' module(load="mmjsonparse")')"; fi)
$tpl
template(name="bench_internal" type="string"
	 string="%timegenerated:::date-rfc3339% %syslogseverity-text% %syslogtag%%msg%\n")
action(type="omfile" file="$(esc_rs "$work/internal.log")" template="bench_internal")

input(type="imptcp" address="127.0.0.1" port="$port" ruleset="bench")

# a full queue blocks the TCP input (back-pressure) instead of discarding
ruleset(name="bench" queue.type="LinkedList" queue.workerThreads="$workers"
	queue.size="200000" queue.timeoutEnqueue="3600000") {
	$body
	action(type="omfile" file="$(esc_rs "$work/out.log")" template="bench_out")
}
EOF
}

# ---- rsyslogd control -----------------------------------------------------------------------
rs_pid=
port_in_use() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
stop_rsyslogd() {
	[ -n "$rs_pid" ] || return 0
	local pid=$rs_pid i rc
	rs_pid=
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "rsyslogd (pid $pid) did not stop within 15 s of SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	[ "$rc" = 0 ] || { say "rsyslogd exited with status $rc"; return 1; }
}
perf_pid=
cleanup() {
	local rc=$?
	[ -n "$perf_pid" ] && kill -INT "$perf_pid" 2>/dev/null
	stop_rsyslogd
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

show_internal() {
	local f
	for f in "$1/internal.log" "$1/rsyslogd.out"; do
		[ -s "$f" ] || continue
		printf -- '---- %s (tail)\n' "$f" >&2
		tail -n 20 "$f" | cut -c1-400 >&2
	done
}

# start_rsyslogd CONFIG WORK: sets rs_pid and port
start_rsyslogd() {
	local cfg=$1 work=$2 i j cand check
	rm -rf "$work"
	mkdir -p "$work/spool"
	write_conf "$cfg" "$work" 10514
	check=$("$rsyslogd" -N1 -f "$work/rsyslog.conf" 2>&1) || {
		printf '%s\n' "$check" >&2
		die "rsyslogd rejected $work/rsyslog.conf (config $cfg)"
	}
	port=
	for ((i = 0; i < 8; i++)); do
		cand=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		port_in_use "$cand" && continue
		write_conf "$cfg" "$work" "$cand"
		rm -f "$work/rsyslogd.pid" "$work/out.log"
		TZ=UTC "$rsyslogd" -n -C -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" \
			>"$work/rsyslogd.out" 2>&1 &
		rs_pid=$!
		for ((j = 0; j < 300; j++)); do
			if ! kill -0 "$rs_pid" 2>/dev/null; then
				wait "$rs_pid" 2>/dev/null
				rs_pid=
				show_internal "$work"
				die "rsyslogd exited during startup (config $cfg)"
			fi
			if port_in_use "$cand" && [ -s "$work/rsyslogd.pid" ]; then port=$cand; break; fi
			sleep 0.05
		done
		[ -n "$port" ] && break
		say "rsyslogd not listening on $cand after 15 s; trying another port"
		stop_rsyslogd
	done
	[ -n "$port" ] || { show_internal "$work"; die "could not start rsyslogd on a free port"; }
}

clk_tck=$(getconf CLK_TCK)
scored_first=
# busy ticks of the whole machine (all CPUs): to tell how much else ran during a measurement
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# per thread: "tid<TAB>name<TAB>utime+stime ticks" (the name may hold blanks: "rs:main Q:Reg")
thread_ticks() {
	local t name st
	for t in /proc/"$1"/task/*; do
		[ -r "$t/stat" ] || continue
		name=$(cat "$t/comm" 2>/dev/null) || continue
		st=$(cat "$t/stat" 2>/dev/null) || continue
		st=${st##*) }
		# fields after the name: state(3) ... utime is field 14 overall = 12th here
		awk -v tid="${t##*/}" -v name="$name" '{ printf "%s\t%s\t%d\n", tid, name, $12 + $13 }' <<<"$st"
	done
}
# thread_json BEFORE AFTER SECONDS: {"name": share of one core busy, ...} summed by name
thread_json() {
	awk -F'\t' -v secs="$3" -v tck="$clk_tck" '
		FNR == NR { b[$1] = $3; next }
		{ d = $3 - ($1 in b ? b[$1] : 0); u[$2] += d }
		END { printf "{"; n = 0
		      for (k in u) { gsub(/"/, "", k); printf "%s\"%s\":%.3f", n++ ? "," : "", k, u[k] / tck / secs }
		      printf "}" }' "$1" "$2"
}

# run_one CONFIG ROUND: one measurement; appends a JSON line to $out/runs.jsonl
run_one() {
	local cfg=$1 round=$2 work=$out/run-$1 c0 c1 m0 m1 res rc lines_out scored=null
	start_rsyslogd "$cfg" "$work"
	# let the start-up settle (context load, worker threads) before the clock starts
	sleep 0.3
	c0=$(cpu_ticks "$rs_pid")
	m0=$(machine_ticks)
	thread_ticks "$rs_pid" >"$work/threads.0"
	res=$("$sender" -p "$port" -f "$logs" -F "$framing" -w "$work/out.log" -e "$sent" -t 60 -j)
	rc=$?
	c1=$(cpu_ticks "$rs_pid")
	m1=$(machine_ticks)
	thread_ticks "$rs_pid" >"$work/threads.1"
	if [ "$rc" != 0 ]; then
		say "config $cfg round $round: $res"
		stop_rsyslogd
		show_internal "$work"
		die "config $cfg round $round: output did not reach $sent lines (tcp-sender exit $rc)"
	fi
	stop_rsyslogd || { show_internal "$work"; die "config $cfg round $round: rsyslogd did not stop cleanly"; }
	lines_out=$(wc -l <"$work/out.log")
	[ "$lines_out" = "$sent" ] ||
		die "config $cfg round $round: $lines_out lines out after the stop, $sent sent (lost or duplicated)"
	if [ "$cfg" = A ] && [ "$template" = json ]; then
		# lines that carry $!risk: the same in every run (parsing does not depend on timing)
		scored=$(grep -c '"risk": *{' "$work/out.log" || true)
		[ -z "$scored_first" ] && scored_first=$scored
		[ "$scored" = "$scored_first" ] ||
			die "config A round $round: $scored lines scored, $scored_first in the first A run"
	fi
	local secs threads
	secs=$(jq -r .done_seconds <<<"$res")
	threads=$(thread_json "$work/threads.0" "$work/threads.1" "$secs")
	jq -c --arg cfg "$cfg" --argjson round "$round" --argjson cpu "$(((c1 - c0)))" \
		--argjson tck "$clk_tck" --argjson scored "$scored" --argjson threads "$threads" \
		--argjson mach "$((m1 - m0))" \
		'{config: $cfg, round: $round, lines: .lines_out, seconds: .done_seconds,
		  send_seconds: .send_seconds,
		  lines_per_s: (.lines_out / .done_seconds),
		  cpu_seconds: ($cpu / $tck), cpu_us_per_line: ($cpu / $tck * 1e6 / .lines_out),
		  cores_busy: ($cpu / $tck / .done_seconds), threads_busy: $threads,
		  other_cores_busy: ((($mach - $cpu) / $tck / .done_seconds) * 100 | round / 100),
		  scored: $scored}' <<<"$res" >>"$out/runs.jsonl"
	printf '%s: round %d %-2s %8.0f lines/s  %.2f s  rsyslogd CPU %.1f us/line, %s; rest of machine %.2f cores%s\n' "$prog" "$round" "$cfg" \
		"$(jq -r '.lines_out / .done_seconds' <<<"$res")" "$secs" \
		"$(awk -v c="$((c1 - c0))" -v t="$clk_tck" -v n="$sent" 'BEGIN { printf "%.1f", c / t * 1e6 / n }')" \
		"$(jq -r 'to_entries | sort_by(-.value) | map(select(.value >= 0.02) | "\(.key) \(.value * 100 | round)%") | join(", ")' <<<"$threads")" \
		"$(awk -v m="$((m1 - m0))" -v c="$((c1 - c0))" -v t="$clk_tck" -v s="$secs" 'BEGIN { printf "%.2f", (m - c) / t / s }')" \
		"$([ "$scored" != null ] && printf '  (%s scored)' "$scored")" >&2
	rm -f "$work/out.log"
}

command -v jq >/dev/null || die "jq is required (apt-get install jq)"
IFS=, read -r -a cfg_list <<<"$configs"
: >"$out/runs.jsonl"
t_start=$(date +%s)
say "$rounds rounds of ${cfg_list[*]}; workers=$workers template=$template framing=$framing"
for ((r = 1; r <= rounds; r++)); do
	n=${#cfg_list[@]}
	for ((k = 0; k < n; k++)); do
		run_one "${cfg_list[$(((r - 1 + k) % n))]}" "$r"
	done
done

# ---- optional profile of A -----------------------------------------------------------------
if [ "$profile" = 1 ]; then
	work=$out/run-A-profile
	start_rsyslogd A "$work"
	sleep 0.3
	"$perf_bin" record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$rs_pid" -o "$out/perf-A.data" >/dev/null 2>&1 &
	perf_pid=$!
	sleep 0.5
	"$sender" -p "$port" -f "$logs" -F "$framing" -w "$work/out.log" -e "$sent" -t 60 -q ||
		die "profile run: output incomplete"
	kill -INT "$perf_pid" 2>/dev/null
	wait "$perf_pid" 2>/dev/null
	perf_pid=
	stop_rsyslogd
	{
		echo "# perf record -e cpu-clock -F 499 --call-graph dwarf on rsyslogd, configuration A, $sent lines"
		echo "# --- self time by symbol (top 40)"
		"$perf_bin" report -i "$out/perf-A.data" --stdio --no-children --sort symbol,dso \
			-g none --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
		echo "# --- inclusive (children) by symbol (top 60)"
		"$perf_bin" report -i "$out/perf-A.data" --stdio --children --sort symbol \
			-g none --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
		echo "# --- by shared object"
		"$perf_bin" report -i "$out/perf-A.data" --stdio --no-children --sort dso \
			-g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20
	} >"$out/profile-A.txt"
	say "profile: $out/profile-A.txt"
fi

# ---- summary ---------------------------------------------------------------------------------
jq -s --argjson sent "$sent" --argjson json_lines "$json_lines" --arg logs "$logs" \
	--argjson workers "$workers" --arg template "$template" --arg framing "$framing" \
	--argjson b1_json "$b1_json" --argjson wall "$(($(date +%s) - t_start))" \
	--arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
	--argjson cores "$(nproc)" '
	def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def q(p): sort | if length == 0 then null else .[((length - 1) * p) | round] end;
	def stats: {median: median, min: min, max: max, q25: q(0.25), q75: q(0.75)};
	. as $runs
	| ([.[].config] | unique) as $cfgs
	| ([.[].round] | unique) as $rounds
	| {
		machine: {cpu: $cpu, cores: $cores},
		input: {file: $logs, lines: $sent, json_lines: $json_lines},
		workers: $workers, template: $template, framing: $framing,
		b1_parses_json: ($b1_json == 1), wall_seconds: $wall,
		configs: ([$cfgs[] as $c | {key: $c, value: {
			lines_per_s: ([$runs[] | select(.config == $c) | .lines_per_s] | stats),
			cpu_us_per_line: ([$runs[] | select(.config == $c) | .cpu_us_per_line] | stats),
			other_cores_busy: ([$runs[] | select(.config == $c) | .other_cores_busy] | stats)}}]
			| from_entries),
		ratios: (
			def ratio(a; b): [$rounds[] as $r
				| ([$runs[] | select(.round == $r and .config == a) | .lines_per_s][0]) as $x
				| ([$runs[] | select(.round == $r and .config == b) | .lines_per_s][0]) as $y
				| select($x != null and $y != null) | $x / $y];
			# the same from rsyslogd CPU time per line (b cost / a cost): what the ratio of
			# throughputs is on a CPU-bound box; less sensitive to other load on the machine
			def cpuratio(a; b): [$rounds[] as $r
				| ([$runs[] | select(.round == $r and .config == a) | .cpu_us_per_line][0]) as $x
				| ([$runs[] | select(.round == $r and .config == b) | .cpu_us_per_line][0]) as $y
				| select($x != null and $y != null) | $y / $x];
			{ "A/B2": (ratio("A"; "B2") | stats), "A/B1": (ratio("A"; "B1") | stats),
			  "B2/B1": (ratio("B2"; "B1") | stats),
			  "A/B2 (CPU)": (cpuratio("A"; "B2") | stats), "A/B1 (CPU)": (cpuratio("A"; "B1") | stats),
			  "A/B2 per round": ratio("A"; "B2"), "A/B1 per round": ratio("A"; "B1") }),
		targets: {"A/B2": 0.90, "A/B1": 0.80},
		runs: $runs
	}' "$out/runs.jsonl" >"$out/results.json" || die "summarizing failed"

jq -r '
	def f0: if . == null then "-" else (. | round | tostring) end;
	def f2: if . == null then "-" else ((. * 100 | round) / 100 | tostring) end;
	def f3: if . == null then "-" else ((. * 1000 | round) / 1000 | tostring) end;
	def pad(n): tostring | if length >= n then . + " " else . + (" " * (n - length)) end;
	"",
	"mmriskscore pipeline benchmark: \(.input.lines) lines (\(.input.json_lines) JSON), \(.configs | keys | length) configs x \(.runs | map(.round) | max) rounds,",
	"workers=\(.workers), template=\(.template), framing=\(.framing), B1 parses JSON: \(.b1_parses_json); \(.machine.cpu), \(.machine.cores) cores",
	"",
	"\("config" | pad(8))\("lines/s median (min-max)" | pad(28))\("rsyslogd CPU us/line (min-max)" | pad(32))rest of machine, cores",
	(.configs | to_entries[] | "\(.key | pad(8))\("\(.value.lines_per_s.median | f0) (\(.value.lines_per_s.min | f0)-\(.value.lines_per_s.max | f0))" | pad(28))\("\(.value.cpu_us_per_line.median | f2) (\(.value.cpu_us_per_line.min | f2)-\(.value.cpu_us_per_line.max | f2))" | pad(32))\(.value.other_cores_busy.median | f2)"),
	"",
	"\("ratio" | pad(12))\("median" | pad(8))\("min" | pad(8))\("max" | pad(8))\("IQR" | pad(14))target",
	(.ratios | to_entries[] | select(.key | test("per round") | not) | select(.value.median != null)
		| "\(.key | pad(12))\(.value.median | f3 | pad(8))\(.value.min | f3 | pad(8))\(.value.max | f3 | pad(8))\("\(.value.q25 | f3)-\(.value.q75 | f3)" | pad(14))\(if (.key | startswith("A/B2")) then ">= 0.90" elif (.key | startswith("A/B1")) then ">= 0.80" else "-" end)"),
	"(throughput ratios, per round; (CPU): rsyslogd CPU time per line of B over that of A, per round)",
	"",
	"every run: lines out == lines sent (checked after each rsyslogd stop)"
' "$out/results.json"
echo "details: $out/results.json"
