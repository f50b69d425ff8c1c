#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT entry, exact: close(); once the peer has acked our FIN the orphan
# is a timewait sock (FIN_WAIT2 substate), then the peer's RST kills it: one
# entry each, counted when it was made.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_entries peer-rst-late FIN_WAIT2
pass
