#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: 50 clean active closes (shutdown, the peer's FIN,
# then close): each enters timewait in its TIME_WAIT substate.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries clean TIME_WAIT
expect_eq "TIME-WAIT entries" "$(flows active | grep -c '"end":"time_wait"')" "$(fact connections)"
pass
