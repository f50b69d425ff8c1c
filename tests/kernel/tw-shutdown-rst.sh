#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: shutdown(SHUT_WR), FIN_WAIT2, then the peer's RST:
# the socket is reset (sk_err), no timewait.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries shutdown-rst
pass
