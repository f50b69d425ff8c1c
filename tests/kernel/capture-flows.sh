#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Capture format 4 from a live run.  Where the kernel side sends flow
# records (records=per-flow on the tracing line), -w writes them as FLOW
# frames and -r replays the very same flows from them; where it sends one
# record per transition (records=per-transition: a hook with no typed
# socket), the capture holds none.  With -e the capture holds events alone,
# and replays the same flows too.  What a capture holds is what tcptrail -r
# -v says it read (CAPTURE.md's frames; no python in the qemu guest).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# held FILE: "EVENTS FLOWS VERSION", as tcptrail -r -v read them
held() {
	"$TCPTRAIL" -r "$1" -v --quiet-flows -i 0 2>&1 >/dev/null |
		sed -n 's/^tcptrail: read \([0-9]*\) event records and \([0-9]*\) flow records (capture format version \([0-9]*\))$/\1 \2 \3/p'
}

# same_flows NAME CAPTURE: -r CAPTURE --json prints the live run's flow records, byte for byte
same_flows() {
	"$TCPTRAIL" -r "$2" --json -i 0 >"$DIR/replay.out" 2>"$DIR/replay.err" ||
		fail "$1: tcptrail -r exited $?: $(last_line "$DIR/replay.err")"
	grep '^{"type":"flow",' "$OUT" >"$DIR/live.flows"
	grep '^{"type":"flow",' "$DIR/replay.out" >"$DIR/replay.flows"
	[ -s "$DIR/live.flows" ] || fail "$1: no flows traced"
	cmp -s "$DIR/live.flows" "$DIR/replay.flows" ||
		fail "$1: replayed flows differ from the live ones ($(count_lines <"$DIR/live.flows")" \
			"live, $(count_lines <"$DIR/replay.flows") replayed); first difference:
$(first_diff "$DIR/live.flows" "$DIR/replay.flows")"
}

trace mix -w "$DIR/cap.ttcap" -i 0
mode=$(sed -n 's/^tcptrail: tracing.* records=\([a-z-]*\).*/\1/p' "$DIR/trace.err")
# shellcheck disable=SC2046 # three numbers
set -- $(held "$DIR/cap.ttcap")
[ $# -eq 3 ] || fail "tcptrail -r -v did not say what the capture holds"
expect_eq "capture format" "$3" 4
case $mode in
per-flow)
	[ "$2" -gt 0 ] || fail "records=per-flow, but no flow records in the capture ($1 events)"
	;;
per-transition)
	expect_eq "flow records in a per-transition capture" "$2" 0
	;;
*)
	fail "the tracing line names no records= mode: $(grep '^tcptrail: tracing' "$DIR/trace.err")"
	;;
esac
same_flows "$mode" "$DIR/cap.ttcap"
records=$(($1 + $2))
echo "capture-flows: $mode: $1 event and $2 flow records, $(count_lines <"$DIR/live.flows") flows replayed identical"

# -e: one record per transition, EVENT frames alone
trace mix -e -w "$DIR/cap-e.ttcap" -i 0
# shellcheck disable=SC2046
set -- $(held "$DIR/cap-e.ttcap")
[ $# -eq 3 ] || fail "-e: tcptrail -r -v did not say what the capture holds"
expect_eq "flow records with -e" "$2" 0
[ "$1" -gt 0 ] || fail "-e: no event records in the capture"
same_flows "-e" "$DIR/cap-e.ttcap"
echo "capture-flows: -e: $1 event records, $(count_lines <"$DIR/live.flows") flows replayed identical"
# what flow records are for: one record holds a socket's transitions
[ "$mode" != per-flow ] || [ "$records" -lt "$1" ] ||
	fail "flow records: $records records in the capture, not fewer than -e's $1"
pass
