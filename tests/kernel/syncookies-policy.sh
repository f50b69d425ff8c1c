#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# net.ipv4.tcp_syncookies=2 (set in ttdrive's namespace only): the kernel
# answers every SYN with a cookie (SyncookiesSent; it also counts each in
# TCPReqQFullDoCookies) although no queue is full.  tcptrail counts them as
# policy_cookies in the summaries and reports no overflow: no "overflow"
# record, syn_cookies, syn_drops and accept_overflows 0, no listener named.
# With --events each is a "syncookie" record with "reason":"policy"; without,
# there is none.  The listener's flow names the process that closed it.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_no_overflow() {
	sent=$(fact kernel.SyncookiesSent)
	[ "$sent" -gt 0 ] || fail "the kernel sent no syncookie: the scenario did not work here"
	expect_eq "kernel ListenOverflows" "$(fact kernel.ListenOverflows)" 0
	expect_eq "overflow records" "$(records overflow | count_lines)" 0
	expect_eq "summaries' policy_cookies vs the kernel's SyncookiesSent" \
		"$(sum_of summary policy_cookies)" "$sent"
	for k in syn_cookies syn_drops accept_overflows; do
		expect_eq "summaries' $k" "$(sum_of summary $k)" 0
	done
	_l=$(records summary | json_array listeners | sed -n 1p)
	[ -z "$_l" ] || fail "a summary names a listener that overflowed: $_l"
	expect_count passive "$(fact connections)"
	expect_eq "listener flows" "$(flows listener | count_lines)" 2
	expect_all listener "\"closer_pid\":$(fact listener_pid)," "listener's closer_pid"
}

trace syncookies-policy
check_no_overflow
expect_eq "syncookie records without --events" "$(records syncookie | count_lines)" 0

trace syncookies-policy --events
check_no_overflow
expect_eq "syncookie records with --events vs SyncookiesSent" \
	"$(records syncookie | grep -c '"reason":"policy"')" "$sent"
echo "syncookies-policy: SyncookiesSent $sent, TCPReqQFullDoCookies" \
	"$(fact kernel.TCPReqQFullDoCookies); policy_cookies $(sum_of summary policy_cookies), overflows 0"
pass
