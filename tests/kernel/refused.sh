#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# connect() to a port nobody listens on: SYN_SENT answered by a RST.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace refused
[ "$(fact refused)" = 1 ] || fail "ttdrive did not see ECONNREFUSED"

expect_count active 1
expect_count passive 0
expect_count unknown 0
expect_flow "client flow" "$(flows active)" dport="$(fact port)" pid="$(fact client_pid)" \
	states=SYN_SENT,CLOSE end=refused
# on loopback the RST is run in connect()'s own context: still no close call
expect_flow "client flow" "$(flows active)" closer_pid=0
pass
