#!/bin/sh
# ABI guard: prove that an rsyslog header tree describes the same structs as the installed
# rsyslogd. rsyslogd checks only the module interface number, never struct layouts, so a module
# built against a mismatched tree (e.g. configured with --enable-debug, the default in a git
# checkout) loads silently and corrupts memory. See tests/abi/README.md.
#
# Usage: tests/abi/abi-guard.sh [RSYSLOG_TREE]
#   RSYSLOG_TREE  configured rsyslog source tree (has config.h, runtime/, grammar/);
#                 default $MMRISK_RSYSLOG_SRC, else the output of scripts/rsyslog-headers.sh
# Environment: RSYSLOGD (default: rsyslogd in PATH or /usr/sbin), CC (default cc),
#   ABI_GUARD_KEEP=1 keeps the temp dir for inspection.
# Exit: 0 tree matches, 1 mismatch or error, 77 (automake SKIP) rsyslogd is not installed.
#
# 1. Static: rsyslogd -v feature lines vs the tree's config.h macros that select them.
# 2. Dynamic: tests/abi/abi_probe.c, compiled against the tree exactly like the module, runs in
#    a private rsyslogd and compares smsg_t fields read through the headers with what the
#    binary's own functions return for the same message object.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
say() { echo "abi-guard: $*"; }
fail=0
static_bad=""

# --- inputs ---------------------------------------------------------------------------------
RSYSLOGD=${RSYSLOGD:-}
if [ -z "$RSYSLOGD" ] || [ "$RSYSLOGD" = no ]; then
	RSYSLOGD=$(command -v rsyslogd 2>/dev/null || true)
	[ -n "$RSYSLOGD" ] || { [ -x /usr/sbin/rsyslogd ] && RSYSLOGD=/usr/sbin/rsyslogd; }
fi
if [ -z "$RSYSLOGD" ] || [ ! -x "$RSYSLOGD" ]; then
	say "SKIP: rsyslogd is not installed (apt-get install rsyslog)"
	exit 77
fi

tree=${1:-${MMRISK_RSYSLOG_SRC:-}}
if [ -z "$tree" ]; then
	tree=$(sh "$top/scripts/rsyslog-headers.sh" | tail -n 1)
	if [ -z "$tree" ]; then
		say "FAIL: no rsyslog tree given and scripts/rsyslog-headers.sh could not provide one"
		exit 1
	fi
fi
cfg=$tree/config.h
if [ ! -f "$cfg" ] || [ ! -f "$tree/runtime/msg.h" ]; then
	say "FAIL: $tree is not a configured rsyslog source tree (needs config.h and runtime/msg.h)"
	exit 1
fi
say "tree $tree"
say "binary $RSYSLOGD"

# --- 1. static check ------------------------------------------------------------------------
vout=$("$RSYSLOGD" -v 2>&1) || { say "FAIL: $RSYSLOGD -v failed: $vout"; exit 1; }

