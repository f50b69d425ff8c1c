#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A CLOSE-WAIT leak: a server that accepts, reads to end of stream and never
# closes; its clients close.  The close_wait report names the server's pid
# and comm and counts the leaked sockets, as many as the kernel has in
# CLOSE-WAIT.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_close_wait close-wait
expect_flow "close_wait report" "$CW" seeded=0
pass
