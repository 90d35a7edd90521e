#!/bin/bash
# Invariants of contrib/simulator/mmrisk-simulate on a small run (60 users, 7 days; seconds):
#   1 same seed => byte-identical outputs; another seed => different logs
#   2 logs.syslog is RFC 3164 "<PRI>Mmm dd hh:mm:ss HOST TAG MSG" and in time order
#   3 every line the generator marks as identity parses, with the shipped rulebase and mappings,
#     into the intended user/action/outcome/src_ip (expected.tsv); noise lines never do;
#     identity line counts per format equal summary.txt's
#   4 roster <-> logs: every user in the logs is in the roster, except the scanners' invented
#     names (only failures on the bastion); every roster user appears in the logs
#   5 truth.json is valid, actors start inside the window, lists/ are well-formed
#   6 the GeoIP databases answer (country and ASN) for sampled addresses (mmdblookup)
#   7 (runs before 6, needs no GeoIP) legitimate laptops never are in two countries at once:
#     for every non-actor user, consecutive laptop events (Okta "Computer" lines, VPN gateway
#     lines) in two countries, neither from a VPN/hosting exit, are at least the flight time
#     apart (great-circle km / 800 km/h + 3 h): travellers fly, offshore staff stay put
# Needs perl (JSON::PP is core), the built parse tool, and for the GeoIP part
# libmaxmind-db-writer-perl + mmdb-bin (installed here when missing and running as root).
# Exit: 0 pass, 1 fail, 77 skip (no parse tool, or GeoIP packages unavailable: then the other
# checks still ran and passed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${MMRISK_SRCDIR:-$(cd "$here/../../.." && pwd)}
build=${MMRISK_BUILDDIR:-$src/build}
parse=${MMRISK_PARSE:-$build/tools/mmriskscore-parse}
rulebase=${MMRISK_RULEBASE:-$build/rulebase/identity-vpn.rulebase}
sim=$src/contrib/simulator/mmrisk-simulate
name=check-simulator

fail() { echo "FAIL $name: $*"; exit 1; }
skip() { echo "SKIP $name: $*"; exit 77; }
[ -x "$parse" ] && [ -f "$rulebase" ] || skip "parse tool or rulebase not built ($parse, $rulebase)"

