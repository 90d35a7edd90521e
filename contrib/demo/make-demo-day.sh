#!/bin/bash
# Writes contrib/demo/demo-day.log: one synthetic day (2026-11-26, UTC) of identity/VPN syslog
# as a shipper sends it over TCP (RFC 3164, "<PRI>Mmm dd hh:mm:ss host tag: msg"), time-ordered.
#
# Deterministic: a fixed seed drives our own Park-Miller generator inside awk (never awk's
# rand(), whose sequence differs between mawk, gawk and busybox), and the output is sorted
# with LC_ALL=C. Running this script twice, on any machine, writes the same bytes.
#
# What is in the day (GROUND-TRUTH.md, next to this file, says what the demo must find):
#   - 30 employees in 5 teams; each works 08-18 (jitter) through the Cisco ASA AnyConnect VPN
#     (asa-vpn1) from a stable home IP, or from the office NAT 203.0.113.10 (corporate network
#     in the demo config, so never "shared"); two colleagues share one home IP (below the
#     farm threshold of 3 users); some reconnect after lunch; a couple of password typos.
#     In each session the user ssh-es from the VPN-assigned 10.8.x.y address to the team's
#     servers.
#   - PLANTED laptop farm: jwang, mlee, kpark, tchen (recent hires, 4 unrelated teams), all
#     from residential IP 198.51.100.77, three interleaved sessions each.
#   - PLANTED brute force: 203.0.113.66 against the internet-facing bastion1 at 03:12, 32
#     failures in about four minutes for 12 invalid user names.
#   - Unrelated noise (systemd, CRON) that must pass through unchanged.
#
# Only the message templates listed in the project's demo brief are used, so that the
# bundled rulebases parse every identity line.
#
# Usage: contrib/demo/make-demo-day.sh [OUTPUT]   (default: demo-day.log next to this script)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/demo-day.log}
export LC_ALL=C

# user  team  origin   (origin: a home IP, or "office" = NAT 203.0.113.10)
employees='
alice    platform 198.51.100.20
bob      platform office
carol    platform office
dmitri   platform 192.0.2.31
erin     platform 198.51.100.142
jwang    platform FARM
frank    data     198.51.100.58
grace    data     office
heidi    data     office
ivan     data     192.0.2.44
judy     data     198.51.100.203
mlee     data     FARM
karl     web      192.0.2.87
linda    web      office
nina     web      198.51.100.9
oscar    web      office
peggy    web      192.0.2.44
quinn    web      192.0.2.150
kpark    web      FARM
rupert   sre      198.51.100.171
sybil    sre      office
trent    sre      office
uma      sre      192.0.2.12
victor   sre      198.51.100.36
tchen    sre      FARM
wendy    finance  office
xavier   finance  office
yolanda  finance  192.0.2.199
zoe      finance  198.51.100.115
aaron    finance  192.0.2.63
'

# team -> servers its members ssh to
servers='
platform git1 build1 build2
data     db1 db2 etl1
web      web1 web2 git1
sre      bastion1 mon1 k8s1
finance  erp1
'

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

awk -v employees="$employees" -v servers="$servers" '
# ---- deterministic random numbers: Park-Miller minimal standard (exact in doubles) ----
function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
function ri(lo, hi) { return lo + int(rnd() * (hi - lo + 1)) }

function ts(t) { return sprintf("Nov 26 %02d:%02d:%02d", int(t / 3600), int((t % 3600) / 60), t % 60) }
# every output line: "<seconds of day> TAB <sequence> TAB <syslog line>"; sorted afterwards
function emit(t, pri, host, rest) {
	if (t < 0 || t > 86399) { print "make-demo-day: time out of the day: " t > "/dev/stderr"; exit 1 }
	printf "%d\t%06d\t<%d>%s %s %s\n", t, ++seq, pri, ts(t), host, rest
}
function newpid() { pid += ri(3, 97); if (pid > 60000) pid = 1200; return pid }
function port() { return ri(32768, 60999) }
function pool_addr(   n) { n = 10 + npool++; return "10.8." int(n / 256) "." (n % 256) }
function fingerprint(   s, i) {
	s = ""
	for (i = 0; i < 43; i++) s = s substr(B64, ri(1, 64), 1)
	return s
}
function dur(s) { return sprintf("%dh:%02dm:%02ds", int(s / 3600), int((s % 3600) / 60), s % 60) }

