#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --remote and --local (userspace filters) on real flows: ttdrive mix makes
# IPv4 and IPv6 connections on loopback.  --remote 127.0.0.0/8 keeps the IPv4
# connections and drops every IPv6 one (and every listener: it has no
# remote); --local ::1 the reverse; --remote 127.0.0.2 keeps nothing, and its
# summaries count nothing either.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace mix --remote 127.0.0.0/8
v4=$(flows | count_lines)
[ "$v4" -gt 0 ] || fail "--remote 127.0.0.0/8: no flow at all"
expect_none "--remote 127.0.0.0/8: an IPv6 flow" '"family":"ipv6"'
expect_all "[a-z]*" '"daddr":"127.0.0.1"' "--remote 127.0.0.0/8: a flow to elsewhere"
expect_count listener 0
expect_eq "--remote 127.0.0.0/8: flows opened (summaries)" \
	"$(records summary | grep '"final":true' | jget flows_opened)" "$v4"

trace mix --local ::1
v6=$(flows | count_lines)
[ "$v6" -gt 0 ] || fail "--local ::1: no flow at all"
expect_none "--local ::1: an IPv4 flow" '"family":"ipv4"'
expect_all "[a-z]*" '"saddr":"::1"' "--local ::1: a flow from elsewhere"

trace mix --remote 127.0.0.2
expect_eq "--remote 127.0.0.2: flows" "$(flows | count_lines)" 0
expect_eq "--remote 127.0.0.2: flows opened (summaries)" \
	"$(records summary | grep '"final":true' | jget flows_opened)" 0

# both: an IPv4 remote and an IPv6 local end never meet; a dual list does
trace mix --remote 127.0.0.1,::1 --local 127.0.0.1
expect_none "--remote 127.0.0.1,::1 --local 127.0.0.1: an IPv6 flow" '"family":"ipv6"'
expect_eq "--remote 127.0.0.1,::1 --local 127.0.0.1: flows" "$(flows | count_lines)" "$v4"
echo "filter-addr: $v4 IPv4 flows kept by --remote 127.0.0.0/8, $v6 IPv6 by --local ::1"
pass
