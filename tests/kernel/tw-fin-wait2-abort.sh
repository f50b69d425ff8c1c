#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: shutdown(SHUT_WR), then in FIN_WAIT2 close() with
# SO_LINGER 0: tcp_disconnect() sends a RST, no timewait.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries fin-wait2-abort
pass
