#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# 1000 connections open at once, then closed: none lost, none missing,
# every one attributed to the right process.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

n=1000
trace "concurrent $n"
[ "$(fact connections)" = "$n" ] || fail "ttdrive made $(fact connections) connections, not $n"
client=$(fact client_pid)
server=$(fact server_pid)

expect_count active "$n"
expect_count passive "$n"
expect_count unknown 0
expect_all active "\"pid\":$client," "client flow not owned by the client $client"
expect_all passive "\"pid\":$server," "server flow not owned by the server $server"
pass
