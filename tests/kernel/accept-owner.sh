#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The listener belongs to one process, accept() is called by another: each
# accepted flow is owned by the acceptor.  On loopback the handshake runs in
# softirq inside the client's connect(), and the client here is also the
# listener's owner, so a tracer that takes the current task there names the
# wrong process.  The client dials from a thread of its own name: the flows
# name the process, not the thread.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace accept-owner
k=$(fact connections)
acceptor=$(fact accept_pid)
listener=$(fact listener_pid)
[ "$acceptor" != "$listener" ] || fail "ttdrive accepted in the listener's process"

expect_count passive "$k"
expect_count active "$k"
expect_count unknown 0
expect_all passive "\"pid\":$acceptor," \
	"accepted flow not owned by the acceptor $acceptor (listener $listener)"
# the client connects and closes in a thread named otherwise: a flow names
# the process (its thread group leader), as ss -p does, not the thread
comm=$(fact client_comm)
thread=$(fact client_thread_comm)
[ -n "$comm" ] && [ "$comm" != "$thread" ] || fail "ttdrive named its process '$comm'"
expect_all active "\"comm\":\"$comm\"" "an active flow not named $comm (its thread is $thread)"
expect_all active "\"closer_comm\":\"$comm\"" "an active flow's closer not named $comm (its thread is $thread)"
# the listener, made once tracing began, is its creator's
expect_count listener 1
expect_all listener "\"pid\":$listener," "listener flow not owned by $listener"
pass
