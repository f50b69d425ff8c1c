#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One IPv4 connection that the client closes first: both ends' timelines,
# addresses and owners.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace active
port=$(fact port)
client=$(fact client_pid)
server=$(fact server_pid)

expect_count active 1
expect_count passive 1
expect_count unknown 0

a=$(flows active)
expect_flow "client flow" "$a" family=ipv4 saddr=127.0.0.1 daddr=127.0.0.1 dport="$port" \
	pid="$client" owner_known=true closer_pid="$client"
expect_closed_first "client flow" "$a" SYN_SENT,ESTABLISHED

p=$(flows passive)
expect_flow "server flow" "$p" family=ipv4 saddr=127.0.0.1 daddr=127.0.0.1 sport="$port" \
	pid="$server" owner_known=true closer_pid="$server" \
	states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
pass
