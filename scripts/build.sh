#!/bin/bash
# Build mmriskscore from a fresh checkout on Debian 12 (or later): install the packages it
# needs, obtain matching rsyslog headers, configure out of tree and make. Safe to run again:
# every step is skipped when already done.
#
#   scripts/build.sh                 build in ./build
#   scripts/build.sh --asan          build engine, tools and unit tests with
#                                    -fsanitize=address,undefined in ./build-asan
#   eval "$(scripts/build.sh --print-env)"
#                                    build, then export MMRISK_MODULE, MMRISK_RULEBASE,
#                                    MMRISK_PARSE, MMRISK_BUILD for scripts
# Progress goes to stderr; stdout carries only the --print-env exports.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
variant=default
print_env=no
for a in "$@"; do
	case $a in
	--asan) variant=asan ;;
	--print-env) print_env=yes ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "build.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
say() { echo "build.sh: $*" >&2; }

# 1. packages -------------------------------------------------------------------------------
pkgs="rsyslog liblognorm-dev libestr-dev libfastjson-dev libcmocka-dev build-essential
      pkg-config dpkg-dev zlib1g-dev uuid-dev autoconf automake libtool liblognorm-utils
      jq valgrind libmaxmind-db-writer-perl mmdb-bin libmaxminddb-dev tzdata
      postgresql rsyslog-pgsql rsyslog-elasticsearch rsyslog-relp rsyslog-kafka"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		say "missing packages:$missing — run as root once, or: apt-get install$missing"
		exit 1
	fi
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# rsyslog-pgsql would otherwise create a "Syslog" database and a system-wide
	# /etc/rsyslog.d/pgsql.conf that ships every message of this machine into it
	if [ ! -e /etc/dbconfig-common/rsyslog-pgsql.conf ]; then
		mkdir -p /etc/dbconfig-common
		printf "dbc_install='false'\ndbc_upgrade='false'\ndbc_remove='false'\ndbc_dbtype='pgsql'\n" \
			>/etc/dbconfig-common/rsyslog-pgsql.conf
	fi
	apt-get update -qq >&2
	# --no-upgrade: never upgrade what the machine already runs (e.g. rsyslog itself)
	apt-get install -y -qq --no-upgrade $missing >&2
	# even unconfigured, the package writes an action with db="" that errors at every start
	if [ -f /etc/rsyslog.d/pgsql.conf ]; then
		sed -i 's/^\*\.\* action(type="ompgsql"/#&/' /etc/rsyslog.d/pgsql.conf
	fi
fi

# 2. rsyslog headers matching the installed rsyslogd -----------------------------------------
rs=""
if [ "$variant" = default ]; then
	rs=$("$top/scripts/rsyslog-headers.sh" | tail -n 1)
fi

# 3. autotools -------------------------------------------------------------------------------
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	say "autoreconf"
	autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi >&2; exit 1; }
fi

# 4. configure (out of tree) -----------------------------------------------------------------
if [ "$variant" = default ]; then
	bdir="$top/build"
	args=(--with-rsyslog-src="$rs")
else
	bdir="$top/build-asan"
	args=(--disable-module --enable-sanitizers)
fi
mkdir -p "$bdir"
cd "$bdir"
if [ ! -f Makefile ] || [ ! -f config.status ] ||
	[ "$(./config.status --config | tr -d "'")" != "${args[*]}" ]; then
	say "configure ${args[*]} (in $bdir)"
	"$top/configure" -q "${args[@]}" >&2
fi

# 5. make ------------------------------------------------------------------------------------
say "make (in $bdir)"
make -j"$(nproc)" >&2

if [ "$print_env" = yes ]; then
	echo "export MMRISK_BUILD='$bdir'"
	echo "export MMRISK_MODULE='$bdir/plugins/mmriskscore/.libs/mmriskscore.so'"
	echo "export MMRISK_RULEBASE='$bdir/rulebase/identity-vpn.rulebase'"
	echo "export MMRISK_PARSE='$bdir/tools/mmriskscore-parse'"
fi
