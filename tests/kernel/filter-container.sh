#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --container with --netns: a container no socket is in keeps no flow, and
# the exit check against the namespace's own counters stays off, as for
# every filter that leaves out sockets those counters count (else it warns
# that the kernel skipped hooks for the connections the filter dropped;
# check_trace fails on that warning).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace filter --container 0123456789ab
per=$(fact per_port)
[ "${per:-0}" -gt 0 ] || fail "ttdrive made no connections (per_port '$per')"
expect_count active 0
expect_count passive 0
grep -q "no running container's id starts with 0123456789ab" "$DIR/trace.err" ||
	fail "no warning that the container is not running: $(last_line "$DIR/trace.err")"
pass
