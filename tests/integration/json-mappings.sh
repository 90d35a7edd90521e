#!/bin/bash
# JSON identity logs through the real rsyslogd: the module detects a JSON message, applies
# the first mapping whose conditions hold, and scores the event; JSON that no mapping claims,
# and events the mapping does not list, pass unchanged. The event time is the record's own
# ("published"), not the syslog header's. HUP reloads the mappings. A broken mapping file is
# rejected by rsyslogd -N1 with the file and the problem named.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

mmr_init
mmr_need_rulebase
maps=$MMR_WORK/maps
mkdir -p "$maps"
cat >"$maps/10-testidp.json" <<'JSON'
{
  "name": "testidp",
  "match": [{"path": "eventType", "exists": true}, {"path": "actor.alternateId", "exists": true}],
  "fields": {
    "user": "actor.alternateId",
    "src_ip": "client.ipAddress",
    "event_time": "published",
    "geo_country": "client.geographicalContext.country",
    "is_proxy": "securityContext.isProxy",
    "target": "target[type=AppInstance].displayName"
  },
  "action": {"from": "eventType",
             "values": {"user.session.start": "auth", "user.authentication.sso": "sso"}},
  "outcome": {"from": "outcome.result", "values": {"SUCCESS": "success", "FAILURE": "failure"}}
}
JSON
out=$MMR_WORK/out.json
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" mappings="$maps")
	action(type="omfile" file="$out" template="mmr_json")
}
EOF

rec() { # user ip event result published
	printf '<134>Nov 26 09:00:00 collector okta: {"eventType":"%s","actor":{"alternateId":"%s"},"client":{"ipAddress":"%s","geographicalContext":{"country":"Germany"}},"securityContext":{"isProxy":false},"outcome":{"result":"%s"},"published":"%s","target":[{"type":"User"},{"type":"AppInstance","displayName":"Salesforce"}]}\n' "$3" "$1" "$2" "$4" "$5"
}
{
	rec Alice@corp.example 198.51.100.90 user.session.start SUCCESS 2026-11-20T08:00:00.000Z
	rec bob@corp.example 198.51.100.90 user.authentication.sso SUCCESS 2026-11-20T08:01:00.000Z
	rec carol@corp.example 198.51.100.90 user.session.start SUCCESS 2026-11-20T08:02:00.000Z
	rec dave@corp.example 198.51.100.90 user.account.update_profile SUCCESS 2026-11-20T08:03:00.000Z
	printf '<134>Nov 26 09:00:00 collector app: {"unrelated":"json"}\n'
	printf '<134>Nov 26 09:00:00 collector app: @cee: {"eventType":"user.session.start","actor":{"alternateId":"erin@corp.example"},"client":{"ipAddress":"203.0.113.5"},"outcome":{"result":"FAILURE"}}\n'
	printf '<38>Nov 26 09:00:01 bastion1 sshd[7]: Accepted password for alice from 10.8.0.9 port 5000 ssh2\n'
} >"$MMR_WORK/in.log"
mmr_start
mmr_send "$MMR_WORK/in.log"
mmr_wait_lines "$out" 7
cp "$out" "$MMR_WORK/phase1.json"

# HUP reloads the mappings: once the mapping lists update_profile, dave's record is scored
sed -i 's/"user.authentication.sso": "sso"}/"user.authentication.sso": "sso", "user.account.update_profile": "account"}/' \
	"$maps/10-testidp.json"
kill -HUP "$MMR_PID" || mmr_fail "kill -HUP failed"
mmr_wait_internal "mmriskscore: HUP: mappings '$maps' reloaded" 10
grep 'update_profile' "$MMR_WORK/in.log" >"$MMR_WORK/in2.log"
mmr_send "$MMR_WORK/in2.log"
mmr_wait_lines "$out" 8
mmr_stop
mmr_check_all "after HUP the reloaded mapping scores the account event" \
	'(.msg | contains("update_profile")) and .vars.event != null' \
	'.vars.event.action == "account" and .vars.event.user == "dave"' "$out" 1

mmr_check_all "alice's Okta sign-in is an auth event with the record's time and geo" \
	'.vars.event.user == "alice" and .tag == "okta:"' \
	'.vars.event.action == "auth" and .vars.event.outcome == "success" and .vars.event.event_time == "2026-11-20T08:00:00Z" and .vars.event.geo_country == "Germany" and .vars.event.is_proxy == false and .vars.event.src_ip == "198.51.100.90" and (.vars.risk.score | type) == "number"' \
	"$MMR_WORK/phase1.json" 1
mmr_check_all "bob's SSO names the app" '.vars.event.user == "bob"' \
	'.vars.event.action == "sso" and .vars.event.target == "Salesforce"' "$MMR_WORK/phase1.json" 1
mmr_check_all "carol, the third account on one IP, carries the shared-IP reason" '.vars.event.user == "carol"' \
	'[.vars.risk.reasons[]? | select(.rule == "network.shared_source_ip")] | length == 1' "$MMR_WORK/phase1.json" 1
mmr_check_all "an event type the mapping does not list passes unchanged" \
	'.msg | contains("update_profile")' '.vars.risk == null and .vars.event == null' "$MMR_WORK/phase1.json" 1
mmr_check_all "JSON no mapping claims passes unchanged" '.msg | contains("unrelated")' \
	'.vars.risk == null' "$MMR_WORK/phase1.json" 1
mmr_check_all "an @cee: cookie is skipped" '.msg | contains("erin")' \
	'.vars.event.user == "erin" and .vars.event.outcome == "failure"' "$MMR_WORK/phase1.json" 1
mmr_check_all "text lines still go through the rulebase" '.tag | startswith("sshd")' \
	'.vars.event.action == "auth" and .vars.risk.user == "alice"' "$MMR_WORK/phase1.json" 1

# a broken mapping names file and problem at config check
bad=$MMR_WORK/bad
mkdir -p "$bad"
printf '{"name":"x","match":[{"path":"a","exists":true}],"fields":{"user":"u","colour":"c"},"action":{"from":"e"}}\n' >"$bad/broken.json"
cat >"$MMR_WORK/bad.conf" <<EOF
global(workDirectory="$MMR_WORK/spool")
module(load="$MMR_MODULE")
action(type="mmriskscore" mappings="$bad")
action(type="omfile" file="$MMR_WORK/x")
EOF
if "$MMR_RSYSLOGD" -N1 -f "$MMR_WORK/bad.conf" >"$MMR_WORK/n1.log" 2>&1; then
	mmr_fail "rsyslogd -N1 accepted a mapping with an unknown field"
fi
grep -q "broken.json" "$MMR_WORK/n1.log" && grep -q "colour" "$MMR_WORK/n1.log" ||
	mmr_fail "the -N1 error does not name the file and the field: $(cat "$MMR_WORK/n1.log")"
mmr_pass "JSON via mappings scored, unmapped JSON unchanged, HUP reloads mappings, bad mapping rejected with file and field named"
