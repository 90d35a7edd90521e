#!/bin/bash
# Conformance of the rulebases and mappings against third-party sample logs.
#
#   tests/rulebase/conformance.sh [--product NAME] [--report FILE.md] [--list-products]
#                                 [--dump FILE.tsv]
#   --dump writes one row per sample line (product, file:line, class, classifier's expectation,
#   what we produced, parse input) for looking at the classifier's decisions.
#
# make check sets MMRISK_SRCDIR, MMRISK_BUILDDIR, MMRISK_PARSE, MMRISK_RULEBASE and
# MMRISK_MAPPINGS (otherwise: the repository and its build/ directory). The samples are read
# from $MMRISK_SHARED_SAMPLES or <repo>/../shared/samples (never copied into the repo, see
# their README.md); without them the test is skipped (exit 77).
#
# What it does, per product (table PRODUCTS below):
#   1. turns every sample line into the module's parse input: syslog tag + msg exactly as
#      Debian's rsyslogd 8.2302 splits the line (function parse_input; checked against a real
#      rsyslogd for all 4816 text lines of the samples: identical); JSON sources as the object
#      itself; syslog-ng patterndb test messages (MSG only) get "<program>[4242]: " in front;
#   2. runs mmriskscore-parse (combined rulebase + all mappings) once over all lines;
#   3. classifies every line with the explicit classifier below (classify_text / JSON_CLASSIFY):
#        R  relevant: authentication, MFA, VPN session start/end, address assignment, SSO,
#           privilege or account event of a named user -> must become an identity event;
#        O  optional: identity-related but deliberately not required (SCHEMA.md §5 double
#           logging such as pam_unix next to sshd's own line, channel-level VPN details,
#           authorization/accounting records, hidden "*****" or placeholder users,
#           events without a user) -> may be parsed or not;
#        I  irrelevant: traffic, NAT, DNS, URL, IPS, system and configuration lines -> must NOT
#           become an identity event (else: false positive, the test fails);
#      and, where the classifier can tell, the expected action, outcome, user and source IP;
#   4. compares the produced events with the third-party expectations where they exist:
#        Elastic *.expected.condensed.json (ECS user.name / source.user.name /
#        server.user.name, source.ip, event.outcome, event.action/category/type),
#        syslog-ng patterndb expected values (usracct.username, usracct.device,
#        secevt.verdict, usracct.type), loghub templates (the values at the template's
#        "<*>" after "for"/"user"/"user=" = user, after "from"/"rhost=" = source IP);
#      user: lower-case, "DOMAIN\" and "@domain" stripped on both sides; source IP: exact;
#      outcome: exact for authentication-class events; for session/privilege/account events
#      our "unknown" agrees with a reference "success" (Elastic marks every processed
#      event success); action, by class (ours -> class; ECS -> class):
#        auth, mfa, sso           -> auth    ECS category authentication (type start/info/
#                                            allowed/denied/authentication_*), logged-in,
#                                            logon-failed, ssh_login, login_*, Sign-in activity
#        vpn_start, ip_assigned   -> start   ECS session/network with type start,
#                                            client-vpn-connected, address-assigned,
#                                            client-vpn-error (a refused session start)
#        vpn_end, logout          -> end     ECS type end, client-vpn-disconnected, logout
#        vpn_stats                -> stats
#        privilege                -> privilege  ECS privilege-level-changed
#        account                  -> account    ECS iam with type creation/deletion
#   5. prints a table per product, every miss (relevant line not parsed as identity, or parsed
#      with a field that disagrees), every false positive, and the overall line
#        relevant N, parsed with right user+source IP+outcome M (P%)
#      where "right" uses the third-party value when there is one, else the classifier's.
#      PASS when P >= 95 and there is no false positive. Products whose rulebase/mapping
#      does not exist yet are reported as "no rulebase" (counts only, not in P; their false
#      positives still count).
# Exit: 0 PASS, 1 FAIL, 77 skipped (no samples / no jq).

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
top=${MMRISK_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${MMRISK_BUILDDIR:-$top/build}
parse=${MMRISK_PARSE:-$build/tools/mmriskscore-parse}
rulebase=${MMRISK_RULEBASE:-$build/rulebase/identity-vpn.rulebase}
maps=${MMRISK_MAPPINGS:-$top/mappings}
samples=${MMRISK_SHARED_SAMPLES:-$top/../shared/samples}
threshold=95
product_floor=${MMRISK_CONFORMANCE_PRODUCT_FLOOR:-80}

report='' only='' list=0 dump=''
while [ $# -gt 0 ]; do
	case $1 in
	--report) report=${2:?--report needs a file}; shift 2 ;;
	--report=*) report=${1#*=}; shift ;;
	--product) only=${2:?--product needs a name}; shift 2 ;;
	--product=*) only=${1#*=}; shift ;;
	--list-products) list=1; shift ;;
	--dump) dump=${2:?--dump needs a file}; shift 2 ;;
	-h|--help) sed -n '2,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [--product NAME] [--report FILE.md] [--list-products]" >&2; exit 2 ;;
	esac
done

