#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# -P PORT keeps the flows with PORT at either end and nothing else.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace filter -P 8100
a=$(fact port_a)
b=$(fact port_b)
per=$(fact per_port)
[ "$a" = 8100 ] || fail "ttdrive's port_a is $a, this test filters 8100"

expect_count active "$per"
expect_count passive "$per"
expect_count unknown 0
expect_all active "\"dport\":$a," "client flow not to port $a"
expect_all passive "\"sport\":$a," "server flow not on port $a"
expect_none "flow on filtered-out port $b" "\"[sd]port\":$b,"
pass
