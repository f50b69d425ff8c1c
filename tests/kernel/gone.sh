#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What a filter names can go while tcptrail traces: the process of -p, the
# process behind -N /proc/PID/ns/net (a container's), the cgroup of
# --cgroup.  Each is said once, in a warning, within a few seconds; before,
# the run went on with summaries of zeros and no word.  -N in its other
# forms gets the same warning: a NAME (`ip netns del NAME`), and an inode,
# once no process and no bind mount but tcptrail holds it, also where the
# one process in it is another user's, whose /proc/PID/ns/net tcptrail,
# with no capability left, may not read; before, both ran on silently.
# None is said before what it names goes.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

command -v unshare >/dev/null || fail "unshare not found (util-linux; make deps INSTALL=1)"
command -v setpriv >/dev/null || fail "setpriv not found (util-linux; make deps INSTALL=1)"
command -v ip >/dev/null || fail "ip not found (iproute2; make deps INSTALL=1)"
_v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$_v2" ] || fail "no cgroup v2 mount"
_cg=tt-gone-$$
_nn=tt-gone-$$
trap 'rmdir "$_v2/$_cg" 2>/dev/null; ip netns del "$_nn" 2>/dev/null; cleanup' EXIT
# gone_run WHAT OPTIONS...: tcptrail OPTIONS for 6 s; the caller's $_kill ends WHAT after 2.5 s
gone_run() {
	_what=$1
	shift
	# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of words
	"$TCPTRAIL" $TCPTRAIL_ARGS -d 6 -i 0 --quiet-flows "$@" >/dev/null 2>"$DIR/$_what.err" &
	TRACE_PID=$!
	wait_until 20 trace_attached_to "$DIR/$_what.err" ||
		fail "$_what: tcptrail did not attach: $(last_line "$DIR/$_what.err")"
	sleep 2.5
	# looked at 2 s after the start: nothing is gone yet
	_early=$(grep 'warning: ' "$DIR/$_what.err" | sed -n 1p)
	[ -z "$_early" ] || fail "$_what: said before it went: $_early"
	eval "$_kill"
	wait_until 15 not_alive "$TRACE_PID" || fail "$_what: tcptrail still running after 15 s"
	wait "$TRACE_PID"
	_st=$?
	TRACE_PID=
	[ "$_st" = 0 ] || fail "$_what: tcptrail exited $_st: $(last_line "$DIR/$_what.err")"
	[ "$(grep -c 'warning: ' "$DIR/$_what.err")" = 1 ] ||
		fail "$_what: want one warning: $(grep -v '^tcptrail: tracing' "$DIR/$_what.err" | tr '\n' '|')"
}
trace_attached_to() {
	grep -q '^tcptrail: tracing' "$1" || not_alive "$TRACE_PID"
}

sleep 60 &
DRIVE_PID=$!
# shellcheck disable=SC2016 # evaluated in gone_run
_kill='kill $DRIVE_PID; { wait $DRIVE_PID; } 2>/dev/null; DRIVE_PID='
gone_run pid -p "$DRIVE_PID"
grep -q "warning: process [0-9]* has exited: -p traces nothing more" "$DIR/pid.err" ||
	fail "-p: $(last_line "$DIR/pid.err")"

unshare -n sleep 60 &
DRIVE_PID=$!
sleep 0.3
_ns="/proc/$DRIVE_PID/ns/net"
gone_run netns -N "$_ns"
grep -q "warning: -N $_ns is gone .*tcptrail, which runs in it, is all that keeps it" \
	"$DIR/netns.err" || fail "-N: $(last_line "$DIR/netns.err")"

# -N NAME: `ip netns del`
ip netns add "$_nn" || fail "ip netns add $_nn"
# shellcheck disable=SC2016 # evaluated in gone_run
_kill='ip netns del "$_nn"'
gone_run name -N "$_nn"
grep -q "warning: -N $_nn is gone .*tcptrail, which runs in it, is all that keeps it" \
	"$DIR/name.err" || fail "-N NAME: $(last_line "$DIR/name.err")"

# -N INODE of a namespace a bind mount holds: `ip netns del`
ip netns add "$_nn" || fail "ip netns add $_nn"
_ino=$(stat -L -c %i "/run/netns/$_nn")
gone_run inode-mount -N "$_ino"
grep -q "warning: -N $_ino is gone .*tcptrail, which runs in it, is all that keeps it" \
	"$DIR/inode-mount.err" || fail "-N INODE (a bind mount's): $(last_line "$DIR/inode-mount.err")"

# -N INODE of a namespace one process of another user holds: it exits
ip netns add "$_nn" || fail "ip netns add $_nn"
_ino=$(stat -L -c %i "/run/netns/$_nn")
ip netns exec "$_nn" setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60 &
DRIVE_PID=$!
wait_until 5 sh -c "[ \"\$(stat -L -c %i /proc/$DRIVE_PID/ns/net 2>/dev/null)\" = $_ino ] &&
	[ \"\$(stat -c %u /proc/$DRIVE_PID)\" = 65534 ]" ||
	fail "no process of uid 65534 in namespace $_ino"
ip netns del "$_nn" || fail "ip netns del $_nn"
# shellcheck disable=SC2016 # evaluated in gone_run
_kill='kill $DRIVE_PID; { wait $DRIVE_PID; } 2>/dev/null; DRIVE_PID='
gone_run inode-pid -N "$_ino"
grep -q "warning: -N $_ino is gone .*tcptrail, which runs in it, is all that keeps it" \
	"$DIR/inode-pid.err" || fail "-N INODE (a process's): $(last_line "$DIR/inode-pid.err")"

mkdir "$_v2/$_cg" || fail "mkdir $_v2/$_cg"
# shellcheck disable=SC2016 # evaluated in gone_run
_kill='rmdir "$_v2/$_cg"'
gone_run cgroup --cgroup "/$_cg"
grep -q "warning: --cgroup /$_cg was removed: nothing more is traced" "$DIR/cgroup.err" ||
	fail "--cgroup: $(last_line "$DIR/cgroup.err")"
pass
