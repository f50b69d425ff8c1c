#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A daemon's listener, as nginx and haproxy -D make theirs: one process
# (ttlisten) calls listen() under tracing, forks the daemon (ttdaemon),
# which keeps the listener and stops accepting, and exits.  The reports
# that name the listener's owner, the CLOSE-WAIT report of its unaccepted
# queue and its overflows, must name the daemon, which holds it, as ss -p
# does: they named the process that called listen(), which is gone.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# names_after N TYPE PID: a TYPE record after the first N names PID
# shellcheck disable=SC2317 # called through wait_until
names_after() {
	records "$2" | sed "1,${1}d" | grep -q "\"pid\":$3,"
}

trace_begin stuck-listener-daemon -i 1 --close-wait-age 1
wait_paused queued
pid=$(fact listener_pid)
starter=$(fact listen_pid)
port=$(fact port)
queued=$(fact queued)
alive "$starter" && fail "ttlisten ($starter) has not exited"
wait_until 5 names_after 0 close_wait "$pid" ||
	fail "no close_wait report names the daemon $pid within 5 s" \
		"(they name: $(records close_wait | jget pid | sort -u | tr '\n' ' '))"
CW=$(records close_wait | grep "\"pid\":$pid," | sed -n '$p')
expect_flow "close_wait report" "$CW" comm="$(fact listener_comm)" count="$queued" \
	unaccepted="$queued" service=local service_port="$port"
resume
wait_paused stuck-listener
n0=$(records summary | count_lines)
wait_until 5 _more_than "$((n0 + 1))" summary || fail "no summary within 5 s of the overflows"
resume
trace_end

stuck_overflows "$port" "$pid" ttdaemon last
echo "stuck-listener-daemon: $queued unaccepted and $KACC overflows, named after the daemon $pid, not $starter"
pass
