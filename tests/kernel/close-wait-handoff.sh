#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A CLOSE-WAIT leak handed on: the server (ttleak) accepts, reads to end of
# stream, forks a worker (ttworker) that keeps the sockets, and closes its
# own copies; the clients close.  The leak is the worker's, as ss -p says,
# though the server accepted the sockets under tracing: the close_wait
# report names the worker's pid and comm, found by the CLOSE-WAIT check
# (the holder of each socket, from /proc, where its owner holds it no more).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_close_wait close-wait-handoff
[ "$(fact server_comm)" = ttworker ] || fail "ttdrive's holder is '$(fact server_comm)', not ttworker"
[ "$(fact server_pid)" != "$(fact accept_pid)" ] ||
	fail "ttdrive says the acceptor holds the sockets: nothing was handed on"
expect_flow "close_wait report" "$CW" seeded=0
pass
