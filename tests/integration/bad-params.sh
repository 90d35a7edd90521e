#!/bin/bash
# `rsyslogd -N1` must reject every bad mmriskscore parameter with a message that names the
# parameter (DESIGN §3.1) and accept good configs. Each case is a config of its own with a
# second, valid action, so that the non-zero exit comes from the bad parameter and not from
# "no active actions". The state file parameters (statefile, statefile.interval,
# statefile.pseudonymkey) are checked the same way, and `rsyslogd -N1` must never touch a
# state file: a corrupt one stays where and as it is, a missing one is not created.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
rb=$MMR_WORK/ok.rulebase
cat >"$rb" <<'EOF'
version=2
rule=auth,success:sshd[%-:number%]: Accepted %auth_method:word% for %user:word% from %src_ip:ipv4% port %src_port:number% ssh2%-:rest%
EOF
# A syntax error liblognorm reports: an unknown field type in a rule.
cat >"$MMR_WORK/broken.rulebase" <<'EOF'
version=2
rule=auth,success:sshd[%-:number%]: Accepted %auth_method:word% for %user:nosuchtype% from %src_ip:ipv4%
EOF

ncase=0
failures=()
# check NAME EXPECT ACTION-PARAMS...: EXPECT is "ok" (exit 0) or "fail:NEEDLE" (non-zero exit
# and NEEDLE in the output); the remaining words are the action's parameters. A case that
# does not behave is recorded (with rsyslogd's output) and the others still run.
check() {
	local name=$1 expect=$2 conf out rc why=
	shift 2
	ncase=$((ncase + 1))
	conf=$MMR_WORK/case$ncase.conf
	out=$MMR_WORK/case$ncase.out
	cat >"$conf" <<EOF
global(workDirectory="$MMR_WORK/spool")
module(load="$MMR_MODULE")
action(type="mmriskscore" $*)
action(type="omfile" file="$MMR_WORK/never-written.log")
EOF
	"$MMR_RSYSLOGD" -N1 -f "$conf" >"$out" 2>&1
	rc=$?
	case $expect in
	ok)
		[ "$rc" = 0 ] || why="expected rsyslogd -N1 to accept { $* } (exit 0), saw exit $rc"
		;;
	fail:*)
		if [ "$rc" = 0 ]; then
			why="expected rsyslogd -N1 to reject { $* } (non-zero exit), saw exit 0"
		elif ! grep -qF -- "${expect#fail:}" "$out"; then
			why="expected the error output for { $* } to name '${expect#fail:}', it does not"
		fi
		;;
	esac
	if [ -n "$why" ]; then
		failures+=("$name: $why
$(grep -v 'config validation run\|End of config validation' "$out" | sed 's/^/    | /' | cut -c1-300)")
	fi
}

check "good config" ok "rulebase=\"$rb\""
check "good config, all tuning parameters" ok "rulebase=\"$rb\" container=\"\$!r\" eventcontainer=\"\$.ev\"
	parse.input=\"msg\" corporatenetworks=[\"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\"]
	learning.minevents=\"5\" learning.mindays=\"0\" userscore.halflife=\"3600\" farm.minusers=\"2\"
	farm.window=\"60\" failburst.user.count=\"32\" failburst.ip.count=\"2\" failburst.window=\"1\"
	state.maxusers=\"16\" state.maxips=\"16\" statsname=\"risk-x\""
