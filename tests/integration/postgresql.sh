#!/bin/bash
# The PostgreSQL path end to end (contrib/postgresql/): a private PostgreSQL cluster, the
# shipped schema.sql and views.sql, a real rsyslogd with the module and rsyslog's ompgsql
# configured by the shipped rsyslog-pgsql.conf (only the connection changed), fed a small
# simulator run (120 users, 10 days, with its roster, GeoIP databases and lists, as
# contrib/simulator/benchmark-detection does) plus a few records whose user names carry quotes,
# a backslash, non-ASCII letters and an SQL injection attempt. Asserts:
#   * the table has exactly one row per scored message, and mmrisk.ingest_errors is empty;
#   * the odd user names arrive byte for byte (the option.stdsql / jsonb path is right);
#   * the rsyslog account needs nothing but membership in mmrisk_writer;
#   * riskiest_users_7d: every laptop_farm actor of truth.json ranks within the number of
#     planted actors, with network.laptop_farm among its top reasons; riskiest_users_24h ends
#     at the newest event (windows are relative to the data, so a replay works);
#   * user_timeline() of a farm account is in time order and complete;
#   * shared_source_ips_7d lists the farm's address with >= 3 accounts (all the farm's),
#     flagged with network.laptop_farm, and sorts the corporate networks last.
#
# Packages: postgresql and rsyslog-pgsql (ompgsql). When missing, they are installed with
# apt-get if we are root (rsyslog-pgsql without its dbconfig-common database setup), else the
# test is skipped (77) naming them. The cluster lives in its own temporary directory (initdb,
# trust authentication, a free 127.0.0.1 port, its Unix socket in that directory, fsync off)
# and is stopped and removed on exit, as is rsyslogd. MMRISK_KEEP=1 keeps both directories.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"

t_start=$SECONDS
mmr_init
mmr_need_rulebase
MAPPINGS=${MMRISK_MAPPINGS:-$MMR_SRCDIR/mappings}
SIMULATE=${MMRISK_SIMULATE:-$MMR_SRCDIR/contrib/simulator/mmrisk-simulate}
PGCONTRIB=$MMR_SRCDIR/contrib/postgresql
[ -f "$SIMULATE" ] || mmr_skip "simulator not found: $SIMULATE"
for f in schema.sql views.sql rsyslog-pgsql.conf; do
	[ -f "$PGCONTRIB/$f" ] || mmr_fail "missing $PGCONTRIB/$f"
done

