#!/bin/sh
# Obtain a configured rsyslog source tree whose headers match the installed rsyslogd.
#
# Debian ships no rsyslog-dev package, so an out-of-tree module compiles against the
# headers of rsyslog's own source package, configured once (config.h) and never built.
# The upstream version of the source MUST equal the installed binary's, and it MUST be
# configured with --disable-debug: a debug configure changes the layout of smsg_t and a
# module built against it loads silently and corrupts memory (tests/abi catches that).
#
# Usage: scripts/rsyslog-headers.sh [--print-dir] [--debug]
#   Prints the configured tree's path as the last line of stdout.
#   --debug  prepare instead a copy of the same source configured WITH --enable-debug, cached
#            in $cache/rsyslog-<version>-debug. Its headers do NOT match the installed
#            rsyslogd; it exists only so tests/abi/abi-guard-catches-debug.sh can prove that
#            the ABI guard rejects such a tree. Never build the module against it.
#   The upstream tarball is kept in the cache (rsyslog_<version>.orig.tar.*) so that the
#   second tree needs no second download.
# Environment:
#   MMRISK_CACHE   cache directory (default /var/cache/mmriskscore as root,
#                  else ${XDG_CACHE_HOME:-$HOME/.cache}/mmriskscore)
#   RSYSLOG_SRC_VERSION  Debian source version to fetch (default: the installed
#                  binary's version, then any source version with the same upstream version)
# A second run finds the cached tree and returns in well under a second.
set -eu

debug=no
for arg in "$@"; do
	case $arg in
	--print-dir) ;;
	--debug) debug=yes ;;
	*) echo "usage: $0 [--print-dir] [--debug]" >&2; exit 2 ;;
	esac
done

say() { echo "rsyslog-headers: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [ "$(id -u)" = 0 ]; then
	cache=${MMRISK_CACHE:-/var/cache/mmriskscore}
else
	cache=${MMRISK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmriskscore}
fi

command -v dpkg-query >/dev/null 2>&1 ||
	die "dpkg-query not found: this script obtains headers on Debian/Ubuntu only.
  On other systems configure and point at any rsyslog source tree yourself:
  ./configure --with-rsyslog-src=/path/to/rsyslog-X.Y.Z (configured with --disable-debug)"

installed=$(dpkg-query -W -f='${Status} ${Version}' rsyslog 2>/dev/null | sed -n 's/^install ok installed //p')
[ -n "$installed" ] || die "the rsyslog package is not installed (apt-get install rsyslog)"
upstream=$(echo "$installed" | sed -e 's/^[0-9]*://' -e 's/-[^-]*$//')
tree="$cache/rsyslog-$upstream"
flags="--disable-debug --disable-libgcrypt --disable-fmhttp --disable-liblogging-stdlog"
if [ "$debug" = yes ]; then
	# Same flags except the one that matters: this tree must differ from the binary.
	tree="$cache/rsyslog-$upstream-debug"
	flags="--enable-debug --disable-libgcrypt --disable-fmhttp --disable-liblogging-stdlog"
fi
stamp="$tree/.mmriskscore-configured"

if [ -f "$stamp" ] && [ -f "$tree/config.h" ]; then
	say "using cached headers for rsyslog $upstream in $tree"
	echo "$tree"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "fetching the rsyslog source needs root (apt); run as root once, or set
  MMRISK_CACHE to a tree prepared by root"

# An upstream tarball kept by an earlier run saves the download (and apt's source indexes).
cached_orig=$(ls "$cache"/rsyslog_"$upstream".orig.tar.* 2>/dev/null | head -n 1) || true
got=""
if [ -n "$cached_orig" ]; then
	got="$(basename "$cached_orig") (cached)"
	say "using cached upstream tarball $cached_orig"
fi

# Make sure source indexes are known to apt. Stock Debian 12 has only binary sources.
if [ -z "$got" ] && ! apt-cache showsrc rsyslog 2>/dev/null | grep -q '^Version:'; then
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "cannot tell the Debian codename from /etc/os-release"
	src=/etc/apt/sources.list.d/mmriskscore-deb-src.sources
	say "enabling deb-src for $codename in $src"
	cat >"$src" <<SRC
# Added by mmriskscore's scripts/rsyslog-headers.sh to fetch rsyslog's source.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -qq >&2 || die "apt-get update failed after enabling deb-src"
fi

# Candidate source versions: the requested one, else the installed one first, then every
# other source version with the same upstream version (Debian sometimes publishes a binary
# whose exact source is not downloadable; the same upstream version has the same headers).
if [ -z "$got" ]; then
	versions=$(apt-cache showsrc rsyslog 2>/dev/null | sed -n 's/^Version: //p' | sort -u)
	cands=""
	if [ -n "${RSYSLOG_SRC_VERSION:-}" ]; then
		cands=$RSYSLOG_SRC_VERSION
	else
		for v in $installed $(echo "$versions" | sort -r); do
			vu=$(echo "$v" | sed -e 's/^[0-9]*://' -e 's/-[^-]*$//')
			[ "$vu" = "$upstream" ] || continue
			case " $cands " in *" $v "*) ;; *) cands="$cands $v" ;; esac
		done
	fi
	[ -n "$cands" ] || die "no rsyslog source package with upstream version $upstream is known to apt
  (source versions known: $(echo $versions)).
  Fetch rsyslog-$upstream.tar.gz from rsyslog.com yourself, configure it with
  ./configure --disable-debug --disable-libgcrypt --disable-fmhttp --disable-liblogging-stdlog
  and run: ./configure --with-rsyslog-src=/path/to/rsyslog-$upstream"
fi

for p in dpkg-dev zlib1g-dev uuid-dev pkg-config libestr-dev libfastjson-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="${need:-} $p"
done
if [ -n "${need:-}" ]; then
	say "installing build prerequisites:$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade $need >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mmrisk-rsyslog-src.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -n "$got" ] || for v in $cands; do
	say "fetching rsyslog source $v"
	if (cd "$work" && apt-get source --download-only -qq "rsyslog=$v" >&2); then
		got=$v
		break
	fi
	say "source $v could not be downloaded; trying the next candidate"
done
[ -n "$got" ] || die "none of the source versions [$cands ] could be downloaded.
  Set RSYSLOG_SRC_VERSION=<debian version> or point configure at a tree you prepared:
  ./configure --with-rsyslog-src=/path/to/rsyslog-$upstream (configured with --disable-debug)"

if [ -n "$cached_orig" ]; then
	orig=$cached_orig
else
	orig=$(ls "$work"/rsyslog_*.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$orig" ] || die "downloaded source has no upstream tarball"
fi
rm -rf "$tree"
mkdir -p "$cache"
# Keep the upstream tarball for a later run (e.g. --debug); it is small (about 3 MB).
[ -n "$cached_orig" ] || cp "$orig" "$cache/" 2>/dev/null || true
tar -C "$work" -xf "$orig"
src=$(find "$work" -maxdepth 1 -type d -name "rsyslog-*" | head -n 1)
[ -n "$src" ] || die "upstream tarball did not unpack to rsyslog-*"

say "configuring rsyslog $upstream for headers only (about a minute): $flags"
if ! (cd "$src" && ./configure $flags >"$work/configure.log" 2>&1); then
	tail -n 30 "$work/configure.log" >&2
	die "configure of rsyslog $upstream failed (log above)"
fi
mv "$src" "$tree"
printf 'source=%s\nflags=%s\n' "$got" "$flags" >"$stamp"
say "headers ready in $tree"
echo "$tree"
