#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The ends of a connect() that never connected, other than refused, through
# a TUN device the driver answers for: a SYN never answered, whose owner
# closes the socket (an application's connect timeout), ends `cancelled`,
# with no RST and no error; a SYN answered by an ICMP host unreachable ends
# `error`, with `"error":"EHOSTUNREACH"` in JSON and `(error EHOSTUNREACH)`
# in the human line of its replay.  With a local port range of two ports,
# a third connect finds no port (EADDRNOTAVAIL): `no_port`, port 0.  The
# summaries count them: JSON `ends` (summed, flows_closed), and
# `errors=1 cancelled=1 no_port=1` in the human line.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace connect-fail -w "$DIR/cap.ttcap"
expect_count active 5
expect_count passive 2
pc=$(fact cancelled_port)
pe=$(fact error_port)
[ -n "$pc" ] && [ -n "$pe" ] || fail "ttdrive printed no cancelled_port= or error_port="
cancelled=$(flows active | grep "\"sport\":$pc,")
failed=$(flows active | grep "\"sport\":$pe,")
expect_flow "connect closed by its owner" "$cancelled" states=SYN_SENT,CLOSE end=cancelled \
	resets_sent=0 closer_pid="$(fact client_pid)"
printf '%s\n' "$cancelled" | grep -q '"error":' &&
	fail "connect closed by its owner: an error field: $cancelled"
expect_flow "connect answered by ICMP" "$failed" states=SYN_SENT,CLOSE end=error resets_sent=0
noport=$(flows active | grep '"sport":0,' | grep "\"dport\":$(fact port),")
expect_flow "connect with no local port free" "$noport" states=SYN_SENT,CLOSE end=no_port \
	resets_sent=0
printf '%s\n' "$failed" | grep -q '"error":"EHOSTUNREACH"' ||
	fail "connect answered by ICMP: no \"error\":\"EHOSTUNREACH\": $failed"
# the summaries' ends, summed over the run: one each, and they add up to the flows closed
ends=$(records summary | grep -o '"ends":{[^}]*}' | tr ',{}' '\n\n\n' | tr -d '"' |
	awk -F: '$2 ~ /^[0-9]+$/ { t[$1] += $2; all += $2 } END { print t["cancelled"] + 0, t["error"] + 0, t["no_port"] + 0, all + 0 }')
expect_eq "summaries: ends cancelled, error, no_port, all" "$ends" "1 1 1 $(sum_of summary flows_closed)"
# the human line of the same flows, from the capture
"$TCPTRAIL" -r "$DIR/cap.ttcap" >"$DIR/replay.out" 2>"$DIR/replay.err" ||
	fail "replay: $(last_line "$DIR/replay.err")"
grep -q ":$pc .*SYN_SENT .*CLOSE (cancelled)" "$DIR/replay.out" ||
	fail "replay: no (cancelled) for port $pc: $(grep ":$pc " "$DIR/replay.out")"
grep -q ":$pe .*SYN_SENT .*CLOSE (error EHOSTUNREACH)" "$DIR/replay.out" ||
	fail "replay: no (error EHOSTUNREACH) for port $pe: $(grep ":$pe " "$DIR/replay.out")"
grep -q "final_summary .* errors=1 cancelled=1 no_port=1 " "$DIR/replay.out" ||
	fail "replay: the final summary counts no errors=1 cancelled=1 no_port=1: $(grep final_summary "$DIR/replay.out")"
grep -q ":0 .*SYN_SENT .*CLOSE (no_port)" "$DIR/replay.out" ||
	fail "replay: no (no_port) flow: $(grep SYN_SENT "$DIR/replay.out")"
pass
