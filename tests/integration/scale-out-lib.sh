# Helpers for running a scaled-out mmriskscore on one machine: the example configs of
# contrib/scale-out/ turned into a relay, N scorers and a sink on loopback ports chosen at run
# time. Sourced (bash) after lib.sh by tests/integration/scale-out.sh and by
# scripts/bench-scale-out.sh:
#
#   so_setup N SIMDIR      ports, shard table (mmriskscore-shard-table, or a copy of $SO_TABLE),
#                          one config per instance
#                          from the shipped examples (paths, ports, names, owned shards and the
#                          simulator's context substituted; statefile.interval=$SO_SNAP_INTERVAL;
#                          SO_SCORER_SED, SO_RELAY_SED, SO_SINK_SED: one more sed
#                          expression for the scorers', the relay's and the sink's configs)
#   so_start NAME          start one instance (relay, sink, scorer1..N); waits for its port
#   so_kill9 NAME / so_stop NAME / so_stop_all
#   so_feed FILE           FILE over one TCP connection into the relay (background: SO_FEEDER)
#
# Every instance has its own directory $MMR_WORK/NAME (config, spool, state, internal.log,
# out). Nothing here judges: the caller checks.

SO_CONTRIB=$MMR_SRCDIR/contrib/scale-out
SO_MAPPINGS=${MMRISK_MAPPINGS:-$MMR_SRCDIR/mappings}
SO_SNAP_INTERVAL=${SO_SNAP_INTERVAL:-2}
declare -A SO_PID SO_PORT SO_CONF
SO_FEEDER=
SO_N=0

so_free_port() {
	local p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		mmr_port_listening "$p" && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		[[ " ${SO_PORT[*]} " == *" $p "* ]] && continue
		echo "$p"
		return 0
	done
	mmr_fail "found no free loopback TCP port in 200 tries"
}

# sed replacement text: escape \, & and the delimiter |
so_rep() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

# so_conf NAME EXAMPLE [extra sed args...] -> $MMR_WORK/NAME/rsyslog.conf
so_conf() {
	local name=$1 ex=$2 dir=$MMR_WORK/$1
	shift 2
	mkdir -p "$dir/spool" "$dir/log" "$dir/state"
	local sim=$SO_SIM k
	local corp
	corp=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$sim/lists/corporate-networks.txt" | grep . |
		sed 's/.*/"&"/' | paste -sd, -)
	local args=(-e "s|workDirectory=\"/var/spool/rsyslog\"|workDirectory=\"$(so_rep "$dir/spool")\" processInternalMessages=\"on\"|"
		-e "s|module(load=\"mmriskscore\")|module(load=\"$(so_rep "$MMR_MODULE")\")|"
		-e "s|/usr/local/share/mmriskscore/rulebase/identity-vpn.rulebase|$(so_rep "$MMR_RULEBASE")|g"
		-e "s|/usr/local/share/mmriskscore/mappings|$(so_rep "$SO_MAPPINGS")|g"
		-e "s|/usr/local/share/mmriskscore/lists|$(so_rep "$sim/lists")|g"
		-e "s|/etc/mmriskscore/shards.json|$(so_rep "$MMR_WORK/shards.json")|g"
		-e "s|/var/log/mmriskscore/|$(so_rep "$dir/log")/|g"
		-e "s|/var/lib/mmriskscore/state|$(so_rep "$dir/state")|g"
		-e "s|statefile.interval=\"300\"|statefile.interval=\"$SO_SNAP_INTERVAL\"|"
		-e "s|# corporatenetworks=\[.*\]|corporatenetworks=[$(so_rep "$corp")]|"
		-e "s|# roster=\"[^\"]*\"|roster=\"$(so_rep "$sim/roster.csv")\"|"
		-e "s|# geoip.city=\"[^\"]*\"|geoip.city=\"$(so_rep "$sim/geoip-city.mmdb")\"|"
		-e "s|# geoip.asn=\"[^\"]*\"|geoip.asn=\"$(so_rep "$sim/geoip-asn.mmdb")\"|"
		-e "s|target=\"sink.example.net\" port=\"2515\"|target=\"127.0.0.1\" port=\"${SO_PORT[sink]}\"|"
		-e "s|action.resumeInterval=\"2\"|action.resumeInterval=\"1\"|")
	for ((k = 1; k <= SO_N; k++)); do
		args+=(-e "s|target=\"scorer$k.example.net\" port=\"2514\"|target=\"127.0.0.1\" port=\"${SO_PORT[scorer$k]}\"|")
	done
	sed "${args[@]}" "$@" "$SO_CONTRIB/$ex" >"$dir/rsyslog.conf"
	# rsyslogd's own messages (the module's among them) reach only the default ruleset
	cat >>"$dir/rsyslog.conf" <<EOF2

