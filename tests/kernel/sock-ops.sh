#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# sock_ops takes a connected socket's transitions over from the transitions
# hook, which the kernel may skip under load (bpf/tcptrail.bpf.c): with it,
# one connection's established-and-after transitions come from sockops_state
# and the start-up line says sock-ops=sockops; with --no-sock-ops, none do,
# the line says sock-ops=off, and no warning is given.  Either way the two
# timelines are whole.  -v prints the records each hook gave, at exit.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

base_args=$TCPTRAIL_ARGS
for run in on off; do
	if [ $run = on ]; then
		TCPTRAIL_ARGS="$base_args -v"
		EXPECT_HOOKS=sock-ops=sockops
	else
		TCPTRAIL_ARGS="$base_args -v --no-sock-ops"
		EXPECT_HOOKS=sock-ops=off
	fi
	rm -f "$DIR/go"		# trace() leaves the last run's go-file behind
	trace active
	expect_count active 1
	expect_count passive 1
	expect_closed_first "sock-ops $run: client flow" "$(flows active)" SYN_SENT,ESTABLISHED
	expect_flow "sock-ops $run: server flow" "$(flows passive)" \
		states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
	! grep 'warning: sock-ops' "$DIR/trace.err" ||
		fail "sock-ops $run: warned: $(grep 'warning: sock-ops' "$DIR/trace.err")"
	by=$(grep 'records by hook:' "$DIR/trace.err")
	[ -n "$by" ] || fail "sock-ops $run: no 'records by hook' line with -v"
	n=$(echo "$by" | sed -n 's/.* sockops_state=\([0-9]*\).*/\1/p')
	if [ $run = on ]; then
		# client: > ESTABLISHED, > FIN_WAIT1, > FIN_WAIT2, > TIME_WAIT;
		# server: the birth, > ESTABLISHED, > CLOSE_WAIT, > LAST_ACK, > CLOSE
		[ "${n:-0}" -ge 8 ] || fail "sock-ops on: sockops_state gave '${n:-0}' records: $by"
	else
		[ -z "$n" ] || fail "sock-ops off: sockops_state gave $n records: $by"
	fi
	echo "note sock-ops $run: $by"
done
pass
