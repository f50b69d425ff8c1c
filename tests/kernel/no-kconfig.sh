#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A host whose kernel config cannot be read: no /boot/config-RELEASE and no
# /proc/config.gz (a container without /boot, a kernel without
# CONFIG_IKCONFIG_PROC).  libbpf fails the whole load of an object with a
# CONFIG_ extern there, weak or not; tcptrail gives it CONFIG_HZ itself,
# found from /proc/timer_list, or 0 where that is hidden too, and traces
# as anywhere else.  An LD_PRELOAD shim (tests/tools/nokconfig.c) hides the
# config from libbpf and tcptrail alike; a bind mount of /dev/null, in a
# mount namespace of the test's own, hides /proc/timer_list.
if [ -z "$TT_NOKCONFIG_MNTNS" ]; then
	command -v unshare >/dev/null 2>&1 || { echo "skip: no unshare here"; exit 77; }
	TT_NOKCONFIG_MNTNS=1 exec unshare -m sh "$0" "$@"
fi
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

preload_tcptrail nokconfig
ldd "$REAL" 2>/dev/null | grep -q 'libbpf' ||
	skip "$REAL does not load libbpf dynamically: an LD_PRELOAD shim cannot reach it"

# the HZ the kernel was built with, read before the shim hides it
want_hz=$( (zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null) |
	sed -n 's/^CONFIG_HZ=//p')

# the shim works: libbpf, asked alone, finds no config
"$TCPTRAIL" --probe -vv >"$DIR/probe.out" 2>&1
grep -q 'kernel config: ' "$DIR/probe.out" &&
	fail "the shim did not hide the kernel config: $(grep 'kernel config: ' "$DIR/probe.out")"
grep -q 'UNAVAILABLE' "$DIR/probe.out" &&
	fail "without a kernel config: $(grep -m1 'UNAVAILABLE' "$DIR/probe.out")"

# /proc/timer_list readable: its HZ, which must be the config's
trace active -v
hz_line=$(grep 'no kernel config' "$DIR/trace.err")
[ -n "$hz_line" ] || fail "tcptrail -v did not say it found no kernel config: $(last_line "$DIR/trace.err")"
note "$hz_line"
if [ -n "$want_hz" ]; then
	echo "$hz_line" | grep -q "CONFIG_HZ $want_hz, from /proc/timer_list" ||
		fail "HZ from /proc/timer_list is not the config's CONFIG_HZ=$want_hz: $hz_line"
else
	echo "$hz_line" | grep -q "CONFIG_HZ [0-9]*, from /proc/timer_list" ||
		fail "no HZ from /proc/timer_list: $hz_line"
	note "this host has no readable config either: the HZ found was not compared"
fi
expect_count active 1
expect_count passive 1
expect_flow "server flow" "$(flows passive)" pid="$(fact server_pid)" \
	states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close

# /proc/timer_list hidden too: CONFIG_HZ 0, said without -v, and it traces
mount --make-rprivate / || fail "mount --make-rprivate / in the test's namespace failed"
mount --bind /dev/null /proc/timer_list || fail "could not hide /proc/timer_list"
trace active
grep -q 'no HZ from /proc/timer_list' "$DIR/trace.err" ||
	fail "tcptrail did not say it found no HZ: $(last_line "$DIR/trace.err")"
note "$(grep 'no HZ from' "$DIR/trace.err")"
expect_count active 1
expect_count passive 1
expect_flow "server flow" "$(flows passive)" pid="$(fact server_pid)" \
	states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
pass
