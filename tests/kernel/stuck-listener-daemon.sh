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

kacc=$(fact stuck.kernel.ListenOverflows)
[ "${kacc:-0}" -gt 0 ] || fail "the kernel counted no accept-queue overflow: the scenario did not work here"
recs=$(records overflow | grep "\"sport\":$port,")
expect_eq "accept overflow records at port $port against ListenOverflows" \
	"$(printf '%s\n' "$recs" | grep -c '"queue":"accept"')" "$kacc"
bad=$(printf '%s\n' "$recs" | grep -v "\"pid\":$pid,\"comm\":\"ttdaemon\"}" | sed -n 1p)
[ -z "$bad" ] || fail "an overflow record does not name the daemon $pid: $bad"
l=$(records summary | json_array listeners | grep "\"sport\":$port," | sed -n '$p')
[ -n "$l" ] || fail "no summary's listeners names port $port"
expect_flow "summary's listener" "$l" pid="$pid" comm=ttdaemon
echo "stuck-listener-daemon: $queued unaccepted and $kacc overflows, named after the daemon $pid, not $starter"
pass
