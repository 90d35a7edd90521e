# Helpers for the integration tests that run the real rsyslogd with the freshly built module.
# Sourced (bash only) by tests/integration/*.sh:
#
#   if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
#   . "$(dirname "$0")/lib.sh"
#   mmr_init                      # skip 77 unless rsyslogd and the module exist; work dir; traps
#   mmr_write_conf "$MMR_WORK/r.conf" <<EOF
#   ruleset(name="main" queue.type="LinkedList" queue.workerThreads="4") { ... }
#   EOF
#   mmr_start "$MMR_WORK/r.conf"; mmr_send in.log; mmr_wait_lines out.json 10; mmr_stop
#
# Environment (set by `make check`; each falls back to <repo>/build/... so that a developer
# can run a test by hand from any directory):
#   MMRISK_SRCDIR MMRISK_BUILDDIR MMRISK_MODULE MMRISK_RULEBASE MMRISK_PARSE RSYSLOGD VALGRIND
#   MMRISK_KEEP=1   keep the work directory (its path is printed) for post-mortems
#
# Exit statuses: 0 pass, 1 fail (mmr_fail: what was expected, what was seen, the tail of
# rsyslogd's internal log), 77 skip (only when rsyslogd or the module is missing).
# rsyslogd is never left running: the EXIT trap stops it (TERM, then KILL).

set -uo pipefail