check "good config, parsedfields" ok 'parsedfields="$!"'
check "unknown parameter (typo of an optional one)" fail:farm.minuser "rulebase=\"$rb\" farm.minuser=\"3\""
check "unknown parameter (typo of rulebase)" fail:rulebsae "rulebsae=\"$rb\""
check "neither rulebase nor parsedfields" fail:parsedfields 'container="$!risk"'
check "neither rulebase nor parsedfields" fail:rulebase 'container="$!risk"'
check "both rulebase and parsedfields" fail:parsedfields "rulebase=\"$rb\" parsedfields=\"\$!\""
check "rulebase file missing" fail:rulebase "rulebase=\"$MMR_WORK/no-such.rulebase\""
check "rulebase file missing (path named)" fail:"$MMR_WORK/no-such.rulebase" "rulebase=\"$MMR_WORK/no-such.rulebase\""
check "rulebase with a syntax error" fail:rulebase "rulebase=\"$MMR_WORK/broken.rulebase\""
check "rulebase with a syntax error (file named)" fail:broken.rulebase "rulebase=\"$MMR_WORK/broken.rulebase\""
check "container not a variable" fail:container "rulebase=\"$rb\" container=\"risk\""
check "eventcontainer a global variable" fail:eventcontainer "rulebase=\"$rb\" eventcontainer=\"\$/ev\""
check "parse.input bogus" fail:parse.input "rulebase=\"$rb\" parse.input=\"bogus\""
check "parsedfields not a variable" fail:parsedfields 'parsedfields="fields"'
check "corporatenetworks prefix /33" fail:corporatenetworks "rulebase=\"$rb\" corporatenetworks=[\"10.0.0.0/33\"]"
check "corporatenetworks not an IP" fail:corporatenetworks "rulebase=\"$rb\" corporatenetworks=[\"not-an-ip\"]"
check "farm.minusers out of range" fail:farm.minusers "rulebase=\"$rb\" farm.minusers=\"1\""
check "failburst.user.count out of range" fail:failburst.user.count "rulebase=\"$rb\" failburst.user.count=\"100\""
check "farm.window negative" fail:farm.window "rulebase=\"$rb\" farm.window=\"-5\""

# the risk model: model="FILE" (docs/model.md), newhire.factor, privileged.factor
cat >"$MMR_WORK/good.model" <<'EOF'
# a valid model file
userscore.halflife = 5d
rule.network.commercial_vpn.weight = off
rule.geo.watch_country.cap = 80
travel.max_speed_kmh = 900
newhire.factor = 3    # the action parameter overrides it
EOF
printf 'farm.window = 12h\n\nnewhire.factor = 11\n' >"$MMR_WORK/setting-range.model"
printf '# unknown key on line 3\nfarm.window = 12h\nrule.geo.watch_country.cpa = 80\n' >"$MMR_WORK/unknown-key.model"
printf 'farm.window = 12h\nrule.geo.watch_country.cap = 99999\n' >"$MMR_WORK/cap-range.model"
printf '\n# detector parameter below its range (300-5000)\ntravel.max_speed_kmh = 100\n' >"$MMR_WORK/param-range.model"
check "good config, model file overridden by newhire.factor" ok "rulebase=\"$rb\" model=\"$MMR_WORK/good.model\"
	newhire.factor=\"2\" privileged.factor=\"1\""
check "model file missing" fail:model "rulebase=\"$rb\" model=\"$MMR_WORK/no-such.model\""
check "model file missing (path named)" fail:"$MMR_WORK/no-such.model" "rulebase=\"$rb\" model=\"$MMR_WORK/no-such.model\""
check "model file with an unknown key (file:line named)" fail:"$MMR_WORK/unknown-key.model:3" "rulebase=\"$rb\" model=\"$MMR_WORK/unknown-key.model\""
check "model file with an unknown key (key named)" fail:rule.geo.watch_country.cpa "rulebase=\"$rb\" model=\"$MMR_WORK/unknown-key.model\""
check "model file with a rule cap out of range (file:line named)" fail:"$MMR_WORK/cap-range.model:2" "rulebase=\"$rb\" model=\"$MMR_WORK/cap-range.model\""
check "model file with a rule cap out of range (key named)" fail:rule.geo.watch_country.cap "rulebase=\"$rb\" model=\"$MMR_WORK/cap-range.model\""
check "model file with a detector parameter out of range (file:line named)" fail:"$MMR_WORK/param-range.model:3" "rulebase=\"$rb\" model=\"$MMR_WORK/param-range.model\""
check "model file with a detector parameter out of range (key named)" fail:travel.max_speed_kmh "rulebase=\"$rb\" model=\"$MMR_WORK/param-range.model\""
check "model file with a setting out of range (file:line named)" fail:"$MMR_WORK/setting-range.model:3: newhire.factor" "rulebase=\"$rb\" model=\"$MMR_WORK/setting-range.model\""
check "newhire.factor not a number" fail:newhire.factor "rulebase=\"$rb\" newhire.factor=\"abc\""
check "newhire.factor out of range" fail:newhire.factor "rulebase=\"$rb\" newhire.factor=\"11\""
check "privileged.factor negative" fail:privileged.factor "rulebase=\"$rb\" privileged.factor=\"-1\""

