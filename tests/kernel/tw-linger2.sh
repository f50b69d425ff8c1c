#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: TCP_LINGER2 -1 then close(): an orphan reaching
# FIN_WAIT2 is closed with a RST (linger2 < 0), no timewait.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries linger2
pass
