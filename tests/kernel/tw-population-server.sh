#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# As tw-population, with the server closing first: the timewait socks are
# the server's, on its well-known ports, so each remote is counted by
# address alone (port 0) and the closer is the server.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_population tw-load-server server
pass
