#!/bin/bash
# mmriskscore demo: score one bundled day of identity/VPN logs in a private rsyslogd and show
# the riskiest users.
#
#   sudo scripts/demo.sh
#
# Steps: build (scripts/build.sh: packages, rsyslog headers, module, rulebase), start a
# private rsyslogd on a free loopback port with contrib/demo/rsyslog-demo.conf.in, send
# contrib/demo/demo-day.log over TCP, wait until every message is written back as a JSON
# line, stop rsyslogd and print a ranked table of users. The system's own rsyslog is not
# touched. Safe to run again: the work directory is recreated on every run.
#
# Environment:
#   MMRISK_DEMO_DIR         work directory (default /tmp/mmriskscore-demo); removed and
#                           recreated at start, so it must be empty, absent or a previous
#                           demo directory
#   MMRISK_DEMO_SKIP_BUILD  1 = do not run scripts/build.sh (the module and rulebase must
#                           already be built); then root is not needed if jq is installed
#   MMRISK_DEMO_TIMEOUT     seconds to wait for all messages (default 60)
#   MMRISK_MODULE, MMRISK_RULEBASE, RSYSLOGD   built module, combined rulebase and rsyslogd
#                           to use (default: what build.sh reports; with SKIP_BUILD ./build,
#                           then an in-tree build; rsyslogd from PATH); make check sets them
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo_dir=${MMRISK_DEMO_DIR:-/tmp/mmriskscore-demo}
skip_build=${MMRISK_DEMO_SKIP_BUILD:-0}
timeout=${MMRISK_DEMO_TIMEOUT:-60}

# The module and rulebase: MMRISK_MODULE / MMRISK_RULEBASE when set, else what build.sh
# reports, else the out-of-tree build (./build, as build.sh makes it), else an in-tree build.
first_file() { for f in "$@"; do [ -f "$f" ] && { echo "$f"; return; }; done; echo "$1"; }
module=${MMRISK_MODULE:-}
rulebase=${MMRISK_RULEBASE:-}
data=$root/contrib/demo/demo-day.log
conf_in=$root/contrib/demo/rsyslog-demo.conf.in

say() { printf '==> %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

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
[ -f "$module" ] || die "module not found at $module (scripts/build.sh should have built it)"
[ -f "$rulebase" ] || die "rulebase not found at $rulebase (scripts/build.sh should have made it)"
[ -f "$data" ] || die "demo data not found at $data (contrib/demo/make-demo-day.sh writes it)"
[ -f "$conf_in" ] || die "config template not found at $conf_in"

if ! command -v jq >/dev/null 2>&1; then
	is_root || die "jq is not installed; run as root or: apt-get install jq"
	say "Installing jq"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-upgrade jq >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-upgrade jq >/dev/null; } ||
		die "could not install jq"
fi
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

# ---- 3. start a private rsyslogd on a free loopback port --------------------------------
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
	# rsyslogd's start/stop notices are not problems; anything else is worth reading
	local lines
	lines=$( { grep -v 'origin software="rsyslogd"' "$internal" 2>/dev/null
			grep -v '^$' "$stderr_log" 2>/dev/null | sed 's/^/(stderr) /'; } || true)
	if [ -n "$lines" ]; then
		echo
		echo "rsyslogd reported ($internal):"
		printf '%s\n' "$lines" | sed 's/^/  /'
	fi
}

