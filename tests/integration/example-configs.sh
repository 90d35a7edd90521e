#!/bin/bash
# Every example configuration shipped in contrib/ is accepted by `rsyslogd -N1`, and the output
# examples do what docs/output.md says, run in a real rsyslogd:
#
# 1. -N1: every contrib/**/*.conf and *.conf.in, with the installed paths
#    (/usr/local/share/mmriskscore/..., module(load="mmriskscore"), /var/log, /var/spool/rsyslog)
#    replaced by the build tree's and the work directory's, and the demo's @PLACEHOLDERS@
#    filled in. A complete config (it has an input()) is checked as it is; a snippet to be
#    included (ecs.conf, splunk-rba.conf, rsyslog-pgsql.conf) inside a small config that
#    includes it, calls each of its rulesets and uses each of its templates.
#    contrib/rsyslog.d/mmriskscore.conf is checked a second time as a drop-in under the
#    system's /etc/rsyslog.conf (when there is one). A config that loads an output module
#    rsyslog does not have installed (omelasticsearch: rsyslog-elasticsearch; ompgsql:
#    rsyslog-pgsql) is reported as not checked, and the test still passes.
# 2. ECS and Splunk RBA: identity messages (one with a user name holding quotes, a backslash and
#    non-ASCII letters; failure bursts that reach "moderate"; a VPN session end; a line that is
#    not an identity event) through the module, contrib/output/ecs.conf and splunk-rba.conf into
#    omfile. jq checks that every line is valid JSON with the documented fields and types, that
#    the values are those of $!risk / $!event, that the odd name survives byte for byte, and
#    that elasticsearch-template.json maps every field the ECS documents contain.
# 3. contrib/output/forwarding.conf, run as shipped but for ports, paths and one worker thread:
#    the archive gets every message unchanged; a second rsyslogd standing in for the SIEM gets
#    exactly the messages that meet the documented alert condition.
# 4. contrib/rsyslog.d/mmriskscore.conf, run as shipped but for port and paths: one JSON
#    object per message in identity-risk.json, with risk and event on the scored ones.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
MAPPINGS=${MMRISK_MAPPINGS:-$MMR_SRCDIR/mappings}
CONTRIB=$MMR_SRCDIR/contrib
SIMULATE=${MMRISK_SIMULATE:-$CONTRIB/simulator/mmrisk-simulate}
LOGDIR=$MMR_WORK/log
mkdir -p "$LOGDIR" "$MMR_WORK/conf"

