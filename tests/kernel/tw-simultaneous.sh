#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: 20 simultaneous closes, both FINs in flight at once
# (ttdrive makes it so with TCP_REPAIR): both ends enter TIME-WAIT, through
# CLOSING, two entries per connection.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries simultaneous TIME_WAIT
n=$(fact connections)
expect_eq "timewait socks (both ends of every connection)" "$(fact tw.sockets)" $((2 * n))
# Both FINs are in flight; the end that receives the other's first goes
# CLOSING.  The other goes CLOSING too when its own retransmit timer fired in
# the same tick (nearly always), else the first one's ACK reaches it first:
# FIN_WAIT2.  Either way both end in TIME-WAIT.
expect_eq "TIME-WAIT flows through FIN_WAIT1 then CLOSING or FIN_WAIT2" \
	"$(flows | grep '"end":"time_wait"' | states |
		grep -c ',ESTABLISHED,FIN_WAIT1,\(CLOSING\|FIN_WAIT2\),TIME_WAIT$')" $((2 * n))
closing=$(flows | grep '"end":"time_wait"' | states | grep -c ',FIN_WAIT1,CLOSING,TIME_WAIT$')
[ "$closing" -ge "$n" ] || fail "only $closing of $((2 * n)) ends went through CLOSING, want $n or more"
echo "tw-simultaneous: $closing of $((2 * n)) ends went through CLOSING"
pass
