#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: close(), and the peer answers with a RST (SO_LINGER 0)
# before its delayed ACK of our FIN: the orphan is reset in FIN_WAIT1 and
# never enters timewait; the kernel counts none, neither may tcptrail.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries peer-rst
pass
