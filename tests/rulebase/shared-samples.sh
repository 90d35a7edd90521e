#!/bin/sh
# Check the rulebases against third-party sample lines (never copied into the repo).
#
# usage: tests/rulebase/shared-samples.sh [RULEBASE_DIR_OR_FILE]
#   RULEBASE_DIR_OR_FILE  a directory of *.rulebase files (default: <repo>/rulebase; they are
#                         concatenated the way the build does) or one combined rulebase file.
#   MMRISK_SHARED_SAMPLES overrides the sample folder (default: <repo>/../shared/samples).
#
# Every sample line is turned into the module's parse input (syslog tag + msg, i.e. what
# rsyslog's RFC3164 parser leaves after PRI, timestamp and host name) and run through
# lognormalizer. For each line whose message id / text a rule claims to cover we assert
# the action tag, a user (none for "*****"-masked users) and src_ip where the line has one.
# Lines no rule claims must not come out as identity events (action tag + user).
# Exit: 0 ok, 1 misses, 77 skipped (samples or lognormalizer absent).

LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
samples=${MMRISK_SHARED_SAMPLES:-$repo/../shared/samples}
rb=${1:-${MMRISK_RULEBASE:-$repo/build/rulebase/identity-vpn.rulebase}}

if [ ! -d "$samples" ]; then
	echo "SKIP: third-party samples not found at $samples (set MMRISK_SHARED_SAMPLES)"
	exit 77
fi
if ! command -v lognormalizer >/dev/null 2>&1; then
	echo "SKIP: lognormalizer not installed (Debian/Ubuntu package liblognorm-utils)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-samples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# Rulebase: one file as given, or all *.rulebase of a directory concatenated like the
# build does (first file whole, later files without their "version=2" line).
if [ -f "$rb" ]; then
	cp "$rb" "$tmp/all.rulebase"
