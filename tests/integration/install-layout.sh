#!/bin/bash
# `make install` puts mmriskscore.so into the installed rsyslog's module directory (asked of
# the rsyslog package, not hard-coded), without libtool's .la, and the rulebases under
# $(datadir)/mmriskscore/rulebase; a config that loads the module by name from there passes
# `rsyslogd -N1`. Installs into a DESTDIR, never into the system.
set -u
top=${MMRISK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MMRISK_BUILDDIR:-$top/build}
rsyslogd=${RSYSLOGD:-rsyslogd}
command -v "$rsyslogd" >/dev/null || { echo "SKIP: rsyslogd not installed"; exit 77; }
[ -f "$build/Makefile" ] || { echo "SKIP: $build is not configured"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

moddir=$(sed -n 's/^moddir = //p' "$build/Makefile")
prefix=$(sed -n 's/^prefix = //p' "$build/Makefile")
pkg_moddir=$(dpkg -L rsyslog 2>/dev/null | grep '/imuxsock\.so$' | head -n 1 | xargs -r dirname)
[ -n "$pkg_moddir" ] && [ "$moddir" != "$pkg_moddir" ] &&
	fail "configure chose moddir '$moddir' but the rsyslog package keeps its modules in '$pkg_moddir'"

make -s -C "$build" install DESTDIR="$tmp" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install failed"; }
so="$tmp$moddir/mmriskscore.so"
[ -f "$so" ] || fail "no $moddir/mmriskscore.so after make install"
[ -e "$tmp$moddir/mmriskscore.la" ] && fail "libtool's mmriskscore.la was installed next to the module"
rb="$tmp$prefix/share/mmriskscore/rulebase"
for f in identity-vpn.rulebase sshd.rulebase cisco-asa.rulebase; do
	[ -f "$rb/$f" ] || fail "no $prefix/share/mmriskscore/rulebase/$f after make install"
done
[ -x "$tmp$prefix/bin/mmriskscore-parse" ] || fail "mmriskscore-parse not installed in $prefix/bin"

cat >"$tmp/check.conf" <<CONF
global(workDirectory="$tmp")
module(load="$so")
action(type="mmriskscore" rulebase="$rb/identity-vpn.rulebase")
CONF
"$rsyslogd" -N1 -f "$tmp/check.conf" >"$tmp/n1.log" 2>&1 ||
	{ cat "$tmp/n1.log"; fail "rsyslogd -N1 rejects the installed module and rulebase"; }
echo "PASS: installed $moddir/mmriskscore.so and $(ls "$rb" | wc -l) rulebase files; rsyslogd -N1 accepts them"
