#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Prometheus export: --metrics-file and --metrics-listen with -i 1 while 50
# connections build TIME-WAIT.  During the pause, GET /metrics answers 200
# with tcptrail_ metrics, and both it and the file give the namespace's
# TIME-WAIT count; at exit the file holds the final totals, equal to the
# summaries summed, and passes promtool check metrics.
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
expect_eq "tcptrail_flows_opened_total" "$(value tcptrail_flows_opened_total "$prom")" \
	"$(sum_of summary flows_opened)"
expect_eq 'tcptrail_flows_closed_total{end="time_wait"}' \
	"$(sed -n 's/^tcptrail_flows_closed_total{end="time_wait"} //p' "$prom")" \
	"$(sum_of summary time_wait)"
expect_eq "tcptrail_transitions_total summed" \
	"$(sed -n 's/^tcptrail_transitions_total{[^}]*} //p' "$prom" | awk '{ t += $1 } END { print t + 0 }')" \
	"$(records summary | sed 's/.*"transitions":{\([^}]*\)}.*/\1/' | tr ',' '\n' |
		sed -n 's/^"[A-Z_0-9]*>[A-Z_0-9]*":\([0-9]*\)$/\1/p' | awk '{ t += $1 } END { print t + 0 }')"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$prom" >"$DIR/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(sed -n 1,3p "$DIR/promtool.out" | tr '\n' ' ')"
	# the endpoint's body is the same text format
	sed '1,/^\r\{0,1\}$/d' "$DIR/get.out" | promtool check metrics >"$DIR/promtool.out" 2>&1 ||
		fail "promtool check metrics (GET /metrics): $(sed -n 1,3p "$DIR/promtool.out" | tr '\n' ' ')"
	pass
fi
echo "ok $TEST (promtool check left out: qemu guest)"
exit 0
