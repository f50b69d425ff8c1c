#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The metrics file written at start (a restart of the service) has the
# leaks and the TIME-WAIT count found then, as a scrape would: left out
# until the first summary, they went stale at every restart, and the
# packaged leak alert (for: 1h) started its hour again.  The sockets found
# open are counted as found, not opened.  K CLOSE-WAIT
# sockets leaked before tracing; -i 1h, so that no summary comes first.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

SEEDED_OK=1
prom=$DIR/m.prom
trace_begin "close-wait-seeded 4" -i 1h --close-wait-age 0 --metrics-file "$prom"
wait_paused close-wait
k=$(fact leaked)
expect_eq "summaries before the check" "$(records summary | count_lines)" 0
[ -s "$prom" ] || fail "no $prom at start"
expect_eq "tcptrail_close_wait_suspected_leaks at start" \
	"$(sed -n 's/^tcptrail_close_wait_suspected_leaks{[^}]*} //p' "$prom" | awk '{ t += $1 } END { print t + 0 }')" \
	"$k"
grep -q '^tcptrail_timewait_sockets [0-9]' "$prom" ||
	fail "no tcptrail_timewait_sockets in the file written at start"
grep -q '^tcptrail_timewait_port_pressure_warn_ratio ' "$prom" ||
	fail "no tcptrail_timewait_port_pressure_warn_ratio in the file written at start"
# the sockets found open are no opens: rate() across a restart would count them all
expect_eq "tcptrail_flows_opened_total at start" \
	"$(sed -n 's/^tcptrail_flows_opened_total //p' "$prom")" 0
found=$(sed -n 's/^tcptrail_flows_found_total //p' "$prom")
[ -n "$found" ] && [ "$found" -ge "$k" ] ||
	fail "tcptrail_flows_found_total at start is '$found', want at least the $k leaked sockets"
resume
trace_end
pass
