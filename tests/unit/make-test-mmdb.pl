#!/usr/bin/perl
# make-test-mmdb.pl - small MaxMind DB files for tests/unit/test_geoip.c.
#
#   make-test-mmdb.pl OUTDIR
#
# Writes into OUTDIR (which must exist):
#   city.mmdb     GeoLite2-City schema, IPv6 tree with IPv4 in ::a.b.c.d/96 (as MaxMind's own
#                 databases), record size 28
#   asn.mmdb      GeoLite2-ASN schema, same tree layout
#   country4.mmdb GeoLite2-Country schema, IPv4-only tree (ip_version 4): an IPv6 lookup in it
#                 must come back empty, not fail
#   other.mmdb    database_type "GeoIP2-Connection-Type": neither City/Country nor ASN
#
# Only documentation/test ranges (RFC 5737 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24;
# RFC 3849 2001:db8::/32) are mapped, hence remove_reserved_networks => 0. The values and
# which network carries what are the contract of test_geoip.c; change both together.
#
# Needs MaxMind::DB::Writer (Debian/Ubuntu: apt-get install libmaxmind-db-writer-perl); exits
# 77 (automake "skip") with a message when it is missing. Same approach as
# contrib/simulator/mmrisk-simulate.
use strict;
use warnings;
use utf8;

my $out = shift @ARGV;
die "usage: make-test-mmdb.pl OUTDIR\n" if !defined $out || @ARGV;
die "make-test-mmdb.pl: $out: not a directory\n" unless -d $out;
unless (eval { require MaxMind::DB::Writer::Tree; 1 }) {
	print STDERR "make-test-mmdb.pl: needs MaxMind::DB::Writer "
		. "(Debian/Ubuntu: apt-get install libmaxmind-db-writer-perl)\n";
	exit 77;
}

my %types = (city => 'map', continent => 'map', country => 'map', registered_country => 'map',
	location => 'map', names => 'map', en => 'utf8_string', geoname_id => 'uint32',
	iso_code => 'utf8_string', code => 'utf8_string', latitude => 'double',
	longitude => 'double', time_zone => 'utf8_string', accuracy_radius => 'uint16',
	autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string',
	connection_type => 'utf8_string');
sub tree {
	my ($type, $ipv) = @_;
	my $t = MaxMind::DB::Writer::Tree->new(ip_version => $ipv, record_size => 28,
		database_type => $type, languages => ['en'], remove_reserved_networks => 0,
		description => {en => "mmriskscore unit-test $type (documentation ranges only)"},
		map_key_type_callback => sub { $types{$_[0]} });
	$t->_set_build_epoch(1767225600);   # reproducible bytes
	return $t;
}
sub country { my ($cc, $name) = @_; return {iso_code => $cc, names => {en => $name}} }

# ---- City -------------------------------------------------------------------------------------
my $city = tree('GeoLite2-City', 6);
# Paris, with location and accuracy radius
$city->insert_network('192.0.2.0/25', {
	city => {geoname_id => 2988507, names => {en => 'Paris'}},
	continent => {code => 'EU', names => {en => 'Europe'}},
	country => country('FR', 'France'), registered_country => country('FR', 'France'),
	location => {latitude => 48.8566, longitude => 2.3522, accuracy_radius => 20,
		time_zone => 'Europe/Paris'}});
# a 60-byte UTF-8 city name ("Ñ" x 30): must be cut on a character boundary (46 bytes)
$city->insert_network('192.0.2.128/25', {
	city => {names => {en => 'Ñ' x 30}},
	country => country('ES', 'Spain'),
	location => {latitude => 40.4168, longitude => -3.7038}});
# London, accuracy 50
$city->insert_network('198.51.100.0/24', {
	city => {geoname_id => 2643743, names => {en => 'London'}},
	country => country('GB', 'United Kingdom'), registered_country => country('GB', 'United Kingdom'),
	location => {latitude => 51.5074, longitude => -0.1278, accuracy_radius => 50}});