make_conf() {
	local esc_dir esc_mod esc_rb esc_out esc_int
	esc() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
	esc_dir=$(esc "$demo_dir"); esc_mod=$(esc "$module"); esc_rb=$(esc "$rulebase")
	esc_out=$(esc "$out"); esc_int=$(esc "$internal")
	sed -e "s|@WORKDIR@|$esc_dir|g" -e "s|@PORT@|$1|g" -e "s|@MODULE@|$esc_mod|g" \
		-e "s|@RULEBASE@|$esc_rb|g" -e "s|@OUTFILE@|$esc_out|g" -e "s|@INTERNALLOG@|$esc_int|g" \
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

# ---- 4. send the day --------------------------------------------------------------------
sent=$(wc -l < "$data")
say "Sending $sent messages from $(basename "$data") over TCP"
exec 3<>"/dev/tcp/127.0.0.1/$port" || die "cannot connect to 127.0.0.1:$port"
cat "$data" >&3
exec 3>&-

got=0
deadline=$((SECONDS + timeout))
while :; do
	got=$( [ -f "$out" ] && wc -l < "$out" || echo 0)
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
stop_rsyslogd
got=$(wc -l < "$out")
[ "$got" -eq "$sent" ] || { show_internal_log; die "sent $sent messages but $out has $got lines"; }
jq -e . "$out" >/dev/null 2>&1 || die "$out is not valid JSON lines"

# ---- 5. rank the users ------------------------------------------------------------------
# Per user: the highest user_score seen and its level, the number of scored events, and
# the two highest-scoring distinct reasons (by rule; each with its highest-points detail).
jq -r -s '
	[ .[] | select(.risk != null) | .risk ]
	| group_by(.user)
	| map({
		user: .[0].user,
		events: length,
		top: max_by(.user_score),
		reasons: ([ .[] | .reasons[]? ] | group_by(.rule)
			| map(max_by(.points)) | sort_by(-.points, .rule) | .[0:2])
	  })
	| sort_by(-.top.user_score, -.events, .user)
	| to_entries[]
	| [ (.key + 1), .value.user, .value.top.user_score, .value.top.user_level, .value.events,
	    (.value.reasons | map(.rule) | join(",")),
	    (.value.reasons[0] // {} | if .rule then "+\(.points) \(.rule): \(.detail)" else "-" end),
	    (.value.reasons[1] // {} | if .rule then "+\(.points) \(.rule): \(.detail)" else "" end) ]
	| map(tostring | gsub("\t"; " ")) | @tsv' "$out" > "$ranking"

echo
echo "Riskiest users, 2026-11-26 (UTC):"
echo
# On a terminal, cut the reasons to its width (the TSV and the JSON keep the full text).
cols=0
if [ -t 1 ]; then cols=${COLUMNS:-$(tput cols 2>/dev/null || echo 0)}; fi
awk -F '\t' -v cols="$cols" '
	function cut(s, room) { return (room > 20 && length(s) > room) ? substr(s, 1, room - 3) "..." : s }
	BEGIN { w = 4 }
	NR <= 10 { n++; for (i = 1; i <= 8; i++) c[n, i] = $i; if (length($2) > w) w = length($2) }
	END {
		fmt = "%4s  %-" w "s  %5s  %-8s  %6s  %s\n"
		room = cols > 0 ? cols - (4 + 2 + w + 2 + 5 + 2 + 8 + 2 + 6 + 2) : 0
		printf fmt, "RANK", "USER", "SCORE", "LEVEL", "EVENTS", "TOP REASONS"
		for (r = 1; r <= n; r++) {
			printf fmt, c[r, 1], c[r, 2], c[r, 3], c[r, 4], c[r, 5], cut(c[r, 7], room)
			if (c[r, 8] != "") printf fmt, "", "", "", "", "", cut(c[r, 8], room)
		}
		if (n == 0) print "  (no message was scored: check the rulebase and the internal log)"
	}' "$ranking"
echo
echo "SCORE/LEVEL: the user's highest accumulated risk (user_score, 0-100) during the day;"
echo "EVENTS: messages scored for the user; TOP REASONS: the two highest-scoring rules."

enriched=$(jq -c 'select(.risk != null)' "$out" | wc -l)
users=$(wc -l < "$ranking")
echo
echo "Messages: $sent sent, $enriched enriched with a risk score ($users users)," \
	"$((got - enriched)) passed through unchanged."
echo "Enriched JSON lines: $out"
echo "rsyslogd internal log: $internal"
echo "Full ranking (TSV): $ranking"
echo "What was planted: $root/contrib/demo/GROUND-TRUTH.md"
echo
echo "Try:"
echo "  jq -c 'select(.risk.user == \"jwang\") | {timestamp, msg, score: .risk.score, user_score: .risk.user_score, rules: [.risk.reasons[]?.rule]}' $out"
echo "  jq -r 'select(.risk.score >= 40) | [.timestamp, .risk.user, .risk.score, .risk.reasons[0].detail] | @tsv' $out"
show_internal_log
exit 0