# the state file (docs/operations.md)
st=$MMR_WORK/state/risk.state
mkdir -p "$MMR_WORK/state"
printf '00112233445566778899aabbccddeeff\n' >"$MMR_WORK/good.key"
chmod 600 "$MMR_WORK/good.key"
printf '00112233445566778899aabbccddee\n' >"$MMR_WORK/short.key"
printf '00112233445566778899aabbccddeeXY\n' >"$MMR_WORK/nonhex.key"
check "statefile accepted" ok "rulebase=\"$rb\" statefile=\"$st\""
check "statefile with every state parameter" ok "rulebase=\"$rb\" statefile=\"$st\" statefile.interval=\"60\"
	statefile.pseudonymkey=\"$MMR_WORK/good.key\""
check "statefile.interval 0 (snapshot at shutdown only)" ok "rulebase=\"$rb\" statefile=\"$st\" statefile.interval=\"0\""
check "statefile relative" fail:statefile "rulebase=\"$rb\" statefile=\"risk.state\""
check "statefile relative (what is expected)" fail:"absolute path" "rulebase=\"$rb\" statefile=\"risk.state\""
check "statefile in a missing directory" fail:statefile "rulebase=\"$rb\" statefile=\"$MMR_WORK/no-such-dir/risk.state\""
check "statefile in a missing directory (directory named)" fail:"$MMR_WORK/no-such-dir" "rulebase=\"$rb\" statefile=\"$MMR_WORK/no-such-dir/risk.state\""
check "statefile is a directory" fail:statefile "rulebase=\"$rb\" statefile=\"$MMR_WORK/state\""
check "statefile empty" fail:statefile "rulebase=\"$rb\" statefile=\"\""
check "statefile.interval negative" fail:statefile.interval "rulebase=\"$rb\" statefile=\"$st\" statefile.interval=\"-1\""
check "statefile.interval above a day" fail:statefile.interval "rulebase=\"$rb\" statefile=\"$st\" statefile.interval=\"86401\""
check "statefile.interval not a number" fail:statefile.interval "rulebase=\"$rb\" statefile=\"$st\" statefile.interval=\"5m\""
check "statefile.pseudonymkey missing file" fail:statefile.pseudonymkey "rulebase=\"$rb\" statefile=\"$st\" statefile.pseudonymkey=\"$MMR_WORK/no-such.key\""
check "statefile.pseudonymkey too short" fail:statefile.pseudonymkey "rulebase=\"$rb\" statefile=\"$st\" statefile.pseudonymkey=\"$MMR_WORK/short.key\""
check "statefile.pseudonymkey too short (what is expected)" fail:"32 hexadecimal digits" "rulebase=\"$rb\" statefile=\"$st\" statefile.pseudonymkey=\"$MMR_WORK/short.key\""
check "statefile.pseudonymkey not hex" fail:statefile.pseudonymkey "rulebase=\"$rb\" statefile=\"$st\" statefile.pseudonymkey=\"$MMR_WORK/nonhex.key\""
check "statefile.pseudonymkey a directory" fail:statefile.pseudonymkey "rulebase=\"$rb\" statefile=\"$st\" statefile.pseudonymkey=\"$MMR_WORK/state\""
# two actions, one state file (the parameters close the first action and open a second)
check "two actions with one statefile" fail:statefile "rulebase=\"$rb\" statefile=\"$st\")
action(type=\"mmriskscore\" rulebase=\"$rb\" statefile=\"$st\""
# the key is never printed
if grep -rqF 00112233445566778899aabbccddee "$MMR_WORK"/case*.out; then
	failures+=("statefile.pseudonymkey: the key file's contents appear in rsyslogd's output")
fi

# scale-out (docs/scale-out.md): mode, shards, shards.owned, statedir
sd=$MMR_WORK/statedir
mkdir -p "$sd"
check "mode score (the default) given" ok "rulebase=\"$rb\" mode=\"score\""
check "mode route" ok "rulebase=\"$rb\" mode=\"route\" shards=\"1024\" container=\"\$!r\" statsname=\"relay\""
check "mode route with mappings and parsedfields" ok "mode=\"route\" parsedfields=\"\$!\" user.domain=\"keep\" user.defaultdomain=\"corp.example\""
check "mode bogus" fail:mode "rulebase=\"$rb\" mode=\"relay\""
check "mode bogus (what is expected)" fail:'"route"' "rulebase=\"$rb\" mode=\"relay\""
check "mode route needs a parser" fail:rulebase "mode=\"route\""
for p in "statefile=\"$st\"" "statedir=\"$sd\"" "statefile.interval=\"60\"" \
	"statefile.pseudonymkey=\"$MMR_WORK/good.key\"" "shards.owned=\"0-9\"" \
	"roster=\"$MMR_WORK/roster.csv\"" "geoip.city=\"$MMR_WORK/x.mmdb\"" "lists.dir=\"$MMR_WORK\"" \
	"model=\"$MMR_WORK/good.model\"" "state.maxusers=\"16\"" "farm.minusers=\"3\"" \
	"eventcontainer=\"\$!ev\"" "corporatenetworks=[\"10.0.0.0/8\"]" "newhire.factor=\"2\""; do
	check "mode route rejects ${p%%=*}" fail:"parameter '${p%%=*}' has no meaning with mode=\"route\"" "rulebase=\"$rb\" mode=\"route\" $p"
done
check "shards 0" fail:shards "rulebase=\"$rb\" mode=\"route\" shards=\"0\""
check "shards above 65536" fail:"shards': 65537 is out of range" "rulebase=\"$rb\" mode=\"route\" shards=\"65537\""
check "shards not a number" fail:shards "rulebase=\"$rb\" mode=\"route\" shards=\"many\""
check "statedir accepted" ok "rulebase=\"$rb\" statedir=\"$sd\" shards=\"64\" statefile.interval=\"30\"
	statefile.pseudonymkey=\"$MMR_WORK/good.key\""
check "statedir with a trailing slash, shards.owned" ok "rulebase=\"$rb\" statedir=\"$sd/\" shards.owned=\"0-85, 200\""
check "shards.owned without statedir (misrouted events counted)" ok "rulebase=\"$rb\" shards=\"8\" shards.owned=\"0-3\""
check "statedir relative" fail:"parameter 'statedir': 'state' is not an absolute path" "rulebase=\"$rb\" statedir=\"state\""
check "statedir missing" fail:"parameter 'statedir': the directory '$MMR_WORK/no-such-dir' does not exist" "rulebase=\"$rb\" statedir=\"$MMR_WORK/no-such-dir\""
check "statedir a file" fail:"is not a directory" "rulebase=\"$rb\" statedir=\"$MMR_WORK/good.key\""
check "statedir and statefile" fail:"'statefile' (one snapshot file) and 'statedir'" "rulebase=\"$rb\" statedir=\"$sd\" statefile=\"$st\""
check "shards.owned beyond shards" fail:"parameter 'shards.owned': '0-255': shard 255 is out of range: shards are 0-15" "rulebase=\"$rb\" statedir=\"$sd\" shards=\"16\" shards.owned=\"0-255\""
check "shards.owned reversed range" fail:"shards.owned" "rulebase=\"$rb\" statedir=\"$sd\" shards.owned=\"9-3\""
check "shards.owned empty" fail:"shards.owned" "rulebase=\"$rb\" statedir=\"$sd\" shards.owned=\"\""
check "shards.owned garbage" fail:"shards.owned" "rulebase=\"$rb\" shards.owned=\"all\""
check "two actions with one statedir" fail:"already the state directory" "rulebase=\"$rb\" statedir=\"$sd\")
action(type=\"mmriskscore\" rulebase=\"$rb\" statedir=\"$sd\""
if [ -n "$(ls -A "$sd")" ]; then
	failures+=("rsyslogd -N1 wrote into the state directory: $(ls "$sd" | tr '\n' ' ')")
fi

# rsyslogd -N1 leaves state files alone: a corrupt one is neither read into a "moved aside"
# nor replaced; a missing one is not created
printf 'not a snapshot\n' >"$st"
cp "$st" "$MMR_WORK/corrupt.copy"
check "statefile (corrupt) under -N1" ok "rulebase=\"$rb\" statefile=\"$st\" statefile.interval=\"1\""
check "statefile (missing) under -N1" ok "rulebase=\"$rb\" statefile=\"$MMR_WORK/state/never.state\" statefile.interval=\"1\""
others=("$MMR_WORK"/state/*)
if ! cmp -s "$st" "$MMR_WORK/corrupt.copy" || [ "${#others[@]}" != 1 ]; then
	failures+=("rsyslogd -N1 touched the state directory: $(ls -la "$MMR_WORK/state" | tail -n +2 | tr '\n' ';')")
fi

if [ ${#failures[@]} -gt 0 ]; then
	printf '%s\n' "${failures[@]}" >&2
	mmr_fail "${#failures[@]} of $ncase configs did not behave (listed above)"
fi
mmr_pass "$ncase configs: bad ones rejected naming the parameter, good ones accepted; rsyslogd -N1 leaves state files alone"