# ------------------------------------------------------------------------------------------
# Products: key | label | our sources (rulebase/<x>.rulebase or mappings/<x>.json, globs) |
#           kind (text, json, pdb) | sample files (globs, relative to the samples folder)
# --product NAME selects the keys equal to NAME or starting with "NAME-" (linux -> linux-*).
PRODUCTS='
asa|Cisco ASA/FTD|cisco-asa|text|elastic/cisco_asa/*.log wazuh/cisco_asa.log wazuh/cisco_ftd.log
ise|Cisco ISE|cisco-ise|text|elastic/cisco_ise/*.log
fortigate|FortiGate|fortinet-fortigate fortigate|text|elastic/fortinet_fortigate/*.log wazuh/fortigate.log
pulse|Pulse Connect Secure|pulse-connect-secure pulse*|text|elastic/pulse_connect_secure/*.log
panos|PAN-OS GlobalProtect|paloalto-globalprotect panos* paloalto*|text|elastic/panw/*.log wazuh/paloalto.log
openvpn|OpenVPN|openvpn*|text|wazuh/openvpn_ldap.log
linux-elastic|Linux auth (Elastic system)|sshd linux-privilege|text|elastic/system/*.log
linux-openssh|Linux sshd (loghub OpenSSH)|sshd|text|loghub/OpenSSH_2k.log
linux-messages|Linux (loghub messages)|sshd linux-privilege|text|loghub/Linux_2k.log
linux-patterndb|Linux auth (syslog-ng patterndb)|sshd linux-privilege|pdb|syslog-ng-patterndb/patterndb_access_sshd.log
linux-wazuh|Linux auth (Wazuh sshd/su/sudo/pam)|sshd linux-privilege|text|wazuh/sshd.log wazuh/su.log wazuh/sudo.log wazuh/pam.log
entra|Entra ID sign-in|entra-signin*|json|elastic/azure/*.log
gws|Google Workspace login|google-workspace*|json|elastic/google_workspace/*.log
pix|Cisco PIX|cisco-pix|text|wazuh/pix.log
ios|Cisco IOS|cisco-ios|text|wazuh/cisco_ios.log
fortiauth|FortiAuthenticator|fortiauth*|text|wazuh/fortiauth.log
dropbear|Dropbear SSH|dropbear|text|wazuh/dropbear.log
doas|OpenBSD doas|doas|text|wazuh/doas.log
sonicwall|SonicWall|sonicwall*|text|elastic/sonicwall_firewall/*.log wazuh/SonicWall.log
zpa|Zscaler ZPA|zscaler*|json|elastic/zscaler_zpa/*.log
checkpoint|Check Point|checkpoint*|text|wazuh/checkpoint_smart1.log
netscreen|Juniper NetScreen|netscreen*|text|wazuh/netscreen.log
junos|Juniper Junos|junos*|text|wazuh/junos.log
sophos|Sophos XG|sophos*|text|wazuh/sophos_fw.log
openldap|OpenLDAP|openldap*|text|wazuh/openldap.log
f5|F5 BIG-IP|f5*|text|wazuh/f5_big_ip.log
huawei|Huawei USG|huawei*|text|wazuh/huawei_usg.log
pfsense|pfSense|pfsense*|text|wazuh/pfsense.log
'

if [ $list = 1 ]; then
	printf '%s\n' "$PRODUCTS" | awk -F'|' 'NF > 1 { printf "%-16s %s\n", $1, $2 }'
	exit 0
fi
if [ ! -d "$samples" ]; then
	echo "SKIP: third-party samples not found at $samples (set MMRISK_SHARED_SAMPLES)"
	exit 77
fi
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
[ -x "$parse" ] || { echo "FAIL: $parse not built"; exit 1; }
[ -f "$rulebase" ] || { echo "FAIL: rulebase $rulebase not found"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-conf.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# ------------------------------------------------------------------------------------------
# 1. product list -> $tmp/files (key, kind, relative file) and $tmp/products (key, label, has
#    our source: 1/0)
: > "$tmp/files"; : > "$tmp/products"
while IFS='|' read -r key label srcs kind globs; do
	[ -n "$key" ] || continue
	if [ -n "$only" ] && [ "$key" != "$only" ] && [ "${key#"$only"-}" = "$key" ]; then continue; fi
	have=0
	for s in $srcs; do
		for f in "$top"/rulebase/$s.rulebase "$maps"/$s.json; do
			[ -f "$f" ] && have=1
		done
	done
	n=0
	for g in $globs; do
		for f in "$samples"/$g; do
			[ -f "$f" ] || continue
			printf '%s\t%s\t%s\n' "$key" "$kind" "${f#"$samples"/}" >> "$tmp/files"; n=$((n + 1))
		done
	done
	[ $n -gt 0 ] && printf '%s\t%s\t%s\n' "$key" "$label" "$have" >> "$tmp/products"
done <<EOF
$PRODUCTS
EOF
if [ ! -s "$tmp/products" ]; then
	echo "FAIL: no product matches '${only}' or no sample files found under $samples"
	exit 1
fi

# 2. parse input per sample line: $tmp/meta (id, key, file, line, kind) and $tmp/in (one
#    line each, same order)
pdbexp=$samples/syslog-ng-patterndb/patterndb_access_sshd.expected.json
: > "$tmp/pdbprog"
[ -f "$pdbexp" ] && jq -r '.tests[] | "\(.line_in_log)\t\(.program)"' "$pdbexp" > "$tmp/pdbprog" 2>/dev/null

# parse_input: what Debian's rsyslogd 8.2302 (default parser chain rfc5424, rfc3164) puts
# into %syslogtag%%msg%. RFC 5424 ("[<PRI>]1 TS HOST APP PROCID MSGID SD MSG"): tag = APP or
# APP[PROCID], then MSG. RFC 3164: optional <PRI>, optional timestamp (RFC 3339, "Mmm dd
# [yyyy ]hh:mm:ss[.frac][:]" with a valid day, or "yyyy Mmm dd hh:mm:ss"), then a host name
# ([A-Za-z0-9._-]+ followed by a space; rsyslog takes it even without a timestamp), and
# everything after that space is tag + msg.
PARSE_INPUT_AWK='
function parse_input(l,    r, f, app, pid, D, DAY) {
	sub(/\r$/, "", l)
	if (match(l, /^<[0-9][0-9]?[0-9]?>/)) l = substr(l, RLENGTH + 1)
	if (match(l, /^1 [^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /)) {
		split(substr(l, 1, RLENGTH), f, " ")
		app = f[4]; pid = f[5]; r = substr(l, RLENGTH + 1)
		if (substr(r, 1, 1) == "-") r = substr(r, 2)
		else while (substr(r, 1, 1) == "[") {
			if (!match(r, /^\[([^\]"]|"([^"\\]|\\.)*")*\]/)) break
			r = substr(r, RLENGTH + 1)
		}
		# rsyslog gives up on an SD it cannot parse and keeps only the last character
		if (r != "" && r !~ /^ /) r = (r ~ /\]$/) ? "" : substr(r, length(r))
		sub(/^ /, "", r)
		# the module joins tag and msg with one space when msg does not start with one
		# (plugins/mmriskscore/mmriskscore.c, parse_input)
		return (pid == "-" ? app : app "[" pid "]") (r != "" ? " " r : "")
	}
	D = "[0-9][0-9]"; DAY = "( [1-9]|0[1-9]|[12][0-9]|3[01]|[1-9])"
	if (match(l, "^" D D "-" D "-" D "T" D ":" D ":" D "(\\.[0-9]+)?(Z|[+-]" D ":" D ") ") ||
	    match(l, "^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) " DAY " (" D D " )?[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?:? ") ||
	    match(l, "^" D D " (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) " DAY " [0-2][0-9]:[0-5][0-9]:[0-5][0-9] "))
		l = substr(l, RLENGTH + 1)
	if (match(l, /^[A-Za-z0-9._-]+ /)) l = substr(l, RLENGTH + 1)
	return l
}'

while IFS="$(printf '\t')" read -r key kind rel; do
	awk -v key="$key" -v kind="$kind" -v rel="$rel" -v meta="$tmp/meta" -v progs="$tmp/pdbprog" \
	"$PARSE_INPUT_AWK"'
	BEGIN { while ((getline l < progs) > 0) { split(l, a, "\t"); prog[a[1]] = a[2] } }
	{
		sub(/\r$/, "")
		if ($0 ~ /^[ \t]*$/) next
		if (kind == "json") out = $0
		else if (kind == "pdb") out = ((FNR in prog) ? prog[FNR] : "sshd") "[4242]: " $0
		else out = parse_input($0)
		print out
		printf "%s\t%s\t%d\t%s\n", key, rel, FNR, kind >> meta
	}' "$samples/$rel" >> "$tmp/in"
done < "$tmp/files"
[ -s "$tmp/in" ] || { echo "FAIL: no sample lines read"; exit 1; }

# 3. parse everything once
map_args=()
ls "$maps"/*.json >/dev/null 2>&1 && map_args=(-m "$maps")
if ! "$parse" -v -r "$rulebase" "${map_args[@]}" "$tmp/in" > "$tmp/out" 2> "$tmp/err"; then
	echo "FAIL: $parse exited with an error:"; sed 's/^/  /' "$tmp/err" | head -20; exit 1
fi
if [ "$(wc -l < "$tmp/out")" -ne "$(wc -l < "$tmp/in")" ]; then
	echo "FAIL: $parse printed $(wc -l < "$tmp/out") results for $(wc -l < "$tmp/in") lines"; exit 1
fi
# kind (identity / not_identity / unparsed), action, outcome, user, src_ip, via
jq -r '[ (if .unparsed then "unparsed" elif .not_identity then "not_identity" else "identity" end),
	 (.action // ""), (.outcome // ""), (.user // ""), (.src_ip // ""),
	 ((._via // "") | sub(" \\(compiled:.*"; "") | sub("^rule "; "") | sub("^mapping "; "map ")) ]
	| map(tostring | gsub("[\t\n]"; " ")) | join("\t")' "$tmp/out" > "$tmp/got"

# ------------------------------------------------------------------------------------------
# 4. classifier. Output per line: class (R/O/I), action, outcome, user, src_ip, note.
#    action/outcome/user/src_ip are "" when the classifier does not tell; src_ip "-" means
#    "the line names no client IP address".
#
# JSON sources (classified with jq):
#   Entra: category SignInLogs / NonInteractiveUserSignInLogs -> R auth (resultType 0 =
#     success, else failure; user = userPrincipalName, IP = callerIpAddress / ipAddress);
#     service principal / managed identity sign-ins -> O (no user).
#   Google Workspace login: login_success/login_failure -> R auth; login_challenge,
#     login_verification -> R mfa; logout -> R logout; account_disabled_*, password_edit,
#     recovery_*, 2sv enroll/disable -> R account; suspicious_*, risky_*, gov_attack_warning
#     -> O (provider alerts, no user action); anything else -> I.
#   Zscaler ZPA user activity (per-application connection records) -> O.
JSON_CLASSIFY='
def ip: if . == null or . == "" then "-" else . end;
def row(c; a; o; u; i; n): [c, a, o, (u // ""), (i // ""), n] | map(tostring | gsub("[\t\n]"; " ")) | join("\t");
(split("\t") | .[0]) as $key | (split("\t") | .[1:] | join("\t")) as $raw |
($raw | try fromjson catch null) as $j |
if $j == null then row("I"; ""; ""; ""; ""; "not JSON")
elif $key == "entra" then
	($j.properties // {}) as $p |
	($j.category // "") as $cat |
	# 0 = success; MFA prompts and interrupts (50074 50076 50072 50079 50140 50058 50097
	# 50125 50199, Microsoft error-code reference) are not failures: outcome not judged
	(($p.status.errorCode // $j.resultType) | tostring) as $rc |
	(if $rc == "0" then "success" elif ($rc | test("^(50074|50076|50072|50079|50140|50058|50097|50125|50199)$")) then "" else "failure" end) as $o |
	if ($cat == "SignInLogs" or $cat == "NonInteractiveUserSignInLogs") and ($p.userPrincipalName // "") != "" then
		row("R"; "auth"; $o; $p.userPrincipalName; ($j.callerIpAddress // $p.ipAddress | ip); "Entra \($cat)")
	else row("O"; "auth"; $o; ""; ""; "Entra \($cat) (not a user sign-in)") end
elif $key == "gws" then
	([$j.events] | flatten | .[0]) as $e | ($e.name // "") as $n |
	($j.actor.email // "") as $u | ($j.ipAddress | ip) as $i |
	if $n == "login_success" then row("R"; "auth"; "success"; $u; $i; "GWS \($n)")
	elif $n == "login_failure" then row("R"; "auth"; "failure"; $u; $i; "GWS \($n)")
	elif $n == "login_challenge" or $n == "login_verification" then row("R"; "mfa"; ""; $u; $i; "GWS \($n)")
	elif $n == "logout" then row("R"; "logout"; ""; $u; $i; "GWS \($n)")
	elif ($n | test("^(account_disabled_|password_edit|recovery_|2sv_)")) then row("R"; "account"; ""; $u; $i; "GWS \($n)")
	elif ($n | test("^(suspicious_|risky_|gov_attack)")) then row("O"; ""; ""; $u; $i; "GWS \($n) (alert)")
	else row("I"; ""; ""; ""; ""; "GWS \($n)") end
elif $key == "zpa" then row("O"; ""; ""; ""; ""; "ZPA app connection record")
else row("I"; ""; ""; ""; ""; "JSON, no classifier") end'

# Text sources (classify_text, awk). Per product:
#  Cisco ASA/FTD/PIX, by message id:
#   R  113004/113012 "AAA user authentication Successful" auth success; 113005/113015
#      "AAA user authentication Rejected" auth failure; 113021 console login failed; 605004
#      login denied / 605005 permitted; 611101/611102 user authentication; 716038/716039
#      WebVPN authentication; 113039 AnyConnect parent session, 716001 WebVPN session,
#      721016 WebVPN session created -> vpn_start; 113029 113030 113033 113035 113038
#      (session could not be established / terminated) -> vpn_start failure; 113019 (not
#      LAN-to-LAN), 716002, 721018 -> vpn_end; 722051, 751025 -> ip_assigned; 611103,
#      315011 (SSH session end) -> logout; 502103 -> privilege; 502101/502102, 113006
#      (locked out) -> account.
#   O  113004/113005 authorization and accounting, 113008/113009, 113031 113032 113034
#      113036 113037 113040 (ACL/attribute warnings, no user), 716003 (WebVPN URL access),
#      716058/716059 (session lost/resumed), 722022 722023 722028 722032 722055 (SVC
#      channel details), 734001 (DAP), 111008-111010 (commands), 713xxx with a user,
#      113028; any R id whose user is hidden ("*****") or empty, or whose values are Cisco
#      documentation placeholders (source-address, user_ip, privilege_level, aaa_type).
#   I  everything else (106xxx, 302xxx, 305xxx, 313xxx, 725xxx, 713xxx/750xxx/751xxx
#      site-to-site, 113019 LAN-to-LAN, ...).
#  Cisco ISE (step code after the header; continuation segments are O): 5200 auth success,
#   5400 auth failure (R); 3000 accounting start -> vpn_start, 3001 stop -> vpn_end (R);
#   3002 interim update, 5405 5411 5417 5418 5434 5435 5436 5440 (dropped requests,
#   supplicant/endpoint gave up, repeated-failure summaries, guest portal) -> O; others I.
#  FortiGate (key=value): type=event subtype=vpn action tunnel-up -> vpn_start,
#   tunnel-down -> vpn_end, ssl-login-fail -> auth failure (R); tunnel-stats -> O,
#   ssl-new-con -> O; subtype=user auth-logon / FSSO logon -> auth, auth-logout / FSSO
#   log off -> logout (R); subtype=system action=login -> auth (status), action=logout
#   -> logout (R); subtype=endpoint (FortiClient) -> O; R without a user -> O; all other
#   types (traffic, utm, anomaly, dns, system config, connector, ha, ...) -> I.
#  Pulse Connect Secure ("[client-ip] user(realm)[roles] - text"): Primary authentication
#   successful/failed, Login failed, Agent login succeeded/failed, Login succeeded -> auth;
#   Secondary authentication -> mfa; VPN Tunneling: Session started -> vpn_start, Session
#   ended -> vpn_end; Logout, Session timed out -> logout; User Accounts modified / Removed
#   username -> account (R). Session created / resumed / deleted, "User with IP ...
#   connected", realm restrictions passed, Closed connection -> O. WebRequest, System() ->
#   I. Source IP = the bracketed client address.
#  PAN-OS GLOBALPROTECT CSV (event column 9, user 13, public IP 16): portal-auth,
#   gateway-auth -> auth; gateway-connected, gateway-register -> vpn_start;
#   gateway-logout, gateway-disconnect*, portal-logout -> vpn_end (R); prelogin, getconfig,
#   hip-check/report, setup-ipsec/ssl, tunnel-latency, config-release, switch -> O.
#   AUTHENTICATION log type -> R auth (O for the synthetic line whose values are column
#   names); TRAFFIC/THREAT/SYSTEM/CONFIG/... -> I. Our src_ip = public IP (Elastic:
#   source.nat.ip).
#  Linux: sshd Accepted/Failed <method> (not "none") / Invalid|Illegal user / User ... not
#   allowed -> auth; Disconnected from user -> logout (R); pam_unix(sshd:...), Failed none,
#   max attempts, PAM n more failures, Connection closed/Disconnected by authenticating or
#   invalid user, input_userauth_request, message repeated -> O (SCHEMA.md §5); other sshd
#   lines (no user) -> I. sudo command / NOT in sudoers / incorrect password attempts ->
#   privilege (R); su "(to X) Y on", Successful su, FAILED SU, BAD SU, "failed: ...
#   changing from" -> privilege (R); pam_unix(su|sudo) and PAM session lines, su "+ tty",
#   sudo "(command continued)" -> O; useradd/userdel/usermod/passwd/chage/gpasswd events
#   naming a user -> account (R), new group -> O; login(1) ROOT LOGIN / LOGIN ON / FAILED
#   LOGIN -> auth (R); other programs -> I.
#  OpenVPN, Dropbear, doas, FortiAuthenticator: their authentication/privilege lines -> R.
#  Products without a classifier of their own (Check Point, SonicWall, Sophos, NetScreen,
#   OpenLDAP, ...): R when the Wazuh test section / message names a login, logon/logoff,
#   authentication or admin login, else I (counts only; false positives still count).
CLASSIFY_AWK='
function ipish(s) { return s ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ || (s ~ /^[0-9A-Fa-f:.]+$/ && s ~ /:.*:/) }
# value after the first match of regex re, up to (not including) any char of stop
function grab(s, re, stop,    i, c, v) {
	if (!match(s, re)) return ""
	s = substr(s, RSTART + RLENGTH); v = ""
	for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); if (index(stop, c)) break; v = v c }
	return v
}
# value after the first match of regex re, up to the first match of regex stop (or the end)
function grabre(s, re, stop) {
	if (!match(s, re)) return ""
	s = substr(s, RSTART + RLENGTH)
	return match(s, stop) ? substr(s, 1, RSTART - 1) : s
}
function kv(s, k,    v) {
	if (match(s, "(^| )" k "=\"")) return grab(s, "(^| )" k "=\"", "\"")
	return grab(s, "(^| )" k "=", " ")
}
function out(c, a, o, u, i, n) {
	# a header rsyslog cannot split leaves no usable tag: the line may be parsed, not required
	if (downgrade && c == "R") { c = "O"; n = "header rsyslog does not split; " n }
	printf "%s\t%s\t%s\t%s\t%s\t%s\n", c, a, o, u, i, n
}
# first n words of s: a message-type label, not a copy of the line
function words(s, n,    a, k, r) { n = split(s, a, " ") < n ? split(s, a, " ") : n; r = ""; for (k = 1; k <= n; k++) r = r (k > 1 ? " " : "") a[k]; return r }
function masked(u) { return u == "" || u ~ /^\*+$/ }
function placeholder(s) { return s ~ /source-address|user_ip|privilege_level|aaa_type|server_[0-9]|user IP = user|interface:destination/ }

function cisco(t,    id, m, u, i, o, n, isr) {
	if (!match(t, /%(ASA|FTD|PIX)-([a-z]+-)?[0-7]-[0-9][0-9][0-9][0-9][0-9][0-9]: /)) { out("I", "", "", "", "", "no Cisco message id"); return }
	id = substr(t, RSTART + RLENGTH - 8, 6); m = substr(t, RSTART + RLENGTH); n = "ASA " id
	if (placeholder(m) && id ~ /^(113004|113005|113006|502101|502102|502103|605004|605005|611101|611102)$/) { out("O", "", "", "", "", n " (documentation placeholders)"); return }
	if (id == "113004" || id == "113012") {
		if (m !~ /^AAA user authentication Successful/) { out("O", "", "", "", "", n " authorization/accounting"); return }
		u = grabre(m, "[Uu]ser = ", " ?: |:$|, | *$"); out(masked(u) ? "O" : "R", "auth", "success", u, "-", n " AAA authentication ok"); return
	}
	if (id == "113005" || id == "113015") {
		if (m !~ /^AAA user authentication Rejected/) { out("O", "", "", "", "", n " authorization rejected"); return }
		u = grabre(m, " [Uu]ser = ", " ?: |:$|, | *$"); i = grab(m, "user IP = ", " :,"); if (!ipish(i)) i = "-"
		out(masked(u) ? "O" : "R", "auth", "failure", u, i, n " AAA authentication rejected"); return
	}
	if (id == "113021") { u = grab(m, "[Uu]ser ", " "); out("R", "auth", "failure", u, "-", n " console login failed"); return }
	if (id == "605004" || id == "605005") {
		u = grab(m, "for user \"", "\""); i = grab(m, "from ", "/ ")
		out(masked(u) ? "O" : "R", "auth", id == "605005" ? "success" : "failure", u, ipish(i) ? i : "-", n " login " (id == "605005" ? "permitted" : "denied")); return
	}
	if (id == "611101" || id == "611102") {
		u = grab(m, "Uname: ", " "); i = grab(m, "IP address: ", " ,")
		out(masked(u) ? "O" : "R", "auth", id == "611101" ? "success" : "failure", u, ipish(i) ? i : "-", n " user authentication"); return
	}
	if (id == "716038" || id == "716039") {
		u = grab(m, "User <", ">"); i = grab(m, "IP <", ">")
		out(masked(u) ? "O" : "R", "auth", id == "716038" ? "success" : "failure", u, ipish(i) ? i : "-", n " WebVPN authentication"); return
	}
	if (id == "113019") {
		if (m ~ /LAN-to-LAN/) { out("I", "", "", "", "", n " LAN-to-LAN tunnel"); return }
		u = grab(m, "Username = ", ","); i = grab(m, "IP = ", ",")
		out(masked(u) ? "O" : "R", "vpn_end", "", u, ipish(i) ? i : "-", n " VPN session disconnected"); return
	}
	if (id ~ /^(113039|113029|113030|113033|113035|113038|716001|716002|722051|722028|722032|722055|716058|716059|716003|722022|722023|113031|113032|113034|113036)$/) {
		if (m ~ /User </) { u = grab(m, "User <", ">"); i = grab(m, "IP <", ">") }
		else { u = grab(m, "User ", " "); i = grab(m, "IP ", " ") }
		if (u == "IP") u = ""
		isr = 1; o = ""
		if (id == "113039" || id == "716001") a = "vpn_start"
		else if (id ~ /^1130(29|30|33|35|38)$/) { a = "vpn_start"; o = "failure" }
		else if (id == "716002") a = "vpn_end"
		else if (id == "722051") { a = "ip_assigned"; i = grab(m, "IP <", ">"); if (i == "") i = grab(m, "IP ", " ") }
		else { a = ""; isr = 0 }
		if (!isr) { out("O", "", "", u, "", n " session/channel detail"); return }
		out(masked(u) ? "O" : "R", a, o, u, ipish(i) ? i : "-", n " " a); return
	}
	if (id == "751025") {
		u = grab(m, "Username:", " "); i = grab(m, "Remote:", " "); sub(/:[0-9]+$/, "", i)
		out(masked(u) ? "O" : "R", "ip_assigned", "", u, ipish(i) ? i : "-", n " address assigned"); return
	}
	if (id == "721016" || id == "721018") {
		u = grab(m, "client user ", ","); i = grab(m, ", IP(v4)? ", " ")
		out(masked(u) ? "O" : "R", id == "721016" ? "vpn_start" : "vpn_end", "", u, ipish(i) ? i : "-", n " WebVPN session " (id == "721016" ? "created" : "deleted")); return
	}
	if (id == "611103") { u = grab(m, "Uname: ", " "); out(masked(u) ? "O" : "R", "logout", "", u, "-", n " user logged out"); return }
	if (id == "315011") {
		u = grab(m, "for user \"", "\""); if (u == "") u = grab(m, "for user ", " ")
		i = grab(m, "SSH session from ", " "); out(masked(u) ? "O" : "R", "logout", "", u, ipish(i) ? i : "-", n " SSH session end"); return
	}
	if (id == "502103") { u = grab(m, "Uname: ", " "); out(masked(u) ? "O" : "R", "privilege", "", u, "-", n " privilege level changed"); return }
	if (id == "502101" || id == "502102") { u = grab(m, "Uname: ", " "); out(masked(u) ? "O" : "R", "account", "", u, "-", n " local user " (id == "502101" ? "added" : "deleted")); return }
	if (id == "113006") { u = grab(m, "User ", " "); out(masked(u) ? "O" : "R", "account", "", u, "-", n " user locked out"); return }
	if (id ~ /^(113008|113009|113028|113037|113040|734001|111008|111009|111010)$/ || (id ~ /^713/ && m ~ /Username = /)) {
		out("O", "", "", "", "", n " AAA/DAP/command detail"); return
	}
	out("I", "", "", "", "", n)
}

function ise(t,    f, code, seg, u) {
	split(t, f, " ")
	seg = f[4]; code = f[9]   # category, message id, total segments, segment number, date, time, tz, sequence, step code
	if (seg != "0" || code !~ /^[0-9][0-9][0-9][0-9]$/) { out("O", "", "", "", "", "ISE continuation segment"); return }
	u = kv(t, "User-Name"); if (u == "") u = kv(t, "UserName"); sub(/,$/, "", u)
	if (code == "5200") { out("R", "auth", "success", u, "", "ISE 5200 authentication succeeded"); return }
	if (code == "5400") { out("R", "auth", "failure", u, "", "ISE 5400 authentication failed"); return }
	if (code == "3000") { out("R", "vpn_start", "", u, "", "ISE 3000 accounting start"); return }
	if (code == "3001") { out("R", "vpn_end", "", u, "", "ISE 3001 accounting stop"); return }
	if (code ~ /^(3002|5405|5411|5417|5418|5434|5435|5436|5440)$/) { out("O", "", "", u, "", "ISE " code); return }
	out("I", "", "", "", "", "ISE " code)
}

function forti(t,    ty, st, ac, u, i, o, ld, a, c) {
	ty = kv(t, "type"); st = kv(t, "subtype"); ac = kv(t, "action"); ld = kv(t, "logdesc")
	u = kv(t, "user"); if (u == "N/A") u = ""
	i = kv(t, "remip"); if (i == "") i = kv(t, "srcip"); if (i == "") i = grab(t, " ui=[a-z]+\\(", ")")
	if (!ipish(i)) i = "-"
	o = kv(t, "status"); o = (o ~ /^(success|succeeded)$/) ? "success" : (o ~ /^fail/ ? "failure" : "")
	if (ac ~ /fail/ || ld ~ /[Ff]ail/) o = "failure"
	a = ""; c = "I"
	if (ty == "event" && st == "vpn") {
		if (ac == "tunnel-up") a = "vpn_start"; else if (ac == "tunnel-down") a = "vpn_end"
		else if (ac ~ /^ssl-login/) { a = "auth"; if (o == "") o = (ac ~ /fail/ ? "failure" : "success") }
		else if (ac == "tunnel-stats" || ac == "ssl-new-con") c = "O"
		if (a ~ /^vpn/ && o == "") o = ""
	} else if (ty == "event" && st == "user") {
		if (ac ~ /logon/ || ld ~ /logon/) a = "auth"; else if (ac ~ /logout|logoff/ || ld ~ /log ?off|logout/) a = "logout"
	} else if (ty == "event" && st == "system") {
		if (ac == "login") a = "auth"; else if (ac == "logout") a = "logout"
	} else if (ty == "event" && st == "endpoint") c = "O"
	if (a != "") c = (u == "" ? "O" : "R")
	# the Wazuh samples anonymised logid to 9999999999 on unrelated lines too; the mapping keys
	# on logid (IPsec reuses the action names), so such a line cannot be judged: optional
	if (c == "R" && kv(t, "logid") == "9999999999") c = "O"
	out(c, a, a == "auth" ? o : "", u, i, "FortiGate " ty "/" st (ac != "" ? " " ac : ""))
}

function pulse(t,    m, u, i, a, o, c) {
	m = t; sub(/^[^]]*\] /, "", m)
	i = grab(t, " \\[", "]")
	u = grab(t, "\\] (Default Network::)?", "(")
	if (match(m, /\]+ - /)) m = substr(m, RSTART + RLENGTH); else sub(/^.* - /, "", m)
	a = ""; o = ""; c = "R"
	if (m ~ /^Primary authentication successful/ || m ~ /^Login succeeded/) { a = "auth"; o = "success" }
	else if (m ~ /^Agent login succeeded/) { a = "auth|vpn_start"; o = "success" }
	else if (m ~ /^Login failed/ || m ~ /^Agent login failed/) { a = "auth"; o = "failure" }
	# logged together with "Login failed ... Reason:" for the same attempt (SCHEMA.md §5)
	else if (m ~ /^Primary authentication failed/) c = "O"
	else if (m ~ /^Secondary authentication successful/) { a = "mfa"; o = "success" }
	else if (m ~ /^Secondary authentication failed/) { a = "mfa"; o = "failure" }
	else if (m ~ /^VPN Tunneling: Session started/) a = "vpn_start"
	else if (m ~ /^VPN Tunneling: Session ended/) a = "vpn_end"
	else if (m ~ /^Logout from/ || m ~ /^Session timed out/) a = "logout"
	else if (m ~ /^User Accounts modified/) { a = "account"; u = grab(m, "username ", " ") }
	else if (m ~ /^(Session created|Session resumed|Session:\[|VPN Tunneling: User with IP|User Limit realm|Closed connection|Remote address for user)/) c = "O"
	else c = "I"
	if (c == "R" && (u == "" || u == "System")) c = "O"
	if (!ipish(i) || i == "127.0.0.1") i = "-"
	out(c, a, o, u, i, "Pulse " words(m, 4))
}

# split a CSV line (double quotes) into arr, returns the number of fields
function csv(s, arr,    n, q, c, v, k) {
	n = 0; v = ""; q = 0
	for (k = 1; k <= length(s); k++) {
		c = substr(s, k, 1)
		if (q) { if (c == "\"") { if (substr(s, k + 1, 1) == "\"") { v = v c; k++ } else q = 0 } else v = v c }
		else if (c == "\"") q = 1
		else if (c == ",") { arr[++n] = v; v = "" }
		else v = v c
	}
	arr[++n] = v
	return n
}
function panos(t,    f, ty, ev, u, i, o, a, c) {
	csv(t, f); ty = f[4]
	if (ty == "AUTHENTICATION") {
		if (f[10] == "user" && f[11] == "normalize-user") { out("O", "", "", "", "", "PAN-OS AUTHENTICATION synthetic (column names)"); return }
		out("R", "auth", "", f[10], ipish(f[9]) ? f[9] : "-", "PAN-OS AUTHENTICATION"); return
	}
	if (ty != "GLOBALPROTECT") { out("I", "", "", "", "", "PAN-OS " ty); return }
	ev = f[9]; u = f[13]; i = f[16]; if (!ipish(i) || i == "0.0.0.0") i = "-"
	o = (t ~ /,success,/) ? "success" : (t ~ /,failure,/ ? "failure" : "")
	a = ""; c = "O"
	if (ev ~ /^(portal|gateway)-auth$/) a = "auth"
	else if (ev ~ /^gateway-(connected|register)$/) a = "vpn_start"
	else if (ev ~ /^(gateway-(logout|disconnect)|portal-logout)/) a = "vpn_end"
	if (a != "") c = (u == "" ? "O" : "R")
	out(c, a, a == "auth" ? o : "", u, i, "GlobalProtect " ev)
}

function linux(t,    prog, m, u, i, a, o, c) {
	prog = t; sub(/[\[(:].*$/, "", prog)
	m = t; if (!sub(/^[^:]*: /, "", m)) m = ""
	sub(/^ +/, "", m)
	a = ""; o = ""; u = ""; i = ""; c = "I"
	if (m ~ /^ROOT LOGIN ON /) { a = "auth"; o = "success"; u = "root"; i = "-" }   # login(1), also with an odd tag
	else if (prog == "sshd" || prog == "sshd-session") {
		if (t ~ /^sshd\(pam_unix\)/ || m ~ /^pam_unix\(sshd:/) { if (m ~ /user=|for user/) c = "O" }
		else if (m ~ /^Accepted [^ ]+ for [^ ]+ from /) { a = "auth"; o = "success"; u = grab(m, "^Accepted [^ ]+ for ", " "); i = grab(m, " from ", " ") }
		else if (m ~ /^Failed none /) c = "O"
		else if (m ~ /^Failed [^ ]+ for /) { a = "auth"; o = "failure"; u = grab(m, "^Failed [^ ]+ for ((invalid|illegal) user )?", " "); i = grab(m, " from ", " ") }
		else if (m ~ /^(Invalid|Illegal) user /) { a = "auth"; o = "failure"; u = grab(m, "^(Invalid|Illegal) user ", " "); if (u == "from") u = ""; i = grab(m, " from ", " ") }
		else if (m ~ /^User [^ ]+ from [^ ]+ not allowed because/) { a = "auth"; o = "failure"; u = grab(m, "^User ", " "); i = grab(m, " from ", " ") }
		else if (m ~ /^Disconnected from user /) { a = "logout"; u = grab(m, "^Disconnected from user ", " "); i = grab(m, "^Disconnected from user [^ ]+ ", " ") }
		else if (m ~ /maximum authentication attempts exceeded|^PAM [0-9]+ more authentication|^[0-9]+ more authentication failures|^(Connection closed|Connection reset|Disconnected) by (authenticating|invalid) user|^Disconnected from invalid user|^Disconnecting invalid user|^Disconnecting: Too many authentication failures|^input_userauth_request|^message repeated|^Postponed|^error: PAM: |^pam_succeed_if|^\(pam_unix\)|^Authorized to /) c = "O"
	} else if (prog == "sudo") {
		if (m ~ /^pam_unix|^PAM|\(command continued\)/) c = "O"
		else if (m ~ /^[^ ]+ : .*(COMMAND=|NOT in sudoers|incorrect password|command not allowed|no passwd entry)/) {
			a = "privilege"; u = grab(m, "^", " "); i = "-"
			o = (m ~ /NOT in sudoers|incorrect password|not allowed|no passwd entry/) ? "failure" : "success"
		}
	} else if (prog == "su") {
		if (t ~ /^su\(pam_unix\)/ || m ~ /^pam_unix|^\+ |^- /) c = "O"
		else if (m ~ /^FAILED SU \(to /) { a = "privilege"; o = "failure"; u = grab(m, "\\) ", " ") }
		else if (m ~ /^\(to [^)]*\) [^ ]+ on/) { a = "privilege"; o = "success"; u = grab(m, "\\) ", " ") }
		else if (m ~ /^Successful su for /) { a = "privilege"; o = "success"; u = grab(m, " by ", " ") }
		else if (m ~ /^FAILED su for /) { a = "privilege"; o = "failure"; u = grab(m, " by ", " ") }
		else if (m ~ /^BAD SU /) { a = "privilege"; o = "failure"; u = grab(m, "^BAD SU ", " ") }
		else if (m ~ /^failed: .* changing from /) { a = "privilege"; o = "failure"; u = grab(m, " changing from ", " ") }
		else if (m ~ /^[^ ]+ to [^ ]+ on /) { a = "privilege"; o = "success"; u = grab(m, "^", " ") }
		if (a != "") i = "-"
	} else if (prog ~ /^(useradd|userdel|usermod|groupadd|groupdel|gpasswd|passwd|chpasswd|chage)$/) {
		if (m ~ /^new group:|group added|^group /) c = "O"
		else if (m ~ /^new user: name=/) { a = "account"; u = grab(m, "name=", ",") }
		else if (m ~ "(delete|lock|unlock|change) user \047") { a = "account"; u = grab(m, "user \047", "\047") }
		else if (m ~ /password changed for /) { a = "account"; u = grab(m, "password changed for ", " ") }
		else if (m ~ "^add \047[^\047]*\047 to group") { a = "account"; u = grab(m, "add \047", "\047") }
		if (a != "") { i = "-"; o = "success" }
	} else if (prog == "login") {
		if (m ~ /^ROOT LOGIN/) { a = "auth"; o = "success"; u = "root"; i = "-" }
		else if (m ~ /^LOGIN ON [^ ]+ BY /) { a = "auth"; o = "success"; u = grab(m, " BY ", " "); i = "-" }
		else if (m ~ /^FAILED LOGIN/) { a = "auth"; o = "failure"; u = grab(m, "FOR \047?", " \047"); i = "" }
		else if (m ~ /pam_unix|session (opened|closed)/) c = "O"
	}
	if (a != "") c = (u == "" ? "O" : "R")
	if (c == "R" && i != "-" && i != "" && !ipish(i)) i = "-"
	out(c, a, o, u, i, prog " " words(m, 3))
}

function other(key, t, sect,    s) {
	s = sect " " t
	if (key == "openvpn") {
		if (t ~ /Incorrect password supplied for LDAP DN/) { out("R", "auth", "failure", "", "", "OpenVPN LDAP password failure"); return }
		if (t ~ /LDAP bind failed|AUTH_FAILED|TLS Auth Error/) { out("O", "auth", "failure", "", "", "OpenVPN auth failure without a user"); return }
		if (t ~ /Peer Connection Initiated|MULTI: primary virtual IP/) { out("R", "vpn_start", "", "", "", "OpenVPN session"); return }
		out("I", "", "", "", "", "OpenVPN"); return
	}
	if (key == "dropbear") {
		if (t ~ /(Bad password attempt|Login attempt for nonexistent user|auth succeeded|Password auth succeeded)/) { out("R", "auth", t ~ /succeeded/ ? "success" : "failure", "", "", "Dropbear auth"); return }
		out("I", "", "", "", "", "Dropbear"); return
	}
	if (key == "doas") { out(t ~ /doas: / ? "R" : "I", "privilege", t ~ /failed/ ? "failure" : "success", "", "-", "doas"); return }
	if (key == "fortiauth") {
		if (t ~ /subcategory="Authentication"/) { out("R", "auth", t ~ /status="Success"/ ? "success" : (t ~ /status="Failed"/ ? "failure" : ""), kv(t, "user"), "", "FortiAuthenticator authentication"); return }
		out("I", "", "", "", "", "FortiAuthenticator"); return
	}
	if (s ~ /([Ll]ogin|[Ll]ogon|[Ll]ogoff|[Ll]ogged (in|out)|[Aa]uthentication|[Aa]uthorize|admin login|BIND dn)/ && s !~ /traffic (allowed|denied|drop|detect|clean)|[Dd]ecryption/) {
		out("R", "", "", "", "", "generic: " substr(sect, 1, 50)); return
	}
	out("I", "", "", "", "", "generic: " substr(sect, 1, 50))
}

{
	key = $1; t = $2; sect = $3
	if (key == "asa" || key == "pix") cisco(t)
	else if (key == "ise") { if (t ~ /%(ASA|FTD)-/) cisco(t); else ise(t) }
	else if (key == "fortigate") forti(t)
	else if (key == "pulse") pulse(t)
	else if (key == "panos") panos(t)
	else if (key ~ /^linux-/) {
		# e.g. "08:38:42.344447-0700  localhost sshd[2519]: ..." (ISO date with a space: rsyslog
		# takes the date as host name and the time as tag): classify the embedded line, as O
		if (t !~ /^[A-Za-z][^ :]*(\[[0-9]+\])?:/ && t !~ /^ -- / && match(t, / [A-Za-z][A-Za-z0-9_.()-]*(\[[0-9]+\])?: /)) {
			downgrade = 1; linux(substr(t, RSTART + 1)); downgrade = 0
		} else linux(t)
	}
	else other(key, t, sect)
}'

# Wazuh test sections (human descriptions per line), keyed "file:line"
: > "$tmp/wazuh"
for f in "$samples"/wazuh/*.expected.json; do
	[ -f "$f" ] || continue
	rel=${f#"$samples"/}; rel=${rel%.expected.json}.log
	jq -r --arg f "$rel" '.tests | to_entries[] | "\($f):\(.key + 1)\t\(.value.section)\t\(.value.expect_match)"' "$f" >> "$tmp/wazuh" 2>/dev/null
done

# classify: text lines with awk, JSON lines with jq; merged back in input order
paste "$tmp/meta" "$tmp/in" | awk -F'\t' -v wz="$tmp/wazuh" '
	BEGIN { while ((getline l < wz) > 0) { split(l, a, "\t"); sect[a[1]] = a[2] } }
	{ k = $2 ":" $3; s = (k in sect) ? sect[k] : ""; gsub(/\t/, " ", s)
	  t = $0; for (n = 1; n <= 4; n++) sub(/^[^\t]*\t/, "", t)
	  print $1 "\t" t "\t" s > (($4 == "json") ? "/dev/stderr" : "/dev/stdout") }' \
	> "$tmp/text.cls.in" 2> "$tmp/json.cls.in"
awk -F'\t' "$CLASSIFY_AWK" "$tmp/text.cls.in" > "$tmp/text.cls"
cut -f1,2 "$tmp/json.cls.in" | jq -R -r "$JSON_CLASSIFY" > "$tmp/json.cls"
awk -F'\t' -v tc="$tmp/text.cls" -v jc="$tmp/json.cls" '
	{ if ($4 == "json") { getline l < jc } else { getline l < tc } print l }' "$tmp/meta" > "$tmp/cls"

# ------------------------------------------------------------------------------------------
# 5. third-party references, keyed "file:line": src, user, src_ip, outcome, action class,
#    partial note
: > "$tmp/ref"
for f in "$samples"/elastic/*/*.expected.condensed.json; do
	[ -f "$f" ] || continue
	rel=${f#"$samples"/}; rel=${rel%.expected.condensed.json}.log
	jq -r --arg f "$rel" '
	def cls:
		(.["event.action"] // "") as $a | ([.["event.category"]] | flatten | map(select(. != null))) as $c |
		([.["event.type"]] | flatten | map(select(. != null))) as $t |
		if ($a | test("^(logged-in|logon-failed|ssh_login|login_success|login_failure|login_verification|login_challenge|login|Sign-in activity)$")) then "auth"
		elif ($a | test("^(client-vpn-connected|address-assigned|client-vpn-error)$")) then "start"
		elif ($a | test("^(client-vpn-disconnected|logout)$")) then "end"
		elif $a == "privilege-level-changed" then "privilege"
		elif ($c | index(["iam"])) and (($t | index(["creation"])) or ($t | index(["deletion"]))) then "account"
		elif ($t | index(["end"])) and (($c | index(["session"])) or ($c | index(["authentication"]))) then "end"
		elif ($c | index(["authentication"])) then "auth"
		elif ($t | index(["start"])) and ($c | index(["session"])) then "start"
		else "" end;
	def ipv: if . == null or (tostring | test("^<")) then "" else tostring end;
	.events[] |
	(.["user.name"] // .["source.user.name"] // .["server.user.name"] // "") as $u |
	# PAN-OS GlobalProtect: Elastic puts the private IP in source.ip, the public one in
	# source.nat.ip; our src_ip is the public address
	# (client.ip is not used: for Cisco ISE it is the network device)
	(if ($f | startswith("elastic/panw/")) then .["source.nat.ip"] else .["source.ip"] end | ipv) as $ip |
	# Entra: the condensed file is a "mapping reference only" taken from an older variant of
	# the lines (other IPs, other categories): only the user is compared
	(if ._values_from_older_variant then "" else $ip end) as $ip |
	# Elastic maps login_verification with is_second_factor=false to failure although the
	# challenge passed (noted in the condensed file): no outcome reference for it
	(if .["event.action"] == "login_verification" or ._values_from_older_variant then "" else (.["event.outcome"] // "") end) as $o |
	[ "\($f):\(.line_in_log)", "elastic", $u, $ip, $o, cls,
	  ((._partial // "") + (if ._values_from_older_variant then "values from an older variant of the line" else "" end)) ]
	| map(tostring | gsub("[\t\n]"; " ")) | join("\t")' "$f" >> "$tmp/ref" 2>/dev/null
done
if [ -f "$pdbexp" ]; then
	# patterndb names the TARGET account (root) as usracct.username for sudo/su and calls them
	# "login": no user/action reference for those programs (we key on the invoking user)
	jq -r '.tests[] | (.expected_test_values // {}) as $v | (.rule_static_values // {}) as $s |
		(.program == "sudo" or .program == "su") as $priv |
		[ "syslog-ng-patterndb/patterndb_access_sshd.log:\(.line_in_log)", "patterndb",
		  (if $priv then "" else ($v["usracct.username"] // "") end),
		  (($v["usracct.device"] // "") | if test("^[0-9.]+$|:.*:") then . else "" end),
		  (if $s["secevt.verdict"] == "ACCEPT" then "success" elif $s["secevt.verdict"] == "REJECT" then "failure" else "" end),
		  (if $priv then "" elif $s["usracct.type"] == "login" then "auth" elif $s["usracct.type"] == "logout" then "end" else "" end), "" ]
		| map(tostring | gsub("[\t\n]"; " ")) | join("\t")' "$pdbexp" >> "$tmp/ref" 2>/dev/null
fi
# loghub: structured CSV (Content, EventTemplate); values at "<*>" after for/user/user= are
# the user, after from/rhost= the source IP (only IP-looking values are kept)
for f in "$samples"/loghub/*.expected.csv; do
	[ -f "$f" ] || continue
	rel=${f#"$samples"/}; rel=${rel%.expected.csv}.log
	tr -d '\r' < "$f" | awk -v rel="$rel" "$(printf '%s\n' "$CLASSIFY_AWK" | sed -n '/^function csv/,/^}/p')"'
	function ipish(s) { return s ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ }
	NR == 1 { next }
	{
		n = csv($0, c); content = c[n - 2]; tpl = c[n]
		np = split(tpl, piece, /<\*>/)
		if (np < 2) next
		rest = content; u = ""; ip = ""
		if (substr(rest, 1, length(piece[1])) != piece[1]) next
		rest = substr(rest, length(piece[1]) + 1)
		for (k = 2; k <= np; k++) {
			if (k < np || piece[k] != "") {
				p = index(rest, piece[k]); if (piece[k] == "" || p == 0) break
				v = substr(rest, 1, p - 1); rest = substr(rest, p + length(piece[k]))
			} else { v = rest; rest = "" }
			pre = piece[k - 1]
			if (u == "" && pre ~ /(for|user|user=) ?$/ && pre !~ /getaddrinfo for $/) u = v
			if (ip == "" && pre ~ /(from|rhost=) ?$/ && ipish(v)) ip = v
		}
		if (u != "" || ip != "") printf "%s:%d\tloghub\t%s\t%s\t\t\t\n", rel, c[1], u, ip
	}' >> "$tmp/ref"
done

# ------------------------------------------------------------------------------------------
# 6. evaluate and report
paste "$tmp/meta" "$tmp/cls" "$tmp/got" > "$tmp/rows"
shown_samples=$samples
[ "$(cd "$samples" && pwd -P)" = "$(cd "$top/.." && pwd -P)/shared/samples" ] && shown_samples=../shared/samples
if [ -n "$dump" ]; then
	paste "$tmp/rows" "$tmp/in" | awk -F'\t' 'BEGIN { OFS = "\t"; print "product", "line", "class", "x_action", "x_outcome", "x_user", "x_src_ip", "note", "got", "action", "outcome", "user", "src_ip", "via", "input" }
		{ print $1, $2 ":" $3, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 }' > "$dump"
fi
#  rows: 1 key 2 file 3 line 4 kind | 5 class 6 x_action 7 x_outcome 8 x_user 9 x_ip 10 note |
#        11 kind 12 action 13 outcome 14 user 15 src_ip 16 via
awk -F'\t' -v products="$tmp/products" -v refs="$tmp/ref" -v wz="$tmp/wazuh" -v inputs="$tmp/in" \
	-v md="$report" -v thr="$threshold" -v pfloor="$product_floor" -v notes="$top/tests/rulebase/conformance-notes.md" -v samples="$shown_samples" -v only="$only" '
function norm(u) { u = tolower(u); sub(/^.*\\/, "", u); sub(/@.*$/, "", u); gsub(/^ +| +$/, "", u); return u }
function normip(i) { i = tolower(i); sub(/^::ffff:/, "", i); return i }
# class of an action; "a|b" (classifier accepts either) -> "|ca|cb|"
function aset(a,    n, k, parts, r) { n = split(a, parts, "|"); r = "|"; for (k = 1; k <= n; k++) r = r aclass(parts[k]) "|"; return r }
function aclass(a) {
	if (a ~ /^(auth|mfa|sso)$/) return "auth"
	if (a ~ /^(vpn_start|ip_assigned)$/) return "start"
	if (a ~ /^(vpn_end|logout)$/) return "end"
	if (a == "vpn_stats") return "stats"
	return a
}
function short(s, n) { return length(s) > n ? substr(s, 1, n - 3) "..." : s }
function add(p, what) { cnt[p, what]++ }
function line(s) { print s; if (md != "") mdtext = mdtext s "\n" }
BEGIN {
	while ((getline l < products) > 0) { split(l, a, "\t"); np++; pkey[np] = a[1]; plabel[a[1]] = a[2]; phave[a[1]] = a[3] }
	while ((getline l < refs) > 0) {
		split(l, a, "\t"); k = a[1]
		rsrc[k] = a[2]; ruser[k] = a[3]; rip[k] = a[4]; rout[k] = a[5]; rcls[k] = a[6]; rpart[k] = a[7]
	}
	while ((getline l < wz) > 0) { split(l, a, "\t"); wsect[a[1]] = a[2] }
}
{
	getline text < inputs
	p = $1; k = $2 ":" $3; c = $5
	add(p, "lines")
	ident = ($11 == "identity")
	if (c == "O") { add(p, "optional"); if (ident) add(p, "optional_parsed"); next }
	if (c == "I") {
		if (ident) {
			add(p, "fp"); nfp++
			fp[nfp] = sprintf("%s  %s  ours: %s/%s user=%s src_ip=%s via %s  classifier: %s%s",
				plabel[p], k, $12, $13, $14, $15, $16, $10, (k in wsect) ? "; wazuh: " wsect[k] : "")
			fptext[nfp] = short(text, 300)
		}
		next
	}
	# relevant
	add(p, "relevant")
	if ($11 != "identity") { add(p, $11) }
	else add(p, "identity")
	# reference values: third party first, classifier otherwise
	tp = (k in rsrc)
	xu = (tp && ruser[k] != "" && ruser[k] !~ /^\*+$/) ? ruser[k] : $8; xus = (tp && ruser[k] != "" && ruser[k] !~ /^\*+$/) ? rsrc[k] : "classifier"
	xi = (tp && rip[k] != "") ? rip[k] : $9; xis = (tp && rip[k] != "") ? rsrc[k] : "classifier"
	xo = (tp && rout[k] ~ /^(success|failure)$/) ? rout[k] : $7; xos = (tp && rout[k] ~ /^(success|failure)$/) ? rsrc[k] : "classifier"
	xc = (tp && rcls[k] != "") ? "|" rcls[k] "|" : ($6 != "" ? aset($6) : ""); xcs = (tp && rcls[k] != "") ? rsrc[k] : "classifier"
	why = ""; cat = ""
	if (!ident) { cat = $11; why = " " $11 }
	else {
		gc = aclass($12)
		# user
		if (xu != "") {
			okf = (norm(xu) == norm($14))
			if (xus != "classifier") { add(p, "u_cmp"); if (okf) add(p, "u_ok") }
			if (!okf) why = why sprintf(" user=%s (%s: %s)", $14 == "" ? "-" : $14, xus, xu)
		} else if ($14 == "") why = why " no user"
		# source IP ("-": the line has none)
		if (xi != "" && xi != "-") {
			okf = (normip(xi) == normip($15))
			if (xis != "classifier") { add(p, "i_cmp"); if (okf) add(p, "i_ok") }
			if (!okf) why = why sprintf(" src_ip=%s (%s: %s)", $15 == "" ? "-" : $15, xis, xi)
		}
		# outcome: exact for auth-class events; "unknown" agrees with "success" otherwise
		if (xo ~ /^(success|failure)$/) {
			okf = ($13 == xo) || (gc != "auth" && xo == "success" && $13 == "unknown")
			if (xos != "classifier") { add(p, "o_cmp"); if (okf) add(p, "o_ok") }
			if (!okf) why = why sprintf(" outcome=%s (%s: %s)", $13, xos, xo)
		}
		rightfields = (why == "")
		# action class (reported, not part of "right")
		if (xc != "") {
			okf = index(xc, "|" gc "|") > 0
			if (xcs != "classifier") { add(p, "a_cmp"); if (okf) add(p, "a_ok") }
			if (!okf) { xcp = xc; gsub(/^\||\|$/, "", xcp); why = why sprintf(" action=%s (%s: %s)", $12, xcs, xcp) }
		}
		if (rightfields) add(p, "right")
		if (why != "") cat = (tp && rpart[k] != "" && rpart[k] !~ /^values from an older/) ? "reference partial" : "field differs"
	}
	if (why != "" && phave[p]) {
		nmiss++
		miss[nmiss] = sprintf("%s  %s  [%s]%s\n      classifier: %s%s%s%s", plabel[p], k, cat, why, $10,
			$16 != "" ? "; via " $16 : "", (k in wsect) ? "; wazuh: " wsect[k] : "",
			(tp && rpart[k] != "") ? "; reference: " rpart[k] : "")
		misstext[nmiss] = short(text, 300)
		misscat[cat]++
	}
}
function ratio(a, b) { return b ? sprintf("%d/%d", a, b) : "-" }
END {
	hdr = sprintf("%-34s %6s %5s %5s | %5s %5s %5s | %5s %4s | %7s %7s %7s %7s | %3s", "product", "lines", "rel", "opt", "ident", "notid", "unpar", "right", "%", "user", "src_ip", "outcome", "action", "FP")
	line("mmriskscore conformance against third-party samples (" samples ", the parse tool with the combined rulebase and all mappings)")
	line("rel = identity/VPN-relevant lines; opt = optional (identity-related, not required); ident/notid/unpar = what the")
	line("relevant lines became; right = parsed with right user+source IP+outcome; user..action = agree/compared with")
	line("the third-party expected fields (Elastic, syslog-ng patterndb, loghub); FP = irrelevant lines parsed as identity.")
	line("")
	if (md != "") mdtext = mdtext "\n| product | lines | relevant | optional | identity | not_identity | unparsed | right | % | user | src_ip | outcome | action | FP |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	print hdr
	for (pass = 1; pass <= 2; pass++) {
		if (pass == 2) {
			print "-- no rulebase / mapping yet (counts only, not in the total):"
			if (md != "") mdtext = mdtext "| **no rulebase / mapping yet** (counts only) | | | | | | | | | | | | | |\n"
		}
		for (n = 1; n <= np; n++) {
			p = pkey[n]
			if ((pass == 1) != (phave[p] == 1)) continue
			r = cnt[p, "relevant"] + 0
			pc = r ? sprintf("%d", 100 * cnt[p, "right"] / r) : "-"
			row = sprintf("%-34s %6d %5d %5d | %5d %5d %5d | %5d %4s | %7s %7s %7s %7s | %3d", short(plabel[p], 34), cnt[p, "lines"], r, cnt[p, "optional"],
				cnt[p, "identity"], cnt[p, "not_identity"], cnt[p, "unparsed"], cnt[p, "right"], pc,
				ratio(cnt[p, "u_ok"], cnt[p, "u_cmp"]), ratio(cnt[p, "i_ok"], cnt[p, "i_cmp"]),
				ratio(cnt[p, "o_ok"], cnt[p, "o_cmp"]), ratio(cnt[p, "a_ok"], cnt[p, "a_cmp"]), cnt[p, "fp"])
			print row
			if (md != "") mdtext = mdtext sprintf("| %s | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s | %s | %s | %d |\n", plabel[p], cnt[p, "lines"], r, cnt[p, "optional"],
				cnt[p, "identity"], cnt[p, "not_identity"], cnt[p, "unparsed"], cnt[p, "right"], pc,
				ratio(cnt[p, "u_ok"], cnt[p, "u_cmp"]), ratio(cnt[p, "i_ok"], cnt[p, "i_cmp"]),
				ratio(cnt[p, "o_ok"], cnt[p, "o_cmp"]), ratio(cnt[p, "a_ok"], cnt[p, "a_cmp"]), cnt[p, "fp"])
			if (pass == 1) { R += r; M += cnt[p, "right"] }
			# one big sample file must not hide a weak product: each product with a
			# rulebase and at least 5 relevant lines needs its own floor
			if (pass == 1 && r >= 5 && 100 * cnt[p, "right"] / r < pfloor)
				weak = weak sprintf("%s%s %d%%", weak == "" ? "" : ", ", plabel[p], 100 * cnt[p, "right"] / r)
		}
	}
	line("")
	line(sprintf("## Misses (%d)%s", nmiss, nmiss ? ": relevant lines not parsed as identity, or parsed with a field that disagrees" : ""))
	if (nmiss) {
		s = ""; for (c in misscat) s = s sprintf("%s%s %d", s == "" ? "" : ", ", c, misscat[c]); line("by reason: " s)
		if (md != "") mdtext = mdtext "\n```\n"
		# the sample line itself only on stdout: the markdown report may be committed, and the
		# samples must not be copied into the repository
		for (n = 1; n <= nmiss; n++) { print "  " miss[n] "\n      " misstext[n]; if (md != "") mdtext = mdtext miss[n] "\n" }
		if (md != "") mdtext = mdtext "```\n"
	}
	line("")
	line(sprintf("## False positives (%d)%s", nfp, nfp ? ": irrelevant lines parsed as identity events" : ""))
	if (nfp) {
		if (md != "") mdtext = mdtext "\n```\n"
		for (n = 1; n <= nfp; n++) { print "  " fp[n] "\n      " fptext[n]; if (md != "") mdtext = mdtext fp[n] "\n" }
		if (md != "") mdtext = mdtext "```\n"
	}
	line("")
	P = R ? 100 * M / R : 100
	line(sprintf("relevant %d, parsed with right user+source IP+outcome %d (%.1f%%)%s", R, M, P, only != "" ? " [product " only "]" : ""))
	pfloor_txt = sprintf("every product with >= 5 relevant lines >= %d%%", pfloor)
	if (weak != "") line("below the per-product floor (" pfloor "%): " weak)
	ok = (P >= thr && nfp == 0 && weak == "")
	line(ok ? sprintf("PASS (>= %d%% overall, %s, no false positive)", thr, pfloor_txt) : sprintf("FAIL (need >= %d%% overall, %s, and no false positive; %d false positive(s))", thr, pfloor_txt, nfp))
	if (md != "") {
		printf "# Conformance against third-party samples\n\nGenerated by `tests/rulebase/conformance.sh --report`.\n\n%s", mdtext > md
		while ((getline nl < notes) > 0) print nl > md
	}
	exit ok ? 0 : 1
}' "$tmp/rows"
