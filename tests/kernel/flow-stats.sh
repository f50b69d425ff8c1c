#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Issue 16: the stats a flow record carries from tcp_sock at its end.
# ttdrive's bytes scenario makes connections over 127.0.0.1 that carry known
# payloads (100000 up and 2345 down, 1/0, 0/0 with no payload at all, 0/70000,
# 1 MiB/1), each orderly closed, and checks on both ends that every byte
# arrived.  Both ends' flows must say exactly those bytes (payload only: the
# SYN's and FIN's sequence numbers are not bytes), segments in and out that
# could carry them, no more retransmits than the namespace's own RetransSegs,
# and a smoothed RTT.  With -e, or a transitions hook with no typed socket
# (tracepoint, kprobe: --attach in the qemu guest), tcptrail keeps one record
# per transition: there, no flow may have any of them.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace bytes
n=$(fact bytes_cases)
case "$n" in
'' | *[!0-9]*) fail "ttdrive printed bytes_cases='$n', want a count" ;;
esac
[ "$n" -ge 5 ] || fail "ttdrive printed bytes_cases=$n, want 5 or more"
expect_count active "$n"
expect_count passive "$n"

STAT_KEYS="bytes_sent bytes_received segs_out segs_in retransmits srtt_us"

# expect_no_stats WHY: no flow has any of the six (none may be made up).
expect_no_stats() {
	for _k in $STAT_KEYS; do
		expect_none "$_k in a flow $1" "\"$_k\":"
	done
}

hooks=$(sed -n 's/^tcptrail: tracing: //p' "$DIR/trace.err")
if ! per_flow_records; then
	expect_no_stats "of the per-transition stream ($hooks)"
	pass
fi
if ! flows | grep -q '"bytes_sent":'; then
	fail "no flow record has bytes_sent: the kernel sent no stats at the end" \
		"(TT_FR_STATS; hooks: $hooks)"
fi

# check_end WHAT LINE SENT RECEIVED client|server: one end's stats.
check_end() {
	# all six, each a number (read here, not in a subshell, so fail ends the test)
	for _k in $STAT_KEYS; do
		_v=$(printf '%s\n' "$2" | jget "$_k")
		case "$_v" in
		'' | *[!0-9]*) fail "$1: $_k is '$_v', want a number: $2" ;;
		esac
		eval "_$_k=\$_v"
	done
	# shellcheck disable=SC2154 # set by the eval above
	_sent=$_bytes_sent _recv=$_bytes_received _out=$_segs_out _in=$_segs_in \
		_rtx=$_retransmits _rtt=$_srtt_us
	[ "$_sent" = "$3" ] || fail "$1: bytes_sent is $_sent, the driver sent $3"
	[ "$_recv" = "$4" ] || fail "$1: bytes_received is $_recv, the driver received $4"
	# Loopback's MSS is under 64 KiB, so each 64 KiB took a segment at
	# least, and the FIN one (it may ride on the last data).  The client
	# also sent its SYN; each end received the other's SYN-ACK or the ACK
	# of its own FIN.  The server's SYN-ACK is its request socket's.
	_min_out=$(((${3} + 65535) / 65536))
	[ "$_min_out" -ge 1 ] || _min_out=1
	_min_in=$(((${4} + 65535) / 65536))
	[ "$_min_in" -ge 1 ] || _min_in=1
	_min_in=$((_min_in + 1))
	[ "$5" = server ] || _min_out=$((_min_out + 1))
	[ "$_out" -ge "$_min_out" ] ||
		fail "$1: segs_out is $_out, fewer than $_min_out for $3 bytes sent"
	[ "$_in" -ge "$_min_in" ] ||
		fail "$1: segs_in is $_in, fewer than $_min_in for $4 bytes received"
	# and not counts of bytes: a segment carries 536 bytes at the least MSS
	_max=$((32 + ($3 + $4) / 536))
	[ "$_out" -le "$_max" ] || fail "$1: segs_out is $_out, more than $_max for $3+$4 bytes"
	[ "$_in" -le "$_max" ] || fail "$1: segs_in is $_in, more than $_max for $3+$4 bytes"
	[ "$_rtt" -gt 0 ] || fail "$1: srtt_us is 0: no smoothed RTT after a handshake"
	# a loopback RTT is microseconds; 1 s would be a unit gone wrong (<<3, ms)
	[ "$_rtt" -lt 1000000 ] || fail "$1: srtt_us is $_rtt, over a second on loopback"
	segs_out_sum=$((segs_out_sum + _out))
	rtx_sum=$((rtx_sum + _rtx))
}

segs_out_sum=0
rtx_sum=0
i=1
while [ "$i" -le "$n" ]; do
	cport=$(fact "bytes.$i.port")
	up=$(fact "bytes.$i.up")
	down=$(fact "bytes.$i.down")
	[ -n "$cport" ] || fail "ttdrive printed no bytes.$i.port"
	[ -n "$up" ] || fail "ttdrive printed no bytes.$i.up"
	[ -n "$down" ] || fail "ttdrive printed no bytes.$i.down"

	c=$(flows active | grep "\"sport\":$cport,")
	s=$(flows passive | grep "\"dport\":$cport,")
	[ "$(printf '%s\n' "$c" | count_lines)" = 1 ] ||
		fail "case $i ($up/$down): want 1 client flow from port $cport"
	[ "$(printf '%s\n' "$s" | count_lines)" = 1 ] ||
		fail "case $i ($up/$down): want 1 server flow to port $cport"
	# orderly: the client closes first and holds TIME-WAIT, the server closes
	expect_closed_first "case $i client" "$c" SYN_SENT,ESTABLISHED
	expect_flow "case $i server" "$s" states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE \
		end=close

	check_end "case $i ($up up, $down down) client" "$c" "$up" "$down" client
	check_end "case $i ($up up, $down down) server" "$s" "$down" "$up" server
	i=$((i + 1))
done

# The namespace's own counters bound the sums (ttdrive's deltas over the scenario).
k_out=$(kfact kernel.OutSegs)
k_rtx=$(kfact kernel.RetransSegs)
[ "$segs_out_sum" -le "$k_out" ] ||
	fail "the flows' segs_out sum to $segs_out_sum, more than the kernel's OutSegs $k_out"
[ "$rtx_sum" -le "$k_rtx" ] ||
	fail "the flows' retransmits sum to $rtx_sum, more than the kernel's RetransSegs $k_rtx"
# on an idle loopback that is 0, and so is every flow's
[ "$k_rtx" != 0 ] || expect_none "retransmits with RetransSegs 0" '"retransmits":[1-9]'

# The six come together or not at all.
for k in $STAT_KEYS; do
	_bad=$(flows | grep -v "\"$k\":" | grep '"bytes_sent":' | sed -n 1p)
	[ -z "$_bad" ] || fail "flow with bytes_sent but no $k: $_bad"
done

# The summary counts inferred transitions, a number (0 or more).
_inf=$(records summary | grep '"final":true' | jget inferred)
case "$_inf" in
'' | *[!0-9]*) fail "final summary: inferred is '$_inf', want a number" ;;
esac

# -e keeps one record per transition, which has no stats: the same
# connections, none of the six.
trace bytes -e
grep -q '^tcptrail: tracing: .* records=per-transition' "$DIR/trace.err" ||
	fail "-e: want records=per-transition: $(grep '^tcptrail: tracing' "$DIR/trace.err")"
expect_count active "$n"
expect_count passive "$n"
expect_no_stats "with -e"
pass