# ---- packages ---------------------------------------------------------------------------------
# rsyslog's module directory: where the package put imptcp.so
rs_moddir() {
	local d
	d=$(dpkg -L rsyslog 2>/dev/null | grep '/imptcp\.so$' | head -n 1)
	[ -n "$d" ] && { dirname "$d"; return; }
	for d in /usr/lib/*/rsyslog /usr/lib/rsyslog /usr/lib64/rsyslog; do
		[ -f "$d/imptcp.so" ] && { echo "$d"; return; }
	done
}
pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ] && { echo "$d"; return; }
	done
	d=$(command -v initdb 2>/dev/null) && [ -x "$(dirname "$d")/pg_ctl" ] && dirname "$d"
}
have_packages() {
	PGBIN=$(pg_bindir)
	MODDIR=$(rs_moddir)
	[ -n "$PGBIN" ] && [ -n "$MODDIR" ] && [ -f "$MODDIR/ompgsql.so" ]
}
if ! have_packages; then
	pkgs="postgresql rsyslog-pgsql"
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 ||
		mmr_skip "needs PostgreSQL and rsyslog's ompgsql: apt-get install $pkgs (as root), or run this test as root once"
	mmr_log "installing $pkgs"
	# rsyslog-pgsql asks dbconfig-common to create a "Syslog" database and writes
	# /etc/rsyslog.d/pgsql.conf sending every message there. We want only ompgsql.so:
	# dbconfig-common takes its answers from this file when it exists.
	dbc=/etc/dbconfig-common/rsyslog-pgsql.conf
	if [ ! -e "$dbc" ]; then
		mkdir -p /etc/dbconfig-common &&
			printf "dbc_install='false'\ndbc_upgrade='false'\ndbc_remove='false'\ndbc_dbtype='pgsql'\n" >"$dbc"
	fi
	had_pgsql_conf=0
	[ -e /etc/rsyslog.d/pgsql.conf ] && had_pgsql_conf=1
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq --no-upgrade $pkgs >"$MMR_WORK/apt.log" 2>&1; then
		apt-get update -qq >>"$MMR_WORK/apt.log" 2>&1
		apt-get install -y -qq --no-upgrade $pkgs >>"$MMR_WORK/apt.log" 2>&1 ||
			mmr_fail "apt-get install $pkgs failed: $(tail -n 5 "$MMR_WORK/apt.log")"
	fi
	# Even unconfigured, the package writes /etc/rsyslog.d/pgsql.conf with an ompgsql action
	# that has no database (db=""), an error at every start of the system's rsyslogd: comment
	# that action out (the file is a conffile meant to be edited).
	if [ "$had_pgsql_conf" = 0 ] && [ -f /etc/rsyslog.d/pgsql.conf ] &&
		grep -q '^\*\.\* action(type="ompgsql".* db=""' /etc/rsyslog.d/pgsql.conf; then
		sed -i 's/^\*\.\* action(type="ompgsql"/#&/' /etc/rsyslog.d/pgsql.conf
		mmr_log "commented out the unconfigured ompgsql action in /etc/rsyslog.d/pgsql.conf"
	fi
	have_packages || mmr_fail "installed $pkgs but still no initdb/pg_ctl/psql or ompgsql.so"
fi
mmr_log "PostgreSQL tools: $PGBIN; ompgsql: $MODDIR/ompgsql.so"

# ---- a private cluster ------------------------------------------------------------------------
# PostgreSQL refuses to run as root: as root the cluster belongs to "postgres" (created by the
# package), in a directory of its own under /tmp (our work directory is private to root).
PGUSER_OS=
if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || mmr_fail "running as root, but there is no 'postgres' user to own the cluster"
	PGUSER_OS=postgres
fi
as_pg() {
	if [ -n "$PGUSER_OS" ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi
}
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-postgresql-db.XXXXXX") || mmr_fail "mktemp -d failed"
[ -n "$PGUSER_OS" ] && chown "$PGUSER_OS:" "$PGDIR"
chmod 700 "$PGDIR"
PG_RUNNING=0
pg_cleanup() {
	if [ "$PG_RUNNING" = 1 ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w -t 20 stop >/dev/null 2>&1
		PG_RUNNING=0
	fi
	if [ "${MMRISK_KEEP:-0}" = 1 ]; then
		printf '%s: PostgreSQL directory kept: %s\n' "$MMR_NAME" "$PGDIR" >&2
	else
		rm -rf "$PGDIR"
	fi
}
# lib.sh's EXIT trap stops rsyslogd and removes the work directory; stop the cluster first
# shellcheck disable=SC2154  # rc is set inside the trap
trap 'rc=$?; pg_cleanup; (exit $rc); mmr_cleanup' EXIT

as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U mmrisk --auth=trust -E UTF8 --no-locale --no-sync \
	>"$PGDIR/initdb.log" 2>&1 || mmr_fail "initdb failed: $(tail -n 5 "$PGDIR/initdb.log")"
PGPORT=
for try in 1 2 3; do
	save=$MMR_PORT
	MMR_PORT=
	mmr_pick_port
	cand=$MMR_PORT
	MMR_PORT=$save
	if as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgresql.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $cand -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >"$PGDIR/pg_ctl.log" 2>&1; then
		PG_RUNNING=1
		PGPORT=$cand
		break
	fi
	mmr_log "PostgreSQL did not start on port $cand (try $try): $(tail -n 2 "$PGDIR/postgresql.log" 2>/dev/null)"
done
[ -n "$PGPORT" ] || mmr_fail "could not start PostgreSQL: $(tail -n 5 "$PGDIR/postgresql.log" 2>/dev/null)"

sql() { # DB SQL...: one psql call as the superuser over TCP; rows unaligned, '|' separated
	local db=$1
	shift
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$PGPORT user=mmrisk dbname=$db" "$@"
}
sql postgres -c "CREATE DATABASE mmrisk" >/dev/null || mmr_fail "CREATE DATABASE failed"
sql mmrisk -f "$PGCONTRIB/schema.sql" -f "$PGCONTRIB/views.sql" >"$MMR_WORK/schema.out" 2>&1 ||
	mmr_fail "schema.sql / views.sql failed: $(tail -n 5 "$MMR_WORK/schema.out")"
# twice: the files must be safe to run again (an upgrade applies them over an existing schema)
sql mmrisk -f "$PGCONTRIB/schema.sql" -f "$PGCONTRIB/views.sql" >"$MMR_WORK/schema2.out" 2>&1 ||
	mmr_fail "running schema.sql / views.sql a second time failed: $(tail -n 5 "$MMR_WORK/schema2.out")"
# the account rsyslog logs in with has nothing but the writer role
sql mmrisk -c "CREATE ROLE mmrisk_rsyslog LOGIN IN ROLE mmrisk_writer" >/dev/null ||
	mmr_fail "CREATE ROLE failed"

# ---- the simulator's company ------------------------------------------------------------------
SIM=$MMR_WORK/sim
geo=
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || geo=--no-geoip
perl "$SIMULATE" --users 120 --days 10 --out "$SIM" --quiet $geo >"$MMR_WORK/sim.log" 2>&1 ||
	mmr_fail "the simulator failed: $(tail -n 5 "$MMR_WORK/sim.log")"
[ -s "$SIM/logs.syslog" ] && [ -s "$SIM/truth.json" ] || mmr_fail "the simulator wrote no logs.syslog/truth.json"
# the analyst's step: the corporate networks into the table the shared-IP views read
grep -v '^[[:space:]]*#' "$SIM/lists/corporate-networks.txt" | awk 'NF { print $1 }' >"$MMR_WORK/corp.txt"
[ -s "$MMR_WORK/corp.txt" ] || mmr_fail "no corporate networks in $SIM/lists/corporate-networks.txt"
sql mmrisk -c "\\copy mmrisk.corporate_networks (network) FROM '$MMR_WORK/corp.txt'" >/dev/null ||
	mmr_fail "loading the corporate networks failed"
corp=$(awk '{ printf "%s\"%s\"", (NR > 1 ? ", " : ""), $1 }' "$MMR_WORK/corp.txt")

# Records with awkward user names, inside the simulated period (so they do not move the newest
# event): CORP\Zoë "Q" O'Brien (key: zoë "q" o'brien) and an SQL injection attempt.
odd1='CORP\Zoë "Q" O'"'"'Brien'
odd2="evil'); DROP TABLE mmrisk.risk_events; --"
okta_rec() { # user ip published
	jq -cn --arg u "$1" --arg ip "$2" --arg t "$3" \
		'{eventType: "user.session.start", published: $t, actor: {type: "User", alternateId: $u},
		  client: {ipAddress: $ip}, outcome: {result: "SUCCESS"}}' |
		sed 's/^/<134>Oct  5 12:00:00 okta-collector okta: /'
}
{
	cat "$SIM/logs.syslog"
	okta_rec "$odd1" 198.51.100.201 2026-10-05T12:00:00.000Z
	okta_rec "$odd2" 198.51.100.202 2026-10-05T12:00:01.000Z
} >"$MMR_WORK/in.log"
sent=$(awk 'length($0) > 0 { n++ } END { print n + 0 }' "$MMR_WORK/in.log")

# ---- rsyslogd: the module, then the shipped ompgsql snippet ---------------------------------
sed -e "s/port=\"5432\"/port=\"$PGPORT\"/" -e 's/user="rsyslog"/user="mmrisk_rsyslog"/' \
	"$PGCONTRIB/rsyslog-pgsql.conf" >"$MMR_WORK/rsyslog-pgsql.conf"
grep -q "port=\"$PGPORT\"" "$MMR_WORK/rsyslog-pgsql.conf" && grep -q 'user="mmrisk_rsyslog"' "$MMR_WORK/rsyslog-pgsql.conf" ||
	mmr_fail "could not set the connection in the copy of rsyslog-pgsql.conf (port=\"5432\", user=\"rsyslog\" expected in it)"
ctx=
[ -f "$SIM/roster.csv" ] && ctx+=" roster=\"$SIM/roster.csv\""
[ -d "$SIM/lists" ] && ctx+=" lists.dir=\"$SIM/lists\""
[ -f "$SIM/geoip-city.mmdb" ] && ctx+=" geoip.city=\"$SIM/geoip-city.mmdb\""
[ -f "$SIM/geoip-asn.mmdb" ] && ctx+=" geoip.asn=\"$SIM/geoip-asn.mmdb\""
counts=$MMR_WORK/scored.txt
mmr_write_conf "$MMR_WORK/r.conf" <<EOF
include(file="$MMR_WORK/rsyslog-pgsql.conf")
template(name="pgtest_count" type="string" string="%\$.pgtest_scored%\n")
# A full queue blocks the TCP input (back-pressure) instead of discarding after 2 s.
ruleset(name="main" queue.type="LinkedList" queue.workerThreads="2"
	queue.size="200000" queue.timeoutEnqueue="3600000") {
	action(type="mmriskscore" rulebase="$MMR_RULEBASE" mappings="$MAPPINGS"
	       corporatenetworks=[$corp] $ctx)
	call mmriskscore_pgsql
	if exists(\$!risk) then set \$.pgtest_scored = "S"; else set \$.pgtest_scored = "-";
	action(type="omfile" file="$counts" template="pgtest_count")
}
EOF
"$MMR_RSYSLOGD" -N1 -f "$MMR_WORK/r.conf" >"$MMR_WORK/n1.log" 2>&1 ||
	mmr_fail "rsyslogd -N1 rejects the configuration with the shipped rsyslog-pgsql.conf: $(cat "$MMR_WORK/n1.log")"
# RFC 3164 timestamps carry no zone: the simulator writes UTC
export TZ=UTC
t_feed=$SECONDS
mmr_start "$MMR_WORK/r.conf"
mmr_send "$MMR_WORK/in.log"
mmr_wait_lines "$counts" "$sent" 120
scored=$(grep -c '^S$' "$counts")
[ "$scored" -gt 1000 ] || mmr_fail "only $scored of $sent messages were scored"

rows() { sql mmrisk -c "SELECT count(*) FROM mmrisk.risk_events" 2>/dev/null || echo -1; }
n=-1
for ((i = 0; i < 600; i++)); do
	n=$(rows)
	[ "$n" -ge "$scored" ] && break
	kill -0 "$MMR_PID" 2>/dev/null || mmr_fail "rsyslogd died; $n of $scored rows in mmrisk.risk_events"
	sleep 0.1
done
sleep 0.5 # a duplicate would show now
n=$(rows)
mmr_assert_eq "rows in mmrisk.risk_events = scored messages (of $sent sent)" "$scored" "$n"
mmr_assert_eq "documents in mmrisk.ingest_errors" 0 "$(sql mmrisk -c "SELECT count(*) FROM mmrisk.ingest_errors")"
mmr_log "$sent messages, $scored scored, $n rows in $((SECONDS - t_feed)) s"
mmr_stop
mmr_assert_eq "rows after rsyslogd stopped" "$scored" "$(rows)"

# ---- what arrived -----------------------------------------------------------------------------
got=$(sql mmrisk -c "SELECT user_raw FROM mmrisk.risk_events WHERE user_name = 'zoë \"q\" o''brien'")
mmr_assert_eq "the user name with quotes, a backslash and non-ASCII letters, byte for byte" "$odd1" "$got"
got=$(sql mmrisk -c "SELECT user_raw FROM mmrisk.risk_events WHERE src_ip = '198.51.100.202'")
mmr_assert_eq "the SQL injection attempt is stored as a user name" "$odd2" "$got"
mmr_assert_eq "rows whose canonical event disagrees with the columns" 0 \
	"$(sql mmrisk -c "SELECT count(*) FROM mmrisk.risk_events WHERE event->>'user' IS DISTINCT FROM user_name OR event->>'action' IS DISTINCT FROM action")"
got=$(sql mmrisk -c "SELECT count(*) FILTER (WHERE jsonb_array_length(reasons) > 0), count(*) FILTER (WHERE event ? 'event_time'), count(DISTINCT user_name) FROM mmrisk.risk_events")
IFS='|' read -r with_reasons with_body_time nusers <<<"$got"
[ "$with_reasons" -gt 100 ] && [ "$with_body_time" -gt 100 ] && [ "$nusers" -ge 120 ] ||
	mmr_fail "expected > 100 rows with reasons, > 100 with a time from the log body and >= 120 users; saw $got"

# ---- the views ----------------------------------------------------------------------------------
jq -r '.actors[] | select(.scenario == "laptop_farm") | .user' "$SIM/truth.json" | sort >"$MMR_WORK/farm.txt"
nactors=$(jq '.actors | length' "$SIM/truth.json")
[ -s "$MMR_WORK/farm.txt" ] || mmr_fail "truth.json names no laptop_farm actor"
sql mmrisk -c "SELECT rank, user_name, peak_user_score, peak_user_level, reasons_text FROM mmrisk.riskiest_users_7d" >"$MMR_WORK/top7d.txt"
while read -r u; do
	line=$(awk -F'|' -v u="$u" '$2 == u' "$MMR_WORK/top7d.txt")
	rank=${line%%|*}
	if [ -z "$line" ] || [ "$rank" -gt "$nactors" ]; then
		mmr_fail "laptop-farm actor $u should rank within the $nactors planted actors in riskiest_users_7d; it ranks ${rank:-nowhere}. Top 12:
$(head -n 12 "$MMR_WORK/top7d.txt")"
	fi
	case $line in *network.laptop_farm*) ;; *) mmr_fail "network.laptop_farm is not among the top reasons of $u: $line" ;; esac
done <"$MMR_WORK/farm.txt"

got=$(sql mmrisk -c "SELECT (SELECT max(event_time) FROM mmrisk.risk_events) = max(window_end),
	bool_and(window_end - window_start = interval '24 hours'), bool_and(last_seen > window_start), count(*) > 0
	FROM mmrisk.riskiest_users_24h")
mmr_assert_eq "riskiest_users_24h: ends at the newest event, spans 24 h, lists only users seen in it, is not empty" "t|t|t|t" "$got"
got=$(sql mmrisk -c "SELECT count(*) FROM mmrisk.riskiest_users('24 hours', (SELECT max(event_time) FROM mmrisk.risk_events) - interval '9 days')")
[ "$got" -gt 0 ] || mmr_fail "riskiest_users() with an explicit end 9 days back found nobody"

u=$(head -n 1 "$MMR_WORK/farm.txt")
got=$(sql mmrisk -c "SELECT count(*), count(*) FILTER (WHERE event_time < prev), bool_or(rules LIKE '%network.laptop_farm%')
	FROM (SELECT event_time, rules, lag(event_time) OVER (ORDER BY ordinality) AS prev
	      FROM mmrisk.user_timeline('$u') WITH ORDINALITY) t")
IFS='|' read -r tl_n tl_back tl_farm <<<"$got"
mmr_assert_eq "user_timeline('$u') has every event of $u" \
	"$(sql mmrisk -c "SELECT count(*) FROM mmrisk.risk_events WHERE user_name = '$u'")" "$tl_n"
mmr_assert_eq "events out of time order in user_timeline('$u')" 0 "$tl_back"
mmr_assert_eq "user_timeline('$u') shows network.laptop_farm" t "$tl_farm"
got=$(sql mmrisk -c "SELECT count(*) FROM mmrisk.user_timeline(upper('$u'), '24 hours')")
[ "$got" -gt 0 ] && [ "$got" -lt "$tl_n" ] ||
	mmr_fail "user_timeline(upper('$u'), '24 hours') should find some but not all $tl_n events, found $got"

farm_ip=$(jq -r '[.actors[] | select(.scenario == "laptop_farm") | .notes | capture("residential IP (?<ip>[0-9.]+)") | .ip] | first // empty' "$SIM/truth.json")
[ -n "$farm_ip" ] || mmr_fail "no 'residential IP a.b.c.d' in the laptop_farm notes of truth.json"
got=$(sql mmrisk -c "SELECT users, array_to_string(user_names, ' '), array_to_string(flagged_rules, ' '), corporate
	FROM mmrisk.shared_source_ips_7d WHERE src_ip = '$farm_ip'")
IFS='|' read -r ip_users ip_names ip_rules ip_corp <<<"$got"
[ -n "$got" ] && [ "$ip_users" -ge 3 ] ||
	mmr_fail "shared_source_ips_7d should list the farm's $farm_ip with >= 3 users; saw '$got'"
while read -r u; do
	[[ " $ip_names " == *" $u "* ]] || mmr_fail "farm actor $u missing from the users of $farm_ip: $ip_names"
done <"$MMR_WORK/farm.txt"
[[ $ip_rules == *network.laptop_farm* ]] || mmr_fail "$farm_ip is not flagged with network.laptop_farm: '$ip_rules'"
mmr_assert_eq "the farm's address is corporate" f "$ip_corp"
got=$(sql mmrisk -c "SELECT count(*) FILTER (WHERE corporate), count(*) FILTER (WHERE NOT corporate AND seen_corporate)
	FROM (SELECT s.corporate, bool_or(s.corporate) OVER (ORDER BY s.ordinality) AS seen_corporate
	      FROM mmrisk.shared_source_ips('7 days') WITH ORDINALITY AS s) x")
IFS='|' read -r n_corp n_after <<<"$got"
[ "$n_corp" -gt 0 ] && [ "$n_after" = 0 ] ||
	mmr_fail "shared_source_ips_7d should list the corporate egress addresses, and last: $n_corp corporate, $n_after non-corporate after one"

mmr_pass "$scored scored messages = $n rows; odd names intact; farm ($(paste -sd, "$MMR_WORK/farm.txt")) in the top $nactors of riskiest_users_7d; timeline ordered; $farm_ip shared by $ip_users users; $((SECONDS - t_start)) s"
