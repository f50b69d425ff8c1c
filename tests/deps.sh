#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make deps`: is everything the build and the tests need here?  Names each
# missing piece with the Debian package that provides it.  With INSTALL=1,
# as root, installs those packages and checks again.  Exits 1 while anything
# is missing; prints only "deps: all present" when nothing is.
# `tests/deps.sh build` (make run): what building tcptrail needs, no more.
SCOPE=${1:-all}

# bpftool, ip, nft live in sbin, which a non-root PATH may leave out
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
ARCH_LIBDIR=/usr/lib/$(${CC:-cc} -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

has_cmd() {
	command -v "$1" >/dev/null 2>&1
}

has_pc() {
	"$PKG_CONFIG" --exists "$1" 2>/dev/null
}

# The qemu guest has nothing but /bin/busybox, so it must be the static one.
has_static_busybox() {
	[ -x /bin/busybox ] || return 1
	has_cmd dpkg-query || return 0
	dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q ' installed$'
}

# need TEST WHAT PACKAGE: records WHAT as missing, and PACKAGE to install,
# unless TEST succeeds.
need() {
	eval "$1" && return 0
	missing="$missing, $2"
	case " $packages " in
	*" $3 "*) ;;
	*) packages="$packages $3" ;;
	esac
	report="$report
deps: missing $2 (Debian package $3)"
}

check() {
	missing=
	packages=
	report=
	need "has_cmd ${CLANG:-clang}" clang clang
	need "has_cmd llvm-strip" llvm-strip llvm
	need "has_cmd ${BPFTOOL:-bpftool}" bpftool bpftool
	need "has_cmd $PKG_CONFIG" pkg-config pkgconf
	need "has_cmd ${CC:-cc}" cc gcc
	need "has_cmd make" make make
	need "has_pc libbpf" "pkg-config module libbpf" libbpf-dev
	need "has_pc libelf" "pkg-config module libelf" libelf-dev
	need "has_pc zlib" "pkg-config module zlib" zlib1g-dev
	need "has_pc libdeflate" "pkg-config module libdeflate (the capture's compression)" libdeflate-dev
	need "has_pc libsystemd" "pkg-config module libsystemd (--journal, sd_notify)" libsystemd-dev
	[ "$SCOPE" = build ] && return
	need "python3 -c 'import jsonschema' 2>/dev/null" "python3 jsonschema (tests: JSON schema)" python3-jsonschema
	need "python3 -c 'import yaml' 2>/dev/null" "python3 yaml (tests: log shipper examples)" python3-yaml
	need "has_cmd lua5.4" "lua5.4 (tests: the Fluent Bit example's Lua routing)" lua5.4
	need "has_pc jansson" "pkg-config module jansson (unit tests)" libjansson-dev
	need "has_cmd cpio" cpio cpio
	need "has_cmd gzip" gzip gzip
	need "has_cmd dpkg-deb" dpkg-deb dpkg
	need "[ -e $ARCH_LIBDIR/libbpf.a ]" "$ARCH_LIBDIR/libbpf.a" libbpf-dev
	need "[ -e $ARCH_LIBDIR/libelf.a ]" "$ARCH_LIBDIR/libelf.a" libelf-dev
	need "[ -e $ARCH_LIBDIR/libz.a ]" "$ARCH_LIBDIR/libz.a" zlib1g-dev
	need "[ -e $ARCH_LIBDIR/libdeflate.a ]" "$ARCH_LIBDIR/libdeflate.a" libdeflate-dev
	need "has_cmd ip" ip iproute2
	need "has_cmd ss" ss iproute2
	need "has_cmd nsenter" nsenter util-linux
	need "has_cmd capsh" "capsh (tests/kernel/netns-hostwide.sh)" libcap2-bin
	need "has_cmd nft" nft nftables
	need "has_cmd promtool" "promtool (tests/kernel/metrics.sh, tests/prometheus/rules.sh)" prometheus
	need "has_cmd prometheus" "prometheus (tests/kernel/prometheus.sh)" prometheus
	need "has_cmd curl" "curl (tests/kernel/prometheus.sh)" curl
	need "has_cmd bash" "bash (tests/package/completion.sh)" bash
	need "has_cmd dpkg-buildpackage" "dpkg-buildpackage (tests/kernel/package.sh)" dpkg-dev
	# dpkg-checkbuilddeps asks for it; --no-install-recommends leaves it out
	need "dpkg-query -W -f '\${Status}' build-essential 2>/dev/null | grep -q ' installed\$'" \
		"Debian package build-essential (dpkg-buildpackage)" build-essential
	# the unit's ExecReload (/bin/kill); pgrep and ps in the tests and the bench
	need "has_cmd pgrep && has_cmd ps && [ -x /bin/kill ]" "pgrep, ps, /bin/kill" procps
	need "has_cmd dh" "dh (tests/kernel/package.sh)" debhelper
	need "has_cmd lintian" "lintian (tests/kernel/package.sh)" lintian
	need "has_cmd systemd-analyze" "systemd-analyze, systemd-tmpfiles (tests/kernel/package.sh, service-unit.sh)" systemd
	# the rest of debian/control's Build-Depends (--journal; the unit tests' JSON schema check)
	need "has_pc libsystemd" "pkg-config module libsystemd (debian/control)" libsystemd-dev
	# dpkg-checkbuilddeps asks dpkg, not python: a pip-installed module is no package
	need "dpkg-query -W -f '\${Status}' python3-jsonschema 2>/dev/null | grep -q ' installed\$'" \
		"Debian package python3-jsonschema (debian/control)" python3-jsonschema
	need "has_cmd valgrind" "valgrind (tests/kernel/fault-leaks.sh)" valgrind
	need has_static_busybox "static /bin/busybox" busybox-static
	# tests/kernel/container-*.sh: a busybox image made with tar and
	# `podman import`, run by runc (crun refuses hybrid cgroup hosts)
	need "has_cmd podman" "podman (tests/kernel/container-*.sh)" podman
	need "has_cmd runc" "runc (tests/kernel/container-*.sh)" runc
	need "has_cmd tar" tar tar
	need "has_cmd qemu-system-x86_64" qemu-system-x86_64 qemu-system-x86
	# make bench: tcpstates side by side; where the time and the locks go
	need "has_cmd tcpstates" "tcpstates (make bench)" libbpf-tools
	need "has_cmd perf" "perf (make bench, make bench-locks)" linux-perf
}

check
if [ -z "$missing" ]; then
	echo "deps: all present"
	exit 0
fi

if [ "$INSTALL" != 1 ]; then
	echo "${report#?}"
	echo "deps: install them with: apt-get install$packages"
	echo "deps: or, as root: make deps INSTALL=1"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "${report#?}"
	echo "deps: INSTALL=1 needs root, to run: apt-get install$packages"
	exit 1
fi

echo "deps: installing$packages"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # one word per package
apt-get update -q >/dev/null &&
	apt-get install -y -q --no-install-recommends $packages ||
	echo "deps: apt-get failed"
check
if [ -n "$missing" ]; then
	echo "${report#?}"
	echo "deps: still missing after install: ${missing#, }"
	exit 1
fi
echo "deps: all present"