template(name="so_internal" type="string"
	 string="%timegenerated:::date-rfc3339% %syslogseverity-text% %syslogtag%%msg%\n")
if \$programname == "rsyslogd" or \$syslogtag startswith "rsyslogd" then {
	action(type="omfile" file="$dir/internal.log" template="so_internal")
}
EOF2
	SO_CONF[$name]=$dir/rsyslog.conf
	local left
	left=$(grep -v '^[[:space:]]*#' "$dir/rsyslog.conf" | grep -o -e '/usr/local/share[^" ]*' -e '/etc/mmriskscore[^" ]*' \
		-e '/var/[a-z]*/[^" ]*' -e '[a-z0-9]*\.example\.net' | sort -u | tr '\n' ' ')
	[ -z "$left" ] || mmr_fail "$ex: left unsubstituted in $name's config: $left"
}

# so_setup N SIMDIR: ports and configs for a relay, N scorers and a sink
so_setup() {
	SO_N=$1
	SO_SIM=$2
	local k n names=
	for n in relay sink $(seq -f 'scorer%g' 1 "$SO_N"); do SO_PORT[$n]=$(so_free_port); done
	names=$(seq -s, -f 'scorer%g' 1 "$SO_N")
	if [ -n "${SO_TABLE:-}" ]; then
		cp "$SO_TABLE" "$MMR_WORK/shards.json" || mmr_fail "cannot copy $SO_TABLE"
	else
		"$SO_CONTRIB/mmriskscore-shard-table" --scorers "$names" >"$MMR_WORK/shards.json" ||
			mmr_fail "mmriskscore-shard-table failed"
	fi
	# the relay's if-chain names three scorers; other counts get their branches rewritten
	local chain=
	for ((k = 1; k <= SO_N; k++)); do
		chain+="if \$.scorer == \"scorer$k\" then call to_scorer$k else "
	done
	# fewer scorers than the example's three: their forwarding rulesets go
	local drop=()
	for ((k = SO_N + 1; k <= 3; k++)); do drop+=(-e "/^ruleset(name=\"to_scorer$k\")/,/^}/d"); done
	so_conf relay relay.conf.example -e "s|port=\"10514\"|port=\"${SO_PORT[relay]}\"|" \
		-e "/if \$.scorer == \"scorer1\" then call to_scorer1/{s|.*|\t\t${chain}call unrouted|;n;N;N;d}" \
		"${drop[@]}" ${SO_RELAY_SED:+-e "$SO_RELAY_SED"}
	for ((k = 1; k <= SO_N; k++)); do
		local owned
		owned=$("$SO_CONTRIB/mmriskscore-shard-table" --owned "scorer$k" "$MMR_WORK/shards.json") ||
			mmr_fail "no shards for scorer$k"
		so_conf "scorer$k" scorer.conf.example \
			-e "s|input(type=\"imrelp\" port=\"2514\"|input(type=\"imrelp\" port=\"${SO_PORT[scorer$k]}\"|" \
			-e "s|shards.owned=\"0-85\"|shards.owned=\"$owned\"|" \
			-e "s|set \$.out!scorer = \"scorer1\"|set \$.out!scorer = \"scorer$k\"|" \
			${SO_SCORER_SED:+-e "$SO_SCORER_SED"}
	done
	# more scorers than the example's three: their forwarding rulesets
	if ((SO_N > 3)); then
		for ((k = 4; k <= SO_N; k++)); do
			sed -n '/^ruleset(name="to_scorer1")/,/^}/p' "$MMR_WORK/relay/rsyslog.conf" |
				sed -e "s|to_scorer1|to_scorer$k|g" -e "s|port=\"${SO_PORT[scorer1]}\"|port=\"${SO_PORT[scorer$k]}\"|"
		done >>"$MMR_WORK/relay/rsyslog.conf"
	fi
	so_conf sink sink.conf.example -e "s|port=\"2515\"|port=\"${SO_PORT[sink]}\"|" \
		${SO_SINK_SED:+-e "$SO_SINK_SED"}
	local n out
	for n in relay sink $(seq -f 'scorer%g' 1 "$SO_N"); do
		if ! out=$(TZ=UTC "$MMR_RSYSLOGD" -N1 -f "${SO_CONF[$n]}" 2>&1); then
			mmr_fail "rsyslogd -N1 rejects the $n config made from contrib/scale-out:
$out"
		fi
	done
}

