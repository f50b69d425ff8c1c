#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# CLOSE_WAIT that is no leak: besides K leaked sockets on PORT, the server
# (ttleak) has K more on PORT+1 whose clients sent a request and
# half-closed (shutdown(SHUT_WR)), and it answers them with a byte every
# 100 ms.  All 2K sit in CLOSE_WAIT well past --close-wait-age 3; only the
# K that send nothing are a leak.  The CLOSE-WAIT check reads when each
# socket last sent data (tcpi_last_data_sent): no close_wait report names
# PORT+1, and the one for PORT counts K.  The age is 3 s, not 1: a sender
# that a loaded CI host (qemu guests beside the tests) did not run for a
# second was quiet for the age, and rightly reported (seen once in CI).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace_begin close-wait-sending -i 1 --close-wait-age 3
wait_paused close-wait
LEAKED=$(fact leaked)
SPORT=$(fact stream_port)
[ -n "$SPORT" ] || fail "ttdrive names no stream_port"
[ "$(fact streaming)" = "$LEAKED" ] || fail "ttdrive streams to '$(fact streaming)' sockets, not $LEAKED"
expect_eq "ttdrive's CLOSE-WAIT sockets in the namespace" "$(fact ss.close_wait)" $((2 * LEAKED))
# the streams have sat in CLOSE_WAIT 2.5 s by the pause: three more reports past the age
_n0=$(records close_wait | count_lines)
wait_until 15 _more_than $((_n0 + 2)) close_wait ||
	fail "fewer than 3 close_wait reports within 15 s of the pause"
if ss_here; then
	_ss=$(ns_ss -Htan state close-wait "( sport = :$SPORT )") ||
		fail "ss -Htan state close-wait in the namespace failed"
	expect_eq "ss: CLOSE-WAIT sockets on port $SPORT, after the reports" \
		"$(printf '%s\n' "$_ss" | count_lines)" "$LEAKED"
fi
_streams=$(records close_wait | grep -c "\"service_port\":$SPORT[,}]" || true)
[ "$_streams" = 0 ] || fail "$_streams close_wait reports name port $SPORT, whose sockets send:" \
	"$(records close_wait | grep "\"service_port\":$SPORT[,}]" | sed -n 1p)"
CW=$(records close_wait | sed -n '$p')
expect_flow "last close_wait report" "$CW" pid="$(fact server_pid)" count="$LEAKED" \
	service_port="$(fact port)" netns="$NETNS"
_reports=$(records close_wait | count_lines)
resume
trace_end
_least=$(fact stream.least_bytes)
[ -n "$_least" ] && [ "$_least" -ge 30 ] ||
	fail "a half-closed client read '$_least' bytes: the server was not streaming through the reports"
echo "close-wait-sending: $LEAKED leaked on $(fact port) in $_reports reports, none of the $LEAKED" \
	"streaming on $SPORT (each sent at least $_least bytes)"
pass
