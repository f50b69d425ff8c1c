#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A client leaking one socket toward each of 120 services: 120 leak groups.
# A report names the first 100 and counts the other 20 and their sockets in
# one close_wait_not_shown record; together they are every CLOSE-WAIT
# socket of the namespace, as ss counts them.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace_begin "close-wait-services 120" -i 1 --close-wait-age 1
wait_paused close-wait
wait_until 5 _more_than 0 close_wait_not_shown ||
	fail "no close_wait_not_shown record within 5 s of the pause"
REST=$(records close_wait_not_shown | sed -n '$p')
T=$(printf '%s\n' "$REST" | jget t_ns)
NAMED=$(records close_wait | grep "\"t_ns\":$T,")
_leak=$(fact leaked)
expect_eq "ttdrive's CLOSE-WAIT sockets in the namespace" "$(fact ss.close_wait)" "$_leak"
expect_eq "close_wait records of the report at $T" "$(printf '%s\n' "$NAMED" | count_lines)" 100
expect_eq "their owner" "$(printf '%s\n' "$NAMED" | jget pid | sort -u)" "$(fact client_pid)"
# each named group's command line, read once for the process
printf '%s\n' "$NAMED" | jget cmdline | grep -v -q 'ttdrive .*close-wait-services 120$' &&
	fail "a close_wait record without ttdrive's command line: $(printf '%s\n' "$NAMED" | jget cmdline | sort -u)"
expect_eq "their services" "$(printf '%s\n' "$NAMED" | jget service | sort -u)" remote
expect_eq "distinct service ports named" \
	"$(printf '%s\n' "$NAMED" | jget service_port | sort -u | count_lines)" 100
expect_flow "close_wait_not_shown" "$REST" groups=20 count=20 shown=100
_named=$(printf '%s\n' "$NAMED" | jget count | awk '{ s += $1 } END { print s + 0 }')
expect_eq "sockets named and not shown" "$((_named + $(printf '%s\n' "$REST" | jget count)))" "$_leak"
if ss_here; then
	expect_eq "ss -tan state close-wait in the namespace" \
		"$(ns_ss -Htan state close-wait | count_lines)" "$_leak"
	_note=", ss agrees"
fi
resume
trace_end
echo "close-wait-services: $_leak leak groups, 100 named, $(printf '%s\n' "$REST" | jget groups)" \
	"counted in close_wait_not_shown$_note"
pass
