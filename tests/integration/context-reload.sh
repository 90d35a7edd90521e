#!/bin/bash
# The context (roster, GeoIP databases, lists.dir) in the real rsyslogd, at start and on HUP:
#   a. start: the module logs what it loaded ("start: GeoIP city loaded, ASN loaded; roster 2
#      users; lists: ...");
#   b. watch-countries.txt is empty: a sign-in from 203.0.113.9 (KP in the test GeoIP
#      database) carries no geo.watch_country; "KP" written into it, kill -HUP: the next one
#      does, and its detail names the roster's declared country (US);
#   d. dave, unknown to the roster, signs in from Paris without geo.declared_country_mismatch;
#      dave added to roster.csv (declared US, hired 10 days ago), HUP: the same sign-in carries
#      geo.declared_country_mismatch with "[new hire x1.5]";
#   c. a bad entry in hosting.txt (and, in the same edit, an emptied watch-countries.txt and
#      a new roster user), HUP: the error names hosting.txt, its line and the entry, and the
#      whole previous context stays (watch_country still fires, the new user is unknown);
#      impstats: context.reloads 2, context.reload_failed 1;
#   e. a second rsyslogd with roster="<missing file>" and a valid lists.dir: it starts, logs an
#      error naming the roster, and scores with the lists and GeoIP (watch_country fires).
# Every message sent comes out exactly once (in = out).
# The GeoIP databases are built by tests/unit/make-test-mmdb.pl (MaxMind::DB::Writer).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
ctx=$MMR_WORK/ctx
lists=$MMR_WORK/lists
roster=$MMR_WORK/roster.csv
mkdir -p "$ctx" "$lists"
perl "$MMR_SRCDIR/tests/unit/make-test-mmdb.pl" "$ctx" >"$MMR_WORK/mmdb.out" 2>&1 ||
	mmr_fail "tests/unit/make-test-mmdb.pl failed (libmaxmind-db-writer-perl, which scripts/build.sh installs, is required): $(cat "$MMR_WORK/mmdb.out")"

# the files are replaced the way an editor or a deployment does: new file, then rename
put() { # put FILE LINE...
	printf '%s\n' "${@:2}" >"$1.new" && mv -f "$1.new" "$1" || mmr_fail "cannot write $1"
}
hired=$(date -u -d '10 days ago' +%Y-%m-%d) || mmr_fail "date -d failed"
roster_head='user,department,title,manager,start_date,country,timezone,team,privileged'
roster_alice='alice,Engineering,Software Engineer,carol,2020-01-06,US,America/New_York,backend,no'
roster_bob='bob,Engineering,Software Engineer,carol,2021-03-01,US,America/Chicago,backend,no'
roster_dave="dave,Engineering,Software Engineer,carol,$hired,US,America/Chicago,backend,no"
roster_erin='erin,Sales,Account Executive,frank,2019-05-02,US,America/Denver,,no'
put "$roster" "$roster_head" "$roster_alice" "$roster_bob"
put "$lists/hosting.txt" "# hosting providers" "AS64511   # not one the test events use"
: >"$lists/watch-countries.txt"

out=$MMR_WORK/out.json
stats=$MMR_WORK/stats.log
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$stats")
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2") {
	action(name="risk" type="mmriskscore" rulebase="$MMR_RULEBASE" roster="$roster"
	       geoip.city="$ctx/city.mmdb" geoip.asn="$ctx/asn.mmdb" lists.dir="$lists")
	action(type="omfile" file="$out" template="mmr_json")
}
EOF