work=$(mktemp -d "${TMPDIR:-/tmp}/check-simulator.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- GeoIP packages: MaxMind::DB::Writer (to write) and mmdblookup (to read) ----------------
geo_skip=
if ! perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || ! command -v mmdblookup >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "$name: installing libmaxmind-db-writer-perl mmdb-bin" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-upgrade libmaxmind-db-writer-perl mmdb-bin >"$work/apt.log" 2>&1 ||
		{ apt-get update >>"$work/apt.log" 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-upgrade libmaxmind-db-writer-perl mmdb-bin >>"$work/apt.log" 2>&1; }
	fi
	if ! perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || ! command -v mmdblookup >/dev/null; then
		geo_skip="libmaxmind-db-writer-perl / mmdb-bin not installed and not installable (see apt output); GeoIP checks skipped"
	fi
fi
geoflag=; [ -n "$geo_skip" ] && geoflag=--no-geoip

seed=${CHECK_SIMULATOR_SEED:-7}
args=(--users 60 --days 7 --start 2026-10-19 --quiet --expected $geoflag)
"$sim" --seed "$seed" --out "$work/a" "${args[@]}" || fail "simulator run a failed"
"$sim" --seed "$seed" --out "$work/b" "${args[@]}" || fail "simulator run b failed"
"$sim" --seed $((seed + 1)) --out "$work/c" "${args[@]}" || fail "simulator run c failed"

# 1 reproducibility
for f in logs.syslog roster.csv truth.json summary.txt expected.tsv lists/corporate-networks.txt \
	lists/hosting.txt lists/commercial-vpn.txt lists/watch-countries.txt ${geoflag:+} $( [ -z "$geoflag" ] && echo geoip-city.mmdb geoip-asn.mmdb ); do
	[ -s "$work/a/$f" ] || fail "missing or empty output $f"
	cmp -s "$work/a/$f" "$work/b/$f" || fail "same seed, different $f"
done
cmp -s "$work/a/logs.syslog" "$work/c/logs.syslog" && fail "seeds $seed and $((seed + 1)) wrote the same logs.syslog"
echo "$name: 1 reproducible (seed $seed twice identical, seed $((seed + 1)) differs)"

# 2 header format and time order; build the parse input (tag + msg; Okta: the JSON msg, as the
#   module does for JSON messages)
perl -e '
	my %mon; @mon{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} = (0 .. 11);
	my ($prev, $n) = (-1, 0);
	open my $in, "<", $ARGV[0] or die; open my $out, ">", $ARGV[1] or die;
	while (<$in>) {
		$n++;
		/^<(\d{1,3})>(\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\S+) (\S.*)$/ && exists $mon{$2}
			or die "line $n: not RFC 3164: $_";
		my $k = ($mon{$2} * 32 + $3) * 86400 + $4 * 3600 + $5 * 60 + $6;   # one year, no wrap here
		die "line $n: out of time order\n" if $k < $prev;
		$prev = $k;
		(my $m = $8) =~ s/^okta: (?=\{)//;
		print $out "$m\n";
	}
	print "'$name': 2 $n lines, RFC 3164 headers, time-ordered\n";
' "$work/a/logs.syslog" "$work/parse.in" || fail "log format/order"

# 3 parse every line and compare with the generator's expectation
"$parse" -r "$rulebase" -m "$src/mappings" "$work/parse.in" >"$work/parse.out" || fail "mmriskscore-parse failed"
perl -MJSON::PP -e '
	my ($expf, $outf, $sumf) = @ARGV;
	open my $E, "<", $expf or die; open my $O, "<", $outf or die; open my $S, "<", $sumf or die;
	my (%ok, %bad, %sum, $n, $shown);
	while (<$S>) { $sum{$1} = $2 if /^lines\.(\S+)\.identity (\d+)$/ }
	while (my $e = <$E>) {
		my $o = <$O> // die "parse output too short\n"; $n++;
		chomp $e; my ($fmt, $kind, $user, $action, $outcome, $ip) = split /\t/, $e;
		my $j = decode_json($o);
		my $good = $kind eq "identity"
			? !$j->{unparsed} && !$j->{not_identity} && ($j->{user} // "") eq $user && ($j->{action} // "") eq $action
			  && ($j->{outcome} // "") eq $outcome && ($ip eq "-" ? !defined $j->{src_ip} : ($j->{src_ip} // "") eq $ip)
			: $j->{unparsed} || $j->{not_identity};
		if ($good) { $ok{$fmt}{$kind}++ } else { $bad{$fmt}++; print STDERR "line $n: expected [$e] parsed $o" if $shown++ < 5 }
	}
	die "parse output longer than the log\n" if defined <$O>;
	for my $f (sort keys %sum) {
		die "format $f: summary says $sum{$f} identity lines, parser agreed on " . ($ok{$f}{identity} // 0) . "\n"
			if $sum{$f} != ($ok{$f}{identity} // 0);
	}
	die "mismatches in: @{[sort keys %bad]}\n" if %bad;
	for my $f (qw(cisco_asa paloalto_globalprotect fortigate okta sshd)) { die "no identity lines of $f\n" unless $ok{$f}{identity} }
	print "'$name': 3 all $n lines parse as intended: ", join(", ", map { "$_ " . ($ok{$_}{identity} // 0) . "+" . ($ok{$_}{noise} // 0) } sort keys %ok), " (identity+noise)\n";
' "$work/a/expected.tsv" "$work/parse.out" "$work/a/summary.txt" || fail "parse check"

# 4 roster <-> logs, 5 truth and lists
perl -MJSON::PP -e '
	my ($dir) = @ARGV;
	open my $R, "<", "$dir/roster.csv" or die; my $hdr = <$R>;
	$hdr =~ /^user,department,title,manager,start_date,country,timezone,team$/ or die "roster header: $hdr";
	my %roster;
	while (<$R>) { my @f = split /,/; $f[4] =~ /^\d{4}-\d\d-\d\d$/ or die "roster start_date: $_"; $roster{$f[0]} = 1 }
	open my $E, "<", "$dir/expected.tsv" or die; open my $L, "<", "$dir/logs.syslog" or die;
	my (%seen, %stranger);
	while (my $e = <$E>) {
		my $line = <$L>;
		my (undef, $kind, $user) = split /\t/, $e;
		next unless $kind eq "identity";
		if ($roster{$user}) { $seen{$user} = 1; next }
		$line =~ / bastion-01 sshd\[\d+\]: (Invalid user|Failed password for invalid user|Failed password for) \Q$user\E from /
			or die "user $user is in the logs but not in the roster: $line";
		$stranger{$user}++;
	}
	my @missing = grep { !$seen{$_} } sort keys %roster;
	die "roster users never in the logs: @missing\n" if @missing;
	my $t = decode_json(do { local $/; open my $f, "<", "$dir/truth.json" or die; <$f> });
	$t->{users} == keys %roster or die "truth users != roster size\n";
	my ($y, $m, $d) = $t->{start} =~ /^(\d+)-(\d+)-(\d+)$/ or die "truth start\n";
	my %sc = map { $_ => 0 } qw(laptop_farm vps_operator concurrent_countries dormant_wakeup subtle);
	for my $a (@{$t->{actors}}) {
		exists $sc{$a->{scenario}} or die "unknown scenario $a->{scenario}\n";
		$roster{$a->{user}} or die "actor $a->{user} not in roster\n";
		$a->{start} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ && $a->{start} ge $t->{start} or die "actor start $a->{start}\n";
		$sc{$a->{scenario}}++;
	}
	$sc{laptop_farm} >= 3 or die "laptop farm has $sc{laptop_farm} actors (< 3)\n";
	$sc{$_} >= 1 or die "no $_ actor\n" for grep { $_ ne "laptop_farm" } keys %sc;
	my %actor = map { $_->{user} => 1 } @{$t->{actors}};
	my %kinds = map { $_ => 1 } qw(traveller offshore oncall consumer_vpn sysadmin new_hire shared_office_nat mfa_denier returning_leave);
	for my $c (@{$t->{confounders}}) {
		$kinds{$c->{kind}} or die "unknown confounder kind $c->{kind}\n";
		$roster{$c->{user}} && !$actor{$c->{user}} or die "confounder $c->{user} is unknown or an actor\n";
	}
	my %re = ("corporate-networks.txt" => qr{^[0-9a-f.:]+/\d+$}, "hosting.txt" => qr{^AS\d+$}, "commercial-vpn.txt" => qr{^AS\d+$}, "watch-countries.txt" => qr{^[A-Z]{2}$});
	for my $l (sort keys %re) {
		open my $f, "<", "$dir/lists/$l" or die; my $n = 0;
		while (<$f>) { s/#.*//; s/^\s+|\s+$//g; next if $_ eq ""; /$re{$l}/ or die "lists/$l: bad entry [$_]\n"; $n++ }
		$n or die "lists/$l is empty\n";
	}
	printf "'$name': 4 roster %d users all in the logs; %d scanner names, only failures on the bastion\n", scalar keys %roster, scalar keys %stranger;
	printf "'$name': 5 truth: %s; %d confounders; lists well-formed\n", join(" ", map { "$_=$sc{$_}" } sort keys %sc), scalar @{$t->{confounders}};
' "$work/a" || fail "roster/truth/lists"

# 7 physically consistent laptops of legitimate users (Okta gives each address its place; the
#   VPN lines reuse the addresses Okta has seen, since every VPN session follows a sign-in
#   from the same place that day)
perl -MJSON::PP -e '
	my ($dir) = @ARGV;
	my $t = decode_json(do { local $/; open my $f, "<", "$dir/truth.json" or die; <$f> });
	my %actor = map { $_->{user} => 1 } @{$t->{actors}};
	my %exitas;
	for my $l ("hosting.txt", "commercial-vpn.txt") { open my $f, "<", "$dir/lists/$l" or die; while (<$f>) { s/#.*//; $exitas{$1} = 1 if /AS(\d+)/ } }
	my %mon; @mon{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} = 0 .. 11;
	my (%where, @ev, $n, $bad);
	open my $L, "<", "$dir/logs.syslog" or die;
	while (<$L>) {
		my ($mo, $d, $H, $M, $S, $msg) = /^<\d+>(\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) \S+ (.*)$/ or next;
		my ($user, $ip);
		if ($msg =~ /^okta: (\{.*\})$/) {
			my $js = $1;
			next unless $msg =~ /"device":"Computer"/;
			my $j = decode_json($js); my $c = $j->{client}; my $g = $c->{geographicalContext};
			($user) = $j->{actor}{alternateId} =~ /^([^@]+)/; $ip = $c->{ipAddress};
			$where{$ip} //= [$g->{country}, $g->{geolocation}{lat}, $g->{geolocation}{lon},
				$j->{securityContext}{isProxy} || $exitas{$j->{securityContext}{asNumber}} ? 1 : 0];
		} elsif ($msg =~ /User <([^>]+)> IP <([^>]+)> AnyConnect parent|Username = ([^,]+), IP = ([^,]+), Session disconnected|GLOBALPROTECT,(?:[^,]*,){3}vsys1,gateway-[a-z]+,[a-z]+,[A-Z]*,[A-Z]*,([^,]+),[^,]*,[^,]*,([^,]+),|type="event" subtype="vpn".* remip=(\S+) .*user="([^"]+)"/) {
			($user, $ip) = defined $1 ? ($1, $2) : defined $3 ? ($3, $4) : defined $5 ? ($5, $6) : ($8, $7);
		} else { next }
		next if $actor{$user} || $ip =~ /^10\./;
		push @ev, [$user, ($mon{$mo} * 32 + $d) * 86400 + $H * 3600 + $M * 60 + $S, $ip];   # no month wrap in 7 days
	}
	my %last;
	for my $e (@ev) {
		my ($user, $tt, $ip) = @$e;
		my $w = $where{$ip} or die "VPN source $ip of $user never seen in an Okta line\n";
		if (my $p = $last{$user}) {
			my $pw = $where{$p->[1]};
			if ($pw->[0] ne $w->[0] && !$pw->[3] && !$w->[3]) {
				$n++;
				my $r = 3.14159265358979 / 180;
				my $h = sin(($w->[1] - $pw->[1]) * $r / 2) ** 2 + cos($pw->[1] * $r) * cos($w->[1] * $r) * sin(($w->[2] - $pw->[2]) * $r / 2) ** 2;
				my $km = 2 * 6371 * atan2(sqrt($h), sqrt(1 - $h));
				my $need = ($km / 800 + 3) * 3600;
				if ($tt - $p->[0] < $need) {
					printf STDERR "%s: %s (%s) then %s (%s) %.1f h later, %.0f km need %.1f h\n", $user, $p->[1], $pw->[0], $ip, $w->[0], ($tt - $p->[0]) / 3600, $km, $need / 3600 if $bad++ < 5;
				}
			}
		}
		$last{$user} = [$tt, $ip];
	}
	die "$bad laptop moves between countries faster than a flight\n" if $bad;
	printf "'$name': 7 %d laptop events of legitimate users, %d moves between countries, all at flight speed or slower\n", scalar @ev, $n // 0;
' "$work/a" || fail "physically impossible laptop moves"

# 6 GeoIP: every distinct public source address of identity lines (up to 60, evenly sampled)
if [ -n "$geo_skip" ]; then skip "$geo_skip"; fi
perl -ne '@f = split /\t/; print "$f[5]" if $f[1] eq "identity" && $f[5] ne "-\n" && $f[5] !~ /^10\./' "$work/a/expected.tsv" |
	sort -u >"$work/ips"
total=$(wc -l <"$work/ips")
[ "$total" -gt 0 ] || fail "no public source addresses"
step=$(( total / 60 + 1 ))
n=0
while read -r ip; do
	cc=$(mmdblookup --file "$work/a/geoip-city.mmdb" --ip "$ip" country iso_code 2>&1 | sed -n 's/.*"\([A-Z][A-Z]\)" <utf8_string>.*/\1/p')
	asn=$(mmdblookup --file "$work/a/geoip-asn.mmdb" --ip "$ip" autonomous_system_number 2>&1 | sed -n 's/^ *\([0-9][0-9]*\) <uint32>.*/\1/p')
	[ -n "$cc" ] && [ -n "$asn" ] || fail "GeoIP has no country/ASN for $ip (country '$cc', asn '$asn')"
	n=$((n + 1))
done < <(awk -v s="$step" 'NR % s == 1 || s == 1' "$work/ips")
echo "$name: 6 GeoIP city+ASN answer for $n of $total distinct public source addresses (sampled)"
echo "PASS $name"
