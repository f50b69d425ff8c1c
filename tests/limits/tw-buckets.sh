#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: 20 clean closes with net.ipv4.tcp_max_tw_buckets 5:
# tcp_time_wait() makes 5 timewait socks; for the other 15 it has none to
# make (TCPTimeWaitOverflow) and the socket just closes.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/../kernel/lib.sh"

check_tw_entries buckets TIME_WAIT
pass