defined() { grep -Eq "^[[:space:]]*#[[:space:]]*define[[:space:]]+$1([[:space:]]|\$)" "$cfg"; }
yn() { if defined "$1"; then echo Yes; else echo No; fi; }
# A macro matters for the ABI when a header a module includes tests it (struct members,
# inline code, locking macros); others only change code inside rsyslogd itself.
in_headers() {
	grep -Eqs "^[[:space:]]*#[[:space:]]*(if|ifdef|ifndef|elif).*[^A-Za-z0-9_]$1([^A-Za-z0-9_]|\$)" \
		"$tree"/runtime/*.h "$tree"/grammar/*.h
}
# check LABEL BINARY_VALUE TREE_VALUE MACROS...
check() {
	label=$1 bin=$2 hdr=$3
	shift 3
	if [ -z "$bin" ]; then
		say "note: '$label' is not in rsyslogd -v output; not compared"
		return
	fi
	if [ "$bin" = "$hdr" ]; then
		say "ok:   $label: $bin (rsyslogd) = $hdr (tree: $*)"
		return
	fi
	relevant=no
	for m in "$@"; do in_headers "$m" && relevant=yes; done
	if [ "$relevant" = yes ]; then
		say "ERROR: '$label' differs: rsyslogd says $bin, tree $tree says $hdr ($* in config.h; used by rsyslog's headers, so the struct layouts or inline code differ)"
		static_bad="$static_bad
   - $label: rsyslogd=$bin tree=$hdr ($*)"
	else
		say "note: '$label' differs: rsyslogd says $bin, tree says $hdr ($* in config.h); no header a module includes uses it, so not an ABI difference"
	fi
}
vline() { echo "$vout" | sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" | head -n 1; }

bin_version=$(echo "$vout" | sed -n '1s/^rsyslogd[[:space:]]*\([^[:space:]]*\).*/\1/p')
tree_version=$(sed -n 's/^#define VERSION "\(.*\)"/\1/p' "$cfg")
if [ "$bin_version" = "$tree_version" ]; then
	say "ok:   version: $bin_version"
else
	say "ERROR: version differs: rsyslogd is $bin_version, tree $tree is $tree_version"
	static_bad="$static_bad
   - version: rsyslogd=$bin_version tree=$tree_version"
fi

if defined NDEBUG && ! defined DEBUG; then tdebug=No; else tdebug=Yes; fi
check "FEATURE_DEBUG" "$(vline 'FEATURE_DEBUG (debug build, slow code)')" "$tdebug" NDEBUG DEBUG
check "32bit Atomic operations" "$(vline '32bit Atomic operations supported')" \
	"$(yn HAVE_ATOMIC_BUILTINS)" HAVE_ATOMIC_BUILTINS
check "64bit Atomic operations" "$(vline '64bit Atomic operations supported')" \
	"$(yn HAVE_ATOMIC_BUILTINS64)" HAVE_ATOMIC_BUILTINS64
check "FEATURE_REGEXP" "$(vline FEATURE_REGEXP)" "$(yn FEATURE_REGEXP)" FEATURE_REGEXP
if defined SYSLOG_INET && defined USE_GSSAPI; then tgss=Yes; else tgss=No; fi
check "GSSAPI Kerberos 5 support" "$(vline 'GSSAPI Kerberos 5 support')" "$tgss" USE_GSSAPI SYSLOG_INET
if defined HAVE_JEMALLOC; then talloc=jemalloc; else talloc="system default"; fi
check "memory allocator" "$(vline 'memory allocator')" "$talloc" HAVE_JEMALLOC
check "Runtime Instrumentation" "$(vline 'Runtime Instrumentation (slow code)')" "$(yn RTINST)" RTINST
check "uuid support" "$(vline 'uuid support')" "$(yn USE_LIBUUID)" USE_LIBUUID
check "systemd support" "$(vline 'systemd support')" "$(yn HAVE_LIBSYSTEMD)" HAVE_LIBSYSTEMD
# rsyslogd prints a constant, selected by no macro: compare it with what the tree's own
# tools/rsyslogd.c prints. A different width would change every RainerScript value.
bbits=$(vline 'Number of Bits in RainerScript integers')
tbits=$(sed -n 's/.*Number of Bits in RainerScript integers: \([0-9]*\).*/\1/p' "$tree/tools/rsyslogd.c" 2>/dev/null | head -n 1)
if [ -z "$bbits" ] || [ -z "$tbits" ]; then
	say "note: RainerScript integer width not compared (rsyslogd: ${bbits:-?}, tree: ${tbits:-?})"
elif [ "$bbits" = "$tbits" ]; then
	say "ok:   Number of Bits in RainerScript integers: $bbits"
else
	say "ERROR: RainerScript integers: rsyslogd has $bbits bits, tree $tree has $tbits"
	static_bad="$static_bad
   - RainerScript integer bits: rsyslogd=$bbits tree=$tbits"
fi
# Not in -v, but it adds members to rsconf_t: tell it from the libraries the binary needs.
if command -v objdump >/dev/null 2>&1; then
	if objdump -p "$RSYSLOGD" 2>/dev/null | grep -q 'NEEDED.*liblogging-stdlog'; then bstd=Yes; else bstd=No; fi
	check "liblogging-stdlog (NEEDED by rsyslogd)" "$bstd" "$(yn ENABLE_LIBLOGGING_STDLOG)" ENABLE_LIBLOGGING_STDLOG
fi

# --- 2. dynamic check -----------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/abi-guard.XXXXXX")
pid=""
stop_rsyslogd() { # only the rsyslogd this script started, by its pid
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	pid=""
}
cleanup() {
	stop_rsyslogd
	if [ "${ABI_GUARD_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

CC=${CC:-cc}
# shellcheck disable=SC2046
if ! $CC -std=gnu11 -O1 -DHAVE_CONFIG_H -I"$tree" -I"$tree/runtime" -I"$tree/grammar" \
	$(pkg-config --cflags libfastjson libestr) -fPIC -shared \
	-o "$tmp/abi_probe.so" "$here/abi_probe.c" >"$tmp/cc.log" 2>&1; then
	cat "$tmp/cc.log"
	say "FAIL: the probe does not compile against $tree (see above)"
	exit 1
fi

mkdir "$tmp/work"
cat >"$tmp/rsyslog.conf" <<CONF
global(workDirectory="$tmp/work" processInternalMessages="on")
module(load="imptcp")
module(load="$tmp/abi_probe.so")
input(type="imptcp" address="127.0.0.1" port="0" listenPortFileName="$tmp/port" ruleset="probe")
ruleset(name="probe") {
	action(type="abi_probe" file="$tmp/verdicts")
	action(type="omfile" file="$tmp/received.log")
}
*.* action(type="omfile" file="$tmp/internal.log")
CONF

# Messages of different shapes: short raw message (stored inside smsg_t), long raw message,
# hostname / tag / program name short and long enough to leave their inline buffers, RFC5424.
long=$(printf '%0300d' 0 | tr 0 x)
cat >"$tmp/input" <<MSGS
<13>Nov 27 10:00:00 h1 app: short
<38>Nov 27 10:00:01 srv1 sshd[123]: Accepted password for alice from 198.51.100.7 port 50522 ssh2
<86>Nov 27 10:00:02 a-rather-long-hostname-beyond-32-bytes.example.com averyveryverylongprogramname-and-tag[4242]: $long
<165>1 2026-11-27T10:00:03.000Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] RFC5424 message
<134>Nov 27 10:00:04 asa01 %ASA-6-113004: AAA user authentication Successful : server = 10.0.0.1 : user = bob
MSGS
nmsg=$(wc -l <"$tmp/input")

"$RSYSLOGD" -n -C -f "$tmp/rsyslog.conf" -i "$tmp/rsyslogd.pid" >"$tmp/rsyslogd.out" 2>&1 &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s "$tmp/port" ]; then
	cat "$tmp/rsyslogd.out" "$tmp/internal.log" 2>/dev/null
	say "FAIL: the private rsyslogd did not start listening (output above)"
	exit 1
fi
port=$(cat "$tmp/port")
if ! bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && cat >&3' sh "$port" <"$tmp/input"; then
	say "FAIL: could not send test messages to 127.0.0.1:$port"
	exit 1
fi
i=0
got=0
while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
	got=$(grep -c '^abi-probe ' "$tmp/verdicts" 2>/dev/null)
	[ "${got:-0}" -ge "$nmsg" ] && break
	sleep 0.1
	i=$((i + 1))
done
alive=yes
kill -0 "$pid" 2>/dev/null || alive=no
stop_rsyslogd

verdicts=$(cat "$tmp/verdicts" 2>/dev/null)
got=$(printf '%s\n' "$verdicts" | grep -c '^abi-probe ')
nok=$(printf '%s\n' "$verdicts" | grep -c ' verdict=OK ')
first=$(printf '%s\n' "$verdicts" | grep -m 1 '^abi-probe ')
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
hsize=$(field "$first" hdr_sizeof_smsg)
hoff=$(field "$first" hdr_off_iLenRawMsg)
hraw=$(field "$first" hdr_off_szRawMsg)
# the binary's own offset of the inline raw buffer, from a short message
boff=$(printf '%s\n' "$verdicts" | tr ' ' '\n' | sed -n 's/^bin_off_rawbuf=//p' | grep -v '^-1$' | head -n 1)

say "probe: $got/$nmsg verdicts, $nok OK; headers: sizeof(smsg_t)=${hsize:-?}" \
	"offsetof(iLenRawMsg)=${hoff:-?} offsetof(szRawMsg)=${hraw:-?};" \
	"rsyslogd keeps a short raw message at offset ${boff:-?}"
if [ "$got" -lt "$nmsg" ] || [ "$nok" -ne "$got" ] || [ "$alive" = no ]; then
	fail=1
	printf '%s\n' "$verdicts" | grep -v ' verdict=OK ' | sed 's/^/   /'
	if [ "$alive" = no ]; then
		say "rsyslogd died while the probe ran (a layout mismatch can crash it):"
		sed 's/^/   /' "$tmp/rsyslogd.out" "$tmp/internal.log" 2>/dev/null | tail -n 20
	elif [ "$got" -lt "$nmsg" ]; then
		say "only $got of $nmsg messages reached the probe; rsyslogd said:"
		sed 's/^/   /' "$tmp/rsyslogd.out" "$tmp/internal.log" 2>/dev/null | tail -n 20
	fi
	bad=$(printf '%s\n' "$verdicts" | grep -v ' verdict=OK ' | grep -m 1 '^abi-probe ')
	rl=$(field "${bad:-$first}" rawlen)
	badf=$(printf '%s\n' "$verdicts" | tr ' ' '\n' | sed -n 's/^bad=//p' | grep -v '^-$' | tr ',' '\n' | sort -u | tr '\n' ' ' | sed 's/ $//')
	shift_txt=""
	if [ -n "$boff" ] && [ -n "$hraw" ] && [ "$boff" != "$hraw" ]; then
		shift_txt=", and puts szRawMsg at offset $hraw where rsyslogd has it at $boff (shifted by $((hraw - boff)) bytes)"
	fi
	cat <<MSG

ABI MISMATCH: headers in $tree put smsg_t.iLenRawMsg at offset ${hoff:-?} (reading ${rl%%/*}) but the installed rsyslogd disagrees (getRawMsgLen() = ${rl##*/})$shift_txt; fields that differ: ${badf:-?}.
  Was the tree configured with --enable-debug? A module built against it loads silently
  into $RSYSLOGD and corrupts memory. Use headers matching the installed rsyslogd:
    scripts/rsyslog-headers.sh            (prepares and prints a --disable-debug tree)
  or reconfigure your tree:  ./configure --disable-debug ...   and rebuild the module with
    ./configure --with-rsyslog-src=<that tree>
MSG
fi

if [ -n "$static_bad" ]; then
	fail=1
	cat <<MSG

ABI MISMATCH (static): config.h of $tree differs from how $RSYSLOGD was built:$static_bad
  Fix: reconfigure the tree to match (./configure --disable-debug for FEATURE_DEBUG), or run
  scripts/rsyslog-headers.sh, which prepares a matching tree for the installed package.
MSG
fi

if [ "$fail" = 0 ]; then
	say "PASS: $tree matches $RSYSLOGD ($bin_version)"
	exit 0
fi
say "FAIL"
exit 1
