#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The server closes an established connection with SO_LINGER {1, 0}: it
# aborts (sends a RST), the client is reset while ESTABLISHED.  Each flow
# counts the one RST: sent by the server, received by the client.  -v's
# records by hook name the reset programs, not the SYN-ACK retransmit
# program that shares their hook id (there is no SYN-ACK retransmit).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace reset -v
[ "$(fact reset)" = 1 ] || fail "ttdrive's client did not see ECONNRESET"

expect_count active 1
expect_count passive 1
expect_count unknown 0
expect_flow "client flow" "$(flows active)" pid="$(fact client_pid)" \
	states=SYN_SENT,ESTABLISHED,CLOSE end=reset resets_recv=1 resets_sent=0
# the kernel sends the server's RST after its CLOSE, and its record
expect_flow "server flow" "$(flows passive)" pid="$(fact server_pid)" \
	states=SYN_RECV,ESTABLISHED,CLOSE end=abort resets_sent=1 resets_recv=0
by=$(grep 'records by hook:' "$DIR/trace.err")
[ -n "$by" ] || fail "no 'records by hook' line with -v"
case $by in
*retransmit_synack=*) fail "-v counts resets as SYN-ACK retransmits: $by" ;;
*_send_reset=[1-9]*) ;;
*) fail "-v names no reset program's records: $by" ;;
esac
pass
