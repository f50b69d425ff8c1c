#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# sock_ops takes a connected socket's transitions over from the transitions
# hook, which the kernel may skip under load (bpf/transitions.bpf.c): with it,
# one connection's established-and-after transitions come from sockops_state
# and the start-up line says sock-ops=sockops; with --no-sock-ops, none do,
# the line says sock-ops=off, and no warning is given.  Either way the two
# timelines are whole, owners and closers included.  -v prints the records
# each hook gave, at exit (with flow records, one per record: the hook of
# the transition that sent it).
#
# The ways older kernels let sock_ops know the current task run here too
# (TCPTRAIL_SOCKOPS_TASK): through bpf_get_current_task_btf() (before 6.2)
# it records the same; with no way at all (before that helper), the
# transitions made in a syscall (connect, close) stay with the transitions
# hook, which tells the closer, and sock_ops records those made in softirq.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

base_args=$TCPTRAIL_ARGS
# the guest's, for its attach mode: kept, so that no run falls back quietly
base_hooks=${EXPECT_HOOKS:-}
for run in auto btf helpers none off; do
	TCPTRAIL_ARGS="$base_args -v"
	sockops=sockops
	case $run in
	auto) unset TCPTRAIL_SOCKOPS_TASK ;;
	off)
		unset TCPTRAIL_SOCKOPS_TASK
		TCPTRAIL_ARGS="$base_args -v --no-sock-ops"
		sockops=off
		;;
	btf)
		export TCPTRAIL_SOCKOPS_TASK=btf
		# bpf_get_current_task_btf() came in Linux 5.11: before it the
		# forced way leaves sock_ops unloaded, with a warning, and the
		# transitions hook records every transition
		kernel_before 5.11 && sockops=UNAVAILABLE
		;;
	helpers)
		export TCPTRAIL_SOCKOPS_TASK=helpers
		# bpf_get_current_pid_tgid() and _comm() for sock_ops: 6.18 has
		# them, 6.12 not (the kernels the tests run on); without them
		# the forced way leaves sock_ops unloaded, with a warning.  It
		# is the way that names the thread, not the process, in comm.
		kernel_before 6.13 && sockops=UNAVAILABLE
		;;
	*) export TCPTRAIL_SOCKOPS_TASK=$run ;;
	esac
	EXPECT_HOOKS="$base_hooks sock-ops=$sockops"
	rm -f "$DIR/go"		# trace() leaves the last run's go-file behind
	trace active
	port=$(fact port)
	client=$(fact client_pid)
	server=$(fact server_pid)
	expect_count active 1 "sock-ops $run"
	expect_count passive 1 "sock-ops $run"
	expect_flow "sock-ops $run: client flow" "$(flows active)" dport="$port" \
		pid="$client" owner_known=true closer_pid="$client"
	expect_closed_first "sock-ops $run: client flow" "$(flows active)" SYN_SENT,ESTABLISHED
	expect_flow "sock-ops $run: server flow" "$(flows passive)" sport="$port" \
		pid="$server" owner_known=true closer_pid="$server" \
		states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
	if [ "$sockops" = UNAVAILABLE ]; then
		grep -q 'warning: sock-ops unavailable on this kernel' "$DIR/trace.err" ||
			fail "sock-ops $run: no warning that sock-ops is unavailable"
	else
		! grep 'warning: sock-ops' "$DIR/trace.err" ||
			fail "sock-ops $run: warned: $(grep 'warning: sock-ops' "$DIR/trace.err")"
	fi
	by=$(grep 'records by hook:' "$DIR/trace.err")
	[ -n "$by" ] || fail "sock-ops $run: no 'records by hook' line with -v"
	n=$(echo "$by" | sed -n 's/.* sockops_state=\([0-9]*\).*/\1/p')
	if grep -q 'sock_ops reads the current task not at all' "$DIR/trace.err"; then
		# only what arrives while no syscall holds the socket lock: a
		# segment that finds its owner busy waits in the backlog and is
		# run by release_sock() under the lock, so how many depends on
		# timing (3 to 6 in the 6.1 guest, 5 here); some always do
		want=1
	elif grep -q 'records=per-flow' "$DIR/trace.err"; then
		# flow records, each sent by the hook of the transition that
		# sends it: the client's end, the server's CLOSE_WAIT and end
		want=3
	else
		# and in the syscalls: client > FIN_WAIT1, server > LAST_ACK
		want=8
	fi
	case $sockops in
	off | UNAVAILABLE) [ -z "$n" ] || fail "sock-ops $run: sockops_state gave $n records: $by" ;;
	*) [ "${n:-0}" -ge $want ] ||
		fail "sock-ops $run: sockops_state gave '${n:-0}' records, want $want or more: $by" ;;
	esac
	case $run in
	none) grep -q 'sock_ops reads the current task not at all' "$DIR/trace.err" ||
		fail "sock-ops none: TCPTRAIL_SOCKOPS_TASK=none not taken" ;;
	btf) grep -q 'sock_ops reads the current task through bpf_get_current_task_btf' \
		"$DIR/trace.err" || fail "sock-ops btf: TCPTRAIL_SOCKOPS_TASK=btf not taken" ;;
	helpers) grep -q 'sock_ops reads the current task with bpf_get_current_pid_tgid' \
		"$DIR/trace.err" || fail "sock-ops helpers: TCPTRAIL_SOCKOPS_TASK=helpers not taken" ;;
	esac
	echo "note sock-ops $run: $by"
done
# --no-sock-ops under a forced kind with no hook of that kind for sock-ops:
# turned off on purpose, it is no news either
"$TCPTRAIL" --attach tracepoint --no-sock-ops -d 0.3 -i 0 --quiet-flows >/dev/null \
	2>"$DIR/forced.err" || fail "--attach tracepoint --no-sock-ops: exit $?: $(last_line "$DIR/forced.err")"
! grep -q 'warning: .*sock-ops' "$DIR/forced.err" ||
	fail "--attach tracepoint --no-sock-ops: $(grep 'sock-ops' "$DIR/forced.err" | sed -n 1p)"
pass