n=0
# sign_in USER IP PORT: an sshd sign-in with the current time (the roster's tenure is counted
# from the event time); each one has its own source port, by which it is found in the output
sign_in() {
	printf '<38>%s bastion1 sshd[%d]: Accepted password for %s from %s port %d ssh2\n' \
		"$(LC_ALL=C date '+%b %e %H:%M:%S')" "$3" "$1" "$2" "$3"
}
send() { # send LINE...: sends, then waits until all of them are written
	printf '%s\n' "$@" >"$MMR_WORK/send.log"
	mmr_send "$MMR_WORK/send.log"
	n=$((n + $#))
	mmr_wait_lines "$out" "$n"
}
# the output line of the sign-in on source port P
line() { jq -c --arg p "port $1 " 'select(.msg | contains($p))' "$out"; }
# the reasons of rule R on that line, as [points, detail] pairs
reasons() { line "$1" | jq -c --arg r "$2" '[.vars.risk.reasons[]? | select(.rule == $r) | [.points, .detail]]'; }
hup_and_wait() { # hup_and_wait REGEX: SIGHUP, then wait for one more line matching REGEX
	local before i
	before=$(grep -Ec -- "$1" "$MMR_WORK/internal.log" 2>/dev/null)
	kill -HUP "$MMR_PID" || mmr_fail "kill -HUP $MMR_PID failed"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -Ec -- "$1" "$MMR_WORK/internal.log" 2>/dev/null)" -gt "${before:-0}" ] && return 0
		sleep 0.1
	done
	mmr_fail "after SIGHUP expected a line matching /$1/ in the internal log within 10 s"
}
loaded() { # loaded WHEN ROSTER WATCH HOSTING: the module's context line, as a regex
	printf 'info .*mmriskscore: %s: GeoIP city loaded, ASN loaded; roster %s users; lists: corporate 0, hosting %s, commercial VPN 0, watch countries %s, ' \
		"$1" "$2" "$4" "$3"
}

# ---- a. start -------------------------------------------------------------------------------
mmr_start
mmr_wait_internal "$(loaded start 2 0 1)" 10

# ---- b. watch-countries.txt: empty, then KP ------------------------------------------------
send "$(sign_in alice 203.0.113.9 40001)" "$(sign_in dave 192.0.2.9 40002)"
[ "$(line 40001 | jq -r '.vars.risk.user')" = alice ] ||
	mmr_fail "b: expected alice's sign-in from 203.0.113.9 to be scored, saw: $(line 40001)"
mmr_assert_eq "b: geo.watch_country on alice's sign-in from KP while watch-countries.txt is empty" \
	'[]' "$(reasons 40001 geo.watch_country)"
put "$lists/watch-countries.txt" "# watch list" "KP"
hup_and_wait "$(loaded HUP 2 1 1)"
send "$(sign_in alice 203.0.113.10 40003)"
mmr_assert_eq "b: geo.watch_country on alice's sign-in from KP after 'KP' was added and HUP" \
	'[[45,"activity from KP, a watch country; the employee is declared in US"]]' \
	"$(reasons 40003 geo.watch_country)"

# ---- d. roster: dave added -----------------------------------------------------------------
mmr_assert_eq "d: geo.declared_country_mismatch on dave's sign-in from Paris while dave is not in the roster" \
	'[]' "$(reasons 40002 geo.declared_country_mismatch)"
put "$roster" "$roster_head" "$roster_alice" "$roster_bob" "$roster_dave"
hup_and_wait "$(loaded HUP 3 1 1)"
send "$(sign_in dave 192.0.2.10 40004)"
mmr_assert_eq "d: geo.declared_country_mismatch on dave's sign-in from Paris after dave (US, hired $hired) joined the roster" \
	'[[23,"activity from FR (Paris) while the roster declares the employee in US [new hire x1.5]"]]' \
	"$(reasons 40004 geo.declared_country_mismatch)"

# ---- c. a broken list: the whole previous context stays ------------------------------------
put "$lists/hosting.txt" "# hosting providers" "AS64511   # not one the test events use" "999.1.1.1/99"
: >"$lists/watch-countries.txt"
put "$roster" "$roster_head" "$roster_alice" "$roster_bob" "$roster_dave" "$roster_erin"
hup_and_wait "err[a-z]* .*mmriskscore: HUP: .*hosting\.txt:3: '999\.1\.1\.1/99'"
grep -E "mmriskscore: HUP: .*hosting\.txt:3" "$MMR_WORK/internal.log" | grep -qF "$lists/hosting.txt:3:" ||
	mmr_fail "c: expected the reload error to name the file by its path ($lists/hosting.txt:3), saw: $(grep -E 'mmriskscore: HUP: .*hosting' "$MMR_WORK/internal.log" | tail -n 1)"
grep -E "mmriskscore: HUP: .*hosting\.txt:3" "$MMR_WORK/internal.log" | grep -q "keeping the previous" ||
	mmr_fail "c: expected the reload error to say that the previous context is kept, saw: $(grep -E 'mmriskscore: HUP: .*hosting' "$MMR_WORK/internal.log" | tail -n 1)"
send "$(sign_in alice 203.0.113.11 40005)" "$(sign_in erin 192.0.2.11 40006)"
mmr_assert_eq "c: geo.watch_country on alice's sign-in from KP after a failed reload (the previous lists, with KP, stay)" \
	'[[45,"activity from KP, a watch country; the employee is declared in US"]]' \
	"$(reasons 40005 geo.watch_country)"
[ "$(line 40006 | jq -r '.vars.risk.user')" = erin ] ||
	mmr_fail "c: expected erin's sign-in to be scored, saw: $(line 40006)"
mmr_assert_eq "c: geo.declared_country_mismatch on erin's sign-in from Paris after a failed reload (the previous roster, without erin, stays)" \
	'[]' "$(reasons 40006 geo.declared_country_mismatch)"
if grep -Eq "$(loaded HUP 4 '[0-9]+' '[0-9]+')|$(loaded HUP 3 0 '[0-9]+')" "$MMR_WORK/internal.log"; then
	mmr_fail "c: a failed reload must not log a loaded context, saw: $(grep -E 'mmriskscore: HUP: GeoIP' "$MMR_WORK/internal.log" | tail -n 1)"
fi

# the counters: 3 HUPs, 2 context reloads, 1 failed; every message scored
for ((i = 0; i < 50; i++)); do
	s=$(sed -n 's/^[^{]*{/{/p' "$stats" 2>/dev/null | jq -c 'select(.name == "mmriskscore")' 2>/dev/null | tail -n 1)
	[ -n "$s" ] && [ "$(jq .submitted <<<"$s")" -ge "$n" ] && break
	sleep 0.1
done
mmr_stop
mmr_assert_eq "c: impstats context.reloads/context.reload_failed/rulebase.reloads/rulebase.reload_failed/submitted/scored" \
	"2 1 3 0 $n $n" "$(jq -r '"\(."context.reloads") \(."context.reload_failed") \(."rulebase.reloads") \(."rulebase.reload_failed") \(.submitted) \(.scored)"' <<<"${s:-{\}}")"
mmr_assert_eq "messages in = out (first rsyslogd)" "$n" "$(mmr_lines "$out")"

# ---- e. degraded start: the roster is missing, the lists and GeoIP work --------------------
mv "$MMR_WORK/internal.log" "$MMR_WORK/internal-1.log"
mv "$out" "$MMR_WORK/out-1.json"
put "$lists/hosting.txt" "# hosting providers" "AS64511   # not one the test events use"
put "$lists/watch-countries.txt" "KP"
missing=$MMR_WORK/no-such-roster.csv
mmr_write_conf "$MMR_WORK/degraded.conf" <<EOF
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" roster="$missing"
	       geoip.city="$ctx/city.mmdb" geoip.asn="$ctx/asn.mmdb" lists.dir="$lists")
	action(type="omfile" file="$out" template="mmr_json")
}
EOF
n=0
mmr_start "$MMR_WORK/degraded.conf"
mmr_wait_internal "$(loaded start 0 1 1)" 10
grep -E "err[a-z]* .*mmriskscore: .*roster" "$MMR_WORK/internal.log" | grep -qF "$missing" ||
	mmr_fail "e: expected an error naming the missing roster $missing in the internal log"
