#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Sockets reused under load.  ttload's short loopback connections, in a
# namespace it makes, for 1 s: the client closes first, so each client end
# waits 2 ms in TIME-WAIT (the rule's FIN_WAIT2 entry, which a reset could
# still cancel), and the kernel hands the same socket address to a new
# connection well within that.  Each flow keeps what is its own: every flow
# has its stats (srtt_us); every client flow that its process closed names
# that process as its owner (ttload connects and closes in one process; a
# client the server's exit reset at the end has no closer); every server
# flow that ttload accepted names its owner.  Before the fix, a new flow's
# record gave its stats to the waiting flow at its address, and its accept
# renamed that flow's owner: up to 1 flow in 400 of this load.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no ttload"; exit 77; }

LOAD=${LOAD:-${OUTPUT:-.output}/bench/ttload}
[ -x "$LOAD" ] || fail "no $LOAD (make test builds it)"

# every flow on ttload's port; nothing else on this host uses it
"$TCPTRAIL" --json -P 9000 >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail did not attach: $(last_line "$DIR/trace.err")"
"$LOAD" rate -d 1 -w 0 -p 2 >"$DIR/load.out" 2>"$DIR/load.err" ||
	fail "ttload failed: $(last_line "$DIR/load.err")"
trace_stop
NETNS=$(sed -n 's/^netns=//p' "$DIR/load.out" | sed -n 1p)
[ -n "$NETNS" ] || fail "ttload printed no netns="
check_trace

n=$(flows | count_lines)
[ "$n" -ge 2000 ] || fail "only $n flows: too few for a socket to come back within 2 ms"
bad=$(flows | grep -vc '"srtt_us":')
[ "$bad" = 0 ] || fail "$bad of $n flows without their stats: $(flows | grep -v '"srtt_us":' | sed -n 1p)"
bad=$(flows active | awk '{
	p = $0; sub(/.*"pid":/, "", p); sub(/,.*/, "", p)
	c = $0; sub(/.*"closer_pid":/, "", c); sub(/,.*/, "", c)
	if (c != 0 && p != c) n++
} END { print n + 0 }')
[ "$bad" = 0 ] || fail "$bad client flows whose owner is not their closer"
# (a client reset by the server's exit at the end has no closer)
# a child not accepted when ttload stopped is aborted with its listener
bad=$(flows passive | grep '"owner_known":false' | grep -vc '"end":"abort"')
[ "$bad" = 0 ] || fail "$bad server flows, not aborted, that name no owner (their accept lost)"
echo "flow-churn: $n flows, $(flows active | count_lines) client ends; load: $(grep '^conns=' "$DIR/load.out")"
pass
