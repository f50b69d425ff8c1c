#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A CLOSE-WAIT leak handed on twice, as a fork-per-connection server's
# (PostgreSQL's postmaster and its backends) is: the server (ttleak) accepts
# K sockets, which leak; a worker (ttworker) takes K/2 of them at once, and
# once tcptrail has found it there, a second (ttworker2) takes the rest.
# The second worker's leak is named at the next check, not after the minute
# that a scan of every process waited for once it had found the first: the
# report named ttleak, which holds none of them, until then.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# names_after N PID: a close_wait record after the first N names PID
# shellcheck disable=SC2317 # called through wait_until
names_after() {
	records close_wait | sed "1,${1}d" | grep -q "\"pid\":$2,"
}

trace_begin close-wait-handoff-twice -i 1 --close-wait-age 1
wait_paused handed-once
w1=$(fact server_pid)
acceptor=$(fact accept_pid)
[ "$w1" != "$acceptor" ] || fail "ttdrive says the acceptor holds the sockets: nothing was handed on"
wait_until 5 names_after 0 "$w1" || fail "no close_wait report names the first worker $w1 within 5 s"
CW1=$(records close_wait | grep "\"pid\":$w1," | sed -n '$p')
expect_flow "the first worker's close_wait" "$CW1" comm=ttworker count="$(fact server.held)"
resume
wait_paused close-wait
w2=$(fact server2_pid)
expect_eq "ttdrive's CLOSE-WAIT sockets of the second worker" "$(fact ss.close_wait.server2)" \
	"$(fact server2.held)"
n0=$(records close_wait | count_lines)
# a check a second, a scan of every process at most every 2 s here (or 100
# times what the last took: a sanitizer's build, a loaded machine)
wait_until 8 names_after "$n0" "$w2" ||
	fail "no close_wait report names the second worker $w2 within 8 s of the hand-over" \
		"(after it: $(records close_wait | sed "1,${n0}d" | jget pid | sort | uniq -c | tr -s ' \n' ' '))"
CW2=$(records close_wait | grep "\"pid\":$w2," | sed -n '$p')
expect_flow "the second worker's close_wait" "$CW2" comm=ttworker2 count="$(fact server2.held)"
# and the report it is in names nobody else for them: not the acceptor
t=$(printf '%s\n' "$CW2" | jget t_ns)
if records close_wait | grep "\"t_ns\":$t," | grep -q "\"pid\":$acceptor,"; then
	fail "the report that names the second worker still names the acceptor $acceptor"
fi
resume
trace_end
echo "close-wait-handoff-twice: $(fact leaked) leaked; named ttworker $w1, then ttworker2 $w2"
pass
