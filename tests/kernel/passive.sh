#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One IPv4 connection that the server closes first: the client goes through
# CLOSE_WAIT, the server (the process that called accept()) through FIN_WAIT.
# The listener's flow names the process that closed it.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace passive
port=$(fact port)
client=$(fact client_pid)
acceptor=$(fact accept_pid)

expect_count active 1
expect_count passive 1
expect_count unknown 0

a=$(flows active)
expect_flow "client flow" "$a" dport="$port" pid="$client" owner_known=true \
	closer_pid="$client" states=SYN_SENT,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close

p=$(flows passive)
expect_flow "server flow" "$p" sport="$port" pid="$acceptor" owner_known=true \
	closer_pid="$acceptor"
expect_closed_first "server flow" "$p" SYN_RECV,ESTABLISHED

# the listener is ttdrive's; the server's exit closes its last descriptor
expect_count listener 1
expect_flow "listener flow" "$(flows listener)" sport="$port" pid="$client" \
	closer_pid="$acceptor" states=LISTEN,CLOSE end=close
pass
