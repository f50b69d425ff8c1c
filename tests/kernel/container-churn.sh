#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Namespaces and containers come and go while tcptrail runs host-wide
# (--json -i 1, so every second's summary takes its census of every
# namespace).  ROUNDS rounds (6), each of which makes
#   - 3 named namespaces (ip netns add, a bind mount in /run/netns), with
#     an active open and close in each (ttdrive --no-netns active), which
#     live on with their TIME-WAIT sockets until the next round removes them;
#   - 2 namespaces of ttdrive's own (unshare), gone when it exits;
#   - 1 podman container leaking 3 CLOSE-WAIT sockets, removed (podman
#     rm -f, which closes them) in the next round;
# that is 30 namespaces and 6 containers in all, in about 30 s.
#
# tcptrail must not crash; its open file descriptors and RSS at the end,
# everything removed, must be those after the first round (the warm-up),
# within FD_MARGIN (2) descriptors and RSS_MARGIN kB (2048): a descriptor
# or a cache entry kept per namespace or per container would show here.
# Every flow names its netns; each container is named, by its full id and
# cgroup, by exactly its own flows (its listener and both ends of each leaked
# socket), even those that ended as the container was removed.  Skips, saying why, only where podman cannot start a container.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/container.inc
. "${0%/*}/container.inc"

ROUNDS=6
K=3			# CLOSE-WAIT sockets leaked in each container
FD_MARGIN=${FD_MARGIN:-2}
RSS_MARGIN=${RSS_MARGIN:-2048}
NAMES=			# our /run/netns names not yet removed
ALL_CONTAINERS=		# every container made, removed or not

churn_cleanup() {
	for _n in $NAMES; do
		ip netns del "$_n" 2>/dev/null
	done
}
trap 'churn_cleanup; container_cleanup; cleanup' EXIT

container_setup

fds() {
	ls "/proc/$TRACE_PID/fd" | count_lines
}

rss_kb() {
	sed -n 's/^VmRSS:[^0-9]*\([0-9]*\) kB$/\1/p' "/proc/$TRACE_PID/status"
}

: >"$DIR/trace.err"
"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 1 >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"

# round R: the round's namespaces and container; then what the round
# before made goes.
round() {
	_old_names=$NAMES
	_old_cid=$ROUND_CID
	_new=
	for _i in 1 2 3; do
		_n=tt-churn-$$-$1-$_i
		ip netns add "$_n" || fail "ip netns add $_n"
		NAMES="$NAMES $_n"
		_new="$_new $_n"
		ip netns exec "$_n" "$DRIVE" --no-netns --timeout 20 active >"$DIR/drive.out" \
			2>"$DIR/drive.err" || fail "ttdrive active in $_n: $(last_line "$DIR/drive.err")"
	done
	for _i in 1 2; do
		"$DRIVE" --timeout 20 active >"$DIR/drive.out" 2>"$DIR/drive.err" ||
			fail "ttdrive active: $(last_line "$DIR/drive.err")"
	done
	container_leak "$K"
	ROUND_CID=$CID
	ALL_CONTAINERS="$ALL_CONTAINERS $CID"
	# a summary or two with everything of this round and the last there
	sleep 1.5
	alive "$TRACE_PID" || fail "tcptrail died in round $1: $(last_line "$DIR/trace.err")"
	for _n in $_old_names; do
		ip netns del "$_n" || fail "ip netns del $_n"
	done
	NAMES=$_new
	[ -z "$_old_cid" ] || container_rm "$_old_cid"
}

start=$(date +%s)
round 1
sleep 2
FD0=$(fds)
RSS0=$(rss_kb)
echo "after the warm-up round: $FD0 open fds, VmRSS $RSS0 kB"
r=2
while [ "$r" -le "$ROUNDS" ]; do
	round "$r"
	r=$((r + 1))
done
container_rm "$ROUND_CID"
for _n in $NAMES; do
	ip netns del "$_n" || fail "ip netns del $_n"
done
NAMES=
sleep 2
alive "$TRACE_PID" || fail "tcptrail died: $(last_line "$DIR/trace.err")"
FD1=$(fds)
RSS1=$(rss_kb)
secs=$(($(date +%s) - start))
echo "after $ROUNDS rounds ($((ROUNDS * 5)) namespaces, $ROUNDS containers, ${secs} s):" \
	"$FD1 open fds, VmRSS $RSS1 kB"
trace_stop

[ "$FD1" -le $((FD0 + FD_MARGIN)) ] ||
	fail "open fds grew from $FD0 after the warm-up to $FD1 at the end (margin $FD_MARGIN)"
[ "$RSS1" -le $((RSS0 + RSS_MARGIN)) ] ||
	fail "VmRSS grew from $RSS0 kB after the warm-up to $RSS1 kB at the end (margin $RSS_MARGIN kB)"

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
echo "$(flows | count_lines) flows, all with a netns;" \
	"each of the $n containers named by its $((2 * K + 1)) flows"
pass
