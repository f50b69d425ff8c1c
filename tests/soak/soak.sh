#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make soak`: SOAK_SECONDS (60) of short loopback connections, as fast as
# SOAK_PROCS client and server processes (2 each) make them, in a network
# namespace of their own, traced by tcptrail --json -i 1 --netns.  Nothing
# may be lost, the summaries' transition counts added up must equal the
# kernel's own counters of that namespace, and tcptrail's memory must stay
# flat: VmRSS at the end within 10% of VmRSS 10 s in, once the flow table's
# growth is taken out.  The table's slots are reused last-freed first, so
# it has touched as many as were ever in use at once (the summaries'
# flows_peak): a moment when the servers fall behind and a few thousand
# connections wait in CLOSE_WAIT together raises that for good (up to 4 MB
# here), which is memory the table was sized for, not a leak.
#
# Run by tests/run.sh soak (OUTPUT, TCPTRAIL and DRIVE as for the kernel
# tests); prints one line of figures, then "ok soak" or "FAIL soak: why".
here=${0%/*}
# shellcheck source=tests/kernel/lib.sh
. "$here/../kernel/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "$here/../kernel/fault.inc"

secs=${SOAK_SECONDS:-60}
procs=${SOAK_PROCS:-2}
[ "$secs" -ge 15 ] || fail "SOAK_SECONDS=$secs: want at least 15, to compare RSS 10 s in with the end"

# bytes of the flow table a flow holds (struct tt_entry), rounded up
TABLE_SLOT_BYTES=256

# flows_peak of the latest summary
peak_now() {
	grep '^{"type":"summary",' "$OUT" | sed -n '$p' | jget flows_peak
}

rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$TRACE_PID/status"
}

# ttstress reports once a second how far the load has got
progress() {
	sed -n 's/^progress=\([0-9]*\) .*/\1/p' "$DIR/drive.out" | sed -n '$p'
}

reached() {
	[ "$(progress)" -ge "$1" ] 2>/dev/null || not_alive "$DRIVE_PID"
}

stress_start rate "$secs" "$procs"
tt_start --json -i 1 --netns "$NETNS"
go
wait_until 30 reached 10
alive "$TRACE_PID" || fail "tcptrail exited during the run: $(last_line "$DIR/trace.err")"
rss10=$(rss_kb)
peak10=$(peak_now)
wait_until $((secs + 30)) reached "$secs"
# its servers may wait out one straggler, up to ttstress's --timeout (30 s)
stress_wait 60
rss_end=$(rss_kb)
tt_stop
[ "$TT_STATUS" = 0 ] || fail "tcptrail exited $TT_STATUS: $(last_line "$DIR/trace.err")"

conns=$(fact conns)
active=$(fact kernel.ActiveOpens)
passive=$(fact kernel.PassiveOpens)
tw=$(fact kernel.TW)
lost=$(final lost)
syn_sent=$(summed 'CLOSE>SYN_SENT')
syn_recv=$(summed 'LISTEN>SYN_RECV')
tw_flows=$(summed time_wait)
peak_end=$(final flows_peak)
n_sum=$(grep -c '^{"type":"summary",' "$OUT")
echo "soak: ${secs}s, $procs+$procs processes, $conns connections ($(fact rate)/s);" \
	"kernel ActiveOpens=$active PassiveOpens=$passive TW=$tw;" \
	"tcptrail lost=$lost CLOSE>SYN_SENT=$syn_sent LISTEN>SYN_RECV=$syn_recv" \
	"time_wait=$tw_flows summaries=$n_sum; VmRSS ${rss10} kB at 10 s, ${rss_end} kB at the end;" \
	"flows_peak ${peak10:-?} at 10 s, ${peak_end:-?} at the end"
grep 'warning' "$DIR/trace.err" | sed 's/^/soak: stderr: /'

[ "$lost" = 0 ] || fail "lost $lost events"
[ "$syn_sent" = "$active" ] ||
	fail "CLOSE>SYN_SENT summed over the summaries is $syn_sent, the kernel's ActiveOpens $active"
[ "$syn_recv" = "$passive" ] ||
	fail "LISTEN>SYN_RECV summed over the summaries is $syn_recv, the kernel's PassiveOpens $passive"
[ "$tw_flows" = "$tw" ] ||
	fail "time_wait summed over the summaries is $tw_flows, the kernel's TW $tw"
[ "$(final flows_active)" = 0 ] ||
	fail "$(final flows_active) flows still open at the end, when every socket was closed"
# about one a second: each starts at the first poll past its second, and with
# -i 1 each also counts the namespace's TIME-WAIT sockets through sock_diag
# (a few hundred thousand by the end), so they drift; half is a broken clock
[ "$n_sum" -ge $((secs / 2)) ] || fail "$n_sum summaries in $secs s with -i 1"
[ -n "$rss10" ] && [ -n "$rss_end" ] || fail "no VmRSS read from /proc/$TRACE_PID/status"
[ -n "$peak10" ] && [ -n "$peak_end" ] && [ "$peak_end" -ge "$peak10" ] ||
	fail "no flows_peak in the summaries, or it fell: '$peak10' at 10 s, '$peak_end' at the end"
table_kb=$(((peak_end - peak10) * TABLE_SLOT_BYTES / 1024))
d=$((rss_end - rss10 - table_kb))
[ "$d" -lt 0 ] && d=$((-d))
[ $((d * 10)) -le "$rss10" ] ||
	fail "VmRSS went from $rss10 kB at 10 s to $rss_end kB at the end, $table_kb kB of it" \
		"the flow table's new peak: more than 10%"
pass
