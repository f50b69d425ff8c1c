#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Namespaces and containers come and go while tcptrail runs host-wide
# (--json -i 1 -P PORT, so every second's summary takes its census of every
# namespace, and only the flows of our drivers, on a port of this test's own,
# are kept).  ROUNDS rounds (6), each of which makes
#   - 3 named namespaces (ip netns add, a bind mount in /run/netns), with
#     an active open and close in each (ttdrive --no-netns active), which
#     live on with their TIME-WAIT sockets until the round after next
#     removes them, and must each be counted by the census meanwhile;
#   - 2 namespaces of ttdrive's own (unshare), gone when it exits;
#   - 1 podman container leaking 3 CLOSE-WAIT sockets, removed (podman
#     rm -f, which closes them) in the next round;
# that is 30 namespaces and 6 containers in all, in about 30 s.
#
# tcptrail must not crash; its open file descriptors and RSS at the end,
# everything removed, must be those after the first round (the warm-up),
# within FD_MARGIN (2) descriptors and RSS_MARGIN kB (2048) or 5%: a
# descriptor or a cache entry kept per namespace or per container would
# show here.  Its descriptors of namespaces are one per namespace alive on
# the host, so they are left out of that count; instead, soon after the
# churn none may be of a namespace that nothing else keeps.
# Every flow names its netns; each container is named, by its full id and
# cgroup, by exactly its own flows (its listener and both ends of each leaked
# socket), even those that ended as the container was removed.  Skips, saying why, only where podman cannot start a container.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/container.inc
. "${0%/*}/container.inc"

ROUNDS=6
PORT=$((20000 + $$ % 20000))
CONTAINER_DRIVE_ARGS="--port $PORT"
K=3			# CLOSE-WAIT sockets leaked in each container
FD_MARGIN=${FD_MARGIN:-2}
RSS_MARGIN=${RSS_MARGIN:-2048}
OLD=			# our /run/netns names made in the last round
OLDER=			# ... and the round before
ALL_CONTAINERS=		# every container made, removed or not
INODES=			# the inodes of our named namespaces

churn_cleanup() {
	for _n in $OLD $OLDER; do
		ip netns del "$_n" 2>/dev/null
	done
}
trap 'churn_cleanup; container_cleanup; cleanup' EXIT

container_setup

# tcptrail holds one descriptor per network namespace on the host (its
# namespace set: the census enters each through it), opened when a scan
# finds the namespace and closed by the first scan that no longer does.
# So what must stay flat is its other descriptors; its namespace ones must
# all be of namespaces that still exist.