# only registered_country (as MaxMind has for anycast/satellite ranges): no city, no location
$city->insert_network('203.0.113.0/24', {registered_country => country('KP', 'North Korea')});
# IPv6: São Paulo (UTF-8 name), accuracy 100
$city->insert_network('2001:db8:1::/48', {
	city => {geoname_id => 3448439, names => {en => 'São Paulo'}},
	country => country('BR', 'Brazil'), registered_country => country('BR', 'Brazil'),
	location => {latitude => -23.5505, longitude => -46.6333, accuracy_radius => 100}});
# IPv6: Pyongyang, a lower-case iso_code (must come out upper case)
$city->insert_network('2001:db8:2::/48', {
	city => {names => {en => 'Pyongyang'}},
	country => country('kp', 'North Korea'),
	location => {latitude => 39.0392, longitude => 125.7625, accuracy_radius => 500}});

# ---- ASN --------------------------------------------------------------------------------------
my $asn = tree('GeoLite2-ASN', 6);
$asn->insert_network('192.0.2.0/24', {autonomous_system_number => 64496,
	autonomous_system_organization => 'Example Transit'});
$asn->insert_network('198.51.100.0/24', {autonomous_system_number => 64500,
	autonomous_system_organization => 'Sample Net Ltd'});
# an organization name longer than the 63 bytes mmr_geo keeps
$asn->insert_network('203.0.113.0/24', {autonomous_system_number => 64499,
	autonomous_system_organization => 'Very Long Organization Name Hosting Cloud Services '
		. 'International Limited'});
$asn->insert_network('2001:db8:1::/48', {autonomous_system_number => 64511,
	autonomous_system_organization => 'Ünïcode Networks'});
# number without organization
$asn->insert_network('2001:db8:2::/48', {autonomous_system_number => 4200000001});
# organization names of the classes enrichment derives from them (enrich/client.h): a mobile
# carrier and an in-flight Wi-Fi provider
$asn->insert_network('2001:db8:4::/48', {autonomous_system_number => 64513,
	autonomous_system_organization => 'Horizon WIRELESS'});
$asn->insert_network('2001:db8:5::/48', {autonomous_system_number => 64514,
	autonomous_system_organization => 'Gogo Business Aviation'});
# invalid UTF-8 in the organization: the writer only writes valid UTF-8, so a marker is written
# and its bytes are replaced in the file afterwards (same length: the structure stays valid)
my $BAD_MARK = "BAD\x{FF}\x{FF}ORG";          # encodes as BAD C3 BF C3 BF ORG
my $BAD_BYTES = "BAD\xFF\xFE\xC0\xAFORG";     # stray bytes and an overlong "/"
$asn->insert_network('2001:db8:3::/48', {autonomous_system_number => 64512,
	autonomous_system_organization => $BAD_MARK});

# ---- Country, IPv4 only -----------------------------------------------------------------------
my $c4 = tree('GeoLite2-Country', 4);
$c4->insert_network('198.51.100.0/24', {country => country('JP', 'Japan'),
	registered_country => country('JP', 'Japan')});

# ---- a type the module does not read ----------------------------------------------------------
my $other = tree('GeoIP2-Connection-Type', 6);
$other->insert_network('192.0.2.0/24', {connection_type => 'Corporate'});

for (['city.mmdb', $city], ['asn.mmdb', $asn], ['country4.mmdb', $c4], ['other.mmdb', $other]) {
	open my $fh, '>:raw', "$out/$_->[0]" or die "make-test-mmdb.pl: $out/$_->[0]: $!\n";
	$_->[1]->write_tree($fh);
	close $fh or die "make-test-mmdb.pl: $out/$_->[0]: $!\n";
}

{
	my $f = "$out/asn.mmdb";
	open my $in, '<:raw', $f or die "make-test-mmdb.pl: $f: $!\n";
	my $bytes = do { local $/; <$in> };
	close $in;
	my $mark = $BAD_MARK;
	utf8::encode($mark);
	my $n = () = $bytes =~ /\Q$mark\E/g;
	die "make-test-mmdb.pl: $f: expected the invalid-UTF-8 marker once, found it $n times\n"
		unless $n == 1;
	$bytes =~ s/\Q$mark\E/$BAD_BYTES/;
	open my $o, '>:raw', $f or die "make-test-mmdb.pl: $f: $!\n";
	print $o $bytes;
	close $o or die "make-test-mmdb.pl: $f: $!\n";
}
