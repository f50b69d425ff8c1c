#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# SYNs that find both queues full, with syncookies on: a backlog-1 listener
# that never accepts, its SYN queue overfilled by deaf clients (syncookies 1;
# with 2 every SYN has a cookie and no request stays), its accept queue by
# two clients made from cookies, then 10 connects for 1.1 s (each dropped SYN
# comes once more), over IPv4, IPv6 and a dual-stack listener.  The kernel
# means to answer each with a cookie (TCPReqQFullDoCookies) but tests the
# accept queue first and drops it (ListenOverflows): no SyncookiesSent.
# tcptrail must count each as one accept-queue overflow and no cookie: its
# cookies (overflow records with "syncookie":true, and the "syncookie"
# records of --events) equal SyncookiesSent, its accept overflows
# ListenOverflows, and the summaries' syn_cookies and policy_cookies agree.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

CASES="ipv4.cookies1 ipv4.cookies2 ipv6.cookies1 ipv6.cookies2 ipv6dual.cookies1 ipv6dual.cookies2"

trace overflow-both --events
for c in $CASES; do
	sent=$(fact "both.$c.kernel.SyncookiesSent")
	full=$(fact "both.$c.kernel.TCPReqQFullDoCookies")
	kacc=$(fact "both.$c.kernel.ListenOverflows")
	# the scenario worked: SYNs were meant for a cookie and dropped instead
	if [ "${full:-0}" -le "${sent:-0}" ] || [ "${kacc:-0}" -eq 0 ]; then
		fail "both.$c: TCPReqQFullDoCookies=$full SyncookiesSent=$sent ListenOverflows=$kacc:" \
			"no SYN found both queues full here"
	fi
done
# shellcheck disable=SC2086 # the cases, one word each
check_overflow_cases both $CASES

# policy cookies (syncookies 2, SYN queue not full): in the summaries, not
# the listeners', as many as the syncookie records and the kernel sent
ksent=0
for c in $CASES; do
	case $c in *.cookies2) ksent=$((ksent + $(fact "both.$c.kernel.SyncookiesSent"))) ;; esac
done
expect_eq "summaries' policy_cookies vs SyncookiesSent with syncookies 2" \
	"$(sum_of summary policy_cookies)" "$ksent"
expect_eq "syncookie records vs summaries' policy_cookies" \
	"$(records syncookie | count_lines)" "$(sum_of summary policy_cookies)"
note "kernel SyncookiesSent $(fact kernel.SyncookiesSent) TCPReqQFullDoCookies" \
	"$(fact kernel.TCPReqQFullDoCookies) ListenOverflows $(fact kernel.ListenOverflows);" \
	"tcptrail syn_cookies $(sum_of summary syn_cookies) policy_cookies" \
	"$(sum_of summary policy_cookies) accept_overflows $(sum_of summary accept_overflows)"
pass