elif [ -d "$rb" ]; then
	first=1
	for f in "$rb"/*.rulebase; do
		[ -f "$f" ] || continue
		if [ $first = 1 ]; then cat "$f"; first=0; else sed '1{/^version=2$/d;}' "$f"; fi
	done > "$tmp/all.rulebase"
	if [ $first = 1 ]; then echo "FAIL: no *.rulebase in $rb"; exit 1; fi
else
	echo "FAIL: rulebase $rb not found"; exit 1
fi

# Strip what rsyslog's RFC3164 parser puts into PRI, TIMESTAMP and HOSTNAME:
#   <PRI>; RFC3339 or RFC3164 timestamp ("Mmm dd [yyyy ]hh:mm:ss", optional ':' after it,
#   Cisco style) plus the following SP; a host name ([A-Za-z0-9._-]+) only when followed by
#   SP. TAG + MSG is everything that remains (MSG keeps its leading SP).
strip_header() {
	tr -d '\r' | sed -E \
		-e 's/^<[0-9]{1,3}>//' \
		-e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) //' \
		-e 's/^[A-Z][a-z]{2} [ 0-3][0-9] ([0-9]{4} )?[0-9]{2}:[0-9]{2}:[0-9]{2}:? //' \
		-e 's/^[A-Za-z0-9._-]+ //' \
		-e '/^$/d'
}

S=$samples
{
	for f in "$S"/elastic/cisco_asa/*.log "$S"/wazuh/cisco_asa.log; do
		[ -f "$f" ] && strip_header < "$f"
	done
} > "$tmp/cisco_asa.in"
{
	for f in "$S"/elastic/system/test-auth.log "$S"/loghub/OpenSSH_2k.log; do
		[ -f "$f" ] && strip_header < "$f"
	done
	# syslog-ng patterndb test messages are MSG only; the program is in the expected file.
	pdb=$S/syslog-ng-patterndb/patterndb_access_sshd
	if [ -f "$pdb.log" ] && [ -f "$pdb.expected.json" ]; then
		awk '/"line_in_log":/ { gsub(/[^0-9]/, ""); n = $0 }
		     /"program":/ { split($0, a, "\""); print n "\t" a[4] }' "$pdb.expected.json" > "$tmp/pdb.prog"
		tr -d '\r' < "$pdb.log" | awk -F '\t' 'NR == FNR { prog[$1] = $2; next }
			{ p = (FNR in prog) ? prog[FNR] : "sshd"; print p "[4242]: " $0 }' "$tmp/pdb.prog" -
	fi
} > "$tmp/sshd.in"

# classify: print "<action> <user: y|n> <src_ip: y|n>" for a covered line, "-" otherwise.
# "n" for user = the account is hidden ("*****") or empty: the line must parse without one.
classify_asa() {
	awk '
	{
		t = $0; out = "-"
		if (!match(t, /%(ASA|FTD)-([a-z]+-)?[0-7]-[0-9][0-9][0-9][0-9][0-9][0-9]: /)) { print out; next }
		id = substr(t, RSTART + RLENGTH - 8, 6); t = substr(t, RSTART + RLENGTH)
		masked = t ~ /(user = |User = |User <|for user ")(\*\*\*\*\*|")/ || t ~ /user = : user IP/
		u = masked ? "n" : "y"
		if (id == "113004" && t ~ /^AAA user authentication Successful/)  out = "auth " u " n"
		else if (id == "113012" && t ~ /^AAA user authentication Successful/) out = "auth " u " n"
		else if ((id == "113005" || id == "113015") && t ~ /^AAA user authentication Rejected/)
			out = "auth " u " " (t ~ /user IP = / ? "y" : "n")
		else if (id == "113039" || id == "716001") out = "vpn_start " u " y"
		else if (id == "716002") out = "vpn_end " u " y"
		else if (id == "722037") out = "logout " u " y"
		else if (id == "722051") out = "ip_assigned " u " y"
		else if (id == "751025" && t ~ /Remote:[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:/) out = "ip_assigned " u " y"
		else if (id == "113019") out = t ~ /Session Type: LAN-to-LAN/ ? "none" : "vpn_end " u " y"
		else if (id == "605004" || id == "605005") out = "auth " u " y"
		else if (id == "611101" || id == "611102") out = "auth " u " " (t ~ /IP address: / ? "y" : "n")
		else if (id == "716039") out = "auth " u " " (t ~ / IP </ ? "y" : "n")
		print out
	}'
}
classify_sshd() {
	awk '
	BEGIN { ip = "([0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)" }
	{
		t = $0; out = "-"
		# other programs (sudo, useradd ...) belong to other rulebases: not judged here
		if (!match(t, /^(sshd|sshd-session)(\[[0-9]+\])?: /)) { print "skip"; next }
		m = substr(t, RLENGTH + 1)
		if (m ~ ("^Accepted [^ ]+ for [^ ]+ from " ip " port [0-9]+ ssh")) out = "auth y y"
		else if (m ~ /^Failed none /) out = "none"
		else if (m ~ ("^Failed [^ ]+ for ((invalid|illegal) user )?[^ ]+ from " ip " port [0-9]+ ssh")) out = "auth y y"
		else if (m ~ ("^(Invalid|Illegal) user [^ ]+ from " ip "( port [0-9]+)?$")) out = "auth y y"
		# pam_unix lines repeat what sshd logs itself: parsed, but no action (SCHEMA.md)
		else if (m ~ /^pam_unix\(sshd:auth\): authentication failure;.* user=[^ ]+$/)
			out = "noaction y " ((m ~ ("rhost=" ip " ")) ? "y" : "n")
		else if (m ~ /^User [^ ]+ from [^ ]+ not allowed because /) out = "auth y " ((m ~ ("from " ip " ")) ? "y" : "n")
		else if (m ~ ("^Disconnected from user [^ ]+ " ip " port [0-9]+$")) out = "logout y y"
		else if (m ~ /^pam_unix\(sshd:session\): session closed for user [^ ]+$/) out = "noaction y n"
		print out
	}'
}

# Per parsed line: "<action or -> <user y|n> <src_ip y|n>" from lognormalizer's JSON.
summarize() {
	awk '{
		a = "-"
		if (match($0, /"event\.tags": \[[^]]*\]/)) {
			tags = substr($0, RSTART, RLENGTH)
			n = split("auth mfa vpn_start vpn_end ip_assigned sso privilege account logout", acts, " ")
			for (i = 1; i <= n; i++) if (index(tags, "\"" acts[i] "\"")) a = acts[i]
		}
		if (index($0, "\"unparsed-data\"")) a = "unparsed"
		print a, (index($0, "\"user\": \"") ? "y" : "n"), (index($0, "\"src_ip\": \"") ? "y" : "n")
	}'
}

rc=0
for fmt in cisco_asa sshd; do
	in=$tmp/$fmt.in
	if [ ! -s "$in" ]; then echo "$fmt: no sample lines found under $S"; continue; fi
	"classify_${fmt#cisco_}" < "$in" > "$tmp/$fmt.want"
	lognormalizer -r "$tmp/all.rulebase" -e json -T < "$in" 2> "$tmp/$fmt.err" | summarize > "$tmp/$fmt.got"
	if [ -s "$tmp/$fmt.err" ]; then
		echo "FAIL: lognormalizer reported errors:"; sed 's/^/  /' "$tmp/$fmt.err"; rc=1
	fi
	paste -d '|' "$tmp/$fmt.want" "$tmp/$fmt.got" "$in" | awk -F '|' -v fmt="$fmt" '
	{
		split($1, w, " "); split($2, g, " "); line = substr($0, length($1) + length($2) + 3)
		if (w[1] == "skip") next
		if (w[1] == "-") {                     # not covered: must not be an identity event
			if (g[1] != "unparsed" && g[1] != "-" && g[2] == "y") {
				print "  UNEXPECTED identity event: " line; bad++
			}
			next
		}
		if (w[1] == "none") {                  # covered as "not an identity event"
			if (g[1] != "unparsed" && g[1] != "-") { print "  UNEXPECTED action " g[1] ": " line; bad++ }
			next
		}
		m++
		why = ""
		if (w[1] == "noaction") w[1] = "-"     # must parse, with fields, but carry no action
		if (g[1] != w[1]) why = why " action=" g[1] " (want " w[1] ")"
		if (g[2] != w[2]) why = why " user=" g[2] " (want " w[2] ")"
		if (w[3] == "y" && g[3] != "y") why = why " no src_ip"
		if (why != "") { print "  MISS" why ": " line; bad++ } else ok++
	}
	END {
		printf "%s: %d of %d covered lines parsed (%d sample lines)\n", fmt, ok, m, NR
		exit bad ? 1 : 0
	}' || rc=1
done
exit $rc
