#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `-p PID` on a server that was running before tcptrail: its CLOSE-WAIT
# leaks are all reported, though none of its sockets was its own from a
# birth tcptrail saw.  ttpidleak holds K connections from before tracing
# on port P (seeded; their peers close under tracing, in softirq, where the
# kernel side knows them only by tuple), K from a listener of its own made
# before tracing (P+1), and K it accepted after their peers had closed
# (CLOSE_WAIT in the queue) from a listener ttdrive made and passed it, as
# systemd passes a socket-activated service its own (P+2).  Before, -p
# reported none on P (their FIN was left out as no process's) and none on
# P+2 (their flows began only at close()).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# beside it, a capture of the whole namespace, which a replay with -p must
# filter to the same leaks
CAP_PID=
trap 'if [ -n "$CAP_PID" ]; then kill -KILL "$CAP_PID" 2>/dev/null; fi; cleanup' EXIT
_cap_attached() {
	grep -q '^tcptrail: tracing' "$DIR/cap.err" || not_alive "$CAP_PID"
}

TRACE_PID_FACT=server_pid
TRACE_NO_GO=1
trace_begin close-wait-pid -i 1 --close-wait-age 1
"$TCPTRAIL" --netns "$NETNS" -w "$DIR/all.ttcap" >/dev/null 2>"$DIR/cap.err" &
CAP_PID=$!
wait_until 20 _cap_attached
grep -q '^tcptrail: tracing' "$DIR/cap.err" ||
	fail "the capturing tcptrail did not attach: $(last_line "$DIR/cap.err")"
: >"$DIR/go"
wait_paused close-wait
server=$(fact server_pid)
k=$(fact leaked)
peer=$(fact peer_pid)
expect_eq "ttdrive's CLOSE-WAIT sockets in the namespace" "$(fact ss.close_wait)" \
	"$((k + $(fact leaked.peer)))"
expect_eq "ttdrive's CLOSE-WAIT sockets of the server" "$(fact ss.close_wait.server)" "$k"
expect_eq "ttdrive's CLOSE-WAIT sockets of its worker" "$(fact ss.close_wait.peer)" \
	"$(fact leaked.peer)"

# one report a service port, both the server's; the next summary has them all
_all_reported() {
	[ "$(records close_wait | grep "\"service_port\":$(fact port)," | sed -n '$p' |
		jget count)" = "$(fact leaked.port)" ] &&
	[ "$(records close_wait | grep "\"service_port\":$(fact port2)," | sed -n '$p' |
		jget count)" = "$(fact leaked.port2)" ] &&
	[ "$(records close_wait | grep "\"service_port\":$(fact port3)," | sed -n '$p' |
		jget count)" = "$(fact leaked.port3)" ]
}
wait_until 5 _all_reported
for p in port port2 port3; do
	cw=$(records close_wait | grep "\"service_port\":$(fact $p)," | sed -n '$p')
	expect_flow "close_wait report for $p $(fact $p)" "$cw" pid="$server" comm=ttpidleak \
		count="$(fact leaked.$p)" service=local netns="$NETNS"
done
# the worker's are not the server's, though they were born under its listener
bad=$(records close_wait | grep -v "\"pid\":$server," | sed -n 1p)
[ -z "$bad" ] || fail "a report of another process than the server $server: $bad"
resume
drive_wait
trace_stop
bad=$(flows passive | grep -v "\"pid\":$server," | sed -n 1p)
[ -z "$bad" ] || fail "a passive flow of another process than the server $server: $bad"

# every leaked socket went on to LAST_ACK and CLOSE, as the server's flow
for p in port port2 port3; do
	n=$(flows | grep "\"sport\":$(fact $p)," | grep "\"pid\":$server," |
		states | grep -c 'CLOSE_WAIT,LAST_ACK,CLOSE$')
	expect_eq "the server's flows on $p $(fact $p) that end CLOSE_WAIT > LAST_ACK > CLOSE" \
		"$n" "$(fact leaked.$p)"
done
# the ones accepted in CLOSE_WAIT are dated back to the peer's FIN, not to
# the accept a second later.  The kernel's last-ACK time is in jiffies: 10 ms
# of slack before the FIN at HZ 100; after it, up to halfway to the accept,
# since a loaded qemu guest's jiffies fall behind (22 ms once, in CI).
expect_eq "passive flows on port3 $(fact port3)" \
	"$(flows passive | grep -c "\"sport\":$(fact port3),")" "$(fact leaked.port3)"
flows passive | grep "\"sport\":$(fact port3)," | jget start_ns |
	awk -v from="$(fact late.closed_from_ms)" -v to="$(fact late.closed_to_ms)" \
		-v acc="$(fact late.accept_ms)" '
		{ ms = $1 / 1e6 }
		ms < from - 10 || ms > (to + acc) / 2 {
			printf "a flow accepted in CLOSE_WAIT at %d ms starts at %.0f ms, not " \
				"at its peer'"'"'s FIN, %d..%d ms\n", acc, ms, from, to; exit 1 }' \
	>"$DIR/dates" || fail "$(cat "$DIR/dates")"
bad=$(flows | grep '"start_ns":0,' | sed -n 1p)
[ -z "$bad" ] || fail "a flow that starts at the boot: $bad"
_lost=$(grep '^{"type":"summary",.*"final":true' "$OUT" | jget lost)
expect_eq "final summary: lost" "$_lost" 0
_bad=$(flows | grep -v "\"netns\":$NETNS," | sed -n 1p)
[ -z "$_bad" ] || fail "flow from outside netns $NETNS: $_bad"
kill -INT "$CAP_PID"
wait_until 10 not_alive "$CAP_PID" || fail "the capturing tcptrail still running 10 s after SIGINT"
wait "$CAP_PID" || fail "the capturing tcptrail exited $?: $(last_line "$DIR/cap.err")"
CAP_PID=
"$TCPTRAIL" -r "$DIR/all.ttcap" --json -p "$server" -i 1 --close-wait-age 1 \
	>"$DIR/replay.out" 2>"$DIR/replay.err" ||
	fail "tcptrail -r -p exited $?: $(last_line "$DIR/replay.err")"
for p in port port2 port3; do
	n=$(grep '^{"type":"close_wait",' "$DIR/replay.out" | grep "\"service_port\":$(fact $p)," |
		jget count | sort -n | sed -n '$p')
	expect_eq "replay -p $server: most leaks reported on $p $(fact $p)" "$n" "$(fact leaked.$p)"
done
# and the same flows as the live run with -p: a child's accept, which comes
# before its one flow record, was taken for a socket the server adopted, and
# each flow was printed twice, once ended "superseded"
for role in passive active; do
	expect_eq "replay -p $server: $role flows, as live" \
		"$(grep '^{"type":"flow",' "$DIR/replay.out" | grep -c "\"role\":\"$role\"")" \
		"$(flows $role | count_lines)"
done
bad=$(grep '^{"type":"flow",' "$DIR/replay.out" | grep '"end":"superseded"' | sed -n 1p)
[ -z "$bad" ] || fail "replay -p $server: a flow ended superseded: $bad"

echo "close-wait-pid: $k leaked, $(fact leaked.port) on each of $(fact port), $(fact port2) and" \
	"$(fact port3), all reported under -p $server, live and by replay of a capture without it," \
	"with the same flows"
pass
