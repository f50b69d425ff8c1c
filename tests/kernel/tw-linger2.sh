#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: TCP_LINGER2 -1 then close(): an orphan reaching
# FIN_WAIT2 is closed with a RST (linger2 < 0), no timewait.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries linger2
# an orphan with TCP_LINGER2 -1: the kernel resets the peer after CLOSE; each client flow says so
n_abort=$(flows active | grep '"end":"abort"' | grep -c '"resets_sent":1,')
expect_eq "client flows ended abort with their reset" "$n_abort" "$(fact connections)"
expect_eq "resets sent (flows) vs the kernel's OutRsts" \
	"$(flows | grep -o '"resets_sent":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }')" \
	"$(fact kernel.OutRsts)"
pass
