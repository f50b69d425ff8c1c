#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Re-record the checked-in captures from real runs (root; the traffic stays on
# loopback, in this namespace or in a scratch one).  Usage, from the top:
#   tests/captures/record.sh [close|simclose|reset|synack]...
set -eu
cd "$(dirname "$0")/../.."
TT=${TT:-./tcptrail}
PY=${PY:-python3}
T=tests/captures

# tcptrail -w in the background; run the traffic; wait for -d to end it
start() {
	name=$1
	shift
	rm -f "$T/$name.ttcap"
	"$TT" -w "$T/$name.ttcap" "$@" >/dev/null &
	tt=$!
	sleep 1.5	# hooks attached
}

finish() {
	wait "$tt"
	chmod 0644 "$T/$1.ttcap"
	echo "$T/$1.ttcap: $(stat -c %s "$T/$1.ttcap") bytes"
}

netns() {
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	ip -n "$1" link set lo up
}

nft_drop() {	# netns, rule: drop matching output on lo
	ip netns exec "$1" nft add table inet ttcap
	ip netns exec "$1" nft add chain inet ttcap out '{ type filter hook output priority 0; }'
	ip netns exec "$1" nft add rule inet ttcap out "$2 drop"
}

close() {
	start close -P 47001 -d 3
	$PY $T/traffic.py close 47001
	finish close
}

simclose() {
	netns ttcap-sim
	start simclose -N /run/netns/ttcap-sim -d 4
	rm -f /tmp/tt-fin-drop-go
	ip netns exec ttcap-sim $PY $T/traffic.py simclose 47002 &
	py=$!
	while [ ! -e /tmp/tt-fin-drop-go ]; do sleep 0.01; done
	nft_drop ttcap-sim 'tcp flags & fin == fin'
	sleep 0.5
	ip netns exec ttcap-sim nft delete table inet ttcap
	wait "$py"
	rm -f /tmp/tt-fin-drop-go
	finish simclose
	ip netns del ttcap-sim
}

reset() {
	start reset -P 47003,47013 -d 3
	$PY $T/traffic.py reset 47003
	finish reset
}

synack() {
	netns ttcap-rtx
	start synack -N /run/netns/ttcap-rtx -d 6
	nft_drop ttcap-rtx 'tcp dport 47004 tcp flags == ack'
	ip netns exec ttcap-rtx $PY $T/traffic.py synack 47004 &
	py=$!
	sleep 1.5
	ip netns exec ttcap-rtx nft delete table inet ttcap
	wait "$py"
	finish synack
	ip netns del ttcap-rtx
}

[ $# -gt 0 ] || set -- close simclose reset synack
for c in "$@"; do
	"$c"
done
