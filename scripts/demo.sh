#!/bin/bash
# mmriskscore demo: a small simulated company scored in a private rsyslogd; shows the riskiest
# users with their reasons and compares them with what the simulator planted.
#
#   sudo scripts/demo.sh
#
# Steps: build (scripts/build.sh: packages, rsyslog headers, module, rulebase); run the
# workforce simulator (contrib/simulator/mmrisk-simulate, fixed seed: 250 employees, 21 days
# of VPN, Okta and sshd logs, with planted remote IT workers and legitimate look-alikes, plus
# the HR roster, GeoIP databases and network lists the module reads); start a private
# rsyslogd on a free loopback port with contrib/demo/rsyslog-demo.conf.in (one worker thread,
# so the result is the same on every run); send logs.syslog over TCP, wait until every
# message is written back as a JSON line, stop rsyslogd; print a ranked table of users and
# the simulator's ground truth (truth.json) next to it. The system's own rsyslog is not
# touched. Safe to run again: the work directory is recreated on every run.
#
# Environment:
#   MMRISK_DEMO_DIR         work directory (default /tmp/mmriskscore-demo); removed and
#                           recreated at start, so it must be empty, absent or a previous
#                           demo directory
#   MMRISK_DEMO_SKIP_BUILD  1 = do not run scripts/build.sh (the module and rulebase must
#                           already be built); then root is not needed if jq and
#                           libmaxmind-db-writer-perl are installed
#   MMRISK_DEMO_TIMEOUT     seconds to wait for all messages (default 120)
#   MMRISK_DEMO_SEED, MMRISK_DEMO_USERS, MMRISK_DEMO_DAYS
#                           the simulated company (default seed 1, 250 users, 21 days)
#   MMRISK_MODULE, MMRISK_RULEBASE, MMRISK_MAPPINGS, MMRISK_SIMULATE, RSYSLOGD
#                           built module, combined rulebase, mappings directory, simulator
#                           and rsyslogd to use (default: what build.sh reports; with
#                           SKIP_BUILD ./build, then an in-tree build; <repo>/mappings,
#                           contrib/simulator/mmrisk-simulate; rsyslogd from PATH); make check
#                           sets them
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo_dir=${MMRISK_DEMO_DIR:-/tmp/mmriskscore-demo}
skip_build=${MMRISK_DEMO_SKIP_BUILD:-0}
timeout=${MMRISK_DEMO_TIMEOUT:-120}
seed=${MMRISK_DEMO_SEED:-1}
users=${MMRISK_DEMO_USERS:-250}
days=${MMRISK_DEMO_DAYS:-21}

# The module and rulebase: MMRISK_MODULE / MMRISK_RULEBASE when set, else what build.sh
# reports, else the out-of-tree build (./build, as build.sh makes it), else an in-tree build.
first_file() { for f in "$@"; do [ -f "$f" ] && { echo "$f"; return; }; done; echo "$1"; }
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }
module=${MMRISK_MODULE:-}
rulebase=${MMRISK_RULEBASE:-}
mappings=${MMRISK_MAPPINGS:-$root/mappings}
simulator=${MMRISK_SIMULATE:-$root/contrib/simulator/mmrisk-simulate}
demo_src=$root/contrib/demo
conf_in=$demo_src/rsyslog-demo.conf.in

