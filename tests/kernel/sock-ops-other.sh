#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Another tool's sock_ops program beside tcptrail's on the cgroup v2 root
# (tests/tools/sockops_clear.bpf.c) clears a socket's callback flags at its
# first STATE_CB call.  tcp_set_state() runs sock_ops programs before the
# tracepoint, so the tracepoint finds STATE_CB off on a transition tcptrail's
# sock_ops has already recorded: each was recorded twice, and the flows read
# SYN_SENT,ESTABLISHED,SYN_SENT,ESTABLISHED,... (100 connections on port
# 8555, the only one the program touches).  Each flow must be whole and
# once.  Then the same program attached without BPF_F_ALLOW_MULTI, which
# keeps every other program off the root: tcptrail says so, where it said
# "unavailable on this kernel".  Host only: the qemu guest has no bpftool.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no bpftool"; exit 77; }

command -v bpftool >/dev/null 2>&1 || fail "bpftool not found (Debian package bpftool; make deps INSTALL=1)"
command -v unshare >/dev/null 2>&1 || fail "unshare not found (util-linux; make deps INSTALL=1)"
OBJ=${OUTPUT:-.output}/tools/sockops_clear.bpf.o
[ -f "$OBJ" ] || fail "no $OBJ (make $OBJ)"
MNT=$(sed -n 's/^[^ ]* [^ ]* [^ ]* \/ \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo | sed -n 1p)
[ -n "$MNT" ] || fail "no cgroup v2 mount on this host (/proc/self/mountinfo)"

# loaded and pinned in a bpffs of a mount namespace of its own (gone with it),
# attached to the root beside tcptrail's; detached by its id at exit
PROG_ID=
other_cleanup() {
	[ -n "$PROG_ID" ] && bpftool cgroup detach "$MNT" sock_ops id "$PROG_ID"
	cleanup
}
trap other_cleanup EXIT
# attach_other [multi]: the program loaded and attached; its id in PROG_ID
attach_other() {
	PROG_ID=$(unshare -m sh -c '
		mkdir -p "$1/bpffs" && mount -t bpf bpf "$1/bpffs" || exit 1
		bpftool prog load "$2" "$1/bpffs/p" type sockops >&2 || exit 1
		id=$(bpftool prog show pinned "$1/bpffs/p" | sed -n "s/^\([0-9]*\):.*/\1/p")
		bpftool cgroup attach "$3" sock_ops id "$id" $4 >&2 || exit 1
		echo "$id"' sh "$DIR" "$OBJ" "$MNT" "$1" 2>"$DIR/load.err")
	[ -n "$PROG_ID" ] || fail "load or attach $OBJ ${1:-exclusive}: $(last_line "$DIR/load.err")"
}
attach_other multi
bpftool cgroup show "$MNT" | grep -q "^$PROG_ID " ||
	fail "program $PROG_ID is not on $MNT: $(bpftool cgroup show "$MNT" | tr '\n' ' ')"

trace "--port 8555 concurrent 100"
expect_count active 100
expect_count passive 100
# whole and once: no state twice in a flow, and none inferred
expect_all active '"states":\[{"state":"SYN_SENT","t_ns":[0-9]*},{"state":"ESTABLISHED","t_ns":[0-9]*},{"state":"FIN_WAIT1","t_ns":[0-9]*},{"state":"FIN_WAIT2","t_ns":[0-9]*},{"state":"TIME_WAIT"' \
	"client flow not SYN_SENT,ESTABLISHED,FIN_WAIT1,FIN_WAIT2,TIME_WAIT"
expect_all passive '"states":\[{"state":"SYN_RECV","t_ns":[0-9]*},{"state":"ESTABLISHED","t_ns":[0-9]*},{"state":"CLOSE_WAIT","t_ns":[0-9]*},{"state":"LAST_ACK","t_ns":[0-9]*},{"state":"CLOSE"' \
	"server flow not SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE"

bpftool cgroup detach "$MNT" sock_ops id "$PROG_ID" || fail "detach program $PROG_ID"
PROG_ID=
attach_other
"$TCPTRAIL" -d 0.5 -i 0 --quiet-flows >/dev/null 2>"$DIR/held.err" ||
	fail "with the root held: exit $?: $(last_line "$DIR/held.err")"
grep -q ' sock-ops=UNAVAILABLE' "$DIR/held.err" ||
	fail "with the root held: sock_ops attached: $(cat "$DIR/held.err")"
grep -q '^tcptrail: warning: sock-ops unavailable: another program is attached to the cgroup v2 root without BPF_F_ALLOW_MULTI' \
	"$DIR/held.err" || fail "with the root held: not said why: $(cat "$DIR/held.err")"
! grep -q 'sock-ops unavailable on this kernel' "$DIR/held.err" ||
	fail "with the root held: blamed the kernel: $(cat "$DIR/held.err")"
pass
