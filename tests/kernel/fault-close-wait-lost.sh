#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Lost end records leave no CLOSE-WAIT leak behind.  A 4 KiB ring buffer
# under a burst of connections loses records; a server flow whose
# CLOSE_WAIT record came through but whose end did not stays in CLOSE_WAIT
# in the flow table.  Before a close_wait report counts such a flow, the
# kernel is asked (tcptrail's census thread dumps the namespace): once the
# burst is over and its sockets are gone, no report names ttstress and no
# CLOSE_WAIT flow of it is left, the flows ended "gone" are counted in the
# summaries, while a real leak in the same namespace (5 sockets, made
# before tracing, so the small ring buffer cannot lose them) is still
# reported, exactly.  After the loss a check asks about every flow too, so
# a flow left in another state by a lost record ends "gone" as well: at
# exit, with the leak closed, no flow is left (flows_active 0).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

n=3000	# the burst: back to back, far faster than 32 records drain
k=5	# the real leak
lport=8700

command -v nsenter >/dev/null 2>&1 || skip "no nsenter here (util-linux)"
stress_start burst "$n" 20
# the leak, in ttstress's namespace: ttdrive --no-netns stays where nsenter put it
rm -f "$DIR/resume"
nsenter -t "$DRIVE_PID" -n "$DRIVE" --no-netns --port "$lport" --resume-file "$DIR/resume" \
	--timeout 60 close-wait "$k" >"$DIR/leak.out" 2>"$DIR/leak.err" &
LEAK_PID=$!
EXTRA_PIDS="$EXTRA_PIDS $LEAK_PID"
leak_paused() {
	grep -q '^paused=close-wait$' "$DIR/leak.out"
}
wait_until 20 leak_paused || fail "the leak never paused: $(last_line "$DIR/leak.err")"
lfact() {
	sed -n "s/^$1=//p" "$DIR/leak.out" | sed -n 1p
}
leak_pid=$(lfact server_pid)
[ "$(lfact leaked)" = "$k" ] || fail "ttdrive leaked $(lfact leaked) sockets, not $k"

tt_start --json -v --netns "$NETNS" --ringbuf-size 4096 -i 1 --close-wait-age 1 \
	--metrics-file "$DIR/m.prom"
go
stress_wait 60
# the burst's sockets are gone: a few summaries more, each with its check
sleep 4
ss_cw=$(nsenter -t "$LEAK_PID" -n ss -tanH state close-wait 2>/dev/null | count_lines)
# the last report with the leak open: the leak, exactly, and nothing else
last_t=$(records summary | jget t_ns | sed -n '$p')
cw_last=$(records close_wait | grep "\"t_ns\":$last_t,")
# then the leak is closed: nothing is left to report
: >"$DIR/resume"
wait "$LEAK_PID"
EXTRA_PIDS=
sleep 2
tt_stop
[ "$TT_STATUS" = 0 ] || fail "tcptrail exited $TT_STATUS: $(last_line "$DIR/trace.err")"

lost=$(final lost)
gone=$(summed gone_interval)
note "a burst of $n connections with $k leaked sockets beside it: lost=$lost, ended gone=$gone," \
	"flows ended gone printed: $(flows | grep -c '"end":"gone"'); ss: $ss_cw in CLOSE-WAIT;" \
	"-v: $(grep 'CLOSE-WAIT check' "$DIR/trace.err" | sed -n '$p')"
[ -n "$lost" ] || fail "no final summary"
[ "$lost" -gt 0 ] || fail "a 4 KiB ring buffer lost nothing under $n back-to-back connections"
# a burst that lost records but no CLOSE_WAIT flow's end would check nothing
# (runs lose 50 to 450 such ends)
[ "${gone:-0}" -gt 0 ] || fail "no CLOSE_WAIT flow lost its end record: the check was not exercised"
[ "$ss_cw" = "$k" ] || fail "ss showed $ss_cw CLOSE-WAIT sockets in the namespace, not $k"
[ "$(final gone)" = "$gone" ] ||
	fail "final gone $(final gone), but the summaries' gone_interval add up to $gone"
[ "$(flows | grep -c '"end":"gone"')" = "$gone" ] ||
	fail "$gone flows counted gone, $(flows | grep -c '"end":"gone"') printed with end gone"
# the burst's server flows, or its quiet phase's (port 8001, 20 ms apart; a
# loaded machine can still lose one's end in a 4 KiB ring): never the leak's
flows | grep '"end":"gone"' | grep -v '"sport":800[01],' | sed -n 1p | grep . &&
	fail "a flow ended gone that was not one of ttstress's server flows"

[ "$(echo "$cw_last" | count_lines)" = 1 ] ||
	fail "the last close_wait report with the leak open has $(echo "$cw_last" | count_lines)" \
		"groups, not 1: $(echo "$cw_last" | cut -c1-300)"
expect_flow "close_wait report" "$cw_last" pid="$leak_pid" comm=ttleak count="$k" \
	service=local service_port="$lport" netns="$NETNS"
# the leak's flows (seeded: their role unknown) ended as the kernel ended them, none as gone
leaked=$(flows | grep -v '"role":"listener"' | grep "\"sport\":$lport,")
[ "$(echo "$leaked" | grep -c '"end":"close"')" = "$k" ] ||
	fail "the $k leaked connections did not all end close: $(echo "$leaked" | count_lines)" \
		"flows: $(echo "$leaked" | grep -v '"end":"close"' | sed -n 1p | cut -c1-400)"
# every report from 2 s after the burst on names only the leak
stale=$(records close_wait | grep -v '"comm":"ttleak"' | jget t_ns |
	awk -v e="$last_t" '$1 > e - 2500000000' | count_lines)
[ "$stale" = 0 ] ||
	fail "$stale close_wait groups of the last 2.5 s name something else than the leak:" \
		"$(records close_wait | grep -v '"comm":"ttleak"' | sed -n '$p' | cut -c1-300)"
final_t=$(grep '^{"type":"summary",.*"final":true' "$OUT" | jget t_ns)
[ "$(records close_wait | grep -c "\"t_ns\":$final_t,")" = 0 ] ||
	fail "a close_wait report at exit, with no socket left in CLOSE-WAIT"
# Another flow whose end was lost (a listener, a client in FIN_WAIT2) was
# asked about too, after the loss: none is left.
cw_left=$(sed -n 's/^tcptrail_flows{state="CLOSE_WAIT"} //p' "$DIR/m.prom")
note "final: flows_active=$(final flows_active), of them in CLOSE_WAIT: $cw_left"
[ "$cw_left" = 0 ] || fail "$cw_left flows in CLOSE_WAIT at exit, with no such socket left"
[ "$(final flows_active)" = 0 ] ||
	fail "$(final flows_active) flows active at exit, with no socket of the test left"
grep -q '^tcptrail_close_wait_suspected_leaks{' "$DIR/m.prom" &&
	fail "suspected leaks in the metrics at exit: $(grep '^tcptrail_close_wait_suspected_leaks{' "$DIR/m.prom")"
pass