# rsyslog's module directory: where the package put imptcp.so
MODDIR=$(dpkg -L rsyslog 2>/dev/null | grep '/imptcp\.so$' | head -n 1 | xargs -r dirname)
if [ -z "$MODDIR" ]; then
	for d in /usr/lib/*/rsyslog /usr/lib/rsyslog /usr/lib64/rsyslog; do
		[ -f "$d/imptcp.so" ] && { MODDIR=$d; break; }
	done
fi
[ -n "$MODDIR" ] || mmr_fail "cannot find rsyslog's module directory (no imptcp.so)"

# sed replacement text: escape \, & and the delimiter |
sedrep() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

# subst FILE: the installed paths of an example replaced by the build tree's and ours
subst() {
	sed -e "s|module(load=\"mmriskscore\"|module(load=\"$(sedrep "$MMR_MODULE")\"|" \
		-e "s|/usr/local/share/mmriskscore/rulebase/identity-vpn.rulebase|$(sedrep "$MMR_RULEBASE")|g" \
		-e "s|/usr/local/share/mmriskscore/mappings|$(sedrep "$MAPPINGS")|g" \
		-e "s|/usr/local/share/mmriskscore/lists|$(sedrep "$CONTRIB/lists")|g" \
		-e "s|/usr/local/share/mmriskscore/output|$(sedrep "$MMR_WORK/conf")|g" \
		-e "s|/usr/local/share/mmriskscore/postgresql|$(sedrep "$MMR_WORK/conf")|g" \
		-e "s|/var/spool/rsyslog|$(sedrep "$MMR_WORK/spool")|g" \
		-e "s|/var/log/|$(sedrep "$LOGDIR")/|g" \
		"$1"
}

# Every example in the work directory, paths substituted, under its own base name (an include()
# of /usr/local/share/mmriskscore/output/ecs.conf then finds $MMR_WORK/conf/ecs.conf).
mapfile -t examples < <(cd "$MMR_SRCDIR" && find contrib -type f \( -name '*.conf' -o -name '*.conf.in' \) | sort)
[ "${#examples[@]}" -ge 6 ] || mmr_fail "expected at least 6 example configs in contrib/, found ${#examples[@]}: ${examples[*]}"
for f in "${examples[@]}"; do
	b=$(basename "$f")
	[ -e "$MMR_WORK/conf/$b" ] && mmr_fail "two examples named $b: rename one (the test keeps them side by side)"
	subst "$MMR_SRCDIR/$f" >"$MMR_WORK/conf/$b"
done

# ---- 1. rsyslogd -N1 ----------------------------------------------------------------------------
# The demo's placeholders need a simulator directory (roster, GeoIP, lists): a tiny one.
SIM=$MMR_WORK/sim
if [ -f "$SIMULATE" ] && perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null; then
	perl "$SIMULATE" --users 40 --days 1 --out "$SIM" --quiet >"$MMR_WORK/sim.log" 2>&1 ||
		mmr_fail "the simulator failed: $(tail -n 3 "$MMR_WORK/sim.log")"
fi

failures=()
notes=()
checked=0
n1() { # NAME CONF: -N1 must exit 0 and print nothing but its two banner lines
	local name=$1 conf=$2 out=$MMR_WORK/n1-$checked.out rc
	"$MMR_RSYSLOGD" -N1 -f "$conf" >"$out" 2>&1
	rc=$?
	if [ "$rc" != 0 ] || grep -v -e 'config validation run' -e 'End of config validation run' "$out" | grep -q .; then
		failures+=("$name: rsyslogd -N1 exit $rc:
$(grep -v -e 'config validation run' -e 'End of config validation run' "$out" | sed 's/^/    | /' | cut -c1-300)")
	fi
	checked=$((checked + 1))
}

for f in "${examples[@]}"; do
	b=$(basename "$f")
	conf=$MMR_WORK/conf/$b
	case $b in
	*.conf.in)
		if [ ! -f "$SIM/roster.csv" ] || [ ! -f "$SIM/geoip-city.mmdb" ]; then
			notes+=("$f: not checked (needs the simulator with MaxMind::DB::Writer for its @SIMDIR@)")
			continue
		fi
		sed -i -e "s|@WORKDIR@|$(sedrep "$MMR_WORK/spool")|g" -e "s|@PORT@|10514|g" \
			-e "s|@MODULE@|$(sedrep "$MMR_MODULE")|g" -e "s|@RULEBASE@|$(sedrep "$MMR_RULEBASE")|g" \
			-e "s|@MAPPINGS@|$(sedrep "$MAPPINGS")|g" -e "s|@SIMDIR@|$(sedrep "$SIM")|g" \
			-e "s|@OUTFILE@|$(sedrep "$LOGDIR/demo.json")|g" \
			-e "s|@INTERNALLOG@|$(sedrep "$LOGDIR/demo-internal.log")|g" "$conf"
		;;
	esac
	left=$(grep -v '^[[:space:]]*#' "$conf" | grep -o -e '/usr/local/share/mmriskscore[^" ]*' -e '@[A-Z_]*@' | sort -u | tr '\n' ' ')
	[ -z "$left" ] || { failures+=("$f: the test does not know how to substitute: $left"); continue; }
	missing=
	for m in $(grep -v '^[[:space:]]*#' "$conf" | grep -o 'module(load="[a-z0-9]*"' | sed 's/.*"\(.*\)"/\1/'); do
		[ -f "$MODDIR/$m.so" ] || missing+=" $m"
	done
	if [ -n "$missing" ]; then
		notes+=("$f: not checked, rsyslog module(s)$missing not installed in $MODDIR")
		continue
	fi
	if grep -v '^[[:space:]]*#' "$conf" | grep -q 'input(type='; then
		n1 "$f" "$conf"
	else
		# a snippet: include it, run every ruleset it defines, use every template it defines
		w=$MMR_WORK/conf/wrap-$b
		{
			echo "global(workDirectory=\"$MMR_WORK/spool\")"
			echo "module(load=\"$MMR_MODULE\")"
			echo "include(file=\"$conf\")"
			echo "action(type=\"mmriskscore\" rulebase=\"$MMR_RULEBASE\" mappings=\"$MAPPINGS\")"
			grep -o 'ruleset(name="[^"]*"' "$conf" | sed 's/.*"\(.*\)"/call \1/'
			grep -o 'template(name="[^"]*"' "$conf" | sed 's/.*"\(.*\)"/\1/' | while read -r t; do
				echo "action(type=\"omfile\" file=\"$LOGDIR/n1-$t\" template=\"$t\")"
			done
		} >"$w"
		n1 "$f (included)" "$w"
	fi
	# the rsyslog.d example also as what it is: a drop-in under the system's rsyslog.conf
	if [ "$b" = mmriskscore.conf ] && [ -f /etc/rsyslog.conf ]; then
		grep -q '^\$IncludeConfig /etc/rsyslog.d/\*.conf' /etc/rsyslog.conf ||
			{ notes+=("$f: not checked under /etc/rsyslog.conf (no \$IncludeConfig /etc/rsyslog.d/*.conf in it)"); continue; }
		sed -e "s|^\$IncludeConfig /etc/rsyslog.d/\*.conf|\$IncludeConfig $(sedrep "$conf")|" \
			-e "s|^\$WorkDirectory .*|\$WorkDirectory $(sedrep "$MMR_WORK/spool")|" \
			/etc/rsyslog.conf >"$MMR_WORK/conf/system-rsyslog.conf"
		n1 "$f as a drop-in under /etc/rsyslog.conf" "$MMR_WORK/conf/system-rsyslog.conf"
	fi
done
if [ "${#failures[@]}" -gt 0 ]; then
	printf 'FAIL %s: %d of %d example configs rejected:\n' "$MMR_NAME" "${#failures[@]}" "$checked" >&2
	printf '  %s\n' "${failures[@]}" >&2
	exit 1
fi
mmr_log "rsyslogd -N1 accepted $checked configs"
for n in "${notes[@]}"; do mmr_log "$n"; done

# ---- the messages -----------------------------------------------------------------------------
odd='CORP\Zoë "Q" O'"'"'Brien'                # the key is: zoë "q" o'brien
okta() { # user ip published country
	jq -cn --arg u "$1" --arg ip "$2" --arg t "$3" --arg c "$4" \
		'{eventType: "user.session.start", published: $t, actor: {type: "User", alternateId: $u},
		  client: {ipAddress: $ip, geographicalContext: {country: $c, city: "Berlin"}},
		  securityContext: {asNumber: 64500, asOrg: "Example \"Net\" GmbH", isProxy: false},
		  outcome: {result: "SUCCESS"}}' |
		sed 's/^/<134>Nov 26 09:00:00 okta-collector okta: /'
}
IN=$MMR_WORK/in.log
{
	okta "$odd" 198.51.100.90 2026-11-26T09:00:00.000Z Germany
	okta bob@corp.example 198.51.100.90 2026-11-26T09:00:30.000Z DE
	okta carol@corp.example 198.51.100.90 2026-11-26T09:00:40.000Z Germany
	# one account, one source, twelve failures in a minute: both failure bursts, moderate
	for i in $(seq 10 21); do
		printf '<38>Nov 26 09:01:%02d bastion1 sshd[4%s]: Failed password for root from 192.0.2.66 port 400%s ssh2\n' "$i" "$i" "$i"
	done
	# root is moderate now: one more failure from elsewhere adds a weak reason (alerted: the
	# user is moderate and the event added evidence), a success adds none (not alerted)
	printf '<38>Nov 26 09:01:30 bastion1 sshd[50]: Failed password for root from 192.0.2.77 port 40100 ssh2\n'
	printf '<38>Nov 26 09:01:40 bastion1 sshd[51]: Accepted password for root from 10.8.0.9 port 5001 ssh2\n'
	printf '<38>Nov 26 09:02:00 bastion1 sshd[77]: Accepted password for alice from 10.8.0.9 port 5000 ssh2\n'
	printf '<164>Nov 26 09:10:00 asa01 %%FTD-4-113019: Group = GP-Remote, Username = alice, IP = 203.0.113.10, Session disconnected. Session Type: AnyConnect-Parent, Duration: 0h:32m:16s, Bytes xmt: 1048576, Bytes rcv: 65536, Reason: User Requested\n'
	printf '<38>Nov 26 09:11:00 bastion1 cron[5]: (root) CMD (run-parts /etc/cron.hourly) "quoted" \\ back\n'
} >"$IN"
sent=$(wc -l <"$IN")
export TZ=UTC

# ---- 2. ECS and Splunk RBA through a real rsyslogd ---------------------------------------------
ECS=$LOGDIR/ecs.json
RBA=$LOGDIR/rba.json
HEC=$LOGDIR/hec.json
ALL=$LOGDIR/all.json
mmr_write_conf "$MMR_WORK/ecs.conf" <<EOF
include(file="$MMR_WORK/conf/ecs.conf")
include(file="$MMR_WORK/conf/splunk-rba.conf")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="1") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" mappings="$MAPPINGS" lists.dir="$CONTRIB/lists")
	action(type="omfile" file="$ALL" template="mmr_json")
	call mmriskscore_ecs
	action(type="omfile" file="$ECS" template="mmriskscore_ecs_line")
	call mmriskscore_splunk_rba
	if exists(\$.rba) then {
		action(type="omfile" file="$RBA" template="mmriskscore_splunk_rba")
		action(type="omfile" file="$HEC" template="mmriskscore_splunk_hec")
	}
}
EOF
mmr_start "$MMR_WORK/ecs.conf"
mmr_send "$IN"
mmr_wait_lines "$ECS" "$sent"
mmr_stop

# every line, on its own, is one JSON object
for f in "$ALL" "$ECS" "$RBA" "$HEC"; do
	bad=$(jq -R -r '. as $l | try (fromjson | select(type != "object") | "not an object: \($l)")
		catch "not JSON: \($l)"' "$f" 2>&1) || mmr_fail "jq -R failed on $f: $bad"
	[ -z "$bad" ] || mmr_fail "$(basename "$f"): every line must be one JSON object: $(head -n 2 <<<"$bad" | cut -c1-300)"
done
mmr_assert_eq "lines in ecs.json" "$sent" "$(mmr_lines "$ECS")"
nscored=$(jq -s '[.[] | select(.vars.risk != null)] | length' "$ALL")
nrisk=$(jq -s '[.[] | select(.vars.risk.score > 0)] | length' "$ALL")
[ "$nscored" -ge 17 ] && [ "$nrisk" -ge 3 ] ||
	mmr_fail "expected >= 17 scored messages and >= 3 with a reason, saw $nscored and $nrisk: $(cat "$MMR_WORK/internal.log" 2>/dev/null | tail -n 3)"

# ECS documents against the module's own output, message by message (one worker: same order)
jq -s . "$ALL" >"$MMR_WORK/all.array"
jq -c --slurpfile all "$MMR_WORK/all.array" -s '
	def lv: {"unknown":"Unknown","low":"Low","moderate":"Moderate","high":"High","critical":"Critical"}[.];
	[range(0; length) as $i | .[$i] as $e | $all[0][$i] as $m | $m.vars.risk as $r | $m.vars.event as $v |
	 if $r == null then
		(if ($e.event.risk_score != null) or ($e | has("user")) or ($e | has("mmriskscore")) then {i: $i, why: "unscored message has risk fields", e: $e} else empty end),
		(if ($e."@timestamp" | type) != "string" or $e.message == null or $e.observer.hostname != $m.hostname
		 then {i: $i, why: "syslog part", e: $e} else empty end)
	 else
		[ (($e."@timestamp" | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}")) // false),
		  (if $v.event_time then $e."@timestamp" == $v.event_time else true end),
		  ($e.event.risk_score | type) == "number", $e.event.risk_score == $r.score,
		  $e.event.risk_score_norm == $r.score,
		  $e.user.name == $r.user,
		  $e.user.risk.calculated_score_norm == $r.user_score,
		  ($e.user.risk.calculated_score_norm | type) == "number",
		  $e.user.risk.calculated_level == ($r.user_level | lv),
		  $e.event.action == $v.action, $e.event.outcome == $v.outcome,
		  ($e.event.outcome | IN("success", "failure", "unknown")),
		  ($e.event.category | type) == "array", ($e.event.type | type) == "array",
		  $e.event.kind == "event",
		  $e.mmriskscore.level == $r.level,
		  $e.mmriskscore.reasons == $r.reasons, ($e.mmriskscore.reasons | type) == "array",
		  ([$e.mmriskscore.reasons[] | (.rule | type) == "string" and (.points | type) == "number" and (.detail | type) == "string"] | all),
		  $e.mmriskscore.message == $r.message, ($e.mmriskscore.message | type) == "string",
		  ($e.mmriskscore.learning | type) == "boolean", $e.mmriskscore.learning == $r.learning,
		  $e.source.ip == $v.src_ip,
		  (if $v.src_port then $e.source.port == $v.src_port else true end),
		  (if $v.bytes_in then $e.destination.bytes == $v.bytes_in and $e.source.bytes == $v.bytes_out else true end),
		  (if $v.duration then $e.event.duration == $v.duration * 1000000000 else true end),
		  (if $v.as_number then $e.source.as.number == $v.as_number and $e.source.as.organization.name == $v.as_org else true end),
		  (if $v.user_raw then $e.mmriskscore.event.user_raw == $v.user_raw else true end),
		  $e.observer.hostname == $v.host
		] as $t
		| if ($t | all) then empty
		  else {i: $i, failed_checks: [$t | to_entries[] | select(.value | not) | .key], e: $e, risk: $r, event: $v} end
	 end]' "$ECS" >"$MMR_WORK/ecs-bad.json" || mmr_fail "jq failed comparing ecs.json with the module output"
[ "$(jq length "$MMR_WORK/ecs-bad.json")" = 0 ] ||
	mmr_fail "ECS documents that do not match docs/output.md (failed_checks: index of the check in the list): $(jq -c '.[:2][]' "$MMR_WORK/ecs-bad.json" | cut -c1-1200)"

oddkey='zoë "q" o'"'"'brien'
got=$(jq -r --arg k "$oddkey" 'select(.user.name == $k) | .mmriskscore.event.user_raw' "$ECS")
mmr_assert_eq "user_raw of the odd user in ecs.json" "$odd" "$got"
got=$(jq -r --arg k "$oddkey" 'select(.user.name == $k) | [.source.geo.country_name, .source.geo.city_name, .source.as.organization.name] | join("|")' "$ECS")
mmr_assert_eq "geo and AS of the odd user in ecs.json" 'Germany|Berlin|Example "Net" GmbH' "$got"
got=$(jq -r 'select(.user.name == "bob") | [.source.geo.country_iso_code, (.source.geo.country_name // "-")] | join("|")' "$ECS")
mmr_assert_eq "a two-letter country goes to source.geo.country_iso_code" 'DE|-' "$got"
got=$(jq -r 'select(.event.action == "vpn_end") | [.event.duration, .source.bytes, .destination.bytes, (.event.category | join(",")), (.event.type | join(","))] | join("|")' "$ECS")
mmr_assert_eq "the VPN session end: duration in ns, bytes by direction, category and type" \
	"1936000000000|65536|1048576|network,session|end" "$got"
got=$(jq -r 'select(.log.syslog.appname == "cron") | .message' "$ECS")
mmr_assert_eq "the non-identity line's message" '(root) CMD (run-parts /etc/cron.hourly) "quoted" \ back' "$got"

# the Elasticsearch index template maps every field the ECS documents contain
TPL=$CONTRIB/output/elasticsearch-template.json
jq -e '.index_patterns and .template.mappings.properties' "$TPL" >/dev/null ||
	mmr_fail "$TPL is not an index template with index_patterns and template.mappings.properties"
jq -r '.template.mappings.properties | [paths(objects) as $p | select(getpath($p) | has("type")) | $p
	| select(index("fields") | not) | map(select(. != "properties")) | join(".")] | .[]' "$TPL" | sort -u >"$MMR_WORK/mapped.txt"
jq -r '[paths(scalars) | map(select(type == "string")) | join(".")] | .[]' "$ECS" | sort -u >"$MMR_WORK/emitted.txt"
unmapped=$(comm -23 "$MMR_WORK/emitted.txt" "$MMR_WORK/mapped.txt" | tr '\n' ' ')
[ -z "$unmapped" ] || mmr_fail "fields in the ECS documents that elasticsearch-template.json does not map: $unmapped"
for fld in @timestamp:date event.risk_score:float event.risk_score_norm:float \
	user.risk.calculated_score_norm:float user.risk.calculated_level:keyword user.name:keyword \
	source.ip:ip mmriskscore.reasons.rule:keyword mmriskscore.reasons.points:float mmriskscore.learning:boolean; do
	p=${fld%%:*} t=${fld##*:}
	got=$(jq -r --arg p "$p" '.template.mappings.properties | getpath($p | split(".") | [.[] | ., "properties"] | .[:-1]) | .type' "$TPL")
	mmr_assert_eq "type of $p in elasticsearch-template.json" "$t" "$got"
done

# Splunk RBA: one risk event per scored message with a reason, values from $!risk / $!event
mmr_assert_eq "lines in rba.json (scored messages with score > 0)" "$nrisk" "$(mmr_lines "$RBA")"
jq -c --slurpfile all "$MMR_WORK/all.array" -s '
	($all[0] | map(select(.vars.risk.score > 0))) as $m |
	[range(0; length) as $i | .[$i] as $e | $m[$i].vars.risk as $r | $m[$i].vars.event as $v |
	 [ $e.risk_object == $r.user, $e.risk_object_type == "user",
	   $e.risk_score == $r.score, ($e.risk_score | type) == "number",
	   $e.risk_message == $r.message,
	   $e.rule == $r.reasons[0].rule, $e.search_name == "mmriskscore - " + $r.reasons[0].rule,
	   (if $v.src_ip then $e.threat_object == $v.src_ip and $e.threat_object_type == "ip"
	    else ($e | has("threat_object") | not) end),
	   ($e.time | type) == "number", $e.time > 1700000000,
	   $e.user_risk_score == $r.user_score, $e.user_risk_level == $r.user_level,
	   $e.risk_level == $r.level, $e.reasons == $r.reasons, $e.action == $v.action
	 ] as $t | if ($t | all) then empty
	 else {i: $i, failed_checks: [$t | to_entries[] | select(.value | not) | .key], e: $e, risk: $r} end]' \
	"$RBA" >"$MMR_WORK/rba-bad.json" || mmr_fail "jq failed comparing rba.json with the module output"
[ "$(jq length "$MMR_WORK/rba-bad.json")" = 0 ] ||
	mmr_fail "Splunk RBA events that do not match docs/output.md: $(jq -c '.[:2][]' "$MMR_WORK/rba-bad.json" | cut -c1-1200)"
got=$(jq -r 'select(.risk_object == "root") | .time' "$RBA" | head -n 1)
mmr_assert_eq "RBA time of the first root failure burst (syslog header Nov 26 09:01:14 UTC)" \
	"$(date -u -d "$(date -u +%Y)-11-26T09:01:14Z" +%s)" "$got"
jq -c -s --slurpfile rba "$RBA" '[range(0; length) as $i | .[$i] as $h |
	select(($h.event != $rba[$i]) or $h.time != $h.event.time or $h.sourcetype != "mmriskscore:risk"
	       or $h.source != "mmriskscore" or ($h.host | type) != "string") | $h]' "$HEC" >"$MMR_WORK/hec-bad.json"
mmr_assert_eq "HEC envelopes that do not wrap the RBA event" 0 "$(jq length "$MMR_WORK/hec-bad.json")"
mmr_assert_eq "lines in hec.json" "$nrisk" "$(mmr_lines "$HEC")"

# ---- 3. forwarding.conf: archive everything, alerts to a second rsyslogd ----------------------
pick() { local save=$MMR_PORT; MMR_PORT=; mmr_pick_port; REPLY=$MMR_PORT; MMR_PORT=$save; }
RECV_PID=
stop_receiver() {
	[ -n "$RECV_PID" ] || return 0
	kill -TERM "$RECV_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do kill -0 "$RECV_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$RECV_PID" 2>/dev/null
	wait "$RECV_PID" 2>/dev/null
	RECV_PID=
}
trap 'rc=$?; stop_receiver; (exit $rc); mmr_cleanup' EXIT

pick
recv_port=$REPLY
ALERTS=$LOGDIR/alerts-received.json
mkdir -p "$MMR_WORK/spool-recv"
cat >"$MMR_WORK/receiver.conf" <<EOF
global(workDirectory="$MMR_WORK/spool-recv")
module(load="imptcp")
input(type="imptcp" address="127.0.0.1" port="$recv_port" ruleset="siem")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="siem") { action(type="omfile" file="$ALERTS" template="raw") }
EOF
"$MMR_RSYSLOGD" -n -C -f "$MMR_WORK/receiver.conf" -i "$MMR_WORK/receiver.pid" >"$MMR_WORK/receiver.out" 2>&1 &
RECV_PID=$!
for ((i = 0; i < 150; i++)); do
	mmr_port_listening "$recv_port" && break
	kill -0 "$RECV_PID" 2>/dev/null || mmr_fail "the receiving rsyslogd exited: $(cat "$MMR_WORK/receiver.out")"
	sleep 0.1
done
mmr_port_listening "$recv_port" || mmr_fail "the receiving rsyslogd does not listen on $recv_port"

pick
MMR_PORT=$REPLY
pick
udp_port=$REPLY
FWD=$MMR_WORK/conf/forwarding-run.conf
{
	# the test's own: rsyslogd's messages to the internal log that mmr_fail shows
	echo "global(processInternalMessages=\"on\")"
	echo "template(name=\"mmr_internal\" type=\"string\" string=\"%timegenerated:::date-rfc3339% %syslogseverity-text% %syslogtag%%msg%\\n\")"
	echo "if \$syslogtag startswith \"rsyslogd\" then action(type=\"omfile\" file=\"$MMR_WORK/internal.log\" template=\"mmr_internal\")"
	sed -e "s|input(type=\"imtcp\" port=\"514\"|input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$MMR_PORT\"|" \
		-e "s|input(type=\"imudp\" port=\"514\"|input(type=\"imudp\" address=\"127.0.0.1\" port=\"$udp_port\"|" \
		-e "s|target=\"siem.example.net\" port=\"6514\"|target=\"127.0.0.1\" port=\"$recv_port\"|" \
		-e 's|queue.workerThreads="4"|queue.workerThreads="1"|' \
		"$MMR_WORK/conf/forwarding.conf"
} >"$FWD"
for want in "port=\"$MMR_PORT\"" "port=\"$udp_port\"" "port=\"$recv_port\"" 'queue.workerThreads="1"'; do
	grep -qF "$want" "$FWD" || mmr_fail "forwarding.conf changed shape: could not set $want in it"
done
ARCHIVE=$LOGDIR/archive/identity.log
mmr_start "$FWD"
mmr_send "$IN"
mmr_wait_lines "$ARCHIVE" "$sent"
want_alerts=$(jq -s '[.[] | select(.vars.risk != null) | .vars.risk
	| select((.level | IN("moderate", "high", "critical")) or
	         ((.user_level | IN("moderate", "high", "critical")) and .score > 0))] | length' "$ALL")
[ "$want_alerts" -ge 2 ] || mmr_fail "the test messages should give >= 2 alerts, the module output gives $want_alerts"
# both halves of the condition, and the quiet event of a risky user, are exercised
got=$(jq -r -s '[.[] | .vars.risk | select(. != null)] |
	[(map(select(.level | IN("moderate", "high", "critical"))) | length),
	 (map(select((.level | IN("unknown", "low")) and (.user_level | IN("moderate", "high", "critical")) and .score > 0)) | length),
	 (map(select((.user_level | IN("moderate", "high", "critical")) and .score == 0)) | length)] | map(. > 0) | all' "$ALL")
mmr_assert_eq "the test messages have moderate+ events, weak events of a moderate+ user and a quiet event of one" true "$got"
for ((i = 0; i < 300; i++)); do
	[ "$(mmr_lines "$ALERTS")" -ge "$want_alerts" ] && break
	sleep 0.1
done
sleep 0.5
mmr_stop
stop_receiver
mmr_assert_eq "lines in the archive" "$sent" "$(mmr_lines "$ARCHIVE")"
# the archive holds each message as it arrived (RSYSLOG_FileFormat: time host tag msg)
while IFS= read -r line; do
	body=${line#*>}          # drop <PRI>
	body=${body:16}          # drop "Mmm dd hh:mm:ss "
	grep -qF -- "$body" "$ARCHIVE" || mmr_fail "the archive does not hold this message unchanged: $body"
done <"$IN"
mmr_assert_eq "alerts received by the second destination" "$want_alerts" "$(mmr_lines "$ALERTS")"
jq -r -s '.[] | select(.vars.risk != null) | select((.vars.risk.level | IN("moderate", "high", "critical")) or
	((.vars.risk.user_level | IN("moderate", "high", "critical")) and .vars.risk.score > 0)) | .msg | ltrimstr(" ")' \
	"$ALL" | sort >"$MMR_WORK/alerts-want.txt"
jq -r '.msg' "$ALERTS" | sort >"$MMR_WORK/alerts-got.txt" || mmr_fail "the alert lines are not JSON: $(head -n 2 "$ALERTS")"
cmp -s "$MMR_WORK/alerts-want.txt" "$MMR_WORK/alerts-got.txt" ||
	mmr_fail "the alert stream is not exactly the messages meeting the alert condition:
$(diff "$MMR_WORK/alerts-want.txt" "$MMR_WORK/alerts-got.txt" | head -n 10 | cut -c1-200)"
mmr_check_all "every alert carries risk and event" 'true' \
	'(.risk.score | type) == "number" and (.event.action | type) == "string" and (.timestamp | type) == "string"' "$ALERTS" "$want_alerts"

# ---- 4. contrib/rsyslog.d/mmriskscore.conf as shipped ----------------------------------------------
pick
MMR_PORT=$REPLY
RDOUT=$LOGDIR/mmriskscore/identity-risk.json
sed -e "s|input(type=\"imptcp\" port=\"10514\"|input(type=\"imptcp\" address=\"127.0.0.1\" port=\"$MMR_PORT\"|" \
	"$MMR_WORK/conf/mmriskscore.conf" >"$MMR_WORK/conf/rsyslogd-d.conf"
grep -qF "port=\"$MMR_PORT\"" "$MMR_WORK/conf/rsyslogd-d.conf" || mmr_fail "rsyslog.d/mmriskscore.conf changed shape: no imptcp port 10514"
cat >"$MMR_WORK/conf/main-d.conf" <<EOF
global(workDirectory="$MMR_WORK/spool" processInternalMessages="on" maxMessageSize="64k")
template(name="mmr_internal" type="string" string="%timegenerated:::date-rfc3339% %syslogseverity-text% %syslogtag%%msg%\n")
if \$syslogtag startswith "rsyslogd" then action(type="omfile" file="$MMR_WORK/internal.log" template="mmr_internal")
include(file="$MMR_WORK/conf/rsyslogd-d.conf")
EOF
mmr_start "$MMR_WORK/conf/main-d.conf"
mmr_send "$IN"
mmr_wait_lines "$RDOUT" "$sent"
mmr_stop
mmr_check_all "identity-risk.json: one JSON object per message, risk and event on the scored ones" 'true' \
	'(.timestamp | type) == "string" and (.host | type) == "string" and (.msg | type) == "string"
	 and ((.risk == null and .event == null) or ((.risk.score | type) == "number" and (.event.action | type) == "string"))' \
	"$RDOUT" "$sent"
got=$(jq -s '[.[] | select(.risk != null)] | length' "$RDOUT")
mmr_assert_eq "scored messages in identity-risk.json" "$nscored" "$got"
got=$(jq -r --arg k "$oddkey" 'select(.risk.user == $k) | .event.user_raw' "$RDOUT")
mmr_assert_eq "the odd user name in identity-risk.json" "$odd" "$got"

msg="$checked configs pass rsyslogd -N1"
[ "${#notes[@]}" -gt 0 ] && msg+=" (${#notes[@]} not checked, see above)"
mmr_pass "$msg; ECS ($sent docs), Splunk RBA ($nrisk events) and HEC checked field by field; forwarding: $sent archived, $want_alerts alerts; rsyslog.d example runs"