say() { printf '==> %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

[[ $seed =~ ^[0-9]+$ && $users =~ ^[0-9]+$ && $days =~ ^[0-9]+$ ]] ||
	die "MMRISK_DEMO_SEED, MMRISK_DEMO_USERS and MMRISK_DEMO_DAYS must be numbers"

# ---- 1. build ---------------------------------------------------------------------------
if [ "$skip_build" != 1 ]; then
	is_root || die "run as root: sudo $0   (it installs packages and builds the module)"
	[ -f "$root/scripts/build.sh" ] || die "scripts/build.sh not found in $root"
	say "Building (scripts/build.sh)"
	build_env=$(bash "$root/scripts/build.sh" --print-env) ||
		die "scripts/build.sh failed (see its output above)"
	built() { printf '%s\n' "$build_env" | sed -n "s/^export $1='\\(.*\\)'\$/\\1/p"; }
	[ -n "$module" ] || module=$(built MMRISK_MODULE)
	[ -n "$rulebase" ] || rulebase=$(built MMRISK_RULEBASE)
fi
[ -n "$module" ] || module=$(first_file "$root/build/plugins/mmriskscore/.libs/mmriskscore.so" \
	"$root/plugins/mmriskscore/.libs/mmriskscore.so")
[ -n "$rulebase" ] || rulebase=$(first_file "$root/build/rulebase/identity-vpn.rulebase" \
	"$root/rulebase/identity-vpn.rulebase")
module=$(abspath "$module"); rulebase=$(abspath "$rulebase"); mappings=$(abspath "$mappings")
[ -f "$module" ] || die "module not found at $module (scripts/build.sh should have built it)"
[ -f "$rulebase" ] || die "rulebase not found at $rulebase (scripts/build.sh should have made it)"
[ -e "$mappings" ] || die "mappings not found at $mappings (set MMRISK_MAPPINGS)"
[ -f "$simulator" ] || die "workforce simulator not found at $simulator"
for f in "$conf_in" "$demo_src/ranking.jq" "$demo_src/report.jq"; do
	[ -f "$f" ] || die "$f not found"
done

# need PACKAGE COMMAND...: install PACKAGE unless COMMAND succeeds
need() {
	local pkg=$1
	shift
	"$@" >/dev/null 2>&1 && return 0
	is_root || die "$pkg is not installed; run as root or: apt-get install $pkg"
	say "Installing $pkg"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-upgrade "$pkg" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-upgrade "$pkg" >/dev/null; } ||
		die "could not install $pkg"
}
need jq command -v jq
# the simulator writes its GeoIP databases with MaxMind::DB::Writer
need libmaxmind-db-writer-perl perl -MMaxMind::DB::Writer::Tree -e 1
rsyslogd=${RSYSLOGD:-$(command -v rsyslogd || true)}
[ -n "$rsyslogd" ] || rsyslogd=/usr/sbin/rsyslogd
[ -x "$rsyslogd" ] || die "rsyslogd not found (apt-get install rsyslog)"

