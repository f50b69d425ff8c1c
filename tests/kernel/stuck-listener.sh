#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A server that stopped calling accept(), as on-call finds it: tcptrail
# starts after its accept queue filled with connections whose clients gave
# up (CLOSE_WAIT, held by no process), and sees it turn more away.  The
# listener is known only from the seed, filed by its tuple, not its address.
# The overflow records and the summaries' listeners must name its owner,
# and the CLOSE-WAIT report must name that owner too, with every socket
# counted as unaccepted.  Twice: the whole namespace, then with -p and the
# listener's owner, which must keep its queue's sockets too (no process
# holds them; before, -p left them out, and the report with them).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

SEEDED_OK=1
for TRACE_PID_FACT in "" listener_pid; do
trace_begin stuck-listener -i 1 --close-wait-age 1
wait_paused stuck-listener
n0=$(records close_wait | count_lines)
wait_until 5 _more_than "$n0" close_wait || fail "no close_wait report within 5 s of the pause"
CW=$(records close_wait | sed -n '$p')
resume
trace_end

pid=$(fact listener_pid)
port=$(fact port)
queued=$(fact queued)
expect_flow "close_wait report" "$CW" pid="$pid" comm=ttdrive count="$queued" \
	seeded="$queued" unaccepted="$queued" service=local service_port="$port"

kacc=$(fact stuck.kernel.ListenOverflows)
[ "${kacc:-0}" -gt 0 ] || fail "the kernel counted no accept-queue overflow: the scenario did not work here"
recs=$(records overflow | grep "\"sport\":$port,")
expect_eq "accept overflow records at port $port against ListenOverflows" \
	"$(printf '%s\n' "$recs" | grep -c '"queue":"accept"')" "$kacc"
bad=$(printf '%s\n' "$recs" | grep -v "\"pid\":$pid,\"comm\":\"ttdrive\"}" | sed -n 1p)
[ -z "$bad" ] || fail "an overflow record does not name the listener's owner $pid: $bad"
l=$(records summary | json_array listeners | grep "\"sport\":$port," | sed -n 1p)
[ -n "$l" ] || fail "no summary's listeners names port $port"
expect_flow "summary's listener" "$l" pid="$pid" comm=ttdrive
# and its cgroup, as the overflow records name it (the schema wants the field)
ocg=$(printf '%s\n' "$recs" | sed -n '1s/.*"cgroup":\("[^"]*"\|null\).*/\1/p')
lcg=$(printf '%s\n' "$l" | sed -n 's/.*"cgroup":\("[^"]*"\|null\).*/\1/p')
[ -n "$ocg" ] && [ "$ocg" != null ] || fail "the overflow record names no cgroup: $(printf '%s\n' "$recs" | sed -n 1p)"
expect_eq "summary's listener cgroup, as its overflow records'" "$lcg" "$ocg"
echo "stuck-listener${TRACE_PID_FACT:+ -p $pid}: $queued unaccepted in CLOSE_WAIT and $kacc overflows, named after pid $pid"
done
pass
