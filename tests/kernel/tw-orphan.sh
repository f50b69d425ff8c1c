#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: close() and the peer never closes.  The orphan enters
# timewait in its FIN_WAIT2 substate as soon as its FIN is acked; that
# timewait sock lives tcp_fin_timeout (1 s in the test's netns, so the kernel
# files it under TWKilled, not TW) and is gone before the peer closes.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries orphan FIN_WAIT2
expect_eq "timewait socks left when the peer closed" "$(fact tw.sockets_before_peer_close)" 0
pass