# ---- 2. a clean work directory ----------------------------------------------------------
case "$demo_dir" in
/*) ;;
*) demo_dir=$(pwd)/$demo_dir ;;
esac
demo_dir=${demo_dir%/}
[ -n "$demo_dir" ] || die "MMRISK_DEMO_DIR must not be /"
marker=$demo_dir/.mmriskscore-demo
pidfile=$demo_dir/rsyslogd.pid

if [ -d "$demo_dir" ]; then
	if [ ! -e "$marker" ] && [ -n "$(ls -A "$demo_dir")" ]; then
		die "$demo_dir exists, is not empty and is not a demo directory; refusing to delete it
  (set MMRISK_DEMO_DIR to another path)"
	fi
	# a demo rsyslogd left over from an interrupted run: stop it by its pid
	if [ -s "$pidfile" ]; then
		old=$(cat "$pidfile")
		if [ -n "$old" ] && kill -0 "$old" 2>/dev/null &&
			tr '\0' ' ' < "/proc/$old/cmdline" 2>/dev/null | grep -qF -- "$demo_dir/rsyslog-demo.conf"; then
			say "Stopping the demo rsyslogd left from a previous run (pid $old)"
			kill -TERM "$old" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$old" 2>/dev/null || true
		fi
	fi
	rm -rf "$demo_dir"
fi
mkdir -p "$demo_dir"
: > "$marker"

conf=$demo_dir/rsyslog-demo.conf
out=$demo_dir/enriched.json
internal=$demo_dir/rsyslogd-internal.log
ranking=$demo_dir/ranking.tsv
stderr_log=$demo_dir/rsyslogd.stderr
ranking_json=$demo_dir/ranking.json
sim=$demo_dir/sim
data=$sim/logs.syslog

# ---- 3. a simulated company -------------------------------------------------------------
say "Simulating a company of $users people: $days days of VPN, Okta and sshd logs with planted" \
	"insiders (contrib/simulator, seed $seed)"
perl "$simulator" --seed "$seed" --users "$users" --days "$days" --out "$sim" --quiet ||
	die "the workforce simulator failed: $simulator --seed $seed --users $users --days $days"
for f in logs.syslog truth.json roster.csv geoip-city.mmdb geoip-asn.mmdb lists; do
	[ -e "$sim/$f" ] || die "the simulator wrote no $f into $sim"
done

# ---- 4. start a private rsyslogd on a free loopback port --------------------------------
# Is anything listening on 127.0.0.1/0.0.0.0 (or ::) port $1?  Reads /proc, needs no tools.
port_in_use() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

rsyslog_pid=
stop_rsyslogd() {
	[ -n "$rsyslog_pid" ] || return 0
	kill -TERM "$rsyslog_pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$rsyslog_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$rsyslog_pid" 2>/dev/null; then
		echo "demo: rsyslogd (pid $rsyslog_pid) did not stop within 10 s; killing it" >&2
		kill -KILL "$rsyslog_pid" 2>/dev/null || true
	fi
	wait "$rsyslog_pid" 2>/dev/null || true
	rsyslog_pid=
}
trap stop_rsyslogd EXIT
trap 'exit 130' INT TERM

show_internal_log() {
	# rsyslogd's start/stop notices and the module's start line (what context it loaded)
	# are not problems; anything else is worth reading
	local lines
	lines=$( { grep -v -e 'origin software="rsyslogd"' -e 'mmriskscore: start: ' "$internal" 2>/dev/null
			grep -v '^$' "$stderr_log" 2>/dev/null | sed 's/^/(stderr) /'; } || true)
	if [ -n "$lines" ]; then
		echo
		echo "rsyslogd reported ($internal):"
		printf '%s\n' "$lines" | sed 's/^/  /'
	fi
}

make_conf() {
	local esc_dir esc_mod esc_rb esc_map esc_sim esc_out esc_int
	esc() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
	esc_dir=$(esc "$demo_dir"); esc_mod=$(esc "$module"); esc_rb=$(esc "$rulebase")
	esc_map=$(esc "$mappings"); esc_sim=$(esc "$sim")
	esc_out=$(esc "$out"); esc_int=$(esc "$internal")
	sed -e "s|@WORKDIR@|$esc_dir|g" -e "s|@PORT@|$1|g" -e "s|@MODULE@|$esc_mod|g" \
		-e "s|@RULEBASE@|$esc_rb|g" -e "s|@MAPPINGS@|$esc_map|g" -e "s|@SIMDIR@|$esc_sim|g" \
		-e "s|@OUTFILE@|$esc_out|g" -e "s|@INTERNALLOG@|$esc_int|g" \
		"$conf_in" > "$conf"
	if grep -n '@[A-Z_]*@' "$conf" >&2; then die "unfilled placeholders in $conf"; fi
}

make_conf 10514
if ! check=$("$rsyslogd" -N1 -f "$conf" 2>&1); then
	printf '%s\n' "$check" >&2
	die "rsyslogd rejected the demo configuration $conf (messages above)"
fi

port=
for _ in 1 2 3 4 5; do
	candidate=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	port_in_use "$candidate" && continue
	make_conf "$candidate"
	rm -f "$pidfile"
	say "Starting a private rsyslogd on 127.0.0.1:$candidate (work dir $demo_dir)"
	TZ=UTC "$rsyslogd" -n -C -f "$conf" -i "$pidfile" >"$stderr_log" 2>&1 &
	rsyslog_pid=$!
	for _ in $(seq 100); do
		if ! kill -0 "$rsyslog_pid" 2>/dev/null; then
			wait "$rsyslog_pid" 2>/dev/null || true
			rsyslog_pid=
			show_internal_log
			die "rsyslogd exited during startup"
		fi
		if port_in_use "$candidate" && [ -s "$pidfile" ]; then port=$candidate; break; fi
		sleep 0.1
	done
	[ -n "$port" ] && break
	echo "demo: rsyslogd is not listening on port $candidate after 10 s; trying another port" >&2
	stop_rsyslogd
done
[ -n "$port" ] || { show_internal_log; die "could not start rsyslogd on a free port"; }

# ---- 5. send the logs --------------------------------------------------------------------
sent=$(wc -l < "$data")
say "Scoring $sent log lines ($(basename "$data"), sent over TCP)"
exec 3<>"/dev/tcp/127.0.0.1/$port" || die "cannot connect to 127.0.0.1:$port"
cat "$data" >&3
exec 3>&-

got=0
deadline=$((SECONDS + timeout))
while :; do
	got=$( [ -f "$out" ] && wc -l < "$out" || echo 0)
	[ -t 1 ] && printf '\r    %d/%d messages written back' "$got" "$sent"
	[ "$got" -ge "$sent" ] && break
	if ! kill -0 "$rsyslog_pid" 2>/dev/null; then
		show_internal_log
		die "rsyslogd died after writing $got of $sent messages"
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		show_internal_log
		die "timeout: after ${timeout} s only $got of $sent messages were written to $out"
	fi
	sleep 0.2
done
[ -t 1 ] && echo
stop_rsyslogd
got=$(wc -l < "$out")
[ "$got" -eq "$sent" ] || { show_internal_log; die "sent $sent messages but $out has $got lines"; }
loaded=$(sed -n 's/.*mmriskscore: start: \(.*\) \[v[^]]*\]$/\1/p' "$internal" | head -n 1)
[ -z "$loaded" ] || say "The module's context: $loaded"

# ---- 6. rank the users ------------------------------------------------------------------
# One pass over the enriched lines (which also proves them valid JSON): per user the highest
# user_score reached, its level, team and strongest reasons (contrib/demo/ranking.jq).
say "Ranking the users"
jq -n -c --rawfile roster "$sim/roster.csv" -f "$demo_src/ranking.jq" "$out" > "$ranking_json" ||
	die "$out is not valid JSON lines (jq failed above)"
jq -r '.[] | [.rank, .user, .user_score, .user_level, (.team // "-"), .events, .high_events,
	(.reasons | map(.rule) | join(",")),
	((.reasons + [null, null])[0:2][] | if . then "+\(.points) \(.rule): \(.detail)" else "" end)]
	| map(tostring | gsub("[\t\n]"; " ")) | @tsv' "$ranking_json" > "$ranking"

# ---- 7. the table and the ground truth --------------------------------------------------
# On a terminal, reasons and notes are cut to its width (the files keep the full text).
cols=0
if [ -t 1 ]; then cols=${COLUMNS:-$(tput cols 2>/dev/null || echo 0)}; fi
[[ $cols =~ ^[0-9]+$ ]] || cols=0
echo
echo "Riskiest users: $users employees, $days days from $(jq -r .start "$sim/truth.json") (UTC)"
echo
jq -r --argjson cols "$cols" --argjson top 10 --slurpfile truth "$sim/truth.json" \
	-f "$demo_src/report.jq" "$ranking_json"

scored=$(jq '[.[].events] | add // 0' "$ranking_json")
nusers=$(jq length "$ranking_json")
echo
echo "Messages: $sent sent, $scored enriched with a risk score ($nusers users)," \
	"$((got - scored)) passed through unchanged."
echo "Enriched JSON lines: $out"
echo "Full ranking: $ranking_json (and $(basename "$ranking"))"
echo "The simulated company: $sim (logs.syslog, roster.csv, truth.json, lists/, GeoIP)"
echo "rsyslogd internal log: $internal"
example=$(jq -r '.[0].user // "bob"' "$ranking_json")
echo
echo "Try:"
echo "  jq -c 'select(.risk.user == \"$example\" and .risk.score >= 40) | {timestamp, score: .risk.score, user_score: .risk.user_score, rules: [.risk.reasons[]?.rule]}' $out"
echo "  jq -r 'select(.risk.score >= 70) | [.timestamp, .risk.user, .risk.score, .risk.reasons[0].detail] | @tsv' $out"
show_internal_log
exit 0
