#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: close(), and the peer's delayed ACK of our FIN comes
# with new data: tcp_rcv_state_process() moves the orphan to FIN_WAIT2 and
# aborts it at once (TCPAbortOnData), with no timewait sock.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries data-after-close
pass