so_start() {
	local name=$1 dir=$MMR_WORK/$1 i
	TZ=UTC "$MMR_RSYSLOGD" -n -C -f "${SO_CONF[$name]}" -i "$dir/rsyslogd.pid" \
		>>"$dir/rsyslogd.out" 2>&1 &
	SO_PID[$name]=$!
	for ((i = 0; i < 150; i++)); do
		kill -0 "${SO_PID[$name]}" 2>/dev/null || {
			tail -n 20 "$dir/internal.log" "$dir/rsyslogd.out" >&2 2>/dev/null
			mmr_fail "$name: rsyslogd exited at startup"
		}
		mmr_port_listening "${SO_PORT[$name]}" && return 0
		sleep 0.1
	done
	mmr_fail "$name: rsyslogd did not listen on 127.0.0.1:${SO_PORT[$name]} within 15 s"
}

so_kill9() {
	local pid=${SO_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	SO_PID[$1]=
}

so_stop() {
	local pid=${SO_PID[$1]:-} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid" 2>/dev/null; mmr_log "$1 did not stop within 30 s; killed"; }
	wait "$pid" 2>/dev/null
	SO_PID[$1]=
}

so_stop_all() {
	[ -n "$SO_FEEDER" ] && { kill "$SO_FEEDER" 2>/dev/null; wait "$SO_FEEDER" 2>/dev/null; SO_FEEDER=; }
	local n
	for n in "${!SO_PID[@]}"; do so_stop "$n"; done
}

# so_feed FILE: the file over one connection into the relay, in the background
so_feed() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/${SO_PORT[relay]}" || exit 1
		cat "$1" >&3
	) &
	SO_FEEDER=$!
}

# so_wait_lines FILE N STALL: until FILE has N lines. Fails when no line was added for STALL
# seconds (default 60): slow progress on a loaded machine is waited for, a stall is not.
so_wait_lines() {
	local f=$1 n=$2 stall=${3:-60} have last=-1 since=$SECONDS
	while :; do
		have=$(mmr_lines "$f")
		[ "$have" -ge "$n" ] && return 0
		if [ "$have" != "$last" ]; then
			last=$have
			since=$SECONDS
		elif ((SECONDS - since >= stall)); then
			so_diag
			mmr_fail "expected $n lines in $f, saw $have, none added for ${stall}s"
		fi
		sleep 0.1
	done
}

# the last lines of every instance's internal log, and which ones still run
so_diag() {
	local n
	for n in "${!SO_CONF[@]}"; do
		printf -- '---- %s (pid %s%s)\n' "$n" "${SO_PID[$n]:-none}" \
			"$([ -n "${SO_PID[$n]:-}" ] && ! kill -0 "${SO_PID[$n]}" 2>/dev/null && echo ', dead')" >&2
		tail -n 6 "$MMR_WORK/$n/internal.log" 2>/dev/null | cut -c1-300 >&2
	done
}
