#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The CLOSE-WAIT leak made before tcptrail starts: the sockets are seeded
# from sock_diag at start, and still reported, every one of them as seeded.
# Once the server closes them, each seeded flow goes on from CLOSE_WAIT to
# LAST_ACK and CLOSE, owned by the server.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

SEEDED_OK=1
check_close_wait close-wait-seeded
k=$(fact leaked)
expect_flow "close_wait report" "$CW" seeded="$k"
expect_eq "seeded flows that went CLOSE_WAIT > LAST_ACK > CLOSE" \
	"$(flows | grep '"seeded":true' | states | grep -c '^CLOSE_WAIT,LAST_ACK,CLOSE$')" "$k"
expect_all "[a-z]*" '"seeded":false\|"pid":'"$(fact server_pid)"',' \
	"seeded flow not owned by the server $(fact server_pid)"
pass