# held_ns: the namespaces tcptrail holds a descriptor of, as net:[INODE].
held_ns() {
	for _f in /proc/"$TRACE_PID"/fd/*; do
		readlink "$_f" 2>/dev/null
	done | grep '^net:\[' | sort -u
}

# live_ns: the namespaces that exist through something but tcptrail: a
# process's, or a bind mount's in /run/netns.
live_ns() {
	for _p in /proc/[0-9]*; do
		[ "${_p#/proc/}" = "$TRACE_PID" ] || readlink "$_p/ns/net" 2>/dev/null
	done
	for _m in /run/netns/* /var/run/netns/*; do
		[ -e "$_m" ] && stat -L -c 'net:[%i]' "$_m" 2>/dev/null
	done
}

# stale_ns: namespaces tcptrail holds that nothing else does any more.
stale_ns() {
	live_ns | sort -u >"$DIR/live"
	held_ns | comm -23 - "$DIR/live"
}

_no_stale() {
	[ -z "$(stale_ns)" ]
}

# other_fds: tcptrail's descriptors but its namespace ones.
other_fds() {
	for _f in /proc/"$TRACE_PID"/fd/*; do
		readlink "$_f" 2>/dev/null
	done | grep -vc '^net:\['
}

# RssAnon: the heap and stacks.  Not VmRSS, which also counts the pages of
# the ring buffer's mapping (RssFile) as the kernel side first writes them:
# up to its whole size (8 MiB), at a pace set by the records' bytes.
rss_kb() {
	sed -n 's/^RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p' "/proc/$TRACE_PID/status"
}

# least_of COMMAND: COMMAND's least value over 5 reads 0.2 s apart: the
# census under way holds a netlink socket for a while, which is no leak; a
# leak is there at every read.
least_of() {
	_min=
	for _i in 1 2 3 4 5; do
		_v=$("$1")
		[ -n "$_v" ] || fail "$1: nothing read from /proc/$TRACE_PID"
		[ -n "$_min" ] && [ "$_min" -le "$_v" ] || _min=$_v
		sleep 0.2
	done
	echo "$_min"
}

: >"$DIR/trace.err"
# -P PORT, the port our drivers use and no other test does (in the kernel):
# still every namespace, but the flows of whatever else runs on this host
# (other tests use ttdrive's 8000) do not weigh on RSS
# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of options
"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 1 -P "$PORT" >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"

# round R: the round's namespaces and container; then what the round
# before made goes.
round() {
	_old_cid=$ROUND_CID
	_gone=$OLDER
	OLDER=$OLD
	OLD=
	for _i in 1 2 3; do
		_n=tt-churn-$$-$1-$_i
		ip netns add "$_n" || fail "ip netns add $_n"
		OLD="$OLD $_n"
		INODES="$INODES $(stat -L -c %i "/run/netns/$_n")"
		ip netns exec "$_n" "$DRIVE" --no-netns --port "$PORT" --timeout 20 active >"$DIR/drive.out" \
			2>"$DIR/drive.err" || fail "ttdrive active in $_n: $(last_line "$DIR/drive.err")"
	done
	for _i in 1 2; do
		"$DRIVE" --port "$PORT" --timeout 20 active >"$DIR/drive.out" 2>"$DIR/drive.err" ||
			fail "ttdrive active: $(last_line "$DIR/drive.err")"
	done
	container_leak "$K"
	ROUND_CID=$CID
	ALL_CONTAINERS="$ALL_CONTAINERS $CID"
	# a summary or two with everything of this round and the last there
	sleep 1.5
	alive "$TRACE_PID" || fail "tcptrail died in round $1: $(last_line "$DIR/trace.err")"
	# a named namespace lives two rounds
	for _n in $_gone; do
		ip netns del "$_n" || fail "ip netns del $_n"
	done
	[ -z "$_old_cid" ] || container_rm "$_old_cid"
}

start=$(date +%s)
round 1
sleep 2
FD0=$(least_of other_fds)
RSS0=$(least_of rss_kb)
echo "after the warm-up round: $FD0 open fds besides $(held_ns | count_lines) namespaces'," \
	"RssAnon $RSS0 kB"
r=2
while [ "$r" -le "$ROUNDS" ]; do
	round "$r"
	r=$((r + 1))
done
container_rm "$ROUND_CID"
for _n in $OLD $OLDER; do
	ip netns del "$_n" || fail "ip netns del $_n"
done
OLD=
OLDER=
sleep 2
alive "$TRACE_PID" || fail "tcptrail died: $(last_line "$DIR/trace.err")"
FD1=$(least_of other_fds)
RSS1=$(least_of rss_kb)
secs=$(($(date +%s) - start))
echo "after $ROUNDS rounds ($((ROUNDS * 5)) namespaces, $ROUNDS containers, ${secs} s):" \
	"$FD1 open fds besides $(held_ns | count_lines) namespaces', RssAnon $RSS1 kB"
# a census under way when the last ones went may still hold them: the next
# scan lets go
wait_until 15 _no_stale ||
	fail "15 s after the last namespace went, tcptrail still holds namespaces nothing else does:" \
		"$(stale_ns | tr '\n' ' ')"
trace_stop

[ "$FD1" -le $((FD0 + FD_MARGIN)) ] ||
	fail "open fds grew from $FD0 after the warm-up to $FD1 at the end (margin $FD_MARGIN)"
# the margin: RSS_MARGIN kB or 5%, whichever is more (ASan's own RSS is ~200 MB)
[ $((RSS0 / 20)) -le "$RSS_MARGIN" ] || RSS_MARGIN=$((RSS0 / 20))
[ "$RSS1" -le $((RSS0 + RSS_MARGIN)) ] ||
	fail "RssAnon grew from $RSS0 kB after the warm-up to $RSS1 kB at the end (margin $RSS_MARGIN kB)"

_bad=$(grep -v '^{"type":"[a-z_]*",' "$OUT" | sed -n 1p)
[ -z "$_bad" ] || fail "stdout line is not a JSON record: $_bad"
expect_eq "final summaries" "$(grep -c '^{"type":"summary",.*"final":true' "$OUT")" 1
_bad=$(flows | grep -v '"netns":[1-9][0-9]*[,}]' | sed -n 1p)
[ -z "$_bad" ] || fail "flow without a netns: $_bad"

# Each container's flows: its listener, and both ends of its K leaked
# sockets; the listener and the server ends ended when podman rm -f closed
# them, with the container's cgroup on its way out.
n=0
for c in $ALL_CONTAINERS; do
	n=$((n + 1))
	for rk in listener=1 active=$K passive=$K; do
		got=$(flows "${rk%=*}" | grep -c "\"container\":\"$c\"")
		[ "$got" = "${rk#*=}" ] ||
			fail "container $n ($c): $got ${rk%=*} flows name it, want ${rk#*=}"
	done
	_bad=$(flows | grep "\"container\":\"$c\"" |
		grep -v "\"cgroup\":\"/libpod_parent/libpod-$c\"" | sed -n 1p)
	[ -z "$_bad" ] || fail "container $n: flow without its cgroup /libpod_parent/libpod-$c: $_bad"
done
# The census counted every namespace made after the start: each named one
# holds a TIME-WAIT socket (its client closed first) for the two rounds it
# lives, 5 s or more, and a census of every namespace runs every second.
missed=
for i in $INODES; do
	records time_wait | json_array by_netns | grep -q "\"netns\":$i," ||
		missed="$missed $i"
done
[ -z "$missed" ] ||
	fail "no time_wait report's by_netns names these namespaces made during the churn," \
		"each with a TIME-WAIT socket:$missed $(grep 'census\|namespace' "$DIR/trace.err" | sed -n 1p)"
echo "the census counted each of the $((ROUNDS * 3)) named namespaces made during the churn"
echo "$(flows | count_lines) flows, all with a netns;" \
	"each of the $n containers named by its $((2 * K + 1)) flows"
pass
