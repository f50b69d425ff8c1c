#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Sockets that open in the less usual ways, and what their flows say.
#
# A socket connected to itself opens as a simultaneous open does: its SYN
# comes back as the peer's, SYN_SENT > SYN_RECV > ESTABLISHED, and is
# acknowledged by way of SYN_RECV.  bytes_acked counts that SYN as it does
# an ordinary client's; bytes_sent must still be the payload alone, here the
# N bytes it sent itself (which are also the N it received).
#
# One socket connected twice, with connect(AF_UNSPEC) between: at its
# second CLOSE > SYN_SENT the kernel still holds the first connection's
# local port, and picks the new one just after.  Each connection must be a
# flow with its own port, live and with -e (one record per transition).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace "self-connect 3000"
n=$(fact self.bytes)
port=$(fact port)
[ "$n" = 3000 ] || fail "ttdrive printed self.bytes='$n', want 3000"
f=$(flows | grep "\"sport\":$port,.*\"dport\":$port,")
[ "$(printf '%s\n' "$f" | grep -c .)" = 1 ] ||
	fail "want 1 flow from port $port to itself, got: $(flows)"
expect_flow "self-connect" "$f" end=time_wait
case $(printf '%s\n' "$f" | states) in
SYN_SENT,SYN_RECV,ESTABLISHED,*) ;;
*) fail "self-connect: states $(printf '%s\n' "$f" | states), want SYN_SENT,SYN_RECV,ESTABLISHED first" ;;
esac
if per_flow_records; then
	for k in bytes_sent bytes_received; do
		v=$(printf '%s\n' "$f" | jget "$k")
		[ "$v" = "$n" ] || fail "self-connect: $k is '$v', the socket sent and received $n"
	done
else
	echo "note: per-transition records here (an untyped hook), no byte counts to check"
fi

for extra in "" -e; do
	# shellcheck disable=SC2086 # "" is no option
	trace reconnect $extra
	p1=$(fact reconnect.1.port)
	p2=$(fact reconnect.2.port)
	port=$(fact port)
	[ -n "$p1" ] && [ -n "$p2" ] || fail "ttdrive printed no reconnect ports"
	expect_count active 2 "reconnect $extra"
	expect_count passive 2 "reconnect $extra"
	for p in "$p1" "$p2"; do
		c=$(flows active | grep "\"sport\":$p,")
		[ "$(printf '%s\n' "$c" | grep -c .)" = 1 ] ||
			fail "reconnect $extra: want 1 client flow from port $p, got: $(flows active)"
		s=$(flows passive | grep "\"dport\":$p,")
		[ "$(printf '%s\n' "$s" | grep -c .)" = 1 ] ||
			fail "reconnect $extra: want 1 server flow to port $p, got: $(flows passive)"
	done
	expect_flow "reconnect $extra: the first connection" "$(flows active | grep "\"sport\":$p1,")" \
		end=abort
	expect_closed_first "reconnect $extra: the second connection" \
		"$(flows active | grep "\"sport\":$p2,")" SYN_SENT,ESTABLISHED
done
pass
