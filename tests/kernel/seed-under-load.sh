#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Tracing that starts under load.  ttload's short loopback connections run
# in a namespace it makes; tcptrail starts half a second in, so its seed
# reads sockets in every state, some born after the hooks were attached
# (their births wait in the ring buffer until the seed is in).  When ttload
# has gone, none of its sockets is left, so none of its flows may be:
# flows_active ends at 0 (at most the port's sockets still open in another
# namespace), and no CLOSE_WAIT leak of accepted sockets is reported in its
# namespace.  Before the fix, such a socket stayed as a seeded flow that
# nothing would end (its birth made a second flow): dozens to thousands of
# ownerless "leaks".  No flow may start at the boot either: the hash-table
# walk once dated a CLOSE_WAIT that heard from its peer after the walk began
# back to it (most such sockets are the twins above, so that check alone
# rarely fails).  Two rounds: with flow records (the default here), and
# with the classic tracepoint's per-transition stream, whose active births
# come before connect() picks a port (their twins are found later).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no ttload"; exit 77; }

LOAD=${LOAD:-${OUTPUT:-.output}/bench/ttload}
[ -x "$LOAD" ] || fail "no $LOAD (make test builds it)"

# run MODE [TCPTRAIL-OPTIONS...]: one round; MODE names it in messages
run() {
	_mode=$1
	shift
	: >"$DIR/trace.err"
	# ends at SIGTERM, once tcptrail has traced it for a while (its start
	# takes seconds under the sanitizers); -d bounds it
	"$LOAD" rate -d 60 -w 0 -p 1 >"$DIR/load.out" 2>"$DIR/load.err" &
	DRIVE_PID=$!
	sleep 0.5
	# ttload's port only; a 1 s report interval, and a CLOSE_WAIT counts from 1 s
	"$TCPTRAIL" --json -v -P 9000 -i 1 --close-wait-age 1 "$@" >"$OUT" 2>"$DIR/trace.err" &
	TRACE_PID=$!
	wait_until 20 trace_attached
	grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
		fail "tcptrail did not attach: $(last_line "$DIR/trace.err")"
	alive "$DRIVE_PID" || fail "ttload ended before tcptrail attached: $(last_line "$DIR/load.err")"
	sleep 3
	kill -TERM "$DRIVE_PID"
	wait "$DRIVE_PID" || fail "ttload failed: $(last_line "$DIR/load.err")"
	DRIVE_PID=
	# two report intervals after the last socket went
	sleep 2.5
	# port 9000's sockets that still exist elsewhere (another test's namespace
	# winding down) are open flows by right: the snapshot counts them first
	still=$("$TCPTRAIL" --snapshot --json -P 9000 2>/dev/null | grep '^{"type":"socket",' |
		grep -v '"timewait":true' | grep -vc '"state":"SYN_RECV"')
	trace_stop
	NETNS=$(sed -n 's/^netns=//p' "$DIR/load.out" | sed -n 1p)
	[ -n "$NETNS" ] || fail "ttload printed no netns="

	seeded=$(sed -n 's/^tcptrail: seeded \([0-9]*\) existing sockets.*/\1/p' "$DIR/trace.err")
	# the sockets alive at the walk's moment, not in TIME-WAIT: a few when
	# the CPUs are busy elsewhere (the vm tier beside this one); such a
	# round raced nothing, and is run again
	if [ "${seeded:-0}" -lt 10 ]; then
		echo "seed-under-load ($_mode): the seed read ${seeded:-no} sockets, too few to race: again"
		return 1
	fi
	final=$(grep '^{"type":"summary",.*"final":true' "$OUT")
	[ -n "$final" ] || fail "no final summary"
	# a lost record leaves its flow open: this test cannot judge then
	lost=$(echo "$final" | jget lost)
	[ "$lost" = 0 ] || fail "$_mode: $lost records lost while the seed ran (a bigger --ringbuf-size)"
	active=$(echo "$final" | jget flows_active)
	[ "$active" -le "${still:-0}" ] ||
		fail "$_mode: flows_active $active after ttload's sockets were all gone (of $seeded seeded; $still port 9000 sockets elsewhere)"
	# ttload's server closes each socket as it accepts it: a CLOSE_WAIT
	# older than 1 s is a phantom, unless it still waits in the accept
	# queue.  A server that falls a second behind (once, beside the
	# sanitizers' tcptrail: 14,867 children queued) is a stuck listener
	# by design, reported as unaccepted; a phantom among those would stay
	# open, which flows_active above catches.
	leaks=$(grep '^{"type":"close_wait",' "$OUT" | grep "\"netns\":$NETNS," |
		while read -r _l; do
			[ "$(echo "$_l" | jget unaccepted)" = "$(echo "$_l" | jget count)" ] ||
				echo "$_l"
		done)
	[ -z "$leaks" ] || fail "$_mode: $(echo "$leaks" | count_lines) CLOSE_WAIT leak reports" \
		"with accepted sockets in ttload's namespace: $(echo "$leaks" | sed -n 1p)"
	# a seeded CLOSE_WAIT is dated back by the time since its last ACK, never to the boot
	bad=$(flows | grep -c '"start_ns":0,')
	[ "$bad" = 0 ] || fail "$_mode: $bad flows that start at the boot: $(flows | grep '"start_ns":0,' |
		sed -n 1p)"
	n=$(flows | count_lines)
	[ "$n" -ge 1000 ] || fail "$_mode: only $n flows: too little load for the seed to race it"
	echo "seed-under-load ($_mode): $seeded sockets seeded, $n flows, $(grep '^conns=' "$DIR/load.out")"
}

# flow records (the default here), then the per-transition stream of the
# classic tracepoint, where an active socket's birth comes before its port.
# The ring buffer is not read while the seed runs, and a seed under load
# can take long: both rounds get room for seconds of records, and a round
# that lost any fails on that first.  (Once, beside the vm tier, the
# tracepoint round with the default 8M left 3,631 of 17,440 seeded flows
# open; lost was not checked then.)
# round MODE [OPTIONS...]: run until a seed raced the load, three tries at most
round() {
	for _try in 1 2 3; do
		run "$@" && return 0
	done
	fail "$1: in 3 rounds the seed never read 10 sockets: ttload's load never met it"
}

round flow-records --ringbuf-size 64M
round tracepoint --attach tracepoint --ringbuf-size 256M
pass