grep -F "$missing" "$MMR_WORK/internal.log" | grep -q "running without it" ||
	mmr_fail "e: expected the roster error to say the module runs without it, saw: $(grep -F "$missing" "$MMR_WORK/internal.log" | tail -n 1)"
send "$(sign_in alice 203.0.113.12 40007)" "$(sign_in dave 192.0.2.12 40008)"
mmr_assert_eq "e: geo.watch_country on alice's sign-in from KP without a roster (no declared country)" \
	'[[45,"activity from KP, a watch country"]]' "$(reasons 40007 geo.watch_country)"
[ "$(line 40008 | jq -c '[.vars.risk.user, (.vars.risk.score | type)]')" = '["dave","number"]' ] ||
	mmr_fail "e: expected dave's sign-in to be scored without a roster, saw: $(line 40008)"
mmr_assert_eq "e: geo.declared_country_mismatch without a roster" '[]' "$(reasons 40008 geo.declared_country_mismatch)"
# a HUP after a degraded start: the roster is still missing, yet the changed lists load
put "$lists/watch-countries.txt" "# nothing to watch"
hup_and_wait "$(loaded HUP 0 0 1)"
grep -F "$missing" "$MMR_WORK/internal.log" | grep -q 'HUP: .*running without it' ||
	mmr_fail "e: expected the HUP to report the still-missing roster and run without it, saw: $(grep -F "$missing" "$MMR_WORK/internal.log" | tail -n 1)"
send "$(sign_in alice 203.0.113.13 40009)"
mmr_assert_eq "e: geo.watch_country after the HUP emptied the watch list (lists reload although the roster is missing)" \
	'[]' "$(reasons 40009 geo.watch_country)"
mmr_stop
mmr_assert_eq "messages in = out (second rsyslogd)" "$n" "$(mmr_lines "$out")"
mmr_pass "context loaded at start; watch list and roster reloaded on HUP; a broken list reported by file:line with the previous context kept (context.reload_failed 1); a missing roster at start reported while lists and GeoIP still score and still reload on HUP"