# ---- ASA AnyConnect messages (facility local4: 160 + severity) ----
function asa_ok(t, u)        { emit(t, 166, "asa-vpn1", "%ASA-6-113004: AAA user authentication Successful : server = 10.0.0.5 : user = " u) }
function asa_rejected(t, u, ip) {
	emit(t, 166, "asa-vpn1", "%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.0.0.5 : user = " u " : user IP = " ip)
}
function asa_start(t, u, ip) { emit(t, 166, "asa-vpn1", "%ASA-6-113039: Group <GroupPolicy_VPN> User <" u "> IP <" ip "> AnyConnect parent session started.") }
function asa_assigned(t, u, ip, a) {
	emit(t, 164, "asa-vpn1", "%ASA-4-722051: Group <GroupPolicy_VPN> User <" u "> IP <" ip "> IPv4 Address <" a "> assigned to session")
}
function asa_end(t, u, ip, d, xmt, rcv) {
	emit(t, 164, "asa-vpn1", sprintf("%%ASA-4-113019: Group = GroupPolicy_VPN, Username = %s, IP = %s, Session disconnected. Session Type: SSL, Duration: %s, Bytes xmt: %.0f, Bytes rcv: %.0f, Reason: User Requested", u, ip, dur(d), xmt, rcv))
}

# ---- sshd (facility auth, info: 38) ----
function ssh_key(t, host, u, a) {
	emit(t, 38, host, "sshd[" newpid() "]: Accepted publickey for " u " from " a " port " port() " ssh2: ED25519 SHA256:" fp[u])
}
function ssh_pw(t, host, u, a)     { emit(t, 38, host, "sshd[" newpid() "]: Accepted password for " u " from " a " port " port() " ssh2") }
function ssh_pwfail(t, host, u, a) { emit(t, 38, host, "sshd[" newpid() "]: Failed password for " u " from " a " port " port() " ssh2") }

# One VPN session of user u from public ip: auth, start, address, ssh to the team servers,
# disconnect. nssh ssh logins; big = download multiplier (the farm pulls more).
function session(u, ip, t0, t1, nssh, big,    a, i, t, host, xmt, rcv) {
	asa_ok(t0, u)
	asa_start(t0 + ri(1, 2), u, ip)
	a = pool_addr()
	asa_assigned(t0 + ri(3, 4), u, ip, a)
	for (i = 0; i < nssh; i++) {
		t = ri(t0 + 60, t1 - 60)
		host = srv[team[u], ri(1, nsrv[team[u]])]
		if (rnd() < 0.15) ssh_pw(t, host, u, a); else ssh_key(t, host, u, a)
	}
	xmt = ri(20, 900) * 1000000 * big + ri(0, 999999)
	rcv = ri(1, 60) * 1000000 + ri(0, 999999)
	asa_end(t1, u, ip, t1 - t0, xmt, rcv)
	return a
}

