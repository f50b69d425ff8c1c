#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Prometheus export: --metrics-file and --metrics-listen with -i 1 while 50
# connections build TIME-WAIT.  During the pause, GET /metrics answers 200
# with tcptrail_ metrics, and both it and the file give the namespace's
# TIME-WAIT count; at exit the file holds the final totals, equal to the
# summaries summed (flows_closed_total summed over end included, with no
# end="any" among them), and passes promtool check metrics.
# Then -i 0: no summary until exit, and a scrape at the pause still has the
# counts of that moment (issue 15).  And a --metrics-file that can never be
# written (missing directory, a directory) is one line and exit 2 at start;
# a --metrics-listen port in use exits 1 (a service restarts), an address
# the host has not 2.  A --metrics-file written less often than every 5 min
# (-i 0, or over 9m) is a warning at start: the packaged staleness alert
# would take it for a stopped tcptrail.
#
# promtool (Debian's prometheus package, in tests/deps.sh) is required on
# the host.  The qemu guest has none: there (TT_GUEST=1) only that one step
# is left out, and the test says so.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

if ! command -v promtool >/dev/null 2>&1 && [ "$TT_GUEST" != 1 ]; then
	fail "promtool not found (Debian package prometheus; make deps INSTALL=1)"
fi
port=$("$DRIVE" --free-port) || fail "ttdrive --free-port failed"
prom=$DIR/m.prom
trace_begin "tw-load 50" -i 1 --metrics-file "$prom" --metrics-listen "127.0.0.1:$port"
grep -q "metrics at http://127.0.0.1:$port/metrics" "$DIR/trace.err" ||
	fail "tcptrail did not say where it serves metrics: $(last_line "$DIR/trace.err")"
wait_paused tw-load
n0=$(records summary | count_lines)
wait_until 5 _more_than "$n0" summary || fail "no summary within 5 s of the pause"
tw=$(fact ss.time_wait)

# value NAME FILE: the sample of the unlabelled metric NAME
value() {
	sed -n "s/^$1 //p" "$2" | tr -d '\r'
}
"$DRIVE" --http-get "127.0.0.1:$port/metrics" >"$DIR/get.out" 2>"$DIR/get.err" ||
	fail "GET /metrics failed: $(last_line "$DIR/get.err")"
expect_eq "GET /metrics status" "$(sed -n '1s/\r$//p' "$DIR/get.out")" "HTTP/1.0 200 OK"
grep -q '^tcptrail_' "$DIR/get.out" || fail "GET /metrics: no tcptrail_ metric in the answer"
expect_eq "GET /metrics: tcptrail_timewait_sockets" "$(value tcptrail_timewait_sockets "$DIR/get.out")" "$tw"
[ -s "$prom" ] || fail "$prom not written during the run"
expect_eq "$prom: tcptrail_timewait_sockets" "$(value tcptrail_timewait_sockets "$prom")" "$tw"
resume
trace_end

# the file as of the final summary: totals since start
expect_eq "tcptrail_flows_opened_total + tcptrail_flows_found_total" \
	"$(($(value tcptrail_flows_opened_total "$prom") + $(value tcptrail_flows_found_total "$prom")))" \
	"$(sum_of summary flows_opened)"
expect_eq 'tcptrail_flows_closed_total{end="time_wait"}' \
	"$(sed -n 's/^tcptrail_flows_closed_total{end="time_wait"} //p' "$prom")" \
	"$(sum_of summary time_wait)"
expect_eq "tcptrail_transitions_total summed" \
	"$(sed -n 's/^tcptrail_transitions_total{[^}]*} //p' "$prom" | awk '{ t += $1 } END { print t + 0 }')" \
	"$(records summary | sed 's/.*"transitions":{\([^}]*\)}.*/\1/' | tr ',' '\n' |
		sed -n 's/^"[A-Z_0-9]*>[A-Z_0-9]*":\([0-9]*\)$/\1/p' | awk '{ t += $1 } END { print t + 0 }')"
grep -q 'end="any"' "$prom" && fail "tcptrail_flows_closed_total still has an end=\"any\" total"
for end in close time_wait reset abort refused timeout error evicted superseded gone cancelled \
	no_port; do
	grep -q "^tcptrail_flows_closed_total{end=\"$end\"} [0-9]" "$prom" ||
		fail "no tcptrail_flows_closed_total{end=\"$end\"} in $prom"
done
expect_eq "tcptrail_flows_closed_total summed over end" \
	"$(sed -n 's/^tcptrail_flows_closed_total{[^}]*} //p' "$prom" | awk '{ t += $1 } END { print t + 0 }')" \
	"$(sum_of summary flows_closed)"
grep -q '^tcptrail_build_info{version="[^"]*"} 1$' "$prom" || fail "no tcptrail_build_info in $prom"