MMR_NAME=$(basename "$0" .sh)
MMR_SRCDIR=${MMRISK_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MMR_BUILDDIR=${MMRISK_BUILDDIR:-$MMR_SRCDIR/build}
MMR_MODULE=${MMRISK_MODULE:-$MMR_BUILDDIR/plugins/mmriskscore/.libs/mmriskscore.so}
MMR_RULEBASE=${MMRISK_RULEBASE:-$MMR_BUILDDIR/rulebase/identity-vpn.rulebase}
# shellcheck disable=SC2034  # for tests that run the parse tool
MMR_PARSE=${MMRISK_PARSE:-$MMR_BUILDDIR/tools/mmriskscore-parse}
MMR_RSYSLOGD=${RSYSLOGD:-$(command -v rsyslogd || echo /usr/sbin/rsyslogd)}
# VALGRIND unset: look for it; VALGRIND set but empty (configure found none): no valgrind.
MMR_VALGRIND=${VALGRIND-$(command -v valgrind || true)}

MMR_WORK=
MMR_PID=
MMR_PORT=
MMR_CONF=

mmr_log() { printf '%s: %s\n' "$MMR_NAME" "$*" >&2; }

mmr_skip() {
	printf 'SKIP %s: %s\n' "$MMR_NAME" "$*"
	exit 77
}

mmr_pass() {
	printf 'PASS %s: %s\n' "$MMR_NAME" "$*"
	exit 0
}

# Tail of what rsyslogd said: its internal log (routed by mmr_write_conf), its stdout/stderr,
# and valgrind's log when it ran under valgrind.
mmr_diag() {
	local f
	for f in "$MMR_WORK/internal.log" "$MMR_WORK/rsyslogd.out" "$MMR_WORK/valgrind.log"; do
		[ -s "$f" ] || continue
		printf -- '---- tail of %s\n' "$f" >&2
		tail -n 25 "$f" | cut -c1-400 >&2
	done
}

mmr_fail() {
	printf 'FAIL %s: %s\n' "$MMR_NAME" "$*" >&2
	[ -n "$MMR_WORK" ] && mmr_diag
	exit 1
}

# Stops rsyslogd if it still runs: SIGTERM, up to 10 s (60 s under valgrind), then SIGKILL.
mmr_kill_rsyslogd() {
	[ -n "$MMR_PID" ] || return 0
	if kill -0 "$MMR_PID" 2>/dev/null; then
		kill -TERM "$MMR_PID" 2>/dev/null
		local i limit=100
		[ -n "${MMR_UNDER_VALGRIND:-}" ] && limit=600
		for ((i = 0; i < limit; i++)); do
			kill -0 "$MMR_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$MMR_PID" 2>/dev/null
	fi
	wait "$MMR_PID" 2>/dev/null
	MMR_PID=
}

mmr_cleanup() {
	local rc=$?
	mmr_kill_rsyslogd
	if [ -n "$MMR_WORK" ] && [ -d "$MMR_WORK" ]; then
		if [ "${MMRISK_KEEP:-0}" = 1 ]; then
			printf '%s: work directory kept: %s\n' "$MMR_NAME" "$MMR_WORK" >&2
		else
			rm -rf "$MMR_WORK"
		fi
	fi
	exit "$rc"
}

# Checks the prerequisites (skip only when rsyslogd or the module is missing), makes the work
# directory and installs the traps.
mmr_init() {
	[ -x "$MMR_RSYSLOGD" ] || mmr_skip "rsyslogd not found (RSYSLOGD=${RSYSLOGD:-unset})"
	[ -f "$MMR_MODULE" ] || mmr_skip "module not built: $MMR_MODULE"
	command -v jq >/dev/null 2>&1 || mmr_fail "jq is required (scripts/build.sh installs it)"
	MMR_WORK=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-$MMR_NAME.XXXXXX") ||
		mmr_fail "mktemp -d failed"
	mkdir -p "$MMR_WORK/spool"
	trap mmr_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	# absolute paths: rsyslogd loads the module by absolute path (-M would replace its search
	# path), and the tests may run from any directory
	case $MMR_MODULE in /*) ;; *) MMR_MODULE=$(cd "$(dirname "$MMR_MODULE")" && pwd)/$(basename "$MMR_MODULE") ;; esac
}

# mmr_simulate SEED USERS DAYS: a simulated company (contrib/simulator/mmrisk-simulate, or
# MMRISK_SIMULATE) written to $MMR_WORK/sim: logs.syslog, roster.csv, lists/, GeoIP databases.
mmr_simulate() {
	local simulator=${MMRISK_SIMULATE:-$MMR_SRCDIR/contrib/simulator/mmrisk-simulate}
	[ -f "$simulator" ] || mmr_fail "simulator not found: $simulator"
	"$simulator" --seed "$1" --users "$2" --days "$3" --out "$MMR_WORK/sim" --quiet \
		>"$MMR_WORK/sim.out" 2>&1 ||
		mmr_fail "the simulator failed: $(tail -n 5 "$MMR_WORK/sim.out")"
}

# mmr_live_parsers: copies of the rulebase and the mappings that a test may rewrite and HUP
# ($MMR_WORK/live.rulebase, $MMR_WORK/mappings)
mmr_live_parsers() {
	cp "$MMR_RULEBASE" "$MMR_WORK/live.rulebase" || mmr_fail "cannot copy $MMR_RULEBASE"
	cp -r "${MMRISK_MAPPINGS:-$MMR_SRCDIR/mappings}" "$MMR_WORK/mappings" ||
		mmr_fail "cannot copy the mappings"
}

# The combined identity/VPN rulebase. make check passes MMRISK_RULEBASE (built by make from
# rulebase/*.rulebase); run by hand before that, it is made here the way make does: each part
# compiled by rulebase/expand-types.awk (liblognorm 2.0.6 leaks on user-defined types), then
# concatenated under one "version=2".
mmr_need_rulebase() {
	[ -f "$MMR_RULEBASE" ] && return 0
	[ -n "${MMRISK_RULEBASE:-}" ] && mmr_fail "MMRISK_RULEBASE=$MMRISK_RULEBASE does not exist"
	local part parts="sshd cisco-asa" out="$MMR_WORK/identity-vpn.rulebase"
	local awkf=$MMR_SRCDIR/rulebase/expand-types.awk
	for part in $parts; do
		[ -f "$MMR_SRCDIR/rulebase/$part.rulebase" ] ||
			mmr_fail "no rulebase: neither $MMR_RULEBASE nor $MMR_SRCDIR/rulebase/$part.rulebase exists"
	done
	{
		echo "version=2"
		for part in $parts; do
			if [ -f "$awkf" ]; then
				awk -f "$awkf" "$MMR_SRCDIR/rulebase/$part.rulebase" ||
					mmr_fail "expand-types.awk failed on $part.rulebase"
			else
				cat "$MMR_SRCDIR/rulebase/$part.rulebase"
			fi | grep -v '^version=2'
		done
	} >"$out"
	MMR_RULEBASE=$out
	mmr_log "no built rulebase; made $out from $MMR_SRCDIR/rulebase/{${parts// /,}}.rulebase"
}

mmr_port_listening() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# A loopback TCP port nobody listens on, chosen at run time (tests may run in parallel).
mmr_pick_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! mmr_port_listening "$p" && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			MMR_PORT=$p
			return 0
		fi
	done
	mmr_fail "found no free loopback TCP port in 200 tries"
}

# Writes CONF: the common header, then the caller's stdin (a here-doc), which must define
# ruleset "main" (the TCP input feeds it). Picks the port when none is chosen yet.
# The header: private workDirectory, internal messages processed and written to
# $MMR_WORK/internal.log, imptcp on 127.0.0.1:$MMR_PORT, the module by absolute path, and
# the templates
#   mmr_json  one JSON object per line: {"msg","hostname","tag","vars":<the whole $! tree>}
#   mmr_msg   the msg property, raw, one per line
# maxMessageSize is 64k so that the 10 KB test line stays one message. MMR_GLOBAL_EXTRA adds
# global() parameters (valgrind.sh: debug.unloadmodules="off" keeps the module's symbols).
mmr_write_conf() {
	local conf=$1
	[ -n "$MMR_PORT" ] || mmr_pick_port
	cat >"$conf" <<EOF
global(workDirectory="$MMR_WORK/spool" processInternalMessages="on" maxMessageSize="64k"
       ${MMR_GLOBAL_EXTRA:-})
module(load="imptcp")
module(load="$MMR_MODULE")
input(type="imptcp" address="127.0.0.1" port="$MMR_PORT" ruleset="main")

template(name="mmr_json" type="list") {
	constant(value="{\"msg\":\"") property(name="msg" format="json")
	constant(value="\",\"hostname\":\"") property(name="hostname" format="json")
	constant(value="\",\"tag\":\"") property(name="syslogtag" format="json")
	constant(value="\",\"vars\":") property(name="\$!all-json")
	constant(value="}\n")
}
template(name="mmr_msg" type="string" string="%msg%\n")
template(name="mmr_internal" type="string"
	 string="%timegenerated:::date-rfc3339% %syslogseverity-text% %syslogtag%%msg%\n")

# rsyslogd's own messages (the module's errors and warnings among them) reach only the
# default ruleset: the TCP input is bound to ruleset "main".
if \$programname == "rsyslogd" or \$syslogtag startswith "rsyslogd" or
   (\$inputname == "rsyslogd" and \$syslogseverity <= 4) then {
	action(type="omfile" file="$MMR_WORK/internal.log" template="mmr_internal")
}

EOF
	cat >>"$conf"
	MMR_CONF=$conf
}

# Starts rsyslogd in the foreground (in the background of this shell) on CONF. With
# MMR_UNDER_VALGRIND set, runs it under "$MMR_VALGRIND $MMR_VALGRIND_OPTS". Returns when the
# port accepts connections; fails when rsyslogd exits or the port stays closed.
mmr_start() {
	local conf=${1:-$MMR_CONF} timeout=${2:-15}
	[ -n "$MMR_PORT" ] || mmr_fail "mmr_start: no port (write the config with mmr_write_conf)"
	if [ -n "${MMR_UNDER_VALGRIND:-}" ]; then
		# shellcheck disable=SC2086
		$MMR_VALGRIND ${MMR_VALGRIND_OPTS:-} --log-file="$MMR_WORK/valgrind.log" \
			"$MMR_RSYSLOGD" -n -C -f "$conf" -i "$MMR_WORK/rsyslogd.pid" \
			>"$MMR_WORK/rsyslogd.out" 2>&1 &
	else
		"$MMR_RSYSLOGD" -n -C -f "$conf" -i "$MMR_WORK/rsyslogd.pid" \
			>"$MMR_WORK/rsyslogd.out" 2>&1 &
	fi
	MMR_PID=$!
	local i
	for ((i = 0; i < timeout * 10; i++)); do
		if ! kill -0 "$MMR_PID" 2>/dev/null; then
			wait "$MMR_PID"
			local rc=$?
			MMR_PID=
			mmr_fail "rsyslogd exited at startup (status $rc), expected it to run"
		fi
		if mmr_port_listening "$MMR_PORT"; then
			# a port race (someone else took the port meanwhile) would send our lines
			# elsewhere: make sure the listener is our rsyslogd
			local who
			who=$(ss -ltnpH "sport = :$MMR_PORT" 2>/dev/null || true)
			if [[ $who == *pid=* && $who != *"pid=$MMR_PID,"* ]]; then
				mmr_fail "port $MMR_PORT is held by another process: $who"
			fi
			return 0
		fi
		sleep 0.1
	done
	mmr_fail "rsyslogd (pid $MMR_PID) did not listen on 127.0.0.1:$MMR_PORT within ${timeout}s"
}

# Sends FILE (newline-framed syslog lines) over one TCP connection, then closes it.
mmr_send() {
	local file=$1 fd
	[ -s "$file" ] || mmr_fail "mmr_send: $file is empty or missing"
	exec {fd}<>"/dev/tcp/127.0.0.1/$MMR_PORT" ||
		mmr_fail "cannot connect to 127.0.0.1:$MMR_PORT"
	cat "$file" >&"$fd" || mmr_fail "sending $file to 127.0.0.1:$MMR_PORT failed"
	exec {fd}>&-
}

mmr_lines() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# Waits until FILE has at least N lines (default timeout 30 s); fails when it does not or when
# rsyslogd died meanwhile.
mmr_wait_lines() {
	local file=$1 n=$2 timeout=${3:-30} i have
	for ((i = 0; i < timeout * 10; i++)); do
		have=$(mmr_lines "$file")
		[ "$have" -ge "$n" ] && return 0
		kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "rsyslogd died; $file has $have of $n lines"
		sleep 0.1
	done
	mmr_fail "expected $n lines in $(basename "$file") within ${timeout}s, saw $(mmr_lines "$file")"
}

# Waits until the internal log contains a line matching the extended regex RE.
mmr_wait_internal() {
	local re=$1 timeout=${2:-15} i
	for ((i = 0; i < timeout * 10; i++)); do
		grep -Eq -- "$re" "$MMR_WORK/internal.log" 2>/dev/null && return 0
		sleep 0.1
	done
	mmr_fail "expected a line matching /$re/ in the internal log within ${timeout}s"
}

# SIGTERM and wait for rsyslogd; returns its exit status in MMR_RC. Fails if it does not
# stop within the timeout (default 20 s).
mmr_stop() {
	local timeout=${1:-20} i
	[ -n "$MMR_PID" ] || return 0
	kill -TERM "$MMR_PID" 2>/dev/null
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$MMR_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$MMR_PID" 2>/dev/null; then
		kill -KILL "$MMR_PID" 2>/dev/null
		wait "$MMR_PID" 2>/dev/null
		MMR_PID=
		mmr_fail "rsyslogd did not exit within ${timeout}s of SIGTERM"
	fi
	wait "$MMR_PID"
	MMR_RC=$?
	MMR_PID=
}

# JSON assertions. FILE holds one JSON object per line; FILTER runs on the whole file as an
# array (jq -s) and must yield the offending items: an empty array passes. On failure prints
# DESC (what was expected), how many items offend and the first few.
mmr_check() {
	local desc=$1 filter=$2 file=$3 bad n
	bad=$(jq -c -s "$filter" "$file" 2>&1) || mmr_fail "jq failed on $file for '$desc': $bad"
	n=$(jq 'length' <<<"$bad" 2>/dev/null) || mmr_fail "jq filter for '$desc' gave no array: $bad"
	if [ "$n" != 0 ]; then
		mmr_fail "expected: $desc; $n offending item(s), first ones:
$(jq -c '.[:4][]' <<<"$bad" | cut -c1-700)"
	fi
}

# mmr_check_all DESC SELECT COND FILE [COUNT]: the lines matching jq expression SELECT must be
# COUNT many (default: at least one) and every one must satisfy COND. Optional PRELUDE in
# MMR_JQ_DEFS (jq "def ...;" text) is prepended.
mmr_check_all() {
	local desc=$1 sel=$2 cond=$3 file=$4 count=${5:-}
	local cnt_test='($m | length) == 0'
	[ -n "$count" ] && cnt_test="(\$m | length) != $count"
	mmr_check "$desc" "${MMR_JQ_DEFS:-} [.[] | select($sel)] as \$m
		| (\$m | map(select(($cond) | not)))
		+ (if $cnt_test then [{error: \"expected ${count:-at least 1} line(s) matching the selection, saw \\(\$m | length)\"}] else [] end)" \
		"$file"
}

# Evaluates FILTER (jq -s, whole file) and prints the result (raw).
mmr_jq() {
	jq -r -s "$2" "$1" || mmr_fail "jq '$2' failed on $1"
}

# assert_eq DESC EXPECTED SEEN
mmr_assert_eq() {
	[ "$2" = "$3" ] || mmr_fail "$1: expected '$2', saw '$3'"
}
