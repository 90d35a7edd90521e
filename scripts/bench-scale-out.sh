#!/bin/bash
# bench-scale-out.sh: aggregate throughput of a scaled-out mmriskscore on this machine with 1, 2
# and 3 scorers (docs/scale-out.md, "Throughput"). Not a timed test: it prints numbers.
#
# Each run starts, from the shipped examples (contrib/scale-out/, via
# tests/integration/scale-out-lib.sh): a sink, N scorers and a relay, all real rsyslogd
# processes on loopback ports; sends a simulator company over one TCP connection into the
# relay; waits until the sink has written every line (and checks that it wrote no more); stops
# everything. Reported per run: wall seconds from the first byte to the last line at the sink,
# lines/s, and the CPU seconds of each process (/proc/PID/stat, all threads), which show what
# saturates. A baseline runs the same company through one rsyslogd with the module in score
# mode (imptcp -> mmriskscore -> omfile, one worker: the order-preserving single instance).
# Variants (default durable, memory, tcp-all), from safest to fastest:
#   durable  as shipped: RELP on every hop, the scorer's output to the sink through a disk
#            queue with a checkpoint after every message (nothing scored is lost when a
#            scorer is killed)
#   memory   the scorer's output queue in memory, spilling to disk (LinkedList + filename):
#            what a scorer killed with SIGKILL had scored but not yet delivered is lost
#   queued   memory, and the scorer's ruleset gets an in-memory queue (one worker) instead of
#            Direct: imrelp acknowledges on arrival, so what was queued unscored is lost too
#   tcp      memory, and relay -> scorer over plain TCP (omfwd, octet-counted framing, imptcp)
#            instead of RELP: no acknowledgements, what is in flight when a scorer dies is lost
#   tcp-all  tcp, and scorers and relay -> sink over plain TCP too
#
#   scripts/bench-scale-out.sh [--users 300] [--days 30] [--seed 1] [--scorers 1,2,3]
#                              [--variants durable,memory,tcp-all] [--keep]
#
# Needs the build (scripts/build.sh: module, rulebase, replay tool) and rsyslog-relp.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export MMRISK_SRCDIR=${MMRISK_SRCDIR:-$(cd "$here/.." && pwd)}
users=300 days=30 seed=1 counts=1,2,3 variants=durable,memory,tcp-all
while [ $# -gt 0 ]; do
	case $1 in
	--users) users=$2; shift 2 ;;
	--days) days=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--scorers) counts=$2; shift 2 ;;
	--variants) variants=$2; shift 2 ;;
	--keep) export MMRISK_KEEP=1; shift ;;
	*) sed -n '2,/^set -uo/p' "$0" | sed '$d' >&2; exit 2 ;;
	esac
done
# shellcheck source=../tests/integration/lib.sh
. "$MMRISK_SRCDIR/tests/integration/lib.sh"
MMR_NAME=bench-scale-out
SO_SNAP_INTERVAL=60
# shellcheck source=../tests/integration/scale-out-lib.sh
. "$MMRISK_SRCDIR/tests/integration/scale-out-lib.sh"
mmr_init
mmr_need_rulebase
trap 'rc=$?; so_stop_all; [ -n "$MMR_PID" ] && mmr_kill_rsyslogd; (exit $rc); mmr_cleanup' EXIT

sim=$MMR_WORK/sim
perl "$MMR_SRCDIR/contrib/simulator/mmrisk-simulate" --seed "$seed" --users "$users" \
	--days "$days" --out "$sim" --quiet || mmr_fail "the simulator failed"
grep . "$sim/logs.syslog" >"$MMR_WORK/in.log"
total=$(wc -l <"$MMR_WORK/in.log")
cpu() { # CPU seconds (user + system, all threads) of a running pid
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo "?"
}
now() { date +%s.%N; }
rate() { awk -v n="$total" -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s  %6.0f lines/s", b - a, n / (b - a) }'; }

echo "bench-scale-out: $total lines (simulator seed $seed, $users users, $days days), $(nproc) cores, $(uname -r)"
echo

# ---- baseline: one rsyslogd, score mode, one worker ------------------------------------------
corp=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$sim/lists/corporate-networks.txt" | grep . | sed 's/.*/"&"/' | paste -sd, -)
out=$MMR_WORK/single.json
mmr_write_conf "$MMR_WORK/single.conf" <<EOF2
template(name="bso_line" type="string" string="%\$!risk!user_score%\n")
ruleset(name="main" queue.type="LinkedList" queue.size="200000" queue.workerThreads="1"
	queue.timeoutEnqueue="3600000") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" mappings="$SO_MAPPINGS"
	       lists.dir="$sim/lists" roster="$sim/roster.csv" corporatenetworks=[$corp]
	       geoip.city="$sim/geoip-city.mmdb" geoip.asn="$sim/geoip-asn.mmdb")
	action(type="omfile" file="$out" template="bso_line")
}
EOF2
TZ=UTC mmr_start "$MMR_CONF"
t0=$(now)
mmr_send "$MMR_WORK/in.log"
mmr_wait_lines "$out" "$total" 600
t1=$(now)
c=$(cpu "$MMR_PID")
mmr_stop
printf '%-36s %s   CPU s: rsyslogd %s\n' "single instance (1 worker)" "$(rate "$t0" "$t1")" "$c"

