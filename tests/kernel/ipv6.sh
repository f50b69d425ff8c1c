#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The active scenario over ::1.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace ipv6
port=$(fact port)

expect_count active 1
expect_count passive 1
expect_count unknown 0

a=$(flows active)
expect_flow "client flow" "$a" family=ipv6 saddr=::1 daddr=::1 dport="$port" \
	pid="$(fact client_pid)"
expect_closed_first "client flow" "$a" SYN_SENT,ESTABLISHED

expect_flow "server flow" "$(flows passive)" family=ipv6 saddr=::1 daddr=::1 sport="$port" \
	pid="$(fact server_pid)" states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
pass
