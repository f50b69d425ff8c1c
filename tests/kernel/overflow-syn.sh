#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# SYN-queue overflows, exact: a backlog-2 listener and 10 clients that ignore
# its SYN-ACKs (a socket filter drops all they receive, so no third ACK and
# no RST), for 1.1 s: the fourth SYN on finds the queue full.  With
# net.ipv4.tcp_syncookies 0 the "syn" records without a cookie equal
# TCPReqQFullDrop; with 1 those with "syncookie":true equal
# SyncookiesSent (and TCPReqQFullDoCookies: the accept queue stays empty);
# over IPv4 and IPv6.  The clients whose requests
# wait in the queue retransmit their SYN after 1 s: the kernel answers those
# from the request (tcp_check_req()), which is no overflow.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace overflow-syn
check_overflow_cases syn
pass