# ---- relay + N scorers + sink -----------------------------------------------------------------
for variant in ${variants//,/ }; do
SO_RELAY_SED= SO_SINK_SED=
case $variant in
durable) SO_SCORER_SED= ;;
memory) SO_SCORER_SED='s|queue.type="Disk" queue.filename="to_sink" queue.checkpointInterval="1"|queue.type="LinkedList" queue.filename="to_sink" queue.size="200000"|' ;;
queued) SO_SCORER_SED='s|queue.type="Disk" queue.filename="to_sink" queue.checkpointInterval="1"|queue.type="LinkedList" queue.filename="to_sink" queue.size="200000"|;s|ruleset(name="score" queue.type="Direct")|ruleset(name="score" queue.type="LinkedList" queue.size="200000" queue.workerThreads="1")|' ;;
tcp)
	SO_SCORER_SED='s|queue.type="Disk" queue.filename="to_sink" queue.checkpointInterval="1"|queue.type="LinkedList" queue.filename="to_sink" queue.size="200000"|;s|^module(load="imrelp")|module(load="imrelp") module(load="imptcp")|;s|input(type="imrelp" \(port="[0-9]*"\) ruleset="score" maxDataSize="64k")|input(type="imptcp" \1 ruleset="score")|'
	SO_RELAY_SED='s|action(\(name="[a-z_0-9]*"\) type="omrelp" \(target="127.0.0.1" port="[0-9]*" template="mmriskscore_raw"\) windowSize="[0-9]*"|action(\1 type="omfwd" protocol="tcp" TCP_Framing="octet-counted" \2|' ;;
tcp-all) # every hop over plain TCP, sink included
	SO_SCORER_SED='s|queue.type="Disk" queue.filename="to_sink" queue.checkpointInterval="1"|queue.type="LinkedList" queue.filename="to_sink" queue.size="200000"|;s|^module(load="imrelp")|module(load="imrelp") module(load="imptcp")|;s|input(type="imrelp" \(port="[0-9]*"\) ruleset="score" maxDataSize="64k")|input(type="imptcp" \1 ruleset="score")|;s|action(\(name="[a-z_0-9]*"\) type="omrelp" \(target="127.0.0.1" port="[0-9]*" template="mmriskscore_envelope"\) windowSize="[0-9]*"|action(\1 type="omfwd" protocol="tcp" TCP_Framing="octet-counted" \2|'
	SO_RELAY_SED='s|action(\(name="[a-z_0-9]*"\) type="omrelp" \(target="127.0.0.1" port="[0-9]*" template="mmriskscore_[a-z]*"\) windowSize="[0-9]*"|action(\1 type="omfwd" protocol="tcp" TCP_Framing="octet-counted" \2|'
	SO_SINK_SED='s|^module(load="imrelp")|module(load="imptcp")|;s|input(type="imrelp" \(port="[0-9]*"\) ruleset="sink" maxDataSize="64k")|input(type="imptcp" \1 ruleset="sink")|' ;;
*) mmr_fail "--variants: durable, memory, queued, tcp or tcp-all, not $variant" ;;
esac
for n in ${counts//,/ }; do
	# a fresh work area per run: configs, spools, state
	for d in relay sink scorer1 scorer2 scorer3 scorer4 scorer5 scorer6; do rm -rf "${MMR_WORK:?}/$d"; done
	unset SO_PORT SO_PID SO_CONF
	declare -A SO_PORT SO_PID SO_CONF
	so_setup "$n" "$sim"
	so_start sink
	for ((k = 1; k <= n; k++)); do so_start "scorer$k"; done
	so_start relay
	sink=$MMR_WORK/sink/log/identity-risk.json
	t0=$(now)
	so_feed "$MMR_WORK/in.log"
	so_wait_lines "$sink" "$total" 120
	t1=$(now)
	cpus="relay $(cpu "${SO_PID[relay]}")"
	for ((k = 1; k <= n; k++)); do cpus+=", scorer$k $(cpu "${SO_PID[scorer$k]}")"; done
	cpus+=", sink $(cpu "${SO_PID[sink]}")"
	wait "$SO_FEEDER" 2>/dev/null
	SO_FEEDER=
	sleep 1
	got=$(mmr_lines "$sink")
	so_stop_all
	[ "$got" = "$total" ] || mmr_fail "$n scorers: the sink has $got lines, expected $total"
	printf '%-36s %s   CPU s: %s\n' "$variant: relay + $n scorer(s) + sink" "$(rate "$t0" "$t1")" "$cpus"
done
done
