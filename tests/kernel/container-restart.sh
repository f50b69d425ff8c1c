#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --cgroup on a real container's cgroup, across `podman restart`: the
# container comes back in a new cgroup at the same path, and its leak is
# reported again.  Before, the kernel filter kept the first cgroup's id:
# after the restart every summary said opened=0, with no word.  Skips,
# saying why, only where podman cannot start a container.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/container.inc
. "${0%/*}/container.inc"

N=3
PORT=$((20000 + $$ % 20000))
CONTAINER_DRIVE_ARGS="--port $PORT"
container_setup
container_leak "$N"
CGPATH=$(sed -n 's/^0::\(.*\)$/\1/p' "/proc/$CPID/cgroup")
[ -n "$CGPATH" ] && [ "$CGPATH" != / ] || fail "container $CID has no cgroup v2 path of its own ('$CGPATH')"
echo "container $CID, cgroup $CGPATH"

: >"$DIR/trace.err"
# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of options
"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 1 --close-wait-age 1 --cgroup "$CGPATH" \
	>"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"
_leak_in() {
	tail -n "+$((${SKIP_LINES:-0} + 1))" "$OUT" | grep '^{"type":"close_wait",' |
		grep "\"netns\":$1," | grep -q "\"count\":$N,"
}
wait_until 10 _leak_in "$CNETNS" ||
	fail "no report of the $N sockets leaked before the restart, in netns $CNETNS"

OLD_PID=$CPID
pm restart -t 0 "$CID" >/dev/null 2>"$DIR/restart.err" ||
	fail "podman restart: $(podman_err "$DIR/restart.err")"
# what tcptrail wrote from here on is after the restart
SKIP_LINES=$(wc -l <"$OUT")
CPID=$(pm inspect --format '{{.State.Pid}}' "$CID") || fail "podman inspect after the restart"
[ -n "$CPID" ] && [ "$CPID" != 0 ] && [ "$CPID" != "$OLD_PID" ] ||
	fail "the restarted container's host pid is '$CPID' (before: $OLD_PID)"
NS2=$(netns_of "$CPID")
[ -n "$NS2" ] || fail "no network namespace for the restarted container's host pid $CPID"
[ "$(sed -n 's/^0::\(.*\)$/\1/p' "/proc/$CPID/cgroup")" = "$CGPATH" ] ||
	fail "the restarted container is in cgroup $(sed -n 's/^0::\(.*\)$/\1/p' "/proc/$CPID/cgroup"), not $CGPATH"
_remade() {
	grep -q "^tcptrail: --cgroup $CGPATH was made again" "$DIR/trace.err"
}
wait_until 10 _remade || fail "tcptrail did not say that $CGPATH was made again: $(last_line "$DIR/trace.err")"
# the leak the container makes again: the seed is long past, so traced, from the kernel
wait_until 20 _leak_in "$NS2" ||
	fail "no report of the $N sockets leaked after the restart, in netns $NS2: $(grep '^{"type":"summary",' "$OUT" | sed -n '$p' | cut -c1-300)"
trace_stop
echo "container-restart: $N leaked before the restart (netns $CNETNS) and $N after (netns $NS2), both reported"
pass