BEGIN {
	seed = 20261126
	pid = 1200
	B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	ns = split(servers, L, "\n")
	for (i = 1; i <= ns; i++) {
		n = split(L[i], f, " ")
		if (n < 2) continue
		nsrv[f[1]] = n - 1
		for (j = 2; j <= n; j++) { srv[f[1], j - 1] = f[j]; allsrv[f[j]] = 1 }
	}
	ne = split(employees, L, "\n")
	nu = 0
	for (i = 1; i <= ne; i++) {
		if (split(L[i], f, " ") != 3) continue
		user[++nu] = f[1]; team[f[1]] = f[2]
		origin[f[1]] = (f[3] == "office") ? "203.0.113.10" : (f[3] == "FARM") ? "198.51.100.77" : f[3]
		fp[f[1]] = fingerprint()
	}

	# ---- ordinary employees ----
	for (k = 1; k <= nu; k++) {
		u = user[k]; ip = origin[u]
		if (ip == "198.51.100.77") continue
		start = 8 * 3600 + ri(-900, 5400)          # 07:45 .. 09:30
		stop = 16 * 3600 + ri(0, 9000)             # 16:00 .. 18:30
		if (u == "dmitri") {                       # two VPN password typos, then success
			asa_rejected(start - 41, u, ip)
			asa_rejected(start - 19, u, ip)
		}
		if (rnd() < 0.3) {                         # lunch break: two sessions
			mid = 12 * 3600 + ri(0, 1800)
			session(u, ip, start, mid, ri(2, 4), 1)
			start = mid + ri(1500, 3600)
		}
		a = session(u, ip, start, stop, ri(4, 9), 1)
		if (u == "judy") {                         # ssh password typo, then success
			t = stop - 3000
			ssh_pwfail(t, "db2", u, a)
			ssh_pw(t + 9, "db2", u, a)
		}
	}

	# ---- PLANTED laptop farm: four recent hires on one residential IP, interleaved ----
	farm = "198.51.100.77"
	split("jwang mlee kpark tchen", F1, " ")       # morning order
	split("tchen kpark jwang mlee", F2, " ")       # after lunch
	split("mlee jwang tchen kpark", F3, " ")       # late afternoon
	for (i = 1; i <= 4; i++) {
		t0 = 7 * 3600 + 55 * 60 + (i - 1) * 420 + ri(0, 120)
		session(F1[i], farm, t0, 11 * 3600 + 40 * 60 + i * 240 + ri(0, 200), ri(3, 5), 3)
	}
	for (i = 1; i <= 4; i++) {
		t0 = 12 * 3600 + 40 * 60 + (i - 1) * 300 + ri(0, 90)
		if (F2[i] == "kpark") asa_rejected(t0 - 25, F2[i], farm)
		a = session(F2[i], farm, t0, 15 * 3600 + 5 * 60 + i * 180 + ri(0, 120), ri(2, 4), 3)
		if (F2[i] == "kpark") ssh_key(t0 + 1800, "db1", "kpark", a)   # not a web-team server
	}
	for (i = 1; i <= 4; i++) {
		t0 = 15 * 3600 + 20 * 60 + (i - 1) * 360 + ri(0, 90)
		session(F3[i], farm, t0, 18 * 3600 + i * 300 + ri(0, 300), ri(2, 4), 3)
	}

	# ---- PLANTED brute force against the internet-facing bastion ----
	n = split("admin oracle test ubuntu postgres git deploy user guest ftpuser pi support admin test oracle ubuntu", BF, " ")
	t = 3 * 3600 + 12 * 60 + 5
	for (i = 1; i <= n; i++) {
		p = port(); id = newpid()
		emit(t, 38, "bastion1", "sshd[" id "]: Invalid user " BF[i] " from 203.0.113.66 port " p)
		emit(t + ri(1, 3), 38, "bastion1", "sshd[" id "]: Failed password for invalid user " BF[i] " from 203.0.113.66 port " p " ssh2")
		t += ri(8, 22)
	}

	# ---- noise: systemd timers on every server, hourly cron on four of them ----
	for (h in allsrv) nh++
	for (h in allsrv) hosts[++nhs] = h
	# sort host names so the output does not depend on awk hash order
	for (i = 2; i <= nhs; i++) { v = hosts[i]; for (j = i - 1; j >= 1 && hosts[j] > v; j--) hosts[j + 1] = hosts[j]; hosts[j + 1] = v }
	for (i = 1; i <= nhs; i++) {
		emit(6 * 3600 + ri(0, 3000), 30, hosts[i], "systemd[1]: Started Daily apt download activities.")
		emit(6 * 3600 + 3000 + ri(0, 900), 30, hosts[i], "systemd[1]: Starting Daily apt upgrade and clean activities...")
		emit(0 + ri(0, 200), 30, hosts[i], "systemd[1]: Started Daily rotation of log files.")
	}
	split("git1 db1 build1 erp1", CH, " ")
	for (i = 1; i <= 4; i++)
		for (hr = 0; hr < 24; hr++) {
			t = hr * 3600 + 17 * 60 + ri(0, 2)
			id = newpid()
			emit(t, 86, CH[i], "CRON[" id "]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
			emit(t + ri(0, 1), 86, CH[i], "CRON[" id "]: pam_unix(cron:session): session closed for user root")
		}
}
' > "$tmp"

sort -t "$(printf '\t')" -k1,1n -k2,2n "$tmp" | cut -f3- > "$out"
echo "make-demo-day: wrote $(wc -l < "$out") lines ($(wc -c < "$out") bytes) to $out" >&2