# -i 0: the first scrape, long before the only summary, has the counts
cp "$OUT" "$DIR/first.out"
port=$("$DRIVE" --free-port) || fail "ttdrive --free-port failed"
trace_begin "tw-load 20" -i 0 --metrics-listen "127.0.0.1:$port"
wait_paused tw-load
"$DRIVE" --http-get "127.0.0.1:$port/metrics" >"$DIR/get0.out" 2>"$DIR/get.err" ||
	fail "-i 0: GET /metrics failed: $(last_line "$DIR/get.err")"
grep -q 'no summary' "$DIR/get0.out" && fail "-i 0: GET /metrics served '# no summary yet'"
[ "$(records summary | count_lines)" = 0 ] || fail "-i 0: a summary before the end"
expect_eq "-i 0: GET /metrics: tcptrail_timewait_sockets" \
	"$(value tcptrail_timewait_sockets "$DIR/get0.out")" "$(fact ss.time_wait)"
expect_eq "-i 0: GET /metrics: TIME_WAIT flow ends" \
	"$(sed -n 's/^tcptrail_flows_closed_total{end="time_wait"} //p' "$DIR/get0.out" | tr -d '\r')" \
	"$(fact ss.time_wait)"
# ttdrive's clients connected to 127.0.0.1:8000 and closed first: their ports
grep -q "^tcptrail_timewait_port_pressure_ratio{addr=\"127.0.0.1\",port=\"8000\",netns=\"$NETNS\"} 0\.[0-9]" \
	"$DIR/get0.out" || fail "-i 0: GET /metrics has no port pressure toward 127.0.0.1:8000 in netns $NETNS"
# its port taken (by this run): a runtime problem, 1, which a service
# restarts on; an address this host has not: bad input, 2.  Both before
# anything is attached, in one line.
for spec in "127.0.0.1:$port/1/in use" "192.0.2.1:9464/2/assign"; do
	addr=${spec%%/*}
	want=${spec#*/}
	want=${want%%/*}
	"$TCPTRAIL" -d 1 --metrics-listen "$addr" >"$DIR/bind.out" 2>"$DIR/bind.err"
	st=$?
	expect_eq "--metrics-listen $addr: exit status" "$st" "$want"
	expect_eq "--metrics-listen $addr: stderr lines" "$(count_lines <"$DIR/bind.err")" 1
	grep -q -- "--metrics-listen: .*${spec##*/}" "$DIR/bind.err" ||
		fail "--metrics-listen $addr: $(last_line "$DIR/bind.err")"
done
# written less often than the packaged staleness alert allows: said at
# start, as -i 0 is; 9 min is not
for spec in "0/-i 0 is written at start and at exit only" "541/written every 9m01s (-i)" \
	"1h/written every 1h00m (-i)" "9m/"; do
	i=${spec%%/*}
	"$TCPTRAIL" -N "$NETNS" --quiet-flows -i "$i" -d 0.2 --metrics-file "$DIR/i.prom" \
		>"$DIR/i.out" 2>"$DIR/i.err" || fail "-i $i --metrics-file: $(last_line "$DIR/i.err")"
	said=$(grep -c -- "^tcptrail: warning: --metrics-file" "$DIR/i.err")
	if [ -n "${spec#*/}" ]; then
		expect_eq "-i $i --metrics-file: warnings" "$said" 1
		grep -qF -- "${spec#*/}" "$DIR/i.err" ||
			fail "-i $i --metrics-file: $(grep -- --metrics-file "$DIR/i.err")"
	else
		expect_eq "-i $i --metrics-file: warnings" "$said" 0
	fi
done
resume
trace_end

# a metrics file that cannot be written: one line naming it, exit 2, at start
for bad in "$DIR/missing/m.prom" "$DIR"; do
	"$TCPTRAIL" --metrics-file "$bad" >"$DIR/bad.out" 2>"$DIR/bad.err"
	st=$?
	expect_eq "--metrics-file $bad: exit status" "$st" 2
	expect_eq "--metrics-file $bad: stderr lines" "$(count_lines <"$DIR/bad.err")" 1
	grep -q -- "--metrics-file $bad: " "$DIR/bad.err" ||
		fail "--metrics-file $bad: the message names no option and file: $(last_line "$DIR/bad.err")"
done
OUT=$DIR/first.out

if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$prom" >"$DIR/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(sed -n 1,3p "$DIR/promtool.out" | tr '\n' ' ')"
	# the endpoint's body is the same text format
	sed '1,/^\r\{0,1\}$/d' "$DIR/get.out" | promtool check metrics >"$DIR/promtool.out" 2>&1 ||
		fail "promtool check metrics (GET /metrics): $(sed -n 1,3p "$DIR/promtool.out" | tr '\n' ' ')"
	pass
fi
# only the busybox qemu guest has no promtool; on a host it is a package of
# tests/deps.sh, and a missing one is no reason to pass
[ "${TT_GUEST:-}" = 1 ] || fail "promtool not found (Debian package prometheus; make deps INSTALL=1)"
echo "ok $TEST (promtool check left out: qemu guest)"
exit 0
